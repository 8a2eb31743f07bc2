//! Byte sources: where image bytes come from.
//!
//! One small trait in the spirit of object's `ReadRef`: a source hands out a byte range either
//! borrowed (a slice, a memory map) or owned (a `pread` from a file or device). Every read is
//! bounds-checked and a failing read names its byte range, so a disk with bad sectors yields a
//! typed [`Error::Io`] instead of a crash.

use std::borrow::Cow;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::error::{Error, Result};

/// Largest single read a decoder may ask for: XFS structures are at most a 64 KiB block (or a
/// directory block of 64 KiB, or a 256 KiB log buffer); a larger request is refused rather than
/// allocated, whatever a header claims.
pub const MAX_READ: usize = 16 << 20;

/// Random access to the bytes of an image.
pub trait ByteSource: Send + Sync {
    /// Size of the image in bytes.
    fn size(&self) -> u64;

    /// Reads exactly `len` bytes at `offset`. Fails with [`Error::Truncated`] when the range
    /// goes past [`ByteSource::size`] and with [`Error::Io`] when the medium fails.
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>>;
}

/// Checks a request against the size of a source and the read cap.
fn check_range(offset: u64, len: usize, size: u64) -> Result<()> {
    let end = offset.checked_add(len as u64);
    if len > MAX_READ || end.is_none_or(|end| end > size) {
        return Err(Error::Truncated { offset, len, size });
    }
    Ok(())
}

/// Bytes already in memory: a `Vec<u8>`, a `&[u8]` or a memory map.
#[derive(Debug, Clone)]
pub struct SliceSource<T>(pub T);

impl<T: AsRef<[u8]> + Send + Sync> ByteSource for SliceSource<T> {
    fn size(&self) -> u64 {
        self.0.as_ref().len() as u64
    }

    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        let bytes = self.0.as_ref();
        check_range(offset, len, bytes.len() as u64)?;
        // check_range proved offset + len <= bytes.len(), so both fit in usize.
        let start = usize::try_from(offset).map_err(|_| Error::Truncated {
            offset,
            len,
            size: bytes.len() as u64,
        })?;
        bytes
            .get(start..start.saturating_add(len))
            .map(Cow::Borrowed)
            .ok_or(Error::Truncated {
                offset,
                len,
                size: bytes.len() as u64,
            })
    }
}

/// Positioned reads, as `pread(2)` offers them. Implemented for [`File`]; tests implement it to
/// inject medium errors.
pub trait ReadAt: Send + Sync {
    /// Fills `buf` from byte `offset`, or fails.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()>;
}

impl ReadAt for File {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        FileExt::read_exact_at(self, buf, offset)
    }
}

/// A file or block device read with `pread`. Used for devices (where a memory map would turn
/// an EIO into SIGBUS) and whenever memory mapping is turned off. A failing read becomes
/// [`Error::Io`] naming the byte range.
#[derive(Debug)]
pub struct PreadSource<R> {
    reader: R,
    size: u64,
}

/// The usual [`PreadSource`]: a file or device opened read-only.
pub type FileSource = PreadSource<File>;

impl FileSource {
    /// Opens `path` read-only. Never writes, locks or mounts.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = File::open(path)?; // File::open is O_RDONLY.
        Self::from_file(file)
    }

    /// Wraps an already opened, readable file.
    pub fn from_file(mut file: File) -> std::io::Result<Self> {
        // metadata().len() is 0 for block devices; seeking to the end works for both.
        let size = file.seek(SeekFrom::End(0))?;
        Ok(PreadSource { reader: file, size })
    }
}

impl<R: ReadAt> PreadSource<R> {
    /// A source of `size` bytes read through `reader`.
    pub fn new(reader: R, size: u64) -> Self {
        PreadSource { reader, size }
    }
}

impl<R: ReadAt> ByteSource for PreadSource<R> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        check_range(offset, len, self.size)?;
        let mut buf = vec![0u8; len];
        self.reader
            .read_exact_at(&mut buf, offset)
            .map_err(|source| Error::Io {
                offset,
                len,
                source,
            })?;
        Ok(Cow::Owned(buf))
    }
}

/// A window of another source: an XFS that starts at `start` inside a larger image (a
/// partition, or `--offset`).
#[derive(Debug)]
pub struct Window<S> {
    inner: S,
    start: u64,
    size: u64,
}

