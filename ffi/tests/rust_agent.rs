//! The README's Rust integration, run: a trust root the agent ships with, content gated and
//! signed for its profile, loaded through the one load path for the compiled-in profile, and an
//! event built from the generated typed inputs evaluated on it.

use chanval::agent::{Agent, LoadError, LoadRequest, load};
use chanval::trust::{Root, SignOptions};
use chanval::{FindingBuf, Scratch};
use chanval_c::schema::{SCHEMA, sensor_7_11, sensor_7_12};
use chanval_testing::trust::{gate_and_sign, root, secret};

const NOW: u64 = 1_796_083_200; // 2026-12-01

#[test]
fn a_rust_agent_loads_signed_content_and_evaluates_typed_events()
-> Result<(), Box<dyn std::error::Error>> {
    let (root_key, release) = (secret(1), secret(2));
    let root_bytes = root(1, NOW + 86_400, &[root_key], 1, &[release], 1, &[root_key]);
    let v3 = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/incident/channel-291-v3.cvc"
    ))?;
    let doc = chanval::SchemaDoc::from_toml(&std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/incident/schema.toml"
    ))?)?;
    let bytes = doc.with_schema(|s| gate_and_sign(&v3, s, &SignOptions::default(), &[release]));

    // The agent: its compiled-in schema, its profile, the root it shipped with.
    let root = Root::bootstrap(&root_bytes)?;
    let agent = Agent {
        schema: &SCHEMA,
        profile: sensor_7_12::NAME,
        root: Some(&root),
    };
    let mut request = LoadRequest::new(291, NOW);
    request.running_version = Some(2);
    let mut findings = FindingBuf::<16>::new();
    let content = load(&bytes, &agent, &request, &mut findings)?; // every check, then compiled
    let mut scratch = Scratch::new();
    let event = sensor_7_12::IpcChannel {
        pipe_name: b"\\\\.\\pipe\\spoolss",
        client_image: b"",
        server_image: b"C:\\Windows\\System32\\spoolsv.exe",
        client_pid: 1,
        server_pid: 2,
        session_id: 1,
        access_mask: 0,
        integrity_level: 0,
        client_user: b"",
        server_user: b"",
        protocol: 0,
        message_type: 0,
        message_size: 100_000,
        client_cmdline: b"",
        server_cmdline: b"",
        client_flags: 0,
        server_flags: 0,
        endpoint: b"",
        transport: 0,
        direction: 0,
        peer_path: b"C:\\Users\\x\\AppData\\Local\\Temp\\y",
    }
    .event();
    drop(bytes); // the program owns what it evaluates
    let mut ids = [0u32; 8];
    let n = content.program.evaluate_into(
        &mut scratch,
        sensor_7_12::IpcChannel::TEMPLATE_TYPE,
        &event,
        &mut ids,
    )?;
    assert_eq!(&ids[..n], &[3, 4]);
    assert_eq!(content.content_version, 3);

    // The same content, offered to a sensor-7.11 agent: not for it, and never evaluated.
    let bytes = doc.with_schema(|s| gate_and_sign(&v3, s, &SignOptions::default(), &[release]));
    let old = Agent {
        profile: sensor_7_11::NAME,
        ..agent
    };
    let e = load(&bytes, &old, &request, &mut FindingBuf::<16>::new()).unwrap_err();
    assert_eq!(e, LoadError::NotForThisAgent);
    // And offered again to an agent already running version 3: refused (rollback).
    request.running_version = Some(3);
    let e = load(&bytes, &agent, &request, &mut FindingBuf::<16>::new()).unwrap_err();
    assert_eq!(
        e,
        LoadError::Rollback {
            running: 3,
            offered: 3
        }
    );
    Ok(())
}
