#!/usr/bin/env bash
# Builds testdata/lvm-gpt.img.zst, a whole-disk image of XFS in LVM2 logical volumes, and
# testdata/lvm-gpt.facts.json, what the LVM2 tools and xfsprogs said about it (the oracle of
# cli/tests/lvm.rs):
#
#   GPT (sfdisk), 160 MiB: partition 1 (70 MiB) and partition 2 (80 MiB), each a physical
#   volume (`pvcreate` on a loop device over the partition), both in volume group `vgdata`
#   (`vgcreate`, 4 MiB extents). Logical volumes are added without device-mapper (this
#   container has none): `vgcfgbackup`, the text file edited, `vgcfgrestore`:
#     vgdata/lvxfs     linear, 8 extents on pv0 from extent 0: XFS made by mkfs.xfs through
#                      `losetup -o OFFSET --sizelimit` and populated through a loop mount,
#                      with /sparse (4 KiB, a 1 GiB hole, 4 KiB) and /prealloc (1 MiB
#                      preallocated, 4 KiB written: unwritten extents)
#     vgdata/lvcat     linear in 2 segments: extents 0-3 on pv1 from extent 0, extents 4-7 on
#                      pv0 from extent 8: XFS made and populated in a scratch file, then its
#                      two halves written to those places (dd)
#     vgdata/lvstripe  striped, 2 stripes (pv0 extent 12, pv1 extent 4): the unsupported case
#
# facts.json holds `pvs` and `lvs --segments` reports (JSON, bytes), the partition each loop
# device was over, the `xfs_repair -n` output of each XFS LV's bytes (read back out of the
# disk image segment by segment), the sha256 and sizes of the files written, and the root
# listing. Mounting is done only here, on a fresh temporary directory, and always undone.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/loop-mount.sh

# lvm without udev, lvmetad or device-mapper, seeing loop devices
LVMCFG='devices{filter=["a|.*|"] obtain_device_list_from_udev=0 scan_lvs=0} global{use_lvmetad=0} activation{udev_sync=0 udev_rules=0}'
export LVM_SUPPRESS_FD_WARNINGS=1
lvm_() { "$@" --config "$LVMCFG"; }

pvloops=()
cleanup_lvm() {
    for l in "${pvloops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    cleanup
}
trap cleanup_lvm EXIT

SECTOR=512
MIB=$((1 << 20))
EXTENT=$((4 * MIB))
disk="$work/lvm-gpt.img"
truncate -s 160M "$disk"
sfdisk -q "$disk" <<'EOF'
label: gpt
start=2048, size=143360, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name="pv one"
start=145408, size=163840, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name="pv two"
EOF
p1_start=$((2048 * SECTOR)) p1_len=$((143360 * SECTOR))
p2_start=$((145408 * SECTOR)) p2_len=$((163840 * SECTOR))

l1=$(losetup -f --show -o "$p1_start" --sizelimit "$p1_len" "$disk"); pvloops+=("$l1")
l2=$(losetup -f --show -o "$p2_start" --sizelimit "$p2_len" "$disk"); pvloops+=("$l2")
lvm_ pvcreate -q -ff -y "$l1" "$l2"
lvm_ vgcreate -q -s 4m vgdata "$l1" "$l2"
lvm_ vgcfgbackup -q -f "$work/vg.txt" vgdata

