//! The Sentry wire protocol, as real SDKs speak it: authentication, envelopes, and the
//! event payload. Pure: bytes and strings in, values and errors out; no I/O.
//!
//! Parsing is lenient, as Relay's: a field of the wrong type is dropped and recorded in the
//! event's `errors`, never a reason to refuse the event.

pub mod auth;
pub mod csp;
pub mod envelope;
pub mod event;
pub mod json;
pub mod minidump;
pub mod multipart;
pub mod skim;
