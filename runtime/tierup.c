/*
 * tierup.c - --tier=auto: hot template blocks become LLVM regions, compiled
 * on a background worker so that guest threads never wait for LLVM.
 *
 * 1. Template blocks that jump directly backwards (loop latches) count
 *    down the CPU's env->latch_budget at entry (TmplMemModel.latch_sample);
 *    other blocks carry no counter.  The latch that takes it to zero leaves
 *    before running, with TMPL_EXIT_HOT; the dispatcher credits it with the
 *    period that ran out (latch_credit, exec.c) and calls tierup_hot() once
 *    that uses up its TransBlock.hot.  A latch whose loop is decided stops
 *    counting (tmpl_latch_off).
 * 2. Region formation (guest thread, under e->lock): the latch's loop
 *    header plus the blocks reachable from it through chained (so executed)
 *    goto_tb slots, breadth first, up to TIERUP_MAX_BLOCKS /
 *    TIERUP_MAX_INSNS; only regions with a loop inside are compiled.  A
 *    successor that is already a region entry is left out (the region exits
 *    to it).  Loops close because edges back to a member become branches.
 *    The members are lifted again (the frontend is deterministic: same
 *    bytes, same block) and the IR goes to the worker's queue.  A hot
 *    header that is a member of an installed or queued region forms none
 *    (in_region; EMU_REGION_INSIDE=1: it does).
 *    EMU_REGION_PTR=1 (experimental): the dispatcher counts the targets of
 *    goto_ptrs that missed the jump cache (tierup_note_ptr); a region with
 *    a member that went to >= 3 places first samples them (the CPU's
 *    in-code jump cache stays empty for a while, the latch counts again),
 *    then a dispatch (>= 8 targets seen twice) becomes the region entry
 *    and its handlers join, hottest first (form_region), up to 48 blocks.
 * 3. The worker (one thread, all signals blocked) compiles the region with
 *    tier_llvm_compile_region() - the LLVM module is dlopen'ed on its first
 *    job, so a run that never gets hot never loads LLVM - and installs it
 *    under e->lock if nothing was flushed or invalidated meanwhile: a call
 *    stub in the code buffer, then llvm_entry (release store), then every
 *    incoming chained jump is re-pointed at the stub and the jump caches
 *    drop the block.  The dispatcher calls llvm_entry directly.
 * 4. Invalidation: each member records the entry in region_users, so
 *    removing a member (SMC) removes the region's entry too.  Flushes free
 *    the code (tb_free_one -> tier_llvm_release) and stale jobs are dropped.
 * 5. The probe (also for regions the code cache loads): region code counts
 *    its entries and, for the first EMU_REGION_PROBE (2000) of them, the
 *    host cycles spent inside (TransBlock.probe); the entry that completes
 *    the period leaves with TMPL_EXIT_HOT and tierup_hot() keeps the region
 *    if it ran at least EMU_REGION_MIN_CYCLES (400) cycles per entry, else
 *    sends its entry back to the template code (demote_locked).  Region
 *    entry and exit cost tens of cycles (globals loaded and written back,
 *    six registers saved, the exit's jump-cache lookup), which a function
 *    entered per call that loops two or three times never earns back: on
 *    busybox awk such regions made --tier=auto 2x slower than template.
 *
 * Tuning (environment): EMU_HOT_THRESHOLD (default 100000 loop trips, ten
 * times that when the code cache cannot keep regions).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/exec-internal.h"
#include "runtime/log.h"
#include "runtime/objload.h"
#include "runtime/perfmap.h"
#include "runtime/tier-llvm.h"

/* Loop trips before a latch asks for a region.  4000 made python3 -c pass,
 * warm, compile 3 regions in every run (~120 ms of LLVM, and guest opens
 * wait while LLVM loads: 168 ms vs 109 template); at 100000 its startup
 * loops stay in template code, and compute loops still tier up within a
 * millisecond or so (xz, zstd -d no slower, sha256sum, lua alike). */
#define TIERUP_DEFAULT_THRESHOLD 100000
/* ... and when the code cache cannot keep what is compiled (read-only, off),
 * a compile must pay for itself within the run: ten times as many.  After
 * emu-aot (a read-only cache without the run's regions or drop markers)
 * python3 -c pass compiled one startup loop in every run: LLVM loaded and
 * compiling on the other core, 107 against 93 ms; its loops stay under
 * 300000 trips. */
#define TIERUP_UNKEPT_FACTOR 10
#define TIERUP_MAX_BLOCKS 16
#define TIERUP_MAX_INSNS 512
/* Regions that follow indirect jumps (an interpreter's dispatch and its
 * handlers) may be larger; TIERUP_MAX_MEMBERS bounds every region. */
#define TIERUP_PTR_BLOCKS 48
#define TIERUP_PTR_INSNS 1024
#define TIERUP_MAX_MEMBERS 64
/* goto_ptr targets remembered per block (TransBlock.ptr_targets) */
#define TIERUP_PTR_TARGETS 64
/* A goto_ptr that went to at least this many places is an interpreter's
 * dispatch (EMU_REGION_PTR_MIN), not a return */
#define TIERUP_PTR_DISPATCH 8
/* Sampling: a region with a goto_ptr that went to at least this many
 * places on first misses samples first (EMU_REGION_PTR_SAMPLE misses with
 * the jump cache kept empty) and forms when a latch is hot again; targets
 * seen fewer than TIERUP_PTR_MIN_COUNT times stay out. */
#define TIERUP_PTR_PRESAMPLE 3
#define TIERUP_PTR_SAMPLE 4096
#define TIERUP_PTR_MIN_COUNT 2
#define TIERUP_MAX_QUEUE 256
/* The probe: after this many entries a region's code asks whether it
 * stays; it does if it spent at least this many host cycles per entry
 * (400 until region loads stopped testing the page map: gzip -c 2.60 ->
 * 2.40 s with 150, bzip2 and sha256sum alike, awk/sqlite3/lua in the noise;
 * 600 since template code stopped storing dead flags: warm cache, 150 ->
 * 600, zstd -9 1.53 -> 1.34 s, xz 3.76 -> 3.58, gzip -c 2.13 -> 2.06, the
 * rest within noise; at 3000 sha256sum's regions go: 0.46 -> 0.72 s). */
