//! Files, directories, symlinks and attributes as a user sees them: path lookup, directory
//! listings, file contents (holes and unwritten extents read as zeros), symlink targets and
//! extended attributes. Built on the structure decoders; reads only.
//!
//! Every walk is bounded: path components and symlink hops are capped, directory and
//! attribute walks carry their own block caps and visited sets, and file contents are
//! streamed in bounded chunks whatever an inode claims.

use std::io::Write;

use serde::Serialize;

use crate::addr::{AgIno, AgNo};
use crate::attr::{self, Attr, AttrListing, AttrValue, FetchedBlock, ListOptions, Namespace};
use crate::bmap::{self, BmbtRec, Fork, ForkData, ForkFormat, Mapping, WhichFork};
use crate::btree::{walk_with, AgAddressing, WalkOptions};
use crate::btrees::InoBtree;
use crate::dir2::{self, DirEntry, DirExtent, DirFinding, DirFormat, EntriesOptions};
use crate::error::{CorruptKind, Error, Result};
use crate::fs::Filesystem;
use crate::inode::{Inode, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK};
use crate::source::ByteSource;
use crate::symlink::{self, SymlinkExtent};

/// Most symlinks followed in one lookup (as Linux's MAXSYMLINKS).
pub const MAX_SYMLINK_HOPS: usize = 40;
/// Most path components in one lookup, counting those symlinks add.
pub const MAX_COMPONENTS: usize = 4096;
/// Largest piece of file data read at once while streaming.
const CHUNK: u64 = 1 << 20;

/// Why a path could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// `path`: no such file or directory.
    #[error("{path}: no such file or directory")]
    NotFound {
        /// The path concerned.
        path: String,
    },
    /// `path`: not a directory.
    #[error("{path}: not a directory")]
    NotADirectory {
        /// The path concerned.
        path: String,
    },
    /// `path`: too many levels of symbolic links.
    #[error("{path}: too many levels of symbolic links")]
    TooManySymlinks {
        /// The path concerned.
        path: String,
    },
    /// `path`: path too long.
    #[error("{path}: path too long")]
    TooLong {
        /// The path concerned.
        path: String,
    },
    /// The filesystem could not be read.
    #[error(transparent)]
    Fs(#[from] Error),
}

/// A directory entry as listed, with `.` and `..` included for every format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The entry name.
    pub name: Vec<u8>,
    /// The inode number.
    pub ino: u64,
    /// The entry's file type byte (`XFS_DIR3_FT_*`) when the filesystem records it.
    pub ftype: Option<u8>,
}

/// A directory's entries and what was wrong with its blocks.
#[derive(Debug, Clone, Serialize)]
pub struct Directory {
    /// The directory's format.
    pub format: DirFormat,
    /// Its entries.
    pub entries: Vec<Entry>,
    /// What is wrong with its blocks.
    pub findings: Vec<DirFinding>,
}

/// One extended attribute with its value read.
#[derive(Debug, Clone, Serialize)]
pub struct Xattr {
    /// The namespace.
    pub namespace: Namespace,
    /// The name, without namespace prefix.
    pub name: Vec<u8>,
    /// The value.
    pub value: Vec<u8>,
    /// The on-disk entry is marked incomplete (the kernel would not show it).
    pub incomplete: bool,
}

/// The file type letter `ls -l` uses for a mode.
pub fn type_char(mode: u16) -> char {
    match mode & S_IFMT {
        S_IFDIR => 'd',
        S_IFLNK => 'l',
        S_IFCHR => 'c',
        S_IFBLK => 'b',
        S_IFIFO => 'p',
        S_IFSOCK => 's',
        S_IFREG => '-',
        _ => '?',
    }
}

