//! Release notes: a `diff` report in Markdown, for the people who review a release and the
//! customers who run it (docs/RELEASE.md). The same data as `diff --format json`, laid out to be
//! read: what the release is, whether the gate passed it, how it rolls out, and each rule added,
//! removed or changed with its metadata and its criteria before and after.

use std::fmt::Write as _;

use chanval::source::RuleMeta;

use super::{DiffOut, Report, Verdict};

/// The notes of `report`, which must be a `diff` report; one without its diff (a side that
/// could not be read) gives its findings only.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    match &report.diff {
        Some(d) => {
            let _ = writeln!(
                out,
                "# Channel {}: content version {} → {}\n",
                d.channel_id, d.old_content_version, d.new_content_version
            );
            summary(&mut out, report, d);
            rules(&mut out, d);
        }
        None => {
            let _ = writeln!(out, "# Release notes could not be written\n");
        }
    }
    findings(&mut out, report);
    out
}

fn summary(out: &mut String, report: &Report, d: &DiffOut) {
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| Channel | {} |", d.channel_id);
    let _ = writeln!(
        out,
        "| Content version | {} → {} |",
        d.old_content_version, d.new_content_version
    );
    let targets = code_list(&d.new_targets);
    if d.old_targets == d.new_targets {
        let _ = writeln!(out, "| Targets | {targets} |");
    } else {
        let _ = writeln!(
            out,
            "| Targets | {targets} (before: {}) |",
            code_list(&d.old_targets)
        );
    }
    let (errors, warnings) = report.files.iter().fold((0u32, 0u32), |(e, w), f| {
        (e.saturating_add(f.errors), w.saturating_add(f.warnings))
    });
    let gate = match report.verdict {
        Verdict::Ship => format!("ship ({errors} errors, {warnings} warnings)"),
        Verdict::Reject => format!("**do not ship** ({errors} errors, {warnings} warnings)"),
        Verdict::Unjudged => "not validated (no schema given)".to_string(),
    };
    let _ = writeln!(out, "| Gate | {gate} |");
    match &d.signed {
        Some(e) => {
            let expires = if e.expires == 0 {
                "never".to_string()
            } else {
                crate::cmd::clock::show(e.expires)
            };
            let _ = writeln!(
                out,
                "| Signed | {} signature(s), key(s) {}; expires {expires} |",
                e.signers.len(),
                code_list(&e.signers)
            );
            let brakes = match (e.paused, e.recalled) {
                (_, true) => " — **recalled**",
                (true, false) => " — **paused**",
                _ => "",
            };
            let _ = writeln!(out, "| Rollout | {}{brakes} |", cell(&e.rollout()));
        }
        None => {
            let _ = writeln!(
                out,
                "| Signed | not yet: its signature sets expiry and rollout (`chanval sign`) |"
            );
        }
    }
    let _ = writeln!(
        out,
        "| Rules | {} added, {} removed, {} changed, {} unchanged |\n",
        d.added.len(),
        d.removed.len(),
        d.changed.len(),
        d.unchanged
    );
}

fn rules(out: &mut String, d: &DiffOut) {
    for (heading, list) in [("Added", &d.added), ("Removed", &d.removed)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "## {heading} ({})\n", list.len());
        let _ = writeln!(
            out,
            "| Rule | Title | Severity | Tags | Owner | Template type |\n|---:|---|---|---|---|---|"
        );
        for i in list {
            let empty = RuleMeta::default();
            let r = i.rule.as_ref().unwrap_or(&empty);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                i.id,
                cell(r.title.as_deref().unwrap_or("")),
                r.severity.map_or("", |s| s.name()),
                code_list(&r.tags),
                cell(r.owner.as_deref().unwrap_or("")),
                type_name(i.template_type_id, i.template_type.as_deref()),
            );
        }
        out.push('\n');
    }
    if !d.changed.is_empty() {
        let _ = writeln!(out, "## Changed ({})\n", d.changed.len());
        for c in &d.changed {
            let _ = writeln!(out, "### {}\n", rule_heading(c.id, c.rule.as_ref()));
            if c.old_template_type_id != c.template_type_id {
                let _ = writeln!(
                    out,
                    "Template type changed from {} to {}.\n",
                    c.old_template_type_id,
                    type_name(c.template_type_id, c.template_type.as_deref())
                );
            }
            let _ = writeln!(out, "| Field | Before | After |\n|---|---|---|");
            for f in &c.fields {
                let field = f
                    .name
                    .as_deref()
                    .map_or_else(|| format!("index {}", f.index), code);
                let side =
                    |s: &Option<String>| s.as_deref().map_or_else(|| "wildcard".to_string(), code);
                let _ = writeln!(out, "| {field} | {} | {} |", side(&f.old), side(&f.new));
            }
            out.push('\n');
        }
    }
    if !d.metadata_changed.is_empty() {
        let _ = writeln!(
            out,
            "## Metadata changed ({})\n\n| Rule | | Before | After |\n|---:|---|---|---|",
            d.metadata_changed.len()
        );
        for m in &d.metadata_changed {
            let rows = [
                (
                    "title",
                    text(m.old.title.as_deref()),
                    text(m.new.title.as_deref()),
                ),
                (
                    "severity",
                    text(m.old.severity.map(|s| s.name())),
                    text(m.new.severity.map(|s| s.name())),
                ),
                ("tags", code_list(&m.old.tags), code_list(&m.new.tags)),
                (
                    "owner",
                    text(m.old.owner.as_deref()),
                    text(m.new.owner.as_deref()),
                ),
            ];
            for (what, before, after) in rows.into_iter().filter(|(_, b, a)| b != a) {
                let _ = writeln!(out, "| {} | {what} | {before} | {after} |", m.id);
            }
        }
        out.push('\n');
    }
}

