//! Chat channels: WeCom, DingTalk and Feishu group robots that park-wide events are posted
//! to, through an outbox of their own (retries, dead letters an admin can send again).
//!
//! Here: the rules, the entities and the read models; the wire types come from `wire` and
//! are re-exported, the pages are in `app`.
pub use wire::channels::*;

pub mod entity;
pub mod manage;
pub mod notify;
pub mod outbox;
pub mod platform;
