//! Remote attribute values (libxfs `xfs_attr_remote.c`): values too large for a leaf live
//! in blocks of the attribute fork; on v5 each block starts with an
//! `xfs_attr3_rmt_hdr` ([`Layout::ATTR3_RMT_HDR`]).

use serde::Serialize;

use super::{chars, check_v5_ident, lines, AttrBlocks, BlockContext, Finding, XATTR_SIZE_MAX};
use crate::bytes::be_u32;
use crate::da_btree::Da3Info;
use crate::fields::{CrcState, Field};
use crate::sb::Geometry;
use crate::verify::Layout;

/// `XFS_ATTR3_RMT_MAGIC` (`XARM`).
pub const XFS_ATTR3_RMT_MAGIC: u32 = 0x5841_524d;
/// `sizeof(struct xfs_attr3_rmt_hdr)`.
pub const ATTR3_RMT_HDR_SIZE: usize = 56;
/// Offset of `rm_crc`.
pub const ATTR3_RMT_CRC_OFF: usize = 12;

/// The header of a remote block: `struct xfs_attr3_rmt_hdr` (remote attribute value,
/// fields `rm_*`, [`Layout::ATTR3_RMT_HDR`]) and `struct xfs_dsymlink_hdr` (remote symlink
/// target, fields `sl_*`, [`Layout::DSYMLINK_HDR`]) have one on-disk shape, decoded here
/// once. Field names drop the `rm_`/`sl_` prefix.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RmtHdr {
    /// `rm_magic` / `sl_magic`: [`XFS_ATTR3_RMT_MAGIC`] or `XFS_SYMLINK_MAGIC`.
    pub magic: u32,
    /// `rm_offset` / `sl_offset`: byte offset in the value or target of this block's data.
    pub offset: u32,
    /// `rm_bytes` / `sl_bytes`: data bytes held after the header.
    pub bytes: u32,
    /// The self-describing fields: `rm_crc`, `rm_blkno`, `rm_lsn`, `rm_uuid`, `rm_owner`
    /// (`sl_*` alike).
    pub ident: Da3Info,
}

impl RmtHdr {
    /// Decodes the header; `None` when the block is shorter than it.
    pub fn parse(b: &[u8]) -> Option<RmtHdr> {
        let l = &Layout::ATTR3_RMT_HDR;
        Some(RmtHdr {
            magic: be_u32(b, l.magic.0)?,
            offset: be_u32(b, 4)?,
            bytes: be_u32(b, 8)?,
            ident: Da3Info::read(b, l)?,
        })
    }

    /// The header fields in `xfs_db print` order; `crc` is the state of the block's CRC.
    pub fn fields(&self, crc: CrcState) -> Vec<Field> {
        let id = &self.ident;
        vec![
            Field::hex("magic", self.magic, 32),
            Field::dec("offset", self.offset, 32),
            Field::dec("bytes", self.bytes, 32),
            id.crc_field(crc),
            id.uuid_field(),
            id.owner_field(),
            id.bno_field(),
            id.lsn_field(),
        ]
    }

    /// The data bytes the header claims (`bytes` of them after the header), capped at the
    /// block's end.
    pub fn data<'a>(&self, block: &'a [u8]) -> &'a [u8] {
        let space = block.len().saturating_sub(ATTR3_RMT_HDR_SIZE);
        let n = usize::try_from(self.bytes).unwrap_or(usize::MAX).min(space);
        block
            .get(ATTR3_RMT_HDR_SIZE..ATTR3_RMT_HDR_SIZE.saturating_add(n))
            .unwrap_or_default()
    }
}

/// One remote value block: its v5 header (`None` on v4) and its data bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteBlock {
    /// The v5 `xfs_attr3_rmt_hdr` (`None` on v4).
    pub hdr: Option<RmtHdr>,
    /// The state of the v5 CRC (`Unchecked` on v4).
    pub crc: CrcState,
    /// The data bytes xfs_db shows: `rm_bytes` (capped at the block's space) on v5, the whole
    /// block on v4.
    pub data: Vec<u8>,
    /// What is wrong with the block.
    pub findings: Vec<Finding>,
}

/// Decodes one remote value block and checks its header (v5: magic, CRC, uuid, owner,
/// blkno against `ctx`). Offset and length are checked by [`read_remote_value`], which
/// knows where the block sits in the value.
pub fn decode_remote_block(buf: &[u8], ctx: &BlockContext<'_>) -> Result<RemoteBlock, Finding> {
    if !ctx.geo.has_crc {
        return Ok(RemoteBlock {
            hdr: None,
            crc: CrcState::Unchecked,
            data: buf.to_vec(),
            findings: Vec::new(),
        });
    }
    let hdr = RmtHdr::parse(buf).ok_or(Finding::ShortBlock {
        block: ctx.lblk,
        need: ATTR3_RMT_HDR_SIZE,
        have: buf.len(),
    })?;
    let mut findings = Vec::new();
    let crc = check_v5_ident(
        buf,
        &Layout::ATTR3_RMT_HDR,
        ctx,
        hdr.ident.blkno,
        hdr.ident.owner,
        &mut findings,
    );
    let data = if hdr.magic != XFS_ATTR3_RMT_MAGIC {
        findings.insert(
            0,
            Finding::BadMagic {
                block: ctx.lblk,
                found: hdr.magic,
                expected: "0x5841524d (XARM)",
            },
        );
        Vec::new()
    } else {
        hdr.data(buf).to_vec()
    };
    Ok(RemoteBlock {
        hdr: Some(hdr),
        crc,
        data,
        findings,
    })
}

