//! XFS in LVM2 logical volumes of a GPT disk (testdata/lvm-gpt.img.zst, built by
//! scripts/make-lvm-fixture.sh with pvcreate / vgcreate / vgcfgrestore and mkfs.xfs through
//! `losetup -o`). `partitions` must report what `pvs`, `vgs` and `lvs --segments` reported on
//! the loop devices (testdata/lvm-gpt.facts.json); `check --volume VG/LV` what `xfs_repair -n`
//! said of the LV's bytes read back out of the disk; `ls` / `cat --volume` the names and sha256
//! of the files the kernel wrote through a loop mount. One LV has two segments, on different
//! PVs, in reverse disk order; a striped LV must fail with "unsupported LV type", exit 2.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

use common::{inspect, inspect_ok, is_repair_progress, tempdir, testdata, testdata_zst};

fn facts() -> Value {
    serde_json::from_slice(&std::fs::read(testdata("lvm-gpt.facts.json")).unwrap()).unwrap()
}

/// The fixture decompressed into `dir` as a sparse file (zero blocks left as holes).
fn disk(dir: &Path) -> PathBuf {
    sparse_copy(dir, "lvm-gpt.img", &testdata_zst("lvm-gpt.img.zst"))
}

fn sparse_copy(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    use std::os::unix::fs::FileExt;
    let p = dir.join(name);
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(bytes.len() as u64).unwrap();
    static ZEROS: [u8; 64 << 10] = [0; 64 << 10];
    for (i, chunk) in bytes.chunks(64 << 10).enumerate() {
        // (a slice comparison is a memcmp, fast in debug builds too)
        if *chunk != ZEROS[..chunk.len()] {
            f.write_all_at(chunk, (i as u64) << 16).unwrap();
        }
    }
    p
}

fn num(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.parse().unwrap(),
        other => other.as_u64().unwrap(),
    }
}

