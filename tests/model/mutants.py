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

# name, description, [(old, new), ...], tests to run[, variant]
# variant: "asan" (default) or "tsan" for bugs only a race detector sees
MUTANTS = [
    ("no-recheck", "get: no re-check of the count under pamt_lock",
     [("\tif (atomic_read(ref)) {", "\tif (0) {")],
     ["stress-2-regions", "recheck-under-lock"]),
    ("put-dec-unlocked", "put: decrement outside the lock, lock only on zero",
     [("\tif (!atomic_dec_and_lock_irqsave(ref, &pamt_lock, flags))\n\t\treturn;",
       "\tif (!atomic_dec_and_test(ref))\n\t\treturn;\n\tspin_lock_irqsave(&pamt_lock, flags);")],
     ["stress-2-regions"]),
    ("fastpath-read-inc", "get: fast path reads then increments (not inc_not_zero)",
     [("\tif (atomic_inc_not_zero(ref))", "\tif (atomic_read(ref) && (atomic_inc(ref), 1))")],
     ["stress-2-regions"]),
    ("no-reset", "returned pair freed without tdx_quirk_reset_paddr()",
     [("\t\ttdx_quirk_reset_paddr(page_to_phys(page), PAGE_SIZE);\n", "")],
     ["basic"]),
    ("leak-keeps-zero", "failed REMOVE leaves the count at 0",
     [("\tatomic_set(ref, 1);\n", "")],
     ["remove-failures"]),
    ("no-uncharge", "REMOVE does not uncharge the owner",
     [("\t\tpamt_owner_uncharge(owner);\n", "")],
     ["owner-charging"]),
    ("no-charge", "install does not charge the owner",
     [("\tpamt_owner_charge(owner);\n", "")],
     ["owner-charging"]),
    ("private-kept", "pair page freed with its page_private() tag",
     [("\t\tset_page_private(page, 0);\n", "")],
     ["basic"]),
    ("busy-unmasked", "OPERAND_BUSY compared without the status mask",
     [("return (status & TDX_SEAMCALL_STATUS_MASK) == TDX_OPERAND_BUSY;",
       "return status == TDX_OPERAND_BUSY;")],
     ["add-failures"]),
    ("add-fail-leaks-pair", "pages of a failed ADD are not given back",
     [("\tif (!installed)\n\t\tpamt_pair_release(pair, cache);",
       "\tif (!installed && status == TDX_SUCCESS)\n\t\tpamt_pair_release(pair, cache);")],
     ["add-failures"]),
    ("get-lock-irq-unsafe", "get takes pamt_lock without disabling interrupts",
     [("\tspin_lock_irqsave(&pamt_lock, flags);\n\tif (atomic_read(ref)) {",
       "\tspin_lock(&pamt_lock);\n\tif (atomic_read(ref)) {"),
      ("\tspin_unlock_irqrestore(&pamt_lock, flags);\n\n\tif (!installed)",
       "\tspin_unlock(&pamt_lock);\n\n\tif (!installed)")],
     ["put-from-softirq", "stress"]),
    ("owner-freed-early", "destroy frees the owner while pairs are charged to it",
     [("\tfree = !owner->nr_charged;", "\tfree = true;")],
     ["owner-charging"]),
    ("remove-any-pair", "REMOVE output accepted if it is any linked pair, of any region",
     [("\treturn pamt_pair_region(pair[0], pair[1]) == idx;",
       "\treturn pamt_pair_region(pair[0], pair[1]) != PAMT_NO_REGION;")],
     ["remove-other-pair"]),
    ("mce-tag-only", "tdx_pamt_is_pair_page() trusts the page_private() tag alone",
     [("\tif (!pamt_private_has_tag(private, PAMT_TAG_OWNER) &&\n"
       "\t    !pamt_private_has_tag(private, PAMT_TAG_REGION))\n\t\treturn false;",
       "\treturn pamt_private_has_tag(private, PAMT_TAG_OWNER) ||\n"
       "\t       pamt_private_has_tag(private, PAMT_TAG_REGION);")],
     ["pair-recognition"]),
    ("mce-no-count", "tdx_pamt_is_pair_page() ignores the region's count",
     [("\treturn idx < pamt.nr_regions && atomic_read(&pamt.refs[idx]);",
       "\treturn idx < pamt.nr_regions;")],
     ["pair-recognition"]),
    ("pages-plain-add", "owner page counter updated with a plain +=",
     [("\tatomic64_add(delta, (atomic64_t *)&ctrs->pages);", "\tctrs->pages += delta;")],
     ["stress"], "tsan"),
    ("stats-unlocked", "tdx_pamt_get_stats() reads without pamt_lock",
     [("\tmemset(stats, 0, sizeof(*stats));\n\n\tspin_lock_irqsave(&pamt_lock, flags);",
       "\tmemset(stats, 0, sizeof(*stats));\n\t(void)flags;"),
      ("\tstats->leaked_bytes = (u64)pamt.leaked_pairs * PAMT_PAIR_BYTES;\n"
       "\tspin_unlock_irqrestore(&pamt_lock, flags);",
       "\tstats->leaked_bytes = (u64)pamt.leaked_pairs * PAMT_PAIR_BYTES;")],
     ["stress"], "tsan"),
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
        text = orig
        ok = True
        for old, new in edits:
            if text.count(old) != 1:
                ok = False
                break
            text = text.replace(old, new)
        if not ok:
            print(f"[{name}] skipped: pattern not found in pamt.c ({desc})")
            skipped += 1
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
                            "MUTANT_VARIANT=" + variant, "mutant"],
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
