#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-kvm-selftest.sh LINUX_TREE WORKDIR
#
# Build the series' KVM selftest (x86/tdx_dpamt_test) out of tree against
# the tree's own UAPI headers, and run it.  On a host without TDX it skips
# (kselftest exit 4), reported to meson as a skip (77) with its reason.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || die "usage: run-kvm-selftest.sh LINUX_TREE WORKDIR"
src=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
test=x86/tdx_dpamt_test
[ -f "$src/tools/testing/selftests/kvm/$test.c" ] ||
	die "$src has no $test.c (is the kernel series applied?)"
ccache_env

make -s -C "$src" O="$out/hdr" ARCH=x86_64 headers_install \
	INSTALL_HDR_PATH="$out/usr" >"$out/headers.log" 2>&1 ||
	die "headers_install failed (see $out/headers.log)"
make -s -C "$src/tools/testing/selftests/kvm" -j"$(nproc)" CC="ccache gcc" \
	OUTPUT="$out/out" KHDR_INCLUDES="-isystem $out/usr/include" \
	LINUX_HDR_PATH="$out/usr/include/" "$out/out/$test" >"$out/build.log" 2>&1 || {
	tail -n 20 "$out/build.log"
	die "building $test failed (see $out/build.log)"
}
echo "built $out/out/$test"
set +e
"$out/out/$test"
rc=$?
set -e
case $rc in
0) echo "1 passed, 0 failed" ;;
4) echo "0 passed, 0 failed, 1 skipped"; exit 77 ;;
*) echo "0 passed, 1 failed"; exit 1 ;;
esac
