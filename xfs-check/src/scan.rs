//! Phase 2: per-AG header checks and btree scans (xfs_repair's scan_ag / scan_ags).
//!
//! The six per-AG btrees are scanned as repair/scan.c does: `Ag::scan_sbtree` reads a block
//! and runs the read verifier (the v5 header through `xfs_format::verify`), then
//! `Ag::scan_block` is the one block prelude of scan_allocbt, scan_inobt, scan_rmapbt and
//! scan_refcbt (magic, level, the claim in the block map, the record-count clamp, the descent
//! with its pointer checks), with the per-tree parts as hooks: `claim_block` and the record
//! checks `alloc_rec`, `ino_rec`, `rmap_rec`, `refc_rec`. Records and pointers are read with
//! the trees' decoders (`BtreeKind::rec_at` / `ptr_at` of the `BtreeKind`s of
//! `xfs_format::btrees`), never at raw offsets. The descent is xfs_repair's own rather than
//! `xfs_format::btree::walk_visit`: it re-enters a block reached twice (to report it as
//! multiply claimed), reads up to the clamped record count and carries suspicion from a node
//! to its children, which the generic walker deliberately does not do.

use std::collections::BTreeMap;

use xfs_format::ag::{AgHeader, Agf, Agfl, Agi, NULL_AG};
use xfs_format::btree::{BlockHeader, BtreeKind, PtrFormat, NULLAGBLOCK};
use xfs_format::btrees::{
    AllocBtree, AllocBy, AllocRec, InoBtree, InobtRec, RefcountBtree, RefcountRec, RmapBtree,
    RmapRec, XFS_ABTB_CRC_MAGIC, XFS_ABTB_MAGIC, XFS_ABTC_CRC_MAGIC, XFS_ABTC_MAGIC,
    XFS_FIBT_CRC_MAGIC, XFS_FIBT_MAGIC, XFS_IBT_CRC_MAGIC, XFS_IBT_MAGIC, XFS_REFC_CRC_MAGIC,
    XFS_RMAP_CRC_MAGIC,
};
use xfs_format::fields::{fmt_uuid, CrcState};
use xfs_format::sb::{Geometry, RawSb, Superblock};
use xfs_format::verify;
use xfs_format::{ByteSource, Filesystem};

use crate::agheader::secondary_sb_whack;
use crate::finding::{Finding, Kind, Val};
use crate::incore::{self as bmap, Bmap};
use crate::sb::{compare_sb, verify_sb, SbError};

const EFSBADCRC: i32 = -74;
const EFSCORRUPTED: i32 = -117;

/// The medium failed, or the image ends before the structure: not corruption.
fn is_read_error(e: &xfs_format::Error) -> bool {
    matches!(
        e,
        xfs_format::Error::Io { .. } | xfs_format::Error::Truncated { .. }
    )
}

fn f(kind: Kind, fields: Vec<(&'static str, Val)>) -> Finding {
    Finding::new(2, kind, fields)
}

/// The [`HdrIds`] of a decoded AGF or AGI, from the names of its fields.
macro_rules! hdr_ids {
    ($hdr:ident, $h:expr, $magic:ident, $version:ident, $seqno:ident, $length:ident, $uuid:ident) => {
        HdrIds {
            hdr: AgHdr::$hdr,
            checks: &$h.checks,
            magicnum: $h.raw.$magic,
            versionnum: $h.raw.$version,
            seqno: $h.raw.$seqno,
            length: $h.raw.$length,
            uuid: $h.raw.$uuid,
        }
    };
}

/// A counter found on disk that differs from the one counted (`ag`: the AG it belongs to).
fn count_finding(kind: Kind, found: u64, expected: u64, ag: Option<u32>) -> Option<Finding> {
    if found == expected {
        return None;
    }
    let mut fields = vec![("found", found.into()), ("expected", expected.into())];
    fields.extend(ag.map(|a| ("ag", a.into())));
    Some(f(kind, fields))
}

fn shl(v: u64, n: u32) -> u64 {
    v.checked_shl(n).unwrap_or(0)
}

/// Btree geometry limits, as xfs_repair's mount computes them.
#[derive(Debug, Clone, Copy)]
struct Limits {
    mxr: [u32; 2],
    mnr: [u32; 2],
    maxlevels: u32,
}

fn limits(bs: u32, hdr: u32, rec: u32, keyptr: u32) -> ([u32; 2], [u32; 2]) {
    let space = bs.saturating_sub(hdr);
    let l = space.checked_div(rec).unwrap_or(0);
    let n = space.checked_div(keyptr).unwrap_or(0);
    ([l, n], [l / 2, n / 2])
}

fn compute_maxlevels(mnr: [u32; 2], records: u64) -> u32 {
    let div = |a: u64, b: u32| -> u64 {
        let b = u64::from(b.max(1));
        a.checked_add(b.saturating_sub(1))
            .and_then(|s| s.checked_div(b))
            .unwrap_or(0)
    };
    let mut blocks = div(records, mnr[0]);
    let mut level = 1u32;
    while blocks > 1 && level < 64 {
        blocks = div(blocks, mnr[1]);
        level = level.saturating_add(1);
    }
    level
}

fn space_to_height(mnr: [u32; 2], leaf_blocks: u64) -> u32 {
    if leaf_blocks < 1 {
        return 0;
    }
    let mut node = u64::from(mnr[1].max(2));
    let mut left = leaf_blocks.saturating_sub(1);
    let mut h = 1u32;
    while node <= left && h < 64 {
        left = left.saturating_sub(node);
        node = node.saturating_mul(u64::from(mnr[1].max(2)));
        h = h.saturating_add(1);
    }
    h
}

/// Which per-AG btree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tree {
    Bno,
    Cnt,
    Ino,
    Fino,
    Rmap,
    Refc,
}

impl Tree {
    fn ops(self) -> &'static str {
        match self {
            Tree::Bno => "xfs_bnobt",
            Tree::Cnt => "xfs_cntbt",
            Tree::Ino => "xfs_inobt",
            Tree::Fino => "xfs_finobt",
            Tree::Rmap => "xfs_rmapbt",
            Tree::Refc => "xfs_refcountbt",
        }
    }
    /// Short name as xfs_repair's scanners use it.
    fn name(self) -> &'static str {
        match self {
            Tree::Bno => "bno",
            Tree::Cnt => "cnt",
            Tree::Ino => "ino",
            Tree::Fino => "fino",
            Tree::Rmap => "rmap",
            Tree::Refc => "refcount",
        }
    }
    /// The tree as header findings name it (`bad magic # .. in btbno block`); the refcount
    /// btree's messages name it themselves.
    fn hdr_tree(self) -> Option<&'static str> {
        match self {
            Tree::Bno => Some("btbno"),
            Tree::Cnt => Some("btcnt"),
            Tree::Ino => Some("inobt"),
            Tree::Fino => Some("finobt"),
            Tree::Rmap => Some("btrmap"),
            Tree::Refc => None,
        }
    }
    /// The tree as pointer findings name it (`bad btree ptr .. in bnobt block`).
    fn ptr_tree(self) -> &'static str {
        match self {
            Tree::Bno => "bnobt",
            Tree::Cnt => "cntbt",
            Tree::Ino => "inobt",
            Tree::Fino => "finobt",
            Tree::Rmap => "rmapbt",
            Tree::Refc => "refcountbt",
        }
    }
    /// The tree as the root findings name it: `[level, agbno]` (`bad levels 0 for btbno root`,
    /// `bad agbno .. for refcntbt root`).
    fn root_names(self) -> [&'static str; 2] {
        match self {
            Tree::Bno => ["btbno"; 2],
            Tree::Cnt => ["btbcnt"; 2],
            Tree::Ino => ["inobt"; 2],
            Tree::Fino => ["finobt"; 2],
            Tree::Rmap => ["rmapbt"; 2],
            Tree::Refc => ["refcountbt", "refcntbt"],
        }
    }
    fn magic(self, crc: bool) -> u32 {
        match (self, crc) {
            (Tree::Bno, true) => XFS_ABTB_CRC_MAGIC,
            (Tree::Bno, false) => XFS_ABTB_MAGIC,
            (Tree::Cnt, true) => XFS_ABTC_CRC_MAGIC,
            (Tree::Cnt, false) => XFS_ABTC_MAGIC,
            (Tree::Ino, true) => XFS_IBT_CRC_MAGIC,
            (Tree::Ino, false) => XFS_IBT_MAGIC,
            (Tree::Fino, true) => XFS_FIBT_CRC_MAGIC,
            (Tree::Fino, false) => XFS_FIBT_MAGIC,
            (Tree::Rmap, _) => XFS_RMAP_CRC_MAGIC,
            (Tree::Refc, _) => XFS_REFC_CRC_MAGIC,
        }
    }
}

/// Filesystem-wide values the AG scans need.
pub struct Ctx<'a, S> {
    pub fs: &'a Filesystem<S>,
    geo: &'a Geometry,
    sb: &'a RawSb,
    alloc: Limits,
    ino: Limits,
    rmap: Limits,
    refc: Limits,
    agfl_block: u32,
    hdr_blocks: u32,
    agfl_size: u32,
    ino_align: u32,
}

