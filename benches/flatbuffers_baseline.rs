//! The FlatBuffers baseline: the same content as FlatBuffers tables, read through the
//! `flatbuffers` crate's verifier. `flatc` is not on the registries, so the accessors and
//! `Verifiable` impls below are written by hand the way `flatc --rust` writes them for:
//!
//! ```text
//! table Criterion { kind: ubyte; flags: ubyte; pattern: [ubyte]; a: ulong; b: ulong; }
//! table Instance  { id: uint; template_type: ushort; criteria: [Criterion]; }
//! table Content   { channel_id: uint; content_version: ulong; instances: [Instance]; }
//! ```

use chanval::Schema;
use chanval::{ChannelContent, CriterionModel, ProfileSet};

use crate::common::CriterionView;
use flatbuffers::{
    FlatBufferBuilder, Follow, ForwardsUOffset, InvalidFlatbuffer, Table, VOffsetT, Vector,
    Verifiable, Verifier, VerifierOptions, WIPOffset,
};

macro_rules! table {
    ($name:ident) => {
        #[derive(Clone, Copy)]
        pub struct $name<'a> {
            tab: Table<'a>,
        }
        impl<'a> Follow<'a> for $name<'a> {
            type Inner = $name<'a>;
            unsafe fn follow(buf: &'a [u8], loc: usize) -> Self::Inner {
                // SAFETY: as flatc's generated code: `loc` comes from a verified offset.
                Self {
                    tab: unsafe { Table::new(buf, loc) },
                }
            }
        }
    };
}

table!(FbCriterion);
table!(FbInstance);
table!(FbContent);

// SAFETY (all accessors): the buffer was verified by `flatbuffers::root_with_opts` before any
// accessor runs, which is the contract of flatc's generated accessors too.
impl<'a> FbCriterion<'a> {
    const KIND: VOffsetT = 4;
    const FLAGS: VOffsetT = 6;
    const PATTERN: VOffsetT = 8;
    const A: VOffsetT = 10;
    const B: VOffsetT = 12;
    fn kind(&self) -> u8 {
        unsafe { self.tab.get::<u8>(Self::KIND, Some(0)).unwrap_or(0) }
    }
    fn pattern(&self) -> Option<Vector<'a, u8>> {
        unsafe {
            self.tab
                .get::<ForwardsUOffset<Vector<'a, u8>>>(Self::PATTERN, None)
        }
    }
    fn a(&self) -> u64 {
        unsafe { self.tab.get::<u64>(Self::A, Some(0)).unwrap_or(0) }
    }
    fn b(&self) -> u64 {
        unsafe { self.tab.get::<u64>(Self::B, Some(0)).unwrap_or(0) }
    }
}
impl Verifiable for FbCriterion<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> Result<(), InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<u8>("kind", Self::KIND, false)?
            .visit_field::<u8>("flags", Self::FLAGS, false)?
            .visit_field::<ForwardsUOffset<Vector<'_, u8>>>("pattern", Self::PATTERN, false)?
            .visit_field::<u64>("a", Self::A, false)?
            .visit_field::<u64>("b", Self::B, false)?
            .finish();
        Ok(())
    }
}

impl<'a> FbInstance<'a> {
    const ID: VOffsetT = 4;
    const TEMPLATE_TYPE: VOffsetT = 6;
    const CRITERIA: VOffsetT = 8;
    fn id(&self) -> u32 {
        unsafe { self.tab.get::<u32>(Self::ID, Some(0)).unwrap_or(0) }
    }
    fn template_type(&self) -> u16 {
        unsafe {
            self.tab
                .get::<u16>(Self::TEMPLATE_TYPE, Some(0))
                .unwrap_or(0)
        }
    }
    fn criteria(&self) -> Option<Vector<'a, ForwardsUOffset<FbCriterion<'a>>>> {
        unsafe {
            self.tab
                .get::<ForwardsUOffset<Vector<'a, ForwardsUOffset<FbCriterion<'a>>>>>(
                    Self::CRITERIA,
                    None,
                )
        }
    }
}
impl Verifiable for FbInstance<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> Result<(), InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<u32>("id", Self::ID, false)?
            .visit_field::<u16>("template_type", Self::TEMPLATE_TYPE, false)?
            .visit_field::<ForwardsUOffset<Vector<'_, ForwardsUOffset<FbCriterion<'_>>>>>(
                "criteria",
                Self::CRITERIA,
                false,
            )?
            .finish();
        Ok(())
    }
}

