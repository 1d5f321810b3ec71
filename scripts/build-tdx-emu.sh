#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-tdx-emu.sh SRC BUILDDIR [QEMU_SRC]
#
# Build the test-only QEMU with the emulated TDX module: make SRC the
# pinned QEMU base (or the user's QEMU_SRC tree) plus the series in
# tests/tdx-emu/patches/, copy the project's shared TDX module model
# (tests/model/) into it, where the series compiles it as the emulated
# module's Dynamic PAMT rules, and build qemu-system-x86_64 in BUILDDIR.
# Incremental like build-qemu.sh: an unchanged series and model cost a
# ninja no-op.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: build-tdx-emu.sh SRC BUILDDIR [QEMU_SRC]"
src=$1
bld=$2
user_src=${3:-}

"$TOP/scripts/series.sh" apply emu "$src" ${user_src:+"$user_src"}

# The model and the local headers it includes, copied only when changed so
# that ninja rebuilds only what changed.
model=$TOP/tests/model
dst=$src/target/i386/tcg/system/tdx-emu/tdx-model
[ -f "$model/tdx_module_model.c" ] || die "$model/tdx_module_model.c is missing"
mkdir -p "$dst"
todo=(tdx_module_model.c tdx_module_model.h)
declare -A seen=()
while [ ${#todo[@]} -gt 0 ]; do
	f=${todo[0]}
	todo=("${todo[@]:1}")
	[ -z "${seen[$f]:-}" ] || continue
	seen[$f]=1
	cmp -s "$model/$f" "$dst/$f" || cp "$model/$f" "$dst/$f"
	while read -r inc; do
		[ -f "$model/$inc" ] && todo+=("$inc")
	done < <(sed -n 's/^#include "\([^"/]*\)".*/\1/p' "$model/$f")
done

"$TOP/scripts/build-qemu.sh" "$src" "$bld" qemu-system-x86_64
