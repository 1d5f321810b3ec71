#!/bin/bash
# run-model.sh [LINUX_TREE] [BUILD_DIR] - suite `model`.
#
# Compiles the REAL arch/x86/virt/vmx/tdx/pamt.c
# of LINUX_TREE in userspace against the fake kernel in include/ and the
# TDX module model, then runs the tests:
#   tsan    -fsanitize=thread              all tests (threaded stress, KVM-like)
#   asan    -fsanitize=address,undefined   all tests incl. the fault sweep
#   nofast  asan, fast path compiled out   all tests, reduced scale
#   mutants bugs planted in copies of pamt.c must each be caught
# Prints the operation and injected-fault counts and ends with
# `N passed, N failed`; exits non-zero on any failure.
#
# Defaults: LINUX_TREE=/work/main/build-dev/linux, BUILD_DIR=a temp dir.
# Environment: MODEL_SCALE (percent, default 100), MODEL_SEED (default 1),
# MODEL_MUTANTS=0 to skip the mutant self-test.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
LINUX=${1:-/work/main/build-dev/linux}
if [ $# -ge 2 ]; then
	BUILD=$2
	mkdir -p "$BUILD" || exit 1
else
	BUILD=$(mktemp -d /tmp/dpamt-model.XXXXXX) || exit 1
	trap 'rm -rf "$BUILD"' EXIT
fi
LINUX=$(cd "$LINUX" 2>/dev/null && pwd) || { echo "run-model: no tree at ${1:-}"; echo "0 passed, 1 failed"; exit 1; }
BUILD=$(cd "$BUILD" && pwd)
SCALE=${MODEL_SCALE:-100}
SEED=${MODEL_SEED:-1}

if [ ! -f "$LINUX/arch/x86/virt/vmx/tdx/pamt.c" ]; then
	echo "run-model: $LINUX has no arch/x86/virt/vmx/tdx/pamt.c (DPAMT series not applied?)"
	echo "0 passed, 1 failed"
	exit 1
fi
command -v gcc >/dev/null || { echo "run-model: gcc not found"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
total_ops=0
total_inj=0

echo "== building the harness (LINUX=$LINUX, BUILD=$BUILD)"
if ! make -s -C "$HERE" -j2 LINUX="$LINUX" BUILD="$BUILD" tsan asan nofast >"$BUILD/make.log" 2>&1; then
	cat "$BUILD/make.log"
	echo "run-model: build failed"
	echo "0 passed, 1 failed"
	exit 1
fi

# run VARIANT BINARY ARGS...: run one binary, fold its counts into ours
run() {
	local name=$1 bin=$2 log=$BUILD/$1.log rc p f ops inj
	shift 2
	echo "== $name: $bin $*"
	"$bin" "$@" >"$log" 2>"$log.err"
	rc=$?
	cat "$log"
	if [ -s "$log.err" ]; then
		echo "-- $name: stderr (last 40 lines of $log.err):"
		tail -40 "$log.err"
	fi
	read -r p f < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log" | tail -1)
	ops=$(sed -n 's/^operations: \([0-9]*\).*/\1/p' "$log")
	inj=$(sed -n 's/^injected faults: \([0-9]*\).*/\1/p' "$log")
	if [ -z "${p:-}" ]; then
		echo "-- $name: no result line (crashed? exit $rc)"
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		# e.g. a sanitizer report (TSan exitcode 66, LeakSanitizer) after main
		echo "-- $name: exit status $rc with no failed test: sanitizer report, counted as a failure"
		failed=$((failed + 1))
	fi
	total_ops=$((total_ops + ${ops:-0}))
	total_inj=$((total_inj + ${inj:-0}))
}

export TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 history_size=4"
export ASAN_OPTIONS="detect_leaks=1 abort_on_error=0 exitcode=67"
export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1"

run tsan "$BUILD/tsan/dpamt-model" --scale="$SCALE" --seed="$SEED"
run asan "$BUILD/asan/dpamt-model" --scale="$SCALE" --seed="$SEED"
run nofast "$BUILD/asan-nofast/dpamt-model" --scale=$((SCALE / 4 + 1)) --seed="$SEED"

if [ "${MODEL_MUTANTS:-1}" != 0 ]; then
	echo "== mutants: bugs planted in copies of pamt.c must be caught"
	python3 "$HERE/mutants.py" "$LINUX" "$BUILD" >"$BUILD/mutants.log" 2>&1
	cat "$BUILD/mutants.log"
	read -r p f < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$BUILD/mutants.log" | tail -1)
	if [ -z "${p:-}" ]; then
		failed=$((failed + 1))
	else
		passed=$((passed + p))
		failed=$((failed + f))
	fi
fi

echo "== model summary: $total_ops get/put operations, $total_inj injected faults (tsan + asan + nofast)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
