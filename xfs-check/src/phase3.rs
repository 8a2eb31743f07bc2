//! Phase 3 of `xfs_repair -n`: process every inode of every known inode chunk (AG by AG,
//! as phase3.c's process_ags), then the chunks directory entries revealed
//! (dino_chunks.c's process_uncertain_aginodes). The per-inode work is in
//! [`crate::dinode`]; the chunk walk in [`crate::dino_chunks`].

use xfs_format::ByteSource;

use crate::finding::Finding;
use crate::state::Checker;

/// Runs phase 3 over the in-core inode map phase 2 built.
pub(crate) fn phase3<S: ByteSource>(ck: &mut Checker<'_, S>) -> Vec<Finding> {
    ck.run_pass(3)
}
