//! One inode, as xfs_repair's dinode.c checks it (process_dinode): the core, both forks and
//! the blocks they claim, then the shortform contents that live in the inode itself.

#![allow(clippy::collapsible_match)] // the match arms mirror xfs_repair's switch statements

use xfs_format::addr::{AgBno, AgNo, Fsb, NULLAGINO};
use xfs_format::bmap::{records_in, BmbtRec, WhichFork};
use xfs_format::inode::{
    RawDinode, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
    XFS_DIFLAG_REALTIME as DIFLAG_REALTIME, XFS_DINODE_CRC_OFF, XFS_DINODE_FMT_BTREE as FMT_BTREE,
    XFS_DINODE_FMT_DEV as FMT_DEV, XFS_DINODE_FMT_EXTENTS as FMT_EXTENTS,
    XFS_DINODE_FMT_LOCAL as FMT_LOCAL, XFS_DINODE_MAGIC, XFS_SYMLINK_MAXLEN,
};
use xfs_format::ByteSource;

use crate::finding::{Kind, Val};
use crate::incore as bm;
use crate::state::Checker;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Type {
    Dir,
    Data,
    RtData,
    Symlink,
    Chr,
    Blk,
    Sock,
    Fifo,
    Special,
}

fn type_name(t: Type) -> &'static str {
    match t {
        Type::Chr => "character device",
        Type::Blk => "block device",
        Type::Sock => "socket",
        Type::Fifo => "fifo",
        _ => "quota",
    }
}

pub(crate) fn mode_ftype(mode: u16) -> u8 {
    match mode & S_IFMT {
        S_IFREG => 1,
        S_IFDIR => 2,
        S_IFCHR => 3,
        S_IFBLK => 4,
        S_IFIFO => 5,
        S_IFSOCK => 6,
        S_IFLNK => 7,
        _ => 0,
    }
}

/// What one fork maps, as counted.
#[derive(Debug, Default)]
struct Mapped {
    /// Blocks, BMBT blocks included.
    blocks: u64,
    /// Extent records accepted.
    extents: u64,
    /// The mappings.
    recs: Vec<BmbtRec>,
}

/// Result of processing one inode (process_dinode).
pub(crate) struct Outcome {
    /// Return value: the inode would have been cleared.
    pub(crate) status: bool,
    pub(crate) used: bool,
    pub(crate) isdir: bool,
}

