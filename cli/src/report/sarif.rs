//! SARIF 2.1.0: one run, one rule per diagnostic code (described from docs/FINDINGS.md), one
//! result per finding. A finding in a channel file is located by byte offset and length (SARIF's
//! binary region); a finding in a schema by line and column. Instance, field and profile are
//! logical locations.
//!
//! Paths are URIs: percent-encoded (RFC 3986), and relative to the `%SRCROOT%` base (the
//! directory the gate ran in) when the file lies under it, as code-scanning services want them;
//! a file elsewhere gets an absolute `file:` URI.

use std::path::{Component, Path, PathBuf};

use chanval::Code;
use serde_json::{Value, json};

use super::{FindingOut, Report};

/// Where `helpUri` points: the findings reference of this version, in the repository.
const FINDINGS_URL: &str = concat!(
    env!("CARGO_PKG_REPOSITORY"),
    "/blob/v",
    env!("CARGO_PKG_VERSION"),
    "/docs/FINDINGS.md"
);

/// The base every relative URI is resolved against.
const SRCROOT: &str = "%SRCROOT%";

fn level(severity: &str) -> &'static str {
    if severity == "error" {
        "error"
    } else {
        "warning"
    }
}

/// Bytes RFC 3986 lets stand in a path unencoded (unreserved, sub-delims, `:`, `@`, `/`).
fn path_byte_ok(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b)
}

fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if path_byte_ok(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `path` without `.` components and with `..` resolved lexically (no file system access: a
/// report names what was asked for).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The artifact location of a reported path: relative to `%SRCROOT%` when under it.
fn artifact_location(path: &str, cwd: Option<&Path>) -> Value {
    let p = Path::new(path);
    let absolute = match cwd {
        Some(cwd) if p.is_relative() => normalize(&cwd.join(p)),
        _ => normalize(p),
    };
    let relative = cwd.and_then(|cwd| absolute.strip_prefix(normalize(cwd)).ok());
    match relative {
        Some(rel) if !rel.as_os_str().is_empty() => {
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            json!({ "uri": percent_encode(&rel.join("/")), "uriBaseId": SRCROOT })
        }
        _ => json!({ "uri": file_uri(&absolute, false) }),
    }
}

/// A `file:` URI for an absolute path (`dir` adds the trailing slash a base URI needs).
fn file_uri(path: &Path, dir: bool) -> String {
    let mut s = path.to_string_lossy().replace('\\', "/");
    if !s.starts_with('/') {
        s.insert(0, '/');
    }
    if dir && !s.ends_with('/') {
        s.push('/');
    }
    format!("file://{}", percent_encode(&s))
}

/// `whole`: the region of the whole file, for a finding about the file as a whole.
fn result(location: Value, f: &FindingOut, rule_index: usize, whole: Option<&Value>) -> Value {
    let l = &f.location;
    let mut physical = json!({ "artifactLocation": location });
    if let Some(line) = l.line {
        let mut region = json!({ "startLine": line });
        if let Some(column) = l.column {
            region["startColumn"] = json!(column);
        }
        physical["region"] = region;
    } else if let (Some(s), Some(e)) = (l.byte_start, l.byte_end) {
        physical["region"] = json!({ "byteOffset": s, "byteLength": e.saturating_sub(s) });
    } else if let Some(whole) = whole {
        // A finding about the file as a whole (alert volume, unreadable events): all of it.
        physical["region"] = whole.clone();
    }
    let mut logical = Vec::new();
    if let Some(id) = l.instance_id {
        logical.push(json!({ "name": format!("instance {id}"), "kind": "object" }));
    }
    if let Some(i) = l.field_index {
        let name = l
            .field
            .clone()
            .unwrap_or_else(|| format!("field index {i}"));
        logical.push(json!({ "name": name, "kind": "member" }));
    }
    let mut location = json!({ "physicalLocation": physical });
    if !logical.is_empty() {
        location["logicalLocations"] = Value::Array(logical);
    }
    let mut text = f.message.clone();
    if !text.ends_with('.') {
        text.push('.');
    }
    let mut result = json!({
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": text },
        "locations": [location],
        "properties": {
            "instanceIndex": l.instance_index,
            "instanceId": l.instance_id,
            "templateTypeId": l.template_type_id,
            "templateType": l.template_type,
            "fieldIndex": l.field_index,
            "field": l.field,
            "profile": l.profile,
        }
    });
    // The detection rule's own metadata (from its source): SARIF's property bag keeps `tags`
    // as the standard place for labels, so code-scanning UIs can filter on ATT&CK ids.
    if let Some(help) = &f.help {
        result["properties"]["help"] = json!(help);
    }
    if let Some(rule) = &f.rule {
        result["properties"]["rule"] = json!(rule);
        if !rule.tags.is_empty() {
            result["properties"]["tags"] = json!(rule.tags);
        }
    }
    result
}

/// GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens.
fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// Markdown of the findings table without its emphasis and code marks, for plain text.
fn plain(markdown: &str) -> String {
    markdown.replace("**", "").replace('`', "'")
}

fn rule(code: Code) -> Value {
    let title = code.title();
    // The rules' descriptions come from docs/FINDINGS.md, so SARIF and the docs say the same.
    let (meaning, section) = crate::findings::documented(code)
        .map_or(("", String::new()), |d| (d.meaning, anchor(d.section)));
    let mut full = plain(meaning);
    if full.is_empty() {
        full = format!("{title}.");
    }
    let mut short = title.to_string();
    short.push('.');
    json!({
        "id": code.as_str(),
        "name": format!("{code:?}"),
        "shortDescription": { "text": short },
        "fullDescription": { "text": full },
        "help": {
            "text": format!("{}: {}", code.as_str(), full),
            "markdown": format!("**{}** ({}): {}", code.as_str(), title, meaning),
        },
        "helpUri": format!("{FINDINGS_URL}#{section}"),
        "defaultConfiguration": { "level": level(code.severity().name()) },
        "properties": { "tags": ["channel-file", code.severity().name()] },
    })
}

fn driver(version: &str) -> Value {
    json!({
        "name": "chanval",
        "semanticVersion": version,
        "version": version,
        "informationUri": env!("CARGO_PKG_REPOSITORY"),
        "rules": Code::ALL.iter().map(|&c| rule(c)).collect::<Vec<_>>(),
    })
}

/// A log with no results and a failed invocation: the gate could not run (exit 2).
pub fn render_error(message: &str) -> Value {
    let mut text = message.to_string();
    if !text.ends_with('.') {
        text.push('.');
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver(env!("CARGO_PKG_VERSION")) },
            "invocations": [{
                "executionSuccessful": false,
                "exitCode": 2,
                "toolExecutionNotifications": [{
                    "level": "error",
                    "message": { "text": text },
                }],
            }],
            "results": [],
        }]
    })
}

