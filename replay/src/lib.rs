//! Replay of recorded telemetry through channel content, before it ships: how many events each
//! instance matches and on how many hosts, what the new content raises compared with the
//! content running now, and which instances are slowest — measured through the same compiled
//! programs agents run (`chanval::Program`).
//!
//! Kept out of the core crate, which agents link: replay is for release pipelines and
//! telemetry lakes. Events come as JSON Lines (`chanval-events`, docs/EVENTS.md) or, with the
//! `parquet` feature, as Parquet files and Arrow record batches ([`arrow`]); with the
//! `datafusion` feature, matching is a DataFusion scalar function ([`datafusion`]), so the
//! same query runs over a lake on a distributed DataFusion deployment. docs/REPLAY.md
//! describes the forms, the report and how per-shard counts combine.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Panic-free like the core: a replay over a lake must not die on one odd row.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::arithmetic_side_effects,
        clippy::todo,
        clippy::unimplemented,
        clippy::unreachable,
        clippy::cast_possible_truncation,
        clippy::cast_possible_wrap,
        clippy::cast_sign_loss,
        clippy::string_slice,
        clippy::panic_in_result_fn,
    )
)]

#[cfg(feature = "parquet")]
pub mod arrow;
mod content;
#[cfg(feature = "datafusion")]
pub mod datafusion;
pub mod distinct;
mod judge;
#[cfg(feature = "parquet")]
mod pages;
mod run;
pub mod sample;
mod tally;

pub use content::{Content, ContentError, InstanceInfo};
pub use judge::{Comparison, InstanceChange, Thresholds, TypeChange, benign, compare, judge};
pub use run::{Input, MAX_PROBLEMS, Options, Problem, ReadLimits, ReplayError, Replayed, replay};
pub use tally::{At, EventTime, HOUR, MAX_DEDUP, MAX_ERRORS, MAX_HOURS, Tally, TypeCounts};
