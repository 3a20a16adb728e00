//! The index of a compiled program (feature `alloc`): for each instance, one *key* — the
//! criterion an event must satisfy before the instance is confirmed — and per field the table
//! that finds, for one event, exactly the instances whose key it satisfies.
//!
//! Every criterion kind can be a key, and each instance's key is its most selective criterion,
//! judged by how many bits of the event it pins down (the log2 of one over the share of events
//! that pass it, for values spread over the field's declared range and independent flag bits):
//!
//! | key | table | bits |
//! |---|---|---|
//! | `exact` | the hash of the lowered value in a key table (one probe), behind a set of the lengths in use | 64 |
//! | a literal atom of `exact`/`glob` | one automaton or hashed atom set per field (`atoms`) | 4 per byte, at most 32 |
//! | `int_eq`, `int_range` | values in a key table; ranges by width class (a power of two), sorted by start within one | log2 of the field's range over the criterion's |
//! | `flags_all` | per lowest bit of the mask, the masks, each checked whole | one per bit of the mask |
//! | `flags_any` | masks of one or two bits under each of their bits; wider masks in one list, each checked | 1 for a one-bit mask, else 0 |
//!
//! Bits say what a key's length or width promises; the content says what it is worth: a key
//! that `k > 1` of the `n` criteria of its field and kind name is taken to hold for about
//! `k / n` of the events, and its bits are capped at log2(n / k). A word hundreds of rules name
//! (`system32`) is a word events carry; the port one rule names is rarer, though shorter.
//!
//! An instance whose key pins down fewer than 16 bits also gets a *second key*: its most
//! selective criterion on another field, of any kind above (an atom only when it is some
//! instance's key already, so the pass over the value stays the same). The tables send the
//! event to the instance through its key; the index then checks the second key from its own
//! data (a range, a mask, a hash, or the flag the atom pass raised) before the instance is
//! confirmed. Rules that combine common conditions — a path word, an extension, a size range —
//! are selective only together: keyed on one, a sixteenth of them would be confirmed for every
//! event. Counting every criterion (the k-index) would find them more exactly, but walks the
//! lists of every condition an event satisfies, a sixteenth of the rules each; two keys cost
//! one walk and one check per instance it finds.
//!
//! When the two keys together still pin down fewer than 16 bits, the instance gets a *third
//! key* on a third field, checked the same way for the instances the second let through: four
//! common conditions, keyed on two, left a tenth of an event's candidates matching it at
//! 100,000 rules, and confirming them was half its time. (A group keeps its third keys only when
//! at least one instance in [`THIRDS_KEPT_ABOVE`] has one: they cost a pass over the
//! candidates.)
//!
//! The bits of the keys chosen (a second key's added to its instance's) are kept (`Odds`):
//! they are what [`Program::estimate`] predicts an event's candidates from.
//!
//! [`Program::estimate`]: super::Program::estimate
//!
//! An instance with no criterion at all (only wildcards) or only globs without a literal byte
//! has no key and is confirmed for every event (the always list, which [`IndexStats`] reports).
//! A key, and a second key, is a necessary condition of the instance's match, so the candidates
//! an event gets are a superset of its matches, and the program's result is the scan's.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::atoms::{Atoms, HASHED_ATOM, WindowCounts, lowered_word};
use super::estimate::Odds;
use crate::eval::Value;
use crate::format::Criterion;
use crate::limits::MAX_ATOM;
use crate::schema::FieldDef;

/// Where an instance is indexed, with what it takes to check that an event satisfies its key
/// without the tables (`Index::is_candidate`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum KeyRef {
    /// Pattern `pattern` of atom index `index`.
    Atom {
        index: usize,
        pattern: usize,
    },
    /// An `exact` value: its length and the hash of its lowered bytes.
    Exact {
        field: u16,
        len: usize,
        hash: u64,
    },
    /// `min..=max` (`int_eq`: one value).
    Ints {
        field: u16,
        min: u64,
        max: u64,
    },
    /// Every bit of `mask`.
    FlagsAll {
        field: u16,
        mask: u64,
    },
    /// Some bit of `mask`.
    FlagsAny {
        field: u16,
        mask: u64,
    },
    Always,
}

/// An atom, lowered, kept inline (compiling 100,000 instances made a heap string of each of
/// their atoms, and allocating was a quarter of compiling). The bytes past `len` are zero, so
/// the derived order — the bytes, then the length — is the order of the byte strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Atom {
    bytes: [u8; MAX_ATOM],
    len: u8,
}

impl Atom {
    /// The first [`MAX_ATOM`] bytes of `run`, lowered.
    fn lowered(run: &[u8]) -> Self {
        let mut bytes = [0u8; MAX_ATOM];
        let mut len = 0u8;
        for (slot, b) in bytes.iter_mut().zip(run) {
            *slot = b.to_ascii_lowercase();
            len = len.saturating_add(1);
        }
        Self { bytes, len }
    }

    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The atom's bytes as one word: with the length, the atom itself (not a hash of it).
    const fn word(&self) -> u64 {
        u64::from_le_bytes(self.bytes)
    }
}

/// The key an instance is indexed under, before the tables are built.
enum Key {
    Atom {
        field: u16,
        atom: Atom,
    },
    /// A key the index checks whole; `decides` when it is the instance's only criterion.
    Other {
        key: KeyRef,
        decides: bool,
    },
}

/// What an instance could be indexed under: the first and last [`MAX_ATOM`] bytes of each of
/// its literal runs (lowered), and each other criterion that can be a key, with its bits.
pub(super) struct Choices {
    atoms: Vec<(u16, Atom)>,
    others: Vec<(u32, KeyRef)>,
    /// The instance has exactly one criterion that is not a wildcard.
    alone: bool,
}

/// The literal runs of a pattern (`exact`: all of it; `glob`: the runs between `*` and `?`).
fn literal_runs<'c>(criterion: &Criterion<'c>) -> impl Iterator<Item = &'c [u8]> + use<'c> {
    let (pattern, glob) = match *criterion {
        Criterion::Exact { pattern, .. } => (pattern, false),
        Criterion::Glob { pattern, .. } => (pattern, true),
        _ => (&[][..], false),
    };
    pattern
        .split(move |&b| glob && (b == b'*' || b == b'?'))
        .filter(|run| !run.is_empty())
}

/// log2 of `whole / part`, rounded down (0 when `part` is the larger).
fn bits_of(whole: u128, part: u128) -> u32 {
    let log = |v: u128| v.checked_ilog2().unwrap_or(0);
    log(whole).saturating_sub(log(part))
}

/// How many bits of the event an atom pins down: four per byte, at most 32.
fn atom_bits(atom: &[u8]) -> u32 {
    u32::try_from(atom.len().min(MAX_ATOM))
        .unwrap_or(0)
        .saturating_mul(4)
}