impl<'a, S: ByteSource> Ctx<'a, S> {
    pub fn new(fs: &'a Filesystem<S>) -> Self {
        let geo = &fs.geo;
        let sb = &fs.sb.raw;
        let bs = geo.block_size;
        let hdr = u32::try_from(PtrFormat::Short.hdr_len(geo.has_crc)).unwrap_or(16);
        let (amx, amn) = limits(bs, hdr, 8, 12);
        let (imx, imn) = limits(bs, hdr, 16, 8);
        let (rmx, rmn) = limits(bs, hdr, 24, 44);
        let (cmx, cmn) = limits(bs, hdr, 12, 8);
        let agblocks = u64::from(geo.ag_blocks);
        let agino_bits = u32::from(geo.ag_blk_log).saturating_add(geo.inopb_log.into());
        let rmap_levels = if geo.has_reflink {
            space_to_height(rmn, agblocks)
        } else {
            compute_maxlevels(rmn, agblocks)
        };
        let sect3 = geo.sect_size.saturating_mul(3);
        let agfl_block = sect3.checked_div(bs).unwrap_or(0);
        let hdr_bytes = geo.sect_size.saturating_mul(4);
        let hdr_blocks = hdr_bytes
            .saturating_add(bs.saturating_sub(1))
            .checked_div(bs)
            .unwrap_or(1);
        let ino_align = if sb.has_align() && sb.sb_inoalignmt > 0 {
            sb.sb_inoalignmt
        } else {
            1
        };
        Ctx {
            fs,
            geo,
            sb,
            alloc: Limits {
                mxr: amx,
                mnr: amn,
                maxlevels: compute_maxlevels(amn, agblocks.saturating_add(1) / 2),
            },
            ino: Limits {
                mxr: imx,
                mnr: imn,
                maxlevels: compute_maxlevels(imn, shl(1, agino_bits) >> 6),
            },
            rmap: Limits {
                mxr: rmx,
                mnr: rmn,
                maxlevels: rmap_levels,
            },
            refc: Limits {
                mxr: cmx,
                mnr: cmn,
                maxlevels: compute_maxlevels(cmn, agblocks),
            },
            agfl_block,
            hdr_blocks,
            agfl_size: geo.agfl_size(),
            ino_align,
        }
    }

    fn lim(&self, t: Tree) -> Limits {
        match t {
            Tree::Bno | Tree::Cnt => self.alloc,
            Tree::Ino | Tree::Fino => self.ino,
            Tree::Rmap => self.rmap,
            Tree::Refc => self.refc,
        }
    }
}

/// Counts gathered while scanning one AG (xfs_repair's aghdr_cnts).
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub fdblocks: u64,
    pub agffreeblks: u64,
    pub agflongest: u64,
    pub agfbtreeblks: u64,
    pub agicount: u64,
    pub agifreecount: u64,
    pub ifreecount: u64,
    pub fibtfreecount: u64,
}

/// One in-core inode chunk found by the inobt scan.
#[derive(Debug, Clone, Copy)]
pub struct Chunk {
    pub free: u64,
    pub sparse: u64,
}

/// What the scan of one AG produced.
#[derive(Debug, Default)]
pub struct AgResult {
    pub findings: Vec<Finding>,
    pub counts: Counts,
    /// In-core inode chunks (start agino -> state).
    pub chunks: BTreeMap<u32, Chunk>,
    /// Any inode btree looked corrupt (xfs_repair's bad_ino_btree).
    pub bad_ino_btree: bool,
    /// The AG was skipped (bad uncorrected header): nothing of it was walked.
    pub skipped: bool,
    /// The rmap btree looked suspect (phase 4 would rebuild it instead of checking it).
    pub rmap_suspect: bool,
    /// The refcount btree looked suspect.
    pub refc_suspect: bool,
    /// Shared-domain refcount btree records (start, len, count), in key order.
    pub refcounts: Vec<(u32, u32, u32)>,
    /// Block states after the walk (None when skipped).
    pub bmap: Option<Bmap>,
}

struct Ag<'c, 'a, S> {
    c: &'c Ctx<'a, S>,
    agno: u32,
    ag_size: u32,
    bmap: Bmap,
    r: AgResult,
    // Per-walk state.
    nr_blocks: u32,
    ino_blocks: u32,
    fino_blocks: u32,
}

impl<S: ByteSource> Ag<'_, '_, S> {
    fn push(&mut self, x: Finding) {
        self.r.findings.push(x);
    }

    fn ag(&self) -> (&'static str, Val) {
        ("ag", self.agno.into())
    }

