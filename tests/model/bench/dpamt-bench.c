// SPDX-License-Identifier: GPL-2.0
/*
 * dpamt-bench.c - benchmark of the REAL arch/x86/virt/vmx/tdx/pamt.c,
 * linked against the userspace harness (tests/model, `make lib`): once
 * with the fast path (bench/libdpamt-harness.a) and once without it
 * (bench-nofast/libdpamt-harness.a).  Each mode prints one JSON document
 * (mem: one JSON object per line) on stdout; report.py runs the modes,
 * merges the documents into results.json and draws the plots.
 *
 *   dpamt-bench fastpath  [reps=N] [iters=N]
 *       get/put fast path (a reference held, so no SEAMCALL) against a
 *       bare atomic increment/decrement in a loop of the same shape;
 *       plus the slow path (every get installs, every put removes).
 *   dpamt-bench scaling   [threads=1,2,4,8] [ms=N] [reps=N]
 *       get/put pairs per second, 1..N threads, on one shared region, on
 *       distinct regions whose counters share a cache line, and on
 *       distinct regions whose counters do not; bare atomics alongside.
 *   dpamt-bench seamcalls [threads=N] [ops=N] [regions=N] [seed=N]
 *       random get/put workload; PAMT.ADD/REMOVE counted by the TDX
 *       module model against the ideal (one ADD per 0->1 and one REMOVE
 *       per 1->0 transition of the per-region user counts the benchmark
 *       keeps itself, updated under a per-region benchmark lock so they
 *       are linearised with the calls).
 *   dpamt-bench mem < PLAN
 *       drives pamt.c through a workload plan (report.py writes it) and
 *       checks after EVERY get and put that the pair memory pamt.c
 *       reports, the pairs the module model holds and the physical
 *       minimum (8 KiB per 2 MiB region holding a referenced 4K page,
 *       counted here) are equal.  Plan lines:
 *         machine NREGIONS      fresh fake machine of NREGIONS x 2 MiB
 *         td ID                 a TD (a pamt owner with counters)
 *         get ID REGION COUNT   COUNT references to 4K pages of REGION
 *         destroy ID            put every reference of the TD
 *         step LABEL            print the figures now
 *         sizes BYTES           real-code static PAMT / DPAMT static part /
 *                               refcount metadata of a BYTES host (no
 *                               machine needed: pamt.c sizes its refcounts
 *                               by the end pfn)
 *         end                   final checks
 *   dpamt-bench cg-fast|cg-bare N
 *       N fast-path get/put pairs (or bare pairs) for callgrind
 *       (--toggle-collect=loop_dpamt / loop_bare).
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

/* ---- common checks ---- */

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

/* ---- the loops: same shape for the real functions and the baseline ---- */

#define GETPUT_LOOP(GET, PUT) do {					\
	uint64_t __i, __fails = 0;					\
	for (__i = 0; __i < n; __i++) {					\
		if (GET(pfn, NULL, owner))				\
			__fails++;					\
		else							\
			PUT(pfn, owner);				\
	}								\
	return __fails;							\
} while (0)

__attribute__((noipa))
uint64_t loop_dpamt(unsigned long pfn, uint64_t n, struct tdx_pamt_owner *owner)
{
	GETPUT_LOOP(tdx_pamt_get, tdx_pamt_put);
}

__attribute__((noipa))
uint64_t loop_bare(unsigned long pfn, uint64_t n, struct tdx_pamt_owner *owner)
{
	GETPUT_LOOP(bare_get, bare_put);
}

/* n gets, then (separately timed) n puts: the cost of each half */
__attribute__((noipa))
uint64_t loop_dpamt_get(unsigned long pfn, uint64_t n, struct tdx_pamt_owner *owner)
{
	uint64_t fails = 0;

	for (uint64_t i = 0; i < n; i++)
		if (tdx_pamt_get(pfn, NULL, owner))
			fails++;
	return fails;
}

__attribute__((noipa))
void loop_dpamt_put(unsigned long pfn, uint64_t n, struct tdx_pamt_owner *owner)
{
	for (uint64_t i = 0; i < n; i++)
		tdx_pamt_put(pfn, owner);
}

