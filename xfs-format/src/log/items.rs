//! Log items (`xfs_log_format.h`): every format xfsprogs 6.1 knows. Item formats are in the
//! byte order of the host that wrote them (little-endian here); only the inode create item
//! and the logged metadata buffers themselves are big-endian.

use serde::Serialize;

use super::bytes::{be32, le16, le32, le64};
use crate::btrees::{
    XFS_RMAP_OFF_ATTR_FORK, XFS_RMAP_OFF_BMBT_BLOCK, XFS_RMAP_OFF_MASK, XFS_RMAP_OFF_UNWRITTEN,
};
use crate::bytes::be16;
use crate::inode::RawDinode;

/// `XFS_LI_EFI`: extent free intent.
pub const XFS_LI_EFI: u16 = 0x1236;
/// `XFS_LI_EFD`: extent free done.
pub const XFS_LI_EFD: u16 = 0x1237;
/// `XFS_LI_IUNLINK`: unlinked-list update (never written through 6.1).
pub const XFS_LI_IUNLINK: u16 = 0x1238;
/// `XFS_LI_INODE`: logged inode.
pub const XFS_LI_INODE: u16 = 0x123b;
/// `XFS_LI_BUF`: logged metadata buffer.
pub const XFS_LI_BUF: u16 = 0x123c;
/// `XFS_LI_DQUOT`: logged disk quota.
pub const XFS_LI_DQUOT: u16 = 0x123d;
/// `XFS_LI_QUOTAOFF`: quota turned off.
pub const XFS_LI_QUOTAOFF: u16 = 0x123e;
/// `XFS_LI_ICREATE`: inode chunk created.
pub const XFS_LI_ICREATE: u16 = 0x123f;
/// `XFS_LI_RUI`: reverse-mapping update intent.
pub const XFS_LI_RUI: u16 = 0x1240;
/// `XFS_LI_RUD`: reverse-mapping update done.
pub const XFS_LI_RUD: u16 = 0x1241;
/// `XFS_LI_CUI`: refcount update intent.
pub const XFS_LI_CUI: u16 = 0x1242;
/// `XFS_LI_CUD`: refcount update done.
pub const XFS_LI_CUD: u16 = 0x1243;
/// `XFS_LI_BUI`: block-mapping update intent.
pub const XFS_LI_BUI: u16 = 0x1244;
/// `XFS_LI_BUD`: block-mapping update done.
pub const XFS_LI_BUD: u16 = 0x1245;
/// `XFS_LI_ATTRI`: extended attribute update intent.
pub const XFS_LI_ATTRI: u16 = 0x1246;
/// `XFS_LI_ATTRD`: extended attribute update done.
pub const XFS_LI_ATTRD: u16 = 0x1247;

/// `XFS_BLF_INODE_BUF`: the buffer is an inode cluster buffer (only unlinked pointers logged).
pub const XFS_BLF_INODE_BUF: u16 = 0x1;
/// `XFS_BLF_CANCEL`: the buffer was freed; earlier items for it are not replayed.
pub const XFS_BLF_CANCEL: u16 = 0x2;
/// `XFS_BLF_UDQUOT_BUF | XFS_BLF_PDQUOT_BUF | XFS_BLF_GDQUOT_BUF`: a dquot buffer.
pub const XFS_BLF_DQUOT_BUFS: u16 = 0x1c;
/// `XFS_BLF_CHUNK`: bytes of buffer per bit of the dirty bitmap.
pub const XFS_BLF_CHUNK: usize = 128;

/// `XFS_ILOG_CORE`: the inode core was logged.
pub const XFS_ILOG_CORE: u32 = 0x001;
/// `XFS_ILOG_DDATA`: local data fork data.
pub const XFS_ILOG_DDATA: u32 = 0x002;
/// `XFS_ILOG_DEXT`: data fork extents.
pub const XFS_ILOG_DEXT: u32 = 0x004;
/// `XFS_ILOG_DBROOT`: data fork btree root (in-memory block format).
pub const XFS_ILOG_DBROOT: u32 = 0x008;
/// `XFS_ILOG_DEV`: device number (`ilf_u.ilfu_rdev`).
pub const XFS_ILOG_DEV: u32 = 0x010;
/// `XFS_ILOG_ADATA`: local attribute fork data.
pub const XFS_ILOG_ADATA: u32 = 0x040;
/// `XFS_ILOG_AEXT`: attribute fork extents.
pub const XFS_ILOG_AEXT: u32 = 0x080;
/// `XFS_ILOG_ABROOT`: attribute fork btree root (in-memory block format).
pub const XFS_ILOG_ABROOT: u32 = 0x100;
/// `XFS_ILOG_DFORK`: any of the data fork flags.
pub const XFS_ILOG_DFORK: u32 = XFS_ILOG_DDATA | XFS_ILOG_DEXT | XFS_ILOG_DBROOT;
/// `XFS_ILOG_AFORK`: any of the attribute fork flags.
pub const XFS_ILOG_AFORK: u32 = XFS_ILOG_ADATA | XFS_ILOG_AEXT | XFS_ILOG_ABROOT;