    /// A counter of an AG header checked against what the scan counted.
    /// The AG header counters against those counted: `(checked, kind, found, counted)` per
    /// counter, the unchecked ones (feature not enabled) skipped.
    /// A finding about block `bno` of this AG: `fields`, then `ag` and `agbno`.
    fn block_finding(&self, kind: Kind, mut fields: Vec<(&'static str, Val)>, bno: u32) -> Finding {
        fields.push(self.ag());
        fields.push(("agbno", bno.into()));
        f(kind, fields)
    }

    fn count_mismatches(&mut self, rows: &[(bool, Kind, u32, u64)]) {
        for &(checked, kind, found, counted) in rows {
            if checked {
                let x = count_finding(kind, found.into(), counted, Some(self.agno));
                self.r.findings.extend(x);
            }
        }
    }

    fn verify_agbno(&self, b: u32) -> bool {
        b < self.ag_size && b > self.c.agfl_block
    }

    fn verifier(&mut self, error: i32, ops: &str, daddr: u64, bytes: u64) {
        let fields = crate::finding::verifier_error(error != EFSBADCRC, ops, daddr, bytes);
        self.push(f(Kind::VerifierError, fields));
    }

    fn agino_to_agbno(&self, agino: u32) -> u32 {
        agino.checked_shr(self.c.geo.inopb_log.into()).unwrap_or(0)
    }

    fn agino_offset(&self, agino: u32) -> u32 {
        agino & self.c.geo.inodes_per_block.saturating_sub(1)
    }

    fn agino_to_ino(&self, agino: u32) -> u64 {
        let bits = u32::from(self.c.geo.ag_blk_log).saturating_add(self.c.geo.inopb_log.into());
        shl(self.agno.into(), bits) | u64::from(agino)
    }

    fn verify_agino(&self, agino: u32) -> bool {
        let align = self.c.ino_align.max(1);
        let first_b = self
            .c
            .agfl_block
            .saturating_add(1)
            .saturating_add(align.saturating_sub(1))
            .checked_div(align)
            .unwrap_or(0)
            .saturating_mul(align);
        let last_b = self
            .ag_size
            .checked_div(align)
            .unwrap_or(0)
            .saturating_mul(align);
        let l = u32::from(self.c.geo.inopb_log);
        let first = u64::from(first_b).checked_shl(l).unwrap_or(u64::MAX);
        let last = u64::from(last_b)
            .checked_shl(l)
            .unwrap_or(0)
            .saturating_sub(1);
        let a = u64::from(agino);
        a >= first && a <= last
    }

    // ------------------------------------------------------------------ headers

    fn run(mut self) -> AgResult {
        let c = self.c;
        let fs = c.fs;
        let sect = u64::from(c.geo.sect_size);
        let ag_daddr = c.geo.ag_offset(self.agno).unwrap_or(0) / 512;
        let sb_daddr = ag_daddr;
        let agf_daddr = ag_daddr.saturating_add(sect / 512);
        let agi_daddr = ag_daddr.saturating_add((sect / 512).saturating_mul(2));
        // Superblock.
        let sb_sec = match fs.read_header_sector(self.agno, AgHeader::Sb) {
            Ok((_, s)) => s.into_owned(),
            Err(_) => vec![0u8; c.geo.sect_size as usize],
        };
        let sb_copy = Superblock::parse_copy(&sb_sec, 0, c.geo.has_crc).ok();
        let Some(sbc) = sb_copy else {
            return self.r;
        };
        let sb = sbc.raw.clone();
        let status = verify_sb(&sb_sec, &sb, self.agno == 0);
        if sbc.crc == CrcState::Bad {
            self.verifier(EFSBADCRC, "xfs_sb", sb_daddr, sect);
            self.push(f(Kind::SbBadCrc, vec![self.ag()]));
        } else if sb.sb_magicnum == xfs_format::sb::XFS_SB_MAGIC
            && matches!(
                status,
                Err(SbError::BadFsSizeData
                    | SbError::BadInoSizeData
                    | SbError::BadSectSizeData
                    | SbError::BadBlocksize
                    | SbError::BadBlocklog
                    | SbError::BadInoMaxPct)
            )
        {
            self.push(f(Kind::SbSanityFailed, vec![]));
            self.verifier(EFSCORRUPTED, "xfs_sb", sb_daddr, sect);
        }
        // AGF.
        let (agf, agi) = match (fs.read_agf(self.agno), fs.read_agi(self.agno)) {
            (Ok(agf), Ok(agi)) => (agf, agi),
            // One header could not be read (a medium error, a truncated image): walk what
            // the other one reaches, so that the AG's inodes or free space are still seen.
            (Err(e), Ok(agi)) if is_read_error(&e) => {
                self.validate_agi(&agi);
                let mut r = self.r;
                r.bmap = Some(self.bmap);
                return r;
            }
            (Ok(agf), Err(e)) if is_read_error(&e) => {
                self.scan_freelist(&agf);
                self.validate_agf(&agf);
                let mut r = self.r;
                r.bmap = Some(self.bmap);
                return r;
            }
            _ => return self.r,
        };
        let agf_ids = hdr_ids!(
            Agf,
            agf,
            agf_magicnum,
            agf_versionnum,
            agf_seqno,
            agf_length,
            agf_uuid
        );
        let agi_ids = hdr_ids!(
            Agi,
            agi,
            agi_magicnum,
            agi_versionnum,
            agi_seqno,
            agi_length,
            agi_uuid
        );
        for (ids, daddr, ok) in [
            (&agf_ids, agf_daddr, self.agf_verify(&agf, &agf_ids)),
            (&agi_ids, agi_daddr, self.agi_verify(&agi, &agi_ids)),
        ] {
            if ids.checks.crc == CrcState::Bad {
                self.verifier(EFSBADCRC, ids.hdr.ops(), daddr, sect);
                self.push(f(ids.hdr.kind(HDR_KINDS.crc), vec![self.ag()]));
            } else if !ok {
                self.verifier(EFSCORRUPTED, ids.hdr.ops(), daddr, sect);
            }
        }
        // verify_set_agheader
        let mut reset_sb = false;
        if let Err(e) = status {
            self.push(f(
                Kind::SbAgInvalid,
                vec![self.ag(), ("reason", e.text().into())],
            ));
            reset_sb = true;
        }
        if let Err(e) = compare_sb(c.sb, &sb) {
            self.push(f(
                Kind::SbAgConflict,
                vec![self.ag(), ("reason", e.text().into())],
            ));
            reset_sb = true;
        }
        let st = secondary_sb_whack(c.sb, &sb_sec, &sb, self.agno, &mut self.r.findings);
        reset_sb |= st.reset;
        let fl_slots = [
            (Kind::AgfFlfirstTooLarge, agf.raw.agf_flfirst),
            (Kind::AgfFllastTooLarge, agf.raw.agf_fllast),
        ];
        let reset_agf = self.verify_set_hdr(&agf_ids, &fl_slots);
        let reset_agi = self.verify_set_hdr(&agi_ids, &[]);
        if reset_sb {
            self.push(f(Kind::SbWouldReset, vec![self.ag()]));
        }
        for (reset, ids) in [(reset_agf, &agf_ids), (reset_agi, &agi_ids)] {
            if reset {
                self.push(f(ids.hdr.kind(HDR_KINDS.reset), vec![self.ag()]));
            }
        }
        if reset_sb || reset_agf || reset_agi {
            self.push(f(Kind::AgSkipped, vec![self.ag()]));
            self.r.skipped = true;
            return self.r;
        }
        // Internal log blocks are in use.
        let log_ag = u32::try_from(
            c.geo
                .log_start
                .checked_shr(c.geo.ag_blk_log.into())
                .unwrap_or(0),
        )
        .unwrap_or(u32::MAX);
        if c.geo.log_start != 0 && log_ag == self.agno {
            let mask = shl(1, c.geo.ag_blk_log.into()).saturating_sub(1);
            let start = u32::try_from(c.geo.log_start & mask).unwrap_or(0);
            self.bmap.set_ext(start, c.geo.log_blocks, bmap::INUSE_FS);
        }
        self.scan_freelist(&agf);
        self.validate_agf(&agf);
        self.validate_agi(&agi);
        let mut r = self.r;
        r.bmap = Some(self.bmap);
        r
    }

    /// xfs_agf_verify (`ids`: the AGF's identity fields).
    fn agf_verify(&self, agf: &Agf, ids: &HdrIds) -> bool {
        let r = &agf.raw;
        let g = self.c.geo;
        let fl = self.c.agfl_size;
        let lvl_ok = |l: u32, max: u32| l >= 1 && l <= max;
        ids.ok(g)
            && r.agf_freeblks <= r.agf_length
            && r.agf_flfirst < fl
            && r.agf_fllast < fl
            && r.agf_flcount <= fl
            && u64::from(r.agf_length) <= g.data_blocks
            && r.agf_freeblks >= r.agf_longest
            && lvl_ok(r.agf_bno_level, self.c.alloc.maxlevels)
            && lvl_ok(r.agf_cnt_level, self.c.alloc.maxlevels)
            && (!g.has_rmapbt
                || (lvl_ok(r.agf_rmap_level, self.c.rmap.maxlevels)
                    && r.agf_rmap_blocks <= r.agf_length))
            && (!g.has_lazysbcount || r.agf_btreeblks <= r.agf_length)
            && (!g.has_reflink
                || (r.agf_refcount_blocks <= r.agf_length
                    && lvl_ok(r.agf_refcount_level, self.c.refc.maxlevels)))
    }

    /// xfs_agi_verify (`ids`: the AGI's identity fields).
    fn agi_verify(&self, agi: &Agi, ids: &HdrIds) -> bool {
        let r = &agi.raw;
        let g = self.c.geo;
        let lvl_ok = |l: u32| l >= 1 && l <= self.c.ino.maxlevels;
        ids.ok(g) && lvl_ok(r.agi_level) && (!g.has_finobt || lvl_ok(r.agi_free_level))
    }

    fn expected_length(&self) -> u64 {
        let g = self.c.geo;
        if self.agno != g.ag_count.saturating_sub(1) {
            g.ag_blocks.into()
        } else {
            g.data_blocks
                .saturating_sub(u64::from(g.ag_blocks).saturating_mul(self.agno.into()))
        }
    }

    /// verify_set_agf / verify_set_agi: magic, version, sequence number and length, the free
    /// list slots (`fl_slots`: the AGF's flfirst and fllast with their finding kinds; none for
    /// the AGI), the uuid (v5). True when the header would be reset.
    fn verify_set_hdr(&mut self, h: &HdrIds, fl_slots: &[(Kind, u32)]) -> bool {
        let k = |kinds: [Kind; 2]| h.hdr.kind(kinds);
        let signed = |v: u32| Val::I(i64::from(v as i32));
        let mut bad = false;
        if !h.checks.magic_ok {
            bad = true;
            let found = ("found", h.magicnum.into());
            self.push(f(k(HDR_KINDS.magic), vec![found, self.ag()]));
        }
        for (ok, kinds, found) in [
            (h.checks.version_ok, HDR_KINDS.version, h.versionnum),
            (h.seqno == self.agno, HDR_KINDS.seqno, h.seqno),
        ] {
            if !ok {
                bad = true;
                self.push(f(k(kinds), vec![("found", signed(found)), self.ag()]));
            }
        }
        let exp = self.expected_length();
        if u64::from(h.length) != exp {
            bad = true;
            self.push(f(
                k(HDR_KINDS.length),
                vec![
                    ("found", signed(h.length)),
                    self.ag(),
                    ("expected", exp.into()),
                ],
            ));
        }
        let fl = self.c.agfl_size;
        for &(kind, slot) in fl_slots {
            if slot >= fl {
                self.push(f(
                    kind,
                    vec![
                        ("found", signed(slot)),
                        self.ag(),
                        ("max", fl.saturating_sub(1).into()),
                    ],
                ));
            }
        }
        if self.c.geo.has_crc && h.uuid != self.c.geo.meta_uuid {
            bad = true;
            let found = ("found", fmt_uuid(&h.uuid).into());
            self.push(f(k(HDR_KINDS.uuid), vec![found, self.ag()]));
        }
        bad
    }

    // ------------------------------------------------------------------ AGFL

    fn scan_freelist(&mut self, agf: &Agf) {
        let c = self.c;
        if c.agfl_block >= c.hdr_blocks.saturating_sub(0) && c.agfl_block > 0 {
            self.bmap.set(c.agfl_block, bmap::INUSE_FS);
        }
        let r = &agf.raw;
        if r.agf_flcount == 0 {
            return;
        }
        let sect = u64::from(c.geo.sect_size);
        let daddr = (c.geo.ag_offset(self.agno).unwrap_or(0) / 512)
            .saturating_add((sect / 512).saturating_mul(3));
        let sector = match c.fs.read_header_sector(self.agno, AgHeader::Agfl) {
            Ok((_, s)) => s.into_owned(),
            Err(_) => vec![0u8; c.geo.sect_size as usize],
        };
        let agfl = Agfl::parse(&sector, self.agno, c.geo, daddr.saturating_mul(512)).ok();
        let slot = |i: u32| {
            agfl.as_ref()
                .and_then(|a| a.bno.get(i as usize))
                .copied()
                .unwrap_or(0)
        };
        if c.geo.has_crc {
            let checks = agfl.as_ref().map(|a| &a.checks);
            if checks.is_none_or(|h| h.crc == CrcState::Bad) {
                self.verifier(EFSBADCRC, "xfs_agfl", daddr, sect);
                self.push(f(Kind::AgflBadCrc, vec![self.ag()]));
            } else {
                let hdr_ok = checks.is_some_and(|h| h.magic_ok && h.seqno_ok && h.uuid_ok);
                let slots_ok = (0..c.agfl_size).all(|i| {
                    let b = slot(i);
                    b == NULLAGBLOCK || b < c.geo.ag_blocks
                });
                if !(hdr_ok && slots_ok) {
                    self.verifier(EFSCORRUPTED, "xfs_agfl", daddr, sect);
                }
            }
        }
        if r.agf_flfirst >= c.agfl_size || r.agf_fllast >= c.agfl_size {
            self.push(f(Kind::AgflSkipped, vec![self.ag()]));
            return;
        }
        let mut count: u32 = 0;
        let mut i = r.agf_flfirst;
        let size = c.agfl_size.max(1);
        loop {
            let b = slot(i);
            if self.verify_agbno(b) {
                self.bmap.set(b, bmap::FREE);
            } else {
                self.push(f(Kind::AgflBadAgbno, vec![("agbno", b.into()), self.ag()]));
            }
            count = count.saturating_add(1);
            if i == r.agf_fllast || count > size {
                break;
            }
            i = i.saturating_add(1).checked_rem(size).unwrap_or(0);
        }
        if count != r.agf_flcount {
            self.push(f(
                Kind::AgfFlcountMismatch,
                vec![
                    ("expected", count.into()),
                    ("found", r.agf_flcount.into()),
                    self.ag(),
                ],
            ));
        }
        self.r.counts.fdblocks = self.r.counts.fdblocks.saturating_add(count.into());
    }

    // ------------------------------------------------------------------ AGF trees

    /// The level and agbno checks of the root of `t` in its AG header; false when the root
    /// block is not in the AG.
    fn root_checks(&mut self, t: Tree, root: u32, levels: u32) -> bool {
        let max = self.c.lim(t).maxlevels;
        let [lname, rname] = t.root_names();
        if levels == 0 || levels > max {
            self.push(f(
                Kind::RootBadLevel,
                vec![("found", levels.into()), ("tree", lname.into()), self.ag()],
            ));
        }
        if self.verify_agbno(root) {
            true
        } else {
            self.push(f(
                Kind::RootBadAgbno,
                vec![("found", root.into()), ("tree", rname.into()), self.ag()],
            ));
            false
        }
    }

    fn validate_agf(&mut self, agf: &Agf) {
        let r = agf.raw.clone();
        let g = self.c.geo;
        self.scan_root(Tree::Bno, r.agf_bno_root, r.agf_bno_level);
        self.scan_root(Tree::Cnt, r.agf_cnt_root, r.agf_cnt_level);
        if g.has_rmapbt {
            let root = (r.agf_rmap_root, r.agf_rmap_level, r.agf_rmap_blocks);
            self.scan_counted_root(Tree::Rmap, root);
        }
        if g.has_reflink {
            let root = (
                r.agf_refcount_root,
                r.agf_refcount_level,
                r.agf_refcount_blocks,
            );
            self.scan_counted_root(Tree::Refc, root);
        }
        let cn = self.r.counts;
        self.count_mismatches(&[
            (
                true,
                Kind::AgfFreeblksMismatch,
                r.agf_freeblks,
                cn.agffreeblks,
            ),
            (true, Kind::AgfLongestMismatch, r.agf_longest, cn.agflongest),
            (
                g.has_lazysbcount,
                Kind::AgfBtreeblksMismatch,
                r.agf_btreeblks,
                cn.agfbtreeblks,
            ),
        ]);
    }

    /// The root checks of `t`, then the scan from its root when the root block is in the AG.
    fn scan_root(&mut self, t: Tree, root: u32, levels: u32) {
        if self.root_checks(t, root, levels) {
            self.scan_sbtree(t, root, level_of(levels), false, true);
        }
    }

    /// The rmapbt or refcountbt from its AGF root `(root, levels, blocks)`: root checks, the
    /// tree made suspect for phase 4 when its root is, the scan and the block count check.
    fn scan_counted_root(&mut self, t: Tree, (root, levels, blocks): (u32, u32, u32)) {
        let max = self.c.lim(t).maxlevels;
        let ok = self.root_checks(t, root, levels);
        if !ok || levels == 0 || levels > max {
            match t {
                Tree::Refc => self.r.refc_suspect = true,
                _ => self.r.rmap_suspect = true,
            }
        }
        if !ok {
            return;
        }
        self.nr_blocks = 0;
        self.scan_sbtree(t, root, level_of(levels), false, true);
        if blocks != self.nr_blocks {
            let kind = match t {
                Tree::Refc => Kind::RefcountbtBlocksMismatch,
                _ => Kind::RmapbtBlocksMismatch,
            };
            let fields = vec![
                ("expected", self.nr_blocks.into()),
                ("found", blocks.into()),
            ];
            self.push(f(kind, fields));
        }
    }

    fn validate_agi(&mut self, agi: &Agi) {
        let r = agi.raw.clone();
        let g = self.c.geo;
        self.ino_blocks = 0;
        self.fino_blocks = 0;
        self.scan_root(Tree::Ino, r.agi_root, r.agi_level);
        if g.has_finobt {
            self.scan_root(Tree::Fino, r.agi_free_root, r.agi_free_level);
        }
        if g.has_inobtcount {
            for (kind, found, expected) in [
                (Kind::InobtBlocksMismatch, r.agi_iblocks, self.ino_blocks),
                (Kind::FinobtBlocksMismatch, r.agi_fblocks, self.fino_blocks),
            ] {
                let x = count_finding(kind, found.into(), expected.into(), None);
                self.r.findings.extend(x);
            }
        }
        let cn = self.r.counts;
        self.count_mismatches(&[
            (true, Kind::AgiCountMismatch, r.agi_count, cn.agicount),
            (
                true,
                Kind::AgiFreecountMismatch,
                r.agi_freecount,
                cn.agifreecount,
            ),
            (
                g.has_finobt,
                Kind::AgiFreecountMismatchFinobt,
                r.agi_freecount,
                cn.fibtfreecount,
            ),
        ]);
        for (i, &agino) in r.agi_unlinked.iter().enumerate() {
            if agino != NULL_AG {
                let ino = self.agino_to_ino(agino);
                self.push(f(
                    Kind::AgiUnlinkedBucket,
                    vec![
                        ("bucket", i.into()),
                        ("agino", agino.into()),
                        self.ag(),
                        ("ino", ino.into()),
                    ],
                ));
            }
        }
    }

    // ------------------------------------------------------------------ btree blocks

    /// xfs_repair's scan_sbtree: reads one block, runs the libxfs read verifier, then the
    /// tree's scan callback ([`Self::scan_block`] and the per-tree hooks it calls).
    fn scan_sbtree(&mut self, t: Tree, bno: u32, level: i32, mut suspect: bool, isroot: bool) {
        let c = self.c;
        let bs = c.geo.block_size;
        let buf = match c.fs.read_ag_blocks(self.agno, bno.into(), 1) {
            Ok((_, b)) => b.into_owned(),
            Err(_) => {
                self.push(f(
                    Kind::BtreeBlockSuspect,
                    vec![
                        self.ag(),
                        ("agbno", bno.into()),
                        ("error", EFSCORRUPTED.into()),
                    ],
                ));
                vec![0u8; bs as usize]
            }
        };
        let daddr = c.geo.agbno_to_offset(self.agno, bno.into()).unwrap_or(0) / 512;
        if let Some(err) = self.btree_verify(t, &buf, daddr, bno) {
            self.verifier(err, t.ops(), daddr, bs.into());
            self.push(f(
                Kind::BtreeBlockSuspect,
                vec![self.ag(), ("agbno", bno.into()), ("error", err.into())],
            ));
            suspect = true;
        }
        let Some(hdr) = BlockHeader::parse(&buf, PtrFormat::Short, c.geo.has_crc) else {
            return;
        };
        let blk = Blk {
            buf: &buf,
            hdr,
            bno,
            level,
            isroot,
        };
        // The rmapbt and refcountbt scans end at an `out:` label: a block left suspect there
        // disables the phase 4 check of the tree (rmap_avoid_check / refcount_avoid_check).
        if self.scan_block(t, &blk, &mut suspect) && suspect {
            match t {
                Tree::Rmap => self.r.rmap_suspect = true,
                Tree::Refc => self.r.refc_suspect = true,
                _ => {}
            }
        }
    }

    /// The libxfs read verifier of a short-form btree block: `Some(error)` when it fails.
    fn btree_verify(&self, t: Tree, buf: &[u8], daddr: u64, bno: u32) -> Option<i32> {
        let g = self.c.geo;
        let want = verify::Expected {
            magic: Some(t.magic(g.has_crc)),
            ..verify::Expected::default()
        };
        let want = if g.has_crc {
            verify::Expected {
                blkno: Some(daddr),
                uuid: Some(g.meta_uuid),
                owner: Some(u64::from(self.agno)),
                ..want
            }
        } else {
            want
        };
        let v = verify::verify(buf, &verify::Layout::SBLOCK, &want);
        if g.has_crc && v.crc == CrcState::Bad {
            return Some(EFSBADCRC);
        }
        let Some(h) = BlockHeader::parse(buf, PtrFormat::Short, g.has_crc) else {
            return Some(EFSCORRUPTED);
        };
        if !(v.magic_ok && v.uuid_ok && v.blkno_ok && v.owner_ok) {
            return Some(EFSCORRUPTED);
        }
        let lim = self.c.lim(t);
        if u32::from(h.bb_level) >= lim.maxlevels {
            return Some(EFSCORRUPTED);
        }
        let max = if h.bb_level == 0 {
            lim.mxr[0]
        } else {
            lim.mxr[1]
        };
        if u32::from(h.bb_numrecs) > max {
            return Some(EFSCORRUPTED);
        }
        for sib in [h.bb_leftsib, h.bb_rightsib] {
            if sib != u64::from(NULLAGBLOCK) {
                let s = u32::try_from(sib).unwrap_or(u32::MAX);
                if !self.verify_agbno(s) || s == bno {
                    return Some(EFSCORRUPTED);
                }
            }
        }
        None
    }

    /// A header finding of tree `t` (`what`: magic, level or nrecs), worded as the tree's
    /// scanner words it (the refcount btree has its own messages).
    fn hdr_finding(&mut self, t: Tree, what: Hdr, mut fields: Vec<(&'static str, Val)>, bno: u32) {
        let kind = match (t, what) {
            (Tree::Refc, Hdr::Magic) => Kind::RefcbtBadMagic,
            (Tree::Refc, Hdr::Level) => Kind::RefcbtBadLevel,
            (Tree::Refc, Hdr::Nrecs) => Kind::RefcbtBadNrecs,
            (_, Hdr::Magic) => Kind::BtreeBadMagic,
            (_, Hdr::Level) => Kind::BtreeBadLevel,
            (_, Hdr::Nrecs) => Kind::BtreeBadNrecs,
        };
        if let Some(tree) = t.hdr_tree() {
            fields.push(("tree", tree.into()));
        }
        self.push(self.block_finding(kind, fields, bno));
    }

    /// The block prelude and descent shared by xfs_repair's scan_allocbt, scan_inobt,
    /// scan_rmapbt and scan_refcbt, in their order: magic, level, the block's claim in the
    /// block map, the record count clamp; then the leaf's records (through the tree's
    /// decoder, [`Self::scan_recs`]) or every child of a node. Returns false where the C
    /// code returns without reaching its `out:` label.
    fn scan_block(&mut self, t: Tree, b: &Blk<'_>, suspect: &mut bool) -> bool {
        let (bno, level) = (b.bno, b.level);
        let is_ino = matches!(t, Tree::Ino | Tree::Fino);
        let mut hdr_errors = 0u32;
        match t {
            Tree::Ino => self.ino_blocks = self.ino_blocks.saturating_add(1),
            Tree::Fino => self.fino_blocks = self.fino_blocks.saturating_add(1),
            _ => {}
        }
        if b.hdr.bb_magic != t.magic(self.c.geo.has_crc) {
            let found = ("found", b.hdr.bb_magic.into());
            self.hdr_finding(t, Hdr::Magic, vec![found], bno);
            hdr_errors = hdr_errors.saturating_add(1);
            self.r.bad_ino_btree |= is_ino;
            if *suspect {
                return true;
            }
        }
        if matches!(t, Tree::Bno | Tree::Cnt | Tree::Rmap) && !b.isroot {
            self.r.counts.agfbtreeblks = self.r.counts.agfbtreeblks.saturating_add(1);
            self.r.counts.fdblocks = self.r.counts.fdblocks.saturating_add(1);
        }
        if t == Tree::Rmap {
            self.nr_blocks = self.nr_blocks.saturating_add(1);
        }
        if i32::from(b.hdr.bb_level) != level {
            let fields = vec![
                ("expected", level.into()),
                ("found", i32::from(b.hdr.bb_level).into()),
            ];
            self.hdr_finding(t, Hdr::Level, fields, bno);
            hdr_errors = hdr_errors.saturating_add(1);
            self.r.bad_ino_btree |= is_ino;
            if *suspect {
                return true;
            }
        }
        if t == Tree::Refc {
            self.nr_blocks = self.nr_blocks.saturating_add(1);
        }
        if !self.claim_block(t, bno, *suspect) {
            return true;
        }
        let lim = self.c.lim(t);
        let mut numrecs = u32::from(b.hdr.bb_numrecs);
        let li = usize::from(level != 0);
        let (mx, mn) = (
            lim.mxr.get(li).copied().unwrap_or(0),
            lim.mnr.get(li).copied().unwrap_or(0),
        );
        if numrecs > mx {
            numrecs = mx;
            hdr_errors = hdr_errors.saturating_add(1);
        }
        if !b.isroot && numrecs < mn {
            numrecs = mn;
            hdr_errors = hdr_errors.saturating_add(1);
        }
        let nrecs = vec![
            ("found", b.hdr.bb_numrecs.into()),
            ("min", mn.into()),
            ("max", mx.into()),
        ];
        if level == 0 {
            if hdr_errors > 0 {
                if is_ino {
                    self.r.bad_ino_btree = true;
                    let tree = ("tree", t.ptr_tree().into());
                    self.push(f(
                        Kind::InobtDubiousHeader,
                        vec![tree, self.ag(), ("agbno", bno.into())],
                    ));
                    *suspect = true;
                } else {
                    self.hdr_finding(t, Hdr::Nrecs, nrecs, bno);
                }
            }
            self.scan_recs(t, b, numrecs, suspect);
            return true;
        }
        if hdr_errors > 0 {
            if is_ino {
                self.r.bad_ino_btree = true;
            } else {
                self.hdr_finding(t, Hdr::Nrecs, nrecs, bno);
            }
            if *suspect {
                return true;
            }
            *suspect = true;
        } else {
            *suspect = false;
        }
        for i in 0..numrecs {
            let p = self.child_ptr(t, b.buf, i);
            if !self.verify_agbno(p) {
                self.push(self.block_finding(
                    Kind::BtreeBadPtr,
                    vec![("found", p.into()), ("tree", t.ptr_tree().into())],
                    bno,
                ));
                return false;
            }
            self.scan_sbtree(t, p, level.saturating_sub(1), *suspect, false);
        }
        true
    }

    /// Child pointer `i` of a node of tree `t`, through the tree's layout.
    fn child_ptr(&self, t: Tree, buf: &[u8], i: u32) -> u32 {
        let crc = self.c.geo.has_crc;
        let i = i as usize;
        let p = match t {
            Tree::Bno | Tree::Cnt => AllocBtree(AllocBy::Block).ptr_at(buf, crc, i),
            Tree::Ino | Tree::Fino => InoBtree::inobt(self.c.geo).ptr_at(buf, crc, i),
            Tree::Rmap => RmapBtree.ptr_at(buf, crc, i),
            Tree::Refc => RefcountBtree.ptr_at(buf, crc, i),
        };
        p.and_then(|p| u32::try_from(p).ok()).unwrap_or(0)
    }

    /// The block's claim in the block map; false when the scan of the block stops there.
    fn claim_block(&mut self, t: Tree, bno: u32, suspect: bool) -> bool {
        let state = self.bmap.get(bno);
        let (ok, kind, tree, stop) = match t {
            Tree::Bno | Tree::Cnt => (
                state == bmap::UNKNOWN,
                Kind::BtreeBlockMultiplyClaimed,
                t.name(),
                true,
            ),
            Tree::Ino | Tree::Fino => (
                matches!(
                    state,
                    bmap::FS_MAP1 | bmap::UNKNOWN | bmap::FREE1 | bmap::FREE
                ),
                Kind::InobtBlockMultiplyClaimed,
                t.ptr_tree(),
                false,
            ),
            Tree::Rmap => (
                state == bmap::UNKNOWN || state == bmap::FS_MAP1,
                Kind::RmapbtBlockMultiplyClaimed,
                "rmap",
                true,
            ),
            Tree::Refc => (
                state == bmap::UNKNOWN || state == bmap::REFC,
                Kind::InobtBlockMultiplyClaimed,
                "refcount",
                true,
            ),
        };
        if ok {
            self.bmap.set(bno, bmap::FS_MAP);
            return true;
        }
        self.bmap.set(bno, bmap::MULT);
        self.push(f(
            kind,
            vec![
                ("tree", tree.into()),
                ("state", state.into()),
                self.ag(),
                ("agbno", bno.into()),
                ("suspect", u32::from(suspect).into()),
            ],
        ));
        !stop
    }

    /// The records of a leaf (the first `numrecs` slots, as clamped), decoded by the tree's
    /// [`BtreeKind`], handed to the tree's record check.
    fn scan_recs(&mut self, t: Tree, b: &Blk<'_>, numrecs: u32, suspect: &mut bool) {
        let crc = self.c.geo.has_crc;
        let slots = (0..numrecs).map(|i| (i, i as usize));
        match t {
            Tree::Bno | Tree::Cnt => {
                let mut order = AllocOrder::default();
                for (i, s) in slots {
                    if let Some(r) = AllocBtree(AllocBy::Block).rec_at(b.buf, crc, s) {
                        self.alloc_rec(t, b.bno, i, r, &mut order);
                    }
                }
            }
            Tree::Ino | Tree::Fino => {
                let kind = InoBtree::inobt(self.c.geo);
                let mut lastino = 0u32;
                for (i, s) in slots {
                    if let Some(r) = kind.rec_at(b.buf, crc, s) {
                        self.ino_rec(t, b.bno, i, &r, &mut lastino, suspect);
                    }
                }
                if *suspect {
                    self.r.bad_ino_btree = true;
                }
            }
            Tree::Rmap => {
                let mut last = (0u32, 0u32, 0u64, 0u64);
                for (i, s) in slots {
                    if let Some(r) = RmapBtree.rec_at(b.buf, crc, s) {
                        self.rmap_rec(b.bno, i, r, &mut last);
                    }
                }
            }
            Tree::Refc => {
                let mut lastblock = 0u32;
                for (i, s) in slots {
                    if let Some(r) = RefcountBtree.rec_at(b.buf, crc, s) {
                        self.refc_rec(b.bno, i, r, &mut lastblock);
                    }
                }
            }
        }
    }

    /// A record's start or length is out of the AG (the allocbt wording every tree uses).
    fn bad_extent(&mut self, what: Kind, found: u32, rec: u32, tree: &'static str, bno: u32) {
        self.push(self.block_finding(
            what,
            vec![
                ("found", found.into()),
                ("rec", rec.into()),
                ("tree", tree.into()),
            ],
            bno,
        ));
    }

    /// scan_allocbt's record check.
    fn alloc_rec(&mut self, t: Tree, bno: u32, i: u32, r: AllocRec, order: &mut AllocOrder) {
        let name = t.name();
        let (start, len) = (r.ar_startblock, r.ar_blockcount);
        let end = start.wrapping_add(len);
        if !self.verify_agbno(start) {
            return self.bad_extent(Kind::AllocbtInvalidStart, start, i, name, bno);
        }
        if len == 0 || end <= start || !self.verify_agbno(end.wrapping_sub(1)) {
            return self.bad_extent(Kind::AllocbtInvalidLength, len, i, name, bno);
        }
        let out_of_order = || {
            vec![
                ("rec", i.into()),
                ("start", start.into()),
                ("len", len.into()),
            ]
        };
        if t == Tree::Bno {
            if start <= order.lastblock {
                self.push(self.block_finding(Kind::BnobtOutOfOrder, out_of_order(), bno));
            } else {
                order.lastblock = end.wrapping_sub(1);
            }
        } else {
            let cn = &mut self.r.counts;
            cn.fdblocks = cn.fdblocks.saturating_add(len.into());
            cn.agffreeblks = cn.agffreeblks.saturating_add(len.into());
            cn.agflongest = cn.agflongest.max(len.into());
            if len < order.lastcount {
                self.push(self.block_finding(Kind::CntbtOutOfOrder, out_of_order(), bno));
            } else {
                order.lastcount = len;
            }
        }
        let mut x = start;
        while x < end {
            let (state, blen) = self.bmap.get_ext(x, end);
            match state {
                bmap::UNKNOWN => self.bmap.set_ext(x, blen, bmap::FREE1),
                bmap::FREE1 if t == Tree::Cnt => self.bmap.set_ext(x, blen, bmap::FREE),
                _ => self.push(f(
                    Kind::FreespaceMultiplyClaimed,
                    vec![
                        self.ag(),
                        ("start", x.into()),
                        ("end", x.saturating_add(blen).saturating_sub(1).into()),
                        ("tree", name.into()),
                        ("state", state.into()),
                    ],
                )),
            }
            x = x.saturating_add(blen);
        }
    }

    /// scan_inobt's record check.
    fn ino_rec(
        &mut self,
        t: Tree,
        bno: u32,
        i: u32,
        rec: &InobtRec,
        lastino: &mut u32,
        suspect: &mut bool,
    ) {
        if i > 0 && rec.ir_startino <= *lastino {
            self.push(self.block_finding(
                Kind::InobtOutOfOrder,
                vec![
                    ("tree", t.name().into()),
                    ("rec", i.into()),
                    ("agino", rec.ir_startino.into()),
                ],
                bno,
            ));
        } else {
            *lastino = rec.ir_startino.saturating_add(63);
        }
        let cn = &mut self.r.counts;
        if t == Tree::Ino {
            let icount = if rec.sparse {
                u64::from(rec.ir_count)
            } else {
                64
            };
            cn.agicount = cn.agicount.saturating_add(icount);
            cn.agifreecount = cn.agifreecount.saturating_add(rec.ir_freecount.into());
            cn.ifreecount = cn.ifreecount.saturating_add(rec.ir_freecount.into());
            *suspect = self.scan_single_ino_chunk(rec, *suspect);
        } else {
            cn.fibtfreecount = cn.fibtfreecount.saturating_add(rec.ir_freecount.into());
            *suspect = self.scan_single_finobt_chunk(rec, *suspect);
        }
    }

    /// scan_rmapbt's record check. `last` is (startblock, last block, owner, offset) of the
    /// last record kept for the order check, set by record 0 whatever it holds.
    fn rmap_rec(&mut self, bno: u32, i: u32, r: RmapRec, last: &mut (u32, u32, u64, u64)) {
        let (start, len, owner, offset) =
            (r.rm_startblock, r.rm_blockcount, r.rm_owner, r.rm_offset);
        let end = start.wrapping_add(len);
        if start >= self.ag_size {
            return self.bad_extent(Kind::AllocbtInvalidStart, start, i, "rmap", bno);
        }
        if len == 0 || end <= start || end.wrapping_sub(1) >= self.ag_size {
            return self.bad_extent(Kind::AllocbtInvalidLength, len, i, "rmap", bno);
        }
        let (lstart, lblock, lowner, loff) = *last;
        let bad = i != 0
            && if self.c.geo.has_reflink {
                (start, owner, offset) <= (lstart, lowner, loff)
            } else {
                start <= lblock
            };
        if bad {
            self.push(self.block_finding(
                Kind::RmapbtOutOfOrder,
                vec![
                    ("rec", i.into()),
                    ("start", start.into()),
                    ("owner", Val::I(owner as i64)),
                    ("offset", offset.into()),
                    ("len", len.into()),
                ],
                bno,
            ));
        } else {
            *last = (start, end.wrapping_sub(1), owner, offset);
        }
        let mut x = start;
        while x < end {
            let (state, blen) = self.bmap.get_ext(x, end);
            self.process_rmap_rec(x, blen, owner as i64, state);
            x = x.saturating_add(blen);
        }
    }

    /// scan_refcbt's record check.
    fn refc_rec(&mut self, bno: u32, i: u32, r: RefcountRec, lastblock: &mut u32) {
        let (start, len, nr) = (r.rc_startblock, r.rc_blockcount, r.rc_refcount);
        let agb = r.startblock();
        let end = agb.wrapping_add(len);
        if !self.verify_agbno(agb) {
            return self.bad_extent(Kind::AllocbtInvalidStart, start, i, "refcount", bno);
        }
        if len == 0 || end <= agb || !self.verify_agbno(end.wrapping_sub(1)) {
            return self.bad_extent(Kind::AllocbtInvalidLength, len, i, "refcount", bno);
        }
        if nr != 1 && nr < 2 {
            return self.bad_extent(Kind::RefcbtBadRefcount, nr, i, "refcount", bno);
        }
        if !r.is_cow() {
            self.r.refcounts.push((start, len, nr));
        }
        if start != 0 && start <= *lastblock {
            self.push(self.block_finding(
                Kind::RefcbtOutOfOrder,
                vec![
                    ("rec", i.into()),
                    ("start", start.into()),
                    ("len", len.into()),
                ],
                bno,
            ));
        } else {
            *lastblock = end.wrapping_sub(1);
        }
    }

    fn is_sparse(&self, rec: &InobtRec, j: u32) -> bool {
        self.c.geo.has_sparse_inodes && !rec.is_present(j)
    }

    /// A finding about block `agbno` of an inode chunk (`inopb`: inodes per block).
    fn chunk_block(&mut self, kind: Kind, agbno: u32) {
        let ipb = self.c.geo.inodes_per_block.max(1);
        let fields = vec![self.ag(), ("agbno", agbno.into()), ("inopb", ipb.into())];
        self.push(f(kind, fields));
    }

    /// A count of the chunk at `agino` that its record gets wrong.
    fn chunk_count(&mut self, kind: Kind, agino: u32, found: u32, expected: u32) {
        let fields = vec![
            self.ag(),
            ("agino", agino.into()),
            ("found", found.into()),
            ("expected", expected.into()),
        ];
        self.push(f(kind, fields));
    }

    /// The record of the chunk at `agino` overlaps the in-core chunk at `first`.
    fn chunk_overlap(&mut self, kind: Kind, agino: u32, first: u32) {
        let fields = vec![
            ("ino", self.agino_to_ino(agino).into()),
            self.ag(),
            ("agino", agino.into()),
            ("ag2", self.agno.into()),
            ("agino2", first.into()),
        ];
        self.push(f(kind, fields));
    }

    /// A chunk record whose inode `agino` is not in the AG.
    fn chunk_agino(&mut self, kind: Kind, agino: u32, tree: &str) {
        let fields = vec![
            ("ino", self.agino_to_ino(agino).into()),
            self.ag(),
            ("agino", agino.into()),
            ("tree", tree.into()),
        ];
        self.push(f(kind, fields));
    }

    /// Start of the in-core chunk overlapping `[start, start + 64)`.
    fn find_chunk(&self, start: u32) -> Option<u32> {
        let lo = start.saturating_sub(63);
        let hi = start.saturating_add(64);
        self.r
            .chunks
            .range(lo..hi)
            .map(|(k, _)| *k)
            .find(|k| k.saturating_add(64) > start)
    }

    /// Returns the updated suspect flag, or None when the record was skipped.
    fn align_check(&mut self, rec: &InobtRec, tree: &str, suspect: &mut bool) -> bool {
        let ino = rec.ir_startino;
        let off = self.agino_offset(ino);
        let agbno = self.agino_to_agbno(ino);
        let ipb = self.c.geo.inodes_per_block;
        let aligned_fs = self.c.sb.has_align();
        let align = self.c.sb.sb_inoalignmt;
        if ino == 0
            || (ipb <= 64 && off != 0)
            || (ipb > 64 && !off.is_multiple_of(64))
            || (aligned_fs && align != 0 && !agbno.is_multiple_of(align))
        {
            let lino = self.agino_to_ino(ino);
            self.push(f(
                Kind::InobtRecMisaligned,
                vec![("tree", tree.into()), ("ino", lino.into())],
            ));
            *suspect = true;
        }
        if !self.verify_agino(ino) {
            self.chunk_agino(Kind::InobtRecBadStart, ino, tree);
            *suspect = true;
            return false;
        }
        let last = ino.saturating_add(63);
        if !self.verify_agino(last) {
            self.chunk_agino(Kind::InobtRecBadEnd, last, tree);
            *suspect = true;
            return false;
        }
        true
    }

    fn import_chunk(&mut self, rec: &InobtRec, tree: &str, mut suspect: bool) -> (bool, u32, u32) {
        let mut sparse_mask = 0u64;
        let (mut nfree, mut ninodes) = (0u32, 0u32);
        for j in 0..64u32 {
            let free = rec.is_free(j);
            if self.is_sparse(rec, j) {
                if !suspect && !free {
                    self.push(f(
                        Kind::InobtHolemaskMismatch,
                        vec![
                            ("tree", tree.into()),
                            self.ag(),
                            ("agino", rec.ir_startino.into()),
                            ("holemask", rec.ir_holemask.into()),
                            ("free", rec.ir_free.into()),
                        ],
                    ));
                    suspect = true;
                }
                sparse_mask |= 1u64.checked_shl(j).unwrap_or(0);
            } else {
                if free {
                    nfree = nfree.saturating_add(1);
                }
                ninodes = ninodes.saturating_add(1);
            }
        }
        if !suspect {
            self.r.chunks.insert(
                rec.ir_startino,
                Chunk {
                    free: rec.ir_free,
                    sparse: sparse_mask,
                },
            );
        }
        (suspect, nfree, ninodes)
    }

    fn scan_single_ino_chunk(&mut self, rec: &InobtRec, mut suspect: bool) -> bool {
        let Some(blocks) = self.chunk_blocks(rec, "inobt", &mut suspect) else {
            return suspect;
        };
        let ino = rec.ir_startino;
        for (agbno, sparse) in blocks {
            if !sparse {
                match self.bmap.get(agbno) {
                    bmap::INO => {}
                    bmap::UNKNOWN | bmap::INO1 => self.bmap.set(agbno, bmap::INO),
                    _ => {
                        self.chunk_block(Kind::InobtChunkClaimsUsed, agbno);
                        return true;
                    }
                }
            }
        }
        if let Some(first) = self.find_chunk(ino) {
            self.chunk_overlap(Kind::InobtRecOverlap, ino, first);
            suspect = true;
            if first == ino {
                return suspect;
            }
        }
        let (s, nfree, ninodes) = self.import_chunk(rec, "inobt", suspect);
        let kinds = [Some(Kind::InobtRecFreecountMismatch), None];
        self.chunk_counts(rec, kinds, nfree, ninodes);
        s
    }

    fn scan_single_finobt_chunk(&mut self, rec: &InobtRec, mut suspect: bool) -> bool {
        let Some(blocks) = self.chunk_blocks(rec, "finobt", &mut suspect) else {
            return suspect;
        };
        let ino = rec.ir_startino;
        for (agbno, sparse) in blocks {
            let state = self.bmap.get(agbno);
            if sparse {
                if state == bmap::INO {
                    self.chunk_block(Kind::FinobtSparseClaimsInode, agbno);
                    suspect = true;
                }
            } else {
                match state {
                    bmap::INO => {}
                    bmap::INO1 => self.bmap.set(agbno, bmap::INO),
                    bmap::UNKNOWN => {
                        self.chunk_block(Kind::FinobtChunkClaimsUntracked, agbno);
                        self.bmap.set(agbno, bmap::INO);
                        suspect = true;
                    }
                    _ => {
                        self.chunk_block(Kind::FinobtChunkClaimsUsed, agbno);
                        return true;
                    }
                }
            }
        }
        let (nfree, ninodes);
        if let Some(first) = self.find_chunk(ino) {
            if suspect {
                return suspect;
            }
            if first != ino {
                self.chunk_overlap(Kind::FinobtRecMismatch, ino, first);
                return true;
            }
            let chunk = self
                .r
                .chunks
                .get(&first)
                .copied()
                .unwrap_or(Chunk { free: 0, sparse: 0 });
            let (mut nf, mut ni) = (0u32, 0u32);
            for j in 0..64u32 {
                let isfree = rec.is_free(j);
                let issparse = self.is_sparse(rec, j);
                if !issparse {
                    ni = ni.saturating_add(1);
                    if isfree {
                        nf = nf.saturating_add(1);
                    }
                }
                let cfree = chunk.free.checked_shr(j).unwrap_or(0) & 1 != 0;
                let csparse = chunk.sparse.checked_shr(j).unwrap_or(0) & 1 != 0;
                if !suspect && (isfree != cfree || issparse != csparse) {
                    suspect = true;
                }
            }
            nfree = nf;
            ninodes = ni;
        } else {
            let lino = self.agino_to_ino(ino);
            self.push(f(
                Kind::FinobtRecUndiscovered,
                vec![("ino", lino.into()), self.ag(), ("agino", ino.into())],
            ));
            let (s, nf, ni) = self.import_chunk(rec, "finobt", suspect);
            suspect = s;
            nfree = nf;
            ninodes = ni;
        }
        let kinds = [
            Some(Kind::FinobtRecFreecountMismatch),
            Some(Kind::FinobtRecNoFree),
        ];
        self.chunk_counts(rec, kinds, nfree, ninodes);
        suspect
    }

    /// The start of scan_single_ino_chunk / scan_single_finobt_chunk: the alignment checks
    /// (`None` when the record is unusable), then the inode blocks of the chunk to check
    /// against the block map, each with whether it is a sparse hole (none when the chunk is
    /// not block aligned or already `suspect`).
    fn chunk_blocks(
        &mut self,
        rec: &InobtRec,
        tree: &str,
        suspect: &mut bool,
    ) -> Option<Vec<(u32, bool)>> {
        if !self.align_check(rec, tree, suspect) {
            return None;
        }
        let ino = rec.ir_startino;
        let ipb = self.c.geo.inodes_per_block.max(1);
        if self.agino_offset(ino) != 0 || *suspect {
            return Some(Vec::new());
        }
        let block = |j: u32| {
            (
                self.agino_to_agbno(ino.saturating_add(j)),
                self.is_sparse(rec, j),
            )
        };
        Some((0..64u32).step_by(ipb as usize).map(block).collect())
    }

    /// The counts of a chunk record against those counted (`nfree` free of `ninodes`):
    /// `[freecount mismatch, no free inode (finobt only)]` finding kinds, then the sparse
    /// `ir_count` check.
    fn chunk_counts(&mut self, rec: &InobtRec, kinds: [Option<Kind>; 2], nfree: u32, ninodes: u32) {
        let ino = rec.ir_startino;
        let [freecount, no_free] = kinds;
        if let Some(kind) = freecount.filter(|_| nfree != rec.ir_freecount) {
            self.chunk_count(kind, ino, rec.ir_freecount, nfree);
        }
        if let Some(kind) = no_free.filter(|_| nfree == 0) {
            self.push(f(kind, vec![self.ag(), ("agino", ino.into())]));
        }
        if self.c.geo.has_sparse_inodes && ninodes != u32::from(rec.ir_count) {
            let kind = Kind::InobtRecCountInvalid;
            self.chunk_count(kind, ino, rec.ir_count.into(), ninodes);
        }
    }

    fn process_rmap_rec(&mut self, b: u32, blen: u32, owner: i64, state: u8) {
        const OWN_NULL: i64 = -1;
        const OWN_FS: i64 = -3;
        const OWN_LOG: i64 = -4;
        const OWN_AG: i64 = -5;
        const OWN_INOBT: i64 = -6;
        const OWN_INODES: i64 = -7;
        const OWN_REFC: i64 = -8;
        const OWN_COW: i64 = -9;
        let mismatch = |what: &str| -> Option<&'static str> {
            match what {
                "fs" if owner == OWN_FS || owner == OWN_LOG => None,
                "ag" if owner == OWN_AG || owner == OWN_INOBT => None,
                "ino" if owner == OWN_INODES => None,
                "refc" if owner == OWN_REFC => None,
                "fs" => Some("Static meta"),
                "ag" => Some("AG meta"),
                "ino" => Some("inode"),
                "refc" => Some("AG refcount"),
                _ => None,
            }
        };
        let what = match state {
            bmap::UNKNOWN => {
                let s = match owner {
                    OWN_FS | OWN_LOG => Some(bmap::INUSE_FS1),
                    OWN_AG | OWN_INOBT => Some(bmap::FS_MAP1),
                    OWN_INODES => Some(bmap::INO1),
                    OWN_REFC => Some(bmap::REFC),
                    OWN_COW => Some(bmap::COW),
                    OWN_NULL => None,
                    _ => Some(bmap::INUSE1),
                };
                if let Some(s) = s {
                    self.bmap.set_ext(b, blen, s);
                }
                None
            }
            bmap::INUSE_FS => mismatch("fs"),
            bmap::FS_MAP => mismatch("ag"),
            bmap::INO => mismatch("ino"),
            bmap::REFC => mismatch("refc"),
            bmap::INUSE => {
                if owner >= 0 && (owner as u64) < self.c.geo.data_blocks {
                    None
                } else {
                    Some("in use")
                }
            }
            bmap::FREE1 | bmap::FREE => None,
            bmap::INUSE1 if self.c.geo.has_reflink && owner >= 0 => None,
            _ => Some("unknown"),
        };
        if let Some(w) = what {
            let end = b.saturating_add(blen).saturating_sub(1);
            let mut fields = vec![
                self.ag(),
                ("start", b.into()),
                ("end", end.into()),
                ("tree", "rmap".into()),
                ("state", state.into()),
                ("owner", Val::U(owner as u64)),
            ];
            if w == "unknown" {
                self.push(f(Kind::RmapRecUnknown, fields));
            } else {
                fields.insert(0, ("what", w.into()));
                self.push(f(Kind::RmapRecMismatch, fields));
            }
        }
    }
}

/// The level a root is scanned at: `levels - 1` computed on the unsigned field and read
/// as a signed level, as xfs_repair passes it (a bad AGF's 0 gives -1, 0xffffffff -2).
fn level_of(levels: u32) -> i32 {
    levels.wrapping_sub(1).cast_signed()
}

/// The AGF or the AGI: phase 2 checks both alike (read verifier, identity fields, uuid),
/// each with its own finding kinds (the columns of [`HDR_KINDS`]).
#[derive(Debug, Clone, Copy)]
enum AgHdr {
    Agf,
    Agi,
}

impl AgHdr {
    /// This header's column of a `[AGF, AGI]` row of [`HDR_KINDS`].
    fn kind(self, [agf, agi]: [Kind; 2]) -> Kind {
        match self {
            AgHdr::Agf => agf,
            AgHdr::Agi => agi,
        }
    }
    /// The read verifier's name.
    fn ops(self) -> &'static str {
        match self {
            AgHdr::Agf => "xfs_agf",
            AgHdr::Agi => "xfs_agi",
        }
    }
}

