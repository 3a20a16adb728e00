//! chanval: channel files that cannot reach beyond the inputs an agent supplies.
//!
//! A channel file carries detection content — template instances, one criterion per input
//! field — to a fleet of agents whose interpreters evaluate it against events. chanval exists
//! because a validator once checked such content against the template type's *declared* field
//! count (21) instead of the count the interpreter was actually *given* (20), and the first
//! instance with a real criterion in field 21 crashed the fleet.
//!
//! The layers are separate types, so only validated content reaches the interpreter:
//!
//! 1. [`parse`] — structure only, zero-copy: `&[u8]` to [`ChannelFile<'a>`].
//! 2. [`Validator`] — schema and contract: every instance against its template type and
//!    against every selected interpreter [`Profile`], and optionally *exercised* through the real
//!    interpreter; yields [`Validated<'a>`] or [`Finding`]s.
//! 3. [`Program`] — validated content compiled once per load for one profile; evaluates events,
//!    bounds-checked anyway. [`Interpreter`] is the allocation-free scan over the same content.
//!
//! Inside, each module imports only the modules above it in this list (a test,
//! `tests/it/layers.rs`, reads the sources and fails on any import that points down):
//!
//! ```text
//! common, limits        shared vocabulary (spans, criterion and input kinds), named limits
//! error, checksum       Error, EvalError; CRC-32C
//! format                the zero-copy reader (parse)
//! schema                template types and profiles (static data, or TOML)
//! diag                  codes, findings, messages, sinks: what every check reports through
//! eval                  what a criterion means for one value; the glob matcher
//! validate              file, schema, contract and exercise checks -> Validated
//! interpret             the compiled Program and the Interpreter
//! model, diff, codegen, owned content and the encoder, publication diffs, code generation,
//! trust, event          trust roots, signed envelopes (and what may follow a channel file),
//!                       brakes and standing, contract digests, rollout plans; events by name
//! gated, calibrate      the gate as one call (validation, exercise through the programs,
//!                       rule tests, the policy) -> Gated content and its Verdict; the cost
//!                       model's constants fitted on the machine it runs on
//! agent, source         the one load path an agent has (size, trust, targets, versions,
//!                       rollout, validation, compilation); TOML sources and their source maps
//! store                 the last-known-good store, through the load path
//! ```
//!
//! Test and fuzz support (fixtures, generators, fuzz oracles, the reference glob matcher) lives
//! in the unpublished `chanval-testing` crate, not here.
//!
//! The core (`parse`, `validate`, `interpret`) is `no_std`, never allocates, never panics and
//! contains no `unsafe`. The `alloc` feature adds the owned content model, the encoder and the
//! compiled program; `std` adds TOML schemas and hardware CRC-32C; `signing` (also `no_std`) adds
//! trust roots, envelopes and the agent's load path ([`agent`]); `store` the last-known-good store.
//! A channel file names the profiles it targets: [`Validator::new`] validates exactly those.
//!
//! ```
//! use chanval::{parse, Validator, Program, Scratch, Value, FindingBuf};
//! use chanval::{Budget, Schema, TemplateType, FieldDef, Profile, Supply, InputKind};
//!
//! static FIELDS: [FieldDef<'static>; 2] = [
//!     FieldDef::bytes("image_name", 64),
//!     FieldDef::unsigned("pid", 0, u64::MAX),
//! ];
//! static TYPES: [TemplateType<'static>; 1] =
//!     [TemplateType { id: 1, name: "process_start", fields: &FIELDS }];
//! static SUPPLIED: [InputKind; 2] = [InputKind::Bytes, InputKind::Unsigned];
//! static SUPPLIES: [Supply<'static>; 1] = [Supply { template_type: 1, inputs: &SUPPLIED }];
//! static PROFILES: [Profile<'static>; 1] = [Profile::all_criteria("agent-1.0", &SUPPLIES)];
//! static SCHEMA: Schema<'static> =
//!     Schema { template_types: &TYPES, profiles: &PROFILES, budget: Budget::DEFAULT };
//!
//! # use chanval::{ChannelContent, CriterionModel, InstanceModel, encode};
//! # let bytes = encode(&ChannelContent { channel_id: 291, content_version: 1,
//! #   targets: vec!["agent-1.0".into()], instances: vec![
//! #     InstanceModel { id: 7, template_type: 1, criteria: vec![
//! #         CriterionModel::Glob { pattern: b"*.exe".to_vec(), fold: true },
//! #         CriterionModel::Wildcard ] } ] })?;
//! let file = parse(&bytes)?;
//! let mut findings = FindingBuf::<16>::new();
//! let validated = Validator::new(&SCHEMA).validate(&file, &mut findings)
//!     .map_err(|_| "content rejected")?;
//! let program = Program::compile(&validated, "agent-1.0")?; // once per load
//! let mut scratch = Scratch::new(); // reused across events: no allocation per event
//! let event = [Value::Bytes(b"cmd.exe"), Value::Unsigned(4)];
//! let mut matched = [0u32; 8];
//! let n = program.evaluate_into(&mut scratch, 1, &event, &mut matched)?;
//! assert_eq!(matched.get(..n), Some(&[7u32][..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(not(any(feature = "std", feature = "store")), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Panic-free by construction: these are errors in library code and allowed only in tests.
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

