// SPDX-License-Identifier: GPL-2.0
/*
 * dpamt-bench.c - benchmark of the REAL arch/x86/virt/vmx/tdx/pamt.c,
 * linked against the userspace harness (tests/model, `make lib`): once
 * with the fast path (bench/libdpamt-harness.a) and once without it
 * (bench-nofast/libdpamt-harness.a: every get allocates a pair and takes
 * pamt_lock, like tip x86/tdx, which has no lock-free fast path; a put
 * that is not the last stays lock-free, unlike tip's).  Each
 * mode prints one JSON document (mem: one JSON object per line) on
 * stdout; report.py runs the modes, merges the documents into
 * results.json and draws the plots.
 *
 *   dpamt-bench fastpath  [reps=N] [iters=N] [churn_reps=N] [churn_iters=N]
 *       get/put with a reference held (fast path only, no SEAMCALL):
 *       dpamt_bench_getput() with and without KVM's accounting against
 *       bare_getput(), the same loop around a bare atomic increment and
 *       decrement (bare.c); get-only and put-only halves; the cached get
 *       KVM's fault path uses; KVM's tdx_dpamt_get()/put() as they are
 *       and with the page count per CPU (a proposal); an inlined atomic
 *       loop.  Then the slow
 *       path on an idle region: each get takes the region 0 -> 1 and each
 *       put 1 -> 0, (1) while the removal work does not run (every get
 *       reuses the pair still installed: no SEAMCALL), (2) with the
 *       removal work run after every put (every get is a PAMT.ADD, the
 *       work a PAMT.REMOVE), (3) with the removal work running in the
 *       background, as in the kernel (ADDs and reuses counted).
 *   dpamt-bench scaling   [threads=1,2,4,8] [ms=N] [reps=N] [acct=0|1] [pin=0|1]
 *       get/put pairs per second, 1..N threads, a reference held on every
 *       region used, on one shared region, on distinct regions whose
 *       counters share a cache line, on distinct regions 64 B apart (own
 *       line) and 128 B apart (own pair of lines); bare atomics alongside.
 *   dpamt-bench seamcalls [threads=N] [ops=N] [regions=N] [seed=N]
 *       random get/put workload (a quarter of the gets from a per-thread
 *       pair cache, a TD charge per thread, the removal work in the
 *       background); the benchmark keeps its own per-region user count
 *       under a per-region lock taken around each call, so it is
 *       linearised with the calls.  After the work drained: every 0 -> 1
 *       transition is a get that returned 1; PAMT.ADD (counted by the
 *       module model) at most one per transition, the rest reuses; every
 *       ADD removed once; no failed or refused ADD/REMOVE.
 *   dpamt-bench mem < PLAN
 *       drives pamt.c through a workload plan (report.py writes it), the
 *       removal work run at every step.  After EVERY get and put: the
 *       pair bytes pamt.c reports == the module's == 8 KiB x (regions
 *       holding a referenced 4K page + regions released since the last
 *       run of the work).  After every run of the work: == 8 KiB x
 *       regions holding a referenced page (the physical minimum).
 *       Plan lines:
 *         machine NREGIONS      fresh fake machine of NREGIONS x 2 MiB
 *         td ID                 a TD (a charge and KVM-like counters)
 *         get ID REGION COUNT   COUNT references to 4K pages of REGION
 *         destroy ID            put every reference of the TD
 *         step LABEL            run the removal work, check, print figures
 *         sizes BYTES           real-code static PAMT / DPAMT static part /
 *                               metadata of a BYTES host
 *         end                   final checks
 *   dpamt-bench cg LOOP N
 *       N iterations of one fast-path loop for callgrind
 *       (--toggle-collect=LOOP's function): LOOP is bare, bare-acct,
 *       dpamt, dpamt-acct, cached, kvm or kvm-percpu.
 *
 * Exit status: 0 if every correctness check held, 1 otherwise, 2 on
 * usage errors.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "bare.h"

#define PAIR_BYTES	(2 * 4096ULL)
#define RLX		__ATOMIC_RELAXED

static int g_failed;

#define FAIL(...) do {							\
	__atomic_add_fetch(&g_failed, 1, __ATOMIC_RELAXED);		\
	fprintf(stderr, "dpamt-bench: FAIL: " __VA_ARGS__);		\
	fputc('\n', stderr);						\
} while (0)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* CPU time of the calling thread: not inflated while other work runs */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* ---- options: key=value ---- */

static int g_argc;
static char **g_argv;

static const char *opt_str(const char *key, const char *def)
{
	size_t n = strlen(key);

	for (int i = 2; i < g_argc; i++)
		if (!strncmp(g_argv[i], key, n) && g_argv[i][n] == '=')
			return g_argv[i] + n + 1;
	return def;
}

static uint64_t opt_u64(const char *key, uint64_t def)
{
	const char *s = opt_str(key, NULL);

	return s ? strtoull(s, NULL, 0) : def;
}

/* ---- JSON ---- */

static void j_array(const char *key, const double *v, int n, const char *sep)
{
	printf("\"%s\": [", key);
	for (int i = 0; i < n; i++)
		printf("%s%.4f", i ? ", " : "", v[i]);
	printf("]%s", sep);
}

/* ---- common ---- */

static void check_clean(const char *when)
{
	struct harness_counters c;

	harness_get_counters(&c);
	if (tdxm_total_violations()) {
		tdxm_report_violations(when);
		FAIL("%s: %llu TDX module protocol violations", when,
		     (unsigned long long)tdxm_total_violations());
	}
	if (harness_total_bugs()) {
		harness_report_bugs(when);
		FAIL("%s: %llu harness-detected bugs", when,
		     (unsigned long long)harness_total_bugs());
	}
	if (c.warns)
		FAIL("%s: %llu WARNs", when, (unsigned long long)c.warns);
}

static void bench_setup(unsigned long nr_regions)
{
	if (dpamt_bench_setup(nr_regions))
		FAIL("dpamt_bench_setup(%lu)", nr_regions);
	/* the baseline's counter array has the same index range as pamt.c's */
	bare_init(harness_pamt_nr_regions());
}

static void bench_teardown(void)
{
	check_clean("teardown");
	bare_fini();
	dpamt_bench_teardown();
}

static struct tdxm_stats mstats(void)
{
	struct tdxm_stats st;

	tdxm_get_stats(&st);
	return st;
}

/* ------------------------------------------------------------------ */
/* the loops measured besides dpamt_bench_getput() and bare_getput()    */

/* n gets, then (separately timed) n puts: the cost of each half */
__attribute__((noipa))
uint64_t loop_dpamt_get(unsigned long pfn, uint64_t n)
{
	uint64_t fails = 0;

	for (uint64_t i = 0; i < n; i++)
		if (tdx_pamt_get(pfn, GFP_KERNEL_ACCOUNT, 1) < 0)
			fails++;
	return fails;
}

__attribute__((noipa))
uint64_t loop_dpamt_put(unsigned long pfn, uint64_t n)
{
	uint64_t charged = 0;

	for (uint64_t i = 0; i < n; i++)
		charged += tdx_pamt_put(pfn) != 0;
	return charged;
}

__attribute__((noipa))
uint64_t loop_bare_get(unsigned long pfn, uint64_t n)
{
	uint64_t fails = 0;

	for (uint64_t i = 0; i < n; i++)
		if (bare_get(pfn, GFP_KERNEL_ACCOUNT, 1) < 0)
			fails++;
	return fails;
}

