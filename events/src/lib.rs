//! Events as JSON Lines: one event per line, the one format `chanval test` and replay read
//! (docs/EVENTS.md describes it). A line is
//!
//! ```json
//! {"template_type": "process_start", "profile": "sensor-7.12", "host": "ws-042",
//!  "time": "2026-12-01T08:00:00Z", "inputs": {"image_name": "C:\\x\\cmd.exe", "pid": 4}}
//! ```
//!
//! `template_type` is a name (or an id as a number or string); `inputs` map field names to
//! text, numbers, or `{"hex": "…"}` for raw bytes; `profile`, `host` and `time` are optional.
//! Field names follow OCSF's where they fit (`time`, `host`); the inputs are the schema's own.
//! Resolution against a schema is the library's (`chanval::event::resolve`), so a line means
//! the same here as a rule test in a source does.
//!
//! Reading is bounded: a line longer than the cap is an error for that line (its bytes are
//! skipped, not kept), and nothing else is buffered.

#![forbid(unsafe_code)]

use std::io::BufRead;

use chanval::event::{Event, EventError, RawInput, hex_bytes, resolve};
use chanval::{Profile, Schema};
use serde::Deserialize;
use serde_json::Value;

/// The longest line read by default: 1 MiB.
pub const MAX_LINE: usize = 1 << 20;

/// One line, decoded but not yet resolved against a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    /// The template type as written: a name, or an id.
    pub template_type: String,
    /// The profile, if the line names one.
    pub profile: Option<String>,
    /// The host, if given.
    pub host: Option<String>,
    /// The time, if given (as written).
    pub time: Option<String>,
    /// The inputs by field name, in the line's order.
    pub inputs: Vec<(String, RawInput)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineJson {
    template_type: Value,
    profile: Option<String>,
    host: Option<String>,
    time: Option<Value>,
    #[serde(default)]
    inputs: Inputs,
}

/// The `inputs` object, decoded straight into its values (no intermediate JSON tree): each
/// value an input, or why it is not one — judged per field after decoding, so that the error
/// names the field.
#[derive(Default)]
struct Inputs(Vec<(String, Result<RawInput, String>)>);

/// One input value.
struct InputJson(Result<RawInput, String>);

const NOT_AN_INPUT: &str = "an input is text, a number, or {\"hex\": \"…\"}";
const NOT_HEX: &str = "an object input is {\"hex\": \"…\"}";
const NOT_UNSIGNED: &str = "numbers are unsigned integers of at most 64 bits";

