//! XFS directories (version 2 and, with CRCs, version 3): pure decoders over byte slices.
//!
//! A directory lives in its inode's data fork in one of these formats:
//!
//! * **shortform**: the entries are packed inside the inode ([`parse_shortform`]);
//! * **block**: one directory block at offset 0 holding data entries, a leaf (hash index)
//!   and a tail (magic `XD2B` / `XDB3`);
//! * **leaf**: data blocks (`XD2D` / `XDD3`) plus one leaf block (`leaf1`: `0xd2f1` /
//!   `0x3df1`) at [`XFS_DIR2_LEAF_OFFSET`], which also holds the best-free table;
//! * **node**: data blocks, a da-btree of node (`0xfebe` / `0x3ebe`) and leafn
//!   (`0xd2ff` / `0x3dff`) blocks in the leaf space, and free-index blocks
//!   (`XD2F` / `XDF3`) at [`XFS_DIR2_FREE_OFFSET`];
//! * any of the block formats with the fork itself in btree format.
//!
//! [`parse_dir_block`] decodes one directory block of `geo.dir_block_size` bytes, given its
//! logical directory block number, dispatching on its magic. Everything found wrong (a bad
//! magic, CRC, `blkno`, owner or uuid, an entry running off the block, a bad tag) is returned
//! as [`DirFinding`]s on the decoded value: decoding never fails and never panics, and every
//! loop is bounded by the block size.
//!
//! [`classify`] names a directory's format from its fork format and extents, and [`entries`]
//! lists the entries of a block, leaf or node directory by scanning its data blocks through a
//! [`DirBlockReader`]. The `render_xfs_db` methods print blocks the way
//! `xfs_db -c 'dblock N' -c print` (xfsprogs 6.1) prints them; [`shortform_fields`] gives the
//! lines `xfs_db -c 'inode N' -c print` prints for a shortform directory.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde::Serialize;

use crate::btree::{be_u16, be_u32, be_u64};
use crate::crc;
use crate::error::Result;
use crate::fields::{CrcState, Field, Null, Radix, Value};
use crate::sb::Geometry;

/// `XD2B`: single-block directory, v4.
pub const XFS_DIR2_BLOCK_MAGIC: u32 = 0x5844_3242;
/// `XD2D`: data block, v4.
pub const XFS_DIR2_DATA_MAGIC: u32 = 0x5844_3244;
/// `XD2F`: free-index block, v4.
pub const XFS_DIR2_FREE_MAGIC: u32 = 0x5844_3246;
/// `XDB3`: single-block directory, v5.
pub const XFS_DIR3_BLOCK_MAGIC: u32 = 0x5844_4233;
/// `XDD3`: data block, v5.
pub const XFS_DIR3_DATA_MAGIC: u32 = 0x5844_4433;
/// `XDF3`: free-index block, v5.
pub const XFS_DIR3_FREE_MAGIC: u32 = 0x5844_4633;
/// Single leaf block (leaf format), v4.
pub const XFS_DIR2_LEAF1_MAGIC: u16 = 0xd2f1;
/// Leaf block of a node directory, v4.
pub const XFS_DIR2_LEAFN_MAGIC: u16 = 0xd2ff;
/// Single leaf block, v5.
pub const XFS_DIR3_LEAF1_MAGIC: u16 = 0x3df1;
/// Leaf block of a node directory, v5.
pub const XFS_DIR3_LEAFN_MAGIC: u16 = 0x3dff;
/// da-btree node, v4.
pub const XFS_DA_NODE_MAGIC: u16 = 0xfebe;
/// da-btree node, v5.
pub const XFS_DA3_NODE_MAGIC: u16 = 0x3ebe;
/// Deepest da-btree a directory may have.
pub const XFS_DA_NODE_MAXDEPTH: u16 = 5;

/// `freetag` of an unused region in a data block.
pub const XFS_DIR2_DATA_FREE_TAG: u16 = 0xffff;
/// Data entries and unused regions are aligned to 8 bytes.
pub const XFS_DIR2_DATA_ALIGN: usize = 8;
/// Byte offset of the leaf space in the directory's address space (32 GiB).
pub const XFS_DIR2_LEAF_OFFSET: u64 = 1 << 35;
/// Byte offset of the free-index space (64 GiB).
pub const XFS_DIR2_FREE_OFFSET: u64 = 2 << 35;
/// Largest inode number a 4-byte shortform inode number holds.
pub const XFS_DIR2_MAX_SHORT_INUM: u64 = 0xffff_ffff;
/// File types in `ftype` bytes: 0 unknown .. 8 whiteout.
pub const XFS_DIR3_FT_MAX: u8 = 9;

/// Byte offset of the CRC in v5 data and free blocks (`struct xfs_dir3_blk_hdr`).
pub const XFS_DIR3_DATA_CRC_OFF: usize = 4;
/// Byte offset of the CRC in v5 leaf and node blocks (`struct xfs_da3_blkinfo`, after the
/// 12-byte v4 blkinfo).
pub const XFS_DA3_CRC_OFF: usize = 12;

/// Header sizes.
const DATA_HDR_V4: usize = 16;
const DATA_HDR_V5: usize = 64;
const LEAF_HDR_V4: usize = 16;
const LEAF_HDR_V5: usize = 64;
const NODE_HDR_V4: usize = 16;
const NODE_HDR_V5: usize = 64;
const FREE_HDR_V4: usize = 16;
const FREE_HDR_V5: usize = 64;

/// The directory name hash (`xfs_da_hashname`): four bytes at a time, each group xored
/// into the running hash rotated left by 28 bits, the tail likewise with 7 bits per byte.
pub fn da_hashname(name: &[u8]) -> u32 {
    let mut hash: u32 = 0;
    let mut chunks = name.chunks_exact(4);
    for c in &mut chunks {
        let v = c
            .iter()
            .fold(0u32, |acc, &b| acc.rotate_left(7) ^ u32::from(b));
        hash = v ^ hash.rotate_left(28);
    }
    let rest = chunks.remainder();
    if rest.is_empty() {
        return hash;
    }
    let v = rest
        .iter()
        .fold(0u32, |acc, &b| acc.rotate_left(7) ^ u32::from(b));
    // rest.len() is 1..=3.
    v ^ hash.rotate_left(7u32.saturating_mul(rest.len() as u32))
}

/// Size in the data block of an entry with a name of `namelen` bytes:
/// inumber (8), namelen (1), name, ftype (when enabled), tag (2), rounded up to 8.
pub fn data_entsize(namelen: u8, has_ftype: bool) -> usize {
    let raw = 11usize
        .saturating_add(usize::from(namelen))
        .saturating_add(usize::from(has_ftype));
    raw.saturating_add(7) & !7
}

/// The directory geometry derived from the filesystem geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DirGeo {
    /// Directory block size in bytes.
    pub blksize: u32,
    /// Filesystem blocks per directory block.
    pub fsbcount: u32,
    pub has_crc: bool,
    pub has_ftype: bool,
    /// First directory block of the leaf space.
    pub leaf_db: u32,
    /// First directory block of the free-index space.
    pub free_db: u32,
}

impl DirGeo {
    /// `None` when the directory block size is not a power-of-two multiple of the block size
    /// (a validated [`Geometry`] always has one).
    pub fn new(geo: &Geometry) -> Option<DirGeo> {
        let blksize = geo.dir_block_size;
        if !blksize.is_power_of_two() || blksize < geo.block_size || blksize < 512 {
            return None;
        }
        let fsbcount = blksize.checked_div(geo.block_size)?;
        Some(DirGeo {
            blksize,
            fsbcount,
            has_crc: geo.has_crc,
            has_ftype: geo.has_ftype,
            leaf_db: u32::try_from(XFS_DIR2_LEAF_OFFSET.checked_div(blksize.into())?).ok()?,
            free_db: u32::try_from(XFS_DIR2_FREE_OFFSET.checked_div(blksize.into())?).ok()?,
        })
    }

    /// Offset of the first data entry in a data or block-format block.
    pub fn data_entry_offset(&self) -> usize {
        if self.has_crc {
            DATA_HDR_V5
        } else {
            DATA_HDR_V4
        }
    }

    /// The leaf-entry `address` (dataptr, also the readdir cookie) of byte `off` of data
    /// block `db`: the directory byte offset divided by 8.
    pub fn dataptr(&self, db: u32, off: u16) -> u32 {
        let byte = u64::from(db)
            .saturating_mul(u64::from(self.blksize))
            .saturating_add(u64::from(off));
        // Truncation is what the format does (data space is 32 GiB = 2^32 * 8 bytes).
        (byte >> 3) as u32
    }

    /// Data block and byte offset a leaf `address` points to.
    pub fn dataptr_to_db_off(&self, addr: u32) -> (u32, u32) {
        let byte = u64::from(addr) << 3;
        let bs = u64::from(self.blksize);
        let db = byte.checked_div(bs).unwrap_or(0);
        let off = byte.checked_rem(bs).unwrap_or(0);
        (db as u32, off as u32)
    }

    /// First filesystem block (file offset) of directory block `db`.
    pub fn db_to_fsb(&self, db: u32) -> u64 {
        u64::from(db).saturating_mul(u64::from(self.fsbcount))
    }

    /// Directory block holding file block `fsb`.
    pub fn fsb_to_db(&self, fsb: u64) -> u64 {
        fsb.checked_div(u64::from(self.fsbcount)).unwrap_or(0)
    }
}

