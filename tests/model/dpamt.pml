/*
 * dpamt.pml - Promela model of the Dynamic PAMT get/put protocol (v2:
 * lock-free put, removal from a work item; arch/x86/virt/vmx/tdx/pamt.h,
 * "Transitions and ordering", "Why one lock", "Removal").
 *
 * What is modelled:
 *
 *   get(region):
 *     fast path   atomic_inc_not_zero(&refs[region]) -> done
 *     slow path   take a pair (per-CPU cache topped up beforehand, the
 *                 allocation may fail), take the global lock, re-check
 *                 with atomic_inc_not_zero() (installed meanwhile -> done,
 *                 the pair stays in the cache); else if the kernel still
 *                 has a record of the region's pair (installed and not
 *                 removed yet, or "stuck" after a failed REMOVE) reuse it
 *                 without a SEAMCALL; else TDH.PHYMEM.PAMT.ADD (BUSY is
 *                 retried BUSY_TRIES times, any failure is an error and
 *                 the pair goes back) and record the pair.  Then write the
 *                 charge (the caller's tag) and atomic_set_release(1).
 *   put(region):  never takes the lock.
 *     fast path   atomic_add_unless(&refs, -1, 1) -> done
 *     last        read the pair's charge while the reference is held,
 *                 then a cmpxchg loop that takes 1 -> 0 (or old -> old-1
 *                 if someone took a reference meanwhile: not the last);
 *                 only after the count is 0: set_bit(pending), kick the
 *                 removal work.
 *   removal work: a process of its own, runs whenever kicked, never
 *                 concurrently with itself.  For every region:
 *                 test_and_clear_bit(pending); take the lock; nothing to
 *                 do if the count is not 0, there is no record, or the
 *                 record is stuck; else TDH.PHYMEM.PAMT.REMOVE:
 *                   success            drop the record, free the pages
 *                                      after unlocking (write-back,
 *                                      clear, free: in the unlock's step)
 *                   OPERAND_BUSY       set the bit again, requeue itself
 *                   NO_PAMT_PAGE_PAIR  (or success with foreign pages) the
 *                                      module has no pair: drop the
 *                                      record, leak the pages
 *                   other failure      the module keeps the pair: the
 *                                      record becomes stuck (leaked until
 *                                      a later get reuses it)
 *
 *   The TDX module is state: pair[r] (a pair is installed for region r),
 *   users[r] (4K pages of region r that the module currently tracks),
 *   module_pages (pair pages it owns) and inflight (ADD/REMOVE being
 *   executed).  It asserts what the ABI and the kernel's design promise:
 *     - no PAMT.ADD while a pair is installed (HPA_RANGE_NOT_FREE),
 *     - no PAMT.REMOVE without a pair (NO_PAMT_PAGE_PAIR),
 *     - no PAMT.REMOVE while 4K users exist (PAMT_PAGE_NOT_EMPTY),
 *     - no use of a 4K page in a region without a pair
 *       (MISSING_PAMT_PAGE_PAIR),
 *     - never two ADD/REMOVE in flight at once (they would collide on
 *       the module's PAMT entry locks, see "Why one lock"),
 *   and the kernel side asserts: no put without a reference, and the
 *   charge the last put of a region returns is the charge of the pair
 *   it releases (the tag written by the get that took the region 0 -> 1).
 *   At the end (all CPUs done, the work drained) for every region: the
 *   count is 0, nothing is pending, pair installed == (count > 0 || the
 *   record is stuck), the kernel's record matches the module; no page is
 *   lost: the host freed everything it holds, the module holds exactly the
 *   installed pairs, the kernel's leaked count is the stuck pairs plus the
 *   pages of pairs the module lost, and its pair-page count is what the
 *   module holds plus those lost pages.
 *
 *   Not modelled: the write-back of returned pages (TDH.PHYMEM.PAGE.WBINVD,
 *   retried from the work on BUSY) and the hash tables; the harness
 *   (suite `model`) tests those on the real pamt.c.
 *
 * Memory model: sequential consistency (spin).  Every atomic_* RMW is one
 * indivisible step.  The kernel's orderings that matter (the count
 * published with atomic_set_release() after the pair is recorded; the
 * fully ordered cmpxchg before set_bit(); the fully ordered
 * test_and_clear_bit() before the work reads the count) are what SC gives.
 *
 * Step granularity.  Steps that only touch a process's own variables, or
 * that commute with every step another process can take meanwhile, are
 * merged with their neighbours (the same reduction a partial-order
 * reduction would make, done by hand so that state counts stay small):
 *   - a critical section of pamt_lock is one step (CS_BEGIN/CS_END): the
 *     steps others take meanwhile are lock-free; with the count 0 under
 *     the lock nobody holds a reference to the region, so they cannot
 *     touch its count, its 4K users, its record or its module entry.
 *     Only with a lock per region (MUTANT_REGION_LOCK) can two critical
 *     sections overlap; there a SEAMCALL's start and end are two steps;
 *   - a run of the removal work is one atomic sequence (except while it
 *     waits for the lock): only the work clears pending bits, and a
 *     set_bit() + queueing by a put moved before or after a run is seen
 *     by this run or makes the next one;
 *   - the cache top-up is part of the failed fast path (KVM tops up before
 *     the get, and nothing else looks at the cache), and the reclaim of
 *     the 4K page part of put's first step.
 * What stays separate is what the protocol is about: the fast paths, the
 * 4K use of the page, each cmpxchg of the put loop, the set_bit() after
 * the count reached 0, the critical sections.
 *
 * Compile-time knobs (spin -D...):
 *   NPROC     number of CPUs (3 by default)
 *   NITER     get/use/put rounds per CPU
 *   NREGION   number of 2 MiB regions (1 or 2)
 *   FAULTS    allow page-allocation failure, PAMT.ADD BUSY (retried) and
 *             failure, PAMT.REMOVE BUSY (retried by the work), "no pair"
 *             and failure (stuck); at most MAXFAULT faults in a run
 *   MUTANT_NO_RECHECK       get does not re-check the count under the lock
 *                           (MUST fail)
 *   MUTANT_PENDING_EARLY    put sets the pending bit and kicks the work
 *                           BEFORE taking the count to 0: the work can see
 *                           count 1, skip, and the pair stays installed
 *                           with count 0 for good (MUST fail)
 *   MUTANT_WORK_NO_REFCHECK the work issues REMOVE without checking the
 *                           count under the lock (MUST fail)
 *   MUTANT_PUT_DEC_AND_TEST put is atomic_dec_and_test() and only then
 *                           reads the charge and sets the bit: the charge
 *                           may be a later user's (MUST fail)
 *   MUTANT_REGION_LOCK      a lock per region instead of one (MUST fail
 *                           with NREGION 2: two SEAMCALLs in flight)
 *   NO_CHARGE_CHECK         leave out the charge assertion (to show which
 *                           other assertion catches a mutant)
 */

