#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""mutants.py LINUX_TREE BUILD_DIR - check that the model harness catches bugs.

Each mutant is a small, realistic bug planted in a COPY of the kernel's
pamt.c (the kernel tree is never touched).  The copy is compiled into the
ASan harness (Makefile target `mutant`) and the tests run at a small scale;
the harness must FAIL for every mutant.  A mutant whose pattern no longer
matches pamt.c is reported as skipped (the kernel code changed shape), not
as a failure of the harness.

Prints one line per mutant and ends with `N passed, N failed`.
"""
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# name, description, [(old, new), ...], tests to run[, variant[, cflags]]
# variant: "asan" (default) or "tsan" for bugs only a race detector sees;
# cflags: extra flags for the harness (e.g. to turn off a check the mutant
# would trip trivially, so that a deeper one must catch it)
MUTANTS = [
    ("no-recheck", "get: no re-check of the count under pamt_lock",
     [("\tif (atomic_inc_not_zero(&pamt.refs[idx]))\n\t\tret = 0;",
       "\tif (0)\n\t\tret = 0;")],
     ["recheck-under-lock", "stress-2-regions"]),
    ("fastpath-read-inc", "get: fast path reads then increments (not inc_not_zero)",
     [("\tif (atomic_inc_not_zero(ref))\n\t\treturn 0;",
       "\tif (atomic_read(ref)) {\n\t\tatomic_inc(ref);\n\t\treturn 0;\n\t}")],
     ["stress-2-regions"]),
    ("publish-before-add", "get: count published before PAMT.ADD succeeded",
     [("\t\tstatus = pamt_add(idx, pair);",
       "\t\tatomic_set(&pamt.refs[idx], 1);\n\t\tstatus = pamt_add(idx, pair);")],
     ["add-failures", "stress-2-regions"]),
    ("put-below-zero", "put: the lock-free decrement only refuses to go from 1 to 0",
     [("\told = atomic_read(ref);\n\tdo {\n\t\tif (old <= 1)\n\t\t\treturn pamt_put_last(pamt_region_idx(pfn), ref);\n\t} while (!atomic_try_cmpxchg(ref, &old, old - 1));\n\treturn 0;",
       "\tif (atomic_add_unless(ref, -1, 1))\n\t\treturn 0;\n\treturn pamt_put_last(pamt_region_idx(pfn), ref);")],
     ["unbalanced-put"]),
    ("charge-after-zero", "put: reads the charge after the count dropped to zero",
     [("\treturn charge;\n}\n\n/**\n * tdx_pamt_put",
       "\tpair = pamt_find(idx);\n\treturn pair ? READ_ONCE(pair->charge) : 0;\n}\n\n/**\n * tdx_pamt_put")],
     ["stress-2-regions"]),
    ("work-no-recheck", "removal work: REMOVE without checking the count under the lock",
     [("\tif (atomic_read(&pamt.refs[idx]) || !pair || pair->stuck) {",
       "\tif (!pair || pair->stuck) {")],
     ["reuse-before-removal", "stress-2-regions"]),
    ("per-region-lock", "ADD/REMOVE serialised per region instead of by one lock",
     [("static DEFINE_SPINLOCK(pamt_lock);",
       "static DEFINE_SPINLOCK(pamt_lock);\n"
       "static spinlock_t pamt_rlocks[8] = { [0 ... 7] = __SPIN_LOCK_UNLOCKED(pamt_rlock) };\n"
       "#define pamt_rlock(idx) (&pamt_rlocks[(idx) % 8])"),
      ("\tspin_lock(&pamt_lock);\n\tif (atomic_inc_not_zero(&pamt.refs[idx]))",
       "\tspin_lock(pamt_rlock(idx));\n\tif (atomic_inc_not_zero(&pamt.refs[idx]))"),
      ("\t\tret = pamt_get_first(idx, &new, cache, charge);\n\tspin_unlock(&pamt_lock);",
       "\t\tret = pamt_get_first(idx, &new, cache, charge);\n\tspin_unlock(pamt_rlock(idx));"),
      ("\tspin_lock(&pamt_lock);\n\tpair = pamt_find(idx);\n\t/* In use again",
       "\tspin_lock(pamt_rlock(idx));\n\tpair = pamt_find(idx);\n\t/* In use again"),
      ("\t\tspin_unlock(&pamt_lock);\n\t\treturn true;\n\t}\n\n\tstatus = tdh_phymem_pamt_remove",
       "\t\tspin_unlock(pamt_rlock(idx));\n\t\treturn true;\n\t}\n\n\tstatus = tdh_phymem_pamt_remove"),
      ("\t\tatomic_long_inc(&pamt.remove_busy);\n\t\tspin_unlock(&pamt_lock);",
       "\t\tatomic_long_inc(&pamt.remove_busy);\n\t\tspin_unlock(pamt_rlock(idx));"),
      ("\t\tatomic_long_inc(&pamt.remove_failed);\n\t}\n\tspin_unlock(&pamt_lock);",
       "\t\tatomic_long_inc(&pamt.remove_failed);\n\t}\n\tspin_unlock(pamt_rlock(idx));")],
     ["stress-2-regions", "stress"], "asan",
     "-DHARNESS_NO_LOCK_OWNER_CHECK"),
    ("no-clflush", "pair pages handed to PAMT.ADD without flushing the host's lines",
     [("\t\tclflush_cache_range(page_address(pair->page[i]), PAGE_SIZE);\n", "")],
     ["basic"]),
    ("no-wbinvd", "returned pair pages freed without TDH.PHYMEM.PAGE.WBINVD",
     [("\t\t\tstatus = tdh_phymem_pamt_page_wbinvd(pa);", "\t\t\tstatus = TDX_SUCCESS;")],
     ["basic"]),
    ("wbinvd-fail-freed", "a page whose write-back failed is freed anyway",
     [("\t\t\tatomic_long_inc(&pamt.leaked_pages);\n\t\t\tcontinue;\n\t\t}\n\t\ttdx_quirk_reset_paddr",
       "\t\t}\n\t\ttdx_quirk_reset_paddr")],
     ["wbinvd"]),
    ("wbinvd-busy-leaks", "a write-back that stays busy becomes a leak",
     [("\t\tif (pamt_status_busy(status))\n\t\t\tcontinue;\n\n\t\tpair->unflushed", "\t\tpair->unflushed")],
     ["wbinvd"]),
    ("no-reset", "returned pair freed without tdx_quirk_reset_paddr()",
     [("\t\ttdx_quirk_reset_paddr(pa, PAGE_SIZE);\n", "")],
     ["basic"]),
    ("remove-busy-stuck", "a REMOVE that stays busy is given up on",
     [("\tif (pamt_status_busy(status)) {\n\t\tatomic_long_inc(&pamt.remove_busy);",
       "\tif (0) {\n\t\tatomic_long_inc(&pamt.remove_busy);")],
     ["remove-busy"]),
    ("no-pair-kept", "NO_PAMT_PAGE_PAIR: the kernel keeps believing in its pair",
     [("\t} else if (status == TDX_SUCCESS ||\n\t\t   pamt_status_is(status, TDX_NO_PAMT_PAGE_PAIR)) {",
       "\t} else if (status == TDX_SUCCESS) {")],
     ["remove-no-pair"]),
    ("bad-output-freed", "REMOVE output not checked against the pair installed",
     [("\tif (status == TDX_SUCCESS && pamt_pair_returned(pair, pa)) {",
       "\tif (status == TDX_SUCCESS) {")],
     ["remove-bad-output"]),
    ("stuck-stays-leaked", "a reused stuck pair is still reported as leaked",
     [("\t\tif (pair->stuck) {\n\t\t\tpair->stuck = false;\n\t\t\tatomic_long_sub(TDX_DPAMT_PAIR_PAGES, &pamt.leaked_pages);\n\t\t}",
       "")],
     ["remove-error"]),
    ("charge-kept-on-reuse", "a reused pair stays charged to its previous user",
     [("\tWRITE_ONCE(pair->charge, charge);", "\tif (!pair->charge)\n\t\tWRITE_ONCE(pair->charge, charge);")],
     ["reuse-before-removal"]),
    ("cache-consumed-on-failure", "a cache pair is used up even when PAMT.ADD fails",
     [("\t\tstatus = pamt_add(idx, pair);\n",
       "\t\tif (cache) {\n\t\t\tlist_del(&pair->cache_node);\n\t\t\tcache->nr--;\n\t\t\tcache = NULL;\n\t\t}\n"
       "\t\tstatus = pamt_add(idx, pair);\n")],
     ["fault-sweep"]),
    ("gfp-ignored", "pair pages always allocated with GFP_KERNEL_ACCOUNT",
     [("\t\tpair->page[i] = tdx_pamt_alloc_page(nid, gfp);",
       "\t\tpair->page[i] = tdx_pamt_alloc_page(nid, GFP_KERNEL_ACCOUNT);")],
     ["gfp"]),
    ("numa-ignored", "pairs for a region not allocated on its node",
     [("\t\tnew = pamt_pair_alloc(pfn_valid(pfn) ? pfn_to_nid(pfn) : NUMA_NO_NODE,",
       "\t\tnew = pamt_pair_alloc(NUMA_NO_NODE,")],
     ["numa"]),
    ("busy-unmasked", "OPERAND_BUSY compared without the status mask",
     [("return (status & TDX_SEAMCALL_STATUS_MASK) == TDX_OPERAND_BUSY;",
       "return status == TDX_OPERAND_BUSY;")],
     ["add-failures"]),
    ("record-freed-now", "records freed without waiting for lockless readers",
     [("\tatomic_long_dec(&pamt.nr_records);\n\tkfree_rcu(pair, rcu);\n\treturn true;",
       "\tatomic_long_dec(&pamt.nr_records);\n\tkfree(pair);\n\treturn true;")],
     ["mce-during-removal"]),
    ("charge-plain-write", "the charge of a reused pair written with a plain store",
     [("\tWRITE_ONCE(pair->charge, charge);", "\tpair->charge = charge;")],
     ["stress-2-regions", "stress"], "tsan"),
    ("mce-no-page-table", "tdx_pamt_is_pair_page() misses page 0 of a pair",
     [("\t\tif (page_to_pfn(pair->page[0]) == pfn)\n", "\t\tif (page_to_pfn(pair->page[0]) == pfn + 1)\n")],
     ["pair-page-recognition"]),
]


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    linux, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    src = os.path.join(linux, "arch/x86/virt/vmx/tdx/pamt.c")
    orig = open(src).read()
    jobs = os.environ.get("MAKEFLAGS_JOBS", "-j2")
    r = subprocess.run(["make", "-s", "-C", HERE, jobs, "LINUX=" + linux,
                        "BUILD=" + build, "asan", "tsan"])
    if r.returncode:
        print("mutants: building the asan harness failed")
        print("0 passed, 1 failed")
        return 1
    passed = failed = skipped = 0
    for m in MUTANTS:
        name, desc, edits, tests = m[:4]
        variant = m[4] if len(m) > 4 else "asan"
        cflags = m[5] if len(m) > 5 else ""
        text = orig
        ok = True
        for old, new in edits:
            if text.count(old) != 1:
                ok = False
                break
            text = text.replace(old, new)
        if not ok:
            # a mutant that no longer applies tests nothing: update it
            print(f"[{name}] FAIL: pattern not found in pamt.c ({desc})")
            failed += 1
            continue
        out = os.path.join(build, "mutants", name)
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        # same directory layout, so '#include "pamt.h"' resolves the same way
        mdir = os.path.join(out, "tdx")
        os.makedirs(mdir)
        shutil.copy(os.path.join(os.path.dirname(src), "pamt.h"), mdir)
        mpath = os.path.join(mdir, "pamt.c")
        open(mpath, "w").write(text)
        r = subprocess.run(["make", "-s", "-C", HERE, "LINUX=" + linux, "BUILD=" + build,
                            "MUTANT_PAMT_C=" + mpath, "MUTANT_OUT=" + out,
                            "MUTANT_VARIANT=" + variant, "MUTANT_CFLAGS=" + cflags,
                            "mutant"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode:
            print(f"[{name}] FAIL: mutant does not compile:\n{r.stdout[-2000:]}")
            failed += 1
            continue
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
                   UBSAN_OPTIONS="halt_on_error=1",
                   TSAN_OPTIONS="halt_on_error=1:exitcode=66")
        r = subprocess.run([os.path.join(out, "dpamt-model"), "--scale=5"] + tests,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=env, timeout=300)
        lines = r.stdout.splitlines()
        caught = [m.group(1) for m in
                  (re.search(r"FAIL (\S+) +\d+\.\d+s", l) for l in lines) if m]
        why = ""
        for l in lines:
            if ("VIOLATION" in l or "HARNESS: BUG" in l or "  FAIL " in l or
                    "ERROR: AddressSanitizer" in l or "WARNING: ThreadSanitizer" in l):
                why = l.strip()
                break
        if r.returncode != 0:
            by = ", ".join(caught) or ("a sanitizer report" if why else f"exit status {r.returncode}")
            print(f"[{name}] ok ({variant}): caught by {by} - {desc}")
            if why:
                print(f"    {why[:160]}")
            passed += 1
        else:
            print(f"[{name}] FAIL ({variant}): NOT caught by {' '.join(tests)} - {desc}")
            failed += 1
    print(f"mutants: {passed} caught, {failed} missed, {skipped} skipped")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
