#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test-compile-each-warns.sh WORKDIR
#
# Proves that compile-each-patch.sh still sees a compiler warning in a
# patch that it also boots (from "Enable Dynamic PAMT" on): a one-patch
# series with that subject adds a #warning to tdx.c, and the run must fail
# naming the warning.  When the boot's bzImage build came first, it
# compiled tdx.o out of sight and the patch passed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

work=$1
mkdir -p "$work/patches"
base=$("$TOP/scripts/fetch-base.sh" linux)
file=arch/x86/virt/vmx/tdx/tdx.c
git -C "$base" show "HEAD:$file" | head -n 3 >"$work/context"
{
	echo "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001"
	echo "From: tdx-dpamt developers <dev@tdx-dpamt.invalid>"
	echo "Date: Thu, 1 Jan 2026 00:00:00 +0000"
	echo "Subject: [PATCH] x86/virt/tdx: Enable Dynamic PAMT (a deliberate warning)"
	echo
	echo "---"
	echo "diff --git a/$file b/$file"
	echo "--- a/$file"
	echo "+++ b/$file"
	echo "@@ -1,3 +1,4 @@"
	echo "+#warning \"deliberate warning for test-compile-each-warns.sh\""
	sed 's/^/ /' "$work/context"
	echo "-- "
	echo "2.39.5"
} >"$work/patches/0001-enable-with-a-warning.patch"
printf '0000-cover-letter.patch\n0001-enable-with-a-warning.patch\n' >"$work/patches/series"

exec "$TOP/scripts/expect-failure.sh" \
	'not ok 1 - 0001-enable-with-a-warning.patch: compile failed or warned' \
	env KERNEL_PATCHES="$work/patches" "$TOP/scripts/compile-each-patch.sh" "$work/run" "$base"
