#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""report.py - run the DPAMT benchmark and write OUTDIR/results.json + plots.

Called by scripts/run-bench.sh after it built the benchmark binaries
(tests/model/bench/Makefile, experiments/build.sh).  Everything measured
here runs the REAL arch/x86/virt/vmx/tdx/pamt.c of the kernel tree,
compiled into the userspace harness of tests/model:

  (a) fastpath   get/put with a reference held (no SEAMCALL), with and
                 without KVM's accounting (dpamt_bench_getput()), against a
                 bare atomic increment/decrement in a loop of the same shape
                 (bare_getput()); KVM's tdx_dpamt_get/put as they are and
                 with a per-CPU page count; the slow path (0 -> 1 / 1 -> 0
                 each call) with and without the removal work; instruction
                 counts with callgrind
  (b) scaling    get/put pairs per second, 1..8 threads, shared region /
                 distinct regions (counters in one cache line, 64 B and 128 B
                 apart), bare atomics alongside; the same on the build
                 without the fast path (tip-like), and the ratio
  (c) seamcalls  0 -> 1 transitions against PAMT.ADD (+ reuses of a pair the
                 removal work had not taken back yet) and PAMT.REMOVE, counted
                 by the TDX module model, random multi-threaded workloads
  (d) (a)-(c) with the fast path compiled out (second binary)
  (e) memory     workload plans (hosts, TD mixes, touched fractions,
                 contiguous/scattered) driven through pamt.c at a scaled-down
                 size: after every get/put the pair bytes equal the regions
                 in use plus those released since the removal work last ran,
                 and after every run of the work exactly the physical
                 minimum; full sizes extrapolated with tools/tdxpamt/simulate.py,
                 static part and metadata from pamt.c's own code.
  experiments   not the series: pamt_get() always inlined (inline-get),
                 built from a modified copy by experiments/build.sh

Usage: report.py --bench BIN --bench-nofast BIN [--experiment NAME=BIN ...]
                 --linux TREE --out DIR [--scale full|quick|tiny] [--command TEXT]
       report.py --check results.json      (the bench-selftest checks)
       report.py --replot DIR              (redraw the plots of DIR/results.json)
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(PROJECT, "tools"))
from tdxpamt.simulate import TdSpec, simulate  # noqa: E402  (the operator's model)
from tdxpamt.units import GiB, MiB, TiB, human  # noqa: E402

SCHEMA = 2
REGION = 2 * MiB
PAIR = 8192

TARGETS = {
    "fastpath_ratio": ("<=", 1.5, "get+put fast path with KVM's accounting in the loop "
                       "(dpamt_bench_getput(accounting=true)) over the same loop around a "
                       "bare atomic increment/decrement, single thread, thread CPU time "
                       "(median of per-repetition ratios)"),
    "redundant_seamcalls": ("==", 0, "PAMT.ADD/REMOVE beyond one ADD per 0->1 transition "
                            "of a region the module had no pair for and one REMOVE per ADD "
                            "(failed or refused calls count; retries of a TDX_OPERAND_BUSY "
                            "the module returned while another SEAMCALL held the entry are "
                            "reported apart), all runs, both builds"),
    "pair_memory_ratio": ("==", 1.0, "installed pair bytes / physical minimum after every "
                          "run of the removal work, worst step of every workload"),
    "static_part_percent": ("<=", 0.005, "DPAMT static part (1G + 2M levels + bitmap) as % of "
                            "TDX memory, largest over the hosts"),
    "metadata_percent": ("<=", 0.0003, "pamt.c's metadata (refcounts, pending bitmap, hash "
                         "tables) as % of TDX memory, largest over the hosts"),
}

# Every key results.json must have (checked by --check, i.e. the bench-selftest).
REQUIRED = {
    "": ["schema", "date", "machine", "commit", "command", "scale", "config", "targets",
         "fastpath", "scaling", "seamcalls", "memory", "instructions", "experiments",
         "plots", "duration_seconds", "ok"],
    "machine": ["cpu_model", "nproc", "kernel", "gcc", "loadavg_start", "loadavg_end"],
    "commit": ["project", "project_dirty", "linux_tree", "linux_head", "pamt_c_sha256"],
    "fastpath": ["fast", "nofast"],
    "fastpath.fast": ["ns_per_op", "ratio", "ratio_no_accounting", "ratio_same_loop",
                      "ratio_get", "ratio_put", "ratio_kvm_as_is", "ratio_kvm_percpu_pages",
                      "ratio_of_minimums", "churn", "seamcalls_while_held", "ok"],
    "fastpath.nofast": ["ns_per_op", "ratio", "ratio_no_accounting", "churn", "ok"],
    "scaling": ["fast", "nofast", "threads", "duration_ms", "fast_over_nofast"],
    "seamcalls": ["runs", "redundant_total", "adds_total", "reuses_total",
                  "transitions_total"],
    "memory": ["scaled_runs", "extrapolated", "sizes", "checks_total", "mismatches_total",
               "checks_after_work_total", "worst_pair_ratio", "simulate_agrees"],
    "targets": list(TARGETS),
}

SCALES = {
    # regions of the fake machine for every scaled host; which hosts,
    # touched fractions and mixes run through pamt.c; timing repetitions
    "full": dict(regions=4096, hosts=["256G", "1T", "2T"],
                 touched=["1%", "2%", "5%", "10%", "25%", "50%", "100%"], mixes=None,
                 fp_reps=151, fp_iters=200000, fp_iters_nofast=20000, exp_reps=51,
                 sc_ms=50, sc_reps=11, sc_reps_nofast=5, seam_ops=1000000,
                 seam_ops_mt=200000, seam_ops_nofast=200000, seam_ops_mt_nofast=50000,
                 cg_n=20000),
    "quick": dict(regions=512, hosts=["256G", "2T"], touched=["1%", "10%", "100%"],
                  mixes=["mixed"], fp_reps=31, fp_iters=100000, fp_iters_nofast=10000,
                  exp_reps=15, sc_ms=30, sc_reps=3, sc_reps_nofast=3, seam_ops=50000,
                  seam_ops_mt=20000, seam_ops_nofast=20000, seam_ops_mt_nofast=10000,
                  cg_n=5000),
    "tiny": dict(regions=128, hosts=["256G"], touched=["1%", "100%"], mixes=["mixed"],
                 fp_reps=5, fp_iters=20000, fp_iters_nofast=2000, exp_reps=3, sc_ms=10,
                 sc_reps=2, sc_reps_nofast=2, seam_ops=20000, seam_ops_mt=5000,
                 seam_ops_nofast=5000, seam_ops_mt_nofast=2000, cg_n=0),
}

HOSTS = {"256G": 256 * GiB, "1T": TiB, "2T": 2 * TiB}
# (name, [(TD size, count), ...]) -- TDs of several sizes, 50%..94% of the host
MIXES = {
    "256G": [("8x16G", [(16 * GiB, 8)]),
             ("mixed", [(64 * GiB, 1), (16 * GiB, 4), (4 * GiB, 8)]),
             ("60x4G", [(4 * GiB, 60)])],
    "1T": [("8x64G", [(64 * GiB, 8)]),
           ("mixed", [(256 * GiB, 1), (64 * GiB, 4), (16 * GiB, 16), (4 * GiB, 32)]),
           ("240x4G", [(4 * GiB, 240)])],
    "2T": [("8x128G", [(128 * GiB, 8)]),
           ("mixed", [(512 * GiB, 1), (128 * GiB, 4), (16 * GiB, 32), (4 * GiB, 64)]),
           ("480x4G", [(4 * GiB, 480)])],
}
TOUCHED_ALL = ["1%", "2%", "5%", "10%", "25%", "50%", "100%"]
LAYOUTS = ["contiguous", "scattered"]


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def frac(text):
    return Fraction(text[:-1]) / 100 if text.endswith("%") else Fraction(text)


# ---------------------------------------------------------------- statistics

def stats(xs):
    xs = sorted(float(x) for x in xs)
    n = len(xs)
    if not n:
        return {"n": 0}

    def q(p):
        return xs[min(n - 1, max(0, int(round(p * (n - 1)))))]
    med = statistics.median(xs)
    return {"n": n, "median": med, "p10": q(0.10), "p90": q(0.90), "min": xs[0],
            "max": xs[-1], "mad": statistics.median([abs(x - med) for x in xs])}


