//! `chanval_match` as an Apache DataFusion scalar function (feature `datafusion`): replay where
//! the telemetry is. Registered in a session with one content file, it takes the event's
//! columns — named as [`crate::arrow`] names them: `template_type`, `profile`, `host` and the
//! schema's field names, in any order — and returns, per row, the ids of the instances that
//! match (`List<UInt32>`; empty when none does or the file does not target the row's profile,
//! null when the row is not an event):
//!
//! ```sql
//! SELECT id, count(*) AS matches, count(DISTINCT host) AS hosts
//! FROM (SELECT host, unnest(chanval_match(template_type, profile, key, value_name, data_type))
//!       AS id FROM events)
//! GROUP BY id ORDER BY id
//! ```
//!
//! The function is a pure per-row map, so DataFusion runs it on every partition in parallel
//! and a distributed deployment (Ballista) runs the same plan on every shard: `count(*)` per
//! id adds across partitions and shards, and the result equals `chanval replay` on the same
//! events (tested).

use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow_schema::{DataType, Field};
use chanval::{Schema, Scratch};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::arrow::{batch_of, match_batch};
use crate::content::{Content, ContentError};

/// The function's name in SQL.
pub const NAME: &str = "chanval_match";

thread_local! {
    /// Matching memory, one per worker thread: reused across batches.
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch::new()) };
}

/// The function: one content file, compiled for each profile it targets.
#[derive(Debug)]
pub struct ChanvalMatch {
    name: String,
    content: Arc<Content<'static>>,
    fixed_type: Option<u16>,
    default_profile: Option<usize>,
    signature: Signature,
}

impl PartialEq for ChanvalMatch {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && Arc::ptr_eq(&self.content, &other.content)
            && self.fixed_type == other.fixed_type
            && self.default_profile == other.default_profile
    }
}

impl Eq for ChanvalMatch {}

impl Hash for ChanvalMatch {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.content.channel_id.hash(state);
        self.content.content_version.hash(state);
    }
}

impl ChanvalMatch {
    /// The function for `content` (gated against `schema` and compiled here).
    ///
    /// # Errors
    /// [`ContentError`] when the content does not parse or does not pass the gate.
    pub fn new(
        schema: &'static Schema<'static>,
        content: &[u8],
    ) -> Result<Self, ContentError<'static>> {
        Ok(Self {
            name: NAME.to_string(),
            content: Arc::new(Content::compile(schema, content)?),
            fixed_type: None,
            default_profile: None,
            signature: Signature::variadic_any(Volatility::Immutable),
        })
    }

    /// Under another name (two content files in one session: `match_new`, `match_old`).
    #[must_use]
    pub fn named(self, name: &str) -> Self {
        Self {
            name: name.to_string(),
            ..self
        }
    }

    /// Rows without a `template_type` argument are of this template type.
    #[must_use]
    pub fn with_template_type(self, id: u16) -> Self {
        Self {
            fixed_type: Some(id),
            ..self
        }
    }

    /// Rows without a `profile` argument (or with a null one) are of this profile (its index
    /// in the schema).
    #[must_use]
    pub fn with_default_profile(self, index: usize) -> Self {
        Self {
            default_profile: Some(index),
            ..self
        }
    }

    /// As a DataFusion function, to register with `SessionContext::register_udf`.
    #[must_use]
    pub fn into_udf(self) -> ScalarUDF {
        ScalarUDF::new_from_impl(self)
    }
}

fn ids_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::UInt32, true)))
}

impl ScalarUDFImpl for ChanvalMatch {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(ids_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let columns = args
            .arg_fields
            .iter()
            .zip(args.args)
            .map(|(field, value)| Ok((field.name().clone(), value.into_array(rows)?)))
            .collect::<Result<Vec<_>>>()?;
        let batch = batch_of(columns).map_err(|e| DataFusionError::Execution(e.0))?;
        let (ids, _problems) = SCRATCH
            .with(|s| {
                let mut scratch = s.borrow_mut();
                match_batch(
                    &self.content,
                    &batch,
                    self.fixed_type,
                    self.default_profile,
                    &mut scratch,
                )
            })
            .map_err(|e| DataFusionError::Execution(format!("{}: {}", self.name, e.0)))?;
        Ok(ColumnarValue::Array(Arc::new(ids)))
    }
}
