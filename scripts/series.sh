#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# series.sh - edit, export and check the patch series.
#
#   series.sh checkout linux|qemu|emu [DIR]
#                                         git tree with the series as commits
#                                         on branch "series" (default DIR:
#                                         build/linux, build/qemu, build/emu)
#   series.sh export   linux|qemu|emu [DIR]
#                                         write the branch back to
#                                         kernel-patches/, qemu-patches/ or
#                                         tests/tdx-emu/patches/
#   series.sh apply    linux|qemu|emu DIR [BASE]
#                                         used by the build: make DIR the
#                                         base tree (or BASE, a user tree)
#                                         plus the series; refuses to throw
#                                         away unexported work
#   series.sh check    linux|qemu|emu     apply to a fresh base + checkpatch
#
# "emu" is the test-only QEMU series of the emulated TDX module; it applies
# to the same pinned QEMU base as qemu-patches/.
#
# The cover letter (0000-cover-letter.patch) is kept across checkout and
# export: its subject and text live in the branch description while the
# series is checked out, and its version ("[PATCH v2 0/16]") in the tree's
# git config series.version ("git config series.version 3" before an
# export posts the next one).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '4,26p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
kind=$2
shift 2
case "$kind" in
linux | kernel) kind=linux pdir=${KERNEL_PATCHES:-$TOP/kernel-patches} ;;
qemu) pdir=${QEMU_PATCHES:-$TOP/qemu-patches} ;;
emu) pdir=${EMU_PATCHES:-$TOP/tests/tdx-emu/patches} ;;
*) usage ;;
esac
# The pinned base tree the series applies to
base_kind=$kind
[ "$kind" = emu ] && base_kind=qemu
dir=${1:-$TOP/build/$kind}

# Patch files named by the series file, in order, without the cover letter.
series_patches() {
	[ -f "$pdir/series" ] || return 0
	local p
	while read -r p _; do
		case "$p" in '' | '#'*) continue ;; esac
		case "$p" in 0000-*) continue ;; esac
		[ -f "$pdir/$p" ] || die "$pdir/series names $p, which does not exist"
		echo "$pdir/$p"
	done <"$pdir/series"
}

# A stamp of what the tree in DIR was made from: base commit + patch files.
series_stamp() {
	local base=$1
	{
		echo "$base"
		series_patches | xargs -r sha256sum | cut -d' ' -f1
	} | sha256sum | cut -d' ' -f1
}

# am_series DIR: apply every patch of the series in DIR, naming the patch
# and the files it could not apply on failure.
am_series() {
	local d=$1 p
	while read -r p; do
		[ -n "$p" ] || continue
		if ! pgit -C "$d" am -q --keep-cr "$p" >"$d/.git/am.log" 2>&1; then
			local why
			why=$(grep -E '^error: (patch failed|.*: does not exist|.*: already exists)' \
				"$d/.git/am.log" | head -n 3 | tr '\n' ' ')
			pgit -C "$d" am --abort >/dev/null 2>&1 || true
			die "$(basename "$p") does not apply: ${why:-$(head -n 1 "$d/.git/am.log")}"
		fi
	done < <(series_patches)
}

cover_letter() {
	ls "$pdir"/0000-cover-letter.patch 2>/dev/null || true
}

# The cover letter's subject line (without [PATCH ...]) and body, as a
# branch description for format-patch --cover-from-description=subject.
cover_description() {
	local c
	c=$(cover_letter)
	[ -n "$c" ] || return 0
	python3 - "$c" <<'EOF'
import email, re, sys
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'))
subj = re.sub(r'\s+', ' ', msg['Subject'] or '')
subj = re.sub(r'^\[[^]]*\]\s*', '', subj)
body = msg.get_payload(decode=True).decode()
# format-patch appends the shortlog and diffstat after the blurb; the blurb
# ends at the first "<author> (N):" shortlog header.
body = re.split(r'\n[^\n]+ \(\d+\):\n', body)[0].rstrip()
print(subj + '\n\n' + body)
EOF
}

# The version of the posted series: N of "[PATCH vN ...]", 1 without one.
cover_version() {
	local c
	c=$(cover_letter)
	[ -n "$c" ] || { echo 1; return; }
	sed -n 's/^Subject: \[[^]]* v\([0-9][0-9]*\) [^]]*\].*/\1/p;T;q' "$c" | grep . || echo 1
}

# prepare_tree DIR [BASE]: a fresh clone of the base at DIR.
prepare_tree() {
	local d=$1 base=${2:-}
	[ -n "$base" ] || base=$("$TOP/scripts/fetch-base.sh" "$base_kind")
	rm -rf "$d"
	mkdir -p "$(dirname "$d")"
	pgit clone -q --no-checkout "$base" "$d"
	pgit -C "$d" checkout -q -B series "$(pgit -C "$base" rev-parse HEAD)"
	pgit -C "$d" tag -f base >/dev/null
	pgit -C "$d" config branch.series.description "$(cover_description)"
	pgit -C "$d" config series.version "$(cover_version)"
}

