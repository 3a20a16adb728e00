//! `chanval build` writes atomically: a successful build leaves exactly the output file; a failed
//! one leaves the directory as it was — no temporary file, and an existing output untouched.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// A fresh empty directory for one test.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chanval-atomic-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn build(source: &Path, output: &Path) -> i32 {
    Command::new(env!("CARGO_BIN_EXE_chanval"))
        .args(["build", "--schema"])
        .arg(repo("examples/incident/schema.toml"))
        .arg(source)
        .arg("-o")
        .arg(output)
        .output()
        .unwrap()
        .status
        .code()
        .unwrap()
}

#[test]
fn a_successful_build_leaves_exactly_the_output_and_it_equals_the_shipped_example() {
    let dir = scratch_dir("ok");
    let out = dir.join("channel-291-v3.cvc");
    assert_eq!(
        build(&repo("examples/incident/channel-291-v3.toml"), &out),
        0
    );
    assert_eq!(listing(&dir), vec!["channel-291-v3.cvc"]);
    assert_eq!(
        fs::read(&out).unwrap(),
        fs::read(repo("examples/incident/channel-291-v3.cvc")).unwrap()
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_build_leaves_the_existing_output_untouched_and_no_temporary_file() {
    let dir = scratch_dir("fail");
    let out = dir.join("channel.cvc");
    fs::write(&out, b"the last good file").unwrap();
    assert_eq!(
        build(&repo("cli/tests/inputs/source-unknown-field.toml"), &out),
        1
    );
    assert_eq!(listing(&dir), vec!["channel.cvc"]);
    assert_eq!(fs::read(&out).unwrap(), b"the last good file");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_shipped_example_rebuilds_to_its_committed_bytes() {
    let dir = scratch_dir("examples");
    for (schema, name) in [
        (
            "examples/incident/schema.toml",
            "examples/incident/channel-291-v3",
        ),
        ("examples/fleet/schema.toml", "examples/fleet/channel-100"),
        ("examples/fleet/schema.toml", "examples/fleet/channel-101"),
        ("examples/fleet/schema.toml", "cli/tests/inputs/warning"),
    ] {
        let out = dir.join("out.cvc");
        let status = Command::new(env!("CARGO_BIN_EXE_chanval"))
            .args(["build", "--schema"])
            .arg(repo(schema))
            .arg(repo(&format!("{name}.toml")))
            .arg("-o")
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success(), "{name}");
        assert_eq!(
            fs::read(&out).unwrap(),
            fs::read(repo(&format!("{name}.cvc"))).unwrap(),
            "{name}.cvc is stale"
        );
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_incident_sources_do_not_build_and_their_files_are_what_the_library_encodes() {
    // `build` runs the whole gate: the content of 19 July (and the release before it, whose
    // template type sensor 7.11 under-supplies) is refused, and nothing is written. The shipped
    // files, which show what the gate and the agents refuse, are the library's encoding of the
    // sources.
    let dir = scratch_dir("incident");
    let doc = chanval::SchemaDoc::from_toml(
        &fs::read_to_string(repo("examples/incident/schema.toml")).unwrap(),
    )
    .unwrap();
    for name in ["channel-291-v1", "channel-291-v2"] {
        let source = repo(&format!("examples/incident/{name}.toml"));
        let out = dir.join("out.cvc");
        assert_eq!(build(&source, &out), 1, "{name}");
        assert!(listing(&dir).is_empty(), "{name}: {:?}", listing(&dir));
        let text = fs::read_to_string(&source).unwrap();
        let encoded = doc.with_schema(|s| {
            chanval::encode(&chanval::source::compile(&text, s).unwrap()).unwrap()
        });
        assert_eq!(
            encoded,
            fs::read(repo(&format!("examples/incident/{name}.cvc"))).unwrap(),
            "{name}.cvc is stale"
        );
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn signing_in_place_keeps_the_files_permissions_and_a_refused_sign_writes_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch_dir("sign-mode");
    let file = dir.join("v3.cvc");
    fs::copy(repo("examples/incident/channel-291-v3.cvc"), &file).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    let sign = |path: &Path| {
        Command::new(env!("CARGO_BIN_EXE_chanval"))
            .args(["sign", "--schema"])
            .arg(repo("examples/incident/schema.toml"))
            .arg("--key")
            .arg(repo("cli/tests/inputs/test-release.key"))
            .arg(path)
            .output()
            .unwrap()
            .status
            .code()
            .unwrap()
    };
    assert_eq!(sign(&file), 0);
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        fs::read(&file).unwrap().len()
            > fs::read(repo("examples/incident/channel-291-v3.cvc"))
                .unwrap()
                .len()
    );
    // Content the gate rejects: exit 1, and the file is exactly as it was.
    let v2 = dir.join("v2.cvc");
    fs::copy(repo("examples/incident/channel-291-v2.cvc"), &v2).unwrap();
    assert_eq!(sign(&v2), 1);
    assert_eq!(
        fs::read(&v2).unwrap(),
        fs::read(repo("examples/incident/channel-291-v2.cvc")).unwrap()
    );
    assert_eq!(listing(&dir), ["v2.cvc", "v3.cvc"]);
    fs::remove_dir_all(&dir).unwrap();
}
