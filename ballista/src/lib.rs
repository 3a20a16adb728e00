//! `chanval_match` on Apache Ballista: replay of recorded telemetry across machines
//! (docs/REPLAY.md, "Past one machine: Ballista").
//!
//! Ballista runs DataFusion plans on a cluster: a scheduler plans each query and executors run
//! its stages on their shards of the data. Every process that plans or runs a query with
//! `chanval_match` needs the function — the client that writes the SQL, the scheduler that
//! turns it into stages, each executor that runs them — and the function carries one content
//! file compiled against one schema. So the cluster runs this crate's two binaries,
//! `chanval-ballista-scheduler` and `chanval-ballista-executor`, each given the same
//! `--schema` and `--content`; plans name the function, and each process finds it in its own
//! registry. The function is a pure per-row map, so counts per instance add across
//! partitions, shards and executors and equal `chanval replay`'s (tests/cluster.rs).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::Path;
use std::sync::Arc;

use ballista_core::registry::BallistaFunctionRegistry;
use datafusion::execution::{FunctionRegistry, SessionState};
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionConfig;

/// Why the function could not be made.
#[derive(Debug)]
pub struct SetupError(pub String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SetupError {}

/// `chanval_match` for the channel file at `content`, against the schema at `schema` (the
/// content gated as `chanval validate` gates it; a source is built first).
///
/// # Errors
/// A file that cannot be read, a schema that does not load, content that does not pass the
/// gate.
pub fn chanval_match(schema: &Path, content: &Path) -> Result<ScalarUDF, SetupError> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| SetupError(format!("cannot read `{}`: {e}", p.display())))
    };
    let text = String::from_utf8(read(schema)?)
        .map_err(|_| SetupError(format!("schema `{}` is not UTF-8", schema.display())))?;
    // Lives as long as the process: every query of every session uses it.
    let schema_doc = chanval::SchemaDoc::from_toml(&text)
        .map_err(|e| SetupError(format!("schema `{}`: {e}", schema.display())))?
        .leak();
    let bytes = read(content)?;
    let bytes = if chanval::source::is_source(Some(content), &bytes) {
        let text = String::from_utf8(bytes)
            .map_err(|_| SetupError(format!("`{}` is not UTF-8", content.display())))?;
        let source = chanval::source::build(&text, schema_doc)
            .map_err(|e| SetupError(format!("source `{}`: {e}", content.display())))?;
        chanval::encode(&source.content)
            .map_err(|e| SetupError(format!("source `{}`: {e}", content.display())))?
    } else {
        bytes
    };
    let function = chanval_replay::datafusion::ChanvalMatch::new(schema_doc, &bytes)
        .map_err(|e| SetupError(format!("content `{}`: {e:?}", content.display())))?;
    Ok(function.into_udf())
}

/// A Ballista session state (for the scheduler, or a client) with `udf` registered.
///
/// # Errors
/// As DataFusion's session setup.
pub fn session_state(
    config: SessionConfig,
    udf: &ScalarUDF,
) -> datafusion::common::Result<SessionState> {
    let mut state = ballista_core::utils::default_session_builder(config)?;
    state.register_udf(Arc::new(udf.clone()))?;
    Ok(state)
}

/// The executors' function registry: DataFusion's and Ballista's functions, and `udf`.
#[must_use]
pub fn function_registry(udf: &ScalarUDF) -> BallistaFunctionRegistry {
    let mut registry = BallistaFunctionRegistry::default();
    registry
        .scalar_functions
        .insert(udf.name().to_string(), Arc::new(udf.clone()));
    registry
}

/// `--flag value` from `args` (the binaries take a few flags; no parser needed).
#[must_use]
pub fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// A binary's `main`: the function from its `--schema` and `--content` flags, then `serve`
/// (given the function and the arguments) on a multi-threaded runtime; errors on standard error
/// with `program`'s name. Exit 0 when `serve` returns, 1 when it fails, 2 when it cannot start.
pub fn run_process<F, Fut>(program: &str, usage: &str, serve: F) -> std::process::ExitCode
where
    F: FnOnce(ScalarUDF, Vec<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let args: Vec<String> = std::env::args().collect();
    let (Some(schema), Some(content)) = (flag(&args, "--schema"), flag(&args, "--content")) else {
        eprintln!("usage: {program} {usage}");
        return std::process::ExitCode::from(2);
    };
    let udf = match chanval_match(Path::new(&schema), Path::new(&content)) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("{program}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(32 << 20)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{program}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match runtime.block_on(serve(udf, args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program}: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

/// The port `--name` gives, else `default`.
///
/// # Errors
/// When the value is not a port number.
pub fn port(args: &[String], name: &str, default: u16) -> Result<u16, String> {
    flag(args, name).map_or(Ok(default), |p| {
        p.parse().map_err(|_| format!("{name} is a port number"))
    })
}
