"""tdx-pamt: show this host's PAMT memory (sysfs) and, with --qmp, a TD's (QMP).

Host figures come from /sys/devices/faux/tdx_host/pamt/ (``--sysfs DIR`` to read another
directory). With ``--qmp SOCKET`` the tool also asks that QEMU ``query-tdx-pamt`` and shows
the TD's figures; if this host's pamt/ directory cannot be used, the host figures QEMU
returns (if any) are shown instead.

Exit status:
  0  success
  2  bad command line
  3  no pamt/ directory (no initialised TDX module, or a kernel that does not report
     PAMT usage) and no --qmp
  4  a sysfs file or the directory is missing, unreadable or malformed (everything
     else that could be read is still shown)
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

# query-tdx-pamt (QEMU series v2): members of the TD's and the host's figures
TD_KEYS = ("referenced-pages", "pair-bytes", "pair-installs", "cache-bytes")
HOST_KEYS = ("static-bytes", "dynamic-bytes", "metadata-bytes",
             "static-equivalent-bytes", "leaked-bytes")
VM_KINDS = ("unsupported", "not-a-td", "td")
TD_STATUSES = ("no-accounting", "available")
HOST_STATUSES = ("no-tdx-module", "no-accounting", "unavailable", "available")


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


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def validate_answer(answer, path):
    """Check the shape of a TdxPamtInfo (QEMU series v2); raise Failure if it is wrong."""
    def bad(why):
        raise Failure(EXIT_QMP, "unexpected answer to query-tdx-pamt from %s: %s" % (path, why))

    def obj(parent, name):
        value = parent.get(name)
        if not isinstance(value, dict):
            bad("%s is %s" % (name, "missing" if name not in parent else "not an object"))
        return value

    if not isinstance(answer, dict):
        bad("not an object")
    if answer.get("vm") not in VM_KINDS:
        bad("vm is %r, not one of %s" % (answer.get("vm"), "/".join(VM_KINDS)))
    if answer["vm"] != "td":
        return
    stats = obj(answer, "stats")
    if stats.get("status") not in TD_STATUSES:
        bad("stats.status is %r" % (stats.get("status"),))
    if stats["status"] == "available":
        for key in TD_KEYS:
            if not _is_int(stats.get(key)):
                bad("stats.%s is %s" % (key, "missing" if key not in stats
                                        else "not an integer"))
    host = obj(answer, "host")
    if host.get("status") not in HOST_STATUSES:
        bad("host.status is %r" % (host.get("status"),))
    if host["status"] == "unavailable" and not isinstance(host.get("reason"), str):
        bad("host.reason is missing")
    if host["status"] == "available":
        if host.get("mode") not in sysfs.MODES:
            bad("host.mode is %r" % (host.get("mode"),))
        for key in HOST_KEYS:
            if key in host and not _is_int(host[key]):
                bad("host.%s is not an integer" % key)
        errors = host.get("errors", [])
        if not isinstance(errors, list) or not all(isinstance(e, str) for e in errors):
            bad("host.errors is not a list of strings")


def _row(out, label, value, note=""):
    out.append(("  %-28s %-12s %s" % (label, value, note)).rstrip())


def _size(value):
    return "unavailable" if value is None else human(value)


def format_host(out, title, h):
    """H uses sysfs names (underscores); QMP host objects are converted first."""
    out.append(title)
    _row(out, "mode", h.get("mode") or "unavailable")
    _row(out, "allocated at init", _size(h.get("static_bytes")))
    _row(out, "page pairs now", _size(h.get("dynamic_bytes")))
    _row(out, "kernel metadata", _size(h.get("metadata_bytes")))
    _row(out, "leaked", _size(h.get("leaked_bytes")))
    d = sysfs.derived(h)
    se = h.get("static_equivalent_bytes")
    _row(out, "total now", _size(d["in_use_bytes"]),
         "" if d["in_use_bytes"] is None or se is None
         else percent(d["in_use_bytes"], se) + " of static PAMT")
    _row(out, "static PAMT would be", _size(se))
    _row(out, "saved", _size(d["saved_bytes"]),
         "" if d["saved_bytes"] is None or se is None
         else percent(d["saved_bytes"], se) + " of static PAMT")
    for err in h.get("errors", []):
        out.append("  error: %s" % err)


def format_td(out, qmp_path, answer):
    out.append("TD (QMP %s)" % qmp_path)
    if answer["vm"] == "unsupported":
        out.append("  this QEMU cannot run TDs (built without TDX support)")
        return
    if answer["vm"] == "not-a-td":
        out.append("  this VM is not a TD")
        return
    stats = answer["stats"]
    if stats["status"] == "no-accounting":
        out.append("  the host kernel does not account Dynamic PAMT per TD")
        return
    host = answer["host"]
    share = ""
    if host["status"] == "available" and host.get("dynamic-bytes"):
        share = percent(stats["pair-bytes"], host["dynamic-bytes"]) + \
            " of the host's page pairs"
    _row(out, "4 KiB pages referenced", str(stats["referenced-pages"]))
    _row(out, "page pairs charged", human(stats["pair-bytes"]), share)
    _row(out, "pairs installed so far", str(stats["pair-installs"]))
    _row(out, "pair caches (vCPUs)", human(stats["cache-bytes"]))


def qmp_host(answer):
    """The host figures in QEMU's answer, with sysfs names, or a reason why there are
    none."""
    if answer["vm"] != "td":
        return None, "QEMU reports host figures only for a TD"
    host = answer["host"]
    if host["status"] == "available":
        h = {k.replace("-", "_"): v for k, v in host.items() if k != "status"}
        h.setdefault("errors", [])
        return h, None
    return None, {
        "no-tdx-module": "QEMU sees no TDX module device",
        "no-accounting": "QEMU's host kernel does not report PAMT usage",
        "unavailable": "QEMU cannot read them: %s" % host.get("reason"),
    }[host["status"]]


def format_text(directory, host, host_problem, qmp_path, answer):
    out = []
    if host is not None:
        format_host(out, "Host PAMT (%s)" % directory, host)
    elif answer is not None:
        qh, why = qmp_host(answer)
        if qh is not None:
            format_host(out, "Host PAMT (from QEMU; here: %s)" % host_problem, qh)
        else:
            out.append("Host PAMT: %s; %s" % (host_problem, why))
    if answer is not None:
        if out:
            out.append("")
        format_td(out, qmp_path, answer)
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
    """Return (text, status, stderr message or None)."""
    host = None
    host_problem = None
    status = EXIT_OK
    warning = None
    try:
        host = sysfs.read_host(args.sysfs)
    except sysfs.NoPamtDirectory as err:
        if not args.qmp:
            raise Failure(EXIT_NO_TDX, str(err)) from None
        host_problem = str(err)
    except sysfs.SysfsDirError as err:
        if not args.qmp:
            raise Failure(EXIT_SYSFS, str(err)) from None
        host_problem = str(err)
        status, warning = EXIT_SYSFS, str(err)
    if host is not None and host["errors"]:
        status = EXIT_SYSFS
        warning = "; ".join(host["errors"])
    answer = query_qmp(args.qmp, args.timeout) if args.qmp else None

    if args.json:
        doc = {"sysfs": {"path": args.sysfs, "present": host is not None}}
        if host is not None:
            doc["sysfs"].update(host)
            doc["sysfs"].update(sysfs.derived(host))
        else:
            doc["sysfs"]["problem"] = host_problem
        if args.qmp:
            doc["qmp"] = {"socket": args.qmp}
            doc["qmp"].update(answer)
        return json.dumps(doc, indent=2) + "\n", status, warning
    return format_text(args.sysfs, host, host_problem, args.qmp, answer), status, warning


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
        text, status, warning = run(args)
    except Failure as err:
        stderr.write("%s: %s\n" % (PROG, err))
        return err.status
    stdout.write(text)
    if warning:
        stderr.write("%s: %s\n" % (PROG, warning))
    return status
