//! `chanval fmt`: content sources in their canonical layout (`chanval::source::fmt`), written in
//! place, or with `--check` only reported, as `cargo fmt --check` and `yr fmt --check` do in CI.

use std::path::PathBuf;
use std::process::ExitCode;

use super::Outcome;
use crate::files::{Failure, read, write_atomically};
use crate::settings::{note, say, tell};

/// Format content sources: one layout for every source, so reviews show changes of meaning.
/// Exit 0 when every file is formatted (or, with --check, already was), 1 when --check found a
/// file that is not or a file is not TOML, 2 when a file cannot be read or written.
#[derive(clap::Args)]
pub struct Args {
    /// The sources (TOML); `-` formats standard input to standard output. Default: the
    /// sources among chanval.toml's `content` patterns.
    files: Vec<PathBuf>,
    /// Write nothing: show how each file would change, and exit 1 if any would.
    #[arg(long)]
    check: bool,
}

pub fn run(args: &Args) -> Outcome {
    let files = if args.files.is_empty() {
        let schema = crate::settings::schema_path(None).unwrap_or_default();
        crate::settings::content_files(&schema)?
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect()
    } else {
        args.files.clone()
    };
    let mut failed = false;
    let (mut changed, mut unchanged) = (0usize, 0usize);
    for path in &files {
        let bytes = read(path)?;
        let named = (path.as_os_str() != "-").then_some(path.as_path());
        // Any text is formatted as TOML (and refused with its line if it is not); a channel
        // file is refused by what it starts with.
        if !bytes.is_empty()
            && bytes.starts_with(&chanval::MAGIC[..bytes.len().min(chanval::MAGIC.len())])
        {
            return Err(Failure(format!(
                "`{}` is not a content source: `fmt` formats TOML sources, not channel files",
                path.display()
            )));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| Failure(format!("`{}` is not UTF-8 text", path.display())))?;
        let formatted = match chanval::source::fmt::format(&text) {
            Ok(f) => f,
            Err(e) => {
                // Not TOML: say where, and go on with the other files.
                tell!("chanval: error: {}", crate::files::located(path, &e));
                failed = true;
                continue;
            }
        };
        if named.is_none() {
            // Standard input: the formatted text is the output.
            crate::settings::text_to_stdout(&formatted);
            continue;
        }
        if formatted == text {
            unchanged += 1;
            continue;
        }
        changed += 1;
        if args.check {
            say!("Diff in {}:", path.display());
            for line in line_diff(&text, &formatted) {
                say!("{line}");
            }
        } else {
            write_atomically(path, formatted.as_bytes())?;
            note!("chanval: formatted {}", path.display());
        }
    }
    if args.check && changed > 0 {
        note!(
            "chanval: {changed} of {} file(s) not formatted; `chanval fmt` formats them",
            changed + unchanged
        );
    }
    Ok(if failed || (args.check && changed > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The lines `new` changes in `old`, as unified-diff hunks without context (`@@ -3,2 +3,1 @@`,
/// then `-` and `+` lines): a longest common subsequence of lines, for sources up to 4,000 lines
/// a side; past that one hunk from the first differing line to the last.
fn line_diff(old: &str, new: &str) -> Vec<String> {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    // The common head and tail need no table.
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a_mid, b_mid) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut ops: Vec<(char, usize, usize)> = Vec::new(); // (op, index in a, index in b)
    if a_mid.len() <= 4_000 && b_mid.len() <= 4_000 {
        // lcs[i][j]: the longest common subsequence of a_mid[i..] and b_mid[j..].
        let (n, m) = (a_mid.len(), b_mid.len());
        let mut lcs = vec![vec![0u16; m + 1]; n + 1];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i][j] = if a_mid[i] == b_mid[j] {
                    lcs[i + 1][j + 1] + 1
                } else {
                    lcs[i + 1][j].max(lcs[i][j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && a_mid[i] == b_mid[j] {
                ops.push(('=', i, j));
                i += 1;
                j += 1;
            } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
                ops.push(('+', i, j));
                j += 1;
            } else {
                ops.push(('-', i, j));
                i += 1;
            }
        }
    } else {
        ops.extend((0..a_mid.len()).map(|i| ('-', i, 0)));
        ops.extend((0..b_mid.len()).map(|j| ('+', a_mid.len(), j)));
    }
    let mut out = Vec::new();
    let mut k = 0;
    while k < ops.len() {
        if ops[k].0 == '=' {
            k += 1;
            continue;
        }
        let start = k;
        while k < ops.len() && ops[k].0 != '=' {
            k += 1;
        }
        let hunk = &ops[start..k];
        let removed: Vec<&(char, usize, usize)> = hunk.iter().filter(|o| o.0 == '-').collect();
        let added: Vec<&(char, usize, usize)> = hunk.iter().filter(|o| o.0 == '+').collect();
        let (a_at, b_at) = (head + hunk[0].1 + 1, head + hunk[0].2 + 1);
        out.push(format!(
            "@@ -{a_at},{} +{b_at},{} @@",
            removed.len(),
            added.len()
        ));
        out.extend(removed.iter().map(|o| format!("-{}", a_mid[o.1])));
        out.extend(added.iter().map(|o| format!("+{}", b_mid[o.2])));
    }
    out
}