/// Something wrong in a directory structure. Positions (`at`) are byte offsets in the block
/// or fork being decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum DirFinding {
    #[error("{what}: needs {need} bytes at {at}, only {have} available")]
    Truncated {
        what: &'static str,
        at: usize,
        need: usize,
        have: usize,
    },
    #[error("block is {have} bytes, the directory block size is {expected}")]
    BlockSize { have: usize, expected: u32 },
    #[error("unknown directory block magic {magic32:#010x} / {magic16:#06x}")]
    UnknownMagic { magic32: u32, magic16: u16 },
    #[error("magic {found:#x} is a {found_version} magic on a v{fs_version} filesystem")]
    WrongVersionMagic {
        found: u32,
        found_version: u8,
        fs_version: u8,
    },
    #[error("magic {found:#x} not expected here ({expected})")]
    UnexpectedMagic { found: u32, expected: &'static str },
    #[error("bad CRC")]
    BadCrc,
    #[error("blkno {found}, expected {expected}")]
    BadBlkno { found: u64, expected: u64 },
    #[error("owner {found}, expected {expected}")]
    BadOwner { found: u64, expected: u64 },
    #[error("uuid does not match the filesystem")]
    BadUuid,
    #[error("entry at {at}: zero name length")]
    ZeroNameLen { at: usize },
    #[error("entry at {at}: name contains '/' or NUL")]
    BadName { at: usize },
    #[error("entry at {at}: {len} bytes run past the end of the area at {end}")]
    EntryOverrun { at: usize, len: usize, end: usize },
    #[error("entry at {at}: tag {found:#x} does not point back to it")]
    BadTag { at: usize, found: u16 },
    #[error("unused region at {at}: bad length {length:#x}")]
    BadFreeLength { at: usize, length: u16 },
    #[error("entry at {at}: file type {ftype} out of range")]
    BadFtype { at: usize, ftype: u8 },
    #[error("entry at {at}: inode number {inumber} is not valid")]
    BadInumber { at: usize, inumber: u64 },
    #[error("{what}: count {count}, at most {max} fit")]
    CountTooLarge {
        what: &'static str,
        count: u64,
        max: u64,
    },
    #[error("{what}: stale {stale} exceeds count {count}")]
    StaleTooLarge {
        what: &'static str,
        stale: u64,
        count: u64,
    },
    #[error("leaf entry {index}: hash {hash:#x} below the previous one")]
    HashOrder { index: usize, hash: u32 },
    #[error("node level {level} out of range 1..{max}", max = XFS_DA_NODE_MAXDEPTH)]
    BadLevel { level: u16 },
    #[error("free block: firstdb {found}, expected {expected}")]
    BadFirstDb { found: i64, expected: i64 },
    #[error("free block: nused {nused} exceeds nvalid {nvalid}")]
    BadNused { nused: i64, nvalid: i64 },
    #[error("shortform entry {index}: offset {offset:#x} not above the previous {prev:#x}")]
    OffsetOrder {
        index: usize,
        offset: u16,
        prev: u16,
    },
    #[error("shortform: i8count {i8count}, but {actual} entries need 8-byte inode numbers")]
    I8Count { i8count: u8, actual: usize },
    #[error("bestfree[{index}] ({offset:#x}, {length:#x}) does not describe an unused region")]
    BadBestFree {
        index: usize,
        offset: u16,
        length: u16,
    },
    #[error("directory block {dblock}: could not be read: {error}")]
    ReadFailed { dblock: u32, error: String },
    #[error("directory block {dblock} listed twice")]
    Revisited { dblock: u32 },
    #[error("block limit of {max} reached; remaining blocks not scanned")]
    BlockCap { max: usize },
    #[error("directory block {dblock}: {finding}")]
    InBlock {
        dblock: u32,
        #[source]
        finding: Box<DirFinding>,
    },
}

fn uuid_at(b: &[u8], at: usize) -> Option<[u8; 16]> {
    <[u8; 16]>::try_from(b.get(at..at.checked_add(16)?)?).ok()
}

/// Where a directory block came from, for the v5 self-describing checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct BlockCtx {
    /// Logical directory block number.
    pub dblock: u32,
    /// Disk address (512-byte sectors) the block was read from, for the `blkno` check.
    pub daddr: Option<u64>,
    /// Inode owning the directory, for the `owner` check.
    pub owner: Option<u64>,
}

/// Checks done on one block, as data. `None` when not applicable (v4, or no expectation
/// given in the [`BlockCtx`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DirChecks {
    /// The magic is one of this filesystem version's directory magics.
    pub magic_ok: bool,
    pub crc: CrcState,
    pub blkno_ok: Option<bool>,
    pub owner_ok: Option<bool>,
    pub uuid_ok: Option<bool>,
}

impl DirChecks {
    pub fn all_ok(&self) -> bool {
        self.magic_ok
            && self.crc != CrcState::Bad
            && self.blkno_ok != Some(false)
            && self.owner_ok != Some(false)
            && self.uuid_ok != Some(false)
    }
}

/// The v5 identification fields shared by every directory block header
/// (`struct xfs_dir3_blk_hdr` minus the magic, or the tail of `struct xfs_da3_blkinfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct V5Ident {
    /// Big-endian reading of the stored checksum, as xfs_db prints it.
    pub crc: u32,
    pub blkno: u64,
    pub lsn: u64,
    pub uuid: [u8; 16],
    pub owner: u64,
}

impl V5Ident {
    fn parse(b: &[u8], crc_at: usize, rest_at: usize) -> Option<V5Ident> {
        Some(V5Ident {
            crc: be_u32(b, crc_at)?,
            blkno: be_u64(b, rest_at)?,
            lsn: be_u64(b, rest_at.checked_add(8)?)?,
            uuid: uuid_at(b, rest_at.checked_add(16)?)?,
            owner: be_u64(b, rest_at.checked_add(32)?)?,
        })
    }

    fn fields(&self, state: CrcState) -> Vec<Field> {
        vec![
            Field {
                name: "crc",
                value: Value::Crc {
                    value: self.crc,
                    state,
                },
            },
            Field::nullable("bno", self.blkno, 64),
            Field::num("lsn", self.lsn, 64, Radix::Hex, Null::Plain),
            Field {
                name: "uuid",
                value: Value::Uuid(self.uuid),
            },
            Field::nullable("owner", self.owner, 64),
        ]
    }
}

/// Runs the v5 checks common to all blocks.
fn check_block(
    buf: &[u8],
    geo: &Geometry,
    ctx: &BlockCtx,
    magic_ok: bool,
    crc_off: usize,
    ident: Option<&V5Ident>,
    findings: &mut Vec<DirFinding>,
) -> DirChecks {
    let mut c = DirChecks {
        magic_ok,
        crc: CrcState::Unchecked,
        blkno_ok: None,
        owner_ok: None,
        uuid_ok: None,
    };
    if let Some(id) = ident {
        c.crc = crc::verify(buf, crc_off, true);
        if c.crc == CrcState::Bad {
            findings.push(DirFinding::BadCrc);
        }
        if let Some(d) = ctx.daddr {
            c.blkno_ok = Some(id.blkno == d);
            if id.blkno != d {
                findings.push(DirFinding::BadBlkno {
                    found: id.blkno,
                    expected: d,
                });
            }
        }
        if let Some(o) = ctx.owner {
            c.owner_ok = Some(id.owner == o);
            if id.owner != o {
                findings.push(DirFinding::BadOwner {
                    found: id.owner,
                    expected: o,
                });
            }
        }
        let u = id.uuid == geo.meta_uuid;
        c.uuid_ok = Some(u);
        if !u {
            findings.push(DirFinding::BadUuid);
        }
    }
    c
}

/// One line of `xfs_db print` output: the full field path (`bu[3].inumber`) and the field.
#[derive(Debug, Clone, PartialEq)]
pub struct DbField {
    pub path: String,
    pub field: Field,
}

impl DbField {
    fn new(prefix: &str, field: Field) -> DbField {
        DbField {
            path: format!("{prefix}{}", field.name),
            field,
        }
    }

    /// The line as xfs_db prints it, without the newline.
    pub fn render(&self) -> String {
        match &self.field.value {
            Value::Array {
                values,
                bits,
                radix,
                null,
                base,
            } => {
                let mut s = format!("{} = ", self.path);
                let count = values.len();
                for (i, v) in values.iter().enumerate() {
                    let text = Field::num("", *v, *bits, *radix, *null).render_value();
                    if text.is_empty() {
                        continue;
                    }
                    if count > 1 {
                        s.push_str(&format!("{}:", (*base as usize).saturating_add(i)));
                    }
                    s.push_str(&text);
                    if i.saturating_add(1) < count {
                        s.push(' ');
                    }
                }
                s
            }
            _ => format!("{} = {}", self.path, self.field.render_value()),
        }
    }
}

/// A numeric array field with xfs_db's `name[lo-hi]` / `name[lo]` path.
fn array_field(name: &'static str, values: Vec<u64>, bits: u32, null: Null) -> Option<DbField> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let path = if n == 1 {
        format!("{name}[0]")
    } else {
        format!("{name}[0-{}]", n.saturating_sub(1))
    };
    Some(DbField {
        path,
        field: Field {
            name,
            value: Value::Array {
                values,
                bits,
                radix: Radix::Hex,
                null,
                base: 0,
            },
        },
    })
}