/// The name xfs_db gives a directory entry's file type byte (`XFS_DIR3_FT_*`); `unknown` for
/// none, 0 and values past whiteout.
pub fn ftype_name(ftype: Option<u8>) -> &'static str {
    match ftype {
        Some(1) => "regular",
        Some(2) => "directory",
        Some(3) => "chardev",
        Some(4) => "blkdev",
        Some(5) => "fifo",
        Some(6) => "socket",
        Some(7) => "symlink",
        Some(8) => "whiteout",
        _ => "unknown",
    }
}

/// Device number of a device inode as (major, minor), decoded like the kernel's
/// `sysv_major`/`sysv_minor` (14 bits of major, 18 of minor).
pub fn dev_numbers(dev: u32) -> (u32, u32) {
    ((dev >> 18) & 0x3fff, dev & 0x3ffff)
}

impl<S: ByteSource> Filesystem<S> {
    /// The root directory's inode number.
    pub fn root_ino(&self) -> u64 {
        self.sb.raw.sb_rootino
    }

    /// Reads `nblocks` logical blocks of a fork from `lblk` through its extent records,
    /// block by block (a directory block may span several extents). A hole is an error:
    /// metadata forks have none.
    pub fn read_logical(&self, recs: &[BmbtRec], lblk: u64, nblocks: u64) -> Result<Vec<u8>> {
        let bs = self.geo.block_size as usize;
        let mut out = Vec::with_capacity(bs.saturating_mul(nblocks.min(64) as usize));
        for i in 0..nblocks {
            let fileoff = lblk.saturating_add(i);
            let (fsb, _) = bmap::lookup(recs, fileoff).ok_or(Error::Corrupt {
                offset: 0,
                kind: CorruptKind::OutOfRange {
                    what: "unmapped logical block",
                    value: fileoff,
                },
            })?;
            out.extend_from_slice(&self.read_fsb(fsb, 1)?);
        }
        Ok(out)
    }

    /// Lists a directory: `.` and `..` first (synthesized for shortform directories, as
    /// xfs_db's `ls` shows them), then the entries in on-disk order.
    pub fn read_dir(&self, inode: &Inode) -> Result<Directory> {
        let dir_fork = ForkFormat::from_raw(inode.raw.di_format);
        if let ForkData::Local(bytes) = &inode.data_fork.data {
            let sf = dir2::parse_shortform(bytes, self.geo.has_ftype);
            let mut entries = vec![
                Entry {
                    name: b".".to_vec(),
                    ino: inode.ino,
                    ftype: None,
                },
                Entry {
                    name: b"..".to_vec(),
                    ino: sf.hdr.parent,
                    ftype: None,
                },
            ];
            entries.extend(sf.entries.iter().map(|e| Entry {
                name: e.name.clone(),
                ino: e.inumber,
                ftype: e.ftype,
            }));
            return Ok(Directory {
                format: DirFormat::Shortform,
                entries,
                findings: sf.findings,
            });
        }
        let recs = self.fork_records(inode, WhichFork::Data)?;
        let extents: Vec<DirExtent> = recs
            .iter()
            .map(|r| DirExtent {
                file_block: r.startoff,
                start_block: r.startblock,
                count: r.blockcount.into(),
            })
            .collect();
        let format = dir2::classify(&self.geo, dir_fork, &extents);
        let Some(dg) = dir2::DirGeo::new(&self.geo) else {
            return Ok(Directory {
                format: DirFormat::Invalid,
                entries: Vec::new(),
                findings: Vec::new(),
            });
        };
        // A directory cannot have more data blocks than the image has blocks.
        let max = usize::try_from(self.geo.data_blocks).unwrap_or(usize::MAX);
        let dblocks = dir2::data_dblocks(&self.geo, &extents, max);
        let per = u64::from(dg.fsbcount);
        let mut reader =
            |db: u32| -> Result<Vec<u8>> { self.read_logical(&recs, dg.db_to_fsb(db), per) };
        let listing = dir2::entries(
            &self.geo,
            &dblocks,
            &mut reader,
            EntriesOptions {
                owner: Some(inode.ino),
                ..EntriesOptions::default()
            },
        );
        Ok(Directory {
            format,
            entries: listing
                .entries
                .into_iter()
                .map(|e: DirEntry| Entry {
                    name: e.name,
                    ino: e.inumber,
                    ftype: e.ftype,
                })
                .collect(),
            findings: listing.findings,
        })
    }

