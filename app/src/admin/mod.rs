//! The park administrator's pages: the dashboard and the people who use Hatchery.
pub mod pages;
