//! A signed file's envelope as `inspect` and `diff` report it (FORMAT.md §11), not judged.

use std::io::Write;

use chanval::{ChannelFile, Shown};
use serde::Serialize;

/// What the signature envelope says (FORMAT.md §11), without judging it: `chanval verify`
/// judges, with a root.
#[derive(Debug, Serialize)]
pub struct EnvelopeOut {
    /// Key ids of the signatures (whose they are is for a root to say).
    pub signers: Vec<String>,
    /// Unix seconds; 0 never.
    pub expires: u64,
    /// Per target, the digest of the contract the gate checked it against (hex).
    pub contract_digests: Vec<ContractOut>,
    pub paused: bool,
    pub recalled: bool,
    /// The rollout plan's rings.
    pub rings: Vec<RingOut>,
}

#[derive(Debug, Serialize)]
pub struct ContractOut {
    pub target: String,
    pub digest: String,
}

#[derive(Debug, Serialize)]
pub struct RingOut {
    /// The cumulative share of the fleet, in percent.
    pub upto_percent: f64,
    /// When it opens (Unix seconds).
    pub opens: u64,
}

impl EnvelopeOut {
    pub fn of(e: &chanval::trust::Envelope<'_>, file: &ChannelFile<'_>) -> Self {
        let hex = |d: &[u8; 32]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        Self {
            signers: e
                .signers()
                .map(|k| format!("{:#018x}", chanval::trust::key_id(k)))
                .collect(),
            expires: e.expires(),
            contract_digests: file
                .targets()
                .iter()
                .map(|(name, _)| ContractOut {
                    target: name.to_string(),
                    digest: e.contract_digest(file, name).map(hex).unwrap_or_default(),
                })
                .collect(),
            paused: e.plan().paused(),
            recalled: e.plan().recalled(),
            rings: e
                .plan()
                .rings()
                .map(|r| RingOut {
                    upto_percent: f64::from(r.upto) / 100.0,
                    opens: r.not_before,
                })
                .collect(),
        }
    }

    pub fn human(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(
            out,
            "signed: {} signature(s) by key id(s) {}; expires {}{}{}",
            self.signers.len(),
            self.signers.join(", "),
            if self.expires == 0 {
                "never".to_string()
            } else {
                crate::cmd::clock::show(self.expires)
            },
            if self.paused { "; PAUSED" } else { "" },
            if self.recalled { "; RECALLED" } else { "" }
        )?;
        for c in &self.contract_digests {
            writeln!(out, "  contract of {}: {}", Shown(&c.target), c.digest)?;
        }
        writeln!(out, "  rollout: {}", self.rollout())
    }

    /// The rollout rings as people read them: `10% from 2026-12-05T08:00:00Z, 100% from …`.
    pub fn rollout(&self) -> String {
        self.rings
            .iter()
            .map(|r| {
                format!(
                    "{}% from {}",
                    r.upto_percent,
                    crate::cmd::clock::show(r.opens)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}
