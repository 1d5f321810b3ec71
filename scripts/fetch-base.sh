#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-base.sh linux|qemu [--resolve]
#
# Make sure the pristine base tree of the given kind exists as a git
# repository in the cache, and print its path.  The first call downloads
# the pinned Debian package with a project-private apt configuration (its
# own sources list, lists and archive dirs, so the machine's apt setup is
# not touched), checks its SHA256, unpacks it and commits it once with a
# fixed identity and date.  Later calls only print the path.
#
# With --resolve, only check that the archive still offers the pinned
# files with the pinned SHA256 (index refresh included, no download).
#
# Nothing is written to the cache until it has been verified: downloads go
# to a temporary directory and are moved in after their checksum matched.
# Calls may run at the same time (ninja runs the Linux and QEMU steps in
# parallel): the private apt index is refreshed under an exclusive lock and
# read under a shared one, and each kind is fetched under its own lock.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kind=${1:-}
mode=${2:-fetch}
case "$kind" in
linux) repo=$CACHE_DIR/base/linux-$LINUX_VERSION ;;
qemu) repo=$CACHE_DIR/base/qemu-$QEMU_VERSION ;;
*) die "usage: fetch-base.sh linux|qemu [--resolve]" ;;
esac
case "$mode" in
fetch | --resolve) ;;
*) die "usage: fetch-base.sh linux|qemu [--resolve]" ;;
esac

if [ "$mode" = fetch ]; then
	[ -f "$repo/.tdx-dpamt-base" ] && { echo "$repo"; exit 0; }
	# A second fetch of the same kind waits for the first and then finds
	# the tree in place.
	cache_lock "base-$kind"
	[ -f "$repo/.tdx-dpamt-base" ] && { echo "$repo"; exit 0; }
fi

need_tools git apt-get sha256sum tar xz dpkg-deb

dl=$CACHE_DIR/dl
aptdir=$CACHE_DIR/apt-fetch
mkdir -p "$dl" "$aptdir"/lists/partial "$aptdir"/archives/partial "$aptdir"/parts

# Binary index of trixie-backports (for linux-source-7.3, download only,
# never installed) and the source index of sid (for qemu).  Nothing from
# these suites is ever installed on the machine.
# Written whole and renamed: another fetch may be reading it right now.
cat >"$aptdir/sources.list.$$" <<EOS
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $LINUX_DEB_SUITE main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $QEMU_SRC_SUITE main
EOS
mv -f "$aptdir/sources.list.$$" "$aptdir/sources.list"
apt_opts=(
	-o Dir::Etc::SourceList="$aptdir/sources.list"
	-o Dir::Etc::SourceParts="$aptdir/parts"
	-o Dir::State::Lists="$aptdir/lists"
	-o Dir::Cache="$aptdir"
	-o Dir::Cache::archives="$aptdir/archives"
	-o APT::Sandbox::User=root
	-o Debug::NoLocking=1
	-q
)

# The index is complete only when $index_ok exists: it is written after a
# successful update and removed before one starts, so an update that died
# half-way is redone by the next fetch.
index_ok=$aptdir/index.ok
apt_lock=$aptdir.lock

# apt_update [STAMP]: refresh the private index under the exclusive lock,
# unless it was completed by someone else since STAMP (the contents of
# $index_ok when the caller looked; empty: only if missing).
apt_update() {
	local seen=${1:-}
	(
		flock -x 9
		now=$(cat "$index_ok" 2>/dev/null || true)
		if [ -n "$now" ] && [ "$now" != "$seen" ]; then
			exit 0
		fi
		note "updating the private apt index in $aptdir"
		rm -f "$index_ok"
		if ! apt-get "${apt_opts[@]}" update >"$aptdir/update.log" 2>&1 ||
			grep -qE '^(E: |W: (Failed to fetch|Some index files failed))' "$aptdir/update.log"; then
			rm -rf "$aptdir/lists"
			mkdir -p "$aptdir/lists/partial"
			exit 1
		fi
		date -u +%Y-%m-%dT%H:%M:%S.%NZ >"$index_ok"
	) 9>"$apt_lock" ||
		die "apt-get update with the private configuration failed (see $aptdir/update.log)"
}

# apt_read CMD...: run apt-get in $tmp while no update can run.
apt_read() {
	(cd "$tmp" && flock -s 9 && apt-get "${apt_opts[@]}" "$@") 9>"$apt_lock"
}

# check_file FILE SHA256: dies unless FILE has the pinned checksum.
check_file() {
	local got
	got=$(sha256sum "$1" | cut -d' ' -f1)
	[ "$got" = "$2" ] ||
		die "checksum mismatch for $(basename "$1"): expected $2, got $got"
}

