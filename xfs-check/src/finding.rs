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
    /// A range of the image could not be read (a medium error, or past the end of a
    /// truncated image): not an xfs_repair finding, and not corruption.
    #[serde(rename = "read_error")]
    ReadError,
}

/// A value of a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    /// An unsigned number.
    U(u64),
    /// A signed number.
    I(i64),
    /// Text (names, reasons).
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

macro_rules! val_from {
    ($($t:ty => |$v:ident| $e:expr;)*) => {
        $(impl From<$t> for Val {
            fn from($v: $t) -> Self {
                $e
            }
        })*
    };
}

val_from! {
    u64 => |v| Val::U(v);
    u32 => |v| Val::U(v.into());
    u16 => |v| Val::U(v.into());
    u8 => |v| Val::U(v.into());
    usize => |v| Val::U(u64::try_from(v).unwrap_or(u64::MAX));
    i64 => |v| Val::I(v);
    i32 => |v| Val::I(v.into());
    &str => |v| Val::S(v.to_owned());
    String => |v| Val::S(v);
}

/// One finding record: usually one line of `xfs_repair -n` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What it is: its template, class and the structure it concerns.
    pub kind: Kind,
    /// Phase that prints it (1, 2, ...).
    pub phase: u8,
    /// The kind's class (kept here so that it serializes with the finding).
    pub class: Class,
    /// Subject ids and values by name (`ag`, `agbno`, `found`, `expected`, ...).
    pub fields: Vec<(&'static str, Val)>,
    /// When some reads failed: whether an unreadable range can account for this finding
    /// (the rules are in the `readerr` module docs). None when every read succeeded.
    pub explained_by_read_error: Option<bool>,
    /// The AG whose scan printed it (phase 2), when its fields do not say: for the
    /// explanation of read errors only, never rendered.
    pub(crate) ag_context: Option<u32>,
}

/// The on-disk structure a finding concerns: how the human report groups findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Structure {
    /// Ranges of the image that could not be read.
    ReadErrors,
    /// The primary superblock (AG 0 sector 0) and the search for a secondary one.
    PrimarySuperblock,
    /// The secondary superblocks of AGs 1 and up.
    SecondarySuperblocks,
    /// The internal log.
    Log,
    /// A libxfs read verifier (any metadata block).
    Verifiers,
    /// An allocation group as a whole.
    AllocationGroups,
    /// The AG free space header.
    Agf,
    /// The AG inode header.
    Agi,
    /// The AG free list.
    Agfl,
    /// Any per-AG btree (header and pointer checks shared by all of them).
    AgBtrees,
    /// The free space btrees (bnobt, cntbt).
    FreeSpaceBtrees,
    /// The inode btrees (inobt, finobt) and the inode chunks they record.
    InodeBtrees,
    /// The reverse-mapping btree.
    RmapBtree,
    /// The reference count btree and reflink flags.
    RefcountBtree,
    /// The superblock's summary counters.
    SummaryCounters,
    /// Inode cores.
    Inodes,
    /// Inode forks: extent lists, BMBTs and block counts.
    InodeForks,
    /// Directories (shortform, block, leaf, node).
    Directories,
    /// Extended attributes.
    Attributes,
    /// Symbolic links.
    Symlinks,
    /// Reachability of inodes from the root directory.
    Connectivity,
    /// Inode link counts.
    LinkCounts,
}

impl Structure {
    /// The heading the human report uses.
    pub fn label(self) -> &'static str {
        match self {
            Structure::ReadErrors => "unreadable ranges of the image",
            Structure::PrimarySuperblock => "primary superblock",
            Structure::SecondarySuperblocks => "AG superblocks",
            Structure::Log => "internal log",
            Structure::Verifiers => "metadata verifiers",
            Structure::AllocationGroups => "allocation groups",
            Structure::Agf => "AG free space headers (AGF)",
            Structure::Agi => "AG inode headers (AGI)",
            Structure::Agfl => "AG free lists",
            Structure::AgBtrees => "per-AG btrees",
            Structure::FreeSpaceBtrees => "free space btrees",
            Structure::InodeBtrees => "inode btrees",
            Structure::RmapBtree => "reverse-mapping btree",
            Structure::RefcountBtree => "reference count btree",
            Structure::SummaryCounters => "summary counters",
            Structure::Inodes => "inodes",
            Structure::InodeForks => "inode forks and extent maps",
            Structure::Directories => "directories",
            Structure::Attributes => "extended attributes",
            Structure::Symlinks => "symbolic links",
            Structure::Connectivity => "directory tree connectivity",
            Structure::LinkCounts => "link counts",
        }
    }
}

/// Generates [`Kind`] from one table: variant, stable name (the taxonomy's kind name, the
/// JSON `kind`), class, structure and `xfs_repair -n` template.
macro_rules! kinds {
    ($($variant:ident = $name:literal, $class:ident, $structure:ident, $template:literal;)*) => {
        /// What a finding is. Each kind has a stable name (its JSON `kind`), a [`Class`],
        /// the [`Structure`] it concerns and the template of the text xfs_repair prints.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Kind {
            $(
                #[doc = concat!("`", $name, "`: ", $template)]
                $variant,
            )*
        }

        impl Kind {
            /// Every kind, in table order.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)*];

            /// The stable name (taxonomy kind name).
            pub fn name(self) -> &'static str {
                match self { $(Kind::$variant => $name,)* }
            }

            /// The class: corruption, action, diagnostic, information or fatal.
            pub fn class(self) -> Class {
                match self { $(Kind::$variant => Class::$class,)* }
            }

            /// The structure the finding concerns.
            pub fn structure(self) -> Structure {
                match self { $(Kind::$variant => Structure::$structure,)* }
            }

            /// The template: `{name:type}` placeholders filled from the finding's fields.
            pub fn template(self) -> &'static str {
                match self { $(Kind::$variant => $template,)* }
            }
        }
    };
}

impl Kind {
    /// What the finding means, in a sentence, for the human report.
    pub fn explanation(self) -> &'static str {
        use Kind::*;
        let k = self.name();
        match self {
            ReadError => "These bytes could not be read (the medium failed, or the image ends before them); the findings they account for are marked as explained.",
            ImageTruncated => "The image is shorter than the filesystem its superblock describes (a copy that stopped early?); every structure in the missing part is unreadable.",
            SbPrimaryBad => "The primary superblock fails validation; xfs_repair looks for a secondary copy.",
            NomodifyAbortPrimarySb => "xfs_repair -n stops here: the primary superblock would have to be rewritten.",
            SbOnlyOneAg | SbTwoAgsMismatch => "With one or two AGs there are not enough secondary superblocks to confirm the geometry; xfs_repair stops unless run with -o force_geometry (so does check).",
            SbNotEnoughMatching => "Fewer than half of the superblock copies agree on the geometry; xfs_repair will not guess which is right.",
            MountV1Inodes | MountV1Dirs => "A format older than xfs_repair 6.1 supports (version 1 inodes or directories); xfs_repair stops, so does check.",
            MountRtSubvolume | MountRtReflink | MountRtRmapbt | MountRtInitFailed | MountRefused => "xfs_repair cannot set up this filesystem (a realtime subvolume needs its device, given to xfs_repair with -r) and stops.",
            SbSecondaryNone => "No valid superblock was found anywhere: this is not a usable XFS filesystem.",
            SbWouldReset | AgfWouldReset | AgiWouldReset => "This AG header would be rewritten by xfs_repair.",
            LogDirtyAlert => "The log holds changes not yet written in place; run `check --replay-log` to check the filesystem as a mount's log recovery would leave it.",
            LogUnreadable => "The log's head or tail cannot be found; a mount would fail to recover it.",
            AgSkipped => "With -n, an AG whose headers need a reset is not scanned, so its counts are missing from the totals.",
            VerifierError => "A metadata block failed the kernel's read verifier (CRC or structure).",
            BtreeBlockSuspect => "The btree block failed verification; its contents are treated as suspect.",
            AgiUnlinkedBucket => "An inode is on an unlinked list (deleted while open; normally cleaned up by log recovery).",
            _ if k.ends_with("_bad_crc") => "The structure's checksum does not match its contents.",
            _ if k.contains("bad_magic") => "The block does not carry the magic number of its type.",
            _ if k.ends_with("freeblks_mismatch") || k.ends_with("longest_mismatch") || k.ends_with("btreeblks_mismatch") => "The AGF free-space summary disagrees with the free-space btrees.",
            _ if k.starts_with("agi_count") || k.starts_with("agi_freecount") => "The AGI inode counts disagree with the inode btree records.",
            _ if self.structure() == Structure::SummaryCounters => "The superblock summary counter disagrees with the sum over the AG btrees.",
            _ if k.starts_with("root_") => "The root directory's inode chunk is missing or marked free in the inode btree.",
            _ if self.structure() == Structure::SecondarySuperblocks => "A secondary superblock disagrees with the primary or has fields that must be zero.",
            _ => "xfs_repair -n reports this inconsistency.",
        }
    }

    /// The kind of a stable name.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.name() == name)
    }
}

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

