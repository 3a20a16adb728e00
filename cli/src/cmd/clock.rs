//! Times on the command line: `--now`, `--expires`, rollout start times and bake durations.
//!
//! A time is Unix seconds (`1767225600`), a UTC date (`2026-12-31` or `2026-12-31T08:00:00Z`)
//! or an offset from now (`+30d`, `+12h`, `+90m`, `+45s`). A duration is a number with an
//! optional unit (`s` by default, `m`, `h`, `d`).

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
    let bad = || {
        Failure(format!(
            "{what} `{}` is not a duration (a number with s, m, h or d, e.g. `2h`)",
            text.escape_debug()
        ))
    };
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(scale).ok_or_else(bad)
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

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ`, UTC, in Unix seconds.
fn date(text: &str) -> Option<u64> {
    let (day, clock) = match text.split_once('T') {
        Some((d, c)) => (d, Some(c.strip_suffix('Z')?)),
        None => (text, None),
    };
    let mut parts = day.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let dom: i64 = parts.next()?.parse().ok()?;
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&dom) {
        return None;
    }
    let (h, m, s) = match clock {
        None => (0, 0, 0),
        Some(c) => {
            let mut f = c.splitn(3, ':');
            let h: i64 = f.next()?.parse().ok()?;
            let m: i64 = f.next()?.parse().ok()?;
            let s: i64 = f.next()?.parse().ok()?;
            if h > 23 || m > 59 || s > 60 {
                return None;
            }
            (h, m, s)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + dom - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + m * 60 + s).ok()
}

/// A Unix time as a UTC date and time, for people.
pub fn show(seconds: u64) -> String {
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let rest = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
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
        assert_eq!(duration("90m", "d").unwrap(), 5400);
        assert!(duration("5w", "d").is_err());
    }
}
