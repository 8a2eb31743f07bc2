//! Shortform attribute forks (`struct xfs_attr_sf_hdr` and its entries, libxfs
//! `xfs_attr_sf.h` / the shortform part of `xfs_attr_leaf.c`): the attributes packed in
//! the inode's attribute fork.

use serde::Serialize;

use super::{
    chars, line, Attr, AttrListing, AttrValue, Finding, Namespace, XFS_ATTR_ROOT, XFS_ATTR_SECURE,
};
use crate::bytes::be_u16;
use crate::fields::Field;

/// `sizeof(struct xfs_attr_sf_hdr)`.
pub const SF_HDR_SIZE: usize = 4;

/// `struct xfs_attr_sf_hdr`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SfHdr {
    /// `totsize`: bytes used by the header and all entries.
    pub totsize: u16,
    /// `count`: number of entries.
    pub count: u8,
    /// `padding`.
    pub padding: u8,
}

/// One `struct xfs_attr_sf_entry`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SfEntry {
    /// Byte offset of the entry in the fork.
    pub offset: usize,
    /// `namelen`: name length in bytes.
    pub namelen: u8,
    /// `valuelen`: value length in bytes.
    pub valuelen: u8,
    /// `flags`: the namespace bits.
    pub flags: u8,
    /// `nameval[..namelen]`: the name.
    pub name: Vec<u8>,
    /// `nameval[namelen..]`: the value.
    pub value: Vec<u8>,
}

impl SfEntry {
    /// The namespace the flags put the entry in.
    pub fn namespace(&self) -> Namespace {
        Namespace::from_flags(self.flags)
    }
}

/// A decoded shortform attribute fork.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shortform {
    /// The fork header.
    pub hdr: SfHdr,
    /// The entries that lie wholly inside the fork, at most `hdr.count`.
    pub entries: Vec<SfEntry>,
    /// What is wrong with the fork.
    pub findings: Vec<Finding>,
}

/// Decodes a local-format attribute fork (`fork`: the fork's bytes in the inode literal area).
/// `None` when the fork is too short for the 4-byte header (reported by
/// [`Finding::SfShort`] through [`list_shortform`]).
pub fn decode_shortform(fork: &[u8]) -> Option<Shortform> {
    let hdr = SfHdr {
        totsize: be_u16(fork, 0)?,
        count: *fork.get(2)?,
        padding: *fork.get(3)?,
    };
    let mut findings = Vec::new();
    let tot = usize::from(hdr.totsize);
    if tot < SF_HDR_SIZE || tot > fork.len() {
        findings.push(Finding::SfBadTotsize {
            totsize: hdr.totsize,
            min: SF_HDR_SIZE,
            fork_len: fork.len(),
        });
    }
    // Entries are read within totsize when it is sane, else within the fork.
    let end = if tot >= SF_HDR_SIZE && tot <= fork.len() {
        tot
    } else {
        fork.len()
    };
    let mut entries = Vec::new();
    let mut off = SF_HDR_SIZE;
    for index in 0..usize::from(hdr.count) {
        let parsed = (|| {
            let namelen = *fork.get(off)?;
            let valuelen = *fork.get(off.checked_add(1)?)?;
            let flags = *fork.get(off.checked_add(2)?)?;
            let name_at = off.checked_add(3)?;
            let value_at = name_at.checked_add(usize::from(namelen))?;
            let next = value_at.checked_add(usize::from(valuelen))?;
            if next > end {
                return None;
            }
            Some(SfEntry {
                offset: off,
                namelen,
                valuelen,
                flags,
                name: fork.get(name_at..value_at)?.to_vec(),
                value: fork.get(value_at..next)?.to_vec(),
            })
        })();
        let Some(e) = parsed else {
            findings.push(Finding::SfEntryOverrun {
                index,
                offset: off,
                end,
            });
            break;
        };
        if e.namelen == 0 {
            findings.push(Finding::SfEmptyName { index });
        }
        if e.namespace() == Namespace::Invalid {
            findings.push(Finding::SfBadNamespace {
                index,
                flags: e.flags,
            });
        }
        // Each entry is at least 3 bytes, so the offset strictly grows and stays <= end.
        off = off
            .saturating_add(3)
            .saturating_add(e.name.len())
            .saturating_add(e.value.len());
        entries.push(e);
    }
    if entries.len() < usize::from(hdr.count) {
        findings.push(Finding::SfCountMismatch {
            count: hdr.count,
            found: entries.len(),
        });
    } else if off != tot {
        findings.push(Finding::SfSizeMismatch {
            end: off,
            totsize: hdr.totsize,
        });
    }
    Some(Shortform {
        hdr,
        entries,
        findings,
    })
}

impl Shortform {
    /// The lines `xfs_db -c 'inode N' -c print` prints for a local attribute fork
    /// (`a.sfattr.hdr.totsize = ...`, `a.sfattr.list[i].name = "..."`).
    pub fn render_xfs_db(&self) -> String {
        let mut out = String::new();
        let p = "a.sfattr.";
        line(
            &mut out,
            p,
            &Field::dec("hdr.totsize", self.hdr.totsize, 16),
        );
        line(&mut out, p, &Field::dec("hdr.count", self.hdr.count, 8));
        for (i, e) in self.entries.iter().enumerate() {
            let lp = format!("{p}list[{i}].");
            line(&mut out, &lp, &Field::dec("namelen", e.namelen, 8));
            line(&mut out, &lp, &Field::dec("valuelen", e.valuelen, 8));
            line(
                &mut out,
                &lp,
                &Field::dec("root", u8::from(e.flags & XFS_ATTR_ROOT != 0), 1),
            );
            line(
                &mut out,
                &lp,
                &Field::dec("secure", u8::from(e.flags & XFS_ATTR_SECURE != 0), 1),
            );
            out.push_str(&format!("{lp}name = {}\n", chars(&e.name)));
            out.push_str(&format!("{lp}value = {}\n", chars(&e.value)));
        }
        out
    }
}

/// The attributes of a shortform fork, with findings. A fork too short for its header gives
/// no attributes and [`Finding::SfShort`].
pub fn list_shortform(fork: &[u8]) -> AttrListing {
    let mut out = AttrListing::default();
    let Some(sf) = decode_shortform(fork) else {
        out.findings.push(Finding::SfShort { have: fork.len() });
        return out;
    };
    out.attrs = sf
        .entries
        .iter()
        .map(|e| Attr {
            namespace: e.namespace(),
            flags: e.flags,
            name: e.name.clone(),
            value: AttrValue::Local(e.value.clone()),
        })
        .collect();
    out.findings = sf.findings;
    out
}