tmp=$(mktemp -d "$CACHE_DIR/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# fetch WHAT CMD...: run an apt command in $tmp (output in $tmp/apt.log),
# refreshing the index once if the pinned version is unknown to it.
fetch() {
	local what=$1 seen
	shift
	seen=$(cat "$index_ok" 2>/dev/null || true)
	[ -n "$seen" ] || apt_update
	seen=$(cat "$index_ok")
	if ! apt_read "$@" >"$tmp/apt.log" 2>&1; then
		apt_update "$seen"
		apt_read "$@" >"$tmp/apt.log" 2>&1 ||
			die "$what is not (or no longer) in Debian's archive: $(grep -E '^(E|W):' "$tmp/apt.log" | head -n 1)"
	fi
}

# check_uris FILE SHA256...: the pinned files appear in apt's --print-uris
# output ($tmp/apt.log: 'URI' FILE SIZE SHA256:SUM) with the pinned SHA256.
check_uris() {
	local f sum
	while [ $# -ge 2 ]; do
		f=$1 sum=$2
		shift 2
		awk -v f="$f" -v h="SHA256:$sum" '$2 == f && $4 == h { ok = 1 } END { exit !ok }' \
			"$tmp/apt.log" ||
			die "the archive does not offer $f with the pinned SHA256 $sum: $(grep -F " $f " "$tmp/apt.log" | head -n 1)"
	done
}

# Commit the unpacked tree in $1 and move it to $repo.
import_tree() {
	local tree=$1 msg=$2
	note "importing $msg into git (one time)"
	(
		cd "$tree"
		pgit init -q
		# Build products are kept out of tree (O=, separate build dirs),
		# but make the import independent of the tree's .gitignore.
		pgit add -A -f .
		GIT_AUTHOR_DATE=$BASE_IMPORT_DATE GIT_COMMITTER_DATE=$BASE_IMPORT_DATE \
			pgit commit -q -m "$msg" -m "Imported by tdx-dpamt scripts/fetch-base.sh."
		pgit tag base
		pgit gc -q --auto
		echo "$msg" >.tdx-dpamt-base
		echo "/.tdx-dpamt-base" >>.git/info/exclude
	)
	mkdir -p "$(dirname "$repo")"
	rm -rf "$repo"
	mv "$tree" "$repo"
}

if [ "$mode" = --resolve ]; then
	case "$kind" in
	linux)
		fetch "$LINUX_DEB_PKG $LINUX_DEB_VERSION ($LINUX_DEB_SUITE)" \
			download --print-uris "$LINUX_DEB_PKG=$LINUX_DEB_VERSION"
		check_uris "$LINUX_DEB_FILE" "$LINUX_DEB_SHA256"
		;;
	qemu)
		fetch "$QEMU_SRC_PKG $QEMU_SRC_VERSION ($QEMU_SRC_SUITE sources)" \
			source --print-uris "$QEMU_SRC_PKG=$QEMU_SRC_VERSION"
		# shellcheck disable=SC2086 # file/sum pairs
		check_uris $QEMU_SRC_FILES
		;;
	esac
	echo "$kind: pinned files resolved in the archive"
	exit 0
fi

case "$kind" in
linux)
	deb=$dl/$LINUX_DEB_FILE
	if [ ! -f "$deb" ]; then
		note "downloading $LINUX_DEB_PKG $LINUX_DEB_VERSION"
		fetch "$LINUX_DEB_PKG $LINUX_DEB_VERSION ($LINUX_DEB_SUITE)" \
			download "$LINUX_DEB_PKG=$LINUX_DEB_VERSION"
		check_file "$tmp/$LINUX_DEB_FILE" "$LINUX_DEB_SHA256"
		mv "$tmp/$LINUX_DEB_FILE" "$deb"
	fi
	check_file "$deb" "$LINUX_DEB_SHA256"
	note "unpacking Linux $LINUX_VERSION"
	mkdir -p "$tmp/x"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" "./$LINUX_TARBALL"
	mkdir -p "$tmp/tree"
	tar -xJf "$tmp/x/$LINUX_TARBALL" -C "$tmp/tree" --strip-components=1
	[ "$(linux_tree_version "$tmp/tree")" = "$LINUX_VERSION" ] ||
		die "$LINUX_TARBALL does not hold Linux $LINUX_VERSION"
	import_tree "$tmp/tree" "Linux $LINUX_VERSION ($LINUX_DEB_PKG $LINUX_DEB_VERSION)"
	;;
qemu)
	need_tools dpkg-source
	missing=
	while read -r f sum; do
		[ -n "$f" ] || continue
		[ -f "$dl/$f" ] || missing=1
	done <<<"$QEMU_SRC_FILES"
	if [ -n "$missing" ]; then
		note "downloading $QEMU_SRC_PKG $QEMU_SRC_VERSION sources"
		fetch "$QEMU_SRC_PKG $QEMU_SRC_VERSION ($QEMU_SRC_SUITE sources)" \
			source --download-only "$QEMU_SRC_PKG=$QEMU_SRC_VERSION"
		while read -r f sum; do
			[ -n "$f" ] || continue
			check_file "$tmp/$f" "$sum"
		done <<<"$QEMU_SRC_FILES"
		while read -r f sum; do
			[ -n "$f" ] || continue
			mv "$tmp/$f" "$dl/$f"
		done <<<"$QEMU_SRC_FILES"
	fi
	while read -r f sum; do
		[ -n "$f" ] || continue
		check_file "$dl/$f" "$sum"
	done <<<"$QEMU_SRC_FILES"
	note "unpacking QEMU $QEMU_VERSION with Debian's patches"
	dsc=$(awk 'NR==1{print $1}' <<<"${QEMU_SRC_FILES#$'\n'}")
	# The checksums above were checked; the archive signature is not
	# needed again (and its keyring may be absent).
	(cd "$tmp" && dpkg-source --no-check -x "$dl/$dsc" tree) >"$tmp/dpkg-source.log" 2>&1 ||
		die "dpkg-source failed to unpack $dsc (see output: $(tail -n 1 "$tmp/dpkg-source.log"))"
	rm -rf "$tmp/tree/.pc"
	grep -qx "$QEMU_VERSION" "$tmp/tree/VERSION" ||
		die "$dsc does not hold QEMU $QEMU_VERSION"
	import_tree "$tmp/tree" "QEMU $QEMU_VERSION ($QEMU_SRC_PKG $QEMU_SRC_VERSION, Debian patches applied)"
	;;
esac

echo "$repo"
