# Sourced (not run) by the fixture builders, make-fixtures.sh and make-log-fixtures.sh, from
# the repository root: xfsprogs' test-mode environment, a scratch directory $work, loop
# mounting of one image at a time on a fresh `mktemp -d` directory (mount_img / umount_img),
# and a trap that on exit unmounts and detaches whatever is still mounted and removes $work.
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
