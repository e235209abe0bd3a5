//! The senders. Each turns a rendered message and an address into either a
//! provider message id or a classified [`SendError`](crate::SendError).

pub mod email;
pub mod log;
pub mod webhook;
