/*
 * exec.c - the execution engine: CPUs, the code buffer, translation
 * (frontend -> ir_optimize -> template backend or interpreter), the
 * dispatcher loop exec_run(); host faults in guest code are exec-fault.c's.
 *
 * The dispatcher: look the guest pc up in the CPU's jump cache, else in the
 * block table (translating on a miss), run the block, and act on how it
 * left: an unchained goto_tb slot gets chained to its target, a goto_ptr
 * miss fills the jump cache, an IR exit becomes an ExecEvent.  Host faults
 * in generated code siglongjmp back to exec_run (see exec_fault_from_host).
 * Locking is described in exec-internal.h.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include "runtime/exec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "runtime/disas.h"
#include "runtime/exec-internal.h"
#include "runtime/log.h"
#include "runtime/perfmap.h"
#include "runtime/tier-llvm.h"

#define EXEC_DEFAULT_CODE_BUF ((size_t)256 << 20)
/* A refused block with this much room left was refused for another reason
 * than space: interpret it instead of flushing. */
#define EXEC_CODE_HEADROOM ((size_t)4 << 20)
/* Invalidated blocks kept before a flush reclaims them. */
#define EXEC_MAX_DEAD 8192

/* Generated code reports guest memory faults with these kinds. */
_Static_assert((int)TMPL_EXC_SEGV == (int)EXEC_EXC_SEGV && (int)TMPL_EXC_ALIGN == (int)EXEC_EXC_BUS,
               "template backend exception kinds must match EXEC_EXC_*");

/* Per-CPU counter bumped by its owner, read by stats from any thread. */
#define STAT_INC(x) __atomic_store_n(&(x), (x) + 1, __ATOMIC_RELAXED)

/* Internal run results besides TMPL_RET_*. */
enum { RUN_FAULT = TMPL_RET_EXIT + 1, RUN_INVALID };

__thread ExecCpu *exec_tls_cpu;

const char *exec_event_name(ExecEventKind k)
{
    static const char *const names[] = {
        [EXEC_EV_SYSCALL] = "syscall",
        [EXEC_EV_UNDEF] = "undef",
        [EXEC_EV_FETCH_FAULT] = "fetch-fault",
        [EXEC_EV_SEGV] = "segv",
        [EXEC_EV_BUS] = "bus",
        [EXEC_EV_BREAKPOINT] = "breakpoint",
        [EXEC_EV_HALT] = "halt",
        [EXEC_EV_EXCEPTION] = "exception",
        [EXEC_EV_INTERRUPT] = "interrupt",
        [EXEC_EV_ERROR] = "error",
    };
    return (unsigned)k < sizeof names / sizeof names[0] && names[k] ? names[k] : "?";
}

ExecConfig exec_config_default(const GuestArch *arch)
{
    ExecConfig c;
    memset(&c, 0, sizeof c);
    c.arch = arch;
    c.tier = EXEC_TIER_TEMPLATE;
    c.code_buf_size = EXEC_DEFAULT_CODE_BUF;
    c.max_insns = EXEC_DEFAULT_MAX_INSNS;
    c.chaining = true;
    /* Verifying costs about as much as translating: on in debug builds
     * (EMU_DEBUG) and tests, or with EMU_VERIFY=1 in the environment. */
#ifdef EMU_DEBUG
    c.verify = true;
#else
    const char *v = getenv("EMU_VERIFY");
    c.verify = v && *v && *v != '0';
#endif
    return c;
}

static void init_locks(ExecEngine *e);

static bool chaining_on(const ExecEngine *e)
{
    return e->cfg.chaining && !emu_log_enabled(EMU_LOG_EXEC);
}

/* ---- engine ------------------------------------------------------------- */

ExecEngine *exec_engine_new(const ExecConfig *cfg, char *err, size_t errlen)
{
    const char *why = NULL;
    if (!cfg || !cfg->arch || !cfg->arch->translate || !cfg->arch->state_size)
        why = "no guest arch";
    else if (cfg->arch->state_size < sizeof(CpuCommon))
        why = "arch state smaller than CpuCommon";
    else if (!cfg->mem.read_code)
        why = "mem.read_code is required";
    else if (!cfg->mem.interp_mem.load || !cfg->mem.interp_mem.store)
        why = "mem.interp_mem load/store are required (interpreter, fallback, SMC)";
    else if (cfg->tier != EXEC_TIER_INTERP && cfg->tier != EXEC_TIER_TEMPLATE &&
             cfg->tier != EXEC_TIER_LLVM && cfg->tier != EXEC_TIER_AUTO)
        why = "unknown tier";
    if (why) {
        snprintf(err, errlen, "%s", why);
        return NULL;
    }
    ExecEngine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->cfg = *cfg;
    if (!e->cfg.code_buf_size) e->cfg.code_buf_size = EXEC_DEFAULT_CODE_BUF;
    if (!e->cfg.max_insns) e->cfg.max_insns = EXEC_DEFAULT_MAX_INSNS;
    init_locks(e);
    if (!tb_table_init(e)) {
        snprintf(err, errlen, "out of memory (block table)");
        exec_engine_free(e);
        return NULL;
    }
    if (e->cfg.arch->init) e->cfg.arch->init();
    e->mm.kind = TMPL_MEM_USER;
    const char *pl = getenv("EMU_LLVM_PRECISE_LOADS");
    e->precise_loads = pl && *pl && *pl != '0';
    /* a power of two (the code cache records it as one) */
    for (uint64_t g = e->cfg.mem.limit_guard; g; g &= g - 1)
        e->mm.limit_guard = g;
    if (e->cfg.tier != EXEC_TIER_INTERP) { /* llvm: template code when LLVM refuses */
        size_t sz = e->cfg.code_buf_size;
        /* Reserved at once, committed page by page as code is written. */
        void *p = mmap(NULL, sz, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            snprintf(err, errlen, "cannot map %zu MiB of code buffer: %s", sz >> 20,
                     strerror(errno));
            exec_engine_free(e);
            return NULL;
        }
        e->buf.base = p;
        e->buf.size = sz;
        e->buf.used = 0;
        e->buf.exec_delta = 0;
        exec_setup_pins(e->cfg.arch);
        if (!tmpl_init(&e->buf)) {
            snprintf(err, errlen, "template backend: cannot generate the entry trampoline");
            exec_engine_free(e);
            return NULL;
        }
        if (e->cfg.tier == EXEC_TIER_AUTO || e->cfg.tier == EXEC_TIER_LLVM)
            e->chain_tramp = tmpl_emit_chain_tramp(&e->buf);
        e->prologue_end = e->buf.used;
        perfmap_add(e->buf.base + e->buf.exec_delta, e->prologue_end,
                    "emu entry/exit trampolines");
        /* Every block is at least a few bytes: one slot per 32 bytes. */
        e->cap_by_host = sz / 32;
        void *m = mmap(NULL, e->cap_by_host * sizeof *e->by_host, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) {
            snprintf(err, errlen, "cannot map the host-address index: %s", strerror(errno));
            exec_engine_free(e);
            return NULL;
        }
        e->by_host = m;
    }
    e->st.code_buf_size = e->buf.size;
    if ((e->cfg.tier == EXEC_TIER_AUTO || e->cfg.tier == EXEC_TIER_LLVM) &&
        emu_log_enabled(EMU_LOG_LLVM_IR | EMU_LOG_LLVM_ASM))
        tier_llvm_set_dump(emu_log_file(),
                           (emu_log_enabled(EMU_LOG_LLVM_IR) ? 3u : 0u) |
                               (emu_log_enabled(EMU_LOG_LLVM_ASM) ? 4u : 0u));
    /* the code cache first: tier-up asks whether it can keep regions */
    if (!tiercache_init(e) || (e->cfg.tier == EXEC_TIER_AUTO && !tierup_init(e))) {
        snprintf(err, errlen, "out of memory (tier-up, code cache)");
        exec_engine_free(e);
        return NULL;
    }
    return e;
}

