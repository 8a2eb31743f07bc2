#!/usr/bin/env bash
# recipes.sh - build corrupted XFS images from scratch and record `xfs_repair -n` on each.
#
# usage: scripts/recipes.sh OUTDIR [NAME_GLOB...]
#        scripts/recipes.sh --list
#
# For every recipe and variant (v4: -m crc=0; v5: mkfs defaults; v5rmap: -m rmapbt=1) it
# writes OUTDIR/<recipe>.<variant>/ with
#   image.img      the corrupted image (sparse, 64 MiB, 4 AGs, fixed uuid)
#   repair.out     stdout+stderr of `xfs_repair -n -o phase2_threads=1` (AG order)
#   rc             its exit status
#   corrupt.log    what the corruption step ran
# Only phase 1-2 findings are provoked here (superblocks, AG headers, AGFL, per-AG btree
# blocks, counters); inode and directory recipes come later.
set -u
export LC_ALL=C TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1

UUID=22222222-3333-4444-5555-666666666666

# name|variants|xfs_db commands separated by ';;' (run with -x) or @function
RECIPES=(
	"clean|v4 v5 v5rmap v5reflink|"
	"sb0_bad_magic|v4 v5|sb 0;;write -d magicnum 0"
	"sb0_bad_blocklog|v4 v5|sb 0;;write -d blocklog 13"
	"sb0_bad_agcount|v4 v5|sb 0;;write -d agcount 5"
	"sb0_bad_crc|v5|sb 0;;write -c fname \"crcbad\""
	"sb0_features2|v4|sb 0;;write -d bad_features2 0x8a"
	"sb0_icount|v4 v5|sb 0;;write -d icount 999"
	"sb0_ifree|v4 v5|sb 0;;write -d ifree 77"
	"sb0_fdblocks|v4 v5|sb 0;;write -d fdblocks 1234"
	"sb1_bad_flags|v4 v5|sb 1;;write -d flags 1"
	"sb1_quota_ino|v4 v5|sb 1;;write -d uquotino 131"
	"sb1_qflags|v4 v5|sb 1;;write -d qflags 1"
	"sb2_dblocks|v4 v5|sb 2;;write -d dblocks 20000"
	"sb1_bad_crc|v5|sb 1;;write -c fname \"crcbad\""
	"sb3_garbage|v4 v5|@sb3_garbage"
	"agf_freeblks|v4 v5|@agf_freeblks"
	"agf_freeblks_low|v4 v5|agf 2;;write -d freeblks 123"
	"agf_longest|v4 v5|agf 0;;write -d longest 100"
	"agf_btreeblks|v4 v5|agf 0;;write -d btreeblks 7"
	"agf_bad_magic|v4 v5|agf 1;;write -d magicnum 0x12345678"
	"agf_bad_version|v4 v5|agf 2;;write -d versionnum 7"
	"agf_bad_seqno|v4 v5|agf 3;;write -d seqno 9"
	"agf_bad_length|v4 v5|agf 1;;write -d length 4000"
	"agf_bad_crc|v5|agf 1;;write -c longest 4000"
	"agf_bno_level|v4 v5|agf 0;;write -d bnolevel 0"
	"agf_bno_root|v4 v5|agf 0;;write -d bnoroot 5000"
	"agf_cnt_root|v4 v5|agf 2;;write -d cntroot 0"
	"agf_flcount|v4 v5|agf 0;;write -d flcount 3"
	"agf_flfirst|v4 v5|agf 1;;write -d flfirst 200"
	"agfl_bad_entry|v4 v5|@agfl_bad_entry"
	"agi_count|v4 v5|agi 1;;write -d count 128"
	"agi_freecount|v4 v5|agi 1;;write -d freecount 3"
	"agi_bad_magic|v4 v5|agi 1;;write -d magicnum 0x41414141"
	"agi_bad_seqno|v4 v5|agi 2;;write -d seqno 0"
	"agi_bad_crc|v5|agi 1;;write -c dirino 12345"
	"agi_unlinked|v4 v5|agi 0;;write -d unlinked[5] 133"
	"agi_root|v4 v5|agi 3;;write -d root 9999"
	"agi_iblocks|v5|agi 0;;write -d ino_blocks 5"
	"bnobt_bad_magic|v4 v5|agf 3;;addr bnoroot;;write -d magic 0x41424344"
	"bnobt_zero_len|v4 v5|agf 0;;addr bnoroot;;write -d recs[1].blockcount 0"
	"bnobt_bad_crc|v5|agf 3;;addr bnoroot;;write -c lsn 5"
	"bnobt_bad_level|v4 v5|agf 1;;addr bnoroot;;write -d level 1"
	"cntbt_bad_magic|v4 v5|agf 0;;addr cntroot;;write -d magic 0x41424344"
	"cntbt_short_rec|v4 v5|@cntbt_short_rec"
	"cntbt_numrecs|v4 v5|agf 2;;addr cntroot;;write -d numrecs 600"
	"inobt_bad_magic|v4 v5|agi 0;;addr root;;write -d magic 0x41424344"
	"inobt_bad_crc|v5|agi 1;;addr root;;write -c lsn 5"
	"inobt_freecount|v4 v5|agi 0;;addr root;;write -d recs[1].freecount 5"
	"inobt_root_free|v4 v5|@inobt_root_free"
	"inobt_misaligned|v4 v5|agi 2;;addr root;;write -d recs[1].startino 130"
	"finobt_freecount|v5|agi 0;;addr free_root;;write -d recs[1].freecount 9"
	"finobt_bad_magic|v5|agi 2;;addr free_root;;write -d magic 0x41424344"
	"rmapbt_bad_magic|v5rmap|agf 0;;addr rmaproot;;write -d magic 0x41424344"
	"rmapbt_blocks|v5rmap|agf 1;;write -d rmapblocks 3"
	"refcbt_bad_magic|v5|agf 1;;addr refcntroot;;write -d magic 0x41424344"
	"refcbt_blocks|v5|agf 2;;write -d refcntblocks 4"
)

