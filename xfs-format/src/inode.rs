//! On-disk inodes (`struct xfs_dinode`, versions 1 to 3) and where to find them.
//!
//! [`Filesystem::read_inode`] locates an inode from its number through the geometry and
//! decodes it with [`Inode::parse`]. Decoding fails only when the number is outside the
//! filesystem or the bytes cannot be read; a wrong magic, version, CRC, inode number or uuid
//! is reported in [`InodeChecks`], so a damaged inode can still be shown.
//!
//! [`Inode::fields`] lists the fields the way `xfs_db -c 'inode N' -c print` prints them.
//! Lines it does not produce (fork *contents* that need a directory or attribute decoder) are
//! listed in [`UNRENDERED_FORK_PREFIXES`].

use std::io::Cursor;

use binrw::{BinRead, BinWrite, Endian};

use crate::bmap::{self, be16, be32, be64, BmbtRec, Fork, ForkFormat, WhichFork};
use crate::crc;
use crate::error::{CorruptKind, Error, Result};
use crate::fields::{CrcState, Field, Null, Radix, Value};
use crate::fs::Filesystem;
use crate::sb::Geometry;
use crate::source::ByteSource;

/// `IN`.
pub const XFS_DINODE_MAGIC: u16 = 0x494e;
/// Byte offset of `di_next_unlinked` (the field inode cluster buffers log on their own).
pub const XFS_DINODE_NEXT_UNLINKED_OFF: usize = 96;
/// Byte offset of `di_crc` (little-endian on disk).
pub const XFS_DINODE_CRC_OFF: usize = 100;
/// Size of the v1/v2 inode core (everything through `di_next_unlinked`).
pub const XFS_DINODE_V2_SIZE: usize = 100;
/// Size of the v3 inode core.
pub const XFS_DINODE_V3_SIZE: usize = 176;
/// Size of a logged v1/v2 inode core (`xfs_log_dinode` up to `di_next_unlinked`).
pub const XFS_LOG_DINODE_V2_SIZE: usize = 96;
/// `XFS_BIGTIME_EPOCH_OFFSET`: bigtime seconds count from 1901-12-13T20:45:52Z.
pub const XFS_BIGTIME_EPOCH_OFFSET: i64 = 1 << 31;

/// `di_flags2` bits.
pub const XFS_DIFLAG2_DAX: u64 = 1 << 0;
/// `XFS_DIFLAG2_REFLINK`: the file may share blocks.
pub const XFS_DIFLAG2_REFLINK: u64 = 1 << 1;
/// `XFS_DIFLAG2_COWEXTSIZE`: `di_cowextsize` is set.
pub const XFS_DIFLAG2_COWEXTSIZE: u64 = 1 << 2;
/// `XFS_DIFLAG2_BIGTIME`: timestamps are bigtime nanoseconds.
pub const XFS_DIFLAG2_BIGTIME: u64 = 1 << 3;
/// `XFS_DIFLAG2_NREXT64`: 64-bit extent counters.
pub const XFS_DIFLAG2_NREXT64: u64 = 1 << 4;

/// `di_flags` bits.
pub const XFS_DIFLAG_REALTIME: u16 = 1 << 0;
/// `XFS_DIFLAG_PREALLOC`: has preallocated space.
pub const XFS_DIFLAG_PREALLOC: u16 = 1 << 1;
/// `XFS_DIFLAG_NEWRTBM`: new realtime bitmap format (rbmino only).
pub const XFS_DIFLAG_NEWRTBM: u16 = 1 << 2;
/// `XFS_DIFLAG_IMMUTABLE`.
pub const XFS_DIFLAG_IMMUTABLE: u16 = 1 << 3;
/// `XFS_DIFLAG_APPEND`: append only.
pub const XFS_DIFLAG_APPEND: u16 = 1 << 4;
/// `XFS_DIFLAG_SYNC`: synchronous writes.
pub const XFS_DIFLAG_SYNC: u16 = 1 << 5;
/// `XFS_DIFLAG_NOATIME`.
pub const XFS_DIFLAG_NOATIME: u16 = 1 << 6;
/// `XFS_DIFLAG_NODUMP`.
pub const XFS_DIFLAG_NODUMP: u16 = 1 << 7;
/// `XFS_DIFLAG_RTINHERIT`: new files in this directory are realtime.
pub const XFS_DIFLAG_RTINHERIT: u16 = 1 << 8;
/// `XFS_DIFLAG_PROJINHERIT`: new files inherit the project id.
pub const XFS_DIFLAG_PROJINHERIT: u16 = 1 << 9;
/// `XFS_DIFLAG_NOSYMLINKS`: no symlinks may be created in this directory.
pub const XFS_DIFLAG_NOSYMLINKS: u16 = 1 << 10;
/// `XFS_DIFLAG_EXTSIZE`: `di_extsize` is set.
pub const XFS_DIFLAG_EXTSIZE: u16 = 1 << 11;
/// `XFS_DIFLAG_EXTSZINHERIT`: new files inherit `di_extsize`.
pub const XFS_DIFLAG_EXTSZINHERIT: u16 = 1 << 12;
/// `XFS_DIFLAG_NODEFRAG`.
pub const XFS_DIFLAG_NODEFRAG: u16 = 1 << 13;
/// `XFS_DIFLAG_FILESTREAM`: filestream allocator.
pub const XFS_DIFLAG_FILESTREAM: u16 = 1 << 14;

/// `di_format` / `di_aformat` values (`enum xfs_dinode_fmt`).
pub const XFS_DINODE_FMT_DEV: u8 = 0;
/// `XFS_DINODE_FMT_LOCAL`: fork data inside the inode.
pub const XFS_DINODE_FMT_LOCAL: u8 = 1;
/// `XFS_DINODE_FMT_EXTENTS`: extent records inside the inode.
pub const XFS_DINODE_FMT_EXTENTS: u8 = 2;
/// `XFS_DINODE_FMT_BTREE`: a BMBT rooted in the inode.
pub const XFS_DINODE_FMT_BTREE: u8 = 3;
/// `XFS_DINODE_FMT_UUID`: a uuid (unused).
pub const XFS_DINODE_FMT_UUID: u8 = 4;

/// `MAXPATHLEN`: a symlink target is shorter than this.
pub const XFS_SYMLINK_MAXLEN: u64 = 1024;

/// File type bits of `di_mode`.
pub const S_IFMT: u16 = 0o170000;
/// Regular file.
pub const S_IFREG: u16 = 0o100000;
/// Directory.
pub const S_IFDIR: u16 = 0o040000;
/// Symbolic link.
pub const S_IFLNK: u16 = 0o120000;
/// Character device.
pub const S_IFCHR: u16 = 0o020000;
/// Block device.
pub const S_IFBLK: u16 = 0o060000;
/// FIFO.
pub const S_IFIFO: u16 = 0o010000;
/// Socket.
pub const S_IFSOCK: u16 = 0o140000;

/// Line prefixes of `xfs_db print` output this module does not render: the contents of
/// short-form directories (`sfdir2`/`sfdir3`) and short-form attribute forks (`sfattr`).
/// Everything else xfs_db prints for an inode is rendered.
pub const UNRENDERED_FORK_PREFIXES: &[&str] = &[
    "u.sfdir2.",
    "u3.sfdir3.",
    "u.sfdir3.",
    "u3.sfdir2.",
    "a.sfattr.",
];