#define TIERUP_PROBE_PERIOD 2000
#define TIERUP_PROBE_MIN_CYCLES 600
/* Before a hot latch forms a region it times its next trips: a loop whose
 * trips come further apart than TIERUP_TRIP_PS_PER_INSN per insn of its
 * body spends most of the time outside (entered per call, a trip or two
 * each time): its region would only be compiled to be dropped by the probe
 * (lua: ~50 such regions, one run after another until all were dropped).
 * EMU_REGION_TRIP_PS sets the limit in picoseconds (0: no limit); the
 * trips timed are half the threshold, at most TIERUP_TIME_TRIPS: trips are
 * counted in samples of EXEC_LATCH_PERIOD (~4096) latch entries, so that is
 * about a dozen samples. */
#define TIERUP_TIME_TRIPS 50000
#define TIERUP_TRIP_PS_PER_INSN 30000

typedef struct TierJob {
    uint64_t gen;                 /* e->gen when formed */
    TransBlock *entry;
    uint32_t n;
    TransBlock *tbs[TIERUP_MAX_MEMBERS];
    IrBlock *ir[TIERUP_MAX_MEMBERS];
    uint64_t *counters[TIERUP_MAX_MEMBERS];
    struct TierCacheJob *cj;      /* code cache: compile to an object, store it */
    struct TierJob *next;
} TierJob;

typedef struct TierUp {
    int32_t threshold;
    uint32_t max_blocks, max_insns;
    bool follow_ptr;              /* follow recorded goto_ptr targets */
    bool skip_inside;             /* no region at a header inside another one */
    uint32_t ptr_blocks, ptr_insns; /* limits of regions that do */
    uint32_t ptr_dispatch;        /* targets that make a goto_ptr a dispatch */
    uint32_t ptr_sample;          /* goto_ptr misses a sampling window lasts */
    pthread_mutex_t ptr_lock;     /* TransBlock.ptr_targets (a leaf lock) */
    bool loops_only;              /* compile only regions with a loop */
    uint32_t probe_min_cycles;    /* host cycles per entry a region must run */
    uint32_t time_trips;          /* trips a hot latch times first */
    uint32_t trip_ps_per_insn;    /* slower trips than this per body insn: no
                                     region (0: latches are not timed) */
    uint64_t start_ns;            /* CLOCK_MONOTONIC at tierup_init (exit drain) */
    pthread_mutex_t qlock;
    pthread_cond_t qcond;
    pthread_cond_t done;          /* a job finished (exit drain waits on it) */
    bool draining;                /* exit: only jobs the code cache stores */
    TierJob *head, *tail;
    uint32_t queued;
    bool started, stop, busy;
    pthread_t thread;
    TierUpStats st;
    /* Under the engine lock: guest code of the regions installed here
     * (entry -> members) and of those the probe dropped.  A latch inside
     * dropped code that gets hot (its region no longer runs, its template
     * code counts) would only form a smaller region of the same short
     * loop, compiled to be dropped again. */
    struct TierMembers { const TransBlock *entry; uint32_t n; TbRange r[TIERUP_MAX_MEMBERS]; } *members;
    uint32_t n_members, cap_members;
    TbRange *dropped;
    uint32_t n_dropped, cap_dropped;
} TierUp;

static ExecEngine *atexit_engine;

int32_t tierup_threshold(const ExecEngine *e)
{
    return e->tu ? e->tu->threshold : 0;
}

/* An integer from the environment in [lo, hi], else def. */
static long env_long(const char *name, long lo, long hi, long def)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return def;
    long t = strtol(v, NULL, 0);
    return t >= lo && t <= hi ? t : def;
}

bool tierup_init(ExecEngine *e)
{
    TierUp *tu = calloc(1, sizeof *tu);
    if (!tu)
        return false;
    tu->threshold = (int32_t)env_long("EMU_HOT_THRESHOLD", 1, 1000000000,
                                      tiercache_storing(e)
                                          ? TIERUP_DEFAULT_THRESHOLD
                                          : TIERUP_DEFAULT_THRESHOLD * TIERUP_UNKEPT_FACTOR);
    tu->start_ns = exec_now_ns();
    const char *v = getenv("EMU_REGION_LOOPS");
    tu->loops_only = !(v && *v == '0');
    tu->probe_min_cycles =
        (uint32_t)env_long("EMU_REGION_MIN_CYCLES", 0, 1000000000, TIERUP_PROBE_MIN_CYCLES);
    tu->time_trips = (uint32_t)(tu->threshold / 2 < TIERUP_TIME_TRIPS ? tu->threshold / 2
                                                                         : TIERUP_TIME_TRIPS);
    if (!tu->time_trips)
        tu->time_trips = 1;
    tu->trip_ps_per_insn =
        (uint32_t)env_long("EMU_REGION_TRIP_PS", 0, 1000000000, TIERUP_TRIP_PS_PER_INSN);
    tu->max_blocks = (uint32_t)env_long("EMU_REGION_BLOCKS", 1, TIERUP_MAX_MEMBERS, TIERUP_MAX_BLOCKS);
    tu->max_insns = (uint32_t)env_long("EMU_REGION_INSNS", 1, 100000, TIERUP_MAX_INSNS);
    v = getenv("EMU_REGION_INSIDE");
    tu->skip_inside = !(v && *v == '1');
    /* off by default: measured, it did not pay yet (ARCHITECTURE.md) */
    v = getenv("EMU_REGION_PTR");
    tu->follow_ptr = v && *v == '1';
    tu->ptr_dispatch =
        (uint32_t)env_long("EMU_REGION_PTR_MIN", 1, TIERUP_PTR_TARGETS, TIERUP_PTR_DISPATCH);
    tu->ptr_blocks =
        (uint32_t)env_long("EMU_REGION_PTR_BLOCKS", 1, TIERUP_MAX_MEMBERS, TIERUP_PTR_BLOCKS);
    tu->ptr_insns = (uint32_t)env_long("EMU_REGION_PTR_INSNS", 1, 100000, TIERUP_PTR_INSNS);
    tu->ptr_sample = (uint32_t)env_long("EMU_REGION_PTR_SAMPLE", 0, 1000000, TIERUP_PTR_SAMPLE);
    pthread_mutex_init(&tu->qlock, NULL);
    pthread_mutex_init(&tu->ptr_lock, NULL);
    pthread_cond_init(&tu->qcond, NULL);
    pthread_cond_init(&tu->done, NULL);
    e->tu = tu;
    return true;
}

