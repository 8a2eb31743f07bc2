//! Phase 6 of `xfs_repair -n`: directory connectivity from the root (every directory's
//! entries, `..` links, disconnected inodes), counting the references phase 7 compares with
//! the link counts.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use xfs_format::ByteSource;

use crate::finding::{Finding, Kind, Val};
use crate::state::Checker;

/// Upper bound on directories walked (visited set keeps it finite anyway).
const MAX_DIRS: usize = 10_000_000;

struct Walk<'c, 'a, S> {
    c: &'c Checker<'a, S>,
    refs: BTreeMap<u64, u32>,
    reached: BTreeSet<u64>,
    p6: Vec<Finding>,
    clusters_seen: BTreeSet<u64>,
    /// Directory at which xfs_repair 6.1.0 crashes in phase 6 (see [`Walk::crashes_on`]).
    crash: Option<u64>,
    /// Directories whose missing `..` an entry supplied (add_dotdot_update), in order.
    dotdot_updates: Vec<u64>,
    /// Those directories: their own `..` entry adds no ref (the parent's entry did).
    no_dotdot_count: BTreeSet<u64>,
    /// Per long-form directory, the data-pass findings a second pass prints again.
    data_msgs: BTreeMap<u64, crate::dir2_leaf::Out>,
}

impl<S: ByteSource> Walk<'_, '_, S> {
    fn add_ref(&mut self, ino: u64) {
        let e = self.refs.entry(ino).or_insert(0);
        *e = e.saturating_add(1);
    }

