//! Events as Arrow record batches (feature `parquet`): the form telemetry lakes keep them in,
//! and what DataFusion hands a scalar function. One column per input field, named as the
//! schema names the field, plus `template_type` (a name, or an id as an integer) — or, for a
//! file of one template type, no such column and the type given by the caller (replay takes it
//! from the Parquet file's `template_type` metadata or the file's name). Optional columns
//! `profile` and `host`; any other column that is not a field of any template type is ignored.
//!
//! A row means exactly what the JSON line with the same values means: both are resolved by
//! `chanval::event::resolve_into`, here straight from the column buffers, without copying a
//! value. Text columns (`Utf8`, `LargeUtf8`, `Utf8View`, dictionaries of them) are text, binary
//! columns are bytes, integer columns are numbers (a negative one is an error for its row), and
//! a null is an input not given.

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, UInt32Builder};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, ListArray, RecordBatch};
use arrow_schema::DataType;
use chanval::event::{EventError, InputRef, resolve_into, template_type_named};
use chanval::{Schema, Scratch, TemplateType, Value};
use chanval_events::LineError;

use crate::content::Content;
pub use crate::tally::EventTime;

/// The columns with a meaning of their own; every other column names a field.
pub const TEMPLATE_TYPE: &str = "template_type";
/// The profile column.
pub const PROFILE: &str = "profile";
/// The host column.
pub const HOST: &str = "host";
/// The time column (kept by lakes; replay does not need it).
pub const TIME: &str = "time";