static void job_free(TierJob *j)
{
    for (uint32_t i = 0; i < j->n; i++)
        if (j->ir[i])
            ir_block_free(j->ir[i]);
    tiercache_job_free(j->cj);
    free(j);
}

/* Stop the worker (waiting for the compile in progress): LLVM's static
 * destructors run after atexit handlers registered after it was loaded. */
static void stop_worker_wait(TierUp *tu, long wait_ms);
static void stop_worker(TierUp *tu)
{
    stop_worker_wait(tu, 2000);
}

static void stop_worker_wait(TierUp *tu, long wait_ms)
{
    pthread_mutex_lock(&tu->qlock);
    bool started = tu->started;
    tu->stop = true;
    pthread_cond_broadcast(&tu->qcond);
    pthread_mutex_unlock(&tu->qlock);
    if (started) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += wait_ms / 1000;
        ts.tv_nsec += (wait_ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        if (pthread_timedjoin_np(tu->thread, NULL, &ts) == 0)
            tu->started = false;
    }
}

static void tierup_atexit(void)
{
    if (atexit_engine && atexit_engine->tu)
        stop_worker(atexit_engine->tu);
}

void tierup_free(ExecEngine *e)
{
    TierUp *tu = e->tu;
    if (!tu)
        return;
    stop_worker(tu);
    if (tu->started)
        return; /* the worker did not stop: leak rather than free under it */
    while (tu->head) {
        TierJob *j = tu->head;
        tu->head = j->next;
        job_free(j);
    }
    if (atexit_engine == e)
        atexit_engine = NULL;
    e->tu = NULL;
    free(tu->members);
    free(tu->dropped);
    free(tu);
}

/* Code cache, read-write: give the worker up to EMU_CACHE_EXIT_MS to
 * compile and store the regions still queued, so that the next run finds
 * them (they are installed too, which is harmless).  Default: a quarter
 * of the run so far, at most TIERUP_EXIT_DRAIN_MS, and nothing when no
 * region is queued.  Without it (the default was 0) a loop that gets hot
 * late in a run was queued, compiled in part and dropped at exit in every
 * run, never stored: lua's table.sort loop cost each steady-state run
 * ~250 ms of CPU (LLVM loaded and compiling) against 0 once stored.  LLVM
 * compiles ~5-15 regions a second here.  A compile in progress when the
 * time is up is abandoned. */
#define TIERUP_EXIT_DRAIN_MS 500
static void drain_for_cache(ExecEngine *e)
{
    TierUp *tu = e->tu;
    if (!tiercache_storing(e))
        return;
    uint64_t ran_ms = (exec_now_ns() - tu->start_ns) / 1000000u;
    long ms = env_long("EMU_CACHE_EXIT_MS", 0, 600000,
                       (long)(ran_ms / 4 < TIERUP_EXIT_DRAIN_MS ? ran_ms / 4 : TIERUP_EXIT_DRAIN_MS));
    if (ms == 0)
        return;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (ms % 1000) * 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&tu->qlock);
    __atomic_store_n(&tu->draining, true, __ATOMIC_RELAXED);
    uint32_t before = tu->queued;
    while (tu->started && !tu->stop && (tu->head || tu->busy))
        if (pthread_cond_timedwait(&tu->done, &tu->qlock, &dl) != 0)
            break;
    uint32_t left = tu->queued;
    pthread_mutex_unlock(&tu->qlock);
    if (before && emu_log_enabled(EMU_LOG_CACHE))
        emu_log("cache: exit: %u queued regions, %u left uncompiled after %ld ms at most\n",
                before, left, ms);
}

bool exec_engine_stop_background(ExecEngine *e)
{
    bool stopped = true;
    if (e && e->tu) {
        drain_for_cache(e);
        /* A compile in progress is not waited for (it may take hundreds of
         * ms): the caller then leaves with _exit, before LLVM's static
         * destructors could run under it. */
        stop_worker_wait(e->tu, 0);
        pthread_mutex_lock(&e->tu->qlock);
        stopped = !e->tu->started;
        pthread_mutex_unlock(&e->tu->qlock);
    }
    /* then write what the worker stored into the cache packs */
    if (e && e->tc)
        tiercache_close(e, true);
    return stopped;
}

void tierup_stats(ExecEngine *e, TierUpStats *out)
{
    memset(out, 0, sizeof *out);
    if (!e->tu)
        return;
    pthread_mutex_lock(&e->tu->qlock);
    *out = e->tu->st;
    pthread_mutex_unlock(&e->tu->qlock);
}

/* ---- install (worker, under e->lock) ------------------------------------ */

void tierup_perfmap(const ObjImage *img, const void *stub, uint64_t pc, const char *kind)
{
    const void *text = NULL;
    size_t len = 0;
    objload_text(img, &text, &len);
    perfmap_add(text, len, "emu region 0x%" PRIx64 " (%s)", pc, kind);
    perfmap_add(stub, 32, "emu region stub 0x%" PRIx64, pc);
}

static bool add_region_user(TransBlock *member, TransBlock *entry)
{
    if (member->n_region_users == member->cap_region_users) {
        uint32_t cap = member->cap_region_users ? member->cap_region_users * 2 : 2;
        TransBlock **n = realloc(member->region_users, cap * sizeof *n);
        if (!n)
            return false;
        member->region_users = n;
        member->cap_region_users = cap;
    }
    member->region_users[member->n_region_users++] = entry;
    return true;
}

/* code->handle: a TierLlvmCode handle (JIT) or NULL with img set (object
 * loaded by objload, code-cache mode). */
