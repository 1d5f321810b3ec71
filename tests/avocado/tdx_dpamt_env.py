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

# query-tdx-pamt for a TD: the TD's figures and the KVM statistic each
# one is, and the host's figures and the sysfs file each one is
TD_STATS = {
    'referenced-pages': 'tdx_dpamt_pages',
    'pair-bytes': 'tdx_dpamt_pair_bytes',
    'pair-installs': 'tdx_dpamt_pair_installs',
    'cache-bytes': 'tdx_dpamt_cache_bytes',
}
HOST_FILES = {
    'static-bytes': 'static_bytes',
    'dynamic-bytes': 'dynamic_bytes',
    'metadata-bytes': 'metadata_bytes',
    'static-equivalent-bytes': 'static_equivalent_bytes',
    'leaked-bytes': 'leaked_bytes',
}
HOST_STATUSES = ('no-tdx-module', 'no-accounting', 'unavailable', 'available')


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
    """Check one answer of query-tdx-pamt; return its "vm" member."""
    if not td:
        test.assertEqual(info, {'vm': 'not-a-td'}, json.dumps(info))
        return info['vm']
    test.assertEqual(info.get('vm'), 'td', json.dumps(info))
    test.assertEqual(sorted(info), ['host', 'stats', 'vm'])
    stats = info['stats']
    test.assertIn(stats.get('status'), ('no-accounting', 'available'))
    if stats['status'] == 'available':
        test.assertEqual(sorted(stats), sorted(['status'] + list(TD_STATS)))
        for name in TD_STATS:
            test.assertIsInstance(stats[name], int)
    else:
        test.assertEqual(stats, {'status': 'no-accounting'})
    host = info['host']
    test.assertIn(host.get('status'), HOST_STATUSES)
    if host['status'] == 'available':
        test.assertIn(host.get('mode'), ('static', 'dynamic'))
        test.assertLessEqual(set(host), {'status', 'mode', 'errors'} |
                             set(HOST_FILES))
    elif host['status'] == 'unavailable':
        test.assertEqual(sorted(host), ['reason', 'status'])
    else:
        test.assertEqual(sorted(host), ['status'])
    return info['vm']


def query_stats(vm, names):
    """The KVM statistics @names of @vm's VM, from query-stats."""
    ret = vm.cmd('query-stats', target='vm',
                 providers=[{'provider': 'kvm', 'names': list(names)}])
    out = {}
    for result in ret:
        if result['provider'] == 'kvm':
            for stat in result['stats']:
                out[stat['name']] = stat['value']
    return out