#[test]
fn partitions_match_pvs_vgs_lvs() {
    let f = facts();
    let dir = tempdir();
    let img = disk(dir.path());
    let out = inspect_ok(["partitions".as_ref(), img.as_os_str(), "--json".as_ref()]);
    let j: Value = serde_json::from_str(&out).unwrap();
    let lvm = &j["lvm"];
    let pvs = lvm["pvs"].as_array().unwrap();

    // pvs: each loop device was over one partition; its uuid, VG and size there.
    let loops = f["loop_partition"].as_object().unwrap();
    assert_eq!(pvs.len(), f["pvs"].as_array().unwrap().len());
    for fp in f["pvs"].as_array().unwrap() {
        let part = &loops[fp["pv_name"].as_str().unwrap()];
        let pv = pvs
            .iter()
            .find(|p| p["partition"] == part["index"])
            .unwrap_or_else(|| panic!("no PV on partition {}", part["index"]));
        assert_eq!(pv["start"], part["start"]);
        assert_eq!(pv["uuid"], fp["pv_uuid"]);
        assert_eq!(pv["vg_name"], fp["vg_name"]);
        assert_eq!(num(&pv["device_size"]), num(&fp["dev_size"]));
    }

    // vgs
    let fv = &f["vgs"][0];
    let vgs = lvm["vgs"].as_array().unwrap();
    assert_eq!(vgs.len(), 1);
    let vg = &vgs[0];
    assert_eq!(vg["name"], fv["vg_name"]);
    assert_eq!(vg["id"], fv["vg_uuid"]);
    assert_eq!(num(&vg["extent_size"]), num(&fv["vg_extent_size"]));
    assert_eq!(num(&vg["seqno"]), num(&fv["vg_seqno"]));
    assert_eq!(
        vg["pvs"].as_array().unwrap().len() as u64,
        num(&fv["pv_count"])
    );
    assert_eq!(
        vg["lvs"].as_array().unwrap().len() as u64,
        num(&fv["lv_count"])
    );
    for fp in f["pvs"].as_array().unwrap() {
        let p = vg["pvs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["uuid"] == fp["pv_uuid"])
            .unwrap();
        assert_eq!(num(&p["pe_start"]), num(&fp["pe_start"]));
        assert_eq!(num(&p["pe_count"]), num(&fp["pv_pe_count"]));
    }

    // lvs --segments: type, stripes, extents, and the PV ranges (device names mapped through
    // the partition each loop device was over to the VG's PV names).
    let pv_name_of_loop = |dev: &str| -> String {
        let part = &loops[dev]["index"];
        let i = pvs.iter().position(|p| p["partition"] == *part).unwrap() as u64;
        let p = vg["pvs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["found"].as_u64() == Some(i))
            .unwrap();
        p["name"].as_str().unwrap().to_owned()
    };
    let lvs = vg["lvs"].as_array().unwrap();
    let frows = f["lvs"].as_array().unwrap();
    for lv in lvs {
        let rows: Vec<&Value> = frows
            .iter()
            .filter(|r| r["lv_name"] == lv["name"])
            .collect();
        assert!(!rows.is_empty(), "{} not in lvs", lv["name"]);
        assert_eq!(lv["id"], rows[0]["lv_uuid"]);
        assert_eq!(num(&lv["size"]), num(&rows[0]["lv_size"]));
        let segs = lv["segments"].as_array().unwrap();
        assert_eq!(segs.len(), rows.len(), "{}", lv["name"]);
        for (s, r) in segs.iter().zip(rows) {
            assert_eq!(num(&s["start_extent"]), num(&r["seg_start_pe"]));
            assert_eq!(num(&s["extent_count"]), num(&r["seg_size_pe"]));
            assert_eq!(num(&s["stripe_count"]), num(&r["stripes"]));
            let linear = s["seg_type"] == "striped" && num(&s["stripe_count"]) == 1;
            let t = if linear {
                "linear"
            } else {
                s["seg_type"].as_str().unwrap()
            };
            assert_eq!(t, r["segtype"].as_str().unwrap());
            // "/dev/loop0:8-11 /dev/loop1:4-5"
            let want: Vec<String> = r["seg_pe_ranges"]
                .as_str()
                .unwrap()
                .split_whitespace()
                .map(|x| {
                    let (dev, range) = x.rsplit_once(':').unwrap();
                    format!("{}:{range}", pv_name_of_loop(dev))
                })
                .collect();
            let per_stripe = num(&s["extent_count"]) / num(&s["stripe_count"]);
            let got: Vec<String> = s["stripes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|st| {
                    let e = num(&st["extent"]);
                    format!(
                        "{}:{}-{}",
                        st["pv"].as_str().unwrap(),
                        e,
                        e + per_stripe - 1
                    )
                })
                .collect();
            assert_eq!(got, want, "{}", lv["name"]);
        }
        let has_xfs = f["volumes"]
            .get(format!("vgdata/{}", lv["name"].as_str().unwrap()))
            .is_some();
        assert_eq!(lv["has_xfs"].as_bool(), Some(has_xfs), "{}", lv["name"]);
        assert_eq!(lv["linear"].as_bool(), Some(lv["name"] != "lvstripe"));
    }

    // The text form names every LV as VG/LV with its XFS flag.
    let text = inspect_ok(["partitions".as_ref(), img.as_os_str()]);
    for (name, xfs) in [("lvxfs", "yes"), ("lvcat", "yes"), ("lvstripe", "-")] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("vgdata/{name} ")))
            .unwrap_or_else(|| panic!("vgdata/{name} not listed:\n{text}"));
        assert_eq!(line.split_whitespace().nth(2), Some(xfs), "{line}");
    }
}

