//! 统一社会信用代码: the 18-character unified social credit code of a Chinese organisation,
//! checked with its check character as GB 32100-2015 defines it.
use crate::error::AppError;

/// The 31 characters a code may use (no I, O, S, V or Z), in value order.
const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of the first 17 positions: 3^(i) mod 31.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditCode(String);

impl CreditCode {
    /// Accepts lower case and surrounding spaces; refuses a wrong length, a character outside
    /// the code's alphabet, or a check character that does not match.
    pub fn parse(input: &str) -> Result<Self, AppError> {
        let code: String = input.trim().to_ascii_uppercase();
        let bad = || AppError::invalid("credit_code", "error.credit_code_invalid");
        if code.len() != 18 {
            return Err(bad());
        }
        let mut values = Vec::with_capacity(18);
        for b in code.bytes() {
            values.push(CHARSET.iter().position(|c| *c == b).ok_or_else(bad)? as u32);
        }
        if values[17] != check_value(&values[..17]) {
            return Err(bad());
        }
        Ok(CreditCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_value(first17: &[u32]) -> u32 {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    (31 - sum % 31) % 31
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_codes_are_accepted() {
        for code in [
            "91350100M000100Y43",
            "91110000802100433B",
            "91440300708461136T",
        ] {
            assert_eq!(CreditCode::parse(code).unwrap().as_str(), code);
        }
        assert_eq!(
            CreditCode::parse(" 91110000802100433b ").unwrap().as_str(),
            "91110000802100433B"
        );
    }

    #[test]
    fn malformed_codes_are_refused_with_a_message() {
        for code in [
            "",
            "91350100M000100Y4",   // 17 characters
            "91350100M000100Y434", // 19
            "91350100M000100Y44",  // wrong check character
            "91350100I000100Y43",  // I is not in the alphabet
            "９1350100M000100Y43", // full-width digit
        ] {
            let err = CreditCode::parse(code).unwrap_err();
            assert_eq!(err.message_key(), "error.credit_code_invalid", "{code}");
        }
    }

    #[test]
    fn every_single_character_typo_is_caught() {
        let good = "91350100M000100Y43";
        for pos in 0..18 {
            for &c in CHARSET {
                let mut typo = good.as_bytes().to_vec();
                if typo[pos] == c {
                    continue;
                }
                typo[pos] = c;
                let typo = String::from_utf8(typo).unwrap();
                assert!(CreditCode::parse(&typo).is_err(), "{typo} slipped through");
            }
        }
    }
}
