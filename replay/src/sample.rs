//! Seeded, realistic telemetry for the fleet example (`examples/fleet/schema.toml`): hosts
//! running the three sensor versions, process starts, file writes, network connections and
//! registry writes drawn from everyday Windows activity, with the rare suspicious event the
//! example channels look for. `examples/telemetry/` holds a sample written by
//! `cargo run -p chanval-replay --example fleet_telemetry`; tests and benchmarks generate
//! larger ones.

use chanval::event::RawInput;

/// One generated event: what a JSON line or a Parquet row holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleEvent {
    /// The template type's name.
    pub template_type: &'static str,
    /// The sensor version.
    pub profile: &'static str,
    /// The host.
    pub host: String,
    /// RFC 3339.
    pub time: String,
    /// Inputs by field name.
    pub inputs: Vec<(&'static str, RawInput)>,
}

/// A small, fast, seeded generator (SplitMix64): the same seed gives the same telemetry on
/// every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next().checked_rem(n).unwrap_or(0)
    }
    /// One of `items`, which is never empty here (the tables below).
    fn pick<T: Copy + Default>(&mut self, items: &[T]) -> T {
        let i = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items.get(i).copied().unwrap_or_default()
    }
    /// True `percent` times in a hundred (fractions of a percent as tenths: `per_mille`).
    fn per_mille(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

const IMAGES: &[&str] = &[
    r"C:\Windows\System32\svchost.exe",
    r"C:\Windows\explorer.exe",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE",
    r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE",
    r"C:\Windows\System32\conhost.exe",
    r"C:\Windows\System32\taskhostw.exe",
    r"C:\Windows\System32\RuntimeBroker.exe",
    r"C:\Program Files\Microsoft VS Code\Code.exe",
    r"C:\Windows\System32\SearchIndexer.exe",
];
const RARE_IMAGES: &[&str] = &[
    r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
    r"C:\Windows\System32\cmd.exe",
    r"C:\Windows\System32\rundll32.exe",
];
const ARGS: &[&str] = &[
    "",
    "--type=renderer",
    "/c dir",
    "-k netsvcs -p",
    "/background",
    "--update",
];
const USERS: &[&str] = &["alice", "bob", "carol", "dave", "erin", "frank"];
const FILES: &[(&str, &str)] = &[
    (r"C:\Users\{u}\Documents\report-{n}.docx", "docx"),
    (r"C:\Users\{u}\AppData\Local\Temp\tmp{n}.tmp", "tmp"),
    (r"C:\Users\{u}\Downloads\setup-{n}.exe", "exe"),
    (
        r"C:\ProgramData\Microsoft\Windows Defender\Scans\mpcache-{n}.bin",
        "bin",
    ),
    (
        r"C:\Users\{u}\AppData\Local\Google\Chrome\User Data\Default\Cache\f_{n}",
        "",
    ),
];
const ADDRESSES: &[&str] = &[
    "142.250.74.78",
    "13.107.42.14",
    "52.96.88.2",
    "10.0.0.53",
    "151.101.1.69",
];
const KEYS: &[&str] = &[
    r"HKCU\Software\Microsoft\Windows\CurrentVersion\Explorer\RecentDocs",
    r"HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates",
    r"HKCU\Software\Google\Chrome\PreferenceMACs",
    r"HKLM\SOFTWARE\Classes\CLSID\{n}",
    r"HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters",
];

fn text(s: impl Into<String>) -> RawInput {
    RawInput::Text(s.into())
}

/// `n` events on `hosts` hosts, from `seed`.
#[must_use]
pub fn fleet_events(seed: u64, n: usize, hosts: usize) -> Vec<SampleEvent> {
    let mut rng = Rng(seed);
    let hosts = hosts.max(1);
    let host_profile: Vec<&'static str> = (0..hosts)
        .map(|_| match rng.below(10) {
            0..=2 => "sensor-7.10",
            3..=6 => "sensor-7.11",
            _ => "sensor-7.12",
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let h = usize::try_from(rng.below(hosts as u64)).unwrap_or(0);
        let profile = host_profile.get(h).copied().unwrap_or("sensor-7.12");
        let seconds = (i as u64).saturating_mul(7).saturating_add(rng.below(7));
        let time = format!(
            "2026-11-30T{:02}:{:02}:{:02}Z",
            (seconds / 3600) % 24,
            (seconds / 60) % 60,
            seconds % 60
        );
        let user = rng.pick(USERS);
        let kind = rng.below(100);
        let (template_type, inputs) = match kind {
            0..=39 => {
                let rare = rng.per_mille(15);
                let image = if rare {
                    rng.pick(RARE_IMAGES)
                } else {
                    rng.pick(IMAGES)
                };
                let encoded = rare && image.ends_with("powershell.exe") && rng.per_mille(500);
                let command_line = if encoded {
                    format!("\"{image}\" -NoProfile -Enc SQBFAFgAIAAoAE4AZQB3AC0A")
                } else {
                    format!("\"{image}\" {}", rng.pick(ARGS))
                };
                let parent = if rng.per_mille(30) {
                    r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE"
                } else {
                    rng.pick(IMAGES.get(..3).unwrap_or(IMAGES))
                };
                let integrity = rng.pick(&[0x1000u64, 0x2000, 0x2000, 0x3000, 0x4000]);
                (
                    "process_start",
                    vec![
                        ("image_name", text(image)),
                        ("command_line", text(command_line)),
                        ("parent_image", text(parent)),
                        ("pid", RawInput::Number(rng.below(60_000).saturating_add(4))),
                        (
                            "parent_pid",
                            RawInput::Number(rng.below(60_000).saturating_add(4)),
                        ),
                        ("token_flags", RawInput::Number(rng.below(16))),
                        ("integrity_level", RawInput::Number(integrity)),
                    ],
                )
            }
            40..=69 => {
                let (path, ext) = if rng.per_mille(20) {
                    (
                        format!(r"C:\Windows\System32\Tasks\Update-{}", rng.below(100)),
                        "",
                    )
                } else if rng.per_mille(5) {
                    (
                        format!(
                            r"C:\Users\{user}\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\run{}.lnk",
                            rng.below(10)
                        ),
                        "lnk",
                    )
                } else {
                    let (p, e) = rng.pick(FILES);
                    (
                        p.replace("{u}", user)
                            .replace("{n}", &rng.below(10_000).to_string()),
                        e,
                    )
                };
                (
                    "file_write",
                    vec![
                        ("path", text(path)),
                        ("extension", text(ext)),
                        ("size", RawInput::Number(rng.below(4 << 20))),
                        (
                            "attributes",
                            RawInput::Number(rng.pick(&[0x20u64, 0x20, 0x80, 0x22, 0x2])),
                        ),
                        ("writer_image", text(rng.pick(IMAGES))),
                    ],
                )
            }
            70..=89 => {
                let suspicious = rng.per_mille(4);
                let (address, port) = if suspicious {
                    (
                        format!("10.13.{}.{}", rng.below(10), rng.below(255)),
                        rng.pick(&[4444u64, 6667]),
                    )
                } else {
                    (
                        (rng.pick(ADDRESSES)).to_string(),
                        rng.pick(&[443u64, 443, 443, 80, 53]),
                    )
                };
                (
                    "network_connect",
                    vec![
                        ("remote_address", text(address)),
                        ("remote_port", RawInput::Number(port)),
                        (
                            "local_port",
                            RawInput::Number(rng.below(16384).saturating_add(49152)),
                        ),
                        (
                            "protocol",
                            RawInput::Number(if port == 53 { 17 } else { 6 }),
                        ),
                        ("image_name", text(rng.pick(IMAGES))),
                    ],
                )
            }
            _ if profile == "sensor-7.10" => {
                // sensor-7.10 has no registry integration: a process start instead.
                (
                    "process_start",
                    vec![
                        ("image_name", text(rng.pick(IMAGES))),
                        ("integrity_level", RawInput::Number(0x2000)),
                    ],
                )
            }
            _ => {
                let (key, value, data_type) = if rng.per_mille(40) {
                    (
                        format!(
                            r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\{}",
                            rng.pick(&["OneDrive", "Teams", "Updater"])
                        ),
                        "(default)".to_string(),
                        1,
                    )
                } else if rng.per_mille(10) {
                    (
                        format!(
                            r"HKLM\SYSTEM\CurrentControlSet\Services\svc{}",
                            rng.below(50)
                        ),
                        "ImagePath".to_string(),
                        2,
                    )
                } else {
                    (
                        rng.pick(KEYS).replace("{n}", &rng.below(1000).to_string()),
                        format!("Value{}", rng.below(20)),
                        rng.pick(&[1u64, 3, 4, 4, 11]),
                    )
                };
                (
                    "registry_set",
                    vec![
                        ("key", text(key)),
                        ("value_name", text(value)),
                        ("data_type", RawInput::Number(data_type)),
                        ("writer_image", text(rng.pick(IMAGES))),
                    ],
                )
            }
        };
        out.push(SampleEvent {
            template_type,
            profile,
            host: format!("ws-{h:04}"),
            time,
            inputs,
        });
    }
    out
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len().saturating_add(2));
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The events as JSON Lines (docs/EVENTS.md), one per line.
#[must_use]
pub fn to_json_lines(events: &[SampleEvent]) -> String {
    let mut out = String::new();
    for e in events {
        let inputs: Vec<String> = e
            .inputs
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    RawInput::Text(s) => json_string(s),
                    RawInput::Number(n) => n.to_string(),
                    RawInput::Bytes(b) => {
                        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                        format!("{{\"hex\": \"{hex}\"}}")
                    }
                };
                format!("{}: {v}", json_string(k))
            })
            .collect();
        out.push_str(&format!(
            "{{\"template_type\": {}, \"profile\": {}, \"host\": {}, \"time\": {}, \"inputs\": {{{}}}}}\n",
            json_string(e.template_type),
            json_string(e.profile),
            json_string(&e.host),
            json_string(&e.time),
            inputs.join(", ")
        ));
    }
    out
}

