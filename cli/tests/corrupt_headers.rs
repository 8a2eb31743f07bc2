//! Damaged headers made with `xfs_db -x`: we print what xfs_db prints, field for field,
//! including `crc = ... (bad)`. One documented difference: xfs_db reads every AGF and AGI
//! while mounting, reports a CRC error on stderr, keeps the buffer cached and later prints
//! `(correct)` for it; we verify the checksum each time and print `(bad)`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use common::{inspect_ok, mkfs, tempdir, xfs_db, xfs_db_mode};

/// Applies `xfs_db -x` commands to the image.
fn corrupt(img: &std::path::Path, cmds: &[&str]) {
    xfs_db_mode(img, "-x", cmds);
}

#[test]
fn damaged_headers_print_like_xfs_db() {
    let dir = tempdir();
    let clean = dir.path().join("clean.img");
    mkfs(
        &clean,
        64 << 20,
        &[
            "-m".into(),
            "rmapbt=1,reflink=1".into(),
            "-d".into(),
            "agcount=4".into(),
        ],
    )
    .unwrap();
    let v4 = dir.path().join("clean4.img");
    mkfs(
        &v4,
        64 << 20,
        &["-m".into(), "crc=0".into(), "-d".into(), "agcount=4".into()],
    )
    .unwrap();
    // (base image, xfs_db -x commands separated by "; "); the first command names the header
    // to print. `write -c` leaves a bad CRC, `write -d` rewrites the CRC over corrupted data.
    let cases: &[(&std::path::Path, &str)] = &[
        (&clean, "sb 1; write -c dblocks 12345"),
        (&clean, "sb 2; write -d magicnum 0x12345678"),
        (&clean, "sb 3; write -d fname \"label\""),
        (&clean, "sb 0; write -c icount 3"),
        (&clean, "agfl 1; write -c bno[3] 99"),
        (&clean, "agfl 2; write -d magicnum 0"),
        (&clean, "agf 3; write -d freeblks 7; write -d rmaproot 0"),
        (
            &clean,
            "agi 1; write -d unlinked[5] 77; write -d unlinked[63] 9",
        ),
        (&clean, "agi 2; write -d newino 0xffffffff"),
        (&v4, "sb 1; write versionnum 0x1234"),
        (&v4, "agf 1; write cntroot 0xffffffff"),
        (&v4, "agfl 2; write bno[0] 0; write bno[7] 12"),
    ];
    for (i, (base, cmds)) in cases.iter().enumerate() {
        let img = dir.path().join(format!("case{i}.img"));
        std::fs::copy(base, &img).unwrap();
        let cmds: Vec<&str> = cmds.split("; ").collect();
        corrupt(&img, &cmds);
        let show = cmds[0];
        let (what, ag) = show.split_once(' ').unwrap();
        let img_s = img.to_str().unwrap();
        let ours = if what == "sb" {
            inspect_ok(["sb", img_s, "--ag", ag])
        } else {
            inspect_ok([what, img_s, ag])
        };
        let ours: String = ours
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        let theirs = xfs_db(&img, &[show.to_string(), "print".into()]);
        assert_eq!(ours, theirs, "case {i}: {cmds:?}");
    }
}

#[test]
fn bad_agf_and_agi_checksums_are_reported_as_bad() {
    let dir = tempdir();
    let img = dir.path().join("fs.img");
    mkfs(&img, 64 << 20, &["-d".into(), "agcount=4".into()]).unwrap();
    corrupt(
        &img,
        &[
            "agf 2",
            "write -c freeblks 7",
            "agi 3",
            "write -c freecount 9",
        ],
    );
    let i = img.to_str().unwrap();
    for (what, ag, field) in [("agf", "2", "freeblks = 7"), ("agi", "3", "freecount = 9")] {
        let ours = inspect_ok([what, i, ag]);
        let theirs = xfs_db(&img, &[format!("{what} {ag}"), "print".into()]);
        assert!(ours.contains(field));
        let crc_line = |s: &str| {
            s.lines()
                .find(|l| l.starts_with("crc = "))
                .unwrap()
                .to_string()
        };
        assert!(
            crc_line(&ours).ends_with("(bad)"),
            "{what}: {}",
            crc_line(&ours)
        );
        // Everything but the checksum verdict agrees.
        let strip = |s: &str| {
            s.lines()
                .filter(|l| !l.starts_with("crc = "))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip(&ours), strip(&theirs));
        // xfs_db says `(bad)` or, when it cached the header at mount, `(correct)`.
        let theirs_value = crc_line(&theirs)
            .replace(" (correct)", "")
            .replace(" (bad)", "");
        assert_eq!(crc_line(&ours), format!("{theirs_value} (bad)"));
    }
}