/// Renders a list of [`DbField`]s, one line each.
pub fn render_db_fields(fields: &[DbField]) -> String {
    let mut out = String::new();
    for f in fields {
        out.push_str(&f.render());
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------------------
// Shortform
// ---------------------------------------------------------------------------------------

/// `struct xfs_dir2_sf_hdr`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SfHdr {
    pub count: u8,
    pub i8count: u8,
    pub parent: u64,
}

/// One shortform entry (`struct xfs_dir2_sf_entry` with its trailing ftype and inumber).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SfEntry {
    /// Byte position of the entry in the fork.
    pub pos: usize,
    pub namelen: u8,
    /// The offset the entry would have in a data block (keeps readdir cookies stable).
    pub offset: u16,
    pub name: Vec<u8>,
    pub ftype: Option<u8>,
    pub inumber: u64,
}

/// A decoded shortform directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shortform {
    pub hdr: SfHdr,
    pub has_ftype: bool,
    /// Entries decoded before the first one that did not fit.
    pub entries: Vec<SfEntry>,
    /// Bytes used by the header and the decoded entries.
    pub used: usize,
    pub findings: Vec<DirFinding>,
}

fn name_ok(name: &[u8]) -> bool {
    !name.iter().any(|&b| b == b'/' || b == 0)
}

/// Decodes a shortform directory from the bytes of its data fork (the inode literal area,
/// or its first `di_size` bytes). Never fails: a header that does not fit leaves an empty
/// directory and a [`DirFinding::Truncated`].
pub fn parse_shortform(fork: &[u8], has_ftype: bool) -> Shortform {
    let mut findings = Vec::new();
    let count = fork.first().copied().unwrap_or(0);
    let i8count = fork.get(1).copied().unwrap_or(0);
    let ino_len: usize = if i8count == 0 { 4 } else { 8 };
    let hdr_len = 2usize.saturating_add(ino_len);
    let read_ino = |at: usize| -> Option<u64> {
        if ino_len == 4 {
            be_u32(fork, at).map(u64::from)
        } else {
            be_u64(fork, at)
        }
    };
    let parent = read_ino(2);
    let mut sf = Shortform {
        hdr: SfHdr {
            count,
            i8count,
            parent: parent.unwrap_or(0),
        },
        has_ftype,
        entries: Vec::new(),
        used: 0,
        findings: Vec::new(),
    };
    if parent.is_none() {
        findings.push(DirFinding::Truncated {
            what: "shortform header",
            at: 0,
            need: hdr_len,
            have: fork.len(),
        });
        sf.findings = findings;
        return sf;
    }
    let mut pos = hdr_len;
    let mut prev_off: Option<u16> = None;
    let mut wide = usize::from(parent.is_some_and(|p| p > XFS_DIR2_MAX_SHORT_INUM));
    // count is a u8, so this loop runs at most 255 times.
    for index in 0..usize::from(count) {
        let Some(namelen) = fork.get(pos).copied() else {
            findings.push(DirFinding::Truncated {
                what: "shortform entry",
                at: pos,
                need: 3,
                have: fork.len().saturating_sub(pos),
            });
            break;
        };
        let entlen = 3usize
            .saturating_add(usize::from(namelen))
            .saturating_add(usize::from(has_ftype))
            .saturating_add(ino_len);
        let end = pos.saturating_add(entlen);
        if end > fork.len() {
            findings.push(DirFinding::Truncated {
                what: "shortform entry",
                at: pos,
                need: entlen,
                have: fork.len().saturating_sub(pos),
            });
            break;
        }
        let name_at = pos.saturating_add(3);
        let name_end = name_at.saturating_add(usize::from(namelen));
        let offset = be_u16(fork, pos.saturating_add(1)).unwrap_or(0);
        let name = fork.get(name_at..name_end).unwrap_or_default().to_vec();
        let ftype = if has_ftype {
            fork.get(name_end).copied()
        } else {
            None
        };
        let ino_at = name_end.saturating_add(usize::from(has_ftype));
        let inumber = read_ino(ino_at).unwrap_or(0);
        if namelen == 0 {
            findings.push(DirFinding::ZeroNameLen { at: pos });
        } else if !name_ok(&name) {
            findings.push(DirFinding::BadName { at: pos });
        }
        if let Some(ft) = ftype.filter(|&f| f >= XFS_DIR3_FT_MAX) {
            findings.push(DirFinding::BadFtype { at: pos, ftype: ft });
        }
        if inumber == 0 {
            findings.push(DirFinding::BadInumber { at: pos, inumber });
        }
        if inumber > XFS_DIR2_MAX_SHORT_INUM {
            wide = wide.saturating_add(1);
        }
        if let Some(p) = prev_off {
            if offset <= p {
                findings.push(DirFinding::OffsetOrder {
                    index,
                    offset,
                    prev: p,
                });
            }
        }
        prev_off = Some(offset);
        sf.entries.push(SfEntry {
            pos,
            namelen,
            offset,
            name,
            ftype,
            inumber,
        });
        pos = end;
    }
    // i8count counts the 8-byte inode numbers needed (parent included); with i8count == 0
    // none can be wide.
    if (i8count == 0) != (wide == 0) {
        findings.push(DirFinding::I8Count {
            i8count,
            actual: wide,
        });
    }
    sf.used = pos;
    sf.findings = findings;
    sf
}

/// The lines `xfs_db -c 'inode N' -c print` prints for a shortform directory fork:
/// `u3.sfdir3.hdr.count` and so on. The prefix is `u3` on v5 inodes and `u` on v4; the
/// structure is `sfdir3` when the filesystem has file types, else `sfdir2`.
pub fn shortform_fields(sf: &Shortform, v5_inode: bool) -> Vec<DbField> {
    let pfx = format!(
        "{}.{}.",
        if v5_inode { "u3" } else { "u" },
        if sf.has_ftype { "sfdir3" } else { "sfdir2" }
    );
    let ino = |name: &'static str, v: u64| {
        if sf.hdr.i8count == 0 {
            Field::dec(name, v, 32)
        } else {
            Field::dec(name, v, 64)
        }
    };
    let ino_name = if sf.hdr.i8count == 0 { "i4" } else { "i8" };
    let hp = format!("{pfx}hdr.");
    let mut out = vec![
        DbField::new(&hp, Field::dec("count", sf.hdr.count, 8)),
        DbField::new(&hp, Field::dec("i8count", sf.hdr.i8count, 8)),
        DbField::new(&format!("{hp}parent."), ino(ino_name, sf.hdr.parent)),
    ];
    for (i, e) in sf.entries.iter().enumerate() {
        let ep = format!("{pfx}list[{i}].");
        out.push(DbField::new(&ep, Field::dec("namelen", e.namelen, 8)));
        out.push(DbField::new(&ep, Field::hex("offset", e.offset, 16)));
        out.push(DbField::new(
            &ep,
            Field {
                name: "name",
                value: Value::Chars(e.name.clone()),
            },
        ));
        out.push(DbField::new(
            &format!("{ep}inumber."),
            ino(ino_name, e.inumber),
        ));
        if let Some(ft) = e.ftype {
            out.push(DbField::new(&ep, Field::dec("filetype", ft, 8)));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Data blocks (block and data formats)
// ---------------------------------------------------------------------------------------

/// `struct xfs_dir2_data_free`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct DataFree {
    pub offset: u16,
    pub length: u16,
}

/// A live entry (`struct xfs_dir2_data_entry`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataEntry {
    /// Byte offset in the block.
    pub pos: u16,
    pub inumber: u64,
    pub namelen: u8,
    pub name: Vec<u8>,
    pub ftype: Option<u8>,
    pub tag: u16,
}

/// An unused region (`struct xfs_dir2_data_unused`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataUnused {
    pub pos: u16,
    pub freetag: u16,
    pub length: u16,
    pub tag: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DataItem {
    Entry(DataEntry),
    Unused(DataUnused),
}

/// `struct xfs_dir2_leaf_entry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LeafEntry {
    pub hashval: u32,
    pub address: u32,
}

impl LeafEntry {
    fn parse(b: &[u8], at: usize) -> Option<LeafEntry> {
        Some(LeafEntry {
            hashval: be_u32(b, at)?,
            address: be_u32(b, at.checked_add(4)?)?,
        })
    }

    fn fields(&self) -> [Field; 2] {
        [
            Field::hex("hashval", self.hashval, 32),
            Field::hex("address", self.address, 32),
        ]
    }
}

/// `struct xfs_dir2_block_tail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BlockTail {
    pub count: u32,
    pub stale: u32,
}

/// A data block (`XD2D`/`XDD3`) or single-block directory (`XD2B`/`XDB3`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataBlock {
    pub dblock: u32,
    pub magic: u32,
    /// Block format (data, leaf and tail in one block).
    pub is_block: bool,
    /// v5 layout (by magic).
    pub v5: bool,
    pub ident: Option<V5Ident>,
    pub bestfree: [DataFree; 3],
    /// v5 `pad`.
    pub pad: u32,
    pub items: Vec<DataItem>,
    /// Block format: the hash index.
    pub leaf: Vec<LeafEntry>,
    pub tail: Option<BlockTail>,
    /// The filesystem has ftype bytes in entries.
    pub has_ftype: bool,
    pub checks: DirChecks,
    pub findings: Vec<DirFinding>,
    /// Raw bytes needed for xfs_db's rendering of unused regions (`filetype` of a v5 free
    /// region is the byte at its tag): (pos of unused region, byte).
    unused_ft: Vec<(u16, u8)>,
}

impl DataBlock {
    /// Live entries.
    pub fn entries(&self) -> impl Iterator<Item = &DataEntry> {
        self.items.iter().filter_map(|i| match i {
            DataItem::Entry(e) => Some(e),
            DataItem::Unused(_) => None,
        })
    }

