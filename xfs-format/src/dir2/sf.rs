//! Shortform directories (`struct xfs_dir2_sf_hdr` and its entries, libxfs
//! `xfs_dir2_sf.c`): the entries packed in the inode's data fork.

use serde::Serialize;

use super::{name_ok, DbField, DirEntry, DirFinding, XFS_DIR2_MAX_SHORT_INUM, XFS_DIR3_FT_MAX};
use crate::bytes::{be_u16, be_u32, be_u64};
use crate::fields::{Field, Value};

/// `struct xfs_dir2_sf_hdr`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SfHdr {
    /// `count`: number of entries.
    pub count: u8,
    /// `i8count`: number of entries with 8-byte inode numbers (then all are 8 bytes).
    pub i8count: u8,
    /// `parent`: the parent directory's inode number.
    pub parent: u64,
}

/// One shortform entry (`struct xfs_dir2_sf_entry` with its trailing ftype and inumber).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SfEntry {
    /// Byte position of the entry in the fork.
    pub pos: usize,
    /// `namelen`: name length in bytes.
    pub namelen: u8,
    /// The offset the entry would have in a data block (keeps readdir cookies stable).
    pub offset: u16,
    /// `name`.
    pub name: Vec<u8>,
    /// The file type byte, when the filesystem has them.
    pub ftype: Option<u8>,
    /// The inode number (4 or 8 bytes on disk).
    pub inumber: u64,
}

/// A decoded shortform directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shortform {
    /// The fork header.
    pub hdr: SfHdr,
    /// Entries carry a file type byte.
    pub has_ftype: bool,
    /// Entries decoded before the first one that did not fit.
    pub entries: Vec<SfEntry>,
    /// Bytes used by the header and the decoded entries.
    pub used: usize,
    /// What is wrong with the fork.
    pub findings: Vec<DirFinding>,
}

/// Decodes a shortform directory from the bytes of its data fork (the inode literal area,
/// or its first `di_size` bytes). Never fails: a header that does not fit leaves an empty
/// directory and a [`DirFinding::Truncated`].
pub fn parse_shortform(fork: &[u8], has_ftype: bool) -> Shortform {
    let mut findings = Vec::new();
    let count = fork.first().copied().unwrap_or(0);
    let i8count = fork.get(1).copied().unwrap_or(0);
    let ino_len: usize = if i8count == 0 { 4 } else { 8 };
    let hdr_len = 2usize.saturating_add(ino_len);
    let read_ino = |at: usize| -> Option<u64> {
        if ino_len == 4 {
            be_u32(fork, at).map(u64::from)
        } else {
            be_u64(fork, at)
        }
    };
    let parent = read_ino(2);
    let mut sf = Shortform {
        hdr: SfHdr {
            count,
            i8count,
            parent: parent.unwrap_or(0),
        },
        has_ftype,
        entries: Vec::new(),
        used: 0,
        findings: Vec::new(),
    };
    if parent.is_none() {
        findings.push(DirFinding::Truncated {
            what: "shortform header",
            at: 0,
            need: hdr_len,
            have: fork.len(),
        });
        sf.findings = findings;
        return sf;
    }
    let mut pos = hdr_len;
    let mut prev_off: Option<u16> = None;
    let mut wide = usize::from(parent.is_some_and(|p| p > XFS_DIR2_MAX_SHORT_INUM));
    // count is a u8, so this loop runs at most 255 times.
    for index in 0..usize::from(count) {
        let Some(namelen) = fork.get(pos).copied() else {
            findings.push(DirFinding::Truncated {
                what: "shortform entry",
                at: pos,
                need: 3,
                have: fork.len().saturating_sub(pos),
            });
            break;
        };
        let entlen = 3usize
            .saturating_add(usize::from(namelen))
            .saturating_add(usize::from(has_ftype))
            .saturating_add(ino_len);
        let end = pos.saturating_add(entlen);
        if end > fork.len() {
            findings.push(DirFinding::Truncated {
                what: "shortform entry",
                at: pos,
                need: entlen,
                have: fork.len().saturating_sub(pos),
            });
            break;
        }
        let name_at = pos.saturating_add(3);
        let name_end = name_at.saturating_add(usize::from(namelen));
        let offset = be_u16(fork, pos.saturating_add(1)).unwrap_or(0);
        let name = fork.get(name_at..name_end).unwrap_or_default().to_vec();
        let ftype = if has_ftype {
            fork.get(name_end).copied()
        } else {
            None
        };
        let ino_at = name_end.saturating_add(usize::from(has_ftype));
        let inumber = read_ino(ino_at).unwrap_or(0);
        if namelen == 0 {
            findings.push(DirFinding::ZeroNameLen { at: pos });
        } else if !name_ok(&name) {
            findings.push(DirFinding::BadName { at: pos });
        }
        if let Some(ft) = ftype.filter(|&f| f >= XFS_DIR3_FT_MAX) {
            findings.push(DirFinding::BadFtype { at: pos, ftype: ft });
        }
        if inumber == 0 {
            findings.push(DirFinding::BadInumber { at: pos, inumber });
        }
        if inumber > XFS_DIR2_MAX_SHORT_INUM {
            wide = wide.saturating_add(1);
        }
        if let Some(p) = prev_off {
            if offset <= p {
                findings.push(DirFinding::OffsetOrder {
                    index,
                    offset,
                    prev: p,
                });
            }
        }
        prev_off = Some(offset);
        sf.entries.push(SfEntry {
            pos,
            namelen,
            offset,
            name,
            ftype,
            inumber,
        });
        pos = end;
    }
    // i8count counts the 8-byte inode numbers needed (parent included); with i8count == 0
    // none can be wide.
    if (i8count == 0) != (wide == 0) {
        findings.push(DirFinding::I8Count {
            i8count,
            actual: wide,
        });
    }
    sf.used = pos;
    sf.findings = findings;
    sf
}

