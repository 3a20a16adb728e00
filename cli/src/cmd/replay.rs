//! `chanval replay`: recorded telemetry through new content (and the content running now),
//! before it ships — what each instance matches, on how many hosts, what changes, what is
//! slow — with the replay gate's thresholds. The work is `chanval_replay`'s; here: flags, files,
//! progress and rendering.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use chanval::{Schema, Shown};
use chanval_replay::{
    At, Comparison, Content, ContentError, Input, Options, ReplayError, Replayed, Tally,
    Thresholds, compare, judge, replay,
};
use serde::Serialize;
use serde_json::json;

use super::Outcome;
use crate::Format;
use crate::files::{ContentIn, Failure, content_in, load_schema, read};
use crate::report::{FileReport, Judging, Report};
use crate::settings::{GateArgs, RateToml, tell};

/// Replay recorded events (JSON Lines, or Parquet) through new content and, with --baseline,
/// through the content running now: matches, match rate and distinct hosts per instance, what
/// newly matches or stops matching, the change in alert volume, the slowest instances; and the
/// replay gate (--max-match-rate, --max-alert-increase). Exit 0 ship, 1 reject, 2 could not run.
#[derive(clap::Args)]
pub struct Args {
    /// The schema (TOML).
    /// Default: the `schema` of chanval.toml.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// The new content: a channel file (signed or not) or a content source (TOML).
    #[arg(long)]
    content: PathBuf,
    /// The content running now, to compare with.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// The profile of events that name none.
    #[arg(long)]
    profile: Option<String>,
    /// Fail when an instance matches more than this share of the replayed events of its
    /// template type: `1%` or `0.01` (default: `[replay] max_match_rate` in chanval.toml, else
    /// no limit).
    #[arg(long, value_name = "RATE")]
    max_match_rate: Option<String>,
    /// Fail when the new content raises more alerts than the baseline by more than this:
    /// `50%` or `0.5` (needs --baseline).
    #[arg(long, value_name = "RATE")]
    max_alert_increase: Option<String>,
    /// An instance id meant to be broad: no match-rate limit for it (repeatable).
    #[arg(long, value_name = "ID")]
    allow_broad: Vec<u32>,
    /// Stop at the first line or row that is not an event (exit 2) instead of counting it.
    #[arg(long)]
    strict: bool,
    /// Worker threads (default: every core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// A Parquet row group whose columns replay reads decompress to more than this many MiB is
    /// refused and reported (docs/REPLAY.md, "Memory": replay's memory bound grows with it).
    #[arg(long, value_name = "MIB", default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..=65536))]
    max_row_group_mib: u64,
    /// Fail when an instance raises more alerts than this in one hour of the events' `time`
    /// (after --dedup, when given): a noisy rule (CV0705).
    #[arg(long, value_name = "N")]
    max_alerts_per_hour: Option<u64>,
    /// Count an alert once per host, instance and window of this length as well (`1h`, `15min`,
    /// `1d`), as alert pipelines deduplicate; --max-alerts-per-hour then judges those.
    #[arg(long, value_name = "WINDOW")]
    dedup: Option<String>,
    /// Expected matches per instance (TOML: `[[rule]] id = N, matches = N` or `min`/`max`);
    /// an instance outside its range fails (CV0706).
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    /// Events of known-good activity (JSON Lines or Parquet, repeatable): any instance that
    /// matches one fails (CV0707).
    #[arg(long, value_name = "EVENTS")]
    benign: Vec<PathBuf>,
    /// Write each instance's alerts per hour as an SVG chart to this file.
    #[arg(long, value_name = "FILE")]
    alerts_svg: Option<PathBuf>,
    /// Instances listed in each table of the human report.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    gate: GateArgs,
    /// The events: JSON Lines files (`-` for standard input) and Parquet files (`.parquet`).
    #[arg(required = true)]
    events: Vec<PathBuf>,
}

/// A rate as written: `1%`, `0.5 %` or `0.01`.
fn rate(text: &str, what: &str) -> Result<u64, Failure> {
    let t = text.trim();
    let (number, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 1e4),
        None => (t, 1e6),
    };
    let value: f64 = number.parse().map_err(|_| {
        Failure(format!(
            "{what}: `{}` is not a rate; write a percentage (`1%`) or a fraction (`0.01`)",
            Shown(text)
        ))
    })?;
    if !(value.is_finite() && value >= 0.0) {
        return Err(Failure(format!(
            "{what}: `{}` is not a rate of 0 or more",
            Shown(text)
        )));
    }
    Ok((value * scale).round().min(u64::MAX as f64) as u64)
}