void exec_engine_free(ExecEngine *e)
{
    if (!e) return;
    tierup_free(e); /* the worker first: it may be installing code */
    tiercache_free(e);
    while (e->cpus)
        exec_cpu_free(e->cpus);
    tb_table_free(e);
    if (e->buf.base) munmap(e->buf.base, e->buf.size);
    if (e->by_host) munmap(e->by_host, e->cap_by_host * sizeof *e->by_host);
    free(e->tt_buf);
    pthread_rwlock_destroy(&e->code_rw);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

const ExecConfig *exec_engine_config(const ExecEngine *e)
{
    return &e->cfg;
}

/* ---- CPUs and jump caches ---------------------------------------------- */

/* The jump caches are fresh anonymous memory, read as all zero, and only
 * the 4 KiB pages a CPU writes get committed (filling 256 KiB per CPU up
 * front cost 64 page faults at every start).  An empty entry holds pc 0,
 * which only the lookup of pc 0 can match, and that lookup uses slot
 * jmp_cache_hash(0): that one slot holds ~0 when empty.  jc_pages records the
 * pages ever written, so clearing touches only those. */
#define JC_PAGE_SLOTS (4096 / sizeof(JmpCacheEntry))
_Static_assert(JMP_CACHE_SIZE / JC_PAGE_SLOTS <= 64, "jc_pages has one bit per page");

static inline uint64_t jc_empty_pc(unsigned i)
{
    return i == jmp_cache_hash(0) ? ~(uint64_t)0 : 0;
}

/* Before writing slot h (owning CPU). */
static inline void jc_mark(ExecCpu *cpu, unsigned h)
{
    uint64_t bit = 1ull << (h / JC_PAGE_SLOTS);
    if (!(__atomic_load_n(&cpu->jc_pages, __ATOMIC_RELAXED) & bit))
        __atomic_or_fetch(&cpu->jc_pages, bit, __ATOMIC_RELAXED);
}

/* Empty the written pages: generated code's pcs only (goto_ptr misses), or
 * the dispatcher's tb_cache too.  Plain stores: exec_cpu_request_exit calls
 * this from a signal handler. */
static void jc_clear(ExecCpu *cpu, bool tbs)
{
    uint64_t pages = __atomic_load_n(&cpu->jc_pages, __ATOMIC_RELAXED);
    while (pages) {
        unsigned p = (unsigned)__builtin_ctzll(pages);
        pages &= pages - 1;
        for (unsigned i = p * JC_PAGE_SLOTS; i < (p + 1) * JC_PAGE_SLOTS; i++) {
            __atomic_store_n(&cpu->jmp_cache[i].pc, jc_empty_pc(i), __ATOMIC_RELAXED);
            if (tbs)
                __atomic_store_n(&cpu->tb_cache[i], NULL, __ATOMIC_RELAXED);
        }
    }
}

static void jc_flush(ExecCpu *cpu)
{
    jc_clear(cpu, true);
}

/* Called under e->lock when tb is invalidated (any thread).  A lean fill
 * (jc_fill) left tb_cache alone: the in-code entry is known by its host. */
void exec_cpu_jc_drop(ExecCpu *cpu, TransBlock *tb)
{
    unsigned h = jmp_cache_hash(tb->pc);
    JmpCacheEntry *je = &cpu->jmp_cache[h];
    const void *host = __atomic_load_n(&je->host, __ATOMIC_RELAXED);
    bool mine = __atomic_load_n(&je->pc, __ATOMIC_RELAXED) == tb->pc && host &&
                (host == tb->host || host == __atomic_load_n(&tb->llvm_stub, __ATOMIC_RELAXED));
    if (__atomic_load_n(&cpu->tb_cache[h], __ATOMIC_RELAXED) == tb) {
        __atomic_store_n(&je->pc, jc_empty_pc(h), __ATOMIC_RELEASE);
        __atomic_store_n(&cpu->tb_cache[h], NULL, __ATOMIC_RELAXED);
    } else if (mine) {
        __atomic_store_n(&je->pc, jc_empty_pc(h), __ATOMIC_RELEASE);
    }
}

/* Under e->lock, by the owning CPU.  For its first JC_LEAN_FILLS fills a
 * forked child writes only the in-code entry: a fill wrote a page of each
 * array, two copy-on-write faults, and a shell's command made ~15 fills
 * (the dispatcher, rarely entered once code is chained, finds the block
 * through the table instead). */
#define JC_LEAN_FILLS 256
static void jc_fill(ExecCpu *cpu, TransBlock *tb)
{
    unsigned h = jmp_cache_hash(tb->pc);
    JmpCacheEntry *je = &cpu->jmp_cache[h];
    jc_mark(cpu, h);
    __atomic_store_n(&je->pc, jc_empty_pc(h), __ATOMIC_RELEASE);
    /* Generated code may only jump to template blocks, and not at all
     * while every block must pass the dispatcher (exec tracing). */
    const void *host = tb_entry_host(tb);
    if (host && !cpu->ptr_window && !emu_log_enabled(EMU_LOG_EXEC)) {
        __atomic_store_n(&je->host, host, __ATOMIC_RELEASE);
        __atomic_store_n(&je->pc, tb->pc, __ATOMIC_RELEASE);
        if (cpu->jc_lean) {
            cpu->jc_lean--;
            return;
        }
    }
    __atomic_store_n(&cpu->tb_cache[h], tb, __ATOMIC_RELEASE);
}

/* Zero-filled memory for a jump cache (not touched here). */
static void *jc_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void jc_free(ExecCpu *cpu)
{
    if (cpu->jmp_cache) munmap(cpu->jmp_cache, JMP_CACHE_SIZE * sizeof *cpu->jmp_cache);
    if (cpu->tb_cache) munmap(cpu->tb_cache, JMP_CACHE_SIZE * sizeof *cpu->tb_cache);
}

void exec_cpu_flush_jmp_cache(ExecCpu *cpu)
{
    jc_flush(cpu);
    cpu->cache_flags = cpu->env->mode_flags;
}

static bool w_load(void *o, uint64_t addr, IrMemOp mo, void *out);
static bool w_store(void *o, uint64_t addr, IrMemOp mo, const void *in);
static bool w_cmpxchg(void *o, uint64_t addr, IrMemOp mo, const void *expect, const void *newv,
                      void *old);
static bool w_rmw(void *o, uint64_t addr, IrMemOp mo, IrRmwOp op, const void *val, void *old);

/* Start the next latch sampling period: EXEC_LATCH_PERIOD latch entries
 * on average (fewer under a lower EMU_HOT_THRESHOLD, as the tests set it),
 * jittered (0.5x to 1.5x) so that a loop nest whose trips repeat with the
 * period's rhythm is not always sampled at the same latch. */
static void latch_restart(ExecCpu *cpu)
{
    uint32_t x = cpu->latch_rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    cpu->latch_rng = x;
    int32_t base = EXEC_LATCH_PERIOD, threshold = tierup_threshold(cpu->e); /* 0: no tier-up */
    if (threshold > 0 && threshold < base)
        base = threshold;
    cpu->latch_period = (base + 1) / 2 + (int32_t)(x % (uint32_t)base);
    cpu->env->latch_budget = cpu->latch_period;
}

/* A latch took env->latch_budget to zero: it is credited with the whole
 * period (each latch, on average, with the trips it ran: its share of the
 * samples is its share of the latch entries).  True when that uses up
 * its TransBlock.hot: tierup_hot() then decides what it earned. */
static bool latch_credit(ExecCpu *cpu, TransBlock *tb)
{
    int32_t period = cpu->latch_period;
    latch_restart(cpu);
    return __atomic_sub_fetch(&tb->hot, period, __ATOMIC_RELAXED) <= 0;
}

ExecCpu *exec_cpu_new(ExecEngine *e)
{
    ExecCpu *cpu = calloc(1, sizeof *cpu);
    if (!cpu) return NULL;
    size_t align = e->cfg.arch->state_align;
    if (align < sizeof(void *)) align = sizeof(void *);
    size_t size = (e->cfg.arch->state_size + align - 1) / align * align;
    cpu->env = aligned_alloc(align, size);
    cpu->jmp_cache = jc_alloc(JMP_CACHE_SIZE * sizeof *cpu->jmp_cache);
    cpu->tb_cache = jc_alloc(JMP_CACHE_SIZE * sizeof *cpu->tb_cache);
    if (!cpu->env || !cpu->jmp_cache || !cpu->tb_cache) {
        free(cpu->env);
        jc_free(cpu);
        free(cpu);
        return NULL;
    }
    memset(cpu->env, 0, size);
    cpu->e = e;
    cpu->env->jmp_cache = cpu->jmp_cache;
    cpu->env->runtime = cpu;
    cpu->env->page_perm = e->cfg.mem.page_perm;
    /* region code chains out through the jump cache unless exec tracing
     * wants every block to pass the dispatcher */
    cpu->env->chain_tramp = emu_log_enabled(EMU_LOG_EXEC) ? NULL : e->chain_tramp;
    jc_mark(cpu, jmp_cache_hash(0));
    cpu->jmp_cache[jmp_cache_hash(0)].pc = jc_empty_pc(jmp_cache_hash(0));
    cpu->imem = (IrMemIface){cpu, w_load, w_store, w_cmpxchg, w_rmw};
    cpu->latch_rng = 0x9e3779b9u ^ (uint32_t)(uintptr_t)cpu;
    latch_restart(cpu);
    pthread_mutex_lock(&e->lock);
    cpu->index = e->next_cpu_index++;
    cpu->next = e->cpus;
    e->cpus = cpu;
    pthread_mutex_unlock(&e->lock);
    return cpu;
}

void exec_cpu_free(ExecCpu *cpu)
{
    if (!cpu) return;
    ExecEngine *e = cpu->e;
    pthread_mutex_lock(&e->lock);
    ExecCpu **pp = &e->cpus;
    while (*pp && *pp != cpu)
        pp = &(*pp)->next;
    if (*pp) *pp = cpu->next;
    e->retired_dispatch += cpu->n_dispatch;
    e->retired_jc += cpu->n_jc_hits;
    e->retired_table += cpu->n_table_hits;
    pthread_mutex_unlock(&e->lock);
    free(cpu->env);
    jc_free(cpu);
    free(cpu);
}

void *exec_cpu_env(ExecCpu *cpu)
{
    return cpu->env;
}
ExecEngine *exec_cpu_engine(ExecCpu *cpu)
{
    return cpu->e;
}
ExecCpu *exec_cpu_from_env(void *env)
{
    return ((CpuCommon *)env)->runtime;
}

void exec_cpu_copy_state(ExecCpu *dst, const ExecCpu *src)
{
    size_t size = dst->e->cfg.arch->state_size;
    JmpCacheEntry *jc = dst->env->jmp_cache;
    void *rt = dst->env->runtime;
    memcpy(dst->env, src->env, size);
    dst->env->jmp_cache = jc;
    dst->env->runtime = rt;
}

void exec_cpu_request_exit_idle(ExecCpu *cpu)
{
    __atomic_store_n(&cpu->exit_request, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&cpu->env->exit_request, 1, __ATOMIC_RELAXED); /* LLVM region loops */
}

void exec_cpu_request_exit(ExecCpu *cpu)
{
    exec_cpu_request_exit_idle(cpu);
    /* Make indirect jumps in generated code miss, so that loops through
     * goto_ptr come back to the dispatcher (plain stores: signal-safe). */
    jc_clear(cpu, false);
    /* Called on the CPU's own thread from a signal handler that interrupted
     * generated code: point every chained jump back at its exit stub so a
     * loop of direct jumps leaves too.  No lock is needed: this thread holds
     * code_rw, so no flush can free blocks meanwhile.  The bookkeeping
     * (jmp_to) is left as it is; the dispatcher re-patches such a slot when
     * it sees the exit (see dispatch). */
    ExecEngine *e = cpu->e;
    if (exec_tls_cpu == cpu && cpu->in_code == 1 && e->buf.base) {
        size_t n = __atomic_load_n(&e->n_by_host, __ATOMIC_ACQUIRE);
        for (size_t i = 0; i < n; i++) {
            TransBlock *tb = e->by_host[i];
            for (unsigned s = 0; s < IR_GOTO_TB_SLOTS; s++)
                if (__atomic_load_n(&tb->jmp_to[s], __ATOMIC_RELAXED) &&
                    tb->code.chain_site[s] != UINT32_MAX)
                    tmpl_chain_patch(&e->buf, tb->code.chain_site[s],
                                     e->buf.base + tb->code.chain_reset[s] + e->buf.exec_delta);
        }
    }
}

/* ---- code buffer and translation ---------------------------------------- */

/* Drop every block: unchain everything so other CPUs come back to their
 * dispatchers, then wait for them to leave code (code_rw for writing).
 * Caller holds e->lock and not code_rw. */
void exec_flush_locked(ExecEngine *e)
{
    tb_unchain_all(e);
    for (ExecCpu *c = e->cpus; c; c = c->next)
        jc_flush(c);
    pthread_rwlock_wrlock(&e->code_rw);
    tb_free_all(e);
    if (e->buf.base) {
        e->buf.used = e->prologue_end;
        __atomic_store_n(&e->n_by_host, 0, __ATOMIC_RELEASE);
    }
    __atomic_add_fetch(&e->gen, 1, __ATOMIC_RELEASE);
    e->st.code_flushes++;
    pthread_rwlock_unlock(&e->code_rw);
}

void exec_flush_all(ExecEngine *e)
{
    pthread_mutex_lock(&e->lock);
    exec_flush_locked(e);
    pthread_mutex_unlock(&e->lock);
}

void exec_guest_fault_handler(ExecEngine *e)
{
    pthread_mutex_lock(&e->lock);
    bool was = e->precise_loads;
    __atomic_store_n(&e->precise_loads, true, __ATOMIC_RELEASE);
    /* code made without the load checks goes (a queued compile sees the
     * new generation and is not installed) */
    if (!was && e->cfg.mem.page_perm &&
        (e->cfg.tier == EXEC_TIER_AUTO || e->cfg.tier == EXEC_TIER_LLVM))
        exec_flush_locked(e);
    pthread_mutex_unlock(&e->lock);
}

/* Guest code for the frontend, through a buffer so that the embedder is
 * asked once per window rather than once per instruction.  A window is at
 * most EXEC_CODE_WINDOW bytes from the first pc asked for and never crosses
 * a page (permissions are per page): copying a whole page per block cost
 * more than the rest of the block's fetches.  Under e->lock;
 * code_cache_valid is cleared before each translation so that every block
 * sees current bytes. */
#define EXEC_CODE_WINDOW 256
static bool read_code_cb(void *opaque, uint64_t pc, void *buf, size_t len)
{
    ExecEngine *e = opaque;
    uint64_t page = pc & ~(EXEC_PAGE_SIZE - 1);
    if (len <= EXEC_PAGE_SIZE - (pc - page)) {
        if (e->code_cache_valid && pc >= e->code_cache_start &&
            pc - e->code_cache_start + len <= e->code_cache_len) {
            memcpy(buf, e->code_cache + (pc - e->code_cache_start), len);
            return true;
        }
        uint64_t n = EXEC_PAGE_SIZE - (pc - page);
        if (n > EXEC_CODE_WINDOW)
            n = EXEC_CODE_WINDOW;
        if (n < len)
            n = len;
        e->code_cache_valid = e->cfg.mem.read_code(e->cfg.mem.opaque, pc, e->code_cache, n);
        e->code_cache_start = pc;
        e->code_cache_len = (uint32_t)n;
        if (e->code_cache_valid) {
            memcpy(buf, e->code_cache, len);
            return true;
        }
    }
    return e->cfg.mem.read_code(e->cfg.mem.opaque, pc, buf, len);
}

static void log_in_asm(ExecEngine *e, const IrBlock *b)
{
    FILE *f = emu_log_file();
    fprintf(f, "----------------\nIN: \n");
    if (b->guest_size) {
        uint8_t *bytes = malloc(b->guest_size);
        if (bytes && read_code_cb(e, b->pc, bytes, b->guest_size))
            disas_print(f, e->cfg.arch->llvm_triple, bytes, b->guest_size, b->pc);
        else
            fprintf(f, "0x%016" PRIx64 ":  <unreadable>\n", b->pc);
        free(bytes);
    } else {
        fprintf(f, "0x%016" PRIx64 ":  <no instructions>\n", b->pc);
    }
    fprintf(f, "\n");
}

/* Frontend + passes.  NULL with *ev set on failure.  Under e->lock. */
static IrBlock *lift_q(ExecEngine *e, uint64_t pc, uint32_t flags, unsigned max_insns, bool quiet,
                       ExecEvent *ev)
{
    GuestCodeReader rd = {e, read_code_cb}; /* callers probed: cache is fresh */
    IrBlock *b = e->cfg.arch->translate(pc, flags, &rd, max_insns);
    if (!b) {
        *ev = (ExecEvent){.kind = EXEC_EV_ERROR, .pc = pc, .msg = "frontend returned no block"};
        return NULL;
    }
    bool logging = !quiet && emu_log_enabled(EMU_LOG_IN_ASM | EMU_LOG_OP | EMU_LOG_OP_OPT);
    if (logging) {
        emu_log_lock();
        if (emu_log_enabled(EMU_LOG_IN_ASM)) log_in_asm(e, b);
        if (emu_log_enabled(EMU_LOG_OP)) {
            fprintf(emu_log_file(), "OP:\n");
            ir_print(b, emu_log_file());
            fprintf(emu_log_file(), "\n");
        }
    }
    char err[256];
    if (e->cfg.verify && !ir_verify(b, err, sizeof err)) {
        fprintf(stderr, "emu: frontend produced invalid IR at pc 0x%" PRIx64 ": %s\n", pc, err);
        goto bad;
    }
    ir_optimize(b);
    if (logging) {
        if (emu_log_enabled(EMU_LOG_OP_OPT)) {
            fprintf(emu_log_file(), "OP after optimization:\n");
            ir_print(b, emu_log_file());
            fprintf(emu_log_file(), "\n");
        }
        emu_log_unlock();
        logging = false;
    }
    if (e->cfg.verify && !ir_verify(b, err, sizeof err)) {
        fprintf(stderr, "emu: optimised IR invalid at pc 0x%" PRIx64 ": %s\n", pc, err);
        goto bad;
    }
    return b;
bad:
    if (logging) emu_log_unlock();
    ir_block_free(b);
    *ev = (ExecEvent){.kind = EXEC_EV_ERROR, .pc = pc, .msg = "invalid IR (see stderr)"};
    return NULL;
}

static IrBlock *lift(ExecEngine *e, uint64_t pc, uint32_t flags, unsigned max_insns, ExecEvent *ev)
{
    return lift_q(e, pc, flags, max_insns, false, ev);
}

IrBlock *exec_lift_locked(ExecEngine *e, uint64_t pc, uint32_t flags, bool quiet, ExecEvent *ev)
{
    uint8_t probe;
    e->code_cache_valid = false;
    if (!read_code_cb(e, pc, &probe, 1)) {
        *ev = (ExecEvent){.kind = EXEC_EV_FETCH_FAULT, .pc = pc, .addr = pc};
        return NULL;
    }
    return lift_q(e, pc, flags, e->cfg.max_insns, quiet, ev);
}

/* Does b jump directly backwards (to its own pc or before, within
 * EXEC_LATCH_SPAN)?  *target = where.
 * Such a block closes a loop: --tier=auto counts only these. */
static bool backward_target(const IrBlock *b, uint64_t *target)
{
    for (uint32_t i = 0; i < b->n_ops; i++) {
        const IrInst *op = &b->ops[i];
        if (!op->dead && op->opc == IR_OP_goto_tb && op->c[1] <= b->pc &&
            b->pc + b->guest_size - op->c[1] <= EXEC_LATCH_SPAN) {
            *target = op->c[1];
            return true;
        }
    }
    return false;
}

void exec_register_host(ExecEngine *e, TransBlock *tb, const TmplCode *code)
{
    tb->code = *code;
    tb->host = e->buf.base + code->entry_offset + e->buf.exec_delta;
    e->by_host[e->n_by_host] = tb;
    __atomic_store_n(&e->n_by_host, e->n_by_host + 1, __ATOMIC_RELEASE);
    e->st.host_bytes += code->size;
    perfmap_add(tb->host, code->size, "emu tb 0x%" PRIx64, tb->pc);
    if (emu_log_enabled(EMU_LOG_OUT_ASM)) {
        emu_log_lock();
        fprintf(emu_log_file(), "OUT: [size=%u]\n", code->size);
        disas_print(emu_log_file(), "x86_64-linux-gnu", tb->host, code->size,
                    (uint64_t)(uintptr_t)tb->host);
        fprintf(emu_log_file(), "\n");
        emu_log_unlock();
    }
}

/* A template block's insn offsets for host_to_guest: NULL when insn k is
 * at pc + 4k (AArch64 always), else an array (on failure too: a fault then
 * reports the block's pc). */
static uint16_t *insn_offsets(uint64_t pc, uint32_t n, const IrGuestInsn *insns)
{
    bool stride4 = true;
    for (uint32_t i = 0; i < n && stride4; i++)
        stride4 = insns[i].pc == pc + 4ull * i;
    if (stride4)
        return NULL;
    uint16_t *off = malloc((n ? n : 1) * sizeof *off);
    for (uint32_t i = 0; off && i < n; i++)
        off[i] = (uint16_t)(insns[i].pc - pc);
    return off;
}

/* Template backend into the code buffer; false: interpret the block. */
static bool emit_host(ExecEngine *e, TransBlock *tb, const IrBlock *b)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (e->n_by_host >= e->cap_by_host) exec_flush_locked(e);
        TmplCode code;
        const char *why = NULL;
        memset(&code, 0, sizeof code);
        TmplMemModel mm = e->mm;
        mm.exec_counter = e->cfg.stats ? &tb->exec_count : NULL;
        mm.skip_counter = e->cfg.stats ? &tb->skipped_insns : NULL;
        /* Tier-up counts loop trips, not every block entry: the countdown
         * sits only in blocks that jump backwards (a memory decrement at every
         * entry cost ~25% on block-dense code such as sqlite3), and not in
         * loops of a region an earlier run dropped (a cache marker). */
        bool latch = e->tu && backward_target(b, &tb->loop_header);
        if (latch && e->tc)
            tiercache_meet_header(e, tb, tb->loop_header);
        if (latch && !tierup_in_dropped_locked(e, tb->loop_header)) {
            tb->latch = true;
            tb->hot = tierup_threshold(e);
            mm.latch_sample = true;
        }
        mm.relocatable = tmplcache_storing(e);
        if (tmpl_translate(b, &e->buf, (uintptr_t)tb, &mm, &code, &why)) {
            tb->insn_off = insn_offsets(b->pc, b->n_insns, b->insns);
            if (mm.relocatable)
                tmplcache_store(e, tb, b, &code);
            free(code.relocs);
            code.relocs = NULL;
            code.n_relocs = 0;
            exec_register_host(e, tb, &code);
            return true;
        }
        if (attempt == 1 || e->buf.size - e->buf.used > EXEC_CODE_HEADROOM) {
            static bool warned;
            if (emu_log_enabled(EMU_LOG_UNIMP))
                emu_log("template backend refused the block at 0x%" PRIx64
                        " (%s); interpreting it\n",
                        b->pc, why ? why : "no reason given");
            else if (!warned)
                fprintf(stderr,
                        "emu: template backend refused the block at 0x%" PRIx64
                        " (%s); interpreting it (more with -d unimp)\n",
                        b->pc, why ? why : "no reason given");
            warned = true;
            e->st.interp_fallbacks++;
            return false;
        }
        exec_flush_locked(e); /* the buffer is full: start over */
    }
    return false;
}

