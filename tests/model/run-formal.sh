#!/bin/bash
# run-formal.sh [BUILD_DIR] - suite `formal`: check the Promela model of the
# DPAMT protocol (dpamt.pml: get with its lock-free fast path and the
# re-check under pamt_lock, the lock-free put, the removal work) exhaustively
# with spin.
#
# Each configuration is one test.  "pass" configurations must finish the
# full search with "errors: 0", and every state of the proctypes listed in
# their last field must be reached (a branch no run takes proves nothing;
# with one region the work always finds the bit it was kicked for, so its
# "no bit" branch is only checked with two);
# "fail" configurations are mutants of the protocol that MUST be caught
# (pan reports an assertion violation, printed with the state count).
# Build products go to BUILD_DIR (default: a fresh temporary directory,
# removed at exit).  The whole suite takes about 40 s on 2 busy cores.
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

# name | expect (pass/fail) | spin -D flags | extra gcc flags | pan flags |
# proctypes that must have no unreachable state (pass only)
CONFIGS=(
	"real-3cpu-2iter|pass|-DNPROC=3 -DNITER=2|||cpu"
	"real-3cpu-3iter|pass|-DNPROC=3 -DNITER=3|||cpu"
	"real-3cpu-noreduce|pass|-DNPROC=3 -DNITER=2|-DNOREDUCE||cpu"
	"real-3cpu-faults|pass|-DNPROC=3 -DNITER=2 -DFAULTS -DMAXFAULT=2|||cpu"
	"real-3cpu-3iter-faults|pass|-DNPROC=3 -DNITER=3 -DFAULTS -DMAXFAULT=2|||cpu"
	"real-3cpu-2regions|pass|-DNPROC=3 -DNITER=2 -DNREGION=2|||cpu work"
	"real-2cpu-3iter-2regions-faults|pass|-DNPROC=2 -DNITER=3 -DNREGION=2 -DFAULTS -DMAXFAULT=2|||cpu work"
	"mutant-no-recheck|fail|-DNPROC=3 -DNITER=2 -DMUTANT_NO_RECHECK|||"
	"mutant-no-recheck-no-charge-check|fail|-DNPROC=3 -DNITER=2 -DMUTANT_NO_RECHECK -DNO_CHARGE_CHECK|||"
	"mutant-pending-before-zero|fail|-DNPROC=3 -DNITER=2 -DMUTANT_PENDING_EARLY|||"
	"mutant-work-no-refcheck|fail|-DNPROC=3 -DNITER=2 -DMUTANT_WORK_NO_REFCHECK|||"
	"mutant-put-dec-and-test|fail|-DNPROC=3 -DNITER=2 -DMUTANT_PUT_DEC_AND_TEST|||"
	"mutant-lock-per-region|fail|-DNPROC=3 -DNITER=2 -DNREGION=2 -DMUTANT_REGION_LOCK|||"
)

for cfg in "${CONFIGS[@]}"; do
	IFS='|' read -r name expect dflags ccflags panflags reach <<<"$cfg"
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
		t0=$(date +%s%N)
		(cd "$dir" && ./pan -m200000 -w22 $panflags >"$log" 2>&1)
		ms=$((($(date +%s%N) - t0) / 1000000))
		secs=$((ms / 1000)).$((ms % 1000 / 100))
		errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$log" | head -1)
		states=$(awk '/states, stored/ {print $1; exit}' "$log")
		trans=$(awk '/transitions \(= stored\+matched\)/ {print $1; exit}' "$log")
		depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$log" | head -1)
		# "unreached in proctype P", its unreached states, "(N of M states)"
		unreached=
		for p in $reach; do
			n=$(awk -v p="$p" '$0 == "unreached in proctype " p {on = 1; next}
				on && /^\t\([0-9]+ of [0-9]+ states\)/ {
					gsub(/[^0-9 ]/, ""); print $1; exit }' "$log")
			[ "${n:-x}" = 0 ] || unreached="$unreached $p:${n:-?}"
		done
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
			elif [ -n "$unreached" ]; then
				echo "[$name] FAIL: unreached states (proctype:count):$unreached"
				sed -n '/unreached in proctype/,/unreached in init/p' "$log" | sed 's/^/    /'
				ok=0
			else
				echo "[$name] ok: errors: 0, states stored: $states, transitions: $trans, depth: $depth, ${secs}s ($dflags $ccflags; all states of: $reach)"
			fi
		else
			viol=$(grep -m1 -E 'assertion violated|invalid end state' "$log")
			if [ "$errors" = 0 ] || [ -z "$viol" ]; then
				echo "[$name] FAIL: mutant NOT caught (errors: $errors, states stored: $states)"
				ok=0
			else
				echo "[$name] ok: mutant caught after $states states: ${viol#pan:1: }"
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
