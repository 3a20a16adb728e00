//! include/chanval.h is what cbindgen makes of src/lib.rs: a stale header fails this test (and
//! so CI). After a deliberate API change: `CHANVAL_BLESS=1 cargo test -p chanval-ffi --test header`.

use std::path::Path;

#[test]
fn the_committed_header_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let path = dir.join("include/chanval.h");
    if std::env::var_os("CHANVAL_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/chanval.h is stale: regenerate it with CHANVAL_BLESS=1 (see this file)"
    );
}
