//! Property test: the files layer (path lookup, directory listings of every format, file
//! data, symlinks, attributes, inode rendering) over structure fixtures whose inodes and
//! directory/attribute blocks are mutated. Nothing may panic or run away: every walk is
//! bounded and file data goes to a writer that refuses more than a few MiB.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use proptest::prelude::*;
use xfs_format::bmap::WhichFork;
use xfs_format::{ByteSource, Filesystem, Result, SliceSource};

use common::testdata_image;

struct Fixture {
    image: Vec<u8>,
    /// Byte offsets of metadata worth mutating: every inode and every directory/attribute
    /// block of the clean image.
    targets: Vec<(u64, u64)>,
}

fn load(name: &str) -> Fixture {
    let image = testdata_image(name);
    let fs = Filesystem::open(SliceSource(&image[..])).unwrap();
    let mut targets = Vec::new();
    let isz = u64::from(fs.geo.inode_size);
    let bs = u64::from(fs.geo.block_size);
    for ino in fs.allocated_inodes() {
        let inode = fs.read_inode(ino).unwrap();
        targets.push((inode.offset, isz));
        let is_dir = inode.mode() & 0o170000 == 0o040000;
        for which in [WhichFork::Data, WhichFork::Attr] {
            if which == WhichFork::Data && !is_dir {
                continue;
            }
            for r in fs.fork_records(&inode, which).unwrap().iter().take(8) {
                if let Some(off) = fs.fsb_to_offset(r.startblock) {
                    targets.push((off, bs));
                }
            }
        }
    }
    Fixture { image, targets }
}

fn fixtures() -> &'static [Fixture; 3] {
    static F: OnceLock<[Fixture; 3]> = OnceLock::new();
    F.get_or_init(|| {
        [
            load("fixture-v5"),
            load("fixture-v4"),
            load("fixture-v5-live"),
        ]
    })
}

struct Overlay<'a> {
    base: &'a [u8],
    patches: BTreeMap<u64, u8>,
}

impl ByteSource for Overlay<'_> {
    fn size(&self) -> u64 {
        self.base.len() as u64
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        let end = offset
            .checked_add(len as u64)
            .filter(|&e| e <= self.base.len() as u64)
            .ok_or(xfs_format::Error::Truncated {
                offset,
                len,
                size: self.base.len() as u64,
            })?;
        let bytes = self
            .base
            .get(offset as usize..end as usize)
            .unwrap_or_default();
        if self.patches.range(offset..end).next().is_none() {
            return Ok(Cow::Borrowed(bytes));
        }
        let mut v = bytes.to_vec();
        for (&o, &b) in self.patches.range(offset..end) {
            if let Some(at) = v.get_mut(o.saturating_sub(offset) as usize) {
                *at = b;
            }
        }
        Ok(Cow::Owned(v))
    }
}

/// A writer that takes at most 4 MiB, so a corrupt size cannot fill memory.
struct Capped(usize);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len());
        if self.0 > 4 << 20 {
            return Err(std::io::Error::other("cap"));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Walks everything reachable from the root, exercising every files-layer call.
fn exercise<S: ByteSource>(fs: &Filesystem<S>) {
    let mut stack = vec![fs.root_ino()];
    let mut seen = BTreeSet::new();
    while let Some(ino) = stack.pop() {
        if !seen.insert(ino) || seen.len() > 20_000 {
            continue;
        }
        let Ok(inode) = fs.read_inode(ino) else {
            continue;
        };
        let _ = inode.print_lines(fs.geo.has_ftype);
        let _ = fs.bmap_lines(&inode, false);
        let _ = fs.bmap_lines(&inode, true);
        let _ = fs.read_xattrs(&inode);
        match inode.mode() & 0o170000 {
            0o040000 => {
                if let Ok(d) = fs.read_dir(&inode) {
                    stack.extend(d.entries.iter().map(|e| e.ino));
                }
            }
            0o120000 => {
                let _ = fs.read_link(&inode);
            }
            _ => {
                let _ = fs.copy_data(&inode, &mut Capped(0));
            }
        }
    }
    let _ = fs.lookup("/dirs/node/e00001x/../../links/long", true);
    let _ = fs.lookup("/links/to-small", true);
    let _ = fs.allocated_inodes();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_metadata_never_panics(
        which in 0usize..3,
        muts in prop::collection::vec((any::<prop::sample::Index>(), any::<u16>(), any::<u8>()), 1..40),
    ) {
        let f = &fixtures()[which];
        let mut patches = BTreeMap::new();
        for (idx, off, byte) in muts {
            let &(base, len) = idx.get(&f.targets);
            let at = u64::from(off).checked_rem(len).unwrap_or(0);
            patches.insert(base.saturating_add(at), byte);
        }
        let src = Overlay { base: &f.image, patches };
        if let Ok(fs) = Filesystem::open(src) {
            exercise(&fs);
        }
    }
}
