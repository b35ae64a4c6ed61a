/*
 * tier-llvm.h - the runtime side of the LLVM tier: opens the module
 * (libemu-llvm.so, see llvm-backend/llvm-tier.h) with dlopen on first use,
 * so that a process that never asks for LLVM never loads libLLVM
 * (design.md invariant 8), and compiles blocks with it.
 *
 *   if (tier_llvm_translate_block(b, (uintptr_t)tb, &entry)) tb->llvm_entry = entry;
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
 */
#ifndef EMU_RUNTIME_TIER_LLVM_H
#define EMU_RUNTIME_TIER_LLVM_H

#include <stdbool.h>
#include <stdint.h>
#include "ir/ir.h"

typedef uintptr_t (*TierLlvmEntry)(void *env);

/* Load the module and create the compiler now (false: unavailable; the
 * reason went to stderr).  Idempotent; thread-safe. */
bool tier_llvm_load(void);

/* Compile one block whose exits return tag | TMPL_RET_* (goto_tb exits
 * return TMPL_RET_LOOKUP: LLVM code is not chained yet, and the dispatcher
 * finds the next block through its jump cache).  Callers serialise calls
 * (the runtime holds its engine lock).  The code lives until the process
 * ends (not freed on flush yet). */
bool tier_llvm_translate_block(const IrBlock *b, uintptr_t tag, TierLlvmEntry *entry);

/* Counters for --stats: blocks compiled / refused, thread CPU time spent. */
typedef struct TierLlvmStats {
    uint64_t compiled, failed;
    uint64_t compile_ns;           /* lower + optimise + codegen */
    uint64_t lower_ns, opt_ns, codegen_ns;
    uint64_t max_ns;
} TierLlvmStats;
void tier_llvm_stats(TierLlvmStats *out);

#endif /* EMU_RUNTIME_TIER_LLVM_H */
