//! `chanval test`: content against events, to see which instances match and why the others do
//! not — rules tried without writing an agent.

use crate::settings::say;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chanval::{Interpreter, Scratch, Shown, Validator, parse};
use chanval_events::{LineError, Lines};
use serde::Serialize;

use super::Outcome;
use crate::Format;
use crate::files::{Failure, MAX_BINARY, content_in, load_schema, read, read_capped};
use crate::report::{REPORT_VERSION, Tool};

/// Evaluate content against events (JSON Lines: template type and inputs by field name, an
/// optional profile) and print, for each event, the instances that match and why each other
/// instance of its template type does not. Exit 0 when every line was an event, 1 when one was
/// not, 2 when the content does not pass the gate.
#[derive(clap::Args)]
pub struct Args {
    /// The schema (TOML).
    /// Default: the `schema` of chanval.toml.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// The profile to evaluate events under that name none (default: the content's first
    /// target).
    #[arg(long)]
    profile: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The content: a source (TOML) or a channel file.
    content: PathBuf,
    /// The events (JSON Lines), or `-` for standard input.
    events: PathBuf,
}

#[derive(Serialize)]
struct Miss {
    id: u32,
    field_index: u16,
    field: Option<String>,
    criterion: String,
}

#[derive(Serialize)]
struct EventOut {
    line: u64,
    profile: Option<String>,
    template_type: Option<String>,
    matches: Vec<u32>,
    misses: Vec<Miss>,
    error: Option<String>,
}

#[derive(Serialize)]
struct TestReport {
    version: u32,
    tool: Tool,
    command: &'static str,
    events: Vec<EventOut>,
}

pub fn run(args: &Args) -> Outcome {
    if args.format == Format::Sarif {
        return Err(Failure(
            "test reports matches, not findings; use --format human or json".into(),
        ));
    }
    let doc = load_schema(&crate::settings::schema_path(args.schema.as_deref())?)?;
    let content = read(&args.content)?;
    doc.with_schema(|schema| {
        let content = content_in(&args.content, content, schema)?;
        let bytes = chanval::channel_file_bytes(&content.bytes).to_vec();
        let file = parse(&bytes).map_err(|e| {
            Failure(format!(
                "`{}` is not a well-formed channel file: {} {e}",
                args.content.display(),
                e.code()
            ))
        })?;
        let mut findings = Vec::new();
        // The gate and its programs: the events below run through the programs agents run.
        // Neither the source's rule tests nor warnings stop it: this is where one finds out
        // why a rule test fails.
        let judgement = chanval::gated::judge(
            &Validator::new(schema),
            &file,
            &[],
            &chanval::Policy::new(),
            &mut findings,
        );
        let gated = judgement.gated.ok_or_else(|| {
            let first = findings
                .first()
                .map_or(String::new(), |f| format!(" (first: {f})"));
            Failure(format!(
                "`{}` does not pass the gate{first}; run `chanval validate` for every finding",
                args.content.display()
            ))
        })?;
        let validated = gated.validated();
        let default_profile = args
            .profile
            .clone()
            .or_else(|| file.targets().iter().next().map(|(n, _)| n.to_string()));
        let events_file = events_reader(&args.events)?;
        let mut eval_scratch = Scratch::new();
        let mut out = Vec::new();
        let mut bad_lines = 0usize;
        for (line, raw) in Lines::new(events_file) {
            let mut e = EventOut {
                line,
                profile: None,
                template_type: None,
                matches: Vec::new(),
                misses: Vec::new(),
                error: None,
            };
            let result = raw.and_then(|raw| {
                let name = raw
                    .profile_or(default_profile.as_deref())
                    .ok_or(LineError::NoProfile)?
                    .to_string();
                e.profile = Some(name.clone());
                let (_, profile) = schema.profile(&name).ok_or_else(|| {
                    LineError::Resolve(chanval::event::EventError::UnknownProfile(name.clone()))
                })?;
                let event = raw.resolve(schema, profile)?;
                e.template_type = schema
                    .template_type(event.template_type)
                    .map(|(_, t)| t.name.to_string());
                if !file.targets().contains(&name) {
                    return Err(LineError::Malformed(format!(
                        "the content does not target profile `{name}`: agents of it refuse the file"
                    )));
                }
                let program = gated.program(&name).ok_or_else(|| {
                    LineError::Malformed(format!(
                        "the content was not validated for profile `{name}`"
                    ))
                })?;
                let values = event.values();
                program
                    .evaluate(&mut eval_scratch, event.template_type, &values, |id| {
                        e.matches.push(id);
                    })
                    .map_err(|err| LineError::Malformed(err.to_string()))?;
                let t = schema.template_type(event.template_type).map(|(_, t)| t);
                if let Ok(interpreter) = Interpreter::new(validated, &name) {
                    let _ = interpreter.explain(event.template_type, &values, |id, miss| {
                        if let Some(c) = miss {
                            e.misses.push(Miss {
                                id,
                                field_index: c.field,
                                field: t
                                    .and_then(|t| t.fields.get(usize::from(c.field)))
                                    .map(|f| f.name.to_string()),
                                criterion: c.criterion.to_string(),
                            });
                        }
                    });
                }
                Ok(())
            });
            if let Err(err) = result {
                bad_lines += 1;
                e.error = Some(err.to_string());
            }
            out.push(e);
        }
        let events_name = args.events.display().to_string();
        match args.format {
            Format::Json => {
                let report = TestReport {
                    version: REPORT_VERSION,
                    tool: Tool::current(),
                    command: "test",
                    events: out,
                };
                // JSON escapes every control character itself.
                if !crate::settings::get().quiet {
                    crate::settings::line_to_stdout(
                        &serde_json::to_string_pretty(&report).unwrap_or_default(),
                    );
                }
            }
            _ => {
                for line in human(&events_name, &out).lines() {
                    say!("{line}");
                }
            }
        }
        Ok(if bad_lines > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    })
}

/// The events file (or standard input), read line by line: at most [`MAX_BINARY`] bytes of a
/// regular file are ever read.
fn events_reader(path: &Path) -> Result<BufReader<std::io::Cursor<Vec<u8>>>, Failure> {
    let bytes = read_capped(path, MAX_BINARY)?;
    Ok(BufReader::new(std::io::Cursor::new(bytes)))
}

fn human(events: &str, out: &[EventOut]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    for e in out {
        let _ = write!(s, "{}:{}: ", Shown(events), e.line);
        if let Some(err) = &e.error {
            let _ = writeln!(s, "not evaluated: {}", Shown(err));
            continue;
        }
        let _ = writeln!(
            s,
            "`{}` under `{}`: {}",
            Shown(e.template_type.as_deref().unwrap_or("?")),
            Shown(e.profile.as_deref().unwrap_or("?")),
            if e.matches.is_empty() {
                "no instance matches".to_string()
            } else {
                format!(
                    "matches {}",
                    e.matches
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        for m in &e.misses {
            let _ = writeln!(
                s,
                "  {} does not: field {} {}rejects the value ({})",
                m.id,
                u32::from(m.field_index) + 1,
                m.field
                    .as_deref()
                    .map_or(String::new(), |f| format!("`{}` ", Shown(f))),
                Shown(&m.criterion)
            );
        }
    }
    s
}
