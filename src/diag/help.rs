//! How to fix what a finding reports, in one sentence built from its numbers and names, as
//! rustc's `help:` lines: for the findings a content or schema author can act on. Findings about
//! damaged bytes, the agent's load path or a replay have none: their message, and `chanval
//! explain`, say what happened and there is no edit that fixes it.

use core::fmt;

use super::code::Code;
use super::finding::{Detail, Finding};
use super::message::Shown;

/// The fix hint of a finding (see [`Finding::help`]).
pub struct Help<'f, 's>(&'f Finding<'s>);

impl<'s> Finding<'s> {
    /// How to fix what this finding reports, when there is an edit that does: `None` for
    /// damaged bytes, refusals on the agent's load path and replay results.
    #[must_use]
    pub fn help(&self) -> Option<Help<'_, 's>> {
        use Code::*;
        matches!(
            self.code,
            UnknownTemplateType
                | CriterionCountMismatch
                | CriterionNotAllowed
                | PatternTooLong
                | ValueOutOfRange
                | InstanceIdOrder
                | EmptyRange
                | EmptyAnyMask
                | MatchesEverything
                | AllWildcards
                | FlagsOutsideField
                | InstanceOverBudget
                | EventOverBudget
                | ForeignGlobSyntax
                | NeverMatches
                | Unindexed
                | FieldCountMismatch
                | BeyondSuppliedInputs
                | CriterionUnsupported
                | TemplateTypeNotSupplied
                | InputKindMismatch
                | ProfileNotTargeted
                | NoTargets
                | UnknownTarget
                | DidNotMatch
                | DidNotMiss
                | RuleTestFailed
                | DuplicateTemplateType
                | DuplicateFieldName
                | InapplicableCriterion
                | DuplicateProfile
                | SupplyForUnknownType
                | BadFieldRange
                | DuplicateSupply
                | ProfileLacksCriterion
                | NoProfilesDeclared
                | ProfileSuppliesNothing
                | NameIsKeyword
                | NamesCollide
                | FieldVersionOrder
                | ContentVersionNotIncreased
                | ChannelMismatch
                | NoisyInstance
                | UnexpectedCount
                | MatchesBenign
        )
        .then_some(Help(self))
    }
}

