//! `check` on populated images with many extents (scripts/make-extent-fixtures.sh) agrees with
//! `xfs_repair -n`: both clean, no finding, exit 0, and the image is not written.
//!
//! - fixture-v5-nrext64: every inode has the large extent counter flag (nrext64), so its
//!   extent counts are not at the old offsets; files in extents and btree format, a BMBT whose
//!   root is at level 2 over several level-1 blocks (made by the kernel), an attr fork in btree
//!   format, unwritten extents, directories of every format.
//! - fixture-v4-bmbt3: v4, 512-byte blocks, one file whose BMBT has its root at level 2 over
//!   four level-1 blocks and 64 leaves: every interior block counts in nblocks.
//!
//! Each test also asserts, through xfs_db, that the fixture still has the shape it is there
//! for, so a regenerated fixture cannot silently stop covering it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::path::{Path, PathBuf};

use common::{inspect, is_repair_progress, repair_n, sample, tempdir, xfs_db};

/// The lines of `xfs_repair -n` output that are findings (its progress lines, phase headers
/// and host-geometry notices aside).
fn repair_findings(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| !is_repair_progress(line))
        .map(str::to_string)
        .collect()
}

/// The number of lines of `text` and its first 20, for a readable failure message.
fn summary(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    format!(
        "{} lines, the first:\n{}",
        lines.len(),
        lines
            .iter()
            .take(20)
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// Runs `check --format repair` and `xfs_repair -n` on `img`: the same findings (none) and
/// exit code 0 from both, the recorded NAME.repair.txt clean too, and the image unchanged.
fn agrees_with_repair(img: &Path, name: &str) {
    let before = std::fs::read(img).unwrap();
    let out = inspect(["check", img.to_str().unwrap(), "--format", "repair"]);
    let ours = String::from_utf8_lossy(&out.stdout).into_owned();
    let (code, theirs) = repair_n(img);
    assert_eq!(
        code,
        Some(0),
        "{name}: xfs_repair -n is not clean:\n{theirs}"
    );
    let theirs = repair_findings(&theirs);
    assert!(theirs.is_empty(), "{name}: xfs_repair -n found {theirs:?}");
    let recorded = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../testdata/{name}.repair.txt")),
    )
    .unwrap();
    assert!(
        repair_findings(&recorded).is_empty(),
        "{name}: the recorded xfs_repair -n output has findings"
    );
    let ours_lines: Vec<String> = ours.lines().map(str::to_string).collect();
    assert!(
        ours_lines == theirs,
        "{name}: check --format repair differs from xfs_repair -n (which is clean): {}",
        summary(&ours)
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{name}: check exit code: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read(img).unwrap() == before,
        "{name}: check changed the image"
    );
}

/// `print` of the given fields of the inode at `path`, as `field = value` lines.
fn inode_fields(img: &Path, path: &str, fields: &str) -> Vec<(String, String)> {
    let text = xfs_db(
        img,
        &[
            format!("path {path}"),
            "inode".into(),
            format!("print {fields}"),
        ],
    );
    text.lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("xfs_db printed no {name}: {fields:?}"))
}

fn number(fields: &[(String, String)], name: &str) -> u64 {
    field(fields, name).parse().unwrap()
}

/// Fixture `name` unpacked in a scratch directory (kept alive by the returned guard).
fn fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let img = sample(dir.path(), name);
    (dir, img)
}

/// The inode at `path` is in btree format with its BMBT root (`bmbt`: `u3.bmbt` in a v3
/// inode, `u.bmbt` before) at level 2; returns the root's numrecs and the fields `more`.
fn level2_bmbt(img: &Path, path: &str, bmbt: &str, more: &str) -> Vec<(String, String)> {
    let fields = format!("core.format {bmbt}.level {bmbt}.numrecs {more}");
    let f = inode_fields(img, path, &fields);
    assert_eq!(field(&f, "core.format"), "3 (btree)", "{path}");
    assert_eq!(number(&f, &format!("{bmbt}.level")), 2, "{path}");
    f
}

#[test]
fn nrext64_fixture_is_clean() {
    let (_dir, img) = fixture("fixture-v5-nrext64");
    // The shape the fixture is there for.
    let big = level2_bmbt(
        &img,
        "/frag/sparse-5000",
        "u3.bmbt",
        "core.nextents v3.nrext64",
    );
    assert_eq!(field(&big, "v3.nrext64"), "1");
    assert!(number(&big, "u3.bmbt.numrecs") >= 2, "{big:?}");
    assert!(number(&big, "core.nextents") > 1000, "{big:?}");
    for (path, format) in [
        ("/frag/sparse-8", "2 (extents)"),
        ("/frag/sparse-300", "3 (btree)"),
        ("/frag/unwritten", "3 (btree)"),
    ] {
        let f = inode_fields(&img, path, "core.format v3.nrext64");
        assert_eq!(field(&f, "core.format"), format, "{path}");
        assert_eq!(field(&f, "v3.nrext64"), "1", "{path}");
    }
    let attr = inode_fields(&img, "/xattr/btree", "core.aformat core.naextents");
    assert_eq!(field(&attr, "core.aformat"), "3 (btree)");
    assert!(number(&attr, "core.naextents") > 20, "{attr:?}");
    agrees_with_repair(&img, "fixture-v5-nrext64");
}

#[test]
fn v4_three_level_bmbt_fixture_is_clean() {
    let (_dir, img) = fixture("fixture-v4-bmbt3");
    let big = level2_bmbt(&img, "/big", "u.bmbt", "core.version");
    assert_eq!(field(&big, "core.version"), "2");
    let level1 = number(&big, "u.bmbt.numrecs");
    assert!(level1 >= 3, "{big:?}");
    // Every level-1 block really is one, with its siblings chained.
    let mut cmds = vec!["path /big".to_string(), "inode".into()];
    for i in 1..=level1 {
        cmds.push(format!("addr u.bmbt.ptrs[{i}]"));
        cmds.push("print level numrecs".into());
        cmds.push("path /big".into());
        cmds.push("inode".into());
    }
    let text = xfs_db(&img, &cmds);
    assert_eq!(
        text.lines().filter(|l| *l == "level = 1").count() as u64,
        level1,
        "{text}"
    );
    agrees_with_repair(&img, "fixture-v4-bmbt3");
}

#[test]
fn compressed_fixtures_check_the_same() {
    // The .zst is read in memory: the same verdict as on the decompressed image.
    for name in ["fixture-v5-nrext64", "fixture-v4-bmbt3"] {
        let zst = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../testdata/{name}.img.zst"));
        let out = inspect(["check", zst.to_str().unwrap(), "--format", "repair"]);
        assert!(
            out.stdout.is_empty(),
            "{name}: findings on the compressed image: {}",
            summary(&String::from_utf8_lossy(&out.stdout))
        );
        assert_eq!(out.status.code(), Some(0), "{name}");
    }
}