# The LVs, inserted before the VG section's closing brace (the file's last `}`).
python3 - "$work/vg.txt" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
def lv(name, lvid, segs):
    out = [f"\t\t{name} {{", f'\t\t\tid = "{lvid}"', '\t\t\tstatus = ["READ", "WRITE", "VISIBLE"]',
           "\t\t\tflags = []", "\t\t\tcreation_time = 1796120000", '\t\t\tcreation_host = "fixture"',
           f"\t\t\tsegment_count = {len(segs)}", ""]
    for i, (start, count, stripes, stripe_size) in enumerate(segs, 1):
        out += [f"\t\t\tsegment{i} {{", f"\t\t\t\tstart_extent = {start}", f"\t\t\t\textent_count = {count}",
                '\t\t\t\ttype = "striped"', f"\t\t\t\tstripe_count = {len(stripes)}"]
        if stripe_size:
            out.append(f"\t\t\t\tstripe_size = {stripe_size}")
        out.append("\t\t\t\tstripes = [")
        out.append(",\n".join(f'\t\t\t\t\t"{pv}", {ext}' for pv, ext in stripes))
        out += ["\t\t\t\t]", "\t\t\t}"]
    out.append("\t\t}")
    return "\n".join(out)
lvs = "\n\n".join([
    lv("lvxfs", "Fixtur-e0Lv-xfs0-0000-0000-0000-000001", [(0, 8, [("pv0", 0)], None)]),
    lv("lvcat", "Fixtur-e0Lv-cat0-0000-0000-0000-000002", [(0, 4, [("pv1", 0)], None), (4, 4, [("pv0", 8)], None)]),
    lv("lvstripe", "Fixtur-e0Lv-strp-0000-0000-0000-000003", [(0, 4, [("pv0", 12), ("pv1", 4)], 128)]),
])
end = text.rindex("}")
text = text[:end] + "\tlogical_volumes {\n\n" + lvs + "\n\t}\n" + text[end:]
open(path, "w").write(text)
PY
lvm_ vgcfgrestore -q -f "$work/vg.txt" vgdata

# pv_start: where the PV's first extent is, in bytes from the start of the PV.
pe_start=$(lvm_ pvs --noheadings --units b --nosuffix -o pe_start "$l1" | tr -d ' ')
lv_at() { # PARTITION_START PV_EXTENT: byte of the disk holding that extent
    echo $(($1 + pe_start + $2 * EXTENT))
}

populate_tree() { # MOUNTPOINT TAG
    populate "$1" "$2" <<'PY'
import hashlib
root, tag = sys.argv[1], sys.argv[2]
os.makedirs(f"{root}/docs")
for i, n in enumerate([100, 5000, 70000]):
    write(f"{root}/docs/{tag}-{i}.txt", n, f"{tag}{i}")
write(f"{root}/hello", 13, tag)
os.symlink("docs", f"{root}/link")
PY
}

