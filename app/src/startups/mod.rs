//! Startups: their profiles, and (to come) incubation and milestones.
pub mod credit_code;

pub use credit_code::CreditCode;
