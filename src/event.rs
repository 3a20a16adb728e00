//! Events as people and telemetry write them (feature `std`): a template type by name, inputs
//! by field name, resolved against a schema and a profile into the exact event that profile's
//! integration code builds — its input count, its kinds, in field order. One resolution for the
//! rule tests of a content source, `chanval test` and replay (whose JSON Lines reader lives in
//! the `chanval-events` crate), so that they cannot disagree on what an event means.
//!
//! Fields an event does not name take their kind's empty value (no bytes, 0), as integration
//! code fills an input it has nothing for.

use std::string::{String, ToString};
use std::vec::Vec;

use crate::common::InputKind;
use crate::eval::Value;
use crate::schema::{Profile, Schema, TemplateType};

/// One input of a resolved event, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventValue {
    /// Bytes.
    Bytes(Vec<u8>),
    /// An unsigned integer.
    Unsigned(u64),
    /// A flag set.
    Flags(u64),
}

impl EventValue {
    /// Borrowed, as the evaluators take it.
    #[must_use]
    pub fn as_value(&self) -> Value<'_> {
        match self {
            Self::Bytes(b) => Value::Bytes(b),
            Self::Unsigned(v) => Value::Unsigned(*v),
            Self::Flags(v) => Value::Flags(*v),
        }
    }
}

/// An input value as written, before it is checked against its field's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawInput {
    /// Text: the bytes of a bytes field.
    Text(String),
    /// Raw bytes (JSON `{"hex": "…"}`, TOML `{ hex = "…" }`): the bytes of a bytes field.
    Bytes(Vec<u8>),
    /// A number: an unsigned or flags field.
    Number(u64),
}

/// An event resolved for one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The template type id.
    pub template_type: u16,
    /// One value per input the profile supplies, in order.
    pub values: Vec<EventValue>,
}

impl Event {
    /// The values, borrowed, as the evaluators take them.
    #[must_use]
    pub fn values(&self) -> Vec<Value<'_>> {
        self.values.iter().map(EventValue::as_value).collect()
    }
}

/// Why an event could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// No template type of that name (or id).
    #[error("the schema has no template type `{0}`")]
    UnknownTemplateType(String),
    /// No profile of that name.
    #[error("the schema has no profile `{0}`")]
    UnknownProfile(String),
    /// The profile has no integration for the template type.
    #[error("profile `{profile}` does not supply template type `{template_type}`")]
    NotSupplied {
        /// The profile.
        profile: String,
        /// The template type.
        template_type: String,
    },
    /// No field of that name.
    #[error("template type `{template_type}` has no field `{field}`")]
    UnknownField {
        /// The template type.
        template_type: String,
        /// The field named.
        field: String,
    },
    /// The profile does not supply that field.
    #[error("profile `{profile}` supplies only the first {supplied} inputs; `{field}` is not one")]
    FieldNotSupplied {
        /// The profile.
        profile: String,
        /// The field.
        field: String,
        /// How many inputs it supplies.
        supplied: usize,
    },
    /// A value of the wrong kind.
    #[error("field `{field}` carries {expected}; the event gives {given}")]
    WrongKind {
        /// The field.
        field: String,
        /// `bytes (text)`, `an unsigned integer` or `a flag set`.
        expected: &'static str,
        /// What was given.
        given: &'static str,
    },
    /// A field named twice.
    #[error("field `{0}` is given twice")]
    Repeated(String),
}

fn expected(kind: InputKind) -> &'static str {
    match kind {
        InputKind::Bytes => "bytes (text, or {\"hex\": …})",
        InputKind::Unsigned => "an unsigned integer",
        InputKind::Flags => "a flag set (an unsigned integer)",
    }
}

/// The template type `name` names: its name, or its id written as a number.
#[must_use]
pub fn template_type_named<'s>(schema: &Schema<'s>, name: &str) -> Option<&'s TemplateType<'s>> {
    let types: &'s [TemplateType<'s>] = schema.template_types;
    types.iter().find(|t| t.name == name).or_else(|| {
        name.parse::<u16>()
            .ok()
            .and_then(|id| schema.template_type(id).map(|(_, t)| t))
    })
}

/// An input value as a reader holds it, borrowed: what [`resolve_into`] takes, so that a
/// columnar reader (replay's Arrow path) resolves rows without copying them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputRef<'a> {
    /// Text: the bytes of a bytes field.
    Text(&'a str),
    /// Raw bytes: the bytes of a bytes field.
    Bytes(&'a [u8]),
    /// A number: an unsigned or flags field.
    Number(u64),
}

impl RawInput {
    /// Borrowed.
    #[must_use]
    pub fn as_ref(&self) -> InputRef<'_> {
        match self {
            Self::Text(s) => InputRef::Text(s),
            Self::Bytes(b) => InputRef::Bytes(b),
            Self::Number(n) => InputRef::Number(*n),
        }
    }
}

