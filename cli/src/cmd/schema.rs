//! `chanval schema check`: the schema on its own, and each template type's declared fields
//! against what each profile supplies — the build-time check the incident lacked.

use std::path::Path;

use chanval::check_schema;

use super::Outcome;
use crate::Format;
use crate::files::load_schema;
use crate::report::{FileReport, Report};

pub fn check(path: &Path, deny_warnings: bool, format: Format) -> Outcome {
    let doc = load_schema(path)?;
    Ok(doc.with_schema(|schema| {
        let mut findings = Vec::new();
        let summary = check_schema(schema, &mut findings);
        let file = FileReport::new(
            path.display().to_string(),
            &findings,
            summary.truncated,
            deny_warnings,
        );
        Report::new("schema check", vec![file]).emit(format)
    }))
}

pub fn codegen(lang: crate::Lang, path: &Path, output: Option<&Path>) -> Outcome {
    let doc = load_schema(path)?;
    let code = doc.with_schema(|schema| match lang {
        crate::Lang::Rust => chanval::codegen::rust(schema),
        crate::Lang::C => chanval::codegen::c(schema),
    });
    match output {
        Some(out) => crate::files::write_atomically(out, code.as_bytes())?,
        None => {
            use std::io::Write;
            let _ = std::io::stdout().lock().write_all(code.as_bytes());
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
