//! Times on the command line: `--now`, `--expires`, rollout start times and bake durations.
//!
//! A time is Unix seconds (`1767225600`), a UTC date (`2026-12-31` or `2026-12-31T08:00:00Z`)
//! or an offset from now (`+30d`, `+12h`, `+90min`, `+45s`). A duration is a number and a unit
//! that cannot be misread: `s`, `min`, `h`, `d` or `w` (or the words). `m` is refused — `+12m`
//! is 12 minutes to one reader and 12 months to another — and so are months and years, whose
//! length varies.

use crate::files::Failure;

/// Now, from the system clock.
pub fn system_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `--now`, or the system clock.
pub fn now(given: Option<&str>) -> Result<u64, Failure> {
    match given {
        Some(t) => time(t, system_now(), "--now"),
        None => Ok(system_now()),
    }
}

/// A duration in seconds.
pub fn duration(text: &str, what: &str) -> Result<u64, Failure> {
    let shown = text.escape_debug().to_string();
    let bad = |why: &str| Failure(format!("{what} `{shown}`: {why}"));
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let n: u64 = digits.parse().map_err(|_| {
        bad("not a duration (a whole number and a unit: s, min, h, d or w, e.g. `4h`)")
    })?;
    let scale = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 604_800,
        "" => {
            return Err(bad(&format!(
                "a duration needs its unit: `{n}s`, `{n}min`, `{n}h` or `{n}d`"
            )));
        }
        "m" => {
            return Err(bad(&format!(
                "`m` could be minutes or months: write `{n}min` for minutes, or days for months \
                 (`{}d`)",
                n.saturating_mul(30)
            )));
        }
        "mo" | "mon" | "month" | "months" | "y" | "yr" | "year" | "years" => {
            return Err(bad(&format!(
                "months and years vary in length: write days (`{}d`)",
                n.saturating_mul(if unit.starts_with('y') { 365 } else { 30 })
            )));
        }
        other => {
            return Err(bad(&format!(
                "unknown unit `{}` (s, min, h, d or w)",
                other.escape_debug()
            )));
        }
    };
    n.checked_mul(scale).ok_or_else(|| bad("too long"))
}

/// A time in Unix seconds (see the module's forms); offsets are from `now`.
pub fn time(text: &str, now: u64, what: &str) -> Result<u64, Failure> {
    let text = text.trim();
    if let Some(offset) = text.strip_prefix('+') {
        return now
            .checked_add(duration(offset, what)?)
            .ok_or_else(|| Failure(format!("{what} `{text}` is too far in the future")));
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(seconds);
    }
    date(text).ok_or_else(|| {
        Failure(format!(
            "{what} `{}` is not a time: give Unix seconds, a UTC date such as 2026-12-31 or \
             2026-12-31T08:00:00Z, or an offset such as +30d",
            text.escape_debug()
        ))
    })
}

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ` (an RFC 3339 time), in Unix seconds: the events'
/// reader of times, so a time means the same in an event and on the command line.
fn date(text: &str) -> Option<u64> {
    chanval_events::unix_seconds(text)
}

/// A Unix time as a UTC date and time, for people.
pub fn show(seconds: u64) -> String {
    chanval::trust::UnixTime(seconds).to_string()
}

/// A span of seconds as people say it: `4h`, `1d 12h`, `90min`.
pub fn span(seconds: u64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
        seconds % 60,
    );
    let parts: Vec<String> = [(d, "d"), (h, "h"), (m, "min"), (s, "s")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect();
    if parts.is_empty() {
        "0s".to_string()
    } else {
        parts.join(" ")
    }
}

/// `when` must be after `now`: an expiry in the past would sign something no agent takes.
pub fn future(when: u64, now: u64, what: &str) -> Result<u64, Failure> {
    if when <= now {
        return Err(Failure(format!(
            "{what} {} is not in the future (the time is {}); give a later time, or an offset \
             such as +30d",
            show(when),
            show(now)
        )));
    }
    Ok(when)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_offsets_read_as_unix_seconds_and_show_back() {
        assert_eq!(time("2026-12-01", 0, "t").unwrap(), 1_796_083_200);
        assert_eq!(time("1970-01-01T00:01:05Z", 0, "t").unwrap(), 65);
        assert_eq!(time("+2h", 100, "t").unwrap(), 7300);
        assert_eq!(time("42", 0, "t").unwrap(), 42);
        assert!(time("yesterday", 0, "t").is_err());
        assert_eq!(show(1_796_083_200 + 3661), "2026-12-01T01:01:01Z");
        assert_eq!(duration("90min", "d").unwrap(), 5400);
        assert_eq!(duration("2w", "d").unwrap(), 1_209_600);
        assert_eq!(span(129_600), "1d 12h");
        // Ambiguous or unitless durations are refused, with the unambiguous spelling.
        let m = duration("12m", "--expires").unwrap_err().0;
        assert!(m.contains("12min") && m.contains("360d"), "{m}");
        assert!(time("+12m", 0, "--expires").is_err());
        assert!(duration("3mo", "bake").unwrap_err().0.contains("90d"));
        assert!(duration("90", "bake").unwrap_err().0.contains("90min"));
        assert!(future(5, 10, "--expires").is_err());
    }
}