def rnd(obj, nd=6):
    """Floats to ND significant digits (percentages of 0.0002% keep theirs)."""
    if isinstance(obj, float):
        return float("%.*g" % (nd, obj)) if obj == obj and abs(obj) != float("inf") else obj
    if isinstance(obj, dict):
        return {k: rnd(v, nd) for k, v in obj.items()}
    if isinstance(obj, list):
        return [rnd(v, nd) for v in obj]
    return obj


# ---------------------------------------------------------------- machine

def sh(cmd, cwd=None):
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                              check=False).stdout.strip()
    except OSError:
        return ""


def machine_info():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    hyper = ""
    lscpu = sh(["lscpu"])
    m = re.search(r"Hypervisor vendor:\s*(\S+)", lscpu)
    if m:
        hyper = m.group(1)
    return {
        "cpu_model": cpu or platform.processor(),
        "nproc": len(os.sched_getaffinity(0)),
        "kernel": platform.release(),
        "gcc": sh(["gcc", "--version"]).splitlines()[0] if sh(["gcc", "--version"]) else "",
        "hypervisor": hyper,
        "python": platform.python_version(),
        "loadavg_start": list(os.getloadavg()),
    }


def commit_info(linux):
    pamt = os.path.join(linux, "arch/x86/virt/vmx/tdx/pamt.c")
    with open(pamt, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    dirty = sh(["git", "-C", PROJECT, "status", "--porcelain", "--untracked-files=no"])
    dirty_files = [line.split(None, 1)[1] for line in dirty.splitlines() if line.strip()]
    inputs = ("tests/model/", "tools/tdxpamt/", "scripts/run-bench.sh")
    ldirty = sh(["git", "-C", linux, "status", "--porcelain", "--untracked-files=no"])
    return {
        "project": sh(["git", "-C", PROJECT, "rev-parse", "HEAD"]),
        "project_dirty": bool(dirty),
        "project_dirty_files": dirty_files,
        # the benchmark's own inputs (harness, bench, simulate.py) as committed?
        "bench_inputs_dirty": any(f.startswith(inputs) for f in dirty_files),
        "linux_tree": linux,
        "linux_head": sh(["git", "-C", linux, "rev-parse", "HEAD"]),
        "linux_branch": sh(["git", "-C", linux, "rev-parse", "--abbrev-ref", "HEAD"]),
        "linux_head_subject": sh(["git", "-C", linux, "log", "-1", "--format=%s"]),
        "linux_dirty": bool(ldirty),
        "pamt_c_sha256": digest,
    }


# ---------------------------------------------------------------- runs

def run_json(cmd, stdin=None):
    log(" ".join(os.path.basename(c) if i == 0 else c for i, c in enumerate(cmd)))
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)
    if p.stderr.strip():
        sys.stderr.write(p.stderr)
    if p.returncode not in (0, 1):
        raise SystemExit("bench: %s exited with %d" % (cmd[0], p.returncode))
    return p.stdout, p.returncode == 0


def fastpath_summary(doc):
    s, w = doc["samples"], doc["samples_wall"]
    ratios = {}
    for key, a, b in (("ratio", "dpamt_acct", "bare"),
                      ("ratio_no_accounting", "dpamt", "bare"),
                      ("ratio_same_loop", "dpamt_acct", "bare_acct"),
                      ("ratio_cached", "dpamt_cached", "bare"),
                      ("ratio_kvm_as_is", "kvm_as_is", "bare"),
                      ("ratio_kvm_percpu_pages", "kvm_percpu_pages", "bare"),
                      ("ratio_get", "dpamt_get", "bare_get"),
                      ("ratio_put", "dpamt_put", "bare_put"),
                      ("ratio_vs_inline", "dpamt", "bare_inline")):
        ratios[key] = stats([x / y for x, y in zip(s[a], s[b]) if y > 0])
    wall = stats([x / y for x, y in zip(w["dpamt_acct"], w["bare"]) if y > 0])
    churn = {}
    for k, v in doc["churn"].items():
        churn[k] = {x: y for x, y in v.items() if not x.startswith("ns_")}
        churn[k]["ns_per_getput"] = stats(v["ns_per_getput"])
        churn[k]["ns_per_getput_wall"] = stats(v["ns_per_getput_wall"])
        churn[k]["reuses"] = v["first_refs"] - v["adds"]
    out = {
        "fastpath_compiled": doc["fastpath_compiled"],
        "reps": doc["reps"], "iters": doc["iters"],
        "unit": doc["unit"],
        "ns_per_op": {k: stats(v) for k, v in s.items()},
        "ns_per_op_wall": {k: stats(v) for k, v in w.items()},
        "ratio_wall": wall,
        "ratio_of_minimums": min(s["dpamt_acct"]) / min(s["bare"]),
        "churn": churn,
        "churn_note": "slow path on an idle region, per get+put pair (each get 0->1, "
                      "each put 1->0): reuse = the removal work does not run, every get "
                      "reuses the pair still installed (no SEAMCALL); add_remove = the "
                      "work runs after every put (timed with it): every get is a PAMT.ADD "
                      "and the work a PAMT.REMOVE + write-back; background = the work "
                      "runs in its own thread as in the kernel",
        "seamcalls_while_held": doc["seamcalls_while_held"],
        "failures": doc["failures"],
        "ok": doc["ok"],
    }
    out.update(ratios)
    return out


def scaling_summary(doc):
    return {"fastpath_compiled": doc["fastpath_compiled"], "unit": doc["unit"],
            "accounting": doc["accounting"], "pinned": doc["pinned"],
            "ok": doc["ok"], "failures": doc["failures"],
            "results": [{"placement": r["placement"], "impl": r["impl"],
                         "threads": r["threads"], "mops": stats(r["mops"]),
                         "cpu_ns_per_pair": stats(r["cpu_ns_per_pair"])}
                        for r in doc["results"]]}


CG_LOOPS = (("bare", "bare_getput"), ("bare-acct", "bare_getput"),
            ("dpamt", "dpamt_bench_getput"), ("dpamt-acct", "dpamt_bench_getput"),
            ("cached", "loop_cached"), ("kvm", "loop_kvm"),
            ("kvm-percpu", "loop_kvm_percpu"))


def callgrind(binary, n):
    """Instructions per get/put pair of every loop (deterministic)."""
    if not n or not shutil.which("valgrind"):
        return None
    per, breakdown = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for loop, func in CG_LOOPS:
            f = os.path.join(tmp, loop + ".out")
            cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + f,
                   "--toggle-collect=" + func, binary, "cg", loop, str(n)]
            log(" ".join(cmd[:4] + [os.path.basename(binary), "cg", loop, str(n)]))
            p = subprocess.run(cmd, capture_output=True, text=True, check=False)
            total = None
            if p.returncode == 0 and os.path.exists(f):
                with open(f) as fh:
                    for line in fh:
                        m = re.match(r"(?:summary|totals):\s*(\d+)", line)
                        if m:
                            total = int(m.group(1))
            if total is None:
                return {"error": "callgrind failed: " + p.stderr[-300:]}
            # the toggled function also ran once with 16 warm-up iterations
            per[loop] = total / (n + 16)
            if loop in ("dpamt-acct", "kvm", "bare") and shutil.which("callgrind_annotate"):
                ann = subprocess.run(["callgrind_annotate", f], capture_output=True,
                                     text=True, check=False).stdout
                b = {}
                for line in ann.splitlines():
                    mm = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S+):(\S+)", line)
                    if mm and "PROGRAM" not in line:
                        key = "%s:%s" % (os.path.basename(mm.group(2)), mm.group(3))
                        b[key] = b.get(key, 0) + int(mm.group(1).replace(",", "")) / (n + 16)
                breakdown[loop] = {k: round(v, 2) for k, v in b.items() if v >= 0.5}
    return {"tool": "valgrind --tool=callgrind (instructions executed, Ir)",
            "iterations": n,
            "instructions_per_pair": per,
            "breakdown_per_pair": breakdown,
            "ratio": per["dpamt-acct"] / per["bare"],
            "ratio_no_accounting": per["dpamt"] / per["bare"],
            "ratio_same_loop": per["dpamt-acct"] / per["bare-acct"],
            "ratio_kvm_as_is": per["kvm"] / per["bare"],
            "ratio_kvm_percpu_pages": per["kvm-percpu"] / per["bare"]}


