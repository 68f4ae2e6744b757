//! Accounts: registration, email verification, sign-in, sessions, password reset, invitations, roles.
//!
//! Here: the pages and the thin server functions that call `domain`; the wire types come
//! from `wire` and are re-exported.
pub use wire::auth::*;

pub mod pages;
pub mod server_fns;