/* Pre-decode b for the interpreter (b stays the caller's). */
static bool attach_interp(TransBlock *tb, const IrBlock *b, ExecEvent *ev)
{
    char err[160];
    tb->icode = ir_interp_prepare(b, err, sizeof err);
    if (!tb->icode) {
        fprintf(stderr, "emu: cannot interpret the block at 0x%" PRIx64 ": %s\n", b->pc, err);
        *ev = (ExecEvent){.kind = EXEC_EV_ERROR, .pc = b->pc, .msg = "block not interpretable"};
        return false;
    }
    return true;
}

/* Put a block with its code into the table and the page map. */
static TransBlock *insert_translated(ExecEngine *e, TransBlock *tb)
{
    fork_ring_note_block(e, tb);
    tb->all_next = e->all;
    e->all = tb;
    tb_insert(e, tb);
    for (uint64_t pg = tb->first_page; pg <= tb->last_page; pg++)
        if (tb_mark_code_page(e, pg) && e->cfg.mem.protect_code_page)
            e->cfg.mem.protect_code_page(e->cfg.mem.opaque, pg << EXEC_PAGE_BITS);
    if (e->tc) /* code cache: a region entered here links in now (timed apart) */
        tiercache_on_translate(e, tb);
    return tb;
}

TransBlock *exec_translate_locked(ExecEngine *e, uint64_t pc, uint32_t flags, ExecEvent *ev)
{
    uint8_t probe;
    e->code_cache_valid = false;
    if (!read_code_cb(e, pc, &probe, 1)) {
        *ev = (ExecEvent){.kind = EXEC_EV_FETCH_FAULT, .pc = pc, .addr = pc};
        return NULL;
    }
    if (e->n_dead > EXEC_MAX_DEAD) exec_flush_locked(e);
    TransBlock *tb = calloc(1, sizeof *tb);
    if (!tb) {
        *ev = (ExecEvent){.kind = EXEC_EV_ERROR, .pc = pc, .msg = "out of memory"};
        return NULL;
    }
    /* code cache: a stored translation skips frontend and backend (its
     * time is counted apart, as cache load) */
    if (e->tc && e->n_by_host < e->cap_by_host && tmplcache_load(e, tb, pc, flags))
        return insert_translated(e, tb);
    uint64_t t0 = exec_now_ns();
    IrBlock *b = lift(e, pc, flags, e->cfg.max_insns, ev);
    if (!b) {
        free(tb);
        return NULL;
    }
    tb->pc = pc;
    tb->flags = flags;
    tb->guest_size = b->guest_size;
    tb->dep_before = b->read_before;
    tb->dep_after = b->read_after;
    tb->n_insns = b->n_insns;
    tb->first_page = pc >> EXEC_PAGE_BITS;
    tb->last_page = (pc + (b->guest_size ? b->guest_size - 1 : 0)) >> EXEC_PAGE_BITS;
    for (unsigned s = 0; s < IR_GOTO_TB_SLOTS; s++)
        tb->code.chain_site[s] = UINT32_MAX;
    /* LLVM blocks also get an interpreter form: an interpreted block chained
     * to one (run_interp) runs it that way. */
    TierLlvmCode lc;
    bool ok = (e->cfg.tier == EXEC_TIER_LLVM &&
               tier_llvm_translate_block(b, (uintptr_t)tb,
                                         e->cfg.stats ? &tb->llvm_exec_count : NULL,
                                         exec_llvm_mem(e), &lc) &&
               (tb->llvm_entry = lc.entry, tb->llvm_handle = lc.handle,
                tb->llvm_stub = tmpl_emit_call_stub(&e->buf, lc.entry), true) &&
               attach_interp(tb, b, ev)) ||
              (e->cfg.tier != EXEC_TIER_INTERP && emit_host(e, tb, b)) ||
              attach_interp(tb, b, ev);
    ir_block_free(b);
    if (!ok) {
        free(tb);
        return NULL;
    }
    e->st.blocks_translated++;
    e->st.insns_translated += tb->n_insns;
    e->st.translate_ns += exec_now_ns() - t0;
    return insert_translated(e, tb);
}

