#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-bench.sh LINUX_TREE OUTDIR  -  the DPAMT benchmark (`meson compile -C build bench`)
#
# Builds tests/model/bench against the REAL arch/x86/virt/vmx/tdx/pamt.c of
# LINUX_TREE (two binaries: the fast path compiled in, and compiled out, which
# behaves like tip x86/tdx: every get allocates a pair and takes pamt_lock;
# plus the experiments of tests/model/bench/experiments/build.sh, built from
# modified copies; build products in a temporary directory, never the source
# tree) and runs tests/model/bench/report.py, which measures, in one run:
#   (a) get/put fast path with and without KVM's accounting vs the same loop
#       around a bare atomic increment, single thread (time and callgrind)
#   (b) throughput, 1..8 threads, shared and distinct regions, fast path vs
#       the tip-like build (ratio), and what is written on every call
#   (c) PAMT.ADD/REMOVE counted by the TDX module model per 0->1 transition
#       (ADDs and reuses of pairs not yet removed), redundant ones
#   (d) (a)-(c) with the fast path compiled out
#   (e) PAMT memory for host/TD mixes vs static PAMT and the physical minimum
# and writes OUTDIR/results.json and OUTDIR/*.png.
#
# Environment: BENCH_SCALE=full|quick|tiny (default full, about 1.5 minutes on
# 2 shared cores), BENCH_BUILD=DIR to keep the build, BENCH_MODEL_CFLAGS (extra
# CFLAGS for the harness library), PYTHON (default /usr/bin/python3: Debian's,
# which has python3-matplotlib).
set -euo pipefail

die() { echo "run-bench: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: run-bench.sh LINUX_TREE OUTDIR"
here=$(cd "$(dirname "$0")/.." && pwd)
linux=$(cd "$1" 2>/dev/null && pwd) || die "no kernel tree at $1"
[ -f "$linux/arch/x86/virt/vmx/tdx/pamt.c" ] ||
	die "$linux has no arch/x86/virt/vmx/tdx/pamt.c (DPAMT series not applied?)"
mkdir -p "$2"
out=$(cd "$2" && pwd)
python=${PYTHON:-/usr/bin/python3}
scale=${BENCH_SCALE:-full}

if [ -n "${BENCH_BUILD:-}" ]; then
	build=$BENCH_BUILD
	mkdir -p "$build"
else
	build=$(mktemp -d /tmp/dpamt-bench.XXXXXX)
	trap 'rm -rf "$build"' EXIT
fi

echo "run-bench: building against $linux (build dir $build)"
make -s -C "$here/tests/model/bench" LINUX="$linux" BUILD="$build" \
	MODEL_CFLAGS="${BENCH_MODEL_CFLAGS:-}" -j2 >"$build/make.log" 2>&1 ||
	{ cat "$build/make.log"; die "build failed"; }

# the experiments are optional: their modifications may not apply to every tree
exps=()
for e in inline-get; do
	if MODEL_CFLAGS="${BENCH_MODEL_CFLAGS:-}" \
		"$here/tests/model/bench/experiments/build.sh" "$e" "$linux" "$build" \
		>"$build/make-$e.log" 2>&1; then
		exps+=(--experiment "$e=$build/dpamt-bench-$e")
	else
		echo "run-bench: experiment $e does not build here, skipped ($build/make-$e.log)"
	fi
done

# stale plots of an earlier run must not pass for this run's
rm -f "$out"/*.png "$out/results.json"
PYTHONDONTWRITEBYTECODE=1 "$python" "$here/tests/model/bench/report.py" \
	--bench "$build/dpamt-bench" --bench-nofast "$build/dpamt-bench-nofast" "${exps[@]}" \
	--linux "$linux" --out "$out" --scale "$scale" \
	--command "BENCH_SCALE=$scale scripts/run-bench.sh $1 $2"
