#!/bin/bash
# Builds every fuzz target into $OUT with its seed corpus, as OSS-Fuzz and ClusterFuzzLite
# expect ($SRC/chanval is the checkout). The base image sets the sanitizer flags; run locally,
# `cargo fuzz` defaults to AddressSanitizer:
#   SRC=$(mktemp -d); ln -s "$PWD" "$SRC/chanval"; SRC=$SRC OUT=$(mktemp -d) bash .clusterfuzzlite/build.sh
set -eu
cd "$SRC/chanval/fuzz"
cargo +nightly fuzz build -O --debug-assertions
targets=$(cargo +nightly fuzz list)
release_dir="target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"
for t in $targets; do
  cp "$release_dir/$t" "$OUT/$t"
  # Seed corpus: the committed, minimized inputs (named by content hash).
  python3 - "$SRC/chanval/corpus/$t" "$OUT/${t}_seed_corpus.zip" <<'PY'
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w") as z:
    for name in sorted(os.listdir(src)):
        z.write(os.path.join(src, name), name)
PY
done
echo "built: $targets"
