#!/usr/bin/env python3
"""Deterministic content for the fixture images (scripts/make-fixtures.sh).

  fixture-tree.py proto SRC_DIR MANIFEST [--long-symlinks]
                                                    writes files under SRC_DIR, prints an
                                                    mkfs.xfs protofile for them on stdout and
                                                    writes the manifest of what it describes
  fixture-tree.py manifest MOUNTPOINT               prints a JSON manifest of a mounted tree
  fixture-tree.py bmbt-v4 IMAGE INO                 rewrites the data fork of inode INO of a v4
                                                    image in place as a 3-level BMBT over the
                                                    blocks the file already owns

`proto ... --big BLOCKS` adds a file /big of BLOCKS filesystem blocks (for bmbt-v4).

The tree has directories of every size class (shortform, block, leaf, node), files of assorted
sizes, symlinks, a fifo and device nodes. The manifest records what the kernel sees: type,
mode, uid, gid, size, nlink, inode, sha256 of content, symlink target, rdev, xattrs.
"""
import hashlib
import json
import os
import stat
import sys


def content(n, seed):
    """n bytes of reproducible content: numbered lines, distinct per file and per position,
    yet compressible so the fixture images stay small."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += f"{seed}:{i:07d}\n".encode()
        i += 1
    return bytes(out[:n])


FILES = {"empty": 0, "one": 1, "small": 100, "almost-block": 4095, "block": 4096,
         "multi": 70000, "mib": 1 << 20}
DIRS = {"sf": 3, "block": 40, "leaf": 400, "node": 1200}


def proto(src, manifest_path, long_symlinks, big=None):
    os.makedirs(src, exist_ok=True)
    lines = ["/dev/null", "0 0", "d--755 0 0"]
    man = [{"path": "/", "mode": 0o40755, "uid": 0, "gid": 0}]
    if big is not None:
        # The file bmbt-v4 rewrites; its size is in 512-byte units (the v4 fixture's block).
        p = os.path.join(src, "big")
        with open(p, "wb") as f:
            f.write(content(big * 512, "big"))
        lines.append(f"big ---644 0 0 {p}")

    def add(path, mode, uid, gid, **kw):
        man.append(dict(path=path, mode=mode, uid=uid, gid=gid, **kw))

    empty_sha = hashlib.sha256(b"").hexdigest()
    for name, size in FILES.items():
        p = os.path.join(src, name)
        data = content(size, name)
        with open(p, "wb") as f:
            f.write(data)
        lines.append(f"{name} ---644 1000 1000 {p}")
        add("/" + name, 0o100644, 1000, 1000, size=size, sha256=hashlib.sha256(data).hexdigest())
    empty = os.path.join(src, "empty")
    lines.append("dirs d--755 0 0")
    add("/dirs", 0o40755, 0, 0)
    for d, count in DIRS.items():
        lines.append(f"{d} d--750 1000 100")
        add(f"/dirs/{d}", 0o40750, 1000, 100)
        for i in range(count):
            # Names of varied length so entries are not all the same size.
            name = f"e{i:05d}" + "x" * (i % 23)
            lines.append(f"{name} ---600 {i % 7} {i % 5} {empty}")
            add(f"/dirs/{d}/{name}", 0o100600, i % 7, i % 5, size=0, sha256=empty_sha)
        lines.append("$")
    lines.append("$")
    lines.append("links d--755 0 0")
    add("/links", 0o40755, 0, 0)
    targets = {"to-small": "../small", "dangling": "/nonexistent/target"}
    if long_symlinks:
        targets["long"] = "/".join(f"component{i:03d}" for i in range(60))
    for name, t in targets.items():
        lines.append(f"{name} l--777 0 0 {t}")
        add(f"/links/{name}", 0o120777, 0, 0, size=len(t), target=t)
    lines.append("$")
    lines.append("special d--755 0 0")
    add("/special", 0o40755, 0, 0)
    lines.append("fifo p--644 0 0")
    add("/special/fifo", 0o10644, 0, 0, size=0)
    lines.append("null c--666 0 0 1 3")
    add("/special/null", 0o20666, 0, 0, rdev=[1, 3])
    lines.append("loop7 b--660 0 6 7 7")
    add("/special/loop7", 0o60660, 0, 6, rdev=[7, 7])
    lines.append("setuid -u-755 0 0 " + empty)
    add("/special/setuid", 0o104755, 0, 0, size=0, sha256=empty_sha)
    lines.append("$")
    lines.append("$")
    print("\n".join(lines))
    with open(manifest_path, "w") as f:
        json.dump(man, f, sort_keys=True)
        f.write("\n")


def manifest(root):
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames) + ([] if dirpath != root else ["."]):
            p = os.path.join(dirpath, name) if name != "." else root
            st = os.lstat(p)
            rel = "/" + os.path.relpath(p, root) if name != "." else "/"
            rel = rel.replace("/./", "/")
            e = {"path": rel, "ino": st.st_ino, "mode": st.st_mode, "uid": st.st_uid,
                 "gid": st.st_gid, "size": st.st_size, "nlink": st.st_nlink}
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    e["sha256"] = hashlib.sha256(f.read()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                e["target"] = os.readlink(p)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                e["rdev"] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
            if not stat.S_ISLNK(st.st_mode):
                xa = {}
                for a in os.listxattr(p, follow_symlinks=False):
                    v = os.getxattr(p, a, follow_symlinks=False)
                    xa[a] = hashlib.sha256(v).hexdigest()
                if xa:
                    e["xattrs"] = xa
            entries.append(e)
    json.dump(entries, sys.stdout, sort_keys=True)
    print()


def be(buf, off, n):
    return int.from_bytes(buf[off:off + n], "big")


def bmbt_v4(image, ino, nodes=4, leaves_per_node=16, recs_per_leaf=20):
    """Rewrites inode `ino`'s data fork (extents format, in a v4 filesystem) as a BMBT whose
    root in the inode is at level 2 with `nodes` level-1 blocks, each over `leaves_per_node`
    leaves of `recs_per_leaf` one-block extents with a hole after each. The tree's blocks and
    the data blocks are exactly the blocks the file owned, so free space, nblocks and every
    counter stay right: only the fork, nextents and the size change."""
    NULL = (1 << 64) - 1
    with open(image, "r+b") as f:
        sb = f.read(512)
        assert sb[:4] == b"XFSB" and be(sb, 100, 2) & 0xf == 4, "not a v4 superblock"
        bs, agblocks = be(sb, 4, 4), be(sb, 84, 4)
        isize, inopblog, agblklog = be(sb, 104, 2), sb[123], sb[124]
        agmask = (1 << agblklog) - 1

        def fsb_off(fsb):
            return ((fsb >> agblklog) * agblocks + (fsb & agmask)) * bs

        agno = ino >> (agblklog + inopblog)
        agino = ino & ((1 << (agblklog + inopblog)) - 1)
        ioff = (agno * agblocks + (agino >> inopblog)) * bs + (agino & ((1 << inopblog) - 1)) * isize
        f.seek(ioff)
        di = bytearray(f.read(isize))
        assert di[:2] == b"IN" and di[4] == 2 and di[5] == 2, "inode is not a v2 extents inode"
        assert di[82] == 0, "the file must have no attr fork"
        nextents, nblocks = be(di, 76, 4), be(di, 64, 8)
        blocks = []
        for i in range(nextents):
            r = be(di, 100 + 16 * i, 16)
            start, count = (r >> 21) & ((1 << 52) - 1), r & ((1 << 21) - 1)
            blocks += [start + k for k in range(count)]
        nleaves = nodes * leaves_per_node
        ndata = nleaves * recs_per_leaf
        assert len(blocks) == nblocks == ndata + nleaves + nodes, (
            f"the file owns {len(blocks)} blocks (nblocks {nblocks}); {ndata + nleaves + nodes} needed")
        data, leafb, nodeb = blocks[:ndata], blocks[ndata:ndata + nleaves], blocks[ndata + nleaves:]
        maxrecs = (bs - 24) // 16

        def hdr(level, numrecs, left, right):
            return (b"BMAP" + level.to_bytes(2, "big") + numrecs.to_bytes(2, "big")
                    + left.to_bytes(8, "big") + right.to_bytes(8, "big"))

        def put(fsb, body):
            assert len(body) <= bs
            f.seek(fsb_off(fsb))
            f.write(body + bytes(bs - len(body)))

        for li, fsb in enumerate(leafb):
            left = leafb[li - 1] if li > 0 else NULL
            right = leafb[li + 1] if li + 1 < nleaves else NULL
            body = bytearray(hdr(0, recs_per_leaf, left, right))
            for k in range(recs_per_leaf):
                e = li * recs_per_leaf + k
                body += ((2 * e) << 73 | data[e] << 21 | 1).to_bytes(16, "big")
            put(fsb, bytes(body))
        for ni, fsb in enumerate(nodeb):
            left = nodeb[ni - 1] if ni > 0 else NULL
            right = nodeb[ni + 1] if ni + 1 < nodes else NULL
            kids = range(ni * leaves_per_node, (ni + 1) * leaves_per_node)
            keys = b"".join((2 * li * recs_per_leaf).to_bytes(8, "big") for li in kids)
            ptrs = b"".join(leafb[li].to_bytes(8, "big") for li in kids)
            body = hdr(1, leaves_per_node, left, right) + keys
            body += bytes(24 + 8 * maxrecs - len(body)) + ptrs
            put(fsb, body)
        # The root in the inode: level 2, one key and pointer per level-1 block.
        dsize = isize - 100
        rmax = (dsize - 4) // 16
        assert nodes <= rmax
        root = bytearray(dsize)
        root[0:4] = (2).to_bytes(2, "big") + nodes.to_bytes(2, "big")
        for ni, fsb in enumerate(nodeb):
            root[4 + 8 * ni:12 + 8 * ni] = (2 * ni * leaves_per_node * recs_per_leaf).to_bytes(8, "big")
            root[4 + 8 * rmax + 8 * ni:12 + 8 * rmax + 8 * ni] = fsb.to_bytes(8, "big")
        di[100:isize] = root
        di[5] = 3  # XFS_DINODE_FMT_BTREE
        di[56:64] = ((2 * ndata - 1) * bs).to_bytes(8, "big")
        di[76:80] = ndata.to_bytes(4, "big")
        f.seek(ioff)
        f.write(bytes(di))
    print(f"inode {ino}: {ndata} extents, {nleaves} leaves, {nodes} level-1 blocks, root level 2")


if __name__ == "__main__":
    if sys.argv[1] == "proto":
        big = int(sys.argv[sys.argv.index("--big") + 1]) if "--big" in sys.argv else None
        proto(sys.argv[2], sys.argv[3], "--long-symlinks" in sys.argv, big)
    elif sys.argv[1] == "bmbt-v4":
        bmbt_v4(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "manifest":
        manifest(sys.argv[2])
    else:
        sys.exit(__doc__)
