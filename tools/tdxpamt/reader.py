"""tdx-pamt: show this host's PAMT memory (sysfs) and, with --qmp, a TD's (QMP).

Host figures come from /sys/devices/faux/tdx_host/pamt/ (``--sysfs DIR`` to read another
directory). With ``--qmp SOCKET`` the tool also asks that QEMU ``query-tdx-pamt`` and shows
the TD's figures; if the host has no pamt/ directory, the host figures QEMU returns (if
any) are shown instead.

Exit status:
  0  success
  2  bad command line
  3  no initialised TDX module (pamt/ does not exist) and no --qmp
  4  a sysfs file is missing, unreadable or malformed
  5  cannot talk to QEMU: no socket, connection refused, closed, timed out
  6  this QEMU has no query-tdx-pamt
  7  QMP error or protocol error (the message says which)
"""

import argparse
import json
import sys

from . import sysfs
from .qmp import (QMPClient, QMPCommandError, QMPConnectError, QMPError,
                  QMPProtocolError)
from .units import human, percent

PROG = "tdx-pamt"
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_NO_TDX = 3
EXIT_SYSFS = 4
EXIT_CONNECT = 5
EXIT_NO_COMMAND = 6
EXIT_QMP = 7

HOST_KEYS = ("tdx-memory-bytes", "static-bytes", "static-equivalent-bytes", "dynamic-bytes",
             "dynamic-peak-bytes", "metadata-bytes", "saved-bytes")
GUEST_KEYS = ("pages", "dynamic-bytes", "static-equivalent-bytes", "saved-bytes")
QMP_MODES = ("none", "static", "dynamic")


