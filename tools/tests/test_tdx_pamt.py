"""tdx-pamt: fake sysfs directories and a fake QMP server on a unix socket."""

import io
import json
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from tdxpamt import reader, sysfs
from tdxpamt.qmp import QMPClient, QMPCommandError, QMPConnectError, QMPProtocolError
from tests.fakeqmp import ANSWER_DYNAMIC, FakeQMP, HOST_DYNAMIC, METADATA, STATS_DYNAMIC

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MiB = 1 << 20

# The v2 kernel file set of a 1 TiB Dynamic PAMT host
GOOD = {
    "mode": "dynamic",
    "static_bytes": 41959424,              # 1G + 2M levels + bitmap for 1 TiB
    "dynamic_bytes": 20 * MiB,             # 1280 pairs
    "metadata_bytes": METADATA,            # tests/fakeqmp.py: metadata of that host
    "static_equivalent_bytes": 4303372288,
    "leaked_bytes": 0,
}
SAVED = 4303372288 - 41959424 - 20 * MiB - METADATA


def run_main(*argv):
    out, err = io.StringIO(), io.StringIO()
    status = reader.main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


class TempDir(unittest.TestCase):
    def setUp(self):
        # short path: AF_UNIX socket paths are limited to 107 bytes
        self.tmp = tempfile.mkdtemp(prefix="tdxpamt-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        # the device directory tdx_host/ exists only once write_sysfs() made pamt/
        self.pamt = os.path.join(self.tmp, "tdx_host", "pamt")

    def write_sysfs(self, values=None, **override):
        os.makedirs(self.pamt, exist_ok=True)
        values = dict(GOOD if values is None else values, **override)
        for name, value in values.items():
            with open(os.path.join(self.pamt, name), "w") as f:
                f.write("%s\n" % value)

    def sock(self, name="qmp.sock"):
        return os.path.join(self.tmp, name)

    def assert_failure(self, argv, status, message):
        code, out, err = run_main(*argv)
        self.assertEqual(code, status, err)
        self.assertEqual(out, "")
        self.assertEqual(err.count("\n"), 1, err)
        self.assertIn(message, err)
        return err


class Sysfs(TempDir):
    def test_reads_every_file(self):
        self.write_sysfs()
        info = sysfs.read_host(self.pamt)
        for name, value in GOOD.items():
            self.assertEqual(info[name], value)
        self.assertEqual(info["errors"], [])
        self.assertEqual(sysfs.derived(info),
                         {"in_use_bytes": 41959424 + 20 * MiB + METADATA,
                          "saved_bytes": SAVED})

    def test_files_of_other_kernels_are_ignored(self):
        # v1 of the kernel series had these; they are not read any more
        self.write_sysfs(dict(GOOD, tdx_memory_bytes="x", pair_installs="y"))
        info = sysfs.read_host(self.pamt)
        self.assertEqual(info["errors"], [])
        self.assertNotIn("tdx_memory_bytes", info)

    def test_static_mode(self):
        self.write_sysfs(mode="static", static_bytes=4303372288, dynamic_bytes=0,
                         metadata_bytes=0)
        info = sysfs.read_host(self.pamt)
        self.assertEqual(info["mode"], "static")
        self.assertEqual(sysfs.derived(info)["saved_bytes"], 0)

    def test_full_range(self):
        # nothing is clamped: the kernel's u64 is shown as it is
        self.write_sysfs(static_equivalent_bytes=2 ** 64 - 1)
        info = sysfs.read_host(self.pamt)
        self.assertEqual(info["static_equivalent_bytes"], 2 ** 64 - 1)

    def test_text_output(self):
        self.write_sysfs()
        code, out, err = run_main("--sysfs", self.pamt)
        self.assertEqual((code, err), (0, ""))
        self.assertIn("Host PAMT (%s)" % self.pamt, out)
        self.assertRegex(out, r"mode\s+dynamic")
        self.assertRegex(out, r"allocated at init\s+40\.0 MiB")
        self.assertRegex(out, r"page pairs now\s+20\.0 MiB")
        self.assertRegex(out, r"kernel metadata\s+3\.0 MiB")
        self.assertRegex(out, r"leaked\s+0\.0 KiB")
        self.assertRegex(out, r"total now\s+63\.0 MiB\s+1\.5% of static PAMT")
        self.assertRegex(out, r"static PAMT would be\s+4\.0 GiB")
        self.assertRegex(out, r"saved\s+3\.9 GiB\s+98\.5% of static PAMT")
        self.assertNotIn("TD (QMP", out)
        self.assertNotIn("error", out)

    def test_json_output(self):
        self.write_sysfs()
        code, out, err = run_main("--sysfs", self.pamt, "--json")
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["sysfs"]["present"], True)
        self.assertEqual(doc["sysfs"]["dynamic_bytes"], 20 * MiB)
        self.assertEqual(doc["sysfs"]["saved_bytes"], SAVED)
        self.assertEqual(doc["sysfs"]["errors"], [])
        self.assertNotIn("qmp", doc)

    def test_missing_directory(self):
        with self.assertRaises(sysfs.NoPamtDirectory) as ctx:
            sysfs.read_host(self.pamt)
        self.assertTrue(ctx.exception.no_device)
        self.assert_failure(["--sysfs", self.pamt], reader.EXIT_NO_TDX,
                            "tdx-pamt: no initialised TDX module on this host: "
                            "%s does not exist" % self.pamt)

    def test_device_without_pamt(self):
        # the device directory is the parent of pamt/
        os.mkdir(os.path.dirname(self.pamt))
        pamt = self.pamt
        with self.assertRaises(sysfs.NoPamtDirectory) as ctx:
            sysfs.read_host(pamt)
        self.assertFalse(ctx.exception.no_device)
        self.assert_failure(["--sysfs", pamt], reader.EXIT_NO_TDX,
                            "the host kernel does not report PAMT usage: %s does not "
                            "exist" % pamt)

    def test_missing_directory_default_message(self):
        if os.path.exists(sysfs.DEFAULT_DIR):
            self.skipTest("this host has %s" % sysfs.DEFAULT_DIR)
        err = self.assert_failure([], reader.EXIT_NO_TDX, "")
        self.assertIn("/sys/devices/faux/tdx_host/pamt does not exist", err)

    def bad_file(self, name, message):
        """NAME is bad: only its value is missing, the rest is shown, exit 4."""
        path = os.path.join(self.pamt, name)
        info = sysfs.read_host(self.pamt)
        self.assertIsNone(info[name])
        self.assertEqual(len(info["errors"]), 1)
        self.assertTrue(info["errors"][0].startswith(path + ": "), info["errors"])
        self.assertIn(message, info["errors"][0])
        for other in sysfs.FILES:
            if other != name:
                self.assertEqual(info[other], GOOD[other])
        code, out, err = run_main("--sysfs", self.pamt)
        self.assertEqual(code, reader.EXIT_SYSFS)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertIn(path, err)
        self.assertIn("error: %s" % info["errors"][0], out)
        self.assertIn("unavailable", out)
        return out

    def test_malformed_values(self):
        cases = {
            "dynamic_bytes": ["abc", "-5", "0x10", "", "1 2", "12.5", "+3", " 7", "1\n"],
            "mode": ["none", "Dynamic", "", "dynamic "],
        }
        for name, values in cases.items():
            for value in values:
                with self.subTest(file=name, value=value):
                    self.write_sysfs(**{name: value})
                    self.bad_file(name, "malformed")

    def test_binary_content(self):
        self.write_sysfs()
        with open(os.path.join(self.pamt, "leaked_bytes"), "wb") as f:
            f.write(b"\xff\xfe\x00")
        self.bad_file("leaked_bytes", "is not text")

    def test_too_long(self):
        self.write_sysfs(leaked_bytes="0" * 33)
        self.bad_file("leaked_bytes", "longer than 32 bytes")

    def test_missing_file(self):
        for name in sysfs.FILES:
            with self.subTest(file=name):
                self.write_sysfs()
                os.unlink(os.path.join(self.pamt, name))
                out = self.bad_file(name, "missing")
                if name not in ("mode", "leaked_bytes"):
                    # what cannot be computed is not made up
                    self.assertRegex(out, r"saved\s+unavailable")

    def test_unreadable_file(self):
        # a directory where a file should be (root can read any file, so no chmod here)
        self.write_sysfs()
        path = os.path.join(self.pamt, "metadata_bytes")
        os.unlink(path)
        os.mkdir(path)
        self.bad_file("metadata_bytes", "cannot read")

    def test_pamt_is_not_a_directory(self):
        os.mkdir(os.path.dirname(self.pamt))
        with open(self.pamt, "w") as f:
            f.write("x")
        self.assert_failure(["--sysfs", self.pamt], reader.EXIT_SYSFS, "is not a directory")

    def test_bad_sysfs_is_reported_even_with_qmp(self):
        self.write_sysfs(static_bytes="oops")
        with FakeQMP(self.sock()):
            code, out, err = run_main("--sysfs", self.pamt, "--qmp", self.sock())
        self.assertEqual(code, reader.EXIT_SYSFS)
        self.assertIn(os.path.join(self.pamt, "static_bytes"), err)
        self.assertIn("TD (QMP %s)" % self.sock(), out)


