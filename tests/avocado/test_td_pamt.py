# SPDX-License-Identifier: GPL-2.0
"""Launch a TD and watch its PAMT (TDX hosts with Dynamic PAMT only).

While the TD runs, query-tdx-pamt must report the TD's figures, the
same numbers query-stats reports for the TD's KVM statistics, with
page-pair bytes above 0; the host's figures must be readable and hold at
least the TD's page pairs.  When the TD is gone, the kernel's
dynamic_bytes must come back to where it was and nothing may leak.
Elsewhere the test skips, saying why.

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

    def agreeing_figures(self, vm):
        """query-tdx-pamt and, around it, two equal query-stats answers."""
        for _ in range(20):
            before = env.query_stats(vm, env.TD_STATS.values())
            info = vm.cmd('query-tdx-pamt')
            after = env.query_stats(vm, env.TD_STATS.values())
            if before == after:
                return info, before
            time.sleep(0.5)
        self.fail('the KVM statistics of the TD never held still: %s, %s'
                  % (before, after))
        return None, None

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
            env.check_answer(self, info, td=True)
            self.assertEqual(info['stats']['status'], 'available',
                             'the host kernel does not account Dynamic '
                             'PAMT per TD: %s' % info)
            host = info['host']
            self.assertEqual(host['status'], 'available', info)
            self.assertEqual(host['mode'], before['mode'])
            self.assertNotIn('errors', host)

            # The firmware accepts and touches private memory: wait for
            # page pairs charged to this TD (dynamic mode only)
            deadline = time.monotonic() + RISE_TIMEOUT
            while before['mode'] == 'dynamic':
                info, stats = self.agreeing_figures(vm)
                if info['stats']['pair-bytes'] > 0:
                    break
                self.assertLess(time.monotonic(), deadline,
                                'no page pairs charged to the TD within '
                                '%d s: %s' % (RISE_TIMEOUT, info))
                time.sleep(1)
            info, stats = self.agreeing_figures(vm)

            # The typed command and query-stats report the same numbers
            for member, stat in env.TD_STATS.items():
                self.assertEqual(info['stats'][member], stats[stat],
                                 '%s vs %s' % (member, stat))
            td, host = info['stats'], info['host']
            if before['mode'] == 'static':
                self.assertEqual(td['pair-bytes'], 0)
            else:
                self.assertGreater(td['referenced-pages'], 0)
                self.assertGreater(td['pair-installs'], 0)
                # First touch: a TD never holds more than the host
                self.assertLessEqual(td['pair-bytes'], host['dynamic-bytes'])
                self.assertGreater(host['dynamic-bytes'],
                                   before['dynamic_bytes'])
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


class AnswerChecks(unittest.TestCase):
    """check_answer() on made-up answers, since TDs rarely run here."""

    TD = {'vm': 'td',
          'stats': {'status': 'available', 'referenced-pages': 1049600,
                    'pair-bytes': 16875520, 'pair-installs': 4122,
                    'cache-bytes': 163840},
          'host': {'status': 'available', 'mode': 'dynamic',
                   'static-bytes': 10489856, 'dynamic-bytes': 16875520,
                   'metadata-bytes': 524288,
                   'static-equivalent-bytes': 1075843072,
                   'leaked-bytes': 0}}

    def test_good(self):
        self.assertEqual(env.check_answer(self, {'vm': 'not-a-td'}),
                         'not-a-td')
        self.assertEqual(env.check_answer(self, self.TD, td=True), 'td')
        confined = dict(self.TD, host={
            'status': 'unavailable',
            'reason': '/sys/devices/faux/tdx_host: Permission denied'})
        env.check_answer(self, confined, td=True)
        old_kernel = {'vm': 'td', 'stats': {'status': 'no-accounting'},
                      'host': {'status': 'no-accounting'}}
        env.check_answer(self, old_kernel, td=True)

    def test_bad(self):
        stats = dict(self.TD['stats'])
        del stats['cache-bytes']
        bad = [
            ({'vm': 'unsupported'}, False),
            ({'vm': 'not-a-td', 'host': {}}, False),
            (self.TD, False),
            ({'vm': 'not-a-td'}, True),
            (dict(self.TD, stats=stats), True),
            (dict(self.TD, host={'status': 'unavailable'}), True),
            (dict(self.TD, host={'status': 'available', 'mode': 'none'}),
             True),
            (dict(self.TD, host={'status': 'no-tdx-module', 'mode': 'x'}),
             True),
        ]
        for answer, td in bad:
            with self.subTest(answer=answer, td=td):
                with self.assertRaises(AssertionError):
                    env.check_answer(self, answer, td=td)


if __name__ == '__main__':
    unittest.main()
