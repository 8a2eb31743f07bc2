#!/usr/bin/env bash
# Builds testdata/readerr-v5.img.zst: a clean 64 MiB v5 filesystem (4 AGs) for the read-error
# tests (cli/tests/read_errors.rs), which serve it through scripts/eio-fuse.py with chosen
# unreadable ranges (an AGF, an inode cluster, a directory block) and truncate it.
# Four directories (the inode allocator puts each in another AG), each a block-format
# directory of 60 files, some with data. Sectors of 4 KiB, so that every AG header is a page
# of its own (the FUSE file fails whole pages). Run as root from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/loop-mount.sh
img="$work/readerr.img"
truncate -s 64M "$img"
mkfs.xfs -q -f -d agcount=4 -s size=4096 "$img"
mount_img "$img"
populate "$mnt" <<'PY'
root = sys.argv[1]
for d in range(4):
    p = f"{root}/dir{d}"
    os.mkdir(p)
    for i in range(60):
        write(f"{p}/file-with-a-longish-name-{i:03d}", 3000 if i % 5 == 0 else 0, f"{d}.{i}")
PY
umount_img
keep readerr-v5 "$img"

# testdata/empty-3g.img.zst: an empty 3 GiB filesystem, for the bound on the memory that
# opening a compressed image takes (`info` of it stays under 100 MiB of RSS).
big="$work/empty-3g.img"
truncate -s 3G "$big"
mkfs.xfs -q -f "$big"
check_clean "$big"
zstd -q -f "$big" -o testdata/empty-3g.img.zst
echo "testdata/empty-3g.img.zst: $(stat -c %s testdata/empty-3g.img.zst) bytes"