#ifndef NPROC
#define NPROC 3
#endif
#ifndef NITER
#define NITER 2
#endif
#ifndef NREGION
#define NREGION 1
#endif
#ifndef MAXFAULT
#define MAXFAULT 1
#endif
/* TDX_PAMT_BUSY_TRIES: PAMT.ADD attempts while the module says BUSY */
#define BUSY_TRIES 2

#define NOBODY 255

/* ---- host kernel state ---- */
byte refc[NREGION];        /* atomic_t refcount per 2M region              */
#ifndef MUTANT_REGION_LOCK
bit  lk;                   /* the global pamt_lock                          */
byte lk_owner = NOBODY;    /* for lockdep_assert_held()                     */
#define LK(r)    lk
#define OWNER(r) lk_owner
#else
bit  lk[NREGION];          /* broken: one lock per region                   */
byte lk_owner[NREGION] = NOBODY;
#define LK(r)    lk[r]
#define OWNER(r) lk_owner[r]
#endif
bit  rec[NREGION];         /* the kernel has a pair record (pamt_find())    */
bit  stuck[NREGION];       /* ... and a REMOVE of it failed (leaked)        */
byte charge[NREGION];      /* pair->charge: tag of the 0 -> 1 get (its pid) */
bit  pending[NREGION];     /* pamt.pending bitmap                           */
bit  kicked;               /* the removal work is queued                    */
byte host_pages;           /* pages the host allocated, has not freed, and
                              the module does not own (caches, in flight)  */
byte kleaked;              /* pamt.leaked_pages                             */
byte kpair_pages;          /* pamt.pair_pages: not back in the allocator    */
byte finished;             /* CPUs that are done                            */
bit  workdone;             /* the removal work drained and stopped          */
byte nfault;               /* injected faults so far                        */

/* ---- TDX module state ---- */
bit  pair[NREGION];        /* PAMT_2M entry holds a page pair               */
byte users[NREGION];       /* 4K pages of the region in use by the module   */
byte module_pages;         /* pair pages owned by the module                */
byte gone;                 /* pages of pairs the module lost: neither the
                              host's nor the module's (documented leak)    */