TransBlock *exec_lookup(ExecEngine *e, uint64_t pc, uint32_t flags)
{
    pthread_mutex_lock(&e->lock);
    TransBlock *tb = tb_find(e, pc, flags);
    pthread_mutex_unlock(&e->lock);
    return tb;
}

TransBlock *exec_get_block(ExecEngine *e, uint64_t pc, uint32_t flags)
{
    ExecEvent ev;
    pthread_mutex_lock(&e->lock);
    TransBlock *tb = tb_find(e, pc, flags);
    if (!tb) tb = exec_translate_locked(e, pc, flags, &ev);
    pthread_mutex_unlock(&e->lock);
    return tb;
}

size_t exec_block_count(ExecEngine *e)
{
    pthread_mutex_lock(&e->lock);
    size_t n = e->n_blocks;
    pthread_mutex_unlock(&e->lock);
    return n;
}

void exec_invalidate_range(ExecEngine *e, uint64_t start, uint64_t len)
{
    if (len == 0) return;
    /* Whole pages, so that every page in the range ends up without blocks
     * and writable again (its protection is per page). */
    uint64_t end = start + len < start ? UINT64_MAX : start + len;
    uint64_t s = start & ~(EXEC_PAGE_SIZE - 1);
    uint64_t last = (end - 1) | (EXEC_PAGE_SIZE - 1);
    len = last - s == UINT64_MAX ? UINT64_MAX : last - s + 1;
    pthread_mutex_lock(&e->lock);
    tb_invalidate_locked(e, s, len);
    pthread_mutex_unlock(&e->lock);
}

