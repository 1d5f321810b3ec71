#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-qtests.sh QEMU_SRC QEMU_BUILD [OUTDIR]
#
# Build the black-box qtests of this directory against the patched QEMU
# in QEMU_BUILD (see build.py: they reuse how QEMU builds its own
# qmp-cmd-test) into OUTDIR (default QEMU_BUILD/tdx-dpamt-qtest), run
# them against QEMU_BUILD/qemu-system-x86_64 and print their TAP.  Exits
# non-zero if any test fails.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
[ $# -ge 2 ] || { echo "usage: run-qtests.sh QEMU_SRC QEMU_BUILD [OUTDIR]" >&2; exit 2; }
src=$1
bld=$(cd "$2" && pwd)
out=${3:-$bld/tdx-dpamt-qtest}

# The emulator, the firmware dir, and the libqtest objects and link
# command of qmp-cmd-test that build.py reuses.
"$top/scripts/build-qemu.sh" "$src" "$bld" qemu-system-x86_64 tests/qtest/qmp-cmd-test
/usr/bin/python3 "$here/build.py" "$bld" "$out" >"$out.build.log" 2>&1 || {
	cat "$out.build.log" >&2
	exit 1
}

export QTEST_QEMU_BINARY=$bld/qemu-system-x86_64
export TDX_DPAMT_FAKE_HOST=$here/fake-tdx-host.sh
rc=0
pass=0
fail=0
for t in "$out"/*-test; do
	[ -x "$t" ] || continue
	log=$t.tap
	"$t" --tap -k >"$log" 2>&1 || rc=1
	cat "$log"
	ok=$(grep -c '^ok ' "$log" || true)
	# Cases that did not run because the binary stopped count as failed
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log" | head -n 1)
	bad=$(grep -c '^not ok ' "$log" || true)
	[ -z "$plan" ] || [ $((ok + bad)) -ge "$plan" ] || bad=$((plan - ok))
	[ $rc -eq 0 ] || [ "$bad" -gt 0 ] || bad=1
	pass=$((pass + ok))
	fail=$((fail + bad))
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ] || rc=1
exit $rc
