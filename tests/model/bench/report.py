#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""report.py - run the DPAMT benchmark and write OUTDIR/results.json + plots.

Called by scripts/run-bench.sh after it built the two benchmark binaries
(tests/model/bench/Makefile).  Everything measured here runs the REAL
arch/x86/virt/vmx/tdx/pamt.c of the kernel tree, compiled into the
userspace harness of tests/model:

  (a) fastpath   get/put with a reference held (no SEAMCALL) against a
                 bare atomic increment/decrement in a loop of the same shape
  (b) scaling    get/put pairs per second, 1..N threads, shared region /
                 distinct regions (counters in one cache line / own lines)
  (c) seamcalls  PAMT.ADD/REMOVE counted by the TDX module model against
                 the ideal (0->1 and 1->0 transitions counted by the bench)
  (d) (a)-(c) with the fast path compiled out (second binary)
  (e) memory     workload plans (hosts, TD mixes, touched fractions,
                 contiguous/scattered) driven through pamt.c at a scaled-down
                 size with a check after every get/put that installed pair
                 bytes == physical minimum; full sizes extrapolated with
                 tools/tdxpamt/simulate.py (the operator's model), static
                 part and refcount metadata from pamt.c's own sizing code.

Usage: report.py --bench BIN --bench-nofast BIN --linux TREE --out DIR
                 [--scale full|quick|tiny] [--command TEXT]
       report.py --check results.json      (the bench-selftest checks)
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

SCHEMA = 1
REGION = 2 * MiB
PAIR = 8192

TARGETS = {
    "fastpath_ratio": ("<=", 1.5, "get/put fast path ns/op over a bare atomic increment, "
                       "single thread (median of per-repetition ratios)"),
    "redundant_seamcalls": ("==", 0, "PAMT.ADD + PAMT.REMOVE beyond one per 0->1 and one per "
                            "1->0 transition, all runs, both builds"),
    "pair_memory_ratio": ("==", 1.0, "installed pair bytes / physical minimum, worst step of "
                          "every workload (checked after every get and put)"),
    "static_part_percent": ("<=", 0.005, "DPAMT static part (1G + 2M levels + bitmap) as % of "
                            "TDX memory, largest over the hosts"),
    "metadata_percent": ("<=", 0.0003, "refcount metadata as % of TDX memory, largest over "
                         "the hosts"),
}

# Every key results.json must have (checked by --check, i.e. the bench-selftest).
REQUIRED = {
    "": ["schema", "date", "machine", "commit", "command", "scale", "config", "targets",
         "fastpath", "scaling", "seamcalls", "memory", "instructions", "experiments",
         "plots", "duration_seconds", "ok"],
    "machine": ["cpu_model", "nproc", "kernel", "gcc", "loadavg_start", "loadavg_end"],
    "commit": ["project", "project_dirty", "linux_tree", "linux_head", "pamt_c_sha256"],
    "fastpath": ["fast", "nofast"],
    "fastpath.fast": ["ns_per_op", "ratio", "ratio_owner", "ratio_get", "ratio_put",
                      "ratio_of_minimums", "churn_ns_per_getput", "seamcalls_while_held", "ok"],
    "fastpath.nofast": ["ns_per_op", "ratio", "ratio_owner", "churn_ns_per_getput", "ok"],
    "scaling": ["fast", "nofast", "threads", "duration_ms"],
    "seamcalls": ["runs", "redundant_total"],
    "memory": ["scaled_runs", "extrapolated", "sizes", "checks_total", "mismatches_total",
               "worst_pair_ratio", "simulate_agrees"],
    "targets": list(TARGETS),
}

SCALES = {
    # regions of the fake machine for every scaled host; which hosts,
    # touched fractions and mixes run through pamt.c; timing repetitions
    "full": dict(regions=4096, hosts=["256G", "1T", "2T"],
                 touched=["1%", "2%", "5%", "10%", "25%", "50%", "100%"], mixes=None,
                 fp_reps=201, fp_iters=200000, fp_iters_nofast=40000,
                 sc_ms=50, sc_reps=11, seam_ops=1000000, seam_ops_mt=200000,
                 cg_n=20000),
    "quick": dict(regions=512, hosts=["256G", "2T"], touched=["1%", "10%", "100%"],
                  mixes=["mixed"], fp_reps=31, fp_iters=100000, fp_iters_nofast=20000,
                  sc_ms=30, sc_reps=3, seam_ops=50000, seam_ops_mt=20000, cg_n=5000),
    "tiny": dict(regions=128, hosts=["256G"], touched=["1%", "100%"], mixes=["mixed"],
                 fp_reps=5, fp_iters=20000, fp_iters_nofast=2000, sc_ms=10, sc_reps=2,
                 seam_ops=20000, seam_ops_mt=5000, cg_n=0),
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
    for key, a, b in (("ratio", "dpamt_getput", "bare_atomic_call"),
                      ("ratio_owner", "dpamt_getput_owner", "bare_atomic_call"),
                      ("ratio_get", "dpamt_get", "bare_get"),
                      ("ratio_put", "dpamt_put", "bare_put"),
                      ("ratio_vs_inline", "dpamt_getput", "bare_atomic_inline")):
        ratios[key] = stats([x / y for x, y in zip(s[a], s[b]) if y > 0])
    out = {
        "fastpath_compiled": doc["fastpath_compiled"],
        "reps": doc["reps"], "iters": doc["iters"],
        "unit": doc["unit"],
        "ns_per_op": {k: stats(v) for k, v in s.items()},
        "ns_per_op_wall": {k: stats(v) for k, v in w.items()},
        "ratio_of_minimums": min(s["dpamt_getput"]) / min(s["bare_atomic_call"]),
        "churn_ns_per_getput": stats(doc["churn_ns_per_getput"]),
        "churn_ns_per_getput_wall": stats(doc["churn_ns_per_getput_wall"]),
        "churn_seamcalls_add": doc["churn_seamcalls_add"],
        "churn_iters": doc["churn_iters"],
        "seamcalls_while_held": doc["seamcalls_while_held"],
        "failures": doc["failures"],
        "ok": doc["ok"],
    }
    out.update(ratios)
    return out


def scaling_summary(doc):
    return {"fastpath_compiled": doc["fastpath_compiled"], "unit": doc["unit"],
            "ok": doc["ok"], "failures": doc["failures"],
            "results": [{"placement": r["placement"], "impl": r["impl"],
                         "threads": r["threads"], "mops": stats(r["mops"]),
                         "cpu_ns_per_pair": stats(r["cpu_ns_per_pair"])}
                        for r in doc["results"]]}


def callgrind(binary, n):
    """Instructions per get/put pair and per bare pair (deterministic)."""
    if not n or not shutil.which("valgrind"):
        return None
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode, func in (("cg-fast", "loop_dpamt"), ("cg-bare", "loop_bare")):
            f = os.path.join(tmp, mode + ".out")
            cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + f,
                   "--toggle-collect=" + func, binary, mode, str(n)]
            log(" ".join(cmd[:4] + [os.path.basename(binary), mode, str(n)]))
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
            # the toggled loop also ran 16 warm-up iterations
            out[func] = total / (n + 16)
            if func == "loop_dpamt" and shutil.which("callgrind_annotate"):
                ann = subprocess.run(["callgrind_annotate", f], capture_output=True,
                                     text=True, check=False).stdout
                per = {}
                for line in ann.splitlines():
                    mm = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S+):(\S+)", line)
                    if mm and "PROGRAM" not in line:
                        key = "%s:%s" % (os.path.basename(mm.group(2)), mm.group(3))
                        per[key] = per.get(key, 0) + int(mm.group(1).replace(",", "")) / (n + 16)
                out["breakdown"] = per
    return {"tool": "valgrind --tool=callgrind (instructions executed, Ir)",
            "iterations": n,
            "breakdown_per_getput_pair": {k: v for k, v in out.get("breakdown", {}).items()
                                          if v >= 0.5},
            "instructions_per_getput_pair": out["loop_dpamt"],
            "instructions_per_bare_pair": out["loop_bare"],
            "ratio": out["loop_dpamt"] / out["loop_bare"]}


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


