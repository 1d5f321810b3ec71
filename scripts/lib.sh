# Common helpers for the tdx-dpamt scripts.  Source it; do not run it.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=pins.sh
. "$TOP/scripts/pins.sh"

# Downloads, pristine base repos and ccache live outside the build dir so
# that "rm -rf build" costs no download.
CACHE_DIR=${TDX_DPAMT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tdx-dpamt}

die() {
	echo "error: $*" >&2
	exit 1
}

note() {
	echo "tdx-dpamt: $*" >&2
}

need_tools() {
	local t missing=
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	[ -z "$missing" ] ||
		die "missing build tool(s):$missing (run scripts/install-deps.sh)"
}

# cache_lock NAME: hold an exclusive lock on $CACHE_DIR/locks/NAME.lock until
# the calling script exits.  ninja runs the Linux and QEMU steps at the same
# time, and two build dirs may share one cache: whatever they share in the
# cache is made under a lock, re-checked once the lock is held.
cache_lock() {
	local fd
	mkdir -p "$CACHE_DIR/locks"
	exec {fd}>"$CACHE_DIR/locks/$1.lock"
	flock "$fd"
}

# Run git with the project identity, so that commits made by the scripts do
# not depend on the user's configuration.
pgit() {
	git -c user.name="$BASE_IMPORT_NAME" -c user.email="$BASE_IMPORT_EMAIL" \
		-c advice.detachedHead=false -c init.defaultBranch=main "$@"
}

ccache_env() {
	export CCACHE_DIR=${CCACHE_DIR:-$CACHE_DIR/ccache}
	export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$TOP}
	export CCACHE_NOHASHDIR=1
	export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
	export CCACHE_COMPILERCHECK=content
}

# linux_tree_version DIR: "X.Y.Z" from a kernel tree's Makefile, or nothing.
linux_tree_version() {
	[ -f "$1/Makefile" ] || return 0
	awk -F' = ' '$1=="VERSION"{v=$2} $1=="PATCHLEVEL"{p=$2} $1=="SUBLEVEL"{s=$2}
		END{if (v != "" && p != "") print v "." p "." s}' "$1/Makefile"
}
