//! What every command shares: colour, `--quiet`, and the project's configuration file
//! (`chanval.toml`), which holds the defaults of the gate's policy — warnings allowed or denied
//! by code — so a team writes them once and every run (CI, pre-commit, a person) judges alike.
//!
//! Precedence: the command line, then the configuration file, then the built-in defaults. No
//! setting of the file loosens a threshold the command line gives: a warning the command line
//! denies is denied, and replay's `allow_broad` list applies only to the file's own
//! `max_match_rate`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chanval::Code;
use clap::ValueEnum;
use serde::Deserialize;

use crate::files::{Failure, read_text};

/// The configuration file's name, looked for in the current directory and its ancestors.
pub const CONFIG_FILE: &str = "chanval.toml";

/// When to colour human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorChoice {
    // auto: when the output is a terminal and NO_COLOR is not set. (No doc comments: clap
    // then lists the values on one line in every command's help.)
    #[default]
    Auto,
    Always,
    Never,
}

/// `chanval.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The schema commands use when `--schema` is not given, relative to this file.
    schema: Option<PathBuf>,
    /// The repository's content: patterns (relative to this file) `validate` judges when it is
    /// given no files.
    #[serde(default)]
    content: Vec<String>,
    #[serde(default)]
    gate: GateConfig,
    #[serde(default)]
    output: OutputConfig,
    #[serde(default)]
    replay: ReplayConfig,
    #[serde(default)]
    engine: EngineConfig,
}

/// `[engine]`: what the gate's engine estimates are for.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EngineConfig {
    /// A file `chanval calibrate --out` wrote on the agents' hardware, relative to this file.
    calibration: Option<PathBuf>,
}

/// `[replay]`: the replay gate's defaults.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayConfig {
    /// The largest share of its template type's events one instance may match (`"1%"`, 0.01).
    pub max_match_rate: Option<RateToml>,
    /// The largest rise of the file's alerts over the baseline's (`"50%"`, 0.5).
    pub max_alert_increase: Option<RateToml>,
    /// Instances meant to be broad.
    #[serde(default)]
    pub allow_broad: Vec<u32>,
}

/// A rate as a number (a fraction) or a percentage text.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RateToml {
    /// `0.01`.
    Fraction(f64),
    /// `"1%"`.
    Text(String),
}

/// `[gate]`: the policy's defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GateConfig {
    /// Warning codes not reported.
    #[serde(default)]
    allow: Vec<String>,
    /// Warning codes that fail the gate like errors.
    #[serde(default)]
    deny: Vec<String>,
    /// Every warning fails the gate.
    #[serde(default)]
    deny_warnings: bool,
}

/// `[output]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputConfig {
    color: Option<ColorChoice>,
}

#[derive(Debug, Default)]
pub struct Settings {
    /// Colour on standard output / standard error.
    pub color_stdout: bool,
    pub color_stderr: bool,
    /// Nothing on standard output and no progress notes; errors still go to standard error.
    pub quiet: bool,
    config: Config,
    /// Where the configuration came from, for messages.
    config_path: Option<PathBuf>,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// The settings of this run (the defaults before [`init`]).
pub fn get() -> &'static Settings {
    SETTINGS.get_or_init(Settings::default)
}

/// Reads the configuration (`explicit`, else `chanval.toml` in the current directory or the
/// nearest ancestor that has one, unless `no_config`) and fixes the settings of this run.
pub fn init(
    color: Option<ColorChoice>,
    quiet: bool,
    explicit: Option<&Path>,
    no_config: bool,
) -> Result<(), Failure> {
    let config_path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None if no_config => None,
        None => find_config(),
    };
    let config = match &config_path {
        Some(path) => {
            let text = read_text(path, "configuration file")?;
            toml::from_str::<Config>(&text).map_err(|e| {
                Failure(format!(
                    "configuration file {}:{}: {}",
                    path.display(),
                    crate::files::toml_place(&text, &e),
                    e.message()
                ))
            })?
        }
        None => Config::default(),
    };
    let choice = color.or(config.output.color).unwrap_or_default();
    let settings = Settings {
        color_stdout: use_color(choice, std::io::stdout().is_terminal()),
        color_stderr: use_color(choice, std::io::stderr().is_terminal()),
        quiet,
        config,
        config_path,
    };
    // Checked now, so a bad code in the file stops every command, not only the gating ones.
    settings.policy(&GateArgs::default())?;
    let _ = SETTINGS.set(settings);
    Ok(())
}

/// The schema a command uses: `--schema` when given, else the configuration file's `schema`
/// (relative to the configuration file's directory).
///
/// # Errors
/// When neither names one.
pub fn schema_path(flag: Option<&Path>) -> Result<PathBuf, Failure> {
    if let Some(path) = flag {
        return Ok(path.to_path_buf());
    }
    let s = get();
    match (&s.config.schema, &s.config_path) {
        (Some(schema), Some(config)) => Ok(config
            .parent()
            .map_or_else(|| schema.clone(), |dir| dir.join(schema))),
        _ => Err(Failure(
            "no schema: give --schema, or set `schema = \"path\"` in chanval.toml".into(),
        )),
    }
}

