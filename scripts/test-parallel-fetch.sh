#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test-parallel-fetch.sh: the cold path of fetch-base.sh as ninja runs it,
# Linux and QEMU steps at the same time, on an empty private cache.
#
# 1. Four fetches (two of each kind) start together on an empty cache; each
#    must refresh or wait for the shared private apt index and resolve its
#    pinned files with the pinned SHA256.  Before the index was locked, two
#    concurrent "apt-get update" runs on the empty lists dir failed.
# 2. An index refresh that fails (apt pointed at a dead proxy) leaves no
#    index behind that a later fetch would trust, and the next fetch
#    refreshes it and succeeds.
#
# Downloads only the indexes (trixie-backports Packages, sid Sources), not
# the base trees: --resolve stops after checking the archive's SHA256.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cache=$(mktemp -d /tmp/tdx-dpamt-cold.XXXXXX)
trap 'rm -rf "$cache"' EXIT
export TDX_DPAMT_CACHE=$cache
fetch=$TOP/scripts/fetch-base.sh
fail=0

echo "# 1: four fetches at once on an empty cache ($cache)"
pids=()
for kind in linux qemu linux qemu; do
	timeout 600 "$fetch" "$kind" --resolve >"$cache/out.$kind.${#pids[@]}" 2>&1 &
	pids+=($!)
done
for i in "${!pids[@]}"; do
	if wait "${pids[$i]}"; then
		echo "ok fetch $i: $(tail -n 1 "$cache"/out.*."$i")"
	else
		echo "not ok fetch $i failed:"
		sed 's/^/    /' "$cache"/out.*."$i"
		fail=1
	fi
done
updates=$(cat "$cache"/out.* | grep -c 'updating the private apt index' || true)
[ "$updates" = 1 ] || { echo "not ok: the index was refreshed $updates times, expected once"; fail=1; }
[ -s "$cache/apt-fetch/index.ok" ] || { echo "not ok: no complete index recorded"; fail=1; }
left=$(find "$cache" -maxdepth 1 -name 'tmp.*' | wc -l)
[ "$left" = 0 ] || { echo "not ok: $left temporary dir(s) left in the cache"; fail=1; }

echo "# 2: a refresh that fails leaves nothing a later fetch would trust"
rm -f "$cache/apt-fetch/index.ok"
if http_proxy=http://127.0.0.1:9 timeout 300 "$fetch" qemu --resolve >"$cache/out.dead" 2>&1; then
	echo "not ok: a fetch through a dead proxy succeeded"
	fail=1
elif ! grep -q 'apt-get update with the private configuration failed' "$cache/out.dead"; then
	echo "not ok: unexpected failure through a dead proxy:"
	sed 's/^/    /' "$cache/out.dead"
	fail=1
fi
[ ! -e "$cache/apt-fetch/index.ok" ] || { echo "not ok: a failed refresh left the index marked complete"; fail=1; }
[ -z "$(find "$cache/apt-fetch/lists" -type f)" ] ||
	{ echo "not ok: a failed refresh left index files behind"; fail=1; }
if timeout 600 "$fetch" qemu --resolve >"$cache/out.again" 2>&1; then
	echo "ok the next fetch refreshed the index and resolved"
else
	echo "not ok: the fetch after a failed refresh failed:"
	sed 's/^/    /' "$cache/out.again"
	fail=1
fi
exit $fail