byte inflight;             /* PAMT.ADD/REMOVE being executed                */

/* ---- statistics (for the checker output only: not part of the state) ---- */
hidden byte installs;
hidden byte removals;
hidden byte reuses;

/* Taking and dropping the lock, as parts of atomic steps. */
inline lock_step(r)
{
	LK(r) == 0 -> LK(r) = 1; OWNER(r) = _pid
}

inline unlock_step(r)
{
	assert(OWNER(r) == _pid); OWNER(r) = NOBODY; LK(r) = 0
}

inline lockdep_assert_held(r)
{
	assert(LK(r) == 1 && OWNER(r) == _pid)
}

#ifndef MUTANT_REGION_LOCK
#define CS_BEGIN atomic {
#define CS_END }
#else
#define CS_BEGIN
#define CS_END
#endif

/*
 * A SEAMCALL starts: the module allows one ADD/REMOVE at a time (its
 * entry locks would collide, see "Why one lock").  f is the fault the
 * call will report, chosen here.
 */
#ifdef FAULTS
#define CHOOSE_FAULT \
	if \
	:: nfault < MAXFAULT -> nfault++; f = 1 \
	:: true -> f = 0 \
	fi
#else
#define CHOOSE_FAULT f = 0
#endif

inline seamcall_begin(r)
{
	lockdep_assert_held(r);
	inflight++;
	assert(inflight == 1);        /* two ADD/REMOVE in flight */
	CHOOSE_FAULT
}

/* The end of a CPU's round: forget its locals (fewer distinct states). */
#define END_ROUND \
	it++; r = 0; busy = 0; old = 0; ch = 0; ech = 0; ok = 0; f = 0; got = 0

/*
 * get, slow path, after the count was seen 0 and the cache topped up
 * (pamt_get_slow(), pamt_get_first()): take the lock and re-check with
 * atomic_inc_not_zero(); if the count is still 0, reuse a pair the kernel
 * still has (no SEAMCALL), or PAMT.ADD the pair from the cache (BUSY is
 * retried, at most BUSY_TRIES attempts) and record it.  The count is
 * published last: WRITE_ONCE(charge), atomic_set_release(1).
 */
inline pamt_get_slow(r, ok)
{
CS_BEGIN
	atomic {
		lock_step(r);
		got = 0;
#ifndef MUTANT_NO_RECHECK
		if
		:: refc[r] != 0 -> refc[r]++; got = 1    /* installed meanwhile */
		:: else -> skip
		fi;
#endif
		if
		:: !got && rec[r] ->
			/* not removed yet (or stuck): the module has it */
#ifdef FAULTS
			if
			:: stuck[r] -> stuck[r] = 0; kleaked = kleaked - 2
			:: else -> skip
			fi;
#endif
			reuses++;
			charge[r] = _pid;
			refc[r] = 1;
			got = 1
		:: else -> skip
		fi;
		if
		:: got -> unlock_step(r); ok = 1
		:: else ->
			busy = 0;
			seamcall_begin(r);
			/* HPA_RANGE_NOT_FREE: the host lost track */
			assert(!pair[r])
		fi
	}
	do
	:: got -> break
	:: !got && !f ->
		d_step {
			assert(!pair[r]);
			pair[r] = 1;
			cache = 0;
			host_pages = host_pages - 2;
			module_pages = module_pages + 2;
			installs++;
			inflight--;
			/* pamt_link(), the charge, the count */
			rec[r] = 1;
			kpair_pages = kpair_pages + 2;
			charge[r] = _pid;
			refc[r] = 1;
			unlock_step(r);
			ok = 1
		}
		break
#ifdef FAULTS
	:: !got && f ->
		/* TDX_OPERAND_BUSY, or any other failure */
		atomic {
			inflight--;
			busy++;
			if
			:: busy < BUSY_TRIES ->           /* BUSY: try again */
				seamcall_begin(r);
				assert(!pair[r])
			:: true ->
				/* -EBUSY or -EIO; the pair stays in the cache */
				unlock_step(r);
				ok = 0;
				END_ROUND;
				break
			fi
		}
#endif
	od
CS_END
}

/*
 * The charge the last put returns is that of the pair it releases (the
 * tag the get that took the region 0 -> 1 wrote).  NO_CHARGE_CHECK drops
 * the check, to show what the module's assertions catch without it.
 */