static bool install_locked(ExecEngine *e, TierJob *j, TierLlvmCode *code, struct ObjImage *img)
{
    if (__atomic_load_n(&e->gen, __ATOMIC_ACQUIRE) != j->gen)
        return false;
    for (uint32_t i = 0; i < j->n; i++)
        if (j->tbs[i]->invalid)
            return false;
    for (uint32_t i = 1; i < j->n; i++)
        if (!add_region_user(j->tbs[i], j->entry)) {
            /* cannot track invalidation for this member: give up */
            for (uint32_t k = 1; k < i; k++)
                j->tbs[k]->n_region_users--;
            return false;
        }
    TransBlock *tb = j->entry;
    tb->llvm_handle = code->handle;
    tb->obj_image = img;
    /* The stub may not fit (buffer full): then only the dispatcher enters
     * the region, chained jumps keep running the template code. */
    const void *stub = tb->host ? tmpl_emit_call_stub(&e->buf, code->entry) : NULL;
    tierup_perfmap(img, stub, tb->pc, "compiled");
    __atomic_store_n(&tb->llvm_entry, code->entry, __ATOMIC_RELEASE);
    if (stub) {
        __atomic_store_n(&tb->llvm_stub, stub, __ATOMIC_RELEASE);
        for (uintptr_t l = tb->jmp_in; l;) {
            TransBlock *src = (TransBlock *)(l & ~TMPL_RET_MASK);
            unsigned slot = l & TMPL_RET_MASK;
            if (src->host && src->code.chain_site[slot] != UINT32_MAX)
                tmpl_chain_patch(&e->buf, src->code.chain_site[slot], stub);
            l = src->jmp_next[slot];
        }
    }
    for (ExecCpu *c = e->cpus; c; c = c->next)
        exec_cpu_jc_drop(c, tb);
    tb->tier_state = TIER_DONE;
    TierUp *tu = e->tu;
    if (tu->n_members == tu->cap_members) {
        uint32_t cap = tu->cap_members ? tu->cap_members * 2 : 64;
        void *n = realloc(tu->members, cap * sizeof *tu->members);
        if (n) {
            tu->members = n;
            tu->cap_members = cap;
        }
    }
    if (tu->n_members < tu->cap_members) {
        struct TierMembers *m = &tu->members[tu->n_members++];
        m->entry = tb;
        m->n = j->n;
        for (uint32_t i = 0; i < j->n; i++)
            m->r[i] = (TbRange){ .pc = j->tbs[i]->pc, .size = j->tbs[i]->guest_size };
    }
    return true;
}

static void *worker_main(void *arg)
{
    ExecEngine *e = arg;
    TierUp *tu = e->tu;
    /* Load LLVM here, off the guest threads.  The atexit handler comes
     * after it so that it runs before LLVM's static destructors. */
    tier_llvm_load();
    pthread_mutex_lock(&tu->qlock);
    if (!atexit_engine) {
        atexit_engine = e;
        atexit(tierup_atexit);
    }
    pthread_mutex_unlock(&tu->qlock);
    for (;;) {
        pthread_mutex_lock(&tu->qlock);
        while (!tu->head && !tu->stop)
            pthread_cond_wait(&tu->qcond, &tu->qlock);
        if (tu->stop) {
            pthread_mutex_unlock(&tu->qlock);
            return NULL;
        }
        TierJob *j = tu->head;
        tu->head = j->next;
        if (!tu->head)
            tu->tail = NULL;
        __atomic_sub_fetch(&tu->queued, 1, __ATOMIC_RELAXED);
        tu->busy = true;
        pthread_mutex_unlock(&tu->qlock);

        /* At exit only what the cache keeps is worth compiling. */
        bool stale = __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE) != j->gen ||
                     (__atomic_load_n(&tu->draining, __ATOMIC_RELAXED) && !j->cj);
        TierLlvmCode code = { 0 };
        struct ObjImage *img = NULL;
        bool ok = false;
        if (!stale && j->cj) /* code cache: an object, linked by objload */
            ok = tiercache_compile(e, j->cj, (const IrBlock *const *)j->ir, j->n, j->entry,
                                   e->cfg.stats ? j->counters : NULL, &img, &code.entry);
        else if (!stale)
            ok = tier_llvm_compile_region((const IrBlock *const *)j->ir, j->n,
                                          (uintptr_t)j->entry, e->cfg.stats ? j->counters : NULL,
                                          exec_llvm_mem(e), &code);
        bool installed = false;
        if (ok) {
            pthread_mutex_lock(&e->lock);
            installed = install_locked(e, j, &code, img);
            if (installed && j->cj)
                tiercache_store_locked(e, j->cj);
            if (!installed)
                stale = true;
            pthread_mutex_unlock(&e->lock);
            if (!installed) {
                if (img)
                    objload_free(img);
                else
                    tier_llvm_release(&code);
            }
        }
        if (ok && installed && emu_log_enabled(EMU_LOG_TIER))
            emu_log("Tier-up: region at 0x%016" PRIx64 " (%u blocks) installed\n",
                    j->ir[0]->pc, j->n);
        pthread_mutex_lock(&tu->qlock);
        if (installed)
            tu->st.installed++;
        else if (stale)
            tu->st.stale++;
        else
            tu->st.failed++;
        tu->busy = false;
        pthread_cond_broadcast(&tu->done);
        pthread_mutex_unlock(&tu->qlock);
        job_free(j);
    }
}

/* Under tu->qlock. */
static bool start_worker(ExecEngine *e)
{
    TierUp *tu = e->tu;
    if (tu->started)
        return true;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* guest signals go to guest threads */
    int rc = pthread_create(&tu->thread, NULL, worker_main, e);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return false;
    tu->started = true;
    return true;
}

/* ---- the probe: keep or drop an installed region ------------------------ */

uint32_t tierup_probe_period(void)
{
    static uint32_t period = UINT32_MAX;
    uint32_t p = __atomic_load_n(&period, __ATOMIC_RELAXED);
    if (p == UINT32_MAX) {
        p = TIERUP_PROBE_PERIOD;
        const char *v = getenv("EMU_REGION_PROBE");
        if (v && *v) {
            long t = strtol(v, NULL, 0);
            if (t >= 0 && t <= 1000000000)
                p = (uint32_t)t;
        }
        __atomic_store_n(&period, p, __ATOMIC_RELAXED);
    }
    return p;
}

/* Back to template code (under e->lock): what install_locked did, undone.
 * The region code stays where it is (a CPU may be inside it, or about to
 * call its stub) until the next flush frees it with the block. */