/// The keys one instance offers. `fields` are its template type's, for the integer ranges.
pub(super) fn choices(criteria: &[(u16, Criterion<'_>)], fields: &[FieldDef<'_>]) -> Choices {
    let mut atoms = Vec::new();
    let mut others = Vec::new();
    let alone = criteria.iter().filter(|(_, c)| !c.is_wildcard()).count() == 1;
    for (field, c) in criteria {
        for run in literal_runs(c) {
            // A long run offers its first and its last MAX_ATOM bytes: rule sets often share
            // a prefix (`c:/windows/...`) and differ at the end, or the other way round.
            let head = run.get(..MAX_ATOM).unwrap_or(run);
            let tail = run.get(run.len().saturating_sub(MAX_ATOM)..).unwrap_or(run);
            atoms.push((*field, Atom::lowered(head)));
            if tail != head {
                atoms.push((*field, Atom::lowered(tail)));
            }
        }
        let range = fields.get(usize::from(*field)).map_or(u128::MAX, |f| {
            u128::from(f.max)
                .saturating_sub(u128::from(f.min))
                .saturating_add(1)
        });
        let field = *field;
        let offer = match *c {
            Criterion::Exact { pattern, .. } => Some((
                64,
                KeyRef::Exact {
                    field,
                    len: pattern.len(),
                    hash: fold_hash(pattern),
                },
            )),
            Criterion::IntEq { value } => Some((
                bits_of(range, 1),
                KeyRef::Ints {
                    field,
                    min: value,
                    max: value,
                },
            )),
            Criterion::IntRange { min, max } => Some((
                bits_of(
                    range,
                    u128::from(max)
                        .saturating_sub(u128::from(min))
                        .saturating_add(1),
                ),
                KeyRef::Ints { field, min, max },
            )),
            // An empty mask holds for every value: no key.
            Criterion::FlagsAll { mask } if mask != 0 => {
                Some((mask.count_ones(), KeyRef::FlagsAll { field, mask }))
            }
            Criterion::FlagsAny { mask } => Some((
                u32::from(mask.count_ones() == 1),
                KeyRef::FlagsAny { field, mask },
            )),
            Criterion::Wildcard | Criterion::Glob { .. } | Criterion::FlagsAll { .. } => None,
        };
        others.extend(offer);
    }
    Choices {
        atoms,
        others,
        alone,
    }
}

/// What makes two non-atom keys the same key, for counting how many instances share one:
/// field, kind, and the kind's values.
fn shared_key(key: &KeyRef) -> (u16, u8, u64, u64) {
    match *key {
        KeyRef::Exact { field, len, hash } => (field, 0, u64::try_from(len).unwrap_or(0), hash),
        KeyRef::Ints { field, min, max } => (field, 1, min, max),
        KeyRef::FlagsAll { field, mask } => (field, 2, mask, 0),
        KeyRef::FlagsAny { field, mask } => (field, 3, mask, 0),
        KeyRef::Atom { .. } | KeyRef::Always => (0, 4, 0, 0),
    }
}

/// How many of one kind of key there are: every offer of a key, in the order made; per field
/// and kind, the offers in all. Once counted, per offer, how many offers share its key.
struct Sharing<K> {
    offers: Vec<(K, u32)>,
    per_kind: BTreeMap<(u16, u8), usize>,
}

impl<K: Ord> Sharing<K> {
    fn new() -> Self {
        Self {
            offers: Vec::new(),
            per_kind: BTreeMap::new(),
        }
    }

    fn count(&mut self, key: K, kind: (u16, u8)) {
        let at = u32::try_from(self.offers.len()).unwrap_or(u32::MAX);
        self.offers.push((key, at));
        let n = self.per_kind.entry(kind).or_insert(0);
        *n = n.saturating_add(1);
    }

    /// Done counting: per offer, in the order made, how many offers share its key. One sort
    /// and a pass over its runs (looking each offer's key up again by binary search was a
    /// third of compiling 100,000 instances).
    fn counted(mut self) -> Counted {
        self.offers.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut shared = alloc::vec![1usize; self.offers.len()];
        for run in self.offers.chunk_by(|a, b| a.0 == b.0) {
            for (_, at) in run {
                if let Some(n) = shared.get_mut(*at as usize) {
                    *n = run.len();
                }
            }
        }
        Counted {
            shared,
            per_kind: self.per_kind,
        }
    }
}

/// [`Sharing`] counted.
struct Counted {
    shared: Vec<usize>,
    per_kind: BTreeMap<(u16, u8), usize>,
}

impl Counted {
    /// How many offers share the key of offer `at`.
    fn shared(&self, at: usize) -> usize {
        self.shared.get(at).copied().unwrap_or(1)
    }

    fn total(&self, kind: (u16, u8)) -> usize {
        self.per_kind.get(&kind).copied().unwrap_or(1)
    }
}

/// `bits`, capped by what the content says of a key offered by `k` of the `n` criteria of its
/// field and kind: a key several rules share is taken to hold for about `k / n` of the events —
/// a value that many rules name (`system32`, port 443) is a value events carry often, whatever
/// its length says. A key no other rule names keeps its bits: that its field has few rules
/// says nothing of how rare it is.
fn capped(bits: u32, n: usize, k: usize) -> u32 {
    if k <= 1 {
        return bits;
    }
    bits.min(bits_of(n as u128, k as u128))
}

/// A second or third criterion's key for an instance (see [`Index::second`]): an atom, or a
/// key the index checks whole.
#[derive(Clone, Copy)]
enum Second {
    Atom { field: u16, atom: Atom },
    Other(KeyRef),
}

impl Second {
    const fn field(&self) -> Option<u16> {
        match self {
            Self::Atom { field, .. } => Some(*field),
            Self::Other(key) => key_field(key),
        }
    }
}

/// The odds of the instances that have a second key: of their key alone, and of both keys.
/// The difference is what the second keys turn away (each at the cost of one check).
#[derive(Debug, Clone, Default)]
pub(super) struct Paired {
    key: Odds,
    both: Odds,
}

type SlotOrder = ((u8, u16, u64, u64), (u8, u16, u64, u64));

/// What an instance's atom is to it: its key, or its second or third key (which only raise a
/// flag the index then checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Key,
    Second,
    Third,
}

/// The order of slots (see [`Index::position_of`]): instances of one table and field together,
/// within them by key, so that one key's instances are neighbours, and within one key by their
/// second key — its kind and field, then its value (a range by its start) — so that the
/// instances of one key with one second key are a run that one check screens (see
/// [`Screen`]), and those with ranges of one field a run sorted by start.
fn slot_order(key: &Key, second: Option<&Second>) -> SlotOrder {
    let second = match second {
        None => (0, 0, 0, 0),
        Some(Second::Atom { field, atom }) => (1, *field, atom.word(), u64::from(atom.len)),
        Some(Second::Other(key)) => {
            let (kind, field, a, b) = key_order(key);
            (kind.saturating_add(2), field, a, b)
        }
    };
    let key = match key {
        Key::Atom { field, atom } => (0, *field, atom.word(), u64::from(atom.len)),
        Key::Other { key, .. } => key_order(key),
    };
    (key, second)
}

fn key_order(key: &KeyRef) -> (u8, u16, u64, u64) {
    match *key {
        KeyRef::Exact { field, len, hash } => (1, field, hash, u64::try_from(len).unwrap_or(0)),
        KeyRef::Ints { field, min, max } => (2, field, min, max),
        KeyRef::FlagsAll { field, mask } => (3, field, u64::from(mask.trailing_zeros()), mask),
        KeyRef::FlagsAny { field, mask } => (4, field, u64::from(mask.trailing_zeros()), mask),
        KeyRef::Atom { .. } | KeyRef::Always => (5, 0, 0, 0),
    }
}