fn config_rate(r: Option<&RateToml>, what: &str) -> Result<Option<u64>, Failure> {
    match r {
        None => Ok(None),
        Some(RateToml::Text(t)) => rate(t, what).map(Some),
        Some(RateToml::Fraction(f)) => rate(&f.to_string(), what).map(Some),
    }
}

fn thresholds(args: &Args) -> Result<Thresholds, Failure> {
    let config = crate::settings::get().replay();
    let from = "chanval.toml [replay]";
    // The file's exemptions go with the file's threshold: a rate given on the command line is
    // loosened only by instances the command line exempts too.
    let mut allow_broad = if args.max_match_rate.is_some() {
        Vec::new()
    } else {
        config.allow_broad.clone()
    };
    allow_broad.extend(&args.allow_broad);
    Ok(Thresholds {
        max_match_rate_ppm: match &args.max_match_rate {
            Some(r) => Some(rate(r, "--max-match-rate")?),
            None => config_rate(
                config.max_match_rate.as_ref(),
                &format!("{from} max_match_rate"),
            )?,
        },
        max_alert_increase_ppm: match &args.max_alert_increase {
            Some(r) => Some(rate(r, "--max-alert-increase")?),
            None => config_rate(
                config.max_alert_increase.as_ref(),
                &format!("{from} max_alert_increase"),
            )?,
        },
        allow_broad,
        max_alerts_per_hour: args.max_alerts_per_hour,
        expected: match &args.expect {
            Some(path) => expectations(path)?,
            None => Vec::new(),
        },
    })
}

/// An expectations file (`--expect`): `[[rule]]` tables of `id` and `matches`, or `min` and
/// `max`, as SigmaHQ keeps expected match counts beside its rules.
fn expectations(path: &Path) -> Result<Vec<(u32, u64, u64)>, Failure> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        rule: Vec<Rule>,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Rule {
        id: u32,
        matches: Option<u64>,
        min: Option<u64>,
        max: Option<u64>,
    }
    let text = crate::files::read_text(path, "expectations")?;
    let file: File = toml::from_str(&text).map_err(|e| {
        Failure(format!(
            "expectations `{}`: {}",
            path.display(),
            e.message().trim_end()
        ))
    })?;
    let mut out: Vec<(u32, u64, u64)> = Vec::with_capacity(file.rule.len());
    for r in file.rule {
        let (min, max) = match (r.matches, r.min, r.max) {
            (Some(n), None, None) => (n, n),
            (None, min, max) if min.is_some() || max.is_some() => {
                (min.unwrap_or(0), max.unwrap_or(u64::MAX))
            }
            _ => {
                return Err(Failure(format!(
                    "expectations `{}`: rule {} gives `matches`, or `min` and/or `max`",
                    path.display(),
                    r.id
                )));
            }
        };
        if min > max {
            return Err(Failure(format!(
                "expectations `{}`: rule {}: `min` {min} is above `max` {max}",
                path.display(),
                r.id
            )));
        }
        if out.iter().any(|(id, ..)| *id == r.id) {
            return Err(Failure(format!(
                "expectations `{}`: rule {} is given twice",
                path.display(),
                r.id
            )));
        }
        out.push((r.id, min, max));
    }
    Ok(out)
}

/// The bytes of a channel file, building a source in memory when given one.
fn content_bytes(path: &Path, schema: &Schema<'_>) -> Result<Vec<u8>, Failure> {
    Ok(content_in(path, read(path)?, schema)?.bytes)
}

fn open_inputs(paths: &[PathBuf]) -> Result<Vec<Input>, Failure> {
    if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(Failure("`-` (standard input) can be given once".into()));
    }
    paths
        .iter()
        .map(|p| {
            let name = p.display().to_string();
            if p.as_os_str() == "-" {
                return Ok(Input::JsonLines {
                    name: "-".into(),
                    reader: Box::new(std::io::BufReader::new(std::io::stdin())),
                });
            }
            let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Failure(format!("`{name}` does not exist")),
                _ => Failure(format!("cannot read `{name}`: {e}")),
            })?;
            // Regular files only: a FIFO or a device could block or never end.
            if !meta.is_file() {
                return Err(Failure(format!(
                    "`{name}` is not a regular file (give `-` for standard input)"
                )));
            }
            let file = std::fs::File::open(p)
                .map_err(|e| Failure(format!("cannot open `{name}`: {e}")))?;
            if p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
            {
                Ok(Input::Parquet { name, file })
            } else {
                Ok(Input::JsonLines {
                    name,
                    reader: Box::new(std::io::BufReader::with_capacity(1 << 16, file)),
                })
            }
        })
        .collect()
}

