/*
 * tier-llvm.h - the runtime side of the LLVM tier: opens the module
 * (libemu-llvm.so, see llvm-backend/llvm-tier.h) with dlopen on first use,
 * so that a process that never asks for LLVM never loads libLLVM
 * (design.md invariant 8), and compiles blocks with it.
 *
 *   TierLlvmCode code;
 *   if (tier_llvm_compile_region(blocks, n, (uintptr_t)tb, NULL, &code)) ... code.entry
 *   tier_llvm_release(&code);          // at flush
 *
 * Module path: $EMU_LLVM_MODULE, else <dir of /proc/self/exe>/../lib/
 * libemu-llvm.so.  Any failure (module missing, LLVM error) is reported on
 * stderr once and the function returns false: the caller keeps its
 * template (or interpreter) translation.
 *
 * Environment (until the runtime grows options for them):
 *   EMU_LLVM_OPT=0|1|2   IR pipeline: none, light (default for single blocks),
 *                        default<O2>
 *   EMU_LLVM_CG=0..3     code generation level (default 2)
 *   EMU_LLVM_STATS=1     compile latency summary on stderr at exit
 *   EMU_LLVM_IR_DUMP=f   optimised LLVM IR of every block to file f
 *   EMU_LLVM_VERIFY=1    LLVMVerifyModule before optimising
 *   EMU_LLVM_GLOBALS=mem guest registers stay in env memory (TBAA apart from
 *                        guest memory, plain guest accesses, loops leave
 *                        every 2^16 trips) instead of SSA allocas; pair it
 *                        with EMU_LLVM_OPT=2 (GVN/LICM do the promotion)
 *   EMU_LLVM_FORBID=1    never load the module (says so on stderr if asked
 *                        to): tests that a warm code-cache run needs no LLVM
 */
#ifndef EMU_RUNTIME_TIER_LLVM_H
#define EMU_RUNTIME_TIER_LLVM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "ir/ir.h"

typedef uintptr_t (*TierLlvmEntry)(void *env);

/* Load the module and create the compiler now (false: unavailable; the
 * reason went to stderr).  Idempotent; thread-safe. */
bool tier_llvm_load(void);

/* How region code checks guest accesses (llvm-tier.h EmuLlvmRegion):
 * SYNC writes registers back before each (no page map); MAP tests the page
 * map; MAP_STORES tests it for stores only (loads: the bound, imprecise
 * host faults: only while the guest has no SIGSEGV/SIGBUS handler). */
typedef enum TierLlvmMem { TIER_LLVM_MEM_SYNC, TIER_LLVM_MEM_MAP, TIER_LLVM_MEM_MAP_STORES } TierLlvmMem;

/* Compiled code and what release needs. */
typedef struct TierLlvmCode {
    TierLlvmEntry entry;
    void *handle;                  /* for tier_llvm_release */
} TierLlvmCode;

/* Compile a region: blocks[0] is the entry, goto_tb between region blocks
 * become branches (loops stay inside), every other exit returns
 * tag | TMPL_RET_LOOKUP or TMPL_RET_EXIT (the dispatcher finds the next
 * block through its jump cache).  counters: NULL, or per block a counter
 * the code increments at each start of that block (--stats).
 * Thread-safe (one compile at a time); any thread may call it. */
bool tier_llvm_compile_region(const IrBlock *const *blocks, uint32_t n, uintptr_t tag,
                              uint64_t *const *counters, TierLlvmMem mem, TierLlvmCode *out);

/* Code-cache mode: compile a region to a relocatable object (llvm-tier.h
 * compile_object, one region: function emu_r0, tag symbol emu_tag_0,
 * counters emu_count_0_<j> when counters is non-NULL).  *obj is malloc()ed
 * (free it); false when LLVM is unavailable or refused the region. */
bool tier_llvm_compile_object(const IrBlock *const *blocks, uint32_t n,
                              uint64_t *const *counters, TierLlvmMem mem, void **obj,
                              size_t *size);

/* The translator identity cached objects depend on (this executable's build
 * id, the LLVM module file, the LLVM version, the code model), without
 * loading LLVM.  snprintf semantics. */
size_t tier_llvm_build_id(char *buf, size_t n);

/* exit_reason of a region that left before an access its page map did not
 * allow (page_perm): run the insn at env->pc in a slower tier. */
#define TIER_LLVM_EXIT_SLOW_MEM ((uint32_t)IR_EXIT_COUNT + 1)

/* --tier=llvm: one block as a region of one. */
bool tier_llvm_translate_block(const IrBlock *b, uintptr_t tag, uint64_t *counter,
                               TierLlvmMem mem, TierLlvmCode *out);

/* Free compiled code (no CPU may be running it).  Thread-safe. */
void tier_llvm_release(TierLlvmCode *code);

/* -d llvm-ir / llvm-asm: dump the next compiles to f (EMU_LLVM_DUMP_* bits
 * of llvm-backend/llvm-tier.h: 1 IR before, 2 IR after optimisation, 4 host
 * assembly).  Takes effect when the module is loaded. */
void tier_llvm_set_dump(FILE *f, unsigned what);

/* fork(): hold the compiler across it so a child never inherits it busy. */
void tier_llvm_fork_prepare(void);
void tier_llvm_fork_done(void);   /* parent */
void tier_llvm_fork_child(void);  /* child (also forgets fd_enter holders) */
/* Around a guest syscall that allocates file descriptors: loading LLVM
 * (which opens host files on the worker thread) waits, so the guest gets
 * the descriptor numbers Linux would give it. */
void tier_llvm_fd_enter(void);
void tier_llvm_fd_leave(void);

/* Counters for --stats. */
typedef struct TierLlvmStats {
    uint64_t compiled, failed;     /* regions (or blocks, --tier=llvm) */
    uint64_t blocks;               /* guest blocks in compiled regions */
    uint64_t compile_ns;           /* lower + optimise + codegen, thread CPU time */
    uint64_t lower_ns, opt_ns, codegen_ns;
    uint64_t median_ns, p90_ns, max_ns; /* per region */
} TierLlvmStats;
void tier_llvm_stats(TierLlvmStats *out);

#endif /* EMU_RUNTIME_TIER_LLVM_H */