/// The finding kinds of the checks both AG headers get, `[AGF, AGI]` per check.
struct HdrKinds {
    crc: [Kind; 2],
    magic: [Kind; 2],
    version: [Kind; 2],
    seqno: [Kind; 2],
    length: [Kind; 2],
    uuid: [Kind; 2],
    reset: [Kind; 2],
}

const HDR_KINDS: HdrKinds = HdrKinds {
    crc: [Kind::AgfBadCrc, Kind::AgiBadCrc],
    magic: [Kind::AgfBadMagic, Kind::AgiBadMagic],
    version: [Kind::AgfBadVersion, Kind::AgiBadVersion],
    seqno: [Kind::AgfBadSeqno, Kind::AgiBadSeqno],
    length: [Kind::AgfBadLength, Kind::AgiBadLength],
    uuid: [Kind::AgfBadUuid, Kind::AgiBadUuid],
    reset: [Kind::AgfWouldReset, Kind::AgiWouldReset],
};

/// The identity fields of an AGF or AGI, as the read verifiers and verify_set_agf /
/// verify_set_agi check them.
struct HdrIds<'h> {
    hdr: AgHdr,
    checks: &'h xfs_format::ag::HeaderChecks,
    magicnum: u32,
    versionnum: u32,
    seqno: u32,
    length: u32,
    uuid: [u8; 16],
}

