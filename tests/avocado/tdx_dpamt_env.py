# SPDX-License-Identifier: GPL-2.0
"""What the functional tests share: where things are, and how to skip.

The tests are plain unittest modules (python3 -m unittest discover), which
avocado also runs.  They take everything from the environment, as the
project's meson.build passes it:

  TDX_DPAMT_QEMU        patched qemu-system-x86_64
  TDX_DPAMT_FIRMWARE    firmware dir for -L (qboot.rom, bios-256k.bin...)
  TDX_DPAMT_BZIMAGE     patched kernel with the DPAMT KUnit suite built in
  TDX_DPAMT_QEMU_SRC    QEMU source tree: its python/ holds qemu.qmp and
                        qemu.machine, the QMP library these tests use
  TDX_DPAMT_KUNIT_SUITE KUnit suite name(s), comma-separated (default: any
                        suite whose name contains "dpamt")
  TDX_DPAMT_OVMF        TDX-capable OVMF (TDVF) for the TD test
  TDX_DPAMT_BOOT_TIMEOUT seconds for the kernel to run KUnit (default 600)

A missing piece is a skip with a one-line reason, not a failure.
"""

import json
import os
import sys

PAMT_SYSFS = '/sys/devices/faux/tdx_host/pamt'

HOST_MEMBERS = ('tdx-memory-bytes', 'static-bytes', 'static-equivalent-bytes',
                'dynamic-bytes', 'dynamic-peak-bytes', 'metadata-bytes',
                'saved-bytes')
GUEST_MEMBERS = ('pages', 'dynamic-bytes', 'static-equivalent-bytes',
                 'saved-bytes')


def need_env(test, *names):
    """Values of the environment variables @names; skip @test if one is
    unset or names a path that does not exist."""
    values = []
    for name in names:
        value = os.environ.get(name)
        if not value:
            test.skipTest('%s is not set' % name)
        if not os.path.exists(value):
            test.skipTest('%s=%s does not exist' % (name, value))
        values.append(value)
    return values


def qemu_python_dir():
    """QEMU's python/ directory (qemu.qmp, qemu.machine), or None."""
    cands = []
    src = os.environ.get('TDX_DPAMT_QEMU_SRC')
    if src:
        cands.append(os.path.join(src, 'python'))
    qemu = os.environ.get('TDX_DPAMT_QEMU')
    if qemu:
        # The project builds SRC=<build>/qemu into <build>/qemu-build
        build = os.path.dirname(os.path.abspath(qemu))
        cands.append(os.path.join(os.path.dirname(build), 'qemu', 'python'))
    for cand in cands:
        if os.path.isfile(os.path.join(cand, 'qemu', 'machine', '__init__.py')):
            return cand
    return None


def qemu_machine(test):
    """QEMU's QEMUMachine class; skip @test without QEMU's python tree."""
    path = qemu_python_dir()
    if path is None:
        test.skipTest('QEMU python library not found (set TDX_DPAMT_QEMU_SRC)')
    if path not in sys.path:
        sys.path.insert(0, path)
    # pylint: disable=import-outside-toplevel
    from qemu.machine import QEMUMachine
    return QEMUMachine


def read_sysfs(path=PAMT_SYSFS):
    """The kernel's PAMT files as a dict (numbers as int)."""
    out = {}
    for name in sorted(os.listdir(path)):
        with open(os.path.join(path, name)) as f:
            value = f.read().strip()
        out[name] = int(value) if value.isdigit() else value
    return out


def check_answer(test, info, td=False):
    """Check one answer of query-tdx-pamt; return its mode."""
    mode = info.get('mode')
    test.assertIn(mode, ('none', 'static', 'dynamic'), json.dumps(info))
    if mode == 'none':
        test.assertEqual(info, {'mode': 'none'})
        return mode
    host = info['host']
    test.assertEqual(sorted(host), sorted(HOST_MEMBERS))
    if td:
        test.assertEqual(sorted(info['guest']), sorted(GUEST_MEMBERS))
    else:
        test.assertNotIn('guest', info)
    return mode
