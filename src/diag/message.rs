//! Findings in words: the one sentence each code prints, built from its location and numbers.

use core::fmt;

use super::code::Code;
use super::finding::{Detail, FieldRef, Finding, Location, TypeRef};

/// A name from a schema or a file, as messages show it: control characters (which could move a
/// terminal's cursor, clear it, or start a forged line) and the bidirectional-text overrides
/// (which reorder what a reader sees, as in "Trojan Source") escaped as `\u{..}`, the rest as
/// is.
pub struct Shown<'a>(pub &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi {
                write!(f, "\\u{{{:x}}}", u32::from(c))?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

/// `part` of `whole` in parts per million (0 of 0 is 0).
fn ppm(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        return 0;
    }
    let scaled = u128::from(part)
        .saturating_mul(1_000_000)
        .checked_div(u128::from(whole))
        .unwrap_or(0);
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

/// Parts per million as a percentage with two decimals, without floating point (no_std).
struct Percent(u64);

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hundredths = self.0 / 100;
        write!(f, "{}.{:02} %", hundredths / 100, hundredths % 100)
    }
}

/// The message of a finding (see [`Finding::message`]).
pub struct Message<'f, 's>(pub(super) &'f Finding<'s>);

fn field(f: &mut fmt::Formatter<'_>, loc: &Location<'_>) -> fmt::Result {
    match loc.field {
        Some(FieldRef { index, name: "" }) => {
            write!(f, "field {} (index {index})", u32::from(index) + 1)
        }
        Some(FieldRef { index, name }) => {
            write!(
                f,
                "field {} `{}` (index {index})",
                u32::from(index) + 1,
                Shown(name)
            )
        }
        None => f.write_str("a field"),
    }
}

fn ttype(f: &mut fmt::Formatter<'_>, loc: &Location<'_>) -> fmt::Result {
    match loc.template_type {
        Some(TypeRef { id, name: "" }) => write!(f, "template type {id}"),
        Some(TypeRef { id, name }) => write!(f, "template type `{}` ({id})", Shown(name)),
        None => f.write_str("the template type"),
    }
}

/// The field, template type or profile a finding is about, most specific first.
fn named(f: &mut fmt::Formatter<'_>, loc: &Location<'_>) -> fmt::Result {
    if loc.field.is_some() {
        field(f, loc)?;
        f.write_str(" of ")?;
        ttype(f, loc)
    } else if loc.template_type.is_some() {
        ttype(f, loc)
    } else {
        write!(f, "profile `{}`", Shown(loc.profile.unwrap_or("?")))
    }
}

