//! The replay itself: one reader thread turns the inputs into bounded chunks (lines of JSON
//! Lines, record batches of Parquet), worker threads resolve and evaluate them through every
//! content file's compiled programs, each with its own tallies, and the tallies merge at the
//! end. Memory is bounded by the chunk sizes and the queue between reader and workers, not by
//! the inputs.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Instant;

use chanval::event::{EventValue, template_type_named};
use chanval::{Schema, Scratch, Value};
use chanval_events::{LineError, RawLines, parse_line};

use crate::content::Content;
use crate::distinct::host_hash;
use crate::tally::{At, Tally};

/// Problems kept with their position (all are counted).
pub const MAX_PROBLEMS: usize = 100;
/// A chunk of lines ends at this many lines…
const CHUNK_LINES: usize = 2048;
/// …or this many bytes, so that long lines cannot make chunks large.
const CHUNK_BYTES: usize = 4 << 20;
/// Rows per Parquet record batch, at most…
#[cfg(feature = "parquet")]
const BATCH_ROWS: usize = 8192;
/// …and fewer when the row group's rows are large: a batch aims at this many decompressed bytes.
#[cfg(feature = "parquet")]
const BATCH_BYTES: u64 = 8 << 20;

/// The bounds on what replay reads from one Parquet row group (docs/REPLAY.md, "Memory").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// A page that declares more decompressed bytes is refused (a compression bomb).
    pub max_page_bytes: u64,
    /// A row group whose pages, in the columns replay reads, declare more decompressed bytes in
    /// all is refused (`chanval replay --max-row-group-mib`).
    pub max_row_group_bytes: u64,
    /// Decoded record batches waiting for, or in, the workers: the reader waits while more
    /// than this many bytes are (one batch always goes through).
    pub max_in_flight_bytes: u64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_page_bytes: 32 << 20,
            max_row_group_bytes: 128 << 20,
            max_in_flight_bytes: 64 << 20,
        }
    }
}
/// Events kept per profile and template type to time each instance on after the replay: the
/// timing costs instances × this, whatever the number of events.
const SAMPLES: usize = 32;

/// An input of events.
pub enum Input {
    /// JSON Lines (docs/EVENTS.md), from a file or standard input.
    JsonLines {
        /// How reports name it.
        name: String,
        /// The stream.
        reader: Box<dyn BufRead + Send>,
    },
    /// A Parquet file (see [`crate::arrow`] for its columns).
    #[cfg(feature = "parquet")]
    Parquet {
        /// How reports name it.
        name: String,
        /// The file.
        file: std::fs::File,
    },
}

impl Input {
    /// How reports name the input.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Self::JsonLines { name, .. } => name,
            #[cfg(feature = "parquet")]
            Self::Parquet { name, .. } => name,
        }
    }
}

/// How to replay. The default: one worker, no default profile, not strict, no timing, the
/// default read limits, no deduplication.
#[derive(Debug, Clone)]
pub struct Options {
    /// The profile of events that name none (its index in the schema).
    pub default_profile: Option<usize>,
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// Stop at the first event that cannot be read.
    pub strict: bool,
    /// Time each instance after the replay (on sampled events), for the slowest-instances
    /// report. It costs about instances × 32 evaluations of one instance, whatever the events.
    pub time_instances: bool,
    /// What one Parquet row group may take.
    pub limits: ReadLimits,
    /// Count alerts once per host, instance and window of this many seconds as well
    /// ([`Tally::deduplicated`]).
    pub dedup_window: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            default_profile: None,
            jobs: 1,
            strict: false,
            time_instances: false,
            limits: ReadLimits::default(),
            dedup_window: None,
        }
    }
}

/// An event that could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub at: At,
    /// Why (the same words for a JSON line and a Parquet row).
    pub message: String,
}

/// Why a replay stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayError {
    /// `strict` and an event could not be read.
    Strict(Problem),
}