static void demote_locked(ExecEngine *e, TransBlock *tb)
{
    __atomic_store_n(&tb->llvm_stub, NULL, __ATOMIC_RELEASE);
    __atomic_store_n(&tb->llvm_entry, NULL, __ATOMIC_RELEASE);
    for (uintptr_t l = tb->jmp_in; l;) {
        TransBlock *src = (TransBlock *)(l & ~TMPL_RET_MASK);
        unsigned slot = l & TMPL_RET_MASK;
        if (src->host && src->code.chain_site[slot] != UINT32_MAX)
            tmpl_chain_patch(&e->buf, src->code.chain_site[slot], tb->host);
        l = src->jmp_next[slot];
    }
    for (ExecCpu *c = e->cpus; c; c = c->next)
        exec_cpu_jc_drop(c, tb);
    /* its guest code: the members recorded at install, or a cached
     * region's ranges */
    TierUp *tu = e->tu;
    const TbRange *r = tb->ranges;
    uint32_t n = tb->n_ranges;
    for (uint32_t i = tu->n_members; i-- > 0 && !r;) /* newest first: a freed */
        if (tu->members[i].entry == tb) {               /* block's address comes back */
            r = tu->members[i].r;
            n = tu->members[i].n;
        }
    if (!r)
        return;
    tierup_note_dropped_locked(e, r, n);
    tiercache_store_dropped_locked(e, tb, r, n);
}

static bool in_dropped(const TierUp *tu, uint64_t pc);

bool tierup_in_dropped_locked(ExecEngine *e, uint64_t pc)
{
    return e->tu && in_dropped(e->tu, pc);
}

void tierup_note_dropped_locked(ExecEngine *e, const TbRange *r, uint32_t n)
{
    TierUp *tu = e->tu;
    if (!tu || tu->n_dropped + n > 1u << 20)
        return;
    if (tu->n_dropped + n > tu->cap_dropped) {
        uint32_t cap = (tu->n_dropped + n) * 2;
        TbRange *d = realloc(tu->dropped, cap * sizeof *d);
        if (!d)
            return;
        tu->dropped = d;
        tu->cap_dropped = cap;
    }
    memcpy(tu->dropped + tu->n_dropped, r, n * sizeof *r);
    tu->n_dropped += n;
}

/* Under e->lock: is pc a member of an installed or queued region?  Then
 * a hot loop there forms no region of its own (EMU_REGION_INSIDE=1: it
 * does): a loop inside a region already runs in its code when entered
 * through it, and the compiles of overlapping regions (bzip2: 64 regions
 * instead of 34, 2.5 s of LLVM instead of 1.15 s) held back the ones that
 * mattered.  An interpreter's handlers hold many hot latches, each of
 * which formed its own 48-block region over the same code. */
static bool in_region(TierUp *tu, uint64_t pc, uint32_t flags)
{
    for (uint32_t i = 0; i < tu->n_members; i++)
        for (uint32_t k = 0; k < tu->members[i].n; k++)
            if (tu->members[i].r[k].pc == pc && tu->members[i].entry->flags == flags)
                return true;
    bool found = false;
    pthread_mutex_lock(&tu->qlock);
    for (const TierJob *j = tu->head; j && !found; j = j->next)
        for (uint32_t k = 0; k < j->n && !found; k++)
            found = j->tbs[k]->pc == pc && j->tbs[k]->flags == flags;
    pthread_mutex_unlock(&tu->qlock);
    return found;
}

static bool in_dropped(const TierUp *tu, uint64_t pc)
{
    for (uint32_t i = 0; i < tu->n_dropped; i++)
        if (pc - tu->dropped[i].pc < tu->dropped[i].size)
            return true;
    return false;
}

/* A region's code completed a probe period (under e->lock).  Region code
 * pays for its entry and exit (globals loaded, written back, registers
 * saved, the exit's jump-cache lookup): code entered per call that runs a
 * few insns each time (a loop of two or three trips, a call inside the
 * loop that leaves the region) is slower than the template code it
 * replaced, so it goes back to it. */
static void probe_decide_locked(ExecEngine *e, TransBlock *tb)
{
    TierUp *tu = e->tu;
    uint64_t entries = __atomic_load_n(&tb->probe[0], __ATOMIC_RELAXED);
    uint64_t cyc = __atomic_load_n(&tb->probe[1], __ATOMIC_RELAXED);
    /* The period is the one the code was compiled with (a cached region's
     * may differ from EMU_REGION_PROBE now); the entry that completed it
     * left before running: entries - 1 ran. */
    if (entries < 2 || !tb->host)
        return;
    bool keep = cyc >= (entries - 1) * tu->probe_min_cycles;
    if (!keep)
        demote_locked(e, tb);
    if (emu_log_enabled(EMU_LOG_TIER))
        emu_log("Tier-up: region at 0x%016" PRIx64 ": %.0f cycles per entry: %s\n", tb->pc,
                (double)cyc / (double)(entries - 1), keep ? "kept" : "dropped");
    pthread_mutex_lock(&tu->qlock);
    if (keep)
        tu->st.probe_kept++;
    else
        tu->st.probe_dropped++;
    pthread_mutex_unlock(&tu->qlock);
}

/* ---- region formation (guest thread) ----------------------------------- */

static bool in_list(TransBlock *const *l, uint32_t n, const TransBlock *tb)
{
    for (uint32_t i = 0; i < n; i++)
        if (l[i] == tb)
            return true;
    return false;
}

/* ---- indirect jumps: recorded targets ------------------------------------ */

void tierup_note_ptr(ExecEngine *e, TransBlock *tb, uint64_t pc)
{
    TierUp *tu = e->tu;
    if (!tu->follow_ptr)
        return;
    pthread_mutex_lock(&tu->ptr_lock);
    uint32_t n = tb->n_ptr_targets, i = 0;
    while (i < n && tb->ptr_targets[i].pc != pc)
        i++;
    if (i < n) {
        tb->ptr_targets[i].count++;
    } else if (n < TIERUP_PTR_TARGETS) {
        /* capacity: 4, then doubling (n a power of two >= 4: full) */
        TbPtrTarget *a = tb->ptr_targets;
        if (n == 0 || (n >= 4 && (n & (n - 1)) == 0))
            a = realloc(a, (n ? 2 * n : 4) * sizeof *a);
        if (a) {
            tb->ptr_targets = a;
            a[n] = (TbPtrTarget){ .pc = pc, .count = 1 };
            __atomic_store_n(&tb->n_ptr_targets, n + 1, __ATOMIC_RELAXED);
        }
    }
    pthread_mutex_unlock(&tu->ptr_lock);
}

