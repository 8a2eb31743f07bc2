//! Directory checks of phases 3 and 4 (xfs_repair's dir2.c): shortform directories
//! (process_sf_dir2) and block, leaf and node directories (process_dir2 for long-form
//! directories: process_block_dir2, process_leaf_node_dir2 and process_dir2_data).

use xfs_format::bmap::BmbtRec;
use xfs_format::dir2::{
    BlockTail, DataHdr, DataItemView, DirGeo, XFS_DIR2_BLOCK_MAGIC, XFS_DIR2_DATA_MAGIC,
    XFS_DIR3_BLOCK_MAGIC, XFS_DIR3_DATA_MAGIC,
};
use xfs_format::fields::CrcState;
use xfs_format::verify::{self, Expected, Layout};
use xfs_format::ByteSource;

use crate::da_util::{DaCursor, Fork, Verify};
use crate::finding::{verifier_error, Kind, Val};
use crate::state::Checker;

/// What process_dir2_data tells its caller.
struct DataState {
    dot: bool,
    dotdot: bool,
    parent: Option<u64>,
}

/// Last mapped file offset + 1 (blkmap_last_off).
fn last_off(recs: &[BmbtRec]) -> u64 {
    recs.iter().map(BmbtRec::end).max().unwrap_or(0)
}