    /// Finds `name` in directory `dir`.
    pub fn dir_lookup(&self, dir: &Inode, name: &[u8]) -> Result<Option<u64>> {
        Ok(self
            .read_dir(dir)?
            .entries
            .into_iter()
            .find(|e| e.name == name)
            .map(|e| e.ino))
    }

    /// Resolves `path` (absolute, or relative to the root) to an inode number. Symlinks met on
    /// the way are followed inside the image (absolute targets from the image's root); the
    /// last component is followed only when `follow_last` is set.
    pub fn lookup(&self, path: &str, follow_last: bool) -> Result<u64, LookupError> {
        let mut pending: Vec<Vec<u8>> = split(path.as_bytes());
        pending.reverse();
        let mut stack: Vec<u64> = vec![self.root_ino()];
        let mut hops = 0usize;
        let mut seen_components = 0usize;
        let mut walked = String::new();
        while let Some(comp) = pending.pop() {
            seen_components = seen_components.saturating_add(1);
            if seen_components > MAX_COMPONENTS {
                return Err(LookupError::TooLong { path: path.into() });
            }
            let cur = *stack.last().unwrap_or(&self.root_ino());
            if comp == b"." {
                continue;
            }
            if comp == b".." {
                if stack.len() > 1 {
                    stack.pop();
                }
                continue;
            }
            walked.push('/');
            walked.push_str(&String::from_utf8_lossy(&comp));
            let dir = self.read_inode(cur)?;
            if dir.mode() & S_IFMT != S_IFDIR {
                return Err(LookupError::NotADirectory {
                    path: walked.clone(),
                });
            }
            let ino = self
                .dir_lookup(&dir, &comp)?
                .ok_or_else(|| LookupError::NotFound {
                    path: walked.clone(),
                })?;
            let child = self.read_inode(ino)?;
            let is_last = pending.is_empty();
            if child.mode() & S_IFMT == S_IFLNK && (!is_last || follow_last) {
                hops = hops.saturating_add(1);
                if hops > MAX_SYMLINK_HOPS {
                    return Err(LookupError::TooManySymlinks { path: path.into() });
                }
                let target = self.read_link(&child)?;
                if target.first() == Some(&b'/') {
                    stack.truncate(1);
                }
                let mut parts = split(&target);
                parts.reverse();
                pending.extend(parts);
                continue;
            }
            stack.push(ino);
        }
        Ok(*stack.last().unwrap_or(&self.root_ino()))
    }

    /// The target of a symlink inode.
    pub fn read_link(&self, inode: &Inode) -> Result<Vec<u8>> {
        Ok(self.read_symlink(inode)?.target)
    }

    /// Decodes a symlink inode (inline or remote), with what was wrong with it.
    pub fn read_symlink(&self, inode: &Inode) -> Result<symlink::Symlink> {
        match &inode.data_fork.data {
            ForkData::Local(bytes) => Ok(symlink::decode_inline(bytes, inode.raw.di_size)),
            _ => {
                let recs = self.fork_records(inode, WhichFork::Data)?;
                let mut bufs = Vec::new();
                // A symlink has at most a few extents; decode_remote reports more.
                for r in recs
                    .iter()
                    .take(symlink::XFS_SYMLINK_MAPS.saturating_add(1))
                {
                    let bytes = self.read_fsb(r.startblock, r.blockcount.into())?;
                    let daddr = self.fsb_to_offset(r.startblock).map(|o| o >> 9);
                    bufs.push((bytes.into_owned(), daddr));
                }
                let exts: Vec<SymlinkExtent<'_>> = bufs
                    .iter()
                    .map(|(b, d)| SymlinkExtent {
                        bytes: b,
                        daddr: *d,
                    })
                    .collect();
                Ok(symlink::decode_remote(
                    &self.geo,
                    inode.ino,
                    inode.raw.di_size,
                    &exts,
                ))
            }
        }
    }