class Failure(Exception):
    """Ends the program with a one-line message and an exit status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def query_qmp(path, timeout):
    """Return the validated answer of query-tdx-pamt from the QEMU at PATH."""
    try:
        with QMPClient(path, timeout=timeout) as qmp:
            answer = qmp.execute("query-tdx-pamt")
    except QMPCommandError as err:
        if err.cls == "CommandNotFound":
            raise Failure(EXIT_NO_COMMAND, "this QEMU has no query-tdx-pamt (needs the "
                                           "tdx-dpamt QEMU series): %s" % path) from None
        raise Failure(EXIT_QMP, "QEMU at %s: query-tdx-pamt failed: %s: %s"
                      % (path, err.cls, err.desc)) from None
    except QMPConnectError as err:
        raise Failure(EXIT_CONNECT, str(err)) from None
    except (QMPProtocolError, QMPError) as err:
        raise Failure(EXIT_QMP, str(err)) from None
    validate_answer(answer, path)
    return answer


def validate_answer(answer, path):
    def bad(why):
        raise Failure(EXIT_QMP, "unexpected answer to query-tdx-pamt from %s: %s" % (path, why))

    if not isinstance(answer, dict):
        bad("not an object")
    if answer.get("mode") not in QMP_MODES:
        bad("mode is %r, not one of none/static/dynamic" % (answer.get("mode"),))
    for part, keys in (("host", HOST_KEYS), ("guest", GUEST_KEYS)):
        if part not in answer:
            continue
        obj = answer[part]
        if not isinstance(obj, dict):
            bad("%s is not an object" % part)
        for key in keys:
            value = obj.get(key)
            if not isinstance(value, int) or isinstance(value, bool):
                bad("%s.%s is %s" % (part, key, "missing" if key not in obj
                                     else "not an integer"))


def _row(out, label, value, note=""):
    out.append(("  %-28s %-12s %s" % (label, value, note)).rstrip())


def format_host(out, title, h):
    """H uses sysfs names (underscores); QMP host objects are converted first."""
    out.append(title)
    _row(out, "mode", h["mode"])
    _row(out, "TDX memory", human(h["tdx_memory_bytes"]))
    _row(out, "static PAMT would be", human(h["static_equivalent_bytes"]),
         percent(h["static_equivalent_bytes"], h["tdx_memory_bytes"], 3) + " of TDX memory")
    _row(out, "allocated at init", human(h["static_bytes"]))
    _row(out, "page pairs now", human(h["dynamic_bytes"]),
         "(peak %s)" % human(h["dynamic_peak_bytes"]))
    _row(out, "kernel metadata", human(h["metadata_bytes"]))
    total = h["static_bytes"] + h["dynamic_bytes"] + h["metadata_bytes"]
    _row(out, "total now", human(total),
         percent(total, h["tdx_memory_bytes"], 3) + " of TDX memory")
    _row(out, "saved", human(h["saved_bytes"]),
         percent(h["saved_bytes"], h["static_equivalent_bytes"]) + " of static PAMT")
    if "pair_installs" in h:
        _row(out, "pair installs / removals", "%d / %d" % (h["pair_installs"],
                                                           h["pair_removals"]))
        _row(out, "leaked (failed REMOVE)", human(h["leaked_bytes"]))


def format_text(directory, host, host_missing, qmp_path, answer):
    out = []
    if host is not None:
        format_host(out, "Host PAMT (%s)" % directory, host)
    elif host_missing and answer is not None and "host" in answer:
        qh = {k.replace("-", "_"): v for k, v in answer["host"].items()}
        qh["mode"] = answer["mode"]
        format_host(out, "Host PAMT (from QEMU; %s does not exist here)" % directory, qh)
    elif host_missing:
        out.append("Host PAMT: no initialised TDX module on this host: %s does not exist"
                   % directory)
    if answer is not None:
        if out:
            out.append("")
        out.append("TD (QMP %s)" % qmp_path)
        _row(out, "mode", answer["mode"])
        guest = answer.get("guest")
        if answer["mode"] == "none":
            out.append("  no initialised TDX module on the host QEMU runs on")
        elif guest is None:
            out.append("  this VM is not a TD")
        else:
            _row(out, "4 KiB pages referenced", str(guest["pages"]))
            _row(out, "page pairs charged", human(guest["dynamic-bytes"]))
            _row(out, "static PAMT would be", human(guest["static-equivalent-bytes"]))
            _row(out, "saved", human(guest["saved-bytes"]),
                 percent(guest["saved-bytes"], guest["static-equivalent-bytes"])
                 + " of static PAMT")
    return "\n".join(out) + "\n"


class UsageError(Exception):
    """A command-line error; main() prints it as one line and exits with status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are raised, so main() prints one line to its stderr."""

    def error(self, message):
        raise UsageError(message)


def build_parser():
    p = _Parser(prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
                description="Show the PAMT memory of this TDX host (sysfs) and of a TD "
                            "(QMP query-tdx-pamt).",
                epilog=__doc__.split("\n\n", 2)[2])
    p.add_argument("--sysfs", default=sysfs.DEFAULT_DIR, metavar="DIR",
                   help="host PAMT directory (default %s)" % sysfs.DEFAULT_DIR)
    p.add_argument("--qmp", metavar="SOCKET",
                   help="QEMU QMP unix socket (e.g. -qmp unix:SOCKET,server=on,wait=off)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                   help="QMP timeout (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def run(args):
    host = None
    host_missing = False
    try:
        host = sysfs.read_host(args.sysfs)
    except sysfs.NoTdxModule as err:
        if not args.qmp:
            raise Failure(EXIT_NO_TDX, str(err)) from None
        host_missing = True
    except sysfs.SysfsFileError as err:
        raise Failure(EXIT_SYSFS, str(err)) from None
    answer = query_qmp(args.qmp, args.timeout) if args.qmp else None

    if args.json:
        doc = {"sysfs": {"path": args.sysfs, "present": host is not None}}
        if host is not None:
            doc["sysfs"].update(host)
        if args.qmp:
            doc["qmp"] = {"socket": args.qmp}
            doc["qmp"].update(answer)
        return json.dumps(doc, indent=2) + "\n"
    return format_text(args.sysfs, host, host_missing, args.qmp, answer)


def main(argv=None, stdout=None, stderr=None):
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except UsageError as err:
        stderr.write("%s: error: %s (see --help)\n" % (PROG, err))
        return EXIT_USAGE
    if args.timeout <= 0:
        stderr.write("%s: error: --timeout must be greater than 0\n" % PROG)
        return EXIT_USAGE
    try:
        stdout.write(run(args))
    except Failure as err:
        stderr.write("%s: %s\n" % (PROG, err))
        return err.status
    return EXIT_OK
