//! Findings as typed data, rendered to the exact `xfs_repair -n` text.
//!
//! Every finding has a `kind` (the kind names of the xfs_repair reference taxonomy), the phase
//! it is printed in, a class and named values. [`Finding::render`] fills the kind's template;
//! the templates are those of the taxonomy (`{name:type}` placeholders: `u`/`i` decimal, `x`
//! C's `%#x`, `h` bare lowercase hex, `s`/`w`/`d` text).

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// What a finding is, as in the taxonomy's `cls` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// A primary finding: something on disk is wrong.
    Corruption,
    /// The "would ..." consequence of a corruption.
    Action,
    /// A libxfs diagnostic (does not change the exit status).
    Diag,
    /// Progress information that is not a progress line (secondary superblock search).
    Info,
    /// The run ends here.
    Fatal,
}

/// A value of a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    U(u64),
    I(i64),
    S(String),
}

impl Serialize for Val {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Val::U(v) => s.serialize_u64(*v),
            Val::I(v) => s.serialize_i64(*v),
            Val::S(v) => s.serialize_str(v),
        }
    }
}

impl From<u64> for Val {
    fn from(v: u64) -> Self {
        Val::U(v)
    }
}
impl From<u32> for Val {
    fn from(v: u32) -> Self {
        Val::U(v.into())
    }
}
impl From<u16> for Val {
    fn from(v: u16) -> Self {
        Val::U(v.into())
    }
}
impl From<u8> for Val {
    fn from(v: u8) -> Self {
        Val::U(v.into())
    }
}
impl From<usize> for Val {
    fn from(v: usize) -> Self {
        Val::U(u64::try_from(v).unwrap_or(u64::MAX))
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::I(v)
    }
}
impl From<i32> for Val {
    fn from(v: i32) -> Self {
        Val::I(v.into())
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::S(v.to_owned())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::S(v)
    }
}

/// One finding record: usually one line of `xfs_repair -n` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Taxonomy kind name (`agf_freeblks_mismatch`, ...).
    pub kind: &'static str,
    /// Phase that prints it (1, 2, ...).
    pub phase: u8,
    pub class: Class,
    /// Subject ids and values by name (`ag`, `agbno`, `found`, `expected`, ...).
    pub fields: Vec<(&'static str, Val)>,
}

