#!/usr/bin/env bash
# Builds the log fixtures in testdata/: XFS images whose internal log is dirty (or clean).
#
#   log-v5-4k      v5, 4 KiB blocks: creates, renames, unlinks, xattrs, extends, then shutdown
#   log-v5-1k      v5, 1 KiB blocks, a small log (the workload wraps it), same workload
#   log-rmap-4k    v5 with rmapbt+reflink, 4 KiB blocks: the workload plus
#                  reflinks (CUI/CUD, BUI/BUD, RUI/RUD)
#   log-rmap-1k    v5 with rmapbt+reflink, 1 KiB blocks, workload plus reflinks
#   log-clean      a fresh mkfs: the log holds only mkfs's unmount record
#   log-forged     log-clean with the XLOG_UNMOUNT_TRANS (0x20) flag of the unmount record's
#                  op header cleared: head != tail without ever mounting
#   log-efi-4k     v5, 4 KiB blocks: two files of 3000 one-block extents each, then a truncate
#                  of one of them racing an fsync loop and a shutdown without log flush, so
#                  that the log ends with extent-free intents (EFI) without their done items
#   log-efi-rmap-4k  the same with rmapbt+reflink (EFIs and RUIs without done items)
#
# For every fixture NAME this writes testdata/NAME.img.zst (64 MiB sparse image), and next to
# it NAME.logprint-t.txt (`xfs_logprint -t` of the image as it is) and NAME.repair.txt
# (`xfs_repair -n` of a copy whose log the kernel replayed by mounting and unmounting it; for
# log-forged, of the image itself, which the kernel would refuse to replay), and for the
# replayed fixtures NAME.find.txt: every path of the mounted copy with its inode number and
# size (`find -printf '/%P %i %s'`, sorted), what `--replay-log` must show.
#
# `make-log-fixtures.sh --only NAME...` builds only the named fixtures (the others are left
# as they are: the intent fixtures were added this way without remaking the older ones).
#
# `make-log-fixtures.sh --listings` only re-records NAME.find.txt from the existing
# testdata/NAME.img.zst (mounting a copy), leaving the images as they are.
#
# Mounting is done only on fresh `mktemp -d` directories and always undone (trap on exit).
# Needs root, loop devices, xfsprogs and zstd.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/loop-mount.sh

# The kernel replays the log of a copy; xfs_repair -n then reports on the result.
record() { # NAME IMG [replay]
    local name=$1 img=$2
    xfs_logprint -t "$img" >"testdata/$name.logprint-t.txt" 2>&1 || true
    cp --sparse=always "$img" "$work/replay.img"
    if [ "${3:-replay}" = replay ]; then
        mount_img "$work/replay.img"
        listing >"testdata/$name.find.txt"
        umount_img
    fi
    xfs_repair -n "$work/replay.img" >"testdata/$name.repair.txt" 2>&1 || true
    case $name in log-efi-*) freesp "$work/replay.img" >"testdata/$name.freesp.txt" ;; esac
    rm -f "$work/replay.img"
    zstd -q -19 -f "$img" -o "testdata/$name.img.zst"
    echo "testdata/$name.img.zst: $(stat -c %s "testdata/$name.img.zst") bytes"
}

# The free space of a (replayed) image, which xfs_repair -n does not compare with the owners
# of the blocks (a leaked block goes unnoticed): per AG the AGF counters and the records of
# the free-space btrees, and with rmapbt the reverse mappings.
freesp() { # IMG
    local agcount ag tree root
    agcount=$(xfs_db -r -c 'sb 0' -c 'print agcount' "$1" | awk '{print $3}')
    for ((ag = 0; ag < agcount; ag++)); do
        xfs_db -r -c "agf $ag" -c 'print freeblks longest' "$1" | sed "s/^/ag $ag /"
        for tree in bno cnt rmap; do
            root=$(xfs_db -r -c "agf $ag" -c "print ${tree}root" "$1" 2>/dev/null | awk '{print $3}')
            [ -n "$root" ] || continue
            xfs_db -r -c "agf $ag" -c "addr ${tree}root" -c btdump "$1" |
                grep -E '^[0-9]+:\[' | sed "s/^/ag $ag $tree /"
        done
    done
}

listing() { # of the mounted $mnt
    (cd "$mnt" && find . -mindepth 1 -printf '/%P %i %s\n' | LC_ALL=C sort)
}

if [ "${1:-}" = --listings ]; then
    for name in log-v5-4k log-v5-1k log-rmap-4k log-rmap-1k; do
        zstd -q -d -f "testdata/$name.img.zst" -o "$work/replay.img"
        mount_img "$work/replay.img"
        listing >"testdata/$name.find.txt"
        umount_img
        rm -f "$work/replay.img"
    done
    exit 0
