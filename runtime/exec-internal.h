/*
 * exec-internal.h - the runtime's private structures, shared by exec.c
 * (engine, dispatcher, faults), tb.c (block table, pages, chaining,
 * invalidation) and stats.c.  Not for other modules.
 *
 * Locking:
 *   e->lock     (mutex)  block table, page map, chaining, translation, the
 *                        code buffer.  Never taken while holding code_rw.
 *   e->code_rw  (rwlock, writers preferred)  a CPU holds it for reading while
 *                        it runs blocks or holds TransBlock pointers; a full
 *                        flush takes it for writing, so no CPU is in code when
 *                        blocks are freed.  e->gen counts flushes.
 * Invalidated blocks stay allocated (their code may still run on another
 * CPU for a moment) until the next flush.
 */
#ifndef EMU_RUNTIME_EXEC_INTERNAL_H
#define EMU_RUNTIME_EXEC_INTERNAL_H

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include "runtime/exec.h"
#include "runtime/stats.h"
#include "runtime/tier-llvm.h"
#include "template-backend/tmpl.h"

/* CLOCK_MONOTONIC in ns (timing for --stats, the cache and tier-up). */
static inline uint64_t exec_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Guest code a block depends on beyond its own [pc, pc + guest_size). */
typedef struct TbRange {
    uint64_t pc;
    uint32_t size;
    uint32_t n_insns;               /* guest instructions (stats) */
} TbRange;

/* A goto_ptr target seen by the dispatcher, and how many times. */
typedef struct TbPtrTarget {
    uint64_t pc;
    uint64_t count;
} TbPtrTarget;

struct TransBlock {
    uint64_t pc;                    /* guest pc of the first insn */
    uint32_t flags;                 /* mode flags it was translated under */
    uint32_t guest_size;            /* bytes of guest code covered */
    uint16_t dep_before, dep_after; /* its code also depends on these bytes before
                                       pc and past pc + guest_size, in its own
                                       pages (IrBlock.read_before/after) */
    uint32_t n_insns;               /* guest instructions */
    bool invalid;                   /* removed from the table (kept until flush) */
    const void *host;               /* template entry point; NULL: run ir */
    uintptr_t (*llvm_entry)(void *env); /* LLVM tier code (host NULL): returns
                                           tag | TMPL_RET_* like tmpl_enter */
    IrInterpCode *icode;            /* interpreter tier / template fallback */
    TmplCode code;                  /* template: offsets, chain sites, insn map */
    uint16_t *insn_off;             /* template: insn k's offset from pc; NULL when
                                       it is 4k (fixed 4-byte insns: no array) */
    TransBlock *jmp_to[IR_GOTO_TB_SLOTS];  /* block chained from slot s, or NULL */
    uintptr_t jmp_next[IR_GOTO_TB_SLOTS];  /* next link (src | slot) in jmp_to[s]'s list */
    uintptr_t jmp_in;               /* first incoming link (src | slot), 0: none */
    TransBlock *all_next;           /* every allocated block (freed at flush) */
    uint64_t first_page, last_page; /* guest page numbers covered */
    uint64_t exec_count;            /* template/interpreter runs (stats only) */
    uint64_t skipped_insns;         /* ... minus the insns side exits skipped */
    /* LLVM tier (tierup.c).  llvm_entry is published last (release store):
     * a CPU that sees it may call it. */
    void *llvm_handle;              /* TierLlvmCode handle, released at flush */
    const void *llvm_stub;          /* code-buffer stub calling llvm_entry: what
                                       chained jumps and the jump cache target */
    uint64_t llvm_exec_count;       /* starts of this block in LLVM code (stats) */
    int32_t hot;                    /* tier-up: latch trips still to go; the dispatcher
                                       takes each sample's period off (latch_credit) */
    bool latch;                     /* ends with a direct jump backwards: counts */
    bool timing;                    /* latch: its trips are being timed (tierup) */
    uint64_t timed_ns;              /* ... since this CPU time of thread timed_thread */
    uint64_t timed_thread;
    uint64_t loop_header;           /* ... to this pc (the region entry it asks for) */
    uint8_t tier_state;             /* TIER_* below */
    TransBlock **region_users;      /* region entries whose code inlines this block */
    uint32_t n_region_users, cap_region_users;
    /* Code cache (tiercache.c). */
    struct ObjImage *obj_image;     /* region code loaded by objload (freed at flush) */
    TbRange *ranges;                /* cached region: guest code of every member (the
                                       members need not exist as blocks), also in the
                                       page map so writes there remove this block */
    uint32_t n_ranges;
    uint64_t *region_counts;        /* cached region, --stats: starts of member j */
    /* Region entry, --tier=auto: what its code counts for tierup.c's
     * keep-or-drop decision: [0] entries, [1] host cycles spent inside
     * during the first period, [2] the cycle count at the last entry. */
    uint64_t probe[3];
    /* --tier=auto: targets of this block's goto_ptr that missed the jump
     * cache (the dispatcher saw tag | TMPL_RET_LOOKUP with env->pc) and how
     * often, up to TIERUP_PTR_TARGETS, under TierUp.ptr_lock; region
     * formation follows them like chained goto_tb slots (tierup.c). */
    TbPtrTarget *ptr_targets;
    uint32_t n_ptr_targets;
};

