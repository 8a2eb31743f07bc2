//! Remote attribute values (libxfs `xfs_attr_remote.c`): values too large for a leaf live
//! in blocks of the attribute fork; on v5 each block starts with an
//! `xfs_attr3_rmt_hdr` ([`Layout::ATTR3_RMT_HDR`]).

use serde::Serialize;

use super::{chars, check_v5_ident, line, AttrBlocks, BlockContext, Finding, XATTR_SIZE_MAX};
use crate::bytes::be_u32;
use crate::fields::{CrcState, Field, Null, Radix, Value};
use crate::sb::Geometry;
use crate::verify::Layout;

/// `XFS_ATTR3_RMT_MAGIC` (`XARM`).
pub const XFS_ATTR3_RMT_MAGIC: u32 = 0x5841_524d;
/// `sizeof(struct xfs_attr3_rmt_hdr)`.
pub const ATTR3_RMT_HDR_SIZE: usize = 56;
/// Offset of `rm_crc`.
pub const ATTR3_RMT_CRC_OFF: usize = 12;

/// `struct xfs_attr3_rmt_hdr`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RmtHdr {
    pub rm_magic: u32,
    pub rm_offset: u32,
    pub rm_bytes: u32,
    /// Big-endian reading of the stored checksum.
    pub rm_crc: u32,
    pub rm_uuid: [u8; 16],
    pub rm_owner: u64,
    pub rm_blkno: u64,
    pub rm_lsn: u64,
}

impl RmtHdr {
    /// Decodes the header; `None` when the block is shorter than it.
    pub fn parse(b: &[u8]) -> Option<RmtHdr> {
        let l = &Layout::ATTR3_RMT_HDR;
        Some(RmtHdr {
            rm_magic: be_u32(b, l.magic.0)?,
            rm_offset: be_u32(b, 4)?,
            rm_bytes: be_u32(b, 8)?,
            rm_crc: be_u32(b, l.crc)?,
            rm_uuid: l.read_uuid(b)?,
            rm_owner: l.read_owner(b)?,
            rm_blkno: l.read_blkno(b)?,
            rm_lsn: l.read_lsn(b)?,
        })
    }
}

/// One remote value block: its v5 header (`None` on v4) and its data bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteBlock {
    pub hdr: Option<RmtHdr>,
    pub crc: CrcState,
    /// The data bytes xfs_db shows: `rm_bytes` (capped at the block's space) on v5, the whole
    /// block on v4.
    pub data: Vec<u8>,
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
        hdr.rm_blkno,
        hdr.rm_owner,
        &mut findings,
    );
    let data = if hdr.rm_magic != XFS_ATTR3_RMT_MAGIC {
        findings.insert(
            0,
            Finding::BadMagic {
                block: ctx.lblk,
                found: hdr.rm_magic,
                expected: "0x5841524d (XARM)",
            },
        );
        Vec::new()
    } else {
        let space = buf.len().saturating_sub(ATTR3_RMT_HDR_SIZE);
        let n = usize::try_from(hdr.rm_bytes)
            .unwrap_or(usize::MAX)
            .min(space);
        buf.get(ATTR3_RMT_HDR_SIZE..ATTR3_RMT_HDR_SIZE.saturating_add(n))
            .unwrap_or_default()
            .to_vec()
    };
    Ok(RemoteBlock {
        hdr: Some(hdr),
        crc,
        data,
        findings,
    })
}

impl RemoteBlock {
    /// The v5 header fields in `xfs_db print` order (empty on v4).
    pub fn header_fields(&self) -> Vec<Field> {
        let Some(h) = &self.hdr else {
            return Vec::new();
        };
        vec![
            Field::hex("hdr.magic", h.rm_magic, 32),
            Field::dec("hdr.offset", h.rm_offset, 32),
            Field::dec("hdr.bytes", h.rm_bytes, 32),
            Field {
                name: "hdr.crc",
                value: Value::Crc {
                    value: h.rm_crc,
                    state: self.crc,
                },
            },
            Field {
                name: "hdr.uuid",
                value: Value::Uuid(h.rm_uuid),
            },
            Field::nullable("hdr.owner", h.rm_owner, 64),
            Field::nullable("hdr.bno", h.rm_blkno, 64),
            Field::num("hdr.lsn", h.rm_lsn, 64, Radix::Hex, Null::Plain),
        ]
    }

    /// The block as `xfs_db ... -c 'ablock B' -c print` prints a remote value block.
    /// On v5 with a wrong magic xfs_db prints nothing for it; so does this.
    pub fn render_xfs_db(&self) -> String {
        let mut out = String::new();
        if let Some(h) = &self.hdr {
            if h.rm_magic != XFS_ATTR3_RMT_MAGIC {
                return out;
            }
        }
        for f in self.header_fields() {
            line(&mut out, "", &f);
        }
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
    pub findings: Vec<Finding>,
}

impl RemoteValue {
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
            Some(h) if h.rm_magic != XFS_ATTR3_RMT_MAGIC => break,
            Some(h) => {
                if h.rm_offset != done {
                    out.findings.push(Finding::RemoteBadOffset {
                        block: lblk,
                        found: h.rm_offset,
                        expected: done,
                    });
                }
                if h.rm_bytes != expected {
                    out.findings.push(Finding::RemoteBadBytes {
                        block: lblk,
                        found: h.rm_bytes,
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
