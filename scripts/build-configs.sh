#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-configs.sh LINUX_TREE WORKDIR
#
# The series must build with KVM's TDX support off and with the TDX host
# support off, not only in the test kernel's configuration.  For each
# fragment tests/kernel/no-*.config, configure WORKDIR/<fragment> from
# tests/kernel/kunit.config plus that fragment and build the directories the
# series touches (KVM, the TDX host code, the tdx-host driver), warnings
# counted as failures.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || die "usage: build-configs.sh LINUX_TREE WORKDIR"
tree=$1
work=$2
pass=0
fail=0
for frag in "$TOP"/tests/kernel/no-*.config; do
	name=$(basename "$frag" .config)
	log=$work/$name.log
	mkdir -p "$work"
	if KERNEL_EXTRA_CONFIGS=tests/kernel/$(basename "$frag") "$TOP/scripts/build-kernel.sh" \
		"$tree" "$work/$name" arch/x86/kvm/ arch/x86/virt/ drivers/virt/coco/ \
		>"$log" 2>&1 && ! grep -E '(warning|error):' "$log" | grep -vq 'override: reassigning to symbol'; then
		echo "ok - builds with $name.config"
		pass=$((pass + 1))
	else
		echo "not ok - $name.config:"
		grep -E '(warning|error):' "$log" | grep -v 'override: reassigning' | head -n 20 | sed 's/^/    /'
		tail -n 3 "$log" | sed 's/^/    /'
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