enum { TIER_COLD, TIER_QUEUED, TIER_DONE, TIER_SAMPLING };

/* Where a jump into tb should go: its LLVM stub once it has one. */
static inline const void *tb_entry_host(const TransBlock *tb)
{
    const void *s = __atomic_load_n(&tb->llvm_stub, __ATOMIC_ACQUIRE);
    return s ? s : tb->host;
}

/* Read by CPUs without the lock (set once, under it). */
static inline bool tb_is_invalid(const TransBlock *tb)
{
    return __atomic_load_n(&tb->invalid, __ATOMIC_RELAXED);
}

/* Guest page -> blocks that cover it (for invalidation). */
typedef struct PageDesc {
    uint64_t page; /* guest page number */
    TransBlock **tbs;
    uint32_t n, cap;
    struct PageDesc *next;
} PageDesc;

/* Code-page marks: 2-level bitmap over 48-bit guest addresses, readable
 * without a lock (leaves are never freed before the engine). */
#define EXEC_CP_LEAF_BITS 18
#define EXEC_CP_TOP_BITS (48 - EXEC_PAGE_BITS - EXEC_CP_LEAF_BITS)

typedef enum { CPU_FAULT_NONE, CPU_FAULT_SEGV, CPU_FAULT_BUS, CPU_FAULT_SMC } CpuFaultKind;

struct ExecCpu {
    ExecEngine *e;
    CpuCommon *env;                     /* arch state (aligned alloc) */
    unsigned index;                     /* for "Trace N:" */
    JmpCacheEntry *jmp_cache;           /* read by generated code (goto_ptr) */
    TransBlock **tb_cache;              /* dispatcher's view of the same slots */
    uint64_t jc_pages;                  /* bit p: 4 KiB page p of jmp_cache (and the
                                           tb_cache slots behind it) was ever written */
    uint32_t jc_lean;                   /* fills left that skip tb_cache (exec.c) */
    uint32_t cache_flags;               /* mode flags the caches were filled under */
    bool holds_rd;                      /* holds e->code_rw for reading */
    uint64_t run_gen;                   /* e->gen when code_rw was taken */
    volatile sig_atomic_t in_code;      /* in tmpl_enter / ir_interp_run */
    volatile sig_atomic_t exit_request; /* exec_cpu_request_exit */
    volatile sig_atomic_t jb_valid;
    bool oneshot;           /* next: run env->pc alone (after SMC) */
    int32_t latch_period;   /* tier-up: what env->latch_budget was last set to */
    uint32_t latch_rng;     /* xorshift state that jitters it */
    uint32_t ptr_window;    /* tier-up: goto_ptr misses still to sample with the
                               in-code jump cache kept empty (tierup.c) */
    TransBlock *oneshot_tb; /* the transient block being run */
    sigjmp_buf jb;          /* exec_run's landing for faults */
    /* Filled before siglongjmp / by the interp memory wrappers. */
    CpuFaultKind fault_kind;
    uint64_t fault_addr;
    bool fault_write;
    ExecEvent pending; /* event to return after a longjmp */
    IrMemIface imem;   /* wrappers around cfg.mem.interp_mem */
    uint64_t n_dispatch, n_jc_hits, n_table_hits, n_slow_mem;
    ExecCpu *next; /* e->cpus list */
};

/* The CPU whose exec_run this thread is in (exec.c), for exec-fault.c's
 * signal handlers. */
extern __thread ExecCpu *exec_tls_cpu;

/* Guest insns per block unless ExecConfig.max_insns says otherwise. */
#define EXEC_DEFAULT_MAX_INSNS 512
/* A block is a loop latch (tier-up counts it) if it jumps back at most
 * this many bytes before its end.  Every region the probe kept on the
 * bench's workloads closed within 192 bytes; farther jumps back are mostly
 * an interpreter's handlers returning to its dispatch, or tail calls. */
