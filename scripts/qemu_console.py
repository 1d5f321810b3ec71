# SPDX-License-Identifier: GPL-2.0
"""Run QEMU with the guest's serial console on its stdout, with a deadline.

Shared by scripts/run-kunit.py and tests/tdx-emu/run-emu.py: both boot a
kernel that powers off by itself and judge what it printed.
"""

import os
import selectors
import subprocess
import time


def run(cmd, timeout, log, stderr=subprocess.STDOUT, exit_grace=0,
        stall=None, on_stall=None):
    """Run @cmd, copy its console to @log line by line.

    Returns (exit code, console lines, timed out).  @stderr receives QEMU's
    own messages (default: mixed into the console).  @exit_grace seconds
    are granted after the console closes for QEMU to run its exit
    notifiers; QEMU is killed at the deadline or after the grace.  When
    the console stays silent for @stall seconds, on_stall(proc) is called
    while QEMU still runs (to ask it for its state) and the run ends as
    timed out.
    """
    log.write('# ' + ' '.join(cmd) + '\n')
    log.flush()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=stderr)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    buf, lines, timed_out = b'', [], False
    last_output = time.monotonic()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        if not sel.select(timeout=min(left, 1.0)):
            if proc.poll() is not None:
                break
            if stall and time.monotonic() - last_output > stall:
                if on_stall:
                    on_stall(proc)
                timed_out = True
                break
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        last_output = time.monotonic()
        buf += chunk
        *complete, buf = buf.split(b'\n')
        for raw in complete:
            line = raw.decode('utf-8', 'replace').rstrip('\r')
            log.write(line + '\n')
            lines.append(line)
    if buf:
        lines.append(buf.decode('utf-8', 'replace'))
        log.write(lines[-1] + '\n')
    if not timed_out and exit_grace:
        try:
            proc.wait(timeout=exit_grace)
        except subprocess.TimeoutExpired:
            timed_out = True
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    log.flush()
    return proc.returncode, lines, timed_out