    /// The fields in `xfs_db print` order (bhdr/bu/bleaf/btail or dhdr/du).
    pub fn fields(&self) -> Vec<DbField> {
        let (h, u) = if self.is_block {
            ("bhdr.", "bu")
        } else {
            ("dhdr.", "du")
        };
        let mut out = Vec::new();
        if let Some(id) = &self.ident {
            let hp = format!("{h}hdr.");
            out.push(DbField::new(&hp, Field::hex("magic", self.magic, 32)));
            for f in id.fields(self.checks.crc) {
                out.push(DbField::new(&hp, f));
            }
        } else {
            out.push(DbField::new(h, Field::hex("magic", self.magic, 32)));
        }
        for (i, bf) in self.bestfree.iter().enumerate() {
            let p = format!("{h}bestfree[{i}].");
            out.push(DbField::new(&p, Field::hex("offset", bf.offset, 16)));
            out.push(DbField::new(&p, Field::hex("length", bf.length, 16)));
        }
        for (i, item) in self.items.iter().enumerate() {
            let p = format!("{u}[{i}].");
            match item {
                DataItem::Entry(e) => {
                    out.push(DbField::new(&p, Field::nullable("inumber", e.inumber, 64)));
                    out.push(DbField::new(&p, Field::dec("namelen", e.namelen, 8)));
                    out.push(DbField::new(
                        &p,
                        Field {
                            name: "name",
                            value: Value::Chars(e.name.clone()),
                        },
                    ));
                    if self.v5 {
                        out.push(DbField::new(
                            &p,
                            Field::dec("filetype", e.ftype.unwrap_or(0), 8),
                        ));
                    }
                    out.push(DbField::new(&p, Field::hex("tag", e.tag, 16)));
                }
                DataItem::Unused(d) => {
                    out.push(DbField::new(&p, Field::hex("freetag", d.freetag, 16)));
                    out.push(DbField::new(&p, Field::hex("length", d.length, 16)));
                    if self.v5 {
                        let ft = self
                            .unused_ft
                            .iter()
                            .find(|(pos, _)| *pos == d.pos)
                            .map_or(0, |(_, b)| *b);
                        out.push(DbField::new(&p, Field::dec("filetype", ft, 8)));
                    }
                    out.push(DbField::new(&p, Field::hex("tag", d.tag, 16)));
                }
            }
        }
        for (i, l) in self.leaf.iter().enumerate() {
            let p = format!("bleaf[{i}].");
            for f in l.fields() {
                out.push(DbField::new(&p, f));
            }
        }
        if let Some(t) = &self.tail {
            out.push(DbField::new("btail.", Field::dec("count", t.count, 32)));
            out.push(DbField::new("btail.", Field::dec("stale", t.stale, 32)));
        }
        out
    }

    pub fn render_xfs_db(&self) -> String {
        render_db_fields(&self.fields())
    }
}

fn parse_data_block(buf: &[u8], geo: &Geometry, ctx: &BlockCtx, magic: u32) -> DataBlock {
    let v5 = matches!(magic, XFS_DIR3_BLOCK_MAGIC | XFS_DIR3_DATA_MAGIC);
    let is_block = matches!(magic, XFS_DIR2_BLOCK_MAGIC | XFS_DIR3_BLOCK_MAGIC);
    let has_ftype = geo.has_ftype;
    let mut findings = Vec::new();
    let hdr_len = if v5 { DATA_HDR_V5 } else { DATA_HDR_V4 };
    let ident = if v5 { V5Ident::parse(buf, 4, 8) } else { None };
    let bf_at = if v5 { 48usize } else { 4 };
    let mut bestfree = [DataFree::default(); 3];
    for (i, bf) in bestfree.iter_mut().enumerate() {
        let at = bf_at.saturating_add(i.saturating_mul(4));
        bf.offset = be_u16(buf, at).unwrap_or(0);
        bf.length = be_u16(buf, at.saturating_add(2)).unwrap_or(0);
    }
    let pad = if v5 { be_u32(buf, 60).unwrap_or(0) } else { 0 };
    let mut blk = DataBlock {
        dblock: ctx.dblock,
        magic,
        is_block,
        v5,
        ident: ident.clone(),
        bestfree,
        pad,
        items: Vec::new(),
        leaf: Vec::new(),
        tail: None,
        has_ftype,
        checks: DirChecks {
            magic_ok: false,
            crc: CrcState::Unchecked,
            blkno_ok: None,
            owner_ok: None,
            uuid_ok: None,
        },
        findings: Vec::new(),
        unused_ft: Vec::new(),
    };
    if buf.len() < hdr_len {
        findings.push(DirFinding::Truncated {
            what: "data block header",
            at: 0,
            need: hdr_len,
            have: buf.len(),
        });
        blk.findings = findings;
        return blk;
    }
    let end = buf.len();
    // Where the entries stop: the leaf of a block-format block, or the block's end.
    let mut data_end = end;
    if is_block {
        let tail_at = end.saturating_sub(8);
        let tail = BlockTail {
            count: be_u32(buf, tail_at).unwrap_or(0),
            stale: be_u32(buf, tail_at.saturating_add(4)).unwrap_or(0),
        };
        blk.tail = Some(tail);
        let room = tail_at.saturating_sub(hdr_len) / 8;
        let n = usize::try_from(tail.count).unwrap_or(usize::MAX);
        let n = if n > room {
            findings.push(DirFinding::CountTooLarge {
                what: "block leaf",
                count: tail.count.into(),
                max: room as u64,
            });
            0
        } else {
            n
        };
        if tail.stale > tail.count {
            findings.push(DirFinding::StaleTooLarge {
                what: "block tail",
                stale: tail.stale.into(),
                count: tail.count.into(),
            });
        }
        // n <= room, so n * 8 <= tail_at - hdr_len.
        let leaf_at = tail_at.saturating_sub(n.saturating_mul(8));
        data_end = leaf_at;
        blk.leaf = leaf_entries(buf, leaf_at, n, &mut findings);
    }
    parse_data_items(buf, hdr_len, data_end, has_ftype, &mut blk, &mut findings);
    check_bestfree(&blk, &mut findings);
    blk.findings = findings;
    blk
}

fn leaf_entries(buf: &[u8], at: usize, n: usize, findings: &mut Vec<DirFinding>) -> Vec<LeafEntry> {
    let mut out = Vec::with_capacity(n.min(buf.len() / 8));
    let mut prev = 0u32;
    for i in 0..n {
        let Some(e) = LeafEntry::parse(buf, at.saturating_add(i.saturating_mul(8))) else {
            break;
        };
        if e.hashval < prev {
            findings.push(DirFinding::HashOrder {
                index: i,
                hash: e.hashval,
            });
        }
        prev = e.hashval;
        out.push(e);
    }
    out
}

fn parse_data_items(
    buf: &[u8],
    start: usize,
    data_end: usize,
    has_ftype: bool,
    blk: &mut DataBlock,
    findings: &mut Vec<DirFinding>,
) {
    let mut pos = start;
    // Every item is at least 8 bytes, so this bounds the loop even if a bug slipped in.
    let max_items = (buf.len() / XFS_DIR2_DATA_ALIGN).saturating_add(1);
    for _ in 0..max_items {
        if pos >= data_end {
            break;
        }
        let Ok(pos16) = u16::try_from(pos) else {
            break;
        };
        let Some(freetag) = be_u16(buf, pos) else {
            findings.push(DirFinding::Truncated {
                what: "data entry",
                at: pos,
                need: 2,
                have: data_end.saturating_sub(pos),
            });
            break;
        };
        if freetag == XFS_DIR2_DATA_FREE_TAG {
            let length = be_u16(buf, pos.saturating_add(2)).unwrap_or(0);
            let len = usize::from(length);
            if len < XFS_DIR2_DATA_ALIGN
                || len % XFS_DIR2_DATA_ALIGN != 0
                || pos.saturating_add(len) > data_end
            {
                findings.push(DirFinding::BadFreeLength { at: pos, length });
                break;
            }
            let tag_at = pos.saturating_add(len).saturating_sub(2);
            let tag = be_u16(buf, tag_at).unwrap_or(0);
            if usize::from(tag) != pos {
                findings.push(DirFinding::BadTag {
                    at: pos,
                    found: tag,
                });
            }
            blk.unused_ft
                .push((pos16, buf.get(tag_at).copied().unwrap_or(0)));
            blk.items.push(DataItem::Unused(DataUnused {
                pos: pos16,
                freetag,
                length,
                tag,
            }));
            pos = pos.saturating_add(len);
        } else {
            let (Some(inumber), Some(namelen)) =
                (be_u64(buf, pos), buf.get(pos.saturating_add(8)).copied())
            else {
                findings.push(DirFinding::Truncated {
                    what: "data entry",
                    at: pos,
                    need: 9,
                    have: data_end.saturating_sub(pos),
                });
                break;
            };
            if namelen == 0 {
                findings.push(DirFinding::ZeroNameLen { at: pos });
                break;
            }
            let len = data_entsize(namelen, has_ftype);
            if pos.saturating_add(len) > data_end {
                findings.push(DirFinding::EntryOverrun {
                    at: pos,
                    len,
                    end: data_end,
                });
                break;
            }
            let name_at = pos.saturating_add(9);
            let name_end = name_at.saturating_add(usize::from(namelen));
            let name = buf.get(name_at..name_end).unwrap_or_default().to_vec();
            if !name_ok(&name) {
                findings.push(DirFinding::BadName { at: pos });
            }
            let ftype = if has_ftype {
                buf.get(name_end).copied()
            } else {
                None
            };
            if let Some(ft) = ftype.filter(|&f| f >= XFS_DIR3_FT_MAX) {
                findings.push(DirFinding::BadFtype { at: pos, ftype: ft });
            }
            if inumber == 0 || inumber == u64::MAX {
                findings.push(DirFinding::BadInumber { at: pos, inumber });
            }
            let tag = be_u16(buf, pos.saturating_add(len).saturating_sub(2)).unwrap_or(0);
            if usize::from(tag) != pos {
                findings.push(DirFinding::BadTag {
                    at: pos,
                    found: tag,
                });
            }
            blk.items.push(DataItem::Entry(DataEntry {
                pos: pos16,
                inumber,
                namelen,
                name,
                ftype,
                tag,
            }));
            pos = pos.saturating_add(len);
        }
    }
}