#define EXEC_LATCH_SPAN 1024
/* Latch entries per tier-up sample, on average (exec.c latch_restart). */
#define EXEC_LATCH_PERIOD 4096

/* Template-code cache counters (tmplcache.c), under e->lock. */
typedef struct TmplCacheStats {
    uint64_t lookups, loaded, loaded_insns, rejected, stored;
    uint64_t lookup_ns, store_ns;
} TmplCacheStats;

struct ExecEngine {
    ExecConfig cfg;
    /* LLVM code checks loads against the page map (precise faults): the
     * guest has had a SIGSEGV/SIGBUS handler (exec_guest_fault_handler),
     * or EMU_LLVM_PRECISE_LOADS=1.  Set once, never cleared. */
    bool precise_loads;
    pthread_mutex_t lock;
    pthread_rwlock_t code_rw;
    uint64_t gen;
    /* block table: open addressing, linear probing on the pc alone, at
     * most half full; a slot keeps the pc so that a probe or a rehash
     * touches no TransBlock but the one it returns (with 40k blocks, python
     * startup's lookups and rehashes missed the cache in bucket chains) */
    struct TbSlot *slots;           /* n_slots (a power of two); tb NULL: free */
    size_t n_slots, n_blocks;
    TransBlock *all; /* every allocated block */
    size_t n_dead;   /* invalid blocks awaiting a flush */
    /* page map */
    PageDesc **pbuckets;
    size_t n_pbuckets, n_pages;
    uint8_t **cp_top; /* code-page bitmap (see above) */
    /* code buffer (template tier) */
    CodeBuf buf;
    size_t prologue_end;  /* tmpl_init's trampoline ends here */
    const void *chain_tramp; /* tmpl_emit_chain_tramp: LLVM code chains out */
    TransBlock **by_host; /* template blocks in buffer order */
    size_t n_by_host, cap_by_host;
    TmplMemModel mm;
    /* CPUs */
    ExecCpu *cpus;
    unsigned next_cpu_index;
    ExecStats st; /* translation-side counters (under lock) */
    /* A window of guest code being translated (see read_code_cb):
     * code_cache[0..code_cache_len) holds the bytes at code_cache_start. */
    uint64_t code_cache_start;
    uint32_t code_cache_len;
    bool code_cache_valid;
    uint8_t code_cache[EXEC_PAGE_SIZE];
    uint64_t retired_dispatch, retired_jc, retired_table;
    struct TierUp *tu; /* --tier=auto (tierup.c) */
    struct TierCache *tc; /* persistent code cache (tiercache.c), NULL: off */
    /* Blocks and chains forked children add, for the parent to add before
     * its next fork (fork-ring.c): shared with the children. */
    struct ForkRing *fp;
    uint32_t fp_seen;     /* entries this process added already */
    uint32_t fp_noted;    /* entries this process (a child) wrote */
    bool fp_report;       /* a fork child whose code is still its parent's */
    TmplCacheStats tt;    /* its template blocks (tmplcache.c) */
    void *tt_buf;         /* tmplcache_load's copy of a payload (grown; under lock) */
    size_t tt_cap;
};

/* exec.c: drop every translation (under e->lock). */
void exec_flush_locked(ExecEngine *e);
/* exec.c: make tb's freshly placed template code findable (by_host, stats). */
void exec_register_host(ExecEngine *e, TransBlock *tb, const TmplCode *code);

/* tb.c */
bool tb_table_init(ExecEngine *e);
void tb_table_free(ExecEngine *e);
TransBlock *tb_find(ExecEngine *e, uint64_t pc, uint32_t flags);
void tb_insert(ExecEngine *e, TransBlock *tb);
void tb_remove(ExecEngine *e, TransBlock *tb);
void tb_free_all(ExecEngine *e);
/* true: a new link was made (false: already chained, or not chainable) */
bool tb_chain(ExecEngine *e, TransBlock *src, unsigned slot, TransBlock *dst);
/* Before a fork (under e->lock): grow the block table while it is more than
 * half full, so that a child adding blocks does not rehash it: that rewrites
 * every block's hash link, a copy-on-write fault on each page of blocks the
 * parent shares with it (a third of a shell's faults per forked command). */