__attribute__((noipa))
uint64_t loop_bare_put(unsigned long pfn, uint64_t n)
{
	uint64_t charged = 0;

	for (uint64_t i = 0; i < n; i++)
		charged += bare_put(pfn) != 0;
	return charged;
}

/* KVM's fault path: tdx_pamt_get_cached() (no allocation), then put */
__attribute__((noipa))
uint64_t loop_cached(unsigned long pfn, uint64_t n, struct tdx_pamt_cache *cache)
{
	uint64_t fails = 0;

	for (uint64_t i = 0; i < n; i++) {
		if (tdx_pamt_get_cached(pfn, cache, 1) < 0) {
			fails++;
			continue;
		}
		tdx_pamt_put(pfn);
	}
	return fails;
}

/*
 * KVM's tdx_dpamt_get()/tdx_dpamt_put() as arch/x86/kvm/vmx/tdx.c has
 * them: an out-of-line tdx_dynamic_pamt_enabled() before each call into
 * the core, and the TD's statistics as atomic64_t (one cache line per TD,
 * written by every vCPU on every 4K page mapped or unmapped).
 */
static struct {
	atomic64_t pages, pair_bytes, installs;
} __attribute__((aligned(64))) kvm_stat;

__attribute__((noipa))
uint64_t loop_kvm(unsigned long pfn, uint64_t n)
{
	uint64_t fails = 0;

	for (uint64_t i = 0; i < n; i++) {
		int ret = 0;

		if (tdx_dynamic_pamt_enabled())
			ret = tdx_pamt_get(pfn, GFP_KERNEL_ACCOUNT, 1);
		if (ret < 0) {
			fails++;
			continue;
		}
		atomic64_add(1, &kvm_stat.pages);
		if (ret) {
			atomic64_add(PAIR_BYTES, &kvm_stat.pair_bytes);
			atomic64_add(1, &kvm_stat.installs);
		}
		if (tdx_dynamic_pamt_enabled()) {
			unsigned long charge = tdx_pamt_put(pfn);

			atomic64_sub(1, &kvm_stat.pages);
			if (charge)
				atomic64_sub(PAIR_BYTES, &kvm_stat.pair_bytes);
		}
	}
	return fails;
}

/*
 * The proposal: the TD's page count per CPU (this_cpu_inc()/dec() of a
 * u64 __percpu in struct kvm_tdx, summed when read; a __thread counter
 * here), the pair counters (first and last references only) atomic as
 * before, and no tdx_dynamic_pamt_enabled() call (get and put return 0
 * without DPAMT; KVM keeps the answer in struct kvm_tdx).
 */
static __thread int64_t kvm_pcpu_pages;

__attribute__((noipa))
uint64_t loop_kvm_percpu(unsigned long pfn, uint64_t n)
{
	uint64_t fails = 0;

	for (uint64_t i = 0; i < n; i++) {
		int ret = tdx_pamt_get(pfn, GFP_KERNEL_ACCOUNT, 1);
		unsigned long charge;

		if (ret < 0) {
			fails++;
			continue;
		}
		kvm_pcpu_pages++;
		if (ret) {
			atomic64_add(PAIR_BYTES, &kvm_stat.pair_bytes);
			atomic64_add(1, &kvm_stat.installs);
		}
		charge = tdx_pamt_put(pfn);
		kvm_pcpu_pages--;
		if (charge)
			atomic64_sub(PAIR_BYTES, &kvm_stat.pair_bytes);
	}
	return fails;
}