impl fmt::Display for Message<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let finding = self.0;
        let loc = &finding.location;
        let profile = Shown(loc.profile.unwrap_or("?"));
        match (finding.code, finding.detail) {
            (_, Detail::Structural(kind)) => write!(f, "{kind}"),
            (Code::FieldCountMismatch, Detail::Counts { expected, found }) => {
                ttype(f, loc)?;
                write!(
                    f,
                    " declares {expected} input fields but profile `{profile}` supplies {found}; \
                     any criterion on the missing fields would read past the inputs. If \
                     `{profile}` is an older agent that supplies an earlier version of the type, \
                     declare the fields a later version added with `since = 2` (and so on): \
                     then content for `{profile}` may use the fields it supplies, and a \
                     criterion on one it lacks is refused (docs/SCHEMA.md, \"When a new agent \
                     version adds a field\")"
                )
            }
            (Code::BeyondSuppliedInputs, Detail::Counts { expected, found }) => {
                f.write_str("non-wildcard criterion on ")?;
                field(f, loc)?;
                write!(
                    f,
                    " reads input index {found}, but profile `{profile}` supplies only {expected} \
                     inputs (indices 0..={})",
                    expected.saturating_sub(1)
                )
            }
            (Code::CriterionCountMismatch, Detail::Counts { expected, found }) => {
                write!(f, "instance has {found} criteria but ")?;
                ttype(f, loc)?;
                write!(f, " declares {expected} fields")
            }
            (Code::CriterionNotAllowed, Detail::Kind(kind)) => {
                write!(f, "`{kind}` criterion is not allowed on ")?;
                field(f, loc)
            }
            (Code::CriterionUnsupported, Detail::Kind(kind)) => {
                write!(f, "`{kind}` criterion on ")?;
                field(f, loc)?;
                write!(f, " cannot be evaluated by profile `{profile}`")
            }
            (Code::PatternTooLong, Detail::Bound { value, bound }) => {
                write!(f, "pattern of {value} bytes on ")?;
                field(f, loc)?;
                write!(f, " exceeds its maximum of {bound}")
            }
            (Code::ValueOutOfRange, Detail::Bound { value, bound }) => {
                write!(f, "value {value} on ")?;
                field(f, loc)?;
                write!(f, " is outside the field's range (violated bound {bound})")
            }
            (Code::FlagsOutsideField, Detail::Bound { value, bound }) => {
                write!(f, "mask {value:#x} on ")?;
                field(f, loc)?;
                write!(f, " has bits outside the field's flags {bound:#x}")
            }
            (Code::InstanceIdOrder, Detail::PreviousId(prev)) => {
                let id = loc.instance.map_or(0, |i| i.id);
                write!(
                    f,
                    "instance id {id} follows id {prev}; ids must be unique and strictly increasing"
                )
            }
            (Code::InputKindMismatch, Detail::Kinds { declared, supplied }) => {
                field(f, loc)?;
                write!(
                    f,
                    " is declared `{declared}` but profile `{profile}` supplies `{supplied}`"
                )
            }
            (Code::ProfileLacksCriterion, Detail::Kind(kind)) => {
                field(f, loc)?;
                write!(
                    f,
                    " allows `{kind}`, which profile `{profile}` cannot evaluate; content using it there \
                     will be rejected for that profile"
                )
            }
            (Code::TemplateTypeNotSupplied, _) => {
                write!(f, "profile `{profile}` does not supply inputs for ")?;
                ttype(f, loc)
            }
            (Code::UnknownTemplateType, _) => {
                f.write_str("the schema has no ")?;
                ttype(f, loc)
            }
            (Code::InterpreterError, Detail::Eval(e)) => {
                write!(
                    f,
                    "the interpreter under profile `{profile}` failed on a synthesized event: {e}"
                )
            }
            (Code::DidNotMatch, _) => write!(
                f,
                "under profile `{profile}` the instance did not match an event built to satisfy every criterion"
            ),
            (Code::DidNotMiss, _) => {
                write!(
                    f,
                    "under profile `{profile}` the instance still matched with "
                )?;
                field(f, loc)?;
                f.write_str(" set to a value its criterion should reject")
            }
            (Code::ScratchTooSmall, Detail::Counts { expected, found }) => write!(
                f,
                "exercising this instance needs {expected} bytes of scratch; {found} were given"
            ),
            (
                Code::TooBroad,
                Detail::MatchRate {
                    matches,
                    events,
                    limit_ppm,
                },
            ) => {
                let id = loc.instance.map_or(0, |i| i.id);
                write!(
                    f,
                    "instance {id} matches {matches} of {events} replayed events of "
                )?;
                ttype(f, loc)?;
                write!(
                    f,
                    " ({}), above the limit of {}; if it is meant to be that broad, allow-list it \
                     (--allow-broad {id})",
                    Percent(ppm(matches, events)),
                    Percent(limit_ppm)
                )
            }
            (
                Code::AlertIncrease,
                Detail::AlertVolume {
                    old,
                    new,
                    limit_ppm,
                },
            ) => {
                f.write_str("on the replayed events ")?;
                if loc.template_type.is_some() {
                    f.write_str("of ")?;
                    ttype(f, loc)?;
                    f.write_str(" ")?;
                }
                write!(
                    f,
                    "the content raises {new} alerts where the baseline raises {old}, an increase \
                     above the {} allowed",
                    Percent(limit_ppm)
                )
            }
            (Code::ReplayEvalError, Detail::Eval(e)) => {
                write!(f, "a replayed event failed under profile `{profile}`: {e}")
            }
            (Code::UnreadableEvents, Detail::Events { unreadable, total }) => write!(
                f,
                "{unreadable} of {total} event lines or rows could not be read and were not \
                 replayed (the report lists them; --strict makes this stop the replay)"
            ),
            (
                Code::NoisyInstance,
                Detail::Noise {
                    alerts,
                    hour,
                    limit,
                },
            ) => write!(
                f,
                "{alerts} alerts in the hour from {} on the replayed events, more than the {limit} \
                 allowed (--max-alerts-per-hour)",
                crate::time::UnixTime(hour)
            ),
            (Code::UnexpectedCount, Detail::Expected { found, min, max }) => {
                if min == max {
                    write!(f, "{found} matches on the replayed events; {min} expected")
                } else {
                    write!(
                        f,
                        "{found} matches on the replayed events; {min} to {max} expected"
                    )
                }
            }
            (Code::MatchesBenign, Detail::Counts { found, .. }) => write!(
                f,
                "matches {found} event(s) of the benign corpus (--benign): known-good activity \
                 it would alert on"
            ),
            (Code::ContentVersionNotIncreased, Detail::Versions { old, new }) => write!(
                f,
                "content version {new} is not greater than the published version {old}"
            ),
            (Code::ChannelMismatch, Detail::Counts { expected, found }) => {
                write!(
                    f,
                    "channel id {found} differs from the published file's {expected}"
                )
            }
            (Code::EmptyRange, Detail::Bound { value, bound }) => {
                write!(f, "range {value}..={bound} on ")?;
                field(f, loc)?;
                f.write_str(" is empty and never matches")
            }
            (
                Code::InstanceOverBudget | Code::EventOverBudget,
                Detail::Cost {
                    per_byte,
                    constant,
                    max_per_byte,
                    max_constant,
                },
            ) => {
                if finding.code == Code::InstanceOverBudget {
                    f.write_str("the instance")?;
                } else {
                    f.write_str("one event of ")?;
                    ttype(f, loc)?;
                }
                write!(
                    f,
                    " may cost {per_byte} matcher steps per input byte and {constant} more; the \
                     schema's budget is {max_per_byte} per byte and {max_constant}"
                )
            }
            (Code::ProfileNotTargeted, _) => write!(
                f,
                "profile `{profile}` was selected, but the file does not target it: agents of \
                 that profile refuse the file (add it to the source's `targets`, or drop the \
                 selection)"
            ),
            (Code::NoTargets, _) => f.write_str(
                "the file names no target profile (format version 1): no agent loads it; \
                 rebuild it from its source with `targets`",
            ),
            (Code::UnknownTarget, Detail::Counts { found, .. }) => write!(
                f,
                "target {} of the file names a profile the schema does not declare; the gate \
                 cannot check content for it",
                found.saturating_add(1)
            ),
            (Code::ProfileNameNotTargetable, _) => write!(
                f,
                "profile name `{}` cannot be a channel file's target: names are 1 to 64 bytes \
                 of printable ASCII without spaces",
                profile
            ),
            (
                Code::RuleTestFailed,
                Detail::RuleTest {
                    line,
                    id,
                    expected_match,
                },
            ) => {
                write!(
                    f,
                    "the rule test at line {line} of the source, under profile `{profile}`: "
                )?;
                if id == u32::MAX {
                    f.write_str(
                        "its event does not fit the profile, or the content was not validated \
                         for it",
                    )
                } else if loc.instance.is_none() {
                    write!(f, "the content has no instance {id}")
                } else if expected_match {
                    write!(f, "instance {id} was to match but does not")?;
                    if loc.field.is_some() {
                        f.write_str(": its criterion on ")?;
                        field(f, loc)?;
                        f.write_str(" rejects the event's value")?;
                    }
                    Ok(())
                } else {
                    write!(f, "instance {id} was to miss but matches")
                }
            }
            (Code::ForeignGlobSyntax, Detail::Bound { value, .. }) => {
                f.write_str("the glob on ")?;
                field(f, loc)?;
                write!(
                    f,
                    " has a `[` or `{{` at byte {value} of its pattern: chanval globs have only `*` \
                     (any run of bytes) and `?` (one byte), and every other byte — brackets, \
                     braces, commas, backslashes — matches itself, so this pattern matches only \
                     literal text; use `?` for one varying byte, or one instance per alternative"
                )
            }
            (Code::NeverMatches, Detail::Bound { value, bound }) => {
                write!(f, "the pattern on ")?;
                field(f, loc)?;
                write!(
                    f,
                    " needs at least {value} bytes, but the field's values are at most {bound} \
                     bytes (`max_len`): it can never match"
                )
            }
            (Code::NoProfilesDeclared, _) => f.write_str(
                "the schema declares no interpreter profile: no content can target it, and every \
                 validation fails (CV0207, CV0410); add a [[profile]] per agent version",
            ),
            (Code::ProfileSuppliesNothing, _) => write!(
                f,
                "profile `{}` supplies no template type: no content can be evaluated by it",
                profile
            ),
            (Code::NameIsKeyword, _) => {
                f.write_str("the name of ")?;
                named(f, loc)?;
                f.write_str(
                    " is a keyword in Rust, C or C++ once made an identifier; generated code \
                     adds a `_` to it",
                )
            }
            (Code::NamesCollide, _) => {
                f.write_str("the name of ")?;
                named(f, loc)?;
                f.write_str(
                    " gives the same identifier in generated code as an earlier one of its kind \
                     (they differ only in case or punctuation); rename one",
                )
            }
            (Code::FieldVersionOrder, Detail::Bound { value, bound }) => {
                field(f, loc)?;
                if value == 0 {
                    f.write_str(" has `since = 0`; versions count from 1")
                } else {
                    write!(
                        f,
                        " has `since = {value}`, below the {bound} of the field before it: a \
                         later version only appends fields, so list them in the order the \
                         versions added them"
                    )
                }
            }
            (Code::SchemaTooLarge, Detail::Bound { value, bound }) => {
                write!(
                    f,
                    "{} of {value} exceeds the limit of {bound}",
                    finding.code.title()
                )
            }
            (code, _) => {
                f.write_str(code.title())?;
                if loc.field.is_some() {
                    f.write_str(" (")?;
                    field(f, loc)?;
                    f.write_str(")")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Finding<'_> {
    /// `CODE severity: message`, without the location (reporters add it as they see fit).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.code, self.severity, self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::Shown;
    use alloc::format;

    #[test]
    fn control_characters_and_bidi_overrides_are_escaped() {
        assert_eq!(format!("{}", Shown("a\x1b[2Jb\nc")), "a\\u{1b}[2Jb\\u{a}c");
        assert_eq!(
            format!("{}", Shown("x\u{202e}gpj.exe")),
            "x\\u{202e}gpj.exe"
        );
        assert_eq!(format!("{}", Shown("ünïcode ok")), "ünïcode ok");
    }
}