__attribute__((noipa))
uint64_t loop_bare_get(unsigned long pfn, uint64_t n, struct tdx_pamt_owner *owner)
{
	uint64_t fails = 0;

	for (uint64_t i = 0; i < n; i++)
		if (bare_get(pfn, NULL, owner))
			fails++;
	return fails;
}

__attribute__((noipa))
void loop_bare_put(unsigned long pfn, uint64_t n, struct tdx_pamt_owner *owner)
{
	for (uint64_t i = 0; i < n; i++)
		bare_put(pfn, owner);
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

static uint64_t seam_adds(void)
{
	uint64_t a, r;

	dpamt_bench_seamcalls(&a, &r);
	return a;
}

static uint64_t seam_total(void)
{
	uint64_t a, r;

	dpamt_bench_seamcalls(&a, &r);
	return a + r;
}

/* ------------------------------------------------------------------ */
/* (a) fast path                                                       */

enum {
	C_BARE, C_DPAMT, C_DPAMT_OWNER, C_INLINE,
	C_BARE_GET, C_BARE_PUT, C_DPAMT_GET, C_DPAMT_PUT,	/* split timings */
	C_NR
};
static const char *const cfg_names[C_NR] = {
	"bare_atomic_call", "dpamt_getput", "dpamt_getput_owner", "bare_atomic_inline",
	"bare_get", "bare_put", "dpamt_get", "dpamt_put",
};

/* one timed run of @c; stores ns per operation in cpu[] and wall[] */
static uint64_t fast_run(int c, unsigned long pfn, uint64_t iters,
			 struct tdx_pamt_owner *owner, int *inline_ctr,
			 double *cpu, double *wall)
{
	uint64_t fails = 0, w0, c0, w1, c1, ops = 2 * iters;

	switch (c) {
	case C_BARE_GET: case C_BARE_PUT:	/* a get half and a put half */
	case C_DPAMT_GET: case C_DPAMT_PUT: {
		bool dp = c == C_DPAMT_GET || c == C_DPAMT_PUT;
		uint64_t cg, wg;

		w0 = now_ns(); c0 = cpu_ns();
		fails += dp ? loop_dpamt_get(pfn, iters, NULL) : loop_bare_get(pfn, iters, NULL);
		c1 = cpu_ns(); w1 = now_ns();
		cg = c1 - c0; wg = w1 - w0;
		w0 = now_ns(); c0 = cpu_ns();
		if (dp)
			loop_dpamt_put(pfn, iters, NULL);
		else
			loop_bare_put(pfn, iters, NULL);
		c1 = cpu_ns(); w1 = now_ns();
		if (c == C_BARE_GET || c == C_DPAMT_GET) {
			*cpu = (double)cg / iters;
			*wall = (double)wg / iters;
		} else {
			*cpu = (double)(c1 - c0) / iters;
			*wall = (double)(w1 - w0) / iters;
		}
		return fails;
	}
	}
	w0 = now_ns(); c0 = cpu_ns();
	switch (c) {
	case C_BARE:
		fails += loop_bare(pfn, iters, NULL);
		break;
	case C_DPAMT:
		fails += loop_dpamt(pfn, iters, NULL);
		break;
	case C_DPAMT_OWNER:
		fails += loop_dpamt(pfn, iters, owner);
		break;
	case C_INLINE:
		loop_inline(inline_ctr, iters);
		break;
	}
	c1 = cpu_ns(); w1 = now_ns();
	*cpu = (double)(c1 - c0) / ops;
	*wall = (double)(w1 - w0) / ops;
	return fails;
}

static int mode_fastpath(void)
{
	uint64_t reps = opt_u64("reps", 101), iters = opt_u64("iters", 200000);
	uint64_t churn_reps = opt_u64("churn_reps", reps / 4 + 1);
	uint64_t churn_iters = opt_u64("churn_iters", iters / 20 + 1);
	struct tdx_pamt_owner_counters ctrs = { 0 };
	struct tdx_pamt_owner *owner;
	unsigned long pfn, pfn_idle;
	double *s[C_NR], *sw[C_NR], *churn, *churn_wall, dummy;
	uint64_t fails = 0, seam0, seam_hold, churn_seam;
	int inline_ctr = 0;

	bench_setup(64);
	owner = tdx_pamt_owner_create(&ctrs);
	pfn = dpamt_bench_pfn(1, 0);
	pfn_idle = dpamt_bench_pfn(9, 0);
	if (!owner || tdx_pamt_get(pfn, NULL, NULL))	/* hold: fast path only */
		FAIL("fastpath setup");

	for (int c = 0; c < C_NR; c++) {
		s[c] = calloc(reps, sizeof(double));
		sw[c] = calloc(reps, sizeof(double));
	}
	churn = calloc(churn_reps, sizeof(double));
	churn_wall = calloc(churn_reps, sizeof(double));

	seam0 = seam_total();
	/* warm up caches, branch predictors, the CPU clock */
	for (int w = 0; w < 3; w++)
		for (int c = 0; c < C_NR; c++)
			fails += fast_run(c, pfn, iters, owner, &inline_ctr, &dummy, &dummy);
	for (uint64_t r = 0; r < reps; r++) {
		/* interleaved, rotating order: drift hits every config alike */
		for (int k = 0; k < C_NR; k++) {
			int c = (int)((k + r) % C_NR);

			/* the split timings come in pairs: run them as one */
			if (c == C_BARE_PUT || c == C_DPAMT_PUT)
				continue;
			fails += fast_run(c, pfn, iters, owner, &inline_ctr, &s[c][r], &sw[c][r]);
			if (c == C_BARE_GET || c == C_DPAMT_GET)
				fails += fast_run(c + 1, pfn, iters, owner, &inline_ctr,
						  &s[c + 1][r], &sw[c + 1][r]);
		}
	}
	seam_hold = seam_total() - seam0;
	if (seam_hold)
		FAIL("%llu SEAMCALLs while a reference was held",
		     (unsigned long long)seam_hold);
	if (ctrs.pages != 0)
		FAIL("owner pages %llu after balanced get/put",
		     (unsigned long long)ctrs.pages);
	if (harness_pamt_ref(1) != 1)
		FAIL("refcount %d after balanced get/put", harness_pamt_ref(1));

	/* slow path: the region is idle, every get installs, every put removes */
	seam0 = seam_adds();
	for (uint64_t r = 0; r < churn_reps; r++) {
		uint64_t w0 = now_ns(), c0 = cpu_ns();

		fails += loop_dpamt(pfn_idle, churn_iters, NULL);
		churn[r] = (double)(cpu_ns() - c0) / churn_iters;	/* ns per get+put */
		churn_wall[r] = (double)(now_ns() - w0) / churn_iters;
	}
	churn_seam = seam_adds() - seam0;
	if (churn_seam != churn_reps * churn_iters)
		FAIL("churn: %llu PAMT.ADD for %llu idle->busy transitions",
		     (unsigned long long)churn_seam,
		     (unsigned long long)(churn_reps * churn_iters));
	if (fails)
		FAIL("%llu get failures", (unsigned long long)fails);

	tdx_pamt_put(pfn, NULL);
	tdx_pamt_owner_destroy(owner);
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
	printf("},\n \"churn_iters\": %llu, \"churn_seamcalls_add\": %llu,\n ",
	       (unsigned long long)churn_iters, (unsigned long long)churn_seam);
	j_array("churn_ns_per_getput", churn, (int)churn_reps, ",\n ");
	j_array("churn_ns_per_getput_wall", churn_wall, (int)churn_reps, ",\n");
	printf(" \"seamcalls_while_held\": %llu, \"failures\": %llu, \"ok\": %s}\n",
	       (unsigned long long)seam_hold, (unsigned long long)fails,
	       g_failed ? "false" : "true");
	for (int c = 0; c < C_NR; c++) {
		free(s[c]);
		free(sw[c]);
	}
	free(churn);
	free(churn_wall);
	return g_failed ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* (b) scaling                                                          */

enum { P_SHARED, P_ADJACENT, P_SPREAD, P_NR };
static const char *const place_names[P_NR] = {
	"shared", "distinct_same_line", "distinct_own_line",
};
enum { I_DPAMT, I_BARE, I_NR };
static const char *const impl_names[I_NR] = { "dpamt", "bare_atomic" };

/* counters are 4-byte atomics: 16 regions per 64-byte cache line */
#define REGIONS_PER_LINE	16

struct worker {
	pthread_t tid;
	int impl;
	unsigned long pfn;
	uint64_t ops, fails, cpu;
};

static pthread_barrier_t w_start;
static int w_stop;

static void *scaling_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t ops = 0, fails = 0, c0;

	pthread_barrier_wait(&w_start);
	c0 = cpu_ns();
	while (!__atomic_load_n(&w_stop, RLX)) {
		if (w->impl == I_DPAMT)
			fails += loop_dpamt(w->pfn, 256, NULL);
		else
			fails += loop_bare(w->pfn, 256, NULL);
		ops += 256;
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
	default:
		return 1 + (unsigned long)t * REGIONS_PER_LINE;
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
	int maxt = 1;
	uint64_t seam0, fails = 0;

	for (int i = 0; i < nt; i++)
		maxt = threads[i] > maxt ? threads[i] : maxt;
	bench_setup((unsigned long)(maxt + 2) * REGIONS_PER_LINE);
	/* one held reference per region used: the loops run the fast path */
	for (int p = 0; p < P_NR; p++)
		for (int t = 0; t < maxt; t++) {
			unsigned long r = place_region(p, t);

			if (harness_pamt_ref(r) == 0 &&
			    tdx_pamt_get(dpamt_bench_pfn(r, 0), NULL, NULL))
				FAIL("scaling setup");
		}
	seam0 = seam_total();

	printf("{\"mode\": \"scaling\", \"fastpath_compiled\": %s, \"duration_ms\": %llu, "
	       "\"reps\": %llu, \"unit\": \"million get/put pairs per second, all threads\", "
	       "\"results\": [",
	       dpamt_bench_fastpath() ? "true" : "false",
	       (unsigned long long)ms, (unsigned long long)reps);
	int first = 1;
	for (int p = 0; p < P_NR; p++)
		for (int im = 0; im < I_NR; im++)
			for (int ti = 0; ti < nt; ti++) {
				int T = threads[ti];
				double *mops = calloc(reps, sizeof(double));
				double *cpp = calloc(reps, sizeof(double));
				struct worker *w = calloc(T, sizeof(*w));

				for (uint64_t r = 0; r < reps; r++) {
					struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };
					uint64_t t0, t1, ops = 0, cpu = 0;

					pthread_barrier_init(&w_start, NULL, T + 1);
					__atomic_store_n(&w_stop, 0, RLX);
					for (int t = 0; t < T; t++) {
						w[t].impl = im;
						/* page t of the region: distinct pfns, same counter */
						w[t].pfn = dpamt_bench_pfn(place_region(p, t), t);
						pthread_create(&w[t].tid, NULL, scaling_worker, &w[t]);
					}
					pthread_barrier_wait(&w_start);
					t0 = now_ns();
					nanosleep(&d, NULL);
					__atomic_store_n(&w_stop, 1, RLX);
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
	if (seam_total() != seam0)
		FAIL("SEAMCALLs while references were held");
	if (fails)
		FAIL("%llu get failures", (unsigned long long)fails);
	for (int p = 0; p < P_NR; p++)
		for (int t = 0; t < maxt; t++) {
			unsigned long r = place_region(p, t);

			if (harness_pamt_ref(r) > 0)
				tdx_pamt_put(dpamt_bench_pfn(r, 0), NULL);
		}
	{
		struct tdx_pamt_stats st;

		tdx_pamt_get_stats(&st);
		if (st.dynamic_bytes)
			FAIL("%llu pair bytes left", (unsigned long long)st.dynamic_bytes);
	}
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
	uint64_t ideal_add, ideal_remove;
} __attribute__((aligned(64)));

static struct sregion *sreg;
static unsigned long s_nregions;
static uint64_t s_ops;

struct sworker {
	pthread_t tid;
	int id;
	uint64_t seed;
	uint64_t gets, puts, fails, cache_gets;
	struct tdx_pamt_owner_counters ctrs;
	struct tdx_pamt_owner *owner;
};

static void s_put(struct sworker *w, unsigned long pfn)
{
	unsigned long r = harness_pfn_region(pfn);

	pthread_mutex_lock(&sreg[r].lock);
	tdx_pamt_put(pfn, w->owner);
	if (--sreg[r].users == 0)
		sreg[r].ideal_remove++;
	pthread_mutex_unlock(&sreg[r].lock);
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
			if (use_cache && tdx_pamt_cache_topup(&cache, 1))
				FAIL("cache topup");
			pthread_mutex_lock(&sreg[r].lock);
			ret = tdx_pamt_get(pfn, use_cache ? &cache : NULL, w->owner);
			if (!ret && sreg[r].users++ == 0)
				sreg[r].ideal_add++;
			pthread_mutex_unlock(&sreg[r].lock);
			if (ret) {
				w->fails++;
				continue;
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
	struct tdxm_stats m0, m1;
	struct tdx_pamt_stats st;
	uint64_t ideal_add = 0, ideal_rm = 0, gets = 0, puts = 0, fails = 0, cache_gets = 0;
	uint64_t charged_installs = 0, charged_bytes = 0, owner_pages = 0, t0, t1;

	s_ops = opt_u64("ops", 200000);
	s_nregions = opt_u64("regions", 64);
	bench_setup(s_nregions);
	sreg = calloc(s_nregions, sizeof(*sreg));
	for (unsigned long r = 0; r < s_nregions; r++)
		pthread_mutex_init(&sreg[r].lock, NULL);
	w = calloc(T, sizeof(*w));
	tdxm_get_stats(&m0);
	t0 = now_ns();
	for (int t = 0; t < T; t++) {
		w[t].id = t;
		w[t].seed = seed * 1000 + t;
		w[t].owner = tdx_pamt_owner_create(&w[t].ctrs);
		if (!w[t].owner)
			FAIL("owner");
		pthread_create(&w[t].tid, NULL, seam_worker, &w[t]);
	}
	for (int t = 0; t < T; t++)
		pthread_join(w[t].tid, NULL);
	/* only now: a pair charged to one thread's owner may be removed by another */
	for (int t = 0; t < T; t++) {
		gets += w[t].gets;
		puts += w[t].puts;
		fails += w[t].fails;
		cache_gets += w[t].cache_gets;
		charged_installs += w[t].ctrs.pair_installs;
		charged_bytes += w[t].ctrs.pair_bytes;
		owner_pages += w[t].ctrs.pages;
		tdx_pamt_owner_destroy(w[t].owner);
	}
	t1 = now_ns();
	tdxm_get_stats(&m1);
	tdx_pamt_get_stats(&st);
	for (unsigned long r = 0; r < s_nregions; r++) {
		ideal_add += sreg[r].ideal_add;
		ideal_rm += sreg[r].ideal_remove;
		if (sreg[r].users || harness_pamt_ref(r))
			FAIL("region %lu: %d users, refcount %d at the end", r,
			     sreg[r].users, harness_pamt_ref(r));
	}
	uint64_t adds = m1.add_ok - m0.add_ok, rms = m1.remove_ok - m0.remove_ok;
	uint64_t add_err = m1.add_err - m0.add_err, rm_err = m1.remove_err - m0.remove_err;

	if (adds != ideal_add || rms != ideal_rm)
		FAIL("SEAMCALLs %llu ADD / %llu REMOVE, ideal %llu / %llu",
		     (unsigned long long)adds, (unsigned long long)rms,
		     (unsigned long long)ideal_add, (unsigned long long)ideal_rm);
	if (add_err || rm_err)
		FAIL("%llu failed ADD, %llu failed REMOVE", (unsigned long long)add_err,
		     (unsigned long long)rm_err);
	if (st.pair_installs != adds || st.pair_removals != rms)
		FAIL("pamt.c counts %llu installs / %llu removals, the module %llu / %llu",
		     (unsigned long long)st.pair_installs, (unsigned long long)st.pair_removals,
		     (unsigned long long)adds, (unsigned long long)rms);
	if (charged_installs != adds || charged_bytes || owner_pages)
		FAIL("owner counters: %llu installs charged (of %llu), %llu bytes and %llu pages left",
		     (unsigned long long)charged_installs, (unsigned long long)adds,
		     (unsigned long long)charged_bytes, (unsigned long long)owner_pages);
	if (fails)
		FAIL("%llu get failures", (unsigned long long)fails);
	if (st.dynamic_bytes || st.leaked_bytes)
		FAIL("%llu pair bytes, %llu leaked bytes left",
		     (unsigned long long)st.dynamic_bytes, (unsigned long long)st.leaked_bytes);
	bench_teardown();

	printf("{\"mode\": \"seamcalls\", \"fastpath_compiled\": %s, \"threads\": %d, "
	       "\"regions\": %lu, \"ops_per_thread\": %llu, \"gets\": %llu, \"puts\": %llu, "
	       "\"cache_gets\": %llu, \"ideal_adds\": %llu, \"ideal_removes\": %llu, "
	       "\"adds\": %llu, \"removes\": %llu, \"add_errors\": %llu, \"remove_errors\": %llu, "
	       "\"redundant\": %lld, \"pamt_installs\": %llu, \"pamt_removals\": %llu, "
	       "\"owner_installs_charged\": %llu, \"failures\": %llu, \"seconds\": %.3f, "
	       "\"ok\": %s}\n",
	       dpamt_bench_fastpath() ? "true" : "false", T, s_nregions,
	       (unsigned long long)s_ops, (unsigned long long)gets, (unsigned long long)puts,
	       (unsigned long long)cache_gets,
	       (unsigned long long)ideal_add, (unsigned long long)ideal_rm,
	       (unsigned long long)adds, (unsigned long long)rms,
	       (unsigned long long)add_err, (unsigned long long)rm_err,
	       (long long)((adds + rms) - (ideal_add + ideal_rm)),
	       (unsigned long long)st.pair_installs, (unsigned long long)st.pair_removals,
	       (unsigned long long)charged_installs, (unsigned long long)fails,
	       (t1 - t0) / 1e9, g_failed ? "false" : "true");
	for (unsigned long r = 0; r < s_nregions; r++)
		pthread_mutex_destroy(&sreg[r].lock);
	free(sreg);
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
	struct tdx_pamt_owner *owner;
	/* pamt.c keeps a pointer to it: must not move when m_tds grows */
	struct tdx_pamt_owner_counters *ctrs;
	struct mref *refs;
	size_t nrefs, cap;
	uint64_t pages;
};

static struct mtd *m_tds;
static size_t m_ntds;
static unsigned int *m_users;		/* per region: references held */
static unsigned long m_nregions, m_in_use;
static uint64_t m_checks, m_mismatch, m_ops, m_max_pairs;
static bool m_active;

static void mem_check(const char *when)
{
	struct tdx_pamt_stats st;
	struct tdxm_stats ms;
	uint64_t phys_min = (uint64_t)m_in_use * PAIR_BYTES;

	tdx_pamt_get_stats(&st);
	tdxm_get_stats(&ms);
	m_checks++;
	if (st.dynamic_bytes != phys_min || ms.pairs_installed * PAIR_BYTES != phys_min) {
		if (m_mismatch++ < 5)
			FAIL("%s: pamt.c reports %llu pair bytes, the module holds %llu pairs, "
			     "physical minimum %llu bytes (%lu regions)", when,
			     (unsigned long long)st.dynamic_bytes,
			     (unsigned long long)ms.pairs_installed,
			     (unsigned long long)phys_min, m_in_use);
		else
			g_failed++;
	}
	if (m_in_use > m_max_pairs)
		m_max_pairs = m_in_use;
}

static void mem_teardown(void)
{
	if (!m_active)
		return;
	check_clean("mem");
	for (size_t i = 0; i < m_ntds; i++) {
		if (m_tds[i].live)
			FAIL("TD %zu still live at teardown", i);
		free(m_tds[i].refs);
		free(m_tds[i].ctrs);
	}
	free(m_tds);
	m_tds = NULL;
	m_ntds = 0;
	free(m_users);
	m_users = NULL;
	tdx_pamt_exit();
	harness_quiet(false);
	harness_mem_fini();
	m_active = false;
}

static void mem_machine(unsigned long nr_regions)
{
	mem_teardown();
	harness_mem_init(MEM_BASE_PFN, nr_regions, 1, 16);
	harness_truth_reset();
	harness_quiet(true);
	if (tdx_pamt_init(MEM_BASE_PFN + nr_regions * HARNESS_REGION_PAGES))
		FAIL("tdx_pamt_init");
	m_nregions = nr_regions;
	m_users = calloc(nr_regions, sizeof(*m_users));
	m_in_use = 0;
	m_checks = m_mismatch = m_ops = m_max_pairs = 0;
	m_active = true;
}

static struct mtd *mem_td(size_t id)
{
	if (id >= m_ntds) {
		size_t n = id + 1 > 2 * m_ntds ? id + 1 : 2 * m_ntds;

		m_tds = realloc(m_tds, n * sizeof(*m_tds));
		memset(m_tds + m_ntds, 0, (n - m_ntds) * sizeof(*m_tds));
		for (size_t i = m_ntds; i < n; i++)
			m_tds[i].ctrs = calloc(1, sizeof(*m_tds[i].ctrs));
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
	uint64_t charged = 0, pages = 0;
	size_t live = 0;

	mem_check(label);
	tdx_pamt_get_stats(&st);
	tdxm_get_stats(&ms);
	for (size_t i = 0; i < m_ntds; i++)
		if (m_tds[i].live) {
			live++;
			charged += m_tds[i].ctrs->pair_bytes;
			pages += m_tds[i].ctrs->pages;
		}
	if (charged > st.dynamic_bytes)
		FAIL("%s: %llu bytes charged to live TDs > %llu installed", label,
		     (unsigned long long)charged, (unsigned long long)st.dynamic_bytes);
	printf("{\"event\": \"step\", \"label\": \"%s\", \"live_tds\": %zu, "
	       "\"regions_in_use\": %lu, \"physical_min_bytes\": %llu, "
	       "\"pair_bytes\": %llu, \"module_pair_bytes\": %llu, "
	       "\"charged_to_live_tds_bytes\": %llu, \"pages_referenced\": %llu, "
	       "\"metadata_bytes\": %llu, \"installs\": %llu, \"removals\": %llu, "
	       "\"checks\": %llu, \"mismatches\": %llu}\n",
	       label, live, m_in_use, (unsigned long long)m_in_use * PAIR_BYTES,
	       (unsigned long long)st.dynamic_bytes,
	       (unsigned long long)ms.pairs_installed * PAIR_BYTES,
	       (unsigned long long)charged, (unsigned long long)pages,
	       (unsigned long long)st.metadata_bytes, (unsigned long long)st.pair_installs,
	       (unsigned long long)st.pair_removals, (unsigned long long)m_checks,
	       (unsigned long long)m_mismatch);
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
			mem_machine(a);
			printf("{\"event\": \"machine\", \"regions\": %lu, ", a);
			print_sizes((uint64_t)a * SZ_2M, "");
			{
				struct tdx_pamt_stats st;

				tdx_pamt_get_stats(&st);
				printf(", \"metadata_bytes\": %llu}\n",
				       (unsigned long long)st.metadata_bytes);
			}
		} else if (sscanf(line, "td %lu", &a) == 1) {
			struct mtd *td = mem_td(a);

			if (!m_active || td->live) {
				FAIL("plan: bad td %lu", a);
				continue;
			}
			memset(td->ctrs, 0, sizeof(*td->ctrs));
			td->owner = tdx_pamt_owner_create(td->ctrs);
			td->live = true;
			td->nrefs = 0;
			td->pages = 0;
		} else if (sscanf(line, "get %lu %lu %lu", &a, &b, &c) == 3) {
			struct mtd *td = a < m_ntds ? &m_tds[a] : NULL;

			if (!td || !td->live || b >= m_nregions ||
			    m_users[b] + c > HARNESS_REGION_PAGES) {
				FAIL("plan: bad get %lu %lu %lu", a, b, c);
				continue;
			}
			for (unsigned long i = 0; i < c; i++) {
				/* a distinct 4K page of the region for each reference */
				unsigned long pfn = MEM_BASE_PFN + b * HARNESS_REGION_PAGES +
						    m_users[b];

				if (tdx_pamt_get(pfn, NULL, td->owner)) {
					FAIL("get pfn %#lx failed", pfn);
					break;
				}
				if (m_users[b]++ == 0)
					m_in_use++;
				m_ops++;
				mem_check("get");
			}
			if (td->nrefs == td->cap) {
				td->cap = td->cap ? 2 * td->cap : 64;
				td->refs = realloc(td->refs, td->cap * sizeof(*td->refs));
			}
			td->refs[td->nrefs++] = (struct mref){ b, (unsigned int)c };
			td->pages += c;
		} else if (sscanf(line, "destroy %lu", &a) == 1) {
			struct mtd *td = a < m_ntds ? &m_tds[a] : NULL;

			if (!td || !td->live) {
				FAIL("plan: bad destroy %lu", a);
				continue;
			}
			for (size_t k = td->nrefs; k-- > 0;) {
				struct mref *mr = &td->refs[k];

				for (unsigned int i = 0; i < mr->count; i++) {
					unsigned long pfn = MEM_BASE_PFN +
						mr->region * HARNESS_REGION_PAGES +
						(m_users[mr->region] - 1);

					tdx_pamt_put(pfn, td->owner);
					if (--m_users[mr->region] == 0)
						m_in_use--;
					m_ops++;
					mem_check("put");
				}
			}
			if (td->ctrs->pages)
				FAIL("TD %lu: %llu pages after destroy", a,
				     (unsigned long long)td->ctrs->pages);
			tdx_pamt_owner_destroy(td->owner);
			td->owner = NULL;
			td->live = false;
			td->nrefs = 0;
		} else if (sscanf(line, "step %255s", label) == 1) {
			mem_step(label);
		} else if (sscanf(line, "sizes %llu", &bytes) == 1) {
			struct tdx_pamt_stats st;

			if (m_active) {
				FAIL("plan: sizes with a machine set up");
				continue;
			}
			/* pamt.c's refcount array for a host whose memory ends at @bytes */
			if (tdx_pamt_init(bytes / PAGE_SIZE))
				FAIL("tdx_pamt_init for %llu bytes", bytes);
			tdx_pamt_get_stats(&st);
			tdx_pamt_exit();
			printf("{\"event\": \"sizes\", ");
			print_sizes(bytes, "");
			printf(", \"metadata_bytes\": %llu}\n",
			       (unsigned long long)st.metadata_bytes);
		} else if (!strncmp(line, "end", 3)) {
			if (m_active && m_in_use)
				FAIL("%lu regions still in use at the end", m_in_use);
			printf("{\"event\": \"end\", \"ops\": %llu, \"checks\": %llu, "
			       "\"mismatches\": %llu, \"max_regions_in_use\": %llu}\n",
			       (unsigned long long)m_ops, (unsigned long long)m_checks,
			       (unsigned long long)m_mismatch, (unsigned long long)m_max_pairs);
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

static int mode_cg(bool fast)
{
	uint64_t n = g_argc > 2 ? strtoull(g_argv[2], NULL, 0) : 100000;
	unsigned long pfn;

	bench_setup(16);
	pfn = dpamt_bench_pfn(1, 0);
	tdx_pamt_get(pfn, NULL, NULL);
	/* warm: first calls resolve PLT entries etc. outside the measured loop */
	loop_dpamt(pfn, 16, NULL);
	loop_bare(pfn, 16, NULL);
	if (fast)
		loop_dpamt(pfn, n, NULL);
	else
		loop_bare(pfn, n, NULL);
	tdx_pamt_put(pfn, NULL);
	bench_teardown();
	printf("{\"mode\": \"cg\", \"n\": %llu}\n", (unsigned long long)n);
	return g_failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	g_argc = argc;
	g_argv = argv;
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (argc < 2) {
		fprintf(stderr, "usage: %s fastpath|scaling|seamcalls|mem|cg-fast|cg-bare [key=value...]\n",
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
	if (!strcmp(argv[1], "cg-fast"))
		return mode_cg(true);
	if (!strcmp(argv[1], "cg-bare"))
		return mode_cg(false);
	fprintf(stderr, "%s: unknown mode %s\n", argv[0], argv[1]);
	return 2;
}