    /// Streams the first `di_size` bytes of a file's data to `w`: extents are read in
    /// chunks of at most 1 MiB, holes, unwritten extents and blocks past the last extent
    /// read as zeros. Returns the number of bytes written.
    pub fn copy_data(&self, inode: &Inode, w: &mut dyn Write) -> Result<u64> {
        self.copy_data_to(inode, &mut ZeroFill(w))
    }

    /// Streams the first `di_size` bytes of a file's data to `sink`, in order: the bytes of
    /// written extents as [`DataSink::data`] (in chunks of at most 1 MiB), holes, unwritten
    /// extents and the part past the last extent as [`DataSink::hole`] runs, so that a sparse
    /// file can be written sparse. Returns the number of bytes passed on (data and holes).
    pub fn copy_data_to(&self, inode: &Inode, sink: &mut dyn DataSink) -> Result<u64> {
        // di_size is signed on disk; a negative size is corruption, not a huge file.
        let size = checked_size(inode)?;
        if let ForkData::Local(bytes) = &inode.data_fork.data {
            let n = usize::try_from(size).unwrap_or(usize::MAX).min(bytes.len());
            let data = bytes.get(..n).unwrap_or_default();
            sink.data(data).map_err(Error::Write)?;
            return Ok(n as u64);
        }
        let recs = self.fork_records(inode, WhichFork::Data)?;
        let bs = u64::from(self.geo.block_size);
        let mut pos = 0u64; // bytes passed on
        for m in bmap::map_with_holes(&recs) {
            if pos >= size {
                break;
            }
            let (startoff, len, rec) = match m {
                Mapping::Hole { startoff, len } => (startoff, len, None),
                Mapping::Extent(r) => (r.startoff, u64::from(r.blockcount), Some(r)),
            };
            let start_byte = startoff.saturating_mul(bs);
            if start_byte > pos {
                // Overlapping records were skipped past; fill any gap.
                hole(sink, start_byte.min(size).saturating_sub(pos))?;
                pos = start_byte.min(size);
            }
            let end_byte = startoff.saturating_add(len).saturating_mul(bs).min(size);
            let mut cur = pos.max(start_byte);
            match rec {
                Some(r) if !r.unwritten => {
                    while cur < end_byte {
                        let n = (end_byte.saturating_sub(cur)).min(CHUNK);
                        let into = cur.saturating_sub(start_byte);
                        let blk_in = into.checked_div(bs).unwrap_or(0);
                        let skip = into.checked_rem(bs).unwrap_or(0);
                        let nblocks = skip.saturating_add(n).div_ceil(bs);
                        let buf = self.read_fsb(r.startblock.saturating_add(blk_in), nblocks)?;
                        let s = usize::try_from(skip).unwrap_or(0);
                        let e = s.saturating_add(usize::try_from(n).unwrap_or(0));
                        sink.data(buf.get(s..e).unwrap_or_default())
                            .map_err(Error::Write)?;
                        cur = cur.saturating_add(n);
                    }
                }
                _ if cur < end_byte => {
                    hole(sink, end_byte.saturating_sub(cur))?;
                }
                _ => {}
            }
            pos = pos.max(end_byte);
        }
        if pos < size {
            hole(sink, size.saturating_sub(pos))?;
            pos = size;
        }
        Ok(pos)
    }