kinds! {
    // Not xfs_repair's: unreadable ranges (readerr module), printed in a block of their own.
    ImageTruncated = "image_truncated", ReadError, ReadErrors, "the image is {missing:u} bytes shorter than the filesystem: it ends at byte {size:u}, the filesystem at byte {fs_end:u}";
    ReadError = "read_error", ReadError, ReadErrors, "read error at bytes {offset:u}..{end:u} ({length:u} bytes, AG {ag:u} block {agbno:u}): {what:s}: {error:s}";
    SbPrimaryBad = "sb_primary_bad", Corruption, PrimarySuperblock, "bad primary superblock - {reason:s} !!!";
    SbPrimaryUnverified = "sb_primary_unverified", Corruption, PrimarySuperblock, "couldn't verify primary superblock - {reason:s} !!!";
    SbSecondarySearch = "sb_secondary_search", Info, PrimarySuperblock, "attempting to find secondary superblock...";
    SbSecondaryCandidate = "sb_secondary_candidate", Info, PrimarySuperblock, "{dots:d}found candidate secondary superblock...";
    SbSecondaryVerified = "sb_secondary_verified", Info, PrimarySuperblock, "verified secondary superblock...";
    SbSecondaryUnverified = "sb_secondary_unverified", Info, PrimarySuperblock, "unable to verify superblock, continuing...";
    SbSecondaryNone = "sb_secondary_none", Fatal, PrimarySuperblock, "{dots:d}Sorry, could not find valid secondary superblock\nExiting now.";
    SbFeatures2Mismatch = "sb_features2_mismatch", Corruption, PrimarySuperblock, "superblock has a features2 mismatch, correcting";
    SbSharedVn = "sb_shared_vn", Corruption, PrimarySuperblock, "resetting shared_vn to zero";
    SbPrimaryWouldWrite = "sb_primary_would_write", Action, PrimarySuperblock, "would write modified primary superblock";
    SbOnlyOneAg = "sb_only_one_ag", Fatal, PrimarySuperblock, "Only one AG detected - cannot validate filesystem geometry.\nUse the -o force_geometry option to proceed.";
    SbTwoAgsMismatch = "sb_two_ags_mismatch", Fatal, PrimarySuperblock, "Only two AGs detected and they do not match - cannot validate filesystem geometry.\nUse the -o force_geometry option to proceed.";
    SbNotEnoughMatching = "sb_not_enough_matching", Fatal, PrimarySuperblock, "Not enough matching superblocks - cannot proceed.";
    MountSizeCheck = "mount_size_check", Corruption, PrimarySuperblock, "xfs_repair: size check failed";
    MountV1Inodes = "mount_v1_inodes", Fatal, PrimarySuperblock, "xfs_repair: V1 inodes unsupported. Please try an older xfsprogs.";
    MountV1Dirs = "mount_v1_dirs", Fatal, PrimarySuperblock, "xfs_repair: V1 directories unsupported. Please try an older xfsprogs.";
    MountUnsupported = "mount_unsupported", Fatal, PrimarySuperblock, "xfs_repair: Unsupported features detected. Please try a newer xfsprogs.";
    MountRtReflink = "mount_rt_reflink", Corruption, PrimarySuperblock, "xfs_repair: Reflink not compatible with realtime device. Please try a newer xfsprogs.";
    MountRtRmapbt = "mount_rt_rmapbt", Corruption, PrimarySuperblock, "xfs_repair: Reverse mapping btree not compatible with realtime device. Please try a newer xfsprogs.";
    MountRtSubvolume = "mount_rt_subvolume", Corruption, PrimarySuperblock, "xfs_repair: filesystem has a realtime subvolume";
    MountRtInitFailed = "mount_rt_init_failed", Action, PrimarySuperblock, "xfs_repair: realtime device init failed";
    MountAgReadFailed = "mount_ag_read_failed", Corruption, PrimarySuperblock, "xfs_repair: read of AG {ag:u} failed";
    MountRefused = "mount_refused", Fatal, PrimarySuperblock, "xfs_repair: cannot repair this filesystem.  Sorry.";
    NomodifyAbortPrimarySb = "nomodify_abort_primary_sb", Fatal, PrimarySuperblock, "Primary superblock would have been modified.\nCannot proceed further in no_modify mode.\nExiting now.";
    LogDirtyAlert = "log_dirty_alert", Corruption, Log, "ALERT: The filesystem has valuable metadata changes in a log which is being\nignored because the -n option was used.  Expect spurious inconsistencies\nwhich may be resolved by first mounting the filesystem to replay the log.";
    LogUnreadable = "log_unreadable", Corruption, Log, "zero_log: cannot find log head/tail (xlog_find_tail={error:i})";
    VerifierError = "verifier_error", Diag, Verifiers, "Metadata {error:s} detected at {addr:w}, {ops:w} block 0x{daddr:h}/0x{bytes:h}";
    SbSanityFailed = "sb_sanity_failed", Diag, PrimarySuperblock, "SB sanity check failed";
    SbBadCrc = "sb_bad_crc", Corruption, SecondarySuperblocks, "superblock has bad CRC for ag {ag:u}";
    AgfBadCrc = "agf_bad_crc", Corruption, Agf, "agf has bad CRC for ag {ag:u}";
    AgiBadCrc = "agi_bad_crc", Corruption, Agi, "agi has bad CRC for ag {ag:u}";
    AgflBadCrc = "agfl_bad_crc", Corruption, Agfl, "agfl has bad CRC for ag {ag:u}";
    SbAgInvalid = "sb_ag_invalid", Corruption, SecondarySuperblocks, "bad on-disk superblock {ag:u} - {reason:s}";
    SbAgConflict = "sb_ag_conflict", Corruption, SecondarySuperblocks, "primary/secondary superblock {ag:u} conflict - {reason:s}";
    SbAgBadFlags = "sb_ag_bad_flags", Corruption, SecondarySuperblocks, "bad flags field in superblock {ag:u}";
    SbAgQuotaIno = "sb_ag_quota_ino", Corruption, SecondarySuperblocks, "non-null {which:w} quota inode field in superblock {ag:u}";
    SbAgQuotaFlags = "sb_ag_quota_flags", Corruption, SecondarySuperblocks, "non-null quota flags in superblock {ag:u}";
    SbAgInoalign = "sb_ag_inoalign", Corruption, SecondarySuperblocks, "bad inode alignment field in superblock {ag:u}";
    SbAgStripe = "sb_ag_stripe", Corruption, SecondarySuperblocks, "bad stripe unit/width fields in superblock {ag:u}";
    SbAgSectsize = "sb_ag_sectsize", Corruption, SecondarySuperblocks, "bad log/data device sector size fields in superblock {ag:u}";
    SbUnusedNonzero = "sb_unused_nonzero", Corruption, SecondarySuperblocks, "would zero unused portion of {which:w} superblock (AG #{ag:u})";
    SbFeatureMismatch = "sb_feature_mismatch", Corruption, SecondarySuperblocks, "would fix {which:s} feature mismatch in AG {ag:u} super, 0x{found:h} != 0x{expected:h}";
    SbWouldReset = "sb_would_reset", Action, SecondarySuperblocks, "would reset bad sb for ag {ag:u}";
    AgfWouldReset = "agf_would_reset", Action, Agf, "would reset bad agf for ag {ag:u}";
    AgiWouldReset = "agi_would_reset", Action, Agi, "would reset bad agi for ag {ag:u}";
    AgSkipped = "ag_skipped", Action, AllocationGroups, "bad uncorrected agheader {ag:u}, skipping ag...";
    AgfBadMagic = "agf_bad_magic", Corruption, Agf, "bad magic # 0x{found:h} for agf {ag:u}";
    AgfBadVersion = "agf_bad_version", Corruption, Agf, "bad version # {found:i} for agf {ag:u}";
    AgfBadSeqno = "agf_bad_seqno", Corruption, Agf, "bad sequence # {found:i} for agf {ag:u}";
    AgfBadUuid = "agf_bad_uuid", Corruption, Agf, "bad uuid {found:w} for agf {ag:u}";
    AgiBadMagic = "agi_bad_magic", Corruption, Agi, "bad magic # 0x{found:h} for agi {ag:u}";
    AgiBadVersion = "agi_bad_version", Corruption, Agi, "bad version # {found:i} for agi {ag:u}";
    AgiBadSeqno = "agi_bad_seqno", Corruption, Agi, "bad sequence # {found:i} for agi {ag:u}";
    AgiBadUuid = "agi_bad_uuid", Corruption, Agi, "bad uuid {found:w} for agi {ag:u}";
    AgfBadLength = "agf_bad_length", Corruption, Agf, "bad length {found:i} for agf {ag:u}, should be {expected:u}";
    AgiBadLength = "agi_bad_length", Corruption, Agi, "bad length # {found:i} for agi {ag:u}, should be {expected:u}";
    AgfFlfirstTooLarge = "agf_flfirst_too_large", Corruption, Agfl, "flfirst {found:i} in agf {ag:u} too large (max = {max:u})";
    AgfFllastTooLarge = "agf_fllast_too_large", Corruption, Agfl, "fllast {found:i} in agf {ag:u} too large (max = {max:u})";
    AgflBadAgbno = "agfl_bad_agbno", Corruption, Agfl, "bad agbno {agbno:u} in agfl, agno {ag:u}";
    AgflSkipped = "agfl_skipped", Corruption, Agfl, "agf {ag:u} freelist blocks bad, skipping freelist scan";
    AgfFlcountMismatch = "agf_flcount_mismatch", Corruption, Agfl, "freeblk count {expected:u} != flcount {found:u} in ag {ag:u}";
    RootBadLevel = "root_bad_level", Corruption, AgBtrees, "bad levels {found:u} for {tree:w} root, agno {ag:u}";
    RootBadAgbno = "root_bad_agbno", Corruption, AgBtrees, "bad agbno {found:u} for {tree:w} root, agno {ag:u}";
    RmapbtBlocksMismatch = "rmapbt_blocks_mismatch", Corruption, Agf, "bad rmapbt block count {expected:u}, saw {found:u}";
    RefcountbtBlocksMismatch = "refcountbt_blocks_mismatch", Corruption, Agf, "bad refcountbt block count {expected:u}, saw {found:u}";
    InobtBlocksMismatch = "inobt_blocks_mismatch", Corruption, Agi, "bad inobt block count {found:u}, saw {expected:u}";
    FinobtBlocksMismatch = "finobt_blocks_mismatch", Corruption, Agi, "bad finobt block count {found:u}, saw {expected:u}";
    AgfFreeblksMismatch = "agf_freeblks_mismatch", Corruption, Agf, "agf_freeblks {found:u}, counted {expected:u} in ag {ag:u}";
    AgfLongestMismatch = "agf_longest_mismatch", Corruption, Agf, "agf_longest {found:u}, counted {expected:u} in ag {ag:u}";
    AgfBtreeblksMismatch = "agf_btreeblks_mismatch", Corruption, Agf, "agf_btreeblks {found:u}, counted {expected:u} in ag {ag:u}";
    AgiCountMismatch = "agi_count_mismatch", Corruption, Agi, "agi_count {found:u}, counted {expected:u} in ag {ag:u}";
    AgiFreecountMismatch = "agi_freecount_mismatch", Corruption, Agi, "agi_freecount {found:u}, counted {expected:u} in ag {ag:u}";
    AgiFreecountMismatchFinobt = "agi_freecount_mismatch_finobt", Corruption, Agi, "agi_freecount {found:u}, counted {expected:u} in ag {ag:u} finobt";
    AgiUnlinkedBucket = "agi_unlinked_bucket", Corruption, Agi, "agi unlinked bucket {bucket:u} is {agino:u} in ag {ag:u} (inode={ino:u})";
    SbIcountMismatch = "sb_icount_mismatch", Corruption, SummaryCounters, "sb_icount {found:u}, counted {expected:u}";
    SbIfreeMismatch = "sb_ifree_mismatch", Corruption, SummaryCounters, "sb_ifree {found:u}, counted {expected:u}";
    SbFdblocksMismatch = "sb_fdblocks_mismatch", Corruption, SummaryCounters, "sb_fdblocks {found:u}, counted {expected:u}";
    RootChunkNotFound = "root_chunk_not_found", Corruption, InodeBtrees, "root inode chunk not found";
    RootMarkedFree = "root_marked_free", Corruption, InodeBtrees, "root inode marked free, would correct";
    RbminoMarkedFree = "rbmino_marked_free", Corruption, InodeBtrees, "realtime bitmap inode marked free, would correct";
    RsuminoMarkedFree = "rsumino_marked_free", Corruption, InodeBtrees, "realtime summary inode marked free, would correct";
    BtreeBlockSuspect = "btree_block_suspect", Corruption, AgBtrees, "btree block {ag:u}/{agbno:u} is suspect, error {error:i}";
    BtreeBadMagic = "btree_bad_magic", Corruption, AgBtrees, "bad magic # {found:x} in {tree:w} block {ag:u}/{agbno:u}";
    RefcbtBadMagic = "refcbt_bad_magic", Corruption, RefcountBtree, "bad magic # {found:x} in refcount btree block {ag:u}/{agbno:u}";
    BtreeBadLevel = "btree_bad_level", Corruption, AgBtrees, "expected level {expected:i} got {found:i} in {tree:w} block {ag:u}/{agbno:u}";
    // extra: the refcount btree's own wording.
    RefcbtBadLevel = "refcbt_bad_level", Corruption, RefcountBtree, "expected level {expected:i} got {found:i} in refcount btree block {ag:u}/{agbno:u}";
    BtreeBadNrecs = "btree_bad_nrecs", Corruption, AgBtrees, "bad btree nrecs ({found:u}, min={min:u}, max={max:u}) in {tree:w} block {ag:u}/{agbno:u}";
    // extra
    RefcbtBadNrecs = "refcbt_bad_nrecs", Corruption, RefcountBtree, "bad btree nrecs ({found:u}, min={min:u}, max={max:u}) in refcount btree block {ag:u}/{agbno:u}";
    BtreeBadPtr = "btree_bad_ptr", Corruption, AgBtrees, "bad btree pointer ({found:u}) in {tree:w} block {ag:u}/{agbno:u}";
    BtreeBlockMultiplyClaimed = "btree_block_multiply_claimed", Corruption, AgBtrees, "{tree:w} freespace btree block claimed (state {state:u}), agno {ag:u}, bno {agbno:u}, suspect {suspect:u}";
    InobtBlockMultiplyClaimed = "inobt_block_multiply_claimed", Corruption, InodeBtrees, "{tree:w} btree block claimed (state {state:u}), agno {ag:u}, bno {agbno:u}, suspect {suspect:u}";
    // extra
    RmapbtBlockMultiplyClaimed = "rmapbt_block_multiply_claimed", Corruption, RmapBtree, "{tree:w} rmap btree block claimed (state {state:u}), agno {ag:u}, bno {agbno:u}, suspect {suspect:u}";
    InobtDubiousHeader = "inobt_dubious_header", Corruption, InodeBtrees, "dubious {tree:w} btree block header {ag:u}/{agbno:u}";
    AllocbtInvalidStart = "allocbt_invalid_start", Corruption, FreeSpaceBtrees, "invalid start block {found:u} in record {rec:u} of {tree:w} btree block {ag:u}/{agbno:u}";
    AllocbtInvalidLength = "allocbt_invalid_length", Corruption, FreeSpaceBtrees, "invalid length {found:u} in record {rec:u} of {tree:w} btree block {ag:u}/{agbno:u}";
    BnobtOutOfOrder = "bnobt_out_of_order", Corruption, FreeSpaceBtrees, "out-of-order bno btree record {rec:u} ({start:u} {len:u}) block {ag:u}/{agbno:u}";
    CntbtOutOfOrder = "cntbt_out_of_order", Corruption, FreeSpaceBtrees, "out-of-order cnt btree record {rec:u} ({start:u} {len:u}) block {ag:u}/{agbno:u}";
    // extra
    RefcbtOutOfOrder = "refcbt_out_of_order", Corruption, RefcountBtree, "out-of-order refcount btree record {rec:u} ({start:u} {len:u}) block {ag:u}/{agbno:u}";
    // extra
    RmapbtOutOfOrder = "rmapbt_out_of_order", Corruption, RmapBtree, "out-of-order rmap btree record {rec:u} ({start:u} {owner:i} {offset:h} {len:u}) block {ag:u}/{agbno:u}";
    // extra
    RmapbtInvalidOwner = "rmapbt_invalid_owner", Corruption, RmapBtree, "invalid owner in rmap btree record {rec:u} ({owner:i} {len:u}) block {ag:u}/{agbno:u}";
    // extra
    RefcbtBadRefcount = "refcbt_bad_refcount", Corruption, RefcountBtree, "invalid reference count {found:u} in record {rec:u} of {tree:w} btree block {ag:u}/{agbno:u}";
    FreespaceMultiplyClaimed = "freespace_multiply_claimed", Corruption, FreeSpaceBtrees, "block ({ag:u},{start:u}-{end:u}) multiply claimed by {tree:w} space tree, state - {state:u}";
    InobtRecFreecountMismatch = "inobt_rec_freecount_mismatch", Corruption, InodeBtrees, "ir_freecount/free mismatch, inode chunk {ag:u}/{agino:u}, freecount {found:i} nfree {expected:i}";
    FinobtRecFreecountMismatch = "finobt_rec_freecount_mismatch", Corruption, InodeBtrees, "finobt ir_freecount/free mismatch, inode chunk {ag:u}/{agino:u}, freecount {found:i} nfree {expected:i}";
    InobtRecCountInvalid = "inobt_rec_count_invalid", Corruption, InodeBtrees, "invalid inode count, inode chunk {ag:u}/{agino:u}, count {found:i} ninodes {expected:i}";
    InobtRecOverlap = "inobt_rec_overlap", Corruption, InodeBtrees, "inode rec for ino {ino:u} ({ag:u}/{agino:u}) overlaps existing rec (start {ag2:u}/{agino2:u})";
    InobtChunkClaimsUsed = "inobt_chunk_claims_used", Corruption, InodeBtrees, "inode chunk claims used block, inobt block - agno {ag:u}, bno {agbno:u}, inopb {inopb:u}";
    FinobtChunkClaimsUntracked = "finobt_chunk_claims_untracked", Corruption, InodeBtrees, "inode chunk claims untracked block, finobt block - agno {ag:u}, bno {agbno:u}, inopb {inopb:u}";
    FinobtChunkClaimsUsed = "finobt_chunk_claims_used", Corruption, InodeBtrees, "inode chunk claims used block, finobt block - agno {ag:u}, bno {agbno:u}, inopb {inopb:u}";
    // extra
    FinobtSparseClaimsInode = "finobt_sparse_claims_inode", Corruption, InodeBtrees, "sparse inode chunk claims inode block, finobt block - agno {ag:u}, bno {agbno:u}, inopb {inopb:u}";
    FinobtRecUndiscovered = "finobt_rec_undiscovered", Corruption, InodeBtrees, "undiscovered finobt record, ino {ino:u} ({ag:u}/{agino:u})";
    FinobtRecMismatch = "finobt_rec_mismatch", Corruption, InodeBtrees, "finobt rec for ino {ino:u} ({ag:u}/{agino:u}) does not match existing rec ({ag2:u}/{agino2:u})";
    FinobtRecNoFree = "finobt_rec_no_free", Corruption, InodeBtrees, "finobt record with no free inodes, inode chunk {ag:u}/{agino:u}";
    InobtRecMisaligned = "inobt_rec_misaligned", Corruption, InodeBtrees, "badly aligned {tree:w} rec (starting inode = {ino:u})";
    // extra
    InobtRecBadStart = "inobt_rec_bad_start", Corruption, InodeBtrees, "bad starting inode # ({ino:u} (0x{ag:h} 0x{agino:h})) in {tree:w} rec, skipping rec";
    // extra
    InobtRecBadEnd = "inobt_rec_bad_end", Corruption, InodeBtrees, "bad ending inode # ({ino:u} (0x{ag:h} 0x{agino:h})) in {tree:w} rec, skipping rec";
    InobtOutOfOrder = "inobt_out_of_order", Corruption, InodeBtrees, "out-of-order {tree:w} btree record {rec:u} ({agino:u}) block {ag:u}/{agbno:u}";
    InobtHolemaskMismatch = "inobt_holemask_mismatch", Corruption, InodeBtrees, "ir_holemask/ir_free mismatch, {tree:w} chunk {ag:u}/{agino:u}, holemask 0x{holemask:h} free 0x{free:h}";
    RmapRecMismatch = "rmap_rec_mismatch", Corruption, RmapBtree, "{what:s} block ({ag:u},{start:u}-{end:u}) mismatch in {tree:w} tree, state - {state:u},{owner:h}";
    // extra: "unknown block" uses "on" instead of "in".
    RmapRecUnknown = "rmap_rec_unknown", Corruption, RmapBtree, "unknown block ({ag:u},{start:u}-{end:u}) mismatch on {tree:w} tree, state - {state:u},{owner:h}";
    // Phases 3 and 4: inodes.
    InodeBadCrcV = "inode_bad_crc_v", Corruption, Inodes, "bad CRC for inode {ino:u}";
    InodeBadCrc = "inode_bad_crc", Corruption, Inodes, "bad CRC for inode {ino:u}, would rewrite";
    InodeBadMagicV = "inode_bad_magic_v", Corruption, Inodes, "bad magic number 0x{found:h} on inode {ino:u}";
    InodeBadMagic = "inode_bad_magic", Corruption, Inodes, "bad magic number 0x{found:h} on inode {ino:u}, would reset magic number";
    InodeBadVersionV = "inode_bad_version_v", Corruption, Inodes, "bad version number 0x{found:h} on inode {ino:u}";
    InodeBadVersion = "inode_bad_version", Corruption, Inodes, "bad version number 0x{found:h} on inode {ino:u}, would reset version number";
    InodeBadNextUnlinkedV = "inode_bad_next_unlinked_v", Corruption, Inodes, "bad next_unlinked 0x{found:h} on inode {ino:u}";
    InodeBadNextUnlinked = "inode_bad_next_unlinked", Corruption, Inodes, "bad next_unlinked 0x{found:h} on inode {ino:u}, would reset next_unlinked";
    InodeInoMismatch = "inode_ino_mismatch", Corruption, Inodes, "inode identifier {found:u} mismatch on inode {ino:u}";
    InodeUuidMismatch = "inode_uuid_mismatch", Corruption, Inodes, "UUID mismatch on inode {ino:u}";
    InodeNegativeSize = "inode_negative_size", Corruption, Inodes, "bad (negative) size {found:i} on inode {ino:u}";
    ImapInuseMarkedFree = "imap_inuse_marked_free", Corruption, Inodes, "imap claims in-use inode {ino:u} is free, would correct imap";
    ImapFreeMarkedInuse = "imap_free_marked_inuse", Corruption, Inodes, "imap claims a free inode {ino:u} is in use, would correct imap and clear inode";
    InodeBadFormat = "inode_bad_format", Corruption, Inodes, "bad inode format in inode {ino:u}";
    InodeBadFlagsSet = "inode_bad_flags_set", Corruption, Inodes, "Bad flags set in inode {ino:u}";
    InodeNotRtBitmap = "inode_not_rt_bitmap", Corruption, Inodes, "inode {ino:u} not rt bitmap";
    InodeDirFlagsNonDir = "inode_dir_flags_nondir", Corruption, Inodes, "directory flags set on non-directory inode {ino:u}";
    InodeFileFlagsNonFile = "inode_file_flags_nonfile", Corruption, Inodes, "file flags set on non-file inode {ino:u}";
    InodeBadFlags2Set = "inode_bad_flags2_set", Corruption, Inodes, "Bad flags2 set in inode {ino:u}";
    InodeDaxSpecial = "inode_dax_special", Corruption, Inodes, "DAX flag set on special inode {ino:u}";
    InodeReflinkNoFeature = "inode_reflink_no_feature", Corruption, Inodes, "inode {ino:u} is marked reflinked but file system does not support reflink";
    InodeReflinkRt = "inode_reflink_rt", Corruption, Inodes, "Cannot have a reflinked realtime inode {ino:u}";
    InodeCowNoFeature = "inode_cow_no_feature", Corruption, Inodes, "inode {ino:u} has CoW extent size hint but file system does not support reflink";
    InodeCowNonfile = "inode_cow_nonfile", Corruption, Inodes, "CoW extent size flag set on non-file, non-directory inode {ino:u}";
    InodeCowRt = "inode_cow_rt", Corruption, Inodes, "Cannot have CoW extent size hint on a realtime inode {ino:u}";
    InodeBigtimeNoFeature = "inode_bigtime_no_feature", Corruption, Inodes, "inode {ino:u} is marked bigtime but file system does not support large timestamps";
    InodeWouldZeroTimestamps = "inode_would_zero_timestamps", Action, Inodes, "would zero timestamps.";
    InodeNrext64NoFeature = "inode_nrext64_no_feature", Corruption, Inodes, "inode {ino:u} is marked large extent counts but file system does not support large extent counts";
    InodeWouldFixNrext64Pad = "inode_would_fix_nrext64_pad", Corruption, Inodes, "would fix bad nrext64_pad.";
    InodeWouldFixV3Pad = "inode_would_fix_v3_pad", Corruption, Inodes, "would fix bad v3_pad.";
    InodeWouldFixFlags2 = "inode_would_fix_flags2", Action, Inodes, "would fix bad flags2.";
    InodeBadCowExtsize = "inode_bad_cow_extsize", Corruption, Inodes, "Bad CoW extent size {found:u} on inode {ino:u}, would reset to zero";
    InodeObsoleteNlink = "inode_obsolete_nlink", Corruption, Inodes, "would clear obsolete nlink field in version 2 inode {ino:u}, currently {found:u}";
    InodeRtNoRtdev = "inode_rt_no_rtdev", Corruption, Inodes, "inode {ino:u} has RT flag set but there is no RT device";
    InodeWouldFixFlags = "inode_would_fix_flags", Action, Inodes, "would fix bad flags.";
    InodeReflinkNonfile = "inode_reflink_nonfile", Corruption, Inodes, "reflink flag set on non-file inode {ino:u}";
    InodeClearNextUnlinked = "inode_clear_next_unlinked", Corruption, Inodes, "Would clear next_unlinked in inode {ino:u}";
    InodeBadType = "inode_bad_type", Corruption, Inodes, "bad inode type {found:o} inode {ino:u}";
    InodeBadExtsize = "inode_bad_extsize", Corruption, Inodes, "Bad extent size hint {found:u} on inode {ino:u}, would reset to zero";
    InodeBadNsec = "inode_bad_nsec", Corruption, Inodes, "Bad {ts:w} nsec {found:u} on inode {ino:u}, would reset to zero";
    DirFormatSizeMismatch = "dir_format_size_mismatch", Corruption, Directories, "mismatch between format ({format:i}) and size ({size:i}) in directory ino {ino:u}";
    DirBadSize = "dir_bad_size", Corruption, Directories, "directory inode {ino:u} has bad size {size:i}";
    InodeMiscSize = "inode_misc_size", Corruption, Inodes, "size of {what:s} inode {ino:u} != 0 ({size:i} bytes)";
    InodeMiscBlocks = "inode_misc_blocks", Corruption, Inodes, "size of {what:s} inode {ino:u} != 0 ({blocks:u} blocks)";
    InodeRtFile = "inode_rt_file", Corruption, Inodes, "found inode {ino:u} claiming to be a real-time file";
    ForkoffDev = "forkoff_dev", Corruption, Inodes, "bad attr fork offset {found:u} in dev inode {ino:u}, should be 1";
    ForkoffBad = "forkoff_bad", Corruption, Inodes, "bad attr fork offset {found:u} in inode {ino:u}, max={max:u}";
    BmapExceedsMax = "bmap_exceeds_max", Corruption, InodeForks, "inode {ino:u} - extent exceeds max offset - start {start:u}, count {count:u}, physical block {fsbno:u}";
    BmbtRootBadLevel = "bmbt_root_bad_level", Corruption, InodeForks, "bad level {level:i} in inode {ino:u} bmap btree root block";
    BmbtRootNumrecs0 = "bmbt_root_numrecs0", Corruption, InodeForks, "bad numrecs 0 in inode {ino:u} bmap btree root block";
    BmbtRootTooBig = "bmbt_root_too_big", Corruption, InodeForks, "indicated size of {fork:w} btree root ({bytes:i} bytes) greater than space in inode {ino:u} {fork:w} fork";
    BmbtBadPtr = "bmbt_bad_ptr", Corruption, InodeForks, "bad bmap btree ptr 0x{ptr:h} in ino {ino:u}";
    BmbtRootBadKey = "bmbt_root_bad_key", Corruption, InodeForks, "bad key in bmbt root (is {is:u}, would reset to {to:u}) in inode {ino:u} {fork:w} fork";
    BmbtRootKeyOrder = "bmbt_root_key_order", Corruption, InodeForks, "out of order bmbt root key {key:u} in inode {ino:u} {fork:w} fork";
    BmbtTooFewExtents = "bmbt_too_few_extents", Corruption, InodeForks, "extent count for ino {ino:u} {fork:w} fork too low ({nex:u}) for file format";
    BmbtRightSibNotNull = "bmbt_right_sib_not_null", Corruption, InodeForks, "bad fwd (right) sibling pointer (saw {saw:u} should be NULLFSBLOCK)\n\tin inode {ino:u} ({fork:w} fork) bmap btree block {fsbno:u}";
    BmbtBadMagic = "bmbt_bad_magic", Corruption, InodeForks, "bad magic # {magic:x} in inode {ino:u} ({fork:w} fork) bmbt block {fsbno:u}";
    BmbtBadLevel = "bmbt_bad_level", Corruption, InodeForks, "expected level {expected:i} got {found:i} in inode {ino:u}, ({fork:w} fork) bmbt block {fsbno:u}";
    BmbtBadOwner = "bmbt_bad_owner", Corruption, InodeForks, "expected owner inode {ino:u}, got {owner:u}, bmbt block {fsbno:u}";
    BmbtBadBlkno = "bmbt_bad_blkno", Corruption, InodeForks, "expected block {expected:u}, got {found:u}, bmbt block {fsbno:u}";
    BmbtBadUuid = "bmbt_bad_uuid", Corruption, InodeForks, "wrong FS UUID, bmbt block {fsbno:u}";
    BmbtBadRightSib = "bmbt_bad_right_sib", Corruption, InodeForks, "bad fwd (right) sibling pointer (saw {saw:u} parent block says {says:u})\n\tin inode {ino:u} ({fork:w} fork) bmap btree block {fsbno:u}";
    BmbtBadLeftSib = "bmbt_bad_left_sib", Corruption, InodeForks, "bad back (left) sibling pointer (saw {saw:u} parent block says {says:u})\n\tin inode {ino:u} ({fork:w} fork) bmap btree block {fsbno:u}";
    BmbtLeftSibNotNull = "bmbt_left_sib_not_null", Corruption, InodeForks, "bad back (left) sibling pointer (saw {saw:u} should be NULL (0))\n\tin inode {ino:u} ({fork:w} fork) bmap btree block {fsbno:u}";
    BmbtBlockClaimed = "bmbt_block_claimed", Corruption, InodeForks, "inode 0x{ino:h}bmap block 0x{fsbno:h} claimed, state is {state:u}";
    BmbtBlockClaimedMult = "bmbt_block_claimed_mult", Corruption, InodeForks, "inode 0x{ino:h} bmap block 0x{fsbno:h} claimed, state is {state:u}";
    BmbtBadState = "bmbt_bad_state", Corruption, InodeForks, "bad state {state:u}, inode {ino:u} bmap block 0x{fsbno:h}";
    BmbtBadNumrecs = "bmbt_bad_numrecs", Corruption, InodeForks, "inode {ino:u} bad # of bmap records ({n:u}, min - {min:u}, max - {max:u})";
    BmbtKeyOrder = "bmbt_key_order", Corruption, InodeForks, "out-of-order bmap key (file offset) in inode {ino:u}, {fork:w} fork, fsbno {fsbno:u}";
    BmbtBadKey = "bmbt_bad_key", Corruption, InodeForks, "bad btree key (is {is:u}, should be {should:u}) in inode {ino:u}\n\t\t{fork:w} fork, btree block {fsbno:u}";
    BmapOutOfOrder = "bmap_out_of_order", Corruption, InodeForks, "bmap rec out of order, inode {ino:u} entry {rec:u} [o s c] [{o:u} {s:u} {c:u}], {prev:u} [{po:u} {ps:u} {pc:u}]";
    BmapUnwrittenAttr = "bmap_unwritten_attr", Corruption, InodeForks, "unwritten extent (off = {off:u}, fsbno = {fsbno:u}) in ino {ino:u} attr fork";
    BmapUnwrittenNonreg = "bmap_unwritten_nonreg", Corruption, InodeForks, "unwritten extent (off = {off:u}, fsbno = {fsbno:u}) in non-regular file ino {ino:u}";
    BmapZeroLen = "bmap_zero_len", Corruption, InodeForks, "zero length extent (off = {off:u}, fsbno = {fsbno:u}) in ino {ino:u}";
    BmapBadStart = "bmap_bad_start", Corruption, InodeForks, "inode {ino:u} - bad extent starting block number {fsbno:u}, offset {off:u}";
    BmapBadEnd = "bmap_bad_end", Corruption, InodeForks, "inode {ino:u} - bad extent last block number {fsbno:u}, offset {off:u}";
    BmapOverflow = "bmap_overflow", Corruption, InodeForks, "inode {ino:u} - bad extent overflows - start {start:u}, end {end:u}, offset {off:u}";
    BmapClaimsFree = "bmap_claims_free", Corruption, InodeForks, "{fork:w} fork in ino {ino:u} claims free block {fsbno:u}";
    BmapClaimsMetadata = "bmap_claims_metadata", Corruption, InodeForks, "{fork:w} fork in inode {ino:u} claims metadata block {fsbno:u}";
    BmapClaimsUsed = "bmap_claims_used", Corruption, InodeForks, "{fork:w} fork in {ftype:w} inode {ino:u} claims used block {fsbno:u}";
    InodeNextentsCorrecting = "inode_nextents_correcting", Corruption, InodeForks, "correcting nextents for inode {ino:u}";
    BadDataFork = "bad_data_fork", Corruption, InodeForks, "bad data fork in inode {ino:u}";
    BadAttrFork = "bad_attr_fork", Corruption, InodeForks, "bad attribute fork in inode {ino:u}, would clear attr fork";
    InodeBadNblocks = "inode_bad_nblocks", Corruption, InodeForks, "bad nblocks {found:u} for inode {ino:u}, would reset to {expected:u}";
    InodeBadNextents = "inode_bad_nextents", Corruption, InodeForks, "bad nextents {found:u} for inode {ino:u}, would reset to {expected:u}";
    InodeBadAnextents = "inode_bad_anextents", Corruption, InodeForks, "bad anextents {found:u} for inode {ino:u}, would reset to {expected:u}";
    LocalDataTooLarge = "local_data_too_large", Corruption, InodeForks, "local inode {ino:u} data fork is too large (size = {size:i}, max = {max:u})";
    AttrLocalTooLarge = "attr_local_too_large", Corruption, Attributes, "local inode {ino:u} attr fork too large (size {found:i}, max = {max:u})";
    AttrSfZeroNamelen = "attr_sf_zero_namelen", Corruption, Attributes, "zero length name entry in attribute fork, would truncate attributes for inode {ino:u} to {expected:u}";
    AttrSfCountFix = "attr_sf_count_fix", Action, Attributes, "would have corrected attribute entry count in inode {ino:u} from {found:u} to {expected:u}";
    AttrSfTotsizeFix = "attr_sf_totsize_fix", Action, Attributes, "would have corrected attribute totsize in inode {ino:u} from {found:u} to {expected:u}";
    SymlinkTooLong = "symlink_too_long", Corruption, Symlinks, "symlink in inode {ino:u} too long ({found:u} chars)";
    SymlinkZeroSize = "symlink_zero_size", Corruption, Symlinks, "zero size symlink in inode {ino:u}";
    SymlinkNullBlock = "symlink_null_block", Corruption, Symlinks, "cannot read inode {ino:u}, file block {blk:i}, NULL disk block";
    SymlinkReadFailed = "symlink_read_failed", Corruption, Symlinks, "cannot read inode {ino:u}, file block {blk:i}, disk block {fsbno:u}";
    SymlinkCorruptBlock = "symlink_corrupt_block", Corruption, Symlinks, "Corrupt symlink remote block {fsbno:u}, inode {ino:u}.";
    SymlinkBadCrc = "symlink_bad_crc", Corruption, Symlinks, "Bad symlink buffer CRC, block {fsbno:u}, inode {ino:u}.\nCorrecting CRC, but symlink may be bad.";
    SymlinkBadHeader = "symlink_bad_header", Corruption, Symlinks, "bad symlink header ino {ino:u}, file block {blk:i}, disk block {fsbno:u}";
    SymlinkNullChar = "symlink_null_char", Corruption, Symlinks, "found illegal null character in symlink inode {ino:u}";
    SymlinkProblem = "symlink_problem", Corruption, Symlinks, "problem with symbolic link in inode {ino:u}";
    WouldClearInode = "would_clear_inode", Action, Inodes, "would have cleared inode {ino:u}";
    WouldClearRoot = "would_clear_root", Action, Inodes, "would clear root inode {ino:u}";
    SfdirSizeFix = "sfdir_size_fix", Corruption, Directories, "would have corrected directory {ino:u} size from {found:i} to {expected:i}";
    SfdirBogusParent = "sfdir_bogus_parent", Corruption, Directories, "bogus .. inode number ({found:u}) in directory inode {ino:u}, would clear inode number";
    SfdirEntryBadRef = "sfdir_entry_bad_ref", Corruption, Directories, "entry \"{name:s}\" in shortform directory {dir_ino:u} references {reason:s} inode {ino:u}";
    SfdirWouldJunkNamed = "sfdir_would_junk_named", Action, Directories, "would have junked entry \"{name:s}\" in directory inode {dir_ino:u}";
    // Long-form directories (phases 3 and 4).
    DirProblem = "dir_problem", Corruption, Directories, "problem with directory contents in inode {ino:u}";
    // extra
    DirBadSizeFormat = "dir_bad_size_format", Corruption, Directories, "bad size/format for directory {ino:u}";
    DirNoDot = "dir_no_dot", Corruption, Directories, "no . entry for directory {ino:u}";
    DirNoDotdot = "dir_no_dotdot", Corruption, Directories, "no .. entry for directory {ino:u}";
    DirNoDotdotRoot = "dir_no_dotdot_root", Corruption, Directories, "no .. entry for root directory {ino:u}";
    // extra
    DirBlockMissing = "dir_block_missing", Corruption, Directories, "block {blk:u} for directory inode {ino:u} is missing";
    DirBlockCorrupt = "dir_block_corrupt", Corruption, Directories, "corrupt directory block {blk:u} for inode {ino:u}";
    DirBlockBadMagic = "dir_block_bad_magic", Corruption, Directories, "bad directory block magic # {found:x} in block {blk:u} for directory inode {ino:u}";
    // extra
    DirDataBlockMissing = "dir_data_block_missing", Corruption, Directories, "block {blk:u} for directory inode {ino:u} is missing";
    // extra
    DirDataBlockCorrupt = "dir_data_block_corrupt", Corruption, Directories, "corrupt directory data block {blk:u} for inode {ino:u}";
    DirDataCorrupt = "dir_data_corrupt", Corruption, Directories, "corrupt block {blk:u} in directory inode {ino:u}";
    DirWouldJunkBlock = "dir_would_junk_block", Action, Directories, "\twould junk block";
    DirEntryBadRef = "dir_entry_bad_ref", Corruption, Directories, "entry \"{name:s}\" at block {blk:u} offset {off:u} in directory inode {dir_ino:u} references {reason:s} inode {ino:u}";
    // extra
    DirEntryZeroNamelen = "dir_entry_zero_namelen", Corruption, Directories, "entry at block {blk:u} offset {off:u} in directory inode {dir_ino:u}has 0 namelength";
    DirEntryWouldClearIno = "dir_entry_would_clear_ino", Action, Directories, "\twould clear inode number in entry at offset {off:u}...";
    // extra: the reasons (illegal name, points to self, multiple ./..) printed before it.
    DirEntryWouldClear = "dir_entry_would_clear", Corruption, Directories, "{what:s}would clear entry";
    // extra
    DirRootDotdotFix = "dir_root_dotdot_fix", Corruption, Directories, "bad .. entry in root directory inode {dir_ino:u}, was {ino:u}: would correct";
    // extra
    DirDotdotBad = "dir_dotdot_bad", Corruption, Directories, "bad .. entry in directory inode {dir_ino:u}, was {ino:u}: would correct";
    // extra
    DirDotBad = "dir_dot_bad", Corruption, Directories, "bad . entry in directory inode {dir_ino:u}, was {ino:u}: would correct";
    DirBadBestfree = "dir_bad_bestfree", Corruption, Directories, "bad bestfree table in block {blk:u} in directory inode {ino:u}: would repair table";
    FreeSpaceOneBtree = "free_space_one_btree", Corruption, FreeSpaceBtrees, "free space ({ag:u},{start:u}-{end:u}) only seen by one free space btree";
    CacheKeyBadness = "cache_key_badness", Diag, Verifiers, "{tid:w}: Badness in key lookup (length)\nbp=(bno 0x{daddr:h}, len {bytes:u} bytes) key=(bno 0x{daddr2:h}, len {bytes2:u} bytes)";
    FoundInodesNotInTree = "found_inodes_not_in_tree", Corruption, InodeBtrees, "found inodes not in the inode allocation tree";
    InoBtreeTooCorrupt = "ino_btree_too_corrupt", Fatal, InodeBtrees, "Inode allocation btrees are too corrupted, skipping phases 6 and 7";
    ReflinkFlagSet = "reflink_flag_set", Corruption, RefcountBtree, "setting reflink flag on inode {ino:u}";
    RefcountMissing = "refcount_missing", Corruption, RefcountBtree, "Missing reference count record for ({ag:u}/{agbno:u}) len {len:u} count {count:u}";
    // extra
    RefcountIncorrect = "refcount_incorrect", Corruption, RefcountBtree, "Incorrect reference count: saw ({ag:u}/{start:u}) len {len:u} nlinks {count:u}; should be ({ag:u}/{agbno:u}) len {elen:u} nlinks {ecount:u}";
    RmapbtWouldRebuild = "rmapbt_would_rebuild", Action, RmapBtree, "would rebuild corrupt rmap btrees.";
    RefcountbtWouldRebuild = "refcountbt_would_rebuild", Action, RefcountBtree, "would rebuild corrupt refcount btrees.";
    // Phase 6.
    SfdirEntryFreeP6 = "sfdir_entry_free_p6", Corruption, Directories, "entry \"{name:s}\" in shortform directory inode {dir_ino:u} points to free inode {ino:u}";
    InodeVerifierError = "inode_verifier_error", Diag, Inodes, "Metadata corruption detected at <addr>, inode 0x{ino:h} data fork";
    InodeDinodeVerifierError = "inode_dinode_verifier_error", Diag, Inodes, "Metadata corruption detected at <addr>, inode 0x{ino:h} dinode";
    CouldntMapInode = "couldnt_map_inode", Corruption, Inodes, "couldn't map inode {ino:u}, err = 117";
    CouldntMapInodeP7 = "couldnt_map_inode_p7", Corruption, Inodes, "couldn't map inode {ino:u}, err = 117, can't compare link counts";
    DirWouldJunkEntry = "dir_would_junk_entry", Action, Directories, "would junk entry";
    LfdirEntryFreeP6 = "lfdir_entry_free_p6", Corruption, Directories, "entry \"{name:s}\" in directory inode {dir_ino:u} points to free inode {ino:u}, would junk entry";
    LfdirEntryNonexistP6 = "lfdir_entry_nonexist_p6", Corruption, Directories, "entry \"{name:s}\" in directory inode {dir_ino:u} points to non-existent inode {ino:u}, would junk entry";
    SfdirDupName = "sfdir_dup_name", Corruption, Directories, "entry \"{name:s}\" (ino {ino:u}) in dir {dir_ino:u} is a duplicate namewould junk entry";
    LfdirDupName = "lfdir_dup_name", Corruption, Directories, "entry \"{name:s}\" (ino {ino:u}) in dir {dir_ino:u} is a duplicate name, would junk entry";
    FtypeMismatch = "ftype_mismatch", Corruption, Directories, "would fix ftype mismatch ({found:u}/{expected:u}) in directory/child inode {dir_ino:u}/{ino:u}";
    DirBadHashTable = "dir_bad_hash_table", Corruption, Directories, "bad hash table for directory inode {ino:u} ({reason:s}): would rebuild";
    DirWouldRebuild = "dir_would_rebuild", Action, Directories, "would rebuild directory inode {ino:u}";
    DisconnectedInode = "disconnected_inode", Corruption, Connectivity, "disconnected inode {ino:u}, would move to {orphanage:w}";
    DisconnectedDir = "disconnected_dir", Corruption, Connectivity, "disconnected dir inode {ino:u}, would move to {orphanage:w}";
    // Long-form attribute forks (extra: attr_repair.c process_longform_attr and below).
    AttrBlock0Missing = "attr_block0_missing", Corruption, Attributes, "block 0 of inode {ino:u} attribute fork is missing";
    AttrBlock0Invalid = "attr_block0_invalid", Corruption, Attributes, "block in attribute fork of inode {ino:u} is not valid";
    AttrBlock0Unreadable = "attr_block0_unreadable", Corruption, Attributes, "can't read block 0 of inode {ino:u} attribute fork";
    AttrBlock0Corrupt = "attr_block0_corrupt", Corruption, Attributes, "corrupt block 0 of inode {ino:u} attribute fork";
    AttrHdrOwner = "attr_hdr_owner", Corruption, Attributes, "expected owner inode {ino:u}, got {owner:u}, attr block {daddr:u}";
    AttrHdrBlkno = "attr_hdr_blkno", Corruption, Attributes, "expected block {daddr:u}, got {blkno:u}, inode {ino:u}attr block";
    AttrHdrUuid = "attr_hdr_uuid", Corruption, Attributes, "wrong FS UUID, inode {ino:u} attr block {daddr:u}";
    AttrBadRootMagic = "attr_bad_root_magic", Corruption, Attributes, "bad attribute leaf magic # {magic:x} for dir ino {ino:u}";
    AttrWouldClearLinks = "attr_would_clear_links", Corruption, Attributes, "would clear forw/back pointers in block 0 for attributes in inode {ino:u}";
    AttrEmptyLeaf0 = "attr_empty_leaf0", Corruption, Attributes, "would clear empty leaf attr block 0, inode {ino:u}";
    AttrBadCount = "attr_bad_count", Corruption, Attributes, "bad attribute count {count:u} in attr block {blk:u}, inode {ino:u}";
    AttrBadNameidx = "attr_bad_nameidx", Corruption, Attributes, "bad attribute nameidx {idx:u} in attr block {blk:u}, inode {ino:u}";
    AttrIncomplete = "attr_incomplete", Corruption, Attributes, "attribute entry #{i:u} in attr block {blk:u}, inode {ino:u} is INCOMPLETE";
    AttrEntryOverlap = "attr_entry_overlap", Corruption, Attributes, "attribute entry {i:u} in attr block {blk:u}, inode {ino:u} claims already used space";
    AttrNameOverlap = "attr_name_overlap", Corruption, Attributes, "attribute entry {i:u} in attr block {blk:u}, inode {ino:u} claims used space";
    DaBadRange = "da_bad_range", Corruption, Attributes, "bad range claimed [{start:u}, {stop:u}) in da block";
    DaRangeEnd = "da_range_end", Corruption, Attributes, "byte range end [{start:u} {stop:u}) in da block larger than blocksize {bs:u}";
    DaMultiClaim = "da_multi_claim", Corruption, Attributes, "multiply claimed byte {b:u} in da block";
    AttrBadName = "attr_bad_name", Corruption, Attributes, "attribute entry {i:u} in attr block {blk:u}, inode {ino:u} has bad name (namelen = {namelen:u})";
    AttrBadHash = "attr_bad_hash", Corruption, Attributes, "bad hashvalue for attribute entry {i:u} in attr block {blk:u}, inode {ino:u}";
    AttrRemoteInconsistent = "attr_remote_inconsistent", Corruption, Attributes, "inconsistent remote attribute entry {i:u} in attr block {blk:u}, ino {ino:u}";
    AttrRemoteMissing = "attr_remote_missing", Corruption, Attributes, "remote block for attributes of inode {ino:u} is missing";
    AttrRemoteUnreadable = "attr_remote_unreadable", Corruption, Attributes, "can't read remote block for attributes of inode {ino:u}";
    AttrRemoteCorrupt = "attr_remote_corrupt", Corruption, Attributes, "Corrupt remote block for attributes of inode {ino:u}";
    AttrRemoteGetFailed = "attr_remote_get_failed", Corruption, Attributes, "remote attribute get failed for entry {i:u}, inode {ino:u}";
    AttrFirstusedFix = "attr_firstused_fix", Corruption, Attributes, "- would reset first used value from {found:u} to {expected:u} in block {blk:u} of attribute fork of inode {ino:u}";
    AttrUsedbytesFix = "attr_usedbytes_fix", Corruption, Attributes, "- would reset usedbytes cnt from {found:u} to {expected:u} in block {blk:u} of attribute fork of {ino:u}";
    InodeAttrProblem = "inode_attr_problem", Corruption, Attributes, "problem with attribute contents in inode {ino:u}";
    InodeWouldClearAttrFork = "inode_would_clear_attr_fork", Action, Attributes, "would clear attr fork";
    // Phase 6 leaf/free blocks of leaf and node directories (extra: phase6.c).
    DirCorruptTreeBlock = "dir_corrupt_tree_block", Corruption, Directories, "corrupt directory tree block {blk:u} for inode {ino:u}";
    DirBadHeaderDepth = "dir_bad_header_depth", Corruption, Directories, "bad header depth for directory inode {ino:u}";
    DirLeafBadCrc = "dir_leaf_bad_crc", Corruption, Directories, "leaf block {blk:u} for directory inode {ino:u} bad CRC";
    DirLeafBadHeader = "dir_leaf_bad_header", Corruption, Directories, "leaf block {blk:u} for directory inode {ino:u} bad header";
    DirLeafBadTail = "dir_leaf_bad_tail", Corruption, Directories, "leaf block {blk:u} for directory inode {ino:u} bad tail";
    DirUnknownLeafMagic = "dir_unknown_leaf_magic", Corruption, Directories, "unknown magic number {magic:x} for block {blk:u} in directory inode {ino:u}";
    DirFreeBadHeader = "dir_free_bad_header", Corruption, Directories, "free block {blk:u} for directory inode {ino:u} bad header";
    DirFreeBadEntry = "dir_free_bad_entry", Corruption, Directories, "free block {blk:u} entry {i:u} for directory ino {ino:u} bad";
    DirFreeBadNused = "dir_free_bad_nused", Corruption, Directories, "free block {blk:u} for directory inode {ino:u} bad nused";
    DirFreetabMissing = "dir_freetab_missing", Corruption, Directories, "missing freetab entry {i:u} for directory inode {ino:u}";
    // Da btree walks of phases 3 and 4 (da_util.c, dir2.c, attr_repair.c); {fork:s} is
    // "directory" or "attribute".
    DaCantRead = "da_cant_read", Corruption, Directories, "can't read {fork:s} block {blk:u} for inode {ino:u}";
    DaCorruptTreeBlock = "da_corrupt_tree_block", Corruption, Directories, "corrupt {fork:s} tree block {blk:u} for inode {ino:u}";
    DaNonRootLeafn = "da_non_root_leafn", Corruption, Directories, "found non-root LEAFN node in inode {ino:u} bno = {blk:u}";
    DaBadMagic = "da_bad_magic", Corruption, Directories, "bad {fork:s} magic number 0x{magic:h} in inode {ino:u} bno = {blk:u}";
    DaBadRecordCount = "da_bad_record_count", Corruption, Directories, "bad {fork:s} record count in inode {ino:u}, count = {count:u}, max = {max:u}";
    DaBadBtree = "da_bad_btree", Corruption, Directories, "bad {fork:s} btree for inode {ino:u}";
    DaUsedCount = "da_used_count", Corruption, Directories, "{fork:s} block used/count inconsistency - {entry:i}/{count:u}";
    DaHashInconsistency = "da_hash_inconsistency", Corruption, Directories, "{fork:s} block hashvalue inconsistency, expected > {expected:u} / saw {found:u}";
    DaBadForw = "da_bad_forw", Corruption, Directories, "bad {fork:s} forward block pointer, expected 0, saw {forw:u}";
    DaBadBlock = "da_bad_block", Corruption, Directories, "bad {fork:s} block in inode {ino:u}";
    DaFixHashNonleaf = "da_fix_hash_nonleaf", Corruption, Directories, "would correct bad hashval in non-leaf {fork:s} block\n\tin (level {level:u}) in inode {ino:u}.";
    DaNoMapInfo = "da_no_map_info", Corruption, Directories, "can't get map info for {fork:s} block {blk:u} of inode {ino:u}";
    DaPathBadMagic = "da_path_bad_magic", Corruption, Directories, "bad magic number {magic:h} in {fork:s} block {blk:u} for inode {ino:u}";
    DaPathBadBack = "da_path_bad_back", Corruption, Directories, "bad back pointer in {fork:s} block {blk:u} for inode {ino:u}";
    DaPathBadCount = "da_path_bad_count", Corruption, Directories, "entry count {count:u} too large in {fork:s} block {blk:u} for inode {ino:u}";
    DaPathBadLevel = "da_path_bad_level", Corruption, Directories, "bad level {level:u} in {fork:s} block {blk:u} for inode {ino:u}";
    DaFixHashInterior = "da_fix_hash_interior", Corruption, Directories, "would correct bad hashval in interior {fork:s} block\n\tin (level {level:u}) in inode {ino:u}.";
    DirLeafnCantMap = "dir_leafn_cant_map", Corruption, Directories, "can't map block {blk:u} for directory inode {ino:u}";
    DirLeafnCantRead = "dir_leafn_cant_read", Corruption, Directories, "can't read file block {blk:u} for directory inode {ino:u}";
    DirLeafnCorrupt = "dir_leafn_corrupt", Corruption, Directories, "corrupt directory leafn block {blk:u} for inode {ino:u}";
    DirLeafnBadMagic = "dir_leafn_bad_magic", Corruption, Directories, "bad directory leaf magic # {magic:x} for directory inode {ino:u} block {blk:u}";
    DirLeafnBadCount = "dir_leafn_bad_count", Corruption, Directories, "bad entry count in block {blk:u} of directory inode {ino:u}";
    DirLeafnHashOrder = "dir_leafn_hash_order", Corruption, Directories, "bad hash ordering in block {blk:u} of directory inode {ino:u}";
    DirLeafnBadStale = "dir_leafn_bad_stale", Corruption, Directories, "bad stale count in block {blk:u} of directory inode {ino:u}";
    DirLeafnBadBack = "dir_leafn_bad_back", Corruption, Directories, "bad sibling back pointer for block {blk:u} in directory inode {ino:u}";
    DirBadHashPath = "dir_bad_hash_path", Corruption, Directories, "bad hash path in directory {ino:u}";
    DirHdrOwner = "dir_hdr_owner", Corruption, Directories, "expected owner inode {ino:u}, got {owner:u}, directory block {daddr:u}";
    DirHdrBlkno = "dir_hdr_blkno", Corruption, Directories, "expected block {daddr:u}, got {blkno:u}, directory inode {ino:u}";
    DirHdrUuid = "dir_hdr_uuid", Corruption, Directories, "wrong FS UUID, directory inode {ino:u} block {daddr:u}";
    DirP6CorruptBlock = "dir_p6_corrupt_block", Corruption, Directories, "corrupt block {blk:u} in directory inode {ino:u}: would junk block";
    DirP6EmptyBlock = "dir_p6_empty_block", Corruption, Directories, "empty data block {blk:u} in directory inode {ino:u}: would junk block";
    DirP6BadMagic = "dir_p6_bad_magic", Corruption, Directories, "bad directory block magic # {found:x} for directory inode {ino:u} block {blk:u}: would fix magic # to {want:x}";
    DirP6NoDotdot = "dir_p6_no_dotdot", Corruption, Directories, "entry \"{name:s}\" in dir ino {dir_ino:u} doesn't have a .. entry, will set it in ino {ino:u}.";
    DirP6CreateDot = "dir_p6_create_dot", Corruption, Directories, "would create missing \".\" entry in dir ino {ino:u}";
    AttrBtreeCycle = "attr_btree_cycle", Corruption, Attributes, "btree cycle detected in attribute fork for inode {ino:u}";
    AttrLeafCantMap = "attr_leaf_cant_map", Corruption, Attributes, "can't map block {blk:u} for attribute fork for inode {ino:u}";
    AttrLeafCantRead = "attr_leaf_cant_read", Corruption, Attributes, "can't read file block {blk:u} (fsbno {fsbno:u}) for attribute fork of inode {ino:u}";
    AttrLeafBadMagic = "attr_leaf_bad_magic", Corruption, Attributes, "bad attribute leaf magic {magic:x} for inode {ino:u}";
    AttrLeafBadBack = "attr_leaf_bad_back", Corruption, Attributes, "bad sibling back pointer for block {blk:u} in attribute fork for inode {ino:u}";
    AttrBadHashPath = "attr_bad_hash_path", Corruption, Attributes, "bad hash path in attribute fork for inode {ino:u}";
    // Phase 7.
    NlinkMismatch = "nlink_mismatch", Corruption, LinkCounts, "would have reset inode {ino:u} nlinks from {found:u} to {expected:u}";
}