impl<S: ByteSource> Window<S> {
    /// The bytes from `start` to the end of `inner`, or `len` bytes if given (clipped to the
    /// end of `inner`).
    pub fn new(inner: S, start: u64, len: Option<u64>) -> Self {
        let avail = inner.size().saturating_sub(start);
        let size = len.map_or(avail, |l| l.min(avail));
        Window { inner, start, size }
    }

    /// Where the window starts in the underlying source.
    pub fn start(&self) -> u64 {
        self.start
    }
}

impl<S: ByteSource> ByteSource for Window<S> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        check_range(offset, len, self.size)?;
        // In range of the window, so start + offset <= inner.size() and cannot overflow.
        let abs = self.start.saturating_add(offset);
        // A medium error keeps the position the medium failed at: absolute in the image or
        // device, so that it can be fed to dd or compared with the kernel's log. Truncation is
        // about the window (the filesystem area), so its positions are the window's.
        self.inner.read_at(abs, len).map_err(|e| match e {
            Error::Truncated { len, .. } => Error::Truncated {
                offset,
                len,
                size: self.size,
            },
            other => other,
        })
    }
}

/// Several windows of another source read as one: a logical volume whose segments lie in
/// different places of a disk (LVM2 linear segments). Piece `i` covers the bytes after those
/// of pieces `0..i`.
#[derive(Debug)]
pub struct Concat<S> {
    inner: S,
    /// (start in `inner`, length, first logical byte), in logical order.
    pieces: Vec<(u64, u64, u64)>,
    size: u64,
}

impl<S: ByteSource> Concat<S> {
    /// The concatenation of `pieces` (start in `inner`, length) in the order given. Fails with
    /// [`Error::Truncated`] naming the first piece that does not lie wholly inside `inner`, and
    /// when the total length overflows.
    pub fn new(inner: S, pieces: &[(u64, u64)]) -> Result<Self> {
        let mut out = Vec::with_capacity(pieces.len());
        let mut size = 0u64;
        for &(start, len) in pieces {
            let fits = start
                .checked_add(len)
                .is_some_and(|end| end <= inner.size());
            let next = size.checked_add(len);
            let (true, Some(next)) = (fits, next) else {
                return Err(Error::Truncated {
                    offset: start,
                    len: usize::try_from(len).unwrap_or(usize::MAX),
                    size: inner.size(),
                });
            };
            if len > 0 {
                out.push((start, len, size));
            }
            size = next;
        }
        Ok(Concat {
            inner,
            pieces: out,
            size,
        })
    }

    /// The pieces as (start in the inner source, length), in logical order.
    pub fn pieces(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.pieces.iter().map(|&(s, l, _)| (s, l))
    }

    /// Reads from the piece holding logical byte `offset`: at most `len` bytes, to the end of
    /// that piece.
    fn read_piece(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        let i = self
            .pieces
            .partition_point(|&(_, _, first)| first <= offset)
            .saturating_sub(1);
        let truncated = Error::Truncated {
            offset,
            len,
            size: self.size,
        };
        let Some(&(start, plen, first)) = self.pieces.get(i) else {
            return Err(truncated);
        };
        let into = offset.saturating_sub(first);
        let n = plen.saturating_sub(into).min(len as u64) as usize;
        if n == 0 {
            return Err(truncated);
        }
        self.inner
            .read_at(start.saturating_add(into), n)
            .map_err(|e| match e {
                Error::Io { len, source, .. } => Error::Io {
                    offset,
                    len,
                    source,
                },
                Error::Truncated { .. } => truncated,
                other => other,
            })
    }
}

impl<S: ByteSource> ByteSource for Concat<S> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        check_range(offset, len, self.size)?;
        if len == 0 {
            return Ok(Cow::Borrowed(&[]));
        }
        let first = self.read_piece(offset, len)?;
        if first.len() >= len {
            return Ok(first);
        }
        // The range crosses into the next pieces.
        let mut buf = Vec::with_capacity(len);
        buf.extend_from_slice(&first);
        drop(first);
        while buf.len() < len {
            let at = offset.saturating_add(buf.len() as u64);
            let part = self.read_piece(at, len.saturating_sub(buf.len()))?;
            buf.extend_from_slice(&part);
        }
        Ok(Cow::Owned(buf))
    }
}

impl<S: ByteSource + ?Sized> ByteSource for Box<S> {
    fn size(&self) -> u64 {
        (**self).size()
    }

    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        (**self).read_at(offset, len)
    }
}