/// A run of consecutive slots, within one key, whose second keys one test screens: the same
/// key (checked once for the run), none, or ranges of one field sorted by start (a binary
/// search for those that can hold the value). Checking each instance's second key in turn
/// was most of an event's time when one key sends it a sixteenth of 100,000 rules.
///
/// A key whose instances have consecutive slots (the slot order keys atoms by their bytes, not
/// a hash, so that one key of the order is one pattern of a table) sends the event a span of
/// slots, screened whole (`Index::screen_span`); other candidates are checked one by one.
#[derive(Debug, Clone, Copy)]
struct Screen {
    /// The slot after the run's last.
    end: u32,
    test: ScreenTest,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ScreenTest {
    Pass,
    Key(KeyRef),
    /// Ranges on `field`, each at most `widest` wide: one holding `v` starts in
    /// `v - widest ..= v`. They are `Index::ranges[at..]`, one per slot of the run, sorted by
    /// start (searched there, sixteen bytes each, not among the second keys).
    Ranges {
        field: u16,
        widest: u64,
        at: u32,
    },
}

/// Screens are kept when their runs average at least this many slots, or the group has fewer
/// than `SCREENS_KEPT_BELOW` instances with a second key. (Measured at 100,000 instances:
/// keeping them always made the broad content 2 % slower; at 8, one group of the conjunctive
/// content, averaging 7.9, lost them, and its events took 805 ns instead of 515.)
const SCREEN_RUN: usize = 4;
const SCREENS_KEPT_BELOW: usize = 256;

/// A key this selective or more gets no second key: it already sends an event almost nothing
/// (one in 65,536 events; a tenth of the events' time at 100,000 such instances).
const SECOND_ABOVE: u32 = 16;

/// A group's third keys are kept when at least one instance in this many has one.
const THIRDS_KEPT_ABOVE: usize = 8;

/// A second or third key offered, with its capped and raw bits.
type Offer = ((u32, u32), Second);

/// The field a non-atom key reads.
const fn key_field(key: &KeyRef) -> Option<u16> {
    match *key {
        KeyRef::Exact { field, .. }
        | KeyRef::Ints { field, .. }
        | KeyRef::FlagsAll { field, .. }
        | KeyRef::FlagsAny { field, .. } => Some(field),
        KeyRef::Atom { .. } | KeyRef::Always => None,
    }
}

/// Picks each instance's key. Its best atom is the one the fewest instances of the group share
/// (the most selective, as far as the content itself tells), longer first among equals; the
/// key is that atom unless another criterion pins down more bits of the event. Every key's bits
/// are capped by how common the content shows it to be ([`capped`]), the raw bits
/// breaking ties. The always list when there is no key.
///
/// An instance whose key pins down fewer than [`SECOND_ABOVE`] bits also gets a second key:
/// the most selective criterion on another field (an atom only when it is some instance's key
/// already: an atom of its own would make the pass over the value longer for every event).
/// Rules that combine common conditions — a path word, an extension, a port range — are
/// selective only together: keyed on one, a sixteenth of them would be confirmed for every
/// event.
fn choose(
    choices: Vec<Choices>,
    odds: &mut Odds,
    paired: &mut Paired,
) -> Vec<(Key, Option<Second>, Option<Second>)> {
    const ATOM: u8 = 4;
    // Atoms are counted by hash: sorting a hundred thousand byte strings was most of the
    // choosing, and two atoms sharing a hash only make a heuristic count one too many.
    let mut atoms: Sharing<(u16, u64)> = Sharing::new();
    let mut others: Sharing<(u16, u8, u64, u64)> = Sharing::new();
    for c in &choices {
        for (field, atom) in &c.atoms {
            atoms.count((*field, fold_hash(atom.as_slice())), (*field, ATOM));
        }
        for (_, key) in &c.others {
            let k = shared_key(key);
            others.count(k, (k.0, k.1));
        }
    }
    let (atoms, others) = (atoms.counted(), others.counted());
    // Per instance: its atoms' and other keys' capped and raw bits, and its best atom (the
    // fewest sharing it, longer first). Flat, in the order counted (an instance's are `first..first + len` of its choices): per
    // atom `(capped, raw, field, index in its instance)`, per other key `(capped, raw, key)`.
    // Two vectors for all instances, not two per instance: allocating those was a tenth of
    // compiling. The per-field totals are looked up once per field, not once per atom.
    let mut atom_offers: Vec<(u32, u32, u16, usize)> = Vec::with_capacity(atoms.shared.len());
    let mut other_offers: Vec<(u32, u32, KeyRef)> = Vec::with_capacity(others.shared.len());
    let mut best_atoms: Vec<Option<usize>> = Vec::with_capacity(choices.len());
    let mut totals: Vec<(u16, usize)> = Vec::new();
    let mut atom_total = |field: u16| match totals.iter().find(|(f, _)| *f == field) {
        Some((_, n)) => *n,
        None => {
            let n = atoms.total((field, ATOM));
            totals.push((field, n));
            n
        }
    };
    let (mut atom_at, mut other_at) = (0usize, 0usize);
    for c in &choices {
        let first_atom = atom_at;
        atom_at = atom_at.saturating_add(c.atoms.len());
        best_atoms.push(
            c.atoms
                .iter()
                .enumerate()
                .map(|(i, (_, atom))| (atoms.shared(first_atom.saturating_add(i)), i, atom))
                .min_by_key(|(k, _, atom)| (*k, core::cmp::Reverse(atom.len)))
                .map(|(_, i, _)| i),
        );
        for (i, (field, atom)) in c.atoms.iter().enumerate() {
            let k = atoms.shared(first_atom.saturating_add(i));
            let raw = atom_bits(atom.as_slice());
            atom_offers.push((capped(raw, atom_total(*field), k), raw, *field, i));
        }
        let first_other = other_at;
        other_at = other_at.saturating_add(c.others.len());
        for (i, (bits, key)) in c.others.iter().enumerate() {
            let k = shared_key(key);
            // An `exact` value is one of its field's patterns, like the atoms: counted
            // among them, it is never taken as more common than its own atom.
            let n = match key {
                KeyRef::Exact { .. } => atom_total(k.0),
                _ => others.total((k.0, k.1)),
            };
            let shared = others.shared(first_other.saturating_add(i));
            other_offers.push((capped(*bits, n, shared), *bits, *key));
        }
    }
    // Per instance, its offers.
    struct Offers<'o> {
        atoms: &'o [(u32, u32, u16, usize)],
        others: &'o [(u32, u32, KeyRef)],
        best_atom: Option<usize>,
    }
    let offers: Vec<Offers<'_>> = {
        let (mut atoms_left, mut others_left) = (atom_offers.as_slice(), other_offers.as_slice());
        choices
            .iter()
            .zip(&best_atoms)
            .map(|(c, best_atom)| {
                let (atoms, rest) = atoms_left.split_at(c.atoms.len().min(atoms_left.len()));
                atoms_left = rest;
                let (others, rest) = others_left.split_at(c.others.len().min(others_left.len()));
                others_left = rest;
                Offers {
                    atoms,
                    others,
                    best_atom: *best_atom,
                }
            })
            .collect()
    };
    // The primary keys first: a second key is an atom only when it is some primary key.
    let primaries: Vec<(Key, u32, Option<u16>)> = choices
        .iter()
        .zip(&offers)
        .map(|(c, o)| {
            let atom = o.best_atom.and_then(|i| o.atoms.iter().find(|a| a.3 == i));
            let other = o
                .others
                .iter()
                .max_by_key(|(capped, bits, _)| (*capped, *bits));
            // Integer and flag keys are checked whole by their tables; an `exact` key only by
            // its hash, which another value may share.
            let decide = |key: KeyRef| Key::Other {
                key,
                decides: c.alone
                    && matches!(
                        key,
                        KeyRef::Ints { .. } | KeyRef::FlagsAll { .. } | KeyRef::FlagsAny { .. }
                    ),
            };
            match (atom, other) {
                (Some(&(a_capped, a_raw, ..)), Some(&(capped, bits, key)))
                    if (capped, bits) > (a_capped, a_raw) =>
                {
                    (decide(key), capped, key_field(&key))
                }
                (Some(&(capped, _, field, i)), _) => match c.atoms.get(i) {
                    Some(&(_, atom)) => (Key::Atom { field, atom }, capped, Some(field)),
                    None => (decide(KeyRef::Always), 0, None),
                },
                (None, Some(&(capped, _, key))) => (decide(key), capped, key_field(&key)),
                (None, None) => (decide(KeyRef::Always), 0, None),
            }
        })
        .collect();
    let mut keyed_atoms: Vec<(u16, Atom)> = primaries
        .iter()
        .filter_map(|(k, ..)| match k {
            Key::Atom { field, atom } => Some((*field, *atom)),
            Key::Other { .. } => None,
        })
        .collect();
    keyed_atoms.sort_unstable();
    keyed_atoms.dedup();
    let keys: Vec<(Key, u32, Option<Offer>, Option<Offer>)> = choices
        .into_iter()
        .zip(offers)
        .zip(primaries)
        .map(|((c, o), (key, capped, field))| {
            let keyed = !matches!(
                key,
                Key::Other {
                    key: KeyRef::Always,
                    ..
                }
            );
            // The best criterion on a field not in `taken`: an atom that is some instance's
            // key, or a key the index checks whole.
            let pick = |taken: &[Option<u16>]| {
                let atom = o
                    .atoms
                    .iter()
                    .filter(|a| !taken.contains(&Some(a.2)))
                    .filter_map(|a| {
                        let atom = c.atoms.get(a.3)?.1;
                        keyed_atoms.binary_search(&(a.2, atom)).ok()?;
                        Some(((a.0, a.1), Second::Atom { field: a.2, atom }))
                    })
                    .max_by_key(|(bits, _)| *bits);
                let other = o
                    .others
                    .iter()
                    .filter(|(_, _, k)| !taken.contains(&key_field(k)))
                    .max_by_key(|(capped, bits, _)| (*capped, *bits))
                    .map(|&(capped, bits, k)| ((capped, bits), Second::Other(k)));
                match (atom, other) {
                    (Some(a), Some(b)) => Some(if b.0 > a.0 { b } else { a }),
                    (a, b) => a.or(b),
                }
                .filter(|((capped, _), _)| *capped > 0)
            };
            let second = (keyed && capped < SECOND_ABOVE)
                .then(|| pick(&[field]))
                .flatten();
            // Still short of SECOND_ABOVE with both: a third key, on a third field.
            let third = second
                .filter(|((bits, _), _)| capped.saturating_add(*bits) < SECOND_ABOVE)
                .and_then(|(_, s)| pick(&[field, s.field()]));
            (key, capped, second, third)
        })
        .collect();
    // Third keys only where many instances have one: checking the candidates for them is a
    // pass over all of them, a loss when few would be turned away (broad rules, matching most
    // events they are sent, have few third keys; measured 8 % slower on them).
    let thirds = keys.iter().filter(|k| k.3.is_some()).count();
    let tripled = thirds.saturating_mul(THIRDS_KEPT_ABOVE) >= keys.len();
    keys.into_iter()
        .map(|(key, capped, second, third)| {
            let third = third.filter(|_| tripled);
            let more = [second, third]
                .iter()
                .flatten()
                .fold(0u32, |sum, ((bits, _), _)| sum.saturating_add(*bits));
            let count = |odds: &mut Odds, more: u32| match &key {
                Key::Atom { field, atom } => odds.atom(
                    *field,
                    capped.saturating_add(more),
                    atom_bits(atom.as_slice()).saturating_add(more),
                ),
                Key::Other { .. } => odds.per_event(capped.saturating_add(more)),
            };
            count(odds, more);
            if second.is_some() {
                count(&mut paired.key, 0);
                count(&mut paired.both, more);
            }
            (key, second.map(|(_, s)| s), third.map(|(_, s)| s))
        })
        .collect()
}

