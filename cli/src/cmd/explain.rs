//! `chanval explain CODE`: what a finding code means and what to do about it, as `rustc
//! --explain` does. The text is docs/FINDINGS.md's own row, embedded when chanval is built
//! (`crate::findings`), so the command and the documentation cannot say different things.

use std::process::ExitCode;

use chanval::Code;

use super::Outcome;
use crate::Format;
use crate::files::Failure;
use crate::settings::say;

/// Show what a finding code (`CV0201`) means and how to fix what it reports.
#[derive(clap::Args)]
pub struct Args {
    /// The code, as reports print it (`CV0201`; `cv0201` and `0201` work too).
    code: String,
    /// Output format (`sarif` is not available here).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
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
    let e = crate::findings::documented(code).ok_or_else(|| {
        Failure(format!(
            "{} has no entry in this build's docs/FINDINGS.md",
            code.as_str()
        ))
    })?;
    match args.format {
        Format::Human => {
            say!("{} ({}): {}", code.as_str(), e.severity, e.title);
            say!("");
            say!("{}", e.meaning);
        }
        Format::Json => {
            let doc = serde_json::json!({
                "version": crate::report::REPORT_VERSION,
                "tool": crate::report::Tool::current(),
                "command": "explain",
                "code": code.as_str(),
                "severity": e.severity,
                "title": e.title,
                "explanation": e.meaning,
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