_PERF = None


def perf_works():
    global _PERF
    if _PERF is None:
        p = subprocess.run(["perf", "stat", "-x,", "-e", "instructions", "true"],
                           capture_output=True, text=True, check=False) \
            if shutil.which("perf") else None
        _PERF = bool(p and p.returncode == 0 and "not supported" not in p.stderr
                     and re.search(r"^\d+,", p.stderr, re.M))
    return _PERF


# ---------------------------------------------------------------- memory plans

def td_specs(mix, scale, touched, layout):
    specs = []
    for size, count in mix:
        s = size // scale
        specs.append(TdSpec(text="%s:touched=%s:layout=%s:count=%d" % (human(s), touched,
                                                                        layout, count),
                            size=s, touched=frac(touched), layout=layout, count=count))
    return specs


def place(nregions, specs, rng):
    """Concrete 2 MiB regions for every TD instance, the way simulate.py counts
    them: 2 MiB-mapped parts take whole regions (no pair), contiguous TDs pack
    their 4 KiB pages, scattered TDs spread them over the regions left (each at
    least its packed count).  Returns [(spec index, [(region, pages), ...])]."""
    order = list(range(nregions))
    rng.shuffle(order)
    pos = 0

    def take(n):
        nonlocal pos
        regs = order[pos:pos + n]
        if len(regs) != n:
            raise SystemExit("bench: placement ran out of regions")
        pos += n
        return regs

    inst = []
    for si, td in enumerate(specs):
        for _ in range(td.count):
            take(td.huge_pages)
            if td.layout == "contiguous":
                regs = take(td.packed_regions)
                left, refs = td.pages_4k, []
                for r in regs:
                    n = min(512, left)
                    refs.append((r, n))
                    left -= n
                inst.append((si, refs))
    pool = nregions - pos
    reserve = sum(td.count * td.packed_regions for td in specs if td.layout == "scattered")
    for si, td in enumerate(specs):
        if td.layout != "scattered":
            continue
        need = td.count * td.packed_regions
        reserve -= need
        got = max(need, min(td.count * td.pages_4k, pool - reserve))
        pool -= got
        base, extra = divmod(got, td.count)
        for i in range(td.count):
            regs = take(base + (1 if i < extra else 0))
            per = [0] * len(regs)
            for k in range(td.pages_4k):
                per[k % len(regs)] += 1
            inst.append((si, [(r, n) for r, n in zip(regs, per) if n]))
    return inst


def mem_plan(cfg):
    """The plan text and the workload descriptions for the scaled runs."""
    lines, work = [], []
    nreg = cfg["regions"]
    rng = random.Random(20260707)
    for host in cfg["hosts"]:
        hbytes = HOSTS[host]
        scale = hbytes // (nreg * REGION)
        for mix_name, mix in MIXES[host]:
            if cfg["mixes"] and mix_name not in cfg["mixes"]:
                continue
            for layout in LAYOUTS:
                for touched in cfg["touched"]:
                    wid = "w%d" % len(work)
                    specs = td_specs(mix, scale, touched, layout)
                    sim = simulate(nreg * REGION, specs)
                    inst = place(nreg, specs, rng)
                    work.append({"id": wid, "host": host, "mix": mix_name, "layout": layout,
                                 "touched": touched, "scale": scale, "regions": nreg,
                                 "tds": len(inst), "sim": sim})
                    lines.append("machine %d" % nreg)
                    for i, (_, refs) in enumerate(inst):
                        lines.append("td %d" % i)
                        lines.extend("get %d %d %d" % (i, r, n) for r, n in refs)
                        lines.append("step %s|created|%d" % (wid, i))
                    lines.append("step %s|all-created" % wid)
                    order = list(range(len(inst)))
                    rng.shuffle(order)
                    for i in order:
                        lines.append("destroy %d" % i)
                        lines.append("step %s|destroyed|%d" % (wid, i))
                    lines.append("end")
    for host in HOSTS:
        lines.append("sizes %d" % HOSTS[host])
    return "\n".join(lines) + "\n", work


def run_memory(binary, cfg):
    plan, work = mem_plan(cfg)
    t0 = time.time()
    out, ok = run_json([binary, "mem"], stdin=plan)
    secs = time.time() - t0
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    byid = {w["id"]: w for w in work}
    cur, machine = None, None
    sizes = {}
    scatter = []          # (physical_min, pair_bytes) of every step, for the plot
    for ev in events:
        kind = ev["event"]
        if kind == "machine":
            machine = ev
        elif kind == "step":
            wid, what = ev["label"].split("|", 1)[0], ev["label"].split("|", 1)[1]
            w = byid[wid]
            if cur is not w:
                cur = w
                w.update(steps=0, bad_steps=0, machine=machine, worst_ratio=1.0,
                         installs_ideal_ok=True)
            w["steps"] += 1
            pmin, pb = ev["physical_min_bytes"], ev["pair_bytes"]
            ratio = (pb / pmin) if pmin else (1.0 if pb == 0 else float("inf"))
            if abs(ratio - 1) > abs(w["worst_ratio"] - 1):
                w["worst_ratio"] = ratio
            if pb != pmin or ev["module_pair_bytes"] != pmin or ev["mismatches"]:
                w["bad_steps"] += 1
            scatter.append((pmin, pb))
            if what == "all-created":
                w["created"] = ev
            w["last"] = ev
        elif kind == "end":
            if cur is not None:
                cur["end"] = ev
        elif kind == "sizes":
            sizes[ev["host_bytes"]] = ev
    runs = []
    checks = mism = after_work = 0
    awaiting_peak = 0
    all_agree = True
    for w in work:
        sim = w["sim"]
        c, e, m = w.get("created", {}), w.get("end", {}), w.get("machine", {})
        agree = (c.get("pair_bytes") == sim.pair_bytes and
                 m.get("dpamt_static_bytes") is not None)
        all_agree &= agree
        checks += e.get("checks", 0)
        after_work += e.get("checks_after_work", 0)
        awaiting_peak = max(awaiting_peak, e.get("max_awaiting_removal", 0))
        mism += e.get("mismatches", 0) + w.get("bad_steps", 0)
        static_real = m.get("static_pamt_bytes", 0)
        runs.append({
            "id": w["id"], "host": w["host"], "mix": w["mix"], "layout": w["layout"],
            "touched": w["touched"], "scale_factor": w["scale"],
            "scaled_host_bytes": w["regions"] * REGION, "tds": w["tds"],
            "steps": w.get("steps", 0), "bad_steps": w.get("bad_steps", 0),
            "ops": e.get("ops", 0), "checks": e.get("checks", 0),
            "checks_after_work": e.get("checks_after_work", 0),
            "max_awaiting_removal": e.get("max_awaiting_removal", 0),
            "mismatches": e.get("mismatches", 0),
            "worst_pair_ratio": w.get("worst_ratio"),
            "at_peak": {
                "regions_in_use": c.get("regions_in_use"),
                "pair_bytes": c.get("pair_bytes"),
                "module_pair_bytes": c.get("module_pair_bytes"),
                "physical_min_bytes": c.get("physical_min_bytes"),
                "charged_to_live_tds_bytes": c.get("charged_to_live_tds_bytes"),
                "pages_referenced": c.get("pages_referenced"),
                "installs": c.get("installs"),
            },
            "final_pair_bytes": w.get("last", {}).get("pair_bytes"),
            "real_code": {"static_pamt_bytes": static_real,
                          "dpamt_static_bytes": m.get("dpamt_static_bytes"),
                          "metadata_bytes": m.get("metadata_bytes")},
            "simulate": {"pair_regions": sim.pair_regions, "pair_bytes": sim.pair_bytes,
                         "physical_min_bytes": sim.physical_min_bytes,
                         "static_pamt_bytes": sim.static_pamt_bytes,
                         "dpamt_static_bytes": sim.dpamt_static_bytes,
                         "metadata_bytes": sim.metadata_bytes},
            "simulate_agrees": agree,
        })
    worst = max((abs(r["worst_pair_ratio"] - 1) for r in runs
                 if r["worst_pair_ratio"] is not None), default=0.0)
    res = {"binary": os.path.basename(binary), "ok": ok, "seconds": secs,
           "checks_total": checks, "checks_after_work_total": after_work,
           "max_awaiting_removal": awaiting_peak, "mismatches_total": mism,
           "worst_pair_ratio": 1.0 + worst, "simulate_agrees": all_agree,
           "runs": runs, "sizes": sizes, "scatter": scatter}
    return res


