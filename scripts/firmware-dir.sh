#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# firmware-dir.sh DIR
#
# Fill DIR with the firmware a build-tree QEMU needs (SeaBIOS, qboot,
# option ROMs), copied from Debian's seabios, qemu-system-data and
# ipxe-qemu packages, following links.  A build-tree qemu-system-x86_64
# looks in <build>/qemu-bundle/usr/local/share/qemu; elsewhere pass -L DIR.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: firmware-dir.sh DIR"
dir=$1
for f in /usr/share/seabios/bios-256k.bin /usr/share/qemu/qboot.rom \
	/usr/lib/ipxe/qemu/efi-e1000.rom; do
	[ -e "$f" ] || die "missing firmware $f (run scripts/install-deps.sh: seabios, qemu-system-data, ipxe-qemu)"
done
mkdir -p "$dir"
for f in /usr/share/seabios/*.bin /usr/share/qemu/*.bin /usr/share/qemu/*.rom \
	/usr/lib/ipxe/qemu/*.rom; do
	[ -e "$f" ] || continue
	t=$dir/$(basename "$f")
	[ -f "$t" ] && cmp -s "$f" "$t" && continue
	cp -L "$f" "$t"
done
