"""A fake QEMU QMP server on a unix socket, run in a thread, for the tdx-pamt tests."""

import json
import os
import socket
import threading

GREETING = {"QMP": {"version": {"qemu": {"micro": 2, "minor": 2, "major": 10},
                                "package": "fake"}, "capabilities": ["oob"]}}

# query-tdx-pamt of the QEMU series v2: a 4 GiB TD on a 1 TiB Dynamic PAMT host
STATS_DYNAMIC = {
    "status": "available",
    "referenced-pages": 131072,
    "pair-bytes": 2 << 20,
    "pair-installs": 300,
    "cache-bytes": 80 << 10,
}
# The kernel's metadata on that host (pamt.c, v2): counts, pending bits and hash tables
# for 1 TiB (2 MiB + 64 KiB + 3 x 256 KiB), and a 120-byte record for each of the 1280
# installed pairs (dynamic-bytes) and the 10 pairs in the TD's vCPU caches (cache-bytes)
METADATA = 2949120 + (1280 + 10) * 120
HOST_DYNAMIC = {
    "status": "available",
    "mode": "dynamic",
    "static-bytes": 41959424,
    "dynamic-bytes": 20 << 20,
    "metadata-bytes": METADATA,
    "static-equivalent-bytes": 4303372288,
    "leaked-bytes": 0,
}
ANSWER_DYNAMIC = {"vm": "td", "stats": STATS_DYNAMIC, "host": HOST_DYNAMIC}


class FakeQMP:
    """BEHAVIOUR is one of:

    normal   greet, accept qmp_capabilities, answer query-tdx-pamt with ANSWER (a dict), or
             with ERROR (class, desc); other commands get CommandNotFound
    close    accept and close at once
    garbage  send a non-QMP line and close
    silent   accept and never say anything
    hangup   greet, accept qmp_capabilities, close when asked anything else
    EVENTS asynchronous events are sent before each answer; CHUNK > 0 sends every message
    pretty-printed, CHUNK bytes at a time.
    """

    def __init__(self, path, behaviour="normal", answer=None, error=None, events=0,
                 chunk=0, echo_id=True):
        self.path = path
        self.behaviour = behaviour
        self.answer = ANSWER_DYNAMIC if answer is None else answer
        self.error = error
        self.events = events
        self.chunk = chunk
        self.echo_id = echo_id
        self.received = []
        self.failure = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.sock.settimeout(0.05)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self):
        self.stop.set()
        self.thread.join(20)
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _send(self, conn, msg):
        if self.chunk:
            data = (json.dumps(msg, indent=4) + "\r\n").encode()
            for i in range(0, len(data), self.chunk):
                conn.sendall(data[i:i + self.chunk])
        else:
            conn.sendall((json.dumps(msg) + "\r\n").encode())

    def _serve(self):
        while True:                 # poll, so that close() ends a server nobody called
            try:
                conn, _ = self.sock.accept()
                break
            except socket.timeout:
                if self.stop.is_set():
                    return
            except OSError as err:
                self.failure = err
                return
        conn.settimeout(20)
        with conn:
            try:
                self._talk(conn)
            except Exception as err:       # noqa: BLE001 - surfaced through .failure
                self.failure = err

    def _talk(self, conn):
        if self.behaviour == "close":
            return
        if self.behaviour == "garbage":
            conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
            return
        if self.behaviour == "silent":
            while conn.recv(4096):
                pass
            return
        self._send(conn, GREETING)
        for line in conn.makefile("rb"):
            msg = json.loads(line)
            self.received.append(msg)
            cmd = msg.get("execute")
            if cmd == "qmp_capabilities":
                reply = {"return": {}}
            elif self.behaviour == "hangup":
                return
            elif cmd == "query-tdx-pamt":
                for n in range(self.events):
                    self._send(conn, {"event": "RTC_CHANGE", "data": {"offset": n},
                                      "timestamp": {"seconds": 1, "microseconds": n}})
                if self.error:
                    reply = {"error": {"class": self.error[0], "desc": self.error[1]}}
                else:
                    reply = {"return": self.answer}
            else:
                reply = {"error": {"class": "CommandNotFound",
                                   "desc": "The command %s has not been found" % cmd}}
            if self.echo_id and "id" in msg:
                reply["id"] = msg["id"]
            self._send(conn, reply)
