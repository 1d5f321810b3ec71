# SPDX-License-Identifier: GPL-2.0
"""Boot the patched kernel in the patched QEMU and check both.

The kernel runs its built-in KUnit suites at boot, the DPAMT suite among
them (it tests the DPAMT code against a model of the TDX module, so it
needs no TDX hardware), and powers off.  QEMU runs with TCG and
-no-shutdown, so its QMP monitor stays up after the guest powered off:
query-tdx-pamt is asked while the kernel boots and again at the end.
"""

import asyncio
import os
import re
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tdx_dpamt_env as env  # noqa: E402 pylint: disable=wrong-import-position

# A top-level KTAP result line, with or without a printk timestamp.
# Subtests are indented and do not match.
RESULT_RE = re.compile(r'^(?:\[\s*[0-9.]+\] )?(ok|not ok) (\d+) (\S+)(.*)$')
SUMMARY_RE = re.compile(r'# (\S+): pass:(\d+) fail:(\d+) skip:(\d+) '
                        r'total:(\d+)')


def suite_matcher():
    names = os.environ.get('TDX_DPAMT_KUNIT_SUITE', '')
    wanted = [n.strip() for n in names.split(',') if n.strip()]
    if wanted:
        return lambda name: name in wanted, ', '.join(wanted)
    return lambda name: 'dpamt' in name.lower(), 'a suite named *dpamt*'


def kunit_part(console):
    """The console up to KUnit's power-off request.

    When power-off does not work (no ACPI under qboot, for instance) the
    kernel goes on booting and, without a root file system, panics; that
    is not a KUnit result.
    """
    return console.split('reboot: Power down')[0]


def parse_ktap(text):
    """[(suite, ok, directive)] of the top-level results, summaries."""
    results = []
    summaries = {}
    for line in text.splitlines():
        line = line.rstrip('\r')
        m = RESULT_RE.match(line)
        if m:
            results.append((m.group(3), m.group(1) == 'ok',
                            m.group(4).strip()))
        m = SUMMARY_RE.search(line)
        if m:
            summaries[m.group(1)] = m.group(0)
    return results, summaries


# The reason the live suite gives when the kernel has no TDX module.
NO_MODULE = 'no TDX module initialised'


def subtest_results(console, suite):
    """[(case, ok, directive)] of the cases of @suite."""
    part = console.split('# Subtest: %s' % suite, 1)
    if len(part) < 2:
        return []
    cases = []
    for line in part[1].splitlines():
        m = re.match(r'^(?:\[\s*[0-9.]+\] )?\s+(ok|not ok) \d+ (\S+)(.*)$',
                     line.rstrip('\r'))
        if m:
            cases.append((m.group(2), m.group(1) == 'ok',
                          m.group(3).strip()))
        elif RESULT_RE.match(line):
            break
    return cases


def check_live_skipped(test, console, suite):
    """A live suite (real SEAMCALLs) on a QEMU without a TDX module.

    Such a boot cannot initialise TDX, so every case must skip, and for
    that reason only: a case that runs, or skips for another reason,
    means the kernel believed in a module that is not there.  The
    emulator's suite (emu) runs these cases for real.
    """
    cases = subtest_results(console, suite)
    test.assertTrue(cases, 'no case of %s in the KTAP output' % suite)
    for case, ok, directive in cases:
        test.assertTrue(ok and 'SKIP' in directive and NO_MODULE in directive,
                        '%s.%s on a host without a TDX module: %s' %
                        (suite, case, directive or 'ran'))