/// Bytes of `xfs_buf_log_format` before the dirty bitmap.
const BLF_HDR_SIZE: usize = 20;

/// `struct xfs_buf_log_format`: region 0 of a buffer item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufLogFormat<'a> {
    /// `blf_flags` (`XFS_BLF_*`; the buffer type is in bits 11..16).
    pub blf_flags: u16,
    /// `blf_len`: length of the buffer in basic blocks.
    pub blf_len: u16,
    /// `blf_blkno`: disk address of the buffer in 512-byte sectors.
    pub blf_blkno: i64,
    /// `blf_map_size`: 32-bit words of the dirty bitmap.
    pub blf_map_size: u32,
    /// `blf_data_map`: the whole bitmap words of the region, at most `blf_map_size`.
    pub blf_data_map: &'a [u8],
}

impl<'a> BufLogFormat<'a> {
    /// Decodes the format region; `None` when it is shorter than the 20-byte header.
    pub fn parse(r: &'a [u8]) -> Option<BufLogFormat<'a>> {
        if r.len() < BLF_HDR_SIZE {
            return None;
        }
        let blf_map_size = le32(r, 16);
        let words = usize::try_from(blf_map_size)
            .unwrap_or(usize::MAX)
            .min(r.len().saturating_sub(BLF_HDR_SIZE) / 4);
        Some(BufLogFormat {
            blf_flags: le16(r, 4),
            blf_len: le16(r, 6),
            blf_blkno: le64(r, 8) as i64,
            blf_map_size,
            blf_data_map: r
                .get(BLF_HDR_SIZE..BLF_HDR_SIZE.saturating_add(words.saturating_mul(4)))
                .unwrap_or(&[]),
        })
    }

    /// The bitmap words.
    pub fn map_words(&self) -> impl Iterator<Item = u32> + 'a {
        self.blf_data_map.chunks_exact(4).map(|w| le32(w, 0))
    }

    /// Whether chunk `n` ([`XFS_BLF_CHUNK`] bytes) of the buffer is dirty.
    pub fn is_dirty(&self, n: usize) -> bool {
        let w = le32(self.blf_data_map, (n / 32).saturating_mul(4));
        (w >> (n % 32)) & 1 != 0
    }

    /// Number of dirty chunks.
    pub fn dirty_chunks(&self) -> u32 {
        self.map_words()
            .map(u32::count_ones)
            .fold(0u32, u32::saturating_add)
    }

    /// Runs of dirty chunks, (first chunk, number of chunks), in bitmap order: the data
    /// regions after the format region hold them in this order.
    pub fn dirty_runs(&self) -> Vec<(usize, usize)> {
        let bits = self.blf_data_map.len().saturating_mul(8);
        let mut out = Vec::new();
        let mut i = 0usize;
        while i < bits {
            if self.is_dirty(i) {
                let start = i;
                while i < bits && self.is_dirty(i) {
                    i = i.saturating_add(1);
                }
                out.push((start, i.saturating_sub(start)));
            } else {
                i = i.saturating_add(1);
            }
        }
        out
    }
}

/// `struct xfs_inode_log_format`: region 0 of an inode item, in either layout (56 bytes
/// natively, 52 in the packed 32-bit layout without `ilf_pad`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InodeLogFormat {
    /// `ilf_fields`: which parts were logged (`XFS_ILOG_*`).
    pub ilf_fields: u32,
    /// `ilf_asize`: bytes of logged attribute fork.
    pub ilf_asize: u16,
    /// `ilf_dsize`: bytes of logged data fork.
    pub ilf_dsize: u16,
    /// `ilf_ino`: the inode number.
    pub ilf_ino: u64,
    /// `ilf_u.ilfu_rdev`: the device number (with [`XFS_ILOG_DEV`]).
    pub ilf_rdev: u32,
    /// `ilf_blkno`: disk address of the inode cluster buffer in 512-byte sectors.
    pub ilf_blkno: i64,
    /// `ilf_len`: length of that buffer in 512-byte sectors.
    pub ilf_len: i32,
    /// `ilf_boffset`: byte offset of the inode in that buffer.
    pub ilf_boffset: i32,
}