/// bestfree entries must each be zero or describe an unused region of this block.
fn check_bestfree(blk: &DataBlock, findings: &mut Vec<DirFinding>) {
    for (index, bf) in blk.bestfree.iter().enumerate() {
        if bf.length == 0 {
            continue;
        }
        let ok = blk.items.iter().any(
            |i| matches!(i, DataItem::Unused(u) if u.pos == bf.offset && u.length == bf.length),
        );
        if !ok {
            findings.push(DirFinding::BadBestFree {
                index,
                offset: bf.offset,
                length: bf.length,
            });
        }
    }
}

// ---------------------------------------------------------------------------------------
// Leaf, node and free blocks
// ---------------------------------------------------------------------------------------

/// `struct xfs_da_blkinfo`, with the v5 part of `struct xfs_da3_blkinfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DaBlkinfo {
    pub forw: u32,
    pub back: u32,
    pub magic: u16,
    pub pad: u16,
    pub v5: Option<V5Ident>,
}

impl DaBlkinfo {
    fn parse(b: &[u8], v5: bool) -> Option<DaBlkinfo> {
        Some(DaBlkinfo {
            forw: be_u32(b, 0)?,
            back: be_u32(b, 4)?,
            magic: be_u16(b, 8)?,
            pad: be_u16(b, 10)?,
            v5: if v5 {
                Some(V5Ident::parse(b, 12, 16)?)
            } else {
                None
            },
        })
    }

    fn fields(&self, prefix: &str, crc: CrcState) -> Vec<DbField> {
        let hp = if self.v5.is_some() {
            format!("{prefix}hdr.")
        } else {
            prefix.to_string()
        };
        let mut out = vec![
            DbField::new(&hp, Field::dec("forw", self.forw, 32)),
            DbField::new(&hp, Field::dec("back", self.back, 32)),
            DbField::new(&hp, Field::hex("magic", self.magic, 16)),
        ];
        if let Some(id) = &self.v5 {
            for f in id.fields(crc) {
                out.push(DbField::new(prefix, f));
            }
        }
        out
    }
}

/// A leaf block: `leaf1` (leaf format, with bests and tail) or `leafn` (node format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeafBlock {
    pub dblock: u32,
    pub info: DaBlkinfo,
    pub is_leaf1: bool,
    pub count: u16,
    pub stale: u16,
    /// v5 `pad`.
    pub pad: u32,
    pub ents: Vec<LeafEntry>,
    /// leaf1: `struct xfs_dir2_leaf_tail`.
    pub bestcount: Option<u32>,
    /// leaf1: best free length per data block.
    pub bests: Vec<u16>,
    pub checks: DirChecks,
    pub findings: Vec<DirFinding>,
}

impl LeafBlock {
    pub fn fields(&self) -> Vec<DbField> {
        let mut out = self.info.fields("lhdr.info.", self.checks.crc);
        out.push(DbField::new("lhdr.", Field::dec("count", self.count, 16)));
        out.push(DbField::new("lhdr.", Field::dec("stale", self.stale, 16)));
        let bests = self.bests.iter().map(|&b| u64::from(b)).collect();
        out.extend(array_field("lbests", bests, 16, Null::Plain));
        for (i, l) in self.ents.iter().enumerate() {
            let p = format!("lents[{i}].");
            for f in l.fields() {
                out.push(DbField::new(&p, f));
            }
        }
        if let Some(bc) = self.bestcount {
            out.push(DbField::new("ltail.", Field::dec("bestcount", bc, 32)));
        }
        out
    }

    pub fn render_xfs_db(&self) -> String {
        render_db_fields(&self.fields())
    }
}

fn parse_leaf_block(buf: &[u8], ctx: &BlockCtx, magic: u16) -> LeafBlock {
    let v5 = matches!(magic, XFS_DIR3_LEAF1_MAGIC | XFS_DIR3_LEAFN_MAGIC);
    let is_leaf1 = matches!(magic, XFS_DIR2_LEAF1_MAGIC | XFS_DIR3_LEAF1_MAGIC);
    let hdr_len = if v5 { LEAF_HDR_V5 } else { LEAF_HDR_V4 };
    let cnt_at = if v5 { 56usize } else { 12 };
    let mut findings = Vec::new();
    let info = DaBlkinfo::parse(buf, v5).unwrap_or(DaBlkinfo {
        forw: 0,
        back: 0,
        magic,
        pad: 0,
        v5: None,
    });
    let mut blk = LeafBlock {
        dblock: ctx.dblock,
        info,
        is_leaf1,
        count: be_u16(buf, cnt_at).unwrap_or(0),
        stale: be_u16(buf, cnt_at.saturating_add(2)).unwrap_or(0),
        pad: if v5 { be_u32(buf, 60).unwrap_or(0) } else { 0 },
        ents: Vec::new(),
        bestcount: None,
        bests: Vec::new(),
        checks: empty_checks(),
        findings: Vec::new(),
    };
    if buf.len() < hdr_len {
        findings.push(DirFinding::Truncated {
            what: "leaf block header",
            at: 0,
            need: hdr_len,
            have: buf.len(),
        });
        blk.findings = findings;
        return blk;
    }
    let end = buf.len();
    let mut ents_end = end;
    if is_leaf1 {
        let tail_at = end.saturating_sub(4);
        let bc = be_u32(buf, tail_at).unwrap_or(0);
        blk.bestcount = Some(bc);
        let room = tail_at.saturating_sub(hdr_len) / 2;
        let n = usize::try_from(bc).unwrap_or(usize::MAX);
        if n > room {
            findings.push(DirFinding::CountTooLarge {
                what: "leaf bests",
                count: bc.into(),
                max: room as u64,
            });
        } else {
            let bests_at = tail_at.saturating_sub(n.saturating_mul(2));
            blk.bests = (0..n)
                .filter_map(|i| be_u16(buf, bests_at.saturating_add(i.saturating_mul(2))))
                .collect();
            ents_end = bests_at;
        }
        if n <= room {
            ents_end = ents_end.min(tail_at);
        } else {
            ents_end = tail_at;
        }
    }
    let room = ents_end.saturating_sub(hdr_len) / 8;
    let n = usize::from(blk.count);
    if n > room {
        findings.push(DirFinding::CountTooLarge {
            what: "leaf entries",
            count: n as u64,
            max: room as u64,
        });
    }
    if blk.stale > blk.count {
        findings.push(DirFinding::StaleTooLarge {
            what: "leaf header",
            stale: blk.stale.into(),
            count: blk.count.into(),
        });
    }
    blk.ents = leaf_entries(buf, hdr_len, n.min(room), &mut findings);
    blk.findings = findings;
    blk
}

/// `struct xfs_da_node_entry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NodeEntry {
    pub hashval: u32,
    /// Directory block (in the leaf space) holding hashes up to `hashval`.
    pub before: u32,
}

/// A da-btree node block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeBlock {
    pub dblock: u32,
    pub info: DaBlkinfo,
    pub count: u16,
    pub level: u16,
    /// v5 `__pad32`.
    pub pad: u32,
    pub btree: Vec<NodeEntry>,
    pub checks: DirChecks,
    pub findings: Vec<DirFinding>,
}

impl NodeBlock {
    /// Fields with one path per entry value (`nbtree[3].hashval`); xfs_db prints the array
    /// compactly instead, see [`NodeBlock::render_xfs_db`].
    pub fn fields(&self) -> Vec<DbField> {
        let mut out = self.hdr_fields();
        for (i, e) in self.btree.iter().enumerate() {
            let p = format!("nbtree[{i}].");
            out.push(DbField::new(&p, Field::hex("hashval", e.hashval, 32)));
            out.push(DbField::new(&p, Field::dec("before", e.before, 32)));
        }
        out
    }

    fn hdr_fields(&self) -> Vec<DbField> {
        let mut out = self.info.fields("nhdr.info.", self.checks.crc);
        out.push(DbField::new("nhdr.", Field::dec("count", self.count, 16)));
        out.push(DbField::new("nhdr.", Field::dec("level", self.level, 16)));
        out
    }

    pub fn render_xfs_db(&self) -> String {
        let mut s = render_db_fields(&self.hdr_fields());
        let n = self.btree.len();
        if n == 0 {
            return s;
        }
        if n == 1 {
            s.push_str("nbtree[0] = [hashval,before] ");
        } else {
            s.push_str(&format!(
                "nbtree[0-{}] = [hashval,before] ",
                n.saturating_sub(1)
            ));
        }
        for (i, e) in self.btree.iter().enumerate() {
            let h = Field::hex("", e.hashval, 32).render_value();
            s.push_str(&format!("\n{i}:[{h},{}]", e.before));
            if i.saturating_add(1) < n {
                s.push(' ');
            }
        }
        s.push('\n');
        s
    }
}