/// Atoms of one bytes field: pattern `p` of the automaton stands for the instances
/// `members[starts[p]..starts[p + 1]]`.
#[derive(Debug, Clone)]
struct AtomIndex {
    field: u16,
    automaton: Atoms,
    starts: Vec<usize>,
    members: Vec<u32>,
}

/// `(key, instance)` pairs found by key in one probe: the distinct keys mixed (multiplied by an
/// odd constant: a bijection, so equal mixed keys are equal keys) and sorted, behind a
/// directory of their top bits, each with the run of its instances. A binary search over a
/// hundred thousand keys was a quarter of an event's time (every step a cache miss), and so was
/// one over the thousands of instances that share one key (an `exact` word many rules name),
/// when the directory counted instances, not keys.
#[derive(Debug, Clone, Default)]
struct KeyTable {
    shift: u32,
    /// `keys[starts[b]..starts[b + 1]]` are the keys whose top bits are `b`.
    starts: Vec<u32>,
    keys: Vec<u64>,
    /// `slots[runs[k]..runs[k + 1]]` are the instances of `keys[k]`, in slot order.
    runs: Vec<u32>,
    slots: Vec<u32>,
}

impl KeyTable {
    const MIX: u64 = 0x9e37_79b9_7f4a_7c15;

    fn new(pairs: &[(u64, u32)]) -> Self {
        let mut entries: Vec<(u64, u32)> = pairs
            .iter()
            .map(|&(key, at)| (key.wrapping_mul(Self::MIX), at))
            .collect();
        entries.sort_unstable();
        let mut keys = Vec::new();
        let mut runs = Vec::new();
        let mut at = 0u32;
        for run in entries.chunk_by(|a, b| a.0 == b.0) {
            if let Some((key, _)) = run.first() {
                keys.push(*key);
                runs.push(at);
            }
            at = at.saturating_add(u32::try_from(run.len()).unwrap_or(u32::MAX));
        }
        runs.push(at);
        // About one key per bucket.
        let bits = keys
            .len()
            .checked_next_power_of_two()
            .map_or(0, |n| n.trailing_zeros())
            .clamp(1, 31);
        let shift = u64::BITS.saturating_sub(bits);
        let mut starts = Vec::with_capacity((1usize << bits).saturating_add(1));
        let mut next = 0usize;
        for bucket in 0..=(1u64 << bits) {
            while keys
                .get(next)
                .is_some_and(|key| key.checked_shr(shift).unwrap_or(0) < bucket)
            {
                next = next.saturating_add(1);
            }
            starts.push(u32::try_from(next).unwrap_or(u32::MAX));
        }
        Self {
            shift,
            starts,
            keys,
            runs,
            slots: entries.into_iter().map(|(_, at)| at).collect(),
        }
    }

    /// The instances of `key`, in slot order.
    fn run(&self, key: u64) -> &[u32] {
        let mixed = key.wrapping_mul(Self::MIX);
        let bucket = usize::try_from(mixed.checked_shr(self.shift).unwrap_or(0)).unwrap_or(0);
        let from = self.starts.get(bucket).map_or(0, |&s| s as usize);
        let to = self
            .starts
            .get(bucket.saturating_add(1))
            .map_or(0, |&s| s as usize);
        let in_bucket = self.keys.get(from..to).unwrap_or(&[]);
        // A search, not a walk: content can put many keys under one bucket.
        let Ok(k) = in_bucket
            .binary_search(&mixed)
            .map(|i| i.saturating_add(from))
        else {
            return &[];
        };
        let start = self.runs.get(k).map_or(0, |&s| s as usize);
        let end = self
            .runs
            .get(k.saturating_add(1))
            .map_or(0, |&s| s as usize);
        self.slots.get(start..end).unwrap_or(&[])
    }

    /// The instances under `key`.
    fn get(&self, key: u64) -> impl Iterator<Item = u32> + '_ {
        self.run(key).iter().copied()
    }

    fn memory_usage(&self) -> usize {
        self.starts
            .len()
            .saturating_add(self.runs.len())
            .saturating_add(self.slots.len())
            .saturating_mul(4)
            .saturating_add(self.keys.len().saturating_mul(8))
    }
}

/// `exact` keys of one bytes field: the lengths in use (an event value of another length is
/// not hashed at all) and the instances by hash (`pairs` until built).
#[derive(Debug, Clone, Default)]
struct ExactIndex {
    field: u16,
    lengths: Vec<usize>,
    pairs: Vec<(u64, u32)>,
    table: KeyTable,
}

/// Integer keys of one unsigned field: `int_eq` values in a [`KeyTable`], and ranges by width
/// class — a range of width `w` (`max - min`) is in class `c` when `2^(c-1) <= w < 2^c` — sorted
/// by class, then start. A range of class `c` that holds `v` starts in `v - (2^c - 1) ..= v`: one binary
/// search and a short walk per class, where ranges sorted by start alone had to be walked from
/// the first (a scan that grew with the rule count).
#[derive(Debug, Clone, Default)]
struct IntIndex {
    field: u16,
    /// `int_eq` values (until built into `table`).
    points: Vec<(u64, u32)>,
    table: KeyTable,
    ranges: Vec<(u64, u64, u32)>,
    /// Per class in use: the class and where its ranges start in `ranges`.
    classes: Vec<(u32, usize)>,
}

/// Masks listed under flag bits: bit `b`'s are `entries[starts[b]..starts[b + 1]]`.
#[derive(Debug, Clone, Default)]
struct ByBit {
    starts: Vec<usize>,
    entries: Vec<(u64, u32)>,
}

impl ByBit {
    /// From `(bit, mask, instance)`, in any order.
    fn new(mut listed: Vec<(u32, u64, u32)>) -> Self {
        listed.sort_unstable();
        let mut by_bit = Self::default();
        for (bit, mask, at) in listed {
            // `starts` grows to the bit, then every later bit starts where this one ends.
            let bit = usize::try_from(bit).unwrap_or(0);
            while by_bit.starts.len() <= bit {
                by_bit.starts.push(by_bit.entries.len());
            }
            by_bit.entries.push((mask, at));
        }
        while by_bit.starts.len() <= 64 {
            by_bit.starts.push(by_bit.entries.len());
        }
        by_bit
    }

    fn at(&self, bit: usize) -> &[(u64, u32)] {
        self.starts
            .get(bit)
            .zip(self.starts.get(bit.saturating_add(1)))
            .and_then(|(&s, &e)| self.entries.get(s..e))
            .unwrap_or(&[])
    }

    fn memory_usage(&self) -> usize {
        self.starts
            .len()
            .saturating_mul(8)
            .saturating_add(self.entries.len().saturating_mul(16))
    }
}

/// `flags_any` masks of at most this many bits are listed under each of their bits; wider ones,
/// which hold for at least seven events in eight, are checked one by one (the scan costs no more
/// than listing what they match).
const LISTED_ANY_BITS: u32 = 2;

/// Flag keys of one flags field: `flags_all` masks under their lowest bit, `flags_any` masks of
/// up to [`LISTED_ANY_BITS`] bits under each of theirs (an event reaches such an instance through
/// the lowest bit it shares with the mask, so once), and the wider `flags_any` masks.
#[derive(Debug, Clone, Default)]
struct FlagIndex {
    field: u16,
    all: ByBit,
    narrow_any: ByBit,
    any: Vec<(u64, u32)>,
}

