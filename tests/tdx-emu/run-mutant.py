#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Build a kernel with a planted bug and check that the emu suite catches it.

    run-mutant.py --mutant NAME --linux-src TREE --work DIR -- RUN-EMU-ARGS...

Passes (exit 0) only when the mutant's scenario FAILS on the mutant kernel
and at least one failed check matches the mutant's 'caught' regex: the
suite noticed the bug for the right reason.  A mutant that no longer
applies to the kernel tree, a kernel that does not build, or a scenario
that fails for another reason (no boot, ...) is a failure of this test.

The mutant tree is a hard-linked copy of TREE (cheap, and unchanged files
keep their timestamps); the mutated file is written anew, so the original
tree is never touched.  All mutants share one object dir under DIR, kept
across runs: a mutant costs the files its mutation (and the previous
mutant's, restored with a fresh timestamp) touch, and the link.  Only one
mutant may run at a time (meson runs them alone).  --list prints the
mutants.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))

# name -> (file, regex, replacement, what the suite must notice)
MUTANTS = {
    'dpamt-bit': dict(
        doc='TDH.SYS.CONFIG plumbing: Dynamic PAMT requested with R8 bit 17 instead of 16',
        file='arch/x86/virt/vmx/tdx/tdx.h',
        find=r'(#define\s+TDX_SYS_CONFIG_DYNAMIC_PAMT\s+BIT_ULL\()16(\))',
        repl=r'\g<1>17\g<2>',
        scenario='dpamt',
        caught=r'FAILED +(log: "Dynamic PAMT enabled"|TDX-Module initialized|'
               r'module runs with Dynamic PAMT)'),
    'bitmap-unsized': dict(
        doc='Dynamic PAMT enabled without sizing the 4K level as the bitmap (16 B per page)',
        file='arch/x86/virt/vmx/tdx/pamt.c',
        find=r'(case TDX_PS_4K:.*?)if \(bitmap_bits\)',
        repl=r'\g<1>if (0 && bitmap_bits)',
        scenario='dpamt',
        caught=r'FAILED +(TDMR \d+ .*PAMT levels|log: "\d+ KB allocated for PAMT")'),
    'pair-swapped': dict(
        doc='PAMT.ADD plumbing: the two pair pages swapped (RDX/R8) in the wrapper',
        file='arch/x86/virt/vmx/tdx/tdx.c',
        find=r'(\.rdx\s*=\s*)pair0(,\s*\.r8\s*=\s*)pair1',
        repl=r'\g<1>pair1\g<2>pair0',
        # the module accepts either order: only the live KUnit suite, which
        # compares the module's RDMD view with the kernel's, can tell
        scenario='dpamt', needs_live=True,
        caught=r'FAILED +KUnit tdx_dpamt_live'),
    'no-clflush': dict(
        doc='PAMT.ADD plumbing: pair pages handed over without CLFLUSH of the host\'s lines',
        # v2 flushes when it allocates a pair, v1 in the ADD wrapper
        sites=[('arch/x86/virt/vmx/tdx/pamt.c',
                r'(\n\s*)clflush_cache_range\(page_address\(pair->page\[i\]\), PAGE_SIZE\);',
                r'\g<1>/* mutant: no clflush */'),
               # (within the function: no line that is a lone closing brace)
               ('arch/x86/virt/vmx/tdx/tdx.c',
                r'(\nu64 tdh_phymem_pamt_add\((?:(?!\n\}\n).)*?)'
                r'tdx_clflush_pfn\([^;]*;\s*tdx_clflush_pfn\([^;]*;',
                r'\g<1>')],
        # no PAMT.ADD runs at boot: the live KUnit suite makes them
        scenario='dpamt', needs_live=True,
        caught=r'FAILED +module: pair pages flushed before PAMT\.ADD'),
}


def apply_mutant(src, m):
    # the first site that matches (series versions differ)
    for file, find, repl in m.get('sites', [(m.get('file'), m.get('find'), m.get('repl'))]):
        path = os.path.join(src, file)
        with open(path) as f:
            text = f.read()
        new, n = re.subn(find, repl, text, count=1, flags=re.S)
        if n == 1:
            break
    else:
        sys.exit(f'error: mutant does not apply: none of its patterns is found in the kernel '
                 f'tree (update tests/tdx-emu/run-mutant.py for the current series)')
    tmp = path + '.mutant-tmp'
    with open(tmp, 'w') as f:
        f.write(new)
    os.replace(tmp, path)       # a new inode: the hard link to TREE is broken
    return file


# Not a mutant: tests/tdx-emu/kernel/tdx_emu_exerciser.c built into the
# patched kernel drives the module's TD page lifecycle and the statuses a
# normal boot never reaches; the scenario must pass and every step too.
EXERCISER = dict(
    doc='the emulated module\'s TD page lifecycle and error statuses, driven '
        'from a test kernel (tests/tdx-emu/kernel/tdx_emu_exerciser.c)',
    scenario='numa-2',
    min_steps=30)
EXERCISER_SRC = os.path.join(HERE, 'kernel/tdx_emu_exerciser.c')
EXERCISER_DIR = 'arch/x86/virt/vmx/tdx'


def add_exerciser(src):
    shutil.copyfile(EXERCISER_SRC, os.path.join(src, EXERCISER_DIR, 'tdx_emu_exerciser.c'))
    mk = os.path.join(src, EXERCISER_DIR, 'Makefile')
    with open(mk) as f:
        text = f.read()
    with open(mk + '.tmp', 'w') as f:
        f.write(text + 'obj-y += tdx_emu_exerciser.o\n')
    os.replace(mk + '.tmp', mk)
    return os.path.join(EXERCISER_DIR, 'Makefile')


