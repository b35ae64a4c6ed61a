/*
 * tmpl-gen-bits.c - bit counting and reordering (clz ctz popcnt bswap bitrev)
 * and bitfields (extract sextract deposit).
 *
 * lzcnt/tzcnt/popcnt are used when cpuid says the host has them
 * (tmpl_have_*); otherwise bsr/bsf with a cmov for zero, and a SWAR popcount.
 * Inputs are zero-extended (tmpl-internal.h), so counting on the 64-bit
 * register and correcting for the width is exact.
 */
#include "template-backend/tmpl-internal.h"

/* d = a (d is the op's result register: a's own if a dies here). */
static int load_unary(TmplGen *g, const IrInst *op)
{
    IrTemp out = op->args[0], a = op->args[1];
    if (!tg_is_const(g, a))
        ra_in(g, a);
    int d = ra_out_reg(g, out, a);
    gen_load_to(g, d, a);
    return d;
}

static void gen_clz(TmplGen *g, int d, int w)
{
    X86Buf *x = &g->x;
    if (tmpl_have_lzcnt) {
        x86_lzcnt(x, 64, d, d);
        if (w < 64)
            x86_alu_ri(x, X86_SUB, 32, d, 64 - w);
        return;
    }
    /* bsr: index of the top set bit; zero input -> -1 so that w-1-(-1) = w */
    x86_bsr(x, 64, TMPL_SCRATCH, d);
    x86_mov_ri(x, X86_RAX, ~0ull);
    x86_cmovcc(x, X86_CC_E, 64, TMPL_SCRATCH, X86_RAX);
    x86_mov_ri(x, d, (uint64_t)(w - 1));
    x86_alu_rr(x, X86_SUB, 64, d, TMPL_SCRATCH);
}

static void gen_ctz(TmplGen *g, int d, int w)
{
    X86Buf *x = &g->x;
    if (w < 64) {
        /* a sentinel bit at w makes the input non-zero and caps the count */
        x86_bts_ri(x, 64, d, (unsigned)w);
        if (tmpl_have_bmi1)
            x86_tzcnt(x, 64, d, d);
        else
            x86_bsf(x, 64, d, d);
        return;
    }
    if (tmpl_have_bmi1) {
        x86_tzcnt(x, 64, d, d);
        return;
    }
    x86_bsf(x, 64, TMPL_SCRATCH, d);
    x86_mov_ri(x, X86_RAX, 64);
    x86_cmovcc(x, X86_CC_E, 64, TMPL_SCRATCH, X86_RAX);
    x86_mov_rr(x, 64, d, TMPL_SCRATCH);
}

static void gen_popcnt(TmplGen *g, int d)
{
    X86Buf *x = &g->x;
    if (tmpl_have_popcnt) {
        x86_popcnt(x, 64, d, d);
        return;
    }
    /* SWAR: pairs, nibbles, bytes, then sum the bytes with a multiply */
    x86_mov_rr(x, 64, TMPL_SCRATCH, d);
    x86_shift_ri(x, X86_SHR, 64, TMPL_SCRATCH, 1);
    x86_mov_ri(x, X86_RAX, 0x5555555555555555ull);
    x86_alu_rr(x, X86_AND, 64, TMPL_SCRATCH, X86_RAX);
    x86_alu_rr(x, X86_SUB, 64, d, TMPL_SCRATCH);
    x86_mov_ri(x, X86_RAX, 0x3333333333333333ull);
    x86_mov_rr(x, 64, TMPL_SCRATCH, d);
    x86_alu_rr(x, X86_AND, 64, d, X86_RAX);
    x86_shift_ri(x, X86_SHR, 64, TMPL_SCRATCH, 2);
    x86_alu_rr(x, X86_AND, 64, TMPL_SCRATCH, X86_RAX);
    x86_alu_rr(x, X86_ADD, 64, d, TMPL_SCRATCH);
    x86_mov_rr(x, 64, TMPL_SCRATCH, d);
    x86_shift_ri(x, X86_SHR, 64, TMPL_SCRATCH, 4);
    x86_alu_rr(x, X86_ADD, 64, d, TMPL_SCRATCH);
    x86_mov_ri(x, X86_RAX, 0x0F0F0F0F0F0F0F0Full);
    x86_alu_rr(x, X86_AND, 64, d, X86_RAX);
    x86_mov_ri(x, X86_RAX, 0x0101010101010101ull);
    x86_imul_rr(x, 64, d, X86_RAX);
    x86_shift_ri(x, X86_SHR, 64, d, 56);
}

static void swap_bits(X86Buf *x, int d, unsigned s, uint64_t mask)
{
    /* d = ((d >> s) & mask) | ((d & mask) << s) */
    x86_mov_ri(x, X86_RAX, mask);
    x86_mov_rr(x, 64, TMPL_SCRATCH, d);
    x86_shift_ri(x, X86_SHR, 64, TMPL_SCRATCH, s);
    x86_alu_rr(x, X86_AND, 64, TMPL_SCRATCH, X86_RAX);
    x86_alu_rr(x, X86_AND, 64, d, X86_RAX);
    x86_shift_ri(x, X86_SHL, 64, d, s);
    x86_alu_rr(x, X86_OR, 64, d, TMPL_SCRATCH);
}

static void gen_bitrev(TmplGen *g, int d, int w)
{
    X86Buf *x = &g->x;
    x86_bswap(x, 64, d);
    swap_bits(x, d, 4, 0x0F0F0F0F0F0F0F0Full);
    swap_bits(x, d, 2, 0x3333333333333333ull);
    swap_bits(x, d, 1, 0x5555555555555555ull);
    if (w < 64)
        x86_shift_ri(x, X86_SHR, 64, d, (unsigned)(64 - w));
}