/// Resolves an event of template type `template_type` for `profile` from its inputs by field
/// name.
///
/// # Errors
/// [`EventError`], naming what is wrong.
pub fn resolve<'i>(
    schema: &Schema<'_>,
    profile: &Profile<'_>,
    template_type: &str,
    inputs: impl IntoIterator<Item = (&'i str, &'i RawInput)>,
) -> Result<Event, EventError> {
    let t = template_type_named(schema, template_type)
        .ok_or_else(|| EventError::UnknownTemplateType(template_type.to_string()))?;
    let mut values = Vec::new();
    resolve_into(
        profile,
        t,
        inputs.into_iter().map(|(k, v)| (k, v.as_ref())),
        &mut values,
    )?;
    Ok(Event {
        template_type: t.id,
        values: values
            .iter()
            .map(|v| match *v {
                Value::Bytes(b) => EventValue::Bytes(b.to_vec()),
                Value::Unsigned(n) => EventValue::Unsigned(n),
                Value::Flags(n) => EventValue::Flags(n),
            })
            .collect(),
    })
}

/// The event of template type `t` for `profile` from its inputs by field name, written into
/// `values` (cleared first): one value per input the profile supplies, borrowing the inputs.
/// The one resolution every reader uses ([`resolve`], rule tests, `chanval test`, replay from
/// JSON Lines and from Parquet), so they cannot disagree on what an event means. Allocates
/// nothing once `values` has grown to the profile's input count.
///
/// # Errors
/// [`EventError`], naming what is wrong.
pub fn resolve_into<'a, 'n>(
    profile: &Profile<'_>,
    t: &TemplateType<'_>,
    inputs: impl IntoIterator<Item = (&'n str, InputRef<'a>)>,
    values: &mut Vec<Value<'a>>,
) -> Result<(), EventError> {
    let supply = profile
        .supply(t.id)
        .ok_or_else(|| EventError::NotSupplied {
            profile: profile.name.to_string(),
            template_type: t.name.to_string(),
        })?;
    values.clear();
    values.extend(supply.inputs.iter().map(|k| match k {
        InputKind::Bytes => Value::Bytes(&[]),
        InputKind::Unsigned => Value::Unsigned(0),
        InputKind::Flags => Value::Flags(0),
    }));
    // Which fields were given, as a bit set (no allocation).
    let mut given = [0u64; 2];
    for (name, raw) in inputs {
        let index = t
            .fields
            .iter()
            .position(|f| f.name == name)
            .ok_or_else(|| EventError::UnknownField {
                template_type: t.name.to_string(),
                field: name.to_string(),
            })?;
        let Some(slot) = values.get_mut(index) else {
            return Err(EventError::FieldNotSupplied {
                profile: profile.name.to_string(),
                field: name.to_string(),
                supplied: supply.inputs.len(),
            });
        };
        // Past 128 fields (a schema `schema check` refuses, CV0407) repeats go unnoticed.
        if let Some(seen) = given.get_mut(index / 64) {
            let bit = 1u64 << (index % 64);
            if *seen & bit != 0 {
                return Err(EventError::Repeated(name.to_string()));
            }
            *seen |= bit;
        }
        let kind = supply
            .inputs
            .get(index)
            .copied()
            .unwrap_or(InputKind::Bytes);
        *slot = match (kind, raw) {
            (InputKind::Bytes, InputRef::Text(s)) => Value::Bytes(s.as_bytes()),
            (InputKind::Bytes, InputRef::Bytes(b)) => Value::Bytes(b),
            (InputKind::Unsigned, InputRef::Number(n)) => Value::Unsigned(n),
            (InputKind::Flags, InputRef::Number(n)) => Value::Flags(n),
            (kind, raw) => {
                return Err(EventError::WrongKind {
                    field: name.to_string(),
                    expected: expected(kind),
                    given: match raw {
                        InputRef::Text(_) => "text",
                        InputRef::Bytes(_) => "bytes",
                        InputRef::Number(_) => "a number",
                    },
                });
            }
        };
    }
    Ok(())
}

/// Hex digits to bytes (`{ hex = "…" }` and `{"hex": "…"}` in events).
///
/// # Errors
/// A message when the text is not an even number of hex digits.
pub fn hex_bytes(text: &str) -> Result<Vec<u8>, String> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return Err("an odd number of hex digits".to_string());
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("`{}` is not a hex byte", String::from_utf8_lossy(pair)))
        })
        .collect()
}
