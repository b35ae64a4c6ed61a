/*
 * ir-random.h - a seeded, reproducible generator of random valid IR blocks
 * for differential tests (interpreter vs a backend).
 *
 *   IrGlobalSet gs = {0};
 *   ir_rand_globals(&gs);
 *   IrBlock *b = ir_rand_block(&gs, seed, 20, 200);
 *   IrRandEnv env;  ir_rand_env(&env, seed);
 *   ...run b on a copy of env and of the guest memory in both engines...
 *
 * Blocks use every op of ir/ir-ops.def over every type it allows, every
 * condition, memop size/sign/alignment, rmw op and exit kind, forward
 * branches (conditional regions, skipped code) and small counted loops
 * (backward branches).  Guest memory: addresses below IR_RAND_MEM_SIZE are
 * valid; a block sometimes makes one access fault on purpose (address at
 * IR_RAND_FAULT_BASE or above, or misaligned with an alignment requirement).
 */
#ifndef EMU_TESTS_COMMON_IR_RANDOM_H
#define EMU_TESTS_COMMON_IR_RANDOM_H

#include <stddef.h>
#include <stdint.h>
#include "ir/ir.h"
#include "runtime/cpu.h"

#define IR_RAND_MEM_SIZE 4096              /* valid guest addresses [0, this) */
#define IR_RAND_FAULT_BASE 0x10000ull      /* generated faulting addresses start here */
#define IR_RAND_SCRATCH 64                 /* bytes of env for ldenv/stenv */

/* The CPU state the random blocks run on. */
typedef struct IrRandEnv {
    CpuCommon common;
    uint64_t r64[8];
    uint32_t r32[4];
    uint16_t r16[2];
    uint8_t r8[2];
    uint8_t pad0[2];
    uint64_t f64;
    uint32_t f32;
    uint32_t pad1;
    _Alignas(16) uint8_t v128[2][16];
    uint8_t i128[16];
    _Alignas(16) uint8_t scratch[IR_RAND_SCRATCH];  /* not a global: ldenv/stenv */
} IrRandEnv;

/* Register the globals (the fields of IrRandEnv after common). */
void ir_rand_globals(IrGlobalSet *gs);
/* A block of min_ops..max_ops ops (plus control overhead); never NULL. */
IrBlock *ir_rand_block(const IrGlobalSet *gs, uint64_t seed, unsigned min_ops,
                       unsigned max_ops);
/* Random register contents (CpuCommon left zero). */
void ir_rand_env(IrRandEnv *env, uint64_t seed);
/* Random bytes. */
void ir_rand_fill(void *p, size_t n, uint64_t seed);

/* The starting state of one differential run: a random env for seed with
 * guest_base = guest and guest_limit = limit in *env, and the same random
 * IR_RAND_MEM_SIZE bytes in the interpreter's memory imem and in guest. */
void ir_rand_start(uint64_t seed, void *guest, uint64_t limit, IrRandEnv *env, uint8_t *imem);


/* Guest memory for the interpreter side of a differential test: the first
 * IR_RAND_MEM_SIZE bytes of m.  An access at or past limit (or past the
 * buffer) fails and is recorded, as the backends' bound check would. */
typedef struct IrRandMem {
    uint8_t *m;
    uint64_t limit;
    bool faulted;
    uint64_t fault_addr;
} IrRandMem;
IrMemIface ir_rand_mem_iface(IrRandMem *rm);


/* What the judged runs did: faults, and exits by TMPL_RET_* kind. */
typedef struct IrRandTally {
    unsigned long faults, exit_kind[8]; /* by TMPL_RET_* */
} IrRandTally;

/* Compare a backend's run of a block with the interpreter's.  The backend
 * returned r (tag | TMPL_RET_*) leaving env be and memory bmem; the
 * interpreter returned st (fault at insn fi, or exit ex) leaving env ie and
 * memory imem, with tm recording its memory faults.  goto_tb_lookup: the
 * backend returns TMPL_RET_LOOKUP for goto_tb.  Writes the first difference
 * into what ("" if none) and details to stderr; name labels the backend. */
void ir_rand_judge(const char *name, uintptr_t tag, uintptr_t r, bool goto_tb_lookup,
                   IrInterpStatus st, uint32_t fi, const IrExitInfo *ex, const IrRandMem *tm,
                   const IrRandEnv *ie, const IrRandEnv *be, const uint8_t *imem,
                   const uint8_t *bmem, IrRandTally *tally, char *what, size_t n);

#endif /* EMU_TESTS_COMMON_IR_RANDOM_H */
