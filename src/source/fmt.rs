//! The canonical layout of a content source (feature `fmt`): what `chanval fmt` writes and
//! `chanval fmt --check` holds a repository to, so that reviews show changes of meaning, not of
//! spacing. docs/SOURCE.md ("Formatting") states the rules; in short:
//!
//! - `channel_id`, `content_version`, `targets` first; in `[[instance]]` the order `id`,
//!   `template_type`, `title`, `severity`, `tags`, `owner`, then the criteria; in `[[test]]`
//!   `name`, `template_type`, `profile`, `inputs`, `matches`, `misses`. Keys it does not know
//!   keep their place after those (the build refuses them; formatting loses nothing).
//! - Criteria written `criteria.FIELD = { KIND = …, fold = … }`, in the order written, the
//!   kind first (its short name, `eq`, stays as written).
//! - `key = value`, `{ a = 1, b = 2 }`, `[1, 2]`; one space before a trailing comment; at most
//!   one blank line in a row; one blank line before each `[[…]]` header; one newline at the end.
//! - Comments are kept, with the key, table or value they were written above or after; strings
//!   and integers keep the way they were written (literal or basic, hex or decimal); the order of
//!   instances and tests is kept. An array or inline table with a comment inside is left as
//!   written.
//!
//! Formatting never changes what the source means: the formatted text builds to the same content,
//! metadata and tests, and formatting it again changes nothing (tests/it/toml_docs.rs checks
//! both).

use std::string::{String, ToString};
use std::vec::Vec;

use toml_edit::{DocumentMut, InlineTable, Item, RawString, Table, Value};

use crate::schema::TomlError;

/// Keys in the order a canonical source writes them, per table.
const TOP: &[&str] = &["channel_id", "content_version", "targets"];
const INSTANCE: &[&str] = &[
    "id",
    "template_type",
    "title",
    "severity",
    "tags",
    "owner",
    "criteria",
];
const TEST: &[&str] = &[
    "name",
    "template_type",
    "profile",
    "inputs",
    "matches",
    "misses",
];

/// A criterion's kind keys, full names and short ones: the kind comes first, then `fold`.
const KINDS: &[&str] = &[
    "wildcard",
    "exact",
    "glob",
    "int_eq",
    "eq",
    "int_range",
    "range",
    "flags_all",
    "all",
    "flags_any",
    "any",
];

/// `text` in the canonical layout.
///
/// # Errors
/// When `text` is not TOML, at the line and column of the problem. Formatting needs no schema
/// and judges nothing else: `chanval build` does.
pub fn format(text: &str) -> Result<String, TomlError> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let at = e.span().map_or(0, |s| s.start);
        TomlError::at(text, at, crate::schema::plain(e.message().trim_end()))
    })?;
    let top = doc.as_table_mut();
    order(top, TOP);
    tidy_keys(top, &mut true);
    for (name, keys) in [("instance", INSTANCE), ("test", TEST)] {
        let Some(tables) = top.get_mut(name).and_then(Item::as_array_of_tables_mut) else {
            continue;
        };
        for table in tables.iter_mut() {
            if name == "instance" {
                criteria_dotted(table);
            }
            order(table, keys);
            tidy_header(table);
            tidy_keys(table, &mut true);
        }
    }
    let trailing = doc.trailing().as_str().unwrap_or("").to_string();
    doc.set_trailing("");
    let mut out = doc.to_string();
    // The document's trailing comments, and one newline at the end.
    let comments = comment_block(&trailing, true);
    while out.ends_with('\n') {
        out.pop();
    }
    out.push('\n');
    if !comments.is_empty() {
        out.push_str(&comments);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    let out = out.trim_start_matches('\n').to_string();
    Ok(out)
}

/// Sorts `table`'s keys by their rank in `keys`; keys not in it keep their order after those.
fn order(table: &mut Table, keys: &[&str]) {
    let rank = |k: &str| keys.iter().position(|n| *n == k).unwrap_or(keys.len());
    table.sort_values_by(|a, _, b, _| rank(a.get()).cmp(&rank(b.get())));
}

/// `criteria` as dotted keys (`criteria.FIELD = { … }`), each criterion in canonical form.
fn criteria_dotted(instance: &mut Table) {
    let Some(item) = instance.get_mut("criteria") else {
        return;
    };
    // `criteria = { … }` or `[instance.criteria]`: the same table, written as dotted keys.
    if let Item::Value(Value::InlineTable(inline)) = item {
        let table = core::mem::take(inline).into_table();
        *item = Item::Table(table);
    }
    let Item::Table(criteria) = item else {
        return;
    };
    // A `[instance.criteria]` header's comments (above it and after it) go above its first
    // criterion.
    let decor = criteria.decor();
    let after = trailing_comment(raw(decor.suffix()));
    let mut header = raw(decor.prefix()).to_string();
    if !after.is_empty() {
        header.push_str(after.trim_start());
        header.push('\n');
    }
    let header = (!header.is_empty()).then_some(header);
    criteria.set_dotted(true);
    criteria.set_implicit(true);
    criteria.decor_mut().clear();
    if let Some(header) = header
        && let Some((mut key, _)) = criteria.iter_mut().next()
    {
        let own = raw(key.leaf_decor().prefix()).to_string();
        key.leaf_decor_mut().set_prefix(header + &own);
    }
    for (_, value) in criteria.iter_mut() {
        if let Some(inline) = value.as_inline_table_mut() {
            canonical_criterion(inline);
        }
    }
}

