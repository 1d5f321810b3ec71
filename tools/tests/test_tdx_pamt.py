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
from tests.fakeqmp import ANSWER_DYNAMIC, FakeQMP, GUEST_DYNAMIC, HOST_DYNAMIC

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MiB = 1 << 20

GOOD = {
    "mode": "dynamic",
    "tdx_memory_bytes": 1 << 40,
    "static_bytes": 41959424,              # 1G + 2M levels + bitmap for 1 TiB
    "static_equivalent_bytes": 4303372288,
    "dynamic_bytes": 20 * MiB,
    "dynamic_peak_bytes": 24 * MiB,
    "metadata_bytes": 2 * MiB,
    "pair_installs": 2600,
    "pair_removals": 40,
    "leaked_bytes": 0,
}


def run_main(*argv):
    out, err = io.StringIO(), io.StringIO()
    status = reader.main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


class TempDir(unittest.TestCase):
    def setUp(self):
        # short path: AF_UNIX socket paths are limited to 107 bytes
        self.tmp = tempfile.mkdtemp(prefix="tdxpamt-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.pamt = os.path.join(self.tmp, "pamt")

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
        self.assertEqual(info["saved_bytes"], 4303372288 - 41959424 - 20 * MiB)

    def test_static_mode(self):
        self.write_sysfs(mode="static", static_bytes=4303372288, dynamic_bytes=0,
                         dynamic_peak_bytes=0, metadata_bytes=0, pair_installs=0,
                         pair_removals=0)
        info = sysfs.read_host(self.pamt)
        self.assertEqual(info["mode"], "static")
        self.assertEqual(info["saved_bytes"], 0)

    def test_text_output(self):
        self.write_sysfs()
        code, out, err = run_main("--sysfs", self.pamt)
        self.assertEqual((code, err), (0, ""))
        self.assertIn("Host PAMT (%s)" % self.pamt, out)
        self.assertRegex(out, r"mode\s+dynamic")
        self.assertRegex(out, r"TDX memory\s+1\.0 TiB")
        self.assertRegex(out, r"static PAMT would be\s+4\.0 GiB\s+0\.391% of TDX memory")
        self.assertRegex(out, r"allocated at init\s+40\.0 MiB")
        self.assertRegex(out, r"page pairs now\s+20\.0 MiB\s+\(peak 24\.0 MiB\)")
        self.assertRegex(out, r"total now\s+62\.0 MiB")
        self.assertRegex(out, r"saved\s+3\.9 GiB\s+98\.5% of static PAMT")
        self.assertRegex(out, r"pair installs / removals\s+2600 / 40")
        self.assertNotIn("TD (QMP", out)

    def test_json_output(self):
        self.write_sysfs()
        code, out, err = run_main("--sysfs", self.pamt, "--json")
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["sysfs"]["present"], True)
        self.assertEqual(doc["sysfs"]["dynamic_bytes"], 20 * MiB)
        self.assertEqual(doc["sysfs"]["saved_bytes"], 4303372288 - 41959424 - 20 * MiB)
        self.assertNotIn("qmp", doc)

    def test_missing_directory(self):
        with self.assertRaises(sysfs.NoTdxModule):
            sysfs.read_host(self.pamt)
        self.assert_failure(["--sysfs", self.pamt], reader.EXIT_NO_TDX,
                            "tdx-pamt: no initialised TDX module on this host: "
                            "%s does not exist" % self.pamt)

    def test_missing_directory_default_message(self):
        if os.path.exists(sysfs.DEFAULT_DIR):
            self.skipTest("this host has %s" % sysfs.DEFAULT_DIR)
        err = self.assert_failure([], reader.EXIT_NO_TDX, "")
        self.assertEqual(err, "tdx-pamt: no initialised TDX module on this host: "
                              "/sys/devices/faux/tdx_host/pamt does not exist\n")

    def test_malformed_values(self):
        cases = {
            "dynamic_bytes": ["abc", "-5", "0x10", "", "1 2", "12.5", "+3"],
            "mode": ["none", "Dynamic", ""],
        }
        for name, values in cases.items():
            for value in values:
                with self.subTest(file=name, value=value):
                    self.write_sysfs(**{name: value})
                    path = os.path.join(self.pamt, name)
                    err = self.assert_failure(["--sysfs", self.pamt], reader.EXIT_SYSFS, path)
                    self.assertIn("malformed", err)

    def test_binary_content(self):
        self.write_sysfs()
        path = os.path.join(self.pamt, "leaked_bytes")
        with open(path, "wb") as f:
            f.write(b"\xff\xfe\x00")
        err = self.assert_failure(["--sysfs", self.pamt], reader.EXIT_SYSFS, path)
        self.assertIn("malformed", err)

    def test_missing_file(self):
        for name in sysfs.FILES:
            with self.subTest(file=name):
                self.write_sysfs()
                path = os.path.join(self.pamt, name)
                os.unlink(path)
                self.assert_failure(["--sysfs", self.pamt], reader.EXIT_SYSFS,
                                    "missing sysfs file %s" % path)

    def test_unreadable_file(self):
        # a directory where a file should be (root can read any file, so no chmod here)
        self.write_sysfs()
        path = os.path.join(self.pamt, "metadata_bytes")
        os.unlink(path)
        os.mkdir(path)
        self.assert_failure(["--sysfs", self.pamt], reader.EXIT_SYSFS,
                            "cannot read sysfs file %s" % path)

    def test_pamt_is_not_a_directory(self):
        with open(self.pamt, "w") as f:
            f.write("x")
        self.assert_failure(["--sysfs", self.pamt], reader.EXIT_SYSFS, "is not a directory")

    def test_malformed_sysfs_is_an_error_even_with_qmp(self):
        self.write_sysfs(static_bytes="oops")
        with FakeQMP(self.sock()):
            self.assert_failure(["--sysfs", self.pamt, "--qmp", self.sock()],
                                reader.EXIT_SYSFS, os.path.join(self.pamt, "static_bytes"))


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
        self.assertRegex(td, r"mode\s+dynamic")
        self.assertRegex(td, r"4 KiB pages referenced\s+131072")
        self.assertRegex(td, r"page pairs charged\s+2\.0 MiB")
        self.assertRegex(td, r"static PAMT would be\s+16\.0 MiB")
        self.assertRegex(td, r"saved\s+14\.0 MiB\s+87\.5% of static PAMT")

    def test_json(self):
        self.write_sysfs()
        with FakeQMP(self.sock()):
            code, out, err = run_main("--sysfs", self.pamt, "--qmp", self.sock(), "--json")
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["qmp"]["socket"], self.sock())
        self.assertEqual(doc["qmp"]["mode"], "dynamic")
        self.assertEqual(doc["qmp"]["guest"], GUEST_DYNAMIC)
        self.assertEqual(doc["qmp"]["host"], HOST_DYNAMIC)
        self.assertEqual(doc["sysfs"]["pair_installs"], 2600)

    def test_no_sysfs_uses_qemu_host_figures(self):
        with FakeQMP(self.sock()):
            code, out, err = run_main("--sysfs", self.pamt, "--qmp", self.sock())
        self.assertEqual((code, err), (0, ""))
        self.assertIn("Host PAMT (from QEMU; %s does not exist here)" % self.pamt, out)
        self.assertRegex(out, r"page pairs now\s+20\.0 MiB\s+\(peak 24\.0 MiB\)")
        self.assertNotIn("pair installs", out)

    def test_mode_none(self):
        with FakeQMP(self.sock(), answer={"mode": "none"}):
            code, out, err = run_main("--sysfs", self.pamt, "--qmp", self.sock())
        self.assertEqual((code, err), (0, ""))
        self.assertIn("Host PAMT: no initialised TDX module on this host", out)
        self.assertIn("no initialised TDX module on the host QEMU runs on", out)

    def test_not_a_td(self):
        self.write_sysfs()
        with FakeQMP(self.sock(), answer={"mode": "dynamic", "host": HOST_DYNAMIC}):
            code, out, err = run_main("--sysfs", self.pamt, "--qmp", self.sock())
        self.assertEqual(code, 0, err)
        self.assertIn("this VM is not a TD", out)

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
        cases = [
            ({"mode": "maybe"}, "mode is 'maybe'"),
            ({"mode": "dynamic", "guest": {"pages": 1}}, "guest.dynamic-bytes is missing"),
            ({"mode": "dynamic", "host": dict(HOST_DYNAMIC, **{"saved-bytes": "x"})},
             "host.saved-bytes is not an integer"),
            ({"mode": "static", "host": []}, "host is not an object"),
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

    def test_with_fake_qemu(self):
        self.write_sysfs()
        with FakeQMP(self.sock()):
            p = self.run_tool("--sysfs", self.pamt, "--qmp", self.sock(), "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["qmp"]["guest"]["pages"], 131072)


if __name__ == "__main__":
    unittest.main()
