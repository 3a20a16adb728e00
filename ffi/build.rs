//! Compiles the agent's schema into the library: `CHANVAL_SCHEMA` names the TOML schema (default:
//! the incident example), and `chanval::codegen::rust` turns it into `static` data.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let schema = std::env::var("CHANVAL_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| manifest.join("../examples/incident/schema.toml"));
    println!("cargo:rerun-if-env-changed=CHANVAL_SCHEMA");
    println!("cargo:rerun-if-changed={}", schema.display());
    let text = std::fs::read_to_string(&schema)
        .unwrap_or_else(|e| panic!("CHANVAL_SCHEMA {}: {e}", schema.display()));
    let doc = chanval::SchemaDoc::from_toml(&text).unwrap_or_else(|e| {
        panic!(
            "CHANVAL_SCHEMA {}:{}:{}: {}",
            schema.display(),
            e.line,
            e.column,
            e.message
        )
    });
    let code = doc.with_schema(chanval::codegen::rust);
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("schema.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}
