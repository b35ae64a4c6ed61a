/*
 * stats.h - `--stats`: counters kept by the runtime when ExecConfig.stats is
 * set, printed at exit.  With stats on, every block execution is counted:
 * template code increments its block's counter at entry (so chained and
 * jump-cache entries count too), the interpreter loop and the dispatcher
 * count the rest.  Without stats, generated code carries no counter.
 *
 *   exec_stats_print(engine, stderr);
 */
#ifndef EMU_RUNTIME_STATS_H
#define EMU_RUNTIME_STATS_H

#include <stdint.h>
#include <stdio.h>

struct ExecEngine;

typedef struct ExecStats {
    uint64_t blocks_translated;  /* translations (incl. retranslations) */
    uint64_t insns_translated;   /* guest instructions in them */
    uint64_t translate_ns;       /* time in translate+optimise+codegen */
    uint64_t host_bytes;         /* generated host code bytes */
    uint64_t blocks_executed;    /* block executions, all tiers (stats on) */
    uint64_t dispatch;           /* blocks entered from the dispatcher */
    uint64_t jmp_cache_hits;     /* dispatcher lookups served by the jump cache */
    uint64_t table_hits;         /* ... by the block table */
    uint64_t chain_patches;      /* goto_tb slots chained */
    uint64_t unchains;           /* chained jumps undone by invalidation */
    uint64_t invalidated_blocks; /* blocks removed by invalidation */
    uint64_t smc_faults;         /* write faults on protected code pages */
    uint64_t code_flushes;       /* whole code buffer flushes */
    uint64_t interp_fallbacks;   /* blocks the template backend refused */
    uint64_t code_buf_used;      /* bytes in use now */
    uint64_t code_buf_size;
    /* Guest instructions executed per tier (stats on): block runs times
     * block length. */
    uint64_t insns_template, insns_llvm, insns_interp;
    uint64_t slow_mem;           /* LLVM region exits to run one access in the interpreter */
} ExecStats;

/* Snapshot (always available; dispatch counts only when stats are on). */
void exec_stats_get(struct ExecEngine *e, ExecStats *out);
void exec_stats_print(struct ExecEngine *e, FILE *out);

#endif /* EMU_RUNTIME_STATS_H */
