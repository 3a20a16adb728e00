//! `chanval schema codegen` never emits code that fails to compile, whatever the schema's names:
//! keywords of Rust, C and C++, names that collide once made identifiers (`vendor id` and
//! `vendor_id`), empty and non-ASCII names, comment terminators and newlines in names, duplicate
//! ids, a profile that supplies nothing. The C header is compiled as C99, C11 and C++17 (with
//! `-Wall -Wextra -Werror`), the Rust module as a crate that uses it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Schemas written to break naive code generation.
fn hostile_schemas() -> Vec<(&'static str, String)> {
    let keywords = r#"
[[template_type]]
id = 1
name = "struct"
field = [
  { name = "type", input = "bytes" },
  { name = "int", input = "unsigned" },
  { name = "self", input = "flags" },
  { name = "vendor id", input = "bytes" },
  { name = "vendor_id", input = "bytes" },
  { name = "Vendor-ID", input = "bytes" },
  { name = "", input = "bytes" },
  { name = "_", input = "unsigned" },
  { name = "9lives", input = "bytes" },
  { name = "event", input = "bytes" },
  { name = "class", input = "bytes" },
]

[[template_type]]
id = 2
name = "Struct"
field = [ { name = "*/ int x; /*", input = "bytes" }, { name = "a\nb", input = "bytes" } ]

[[template_type]]
id = 2
name = "émoji 😀 \"quoted\" \\ back?slash"
field = [ { name = "ünïcode", input = "bytes" }, { name = "??=", input = "unsigned" } ]

[[profile]]
name = "self"
supplies = [ { template_type = 1, inputs = 11 }, { template_type = 2, inputs = 2 } ]

[[profile]]
name = "sensor-7.11"
supplies = [ { template_type = 1, inputs = 3 } ]

[[profile]]
name = "sensor_7_11"
supplies = [ { template_type = "struct", inputs = ["bytes"] }, { template_type = 1, inputs = 0 } ]

[[profile]]
name = "*/\n#error broken"
supplies = []
"#;
    let examples = ["incident", "fleet"].map(|e| {
        (
            e,
            std::fs::read_to_string(repo().join(format!("examples/{e}/schema.toml"))).unwrap(),
        )
    });
    let mut all = vec![("hostile", keywords.to_string())];
    all.extend(examples.map(|(n, t)| (n, t)));
    all
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chanval-codegen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn generated_c_compiles_as_c99_c11_and_cpp() {
    let dir = scratch("c");
    for (name, text) in hostile_schemas() {
        let doc = chanval::SchemaDoc::from_toml(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        std::fs::write(
            dir.join("chanval_schema.h"),
            doc.with_schema(chanval::codegen::c),
        )
        .unwrap();
        let main = dir.join("main.c");
        std::fs::write(
            &main,
            "#include \"chanval.h\"\n#include \"chanval_schema.h\"\nint main(void) { return 0; }\n",
        )
        .unwrap();
        for (compiler, std) in [
            ("gcc", "-std=c99"),
            ("gcc", "-std=c11"),
            ("g++", "-std=c++17"),
        ] {
            let mut cmd = Command::new(compiler);
            if compiler == "g++" {
                cmd.args(["-x", "c++"]);
            }
            let o = cmd
                .args([std, "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I"])
                .arg(repo().join("ffi/include"))
                .arg("-I")
                .arg(&dir)
                .arg(&main)
                .env("LC_ALL", "C")
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{name} as {std}:\n{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn generated_rust_compiles() {
    let dir = scratch("rust");
    let t = trybuild::TestCases::new();
    for (name, text) in hostile_schemas() {
        let doc = chanval::SchemaDoc::from_toml(&text).unwrap();
        let code = dir.join(format!("{name}_schema.rs"));
        std::fs::write(&code, doc.with_schema(chanval::codegen::rust)).unwrap();
        let test = dir.join(format!("{name}.rs"));
        std::fs::write(
            &test,
            format!(
                "#![deny(warnings)]\n#[allow(dead_code, non_upper_case_globals, non_camel_case_types, non_snake_case)]\nmod schema {{ include!({:?}); }}\nfn main() {{ assert!(schema::SCHEMA.profiles.len() < 100); }}\n",
                code.display().to_string()
            ),
        )
        .unwrap();
        t.pass(&test);
    }
}