impl HdrIds<'_> {
    /// The identity part of xfs_agf_verify / xfs_agi_verify: uuid (v5), magic, version,
    /// sequence number.
    fn ok(&self, g: &Geometry) -> bool {
        (!g.has_crc || self.uuid == g.meta_uuid)
            && self.checks.magic_ok
            && self.checks.version_ok
            && self.checks.seqno_ok
    }
}

/// Which header field a finding is about.
#[derive(Debug, Clone, Copy)]
enum Hdr {
    Magic,
    Level,
    Nrecs,
}

/// The order state of a free space leaf: the last block of the last bnobt record, the length
/// of the last cntbt record.
#[derive(Debug, Default)]
struct AllocOrder {
    lastblock: u32,
    lastcount: u32,
}

struct Blk<'b> {
    buf: &'b [u8],
    hdr: BlockHeader,
    bno: u32,
    level: i32,
    isroot: bool,
}

/// Scans AG `agno` (xfs_repair's scan_ag).
pub fn scan_ag<S: ByteSource>(c: &Ctx<'_, S>, agno: u32) -> AgResult {
    let ag_size = c.geo.ag_size(agno).unwrap_or(0);
    let ag = Ag {
        c,
        agno,
        ag_size,
        bmap: Bmap::new(c.hdr_blocks, ag_size),
        r: AgResult::default(),
        nr_blocks: 0,
        ino_blocks: 0,
        fino_blocks: 0,
    };
    ag.run()
}

