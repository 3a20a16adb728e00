//! The report every findings-producing command builds, and its three renderings. The structure
//! serialized here *is* the documented JSON output (docs/JSON.md); change both together.

pub mod envelope;
pub mod human;
pub mod notes;
pub mod sarif;

use std::io::Write;
use std::process::ExitCode;

use chanval::{Finding, Severity};
use serde::Serialize;

use crate::Format;
use crate::settings::Policy;

/// The JSON output's version; bumped on any incompatible change.
pub const REPORT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ship,
    Reject,
    /// The command did not validate what it looked at (`diff` without a schema): no verdict,
    /// and exit 0 only for what it did check.
    Unjudged,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Tool {
    pub const fn current() -> Self {
        Self {
            name: "chanval",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub version: u32,
    pub tool: Tool,
    pub command: &'static str,
    pub verdict: Verdict,
    pub files: Vec<FileReport>,
    /// The configuration file the run read (`chanval.toml`), absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<DiffOut>,
    /// Only for `chanval replay`: what the content did on the replayed events (docs/REPLAY.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<serde_json::Value>,
    /// Human output that comes before the findings (replay's tables); not serialized.
    #[serde(skip)]
    pub preface: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FileReport {
    pub path: String,
    pub verdict: Verdict,
    pub errors: u32,
    pub warnings: u32,
    /// Reporting stopped at `--max-findings`.
    pub truncated: bool,
    /// Warnings left out because the policy allows their code (`--allow`, `chanval.toml`).
    #[serde(skip_serializing_if = "is_zero")]
    pub allowed: u32,
    pub findings: Vec<FindingOut>,
    /// The profiles the file targets (absent when the file could not be read that far).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
    /// The profiles it was checked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked_profiles: Option<Vec<String>>,
    /// The schema's profiles it does not target: not checked, and their agents refuse it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded_profiles: Option<Vec<String>>,
    /// Per template type, what the compiled program predicts one event costs (content that
    /// ships only; `validate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<Vec<EngineOut>>,
    /// The source's text, for the line at fault in human output (findings on a source);
    /// not serialized.
    #[serde(skip)]
    pub source_text: Option<String>,
    /// The file's bytes, for hex snippets in human output; not serialized.
    #[serde(skip)]
    pub bytes: Option<Vec<u8>>,
}

/// Bytes of each bytes value of the events the engine's estimates are for.
pub const ESTIMATE_VALUE_LEN: usize = 128;

/// What one event of a template type is predicted to cost the program compiled for a profile
/// (`chanval::Program::estimate`, on values of [`ESTIMATE_VALUE_LEN`] bytes).
#[derive(Debug, Serialize)]
pub struct EngineOut {
    pub template_type: String,
    /// The profile whose program was estimated (the first checked that has the type).
    pub profile: String,
    pub instances: usize,
    /// Candidates the index is expected to send an event to.
    pub candidates: f64,
    /// Predicted nanoseconds per event on `machine`.
    pub ns_per_event: f64,
    /// The same with every instance a candidate: an event that hits every key.
    pub ns_per_event_all_candidates: f64,
    /// The machine the times are for: `the benchmark machine`, or the one a calibration file
    /// (`validate --calibration`) names.
    pub machine: String,
}

impl EngineOut {
    /// The estimates of `gated`'s programs, one per template type, on `machine`.
    pub fn of(
        gated: &chanval::gated::Gated<'_, '_>,
        machine: &crate::cmd::calibrate::Machine,
    ) -> Vec<Self> {
        let schema = gated.validated().schema();
        let mut out: Vec<(u16, Self)> = Vec::new();
        for program in gated.programs() {
            for ty in program.template_types() {
                if out.iter().any(|(t, _)| *t == ty) {
                    continue;
                }
                let Some(e) = program.estimate(ty, ESTIMATE_VALUE_LEN) else {
                    continue;
                };
                let e = e.on(&machine.constants);
                let name = schema
                    .template_type(ty)
                    .map_or_else(|| ty.to_string(), |(_, t)| t.name.to_string());
                out.push((
                    ty,
                    Self {
                        template_type: name,
                        profile: program.profile().name.to_string(),
                        instances: e.instances,
                        candidates: (e.candidates * 10.0).round() / 10.0,
                        ns_per_event: e.nanos.round(),
                        ns_per_event_all_candidates: e
                            .with_candidates(e.instances as f64)
                            .nanos
                            .round(),
                        machine: machine.machine.clone(),
                    },
                ));
            }
        }
        out.sort_by_key(|(t, _)| *t);
        out.into_iter().map(|(_, e)| e).collect()
    }
}

#[derive(Debug, Serialize)]
pub struct FindingOut {
    pub code: &'static str,
    pub severity: &'static str,
    pub title: &'static str,
    pub message: String,
    pub location: LocationOut,
    /// How to fix it, when an edit does (`chanval::Finding::help`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// What the rule at fault is for, when its source says (docs/SOURCE.md, "Rule metadata").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<chanval::source::RuleMeta>,
}

#[derive(Debug, Default, Serialize)]
pub struct LocationOut {
    pub byte_start: Option<usize>,
    pub byte_end: Option<usize>,
    pub instance_index: Option<u32>,
    pub instance_id: Option<u32>,
    pub template_type_id: Option<u16>,
    pub template_type: Option<String>,
    pub field_index: Option<u16>,
    pub field: Option<String>,
    pub profile: Option<String>,
    /// For a finding in a TOML text (a schema): its line and column, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn name(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

impl From<&Finding<'_>> for FindingOut {
    fn from(f: &Finding<'_>) -> Self {
        let l = &f.location;
        Self {
            code: f.code.as_str(),
            severity: f.severity.name(),
            title: f.code.title(),
            message: f.message().to_string(),
            location: LocationOut {
                byte_start: l.span.map(|s| s.start),
                byte_end: l.span.map(|s| s.end),
                instance_index: l.instance.map(|i| i.index),
                instance_id: l.instance.map(|i| i.id),
                template_type_id: l.template_type.map(|t| t.id),
                template_type: l.template_type.and_then(|t| name(t.name)),
                field_index: l.field.map(|f| f.index),
                field: l.field.and_then(|f| name(f.name)),
                profile: l.profile.map(str::to_string),
                line: None,
                column: None,
            },
            help: f.help().map(|h| h.to_string()),
            rule: None,
        }
    }
}

/// How a report's findings are judged.
#[derive(Debug, Clone, Copy)]
pub enum Judging<'p> {
    /// Not yet: `policy` judges them; `true` when the check stopped at its finding limit.
    By(&'p Policy, bool),
    /// By the gate already (`chanval::gated::judge`), whose verdict this is.
    Gated(&'p chanval::Verdict),
}

/// The policy that changes nothing: findings the gate judged are shown as they are.
static AS_JUDGED: Policy = Policy::new();

impl FileReport {
    /// The report of `findings` as `policy` judges them: allowed warnings left out (and
    /// counted), denied ones reported and counted as errors.
    pub fn new(path: String, findings: &[Finding<'_>], truncated: bool, policy: &Policy) -> Self {
        Self::located(path, findings, Judging::By(policy, truncated), |_| None)
    }

    /// The report of what the gate judged (`chanval::gated::judge`): its findings, already
    /// judged, and its verdict, which the report's is.
    pub fn gated(path: String, findings: &[Finding<'_>], verdict: &chanval::Verdict) -> Self {
        Self::located(path, findings, Judging::Gated(verdict), |_| None)
    }

    /// The report of findings on content compiled from a source: each placed at the line and
    /// column of the TOML value at fault (the byte ranges of the compiled bytes mean nothing to
    /// the source's author and are left out), a failed rule test at its `[[test]]` and by its
    /// name.
    pub fn of_source(
        path: String,
        findings: &[Finding<'_>],
        judging: Judging<'_>,
        source: &chanval::source::Source,
        text: String,
    ) -> Self {
        let at = |f: &Finding<'_>| match f.detail {
            chanval::Detail::RuleTest { line, .. } => Some((usize::try_from(line).ok()?, 1)),
            _ => source.map.locate(&f.location).map(|p| (p.line, p.column)),
        };
        let mut report = Self::located(path, findings, judging, at);
        for f in &mut report.findings {
            f.location.byte_start = None;
            f.location.byte_end = None;
            f.rule = f
                .location
                .instance_id
                .and_then(|id| source.rules.get(&id))
                .cloned();
            if f.code == chanval::Code::RuleTestFailed.as_str()
                && let Some(name) = source
                    .tests
                    .iter()
                    .find(|t| Some(t.line) == f.location.line)
                    .and_then(|t| t.name.as_deref())
            {
                f.message = format!("rule test `{name}`: {}", f.message);
            }
        }
        report.source_text = Some(text);
        report
    }

    /// The report of a content source that does not build (CV0801): rejected, with the error
    /// at its line and column.
    pub fn unbuilt(path: String, error: &chanval::TomlError, text: String) -> Self {
        let code = chanval::Code::SourceDoesNotBuild;
        let mut report = Self::located(path, &[], Judging::By(&AS_JUDGED, false), |_| None);
        report.findings.push(FindingOut {
            code: code.as_str(),
            severity: code.severity().name(),
            title: code.title(),
            message: error.message.clone(),
            location: LocationOut {
                line: Some(error.line),
                column: Some(error.column),
                ..LocationOut::default()
            },
            help: Some(
                "fix the source at the line and column given; `chanval fmt --check` shows \
                 TOML syntax problems too"
                    .to_string(),
            ),
            rule: None,
        });
        report.errors = 1;
        report.verdict = Verdict::Reject;
        report.source_text = Some(text);
        report
    }

    /// [`FileReport::new`] with each finding placed at the line and column `at` gives (findings
    /// about a TOML document).
    pub fn located(
        path: String,
        findings: &[Finding<'_>],
        judging: Judging<'_>,
        at: impl Fn(&Finding<'_>) -> Option<(usize, usize)>,
    ) -> Self {
        let (policy, truncated, mut allowed, gate_rejects) = match judging {
            Judging::By(policy, truncated) => (policy, truncated, 0u32, false),
            Judging::Gated(v) => (&AS_JUDGED, v.truncated, v.allowed, !v.ships()),
        };
        let mut out = Vec::with_capacity(findings.len());
        let (mut errors, mut warnings) = (0u32, 0u32);
        for f in findings {
            match policy.judge(f.code, f.severity) {
                None => allowed = allowed.saturating_add(1),
                Some(severity) => {
                    let counter = match severity {
                        Severity::Error => &mut errors,
                        Severity::Warning => &mut warnings,
                    };
                    *counter = counter.saturating_add(1);
                    let mut shown = FindingOut::from(f);
                    shown.severity = severity.name();
                    if let Some((line, column)) = at(f) {
                        shown.location.line = Some(line);
                        shown.location.column = Some(column);
                    }
                    out.push(shown);
                }
            }
        }
        let reject = errors > 0 || truncated || gate_rejects;
        Self {
            path,
            verdict: if reject {
                Verdict::Reject
            } else {
                Verdict::Ship
            },
            errors,
            warnings,
            truncated,
            allowed,
            findings: out,
            targets: None,
            checked_profiles: None,
            excluded_profiles: None,
            engine: None,
            source_text: None,
            bytes: None,
        }
    }

    /// The targets of the file and, when a schema judged it, the profiles checked and the
    /// schema's profiles left out.
    pub fn with_targets(
        self,
        targets: Vec<String>,
        checked: Option<Vec<String>>,
        excluded: Option<Vec<String>>,
    ) -> Self {
        Self {
            targets: Some(targets),
            checked_profiles: checked,
            excluded_profiles: excluded,
            ..self
        }
    }

    /// This report with the engine's estimates.
    pub fn with_engine(self, engine: Vec<EngineOut>) -> Self {
        Self {
            engine: Some(engine),
            ..self
        }
    }

    /// This report with the findings of `other` (on the same file) added, and its verdict.
    pub fn merged(self, other: Self) -> Self {
        let mut findings = self.findings;
        findings.extend(other.findings);
        let errors = self.errors.saturating_add(other.errors);
        Self {
            verdict: if errors > 0 || self.truncated || other.truncated {
                Verdict::Reject
            } else {
                other.verdict
            },
            errors,
            warnings: self.warnings.saturating_add(other.warnings),
            truncated: self.truncated || other.truncated,
            allowed: self.allowed.saturating_add(other.allowed),
            findings,
            ..self
        }
    }

    /// This report without a ship verdict, unless it rejects: what it judged was not validated.
    pub fn unjudged(self) -> Self {
        Self {
            verdict: match self.verdict {
                Verdict::Reject => Verdict::Reject,
                _ => Verdict::Unjudged,
            },
            ..self
        }
    }

    pub fn with_bytes(self, bytes: Vec<u8>) -> Self {
        Self {
            bytes: Some(bytes),
            ..self
        }
    }
}

#[derive(Debug, Serialize)]
pub struct InstanceOut {
    pub id: u32,
    pub template_type_id: u16,
    pub template_type: Option<String>,
    /// The rule's metadata, when its source was given and says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<chanval::source::RuleMeta>,
}

#[derive(Debug, Serialize)]
pub struct FieldOut {
    pub index: u16,
    pub name: Option<String>,
    /// The criterion before and after, as a source writes it (`{ glob = '*.exe', fold = true
    /// }`); absent on the side where the field is a wildcard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ChangedOut {
    pub id: u32,
    pub template_type_id: u16,
    pub template_type: Option<String>,
    pub old_template_type_id: u16,
    /// The rule's metadata in the new source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<chanval::source::RuleMeta>,
    pub fields: Vec<FieldOut>,
}

/// A rule in both sources whose metadata differs.
#[derive(Debug, Serialize)]
pub struct MetadataChangedOut {
    pub id: u32,
    pub old: chanval::source::RuleMeta,
    pub new: chanval::source::RuleMeta,
}

#[derive(Debug, Serialize)]
pub struct DiffOut {
    pub old: String,
    pub new: String,
    pub channel_id: u32,
    pub old_content_version: u64,
    pub new_content_version: u64,
    /// The profiles each side targets.
    pub old_targets: Vec<String>,
    pub new_targets: Vec<String>,
    pub added: Vec<InstanceOut>,
    pub removed: Vec<InstanceOut>,
    pub changed: Vec<ChangedOut>,
    /// Rules whose metadata differs between the two sources (only when both are sources).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metadata_changed: Vec<MetadataChangedOut>,
    pub unchanged: usize,
    /// The new file's signature envelope (its signers, expiry and rollout), when it is signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed: Option<envelope::EnvelopeOut>,
}

impl Report {
    pub fn new(command: &'static str, files: Vec<FileReport>) -> Self {
        let verdict = if files.iter().any(|f| f.verdict == Verdict::Reject) {
            Verdict::Reject
        } else if files.iter().any(|f| f.verdict == Verdict::Unjudged) {
            Verdict::Unjudged
        } else {
            Verdict::Ship
        };
        Self {
            version: REPORT_VERSION,
            tool: Tool {
                name: "chanval",
                version: env!("CARGO_PKG_VERSION"),
            },
            command,
            verdict,
            files,
            config: crate::settings::get()
                .config_path()
                .map(|p| p.display().to_string()),
            diff: None,
            replay: None,
            preface: None,
        }
    }

    /// The exit code the verdict means.
    fn exit_code(&self) -> ExitCode {
        match self.verdict {
            Verdict::Ship | Verdict::Unjudged => ExitCode::SUCCESS,
            Verdict::Reject => ExitCode::from(1),
        }
    }

    /// Writes the release notes of a `diff` report (Markdown) to stdout; returns the exit code
    /// its verdict means, as [`Report::emit`] does.
    pub fn emit_release_notes(&self) -> ExitCode {
        if !crate::settings::get().quiet {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(notes::render(self).as_bytes());
            let _ = out.flush();
        }
        self.exit_code()
    }

    /// Writes the report to stdout in `format`; returns the exit code its verdict means.
    pub fn emit(&self, format: Format) -> ExitCode {
        let code = self.exit_code();
        if crate::settings::get().quiet {
            return code;
        }
        let text = match format {
            Format::Human => human::render(self),
            Format::Json => serde_json::to_string_pretty(self).unwrap_or_default() + "\n",
            Format::Sarif => {
                serde_json::to_string_pretty(&sarif::render(self)).unwrap_or_default() + "\n"
            }
        };
        let mut out = std::io::stdout().lock();
        // A closed stdout (`| head`) is not a reason to change the verdict.
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
        code
    }
}

/// The JSON document of a command that could not run (exit 2): `{"version", "tool",
/// "command", "error": {"exit_code": 2, "message"}}` (docs/report.schema.json).
pub fn emit_error_json(command: &str, message: &str) {
    let doc = serde_json::json!({
        "version": REPORT_VERSION,
        "tool": Tool::current(),
        "command": command,
        "error": { "exit_code": 2, "message": message },
    });
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    );
}