# --- lvxfs: mkfs and mount through losetup -o at the LV's offset -----------------------------
xfs_off=$(lv_at "$p1_start" 0)
mnt=$(mktemp -d)
loop=$(losetup -f --show -o "$xfs_off" --sizelimit $((8 * EXTENT)) "$disk")
mkfs.xfs -q -f -m uuid=4c564d32-0000-4000-8000-00000000a001 "$loop"
mount -t xfs "$loop" "$mnt"
populate_tree "$mnt" xfs
xfs_io -f -c 'pwrite -S 0x61 0 4k' -c 'pwrite -S 0x62 1g 4k' "$mnt/sparse" >/dev/null
xfs_io -f -c 'falloc 0 1m' -c 'pwrite -S 0x63 256k 4k' "$mnt/prealloc" >/dev/null
sync
lvxfs_files=$(cd "$mnt" && for f in hello docs/* sparse prealloc; do
    printf '%s %s %s %s\n' "$f" "$(stat -c %s "$f")" "$(stat -c %b "$f")" "$(sha256sum <"$f" | cut -d' ' -f1)"
done)
lvxfs_ls=$(cd "$mnt" && ls -A1 | tr '\n' ' ')
umount_img

# --- lvcat: made in a scratch file, written as two segments ----------------------------------
cat_img="$work/lvcat.img"
truncate -s $((8 * EXTENT)) "$cat_img"
mkfs.xfs -q -f -m uuid=4c564d32-0000-4000-8000-00000000a002 "$cat_img"
mount_img "$cat_img"
populate_tree "$mnt" cat
sync
lvcat_files=$(cd "$mnt" && for f in hello docs/*; do
    printf '%s %s %s %s\n' "$f" "$(stat -c %s "$f")" "$(stat -c %b "$f")" "$(sha256sum <"$f" | cut -d' ' -f1)"
done)
lvcat_ls=$(cd "$mnt" && ls -A1 | tr '\n' ' ')
umount_img
seg=$((4 * EXTENT))
dd if="$cat_img" of="$disk" bs=1M count=16 seek=$(($(lv_at "$p2_start" 0) / MIB)) conv=notrunc,sparse status=none
dd if="$cat_img" of="$disk" bs=1M skip=16 count=16 seek=$(($(lv_at "$p1_start" 8) / MIB)) conv=notrunc,sparse status=none

# --- the oracle: LV bytes read back out of the disk image, xfs_repair -n on them --------------
read_lv() { # OUT (PART_START PV_EXTENT EXTENTS)...
    local out=$1; shift
    : >"$out"
    while [ $# -gt 0 ]; do
        dd if="$disk" bs=1M skip=$(($(lv_at "$1" "$2") / MIB)) count=$(($3 * EXTENT / MIB)) status=none >>"$out"
        shift 3
    done
}
read_lv "$work/lvxfs.bytes" "$p1_start" 0 8
read_lv "$work/lvcat.bytes" "$p2_start" 0 4 "$p1_start" 8 4
check_clean "$work/lvxfs.bytes"; cp "$work/repair.out" "$work/lvxfs.repair"
check_clean "$work/lvcat.bytes"; cp "$work/repair.out" "$work/lvcat.repair"
cmp "$work/lvcat.bytes" "$cat_img"

pvs_json=$(lvm_ pvs --reportformat json --units b --nosuffix \
    -o pv_name,pv_uuid,vg_name,pv_size,dev_size,pe_start,pv_pe_count "$l1" "$l2")
vgs_json=$(lvm_ vgs --reportformat json --units b --nosuffix \
    -o vg_name,vg_uuid,vg_extent_size,vg_seqno,pv_count,lv_count vgdata)
lvs_json=$(lvm_ lvs --reportformat json --units b --nosuffix --segments \
    -o vg_name,lv_name,lv_uuid,lv_size,segtype,stripes,seg_start_pe,seg_size_pe,seg_pe_ranges vgdata)

python3 - "$work" "$l1" "$l2" "$p1_start" "$p2_start" <<PY
import json, sys
work, l1, l2, p1, p2 = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
def files(text):
    out = {}
    for line in text.strip().splitlines():
        name, size, blocks, sha = line.split()
        out[name] = {"size": int(size), "allocated": int(blocks) * 512, "sha256": sha}
    return out
facts = {
    "loop_partition": {l1: {"index": 1, "start": p1}, l2: {"index": 2, "start": p2}},
    "pvs": json.loads('''$pvs_json''')["report"][0]["pv"],
    "vgs": json.loads('''$vgs_json''')["report"][0]["vg"],
    "lvs": [row for rows in json.loads('''$lvs_json''')["report"][0].values() for row in rows],
    "volumes": {
        "vgdata/lvxfs": {"repair": open(f"{work}/lvxfs.repair").read(), "ls": "$lvxfs_ls".split(),
                         "files": files('''$lvxfs_files''')},
        "vgdata/lvcat": {"repair": open(f"{work}/lvcat.repair").read(), "ls": "$lvcat_ls".split(),
                         "files": files('''$lvcat_files''')},
    },
}
json.dump(facts, open("testdata/lvm-gpt.facts.json", "w"), indent=1)
PY
for l in "${pvloops[@]}"; do losetup -d "$l"; done
pvloops=()
zstd -q -19 -f "$disk" -o testdata/lvm-gpt.img.zst
echo "testdata/lvm-gpt.img.zst: $(stat -c %s testdata/lvm-gpt.img.zst) bytes"