/// Phase 2 after the log: every AG, the summed counters, the root inode chunk.
pub fn phase2<S: ByteSource>(fs: &Filesystem<S>, out: &mut Vec<Finding>) -> Vec<AgResult> {
    let c = Ctx::new(fs);
    let mut ags = Vec::new();
    let mut tot = Counts::default();
    let mut ag0_chunks = BTreeMap::new();
    // The AG scans are independent (xfs_repair runs them on a thread per AG too); results
    // are merged in AG order, so the output does not depend on scheduling.
    use rayon::prelude::*;
    let results: Vec<AgResult> = (0..fs.geo.ag_count)
        .into_par_iter()
        .map(|agno| scan_ag(&c, agno))
        .collect();
    for (agno, mut r) in (0u32..).zip(results) {
        for f in &mut r.findings {
            f.ag_context = Some(agno);
        }
        out.append(&mut r.findings);
        tot.fdblocks = tot.fdblocks.saturating_add(r.counts.fdblocks);
        tot.agicount = tot.agicount.saturating_add(r.counts.agicount);
        tot.ifreecount = tot.ifreecount.saturating_add(r.counts.ifreecount);
        if agno == 0 {
            ag0_chunks = r.chunks.clone();
        }
        ags.push(r);
    }
    let sb = &fs.sb.raw;
    for (kind, found, expected) in [
        (Kind::SbIcountMismatch, sb.sb_icount, tot.agicount),
        (Kind::SbIfreeMismatch, sb.sb_ifree, tot.ifreecount),
        (Kind::SbFdblocksMismatch, sb.sb_fdblocks, tot.fdblocks),
    ] {
        out.extend(count_finding(kind, found, expected, None));
    }
    // Root inode chunk (the root is in AG 0 on every valid filesystem).
    let bits = u32::from(fs.geo.ag_blk_log).saturating_add(fs.geo.inopb_log.into());
    let mask = shl(1, bits).saturating_sub(1);
    let root = u32::try_from(sb.sb_rootino & mask).unwrap_or(u32::MAX);
    let chunk = ag0_chunks
        .range(root.saturating_sub(63)..=root)
        .next_back()
        .filter(|(k, _)| k.saturating_add(64) > root)
        .map(|(_, v)| *v);
    match chunk {
        None => out.push(f(Kind::RootChunkNotFound, vec![])),
        Some(ch) => {
            for (bit, kind) in [
                (0u32, Kind::RootMarkedFree),
                (1, Kind::RbminoMarkedFree),
                (2, Kind::RsuminoMarkedFree),
            ] {
                if ch.free.checked_shr(bit).unwrap_or(0) & 1 != 0 {
                    out.push(f(kind, vec![]));
                }
            }
        }
    }
    ags
}
