#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test-broken-series.sh linux|qemu WORKDIR
#
# Proves that the apply step fails loudly: a series whose only patch has a
# wrong context line must stop "series.sh apply" with an error naming the
# patch and the file, and must leave the pristine base repo untouched.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kind=$1
work=$2
rm -rf "$work"
mkdir -p "$work/patches"
base=$("$TOP/scripts/fetch-base.sh" "$kind")
before=$(git -C "$base" rev-parse HEAD; git -C "$base" status --porcelain | wc -l)

# A patch against the first lines of the top-level Makefile whose context
# does not match the base.
head -n 3 "$base/Makefile" >"$work/a"
{
	echo "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001"
	echo "From: tdx-dpamt developers <dev@tdx-dpamt.invalid>"
	echo "Date: Thu, 1 Jan 2026 00:00:00 +0000"
	echo "Subject: [PATCH] deliberately broken"
	echo
	echo "---"
	echo "diff --git a/Makefile b/Makefile"
	echo "--- a/Makefile"
	echo "+++ b/Makefile"
	echo "@@ -1,3 +1,3 @@"
	echo " this line is not in the base tree"
	sed -n 2p "$work/a" | sed 's/^/-/'
	echo "+changed"
	sed -n 3p "$work/a" | sed 's/^/ /'
	echo "-- "
	echo "2.39.5"
} >"$work/patches/0001-deliberately-broken.patch"
printf '0000-cover-letter.patch\n0001-deliberately-broken.patch\n' >"$work/patches/series"

var=KERNEL_PATCHES
[ "$kind" = qemu ] && var=QEMU_PATCHES
if env "$var=$work/patches" "$TOP/scripts/series.sh" apply "$kind" "$work/tree" 2>"$work/err"; then
	echo "not ok 1 - a broken $kind patch was applied"
	echo "0 passed, 1 failed"
	exit 1
fi
pass=0
fail=0
check() {
	if eval "$2"; then
		echo "ok - $1"
		pass=$((pass + 1))
	else
		echo "not ok - $1"
		fail=$((fail + 1))
	fi
}
echo "apply said: $(cat "$work/err")"
check "error names the patch" "grep -q 0001-deliberately-broken.patch '$work/err'"
check "error names the file" "grep -q Makefile '$work/err'"
check "error is one line" "[ \$(wc -l <'$work/err') -eq 1 ]"
after=$(git -C "$base" rev-parse HEAD; git -C "$base" status --porcelain | wc -l)
check "base repo untouched" "[ \"\$before\" = \"\$after\" ]"
rm -rf "$work"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
