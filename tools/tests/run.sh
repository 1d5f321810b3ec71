#!/bin/sh
# Run the tools' tests with Debian's Python (standard library only).
# Last line of output: "N passed, N failed"; exit status non-zero on any failure.
# Arguments are passed on: -q for terse output, or unittest names such as
# tests.test_simulate.HostMath.
here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
cd "$here/.." || exit 1
PYTHONDONTWRITEBYTECODE=1 exec "$PYTHON" -B tests/runner.py "$@"