/// The inode core (`struct xfs_dinode`, and `struct xfs_log_dinode` as logged), field for
/// field. Names are the C names; unions are kept as both readings where the meaning depends
/// on flags (see the accessor methods). Decoded by [`RawDinode::parse`] (disk, big-endian)
/// and [`RawDinode::from_log`] (log, the writer's byte order), with one description of the
/// layout for both.
#[derive(BinRead, BinWrite, Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RawDinode {
    /// `di_magic`: [`XFS_DINODE_MAGIC`].
    pub di_magic: u16,
    /// `di_mode`: file type and permission bits.
    pub di_mode: u16,
    /// `di_version`: 1, 2 or 3.
    pub di_version: u8,
    /// `di_format`: data fork format (`XFS_DINODE_FMT_*`).
    pub di_format: u8,
    /// `di_onlink`: link count of v1 inodes.
    pub di_onlink: u16,
    /// `di_uid`: owner.
    pub di_uid: u32,
    /// `di_gid`: group.
    pub di_gid: u32,
    /// `di_nlink`: link count (v2 and later).
    pub di_nlink: u32,
    /// `di_projid_lo`: low 16 bits of the project id.
    pub di_projid_lo: u16,
    /// `di_projid_hi`: high 16 bits of the project id.
    pub di_projid_hi: u16,
    /// Bytes 24..32 read as one number: `di_big_nextents` on nrext64 inodes, `di_v3_pad`
    /// on other v3 inodes; on v1/v2 `di_v2_pad[6]` then `di_flushiter`.
    #[br(restore_position)]
    pub di_big_nextents: u64,
    /// `di_flushiter` (bytes 30..32; v1/v2 inodes).
    #[br(pad_before = 6)]
    #[bw(ignore)]
    pub di_flushiter: u16,
    /// `di_atime`, raw (legacy `sec << 32 | nsec` or bigtime nanoseconds).
    pub di_atime: u64,
    /// `di_mtime`, raw like `di_atime`.
    pub di_mtime: u64,
    /// `di_ctime`, raw like `di_atime`.
    pub di_ctime: u64,
    /// `di_size`: file size in bytes.
    pub di_size: u64,
    /// `di_nblocks`: blocks used, both forks and their btree blocks.
    pub di_nblocks: u64,
    /// `di_extsize`: extent size hint in blocks.
    pub di_extsize: u32,
    /// Bytes 76..80: `di_nextents`, or `di_big_anextents` on nrext64 inodes.
    pub di_nextents: u32,
    /// Bytes 80..82: `di_anextents`, or `di_nrext64_pad` on nrext64 inodes.
    pub di_anextents: u16,
    /// `di_forkoff`: attribute fork offset in 8-byte units (0: no attribute fork).
    pub di_forkoff: u8,
    /// `di_aformat`: attribute fork format.
    pub di_aformat: u8,
    /// `di_dmevmask`: DMAPI event mask.
    pub di_dmevmask: u32,
    /// `di_dmstate`: DMAPI state.
    pub di_dmstate: u16,
    /// `di_flags`: `XFS_DIFLAG_*`.
    pub di_flags: u16,
    /// `di_gen`: generation number.
    pub di_gen: u32,
    /// `di_next_unlinked`: next AG inode on the unlinked list (`NULLAGINO` at the end).
    pub di_next_unlinked: u32,
    /// `di_crc`: big-endian reading of the stored (little-endian) checksum, as xfs_db
    /// prints it. This and the fields below are zero when the buffer holds no v3 core.
    pub di_crc: u32,
    /// `di_changecount`: number of attribute changes.
    pub di_changecount: u64,
    /// `di_lsn`: LSN of the last write.
    pub di_lsn: u64,
    /// `di_flags2`: `XFS_DIFLAG2_*`.
    pub di_flags2: u64,
    /// `di_cowextsize`: copy-on-write extent size hint in blocks.
    pub di_cowextsize: u32,
    /// `di_pad2`.
    pub di_pad2: [u8; 12],
    /// `di_crtime`: creation time, raw like `di_atime`.
    pub di_crtime: u64,
    /// `di_ino`: the inode's own number.
    pub di_ino: u64,
    /// `di_uuid`: the filesystem's metadata uuid.
    pub di_uuid: [u8; 16],
}

/// `XFS_MAX_BMBT_EXTLEN`: the longest extent a BMBT record holds, in blocks.
pub const XFS_MAX_BMBT_EXTLEN: u32 = (1 << 21) - 1;

/// `xfs_mode_to_ftype` is not `XFS_DIR3_FT_UNKNOWN`: the mode names a file type.
pub fn mode_has_ftype(mode: u16) -> bool {
    matches!(
        mode & S_IFMT,
        S_IFREG | S_IFDIR | S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK | S_IFLNK
    )
}

/// A block count in bytes as libxfs computes it for the hint checks: 32 bits, truncated.
fn hint_bytes(geo: &Geometry, blocks: u32) -> u32 {
    (u64::from(blocks) << geo.block_log) as u32
}

/// `xfs_inode_validate_extsize`: the extent size hint `extsize` (blocks) is allowed for an
/// inode of this mode and `di_flags`: only files carry `EXTSIZE`, only directories
/// `EXTSZINHERIT`, a hint needs its flag and the flag a hint, and it is a multiple of the
/// (realtime) extent unit, at most `XFS_MAX_BMBT_EXTLEN` and (not realtime) half an AG.
pub fn validate_extsize(geo: &Geometry, extsize: u32, mode: u16, flags: u16) -> bool {
    let fmt = mode & S_IFMT;
    let rt = flags & XFS_DIFLAG_REALTIME != 0;
    let hint = flags & XFS_DIFLAG_EXTSIZE != 0;
    let inherit = flags & XFS_DIFLAG_EXTSZINHERIT != 0;
    let unit = if rt {
        hint_bytes(geo, geo.rext_size)
    } else {
        geo.block_size
    };
    let bad = ((hint || inherit) && !matches!(fmt, S_IFDIR | S_IFREG))
        || (hint && fmt != S_IFREG)
        || (inherit && fmt != S_IFDIR)
        || ((hint || inherit) && extsize == 0)
        || (mode != 0 && !(hint || inherit) && extsize != 0)
        || hint_bytes(geo, extsize)
            .checked_rem(unit)
            .is_none_or(|r| r != 0)
        || extsize > XFS_MAX_BMBT_EXTLEN
        || (!rt && extsize > geo.ag_blocks / 2);
    !bad
}

/// `xfs_inode_validate_cowextsize`: the CoW extent size hint `cow` (blocks) is allowed: its
/// flag needs reflink, a file or directory, a non-zero hint and no realtime flag; a hint
/// needs its flag; a multiple of the block size, at most `XFS_MAX_BMBT_EXTLEN` and half an AG.
pub fn validate_cowextsize(geo: &Geometry, cow: u32, mode: u16, flags: u16, flags2: u64) -> bool {
    let fmt = mode & S_IFMT;
    let rt = flags & XFS_DIFLAG_REALTIME != 0;
    let hint = flags2 & XFS_DIFLAG2_COWEXTSIZE != 0;
    let hint_bad = !geo.has_reflink || !matches!(fmt, S_IFDIR | S_IFREG) || cow == 0 || rt;
    let bad = (hint && hint_bad)
        || (mode != 0 && !hint && cow != 0)
        || hint_bytes(geo, cow)
            .checked_rem(geo.block_size)
            .is_none_or(|r| r != 0)
        || cow > XFS_MAX_BMBT_EXTLEN
        || cow > geo.ag_blocks / 2;
    !bad
}

/// `XFS_DIFLAG_ANY`: every `di_flags` bit defined.
pub const XFS_DIFLAG_ANY: u16 = 0x7fff;
/// `XFS_DIFLAG2_ANY`: every `di_flags2` bit defined through xfsprogs 6.1.
pub const XFS_DIFLAG2_ANY: u64 = 0x1f;