class KunitBoot(unittest.TestCase):
    """The DPAMT KUnit suite passes and query-tdx-pamt answers."""

    def setUp(self):
        self.qemu, self.firmware, self.bzimage = env.need_env(
            self, 'TDX_DPAMT_QEMU', 'TDX_DPAMT_FIRMWARE', 'TDX_DPAMT_BZIMAGE')
        if not os.path.exists(os.path.join(self.firmware, 'qboot.rom')):
            self.skipTest('no qboot.rom in %s' % self.firmware)
        self.machine_class = env.qemu_machine(self)
        self.timeout = int(os.environ.get('TDX_DPAMT_BOOT_TIMEOUT', '600'))
        self.tmp = tempfile.TemporaryDirectory(prefix='tdx-dpamt-boot-')
        self.addCleanup(self.tmp.cleanup)

    def test_kunit_and_query(self):
        log_path = os.path.join(self.tmp.name, 'console.log')
        vm = self.machine_class(self.qemu, base_temp_dir=self.tmp.name,
                                log_dir=self.tmp.name, console_log=log_path)
        vm.set_console()
        vm.add_args('-nodefaults', '-m', '1024', '-smp', '2',
                    '-accel', 'tcg', '-no-reboot', '-no-shutdown',
                    '-L', self.firmware, '-bios', 'qboot.rom',
                    '-kernel', self.bzimage,
                    '-append', 'console=ttyS0 kunit_shutdown=poweroff '
                    'panic=-1')
        vm.launch()
        try:
            # Start draining the console into the log
            vm.console_socket  # pylint: disable=pointless-statement
            env.check_answer(self, vm.cmd('query-tdx-pamt'))

            start = time.monotonic()
            try:
                event = vm.event_wait('SHUTDOWN', timeout=self.timeout)
            except asyncio.TimeoutError:
                event = None
            self.assertIsNotNone(event, 'the guest did not stop within '
                                 '%d s' % self.timeout)
            elapsed = time.monotonic() - start

            # The monitor outlives the guest (-no-shutdown)
            end = vm.cmd('query-tdx-pamt')
            answer = env.check_answer(self, end)
        finally:
            vm.shutdown()

        with open(log_path, errors='replace') as f:
            console = f.read()
        kunit = kunit_part(console)
        self.assertNotIn('Kernel panic', kunit, 'the kernel panicked before '
                         'KUnit finished; console: %s' % log_path)

        wanted, what = suite_matcher()
        results, summaries = parse_ktap(kunit)
        mine = [r for r in results if wanted(r[0])]
        self.assertTrue(mine, 'no result of %s in the KTAP output (suites: '
                        '%s)' % (what, ', '.join(r[0] for r in results) or
                                 'none'))
        failed_cases = re.findall(r'^(?:\[\s*[0-9.]+\] )?\s+not ok \d+ (\S+)',
                                  kunit, re.M)
        for name, ok, directive in mine:
            self.assertTrue(ok, 'KUnit suite %s failed: %s (failed: %s)' %
                            (name, summaries.get(name, directive),
                             ', '.join(failed_cases)))
            if name.endswith('_live'):
                check_live_skipped(self, kunit, name)
            else:
                self.assertNotIn('SKIP', directive,
                                 'KUnit suite %s was skipped' % name)
        print('\nKUnit (%.0f s under TCG): %s; query-tdx-pamt: vm %s' %
              (elapsed, '; '.join(summaries.get(n, n + ': ok')
                                  for n, _, _ in mine), answer))


class KtapParsing(unittest.TestCase):
    """The judgement of the console, on a made-up console."""

    CONSOLE = '\n'.join([
        'KTAP version 1',
        '1..2',
        '    KTAP version 1',
        '    # Subtest: tdx_dpamt',
        '    1..2',
        '    ok 1 pamt_test_get_put',
        '    not ok 2 pamt_test_busy',
        '# tdx_dpamt: pass:1 fail:1 skip:0 total:2',
        'not ok 1 tdx_dpamt',
        '[    4.5] ok 2 other_suite # SKIP no hardware',
        'reboot: Power down',
        'Kernel panic - not syncing: VFS: Unable to mount root fs',
    ])

    def test_parse(self):
        results, summaries = parse_ktap(kunit_part(self.CONSOLE))
        self.assertEqual(results, [('tdx_dpamt', False, ''),
                                   ('other_suite', True, '# SKIP no hardware')])
        self.assertEqual(summaries['tdx_dpamt'],
                         '# tdx_dpamt: pass:1 fail:1 skip:0 total:2')
        self.assertNotIn('Kernel panic', kunit_part(self.CONSOLE))

    LIVE = '\n'.join([
        '    # Subtest: tdx_dpamt_live',
        '    1..2',
        '    ok 1 dpamt_live_get_put # SKIP %s (tdx_dpamt tests with a model)'
        % NO_MODULE,
        '    ok 2 dpamt_live_cached%s',
        '# tdx_dpamt_live: pass:0 fail:0 skip:2 total:2',
        'ok 2 tdx_dpamt_live # SKIP',
    ])

    def test_live_skipped(self):
        check_live_skipped(self, self.LIVE % (' # SKIP %s' % NO_MODULE),
                           'tdx_dpamt_live')
        self.assertEqual(len(subtest_results(self.LIVE % '',
                                             'tdx_dpamt_live')), 2)
        for bad in ('', ' # SKIP no free 2 MiB block of memory'):
            with self.assertRaises(AssertionError):
                check_live_skipped(self, self.LIVE % bad, 'tdx_dpamt_live')
        with self.assertRaises(AssertionError):
            check_live_skipped(self, self.CONSOLE, 'tdx_dpamt_live')

    def test_suite_names(self):
        old = os.environ.pop('TDX_DPAMT_KUNIT_SUITE', None)
        try:
            wanted, _ = suite_matcher()
            self.assertTrue(wanted('tdx_dpamt'))
            self.assertFalse(wanted('other_suite'))
            os.environ['TDX_DPAMT_KUNIT_SUITE'] = 'a, other_suite'
            wanted, _ = suite_matcher()
            self.assertTrue(wanted('other_suite'))
            self.assertFalse(wanted('tdx_dpamt'))
        finally:
            os.environ.pop('TDX_DPAMT_KUNIT_SUITE', None)
            if old is not None:
                os.environ['TDX_DPAMT_KUNIT_SUITE'] = old


if __name__ == '__main__':
    unittest.main()