impl InodeLogFormat {
    /// Bytes of the native layout.
    pub const SIZE: usize = 56;
    /// Bytes of the packed 32-bit layout.
    pub const PACKED_SIZE: usize = 52;

    /// Decodes the format region; `None` when it is neither 52 bytes nor at least 56.
    pub fn parse(r: &[u8]) -> Option<InodeLogFormat> {
        // (ilf_ino, ilf_u, ilf_blkno) offsets of each layout.
        let (ino_off, u_off, blk_off) = match r.len() {
            Self::PACKED_SIZE => (12, 20, 36),
            n if n >= Self::SIZE => (16, 24, 40),
            _ => return None,
        };
        Some(InodeLogFormat {
            ilf_fields: le32(r, 4),
            ilf_asize: le16(r, 8),
            ilf_dsize: le16(r, 10),
            ilf_ino: le64(r, ino_off),
            ilf_rdev: le32(r, u_off),
            ilf_blkno: le64(r, blk_off) as i64,
            ilf_len: le32(r, blk_off.saturating_add(8)) as i32,
            ilf_boffset: le32(r, blk_off.saturating_add(12)) as i32,
        })
    }
}

/// The short names `xfs_logprint -t` gives item types.
pub fn type_name(t: u16) -> &'static str {
    match t {
        XFS_LI_EFI => "EFI",
        XFS_LI_EFD => "EFD",
        XFS_LI_IUNLINK => "IUNLINK",
        XFS_LI_INODE => "INO",
        XFS_LI_BUF => "BUF",
        XFS_LI_DQUOT => "DQ",
        XFS_LI_QUOTAOFF => "QOFF",
        XFS_LI_ICREATE => "ICR",
        XFS_LI_RUI => "RUI",
        XFS_LI_RUD => "RUD",
        XFS_LI_CUI => "CUI",
        XFS_LI_CUD => "CUD",
        XFS_LI_BUI => "BUI",
        XFS_LI_BUD => "BUD",
        XFS_LI_ATTRI => "ATTRI",
        XFS_LI_ATTRD => "ATTRD",
        _ => "UNKNOWN",
    }
}

/// `enum xfs_blft`: what a logged buffer holds, from `blf_flags`.
pub fn blft_name(flags: u16) -> &'static str {
    match (flags >> 11) & 0x1f {
        0 => "unknown",
        1 => "user dquot",
        2 => "project dquot",
        3 => "group dquot",
        4 => "btree",
        5 => "agf",
        6 => "agfl",
        7 => "agi",
        8 => "inode",
        9 => "symlink",
        10 => "dir block",
        11 => "dir data",
        12 => "dir free",
        13 => "dir leaf1",
        14 => "dir leafn",
        15 => "da node",
        16 => "attr leaf",
        17 => "attr remote",
        18 => "superblock",
        19 => "rt bitmap",
        20 => "rt summary",
        _ => "invalid",
    }
}

