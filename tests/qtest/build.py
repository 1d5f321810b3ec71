#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Build the black-box qtests of this directory against a QEMU build tree.

    build.py QEMU_BUILD OUTDIR [TEST.c ...]

libqtest is not installed anywhere: it lives in the QEMU build tree as
objects of tests/qtest/libqos and in libqemuutil.a.  Rather than guess
include paths and libraries, this script reuses how QEMU's own build
compiles and links tests/qtest/qmp-cmd-test:

- the compile command of qmp-cmd-test.c from compile_commands.json, with
  the source and object swapped for ours;
- the link command of qmp-cmd-test from "ninja -t commands", with its
  object and output swapped for ours.

So the tests get exactly the flags, include paths, libqos objects and
libraries of QEMU's own qtests.  QEMU_BUILD must have built
tests/qtest/qmp-cmd-test before (run-qtests.sh does that).
Without TEST.c arguments every *-test.c next to this script is built.
"""

import json
import os
import shlex
import subprocess
import sys

REFERENCE = 'tests/qtest/qmp-cmd-test'


def die(msg):
    print('build.py: ' + msg, file=sys.stderr)
    sys.exit(1)


def reference_compile(build):
    """The compile command of qmp-cmd-test.c, as an argument list."""
    path = os.path.join(build, 'compile_commands.json')
    try:
        with open(path) as f:
            entries = json.load(f)
    except OSError as e:
        die('cannot read %s: %s (is %s a configured QEMU build?)' %
            (path, e.strerror, build))
    for e in entries:
        if e['file'].endswith(REFERENCE + '.c'):
            args = e.get('arguments') or shlex.split(e['command'])
            return e['directory'], args
    die('%s has no entry for %s.c' % (path, REFERENCE))


def reference_link(build):
    """The link command of qmp-cmd-test and the object it links."""
    out = subprocess.run(['ninja', '-C', build, '-t', 'commands', REFERENCE],
                         check=True, capture_output=True, text=True).stdout
    for line in reversed(out.splitlines()):
        args = shlex.split(line)
        if '-o' in args and args[args.index('-o') + 1] == REFERENCE:
            objs = [a for a in args if a.endswith('qmp-cmd-test.c.o')]
            if len(objs) != 1:
                break
            return args, objs[0]
    die('cannot find the link command of %s in %s' % (REFERENCE, build))


def compile_args(ref, src, obj):
    """ref with dependency-file options, -o and -c replaced."""
    args = []
    skip = False
    for a in ref:
        if skip:
            skip = False
            continue
        if a in ('-MQ', '-MF', '-MT', '-o', '-c'):
            skip = True
            continue
        if a in ('-MD', '-MMD', '-Werror'):
            continue
        args.append(a)
    return args + ['-o', obj, '-c', src]


def run(args, cwd):
    print('  ' + ' '.join(shlex.quote(a) for a in args[:3]) + ' ... ' +
          args[-1], flush=True)
    r = subprocess.run(args, cwd=cwd)
    if r.returncode:
        die('command failed (exit %d): %s' % (r.returncode, ' '.join(args)))


def main():
    if len(sys.argv) < 3:
        die('usage: build.py QEMU_BUILD OUTDIR [TEST.c ...]')
    build = os.path.abspath(sys.argv[1])
    outdir = os.path.abspath(sys.argv[2])
    here = os.path.dirname(os.path.abspath(__file__))
    srcs = [os.path.abspath(s) for s in sys.argv[3:]]
    if not srcs:
        srcs = sorted(os.path.join(here, f) for f in os.listdir(here)
                      if f.endswith('-test.c'))
    if not os.path.exists(os.path.join(build, REFERENCE)):
        die('%s is not built; run: ninja -C %s %s' % (REFERENCE, build,
                                                      REFERENCE))
    os.makedirs(outdir, exist_ok=True)

    cdir, cref = reference_compile(build)
    lref, ref_obj = reference_link(build)
    for src in srcs:
        name = os.path.basename(src)[:-2]
        obj = os.path.join(outdir, name + '.o')
        exe = os.path.join(outdir, name)
        print('building %s' % exe, flush=True)
        run(compile_args(cref, src, obj), cdir)
        link = [obj if a == ref_obj else a for a in lref]
        link[link.index('-o') + 1] = exe
        run(link, build)


if __name__ == '__main__':
    main()