/// The calibration the engine estimates use: `--calibration` when given, else the
/// configuration file's `[engine] calibration` (relative to the configuration file's
/// directory), else none (the benchmark machine's constants).
pub fn calibration_path(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = flag {
        return Some(path.to_path_buf());
    }
    let s = get();
    match (&s.config.engine.calibration, &s.config_path) {
        (Some(file), Some(config)) => Some(
            config
                .parent()
                .map_or_else(|| file.clone(), |dir| dir.join(file)),
        ),
        _ => None,
    }
}

/// The files `validate` judges when it is given none: the configuration's `content` patterns,
/// expanded relative to the configuration file, in order, each file once; the schema, the
/// configuration file and rollout plans (`[[ring]]`) a pattern also matches are left out. A
/// pattern that matches nothing is a note, not an error.
///
/// # Errors
/// When the configuration gives no `content`, or a pattern is not one.
pub fn content_files(schema: &Path) -> Result<Vec<PathBuf>, Failure> {
    let s = get();
    let (Some(config), false) = (&s.config_path, s.config.content.is_empty()) else {
        return Err(Failure(
            "no files: give the files to judge, or list them in chanval.toml \
             (content = [\"content/*.toml\", \"content/*.cvc\"])"
                .into(),
        ));
    };
    let base = config.parent().unwrap_or(Path::new(""));
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for pattern in &s.config.content {
        let full = base.join(pattern);
        let matches = glob::glob(&full.to_string_lossy()).map_err(|e| {
            Failure(format!(
                "configuration file {}: content pattern `{pattern}`: {e}",
                config.display()
            ))
        })?;
        let before = files.len();
        for path in matches.flatten() {
            let plan = path.extension().is_some_and(|e| e == "toml")
                && std::fs::read_to_string(&path)
                    .is_ok_and(|t| t.lines().any(|l| l.trim() == "[[ring]]"));
            if same(&path, schema) || same(&path, config) || plan || files.contains(&path) {
                continue;
            }
            files.push(path);
        }
        if files.len() == before {
            crate::settings::note!("chanval: content pattern `{pattern}` matches no file");
        }
    }
    if files.is_empty() {
        return Err(Failure(format!(
            "the content patterns of {} match no file",
            config.display()
        )));
    }
    Ok(files)
}

/// `chanval.toml` in the current directory or its nearest ancestor that has one, looking no
/// higher than the repository's root (the nearest directory with a `.git`): a file planted
/// above the checkout never judges its content.
fn find_config() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    for dir in cwd.ancestors() {
        let candidate = dir.join(CONFIG_FILE);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

/// `NO_COLOR` (any non-empty value) turns colour off unless it is asked for explicitly;
/// `TERM=dumb` too.
fn use_color(choice: ColorChoice, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            terminal
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

/// The policy flags of every command that judges: on top of the configuration file.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct GateArgs {
    /// Fail on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Do not report this warning (a code such as CV0409; repeatable). Errors cannot be
    /// allowed: content with one fails on agents.
    #[arg(long, value_name = "CODE")]
    pub allow: Vec<String>,
    /// Fail the gate on this warning as on an error (repeatable).
    #[arg(long, value_name = "CODE")]
    pub deny: Vec<String>,
}

/// How the gate judges findings: the library's policy (a sink adapter the gate's findings pass
/// through), built from the configuration and the flags.
pub use chanval::Policy;

fn code(name: &str, from: &str) -> Result<Code, Failure> {
    Code::ALL
        .iter()
        .copied()
        .find(|c| c.as_str().eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            Failure(format!(
                "{from}: `{}` is not a diagnostic code (they look like CV0409; see docs/FINDINGS.md)",
                chanval::Shown(name)
            ))
        })
}

impl Settings {
    /// The configuration file's `[replay]` table.
    pub fn replay(&self) -> &ReplayConfig {
        &self.config.replay
    }

    /// The configuration file this run read, if any (reports name it).
    pub fn config_path(&self) -> Option<&Path> {
        self.config_path.as_deref()
    }

    /// The policy of a run with `args`: the configuration's lists, with the command line's
    /// codes moved to the list it names.
    pub fn policy(&self, args: &GateArgs) -> Result<Policy, Failure> {
        let file = self.config_path.as_ref().map_or_else(
            || "configuration".to_string(),
            |p| format!("configuration file `{}`", p.display()),
        );
        let mut policy =
            Policy::new().with_deny_warnings(args.deny_warnings || self.config.gate.deny_warnings);
        let mut put = |name: &str, from: &str, allow: bool| -> Result<(), Failure> {
            let c = code(name, from)?;
            if allow {
                policy
                    .allow(c)
                    .map_err(|e| Failure(format!("{from}: {e}. Only warnings can be allowed")))
            } else {
                policy.deny(c);
                Ok(())
            }
        };
        let gate = &self.config.gate;
        if let Some(both) = gate.allow.iter().find(|a| {
            gate.deny
                .iter()
                .any(|d| d.trim().eq_ignore_ascii_case(a.trim()))
        }) {
            return Err(Failure(format!(
                "{file}: `{}` is both allowed and denied in [gate]",
                chanval::Shown(both)
            )));
        }
        for a in &gate.allow {
            put(a, &format!("{file}, [gate] allow"), true)?;
        }
        for d in &gate.deny {
            put(d, &format!("{file}, [gate] deny"), false)?;
        }
        if let Some(both) = args.allow.iter().find(|a| {
            args.deny
                .iter()
                .any(|d| d.trim().eq_ignore_ascii_case(a.trim()))
        }) {
            return Err(Failure(format!(
                "`{}` is given to both --allow and --deny",
                chanval::Shown(both)
            )));
        }
        for a in &args.allow {
            put(a, "--allow", true)?;
        }
        for d in &args.deny {
            put(d, "--deny", false)?;
        }
        Ok(policy)
    }
}