/// How an index places a group's instances, for reports and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStats {
    /// Instances keyed on a literal atom of an `exact` or `glob` criterion.
    pub atom: usize,
    /// Instances keyed on the whole value of an `exact` criterion.
    pub exact: usize,
    /// Instances keyed on an `int_eq` or `int_range` criterion.
    pub int: usize,
    /// Instances keyed on a `flags_all` or `flags_any` criterion.
    pub flags: usize,
    /// Instances with no key, confirmed for every event of their type.
    pub always: usize,
    /// Instances (counted above under their key) that also have a second key, on another
    /// field, which an event must satisfy too before they are confirmed.
    pub paired: usize,
    /// Instances (counted in `paired`) that also have a third key, on a third field.
    pub third: usize,
}

impl IndexStats {
    /// These counts plus `other`'s.
    #[must_use]
    pub const fn plus(self, other: Self) -> Self {
        Self {
            atom: self.atom.saturating_add(other.atom),
            exact: self.exact.saturating_add(other.exact),
            int: self.int.saturating_add(other.int),
            flags: self.flags.saturating_add(other.flags),
            always: self.always.saturating_add(other.always),
            paired: self.paired.saturating_add(other.paired),
            third: self.third.saturating_add(other.third),
        }
    }
}

/// The index of one template type's instances.
#[derive(Debug, Clone, Default)]
pub(super) struct Index {
    /// Per instance (by position), its key.
    keys: Vec<KeyRef>,
    /// Per instance, whether satisfying its key is matching it (`Key::Other::decides`).
    decides: Vec<bool>,
    /// Per slot (below), a second criterion's key (`KeyRef::Always` when it has none): an
    /// instance its key sends an event to is a candidate only when the event satisfies this
    /// one too, checked from the index's own data before the instance is confirmed. Empty when
    /// no instance has one.
    second: Vec<KeyRef>,
    /// Per slot, a third criterion's key (`KeyRef::Always` when none), checked like the
    /// second for the candidates the screens let through. Empty when no instance has one.
    third: Vec<KeyRef>,
    /// Runs of slots whose second keys one test screens (empty when `second` is), and per
    /// slot, the index of its run.
    screens: Vec<Screen>,
    screen_of: Vec<u32>,
    /// `(min, max)` of the second keys of the slots in `Ranges` screens, screen after screen.
    ranges: Vec<(u64, u64)>,
    /// When some instance has a second key, the tables list instances by *slot*, not position:
    /// slots number the instances in the order of their keys, so that the instances one key
    /// sends an event to have consecutive slots and their second keys are read in one sweep
    /// (read by position, each was a cache miss: most of an event's time at 100,000 instances).
    /// `slot_of[position]` and `position_of[slot]`; both empty when slots are positions.
    slot_of: Vec<u32>,
    position_of: Vec<u32>,
    /// Per atom table, where its patterns' flags start in the scratch's `fired`; and the
    /// patterns of all tables.
    fired_base: Vec<usize>,
    fired_len: usize,
    /// Instances in all (the size of the candidate bitmap).
    len: usize,
    atoms: Vec<AtomIndex>,
    exacts: Vec<ExactIndex>,
    ints: Vec<IntIndex>,
    flags: Vec<FlagIndex>,
    always: Vec<u32>,
    /// How often the keys are expected to hold, for [`Estimate`](super::Estimate)s.
    odds: Odds,
    paired: Paired,
}

/// Per-event memory of the index, owned by the caller's scratch.
#[derive(Debug, Clone, Default)]
pub(super) struct IndexScratch {
    fired: Vec<bool>,
    fired_list: Vec<usize>,
    /// Runs of consecutive slots a key sent the event to, not yet screened (see `Screen`).
    spans: Vec<(u32, u32)>,
    /// One bit per instance of the group, for putting many candidates in order.
    bitmap: Vec<u64>,
}

impl IndexScratch {
    pub(super) const fn new() -> Self {
        Self {
            fired: Vec::new(),
            fired_list: Vec::new(),
            spans: Vec::new(),
            bitmap: Vec::new(),
        }
    }
}

/// Puts `positions` (each below `len`, none twice) in increasing order: a sort when they are few,
/// else through a bitmap of `len` bits, which costs one pass over `len / 64` words and none per
/// comparison (many candidates of a large group: sorting them was a fifth of evaluating).
fn order(positions: &mut Vec<u32>, len: usize, bitmap: &mut Vec<u64>) {
    let words = len.div_ceil(64);
    if positions.len() <= 64 || positions.len().saturating_mul(8) < words {
        positions.sort_unstable();
        return;
    }
    bitmap.clear();
    bitmap.resize(words, 0);
    for &p in positions.iter() {
        let p = p as usize;
        if let Some(word) = bitmap.get_mut(p / 64) {
            *word |= 1u64 << (p % 64);
        }
    }
    positions.clear();
    for (w, &word) in bitmap.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            let bit = bits.trailing_zeros() as usize;
            bits &= bits.wrapping_sub(1);
            positions
                .push(u32::try_from(w.saturating_mul(64).saturating_add(bit)).unwrap_or(u32::MAX));
        }
    }
}

/// A per-field table.
trait FieldTable {
    fn new(field: u16) -> Self;
    fn field(&self) -> u16;
}

macro_rules! field_table {
    ($($t:ty),*) => {$(
        impl FieldTable for $t {
            fn new(field: u16) -> Self {
                Self { field, ..Self::default() }
            }
            fn field(&self) -> u16 {
                self.field
            }
        }
    )*};
}
field_table!(ExactIndex, IntIndex, FlagIndex);

/// `field`'s table in `tables`, added when missing.
fn table_for<T: FieldTable>(tables: &mut Vec<T>, field: u16) -> Option<&mut T> {
    let at = match tables.iter().position(|t| t.field() == field) {
        Some(at) => at,
        None => {
            tables.push(T::new(field));
            tables.len().saturating_sub(1)
        }
    };
    tables.get_mut(at)
}

impl Index {
    /// Builds the tables of a group whose instances offered `choices` (in position order).
    /// `dfa_budget` is the memory left for DFA automata, shared by the whole program.
    pub(super) fn build(choices: Vec<Choices>, dfa_budget: &mut usize) -> Self {
        let mut odds = Odds::default();
        let mut paired_odds = Paired::default();
        let text = WindowCounts::new(choices.iter().flat_map(|c| {
            c.atoms
                .iter()
                .map(|(field, atom)| (*field, atom.as_slice()))
        }));
        let keys = choose(choices, &mut odds, &mut paired_odds);
        let paired = keys.iter().any(|(_, second, _)| second.is_some());
        let tripled = keys.iter().any(|(.., third)| third.is_some());
        let mut index = Self {
            odds,
            paired: paired_odds,
            keys: alloc::vec![KeyRef::Always; keys.len()],
            decides: alloc::vec![false; keys.len()],
            second: alloc::vec![KeyRef::Always; if paired { keys.len() } else { 0 }],
            third: alloc::vec![KeyRef::Always; if tripled { keys.len() } else { 0 }],
            len: keys.len(),
            ..Self::default()
        };
        let mut order: Vec<(SlotOrder, u32)> = Vec::new();
        if paired {
            order = keys
                .iter()
                .enumerate()
                .map(|(position, (key, second, _))| {
                    (
                        slot_order(key, second.as_ref()),
                        u32::try_from(position).unwrap_or(u32::MAX),
                    )
                })
                .collect();
            order.sort_unstable();
            index.position_of = order.iter().map(|(_, p)| *p).collect();
            index.slot_of = alloc::vec![0; keys.len()];
            for (slot, (_, position)) in order.iter().enumerate() {
                if let Some(s) = index.slot_of.get_mut(*position as usize) {
                    *s = u32::try_from(slot).unwrap_or(u32::MAX);
                }
            }
        }
        // `(field, atom, instance, role)`: primary keys, and second and third keys that are
        // atoms.
        let mut atoms: Vec<(u16, Atom, u32, Role)> = Vec::new();
        let mut flags_all: Vec<(u16, u32, u64, u32)> = Vec::new();
        let mut flags_any: Vec<(u16, u32, u64, u32)> = Vec::new();
        for (position, (key, second, third)) in keys.into_iter().enumerate() {
            let at = index.slot(position);
            for (more, role) in [(second, Role::Second), (third, Role::Third)] {
                match more {
                    Some(Second::Atom { field, atom }) => atoms.push((field, atom, at, role)),
                    Some(Second::Other(key)) => {
                        if let Some(slot) = index.more_keys(role).get_mut(at as usize) {
                            *slot = key;
                        }
                    }
                    None => {}
                }
            }
            let key = match key {
                Key::Atom { field, atom } => {
                    atoms.push((field, atom, at, Role::Key));
                    continue;
                }
                Key::Other { key, decides } => {
                    if let Some(slot) = index.decides.get_mut(position) {
                        *slot = decides;
                    }
                    key
                }
            };
            if let Some(slot) = index.keys.get_mut(position) {
                *slot = key;
            }
            match key {
                KeyRef::Exact { field, len, hash } => {
                    if let Some(t) = table_for(&mut index.exacts, field) {
                        t.pairs.push((hash, at));
                        if let Err(at) = t.lengths.binary_search(&len) {
                            t.lengths.insert(at, len);
                        }
                    }
                }
                KeyRef::Ints { field, min, max } => {
                    if let Some(t) = table_for(&mut index.ints, field) {
                        if min == max {
                            t.points.push((min, at));
                        } else {
                            t.ranges.push((min, max, at));
                        }
                    }
                }
                KeyRef::FlagsAll { field, mask } => {
                    flags_all.push((field, mask.trailing_zeros(), mask, at));
                    let _ = table_for(&mut index.flags, field);
                }
                KeyRef::FlagsAny { field, mask } if mask.count_ones() <= LISTED_ANY_BITS => {
                    let mut bits = mask;
                    while bits != 0 {
                        flags_any.push((field, bits.trailing_zeros(), mask, at));
                        bits &= bits.wrapping_sub(1);
                    }
                    // The table exists for the field even when every mask is listed.
                    let _ = table_for(&mut index.flags, field);
                }
                KeyRef::FlagsAny { field, mask } => {
                    if let Some(t) = table_for(&mut index.flags, field) {
                        t.any.push((mask, at));
                    }
                }
                KeyRef::Atom { .. } => {}
                KeyRef::Always => index.always.push(at),
            }
        }
        index.finish_exacts();
        index.finish_ints();
        index.finish_flags(&flags_all, &flags_any);
        index.build_atoms(atoms, &text, dfa_budget);
        index.always.sort_unstable();
        index.build_screens(&order);
        index
    }

