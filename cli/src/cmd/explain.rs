//! `chanval explain CODE`: what a finding code means and what to do about it, as `rustc
//! --explain` does. The text is docs/FINDINGS.md's own row, embedded when chanval is built, so
//! the command and the documentation cannot say different things (`cli/tests/explain.rs` checks
//! that every code the library reports has its row).

use std::process::ExitCode;

use chanval::Code;

use super::Outcome;
use crate::Format;
use crate::files::Failure;
use crate::settings::say;

/// The code table, as published.
static FINDINGS: &str = include_str!("../../../docs/FINDINGS.md");

/// Show what a finding code (`CV0201`) means and how to fix what it reports.
#[derive(clap::Args)]
pub struct Args {
    /// The code, as reports print it (`CV0201`; `cv0201` and `0201` work too).
    code: String,
    /// Output format (`sarif` is not available here).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// One row of docs/FINDINGS.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Explanation {
    /// `CV0201`.
    pub code: &'static str,
    /// `error` or `warning`.
    pub severity: &'static str,
    /// The short title reports give.
    pub title: &'static str,
    /// What it means and what to do (Markdown, as in the table).
    pub explanation: &'static str,
}

/// The row of `code` in docs/FINDINGS.md.
pub fn explanation(code: Code) -> Option<Explanation> {
    FINDINGS.lines().find_map(|line| {
        let cells: Vec<&'static str> = line
            .strip_prefix('|')?
            .split(" | ")
            .map(str::trim)
            .collect();
        match cells.as_slice() {
            [c, severity, title, text] if *c == code.as_str() => Some(Explanation {
                code: code.as_str(),
                severity,
                title,
                explanation: text.trim_end_matches('|').trim_end(),
            }),
            _ => None,
        }
    })
}

/// The code a user typed: `CV0201`, `cv0201` or `0201`.
fn parse_code(typed: &str) -> Option<Code> {
    let digits = typed
        .strip_prefix("CV")
        .or_else(|| typed.strip_prefix("cv"))
        .unwrap_or(typed);
    Code::ALL
        .iter()
        .copied()
        .find(|c| c.as_str().get(2..) == Some(digits))
}

pub fn run(args: &Args) -> Outcome {
    let code = parse_code(args.code.trim()).ok_or_else(|| {
        Failure(format!(
            "`{}` is not a finding code; codes look like CV0201 (docs/FINDINGS.md lists them)",
            args.code
        ))
    })?;
    let e = explanation(code).ok_or_else(|| {
        Failure(format!(
            "{} has no entry in this build's docs/FINDINGS.md",
            code.as_str()
        ))
    })?;
    match args.format {
        Format::Human => {
            say!("{} ({}): {}", e.code, e.severity, e.title);
            say!("");
            say!("{}", e.explanation);
        }
        Format::Json => {
            let doc = serde_json::json!({
                "version": crate::report::REPORT_VERSION,
                "tool": crate::report::Tool::current(),
                "command": "explain",
                "code": e.code,
                "severity": e.severity,
                "title": e.title,
                "explanation": e.explanation,
            });
            if !crate::settings::get().quiet {
                // JSON escapes every control character itself.
                crate::settings::line_to_stdout(
                    &serde_json::to_string_pretty(&doc).unwrap_or_default(),
                );
            }
        }
        Format::Sarif => {
            return Err(Failure(
                "explain reports no findings to put in SARIF; use --format human or json".into(),
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/FINDINGS.md is the one source of the explanations: every code the library reports
    /// has its row there, with the library's own severity and title.
    #[test]
    fn every_code_has_its_explanation() {
        for &code in Code::ALL {
            let e = explanation(code).unwrap_or_else(|| panic!("{} has no row", code.as_str()));
            assert_eq!(e.severity, code.severity().name(), "{}", code.as_str());
            assert_eq!(e.title, code.title(), "{}", code.as_str());
            assert!(
                e.explanation.len() > 20,
                "{}: {:?}",
                code.as_str(),
                e.explanation
            );
        }
    }

    #[test]
    fn codes_are_read_as_people_type_them() {
        for typed in ["CV0201", "cv0201", "0201"] {
            assert_eq!(parse_code(typed).map(Code::as_str), Some("CV0201"));
        }
        for typed in ["CV9999", "", "CV", "201", "CV0201x"] {
            assert_eq!(parse_code(typed), None, "{typed:?}");
        }
    }
}