impl<S: ByteSource + ?Sized> ByteSource for &S {
    fn size(&self) -> u64 {
        (**self).size()
    }

    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        (**self).read_at(offset, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_reads_are_bounds_checked() {
        let s = SliceSource(vec![1u8, 2, 3, 4]);
        assert_eq!(&*s.read_at(1, 2).unwrap(), &[2, 3]);
        assert!(matches!(s.read_at(3, 2), Err(Error::Truncated { .. })));
        assert!(matches!(
            s.read_at(u64::MAX, 2),
            Err(Error::Truncated { .. })
        ));
        assert!(s.read_at(4, 0).is_ok());
    }

    #[test]
    fn window_shifts_and_clips() {
        let w = Window::new(SliceSource(vec![0u8, 1, 2, 3, 4, 5]), 2, Some(3));
        assert_eq!(w.size(), 3);
        assert_eq!(&*w.read_at(0, 3).unwrap(), &[2, 3, 4]);
        assert!(w.read_at(1, 3).is_err());
        let past = Window::new(SliceSource(vec![0u8; 4]), 10, None);
        assert_eq!(past.size(), 0);
    }

    #[test]
    fn concat_joins_pieces_in_order() {
        let disk = SliceSource((0u8..100).collect::<Vec<_>>());
        let c = Concat::new(&disk, &[(50, 10), (0, 0), (10, 5), (90, 10)]).unwrap();
        assert_eq!(c.size(), 25);
        assert_eq!(&*c.read_at(0, 3).unwrap(), &[50, 51, 52]);
        assert!(matches!(c.read_at(2, 3).unwrap(), Cow::Borrowed(_)));
        assert_eq!(&*c.read_at(8, 4).unwrap(), &[58, 59, 10, 11]);
        assert_eq!(
            &*c.read_at(9, 12).unwrap(),
            &[59, 10, 11, 12, 13, 14, 90, 91, 92, 93, 94, 95]
        );
        assert_eq!(&*c.read_at(24, 1).unwrap(), &[99]);
        assert!(matches!(c.read_at(24, 2), Err(Error::Truncated { .. })));
        assert!(c.read_at(25, 0).is_ok());
        assert!(Concat::new(&disk, &[(95, 10)]).is_err());
        assert!(Concat::new(&disk, &[(u64::MAX, 2)]).is_err());
        let empty = Concat::new(&disk, &[]).unwrap();
        assert_eq!(empty.size(), 0);
        assert!(empty.read_at(0, 1).is_err());
    }

    #[test]
    fn concat_medium_errors_are_logical_offsets() {
        let disk = PreadSource::new(BadSectors, 1 << 20);
        let c = Concat::new(disk, &[(0, 1024), (8 * 512, 1024)]).unwrap();
        match c.read_at(1000, 100) {
            Err(Error::Io { offset, .. }) => assert_eq!(offset, 1024),
            other => panic!("expected an I/O error, got {other:?}"),
        }
    }

    /// A disk whose sectors 8..16 fail with EIO.
    struct BadSectors;

    impl ReadAt for BadSectors {
        fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
            let end = offset.saturating_add(buf.len() as u64);
            if offset < 16 * 512 && end > 8 * 512 {
                return Err(std::io::Error::from_raw_os_error(5));
            }
            buf.fill(0xaa);
            Ok(())
        }
    }

    #[test]
    fn medium_errors_name_the_byte_range() {
        let src = Window::new(PreadSource::new(BadSectors, 1 << 20), 1024, None);
        assert!(src.read_at(0, 512).is_ok());
        match src.read_at(3072, 2048) {
            Err(Error::Io {
                offset,
                len,
                source,
            }) => {
                // Reported where the medium failed: absolute, past the window's start.
                assert_eq!((offset, len), (1024 + 3072, 2048));
                assert_eq!(source.raw_os_error(), Some(5));
            }
            other => panic!("expected an I/O error, got {other:?}"),
        }
        let msg = src.read_at(7000, 100).unwrap_err().to_string();
        assert!(msg.contains("bytes 8024..8124"), "{msg}");
    }

    #[test]
    fn file_source_reads_and_reports_truncation() {
        let path = std::env::temp_dir().join(format!("xfs-format-src-{}", std::process::id()));
        std::fs::write(&path, [9u8, 8, 7]).unwrap();
        let f = FileSource::open(&path).unwrap();
        assert_eq!(f.size(), 3);
        assert_eq!(&*f.read_at(1, 2).unwrap(), &[8, 7]);
        assert!(matches!(
            f.read_at(2, 2),
            Err(Error::Truncated { size: 3, .. })
        ));
        std::fs::remove_file(&path).unwrap();
    }
}