/// The events as one Arrow record batch: `template_type`, `profile`, `host`, `time`, and one
/// column per field name any event uses (text or `UInt64`), null where an event has none.
///
/// # Errors
/// Never for generated events (the columns are built to the schema); Arrow's error otherwise.
#[cfg(feature = "parquet")]
pub fn to_record_batch(
    events: &[SampleEvent],
) -> Result<arrow_array::RecordBatch, arrow_schema::ArrowError> {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, StringArray, UInt64Array};
    use arrow_schema::{DataType, Field, Schema};

    let mut names: Vec<(&'static str, bool)> = Vec::new();
    for e in events {
        for (k, v) in &e.inputs {
            if !names.iter().any(|(n, _)| n == k) {
                names.push((k, matches!(v, RawInput::Number(_))));
            }
        }
    }
    names.sort_unstable();
    let mut fields = vec![
        Field::new("template_type", DataType::Utf8, false),
        Field::new("profile", DataType::Utf8, true),
        Field::new("host", DataType::Utf8, true),
        Field::new("time", DataType::Utf8, true),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            events.iter().map(|e| e.template_type),
        )),
        Arc::new(StringArray::from_iter_values(
            events.iter().map(|e| e.profile),
        )),
        Arc::new(StringArray::from_iter_values(
            events.iter().map(|e| e.host.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            events.iter().map(|e| e.time.as_str()),
        )),
    ];
    for (name, numeric) in names {
        fn value<'e>(e: &'e SampleEvent, name: &str) -> Option<&'e RawInput> {
            e.inputs.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
        }
        if numeric {
            fields.push(Field::new(name, DataType::UInt64, true));
            columns.push(Arc::new(UInt64Array::from_iter(events.iter().map(
                |e| match value(e, name) {
                    Some(RawInput::Number(n)) => Some(*n),
                    _ => None,
                },
            ))));
        } else {
            fields.push(Field::new(name, DataType::Utf8, true));
            columns.push(Arc::new(StringArray::from_iter(events.iter().map(
                |e| match value(e, name) {
                    Some(RawInput::Text(s)) => Some(s.as_str()),
                    _ => None,
                },
            ))));
        }
    }
    arrow_array::RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// The events as a Parquet file (Snappy, row groups of `rows_per_group`).
///
/// # Errors
/// When the file cannot be written.
#[cfg(feature = "parquet")]
pub fn write_parquet(
    events: &[SampleEvent],
    out: impl std::io::Write + Send,
    rows_per_group: usize,
) -> Result<(), parquet::errors::ParquetError> {
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;

    let batch = to_record_batch(events)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(rows_per_group.max(1)))
        .set_created_by("chanval-replay sample".to_string())
        .build();
    let mut writer = ArrowWriter::try_new(out, batch.schema(), Some(props))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(())
}
