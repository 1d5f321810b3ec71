"""pamt-savings: what Dynamic PAMT saves on a given host with a given TD mix.

The model
=========

Terms. H is the host's TDX memory (memory covered by TDMRs) in bytes. E is the PAMT entry
size (16 bytes at every level in the TDX module ABI; ``--entry-size``). B is the number of
DPAMT bitmap bits per 4 KiB page (1 today; ``--bitmap-bits``). A *region* is a 2 MiB-aligned
2 MiB range of physical memory; the host has R = ceil(H / 2 MiB) of them. All divisions
below round up (a partial 1 GiB, 2 MiB or 4 KiB unit still needs its entry).

Static PAMT (Linux 7.3, every byte allocated at boot)::

    static_pamt = E * (ceil(H/1G) + ceil(H/2M) + H/4K)       # 1G + 2M + 4K levels

  With E = 16 that is 16/4096 of H (0.39%) plus the small 2M and 1G levels.

Dynamic PAMT::

    dpamt_static = E * (ceil(H/1G) + ceil(H/2M)) + ceil(H/4K * B / 8)   # 1G + 2M + bitmap
    pair         = 512 * E rounded up to whole 4 KiB pages                # 8 KiB = 2 pages
    pair_bytes   = pair * (number of regions holding at least one 4 KiB TDX page)
    metadata     = what the kernel's tdx_pamt_init() allocates for R regions:
                   PAGE_ALIGN(4 * R)                  # an atomic_t count per region
                 + ceil(R / 64) * 8                   # a pending bit per region, in longs
                 + 3 * 8 * roundup_pow_of_two(max(floor(R / 16), 64))
                                                      # three hash tables (by region and by
                                                      # each pair page), 8-byte buckets
    pair_records = 120 * (regions holding a pair)     # one struct pamt_pair per pair
    dpamt_total  = dpamt_static + pair_bytes + metadata + pair_records
    saved        = static_pamt - dpamt_total     (negative when DPAMT costs more)
    physical_min = 512 * E * (regions holding a 4 KiB TDX page)   # 8 KiB per such region

  For 1 TiB: metadata = 2 MiB + 64 KiB + 3 * 256 KiB = 2949120 bytes (0.000268% of H).
  120 bytes is sizeof(struct pamt_pair) on x86-64 (the slab allocates it from kmalloc-128);
  the host's sysfs ``metadata_bytes`` is metadata + the records of every allocated pair,
  including those in KVM's per-vCPU pair caches, which the model does not count.
  The kernel sizes its metadata from physical address 0 to the end of TDX memory, holes and
  non-TDX memory below that end included; the model takes H for that end (TDX memory from
  address 0, no holes), so it is a lower bound on a host whose TDX memory ends above H.
  ``physical_min`` is the 4K-level PAMT that any scheme must hold for the pages the TDs map
  at 4 KiB; DPAMT reaches it for the pairs and adds its static part and the metadata.

TDs. Each ``--td SIZE[:touched=F][:layout=L][:count=N]`` describes N identical TDs with SIZE
bytes of private memory (a multiple of 4 KiB). Let P = SIZE/4K pages.

* ``touched=F`` (0..1, or a percentage such as ``25%``; default 1) is the fraction of the TD's
  private memory mapped at 4 KiB, i.e. as 4 KiB TDX pages that need a page pair in their
  region. The rest is mapped with 2 MiB pages (S-EPT huge pages), which occupy whole regions
  and need no pair. Because the 2 MiB-mapped part is made of whole 2 MiB pages, the number
  of 2 MiB pages is floor(P * (1 - F) / 512) and the 4 KiB-mapped page count is
  P4 = P - 512 * that; so P4 >= F * P, and the effective fraction is reported.
  Linux 7.3 without S-EPT huge pages maps everything at 4 KiB: touched=1.
* ``layout=contiguous`` (default): the TD's 4 KiB pages are packed into whole regions of
  their own, so it needs ceil(P4 / 512) pairs. This is the best case.
* ``layout=scattered``: every 4 KiB page lands in a region of its own, a region no other TD
  page uses, as long as such regions are left; the remaining pages then share regions that
  already hold a pair. Regions are handed out in command-line order. The pool is the host's
  R regions minus those taken by all TDs' 2 MiB pages and by the contiguous TDs' pages;
  each scattered TD always gets at least its packed count ceil(P4 / 512), which is reserved
  for the scattered TDs that come later. So a group of N scattered TDs gets
  max(N * ceil(P4/512), min(N * P4, pool left)) regions. This is the worst case.
* ``count=N`` (default 1) repeats the TD N times.

Per TD: static_equivalent = SIZE * static_pamt / H (the TD's share of static PAMT, rounded
down), saved = static_equivalent - the TD's pair bytes. This is an estimate of the model
only: QEMU's ``query-tdx-pamt`` reports a TD's raw figures (its pair bytes, as KVM charges
them on first touch) and no share of static PAMT.
The TDs together may not be larger than H.

Not modelled: S-EPT page-table pages and TD control pages (TDR, TDCS, TDVPR, TDCX) are
4 KiB TDX pages too and need pairs in their regions; fold them into ``touched`` or add a
small TD for them. Pairs of regions shared by two TDs are counted once.
"""

