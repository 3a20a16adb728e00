//! `chanval replay` on hostile Parquet (issue: a 1.7 KB compression bomb drove replay to 1 GiB):
//! each file below would cost gigabytes if read naively; replay's peak resident memory stays
//! under the bound docs/REPLAY.md states ("Memory"), and what it refuses it reports with its
//! row group and column. Peak memory is the child's `VmHWM` (Linux), sampled every millisecond.

mod common {
    pub mod peak;
}

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use arrow_array::{ArrayRef, DictionaryArray, RecordBatch, StringArray, types::Int32Type};
use arrow_schema::{Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

/// docs/REPLAY.md's bound with the default caps and two workers, in MiB: the binary, schema and
/// content (well under 64 MiB here) plus three times the row-group cap (128 MiB).
const BOUND_MIB: u64 = 64 + 3 * 128;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("hostile")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `columns` (name, values) as one row group of `path`, zstd-compressed, in pages of at
/// most `page` bytes, with or without dictionaries.
fn write(path: &Path, columns: Vec<(&str, ArrayRef)>, page: usize, dictionary: bool) {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        columns.into_iter().map(|c| c.1).collect(),
    )
    .unwrap();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap()))
        .set_dictionary_enabled(dictionary)
        .set_dictionary_page_size_limit(8 << 20)
        .set_data_page_size_limit(page)
        .set_write_batch_size(1)
        .set_max_row_group_row_count(None)
        .build();
    // No Arrow schema in the file: a reader then decides for itself how to decode it (a file
    // from another writer, or a hostile one, carries none).
    let options = ArrowWriterOptions::new()
        .with_properties(props)
        .with_skip_arrow_metadata(true);
    let mut w =
        ArrowWriter::try_new_with_options(std::fs::File::create(path).unwrap(), schema, options)
            .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// `rows` copies of one `len`-byte value, as a dictionary array (cheap to build and write).
fn repeated(len: usize, rows: usize) -> ArrayRef {
    let values = StringArray::from(vec!["A".repeat(len)]);
    let keys = arrow_array::Int32Array::from(vec![0; rows]);
    Arc::new(DictionaryArray::<Int32Type>::try_new(keys, Arc::new(values)).unwrap())
}

fn images(rows: usize) -> ArrayRef {
    Arc::new(StringArray::from(
        (0..rows)
            .map(|i| format!("C:\\x\\app{i}.exe"))
            .collect::<Vec<_>>(),
    ))
}

/// Replays `file` through the fleet example's channel 100 with two workers: (exit code, report,
/// peak resident MiB).
fn replay(file: &Path) -> (i32, String, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chanval"))
        .current_dir(root())
        .args([
            "--no-config",
            "replay",
            "--jobs",
            "2",
            "--schema",
            "examples/fleet/schema.toml",
            "--content",
            "examples/fleet/channel-100.cvc",
        ])
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Read stdout on a thread, so a full pipe never stalls the child.
    let mut stdout = child.stdout.take().unwrap();
    let reading = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).unwrap();
        s
    });
    let (status, peak_kib) = common::peak::wait_with_peak(&mut child);
    (
        status.code().unwrap_or(-1),
        reading.join().unwrap(),
        peak_kib / 1024,
    )
}

/// One page holding 192 MiB of one repeated byte: a few kilobytes on disk.
#[test]
fn a_compression_bomb_is_refused_before_it_is_decompressed() {
    let d = dir("bomb");
    let file = d.join("process_start.parquet");
    let big: ArrayRef = Arc::new(StringArray::from(vec!["A".repeat(192 << 20)]));
    write(
        &file,
        vec![("image_name", images(1)), ("command_line", big)],
        usize::MAX,
        false,
    );
    let on_disk = std::fs::metadata(&file).unwrap().len();
    assert!(on_disk < 1 << 20, "{on_disk} bytes");
    let (_, report, peak) = replay(&file);
    eprintln!("peak {peak} MiB");
    assert!(
        report.contains("over the cap") && report.contains("command_line"),
        "{report}"
    );
    assert!(peak < 64, "peak {peak} MiB on a {on_disk}-byte bomb");
}

/// 160 MiB in pages of 1 MiB, each under the page cap: the row group is over its cap.
#[test]
fn a_row_group_over_its_cap_is_refused_with_its_size() {
    let d = dir("row-group");
    let file = d.join("process_start.parquet");
    let rows = 160;
    let lines: ArrayRef = Arc::new(StringArray::from(
        (0..rows)
            .map(|i| format!("{i}{}", "B".repeat(1 << 20)))
            .collect::<Vec<_>>(),
    ));
    write(
        &file,
        vec![("image_name", images(rows)), ("command_line", lines)],
        1 << 20,
        false,
    );
    let (_, report, peak) = replay(&file);
    eprintln!("peak {peak} MiB");
    assert!(
        report.contains("row group 0") && report.contains("--max-row-group-mib"),
        "{report}"
    );
    assert!(peak < BOUND_MIB, "peak {peak} MiB");
}

/// One 1 MiB value on 2,000 rows, stored once in a dictionary: 2 GB if every row held its own
/// copy; replayed whole, as a dictionary.
#[test]
fn a_dictionary_of_huge_values_is_replayed_without_copying_them() {
    let d = dir("dictionary");
    let file = d.join("process_start.parquet");
    let rows = 2_000;
    write(
        &file,
        vec![
            ("image_name", images(rows)),
            ("command_line", repeated(1 << 20, rows)),
        ],
        1 << 20,
        true,
    );
    let (code, report, peak) = replay(&file);
    eprintln!("peak {peak} MiB");
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("replayed 2000"), "{report}");
    assert!(peak < BOUND_MIB, "peak {peak} MiB");
}

/// 100 columns the schema does not have, each 16 KiB on every one of 1,000 rows (1.6 GB as
/// plain text): not read at all, and named in the report.
#[test]
fn wide_rows_of_unknown_columns_are_not_read() {
    let d = dir("wide");
    let file = d.join("process_start.parquet");
    let rows = 1_000;
    let names: Vec<String> = (0..100).map(|i| format!("extra_{i}")).collect();
    let mut columns: Vec<(&str, ArrayRef)> = vec![("image_name", images(rows))];
    for n in &names {
        columns.push((n.as_str(), repeated(16 << 10, rows)));
    }
    write(&file, columns, 1 << 20, true);
    let (code, report, peak) = replay(&file);
    eprintln!("peak {peak} MiB");
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains("replayed 1000") && report.contains("extra_0"),
        "{report}"
    );
    assert!(peak < 64, "peak {peak} MiB");
}
