//! `chanval verify`: a file checked exactly as an agent's load path checks it.

use crate::settings::say;
use std::path::PathBuf;
use std::process::ExitCode;

use chanval::agent::{Agent, LoadError, LoadRequest, verify};
use chanval::trust::{Choice, Envelope, Root, key_id};
use chanval::{ChannelFile, Finding};
use clap::ValueEnum;

use super::Outcome;
use super::clock;
use crate::Format;
use crate::files::{Failure, load_schema, read};

/// What a customer chose for the agent's rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChoiceArg {
    /// The agent's ring decides.
    General,
    /// Content as soon as the first ring opens.
    EarlyAccess,
    /// Nothing newer than --pinned-version.
    Pinned,
}

/// Check a file as the agent of PROFILE holding ROOT would load it: size, trust root and
/// signatures, file digest, expiry, channel, targets, the brakes it holds, versions, rollout
/// and, with --schema, the contract digest and validation for the profile. Exit 0 accepted, 1
/// refused.
#[derive(clap::Args)]
pub struct Args {
    /// The trust root the agent holds (from `chanval root`).
    #[arg(long)]
    root: PathBuf,
    /// The channel the agent expects.
    #[arg(long)]
    channel: u32,
    /// The agent's profile.
    #[arg(long)]
    profile: String,
    /// The content version the agent runs now (anti-rollback, fast-forward bound).
    #[arg(long)]
    running_version: Option<u64>,
    /// The agent's clock: Unix seconds, a UTC date, or an offset such as `+1d`. Default: now.
    #[arg(long)]
    now: Option<String>,
    /// The agent's schema: adds the contract-digest check and validation for the profile.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// The agent's id, to decide its rollout ring. Without one, the agent is in the plan's
    /// last ring (it installs when the whole fleet may); a pause or a recall binds it either way.
    #[arg(long)]
    agent_id: Option<String>,
    /// A brake statement the agent holds (`chanval brake`; repeatable): recalls and the pause
    /// in force are judged as the agent's store would.
    #[arg(long = "brake")]
    brakes: Vec<PathBuf>,
    /// The customer's rollout choice (with --agent-id).
    #[arg(long, value_enum, default_value_t = ChoiceArg::General)]
    choice: ChoiceArg,
    /// With `--choice pinned`: the newest content version to accept.
    #[arg(long)]
    pinned_version: Option<u64>,
    /// Output format (`sarif` is not available here).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The file to check.
    file: PathBuf,
}

