//! Test and fuzz support for chanval, kept out of the library that agents link (unpublished, in
//! the manner of `rustls-test` and wasm-tools' `fuzz` crate):
//!
//! - [`testkit`]: the fleet fixture (a static schema of several template types and profiles, as
//!   an agent builds it) and a seeded generator of realistic valid content;
//! - [`generate`]: an `arbitrary`-driven generator of always-valid content, in the manner of
//!   wasm-smith;
//! - [`fuzzing`]: the oracles the fuzz targets in `fuzz/` call, one function each; `cargo test`
//!   runs them on seeded inputs and on the committed corpus;
//! - [`glob_reference`]: the obviously-correct reference glob matcher;
//! - [`trust`]: keys, roots, brakes and signed content for the load path's tests;
//! - [`sim`]: the deterministic fleet simulation of the way back (docs/RECOVERY.md): thousands
//!   of agents with real last-known-good stores on a simulated file system with injected faults,
//!   a release side that ships, pauses, recalls and rotates keys, stale mirrors, and a checker of
//!   every invariant after every step.
//!
//! Everything here may panic: a panic is how a fuzz oracle or a test reports a broken invariant.

pub mod fuzzing;
pub mod generate;
pub mod glob_reference;
pub mod sim;
pub mod testkit;
pub mod trust;
pub use arbitrary;
