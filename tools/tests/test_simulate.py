"""pamt-savings: the model against hand-computed values, the output, and bad input."""

import io
import json
import os
import subprocess
import unittest

from tdxpamt.simulate import (SimError, format_text, kernel_metadata, main, parse_td,
                               simulate)

KiB, MiB, GiB, TiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40
TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_main(*argv):
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def sim(host, *tds, **kw):
    return simulate(host, [parse_td(t) for t in tds], **kw)


class HostMath(unittest.TestCase):
    """Static and DPAMT static parts, worked out by hand."""

    def test_256g_host(self):
        r = sim(256 * GiB)
        # 4K level: 16 B per 4 KiB = 256 GiB * 16/4096 = 1 GiB; 2M: 131072 * 16 = 2 MiB;
        # 1G: 256 * 16 = 4 KiB.
        self.assertEqual(r.static_levels, {"1g": 4 * KiB, "2m": 2 * MiB, "4k": 1 * GiB})
        self.assertEqual(r.static_pamt_bytes, 1073741824 + 2097152 + 4096)
        self.assertEqual(r.static_pamt_bytes, 1075843072)
        # bitmap: 67108864 pages * 1 bit / 8 = 8 MiB
        self.assertEqual(r.dpamt_static_levels, {"1g": 4 * KiB, "2m": 2 * MiB,
                                                 "bitmap": 8 * MiB})
        self.assertEqual(r.dpamt_static_bytes, 10489856)
        # 131072 regions: counts 512 KiB, pending bits 16 KiB, 3 x 8192 buckets of 8 B
        self.assertEqual(r.metadata_bytes, 512 * KiB + 16 * KiB + 3 * 64 * KiB)
        self.assertEqual(r.metadata_bytes, 737280)
        self.assertEqual(r.pair_bytes, 0)
        self.assertEqual(r.pair_record_bytes, 0)
        self.assertEqual(r.dpamt_total_bytes, 10489856 + 737280)
        self.assertEqual(r.saved_bytes, 1075843072 - 11227136)

    def test_2t_host(self):
        r = sim(2 * TiB)
        # 4K: 2 TiB * 16/4096 = 8 GiB; 2M: 1048576 * 16 = 16 MiB; 1G: 2048 * 16 = 32 KiB.
        self.assertEqual(r.static_pamt_bytes, 8 * GiB + 16 * MiB + 32 * KiB)
        self.assertEqual(r.static_pamt_bytes, 8606744576)
        self.assertEqual(r.static_levels["4k"], 2 * TiB * 16 // 4096)
        # bitmap: 536870912 pages / 8 = 64 MiB
        self.assertEqual(r.dpamt_static_bytes, 32 * KiB + 16 * MiB + 64 * MiB)
        # counts 4 MiB, pending bits 128 KiB, 3 x 65536 buckets of 8 B
        self.assertEqual(r.metadata_bytes, 4 * MiB + 128 * KiB + 3 * 512 * KiB)
        # "about 100x less": static part + metadata vs static PAMT
        ratio = r.static_pamt_bytes / (r.dpamt_static_bytes + r.metadata_bytes)
        self.assertTrue(90 < ratio < 110, ratio)

    def test_static_pamt_is_about_0_4_percent(self):
        r = sim(1 * TiB)
        self.assertAlmostEqual(r.static_pamt_bytes / TiB, 16 / 4096, places=4)

    def test_partial_units_round_up(self):
        # 1 GiB + 4 KiB: two 1G entries, 513 2M entries, 262145 4K entries
        r = sim(GiB + 4 * KiB)
        self.assertEqual(r.static_levels, {"1g": 32, "2m": 513 * 16, "4k": 262145 * 16})
        self.assertEqual(r.dpamt_static_levels["bitmap"], 32769)   # ceil(262145 / 8)
        # 513 regions: 2052 B of counts in a page, 9 longs of pending bits,
        # 513 // 16 = 32 buckets -> the minimum of 64, 512 B per table
        self.assertEqual(r.metadata_bytes, 4096 + 72 + 3 * 512)

    def test_entry_size_and_bitmap_bits(self):
        r = sim(256 * GiB, "1G", entry_size=8, bitmap_bits=2)
        self.assertEqual(r.static_levels, {"1g": 2 * KiB, "2m": 1 * MiB, "4k": 512 * MiB})
        self.assertEqual(r.dpamt_static_levels["bitmap"], 16 * MiB)
        self.assertEqual(r.pair_size, 4 * KiB)              # 512 * 8 B = one page
        self.assertEqual(r.pair_bytes, 512 * 4 * KiB)
        r = sim(256 * GiB, "1G", entry_size=20)
        self.assertEqual(r.pair_size, 12 * KiB)             # 10240 B rounded up to pages
        self.assertEqual(r.physical_min_bytes, 512 * 512 * 20)


class KernelMetadata(unittest.TestCase):
    """The kernel's metadata as tdx_pamt_init() (pamt.c, v2) sizes it: an atomic_t per
    2 MiB region from address 0 to the end of TDX memory (page-aligned), a pending bit per
    region in longs, and three hash tables of roundup_pow_of_two(max(regions / 16, 64))
    8-byte buckets. The values below are worked out by hand."""

    def test_1_tib(self):
        # 2^19 regions: counts 2^19 * 4 = 2 MiB; pending 2^19 / 64 longs * 8 = 64 KiB;
        # buckets 2^19 / 16 = 2^15, 2^15 * 8 B = 256 KiB per table.
        self.assertEqual(kernel_metadata(TiB), {"refcounts": 2097152,
                                                "pending_bitmap": 65536,
                                                "hash_tables": 3 * 262144})
        r = sim(TiB)
        self.assertEqual(r.metadata_bytes, 2949120)          # 2.8125 MiB
        self.assertEqual(r.metadata_bytes, 2 * MiB + 64 * KiB + 3 * 256 * KiB)
        self.assertEqual(round(100 * r.metadata_bytes / TiB, 6), 0.000268)

    def test_bucket_count_rounds_up_to_a_power_of_two(self):
        # 3 GiB: 1536 regions, 1536 // 16 = 96 -> 128 buckets (1 KiB per table);
        # counts 6144 B -> 8 KiB; pending 24 longs = 192 B
        self.assertEqual(sim(3 * GiB).metadata_bytes, 8192 + 192 + 3 * 1024)
        # 1.5 TiB: 786432 regions, 49152 -> 65536 buckets (512 KiB per table);
        # counts 3 MiB; pending 12288 longs = 96 KiB
        self.assertEqual(sim(3 * TiB // 2).metadata_bytes, 3 * MiB + 96 * KiB + 3 * 512 * KiB)

    def test_small_host_has_64_buckets(self):
        # 4 MiB: 2 regions; 8 B of counts in a page, one long, 64 buckets of 8 B per table
        self.assertEqual(sim(4 * MiB).metadata_bytes, 4096 + 8 + 3 * 512)

    def test_a_record_per_pair(self):
        r = sim(256 * GiB, "1G", "2G:touched=0.5:layout=scattered")
        self.assertEqual(r.metadata_bytes, 737280)           # does not depend on the TDs
        self.assertEqual(r.pair_record_bytes, r.pair_regions * 120)
        self.assertEqual(r.dpamt_total_bytes, r.dpamt_static_bytes + r.pair_bytes +
                         737280 + r.pair_regions * 120)


class TdMath(unittest.TestCase):
    def test_1g_td_fully_touched_contiguous(self):
        r = sim(256 * GiB, "1G")
        self.assertEqual(r.pair_regions, 512)
        self.assertEqual(r.pair_bytes, 4 * MiB)
        self.assertEqual(r.physical_min_bytes, 4 * MiB)
        row = r.rows[0]
        self.assertEqual(row.pair_bytes, 4 * MiB)
        # the TD's share of static PAMT: 1075843072 / 256
        self.assertEqual(row.static_equivalent_bytes, 4202512)
        self.assertEqual(row.saved_bytes, 4202512 - 4 * MiB)
        # static part + pairs + metadata + 512 records of 120 B
        self.assertEqual(r.dpamt_total_bytes, 10489856 + 4 * MiB + 737280 + 61440)
        self.assertEqual(r.saved_bytes, 1060360192)

    def test_touched_fractions_contiguous(self):
        # 1 GiB = 262144 pages = 512 regions. 2 MiB pages = floor(262144 * (1 - f) / 512);
        # the rest is 4 KiB-mapped and packed: pairs = 512 - that.
        cases = {
            "0": (0, 0),
            "0.01": (6, 3072),          # floor(506.88) = 506 huge
            "1%": (6, 3072),
            "0.1": (52, 26624),         # floor(460.8) = 460
            "10%": (52, 26624),
            "0.25": (128, 65536),
            "1/4": (128, 65536),
            "0.5": (256, 131072),
            "0.001": (1, 512),          # floor(511.488) = 511
            "0.002": (2, 1024),         # floor(510.976) = 510
            "0.999": (512, 262144),     # floor(0.512) = 0: nothing left for a 2 MiB page
            "1": (512, 262144),
            "100%": (512, 262144),
        }
        for touched, (pairs, pages_4k) in cases.items():
            with self.subTest(touched=touched):
                r = sim(256 * GiB, "1G:touched=" + touched)
                self.assertEqual(r.pair_regions, pairs)
                self.assertEqual(r.pair_bytes, pairs * 8 * KiB)
                self.assertEqual(r.rows[0].spec.pages_4k, pages_4k)
                self.assertGreaterEqual(pages_4k / 262144, float(r.rows[0].spec.touched))

    def test_tiny_touch_still_needs_one_pair(self):
        r = sim(256 * GiB, "1G:touched=0.000001")
        self.assertEqual(r.pair_regions, 1)

    def test_td_not_multiple_of_2m(self):
        # 3 MiB, nothing asked at 4K: one 2 MiB page, the last 1 MiB must be 4K-mapped.
        r = sim(GiB, "3M:touched=0")
        self.assertEqual(r.rows[0].spec.huge_pages, 1)
        self.assertEqual(r.rows[0].spec.pages_4k, 256)
        self.assertEqual(r.pair_regions, 1)

    def test_scattered_one_page_per_region(self):
        # 1 GiB at 1%: 3072 4K pages, each in its own region; plenty of regions on 256 GiB.
        r = sim(256 * GiB, "1G:touched=0.01:layout=scattered")
        self.assertEqual(r.pair_regions, 3072)
        self.assertEqual(r.pair_bytes, 3072 * 8 * KiB)          # 24 MiB
        self.assertEqual(r.pair_bytes, 24 * MiB)
        contiguous = sim(256 * GiB, "1G:touched=0.01")
        self.assertEqual(contiguous.pair_bytes, 48 * KiB)

    def test_scattered_runs_out_of_regions(self):
        # 64 MiB host = 32 regions; a 32 MiB TD fully 4K-mapped has 8192 pages but can
        # touch at most the 32 regions the host has.
        r = sim(64 * MiB, "32M:layout=scattered")
        self.assertEqual(r.pair_regions, 32)
        # two scattered 16 MiB TDs: the first takes all but the 8 reserved for the second
        r = sim(64 * MiB, "16M:layout=scattered", "16M:layout=scattered")
        self.assertEqual([row.pair_regions for row in r.rows], [24, 8])
        r = sim(64 * MiB, "16M:layout=scattered:count=2")
        self.assertEqual(r.pair_regions, 32)

    def test_scattered_pool_excludes_huge_pages_and_contiguous_tds(self):
        # 32 regions: 16 taken by a 2 MiB-mapped TD, 2 by a contiguous TD; 14 left.
        r = sim(64 * MiB, "32M:touched=0", "4M", "8M:layout=scattered")
        self.assertEqual([row.pair_regions for row in r.rows], [0, 2, 14])

    def test_scattered_fully_touched_equals_contiguous_when_host_is_full(self):
        a = sim(4 * GiB, "2G:layout=scattered", "2G")
        self.assertEqual(a.pair_regions, 2048)        # every region of the host
        self.assertEqual(a.pair_bytes, a.static_levels["4k"])

    def test_count_is_repetition(self):
        one = sim(1 * TiB, "64G:touched=0.1", "64G:touched=0.1", "64G:touched=0.1")
        three = sim(1 * TiB, "64G:touched=0.1:count=3")
        self.assertEqual(one.pair_bytes, three.pair_bytes)
        self.assertEqual(three.rows[0].pair_regions, 3 * 3277)   # 32768 - floor(29491.2)
        self.assertEqual(one.dpamt_total_bytes, three.dpamt_total_bytes)

    def test_everything_4k_costs_more_than_static(self):
        # If every region holds a 4K page, the pairs are the whole 4K level and DPAMT
        # costs the bitmap, the metadata and a record per region more than static PAMT.
        r = sim(256 * GiB, "256G")
        self.assertEqual(r.pair_bytes, r.static_levels["4k"])
        self.assertEqual(r.saved_bytes, -(8 * MiB + 737280 + 131072 * 120))
        self.assertLess(r.saved_percent, 0)

    def test_json_fields(self):
        status, out, err = run_main("--host", "256G", "--td", "1G", "--td",
                                    "2G:touched=50%:layout=scattered:count=2", "--json")
        self.assertEqual((status, err), (0, ""))
        doc = json.loads(out)
        for key in ("static_pamt_bytes", "dpamt_static_bytes", "pair_bytes", "metadata_bytes",
                    "pair_record_bytes", "dpamt_total_bytes", "saved_bytes",
                    "physical_min_bytes"):
            self.assertIsInstance(doc[key], int, key)
        self.assertEqual(doc["static_pamt_bytes"], 1075843072)
        self.assertEqual(doc["dpamt_static_bytes"], 10489856)
        self.assertEqual(doc["metadata_bytes"], 737280)
        self.assertEqual(doc["metadata_parts"], {"refcounts": 524288, "pending_bitmap": 16384,
                                                 "hash_tables": 196608})
        # 1G: 512 pairs. 2 x 2G at 50%: 512 2 MiB pages and 262144 scattered 4K pages each;
        # the pool is 131072 - 2 * 512 - 512 = 129536 regions < 2 * 262144, so they get
        # every region that is left.
        self.assertEqual(doc["pair_regions"], 512 + 129536)
        self.assertEqual(doc["pair_regions"] + 2 * 512, doc["regions_2m"])
        self.assertEqual(doc["pair_bytes"], (512 + 129536) * 8192)
        self.assertEqual(doc["pair_record_bytes"], (512 + 129536) * 120)
        self.assertEqual(doc["dpamt_total_bytes"],
                         doc["dpamt_static_bytes"] + doc["pair_bytes"] + doc["metadata_bytes"] +
                         doc["pair_record_bytes"])
        self.assertEqual(doc["saved_bytes"], doc["static_pamt_bytes"] - doc["dpamt_total_bytes"])
        self.assertAlmostEqual(doc["saved_percent"],
                               100 * doc["saved_bytes"] / doc["static_pamt_bytes"], places=3)
        rows = doc["tds"]
        self.assertEqual(len(rows), 2)
        self.assertEqual(rows[0]["pair_bytes"], 4 * MiB)
        self.assertEqual(rows[1]["count"], 2)
        self.assertEqual(rows[1]["layout"], "scattered")
        self.assertEqual(rows[1]["pages_4k"], 262144)
        self.assertEqual(rows[1]["huge_pages_2m"], 512)
        self.assertEqual(rows[1]["pair_regions"], 129536)
        self.assertEqual(rows[1]["static_equivalent_bytes"], 4 * GiB * 1075843072 // (256 * GiB))


class TextOutput(unittest.TestCase):
    def test_table(self):
        status, out, err = run_main("--host", "256G", "--td", "1G")
        self.assertEqual((status, err), (0, ""))
        self.assertIn("Host TDX memory 256.0 GiB (131072 regions of 2 MiB)", out)
        self.assertRegex(out, r"\n1G\s+1\s+1\.0 GiB\s+100\.0%\s+contiguous\s+512\s+4\.0 MiB")
        self.assertRegex(out, r"Static PAMT \(all at boot\)\s+1\.0 GiB\s+0\.391%")
        self.assertRegex(out, r"static part \(1G \+ 2M \+ bitmap\)\s+10\.0 MiB\s+0\.004%")
        self.assertRegex(out, r"page pairs \(512 x 8 KiB\)\s+4\.0 MiB")
        self.assertRegex(out, r"kernel metadata \(counts, hashes\)\s+720\.0 KiB")
        self.assertRegex(out, r"pair records \(512 x 120 B\)\s+60\.0 KiB")
        self.assertRegex(out, r"Saved\s+1011\.2 MiB\s+98\.6% of static PAMT")

    def test_idle_host(self):
        text = format_text(sim(1 * TiB))
        self.assertIn("No TDs", text)
        self.assertIn("page pairs (0 x 8 KiB)", text)


class BadInput(unittest.TestCase):
    def assert_error(self, argv, pattern):
        status, out, err = run_main(*argv)
        self.assertEqual(status, 2, err)
        self.assertEqual(out, "")
        self.assertEqual(err.count("\n"), 1, err)
        self.assertTrue(err.startswith("pamt-savings: error: "), err)
        self.assertRegex(err, pattern)

    def test_bad_sizes(self):
        self.assert_error(["--host", "lots"], r"--host: bad size 'lots'")
        self.assert_error(["--host", "1TB"], r"sizes are binary")
        self.assert_error(["--host", "0"], r"greater than 0")
        self.assert_error(["--host", "1000"], r"multiple of 4 KiB")
        self.assert_error(["--host", "1T", "--td", "xyz"], r"--td xyz: bad size")
        self.assert_error(["--host", "1T", "--td", "0"], r"greater than 0")
        self.assert_error(["--host", "1T", "--td", "5000"], r"multiple of 4 KiB")

    def test_touched_outside_range(self):
        for value in ("1.01", "-0.1", "101%", "2"):
            with self.subTest(value=value):
                self.assert_error(["--host", "1T", "--td", "1G:touched=" + value],
                                  r"outside 0\.\.1")
        self.assert_error(["--host", "1T", "--td", "1G:touched=half"], r"bad touched value")
        self.assert_error(["--host", "1T", "--td", "1G:touched=nan"], r"bad touched value")

    def test_td_options(self):
        self.assert_error(["--host", "1T", "--td", "1G:layout=random"], r"layout must be")
        self.assert_error(["--host", "1T", "--td", "1G:count=0"], r"count must be")
        self.assert_error(["--host", "1T", "--td", "1G:count=two"], r"count must be")
        self.assert_error(["--host", "1T", "--td", "1G:colour=red"], r"unknown option 'colour'")
        self.assert_error(["--host", "1T", "--td", "1G:touched"], r"expected KEY=VALUE")
        self.assert_error(["--host", "1T", "--td", "1G:count=1:count=2"], r"count given twice")

    def test_mix_larger_than_host(self):
        self.assert_error(["--host", "1T", "--td", "2T"],
                          r"TD mix \(2\.0 TiB\) is larger than the host's TDX memory \(1\.0 TiB\)")
        self.assert_error(["--host", "256G", "--td", "64G:count=5"], r"larger than the host")
        status, _, _ = run_main("--host", "256G", "--td", "64G:count=4")   # exactly full
        self.assertEqual(status, 0)

    def test_argument_errors_are_one_line(self):
        self.assert_error([], r"required: --host")
        self.assert_error(["--host", "1T", "--entry-size", "x"], r"invalid int value")
        self.assert_error(["--host", "1T", "--entry-size", "0"], r"at least 1 byte")
        self.assert_error(["--host", "1T", "--bitmap-bits", "-1"], r"must not be negative")

    def test_simerror_from_api(self):
        with self.assertRaises(SimError):
            parse_td("1G:touched=3")
        with self.assertRaises(SimError):
            simulate(GiB, [parse_td("2G")])


class Executable(unittest.TestCase):
    """The entry point as an operator runs it."""

    def run_tool(self, *argv):
        return subprocess.run([os.path.join(TOOLS, "pamt-savings"), *argv],
                              capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))

    def test_runs(self):
        p = self.run_tool("--host", "2T", "--td", "1G", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["static_pamt_bytes"], 8606744576)

    def test_error_exit(self):
        p = self.run_tool("--host", "1T", "--td", "1G:touched=7")
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stdout, "")
        self.assertEqual(len(p.stderr.splitlines()), 1)

    def test_help_defines_layouts(self):
        p = self.run_tool("--help")
        self.assertEqual(p.returncode, 0)
        for word in ("contiguous", "scattered", "touched", "count", "physical minimum"):
            self.assertIn(word, p.stdout)


if __name__ == "__main__":
    unittest.main()