impl<'de> Deserialize<'de> for InputJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = InputJson;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(NOT_AN_INPUT)
            }
            fn visit_str<E>(self, v: &str) -> Result<InputJson, E> {
                Ok(InputJson(Ok(RawInput::Text(v.to_string()))))
            }
            fn visit_string<E>(self, v: String) -> Result<InputJson, E> {
                Ok(InputJson(Ok(RawInput::Text(v))))
            }
            fn visit_u64<E>(self, v: u64) -> Result<InputJson, E> {
                Ok(InputJson(Ok(RawInput::Number(v))))
            }
            fn visit_i64<E>(self, v: i64) -> Result<InputJson, E> {
                Ok(InputJson(
                    u64::try_from(v)
                        .map(RawInput::Number)
                        .map_err(|_| NOT_UNSIGNED.to_string()),
                ))
            }
            fn visit_f64<E>(self, _: f64) -> Result<InputJson, E> {
                Ok(InputJson(Err(NOT_UNSIGNED.to_string())))
            }
            fn visit_bool<E>(self, _: bool) -> Result<InputJson, E> {
                Ok(InputJson(Err(NOT_AN_INPUT.to_string())))
            }
            fn visit_unit<E>(self) -> Result<InputJson, E> {
                Ok(InputJson(Err(NOT_AN_INPUT.to_string())))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<InputJson, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(InputJson(Err(NOT_AN_INPUT.to_string())))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<InputJson, A::Error> {
                let mut hex: Option<String> = None;
                let mut other = false;
                while let Some(key) = a.next_key::<String>()? {
                    if key == "hex" && hex.is_none() {
                        match a.next_value::<Value>()? {
                            Value::String(h) => hex = Some(h),
                            _ => other = true,
                        }
                    } else {
                        let _ = a.next_value::<serde::de::IgnoredAny>()?;
                        other = true;
                    }
                }
                Ok(InputJson(match (hex, other) {
                    (Some(h), false) => hex_bytes(&h).map(RawInput::Bytes),
                    _ => Err(NOT_HEX.to_string()),
                }))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Inputs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Inputs;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of inputs by field name")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Inputs, A::Error> {
                let mut out = Vec::with_capacity(a.size_hint().unwrap_or(8));
                while let Some((k, v)) = a.next_entry::<String, InputJson>()? {
                    out.push((k, v.0));
                }
                // In name order, as the columns of a Parquet row are judged: the first problem
                // of an event is the same in both forms.
                out.sort_by(|x, y| x.0.cmp(&y.0));
                Ok(Inputs(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Why a line is not an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// Not JSON, or not the shape of an event.
    Malformed(String),
    /// Longer than the cap.
    TooLong {
        /// The cap.
        max: usize,
    },
    /// An input that is neither text, nor a number, nor `{"hex": …}`.
    BadInput {
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Valid JSON, but not an event of the schema (unknown type or field, wrong kind…).
    Resolve(EventError),
    /// The line names no profile and none was given to choose.
    NoProfile,
    /// The line could not be read (I/O).
    Io(String),
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(m) => write!(f, "not an event: {m}"),
            Self::TooLong { max } => write!(f, "longer than the {max}-byte limit for a line"),
            Self::BadInput { field, message } => write!(f, "input `{field}`: {message}"),
            Self::Resolve(e) => write!(f, "{e}"),
            Self::NoProfile => f.write_str(
                "the line names no `profile`, and none was given (--profile) to evaluate it under",
            ),
            Self::Io(m) => write!(f, "cannot read: {m}"),
        }
    }
}

impl std::error::Error for LineError {}

/// Decodes one line.
///
/// # Errors
/// [`LineError`] when it is not an event.
pub fn parse_line(line: &str) -> Result<RawEvent, LineError> {
    let json: LineJson =
        serde_json::from_str(line).map_err(|e| LineError::Malformed(e.to_string()))?;
    let template_type = match json.template_type {
        Value::String(s) => s,
        Value::Number(n) if n.as_u64().is_some() => n.to_string(),
        _ => {
            return Err(LineError::Malformed(
                "`template_type` is a name or an id".to_string(),
            ));
        }
    };
    let time = json.time.map(|t| match t {
        Value::String(s) => s,
        other => other.to_string(),
    });
    let inputs = json
        .inputs
        .0
        .into_iter()
        .map(|(k, v)| match v {
            Ok(r) => Ok((k, r)),
            Err(message) => Err(LineError::BadInput { field: k, message }),
        })
        .collect::<Result<_, _>>()?;
    Ok(RawEvent {
        template_type,
        profile: json.profile,
        host: json.host,
        time,
        inputs,
    })
}

impl RawEvent {
    /// The profile to evaluate the event under: its own, else `default`.
    #[must_use]
    pub fn profile_or<'x>(&'x self, default: Option<&'x str>) -> Option<&'x str> {
        self.profile.as_deref().or(default)
    }

    /// The event resolved for `profile` of `schema`.
    ///
    /// # Errors
    /// [`LineError::Resolve`].
    pub fn resolve(&self, schema: &Schema<'_>, profile: &Profile<'_>) -> Result<Event, LineError> {
        resolve(
            schema,
            profile,
            &self.template_type,
            self.inputs.iter().map(|(k, v)| (k.as_str(), v)),
        )
        .map_err(LineError::Resolve)
    }
}

/// The raw lines of a JSON Lines stream, numbered from 1, trimmed, blank ones skipped: the text
/// of each, or why it is not one. A line longer than `max_line` bytes is an error and its bytes
/// are dropped as they are read, so memory stays bounded whatever the input. Decode each with
/// [`parse_line`] (possibly on other threads: replay does); [`Lines`] does both.
pub struct RawLines<R> {
    reader: R,
    line: u64,
    max_line: usize,
    buffer: Vec<u8>,
    /// A read failed: the stream ends after reporting it (reading on would repeat it).
    failed: bool,
}

impl<R: BufRead> RawLines<R> {
    /// Lines of `reader`, at most [`MAX_LINE`] bytes each.
    pub fn new(reader: R) -> Self {
        Self::with_max_line(reader, MAX_LINE)
    }

    /// Lines of `reader`, at most `max_line` bytes each.
    pub fn with_max_line(reader: R, max_line: usize) -> Self {
        Self {
            reader,
            line: 0,
            max_line,
            buffer: Vec::new(),
            failed: false,
        }
    }

    /// Reads the next line into the buffer, up to the cap; `Ok(None)` at the end, `Ok(Some(false))`
    /// for a line past the cap (whose rest is skipped).
    fn next_line(&mut self) -> std::io::Result<Option<bool>> {
        self.buffer.clear();
        let mut over = false;
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                return Ok((!self.buffer.is_empty() || over).then_some(!over));
            }
            let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
                Some(at) => (&available[..at], Some(at + 1)),
                None => (available, None),
            };
            if !over {
                if self.buffer.len() + chunk.len() > self.max_line {
                    over = true;
                    self.buffer.clear();
                } else {
                    self.buffer.extend_from_slice(chunk);
                }
            }
            let consumed = done.unwrap_or(available.len());
            self.reader.consume(consumed);
            if done.is_some() {
                return Ok(Some(!over));
            }
        }
    }
}