class QmpClient(TempDir):
    def test_handshake_and_query(self):
        with FakeQMP(self.sock()) as server:
            with QMPClient(self.sock(), timeout=5) as qmp:
                self.assertEqual(qmp.greeting["version"]["qemu"]["major"], 10)
                self.assertEqual(qmp.execute("query-tdx-pamt"), ANSWER_DYNAMIC)
        self.assertIsNone(server.failure)
        self.assertEqual([m["execute"] for m in server.received],
                         ["qmp_capabilities", "query-tdx-pamt"])
        self.assertEqual([m["id"] for m in server.received], [1, 2])

    def test_events_are_skipped(self):
        with FakeQMP(self.sock(), events=3):
            with QMPClient(self.sock(), timeout=5) as qmp:
                self.assertEqual(qmp.execute("query-tdx-pamt"), ANSWER_DYNAMIC)

    def test_pretty_printed_in_small_chunks(self):
        with FakeQMP(self.sock(), events=2, chunk=7):
            with QMPClient(self.sock(), timeout=5) as qmp:
                self.assertEqual(qmp.execute("query-tdx-pamt"), ANSWER_DYNAMIC)

    def test_answer_without_id(self):
        with FakeQMP(self.sock(), echo_id=False):
            with QMPClient(self.sock(), timeout=5) as qmp:
                self.assertEqual(qmp.execute("query-tdx-pamt"), ANSWER_DYNAMIC)

    def test_command_not_found(self):
        with FakeQMP(self.sock()):
            with QMPClient(self.sock(), timeout=5) as qmp:
                with self.assertRaises(QMPCommandError) as ctx:
                    qmp.execute("query-nothing")
        self.assertEqual(ctx.exception.cls, "CommandNotFound")

    def test_missing_socket(self):
        with self.assertRaisesRegex(QMPConnectError, "no QMP socket at"):
            QMPClient(self.sock(), timeout=5).connect()

    def test_closed_immediately(self):
        with FakeQMP(self.sock(), behaviour="close"):
            with self.assertRaisesRegex(QMPConnectError, "closed the QMP connection"):
                QMPClient(self.sock(), timeout=5).connect()

    def test_not_qmp(self):
        with FakeQMP(self.sock(), behaviour="garbage"):
            with self.assertRaisesRegex(QMPProtocolError, "does not speak QMP"):
                QMPClient(self.sock(), timeout=5).connect()

    def test_silent_server_times_out(self):
        with FakeQMP(self.sock(), behaviour="silent"):
            client = QMPClient(self.sock(), timeout=0.3)
            with self.assertRaisesRegex(QMPConnectError,
                                        "timed out after 0.3 s waiting for the QMP greeting"):
                client.connect()
            client.close()