impl<S: ByteSource> Checker<'_, S> {
    pub(crate) fn good_version(&self, v: u8) -> bool {
        if self.fs.geo.has_crc {
            v == 3
        } else {
            v == 1 || v == 2
        }
    }

    /// The libxfs inode buffer verifier (magic, version, next_unlinked).
    pub(crate) fn buf_inode_ok(&self, agno: u32, di: &RawDinode) -> bool {
        let nu = di.di_next_unlinked;
        di.di_magic == XFS_DINODE_MAGIC
            && self.good_version(di.di_version)
            && (nu == NULLAGINO || self.valid_agino(agno, nu))
    }

    pub(crate) fn crc_bad(&self, d: &[u8]) -> bool {
        self.fs.geo.has_crc
            && xfs_format::crc::verify(d, XFS_DINODE_CRC_OFF, true)
                == xfs_format::fields::CrcState::Bad
    }

    /// The checks process_dinode_int makes before it looks at the inode's type, in its
    /// order: CRC, magic, version and next_unlinked, then (v5) the inode number and uuid,
    /// then a negative size. `verify` picks the verify-mode messages (no action suffix).
    /// `Err(())`: the inode would be cleared; `Ok(bad)`: whether a check failed that does
    /// not stop the processing.
    fn core_checks(
        &mut self,
        di: &RawDinode,
        d: &[u8],
        (agno, ino): (u32, u64),
        verify: bool,
    ) -> Result<bool, ()> {
        let i = ("ino", Val::from(ino));
        let pick = |v: Kind, n: Kind| if verify { v } else { n };
        let mut bad = false;
        if self.crc_bad(d) {
            self.push(pick(Kind::InodeBadCrcV, Kind::InodeBadCrc), vec![i.clone()]);
            bad = true;
        }
        let nu = di.di_next_unlinked;
        let header = [
            (
                di.di_magic != XFS_DINODE_MAGIC,
                pick(Kind::InodeBadMagicV, Kind::InodeBadMagic),
                u64::from(di.di_magic),
            ),
            (
                !self.good_version(di.di_version),
                pick(Kind::InodeBadVersionV, Kind::InodeBadVersion),
                u64::from(di.di_version),
            ),
            (
                nu != NULLAGINO && !self.valid_agino(agno, nu),
                pick(Kind::InodeBadNextUnlinkedV, Kind::InodeBadNextUnlinked),
                u64::from(nu),
            ),
        ];
        for (failed, kind, found) in header {
            if failed {
                self.push(kind, vec![("found", found.into()), i.clone()]);
                bad = true;
            }
        }
        if self.fs.geo.has_crc {
            if di.di_ino != ino {
                self.push(Kind::InodeInoMismatch, vec![("found", di.di_ino.into()), i]);
                return Err(());
            }
            if di.di_uuid != self.fs.geo.meta_uuid {
                self.push(Kind::InodeUuidMismatch, vec![i]);
                return Err(());
            }
        }
        let size = di.signed_size();
        if size < 0 {
            self.push(Kind::InodeNegativeSize, vec![("found", size.into()), i]);
            return Err(());
        }
        Ok(bad)
    }

    /// Verify-mode pass of process_dinode_int: lines without the action suffix.
    pub(crate) fn verify_dinode(&mut self, agno: u32, ino: u64, d: &[u8], di: &RawDinode) {
        if self.core_checks(di, d, (agno, ino), true).is_err() {
            return;
        }
        let mode = di.di_mode;
        if mode != 0 && !mode_format_ok(mode, di.di_format) {
            self.push(Kind::InodeBadFormat, vec![("ino", ino.into())]);
            return;
        }
        self.flag_checks(di, ino, mode, true);
    }

    /// process_dinode_int's checks of `di_flags` and (v3) `di_flags2`, shared by both
    /// modes: each bad bit reported and masked out, "would fix" when something changed (not
    /// in verify mode). Returns true when the inode would be cleared (a reflink flag it
    /// cannot have).
    pub(crate) fn flag_checks(
        &mut self,
        di: &RawDinode,
        ino: u64,
        mode: u16,
        verify: bool,
    ) -> bool {
        use xfs_format::inode::*;
        let geo = &self.fs.geo;
        let (has_reflink, has_bigtime, has_nrext64) =
            (geo.has_reflink, geo.has_bigtime, geo.has_nrext64);
        let rbmino = self.fs.sb.raw.sb_rbmino;
        let fmt = mode & S_IFMT;
        let (isdir, isreg) = (fmt == S_IFDIR, fmt == S_IFREG);
        let mut out: Vec<Kind> = Vec::new();
        let orig = di.di_flags;
        if orig != 0 {
            let mut flags = orig;
            if flags & !XFS_DIFLAG_ANY != 0 {
                out.push(Kind::InodeBadFlagsSet);
                flags &= XFS_DIFLAG_ANY;
            }
            // No realtime device is ever given (phase 1 refuses a realtime subvolume).
            if flags & XFS_DIFLAG_REALTIME != 0 {
                out.push(Kind::InodeRtNoRtdev);
                flags &= !XFS_DIFLAG_REALTIME;
            }
            if flags & XFS_DIFLAG_NEWRTBM != 0 && ino != rbmino {
                out.push(Kind::InodeNotRtBitmap);
                flags &= !XFS_DIFLAG_NEWRTBM;
            }
            let dir_flags = XFS_DIFLAG_RTINHERIT
                | XFS_DIFLAG_EXTSZINHERIT
                | XFS_DIFLAG_PROJINHERIT
                | XFS_DIFLAG_NOSYMLINKS;
            if flags & dir_flags != 0 && mode != 0 && !isdir {
                out.push(Kind::InodeDirFlagsNonDir);
                flags &= !dir_flags;
            }
            let file_flags = XFS_DIFLAG_REALTIME | XFS_DIFLAG_EXTSIZE;
            if flags & file_flags != 0 && mode != 0 && !isreg {
                out.push(Kind::InodeFileFlagsNonFile);
                flags &= !file_flags;
            }
            if !verify && flags != orig {
                out.push(Kind::InodeWouldFixFlags);
            }
        }
        let mut clear = false;
        if di.di_version >= 3 {
            let orig2 = di.di_flags2;
            let mut f2 = orig2;
            let rtish = orig & (XFS_DIFLAG_REALTIME | XFS_DIFLAG_RTINHERIT) != 0;
            if f2 & !XFS_DIFLAG2_ANY != 0 {
                out.push(Kind::InodeBadFlags2Set);
                f2 &= XFS_DIFLAG2_ANY;
            }
            if f2 & XFS_DIFLAG2_DAX != 0 && mode != 0 && !(isreg || isdir) {
                out.push(Kind::InodeDaxSpecial);
                f2 &= !XFS_DIFLAG2_DAX;
            }
            if f2 & XFS_DIFLAG2_REFLINK != 0 {
                let why = if !has_reflink {
                    Some(Kind::InodeReflinkNoFeature)
                } else if mode != 0 && !isreg {
                    Some(Kind::InodeReflinkNonfile)
                } else if rtish {
                    Some(Kind::InodeReflinkRt)
                } else {
                    None
                };
                if let Some(k) = why {
                    out.push(k);
                    clear = true;
                }
            }
            if !clear {
                if f2 & XFS_DIFLAG2_COWEXTSIZE != 0 && !has_reflink {
                    out.push(Kind::InodeCowNoFeature);
                    f2 &= !XFS_DIFLAG2_COWEXTSIZE;
                }
                if f2 & XFS_DIFLAG2_COWEXTSIZE != 0 && mode != 0 && !isdir && !isreg {
                    out.push(Kind::InodeCowNonfile);
                    f2 &= !XFS_DIFLAG2_COWEXTSIZE;
                }
                if f2 & XFS_DIFLAG2_COWEXTSIZE != 0 && rtish {
                    out.push(Kind::InodeCowRt);
                    f2 &= !XFS_DIFLAG2_COWEXTSIZE;
                }
                if di.has_bigtime() && !has_bigtime {
                    out.push(Kind::InodeBigtimeNoFeature);
                    out.push(Kind::InodeWouldZeroTimestamps);
                    f2 &= !XFS_DIFLAG2_BIGTIME;
                }
                if di.has_large_extent_counts() && !has_nrext64 {
                    out.push(Kind::InodeNrext64NoFeature);
                    f2 &= !XFS_DIFLAG2_NREXT64;
                }
                if di.has_large_extent_counts() {
                    if di.di_nrext64_pad() != 0 {
                        out.push(Kind::InodeWouldFixNrext64Pad);
                    }
                } else if di.di_big_nextents != 0 {
                    out.push(Kind::InodeWouldFixV3Pad);
                }
                if !verify && f2 != orig2 {
                    out.push(Kind::InodeWouldFixFlags2);
                }
            }
        }
        for k in out {
            let f = if matches!(
                k,
                Kind::InodeWouldFixFlags
                    | Kind::InodeWouldFixFlags2
                    | Kind::InodeWouldZeroTimestamps
                    | Kind::InodeWouldFixNrext64Pad
                    | Kind::InodeWouldFixV3Pad
            ) {
                vec![]
            } else {
                vec![("ino", Val::from(ino))]
            };
            self.push(k, f);
        }
        clear
    }

    /// process_dinode_int (not verify mode).
    pub(crate) fn dinode(
        &mut self,
        agno: u32,
        ino: u64,
        (d, di): (&[u8], &RawDinode),
        was_free: bool,
    ) -> Outcome {
        let clear = Outcome {
            status: true,
            used: false,
            isdir: false,
        };
        let Ok(retval) = self.core_checks(di, d, (agno, ino), false) else {
            return clear;
        };
        let i = ("ino", Val::from(ino));
        let mode = di.di_mode;
        if mode == 0 {
            if !was_free {
                self.push(Kind::ImapFreeMarkedInuse, vec![i]);
            }
            return Outcome {
                status: retval && !was_free,
                used: false,
                isdir: false,
            };
        }
        if !mode_format_ok(mode, di.di_format) {
            self.push(Kind::InodeBadFormat, vec![i]);
            return clear;
        }
        if self.flag_checks(di, ino, mode, false) {
            return clear;
        }
        if self.phase == 4 && di.di_next_unlinked != NULLAGINO {
            self.push(Kind::InodeClearNextUnlinked, vec![i.clone()]);
        }
        let Some(ty) = self.inode_type(di, ino) else {
            return clear;
        };
        self.check_extsize_and_times(di, ino);
        if self.check_inode_sizes(di, ty, ino) || self.check_forkoff(di, ino) {
            return clear;
        }
        let Some(data) = self.data_fork(di, d, ty, ino) else {
            self.push(Kind::BadDataFork, vec![i]);
            return clear;
        };
        let (attr, attr_bad) = self.attr_fork(di, d, ty, ino);
        if matches!(ty, Type::Chr | Type::Blk | Type::Sock | Type::Fifo) && data.blocks != 0 {
            self.push_misc(
                Kind::InodeMiscBlocks,
                ty,
                ino,
                ("blocks", data.blocks.into()),
            );
            return clear;
        }
        self.check_counts(di, ino, &data, &attr);
        if self.check_contents(di, d, ty, ino, &data.recs) {
            return clear;
        }
        // process_check_inode_nlink_version: v2 and later inodes keep di_onlink zero.
        if di.di_version > 1 && di.di_onlink != 0 {
            self.push(
                Kind::InodeObsoleteNlink,
                vec![i.clone(), ("found", u64::from(di.di_onlink).into())],
            );
        }
        Outcome {
            status: retval || attr_bad,
            used: true,
            isdir: ty == Type::Dir,
        }
    }

    /// The inode's type from its mode (process_dinode_int's switch); `None` after reporting
    /// a mode of no known type.
    fn inode_type(&mut self, di: &RawDinode, ino: u64) -> Option<Type> {
        let mode = di.di_mode;
        Some(match mode & S_IFMT {
            S_IFDIR => Type::Dir,
            S_IFREG if di.di_flags & DIFLAG_REALTIME != 0 => Type::RtData,
            S_IFREG => {
                let sb = &self.fs.sb.raw;
                if ino == sb.sb_rbmino || ino == sb.sb_rsumino {
                    Type::Special
                } else {
                    Type::Data
                }
            }
            S_IFLNK => Type::Symlink,
            S_IFCHR => Type::Chr,
            S_IFBLK => Type::Blk,
            S_IFSOCK => Type::Sock,
            S_IFIFO => Type::Fifo,
            _ => {
                self.push(
                    Kind::InodeBadType,
                    vec![
                        ("found", u64::from(mode & S_IFMT).into()),
                        ("ino", ino.into()),
                    ],
                );
                return None;
            }
        })
    }

    /// validate_extsize and the nanosecond fields of legacy timestamps (reported only).
    fn check_extsize_and_times(&mut self, di: &RawDinode, ino: u64) {
        let i = ("ino", Val::from(ino));
        let geo = &self.fs.geo;
        let (extsize, flags) = (di.di_extsize, di.di_flags);
        // validate_extsize: the verifier's rules, and an inherited hint misaligned with
        // the realtime extent size.
        let inherit =
            xfs_format::inode::XFS_DIFLAG_EXTSZINHERIT | xfs_format::inode::XFS_DIFLAG_RTINHERIT;
        let misaligned =
            flags & inherit == inherit && extsize.checked_rem(geo.rext_size).is_some_and(|r| r > 0);
        if misaligned || !xfs_format::inode::validate_extsize(geo, extsize, di.di_mode, flags) {
            self.push(
                Kind::InodeBadExtsize,
                vec![("found", extsize.into()), i.clone()],
            );
        }
        if di.di_version >= 3
            && !xfs_format::inode::validate_cowextsize(
                geo,
                di.di_cowextsize,
                di.di_mode,
                flags,
                di.di_flags2,
            )
        {
            self.push(
                Kind::InodeBadCowExtsize,
                vec![("found", di.di_cowextsize.into()), i.clone()],
            );
        }
        for (name, ns) in di.legacy_nsecs() {
            if ns >= 1_000_000_000 {
                self.push(
                    Kind::InodeBadNsec,
                    vec![("ts", name.into()), ("found", ns.into()), i.clone()],
                );
            }
        }
    }

    /// process_check_inode_sizes; true when the inode would be cleared.
    fn check_inode_sizes(&mut self, di: &RawDinode, ty: Type, ino: u64) -> bool {
        let i = ("ino", Val::from(ino));
        let size = di.signed_size();
        let dsize = di.dfork_size(&self.fs.geo);
        let format = di.di_format;
        match ty {
            Type::Dir => {
                if size <= dsize as i64 && format != FMT_LOCAL {
                    self.push(
                        Kind::DirFormatSizeMismatch,
                        vec![
                            ("format", u64::from(format).into()),
                            ("size", size.into()),
                            i,
                        ],
                    );
                    return true;
                }
                if size > 32 * (1i64 << 30) {
                    self.push(Kind::DirBadSize, vec![i, ("size", size.into())]);
                    return true;
                }
            }
            Type::Chr | Type::Blk | Type::Sock | Type::Fifo => {
                if size != 0 {
                    self.push_misc(Kind::InodeMiscSize, ty, ino, ("size", size.into()));
                    return true;
                }
            }
            Type::RtData => {
                if self.fs.sb.raw.sb_rblocks == 0 {
                    self.push(Kind::InodeRtFile, vec![i]);
                    return true;
                }
            }
            _ => {}
        }
        false
    }

    /// process_check_inode_forkoff; true when the inode would be cleared.
    fn check_forkoff(&mut self, di: &RawDinode, ino: u64) -> bool {
        let forkoff = usize::from(di.di_forkoff);
        if forkoff == 0 {
            return false;
        }
        let max = self.fs.geo.litino() / 8;
        let i = ("ino", Val::from(ino));
        if di.di_format == FMT_DEV {
            if forkoff != 1 {
                self.push(Kind::ForkoffDev, vec![("found", forkoff.into()), i]);
                return true;
            }
        } else if forkoff >= max {
            self.push(
                Kind::ForkoffBad,
                vec![("found", forkoff.into()), i, ("max", max.into())],
            );
            return true;
        }
        false
    }

    /// process_inode_data_fork: `None` when the fork is bad (the inode would be cleared).
    fn data_fork(&mut self, di: &RawDinode, d: &[u8], ty: Type, ino: u64) -> Option<Mapped> {
        let format = di.di_format;
        match format {
            FMT_LOCAL => {
                let size = di.signed_size();
                let dsize = di.dfork_size(&self.fs.geo);
                if size > dsize as i64 {
                    self.push(
                        Kind::LocalDataTooLarge,
                        vec![
                            ("ino", ino.into()),
                            ("size", size.into()),
                            ("max", dsize.into()),
                        ],
                    );
                    return None;
                }
                Some(Mapped::default())
            }
            FMT_EXTENTS | FMT_BTREE => {
                let at = (d, di.dfork_offset(), di.dfork(d, &self.fs.geo));
                let (m, err) = self.mapped_fork(at, format, di.data_extents(), (ino, ty), "data");
                (!err).then_some(m)
            }
            _ => Some(Mapped::default()),
        }
    }

    /// process_inode_attr_fork and, in phase 3, process_attributes: the fork's blocks and
    /// extents as counted (zero when the attributes would be cleared), and whether the
    /// inode is bad.
    fn attr_fork(&mut self, di: &RawDinode, d: &[u8], ty: Type, ino: u64) -> (Mapped, bool) {
        if di.di_forkoff == 0 {
            return (Mapped::default(), false);
        }
        let i = ("ino", Val::from(ino));
        let phase4 = self.phase == 4;
        let asize = di.afork_size(&self.fs.geo);
        let aformat = di.di_aformat;
        let afork = di.afork(d, &self.fs.geo);
        let anex_disk = di.attr_extents();
        let (mapped, bad) = match aformat {
            FMT_LOCAL => {
                let sf = xfs_format::attr::decode_shortform(afork);
                let tsz = sf.as_ref().map_or(0, |sf| usize::from(sf.hdr.totsize));
                if tsz > asize {
                    self.push(
                        Kind::AttrLocalTooLarge,
                        vec![
                            i.clone(),
                            ("found", (tsz as i64).into()),
                            ("max", asize.into()),
                        ],
                    );
                } else if let (false, Some(sf)) = (phase4, sf) {
                    self.sf_attr_check(ino, &sf);
                }
                (None, tsz > asize)
            }
            FMT_EXTENTS | FMT_BTREE => {
                let at = (d, di.afork_offset(), afork);
                let (m, err) = self.mapped_fork(at, aformat, anex_disk, (ino, ty), "attr");
                (Some(m), err)
            }
            _ => (None, true),
        };
        if bad {
            self.push(Kind::BadAttrFork, vec![i]);
            return (mapped.unwrap_or_default(), true);
        }
        let Some(m) = mapped else {
            return (Mapped::default(), false);
        };
        // process_attributes: only in phase 3.
        if !phase4 && self.lf_attr(ino, &m.recs, aformat, anex_disk) {
            self.push(Kind::InodeAttrProblem, vec![i]);
            self.push(Kind::InodeWouldClearAttrFork, Vec::new());
            return (Mapped::default(), false);
        }
        (m, false)
    }

    /// process_inode_blocks_and_extents: the block and extent counts the inode claims
    /// against those counted.
    fn check_counts(&mut self, di: &RawDinode, ino: u64, data: &Mapped, attr: &Mapped) {
        let format = di.di_format;
        let counts = [
            (
                true,
                Kind::InodeBadNblocks,
                di.di_nblocks,
                data.blocks.saturating_add(attr.blocks),
            ),
            (
                format != FMT_LOCAL && format != FMT_DEV,
                Kind::InodeBadNextents,
                di.data_extents(),
                data.extents,
            ),
            (
                di.di_forkoff != 0,
                Kind::InodeBadAnextents,
                di.attr_extents(),
                attr.extents,
            ),
        ];
        for (applies, kind, found, counted) in counts {
            if applies && found != counted {
                self.push(
                    kind,
                    vec![
                        ("found", found.into()),
                        ("ino", ino.into()),
                        ("expected", counted.into()),
                    ],
                );
            }
        }
    }

    /// The contents process_dinode_int checks by type: directories (process_dir2) and
    /// symlinks (process_symlink); true when the inode would be cleared.
    fn check_contents(
        &mut self,
        di: &RawDinode,
        d: &[u8],
        ty: Type,
        ino: u64,
        recs: &[BmbtRec],
    ) -> bool {
        let i = ("ino", Val::from(ino));
        let size = di.signed_size();
        match ty {
            Type::Dir => {
                if di.di_format == FMT_LOCAL {
                    self.sf_dir(ino, di.dfork(d, &self.fs.geo), size);
                } else if self.lf_dir(ino, recs) {
                    self.push(Kind::DirProblem, vec![i]);
                    return true;
                }
            }
            Type::Symlink => {
                // process_symlink: MAXPATHLEN
                if di.di_size >= XFS_SYMLINK_MAXLEN {
                    self.push(
                        Kind::SymlinkTooLong,
                        vec![i.clone(), ("found", di.di_size.into())],
                    );
                    self.push(Kind::SymlinkProblem, vec![i]);
                    return true;
                }
                if size == 0 {
                    self.push(Kind::SymlinkZeroSize, vec![i.clone()]);
                    self.push(Kind::SymlinkProblem, vec![i]);
                    return true;
                }
                let fork = di.dfork(d, &self.fs.geo);
                let len = usize::try_from(di.di_size).unwrap_or(usize::MAX);
                let target = if len <= di.dfork_size(&self.fs.geo) {
                    Some(fork.get(..len).unwrap_or(fork).to_vec())
                } else {
                    self.symlink_remote(ino, len, recs)
                };
                let bad = match target {
                    None => true,
                    Some(t) if t.contains(&0) => {
                        self.push(Kind::SymlinkNullChar, vec![i.clone()]);
                        true
                    }
                    Some(_) => false,
                };
                if bad {
                    self.push(Kind::SymlinkProblem, vec![i]);
                    return true;
                }
            }
            _ => {}
        }
        false
    }

    /// process_symlink_remote: the target of a `len`-byte symlink from its blocks (`recs`:
    /// its data fork), one read per run of contiguous blocks as xfs_repair reads them, with
    /// the symlink read verifier and (v5) each run's header checked. `None` when the symlink
    /// is bad (the finding is pushed).
    fn symlink_remote(&mut self, ino: u64, len: usize, recs: &[BmbtRec]) -> Option<Vec<u8>> {
        use xfs_format::symlink::{
            SymlinkHdr, SYMLINK_CRC_OFF, SYMLINK_HDR_SIZE, XFS_SYMLINK_MAGIC,
        };
        let geo = &self.fs.geo;
        let bs = geo.block_size as usize;
        let hdr = if geo.has_crc { SYMLINK_HDR_SIZE } else { 0 };
        let space = bs.saturating_sub(hdr).max(1);
        // libxfs_symlink_blocks(XFS_SYMLINK_MAXLEN): blocks a longest target needs.
        let max_blocks = (XFS_SYMLINK_MAXLEN as usize).div_ceil(space);
        let map = |blk: u64| xfs_format::bmap::lookup(recs, blk).map(|(fsb, _)| fsb);
        let i = ("ino", Val::from(ino));
        let (mut out, mut blk) = (Vec::new(), 0u64);
        let mut guard = 0;
        while out.len() < len && guard <= max_blocks {
            guard = guard.saturating_add(1);
            let Some(fsbno) = map(blk) else {
                self.push(
                    Kind::SymlinkNullBlock,
                    vec![i, ("blk", (blk as i64).into())],
                );
                return None;
            };
            let mut cnt = 1usize;
            while cnt <= max_blocks
                && map(blk.saturating_add(1)) == Some(fsbno.saturating_add(cnt as u64))
            {
                cnt = cnt.saturating_add(1);
                blk = blk.saturating_add(1);
            }
            let at = |b: u64, f: u64| {
                vec![
                    ("ino", Val::from(ino)),
                    ("blk", (b as i64).into()),
                    ("fsbno", f.into()),
                ]
            };
            let (a, b) = geo.fsb_split_lossy(Fsb(fsbno));
            let daddr = geo.agbno_to_daddr(a, b).map(|d| d.0);
            let buf = geo
                .fsb_make(a, b)
                .and_then(|f| self.fs.read_fsb(f.0, cnt as u64).ok())
                .map(|c| c.into_owned());
            let (Some(buf), Some(daddr)) = (buf, daddr) else {
                self.push(Kind::SymlinkReadFailed, at(blk, fsbno));
                return None;
            };
            let take = buf
                .len()
                .saturating_sub(hdr)
                .min(len.saturating_sub(out.len()));
            if geo.has_crc {
                // xfs_symlink_read_verify: the CRC, then xfs_symlink_verify; reported the
                // first time the buffer is read (later reads come from the buffer cache).
                let h = SymlinkHdr::parse(&buf);
                let crc_bad = xfs_format::crc::verify(&buf, SYMLINK_CRC_OFF, true)
                    == xfs_format::fields::CrcState::Bad;
                let corrupt = !crc_bad
                    && h.as_ref().is_none_or(|h| {
                        h.magic != XFS_SYMLINK_MAGIC
                            || h.ident.uuid != geo.meta_uuid
                            || h.ident.blkno != daddr
                            || u64::from(h.offset).saturating_add(h.bytes.into())
                                >= XFS_SYMLINK_MAXLEN
                            || h.ident.owner == 0
                    });
                let first = self.dir_bufs_seen.insert(daddr);
                if first && (crc_bad || corrupt) {
                    self.push(
                        Kind::VerifierError,
                        crate::finding::verifier_error(
                            corrupt,
                            "xfs_symlink",
                            daddr,
                            buf.len() as u64,
                        ),
                    );
                }
                if first && corrupt {
                    self.push(Kind::SymlinkCorruptBlock, vec![("fsbno", fsbno.into()), i]);
                    return None;
                }
                if first && crc_bad {
                    self.push(
                        Kind::SymlinkBadCrc,
                        vec![("fsbno", fsbno.into()), i.clone()],
                    );
                }
                let ok = h.is_some_and(|h| {
                    h.offset as usize == out.len()
                        && h.bytes as usize == take
                        && h.ident.owner == ino
                });
                if !ok {
                    self.push(Kind::SymlinkBadHeader, at(blk, fsbno));
                    return None;
                }
            }
            out.extend_from_slice(buf.get(hdr..hdr.saturating_add(take)).unwrap_or(&[]));
            blk = blk.saturating_add(1);
        }
        Some(out)
    }

    /// A fork in extents or btree format (`fork`: its bytes in the inode, which start at
    /// byte `off` of the inode `d`; `nex`: the extent count the inode claims): its mappings
    /// checked and claimed (process_exinode / process_btinode), and whether they are bad.
    /// Extent records are read up to the end of the inode, as many as the count claims.
    fn mapped_fork(
        &mut self,
        (d, off, fork): (&[u8], usize, &[u8]),
        format: u8,
        nex: u64,
        (ino, ty): (u64, Type),
        which: &str,
    ) -> (Mapped, bool) {
        if format == FMT_BTREE {
            let wf = if which == "attr" {
                WhichFork::Attr
            } else {
                WhichFork::Data
            };
            let t = self.process_btinode(fork, ino, ty, wf);
            let m = Mapped {
                blocks: t.blocks,
                extents: t.extents,
                recs: t.recs,
            };
            return (m, t.bad);
        }
        let recs = records_in(d, off, nex);
        let (err, blocks, extents) = self.reclist(&recs, ty, ino, which);
        let m = Mapped {
            blocks,
            extents,
            recs,
        };
        (m, err)
    }

    /// A finding about a device, socket or fifo inode: its type, number and one value.
    fn push_misc(&mut self, kind: Kind, ty: Type, ino: u64, value: (&'static str, Val)) {
        self.push(
            kind,
            vec![("what", type_name(ty).into()), ("ino", ino.into()), value],
        );
    }

    /// process_bmbt_reclist_int: (error, blocks, extents counted).
    pub(crate) fn reclist(
        &mut self,
        recs: &[BmbtRec],
        ty: Type,
        ino: u64,
        fork: &str,
    ) -> (bool, u64, u64) {
        let geo = &self.fs.geo;
        let i = ("ino", Val::from(ino));
        let mut tot = 0u64;
        let (mut op, mut cp, mut sp) = (0u64, 0u64, 0u64);
        let phase3 = self.phase == 3;
        let reflink = geo.has_reflink;
        let n = recs.len();
        let mut done = n;
        let mut error = false;
        'recs: for (idx, r) in recs.iter().enumerate() {
            let prev = (idx > 0).then_some((op, cp, sp));
            let checked = record_problem(geo, r, idx, prev, fork == "attr", ty);
            op = r.startoff;
            cp = r.blockcount.into();
            sp = r.startblock;
            let (sag, sbno) = match checked {
                Ok(at) => at,
                Err((kind, mut fields)) => {
                    fields.push(i.clone());
                    self.push(kind, fields);
                    done = idx;
                    error = true;
                    break;
                }
            };
            let start = r.startblock;
            let agno = sag.0 as usize;
            let agbno = sbno.0;
            let ebno = agbno.saturating_add(r.blockcount);
            if !phase3 && reflink && fork == "data" && ty == Type::Data {
                if let Some(v) = self.data_maps.get_mut(agno) {
                    v.push((agbno, ebno, ino));
                }
            }
            let Some(m) = self.bmaps.get(agno) else {
                break;
            };
            let mut b = agbno;
            let mut lines = Vec::new();
            let mut stop = false;
            while b < ebno {
                let (st, len) = m.get_ext(b, ebno);
                let fsbno = start.saturating_add(u64::from(b.saturating_sub(agbno)));
                // "data fork in ino N claims ... block B"
                let claim = |extra: Option<&'static str>| {
                    let mut v = vec![
                        ("fork", Val::from(fork)),
                        i.clone(),
                        ("fsbno", fsbno.into()),
                    ];
                    if let Some(ft) = extra {
                        v.insert(1, ("ftype", ft.into()));
                    }
                    v
                };
                match st {
                    bm::FREE | bm::FREE1 => {
                        if phase3 {
                            lines.push((Kind::BmapClaimsFree, claim(None)));
                        }
                    }
                    bm::INUSE1 | bm::UNKNOWN => {}
                    bm::FS_MAP
                    | bm::INO
                    | bm::INUSE_FS
                    | bm::REFC
                    | bm::FS_MAP1
                    | bm::INO1
                    | bm::INUSE_FS1 => {
                        lines.push((Kind::BmapClaimsMetadata, claim(None)));
                        stop = true;
                    }
                    bm::INUSE | bm::MULT => {
                        if !(ty == Type::Data && reflink) {
                            let ft = if ty == Type::RtData {
                                "real-time"
                            } else {
                                "regular"
                            };
                            lines.push((Kind::BmapClaimsUsed, claim(Some(ft))));
                            stop = true;
                        }
                    }
                    _ => {
                        stop = true;
                    }
                }
                if stop {
                    break;
                }
                b = b.saturating_add(len.max(1));
            }
            for (k, fl) in lines {
                self.push(k, fl);
            }
            if stop {
                done = idx;
                error = true;
                break 'recs;
            }
            // Mark the blocks (phase 3, and the second pass of phase 4).
            if let Some(m) = self.bmaps.get_mut(agno) {
                let mut b = agbno;
                while b < ebno {
                    let (st, len) = m.get_ext(b, ebno);
                    let len = len.max(1);
                    match st {
                        bm::FREE | bm::FREE1 | bm::INUSE1 | bm::UNKNOWN => {
                            m.set_ext(b, len, bm::INUSE)
                        }
                        bm::INUSE | bm::MULT => m.set_ext(b, len, bm::MULT),
                        _ => {}
                    }
                    b = b.saturating_add(len);
                }
            }
            tot = tot.saturating_add(u64::from(r.blockcount));
        }
        if done != n {
            self.push(Kind::InodeNextentsCorrecting, vec![i]);
        }
        (error, tot, done as u64)
    }
}

