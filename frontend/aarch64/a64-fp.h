/*
 * a64-fp.h - V-register access shared by the FP and AdvSIMD lifters
 * (a64-fp*.c, a64-simd*.c).  The V registers live in A64State.v (not IR
 * globals): reads and writes are ldenv/stenv at their env offsets, and
 * helpers reach them through env.
 *
 *   IrTemp d = a64_vreg_read(s, a->rn, 3);        // Dn as i64
 *   a64_vreg_write_zext(s, a->rd, 3, d);          // Dd = d, bits 127..64 = 0
 */
#ifndef EMU_FRONTEND_AARCH64_A64_FP_H
#define EMU_FRONTEND_AARCH64_A64_FP_H

#include <stddef.h>
#include "frontend/aarch64/a64-translate.h"

/* env offset of byte `byte` of Vn. */
static inline uint32_t a64_vreg_off(int reg, int byte)
{
    return (uint32_t)(offsetof(A64State, v) + 16 * (unsigned)reg + (unsigned)byte);
}
/* The IR integer type of a 2^size-byte value (size 0..3). */
static inline IrType a64_int_type(int size)
{
    static const IrType t[4] = { IR_I8, IR_I16, IR_I32, IR_I64 };
    return t[size & 3];
}
/* Low 2^size bytes of Vn (size 0..3) as an integer of that width, or the
 * whole register as v128 (size 4). */
IrTemp a64_vreg_read(DisasContext *s, int reg, int size);
/* Writes a 2^size-byte value (size 0..3: integer of that width; 4: v128)
 * to the low bytes of Vd and zeroes the rest of the 128-bit register. */
void a64_vreg_write_zext(DisasContext *s, int reg, int size, IrTemp val);
/* Element idx (2^size bytes) of Vn, zero-extended to i64. */
IrTemp a64_vreg_read_elt(DisasContext *s, int reg, int size, int idx);
/* Writes element idx of Vd, leaving the other bytes alone. */
void a64_vreg_write_elt(DisasContext *s, int reg, int size, int idx, IrTemp val);
/* VFPExpandImm: the FMOV (immediate) value of imm8 for single (size 2) or
 * double (size 3), as bits. */
uint64_t a64_fp_expand_imm(int size, unsigned imm8);
/* Zeroes bits 127..64 of Vd (the Q=0 forms of vector instructions). */
void a64_vreg_clear_high(DisasContext *s, int reg);

#endif /* EMU_FRONTEND_AARCH64_A64_FP_H */
