#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh SRC OBJ [TARGET...]
#
# Configure the kernel tree SRC out of tree in OBJ from the fragment
# tests/kernel/kunit.config (plus the fragments named in $KERNEL_EXTRA_CONFIGS,
# paths from the top directory) and build TARGETs (default: bzImage).  The
# build is incremental: OBJ is kept and compilers go through ccache, so a rebuild
# after editing one patch compiles only what that patch changes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: build-kernel.sh SRC OBJ [TARGET...]"
src=$(cd "$1" && pwd)
obj=$2
shift 2
[ $# -gt 0 ] || set -- bzImage

need_tools make gcc flex bison bc perl ccache
[ -f /usr/include/libelf.h ] || die "missing build tool: libelf-dev (run scripts/install-deps.sh)"
[ -f /usr/include/openssl/ssl.h ] || die "missing build tool: libssl-dev (run scripts/install-deps.sh)"
ccache_env
export CCACHE_BASEDIR=$src

mkdir -p "$obj"
obj=$(cd "$obj" && pwd)

frag=$obj/.tdx-dpamt.fragment
{
	cat "$TOP/tests/kernel/kunit.config"
	for f in ${KERNEL_EXTRA_CONFIGS:-}; do cat "$TOP/$f"; done
} >"$frag.new"

mk() {
	make -C "$src" O="$obj" ARCH=x86_64 CC="ccache gcc" HOSTCC="ccache gcc" \
		-j"$(nproc)" -s "$@"
}

# The last setting of each symbol in the fragment: a later fragment may
# override an earlier one ("CONFIG_X=y", then "# CONFIG_X is not set").
wanted() {
	sed -n -e 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1=n/p' \
		-e '/^CONFIG_[A-Za-z0-9_]*=/p' "$frag.new" |
		awk -F= '{ last[$1] = $0; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
			 END { for (i = 1; i <= n; i++) print last[order[i]] }'
}

# Symbols of the fragment that .config does not have as wanted.  With
# KERNEL_CONFIG_ALLOW_UNDEFINED=1 (bisecting a series), symbols that no
# Kconfig file of this tree defines yet are not counted.
missing() {
	local line sym
	while IFS= read -r line; do
		sym=${line%%=*}
		case "$line" in
		*=n) ! grep -q "^$sym=" "$obj/.config" 2>/dev/null && continue ;;
		*) grep -qx "$line" "$obj/.config" 2>/dev/null && continue ;;
		esac
		if [ "${KERNEL_CONFIG_ALLOW_UNDEFINED:-0}" = 1 ] &&
			! grep -rqsE --include='Kconfig*' "^[[:space:]]*(menu)?config ${sym#CONFIG_}\$" "$src"; then
			continue
		fi
		echo "$sym"
	done < <(wanted)
}

# Reconfigure only when the fragment changed or .config lost part of it
# (building an older tree drops symbols it does not know), so that
# .config otherwise keeps its timestamp and nothing is rebuilt for nothing.
if ! cmp -s "$frag.new" "$frag" || [ ! -f "$obj/.config" ] || [ -n "$(missing)" ]; then
	cp "$frag.new" "$obj/.config"
	mk olddefconfig
	# olddefconfig silently drops options whose dependencies are not met;
	# a test kernel without them would test nothing.
	lost=$(missing | tr '\n' ' ')
	[ -z "$lost" ] || die "kernel config lost: $lost(dependencies not met in $src)"
	mv "$frag.new" "$frag"
else
	rm -f "$frag.new"
fi

mk "$@"