#[cfg(feature = "alloc")]
extern crate alloc;

#[cfg(feature = "alloc")]
mod calibrate;
mod checksum;
mod common;
mod diag;
mod error;
mod eval;
mod format;
mod interpret;
mod limits;
mod schema;
mod validate;

#[cfg(feature = "signing")]
pub mod agent;
#[cfg(feature = "std")]
pub mod codegen;
#[cfg(feature = "alloc")]
pub mod diff;
#[cfg(feature = "std")]
pub mod event;
#[cfg(feature = "std")]
pub mod gated;
#[cfg(feature = "alloc")]
mod model;
#[cfg(feature = "std")]
pub mod source;
#[cfg(feature = "store")]
pub mod store;
mod time;
#[cfg(feature = "signing")]
pub mod trust;

pub use checksum::crc32c;
pub use common::{CriterionKind, CriterionSet, FLAG_FOLD, InputKind, PayloadSize, Span};
#[cfg(feature = "alloc")]
pub use diag::{CannotAllow, Judged, Policy, Verdict};
pub use diag::{
    Code, Detail, FieldRef, Finding, FindingBuf, FindingSink, Help, InstanceRef, Location, Message,
    Severity, Shown, Summary, TypeRef,
};
pub use error::{Error, ErrorKind, EvalError};
#[cfg(feature = "alloc")]
pub use eval::CompiledGlob;
pub use eval::{
    CRITERION_STEPS, Cost, GlobFacts, INSTANCE_STEPS, Value, criterion_cost, glob_cost, glob_facts,
    glob_match, instance_cost, matches_everything,
};
pub use format::{
    CRITERION_HEAD_LEN, ChannelFile, Criteria, Criterion, CriterionAt, CriterionOf, FORMAT_VERSION,
    FORMAT_VERSION_1, HEADER_LEN, Header, Instance, Instances, MAGIC, RECORD_HEAD_LEN, TRAILER_LEN,
    TargetNames, Targets, channel_file_bytes, declared_len, is_target_name, parse,
    parse_with_limits,
};
pub use interpret::Interpreter;
#[cfg(feature = "alloc")]
pub use interpret::{Calibration, CompileOptions, Estimate, IndexStats, Program, Scratch, gate};
pub use limits::{
    Limits, MAX_ATOM, MAX_FIELDS, MAX_PROFILES, MAX_TARGET_NAME_LEN, MAX_TARGETS, MAX_TARGETS_LEN,
    MAX_TEMPLATE_TYPES,
};
pub use schema::{
    Budget, FieldDef, Profile, ProfileSet, Schema, Supply, TemplateType, declared_inputs,
};
#[cfg(feature = "std")]
pub use schema::{SchemaDoc, TomlError};
pub use time::UnixTime;
pub use validate::{
    Rejected, Validated, Validator, check_schema, check_schema_bounded, exercise_scratch_len,
    targeted,
};

#[cfg(feature = "alloc")]
pub use model::{
    ChannelContent, CriterionModel, EncodeError, InstanceModel, encode, encode_with_limits,
};