/// The first of process_bmbt_reclist_int's checks that extent record `r` (number `idx`,
/// after the record `prev` = (startoff, blockcount, startblock)) fails, with the finding's
/// fields but the inode number. `Ok` gives the AG and AG block the extent starts at.
#[allow(clippy::type_complexity)]
fn record_problem(
    geo: &xfs_format::sb::Geometry,
    r: &BmbtRec,
    idx: usize,
    prev: Option<(u64, u64, u64)>,
    attr: bool,
    ty: Type,
) -> Result<(AgNo, AgBno), (Kind, Vec<(&'static str, Val)>)> {
    let at = |off: u64, fsbno: u64| vec![("off", Val::from(off)), ("fsbno", fsbno.into())];
    if let Some((po, pc, ps)) = prev.filter(|(po, pc, _)| po.saturating_add(*pc) > r.startoff) {
        return Err((
            Kind::BmapOutOfOrder,
            vec![
                ("rec", idx.into()),
                ("o", r.startoff.into()),
                ("s", r.startblock.into()),
                ("c", u64::from(r.blockcount).into()),
                ("prev", idx.saturating_sub(1).into()),
                ("po", po.into()),
                ("ps", ps.into()),
                ("pc", pc.into()),
            ],
        ));
    }
    if r.unwritten && (attr || !matches!(ty, Type::Data | Type::RtData)) {
        let kind = if attr {
            Kind::BmapUnwrittenAttr
        } else {
            Kind::BmapUnwrittenNonreg
        };
        return Err((kind, at(r.startoff, r.startblock)));
    }
    if r.blockcount == 0 {
        return Err((Kind::BmapZeroLen, at(r.startoff, r.startblock)));
    }
    let start = r.startblock;
    let end = start
        .saturating_add(u64::from(r.blockcount))
        .saturating_sub(1);
    // verify_dfsbno_range: the AG numbers of the two ends as the raw shift gives them,
    // then libxfs_verify_fsbno of each end (inside an AG, past its header blocks).
    let log = u32::from(geo.ag_blk_log);
    if start.checked_shr(log) != end.checked_shr(log) {
        return Err((
            Kind::BmapOverflow,
            vec![
                ("start", start.into()),
                ("end", end.into()),
                ("off", r.startoff.into()),
            ],
        ));
    }
    if !geo.verify_fsbno(Fsb(start)) {
        return Err((Kind::BmapBadStart, at(r.startoff, start)));
    }
    if !geo.verify_fsbno(Fsb(end)) {
        return Err((Kind::BmapBadEnd, at(r.startoff, end)));
    }
    let s = geo.fsb_split_lossy(Fsb(start));
    let last = r
        .startoff
        .saturating_add(u64::from(r.blockcount))
        .saturating_sub(1);
    if last > xfs_format::bmap::max_file_offset(geo) {
        return Err((
            Kind::BmapExceedsMax,
            vec![
                ("start", r.startoff.into()),
                ("count", u64::from(r.blockcount).into()),
                ("fsbno", start.into()),
            ],
        ));
    }
    Ok(s)
}

/// The inode core of the on-disk inode `d` (an inode-sized slice of a cluster buffer; one
/// too short for a core decodes as zeros).
pub(crate) fn dinode_core(d: &[u8]) -> RawDinode {
    RawDinode::parse(d, 0).unwrap_or_default()
}

fn mode_format_ok(mode: u16, format: u8) -> bool {
    if format > FMT_BTREE {
        return false;
    }
    match mode & S_IFMT {
        S_IFIFO | S_IFCHR | S_IFBLK | S_IFSOCK => format == FMT_DEV,
        S_IFDIR => (FMT_LOCAL..=FMT_BTREE).contains(&format),
        S_IFREG => (FMT_EXTENTS..=FMT_BTREE).contains(&format),
        S_IFLNK => (FMT_LOCAL..=FMT_EXTENTS).contains(&format),
        _ => true,
    }
}