def run_memory(binary, cfg, nofast_binary=None):
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
    checks = mism = 0
    all_agree = True
    for w in work:
        sim = w["sim"]
        c, e, m = w.get("created", {}), w.get("end", {}), w.get("machine", {})
        agree = (c.get("pair_bytes") == sim.pair_bytes and
                 m.get("dpamt_static_bytes") is not None)
        all_agree &= agree
        checks += e.get("checks", 0)
        mism += e.get("mismatches", 0) + w.get("bad_steps", 0)
        static_real = m.get("static_pamt_bytes", 0)
        runs.append({
            "id": w["id"], "host": w["host"], "mix": w["mix"], "layout": w["layout"],
            "touched": w["touched"], "scale_factor": w["scale"],
            "scaled_host_bytes": w["regions"] * REGION, "tds": w["tds"],
            "steps": w.get("steps", 0), "bad_steps": w.get("bad_steps", 0),
            "ops": e.get("ops", 0), "checks": e.get("checks", 0),
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
           "checks_total": checks, "mismatches_total": mism,
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
                            real.get("static_pamt_bytes") == r.static_pamt_bytes and
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
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    names = ["bare_atomic_inline", "bare_atomic_call", "dpamt_getput", "dpamt_getput_owner",
             "bare_get", "dpamt_get", "bare_put", "dpamt_put"]
    labels = ["bare atomic, inline", "bare atomic, call\n(baseline)", "get/put",
              "get/put + owner\n(KVM-style)", "bare inc", "get only", "bare dec", "put only"]
    exp = res.get("experiments", {}).get("split_fastpath")
    for ax, key, title in ((axes[0], "fast", "fast path compiled in"),
                           (axes[1], "nofast", "fast path compiled out")):
        d = fp[key]["ns_per_op"]
        med = [d[n]["median"] for n in names]
        lo = [d[n]["median"] - d[n]["p10"] for n in names]
        hi = [d[n]["p90"] - d[n]["median"] for n in names]
        colors = ["#999" if n.startswith("bare") else "#1f77b4" for n in names]
        labs = list(labels)
        if key == "fast" and exp:
            e = exp["fastpath"]["ns_per_op"]["dpamt_getput"]
            med.append(e["median"])
            lo.append(e["median"] - e["p10"])
            hi.append(e["p90"] - e["median"])
            colors.append("#9edae5")
            labs.append("experiment, not the series:\nget/put, slow paths split\n"
                        "(%.2fx, own run)" % exp["fastpath"]["ratio"]["median"])
        ax.barh(range(len(med)), med, xerr=[lo, hi], color=colors, capsize=3)
        ax.set_yticks(range(len(med)))
        ax.set_yticklabels(labs, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("ns per operation (a get or a put), thread CPU time;\n"
                      "median, bars p10-p90")
        if key == "nofast":
            ax.set_xscale("log")
        base = d["bare_atomic_call"]["median"]
        ax.axvline(base * 1.5, color="red", ls="--", lw=1)
        ax.text(base * 1.5, len(med) - 0.5, " target 1.5x baseline", color="red",
                fontsize=8, va="bottom")
        for i, v in enumerate(med):
            ax.text(v + hi[i], i, "  %.2f" % v, va="center", fontsize=8)
        r = fp[key]["ratio"]
        ax.set_title("%s: get/put = %.2fx baseline (p10-p90 %.2f-%.2f)"
                     % (title, r["median"], r["p10"], r["p90"]), fontsize=10)
    finish(fig, "fastpath.png", "(a)/(d) DPAMT get/put fast path vs a bare atomic "
           "increment, single thread")

    # -- (b) scaling
    sc = res["scaling"]
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), sharex=True)
    ptitle = {"shared": "one shared 2 MiB region",
              "distinct_same_line": "distinct regions, counters in one cache line",
              "distinct_own_line": "distinct regions, counters in own cache lines"}
    for col, place_ in enumerate(["shared", "distinct_same_line", "distinct_own_line"]):
        for build, impl, style, lab in (("fast", "dpamt", "o-", "get/put (fast path)"),
                                        ("nofast", "dpamt", "s-", "get/put (no fast path)"),
                                        ("fast", "bare_atomic", "^--", "bare atomic inc/dec")):
            rows = [r for r in sc[build]["results"]
                    if r["placement"] == place_ and r["impl"] == impl]
            xs = [r["threads"] for r in rows]
            for row, key in ((0, "mops"), (1, "cpu_ns_per_pair")):
                ax = axes[row][col]
                ys = [r[key]["median"] for r in rows]
                lo = [r[key]["p10"] for r in rows]
                hi = [r[key]["p90"] for r in rows]
                ax.plot(xs, ys, style, label=lab)
                ax.fill_between(xs, lo, hi, alpha=0.2)
        for row in (0, 1):
            ax = axes[row][col]
            ax.axvline(m["nproc"], color="#888", ls=":", lw=1)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks(sc["threads"])
            ax.set_xticklabels([str(t) for t in sc["threads"]])
            ax.grid(alpha=0.3, which="both")
        axes[0][col].set_title(ptitle[place_] + " (dotted: nproc)", fontsize=10)
        axes[1][col].set_xlabel("threads")
    axes[0][0].set_ylabel("M get/put pairs/s, all threads (wall)\n"
                          "median of %d x %d ms, band p10-p90"
                          % (res["config"]["sc_reps"], res["config"]["sc_ms"]))
    axes[1][0].set_ylabel("CPU ns per pair, per thread\n"
                          "(contention, not other load)")
    axes[0][0].legend(fontsize=8)
    finish(fig, "scaling.png", "(b)/(d) Throughput, 1 to %d threads" % max(sc["threads"]))

    # -- (c) SEAMCALLs
    runs = res["seamcalls"]["runs"]
    fig, ax = plt.subplots(figsize=(11, 5))
    xl, ideal, meas = [], [], []
    for r in runs:
        xl.append("%s\n%d thread%s" % ("fast path" if r["fastpath_compiled"] else
                                       "no fast path", r["threads"],
                                       "" if r["threads"] == 1 else "s"))
        ideal.append((r["ideal_adds"], r["ideal_removes"]))
        meas.append((r["adds"], r["removes"]))
    x = range(len(runs))
    w = 0.2
    ax.bar([i - 1.5 * w for i in x], [a for a, _ in ideal], w, label="ideal ADD (0->1)",
           color="#aec7e8")
    ax.bar([i - 0.5 * w for i in x], [a for a, _ in meas], w, label="PAMT.ADD (module)",
           color="#1f77b4")
    ax.bar([i + 0.5 * w for i in x], [b for _, b in ideal], w,
           label="ideal REMOVE (1->0)", color="#ffbb78")
    ax.bar([i + 1.5 * w for i in x], [b for _, b in meas], w, label="PAMT.REMOVE (module)",
           color="#ff7f0e")
    for i, r in enumerate(runs):
        ax.text(i, max(r["adds"], r["ideal_adds"]) * 1.02,
                "redundant: %d\n%d get + %d put" % (r["redundant"], r["gets"], r["puts"]),
                ha="center", fontsize=8)
    ax.set_xticks(list(x))
    ax.set_xticklabels(xl)
    ax.set_ylabel("SEAMCALLs")
    ax.set_ylim(0, max(max(a for a, _ in ideal), 1) * 1.25)
    ax.legend(fontsize=8, loc="lower right")
    finish(fig, "seamcalls.png", "(c)/(d) PAMT.ADD/REMOVE against the ideal, random "
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
    ax.set_title("%d workload steps, %d get/put checks: worst ratio %.3f, %d mismatches"
                 % (sum(r["steps"] for r in mem["scaled_runs"]), mem["checks_total"],
                    mem["worst_pair_ratio"], mem["mismatches_total"]), fontsize=9)
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
           "every get/put (real pamt.c, scaled-down hosts)")
    return files


# ---------------------------------------------------------------- main

def target(name, value):
    op, goal, what = TARGETS[name]
    if op == "<=":
        met = value <= goal + 1e-12
    else:
        met = abs(value - goal) < 1e-9
    return {"target": "%s %s" % (op, goal), "value": value, "met": met, "what": what}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench")
    ap.add_argument("--bench-nofast")
    ap.add_argument("--bench-split", help="optional: pamt.c with "
                    "experiments/split-fastpath.patch (an experiment, not the series)")
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
        iters = cfg["fp_iters"] if key == "fast" else cfg["fp_iters_nofast"]
        out, ok = run_json([b, "fastpath", "reps=%d" % cfg["fp_reps"], "iters=%d" % iters])
        res["fastpath"][key] = fastpath_summary(json.loads(out))
        all_ok &= ok

    # experiment: the same fast-path measurement on pamt.c with its slow
    # paths split out (experiments/split-fastpath.patch); correctness too
    res["experiments"] = {}
    if args.bench_split and os.path.exists(args.bench_split):
        out, ok1 = run_json([args.bench_split, "fastpath", "reps=%d" % cfg["fp_reps"],
                             "iters=%d" % cfg["fp_iters"]])
        sp = fastpath_summary(json.loads(out))
        out, ok2 = run_json([args.bench_split, "seamcalls", "threads=%d" % maxt,
                             "ops=%d" % cfg["seam_ops_mt"], "regions=64", "seed=7"])
        sc_ = json.loads(out)
        res["experiments"]["split_fastpath"] = {
            "what": "NOT the series: pamt.c with tests/model/bench/experiments/"
                    "split-fastpath.patch (slow paths in noinline helpers, inline "
                    "atomic_add_unless() first in put)",
            "fastpath": sp, "seamcalls": sc_, "ok": ok1 and ok2}

    # (b) + (d)
    res["scaling"] = {"threads": threads, "duration_ms": cfg["sc_ms"]}
    for key, b in bins.items():
        out, ok = run_json([b, "scaling", "threads=" + ",".join(map(str, threads)),
                            "ms=%d" % cfg["sc_ms"], "reps=%d" % cfg["sc_reps"]])
        res["scaling"][key] = scaling_summary(json.loads(out))
        all_ok &= ok

    # (c) + (d)
    runs = []
    for key, b in bins.items():
        for t, ops in ((1, cfg["seam_ops"]), (maxt if args.scale != "tiny" else 2,
                                              cfg["seam_ops_mt"])):
            out, ok = run_json([b, "seamcalls", "threads=%d" % t, "ops=%d" % ops,
                                "regions=64", "seed=7"])
            runs.append(json.loads(out))
            all_ok &= ok
    res["seamcalls"] = {"runs": runs,
                        "redundant_total": sum(abs(r["redundant"]) for r in runs),
                        "note": "ideal counted by the bench under a per-region lock taken "
                                "around each get/put (linearised with the call); threads "
                                "run concurrently on different regions, and on the same "
                                "region only one at a time"}

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
                "every host's TD sizes divided by its scale factor; check after every get "
                "and put. extrapolated: tools/tdxpamt/simulate.py at full size; its pair "
                "count was checked against pamt.c at the scaled size (simulate_agrees), "
                "its static part and metadata against pamt.c's sizing code at full size "
                "(real_code_static_agrees)." % cfg["regions"],
        "scaled_runs": mem["runs"],
        "checks_total": mem["checks_total"] + mem_nf["checks_total"],
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
        for key, b in bins.items():
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
    res["targets"]["fastpath_ratio"]["detail"] = {
        "owner": fpk["ratio_owner"]["median"], "get": fpk["ratio_get"]["median"],
        "put": fpk["ratio_put"]["median"], "of_minimums": fpk["ratio_of_minimums"],
        "p10": fpk["ratio"]["p10"], "p90": fpk["ratio"]["p90"]}
    res["targets"]["pair_memory_ratio"]["detail"] = {
        "checks": res["memory"]["checks_total"],
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
    print("== DPAMT benchmark (%s scale, %.0f s) on %s, %d CPUs, load %.1f"
          % (res["scale"], res["duration_seconds"], res["machine"]["cpu_model"],
             res["machine"]["nproc"], res["machine"]["loadavg_start"][0]))
    print("fast path: get/put %.2f ns/op vs bare atomic %.2f ns/op -> %.2fx "
          "(owner %.2fx); without fast path %.1f ns/op (%.1fx)"
          % (fp["ns_per_op"]["dpamt_getput"]["median"],
             fp["ns_per_op"]["bare_atomic_call"]["median"], fp["ratio"]["median"],
             fp["ratio_owner"]["median"], fn["ns_per_op"]["dpamt_getput"]["median"],
             fn["ratio"]["median"]))
    exp = res.get("experiments", {}).get("split_fastpath")
    if exp:
        print("experiment (not the series), slow paths split out: get/put %.2f ns/op, "
              "%.2fx its own baseline; redundant SEAMCALLs %d"
              % (exp["fastpath"]["ns_per_op"]["dpamt_getput"]["median"],
                 exp["fastpath"]["ratio"]["median"], exp["seamcalls"]["redundant"]))
    for r in res["seamcalls"]["runs"]:
        print("seamcalls: %-12s %d thread(s): ADD %d / ideal %d, REMOVE %d / ideal %d"
              % ("fast" if r["fastpath_compiled"] else "no-fast", r["threads"], r["adds"],
                 r["ideal_adds"], r["removes"], r["ideal_removes"]))
    mem = res["memory"]
    print("memory: %d workloads, %d checks, %d mismatches, worst ratio %.3f, "
          "simulate.py agrees: %s" % (len(mem["scaled_runs"]), mem["checks_total"],
                                      mem["mismatches_total"], mem["worst_pair_ratio"],
                                      mem["simulate_agrees"]))
    for name, v in t.items():
        print("target %-20s %-9s measured %-10s %s" % (
            name, v["target"], ("%.6g" % v["value"]) if isinstance(v["value"], float)
            else v["value"], "MET" if v["met"] else "MISSED"))
    print("results: ok=%s, plots: %s" % (res["ok"], ", ".join(res["plots"])))


def check(path):
    """bench-selftest: every key present, SEAMCALLs == ideal, memory == minimum."""
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
        if (r["adds"], r["removes"]) != (r["ideal_adds"], r["ideal_removes"]):
            failed.append("%s %d threads: ADD/REMOVE %d/%d, ideal %d/%d" % (
                "fast" if r["fastpath_compiled"] else "nofast", r["threads"], r["adds"],
                r["removes"], r["ideal_adds"], r["ideal_removes"]))
        if r["ideal_adds"] == 0:
            failed.append("seamcalls run with no 0->1 transition: the workload is too small")
    mem = res.get("memory", {})
    if mem.get("mismatches_total") != 0 or mem.get("worst_pair_ratio") != 1.0:
        failed.append("pair memory != physical minimum (%s mismatches, worst %s)"
                      % (mem.get("mismatches_total"), mem.get("worst_pair_ratio")))
    if not mem.get("simulate_agrees"):
        failed.append("simulate.py and pamt.c disagree on the pair count")
    if not mem.get("checks_total"):
        failed.append("no memory checks ran")
    for key in ("fast", "nofast"):
        fp = res.get("fastpath", {}).get(key, {})
        if fp.get("seamcalls_while_held"):
            failed.append("%s: SEAMCALLs while a reference was held" % key)
    if not res.get("ok"):
        failed.append("a benchmark mode reported a failed correctness check")
    out_dir = os.path.dirname(os.path.abspath(path))
    for p in res.get("plots", []):
        f = os.path.join(out_dir, p)
        if not os.path.exists(f) or not os.path.getsize(f):
            failed.append("missing or empty plot " + p)
    for msg in failed:
        print("FAIL: " + msg)
    checks = 6 + sum(len(v) for v in REQUIRED.values())
    print("%d passed, %d failed" % (checks - min(len(failed), checks), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
