//! chanval's integration tests, as one binary (one link step instead of one per file). The
//! allocation-counting test stays on its own in `tests/no_alloc.rs`: it installs a global
//! allocator.

mod corpus;
mod findings_doc;
mod format_doc;
mod format_precision;
mod fuzz_smoke;
mod incident;
mod interpreter;
mod layers;
mod properties;
#[cfg(feature = "store")]
mod recovery;
mod regressions;
#[cfg(feature = "signing")]
mod rollout;
#[cfg(feature = "fmt")]
mod source_fmt;
#[cfg(feature = "store")]
mod store;
mod toml_docs;
mod truncation;
#[cfg(feature = "signing")]
mod trust;
mod validator;