fn empty_checks() -> DirChecks {
    DirChecks {
        magic_ok: false,
        crc: CrcState::Unchecked,
        blkno_ok: None,
        owner_ok: None,
        uuid_ok: None,
    }
}

fn parse_node_block(buf: &[u8], ctx: &BlockCtx, magic: u16) -> NodeBlock {
    let v5 = magic == XFS_DA3_NODE_MAGIC;
    let hdr_len = if v5 { NODE_HDR_V5 } else { NODE_HDR_V4 };
    let cnt_at = if v5 { 56usize } else { 12 };
    let mut findings = Vec::new();
    let info = DaBlkinfo::parse(buf, v5).unwrap_or(DaBlkinfo {
        forw: 0,
        back: 0,
        magic,
        pad: 0,
        v5: None,
    });
    let mut blk = NodeBlock {
        dblock: ctx.dblock,
        info,
        count: be_u16(buf, cnt_at).unwrap_or(0),
        level: be_u16(buf, cnt_at.saturating_add(2)).unwrap_or(0),
        pad: if v5 { be_u32(buf, 60).unwrap_or(0) } else { 0 },
        btree: Vec::new(),
        checks: empty_checks(),
        findings: Vec::new(),
    };
    if buf.len() < hdr_len {
        findings.push(DirFinding::Truncated {
            what: "node block header",
            at: 0,
            need: hdr_len,
            have: buf.len(),
        });
        blk.findings = findings;
        return blk;
    }
    if blk.level == 0 || blk.level >= XFS_DA_NODE_MAXDEPTH {
        findings.push(DirFinding::BadLevel { level: blk.level });
    }
    let room = buf.len().saturating_sub(hdr_len) / 8;
    let n = usize::from(blk.count);
    if n > room {
        findings.push(DirFinding::CountTooLarge {
            what: "node entries",
            count: n as u64,
            max: room as u64,
        });
    }
    let mut prev = 0u32;
    for i in 0..n.min(room) {
        let at = hdr_len.saturating_add(i.saturating_mul(8));
        let (Some(hashval), Some(before)) = (be_u32(buf, at), be_u32(buf, at.saturating_add(4)))
        else {
            break;
        };
        if hashval < prev {
            findings.push(DirFinding::HashOrder {
                index: i,
                hash: hashval,
            });
        }
        prev = hashval;
        blk.btree.push(NodeEntry { hashval, before });
    }
    blk.findings = findings;
    blk
}

/// A free-index block of a node directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FreeBlock {
    pub dblock: u32,
    pub magic: u32,
    pub ident: Option<V5Ident>,
    /// First data block this block describes.
    pub firstdb: i32,
    pub nvalid: i32,
    pub nused: i32,
    /// v5 `pad`.
    pub pad: u32,
    /// Best free length per data block, `0xffff` for a hole.
    pub bests: Vec<u16>,
    pub checks: DirChecks,
    pub findings: Vec<DirFinding>,
}

impl FreeBlock {
    pub fn fields(&self) -> Vec<DbField> {
        let mut out = Vec::new();
        let hp = if let Some(id) = &self.ident {
            out.push(DbField::new(
                "fhdr.hdr.",
                Field::hex("magic", self.magic, 32),
            ));
            for f in id.fields(self.checks.crc) {
                out.push(DbField::new("fhdr.hdr.", f));
            }
            "fhdr."
        } else {
            out.push(DbField::new("fhdr.", Field::hex("magic", self.magic, 32)));
            "fhdr."
        };
        let signed =
            |name, v: i32| Field::num(name, u64::from(v as u32), 32, Radix::Signed, Null::Plain);
        out.push(DbField::new(hp, signed("firstdb", self.firstdb)));
        out.push(DbField::new(hp, signed("nvalid", self.nvalid)));
        out.push(DbField::new(hp, signed("nused", self.nused)));
        let bests = self.bests.iter().map(|&b| u64::from(b)).collect();
        out.extend(array_field("fbests", bests, 16, Null::SkipZero));
        out
    }

    pub fn render_xfs_db(&self) -> String {
        render_db_fields(&self.fields())
    }
}

fn parse_free_block(buf: &[u8], dgeo: Option<&DirGeo>, ctx: &BlockCtx, magic: u32) -> FreeBlock {
    let v5 = magic == XFS_DIR3_FREE_MAGIC;
    let hdr_len = if v5 { FREE_HDR_V5 } else { FREE_HDR_V4 };
    let f_at = if v5 { 48usize } else { 4 };
    let mut findings = Vec::new();
    let rd = |at: usize| be_u32(buf, at).map_or(0, |v| v as i32);
    let mut blk = FreeBlock {
        dblock: ctx.dblock,
        magic,
        ident: if v5 { V5Ident::parse(buf, 4, 8) } else { None },
        firstdb: rd(f_at),
        nvalid: rd(f_at.saturating_add(4)),
        nused: rd(f_at.saturating_add(8)),
        pad: if v5 { be_u32(buf, 60).unwrap_or(0) } else { 0 },
        bests: Vec::new(),
        checks: empty_checks(),
        findings: Vec::new(),
    };
    if buf.len() < hdr_len {
        findings.push(DirFinding::Truncated {
            what: "free block header",
            at: 0,
            need: hdr_len,
            have: buf.len(),
        });
        blk.findings = findings;
        return blk;
    }
    let room = buf.len().saturating_sub(hdr_len) / 2;
    let n = usize::try_from(blk.nvalid).unwrap_or(0);
    if blk.nvalid < 0 || n > room {
        findings.push(DirFinding::CountTooLarge {
            what: "free bests",
            count: u64::from(blk.nvalid as u32),
            max: room as u64,
        });
    }
    if blk.nused < 0 || blk.nused > blk.nvalid {
        findings.push(DirFinding::BadNused {
            nused: blk.nused.into(),
            nvalid: blk.nvalid.into(),
        });
    }
    if let Some(dg) = dgeo {
        if ctx.dblock >= dg.free_db {
            let expected =
                i64::from(ctx.dblock.saturating_sub(dg.free_db)).saturating_mul(room as i64);
            if i64::from(blk.firstdb) != expected {
                findings.push(DirFinding::BadFirstDb {
                    found: blk.firstdb.into(),
                    expected,
                });
            }
        }
    }
    blk.bests = (0..n.min(room))
        .filter_map(|i| be_u16(buf, hdr_len.saturating_add(i.saturating_mul(2))))
        .collect();
    blk.findings = findings;
    blk
}

// ---------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------

/// Any directory block, by magic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DirBlock {
    Data(DataBlock),
    Leaf(LeafBlock),
    Node(NodeBlock),
    Free(FreeBlock),
    /// No directory magic: nothing decoded.
    Unknown {
        dblock: u32,
        magic32: u32,
        magic16: u16,
        findings: Vec<DirFinding>,
    },
}

impl DirBlock {
    pub fn findings(&self) -> &[DirFinding] {
        match self {
            DirBlock::Data(b) => &b.findings,
            DirBlock::Leaf(b) => &b.findings,
            DirBlock::Node(b) => &b.findings,
            DirBlock::Free(b) => &b.findings,
            DirBlock::Unknown { findings, .. } => findings,
        }
    }

    pub fn checks(&self) -> Option<&DirChecks> {
        match self {
            DirBlock::Data(b) => Some(&b.checks),
            DirBlock::Leaf(b) => Some(&b.checks),
            DirBlock::Node(b) => Some(&b.checks),
            DirBlock::Free(b) => Some(&b.checks),
            DirBlock::Unknown { .. } => None,
        }
    }

    /// xfs_db's `print` of the block (empty for an unknown block).
    pub fn render_xfs_db(&self) -> String {
        match self {
            DirBlock::Data(b) => b.render_xfs_db(),
            DirBlock::Leaf(b) => b.render_xfs_db(),
            DirBlock::Node(b) => b.render_xfs_db(),
            DirBlock::Free(b) => b.render_xfs_db(),
            DirBlock::Unknown { .. } => String::new(),
        }
    }

    pub fn fields(&self) -> Vec<DbField> {
        match self {
            DirBlock::Data(b) => b.fields(),
            DirBlock::Leaf(b) => b.fields(),
            DirBlock::Node(b) => b.fields(),
            DirBlock::Free(b) => b.fields(),
            DirBlock::Unknown { .. } => Vec::new(),
        }
    }
}

