#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-qemu.sh SRC BUILDDIR [NINJA TARGET...]
#
# Configure QEMU (x86_64-softmmu only, no docs, no firmware blobs: the
# Debian source has none) in BUILDDIR once, then build the given targets
# (default: qemu-system-x86_64) incrementally through ccache.  The firmware
# dir that a build-tree binary looks in is filled from Debian's packages.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: build-qemu.sh SRC BUILDDIR [TARGET...]"
src=$(cd "$1" && pwd)
bld=$2
shift 2
[ $# -gt 0 ] || set -- qemu-system-x86_64

need_tools ninja gcc pkg-config flex bison ccache
meson_ver=$(/usr/bin/python3 -c 'import mesonbuild.coredata as c; print(c.version)' 2>/dev/null) ||
	die "missing build tool: meson for /usr/bin/python3 (run scripts/install-deps.sh)"
ccache_env
export CCACHE_BASEDIR=$src

mkdir -p "$bld"
bld=$(cd "$bld" && pwd)
if [ ! -f "$bld/build.ninja" ]; then
	note "configuring QEMU in $bld (meson $meson_ver)"
	(cd "$bld" && "$src/configure" --python=/usr/bin/python3 \
		--target-list=x86_64-softmmu --disable-docs --disable-install-blobs \
		--cc="ccache gcc" --cxx="ccache g++" --disable-werror \
		>"$bld/configure.log" 2>&1) ||
		die "QEMU configure failed: $(tail -n 3 "$bld/configure.log" | tr '\n' ' ')"
fi
ninja -C "$bld" "$@" >"$bld/ninja.log" 2>&1 || {
	grep -E 'error|FAILED' "$bld/ninja.log" | head -n 20 >&2
	die "QEMU build failed (full log: $bld/ninja.log)"
}
"$TOP/scripts/firmware-dir.sh" "$bld/qemu-bundle/usr/local/share/qemu"