impl<'a> FbContent<'a> {
    const CHANNEL_ID: VOffsetT = 4;
    const CONTENT_VERSION: VOffsetT = 6;
    const INSTANCES: VOffsetT = 8;
    fn instances(&self) -> Option<Vector<'a, ForwardsUOffset<FbInstance<'a>>>> {
        unsafe {
            self.tab
                .get::<ForwardsUOffset<Vector<'a, ForwardsUOffset<FbInstance<'a>>>>>(
                    Self::INSTANCES,
                    None,
                )
        }
    }
}
impl Verifiable for FbContent<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> Result<(), InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<u32>("channel_id", Self::CHANNEL_ID, false)?
            .visit_field::<u64>("content_version", Self::CONTENT_VERSION, false)?
            .visit_field::<ForwardsUOffset<Vector<'_, ForwardsUOffset<FbInstance<'_>>>>>(
                "instances",
                Self::INSTANCES,
                false,
            )?
            .finish();
        Ok(())
    }
}

/// The content as a FlatBuffer.
pub fn encode(c: &ChannelContent) -> Vec<u8> {
    let mut b = FlatBufferBuilder::with_capacity(1 << 20);
    let mut instances = Vec::with_capacity(c.instances.len());
    for inst in &c.instances {
        let mut criteria = Vec::with_capacity(inst.criteria.len());
        for crit in &inst.criteria {
            let (kind, flags, pattern, a, bb): (u8, u8, Option<&[u8]>, u64, u64) = match crit {
                CriterionModel::Wildcard => (0, 0, None, 0, 0),
                CriterionModel::Exact { pattern, fold } => {
                    (1, u8::from(*fold), Some(pattern), 0, 0)
                }
                CriterionModel::Glob { pattern, fold } => (2, u8::from(*fold), Some(pattern), 0, 0),
                CriterionModel::IntEq { value } => (3, 0, None, *value, 0),
                CriterionModel::IntRange { min, max } => (4, 0, None, *min, *max),
                CriterionModel::FlagsAll { mask } => (5, 0, None, *mask, 0),
                CriterionModel::FlagsAny { mask } => (6, 0, None, *mask, 0),
            };
            let pattern = pattern.map(|p| b.create_vector(p));
            let t = b.start_table();
            b.push_slot::<u8>(FbCriterion::KIND, kind, 0);
            b.push_slot::<u8>(FbCriterion::FLAGS, flags, 0);
            if let Some(p) = pattern {
                b.push_slot_always(FbCriterion::PATTERN, p);
            }
            b.push_slot::<u64>(FbCriterion::A, a, 0);
            b.push_slot::<u64>(FbCriterion::B, bb, 0);
            criteria.push(WIPOffset::<FbCriterion<'_>>::new(b.end_table(t).value()));
        }
        let criteria = b.create_vector(&criteria);
        let t = b.start_table();
        b.push_slot::<u32>(FbInstance::ID, inst.id, 0);
        b.push_slot::<u16>(FbInstance::TEMPLATE_TYPE, inst.template_type, 0);
        b.push_slot_always(FbInstance::CRITERIA, criteria);
        instances.push(WIPOffset::<FbInstance<'_>>::new(b.end_table(t).value()));
    }
    let instances = b.create_vector(&instances);
    let t = b.start_table();
    b.push_slot::<u32>(FbContent::CHANNEL_ID, c.channel_id, 0);
    b.push_slot::<u64>(FbContent::CONTENT_VERSION, c.content_version, 0);
    b.push_slot_always(FbContent::INSTANCES, instances);
    let root = b.end_table(t);
    b.finish_minimal(root);
    b.finished_data().to_vec()
}

fn options() -> VerifierOptions {
    // Defaults allow 1,000,000 tables; 1 MiB of this content has about 83,000.
    VerifierOptions {
        max_tables: 100_000_000,
        max_apparent_size: 1 << 40,
        ..VerifierOptions::default()
    }
}

/// The verifier alone.
pub fn verify(bytes: &[u8]) -> bool {
    flatbuffers::root_with_opts::<FbContent<'_>>(&options(), bytes).is_ok()
}

/// The verifier, then the same schema and contract checks as the other baselines.
pub fn verify_and_check(bytes: &[u8], schema: &Schema<'_>, profiles: ProfileSet) -> usize {
    let Ok(content) = flatbuffers::root_with_opts::<FbContent<'_>>(&options(), bytes) else {
        return 1;
    };
    let instances = content.instances().into_iter().flatten().map(|inst| {
        let criteria = inst.criteria();
        let views = criteria.into_iter().flatten().map(|c| CriterionView {
            kind: c.kind(),
            pattern_len: c.pattern().map_or(0, |p| p.len()),
            a: c.a(),
            b: c.b(),
        });
        (
            inst.id(),
            inst.template_type(),
            criteria.map_or(0, |c| c.len()),
            views,
        )
    });
    crate::common::check_instances(schema, profiles, instances)
}