def extrapolate(sizes):
    """Full-size figures from simulate.py; static part/metadata also from pamt.c."""
    rows = []
    for host, hbytes in HOSTS.items():
        real = sizes.get(hbytes, {})
        for mix_name, mix in MIXES[host]:
            for layout in LAYOUTS:
                for touched in TOUCHED_ALL:
                    specs = td_specs(mix, 1, touched, layout)
                    r = simulate(hbytes, specs)
                    td_bytes = sum(s.size * s.count for s in specs)
                    rows.append({
                        "host": host, "host_bytes": hbytes, "mix": mix_name,
                        "layout": layout, "touched": touched, "td_bytes": td_bytes,
                        "tds": sum(s.count for s in specs),
                        "pair_regions": r.pair_regions,
                        "static_pamt_bytes": r.static_pamt_bytes,
                        "dpamt_static_bytes": r.dpamt_static_bytes,
                        "pair_bytes": r.pair_bytes,
                        "metadata_bytes": r.metadata_bytes,
                        "dpamt_total_bytes": r.dpamt_total_bytes,
                        "physical_min_bytes": r.physical_min_bytes,
                        "saved_bytes": r.saved_bytes,
                        "saved_percent": r.saved_percent,
                        "dpamt_over_static": r.dpamt_total_bytes / r.static_pamt_bytes,
                        "dpamt_over_physical_min": (r.dpamt_total_bytes / r.physical_min_bytes
                                                    if r.physical_min_bytes else None),
                        "real_code_static_agrees": (
                            real.get("dpamt_static_bytes") == r.dpamt_static_bytes and
                            real.get("static_pamt_bytes") == r.static_pamt_bytes),
                        "real_code_metadata_bytes": real.get("metadata_bytes"),
                        "real_code_metadata_agrees": (
                            real.get("metadata_bytes") == r.metadata_bytes),
                    })
    return rows


# ---------------------------------------------------------------- plots

