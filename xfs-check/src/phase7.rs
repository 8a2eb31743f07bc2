//! Phase 7 of `xfs_repair -n`: link counts. Every used inode's on-disk link count against
//! the references phase 6 counted.

use std::collections::{BTreeMap, BTreeSet};

use xfs_format::ByteSource;

use crate::finding::{Finding, Kind};
use crate::incore::Slot;
use crate::state::Checker;

/// Phase 7 over the used inodes (in inode order) and the references phase 6 counted;
/// `special` inodes (realtime and quota) are not linked from directories.
pub(crate) fn phase7<S: ByteSource>(
    c: &Checker<'_, S>,
    refs: &BTreeMap<u64, u32>,
    used: &[(u64, Slot)],
    special: &BTreeSet<u64>,
) -> Vec<Finding> {
    let mut p7 = Vec::new();
    for (ino, s) in used {
        if special.contains(ino) {
            continue;
        }
        // do_link_updates: only an inode whose link count differs is loaded (and may fail
        // to load) to be compared.
        let counted = refs.get(ino).copied().unwrap_or(0);
        if counted == s.nlink {
            continue;
        }
        if let Some(why) = c.iget_error(*ino) {
            p7.push(Finding::new(7, why, vec![("ino", (*ino).into())]));
            p7.push(Finding::new(
                7,
                Kind::CouldntMapInodeP7,
                vec![("ino", (*ino).into())],
            ));
            continue;
        }
        p7.push(Finding::new(
            7,
            Kind::NlinkMismatch,
            vec![
                ("ino", (*ino).into()),
                ("found", s.nlink.into()),
                ("expected", counted.into()),
            ],
        ));
    }
    p7
}
