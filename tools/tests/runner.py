"""Run the tools' unit tests and end with a plain "N passed, N failed" line.

Usage (from anywhere): /usr/bin/python3 tools/tests/runner.py [-q] [unittest name ...]
Exit status 0 only if nothing failed or errored.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(HERE)


def main(argv):
    quiet = "-q" in argv
    names = [a for a in argv if a != "-q"]
    sys.path.insert(0, TOOLS)
    loader = unittest.TestLoader()
    if names:
        suite = loader.loadTestsFromNames(names)
    else:
        suite = loader.discover(start_dir=HERE, pattern="test_*.py", top_level_dir=TOOLS)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=1 if quiet else 2).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped - len(result.expectedFailures)
    if skipped:
        print("%d skipped" % skipped)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
