# SPDX-License-Identifier: GPL-2.0
"""Launch a TD and watch its PAMT (TDX hosts with Dynamic PAMT only).

While the TD runs, query-tdx-pamt must report figures of this TD, and
both the TD's and the host's page-pair memory must rise above what the
host had before.  When the TD is gone, the kernel's dynamic_bytes must
come back to where it was.  Elsewhere the test skips, saying why.

Needs, besides the variables of tdx_dpamt_env: TDX_DPAMT_OVMF, a
TDX-capable OVMF (TDVF) image.  Other TDs starting or stopping on the
same host while this runs make the host figures move: run it on an
otherwise idle host.
"""

import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tdx_dpamt_env as env  # noqa: E402 pylint: disable=wrong-import-position

TD_MEMORY = 2 << 30
RISE_TIMEOUT = 120
RETURN_TIMEOUT = 60


def tdx_host_reason():
    """Why this host cannot run the test, or None."""
    param = '/sys/module/kvm_intel/parameters/tdx'
    try:
        with open(param) as f:
            tdx = f.read().strip()
    except OSError:
        return 'not a TDX host (no %s)' % param
    if tdx != 'Y':
        return 'not a TDX host (kvm_intel tdx=%s)' % tdx
    if not os.path.isdir(env.PAMT_SYSFS):
        return 'the host kernel does not report PAMT (no %s)' % env.PAMT_SYSFS
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        return '/dev/kvm is not accessible'
    return None


def ovmf_path():
    path = os.environ.get('TDX_DPAMT_OVMF')
    if path:
        return path if os.path.exists(path) else None
    for cand in ('/usr/share/ovmf/OVMF.inteltdx.fd',
                 '/usr/share/qemu/OVMF.inteltdx.fd'):
        if os.path.exists(cand):
            return cand
    return None


class TdPamt(unittest.TestCase):
    """Per-TD and host figures while a TD runs and after it quits."""

    def setUp(self):
        reason = tdx_host_reason()
        if reason:
            self.skipTest(reason)
        self.qemu, = env.need_env(self, 'TDX_DPAMT_QEMU')
        self.ovmf = ovmf_path()
        if not self.ovmf:
            self.skipTest('no TDX-capable OVMF (set TDX_DPAMT_OVMF)')
        self.machine_class = env.qemu_machine(self)
        self.tmp = tempfile.TemporaryDirectory(prefix='tdx-dpamt-td-')
        self.addCleanup(self.tmp.cleanup)

    def check_guest(self, info):
        """The TD's figures follow the documented arithmetic."""
        host, guest = info['host'], info['guest']
        ratio_se = TD_MEMORY * host['static-equivalent-bytes'] // \
            host['tdx-memory-bytes']
        self.assertEqual(guest['static-equivalent-bytes'], ratio_se)
        if info['mode'] == 'dynamic':
            self.assertEqual(guest['saved-bytes'],
                             max(0, ratio_se - guest['dynamic-bytes']))
        else:
            self.assertEqual(guest['saved-bytes'], 0)

    def test_td_figures(self):
        before = env.read_sysfs()
        vm = self.machine_class(self.qemu, base_temp_dir=self.tmp.name,
                                log_dir=self.tmp.name)
        vm.add_args('-nodefaults', '-accel', 'kvm', '-cpu', 'host',
                    '-machine', 'q35,kernel-irqchip=split,'
                    'confidential-guest-support=tdx0',
                    '-object', 'tdx-guest,id=tdx0',
                    '-bios', self.ovmf, '-m', str(TD_MEMORY >> 20),
                    '-smp', '2', '-serial', 'null')
        vm.launch()
        try:
            info = vm.cmd('query-tdx-pamt')
            mode = env.check_answer(self, info, td=True)
            self.assertEqual(mode, before['mode'])
            self.check_guest(info)

            if mode == 'static':
                self.assertEqual(info['guest']['dynamic-bytes'], 0)
                return

            # The firmware accepts and touches private memory: wait for
            # page pairs charged to this TD
            deadline = time.monotonic() + RISE_TIMEOUT
            while True:
                info = vm.cmd('query-tdx-pamt')
                guest, host = info['guest'], info['host']
                if (guest['pages'] > 0 and guest['dynamic-bytes'] > 0 and
                        host['dynamic-bytes'] > before['dynamic_bytes']):
                    break
                self.assertLess(time.monotonic(), deadline,
                                'PAMT figures did not rise within %d s: %s'
                                % (RISE_TIMEOUT, info))
                time.sleep(1)
            self.check_guest(info)
            # First-touch charging: a TD never holds more than the host
            self.assertLessEqual(guest['dynamic-bytes'],
                                 host['dynamic-bytes'])
            self.assertGreaterEqual(host['dynamic-peak-bytes'],
                                    host['dynamic-bytes'])
            print('\nTD running: %s' % info)
        finally:
            vm.shutdown()

        deadline = time.monotonic() + RETURN_TIMEOUT
        while True:
            after = env.read_sysfs()
            if after['dynamic_bytes'] <= before['dynamic_bytes']:
                break
            self.assertLess(time.monotonic(), deadline,
                            'dynamic_bytes did not return to %d within %d '
                            's after the TD quit (now %d)' %
                            (before['dynamic_bytes'], RETURN_TIMEOUT,
                             after['dynamic_bytes']))
            time.sleep(1)
        self.assertEqual(after.get('leaked_bytes'), before.get('leaked_bytes'))


if __name__ == '__main__':
    unittest.main()
