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
use crate::files::{Failure, content_in, load_schema, read};
use crate::report::{REPORT_VERSION, Tool};

/// Evaluate content against events (JSON Lines: template type and inputs by field name, an
/// optional profile) and print, for each event, the instances that match (and, with --why, why
/// an instance does not); then each instance's match count. Streams: memory stays one event's,
/// whatever the numbers of events and rules. Exit 0 when every line was an event, 1 when one was
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
    /// Say why this instance does not match an event (repeatable; `all`: every instance of the
    /// event's template type).
    #[arg(long, value_name = "ID")]
    why: Vec<String>,
    /// Only the summary: each instance's match count and the lines that were not events; no
    /// line per event.
    #[arg(long)]
    summary: bool,
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

/// Which instances' misses to explain.
enum Why {
    None,
    All,
    Ids(Vec<u32>),
}

impl Why {
    fn parse(given: &[String]) -> Result<Self, Failure> {
        if given.iter().any(|w| w == "all") {
            return Ok(Self::All);
        }
        if given.is_empty() {
            return Ok(Self::None);
        }
        given
            .iter()
            .map(|w| {
                w.parse::<u32>()
                    .map_err(|_| Failure(format!("--why `{w}`: an instance id, or `all`")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self::Ids)
    }

    fn wants(&self, id: u32) -> bool {
        match self {
            Self::None => false,
            Self::All => true,
            Self::Ids(ids) => ids.contains(&id),
        }
    }
}

/// One instance's total over the events.
#[derive(Serialize)]
struct CountOut<'r> {
    id: u32,
    matches: u64,
    /// The rule's title, when its source gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'r str>,
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
        let no_rules = std::collections::BTreeMap::new();
        let rules = content.source.as_ref().map_or(&no_rules, |(s, _)| &s.rules);
        let title = |id: u32| rules.get(&id).and_then(|r| r.title.as_deref());
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
        let why = Why::parse(&args.why)?;
        let events_file = events_reader(&args.events)?;
        let events_name = args.events.display().to_string();
        let quiet = crate::settings::get().quiet;
        let json = args.format == Format::Json;
        // Per instance of the file, in file order: how many events it matched.
        let mut counts: Vec<(u32, u64)> = file.instances().map(|i| (i.id, 0)).collect();
        let mut eval_scratch = Scratch::new();
        let (mut events, mut bad_lines, mut printed) = (0u64, 0u64, 0u64);
        // JSON is one document, written as it goes: the events array is streamed.
        if json && !quiet {
            crate::settings::line_to_stdout(&format_args!(
                "{{\"version\": {REPORT_VERSION}, \"tool\": {}, \"command\": \"test\", \"events\": [",
                serde_json::to_string(&Tool::current()).unwrap_or_default()
            ));
        }
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
                if matches!(why, Why::None) {
                    return Ok(());
                }
                let t = schema.template_type(event.template_type).map(|(_, t)| t);
                if let Ok(interpreter) = Interpreter::new(validated, &name) {
                    let _ = interpreter.explain(event.template_type, &values, |id, miss| {
                        if let Some(c) = miss
                            && why.wants(id)
                        {
                            e.misses.push(Miss {
                                id,
                                field_index: c.field,
                                field: t
                                    .and_then(|t| t.fields.get(usize::from(c.field)))
                                    .map(|f| f.name.to_string()),
                                criterion: chanval::source::criterion_toml(&c.criterion)
                                    .unwrap_or_else(|| c.criterion.to_string()),
                            });
                        }
                    });
                }
                Ok(())
            });
            if let Err(err) = result {
                bad_lines += 1;
                e.error = Some(err.to_string());
            } else {
                events += 1;
            }
            for id in &e.matches {
                // Ids are in file order, as `counts` is.
                if let Ok(at) = counts.binary_search_by_key(id, |(i, _)| *i)
                    && let Some((_, n)) = counts.get_mut(at)
                {
                    *n += 1;
                }
            }
            if quiet || (args.summary && e.error.is_none()) {
                continue;
            }
            printed += 1;
            if json {
                let comma = if printed > 1 { "," } else { "" };
                crate::settings::line_to_stdout(&format_args!(
                    "{comma}{}",
                    serde_json::to_string(&e).unwrap_or_default()
                ));
            } else {
                for text in human(&events_name, &e).lines() {
                    say!("{text}");
                }
            }
        }
        if !quiet {
            let counted: Vec<CountOut> = counts
                .iter()
                .map(|&(id, matches)| CountOut {
                    id,
                    matches,
                    title: title(id),
                })
                .collect();
            if json {
                crate::settings::line_to_stdout(&format_args!(
                    "], \"counts\": {}, \"evaluated\": {events}, \"not_events\": {bad_lines}}}",
                    serde_json::to_string(&counted).unwrap_or_default()
                ));
            } else {
                say!(
                    "{}: {events} event(s) evaluated, {bad_lines} line(s) not events",
                    Shown(&events_name)
                );
                for c in counted.iter().filter(|c| c.matches > 0) {
                    let about = c
                        .title
                        .map_or(String::new(), |t| format!(": {}", Shown(t)));
                    say!("  instance {} matched {} event(s){about}", c.id, c.matches);
                }
                let silent = counted.iter().filter(|c| c.matches == 0).count();
                if silent > 0 {
                    say!("  {silent} instance(s) matched no event");
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

/// The events file (or standard input), read line by line as it is evaluated: memory holds
/// one line (at most `chanval_events::MAX_LINE` bytes), however long the file.
fn events_reader(path: &Path) -> Result<Box<dyn std::io::BufRead>, Failure> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufReader::new(std::io::stdin())));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| Failure(format!("cannot read `{}`: {e}", path.display())))?;
    Ok(Box::new(BufReader::new(file)))
}

fn human(events: &str, e: &EventOut) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = write!(s, "{}:{}: ", Shown(events), e.line);
    if let Some(err) = &e.error {
        let _ = writeln!(s, "not evaluated: {}", Shown(err));
        return s;
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
    s
}