#ifndef NO_CHARGE_CHECK
#define CHARGE_CHECK assert(ch == ech)
#else
#define CHARGE_CHECK skip
#endif

/* the last put: set_bit(pending), queue_delayed_work() */
#define MARK_PENDING(r) pending[r] = 1; kicked = 1

/*
 * The host reclaims the 4K page from the module and drops its reference:
 * tdx_pamt_put(), lock-free.  atomic_add_unless(-1, 1) for a reference
 * that is not the last; else pamt_put_last(): read the charge while the
 * reference is held, a cmpxchg loop to take the count down, and only
 * after it reached 0 the pending bit and the kick.
 */
inline reclaim_and_put(r)
{
#ifndef MUTANT_PUT_DEC_AND_TEST
	atomic {
		assert(pair[r]);
		users[r]--;
		assert(refc[r] > 0);      /* a put without a reference */
		if
		:: refc[r] != 1 -> refc[r]--; END_ROUND; done = 1
		:: else ->
			/* the pair's charge cannot change while we hold it */
			done = 0;
			ch = charge[r];
			old = 1
		fi
	}
	if
	:: done -> done = 0
	:: else ->
#ifdef MUTANT_PENDING_EARLY
		d_step { MARK_PENDING(r) }
#endif
		do
		:: atomic {
			/* atomic_try_cmpxchg(ref, &old, old - 1) */
			assert(old > 0);          /* WARN: unbalanced put */
			if
			:: refc[r] == old && old > 1 ->
				/* someone took a reference: not the last */
				refc[r] = old - 1;
				END_ROUND;
				break
			:: refc[r] == old && old == 1 ->
				refc[r] = 0;
				/* ghost: the charge of the pair released now */
				ech = charge[r];
				break
			:: else -> old = refc[r]
			fi
		   }
		od;
		if
		:: old == 0 -> skip            /* not the last, see above */
		:: else ->
			d_step {
				CHARGE_CHECK;          /* the charge that is returned */
#ifndef MUTANT_PENDING_EARLY
				MARK_PENDING(r);
#endif
				END_ROUND
			}
		fi
	fi
#else
	/* broken: atomic_dec_and_test(), then the charge and the bit */
	atomic {
		assert(pair[r]);
		users[r]--;
		assert(refc[r] > 0);
		refc[r]--;
		done = (refc[r] != 0);
		/* ghost: the charge of the pair released now, if any */
		ech = charge[r];
		if
		:: done -> END_ROUND
		:: else -> skip
		fi
	}
	if
	:: done -> done = 0
	:: else ->
		d_step {
			if
			:: rec[r] -> ch = charge[r]
			:: else -> ch = 0
			fi;
			CHARGE_CHECK;
			MARK_PENDING(r);
			END_ROUND
		}
	fi
#endif
}

proctype cpu()
{
	byte it, r, busy, cache, old, ch, ech;
	bit ok, f, done, got;

	do
	:: atomic {
		it < NITER;
		select(r : 0 .. NREGION - 1);
		/* get, fast path: atomic_inc_not_zero() */
		if
		:: refc[r] != 0 -> refc[r]++; ok = 1; got = 1
		:: else ->
			/* a pair for the slow path: tdx_pamt_cache_topup() */
			got = 0;
			if
			:: cache >= 2 -> ok = 1
			:: else ->
				if
				:: ok = 1; cache = 2; host_pages = host_pages + 2
#ifdef FAULTS
				:: nfault < MAXFAULT ->
					nfault++; ok = 0; END_ROUND  /* -ENOMEM */
#endif
				fi
			fi
		fi
	   }
		if
		:: got -> got = 0
		:: !got && ok -> pamt_get_slow(r, ok)
#ifdef FAULTS
		:: !got && !ok -> skip
#endif
		fi;
		if
		:: ok ->
			/* the host hands a 4K page of region r to the module
			 * (TDH.MEM.PAGE.AUG and friends): MISSING_PAMT_PAGE_PAIR */
			d_step { assert(pair[r]); users[r]++ }
			/* ... the TD uses it; other CPUs and the work run ... */
			reclaim_and_put(r)
#ifdef FAULTS
		:: else -> skip
#endif
		fi
	:: else -> break
	od;
	/* tdx_pamt_cache_free() */
	atomic { host_pages = host_pages - cache; cache = 0; finished++ }
}