class TdxPamtQmp(TempDir):
    def test_dynamic_td(self):
        self.write_sysfs()
        with FakeQMP(self.sock(), events=1) as server:
            code, out, err = run_main("--sysfs", self.pamt, "--qmp", self.sock())
        self.assertIsNone(server.failure)
        self.assertEqual((code, err), (0, ""))
        self.assertIn("Host PAMT (%s)" % self.pamt, out)
        self.assertIn("TD (QMP %s)" % self.sock(), out)
        td = out.split("TD (QMP", 1)[1]
        self.assertRegex(td, r"4 KiB pages referenced\s+131072")
        self.assertRegex(td, r"page pairs charged\s+2\.0 MiB\s+10\.0% of the host's page pairs")
        self.assertRegex(td, r"pairs installed so far\s+300")
        self.assertRegex(td, r"pair caches \(vCPUs\)\s+80\.0 KiB")

    def test_json(self):
        self.write_sysfs()
        with FakeQMP(self.sock()):
            code, out, err = run_main("--sysfs", self.pamt, "--qmp", self.sock(), "--json")
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["qmp"]["socket"], self.sock())
        self.assertEqual(doc["qmp"]["vm"], "td")
        self.assertEqual(doc["qmp"]["stats"], STATS_DYNAMIC)
        self.assertEqual(doc["qmp"]["host"], HOST_DYNAMIC)
        self.assertEqual(doc["sysfs"]["static_bytes"], 41959424)

    def test_no_sysfs_uses_qemu_host_figures(self):
        with FakeQMP(self.sock()):
            code, out, err = run_main("--sysfs", self.pamt, "--qmp", self.sock())
        self.assertEqual((code, err), (0, ""))
        self.assertIn("Host PAMT (from QEMU; here: no initialised TDX module on this host: "
                      "%s does not exist)" % self.pamt, out)
        self.assertRegex(out, r"page pairs now\s+20\.0 MiB")
        self.assertRegex(out, r"saved\s+3\.9 GiB")

    def test_qemu_host_figures_partly_unreadable(self):
        host = dict(HOST_DYNAMIC, errors=["/sys/devices/faux/tdx_host/pamt/leaked_bytes: "
                                          "Permission denied"])
        del host["leaked-bytes"]
        with FakeQMP(self.sock(), answer=dict(ANSWER_DYNAMIC, host=host)):
            code, out, err = run_main("--sysfs", self.pamt, "--qmp", self.sock())
        self.assertEqual((code, err), (0, ""))
        self.assertRegex(out, r"leaked\s+unavailable")
        self.assertIn("error: /sys/devices/faux/tdx_host/pamt/leaked_bytes: "
                      "Permission denied", out)

    def test_qemu_without_host_figures(self):
        cases = [
            ({"status": "unavailable", "reason": "/sys/devices/faux/tdx_host: Permission "
                                                 "denied"},
             "QEMU cannot read them: /sys/devices/faux/tdx_host: Permission denied"),
            ({"status": "no-tdx-module"}, "QEMU sees no TDX module device"),
            ({"status": "no-accounting"}, "QEMU's host kernel does not report PAMT usage"),
        ]
        for host, message in cases:
            with self.subTest(host=host):
                with FakeQMP(self.sock(), answer=dict(ANSWER_DYNAMIC, host=host)):
                    code, out, err = run_main("--sysfs", self.pamt, "--qmp", self.sock())
                self.assertEqual((code, err), (0, ""))
                self.assertIn(message, out)
                # the TD's figures do not depend on the host's
                self.assertRegex(out, r"page pairs charged\s+2\.0 MiB\n")

    def test_not_a_td(self):
        self.write_sysfs()
        with FakeQMP(self.sock(), answer={"vm": "not-a-td"}):
            code, out, err = run_main("--sysfs", self.pamt, "--qmp", self.sock())
        self.assertEqual((code, err), (0, ""))
        self.assertIn("this VM is not a TD", out)
        self.assertIn("Host PAMT (%s)" % self.pamt, out)

    def test_not_a_td_without_sysfs(self):
        with FakeQMP(self.sock(), answer={"vm": "not-a-td"}):
            code, out, err = run_main("--sysfs", self.pamt, "--qmp", self.sock())
        self.assertEqual((code, err), (0, ""))
        self.assertIn("Host PAMT: no initialised TDX module on this host", out)
        self.assertIn("QEMU reports host figures only for a TD", out)

    def test_unsupported(self):
        with FakeQMP(self.sock(), answer={"vm": "unsupported"}):
            code, out, err = run_main("--sysfs", self.pamt, "--qmp", self.sock())
        self.assertEqual((code, err), (0, ""))
        self.assertIn("this QEMU cannot run TDs (built without TDX support)", out)

    def test_no_accounting(self):
        self.write_sysfs()
        answer = {"vm": "td", "stats": {"status": "no-accounting"},
                  "host": {"status": "no-accounting"}}
        with FakeQMP(self.sock(), answer=answer):
            code, out, err = run_main("--sysfs", self.pamt, "--qmp", self.sock())
        self.assertEqual((code, err), (0, ""))
        self.assertIn("the host kernel does not account Dynamic PAMT per TD", out)

    def test_command_not_found(self):
        self.write_sysfs()
        with FakeQMP(self.sock(), error=("CommandNotFound",
                                         "The command query-tdx-pamt has not been found")):
            err = self.assert_failure(["--sysfs", self.pamt, "--qmp", self.sock()],
                                      reader.EXIT_NO_COMMAND,
                                      "this QEMU has no query-tdx-pamt (needs the tdx-dpamt "
                                      "QEMU series)")
        self.assertIn(self.sock(), err)

    def test_generic_error(self):
        self.write_sysfs()
        with FakeQMP(self.sock(), error=("GenericError", "cannot read host PAMT")):
            self.assert_failure(["--sysfs", self.pamt, "--qmp", self.sock()],
                                reader.EXIT_QMP, "GenericError: cannot read host PAMT")

    def test_bad_answers(self):
        self.write_sysfs()
        stats = dict(STATS_DYNAMIC)
        del stats["cache-bytes"]
        cases = [
            ({"mode": "dynamic"}, "vm is None"),
            ({"vm": "maybe"}, "vm is 'maybe'"),
            ({"vm": "td"}, "stats is missing"),
            ({"vm": "td", "stats": []}, "stats is not an object"),
            (dict(ANSWER_DYNAMIC, stats=stats), "stats.cache-bytes is missing"),
            (dict(ANSWER_DYNAMIC, stats=dict(STATS_DYNAMIC, **{"pair-bytes": "x"})),
             "stats.pair-bytes is not an integer"),
            (dict(ANSWER_DYNAMIC, stats={"status": "fine"}), "stats.status is 'fine'"),
            ({"vm": "td", "stats": STATS_DYNAMIC}, "host is missing"),
            (dict(ANSWER_DYNAMIC, host={"status": "unavailable"}), "host.reason is missing"),
            (dict(ANSWER_DYNAMIC, host=dict(HOST_DYNAMIC, mode="none")),
             "host.mode is 'none'"),
            (dict(ANSWER_DYNAMIC, host=dict(HOST_DYNAMIC, **{"leaked-bytes": True})),
             "host.leaked-bytes is not an integer"),
            (dict(ANSWER_DYNAMIC, host=dict(HOST_DYNAMIC, errors="x")),
             "host.errors is not a list of strings"),
        ]
        for answer, message in cases:
            with self.subTest(answer=answer):
                with FakeQMP(self.sock(), answer=answer):
                    self.assert_failure(["--sysfs", self.pamt, "--qmp", self.sock()],
                                        reader.EXIT_QMP, message)

    def test_missing_socket(self):
        self.write_sysfs()
        self.assert_failure(["--sysfs", self.pamt, "--qmp", self.sock()],
                            reader.EXIT_CONNECT, "no QMP socket at %s" % self.sock())

    def test_connection_refused(self):
        # a stale socket file: bound once, nobody listening any more
        self.write_sysfs()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(self.sock())
        s.close()
        self.assert_failure(["--sysfs", self.pamt, "--qmp", self.sock()],
                            reader.EXIT_CONNECT, "connection refused by %s" % self.sock())

    def test_server_closes_immediately(self):
        self.write_sysfs()
        with FakeQMP(self.sock(), behaviour="close"):
            self.assert_failure(["--sysfs", self.pamt, "--qmp", self.sock()],
                                reader.EXIT_CONNECT,
                                "QEMU closed the QMP connection at %s" % self.sock())

    def test_server_hangs_up_before_answering(self):
        self.write_sysfs()
        with FakeQMP(self.sock(), behaviour="hangup"):
            self.assert_failure(["--sysfs", self.pamt, "--qmp", self.sock()],
                                reader.EXIT_CONNECT,
                                "QEMU closed the QMP connection at %s before the answer to "
                                "query-tdx-pamt" % self.sock())

    def test_not_qmp(self):
        self.write_sysfs()
        with FakeQMP(self.sock(), behaviour="garbage"):
            self.assert_failure(["--sysfs", self.pamt, "--qmp", self.sock()],
                                reader.EXIT_QMP, "does not speak QMP")

    def test_timeout(self):
        self.write_sysfs()
        with FakeQMP(self.sock(), behaviour="silent"):
            self.assert_failure(["--sysfs", self.pamt, "--qmp", self.sock(),
                                 "--timeout", "0.3"],
                                reader.EXIT_CONNECT,
                                "timed out after 0.3 s waiting for the QMP greeting from %s"
                                % self.sock())

    def test_usage_errors(self):
        self.assert_failure(["--bogus"], reader.EXIT_USAGE, "unrecognized arguments")
        self.assert_failure(["--timeout", "0"], reader.EXIT_USAGE, "--timeout")


class Executable(TempDir):
    def run_tool(self, *argv):
        return subprocess.run([os.path.join(TOOLS, "tdx-pamt"), *argv],
                              capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))

    def test_exit_codes_reach_the_shell(self):
        p = self.run_tool("--sysfs", self.pamt)
        self.assertEqual(p.returncode, reader.EXIT_NO_TDX)
        self.assertEqual(len(p.stderr.splitlines()), 1)
        self.write_sysfs(mode="weird")
        p = self.run_tool("--sysfs", self.pamt)
        self.assertEqual(p.returncode, reader.EXIT_SYSFS)
        self.assertIn("mode", p.stdout)

    def test_with_fake_qemu(self):
        self.write_sysfs()
        with FakeQMP(self.sock()):
            p = self.run_tool("--sysfs", self.pamt, "--qmp", self.sock(), "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["qmp"]["stats"]["referenced-pages"], 131072)


if __name__ == "__main__":
    unittest.main()