impl RawDinode {
    /// Decodes the on-disk core from `buf` (needs 100 bytes; v3 fields are read when 176 are
    /// there).
    pub fn parse(buf: &[u8], offset: u64) -> Result<RawDinode> {
        if buf.len() < XFS_DINODE_V2_SIZE {
            return Err(Error::Corrupt {
                offset,
                kind: CorruptKind::Short {
                    what: "inode",
                    need: XFS_DINODE_V2_SIZE,
                    have: buf.len(),
                },
            });
        }
        Ok(Self::decode(buf, Endian::Big))
    }

    /// Decodes a logged core (`xfs_log_dinode`, in the byte order of the host that wrote
    /// it, little-endian here): `None` below the 96 bytes of a v1/v2 log core (which ends
    /// before `di_next_unlinked`, read as 0 then). Legacy timestamps are logged as two
    /// host-order 32-bit halves and come out as the disk reading (`sec << 32 | nsec`).
    pub fn from_log(c: &[u8]) -> Option<RawDinode> {
        if c.len() < XFS_LOG_DINODE_V2_SIZE {
            return None;
        }
        let mut d = Self::decode(c, Endian::Little);
        if !d.has_bigtime() {
            for t in [
                &mut d.di_atime,
                &mut d.di_mtime,
                &mut d.di_ctime,
                &mut d.di_crtime,
            ] {
                *t = t.rotate_left(32);
            }
        }
        Some(d)
    }

    /// The one decoder of both: the v2 core (zero-filled where `buf` is short), and the v3
    /// fields when `buf` holds a v3 core.
    fn decode(buf: &[u8], endian: Endian) -> RawDinode {
        let len = if buf.len() >= XFS_DINODE_V3_SIZE {
            XFS_DINODE_V3_SIZE
        } else {
            buf.len().min(XFS_DINODE_V2_SIZE)
        };
        let mut core = [0u8; XFS_DINODE_V3_SIZE];
        if let (Some(dst), Some(src)) = (core.get_mut(..len), buf.get(..len)) {
            dst.copy_from_slice(src);
        }
        // 176 bytes are always there to read.
        RawDinode::read_options(&mut Cursor::new(&core[..]), endian, ()).unwrap_or_default()
    }

    /// `xfs_log_dinode_to_disk`: writes this core, as decoded from the log, over the on-disk
    /// core at the start of `dip` (big-endian), as log recovery does: `di_next_unlinked` and
    /// `di_crc` stay as they are on disk, `di_lsn` becomes `lsn`, the pads are zeroed, and
    /// bytes 24..32 hold `di_big_nextents` (nrext64), `di_flushiter` (v1/v2) or zero. The v3
    /// fields are written when `v3`. Nothing is written when `dip` is shorter than the core.
    pub fn write_logged_core(&self, dip: &mut [u8], lsn: u64, v3: bool) {
        let Some(disk) = dip.get(..written_core_size(v3)) else {
            return;
        };
        let on_disk = RawDinode::decode(disk, Endian::Big);
        let core = RawDinode {
            di_big_nextents: if !v3 {
                self.di_flushiter.into()
            } else if self.has_large_extent_counts() {
                self.di_big_nextents
            } else {
                0
            },
            di_next_unlinked: on_disk.di_next_unlinked,
            di_crc: on_disk.di_crc,
            di_lsn: lsn,
            di_pad2: [0; 12],
            ..self.clone()
        };
        core.write(dip, v3);
    }

    /// Writes this core over the on-disk core at the start of `dip` (big-endian): the v2
    /// core (100 bytes), and the v3 fields when `v3`; bytes 24..32 hold `di_big_nextents`
    /// (`di_flushiter` is not written). Nothing is written when `dip` is shorter than the
    /// core.
    pub fn write(&self, dip: &mut [u8], v3: bool) {
        let len = written_core_size(v3);
        let Some(dst) = dip.get_mut(..len) else {
            return;
        };
        let mut out = Cursor::new(vec![0u8; XFS_DINODE_V3_SIZE]);
        if self.write_options(&mut out, Endian::Big, ()).is_ok() {
            if let Some(src) = out.get_ref().get(..len) {
                dst.copy_from_slice(src);
            }
        }
    }

    /// `xfs_dinode_has_bigtime`.
    pub fn has_bigtime(&self) -> bool {
        self.di_version >= 3 && self.di_flags2 & XFS_DIFLAG2_BIGTIME != 0
    }

    /// `xfs_dinode_has_large_extent_counts` (nrext64).
    pub fn has_large_extent_counts(&self) -> bool {
        self.di_version >= 3 && self.di_flags2 & XFS_DIFLAG2_NREXT64 != 0
    }

    /// Data fork extent count as the inode claims it.
    pub fn data_extents(&self) -> u64 {
        if self.has_large_extent_counts() {
            self.di_big_nextents
        } else {
            self.di_nextents.into()
        }
    }

    /// Attribute fork extent count as the inode claims it.
    pub fn attr_extents(&self) -> u64 {
        if self.has_large_extent_counts() {
            self.di_nextents.into()
        } else {
            self.di_anextents.into()
        }
    }

    /// `di_big_anextents` (nrext64 inodes).
    pub fn di_big_anextents(&self) -> u32 {
        self.di_nextents
    }

    /// `di_nrext64_pad` (nrext64 inodes).
    pub fn di_nrext64_pad(&self) -> u16 {
        self.di_anextents
    }

    /// Decodes one of the timestamps of this inode.
    pub fn timestamp(&self, raw: u64) -> Timestamp {
        Timestamp::decode(raw, self.has_bigtime())
    }

    /// Size of the data fork (`XFS_DFORK_DSIZE`): up to the attribute fork when there is
    /// one, else the whole literal area ([`Geometry::litino`], from the filesystem's core
    /// size as libxfs has it, whatever this inode's version says).
    pub fn dfork_size(&self, geo: &Geometry) -> usize {
        if self.di_forkoff != 0 {
            usize::from(self.di_forkoff).saturating_mul(8)
        } else {
            geo.litino()
        }
    }

    /// Byte offset of the data fork in the inode (`XFS_DFORK_DPTR`: after this version's core).
    pub fn dfork_offset(&self) -> usize {
        self.core_size()
    }

    /// Byte offset of the attribute fork in the inode (`XFS_DFORK_APTR`).
    pub fn afork_offset(&self) -> usize {
        self.core_size()
            .saturating_add(usize::from(self.di_forkoff).saturating_mul(8))
    }

    /// Size of the attribute fork (`XFS_DFORK_ASIZE`), 0 without one.
    pub fn afork_size(&self, geo: &Geometry) -> usize {
        if self.di_forkoff == 0 {
            0
        } else {
            geo.litino()
                .saturating_sub(usize::from(self.di_forkoff).saturating_mul(8))
        }
    }