import argparse
import json
import sys
from dataclasses import dataclass, field
from fractions import Fraction

from .units import KiB, MiB, GiB, SizeError, human, parse_size, percent

PAGE = 4 * KiB
REGION = 2 * MiB
PAGES_PER_REGION = REGION // PAGE          # 512
# Kernel metadata, as arch/x86/virt/vmx/tdx/pamt.c (v2) allocates and reports it
REFCOUNT_BYTES = 4                         # one atomic_t per 2 MiB region
LONG_BYTES = 8                             # the pending bitmap is made of longs
BUCKET_BYTES = 8                           # struct hlist_head
HASH_TABLES = 3                            # by region, by pair page 0, by pair page 1
REGIONS_PER_BUCKET = 16                    # PAMT_REGIONS_PER_BUCKET
MIN_BUCKETS = 64
PAIR_RECORD_BYTES = 120                    # sizeof(struct pamt_pair) on x86-64
LAYOUTS = ("contiguous", "scattered")
PROG = "pamt-savings"


class SimError(ValueError):
    """Bad input to the simulator; the message is one line for the operator."""


def _ceil_div(a, b):
    return -(-a // b)


def _roundup_pow_of_two(n):
    return 1 << (n - 1).bit_length()


def kernel_metadata(end_bytes):
    """The kernel's Dynamic PAMT metadata for TDX memory ending at END_BYTES (sized from
    address 0), as tdx_pamt_init() computes its metadata_bytes: a dict of byte counts."""
    regions = _ceil_div(end_bytes // PAGE, PAGES_PER_REGION)
    buckets = _roundup_pow_of_two(max(regions // REGIONS_PER_BUCKET, MIN_BUCKETS))
    return {
        "refcounts": _ceil_div(regions * REFCOUNT_BYTES, PAGE) * PAGE,
        "pending_bitmap": _ceil_div(regions, 8 * LONG_BYTES) * LONG_BYTES,
        "hash_tables": HASH_TABLES * buckets * BUCKET_BYTES,
    }


@dataclass
class TdSpec:
    text: str
    size: int
    touched: Fraction = Fraction(1)
    layout: str = "contiguous"
    count: int = 1

    @property
    def pages(self):
        return self.size // PAGE

    @property
    def huge_pages(self):
        """2 MiB pages in one instance (whole regions without a 4 KiB page)."""
        return int(self.pages * (1 - self.touched)) // PAGES_PER_REGION

    @property
    def pages_4k(self):
        """4 KiB-mapped pages in one instance."""
        return self.pages - self.huge_pages * PAGES_PER_REGION

    @property
    def packed_regions(self):
        return _ceil_div(self.pages_4k, PAGES_PER_REGION)


def parse_fraction(text):
    """"0.25", "25%", "1/4" -> Fraction; raises SimError outside 0..1."""
    raw = text.strip()
    try:
        if raw.endswith("%"):
            value = Fraction(raw[:-1].strip()) / 100
        else:
            value = Fraction(raw)
    except (ValueError, ZeroDivisionError):
        raise SimError("bad touched value %r (expected a fraction 0..1 or a percentage)"
                       % text) from None
    if not 0 <= value <= 1:
        raise SimError("touched=%s is outside 0..1" % text)
    return value


def parse_td(text):
    """Parse SIZE[:touched=F][:layout=contiguous|scattered][:count=N]."""
    parts = text.split(":")
    try:
        size = parse_size(parts[0])
    except SizeError as err:
        raise SimError("--td %s: %s" % (text, err)) from None
    if size <= 0:
        raise SimError("--td %s: TD size must be greater than 0" % text)
    if size % PAGE:
        raise SimError("--td %s: TD size must be a multiple of 4 KiB" % text)
    spec = TdSpec(text=text, size=size)
    seen = set()
    for opt in parts[1:]:
        key, sep, value = opt.partition("=")
        key = key.strip()
        if not sep or not value.strip():
            raise SimError("--td %s: expected KEY=VALUE, got %r" % (text, opt))
        if key in seen:
            raise SimError("--td %s: %s given twice" % (text, key))
        seen.add(key)
        value = value.strip()
        if key == "touched":
            try:
                spec.touched = parse_fraction(value)
            except SimError as err:
                raise SimError("--td %s: %s" % (text, err)) from None
        elif key == "layout":
            if value not in LAYOUTS:
                raise SimError("--td %s: layout must be contiguous or scattered, not %r"
                               % (text, value))
            spec.layout = value
        elif key == "count":
            if not value.isdigit() or int(value) < 1:
                raise SimError("--td %s: count must be a whole number >= 1, not %r"
                               % (text, value))
            spec.count = int(value)
        else:
            raise SimError("--td %s: unknown option %r (touched, layout, count)" % (text, key))
    return spec


@dataclass
class TdRow:
    spec: TdSpec
    pair_regions: int = 0
    pair_bytes: int = 0
    static_equivalent_bytes: int = 0
    saved_bytes: int = 0

    def as_json(self):
        s = self.spec
        return {
            "spec": s.text,
            "size_bytes": s.size,
            "count": s.count,
            "layout": s.layout,
            "touched": float(s.touched),
            "touched_effective": s.pages_4k / s.pages,
            "pages_4k": s.pages_4k,
            "huge_pages_2m": s.huge_pages,
            "pair_regions": self.pair_regions,
            "pair_bytes": self.pair_bytes,
            "static_equivalent_bytes": self.static_equivalent_bytes,
            "saved_bytes": self.saved_bytes,
        }


@dataclass
class Result:
    host_bytes: int
    entry_size: int
    bitmap_bits: int
    regions: int
    static_levels: dict
    dpamt_static_levels: dict
    pair_size: int
    pair_regions: int
    metadata_parts: dict
    rows: list = field(default_factory=list)

    @property
    def static_pamt_bytes(self):
        return sum(self.static_levels.values())

    @property
    def dpamt_static_bytes(self):
        return sum(self.dpamt_static_levels.values())

    @property
    def pair_bytes(self):
        return self.pair_regions * self.pair_size

    @property
    def metadata_bytes(self):
        return sum(self.metadata_parts.values())

    @property
    def pair_record_bytes(self):
        return self.pair_regions * PAIR_RECORD_BYTES

    @property
    def dpamt_total_bytes(self):
        return (self.dpamt_static_bytes + self.pair_bytes + self.metadata_bytes +
                self.pair_record_bytes)

    @property
    def physical_min_bytes(self):
        return self.pair_regions * PAGES_PER_REGION * self.entry_size

    @property
    def saved_bytes(self):
        return self.static_pamt_bytes - self.dpamt_total_bytes

    @property
    def saved_percent(self):
        return round(100.0 * self.saved_bytes / self.static_pamt_bytes, 4)

    def as_json(self):
        return {
            "host_tdx_memory_bytes": self.host_bytes,
            "entry_size_bytes": self.entry_size,
            "bitmap_bits": self.bitmap_bits,
            "regions_2m": self.regions,
            "static_pamt_bytes": self.static_pamt_bytes,
            "static_pamt_levels": dict(self.static_levels),
            "dpamt_static_bytes": self.dpamt_static_bytes,
            "dpamt_static_levels": dict(self.dpamt_static_levels),
            "pair_size_bytes": self.pair_size,
            "pair_regions": self.pair_regions,
            "pair_bytes": self.pair_bytes,
            "metadata_bytes": self.metadata_bytes,
            "metadata_parts": dict(self.metadata_parts),
            "pair_record_bytes": self.pair_record_bytes,
            "dpamt_total_bytes": self.dpamt_total_bytes,
            "physical_min_bytes": self.physical_min_bytes,
            "saved_bytes": self.saved_bytes,
            "saved_percent": self.saved_percent,
            "tds": [row.as_json() for row in self.rows],
        }


def simulate(host, tds, entry_size=16, bitmap_bits=1):
    """Run the model (see the module docstring). TDS is a list of TdSpec."""
    if host <= 0:
        raise SimError("host TDX memory must be greater than 0")
    if host % PAGE:
        raise SimError("host TDX memory must be a multiple of 4 KiB")
    if entry_size < 1:
        raise SimError("--entry-size must be at least 1 byte")
    if bitmap_bits < 0:
        raise SimError("--bitmap-bits must not be negative")
    total = sum(td.size * td.count for td in tds)
    if total > host:
        raise SimError("the TD mix (%s) is larger than the host's TDX memory (%s)"
                       % (human(total), human(host)))

    pages = host // PAGE
    regions = _ceil_div(host, REGION)
    gigs = _ceil_div(host, GiB)
    static_levels = {"1g": gigs * entry_size, "2m": regions * entry_size,
                     "4k": pages * entry_size}
    dpamt_levels = {"1g": gigs * entry_size, "2m": regions * entry_size,
                    "bitmap": _ceil_div(pages * bitmap_bits, 8)}
    pair_size = _ceil_div(PAGES_PER_REGION * entry_size, PAGE) * PAGE
    res = Result(host_bytes=host, entry_size=entry_size, bitmap_bits=bitmap_bits,
                 regions=regions, static_levels=static_levels,
                 dpamt_static_levels=dpamt_levels, pair_size=pair_size, pair_regions=0,
                 metadata_parts=kernel_metadata(host))

    rows = [TdRow(spec=td) for td in tds]
    # Regions not taken by 2 MiB pages or by contiguous TDs are the scattered TDs' pool.
    pool = regions
    for row in rows:
        td = row.spec
        pool -= td.count * td.huge_pages
        if td.layout == "contiguous":
            row.pair_regions = td.count * td.packed_regions
            pool -= row.pair_regions
    reserve = sum(r.spec.count * r.spec.packed_regions for r in rows
                  if r.spec.layout == "scattered")
    for row in rows:
        td = row.spec
        if td.layout != "scattered":
            continue
        need = td.count * td.packed_regions
        reserve -= need
        got = max(need, min(td.count * td.pages_4k, pool - reserve))
        row.pair_regions = got
        pool -= got

    for row in rows:
        td = row.spec
        row.pair_bytes = row.pair_regions * pair_size
        row.static_equivalent_bytes = td.size * td.count * res.static_pamt_bytes // host
        row.saved_bytes = row.static_equivalent_bytes - row.pair_bytes
        res.pair_regions += row.pair_regions
    res.rows = rows
    return res


def format_text(res):
    """The operator's table."""
    out = []
    out.append("Host TDX memory %s (%d regions of 2 MiB), PAMT entry %d B, bitmap %d bit%s "
               "per 4 KiB page" % (human(res.host_bytes), res.regions, res.entry_size,
                                   res.bitmap_bits, "" if res.bitmap_bits == 1 else "s"))
    out.append("")
    if res.rows:
        head = ("TD", "count", "memory", "4K-mapped", "layout", "pairs", "pair memory",
                "static equiv.", "saved")
        table = [head]
        for row in res.rows:
            td = row.spec
            table.append((td.text, str(td.count), human(td.size),
                          percent(td.pages_4k, td.pages), td.layout, str(row.pair_regions),
                          human(row.pair_bytes), human(row.static_equivalent_bytes),
                          human(row.saved_bytes)))
        widths = [max(len(r[i]) for r in table) for i in range(len(head))]
        left = {0, 4}
        for r in table:
            cells = [c.ljust(w) if i in left else c.rjust(w)
                     for i, (c, w) in enumerate(zip(r, widths))]
            out.append("  ".join(cells).rstrip())
        out.append("")
    else:
        out.append("No TDs (an idle host).")
        out.append("")

    def line(label, nbytes, note=""):
        out.append("%-36s %12s  %s" % (label, human(nbytes), note) if note
                   else "%-36s %12s" % (label, human(nbytes)))

    host = res.host_bytes
    out.append("%-36s %12s  %s" % ("", "memory", "of host"))
    line("Static PAMT (all at boot)", res.static_pamt_bytes,
         percent(res.static_pamt_bytes, host, 3))
    line("  1G + 2M levels", res.static_levels["1g"] + res.static_levels["2m"])
    line("  4K level", res.static_levels["4k"])
    line("Dynamic PAMT total", res.dpamt_total_bytes, percent(res.dpamt_total_bytes, host, 3))
    line("  static part (1G + 2M + bitmap)", res.dpamt_static_bytes,
         percent(res.dpamt_static_bytes, host, 3))
    line("  page pairs (%d x %s)" % (res.pair_regions, human(res.pair_size).replace(".0 ", " ")),
         res.pair_bytes, percent(res.pair_bytes, host, 3))
    line("  kernel metadata (counts, hashes)", res.metadata_bytes,
         percent(res.metadata_bytes, host, 3))
    line("  pair records (%d x %d B)" % (res.pair_regions, PAIR_RECORD_BYTES),
         res.pair_record_bytes, percent(res.pair_record_bytes, host, 3))
    line("Physical minimum (4K entries in use)", res.physical_min_bytes,
         percent(res.physical_min_bytes, host, 3))
    out.append("%-36s %12s  %s of static PAMT" % ("Saved", human(res.saved_bytes),
                                                  percent(res.saved_bytes,
                                                          res.static_pamt_bytes)))
    return "\n".join(out) + "\n"


class UsageError(Exception):
    """A command-line error; main() prints it as one line and exits with status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are raised, so main() prints one line to its stderr."""

    def error(self, message):
        raise UsageError(message)


EPILOG = """\
TD spec: SIZE[:touched=F][:layout=contiguous|scattered][:count=N]
  SIZE      private memory of one TD, binary units (512M, 64G, 1T); a multiple of 4 KiB
  touched   fraction of that memory mapped at 4 KiB (0..1 or a percentage, default 1);
            the rest is mapped with 2 MiB pages, which need no page pair. The 4 KiB part
            is rounded up so that the rest is whole 2 MiB pages.
  layout    contiguous (default): the 4 KiB pages are packed into whole 2 MiB-aligned
            regions, ceil(pages/512) pairs (best case).
            scattered: each 4 KiB page sits in a 2 MiB region of its own that no other TD
            page uses, while the host has such regions left (regions not used by 2 MiB
            pages or contiguous TDs, handed out in command-line order; every TD keeps at
            least its packed count); the other pages share those regions (worst case).
  count     number of such TDs (default 1)

Model (details: docs/tools.md, tools/tdxpamt/simulate.py):
  static PAMT  = 1G + 2M + 4K levels, --entry-size bytes per entry (16 B per 4 KiB)
  Dynamic PAMT = 1G + 2M levels + bitmap (--bitmap-bits per 4 KiB page)
               + a page pair (512 entries = 8 KiB) per 2 MiB region holding a 4 KiB TDX page
               + kernel metadata: a 4-byte count and a pending bit per 2 MiB region
                 and three hash tables of 1/16 bucket per region (2.8 MiB per TiB)
               + a 120-byte record per page pair
  physical minimum = 8 KiB per 2 MiB region holding a 4 KiB TDX page
  Page tables and TD control pages are not modelled: fold them into touched.

Examples:
  pamt-savings --host 1T --td 64G:touched=0.1:count=8
  pamt-savings --host 256G --td 16G:layout=scattered:touched=5% --json
"""


def build_parser():
    p = _Parser(prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
                description="Estimate the PAMT memory Dynamic PAMT saves on a TDX host "
                            "for a given TD mix.", epilog=EPILOG)
    p.add_argument("--host", required=True, metavar="SIZE",
                   help="host TDX memory (memory covered by TDMRs), e.g. 256G or 1T")
    p.add_argument("--td", action="append", default=[], metavar="SPEC",
                   help="a TD (or COUNT equal TDs); repeatable; see below")
    p.add_argument("--entry-size", type=int, default=16, metavar="BYTES",
                   help="PAMT entry size in bytes (default 16)")
    p.add_argument("--bitmap-bits", type=int, default=1, metavar="BITS",
                   help="DPAMT bitmap bits per 4 KiB page (default 1)")
    p.add_argument("--json", action="store_true", help="print exact byte counts as JSON")
    return p


def main(argv=None, stdout=None, stderr=None):
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except UsageError as err:
        stderr.write("%s: error: %s (see --help)\n" % (PROG, err))
        return 2
    try:
        try:
            host = parse_size(args.host)
        except SizeError as err:
            raise SimError("--host: %s" % err) from None
        tds = [parse_td(t) for t in args.td]
        res = simulate(host, tds, entry_size=args.entry_size, bitmap_bits=args.bitmap_bits)
    except SimError as err:
        stderr.write("%s: error: %s\n" % (PROG, err))
        return 2
    if args.json:
        json.dump(res.as_json(), stdout, indent=2)
        stdout.write("\n")
    else:
        stdout.write(format_text(res))
    return 0