/// What a replay counted.
#[derive(Debug, Clone, Default)]
pub struct Replayed {
    /// The inputs' names, by index.
    pub inputs: Vec<String>,
    /// Lines and rows read (events and not).
    pub read: u64,
    /// Of those, not events.
    pub unreadable: u64,
    /// The first problems, in input order.
    pub problems: Vec<Problem>,
    /// One tally per content file, in the order given.
    pub tallies: Vec<Tally>,
    /// Per content file and instance: mean nanoseconds one sampled event of its template
    /// type costs it (`None`: no sample of its type).
    pub mean_ns: Vec<Vec<Option<f64>>>,
    /// Parquet columns that name no field, by input.
    pub ignored_columns: Vec<(usize, String)>,
}

enum Chunk {
    Lines {
        input: usize,
        lines: Vec<(u64, Result<String, LineError>)>,
    },
    #[cfg(feature = "parquet")]
    Batch {
        input: usize,
        row_group: usize,
        first_row: u64,
        fixed_type: Option<u16>,
        batch: arrow_array::RecordBatch,
        /// Its decoded size, counted in flight until a worker is done with it.
        bytes: u64,
    },
    /// An input that could not be read at all.
    Failed { at: At, message: String },
}

/// A resolved event's profile, template type and host.
#[derive(Clone, Copy)]
struct Resolved<'h> {
    profile_index: usize,
    template_type: u16,
    host: Option<&'h str>,
    time: crate::tally::EventTime<'h>,
}

#[derive(Default)]
struct Worker {
    tallies: Vec<Tally>,
    read: u64,
    unreadable: u64,
    problems: Vec<Problem>,
    /// Events kept for timing, by (profile index, template type).
    samples: HashMap<(usize, u16), Vec<Vec<EventValue>>>,
    ignored: Vec<(usize, String)>,
}

struct Shared<'r, 'c, 's> {
    contents: &'r [&'r Content<'s>],
    schema: &'s Schema<'s>,
    options: &'r Options,
    stop: AtomicBool,
    progress: &'r AtomicU64,
    strict_problem: Mutex<Option<Problem>>,
    /// Columns the reader did not read because they name no field, by input.
    ignored: Mutex<Vec<(usize, String)>>,
    /// Bytes of decoded batches the reader has sent and no worker has finished.
    in_flight: (Mutex<u64>, std::sync::Condvar),
    _c: std::marker::PhantomData<&'c ()>,
}

impl Shared<'_, '_, '_> {
    /// Waits until `bytes` more may be in flight (always, when none are), then counts them.
    #[cfg(feature = "parquet")]
    fn admit(&self, bytes: u64) {
        let (lock, freed) = &self.in_flight;
        let Ok(mut now) = lock.lock() else { return };
        while *now > 0
            && now.saturating_add(bytes) > self.options.limits.max_in_flight_bytes
            && !self.stop.load(Ordering::Relaxed)
        {
            match freed.wait(now) {
                Ok(n) => now = n,
                Err(_) => return,
            }
        }
        *now = now.saturating_add(bytes);
    }

    /// A worker is done with a chunk of `bytes` in flight.
    fn release(&self, bytes: u64) {
        if bytes == 0 {
            return;
        }
        let (lock, freed) = &self.in_flight;
        if let Ok(mut now) = lock.lock() {
            *now = now.saturating_sub(bytes);
            freed.notify_all();
        }
    }
}

impl Chunk {
    /// The bytes it counts in flight (decoded batches only).
    fn in_flight(&self) -> u64 {
        match self {
            #[cfg(feature = "parquet")]
            Self::Batch { bytes, .. } => *bytes,
            _ => 0,
        }
    }
}