    /// The data fork's bytes in the inode buffer `d` (empty when `d` is short).
    pub fn dfork<'a>(&self, d: &'a [u8], geo: &Geometry) -> &'a [u8] {
        let at = self.dfork_offset();
        d.get(at..at.saturating_add(self.dfork_size(geo)))
            .unwrap_or(&[])
    }

    /// The attribute fork's bytes in the inode buffer `d` (empty without one).
    pub fn afork<'a>(&self, d: &'a [u8], geo: &Geometry) -> &'a [u8] {
        let at = self.afork_offset();
        d.get(at..at.saturating_add(self.afork_size(geo)))
            .unwrap_or(&[])
    }

    /// Link count: `di_nlink` on v2 and later, `di_onlink` on v1 inodes.
    pub fn link_count(&self) -> u32 {
        if self.di_version > 1 {
            self.di_nlink
        } else {
            self.di_onlink.into()
        }
    }

    /// The on-disk reflink flag (`XFS_DIFLAG2_REFLINK`, v3 inodes).
    pub fn is_reflink(&self) -> bool {
        self.di_version >= 3 && self.di_flags2 & XFS_DIFLAG2_REFLINK != 0
    }

    /// `xfs_dinode_verify`: what libxfs checks before it loads an inode (`libxfs_iget`), on
    /// the inode's bytes `d` (one inode, `sb_inodesize` long) as inode `ino`. `None` when it
    /// would load; otherwise which check fails. xfs_repair's phases 6 and 7 cannot map an
    /// inode that fails here ("couldn't map inode N, err = 117").
    pub fn verify_dinode(&self, d: &[u8], ino: u64, geo: &Geometry) -> Option<&'static str> {
        if self.di_magic != XFS_DINODE_MAGIC {
            return Some("magic");
        }
        if self.di_version >= 3 {
            if !geo.has_crc {
                return Some("v3 inode on a v4 filesystem");
            }
            let isz = (geo.inode_size as usize).min(d.len());
            let crc = crc::verify(d.get(..isz).unwrap_or(d), XFS_DINODE_CRC_OFF, true);
            if crc != CrcState::Correct {
                return Some("crc");
            }
            if self.di_ino != ino {
                return Some("inode number");
            }
            if self.di_uuid != geo.meta_uuid {
                return Some("uuid");
            }
        }
        let size = self.di_size;
        if size & (1 << 63) != 0 {
            return Some("negative size");
        }
        let mode = self.di_mode;
        let fmt = mode & S_IFMT;
        if mode != 0 && !mode_has_ftype(mode) {
            return Some("file type");
        }
        if matches!(fmt, S_IFLNK | S_IFDIR) && size == 0 {
            return Some("empty directory or symlink");
        }
        if self.has_large_extent_counts() {
            if !geo.has_nrext64 || self.di_nrext64_pad() != 0 {
                return Some("large extent counts");
            }
        } else if self.di_version >= 3 && self.di_big_nextents != 0 {
            return Some("v3 pad");
        }
        let (nex, nae) = (self.data_extents(), self.attr_extents());
        if mode != 0 && nex.saturating_add(nae) > self.di_nblocks {
            return Some("extents beyond block count");
        }
        // m_dir_geo->max_extents: three 32 GiB directory spaces, in blocks.
        if fmt == S_IFDIR && nex > (3u64 << 35).checked_shr(geo.block_log.into()).unwrap_or(0) {
            return Some("directory extents");
        }
        let boff = usize::from(self.di_forkoff).saturating_mul(8);
        if mode != 0 && boff > geo.inode_size as usize {
            return Some("fork offset beyond the inode");
        }
        if self.di_forkoff != 0 {
            let bad = match self.di_format {
                XFS_DINODE_FMT_DEV => self.di_forkoff != 1,
                XFS_DINODE_FMT_LOCAL | XFS_DINODE_FMT_EXTENTS | XFS_DINODE_FMT_BTREE => {
                    usize::from(self.di_forkoff) >= geo.litino() / 8
                }
                _ => true,
            };
            if bad {
                return Some("fork offset");
            }
        }
        match fmt {
            S_IFIFO | S_IFCHR | S_IFBLK | S_IFSOCK => {
                if self.di_format != XFS_DINODE_FMT_DEV {
                    return Some("device format");
                }
            }
            S_IFREG | S_IFLNK | S_IFDIR => {
                if let Some(e) = self.verify_fork(geo, WhichFork::Data) {
                    return Some(e);
                }
            }
            0 => {}
            _ => return Some("file type"),
        }
        if self.di_forkoff != 0 {
            if let Some(e) = self.verify_fork(geo, WhichFork::Attr) {
                return Some(e);
            }
        } else if !matches!(self.di_aformat, 0 | XFS_DINODE_FMT_EXTENTS) || nae != 0 {
            return Some("attribute fork without an offset");
        }
        let flags = self.di_flags;
        if !validate_extsize(geo, self.di_extsize, mode, flags) {
            return Some("extent size hint");
        }
        if self.di_version < 3 {
            return None;
        }
        let flags2 = self.di_flags2;
        let rt = flags & XFS_DIFLAG_REALTIME != 0;
        if flags2 & (XFS_DIFLAG2_REFLINK | XFS_DIFLAG2_COWEXTSIZE) != 0 && !geo.has_reflink {
            return Some("reflink without the feature");
        }
        if flags2 & XFS_DIFLAG2_REFLINK != 0 && (fmt != S_IFREG || rt) {
            return Some("reflink flag");
        }
        if !validate_cowextsize(geo, self.di_cowextsize, mode, flags, flags2) {
            return Some("CoW extent size hint");
        }
        if self.has_bigtime() && !geo.has_bigtime {
            return Some("bigtime without the feature");
        }
        None
    }

    /// `xfs_dinode_verify_fork`: the fork's format against its size and extent count.
    fn verify_fork(&self, geo: &Geometry, which: WhichFork) -> Option<&'static str> {
        let (size, format, nex) = match which {
            WhichFork::Data => (self.dfork_size(geo), self.di_format, self.data_extents()),
            WhichFork::Attr => (self.afork_size(geo), self.di_aformat, self.attr_extents()),
        };
        let fmt = self.di_mode & S_IFMT;
        if which == WhichFork::Data {
            let fits = self.di_size <= size as u64;
            if matches!(fmt, S_IFDIR | S_IFLNK) && fits && format != XFS_DINODE_FMT_LOCAL {
                return Some("fork not local although its data fits");
            }
            if !fits && format == XFS_DINODE_FMT_LOCAL {
                return Some("local fork too small");
            }
        }
        match format {
            XFS_DINODE_FMT_LOCAL => {
                if (fmt == S_IFREG && which == WhichFork::Data) || nex != 0 {
                    return Some("local fork");
                }
            }
            XFS_DINODE_FMT_EXTENTS => {
                if nex > (size / bmap::BMBT_REC_SIZE) as u64 {
                    return Some("extents beyond the fork");
                }
            }
            XFS_DINODE_FMT_BTREE => {
                if nex > bmap::max_extents(self.has_large_extent_counts(), which) {
                    return Some("too many extents");
                }
            }
            _ => return Some("fork format"),
        }
        None
    }

    /// `di_size` as the signed `xfs_fsize_t` it is.
    pub fn signed_size(&self) -> i64 {
        i64::from_be_bytes(self.di_size.to_be_bytes())
    }

    /// The nanoseconds field of each legacy timestamp, by name (`atime`, `mtime`, `ctime`,
    /// and `crtime` on v3); empty for bigtime inodes, whose timestamps have no such field.
    pub fn legacy_nsecs(&self) -> impl Iterator<Item = (&'static str, u32)> {
        let legacy = !self.has_bigtime();
        let v3 = self.di_version >= 3;
        [
            ("atime", self.di_atime, true),
            ("mtime", self.di_mtime, true),
            ("ctime", self.di_ctime, true),
            ("crtime", self.di_crtime, v3),
        ]
        .into_iter()
        .filter(move |&(_, _, present)| legacy && present)
        // The low 32 bits of a legacy timestamp are its nanoseconds.
        .map(|(name, raw, _)| (name, u32::try_from(raw & 0xffff_ffff).unwrap_or(0)))
    }

    /// Size of the core for this inode's version (`xfs_dinode_size`).
    pub fn core_size(&self) -> usize {
        written_core_size(self.di_version == 3)
    }
}

/// Size of the v3 core or of the v2 one (what [`RawDinode::write`] writes).
fn written_core_size(v3: bool) -> usize {
    if v3 {
        XFS_DINODE_V3_SIZE
    } else {
        XFS_DINODE_V2_SIZE
    }
}

/// A decoded timestamp: seconds since the Unix epoch and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z (negative before).
    pub sec: i64,
    /// As stored: legacy timestamps may hold any 32-bit value here.
    pub nsec: u32,
}