def plots(res, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m, c = res["machine"], res["commit"]
    banner = ("%s, %d CPUs, %s | tdx-dpamt %s%s | linux %s (pamt.c %s) | %s"
              % (m["cpu_model"], m["nproc"], m["kernel"], c["project"][:12],
                 "+dirty" if c.get("bench_inputs_dirty", c["project_dirty"]) else "",
                 c["linux_head"][:12],
                 c["pamt_c_sha256"][:12], res["date"][:16]))
    load = "load average %.1f at start, %.1f at end" % (m["loadavg_start"][0],
                                                        m["loadavg_end"][0])
    files = []

    def finish(fig, name, title):
        fig.suptitle(title, fontsize=12, fontweight="bold")
        fig.text(0.5, 0.005, banner + "\n" + load + "; real pamt.c in the userspace "
                 "harness (tests/model), scale=" + res["scale"], ha="center", va="bottom",
                 fontsize=7, color="#444")
        fig.tight_layout(rect=(0, 0.06, 1, 0.95))
        path = os.path.join(out, name)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        files.append(name)

    # -- (a)/(d) fast path
    fp = res["fastpath"]
    exps = res.get("experiments", {})
    fig, axes = plt.subplots(1, 3, figsize=(18, 6.2),
                             gridspec_kw={"width_ratios": [1.35, 1, 1]})
    names = ["bare_inline", "bare", "bare_acct", "dpamt", "dpamt_acct", "dpamt_cached",
             "kvm_as_is", "kvm_percpu_pages", "bare_get", "dpamt_get", "bare_put",
             "dpamt_put"]
    labels = {"bare_inline": "bare atomic, inline", "bare": "bare atomic, call\n(baseline)",
              "bare_acct": "bare + KVM's accounting", "dpamt": "get/put",
              "dpamt_acct": "get/put + KVM's accounting\n(the target)",
              "dpamt_cached": "get_cached/put (fault path)",
              "kvm_as_is": "KVM tdx_dpamt_get/put as is",
              "kvm_percpu_pages": "KVM, per-CPU page count\n(proposal)",
              "bare_get": "bare inc", "dpamt_get": "get only", "bare_put": "bare dec",
              "dpamt_put": "put only"}
    ax = axes[0]
    d = fp["fast"]["ns_per_op"]
    rows = [(labels[n], d[n], "#999" if n.startswith("bare") else
             ("#d62728" if n == "dpamt_acct" else "#1f77b4")) for n in names]
    for name, e in sorted(exps.items()):
        ed = e["fastpath"]["ns_per_op"]
        for n in ("dpamt", "dpamt_acct", "kvm_percpu_pages"):
            rows.append(("experiment %s:\n%s (%.2fx its baseline)"
                         % (name, labels[n].split("\n")[0],
                            ed[n]["median"] / ed["bare"]["median"]), ed[n], "#9edae5"))
    med = [r[1]["median"] for r in rows]
    lo = [r[1]["median"] - r[1]["p10"] for r in rows]
    hi = [r[1]["p90"] - r[1]["median"] for r in rows]
    ax.barh(range(len(rows)), med, xerr=[lo, hi], color=[r[2] for r in rows], capsize=3)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r[0] for r in rows], fontsize=7)
    ax.invert_yaxis()
    base = d["bare"]["median"]
    ax.axvline(base * 1.5, color="red", ls="--", lw=1)
    ax.text(base * 1.5, len(rows) - 0.5, " target: 1.5x baseline", color="red",
            fontsize=8, va="bottom")
    for i, v in enumerate(med):
        ax.text(v + hi[i], i, "  %.2f" % v, va="center", fontsize=7)
    ax.set_xlabel("ns per operation (a get or a put), thread CPU time; median, bars p10-p90")
    r = fp["fast"]["ratio"]
    ax.set_title("fast path: with KVM's accounting %.2fx the bare loop (p10-p90 %.2f-%.2f);"
                 "\nwithout it %.2fx" % (r["median"], r["p10"], r["p90"],
                                         fp["fast"]["ratio_no_accounting"]["median"]),
                 fontsize=9)
    # instructions
    ax = axes[1]
    ins = res.get("instructions", {})
    loops = ["bare", "bare-acct", "dpamt", "dpamt-acct", "cached", "kvm", "kvm-percpu"]
    builds = [k for k in ("fast", "inline-get")
              if ins.get(k) and "instructions_per_pair" in ins[k]]
    wbar = 0.8 / max(1, len(builds))
    for j, k in enumerate(builds):
        ip = ins[k]["instructions_per_pair"]
        ys = [ip[l] for l in loops]
        ax.barh([i + (j - (len(builds) - 1) / 2) * wbar for i in range(len(loops))], ys,
                wbar, label={"fast": "harness as built"}.get(k, "experiment " + k))
        for i, v in enumerate(ys):
            ax.text(v, i + (j - (len(builds) - 1) / 2) * wbar, " %.0f" % v, va="center",
                    fontsize=6)
    ax.set_yticks(range(len(loops)))
    ax.set_yticklabels(loops, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("instructions per get+put pair (callgrind, deterministic)")
    ax.set_title("where the instructions are (bare = the baseline loop)", fontsize=9)
    if builds:
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "not measured at this scale", ha="center", transform=ax.transAxes)
    # tip-like
    ax = axes[2]
    dn = fp["nofast"]["ns_per_op"]
    nn = ["bare", "dpamt", "dpamt_acct", "dpamt_cached", "kvm_as_is", "dpamt_get",
          "dpamt_put"]
    med = [dn[n]["median"] for n in nn]
    ax.barh(range(len(nn)), med, color=["#999"] + ["#ff7f0e"] * (len(nn) - 1))
    for i, v in enumerate(med):
        ax.text(v, i, "  %.1f" % v, va="center", fontsize=7)
    ax.set_yticks(range(len(nn)))
    ax.set_yticklabels([labels[n].split("\n")[0] for n in nn], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("ns per operation, thread CPU time (log)")
    ax.set_title("without the fast path (tip-like: every get allocates a pair\n"
                 "and takes pamt_lock): get/put %.0fx the bare loop"
                 % fp["nofast"]["ratio_no_accounting"]["median"], fontsize=9)
    finish(fig, "fastpath.png", "(a)/(d) DPAMT get/put fast path vs a bare atomic "
           "increment, single thread")

    # -- (b) scaling
    sc = res["scaling"]
    places = ["shared", "distinct_same_line", "distinct_own_line", "distinct_128b_apart"]
    ptitle = {"shared": "one shared 2 MiB region",
              "distinct_same_line": "distinct regions,\ncounters in one cache line",
              "distinct_own_line": "distinct regions,\ncounters 64 B apart",
              "distinct_128b_apart": "distinct regions,\ncounters 128 B apart"}
    ratio = {(r["placement"], r["threads"]): r["throughput_ratio"]
             for r in sc["fast_over_nofast"]}
    fig, axes = plt.subplots(2, len(places), figsize=(18, 8.5), sharex=True)
    for col, place_ in enumerate(places):
        for build, impl, style, lab in (("fast", "dpamt", "o-", "get/put (fast path)"),
                                        ("nofast", "dpamt", "s-", "get/put (tip-like)"),
                                        ("fast", "bare_atomic", "^--", "bare atomic inc/dec")):
            rows = [r for r in sc[build]["results"]
                    if r["placement"] == place_ and r["impl"] == impl]
            xs = [r["threads"] for r in rows]
            for row, key in ((0, "mops"), (1, "cpu_ns_per_pair")):
                ax = axes[row][col]
                ax.plot(xs, [r[key]["median"] for r in rows], style, label=lab)
                ax.fill_between(xs, [r[key]["p10"] for r in rows],
                                [r[key]["p90"] for r in rows], alpha=0.2)
        for row in (0, 1):
            ax = axes[row][col]
            ax.axvline(m["nproc"], color="#888", ls=":", lw=1)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks(sc["threads"])
            ax.set_xticklabels([str(t) for t in sc["threads"]])
            ax.grid(alpha=0.3, which="both")
        rt = ", ".join("%dT %.0fx" % (t, ratio[(place_, t)]) for t in sc["threads"]
                       if (place_, t) in ratio)
        axes[0][col].set_title("%s\nfast/tip-like: %s" % (ptitle[place_], rt), fontsize=9)
        axes[1][col].set_xlabel("threads (dotted: nproc)")
    axes[0][0].set_ylabel("M get/put pairs/s, all threads (wall)\nmedian, band p10-p90")
    axes[1][0].set_ylabel("CPU ns per pair, per thread\n(contention, not other load)")
    axes[0][0].legend(fontsize=8)
    finish(fig, "scaling.png", "(b)/(d) Throughput, 1 to %d threads: fast path vs "
           "tip-like (no fast path) vs bare atomics" % max(sc["threads"]))

    # -- (b) what is written per call: the TD's statistics, pinned threads
    fig, axes = plt.subplots(1, 2, figsize=(14, 5))
    ax = axes[0]
    kv = sc.get("fast_kvm_one_td")
    for src, impl, style, lab in ((sc["fast"], "dpamt", "o-", "get/put"),
                                  (sc["fast"], "bare_atomic", "^--", "bare"),
                                  (kv, "dpamt", "o-", "get/put + KVM's accounting (one TD)"),
                                  (kv, "bare_atomic", "^--", "bare + the same accounting")):
        if not src:
            continue
        rows = [r for r in src["results"] if r["placement"] == "distinct_own_line"
                and r["impl"] == impl]
        ax.plot([r["threads"] for r in rows], [r["cpu_ns_per_pair"]["median"] for r in rows],
                style, label=lab)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sc["threads"])
    ax.set_xticklabels([str(t) for t in sc["threads"]])
    ax.set_xlabel("threads, distinct regions 64 B apart")
    ax.set_ylabel("CPU ns per pair, per thread (median)")
    ax.set_title("the per-TD statistics are one cache line written on every call", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax = axes[1]
    pin = sc.get("pinned", {})
    groups = []
    for acct in ("no_accounting", "accounting"):
        src = pin.get(acct)
        if not src:
            continue
        for impl in ("dpamt", "bare_atomic"):
            for place_ in ("distinct_own_line", "distinct_128b_apart"):
                rr = {r["threads"]: r["cpu_ns_per_pair"] for r in src["results"]
                      if r["impl"] == impl and r["placement"] == place_}
                groups.append(("%s\n%s\n%s" % ("get/put" if impl == "dpamt" else "bare",
                                               "64 B" if place_ == "distinct_own_line"
                                               else "128 B",
                                               "+ TD stats" if acct == "accounting" else ""),
                               rr))
    for j, t in enumerate((1, 2)):
        xs = [i + (j - 0.5) * 0.38 for i in range(len(groups))]
        ys = [g[1][t]["median"] if t in g[1] else 0 for g in groups]
        err = [[g[1][t]["median"] - g[1][t]["p10"] if t in g[1] else 0 for g in groups],
               [g[1][t]["p90"] - g[1][t]["median"] if t in g[1] else 0 for g in groups]]
        ax.bar(xs, ys, 0.38, yerr=err, capsize=2, label="%d thread%s" % (t, "s" * (t > 1)),
               color="#aec7e8" if t == 1 else "#1f77b4")
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g[0] for g in groups], fontsize=7)
    ax.set_ylabel("CPU ns per pair (median, p10-p90)")
    ax.legend(fontsize=8)
    ax.set_title("threads pinned to the %d CPUs: 1 vs 2 threads, counters 64 B / 128 B apart"
                 % m["nproc"], fontsize=9)
    finish(fig, "scaling-accounting.png", "(b) What is written on every call: per-thread "
           "cost with and without KVM's per-TD statistics")

    # -- (c) SEAMCALLs
    runs = res["seamcalls"]["runs"]
    fig, ax = plt.subplots(figsize=(12, 5.5))
    xl = ["%s\n%d thread%s" % ("fast path" if r["fastpath_compiled"] else "tip-like",
                               r["threads"], "" if r["threads"] == 1 else "s") for r in runs]
    x = range(len(runs))
    w = 0.27
    ax.bar([i - w for i in x], [r["transitions_up"] for r in runs], w,
           label="0->1 transitions (ideal: at most one ADD each)", color="#aec7e8")
    ax.bar([i for i in x], [r["adds"] for r in runs], w, label="PAMT.ADD (module)",
           color="#1f77b4")
    ax.bar([i for i in x], [r["reuses"] for r in runs], w, bottom=[r["adds"] for r in runs],
           label="reuse of a pair not yet removed (no SEAMCALL)", color="#98df8a")
    ax.bar([i + w for i in x], [r["removes"] for r in runs], w,
           label="PAMT.REMOVE (module)", color="#ff7f0e")
    for i, r in enumerate(runs):
        ax.text(i, r["transitions_up"] * 1.03,
                "redundant: %d\n%d get + %d put" % (r["redundant"], r["gets"], r["puts"]),
                ha="center", fontsize=8)
    ax.set_xticks(list(x))
    ax.set_xticklabels(xl)
    ax.set_ylabel("count")
    ax.set_ylim(0, max([r["transitions_up"] for r in runs] + [1]) * 1.3)
    ax.legend(fontsize=8, loc="upper right")
    finish(fig, "seamcalls.png", "(c)/(d) PAMT.ADD/REMOVE per 0->1 transition, random "
           "get/put workload on %d regions" % runs[0]["regions"])

    # -- (e) memory, extrapolated (mixed mix), one panel per host
    ext = res["memory"]["extrapolated"]
    hosts = list(HOSTS)
    fig, axes = plt.subplots(1, len(hosts), figsize=(5.2 * len(hosts), 5.2))
    for ax, host in zip(axes, hosts):
        rows = [r for r in ext if r["host"] == host and r["mix"] == "mixed"]
        xs = [float(frac(t)) * 100 for t in TOUCHED_ALL]
        st = rows[0]["static_pamt_bytes"]
        ax.axhline(st / GiB, color="black", lw=2, label="static PAMT (Linux 7.3)")
        fixed = (rows[0]["dpamt_static_bytes"] + rows[0]["metadata_bytes"]) / GiB
        ax.axhline(fixed, color="#777", ls=":", label="DPAMT static part + refcounts")
        for layout, col in (("contiguous", "#2ca02c"), ("scattered", "#d62728")):
            lr = [r for r in rows if r["layout"] == layout]
            ax.plot(xs, [r["dpamt_total_bytes"] / GiB for r in lr], "o-", color=col,
                    label="DPAMT total, %s" % layout)
            ax.plot(xs, [r["physical_min_bytes"] / GiB for r in lr], "x--", color=col,
                    alpha=0.7, label="physical minimum, %s" % layout)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(xs)
        ax.set_xticklabels(["%g" % v for v in xs])
        ax.set_xlabel("touched: % of TD memory mapped at 4 KiB")
        ax.set_ylabel("GiB")
        tdm = rows[0]["td_bytes"]
        ax.set_title("%s host, mix 'mixed' (%d TDs, %s)" % (human(HOSTS[host]),
                                                            rows[0]["tds"], human(tdm)),
                     fontsize=10)
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=7)
    finish(fig, "memory.png", "(e) PAMT memory: static vs Dynamic PAMT vs physical minimum "
           "(simulate.py formulas, verified on pamt.c)")

    # -- (e) every checked step of the scaled runs
    mem = res["memory"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    sc_pts = mem["scatter_sample"]
    ax = axes[0]
    ax.plot([p[0] / MiB for p in sc_pts], [p[1] / MiB for p in sc_pts], ".", ms=3,
            alpha=0.5)
    lim = max([p[0] for p in sc_pts] + [1]) / MiB
    ax.plot([0, lim], [0, lim], "k--", lw=0.8, label="installed = physical minimum")
    ax.set_xlabel("physical minimum (MiB, 8 KiB per region in use)")
    ax.set_ylabel("pair bytes installed by pamt.c (MiB)")
    ax.set_title("%d workload steps (the removal work run at each), %d checks: worst ratio "
                 "%.3f, %d mismatches" % (sum(r["steps"] for r in mem["scaled_runs"]),
                                          mem["checks_total"], mem["worst_pair_ratio"],
                                          mem["mismatches_total"]), fontsize=9)
    ax.legend(fontsize=8)
    ax = axes[1]
    for host, mk in zip(HOSTS, "osd"):
        for layout, col in (("contiguous", "#2ca02c"), ("scattered", "#d62728")):
            rr = [r for r in mem["scaled_runs"] if r["host"] == host
                  and r["layout"] == layout and r["mix"] == "mixed"]
            if not rr:
                continue
            ax.plot([float(frac(r["touched"])) * 100 for r in rr],
                    [r["at_peak"]["pair_bytes"] / r["scaled_host_bytes"] * 100 for r in rr],
                    mk + "-", color=col, label="%s/%d, %s" % (host, rr[0]["scale_factor"],
                                                              layout))
    ax.axhline(100 * 16 / 4096, color="black", lw=1.5, label="static 4K level (0.39%)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("touched %")
    ax.set_ylabel("installed pair bytes, % of (scaled) host")
    ax.set_title("scaled runs through pamt.c, mix 'mixed', all TDs live", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    finish(fig, "memory-check.png", "(e) Installed pair memory == physical minimum after "
           "every run of the removal work (real pamt.c, scaled-down hosts)")
    return files


# ---------------------------------------------------------------- main

def target(name, value):
    op, goal, what = TARGETS[name]
    if op == "<=":
        met = value <= goal + 1e-12
    else:
        met = abs(value - goal) < 1e-9
    return {"target": "%s %s" % (op, goal), "value": value, "met": met, "what": what}


EXPERIMENTS = {
    "inline-get": "pamt.c's pamt_get() __always_inline into "
                  "tdx_pamt_get() and tdx_pamt_get_cached() (a candidate pamt.c change)",
}


def scaling_ratio(fast, nofast):
    """fast path over tip-like, per placement and thread count (median M pairs/s)."""
    out = []
    idx = {(r["placement"], r["impl"], r["threads"]): r for r in nofast["results"]}
    for r in fast["results"]:
        if r["impl"] != "dpamt":
            continue
        n = idx.get((r["placement"], "dpamt", r["threads"]))
        if not n:
            continue
        out.append({"placement": r["placement"], "threads": r["threads"],
                    "fast_mops": r["mops"]["median"], "nofast_mops": n["mops"]["median"],
                    "throughput_ratio": r["mops"]["median"] / n["mops"]["median"],
                    "fast_cpu_ns_per_pair": r["cpu_ns_per_pair"]["median"],
                    "nofast_cpu_ns_per_pair": n["cpu_ns_per_pair"]["median"],
                    "cpu_ratio": n["cpu_ns_per_pair"]["median"] /
                    r["cpu_ns_per_pair"]["median"]})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench")
    ap.add_argument("--bench-nofast")
    ap.add_argument("--experiment", action="append", default=[], metavar="NAME=BIN",
                    help="an experiment binary (experiments/build.sh), not the series")
    ap.add_argument("--linux")
    ap.add_argument("--out")
    ap.add_argument("--scale", default="full", choices=sorted(SCALES))
    ap.add_argument("--command", default="")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--check", metavar="RESULTS_JSON")
    ap.add_argument("--replot", metavar="OUTDIR",
                    help="redraw the plots of OUTDIR/results.json without measuring")
    args = ap.parse_args()
    if args.check:
        return check(args.check)
    if args.replot:
        path = os.path.join(args.replot, "results.json")
        with open(path) as f:
            res = json.load(f)
        res["plots"] = plots(res, args.replot)
        with open(path, "w") as f:
            json.dump(rnd(res), f, indent=1)
            f.write("\n")
        return 0
    for k in ("bench", "bench_nofast", "linux", "out"):
        if not getattr(args, k):
            ap.error("--%s is required" % k.replace("_", "-"))
    exps = dict(e.split("=", 1) for e in args.experiment)

    t_start = time.time()
    cfg = dict(SCALES[args.scale])
    nproc = len(os.sched_getaffinity(0))
    maxt = max(8, 2 * nproc)
    threads = sorted({1 << i for i in range(maxt.bit_length()) if 1 << i <= maxt}
                     | {nproc, maxt})
    if args.scale == "tiny":
        threads = [1, 2]
    cfg["threads"] = threads
    res = {"schema": SCHEMA,
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "machine": machine_info(), "commit": commit_info(os.path.abspath(args.linux)),
           "command": args.command or " ".join(sys.argv), "scale": args.scale,
           "config": cfg}
    bins = {"fast": args.bench, "nofast": args.bench_nofast}
    all_ok = True

    # (a) + (d)
    res["fastpath"] = {}
    for key, b in bins.items():
        if key == "fast":
            opts = ["reps=%d" % cfg["fp_reps"], "iters=%d" % cfg["fp_iters"]]
        else:
            opts = ["reps=%d" % max(3, cfg["fp_reps"] // 5),
                    "iters=%d" % cfg["fp_iters_nofast"]]
        out, ok = run_json([b, "fastpath"] + opts)
        res["fastpath"][key] = fastpath_summary(json.loads(out))
        all_ok &= ok

    # experiments: the same fast-path measurement on modified copies
    res["experiments"] = {}
    for name, b in sorted(exps.items()):
        if not os.path.exists(b):
            continue
        out, ok = run_json([b, "fastpath", "reps=%d" % cfg["exp_reps"],
                            "iters=%d" % cfg["fp_iters"]])
        diff = b + ".diff"
        res["experiments"][name] = {
            "what": "NOT the series: " + EXPERIMENTS.get(name, name),
            "changes": open(diff).read() if os.path.exists(diff) else "",
            "fastpath": fastpath_summary(json.loads(out)), "ok": ok}

    # (b) + (d): throughput, the fast path against the tip-like build
    res["scaling"] = {"threads": threads, "duration_ms": cfg["sc_ms"]}
    tl = "threads=" + ",".join(map(str, threads))
    for key, b in bins.items():
        reps = cfg["sc_reps"] if key == "fast" else cfg["sc_reps_nofast"]
        out, ok = run_json([b, "scaling", tl, "ms=%d" % cfg["sc_ms"], "reps=%d" % reps])
        res["scaling"][key] = scaling_summary(json.loads(out))
        all_ok &= ok
    res["scaling"]["fast_over_nofast"] = scaling_ratio(res["scaling"]["fast"],
                                                       res["scaling"]["nofast"])
    # KVM's accounting in the loop: one TD's statistics, written by every thread
    out, ok = run_json([args.bench, "scaling", tl, "ms=%d" % cfg["sc_ms"],
                        "reps=%d" % cfg["sc_reps"], "acct=1", "places=0,2"])
    res["scaling"]["fast_kvm_one_td"] = scaling_summary(json.loads(out))
    all_ok &= ok
    # the scaling question of the v1 review: 2 threads pinned to 2 CPUs,
    # counters 64 B and 128 B apart, with and without the TD's statistics
    res["scaling"]["pinned"] = {}
    for acct in (0, 1):
        out, ok = run_json([args.bench, "scaling", "threads=1,2", "ms=%d" % cfg["sc_ms"],
                            "reps=%d" % cfg["sc_reps"], "pin=1", "acct=%d" % acct,
                            "places=2,3"])
        res["scaling"]["pinned"]["accounting" if acct else "no_accounting"] = \
            scaling_summary(json.loads(out))
        all_ok &= ok

    # (c) + (d)
    runs = []
    for key, b in bins.items():
        ops1 = cfg["seam_ops"] if key == "fast" else cfg["seam_ops_nofast"]
        opsn = cfg["seam_ops_mt"] if key == "fast" else cfg["seam_ops_mt_nofast"]
        for t, ops in ((1, ops1), (maxt if args.scale != "tiny" else 2, opsn)):
            out, ok = run_json([b, "seamcalls", "threads=%d" % t, "ops=%d" % ops,
                                "regions=64", "seed=7"])
            runs.append(json.loads(out))
            all_ok &= ok
    res["seamcalls"] = {
        "runs": runs,
        "redundant_total": sum(abs(r["redundant"]) for r in runs),
        "adds_total": sum(r["adds"] for r in runs),
        "reuses_total": sum(r["reuses"] for r in runs),
        "removes_total": sum(r["removes"] for r in runs),
        "busy_retries_total": sum(r["add_busy_retries"] + r["remove_busy_retries"]
                                  for r in runs),
        "transitions_total": sum(r["transitions_up"] for r in runs),
        "note": "transitions counted by the bench under a per-region lock taken around "
                "each get/put (linearised with the call); every 0->1 is a get that "
                "returned 1, and is a PAMT.ADD or the reuse of a pair the removal work had "
                "not taken back yet (no SEAMCALL); every ADD is removed once after the "
                "work drained; the module model refuses an ADD over a pair"}

    # (e): everything through the fast-path build; a reduced plan through the
    # no-fast-path build shows the memory is the same without it
    mem = run_memory(args.bench, cfg)
    small = dict(cfg, hosts=cfg["hosts"][:1], touched=["1%", "100%"], mixes=["mixed"])
    mem_nf = run_memory(args.bench_nofast, small)
    all_ok &= mem["ok"] and mem_nf["ok"]
    ext = extrapolate(mem["sizes"])
    # thin the scatter to keep results.json small but keep every mismatch visible
    scatter = mem.pop("scatter")
    mem_nf.pop("scatter")
    step = max(1, len(scatter) // 4000)
    sample = scatter[::step] + [p for p in scatter if p[0] != p[1]]
    sizes = {human(k).replace(".0 ", " "): v for k, v in sorted(mem["sizes"].items())}
    res["commit"]["sizing_code"] = next(iter(sizes.values()), {}).get("sizing_code", "")
    res["memory"] = {
        "note": "scaled runs: the real pamt.c on a fake machine of %d x 2 MiB regions; "
                "every host's TD sizes divided by its scale factor; the removal work runs "
                "at every step (a TD created or destroyed); after every get and put the "
                "pair bytes (pamt.c and the module) equal 8 KiB x (regions in use + regions "
                "released since the work last ran), after every run of the work 8 KiB x "
                "regions in use (the physical minimum). extrapolated: "
                "tools/tdxpamt/simulate.py at full size; its pair count was checked against "
                "pamt.c at the scaled size (simulate_agrees), its static part against "
                "pamt.c's sizing code at full size (real_code_static_agrees); metadata from "
                "pamt.c (real_code_metadata_bytes)." % cfg["regions"],
        "scaled_runs": mem["runs"],
        "checks_total": mem["checks_total"] + mem_nf["checks_total"],
        "checks_after_work_total": (mem["checks_after_work_total"] +
                                    mem_nf["checks_after_work_total"]),
        "max_awaiting_removal": max(mem["max_awaiting_removal"],
                                    mem_nf["max_awaiting_removal"]),
        "mismatches_total": mem["mismatches_total"] + mem_nf["mismatches_total"],
        "worst_pair_ratio": max(mem["worst_pair_ratio"], mem_nf["worst_pair_ratio"]),
        "simulate_agrees": mem["simulate_agrees"] and mem_nf["simulate_agrees"],
        "seconds": mem["seconds"],
        "nofast_runs": {"checks_total": mem_nf["checks_total"],
                        "mismatches_total": mem_nf["mismatches_total"],
                        "worst_pair_ratio": mem_nf["worst_pair_ratio"],
                        "same_pair_bytes_as_fast": [
                            r["at_peak"]["pair_bytes"] for r in mem_nf["runs"]] == [
                            r["at_peak"]["pair_bytes"] for r in mem["runs"]
                            if r["host"] == small["hosts"][0] and r["mix"] == "mixed"
                            and r["touched"] in ("1%", "100%")]},
        "sizes": sizes,
        "extrapolated": ext,
        "scatter_sample": sample,
    }

    # instruction counts
    res["instructions"] = {"perf_stat_instructions_works": perf_works()}
    if cfg["cg_n"]:
        for key, b in list(bins.items()) + [(k, v) for k, v in sorted(exps.items())
                                            if os.path.exists(v)]:
            res["instructions"][key] = callgrind(b, cfg["cg_n"])

    # targets
    fpk = res["fastpath"]["fast"]
    red = res["seamcalls"]["redundant_total"]
    for r in mem["runs"] + mem_nf["runs"]:
        ins = r["at_peak"]["installs"]
        if ins is not None and ins != r["at_peak"]["regions_in_use"]:
            red += abs(ins - r["at_peak"]["regions_in_use"])
    static_pct = max(v["dpamt_static_bytes"] / v["host_bytes"] * 100 for v in sizes.values())
    meta_pct = max(v["metadata_bytes"] / v["host_bytes"] * 100 for v in sizes.values())
    res["targets"] = {
        "fastpath_ratio": target("fastpath_ratio", fpk["ratio"]["median"]),
        "redundant_seamcalls": target("redundant_seamcalls", red),
        "pair_memory_ratio": target("pair_memory_ratio",
                                    res["memory"]["worst_pair_ratio"]
                                    if not res["memory"]["mismatches_total"] else
                                    float("nan")),
        "static_part_percent": target("static_part_percent", static_pct),
        "metadata_percent": target("metadata_percent", meta_pct),
    }
    det = {"no_accounting": fpk["ratio_no_accounting"]["median"],
           "same_loop_bare_with_accounting": fpk["ratio_same_loop"]["median"],
           "kvm_as_is": fpk["ratio_kvm_as_is"]["median"],
           "kvm_percpu_pages": fpk["ratio_kvm_percpu_pages"]["median"],
           "cached_get": fpk["ratio_cached"]["median"],
           "get": fpk["ratio_get"]["median"], "put": fpk["ratio_put"]["median"],
           "of_minimums": fpk["ratio_of_minimums"], "wall_clock": fpk["ratio_wall"]["median"],
           "p10": fpk["ratio"]["p10"], "p90": fpk["ratio"]["p90"]}
    cg = res["instructions"].get("fast")
    if cg and "ratio" in cg:
        det["instructions"] = cg["ratio"]
        det["instructions_no_accounting"] = cg["ratio_no_accounting"]
    for name, e in res["experiments"].items():
        det["experiment_" + name] = e["fastpath"]["ratio"]["median"]
        det["experiment_%s_no_accounting" % name] = \
            e["fastpath"]["ratio_no_accounting"]["median"]
        det["experiment_%s_kvm_percpu_pages" % name] = \
            e["fastpath"]["ratio_kvm_percpu_pages"]["median"]
    res["targets"]["fastpath_ratio"]["detail"] = det
    res["targets"]["pair_memory_ratio"]["detail"] = {
        "checks": res["memory"]["checks_total"],
        "checks_after_work": res["memory"]["checks_after_work_total"],
        "mismatches": res["memory"]["mismatches_total"]}
    res["machine"]["loadavg_end"] = list(os.getloadavg())
    # others may rebuild the tree meanwhile: say so if pamt.c changed under us
    now = commit_info(os.path.abspath(args.linux))
    res["commit"]["pamt_c_changed_during_run"] = (
        now["pamt_c_sha256"] != res["commit"]["pamt_c_sha256"] or
        now["linux_head"] != res["commit"]["linux_head"])
    if res["commit"]["pamt_c_changed_during_run"]:
        log("WARNING: the kernel tree changed during the run (%s -> %s)"
            % (res["commit"]["linux_head"][:12], now["linux_head"][:12]))
    res["duration_seconds"] = time.time() - t_start
    res["ok"] = bool(all_ok)
    os.makedirs(args.out, exist_ok=True)
    res["plots"] = []
    if not args.no_plots:
        res["plots"] = plots(res, args.out)
    res["duration_seconds"] = round(time.time() - t_start, 1)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(rnd(res), f, indent=1, sort_keys=False)
        f.write("\n")
    summary(res)
    return 0 if all_ok else 1


def summary(res):
    t = res["targets"]
    fp, fn = res["fastpath"]["fast"], res["fastpath"]["nofast"]
    ns = fp["ns_per_op"]
    print("== DPAMT benchmark (%s scale, %.0f s) on %s, %d CPUs, load %.1f"
          % (res["scale"], res["duration_seconds"], res["machine"]["cpu_model"],
             res["machine"]["nproc"], res["machine"]["loadavg_start"][0]))
    print("fast path, ns/op: bare %.2f, get/put %.2f (%.2fx), with KVM's accounting %.2f "
          "(%.2fx; bare with the same accounting %.2f, %.2fx); KVM as is %.2fx, with a "
          "per-CPU page count %.2fx"
          % (ns["bare"]["median"], ns["dpamt"]["median"],
             fp["ratio_no_accounting"]["median"], ns["dpamt_acct"]["median"],
             fp["ratio"]["median"], ns["bare_acct"]["median"],
             fp["ratio_same_loop"]["median"], fp["ratio_kvm_as_is"]["median"],
             fp["ratio_kvm_percpu_pages"]["median"]))
    print("without the fast path (tip-like): get/put %.1f ns/op (%.1fx), cached get/put "
          "%.1f ns/op" % (fn["ns_per_op"]["dpamt"]["median"],
                          fn["ratio_no_accounting"]["median"],
                          fn["ns_per_op"]["dpamt_cached"]["median"]))
    for name, e in res.get("experiments", {}).items():
        f = e["fastpath"]
        print("experiment %s (not the series): get/put %.2fx, with accounting %.2fx, "
              "KVM with a per-CPU page count %.2fx"
              % (name, f["ratio_no_accounting"]["median"], f["ratio"]["median"],
                 f["ratio_kvm_percpu_pages"]["median"]))
    for key in ("fast", "nofast") + tuple(res.get("experiments", {})):
        cg = res.get("instructions", {}).get(key)
        if cg and "instructions_per_pair" in cg:
            ip = cg["instructions_per_pair"]
            print("instructions per get/put pair (%s): bare %.0f, get/put %.0f, with "
                  "accounting %.0f, KVM as is %.0f, KVM per-CPU pages %.0f"
                  % (key, ip["bare"], ip["dpamt"], ip["dpamt-acct"], ip["kvm"],
                     ip["kvm-percpu"]))
    for r in res["scaling"]["fast_over_nofast"]:
        print("scaling %-20s %d threads: fast %.1f M pairs/s, tip-like %.2f -> %.0fx"
              % (r["placement"], r["threads"], r["fast_mops"], r["nofast_mops"],
                 r["throughput_ratio"]))
    for r in res["seamcalls"]["runs"]:
        print("seamcalls: %-8s %d thread(s): %d 0->1, ADD %d + reuse %d, REMOVE %d, "
              "redundant %d, BUSY retried %d" % (
                  "fast" if r["fastpath_compiled"] else "tip-like", r["threads"],
                  r["transitions_up"], r["adds"], r["reuses"], r["removes"], r["redundant"],
                  r["add_busy_retries"] + r["remove_busy_retries"]))
    mem = res["memory"]
    print("memory: %d workloads, %d checks (%d after the work ran), %d mismatches, worst "
          "ratio %.3f, simulate.py agrees: %s"
          % (len(mem["scaled_runs"]), mem["checks_total"], mem["checks_after_work_total"],
             mem["mismatches_total"], mem["worst_pair_ratio"], mem["simulate_agrees"]))
    for name, v in t.items():
        print("target %-20s %-9s measured %-10s %s" % (
            name, v["target"], ("%.6g" % v["value"]) if isinstance(v["value"], float)
            else v["value"], "MET" if v["met"] else "MISSED"))
    print("results: ok=%s, plots: %s" % (res["ok"], ", ".join(res["plots"])))


def check(path):
    """bench-selftest: every key present, no redundant SEAMCALL, memory == minimum."""
    failed = []
    with open(path) as f:
        res = json.load(f)
    for where, keys in REQUIRED.items():
        node = res
        for part in filter(None, where.split(".")):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        for k in keys:
            if not isinstance(node, dict) or k not in node:
                failed.append("missing key %s%s" % (where + "." if where else "", k))
    for r in res.get("seamcalls", {}).get("runs", []):
        who = "%s %d threads" % ("fast" if r["fastpath_compiled"] else "nofast", r["threads"])
        if (r["adds"] + r["reuses"] != r["transitions_up"] or r["adds"] != r["removes"] or
                r["first_refs"] != r["transitions_up"] or r["redundant"] or
                r["add_errors"] or r["remove_errors"]):
            failed.append("%s: ADD/REMOVE %d/%d (+%d reuses, %d failed) for %d 0->1 "
                          "transitions, redundant %d" % (
                              who, r["adds"], r["removes"], r["reuses"],
                              r["add_errors"] + r["remove_errors"], r["transitions_up"],
                              r["redundant"]))
        if r["transitions_up"] == 0:
            failed.append("%s: no 0->1 transition: the workload is too small" % who)
    mem = res.get("memory", {})
    if mem.get("mismatches_total") != 0 or mem.get("worst_pair_ratio") != 1.0:
        failed.append("pair memory != physical minimum (%s mismatches, worst %s)"
                      % (mem.get("mismatches_total"), mem.get("worst_pair_ratio")))
    if not mem.get("simulate_agrees"):
        failed.append("simulate.py and pamt.c disagree on the pair count")
    if not mem.get("checks_total") or not mem.get("checks_after_work_total"):
        failed.append("no memory checks ran")
    for key in ("fast", "nofast"):
        fp = res.get("fastpath", {}).get(key, {})
        if fp.get("seamcalls_while_held"):
            failed.append("%s: SEAMCALLs while a reference was held" % key)
        ch = fp.get("churn", {}).get("add_remove", {})
        if ch and (ch.get("adds") != ch.get("gets") or ch.get("removes") != ch.get("gets")):
            failed.append("%s: slow path with the work after every put: %s ADD, %s REMOVE "
                          "for %s gets" % (key, ch.get("adds"), ch.get("removes"),
                                           ch.get("gets")))
    if not res.get("ok"):
        failed.append("a benchmark mode reported a failed correctness check")
    out_dir = os.path.dirname(os.path.abspath(path))
    for p in res.get("plots", []):
        f = os.path.join(out_dir, p)
        if not os.path.exists(f) or not os.path.getsize(f):
            failed.append("missing or empty plot " + p)
    for msg in failed:
        print("FAIL: " + msg)
    checks = 7 + sum(len(v) for v in REQUIRED.values())
    print("%d passed, %d failed" % (checks - min(len(failed), checks), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
