#!/usr/bin/env bash
# recipes.sh - build corrupted XFS images from scratch and record `xfs_repair -n` on each.
#
# usage: scripts/recipes.sh OUTDIR [NAME_GLOB...]
#        scripts/recipes.sh --list
#
# For every recipe and variant (v4: -m crc=0; v5: mkfs defaults; v5rmap: -m rmapbt=1;
# v4s/v5s: v4/v5 with leaf/node directories, attribute blocks, remote symlink) it
# writes OUTDIR/<recipe>.<variant>/ with
#   image.img      the corrupted image (sparse, 64 MiB, 4 AGs, fixed uuid)
#   repair.out     stdout+stderr of `xfs_repair -n -o phase2_threads=1` (AG order)
#   rc             its exit status
#   corrupt.log    what the corruption step ran
# Phase 1-2 recipes corrupt superblocks, AG headers, AGFL, per-AG btree blocks and counters;
# the later ones inodes, forks, directories, symlinks, attributes and link counts.
set -u
export LC_ALL=C TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1

UUID=22222222-3333-4444-5555-666666666666

# name|variants|xfs_db commands separated by ';;' (run with -x) or @function
RECIPES=(
	"clean|v4 v5 v5rmap v5reflink v4s v5s|"
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
	"sb_secondaries_outvote|v4 v5|sb 1;;write -d logblocks 1000;;sb 2;;write -d logblocks 1000;;sb 3;;write -d logblocks 1000"
	"sb_secondaries_bad|v4 v5|sb 1;;write -d magicnum 0;;sb 2;;write -d magicnum 0"
	"sb_primary_agblocks|v5|sb 0;;write -d agblocks 5000"
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
	# phases 3-7: inodes, forks, directories, symlinks, attributes, link counts
	"ino_nblocks|v4 v5 v5rmap|path /big;;write core.nblocks 5"
	"ino_nextents|v4 v5|path /big;;write core.nextents 3"
	"ino_bad_magic|v4 v5|path /empty;;write -d core.magic 0x1234"
	"ino_bad_crc|v5|path /empty;;write -c core.uid 77"
	"ino_bad_mode|v4 v5|path /empty;;write -d core.mode 0170644"
	"ino_negative_size|v4 v5|path /empty;;write -d core.size -- -1"
	"ino_fifo_size|v4 v5|path /fifo;;write -d core.size 100"
	"ino_bad_nsec|v4|path /empty;;write -d core.atime.nsec 2000000000"
	"ino_bad_nsec_bigtime|v5|path /empty;;write -d core.atime.nsec 2000000000"
	"ino_next_unlinked|v4 v5|path /empty;;write -d next_unlinked 140"
	"ino_bad_next_unlinked|v4 v5|path /empty;;write -d next_unlinked 4294967280"
	"ino_rt_flag|v4 v5|path /empty;;write -d core.realtime 1"
	"ino_bad_extsize|v4 v5|path /big;;write -d core.extsize 3"
	"ino_bad_forkoff|v4 v5|path /big;;write -d core.forkoff 60;;write -d core.aformat 1"
	"ino_bad_forkoff_dev|v4 v5|path /cdev;;write -d core.forkoff 5;;write -d core.aformat 1"
	"attr_sf_namelen0|v4 v5|path /big;;attr_set -v 10 foo;;write -d a.sfattr.list[0].namelen 0"
	"attr_sf_totsize|v4 v5|path /big;;attr_set -v 10 foo;;write -d a.sfattr.hdr.totsize 300"
	"ino_uuid_mismatch|v5|path /empty;;write -d v3.uuid 99999999-2222-3333-4444-555555555555"
	"ino_ino_mismatch|v5|path /empty;;write -d v3.inumber 999"
	"ino_reflink_on_dir|v5|path /dir;;write -d v3.reflink 1"
	"ino_bad_format|v4 v5|path /fifo;;write -d core.format 3"
	"ino_claims_free_block|v4 v5|@ino_claims_free_block"
	"ino_dup_extent|v4 v5|@ino_dup_extent"
	"ino_claims_metadata|v4 v5|@ino_claims_metadata"
	"ino_extent_beyond_fs|v4 v5|@ino_extent_beyond_fs"
	"ino_zero_len_extent|v4 v5|@ino_zero_len_extent"
	"symlink_zero_size|v4 v5|path /sym;;write -d core.size 0"
	"sfdir_bad_size|v4 v5|path /dir;;write -d core.size 70"
	"sfdir_entry_free_inode|v4 v5|@sfdir_entry_free_inode"
	"sfdir_entry_bad_inode|v4 v5|@sfdir_entry_bad_inode"
	"sfdir_dup_name|v4 v5|@sfdir_dup_name"
	"sfdir_ftype|v4 v5|@sfdir_ftype"
	"blkdir_entry_free_inode|v4 v5|@blkdir_entry_free_inode"
	"blkdir_bad_magic|v4|@blkdir_bad_magic"
	"dir_entry_to_file_self|v4 v5|@dir_entry_to_file_self"
	"disconnected_dir|v4 v5|@disconnected_dir"
	"nlink_file|v4 v5|path /big;;write core.nlinkv2 5"
	"nlink_dir|v4 v5|path /;;write core.nlinkv2 9"
	"nlink_zero_linked|v4 v5|path /empty;;write core.nlinkv2 0"
	# leaf/node directories, attribute blocks, remote symlinks (v4s/v5s bases)
	"leafdir_bad_magic|v4s v5s|@leafdir_bad_magic"
	"leafdir_bad_count|v4s v5s|path /ld;;dblock 8388608;;write -d lhdr.count 3"
	"leafdir_bad_stale|v4s v5s|path /ld;;dblock 8388608;;write -d lhdr.stale 5"
	"leafdir_entry_free_inode|v4s v5s|@leafdir_entry_free_inode"
	"leafdir_bad_bests|v4s v5s|path /ld;;dblock 8388608;;write -d lbests[1] 0x40"
	"nodedir_bad_magic|v4s v5s|@nodedir_bad_magic"
	"nodedir_bad_level|v4s v5s|path /nd;;dblock 8388608;;write -d nhdr.level 5"
	"nodedir_bad_count|v4s v5s|path /nd;;dblock 8388608;;write -d nhdr.count 9"
	"nodedir_hash_order|v4s v5s|path /nd;;dblock 8388608;;write -d nbtree[1].hashval 0x10"
	"nodedir_bad_freeindex|v4s v5s|@nodedir_bad_freeindex"
	"nodedir_freeindex_nvalid|v4s v5s|path /nd;;dblock 16777216;;write -d fhdr.nvalid 3"
	"attr_leaf_bad_magic|v4s v5s|@attr_leaf_bad_magic"
	"attr_leaf_bad_count|v4s v5s|path /af;;ablock 0;;write -d hdr.count 50"
	"attr_leaf_bad_usedbytes|v4s v5s|path /af;;ablock 0;;write -d hdr.usedbytes 100"
	"attr_leaf_bad_namelen|v4s v5s|path /af;;ablock 0;;write -d nvlist[0].namelen 0"
	"attr_leaf_bad_valuelen|v4s v5s|path /af;;ablock 0;;write -d nvlist[0].valuelen 3000"
	"attr_leaf_hash_order|v4s v5s|path /af;;ablock 0;;write -d entries[0].hashval 0xffffffff"
	"attr_node_bad_magic|v4s v5s|@attr_node_bad_magic"
	"attr_node_bad_level|v4s v5s|path /an;;ablock 0;;write -d hdr.level 7"
	"attr_node_bad_count|v4s v5s|path /an;;ablock 0;;write -d hdr.count 0"
	"attr_node_hash_order|v4s v5s|path /an;;ablock 0;;write -d btree[0].hashval 0xffffffff"
	"attr_remote_bad_magic|v5s|path /af;;ablock 1;;write -d hdr.magic 0x12345678"
	"attr_remote_bad_owner|v5s|path /af;;ablock 1;;write -d hdr.owner 129"
	"attr_remote_bad_bytes|v5s|path /af;;ablock 1;;write -d hdr.bytes 9000"
	"symlink_remote_bad_size|v4s|path /lsym;;write -d core.size 2000"
	"symlink_remote_short_size|v4s|path /lsym;;write -d core.size 600"
	# AGI unlinked lists, rmapbt and refcountbt records
	"unlinked_orphan|v4 v5|@unlinked_orphan"
	"unlinked_bad_chain|v4 v5|@unlinked_bad_chain"
	"rmap_bad_owner|v5rmap|@rmap_bad_owner"
	"rmap_overlap|v5rmap|agf 0;;addr rmaproot;;write -d recs[7].blockcount 10"
	"rmap_missing|v5rmap|agf 0;;addr rmaproot;;write -d numrecs 7"
	"refcount_extra_record|v5reflink|@refcount_extra_record"
	"refcount_missing|v5reflink|@ino_dup_extent"
	"refcount_bad_count|v5reflink|@refcount_bad_count"
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

U() { case $V in v4*) echo u ;; *) echo u3 ;; esac; }
ino() { xfs_db -r -c "path $1" -c "print core.version" "$IMG" >/dev/null 2>&1
	xfs_db -r -c "ls $(dirname "$1")" "$IMG" 2>/dev/null |
		awk -v n="$(basename "$1")" '$1 ~ /^[0-9]+$/ && $(NF-1) == n {print $2; exit}'; }