/// Writes [`render_error`] to standard output.
pub fn emit_error(message: &str) {
    use std::io::Write;
    let doc = serde_json::to_string_pretty(&render_error(message)).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{doc}");
}

pub fn render(report: &Report) -> Value {
    let cwd = std::env::current_dir().ok();
    let rule_index = |code: &str| {
        Code::ALL
            .iter()
            .position(|c| c.as_str() == code)
            .unwrap_or(0)
    };
    let results: Vec<Value> = report
        .files
        .iter()
        .flat_map(|file| {
            let location = artifact_location(&file.path, cwd.as_deref());
            // A channel file's bytes, or a source's lines (its findings are at lines).
            let whole = match (&file.bytes, &file.source_text) {
                (Some(bytes), _) => Some(json!({ "byteOffset": 0, "byteLength": bytes.len() })),
                (None, Some(text)) => Some(json!({
                    "startLine": 1,
                    "endLine": text.lines().count().max(1),
                })),
                (None, None) => None,
            };
            file.findings
                .iter()
                .map(move |f| result(location.clone(), f, rule_index(f.code), whole.as_ref()))
        })
        .collect();
    let artifacts: Vec<Value> = report
        .files
        .iter()
        .map(|f| json!({ "location": artifact_location(&f.path, cwd.as_deref()) }))
        .collect();
    let mut run = json!({
        "tool": { "driver": driver(report.tool.version) },
        "artifacts": artifacts,
        "results": results,
        "invocations": [{ "executionSuccessful": true }],
        "columnKind": "unicodeCodePoints",
    });
    if let Some(cwd) = &cwd {
        run["originalUriBaseIds"] = json!({ SRCROOT: { "uri": file_uri(cwd, true) } });
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_and_relative_to_the_base() {
        let cwd = Path::new("/work/repo");
        let v = artifact_location("content/my file#1.cvc", Some(cwd));
        assert_eq!(v["uri"], "content/my%20file%231.cvc");
        assert_eq!(v["uriBaseId"], SRCROOT);
        let v = artifact_location("/work/repo/./a/../b%.cvc", Some(cwd));
        assert_eq!(v["uri"], "b%25.cvc");
        let v = artifact_location("/elsewhere/x y.cvc", Some(cwd));
        assert_eq!(v["uri"], "file:///elsewhere/x%20y.cvc");
        assert!(v.get("uriBaseId").is_none());
        let v = artifact_location("../up.cvc", Some(cwd));
        assert_eq!(v["uri"], "file:///work/up.cvc");
    }

    #[test]
    fn every_rule_is_described_from_the_findings_reference() {
        // (`crate::findings` checks that every code has its row.)
        for &c in Code::ALL {
            let r = rule(c);
            assert!(
                r["helpUri"].as_str().is_some_and(|u| u.contains("#")),
                "{r}"
            );
            assert!(
                r["fullDescription"]["text"]
                    .as_str()
                    .is_some_and(|t| t.len() > 20),
                "{r}"
            );
        }
        assert_eq!(
            anchor("Contract (per interpreter profile)"),
            "contract-per-interpreter-profile"
        );
    }
}
