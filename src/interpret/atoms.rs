//! The literal prefilter of the compiled program: for one bytes field, which of its atoms occur
//! in an event's value (feature `alloc`).
//!
//! Atoms of [`HASHED_ATOM`] bytes or more are found by hashing: at each position of the value,
//! its next four bytes (lowered) are one `u32` load, a multiply and a bit test in a bitmap of
//! occupied buckets that stays in L1; only an occupied bucket is looked into, and its atoms
//! compared in full. That is a few steps per byte whatever the number of atoms — where an
//! Aho–Corasick automaton over thousands of atoms misses the cache on its transitions (a DFA)
//! or walks a sparse state (the NFA). Shorter atoms, and fields with few positions, use the
//! automaton: a full DFA within the program's memory budget, else the contiguous NFA.
//!
//! Either way every occurrence of every atom is reported (overlapping ones included), so no
//! atom hides another; the atoms are lowered and matched case-insensitively.

use alloc::vec::Vec;

use aho_corasick::automaton::Automaton;
use aho_corasick::{Anchored, MatchKind, dfa, nfa};

/// Atoms at least this long are hashed on their first four bytes.
pub(super) const HASHED_ATOM: usize = 4;
/// Hashed atoms are probed at most this many positions apart: a longer stride probes less but
/// keys each atom under as many windows, common ones among them (measured on the glob
/// benchmark: see `Hashed::stride`).
const STRIDE: usize = 2;
/// Each list of atoms serves `2^SHARED` neighbouring bits of the bitmap: the bitmap keeps
/// telling a window that is no key from one that may be (sixteen or more bits a key), while the
/// lists' offsets (`Hashed::starts`, four bytes a list) take a quarter of the memory, so that the
/// one a visit reads is more often in cache (glob benchmark, 10,000 rules: about 5 % an event).
const SHARED: usize = 2;
/// Up to this many atoms per field, the automaton is a full DFA (when it fits the budget).
const DFA_ATOMS: usize = 2_000;

/// The atoms of one bytes field, and how they are found.
#[derive(Debug, Clone)]
pub(super) enum Atoms {
    Dfa(dfa::DFA),
    Nfa(nfa::contiguous::NFA),
    Hashed(Hashed),
}

impl Atoms {
    /// Builds the index over `patterns` (distinct, lowered): hashed when `hashed` (every
    /// pattern is then at least [`HASHED_ATOM`] bytes), else an automaton, a DFA being charged
    /// to `dfa_budget`, shared by all of a program's automata.
    pub(super) fn build(
        patterns: &[&[u8]],
        hashed: bool,
        text: impl Fn(u32) -> u32,
        dfa_budget: &mut usize,
    ) -> Option<Self> {
        if hashed {
            return Hashed::new(patterns, text).map(Self::Hashed);
        }
        if patterns.len() <= DFA_ATOMS {
            let built = dfa::Builder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .prefilter(false)
                .build(patterns);
            if let Ok(dfa) = built
                && dfa.memory_usage() <= *dfa_budget
            {
                *dfa_budget = dfa_budget.saturating_sub(dfa.memory_usage());
                return Some(Self::Dfa(dfa));
            }
        }
        nfa::contiguous::Builder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(patterns)
            .ok()
            .map(Self::Nfa)
    }

    pub(super) fn memory_usage(&self) -> usize {
        match self {
            Self::Dfa(a) => a.memory_usage(),
            Self::Nfa(a) => a.memory_usage(),
            Self::Hashed(h) => h.memory_usage(),
        }
    }

    /// Calls `hit` with every atom that occurs in `hay` (overlapping occurrences included, so
    /// no atom hides another), once per occurrence.
    #[inline]
    pub(super) fn each_hit(&self, hay: &[u8], hit: impl FnMut(usize)) {
        match self {
            Self::Dfa(a) => scan(a, hay, hit),
            Self::Nfa(a) => scan(a, hay, hit),
            Self::Hashed(h) => h.each_hit(hay, hit),
        }
    }
}

