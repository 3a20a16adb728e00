//! Human output, like a compiler's: code, severity and message; the file and byte range; the
//! instance, field and profile; and a hex snippet of the bytes at fault with the range marked.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use chanval::Shown;

use super::{FileReport, FindingOut, Report, Verdict};

/// At most this many hex rows per snippet; longer ranges show their first and last rows.
const MAX_ROWS: usize = 4;

/// Colours, when the run uses them (`--color`, `NO_COLOR`): the severity, the arrow and the
/// verdict, as compilers colour them.
#[derive(Clone, Copy)]
pub struct Paint(pub bool);

impl Paint {
    pub const ERROR: Style = AnsiColor::Red.on_default().bold();
    pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
    pub const ARROW: Style = AnsiColor::Blue.on_default().bold();
    pub const SHIP: Style = AnsiColor::Green.on_default().bold();

    /// `text` in `style`, or plain.
    pub fn paint(self, style: Style, text: &str) -> String {
        if self.0 {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }

    fn severity(self, severity: &str) -> String {
        let style = if severity == "error" {
            Self::ERROR
        } else {
            Self::WARNING
        };
        self.paint(style, severity)
    }
}

pub fn render(report: &Report) -> String {
    render_with(report, Paint(crate::settings::get().color_stdout))
}

pub fn render_with(report: &Report, paint: Paint) -> String {
    let mut out = String::new();
    if let Some(p) = &report.preface {
        out.push_str(p);
    }
    if let Some(d) = &report.diff {
        render_diff(&mut out, d);
    }
    for file in &report.files {
        for f in &file.findings {
            finding(&mut out, file, f, paint);
        }
        if let (Some(targets), Some(checked)) = (&file.targets, &file.checked_profiles) {
            let targets = if targets.is_empty() {
                "none".to_string()
            } else {
                Shown(&targets.join(", ")).to_string()
            };
            let _ = write!(
                out,
                "{}: targets {targets}; checked for {}",
                Shown(&file.path),
                if checked.is_empty() {
                    "no profile".to_string()
                } else {
                    Shown(&checked.join(", ")).to_string()
                }
            );
            match &file.excluded_profiles {
                Some(excluded) if !excluded.is_empty() => {
                    let _ = writeln!(out, "; not targeted: {}", Shown(&excluded.join(", ")));
                }
                _ => out.push('\n'),
            }
        }
        if let Some(engine) = file.engine.as_ref().filter(|e| !e.is_empty()) {
            engine_line(&mut out, &file.path, engine);
        }
        let verdict = match file.verdict {
            Verdict::Ship => paint.paint(Paint::SHIP, "ship"),
            Verdict::Reject => paint.paint(Paint::ERROR, "DO NOT SHIP"),
            Verdict::Unjudged => "no verdict: not validated (give --schema)".to_string(),
        };
        let allowed = if file.allowed > 0 {
            format!(" ({} allowed)", file.allowed)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{}: {} error(s), {} warning(s){allowed}{} — {verdict}",
            Shown(&file.path),
            file.errors,
            file.warnings,
            if file.truncated {
                ", stopped at the finding limit"
            } else {
                ""
            }
        );
    }
    // As rustc's "try `rustc --explain`": once, after the findings, naming the codes seen.
    let mut codes: Vec<&str> = Vec::new();
    for f in report.files.iter().flat_map(|file| &file.findings) {
        if !codes.contains(&f.code) {
            codes.push(f.code);
        }
    }
    if let Some(first) = codes.first() {
        let _ = writeln!(
            out,
            "{}: `chanval explain {first}` says what a code means and how to fix what it reports \
             (codes here: {})",
            paint.paint(Paint::ARROW, "help"),
            codes.join(", ")
        );
    }
    if let Some(config) = &report.config {
        // The policy it applied came partly from this file: a reader of the log can find it.
        let _ = writeln!(out, "config: {}", Shown(config));
    }
    if report.files.len() > 1 {
        let rejected = report
            .files
            .iter()
            .filter(|f| f.verdict == Verdict::Reject)
            .count();
        let _ = match report.verdict {
            Verdict::Ship => writeln!(
                out,
                "verdict: {} ({} files)",
                paint.paint(Paint::SHIP, "ship"),
                report.files.len()
            ),
            Verdict::Unjudged => writeln!(out, "verdict: none (not validated)"),
            Verdict::Reject => {
                writeln!(
                    out,
                    "verdict: {} ({rejected} of {} files rejected)",
                    paint.paint(Paint::ERROR, "DO NOT SHIP"),
                    report.files.len()
                )
            }
        };
    }
    out
}

fn finding(out: &mut String, file: &FileReport, f: &FindingOut, paint: Paint) {
    let l = &f.location;
    let _ = writeln!(
        out,
        "{}[{}]: {}",
        paint.severity(f.severity),
        f.code,
        Shown(&f.message)
    );
    let arrow = paint.paint(Paint::ARROW, "-->");
    match (l.byte_start, l.byte_end, l.line, l.column) {
        (_, _, Some(line), Some(column)) => {
            let _ = writeln!(out, "  {arrow} {}:{line}:{column}", Shown(&file.path));
        }
        (Some(s), Some(e), _, _) => {
            let _ = writeln!(out, "  {arrow} {} @ bytes {s}..{e}", Shown(&file.path));
        }
        _ => {
            let _ = writeln!(out, "  {arrow} {}", Shown(&file.path));
        }
    }
    let mut parts = Vec::new();
    if let (Some(i), Some(id)) = (l.instance_index, l.instance_id) {
        parts.push(format!("instance #{i} (id {id})"));
    }
    if let Some(id) = l.template_type_id {
        parts.push(match &l.template_type {
            Some(n) => format!("template type `{}` ({id})", Shown(n)),
            None => format!("template type {id}"),
        });
    }
    if let Some(i) = l.field_index {
        let n = u32::from(i) + 1;
        parts.push(match &l.field {
            Some(name) => format!("field {n} `{}` (index {i})", Shown(name)),
            None => format!("field {n} (index {i})"),
        });
    }
    if let Some(p) = &l.profile {
        parts.push(format!("profile `{}`", Shown(p)));
    }
    if !parts.is_empty() {
        let _ = writeln!(out, "   = {}", parts.join(", "));
    }
    if let Some(rule) = &f.rule {
        let _ = writeln!(out, "   = rule: {}", rule_line(rule));
    }
    if let Some(help) = &f.help {
        let _ = writeln!(
            out,
            "   = {}: {}",
            paint.paint(Paint::ARROW, "help"),
            Shown(help)
        );
    }
    if let (Some(bytes), Some(s), Some(e)) = (&file.bytes, l.byte_start, l.byte_end) {
        hex_snippet(out, bytes, s, e);
    }
    if let (Some(text), Some(line), Some(column)) = (&file.source_text, l.line, l.column) {
        source_snippet(out, text, line, column, paint);
    }
    out.push('\n');
}

/// A rule's metadata on one line: `title (severity; tag, tag; owner o)`.
pub fn rule_line(rule: &chanval::source::RuleMeta) -> String {
    let mut about = Vec::new();
    if let Some(s) = rule.severity {
        about.push(s.name().to_string());
    }
    if !rule.tags.is_empty() {
        about.push(rule.tags.join(", "));
    }
    if let Some(o) = &rule.owner {
        about.push(format!("owner {o}"));
    }
    let title = rule.title.as_deref().unwrap_or("(no title)");
    let shown = if about.is_empty() {
        title.to_string()
    } else {
        format!("{title} ({})", about.join("; "))
    };
    Shown(&shown).to_string()
}

/// The source line at fault with a caret under its column, as compilers show it.
fn source_snippet(out: &mut String, text: &str, line: usize, column: usize, paint: Paint) {
    let Some(shown) = text.lines().nth(line.saturating_sub(1)) else {
        return;
    };
    let number = line.to_string();
    let pad = " ".repeat(number.len());
    let _ = writeln!(out, "{pad} |");
    let _ = writeln!(out, "{number} | {}", Shown(shown));
    // The caret sits under the column's character, as the line is shown (escapes included).
    let before: String = shown.chars().take(column.saturating_sub(1)).collect();
    let lead = " ".repeat(Shown(&before).to_string().chars().count());
    let _ = writeln!(out, "{pad} | {lead}{}", paint.paint(Paint::ARROW, "^"));
}

/// Rows of 16 bytes covering `start..end`, each followed by a marker row under the range.
fn hex_snippet(out: &mut String, bytes: &[u8], start: usize, end: usize) {
    let end = end.min(bytes.len());
    if start >= end {
        // The range is past the input (a truncated file): say where it ends.
        let _ = writeln!(out, "   | (input ends at byte {})", bytes.len());
        return;
    }
    let first = start / 16;
    let last = (end - 1) / 16;
    let rows: Vec<usize> = if last - first < MAX_ROWS {
        (first..=last).collect()
    } else {
        vec![first, first + 1, usize::MAX, last]
    };
    for row in rows {
        if row == usize::MAX {
            let _ = writeln!(out, "   | ...");
            continue;
        }
        let base = row * 16;
        let mut hex = String::new();
        let mut mark = String::new();
        for i in base..base + 16 {
            if i == base + 8 {
                hex.push(' ');
                mark.push(' ');
            }
            match bytes.get(i) {
                Some(b) => {
                    let _ = write!(hex, " {b:02x}");
                    mark.push_str(if (start..end).contains(&i) {
                        " ^^"
                    } else {
                        "   "
                    });
                }
                None => {
                    hex.push_str("   ");
                    mark.push_str("   ");
                }
            }
        }
        let _ = writeln!(out, "   | {base:08x} {}", hex.trim_end());
        let _ = writeln!(out, "   |          {}", mark.trim_end());
    }
}

fn render_diff(out: &mut String, d: &super::DiffOut) {
    let _ = writeln!(
        out,
        "channel {}: content version {} -> {} ({} -> {})",
        d.channel_id,
        d.old_content_version,
        d.new_content_version,
        Shown(&d.old),
        Shown(&d.new)
    );
    if let Some(envelope) = &d.signed {
        let mut shown = Vec::new();
        let _ = envelope.human(&mut shown);
        out.push_str(&String::from_utf8_lossy(&shown));
    }
    if d.old_targets != d.new_targets {
        let _ = writeln!(
            out,
            "targets: {} -> {}",
            Shown(&d.old_targets.join(", ")),
            Shown(&d.new_targets.join(", "))
        );
    }
    let ty = |id: u16, name: &Option<String>| match name {
        Some(n) => format!("`{}` ({id})", Shown(n)),
        None => format!("{id}"),
    };
    let about = |rule: &Option<chanval::source::RuleMeta>| {
        rule.as_ref()
            .map_or(String::new(), |r| format!(": {}", rule_line(r)))
    };
    for (sign, list) in [('+', &d.added), ('-', &d.removed)] {
        for i in list {
            let _ = writeln!(
                out,
                "{sign} instance {} (template type {}){}",
                i.id,
                ty(i.template_type_id, &i.template_type),
                about(&i.rule)
            );
        }
    }
    for c in &d.changed {
        let fields: Vec<String> = c
            .fields
            .iter()
            .map(|f| match &f.name {
                Some(n) => format!("{} `{}`", u32::from(f.index) + 1, Shown(n)),
                None => format!("{}", u32::from(f.index) + 1),
            })
            .collect();
        let retyped = if c.old_template_type_id == c.template_type_id {
            String::new()
        } else {
            format!(", template type changed from {}", c.old_template_type_id)
        };
        let _ = writeln!(
            out,
            "~ instance {} (template type {}): field(s) {}{retyped}",
            c.id,
            ty(c.template_type_id, &c.template_type),
            fields.join(", "),
        );
        if let Some(r) = &c.rule {
            let _ = writeln!(out, "    rule: {}", rule_line(r));
        }
        let side = |s: &Option<String>| {
            s.as_deref()
                .map_or("wildcard".to_string(), |s| Shown(s).to_string())
        };
        for (f, label) in c.fields.iter().zip(&fields) {
            let _ = writeln!(
                out,
                "    field {label}: {} -> {}",
                side(&f.old),
                side(&f.new)
            );
        }
    }
    for m in &d.metadata_changed {
        let _ = writeln!(
            out,
            "~ instance {} metadata: {} -> {}",
            m.id,
            rule_line(&m.old),
            rule_line(&m.new)
        );
    }
    let _ = writeln!(
        out,
        "{} added, {} removed, {} changed, {} unchanged\n",
        d.added.len(),
        d.removed.len(),
        d.changed.len(),
        d.unchanged
    );
}

/// Nanoseconds as people read them.
fn duration(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.1} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// Per template type, the engine's predicted cost of an event: a heading and a line each.
fn engine_line(out: &mut String, path: &str, engine: &[super::EngineOut]) {
    let machine = engine
        .first()
        .map_or("the benchmark machine", |e| e.machine.as_str());
    let _ = writeln!(
        out,
        "{}: engine estimate per event ({}-byte values, on {}):",
        Shown(path),
        super::ESTIMATE_VALUE_LEN,
        Shown(machine),
    );
    for e in engine {
        let _ = writeln!(
            out,
            "  {}: {} instance(s), {:.1} candidate(s), {}; {} when every instance is a candidate",
            Shown(&e.template_type),
            e.instances,
            e.candidates,
            duration(e.ns_per_event),
            duration(e.ns_per_event_all_candidates),
        );
    }
}