pub fn run(args: &Args) -> Outcome {
    let policy = crate::settings::get().policy(&args.gate)?;
    let thresholds = thresholds(args)?;
    if thresholds.max_alert_increase_ppm.is_some() && args.baseline.is_none() {
        return Err(Failure(
            "--max-alert-increase compares with the content running now: give it as --baseline"
                .into(),
        ));
    }
    let doc = load_schema(&crate::settings::schema_path(args.schema.as_deref())?)?;
    doc.with_schema(|schema| {
        // `Content` borrows the schema for as long as it lives; this one lives for the run.
        let schema: &Schema<'_> = schema;
        let default_profile = match &args.profile {
            Some(name) => Some(schema.profile(name).map(|(i, _)| i).ok_or_else(|| {
                Failure(format!(
                    "the schema has no profile `{}`; it declares {}",
                    Shown(name),
                    schema
                        .profiles
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?),
            None => None,
        };
        let new_content = content_in(&args.content, read(&args.content)?, schema)?;
        let new_bytes = new_content.bytes.as_slice();
        let old_bytes = args
            .baseline
            .as_deref()
            .map(|p| content_bytes(p, schema))
            .transpose()?;
        let content_path = args.content.display().to_string();
        let new = match Content::compile_judged(schema, new_bytes, &policy) {
            Ok(c) => c,
            Err(e) => {
                return Ok(not_replayable(
                    args,
                    &content_path,
                    &new_content,
                    e,
                    &policy,
                ));
            }
        };
        let old = match (&old_bytes, &args.baseline) {
            (Some(bytes), Some(path)) => Some(Content::compile(schema, bytes).map_err(|e| {
                Failure(format!(
                    "the baseline `{}` cannot be replayed: {}",
                    path.display(),
                    match e {
                        ContentError::Malformed(e) => format!("{} {e}", e.code()),
                        ContentError::Rejected { findings, .. } => format!(
                            "it does not pass the gate ({} finding(s); run `chanval validate`)",
                            findings.len()
                        ),
                    }
                ))
            })?),
            _ => None,
        };
        let inputs = open_inputs(&args.events)?;
        let jobs = args.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            usize::from,
        );
        let options = Options {
            default_profile,
            jobs,
            strict: args.strict,
            time_instances: true,
            limits: chanval_replay::ReadLimits {
                max_row_group_bytes: args.max_row_group_mib << 20,
                ..chanval_replay::ReadLimits::default()
            },
            dedup_window: args
                .dedup
                .as_deref()
                .map(|w| super::clock::duration(w, "--dedup"))
                .transpose()?
                .filter(|w| *w > 0),
        };
        for &(id, ..) in &thresholds.expected {
            if new.position(id).is_none() {
                return Err(Failure(format!(
                    "--expect: instance {id} is not in `{content_path}`"
                )));
            }
        }
        let mut contents = vec![&new];
        if let Some(old) = &old {
            contents.push(old);
        }
        let progress = AtomicU64::new(0);
        let show_progress = args.format == Format::Human
            && !crate::settings::get().quiet
            && std::io::stderr().is_terminal();
        let done = std::sync::atomic::AtomicBool::new(false);
        let replayed = std::thread::scope(|scope| {
            if show_progress {
                let (progress, done) = (&progress, &done);
                scope.spawn(move || {
                    let bar = indicatif::ProgressBar::new_spinner();
                    bar.set_style(
                        indicatif::ProgressStyle::with_template(
                            "{spinner} replayed {human_pos} lines and rows ({per_sec}) {elapsed}",
                        )
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                    );
                    while !done.load(Ordering::Relaxed) {
                        bar.set_position(progress.load(Ordering::Relaxed));
                        std::thread::sleep(std::time::Duration::from_millis(100));
                    }
                    bar.finish_and_clear();
                });
            }
            let r = replay(&contents, inputs, &options, &progress);
            done.store(true, Ordering::Relaxed);
            r
        });
        let replayed = match replayed {
            Ok(r) => r,
            Err(ReplayError::Strict(p)) => {
                return Err(Failure(format!(
                    "--strict: {} is not an event: {}",
                    at(&args_inputs(args), p.at),
                    p.message
                )));
            }
        };
        let new_tally = replayed.tallies.first().cloned().unwrap_or_default();
        let old_tally = replayed.tallies.get(1);
        let mut findings = judge(
            &new,
            &new_tally,
            old_tally,
            (replayed.unreadable, replayed.read),
            &thresholds,
            options.dedup_window,
        );
        // The benign corpus: the new content alone, on events where any match is a false
        // positive.
        let mut benign_read = None;
        if !args.benign.is_empty() {
            let benign = replay(
                &[&new],
                open_inputs(&args.benign)?,
                &Options {
                    time_instances: false,
                    ..options.clone()
                },
                &AtomicU64::new(0),
            )
            .map_err(|ReplayError::Strict(p)| {
                Failure(format!(
                    "--strict: a benign event is not an event: {}",
                    p.message
                ))
            })?;
            if let Some(t) = benign.tallies.first() {
                findings.extend(chanval_replay::benign(&new, t));
                benign_read = Some((benign.read, t.matches.clone()));
            }
        }
        if let Some(path) = &args.alerts_svg {
            crate::files::write_atomically(
                path,
                alerts_svg(&new, &new_tally, args.top).as_bytes(),
            )?;
            crate::settings::note!("chanval: wrote alerts per hour to `{}`", path.display());
        }
        let comparison = match (&old, old_tally) {
            (Some(old), Some(t)) => Some(compare((&new, &new_tally), (old, t))),
            _ => None,
        };
        let file = match &new_content.source {
            Some((source, text)) => FileReport::of_source(
                content_path.clone(),
                &findings,
                Judging::By(&policy, false),
                source,
                text.clone(),
            ),
            None => FileReport::new(content_path.clone(), &findings, false, &policy)
                .with_bytes(chanval::channel_file_bytes(new_bytes).to_vec()),
        };
        let mut report = Report::new("replay", vec![file]);
        let view = View {
            schema,
            replayed: &replayed,
            new: (&new, &new_tally, &content_path),
            old: old.as_ref().zip(old_tally).map(|(c, t)| {
                (
                    c,
                    t,
                    args.baseline
                        .as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                )
            }),
            comparison: comparison.as_ref(),
            thresholds: &thresholds,
            names: args_inputs(args),
            dedup_window: options.dedup_window,
            benign: benign_read,
        };
        report.replay = Some(view.json());
        report.preface = Some(view.human(args.top));
        Ok(report.emit(args.format))
    })
}

/// The report when the new content cannot be replayed: the gate's findings, or the parse
/// error, as `validate` gives them (exit 1).
fn not_replayable(
    args: &Args,
    path: &str,
    content: &ContentIn,
    e: ContentError<'_>,
    policy: &crate::settings::Policy,
) -> ExitCode {
    let (findings, verdict) = match e {
        ContentError::Malformed(e) => (vec![chanval::Finding::structural(&e)], None),
        ContentError::Rejected { findings, verdict } => (findings, Some(verdict)),
    };
    // The gate's verdict, when it judged (a structural error is an error under any policy).
    let judging = verdict
        .as_ref()
        .map_or(Judging::By(policy, false), Judging::Gated);
    let file = match &content.source {
        Some((source, text)) => {
            FileReport::of_source(path.to_string(), &findings, judging, source, text.clone())
        }
        None => FileReport::located(path.to_string(), &findings, judging, |_| None)
            .with_bytes(chanval::channel_file_bytes(&content.bytes).to_vec()),
    };
    let code = Report::new("replay", vec![file]).emit(args.format);
    tell!("chanval: `{path}` does not pass the gate; nothing was replayed");
    code
}

fn args_inputs(args: &Args) -> Vec<String> {
    args.events
        .iter()
        .map(|p| p.display().to_string())
        .collect()
}

fn at(names: &[String], at: At) -> String {
    let name = |i: usize| names.get(i).map_or("?", String::as_str);
    match at {
        At::Line { input, line } => format!("{}:{line}", name(input)),
        At::Row {
            input,
            row_group,
            row,
        } => format!("{} row group {row_group} row {row}", name(input)),
    }
}

#[derive(Serialize)]
struct ProblemOut {
    input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    row_group: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    row: Option<u64>,
    message: String,
}

struct View<'v, 's> {
    schema: &'v Schema<'s>,
    replayed: &'v Replayed,
    new: (&'v Content<'s>, &'v Tally, &'v str),
    old: Option<(&'v Content<'s>, &'v Tally, String)>,
    comparison: Option<&'v Comparison>,
    thresholds: &'v Thresholds,
    names: Vec<String>,
    /// The deduplication window (`--dedup`), in seconds.
    dedup_window: Option<u64>,
    /// The benign corpus (`--benign`): lines and rows read, and each instance's matches.
    benign: Option<(u64, Vec<u64>)>,
}

/// Each instance's alerts per hour: (instance position, [(hour start, alerts)]), for the
/// instances with timed matches, busiest peak first.
fn hourly(tally: &Tally) -> Vec<(usize, Vec<(u64, u64)>)> {
    let mut by: Vec<(usize, Vec<(u64, u64)>)> = Vec::new();
    for (&(position, hour), &n) in &tally.hourly {
        match by.last_mut() {
            Some((p, hours)) if *p == position => hours.push((hour * chanval_replay::HOUR, n)),
            _ => by.push((position, vec![(hour * chanval_replay::HOUR, n)])),
        }
    }
    by.sort_by_key(|(p, hours)| {
        (
            std::cmp::Reverse(hours.iter().map(|h| h.1).max().unwrap_or(0)),
            *p,
        )
    });
    by
}

/// Alerts per hour as a line of block characters over `first..=last` hours, at most `width`
/// cells (an hour group's cell shows its busiest hour).
fn sparkline(hours: &[(u64, u64)], first: u64, last: u64, width: u64) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let span = (last - first) / chanval_replay::HOUR + 1;
    let per_cell = span.div_ceil(width).max(1);
    let cells = span.div_ceil(per_cell);
    let mut cell = vec![0u64; usize::try_from(cells).unwrap_or(0)];
    for &(start, n) in hours {
        let i = usize::try_from((start - first) / chanval_replay::HOUR / per_cell).unwrap_or(0);
        if let Some(c) = cell.get_mut(i) {
            *c = (*c).max(n);
        }
    }
    let top = cell.iter().copied().max().unwrap_or(0).max(1);
    cell.iter()
        .map(|&n| {
            if n == 0 {
                ' '
            } else {
                BARS[usize::try_from((n * 7).div_ceil(top)).unwrap_or(7).min(7)]
            }
        })
        .collect()
}

/// Each of the `top` busiest instances' alerts per hour as an SVG chart: one row per instance,
/// hours along the axis, a bar per hour scaled to the row's busiest hour.
fn alerts_svg(content: &Content<'_>, tally: &Tally, top: usize) -> String {
    let rows = hourly(tally);
    let rows = &rows[..rows.len().min(top.max(1))];
    let (first, last) = rows
        .iter()
        .flat_map(|(_, h)| h.iter().map(|x| x.0))
        .fold((u64::MAX, 0u64), |(a, b), t| (a.min(t), b.max(t)));
    let span = if rows.is_empty() {
        1
    } else {
        (last - first) / chanval_replay::HOUR + 1
    };
    let (width, row_h, left) = (960.0f64, 60.0f64, 220.0f64);
    let bar = (width - left - 20.0) / span as f64;
    let height = 40.0 + row_h * rows.len() as f64 + 30.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n\
         <text x=\"10\" y=\"20\" font-size=\"14\">Alerts per hour, {} to {}</text>\n",
        chanval::UnixTime(if rows.is_empty() { 0 } else { first }),
        chanval::UnixTime(last.saturating_add(chanval_replay::HOUR)),
    );
    for (row, (position, hours)) in rows.iter().enumerate() {
        let y0 = 40.0 + row_h * row as f64;
        let peak = hours.iter().map(|h| h.1).max().unwrap_or(1).max(1);
        let id = content.instances.get(*position).map_or(0, |i| i.id);
        svg.push_str(&format!(
            "<text x=\"10\" y=\"{:.1}\">instance {id} (peak {peak}/h)</text>\n",
            y0 + row_h / 2.0
        ));
        svg.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#999\"/>\n",
            y0 + row_h - 8.0,
            width - 20.0,
            y0 + row_h - 8.0
        ));
        for &(start, n) in hours {
            let x = left + bar * ((start - first) / chanval_replay::HOUR) as f64;
            let h = (row_h - 16.0) * n as f64 / peak as f64;
            svg.push_str(&format!(
                "<rect x=\"{x:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{h:.2}\" fill=\"#c0392b\"><title>{} {n}</title></rect>\n",
                y0 + row_h - 8.0 - h,
                bar.max(0.5),
                chanval::UnixTime(start)
            ));
        }
    }
    svg.push_str("</svg>\n");
    svg
}