fsb() { xfs_db -r -c "path $1" -c "bmap" "$IMG" 2>/dev/null | sed -n 's/.*startblock \([0-9]*\) .*/\1/p' | head -1; }
sfidx() { xfs_db -r -c "path $1" -c print "$IMG" | sed -n "s/^$(U)\.sfdir[23]\.list\[\([0-9]*\)\]\.name = \"$2\"$/\1/p"; }
sfdir() { echo sfdir3; }
r_ino_claims_free_block() { db "path /big" "write -d $(U).bmx[0].startblock 200"; }
r_ino_dup_extent() { db "path /dir/f2" "write -d $(U).bmx[0].startblock $(fsb /dir/f1)"; }
r_ino_claims_metadata() { db "path /big" "write -d $(U).bmx[0].startblock 1" "write -d $(U).bmx[0].blockcount 1"; }
r_ino_extent_beyond_fs() { db "path /big" "write -d $(U).bmx[0].startblock $(( 7 << $(fld 'sb 0' agblklog) | 100 ))"; }
r_ino_zero_len_extent() { db "path /big" "write -d $(U).bmx[0].blockcount 0"; }
r_sfdir_entry_free_inode() { db "path /dir" "write -d $(U).$(sfdir).list[0].inumber.i4 $(( $(ino /dir) + 20 ))"; }
r_sfdir_entry_bad_inode() { db "path /dir" "write -d $(U).$(sfdir).list[0].inumber.i4 $(( $(ino /dir) - 128 + 3000 ))"; }
r_sfdir_dup_name() { db "path /dir" "write -d $(U).$(sfdir).list[1].name \"f1\""; }
r_sfdir_ftype() { db "path /" "write -d $(U).$(sfdir).list[$(sfidx / big)].filetype 2"; }
r_blkdir_entry_free_inode() { db "path /blk" "dblock 0" "write -d bu[2].inumber $(( $(ino /blk) + 41 ))"; }
r_blkdir_bad_magic() { db "path /blk" "dblock 0" "write -d bhdr.magic 0x12345678"; }
r_dir_entry_to_file_self() { db "path /" "write -d $(U).$(sfdir).list[$(sfidx / empty)].inumber.i4 $(ino /big)"; }
r_disconnected_dir() { db "path /" "write -d $(U).$(sfdir).list[$(sfidx / dir)].inumber.i4 $(ino /empty)" "write -d $(U).$(sfdir).list[$(sfidx / dir)].filetype 1"; }

