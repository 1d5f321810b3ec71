#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sum the test cases of every suite from meson's testlog.json.

A test that prints its own 'N passed, N failed[, N skipped]' line counts
with those numbers (a failing test counts at least one failure); any other
test counts as one case.  Prints one line per suite and, last, the total as
'N passed, N failed, N skipped'.
"""

import json
import re
import sys
from collections import defaultdict

LINE = re.compile(r'^(?:\w+: )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$')


def main(path):
    per_suite = defaultdict(lambda: [0, 0, 0])
    with open(path) as f:
        for raw in f:
            t = json.loads(raw)
            # 'project:suite / test' (older meson also has a 'suite' list).
            suite = (t.get('suite') or [t['name'].split(' / ')[0]])[0].split(':')[-1]
            res = t['result']
            counts = None
            for line in (t.get('stdout') or '').splitlines():
                m = LINE.match(line.strip())
                if m:
                    counts = [int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)]
            if res == 'SKIP':
                counts = [0, 0, max(1, counts[2] if counts else 1)]
            elif counts is None:
                counts = [1, 0, 0] if res == 'OK' else [0, 1, 0]
            elif res != 'OK' and counts[1] == 0:
                counts[1] = 1
            for i in range(3):
                per_suite[suite][i] += counts[i]
    tot = [0, 0, 0]
    for suite in sorted(per_suite):
        p, f, s = per_suite[suite]
        print(f'  {suite:<12} {p} passed, {f} failed, {s} skipped')
        tot = [tot[0] + p, tot[1] + f, tot[2] + s]
    print(f'{tot[0]} passed, {tot[1]} failed, {tot[2]} skipped')
    return 1 if tot[1] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else 'build/meson-logs/testlog.json'))