/* Keep the low len bits of d (len < 64). */
static void mask_low(X86Buf *x, int d, unsigned len)
{
    if (len == 32)
        x86_mov_rr(x, 32, d, d);
    else if (len == 8 || len == 16)
        x86_movzx_rr(x, d, d, (int)len);
    else if (len < 32)
        x86_alu_ri(x, X86_AND, 32, d, (int32_t)((1u << len) - 1));
    else {
        x86_shift_ri(x, X86_SHL, 64, d, 64 - len);
        x86_shift_ri(x, X86_SHR, 64, d, 64 - len);
    }
}

static void gen_extract(TmplGen *g, const IrInst *op, int d, int w)
{
    X86Buf *x = &g->x;
    unsigned pos = (unsigned)op->c[0], len = (unsigned)op->c[1];
    if (op->opc == IR_OP_sextract) {
        if (64 - pos - len)
            x86_shift_ri(x, X86_SHL, 64, d, 64 - pos - len);
        if (64 - len)
            x86_shift_ri(x, X86_SAR, 64, d, 64 - len);
        if (w < 64)
            gen_normalize(g, d, (IrType)op->type);
        return;
    }
    if (pos)
        x86_shift_ri(x, X86_SHR, 64, d, pos);
    if (pos + len < (unsigned)w)   /* bits above w are zero already */
        mask_low(x, d, len);
}

static void gen_deposit(TmplGen *g, const IrInst *op)
{
    X86Buf *x = &g->x;
    IrTemp out = op->args[0], a = op->args[1], v = op->args[2];
    unsigned pos = (unsigned)op->c[0], len = (unsigned)op->c[1];
    uint64_t field = (len >= 64 ? ~0ull : ((1ull << len) - 1)) << pos;
    uint64_t keep = ~field;
    if (tg_is_const(g, a) && ((tg_const(g, a) & keep) == 0 || keep == 0)) {
        /* into zero (UBFIZ, LSL): d = (v & mask(len)) << pos, the mask
         * left out when v fits in len bits already */
        int d = ra_out_reg(g, out, v);
        gen_load_to(g, d, v);
        if (len < 64 && ra_kbits(g, v) > len) {
            x86_shift_ri(x, X86_SHL, 64, d, 64 - len);
            if (64 - len - pos)
                x86_shift_ri(x, X86_SHR, 64, d, 64 - len - pos);
        } else if (pos) {
            x86_shift_ri(x, X86_SHL, 64, d, pos);
        }
        ra_bind(g, out, d);
        ra_set_kbits(g, out, pos + len);
        return;
    }
    /* r11 = (v & mask(len)) << pos, by two shifts */
    gen_load_to(g, TMPL_SCRATCH, v);
    if (len < 64) {
        x86_shift_ri(x, X86_SHL, 64, TMPL_SCRATCH, 64 - len);
        if (64 - len - pos)
            x86_shift_ri(x, X86_SHR, 64, TMPL_SCRATCH, 64 - len - pos);
    }
    if (!tg_is_const(g, a))
        ra_in(g, a);
    int d = ra_out_reg(g, out, a);
    if (keep == 0) {
        x86_mov_rr(x, 64, d, TMPL_SCRATCH);
    } else if (tg_is_const(g, a)) {
        /* the kept bits of a constant, then the field */
        x86_mov_ri(x, d, tg_const(g, a) & keep);
        x86_alu_rr(x, X86_OR, 64, d, TMPL_SCRATCH);
    } else {
        gen_load_to(g, d, a);
        if (x86_is_s32((int64_t)keep)) {
            x86_alu_ri(x, X86_AND, 64, d, (int32_t)keep);
        } else {
            x86_mov_ri(x, X86_RAX, keep);
            x86_alu_rr(x, X86_AND, 64, d, X86_RAX);
        }
        x86_alu_rr(x, X86_OR, 64, d, TMPL_SCRATCH);
    }
    ra_bind(g, out, d);
}

bool gen_bits_op(TmplGen *g, const IrInst *op)
{
    IrType t = (IrType)op->type;
    int w = tg_bits(t);
    int d;
    switch (op->opc) {
    case IR_OP_clz:
        d = load_unary(g, op);
        gen_clz(g, d, w);
        break;
    case IR_OP_ctz:
        d = load_unary(g, op);
        gen_ctz(g, d, w);
        break;
    case IR_OP_popcnt:
        d = load_unary(g, op);
        gen_popcnt(g, d);
        break;
    case IR_OP_bswap:
        d = load_unary(g, op);
        if (w == 16)
            x86_shift_ri(&g->x, X86_ROL, 16, d, 8);
        else if (w >= 32)
            x86_bswap(&g->x, w, d);
        break;
    case IR_OP_bitrev:
        d = load_unary(g, op);
        gen_bitrev(g, d, w);
        break;
    case IR_OP_extract:
    case IR_OP_sextract:
        d = load_unary(g, op);
        gen_extract(g, op, d, w);
        break;
    case IR_OP_deposit:
        gen_deposit(g, op);
        return true;
    default:
        return false;
    }
    ra_bind(g, op->args[0], d);
    if (op->opc == IR_OP_clz || op->opc == IR_OP_ctz || op->opc == IR_OP_popcnt)
        ra_set_kbits(g, op->args[0], 7);
    else if (op->opc == IR_OP_extract)
        ra_set_kbits(g, op->args[0], (unsigned)op->c[1]);
    return true;
}
