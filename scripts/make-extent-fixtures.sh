#!/usr/bin/env bash
# Builds the extent-count fixtures in testdata/ (each with NAME.repair.txt, the `xfs_repair -n`
# output of the image, which must be clean):
#
#   fixture-v5-nrext64.img.zst  v5, 1 KiB blocks, `-i nrext64=1` (every inode has the large
#                               extent counter flag), populated by the kernel through a loop
#                               mount: sparse files of 8 / 300 / 5000 extents (the last a BMBT
#                               whose root in the inode is at level 2 over several level-1
#                               blocks), a file of many unwritten extents (fallocate + punched
#                               holes), xattrs in every format (one attr fork in btree format),
#                               directories of every format, short and long symlinks
#   fixture-v4-bmbt3.img.zst    v4 (crc=0), 512-byte blocks, made by mkfs.xfs -p; the kernel
#                               refuses v4 mounts and 6.1's protofile writes files contiguously,
#                               so one file's data fork is then rewritten in place by
#                               `fixture-tree.py bmbt-v4` into a 3-level BMBT (root in the inode
#                               at level 2, several level-1 blocks, many leaves) that maps the
#                               same blocks the file had, as 1-block extents with holes between
#
# Mounting is done only here, on a fresh temporary directory, and always undone.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/loop-mount.sh

keep_recorded() { # NAME IMG: keep, with the clean `xfs_repair -n` output as testdata/NAME.repair.txt
    keep "$1" "$2"
    cp "$work/repair.out" "testdata/$1.repair.txt"
}

# --- fixture-v5-nrext64: the kernel writes it ------------------------------------------------
img="$work/fixture-v5-nrext64.img"
truncate -s 64M "$img"
mkfs.xfs -q -f -b size=1024 -m crc=1,uuid=12345678-9abc-4def-8123-456789abcdef -i nrext64=1 "$img"
mount_img "$img"
populate "$mnt" <<'PY'
root = sys.argv[1]
BS = 1024
def sparse(path, extents):
    # every other block written: one extent per written block
    with open(path, "wb") as f:
        for i in range(extents):
            # a tag per block, zeros after it: the image compresses well
            tag = f"{os.path.basename(path)}:{i:06d}\n".encode()
            f.seek(2 * i * BS); f.write(tag + bytes(BS - len(tag)))
        f.truncate(2 * extents * BS)
os.makedirs(f"{root}/frag")
sparse(f"{root}/frag/sparse-8", 8)          # extents format
sparse(f"{root}/frag/sparse-300", 300)      # BMBT, root at level 1
sparse(f"{root}/frag/sparse-5000", 5000)    # BMBT, root at level 2, several level-1 blocks
write(f"{root}/contiguous", 300000, "contig")
# xattrs: shortform, leaf, node, remote; an attr fork in btree format (remote values put in
# the holes left by deleting every other small file, so each value is an extent of its own)
xattrs(f"{root}/xattr", (20, 30), (400, 20, "a-longer-attribute-name"), False)
sparse(f"{root}/xattr/btree", 40)
os.makedirs(f"{root}/xattr/holes")
for i in range(400):
    with open(f"{root}/xattr/holes/h{i:04d}", "wb") as h:
        h.write(data(2 * BS, f"h{i}")); h.flush(); os.fsync(h.fileno())
for i in range(0, 400, 2):
    os.unlink(f"{root}/xattr/holes/h{i:04d}")
os.sync()
for i in range(150):
    os.setxattr(f"{root}/xattr/btree", f"user.remote-{i:04d}", data(1500, f"r{i}"))
# directories of every format
os.makedirs(f"{root}/dirs")
for d, count in {"sf": 3, "block": 30, "leaf": 200, "node": 2000}.items():
    os.makedirs(f"{root}/dirs/{d}")
    for i in range(count):
        open(f"{root}/dirs/{d}/e{i:05d}" + "x" * (i % 23), "wb").close()
# symlinks, hard links, fifo
os.makedirs(f"{root}/links")
os.symlink("short", f"{root}/links/short")
os.symlink("/".join(f"c{i:04d}" for i in range(150)), f"{root}/links/long")
os.link(f"{root}/contiguous", f"{root}/links/hard")
os.mkfifo(f"{root}/fifo")
PY
# unwritten extents: preallocate, write a little, punch every other 4 KiB
xfs_io -f -c "falloc 0 2m" -c "pwrite -S 0x61 0 8k" "$mnt/frag/unwritten" >/dev/null
for ((off = 8192; off < 2097152; off += 8192)); do
    echo "fpunch $off 4k"
done | xfs_io "$mnt/frag/unwritten" >/dev/null
sync
umount_img
keep_recorded fixture-v5-nrext64 "$img"

# --- fixture-v4-bmbt3: mkfs -p, then one data fork rewritten as a 3-level BMBT --------------
img="$work/fixture-v4-bmbt3.img"
python3 scripts/fixture-tree.py proto "$work/src-v4" "$work/v4.manifest.json" --big 1348 >"$work/v4.proto"
truncate -s 32M "$img"
mkfs.xfs -q -f -p "$work/v4.proto" -m crc=0,uuid=abcdef01-2345-4678-89ab-cdef01234567 \
    -b size=512 -i size=256 -d agcount=2 "$img"
ino=$(xfs_db -r -c "path /big" -c inode "$img" 2>/dev/null | sed -n 's/^current inode number is //p')
python3 scripts/fixture-tree.py bmbt-v4 "$img" "$ino"
keep_recorded fixture-v4-bmbt3 "$img"
