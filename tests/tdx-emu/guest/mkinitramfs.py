#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write a newc cpio initramfs holding one static /init (and /dev/console).

    mkinitramfs.py INIT_BINARY OUTPUT

No cpio tool needed; the archive is deterministic (fixed mtimes, inodes).
"""
import os
import stat
import sys


def entry(out, ino, name, mode, data=b'', rdev=(0, 0)):
    name_b = name.encode() + b'\0'
    hdr = '070701' + ''.join('%08x' % v for v in (
        ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
        len(name_b), 0))
    out.write(hdr.encode() + name_b)
    out.write(b'\0' * ((4 - (110 + len(name_b)) % 4) % 4))
    out.write(data)
    out.write(b'\0' * ((4 - len(data) % 4) % 4))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], 'rb') as f:
        init = f.read()
    tmp = sys.argv[2] + '.tmp'
    with open(tmp, 'wb') as out:
        entry(out, 1, 'dev', stat.S_IFDIR | 0o755)
        entry(out, 2, 'dev/console', stat.S_IFCHR | 0o600, rdev=(5, 1))
        entry(out, 3, 'proc', stat.S_IFDIR | 0o755)
        entry(out, 4, 'sys', stat.S_IFDIR | 0o755)
        entry(out, 5, 'init', stat.S_IFREG | 0o755, init)
        entry(out, 0, 'TRAILER!!!', 0)
    os.replace(tmp, sys.argv[2])


if __name__ == '__main__':
    main()
