//! Who is asking: the client's address, for the sign-in and sign-up limits. Behind a reverse
//! proxy every connection comes from the proxy, so the address the proxy reports
//! (`X-Forwarded-For`, else `Forwarded`) is believed, but only from proxies the operator
//! named in `HATCHERY_TRUSTED_PROXIES`; anyone else could write any address there.
use http::HeaderMap;
use std::net::{IpAddr, SocketAddr};

/// Addresses and networks (`10.0.0.0/8`, `::1`) whose forwarding headers are believed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses a comma-separated list; an error names the entry that is not an address.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (addr, bits) = match entry.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (entry, None),
            };
            let ip: IpAddr = addr.parse().map_err(|_| entry.to_string())?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or(entry.to_string())?,
                None => max,
            };
            nets.push((ip, bits));
        }
        Ok(TrustedProxies(nets))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|(net, bits)| match (canonical(*net), ip) {
                (IpAddr::V4(n), IpAddr::V4(a)) => {
                    prefix(u32::from(n).into(), u32::from(a).into(), *bits, 32)
                }
                (IpAddr::V6(n), IpAddr::V6(a)) => prefix(u128::from(n), u128::from(a), *bits, 128),
                _ => false,
            })
    }

    /// The client's address: the peer's, or, when the peer is a trusted proxy, the nearest
    /// address in its forwarding header that is not itself a trusted proxy.
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer.map(canonical)?;
        if !self.contains(peer) {
            return Some(peer);
        }
        let hops = forwarded_for(headers);
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            client = hop;
            if !self.contains(hop) {
                break;
            }
        }
        Some(client)
    }
}

fn prefix(net: u128, addr: u128, bits: u8, width: u32) -> bool {
    if bits == 0 {
        return true;
    }
    let shift = width - u32::from(bits);
    (net >> shift) == (addr >> shift)
}

/// IPv4 addresses seen through an IPv6 socket (`::ffff:10.0.0.1`) as the IPv4 they are.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The hops a proxy reports, nearest last: `X-Forwarded-For: client, proxy1`, else
/// `Forwarded: for=client;proto=https, for="[2001:db8::1]:4711"`. Unreadable entries end
/// the list there (an attacker's garbage is not skipped over to an address before it).
fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    let xff: Vec<String> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .collect();
    let entries = if !xff.is_empty() {
        xff
    } else {
        headers
            .get_all("forwarded")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| v.trim().trim_matches('"').to_string())
                })
            })
            .collect()
    };
    let mut hops = Vec::new();
    for entry in entries.iter().rev() {
        match parse_hop(entry) {
            Some(ip) => hops.push(canonical(ip)),
            None => break,
        }
    }
    hops.reverse();
    hops
}

/// `10.0.0.1`, `10.0.0.1:4711`, `[2001:db8::1]:4711`, `2001:db8::1`.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sock) = entry.parse::<SocketAddr>() {
        return Some(sock.ip());
    }
    entry
        .strip_prefix('[')
        .and_then(|rest| rest.split(']').next())
        .and_then(|ip| ip.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarding_headers_are_believed_only_from_trusted_proxies() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, ::1").unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let xff = headers(&[("x-forwarded-for", "203.0.113.7, 10.1.2.3")]);
        // From a proxy we trust: the nearest untrusted hop.
        assert_eq!(
            trusted.client(Some(ip("10.9.9.9")), &xff),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(
            trusted.client(Some(ip("::1")), &xff),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(
            trusted.client(Some(ip("::ffff:10.9.9.9")), &xff),
            Some(ip("203.0.113.7"))
        );
        // A client naming itself another address gets its own.
        assert_eq!(
            trusted.client(Some(ip("198.51.100.1")), &xff),
            Some(ip("198.51.100.1"))
        );
        // A forged first entry is skipped: the proxy appended the real one.
        let forged = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9")]);
        assert_eq!(
            trusted.client(Some(ip("10.0.0.2")), &forged),
            Some(ip("203.0.113.9"))
        );
        // Garbage stops the walk at the last readable hop.
        let junk = headers(&[("x-forwarded-for", "1.2.3.4, nonsense")]);
        assert_eq!(
            trusted.client(Some(ip("10.0.0.2")), &junk),
            Some(ip("10.0.0.2"))
        );
        // RFC 7239.
        let fwd = headers(&[(
            "forwarded",
            r#"for=192.0.2.60;proto=http, for="[2001:db8::1]:4711""#,
        )]);
        assert_eq!(
            trusted.client(Some(ip("10.0.0.2")), &fwd),
            Some(ip("2001:db8::1"))
        );
        // Nothing trusted: the peer, whatever the headers say.
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(Some(ip("10.0.0.2")), &xff),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(none.client(None, &xff), None);
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        assert!(TrustedProxies::parse("").unwrap().0.is_empty());
        assert_eq!(
            TrustedProxies::parse("10.0.0.0/33"),
            Err("10.0.0.0/33".into())
        );
        assert_eq!(
            TrustedProxies::parse("proxy.local"),
            Err("proxy.local".into())
        );
        let t = TrustedProxies::parse("192.168.1.0/24,fd00::/8").unwrap();
        assert!(t.contains("192.168.1.200".parse().unwrap()));
        assert!(!t.contains("192.168.2.1".parse().unwrap()));
        assert!(t.contains("fd12::1".parse().unwrap()));
        assert!(!t.contains("fe80::1".parse().unwrap()));
    }
}

/// The client's address, as the server worked it out (believing forwarding headers only from
/// configured proxies).
#[derive(Clone, Debug)]
pub struct ClientAddr(pub String);
