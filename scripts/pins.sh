# Pinned base trees.  Sourced by the scripts in this directory.
#
# Only versions verified to be downloadable from Debian's archive are
# pinned here; a newer upload is not picked up by accident.  Change a pin
# only together with its SHA256 and a note in the commit message.

# Linux 7.3.4: the tarball inside the binary package linux-source-7.3.
LINUX_VERSION=7.3.4
LINUX_DEB_PKG=linux-source-7.3
LINUX_DEB_VERSION=7.3.4-1~bpo13+1
LINUX_DEB_SUITE=trixie-backports
LINUX_DEB_FILE=linux-source-7.3_7.3.4-1~bpo13+1_all.deb
LINUX_DEB_SHA256=703e369ddd4cce971452f5a593ee55df3a5c10c83caf0fa0df039633ed181ee3
LINUX_TARBALL=usr/src/linux-source-7.3.tar.xz

# QEMU 10.2.2: Debian source package, Debian's patches applied.
QEMU_VERSION=10.2.2
QEMU_SRC_PKG=qemu
QEMU_SRC_VERSION=1:10.2.2+ds-1
QEMU_SRC_SUITE=sid
QEMU_SRC_FILES="
qemu_10.2.2+ds-1.dsc f1684b3aa5ec500c3389d346c6501dee45041ea91656c6556d4da9023b7987dd
qemu_10.2.2+ds.orig.tar.xz be05230fe47a6937cd29f28f562932c8125f9c93c2a82c625198f7a4aa601dfb
qemu_10.2.2+ds-1.debian.tar.xz ddf75aceab4f8f77374f3cb34fc97b41514895aeb293ce8b2ddd5e072bb0f5c0
"

# Import commits are made with a fixed identity and date, so that the base
# commit id (the series' "base-commit:") is the same on every machine.
BASE_IMPORT_NAME="tdx-dpamt developers"
BASE_IMPORT_EMAIL="dev@tdx-dpamt.invalid"
BASE_IMPORT_DATE="2026-01-01T00:00:00Z"