impl<S: ByteSource> Checker<'_, S> {
    /// A value of the short-form fork of inode `ino` that xfs_repair would correct (`kind`:
    /// the directory size, the attribute count or totsize): the value `found` and the one
    /// it would set.
    pub(crate) fn push_sf_fix(
        &mut self,
        kind: Kind,
        ino: u64,
        found: impl Into<Val>,
        expected: impl Into<Val>,
    ) {
        let fields = vec![
            ("ino", ino.into()),
            ("found", found.into()),
            ("expected", expected.into()),
        ];
        self.push(kind, fields);
    }

    /// Directory block `dbno` of inode `ino` carries the magic `found`, not the one its
    /// place in the directory calls for.
    fn push_dir_bad_magic(&mut self, found: u32, dbno: u64, ino: u64) {
        let fields = vec![
            ("found", found.into()),
            ("blk", dbno.into()),
            ("ino", ino.into()),
        ];
        self.push(Kind::DirBlockBadMagic, fields);
    }

    /// The entry `name` of directory `dir_ino` (at `at`: its block and offset in a
    /// long-form directory) refers to inode `ino`, which is `reason` (free, non-existent...).
    pub(crate) fn push_bad_ref(
        &mut self,
        kind: Kind,
        name: &str,
        at: &[(&'static str, Val)],
        dir_ino: u64,
        reason: &str,
        ino: u64,
    ) {
        let mut fields = vec![("name", name.into())];
        fields.extend(at.iter().cloned());
        fields.push(("dir_ino", dir_ino.into()));
        fields.push(("reason", reason.into()));
        fields.push(("ino", ino.into()));
        self.push(kind, fields);
    }

    /// Short-form directory checks of phases 3 and 4 (process_sf_dir2).
    pub(crate) fn sf_dir(&mut self, ino: u64, fork: &[u8], size: i64) {
        let sf = xfs_format::dir2::parse_shortform(fork, self.fs.geo.has_ftype);
        let parent = sf.hdr.parent;
        let ents: Vec<(Vec<u8>, u64)> = sf
            .entries
            .iter()
            .map(|e| (e.name.clone(), e.inumber))
            .collect();
        // Where the entries end; past the fork when the last one did not fit.
        let all_fit = sf.entries.len() == usize::from(sf.hdr.count);
        let off = if all_fit {
            sf.used
        } else {
            fork.len().saturating_add(1)
        };
        if i64::try_from(off).unwrap_or(i64::MAX) != size && off <= fork.len() {
            self.push_sf_fix(Kind::SfdirSizeFix, ino, size, off as i64);
        }
        let size_bad = i64::try_from(off).unwrap_or(i64::MAX) != size;
        if size_bad || !self.valid_ino(parent) {
            self.unmappable.insert(ino);
        }
        if !self.valid_ino(parent) {
            self.push(
                Kind::SfdirBogusParent,
                vec![("found", parent.into()), ("ino", ino.into())],
            );
        }
        if self.phase != 4 {
            for (_, t) in ents {
                if self.valid_ino(t) && self.slot(t).is_none() {
                    self.uncertain.push(t);
                }
            }
            return;
        }
        for (name, target) in ents {
            let nm = String::from_utf8_lossy(&name).into_owned();
            if !self.valid_ino(target) {
                continue;
            }
            let reason = match self.slot(target) {
                None => "non-existent",
                Some(s) if !s.used => "free",
                Some(_) => continue,
            };
            self.push_bad_ref(Kind::SfdirEntryBadRef, &nm, &[], ino, reason, target);
            self.push(
                Kind::SfdirWouldJunkNamed,
                vec![("name", nm.into()), ("dir_ino", ino.into())],
            );
        }
    }

    /// process_dir2 for extents/btree-format directories. Returns true when the directory
    /// is bad (the caller prints "problem with directory contents").
    pub(crate) fn lf_dir(&mut self, ino: u64, recs: &[BmbtRec]) -> bool {
        let Some(dg) = DirGeo::new(&self.fs.geo) else {
            return true;
        };
        let fsbcount = u64::from(dg.fsbcount);
        let leafblk = u64::from(dg.leaf_db).saturating_mul(fsbcount);
        let last = last_off(recs);
        let mut st = DataState {
            dot: false,
            dotdot: false,
            parent: None,
        };
        let res = if last == fsbcount {
            self.block_dir(ino, recs, &dg, &mut st)
        } else if last >= leafblk.saturating_add(fsbcount) {
            self.leaf_node_dir(ino, recs, &dg, leafblk, &mut st)
        } else {
            self.push(Kind::DirBadSizeFormat, vec![("ino", ino.into())]);
            return true;
        };
        // set_inode_parent: in phase 3 (inode discovery) only.
        if self.phase == 3 {
            self.dir_parents.insert(ino, st.parent);
        }
        if !st.dot {
            self.push(Kind::DirNoDot, vec![("ino", ino.into())]);
        }
        if !st.dotdot {
            if ino == self.fs.sb.raw.sb_rootino {
                self.push(Kind::DirNoDotdotRoot, vec![("ino", ino.into())]);
            } else {
                self.push(Kind::DirNoDotdot, vec![("ino", ino.into())]);
            }
        }
        res
    }

    /// Reads directory block starting at file block `fblk` through the buffer cache model:
    /// the verifier runs (and reports) only on the first read of a buffer.
    fn dir_buf(
        &mut self,
        ino: u64,
        recs: &[BmbtRec],
        dg: &DirGeo,
        fblk: u64,
        block_ops: bool,
    ) -> Option<(Vec<u8>, Verify)> {
        let (fsb, _) = xfs_format::bmap::lookup(recs, fblk)?;
        let buf = self
            .fs
            .read_logical(recs, fblk, u64::from(dg.fsbcount))
            .ok()?;
        let daddr = self.fs.fsb_to_offset(fsb).unwrap_or(0) / 512;
        if !self.dir_bufs_seen.insert(daddr) {
            return Some((buf, Verify::Ok));
        }
        let want = match (block_ops, dg.has_crc) {
            (true, true) => XFS_DIR3_BLOCK_MAGIC,
            (true, false) => XFS_DIR2_BLOCK_MAGIC,
            (false, true) => XFS_DIR3_DATA_MAGIC,
            (false, false) => XFS_DIR2_DATA_MAGIC,
        };
        let h = verify::verify(
            &buf,
            &Layout::DIR3_BLK_HDR,
            &Expected {
                magic: Some(want),
                blkno: Some(daddr),
                uuid: Some(self.fs.geo.meta_uuid),
                owner: Some(ino),
            },
        );
        let mut v = Verify::Ok;
        if dg.has_crc && h.crc == CrcState::Bad {
            v = Verify::BadCrc;
        }
        let mut ok = h.magic_ok;
        if ok && dg.has_crc {
            ok = h.uuid_ok && h.blkno_ok;
        }
        if v == Verify::Ok && !(ok && self.dir_data_check(&buf, dg)) {
            v = Verify::Corrupt;
        }
        if v != Verify::Ok {
            let ops = if block_ops {
                "xfs_dir3_block"
            } else {
                "xfs_dir3_data"
            };
            self.push(
                Kind::VerifierError,
                verifier_error(v == Verify::Corrupt, ops, daddr, dg.blksize.into()),
            );
        }
        Some((buf, v))
    }

    /// xfs_verify_dir_ino: a valid inode number that is not a metadata inode.
    pub(crate) fn verify_dir_ino(&self, ino: u64) -> bool {
        let sb = &self.fs.sb.raw;
        if !self.valid_ino(ino) || ino == sb.sb_rbmino || ino == sb.sb_rsumino {
            return false;
        }
        let quota = [sb.sb_uquotino, sb.sb_gquotino, sb.sb_pquotino];
        !quota.iter().any(|q| *q != 0 && *q != u64::MAX && *q == ino)
    }

    /// __xfs_dir3_data_check of the data/block read verifiers.
    pub(crate) fn dir_data_check(&self, b: &[u8], dg: &DirGeo) -> bool {
        xfs_format::dir2::data::data_check(b, dg, |i| self.verify_dir_ino(i))
    }

    /// process_block_dir2.
    fn block_dir(&mut self, ino: u64, recs: &[BmbtRec], dg: &DirGeo, st: &mut DataState) -> bool {
        let blk = ("blk", Val::U(0));
        let Some((buf, v)) = self.dir_buf(ino, recs, dg, 0, true) else {
            self.push(Kind::DirBlockMissing, vec![blk, ("ino", ino.into())]);
            return true;
        };
        if v == Verify::Corrupt {
            self.push(Kind::DirBlockCorrupt, vec![blk, ("ino", ino.into())]);
            return true;
        }
        let magic = DataHdr::parse(&buf, dg.has_crc).magic;
        if magic != XFS_DIR2_BLOCK_MAGIC && magic != XFS_DIR3_BLOCK_MAGIC {
            self.push_dir_bad_magic(magic, 0, ino);
        }
        let bsz = dg.blksize as usize;
        // The leaf array, not past the tail; a count too large to fit ends the data area
        // before its start (process_dir2_data then finds the block corrupt).
        let endptr = BlockTail::parse(&buf, bsz).leaf_offset(bsz);
        self.dir2_data(ino, &buf, 0, endptr, st)
    }

    /// process_leaf_node_dir2 (data blocks; the da btree of node directories is not walked).
    fn leaf_node_dir(
        &mut self,
        ino: u64,
        recs: &[BmbtRec],
        dg: &DirGeo,
        leafblk: u64,
        st: &mut DataState,
    ) -> bool {
        let fsbcount = u64::from(dg.fsbcount).max(1);
        // Data blocks: mapped file blocks below the leaf space, one per directory block.
        let mut sorted: Vec<&BmbtRec> = recs.iter().collect();
        sorted.sort_by_key(|r| r.startoff);
        let mut good = 0usize;
        let mut next = 0u64;
        for r in sorted {
            let mut f = r.startoff.max(next);
            let mut steps = 0u32;
            while f < r.end() && f < leafblk {
                steps = steps.saturating_add(1);
                if steps > 1_000_000 {
                    break;
                }
                let dbno = f;
                match self.dir_buf(ino, recs, dg, dbno, false) {
                    None => {
                        self.push(
                            Kind::DirDataBlockMissing,
                            vec![("blk", dbno.into()), ("ino", ino.into())],
                        );
                    }
                    Some((_, Verify::Corrupt)) => {
                        self.push(
                            Kind::DirDataBlockCorrupt,
                            vec![("blk", dbno.into()), ("ino", ino.into())],
                        );
                    }
                    Some((buf, _)) => {
                        let magic = DataHdr::parse(&buf, dg.has_crc).magic;
                        if magic != XFS_DIR2_DATA_MAGIC && magic != XFS_DIR3_DATA_MAGIC {
                            self.push_dir_bad_magic(magic, dbno, ino);
                        }
                        let blk = u32::try_from(dbno).unwrap_or(u32::MAX);
                        if !self.dir2_data(ino, &buf, blk, dg.blksize as usize, st) {
                            good = good.saturating_add(1);
                        }
                    }
                }
                f = f.saturating_add(fsbcount);
            }
            next = f;
        }
        if good == 0 {
            return true;
        }
        // process_node_dir2 (once per directory: a directory on the bad list is skipped).
        if last_off(recs) > leafblk.saturating_add(fsbcount)
            && !self.dir_badlist.contains(&ino)
            && self.process_node_dir2(ino, recs)
        {
            self.dir_badlist.insert(ino);
        }
        false
    }

    /// process_node_dir2: the da btree of a node directory. True when the directory goes
    /// on the bad list.
    fn process_node_dir2(&mut self, ino: u64, recs: &[BmbtRec]) -> bool {
        let mut cur = DaCursor::new(ino, Fork::Dir);
        match self.traverse_int_dablock(&mut cur, recs) {
            None => true,
            Some(0) => cur.active() > 0,
            Some(_) => self.process_leaf_level_dir2(&mut cur, recs),
        }
    }

    /// process_dir2_data: one data block (or the data area of a block directory) ending at
    /// `endptr`. Returns true when the block is structurally corrupt.
    fn dir2_data(
        &mut self,
        ino: u64,
        d: &[u8],
        da_bno: u32,
        endptr: usize,
        st: &mut DataState,
    ) -> bool {
        let has_crc = self.fs.geo.has_crc;
        let ftype = self.fs.geo.has_ftype;
        let start = xfs_format::dir2::dir_hdr_size(has_crc);
        let bf: [(u16, u16); 3] = DataHdr::parse(d, has_crc)
            .bestfree
            .map(|f| (f.offset, f.length));
        let (ptr, badbest, freeseen) = structure_pass(d, (start, endptr), ftype, &bf);
        if ptr != endptr {
            self.push(
                Kind::DirDataCorrupt,
                vec![("blk", da_bno.into()), ("ino", ino.into())],
            );
            self.push(Kind::DirWouldJunkBlock, vec![]);
            return true;
        }
        let sb = &self.fs.sb.raw;
        let internal = [
            (sb.sb_rbmino, "realtime bitmap"),
            (sb.sb_rsumino, "realtime summary"),
            (sb.sb_uquotino, "user quota"),
            (sb.sb_gquotino, "group quota"),
            (sb.sb_pquotino, "project quota"),
        ];
        let internal_set: Vec<u64> = internal
            .iter()
            .map(|(i, _)| *i)
            .filter(|i| *i != 0 && *i != u64::MAX)
            .collect();
        let mut ptr = start;
        while ptr < endptr {
            let it = DataItemView::at(d, ptr);
            if it.is_unused() {
                let len = usize::from(it.length()).max(8);
                ptr = ptr.saturating_add(len);
                continue;
            }
            self.data_entry(ino, (da_bno, ptr), &it, st, (&internal, &internal_set));
            ptr = ptr.saturating_add(it.entsize(ftype));
        }
        if freeseen != 7 || badbest {
            self.push(
                Kind::DirBadBestfree,
                vec![("blk", da_bno.into()), ("ino", ino.into())],
            );
        }
        false
    }

    /// One entry of a data block (the second loop of process_dir2_data): its inode
    /// reference, name, and `.` / `..` bookkeeping. `at`: (directory block, byte offset);
    /// `internal`: the metadata inodes no entry may name.
    fn data_entry(
        &mut self,
        ino: u64,
        (da_bno, off): (u32, usize),
        it: &DataItemView<'_>,
        st: &mut DataState,
        (internal, internal_set): (&[(u64, &'static str)], &[u64]),
    ) {
        let discovery = self.phase() == 3;
        let root = self.fs.sb.raw.sb_rootino;
        let ent = it.inumber();
        let nl = it.namelen();
        let name = it.name().unwrap_or(&[]).to_vec();
        let nm = String::from_utf8_lossy(&name).into_owned();
        let first = name.first().copied().unwrap_or(0);
        let is_dot = name == b".";
        let is_dotdot = name == b"..";
        let mut reason: Option<&'static str> = None;
        let mut clearino = true;
        if !discovery && first == b'/' {
            clearino = false;
        } else if !self.valid_ino(ent) || internal_set.contains(&ent) {
            reason = Some("invalid");
        } else if let Some((_, r)) = internal.iter().find(|(i, _)| *i == ent) {
            reason = Some(r);
        } else {
            match self.slot(ent) {
                None => {
                    if discovery {
                        self.note_uncertain(ent);
                        clearino = false;
                    } else {
                        reason = Some("non-existent");
                    }
                }
                Some(s) => {
                    if !discovery && !s.used {
                        reason = Some("free");
                    } else {
                        clearino = false;
                    }
                }
            }
        }
        if clearino {
            let at = [("blk", da_bno.into()), ("off", off.into())];
            let reason = reason.unwrap_or("invalid");
            self.push_bad_ref(Kind::DirEntryBadRef, &nm, &at, ino, reason, ent);
        }
        if is_dot || is_dotdot {
            clearino = false;
        }
        if nl == 0 {
            self.push(
                Kind::DirEntryZeroNamelen,
                vec![
                    ("blk", da_bno.into()),
                    ("off", off.into()),
                    ("dir_ino", ino.into()),
                ],
            );
            clearino = true;
        }
        if clearino {
            self.push(Kind::DirEntryWouldClearIno, vec![("off", off.into())]);
        }
        let mut junkit = first == b'/';
        let mut why = String::new();
        let illegal = name.contains(&b'/') || name.contains(&0);
        if discovery && illegal {
            why.push_str(&format!(
                "entry at block {da_bno} offset {off} in directory inode {ino} has illegal name \"{nm}\": "
            ));
            junkit = true;
        }
        if is_dotdot {
            if !st.dotdot {
                st.dotdot = true;
                st.parent = Some(ent);
                if ino == ent && ino != root {
                    st.parent = None;
                    why.push_str(&format!(
                        "bad .. entry in directory inode {ino}, points to self: "
                    ));
                    junkit = true;
                } else if ino != ent && ino == root {
                    self.push(
                        Kind::DirRootDotdotFix,
                        vec![("dir_ino", ino.into()), ("ino", ent.into())],
                    );
                    st.parent = Some(ino);
                }
                if !junkit {
                    if let Some(p) = st.parent {
                        if !self.valid_ino(p) {
                            self.push(
                                Kind::DirDotdotBad,
                                vec![("dir_ino", ino.into()), ("ino", p.into())],
                            );
                            st.parent = None;
                        }
                    }
                }
            } else {
                why.push_str(&format!("multiple .. entries in directory inode {ino}: "));
                junkit = true;
            }
        } else if is_dot {
            if !st.dot {
                st.dot = true;
                if ent != ino {
                    self.push(
                        Kind::DirDotBad,
                        vec![("dir_ino", ino.into()), ("ino", ent.into())],
                    );
                }
            } else {
                why.push_str(&format!("multiple . entries in directory inode {ino}: "));
                junkit = true;
            }
        } else if ent == ino {
            why.push_str(&format!(
                "entry \"{nm}\" in directory inode {ino} points to self: "
            ));
            junkit = true;
        }
        if junkit {
            self.push(Kind::DirEntryWouldClear, vec![("what", why.into())]);
        }
    }
}

/// The structure pass of process_dir2_data over the items between `start` and `end`:
/// how far the item chain reaches (it must reach `end`), whether the bestfree table `bf`
/// is wrong, and which bestfree slots were seen (bit per slot).
fn structure_pass(
    d: &[u8],
    (start, endptr): (usize, usize),
    ftype: bool,
    bf: &[(u16, u16); 3],
) -> (usize, bool, u32) {
    let mut badbest = false;
    let mut freeseen = 0u32;
    for (i, (off, len)) in bf.iter().enumerate() {
        if *len == 0 {
            badbest |= *off != 0;
            freeseen |= 1u32.checked_shl(i as u32).unwrap_or(0);
        }
    }
    badbest |= bf[0].1 < bf[1].1;
    badbest |= bf[1].1 < bf[2].1;
    let mut lastfree = false;
    let mut ptr = start;
    while ptr < endptr {
        let it = DataItemView::at(d, ptr);
        if it.is_unused() {
            let len = usize::from(it.length());
            if ptr.saturating_add(len) > endptr || len == 0 || len & 7 != 0 {
                break;
            }
            let tag = usize::from(it.unused_tag());
            if tag != ptr {
                break;
            }
            badbest |= lastfree;
            // xfs_dir2_data_freefind
            let found = if len < usize::from(bf[2].1) {
                None
            } else {
                bf.iter()
                    .take_while(|(o, _)| *o != 0)
                    .position(|(o, _)| usize::from(*o) == ptr)
            };
            match found {
                Some(i) => {
                    let bit = 1u32.checked_shl(i as u32).unwrap_or(0);
                    badbest |= freeseen & bit != 0;
                    freeseen |= bit;
                }
                None => badbest |= len > usize::from(bf[2].1),
            }
            ptr = ptr.saturating_add(len);
            lastfree = true;
            continue;
        }
        let es = it.entsize(ftype);
        if ptr.saturating_add(es) > endptr {
            break;
        }
        let tag = usize::from(it.entry_tag(ftype));
        if tag != ptr {
            break;
        }
        ptr = ptr.saturating_add(es);
        lastfree = false;
    }
    (ptr, badbest, freeseen)
}
