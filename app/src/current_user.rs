//! The signed-in user as every page reads it. The shell provides it (refetched on every
//! navigation, so sign-in and sign-out show at once); pages read it from here, so they need
//! not name the shell that routes to them.
use crate::auth::Me;
use leptos::prelude::*;

/// The signed-in user, if any, as a resource of the shell's.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<Me>, crate::error::AppError>>);

pub fn use_current_user() -> CurrentUser {
    expect_context::<CurrentUser>()
}
