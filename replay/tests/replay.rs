//! Replay through the library: the same events as JSON Lines and as Parquet give the same
//! counts and the same problems; one thread or several, the same result; counts add across
//! shards; bad lines and rows are counted with their position and never stop the run.

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema as ArrowSchema};
use chanval::SchemaDoc;
use chanval_replay::sample::{fleet_events, to_json_lines, write_parquet};
use chanval_replay::{At, Content, Input, Options, Replayed, replay};

const SCHEMA: &str = include_str!("../../examples/fleet/schema.toml");
const CHANNEL_100: &[u8] = include_bytes!("../../examples/fleet/channel-100.cvc");
const CHANNEL_101: &[u8] = include_bytes!("../../examples/fleet/channel-101.cvc");

fn jsonl(text: String) -> Input {
    Input::JsonLines {
        name: "events.jsonl".into(),
        reader: Box::new(Cursor::new(text.into_bytes())),
    }
}

fn parquet_file(bytes: &[u8]) -> Input {
    let path = std::env::temp_dir().join(format!(
        "chanval-replay-{}-{}.parquet",
        std::process::id(),
        bytes.len()
    ));
    std::fs::write(&path, bytes).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    Input::Parquet {
        name: "events.parquet".into(),
        file,
    }
}

fn run(contents: &[&Content<'_>], inputs: Vec<Input>, jobs: usize) -> Replayed {
    let options = Options {
        default_profile: None,
        jobs,
        strict: false,
        time_instances: true,
        limits: chanval_replay::ReadLimits::default(),
        dedup_window: None,
    };
    replay(contents, inputs, &options, &AtomicU64::new(0)).unwrap()
}

/// What must agree between two replays: every count, and the problems' messages in order.
fn counts(r: &Replayed) -> String {
    let problems: Vec<&str> = r.problems.iter().map(|p| p.message.as_str()).collect();
    let tallies: Vec<String> = r
        .tallies
        .iter()
        .map(|t| {
            let hosts: Vec<(u64, bool)> = t.hosts.iter().map(|d| d.count()).collect();
            format!(
                "events {} not_targeted {} per_type {:?} matches {:?} hosts {hosts:?} errors {}",
                t.events, t.not_targeted, t.per_type, t.matches, t.error_count
            )
        })
        .collect();
    format!(
        "read {} unreadable {} problems {problems:?} {tallies:?}",
        r.read, r.unreadable
    )
}

#[test]
fn json_lines_and_parquet_agree_and_threads_do_not_matter() {
    let doc = SchemaDoc::from_toml(SCHEMA).unwrap();
    doc.with_schema(|schema| {
        let schema: &chanval::Schema<'_> = schema;
        let new = Content::compile(schema, CHANNEL_101).unwrap();
        let other = Content::compile(schema, CHANNEL_100).unwrap();
        let events = fleet_events(7, 20_000, 300);
        let mut parquet = Vec::new();
        write_parquet(&events, &mut parquet, 3000).unwrap();
        let a = run(&[&new, &other], vec![jsonl(to_json_lines(&events))], 1);
        let b = run(&[&new, &other], vec![parquet_file(&parquet)], 2);
        let c = run(&[&new, &other], vec![jsonl(to_json_lines(&events))], 3);
        assert_eq!(a.read, 20_000);
        assert_eq!(a.unreadable, 0, "{:?}", a.problems);
        assert!(
            a.tallies[0].matches.iter().sum::<u64>() > 0,
            "the sample matches something"
        );
        assert!(a.tallies[1].matches.iter().sum::<u64>() > 0);
        assert!(
            a.tallies[0].hosts.iter().any(|d| d.count().0 > 1),
            "distinct hosts are counted"
        );
        assert_eq!(counts(&a), counts(&b), "JSON Lines and Parquet");
        assert_eq!(counts(&a), counts(&c), "one thread and three");

        // Shards: two halves replayed apart and merged are the whole.
        let (first, second) = events.split_at(9_000);
        let mut x = run(&[&new], vec![jsonl(to_json_lines(first))], 1);
        let y = run(&[&new], vec![jsonl(to_json_lines(second))], 1);
        x.tallies[0].merge(&y.tallies[0]);
        let whole = run(&[&new], vec![jsonl(to_json_lines(&events))], 2);
        assert_eq!(x.tallies[0].matches, whole.tallies[0].matches);
        assert_eq!(x.tallies[0].per_type, whole.tallies[0].per_type);
        assert_eq!(x.tallies[0].hosts, whole.tallies[0].hosts);
    });
}

#[test]
fn bad_lines_and_rows_are_counted_where_they_are_and_mean_the_same() {
    let doc = SchemaDoc::from_toml(SCHEMA).unwrap();
    doc.with_schema(|schema| {
        let schema: &chanval::Schema<'_> = schema;
        let content = Content::compile(schema, CHANNEL_100).unwrap();
        // The same four bad events in both forms, between good ones.
        let lines = [
            r#"{"template_type": "process_start", "profile": "sensor-7.12", "inputs": {"pid": 7}}"#,
            r#"{"template_type": "process_start", "profile": "sensor-7.12", "inputs": {"pid": "seven"}}"#,
            r#"{"template_type": "no_such_type", "profile": "sensor-7.12", "inputs": {}}"#,
            r#"{"template_type": "process_start", "profile": "sensor-9.99", "inputs": {}}"#,
            r#"{"template_type": "process_start", "inputs": {}}"#,
            r#"{"template_type": "process_start", "profile": "sensor-7.12", "inputs": {"pid": 8}}"#,
        ];
        let a = run(&[&content], vec![jsonl(lines.join("\n"))], 2);
        let batch = RecordBatch::try_new(
            Arc::new(ArrowSchema::new(vec![
                Field::new("template_type", DataType::Utf8, true),
                Field::new("profile", DataType::Utf8, true),
                Field::new("pid", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(StringArray::from(vec![
                    Some("process_start"),
                    Some("process_start"),
                    Some("no_such_type"),
                    Some("process_start"),
                    Some("process_start"),
                    Some("process_start"),
                ])) as ArrayRef,
                Arc::new(StringArray::from(vec![
                    Some("sensor-7.12"),
                    Some("sensor-7.12"),
                    Some("sensor-7.12"),
                    Some("sensor-9.99"),
                    None,
                    Some("sensor-7.12"),
                ])),
                // A text column for an unsigned field: every value in it is of the wrong kind.
                Arc::new(StringArray::from(vec![None, Some("seven"), None, None, None, None])),
            ],
        )
        .unwrap();
        let mut bytes = Vec::new();
        let mut w = parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let b = run(&[&content], vec![parquet_file(&bytes)], 1);
        assert_eq!((a.read, a.unreadable), (6, 4));
        assert_eq!((b.read, b.unreadable), (6, 4));
        let where_a: Vec<At> = a.problems.iter().map(|p| p.at).collect();
        assert_eq!(
            where_a,
            [2, 3, 4, 5].map(|line| At::Line { input: 0, line })
        );
        let where_b: Vec<At> = b.problems.iter().map(|p| p.at).collect();
        assert_eq!(
            where_b,
            [1, 2, 3, 4].map(|row| At::Row {
                input: 0,
                row_group: 0,
                row
            })
        );
        let messages = |r: &Replayed| r.problems.iter().map(|p| p.message.clone()).collect::<Vec<_>>();
        assert_eq!(messages(&a), messages(&b));
        assert!(messages(&a)[0].contains("`pid` carries an unsigned integer"), "{:?}", messages(&a));
        assert!(messages(&a)[1].contains("no template type `no_such_type`"));
        assert!(messages(&a)[2].contains("no profile `sensor-9.99`"));
        assert!(messages(&a)[3].contains("names no `profile`"));
        assert_eq!(a.tallies[0].events, 2);
        assert_eq!(b.tallies[0].events, 2);

        // Rows a JSON line cannot express: a negative integer, a column of an unusable type.
        let batch = RecordBatch::try_new(
            Arc::new(ArrowSchema::new(vec![
                Field::new("template_type", DataType::Utf8, false),
                Field::new("profile", DataType::Utf8, false),
                Field::new("pid", DataType::Int64, true),
                Field::new("event_id", DataType::UInt64, true),
            ])),
            vec![
                Arc::new(StringArray::from(vec!["process_start"; 2])) as ArrayRef,
                Arc::new(StringArray::from(vec!["sensor-7.12"; 2])),
                Arc::new(Int64Array::from(vec![-1, 5])),
                Arc::new(UInt64Array::from(vec![1, 2])),
            ],
        )
        .unwrap();
        let mut bytes = Vec::new();
        let mut w = parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let c = run(&[&content], vec![parquet_file(&bytes)], 1);
        assert_eq!((c.read, c.unreadable, c.tallies[0].events), (2, 1, 1));
        assert!(c.problems[0].message.contains("unsigned integers"), "{:?}", c.problems);
        assert_eq!(c.ignored_columns, [(0, "event_id".to_string())]);

        // Not Parquet at all: one problem, and the replay goes on to the next input.
        let d = run(
            &[&content],
            vec![parquet_file(b"PAR1 but not really"), jsonl(lines[0].to_string())],
            1,
        );
        assert_eq!((d.unreadable, d.tallies[0].events), (1, 1));
        assert!(d.problems[0].message.contains("not a readable Parquet file"));
    });
}

#[test]
fn long_lines_are_bounded_and_strict_stops_at_the_first_problem() {
    let doc = SchemaDoc::from_toml(SCHEMA).unwrap();
    doc.with_schema(|schema| {
        let schema: &chanval::Schema<'_> = schema;
        let content = Content::compile(schema, CHANNEL_100).unwrap();
        let good = r#"{"template_type": "process_start", "profile": "sensor-7.12", "inputs": {}}"#;
        let huge = format!("{{\"x\": \"{}\"}}", "a".repeat(3 << 20));
        let text = format!("{good}\n{huge}\n{good}\nnot json\n");
        let r = run(&[&content], vec![jsonl(text.clone())], 2);
        assert_eq!((r.read, r.unreadable, r.tallies[0].events), (4, 2, 2));
        assert!(r.problems[0].message.contains("limit"), "{:?}", r.problems);
        let options = Options {
            default_profile: None,
            jobs: 2,
            strict: true,
            time_instances: false,
            limits: chanval_replay::ReadLimits::default(),
            dedup_window: None,
        };
        let e = replay(&[&content], vec![jsonl(text)], &options, &AtomicU64::new(0)).unwrap_err();
        let chanval_replay::ReplayError::Strict(p) = e;
        assert_eq!(p.at, At::Line { input: 0, line: 2 });
    });
}