impl Finding {
    /// A finding of `kind` printed in `phase`.
    pub fn new(phase: u8, kind: Kind, fields: Vec<(&'static str, Val)>) -> Finding {
        Finding {
            kind,
            phase,
            class: kind.class(),
            fields,
            explained_by_read_error: None,
            ag_context: None,
        }
    }

    /// The value named `name`, if the finding has one.
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
        let t = self.kind.template();
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

    /// Whether an unreadable range accounts for this finding.
    pub fn is_explained(&self) -> bool {
        self.explained_by_read_error == Some(true)
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
        m.serialize_entry("kind", self.kind.name())?;
        m.serialize_entry("structure", &self.kind.structure())?;
        m.serialize_entry("class", &self.class)?;
        for (k, v) in &self.fields {
            m.serialize_entry(k, v)?;
        }
        if let Some(e) = self.explained_by_read_error {
            m.serialize_entry("explained_by_read_error", &e)?;
        }
        m.serialize_entry("text", &self.render())?;
        m.end()
    }
}

/// The fields of a `verifier_error` finding: what a libxfs read verifier reports about the
/// `bytes`-byte buffer at `daddr` read with the buffer ops `ops`.
pub(crate) fn verifier_error(
    corrupt: bool,
    ops: &str,
    daddr: u64,
    bytes: u64,
) -> Vec<(&'static str, Val)> {
    vec![
        (
            "error",
            if corrupt { "corruption" } else { "CRC error" }.into(),
        ),
        ("addr", "<addr>".into()),
        ("ops", ops.into()),
        ("daddr", daddr.into()),
        ("bytes", bytes.into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_templates() {
        let f = Finding::new(
            2,
            Kind::AgfFreeblksMismatch,
            vec![
                ("found", 2809u32.into()),
                ("expected", 2709u32.into()),
                ("ag", 2u32.into()),
            ],
        );
        assert_eq!(f.render(), "agf_freeblks 2809, counted 2709 in ag 2");
        let m = Finding::new(
            2,
            Kind::BtreeBadMagic,
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
        for k in Kind::ALL {
            let t = k.template();
            assert_eq!(t.matches('{').count(), t.matches('}').count(), "{k:?}");
            assert_eq!(Kind::from_name(k.name()), Some(*k));
        }
    }
}