/* A copy of tb's recorded goto_ptr targets (out: TIERUP_PTR_TARGETS). */
static uint32_t ptr_targets(TierUp *tu, const TransBlock *tb, TbPtrTarget *out)
{
    if (!tu->follow_ptr || !__atomic_load_n(&tb->n_ptr_targets, __ATOMIC_RELAXED))
        return 0;
    pthread_mutex_lock(&tu->ptr_lock);
    uint32_t n = tb->n_ptr_targets;
    memcpy(out, tb->ptr_targets, n * sizeof *out);
    pthread_mutex_unlock(&tu->ptr_lock);
    return n;
}

static bool member_at(const TierJob *j, uint64_t pc, uint32_t flags)
{
    for (uint32_t i = 0; i < j->n; i++)
        if (j->tbs[i]->pc == pc && j->tbs[i]->flags == flags)
            return true;
    return false;
}

/* Straight-line regions gain little over template code and LLVM compiles
 * cost milliseconds: only regions with a loop inside (a chained edge or a
 * recorded indirect jump back to a member) are compiled
 * (EMU_REGION_LOOPS=0: all). */
static bool region_has_loop(TierUp *tu, const TierJob *j, uint32_t flags)
{
    for (uint32_t i = 0; i < j->n; i++) {
        for (unsigned s = 0; s < IR_GOTO_TB_SLOTS; s++)
            if (in_list(j->tbs, j->n, __atomic_load_n(&j->tbs[i]->jmp_to[s], __ATOMIC_ACQUIRE)))
                return true;
        TbPtrTarget pt[TIERUP_PTR_TARGETS];
        uint32_t np = ptr_targets(tu, j->tbs[i], pt);
        for (uint32_t k = 0; k < np; k++)
            if (member_at(j, pt[k].pc, flags))
                return true;
    }
    return false;
}

/* A member whose goto_ptr went to at least TIERUP_PTR_DISPATCH places (an
 * interpreter's dispatch, not a return from a function called once or
 * twice): only then may a region grow through recorded targets. */
static TransBlock *dispatch_like(TierUp *tu, const TierJob *j, uint32_t min, uint64_t min_count)
{
    TransBlock *best = NULL;
    uint32_t best_hot = 0;
    for (uint32_t i = 0; i < j->n; i++) {
        TbPtrTarget pt[TIERUP_PTR_TARGETS];
        uint32_t np = ptr_targets(tu, j->tbs[i], pt), hot = 0;
        for (uint32_t k = 0; k < np; k++)
            hot += pt[k].count >= min_count;
        if (hot >= min && hot > best_hot) {
            best = j->tbs[i];
            best_hot = hot;
        }
    }
    return best;
}

/* Can n join the region of entry tb (insns so far, limit max_insns)? */
static bool joinable(const TierJob *j, const TransBlock *tb, const TransBlock *n, uint32_t insns,
                     uint32_t max_insns)
{
    return n && !n->invalid && n->flags == tb->flags && n->host && !n->llvm_entry &&
           !in_list(j->tbs, j->n, n) && insns + n->n_insns <= max_insns;
}

/* The members of the region entered at tb (under e->lock), into j.
 * First breadth first through chained (so executed) direct jumps; when
 * those are exhausted, the next recorded goto_ptr target of a member joins
 * and the direct jumps from it are followed again, so an interpreter's
 * handlers come in whole, one after the other, behind its dispatch block.
 * A region that takes in an indirect target may grow to ptr_blocks /
 * ptr_insns.  Returns the number of members that joined through goto_ptr. */
static uint32_t form_region(ExecEngine *e, TierJob *j, TransBlock *tb, bool via_ptr)
{
    TierUp *tu = e->tu;
    uint32_t max_blocks = tu->max_blocks, max_insns = tu->max_insns;
    uint32_t insns = tb->n_insns, n_ptr = 0;
    /* indirect targets not taken in yet: the most frequent joins next */
    enum { PENDING = 4 * TIERUP_PTR_TARGETS };
    TbPtrTarget pending[PENDING];
    uint32_t n_pending = 0;
    uint32_t i = 0;
    for (;;) {
        for (; i < j->n && j->n < max_blocks; i++) {
            for (unsigned s = 0; s < IR_GOTO_TB_SLOTS && j->n < max_blocks; s++) {
                TransBlock *n = __atomic_load_n(&j->tbs[i]->jmp_to[s], __ATOMIC_ACQUIRE);
                if (!joinable(j, tb, n, insns, max_insns))
                    continue;
                j->tbs[j->n++] = n;
                insns += n->n_insns;
            }
            TbPtrTarget pt[TIERUP_PTR_TARGETS];
            uint32_t np = via_ptr ? ptr_targets(tu, j->tbs[i], pt) : 0;
            for (uint32_t k = 0; k < np && n_pending < PENDING; k++)
                if (pt[k].count >= TIERUP_PTR_MIN_COUNT) /* not a one-off */
                    pending[n_pending++] = pt[k];
        }
        if (!via_ptr || (j->n >= max_blocks && max_blocks >= tu->ptr_blocks))
            break;
        /* the next indirect target that can join */
        TransBlock *n = NULL;
        while (n_pending && !n) {
            uint32_t best = 0;
            for (uint32_t k = 1; k < n_pending; k++)
                if (pending[k].count > pending[best].count)
                    best = k;
            n = tb_find(e, pending[best].pc, tb->flags);
            pending[best] = pending[--n_pending];
            if (!joinable(j, tb, n, insns, tu->ptr_insns > max_insns ? tu->ptr_insns : max_insns))
                n = NULL;
        }
        if (!n)
            break;
        if (max_blocks < tu->ptr_blocks)
            max_blocks = tu->ptr_blocks > TIERUP_MAX_MEMBERS ? TIERUP_MAX_MEMBERS : tu->ptr_blocks;
        if (max_insns < tu->ptr_insns)
            max_insns = tu->ptr_insns;
        if (j->n >= max_blocks)
            break;
        j->tbs[j->n++] = n;
        insns += n->n_insns;
        n_ptr++;
    }
    return n_ptr;
}

