//! A channel file ready to replay: gated like any content, then compiled once for every profile
//! it targets — the same programs agents run (`chanval::Program`), not the reference scan.

use chanval::{ChannelFile, EvalError, Finding, Program, Schema, Scratch, Span, Validator, Value};

/// One instance of the file, as the report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceInfo {
    /// Position in the file, from 0.
    pub index: u32,
    /// The instance id.
    pub id: u32,
    /// Its template type.
    pub template_type: u16,
    /// Its record's bytes in the file.
    pub span: Span,
}

/// Why a file cannot be replayed.
#[derive(Debug)]
pub enum ContentError<'s> {
    /// Not a well-formed channel file.
    Malformed(chanval::Error),
    /// It does not pass the gate: no program is built from content the gate rejects, and the
    /// findings (judged by the policy given) say why.
    Rejected {
        /// What the gate found, as the policy judged it.
        findings: Vec<Finding<'s>>,
        /// The gate's verdict.
        verdict: chanval::Verdict,
    },
}

/// Validated content, compiled for each profile it targets.
#[derive(Debug)]
pub struct Content<'s> {
    schema: &'s Schema<'s>,
    /// The channel.
    pub channel_id: u32,
    /// The content version.
    pub content_version: u64,
    /// The profiles the file targets, as it names them.
    pub targets: Vec<String>,
    /// Indexed by the schema's profile index: the program for each targeted profile.
    programs: Vec<Option<Program<'s>>>,
    /// Every instance, in file order (which is id order: the gate requires it).
    pub instances: Vec<InstanceInfo>,
}

impl<'s> Content<'s> {
    /// Parses, gates and compiles `bytes` (a channel file, signed or not) against `schema`.
    ///
    /// # Errors
    /// [`ContentError`].
    pub fn compile(schema: &'s Schema<'s>, bytes: &[u8]) -> Result<Self, ContentError<'s>> {
        Self::compile_judged(schema, bytes, &chanval::Policy::new())
    }

    /// [`Content::compile`] under the team's `policy` (warnings it denies reject the content,
    /// as they would in `chanval validate`).
    ///
    /// # Errors
    /// [`ContentError`].
    pub fn compile_judged(
        schema: &'s Schema<'s>,
        bytes: &[u8],
        policy: &chanval::Policy,
    ) -> Result<Self, ContentError<'s>> {
        // What follows the trailer is judged as the agent judges it: nothing, or one
        // well-formed envelope.
        let (file, _): (ChannelFile<'_>, _) =
            chanval::trust::Envelope::parse_signed(bytes, &chanval::Limits::default())
                .map_err(ContentError::Malformed)?;
        let mut findings = Vec::new();
        // The gate's own programs, compiled once: the programs agents run.
        let judgement =
            chanval::gated::judge(&Validator::new(schema), &file, &[], policy, &mut findings);
        let Some(gated) = judgement.gated else {
            return Err(ContentError::Rejected {
                findings,
                verdict: judgement.verdict,
            });
        };
        let (validated, compiled) = gated.into_parts();
        let mut programs: Vec<Option<Program<'s>>> = schema.profiles.iter().map(|_| None).collect();
        for program in compiled {
            if let Some((index, _)) = schema.profile(program.profile().name)
                && validated.profiles().contains(index)
                && let Some(slot) = programs.get_mut(index)
            {
                *slot = Some(program);
            }
        }
        let instances = file
            .instances()
            .map(|i| InstanceInfo {
                index: i.index,
                id: i.id,
                template_type: i.template_type,
                span: i.span,
            })
            .collect();
        let header = file.header();
        Ok(Self {
            schema,
            channel_id: header.channel_id,
            content_version: header.content_version,
            targets: file.targets().iter().map(|(n, _)| n.to_string()).collect(),
            programs,
            instances,
        })
    }

    /// The schema the content was gated against.
    #[must_use]
    pub const fn schema(&self) -> &'s Schema<'s> {
        self.schema
    }

    /// The program for the profile at `profile_index` of the schema, if the file targets it.
    #[must_use]
    pub fn program(&self, profile_index: usize) -> Option<&Program<'s>> {
        self.programs.get(profile_index).and_then(Option::as_ref)
    }

    /// The position of instance `id` in [`Self::instances`].
    #[must_use]
    pub fn position(&self, id: u32) -> Option<usize> {
        self.instances.binary_search_by_key(&id, |i| i.id).ok()
    }

    /// Evaluates one event under the profile at `profile_index`: calls `on_match` with the
    /// position of each matching instance. `Ok(None)` when the file does not target the
    /// profile (its agents never load it).
    ///
    /// # Errors
    /// The program's [`EvalError`] (never for validated content and resolved events).
    pub fn evaluate(
        &self,
        scratch: &mut Scratch,
        profile_index: usize,
        template_type: u16,
        values: &[Value<'_>],
        mut on_match: impl FnMut(usize),
    ) -> Result<Option<usize>, EvalError> {
        let Some(program) = self.program(profile_index) else {
            return Ok(None);
        };
        program
            .evaluate(scratch, template_type, values, |id| {
                if let Some(p) = self.position(id) {
                    on_match(p);
                }
            })
            .map(Some)
    }
}