bool exec_is_code_page(ExecEngine *e, uint64_t addr)
{
    return tb_test_code_page(e, addr >> EXEC_PAGE_BITS);
}

bool exec_code_hash(ExecEngine *e, uint64_t start, size_t len, uint8_t out[16])
{
    const void *v = e->cfg.mem.code_view ? e->cfg.mem.code_view(e->cfg.mem.opaque, start, len)
                                         : NULL;
    if (v) {
        emu_cache_hash128(v, len, out);
        return true;
    }
    if (e->cfg.mem.code_view)
        return false;   /* not mapped executable */
    uint8_t stackbuf[1024];
    uint8_t *b = len <= sizeof stackbuf ? stackbuf : malloc(len);
    bool ok = b && e->cfg.mem.read_code(e->cfg.mem.opaque, start, b, len);
    if (ok)
        emu_cache_hash128(b, len, out);
    if (b != stackbuf)
        free(b);
    return ok;
}

bool exec_any_code_page(ExecEngine *e, uint64_t start, uint64_t len)
{
    uint64_t last = start + len - 1 < start ? UINT64_MAX : start + len - 1;
    return tb_any_code_page(e, start >> EXEC_PAGE_BITS, last >> EXEC_PAGE_BITS);
}

/* ---- fork ---------------------------------------------------------------- */

