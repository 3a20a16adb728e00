//! The README's Rust integration, run: signed content opened under a policy, validated for the
//! compiled-in profile, evaluated on an event built from the generated typed inputs.

use chanval::signature::{LoadPolicy, open, public_key, sign};
use chanval::{FindingBuf, ProfileSet, Program, Scratch, Validator};
use chanval_c::schema::{SCHEMA, sensor_7_12};

#[test]
fn a_rust_agent_loads_signed_content_and_evaluates_typed_events()
-> Result<(), Box<dyn std::error::Error>> {
    let secret = [3u8; 32];
    let trusted_keys = [public_key(&secret)];
    let v2 = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/incident/channel-291-v2.cvc"
    ))?;
    let bytes = sign(&v2, &secret)?;
    let running = 1;

    let policy = LoadPolicy {
        running_version: Some(running),
        ..LoadPolicy::new(&trusted_keys)
    };
    let file = open(&bytes, &policy)?;
    let sensor = SCHEMA
        .profile(sensor_7_12::NAME)
        .map(|(i, _)| i)
        .ok_or("profile")?;
    let mut findings = FindingBuf::<16>::new();
    let validated = Validator::new(&SCHEMA)
        .with_profiles(ProfileSet::EMPTY.with(sensor))
        .validate(&file, &mut findings)?;
    let program = Program::compile(&validated, sensor_7_12::NAME)?;
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
    let mut ids = [0u32; 8];
    let n = program.evaluate_into(
        &mut scratch,
        sensor_7_12::IpcChannel::TEMPLATE_TYPE,
        &event,
        &mut ids,
    )?;
    assert_eq!(&ids[..n], &[3, 4]);

    // The same bytes, offered again to an agent already running version 2: refused.
    let policy = LoadPolicy {
        running_version: Some(2),
        ..LoadPolicy::new(&trusted_keys)
    };
    assert!(open(&bytes, &policy).is_err());
    Ok(())
}