    fn push(&mut self, kind: Kind, fields: Vec<(&'static str, Val)>) {
        self.p6.push(Finding::new(6, kind, fields));
    }

    /// Re-reading a directory inode through libxfs reports its bad cluster once more.
    fn note_cluster(&mut self, ino: u64) {
        let Some(loc) = self.c.fs.geo.locate_inode(ino) else {
            return;
        };
        let daddr = loc.offset / 512;
        let hit = self
            .c
            .bad_clusters
            .range(..=daddr)
            .next_back()
            .filter(|(d, b)| daddr < d.saturating_add(*b / 512))
            .map(|(d, b)| (*d, *b));
        if let Some((d, b)) = hit {
            if self.clusters_seen.insert(d) {
                self.push(
                    Kind::VerifierError,
                    crate::finding::verifier_error(true, "xfs_inode", d, b),
                );
            }
        }
    }

    /// xfs_repair 6.1.0 segfaults in phase 6 when it reaches a long-form directory whose
    /// first data block does not carry a directory data/block magic number (the block was
    /// read without its verifier failing in phase 4, so phase 6 trusts it).
    fn crashes_on(&self, inode: &xfs_format::inode::Inode) -> bool {
        use xfs_format::dir2::{
            XFS_DIR2_BLOCK_MAGIC, XFS_DIR2_DATA_MAGIC, XFS_DIR3_BLOCK_MAGIC, XFS_DIR3_DATA_MAGIC,
        };
        if !matches!(inode.raw.di_format, 2 | 3) {
            return false;
        }
        let fs = self.c.fs;
        let Ok(recs) = fs.fork_records(inode, xfs_format::bmap::WhichFork::Data) else {
            return false;
        };
        let Ok(b) = fs.read_logical(&recs, 0, 1) else {
            return false;
        };
        let magic = xfs_format::dir2::DataHdr::parse(&b, fs.geo.has_crc).magic;
        ![
            XFS_DIR2_BLOCK_MAGIC,
            XFS_DIR2_DATA_MAGIC,
            XFS_DIR3_BLOCK_MAGIC,
            XFS_DIR3_DATA_MAGIC,
        ]
        .contains(&magic)
    }

    /// check_longform_ftype: the entry's file type (`found`, read as unknown past the last
    /// known type) against the inode's (`expected`).
    fn ftype_check(&mut self, found: Option<u8>, expected: u8, dir: u64, ino: u64) {
        let Some(ft) = found else {
            return;
        };
        let ft = if ft < xfs_format::dir2::XFS_DIR3_FT_MAX {
            ft
        } else {
            0
        };
        if self.c.fs.geo.has_ftype && ft != expected {
            self.push(
                Kind::FtypeMismatch,
                vec![
                    ("found", ft.into()),
                    ("expected", expected.into()),
                    ("dir_ino", dir.into()),
                    ("ino", ino.into()),
                ],
            );
        }
    }

    /// update_missing_dotdot_entries: each directory whose `..` an entry supplied is
    /// processed again with dotdot_update set: its entries are skipped (so `.` is not
    /// found: a `.` ref and "would create missing") and it is always rebuilt.
    fn dotdot_pass(&mut self) {
        let dirs = std::mem::take(&mut self.dotdot_updates);
        for d in dirs {
            let lf = self.c.fs.read_inode(d).is_ok_and(|i| i.raw.di_format != 1);
            if !lf {
                continue;
            }
            for (k, f) in self.data_msgs.get(&d).cloned().unwrap_or_default() {
                self.push(k, f);
            }
            self.push(Kind::DirWouldRebuild, vec![("ino", d.into())]);
            self.add_ref(d);
            self.push(Kind::DirP6CreateDot, vec![("ino", d.into())]);
        }
    }

    /// Walks the tree below `start` (already marked reached).
    fn walk(&mut self, start: u64, count_dotdot: bool) {
        let mut q = VecDeque::new();
        q.push_back((start, count_dotdot, None::<u64>));
        let mut n = 0usize;
        while let Some((dir, dotdot, parent)) = q.pop_front() {
            n = n.saturating_add(1);
            if n > MAX_DIRS {
                break;
            }
            self.note_cluster(dir);
            self.c.reading_for(Some(dir));
            let read = self.c.fs.read_inode(dir);
            if let Some(why) = self.c.iget_error_of(dir, read.as_ref().ok()) {
                self.c.reading_for(None);
                self.push(why, vec![("ino", dir.into())]);
                self.push(Kind::CouldntMapInode, vec![("ino", dir.into())]);
                if let (true, Some(p)) = (dotdot, parent) {
                    self.add_ref(p);
                }
                continue;
            }
            // '.' of every directory.
            self.add_ref(dir);
            let Ok(inode) = read else {
                self.c.reading_for(None);
                continue;
            };
            if self.crash.is_none() && self.crashes_on(&inode) {
                self.crash = Some(dir);
            }
            let listing = self.c.fs.read_dir(&inode);
            self.c.reading_for(None);
            let Ok(mut listing) = listing else {
                continue;
            };
            let sf = inode.raw.di_format == 1;
            // The data-block pass of longform_dir2_entry_check: entries of junked or
            // skipped blocks are not walked.
            let recs = if sf {
                Vec::new()
            } else {
                self.c
                    .fs
                    .fork_records(&inode, xfs_format::bmap::WhichFork::Data)
                    .unwrap_or_default()
            };
            let pass = if sf {
                crate::dir2_leaf::DataPass::default()
            } else {
                let c = self.c;
                let ok = |i: u64| c.verify_dir_ino(i);
                crate::dir2_leaf::data_pass(self.c.fs, dir, recs.clone(), &ok)
            };
            if !sf {
                for (k, f) in pass.out.iter().cloned() {
                    self.push(k, f);
                }
                // What a second pass over the data blocks prints again (the buffers are
                // cached then: no verifier runs).
                let again: Vec<_> = pass
                    .out
                    .iter()
                    .filter(|(k, _)| *k != Kind::VerifierError)
                    .cloned()
                    .collect();
                self.data_msgs.insert(dir, again);
                listing.entries = pass.entries.clone();
            }
            let mut names = BTreeSet::new();
            // Long-form entries left out of the name hash table (junked): their leaf entries
            // then have no data entry and the directory would be rebuilt.
            let mut nbad = 0usize;
            // Of those, entries left out of the name hash table (free or non-existent
            // inodes); a duplicate name stays in it.
            let mut unhashed = 0usize;
            let mut need_dot = !sf;
            let mark = self.p6.len();
            for e in &listing.entries {
                // An invalid inode number: find_inode_rec takes its AG number truncated to
                // 32 bits; when that names an in-use inode, the entry passes the free and
                // non-existent checks and is then skipped without a word (no_modify and
                // !xfs_verify_dir_ino), staying in the name hash table.
                if !sf && !self.c.valid_ino(e.ino) {
                    let sb = &self.c.fs.sb.raw;
                    let bits = u32::from(sb.sb_agblklog).saturating_add(u32::from(sb.sb_inopblog));
                    let agno = e.ino.checked_shr(bits).unwrap_or(0) as u32;
                    let mask = 1u64
                        .checked_shl(bits)
                        .map_or(u64::MAX, |m| m.saturating_sub(1));
                    let trunc = (u64::from(agno).checked_shl(bits).unwrap_or(0)) | (e.ino & mask);
                    if agno < sb.sb_agcount && self.c.slot(trunc).is_some_and(|s| s.used) {
                        continue;
                    }
                }
                // A long-form `.` or `..` naming a free or non-existent inode is junked
                // like any other entry (those checks come first).
                let special =
                    sf || (self.c.valid_ino(e.ino) && self.c.slot(e.ino).is_some_and(|s| s.used));
                if e.name == b"." && e.ino == dir && special {
                    need_dot = false;
                    if !sf && nbad == 0 {
                        if let Some(s) = self.c.slot(dir) {
                            self.ftype_check(e.ftype, s.ftype, dir, dir);
                        }
                    }
                }
                if e.name == b"." && (sf || (e.ino == dir && special)) {
                    continue;
                }
                if e.name == b".." && special {
                    if dotdot && self.c.valid_ino(e.ino) {
                        self.add_ref(e.ino);
                    }
                    if !sf && nbad == 0 && self.c.valid_ino(e.ino) {
                        if let Some(s) = self.c.slot(e.ino).filter(|s| s.used) {
                            self.ftype_check(e.ftype, s.ftype, dir, e.ino);
                        }
                    }
                    continue;
                }
                let name = String::from_utf8_lossy(&e.name).into_owned();
                let t = e.ino;
                let slot = if self.c.valid_ino(t) {
                    self.c.slot(t)
                } else {
                    None
                };
                let entry = || {
                    vec![
                        ("name", Val::from(name.as_str())),
                        ("dir_ino", dir.into()),
                        ("ino", t.into()),
                    ]
                };
                let free = slot.is_some_and(|s| !s.used);
                let slot = match slot {
                    Some(s) if s.used => s,
                    _ if sf => {
                        if free {
                            self.push(Kind::SfdirEntryFreeP6, entry());
                        } else {
                            let mut f = entry();
                            f.insert(2, ("reason", "non-existent".into()));
                            self.push(Kind::SfdirEntryBadRef, f);
                        }
                        self.push(Kind::DirWouldJunkEntry, vec![]);
                        continue;
                    }
                    _ => {
                        nbad = nbad.saturating_add(1);
                        unhashed = unhashed.saturating_add(1);
                        let kind = if free {
                            Kind::LfdirEntryFreeP6
                        } else {
                            Kind::LfdirEntryNonexistP6
                        };
                        self.push(kind, entry());
                        continue;
                    }
                };
                if !names.insert(e.name.clone()) {
                    let kind = if sf {
                        Kind::SfdirDupName
                    } else {
                        nbad = nbad.saturating_add(1);
                        Kind::LfdirDupName
                    };
                    self.push(
                        kind,
                        vec![
                            ("name", name.into()),
                            ("ino", t.into()),
                            ("dir_ino", dir.into()),
                        ],
                    );
                    continue;
                }
                self.ftype_check(e.ftype, slot.ftype, dir, t);
                self.add_ref(t);
                if slot.isdir && !self.reached.contains(&t) {
                    // The child's `..` was missing in phases 3 and 4: this entry names its
                    // parent.
                    if let Some(None) = self.c.dir_parents.get(&t) {
                        // The child's `..` ref is counted here, and it is checked again
                        // after the walk (update_missing_dotdot_entries).
                        self.add_ref(dir);
                        self.dotdot_updates.push(t);
                        self.no_dotdot_count.insert(t);
                        self.push(
                            Kind::DirP6NoDotdot,
                            vec![
                                ("name", name.as_str().into()),
                                ("dir_ino", dir.into()),
                                ("ino", t.into()),
                            ],
                        );
                    }
                }
                if self.reached.insert(t) && slot.isdir {
                    let count = !self.no_dotdot_count.contains(&t);
                    q.push_back((t, count, Some(dir)));
                }
            }
            if !sf {
                // The entry findings a second pass prints again.
                let again: Vec<_> = self
                    .p6
                    .get(mark..)
                    .unwrap_or(&[])
                    .iter()
                    .filter(|f| {
                        matches!(
                            f.kind,
                            Kind::LfdirEntryFreeP6
                                | Kind::LfdirEntryNonexistP6
                                | Kind::LfdirDupName
                        )
                    })
                    .map(|f| (f.kind, f.fields.clone()))
                    .collect();
                self.data_msgs.entry(dir).or_default().extend(again);
                if unhashed > 0 {
                    self.push(
                        Kind::DirBadHashTable,
                        vec![("ino", dir.into()), ("reason", "no data entry".into())],
                    );
                }
                let mut rebuild = nbad > 0
                    || need_dot
                    || pass.fixit
                    || pass.num_illegal > 0
                    || self.c.dir_badlist.contains(&dir);
                if unhashed == 0 && !pass.stop {
                    let (out, bad) =
                        crate::dir2_leaf::check_with(self.c.fs, dir, recs, Some(&pass.skip));
                    for (k, f) in out {
                        self.push(k, f);
                    }
                    rebuild |= bad;
                }
                if rebuild {
                    self.push(Kind::DirWouldRebuild, vec![("ino", dir.into())]);
                }
                if need_dot {
                    self.push(Kind::DirP6CreateDot, vec![("ino", dir.into())]);
                }
            }
        }
    }
}

/// Phases 6 and 7. Returns (phase 6 findings, phase 7 findings, the first directory at
/// which xfs_repair 6.1.0 would crash in phase 6: its output stops there, ours goes on).
pub fn phases67<S: ByteSource>(c: &Checker<'_, S>) -> (Vec<Finding>, Vec<Finding>, Option<u64>) {
    let sb = &c.fs.sb.raw;
    let root = sb.sb_rootino;
    let mut w = Walk {
        c,
        refs: BTreeMap::new(),
        reached: BTreeSet::new(),
        p6: Vec::new(),
        clusters_seen: BTreeSet::new(),
        crash: None,
        dotdot_updates: Vec::new(),
        no_dotdot_count: BTreeSet::new(),
        data_msgs: BTreeMap::new(),
    };
    let special: BTreeSet<u64> = [
        sb.sb_rbmino,
        sb.sb_rsumino,
        sb.sb_uquotino,
        sb.sb_gquotino,
        sb.sb_pquotino,
    ]
    .into_iter()
    .collect();
    if c.slot(root).is_some_and(|s| s.used && s.isdir) {
        w.reached.insert(root);
        w.walk(root, true);
    }
    w.dotdot_pass();
    // Disconnected inodes, in inode order.
    let mut used = Vec::new();
    for (agno, m) in (0u32..).zip(c.incore.ags.iter()) {
        for (start, ch) in m {
            for (i, s) in (0u32..).zip(ch.slots.iter()) {
                if ch.sparse.checked_shr(i).unwrap_or(0) & 1 != 0 || !s.used {
                    continue;
                }
                let agino = xfs_format::addr::AgIno(start.saturating_add(i));
                if let Some(ino) = c.fs.geo.ino_make(xfs_format::addr::AgNo(agno), agino) {
                    used.push((ino.0, *s));
                }
            }
        }
    }
    for (ino, s) in &used {
        if w.reached.contains(ino) || special.contains(ino) {
            continue;
        }
        w.reached.insert(*ino);
        w.add_ref(*ino);
        if s.isdir {
            w.push(
                Kind::DisconnectedDir,
                vec![("ino", (*ino).into()), ("orphanage", "lost+found".into())],
            );
            w.walk(*ino, false);
        } else {
            w.push(
                Kind::DisconnectedInode,
                vec![("ino", (*ino).into()), ("orphanage", "lost+found".into())],
            );
        }
    }
    let p7 = crate::phase7::phase7(c, &w.refs, &used, &special);
    (w.p6, p7, None)
}