impl Worker {
    fn problem(&mut self, shared: &Shared<'_, '_, '_>, at: At, message: String) {
        self.unreadable = self.unreadable.saturating_add(1);
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem {
                at,
                message: message.clone(),
            });
        }
        if shared.options.strict {
            shared.stop.store(true, Ordering::Relaxed);
            if let Ok(mut first) = shared.strict_problem.lock() {
                match &*first {
                    Some(p) if p.at <= at => {}
                    _ => *first = Some(Problem { at, message }),
                }
            }
        }
    }

    /// Evaluates one resolved event through every content file.
    fn event(
        &mut self,
        shared: &Shared<'_, '_, '_>,
        scratch: &mut Scratch,
        at: At,
        event: Resolved<'_>,
        values: &[Value<'_>],
    ) {
        let Resolved {
            profile_index,
            template_type,
            host,
            time,
        } = event;
        let host = host.map(host_hash);
        let window = shared.options.dedup_window;
        // Read once, and only for an event that raises an alert.
        let mut seconds: Option<Option<u64>> = None;
        for (content, tally) in shared.contents.iter().zip(self.tallies.iter_mut()) {
            let mut matched = 0u64;
            let outcome = content.evaluate(scratch, profile_index, template_type, values, |p| {
                matched = matched.saturating_add(1);
                let time = *seconds.get_or_insert_with(|| time.seconds());
                tally.matched(p, host, time, window);
            });
            match outcome {
                Ok(Some(_)) => tally.event(template_type, matched),
                Ok(None) => tally.not_targeted = tally.not_targeted.saturating_add(1),
                Err(e) => tally.error(at, profile_index, e),
            }
        }
        let kept = self
            .samples
            .entry((profile_index, template_type))
            .or_default();
        if kept.len() < SAMPLES {
            kept.push(
                values
                    .iter()
                    .map(|v| match *v {
                        Value::Bytes(b) => EventValue::Bytes(b.to_vec()),
                        Value::Unsigned(n) => EventValue::Unsigned(n),
                        Value::Flags(n) => EventValue::Flags(n),
                    })
                    .collect(),
            );
        }
    }

    fn chunk(&mut self, shared: &Shared<'_, '_, '_>, scratch: &mut Scratch, chunk: Chunk) {
        match chunk {
            Chunk::Lines { input, lines } => {
                for (line, text) in lines {
                    self.read = self.read.saturating_add(1);
                    let at = At::Line { input, line };
                    let raw = match text.and_then(|t| parse_line(&t)) {
                        Ok(raw) => raw,
                        Err(e) => {
                            self.problem(shared, at, e.to_string());
                            continue;
                        }
                    };
                    let mut values = Vec::with_capacity(raw.inputs.len());
                    match resolve_line(shared, &raw, &mut values) {
                        Ok((profile_index, template_type)) => self.event(
                            shared,
                            scratch,
                            at,
                            Resolved {
                                profile_index,
                                template_type,
                                host: raw.host.as_deref(),
                                time: raw.time.as_deref().map_or(
                                    crate::tally::EventTime::None,
                                    crate::tally::EventTime::Text,
                                ),
                            },
                            &values,
                        ),
                        Err(e) => self.problem(shared, at, e.to_string()),
                    }
                }
            }
            #[cfg(feature = "parquet")]
            Chunk::Batch {
                input,
                row_group,
                first_row,
                fixed_type,
                batch,
                bytes: _,
            } => {
                let rows = batch.num_rows();
                let columns =
                    match crate::arrow::BatchColumns::new(shared.schema, &batch, fixed_type) {
                        Ok(c) => c,
                        Err(e) => {
                            for row in 0..rows {
                                self.read = self.read.saturating_add(1);
                                let at = At::Row {
                                    input,
                                    row_group,
                                    row: first_row.saturating_add(row as u64),
                                };
                                self.problem(shared, at, e.0.clone());
                            }
                            return;
                        }
                    };
                for name in &columns.ignored {
                    if !self.ignored.iter().any(|(i, n)| *i == input && n == name) {
                        self.ignored.push((input, (*name).to_string()));
                    }
                }
                let mut values = Vec::new();
                for row in 0..rows {
                    self.read = self.read.saturating_add(1);
                    let at = At::Row {
                        input,
                        row_group,
                        row: first_row.saturating_add(row as u64),
                    };
                    match columns.resolve(row, shared.options.default_profile, &mut values) {
                        Ok(e) => self.event(
                            shared,
                            scratch,
                            at,
                            Resolved {
                                profile_index: e.profile_index,
                                template_type: e.template_type,
                                host: e.host,
                                time: e.time,
                            },
                            &values,
                        ),
                        Err(e) => self.problem(shared, at, e.to_string()),
                    }
                }
            }
            Chunk::Failed { at, message } => {
                self.read = self.read.saturating_add(1);
                self.problem(shared, at, message);
            }
        }
    }
}

