//! Phase 2's `zero_log` step of `xfs_repair -n`: a dirty internal log is reported (and
//! ignored), an unreadable one too. Uses the log decoder of xfs-format.

use xfs_format::log::{read_fs_log, LogState};
use xfs_format::{ByteSource, Filesystem};

use crate::finding::{Finding, Kind};

/// What `zero_log` prints for the log of `fs`; nothing when `replayed` (the caller checks a
/// view whose log was replayed in memory, as a mount would leave it) or the log is external.
pub fn zero_log<S: ByteSource>(fs: &Filesystem<S>, replayed: bool, out: &mut Vec<Finding>) {
    if replayed || fs.geo.log_start == 0 {
        return;
    }
    let Ok(rep) = read_fs_log(fs) else {
        return;
    };
    match rep.state {
        LogState::Dirty => out.push(Finding::new(2, Kind::LogDirtyAlert, vec![])),
        // xlog_find_tail fails with EFSCORRUPTED (117) or EIO; libxlog reports 22 (EINVAL)
        // for a head it cannot find, the case the decoder meets.
        LogState::Unreadable => out.push(Finding::new(
            2,
            Kind::LogUnreadable,
            vec![("error", 22i64.into())],
        )),
        LogState::Clean | LogState::Zeroed => {}
    }
}
