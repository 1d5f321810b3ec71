#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot a KUnit kernel under QEMU (TCG) and judge its KTAP output.

The kernel runs its built-in KUnit suites at boot and powers off
(kunit_shutdown=reboot; QEMU runs with -no-reboot, so it exits).  The serial console is read with a deadline;
the KTAP is parsed with the kernel tree's own parser
(tools/testing/kunit/kunit_parser.py), so a missing result, a crash or a
malformed plan counts as a failure exactly as kunit.py would count it.

Fails (exit 1, one line naming the cause) when the kernel does not boot,
prints no KTAP within the timeout, panics, or when any case fails or is
missing, or a suite named with --require-suite did not run.  Prints
'N passed, N failed[, N skipped]' as its last line.
"""

import argparse
import os
import re
import sys
import time

import qemu_console


def boot(args, log):
    cmd = [args.qemu, '-nodefaults', '-m', str(args.memory), '-smp', str(args.smp),
           '-nographic', '-serial', 'stdio', '-monitor', 'none', '-no-reboot',
           '-L', args.firmware, '-bios', 'qboot.rom', '-accel', 'tcg',
           '-kernel', args.kernel,
           '-append', 'console=ttyS0 kunit_shutdown=reboot panic=-1 ' + args.append]
    return qemu_console.run(cmd, args.timeout, log)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--qemu', required=True)
    ap.add_argument('--firmware', required=True, help='dir with qboot.rom')
    ap.add_argument('--kernel', required=True, help='bzImage')
    ap.add_argument('--linux-src', required=True, help='tree with tools/testing/kunit')
    ap.add_argument('--timeout', type=int, default=300)
    ap.add_argument('--memory', type=int, default=1024)
    ap.add_argument('--smp', type=int, default=2)
    ap.add_argument('--append', default='')
    ap.add_argument('--log', default='kunit-console.log')
    ap.add_argument('--require-suite', action='append', default=[],
                    help='fail unless this suite ran (repeatable)')
    args = ap.parse_args()

    for path, what in ((args.qemu, 'QEMU binary'), (args.kernel, 'kernel image'),
                       (os.path.join(args.firmware, 'qboot.rom'), 'qboot firmware')):
        if not os.path.exists(path):
            print(f'error: {what} {path} does not exist', file=sys.stderr)
            return 1

    sys.path.insert(0, os.path.join(args.linux_src, 'tools/testing/kunit'))
    import kunit_parser  # noqa: E402  (from the kernel tree)
    import kunit_printer  # noqa: E402

    start = time.monotonic()
    with open(args.log, 'w') as log:
        rc, lines, timed_out = boot(args, log)
    took = time.monotonic() - start

    panic = next((l for l in lines if re.search(r'Kernel panic|BUG: |KASAN: |'
                                                r'WARNING: possible .*lock|'
                                                r'possible circular locking|'
                                                r'inconsistent lock state', l)), None)
    test = kunit_parser.parse_run_tests(lines, kunit_printer.Printer(output=sys.stdout))
    c = test.counts
    suites = [t.name for t in test.subtests]
    print(f'kernel ran {len(suites)} KUnit suite(s) in {took:.1f}s: {", ".join(suites)}')
    print(f'console log: {args.log}')

    cause = None
    if panic:
        cause = f'kernel reported: {panic.strip()}'
    elif not any('KTAP version' in l or 'TAP version' in l for l in lines):
        cause = (f'no KTAP output within {args.timeout}s' if timed_out else
                 f'kernel printed no KTAP (QEMU exited with {rc}); did it boot?')
    elif timed_out:
        cause = f'kernel did not finish within {args.timeout}s'
    elif c.failed or c.crashed or c.errors:
        cause = f'{c.failed} failed, {c.crashed} crashed, {c.errors} parse errors (missing or malformed results)'
    elif c.total() == 0:
        cause = 'no KUnit test case ran'
    else:
        missing = [s for s in args.require_suite if s not in suites]
        if missing:
            cause = f'required suite(s) did not run: {", ".join(missing)}'

    failed = c.failed + c.crashed + (1 if cause and not (c.failed or c.crashed) else 0)
    if cause:
        print(f'error: {cause}', file=sys.stderr)
    print(f'{c.passed} passed, {failed} failed, {c.skipped} skipped')
    return 1 if cause else 0


if __name__ == '__main__':
    sys.exit(main())