/// A decoded JSON line resolved into `values`: its profile index and template type. The order
/// of the checks is the Arrow reader's (`BatchColumns::resolve`) — decoding, profile, template
/// type, inputs — and the resolution is the same function, so a line and a row with the same
/// values mean the same event or fail for the same reason.
fn resolve_line<'v>(
    shared: &Shared<'_, '_, '_>,
    raw: &'v chanval_events::RawEvent,
    values: &mut Vec<Value<'v>>,
) -> Result<(usize, u16), LineError> {
    use chanval::event::EventError;
    let schema = shared.schema;
    let profile_index = match raw.profile.as_deref() {
        Some(name) => schema
            .profile(name)
            .map(|(i, _)| i)
            .ok_or_else(|| LineError::Resolve(EventError::UnknownProfile(name.to_string())))?,
        None => shared.options.default_profile.ok_or(LineError::NoProfile)?,
    };
    let profile = schema
        .profiles
        .get(profile_index)
        .ok_or(LineError::NoProfile)?;
    let t = template_type_named(schema, &raw.template_type).ok_or_else(|| {
        LineError::Resolve(EventError::UnknownTemplateType(raw.template_type.clone()))
    })?;
    chanval::event::resolve_into(
        profile,
        t,
        raw.inputs.iter().map(|(k, v)| (k.as_str(), v.as_ref())),
        values,
    )
    .map_err(LineError::Resolve)?;
    Ok((profile_index, t.id))
}

/// Reads every input into chunks for the workers, until the end or `stop`.
fn read_inputs(shared: &Shared<'_, '_, '_>, inputs: Vec<Input>, send: &mpsc::SyncSender<Chunk>) {
    for (index, input) in inputs.into_iter().enumerate() {
        if shared.stop.load(Ordering::Relaxed) {
            return;
        }
        match input {
            Input::JsonLines { reader, .. } => {
                let mut lines = Vec::with_capacity(CHUNK_LINES);
                let mut bytes = 0usize;
                for (line, text) in RawLines::new(reader) {
                    bytes = bytes.saturating_add(text.as_ref().map_or(0, String::len));
                    lines.push((line, text));
                    if lines.len() >= CHUNK_LINES || bytes >= CHUNK_BYTES {
                        let full = std::mem::replace(&mut lines, Vec::with_capacity(CHUNK_LINES));
                        bytes = 0;
                        if send
                            .send(Chunk::Lines {
                                input: index,
                                lines: full,
                            })
                            .is_err()
                            || shared.stop.load(Ordering::Relaxed)
                        {
                            return;
                        }
                    }
                }
                if !lines.is_empty()
                    && send
                        .send(Chunk::Lines {
                            input: index,
                            lines,
                        })
                        .is_err()
                {
                    return;
                }
            }
            #[cfg(feature = "parquet")]
            Input::Parquet { name, file } => {
                if read_parquet(shared, index, &name, file, send).is_err() {
                    return;
                }
            }
        }
    }
}

/// The template type a Parquet file's name or metadata gives all its rows.
#[cfg(feature = "parquet")]
fn file_template_type(
    schema: &Schema<'_>,
    name: &str,
    metadata: &parquet::file::metadata::ParquetMetaData,
) -> Option<u16> {
    let from_metadata = metadata
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| {
            kv.iter()
                .find(|k| k.key == crate::arrow::TEMPLATE_TYPE)
                .and_then(|k| k.value.clone())
        });
    let stem = std::path::Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned());
    from_metadata
        .into_iter()
        .chain(stem)
        .find_map(|n| template_type_named(schema, &n).map(|t| t.id))
}

