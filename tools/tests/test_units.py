"""Size parsing and human units."""

import unittest

from tdxpamt.units import SizeError, human, parse_size, percent


class ParseSize(unittest.TestCase):
    def test_suffixes_are_binary(self):
        self.assertEqual(parse_size("4096"), 4096)
        self.assertEqual(parse_size("4K"), 4096)
        self.assertEqual(parse_size("2M"), 2 * 1024 * 1024)
        self.assertEqual(parse_size("256G"), 256 << 30)
        self.assertEqual(parse_size("1T"), 1 << 40)
        self.assertEqual(parse_size("2t"), 2 << 40)
        self.assertEqual(parse_size("512MiB"), 512 << 20)
        self.assertEqual(parse_size("1.5G"), 3 << 29)
        self.assertEqual(parse_size(" 64G "), 64 << 30)

    def test_rejects(self):
        for bad in ("", "G", "1x", "-1G", "1GB", "1 TB", "1.5", "0.1K", "1e3", "1,5G", "1G2"):
            with self.subTest(bad=bad), self.assertRaises(SizeError):
                parse_size(bad)

    def test_decimal_suffix_message_suggests_binary(self):
        with self.assertRaisesRegex(SizeError, "binary, write 1G or 1GiB"):
            parse_size("1GB")


class Human(unittest.TestCase):
    def test_units(self):
        self.assertEqual(human(0), "0.0 KiB")
        self.assertEqual(human(8192), "8.0 KiB")
        self.assertEqual(human(4 << 20), "4.0 MiB")
        self.assertEqual(human(1075843072), "1.0 GiB")
        self.assertEqual(human(1536 << 20), "1.5 GiB")
        self.assertEqual(human(1 << 40), "1.0 TiB")
        self.assertEqual(human(-(3 << 20)), "-3.0 MiB")

    def test_percent(self):
        self.assertEqual(percent(1, 4), "25.0%")
        self.assertEqual(percent(1, 0), "-")
        self.assertEqual(percent(0, 10, 3), "0.000%")
        self.assertEqual(percent(2, 1 << 20, 3), "<0.001%")
        self.assertEqual(percent(-2, 1 << 20, 3), ">-0.001%")
        self.assertEqual(percent(16, 4096, 3), "0.391%")


if __name__ == "__main__":
    unittest.main()
