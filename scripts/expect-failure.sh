#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# expect-failure.sh REGEX CMD...: a test that passes when CMD fails and its
# output matches REGEX (extended, case-insensitive).  Used to prove that a
# checker really rejects what it must reject.
set -u
re=$1
shift
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out" | tail -n 5
if [ $rc -eq 0 ]; then
	echo "expected a failure, but the command succeeded"
	echo "0 passed, 1 failed"
	exit 1
fi
if ! printf '%s\n' "$out" | grep -Eiq -- "$re"; then
	echo "the command failed, but its output does not match: $re"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "failed as expected (exit $rc, output matches '$re')"
echo "1 passed, 0 failed"
