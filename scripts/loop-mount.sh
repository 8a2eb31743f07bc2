# Sourced (not run) by the fixture builders, make-fixtures.sh, make-extent-fixtures.sh and
# make-log-fixtures.sh, from the repository root: xfsprogs' test-mode environment, a scratch
# directory $work, loop mounting of one image at a time on a fresh `mktemp -d` directory
# (mount_img / umount_img), a trap that on exit unmounts and detaches whatever is still
# mounted and removes $work, the `xfs_repair -n` gate every kept image passes (check_clean,
# keep) and `populate`, which runs a Python program over a mounted tree.
export PATH="$PATH:/usr/sbin:/sbin" TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1
work=$(mktemp -d)
mnt=""
loop=""
cleanup() {
    if [ -n "$mnt" ] && mountpoint -q "$mnt"; then umount "$mnt" || umount -l "$mnt" || true; fi
    if [ -n "$loop" ]; then losetup -d "$loop" 2>/dev/null || true; fi
    if [ -n "$mnt" ]; then rmdir "$mnt" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

mount_img() { # IMG [mount options]
    mnt=$(mktemp -d)
    loop=$(losetup -f --show "$1")
    mount -t xfs ${2:+-o "$2"} "$loop" "$mnt"
}

umount_img() {
    umount "$mnt"
    losetup -d "$loop"
    loop=""
    rmdir "$mnt"
    mnt=""
}

check_clean() { # IMG: exits unless `xfs_repair -n` is clean; its output stays in $work/repair.out
    if ! xfs_repair -n "$1" >"$work/repair.out" 2>&1; then
        cat "$work/repair.out" >&2
        echo "$1: xfs_repair -n is not clean" >&2
        exit 1
    fi
}

keep() { # NAME IMG: check_clean, then IMG compressed to testdata/NAME.img.zst
    local name=$1 img=$2
    check_clean "$img"
    zstd -q -19 -f "$img" -o "testdata/$name.img.zst"
    echo "testdata/$name.img.zst: $(stat -c %s "testdata/$name.img.zst") bytes"
}

# What the populating programs share: data(n, seed), n bytes of numbered lines (the same
# bytes every run), write(path, n, seed), and xattrs(dir, leaf, node, huge): files in a new
# directory with attributes in every format: shortform, leaf (leaf = (count, value size)),
# node (node = (count, value size, name prefix)), remote values (one of 64 KiB too if huge),
# the trusted and security namespaces.
populate_helpers='import os, sys
def data(n, seed):
    out = bytearray(); i = 0
    while len(out) < n:
        out += f"{seed}:{i:07d}\n".encode(); i += 1
    return bytes(out[:n])
def write(path, n, seed):
    with open(path, "wb") as f: f.write(data(n, seed))
def xattrs(d, leaf, node, huge):
    os.makedirs(d)
    write(f"{d}/sf", 10, "sf")
    for i in range(3): os.setxattr(f"{d}/sf", f"user.k{i}", data(8, f"sf{i}"))
    write(f"{d}/leaf", 10, "leaf")
    for i in range(leaf[0]): os.setxattr(f"{d}/leaf", f"user.attribute-{i:03d}", data(leaf[1], f"l{i}"))
    write(f"{d}/node", 10, "node")
    for i in range(node[0]): os.setxattr(f"{d}/node", f"user.{node[2]}-{i:05d}", data(node[1], f"n{i}"))
    write(f"{d}/remote", 10, "remote")
    os.setxattr(f"{d}/remote", "user.big", data(20000, "big"))
    if huge: os.setxattr(f"{d}/remote", "user.huge", data(65536, "huge"))
    os.setxattr(f"{d}/remote", "trusted.t", b"trusted value")
    os.setxattr(f"{d}/remote", "security.s", b"security value")
'

populate() { # ARGS...: runs the Python program on stdin after populate_helpers, with ARGS as sys.argv[1:]
    python3 -c "$populate_helpers$(cat)" "$@"
}