void exec_fork_image_changed(ExecEngine *e)
{
    e->fp_report = false;
}

void exec_fork_prepare(ExecEngine *e)
{
    pthread_mutex_lock(&e->lock);
    fork_ring_take(e);
    tb_table_prepare_fork(e);
    tierup_fork_prepare(e);
}

void exec_fork_parent(ExecEngine *e)
{
    tierup_fork_parent(e);
    pthread_mutex_unlock(&e->lock);
}

static void init_locks(ExecEngine *e)
{
    pthread_mutex_init(&e->lock, NULL);
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    /* A flush must not starve behind CPUs re-entering code. */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&e->code_rw, &ra);
    pthread_rwlockattr_destroy(&ra);
}

void exec_fork_child(ExecEngine *e, ExecCpu *survivor)
{
    /* Other CPUs' threads do not exist here; their read holds on code_rw
     * would block every flush, so both locks start over. */
    ExecCpu *c = e->cpus;
    while (c) {
        ExecCpu *next = c->next;
        if (c != survivor) {
            e->retired_dispatch += c->n_dispatch;
            free(c->env);
            jc_free(c);
            free(c);
        }
        c = next;
    }
    e->cpus = survivor;
    if (survivor) {
        survivor->next = NULL;
        survivor->jc_lean = JC_LEAN_FILLS;
    }
    e->fp_report = true;
    e->fp_noted = 0;
    memset(&e->lock, 0, sizeof e->lock);
    memset(&e->code_rw, 0, sizeof e->code_rw);
    init_locks(e);
    tierup_fork_child(e);
}

/* ---- interpreter memory wrappers ---------------------------------------- */

static bool w_fail(ExecCpu *cpu, CpuFaultKind k, uint64_t addr, bool write)
{
    cpu->fault_kind = k;
    cpu->fault_addr = addr;
    cpu->fault_write = write;
    return false;
}

static bool w_check(ExecCpu *cpu, uint64_t addr, IrMemOp mo, bool write)
{
    unsigned a = IR_MO_ALIGN_LOG2(mo);
    if (a && (addr & (((uint64_t)1 << a) - 1))) return w_fail(cpu, CPU_FAULT_BUS, addr, write);
    if (write) {
        uint64_t last = addr + IR_MO_BYTES(mo) - 1;
        for (uint64_t pg = addr >> EXEC_PAGE_BITS; pg <= last >> EXEC_PAGE_BITS; pg++)
            if (tb_test_code_page(cpu->e, pg))
                return w_fail(cpu, CPU_FAULT_SMC, pg << EXEC_PAGE_BITS, true);
    }
    return true;
}

static bool w_load(void *o, uint64_t addr, IrMemOp mo, void *out)
{
    ExecCpu *cpu = o;
    const IrMemIface *m = &cpu->e->cfg.mem.interp_mem;
    if (!w_check(cpu, addr, mo, false)) return false;
    return m->load(m->opaque, addr, mo, out) || w_fail(cpu, CPU_FAULT_SEGV, addr, false);
}

static bool w_store(void *o, uint64_t addr, IrMemOp mo, const void *in)
{
    ExecCpu *cpu = o;
    const IrMemIface *m = &cpu->e->cfg.mem.interp_mem;
    if (!w_check(cpu, addr, mo, true)) return false;
    return m->store(m->opaque, addr, mo, in) || w_fail(cpu, CPU_FAULT_SEGV, addr, true);
}

static bool w_cmpxchg(void *o, uint64_t addr, IrMemOp mo, const void *expect, const void *newv,
                      void *old)
{
    ExecCpu *cpu = o;
    const IrMemIface *m = &cpu->e->cfg.mem.interp_mem;
    if (!m->cmpxchg) return w_fail(cpu, CPU_FAULT_SEGV, addr, true);
    if (!w_check(cpu, addr, mo, true)) return false;
    return m->cmpxchg(m->opaque, addr, mo, expect, newv, old) ||
           w_fail(cpu, CPU_FAULT_SEGV, addr, true);
}

static bool w_rmw(void *o, uint64_t addr, IrMemOp mo, IrRmwOp op, const void *val, void *old)
{
    ExecCpu *cpu = o;
    const IrMemIface *m = &cpu->e->cfg.mem.interp_mem;
    if (!m->rmw) return w_fail(cpu, CPU_FAULT_SEGV, addr, true);
    if (!w_check(cpu, addr, mo, true)) return false;
    return m->rmw(m->opaque, addr, mo, op, val, old) || w_fail(cpu, CPU_FAULT_SEGV, addr, true);
}

/* ---- the dispatcher ----------------------------------------------------- */

static void rd_lock(ExecCpu *cpu)
{
    pthread_rwlock_rdlock(&cpu->e->code_rw);
    cpu->holds_rd = true;
    cpu->run_gen = __atomic_load_n(&cpu->e->gen, __ATOMIC_ACQUIRE);
}

static void rd_unlock(ExecCpu *cpu)
{
    if (cpu->holds_rd) {
        cpu->holds_rd = false;
        pthread_rwlock_unlock(&cpu->e->code_rw);
    }
}

/* Table lookup / translation, and chaining prev's slot to the result.
 * Entered and left holding code_rw; drops it in between. */
static TransBlock *find_slow(ExecCpu *cpu, uint64_t pc, uint32_t flags, TransBlock *prev,
                             unsigned slot, ExecEvent *ev)
{
    ExecEngine *e = cpu->e;
    for (;;) {
        uint64_t prev_gen = cpu->run_gen;
        rd_unlock(cpu);
        pthread_mutex_lock(&e->lock);
        TransBlock *tb = tb_find(e, pc, flags);
        if (tb)
            STAT_INC(cpu->n_table_hits);
        else
            tb = exec_translate_locked(e, pc, flags, ev);
        if (tb) {
            /* prev is only valid if no flush happened since it ran. */
            if (prev && e->gen == prev_gen && chaining_on(e) && tb_chain(e, prev, slot, tb))
                fork_ring_note_chain(e, prev, slot, tb);
            jc_fill(cpu, tb);
        }
        uint64_t gen = e->gen;
        pthread_mutex_unlock(&e->lock);
        rd_lock(cpu);
        if (!tb || cpu->run_gen == gen) return tb;
        prev = NULL; /* flushed in between: look again */
    }
}