# v4 headers have info.magic, v5 info.hdr.magic
H() { case $V in v4*) echo "" ;; *) echo "hdr." ;; esac; }
r_leafdir_bad_magic() { db "path /ld" "dblock 8388608" "write -d lhdr.info.$(H)magic 0x1234"; }
r_leafdir_entry_free_inode() { db "path /ld" "dblock 0" "write -d du[2].inumber $(( $(ino /ld) + 420 ))"; }
r_nodedir_bad_magic() { db "path /nd" "dblock 8388608" "write -d nhdr.info.$(H)magic 0x1234"; }
r_nodedir_bad_freeindex() { db "path /nd" "dblock 16777216" "write -d fhdr.$(H)magic 0x12345678"; }
r_attr_leaf_bad_magic() { db "path /af" "ablock 0" "write -d hdr.info.$(H)magic 0x1234"; }
r_attr_node_bad_magic() { db "path /an" "ablock 0" "write -d hdr.info.$(H)magic 0x1234"; }
# /empty: nlink 0 and on its AGI bucket (an orphan still named in /)
r_unlinked_orphan() {
	local i; i=$(ino /empty)
	db "path /empty" "write -d core.nlinkv2 0" "agi 0" "write -d unlinked[$(( i % 64 ))] $i"
}
# bucket -> /empty (nlink 0) -> next_unlinked /big, which is linked
r_unlinked_bad_chain() {
	local i b; i=$(ino /empty); b=$(ino /big)
	db "path /empty" "write -d core.nlinkv2 0" "write -d next_unlinked $b" "agi 0" "write -d unlinked[$(( i % 64 ))] $i"
}
r_rmap_bad_owner() {
	local n; n=$(xfs_db -r -c 'agf 0' -c 'addr rmaproot' -c 'print recs' "$IMG" | sed -n 's/^\([0-9]*\):\[[0-9]*,[0-9]*,131,.*/\1/p' | head -1)
	db 'agf 0' 'addr rmaproot' "write -d recs[$n].owner 133"
}
r_refcount_extra_record() {
	db 'agf 0' 'addr refcntroot' 'write -d numrecs 1' 'write -d recs[1].startblock 24' \
		'write -d recs[1].blockcount 2' 'write -d recs[1].refcount 2'
}
# /dir/f2 shares /dir/f1's blocks and the refcountbt says so, with a wrong count
r_refcount_bad_count() {
	local b; b=$(fsb /dir/f1)
	db "path /dir/f2" "write -d $(U).bmx[0].startblock $b" "agf $(( b >> $(fld 'sb 0' agblklog) ))" 'addr refcntroot' \
		'write -d numrecs 1' "write -d recs[1].startblock $(( b & ((1 << $(fld 'sb 0' agblklog)) - 1) ))" \
		'write -d recs[1].blockcount 2' 'write -d recs[1].refcount 5'
}

