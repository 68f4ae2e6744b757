//! Chat channels: WeCom, DingTalk and Feishu group robots that park-wide events are posted
//! to, through an outbox of their own (retries, dead letters an admin can send again).
//!
//! Here: the pages and the thin server functions that call `domain`; the wire types come
//! from `wire` and are re-exported.
pub use wire::channels::*;

pub mod pages;
pub mod server_fns;
