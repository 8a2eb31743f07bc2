#!/usr/bin/env python3
"""Deterministic content for the fixture images (scripts/make-fixtures.sh).

  fixture-tree.py proto SRC_DIR MANIFEST [--long-symlinks]
                                                    writes files under SRC_DIR, prints an
                                                    mkfs.xfs protofile for them on stdout and
                                                    writes the manifest of what it describes
  fixture-tree.py manifest MOUNTPOINT               prints a JSON manifest of a mounted tree

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


def proto(src, manifest_path, long_symlinks):
    os.makedirs(src, exist_ok=True)
    lines = ["/dev/null", "0 0", "d--755 0 0"]
    man = [{"path": "/", "mode": 0o40755, "uid": 0, "gid": 0}]

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


if __name__ == "__main__":
    if sys.argv[1] == "proto":
        proto(sys.argv[2], sys.argv[3], "--long-symlinks" in sys.argv)
    elif sys.argv[1] == "manifest":
        manifest(sys.argv[2])
    else:
        sys.exit(__doc__)