    /// Cuts the slots (in `order`, by key then second key) into [`Screen`]s: a run ends where
    /// the key or the second key's test changes.
    fn build_screens(&mut self, order: &[(SlotOrder, u32)]) {
        if self.second.is_empty() {
            return;
        }
        let test = |key: &KeyRef| match *key {
            KeyRef::Always => ScreenTest::Pass,
            KeyRef::Ints { field, .. } => ScreenTest::Ranges {
                field,
                widest: 0,
                at: 0,
            },
            key => ScreenTest::Key(key),
        };
        let mut previous: Option<((u8, u16, u64, u64), ScreenTest)> = None;
        for (slot, ((key, _), _)) in order.iter().enumerate() {
            let second = self.second.get(slot).copied().unwrap_or(KeyRef::Always);
            let this = (*key, test(&second));
            let end = u32::try_from(slot.saturating_add(1)).unwrap_or(u32::MAX);
            match self.screens.last_mut() {
                Some(run) if previous == Some(this) => run.end = end,
                _ => {
                    let mut test = this.1;
                    if let ScreenTest::Ranges { at, .. } = &mut test {
                        *at = u32::try_from(self.ranges.len()).unwrap_or(u32::MAX);
                    }
                    self.screens.push(Screen { end, test });
                }
            }
            previous = Some(this);
            if let (Some(run), KeyRef::Ints { min, max, .. }) = (self.screens.last_mut(), second)
                && let ScreenTest::Ranges { widest, .. } = &mut run.test
            {
                *widest = (*widest).max(max.saturating_sub(min));
                self.ranges.push((min, max));
            }
            self.screen_of
                .push(u32::try_from(self.screens.len().saturating_sub(1)).unwrap_or(u32::MAX));
        }
        // Runs of a few slots save no checks, and cost a lookup each: then each slot's second
        // key is checked on its own. (Small groups keep their screens: either way costs them
        // little, and the fuzz targets, whose contents are small, then check the screens.)
        if self.second.len() >= SCREENS_KEPT_BELOW
            && self.screens.len().saturating_mul(SCREEN_RUN) > self.second.len()
        {
            self.screens = Vec::new();
            self.screen_of = Vec::new();
            self.ranges = Vec::new();
        }
    }

    fn finish_exacts(&mut self) {
        for t in &mut self.exacts {
            t.table = KeyTable::new(&t.pairs);
            t.pairs = Vec::new();
        }
    }

    fn finish_ints(&mut self) {
        for t in &mut self.ints {
            t.table = KeyTable::new(&t.points);
            t.points = Vec::new();
            t.ranges
                .sort_unstable_by_key(|&(min, max, at)| (width_class(min, max), min, max, at));
            t.classes.clear();
            for (i, &(min, max, _)) in t.ranges.iter().enumerate() {
                let class = width_class(min, max);
                if t.classes.last().is_none_or(|(c, _)| *c != class) {
                    t.classes.push((class, i));
                }
            }
        }
    }

    fn finish_flags(
        &mut self,
        flags_all: &[(u16, u32, u64, u32)],
        flags_any: &[(u16, u32, u64, u32)],
    ) {
        let of = |listed: &[(u16, u32, u64, u32)], field: u16| {
            listed
                .iter()
                .filter(|(f, ..)| *f == field)
                .map(|&(_, bit, mask, at)| (bit, mask, at))
                .collect::<Vec<_>>()
        };
        for t in &mut self.flags {
            t.all = ByBit::new(of(flags_all, t.field));
            t.narrow_any = ByBit::new(of(flags_any, t.field));
        }
    }

    /// Per field, one hashed index over its atoms of `HASHED_ATOM` bytes or more (probed at
    /// every second position when none is that short), and one automaton over the shorter ones.
    fn build_atoms(
        &mut self,
        mut atoms: Vec<(u16, Atom, u32, Role)>,
        text: &WindowCounts,
        dfa_budget: &mut usize,
    ) {
        // One table per kind: each table is a pass over the value.
        let class = |atom: &Atom| u8::from(usize::from(atom.len) >= HASHED_ATOM);
        atoms.sort_unstable_by(|(fa, a, pa, sa), (fb, b, pb, sb)| {
            (fa, class(a), a, pa, sa).cmp(&(fb, class(b), b, pb, sb))
        });
        let mut rest = atoms.as_slice();
        while let Some((field, first, ..)) = rest.first() {
            let (field, kind) = (*field, class(first));
            let hashed = kind > 0;
            let split = rest
                .iter()
                .position(|(f, a, ..)| *f != field || class(a) != kind)
                .unwrap_or(rest.len());
            let (mine, tail) = rest.split_at(split);
            rest = tail;
            let mut patterns: Vec<&[u8]> = Vec::new();
            let mut starts = Vec::new();
            let mut members = Vec::with_capacity(mine.len());
            let index = self.atoms.len();
            // Second and third keys are patterns too, with no members: they only raise a flag.
            let mut seconds = Vec::new();
            for (_, atom, slot, role) in mine {
                if patterns.last() != Some(&atom.as_slice()) {
                    patterns.push(atom.as_slice());
                    starts.push(members.len());
                }
                let key = KeyRef::Atom {
                    index,
                    pattern: patterns.len().saturating_sub(1),
                };
                let entry = if *role == Role::Key {
                    members.push(*slot);
                    let position = self.position(*slot);
                    self.keys.get_mut(position)
                } else {
                    seconds.push((*slot, *role));
                    self.more_keys(*role).get_mut(*slot as usize)
                };
                if let Some(entry) = entry {
                    *entry = key;
                }
            }
            starts.push(members.len());
            match Atoms::build(&patterns, hashed, |key| text.count(field, key), dfa_budget) {
                Some(automaton) => {
                    self.fired_base.push(self.fired_len);
                    self.fired_len = self.fired_len.saturating_add(patterns.len());
                    self.atoms.push(AtomIndex {
                        field,
                        automaton,
                        starts,
                        members,
                    });
                }
                // An automaton too large to build: its instances are checked on every event,
                // and its second keys are not checked at all.
                None => {
                    for &slot in &members {
                        let position = self.position(slot);
                        if let Some(key) = self.keys.get_mut(position) {
                            *key = KeyRef::Always;
                        }
                    }
                    for &(slot, role) in &seconds {
                        if let Some(key) = self.more_keys(role).get_mut(slot as usize) {
                            *key = KeyRef::Always;
                        }
                    }
                    self.always.extend(members);
                }
            }
        }
    }