impl Timestamp {
    /// Legacy: signed 32-bit seconds then 32-bit nanoseconds. Bigtime: unsigned nanoseconds
    /// since 1901-12-13T20:45:52Z.
    pub fn decode(raw: u64, bigtime: bool) -> Timestamp {
        if bigtime {
            let secs = raw / 1_000_000_000;
            let nsec = raw % 1_000_000_000;
            Timestamp {
                // secs < 2^35, so it fits an i64 and the subtraction cannot overflow.
                sec: i64::try_from(secs)
                    .unwrap_or(i64::MAX)
                    .saturating_sub(XFS_BIGTIME_EPOCH_OFFSET),
                nsec: u32::try_from(nsec).unwrap_or(0),
            }
        } else {
            Timestamp {
                sec: i64::from((raw >> 32) as u32 as i32),
                nsec: raw as u32,
            }
        }
    }

    /// The seconds the way C `ctime()` prints them in UTC, without the newline
    /// (`Thu Jan  1 00:00:00 1970`).
    pub fn ctime_utc(&self) -> String {
        ctime_utc(self.sec)
    }
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31), proleptic Gregorian.
// After the era split every intermediate is a small non-negative number (bounds in the
// comments), so the plain operators below cannot overflow.
#[allow(clippy::arithmetic_side_effects)]
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's algorithm, with era arithmetic on 400-year cycles.
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365
    let mp = (5 * doy + 2) / 153; // 0..=11
    let d = doy - (153 * mp + 2) / 5 + 1; // 1..=31
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // 1..=12
    let y = yoe
        .saturating_add(era.saturating_mul(400))
        .saturating_add(i64::from(m <= 2));
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// `ctime()` in UTC without the trailing newline; the raw number for years beyond 4 digits
/// would not fit the 24 columns xfs_db prints, but XFS timestamps stay within 1901..2486.
pub fn ctime_utc(sec: i64) -> String {
    const WDAY: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = sec.div_euclid(86_400);
    let tod = sec.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let wd = usize::try_from(days.rem_euclid(7)).unwrap_or(0);
    let mon = usize::try_from(m)
        .ok()
        .and_then(|m| m.checked_sub(1))
        .unwrap_or(0);
    let s = format!(
        "{} {}{:3} {:02}:{:02}:{:02} {}",
        WDAY.get(wd).copied().unwrap_or("???"),
        MON.get(mon).copied().unwrap_or("???"),
        d,
        tod / 3600,
        tod % 3600 / 60,
        tod % 60,
        y
    );
    s.chars().take(24).collect()
}

/// The verifications done on an inode, as data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InodeChecks {
    /// `di_magic` is [`XFS_DINODE_MAGIC`].
    pub magic_ok: bool,
    /// 1 or 2 on v4 filesystems, 3 on v5.
    pub version_ok: bool,
    /// `Unchecked` on v4 filesystems.
    pub crc: CrcState,
    /// `di_ino` is the number the inode was read as (v3; true otherwise).
    pub ino_ok: bool,
    /// `di_uuid` is the filesystem's metadata uuid (v3; true otherwise).
    pub uuid_ok: bool,
    /// The attribute fork offset lies inside the inode's literal area.
    pub forkoff_ok: bool,
}

impl InodeChecks {
    /// Every check passed (an unchecked CRC counts as passed).
    pub fn all_ok(&self) -> bool {
        self.magic_ok
            && self.version_ok
            && self.crc != CrcState::Bad
            && self.ino_ok
            && self.uuid_ok
            && self.forkoff_ok
    }
}

/// Where inode `ino` lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct InodeLocation {
    /// AG number.
    pub agno: u32,
    /// Inode number within the AG.
    pub agino: u32,
    /// AG block holding the inode.
    pub agbno: u32,
    /// Byte offset of the inode in the image.
    pub offset: u64,
}

impl Geometry {
    /// Splits an inode number: `agno = ino >> (agblklog + inopblog)`, the low bits are the
    /// AG inode number, `agbno = agino >> inopblog`, and the inode sits at
    /// `(agino & (inopblock - 1)) * inodesize` in that block. `None` when the number is not
    /// inside the filesystem.
    pub fn locate_inode(&self, ino: u64) -> Option<InodeLocation> {
        let agino_log = u32::from(self.ag_blk_log).checked_add(self.inopb_log.into())?;
        if agino_log >= 64 {
            return None;
        }
        let agno = u32::try_from(ino.checked_shr(agino_log)?).ok()?;
        let agino64 = ino & ((1u64 << agino_log).wrapping_sub(1));
        let agino = u32::try_from(agino64).ok()?;
        let agbno = agino.checked_shr(self.inopb_log.into())?;
        let index = agino & self.inodes_per_block.checked_sub(1)?;
        if agno >= self.ag_count || agbno >= self.ag_size(agno)? {
            return None;
        }
        let offset = self
            .agbno_to_offset(agno, agbno.into())?
            .checked_add(u64::from(index).checked_mul(self.inode_size.into())?)?;
        Some(InodeLocation {
            agno,
            agino,
            agbno,
            offset,
        })
    }

    /// `XFS_LITINO`: bytes for both forks, from the filesystem's inode core size.
    pub fn litino(&self) -> usize {
        let core = if self.has_crc {
            XFS_DINODE_V3_SIZE
        } else {
            XFS_DINODE_V2_SIZE
        };
        (self.inode_size as usize).saturating_sub(core)
    }
}

/// A decoded inode: core, forks, checks, and the raw bytes they came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Inode {
    /// The inode number it was read as.
    pub ino: u64,
    /// Byte offset in the image (0 for an inode decoded from a bare buffer).
    pub offset: u64,
    /// The core, field for field.
    pub raw: RawDinode,
    /// What was verified.
    pub checks: InodeChecks,
    /// The data fork.
    pub data_fork: Fork,
    /// Present when `di_forkoff` is not zero.
    pub attr_fork: Option<Fork>,
    /// The inode's bytes (`inodesize` of them).
    #[serde(skip)]
    pub buf: Vec<u8>,
    /// From the geometry: the filesystem has v3 inodes (xfs_db then prints `v3.*` and `u3`).
    pub crc_fs: bool,
    /// From the geometry: `XFS_LITINO`.
    pub litino: usize,
}

impl Inode {
    /// Decodes inode `ino` from its `inodesize` bytes.
    pub fn parse(buf: &[u8], ino: u64, geo: &Geometry, offset: u64) -> Result<Inode> {
        let raw = RawDinode::parse(buf, offset)?;
        let litino = geo.litino();
        let boff = usize::from(raw.di_forkoff).saturating_mul(8);
        let v3_ok = raw.di_version == 3;
        let checks = InodeChecks {
            magic_ok: raw.di_magic == XFS_DINODE_MAGIC,
            version_ok: if geo.has_crc {
                v3_ok
            } else {
                (1..=2).contains(&raw.di_version)
            },
            crc: crc::verify(
                buf.get(..geo.inode_size as usize).unwrap_or(buf),
                XFS_DINODE_CRC_OFF,
                geo.has_crc,
            ),
            ino_ok: !v3_ok || raw.di_ino == ino,
            uuid_ok: !v3_ok || raw.di_uuid == geo.meta_uuid,
            forkoff_ok: boff < litino,
        };
        let dptr = raw.core_size();
        let dsize = if raw.di_forkoff != 0 { boff } else { litino };
        let slice = |off: usize, len: usize| {
            let end = off.saturating_add(len).min(buf.len());
            buf.get(off.min(end)..end).unwrap_or_default()
        };
        let data_fork = Fork::parse(
            WhichFork::Data,
            ForkFormat::from_raw(raw.di_format),
            dptr,
            slice(dptr, dsize),
            raw.di_size,
            raw.data_extents(),
        );
        let attr_fork = (raw.di_forkoff != 0).then(|| {
            let aptr = dptr.saturating_add(boff);
            let asize = litino.saturating_sub(boff);
            let bytes = slice(aptr, asize);
            // Short-form attributes start with their total size.
            let local_len = u64::from(be16(bytes, 0));
            Fork::parse(
                WhichFork::Attr,
                ForkFormat::from_raw(raw.di_aformat),
                aptr,
                bytes,
                local_len,
                raw.attr_extents(),
            )
        });
        Ok(Inode {
            ino,
            offset,
            raw,
            checks,
            data_fork,
            attr_fork,
            buf: buf.to_vec(),
            crc_fs: geo.has_crc,
            litino,
        })
    }

