//! One-line user-facing errors.

use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use xfs_format::{CorruptKind, Error};

/// An error for the user: one line on stderr, exit status 2. An empty message marks a closed
/// output pipe (`xfs-inspect sb IMG | head`), which is not an error.
#[derive(Debug)]
pub struct CliError(pub String);

impl CliError {
    pub fn new(msg: impl Into<String>) -> Self {
        CliError(msg.into())
    }

    /// Explains a library error about the filesystem that starts at byte `base` of `image`
    /// (byte positions are made absolute, so they can be fed to dd).
    pub fn from_format(image: &Path, base: u64, e: &Error) -> Self {
        let shown = image.display();
        let abs = |o: u64| base.saturating_add(o);
        CliError(match e {
            Error::Corrupt {
                offset,
                kind: CorruptKind::BadMagic { what: "superblock", found, .. },
            } => format!(
                "{shown}: no XFS superblock at byte {}: magic {found:#010x}",
                abs(*offset)
            ),
            Error::Corrupt { offset, kind } => {
                format!("{shown}: corrupt {kind} (byte {})", abs(*offset))
            }
            Error::Truncated { offset, len, size } => format!(
                "{shown}: image truncated: needs bytes {}..{} but the filesystem area ends at byte {}",
                abs(*offset),
                abs(offset.saturating_add(*len as u64)),
                abs(*size)
            ),
            // Already absolute (xfs_format's windows keep where the medium failed).
            Error::Io { offset, len, source } => format!(
                "{shown}: read error at bytes {offset}..{}: {source}",
                offset.saturating_add(*len as u64)
            ),
            Error::Incompatible(what) => format!("{shown}: {what}"),
            Error::Write(source) if source.kind() == std::io::ErrorKind::BrokenPipe => String::new(),
            Error::Write(source) => format!("write error: {source}"),
            other => format!("{shown}: {other}"),
        })
    }
}

/// Set when a command printed a partial result (something could not be read): the exit
/// status is then 1.
static PARTIAL: AtomicBool = AtomicBool::new(false);

/// Marks the result of this run as partial (exit status 1).
pub fn mark_partial() {
    PARTIAL.store(true, Ordering::Relaxed);
}

/// The exit status of a command that ran to its end: 1 if its result is partial.
pub fn finished() -> std::process::ExitCode {
    std::process::ExitCode::from(u8::from(PARTIAL.load(Ordering::Relaxed)))
}

/// "PATH: FINDING" for a finding of a decoder (a sentence, never a Debug struct). A
/// finding about an unreadable block makes the result partial.
pub fn finding_line(path: &str, f: &dyn fmt::Display) -> String {
    let text = f.to_string();
    if text.contains("could not be read") || text.contains("read error") {
        mark_partial();
    }
    format!("{path}: {text}")
}

/// Prints [`finding_line`] as a warning on stderr.
pub fn warn_finding(path: &str, f: &dyn fmt::Display) {
    eprintln!("xfs-inspect: warning: {}", finding_line(path, f));
}

/// "PATH: inode INO could not be read: ..." (the result is partial).
pub fn inode_line(path: &str, ino: u64, e: &Error) -> String {
    mark_partial();
    format!("{path}: inode {ino} could not be read: {}", cause(e))
}

/// The cause of a library error, positions absolute for read errors.
fn cause(e: &Error) -> String {
    match e {
        Error::Io {
            offset,
            len,
            source,
        } => format!(
            "read error at bytes {offset}..{}: {source}",
            offset.saturating_add(*len as u64)
        ),
        other => other.to_string(),
    }
}

/// An error reading the data of file `path` (cat, extract): one line naming the path, the
/// structure (its data) and the byte range. `base`: where the filesystem starts.
pub fn data_err(image: &Path, path: &str, base: u64, e: &Error) -> CliError {
    match e {
        Error::Io { .. } => CliError(format!(
            "{}: {path}: file data could not be read: {}",
            image.display(),
            cause(e)
        )),
        other => CliError::from_format(image, base, other),
    }
}

/// An error reading inode `ino` (of `path`, if known).
pub fn inode_err(image: &Path, ino: u64, base: u64, e: &Error) -> CliError {
    match e {
        Error::Io { .. } => CliError(format!(
            "{}: inode {ino} could not be read: {}",
            image.display(),
            cause(e)
        )),
        other => CliError::from_format(image, base, other),
    }
}

/// An error looking up `path`: a read error names the path and, when known, what on the
/// way could not be read (`held`: "inode N of /a/b", "directory /a (inode N)").
pub fn lookup_io_err(
    image: &Path,
    path: &str,
    held: Option<&str>,
    base: u64,
    e: &Error,
) -> CliError {
    match (e, held) {
        (Error::Io { .. }, Some(h)) => CliError(format!(
            "{}: {path}: {h} could not be read: {}",
            image.display(),
            cause(e)
        )),
        (Error::Io { .. }, None) => CliError(format!(
            "{}: {path}: lookup stopped, a directory or inode on the way could not be read: {}",
            image.display(),
            cause(e)
        )),
        (other, _) => CliError::from_format(image, base, other),
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return CliError(String::new());
        }
        CliError(format!("output error: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_errors_name_absolute_byte_ranges() {
        let e = Error::Io {
            offset: 1_048_676,
            len: 512,
            source: std::io::Error::from_raw_os_error(5),
        };
        // Io offsets are absolute already: the base is not added again.
        let msg = CliError::from_format(Path::new("/dev/sdz"), 1_048_576, &e).0;
        assert!(
            msg.starts_with("/dev/sdz: read error at bytes 1048676..1049188: Input/output error"),
            "{msg}"
        );
    }
}
