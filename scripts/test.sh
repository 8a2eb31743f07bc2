#!/usr/bin/env bash
# The project's one test command (README, CI). Installs what the tests need when missing,
# then runs formatting, lints and every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v mkfs.xfs >/dev/null 2>&1 || [ -x /usr/sbin/mkfs.xfs ] || need+=(xfsprogs)
command -v sfdisk >/dev/null 2>&1 || [ -x /usr/sbin/sfdisk ] || need+=(fdisk)
command -v zstd >/dev/null 2>&1 || need+=(zstd)
command -v pvcreate >/dev/null 2>&1 || [ -x /usr/sbin/pvcreate ] || [ -x /sbin/pvcreate ] || need+=(lvm2)
# The read-error tests (cli/tests/read_errors.rs): a FUSE file failing chosen reads, and
# /usr/bin/time for the memory bound.
/usr/bin/python3 -c "import fusepy" >/dev/null 2>&1 || need+=(python3-fusepy fuse3)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin:/sbin"

cargo fmt --all --check
# No module of a crate imports, directly or around a circle, one that imports it (under 1 s).
python3 scripts/import-cycles
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace "$@"