/// The lines `xfs_db -c 'inode N' -c print` prints for a shortform directory fork:
/// `u3.sfdir3.hdr.count` and so on. The prefix is `u3` on v5 inodes and `u` on v4; the
/// structure is `sfdir3` when the filesystem has file types, else `sfdir2`.
pub fn shortform_fields(sf: &Shortform, v5_inode: bool) -> Vec<DbField> {
    let pfx = format!(
        "{}.{}.",
        if v5_inode { "u3" } else { "u" },
        if sf.has_ftype { "sfdir3" } else { "sfdir2" }
    );
    let ino = |name: &'static str, v: u64| {
        if sf.hdr.i8count == 0 {
            Field::dec(name, v, 32)
        } else {
            Field::dec(name, v, 64)
        }
    };
    let ino_name = if sf.hdr.i8count == 0 { "i4" } else { "i8" };
    let hp = format!("{pfx}hdr.");
    let mut out = vec![
        DbField::new(&hp, Field::dec("count", sf.hdr.count, 8)),
        DbField::new(&hp, Field::dec("i8count", sf.hdr.i8count, 8)),
        DbField::new(&format!("{hp}parent."), ino(ino_name, sf.hdr.parent)),
    ];
    for (i, e) in sf.entries.iter().enumerate() {
        let ep = format!("{pfx}list[{i}].");
        out.push(DbField::new(&ep, Field::dec("namelen", e.namelen, 8)));
        out.push(DbField::new(&ep, Field::hex("offset", e.offset, 16)));
        out.push(DbField::new(
            &ep,
            Field {
                name: "name",
                value: Value::Chars(e.name.clone()),
            },
        ));
        out.push(DbField::new(
            &format!("{ep}inumber."),
            ino(ino_name, e.inumber),
        ));
        if let Some(ft) = e.ftype {
            out.push(DbField::new(&ep, Field::dec("filetype", ft, 8)));
        }
    }
    out
}

/// The entries of a shortform directory as [`DirEntry`]s (without `.` and `..`, which
/// shortform directories do not store).
pub fn shortform_entries(sf: &Shortform) -> Vec<DirEntry> {
    sf.entries
        .iter()
        .map(|e| DirEntry {
            name: e.name.clone(),
            inumber: e.inumber,
            ftype: e.ftype,
            dblock: 0,
            offset: e.offset,
            cookie: u32::from(e.offset >> 3),
        })
        .collect()
}