/// A brake statement the agent was given, and what it made of it.
#[derive(serde::Serialize)]
struct BrakeOut {
    path: String,
    /// Held: the store would apply it.
    held: bool,
    /// Held: `pause`, `resume` or `recall`; the versions and the serial.
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    versions: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    serial: Option<u64>,
    /// Ignored: the refusal's code and message.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// What the agent's load path decided (docs/report.schema.json, `verify`).
#[derive(serde::Serialize)]
struct VerifyOut {
    version: u32,
    tool: crate::report::Tool,
    command: &'static str,
    path: String,
    profile: String,
    accepted: bool,
    brakes: Vec<BrakeOut>,
    /// Accepted: the file's channel, version and targets, its signers and expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_version: Option<u64>,
    /// The targets the file names (also on a refusal, when the file parses).
    #[serde(skip_serializing_if = "Option::is_none")]
    targets: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    root_version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<u32>,
    /// Unix seconds; 0: never.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<u64>,
    /// What was checked, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    checked: Option<String>,
    /// Refused: the load path's code (CV06xx) and message, and the validator's findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    findings: Vec<String>,
}

impl VerifyOut {
    fn emit(&self, format: Format) -> ExitCode {
        let code = if self.accepted {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
        if crate::settings::get().quiet {
            return code;
        }
        if format == Format::Json {
            // JSON escapes every control character itself.
            crate::settings::line_to_stdout(
                &serde_json::to_string_pretty(self).unwrap_or_default(),
            );
            return code;
        }
        for b in &self.brakes {
            match (&b.action, &b.code) {
                (Some(action), _) => say!(
                    "{}: holds the {action} of {} (serial {})",
                    b.path,
                    b.versions.as_deref().unwrap_or(""),
                    b.serial.unwrap_or(0)
                ),
                (None, code) => say!(
                    "{}: ignored, as an agent would: {} {}",
                    b.path,
                    code.unwrap_or(""),
                    b.message.as_deref().unwrap_or("")
                ),
            }
        }
        let targets = self.targets.as_ref().map(|t| t.join(", "));
        if self.accepted {
            say!(
                "{}: ACCEPTED for `{}`: channel {}, content version {}, targets {}",
                self.path,
                self.profile,
                self.channel.unwrap_or(0),
                self.content_version.unwrap_or(0),
                targets.unwrap_or_default()
            );
            let signers = self.signers.clone().unwrap_or_default();
            say!(
                "  signed by {} release key(s) of root version {} (threshold {}): {}",
                signers.len(),
                self.root_version.unwrap_or(0),
                self.threshold.unwrap_or(0),
                signers.join(", ")
            );
            if let Some(e) = self.expires {
                say!(
                    "  expires: {}",
                    if e == 0 {
                        "never".to_string()
                    } else {
                        clock::show(e)
                    }
                );
            }
            say!("  checked: {}", self.checked.as_deref().unwrap_or(""));
        } else {
            say!(
                "{}: REFUSED: {} {}",
                self.path,
                self.code.unwrap_or(""),
                self.message.as_deref().unwrap_or("")
            );
            if self.code == Some(LoadError::NotForThisAgent.code().as_str()) {
                say!(
                    "  the file targets: {}; this agent is `{}`",
                    targets.unwrap_or_else(|| "?".into()),
                    self.profile
                );
            }
            for f in &self.findings {
                say!("  {f}");
            }
        }
        code
    }
}

pub fn run(args: &Args) -> Outcome {
    let now = clock::now(args.now.as_deref())?;
    let root_bytes = read(&args.root)?;
    let root = Root::bootstrap(&root_bytes).map_err(|e| {
        Failure(format!(
            "`{}` is not a trust root to hold: {e}",
            args.root.display()
        ))
    })?;
    let choice = match (args.choice, args.pinned_version) {
        (ChoiceArg::General, _) => Choice::General,
        (ChoiceArg::EarlyAccess, _) => Choice::EarlyAccess,
        (ChoiceArg::Pinned, Some(v)) => Choice::Pinned(v),
        (ChoiceArg::Pinned, None) => {
            return Err(Failure("--choice pinned needs --pinned-version".into()));
        }
    };
    let mut out = VerifyOut {
        version: crate::report::REPORT_VERSION,
        tool: crate::report::Tool::current(),
        command: "verify",
        path: args.file.display().to_string(),
        profile: args.profile.clone(),
        accepted: false,
        brakes: Vec::new(),
        channel: None,
        content_version: None,
        targets: None,
        signers: None,
        root_version: None,
        threshold: None,
        expires: None,
        checked: None,
        code: None,
        message: None,
        findings: Vec::new(),
    };
    let mut standing = chanval::trust::Standing::NONE;
    for path in &args.brakes {
        let bytes = read(path)?;
        let path = path.display().to_string();
        out.brakes.push(
            match chanval::agent::check_brake(&bytes, Some(&root), args.channel) {
                Ok(brake) => {
                    standing.apply(&brake);
                    BrakeOut {
                        path,
                        held: true,
                        action: Some(brake.action().to_string()),
                        versions: Some(brake.versions().to_string()),
                        serial: Some(brake.serial()),
                        code: None,
                        message: None,
                    }
                }
                Err(e) => BrakeOut {
                    path,
                    held: false,
                    action: None,
                    versions: None,
                    serial: None,
                    code: Some(e.code().as_str()),
                    message: Some(e.to_string()),
                },
            },
        );
    }
    let mut request = LoadRequest::new(args.channel, now);
    request.running_version = args.running_version;
    request.rollout = args.agent_id.as_deref().map(|id| (id.as_bytes(), choice));
    request.standing = &standing;
    let ring_note = if args.agent_id.is_some() {
        "rollout"
    } else {
        "rollout (no --agent-id: as the last ring)"
    };
    let doc = args.schema.as_deref().map(load_schema).transpose()?;
    let bytes = read(&args.file)?;
    let accepted = |out: &mut VerifyOut,
                    file: &ChannelFile<'_>,
                    envelope: Option<Envelope<'_>>,
                    checked: String| {
        let h = file.header();
        out.accepted = true;
        out.channel = Some(h.channel_id);
        out.content_version = Some(h.content_version);
        out.targets = Some(file.targets().iter().map(|(n, _)| n.to_string()).collect());
        out.signers = Some(
            envelope
                .iter()
                .flat_map(|e| e.signers())
                .filter(|k| root.has_key(k, chanval::trust::Role::Release))
                .map(|k| format!("{:#018x}", key_id(k)))
                .collect(),
        );
        out.root_version = Some(root.version());
        out.threshold = Some(root.threshold(chanval::trust::Role::Release).into());
        out.expires = envelope.map(|e| e.expires());
        out.checked = Some(checked);
    };
    let refused = |out: &mut VerifyOut, e: &LoadError| {
        out.code = Some(e.code().as_str());
        out.message = Some(e.to_string());
        out.targets = chanval::parse(chanval::channel_file_bytes(&bytes))
            .ok()
            .map(|f| f.targets().iter().map(|(n, _)| n.to_string()).collect());
    };
    let Some(doc) = doc else {
        match verify(&bytes, &args.profile, Some(&root), &request) {
            Ok(v) => accepted(
                &mut out,
                &v.file,
                v.envelope,
                format!(
                    "trust, digest, expiry, channel, target, brakes, versions, {ring_note} \
                     (not the contract digest or validation: pass --schema)"
                ),
            ),
            Err(e) => refused(&mut out, &e),
        }
        return Ok(out.emit(args.format));
    };
    doc.with_schema(|schema| {
        if schema.profile(&args.profile).is_none() {
            let known: Vec<&str> = schema.profiles.iter().map(|p| p.name).collect();
            return Err(Failure(format!(
                "the schema has no profile `{}`; it declares: {}",
                args.profile,
                known.join(", ")
            )));
        }
        let agent = Agent {
            schema,
            profile: &args.profile,
            root: Some(&root),
        };
        let mut findings: Vec<Finding<'_>> = Vec::new();
        match chanval::agent::open(&bytes, &agent, &request, &mut findings) {
            Ok(opened) => accepted(
                &mut out,
                opened.validated.file(),
                opened.envelope,
                format!(
                    "trust, digest, expiry, channel, target, brakes, versions, {ring_note}, \
                     contract digest, validation"
                ),
            ),
            Err(e) => {
                refused(&mut out, &e);
                out.findings = findings.iter().map(ToString::to_string).collect();
            }
        }
        Ok(out.emit(args.format))
    })
}
