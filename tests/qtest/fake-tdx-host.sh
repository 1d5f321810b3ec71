#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fake-tdx-host.sh DIR COMMAND [ARG...]
# fake-tdx-host.sh --unreadable COMMAND [ARG...]
# fake-tdx-host.sh --probe
#
# Run COMMAND (the QEMU under test) in a private mount namespace in
# which the kernel's TDX files look the way the test wants.  The rest of
# the system is not affected, and the process keeps its PID (every step
# execs).  Needs root (CAP_SYS_ADMIN), unshare(1), setpriv(1) and a
# kernel with /sys/devices/faux.
#
#   DIR           /sys/devices/faux/tdx_host/pamt is DIR, bind-mounted, so
#                 QEMU reads the test's fake figures from the real path
#                 and the test can change them (or watch them) meanwhile.
#   --unreadable  /sys/devices/faux cannot be read by COMMAND, as under
#                 libvirt's AppArmor profile for QEMU: a mode 000 tmpfs
#                 holding a fake pamt directory, and COMMAND runs as root
#                 without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH.  Before
#                 COMMAND starts, a read under the same restriction must
#                 fail, or the script exits with status 97.
#   --probe       exits 0 when this is possible here.
set -e
nodac='setpriv --bounding-set -dac_override,-dac_read_search --'
case "${1:-}" in
--probe)
	exec unshare --mount --propagation private sh -c "
		mount -t tmpfs tdx-dpamt-test /sys/devices/faux &&
		$nodac true" 2>/dev/null
	;;
--unreadable)
	shift
	[ $# -ge 1 ] || { echo "usage: fake-tdx-host.sh --unreadable COMMAND [ARG...]" >&2; exit 2; }
	exec unshare --mount --propagation private sh -c '
		set -e
		nodac=$0
		mount -t tmpfs -o mode=000 tdx-dpamt-test /sys/devices/faux
		mkdir -p /sys/devices/faux/tdx_host/pamt
		echo dynamic >/sys/devices/faux/tdx_host/pamt/mode
		if $nodac cat /sys/devices/faux/tdx_host/pamt/mode >/dev/null 2>&1; then
			echo "fake-tdx-host.sh: /sys/devices/faux is still readable" >&2
			exit 97
		fi
		exec $nodac "$@"' "$nodac" "$@"
	;;
esac
[ $# -ge 2 ] || { echo "usage: fake-tdx-host.sh DIR COMMAND [ARG...]" >&2; exit 2; }
exec unshare --mount --propagation private sh -c '
	set -e
	mount -t tmpfs tdx-dpamt-test /sys/devices/faux
	mkdir -p /sys/devices/faux/tdx_host/pamt
	mount --bind "$0" /sys/devices/faux/tdx_host/pamt
	exec "$@"' "$@"
