//! A glob prepared once (feature `alloc`), for the compiled program: the same greedy,
//! left-to-right segment search as [`glob_match`](super::glob_match) and the same answers, with
//! each segment's searcher built at compile time instead of per call:
//!
//! - a literal segment is searched with `memmem` (Two-Way with a SIMD prefilter; a prebuilt
//!   finder would take 288 bytes per segment, more than most rules);
//! - a segment with `?` gets a multi-word shift-and automaton: one 64-bit word of state per 64
//!   bytes of segment, masks per byte class. Every text byte costs one step per word, so a
//!   search takes at most `⌈len / 64⌉` steps per byte — at most 64 for the format's 4,096-byte
//!   patterns — whatever the text: linear in the text for every pattern the format allows, with
//!   no comparison repeated at each hit.
//!
//! Case folding is done before: the program lowers folded patterns here and folded text once
//! per event, so a `CompiledGlob` compares bytes as they are.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ops::Range;

use super::glob::{SHORT_TEXT, find_short, fits};

/// How one segment between stars is searched for.
#[derive(Debug, Clone)]
enum Search {
    Literal,
    Masked(Box<ShiftAnd>),
}

/// Multi-word shift-and over a segment with `?`: bit `i` of the state (word `i / 64`) is set when
/// the last `i + 1` text bytes match the segment's first `i + 1` bytes.
#[derive(Debug, Clone)]
struct ShiftAnd {
    words: usize,
    /// The accepting bit, in the last word.
    accept: u64,
    /// Byte → class; class 0 is every byte the segment does not name.
    class: Box<[u8; 256]>,
    /// `masks[class * words + word]`.
    masks: Box<[u64]>,
}

impl ShiftAnd {
    fn new(segment: &[u8]) -> Self {
        let words = segment.len().div_ceil(64).max(1);
        let mut class = Box::new([0u8; 256]);
        let mut classes = 1usize;
        for &b in segment {
            if b != b'?'
                && let Some(c) = class.get_mut(usize::from(b))
                && *c == 0
            {
                // At most 255 distinct bytes besides `?`: the classes fit a byte.
                *c = u8::try_from(classes).unwrap_or(u8::MAX);
                classes = classes.saturating_add(1);
            }
        }
        let mut masks = alloc::vec![0u64; classes.saturating_mul(words)].into_boxed_slice();
        for (i, &b) in segment.iter().enumerate() {
            let (word, bit) = (i / 64, 1u64 << (i % 64));
            if b == b'?' {
                for c in 0..classes {
                    if let Some(m) = masks.get_mut(c.saturating_mul(words).saturating_add(word)) {
                        *m |= bit;
                    }
                }
            } else {
                let c = usize::from(class.get(usize::from(b)).copied().unwrap_or(0));
                if let Some(m) = masks.get_mut(c.saturating_mul(words).saturating_add(word)) {
                    *m |= bit;
                }
            }
        }
        let accept = 1u64 << ((segment.len().saturating_sub(1)) % 64);
        Self {
            words,
            accept,
            class,
            masks,
        }
    }

    /// The masks of the class of `byte`, one per word.
    #[inline]
    fn masks_of(&self, byte: u8) -> &[u64] {
        let c = usize::from(self.class.get(usize::from(byte)).copied().unwrap_or(0));
        let at = c.saturating_mul(self.words);
        self.masks
            .get(at..at.saturating_add(self.words))
            .unwrap_or(&[])
    }

