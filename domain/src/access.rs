//! Who is acting: the signed-in person every rule is checked against, with their roles.
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::time::Zone;
use wire::auth::Me;
pub use wire::auth::Role;

/// The signed-in person on whose behalf a domain function acts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub locale: Locale,
    /// The zone the person reads and types times in: their own choice, else the park's.
    pub zone: Zone,
}

impl Actor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn require(&self, role: Role) -> AppResult<()> {
        if self.has(role) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn to_me(&self) -> Me {
        Me {
            id: self.user_id,
            email: self.email.clone(),
            name: self.name.clone(),
            roles: self.roles.clone(),
            locale: self.locale,
            zone: self.zone.name().to_string(),
        }
    }
}
