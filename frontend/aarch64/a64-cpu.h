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

#endif /* EMU_FRONTEND_AARCH64_A64_CPU_H */
