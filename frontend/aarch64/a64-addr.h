/*
 * a64-addr.h - AArch64 load/store addressing modes, shared by the integer
 * and the FP/SIMD load/store lifters.  A lifter computes the address, emits
 * its access(es) on a.addr, and only then calls a64_addr_writeback (base
 * writeback after the access: precise exceptions, ARCHITECTURE.md).
 *
 *   // LDR Xt, [Xn, #imm]!
 *   A64Addr a = a64_addr_imm(s, a->rn, imm, A64_IDX_PRE);
 *   IrTemp v = ir_ld(a64_ir(s), IR_I64, a.addr, a64_memop(3, false));
 *   a64_addr_writeback(s, &a);
 *   a64_set_x(s, a->rt, v);
 */
#ifndef EMU_FRONTEND_AARCH64_A64_ADDR_H
#define EMU_FRONTEND_AARCH64_A64_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include "frontend/aarch64/a64-translate.h"

typedef enum A64IndexMode {
    A64_IDX_OFFSET,  /* [Xn|SP, #imm]: no writeback */
    A64_IDX_POST,    /* [Xn|SP], #imm: access at Xn, then Xn += imm */
    A64_IDX_PRE,     /* [Xn|SP, #imm]!: Xn += imm, access at the new Xn */
} A64IndexMode;

typedef struct A64Addr {
    IrTemp addr;     /* i64 guest address of the (first) access */
    IrTemp wb;       /* value to write back to the base, or IR_TEMP_NONE */
    int rn;          /* base register (31 = SP) */
} A64Addr;

/* Base register plus immediate byte offset (already scaled), with the
 * given indexing mode.  Covers unsigned offset, unscaled, pre/post index
 * and pairs. */
A64Addr a64_addr_imm(DisasContext *s, int rn, int64_t offset, A64IndexMode mode);

/* Register offset: [Xn|SP, Rm{, <extend> {#amount}}].  option is the
 * 3-bit extend field (010 UXTW, 011 LSL, 110 SXTW, 111 SXTX), shift is the
 * left shift amount (S ? log2(access size) : 0).  False if option is not
 * one of those (unallocated encoding). */
bool a64_addr_regoff(DisasContext *s, A64Addr *out, int rn, int rm, int option,
                     int shift);

/* PC-relative literal: pc of this insn + offset (bytes). */
A64Addr a64_addr_literal(DisasContext *s, int64_t offset);

/* Writes the base back if the mode asks for it.  Call after the access. */
void a64_addr_writeback(DisasContext *s, const A64Addr *a);

/* Rm extended by option (UXTB..SXTX, 0..7) and shifted left by shift
 * (0..4), as i64: the operand of add/sub (extended register) and of
 * register-offset addressing. */
IrTemp a64_extend_reg(DisasContext *s, int rm, int option, int shift);

#endif /* EMU_FRONTEND_AARCH64_A64_ADDR_H */