# dirty_reason DIR: why DIR holds work that a reset would lose, or nothing.
dirty_reason() {
	local d=$1
	[ -d "$d/.git" ] || return 0
	if [ -n "$(git -C "$d" status --porcelain --untracked-files=no)" ]; then
		echo "it has uncommitted changes"
		return 0
	fi
	local want have
	want=$(cat "$d/.git/tdx-dpamt-stamp" 2>/dev/null || true)
	have=$(git -C "$d" rev-parse HEAD)
	if [ -n "$want" ] && [ "$(cat "$d/.git/tdx-dpamt-head" 2>/dev/null)" != "$have" ]; then
		echo "its branch has commits that were not exported"
	fi
}

record_state() {
	local d=$1 stamp=$2
	echo "$stamp" >"$d/.git/tdx-dpamt-stamp"
	git -C "$d" rev-parse HEAD >"$d/.git/tdx-dpamt-head"
}

case "$cmd" in
checkout)
	why=$(dirty_reason "$dir")
	[ -z "$why" ] || die "$dir is kept: $why (export or discard it first)"
	prepare_tree "$dir"
	am_series "$dir"
	record_state "$dir" "$(series_stamp "$(git -C "$dir" rev-parse base)")"
	note "$kind series checked out in $dir (branch series, base tag base)"
	;;
apply)
	# Used by the build.  Reuses DIR when it already holds this series on
	# this base, so an unchanged series costs nothing.
	user_base=${2:-}
	if [ -n "$user_base" ]; then
		base_head=$(git -C "$user_base" rev-parse HEAD 2>/dev/null) ||
			die "$user_base is not a git tree"
	else
		base_repo=$("$TOP/scripts/fetch-base.sh" "$base_kind")
		base_head=$(git -C "$base_repo" rev-parse HEAD)
	fi
	stamp=$(series_stamp "$base_head")
	if [ -d "$dir/.git" ] && [ "$(cat "$dir/.git/tdx-dpamt-stamp" 2>/dev/null)" = "$stamp" ] &&
		[ -z "$(dirty_reason "$dir")" ]; then
		exit 0
	fi
	why=$(dirty_reason "$dir")
	[ -z "$why" ] ||
		die "$dir holds work that is not in $(basename "$pdir")/: $why (run scripts/series.sh export $kind, or remove $dir)"
	prepare_tree "$dir" "${user_base:-$base_repo}"
	am_series "$dir"
	record_state "$dir" "$stamp"
	note "applied $(series_patches | wc -l) $kind patch(es) in $dir"
	;;
export)
	[ -d "$dir/.git" ] || die "$dir is not a checked-out series"
	[ -z "$(git -C "$dir" status --porcelain --untracked-files=no)" ] ||
		die "$dir has uncommitted changes: commit them first"
	n=$(git -C "$dir" rev-list --count base..HEAD)
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
	if [ "$n" -gt 0 ]; then
		# The QEMU series depends on the kernel series, which is not
		# merged yet: QEMU's rules want it posted as an RFC.
		prefix=PATCH
		[ "$kind" = qemu ] && prefix="RFC PATCH"
		version=$(git -C "$dir" config --get series.version || echo 1)
		[ "$version" -le 1 ] || prefix="$prefix v$version"
		pgit -C "$dir" format-patch -q --cover-letter --cover-from-description=subject \
			--subject-prefix="$prefix" --base=base --no-signature --zero-commit \
			-o "$out" base..HEAD
	fi
	rm -f "$pdir"/[0-9][0-9][0-9][0-9]-*.patch
	mkdir -p "$pdir"
	{
		echo "# $kind series, in apply order; 0000-cover-letter.patch is not applied."
		echo "# Edit with scripts/series.sh checkout/export, see README.md."
		for f in "$out"/*.patch; do
			[ -e "$f" ] || continue
			cp "$f" "$pdir/"
			basename "$f"
		done
	} >"$pdir/series"
	record_state "$dir" "$(series_stamp "$(git -C "$dir" rev-parse base)")"
	note "exported $n $kind patch(es) to $pdir"
	;;
check)
	need_tools perl git
	tmpd=$(mktemp -d)
	trap 'rm -rf "$tmpd"' EXIT
	prepare_tree "$tmpd/tree"
	am_series "$tmpd/tree"
	fail=0
	n=0
	while read -r p; do
		[ -n "$p" ] || continue
		n=$((n + 1))
		if [ "$kind" = linux ]; then
			# The base is a tarball imported into git without its
			# history, so checkpatch cannot look up the commit that
			# a Fixes: tag names.
			opts=(--strict --quiet --ignore UNKNOWN_COMMIT_ID)
		else
			opts=(--terse)
		fi
		# Debian's python3 (with ply and git) for checkpatch's SPDX check,
		# whatever python3 comes first in PATH.
		if ! (cd "$tmpd/tree" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl "${opts[@]}" "$p") \
			>"$tmpd/cp.log" 2>&1; then
			echo "checkpatch: $(basename "$p"):"
			sed 's/^/    /' "$tmpd/cp.log"
			fail=1
		fi
		grep -q '^Signed-off-by: tdx-dpamt developers <dev@tdx-dpamt.invalid>$' "$p" ||
			{ echo "$(basename "$p"): no Signed-off-by of the project identity"; fail=1; }
	done < <(series_patches)
	[ $fail = 0 ] || die "$kind series: checkpatch or sign-off problems (above)"
	echo "$kind series: $n patch(es) apply and pass checkpatch"
	;;
*) usage ;;
esac
