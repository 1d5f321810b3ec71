#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# selftest.sh LINUX_TREE BUILD_DIR  -  test `bench-selftest` (suite model)
#
# Runs the whole benchmark (scripts/run-bench.sh) at its tiny scale against
# the real pamt.c of LINUX_TREE and checks the result, not the timing:
# results.json has every key report.py promises; in every SEAMCALL run (both
# builds) each 0->1 transition is one PAMT.ADD or one reuse of a pair not yet
# removed, every ADD is removed once, nothing failed or was redundant;
# installed pair memory equals the regions in use plus those awaiting the
# removal work after every get/put, and the physical minimum after every run
# of the work; simulate.py and pamt.c agree; the plots exist.  Ends with
# "N passed, N failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
[ $# -eq 2 ] || { echo "usage: selftest.sh LINUX_TREE BUILD_DIR"; echo "0 passed, 1 failed"; exit 1; }
mkdir -p "$2" || exit 1
build=$(cd "$2" && pwd)
python=${PYTHON:-/usr/bin/python3}

if ! BENCH_SCALE=tiny BENCH_BUILD="$build/build" \
	"$top/scripts/run-bench.sh" "$1" "$build/out" >"$build/run.log" 2>&1; then
	cat "$build/run.log"
	echo "bench-selftest: the benchmark failed (log: $build/run.log)"
	echo "0 passed, 1 failed"
	exit 1
fi
grep -v '^\[bench' "$build/run.log"
PYTHONDONTWRITEBYTECODE=1 "$python" "$here/report.py" --check "$build/out/results.json" \
	>"$build/check.log" 2>&1
rc=$?
grep -v ' passed, ' "$build/check.log"
read -r passed failed < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$build/check.log")
passed=${passed:-0}
failed=${failed:-1}

# the checker itself must catch a redundant SEAMCALL and a missing key
"$python" - "$build/out/results.json" "$build/out/tampered.json" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))
res["seamcalls"]["runs"][0]["adds"] += 1
del res["machine"]["gcc"]
json.dump(res, open(sys.argv[2], "w"))
PY
if PYTHONDONTWRITEBYTECODE=1 "$python" "$here/report.py" --check "$build/out/tampered.json" \
	>"$build/tampered.log" 2>&1; then
	echo "FAIL: --check accepted results with a redundant SEAMCALL and a missing key"
	failed=$((failed + 1))
elif ! grep -q 'ADD/REMOVE' "$build/tampered.log" || ! grep -q 'missing key machine.gcc' "$build/tampered.log"; then
	cat "$build/tampered.log"
	echo "FAIL: --check did not name both planted errors"
	failed=$((failed + 1))
else
	echo "ok: --check rejects a planted redundant SEAMCALL and a missing key"
	passed=$((passed + 1))
fi
[ "$rc" = 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
