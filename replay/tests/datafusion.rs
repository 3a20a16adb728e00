//! The DataFusion function over the shipped Parquet sample counts what `chanval replay` counts:
//! per instance, matches and distinct hosts.

use std::sync::atomic::AtomicU64;

use chanval::SchemaDoc;
use chanval_replay::datafusion::ChanvalMatch;
use chanval_replay::{Content, Input, Options, replay};
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Int64Type, UInt32Type};
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

const SCHEMA: &str = include_str!("../../examples/fleet/schema.toml");
const CHANNEL_100: &[u8] = include_bytes!("../../examples/fleet/channel-100.cvc");
const CHANNEL_101: &[u8] = include_bytes!("../../examples/fleet/channel-101.cvc");
const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/telemetry/fleet.parquet"
);

/// (id, matches, hosts) per matching instance, from the query.
fn rows(batches: &[RecordBatch]) -> Vec<(u32, u64, u64)> {
    let mut out = Vec::new();
    for b in batches {
        let ids = b.column(0).as_primitive::<UInt32Type>();
        let matches = b.column(1).as_primitive::<Int64Type>();
        let hosts = b.column(2).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            out.push((ids.value(i), matches.value(i) as u64, hosts.value(i) as u64));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sql_function_counts_what_replay_counts() {
    let schema = SchemaDoc::from_toml(SCHEMA).unwrap().leak();
    // Several partitions, so the counts are combined as across shards.
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(3));
    ctx.register_parquet("events", SAMPLE, ParquetReadOptions::default())
        .await
        .unwrap();
    for (name, bytes) in [("match_100", CHANNEL_100), ("match_101", CHANNEL_101)] {
        ctx.register_udf(
            ChanvalMatch::new(schema, bytes)
                .unwrap()
                .named(name)
                .into_udf(),
        );
        let columns = "template_type, profile, image_name, command_line, parent_image, pid, \
                       parent_pid, token_flags, integrity_level, path, extension, size, \
                       attributes, writer_image, remote_address, remote_port, local_port, \
                       protocol, key, value_name, data_type";
        let sql = format!(
            "SELECT id, count(*) AS matches, count(DISTINCT host) AS hosts \
             FROM (SELECT host, unnest({name}({columns})) AS id FROM events) \
             GROUP BY id ORDER BY id"
        );
        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        let from_sql = rows(&batches);

        let content = Content::compile(schema, bytes).unwrap();
        let file = std::fs::File::open(SAMPLE).unwrap();
        let replayed = replay(
            &[&content],
            vec![Input::Parquet {
                name: "fleet.parquet".into(),
                file,
            }],
            &Options {
                jobs: 2,
                ..Options::default()
            },
            &AtomicU64::new(0),
        )
        .unwrap();
        let tally = &replayed.tallies[0];
        let from_replay: Vec<(u32, u64, u64)> = content
            .instances
            .iter()
            .zip(&tally.matches)
            .zip(&tally.hosts)
            .filter(|((_, m), _)| **m > 0)
            .map(|((i, m), h)| (i.id, *m, h.count().0))
            .collect();
        assert!(!from_sql.is_empty(), "{name}: the sample matches something");
        // Exact distinct counts in SQL; replay's are exact up to 64 hosts, then estimated.
        for ((id, m, h), (rid, rm, rh)) in from_sql.iter().zip(&from_replay) {
            assert_eq!((id, m), (rid, rm), "{name}");
            if *rh <= 64 {
                assert_eq!(h, rh, "{name}: instance {id}");
            } else {
                assert!(
                    (*h as f64 - *rh as f64).abs() / (*h as f64) < 0.1,
                    "{name}: {h} vs {rh}"
                );
            }
        }
        assert_eq!(from_sql.len(), from_replay.len(), "{name}");
    }
}
