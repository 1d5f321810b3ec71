#!/bin/bash
# run-formal.sh [BUILD_DIR] - suite `formal`: check the Promela model of the
# DPAMT get/put protocol (dpamt.pml) exhaustively with spin.
#
# Each configuration is one test.  "pass" configurations must finish the
# full search with "errors: 0" and no unreached code in the cpu process;
# "fail" configurations are mutants of the protocol that MUST be caught
# (pan reports an assertion violation).  Build products go to BUILD_DIR
# (default: a fresh temporary directory, removed at exit).
#
# Needs: spin (Debian bookworm package `spin`), gcc.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
MODEL=$HERE/dpamt.pml

if [ $# -ge 1 ]; then
	BUILD=$1
	mkdir -p "$BUILD" || exit 1
	BUILD=$(cd "$BUILD" && pwd)
	KEEP=1
else
	KEEP=0
	BUILD=$(mktemp -d /tmp/dpamt-formal.XXXXXX) || exit 1
	trap 'rm -rf "$BUILD"' EXIT
fi

for tool in spin gcc; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "run-formal: '$tool' not found (apt-get install -t bookworm $tool)" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
done

passed=0
failed=0

# name | expect (pass/fail) | spin -D flags | extra gcc flags | pan flags
CONFIGS=(
	"real-3cpu-3iter|pass|-DNPROC=3 -DNITER=3||"
	"real-3cpu-noreduce|pass|-DNPROC=3 -DNITER=2|-DNOREDUCE|"
	"real-3cpu-faults|pass|-DNPROC=3 -DNITER=2 -DFAULTS||"
	"real-3cpu-2regions|pass|-DNPROC=3 -DNITER=2 -DNREGION=2||"
	"mutant-no-recheck|fail|-DNPROC=3 -DNITER=2 -DMUTANT_NO_RECHECK||"
	"mutant-put-dec-unlocked|fail|-DNPROC=3 -DNITER=2 -DMUTANT_PUT_UNLOCKED||"
)

for cfg in "${CONFIGS[@]}"; do
	IFS='|' read -r name expect dflags ccflags panflags <<<"$cfg"
	dir=$BUILD/$name
	rm -rf "$dir"
	mkdir -p "$dir"
	# spin names the trail after the model file: work on a copy so that
	# nothing is written next to the source.
	cp "$MODEL" "$dir/dpamt.pml"
	log=$dir/pan.out
	ok=1
	# shellcheck disable=SC2086
	if ! (cd "$dir" && spin -a $dflags dpamt.pml >spin.out 2>&1); then
		echo "[$name] spin -a failed:"; sed 's/^/    /' "$dir/spin.out"
		ok=0
	# shellcheck disable=SC2086
	elif ! (cd "$dir" && gcc -O2 -DSAFETY -DCOLLAPSE $ccflags -o pan pan.c >cc.out 2>&1); then
		echo "[$name] gcc pan.c failed:"; sed 's/^/    /' "$dir/cc.out"
		ok=0
	else
		# shellcheck disable=SC2086
		(cd "$dir" && ./pan -m200000 -w22 $panflags >"$log" 2>&1)
		errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$log" | head -1)
		states=$(awk '/states, stored/ {print $1; exit}' "$log")
		trans=$(awk '/transitions \(= stored\+matched\)/ {print $1; exit}' "$log")
		depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$log" | head -1)
		unreached=$(awk '/unreached in proctype cpu/ {getline; print; exit}' "$log" |
			sed -n 's/.*(\([0-9]*\) of .*/\1/p')
		if [ -z "$errors" ] || [ -z "$states" ]; then
			echo "[$name] pan produced no result:"; tail -5 "$log" | sed 's/^/    /'
			ok=0
		elif [ "$expect" = pass ]; then
			if [ "$errors" != 0 ]; then
				echo "[$name] FAIL: expected errors: 0, got errors: $errors"
				grep -m3 -E 'assertion violated|invalid end state|error:' "$log" | sed 's/^/    /'
				ok=0
			elif grep -q 'search not completed\|max search depth too small' "$log"; then
				echo "[$name] FAIL: search incomplete"
				ok=0
			elif [ -n "$unreached" ] && [ "$unreached" != 0 ]; then
				echo "[$name] FAIL: $unreached unreached states in proctype cpu"
				sed -n '/unreached in proctype cpu/,/unreached in init/p' "$log" | sed 's/^/    /'
				ok=0
			else
				echo "[$name] ok: errors: 0, states stored: $states, transitions: $trans, depth: $depth ($dflags $ccflags)"
			fi
		else
			viol=$(grep -m1 -E 'assertion violated|invalid end state' "$log")
			if [ "$errors" = 0 ] || [ -z "$viol" ]; then
				echo "[$name] FAIL: mutant NOT caught (errors: $errors, states stored: $states)"
				ok=0
			else
				echo "[$name] ok: mutant caught, errors: $errors after $states states: ${viol#pan:1: }"
				if [ -f "$dir/dpamt.pml.trail" ] && [ "$KEEP" = 1 ]; then
					echo "    replay the counterexample: cd $dir && spin -t -p $dflags dpamt.pml"
				fi
			fi
		fi
	fi
	if [ $ok = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done

echo "$passed passed, $failed failed"
[ $failed = 0 ]
