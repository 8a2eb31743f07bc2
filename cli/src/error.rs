//! One-line user-facing errors.

use std::fmt;
use std::path::Path;

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
            Error::Io { offset, len, source } => format!(
                "{shown}: read error at bytes {}..{}: {source}",
                abs(*offset),
                abs(offset.saturating_add(*len as u64))
            ),
            Error::Incompatible(what) => format!("{shown}: {what}"),
            Error::Write(source) if source.kind() == std::io::ErrorKind::BrokenPipe => String::new(),
            Error::Write(source) => format!("write error: {source}"),
            other => format!("{shown}: {other}"),
        })
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
            offset: 100,
            len: 512,
            source: std::io::Error::from_raw_os_error(5),
        };
        let msg = CliError::from_format(Path::new("/dev/sdz"), 1_048_576, &e).0;
        assert!(
            msg.starts_with("/dev/sdz: read error at bytes 1048676..1049188: Input/output error"),
            "{msg}"
        );
    }
}