/// What the first bytes of logged buffer data say it is (the on-disk magic).
pub fn content_name(b: &[u8]) -> Option<&'static str> {
    use crate::ag::{XFS_AGFL_MAGIC, XFS_AGF_MAGIC, XFS_AGI_MAGIC};
    use crate::attr::{XFS_ATTR3_LEAF_MAGIC, XFS_ATTR3_RMT_MAGIC, XFS_ATTR_LEAF_MAGIC};
    use crate::bmap::{XFS_BMAP_CRC_MAGIC, XFS_BMAP_MAGIC};
    use crate::btrees::{
        XFS_ABTB_CRC_MAGIC, XFS_ABTB_MAGIC, XFS_ABTC_CRC_MAGIC, XFS_ABTC_MAGIC, XFS_FIBT_CRC_MAGIC,
        XFS_FIBT_MAGIC, XFS_IBT_CRC_MAGIC, XFS_IBT_MAGIC, XFS_REFC_CRC_MAGIC, XFS_RMAP_CRC_MAGIC,
    };
    use crate::da_btree::{XFS_DA3_NODE_MAGIC, XFS_DA_MAGIC_OFF, XFS_DA_NODE_MAGIC};
    use crate::dir2::{
        XFS_DIR2_BLOCK_MAGIC, XFS_DIR2_DATA_MAGIC, XFS_DIR2_FREE_MAGIC, XFS_DIR2_LEAF1_MAGIC,
        XFS_DIR2_LEAFN_MAGIC, XFS_DIR3_BLOCK_MAGIC, XFS_DIR3_DATA_MAGIC, XFS_DIR3_FREE_MAGIC,
        XFS_DIR3_LEAF1_MAGIC, XFS_DIR3_LEAFN_MAGIC,
    };
    use crate::inode::XFS_DINODE_MAGIC;
    use crate::sb::XFS_SB_MAGIC;
    use crate::symlink::XFS_SYMLINK_MAGIC;
    let name = match be32(b, 0) {
        XFS_SB_MAGIC => "superblock",
        XFS_AGF_MAGIC => "agf",
        XFS_AGI_MAGIC => "agi",
        XFS_AGFL_MAGIC => "agfl",
        XFS_ABTB_MAGIC | XFS_ABTB_CRC_MAGIC => "bnobt",
        XFS_ABTC_MAGIC | XFS_ABTC_CRC_MAGIC => "cntbt",
        XFS_IBT_MAGIC | XFS_IBT_CRC_MAGIC => "inobt",
        XFS_FIBT_MAGIC | XFS_FIBT_CRC_MAGIC => "finobt",
        XFS_RMAP_CRC_MAGIC => "rmapbt",
        XFS_REFC_CRC_MAGIC => "refcountbt",
        XFS_BMAP_MAGIC | XFS_BMAP_CRC_MAGIC => "bmbt",
        XFS_DIR2_BLOCK_MAGIC | XFS_DIR3_BLOCK_MAGIC => "dir block",
        XFS_DIR2_DATA_MAGIC | XFS_DIR3_DATA_MAGIC => "dir data",
        XFS_DIR2_FREE_MAGIC | XFS_DIR3_FREE_MAGIC => "dir free",
        XFS_SYMLINK_MAGIC => "symlink",
        XFS_ATTR3_RMT_MAGIC => "attr remote",
        // da blocks: a 16-bit magic in the blkinfo; then the 16-bit magics at byte 0.
        _ => match be16(b, XFS_DA_MAGIC_OFF) {
            XFS_DIR2_LEAF1_MAGIC | XFS_DIR3_LEAF1_MAGIC => "dir leaf1",
            XFS_DIR2_LEAFN_MAGIC | XFS_DIR3_LEAFN_MAGIC => "dir leafn",
            XFS_DA_NODE_MAGIC | XFS_DA3_NODE_MAGIC => "da node",
            XFS_ATTR_LEAF_MAGIC | XFS_ATTR3_LEAF_MAGIC => "attr leaf",
            _ => match be16(b, 0) {
                XFS_DINODE_MAGIC => "inode",
                XFS_DQUOT_MAGIC => "dquot",
                _ => return None,
            },
        },
    };
    Some(name)
}

/// `XFS_DQUOT_MAGIC` (`DQ`): the first bytes of a disk quota record.
pub const XFS_DQUOT_MAGIC: u16 = u16::from_be_bytes(*b"DQ");

/// One extent of an EFI/EFD (`xfs_extent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extent {
    /// `ext_start`: first filesystem block.
    pub start: u64,
    /// `ext_len`: length in blocks.
    pub len: u32,
}

/// One mapping of an RUI or BUI (`xfs_map_extent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MapExtent {
    /// `me_owner`: owner (inode number or `XFS_RMAP_OWN_*`).
    pub owner: u64,
    /// `me_startblock`: first filesystem block.
    pub startblock: u64,
    /// `me_startoff`: file offset in blocks.
    pub startoff: u64,
    /// `me_len`: length in blocks.
    pub len: u32,
    /// `me_flags`: operation and fork flags.
    pub flags: u32,
}

/// `XFS_RMAP_EXTENT_TYPE_MASK`: the operation bits of `me_flags`.
pub const XFS_RMAP_EXTENT_TYPE_MASK: u32 = 0xff;
/// `XFS_RMAP_EXTENT_UNMAP`: the operation that removes a mapping from the rmapbt.
pub const XFS_RMAP_EXTENT_UNMAP: u32 = 3;
/// `XFS_RMAP_EXTENT_ATTR_FORK`: the mapping is of the attribute fork.
pub const XFS_RMAP_EXTENT_ATTR_FORK: u32 = 1 << 31;
/// `XFS_RMAP_EXTENT_BMBT_BLOCK`: the mapping is a BMBT block.
pub const XFS_RMAP_EXTENT_BMBT_BLOCK: u32 = 1 << 30;
/// `XFS_RMAP_EXTENT_UNWRITTEN`: the mapping is unwritten.
pub const XFS_RMAP_EXTENT_UNWRITTEN: u32 = 1 << 29;

impl MapExtent {
    /// The operation (`me_flags & XFS_RMAP_EXTENT_TYPE_MASK`).
    pub fn op(&self) -> u32 {
        self.flags & XFS_RMAP_EXTENT_TYPE_MASK
    }