/// Decodes one directory block (`geo.dir_block_size` bytes) by its magic and runs the
/// checks: magic against the filesystem version, and on v5 the CRC, uuid, and `blkno` and
/// `owner` when `ctx` gives them. Never fails and never panics.
pub fn parse_dir_block(buf: &[u8], geo: &Geometry, ctx: &BlockCtx) -> DirBlock {
    let dgeo = DirGeo::new(geo);
    let magic32 = be_u32(buf, 0).unwrap_or(0);
    let magic16 = be_u16(buf, 8).unwrap_or(0);
    let fs_v5 = geo.has_crc;
    let mut pre = Vec::new();
    if buf.len() != geo.dir_block_size as usize {
        pre.push(DirFinding::BlockSize {
            have: buf.len(),
            expected: geo.dir_block_size,
        });
    }
    let version_check = |found: u32, v5: bool, pre: &mut Vec<DirFinding>| -> bool {
        if v5 != fs_v5 {
            pre.push(DirFinding::WrongVersionMagic {
                found,
                found_version: if v5 { 5 } else { 4 },
                fs_version: if fs_v5 { 5 } else { 4 },
            });
            false
        } else {
            true
        }
    };
    let mut block = match magic32 {
        XFS_DIR2_BLOCK_MAGIC | XFS_DIR2_DATA_MAGIC | XFS_DIR3_BLOCK_MAGIC | XFS_DIR3_DATA_MAGIC => {
            let v5 = matches!(magic32, XFS_DIR3_BLOCK_MAGIC | XFS_DIR3_DATA_MAGIC);
            let ok = version_check(magic32, v5, &mut pre);
            let mut b = parse_data_block(buf, geo, ctx, magic32);
            b.checks = check_block(
                buf,
                geo,
                ctx,
                ok,
                XFS_DIR3_DATA_CRC_OFF,
                b.ident.as_ref(),
                &mut pre,
            );
            DirBlock::Data(b)
        }
        XFS_DIR2_FREE_MAGIC | XFS_DIR3_FREE_MAGIC => {
            let v5 = magic32 == XFS_DIR3_FREE_MAGIC;
            let ok = version_check(magic32, v5, &mut pre);
            let mut b = parse_free_block(buf, dgeo.as_ref(), ctx, magic32);
            b.checks = check_block(
                buf,
                geo,
                ctx,
                ok,
                XFS_DIR3_DATA_CRC_OFF,
                b.ident.as_ref(),
                &mut pre,
            );
            DirBlock::Free(b)
        }
        _ => match magic16 {
            XFS_DIR2_LEAF1_MAGIC | XFS_DIR2_LEAFN_MAGIC | XFS_DIR3_LEAF1_MAGIC
            | XFS_DIR3_LEAFN_MAGIC => {
                let v5 = matches!(magic16, XFS_DIR3_LEAF1_MAGIC | XFS_DIR3_LEAFN_MAGIC);
                let ok = version_check(magic16.into(), v5, &mut pre);
                let mut b = parse_leaf_block(buf, ctx, magic16);
                b.checks = check_block(
                    buf,
                    geo,
                    ctx,
                    ok,
                    XFS_DA3_CRC_OFF,
                    b.info.v5.as_ref(),
                    &mut pre,
                );
                DirBlock::Leaf(b)
            }
            XFS_DA_NODE_MAGIC | XFS_DA3_NODE_MAGIC => {
                let v5 = magic16 == XFS_DA3_NODE_MAGIC;
                let ok = version_check(magic16.into(), v5, &mut pre);
                let mut b = parse_node_block(buf, ctx, magic16);
                b.checks = check_block(
                    buf,
                    geo,
                    ctx,
                    ok,
                    XFS_DA3_CRC_OFF,
                    b.info.v5.as_ref(),
                    &mut pre,
                );
                DirBlock::Node(b)
            }
            _ => {
                pre.push(DirFinding::UnknownMagic { magic32, magic16 });
                DirBlock::Unknown {
                    dblock: ctx.dblock,
                    magic32,
                    magic16,
                    findings: Vec::new(),
                }
            }
        },
    };
    // Header-level findings first, then the structure's own.
    let list = match &mut block {
        DirBlock::Data(b) => &mut b.findings,
        DirBlock::Leaf(b) => &mut b.findings,
        DirBlock::Node(b) => &mut b.findings,
        DirBlock::Free(b) => &mut b.findings,
        DirBlock::Unknown { findings, .. } => findings,
    };
    pre.append(list);
    *list = pre;
    block
}

// ---------------------------------------------------------------------------------------
// Format classification
// ---------------------------------------------------------------------------------------

/// The data fork format (`di_format`) of a directory inode: the one fork-format type of
/// the crate.
pub use crate::bmap::ForkFormat;

/// One mapping of the directory's data fork, in filesystem blocks (as `bmap` lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DirExtent {
    /// File offset in filesystem blocks.
    pub file_block: u64,
    /// First filesystem block (`startblock`).
    pub start_block: u64,
    pub count: u64,
}

/// The format of a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DirFormat {
    Shortform,
    Block,
    Leaf,
    Node,
    /// The fork is a btree; the contents are a node directory in practice.
    Btree,
    /// The fork format is not one a directory can have, or the mapping fits no format
    /// (nothing mapped, data space beyond block 0 without a leaf, ...).
    Invalid,
}

/// Names a directory's format from its fork format and its extents (a pure function over
/// the mapping; the block magics are checked when the blocks are decoded). Like the
/// kernel: one directory block at offset 0 and nothing else is block format; a mapping
/// whose last directory block is the first one of the leaf space is leaf format; anything
/// else in the leaf or free space is node format.
pub fn classify(geo: &Geometry, fork: ForkFormat, extents: &[DirExtent]) -> DirFormat {
    match fork {
        ForkFormat::Local => return DirFormat::Shortform,
        ForkFormat::Btree => return DirFormat::Btree,
        ForkFormat::Extents => {}
        ForkFormat::Dev | ForkFormat::Uuid | ForkFormat::Unknown(_) => return DirFormat::Invalid,
    }
    let Some(dg) = DirGeo::new(geo) else {
        return DirFormat::Invalid;
    };
    let leaf_fsb = dg.db_to_fsb(dg.leaf_db);
    let mut data_blocks = 0u64;
    let mut beyond_zero = false;
    let mut leaf_space_blocks = 0u64;
    let mut last_end = 0u64;
    for e in extents {
        if e.count == 0 {
            continue;
        }
        let end = e.file_block.saturating_add(e.count);
        last_end = last_end.max(end);
        if e.file_block < leaf_fsb {
            let d_end = end.min(leaf_fsb);
            data_blocks = data_blocks.saturating_add(d_end.saturating_sub(e.file_block));
            if d_end > u64::from(dg.fsbcount) {
                beyond_zero = true;
            }
        }
        if end > leaf_fsb {
            leaf_space_blocks =
                leaf_space_blocks.saturating_add(end.saturating_sub(e.file_block.max(leaf_fsb)));
        }
    }
    if data_blocks == 0 {
        return DirFormat::Invalid;
    }
    if leaf_space_blocks == 0 {
        return if !beyond_zero && data_blocks == u64::from(dg.fsbcount) {
            DirFormat::Block
        } else {
            DirFormat::Invalid
        };
    }
    if last_end == leaf_fsb.saturating_add(u64::from(dg.fsbcount))
        && leaf_space_blocks == u64::from(dg.fsbcount)
    {
        DirFormat::Leaf
    } else {
        DirFormat::Node
    }
}

/// The directory blocks of the data space (below the leaf space) that `extents` map, in
/// order, at most `max` of them.
pub fn data_dblocks(geo: &Geometry, extents: &[DirExtent], max: usize) -> Vec<u32> {
    let Some(dg) = DirGeo::new(geo) else {
        return Vec::new();
    };
    let mut set = BTreeSet::new();
    for e in extents {
        let first = dg.fsb_to_db(e.file_block);
        let last = dg.fsb_to_db(e.file_block.saturating_add(e.count).saturating_sub(1));
        if e.count == 0 {
            continue;
        }
        let mut db = first;
        while db <= last && db < u64::from(dg.leaf_db) && set.len() < max {
            set.insert(db as u32);
            db = db.saturating_add(1);
        }
        if set.len() >= max {
            break;
        }
    }
    set.into_iter().collect()
}

// ---------------------------------------------------------------------------------------
// Entries
// ---------------------------------------------------------------------------------------

/// Reads logical directory blocks for [`entries`].
pub trait DirBlockReader {
    /// The `dir_block_size` bytes of directory block `dblock`.
    fn read_dir_block(&mut self, dblock: u32) -> Result<Cow<'_, [u8]>>;

    /// Disk address (512-byte sectors) of `dblock`, when known, for the v5 `blkno` check.
    fn daddr(&self, _dblock: u32) -> Option<u64> {
        None
    }
}

impl<F> DirBlockReader for F
where
    F: FnMut(u32) -> Result<Vec<u8>>,
{
    fn read_dir_block(&mut self, dblock: u32) -> Result<Cow<'_, [u8]>> {
        self(dblock).map(Cow::Owned)
    }
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirEntry {
    pub name: Vec<u8>,
    pub inumber: u64,
    /// File type byte, when the filesystem has them.
    pub ftype: Option<u8>,
    /// Data block holding the entry (0 for shortform).
    pub dblock: u32,
    /// Byte offset in the data block (for shortform, the stored offset).
    pub offset: u16,
    /// The dataptr (leaf `address`, readdir cookie): directory byte offset / 8.
    pub cookie: u32,
}

/// Result of [`entries`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DirListing {
    pub entries: Vec<DirEntry>,
    /// Data blocks scanned, with their checks.
    pub blocks: Vec<(u32, DirChecks)>,
    /// Findings, each wrapped with its block in [`DirFinding::InBlock`].
    pub findings: Vec<DirFinding>,
}

/// Limits of [`entries`].
#[derive(Debug, Clone, Copy)]
pub struct EntriesOptions {
    /// Most data blocks scanned.
    pub max_blocks: usize,
    /// Inode owning the directory, for the v5 owner check.
    pub owner: Option<u64>,
}

impl Default for EntriesOptions {
    fn default() -> Self {
        EntriesOptions {
            max_blocks: 1 << 20,
            owner: None,
        }
    }
}

