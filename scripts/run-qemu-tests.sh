#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-qemu-tests.sh QEMU_SRC QEMU_BUILD
#
# Build and run the QEMU tests listed in scripts/qemu-tests.txt (QEMU's own
# qmp-cmd-test and test-hmp, plus the unit tests and qtests the series
# adds) with QEMU's own test runner.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || die "usage: run-qemu-tests.sh QEMU_SRC QEMU_BUILD"
src=$1
bld=$2
mapfile -t names < <(grep -Ev '^(#|$)' "$TOP/scripts/qemu-tests.txt")
targets=()
tests=()
for n in "${names[@]}"; do
	case "$n" in
	qtest-*/*) targets+=("tests/qtest/${n#*/}") tests+=("$n") ;;
	# QEMU's unit tests are registered under their bare name.
	unit/*) targets+=("tests/unit/${n#*/}") tests+=("${n#*/}") ;;
	*) die "scripts/qemu-tests.txt: cannot map $n to a build target" ;;
	esac
done
"$TOP/scripts/build-qemu.sh" "$src" "$bld" qemu-system-x86_64 "${targets[@]}"
cd "$bld"
set +e
/usr/bin/python3 -m mesonbuild.mesonmain test --no-rebuild --print-errorlogs \
	"${tests[@]}" >test.log 2>&1
rc=$?
set -e
grep -E '^ *[0-9]+/[0-9]+ ' test.log || true
sed -n '/^Ok:/,/^Timeout:/p' test.log
ok=$(awk '/^Ok:/{print $2}' test.log)
bad=$(awk '/^(Fail|Unexpected Pass|Timeout):/{s+=$NF} END{print s+0}' test.log)
[ $rc -eq 0 ] || tail -n 40 test.log
echo "${ok:-0} passed, ${bad:-0} failed"
exit $rc
