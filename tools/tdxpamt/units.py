"""Binary size parsing and human-readable formatting.

Sizes are binary: K = KiB = 1024, M = MiB = 2**20, G = GiB = 2**30, T = TiB = 2**40.
A plain number is bytes. A decimal mantissa is allowed ("1.5G") as long as the result is a
whole number of bytes. "GB"-style decimal suffixes are refused instead of silently read as
binary, so that nobody gets 7% off without noticing.
"""

import re
from fractions import Fraction

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
TiB = 1 << 40

_MULT = {"": 1, "K": KiB, "M": MiB, "G": GiB, "T": TiB}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:([KMGTkmgt])(i?[Bb])?)?\s*$")


class SizeError(ValueError):
    """A size string could not be parsed."""


def parse_size(text):
    """Return the number of bytes in TEXT ("1T", "256G", "512MiB", "4096")."""
    m = _SIZE_RE.match(text)
    if not m:
        raise SizeError("bad size %r (expected a number with an optional K/M/G/T suffix, "
                        "binary units, e.g. 256G or 1T)" % text)
    number, letter, tail = m.group(1), (m.group(2) or "").upper(), m.group(3)
    if tail is not None and tail.lower() != "ib":
        raise SizeError("bad size %r: sizes are binary, write %s or %siB"
                        % (text, number + letter, number + letter))
    value = Fraction(number) * _MULT[letter]
    if value.denominator != 1:
        raise SizeError("bad size %r: not a whole number of bytes" % text)
    return int(value)


def human(nbytes):
    """Format a byte count in KiB, MiB or GiB (TiB from 1 TiB on), one decimal."""
    sign = "-" if nbytes < 0 else ""
    n = abs(nbytes)
    if n >= TiB:
        unit, div = "TiB", TiB
    elif n >= GiB:
        unit, div = "GiB", GiB
    elif n >= MiB:
        unit, div = "MiB", MiB
    else:
        unit, div = "KiB", KiB
    return "%s%.1f %s" % (sign, n / div, unit)


def percent(part, whole, decimals=1):
    """PART as a percentage of WHOLE, formatted; "-" when WHOLE is 0."""
    if not whole:
        return "-"
    value = 100.0 * part / whole
    if part and abs(value) < 0.5 * 10 ** -decimals:
        if value < 0:
            return ">-%.*f%%" % (decimals, 10 ** -decimals)
        return "<%.*f%%" % (decimals, 10 ** -decimals)
    return "%.*f%%" % (decimals, value)
