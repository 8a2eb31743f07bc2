//! Per-AG superblock checks of phase 2, as xfs_repair's agheader.c makes them
//! (`secondary_sb_whack`: fields that must be zero or null outside the primary).

use xfs_format::features::*;
use xfs_format::sb::RawSb;

use crate::finding::{Finding, Kind, Val};
use crate::sb::*;

/// Quota inode as libxfs reads it: 0 means "none" like NULLFSINO.
fn quota_ino(v: u64) -> u64 {
    if v == 0 {
        NULLFSINO
    } else {
        v
    }
}

/// Size of the defined part of a superblock (what lies after must be zero).
pub fn sb_used_size(sb: &RawSb) -> usize {
    if sb.is_v5() && sb.sb_features_incompat & XFS_SB_FEAT_INCOMPAT_META_UUID != 0 {
        264
    } else if sb.is_v5() {
        248
    } else if sb.has_version_bit(XFS_SB_VERSION_MOREBITSBIT) {
        208
    } else if sb.has_version_bit(XFS_SB_VERSION_LOGV2BIT) {
        200
    } else if sb.has_sector() {
        196
    } else {
        193
    }
}

/// Result flags of the per-AG superblock checks.
#[derive(Debug, Default, Clone, Copy)]
pub struct SbStatus {
    /// The AG's superblock needs a reset (skips the AG under -n).
    pub reset: bool,
}

/// `secondary_sb_whack`: fields that must be zero/null in an AG superblock.
pub fn secondary_sb_whack(
    primary: &RawSb,
    sector: &[u8],
    sb: &RawSb,
    agno: u32,
    out: &mut Vec<Finding>,
) -> SbStatus {
    let mut st = SbStatus::default();
    let ag = || ("ag", Val::from(agno));
    let size = sb_used_size(sb);
    let sect = usize::from(primary.sb_sectsize);
    let zero = sector
        .get(size..sect.max(size))
        .is_none_or(|b| b.iter().all(|&x| x == 0));
    let bzero = !zero;
    if bzero {
        let which = if agno == 0 { "primary" } else { "secondary" };
        out.push(Finding::new(
            2,
            Kind::SbUnusedNonzero,
            vec![("which", which.into()), ag()],
        ));
    }
    let flag = |cond: bool, f: Finding, st: &mut SbStatus, out: &mut Vec<Finding>| {
        if cond && !bzero {
            st.reset = true;
            out.push(f);
        }
    };
    flag(
        sb.sb_flags != 0,
        Finding::new(2, Kind::SbAgBadFlags, vec![ag()]),
        &mut st,
        out,
    );
    let inprog = sb.sb_inprogress == 1;
    flag(
        inprog && quota_ino(sb.sb_uquotino) != NULLFSINO,
        Finding::new(2, Kind::SbAgQuotaIno, vec![("which", "user".into()), ag()]),
        &mut st,
        out,
    );
    flag(
        inprog && quota_ino(sb.sb_gquotino) != NULLFSINO,
        Finding::new(2, Kind::SbAgQuotaIno, vec![("which", "group".into()), ag()]),
        &mut st,
        out,
    );
    flag(
        primary.is_v5() && inprog && quota_ino(sb.sb_pquotino) != NULLFSINO,
        Finding::new(
            2,
            Kind::SbAgQuotaIno,
            vec![("which", "project".into()), ag()],
        ),
        &mut st,
        out,
    );
    flag(
        inprog && sb.sb_qflags != 0,
        Finding::new(2, Kind::SbAgQuotaFlags, vec![ag()]),
        &mut st,
        out,
    );
    flag(
        !sb.has_align() && sb.sb_inoalignmt != 0,
        Finding::new(2, Kind::SbAgInoalign, vec![ag()]),
        &mut st,
        out,
    );
    flag(
        !sb.has_dalign() && (sb.sb_unit != 0 || sb.sb_width != 0),
        Finding::new(2, Kind::SbAgStripe, vec![ag()]),
        &mut st,
        out,
    );
    flag(
        !sb.has_sector()
            && (sb.sb_sectsize != 512
                || sb.sb_sectlog != 9
                || sb.sb_logsectsize != 0
                || sb.sb_logsectlog != 0),
        Finding::new(2, Kind::SbAgSectsize, vec![ag()]),
        &mut st,
        out,
    );
    if primary.is_v5() && agno != 0 {
        let feat = |which: &str, p: u32, s: u32| {
            Finding::new(
                2,
                Kind::SbFeatureMismatch,
                vec![
                    ("which", which.into()),
                    ag(),
                    ("found", p.into()),
                    ("expected", s.into()),
                ],
            )
        };
        if primary.sb_features_compat != sb.sb_features_compat {
            out.push(feat(
                "compat",
                primary.sb_features_compat,
                sb.sb_features_compat,
            ));
        }
        if (primary.sb_features_incompat ^ sb.sb_features_incompat)
            & !XFS_SB_FEAT_INCOMPAT_NEEDSREPAIR
            != 0
        {
            out.push(feat(
                "incompat",
                primary.sb_features_incompat,
                sb.sb_features_incompat,
            ));
        }
        if primary.sb_features_ro_compat != sb.sb_features_ro_compat {
            out.push(feat(
                "ro compat",
                primary.sb_features_ro_compat,
                sb.sb_features_ro_compat,
            ));
        }
    }
    st
}
