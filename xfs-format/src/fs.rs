//! An opened filesystem: a byte source, its primary superblock and the derived geometry.

use std::borrow::Cow;

use crate::ag::{AgHeader, Agf, Agfl, Agi};
use crate::bytes::{be32, be_u16};
use crate::error::{CorruptKind, Error, Result};
use crate::sb::{Geometry, Superblock, XFS_DSB_SIZE, XFS_SB_MAGIC};
use crate::source::ByteSource;

/// A read-only view of one XFS filesystem.
#[derive(Debug)]
pub struct Filesystem<S> {
    src: S,
    /// The primary superblock (AG 0).
    pub sb: Superblock,
    /// The geometry derived from (and validated with) the primary superblock.
    pub geo: Geometry,
}

impl<S: ByteSource> Filesystem<S> {
    /// Reads and validates the primary superblock at byte 0 of `src`.
    pub fn open(src: S) -> Result<Self> {
        let first = src.read_at(0, 512)?;
        let magic = be32(&first, 0);
        if magic != XFS_SB_MAGIC {
            return Err(Error::Corrupt {
                offset: 0,
                kind: CorruptKind::BadMagic {
                    what: "superblock",
                    expected: XFS_SB_MAGIC,
                    found: magic,
                },
            });
        }
        // The checksum covers one sector; read it whole once sectsize is known to be sane.
        let sect = be_u16(&first, 102).unwrap_or(512);
        let sect_len = if sect.is_power_of_two() && (512..=32768).contains(&sect) {
            usize::from(sect)
        } else {
            512
        };
        let sector = if sect_len == 512 {
            first
        } else {
            src.read_at(0, sect_len)?
        };
        let sb = Superblock::parse(&sector, 0)?;
        let geo = Geometry::from_sb(&sb.raw)?;
        drop(sector);
        Ok(Filesystem { src, sb, geo })
    }

    /// The bytes the filesystem is read from.
    pub fn source(&self) -> &S {
        &self.src
    }

    /// Size the superblock claims, in bytes.
    pub fn claimed_size(&self) -> u64 {
        self.geo
            .data_blocks
            .saturating_mul(u64::from(self.geo.block_size))
    }

    /// True when the image is shorter than the filesystem it holds.
    pub fn is_truncated(&self) -> bool {
        self.src.size() < self.claimed_size()
    }

    fn check_agno(&self, agno: u32) -> Result<()> {
        if agno >= self.geo.ag_count {
            return Err(Error::Corrupt {
                offset: 0,
                kind: CorruptKind::OutOfRange {
                    what: "allocation group",
                    value: agno.into(),
                },
            });
        }
        Ok(())
    }

    /// Reads the sector of `header` in AG `agno`, returning it with its byte offset.
    pub fn read_header_sector(&self, agno: u32, header: AgHeader) -> Result<(u64, Cow<'_, [u8]>)> {
        self.check_agno(agno)?;
        let off = header.offset(&self.geo, agno).ok_or(Error::Corrupt {
            offset: 0,
            kind: CorruptKind::OutOfRange {
                what: "allocation group",
                value: agno.into(),
            },
        })?;
        let len = self.geo.sect_size as usize;
        Ok((off, self.src.read_at(off, len)?))
    }

    /// The superblock copy of AG `agno` (0 is the primary).
    pub fn read_sb(&self, agno: u32) -> Result<Superblock> {
        let (off, sec) = self.read_header_sector(agno, AgHeader::Sb)?;
        if sec.len() < XFS_DSB_SIZE {
            return Err(Error::Corrupt {
                offset: off,
                kind: CorruptKind::Short {
                    what: "superblock",
                    need: XFS_DSB_SIZE,
                    have: sec.len(),
                },
            });
        }
        Superblock::parse_copy(&sec, off, self.geo.has_crc)
    }

    /// Reads and decodes the AGF of AG `agno`.
    pub fn read_agf(&self, agno: u32) -> Result<Agf> {
        let (off, sec) = self.read_header_sector(agno, AgHeader::Agf)?;
        Agf::parse(&sec, agno, &self.geo, off)
    }

    /// Reads and decodes the AGI of AG `agno`.
    pub fn read_agi(&self, agno: u32) -> Result<Agi> {
        let (off, sec) = self.read_header_sector(agno, AgHeader::Agi)?;
        Agi::parse(&sec, agno, &self.geo, off)
    }

    /// Reads and decodes the AGFL of AG `agno`.
    pub fn read_agfl(&self, agno: u32) -> Result<Agfl> {
        let (off, sec) = self.read_header_sector(agno, AgHeader::Agfl)?;
        Agfl::parse(&sec, agno, &self.geo, off)
    }

    /// Reads `count` filesystem blocks starting at AG block `agbno` of AG `agno`.
    pub fn read_ag_blocks(
        &self,
        agno: u32,
        agbno: u64,
        count: u64,
    ) -> Result<(u64, Cow<'_, [u8]>)> {
        self.check_agno(agno)?;
        let off = self
            .geo
            .agbno_to_offset(agno, agbno)
            .ok_or(Error::Corrupt {
                offset: 0,
                kind: CorruptKind::OutOfRange {
                    what: "AG block",
                    value: agbno,
                },
            })?;
        let len = count
            .checked_mul(self.geo.block_size.into())
            .and_then(|l| usize::try_from(l).ok())
            .ok_or(Error::Truncated {
                offset: off,
                len: usize::MAX,
                size: self.src.size(),
            })?;
        Ok((off, self.src.read_at(off, len)?))
    }

    /// Byte offset of filesystem block `fsb` (`agno << agblklog | agbno`), `None` when it is
    /// outside the filesystem.
    pub fn fsb_to_offset(&self, fsb: u64) -> Option<u64> {
        self.geo.fsb_byte_offset(crate::addr::Fsb(fsb))
    }

    /// Reads `count` filesystem blocks from `fsb`; all of them must lie in one AG.
    pub fn read_fsb(&self, fsb: u64, count: u64) -> Result<Cow<'_, [u8]>> {
        let out_of_range = || Error::Corrupt {
            offset: 0,
            kind: CorruptKind::OutOfRange {
                what: "filesystem block",
                value: fsb,
            },
        };
        let off = self.fsb_to_offset(fsb).ok_or_else(out_of_range)?;
        let last = fsb.saturating_add(count.saturating_sub(1));
        if count > 1 && self.fsb_to_offset(last).is_none() {
            return Err(out_of_range());
        }
        let len = count
            .checked_mul(self.geo.block_size.into())
            .and_then(|l| usize::try_from(l).ok())
            .ok_or_else(out_of_range)?;
        self.src.read_at(off, len)
    }
}
