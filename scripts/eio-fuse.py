#!/usr/bin/python3
"""Serves one file read-only through FUSE, failing with EIO every read that touches one of
the given byte ranges: a disk with bad sectors, for the read-error tests.

usage: eio-fuse.py BACKING MOUNTPOINT [OFFSET:LENGTH ...]

The served file is MOUNTPOINT/image (the size of BACKING). Runs in the foreground until
unmounted (fusermount -u MOUNTPOINT, or umount as root). Needs Debian's python3-fusepy.
"""
import errno
import os
import stat
import sys

try:
    from fusepy import FUSE, FuseOSError, Operations
except ImportError:  # the PyPI name of the module
    from fuse import FUSE, FuseOSError, Operations


class EioFile(Operations):
    def __init__(self, backing, bad):
        self.fd = os.open(backing, os.O_RDONLY)
        self.size = os.fstat(self.fd).st_size
        self.bad = bad

    def getattr(self, path, fh=None):
        if path == "/":
            return {"st_mode": stat.S_IFDIR | 0o555, "st_nlink": 2}
        if path == "/image":
            return {"st_mode": stat.S_IFREG | 0o444, "st_nlink": 1, "st_size": self.size}
        raise FuseOSError(errno.ENOENT)

    def readdir(self, path, fh):
        return [".", "..", "image"]

    def open(self, path, flags):
        if path != "/image":
            raise FuseOSError(errno.ENOENT)
        if flags & (os.O_WRONLY | os.O_RDWR):
            raise FuseOSError(errno.EROFS)
        return 0

    def read(self, path, size, offset, fh):
        end = offset + size
        for (b, n) in self.bad:
            if offset < b + n and b < end:
                raise FuseOSError(errno.EIO)
        return os.pread(self.fd, size, offset)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    bad = []
    for r in sys.argv[3:]:
        off, length = r.split(":")
        bad.append((int(off), int(length)))
    FUSE(EioFile(sys.argv[1], bad), sys.argv[2], foreground=True, ro=True, nothreads=True)


if __name__ == "__main__":
    main()