    /// The second or third keys, by slot.
    fn more_keys(&mut self, role: Role) -> &mut Vec<KeyRef> {
        match role {
            Role::Third => &mut self.third,
            Role::Key | Role::Second => &mut self.second,
        }
    }

    /// The slot of the instance at `position`.
    fn slot(&self, position: usize) -> u32 {
        let position = u32::try_from(position).unwrap_or(u32::MAX);
        match self.slot_of.get(position as usize) {
            Some(slot) => *slot,
            None => position,
        }
    }

    /// The position of the instance in `slot`.
    fn position(&self, slot: u32) -> usize {
        self.position_of.get(slot as usize).copied().unwrap_or(slot) as usize
    }

    /// Whether the instance at `position` matches every event that satisfies its key.
    pub(super) fn decides(&self, position: usize) -> bool {
        self.decides.get(position).copied().unwrap_or(false)
    }

    /// The candidates expected for an event whose bytes field `f` is `len(f)` bytes long.
    pub(super) fn expected_candidates(&self, len: impl Fn(u16) -> usize) -> f64 {
        self.odds.expected(len)
    }

    /// The checks expected to turn away the instances the tables send an event to that their
    /// second or third key does not hold for: one per instance, or with screens, one per screen
    /// (a screen of `r` slots on average turns them away `r` at a time).
    pub(super) fn expected_screened(&self, len: impl Fn(u16) -> usize) -> f64 {
        let turned_away =
            (self.paired.key.expected(&len) - self.paired.both.expected(&len)).max(0.0);
        if self.screens.is_empty() {
            turned_away
        } else {
            turned_away * self.screens.len() as f64 / self.second.len().max(1) as f64
        }
    }