    /// Bytes of a file's data that have blocks written behind them within `di_size`: written
    /// extents (unwritten ones and holes left out), or the inline data. What a sparse copy of
    /// the file allocates, give or take the destination's block rounding.
    pub fn data_allocated_bytes(&self, inode: &Inode) -> Result<u64> {
        let size = checked_size(inode)?;
        if let ForkData::Local(bytes) = &inode.data_fork.data {
            return Ok((bytes.len() as u64).min(size));
        }
        let bs = u64::from(self.geo.block_size);
        let size_blocks = size.div_ceil(bs.max(1));
        let recs = self.fork_records(inode, WhichFork::Data)?;
        let mut blocks = 0u64;
        for m in bmap::map_with_holes(&recs) {
            if let Mapping::Extent(r) = m {
                if r.unwritten || r.startoff >= size_blocks {
                    continue;
                }
                let end = r.end().min(size_blocks);
                blocks = blocks.saturating_add(end.saturating_sub(r.startoff));
            }
        }
        Ok(blocks.saturating_mul(bs))
    }

    /// Lists an inode's extended attributes with their values (remote values read).
    pub fn read_xattrs(&self, inode: &Inode) -> Result<(Vec<Xattr>, Vec<attr::Finding>)> {
        let Some(fork) = &inode.attr_fork else {
            return Ok((Vec::new(), Vec::new()));
        };
        let listing: AttrListing;
        let mut recs = Vec::new();
        match (&fork.format, &fork.data) {
            (ForkFormat::Local, ForkData::Local(bytes)) => {
                listing = attr::list_shortform(bytes);
            }
            (ForkFormat::Extents | ForkFormat::Btree, _) => {
                recs = self.fork_records(inode, WhichFork::Attr)?;
                if recs.is_empty() {
                    // An attribute fork with no blocks holds no attributes.
                    return Ok((Vec::new(), Vec::new()));
                }
                listing = attr::list_attrs(
                    &self.attr_reader(&recs),
                    &self.geo,
                    inode.ino,
                    ListOptions::default(),
                );
            }
            _ => return Ok((Vec::new(), Vec::new())),
        }
        let mut findings = listing.findings;
        let mut out = Vec::new();
        for a in listing.attrs {
            let Attr {
                namespace,
                flags,
                name,
                value,
            } = a;
            let value = match value {
                AttrValue::Local(v) => v,
                AttrValue::Remote { valueblk, valuelen } => {
                    let rv = attr::read_remote_value(
                        &self.attr_reader(&recs),
                        &self.geo,
                        inode.ino,
                        valueblk,
                        valuelen,
                    );
                    findings.extend(rv.findings);
                    rv.value
                }
            };
            out.push(Xattr {
                namespace,
                name,
                value,
                incomplete: flags & attr::XFS_ATTR_INCOMPLETE != 0,
            });
        }
        Ok((out, findings))
    }

    /// Every allocated inode number (in use, per the inode btrees of all AGs), ascending.
    /// AGs whose AGI cannot be read are skipped; the walk itself is bounded (see
    /// [`crate::btree::walk_with`]).
    pub fn allocated_inodes(&self) -> Vec<u64> {
        let mut out = Vec::new();
        for ag in 0..self.geo.ag_count {
            let (Ok(agi), Some(addr)) = (self.read_agi(ag), AgAddressing::new(&self.geo, ag))
            else {
                continue;
            };
            let kind = InoBtree::inobt(&self.geo);
            let opts = WalkOptions {
                root_level: agi
                    .raw
                    .agi_level
                    .checked_sub(1)
                    .and_then(|l| u16::try_from(l).ok()),
                ..WalkOptions::default()
            };
            let geo = &self.geo;
            walk_with(
                self.source(),
                &addr,
                &kind,
                agi.raw.agi_root.into(),
                opts,
                |r| {
                    for i in 0..64u32 {
                        let agino = AgIno(r.rec.ir_startino.saturating_add(i));
                        if r.rec.is_present(i) && !r.rec.is_free(i) {
                            out.extend(geo.ino_make(AgNo(ag), agino).map(|n| n.0));
                        }
                    }
                },
            );
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn attr_reader<'a>(&'a self, recs: &'a [BmbtRec]) -> AttrReader<'a, S> {
        AttrReader { fs: self, recs }
    }
}

/// Reads logical blocks of an attribute fork for the attr decoders.
struct AttrReader<'a, S> {
    fs: &'a Filesystem<S>,
    recs: &'a [BmbtRec],
}

impl<S: ByteSource> attr::AttrBlocks for AttrReader<'_, S> {
    fn read_block(&self, lblk: u32) -> std::result::Result<FetchedBlock<'_>, String> {
        let (fsb, _) = bmap::lookup(self.recs, lblk.into())
            .ok_or_else(|| format!("attribute fork block {lblk} is a hole"))?;
        let bytes = self.fs.read_fsb(fsb, 1).map_err(|e| e.to_string())?;
        Ok(FetchedBlock {
            bytes,
            daddr: self.fs.fsb_to_offset(fsb).map(|o| o >> 9),
        })
    }
}

