/*
 * cpu.h - the part of every guest CPU state the runtime and the backends
 * share.  Each ISA's state struct starts with a CpuCommon, so generated code
 * and the runtime reach these fields at fixed offsets whatever the guest.
 *
 *   typedef struct A64State { CpuCommon common; uint64_t x[32]; ... } A64State;
 */
#ifndef EMU_RUNTIME_CPU_H
#define EMU_RUNTIME_CPU_H

#include <stddef.h>
#include <stdint.h>

/* Indirect-branch lookup that generated code does itself (goto_ptr):
 * entry = jmp_cache[jmp_cache_hash(pc)]; if entry.pc == pc, jump to
 * entry.host (a block entry point), else return to the dispatcher.
 * Entries are only for the current mode flags; the runtime flushes the
 * cache when the mode or the code changes. */
#define JMP_CACHE_BITS 14
#define JMP_CACHE_SIZE (1u << JMP_CACHE_BITS)
typedef struct JmpCacheEntry {
    uint64_t pc;          /* guest pc; when empty ~0, or 0 in any slot but
                             jmp_cache_hash(0) (pc 0 cannot match there) */
    const void *host;     /* host entry point of the block for pc */
} JmpCacheEntry;
static inline unsigned jmp_cache_hash(uint64_t pc)
{
    return (unsigned)((pc >> 2) ^ (pc >> (2 + JMP_CACHE_BITS))) & (JMP_CACHE_SIZE - 1);
}

typedef struct CpuCommon {
    uint64_t pc;              /* guest pc: the architectural pc of every ISA */
    uint32_t exit_reason;     /* IrExitReason of the last IR_OP_exit */
    uint32_t mode_flags;      /* translation mode (part of the block key) */
    uint64_t guest_base;      /* user mode: host address of guest address 0 */
    uint64_t guest_limit;     /* user mode: accesses must lie below this */
    JmpCacheEntry *jmp_cache; /* JMP_CACHE_SIZE entries, per CPU */
    uint64_t exception_addr;  /* faulting guest address (SIGSEGV si_addr) */
    uint32_t exception_kind;  /* runtime-defined (see runtime/exec.h) */
    uint32_t exception_code;
    void *runtime;            /* owning runtime object (opaque to generated code) */
    uint64_t insns_hint;      /* reserved for counters */
    /* Non-zero: leave generated code at the next back edge (LLVM regions
     * check it on their internal loops; set with the runtime's exit request,
     * cleared by the dispatcher). */
    uint32_t exit_request;
    /* Tier-up: every template loop latch subtracts 1 at its entry; the one
     * that takes it to 0 leaves (TMPL_EXIT_HOT) and the dispatcher credits
     * it with the period that ran out (a sample of the latches' trips). */
    int32_t latch_budget;
    /* User mode: one byte per guest page (bit 0 readable, bit 1 writable
     * without a host fault), or NULL.  LLVM regions test it before each
     * guest access (see llvm-backend/llvm-tier.h, page_perm). */
    const uint8_t *page_perm;
    /* Non-NULL: LLVM region code may leave through the jump cache by
     * tail-calling this trampoline (llvm-backend/llvm-tier.h); the
     * dispatcher then enters region code only through call stubs. */
    const void *chain_tramp;
} CpuCommon;

_Static_assert(offsetof(CpuCommon, pc) == 0, "generated code assumes pc at env+0");

#endif /* EMU_RUNTIME_CPU_H */