    /// `di_mode`: file type and permission bits.
    pub fn mode(&self) -> u16 {
        self.raw.di_mode
    }

    /// The file type bits of `di_mode` (`S_IF*`).
    pub fn file_type(&self) -> u16 {
        self.raw.di_mode & S_IFMT
    }

    /// Link count: `di_nlink` on v2/v3 inodes, `di_onlink` on v1.
    pub fn nlink(&self) -> u32 {
        if self.raw.di_version == 1 {
            self.raw.di_onlink.into()
        } else {
            self.raw.di_nlink
        }
    }

    /// Last access time.
    pub fn atime(&self) -> Timestamp {
        self.raw.timestamp(self.raw.di_atime)
    }

    /// Last modification time.
    pub fn mtime(&self) -> Timestamp {
        self.raw.timestamp(self.raw.di_mtime)
    }

    /// Last inode change time.
    pub fn ctime(&self) -> Timestamp {
        self.raw.timestamp(self.raw.di_ctime)
    }

    /// Creation time (v3 inodes only).
    pub fn crtime(&self) -> Option<Timestamp> {
        (self.raw.di_version >= 3).then(|| self.raw.timestamp(self.raw.di_crtime))
    }

    /// Project id (both halves).
    pub fn projid(&self) -> u32 {
        u32::from(self.raw.di_projid_hi) << 16 | u32::from(self.raw.di_projid_lo)
    }

    /// The fork asked for, if the inode has it.
    pub fn fork(&self, which: WhichFork) -> Option<&Fork> {
        match which {
            WhichFork::Data => Some(&self.data_fork),
            WhichFork::Attr => self.attr_fork.as_ref(),
        }
    }

    /// Extent records of a fork in extents format, as the `bmap` command reads them: the
    /// claimed count from the inode core, bounded by the end of the inode buffer.
    pub fn bmap_inline_records(&self, which: WhichFork) -> Vec<BmbtRec> {
        let (fmt, count, off) = self.bmap_fork_geometry(which);
        if ForkFormat::from_raw(fmt) != ForkFormat::Extents {
            return Vec::new();
        }
        bmap::records_in(&self.buf, off, count)
    }

    /// (format, claimed extents, byte offset) of a fork as xfs_db's `bmap` computes them,
    /// without regard to `di_forkoff` being zero.
    fn bmap_fork_geometry(&self, which: WhichFork) -> (u8, u64, usize) {
        let dptr = self.raw.core_size();
        match which {
            WhichFork::Data => (self.raw.di_format, self.raw.data_extents(), dptr),
            WhichFork::Attr => (
                self.raw.di_aformat,
                self.raw.attr_extents(),
                dptr.saturating_add(usize::from(self.raw.di_forkoff).saturating_mul(8)),
            ),
        }
    }

    /// Every line `xfs_db -c 'inode N' -c print` prints, as fields, except the lines whose
    /// prefixes are in [`UNRENDERED_FORK_PREFIXES`].
    pub fn fields(&self) -> Vec<Field> {
        let r = &self.raw;
        let mut f = Vec::with_capacity(80);
        f.push(Field::hex("core.magic", r.di_magic, 16));
        f.push(Field::num(
            "core.mode",
            r.di_mode.into(),
            16,
            Radix::Oct,
            Null::Plain,
        ));
        f.push(Field::text(
            "core.version",
            (r.di_version as i8).to_string(),
        ));
        f.push(Field::text("core.format", fmt_text(r.di_format)));
        if r.di_version == 1 {
            f.push(Field::dec("core.nlinkv1", r.di_onlink, 16));
        }
        if r.di_version >= 2 {
            f.push(Field::dec("core.onlink", r.di_onlink, 16));
        }
        f.push(Field::dec("core.uid", r.di_uid, 32));
        f.push(Field::dec("core.gid", r.di_gid, 32));
        if r.di_version >= 2 {
            f.push(Field::dec("core.nlinkv2", r.di_nlink, 32));
            f.push(Field::dec("core.projid_lo", r.di_projid_lo, 16));
            f.push(Field::dec("core.projid_hi", r.di_projid_hi, 16));
        }
        let large = r.has_large_extent_counts();
        if large {
            f.push(Field::dec("core.nextents", r.di_big_nextents, 64));
        }
        if r.di_version != 3 {
            f.push(Field::dec("core.flushiter", r.di_flushiter, 16));
        }
        for (sec, nsec, raw) in [
            ("core.atime.sec", "core.atime.nsec", r.di_atime),
            ("core.mtime.sec", "core.mtime.nsec", r.di_mtime),
            ("core.ctime.sec", "core.ctime.nsec", r.di_ctime),
        ] {
            let t = r.timestamp(raw);
            f.push(Field::text(sec, t.ctime_utc()));
            f.push(Field::dec(nsec, t.nsec, 32));
        }
        f.push(Field::text("core.size", (r.di_size as i64).to_string()));
        f.push(Field::nullable("core.nblocks", r.di_nblocks, 64));
        f.push(Field::dec("core.extsize", r.di_extsize, 32));
        if large {
            f.push(Field::dec("core.naextents", r.di_big_anextents(), 32));
        } else {
            f.push(Field::dec("core.nextents", r.di_nextents, 32));
            f.push(Field::dec("core.naextents", r.di_anextents, 16));
        }
        f.push(Field::dec("core.forkoff", r.di_forkoff, 8));
        f.push(Field::text("core.aformat", fmt_text(r.di_aformat)));
        f.push(Field::hex("core.dmevmask", r.di_dmevmask, 32));
        f.push(Field::dec("core.dmstate", r.di_dmstate, 16));
        for (name, bit) in [
            ("core.newrtbm", 2u32),
            ("core.prealloc", 1),
            ("core.realtime", 0),
            ("core.immutable", 3),
            ("core.append", 4),
            ("core.sync", 5),
            ("core.noatime", 6),
            ("core.nodump", 7),
            ("core.rtinherit", 8),
            ("core.projinherit", 9),
            ("core.nosymlinks", 10),
            ("core.extsz", 11),
            ("core.extszinherit", 12),
            ("core.nodefrag", 13),
            ("core.filestream", 14),
        ] {
            f.push(Field::dec(name, (r.di_flags >> bit) & 1, 1));
        }
        f.push(Field::dec("core.gen", r.di_gen, 32));
        f.push(Field::nullable("next_unlinked", r.di_next_unlinked, 32));
        if self.crc_fs {
            f.push(Field::crc("v3.crc", r.di_crc, self.checks.crc));
            f.push(Field::dec("v3.change_count", r.di_changecount, 64));
            f.push(Field::hex("v3.lsn", r.di_lsn, 64));
            f.push(Field::hex("v3.flags2", r.di_flags2, 64));
            f.push(Field::dec("v3.cowextsize", r.di_cowextsize, 32));
            let t = r.timestamp(r.di_crtime);
            f.push(Field::text("v3.crtime.sec", t.ctime_utc()));
            f.push(Field::dec("v3.crtime.nsec", t.nsec, 32));
            f.push(Field::nullable("v3.inumber", r.di_ino, 64));
            f.push(Field::uuid("v3.uuid", r.di_uuid));
            for (name, bit) in [
                ("v3.reflink", 1u32),
                ("v3.cowextsz", 2),
                ("v3.dax", 0),
                ("v3.bigtime", 3),
                ("v3.nrext64", 4),
            ] {
                f.push(Field::dec(name, (r.di_flags2 >> bit) & 1, 1));
            }
        }
        self.data_fork_fields(&mut f);
        if r.di_forkoff != 0 {
            self.attr_fork_fields(&mut f);
        }
        f
    }