/// The overlapping search, as a plain loop over the automaton's transitions: every state
/// entered is checked for the atoms that end there.
fn scan<A: Automaton>(automaton: &A, hay: &[u8], mut hit: impl FnMut(usize)) {
    let Ok(mut state) = automaton.start_state(Anchored::No) else {
        return;
    };
    for &byte in hay {
        state = automaton.next_state(Anchored::No, state, byte);
        if automaton.is_special(state) {
            if automaton.is_dead(state) {
                return;
            }
            if automaton.is_match(state) {
                for i in 0..automaton.match_len(state) {
                    hit(automaton.match_pattern(state, i).as_usize());
                }
            }
        }
    }
}

/// One hashed atom: its bytes (lowered) as a little-endian word, its length, and where its
/// key — the four of its bytes that the fewest other atoms share, which choose its bucket —
/// starts.
#[derive(Debug, Clone, Copy)]
struct Entry {
    atom: u64,
    len: u8,
    offset: u8,
    pattern: u32,
}

/// Atoms of 4 to 8 bytes, in buckets by a hash of four of their bytes.
#[derive(Debug, Clone)]
pub(super) struct Hashed {
    /// One bit per bucket: whether any atom hashes there.
    occupied: Vec<u64>,
    /// `entries[starts[l]..starts[l + 1]]` are the atoms of the buckets `l << SHARED` to
    /// `(l + 1) << SHARED` (a bucket's atoms are found among its neighbours' by their bytes,
    /// as a bucket's own are).
    starts: Vec<u32>,
    entries: Vec<Entry>,
    /// The hash keeps its top `bits` bits.
    bits: u32,
    /// The value is probed at every `stride`-th position (the shortest atom's length less three,
    /// at most [`STRIDE`]). Each atom is then keyed under one window per residue of its offset
    /// modulo the stride, so that exactly one of them starts at a probed position wherever the
    /// atom occurs.
    stride: usize,
}

/// Eight bytes lowered at once, as a little-endian `u64`: ASCII upper-case letters get their
/// 0x20 bit, nothing else changes.
#[inline]
pub(super) fn lowered_word(b: [u8; 8]) -> u64 {
    let x = u64::from_le_bytes(b);
    let ascii = !x & 0x8080_8080_8080_8080;
    let seven = x & 0x7f7f_7f7f_7f7f_7f7f;
    // High bit of each byte: at least 'A' (0x41), and above 'Z' (0x5a).
    let ge_a = seven.wrapping_add(0x3f3f_3f3f_3f3f_3f3f);
    let gt_z = seven.wrapping_add(0x2525_2525_2525_2525);
    let upper = ascii & (ge_a ^ gt_z) & 0x8080_8080_8080_8080;
    x | (upper >> 2)
}

/// Four bytes lowered at once.
#[inline]
fn lowered_key(b: [u8; 4]) -> u32 {
    let x = u32::from_le_bytes(b);
    let ascii = !x & 0x8080_8080;
    let seven = x & 0x7f7f_7f7f;
    let ge_a = seven.wrapping_add(0x3f3f_3f3f);
    let gt_z = seven.wrapping_add(0x2525_2525);
    let upper = ascii & (ge_a ^ gt_z) & 0x8080_8080;
    x | (upper >> 2)
}

/// The low `len` bytes of a word.
#[inline]
const fn mask(len: usize) -> u64 {
    if len >= 8 {
        u64::MAX
    } else {
        (1u64 << (len.wrapping_mul(8) & 63)).wrapping_sub(1)
    }
}

#[inline]
fn bucket(key: u32, bits: u32) -> usize {
    // Fibonacci hashing: the multiply spreads the four bytes over the top bits.
    usize::try_from(key.wrapping_mul(0x9E37_79B1) >> 32u32.wrapping_sub(bits)).unwrap_or(0)
}