/* the atomic increment and decrement inlined, no calls at all */
__attribute__((noipa))
uint64_t loop_inline(int *ctr, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		__atomic_fetch_add(ctr, 1, __ATOMIC_SEQ_CST);
		__atomic_fetch_sub(ctr, 1, __ATOMIC_SEQ_CST);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* (a) fast path                                                       */

enum {
	C_BARE, C_BARE_ACCT, C_DPAMT, C_DPAMT_ACCT, C_CACHED, C_KVM, C_KVM_PERCPU, C_INLINE,
	C_BARE_GET, C_BARE_PUT, C_DPAMT_GET, C_DPAMT_PUT,	/* halves */
	C_NR
};
static const char *const cfg_names[C_NR] = {
	"bare", "bare_acct", "dpamt", "dpamt_acct", "dpamt_cached", "kvm_as_is",
	"kvm_percpu_pages", "bare_inline",
	"bare_get", "bare_put", "dpamt_get", "dpamt_put",
};

struct fp_ctx {
	unsigned long pfn;
	uint64_t iters;
	struct tdx_pamt_cache cache;
	int inline_ctr;
	uint64_t fails;
};

/* one timed run of @c: ns per operation (a get or a put), CPU and wall */
static void fast_run(int c, struct fp_ctx *x, double *cpu, double *wall)
{
	uint64_t w0, c0, w1, c1, n = x->iters, ops = 2 * n;

	if (c >= C_BARE_GET) {
		bool dp = c == C_DPAMT_GET || c == C_DPAMT_PUT;
		bool get = c == C_BARE_GET || c == C_DPAMT_GET;
		uint64_t cg, wg;

		w0 = now_ns(); c0 = cpu_ns();
		x->fails += dp ? loop_dpamt_get(x->pfn, n) : loop_bare_get(x->pfn, n);
		c1 = cpu_ns(); w1 = now_ns();
		cg = c1 - c0; wg = w1 - w0;
		w0 = now_ns(); c0 = cpu_ns();
		if (dp)
			loop_dpamt_put(x->pfn, n);
		else
			loop_bare_put(x->pfn, n);
		c1 = cpu_ns(); w1 = now_ns();
		*cpu = (double)(get ? cg : c1 - c0) / n;
		*wall = (double)(get ? wg : w1 - w0) / n;
		return;
	}
	w0 = now_ns(); c0 = cpu_ns();
	switch (c) {
	case C_BARE:
		x->fails += bare_getput(x->pfn, n, false, false);
		break;
	case C_BARE_ACCT:
		x->fails += bare_getput(x->pfn, n, false, true);
		break;
	case C_DPAMT:
		x->fails += dpamt_bench_getput(x->pfn, n, false, false);
		break;
	case C_DPAMT_ACCT:
		x->fails += dpamt_bench_getput(x->pfn, n, false, true);
		break;
	case C_CACHED:
		x->fails += loop_cached(x->pfn, n, &x->cache);
		break;
	case C_KVM:
		x->fails += loop_kvm(x->pfn, n);
		break;
	case C_KVM_PERCPU:
		x->fails += loop_kvm_percpu(x->pfn, n);
		break;
	case C_INLINE:
		loop_inline(&x->inline_ctr, n);
		break;
	}
	c1 = cpu_ns(); w1 = now_ns();
	*cpu = (double)(c1 - c0) / ops;
	*wall = (double)(w1 - w0) / ops;
}

struct churn {
	const char *name;
	double *cpu, *wall;
	uint64_t gets, firsts, adds, removes;
};

/*
 * n get/put pairs on an idle region, each a 0 -> 1 and a 1 -> 0
 * transition; @flush runs the removal work after every put.  Returns the
 * CPU ns per pair.
 */
static void churn_run(struct churn *ch, int r, unsigned long pfn, uint64_t n, bool flush)
{
	struct tdxm_stats m0 = mstats(), m1;
	uint64_t w0 = now_ns(), c0 = cpu_ns(), firsts = 0;

	for (uint64_t i = 0; i < n; i++) {
		int ret = tdx_pamt_get(pfn, GFP_KERNEL_ACCOUNT, 1);

		if (ret < 0) {
			FAIL("churn: get failed: %d", ret);
			continue;
		}
		firsts += ret;
		if (!tdx_pamt_put(pfn))
			FAIL("churn: the last put returned no charge");
		if (flush)
			harness_pamt_flush();
	}
	ch->cpu[r] = (double)(cpu_ns() - c0) / n;
	ch->wall[r] = (double)(now_ns() - w0) / n;
	m1 = mstats();
	ch->gets += n;
	ch->firsts += firsts;
	ch->adds += m1.add_ok - m0.add_ok;
	ch->removes += m1.remove_ok - m0.remove_ok;
}

static int mode_fastpath(void)
{
	uint64_t reps = opt_u64("reps", 101), iters = opt_u64("iters", 200000);
	uint64_t churn_reps = opt_u64("churn_reps", reps / 4 + 1);
	uint64_t churn_iters = opt_u64("churn_iters", iters / 40 + 1);
	double *s[C_NR], *sw[C_NR], dummy;
	struct tdxm_stats m0, m1;
	struct fp_ctx x = { 0 };
	struct churn ch[3] = {
		{ .name = "reuse" }, { .name = "add_remove" }, { .name = "background" },
	};
	uint64_t seam_hold;
	unsigned long pfn_idle;

	bench_setup(64);
	x.pfn = dpamt_bench_pfn(1, 0);
	x.iters = iters;
	pfn_idle = dpamt_bench_pfn(9, 0);
	tdx_pamt_cache_init(&x.cache);
	/* the reference held throughout: the loops only see the fast path */
	if (tdx_pamt_get(x.pfn, GFP_KERNEL_ACCOUNT, 1) != 1 ||
	    tdx_pamt_cache_topup(&x.cache, 1, GFP_KERNEL_ACCOUNT))
		FAIL("fastpath setup");
	bare_get(x.pfn, 0, 1);

	for (int c = 0; c < C_NR; c++) {
		s[c] = calloc(reps, sizeof(double));
		sw[c] = calloc(reps, sizeof(double));
	}
	for (int k = 0; k < 3; k++) {
		ch[k].cpu = calloc(churn_reps, sizeof(double));
		ch[k].wall = calloc(churn_reps, sizeof(double));
	}

	m0 = mstats();
	/* warm up caches, branch predictors, the CPU clock */
	for (int w = 0; w < 3; w++)
		for (int c = 0; c < C_NR; c++)
			fast_run(c, &x, &dummy, &dummy);
	for (uint64_t r = 0; r < reps; r++) {
		/* interleaved, rotating order: drift hits every config alike */
		for (int k = 0; k < C_NR; k++) {
			int c = (int)((k + r) % C_NR);

			/* the halves come in pairs: run them as one */
			if (c == C_BARE_PUT || c == C_DPAMT_PUT)
				continue;
			fast_run(c, &x, &s[c][r], &sw[c][r]);
			if (c == C_BARE_GET || c == C_DPAMT_GET)
				fast_run(c + 1, &x, &s[c + 1][r], &sw[c + 1][r]);
		}
	}
	m1 = mstats();
	seam_hold = m1.calls - m0.calls;
	if (seam_hold)
		FAIL("%llu SEAMCALLs while a reference was held",
		     (unsigned long long)seam_hold);
	if (harness_pamt_ref(1) != 1)
		FAIL("count %d after balanced get/put", harness_pamt_ref(1));
	if (x.fails)
		FAIL("%llu get failures", (unsigned long long)x.fails);

	/*
	 * The slow path: (1) the work does not run, every get reuses the
	 * pair still installed; (2) the work runs after every put; (3) the
	 * work runs in the background.
	 */
	harness_work_manual(true);
	for (uint64_t r = 0; r < churn_reps; r++)
		churn_run(&ch[0], (int)r, pfn_idle, churn_iters, false);
	harness_pamt_flush();
	for (uint64_t r = 0; r < churn_reps; r++)
		churn_run(&ch[1], (int)r, pfn_idle, churn_iters, true);
	harness_work_manual(false);
	for (uint64_t r = 0; r < churn_reps; r++)
		churn_run(&ch[2], (int)r, pfn_idle, churn_iters, false);
	harness_pamt_flush();
	if (ch[0].adds > churn_reps || ch[0].removes > churn_reps)
		FAIL("churn without the work: %llu ADD, %llu REMOVE",
		     (unsigned long long)ch[0].adds, (unsigned long long)ch[0].removes);
	if (ch[1].adds != ch[1].gets || ch[1].removes != ch[1].gets)
		FAIL("churn with the work after each put: %llu ADD, %llu REMOVE for %llu gets",
		     (unsigned long long)ch[1].adds, (unsigned long long)ch[1].removes,
		     (unsigned long long)ch[1].gets);
	for (int k = 0; k < 3; k++)
		if (ch[k].firsts != ch[k].gets)
			FAIL("churn %s: %llu of %llu gets took the first reference", ch[k].name,
			     (unsigned long long)ch[k].firsts, (unsigned long long)ch[k].gets);

	tdx_pamt_put(x.pfn);
	bare_put(x.pfn);
	tdx_pamt_cache_free(&x.cache);
	bench_teardown();

	printf("{\"mode\": \"fastpath\", \"fastpath_compiled\": %s, \"reps\": %llu, "
	       "\"iters\": %llu, \"unit\": \"ns per operation (one get or one put), "
	       "thread CPU time\",\n",
	       dpamt_bench_fastpath() ? "true" : "false",
	       (unsigned long long)reps, (unsigned long long)iters);
	printf(" \"samples\": {");
	for (int c = 0; c < C_NR; c++) {
		printf("%s\n  ", c ? "," : "");
		j_array(cfg_names[c], s[c], (int)reps, "");
	}
	printf("},\n \"samples_wall\": {");
	for (int c = 0; c < C_NR; c++) {
		printf("%s\n  ", c ? "," : "");
		j_array(cfg_names[c], sw[c], (int)reps, "");
	}
	printf("},\n \"churn_iters\": %llu, \"churn\": {", (unsigned long long)churn_iters);
	for (int k = 0; k < 3; k++) {
		printf("%s\n  \"%s\": {\"gets\": %llu, \"first_refs\": %llu, \"adds\": %llu, "
		       "\"removes\": %llu, ", k ? "," : "", ch[k].name,
		       (unsigned long long)ch[k].gets, (unsigned long long)ch[k].firsts,
		       (unsigned long long)ch[k].adds, (unsigned long long)ch[k].removes);
		j_array("ns_per_getput", ch[k].cpu, (int)churn_reps, ", ");
		j_array("ns_per_getput_wall", ch[k].wall, (int)churn_reps, "}");
	}
	printf("},\n \"seamcalls_while_held\": %llu, \"failures\": %llu, \"ok\": %s}\n",
	       (unsigned long long)seam_hold, (unsigned long long)x.fails,
	       g_failed ? "false" : "true");
	for (int c = 0; c < C_NR; c++) {
		free(s[c]);
		free(sw[c]);
	}
	for (int k = 0; k < 3; k++) {
		free(ch[k].cpu);
		free(ch[k].wall);
	}
	return g_failed ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* (b) scaling                                                          */

enum { P_SHARED, P_ADJACENT, P_LINE, P_LINE2, P_NR };
static const char *const place_names[P_NR] = {
	"shared", "distinct_same_line", "distinct_own_line", "distinct_128b_apart",
};
enum { I_DPAMT, I_BARE, I_NR };
static const char *const impl_names[I_NR] = { "dpamt", "bare_atomic" };

/* counts are 4-byte atomics: 16 regions per 64-byte cache line */
#define REGIONS_PER_LINE	16

struct worker {
	pthread_t tid;
	int impl, cpu_pin;
	bool acct;
	unsigned long pfn;
	uint64_t ops, fails, cpu;
} __attribute__((aligned(64)));

static pthread_barrier_t w_start;
/* alone in its cache line: read by every worker */
static struct { int stop; } __attribute__((aligned(64))) w_ctl;

static void *scaling_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t ops = 0, fails = 0, c0;
	unsigned long pfn = w->pfn;
	bool acct = w->acct;

	if (w->cpu_pin >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu_pin, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	pthread_barrier_wait(&w_start);
	c0 = cpu_ns();
	if (w->impl == I_DPAMT) {
		while (!__atomic_load_n(&w_ctl.stop, RLX)) {
			fails += dpamt_bench_getput(pfn, 256, false, acct);
			ops += 256;
		}
	} else {
		while (!__atomic_load_n(&w_ctl.stop, RLX)) {
			fails += bare_getput(pfn, 256, false, acct);
			ops += 256;
		}
	}
	w->cpu = cpu_ns() - c0;
	w->ops = ops;
	w->fails = fails;
	return NULL;
}

static unsigned long place_region(int place, int t)
{
	switch (place) {
	case P_SHARED:
		return 1;
	case P_ADJACENT:
		return 1 + t;
	case P_LINE:
		return 1 + (unsigned long)t * REGIONS_PER_LINE;
	default:
		return 1 + (unsigned long)t * 2 * REGIONS_PER_LINE;
	}
}

static int parse_list(const char *s, int *out, int max)
{
	int n = 0;

	while (*s && n < max) {
		out[n++] = (int)strtol(s, (char **)&s, 10);
		if (*s == ',')
			s++;
	}
	return n;
}

static int mode_scaling(void)
{
	int threads[32], nt = parse_list(opt_str("threads", "1,2,4,8"), threads, 32);
	uint64_t ms = opt_u64("ms", 60), reps = opt_u64("reps", 5);
	bool acct = opt_u64("acct", 0), pin = opt_u64("pin", 0);
	const char *places = opt_str("places", "0,1,2,3");
	int plist[P_NR], np = parse_list(places, plist, P_NR);
	int maxt = 1, ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	struct tdxm_stats m0;
	uint64_t fails = 0;

	for (int i = 0; i < nt; i++)
		maxt = threads[i] > maxt ? threads[i] : maxt;
	bench_setup((unsigned long)(maxt + 2) * 2 * REGIONS_PER_LINE);
	/* one held reference per region used: the loops stay on the fast path */
	for (int i = 0; i < np; i++)
		for (int t = 0; t < maxt; t++) {
			unsigned long r = place_region(plist[i], t);

			if (harness_pamt_ref(r) == 0) {
				if (tdx_pamt_get(dpamt_bench_pfn(r, 0), GFP_KERNEL_ACCOUNT, 1) != 1)
					FAIL("scaling setup");
				bare_get(dpamt_bench_pfn(r, 0), 0, 1);
			}
		}
	m0 = mstats();

	printf("{\"mode\": \"scaling\", \"fastpath_compiled\": %s, \"duration_ms\": %llu, "
	       "\"reps\": %llu, \"accounting\": %s, \"pinned\": %s, \"nproc\": %d, "
	       "\"unit\": \"million get/put pairs per second, all threads\", \"results\": [",
	       dpamt_bench_fastpath() ? "true" : "false", (unsigned long long)ms,
	       (unsigned long long)reps, acct ? "true" : "false", pin ? "true" : "false", ncpu);
	int first = 1;
	for (int pi = 0; pi < np; pi++)
		for (int im = 0; im < I_NR; im++)
			for (int ti = 0; ti < nt; ti++) {
				int p = plist[pi], T = threads[ti];
				double *mops = calloc(reps, sizeof(double));
				double *cpp = calloc(reps, sizeof(double));
				struct worker *w = aligned_alloc(64, T * sizeof(*w));

				for (uint64_t r = 0; r < reps; r++) {
					struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };
					uint64_t t0, t1, ops = 0, cpu = 0;

					memset(w, 0, T * sizeof(*w));
					pthread_barrier_init(&w_start, NULL, T + 1);
					__atomic_store_n(&w_ctl.stop, 0, RLX);
					for (int t = 0; t < T; t++) {
						w[t].impl = im;
						w[t].acct = acct;
						w[t].cpu_pin = pin ? t % ncpu : -1;
						/* page t of the region: distinct pfns */
						w[t].pfn = dpamt_bench_pfn(place_region(p, t), t);
						pthread_create(&w[t].tid, NULL, scaling_worker, &w[t]);
					}
					pthread_barrier_wait(&w_start);
					t0 = now_ns();
					nanosleep(&d, NULL);
					__atomic_store_n(&w_ctl.stop, 1, RLX);
					for (int t = 0; t < T; t++) {
						pthread_join(w[t].tid, NULL);
						ops += w[t].ops;
						cpu += w[t].cpu;
						fails += w[t].fails;
					}
					t1 = now_ns();
					pthread_barrier_destroy(&w_start);
					mops[r] = (double)ops * 1000.0 / (double)(t1 - t0);
					/* CPU time per pair: contention, not other load */
					cpp[r] = ops ? (double)cpu / (double)ops : 0;
				}
				printf("%s\n  {\"placement\": \"%s\", \"impl\": \"%s\", \"threads\": %d, ",
				       first ? "" : ",", place_names[p], impl_names[im], T);
				first = 0;
				j_array("mops", mops, (int)reps, ", ");
				j_array("cpu_ns_per_pair", cpp, (int)reps, "}");
				free(mops);
				free(cpp);
				free(w);
			}
	if (mstats().calls != m0.calls)
		FAIL("SEAMCALLs while references were held");
	if (fails)
		FAIL("%llu get failures", (unsigned long long)fails);
	for (int i = 0; i < np; i++)
		for (int t = 0; t < maxt; t++) {
			unsigned long r = place_region(plist[i], t);

			if (harness_pamt_ref(r) > 0) {
				tdx_pamt_put(dpamt_bench_pfn(r, 0));
				bare_put(dpamt_bench_pfn(r, 0));
			}
		}
	harness_pamt_flush();
	if (harness_pamt_pair_pages())
		FAIL("%ld pair pages left", harness_pamt_pair_pages());
	bench_teardown();
	printf("],\n \"failures\": %llu, \"ok\": %s}\n", (unsigned long long)fails,
	       g_failed ? "false" : "true");
	return g_failed ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* (c) SEAMCALLs against the ideal                                      */

struct sregion {
	pthread_mutex_t lock;
	int users;			/* references held, benchmark's count */
	uint64_t up, down;		/* 0 -> 1 and 1 -> 0 transitions */
} __attribute__((aligned(64)));

static struct sregion *sreg;
static unsigned long s_nregions;
static uint64_t s_ops;
static int s_threads;

/* a TD per thread, counted the way KVM counts (tdx_dpamt_get/put) */
struct std {
	int64_t pages, pair_bytes, installs;
} __attribute__((aligned(64)));
static struct std *s_td;

struct sworker {
	pthread_t tid;
	int id;
	uint64_t seed;
	uint64_t gets, puts, fails, cache_gets, firsts, charges_back;
};

static void s_uncharge(unsigned long charge)
{
	if (charge < 1 || charge > (unsigned long)s_threads) {
		FAIL("put returned charge %lu", charge);
		return;
	}
	__atomic_fetch_sub(&s_td[charge - 1].pair_bytes, PAIR_BYTES, RLX);
}

static void s_put(struct sworker *w, unsigned long pfn)
{
	unsigned long r = harness_pfn_region(pfn), charge;

	pthread_mutex_lock(&sreg[r].lock);
	charge = tdx_pamt_put(pfn);
	if (--sreg[r].users == 0) {
		sreg[r].down++;
		if (!charge)
			FAIL("region %lu: the last put returned no charge", r);
	} else if (charge) {
		FAIL("region %lu: a put that was not the last returned a charge", r);
	}
	pthread_mutex_unlock(&sreg[r].lock);
	__atomic_fetch_sub(&s_td[w->id].pages, 1, RLX);
	if (charge) {
		s_uncharge(charge);
		w->charges_back++;
	}
	w->puts++;
}

static void *seam_worker(void *arg)
{
	struct sworker *w = arg;
	enum { CAP = 256, TARGET = 24 };
	unsigned long held[CAP];
	struct tdx_pamt_cache cache;
	uint64_t rs = w->seed * 0x9E3779B97F4A7C15ULL + 1;
	int nheld = 0;

	harness_seed_thread(w->seed);
	tdx_pamt_cache_init(&cache);
	for (uint64_t i = 0; i < s_ops; i++) {
		uint64_t x = rng_next(&rs);

		/* random walk of the references held, around TARGET */
		if (nheld == 0 || (nheld < CAP && x % (2 * TARGET) >= (uint64_t)nheld)) {
			/* half of the picks go to an eighth of the regions (hot) */
			unsigned long r = (x >> 8) % ((x >> 40) & 1 ? s_nregions :
						       (s_nregions + 7) / 8);
			unsigned long pfn = harness_td_pfn(r, (x >> 20) % 64);
			bool use_cache = ((x >> 32) & 3) == 0;
			int ret;

			/* KVM's fault path: top up outside the lock, get from the cache */
			if (use_cache && tdx_pamt_cache_topup(&cache, 1, GFP_KERNEL_ACCOUNT))
				FAIL("cache topup");
			pthread_mutex_lock(&sreg[r].lock);
			ret = use_cache ? tdx_pamt_get_cached(pfn, &cache, w->id + 1) :
					  tdx_pamt_get(pfn, GFP_KERNEL_ACCOUNT, w->id + 1);
			if (ret >= 0 && sreg[r].users++ == 0) {
				sreg[r].up++;
				if (ret != 1)
					FAIL("region %lu: 0 -> 1 but get returned %d", r, ret);
			} else if (ret == 1) {
				FAIL("region %lu: get returned 1 on a region in use", r);
			}
			pthread_mutex_unlock(&sreg[r].lock);
			if (ret < 0) {
				w->fails++;
				continue;
			}
			__atomic_fetch_add(&s_td[w->id].pages, 1, RLX);
			if (ret) {
				__atomic_fetch_add(&s_td[w->id].pair_bytes, PAIR_BYTES, RLX);
				__atomic_fetch_add(&s_td[w->id].installs, 1, RLX);
				w->firsts++;
			}
			w->gets++;
			w->cache_gets += use_cache;
			held[nheld++] = pfn;
		} else {
			int k = (int)((x >> 16) % nheld);
			unsigned long pfn = held[k];

			held[k] = held[--nheld];
			s_put(w, pfn);
		}
	}
	while (nheld)
		s_put(w, held[--nheld]);
	tdx_pamt_cache_free(&cache);
	return NULL;
}

static int mode_seamcalls(void)
{
	int T = (int)opt_u64("threads", 1);
	uint64_t seed = opt_u64("seed", 1);
	struct sworker *w;
	struct tdxm_stats m0, m1, mdrain;
	struct tdx_pamt_stats st;
	uint64_t up = 0, down = 0, gets = 0, puts = 0, fails = 0, cache_gets = 0, firsts = 0;
	uint64_t back = 0, t0, t1, pending_at_end;
	int64_t pages = 0, pair_bytes = 0, installs = 0;

	s_ops = opt_u64("ops", 200000);
	s_nregions = opt_u64("regions", 64);
	s_threads = T;
	bench_setup(s_nregions);
	sreg = aligned_alloc(64, s_nregions * sizeof(*sreg));
	memset(sreg, 0, s_nregions * sizeof(*sreg));
	for (unsigned long r = 0; r < s_nregions; r++)
		pthread_mutex_init(&sreg[r].lock, NULL);
	s_td = aligned_alloc(64, T * sizeof(*s_td));
	memset(s_td, 0, T * sizeof(*s_td));
	w = calloc(T, sizeof(*w));
	m0 = mstats();
	t0 = now_ns();
	for (int t = 0; t < T; t++) {
		w[t].id = t;
		w[t].seed = seed * 1000 + t;
		pthread_create(&w[t].tid, NULL, seam_worker, &w[t]);
	}
	for (int t = 0; t < T; t++)
		pthread_join(w[t].tid, NULL);
	t1 = now_ns();
	mdrain = mstats();
	/* pairs whose last reference went, not removed yet by the work */
	pending_at_end = mdrain.pairs_installed;
	harness_pamt_flush();
	m1 = mstats();
	tdx_pamt_set_static_info((u64)s_nregions * SZ_2M, 0, 0);
	tdx_pamt_get_stats(&st);
	for (int t = 0; t < T; t++) {
		gets += w[t].gets;
		puts += w[t].puts;
		fails += w[t].fails;
		cache_gets += w[t].cache_gets;
		firsts += w[t].firsts;
		back += w[t].charges_back;
		pages += s_td[t].pages;
		pair_bytes += s_td[t].pair_bytes;
		installs += s_td[t].installs;
	}
	for (unsigned long r = 0; r < s_nregions; r++) {
		up += sreg[r].up;
		down += sreg[r].down;
		if (sreg[r].users || harness_pamt_ref(r))
			FAIL("region %lu: %d users, count %d at the end", r,
			     sreg[r].users, harness_pamt_ref(r));
	}
	uint64_t adds = m1.add_ok - m0.add_ok, rms = m1.remove_ok - m0.remove_ok;
	/*
	 * TDX_OPERAND_BUSY is the module's answer while another SEAMCALL
	 * (here the removal work's PAGE.WBINVD or REMOVE) holds a PAMT entry
	 * the ADD or REMOVE needs; pamt.c retries it.  Those retries are
	 * counted apart: they are the module's locking, not a transition
	 * pamt.c should not have made.
	 */
	uint64_t add_busy = m1.add_busy - m0.add_busy, rm_busy = m1.remove_busy - m0.remove_busy;
	uint64_t add_err = m1.add_err - m0.add_err - add_busy;
	uint64_t rm_err = m1.remove_err - m0.remove_err - rm_busy;
	uint64_t wb_err = m1.wbinvd_err - m0.wbinvd_err;
	uint64_t busy = m1.busy_contended - m0.busy_contended;
	uint64_t reuses = firsts - adds;
	/* ADD/REMOVE beyond one ADD per 0 -> 1 without a pair and its REMOVE */
	int64_t redundant = (int64_t)add_err + (int64_t)rm_err +
			    ((int64_t)adds - (int64_t)rms) +
			    (adds > up ? (int64_t)(adds - up) : 0) +
			    (int64_t)tdxm_total_violations();

	if (firsts != up || back != down)
		FAIL("get returned 1 %llu times for %llu 0 -> 1 transitions; put returned a "
		     "charge %llu times for %llu 1 -> 0", (unsigned long long)firsts,
		     (unsigned long long)up, (unsigned long long)back, (unsigned long long)down);
	if (adds > up || adds != rms)
		FAIL("%llu PAMT.ADD, %llu PAMT.REMOVE for %llu 0 -> 1 transitions",
		     (unsigned long long)adds, (unsigned long long)rms, (unsigned long long)up);
	if (add_err || rm_err)
		FAIL("%llu failed ADD, %llu failed REMOVE", (unsigned long long)add_err,
		     (unsigned long long)rm_err);
	if (pages || pair_bytes || installs != (int64_t)firsts)
		FAIL("TD counters: %lld pages, %lld pair bytes left, %lld installs for %llu",
		     (long long)pages, (long long)pair_bytes, (long long)installs,
		     (unsigned long long)firsts);
	if (fails)
		FAIL("%llu get failures", (unsigned long long)fails);
	if (st.dynamic_bytes || st.leaked_bytes || m1.pairs_installed)
		FAIL("%llu pair bytes, %llu leaked bytes, %llu pairs in the module left",
		     (unsigned long long)st.dynamic_bytes, (unsigned long long)st.leaked_bytes,
		     (unsigned long long)m1.pairs_installed);
	bench_teardown();

	printf("{\"mode\": \"seamcalls\", \"fastpath_compiled\": %s, \"threads\": %d, "
	       "\"regions\": %lu, \"ops_per_thread\": %llu, \"gets\": %llu, \"puts\": %llu, "
	       "\"cache_gets\": %llu, \"transitions_up\": %llu, \"transitions_down\": %llu, "
	       "\"first_refs\": %llu, \"charges_returned\": %llu, "
	       "\"adds\": %llu, \"reuses\": %llu, \"removes\": %llu, "
	       "\"add_errors\": %llu, \"remove_errors\": %llu, \"add_busy_retries\": %llu, "
	       "\"remove_busy_retries\": %llu, \"wbinvd\": %llu, "
	       "\"wbinvd_errors\": %llu, \"busy_contended\": %llu, "
	       "\"pairs_pending_removal_at_end\": %llu, \"redundant\": %lld, "
	       "\"failures\": %llu, \"seconds\": %.3f, \"ok\": %s}\n",
	       dpamt_bench_fastpath() ? "true" : "false", T, s_nregions,
	       (unsigned long long)s_ops, (unsigned long long)gets, (unsigned long long)puts,
	       (unsigned long long)cache_gets, (unsigned long long)up,
	       (unsigned long long)down, (unsigned long long)firsts, (unsigned long long)back,
	       (unsigned long long)adds, (unsigned long long)reuses, (unsigned long long)rms,
	       (unsigned long long)add_err, (unsigned long long)rm_err,
	       (unsigned long long)add_busy, (unsigned long long)rm_busy,
	       (unsigned long long)(m1.wbinvd_ok - m0.wbinvd_ok), (unsigned long long)wb_err,
	       (unsigned long long)busy, (unsigned long long)pending_at_end,
	       (long long)redundant, (unsigned long long)fails, (t1 - t0) / 1e9,
	       g_failed ? "false" : "true");
	for (unsigned long r = 0; r < s_nregions; r++)
		pthread_mutex_destroy(&sreg[r].lock);
	free(sreg);
	free(s_td);
	free(w);
	return g_failed ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* (e) memory: a workload plan, checked after every get and put          */

#define MEM_BASE_PFN	512UL		/* fake TDX memory starts at 2 MiB */

struct mref {
	unsigned long region;
	unsigned int count;
};

struct mtd {
	bool live;
	struct mref *refs;
	size_t nrefs, cap;
	/* what KVM counts for the TD */
	int64_t pages, pair_bytes, installs;
};

static struct mtd *m_tds;
static size_t m_ntds;
static unsigned int *m_users;		/* per region: references held */
static bool *m_waiting;			/* released since the work last ran */
static unsigned long m_nregions, m_in_use, m_waiting_n, m_waiting_peak;
static uint64_t m_checks, m_mismatch, m_ops, m_max_pairs, m_flush_checks;
static bool m_active;

static void mem_check(const char *when, bool flushed)
{
	struct tdx_pamt_stats st;
	struct tdxm_stats ms;
	uint64_t expect = (uint64_t)(m_in_use + m_waiting_n) * PAIR_BYTES;

	tdx_pamt_get_stats(&st);
	tdxm_get_stats(&ms);
	m_checks++;
	if (flushed)
		m_flush_checks++;
	if (st.dynamic_bytes != expect || ms.pairs_installed * PAIR_BYTES != expect) {
		if (m_mismatch++ < 5)
			FAIL("%s: pamt.c reports %llu pair bytes, the module holds %llu pairs, "
			     "expected %llu bytes (%lu regions in use, %lu awaiting removal)",
			     when, (unsigned long long)st.dynamic_bytes,
			     (unsigned long long)ms.pairs_installed,
			     (unsigned long long)expect, m_in_use, m_waiting_n);
		else
			g_failed++;
	}
	if (m_in_use > m_max_pairs)
		m_max_pairs = m_in_use;
	if (m_waiting_n > m_waiting_peak)
		m_waiting_peak = m_waiting_n;
}

/* run the removal work: only the regions in use keep a pair */
static void mem_flush(void)
{
	harness_pamt_flush();
	memset(m_waiting, 0, m_nregions * sizeof(*m_waiting));
	m_waiting_n = 0;
	mem_check("after the removal work", true);
}

static void mem_teardown(void)
{
	if (!m_active)
		return;
	mem_flush();
	check_clean("mem");
	for (size_t i = 0; i < m_ntds; i++) {
		if (m_tds[i].live)
			FAIL("TD %zu still live at teardown", i);
		free(m_tds[i].refs);
	}
	free(m_tds);
	m_tds = NULL;
	m_ntds = 0;
	free(m_users);
	free(m_waiting);
	m_users = NULL;
	m_waiting = NULL;
	tdx_pamt_exit();
	harness_pamt_stop_work();
	harness_quiet(false);
	harness_mem_fini();
	m_active = false;
}

static void mem_machine(unsigned long nr_regions)
{
	mem_teardown();
	harness_mem_init(MEM_BASE_PFN, nr_regions, 1, 16);
	harness_quiet(true);
	/* the work runs when the plan says (every step), as a flush */
	harness_work_manual(true);
	if (tdx_pamt_init(MEM_BASE_PFN + nr_regions * HARNESS_REGION_PAGES))
		FAIL("tdx_pamt_init");
	/* tdx_pamt_get_stats() reports nothing before the static figures */
	tdx_pamt_set_static_info((u64)nr_regions * SZ_2M, 0, 0);
	m_nregions = nr_regions;
	m_users = calloc(nr_regions, sizeof(*m_users));
	m_waiting = calloc(nr_regions, sizeof(*m_waiting));
	m_in_use = m_waiting_n = m_waiting_peak = 0;
	m_checks = m_mismatch = m_ops = m_max_pairs = m_flush_checks = 0;
	m_active = true;
}

static struct mtd *mem_td(size_t id)
{
	if (id >= m_ntds) {
		size_t n = id + 1 > 2 * m_ntds ? id + 1 : 2 * m_ntds;

		m_tds = realloc(m_tds, n * sizeof(*m_tds));
		memset(m_tds + m_ntds, 0, (n - m_ntds) * sizeof(*m_tds));
		m_ntds = n;
	}
	return &m_tds[id];
}

/*
 * pamt.c's own sizing code arrived with "Size the static PAMT for Dynamic
 * PAMT"; trees with only the earlier patches of the series lack it.  Weak,
 * so the benchmark links against both and says where its figures came from.
 */
#pragma weak tdx_pamt_level_bytes

/* Linux 7.3's tdmr_get_pamt_sz() per level, for trees without the above */
static unsigned long level_bytes_73(u64 size, int pgsz, u16 entry, u16 bitmap_bits)
{
	u64 n = pgsz == TDX_PS_4K ? size / PAGE_SIZE :
		pgsz == TDX_PS_2M ? size / SZ_2M : size / SZ_1G;

	if (pgsz == TDX_PS_4K && bitmap_bits)
		return PAGE_ALIGN(DIV_ROUND_UP_ULL(n * bitmap_bits, BITS_PER_BYTE));
	return PAGE_ALIGN(n * entry);
}

static unsigned long level_bytes(u64 size, int pgsz, u16 entry, u16 bitmap_bits)
{
	if (tdx_pamt_level_bytes)
		return tdx_pamt_level_bytes(size, pgsz, entry, bitmap_bits);
	return level_bytes_73(size, pgsz, entry, bitmap_bits);
}

/* static figures of a host of @bytes, from pamt.c's own sizing code */
static void print_sizes(uint64_t bytes, const char *prefix)
{
	uint64_t s1g = level_bytes(bytes, TDX_PS_1G, 16, 0);
	uint64_t s2m = level_bytes(bytes, TDX_PS_2M, 16, 0);
	uint64_t s4k = level_bytes(bytes, TDX_PS_4K, 16, 0);
	uint64_t bmp = level_bytes(bytes, TDX_PS_4K, 16, 1);

	printf("%s\"sizing_code\": \"%s\", ", prefix, tdx_pamt_level_bytes ?
	       "pamt.c tdx_pamt_level_bytes()" :
	       "bench copy of Linux 7.3 tdmr_get_pamt_sz() + 1 bitmap bit per 4K "
	       "(this pamt.c has no tdx_pamt_level_bytes)");
	printf("\"host_bytes\": %llu, \"static_pamt_bytes\": %llu, "
	       "\"static_levels\": {\"1g\": %llu, \"2m\": %llu, \"4k\": %llu}, "
	       "\"dpamt_static_bytes\": %llu, \"dpamt_static_levels\": "
	       "{\"1g\": %llu, \"2m\": %llu, \"bitmap\": %llu}",
	       (unsigned long long)bytes, (unsigned long long)(s1g + s2m + s4k),
	       (unsigned long long)s1g, (unsigned long long)s2m, (unsigned long long)s4k,
	       (unsigned long long)(s1g + s2m + bmp), (unsigned long long)s1g,
	       (unsigned long long)s2m, (unsigned long long)bmp);
}

static void mem_step(const char *label)
{
	struct tdx_pamt_stats st;
	struct tdxm_stats ms;
	int64_t charged = 0, pages = 0;
	size_t live = 0;

	mem_flush();
	tdx_pamt_get_stats(&st);
	tdxm_get_stats(&ms);
	for (size_t i = 0; i < m_ntds; i++)
		if (m_tds[i].live) {
			live++;
			charged += m_tds[i].pair_bytes;
			pages += m_tds[i].pages;
		}
	if (charged < 0 || (uint64_t)charged > st.dynamic_bytes)
		FAIL("%s: %lld bytes charged to live TDs, %llu installed", label,
		     (long long)charged, (unsigned long long)st.dynamic_bytes);
	printf("{\"event\": \"step\", \"label\": \"%s\", \"live_tds\": %zu, "
	       "\"regions_in_use\": %lu, \"physical_min_bytes\": %llu, "
	       "\"pair_bytes\": %llu, \"module_pair_bytes\": %llu, "
	       "\"charged_to_live_tds_bytes\": %lld, \"pages_referenced\": %lld, "
	       "\"metadata_bytes\": %llu, \"installs\": %llu, \"removals\": %llu, "
	       "\"checks\": %llu, \"mismatches\": %llu}\n",
	       label, live, m_in_use, (unsigned long long)m_in_use * PAIR_BYTES,
	       (unsigned long long)st.dynamic_bytes,
	       (unsigned long long)ms.pairs_installed * PAIR_BYTES,
	       (long long)charged, (long long)pages,
	       (unsigned long long)st.metadata_bytes, (unsigned long long)ms.add_ok,
	       (unsigned long long)ms.remove_ok, (unsigned long long)m_checks,
	       (unsigned long long)m_mismatch);
}

static void mem_get(struct mtd *td, size_t id, unsigned long region, unsigned long count)
{
	for (unsigned long i = 0; i < count; i++) {
		/* a distinct 4K page of the region for each reference */
		unsigned long pfn = MEM_BASE_PFN + region * HARNESS_REGION_PAGES +
				    m_users[region];
		int ret = tdx_pamt_get(pfn, GFP_KERNEL_ACCOUNT, id + 1);

		if (ret < 0) {
			FAIL("get pfn %#lx failed: %d", pfn, ret);
			break;
		}
		if (m_users[region]++ == 0) {
			m_in_use++;
			if (m_waiting[region]) {
				m_waiting[region] = false;
				m_waiting_n--;
			}
			if (ret != 1)
				FAIL("get pfn %#lx: first reference, returned %d", pfn, ret);
		} else if (ret) {
			FAIL("get pfn %#lx: returned 1 on a region in use", pfn);
		}
		td->pages++;
		if (ret) {
			td->pair_bytes += PAIR_BYTES;
			td->installs++;
		}
		m_ops++;
		mem_check("get", false);
	}
}

static void mem_destroy(struct mtd *td, unsigned long id)
{
	for (size_t k = td->nrefs; k-- > 0;) {
		struct mref *mr = &td->refs[k];

		for (unsigned int i = 0; i < mr->count; i++) {
			unsigned long pfn = MEM_BASE_PFN + mr->region * HARNESS_REGION_PAGES +
					    (m_users[mr->region] - 1);
			unsigned long charge = tdx_pamt_put(pfn);

			td->pages--;
			if (--m_users[mr->region] == 0) {
				m_in_use--;
				m_waiting[mr->region] = true;
				m_waiting_n++;
				if (!charge || charge > m_ntds)
					FAIL("put pfn %#lx: last reference, charge %lu", pfn, charge);
				else
					m_tds[charge - 1].pair_bytes -= PAIR_BYTES;
			} else if (charge) {
				FAIL("put pfn %#lx: charge %lu from a put that was not the last",
				     pfn, charge);
			}
			m_ops++;
			mem_check("put", false);
		}
	}
	if (td->pages)
		FAIL("TD %lu: %lld pages after destroy", id, (long long)td->pages);
	td->live = false;
	td->nrefs = 0;
}

static int mode_mem(void)
{
	char line[512], label[256];

	while (fgets(line, sizeof(line), stdin)) {
		unsigned long a, b, c;
		unsigned long long bytes;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "machine %lu", &a) == 1) {
			struct tdx_pamt_stats st;

			mem_machine(a);
			printf("{\"event\": \"machine\", \"regions\": %lu, ", a);
			print_sizes((uint64_t)a * SZ_2M, "");
			tdx_pamt_get_stats(&st);
			printf(", \"metadata_bytes\": %llu}\n",
			       (unsigned long long)st.metadata_bytes);
		} else if (sscanf(line, "td %lu", &a) == 1) {
			struct mtd *td = mem_td(a);

			if (!m_active || td->live) {
				FAIL("plan: bad td %lu", a);
				continue;
			}
			td->live = true;
			td->nrefs = 0;
			td->pages = td->pair_bytes = td->installs = 0;
		} else if (sscanf(line, "get %lu %lu %lu", &a, &b, &c) == 3) {
			struct mtd *td = a < m_ntds ? &m_tds[a] : NULL;

			if (!td || !td->live || b >= m_nregions ||
			    m_users[b] + c > HARNESS_REGION_PAGES) {
				FAIL("plan: bad get %lu %lu %lu", a, b, c);
				continue;
			}
			mem_get(td, a, b, c);
			if (td->nrefs == td->cap) {
				td->cap = td->cap ? 2 * td->cap : 64;
				td->refs = realloc(td->refs, td->cap * sizeof(*td->refs));
			}
			td->refs[td->nrefs++] = (struct mref){ b, (unsigned int)c };
		} else if (sscanf(line, "destroy %lu", &a) == 1) {
			struct mtd *td = a < m_ntds ? &m_tds[a] : NULL;

			if (!td || !td->live) {
				FAIL("plan: bad destroy %lu", a);
				continue;
			}
			mem_destroy(td, a);
		} else if (sscanf(line, "step %255s", label) == 1) {
			mem_step(label);
		} else if (sscanf(line, "sizes %llu", &bytes) == 1) {
			struct tdx_pamt_stats st;

			if (m_active) {
				FAIL("plan: sizes with a machine set up");
				continue;
			}
			/* pamt.c's metadata for a host whose memory ends at @bytes */
			if (tdx_pamt_init(bytes / PAGE_SIZE))
				FAIL("tdx_pamt_init for %llu bytes", bytes);
			tdx_pamt_set_static_info(bytes, 0, 0);
			tdx_pamt_get_stats(&st);
			tdx_pamt_exit();
			printf("{\"event\": \"sizes\", ");
			print_sizes(bytes, "");
			printf(", \"metadata_bytes\": %llu}\n",
			       (unsigned long long)st.metadata_bytes);
		} else if (!strncmp(line, "end", 3)) {
			if (m_active && m_in_use)
				FAIL("%lu regions still in use at the end", m_in_use);
			if (m_active)
				mem_flush();
			printf("{\"event\": \"end\", \"ops\": %llu, \"checks\": %llu, "
			       "\"checks_after_work\": %llu, \"mismatches\": %llu, "
			       "\"max_regions_in_use\": %llu, \"max_awaiting_removal\": %lu}\n",
			       (unsigned long long)m_ops, (unsigned long long)m_checks,
			       (unsigned long long)m_flush_checks,
			       (unsigned long long)m_mismatch, (unsigned long long)m_max_pairs,
			       m_waiting_peak);
			mem_teardown();
		} else {
			FAIL("plan: cannot parse: %s", line);
		}
	}
	mem_teardown();
	printf("{\"event\": \"done\", \"ok\": %s}\n", g_failed ? "false" : "true");
	return g_failed ? 1 : 0;
}

/* ------------------------------------------------------------------ */

/* one loop for callgrind: --toggle-collect on its function */
static int mode_cg(void)
{
	const char *loop = g_argc > 2 ? g_argv[2] : "dpamt";
	uint64_t n = g_argc > 3 ? strtoull(g_argv[3], NULL, 0) : 100000;
	struct tdx_pamt_cache cache;
	unsigned long pfn;
	uint64_t fails = 0;

	bench_setup(16);
	pfn = dpamt_bench_pfn(1, 0);
	tdx_pamt_cache_init(&cache);
	if (tdx_pamt_get(pfn, GFP_KERNEL_ACCOUNT, 1) != 1 ||
	    tdx_pamt_cache_topup(&cache, 1, GFP_KERNEL_ACCOUNT))
		FAIL("cg setup");
	bare_get(pfn, 0, 1);
	/* first calls resolve PLT entries etc. outside the measured call */
	dpamt_bench_getput(pfn, 16, false, true);
	bare_getput(pfn, 16, false, true);
	loop_cached(pfn, 16, &cache);
	loop_kvm(pfn, 16);
	loop_kvm_percpu(pfn, 16);
	if (!strcmp(loop, "bare"))
		fails = bare_getput(pfn, n, false, false);
	else if (!strcmp(loop, "bare-acct"))
		fails = bare_getput(pfn, n, false, true);
	else if (!strcmp(loop, "dpamt"))
		fails = dpamt_bench_getput(pfn, n, false, false);
	else if (!strcmp(loop, "dpamt-acct"))
		fails = dpamt_bench_getput(pfn, n, false, true);
	else if (!strcmp(loop, "cached"))
		fails = loop_cached(pfn, n, &cache);
	else if (!strcmp(loop, "kvm"))
		fails = loop_kvm(pfn, n);
	else if (!strcmp(loop, "kvm-percpu"))
		fails = loop_kvm_percpu(pfn, n);
	else
		FAIL("cg: unknown loop %s", loop);
	if (fails)
		FAIL("cg: %llu failures", (unsigned long long)fails);
	tdx_pamt_put(pfn);
	bare_put(pfn);
	tdx_pamt_cache_free(&cache);
	bench_teardown();
	printf("{\"mode\": \"cg\", \"loop\": \"%s\", \"n\": %llu, \"ok\": %s}\n", loop,
	       (unsigned long long)n, g_failed ? "false" : "true");
	return g_failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	g_argc = argc;
	g_argv = argv;
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (argc < 2) {
		fprintf(stderr, "usage: %s fastpath|scaling|seamcalls|mem|cg [key=value...]\n",
			argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "fastpath"))
		return mode_fastpath();
	if (!strcmp(argv[1], "scaling"))
		return mode_scaling();
	if (!strcmp(argv[1], "seamcalls"))
		return mode_seamcalls();
	if (!strcmp(argv[1], "mem"))
		return mode_mem();
	if (!strcmp(argv[1], "cg"))
		return mode_cg();
	fprintf(stderr, "%s: unknown mode %s\n", argv[0], argv[1]);
	return 2;
}