/*
 * pamt_remove_region(): take the lock; nothing to do if the region is in
 * use again, has no record or a stuck one; else PAMT.REMOVE, and act on
 * its outcome; drop the lock; write back, clear and free returned pages.
 */
inline pamt_remove_region(r)
{
CS_BEGIN
	atomic {
		lock_step(r);
#ifndef MUTANT_WORK_NO_REFCHECK
		if
		:: refc[r] != 0 || !rec[r] || stuck[r] ->
#else
		if
		:: !rec[r] || stuck[r] ->
#endif
			unlock_step(r); got = 0; cur = 0
		:: else ->
			seamcall_begin(r);
			/* what the kernel asks for must be legal, whatever
			 * comes out: NO_PAMT_PAGE_PAIR, PAMT_PAGE_NOT_EMPTY */
			assert(pair[r]);
			assert(users[r] == 0)
		fi
	}
	if
	:: got && !f ->
		d_step {
			assert(pair[r] && users[r] == 0);
			pair[r] = 0;
			module_pages = module_pages - 2;
			host_pages = host_pages + 2;  /* returned in RDX/R8 */
			removals++;
			inflight--;
			/* pamt_unlink() */
			rec[r] = 0;
			charge[r] = 0;
			unlock_step(r);
			/* ... then write back, clear and free them */
			host_pages = host_pages - 2;
			kpair_pages = kpair_pages - 2;
			got = 0;
			cur = 0
		}
#ifdef FAULTS
	:: got && f ->
		/*
		 * TDX_OPERAND_BUSY: mark it again and requeue the work (the
		 * kernel does set_bit() after the unlock and queues at the
		 * end of the run; nobody else clears bits or runs the work)
		 */
		d_step {
			inflight--;
			unlock_step(r);
			pending[r] = 1;
			kicked = 1;
			got = 0;
			f = 0;
			cur = 0
		}
	:: got && f ->
		/*
		 * TDX_NO_PAMT_PAGE_PAIR, or success with pages that are not
		 * ours: the module has no pair (it lost it) and our pages
		 * are gone: forget the record, leak the pages
		 */
		d_step {
			pair[r] = 0;
			module_pages = module_pages - 2;
			gone = gone + 2;
			inflight--;
			rec[r] = 0;
			charge[r] = 0;
			kleaked = kleaked + 2;
			unlock_step(r);
			got = 0;
			f = 0;
			cur = 0
		}
	:: got && f ->
		/* any other failure: the module keeps the pair; stuck */
		d_step {
			inflight--;
			stuck[r] = 1;
			kleaked = kleaked + 2;
			unlock_step(r);
			got = 0;
			f = 0;
			cur = 0
		}
#endif
	:: else -> skip
	fi
CS_END
}

/* pamt_remove_work_fn(), run by the workqueue whenever it is queued */
proctype work()
{
	byte r, cur;
	bit f, got;

	do
	:: atomic {
		kicked -> kicked = 0;
		r = 0;
		do
		:: r < NREGION ->
			/* for_each_set_bit() + test_and_clear_bit() */
			got = pending[r];
			pending[r] = 0;
			if
			:: got -> cur = r; pamt_remove_region(cur)
			:: else -> skip
			fi;
			r++
		:: else -> r = 0; break
		od
	   }
	:: finished == NPROC && !kicked -> break
	od;
	workdone = 1
}

init
{
	byte i;

	atomic {
		i = 0;
		do
		:: i < NPROC -> run cpu(); i++
		:: else -> break
		od;
		run work()
	}
	finished == NPROC && workdone;
	/* end-state check: counts, records and the module agree, no page lost */
	assert(inflight == 0);
	assert(host_pages == 0);
	i = 0;
	do
	:: i < NREGION ->
		assert(LK(i) == 0 && OWNER(i) == NOBODY);
		assert(users[i] == 0);
		assert(refc[i] == 0);
		assert(!pending[i]);
		assert(pair[i] == (refc[i] > 0 || stuck[i]));
		assert(rec[i] == pair[i]);
		i++
	:: else -> break
	od;
	assert(module_pages == 2 * (pair[0]
#if NREGION > 1
		+ pair[1]
#endif
		));
	/* leaked: the stuck pairs (the module has them) and the lost ones */
	assert(kleaked == 2 * (stuck[0]
#if NREGION > 1
		+ stuck[1]
#endif
		) + gone);
	assert(kpair_pages == module_pages + gone);
	printf("END installs=%d reuses=%d removals=%d faults=%d\n",
	       installs, reuses, removals, nfault)
}