/* CPU time of the calling thread: a timed loop whose thread was preempted
 * is not slower for it. */
static uint64_t thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The latch's timed trips (tierup_hot): did they come close enough
 * together for the loop to be where the time goes?  Its body is taken to
 * be its header and its latch (a loop with more blocks per trip looks
 * colder than it is; measured on the bench's workloads, the regions the
 * probe keeps ran 0.15-24 ns per such insn and trip, except a 4-insn
 * sqlite3 loop kept at 677 cycles per entry, which ran 830; of those it
 * drops, two thirds ran more than 30: lua's 46 took five runs to drop). */
static bool trips_hot(ExecEngine *e, const TransBlock *latch, const TransBlock *header,
                      uint64_t trips)
{
    TierUp *tu = e->tu;
    uint64_t now = thread_ns();
    if (latch->timed_thread != (uint64_t)pthread_self() || now < latch->timed_ns)
        return true; /* another guest thread finished the count: no measure */
    double per_trip = (double)(now - latch->timed_ns) / (double)(trips ? trips : 1);
    uint32_t insns = latch->n_insns + (latch != header ? header->n_insns : 0);
    bool hot = !tu->trip_ps_per_insn || per_trip * 1000 <= (double)tu->trip_ps_per_insn * insns;
    if (emu_log_enabled(EMU_LOG_TIER))
        emu_log("Tier-up: latch 0x%016" PRIx64 ": %.1f ns per trip, %u insns in it and its "
                "header (%.2f ns per insn): %s\n",
                latch->pc, per_trip, insns, per_trip / (insns ? insns : 1),
                hot ? "hot" : "its trips come far apart: no region");
    return hot;
}

/* A hot header that gets no region (under e->lock, which this releases):
 * remembered like a dropped region (its entry only: a loop inside may
 * still form one), so later runs give its latches no countdown; *count
 * (a TierUpStats field) says why. */
static uint32_t leave_alone_unlock(ExecEngine *e, TransBlock *tb, uint64_t *count)
{
    TierUp *tu = e->tu;
    tb->tier_state = TIER_DONE;
    TbRange r = { .pc = tb->pc, .size = tb->guest_size, .n_insns = tb->n_insns };
    tierup_note_dropped_locked(e, &r, 1);
    tiercache_store_dropped_locked(e, tb, &r, 1);
    pthread_mutex_unlock(&e->lock);
    pthread_mutex_lock(&tu->qlock);
    tu->st.hot++;
    (*count)++;
    pthread_mutex_unlock(&tu->qlock);
    return 0;
}

uint32_t tierup_hot(ExecEngine *e, TransBlock *tb, uint64_t gen)
{
    TierUp *tu = e->tu;
    if (!tu)
        return 0;
    pthread_mutex_lock(&e->lock);
    if (e->gen != gen || tb->invalid) {
        pthread_mutex_unlock(&e->lock);
        return 0;
    }
    /* A region entry's probe (its template code, if it ever runs, counts
     * nothing: it was hot already). */
    if (tb->llvm_entry) {
        probe_decide_locked(e, tb);
        pthread_mutex_unlock(&e->lock);
        return 0;
    }
    /* a timed latch: the trips credited since its timing began (the last
     * sample's period may go past time_trips) */
    int32_t left = __atomic_load_n(&tb->hot, __ATOMIC_RELAXED);
    uint64_t trips = tu->time_trips + (left < 0 ? (uint64_t)-(int64_t)left : 0);
    /* A latch times its next trips first (the countdown runs again). */
    if (tb->latch && tu->trip_ps_per_insn && !tb->timing) {
        tb->timing = true;
        tb->timed_ns = thread_ns();
        tb->timed_thread = (uint64_t)pthread_self();
        __atomic_store_n(&tb->hot, (int32_t)tu->time_trips, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&e->lock);
        return 0;
    }
    /* Whatever happens next, this block does not ask again for ~2^31 runs;
     * a latch stops counting (EMU_REGION_PTR's sampling starts it again). */
    __atomic_store_n(&tb->hot, INT32_MAX, __ATOMIC_RELAXED);
    if (tb->latch && tb->host && !tu->follow_ptr)
        tmpl_latch_off(&e->buf, tb->host, exec_sole_cpu_locked(e));
    TransBlock *latch = tb;
    /* A hot loop latch asks for a region at its loop header. */
    if (tb->latch) {
        TransBlock *h = tb_find(e, tb->loop_header, tb->flags);
        if (!h || h->invalid || !h->host) {
            pthread_mutex_unlock(&e->lock);
            return 0;
        }
        tb = h;
    }
    bool sampled = tb->tier_state == TIER_SAMPLING;
    if ((tb->tier_state != TIER_COLD && !sampled) || tb->llvm_entry) {
        pthread_mutex_unlock(&e->lock);
        return 0;
    }
    if ((tu->skip_inside || tu->follow_ptr) && in_region(tu, tb->pc, tb->flags)) {
        tb->tier_state = TIER_DONE;
        pthread_mutex_unlock(&e->lock);
        return 0;
    }
    if (in_dropped(tu, tb->pc)) {
        tb->tier_state = TIER_DONE;
        pthread_mutex_unlock(&e->lock);
        pthread_mutex_lock(&tu->qlock);
        tu->st.hot++;
        tu->st.probe_dropped_inside++;
        pthread_mutex_unlock(&tu->qlock);
        return 0;
    }
    /* (after the checks above: a header inside a region or a dropped one
     * needs no timing verdict, nor a second marker) */
    if (latch->timing && !sampled && !trips_hot(e, latch, tb, trips))
        return leave_alone_unlock(e, tb, &tu->st.trips_cold);
    /* A full queue would drop the job: do not lift its blocks for nothing. */
    if (__atomic_load_n(&tu->queued, __ATOMIC_RELAXED) >= TIERUP_MAX_QUEUE) {
        pthread_mutex_unlock(&e->lock);
        pthread_mutex_lock(&tu->qlock);
        tu->st.hot++;
        tu->st.dropped++;
        pthread_mutex_unlock(&tu->qlock);
        return 0;
    }
    tb->tier_state = TIER_QUEUED;
    TierJob *j = calloc(1, sizeof *j);
    if (!j) {
        pthread_mutex_unlock(&e->lock);
        return 0;
    }
    j->gen = gen;
    j->entry = tb;
    j->tbs[j->n++] = tb;
    uint32_t n_ptr = form_region(e, j, tb, false);
    bool loop = region_has_loop(tu, j, tb->flags);
    /* A region with an interpreter's dispatch block (a goto_ptr that went
     * to many places) is formed again following the recorded goto_ptr
     * targets, so that the handlers come in.  Others stay as they were:
     * following every return made each loop with a call a 48-block region
     * (100-600 ms of LLVM codegen each, most then dropped by the probe). */
    if (tu->follow_ptr && !sampled && tu->ptr_sample && latch->latch &&
        dispatch_like(tu, j, TIERUP_PTR_PRESAMPLE, 1)) {
        /* Where do its indirect jumps go, how often?  First misses saw
         * each target once per jump-cache fill: sample, and form the
         * region when the latch is hot again. */
        tb->tier_state = TIER_SAMPLING;
        __atomic_store_n(&latch->hot, (int32_t)(2 * tu->ptr_sample + tu->threshold),
                         __ATOMIC_RELAXED);
        pthread_mutex_unlock(&e->lock);
        free(j);
        pthread_mutex_lock(&tu->qlock);
        tu->st.ptr_sampled++;
        pthread_mutex_unlock(&tu->qlock);
        return tu->ptr_sample;
    }
    TransBlock *d = tu->follow_ptr ? dispatch_like(tu, j, tu->ptr_dispatch, TIERUP_PTR_MIN_COUNT)
                                   : NULL;
    /* The region is entered at the dispatch block itself: the handlers'
     * latches all lead there, and one region per interpreter (not one
     * per hot latch over the same code) keeps the compile queue short. */
    if (d && d != tb &&
        ((d->tier_state != TIER_COLD && d->tier_state != TIER_SAMPLING) || d->llvm_entry ||
         in_region(tu, d->pc, d->flags)))
        d = NULL; /* it has (or will have) its own region: this one stays as it was */
    if (d) {
        if (d != tb) {
            tb->tier_state = TIER_DONE;
            tb = d;
            tb->tier_state = TIER_QUEUED;
            j->entry = tb;
        }
        j->tbs[0] = tb;
        j->n = 1;
        n_ptr = form_region(e, j, tb, true);
        loop = region_has_loop(tu, j, tb->flags);
    }
    if (emu_log_enabled(EMU_LOG_TIER)) {
        uint32_t insns = 0;
        for (uint32_t i = 0; i < j->n; i++)
            insns += j->tbs[i]->n_insns;
        emu_log("Tier-up: hot 0x%016" PRIx64 "%s: region at 0x%016" PRIx64
                ", %u blocks, %u insns, %u via goto_ptr, %s\n",
                latch->pc, latch->latch ? " (latch)" : "", tb->pc, j->n, insns, n_ptr,
                loop ? "queued" : tu->loops_only ? "no loop: left" : "no loop: queued");
    }
    if (!loop && tu->loops_only) {
        free(j);
        return leave_alone_unlock(e, tb, &tu->st.loopless);
    }
    /* Lift the members again; a member whose block came out different
     * (cannot happen with unchanged bytes) ends the region there. */
    ExecEvent ev;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < j->n; i++) {
        IrBlock *b = exec_lift_locked(e, j->tbs[i]->pc, j->tbs[i]->flags, true, &ev);
        if (!b || b->guest_size != j->tbs[i]->guest_size) {
            if (b)
                ir_block_free(b);
            if (i == 0)
                break;
            continue;
        }
        j->tbs[kept] = j->tbs[i];
        j->ir[kept] = b;
        j->counters[kept] = &j->tbs[i]->llvm_exec_count;
        kept++;
    }
    j->n = kept;
    if (kept && tiercache_enabled(e))
        j->cj = tiercache_job_new(e, j->tbs, j->n, e->cfg.stats);
    pthread_mutex_unlock(&e->lock);

    pthread_mutex_lock(&tu->qlock);
    tu->st.hot++;
    if (n_ptr && j->n) {
        tu->st.ptr_regions++;
        tu->st.ptr_members += n_ptr;
    }
    if (!j->n || tu->stop || tu->queued >= TIERUP_MAX_QUEUE || !start_worker(e)) {
        tu->st.dropped++;
        pthread_mutex_unlock(&tu->qlock);
        job_free(j);
        return 0;
    }
    if (tu->tail)
        tu->tail->next = j;
    else
        tu->head = j;
    tu->tail = j;
    __atomic_add_fetch(&tu->queued, 1, __ATOMIC_RELAXED);
    tu->st.queued++;
    pthread_cond_signal(&tu->qcond);
    pthread_mutex_unlock(&tu->qlock);
    return 0;
}

/* ---- fork ---------------------------------------------------------------- */

/* The child has no worker: hold the queue and the compiler over fork() so
 * that neither is inherited half-used, then let the child start afresh. */
void tierup_fork_prepare(ExecEngine *e)
{
    if (!e->tu)
        return;
    tier_llvm_fork_prepare();
    pthread_mutex_lock(&e->tu->qlock);
}

void tierup_fork_parent(ExecEngine *e)
{
    if (!e->tu)
        return;
    pthread_mutex_unlock(&e->tu->qlock);
    tier_llvm_fork_done();
}

void tierup_fork_child(ExecEngine *e)
{
    TierUp *tu = e->tu;
    if (!tu)
        return;
    pthread_mutex_init(&tu->qlock, NULL);
    pthread_mutex_init(&tu->ptr_lock, NULL);
    pthread_cond_init(&tu->qcond, NULL);
    tu->started = false;
    tu->busy = false;
    tier_llvm_fork_child();
    if (tu->head) {
        pthread_mutex_lock(&tu->qlock);
        start_worker(e);
        pthread_mutex_unlock(&tu->qlock);
    }
}
