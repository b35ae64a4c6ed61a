/*
 * a64-cpu.h - AArch64 guest CPU state (user mode; system registers join with
 * system mode).  Plain struct: IR globals name its fields by offset.
 */
#ifndef EMU_FRONTEND_AARCH64_A64_CPU_H
#define EMU_FRONTEND_AARCH64_A64_CPU_H

#include <stddef.h>
#include <stdint.h>
#include "runtime/cpu.h"

typedef struct A64State {
    CpuCommon common;        /* must be first: pc is common.pc */
    uint64_t x[32];          /* x0..x30; x[31] is SP (XZR is never stored) */
    /* NZCV, split so each flag is one IR global (QEMU's representation):
     *   N = nf >> 31 (bit 31 of a 32-bit value), Z = (zf == 0),
     *   C = cf (0 or 1),                         V = vf >> 31. */
    uint32_t nf, zf, cf, vf;
    /* Lazy flags: when cc_op is not A64_CC_EAGER, NZCV are those of the
     * 64-bit subtraction (A64_CC_SUB) or addition (A64_CC_ADD) of cc_a and
     * cc_b, and nf..vf are stale.  32-bit operations store their operands
     * zero-extended with A64_CC_SUB32/ADD32, meaning the 64-bit operation
     * on them shifted left by 32 (the same NZCV as the 32-bit one; storing
     * them unshifted saves two shifts per compare); ANDS/TST store
     * (result, 0) as an addition (C = V = 0).  A CMP at the end of a block then costs three
     * stores instead of computing four flags nobody may read; readers
     * materialise them (a64_flags_sync in IR, a64_flags_sync_state in C). */
    uint32_t cc_op, cc_pad;
    uint64_t cc_a, cc_b;
    uint64_t tpidr_el0;
    uint64_t tpidrro_el0;
    /* Exclusive monitor (LDXR/STXR emulated with cmpxchg, as QEMU does). */
    uint64_t excl_addr;      /* ~0 when no reservation */
    uint64_t excl_val;
    uint64_t excl_high;      /* second word of LDXP */
    uint32_t fpcr, fpsr;
    uint32_t pad0;
    uint32_t pad1;
    _Alignas(16) uint8_t v[32][16]; /* V0..V31, little-endian lanes */
    uint64_t midr;           /* MIDR_EL1 value shown to MRS under HWCAP_CPUID */
} A64State;

#define A64_SP 31

enum { A64_CC_EAGER = 0, A64_CC_SUB = 1, A64_CC_ADD = 2, A64_CC_SUB32 = 3, A64_CC_ADD32 = 4 };

/* Materialise lazy flags into nf..vf (cc_op becomes A64_CC_EAGER): C code
 * reading or writing NZCV (signal frames, tests) calls this first. */
static inline void a64_flags_sync_state(A64State *s)
{
    uint64_t a = s->cc_a, b = s->cc_b, r, v;
    if (s->cc_op == A64_CC_SUB32 || s->cc_op == A64_CC_ADD32) {
        a <<= 32;
        b <<= 32;
        s->cc_op -= 2;
    }
    if (s->cc_op == A64_CC_SUB) {
        r = a - b;
        s->cf = a >= b;
        v = (r ^ a) & (a ^ b);
    } else if (s->cc_op == A64_CC_ADD) {
        r = a + b;
        s->cf = r < a;
        v = (r ^ a) & ~(a ^ b);
    } else {
        return;
    }
    s->nf = (uint32_t)(r >> 32);
    s->zf = r != 0;
    s->vf = (uint32_t)(v >> 32);
    s->cc_op = A64_CC_EAGER;
}

/* Optional architecture features of the CPU being modelled.  The frontend
 * decodes an instruction of an absent feature as unallocated (SIGILL) and
 * the ID registers report only what is present.  The mask is a process-wide
 * translation setting (a64_cpu_set_features), not an A64State field:
 * GuestArch.translate gets no CPU state, and the mask never changes once
 * the guest runs, so it need not be part of the translation-block key. */
#define A64_FEAT_CRC32 (1ull << 0)  /* CRC32* (optional in v8.0)        */
#define A64_FEAT_LSE   (1ull << 1)  /* CAS, CASP, SWP, LD<op> (v8.1)    */
#define A64_FEAT_RCPC  (1ull << 2)  /* LDAPR (v8.3)                     */
#define A64_FEAT_LOR   (1ull << 3)  /* LDLAR, STLLR (v8.1 LORegions)    */
/* Everything the frontend implements: the default ("-cpu max"). */
#define A64_FEAT_MAX (A64_FEAT_CRC32 | A64_FEAT_LSE | A64_FEAT_RCPC | A64_FEAT_LOR)

/* Sets the feature mask used by every later translation (default
 * A64_FEAT_MAX).  Call before the first block is translated: blocks
 * already translated keep the features they were lifted with. */
void a64_cpu_set_features(uint64_t features);
uint64_t a64_cpu_get_features(void);

#endif /* EMU_FRONTEND_AARCH64_A64_CPU_H */
