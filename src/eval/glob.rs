//! Glob matching with `*` (any run of bytes) and `?` (one byte), optionally ASCII case-folded,
//! in time linear in the text.
//!
//! A pattern is split at its stars into *segments*: runs of literal bytes and `?`. The segment
//! before the first star (the head) must match the start of the text, the one after the last
//! star (the tail) its end; the segments between are searched for left to right, each once,
//! from where the previous one ended, and each is placed at its leftmost occurrence.
//!
//! **Why leftmost placement is enough.** Suppose some way to match exists, placing the middle
//! segments at positions `p1 < p2 < …` (each starting after the previous one ends, all inside
//! the text between head and tail). The greedy search places the first segment at `q1 ≤ p1`,
//! since `p1` is an occurrence at or after the start and `q1` is the leftmost. If `qi ≤ pi`, the
//! search for segment `i+1` starts at `qi + len ≤ pi + len ≤ p(i+1)`, and `p(i+1)` is an
//! occurrence there, so it finds `q(i+1) ≤ p(i+1)`. So every segment is found, and each ends no
//! later than in the assumed match, hence before the tail. Conversely, what the search finds is
//! a match: the stars absorb the bytes between segments. So the greedy answer is exact.
//!
//! **Why it is linear.** Each search starts where the previous segment ended and only moves
//! right. In a text of at most 64 bytes a segment is simply compared at each position (at most
//! 1,024 comparisons: a constant). A literal segment without `?` is searched with `memchr`'s `memmem` (Two-Way: linear in
//! the text, no allocation). A segment with `?`, or any case-folded one, is searched with the
//! bit-parallel shift-and algorithm over its first 64 bytes (one word of state: a constant
//! number of steps per text byte), and a longer segment's remaining bytes are compared at each
//! hit; that comparison is the only term that grows with the pattern, and [`glob_cost`] charges
//! it, so the gate's cost budget bounds it. The compiled program lowers case-folded text and
//! patterns once, so its folded literal segments take the `memmem` path too.

/// Bytes of a segment the shift-and state covers: one `u64`.
const WORD: usize = 64;

/// What evaluating a criterion costs at worst, in matcher steps: `per_byte` steps for each byte
/// of the input it reads, plus `constant` steps. Costs add across criteria and instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cost {
    /// Steps per input byte.
    pub per_byte: u64,
    /// Steps independent of the input's length.
    pub constant: u64,
}

impl Cost {
    /// Both parts added, saturating.
    #[must_use]
    pub const fn plus(self, other: Self) -> Self {
        Self {
            per_byte: self.per_byte.saturating_add(other.per_byte),
            constant: self.constant.saturating_add(other.constant),
        }
    }
}

/// Splits a pattern at its first and last star: head, middle (with inner stars), tail.
/// `None` when the pattern has no star.
fn split_stars(pattern: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let first = pattern.iter().position(|&b| b == b'*')?;
    let last = pattern.iter().rposition(|&b| b == b'*').unwrap_or(first);
    let head = pattern.get(..first).unwrap_or(&[]);
    let middle = pattern.get(first.saturating_add(1)..last).unwrap_or(&[]);
    let tail = pattern.get(last.saturating_add(1)..).unwrap_or(&[]);
    Some((head, middle, tail))
}

/// The non-empty segments between stars.
fn segments(middle: &[u8]) -> impl Iterator<Item = &[u8]> {
    middle.split(|&b| b == b'*').filter(|s| !s.is_empty())
}

/// Whether `text` (of the segment's length) matches `segment` byte for byte.
#[inline]
pub(crate) fn fits(segment: &[u8], text: &[u8], fold: bool) -> bool {
    segment.len() == text.len()
        && segment
            .iter()
            .zip(text)
            .all(|(&p, &t)| p == b'?' || p == t || (fold && p.eq_ignore_ascii_case(&t)))
}

/// Below this many bytes of text, a segment is looked for by comparing it at each position:
/// at most `(n / 2)²` = 1,024 byte comparisons, less than setting up either search below.
pub(crate) const SHORT_TEXT: usize = 64;

/// The leftmost occurrence of `segment` in a short `hay`, compared at each position.
pub(crate) fn find_short(segment: &[u8], hay: &[u8], fold: bool) -> Option<usize> {
    let last = hay.len().checked_sub(segment.len())?;
    (0..=last).find(|&at| {
        hay.get(at..at.saturating_add(segment.len()))
            .is_some_and(|t| fits(segment, t, fold))
    })
}

