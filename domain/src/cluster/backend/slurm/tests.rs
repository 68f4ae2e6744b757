//! The Slurm backend's own tests: settings, tokens, dialect choice; and one against a real
//! Slurm 24.11 slurmrestd when its socket is up.
use super::*;

fn settings(base_url: &str) -> Settings {
    Settings {
        base_url: base_url.into(),
        ..Settings::default()
    }
}

#[test]
fn a_token_file_holds_the_jwt_or_scontrols_line() {
    assert_eq!(token_from_file_text("eyJabc\n").as_deref(), Some("eyJabc"));
    assert_eq!(
        token_from_file_text("SLURM_JWT=eyJabc\n").as_deref(),
        Some("eyJabc")
    );
    assert_eq!(token_from_file_text("\n  \n"), None);
    assert_eq!(token_from_file_text("SLURM_JWT="), None);
}

#[test]
fn base_urls_may_be_a_unix_socket() {
    let s = Slurm::new(&settings("unix:///run/slurmrestd/slurmrestd.sock"), "ci").unwrap();
    assert_eq!(
        s.url("/associations", &[("account", "a,b")]).as_str(),
        "http://localhost/slurmdb/v0.0.38/associations?account=a%2Cb"
    );
    assert!(matches!(s.auth, Auth::Local));
    for bad in [
        "unix://relative.sock",
        "unix://",
        "ftp://host",
        "localhost:6820",
    ] {
        assert!(
            matches!(Slurm::new(&settings(bad), "ci"), Err(SyncError::Config(_))),
            "{bad}"
        );
    }
    let tcp = Slurm::new(&settings("http://127.0.0.1:6920/"), "ci").unwrap();
    assert_eq!(
        tcp.url_of("/openapi/v3", &[]).as_str(),
        "http://127.0.0.1:6920/openapi/v3"
    );
}

#[test]
fn a_token_file_wins_over_a_fixed_token() {
    let mut s = settings("http://127.0.0.1:6920");
    s.secret = "eyJfixed".into();
    s.token_user = " slurm ".into();
    match Slurm::new(&s, "ci").unwrap().auth {
        Auth::Jwt {
            user,
            token: Token::Fixed(t),
        } => {
            assert_eq!(user.as_deref(), Some("slurm"));
            assert_eq!(t, "eyJfixed");
        }
        _ => panic!("a fixed token"),
    }
    s.token_file = "/var/lib/hatchery/slurm.jwt".into();
    assert!(matches!(
        Slurm::new(&s, "ci").unwrap().auth,
        Auth::Jwt {
            token: Token::File { .. },
            ..
        }
    ));
}