impl fmt::Display for Help<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let finding = self.0;
        let loc = &finding.location;
        let profile = Shown(loc.profile.unwrap_or("?"));
        let field = Shown(loc.field.map_or("", |x| x.name));
        match (finding.code, finding.detail) {
            (Code::UnknownTemplateType, _) => f.write_str(
                "use a template type the schema declares, or declare this one in the schema \
                 (and in the profiles that supply it)",
            ),
            (Code::CriterionCountMismatch, Detail::Counts { expected, .. }) => write!(
                f,
                "rebuild the file from its source: an instance of this template type carries \
                 exactly {expected} criteria, a wildcard for each field it does not test"
            ),
            (Code::CriterionNotAllowed, Detail::Kind(kind)) => write!(
                f,
                "use a criterion kind the field's `criteria` list allows, or add `{kind}` to it \
                 in the schema if every target can evaluate it"
            ),
            (Code::PatternTooLong, Detail::Bound { bound, .. }) => write!(
                f,
                "shorten the pattern to at most {bound} bytes, or raise the field's \
                 `max_pattern_len` in the schema"
            ),
            (Code::ValueOutOfRange, Detail::Bound { .. }) => f.write_str(
                "use a value within the field's `min`..`max`, or widen them in the schema if \
                 agents can supply such values",
            ),
            (Code::InstanceIdOrder, _) => f.write_str(
                "give every instance its own id; `chanval build` writes them in increasing order",
            ),
            (Code::EmptyRange, Detail::Bound { value, bound }) => write!(
                f,
                "write the smaller end first: `int_range = [{bound}, {value}]`, or remove the \
                 instance if it is meant never to match"
            ),
            (Code::EmptyAnyMask, _) => f.write_str(
                "give `flags_any` at least one bit, or leave the field out of `criteria` (a \
                 wildcard)",
            ),
            (Code::MatchesEverything, _) => f.write_str(
                "leave the field out of `criteria` (a wildcard), or narrow the criterion to what \
                 the rule is meant to catch",
            ),
            (Code::AllWildcards, _) => f.write_str(
                "add a criterion that says what the rule detects, or remove the instance",
            ),
            (Code::Unindexed, _) => f.write_str(
                "add a criterion with a literal byte, a value, a range or a flag mask: without \
                 one the instance is checked against every event of its type",
            ),
            (Code::FlagsOutsideField, Detail::Bound { bound, .. }) => write!(
                f,
                "keep the mask within the field's `valid_flags` ({bound:#x}), or declare the \
                 new flag bits in the schema"
            ),
            (Code::InstanceOverBudget | Code::EventOverBudget, _) => f.write_str(
                "make the patterns cheaper (longer literal runs, fewer `*` and `?`) or split the \
                 rule; raise the schema's `[budget]` only after measuring agents",
            ),
            (Code::ForeignGlobSyntax, _) => f.write_str(
                "chanval globs have only `*` and `?`: write one instance per alternative, or use \
                 `?` for one byte",
            ),
            (Code::NeverMatches, Detail::Bound { bound, .. }) => write!(
                f,
                "shorten the pattern to fit values of at most {bound} bytes, or raise the \
                 field's `max_len` if agents supply longer values"
            ),
            (Code::FieldCountMismatch, _) => write!(
                f,
                "declare the fields `{profile}` lacks with `since = N` (a later version of the \
                 type), or correct what `{profile}` supplies in the schema"
            ),
            (Code::BeyondSuppliedInputs, _) => write!(
                f,
                "leave `{field}` a wildcard in content for `{profile}`, or remove `{profile}` \
                 from `targets` and ship this rule only to agents that supply the field"
            ),
            (Code::CriterionUnsupported, Detail::Kind(kind)) => write!(
                f,
                "use a criterion kind `{profile}` evaluates instead of `{kind}`, or remove \
                 `{profile}` from `targets`"
            ),
            (Code::TemplateTypeNotSupplied, _) => write!(
                f,
                "remove `{profile}` from `targets`, or keep instances of this template type in \
                 content for the agents that supply it"
            ),
            (Code::InputKindMismatch, _) => f.write_str(
                "correct the schema: the field's `input` must be the kind the interpreter \
                 supplies",
            ),
            (Code::ProfileNotTargeted, _) => write!(
                f,
                "check only profiles the file targets, or add `{profile}` to the source's \
                 `targets` and rebuild"
            ),
            (Code::NoTargets, _) => {
                f.write_str("rebuild the file from a source that declares `targets`")
            }
            (Code::UnknownTarget, _) => f.write_str(
                "declare the profile in the schema, or remove it from the source's `targets`",
            ),
            (Code::DidNotMatch | Code::DidNotMiss, _) => f.write_str(
                "run `chanval test --why ID` on an event for this instance to see how the \
                 criterion and the interpreter disagree",
            ),
            (Code::RuleTestFailed, _) => f.write_str(
                "run `chanval test --why ID` with the test's event to see which criterion \
                 decides; then fix the rule or the test's expectation",
            ),
            (Code::DuplicateTemplateType | Code::DuplicateProfile, _) => {
                f.write_str("give each one its own name and id")
            }
            (Code::DuplicateFieldName, _) => f.write_str("give each field its own name"),
            (Code::InapplicableCriterion, _) => f.write_str(
                "remove the criterion kind from the field's `criteria`: its input kind cannot \
                 carry it",
            ),
            (Code::SupplyForUnknownType, _) => {
                f.write_str("declare the template type, or remove it from the profile's `supplies`")
            }
            (Code::BadFieldRange, _) => f.write_str("write the field's `min` below its `max`"),
            (Code::DuplicateSupply, _) => {
                f.write_str("list each template type once in the profile's `supplies`")
            }
            (Code::ProfileLacksCriterion, Detail::Kind(kind)) => write!(
                f,
                "content using `{kind}` on this field cannot target `{profile}`; remove `{kind}` \
                 from the field's `criteria` if every release targets that agent"
            ),
            (Code::NoProfilesDeclared, _) => {
                f.write_str("add a `[[profile]]` for every agent version in the fleet")
            }
            (Code::ProfileSuppliesNothing, _) => f.write_str(
                "list in `supplies` the template types the agent's interpreter evaluates",
            ),
            (Code::NameIsKeyword, _) => f.write_str(
                "rename it if generated code should use the name as it is; otherwise nothing \
                 to do (generated code adds a suffix)",
            ),
            (Code::NamesCollide, _) => {
                f.write_str("rename one, so that the names differ in more than case or punctuation")
            }
            (Code::FieldVersionOrder, _) => f.write_str(
                "give `since` from 1 up, never lower than the field before: a version only \
                 appends fields",
            ),
            (Code::ContentVersionNotIncreased, Detail::Versions { old, .. }) => write!(
                f,
                "set `content_version = {}` (or higher) in the source and rebuild",
                old.saturating_add(1)
            ),
            (Code::ChannelMismatch, Detail::Counts { expected, .. }) => write!(
                f,
                "publish it on channel {expected} (`channel_id = {expected}`), or compare it \
                 with the published file of its own channel"
            ),
            (Code::NoisyInstance, _) => f.write_str(
                "narrow the rule so it alerts on less of this traffic, or raise \
                 --max-alerts-per-hour if the volume is expected (deduplicate with --dedup first)",
            ),
            (Code::UnexpectedCount, _) => f.write_str(
                "find what changed with `chanval replay --baseline` against the content that met \
                 the expectation; update the expectations file only if the new count is right",
            ),
            (Code::MatchesBenign, _) => f.write_str(
                "narrow the rule until it misses the benign events (`chanval test --why ID` on \
                 one of them shows which criteria accept it)",
            ),
            _ => f.write_str("`chanval explain` says what the code means"),
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;

    use super::super::finding::Location;
    use super::{Code, Detail, Finding};
    use crate::common::CriterionKind;

    /// The numbers each code's finding carries (as the validator, the schema checks and `diff`
    /// report it, and as its message reads it).
    fn detail(code: Code) -> Detail {
        match code {
            Code::CriterionCountMismatch | Code::ChannelMismatch => Detail::Counts {
                expected: 3,
                found: 2,
            },
            Code::CriterionNotAllowed
            | Code::CriterionUnsupported
            | Code::ProfileLacksCriterion => Detail::Kind(CriterionKind::Glob),
            Code::PatternTooLong
            | Code::ValueOutOfRange
            | Code::EmptyRange
            | Code::FlagsOutsideField
            | Code::NeverMatches => Detail::Bound { value: 9, bound: 4 },
            Code::ContentVersionNotIncreased => Detail::Versions { old: 7, new: 7 },
            Code::MatchesBenign => Detail::Counts {
                expected: 0,
                found: 2,
            },
            _ => Detail::None,
        }
    }

    /// Every hint is written for its code: none falls through to the generic sentence, and the
    /// numbers it quotes are the finding's.
    #[test]
    fn every_hint_is_specific_to_its_code() {
        let mut with = 0;
        for &code in Code::ALL {
            let finding = Finding::new(code, Location::default(), detail(code));
            if let Some(help) = finding.help() {
                with += 1;
                let text = format!("{help}");
                assert!(
                    !text.contains("chanval explain"),
                    "{}: {text}",
                    code.as_str()
                );
            }
        }
        assert!(with >= 40, "{with}");
        let f = Finding::new(
            Code::ContentVersionNotIncreased,
            Location::default(),
            Detail::Versions { old: 7, new: 7 },
        );
        assert!(format!("{}", f.help().unwrap()).contains("content_version = 8"));
        let f = Finding::new(
            Code::EmptyRange,
            Location::default(),
            Detail::Bound { value: 9, bound: 4 },
        );
        assert!(format!("{}", f.help().unwrap()).contains("[4, 9]"));
        let damaged = Finding::new(Code::ChecksumMismatch, Location::default(), Detail::None);
        assert!(damaged.help().is_none());
    }
}