/// The first (at most 8) bytes of `b`, zero-padded. (Callers pass the rest of the value, not
/// just the atom's length of it: a full eight bytes is one load, fewer a byte loop.)
#[inline]
fn window(b: &[u8]) -> [u8; 8] {
    match b.first_chunk::<8>() {
        Some(w) => *w,
        None => {
            let mut w = [0u8; 8];
            for (slot, byte) in w.iter_mut().zip(b) {
                *slot = *byte;
            }
            w
        }
    }
}

/// The four bytes of `atom` at `at`, lowered.
fn key_at(atom: &[u8], at: usize) -> Option<u32> {
    let four = atom.get(at..)?.first_chunk::<4>()?;
    Some(lowered_key(*four))
}

impl Hashed {
    /// The index over `patterns`, each of [`HASHED_ATOM`] to 8 bytes. `text(window)` says how
    /// common a lowered four-byte window is in the values events are expected to carry,
    /// beyond the patterns themselves (see [`WindowCounts`]).
    fn new(patterns: &[&[u8]], text: impl Fn(u32) -> u32) -> Option<Self> {
        if patterns
            .iter()
            .any(|p| !(HASHED_ATOM..=8).contains(&p.len()))
        {
            return None;
        }
        let shortest = patterns
            .iter()
            .map(|p| p.len())
            .min()
            .unwrap_or(HASHED_ATOM);
        let stride = shortest.saturating_sub(3).clamp(1, STRIDE);
        let count = u32::try_from(patterns.len().saturating_mul(stride)).ok()?;
        // Each atom is keyed by its four bytes that the fewest atoms share, and that the
        // rules' other literals show to be rare in values: atoms with a common prefix
        // (`users1`, `users2`, …) then land in different buckets, and an atom `/chrome5` is not
        // keyed on `/chr`, which every value under `c:/chrome/` carries.
        // Counted in a sorted vector: a B-tree of the windows was an eighth of compiling.
        let mut windows: Vec<u32> = patterns
            .iter()
            .flat_map(|atom| (0..=atom.len().saturating_sub(4)).filter_map(|at| key_at(atom, at)))
            .collect();
        windows.sort_unstable();
        let shared: Vec<(u32, u32)> = windows
            .chunk_by(|a, b| a == b)
            .filter_map(|run| Some((*run.first()?, u32::try_from(run.len()).unwrap_or(u32::MAX))))
            .collect();
        let sharing = |k: u32| {
            shared
                .binary_search_by_key(&k, |(w, _)| *w)
                .ok()
                .and_then(|at| shared.get(at))
                .map(|(_, n)| n.saturating_add(text(k)))
        };
        // Sixteen to thirty-two buckets per key, at least 64: most buckets empty (a 1-in-16
        // chance at most for a window that is no atom's key), so most positions of a value cost
        // one bit test. (Each bucket cost four bytes of `starts` before lists were shared by
        // neighbouring buckets: more buckets per key made the program of 10,000 glob rules 11.4
        // times the file, and no faster.)
        let bits = (count.saturating_mul(16).max(64))
            .checked_next_power_of_two()?
            .trailing_zeros()
            .clamp(6, 30);
        let buckets = 1usize << bits;
        let mut keyed: Vec<(usize, Entry)> =
            Vec::with_capacity(patterns.len().saturating_mul(stride));
        for (pattern, atom) in patterns.iter().enumerate() {
            let entry = |offset: usize| -> Option<(usize, Entry)> {
                Some((
                    bucket(key_at(atom, offset)?, bits),
                    Entry {
                        atom: lowered_word(window(atom)) & mask(atom.len()),
                        len: u8::try_from(atom.len()).ok()?,
                        offset: u8::try_from(offset).ok()?,
                        pattern: u32::try_from(pattern).ok()?,
                    },
                ))
            };
            // One key per residue of the window's offset modulo the stride — whichever window
            // of that residue the fewest atoms share — so that wherever the atom occurs, one of
            // its keys starts at a probed position.
            for residue in 0..stride {
                let offset = (residue..=atom.len().saturating_sub(4))
                    .step_by(stride)
                    .min_by_key(|&at| key_at(atom, at).and_then(sharing))
                    .unwrap_or(residue);
                keyed.push(entry(offset)?);
            }
        }
        // Within a list, runs of one length and key offset, sorted by atom: for each run the
        // value's window is lowered once and looked up by binary search (atoms that are
        // prefixes of many others, `temp7` of `temp70`…`temp799`, share their keys).
        keyed.sort_unstable_by_key(|(b, e)| (*b >> SHARED, e.len, e.offset, e.atom));
        let mut occupied = alloc::vec![0u64; buckets.div_ceil(64)];
        let mut starts = alloc::vec![0u32; (buckets >> SHARED).saturating_add(1)];
        for (b, _) in &keyed {
            if let Some(w) = occupied.get_mut(b / 64) {
                *w |= 1u64 << (b & 63);
            }
            if let Some(s) = starts.get_mut((b >> SHARED).saturating_add(1)) {
                *s = s.saturating_add(1);
            }
        }
        let mut sum = 0u32;
        for s in &mut starts {
            sum = sum.saturating_add(*s);
            *s = sum;
        }
        Some(Self {
            occupied,
            starts,
            entries: keyed.into_iter().map(|(_, e)| e).collect(),
            bits,
            stride,
        })
    }

