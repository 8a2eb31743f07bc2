//! Phase 4's reflink cross-check (xfs_repair's compute_refcounts, fix_inode_reflink_flags
//! and check_refcounts): reference counts computed from the data-fork mappings of regular
//! files, compared with the inodes' reflink flags and the refcount btree records.

use std::collections::{BTreeMap, BTreeSet};

use xfs_format::ByteSource;

use crate::finding::{Finding, Kind};
use crate::state::Checker;

/// Runs of constant reference count >= 2 (start, len, count) of one AG, and the inodes that
/// map a block of any of them.
fn compute(maps: &[(u32, u32, u64)]) -> (Vec<(u32, u32, u32)>, BTreeSet<u64>) {
    // Boundaries where the set of overlapping mappings changes.
    let mut ev: Vec<(u32, bool, u64)> = Vec::with_capacity(maps.len().saturating_mul(2));
    for (s, e, ino) in maps {
        if e > s {
            ev.push((*s, true, *ino));
            ev.push((*e, false, *ino));
        }
    }
    // Ends before starts at the same block.
    ev.sort_unstable_by_key(|(b, start, ino)| (*b, *start, *ino));
    let mut active: BTreeMap<u64, u32> = BTreeMap::new();
    let mut n: u32 = 0;
    let mut recs: Vec<(u32, u32, u32)> = Vec::new();
    let mut shared = BTreeSet::new();
    let mut i = 0usize;
    while i < ev.len() {
        let Some(&(b, _, _)) = ev.get(i) else { break };
        while let Some(&(bb, start, ino)) = ev.get(i) {
            if bb != b {
                break;
            }
            if start {
                let c = active.entry(ino).or_insert(0);
                *c = c.saturating_add(1);
                n = n.saturating_add(1);
            } else {
                if let Some(c) = active.get_mut(&ino) {
                    *c = c.saturating_sub(1);
                    if *c == 0 {
                        active.remove(&ino);
                    }
                }
                n = n.saturating_sub(1);
            }
            i = i.saturating_add(1);
        }
        let next = ev.get(i).map_or(b, |e| e.0);
        if n >= 2 && next > b {
            shared.extend(active.keys().copied());
            match recs.last_mut() {
                Some((s, l, c)) if *c == n && s.saturating_add(*l) == b => {
                    *l = l.saturating_add(next.saturating_sub(b));
                }
                _ => recs.push((b, next.saturating_sub(b), n)),
            }
        }
    }
    (recs, shared)
}

/// Phase 4 findings of the reflink cross-check. `btree` holds each AG's shared-domain
/// refcount btree records (start, len, count); `suspect` skips the btree comparison.
pub fn check_refcounts<S: ByteSource>(
    c: &Checker<'_, S>,
    btree: &[Vec<(u32, u32, u32)>],
    suspect: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut computed = Vec::new();
    let mut is_rl = BTreeSet::new();
    for maps in &c.data_maps {
        let (recs, shared) = compute(maps);
        computed.push(recs);
        is_rl.extend(shared);
    }
    // fix_inode_reflink_flags: only "setting" is printed with -n.
    for ino in &is_rl {
        if c.slot(*ino).is_some_and(|s| s.used && !s.reflink) {
            out.push(Finding::new(
                4,
                Kind::ReflinkFlagSet,
                vec![("ino", (*ino).into())],
            ));
        }
    }
    if suspect {
        return out;
    }
    for (agno, recs) in (0u32..).zip(computed.iter()) {
        let empty = Vec::new();
        let bt = btree.get(agno as usize).unwrap_or(&empty);
        for (start, len, count) in recs {
            // lookup_le: the last record starting at or before `start`.
            let idx = bt.partition_point(|r| r.0 <= *start);
            let hit = idx.checked_sub(1).and_then(|i| bt.get(i));
            match hit {
                None => out.push(Finding::new(
                    4,
                    Kind::RefcountMissing,
                    vec![
                        ("ag", agno.into()),
                        ("agbno", (*start).into()),
                        ("len", (*len).into()),
                        ("count", (*count).into()),
                    ],
                )),
                Some(&(s, l, n)) if (s, l, n) != (*start, *len, *count) => out.push(Finding::new(
                    4,
                    Kind::RefcountIncorrect,
                    vec![
                        ("ag", agno.into()),
                        ("start", s.into()),
                        ("len", l.into()),
                        ("count", n.into()),
                        ("agbno", (*start).into()),
                        ("elen", (*len).into()),
                        ("ecount", (*count).into()),
                    ],
                )),
                Some(_) => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::compute;

    #[test]
    fn runs_of_constant_count() {
        let (r, s) = compute(&[(10, 12, 1), (10, 12, 2), (20, 30, 3), (25, 26, 4)]);
        assert_eq!(r, vec![(10, 2, 2), (25, 1, 2)]);
        assert_eq!(s.into_iter().collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    }
}
