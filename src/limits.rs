//! Named limits: every count and length in a channel file is compared with one of these before
//! it is used, so no input can make the library loop, recurse or size anything without a bound.

/// The limits in force while parsing and validating. [`Limits::DEFAULT`] holds the hard maxima
/// of format version 1; callers may tighten any of them (values above the hard maxima are
/// clamped to them by [`Limits::clamped`], which every entry point applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Whole file, header to trailer, in bytes.
    pub max_file_len: usize,
    /// Instance records in one file.
    pub max_instances: u32,
    /// Bytes of one instance record after its length field.
    pub max_record_len: u32,
    /// Criteria in one instance; also the most input fields a template type may declare.
    pub max_criteria: u16,
    /// Bytes of one `exact` or `glob` pattern.
    pub max_pattern_len: u16,
}

/// The most criteria (and input fields) any template type can have. Fixed at compile time
/// because the exerciser builds its synthetic events in an array of this size on the stack.
pub const MAX_FIELDS: usize = 128;

/// The most profiles a schema may declare (a `ProfileSet` is a 64-bit mask).
pub const MAX_PROFILES: usize = 64;
/// The most template types a schema may declare (the validator tracks them in a fixed bitset).
pub const MAX_TEMPLATE_TYPES: usize = 256;

/// The most targets (interpreter profiles) one channel file may name: as many as a schema may
/// declare.
pub const MAX_TARGETS: usize = MAX_PROFILES;
/// The longest target (profile) name, in bytes.
pub const MAX_TARGET_NAME_LEN: usize = 64;
/// The longest targets block of a version-2 file: the count byte and [`MAX_TARGETS`] names of
/// [`MAX_TARGET_NAME_LEN`] bytes, each after its length byte.
pub const MAX_TARGETS_LEN: usize = 1 + MAX_TARGETS * (1 + MAX_TARGET_NAME_LEN);

/// The longest literal piece ("atom") the compiled program indexes an instance under. Atoms
/// ending at one input position have distinct lengths, so the prefilter reports at most this
/// many per input byte; the gate's cost model charges that.
pub const MAX_ATOM: usize = 8;

impl Limits {
    /// The hard maxima of format version 1.
    pub const DEFAULT: Self = Self {
        max_file_len: 256 * 1024 * 1024,
        max_instances: 4 * 1024 * 1024,
        max_record_len: 1024 * 1024,
        // MAX_FIELDS is 128, which fits a u16.
        max_criteria: 128,
        max_pattern_len: 4096,
    };

    /// These limits, with every value above the hard maximum lowered to it.
    #[must_use]
    pub const fn clamped(self) -> Self {
        const fn min_usize(a: usize, b: usize) -> usize {
            if a < b { a } else { b }
        }
        const fn min_u32(a: u32, b: u32) -> u32 {
            if a < b { a } else { b }
        }
        const fn min_u16(a: u16, b: u16) -> u16 {
            if a < b { a } else { b }
        }
        let d = Self::DEFAULT;
        Self {
            max_file_len: min_usize(self.max_file_len, d.max_file_len),
            max_instances: min_u32(self.max_instances, d.max_instances),
            max_record_len: min_u32(self.max_record_len, d.max_record_len),
            max_criteria: min_u16(self.max_criteria, d.max_criteria),
            max_pattern_len: min_u16(self.max_pattern_len, d.max_pattern_len),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamping_lowers_only_values_above_the_hard_maxima() {
        let loose = Limits {
            max_criteria: 1000,
            max_pattern_len: 10,
            ..Limits::DEFAULT
        };
        let c = loose.clamped();
        assert_eq!(c.max_criteria, 128);
        assert_eq!(c.max_pattern_len, 10);
        assert_eq!(usize::from(Limits::DEFAULT.max_criteria), MAX_FIELDS);
    }
}