    /// `XFS_DFORK_DSIZE` / `XFS_DFORK_ASIZE` as xfs_db computes them.
    fn fork_size(&self, which: WhichFork) -> usize {
        let boff = usize::from(self.raw.di_forkoff).saturating_mul(8);
        match (which, self.raw.di_forkoff) {
            (WhichFork::Data, 0) => self.litino,
            (WhichFork::Data, _) => boff,
            (WhichFork::Attr, 0) => 0,
            (WhichFork::Attr, _) => self.litino.saturating_sub(boff),
        }
    }

    /// Records of an extents-format fork at byte `off`, `count` claimed: xfs_db shows the
    /// claimed count in the index range and prints the records that fit in the inode buffer.
    fn bmx_field(&self, name: &'static str, off: usize, count: u64) -> Field {
        let rows = bmap::records_in(&self.buf, off, count)
            .iter()
            .map(BmbtRec::row)
            .collect();
        Field {
            name,
            value: Value::Records {
                columns: bmap::BMBT_REC_COLUMNS,
                rows,
                base: 0,
                declared: usize::try_from(count).unwrap_or(usize::MAX),
            },
        }
    }

    /// The lines of an in-inode BMBT root (`bmrootd` / `bmroota`).
    fn bmroot_fields(&self, f: &mut Vec<Field>, names: [&'static str; 4], off: usize, size: usize) {
        let level = be16(&self.buf, off);
        let numrecs = be16(&self.buf, off.saturating_add(2));
        f.push(Field::dec(names[0], level, 16));
        f.push(Field::dec(names[1], numrecs, 16));
        if numrecs == 0 {
            return;
        }
        let n = usize::from(numrecs);
        let len = self.buf.len();
        let koff = off.saturating_add(bmap::BMDR_HDR_SIZE);
        let kfit = len.saturating_sub(koff) / 8;
        let keys = (0..n.min(kfit))
            .map(|i| vec![be64(&self.buf, koff.saturating_add(i.saturating_mul(8)))])
            .collect();
        f.push(Field {
            name: names[2],
            value: Value::Records {
                columns: &["startoff"],
                rows: keys,
                base: 1,
                declared: n,
            },
        });
        let poff = koff.saturating_add(bmap::bmdr_maxrecs(size).saturating_mul(8));
        let pfit = len.saturating_sub(poff) / 8;
        let ptrs = (0..n.min(pfit))
            .map(|i| be64(&self.buf, poff.saturating_add(i.saturating_mul(8))))
            .collect();
        f.push(Field::array(names[3], ptrs, 64, Radix::Dec, Null::Plain, 1));
    }

    fn data_fork_fields(&self, f: &mut Vec<Field>) {
        let r = &self.raw;
        let crc = self.crc_fs;
        let off = r.core_size();
        let before = f.len();
        let ftype = self.file_type();
        match ForkFormat::from_raw(r.di_format) {
            ForkFormat::Btree => {
                let names = if crc {
                    [
                        "u3.bmbt.level",
                        "u3.bmbt.numrecs",
                        "u3.bmbt.keys",
                        "u3.bmbt.ptrs",
                    ]
                } else {
                    [
                        "u.bmbt.level",
                        "u.bmbt.numrecs",
                        "u.bmbt.keys",
                        "u.bmbt.ptrs",
                    ]
                };
                self.bmroot_fields(f, names, off, self.fork_size(WhichFork::Data));
            }
            ForkFormat::Extents => {
                let n = r.data_extents();
                if n > 0 {
                    f.push(self.bmx_field(if crc { "u3.bmx" } else { "u.bmx" }, off, n));
                }
            }
            ForkFormat::Local if ftype == S_IFREG || ftype == S_IFLNK => {
                let n = usize::try_from(r.di_size as i64 as i32).unwrap_or(0);
                if n > 0 {
                    let end = off.saturating_add(n).min(self.buf.len());
                    let bytes = self.buf.get(off.min(end)..end).unwrap_or_default().to_vec();
                    let name = match (ftype == S_IFREG, crc) {
                        (true, true) => "u3.c",
                        (true, false) => "u.c",
                        (false, true) => "u3.symlink",
                        (false, false) => "u.symlink",
                    };
                    f.push(Field::chars(name, bytes));
                }
            }
            // Short-form directory: printed by xfs_db, not rendered here.
            ForkFormat::Local if ftype == S_IFDIR => return,
            ForkFormat::Dev => f.push(Field::hex(
                if crc { "u3.dev" } else { "u.dev" },
                be32(&self.buf, off),
                32,
            )),
            ForkFormat::Uuid => {
                let mut u = [0u8; 16];
                if let Some(b) = self.buf.get(off..off.saturating_add(16)) {
                    u.copy_from_slice(b);
                }
                f.push(Field::uuid(if crc { "u3.muuid" } else { "u.muuid" }, u));
            }
            _ => {}
        }
        if f.len() == before {
            f.push(Field::text(
                if crc { "u3" } else { "u" },
                "(empty)".to_string(),
            ));
        }
    }

    fn attr_fork_fields(&self, f: &mut Vec<Field>) {
        let r = &self.raw;
        let off = r
            .core_size()
            .saturating_add(usize::from(r.di_forkoff).saturating_mul(8));
        let before = f.len();
        match ForkFormat::from_raw(r.di_aformat) {
            ForkFormat::Btree => self.bmroot_fields(
                f,
                [
                    "a.bmbt.level",
                    "a.bmbt.numrecs",
                    "a.bmbt.keys",
                    "a.bmbt.ptrs",
                ],
                off,
                self.fork_size(WhichFork::Attr),
            ),
            ForkFormat::Extents => {
                let n = r.attr_extents();
                if n > 0 {
                    f.push(self.bmx_field("a.bmx", off, n));
                }
            }
            // Short-form attributes: printed by xfs_db, not rendered here.
            ForkFormat::Local => return,
            _ => {}
        }
        if f.len() == before {
            f.push(Field::text("a", "(empty)".to_string()));
        }
    }
}

/// `fp_dinode_fmt`: `2 (extents)`, or the bare number when unknown.
fn fmt_text(v: u8) -> String {
    match ForkFormat::from_raw(v).name() {
        Some(n) => format!("{v} ({n})"),
        None => v.to_string(),
    }
}

impl<S: ByteSource> Filesystem<S> {
    /// Reads and decodes inode `ino`. Numbers outside the filesystem are an
    /// [`Error::Corrupt`] with [`CorruptKind::OutOfRange`].
    pub fn read_inode(&self, ino: u64) -> Result<Inode> {
        let loc = self.geo.locate_inode(ino).ok_or(Error::Corrupt {
            offset: 0,
            kind: CorruptKind::OutOfRange {
                what: "inode number",
                value: ino,
            },
        })?;
        let buf = self
            .source()
            .read_at(loc.offset, self.geo.inode_size as usize)?;
        Inode::parse(&buf, ino, &self.geo, loc.offset)
    }

