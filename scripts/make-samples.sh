#!/usr/bin/env bash
# Builds the sample images shipped in testdata/ (no mount needed):
#   sample-v5.img.zst  64 MiB, v5 with finobt, rmapbt, reflink, a small tree of files
#   sample-v4.img.zst  64 MiB, v4 (crc=0), 1 KiB blocks, ftype=0, same tree
# Each image must pass `xfs_repair -n` clean before it is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin" TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/src"
printf 'hello, xfs\n' > "$work/src/hello"
seq 1 20000 > "$work/src/numbers"
head -c 300000 /dev/zero | tr '\0' 'x' > "$work/src/xs"
: > "$work/src/empty"
cat > "$work/proto" <<PROTO
/dev/null
0 0
d--755 0 0
hello.txt ---644 1000 1000 $work/src/hello
empty ---600 0 0 $work/src/empty
docs d--755 1000 1000
numbers.txt ---644 1000 1000 $work/src/numbers
xs.bin ---640 1000 100 $work/src/xs
\$
short-link l--777 0 0 hello.txt
fifo p--644 0 0
null c--666 0 0 1 3
loop0 b--660 0 6 7 0
\$
PROTO

make() {
    local name=$1; shift
    local img="$work/$name.img"
    truncate -s 64M "$img"
    mkfs.xfs -q -f -p "$work/proto" "$@" "$img"
    if ! xfs_repair -n "$img" >"$work/repair.out" 2>&1; then
        cat "$work/repair.out" >&2
        echo "$name: xfs_repair -n is not clean" >&2
        exit 1
    fi
    zstd -q -19 -f "$img" -o "testdata/$name.img.zst"
    echo "testdata/$name.img.zst: $(stat -c %s "testdata/$name.img.zst") bytes"
}

make sample-v5 -m crc=1,finobt=1,rmapbt=1,reflink=1,uuid=5a3e9d1c-8f0b-4c2e-9a51-2d4f6b7c8e90 -d agcount=4
make sample-v4 -m crc=0,uuid=0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9 -b size=1024 -n ftype=0 -d agcount=4