/* Run interpreted blocks, following chains like generated code does. */
static int run_interp(ExecCpu *cpu, TransBlock *tb, TransBlock **last)
{
    CpuCommon *env = cpu->env;
    const bool stats = cpu->e->cfg.stats;
    for (;;) {
        IrExitInfo x;
        uint32_t fi = 0;
        cpu->fault_kind = CPU_FAULT_NONE;
        *last = tb;
        cpu->in_code = 2;
        IrInterpStatus st = ir_interp_exec(tb->icode, env, &cpu->imem, &x, &fi);
        cpu->in_code = 0;
        if (st == IR_INTERP_FAULT) {
            env->pc = ir_interp_insn_pc(tb->icode, fi);
            /* The interpreter checks alignment before calling the memory
             * callbacks, so a fault they did not see is a misaligned access;
             * the interpreter reports its address in x.fault_addr. */
            if (cpu->fault_kind == CPU_FAULT_NONE)
                w_fail(cpu, CPU_FAULT_BUS, x.fault_addr, false);
            return RUN_FAULT;
        }
        if (st != IR_INTERP_EXITED) return RUN_INVALID;
        env->pc = x.pc;
        if (x.kind == IR_OP_goto_tb) {
            if (stats && x.insn + 1 < tb->n_insns)
                __atomic_add_fetch(&tb->skipped_insns, tb->n_insns - x.insn - 1, __ATOMIC_RELAXED);
            unsigned slot = x.slot % IR_GOTO_TB_SLOTS; /* ir_verify: always below */
            TransBlock *n = __atomic_load_n(&tb->jmp_to[slot], __ATOMIC_ACQUIRE);
            if (n && !__atomic_load_n(&cpu->exit_request, __ATOMIC_RELAXED) && !tb_is_invalid(n)) {
                tb = n;
                if (stats) __atomic_add_fetch(&tb->exec_count, 1, __ATOMIC_RELAXED);
                continue;
            }
            return (int)slot;
        }
        if (x.kind == IR_OP_goto_ptr) {
            TransBlock *n = __atomic_load_n(&cpu->tb_cache[jmp_cache_hash(x.pc)], __ATOMIC_ACQUIRE);
            if (n && n->pc == x.pc && n->flags == env->mode_flags && !n->host &&
                !tb_is_invalid(n) && !__atomic_load_n(&cpu->exit_request, __ATOMIC_RELAXED) &&
                !emu_log_enabled(EMU_LOG_EXEC)) {
                tb = n;
                if (stats) __atomic_add_fetch(&tb->exec_count, 1, __ATOMIC_RELAXED);
                continue;
            }
            return TMPL_RET_LOOKUP;
        }
        env->exit_reason = x.reason;
        return TMPL_RET_EXIT;
    }
}

static ExecEvent event_from_exception(CpuCommon *env)
{
    ExecEvent ev = {.pc = env->pc, .addr = env->exception_addr, .code = env->exception_code};
    switch (env->exception_kind) {
    case EXEC_EXC_SEGV:
        ev.kind = EXEC_EV_SEGV;
        ev.is_write = env->exception_code & 1;
        break;
    case EXEC_EXC_BUS:
        ev.kind = EXEC_EV_BUS;
        ev.is_write = env->exception_code & 1;
        break;
    case EXEC_EXC_UNDEF:
        ev.kind = EXEC_EV_UNDEF;
        break;
    case EXEC_EXC_BREAKPOINT:
        ev.kind = EXEC_EV_BREAKPOINT;
        break;
    default:
        ev.kind = EXEC_EV_EXCEPTION;
        break;
    }
    return ev;
}

/* A guest store hit a code page: drop the page's blocks (which gives the
 * page back to the embedder) and re-run the storing instruction alone,
 * untranslated-for-keeps, so that its own page is not protected again
 * before the store lands.  Called without code_rw. */
static void smc_restart(ExecCpu *cpu, uint64_t addr)
{
    ExecEngine *e = cpu->e;
    pthread_mutex_lock(&e->lock);
    e->st.smc_faults++;
    tb_invalidate_locked(e, addr & ~(EXEC_PAGE_SIZE - 1), EXEC_PAGE_SIZE);
    pthread_mutex_unlock(&e->lock);
    cpu->oneshot = true;
}

/* A one-instruction interpreted block at env->pc, not in the table, pages
 * not marked.  Under code_rw; drops it while translating. */
static TransBlock *oneshot_block(ExecCpu *cpu, ExecEvent *ev)
{
    ExecEngine *e = cpu->e;
    uint64_t pc = cpu->env->pc;
    rd_unlock(cpu);
    pthread_mutex_lock(&e->lock);
    TransBlock *tb = NULL;
    uint8_t probe;
    e->code_cache_valid = false;
    if (!read_code_cb(e, pc, &probe, 1)) {
        *ev = (ExecEvent){.kind = EXEC_EV_FETCH_FAULT, .pc = pc, .addr = pc};
    } else {
        IrBlock *b = lift(e, pc, cpu->env->mode_flags, 1, ev);
        if (b) {
            tb = calloc(1, sizeof *tb);
            if (tb) {
                tb->pc = pc;
                tb->flags = cpu->env->mode_flags;
                tb->invalid = true; /* never chained, never cached */
                if (!attach_interp(tb, b, ev)) {
                    free(tb);
                    tb = NULL;
                }
            } else {
                *ev = (ExecEvent){.kind = EXEC_EV_ERROR, .pc = pc, .msg = "out of memory"};
            }
            ir_block_free(b);
        }
    }
    pthread_mutex_unlock(&e->lock);
    rd_lock(cpu);
    return tb;
}

static void trace_exec(ExecCpu *cpu, TransBlock *tb)
{
    const void *code = tb->llvm_entry ? (const void *)tb->llvm_entry
                       : tb->host     ? tb->host
                                      : (const void *)tb->icode;
    emu_log("Trace %u: %p [%08x/%016" PRIx64 "/%s]\n", cpu->index, code, tb->flags, tb->pc,
            tb->llvm_entry ? "llvm" : tb->host ? "jit" : "interp");
}

