#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# compile-each-patch.sh WORKDIR [BASE_TREE]
#
# Bisectability check for the kernel series: apply the patches one at a
# time onto the base tree in WORKDIR/linux and, after each one, compile the
# objects it touches.  A patch that touches a header also recompiles every
# object the series touches anywhere (the header's users that matter to
# this work).  WORKDIR/obj is kept and compilers go through ccache, so a
# second run only recompiles what changed.
#
# With BOOT_QEMU and BOOT_FIRMWARE set (a QEMU binary and its firmware
# dir), every patch from the one that enables Dynamic PAMT on (subject
# "Enable Dynamic PAMT") also builds bzImage and boots it under QEMU TCG,
# and its KUnit suites (the tdx_dpamt suite among them) must pass.
#
# It also fails a patch after which the kernel enables Dynamic PAMT while
# KVM takes no PAMT reference yet (TDs could not be created on a host whose
# TDX module supports it).
#
# KERNEL_EXTRA_CONFIGS selects extra config fragments (see build-kernel.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || die "usage: compile-each-patch.sh WORKDIR [BASE_TREE]"
work=$1
base=${2:-}
mkdir -p "$work"
work=$(cd "$work" && pwd)
tree=$work/linux
pdir=${KERNEL_PATCHES:-$TOP/kernel-patches}

[ -n "$base" ] || base=$("$TOP/scripts/fetch-base.sh" linux)
# A throwaway tree: reset it to the base every run.
if [ ! -d "$tree/.git" ]; then
	pgit clone -q "$base" "$tree"
fi
pgit -C "$tree" am --abort >/dev/null 2>&1 || true
pgit -C "$tree" fetch -q "$base" HEAD
pgit -C "$tree" checkout -q -f -B each FETCH_HEAD
pgit -C "$tree" clean -q -fdx

mapfile -t patches < <(awk '!/^#/ && NF && $1 !~ /^0000-/ {print $1}' "$pdir/series" 2>/dev/null)
if [ ${#patches[@]} -eq 0 ]; then
	echo "kernel series is empty: nothing to compile"
	echo "0 passed, 0 failed"
	exit 0
fi

# Objects of kernel .c files a patch touches (not tools/, scripts/, docs).
objects_of() {
	grep -E '^\+\+\+ b/' "$1" | sed 's|^+++ b/||' |
		grep -E '\.c$' | grep -Ev '^(tools|scripts|Documentation|samples)/' |
		sed 's/\.c$/.o/' || true
}
touches_header() {
	grep -E '^\+\+\+ b/' "$1" | grep -qE '\.h$'
}

# Early patches do not define the symbols later ones add (the KUnit option).
export KERNEL_CONFIG_ALLOW_UNDEFINED=1

# Only real objects: a .c file that another one #includes (such as
# tdx_global_metadata.c) is named in no kbuild Makefile.  Objects are
# named relative to their own or a parent directory (vmx/tdx.o in
# arch/x86/kvm/Makefile).
is_kbuild_object() {
	local rel=$1 dir
	dir=$(dirname "$rel")
	rel=$(basename "$rel")
	while [ "$dir" != . ]; do
		for mk in "$tree/$dir/Makefile" "$tree/$dir/Kbuild"; do
			[ -f "$mk" ] && grep -qE "(^|[[:space:]=])$rel([[:space:]\\]|$)" "$mk" && return 0
		done
		rel=$(basename "$dir")/$rel
		dir=$(dirname "$dir")
	done
	return 1
}

all_objs=$(for p in "${patches[@]}"; do objects_of "$pdir/$p"; done | sort -u)
pass=0
fail=0
i=0
booting=

# boot_kunit N PATCH: build bzImage at this point of the series and run it.
boot_kunit() {
	local n=$1 p=$2
	if "$TOP/scripts/build-kernel.sh" "$tree" "$work/obj" bzImage >"$work/bzimage-$n.log" 2>&1 &&
		/usr/bin/python3 "$TOP/scripts/run-kunit.py" --qemu "$BOOT_QEMU" \
			--firmware "$BOOT_FIRMWARE" --kernel "$work/obj/arch/x86/boot/bzImage" \
			--linux-src "$tree" --require-suite tdx_dpamt \
			--log "$work/boot-$n.log" >"$work/kunit-$n.log" 2>&1; then
		echo "ok $n - $p boots and passes KUnit ($(tail -n 1 "$work/kunit-$n.log"))"
		pass=$((pass + 1))
	else
		echo "not ok $n - $p: bzImage build or KUnit boot failed:"
		tail -n 3 "$work/bzimage-$n.log" "$work/kunit-$n.log" 2>/dev/null | sed 's/^/    /'
		fail=$((fail + 1))
	fi
}
for p in "${patches[@]}"; do
	i=$((i + 1))
	if ! pgit -C "$tree" am -q "$pdir/$p" >"$work/am.log" 2>&1; then
		echo "not ok $i - $p does not apply: $(head -n 1 "$work/am.log")"
		fail=$((fail + 1))
		break
	fi
	# A host whose module has Dynamic PAMT cannot create a TD while the
	# kernel switches the feature on (tdx_pamt_init() in tdx.c) and KVM
	# takes no PAMT reference for the pages it gives the module: no TDX
	# host here can show it, the source can.
	if pgit -C "$tree" grep -q 'tdx_pamt_init(' -- arch/x86/virt/vmx/tdx/tdx.c &&
		! pgit -C "$tree" grep -q 'tdx_pamt_get' -- arch/x86/kvm/vmx/tdx.c; then
		echo "not ok $i - $p: Dynamic PAMT is enabled before KVM takes PAMT references"
		fail=$((fail + 1))
	fi
	if [ -n "${BOOT_QEMU:-}" ] && grep -q '^Subject: .*Enable Dynamic PAMT' "$pdir/$p"; then
		booting=1
	fi
	objs=$(objects_of "$pdir/$p")
	if touches_header "$pdir/$p"; then
		objs="$objs $all_objs"
	fi
	# Only objects whose source exists at this point of the series.
	targets=()
	for o in $(echo "$objs" | tr ' ' '\n' | sort -u); do
		[ -f "$tree/${o%.o}.c" ] || continue
		is_kbuild_object "$o" && targets+=("$o")
	done
	# The patch's own objects first: the bzImage build of the boot would
	# compile them too, and its warnings would not be seen here.
	compiled=1
	if [ ${#targets[@]} -eq 0 ]; then
		echo "ok $i - $p (no compiled objects touched)"
		pass=$((pass + 1))
	elif "$TOP/scripts/build-kernel.sh" "$tree" "$work/obj" "${targets[@]}" >"$work/build-$i.log" 2>&1 &&
		! grep -E '(warning|error):' "$work/build-$i.log" >/dev/null; then
		echo "ok $i - $p (${targets[*]})"
		pass=$((pass + 1))
	else
		echo "not ok $i - $p: compile failed or warned (${targets[*]}):"
		grep -E '(warning|error):' "$work/build-$i.log" | head -n 20 | sed 's/^/    /'
		tail -n 3 "$work/build-$i.log" | sed 's/^/    /'
		fail=$((fail + 1))
		compiled=
	fi
	if [ -n "$booting" ] && [ -n "$compiled" ]; then
		boot_kunit "$i" "$p"
	elif [ -n "$booting" ]; then
		echo "not ok $i - $p: not booted, it does not compile cleanly"
		fail=$((fail + 1))
	fi
done
if [ -n "${BOOT_QEMU:-}" ] && [ -z "$booting" ]; then
	echo "not ok - no patch enables Dynamic PAMT (subject \"Enable Dynamic PAMT\"): nothing booted"
	fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
