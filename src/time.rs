//! Times as people read them: a Unix time shown as a UTC date and time (`2026-12-01T08:00:00Z`),
//! so that every refusal that names a time (an expiry, a ring's opening) says when, not a count
//! of seconds. No `std`, no allocation.

use core::fmt;

/// Unix seconds, shown as a UTC date and time (RFC 3339).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub u64);

impl UnixTime {
    /// (year, month, day, hour, minute, second) in UTC.
    #[must_use]
    pub const fn civil(self) -> (u64, u64, u64, u64, u64, u64) {
        let secs = self.0;
        let days = secs / 86_400;
        let rest = secs % 86_400;
        // Howard Hinnant's days-to-civil, on unsigned numbers (from 1970 on, no era before 0).
        // days < 2^48, so no step below can wrap: the wrapping forms only say so to the lints.
        let z = days.wrapping_add(719_468);
        let era = z / 146_097;
        let doe = z.wrapping_sub(era.wrapping_mul(146_097));
        let yoe = doe
            .wrapping_sub(doe / 1_460)
            .wrapping_add(doe / 36_524)
            .wrapping_sub(doe / 146_096)
            / 365;
        let doy = doe.wrapping_sub(
            yoe.wrapping_mul(365)
                .wrapping_add(yoe / 4)
                .wrapping_sub(yoe / 100),
        );
        let mp = doy.wrapping_mul(5).wrapping_add(2) / 153;
        let day = doy
            .wrapping_sub(mp.wrapping_mul(153).wrapping_add(2) / 5)
            .wrapping_add(1);
        let month = if mp < 10 {
            mp.wrapping_add(3)
        } else {
            mp.wrapping_sub(9)
        };
        let year = yoe
            .wrapping_add(era.wrapping_mul(400))
            .wrapping_add(if month <= 2 { 1 } else { 0 });
        (year, month, day, rest / 3_600, rest % 3_600 / 60, rest % 60)
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Past year 9999 a date says nothing a person can use: show the seconds.
        if self.0 >= 253_402_300_800 {
            return write!(f, "Unix time {}", self.0);
        }
        let (y, mo, d, h, mi, s) = self.civil();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::UnixTime;

    #[test]
    fn dates_read_as_people_write_them() {
        assert_eq!(UnixTime(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            UnixTime(1_796_083_200 + 3_661).to_string(),
            "2026-12-01T01:01:01Z"
        );
        assert_eq!(UnixTime(951_782_400).to_string(), "2000-02-29T00:00:00Z");
        assert_eq!(
            UnixTime(253_402_300_799).to_string(),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(
            UnixTime(u64::MAX).to_string(),
            format!("Unix time {}", u64::MAX)
        );
    }
}