fn split(path: &[u8]) -> Vec<Vec<u8>> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// Where [`Filesystem::copy_data_to`] puts a file's content: data, and runs of zeros that
/// have no written blocks behind them (holes, unwritten extents), which a sparse copy skips.
pub trait DataSink {
    /// The next bytes of the file.
    fn data(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    /// The next `len` bytes of the file are zeros with no written block behind them.
    fn hole(&mut self, len: u64) -> std::io::Result<()>;
}

/// A [`DataSink`] over a plain writer: holes are written as zeros.
pub struct ZeroFill<'a>(pub &'a mut dyn Write);

impl DataSink for ZeroFill<'_> {
    fn data(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.write_all(bytes)
    }

    fn hole(&mut self, mut len: u64) -> std::io::Result<()> {
        let buf = [0u8; 8192];
        while len > 0 {
            let k = len.min(buf.len() as u64);
            self.0
                .write_all(buf.get(..k as usize).unwrap_or_default())?;
            len = len.saturating_sub(k);
        }
        Ok(())
    }
}

fn hole(sink: &mut dyn DataSink, len: u64) -> Result<()> {
    if len == 0 {
        return Ok(());
    }
    sink.hole(len).map_err(Error::Write)
}

/// `di_size`, refused when negative on disk.
fn checked_size(inode: &Inode) -> Result<u64> {
    let size = inode.raw.di_size;
    if i64::try_from(size).is_err() {
        return Err(Error::Corrupt {
            offset: inode.offset,
            kind: CorruptKind::OutOfRange {
                what: "file size (negative di_size)",
                value: size,
            },
        });
    }
    Ok(size)
}

impl Inode {
    /// Every line `xfs_db -c 'inode N' -c print` prints for this inode: the core and fork
    /// fields of [`Inode::fields`], with the short-form directory and attribute contents
    /// rendered by their decoders in the places xfs_db prints them.
    pub fn print_lines(&self, has_ftype: bool) -> Vec<String> {
        let mut lines: Vec<String> = self
            .fields()
            .iter()
            .flat_map(|f| {
                f.render_xfs_db()
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        let first_attr = lines
            .iter()
            .position(|l| l.starts_with("a.") || l.starts_with("a = "))
            .unwrap_or(lines.len());
        if self.mode() & S_IFMT == S_IFDIR {
            if let ForkData::Local(bytes) = &self.data_fork.data {
                let sf = dir2::parse_shortform(bytes, has_ftype);
                let dir_lines = dir2::shortform_fields(&sf, self.crc_fs)
                    .iter()
                    .map(dir2::DbField::render)
                    .collect::<Vec<_>>();
                lines.splice(first_attr..first_attr, dir_lines);
            }
        }
        if let Some(Fork {
            data: ForkData::Local(bytes),
            ..
        }) = &self.attr_fork
        {
            if let Some(sf) = attr::decode_shortform(bytes) {
                lines.extend(sf.render_xfs_db().lines().map(str::to_string));
            }
        }
        lines
    }
}
