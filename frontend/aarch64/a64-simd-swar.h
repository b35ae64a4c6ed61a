/*
 * a64-simd-swar.h - AdvSIMD integer operations lifted to plain IR (i64
 * ops on the two 64-bit halves of a V register, "SIMD within a register").
 *
 * The lifters of a64-simd.c describe each instruction as one A64SimdOp
 * descriptor (a64-simd-helpers.h) and ask a64_simd_swar first; only what it
 * declines goes to helper_a64_simd.  The IR computes exactly what the
 * helper computes for the same descriptor (tests/unit/a64_simd_swar_test.c
 * runs both on random instructions), so the template and LLVM tiers see
 * ordinary integer IR instead of an opaque call:
 *
 *   if (a64_simd_swar(s, A64_SIMD_CMEQ, 0, 1, 0, 0, rd, rn, rm))
 *       return;                          // cmeq vd.16b, vn.16b, vm.16b inlined
 */
#ifndef EMU_FRONTEND_AARCH64_A64_SIMD_SWAR_H
#define EMU_FRONTEND_AARCH64_A64_SIMD_SWAR_H

#include <stdbool.h>
#include "frontend/aarch64/a64-translate.h"

/* Emits IR for (op, size, q, scalar, imm) on rd/rn/rm with the meaning of
 * helper_a64_simd and returns true, or emits nothing and returns false for
 * the forms it does not cover. */
bool a64_simd_swar(DisasContext *s, int op, int size, int q, int scalar, unsigned imm, int rd,
                   int rn, int rm);

/* Process-wide switch (default on): off sends everything to the helper.
 * For the differential tests; set it before translating. */
void a64_simd_swar_enable(bool on);

#endif /* EMU_FRONTEND_AARCH64_A64_SIMD_SWAR_H */
