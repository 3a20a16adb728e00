//! One file per command.

pub mod build;
pub mod diff;
pub mod inspect;
pub mod schema;
pub mod sign;
pub mod validate;

use std::process::ExitCode;

use crate::files::Failure;

pub type Outcome = Result<ExitCode, Failure>;