/// (kind, class, template) of every kind this checker emits. Texts follow the taxonomy of
/// the xfs_repair 6.1.0 reference; kinds marked "extra" are not in it and were written from
/// the message texts of xfs_repair 6.1.0.
pub const KINDS: &[(&str, Class, &str)] = {
    use Class::*;
    &[
        ("sb_primary_bad", Corruption, "bad primary superblock - {reason:s} !!!"),
        ("sb_primary_unverified", Corruption, "couldn't verify primary superblock - {reason:s} !!!"),
        ("sb_secondary_search", Info, "attempting to find secondary superblock..."),
        ("sb_secondary_candidate", Info, "{dots:d}found candidate secondary superblock..."),
        ("sb_secondary_verified", Info, "verified secondary superblock..."),
        ("sb_secondary_unverified", Info, "unable to verify superblock, continuing..."),
        ("sb_secondary_none", Fatal, "{dots:d}Sorry, could not find valid secondary superblock\nExiting now."),
        ("sb_features2_mismatch", Corruption, "superblock has a features2 mismatch, correcting"),
        ("sb_shared_vn", Corruption, "resetting shared_vn to zero"),
        ("sb_primary_would_write", Action, "would write modified primary superblock"),
        ("nomodify_abort_primary_sb", Fatal, "Primary superblock would have been modified.\nCannot proceed further in no_modify mode.\nExiting now."),
        ("log_dirty_alert", Corruption, "ALERT: The filesystem has valuable metadata changes in a log which is being\nignored because the -n option was used.  Expect spurious inconsistencies\nwhich may be resolved by first mounting the filesystem to replay the log."),
        ("log_unreadable", Corruption, "zero_log: cannot find log head/tail (xlog_find_tail={error:i})"),
        ("verifier_error", Diag, "Metadata {error:s} detected at {addr:w}, {ops:w} block 0x{daddr:h}/0x{bytes:h}"),
        ("sb_sanity_failed", Diag, "SB sanity check failed"),
        ("sb_bad_crc", Corruption, "superblock has bad CRC for ag {ag:u}"),
        ("agf_bad_crc", Corruption, "agf has bad CRC for ag {ag:u}"),
        ("agi_bad_crc", Corruption, "agi has bad CRC for ag {ag:u}"),
        ("agfl_bad_crc", Corruption, "agfl has bad CRC for ag {ag:u}"),
        ("sb_ag_invalid", Corruption, "bad on-disk superblock {ag:u} - {reason:s}"),
        ("sb_ag_conflict", Corruption, "primary/secondary superblock {ag:u} conflict - {reason:s}"),
        ("sb_ag_bad_flags", Corruption, "bad flags field in superblock {ag:u}"),
        ("sb_ag_quota_ino", Corruption, "non-null {which:w} quota inode field in superblock {ag:u}"),
        ("sb_ag_quota_flags", Corruption, "non-null quota flags in superblock {ag:u}"),
        ("sb_ag_inoalign", Corruption, "bad inode alignment field in superblock {ag:u}"),
        ("sb_ag_stripe", Corruption, "bad stripe unit/width fields in superblock {ag:u}"),
        ("sb_ag_sectsize", Corruption, "bad log/data device sector size fields in superblock {ag:u}"),
        ("sb_unused_nonzero", Corruption, "would zero unused portion of {which:w} superblock (AG #{ag:u})"),
        ("sb_feature_mismatch", Corruption, "would fix {which:s} feature mismatch in AG {ag:u} super, 0x{found:h} != 0x{expected:h}"),
        ("sb_would_reset", Action, "would reset bad sb for ag {ag:u}"),
        ("agf_would_reset", Action, "would reset bad agf for ag {ag:u}"),
        ("agi_would_reset", Action, "would reset bad agi for ag {ag:u}"),
        ("ag_skipped", Action, "bad uncorrected agheader {ag:u}, skipping ag..."),
        ("agf_bad_magic", Corruption, "bad magic # 0x{found:h} for agf {ag:u}"),
        ("agf_bad_version", Corruption, "bad version # {found:i} for agf {ag:u}"),
        ("agf_bad_seqno", Corruption, "bad sequence # {found:i} for agf {ag:u}"),
        ("agf_bad_uuid", Corruption, "bad uuid {found:w} for agf {ag:u}"),
        ("agi_bad_magic", Corruption, "bad magic # 0x{found:h} for agi {ag:u}"),
        ("agi_bad_version", Corruption, "bad version # {found:i} for agi {ag:u}"),
        ("agi_bad_seqno", Corruption, "bad sequence # {found:i} for agi {ag:u}"),
        ("agi_bad_uuid", Corruption, "bad uuid {found:w} for agi {ag:u}"),
        ("agf_bad_length", Corruption, "bad length {found:i} for agf {ag:u}, should be {expected:u}"),
        ("agi_bad_length", Corruption, "bad length # {found:i} for agi {ag:u}, should be {expected:u}"),
        ("agf_flfirst_too_large", Corruption, "flfirst {found:i} in agf {ag:u} too large (max = {max:u})"),
        ("agf_fllast_too_large", Corruption, "fllast {found:i} in agf {ag:u} too large (max = {max:u})"),
        ("agfl_bad_agbno", Corruption, "bad agbno {agbno:u} in agfl, agno {ag:u}"),
        ("agfl_skipped", Corruption, "agf {ag:u} freelist blocks bad, skipping freelist scan"),
        ("agf_flcount_mismatch", Corruption, "freeblk count {expected:u} != flcount {found:u} in ag {ag:u}"),
        ("root_bad_level", Corruption, "bad levels {found:u} for {tree:w} root, agno {ag:u}"),
        ("root_bad_agbno", Corruption, "bad agbno {found:u} for {tree:w} root, agno {ag:u}"),
        ("rmapbt_blocks_mismatch", Corruption, "bad rmapbt block count {expected:u}, saw {found:u}"),
        ("refcountbt_blocks_mismatch", Corruption, "bad refcountbt block count {expected:u}, saw {found:u}"),
        ("inobt_blocks_mismatch", Corruption, "bad inobt block count {found:u}, saw {expected:u}"),
        ("finobt_blocks_mismatch", Corruption, "bad finobt block count {found:u}, saw {expected:u}"),
        ("agf_freeblks_mismatch", Corruption, "agf_freeblks {found:u}, counted {expected:u} in ag {ag:u}"),
        ("agf_longest_mismatch", Corruption, "agf_longest {found:u}, counted {expected:u} in ag {ag:u}"),
        ("agf_btreeblks_mismatch", Corruption, "agf_btreeblks {found:u}, counted {expected:u} in ag {ag:u}"),
        ("agi_count_mismatch", Corruption, "agi_count {found:u}, counted {expected:u} in ag {ag:u}"),
        ("agi_freecount_mismatch", Corruption, "agi_freecount {found:u}, counted {expected:u} in ag {ag:u}"),
        ("agi_freecount_mismatch_finobt", Corruption, "agi_freecount {found:u}, counted {expected:u} in ag {ag:u} finobt"),
        ("agi_unlinked_bucket", Corruption, "agi unlinked bucket {bucket:u} is {agino:u} in ag {ag:u} (inode={ino:u})"),
        ("sb_icount_mismatch", Corruption, "sb_icount {found:u}, counted {expected:u}"),
        ("sb_ifree_mismatch", Corruption, "sb_ifree {found:u}, counted {expected:u}"),
        ("sb_fdblocks_mismatch", Corruption, "sb_fdblocks {found:u}, counted {expected:u}"),
        ("root_chunk_not_found", Corruption, "root inode chunk not found"),
        ("root_marked_free", Corruption, "root inode marked free, would correct"),
        ("rbmino_marked_free", Corruption, "realtime bitmap inode marked free, would correct"),
        ("rsumino_marked_free", Corruption, "realtime summary inode marked free, would correct"),
        ("btree_block_suspect", Corruption, "btree block {ag:u}/{agbno:u} is suspect, error {error:i}"),
        ("btree_bad_magic", Corruption, "bad magic # {found:x} in {tree:w} block {ag:u}/{agbno:u}"),
        ("refcbt_bad_magic", Corruption, "bad magic # {found:x} in refcount btree block {ag:u}/{agbno:u}"),
        ("btree_bad_level", Corruption, "expected level {expected:i} got {found:i} in {tree:w} block {ag:u}/{agbno:u}"),
        // extra: the refcount btree's own wording.
        ("refcbt_bad_level", Corruption, "expected level {expected:i} got {found:i} in refcount btree block {ag:u}/{agbno:u}"),
        ("btree_bad_nrecs", Corruption, "bad btree nrecs ({found:u}, min={min:u}, max={max:u}) in {tree:w} block {ag:u}/{agbno:u}"),
        // extra
        ("refcbt_bad_nrecs", Corruption, "bad btree nrecs ({found:u}, min={min:u}, max={max:u}) in refcount btree block {ag:u}/{agbno:u}"),
        ("btree_bad_ptr", Corruption, "bad btree pointer ({found:u}) in {tree:w} block {ag:u}/{agbno:u}"),
        ("btree_block_multiply_claimed", Corruption, "{tree:w} freespace btree block claimed (state {state:u}), agno {ag:u}, bno {agbno:u}, suspect {suspect:u}"),
        ("inobt_block_multiply_claimed", Corruption, "{tree:w} btree block claimed (state {state:u}), agno {ag:u}, bno {agbno:u}, suspect {suspect:u}"),
        // extra
        ("rmapbt_block_multiply_claimed", Corruption, "{tree:w} rmap btree block claimed (state {state:u}), agno {ag:u}, bno {agbno:u}, suspect {suspect:u}"),
        ("inobt_dubious_header", Corruption, "dubious {tree:w} btree block header {ag:u}/{agbno:u}"),
        ("allocbt_invalid_start", Corruption, "invalid start block {found:u} in record {rec:u} of {tree:w} btree block {ag:u}/{agbno:u}"),
        ("allocbt_invalid_length", Corruption, "invalid length {found:u} in record {rec:u} of {tree:w} btree block {ag:u}/{agbno:u}"),
        ("bnobt_out_of_order", Corruption, "out-of-order bno btree record {rec:u} ({start:u} {len:u}) block {ag:u}/{agbno:u}"),
        ("cntbt_out_of_order", Corruption, "out-of-order cnt btree record {rec:u} ({start:u} {len:u}) block {ag:u}/{agbno:u}"),
        // extra
        ("refcbt_out_of_order", Corruption, "out-of-order refcount btree record {rec:u} ({start:u} {len:u}) block {ag:u}/{agbno:u}"),
        // extra
        ("rmapbt_out_of_order", Corruption, "out-of-order rmap btree record {rec:u} ({start:u} {owner:i} {offset:h} {len:u}) block {ag:u}/{agbno:u}"),
        // extra
        ("rmapbt_invalid_owner", Corruption, "invalid owner in rmap btree record {rec:u} ({owner:i} {len:u}) block {ag:u}/{agbno:u}"),
        // extra
        ("refcbt_bad_refcount", Corruption, "invalid reference count {found:u} in record {rec:u} of {tree:w} btree block {ag:u}/{agbno:u}"),
        ("freespace_multiply_claimed", Corruption, "block ({ag:u},{start:u}-{end:u}) multiply claimed by {tree:w} space tree, state - {state:u}"),
        ("inobt_rec_freecount_mismatch", Corruption, "ir_freecount/free mismatch, inode chunk {ag:u}/{agino:u}, freecount {found:i} nfree {expected:i}"),
        ("finobt_rec_freecount_mismatch", Corruption, "finobt ir_freecount/free mismatch, inode chunk {ag:u}/{agino:u}, freecount {found:i} nfree {expected:i}"),
        ("inobt_rec_count_invalid", Corruption, "invalid inode count, inode chunk {ag:u}/{agino:u}, count {found:i} ninodes {expected:i}"),
        ("inobt_rec_overlap", Corruption, "inode rec for ino {ino:u} ({ag:u}/{agino:u}) overlaps existing rec (start {ag2:u}/{agino2:u})"),
        ("inobt_chunk_claims_used", Corruption, "inode chunk claims used block, inobt block - agno {ag:u}, bno {agbno:u}, inopb {inopb:u}"),
        ("finobt_chunk_claims_untracked", Corruption, "inode chunk claims untracked block, finobt block - agno {ag:u}, bno {agbno:u}, inopb {inopb:u}"),
        ("finobt_chunk_claims_used", Corruption, "inode chunk claims used block, finobt block - agno {ag:u}, bno {agbno:u}, inopb {inopb:u}"),
        // extra
        ("finobt_sparse_claims_inode", Corruption, "sparse inode chunk claims inode block, finobt block - agno {ag:u}, bno {agbno:u}, inopb {inopb:u}"),
        ("finobt_rec_undiscovered", Corruption, "undiscovered finobt record, ino {ino:u} ({ag:u}/{agino:u})"),
        ("finobt_rec_mismatch", Corruption, "finobt rec for ino {ino:u} ({ag:u}/{agino:u}) does not match existing rec ({ag2:u}/{agino2:u})"),
        ("finobt_rec_no_free", Corruption, "finobt record with no free inodes, inode chunk {ag:u}/{agino:u}"),
        ("inobt_rec_misaligned", Corruption, "badly aligned {tree:w} rec (starting inode = {ino:u})"),
        // extra
        ("inobt_rec_bad_start", Corruption, "bad starting inode # ({ino:u} (0x{ag:h} 0x{agino:h})) in {tree:w} rec, skipping rec"),
        // extra
        ("inobt_rec_bad_end", Corruption, "bad ending inode # ({ino:u} (0x{ag:h} 0x{agino:h})) in {tree:w} rec, skipping rec"),
        ("inobt_out_of_order", Corruption, "out-of-order {tree:w} btree record {rec:u} ({agino:u}) block {ag:u}/{agbno:u}"),
        ("inobt_holemask_mismatch", Corruption, "ir_holemask/ir_free mismatch, {tree:w} chunk {ag:u}/{agino:u}, holemask 0x{holemask:h} free 0x{free:h}"),
        ("rmap_rec_mismatch", Corruption, "{what:s} block ({ag:u},{start:u}-{end:u}) mismatch in {tree:w} tree, state - {state:u},{owner:h}"),
        // extra: "unknown block" uses "on" instead of "in".
        ("rmap_rec_unknown", Corruption, "unknown block ({ag:u},{start:u}-{end:u}) mismatch on {tree:w} tree, state - {state:u},{owner:h}"),
        // Phases 3 and 4: inodes.
        ("inode_bad_crc_v", Corruption, "bad CRC for inode {ino:u}"),
        ("inode_bad_crc", Corruption, "bad CRC for inode {ino:u}, would rewrite"),
        ("inode_bad_magic_v", Corruption, "bad magic number 0x{found:h} on inode {ino:u}"),
        ("inode_bad_magic", Corruption, "bad magic number 0x{found:h} on inode {ino:u}, would reset magic number"),
        ("inode_bad_version_v", Corruption, "bad version number 0x{found:h} on inode {ino:u}"),
        ("inode_bad_version", Corruption, "bad version number 0x{found:h} on inode {ino:u}, would reset version number"),
        ("inode_bad_next_unlinked_v", Corruption, "bad next_unlinked 0x{found:h} on inode {ino:u}"),
        ("inode_bad_next_unlinked", Corruption, "bad next_unlinked 0x{found:h} on inode {ino:u}, would reset next_unlinked"),
        ("inode_ino_mismatch", Corruption, "inode identifier {found:u} mismatch on inode {ino:u}"),
        ("inode_uuid_mismatch", Corruption, "UUID mismatch on inode {ino:u}"),
        ("inode_negative_size", Corruption, "bad (negative) size {found:i} on inode {ino:u}"),
        ("imap_inuse_marked_free", Corruption, "imap claims in-use inode {ino:u} is free, would correct imap"),
        ("imap_free_marked_inuse", Corruption, "imap claims a free inode {ino:u} is in use, would correct imap and clear inode"),
        ("inode_bad_format", Corruption, "bad inode format in inode {ino:u}"),
        ("inode_rt_no_rtdev", Corruption, "inode {ino:u} has RT flag set but there is no RT device"),
        ("inode_would_fix_flags", Action, "would fix bad flags."),
        ("inode_reflink_nonfile", Corruption, "reflink flag set on non-file inode {ino:u}"),
        ("inode_clear_next_unlinked", Corruption, "Would clear next_unlinked in inode {ino:u}"),
        ("inode_bad_type", Corruption, "bad inode type {found:o} inode {ino:u}"),
        ("inode_bad_extsize", Corruption, "Bad extent size hint {found:u} on inode {ino:u}, would reset to zero"),
        ("inode_bad_nsec", Corruption, "Bad {ts:w} nsec {found:u} on inode {ino:u}, would reset to zero"),
        ("dir_format_size_mismatch", Corruption, "mismatch between format ({format:i}) and size ({size:i}) in directory ino {ino:u}"),
        ("dir_bad_size", Corruption, "directory inode {ino:u} has bad size {size:i}"),
        ("inode_misc_size", Corruption, "size of {what:s} inode {ino:u} != 0 ({size:i} bytes)"),
        ("inode_misc_blocks", Corruption, "size of {what:s} inode {ino:u} != 0 ({blocks:u} blocks)"),
        ("inode_rt_file", Corruption, "found inode {ino:u} claiming to be a real-time file"),
        ("forkoff_dev", Corruption, "bad attr fork offset {found:u} in dev inode {ino:u}, should be 1"),
        ("forkoff_bad", Corruption, "bad attr fork offset {found:u} in inode {ino:u}, max={max:u}"),
        ("bmap_out_of_order", Corruption, "bmap rec out of order, inode {ino:u} entry {rec:u} [o s c] [{o:u} {s:u} {c:u}], {prev:u} [{po:u} {ps:u} {pc:u}]"),
        ("bmap_unwritten_attr", Corruption, "unwritten extent (off = {off:u}, fsbno = {fsbno:u}) in ino {ino:u} attr fork"),
        ("bmap_unwritten_nonreg", Corruption, "unwritten extent (off = {off:u}, fsbno = {fsbno:u}) in non-regular file ino {ino:u}"),
        ("bmap_zero_len", Corruption, "zero length extent (off = {off:u}, fsbno = {fsbno:u}) in ino {ino:u}"),
        ("bmap_bad_start", Corruption, "inode {ino:u} - bad extent starting block number {fsbno:u}, offset {off:u}"),
        ("bmap_bad_end", Corruption, "inode {ino:u} - bad extent last block number {fsbno:u}, offset {off:u}"),
        ("bmap_overflow", Corruption, "inode {ino:u} - bad extent overflows - start {start:u}, end {end:u}, offset {off:u}"),
        ("bmap_claims_free", Corruption, "{fork:w} fork in ino {ino:u} claims free block {fsbno:u}"),
        ("bmap_claims_metadata", Corruption, "{fork:w} fork in inode {ino:u} claims metadata block {fsbno:u}"),
        ("bmap_claims_used", Corruption, "{fork:w} fork in {ftype:w} inode {ino:u} claims used block {fsbno:u}"),
        ("inode_nextents_correcting", Corruption, "correcting nextents for inode {ino:u}"),
        ("bad_data_fork", Corruption, "bad data fork in inode {ino:u}"),
        ("bad_attr_fork", Corruption, "bad attribute fork in inode {ino:u}, would clear attr fork"),
        ("inode_bad_nblocks", Corruption, "bad nblocks {found:u} for inode {ino:u}, would reset to {expected:u}"),
        ("inode_bad_nextents", Corruption, "bad nextents {found:u} for inode {ino:u}, would reset to {expected:u}"),
        ("inode_bad_anextents", Corruption, "bad anextents {found:u} for inode {ino:u}, would reset to {expected:u}"),
        ("local_data_too_large", Corruption, "local inode {ino:u} data fork is too large (size = {size:i}, max = {max:u})"),
        ("attr_local_too_large", Corruption, "local inode {ino:u} attr fork too large (size {found:i}, max = {max:u})"),
        ("attr_sf_zero_namelen", Corruption, "zero length name entry in attribute fork, would truncate attributes for inode {ino:u} to {expected:u}"),
        ("attr_sf_count_fix", Action, "would have corrected attribute entry count in inode {ino:u} from {found:u} to {expected:u}"),
        ("attr_sf_totsize_fix", Action, "would have corrected attribute totsize in inode {ino:u} from {found:u} to {expected:u}"),
        ("symlink_too_long", Corruption, "symlink in inode {ino:u} too long ({found:u} chars)"),
        ("symlink_zero_size", Corruption, "zero size symlink in inode {ino:u}"),
        ("symlink_problem", Corruption, "problem with symbolic link in inode {ino:u}"),
        ("would_clear_inode", Action, "would have cleared inode {ino:u}"),
        ("would_clear_root", Action, "would clear root inode {ino:u}"),
        ("sfdir_size_fix", Corruption, "would have corrected directory {ino:u} size from {found:i} to {expected:i}"),
        ("sfdir_bogus_parent", Corruption, "bogus .. inode number ({found:u}) in directory inode {ino:u}, would clear inode number"),
        ("sfdir_entry_bad_ref", Corruption, "entry \"{name:s}\" in shortform directory {dir_ino:u} references {reason:s} inode {ino:u}"),
        ("sfdir_would_junk_named", Action, "would have junked entry \"{name:s}\" in directory inode {dir_ino:u}"),
        // Long-form directories (phases 3 and 4).
        ("dir_problem", Corruption, "problem with directory contents in inode {ino:u}"),
        // extra
        ("dir_bad_size_format", Corruption, "bad size/format for directory {ino:u}"),
        ("dir_no_dot", Corruption, "no . entry for directory {ino:u}"),
        ("dir_no_dotdot", Corruption, "no .. entry for directory {ino:u}"),
        ("dir_no_dotdot_root", Corruption, "no .. entry for root directory {ino:u}"),
        // extra
        ("dir_block_missing", Corruption, "block {blk:u} for directory inode {ino:u} is missing"),
        ("dir_block_corrupt", Corruption, "corrupt directory block {blk:u} for inode {ino:u}"),
        ("dir_block_bad_magic", Corruption, "bad directory block magic # {found:x} in block {blk:u} for directory inode {ino:u}"),
        // extra
        ("dir_data_block_missing", Corruption, "block {blk:u} for directory inode {ino:u} is missing"),
        // extra
        ("dir_data_block_corrupt", Corruption, "corrupt directory data block {blk:u} for inode {ino:u}"),
        ("dir_data_corrupt", Corruption, "corrupt block {blk:u} in directory inode {ino:u}"),
        ("dir_would_junk_block", Action, "\twould junk block"),
        ("dir_entry_bad_ref", Corruption, "entry \"{name:s}\" at block {blk:u} offset {off:u} in directory inode {dir_ino:u} references {reason:s} inode {ino:u}"),
        // extra
        ("dir_entry_zero_namelen", Corruption, "entry at block {blk:u} offset {off:u} in directory inode {dir_ino:u}has 0 namelength"),
        ("dir_entry_would_clear_ino", Action, "\twould clear inode number in entry at offset {off:u}..."),
        // extra: the reasons (illegal name, points to self, multiple ./..) printed before it.
        ("dir_entry_would_clear", Corruption, "{what:s}would clear entry"),
        // extra
        ("dir_root_dotdot_fix", Corruption, "bad .. entry in root directory inode {dir_ino:u}, was {ino:u}: would correct"),
        // extra
        ("dir_dotdot_bad", Corruption, "bad .. entry in directory inode {dir_ino:u}, was {ino:u}: would correct"),
        // extra
        ("dir_dot_bad", Corruption, "bad . entry in directory inode {dir_ino:u}, was {ino:u}: would correct"),
        ("dir_bad_bestfree", Corruption, "bad bestfree table in block {blk:u} in directory inode {ino:u}: would repair table"),
        ("free_space_one_btree", Corruption, "free space ({ag:u},{start:u}-{end:u}) only seen by one free space btree"),
        ("cache_key_badness", Diag, "{tid:w}: Badness in key lookup (length)\nbp=(bno 0x{daddr:h}, len {bytes:u} bytes) key=(bno 0x{daddr2:h}, len {bytes2:u} bytes)"),
        ("found_inodes_not_in_tree", Corruption, "found inodes not in the inode allocation tree"),
        ("ino_btree_too_corrupt", Fatal, "Inode allocation btrees are too corrupted, skipping phases 6 and 7"),
        ("reflink_flag_set", Corruption, "setting reflink flag on inode {ino:u}"),
        ("refcount_missing", Corruption, "Missing reference count record for ({ag:u}/{agbno:u}) len {len:u} count {count:u}"),
        // extra
        ("refcount_incorrect", Corruption, "Incorrect reference count: saw ({ag:u}/{start:u}) len {len:u} nlinks {count:u}; should be ({ag:u}/{agbno:u}) len {elen:u} nlinks {ecount:u}"),
        ("rmapbt_would_rebuild", Action, "would rebuild corrupt rmap btrees."),
        ("refcountbt_would_rebuild", Action, "would rebuild corrupt refcount btrees."),
        // Phase 6.
        ("sfdir_entry_free_p6", Corruption, "entry \"{name:s}\" in shortform directory inode {dir_ino:u} points to free inode {ino:u}"),
        ("inode_verifier_error", Diag, "Metadata corruption detected at <addr>, inode 0x{ino:h} data fork"),
        ("couldnt_map_inode", Corruption, "couldn't map inode {ino:u}, err = 117"),
        ("couldnt_map_inode_p7", Corruption, "couldn't map inode {ino:u}, err = 117, can't compare link counts"),
        ("dir_would_junk_entry", Action, "would junk entry"),
        ("lfdir_entry_free_p6", Corruption, "entry \"{name:s}\" in directory inode {dir_ino:u} points to free inode {ino:u}, would junk entry"),
        ("lfdir_entry_nonexist_p6", Corruption, "entry \"{name:s}\" in directory inode {dir_ino:u} points to non-existent inode {ino:u}, would junk entry"),
        ("sfdir_dup_name", Corruption, "entry \"{name:s}\" (ino {ino:u}) in dir {dir_ino:u} is a duplicate namewould junk entry"),
        ("lfdir_dup_name", Corruption, "entry \"{name:s}\" (ino {ino:u}) in dir {dir_ino:u} is a duplicate name, would junk entry"),
        ("ftype_mismatch", Corruption, "would fix ftype mismatch ({found:u}/{expected:u}) in directory/child inode {dir_ino:u}/{ino:u}"),
        ("dir_bad_hash_table", Corruption, "bad hash table for directory inode {ino:u} ({reason:s}): would rebuild"),
        ("dir_would_rebuild", Action, "would rebuild directory inode {ino:u}"),
        ("disconnected_inode", Corruption, "disconnected inode {ino:u}, would move to {orphanage:w}"),
        ("disconnected_dir", Corruption, "disconnected dir inode {ino:u}, would move to {orphanage:w}"),
        // Long-form attribute forks (extra: attr_repair.c process_longform_attr and below).
        ("attr_block0_missing", Corruption, "block 0 of inode {ino:u} attribute fork is missing"),
        ("attr_block0_invalid", Corruption, "block in attribute fork of inode {ino:u} is not valid"),
        ("attr_block0_unreadable", Corruption, "can't read block 0 of inode {ino:u} attribute fork"),
        ("attr_block0_corrupt", Corruption, "corrupt block 0 of inode {ino:u} attribute fork"),
        ("attr_hdr_owner", Corruption, "expected owner inode {ino:u}, got {owner:u}, attr block {daddr:u}"),
        ("attr_hdr_blkno", Corruption, "expected block {daddr:u}, got {blkno:u}, inode {ino:u}attr block"),
        ("attr_hdr_uuid", Corruption, "wrong FS UUID, inode {ino:u} attr block {daddr:u}"),
        ("attr_bad_root_magic", Corruption, "bad attribute leaf magic # {magic:x} for dir ino {ino:u}"),
        ("attr_would_clear_links", Corruption, "would clear forw/back pointers in block 0 for attributes in inode {ino:u}"),
        ("attr_empty_leaf0", Corruption, "would clear empty leaf attr block 0, inode {ino:u}"),
        ("attr_bad_count", Corruption, "bad attribute count {count:u} in attr block {blk:u}, inode {ino:u}"),
        ("attr_bad_nameidx", Corruption, "bad attribute nameidx {idx:u} in attr block {blk:u}, inode {ino:u}"),
        ("attr_incomplete", Corruption, "attribute entry #{i:u} in attr block {blk:u}, inode {ino:u} is INCOMPLETE"),
        ("attr_entry_overlap", Corruption, "attribute entry {i:u} in attr block {blk:u}, inode {ino:u} claims already used space"),
        ("attr_name_overlap", Corruption, "attribute entry {i:u} in attr block {blk:u}, inode {ino:u} claims used space"),
        ("da_bad_range", Corruption, "bad range claimed [{start:u}, {stop:u}) in da block"),
        ("da_range_end", Corruption, "byte range end [{start:u} {stop:u}) in da block larger than blocksize {bs:u}"),
        ("da_multi_claim", Corruption, "multiply claimed byte {b:u} in da block"),
        ("attr_bad_name", Corruption, "attribute entry {i:u} in attr block {blk:u}, inode {ino:u} has bad name (namelen = {namelen:u})"),
        ("attr_bad_hash", Corruption, "bad hashvalue for attribute entry {i:u} in attr block {blk:u}, inode {ino:u}"),
        ("attr_remote_inconsistent", Corruption, "inconsistent remote attribute entry {i:u} in attr block {blk:u}, ino {ino:u}"),
        ("attr_remote_missing", Corruption, "remote block for attributes of inode {ino:u} is missing"),
        ("attr_remote_unreadable", Corruption, "can't read remote block for attributes of inode {ino:u}"),
        ("attr_remote_corrupt", Corruption, "Corrupt remote block for attributes of inode {ino:u}"),
        ("attr_remote_get_failed", Corruption, "remote attribute get failed for entry {i:u}, inode {ino:u}"),
        ("attr_firstused_fix", Corruption, "- would reset first used value from {found:u} to {expected:u} in block {blk:u} of attribute fork of inode {ino:u}"),
        ("attr_usedbytes_fix", Corruption, "- would reset usedbytes cnt from {found:u} to {expected:u} in block {blk:u} of attribute fork of {ino:u}"),
        ("inode_attr_problem", Corruption, "problem with attribute contents in inode {ino:u}"),
        ("inode_would_clear_attr_fork", Action, "would clear attr fork"),
        // Phase 6 leaf/free blocks of leaf and node directories (extra: phase6.c).
        ("dir_corrupt_tree_block", Corruption, "corrupt directory tree block {blk:u} for inode {ino:u}"),
        ("dir_bad_header_depth", Corruption, "bad header depth for directory inode {ino:u}"),
        ("dir_leaf_bad_crc", Corruption, "leaf block {blk:u} for directory inode {ino:u} bad CRC"),
        ("dir_leaf_bad_header", Corruption, "leaf block {blk:u} for directory inode {ino:u} bad header"),
        ("dir_leaf_bad_tail", Corruption, "leaf block {blk:u} for directory inode {ino:u} bad tail"),
        ("dir_unknown_leaf_magic", Corruption, "unknown magic number {magic:x} for block {blk:u} in directory inode {ino:u}"),
        ("dir_free_bad_header", Corruption, "free block {blk:u} for directory inode {ino:u} bad header"),
        ("dir_free_bad_entry", Corruption, "free block {blk:u} entry {i:u} for directory ino {ino:u} bad"),
        ("dir_free_bad_nused", Corruption, "free block {blk:u} for directory inode {ino:u} bad nused"),
        ("dir_freetab_missing", Corruption, "missing freetab entry {i:u} for directory inode {ino:u}"),
        // Phase 7.
        ("nlink_mismatch", Corruption, "would have reset inode {ino:u} nlinks from {found:u} to {expected:u}"),
    ]
};