/* The loop proper.  Entered without code_rw, leaves without it. */
static ExecEvent dispatch(ExecCpu *cpu)
{
    ExecEngine *e = cpu->e;
    CpuCommon *env = cpu->env;
    TransBlock *prev = NULL;
    unsigned prev_slot = 0;
    ExecEvent ev;
    const bool stats = e->cfg.stats;

    rd_lock(cpu);
    for (;;) {
        if (__atomic_load_n(&cpu->exit_request, __ATOMIC_RELAXED)) {
            __atomic_store_n(&cpu->exit_request, 0, __ATOMIC_RELAXED);
            __atomic_store_n(&env->exit_request, 0, __ATOMIC_RELAXED);
            ev = (ExecEvent){.kind = EXEC_EV_INTERRUPT, .pc = env->pc};
            break;
        }
        if (env->mode_flags != cpu->cache_flags) {
            jc_flush(cpu);
            cpu->cache_flags = env->mode_flags;
            prev = NULL;
        }
        TransBlock *tb;
        if (cpu->oneshot) {
            cpu->oneshot = false;
            tb = oneshot_block(cpu, &ev);
            if (!tb) break;
            cpu->oneshot_tb = tb;
            prev = NULL;
        } else {
            uint64_t pc = env->pc;
            tb = __atomic_load_n(&cpu->tb_cache[jmp_cache_hash(pc)], __ATOMIC_ACQUIRE);
            if (prev || !tb || tb->pc != pc || tb->flags != env->mode_flags || tb_is_invalid(tb)) {
                tb = find_slow(cpu, pc, env->mode_flags, prev, prev_slot, &ev);
                if (!tb) break;
                prev = NULL;
            } else {
                /* The in-code entry may have been emptied (exit request):
                 * put it back so goto_ptr stops missing. */
                JmpCacheEntry *je = &cpu->jmp_cache[jmp_cache_hash(pc)];
                const void *host = tb_entry_host(tb);
                if (host && je->pc != pc && !cpu->ptr_window && !emu_log_enabled(EMU_LOG_EXEC)) {
                    jc_mark(cpu, jmp_cache_hash(pc));
                    __atomic_store_n(&je->host, host, __ATOMIC_RELEASE);
                    __atomic_store_n(&je->pc, pc, __ATOMIC_RELEASE);
                }
                if (stats) STAT_INC(cpu->n_jc_hits);
            }
        }
        if (stats) {
            STAT_INC(cpu->n_dispatch);
            if (!tb->host && !tb->llvm_entry) /* generated code counts its own entries */
                __atomic_add_fetch(&tb->exec_count, 1, __ATOMIC_RELAXED);
        }
        if (emu_log_enabled(EMU_LOG_EXEC)) trace_exec(cpu, tb);

        TransBlock *last;
        int kind;
        uintptr_t (*llvm_entry)(void *) = __atomic_load_n(&tb->llvm_entry, __ATOMIC_ACQUIRE);
        if (llvm_entry) {
            /* same exit protocol; host faults find env->pc set by the code.
             * Region code that may chain out runs inside tmpl_enter's
             * frame, entered through its call stub. */
            const void *stub = __atomic_load_n(&tb->llvm_stub, __ATOMIC_ACQUIRE);
            cpu->in_code = 1;
            uintptr_t r;
            if (stub) {
                r = tmpl_enter(env, stub);
            } else {
                const void *tramp = env->chain_tramp;
                env->chain_tramp = NULL;
                r = llvm_entry(env);
                env->chain_tramp = tramp;
            }
            cpu->in_code = 0;
            last = (TransBlock *)(r & ~TMPL_RET_MASK);
            kind = (int)(r & TMPL_RET_MASK);
        } else if (tb->host) {
            cpu->in_code = 1;
            uintptr_t r = tmpl_enter(env, tb->host);
            cpu->in_code = 0;
            last = (TransBlock *)(r & ~TMPL_RET_MASK);
            kind = (int)(r & TMPL_RET_MASK);
        } else {
            kind = run_interp(cpu, tb, &last);
        }
        if (cpu->oneshot_tb) {
            tb_free_one(cpu->oneshot_tb);
            if (last == cpu->oneshot_tb) last = NULL;
            cpu->oneshot_tb = NULL;
        }

        switch (kind) {
        case TMPL_RET_SLOT0 ... TMPL_RET_SLOT0 + IR_GOTO_TB_SLOTS - 1:
            /* A slot still chained in the bookkeeping was reset by an exit
             * request: chaining it again re-patches the code. */
            if (last && !tb_is_invalid(last) && chaining_on(e)) {
                prev = last;
                prev_slot = (unsigned)kind;
            }
            continue;
        case TMPL_RET_LOOKUP:
            /* a template goto_ptr's miss: remember its target for region
             * formation (misses are rare, so this costs nothing measurable) */
            if (last && e->tu && last->host && !tb_is_invalid(last) &&
                !__atomic_load_n(&last->llvm_entry, __ATOMIC_RELAXED))
                tierup_note_ptr(e, last, env->pc);
            if (cpu->ptr_window)
                cpu->ptr_window--;
            continue;
        case RUN_FAULT:
            if (cpu->fault_kind == CPU_FAULT_SMC) {
                rd_unlock(cpu);
                smc_restart(cpu, cpu->fault_addr);
                rd_lock(cpu);
                continue;
            }
            ev = (ExecEvent){.kind = cpu->fault_kind == CPU_FAULT_BUS ? EXEC_EV_BUS : EXEC_EV_SEGV,
                             .pc = env->pc,
                             .addr = cpu->fault_addr,
                             .is_write = cpu->fault_write};
            goto out;
        case RUN_INVALID:
            ev = (ExecEvent){
                .kind = EXEC_EV_ERROR, .pc = env->pc, .msg = "interpreter: malformed block"};
            goto out;
        default:
            break;
        }
        /* TMPL_RET_EXIT */
        switch (env->exit_reason) {
        case IR_EXIT_NONE:
            continue;
        case TIER_LLVM_EXIT_SLOW_MEM:
            /* an LLVM region left before an access its page map did not
             * allow: run that insn alone in the interpreter (precise) */
            cpu->oneshot = true;
            STAT_INC(cpu->n_slow_mem);
            continue;
        case TMPL_EXIT_HOT:
            /* a template latch's sample (a region's probe also leaves so) */
            if (last && last->latch && !last->llvm_entry && !latch_credit(cpu, last))
                continue;
            if (last) {
                uint64_t gen = cpu->run_gen;
                rd_unlock(cpu);
                uint32_t window = tierup_hot(e, last, gen);
                rd_lock(cpu);
                if (window && !cpu->ptr_window) {
                    /* every goto_ptr comes back here for a while */
                    cpu->ptr_window = window;
                    jc_clear(cpu, false);
                }
            }
            continue;
        case IR_EXIT_SMC:
            rd_unlock(cpu);
            exec_invalidate_range(e, env->pc & ~(EXEC_PAGE_SIZE - 1), EXEC_PAGE_SIZE);
            rd_lock(cpu);
            continue;
        case IR_EXIT_SYSCALL:
            ev = (ExecEvent){.kind = EXEC_EV_SYSCALL, .pc = env->pc};
            goto out;
        case IR_EXIT_UNDEF:
            ev = (ExecEvent){.kind = EXEC_EV_UNDEF, .pc = env->pc};
            goto out;
        case IR_EXIT_BREAKPOINT:
            ev =
                (ExecEvent){.kind = EXEC_EV_BREAKPOINT, .pc = env->pc, .code = env->exception_code};
            goto out;
        case IR_EXIT_HALT:
            ev = (ExecEvent){.kind = EXEC_EV_HALT, .pc = env->pc};
            goto out;
        case IR_EXIT_FETCH_FAULT:
            ev = (ExecEvent){.kind = EXEC_EV_FETCH_FAULT, .pc = env->pc, .addr = env->pc};
            goto out;
        case IR_EXIT_EXCEPTION:
            ev = event_from_exception(env);
            goto out;
        default:
            ev = (ExecEvent){.kind = EXEC_EV_ERROR, .pc = env->pc, .msg = "unknown exit reason"};
            goto out;
        }
    }
out:
    rd_unlock(cpu);
    return ev;
}

ExecEvent exec_run(ExecCpu *cpu)
{
    ExecEvent ev;
    ExecCpu *outer = exec_tls_cpu;
    exec_tls_cpu = cpu;
    for (;;) {
        if (sigsetjmp(cpu->jb, 0)) {
            /* Landed here from exec_fault_from_host (which put the signal
             * mask back) or exec_raise (a helper: no handler, mask as is). */
            cpu->jb_valid = 0;
            cpu->in_code = 0;
            rd_unlock(cpu);
            if (cpu->oneshot_tb) {
                tb_free_one(cpu->oneshot_tb);
                cpu->oneshot_tb = NULL;
            }
            if (cpu->fault_kind == CPU_FAULT_SMC) {
                cpu->fault_kind = CPU_FAULT_NONE;
                smc_restart(cpu, cpu->fault_addr);
                continue;
            }
            ev = cpu->pending;
            break;
        }
        cpu->jb_valid = 1;
        ev = dispatch(cpu);
        break;
    }
    cpu->jb_valid = 0;
    exec_tls_cpu = outer;
    return ev;
}

/* ---- exceptions from helpers and host faults ---------------------------- */

_Noreturn void exec_raise(void *env_, uint32_t kind, uint64_t addr, uint32_t code)
{
    CpuCommon *env = env_;
    ExecCpu *cpu = env->runtime;
    if (!cpu || !cpu->jb_valid) {
        fprintf(stderr, "emu: exec_raise outside exec_run (kind %u, pc 0x%" PRIx64 ")\n", kind,
                env->pc);
        abort();
    }
    env->exception_kind = kind;
    env->exception_addr = addr;
    env->exception_code = code;
    cpu->fault_kind = CPU_FAULT_NONE;
    cpu->pending = event_from_exception(env);
    siglongjmp(cpu->jb, 1);
}
