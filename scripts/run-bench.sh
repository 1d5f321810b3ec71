#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-bench.sh LINUX_TREE OUTDIR  -  the DPAMT benchmark (`meson compile -C build bench`)
#
# Builds tests/model/bench against the REAL arch/x86/virt/vmx/tdx/pamt.c of
# LINUX_TREE (two binaries: fast path compiled in and out; build products in
# a temporary directory, never the source tree) and runs
# tests/model/bench/report.py, which measures, in one run:
#   (a) get/put fast path vs a bare atomic increment, single thread
#   (b) throughput, 1..N threads, shared and distinct regions
#   (c) PAMT.ADD/REMOVE counted by the TDX module model vs the ideal
#   (d) (a)-(c) with the fast path compiled out
#   (e) PAMT memory for host/TD mixes vs static PAMT and the physical minimum
# and writes OUTDIR/results.json and OUTDIR/*.png.
#
# Environment: BENCH_SCALE=full|quick|tiny (default full, about 3 minutes on
# 2 shared cores), BENCH_BUILD=DIR to keep the build, PYTHON (default
# /usr/bin/python3: Debian's, which has python3-matplotlib).
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
make -s -C "$here/tests/model/bench" LINUX="$linux" BUILD="$build" -j2 >"$build/make.log" 2>&1 ||
	{ cat "$build/make.log"; die "build failed"; }

# the split-fast-path experiment is optional: its patch may not apply to every tree
split=()
if make -s -C "$here/tests/model/bench" LINUX="$linux" BUILD="$build" split \
	>"$build/make-split.log" 2>&1; then
	split=(--bench-split "$build/dpamt-bench-split")
else
	echo "run-bench: experiments/split-fastpath.patch does not apply here, experiment skipped"
fi

# stale plots of an earlier run must not pass for this run's
rm -f "$out"/*.png "$out/results.json"
PYTHONDONTWRITEBYTECODE=1 "$python" "$here/tests/model/bench/report.py" \
	--bench "$build/dpamt-bench" --bench-nofast "$build/dpamt-bench-nofast" "${split[@]}" \
	--linux "$linux" --out "$out" --scale "$scale" \
	--command "BENCH_SCALE=$scale scripts/run-bench.sh $1 $2"
