//! The C agent (ffi/examples/agent.c), compiled with gcc under AddressSanitizer and
//! UndefinedBehaviorSanitizer against the static library and the generated schema header: it
//! holds a trust root, loads signed content for sensor 7.12 and evaluates events, refuses it
//! under 7.11 (not a target), refuses unsigned files unless allowed, and keeps the content in
//! the last-known-good store.
//! And the C file that supplies a 21st input to sensor 7.11 must not compile.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chanval::trust::SignOptions;
use chanval_testing::trust::{gate_and_sign, secret};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The static library cargo built for this test run: `cargo test` leaves it in deps/, beside
/// this test's executable (`cargo build` also copies it up to target/<profile>/).
fn static_lib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [
        deps.join("libchanval_c.a"),
        deps.parent().unwrap().join("libchanval_c.a"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap_or_else(|| panic!("no libchanval_c.a in {} or its parent", deps.display()))
}

/// A fresh directory holding the generated chanval_schema.h for the compiled-in schema.
fn generated_header(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chanval-c-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(repo().join("examples/incident/schema.toml")).unwrap();
    let doc = chanval::SchemaDoc::from_toml(&text).unwrap();
    std::fs::write(
        dir.join("chanval_schema.h"),
        doc.with_schema(chanval::codegen::c),
    )
    .unwrap();
    dir
}

/// The example agent, built with `compiler` (`gcc`, or `g++` to build it as C++) under
/// AddressSanitizer and UndefinedBehaviorSanitizer, warnings as errors.
fn build_agent(dir: &Path, compiler: &str, std: &str, name: &str) -> PathBuf {
    let lib = static_lib();
    let agent = dir.join(name);
    let include = repo().join("ffi/include");
    let os = |s: &'static str| -> &'static std::ffi::OsStr { s.as_ref() };
    let mut args: Vec<&std::ffi::OsStr> = Vec::new();
    if compiler == "g++" {
        args.extend([os("-x"), os("c++")]);
    }
    let source = repo().join("ffi/examples/agent.c");
    args.extend([
        std::ffi::OsStr::new(std),
        "-Wall".as_ref(),
        "-Wextra".as_ref(),
        "-Werror".as_ref(),
        "-g".as_ref(),
        "-fsanitize=address,undefined".as_ref(),
        "-fno-sanitize-recover=all".as_ref(),
        "-fno-omit-frame-pointer".as_ref(),
        "-I".as_ref(),
        include.as_os_str(),
        "-I".as_ref(),
        dir.as_os_str(),
        source.as_os_str(),
    ]);
    if compiler == "g++" {
        args.extend([os("-x"), os("none")]);
    }
    args.extend([
        lib.as_os_str(),
        "-lpthread".as_ref(),
        "-ldl".as_ref(),
        "-lm".as_ref(),
        "-o".as_ref(),
        agent.as_os_str(),
    ]);
    let o = Command::new(compiler)
        .args(&args)
        .env("LC_ALL", "C")
        .output()
        .expect("the compiler runs");
    assert!(o.status.success(), "{compiler} failed:\n{}", text(&o));
    agent
}

fn gcc(args: &[&std::ffi::OsStr]) -> Output {
    // The C locale, so that diagnostics quote with plain ASCII.
    Command::new("gcc")
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .expect("gcc runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn the_c_agent_runs_clean_under_sanitizers() {
    let dir = generated_header("agent");
    let agent = build_agent(&dir, "gcc", "-std=c11", "agent");

    // A trust root, and channel 291 v3 gated and signed by its release key, as `chanval root`
    // and `chanval sign` make them.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let root = chanval_testing::trust::root(
        1,
        now + 86_400,
        &[secret(1)],
        1,
        &[secret(11)],
        1,
        &[secret(1)],
    );
    std::fs::write(dir.join("root.cvr"), root).unwrap();
    let doc = chanval::SchemaDoc::from_toml(
        &std::fs::read_to_string(repo().join("examples/incident/schema.toml")).unwrap(),
    )
    .unwrap();
    let v3 = std::fs::read(repo().join("examples/incident/channel-291-v3.cvc")).unwrap();
    let signed = doc.with_schema(|s| gate_and_sign(&v3, s, &SignOptions::default(), &[secret(11)]));
    std::fs::write(dir.join("v3-signed.cvc"), signed).unwrap();

    let run = |args: &[&std::ffi::OsStr]| {
        let o = Command::new(&agent)
            .args(args)
            .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
            .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
            .output()
            .unwrap();
        let out = text(&o);
        assert!(
            !out.contains("Sanitizer") && !out.contains("runtime error"),
            "{out}"
        );
        (o.status.code(), out)
    };
    let root_path = dir.join("root.cvr");
    let signed_path = dir.join("v3-signed.cvc");
    let v2 = repo().join("examples/incident/channel-291-v2.cvc");

    // Sensor 7.12 loads the signed file through the trust root and evaluates events on it.
    let (code, out) = run(&[
        "sensor-7.12".as_ref(),
        root_path.as_os_str(),
        signed_path.as_os_str(),
    ]);
    assert_eq!(code, Some(0), "{out}");
    let expected = "v3-signed.cvc: loaded under sensor-7.12 (content version 3)\n  event from a temp folder: 2 match(es) 3 4\n  \
                    event from system32: 2 match(es) 2 3\n  event of 20 inputs: error -5\n";
    assert!(out.contains(expected), "{out}");

    // Sensor 7.11 is not a target: it refuses the file by itself and never evaluates it.
    let (code, out) = run(&[
        "sensor-7.11".as_ref(),
        root_path.as_os_str(),
        signed_path.as_os_str(),
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("v3-signed.cvc: REFUSED under sensor-7.11 (status -16)\n  CV0610 error"),
        "{out}"
    );
    assert!(!out.contains("match"), "{out}");

    // Unsigned content is refused unless explicitly allowed; allowed, the incident file is still
    // rejected under 7.11, at the criterion that would read past the inputs.
    let (code, out) = run(&[
        "sensor-7.11".as_ref(),
        root_path.as_os_str(),
        v2.as_os_str(),
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("REFUSED under sensor-7.11 (status -8)\n  CV0602 error"),
        "{out}"
    );
    let (code, out) = run(&[
        "--allow-unsigned".as_ref(),
        "sensor-7.11".as_ref(),
        root_path.as_os_str(),
        v2.as_os_str(),
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("REFUSED under sensor-7.11 (status -4)\n  CV0201 error"),
        "{out}"
    );
    assert!(
        out.contains("CV0202 error bytes 551..577 instance 4 field index 20"),
        "{out}"
    );

    // Through the last-known-good store: installed, offered again (not newer: refused), and
    // what a restart runs.
    let store = dir.join("store");
    std::fs::create_dir_all(&store).unwrap();
    let (code, out) = run(&[
        "--store".as_ref(),
        store.as_os_str(),
        "sensor-7.12".as_ref(),
        root_path.as_os_str(),
        signed_path.as_os_str(),
        signed_path.as_os_str(),
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("loaded under sensor-7.12 (content version 3)"),
        "{out}"
    );
    assert!(
        out.contains("REFUSED under sensor-7.12 (status -18)\n  CV0613 error"),
        "{out}"
    );
    assert!(
        out.contains("restart: the store runs content version 3\n"),
        "{out}"
    );
    assert!(
        out.contains("store: active version 3, 0 barred range(s), floor 3\n"),
        "{out}"
    );

    // A recall of version 3 (a brake statement: no gate, no content), signed by the release
    // key: the store has nothing to go back to, so nothing runs, and the recall is kept.
    let recall = chanval_testing::trust::brake(
        291,
        chanval::trust::BrakeAction::Recall,
        chanval::trust::Versions::one(3),
        1,
        &[secret(11)],
    );
    std::fs::write(dir.join("recall-3.cvb"), &recall).unwrap();
    let forged = chanval_testing::trust::brake(
        291,
        chanval::trust::BrakeAction::Recall,
        chanval::trust::Versions::one(3),
        1,
        &[secret(66)],
    );
    std::fs::write(dir.join("forged.cvb"), &forged).unwrap();
    let (code, out) = run(&[
        "--store".as_ref(),
        store.as_os_str(),
        "sensor-7.12".as_ref(),
        root_path.as_os_str(),
        dir.join("forged.cvb").as_os_str(),
        dir.join("recall-3.cvb").as_os_str(),
        signed_path.as_os_str(),
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("forged.cvb: brake REFUSED (status -12)"),
        "{out}"
    );
    assert!(
        out.contains(
            "recall-3.cvb: brake recall of versions 3..3, applied, the running content was recalled"
        ),
        "{out}"
    );
    assert!(
        out.contains("REFUSED under sensor-7.12 (status -24)\n  CV0619 error"),
        "{out}"
    );
    assert!(
        out.contains("restart: nothing to run (status -28)"),
        "{out}"
    );
    assert!(
        out.contains("store: nothing active, 1 barred range(s), floor 0\n"),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_21st_input_for_sensor_7_11_does_not_compile() {
    let dir = generated_header("compile-fail");
    let include = repo().join("ffi/include");
    let o = gcc(&[
        "-std=c11".as_ref(),
        "-fsyntax-only".as_ref(),
        "-I".as_ref(),
        include.as_os_str(),
        "-I".as_ref(),
        dir.as_os_str(),
        repo()
            .join("ffi/tests/compile-fail/too-many-inputs.c")
            .as_os_str(),
    ]);
    assert!(!o.status.success(), "compiled, but must not");
    let out = text(&o);
    assert!(
        out.contains("has no member named 'peer_path'"),
        "failed for another reason:\n{out}"
    );
    // The same file against sensor 7.12's structure compiles: the failure is the count.
    let source =
        std::fs::read_to_string(repo().join("ffi/tests/compile-fail/too-many-inputs.c")).unwrap();
    let fixed = dir.join("twenty-one-inputs.c");
    std::fs::write(&fixed, source.replace("sensor_7_11", "sensor_7_12")).unwrap();
    let o = gcc(&[
        "-std=c11".as_ref(),
        "-fsyntax-only".as_ref(),
        "-I".as_ref(),
        include.as_os_str(),
        "-I".as_ref(),
        dir.as_os_str(),
        fixed.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}