#[test]
fn settings_keep_old_rows_readable_and_the_token_out_of_logs() {
    let old: Settings = serde_json::from_str(r#"{"base_url":"http://x","secret":""}"#).unwrap();
    assert_eq!(old.token_file, "");
    assert_eq!(
        serde_json::to_string(&old).unwrap(),
        r#"{"base_url":"http://x","secret":""}"#
    );
    let s = Settings {
        secret: "eyJsecret-token".into(),
        token_file: "/etc/slurm.jwt".into(),
        ..old
    };
    let shown = format!("{s:?}");
    assert!(!shown.contains("eyJsecret-token"), "{shown}");
    assert!(shown.contains("[redacted]") && shown.contains("/etc/slurm.jwt"));
}

#[test]
fn a_refused_token_is_told_from_other_failures() {
    assert!(token_refused(401, "Authentication failure"));
    assert!(token_refused(502, include_str!("fixtures/error_7000.json")));
    assert!(token_refused(511, include_str!("fixtures/error_1007.json")));
    assert!(!token_refused(
        502,
        include_str!("fixtures/error_7000_slurmdbd_down.json")
    ));
    assert!(!token_refused(
        500,
        include_str!("fixtures/error_2002.json")
    ));
    assert!(!token_refused(200, r#"{"errors":[],"warnings":[]}"#));
}

#[test]
fn auto_takes_the_newest_dialect_both_sides_speak() {
    let served = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // 24.11 serves 40-42; 22.05 only 38; 25.11 serves 41-44; master has dropped 42.
    assert_eq!(
        Dialect::newest_of(&served(&["v0.0.40", "v0.0.41", "v0.0.42"])),
        Some(Dialect::V0042)
    );
    assert_eq!(
        Dialect::newest_of(&served(&["v0.0.38"])),
        Some(Dialect::V0038)
    );
    assert_eq!(
        Dialect::newest_of(&served(&["v0.0.41", "v0.0.42", "v0.0.43", "v0.0.44"])),
        Some(Dialect::V0044)
    );
    assert_eq!(
        Dialect::newest_of(&served(&["v0.0.40", "v0.0.41", "v0.0.42", "v0.0.43"])),
        Some(Dialect::V0043)
    );
    // 26.11 will serve v0.0.43 and newer only.
    assert_eq!(
        Dialect::newest_of(&served(&["v0.0.43", "v0.0.44", "v0.0.45"])),
        Some(Dialect::V0044)
    );
    assert_eq!(Dialect::newest_of(&served(&["v0.0.40", "v0.0.41"])), None);
    for d in Dialect::ALL {
        assert_eq!(DialectChoice::parse(d.name()), Ok(DialectChoice::Pinned(d)));
    }
    assert_eq!(DialectChoice::parse("").unwrap(), DialectChoice::Auto);
    assert_eq!(DialectChoice::parse("auto").unwrap(), DialectChoice::Auto);
    assert_eq!(
        DialectChoice::parse("v0042").unwrap(),
        DialectChoice::Pinned(Dialect::V0042)
    );
    assert!(matches!(
        DialectChoice::parse("v0.0.42"),
        Err(SyncError::Config(_))
    ));
}

#[test]
fn reads_the_dialects_a_slurmrestd_serves() {
    let v: Value = serde_json::from_str(include_str!("fixtures/openapi_paths.json")).unwrap();
    assert_eq!(dialects_in(&v), ["v0.0.40", "v0.0.41", "v0.0.42"]);
    assert!(dialects_in(&serde_json::json!({})).is_empty());
}

/// Against the Slurm 24.11 of scripts/slurm-2411.sh, when its variables are set (`eval
/// "$(scripts/slurm-2411.sh env)"`, as root: the token file is root's): the unix socket,
/// a token file replaced while in use, a fixed token over TCP, no token at all.
#[tokio::test]
async fn slurm_2411_socket_and_tokens() {
    let (Ok(socket), Ok(tcp), Ok(token_file)) = (
        std::env::var("SLURM2411_SOCKET_URL"),
        std::env::var("SLURM2411_URL"),
        std::env::var("SLURM2411_TOKEN_FILE"),
    ) else {
        eprintln!("SLURM2411_* not set: skipped (run scripts/slurm-2411.sh up)");
        return;
    };
    let good = token_from_file_text(&std::fs::read_to_string(&token_file).unwrap()).unwrap();
    let file = std::env::temp_dir().join(format!("hatchery-jwt-{}", std::process::id()));
    std::fs::write(&file, "SLURM_JWT=eyJnot-a-token\n").unwrap();
    let mut s = settings(&socket);
    s.token_file = file.display().to_string();
    s.token_user = "slurm".into();
    let slurm = Slurm::new(&s, "ci2411").unwrap();
    let diag = || {
        slurm.send(
            Method::GET,
            slurm.url_of("/slurmdb/v0.0.42/diag", &[]),
            None,
        )
    };

    // The OpenAPI description needs a token but does not check it.
    let dialects = slurm.served_dialects().await.unwrap();
    assert!(dialects.contains(&"v0.0.42".to_string()), "{dialects:?}");
    // A bad token, and the file still holds it: one re-read, then a failure that names
    // neither token.
    match diag().await {
        Err(SyncError::Refused(m)) => {
            assert!(m.contains("refused the token"), "{m}");
            assert!(!m.contains("eyJ"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    // The operator's cron replaces the file: the held (bad) token is refused, the file is
    // read again and the request goes through.
    std::fs::write(&file, format!("{good}\n")).unwrap();
    let v = diag().await.unwrap();
    assert!(v.get("statistics").is_some(), "{v}");
    std::fs::remove_file(&file).unwrap();
    // A missing token file is the resource's misconfiguration.
    match Slurm::new(&s, "ci2411")
        .unwrap()
        .send(
            Method::GET,
            slurm.url_of("/slurmdb/v0.0.42/diag", &[]),
            None,
        )
        .await
    {
        Err(SyncError::Config(m)) => assert!(m.contains("token file"), "{m}"),
        other => panic!("{other:?}"),
    }

    // A fixed token over TCP.
    let mut fixed = settings(&tcp);
    fixed.secret = good;
    let slurm = Slurm::new(&fixed, "ci2411").unwrap();
    slurm
        .send(
            Method::GET,
            slurm.url_of("/slurmdb/v0.0.42/diag", &[]),
            None,
        )
        .await
        .unwrap();
    // No token at all: 401.
    let slurm = Slurm::new(&settings(&socket), "ci2411").unwrap();
    match slurm
        .send(
            Method::GET,
            slurm.url_of("/slurmdb/v0.0.42/diag", &[]),
            None,
        )
        .await
    {
        Err(SyncError::Refused(m)) => assert!(m.contains("401"), "{m}"),
        other => panic!("{other:?}"),
    }
}
