#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fake-tdx-host.sh DIR COMMAND [ARG...]
# fake-tdx-host.sh --probe
#
# Run COMMAND (the QEMU under test) in a private mount namespace in
# which /sys/devices/faux/tdx_host/pamt is DIR, bind-mounted, so that
# QEMU reads the test's fake kernel figures from the real path and the
# test can change them while QEMU runs.  The rest of the system is not
# affected.  Needs root (CAP_SYS_ADMIN), unshare(1) and a kernel with
# /sys/devices/faux.  The process keeps its PID: every step execs.
#
# --probe exits 0 when this is possible here.
set -e
if [ "${1:-}" = --probe ]; then
	exec unshare --mount --propagation private \
		sh -c 'mount -t tmpfs tdx-dpamt-test /sys/devices/faux' 2>/dev/null
fi
[ $# -ge 2 ] || { echo "usage: fake-tdx-host.sh DIR COMMAND [ARG...]" >&2; exit 2; }
exec unshare --mount --propagation private sh -c '
	set -e
	mount -t tmpfs tdx-dpamt-test /sys/devices/faux
	mkdir -p /sys/devices/faux/tdx_host/pamt
	mount --bind "$0" /sys/devices/faux/tdx_host/pamt
	exec "$@"' "$@"
