//! One file per command, each with its own `Args`; `main` only dispatches.

pub mod brake;
pub mod build;
pub mod calibrate;
pub mod clock;
pub mod completions;
pub mod diff;
pub mod explain;
pub mod fmt;
pub mod init;
pub mod inspect;
pub mod keygen;
mod keys;
mod plan;
pub mod replay;
pub mod rollout;
pub mod root;
pub mod schema;
pub mod sign;
pub mod test;
pub mod validate;
pub mod verify;

use std::process::ExitCode;

use crate::files::Failure;

pub type Outcome = Result<ExitCode, Failure>;