/// Lists the entries of a block, leaf or node directory by decoding the data blocks
/// `dblocks` (from [`data_dblocks`]; blocks in the leaf space and repeats are skipped).
/// Unreadable blocks and blocks that are not data blocks are reported and skipped.
pub fn entries<R: DirBlockReader + ?Sized>(
    geo: &Geometry,
    dblocks: &[u32],
    reader: &mut R,
    opts: EntriesOptions,
) -> DirListing {
    let mut out = DirListing::default();
    let Some(dg) = DirGeo::new(geo) else {
        return out;
    };
    let mut seen = BTreeSet::new();
    for &db in dblocks {
        if db >= dg.leaf_db {
            continue;
        }
        if !seen.insert(db) {
            out.findings.push(DirFinding::Revisited { dblock: db });
            continue;
        }
        if seen.len() > opts.max_blocks {
            out.findings.push(DirFinding::BlockCap {
                max: opts.max_blocks,
            });
            break;
        }
        let ctx = BlockCtx {
            dblock: db,
            daddr: reader.daddr(db),
            owner: opts.owner,
        };
        let block = match reader.read_dir_block(db) {
            Ok(b) => parse_dir_block(&b, geo, &ctx),
            Err(e) => {
                out.findings.push(DirFinding::ReadFailed {
                    dblock: db,
                    error: e.to_string(),
                });
                continue;
            }
        };
        let wrap = |f: &DirFinding| DirFinding::InBlock {
            dblock: db,
            finding: Box::new(f.clone()),
        };
        out.findings.extend(block.findings().iter().map(wrap));
        match block {
            DirBlock::Data(b) => {
                if b.is_block && db != 0 {
                    out.findings.push(wrap(&DirFinding::UnexpectedMagic {
                        found: b.magic,
                        expected: "data block (block format only at block 0)",
                    }));
                }
                out.blocks.push((db, b.checks));
                for e in b.entries() {
                    out.entries.push(DirEntry {
                        name: e.name.clone(),
                        inumber: e.inumber,
                        ftype: e.ftype,
                        dblock: db,
                        offset: e.pos,
                        cookie: dg.dataptr(db, e.pos),
                    });
                }
            }
            other => {
                let found = match &other {
                    DirBlock::Leaf(b) => b.info.magic.into(),
                    DirBlock::Node(b) => b.info.magic.into(),
                    DirBlock::Free(b) => b.magic,
                    DirBlock::Unknown { magic32, .. } => *magic32,
                    DirBlock::Data(b) => b.magic,
                };
                if !matches!(other, DirBlock::Unknown { .. }) {
                    out.findings.push(wrap(&DirFinding::UnexpectedMagic {
                        found,
                        expected: "data block",
                    }));
                }
            }
        }
    }
    out
}

/// The entries of a shortform directory as [`DirEntry`]s (without `.` and `..`, which
/// shortform directories do not store).
pub fn shortform_entries(sf: &Shortform) -> Vec<DirEntry> {
    sf.entries
        .iter()
        .map(|e| DirEntry {
            name: e.name.clone(),
            inumber: e.inumber,
            ftype: e.ftype,
            dblock: 0,
            offset: e.offset,
            cookie: u32::from(e.offset >> 3),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_known_values() {
        assert_eq!(da_hashname(b"."), 0x2e);
        assert_eq!(da_hashname(b".."), 0x172e);
        // From xfs_db ls on a test image.
        assert_eq!(da_hashname(b"s"), 0x73);
        assert_eq!(da_hashname(b"ss"), 0x39f3);
        assert_eq!(da_hashname(b"sss"), 0x001c_f9f3);
        assert_eq!(da_hashname(b"blockentry_0"), 0xad85_a3f0);
        assert_eq!(da_hashname(b"blockentry_1x"), 0xc2d1_f8ae);
    }

    #[test]
    fn entsize() {
        assert_eq!(data_entsize(1, false), 16);
        assert_eq!(data_entsize(1, true), 16);
        assert_eq!(data_entsize(5, false), 16);
        assert_eq!(data_entsize(5, true), 24);
        assert_eq!(data_entsize(12, true), 24);
        assert_eq!(data_entsize(13, true), 32);
    }

    fn geo4() -> Geometry {
        Geometry {
            version: 4,
            has_crc: false,
            block_size: 4096,
            block_log: 12,
            sect_size: 512,
            sect_log: 9,
            inode_size: 256,
            inode_log: 8,
            inodes_per_block: 16,
            inopb_log: 4,
            ag_blocks: 4096,
            ag_blk_log: 12,
            ag_count: 4,
            data_blocks: 16384,
            dir_block_size: 4096,
            log_start: 0,
            log_blocks: 0,
            log_sect_size: 512,
            has_ftype: false,
            has_finobt: false,
            has_rmapbt: false,
            has_reflink: false,
            has_inobtcount: false,
            has_sparse_inodes: false,
            has_bigtime: false,
            has_nrext64: false,
            has_meta_uuid: false,
            has_projid32: false,
            has_attr2: false,
            has_lazysbcount: false,
            has_logv2: false,
            meta_uuid: [0; 16],
        }
    }

    /// A v4 data block: one entry "ab" at 16, then one unused region to the end.
    fn data_block() -> Vec<u8> {
        let mut b = vec![0u8; 4096];
        b[..4].copy_from_slice(&XFS_DIR2_DATA_MAGIC.to_be_bytes());
        b[4..6].copy_from_slice(&32u16.to_be_bytes());
        b[6..8].copy_from_slice(&(4096u16 - 32).to_be_bytes());
        b[16..24].copy_from_slice(&131u64.to_be_bytes());
        b[24] = 2;
        b[25..27].copy_from_slice(b"ab");
        b[30..32].copy_from_slice(&16u16.to_be_bytes());
        b[32..34].copy_from_slice(&0xffffu16.to_be_bytes());
        b[34..36].copy_from_slice(&(4096u16 - 32).to_be_bytes());
        b[4094..].copy_from_slice(&32u16.to_be_bytes());
        b
    }

    #[test]
    fn clean_data_block_decodes() {
        let blk = parse_dir_block(&data_block(), &geo4(), &BlockCtx::default());
        let DirBlock::Data(d) = blk else {
            panic!("not a data block")
        };
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        assert!(d.checks.all_ok());
        let e: Vec<_> = d.entries().collect();
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].name.as_slice(), e[0].inumber), (&b"ab"[..], 131));
        assert_eq!(d.items.len(), 2);
    }

    #[test]
    fn corrupt_lengths_and_tags_are_findings() {
        let geo = geo4();
        let mut b = data_block();
        b[30..32].copy_from_slice(&24u16.to_be_bytes()); // tag of the entry
        b[34..36].copy_from_slice(&0u16.to_be_bytes()); // zero free length
        let blk = parse_dir_block(&b, &geo, &BlockCtx::default());
        let f = blk.findings();
        assert!(
            f.contains(&DirFinding::BadTag { at: 16, found: 24 }),
            "{f:?}"
        );
        assert!(
            f.contains(&DirFinding::BadFreeLength { at: 32, length: 0 }),
            "{f:?}"
        );
        // An entry whose name runs off the block.
        let mut c = data_block();
        c[32..40].copy_from_slice(&7u64.to_be_bytes());
        c[40] = 255;
        c[34..36].copy_from_slice(&0u16.to_be_bytes());
        let mut short = c[..200].to_vec();
        short[0..4].copy_from_slice(&XFS_DIR2_DATA_MAGIC.to_be_bytes());
        let blk = parse_dir_block(&short, &geo, &BlockCtx::default());
        assert!(blk
            .findings()
            .iter()
            .any(|f| matches!(f, DirFinding::EntryOverrun { at: 32, .. })));
        // A v5 magic on a v4 filesystem.
        let mut d = data_block();
        d[..4].copy_from_slice(&XFS_DIR3_DATA_MAGIC.to_be_bytes());
        let blk = parse_dir_block(&d, &geo, &BlockCtx::default());
        assert!(!blk.checks().unwrap().magic_ok);
    }

    #[test]
    fn shortform_overrun_stops() {
        // count 3, i8count 0, parent 128, one entry "x" then truncated.
        let b = [3u8, 0, 0, 0, 0, 128, 1, 0, 0x30, b'x', 0, 0, 0, 200, 5];
        let sf = parse_shortform(&b, false);
        assert_eq!(sf.entries.len(), 1);
        assert_eq!(sf.entries[0].inumber, 200);
        assert!(matches!(
            sf.findings.first(),
            Some(DirFinding::Truncated { at: 14, .. })
        ));
    }

    #[test]
    fn classify_by_mapping() {
        let geo = geo4();
        let ext = |f, c| DirExtent {
            file_block: f,
            start_block: 100,
            count: c,
        };
        let leaf = XFS_DIR2_LEAF_OFFSET / 4096;
        let free = XFS_DIR2_FREE_OFFSET / 4096;
        assert_eq!(
            classify(&geo, ForkFormat::Extents, &[ext(0, 1)]),
            DirFormat::Block
        );
        assert_eq!(
            classify(&geo, ForkFormat::Extents, &[ext(0, 3), ext(leaf, 1)]),
            DirFormat::Leaf
        );
        assert_eq!(
            classify(
                &geo,
                ForkFormat::Extents,
                &[ext(0, 3), ext(leaf, 2), ext(free, 1)]
            ),
            DirFormat::Node
        );
        assert_eq!(classify(&geo, ForkFormat::Local, &[]), DirFormat::Shortform);
        assert_eq!(classify(&geo, ForkFormat::Extents, &[]), DirFormat::Invalid);
        assert_eq!(
            classify(&geo, ForkFormat::Extents, &[ext(0, 2)]),
            DirFormat::Invalid
        );
    }
}