fn findings(out: &mut String, report: &Report) {
    let all: Vec<_> = report
        .files
        .iter()
        .flat_map(|f| f.findings.iter().map(move |x| (f, x)))
        .collect();
    if all.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Findings ({})\n", all.len());
    for (file, f) in all {
        let place = match (f.location.line, f.location.instance_id) {
            (Some(line), _) => format!("{}:{line}", file.path),
            (None, Some(id)) => format!("{}, instance {id}", file.path),
            (None, None) => file.path.clone(),
        };
        let _ = writeln!(
            out,
            "- {} {}: {} ({})",
            f.severity,
            code(f.code),
            cell(&f.message),
            cell(&place)
        );
    }
    out.push('\n');
}

fn rule_heading(id: u32, rule: Option<&RuleMeta>) -> String {
    let Some(r) = rule else {
        return format!("Rule {id}");
    };
    let mut s = format!("Rule {id}");
    if let Some(t) = &r.title {
        let _ = write!(s, ": {}", cell(t));
    }
    if let Some(sev) = r.severity {
        let _ = write!(s, " ({})", sev.name());
    }
    s
}

fn type_name(id: u16, name: Option<&str>) -> String {
    name.map_or_else(|| id.to_string(), code)
}

fn text(s: Option<&str>) -> String {
    s.map_or_else(|| "—".to_string(), cell)
}

fn code_list(items: &[String]) -> String {
    items.iter().map(|s| code(s)).collect::<Vec<_>>().join(", ")
}

/// `s` as inline code in a table cell: a backtick run longer than any in `s` around it, and
/// the table's `|` escaped.
fn code(s: &str) -> String {
    let mut longest = 0usize;
    let mut run = 0usize;
    for c in s.chars() {
        run = if c == '`' { run.saturating_add(1) } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest.saturating_add(1));
    let pad = if longest > 0 { " " } else { "" };
    format!("{fence}{pad}{}{pad}{fence}", code_cell(s))
}

/// `s` as plain text in a table cell: one line, control characters shown as escapes, and every
/// ASCII punctuation Markdown could read as markup (emphasis, links, HTML, the table's `|`)
/// escaped with a backslash, which CommonMark allows before any of them.
fn cell(s: &str) -> String {
    let shown = chanval::Shown(s).to_string();
    let mut out = String::with_capacity(shown.len());
    for c in shown.chars() {
        if c.is_ascii_punctuation()
            && !matches!(
                c,
                '.' | ','
                    | ':'
                    | ';'
                    | '\''
                    | '"'
                    | '-'
                    | '/'
                    | '?'
                    | '='
                    | '@'
                    | '%'
                    | '+'
                    | '('
                    | ')'
            )
        {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `s` inside a code span in a table cell: literal, but for the table's `|` (GFM reads it as a
/// column break even there, unless escaped) and line breaks.
fn code_cell(s: &str) -> String {
    chanval::Shown(s).to_string().replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::{cell, code};

    #[test]
    fn hostile_text_cannot_break_the_table_or_add_markup() {
        let hostile = "a | b <img src=x> *bold* [link](http://x) `tick`\n# heading \\*x*";
        let shown = cell(hostile);
        assert!(!shown.contains('\n'), "{shown}");
        // Every character Markdown reads as markup is escaped: an odd run of backslashes
        // before it.
        let chars: Vec<char> = shown.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            if "|<>*[]`#_".contains(*c) {
                let run = chars[..i].iter().rev().take_while(|b| **b == '\\').count();
                assert!(run % 2 == 1, "{c:?} at {i} not escaped in {shown}");
            }
        }
        assert_eq!(code("x|y"), "`x\\|y`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert!(!code("a\nb").contains('\n'));
    }
}