    fn memory_usage(&self) -> usize {
        self.occupied
            .len()
            .saturating_mul(8)
            .saturating_add(self.starts.len().saturating_mul(4))
            .saturating_add(
                self.entries
                    .len()
                    .saturating_mul(core::mem::size_of::<Entry>()),
            )
    }

    #[inline]
    fn each_hit(&self, hay: &[u8], mut hit: impl FnMut(usize)) {
        for (at, four) in hay.windows(4).enumerate().step_by(self.stride) {
            let Some(four) = four.first_chunk::<4>() else {
                continue;
            };
            let b = bucket(lowered_key(*four), self.bits);
            let occupied = self
                .occupied
                .get(b >> 6)
                .is_some_and(|w| w & (1u64 << (b & 63)) != 0);
            if occupied {
                self.bucket_hits(b >> SHARED, hay, at, &mut hit);
            }
        }
    }

    /// The atoms of list `b` (the bucket's, shared with its neighbours) whose bytes are at `at`
    /// of `hay` and around it, each where its key starts at `at`.
    fn bucket_hits(&self, b: usize, hay: &[u8], at: usize, hit: &mut impl FnMut(usize)) {
        let from = self.starts.get(b).copied().unwrap_or(0) as usize;
        let to = self.starts.get(b.saturating_add(1)).copied().unwrap_or(0) as usize;
        let mut run = self.entries.get(from..to).unwrap_or(&[]);
        while let Some(first) = run.first() {
            let (len, offset) = (first.len, first.offset);
            // Sorted by length and offset: the run's end by binary search, not a walk (the list
            // of a common window holds thousands).
            let end = if run
                .last()
                .is_some_and(|e| (e.len, e.offset) == (len, offset))
            {
                run.len() // one run: most lists
            } else {
                run.partition_point(|e| (e.len, e.offset) <= (len, offset))
            };
            let (same, rest) = run.split_at(end);
            run = rest;
            let Some(start) = at.checked_sub(usize::from(offset)) else {
                continue;
            };
            let n = usize::from(len);
            let Some(there) = hay.get(start..).filter(|t| t.len() >= n) else {
                continue;
            };
            let word = lowered_word(window(there)) & mask(n);
            if let Ok(i) = same.binary_search_by_key(&word, |e| e.atom)
                && let Some(e) = same.get(i)
            {
                hit(e.pattern as usize);
            }
        }
    }
}