fi

only=()
if [ "${1:-}" = --only ]; then
    shift
    only=("$@")
fi

workload() { # ROOT REFLINK(0|1)
    python3 - "$1" <<'PY'
import os, sys
root = sys.argv[1]
os.makedirs(f"{root}/d/sub")
for i in range(200):
    with open(f"{root}/d/f{i:04d}", "wb") as f:
        f.write(b"x" * (i * 37 % 3000))
for i in range(0, 200, 4):
    os.rename(f"{root}/d/f{i:04d}", f"{root}/d/sub/r{i:04d}")
for i in range(1, 200, 5):
    if os.path.exists(f"{root}/d/f{i:04d}"):
        os.unlink(f"{root}/d/f{i:04d}")
for i in range(2, 200, 7):
    if os.path.exists(f"{root}/d/f{i:04d}"):
        os.setxattr(f"{root}/d/f{i:04d}", "user.tag", b"v" * (i % 90 + 1))
os.setxattr(f"{root}/d/f0003", "user.big", b"B" * 3000)
with open(f"{root}/grow", "wb") as f:
    for i in range(64):
        f.write(b"g" * 8192)
        f.flush()
        os.fsync(f.fileno())
os.truncate(f"{root}/grow", 100000)
for i in range(40):
    os.symlink("t" * (i * 7 + 1), f"{root}/d/l{i:03d}")
os.sync()
PY
    xfs_io -f -c "falloc 0 256k" -c "pwrite -S 0x61 65536 4096" "$1/prealloc" >/dev/null
    if [ "$2" = 1 ]; then
        cp --reflink=always "$1/grow" "$1/clone"
        xfs_io -f -c "reflink $1/grow 0 0 65536" "$1/partial" >/dev/null
        xfs_io -c "pwrite -S 0x62 4096 4096" -c fsync "$1/clone" >/dev/null
        rm -f "$1/partial"
    fi
    if [ "${3:-0}" = 1 ]; then
        # churn: many small synchronous transactions, enough to wrap a small log
        python3 -c "
import os, sys
for i in range(2500):
    p = f'{sys.argv[1]}/churn{i % 7}'
    with open(p, 'wb') as f:
        f.write(b'c' * 100)
        os.fsync(f.fileno())
    if i % 3 == 0: os.unlink(p)
" "$1"
    fi
    # a last burst that is only in the log when the filesystem goes down
    python3 -c "
import os, sys
for i in range(30): open(f'{sys.argv[1]}/late{i:02d}', 'wb').write(b'late')
for i in range(0, 30, 2): os.unlink(f'{sys.argv[1]}/late{i:02d}')
" "$1"
}

dirty() { # NAME REFLINK MOUNTOPTS MKFS-ARGS...
    local name=$1 reflink=$2 opts=$3; shift 3
    local img="$work/$name.img"
    truncate -s 64M "$img"
    mkfs.xfs -q -f "$@" "$img"
    mount_img "$img" "$opts"
    workload "$mnt" "$reflink" "${CHURN:-0}"
    xfs_io -x -c 'shutdown -f' "$mnt"
    umount_img
    record "$name" "$img"
}

# Extent-free intents without done items: the truncate of a file of 3000 one-block extents
# frees two extents per transaction roll (EFI logged in one transaction, EFD in the next); an
# fsync loop on another file forces the log (a checkpoint) again and again, and the shutdown
# does not flush the log, so the last checkpoint written may hold an EFI whose EFD never
# reached the log. The timing decides, so this retries (with other delays) until
# `xfs_logprint -t` shows an EFI without EFD.
intent_workload() { # ROOT DELAY
    python3 - "$1" "$2" <<'PY'
import fcntl, mmap, os, sys, threading, time
root, delay = sys.argv[1], float(sys.argv[2])
fds = [os.open(f"{root}/big{i}", os.O_RDWR | os.O_CREAT | os.O_DIRECT, 0o644) for i in range(2)]
buf = mmap.mmap(-1, 4096)
buf.write(b"z" * 4096)
for b in range(3000):  # interleaved: every other block of each file
    for fd in fds:
        os.pwritev(fd, [buf], b * 4096)
for fd in fds:
    os.fsync(fd)
os.sync()
stop = False
def syncer():
    fd = os.open(f"{root}/tick", os.O_RDWR | os.O_CREAT, 0o644)
    i = 0
    while not stop:
        try:
            os.pwrite(fd, b"t", i % 4096)
            os.fsync(fd)
        except OSError:
            return
        i += 1
def truncer():
    try:
        os.ftruncate(fds[0], 0)
    except OSError:
        pass
s = threading.Thread(target=syncer)
t = threading.Thread(target=truncer)
s.start()
t.start()
time.sleep(delay)
XFS_IOC_GOINGDOWN = 0x8004587D
XFS_FSOP_GOING_FLAGS_NOLOGFLUSH = 2
fcntl.ioctl(fds[1], XFS_IOC_GOINGDOWN, XFS_FSOP_GOING_FLAGS_NOLOGFLUSH.to_bytes(4, "little"))
stop = True
s.join()
t.join()
PY
}