/// The leftmost occurrence of `segment` (not empty) in `hay`.
fn find(segment: &[u8], hay: &[u8], fold: bool) -> Option<usize> {
    if hay.len() <= SHORT_TEXT {
        return find_short(segment, hay, fold);
    }
    if !fold && !segment.contains(&b'?') {
        return memchr::memmem::find(hay, segment);
    }
    let (prefix, rest) = segment.split_at(segment.len().min(WORD));
    // Shift-and: bit i of `state` is set when the last i+1 text bytes match prefix[..=i].
    let mut masks = [0u64; 256];
    let mut any = 0u64;
    for (i, &p) in prefix.iter().enumerate() {
        let bit = 1u64.wrapping_shl(u32::try_from(i).unwrap_or(0));
        if p == b'?' {
            any |= bit;
            continue;
        }
        for b in [p, p.to_ascii_lowercase(), p.to_ascii_uppercase()] {
            if (b == p || fold)
                && let Some(m) = masks.get_mut(usize::from(b))
            {
                *m |= bit;
            }
        }
    }
    let accept = 1u64.wrapping_shl(u32::try_from(prefix.len().saturating_sub(1)).unwrap_or(0));
    let mut state = 0u64;
    for (i, &c) in hay.iter().enumerate() {
        let mask = masks.get(usize::from(c)).copied().unwrap_or(0) | any;
        state = (state.wrapping_shl(1) | 1) & mask;
        if state & accept != 0 {
            // `i` is the prefix's last byte, so `i + 1 >= prefix.len()`.
            let start = i.saturating_add(1).saturating_sub(prefix.len());
            let after = i.saturating_add(1);
            let tail_ok = hay
                .get(after..after.saturating_add(rest.len()))
                .is_some_and(|t| fits(rest, t, fold));
            if tail_ok {
                return Some(start);
            }
        }
    }
    None
}

/// Whether `text` matches `pattern`.
#[must_use]
pub fn glob_match(pattern: &[u8], text: &[u8], fold: bool) -> bool {
    let Some((head, middle, tail)) = split_stars(pattern) else {
        return fits(pattern, text, fold);
    };
    if head.len().saturating_add(tail.len()) > text.len() {
        return false;
    }
    let (text_head, rest) = text.split_at(head.len());
    let (mut rest, text_tail) = rest.split_at(rest.len().saturating_sub(tail.len()));
    if !fits(head, text_head, fold) || !fits(tail, text_tail, fold) {
        return false;
    }
    for segment in segments(middle) {
        let Some(at) = find(segment, rest, fold) else {
            return false;
        };
        rest = rest.get(at.saturating_add(segment.len())..).unwrap_or(&[]);
    }
    true
}

/// What the gate needs to know of a glob pattern, found in one pass over it ([`glob_facts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobFacts {
    /// Number of `*` bytes.
    pub stars: usize,
    /// Offset of the first `[` or `{`, the bytes other dialects' classes and alternations
    /// start with (the validator then looks closer); `None` when there is neither.
    pub bracket: Option<usize>,
    /// Worst-case cost, as [`glob_cost`] computes it.
    pub cost: Cost,
}

