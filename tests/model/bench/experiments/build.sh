#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh NAME LINUX_TREE OUT - build an experiment of the DPAMT benchmark:
# the harness library (tests/model `make lib`, fast-path variant) from a
# MODIFIED COPY in OUT/NAME/, linked with the benchmark objects already in
# OUT into OUT/dpamt-bench-NAME.  Nothing here is the series or the harness
# the tests use; the copies live only under OUT.
#
#   inline-get    pamt.c's pamt_get() __always_inline into tdx_pamt_get()
#                 and tdx_pamt_get_cached()
#
# (The harness's own per-call hooks, the preemption-injection test in every
# atomic op and might_alloc(), are compiled out of every bench build by
# HARNESS_BENCH, tests/model/Makefile.)
#
# Exit status 3 if the modification no longer applies (the sources
# changed): the caller skips the experiment.
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: build.sh NAME LINUX_TREE OUT" >&2; exit 2; }
name=$1 linux=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
model=$(cd "$here/../.." && pwd)
dir=$out/$name
rm -rf "$dir"
mkdir -p "$dir/model" "$dir/linux/arch/x86/virt/vmx/tdx" "$dir/linux/arch/x86/include/asm/shared"
cp -r "$model"/*.c "$model"/*.h "$model"/Makefile "$model"/include "$dir/model/"
cp "$linux"/arch/x86/virt/vmx/tdx/pamt.[ch] "$dir/linux/arch/x86/virt/vmx/tdx/"
cp "$linux"/arch/x86/include/asm/shared/tdx_errno.h "$dir/linux/arch/x86/include/asm/shared/"

# edit FILE SED-EXPRESSION: must change the file
edit() {
	local f=$1 e=$2
	[ -f "$f.orig" ] || cp "$f" "$f.orig"
	cp "$f" "$f.prev"
	sed -i "$e" "$f"
	if cmp -s "$f" "$f.prev"; then
		echo "build.sh: $name: '$e' does not apply to ${f#"$dir"/}" >&2
		exit 3
	fi
}

cflags=
case $name in
inline-get)
	edit "$dir/linux/arch/x86/virt/vmx/tdx/pamt.c" \
		's/^static int pamt_get(unsigned long pfn/static __always_inline int pamt_get(unsigned long pfn/'
	echo '#define __always_inline inline __attribute__((__always_inline__))' >"$dir/exp.h"
	cflags="-include $dir/exp.h" ;;
*)
	echo "build.sh: unknown experiment $name" >&2
	exit 2 ;;
esac

make -s -C "$dir/model" LINUX="$dir/linux" BUILD="$dir/build" CFLAGS="$cflags ${MODEL_CFLAGS:-}" \
	"$dir/build/bench/libdpamt-harness.a" >"$dir/make.log" 2>&1 ||
	{ cat "$dir/make.log" >&2; exit 1; }
gcc -std=gnu11 -O2 -g -pthread -o "$out/dpamt-bench-$name" "$out/dpamt-bench.o" "$out/bare.o" \
	"$dir/build/bench/libdpamt-harness.a" -lpthread
# what was changed, for results.json
(cd "$dir" && for f in model/include/custom.h model/shim.c linux/arch/x86/virt/vmx/tdx/pamt.c; do
	[ -f "$f.orig" ] && diff -u "$f.orig" "$f" --label "a/${f#*/}" --label "b/${f#*/}" || true
done) >"$out/dpamt-bench-$name.diff"
