#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# print-summary.sh BZIMAGE QEMU FIRMWARE LINUX_TREE QEMU_TREE BUILDDIR
cat >&2 <<EOS

tdx-dpamt build:
  kernel    $1
  QEMU      $2
  firmware  $3 (pass -L to a QEMU run from elsewhere)
  trees     $4 $5
run the tests with: meson test -C $6
EOS
