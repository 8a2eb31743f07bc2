#!/usr/bin/env bash
# Builds the structure fixtures in testdata/ with their manifests:
#
#   fixture-v5.img.zst      v5 (finobt, rmapbt, reflink), 4 KiB blocks, made by mkfs.xfs -p:
#                           shortform/block/leaf/node directories, files of assorted sizes,
#                           short symlinks, fifo, device nodes, setuid file
#   fixture-v4.img.zst      v4 (crc=0), 1 KiB blocks, 256-byte inodes, ftype=0, made by
#                           mkfs.xfs -p: the same tree plus a remote (long) symlink
#   fixture-v5-live.img.zst v5 (rmapbt, reflink) populated by the kernel through a loop mount
#                           (formats mkfs -p cannot make): xattrs in every format (shortform,
#                           leaf, node, remote values, trusted/security namespaces), reflinked
#                           files, hard links, a sparse file with hundreds of extents (btree
#                           fork), unwritten extents, a fragmented directory, remote symlinks
#
# Each NAME.img.zst has NAME.manifest.json.zst: what was put in (proto images) or what the kernel
# showed before unmounting (live image). Every image must pass `xfs_repair -n` clean.
# Mounting is done only here, on a fresh temporary directory, and always undone.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/loop-mount.sh

proto_image() {
    local name=$1 extra=$2; shift 2
    local img="$work/$name.img"
    python3 scripts/fixture-tree.py proto "$work/src-$name" "$work/$name.manifest.json" $extra >"$work/$name.proto"
    zstd -q -19 -f "$work/$name.manifest.json" -o "testdata/$name.manifest.json.zst"
    truncate -s 64M "$img"
    mkfs.xfs -q -f -p "$work/$name.proto" "$@" "$img"
    keep "$name" "$img"
}

proto_image fixture-v5 "" -m crc=1,finobt=1,rmapbt=1,reflink=1,uuid=11111111-2222-4333-8444-555555555555
proto_image fixture-v4 --long-symlinks -m crc=0,uuid=66666666-7777-4888-9999-aaaaaaaaaaaa -b size=1024 -i size=256 -n ftype=0

# The live image: mkfs, then let the kernel write what mkfs -p cannot.
img="$work/fixture-v5-live.img"
truncate -s 64M "$img"
mkfs.xfs -q -f -m crc=1,rmapbt=1,reflink=1,uuid=bbbbbbbb-cccc-4ddd-8eee-ffffffffffff "$img"
mount_img "$img"
populate "$mnt" <<'PY'
root = sys.argv[1]
# xattrs in every format: leaf with 30 names, node with 600, remote values up to 64 KiB
xattrs(f"{root}/xattr", (30, 40), (600, 24, "a-much-longer-attribute-name"), True)
os.makedirs(f"{root}/xattr/dir-with-attrs")
os.setxattr(f"{root}/xattr/dir-with-attrs", "user.on-a-dir", b"yes")
# hard links
os.makedirs(f"{root}/hard")
write(f"{root}/hard/a", 5000, "hard")
os.link(f"{root}/hard/a", f"{root}/hard/b")
os.link(f"{root}/hard/a", f"{root}/hard/c")
# sparse file with many extents: every other 4 KiB block written
os.makedirs(f"{root}/frag")
with open(f"{root}/frag/sparse", "wb") as f:
    for i in range(300):
        f.seek(i * 8192); f.write(data(4096, f"s{i}"))
    f.truncate(300 * 8192 + 100)
# two files written interleaved: fragmented without holes
fa = open(f"{root}/frag/inter-a", "wb"); fb = open(f"{root}/frag/inter-b", "wb")
for i in range(64):
    fa.write(data(4096, f"a{i}")); fa.flush(); os.fsync(fa.fileno())
    fb.write(data(4096, f"b{i}")); fb.flush(); os.fsync(fb.fileno())
fa.close(); fb.close()
# a directory grown while files are written: fragmented directory blocks
os.makedirs(f"{root}/bigdir")
for i in range(6000):
    open(f"{root}/bigdir/entry-with-a-fairly-long-name-{i:06d}", "wb").close()
    if i % 50 == 0:
        write(f"{root}/frag/filler-{i:05d}", 8192, f"f{i}")
for i in range(0, 6000, 3):
    os.unlink(f"{root}/bigdir/entry-with-a-fairly-long-name-{i:06d}")
# symlinks: inline and remote
os.makedirs(f"{root}/links")
os.symlink("short", f"{root}/links/short")
os.symlink("/".join(f"c{i:04d}" for i in range(150)), f"{root}/links/remote")
os.symlink("x" * 1020, f"{root}/links/max")
# special files and timestamps
os.mkfifo(f"{root}/fifo")
os.mknod(f"{root}/null", 0o20666, os.makedev(1, 3))
write(f"{root}/old", 100, "old")
os.utime(f"{root}/old", (0, 0))
write(f"{root}/future", 100, "future")
os.utime(f"{root}/future", (4102444800, 4102444800))  # 2100-01-01
PY
# reflinks and unwritten extents need the kernel's tools
mkdir "$mnt/reflink"
python3 -c "
import sys
out=bytearray(); i=0
while len(out) < 200000: out += f'r:{i:07d}\n'.encode(); i += 1
open(sys.argv[1],'wb').write(bytes(out[:200000]))" "$mnt/reflink/orig"
cp --reflink=always "$mnt/reflink/orig" "$mnt/reflink/clone"
xfs_io -f -c "reflink $mnt/reflink/orig 0 65536 65536" "$mnt/reflink/partial" >/dev/null
xfs_io -f -c "falloc 0 1m" -c "pwrite -S 0x61 262144 4096" "$mnt/unwritten" >/dev/null
sync
python3 scripts/fixture-tree.py manifest "$mnt" >"$work/live.manifest.json"
zstd -q -19 -f "$work/live.manifest.json" -o testdata/fixture-v5-live.manifest.json.zst
umount_img
keep fixture-v5-live "$img"
