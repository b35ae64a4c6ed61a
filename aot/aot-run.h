/*
 * aot-run.h - emu-aot's work once the guest stands at its entry point
 * (UserConfig.at_entry): find the guest modules in the address space,
 * discover their code (aot.h) on worker threads, and translate every block
 * start through the engine (exec_get_block) exactly as the dispatcher
 * would, with a progress line and a summary.
 *
 *   AotRunConfig rc = { .prog = "prog", .jobs = 2 };
 *   UserConfig uc = { ..., .at_entry = aot_run_at_entry, .at_entry_opaque = &rc };
 *   int st = user_run(&uc);   // aot_run_at_entry's status, engine stopped
 *   aot_run_report(&rc, aot_now() - rc.hook_end);
 */
#ifndef EMU_AOT_AOT_RUN_H
#define EMU_AOT_AOT_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "aot/aot.h"
#include "runtime/exec.h"

struct GuestMem;

typedef struct AotRunConfig {
    const char *prog;      /* for messages */
    unsigned jobs;         /* discovery threads (0: online CPUs) */
    bool quiet;            /* no progress, no summary */
    bool verbose;          /* one line per module too */
    /* results, filled by aot_run_at_entry */
    bool reached;          /* the hook ran */
    size_t modules, blocks;   /* modules read, block starts discovered */
    size_t ready;             /* exec_get_block gave a block */
    size_t translated;        /* ... by translating it now (the rest: cached) */
    size_t refused;           /* exec_get_block failed */
    size_t rejected;          /* candidates dropped by discovery */
    size_t flushes, interpreted; /* code buffer flushes, template refusals */
    size_t per_src[AOT_SRC_COUNT];
    double total_s;        /* the hook: discovery and translation, overlapped */
    double discover_cpu_s; /* CPU time of the discovery threads */
    double translate_s;    /* from the first discovered module to the end */
    double hook_end;       /* aot_now() clock */
    unsigned jobs_used;
    bool progress;         /* a progress line is on the terminal */
} AotRunConfig;

/* UserConfig.at_entry.  Returns 0, or 1 when a module could not be read
 * (after one line "emu-aot: <file>: <reason>" each). */
int aot_run_at_entry(void *opaque, ExecEngine *e, ExecCpu *cpu, struct GuestMem *mem);

/* The summary line (unless quiet), once user_run has returned; stop_s: the
 * time the engine's shutdown (code cache write) took. */
void aot_run_report(const AotRunConfig *cfg, double stop_s);
/* Monotonic seconds (the clock of hook_end). */
double aot_now(void);

#endif /* EMU_AOT_AOT_RUN_H */
