//! The library's layering, checked from its sources: every module may import only modules of a
//! lower layer (or its own), so there is no import circle. The order is the one the crate
//! documentation and the README show. A `use crate::x` or a `crate::x::` path that points at a
//! higher layer fails this test, naming the file, the line and both layers.

use std::fs;
use std::path::{Path, PathBuf};

/// Layers from the bottom; modules on one line share a layer (they must not import each other
/// in a circle, which the module-level check below also catches).
const LAYERS: &[&[&str]] = &[
    &["common", "limits", "time"],
    &["error", "checksum"],
    &["format"],
    &["schema"],
    &["diag"],
    &["eval"],
    &["validate"],
    &["interpret"],
    &["model", "diff", "codegen", "trust", "event"],
    &["gated", "calibrate"],
    &["agent", "source"],
    &["store"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to (`src/validate/schema.rs` -> `validate`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The text without its test modules (`#[cfg(test)]` and the item after it, braces matched):
/// unit tests may reach anywhere. Lines are kept (blanked), so line numbers stay right.
fn without_tests(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut skipping = false;
    let mut depth = 0i32;
    let mut opened = false;
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        if !skipping && code.trim_start().starts_with("#[cfg(test)]") {
            skipping = true;
            depth = 0;
            opened = false;
            out.push(String::new());
            continue;
        }
        if skipping {
            for c in code.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            // The item ends where its braces close, or at a `;` before any brace.
            if (opened && depth <= 0) || (!opened && code.trim_end().ends_with(';')) {
                skipping = false;
            }
            out.push(String::new());
            continue;
        }
        out.push(code.to_string());
    }
    out
}

/// Every `crate::name` the text refers to, with its line, outside test modules — including
/// each module of a `use crate::{a, b::{…}, …}` list, however many lines it spans.
fn crate_refs(text: &str) -> Vec<(usize, String)> {
    let lines = without_tests(text);
    let mut out = Vec::new();
    for (n, code) in lines.iter().enumerate() {
        let mut rest = code.as_str();
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push((n + 1, name));
            }
        }
        // `use crate::{a, b}` lists several modules at once, possibly over several lines:
        // the first name of each element at the list's top level.
        let Some(i) = code.find("crate::{") else {
            continue;
        };
        let mut depth = 1;
        let mut element = String::new();
        let mut first_of_element = true;
        let tail = std::iter::once(&code[i + "crate::{".len()..])
            .chain(lines[n + 1..].iter().map(String::as_str));
        'list: for (k, part) in tail.enumerate() {
            for c in part.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            if first_of_element && !element.is_empty() {
                                out.push((n + 1 + k, element.clone()));
                            }
                            break 'list;
                        }
                    }
                    ',' if depth == 1 => {
                        if first_of_element && !element.is_empty() {
                            out.push((n + 1 + k, element.clone()));
                        }
                        element.clear();
                        first_of_element = true;
                        continue;
                    }
                    _ => {}
                }
                if depth == 1 && first_of_element {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        element.push(c);
                    } else if !element.is_empty() {
                        out.push((n + 1 + k, element.clone()));
                        element.clear();
                        first_of_element = false;
                    }
                }
            }
            if depth == 1 && first_of_element && !element.is_empty() {
                out.push((n + 1 + k, element.clone()));
                element.clear();
                first_of_element = false;
            }
        }
    }
    out.retain(|(_, name)| !name.is_empty());
    out
}

#[test]
fn every_module_imports_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut checked = 0;
    let mut violations = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "lib" {
            continue; // the root declares and re-exports every layer
        }
        let own = layer_of(&module).unwrap_or_else(|| {
            panic!(
                "{} is in no layer; add `{module}` to LAYERS",
                file.display()
            )
        });
        let text = fs::read_to_string(file).unwrap();
        for (line, target) in crate_refs(&text) {
            let Some(theirs) = layer_of(&target) else {
                continue; // a root item (`crate::Limits`), not a module path
            };
            checked += 1;
            let sideways = theirs == own && target != module && !same_layer_ok(&module, &target);
            if theirs > own || sideways {
                violations.push(format!(
                    "{}:{line}: `{module}` (layer {own}) imports `{target}` (layer {theirs})",
                    file.strip_prefix(&src).unwrap().display()
                ));
            }
        }
    }
    assert!(
        checked > 50,
        "the scan found only {checked} imports; is it reading the sources?"
    );
    assert!(
        violations.is_empty(),
        "imports that point up:\n{}",
        violations.join("\n")
    );
}

/// Within one layer, the only imports allowed are these (one direction each, so no circle).
fn same_layer_ok(from: &str, to: &str) -> bool {
    matches!((from, to), ("diff", "model"))
}

#[test]
fn the_check_sees_an_upward_import() {
    // The test above must be able to fail: a diag module reaching up into validate is caught.
    let refs = crate_refs("use crate::validate::Validated;\nuse crate::{eval, format};\n");
    let targets: Vec<&str> = refs.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(targets, ["validate", "eval", "format"]);
    assert!(layer_of("validate") > layer_of("diag"));
}

/// The scan reads whole files: a `use crate::{…}` list over several lines, and code after a
/// test module, are seen; the test module itself is not.
#[test]
fn the_scan_sees_multi_line_lists_and_code_after_tests() {
    let text = "use crate::{\n    format::{ChannelFile, parse},\n    store,\n};\n\
                #[cfg(test)]\nmod tests {\n    use crate::agent;\n    fn f() {}\n}\n\
                fn later() { crate::trust::x(); }\n";
    let names: Vec<(usize, String)> = crate_refs(text);
    let modules: Vec<&str> = names.iter().map(|(_, n)| n.as_str()).collect();
    assert!(modules.contains(&"format"), "{names:?}");
    assert!(modules.contains(&"store"), "{names:?}");
    assert!(modules.contains(&"trust"), "{names:?}");
    assert!(!modules.contains(&"agent"), "{names:?}");
    assert!(names.contains(&(10, "trust".to_string())), "{names:?}");
}
