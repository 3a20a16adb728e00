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
    /// The file to check.
    file: PathBuf,
}

/// The refusal, with what a person needs to act on it (the targets and the agent's profile).
fn explain(file: &str, bytes: &[u8], profile: &str, e: &LoadError) -> ExitCode {
    say!("{file}: REFUSED: {} {e}", e.code());
    if *e == LoadError::NotForThisAgent {
        let targets = chanval::parse(chanval::channel_file_bytes(bytes)).map_or_else(
            |_| String::from("?"),
            |f| {
                f.targets()
                    .iter()
                    .map(|(n, _)| n)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        );
        say!("  the file targets: {targets}; this agent is `{profile}`");
    }
    ExitCode::from(1)
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
    let mut standing = chanval::trust::Standing::NONE;
    for path in &args.brakes {
        let bytes = read(path)?;
        match chanval::agent::check_brake(&bytes, Some(&root), args.channel) {
            Ok(brake) => {
                standing.apply(&brake);
                say!(
                    "{}: holds the {} of {} (serial {})",
                    path.display(),
                    brake.action(),
                    brake.versions(),
                    brake.serial()
                );
            }
            Err(e) => say!(
                "{}: ignored, as an agent would: {} {e}",
                path.display(),
                e.code()
            ),
        }
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
    let name = args.file.display().to_string();
    let accepted = |file: &ChannelFile<'_>, envelope: Option<Envelope<'_>>, checked: &str| {
        let h = file.header();
        let signers: Vec<String> = envelope
            .iter()
            .flat_map(|e| e.signers())
            .filter(|k| root.has_key(k, chanval::trust::Role::Release))
            .map(|k| format!("{:#018x}", key_id(k)))
            .collect();
        say!(
            "{name}: ACCEPTED for `{}`: channel {}, content version {}, targets {}",
            args.profile,
            h.channel_id,
            h.content_version,
            file.targets()
                .iter()
                .map(|(n, _)| n)
                .collect::<Vec<_>>()
                .join(", ")
        );
        say!(
            "  signed by {} release key(s) of root version {} (threshold {}): {}",
            signers.len(),
            root.version(),
            root.threshold(chanval::trust::Role::Release),
            signers.join(", ")
        );
        if let Some(e) = envelope {
            say!(
                "  expires: {}",
                if e.expires() == 0 {
                    "never".to_string()
                } else {
                    clock::show(e.expires())
                }
            );
        }
        say!("  checked: {checked}");
    };
    let Some(doc) = doc else {
        return Ok(match verify(&bytes, &args.profile, Some(&root), &request) {
            Ok(v) => {
                accepted(
                    &v.file,
                    v.envelope,
                    &format!(
                        "trust, digest, expiry, channel, target, brakes, versions, {ring_note} \
                         (not the contract digest or validation: pass --schema)"
                    ),
                );
                ExitCode::SUCCESS
            }
            Err(e) => explain(&name, &bytes, &args.profile, &e),
        });
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
            Ok(opened) => {
                accepted(
                    opened.validated.file(),
                    opened.envelope,
                    &format!(
                        "trust, digest, expiry, channel, target, brakes, versions, {ring_note}, \
                         contract digest, validation"
                    ),
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                let code = explain(&name, &bytes, &args.profile, &e);
                for f in findings {
                    say!("  {f}");
                }
                Ok(code)
            }
        }
    })
}