fn template(kind: &str) -> Option<(Class, &'static str)> {
    KINDS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map(|(_, c, t)| (*c, *t))
}

impl Finding {
    /// A finding of `kind` (one of [`KINDS`]) printed in `phase`.
    pub fn new(phase: u8, kind: &'static str, fields: Vec<(&'static str, Val)>) -> Finding {
        let class = template(kind).map_or(Class::Corruption, |(c, _)| c);
        Finding {
            kind,
            phase,
            class,
            fields,
        }
    }

    pub fn get(&self, name: &str) -> Option<&Val> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The AG the finding is about, when it names one.
    pub fn ag(&self) -> Option<u64> {
        match self.get("ag") {
            Some(Val::U(v)) => Some(*v),
            _ => None,
        }
    }

    /// The exact text xfs_repair -n prints (several lines for multi-line records).
    pub fn render(&self) -> String {
        let Some((_, t)) = template(self.kind) else {
            return self.kind.to_owned();
        };
        let mut out = String::with_capacity(t.len().saturating_add(16));
        let mut rest = t;
        while let Some(open) = rest.find('{') {
            let (head, tail) = rest.split_at(open);
            out.push_str(head);
            let Some(close) = tail.find('}') else {
                out.push_str(tail);
                return out;
            };
            let spec = tail.get(1..close).unwrap_or("");
            let (name, ty) = spec.split_once(':').unwrap_or((spec, "s"));
            match self.get(name) {
                Some(v) => out.push_str(&format_val(v, ty)),
                None => {
                    out.push('?');
                }
            }
            rest = tail.get(close.saturating_add(1)..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }

    /// Whether this finding makes the exit status 1 (everything but libxfs diagnostics).
    pub fn is_dirty(&self) -> bool {
        self.class != Class::Diag
    }
}

fn format_val(v: &Val, ty: &str) -> String {
    match (v, ty) {
        (Val::U(n), "x") if *n == 0 => "0".to_owned(),
        (Val::U(n), "x") => format!("{n:#x}"),
        (Val::U(n), "h") => format!("{n:x}"),
        (Val::U(n), "o") => format!("{n:#o}").replacen("0o", "0", 1),
        (Val::I(n), "h" | "x") => format!("{n:x}"),
        (Val::U(n), _) => n.to_string(),
        (Val::I(n), _) => n.to_string(),
        (Val::S(s), _) => s.clone(),
    }
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("phase", &self.phase.to_string())?;
        m.serialize_entry("kind", self.kind)?;
        m.serialize_entry("class", &self.class)?;
        for (k, v) in &self.fields {
            m.serialize_entry(k, v)?;
        }
        m.serialize_entry("text", &self.render())?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_templates() {
        let f = Finding::new(
            2,
            "agf_freeblks_mismatch",
            vec![
                ("found", 2809u32.into()),
                ("expected", 2709u32.into()),
                ("ag", 2u32.into()),
            ],
        );
        assert_eq!(f.render(), "agf_freeblks 2809, counted 2709 in ag 2");
        let m = Finding::new(
            2,
            "btree_bad_magic",
            vec![
                ("found", 0u32.into()),
                ("tree", "btcnt".into()),
                ("ag", 0u32.into()),
                ("agbno", 2u32.into()),
            ],
        );
        assert_eq!(m.render(), "bad magic # 0 in btcnt block 0/2");
        let j = serde_json::to_string(&f).unwrap_or_default();
        assert!(j.contains("\"text\":\"agf_freeblks 2809"));
    }

    #[test]
    fn every_template_is_closed() {
        for (k, _, t) in KINDS {
            assert_eq!(t.matches('{').count(), t.matches('}').count(), "{k}");
        }
    }
}