impl RemoteBlock {
    /// The v5 header fields in `xfs_db print` order, each with its prefix (`hdr.`); empty
    /// on v4.
    pub fn header_fields(&self) -> Vec<(&'static str, Field)> {
        let Some(h) = &self.hdr else {
            return Vec::new();
        };
        h.fields(self.crc)
            .into_iter()
            .map(|f| ("hdr.", f))
            .collect()
    }

    /// The block as `xfs_db ... -c 'ablock B' -c print` prints a remote value block.
    /// On v5 with a wrong magic xfs_db prints nothing for it; so does this.
    pub fn render_xfs_db(&self) -> String {
        if self
            .hdr
            .as_ref()
            .is_some_and(|h| h.magic != XFS_ATTR3_RMT_MAGIC)
        {
            return String::new();
        }
        let mut out = lines(&self.header_fields());
        out.push_str(&format!("data = {}\n", chars(&self.data)));
        out
    }
}

/// A remote value as assembled by [`read_remote_value`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteValue {
    /// The bytes read, `valuelen` long when nothing was missing.
    pub value: Vec<u8>,
    /// Logical blocks read, in order.
    pub blocks: Vec<u32>,
    /// What is wrong with the value's blocks.
    pub findings: Vec<Finding>,
}

impl RemoteValue {
    /// All `valuelen` bytes of the value were read.
    pub fn is_complete(&self, valuelen: u32) -> bool {
        u32::try_from(self.value.len()).ok() == Some(valuelen)
    }
}

/// Reads a remote attribute value of `valuelen` bytes starting at logical block `valueblk`.
/// On v5 every filesystem block carries an `xfs_attr3_rmt_hdr` whose magic, offset, byte
/// count, owner, uuid, blkno and CRC are checked (as data: the value is still assembled
/// from blocks with a good magic). On v4 the blocks are raw value bytes. Values longer than
/// [`XATTR_SIZE_MAX`] are reported and read only up to that size.
pub fn read_remote_value<R: AttrBlocks + ?Sized>(
    reader: &R,
    geo: &Geometry,
    owner: u64,
    valueblk: u32,
    valuelen: u32,
) -> RemoteValue {
    let mut out = RemoteValue {
        value: Vec::new(),
        blocks: Vec::new(),
        findings: Vec::new(),
    };
    let want = if valuelen > XATTR_SIZE_MAX {
        out.findings.push(Finding::RemoteTooLong {
            valuelen,
            max: XATTR_SIZE_MAX,
        });
        XATTR_SIZE_MAX
    } else {
        valuelen
    };
    let bs = geo.block_size;
    let space = if geo.has_crc {
        bs.saturating_sub(ATTR3_RMT_HDR_SIZE as u32)
    } else {
        bs
    };
    if space == 0 {
        return out;
    }
    let nblocks = want.div_ceil(space);
    let Some(_) = valueblk.checked_add(nblocks) else {
        out.findings.push(Finding::RemoteBlockOverflow {
            valueblk,
            count: nblocks,
        });
        return out;
    };
    let mut done: u32 = 0;
    for i in 0..nblocks {
        let lblk = valueblk.saturating_add(i);
        out.blocks.push(lblk);
        let expected = want.saturating_sub(done).min(space);
        let fetched = match reader.read_block(lblk) {
            Ok(f) => f,
            Err(error) => {
                out.findings
                    .push(Finding::ReadFailed { block: lblk, error });
                break;
            }
        };
        let ctx = BlockContext {
            geo,
            lblk,
            owner,
            daddr: fetched.daddr,
        };
        let blk = match decode_remote_block(&fetched.bytes, &ctx) {
            Ok(b) => b,
            Err(f) => {
                out.findings.push(f);
                break;
            }
        };
        out.findings.extend(blk.findings.iter().cloned());
        let take = usize::try_from(expected).unwrap_or(usize::MAX);
        match &blk.hdr {
            Some(h) if h.magic != XFS_ATTR3_RMT_MAGIC => break,
            Some(h) => {
                if h.offset != done {
                    out.findings.push(Finding::RemoteBadOffset {
                        block: lblk,
                        found: h.offset,
                        expected: done,
                    });
                }
                if h.bytes != expected {
                    out.findings.push(Finding::RemoteBadBytes {
                        block: lblk,
                        found: h.bytes,
                        expected,
                    });
                }
                let data = fetched.bytes.get(ATTR3_RMT_HDR_SIZE..).unwrap_or_default();
                out.value.extend(data.iter().take(take));
            }
            None => out.value.extend(fetched.bytes.iter().take(take)),
        }
        done = u32::try_from(out.value.len()).unwrap_or(u32::MAX);
        if done < want && fetched.bytes.len() < bs as usize {
            break;
        }
    }
    out
}
