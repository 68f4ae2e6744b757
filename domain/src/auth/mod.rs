//! Accounts: registration, email verification, sign-in, sessions, password reset, invitations, roles.
//!
//! Here: the rules, the entities and the read models; the wire types come from `wire` and
//! are re-exported, the pages are in `app`.
pub use wire::auth::*;

pub mod accounts;
pub mod entity;
pub mod invitations;
pub mod limits;
pub mod passwords;
pub mod sessions;
pub mod tokens;
pub mod users;