/// A criterion's inline table: the kind before `fold`. Short kind names (`eq`) stay: SOURCE.md
/// makes them aliases of equal standing.
fn canonical_criterion(criterion: &mut InlineTable) {
    if has_comment_inline(criterion) {
        return;
    }
    // The table's own decor (a trailing comment after it) stays with it.
    let decor = criterion.decor().clone();
    let mut sorted: Vec<(String, Value)> = core::mem::take(criterion).into_iter().collect();
    let rank = |k: &str| match k {
        "fold" => 2,
        k if KINDS.contains(&k) => 0,
        _ => 1,
    };
    sorted.sort_by_key(|(k, _)| rank(k));
    for (k, v) in sorted {
        // A repeated key (a kind and its alias) stays, so the build reports it.
        criterion.insert(&k, v);
    }
    *criterion.decor_mut() = decor;
}

/// Every key of `table` (and of its dotted sub-tables, `criteria.…`, which follow on from their
/// parent's) as `key = value # comment`, its comment lines above it kept, at most one blank line
/// before it and none before the first (`first`: no key written yet).
fn tidy_keys(table: &mut Table, first: &mut bool) {
    for (mut key, item) in table.iter_mut() {
        match item {
            Item::Value(value) => {
                let block = comment_block(raw(key.leaf_decor().prefix()), !*first);
                key.leaf_decor_mut().set_prefix(block);
                key.leaf_decor_mut().set_suffix(" ");
                key.dotted_decor_mut().clear();
                tidy_value(value);
                *first = false;
            }
            Item::Table(sub) if sub.is_dotted() => {
                key.leaf_decor_mut().clear();
                key.dotted_decor_mut().clear();
                tidy_keys(sub, first);
            }
            _ => {}
        }
    }
}

/// `= value # comment`: one space after `=`, the value's own spacing canonical unless a comment
/// is inside it, one space before a trailing comment.
fn tidy_value(value: &mut Value) {
    let suffix = raw(value.decor().suffix());
    let trailing = trailing_comment(suffix);
    match value {
        Value::InlineTable(t) if !has_comment_inline(t) => {
            t.fmt();
            t.set_trailing("");
            t.set_trailing_comma(false);
        }
        Value::Array(a) if !has_comment_array(a) => {
            a.fmt();
            a.set_trailing("");
            a.set_trailing_comma(false);
        }
        _ => {}
    }
    value.decor_mut().set_prefix(" ");
    value.decor_mut().set_suffix(trailing);
}

/// A `[[…]]` header: one blank line before it (and its comment lines), one space before a
/// comment after it.
fn tidy_header(table: &mut Table) {
    let prefix = raw(table.decor().prefix()).to_string();
    let suffix = raw(table.decor().suffix()).to_string();
    let block = comment_block(&prefix, false);
    table.decor_mut().set_prefix(format!("\n{block}"));
    table.decor_mut().set_suffix(trailing_comment(&suffix));
}

/// The comment lines of a decor prefix, each `# …` on its own line, with one blank line kept
/// where the text had one or more (a leading one only when `keep_leading`).
fn comment_block(prefix: &str, keep_leading: bool) -> String {
    let mut out = String::new();
    let mut blank = false;
    // The last segment is what stands before the key on its own line: indentation.
    let mut lines: Vec<&str> = prefix.split('\n').collect();
    lines.pop();
    for line in lines {
        let line = line.trim();
        if line.is_empty() {
            blank = true;
            continue;
        }
        if blank && (keep_leading || !out.is_empty()) {
            out.push('\n');
        }
        blank = false;
        out.push_str(line);
        out.push('\n');
    }
    if blank && (keep_leading || !out.is_empty()) {
        out.push('\n');
    }
    out
}

/// ` # comment` from a value's or header's suffix, or nothing.
fn trailing_comment(suffix: &str) -> String {
    match suffix.find('#') {
        Some(at) => format!(" {}", suffix.get(at..).unwrap_or("").trim_end()),
        None => String::new(),
    }
}

/// A decor's text (empty when it has none written).
fn raw(decor: Option<&RawString>) -> &str {
    decor.and_then(RawString::as_str).unwrap_or("")
}

fn has_comment(raw: Option<&RawString>) -> bool {
    raw.and_then(RawString::as_str)
        .is_some_and(|s| s.contains('#'))
}

fn has_comment_value(v: &Value) -> bool {
    let d = v.decor();
    has_comment(d.prefix())
        || has_comment(d.suffix())
        || match v {
            Value::InlineTable(t) => has_comment_inline(t),
            Value::Array(a) => has_comment_array(a),
            _ => false,
        }
}

fn has_comment_inline(t: &InlineTable) -> bool {
    t.iter().any(|(k, v)| {
        let key = t.key(k);
        key.is_some_and(|key| {
            has_comment(key.leaf_decor().prefix()) || has_comment(key.leaf_decor().suffix())
        }) || has_comment_value(v)
    }) || t.trailing().as_str().is_some_and(|s| s.contains('#'))
}

fn has_comment_array(a: &toml_edit::Array) -> bool {
    a.iter().any(has_comment_value) || a.trailing().as_str().is_some_and(|s| s.contains('#'))
}