fld() { xfs_db -r -c "$1" -c "print $2" "$IMG" | awk '{print $3}'; }

r_sb3_garbage() {
	echo "+ byte 0x5a at offset 500 of sb 3"
	printf '\x5a' | dd of="$IMG" bs=1 seek=$((3 * 4096 * 4096 + 500)) conv=notrunc status=none
	# rewrite a field with its value so xfs_db recomputes the v5 CRC
	db "sb 3" "write fname \"recipes\""
}
r_agf_freeblks() { db "agf 2" "write -d freeblks $(( $(fld 'agf 2' freeblks) + 100 ))"; }
r_agfl_bad_entry() { db "agfl 0" "write -d bno[$(fld 'agf 0' flfirst)] 9999"; }
r_cntbt_short_rec() {
	local n c
	n=$(xfs_db -r -c 'agf 3' -c 'addr cntroot' -c 'print numrecs' "$IMG" | awk '{print $3}')
	c=$(xfs_db -r -c 'agf 3' -c 'addr cntroot' -c "print recs[$n].blockcount" "$IMG" | awk '{print $3}')
	db "agf 3" "addr cntroot" "write -d recs[$n].blockcount $((c - 1))"
}
r_inobt_root_free() {
	db "agi 0" "addr root" "write -d recs[1].free -- -1023" "write -d recs[1].freecount 55"
	if [ "$V" != v4 ]; then
		db "agi 0" "addr free_root" "write -d recs[1].free -- -1023" "write -d recs[1].freecount 55"
	fi
}

db() {
	local a=() c
	for c in "$@"; do a+=(-c "$c"); done
	echo "+ xfs_db -x $*"
	xfs_db -x "${a[@]}" "$IMG" 2>&1
}

mkbase() {
	local img=$1 v=$2 opt dir
	case $v in
	v4) opt="-m crc=0,uuid=$UUID" ;;
	v5) opt="-m uuid=$UUID" ;;
	v5rmap) opt="-m rmapbt=1,uuid=$UUID" ;;
	v5reflink) opt="-m rmapbt=1,reflink=1,uuid=$UUID" ;;
	esac
	dir=$(dirname "$img")
	{
		echo "recipes"; echo "0 0"; echo "d--755 0 0"
		echo "dir d--755 0 0"
		for i in 1 2 3 4 5 6; do echo " f$i ---644 0 0 $dir/data"; done
		echo " \$"
		echo "big ---644 0 0 $dir/data64"
		echo "empty ---644 0 0 $dir/empty"
		echo "\$"
	} > "$dir/proto"
	head -c 8192 /dev/zero | tr '\0' 'x' > "$dir/data"
	head -c 65536 /dev/zero | tr '\0' 'y' > "$dir/data64"
	: > "$dir/empty"
	rm -f "$img"; truncate -s 64M "$img"
	# shellcheck disable=SC2086
	mkfs.xfs -q -f $opt -p "$dir/proto" "$img" 2>&1 | grep -v 'V4 filesystems are deprecated'
	return 0
}

if [ "${1:-}" = --list ]; then
	for r in "${RECIPES[@]}"; do
		IFS='|' read -r name vars _ <<<"$r"
		for v in $vars; do echo "$name.$v"; done
	done
	exit 0
fi
[ $# -ge 1 ] || { sed -n '2,15p' "$0"; exit 2; }
OUT=$(realpath -m "$1"); shift
mkdir -p "$OUT/.base"
for v in v4 v5 v5rmap v5reflink; do mkbase "$OUT/.base/$v.img" "$v"; done

match() {
	local n=$1 g
	[ $# -eq 1 ] && return 0
	shift
	for g in "$@"; do
		# shellcheck disable=SC2053
		[[ $n == $g ]] && return 0
	done
	return 1
}

for r in "${RECIPES[@]}"; do
	IFS='|' read -r name vars cmds <<<"$r"
	for V in $vars; do
		match "$name.$V" "$@" || match "$name" "$@" || continue
		d="$OUT/$name.$V"; mkdir -p "$d"; IMG="$d/image.img"
		cp --sparse=always "$OUT/.base/$V.img" "$IMG"
		{
			if [ "${cmds:0:1}" = @ ]; then
				"r_${cmds:1}"
			elif [ -n "$cmds" ]; then
				IFS=$'\n' read -r -d '' -a parts < <(printf '%s' "${cmds//;;/$'\n'}"; printf '\0')
				db "${parts[@]}"
			fi
		} > "$d/corrupt.log" 2>&1
		xfs_repair -n -o phase2_threads=1 "$IMG" > "$d/repair.out" 2>&1
		echo $? > "$d/rc"
	done
done