    /// The bytes fields the index passes over, once per atom table (a field with both hashed
    /// and automaton atoms is read twice).
    pub(super) fn indexed_fields(&self) -> impl Iterator<Item = u16> + '_ {
        self.atoms.iter().map(|a| a.field)
    }

    /// How the instances are keyed.
    pub(super) fn stats(&self) -> IndexStats {
        let mut s = IndexStats::default();
        for key in &self.keys {
            let slot = match key {
                KeyRef::Atom { .. } => &mut s.atom,
                KeyRef::Exact { .. } => &mut s.exact,
                KeyRef::Ints { .. } => &mut s.int,
                KeyRef::FlagsAll { .. } | KeyRef::FlagsAny { .. } => &mut s.flags,
                KeyRef::Always => &mut s.always,
            };
            *slot = slot.saturating_add(1);
        }
        let keyed = |keys: &[KeyRef]| keys.iter().filter(|k| **k != KeyRef::Always).count();
        s.paired = keyed(&self.second);
        s.third = keyed(&self.third);
        s
    }

    /// Bytes the tables hold.
    pub(super) fn memory_usage(&self) -> usize {
        let atoms = self.atoms.iter().fold(0usize, |s, a| {
            s.saturating_add(a.automaton.memory_usage())
                .saturating_add(a.starts.len().saturating_mul(8))
                .saturating_add(a.members.len().saturating_mul(4))
        });
        let exacts = self.exacts.iter().fold(0usize, |s, t| {
            s.saturating_add(t.table.memory_usage())
                .saturating_add(t.lengths.len().saturating_mul(8))
        });
        let ints = self.ints.iter().fold(0usize, |s, t| {
            s.saturating_add(t.table.memory_usage())
                .saturating_add(t.ranges.len().saturating_mul(24))
                .saturating_add(t.classes.len().saturating_mul(16))
        });
        let flags = self.flags.iter().fold(0usize, |s, t| {
            s.saturating_add(t.all.memory_usage())
                .saturating_add(t.narrow_any.memory_usage())
                .saturating_add(t.any.len().saturating_mul(16))
        });
        self.keys
            .len()
            .saturating_add(self.second.len())
            .saturating_add(self.third.len())
            .saturating_mul(core::mem::size_of::<KeyRef>())
            .saturating_add(self.fired_base.len().saturating_mul(8))
            .saturating_add(self.slot_of.len().saturating_mul(4))
            .saturating_add(self.screen_of.len().saturating_mul(4))
            .saturating_add(self.ranges.len().saturating_mul(16))
            .saturating_add(
                self.screens
                    .len()
                    .saturating_mul(core::mem::size_of::<Screen>()),
            )
            .saturating_add(self.position_of.len().saturating_mul(4))
            .saturating_add(atoms)
            .saturating_add(exacts)
            .saturating_add(ints)
            .saturating_add(flags)
            .saturating_add(self.always.len().saturating_mul(4))
            .saturating_add(self.decides.len())
    }

    /// Appends to `out` the positions of the instances whose key `event` satisfies, sorted:
    /// the event's candidates.
    pub(super) fn candidates(
        &self,
        event: &[Value<'_>],
        scratch: &mut IndexScratch,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        out.extend_from_slice(&self.always);
        if scratch.fired.len() < self.fired_len {
            scratch.fired.resize(self.fired_len, false);
        }
        // With screens, a key's run of consecutive slots is kept as one span, screened whole
        // below: its slots turned away are never listed.
        let screened = !self.screens.is_empty();
        scratch.spans.clear();
        // The span of a key's sorted slots, when there are several and they are consecutive.
        let span = |slots: &mut dyn DoubleEndedIterator<Item = u32>, len: usize| {
            let (first, last) = (slots.next()?, slots.next_back()?);
            (screened && (last.wrapping_sub(first) as usize) == len.wrapping_sub(1))
                .then(|| (first, last.saturating_add(1)))
        };
        for (index, &base) in self.atoms.iter().zip(&self.fired_base) {
            let Some(Value::Bytes(value)) = event.get(usize::from(index.field)) else {
                continue;
            };
            let (fired, fired_list, spans) = (
                &mut scratch.fired,
                &mut scratch.fired_list,
                &mut scratch.spans,
            );
            index.automaton.each_hit(value, |p| {
                let Some(seen) = fired.get_mut(base.saturating_add(p)) else {
                    return;
                };
                if *seen {
                    return;
                }
                *seen = true;
                fired_list.push(base.saturating_add(p));
                let members = index
                    .starts
                    .get(p)
                    .zip(index.starts.get(p.saturating_add(1)))
                    .and_then(|(&s, &e)| index.members.get(s..e))
                    .unwrap_or(&[]);
                match (members, span(&mut members.iter().copied(), members.len())) {
                    (_, Some(s)) => spans.push(s),
                    // Most atoms are one rule's: a push, not a call to copy one slot.
                    (&[one], None) => out.push(one),
                    (_, None) => out.extend_from_slice(members),
                }
            });
        }
        for t in &self.exacts {
            let Some(Value::Bytes(value)) = event.get(usize::from(t.field)) else {
                continue;
            };
            if t.lengths.binary_search(&value.len()).is_err() {
                continue;
            }
            let run = t.table.run(fold_hash(value));
            match span(&mut run.iter().copied(), run.len()) {
                Some(s) => scratch.spans.push(s),
                None => out.extend_from_slice(run),
            }
        }
        for t in &self.ints {
            let Some(Value::Unsigned(value)) = event.get(usize::from(t.field)) else {
                continue;
            };
            let value = *value;
            out.extend(t.table.get(value));
            // Per width class, the ranges starting within its widest width below the value.
            let ends = t.classes.iter().skip(1).map(|(_, at)| *at);
            for (&(class, from), to) in t.classes.iter().zip(ends.chain([t.ranges.len()])) {
                let class_ranges = t.ranges.get(from..to).unwrap_or(&[]);
                let lowest = value.saturating_sub(widest(class));
                let first = class_ranges.partition_point(|(min, _, _)| *min < lowest);
                let near = class_ranges.get(first..).unwrap_or(&[]);
                out.extend(
                    near.iter()
                        .take_while(|(min, _, _)| *min <= value)
                        .filter(|(_, max, _)| *max >= value)
                        .map(|(_, _, p)| *p),
                );
            }
        }
        for t in &self.flags {
            let Some(Value::Flags(value)) = event.get(usize::from(t.field)) else {
                continue;
            };
            let value = *value;
            let mut bits = value;
            while bits != 0 {
                let bit = bits.trailing_zeros();
                bits &= bits.wrapping_sub(1);
                let at = usize::try_from(bit).unwrap_or(0);
                out.extend(
                    t.all
                        .at(at)
                        .iter()
                        .filter(|(mask, _)| value & mask == *mask)
                        .map(|(_, p)| *p),
                );
                out.extend(
                    t.narrow_any
                        .at(at)
                        .iter()
                        .filter(|(mask, _)| (value & mask).trailing_zeros() == bit)
                        .map(|(_, p)| *p),
                );
            }
            out.extend(
                t.any
                    .iter()
                    .filter(|(mask, _)| value & mask != 0)
                    .map(|(_, p)| *p),
            );
        }
        if !self.second.is_empty() {
            let fired = &scratch.fired;
            out.retain(|&slot| {
                self.second
                    .get(slot as usize)
                    .is_none_or(|key| self.second_holds(key, event, fired))
            });
            for &(from, to) in &scratch.spans {
                self.screen_span(from, to, event, fired, out);
            }
            if !self.third.is_empty() {
                out.retain(|&slot| {
                    self.third
                        .get(slot as usize)
                        .is_none_or(|key| self.second_holds(key, event, fired))
                });
            }
        }
        for p in scratch.fired_list.drain(..) {
            if let Some(f) = scratch.fired.get_mut(p) {
                *f = false;
            }
        }
        if !self.position_of.is_empty() {
            for slot in out.iter_mut() {
                *slot = self
                    .position_of
                    .get(*slot as usize)
                    .copied()
                    .unwrap_or(*slot);
            }
        }
        order(out, self.len, &mut scratch.bitmap);
    }

    /// Appends to `out` the slots `from..to` (one key's) whose second key `event` satisfies,
    /// one test per screen.
    fn screen_span(
        &self,
        from: u32,
        to: u32,
        event: &[Value<'_>],
        fired: &[bool],
        out: &mut Vec<u32>,
    ) {
        // The span's screens are consecutive: found once, then walked.
        let Some(mut s) = self.screen_of.get(from as usize).map(|&s| s as usize) else {
            return;
        };
        let mut begin = match s.checked_sub(1) {
            Some(before) => self.screens.get(before).map_or(0, |b| b.end),
            None => 0,
        };
        let mut at = from;
        while at < to {
            let Some(screen) = self.screens.get(s) else {
                return;
            };
            let end = screen.end.min(to);
            if end <= at {
                return; // screens cover the slots in order: never, but never a loop either
            }
            match screen.test {
                ScreenTest::Ranges {
                    field,
                    widest,
                    at: first,
                } => {
                    if let Some(Value::Unsigned(v)) = event.get(usize::from(field)) {
                        let skip = at.saturating_sub(begin);
                        let from = first.saturating_add(skip) as usize;
                        let len = end.saturating_sub(at) as usize;
                        let run = self
                            .ranges
                            .get(from..from.saturating_add(len))
                            .unwrap_or(&[]);
                        let lowest = v.saturating_sub(widest);
                        let start = run.partition_point(|(min, _)| *min < lowest);
                        let near = run.get(start..).unwrap_or(&[]);
                        let slots =
                            at.saturating_add(u32::try_from(start).unwrap_or(u32::MAX))..end;
                        for (slot, (min, max)) in slots.zip(near) {
                            if min > v {
                                break;
                            }
                            if max >= v {
                                out.push(slot);
                            }
                        }
                    }
                }
                test => {
                    if self.passes(test, event, fired) {
                        out.extend(at..end);
                    }
                }
            }
            begin = screen.end;
            at = end;
            s = s.saturating_add(1);
        }
    }

    /// Whether `event` satisfies a screen's test of one key for every slot (not `Ranges`).
    fn passes(&self, test: ScreenTest, event: &[Value<'_>], fired: &[bool]) -> bool {
        match test {
            ScreenTest::Pass => true,
            ScreenTest::Key(key) => self.second_holds(&key, event, fired),
            ScreenTest::Ranges { .. } => false,
        }
    }

    /// Whether `event` satisfies a second key, once the atom tables have run: a second key
    /// that is an atom is then the flag its pattern raised.
    #[inline]
    fn second_holds(&self, key: &KeyRef, event: &[Value<'_>], fired: &[bool]) -> bool {
        match *key {
            KeyRef::Always => true,
            KeyRef::Atom { index, pattern } => self
                .fired_base
                .get(index)
                .and_then(|base| fired.get(base.saturating_add(pattern)))
                .is_some_and(|f| *f),
            key => self.holds(&key, event),
        }
    }

    /// Whether `event` satisfies the key of the instance at `position`, and its second key:
    /// whether [`Self::candidates`] would list it.
    pub(super) fn is_candidate(&self, position: usize, event: &[Value<'_>]) -> bool {
        self.keys
            .get(position)
            .is_some_and(|key| self.holds(key, event))
            && [&self.second, &self.third].iter().all(|more| {
                more.get(self.slot(position) as usize)
                    .is_none_or(|key| self.holds(key, event))
            })
    }

    /// Whether `event` satisfies `key`, checked without the tables.
    #[inline]
    fn holds(&self, key: &KeyRef, event: &[Value<'_>]) -> bool {
        let value = |field: &u16| event.get(usize::from(*field));
        match key {
            KeyRef::Atom { index, pattern } => {
                let Some(atoms) = self.atoms.get(*index) else {
                    return false;
                };
                let Some(Value::Bytes(value)) = value(&atoms.field) else {
                    return false;
                };
                let mut found = false;
                atoms.automaton.each_hit(value, |p| found |= p == *pattern);
                found
            }
            KeyRef::Exact { field, len, hash } => {
                matches!(value(field), Some(Value::Bytes(v)) if v.len() == *len && fold_hash(v) == *hash)
            }
            KeyRef::Ints { field, min, max } => {
                matches!(value(field), Some(Value::Unsigned(v)) if min <= v && v <= max)
            }
            KeyRef::FlagsAll { field, mask } => {
                matches!(value(field), Some(Value::Flags(v)) if v & mask == *mask)
            }
            KeyRef::FlagsAny { field, mask } => {
                matches!(value(field), Some(Value::Flags(v)) if v & mask != 0)
            }
            KeyRef::Always => true,
        }
    }
}

/// The width class of `min..=max` (see [`IntIndex`]): the bits of `max - min`.
fn width_class(min: u64, max: u64) -> u32 {
    u64::BITS.saturating_sub(max.saturating_sub(min).leading_zeros())
}

/// The widest width of class `class`: `2^class - 1`.
fn widest(class: u32) -> u64 {
    1u64.checked_shl(class)
        .map_or(u64::MAX, |p| p.wrapping_sub(1))
}

/// A hash of `bytes` with ASCII letters folded, eight bytes at a step: equal for any two byte
/// strings that are equal ASCII case-insensitively (so for an `exact` pattern and every value
/// it matches, folded or not).
pub(super) fn fold_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut hash = u64::try_from(bytes.len())
        .unwrap_or(u64::MAX)
        .wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = (hash ^ lowered_word(word)).wrapping_mul(K).rotate_left(29);
    }
    let mut last = [0u8; 8];
    for (slot, b) in last.iter_mut().zip(chunks.remainder()) {
        *slot = *b;
    }
    hash = (hash ^ lowered_word(last)).wrapping_mul(K);
    hash ^ (hash >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_hashes_agree_on_case_variants_and_differ_on_length() {
        assert_eq!(
            fold_hash(b"C:/Windows/System32"),
            fold_hash(b"c:/windows/system32")
        );
        assert_ne!(fold_hash(b"abc"), fold_hash(b"abc\0"));
        assert_ne!(fold_hash(b"cmd.exe"), fold_hash(b"cmd.exf"));
    }

    /// Every key finds exactly its instances, whatever the table's size: none, one, keys at both
    /// ends of `u64`, consecutive keys, one key many instances share.
    #[test]
    fn key_tables_find_exactly_the_instances_of_a_key() {
        for n in [0u32, 1, 2, 3, 100, 5000] {
            let mut pairs: Vec<(u64, u32)> = (0..n).map(|i| (u64::from(i / 3), i)).collect();
            pairs.extend([(0, n), (u64::MAX, n + 1), (u64::MAX - 1, n + 2)]);
            let table = KeyTable::new(&pairs);
            for key in (0..u64::from(n / 3 + 2)).chain([u64::MAX, u64::MAX - 1, u64::MAX - 2]) {
                let mut found: Vec<u32> = table.get(key).collect();
                found.sort_unstable();
                let expected: Vec<u32> = pairs
                    .iter()
                    .filter(|(k, _)| *k == key)
                    .map(|(_, at)| *at)
                    .collect();
                assert_eq!(found, expected, "{n} pairs, key {key}");
            }
        }
    }
}