fn rate_of(matches: u64, events: u64) -> f64 {
    if events == 0 {
        0.0
    } else {
        matches as f64 / events as f64
    }
}

impl View<'_, '_> {
    fn type_name(&self, id: u16) -> Option<String> {
        self.schema
            .template_type(id)
            .map(|(_, t)| t.name.to_string())
    }

    fn file_json(
        &self,
        content: &Content<'_>,
        tally: &Tally,
        path: &str,
        which: usize,
    ) -> serde_json::Value {
        let mean = self.replayed.mean_ns.get(which);
        let peaks = tally.peak_hour();
        let dedup = self.dedup_window.map(|w| tally.deduplicated(w).0);
        let instances: Vec<serde_json::Value> = content
            .instances
            .iter()
            .enumerate()
            .map(|(p, i)| {
                let matches = tally.matches.get(p).copied().unwrap_or(0);
                let events = tally.per_type.get(&i.template_type).map_or(0, |c| c.events);
                let (hosts, estimated) = tally.hosts.get(p).map_or((0, false), |d| d.count());
                let (peak_start, peak) = peaks.get(p).copied().unwrap_or((0, 0));
                json!({
                    "id": i.id,
                    "template_type_id": i.template_type,
                    "template_type": self.type_name(i.template_type),
                    "matches": matches,
                    "events": events,
                    "match_rate": rate_of(matches, events),
                    "hosts": hosts,
                    "hosts_estimated": estimated,
                    "mean_ns": mean.and_then(|m| m.get(p).copied().flatten()),
                    "peak_hour": (peak > 0).then(|| json!({"start": peak_start, "alerts": peak})),
                    "alerts_deduplicated": dedup.as_ref().and_then(|d| d.get(p)),
                })
            })
            .collect();
        let per_type: Vec<serde_json::Value> = tally
            .per_type
            .iter()
            .map(|(t, c)| {
                json!({
                    "template_type_id": t,
                    "template_type": self.type_name(*t),
                    "events": c.events,
                    "matches": c.matches,
                })
            })
            .collect();
        json!({
            "path": path,
            "channel_id": content.channel_id,
            "content_version": content.content_version,
            "targets": content.targets,
            "events": tally.events,
            "not_targeted": tally.not_targeted,
            "evaluation_errors": tally.error_count,
            "per_type": per_type,
            "instances": instances,
        })
    }