unfinished_efis() { # IMG: number of EFIs without EFD in xfs_logprint -t
    xfs_logprint -t "$1" 2>/dev/null | python3 -c '
import re, sys
efi, efd = set(), set()
for l in sys.stdin:
    m = re.search(r"EF([ID]):.*id: ?(0x[0-9a-f]+)", l)
    if m:
        (efi if m.group(1) == "I" else efd).add(m.group(2))
print(len(efi - efd))'
}

intents() { # NAME MKFS-ARGS...
    local name=$1; shift
    local img="$work/$name.img" try delay
    for try in $(seq 1 40); do
        delay=$(awk -v t="$try" 'BEGIN { printf "%.3f", 0.03 + (t % 8) * 0.01 }')
        rm -f "$img"
        truncate -s 64M "$img"
        mkfs.xfs -q -f "$@" "$img"
        mount_img "$img"
        intent_workload "$mnt" "$delay"
        umount_img
        if [ "$(unfinished_efis "$img")" -gt 0 ]; then
            echo "$name: try $try (delay $delay): $(unfinished_efis "$img") EFIs without EFD"
            record "$name" "$img"
            return 0
        fi
    done
    echo "$name: no EFI without EFD after $try tries" >&2
    return 1
}

if [ ${#only[@]} -gt 0 ]; then
    for n in "${only[@]}"; do
        case $n in
            log-efi-4k) intents log-efi-4k -m crc=1,uuid=10000000-0000-4000-8000-000000000006 -b size=4096 ;;
            log-efi-rmap-4k) intents log-efi-rmap-4k -m crc=1,rmapbt=1,reflink=1,uuid=10000000-0000-4000-8000-000000000007 -b size=4096 ;;
            *) echo "--only: $n is not one of log-efi-4k log-efi-rmap-4k (the others are made together)" >&2; exit 2 ;;
        esac
    done
    exit 0
fi

dirty log-v5-4k 0 "" -m crc=1,uuid=10000000-0000-4000-8000-000000000001 -b size=4096
CHURN=1 dirty log-v5-1k 0 "" -m crc=1,uuid=10000000-0000-4000-8000-000000000002 -b size=1024 -l size=3600b
dirty log-rmap-4k 1 "" -m crc=1,rmapbt=1,reflink=1,uuid=10000000-0000-4000-8000-000000000003 -b size=4096
dirty log-rmap-1k 1 "" -m crc=1,rmapbt=1,reflink=1,uuid=10000000-0000-4000-8000-000000000004 -b size=1024

# A clean log straight from mkfs, and the same with the unmount flag forged away.
img="$work/log-clean.img"
truncate -s 64M "$img"
mkfs.xfs -q -f -m crc=1,uuid=10000000-0000-4000-8000-000000000005 "$img"
cp --sparse=always "$img" "$work/log-forged.img"
record log-clean "$img"
img="$work/log-forged.img"
ls=$(xfs_db -r -c 'sb 0' -c 'print logstart' "$img" | awk '{print $3}')
agblklog=$(xfs_db -r -c 'sb 0' -c 'print agblklog' "$img" | awk '{print $3}')
agblocks=$(xfs_db -r -c 'sb 0' -c 'print agblocks' "$img" | awk '{print $3}')
blocksize=$(xfs_db -r -c 'sb 0' -c 'print blocksize' "$img" | awk '{print $3}')
off=$(( ((ls >> agblklog) * agblocks + (ls & ((1 << agblklog) - 1))) * blocksize ))
# log basic block 0 is the record header, block 1 starts with the op header; oh_flags is byte 9
printf '\000' | dd of="$img" bs=1 seek=$(( off + 512 + 9 )) conv=notrunc status=none
record log-forged "$img" noreplay

intents log-efi-4k -m crc=1,uuid=10000000-0000-4000-8000-000000000006 -b size=4096
intents log-efi-rmap-4k -m crc=1,rmapbt=1,reflink=1,uuid=10000000-0000-4000-8000-000000000007 -b size=4096
