//! Digests: SHA-256 of bytes, and the digest of one profile's contract — the part of a schema an
//! agent of that profile depends on — which the gate puts under the signature and the agent
//! recomputes from its own compiled-in schema.
//!
//! Why per profile and not of the whole schema: a fleet schema grows a profile with every new
//! agent release. A digest of the whole schema would make every agent built before that release
//! refuse all content gated after it, though nothing it depends on changed. The contract digest
//! changes exactly when something changes for that agent: its profile (inputs supplied per
//! template type, criteria it evaluates), the template types it supplies (every field and every
//! constraint), or the cost budget.

use sha2::{Digest as _, Sha256};

use crate::common::{CriterionKind, InputKind};
use crate::schema::{Profile, Schema};

/// A SHA-256 digest.
pub type Digest = [u8; 32];

/// The SHA-256 of `bytes`.
#[must_use]
pub fn sha256(bytes: &[u8]) -> Digest {
    Sha256::digest(bytes).into()
}

/// Feeds the canonical encoding of a contract into a hasher: every length before its bytes,
/// integers little-endian, so no two contracts encode alike.
struct Canonical(Sha256);

impl Canonical {
    fn bytes(&mut self, b: &[u8]) {
        self.0.update(b);
    }
    fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }
    fn u16(&mut self, v: u16) {
        self.bytes(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u64(u64::try_from(n).unwrap_or(u64::MAX));
    }
    fn text(&mut self, s: &str) {
        self.len(s.len());
        self.bytes(s.as_bytes());
    }
    fn kinds(&mut self, kinds: &[InputKind]) {
        self.len(kinds.len());
        for k in kinds {
            self.u8(input_code(*k));
        }
    }
    fn criteria(&mut self, set: crate::common::CriterionSet) {
        let mut bits = 0u64;
        for k in CriterionKind::ALL {
            if set.contains(k) {
                bits |= 1u64 << (k.code() & 63);
            }
        }
        self.u64(bits);
    }
}

const fn input_code(k: InputKind) -> u8 {
    match k {
        InputKind::Bytes => 0,
        InputKind::Unsigned => 1,
        InputKind::Flags => 2,
    }
}

/// The digest of `profile`'s contract in `schema` (docs/FORMAT.md §11.2): the budget, the
/// profile (name, criteria, and its supplies in template-type order) and, in the same order,
/// the full definition of every template type it supplies. Independent of the order in which
/// the schema lists types, profiles and supplies. Allocates nothing.
#[must_use]
pub fn contract_digest(schema: &Schema<'_>, profile: &Profile<'_>) -> Digest {
    let mut h = Canonical(Sha256::new());
    h.bytes(b"chanval-contract-v1\0");
    let b = schema.budget;
    for v in [
        b.instance_per_byte,
        b.instance_constant,
        b.event_per_byte,
        b.event_constant,
    ] {
        h.u64(v);
    }
    h.text(profile.name);
    h.criteria(profile.criteria);
    h.len(profile.supplies.len());
    // Supplies in increasing template-type order, found by selection (at most 256 of them),
    // so the digest does not depend on how the schema happens to list them.
    let mut after: Option<u16> = None;
    loop {
        let next = profile
            .supplies
            .iter()
            .filter(|s| after.is_none_or(|a| s.template_type > a))
            .min_by_key(|s| s.template_type);
        let Some(supply) = next else { break };
        after = Some(supply.template_type);
        h.u16(supply.template_type);
        h.kinds(supply.inputs);
        match schema.template_type(supply.template_type) {
            None => h.u8(0),
            Some((_, t)) => {
                h.u8(1);
                h.text(t.name);
                h.len(t.fields.len());
                for f in t.fields {
                    h.text(f.name);
                    h.u8(input_code(f.input));
                    h.criteria(f.allowed);
                    h.u16(f.max_pattern_len);
                    h.u64(u64::from(f.max_len));
                    h.u64(f.min);
                    h.u64(f.max);
                    h.u64(f.valid_flags);
                }
            }
        }
    }
    h.0.finalize().into()
}
