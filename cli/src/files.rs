//! Reading inputs and writing outputs: every failure names the file, and outputs are written
//! atomically (temporary file, fsync, rename), so a failed run never leaves a half-written file
//! or replaces a good one.

use std::fmt;
use std::fs;
use std::path::Path;

use chanval::{SchemaDoc, TomlError};

/// The command could not run (exit 2).
#[derive(Debug)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The most bytes read from a binary input: the largest channel file plus the largest
/// envelope (a trust root is far smaller).
pub const MAX_BINARY: u64 =
    chanval::Limits::DEFAULT.max_file_len as u64 + chanval::trust::MAX_ENVELOPE_LEN as u64;
/// The most bytes read from a text input (schema, source, key, plan).
pub const MAX_TEXT: u64 = 16 << 20;

/// Reads a binary input (a channel file, a trust root), at most [`MAX_BINARY`] bytes.
pub fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    read_capped(path, MAX_BINARY)
}

/// Reads `path` — a regular file, or `-` for standard input — refusing anything larger than
/// `cap` bytes. Only what fits the cap is read: `/dev/zero` or an endless pipe cannot grow
/// memory, and a FIFO or a device is refused before it is read (a FIFO is not even opened for
/// waiting).
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, Failure> {
    use std::io::Read;
    let shown = path.display();
    let too_large = || {
        Failure(format!(
            "`{shown}` is larger than the {cap}-byte limit for this input; refused"
        ))
    };
    let mut out = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(cap.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| Failure(format!("cannot read standard input: {e}")))?;
        return if out.len() as u64 > cap {
            Err(too_large())
        } else {
            Ok(out)
        };
    }
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Failure(format!("`{shown}` does not exist")),
        _ => Failure(format!("cannot read `{shown}`: {e}")),
    })?;
    if meta.is_dir() {
        return Err(Failure(format!("`{shown}` is a directory, not a file")));
    }
    if !meta.is_file() {
        return Err(Failure(format!(
            "`{shown}` is not a regular file (a device, FIFO or socket); give a file, or `-` for \
             standard input"
        )));
    }
    if meta.len() > cap {
        return Err(too_large());
    }
    let mut options = fs::OpenOptions::new();
    options.read(true);
    // Non-blocking: should the path have been swapped for a FIFO since, opening does not wait.
    #[cfg(target_os = "linux")]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, 0o4000);
    let file = options
        .open(path)
        .map_err(|e| Failure(format!("cannot read `{shown}`: {e}")))?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(Failure(format!("`{shown}` is not a regular file")));
    }
    file.take(cap.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| Failure(format!("cannot read `{shown}`: {e}")))?;
    if out.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(out)
}

/// Reads a text input; `role` ("schema", "source") names it in errors.
pub fn read_text(path: &Path, role: &str) -> Result<String, Failure> {
    let bytes = read_capped(path, MAX_TEXT)?;
    String::from_utf8(bytes).map_err(|e| {
        Failure(format!(
            "{role} `{}` is not UTF-8 text (invalid byte at offset {}); is it a channel file?",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// `path:line:column: message`.
pub fn located(path: &Path, e: &TomlError) -> String {
    format!("{}:{}:{}: {}", path.display(), e.line, e.column, e.message)
}

/// Content as every command reads it: a channel file's bytes, or a content source compiled in
/// memory (one rule decides which: `chanval::source::is_source`).
pub struct ContentIn {
    /// The channel file's bytes (a source's, encoded).
    pub bytes: Vec<u8>,
    /// The source and its text, when the content was one.
    pub source: Option<(chanval::source::Source, String)>,
}

/// Why content could not be read.
pub enum ContentError {
    /// The command cannot go on (exit 2).
    Failure(Failure),
    /// A source that does not build (CV0801): its error, at a line and column of its text.
    Source {
        error: chanval::TomlError,
        text: String,
    },
}

/// Reads the content `bytes` read from `path`: a channel file as it is, a source compiled
/// against `schema`. A source that does not build stops the command; `validate`, which judges
/// many files, reports it as a finding instead ([`read_content`]).
pub fn content_in(
    path: &Path,
    bytes: Vec<u8>,
    schema: &chanval::Schema<'_>,
) -> Result<ContentIn, Failure> {
    read_content(path, bytes, schema).map_err(|e| match e {
        ContentError::Failure(f) => f,
        ContentError::Source { error, .. } => Failure(format!("source {}", located(path, &error))),
    })
}

/// [`content_in`], telling a source that does not build from a failure to read.
pub fn read_content(
    path: &Path,
    bytes: Vec<u8>,
    schema: &chanval::Schema<'_>,
) -> Result<ContentIn, ContentError> {
    let named = (path.as_os_str() != "-").then_some(path);
    if !chanval::source::is_source(named, &bytes) {
        return Ok(ContentIn {
            bytes,
            source: None,
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        ContentError::Failure(Failure(format!(
            "`{}` is neither a channel file nor a UTF-8 content source",
            path.display()
        )))
    })?;
    let source = match chanval::source::build(&text, schema) {
        Ok(source) => source,
        Err(error) => return Err(ContentError::Source { error, text }),
    };
    let bytes = chanval::encode(&source.content)
        .map_err(|e| ContentError::Failure(Failure(format!("source `{}`: {e}", path.display()))))?;
    Ok(ContentIn {
        bytes,
        source: Some((source, text)),
    })
}

pub fn load_schema(path: &Path) -> Result<SchemaDoc, Failure> {
    let text = read_text(path, "schema")?;
    SchemaDoc::from_toml(&text).map_err(|e| Failure(format!("schema {}", located(path, &e))))
}

/// Refuses to write `output` when it is one of `inputs` (the same file, by any path): a command
/// never overwrites what it reads, such as its source, its schema or a key.
pub fn ensure_distinct(output: &Path, inputs: &[(&Path, &str)]) -> Result<(), Failure> {
    let Ok(out) = fs::metadata(output) else {
        return Ok(()); // a new file cannot be an input
    };
    for (input, role) in inputs {
        let Ok(meta) = fs::metadata(input) else {
            continue;
        };
        #[cfg(unix)]
        let same = {
            use std::os::unix::fs::MetadataExt;
            meta.dev() == out.dev() && meta.ino() == out.ino()
        };
        #[cfg(not(unix))]
        let same = fs::canonicalize(input).ok() == fs::canonicalize(output).ok();
        if same {
            return Err(Failure(format!(
                "refusing to write `{}`: it is {role} (`{}`), an input of this command",
                output.display(),
                input.display()
            )));
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically. A file that is replaced keeps its permission bits; a
/// new one gets 0644.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    #[cfg(unix)]
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777)
    };
    #[cfg(not(unix))]
    let mode = 0o644;
    write_atomically_mode(path, bytes, mode)
}

/// [`write_atomically`] with the file's permission bits (on Unix) set when it is created, so a
/// secret is never readable by others, not even for a moment. The write itself is the
/// library's, the store's own (`chanval::store::write_atomically`).
pub fn write_atomically_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Failure> {
    if path.is_dir() {
        return Err(Failure(format!(
            "cannot write `{}`: it is a directory",
            path.display()
        )));
    }
    chanval::store::write_atomically(path, bytes, mode)
        .map_err(|e| Failure(format!("cannot write `{}`: {e}", path.display())))
}

/// Where in `text` a TOML error is, as `line:column` (1-based; the start of the text when the
/// error has no place).
pub fn toml_place(text: &str, e: &toml::de::Error) -> String {
    let at = e.span().map_or(0, |s| s.start);
    let before = text.get(..at).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{line}:{column}")
}