db() {
	local a=() c
	for c in "$@"; do a+=(-c "$c"); done
	echo "+ xfs_db -x $*"
	xfs_db -x "${a[@]}" "$IMG" 2>&1
}

# The v4s/v5s bases add leaf- and node-format directories, attribute leaf/node/remote blocks
# and (v4) a remote symlink; they are separate so the other recipes keep their layout.
mkstructs() {
	local dir=$1 i
	# leaf-format (~400 entries) and node-format (~1500 entries) directories
	echo "ld d--755 0 0"
	for i in $(seq -w 1 400); do echo " leaf_directory_entry_$i ---644 0 0 $dir/empty"; done
	echo " \$"
	echo "nd d--755 0 0"
	for i in $(seq -w 1 1500); do echo " node_directory_entry_$i ---644 0 0 $dir/empty"; done
	echo " \$"
	echo "af ---644 0 0 $dir/empty"
	echo "an ---644 0 0 $dir/empty"
	# mkfs 6.1 writes remote symlinks without the v5 block header: long symlinks on v4 only
	[ "$v" = v4s ] && echo "lsym l--777 0 0 /$(printf 'long/target/path/%.0s' $(seq 1 40))"
}

mkbase() {
	local img=$1 v=$2 opt dir
	case $v in
	v4 | v4s) opt="-m crc=0,uuid=$UUID" ;;
	v5 | v5s) opt="-m uuid=$UUID" ;;
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
		echo "sym l--777 0 0 /some/target"
		echo "fifo p--644 0 0"
		echo "cdev c--644 0 0 1 3"
		echo "blk d--755 0 0"
		for i in $(seq -w 1 40); do echo " e$i ---644 0 0 $dir/empty"; done
		echo " \$"
		[ "${v%s}" != "$v" ] && mkstructs "$dir"
		echo "\$"
	} > "$dir/proto"
	head -c 8192 /dev/zero | tr '\0' 'x' > "$dir/data"
	head -c 65536 /dev/zero | tr '\0' 'y' > "$dir/data64"
	: > "$dir/empty"
	rm -f "$img"; truncate -s 64M "$img"
	# shellcheck disable=SC2086
	mkfs.xfs -q -f $opt -p "$dir/proto" "$img" 2>&1 | grep -v 'V4 filesystems are deprecated'
	[ "${v%s}" = "$v" ] && return 0
	# attributes: /af gets a leaf block and a remote value, /an a node block. A small attribute
	# first: on v4, xfs_db 6.1 crashes if the first attr_set of an inode needs a leaf block.
	local a=(-c "path /af" -c "attr_set -v 4 small")
	for i in 1 2 3 4 5 6; do a+=(-c "attr_set -v 200 leafattr$i"); done
	a+=(-c "attr_set -v 5000 remote")
	a+=(-c "path /an" -c "attr_set -v 4 small")
	for i in $(seq -w 1 80); do a+=(-c "attr_set -v 100 nodeattr$i"); done
	xfs_db -x "${a[@]}" "$img" >/dev/null 2>&1
	return 0
}

if [ "${1:-}" = --list ]; then
	for r in "${RECIPES[@]}"; do
		IFS='|' read -r name vars _ <<<"$r"
		for v in $vars; do echo "$name.$v"; done
	done
	exit 0
fi
case "${1:-}" in
	-h | --help) sed -n '2,15p' "$0"; exit 0 ;;
	"" | -*) sed -n '2,15p' "$0"; exit 2 ;;
esac
OUT=$(realpath -m "$1"); shift
mkdir -p "$OUT/.base"
for v in v4 v5 v5rmap v5reflink v4s v5s; do mkbase "$OUT/.base/$v.img" "$v"; done

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