    /// The rmapbt record offset (`rm_offset`) of this mapping: the file offset with the
    /// fork, BMBT-block and unwritten flags; `None` when the offset does not fit its 54 bits.
    pub fn rmap_offset(&self) -> Option<u64> {
        if self.startoff > XFS_RMAP_OFF_MASK {
            return None;
        }
        let flag = |f: u32, off: u64| if self.flags & f != 0 { off } else { 0 };
        Some(
            self.startoff
                | flag(XFS_RMAP_EXTENT_ATTR_FORK, XFS_RMAP_OFF_ATTR_FORK)
                | flag(XFS_RMAP_EXTENT_BMBT_BLOCK, XFS_RMAP_OFF_BMBT_BLOCK)
                | flag(XFS_RMAP_EXTENT_UNWRITTEN, XFS_RMAP_OFF_UNWRITTEN),
        )
    }
}

/// One extent of a CUI (`xfs_phys_extent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhysExtent {
    /// `pe_startblock`: first filesystem block.
    pub startblock: u64,
    /// `pe_len`: length in blocks.
    pub len: u32,
    /// `pe_flags`: the refcount operation.
    pub flags: u32,
}

/// A decoded log item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ItemBody {
    /// A metadata buffer (`xfs_buf_log_format`) and its logged data.
    Buf {
        /// `blf_flags` (the buffer type is in bits 11..16).
        flags: u16,
        /// `blf_len`: length of the buffer in basic blocks.
        len: u16,
        /// `blf_blkno`: disk address of the buffer in 512-byte sectors.
        blkno: i64,
        /// `blf_map_size`: 32-bit words of the dirty bitmap.
        map_size: u32,
        /// Dirty 128-byte chunks of the buffer (from the bitmap).
        dirty_chunks: u32,
        /// Buffer type from the flags (`enum xfs_blft`).
        blft: &'static str,
        /// What the logged data's magic says it is.
        content: Option<&'static str>,
        /// Bytes of logged data (all data regions).
        data_bytes: u64,
    },
    /// An inode (`xfs_inode_log_format`) and its logged core and forks.
    Inode {
        /// `ilf_fields`: which parts were logged (`XFS_ILOG_*`).
        fields: u32,
        /// `ilf_asize`: bytes of logged attribute fork.
        asize: u16,
        /// `ilf_dsize`: bytes of logged data fork.
        dsize: u16,
        /// `ilf_ino`: the inode number.
        ino: u64,
        /// `ilf_blkno`: disk address of the inode cluster buffer in 512-byte sectors.
        blkno: i64,
        /// `ilf_len`: length of that buffer in 512-byte sectors.
        len: i32,
        /// `ilf_boffset`: byte offset of the inode in that buffer.
        boffset: i32,
        /// The logged core (`xfs_log_dinode`), when region 1 is long enough.
        core: Option<RawDinode>,
        /// Bytes of logged data fork.
        data_fork_bytes: u64,
        /// Bytes of logged attribute fork.
        attr_fork_bytes: u64,
    },
    /// A disk quota (`xfs_dq_logformat`).
    Dquot {
        /// `qlf_id`: the quota id.
        id: u32,
        /// `qlf_blkno`: disk address of the dquot buffer in 512-byte sectors.
        blkno: i64,
        /// `qlf_len`: length of that buffer in 512-byte sectors.
        len: i32,
        /// `qlf_boffset`: byte offset of the dquot in that buffer.
        boffset: u32,
    },
    /// Extent free intent (`xfs_efi_log_format`).
    Efi {
        /// `efi_id`: the intent's id.
        id: u64,
        /// `efi_nextents`: extents the item claims.
        nextents: u32,
        /// The extents decoded.
        extents: Vec<Extent>,
    },
    /// Extent free done (`xfs_efd_log_format`).
    Efd {
        /// `efd_efi_id`: the intent it finishes.
        efi_id: u64,
        /// `efd_nextents`: extents the item claims.
        nextents: u32,
        /// The extents decoded.
        extents: Vec<Extent>,
    },
    /// Reverse-mapping update intent (`xfs_rui_log_format`).
    Rui {
        /// `rui_id`: the intent's id.
        id: u64,
        /// `rui_nextents`: mappings the item claims.
        nextents: u32,
        /// The mappings decoded.
        extents: Vec<MapExtent>,
    },
    /// Reverse-mapping update done.
    Rud {
        /// `rud_rui_id`: the intent it finishes.
        rui_id: u64,
    },
    /// Refcount update intent (`xfs_cui_log_format`).
    Cui {
        /// `cui_id`: the intent's id.
        id: u64,
        /// `cui_nextents`: extents the item claims.
        nextents: u32,
        /// The extents decoded.
        extents: Vec<PhysExtent>,
    },
    /// Refcount update done.
    Cud {
        /// `cud_cui_id`: the intent it finishes.
        cui_id: u64,
    },
    /// Block-mapping update intent (`xfs_bui_log_format`).
    Bui {
        /// `bui_id`: the intent's id.
        id: u64,
        /// `bui_nextents`: mappings the item claims.
        nextents: u32,
        /// The mappings decoded.
        extents: Vec<MapExtent>,
    },
    /// Block-mapping update done.
    Bud {
        /// `bud_bui_id`: the intent it finishes.
        bui_id: u64,
    },
    /// Extended attribute update intent (`xfs_attri_log_format`).
    Attri {
        /// `alfi_id`: the intent's id.
        id: u64,
        /// `alfi_ino`: the inode.
        ino: u64,
        /// `alfi_op_flags`: the operation.
        op_flags: u32,
        /// `alfi_name_len`: bytes of the name.
        name_len: u32,
        /// `alfi_value_len`: bytes of the value.
        value_len: u32,
        /// `alfi_attr_filter`: attribute namespace flags.
        attr_filter: u32,
        /// The name (region 1), lossily as UTF-8.
        name: Option<String>,
    },
    /// Extended attribute update done.
    Attrd {
        /// `alfd_alf_id`: the intent it finishes.
        attri_id: u64,
    },
    /// Inode chunk creation (`xfs_icreate_log`, big-endian).
    Icreate {
        /// `icl_ag`: the AG.
        ag: u32,
        /// `icl_agbno`: first block of the chunk.
        agbno: u32,
        /// `icl_count`: inodes created.
        count: u32,
        /// `icl_isize`: inode size in bytes.
        isize: u32,
        /// `icl_length`: length of the chunk in blocks.
        length: u32,
        /// `icl_gen`: generation number of the new inodes.
        gen: u32,
    },
    /// Quotas turned off (`xfs_qoff_logformat`).
    Quotaoff {
        /// `qf_flags`: the quota types turned off.
        flags: u32,
    },
    /// Type known or not, the item could not be decoded; `reason` says why.
    Damaged {
        /// Why.
        reason: String,
    },
}