    fn json(&self) -> serde_json::Value {
        let r = self.replayed;
        let problems: Vec<ProblemOut> = r
            .problems
            .iter()
            .map(|p| {
                let (input, line, row_group, row) = match p.at {
                    At::Line { input, line } => (input, Some(line), None, None),
                    At::Row {
                        input,
                        row_group,
                        row,
                    } => (input, None, Some(row_group), Some(row)),
                };
                ProblemOut {
                    input: self.names.get(input).cloned().unwrap_or_default(),
                    line,
                    row_group,
                    row,
                    message: p.message.clone(),
                }
            })
            .collect();
        let change = |c: &chanval_replay::InstanceChange| {
            json!({
                "id": c.id,
                "template_type_id": c.template_type,
                "template_type": self.type_name(c.template_type),
                "old": c.old,
                "new": c.new,
            })
        };
        let comparison = self.comparison.map(|c| {
            json!({
                "old_total": c.old_total,
                "new_total": c.new_total,
                "newly_matching": c.newly_matching.iter().map(change).collect::<Vec<_>>(),
                "stopped_matching": c.stopped_matching.iter().map(change).collect::<Vec<_>>(),
                "per_type": c.per_type.iter().map(|t| json!({
                    "template_type_id": t.template_type,
                    "template_type": self.type_name(t.template_type),
                    "old_events": t.old.events,
                    "old_matches": t.old.matches,
                    "new_events": t.new.events,
                    "new_matches": t.new.matches,
                })).collect::<Vec<_>>(),
            })
        });
        json!({
            "inputs": self.names,
            "read": r.read,
            "unreadable": r.unreadable,
            "problems": problems,
            "ignored_columns": r.ignored_columns.iter().map(|(i, c)| json!({
                "input": self.names.get(*i),
                "column": c,
            })).collect::<Vec<_>>(),
            "thresholds": {
                "max_match_rate": self.thresholds.max_match_rate_ppm.map(|p| p as f64 / 1e6),
                "max_alert_increase": self.thresholds.max_alert_increase_ppm.map(|p| p as f64 / 1e6),
                "allow_broad": self.thresholds.allow_broad,
                "max_alerts_per_hour": self.thresholds.max_alerts_per_hour,
                "expected": self.thresholds.expected.iter().map(|(id, min, max)| json!({
                    "id": id, "min": min, "max": max,
                })).collect::<Vec<_>>(),
            },
            "content": self.file_json(self.new.0, self.new.1, self.new.2, 0),
            "alerts_over_time": {
                "bucket_seconds": chanval_replay::HOUR,
                "dedup_seconds": self.dedup_window,
                "untimed_matches": self.new.1.untimed,
                "dropped_matches": self.new.1.over_time_dropped,
                "instances": hourly(self.new.1).iter().map(|(p, hours)| json!({
                    "id": self.new.0.instances.get(*p).map(|i| i.id),
                    "hours": hours.iter().map(|(start, n)| json!([start, n])).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            },
            "benign": self.benign.as_ref().map(|(read, matches)| json!({
                "read": read,
                "matched": self.new.0.instances.iter().zip(matches).filter(|(_, m)| **m > 0)
                    .map(|(i, m)| json!({"id": i.id, "matches": m})).collect::<Vec<_>>(),
            })),
            "baseline": self.old.as_ref().map(|(c, t, p)| self.file_json(c, t, p, 1)),
            "comparison": comparison,
        })
    }

    fn human(&self, top: usize) -> String {
        let mut out = String::new();
        let r = self.replayed;
        let (content, tally, path) = self.new;
        let name = |t: u16| {
            self.type_name(t)
                .map_or_else(|| t.to_string(), |n| format!("`{}`", Shown(&n)))
        };
        let _ = writeln!(
            out,
            "replayed {} line(s) and row(s) from {} input(s) through `{}`: {} event(s) evaluated, {} of profiles it does not target, {} not events",
            r.read,
            self.names.len(),
            Shown(path),
            tally.events,
            tally.not_targeted,
            r.unreadable
        );
        for (t, c) in &tally.per_type {
            let _ = writeln!(
                out,
                "  {}: {} events, {} alerts",
                name(*t),
                c.events,
                c.matches
            );
        }
        let mut ranked: Vec<usize> = (0..content.instances.len()).collect();
        ranked.sort_by_key(|&p| std::cmp::Reverse(tally.matches.get(p).copied().unwrap_or(0)));
        let _ = writeln!(out, "\nmost matches (`{}`):", Shown(path));
        for &p in ranked.iter().take(top) {
            let (Some(i), Some(&m)) = (content.instances.get(p), tally.matches.get(p)) else {
                continue;
            };
            if m == 0 {
                break;
            }
            let events = tally.per_type.get(&i.template_type).map_or(0, |c| c.events);
            let (hosts, est) = tally.hosts.get(p).map_or((0, false), |d| d.count());
            let _ = writeln!(
                out,
                "  instance {:>6} ({}): {m} matches, {:.3} % of its events, {}{hosts} host(s)",
                i.id,
                name(i.template_type),
                rate_of(m, events) * 100.0,
                if est { "~" } else { "" },
            );
        }
        if tally.matches.iter().all(|&m| m == 0) {
            let _ = writeln!(out, "  no instance matched");
        }
        if let Some(mean) = r.mean_ns.first() {
            let mut slow: Vec<(usize, f64)> = mean
                .iter()
                .enumerate()
                .filter_map(|(p, m)| m.map(|m| (p, m)))
                .collect();
            slow.sort_by(|a, b| b.1.total_cmp(&a.1));
            if !slow.is_empty() {
                let _ = writeln!(
                    out,
                    "\nslowest instances (mean time on sampled events of their type):"
                );
                for (p, ns) in slow.iter().take(top) {
                    if let Some(i) = content.instances.get(*p) {
                        let _ = writeln!(
                            out,
                            "  instance {:>6} ({}): {ns:.0} ns per event",
                            i.id,
                            name(i.template_type)
                        );
                    }
                }
            }
        }
        // Alerts over time: the busiest instances' alerts per hour, as a line of bars.
        let rows = hourly(tally);
        if !rows.is_empty() {
            let (first, last) = rows
                .iter()
                .flat_map(|(_, h)| h.iter().map(|x| x.0))
                .fold((u64::MAX, 0u64), |(a, b), t| (a.min(t), b.max(t)));
            let _ = writeln!(
                out,
                "\nalerts per hour, {} to {} (busiest first):",
                chanval::UnixTime(first),
                chanval::UnixTime(last.saturating_add(chanval_replay::HOUR))
            );
            let dedup = self.dedup_window.map(|w| tally.deduplicated(w));
            for (p, hours) in rows.iter().take(top) {
                let Some(i) = content.instances.get(*p) else {
                    continue;
                };
                let (start, peak) = hours
                    .iter()
                    .copied()
                    .max_by_key(|h| (h.1, std::cmp::Reverse(h.0)))
                    .unwrap_or((0, 0));
                let deduplicated = dedup.as_ref().map_or(String::new(), |(alerts, peaks)| {
                    format!(
                        "; {} deduplicated, peak {}/h",
                        alerts.get(*p).copied().unwrap_or(0),
                        peaks.get(*p).map_or(0, |x| x.1)
                    )
                });
                let _ = writeln!(
                    out,
                    "  instance {:>6} |{}| peak {peak}/h at {}{deduplicated}",
                    i.id,
                    sparkline(hours, first, last, 48),
                    chanval::UnixTime(start)
                );
            }
            if tally.untimed > 0 {
                let _ = writeln!(
                    out,
                    "  ({} match(es) of events without a `time` are not shown)",
                    tally.untimed
                );
            }
        }
        if let Some((read, matches)) = &self.benign {
            let matched = matches.iter().filter(|m| **m > 0).count();
            let _ = writeln!(
                out,
                "\nbenign corpus: {read} line(s) and row(s), {matched} instance(s) matched one"
            );
        }
        if let (Some(c), Some((_, _, old_path))) = (self.comparison, &self.old) {
            let change = if c.old_total == 0 {
                if c.new_total == 0 {
                    "no change".to_string()
                } else {
                    "from none".to_string()
                }
            } else {
                format!(
                    "{:+.1} %",
                    (c.new_total as f64 - c.old_total as f64) * 100.0 / c.old_total as f64
                )
            };
            let _ = writeln!(
                out,
                "\nagainst the baseline `{}`: {} alerts -> {} ({change})",
                Shown(old_path),
                c.old_total,
                c.new_total
            );
            for t in &c.per_type {
                let _ = writeln!(
                    out,
                    "  {}: {} -> {} alerts",
                    name(t.template_type),
                    t.old.matches,
                    t.new.matches
                );
            }
            let list = |out: &mut String, title: &str, items: &[chanval_replay::InstanceChange]| {
                if items.is_empty() {
                    return;
                }
                let _ = writeln!(out, "  {title} ({}):", items.len());
                for i in items.iter().take(top) {
                    let show = |v: Option<u64>| v.map_or("absent".to_string(), |n| n.to_string());
                    let _ = writeln!(
                        out,
                        "    instance {:>6} ({}): {} -> {}",
                        i.id,
                        name(i.template_type),
                        show(i.old),
                        show(i.new)
                    );
                }
                if items.len() > top {
                    let _ = writeln!(out, "    … and {} more", items.len() - top);
                }
            };
            list(&mut out, "newly matching", &c.newly_matching);
            list(&mut out, "no longer matching", &c.stopped_matching);
        }
        if !r.problems.is_empty() {
            let _ = writeln!(
                out,
                "\nnot events ({} in all; the first shown):",
                r.unreadable
            );
            for p in r.problems.iter().take(top) {
                let _ = writeln!(
                    out,
                    "  {}: {}",
                    Shown(&at(&self.names, p.at)),
                    Shown(&p.message)
                );
            }
        }
        for (i, c) in &r.ignored_columns {
            let _ = writeln!(
                out,
                "note: column `{}` of `{}` names no field; ignored",
                Shown(c),
                Shown(self.names.get(*i).map_or("?", String::as_str))
            );
        }
        out.push('\n');
        out
    }
}