/// How often each four-byte window occurs in the literals of a group's rules — every literal
/// run's first and last eight bytes, whether or not it became a key — as a stand-in for how
/// often it occurs in events: rules name the directories and words that events carry. Counted
/// in a fixed table of saturating counters by hash (windows sharing a slot add up: a
/// heuristic's error, never a wrong answer), one pass and no sort over the hundreds of
/// thousands of windows of a large group.
#[derive(Debug, Clone)]
pub(super) struct WindowCounts {
    counts: Vec<u16>,
    bits: u32,
}

impl WindowCounts {
    /// The counts of the windows of `literals`, as `(field, bytes)`.
    pub(super) fn new<'l>(literals: impl Iterator<Item = (u16, &'l [u8])> + Clone) -> Self {
        let windows: usize = literals
            .clone()
            .map(|(_, l)| l.len().saturating_sub(3))
            .fold(0, usize::saturating_add);
        // About four slots a window, at most 2^18 (512 KiB for the build, dropped after).
        // Counts are 16 bits: at 8 bits a directory every tenth rule names (`/chr` of
        // `c:/chrome/`, 2,000 windows in 10,000 glob rules) counted 255, no more than the
        // `ome9` of the hundred rules `chrome9…`, and keyed atoms on it: 3.16 bucket visits an
        // event on the glob benchmark, 2.50 with 16 bits.
        let bits = windows
            .saturating_mul(4)
            .checked_next_power_of_two()
            .map_or(18, |n| n.trailing_zeros())
            .clamp(6, 18);
        let mut counts = alloc::vec![0u16; 1usize << bits];
        for (field, literal) in literals {
            for at in 0..=literal.len().saturating_sub(4) {
                if let Some(key) = key_at(literal, at)
                    && let Some(n) = counts.get_mut(Self::slot(field, key, bits))
                {
                    *n = n.saturating_add(1);
                }
            }
        }
        Self { counts, bits }
    }

    fn slot(field: u16, key: u32, bits: u32) -> usize {
        let mixed = (u64::from(key) | (u64::from(field) << 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        usize::try_from(mixed >> 64u32.saturating_sub(bits)).unwrap_or(0)
    }

    /// How many windows of `field`'s literals hash where `key` does.
    pub(super) fn count(&self, field: u16, key: u32) -> u32 {
        self.counts
            .get(Self::slot(field, key, self.bits))
            .map_or(0, |&n| u32::from(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowering_eight_bytes_at_once_is_to_ascii_lowercase() {
        for a in 0..=255u8 {
            for b in [0u8, b'@', b'A', b'Z', b'[', b'a', 0x80, 0xc1, 0xda, 0xff] {
                let w = [a, b, a ^ 0x20, b'M', b, a, 0x7f, b'z'];
                let expected = u64::from_le_bytes(w.map(|x| x.to_ascii_lowercase()));
                assert_eq!(lowered_word(w), expected, "{w:?}");
                let four = [a, b, a ^ 0x20, b'M'];
                let expected = u32::from_le_bytes(four.map(|x| x.to_ascii_lowercase()));
                assert_eq!(lowered_key(four), expected, "{four:?}");
            }
        }
    }

    #[test]
    fn hashed_atoms_report_every_overlapping_occurrence() {
        let atoms: [&[u8]; 6] = [
            b"abcd",
            b"bcdefgh",
            b"cdef",
            b"abcdefgh",
            b"users1",
            b"users2",
        ];
        let h = Hashed::new(&atoms, |_| 0).unwrap();
        let mut hits = Vec::new();
        h.each_hit(b"xxABCDEFGHxxUSERS2", |p| hits.push(p));
        hits.sort_unstable();
        assert_eq!(hits, [0, 1, 2, 3, 5]);
        let mut more = Vec::new();
        // (`abcd` keeps every position probed.)
        h.each_hit(b"abc", |p| more.push(p));
        h.each_hit(b"abcdefg", |p| more.push(p)); // "bcdefgh" and "abcdefgh" need one more byte
        more.sort_unstable();
        assert_eq!(more, [0, 2]);
        assert!(Hashed::new(&[b"abc".as_slice()], |_| 0).is_none());
    }

    /// An atom is keyed on its windows that the rules' other literals show to be rare: with
    /// `/chr` common in the text (every rule names `c:/chrome/`), `/chrome5` is keyed on
    /// `hrom` or `ome5` for its even offsets, where without that it would take the first of
    /// equally rare windows, `/chr`. Either way it is found wherever it occurs.
    #[test]
    fn keys_avoid_windows_common_in_the_rules_text() {
        let atoms: [&[u8]; 1] = [b"/chrome5"];
        let common = lowered_key(*b"/chr");
        for (text, offset_0_used) in [(0, true), (100, false)] {
            let h = Hashed::new(&atoms, |k| if k == common { text } else { 0 }).unwrap();
            assert_eq!(
                h.entries.iter().any(|e| e.offset == 0),
                offset_0_used,
                "text count {text}"
            );
            let mut hits = Vec::new();
            h.each_hit(b"c:/chrome/x/Chrome5.exe", |p| hits.push(p));
            h.each_hit(b"c:/chrome/xy/Chrome5.exe", |p| hits.push(p));
            assert_eq!(hits, [0, 0]);
        }
    }

    /// A window the rules' text carries thousands of times counts as that common, not as
    /// common as one carried a few hundred times (8-bit counters saturated at 255 and could
    /// not tell `/chr` of `c:/chrome/` from `ome9` of a hundred `chrome9…` rules).
    #[test]
    fn window_counts_tell_thousands_from_hundreds() {
        let common: Vec<&[u8]> = (0..2_000).map(|_| b"c:/chrome/".as_slice()).collect();
        let rarer: Vec<&[u8]> = (0..300).map(|_| b"chrome9".as_slice()).collect();
        let counts = WindowCounts::new(common.iter().chain(&rarer).map(|l| (3u16, *l)));
        let (chr, ome9) = (lowered_key(*b"/chr"), lowered_key(*b"ome9"));
        assert!(counts.count(3, chr) >= 2_000, "{}", counts.count(3, chr));
        assert!(counts.count(3, ome9) >= 300);
        assert!(counts.count(3, chr) > counts.count(3, ome9));
    }

    /// Atoms of one length class, probed every `stride` positions, against a naive search on
    /// values full of overlapping and case-varied occurrences: every occurrence once.
    #[test]
    fn strided_atoms_report_every_occurrence_once() {
        let alphabet = b"abAB/";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % n as u64).unwrap_or(0)
        };
        for round in 0..200 {
            let shortest = 4 + round % 5;
            let atoms: Vec<Vec<u8>> = (0..1 + next(12))
                .map(|_| {
                    let len = shortest + next(9 - shortest);
                    (0..len)
                        .map(|_| alphabet[next(alphabet.len())].to_ascii_lowercase())
                        .collect()
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let refs: Vec<&[u8]> = atoms.iter().map(Vec::as_slice).collect();
            let h = Hashed::new(&refs, |_| 0).unwrap();
            let shortest = refs.iter().map(|a| a.len()).min().unwrap();
            assert_eq!(h.stride, (shortest - 3).min(STRIDE));
            let hay: Vec<u8> = (0..next(80))
                .map(|_| alphabet[next(alphabet.len())])
                .collect();
            let mut got = Vec::new();
            h.each_hit(&hay, |p| got.push(p));
            got.sort_unstable();
            let mut want = Vec::new();
            for (p, atom) in refs.iter().enumerate() {
                for w in hay.windows(atom.len()) {
                    if w.eq_ignore_ascii_case(atom) {
                        want.push(p);
                    }
                }
            }
            want.sort_unstable();
            assert_eq!(got, want, "atoms {refs:?} in {hay:?}");
        }
    }
}