    /// The leftmost occurrence in `hay` of the segment (of `len` bytes), given `state`, a
    /// buffer of at least `words` words. One and two words, the common lengths, have loops of
    /// their own, with the state in registers.
    fn find(&self, hay: &[u8], len: usize, state: &mut [u64]) -> Option<usize> {
        let start = |i: usize| Some(i.saturating_add(1).saturating_sub(len));
        match self.words {
            1 => {
                let mut s = 0u64;
                for (i, &byte) in hay.iter().enumerate() {
                    let m = self.masks_of(byte).first().copied().unwrap_or(0);
                    s = ((s << 1) | 1) & m;
                    if s & self.accept != 0 {
                        return start(i);
                    }
                }
                None
            }
            2 => {
                let (mut s0, mut s1) = (0u64, 0u64);
                for (i, &byte) in hay.iter().enumerate() {
                    let (m0, m1) = match self.masks_of(byte) {
                        [m0, m1, ..] => (*m0, *m1),
                        _ => (0, 0),
                    };
                    s1 = ((s1 << 1) | (s0 >> 63)) & m1;
                    s0 = ((s0 << 1) | 1) & m0;
                    if s1 & self.accept != 0 {
                        return start(i);
                    }
                }
                None
            }
            _ => {
                let state = state.get_mut(..self.words)?;
                state.fill(0);
                for (i, &byte) in hay.iter().enumerate() {
                    let mut carry = 1u64;
                    for (s, m) in state.iter_mut().zip(self.masks_of(byte)) {
                        let next = ((*s << 1) | carry) & m;
                        carry = *s >> 63;
                        *s = next;
                    }
                    if state.last().is_some_and(|s| s & self.accept != 0) {
                        return start(i);
                    }
                }
                None
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Segment {
    range: Range<usize>,
    search: Search,
}

/// A glob pattern with its searchers built (see the module documentation).
#[derive(Debug, Clone)]
pub struct CompiledGlob {
    pattern: Box<[u8]>,
    /// `None` when the pattern has no star: the whole text is compared.
    stars: Option<Stars>,
}

#[derive(Debug, Clone)]
struct Stars {
    head: usize,
    tail: usize,
    /// The head and the tail have no `?`: compared whole (`same`), not byte by byte.
    plain_ends: bool,
    segments: Vec<Segment>,
    /// The most words any segment's shift-and needs.
    words: usize,
}

/// The most words of shift-and state kept on the stack; longer segments (more than 1,024
/// bytes) use the heap buffer of the caller's scratch.
const STACK_WORDS: usize = 16;

impl CompiledGlob {
    /// Prepares `pattern` (already lowered when it folds).
    #[must_use]
    pub fn new(pattern: &[u8]) -> Self {
        let pattern: Box<[u8]> = pattern.into();
        let first = pattern.iter().position(|&b| b == b'*');
        let stars = first.map(|first| {
            let last = pattern.iter().rposition(|&b| b == b'*').unwrap_or(first);
            let mut segments = Vec::new();
            let mut start = first.saturating_add(1);
            let mut words = 0usize;
            for (i, &b) in pattern.iter().enumerate().skip(start) {
                if b != b'*' || i > last {
                    continue;
                }
                let seg = pattern.get(start..i).unwrap_or(&[]);
                if !seg.is_empty() {
                    let search = if seg.contains(&b'?') {
                        let sa = ShiftAnd::new(seg);
                        words = words.max(sa.words);
                        Search::Masked(Box::new(sa))
                    } else {
                        Search::Literal
                    };
                    segments.push(Segment {
                        range: start..i,
                        search,
                    });
                }
                start = i.saturating_add(1);
            }
            let plain = |b: &[u8]| !b.contains(&b'?');
            Stars {
                head: first,
                tail: pattern.len().saturating_sub(last.saturating_add(1)),
                plain_ends: plain(pattern.get(..first).unwrap_or(&[]))
                    && plain(pattern.get(last.saturating_add(1)..).unwrap_or(&[])),
                segments,
                words,
            }
        });
        Self { pattern, stars }
    }

    /// What searching for the segments between stars costs per byte of text: whether the
    /// glob is anchored (a literal head, compared first: most texts fail there), whether some
    /// segment is literal (searched with `memmem`), and the most words of shift-and state a `?`
    /// segment steps (segments search one after another, so the text is read about once).
    /// For the program's cost estimate.
    #[must_use]
    pub fn search_cost(&self) -> (bool, bool, usize) {
        self.stars.as_ref().map_or((true, false, 0), |s| {
            let literal = s
                .segments
                .iter()
                .any(|seg| matches!(seg.search, Search::Literal));
            (s.head > 0, literal, s.words)
        })
    }

    /// Bytes of memory it holds.
    #[must_use]
    pub fn memory_usage(&self) -> usize {
        let searchers = self.stars.as_ref().map_or(0, |s| {
            s.segments.iter().fold(0usize, |sum, seg| {
                let own = match &seg.search {
                    Search::Literal => 0,
                    Search::Masked(sa) => sa
                        .masks
                        .len()
                        .saturating_mul(8)
                        .saturating_add(256)
                        .saturating_add(core::mem::size_of::<ShiftAnd>()),
                };
                sum.saturating_add(own)
                    .saturating_add(core::mem::size_of::<Segment>())
            })
        });
        self.pattern
            .len()
            .saturating_add(searchers)
            .saturating_add(core::mem::size_of::<Self>())
    }

    /// Whether `text` matches, exactly as [`glob_match`](super::glob_match) without folding
    /// says. `heap` holds shift-and state for segments beyond [`STACK_WORDS`] words.
    pub fn matches(&self, text: &[u8], heap: &mut Vec<u64>) -> bool {
        let pattern = &*self.pattern;
        let Some(stars) = &self.stars else {
            return fits(pattern, text, false);
        };
        if stars.head.saturating_add(stars.tail) > text.len() {
            return false;
        }
        let (text_head, rest) = text.split_at(stars.head);
        let (mut rest, text_tail) = rest.split_at(rest.len().saturating_sub(stars.tail));
        let head = pattern.get(..stars.head).unwrap_or(&[]);
        let tail = pattern
            .get(pattern.len().saturating_sub(stars.tail)..)
            .unwrap_or(&[]);
        let ends = if stars.plain_ends {
            same(head, text_head) && same(tail, text_tail)
        } else {
            fits(head, text_head, false) && fits(tail, text_tail, false)
        };
        if !ends {
            return false;
        }
        let mut stack = [0u64; STACK_WORDS];
        let state: &mut [u64] = if stars.words <= STACK_WORDS {
            &mut stack
        } else {
            if heap.len() < stars.words {
                heap.resize(stars.words, 0);
            }
            heap
        };
        for seg in &stars.segments {
            let segment = pattern.get(seg.range.clone()).unwrap_or(&[]);
            let found = match &seg.search {
                Search::Literal if rest.len() <= SHORT_TEXT => find_plain_short(segment, rest),
                Search::Literal => memchr::memmem::find(rest, segment),
                Search::Masked(_) if rest.len() <= SHORT_TEXT => find_short(segment, rest, false),
                Search::Masked(sa) => sa.find(rest, segment.len(), state),
            };
            let Some(at) = found else {
                return false;
            };
            rest = rest.get(at.saturating_add(segment.len())..).unwrap_or(&[]);
        }
        true
    }
}

/// The leftmost occurrence of a literal `segment` (not empty) in a short `hay`: the positions
/// of its first byte found by `memchr`, the rest compared as a slice there. (Comparing at every
/// position, a byte at a time with `?` and case checks, was a fifth of an event's time on
/// literal globs.)
fn find_plain_short(segment: &[u8], hay: &[u8]) -> Option<usize> {
    let (&first, _) = segment.split_first()?;
    let last = hay.len().checked_sub(segment.len())?;
    let starts = hay.get(..=last)?;
    memchr::memchr_iter(first, starts).find(|&at| {
        hay.get(at..at.saturating_add(segment.len()))
            .is_some_and(|t| same(t, segment))
    })
}

/// `a == b`, for the short slices of globs without a call to `memcmp` (a twentieth of an
/// event's time on literal globs): up to 16 bytes as two overlapping loads from each end.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if (8..=16).contains(&a.len()) {
        return a.first_chunk::<8>() == b.first_chunk::<8>()
            && a.last_chunk::<8>() == b.last_chunk::<8>();
    }
    if (4..8).contains(&a.len()) {
        return a.first_chunk::<4>() == b.first_chunk::<4>()
            && a.last_chunk::<4>() == b.last_chunk::<4>();
    }
    if a.len() < 4 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::glob_match;

    /// `same` is slice equality at every length its loads treat differently, with every byte
    /// in turn the one that differs.
    #[test]
    fn same_is_slice_equality() {
        for len in 0..40usize {
            let a: Vec<u8> = (0..len).map(|i| u8::try_from(i).unwrap()).collect();
            assert!(same(&a, &a.clone()), "{len}");
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x40;
                assert!(!same(&a, &b), "{len} at {at}");
            }
            assert!(!same(&a, &a[..len.saturating_sub(1)]) || len == 0, "{len}");
        }
    }

    /// Every shape the two matchers treat differently: literal and `?` segments, short and long
    /// texts, segments of one, two and many words of shift-and state.
    #[test]
    fn agrees_with_glob_match() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut heap = Vec::new();
        for round in 0..3000 {
            let plen = usize::try_from(next() % if round % 10 == 0 { 2000 } else { 40 }).unwrap();
            let pattern: Vec<u8> = (0..plen)
                .map(|_| match next() % 8 {
                    0 => b'*',
                    1 => b'?',
                    _ => b"ab"[usize::try_from(next() % 2).unwrap()],
                })
                .collect();
            // Half the texts short: literal segments are then found by `find_plain_short`.
            let tlen = usize::try_from(next() % if round % 2 == 0 { 80 } else { 3000 }).unwrap();
            let text: Vec<u8> = (0..tlen)
                .map(|_| b"ab"[usize::try_from(next() % 2).unwrap()])
                .collect();
            let compiled = CompiledGlob::new(&pattern);
            assert_eq!(
                compiled.matches(&text, &mut heap),
                glob_match(&pattern, &text, false),
                "{:?} on {} bytes",
                core::str::from_utf8(&pattern),
                text.len()
            );
        }
        // A literal segment found only where it ends the searched text, or not at all.
        for (pattern, text, expected) in [
            ("*abba*", "bbbabba", true),
            ("a*bb*a", "aaabba", true),
            ("*abba*", "bbbabb", false),
            ("ab*ab", "abab", true),
        ] {
            let compiled = CompiledGlob::new(pattern.as_bytes());
            assert_eq!(
                compiled.matches(text.as_bytes(), &mut heap),
                expected,
                "{pattern} on {text}"
            );
            assert_eq!(
                glob_match(pattern.as_bytes(), text.as_bytes(), false),
                expected
            );
        }
        // A segment of 1,500 bytes with `?` (24 words, past the stack) found in a long text.
        let seg: Vec<u8> = (0..1500)
            .map(|i| if i % 3 == 1 { b'?' } else { b'a' })
            .collect();
        let pattern = [b"*".as_slice(), &seg, b"*"].concat();
        let mut text = alloc::vec![b'b'; 5000];
        text.extend(core::iter::repeat_n(b'a', 1500));
        assert!(CompiledGlob::new(&pattern).matches(&text, &mut heap));
        assert!(glob_match(&pattern, &text, false));
        text.truncate(6499);
        assert!(!CompiledGlob::new(&pattern).matches(&text, &mut heap));
    }
}