/// A log item: its regions as reassembled, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// `XFS_LI_*` (first 16 bits of the first region).
    pub item_type: u16,
    /// The `xfs_logprint` name of the type.
    pub type_name: &'static str,
    /// Regions found (`ri_cnt`).
    pub regions: u32,
    /// Regions the format promises (`ri_total`).
    pub total: u32,
    /// Length in bytes of each region.
    pub region_lens: Vec<u32>,
    /// Log basic block where the item's first region starts.
    pub block: u64,
    /// Byte within that block.
    pub byte: u32,
    /// The decoded item.
    pub body: ItemBody,
    /// The regions themselves, as logged (region 0 is the format structure); what log
    /// replay applies.
    #[serde(skip)]
    pub data: Vec<Vec<u8>>,
}

fn damaged(what: &str, need: usize, have: usize) -> ItemBody {
    ItemBody::Damaged {
        reason: format!("{what}: needs {need} bytes, region has {have}"),
    }
}

/// Decodes extents of `size` bytes each, at most `n` and at most what `b` holds from `off`.
fn extents<T>(b: &[u8], off: usize, n: u32, size: usize, f: impl Fn(&[u8]) -> T) -> Vec<T> {
    let avail = b.len().saturating_sub(off).checked_div(size).unwrap_or(0);
    let n = usize::try_from(n).unwrap_or(usize::MAX).min(avail);
    (0..n)
        .filter_map(|i| {
            let s = off.saturating_add(i.saturating_mul(size));
            b.get(s..s.saturating_add(size)).map(&f)
        })
        .collect()
}

fn efi_extents(r: &[u8], n: u32) -> Vec<Extent> {
    // Three layouts exist: native (16-byte extents on 64-bit hosts), packed 12-byte and
    // padded 16-byte; the region length tells them apart.
    let body = r.len().saturating_sub(16);
    let n_usize = usize::try_from(n).unwrap_or(usize::MAX);
    let size = if n_usize > 0 && body == n_usize.saturating_mul(12) {
        12
    } else {
        16
    };
    extents(r, 16, n, size, |e| Extent {
        start: le64(e, 0),
        len: le32(e, 8),
    })
}

fn map_extent(e: &[u8]) -> MapExtent {
    MapExtent {
        owner: le64(e, 0),
        startblock: le64(e, 8),
        startoff: le64(e, 16),
        len: le32(e, 24),
        flags: le32(e, 28),
    }
}

