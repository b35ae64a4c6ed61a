/*
 * ir-eval.h - the arithmetic of every pure IR op, written once.
 *
 * The reference interpreter (ir-interp.c) and the constant folder
 * (ir-fold.c, and through it the builder) both call these functions, so an
 * op has exactly one meaning (design.md invariant 1).
 *
 * Value convention: an integer of type T (i8..i64) is held in a uint64_t
 * zero-extended from its width ("canonical"); f32/f64 as IEEE bits the same
 * way; i128/v128 as two uint64_t, low word first.  Every function here takes
 * canonical inputs (callers guarantee it: constants are made canonical,
 * globals are read at their size) and returns a canonical result.
 *
 *   uint64_t r = ir_eval_binop(IR_OP_add, IR_I8, 0xff, 1);   // r == 0
 */
#ifndef EMU_IR_IR_EVAL_H
#define EMU_IR_IR_EVAL_H

#include <stdbool.h>
#include <stdint.h>
#include "ir/ir.h"

/* Width in bits of an integer/float type (128 for the wide ones). */
static inline unsigned ir_eval_width(IrType t)
{
    static const uint8_t widths[IR_TYPE_COUNT] = {
        [IR_I8] = 8, [IR_I16] = 16, [IR_I32] = 32, [IR_I64] = 64, [IR_I128] = 128,
        [IR_F32] = 32, [IR_F64] = 64, [IR_V128] = 128,
    };
    return (unsigned)t < IR_TYPE_COUNT ? widths[t] : 0;
}

/* All-ones in the low `bits` bits (bits 1..64). */
static inline uint64_t ir_eval_mask_bits(unsigned bits)
{
    return bits >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << bits) - 1);
}

/* Mask of the canonical bits of a (low word of a) value of type t. */
static inline uint64_t ir_eval_mask(IrType t)
{
    static const uint64_t masks[IR_TYPE_COUNT] = {
        [IR_I8] = 0xff, [IR_I16] = 0xffff, [IR_I32] = 0xffffffff, [IR_I64] = ~0ull,
        [IR_I128] = ~0ull, [IR_F32] = 0xffffffff, [IR_F64] = ~0ull, [IR_V128] = ~0ull,
    };
    return (unsigned)t < IR_TYPE_COUNT ? masks[t] : 0;
}

/* Sign-extend the low `bits` bits of v to 64 bits. */
static inline int64_t ir_eval_sx_bits(uint64_t v, unsigned bits)
{
    if (bits >= 64)
        return (int64_t)v;
    unsigned s = 64 - bits;
    return (int64_t)(v << s) >> s;
}

static inline int64_t ir_eval_sx(IrType t, uint64_t v)
{
    return ir_eval_sx_bits(v, ir_eval_width(t));
}

static inline uint64_t ir_eval_bitrev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0full) | ((v & 0x0f0f0f0f0f0f0f0full) << 4);
    return __builtin_bswap64(v);
}

/* Condition on two values of type t (i8..i64). */
static inline __attribute__((always_inline)) bool ir_eval_cond(IrCond c, IrType t, uint64_t a, uint64_t b)
{
    uint64_t m = ir_eval_mask(t);
    a &= m;
    b &= m;
    switch (c) {
    case IR_COND_EQ: return a == b;
    case IR_COND_NE: return a != b;
    case IR_COND_LT: return ir_eval_sx(t, a) < ir_eval_sx(t, b);
    case IR_COND_GE: return ir_eval_sx(t, a) >= ir_eval_sx(t, b);
    case IR_COND_LE: return ir_eval_sx(t, a) <= ir_eval_sx(t, b);
    case IR_COND_GT: return ir_eval_sx(t, a) > ir_eval_sx(t, b);
    case IR_COND_LTU: return a < b;
    case IR_COND_GEU: return a >= b;
    case IR_COND_LEU: return a <= b;
    case IR_COND_GTU: return a > b;
    case IR_COND_TSTEQ: return (a & b) == 0;
    case IR_COND_TSTNE: return (a & b) != 0;
    case IR_COND_ALWAYS: return true;
    case IR_COND_NEVER: default: return false;
    }
}

/* Two-input integer ops: add sub mul mulhu mulhs divu divs remu rems and or
 * xor andc shl shr sar rotl rotr.  Division never traps: x/0 = 0, x%0 = x,
 * MIN/-1 = MIN, MIN%-1 = 0.  Shift and rotate counts are taken modulo the
 * width.  Returns 0 for any other opcode. */