impl<R: BufRead> Iterator for RawLines<R> {
    type Item = (u64, Result<String, LineError>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            let read = self.next_line();
            self.line += 1;
            let line = self.line;
            return match read {
                Err(e) => {
                    self.failed = true;
                    Some((line, Err(LineError::Io(e.to_string()))))
                }
                Ok(None) => None,
                Ok(Some(false)) => Some((line, Err(LineError::TooLong { max: self.max_line }))),
                Ok(Some(true)) => {
                    let text = match std::str::from_utf8(&self.buffer) {
                        Ok(t) => t.trim(),
                        Err(_) => {
                            return Some((
                                line,
                                Err(LineError::Malformed("not UTF-8".to_string())),
                            ));
                        }
                    };
                    if text.is_empty() {
                        continue;
                    }
                    Some((line, Ok(text.to_string())))
                }
            };
        }
    }
}

/// The lines of a JSON Lines stream, numbered from 1: each an event or why not ([`RawLines`],
/// each decoded with [`parse_line`]).
pub struct Lines<R>(RawLines<R>);

impl<R: BufRead> Lines<R> {
    /// Lines of `reader`, at most [`MAX_LINE`] bytes each.
    pub fn new(reader: R) -> Self {
        Self(RawLines::new(reader))
    }

    /// Lines of `reader`, at most `max_line` bytes each.
    pub fn with_max_line(reader: R, max_line: usize) -> Self {
        Self(RawLines::with_max_line(reader, max_line))
    }
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = (u64, Result<RawEvent, LineError>);

