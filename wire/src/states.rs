//! Typed states: one macro that declares a closed set of states or kinds stored as text.
//!
//! Each enum it declares is plain data on the browser's side (serde, `as_str`, `parse`,
//! `Display`) and, with the `ssr` feature, a sea-orm `ActiveEnum` over a text column, so an
//! entity's `status` column has the enum's type and the compiler checks every state machine.
//! The stored text, the JSON and the translation keys' suffixes are the same word, so the
//! database, the API and the labels are unchanged by the typing.

/// `states! { /// docs  pub enum GrantStatus { Active = "active", … } }`
macro_rules! states {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "ssr", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
        #[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $value)]
                #[cfg_attr(feature = "ssr", sea_orm(string_value = $value))]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in the order declared.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word stored in the database, sent in JSON and used in translation keys.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value,)+
                }
            }

            /// The value a stored or submitted word names, if any.
            pub fn parse(word: &str) -> Option<Self> {
                match word {
                    $($value => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::states::Unknown;
            fn from_str(word: &str) -> Result<Self, Self::Err> {
                Self::parse(word).ok_or(crate::states::Unknown)
            }
        }
    };
}
pub(crate) use states;

/// A word that names no value of the state it was parsed as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown state")]
pub struct Unknown;

#[cfg(test)]
mod tests {
    states! {
        /// A test state.
        pub enum Light { Red = "red", AmberBlink = "amber_blink" }
    }

    #[test]
    fn words_round_trip_through_text_and_json() {
        for light in Light::ALL {
            assert_eq!(Light::parse(light.as_str()), Some(*light));
            assert_eq!(light.to_string(), light.as_str());
            let json = serde_json::to_string(light).unwrap();
            assert_eq!(json, format!("\"{}\"", light.as_str()));
            assert_eq!(serde_json::from_str::<Light>(&json).unwrap(), *light);
        }
        assert_eq!(Light::parse("green"), None);
        assert!("Red".parse::<Light>().is_err());
    }
}