void tb_table_prepare_fork(ExecEngine *e);
void tb_unchain_all(ExecEngine *e);
void tb_invalidate_locked(ExecEngine *e, uint64_t start, uint64_t len);
bool tb_mark_code_page(ExecEngine *e, uint64_t page); /* true: newly marked */
bool tb_test_code_page(ExecEngine *e, uint64_t page);
bool tb_any_code_page(ExecEngine *e, uint64_t first, uint64_t last); /* pages, inclusive */
bool tb_clear_code_page(ExecEngine *e, uint64_t page); /* true: was marked */
void tb_free_one(TransBlock *tb);

/* Register tb on the pages of ranges (taking ownership of the array) and
 * mark/protect them as code pages; tb_remove undoes it.  Under e->lock. */
void tb_add_ranges(ExecEngine *e, TransBlock *tb, TbRange *ranges, uint32_t n);

/* tiercache.c: the persistent code cache of --tier=auto.  Everything under
 * e->lock except init/free/close. */
bool tiercache_init(ExecEngine *e);   /* false only on out of memory */
/* write the packs, stop using the cache; at_exit: the process ends next,
 * its memory is not freed (exec_engine_stop_background) */
void tiercache_close(ExecEngine *e, bool at_exit);
void tiercache_free(ExecEngine *e);
void tiercache_forget(ExecEngine *e); /* guest mappings changed */
/* A template block was just translated and inserted: if the cache holds a
 * region entered at its pc, verify, load and install it. */
void tiercache_on_translate(ExecEngine *e, TransBlock *tb);
struct TierCacheJob;
/* Region formation (tierup_hot): remember what the store needs (module,
 * offsets, content hashes from the current guest bytes); NULL: not cached. */
struct TierCacheJob *tiercache_job_new(ExecEngine *e, TransBlock *const *tbs, uint32_t n,
                                       bool counters);
void tiercache_job_free(struct TierCacheJob *j);
/* Worker: compile the region to an object and load it; false: use the JIT
 * path (or keep the template code). */
bool tiercache_compile(ExecEngine *e, struct TierCacheJob *cj, const IrBlock *const *ir,
                       uint32_t n, TransBlock *entry, uint64_t *const *counters,
                       struct ObjImage **img, uintptr_t (**entry_fn)(void *));
/* After a successful install (under e->lock): store the object. */
void tiercache_store_locked(ExecEngine *e, struct TierCacheJob *cj);
/* The probe dropped the region entered at tb (its members r[0..n), r[0]
 * the entry): a marker replaces the cached object, so later runs neither
 * load it nor form regions over its code. */
void tiercache_store_dropped_locked(ExecEngine *e, const TransBlock *tb, const TbRange *r,
                                   uint32_t n);
/* A latch is being translated: meet the dropped-region marker at its loop
 * header now (loops are often entered at the latch, before the header). */
void tiercache_meet_header(ExecEngine *e, TransBlock *latch, uint64_t header);
/* tierup.c: guest code of a region dropped in an earlier run (cache marker,
 * under e->lock): no region is formed with its loop header in it. */
void tierup_note_dropped_locked(ExecEngine *e, const TbRange *r, uint32_t n);
/* Is pc in such code?  Then a latch looping to it carries no countdown. */
bool tierup_in_dropped_locked(ExecEngine *e, uint64_t pc);
bool tiercache_enabled(const ExecEngine *e);
bool tiercache_storing(const ExecEngine *e); /* enabled and read-write */
/* Stats accumulated from cached regions' member counters. */
void tiercache_count_insns(const TransBlock *tb, uint64_t *blocks, uint64_t *insns);
/* The pack and load bias of the module holding pc (NULL: none). Under e->lock. */
struct EmuCachePack *tiercache_module_pack(ExecEngine *e, uint64_t pc, uint64_t *bias);

/* tmplcache.c: template blocks in the code cache (template and auto tiers). */
/* The guest size of the cached block at (pc, flags), without loading it. */
bool tmplcache_peek_size(ExecEngine *e, uint64_t pc, uint32_t flags, uint32_t *size);
bool tmplcache_enabled(const ExecEngine *e);
/* Translations are made relocatable and stored (read-write, no --stats). */
bool tmplcache_storing(const ExecEngine *e);
/* Before lifting: a stored translation of (pc, flags) placed for tb (pc,
 * flags, sizes, pages, code filled in, registered): true.  false: translate. */
bool tmplcache_load(ExecEngine *e, TransBlock *tb, uint64_t pc, uint32_t flags);
/* After translating b relocatably into code: queue it for the pack. */
void tmplcache_store(ExecEngine *e, const TransBlock *tb, const IrBlock *b, const TmplCode *code);
void tmplcache_stats_print(const ExecEngine *e, const TmplCacheStats *s, FILE *f);

