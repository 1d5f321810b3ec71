#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-initramfs.sh INIT_C OUTPUT: compile the guest /init statically and
# pack it into a newc initramfs for the emulator boots.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: build-initramfs.sh INIT_C OUTPUT" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] ||
	{ echo "error: static libc missing (libc6-dev); run scripts/install-deps.sh" >&2; exit 1; }
gcc -static -Os -Wall -Werror -o "$tmp/init" "$1"
/usr/bin/python3 "$here/mkinitramfs.py" "$tmp/init" "$2"
