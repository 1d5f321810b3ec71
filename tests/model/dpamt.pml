/*
 * dpamt.pml - Promela model of the Dynamic PAMT get/put protocol.
 *
 * What is modelled (see shared/design/architecture.md sections 5-7 and
 * dpamt-facts.md section 3.7):
 *
 *   get(region):
 *     fast path   atomic_inc_not_zero(&refcount[region]) -> done
 *     slow path   take a page pair (per-CPU cache topped up beforehand,
 *                 allocation may fail), take the global lock, re-check the
 *                 refcount under the lock: non-zero -> increment, give the
 *                 pair back; zero -> TDH.PHYMEM.PAMT.ADD, atomic_set(1).
 *   put(region):  atomic_dec_and_lock() shape:
 *     fast path   atomic_add_unless(&refcount, -1, 1) -> done
 *     slow path   take the lock, atomic_dec_and_test(); only on zero issue
 *                 TDH.PHYMEM.PAMT.REMOVE under the lock; free the returned
 *                 pair after unlocking.  A failed REMOVE leaks the pair and
 *                 puts the count back to 1 (the region stays backed).
 *
 *   The TDX module is state: pair[r] (a pair is installed for region r),
 *   users[r] (4K pages of region r that the module currently tracks) and
 *   the pages it owns.  It asserts the ABI preconditions:
 *     - no PAMT.ADD while a pair is installed (HPA_RANGE_NOT_FREE),
 *     - no PAMT.REMOVE without a pair (NO_PAMT_PAGE_PAIR),
 *     - no PAMT.REMOVE while 4K users exist (PAMT_PAGE_NOT_EMPTY),
 *     - no use of a 4K page in a region without a pair
 *       (MISSING_PAMT_PAGE_PAIR),
 *   and at the end (all CPUs done) no page is leaked and every refcount
 *   matches the module's state.
 *
 * Memory model: sequential consistency (spin).  Every atomic_* RMW is one
 * indivisible step; plain code between them interleaves freely.
 *
 * Compile-time knobs (spin -D...):
 *   NPROC     number of CPUs (>= 3 by default)
 *   NITER     get/use/put rounds per CPU
 *   NREGION   number of 2 MiB regions (1 or 2)
 *   FAULTS    allow page-allocation failure, PAMT.ADD failure, OPERAND_BUSY
 *             retries and PAMT.REMOVE failure (each at most MAXFAULT times)
 *   MUTANT_NO_RECHECK    drop the re-check under the lock in get (MUST fail)
 *   MUTANT_PUT_UNLOCKED  put decrements outside the lock, "dec then lock if
 *                        zero" (the shape lib/dec_and_lock.c warns about;
 *                        MUST fail)
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
#define BUSY_RETRIES 2

#define NOBODY 255

/* ---- host kernel state ---- */
byte refc[NREGION];        /* atomic_t refcount per 2M region              */
bit  lk;                   /* the global pamt spinlock                      */
byte lk_owner = NOBODY;    /* for lockdep_assert_held()                     */
byte host_pages;           /* pages allocated by the host, not yet freed,
                              not owned by the module (caches, in flight)  */
byte leaked[NREGION];      /* pairs kept back after a failed REMOVE         */
byte finished;             /* CPUs that are done                            */
byte nfault;               /* injected faults so far                        */

/* ---- TDX module state ---- */
bit  pair[NREGION];        /* PAMT_2M entry holds a page pair               */
byte users[NREGION];       /* 4K pages of the region in use by the module   */
byte module_pages;         /* pair pages owned by the module                */

/* ---- statistics (for the checker output only) ---- */
byte installs;
byte removals;

inline spin_lock()
{
	atomic { lk == 0 -> lk = 1; lk_owner = _pid }
}

inline spin_unlock()
{
	d_step { assert(lk_owner == _pid); lk_owner = NOBODY; lk = 0 }
}

inline lockdep_assert_held()
{
	assert(lk == 1 && lk_owner == _pid)
}

/* Nondeterministic fault injection, bounded by MAXFAULT. */
inline maybe_fault(f)
{
	f = 0;
#ifdef FAULTS
	atomic {
		if
		:: nfault < MAXFAULT -> nfault++; f = 1
		:: true -> skip
		fi
	}
#endif
}

/* tdx_pamt_cache_topup(): make sure the CPU's cache holds a pair. */
inline cache_topup(ok)
{
	ok = 1;
	do
	:: cache >= 2 -> break
	:: else ->
		maybe_fault(f);
		if
		:: f -> ok = 0; break           /* -ENOMEM */
		:: else -> d_step { cache++; host_pages++ }
		fi
	od
}

