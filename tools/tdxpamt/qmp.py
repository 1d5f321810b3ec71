"""A minimal QMP client over a unix socket (standard library only).

Protocol: QEMU greets with {"QMP": {...}}; the client sends {"execute": "qmp_capabilities"}
and gets {"return": {}}; after that each {"execute": CMD, "id": N} is answered by
{"return": ...} or {"error": {"class": ..., "desc": ...}} carrying the same id. Asynchronous
{"event": ...} messages may arrive at any time and are skipped. Messages are JSON objects,
normally one per line; pretty-printed (multi-line) output is accepted too.
"""

import codecs
import json
import socket


class QMPError(Exception):
    """Base class of everything this client raises."""


class QMPConnectError(QMPError):
    """Could not talk to QEMU at all: no socket, refused, closed, timed out."""


class QMPProtocolError(QMPError):
    """QEMU (or whatever is at the socket) did not speak QMP as expected."""


class QMPCommandError(QMPError):
    """The command returned an error object."""

    def __init__(self, command, cls, desc):
        super().__init__("%s failed: %s: %s" % (command, cls, desc))
        self.command = command
        self.cls = cls
        self.desc = desc


class QMPClient:
    """Usage: with QMPClient(path) as qmp: qmp.execute("query-tdx-pamt")."""

    def __init__(self, path, timeout=10.0):
        self.path = path
        self.timeout = timeout
        self.greeting = None
        self._sock = None
        self._buf = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._json = json.JSONDecoder()
        self._next_id = 1

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        self.close()

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except FileNotFoundError:
            sock.close()
            raise QMPConnectError("no QMP socket at %s (is QEMU running with "
                                  "-qmp unix:%s,server=on,wait=off?)"
                                  % (self.path, self.path)) from None
        except ConnectionRefusedError:
            sock.close()
            raise QMPConnectError("connection refused by %s (nothing listens there: "
                                  "QEMU exited or the socket is stale)" % self.path) from None
        except socket.timeout:
            sock.close()
            raise QMPConnectError("timed out connecting to %s" % self.path) from None
        except OSError as err:
            sock.close()
            raise QMPConnectError("cannot connect to %s: %s"
                                  % (self.path, err.strerror or err)) from None
        self._sock = sock
        greeting = self._recv("the QMP greeting")
        if not isinstance(greeting.get("QMP"), dict):
            raise QMPProtocolError("%s did not greet with QMP (got %s)"
                                   % (self.path, _short(greeting)))
        self.greeting = greeting["QMP"]
        self.execute("qmp_capabilities")

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def execute(self, command, arguments=None):
        """Run COMMAND; return its "return" value or raise QMPCommandError."""
        if self._sock is None:
            raise QMPConnectError("not connected to %s" % self.path)
        cmd_id = self._next_id
        self._next_id += 1
        msg = {"execute": command, "id": cmd_id}
        if arguments:
            msg["arguments"] = arguments
        try:
            self._sock.sendall(json.dumps(msg).encode() + b"\n")
        except socket.timeout:
            raise QMPConnectError("timed out sending %s to %s" % (command, self.path)) from None
        except OSError as err:
            raise QMPConnectError("QEMU closed the QMP connection at %s (%s)"
                                  % (self.path, err.strerror or err)) from None
        while True:
            reply = self._recv("the answer to %s" % command)
            if "event" in reply:
                continue
            if "id" in reply and reply["id"] != cmd_id:
                continue
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                err = reply["error"]
                if not isinstance(err, dict):
                    err = {"desc": str(err)}
                raise QMPCommandError(command, err.get("class", "?"), err.get("desc", "?"))
            raise QMPProtocolError("unexpected QMP message from %s: %s"
                                   % (self.path, _short(reply)))

    def _recv(self, what):
        """Return the next JSON object from the socket."""
        while True:
            text = self._buf.lstrip()
            if text:
                if not text.startswith("{"):
                    raise QMPProtocolError("%s does not speak QMP (got %s)"
                                           % (self.path, _short(text)))
                try:
                    obj, end = self._json.raw_decode(text)
                except json.JSONDecodeError:
                    obj = None      # incomplete: read more
                if obj is not None:
                    self._buf = text[end:]
                    if not isinstance(obj, dict):
                        raise QMPProtocolError("%s sent a non-object: %s"
                                               % (self.path, _short(obj)))
                    return obj
                if len(text) > (16 << 20):
                    raise QMPProtocolError("%s sent more than 16 MiB of broken JSON"
                                           % self.path)
            try:
                chunk = self._sock.recv(65536)
            except socket.timeout:
                raise QMPConnectError("timed out after %g s waiting for %s from %s "
                                      "(another QMP client connected? QEMU stuck?)"
                                      % (self.timeout, what, self.path)) from None
            except OSError as err:
                raise QMPConnectError("QEMU closed the QMP connection at %s before %s (%s)"
                                      % (self.path, what, err.strerror or err)) from None
            if not chunk:
                if text:
                    raise QMPProtocolError("QEMU closed the QMP connection at %s in the "
                                           "middle of a message (%s)"
                                           % (self.path, _short(text)))
                raise QMPConnectError("QEMU closed the QMP connection at %s before %s"
                                      % (self.path, what))
            self._buf = text + self._decoder.decode(chunk)


def _short(obj, limit=80):
    text = obj if isinstance(obj, str) else json.dumps(obj)
    text = text.replace("\n", " ").strip()
    return text if len(text) <= limit else text[:limit] + "..."
