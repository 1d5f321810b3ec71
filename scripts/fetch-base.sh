#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-base.sh linux|qemu
#
# Make sure the pristine base tree of the given kind exists as a git
# repository in the cache, and print its path.  The first call downloads
# the pinned Debian package with a project-private apt configuration (its
# own sources list, lists and archive dirs, so the machine's apt setup is
# not touched), checks its SHA256, unpacks it and commits it once with a
# fixed identity and date.  Later calls only print the path.
#
# Nothing is written to the cache until it has been verified: downloads go
# to a temporary directory and are moved in after their checksum matched.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kind=${1:-}
case "$kind" in
linux) repo=$CACHE_DIR/base/linux-$LINUX_VERSION ;;
qemu) repo=$CACHE_DIR/base/qemu-$QEMU_VERSION ;;
*) die "usage: fetch-base.sh linux|qemu" ;;
esac

if [ -f "$repo/.tdx-dpamt-base" ]; then
	echo "$repo"
	exit 0
fi

need_tools git apt-get sha256sum tar xz dpkg-deb

dl=$CACHE_DIR/dl
aptdir=$CACHE_DIR/apt-fetch
mkdir -p "$dl" "$aptdir"/lists/partial "$aptdir"/archives/partial "$aptdir"/parts

# Binary index of trixie-backports (for linux-source-7.3, download only,
# never installed) and the source index of sid (for qemu).  Nothing from
# these suites is ever installed on the machine.
cat >"$aptdir/sources.list" <<EOS
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $LINUX_DEB_SUITE main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $QEMU_SRC_SUITE main
EOS
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

apt_update() {
	note "updating the private apt index in $aptdir"
	apt-get "${apt_opts[@]}" update >"$aptdir/update.log" 2>&1 ||
		die "apt-get update with the private configuration failed (see $aptdir/update.log)"
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

# fetch CMD...: run an apt download command in $tmp, refreshing the index
# once if the pinned version is unknown.
fetch() {
	local what=$1
	shift
	[ -d "$aptdir/lists" ] && ls "$aptdir"/lists/*_Packages >/dev/null 2>&1 || apt_update
	if ! (cd "$tmp" && apt-get "${apt_opts[@]}" "$@") >"$tmp/apt.log" 2>&1; then
		apt_update
		(cd "$tmp" && apt-get "${apt_opts[@]}" "$@") >"$tmp/apt.log" 2>&1 ||
			die "$what is not (or no longer) in Debian's archive: $(grep -E '^(E|W):' "$tmp/apt.log" | head -n 1)"
	fi
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