/* TDH.PHYMEM.PAMT.ADD, called with the lock held; retries OPERAND_BUSY. */
inline seamcall_pamt_add(r, ok)
{
	lockdep_assert_held();
	busy = 0;
	do
	:: true ->
		maybe_fault(f);
		if
		:: f && busy < BUSY_RETRIES -> busy++   /* TDX_OPERAND_BUSY: retry */
		:: f && busy >= BUSY_RETRIES -> ok = 0; break
		:: !f ->
			d_step {
				/* HPA_RANGE_NOT_FREE: the host lost track */
				assert(!pair[r]);
				pair[r] = 1;
				cache = cache - 2;
				host_pages = host_pages - 2;
				module_pages = module_pages + 2;
				installs++
			}
			ok = 1;
			break
		fi
	od
}

/* TDH.PHYMEM.PAMT.REMOVE, called with the lock held. */
inline seamcall_pamt_remove(r, ok)
{
	lockdep_assert_held();
	maybe_fault(f);
	if
	:: f -> ok = 0                 /* arbitrary failure: module keeps pair */
	:: else ->
		d_step {
			assert(pair[r]);          /* NO_PAMT_PAGE_PAIR   */
			assert(users[r] == 0);    /* PAMT_PAGE_NOT_EMPTY */
			pair[r] = 0;
			module_pages = module_pages - 2;
			host_pages = host_pages + 2;  /* returned in RDX/R8 */
			returned = 2;
			removals++
		}
		ok = 1
	fi
}

inline pamt_get(r, ok)
{
	/* fast path: atomic_inc_not_zero() */
	atomic {
		if
		:: refc[r] != 0 -> refc[r]++; ok = 1
		:: else -> ok = 0
		fi
	}
	if
	:: ok -> skip
	:: else ->
		cache_topup(ok);
		if
		:: !ok -> skip
		:: else ->
			spin_lock();
#ifndef MUTANT_NO_RECHECK
			if
			:: refc[r] != 0 ->
				/* installed meanwhile: just take a reference,
				 * the pair stays in the cache */
				refc[r]++
			:: else ->
#endif
				seamcall_pamt_add(r, ok);
				if
				:: ok -> refc[r] = 1      /* atomic_set(1) */
				:: else -> skip           /* error, nothing changed */
				fi
#ifndef MUTANT_NO_RECHECK
			fi;
#endif
			spin_unlock()
		fi
	fi
}

inline pamt_put(r)
{
	returned = 0;
#ifndef MUTANT_PUT_UNLOCKED
	/* atomic_dec_and_lock(): fast path atomic_add_unless(v, -1, 1) */
	atomic {
		assert(refc[r] > 0);      /* underflow */
		if
		:: refc[r] != 1 -> refc[r]--; done = 1
		:: else -> done = 0
		fi
	}
	if
	:: done -> skip
	:: else ->
		spin_lock();
		atomic { refc[r]--; zero = (refc[r] == 0) }  /* dec_and_test */
		if
		:: zero ->
			seamcall_pamt_remove(r, ok);
			if
			:: !ok -> leaked[r]++; refc[r] = 1   /* keep it backed */
			:: else -> skip
			fi
		:: else -> skip
		fi;
		spin_unlock()
	fi;
#else
	/* broken: decrement outside the lock, lock only on zero */
	atomic { assert(refc[r] > 0); refc[r]--; zero = (refc[r] == 0) }
	if
	:: zero ->
		spin_lock();
		seamcall_pamt_remove(r, ok);
		if
		:: !ok -> leaked[r]++; refc[r] = 1
		:: else -> skip
		fi;
		spin_unlock()
	:: else -> skip
	fi;
#endif
	/* clear and free the returned pair outside the lock */
	atomic { host_pages = host_pages - returned; returned = 0 }
}

proctype cpu()
{
	byte it, r, busy, returned, cache;
	bit ok, f, done, zero;

	do
	:: it < NITER ->
		select(r : 0 .. NREGION - 1);
		pamt_get(r, ok);
		if
		:: ok ->
			/* the host hands a 4K page of region r to the module
			 * (TDH.MEM.PAGE.AUG and friends) ... */
			d_step { assert(pair[r]); users[r]++ }
			/* ... the TD uses it; other CPUs run ... */
			/* ... the host reclaims it */
			d_step { assert(pair[r]); users[r]-- }
			pamt_put(r)
		:: else -> skip
		fi;
		it++
	:: else -> break
	od;
	/* tdx_pamt_cache_free() */
	atomic { host_pages = host_pages - cache; cache = 0; finished++ }
}

init
{
	byte i;

	atomic {
		i = 0;
		do
		:: i < NPROC -> run cpu(); i++
		:: else -> break
		od
	}
	finished == NPROC;
	/* end-state check: nothing leaked, refcounts match the module */
	assert(lk == 0);
	assert(host_pages == 0);
	i = 0;
	do
	:: i < NREGION ->
		assert(users[i] == 0);
		assert(pair[i] == (leaked[i] > 0));
		assert(refc[i] == leaked[i]);
		i++
	:: else -> break
	od;
	assert(module_pages == 2 * (leaked[0]
#if NREGION > 1
		+ leaked[1]
#endif
		));
	printf("END installs=%d removals=%d faults=%d\n", installs, removals, nfault)
}