/// Sends a Parquet file's record batches, row group by row group; `Err` when the workers are
/// gone (stop). Memory stays bounded whatever the file says (docs/REPLAY.md, "Memory"):
///
/// - only the columns replay reads are decoded (fields of the schema, `template_type`,
///   `profile`, `host`, `time`); the others are named in the report as ignored;
/// - every page header of those columns is read before a page is decompressed, and a page or a
///   row group declaring more than its cap is refused with its position ([`ReadLimits`]);
/// - text and binary columns stored with a dictionary are decoded as Arrow dictionaries, so a
///   value repeated on a million rows is held once;
/// - batches hold fewer rows when rows are large, and the reader waits while the decoded batches
///   in flight exceed their cap.
#[cfg(feature = "parquet")]
fn read_parquet(
    shared: &Shared<'_, '_, '_>,
    input: usize,
    name: &str,
    mut file: std::fs::File,
    send: &mpsc::SyncSender<Chunk>,
) -> Result<(), ()> {
    use std::sync::Arc;

    use parquet::arrow::ProjectionMask;
    use parquet::arrow::arrow_reader::{
        ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
    };
    let failed = |row_group: usize, row: u64, message: String| Chunk::Failed {
        at: At::Row {
            input,
            row_group,
            row,
        },
        message,
    };
    let metadata = match ArrowReaderMetadata::load(&file, Default::default()) {
        Ok(m) => m,
        Err(e) => {
            return send
                .send(failed(0, 0, format!("not a readable Parquet file: {e}")))
                .map_err(|_| ());
        }
    };
    let fixed_type = file_template_type(shared.schema, name, metadata.metadata());
    let arrow_schema = Arc::clone(metadata.schema());
    let read_column = |column: &str| {
        use crate::arrow::{HOST, PROFILE, TEMPLATE_TYPE, TIME};
        [TEMPLATE_TYPE, PROFILE, HOST, TIME].contains(&column)
            || shared
                .schema
                .template_types
                .iter()
                .any(|t| t.fields.iter().any(|f| f.name == column))
    };
    let mut roots = Vec::new();
    for (index, field) in arrow_schema.fields().iter().enumerate() {
        if read_column(field.name()) {
            roots.push(index);
        } else if let Ok(mut ignored) = shared.ignored.lock()
            && !ignored
                .iter()
                .any(|(i, n)| *i == input && n == field.name())
        {
            ignored.push((input, field.name().clone()));
        }
    }
    let parquet_schema = metadata.parquet_schema();
    // The leaf columns under the roots read: whose pages are scanned.
    let leaves: Vec<usize> = (0..parquet_schema.num_columns())
        .filter(|&leaf| roots.contains(&parquet_schema.get_column_root_idx(leaf)))
        .collect();
    let limits = shared.options.limits;
    for row_group in 0..metadata.metadata().num_row_groups() {
        if shared.stop.load(Ordering::Relaxed) {
            return Err(());
        }
        let group = metadata.metadata().row_group(row_group);
        let rows = u64::try_from(group.num_rows()).unwrap_or(0);
        let mut declared = 0u64;
        let mut refused = None;
        for &leaf in &leaves {
            let Some(column) = group.columns().get(leaf) else {
                continue;
            };
            let (start, len) = column.byte_range();
            match crate::pages::scan(&mut file, start, len, limits.max_page_bytes) {
                Ok(pages) => declared = declared.saturating_add(pages.decompressed),
                Err(e) => {
                    refused = Some(format!(
                        "row group {row_group}, column `{}`: {}",
                        column.column_path().string(),
                        e.0
                    ));
                    break;
                }
            }
        }
        if refused.is_none() && declared > limits.max_row_group_bytes {
            refused = Some(format!(
                "row group {row_group}: the columns replay reads decompress to {declared} bytes, \
                 over the cap of {} (--max-row-group-mib); its {rows} rows were not replayed",
                limits.max_row_group_bytes
            ));
        }
        if let Some(message) = refused {
            send.send(failed(row_group, 0, message)).map_err(|_| ())?;
            continue;
        }
        // Text and binary columns stored with a dictionary stay dictionaries.
        let dictionary_roots: Vec<usize> = leaves
            .iter()
            .filter(|&&leaf| {
                group
                    .columns()
                    .get(leaf)
                    .is_some_and(|c| c.dictionary_page_offset().is_some())
            })
            .map(|&leaf| parquet_schema.get_column_root_idx(leaf))
            .collect();
        let fields: Vec<arrow_schema::FieldRef> = arrow_schema
            .fields()
            .iter()
            .enumerate()
            .map(|(index, field)| match dictionary_type(field.data_type()) {
                Some(dict) if dictionary_roots.contains(&index) => {
                    Arc::new(field.as_ref().clone().with_data_type(dict))
                }
                _ => Arc::clone(field),
            })
            .collect();
        let options = ArrowReaderOptions::new().with_schema(Arc::new(arrow_schema::Schema::new(
            arrow_schema::Fields::from(fields),
        )));
        let per_row = declared.checked_div(rows.max(1)).unwrap_or(0).max(1);
        let batch_rows = usize::try_from(BATCH_BYTES.checked_div(per_row).unwrap_or(1))
            .unwrap_or(BATCH_ROWS)
            .clamp(1, BATCH_ROWS);
        let reader = ArrowReaderMetadata::try_new(Arc::clone(metadata.metadata()), options)
            .map_err(|e| e.to_string())
            .and_then(|m| {
                let mask = ProjectionMask::roots(m.parquet_schema(), roots.iter().copied());
                let f = file.try_clone().map_err(|e| e.to_string())?;
                ParquetRecordBatchReaderBuilder::new_with_metadata(f, m)
                    .with_row_groups(vec![row_group])
                    .with_projection(mask)
                    .with_batch_size(batch_rows)
                    .build()
                    .map_err(|e| e.to_string())
            });
        let reader = match reader {
            Ok(r) => r,
            Err(e) => {
                send.send(failed(
                    row_group,
                    0,
                    format!("cannot read row group {row_group}: {e}"),
                ))
                .map_err(|_| ())?;
                continue;
            }
        };
        let mut first_row = 0u64;
        for batch in reader {
            match batch {
                Ok(batch) => {
                    let rows = batch.num_rows() as u64;
                    let bytes = u64::try_from(batch.get_array_memory_size()).unwrap_or(u64::MAX);
                    shared.admit(bytes);
                    let sent = send.send(Chunk::Batch {
                        input,
                        row_group,
                        first_row,
                        fixed_type,
                        batch,
                        bytes,
                    });
                    if sent.is_err() {
                        shared.release(bytes);
                        return Err(());
                    }
                    first_row = first_row.saturating_add(rows);
                }
                Err(e) => {
                    send.send(failed(
                        row_group,
                        first_row,
                        format!("cannot decode row group {row_group} from row {first_row}: {e}"),
                    ))
                    .map_err(|_| ())?;
                    break;
                }
            }
        }
    }
    Ok(())
}