/// Writes one line to standard output. A closed pipe (`chanval … | head`) is not a failure of
/// the command: what it writes is dropped, the work (a file written, a verdict) goes on, and
/// the exit code is the verdict's. Every line chanval prints goes through here or
/// [`line_to_stderr`]; `print!` and `eprint!`, which panic on a closed pipe, are denied.
pub fn line_to_stdout(line: &dyn std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Writes one line to standard error, as [`line_to_stdout`] does to standard output.
pub fn line_to_stderr(line: &dyn std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Writes text as it is to standard output: what a command produces (a formatted source),
/// not a report; a closed pipe handled as [`line_to_stdout`] does.
pub fn text_to_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Writes text with no line end to standard error (a progress line), as [`line_to_stderr`].
pub fn text_to_stderr(text: &dyn std::fmt::Display) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{text}");
    let _ = err.flush();
}

/// An informational note on standard error (`chanval: wrote …`), left out under `--quiet`;
/// control characters escaped, as in every line chanval prints.
macro_rules! note {
    ($($t:tt)*) => {
        if !$crate::settings::get().quiet {
            $crate::settings::line_to_stderr(&chanval::Shown(&format!($($t)*)));
        }
    };
}
pub(crate) use note;

/// A line of a command's output on standard output, left out under `--quiet`.
macro_rules! say {
    ($($t:tt)*) => {
        if !$crate::settings::get().quiet {
            $crate::settings::line_to_stdout(&chanval::Shown(&format!($($t)*)));
        }
    };
}
pub(crate) use say;

/// A line on standard error that is part of the verdict (why nothing was written): printed
/// even under `--quiet`, like errors. Every line these macros print quotes paths and names from
/// the input, so each is shown with control characters escaped.
macro_rules! tell {
    ($($t:tt)*) => {
        $crate::settings::line_to_stderr(&chanval::Shown(&format!($($t)*)))
    };
}
pub(crate) use tell;

#[cfg(test)]
mod tests {
    use super::*;
    use chanval::Severity;

    fn settings(allow: &[&str], deny: &[&str]) -> Settings {
        Settings {
            config: Config {
                schema: None,
                content: Vec::new(),
                gate: GateConfig {
                    allow: allow.iter().map(|s| s.to_string()).collect(),
                    deny: deny.iter().map(|s| s.to_string()).collect(),
                    deny_warnings: false,
                },
                output: OutputConfig::default(),
                replay: ReplayConfig::default(),
                engine: EngineConfig::default(),
            },
            ..Settings::default()
        }
    }

    #[test]
    fn the_command_line_moves_a_code_between_the_files_lists() {
        let s = settings(&["CV0409"], &["CV0110"]);
        let p = s.policy(&GateArgs::default()).unwrap();
        assert_eq!(
            p.judge(Code::ALL[0], Severity::Error),
            Some(Severity::Error)
        );
        let cv0409 = code("cv0409", "t").unwrap();
        let cv0110 = code("CV0110", "t").unwrap();
        assert_eq!(p.judge(cv0409, Severity::Warning), None);
        assert_eq!(p.judge(cv0110, Severity::Warning), Some(Severity::Error));
        let args = GateArgs {
            deny: vec!["CV0409".into()],
            allow: vec!["CV0110".into()],
            ..GateArgs::default()
        };
        let p = s.policy(&args).unwrap();
        assert_eq!(p.judge(cv0409, Severity::Warning), Some(Severity::Error));
        assert_eq!(p.judge(cv0110, Severity::Warning), None);
    }

    #[test]
    fn errors_cannot_be_allowed_and_unknown_codes_are_refused() {
        let s = settings(&[], &[]);
        let args = |a: &str| GateArgs {
            allow: vec![a.into()],
            ..GateArgs::default()
        };
        let e = s.policy(&args("CV0202")).unwrap_err().0;
        assert!(
            e.contains("CV0202") && e.contains("cannot be allowed"),
            "{e}"
        );
        let e = s.policy(&args("CV9999")).unwrap_err().0;
        assert!(e.contains("not a diagnostic code"), "{e}");
        let e = settings(&["CV0409"], &["cv0409"])
            .policy(&GateArgs::default())
            .unwrap_err()
            .0;
        assert!(e.contains("both allowed and denied"), "{e}");
    }
}
