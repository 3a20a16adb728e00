//! A Ballista cluster on the loopback interface — a scheduler and two executors, each its own
//! process — runs the replay query over a partitioned sample and gets exactly the counts
//! `chanval replay` gets on the same files.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use chanval_replay::{Content, Input, Options, replay};
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Int64Type, UInt32Type};
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// Processes killed when the test ends, however it ends.
struct Cluster(Vec<Child>);

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The shipped sample split into `parts` Parquet files of consecutive rows.
fn partitioned(dir: &Path, parts: usize) -> Vec<PathBuf> {
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(repo("examples/telemetry/fleet.parquet")).unwrap();
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let rows = builder.metadata().file_metadata().num_rows() as usize;
    let reader = builder
        .with_batch_size(rows.div_ceil(parts))
        .build()
        .unwrap();
    let mut paths = Vec::new();
    for (i, batch) in reader.enumerate() {
        let batch = batch.unwrap();
        let path = dir.join(format!("part-{i}.parquet"));
        let mut w =
            ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), None)
                .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        paths.push(path);
    }
    assert_eq!(paths.len(), parts);
    paths
}

fn rows(batches: &[RecordBatch]) -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    for b in batches {
        let ids = b.column(0).as_primitive::<UInt32Type>();
        let matches = b.column(1).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            out.push((ids.value(i), matches.value(i) as u64));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_and_two_executors_count_what_replay_counts() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ballista-cluster");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("events")).unwrap();
    let parts = partitioned(&dir.join("events"), 3);
    let schema = repo("examples/fleet/schema.toml");
    let content = repo("examples/fleet/channel-100.cvc");
    let common = [
        "--schema".to_string(),
        schema.display().to_string(),
        "--content".to_string(),
        content.display().to_string(),
    ];
    let quiet = |c: &mut Command| {
        c.stdout(Stdio::null()).stderr(Stdio::null());
    };
    let scheduler_port = free_port();
    let mut cluster = Cluster(Vec::new());
    let mut scheduler = Command::new(env!("CARGO_BIN_EXE_chanval-ballista-scheduler"));
    scheduler
        .args(&common)
        .args(["--port", &scheduler_port.to_string()]);
    quiet(&mut scheduler);
    cluster.0.push(scheduler.spawn().unwrap());
    for n in 0..2 {
        let work = dir.join(format!("executor-{n}"));
        std::fs::create_dir_all(&work).unwrap();
        let mut executor = Command::new(env!("CARGO_BIN_EXE_chanval-ballista-executor"));
        executor.args(&common).args([
            "--scheduler-port",
            &scheduler_port.to_string(),
            "--port",
            &free_port().to_string(),
            "--grpc-port",
            &free_port().to_string(),
            "--work-dir",
            work.to_str().unwrap(),
        ]);
        quiet(&mut executor);
        cluster.0.push(executor.spawn().unwrap());
    }

    let udf = chanval_ballista::chanval_match(&schema, &content).unwrap();
    let columns = "template_type, profile, image_name, command_line, parent_image, pid, \
                   parent_pid, token_flags, integrity_level, path, extension, size, \
                   attributes, writer_image, remote_address, remote_port, local_port, \
                   protocol, key, value_name, data_type";
    let sql = format!(
        "SELECT id, count(*) AS matches \
         FROM (SELECT unnest(chanval_match({columns})) AS id FROM events) \
         GROUP BY id ORDER BY id"
    );
    // The scheduler and the executors take a moment to start and register.
    let started = Instant::now();
    let from_cluster = loop {
        let attempt = async {
            let state = chanval_ballista::session_state(
                SessionConfig::new_with_ballista().with_target_partitions(3),
                &udf,
            )?;
            let ctx = SessionContext::remote_with_state(
                &format!("df://127.0.0.1:{scheduler_port}"),
                state,
            )
            .await?;
            // Ballista's remote state replaces the scalar functions with its own list: the
            // function is registered on the context it returns.
            ctx.register_udf(udf.clone());
            ctx.register_parquet(
                "events",
                dir.join("events").to_str().unwrap(),
                ParquetReadOptions::default(),
            )
            .await?;
            ctx.sql(&sql).await?.collect().await
        };
        match tokio::time::timeout(Duration::from_secs(60), attempt).await {
            Ok(Ok(batches)) => break rows(&batches),
            Ok(Err(e)) if started.elapsed() < Duration::from_secs(90) => {
                eprintln!("not yet: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Ok(Err(e)) => panic!("the cluster did not answer: {e}"),
            Err(_) => panic!("the query took over 60 s"),
        }
    };

    let schema_doc = chanval::SchemaDoc::from_toml(&std::fs::read_to_string(&schema).unwrap())
        .unwrap()
        .leak();
    let bytes = std::fs::read(&content).unwrap();
    let compiled = Content::compile(schema_doc, &bytes).unwrap();
    let inputs = parts
        .iter()
        .map(|p| Input::Parquet {
            name: p.display().to_string(),
            file: std::fs::File::open(p).unwrap(),
        })
        .collect();
    let replayed = replay(
        &[&compiled],
        inputs,
        &Options {
            jobs: 2,
            ..Options::default()
        },
        &AtomicU64::new(0),
    )
    .unwrap();
    let from_replay: Vec<(u32, u64)> = compiled
        .instances
        .iter()
        .zip(&replayed.tallies[0].matches)
        .filter(|(_, m)| **m > 0)
        .map(|(i, m)| (i.id, *m))
        .collect();
    assert!(!from_replay.is_empty(), "the sample matches something");
    assert_eq!(from_cluster, from_replay);
    // The executors ran the stages: each job leaves its shuffle output in an executor's work
    // directory (`JOB/STAGE/PARTITION`).
    let ran: Vec<usize> = (0..2)
        .filter(|n| {
            std::fs::read_dir(dir.join(format!("executor-{n}")))
                .unwrap()
                .flatten()
                .any(|e| !e.file_name().to_string_lossy().starts_with("datafusion-"))
        })
        .collect();
    assert!(!ran.is_empty(), "no executor ran a stage");
    eprintln!("executors that ran stages: {ran:?}");
}