/// The dictionary type a text or binary column is read as when its pages use a dictionary.
#[cfg(feature = "parquet")]
fn dictionary_type(data_type: &arrow_schema::DataType) -> Option<arrow_schema::DataType> {
    use arrow_schema::DataType;
    let values = match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => DataType::Binary,
        _ => return None,
    };
    Some(DataType::Dictionary(
        Box::new(DataType::Int32),
        Box::new(values),
    ))
}

/// Replays `inputs` through every file of `contents` (all gated against the same schema),
/// counting into `progress` the lines and rows done as it goes.
///
/// # Errors
/// [`ReplayError::Strict`] when `options.strict` and an event could not be read.
pub fn replay(
    contents: &[&Content<'_>],
    inputs: Vec<Input>,
    options: &Options,
    progress: &AtomicU64,
) -> Result<Replayed, ReplayError> {
    let Some(first) = contents.first() else {
        return Ok(Replayed::default());
    };
    let schema = first.schema();
    let names: Vec<String> = inputs.iter().map(|i| i.name().to_string()).collect();
    let shared = Shared {
        contents,
        schema,
        options,
        stop: AtomicBool::new(false),
        progress,
        strict_problem: Mutex::new(None),
        ignored: Mutex::new(Vec::new()),
        in_flight: (Mutex::new(0), std::sync::Condvar::new()),
        _c: std::marker::PhantomData,
    };
    let jobs = options.jobs.max(1);
    let (send, receive) = mpsc::sync_channel::<Chunk>(jobs.saturating_mul(2));
    let receive = Mutex::new(receive);
    let workers: Vec<Worker> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| {
                    let mut worker = Worker {
                        tallies: shared
                            .contents
                            .iter()
                            .map(|c| Tally::new(c.instances.len()))
                            .collect(),
                        ..Worker::default()
                    };
                    let mut scratch = Scratch::new();
                    loop {
                        let next = receive.lock().ok().and_then(|r| r.recv().ok());
                        let Some(chunk) = next else { break };
                        let bytes = chunk.in_flight();
                        if shared.stop.load(Ordering::Relaxed) {
                            drop(chunk);
                            shared.release(bytes);
                            continue; // drain, so the reader is never blocked forever
                        }
                        let before = worker.read;
                        worker.chunk(&shared, &mut scratch, chunk);
                        shared.release(bytes);
                        shared
                            .progress
                            .fetch_add(worker.read.saturating_sub(before), Ordering::Relaxed);
                    }
                    for t in &mut worker.tallies {
                        t.flush_hour();
                    }
                    worker
                })
            })
            .collect();
        read_inputs(&shared, inputs, &send);
        drop(send);
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    if let Some(problem) = shared.strict_problem.lock().ok().and_then(|mut p| p.take()) {
        return Err(ReplayError::Strict(problem));
    }
    let mut out = Replayed {
        inputs: names,
        tallies: contents
            .iter()
            .map(|c| Tally::new(c.instances.len()))
            .collect(),
        ..Replayed::default()
    };
    let mut samples: HashMap<(usize, u16), Vec<Vec<EventValue>>> = HashMap::new();
    for w in workers {
        out.read = out.read.saturating_add(w.read);
        out.unreadable = out.unreadable.saturating_add(w.unreadable);
        out.problems.extend(w.problems);
        for (a, b) in out.tallies.iter_mut().zip(&w.tallies) {
            a.merge(b);
        }
        for (key, kept) in w.samples {
            let all = samples.entry(key).or_default();
            all.extend(kept.into_iter().take(SAMPLES.saturating_sub(all.len())));
        }
        for ignored in w.ignored {
            if !out.ignored_columns.contains(&ignored) {
                out.ignored_columns.push(ignored);
            }
        }
    }
    for ignored in shared
        .ignored
        .lock()
        .map(|mut i| std::mem::take(&mut *i))
        .unwrap_or_default()
    {
        if !out.ignored_columns.contains(&ignored) {
            out.ignored_columns.push(ignored);
        }
    }
    // Workers finish in any order: the problems kept are the first by position, as on one
    // thread.
    out.problems.sort_by_key(|p| p.at);
    out.problems.truncate(MAX_PROBLEMS);
    out.ignored_columns.sort();
    out.mean_ns = contents
        .iter()
        .map(|c| {
            if options.time_instances {
                time_instances(c, &samples)
            } else {
                vec![None; c.instances.len()]
            }
        })
        .collect();
    Ok(out)
}