/* exec.c */
void exec_cpu_jc_drop(ExecCpu *cpu, TransBlock *tb);
/* XXH3-128 of the guest code [start, start+len), read in place when the
 * embedder gives code_view (false: not mapped executable). */
bool exec_code_hash(ExecEngine *e, uint64_t start, size_t len, uint8_t out[16]);
/* Translate and insert the block for (pc, flags).  Under e->lock, without
 * code_rw (may flush).  NULL with *ev set on failure. */
TransBlock *exec_translate_locked(ExecEngine *e, uint64_t pc, uint32_t flags, ExecEvent *ev);

/* fork-ring.c: what forked children add (blocks, chains), noted while a
 * child's code is still its parent's, added by the parent under e->lock
 * before its next fork. */
void fork_ring_note_block(ExecEngine *e, const TransBlock *tb);
void fork_ring_note_chain(ExecEngine *e, const TransBlock *src, unsigned slot,
                          const TransBlock *dst);
void fork_ring_take(ExecEngine *e);
/* Frontend + IR passes for (pc, flags); quiet: no -d in_asm/op logging.
 * Under e->lock.  NULL with *ev set on failure.  The block's code depends
 * on b->read_before/read_after as its TransBlock's does (tiercache hashes
 * them with each member). */
IrBlock *exec_lift_locked(ExecEngine *e, uint64_t pc, uint32_t flags, bool quiet, ExecEvent *ev);

/* tierup.c: --tier=auto.  tierup_hot is called by the dispatcher when a
 * template block's countdown reaches zero (TMPL_EXIT_HOT), holding neither
 * e->lock nor code_rw; gen is e->gen when tb was last known valid. */
bool tierup_init(ExecEngine *e);
void tierup_free(ExecEngine *e);
/* Returns a number of goto_ptrs to sample on this CPU (0: none): the
 * dispatcher then keeps the in-code jump cache empty for that many misses,
 * so that tierup_note_ptr sees where each indirect jump goes how often. */
uint32_t tierup_hot(ExecEngine *e, TransBlock *tb, uint64_t gen);
/* tierup.c: the dispatcher saw tb's goto_ptr miss the jump cache towards
 * pc (tb: a template block, code_rw held for reading). */
void tierup_note_ptr(ExecEngine *e, TransBlock *tb, uint64_t pc);
/* Entries after which a region's code asks tierup_hot whether to stay
 * (EMU_REGION_PROBE; 0: regions always stay). */
uint32_t tierup_probe_period(void);
int32_t tierup_threshold(const ExecEngine *e);
/* Under e->lock: is the calling CPU the engine's only one (so no other
 * thread can be running generated code)? */
static inline bool exec_sole_cpu_locked(const ExecEngine *e)
{
    return e->cpus && !e->cpus->next;
}
void tierup_fork_prepare(ExecEngine *e);
void tierup_fork_parent(ExecEngine *e);
void tierup_fork_child(ExecEngine *e);
/* Stats for --stats (under no lock). */
typedef struct TierUpStats {
    uint64_t hot, queued, installed, stale, failed, dropped;
    uint64_t loopless;            /* hot blocks whose region had no loop: not compiled */
    uint64_t trips_cold;          /* hot latches whose trips came far apart: none */
    uint64_t probe_kept, probe_dropped; /* regions kept / sent back to template code */
    uint64_t probe_dropped_inside;  /* hot loops inside dropped regions: not compiled */
    uint64_t ptr_regions, ptr_members; /* regions that took in recorded goto_ptr targets,
                                          and how many members joined that way */
    uint64_t ptr_sampled;         /* goto_ptr sampling windows started */
} TierUpStats;
void tierup_stats(ExecEngine *e, TierUpStats *out);
/* -d perfmap: name a region's code (img may be NULL: JIT code, unnamed) and its stub */
void tierup_perfmap(const struct ObjImage *img, const void *stub, uint64_t pc, const char *kind);

/* How LLVM code of this engine checks guest accesses now (tier-llvm.h). */
static inline TierLlvmMem exec_llvm_mem(const ExecEngine *e)
{
    if (!e->cfg.mem.page_perm)
        return TIER_LLVM_MEM_SYNC;
    return __atomic_load_n(&e->precise_loads, __ATOMIC_ACQUIRE) ? TIER_LLVM_MEM_MAP
                                                                 : TIER_LLVM_MEM_MAP_STORES;
}

#endif /* EMU_RUNTIME_EXEC_INTERNAL_H */
