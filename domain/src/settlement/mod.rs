//! Settlement (issue 17, in progress): compute vouchers (算力券) and the split of each month's
//! compute bill between the park's credit, the sponsors' programmes and the startup, the
//! statements that record it and the claims a park files with a sponsor.
//!
//! Here so far: the pure rules the rest is built on, `split` (a month's charges into park
//! credit, each programme's subsidy and the startup's own payment, never past a cap) and
//! `programmes` (a programme's definition, who may be enrolled, what its caps have left);
//! and the programmes as stored (`funding`), the startups enrolled in them and their
//! affiliated firms (`enrolments`).
//! Above `credits` in the order (`crate` top comment): it prices what the ledger recorded.
pub mod claims;
pub mod enrolments;
pub mod entity;
pub mod funding;
pub mod programmes;
pub mod split;
pub mod statements;