/// Each instance's mean time on the sampled events of its template type, under every profile
/// that has samples and a program: the confirm step through the program's own matchers, as the
/// agent runs it for that instance.
fn time_instances(
    content: &Content<'_>,
    samples: &HashMap<(usize, u16), Vec<Vec<EventValue>>>,
) -> Vec<Option<f64>> {
    let borrowed: HashMap<(usize, u16), Vec<Vec<Value<'_>>>> = samples
        .iter()
        .map(|(k, events)| {
            (
                *k,
                events
                    .iter()
                    .map(|e| e.iter().map(EventValue::as_value).collect())
                    .collect(),
            )
        })
        .collect();
    // Per template type, the profile with the most samples that the file has a program for:
    // one profile's time is the instance's cost; timing it under every profile would only
    // multiply the work.
    let mut best: HashMap<u16, (usize, &Vec<Vec<Value<'_>>>)> = HashMap::new();
    for ((profile, ty), sample) in &borrowed {
        if content.program(*profile).is_none() {
            continue;
        }
        let better = best.get(ty).is_none_or(|(p, s)| {
            (s.len(), std::cmp::Reverse(*p)) < (sample.len(), std::cmp::Reverse(*profile))
        });
        if better {
            best.insert(*ty, (*profile, sample));
        }
    }
    let mut scratch = Scratch::new();
    content
        .instances
        .iter()
        .map(|instance| {
            let (mut nanos, mut events) = (0u128, 0u64);
            if let Some((profile, sample)) = best.get(&instance.template_type) {
                let ty = &instance.template_type;
                let program = content.program(*profile)?;
                let start = Instant::now();
                for values in sample.iter() {
                    let _ = std::hint::black_box(program.matches_instance(
                        &mut scratch,
                        *ty,
                        instance.id,
                        values,
                    ));
                }
                nanos = nanos.saturating_add(start.elapsed().as_nanos());
                events = events.saturating_add(sample.len() as u64);
            }
            (events > 0).then(|| nanos as f64 / events as f64)
        })
        .collect()
}
