#!/usr/bin/env bash
# Builds testdata/deleted-v5.img.zst and testdata/deleted-v5.manifest.json.zst: a v5
# filesystem (64 MiB sparse, 4 KiB blocks) populated by the kernel through a loop mount, then
# partly deleted, for `deleted` and `recover` (cli/tests/deleted.rs):
#
#   /block/   40 files (a block-format directory)
#   /leaf/    300 files (a leaf/node-format directory: more entries than one block holds)
#   /gone/    40 files in a directory that is then removed with all its files
#   /keep/    a few files that stay
#
# Files are 1 KiB to 150 KiB. Their content is pseudo-random and unique per 4 KiB block (a
# per-block header naming file and block, then a slice of a shared random pool at a random
# offset), so a block recovered from the wrong place cannot match, while the image still
# compresses well (zstd --long finds the pool). After `sync` the manifest records name,
# parent path, inode number (from stat), size and SHA-256 of every file; then every other
# file of /block and /leaf is deleted and /gone is removed with its files, and the
# filesystem is unmounted cleanly (the metadata is written in place with fsfreeze before the
# deletes). The final image must be clean for `xfs_repair -n`.
#
# Mounting is done only here, on a fresh temporary directory, and always undone.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/loop-mount.sh

# CHURN=1 builds testdata/deleted-v5-churn instead: first 9000 empty files are created and
# removed (the log wraps; the files below then reuse their inode numbers), and after the
# deletes a fragmented file (a BMBT: more extents than the inode holds) is written and
# deleted, and new files reuse freed blocks, so some deleted contents are overwritten.
name=deleted-v5${CHURN:+-churn}
img="$work/$name.img"
manifest="$work/$name.manifest.json"
truncate -s 64M "$img"
mkfs.xfs -q -f -m crc=1,uuid=0badf11e-0000-4000-8000-00000000de1e "$img"
mount_img "$img"
python3 - "$mnt" "$manifest" "${CHURN:-}" <<'PY'
import hashlib, json, os, random, subprocess, sys
root, manifest, churn = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
rng = random.Random(20261201)
POOL = bytes(rng.getrandbits(8) for _ in range(256 * 1024))
def content(name, size):
    out = bytearray()
    blk = 0
    while len(out) < size:
        head = f"{name}:{blk:05d}:{rng.getrandbits(64):016x}\n".encode()
        off = rng.randrange(0, len(POOL) - 4096)
        out += head + POOL[off:off + 4096 - len(head)]
        blk += 1
    return bytes(out[:size])
def size():
    # mostly small files, some up to 150 KiB
    return rng.choice([rng.randrange(1024, 8192), rng.randrange(1024, 40960),
                       rng.randrange(1024, 153601)])
if churn:
    # Metadata churn first: the log wraps (the evidence of the files below is then
    # written in later cycles, over older records), and the files reuse inode numbers
    # of deleted empty files.
    os.makedirs(f"{root}/churn")
    for r in range(45):
        for i in range(200):
            open(f"{root}/churn/c{r:03d}-{i:04d}", "wb").close()
        os.sync()
        for i in range(200):
            os.unlink(f"{root}/churn/c{r:03d}-{i:04d}")
        os.sync()
files = []
for d, count in (("block", 40), ("leaf", 300), ("gone", 40), ("keep", 5)):
    os.makedirs(f"{root}/{d}")
    for i in range(count):
        name = f"{d}-file-{i:04d}.bin"
        data = content(name, size())
        with open(f"{root}/{d}/{name}", "wb") as f:
            f.write(data)
        files.append({"dir": f"/{d}", "name": name, "size": len(data),
                      "sha256": hashlib.sha256(data).hexdigest()})
os.sync()
# Freezing writes the metadata in place (a sync only forces the log): the directory blocks
# are then on disk, and /gone's stays in free space after the rmdir.
subprocess.run(["fsfreeze", "-f", root], check=True)
subprocess.run(["fsfreeze", "-u", root], check=True)
for f in files:
    f["ino"] = os.stat(f"{root}{f['dir']}/{f['name']}").st_ino
    f["deleted"] = False
dirs = {d: os.stat(f"{root}/{d}").st_ino for d in ("block", "leaf", "gone", "keep")}
for d in ("block", "leaf"):
    mine = [f for f in files if f["dir"] == f"/{d}"]
    for f in mine[::2]:
        os.unlink(f"{root}{f['dir']}/{f['name']}")
        f["deleted"] = True
for f in files:
    if f["dir"] == "/gone":
        os.unlink(f"{root}/gone/{f['name']}")
        f["deleted"] = True
os.rmdir(f"{root}/gone")
os.sync()
if churn:
    # A file of 40 one-block extents (btree format), interleaved with a filler file.
    os.makedirs(f"{root}/frag")
    name = "frag-file.bin"
    data = content(name, 40 * 4096)
    with open(f"{root}/frag/{name}", "wb") as a, open(f"{root}/frag/filler", "wb") as b:
        for i in range(40):
            a.write(data[i * 4096:(i + 1) * 4096]); a.flush(); os.fsync(a.fileno())
            b.write(content("filler", 4096)); b.flush(); os.fsync(b.fileno())
    os.sync()
    files.append({"dir": "/frag", "name": name, "size": len(data),
                  "sha256": hashlib.sha256(data).hexdigest(),
                  "ino": os.stat(f"{root}/frag/{name}").st_ino, "deleted": True})
    os.unlink(f"{root}/frag/{name}")
    os.sync()
    # New data reuses freed blocks.
    os.makedirs(f"{root}/new")
    for i in range(120):
        with open(f"{root}/new/new-{i:04d}.bin", "wb") as f:
            f.write(content(f"new-{i}", rng.randrange(1024, 153601)))
    os.sync()
with open(manifest, "w") as m:
    json.dump({"dirs": dirs, "files": files}, m, indent=1)
PY
umount_img
check_clean "$img"
zstd -q -19 --long=27 -f "$img" -o "testdata/$name.img.zst"
zstd -q -19 -f "$manifest" -o "testdata/$name.manifest.json.zst"
echo "testdata/$name.img.zst: $(stat -c %s "testdata/$name.img.zst") bytes"