/// A column of text (or bytes) values.
enum Texts<'b> {
    Utf8(&'b arrow_array::StringArray),
    LargeUtf8(&'b arrow_array::LargeStringArray),
    Utf8View(&'b arrow_array::StringViewArray),
    Binary(&'b arrow_array::BinaryArray),
    LargeBinary(&'b arrow_array::LargeBinaryArray),
    BinaryView(&'b arrow_array::BinaryViewArray),
    /// Dictionary-encoded: the keys resolved to value positions once per batch.
    Dict {
        array: &'b dyn Array,
        keys: Vec<usize>,
        values: Box<Texts<'b>>,
    },
}

impl<'b> Texts<'b> {
    fn of(array: &'b dyn Array) -> Option<Self> {
        Some(match array.data_type() {
            DataType::Utf8 => Self::Utf8(array.as_string_opt::<i32>()?),
            DataType::LargeUtf8 => Self::LargeUtf8(array.as_string_opt::<i64>()?),
            DataType::Utf8View => Self::Utf8View(array.as_string_view_opt()?),
            DataType::Binary => Self::Binary(array.as_binary_opt::<i32>()?),
            DataType::LargeBinary => Self::LargeBinary(array.as_binary_opt::<i64>()?),
            DataType::BinaryView => Self::BinaryView(array.as_binary_view_opt()?),
            DataType::Dictionary(_, _) => {
                let dict = array.as_any_dictionary_opt()?;
                Self::Dict {
                    array,
                    keys: dict.normalized_keys(),
                    values: Box::new(Self::of(dict.values().as_ref())?),
                }
            }
            _ => return None,
        })
    }

    fn is_text(&self) -> bool {
        match self {
            Self::Utf8(_) | Self::LargeUtf8(_) | Self::Utf8View(_) => true,
            Self::Binary(_) | Self::LargeBinary(_) | Self::BinaryView(_) => false,
            Self::Dict { values, .. } => values.is_text(),
        }
    }

    /// The value at `row` (`None` when null), as the reader holds it.
    fn get(&self, row: usize) -> Option<InputRef<'b>> {
        fn at<'x, A: Array, T>(
            a: &'x A,
            row: usize,
            f: impl FnOnce(&'x A, usize) -> T,
        ) -> Option<T> {
            (row < a.len() && !a.is_null(row)).then(|| f(a, row))
        }
        match self {
            Self::Utf8(a) => at(*a, row, |a, i| InputRef::Text(a.value(i))),
            Self::LargeUtf8(a) => at(*a, row, |a, i| InputRef::Text(a.value(i))),
            Self::Utf8View(a) => at(*a, row, |a, i| InputRef::Text(a.value(i))),
            Self::Binary(a) => at(*a, row, |a, i| InputRef::Bytes(a.value(i))),
            Self::LargeBinary(a) => at(*a, row, |a, i| InputRef::Bytes(a.value(i))),
            Self::BinaryView(a) => at(*a, row, |a, i| InputRef::Bytes(a.value(i))),
            Self::Dict {
                array,
                keys,
                values,
            } => {
                if row >= array.len() || array.is_null(row) {
                    return None;
                }
                values.get(*keys.get(row)?)
            }
        }
    }

    fn text(&self, row: usize) -> Option<&'b str> {
        match self.get(row)? {
            InputRef::Text(s) => Some(s),
            InputRef::Bytes(b) => std::str::from_utf8(b).ok(),
            InputRef::Number(_) => None,
        }
    }
}

/// A column of integers.
enum Numbers<'b> {
    U8(&'b arrow_array::UInt8Array),
    U16(&'b arrow_array::UInt16Array),
    U32(&'b arrow_array::UInt32Array),
    U64(&'b arrow_array::UInt64Array),
    I8(&'b arrow_array::Int8Array),
    I16(&'b arrow_array::Int16Array),
    I32(&'b arrow_array::Int32Array),
    I64(&'b arrow_array::Int64Array),
}

impl<'b> Numbers<'b> {
    fn of(array: &'b dyn Array) -> Option<Self> {
        Some(match array.data_type() {
            DataType::UInt8 => Self::U8(array.as_primitive_opt::<UInt8Type>()?),
            DataType::UInt16 => Self::U16(array.as_primitive_opt::<UInt16Type>()?),
            DataType::UInt32 => Self::U32(array.as_primitive_opt::<UInt32Type>()?),
            DataType::UInt64 => Self::U64(array.as_primitive_opt::<UInt64Type>()?),
            DataType::Int8 => Self::I8(array.as_primitive_opt::<Int8Type>()?),
            DataType::Int16 => Self::I16(array.as_primitive_opt::<Int16Type>()?),
            DataType::Int32 => Self::I32(array.as_primitive_opt::<Int32Type>()?),
            DataType::Int64 => Self::I64(array.as_primitive_opt::<Int64Type>()?),
            _ => return None,
        })
    }

    /// The value at `row`: `None` when null, `Some(Err(()))` when negative.
    fn get(&self, row: usize) -> Option<Result<u64, ()>> {
        macro_rules! value {
            ($a:expr) => {{
                let a = $a;
                if row >= a.len() || a.is_null(row) {
                    return None;
                }
                u64::try_from(a.value(row)).map_err(|_| ())
            }};
        }
        Some(match self {
            Self::U8(a) => value!(a),
            Self::U16(a) => value!(a),
            Self::U32(a) => value!(a),
            Self::U64(a) => value!(a),
            Self::I8(a) => value!(a),
            Self::I16(a) => value!(a),
            Self::I32(a) => value!(a),
            Self::I64(a) => value!(a),
        })
    }
}

enum Column<'b> {
    Texts(Texts<'b>),
    Numbers(Numbers<'b>),
    /// A type that carries no field's value: any non-null value is an error for its row.
    Unusable(&'b dyn Array),
}

impl<'b> Column<'b> {
    fn of(array: &'b dyn Array) -> Self {
        Texts::of(array).map_or_else(
            || Numbers::of(array).map_or(Self::Unusable(array), Self::Numbers),
            Self::Texts,
        )
    }
}

/// The `time` column: seconds, RFC 3339 text, or an Arrow timestamp.
enum Times<'b> {
    Column(Column<'b>),
    /// A timestamp and how many of its units make a second.
    Stamp(&'b dyn Array, i64),
}

impl<'b> Times<'b> {
    fn of(array: &'b dyn Array) -> Self {
        use arrow_schema::TimeUnit;
        match array.data_type() {
            DataType::Timestamp(unit, _) => Self::Stamp(
                array,
                match unit {
                    TimeUnit::Second => 1,
                    TimeUnit::Millisecond => 1_000,
                    TimeUnit::Microsecond => 1_000_000,
                    TimeUnit::Nanosecond => 1_000_000_000,
                },
            ),
            _ => Self::Column(Column::of(array)),
        }
    }

    /// The row's time, as given.
    fn get(&self, row: usize) -> EventTime<'b> {
        self.seconds(row).unwrap_or(EventTime::None)
    }

    fn seconds(&self, row: usize) -> Option<EventTime<'b>> {
        match self {
            Self::Column(Column::Texts(t)) => t.text(row).map(EventTime::Text),
            Self::Column(Column::Numbers(n)) => n.get(row)?.ok().map(EventTime::Seconds),
            Self::Column(Column::Unusable(_)) => None,
            Self::Stamp(array, per_second) => {
                if row >= array.len() || array.is_null(row) {
                    return None;
                }
                use arrow_array::types::{
                    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
                    TimestampSecondType,
                };
                let value = array
                    .as_primitive_opt::<TimestampSecondType>()
                    .map(|a| a.value(row))
                    .or_else(|| {
                        array
                            .as_primitive_opt::<TimestampMillisecondType>()
                            .map(|a| a.value(row))
                    })
                    .or_else(|| {
                        array
                            .as_primitive_opt::<TimestampMicrosecondType>()
                            .map(|a| a.value(row))
                    })
                    .or_else(|| {
                        array
                            .as_primitive_opt::<TimestampNanosecondType>()
                            .map(|a| a.value(row))
                    })?;
                u64::try_from(value.checked_div(*per_second)?)
                    .ok()
                    .map(EventTime::Seconds)
            }
        }
    }
}

/// How the template type of a row is known.
enum TypeSource<'b> {
    Column(Column<'b>),
    Fixed(u16),
}

/// The columns of one record batch, ready to resolve rows from.
pub struct BatchColumns<'b, 's> {
    schema: &'s Schema<'s>,
    template_type: TypeSource<'b>,
    profile: Option<Texts<'b>>,
    host: Option<Texts<'b>>,
    time: Option<Times<'b>>,
    /// The field columns: name and values.
    fields: Vec<(&'b str, Column<'b>)>,
    /// Columns that name no field of any template type (ignored).
    pub ignored: Vec<&'b str>,
}

/// A resolved row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowEvent<'b> {
    /// The profile's index in the schema.
    pub profile_index: usize,
    /// The template type id.
    pub template_type: u16,
    /// The host, when the row names one.
    pub host: Option<&'b str>,
    /// When it happened, as the row gives it (read only when an alert needs its hour).
    pub time: EventTime<'b>,
}

/// Why a batch cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchError(pub String);

impl<'b, 's> BatchColumns<'b, 's> {
    /// The columns of `batch`; `fixed_type` is the template type of every row when the batch
    /// has no `template_type` column.
    ///
    /// # Errors
    /// When the batch has no `template_type` column and no `fixed_type` was given.
    pub fn new(
        schema: &'s Schema<'s>,
        batch: &'b RecordBatch,
        fixed_type: Option<u16>,
    ) -> Result<Self, BatchError> {
        let arrow_schema = batch.schema_ref();
        let mut template_type = None;
        let (mut profile, mut host, mut time) = (None, None, None);
        let mut fields = Vec::new();
        let mut ignored = Vec::new();
        for (field, array) in arrow_schema.fields().iter().zip(batch.columns()) {
            let name = field.name().as_str();
            let array: &'b dyn Array = array.as_ref();
            match name {
                TEMPLATE_TYPE => template_type = Some(TypeSource::Column(Column::of(array))),
                PROFILE => profile = Texts::of(array),
                HOST => host = Texts::of(array),
                TIME => time = Some(Times::of(array)),
                _ if schema
                    .template_types
                    .iter()
                    .any(|t| t.fields.iter().any(|f| f.name == name)) =>
                {
                    fields.push((name, Column::of(array)));
                }
                _ => ignored.push(name),
            }
        }
        // In name order, as a JSON line's inputs are read: the first problem of a row is the
        // same one in both forms.
        fields.sort_by_key(|(name, _)| *name);
        let template_type = template_type
            .or(fixed_type.map(TypeSource::Fixed))
            .ok_or_else(|| {
                BatchError(format!(
                    "no `{TEMPLATE_TYPE}` column, and the file does not say which template type its rows are \
                     (its `{TEMPLATE_TYPE}` metadata or its name)"
                ))
            })?;
        Ok(Self {
            schema,
            template_type,
            profile,
            host,
            time,
            fields,
            ignored,
        })
    }

    fn template_type(&self, row: usize) -> Result<&'s TemplateType<'s>, LineError> {
        let missing = || LineError::Malformed("the row has no template type".to_string());
        let schema = self.schema;
        match &self.template_type {
            TypeSource::Fixed(id) => schema
                .template_type(*id)
                .map(|(_, t)| t)
                .ok_or_else(|| LineError::Resolve(EventError::UnknownTemplateType(id.to_string()))),
            TypeSource::Column(Column::Texts(t)) => {
                let name = t.text(row).ok_or_else(missing)?;
                template_type_named(schema, name).ok_or_else(|| {
                    LineError::Resolve(EventError::UnknownTemplateType(name.to_string()))
                })
            }
            TypeSource::Column(Column::Numbers(n)) => {
                let id = n.get(row).ok_or_else(missing)?.unwrap_or(u64::MAX);
                u16::try_from(id)
                    .ok()
                    .and_then(|id| schema.template_type(id))
                    .map(|(_, t)| t)
                    .ok_or_else(|| {
                        LineError::Resolve(EventError::UnknownTemplateType(id.to_string()))
                    })
            }
            TypeSource::Column(Column::Unusable(_)) => Err(LineError::Malformed(format!(
                "the `{TEMPLATE_TYPE}` column is neither text nor an integer"
            ))),
        }
    }

    /// Resolves row `row` for its profile (else `default_profile`) into `values`.
    ///
    /// # Errors
    /// The same [`LineError`] the JSON line with these values gets.
    pub fn resolve(
        &self,
        row: usize,
        default_profile: Option<usize>,
        values: &mut Vec<Value<'b>>,
    ) -> Result<RowEvent<'b>, LineError> {
        // Values no field can take first, as the JSON decoder rejects them before anything
        // else is looked at.
        for (name, column) in &self.fields {
            let bad = match column {
                Column::Numbers(n) => matches!(n.get(row), Some(Err(())))
                    .then(|| "numbers are unsigned integers of at most 64 bits".to_string()),
                Column::Unusable(a) => (row < a.len() && !a.is_null(row)).then(|| {
                    format!(
                        "a column of type {} carries no input (text, bytes or an unsigned integer)",
                        a.data_type()
                    )
                }),
                Column::Texts(_) => None,
            };
            if let Some(message) = bad {
                return Err(LineError::BadInput {
                    field: (*name).to_string(),
                    message,
                });
            }
        }
        let profile_index =
            match self.profile.as_ref().and_then(|p| p.text(row)) {
                Some(name) => self.schema.profile(name).map(|(i, _)| i).ok_or_else(|| {
                    LineError::Resolve(EventError::UnknownProfile(name.to_string()))
                })?,
                None => default_profile.ok_or(LineError::NoProfile)?,
            };
        let profile = self
            .schema
            .profiles
            .get(profile_index)
            .ok_or(LineError::NoProfile)?;
        let t = self.template_type(row)?;
        let inputs = self.fields.iter().filter_map(|(name, column)| {
            let value = match column {
                Column::Texts(t) => t.get(row),
                Column::Numbers(n) => n.get(row).and_then(Result::ok).map(InputRef::Number),
                Column::Unusable(_) => None,
            };
            value.map(|v| (*name, v))
        });
        resolve_into(profile, t, inputs, values).map_err(LineError::Resolve)?;
        Ok(RowEvent {
            profile_index,
            template_type: t.id,
            host: self.host.as_ref().and_then(|h| h.text(row)),
            time: self.time.as_ref().map_or(EventTime::None, |t| t.get(row)),
        })
    }

    /// Whether the text columns hold text (not bytes): for messages.
    #[must_use]
    pub fn has_text_template_type(&self) -> bool {
        matches!(&self.template_type, TypeSource::Column(Column::Texts(t)) if t.is_text())
    }
}

/// Matches every row of `batch` against `content`: for each row, the ids of the instances that
/// match it, in file order — an empty list when none does or the file does not target the row's
/// profile, null when the row is not an event (the second value says why, by row). What a
/// DataFusion function (and any engine over Arrow) calls; counts over its output add across
/// batches, files and shards.
///
/// # Errors
/// When the batch cannot be read at all ([`BatchError`]).
pub fn match_batch(
    content: &Content<'_>,
    batch: &RecordBatch,
    fixed_type: Option<u16>,
    default_profile: Option<usize>,
    scratch: &mut Scratch,
) -> Result<(ListArray, Vec<(usize, LineError)>), BatchError> {
    let columns = BatchColumns::new(content.schema(), batch, fixed_type)?;
    let mut out = ListBuilder::with_capacity(UInt32Builder::new(), batch.num_rows());
    let mut problems = Vec::new();
    let mut values = Vec::new();
    for row in 0..batch.num_rows() {
        match columns.resolve(row, default_profile, &mut values) {
            Ok(event) => {
                let evaluated = content.evaluate(
                    scratch,
                    event.profile_index,
                    event.template_type,
                    &values,
                    |position| {
                        if let Some(i) = content.instances.get(position) {
                            out.values().append_value(i.id);
                        }
                    },
                );
                if let Err(e) = evaluated {
                    problems.push((row, LineError::Malformed(format!("evaluation failed: {e}"))));
                }
                out.append(true);
            }
            Err(e) => {
                problems.push((row, e));
                out.append(false);
            }
        }
    }
    Ok((out.finish(), problems))
}

/// A record batch of `columns`, for callers (DataFusion) that hold arrays and their names.
///
/// # Errors
/// When the arrays differ in length.
pub fn batch_of(columns: Vec<(String, ArrayRef)>) -> Result<RecordBatch, BatchError> {
    let fields: Vec<arrow_schema::Field> = columns
        .iter()
        .map(|(name, a)| arrow_schema::Field::new(name, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(arrow_schema::Schema::new(fields)),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .map_err(|e| BatchError(e.to_string()))
}
