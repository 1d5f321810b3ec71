#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# install-deps.sh - install what building and testing needs on Debian 12.
#
# Everything comes from bookworm (-t bookworm, so that no newer libc is
# pulled in from other suites a machine may list) except meson and pycotap,
# which QEMU 10.2 needs newer than bookworm has: those come from
# bookworm-backports through a project-private apt configuration, so the
# machine's apt sources stay as they are.  Idempotent and quick when all is
# installed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "install-deps.sh installs packages: run it as root"
# One install at a time (apt's own lock would fail instead of waiting).
cache_lock install-deps
grep -q '^VERSION_CODENAME=bookworm' /etc/os-release ||
	note "warning: this is not Debian 12 (bookworm); package names may differ"

pkgs=(
	# kernel
	build-essential flex bison bc libelf-dev libssl-dev cpio perl rsync kmod
	# QEMU
	ninja-build pkg-config libglib2.0-dev libpixman-1-dev libslirp-dev libfdt-dev
	python3-venv
	# base trees and tools
	git xz-utils dpkg-dev ccache python3 curl
	# firmware for the build-tree QEMU
	seabios qemu-system-data ipxe-qemu
	# tests: formal model, sanitizers, plots
	spin libclang-rt-14-dev python3-matplotlib
	# checkpatch's SPDX check (scripts/spdxcheck.py)
	python3-ply python3-git
)
bpo=(meson python3-pycotap)
# Debian's own libvirt for the libvirt suite, which runs a private libvirtd of
# its own: the daemon, its QEMU driver and virsh, without recommends (they
# would add the system's QEMU) and without libvirt-daemon-system (its
# services, users and networks are not needed and would start daemons).
norec=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients)

# install_missing WHAT APT-OPTION... -- PACKAGE...: install those not installed yet
install_missing() {
	local what=$1 opts=() missing=() p
	shift
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	note "installing from bookworm$what: ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm "${opts[@]}" \
		"${missing[@]}" >/dev/null
}
install_missing "" -- "${pkgs[@]}"
install_missing " without recommends" --no-install-recommends -- "${norec[@]}"

need_bpo=
for p in "${bpo[@]}"; do
	v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)
	case "$v" in *bpo12*) ;; *) need_bpo=1 ;; esac
done
if [ -n "$need_bpo" ]; then
	aptdir=$CACHE_DIR/apt-tools
	mkdir -p "$aptdir"/lists/partial "$aptdir"/archives/partial "$aptdir"/parts
	cat >"$aptdir/sources.list" <<EOS
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main
EOS
	opts=(-o Dir::Etc::SourceList="$aptdir/sources.list" -o Dir::Etc::SourceParts="$aptdir/parts"
		-o Dir::State::Lists="$aptdir/lists" -o Dir::Cache="$aptdir"
		-o Dir::Cache::archives="$aptdir/archives" -o APT::Sandbox::User=root -qq)
	note "installing from bookworm-backports: ${bpo[*]}"
	apt-get "${opts[@]}" update
	DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" install -y \
		"${bpo[@]/%//bookworm-backports}" >/dev/null
fi
note "build dependencies are installed"