    fn next(&mut self) -> Option<Self::Item> {
        let (line, text) = self.0.next()?;
        Some((line, text.and_then(|t| parse_line(&t))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_bounded_and_decoded() {
        let text = "{\"template_type\": \"t\", \"inputs\": {\"a\": \"x\", \"n\": 4, \"b\": {\"hex\": \"00ff\"}}}\n\n\
                    not json\n{\"template_type\": \"t\", \"inputs\": {\"a\": [1]}}\n"
            .to_string()
            + &"x".repeat(100)
            + "\n{\"template_type\": 7}";
        let lines: Vec<_> = Lines::with_max_line(text.as_bytes(), 90).collect();
        assert_eq!(lines.len(), 5);
        let (n, first) = &lines[0];
        assert_eq!(*n, 1);
        let first = first.as_ref().unwrap();
        assert_eq!(
            first.inputs[1],
            ("b".to_string(), RawInput::Bytes(vec![0, 0xff]))
        );
        assert_eq!(lines[1].0, 3);
        assert!(matches!(lines[1].1, Err(LineError::Malformed(_))));
        assert!(matches!(lines[2].1, Err(LineError::BadInput { .. })));
        assert_eq!(
            (lines[3].0, lines[3].1.clone().unwrap_err()),
            (5, LineError::TooLong { max: 90 })
        );
        assert_eq!(lines[4].1.as_ref().unwrap().template_type, "7");
    }
}

/// An event's `time` (docs/EVENTS.md) in Unix seconds: a number of seconds, or an RFC 3339 UTC
/// date and time (`2026-12-01T08:00:00Z`, fractions of a second and a `+HH:MM` offset allowed),
/// or a date alone (`2026-12-01`). `None` for anything else, or a time before 1970.
#[must_use]
pub fn unix_seconds(time: &str) -> Option<u64> {
    let time = time.trim();
    if let Ok(seconds) = time.parse::<u64>() {
        return Some(seconds);
    }
    let (day, clock) = match time.split_once(['T', 't', ' ']) {
        Some((d, c)) => (d, Some(c)),
        None => (time, None),
    };
    let mut parts = day.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let dom: i64 = parts.next()?.parse().ok()?;
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&dom) {
        return None;
    }
    let (mut h, mut m, mut s, mut offset) = (0i64, 0i64, 0i64, 0i64);
    if let Some(clock) = clock {
        // The zone: `Z`, or `+HH:MM` / `-HH:MM` after the seconds.
        let (hms, zone) = if let Some(c) = clock.strip_suffix(['Z', 'z']) {
            (c, None)
        } else if let Some(at) = clock.rfind(['+', '-']) {
            (clock.get(..at)?, Some(clock.get(at..)?))
        } else {
            return None;
        };
        let mut f = hms.splitn(3, ':');
        h = f.next()?.parse().ok()?;
        m = f.next()?.parse().ok()?;
        let seconds = f.next()?;
        let whole = seconds.split_once('.').map_or(seconds, |(w, _)| w);
        s = whole.parse().ok()?;
        if h > 23 || m > 59 || s > 60 {
            return None;
        }
        if let Some(zone) = zone {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (zh, zm) = zone.get(1..)?.split_once(':')?;
            let (zh, zm): (i64, i64) = (zh.parse().ok()?, zm.parse().ok()?);
            if zh > 23 || zm > 59 {
                return None;
            }
            offset = sign * (zh * 3600 + zm * 60);
        }
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + dom - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + m * 60 + s - offset).ok()
}

#[cfg(test)]
mod time_tests {
    use super::unix_seconds;

    #[test]
    fn times_read_as_events_write_them() {
        assert_eq!(unix_seconds("1796112000"), Some(1_796_112_000));
        assert_eq!(unix_seconds("2026-12-01T08:00:00Z"), Some(1_796_112_000));
        assert_eq!(
            unix_seconds("2026-12-01T08:00:00.250Z"),
            Some(1_796_112_000)
        );
        assert_eq!(
            unix_seconds("2026-12-01T09:30:00+01:30"),
            Some(1_796_112_000)
        );
        assert_eq!(
            unix_seconds("2026-12-01T06:00:00-02:00"),
            Some(1_796_112_000)
        );
        assert_eq!(unix_seconds("2026-12-01"), Some(1_796_083_200));
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-12-01T25:00:00Z",
            "1969-12-31",
            "-5",
        ] {
            assert_eq!(unix_seconds(bad), None, "{bad}");
        }
    }
}
