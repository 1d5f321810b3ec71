"""Read the host's PAMT figures from /sys/devices/faux/tdx_host/pamt/.

The directory exists only while the TDX module is initialised (tdx-host faux device). Each
file holds one decimal value, except ``mode`` (``static`` or ``dynamic``). See the
accounting contract in shared/design/architecture.md, section 6.
"""

import os
import re

DEFAULT_DIR = "/sys/devices/faux/tdx_host/pamt"
MODES = ("static", "dynamic")
NUMERIC_FILES = (
    "tdx_memory_bytes",
    "static_bytes",
    "static_equivalent_bytes",
    "dynamic_bytes",
    "dynamic_peak_bytes",
    "metadata_bytes",
    "pair_installs",
    "pair_removals",
    "leaked_bytes",
)
FILES = ("mode",) + NUMERIC_FILES
_DECIMAL = re.compile(r"^[0-9]+$")


class NoTdxModule(Exception):
    """The pamt/ directory does not exist: no initialised TDX module."""

    def __init__(self, directory):
        super().__init__("no initialised TDX module on this host: %s does not exist"
                         % directory)
        self.directory = directory


class SysfsFileError(Exception):
    """A file under pamt/ is missing, unreadable or malformed; the message names it."""

    def __init__(self, path, message):
        super().__init__(message)
        self.path = path


def _read(path):
    try:
        with open(path, "rb") as f:
            raw = f.read(4096)
    except FileNotFoundError:
        raise SysfsFileError(path, "missing sysfs file %s (kernel without the full "
                             "tdx-dpamt accounting?)" % path) from None
    except OSError as err:
        raise SysfsFileError(path, "cannot read sysfs file %s: %s"
                             % (path, err.strerror or err)) from None
    try:
        return raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise SysfsFileError(path, "malformed sysfs file %s: %r is not text"
                             % (path, raw[:40])) from None


def read_host(directory=DEFAULT_DIR):
    """Return a dict of every file's value plus the derived ``saved_bytes``.

    Raises NoTdxModule when DIRECTORY does not exist and SysfsFileError for a file that
    is missing, unreadable or malformed.
    """
    if not os.path.lexists(directory):
        raise NoTdxModule(directory)
    if not os.path.isdir(directory):
        raise SysfsFileError(directory, "%s is not a directory" % directory)
    info = {}
    path = os.path.join(directory, "mode")
    mode = _read(path)
    if mode not in MODES:
        raise SysfsFileError(path, "malformed sysfs file %s: %r is not static or dynamic"
                             % (path, mode[:40]))
    info["mode"] = mode
    for name in NUMERIC_FILES:
        path = os.path.join(directory, name)
        text = _read(path)
        if not _DECIMAL.match(text):
            raise SysfsFileError(path, "malformed sysfs file %s: %r is not a decimal number"
                                 % (path, text[:40]))
        info[name] = int(text)
    info["saved_bytes"] = saved_bytes(info)
    return info


def saved_bytes(info):
    """What the host saves against static PAMT now, defined as QEMU's host
    saved-bytes: static-equivalent - static - dynamic.  metadata_bytes (the
    kernel's refcounts) is reported on its own, as QEMU does."""
    return info["static_equivalent_bytes"] - info["static_bytes"] - info["dynamic_bytes"]