#[test]
fn check_ls_cat_through_volumes() {
    let f = facts();
    let dir = tempdir();
    let img = disk(dir.path());
    for (name, v) in f["volumes"].as_object().unwrap() {
        // check: the finding lines of xfs_repair -n on the LV's bytes (none: it is clean).
        let out = inspect([
            "check".as_ref(),
            img.as_os_str(),
            "--volume".as_ref(),
            name.as_ref(),
            "--format".as_ref(),
            "repair".as_ref(),
        ]);
        let want: Vec<&str> = v["repair"]
            .as_str()
            .unwrap()
            .lines()
            .filter(|l| !is_repair_progress(l))
            .collect();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let got: Vec<&str> = stdout.lines().filter(|l| !is_repair_progress(l)).collect();
        assert_eq!(
            got,
            want,
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "{name}");

        let ls = inspect_ok([
            "ls".as_ref(),
            img.as_os_str(),
            "/".as_ref(),
            "--volume".as_ref(),
            name.as_ref(),
        ]);
        let mut got: Vec<&str> = ls.lines().filter(|l| *l != "." && *l != "..").collect();
        got.sort_unstable();
        // `ls -A1` in the mounted filesystem: sorted
        let want: Vec<&str> = v["ls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        assert_eq!(got, want, "{name}");

        for (path, file) in v["files"].as_object().unwrap() {
            if file["size"].as_u64().unwrap() > 1 << 24 {
                continue; // the sparse file: tests/sparse below, through sha256sum
            }
            let out = inspect_ok([
                "cat".as_ref(),
                img.as_os_str(),
                format!("/{path}").as_ref(),
                "--volume".as_ref(),
                name.as_ref(),
                "--json".as_ref(),
            ]);
            let j: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(j["sha256"], file["sha256"], "{name}:{path}");
            assert_eq!(j["size"], file["size"], "{name}:{path}");
        }
    }
    // Read-only: the disk's bytes are those decompressed.
    assert!(std::fs::read(&img).unwrap() == testdata_zst("lvm-gpt.img.zst"));
}

#[test]
fn unsupported_and_unknown_volumes_exit_2() {
    let dir = tempdir();
    let img = disk(dir.path());
    let run = |vol: &str| {
        let out = inspect([
            "ls".as_ref(),
            img.as_os_str(),
            "/".as_ref(),
            "--volume".as_ref(),
            vol.as_ref(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{vol}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = run("vgdata/lvstripe");
    assert!(
        e.contains("unsupported LV type") && e.contains("2 stripes"),
        "{e}"
    );
    let e = run("vgdata/nothere");
    assert!(e.contains("vgdata/lvxfs"), "{e}");
    let e = run("other/lvxfs");
    assert!(e.contains("found: vgdata"), "{e}");
    // Without a choice, the error names the volumes holding XFS.
    let out = inspect(["ls".as_ref(), img.as_os_str(), "/".as_ref()]);
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("vgdata/lvxfs, vgdata/lvcat") && e.contains("--volume"),
        "{e}"
    );
}

/// Partition 1 cut out of the disk is a whole-device PV: its LV on it reads, the LV with a
/// segment on the other PV names the missing PV.
#[test]
fn whole_device_pv_and_missing_pv() {
    let f = facts();
    let dir = tempdir();
    let bytes = testdata_zst("lvm-gpt.img.zst");
    let part = &f["loop_partition"]["/dev/loop0"];
    let start = part["start"].as_u64().unwrap() as usize;
    let len = num(&f["pvs"][0]["dev_size"]) as usize;
    let pv = sparse_copy(dir.path(), "pv.img", &bytes[start..start + len]);
    let j: Value = serde_json::from_str(&inspect_ok([
        "partitions".as_ref(),
        pv.as_os_str(),
        "--json".as_ref(),
    ]))
    .unwrap();
    let pvs = j["lvm"]["pvs"].as_array().unwrap();
    assert_eq!(pvs.len(), 1);
    assert_eq!(pvs[0]["partition"], Value::Null);
    assert_eq!(pvs[0]["start"], 0);
    let ls = inspect_ok([
        "ls".as_ref(),
        pv.as_os_str(),
        "/".as_ref(),
        "--volume".as_ref(),
        "vgdata/lvxfs".as_ref(),
    ]);
    assert!(ls.lines().any(|l| l == "sparse"), "{ls}");
    let out = inspect([
        "ls".as_ref(),
        pv.as_os_str(),
        "/".as_ref(),
        "--volume".as_ref(),
        "vgdata/lvcat".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("pv1") && e.contains("not in this image"), "{e}");
}