/// Decodes an item from its regions (region 0 is the format structure).
pub fn decode(regions: &[Vec<u8>]) -> ItemBody {
    let Some(r) = regions.first() else {
        return ItemBody::Damaged {
            reason: "item without regions".into(),
        };
    };
    let t = le16(r, 0);
    let need =
        |n: usize| -> Option<ItemBody> { (r.len() < n).then(|| damaged(type_name(t), n, r.len())) };
    match t {
        XFS_LI_BUF => {
            let Some(f) = BufLogFormat::parse(r) else {
                return damaged(type_name(t), BLF_HDR_SIZE, r.len());
            };
            ItemBody::Buf {
                flags: f.blf_flags,
                len: f.blf_len,
                blkno: f.blf_blkno,
                map_size: f.blf_map_size,
                dirty_chunks: f.dirty_chunks(),
                blft: blft_name(f.blf_flags),
                content: regions.get(1).and_then(|d| content_name(d)),
                data_bytes: regions
                    .iter()
                    .skip(1)
                    .map(|d| d.len() as u64)
                    .fold(0, u64::saturating_add),
            }
        }
        XFS_LI_INODE => {
            let Some(f) = InodeLogFormat::parse(r) else {
                return damaged("INO", InodeLogFormat::SIZE, r.len());
            };
            let core = regions.get(1).and_then(|c| RawDinode::from_log(c));
            // Regions after the core: data fork (if logged), then attr fork (if logged).
            let mut next = 2usize;
            let mut data_fork_bytes = 0;
            let mut attr_fork_bytes = 0;
            if f.ilf_fields & XFS_ILOG_DFORK != 0 && f.ilf_dsize > 0 {
                data_fork_bytes = regions.get(next).map_or(0, |d| d.len() as u64);
                next = next.saturating_add(1);
            }
            if f.ilf_fields & XFS_ILOG_AFORK != 0 && f.ilf_asize > 0 {
                attr_fork_bytes = regions.get(next).map_or(0, |d| d.len() as u64);
            }
            ItemBody::Inode {
                fields: f.ilf_fields,
                asize: f.ilf_asize,
                dsize: f.ilf_dsize,
                ino: f.ilf_ino,
                blkno: f.ilf_blkno,
                len: f.ilf_len,
                boffset: f.ilf_boffset,
                core,
                data_fork_bytes,
                attr_fork_bytes,
            }
        }
        XFS_LI_DQUOT => need(24).unwrap_or(ItemBody::Dquot {
            id: le32(r, 4),
            blkno: le64(r, 8) as i64,
            len: le32(r, 16) as i32,
            boffset: le32(r, 20),
        }),
        XFS_LI_EFI | XFS_LI_EFD => {
            if let Some(d) = need(16) {
                return d;
            }
            let n = le32(r, 4);
            let id = le64(r, 8);
            let extents = efi_extents(r, n);
            if t == XFS_LI_EFI {
                ItemBody::Efi {
                    id,
                    nextents: n,
                    extents,
                }
            } else {
                ItemBody::Efd {
                    efi_id: id,
                    nextents: n,
                    extents,
                }
            }
        }
        XFS_LI_RUI | XFS_LI_BUI => {
            if let Some(d) = need(16) {
                return d;
            }
            let n = le32(r, 4);
            let id = le64(r, 8);
            let extents = extents(r, 16, n, 32, map_extent);
            if t == XFS_LI_RUI {
                ItemBody::Rui {
                    id,
                    nextents: n,
                    extents,
                }
            } else {
                ItemBody::Bui {
                    id,
                    nextents: n,
                    extents,
                }
            }
        }
        XFS_LI_CUI => need(16).unwrap_or_else(|| {
            let n = le32(r, 4);
            ItemBody::Cui {
                id: le64(r, 8),
                nextents: n,
                extents: extents(r, 16, n, 16, |e| PhysExtent {
                    startblock: le64(e, 0),
                    len: le32(e, 8),
                    flags: le32(e, 12),
                }),
            }
        }),
        XFS_LI_RUD => need(16).unwrap_or(ItemBody::Rud { rui_id: le64(r, 8) }),
        XFS_LI_CUD => need(16).unwrap_or(ItemBody::Cud { cui_id: le64(r, 8) }),
        XFS_LI_BUD => need(16).unwrap_or(ItemBody::Bud { bui_id: le64(r, 8) }),
        XFS_LI_ATTRD => need(16).unwrap_or(ItemBody::Attrd {
            attri_id: le64(r, 8),
        }),
        XFS_LI_ATTRI => need(40).unwrap_or_else(|| {
            let name_len = le32(r, 28);
            ItemBody::Attri {
                id: le64(r, 8),
                ino: le64(r, 16),
                op_flags: le32(r, 24),
                name_len,
                value_len: le32(r, 32),
                attr_filter: le32(r, 36),
                name: regions.get(1).map(|n| {
                    let l = usize::try_from(name_len).unwrap_or(usize::MAX).min(n.len());
                    String::from_utf8_lossy(n.get(..l).unwrap_or(&[])).into_owned()
                }),
            }
        }),
        XFS_LI_ICREATE => need(28).unwrap_or(ItemBody::Icreate {
            ag: be32(r, 4),
            agbno: be32(r, 8),
            count: be32(r, 12),
            isize: be32(r, 16),
            length: be32(r, 20),
            gen: be32(r, 24),
        }),
        XFS_LI_QUOTAOFF => need(8).unwrap_or(ItemBody::Quotaoff { flags: le32(r, 4) }),
        other => ItemBody::Damaged {
            reason: format!("unknown log item type {other:#x}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn efi_layouts_and_short_items() {
        let mut r = vec![0u8; 16 + 2 * 12];
        r[0..2].copy_from_slice(&XFS_LI_EFI.to_le_bytes());
        r[4..8].copy_from_slice(&2u32.to_le_bytes());
        r[16..24].copy_from_slice(&100u64.to_le_bytes());
        r[24..28].copy_from_slice(&5u32.to_le_bytes());
        r[28..36].copy_from_slice(&200u64.to_le_bytes());
        match decode(&[r]) {
            ItemBody::Efi { extents, .. } => {
                assert_eq!(extents.len(), 2);
                assert_eq!((extents[1].start, extents[0].len), (200, 5));
            }
            other => panic!("{other:?}"),
        }
        let short = vec![0x3c, 0x12, 1];
        assert!(matches!(decode(&[short]), ItemBody::Damaged { .. }));
        // A huge claimed extent count allocates nothing beyond the region.
        let mut r = vec![0u8; 16];
        r[0..2].copy_from_slice(&XFS_LI_RUI.to_le_bytes());
        r[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode(&[r]), ItemBody::Rui { extents, .. } if extents.is_empty()));
        assert_eq!(blft_name(0x9000), "superblock");
    }

    /// Little-endian fields (value, width in bytes) laid end to end.
    fn le_fields(fields: &[(u64, usize)]) -> Vec<u8> {
        let mut r = Vec::new();
        for &(v, n) in fields {
            r.extend_from_slice(&v.to_le_bytes()[..n]);
        }
        r
    }

    #[test]
    fn buf_and_inode_log_formats() {
        // type, size, flags, len, blkno, map_size (9), two map words, then 3 stray bytes.
        let hdr = [
            (0x123c, 2),
            (0, 2),
            (XFS_BLF_INODE_BUF.into(), 2),
            (16, 2),
            (77, 8),
        ];
        let map = [(9, 4), (0x8000_0006, 4), (1, 4), (0, 3)];
        let r = le_fields(&[&hdr[..], &map[..]].concat());
        let b = BufLogFormat::parse(&r).unwrap();
        // Only the two whole words of the region count.
        assert_eq!((b.blf_len, b.blf_blkno, b.blf_data_map.len()), (16, 77, 8));
        assert_eq!(b.dirty_runs(), vec![(1, 2), (31, 2)]);
        assert_eq!(b.dirty_chunks(), 4);
        assert!(BufLogFormat::parse(&r[..19]).is_none());
        // type, size, fields, asize, dsize, [ilf_pad natively], ino, u (rdev + 12 bytes),
        // blkno, len, boffset.
        let fields = u64::from(XFS_ILOG_CORE | XFS_ILOG_DEV);
        let head = [(0x123b, 2), (0, 2), (fields, 4), (0, 2), (0, 2)];
        let tail = [
            (131, 8),
            (0x0801, 4),
            (0, 8),
            (0, 4),
            (64, 8),
            (32, 4),
            (512, 4),
        ];
        for pad in [&[][..], &[(0, 4)][..]] {
            let f = le_fields(&[&head[..], pad, &tail[..]].concat());
            let i = InodeLogFormat::parse(&f).unwrap();
            assert_eq!(
                (
                    i.ilf_fields,
                    i.ilf_ino,
                    i.ilf_rdev,
                    i.ilf_blkno,
                    i.ilf_len,
                    i.ilf_boffset
                ),
                (0x11, 131, 0x0801, 64, 32, 512)
            );
        }
        assert!(InodeLogFormat::parse(&[0u8; 54]).is_none());
        assert_eq!(content_name(b"XAGI...."), Some("agi"));
    }
}
