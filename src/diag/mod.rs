//! Diagnostics: the bottom layer every check reports through, and which names no check.
//!
//! - [`code`]: the table of stable codes ([`Code`]) and [`Severity`];
//! - [`finding`]: a [`Finding`] and its [`Location`] (byte span, instance, template type,
//!   field, profile) and [`Detail`] (the numbers behind the message);
//! - [`message`]: the sentence each finding prints;
//! - `help`: how to fix it, for the findings an author can act on ([`Help`]);
//! - [`sink`]: where findings go ([`FindingSink`], [`FindingBuf`]) and the counting
//!   [`Summary`];
//! - `policy`: the team's policy over findings ([`Policy`]) as a sink adapter ([`Judged`]),
//!   and the [`Verdict`] it gives.
//!
//! The format, schema, validate and diff layers all report here; this module imports only the
//! shared vocabulary and the error types beneath it (the layering test checks that).

mod code;
mod finding;
mod help;
mod message;
#[cfg(feature = "alloc")]
mod policy;
mod sink;

pub use code::{Code, Severity};
pub use finding::{Detail, FieldRef, Finding, InstanceRef, Location, TypeRef};
pub use help::Help;
pub use message::{Message, Shown};
#[cfg(feature = "alloc")]
pub use policy::{CannotAllow, Judged, Policy, Verdict};
pub(crate) use sink::Reporter;
pub use sink::{FindingBuf, FindingSink, Summary};
