"""Read the host's PAMT figures from /sys/devices/faux/tdx_host/pamt/.

The directory exists while the TDX module is initialised and the kernel accounts PAMT
(tdx_host faux device). Each file holds one decimal value, except ``mode`` (``static`` or
``dynamic``). The file set is the kernel series' v2 ABI (see
kernel-patches/, Documentation/ABI/testing/sysfs-devices-faux-tdx-host).

A file that is missing, unreadable or malformed does not hide the others: its value is
None and the reason is listed in ``errors``, like QEMU's ``query-tdx-pamt`` does.
"""

import os
import re

DEFAULT_DIR = "/sys/devices/faux/tdx_host/pamt"
MODES = ("static", "dynamic")
NUMERIC_FILES = (
    "static_bytes",
    "dynamic_bytes",
    "metadata_bytes",
    "static_equivalent_bytes",
    "leaked_bytes",
)
FILES = ("mode",) + NUMERIC_FILES
_DECIMAL = re.compile(r"\A[0-9]+\Z")
# The longest value the kernel writes, newline included (as QEMU reads them)
VALUE_MAX = 32


class NoPamtDirectory(Exception):
    """The pamt/ directory does not exist.

    ``no_device`` tells the two reasons apart: True when the tdx_host device directory
    does not exist either (no initialised TDX module, or the tdx_host driver is not
    loaded), False when the device exists but the kernel does not report PAMT usage.
    """

    def __init__(self, directory):
        device = os.path.dirname(os.path.normpath(directory))
        self.no_device = not os.path.isdir(device)
        if self.no_device:
            msg = "no initialised TDX module on this host: %s does not exist" % directory
        else:
            msg = ("the host kernel does not report PAMT usage: %s does not exist "
                   "(a kernel without the tdx-dpamt series?)" % directory)
        super().__init__(msg)
        self.directory = directory


class SysfsDirError(Exception):
    """The pamt/ path exists but cannot be read as a directory."""


class _FileError(Exception):
    pass


def _read(path):
    try:
        with open(path, "rb") as f:
            raw = f.read(VALUE_MAX + 1)
    except FileNotFoundError:
        raise _FileError("%s: missing (a kernel with another PAMT file set?)" % path) from None
    except OSError as err:
        raise _FileError("%s: cannot read: %s" % (path, err.strerror or err)) from None
    if len(raw) > VALUE_MAX:
        raise _FileError("%s: malformed: longer than %d bytes" % (path, VALUE_MAX))
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise _FileError("%s: malformed: %r is not text" % (path, raw[:40])) from None
    if text.endswith("\n"):
        text = text[:-1]
    return text


def read_host(directory=DEFAULT_DIR):
    """Return a dict: every file's value (None if it could not be read) and ``errors``,
    a list of one message per file that could not be read, naming the file.

    Raises NoPamtDirectory when DIRECTORY does not exist and SysfsDirError when it is
    not a readable directory.
    """
    if not os.path.lexists(directory):
        raise NoPamtDirectory(directory)
    if not os.path.isdir(directory):
        raise SysfsDirError("%s is not a directory" % directory)
    if not os.access(directory, os.R_OK | os.X_OK):
        raise SysfsDirError("%s: cannot read the directory: Permission denied" % directory)
    info = {"errors": []}
    for name in FILES:
        path = os.path.join(directory, name)
        info[name] = None
        try:
            text = _read(path)
            if name == "mode":
                if text not in MODES:
                    raise _FileError("%s: malformed: %r is not static or dynamic"
                                     % (path, text[:40]))
                info[name] = text
            else:
                if not _DECIMAL.match(text):
                    raise _FileError("%s: malformed: %r is not a decimal number"
                                     % (path, text[:40]))
                info[name] = int(text)
        except _FileError as err:
            info["errors"].append(str(err))
    return info


def derived(info):
    """The arithmetic QEMU leaves to tools, from sysfs names (None where an input is
    missing):

    in_use_bytes  static_bytes + dynamic_bytes + metadata_bytes: what PAMT and its
                  bookkeeping cost now
    saved_bytes   static_equivalent_bytes - in_use_bytes: what Dynamic PAMT saves
                  against a static PAMT (0 in static mode; negative when it costs more)
    """
    parts = [info.get(k) for k in ("static_bytes", "dynamic_bytes", "metadata_bytes")]
    in_use = None if None in parts else sum(parts)
    se = info.get("static_equivalent_bytes")
    saved = None if in_use is None or se is None else se - in_use
    return {"in_use_bytes": in_use, "saved_bytes": saved}