    /// The extent records of a fork as xfs_db's `bmap` command sees them: inline records for
    /// extents format, the leaf records of the BMBT (walked by [`Filesystem::bmbt_records`])
    /// for btree format, nothing otherwise.
    pub fn fork_records(&self, inode: &Inode, which: WhichFork) -> Result<Vec<BmbtRec>> {
        let (fmt, _, off) = inode.bmap_fork_geometry(which);
        match ForkFormat::from_raw(fmt) {
            ForkFormat::Extents => Ok(inode.bmap_inline_records(which)),
            ForkFormat::Btree => {
                let size = inode.fork_size(which);
                let end = off.saturating_add(size).min(inode.buf.len());
                let root =
                    bmap::BmdrRoot::parse(inode.buf.get(off.min(end)..end).unwrap_or_default());
                Ok(self.bmbt_records(&root, inode.ino)?.records)
            }
            _ => Ok(Vec::new()),
        }
    }

    /// The output of xfs_db's `bmap` (`attr` false) or `bmap -a` (`attr` true) for an inode.
    /// Without `-a`, xfs_db shows each fork whose extent count in the core is not zero.
    pub fn bmap_lines(&self, inode: &Inode, attr_only: bool) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let (data, attr) = if attr_only {
            (false, true)
        } else {
            (inode.raw.data_extents() != 0, inode.raw.attr_extents() != 0)
        };
        if data {
            let recs = self.fork_records(inode, WhichFork::Data)?;
            out.extend(bmap::bmap_lines(WhichFork::Data, &recs, &self.geo));
        }
        if attr {
            let recs = self.fork_records(inode, WhichFork::Attr)?;
            out.extend(bmap::bmap_lines(WhichFork::Attr, &recs, &self.geo));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_round_trips_the_core() {
        let core = RawDinode {
            di_magic: XFS_DINODE_MAGIC,
            di_version: 3,
            di_gen: 7,
            di_next_unlinked: u32::MAX,
            di_ino: 131,
            di_uuid: [5; 16],
            ..RawDinode::default()
        };
        let mut b = vec![0u8; 512];
        core.write(&mut b, true);
        let back = RawDinode::parse(&b, 0).unwrap();
        assert_eq!((back.di_gen, back.di_ino, back.di_uuid), (7, 131, [5; 16]));
        assert_eq!(
            crate::bytes::be32(&b, XFS_DINODE_NEXT_UNLINKED_OFF),
            u32::MAX
        );
        let mut v2 = vec![0xaa; 256];
        core.write(&mut v2, false);
        assert!(v2[XFS_DINODE_V2_SIZE..].iter().all(|&x| x == 0xaa));
        let mut short = vec![0u8; 99];
        core.write(&mut short, false);
        assert!(short.iter().all(|&x| x == 0));
    }

    #[test]
    fn ctime_matches_known_dates() {
        assert_eq!(ctime_utc(0), "Thu Jan  1 00:00:00 1970");
        assert_eq!(ctime_utc(i64::from(i32::MIN)), "Fri Dec 13 20:45:52 1901");
        assert_eq!(ctime_utc(i64::from(i32::MAX)), "Tue Jan 19 03:14:07 2038");
        assert_eq!(ctime_utc(951_782_400), "Tue Feb 29 00:00:00 2000");
    }

    #[test]
    fn bigtime_epoch() {
        let t = Timestamp::decode(0, true);
        assert_eq!(t.sec, -(1i64 << 31));
        let t = Timestamp::decode(((1u64 << 31) * 1_000_000_000) + 5, true);
        assert_eq!((t.sec, t.nsec), (0, 5));
        let t = Timestamp::decode(u64::MAX, true);
        assert!(t.sec > 0);
        let _ = t.ctime_utc();
    }

    /// A v3 core with a few fields set, on disk (big-endian) and as logged (little-endian).
    fn sample_cores() -> (Vec<u8>, Vec<u8>) {
        // (offset, width, value) of a few fields, written big-endian and little-endian.
        let fields: [(usize, usize, u64); 7] = [
            (0, 2, 0x494e),
            (4, 1, 3),
            (16, 4, 7),
            (76, 4, 9),
            (96, 4, 0xffff_ffff),
            (120, 8, 0),
            (152, 8, 131),
        ];
        let (mut be, mut le) = (vec![0u8; 176], vec![0u8; 176]);
        for (off, w, v) in fields {
            be[off..off + w].copy_from_slice(&v.to_be_bytes()[8 - w..]);
            le[off..off + w].copy_from_slice(&v.to_le_bytes()[..w]);
        }
        // Legacy atime: sec 5, nsec 6 as two 32-bit halves in each byte order.
        be[32..36].copy_from_slice(&5u32.to_be_bytes());
        be[36..40].copy_from_slice(&6u32.to_be_bytes());
        le[32..36].copy_from_slice(&5u32.to_le_bytes());
        le[36..40].copy_from_slice(&6u32.to_le_bytes());
        (be, le)
    }

    #[test]
    fn disk_and_log_cores_decode_alike() {
        let (mut be, le) = sample_cores();
        let disk = RawDinode::parse(&be, 0).unwrap();
        assert_eq!(RawDinode::from_log(&le).unwrap(), disk);
        assert_eq!((disk.di_nlink, disk.di_ino, disk.di_nextents), (7, 131, 9));
        assert_eq!(disk.di_next_unlinked, u32::MAX);
        assert_eq!(disk.di_atime, 5 << 32 | 6);
        // Bytes 24..32 are read both whole and as di_flushiter (30..32).
        be[24..32].copy_from_slice(&0x0102_0304_0506_0708u64.to_be_bytes());
        let disk = RawDinode::parse(&be, 0).unwrap();
        assert_eq!(disk.di_big_nextents, 0x0102_0304_0506_0708);
        assert_eq!((disk.di_flushiter, disk.di_atime), (0x0708, 5 << 32 | 6));
        // A v2 log core ends before di_next_unlinked; the v3 fields are zero when short.
        let v2 = RawDinode::from_log(&le[..96]).unwrap();
        assert_eq!((v2.di_next_unlinked, v2.di_ino), (0, 0));
        assert!(RawDinode::from_log(&le[..95]).is_none());
    }

    #[test]
    fn logged_core_is_written_back_as_on_disk() {
        let (be, le) = sample_cores();
        let mut dip = vec![0xffu8; 512];
        dip[96..100].copy_from_slice(&7u32.to_be_bytes());
        dip[100..104].copy_from_slice(&[1, 2, 3, 4]);
        let logged = RawDinode::from_log(&le).unwrap();
        logged.write_logged_core(&mut dip, 0x55, true);
        let mut want = RawDinode::parse(&be, 0).unwrap();
        want.di_next_unlinked = 7;
        want.di_crc = u32::from_be_bytes([1, 2, 3, 4]);
        want.di_lsn = 0x55;
        assert_eq!(RawDinode::parse(&dip, 0).unwrap(), want);
        assert!(dip[176..].iter().all(|&b| b == 0xff));
        // A v2 core: bytes 24..30 zeroed, di_flushiter at 30, nothing past byte 100.
        let mut v2 = le[..96].to_vec();
        v2[4] = 2;
        v2[30..32].copy_from_slice(&9u16.to_le_bytes());
        let mut dip = vec![0xffu8; 256];
        RawDinode::from_log(&v2)
            .unwrap()
            .write_logged_core(&mut dip, 0x55, false);
        assert_eq!(&dip[24..32], &[0, 0, 0, 0, 0, 0, 0, 9]);
        assert!(dip[100..].iter().all(|&b| b == 0xff));
        assert_eq!(&dip[96..100], &[0xff; 4]);
    }

    #[test]
    fn legacy_time_is_signed() {
        let t = Timestamp::decode(0xffff_ffff_0000_0007, false);
        assert_eq!((t.sec, t.nsec), (-1, 7));
    }
}
