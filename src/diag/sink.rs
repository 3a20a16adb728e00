//! Where findings go: the [`FindingSink`] trait, a fixed-capacity sink for agents, and the
//! reporter that counts findings and stops at the limit.

use core::ops::ControlFlow;

use super::code::Severity;
use super::finding::Finding;

/// Where the validator puts findings.
pub trait FindingSink<'s> {
    /// Receives one finding.
    fn report(&mut self, finding: Finding<'s>);
}

#[cfg(feature = "alloc")]
impl<'s> FindingSink<'s> for alloc::vec::Vec<Finding<'s>> {
    fn report(&mut self, finding: Finding<'s>) {
        self.push(finding);
    }
}

/// A fixed-capacity sink for agents: keeps the first `N` findings, counts the rest.
#[derive(Debug, Clone)]
pub struct FindingBuf<'s, const N: usize> {
    items: [Option<Finding<'s>>; N],
    len: usize,
    dropped: usize,
}

impl<'s, const N: usize> FindingBuf<'s, N> {
    /// An empty buffer.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            items: [None; N],
            len: 0,
            dropped: 0,
        }
    }

    /// The findings kept, in report order.
    pub fn iter(&self) -> impl Iterator<Item = &Finding<'s>> {
        self.items.iter().take(self.len).flatten()
    }

    /// Number of findings kept.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether no finding was kept.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of findings reported beyond the capacity.
    #[must_use]
    pub const fn dropped(&self) -> usize {
        self.dropped
    }
}

impl<const N: usize> Default for FindingBuf<'_, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'s, const N: usize> FindingSink<'s> for FindingBuf<'s, N> {
    fn report(&mut self, finding: Finding<'s>) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = Some(finding);
            self.len = self.len.saturating_add(1);
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }
}

/// Counts of what was reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Summary {
    /// Findings of severity error.
    pub errors: u32,
    /// Findings of severity warning.
    pub warnings: u32,
    /// Whether reporting stopped at the finding limit before the check finished.
    pub truncated: bool,
}

/// Counts findings and enforces the finding limit. `report` breaks once the limit is reached,
/// and every check propagates that with `?`, so a hostile file cannot make the validator emit
/// unboundedly many findings.
pub(crate) struct Reporter<'s, 'k> {
    sink: &'k mut dyn FindingSink<'s>,
    summary: Summary,
    max: u32,
}

impl<'s, 'k> Reporter<'s, 'k> {
    pub(crate) fn new(sink: &'k mut dyn FindingSink<'s>, max: u32) -> Self {
        Self {
            sink,
            summary: Summary::default(),
            max,
        }
    }

    pub(crate) fn report(&mut self, finding: Finding<'s>) -> ControlFlow<()> {
        if self.summary.errors.saturating_add(self.summary.warnings) >= self.max {
            self.summary.truncated = true;
            return ControlFlow::Break(());
        }
        match finding.severity {
            Severity::Error => self.summary.errors = self.summary.errors.saturating_add(1),
            Severity::Warning => self.summary.warnings = self.summary.warnings.saturating_add(1),
        }
        self.sink.report(finding);
        ControlFlow::Continue(())
    }

    pub(crate) const fn summary(&self) -> Summary {
        self.summary
    }
}
