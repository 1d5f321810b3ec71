#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Plant known bugs in the kernel's pamt.c and check that KUnit catches each.

    scripts/kunit-mutants.py LINUX_TREE WORKDIR QEMU FIRMWARE [NAME...]

For every mutant (or the NAMEs given): copy LINUX_TREE's pamt.c into a
private clone in WORKDIR/linux, plant the bug, build bzImage with the
test config (scripts/build-kernel.sh, ccache), boot it under QEMU TCG with
panic_on_warn=1 and read the KTAP output (scripts/run-kunit.py).  A mutant
is caught when the tdx_dpamt suite does not pass.  Prints one line per
mutant and exits non-zero if any was missed or could not be planted.

Not a test suite: each mutant is a kernel build and a boot (about a minute
each with a warm ccache).  Run with `meson compile -C build kunit-mutants`;
tests/model/mutants.py does the same for the userspace harness, in CI.

Each mutant names a bug the suite must catch; most are bugs v1 had or that
a review found (kernel-core review #1, #2, #4, #6; KVM review F9).
"""
import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAMT = 'arch/x86/virt/vmx/tdx/pamt.c'

# name: (text of pamt.c, replacement), each text must occur exactly once.
MUTANTS = {
    # core #4: the pair ignores the caller's gfp
    'gfp-ignored': (
        '''		new = pamt_pair_alloc(pfn_valid(pfn) ? pfn_to_nid(pfn) : NUMA_NO_NODE,
				      gfp);''',
        '''		new = pamt_pair_alloc(pfn_valid(pfn) ? pfn_to_nid(pfn) : NUMA_NO_NODE,
				      GFP_KERNEL_ACCOUNT);'''),
    # core #6: a BUSY REMOVE treated as a failure (leak)
    'remove-busy-is-failure': (
        '''	if (pamt_status_busy(status)) {
		atomic_long_inc(&pamt.remove_busy);''',
        '''	if (0 && pamt_status_busy(status)) {
		atomic_long_inc(&pamt.remove_busy);'''),
    # core #1: returned pages freed without TDH.PHYMEM.PAGE.WBINVD
    'no-wbinvd': (
        '''			status = tdh_phymem_pamt_page_wbinvd(pa);''',
        '''			status = TDX_SUCCESS;'''),
    # core #2: NO_PAMT_PAGE_PAIR keeps the pair (region poisoned)
    'no-pair-kept': (
        '''	} else if (status == TDX_SUCCESS ||
		   pamt_status_is(status, TDX_NO_PAMT_PAGE_PAIR)) {''',
        '''	} else if (status == TDX_SUCCESS) {'''),
    # core #2: pages REMOVE did not hand back are freed
    'foreign-freed': (
        '''	if (status == TDX_SUCCESS && pamt_pair_returned(pair, pa)) {''',
        '''	if (status == TDX_SUCCESS) {'''),
    # no re-check of the count under the lock: a second PAMT.ADD
    'no-recheck': (
        '''	if (atomic_inc_not_zero(&pamt.refs[idx]))
		ret = 0;	/* someone else got there first */''',
        '''	if (0)
		ret = 0;	/* someone else got there first */'''),
    # REMOVE outside pamt_lock: ADD and REMOVE in flight at once
    'remove-unlocked': (
        '''	status = tdh_phymem_pamt_remove(base, &pa[0], &pa[1]);''',
        '''	spin_unlock(&pamt_lock);
	status = tdh_phymem_pamt_remove(base, &pa[0], &pa[1]);
	spin_lock(&pamt_lock);'''),
    # the last put does not return the first get's charge tag
    'charge-lost': (
        '''	queue_delayed_work(system_dfl_wq, &pamt_remove_work, 0);
	return charge;''',
        '''	queue_delayed_work(system_dfl_wq, &pamt_remove_work, 0);
	return 1;'''),
    # the last put takes pamt_lock (deadlocks from interrupts, lockdep)
    'put-locks': (
        '''	/* Ordered after the cmpxchg: the work sees the zero. */
	set_bit(idx, pamt.pending);''',
        '''	/* Ordered after the cmpxchg: the work sees the zero. */
	spin_lock(&pamt_lock);
	set_bit(idx, pamt.pending);
	spin_unlock(&pamt_lock);'''),
    # machine checks miss the second page of a pair
    'mce-blind': (
        '''		if (page_to_pfn(pair->page[1]) == pfn)
			found = true;''',
        '''		if (page_to_pfn(pair->page[1]) == pfn + 1)
			found = true;'''),
    # dynamic_bytes not lowered when a page is freed
    'dynamic-not-dropped': (
        '''		tdx_quirk_reset_paddr(pa, PAGE_SIZE);
		__free_page(pair->page[i]);
		atomic_long_dec(&pamt.pair_pages);''',
        '''		tdx_quirk_reset_paddr(pa, PAGE_SIZE);
		__free_page(pair->page[i]);'''),
    # a stuck pair used again stays counted as leaked
    'stuck-stays-leaked': (
        '''		if (pair->stuck) {
			pair->stuck = false;
			atomic_long_sub(TDX_DPAMT_PAIR_PAGES, &pamt.leaked_pages);
		}''',
        '''		if (pair->stuck)
			pair->stuck = false;'''),
    # core #1: a page whose write-back failed is freed anyway
    'wbinvd-fail-freed': (
        '''			atomic_long_inc(&pamt.leaked_pages);
			continue;
		}
		tdx_quirk_reset_paddr''',
        '''			atomic_long_inc(&pamt.leaked_pages);
		}
		tdx_quirk_reset_paddr'''),
    # a write-back that stays BUSY frees the dirty page
    'wbinvd-busy-freed': (
        '''		if (pamt_status_busy(status))
			continue;

		pair->unflushed &= ~BIT(i);''',
        '''		pair->unflushed &= ~BIT(i);'''),
    # a put without a reference takes the count below zero
    'put-below-zero': (
        '''	old = atomic_read(ref);
	do {
		if (old <= 1)
			return pamt_put_last(pamt_region_idx(pfn), ref);
	} while (!atomic_try_cmpxchg(ref, &old, old - 1));
	return 0;''',
        '''	if (atomic_add_unless(ref, -1, 1))
		return 0;
	return pamt_put_last(pamt_region_idx(pfn), ref);'''),
    # the removal work does not act for the KUnit model
    'no-kunit-hook': (
        '''	if (test)
		current->kunit_test = test;''',
        '''	if (0)
		current->kunit_test = test;'''),
    # PAMT.ADD BUSY not retried
    'add-busy-no-retry': (
        '''	for (i = 0; i < TDX_PAMT_BUSY_TRIES; i++) {
		status = tdh_phymem_pamt_add(''',
        '''	for (i = 0; i < 1; i++) {
		status = tdh_phymem_pamt_add('''),
    # a cached pair is used without leaving the cache
    'cache-not-consumed': (
        '''		if (cache) {
			list_del(&pair->cache_node);
			cache->nr--;
		}''',
        '''		if (cache && 0) {
			list_del(&pair->cache_node);
			cache->nr--;
		}'''),
}


def run(cmd, log, env=None):
    with open(log, 'w') as f:
        return subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__.split('\n\n')[1])
    src, work, qemu, firmware = (os.path.abspath(a) for a in sys.argv[1:5])
    names = sys.argv[5:] or list(MUTANTS)
    for n in names:
        if n not in MUTANTS:
            sys.exit(f'unknown mutant {n}; known: {" ".join(MUTANTS)}')
    tree, obj = os.path.join(work, 'linux'), os.path.join(work, 'obj')
    os.makedirs(work, exist_ok=True)
    # A private clone at the tree's HEAD: the mutants never touch LINUX_TREE.
    if not os.path.isdir(os.path.join(tree, '.git')):
        subprocess.check_call(['git', 'clone', '-q', '--shared', src, tree])
    head = subprocess.check_output(['git', '-C', src, 'rev-parse', 'HEAD'], text=True).strip()
    subprocess.check_call(['git', '-C', tree, 'fetch', '-q', src, head])
    subprocess.check_call(['git', '-C', tree, 'checkout', '-q', '-f', head])
    with open(os.path.join(src, PAMT)) as f:
        pristine = f.read()

    bad = 0
    for n in names:
        old, new = MUTANTS[n]
        if pristine.count(old) != 1:
            print(f'{n}: cannot plant (its text occurs {pristine.count(old)} times in {PAMT})')
            bad += 1
            continue
        with open(os.path.join(tree, PAMT), 'w') as f:
            f.write(pristine.replace(old, new))
        env = dict(os.environ, KERNEL_CONFIG_ALLOW_UNDEFINED='1')
        if run([os.path.join(TOP, 'scripts/build-kernel.sh'), tree, obj, 'bzImage'],
               os.path.join(work, n + '.build.log'), env):
            print(f'{n}: build failed, see {work}/{n}.build.log')
            bad += 1
            continue
        log = os.path.join(work, n + '.log')
        rc = run([sys.executable, os.path.join(TOP, 'scripts/run-kunit.py'),
                  '--qemu', qemu, '--firmware', firmware,
                  '--kernel', os.path.join(obj, 'arch/x86/boot/bzImage'),
                  '--linux-src', tree, '--require-suite', 'tdx_dpamt',
                  '--append', 'panic_on_warn=1', '--timeout', '300',
                  '--log', os.path.join(work, n + '.console')], log)
        with open(log) as f:
            last = (f.read().strip().splitlines() or [''])[-1]
        print(f'{n}: {"MISSED" if rc == 0 else "caught"} ({last})', flush=True)
        bad += rc == 0
    with open(os.path.join(tree, PAMT), 'w') as f:
        f.write(pristine)
    print(f'{len(names) - bad} of {len(names)} mutants caught')
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