impl GlobFacts {
    /// Whether the pattern matches every text: not empty, and made of stars only.
    #[must_use]
    pub const fn matches_everything(&self, pattern: &[u8]) -> bool {
        self.stars > 0 && self.stars == pattern.len()
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether some byte of `word` may be `byte`: exact when false (no byte of `word` is `byte`),
/// and possibly true for a byte after a real one (the classic SWAR zero-byte test), which the
/// caller resolves byte by byte.
#[inline(always)]
const fn may_hold(word: u64, byte: u8) -> u64 {
    let x = word ^ ONES.wrapping_mul(byte as u64);
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// The high bit of every byte of `word` that may be one a glob scan stops at; the lowest one
/// set is exact (the SWAR test's false positives lie only above a true match).
#[inline(always)]
const fn specials(word: u64) -> u64 {
    may_hold(word, b'*') | may_hold(word, b'?') | may_hold(word, b'[') | may_hold(word, b'{')
}

/// Stars, questions, brackets and the cost of `pattern` in one pass, skipping eight literal bytes
/// at a time (SWAR on `u64`, no `unsafe`): the validator asks this of every glob, and four
/// separate scans (stars for the cost, stars for the shortest match, all-stars, foreign syntax),
/// each a `memchr` call on a short pattern, were a quarter of validation time.
#[must_use]
pub fn glob_facts(pattern: &[u8], fold: bool) -> GlobFacts {
    scan(pattern, fold, fold)
}

/// Eight stars: a word of them needs no look at each byte (the star-heavy adversarial file).
const STARS: u64 = 0x2a2a_2a2a_2a2a_2a2a;

/// The state of [`scan`]: what is known so far and the segment being read.
struct Scan {
    folding: bool,
    stars: usize,
    bracket: Option<usize>,
    per_byte: u64,
    /// Where the current segment started (after the last star); `None` before the first star
    /// (the head, which costs only the constant, as does the tail after the last).
    segment_start: Option<usize>,
    question: bool,
}

impl Scan {
    /// A segment between two stars is a search; a literal one costs one step per text byte, one
    /// with `?` (or folded as it compares) shift-and plus the bytes past its first word.
    #[inline(always)]
    fn close_segment(&mut self, at: usize) {
        if let Some(start) = self.segment_start
            && at > start
        {
            let len = at.saturating_sub(start);
            let step = if !self.folding && !self.question {
                1
            } else {
                u64::try_from(len.saturating_sub(WORD))
                    .unwrap_or(u64::MAX)
                    .saturating_add(1)
            };
            self.per_byte = self.per_byte.saturating_add(step);
        }
    }

    /// One byte that may be special, at offset `at`.
    #[inline(always)]
    fn visit(&mut self, b: u8, at: usize) {
        match b {
            b'*' => {
                self.close_segment(at);
                self.stars = self.stars.saturating_add(1);
                self.segment_start = Some(at.saturating_add(1));
                self.question = false;
            }
            b'?' => self.question = true,
            b'[' | b'{' if self.bracket.is_none() => self.bracket = Some(at),
            _ => {}
        }
    }
}

#[inline]
fn scan(pattern: &[u8], fold: bool, folding: bool) -> GlobFacts {
    let constant = u64::try_from(pattern.len())
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut s = Scan {
        folding,
        stars: 0,
        bracket: None,
        per_byte: 0,
        segment_start: None,
        question: false,
    };
    let mut at = 0usize;
    let mut words = pattern.chunks_exact(8);
    for word in words.by_ref() {
        let Some(bytes) = word.first_chunk::<8>() else {
            break;
        };
        let w = u64::from_le_bytes(*bytes);
        if w == STARS {
            s.close_segment(at);
            s.stars = s.stars.saturating_add(8);
            s.segment_start = Some(at.saturating_add(8));
            s.question = false;
        } else {
            // Only the bytes the SWAR test flags, in order; it never misses a special byte and
            // `visit` ignores the few it flags wrongly.
            let mut found = specials(w);
            while found != 0 {
                let k = (found.trailing_zeros() / 8) as usize;
                found &= found.wrapping_sub(1);
                if let Some(&b) = bytes.get(k) {
                    s.visit(b, at.saturating_add(k));
                }
            }
        }
        at = at.saturating_add(8);
    }
    for &b in words.remainder() {
        s.visit(b, at);
        at = at.saturating_add(1);
    }
    let mut per_byte = s.per_byte;
    if s.stars > 0 {
        per_byte = per_byte.saturating_add(u64::from(fold));
    }
    GlobFacts {
        stars: s.stars,
        bracket: s.bracket,
        cost: Cost { per_byte, constant },
    }
}

/// The worst-case cost of matching `pattern` against a text, as [`glob_match`] runs it on
/// text and pattern already lowered when `lowered` (the compiled program's way with case
/// folding), or folding as it compares otherwise.
#[must_use]
pub fn glob_cost(pattern: &[u8], fold: bool, lowered: bool) -> Cost {
    scan(pattern, fold, fold && !lowered).cost
}

/// Whether the pattern matches every text (it is made of `*` only, and not empty).
#[must_use]
pub fn matches_everything(pattern: &[u8]) -> bool {
    !pattern.is_empty() && pattern.iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cost and facts the obvious way: split at the stars, charge the middle segments.
    fn reference(pattern: &[u8], fold: bool, lowered: bool) -> (usize, Option<usize>, Cost) {
        let folding = fold && !lowered;
        let parts: Vec<&[u8]> = pattern.split(|&b| b == b'*').collect();
        let stars = parts.len() - 1;
        let mut per_byte = if stars > 0 { u64::from(fold) } else { 0 };
        if parts.len() > 2 {
            for seg in &parts[1..parts.len() - 1] {
                if seg.is_empty() {
                    continue;
                }
                per_byte += if !folding && !seg.contains(&b'?') {
                    1
                } else {
                    seg.len().saturating_sub(WORD) as u64 + 1
                };
            }
        }
        let bracket = pattern.iter().position(|&b| b == b'[' || b == b'{');
        let constant = pattern.len() as u64 + 1;
        (stars, bracket, Cost { per_byte, constant })
    }

    #[test]
    fn one_pass_facts_agree_with_the_obvious_scans() {
        let mut patterns: Vec<Vec<u8>> = [
            &b""[..],
            b"*",
            b"***",
            b"a",
            b"*.exe",
            b"c:/windows/*/system32/*.dll",
            b"*a?b*",
            b"[Pp]ostex*",
            b"{a,b}*x",
            b"abcdefgh*ijklmnop*qrstuvwx?z*",
        ]
        .iter()
        .map(|p| p.to_vec())
        .collect();
        // Every special byte at every offset of a 20-byte literal, and long `?` segments.
        for at in 0..20 {
            for special in [b'*', b'?', b'[', b'{'] {
                let mut p = b"abcdefghijklmnopqrst".to_vec();
                p[at] = special;
                patterns.push(p.clone());
                p.insert(0, b'*');
                p.push(b'*');
                patterns.push(p);
            }
        }
        for (lead, body, trail) in [
            (16, &b"ab?c"[..], 9),
            (8, b"", 8),
            (7, b"x", 17),
            (24, b"{a", 1),
        ] {
            let mut p = vec![b'*'; lead];
            p.extend_from_slice(body);
            p.extend(std::iter::repeat_n(b'*', trail));
            patterns.push(p);
        }
        let mut long = b"*".to_vec();
        long.extend(std::iter::repeat_n(b"a?", 100).flatten());
        long.push(b'*');
        patterns.push(long);
        for p in &patterns {
            for (fold, lowered) in [(false, false), (true, false), (true, true)] {
                let (stars, bracket, cost) = reference(p, fold, lowered);
                assert_eq!(glob_cost(p, fold, lowered), cost, "{}", p.escape_ascii());
                if !lowered {
                    let facts = glob_facts(p, fold);
                    assert_eq!((facts.stars, facts.bracket), (stars, bracket));
                    assert_eq!(facts.cost, cost);
                    assert_eq!(facts.matches_everything(p), matches_everything(p));
                }
            }
        }
    }

    #[test]
    fn stars_questions_and_literals() {
        assert!(glob_match(b"*.exe", b"cmd.exe", false));
        assert!(!glob_match(b"*.exe", b"cmd.exe.txt", false));
        assert!(glob_match(b"*.EXE", b"cmd.exe", true));
        assert!(!glob_match(b"*.EXE", b"cmd.exe", false));
        assert!(glob_match(b"c?d*", b"cmd", false));
        assert!(!glob_match(b"c?d*", b"cd", false));
        assert!(glob_match(b"", b"", false));
        assert!(!glob_match(b"", b"a", false));
        assert!(glob_match(b"*", b"", false));
        assert!(glob_match(b"a*b*c", b"aXbYbZc", false));
        assert!(!glob_match(b"a*b*c", b"aXbYbZ", false));
        assert!(glob_match(b"**a**", b"bab", false));
        // `?` in the pattern is a metacharacter, also when the text holds a `?`.
        assert!(glob_match(b"?", b"?", false));
    }

    #[test]
    fn pathological_pattern_finishes() {
        // Exponential for a recursive matcher, quadratic for a backtracking one; here each
        // segment is searched once.
        let pattern = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let text = vec![b'a'; 10_000];
        assert!(!glob_match(pattern, &text, false));
    }

    #[test]
    fn segments_with_questions_and_folding() {
        assert!(glob_match(b"*a?c*", b"xxabcxx", false));
        assert!(!glob_match(b"*a?c*", b"xxabxcx", false));
        assert!(glob_match(b"*A?C*", b"xxabcxx", true));
        assert!(glob_match(b"*abc*", b"xxABCxx", true));
        assert!(!glob_match(b"*abc*", b"xxABCxx", false));
        // A segment longer than one shift-and word: the rest is compared at each hit.
        let long: Vec<u8> = (0..100)
            .map(|i| {
                if i % 7 == 0 {
                    b'?'
                } else {
                    b'a' + (i % 26) as u8
                }
            })
            .collect();
        let mut pattern = b"*".to_vec();
        pattern.extend_from_slice(&long);
        pattern.push(b'*');
        let mut text = b"zz".to_vec();
        text.extend(long.iter().map(|&b| if b == b'?' { b'#' } else { b }));
        text.extend_from_slice(b"zz");
        assert!(glob_match(&pattern, &text, false));
        assert_ne!(long[1], b'?');
        text[3] ^= 0x20; // the segment's second byte, upper-cased
        assert!(!glob_match(&pattern, &text, false));
        assert!(glob_match(&pattern, &text, true));
    }

    #[test]
    fn cost_charges_long_masked_segments() {
        assert_eq!(glob_cost(b"abc", false, false).per_byte, 0);
        assert_eq!(glob_cost(b"*abc*", false, false).per_byte, 1);
        assert_eq!(glob_cost(b"*a?c*", false, false).per_byte, 1);
        assert_eq!(glob_cost(b"*abc*", true, true).per_byte, 2);
        let long = [b"*".as_slice(), &[b'?'; 164], b"*"].concat();
        assert_eq!(glob_cost(&long, false, false).per_byte, 101);
    }
}