def build(args, name, m):
    root = os.path.abspath(args.work)
    src = os.path.join(root, 'linux')
    obj = os.path.join(root, 'obj')
    mutated = os.path.join(root, 'mutated')
    if os.path.exists(src):
        shutil.rmtree(src)
    os.makedirs(root, exist_ok=True)
    subprocess.run(['cp', '-al', os.path.abspath(args.linux_src), src], check=True)
    # The hard links give the last mutant's file its old timestamp back,
    # older than the objects built from the mutated text: a fresh copy
    # makes kbuild rebuild them from the original.
    if os.path.exists(mutated):
        with open(mutated) as f:
            for rel in f.read().split():
                path = os.path.join(src, rel)
                if os.path.exists(path):
                    shutil.copyfile(path, path + '.fresh')
                    os.replace(path + '.fresh', path)
    rel = add_exerciser(src) if m is EXERCISER else apply_mutant(src, m)
    with open(mutated, 'w') as f:
        f.write(rel + '\n')
    env = dict(os.environ, KERNEL_EXTRA_CONFIGS='tests/tdx-emu/kernel.config')
    log = os.path.join(root, f'build-{name}.log')
    print(f'building mutant {name}: {m["doc"]} (log: {log})', flush=True)
    with open(log, 'w') as f:
        r = subprocess.run(['nice', os.path.join(TOP, 'scripts/build-kernel.sh'), src, obj,
                            'bzImage'], stdout=f, stderr=subprocess.STDOUT, env=env)
    if r.returncode:
        with open(log) as f:
            tail = f.readlines()[-15:]
        sys.exit('error: mutant kernel build failed:\n' + ''.join(tail))
    return os.path.join(obj, 'arch/x86/boot/bzImage')


def run_exerciser(args):
    m = EXERCISER
    image = build(args, 'exerciser', m)
    rest = [a for a in args.rest if a != '--']
    cmd = [sys.executable, os.path.join(HERE, 'run-emu.py'), '--kernel', image,
           '--scenario', m['scenario']] + rest
    print('running: ' + ' '.join(cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(r.stdout, end='')
    console = re.search(r'console: (\S+);', r.stdout)
    lines = open(console.group(1)).read().splitlines() if console else []
    steps = [l for l in lines if 'TDXEMU-EXERCISER: ' in l]
    for l in steps:
        print(l[l.index('TDXEMU-EXERCISER: '):])
    fails = [l for l in steps if 'TDXEMU-EXERCISER: FAIL' in l]
    oks = [l for l in steps if 'TDXEMU-EXERCISER: ok' in l]
    done = any('TDXEMU-EXERCISER: done' in l for l in steps)
    why = ('the scenario failed' if r.returncode else
           'the exerciser did not finish' if not done else
           f'{len(fails)} step(s) failed' if fails else
           f'only {len(oks)} steps ran (at least {m["min_steps"]})'
           if len(oks) < m['min_steps'] else None)
    if why:
        print(f'error: module exerciser: {why}')
        print('0 passed, 1 failed')
        return 1
    print(f'module exerciser: {len(oks)} steps passed')
    print('1 passed, 0 failed')
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--mutant')
    ap.add_argument('--exerciser', action='store_true',
                    help='build the module exerciser in, and expect success')
    ap.add_argument('--list', action='store_true')
    ap.add_argument('--linux-src')
    ap.add_argument('--work')
    ap.add_argument('rest', nargs=argparse.REMAINDER)
    args = ap.parse_args()
    if args.list:
        for n, m in MUTANTS.items():
            print(f'{n:16} {m["doc"]}')
        return 0
    if args.exerciser:
        return run_exerciser(args)
    if args.mutant not in MUTANTS:
        print(f'error: unknown mutant {args.mutant!r} (see --list)', file=sys.stderr)
        return 2
    m = MUTANTS[args.mutant]
    if m.get('needs_live') and subprocess.run(
            ['grep', '-rqs', '"tdx_dpamt_live"', os.path.join(args.linux_src, 'arch/x86')]).returncode:
        print(f'SKIP: mutant {args.mutant} can only be caught by the live KUnit suite '
              f'tdx_dpamt_live, which the kernel tree does not have')
        return 77
    image = build(args, args.mutant, m)
    rest = [a for a in args.rest if a != '--']
    cmd = [sys.executable, os.path.join(HERE, 'run-emu.py'), '--kernel', image,
           '--scenario', m['scenario']] + rest
    print('running: ' + ' '.join(cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(r.stdout, end='')
    if m.get('needs_live') and 'KUnit tdx_dpamt_live' not in r.stdout:
        print(f'SKIP: mutant {args.mutant} can only be caught by the live KUnit suite '
              f'tdx_dpamt_live, which the kernel does not have')
        return 77
    caught = [l for l in r.stdout.splitlines() if re.match(m['caught'], l)]
    booted = 'guest /init ran to the end' in r.stdout and 'FAILED  guest' not in r.stdout
    if r.returncode == 1 and caught and booted:
        print(f'mutant {args.mutant} caught: {caught[0]}')
        print('1 passed, 0 failed')
        return 0
    why = ('the scenario passed on the mutant kernel' if r.returncode == 0 else
           'the guest did not boot to user space' if not booted else
           f'no failed check matches /{m["caught"]}/' if not caught else
           f'run-emu.py exited {r.returncode}')
    print(f'error: mutant {args.mutant} NOT caught: {why}')
    print('0 passed, 1 failed')
    return 1


if __name__ == '__main__':
    sys.exit(main())