static inline uint64_t ir_eval_binop(IrOpcode opc, IrType t, uint64_t a, uint64_t b)
{
    uint64_t m = ir_eval_mask(t);
    uint64_t r;
    /* inputs are canonical: the ring ops only need their result masked */
    switch (opc) {
    case IR_OP_add: return (a + b) & m;
    case IR_OP_sub: return (a - b) & m;
    case IR_OP_mul: return (a * b) & m;
    case IR_OP_and: return a & b & m;
    case IR_OP_or: return (a | b) & m;
    case IR_OP_xor: return (a ^ b) & m;
    case IR_OP_andc: return a & ~b & m;
    default: break;
    }
    unsigned w = ir_eval_width(t);
    unsigned sh = (unsigned)(b & (w - 1));
    a &= m;
    b &= m;
    switch (opc) {
    case IR_OP_mulhu:
        if (w == 64)
            r = (uint64_t)(((unsigned __int128)a * b) >> 64);
        else
            r = (a * b) >> w;
        break;
    case IR_OP_mulhs:
        if (w == 64)
            r = (uint64_t)(((__int128)(int64_t)a * (int64_t)b) >> 64);
        else
            r = (uint64_t)((ir_eval_sx(t, a) * ir_eval_sx(t, b)) >> w);
        break;
    case IR_OP_divu: r = b ? a / b : 0; break;
    case IR_OP_remu: r = b ? a % b : a; break;
    case IR_OP_divs: {
        int64_t sa = ir_eval_sx(t, a), sb = ir_eval_sx(t, b);
        if (sb == 0)
            r = 0;
        else if (sb == -1)
            r = 0 - (uint64_t)sa; /* MIN / -1 wraps to MIN */
        else
            r = (uint64_t)(sa / sb);
        break;
    }
    case IR_OP_rems: {
        int64_t sa = ir_eval_sx(t, a), sb = ir_eval_sx(t, b);
        if (sb == 0)
            r = (uint64_t)sa;
        else if (sb == -1)
            r = 0;
        else
            r = (uint64_t)(sa % sb);
        break;
    }
    case IR_OP_shl: r = a << sh; break;
    case IR_OP_shr: r = a >> sh; break;
    case IR_OP_sar: r = (uint64_t)(ir_eval_sx(t, a) >> sh); break;
    case IR_OP_rotl: r = sh ? (a << sh) | (a >> (w - sh)) : a; break;
    case IR_OP_rotr: r = sh ? (a >> sh) | (a << (w - sh)) : a; break;
    default: r = 0; break;
    }
    return r & m;
}

/* One-input integer ops: neg not clz ctz popcnt bswap bitrev. */
static inline uint64_t ir_eval_unop(IrOpcode opc, IrType t, uint64_t a)
{
    unsigned w = ir_eval_width(t);
    uint64_t m = ir_eval_mask(t);
    uint64_t r;
    a &= m;
    switch (opc) {
    case IR_OP_neg: r = 0 - a; break;
    case IR_OP_not: r = ~a; break;
    case IR_OP_clz: r = a ? (uint64_t)(__builtin_clzll(a) - (64 - w)) : w; break;
    case IR_OP_ctz: r = a ? (uint64_t)__builtin_ctzll(a) : w; break;
    case IR_OP_popcnt: r = (uint64_t)__builtin_popcountll(a); break;
    case IR_OP_bswap: r = __builtin_bswap64(a) >> (64 - w); break;
    case IR_OP_bitrev: r = ir_eval_bitrev64(a) >> (64 - w); break;
    default: r = 0; break;
    }
    return r & m;
}

/* Bitfields (pos + len <= width, 0 < len: the verifier checks). */
static inline uint64_t ir_eval_extract(IrType t, uint64_t a, unsigned pos, unsigned len)
{
    return (a >> (pos & 63)) & ir_eval_mask_bits(len) & ir_eval_mask(t);
}

static inline uint64_t ir_eval_sextract(IrType t, uint64_t a, unsigned pos, unsigned len)
{
    uint64_t f = (a >> (pos & 63)) & ir_eval_mask_bits(len);
    return (uint64_t)ir_eval_sx_bits(f, len) & ir_eval_mask(t);
}

static inline uint64_t ir_eval_deposit(IrType t, uint64_t a, uint64_t v, unsigned pos,
                                       unsigned len)
{
    uint64_t fm = ir_eval_mask_bits(len) << (pos & 63);
    return ((a & ~fm) | ((v << (pos & 63)) & fm)) & ir_eval_mask(t);
}

/* Conversions between integer types (from/to in i8..i64; trunc also from
 * the low word of i128/v128). */
static inline uint64_t ir_eval_zext(IrType to, IrType from, uint64_t a)
{
    return a & ir_eval_mask(from) & ir_eval_mask(to);
}

static inline uint64_t ir_eval_sext(IrType to, IrType from, uint64_t a)
{
    return (uint64_t)ir_eval_sx(from, a) & ir_eval_mask(to);
}

static inline uint64_t ir_eval_trunc(IrType to, uint64_t a)
{
    return a & ir_eval_mask(to);
}

/* Extend a loaded value of `bytes` bytes to type t per the MemOp sign bit
 * (t's low word for the 128-bit types: no extension happens there). */
static inline uint64_t ir_eval_ld_extend(IrType t, IrMemOp mo, uint64_t v)
{
    unsigned bits = IR_MO_BYTES(mo) * 8;
    if (bits >= 64)
        return v;
    v &= ir_eval_mask_bits(bits);
    if (IR_MO_IS_SIGNED(mo))
        v = (uint64_t)ir_eval_sx_bits(v, bits);
    return v & ir_eval_mask(t);
}

/* atomic_rmw: the new memory value (bytes wide, 1..8). */
static inline uint64_t ir_eval_rmw(IrRmwOp op, unsigned bytes, uint64_t old, uint64_t val)
{
    unsigned bits = bytes * 8;
    uint64_t m = ir_eval_mask_bits(bits);
    int64_t so = ir_eval_sx_bits(old, bits), sv = ir_eval_sx_bits(val, bits);
    uint64_t r;
    old &= m;
    val &= m;
    switch (op) {
    case IR_RMW_XCHG: r = val; break;
    case IR_RMW_ADD: r = old + val; break;
    case IR_RMW_AND: r = old & val; break;
    case IR_RMW_OR: r = old | val; break;
    case IR_RMW_XOR: r = old ^ val; break;
    case IR_RMW_ANDC: r = old & ~val; break;
    case IR_RMW_SMAX: r = so > sv ? old : val; break;
    case IR_RMW_SMIN: r = so < sv ? old : val; break;
    case IR_RMW_UMAX: r = old > val ? old : val; break;
    case IR_RMW_UMIN: r = old < val ? old : val; break;
    default: r = old; break;
    }
    return r & m;
}

#endif /* EMU_IR_IR_EVAL_H */
