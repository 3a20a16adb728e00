//! The team's policy over findings — warnings left out, warnings that fail the gate like
//! errors — as a sink adapter (cargo-deny's `ErrorSink` is the model): findings pass through
//! [`Judged`] on their way to any sink, so what the library counts is what every report shows,
//! and the library's verdict is the verdict.

use alloc::vec::Vec;

use super::code::{Code, Severity};
use super::finding::Finding;
use super::sink::FindingSink;

/// Which warnings are left out and which fail the gate. Errors are never left out: content
/// with one fails on agents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    allowed: Vec<Code>,
    denied: Vec<Code>,
    deny_warnings: bool,
}

/// A policy that would leave out an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} ({title}) is an error and cannot be allowed: content with it fails on agents", title = .0.title())]
pub struct CannotAllow(pub Code);

impl Policy {
    /// Every warning reported as a warning, none left out.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            allowed: Vec::new(),
            denied: Vec::new(),
            deny_warnings: false,
        }
    }

    /// Every warning fails the gate (`--deny-warnings`), whatever is allowed.
    #[must_use]
    pub fn with_deny_warnings(mut self, deny: bool) -> Self {
        self.deny_warnings = self.deny_warnings || deny;
        self
    }

    /// Leaves warnings of `code` out (counted as allowed). A later [`Policy::deny`] of the
    /// same code replaces this.
    ///
    /// # Errors
    /// [`CannotAllow`] for a code of severity error.
    pub fn allow(&mut self, code: Code) -> Result<(), CannotAllow> {
        if code.severity() == Severity::Error {
            return Err(CannotAllow(code));
        }
        self.denied.retain(|c| *c != code);
        if !self.allowed.contains(&code) {
            self.allowed.push(code);
        }
        Ok(())
    }

    /// Fails the gate on warnings of `code`, as on errors. A later [`Policy::allow`] of the
    /// same code replaces this.
    pub fn deny(&mut self, code: Code) {
        self.allowed.retain(|c| *c != code);
        if !self.denied.contains(&code) {
            self.denied.push(code);
        }
    }

    /// The severity a finding of `code` counts with, or `None` when it is left out. A warning
    /// denied (by code, or all of them) counts as an error, even where it is also allowed.
    #[must_use]
    pub fn judge(&self, code: Code, severity: Severity) -> Option<Severity> {
        match severity {
            Severity::Error => Some(Severity::Error),
            Severity::Warning if self.denied.contains(&code) || self.deny_warnings => {
                Some(Severity::Error)
            }
            Severity::Warning if self.allowed.contains(&code) => None,
            Severity::Warning => Some(Severity::Warning),
        }
    }
}

/// What the policy made of the findings that passed through a [`Judged`] sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Verdict {
    /// Findings that count as errors (denied warnings included).
    pub errors: u32,
    /// Findings that count as warnings.
    pub warnings: u32,
    /// Warnings the policy left out.
    pub allowed: u32,
    /// The check stopped at its finding limit: the content was not judged in full, and does
    /// not ship.
    pub truncated: bool,
}

impl Verdict {
    /// Whether the content ships: no error, and judged in full.
    #[must_use]
    pub const fn ships(&self) -> bool {
        self.errors == 0 && !self.truncated
    }
}

/// A sink adapter: each finding judged by `policy`, left out (and counted) or passed to
/// `inner` with the severity it counts with.
pub struct Judged<'k, 's> {
    inner: &'k mut dyn FindingSink<'s>,
    policy: &'k Policy,
    verdict: Verdict,
}

impl<'k, 's> Judged<'k, 's> {
    /// Findings judged by `policy`, on their way to `inner`.
    pub fn new(inner: &'k mut dyn FindingSink<'s>, policy: &'k Policy) -> Self {
        Self {
            inner,
            policy,
            verdict: Verdict::default(),
        }
    }

    /// The counts so far; `truncated` as the check that reported says.
    #[must_use]
    pub const fn verdict(&self, truncated: bool) -> Verdict {
        Verdict {
            truncated,
            ..self.verdict
        }
    }
}

impl<'s> FindingSink<'s> for Judged<'_, 's> {
    fn report(&mut self, mut finding: Finding<'s>) {
        let v = &mut self.verdict;
        match self.policy.judge(finding.code, finding.severity) {
            None => v.allowed = v.allowed.saturating_add(1),
            Some(severity) => {
                let count = match severity {
                    Severity::Error => &mut v.errors,
                    Severity::Warning => &mut v.warnings,
                };
                *count = count.saturating_add(1);
                finding.severity = severity;
                self.inner.report(finding);
            }
        }
    }
}
