/*
 * a64-trans-dp.c - A64 integer data processing: add/sub (immediate,
 * shifted and extended register, with carry), logical (immediate and
 * shifted register), move wide, PC-relative addresses, bitfield moves,
 * EXTR, shifts, bit operations, multiply/divide, CRC32, conditional
 * compare and select.
 *
 * 32-bit forms compute in i32 and zero-extend on write.  Flags are plain
 * IR computations into the nf/zf/cf/vf globals (N = nf<31>, Z = zf == 0,
 * C = cf, V = vf<31>) so dead-flag elimination drops the unused ones.
 */
#include "frontend/aarch64/a64-int-decode.h"

#include "frontend/aarch64/a64-addr.h"
#include "ir/ir-helpers.h"

/* ---- flags -------------------------------------------------------------- */
/* Bit 31 of the value's sign position: for i64, the high word. */
static IrTemp a64_sign_word(IrBlock *b, int sf, IrTemp x)
{
    if (!sf)
        return x;
    return ir_trunc(b, IR_I32, IR_I64, ir_shr(b, IR_I64, x, ir_const(b, IR_I64, 32)));
}

static IrTemp a64_to_i32(IrBlock *b, int sf, IrTemp x)
{
    return sf ? ir_trunc(b, IR_I32, IR_I64, x) : x;
}

static void a64_nz_flags(IrBlock *b, int sf, IrTemp r, A64Flags *f)
{
    IrType t = a64_sf_type(sf);
    f->n = a64_sign_word(b, sf, r);
    f->z = sf ? a64_to_i32(b, 1, ir_setcond(b, t, IR_COND_NE, r, ir_const(b, t, 0))) : r;
}

void a64_write_flags(DisasContext *s, const A64Flags *f)
{
    IrBlock *b = a64_ir(s);
    ir_mov(b, IR_I32, a64_cpu_nf, f->n);
    ir_mov(b, IR_I32, a64_cpu_zf, f->z);
    ir_mov(b, IR_I32, a64_cpu_cf, f->c);
    ir_mov(b, IR_I32, a64_cpu_vf, f->v);
    a64_flags_written(s);
}

IrTemp a64_add_flags(DisasContext *s, int sf, IrTemp n, IrTemp m, A64Flags *f)
{
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(sf);
    IrTemp r = ir_add(b, t, n, m);
    a64_nz_flags(b, sf, r, f);
    f->c = a64_to_i32(b, sf, ir_setcond(b, t, IR_COND_LTU, r, n));
    /* overflow: operands of equal sign, result of the other sign */
    IrTemp v = ir_andc(b, t, ir_xor(b, t, r, n), ir_xor(b, t, n, m));
    f->v = a64_sign_word(b, sf, v);
    return r;
}

IrTemp a64_sub_flags(DisasContext *s, int sf, IrTemp n, IrTemp m, A64Flags *f)
{
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(sf);
    IrTemp r = ir_sub(b, t, n, m);
    a64_nz_flags(b, sf, r, f);
    f->c = a64_to_i32(b, sf, ir_setcond(b, t, IR_COND_GEU, n, m)); /* no borrow */
    IrTemp v = ir_and(b, t, ir_xor(b, t, r, n), ir_xor(b, t, n, m));
    f->v = a64_sign_word(b, sf, v);
    return r;
}

/* n + m + C (SBC passes ~m), optionally with flags. */
static IrTemp a64_adc(DisasContext *s, int sf, IrTemp n, IrTemp m, A64Flags *f)
{
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(sf);
    a64_flags_sync(s); /* reads C */
    IrTemp cin = sf ? ir_zext(b, IR_I64, IR_I32, a64_cpu_cf) : a64_cpu_cf;
    if (!f)
        return ir_add(b, t, ir_add(b, t, n, m), cin);

    IrTemp r;
    if (sf) {
        IrTemp t0 = ir_add(b, IR_I64, n, m);
        IrTemp c1 = ir_setcond(b, IR_I64, IR_COND_LTU, t0, n);
        r = ir_add(b, IR_I64, t0, cin);
        IrTemp c2 = ir_setcond(b, IR_I64, IR_COND_LTU, r, t0);
        f->c = ir_trunc(b, IR_I32, IR_I64, ir_or(b, IR_I64, c1, c2));
    } else {
        /* exact sum in 64 bits: the carry is bit 32 */
        IrTemp sum = ir_add(b, IR_I64, ir_zext(b, IR_I64, IR_I32, n),
                            ir_zext(b, IR_I64, IR_I32, m));
        sum = ir_add(b, IR_I64, sum, ir_zext(b, IR_I64, IR_I32, cin));
        r = ir_trunc(b, IR_I32, IR_I64, sum);
        f->c = ir_trunc(b, IR_I32, IR_I64, ir_shr(b, IR_I64, sum, ir_const(b, IR_I64, 32)));
    }
    a64_nz_flags(b, sf, r, f);
    IrTemp v = ir_andc(b, t, ir_xor(b, t, r, n), ir_xor(b, t, n, m));
    f->v = a64_sign_word(b, sf, v);
    return r;
}

/* NZCV of n + c, for a constant c other than 0 and the type's minimum, are
 * those of n - (-c): the same N, Z and V (one exact sum), and C = n >= -c
 * unsigned either way.  As a SUB, conditions on them fuse into one compare
 * (CMN w1, #5; B.GE was ~25 host insns of eager flags).  Returns -c, or 0. */
static IrTemp add_const_as_sub(IrBlock *b, int sf, IrTemp m)
{
    if (b->temps[m].kind != IR_TEMP_CONST)
        return 0;
    uint64_t v = b->temps[m].val[0], min = sf ? 1ull << 63 : 1ull << 31;
    if (!sf)
        v = (uint32_t)v;
    if (v == 0 || v == min)
        return 0;
    return ir_const(b, a64_sf_type(sf), sf ? -v : (uint32_t)-v);
}

/* Common tail of the add/sub forms: op 0 add, 1 sub; s: set flags. */
static IrTemp a64_addsub(DisasContext *s, int sf, int op, int setflags, IrTemp n, IrTemp m)
{
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(sf);
    if (setflags) {
        /* NZCV left to whoever reads them (A64State cc_op) */
        IrTemp r = op ? ir_sub(b, t, n, m) : ir_add(b, t, n, m);
        IrTemp neg = op ? 0 : add_const_as_sub(b, sf, m);
        if (neg)
            a64_flags_lazy(s, A64_CC_SUB, sf, n, neg);
        else
            a64_flags_lazy(s, op ? A64_CC_SUB : A64_CC_ADD, sf, n, m);
        return r;
    }
    return op ? ir_sub(b, t, n, m) : ir_add(b, t, n, m);
}

/* ---- PC-relative ------------------------------------------------------------ */
bool trans_ADR(DisasContext *s, arg_ADR *a)
{
    int64_t off = (int64_t)((uint64_t)(int64_t)a->immhi << 2 | (uint64_t)a->immlo);
    off = (int64_t)((uint64_t)off << 43) >> 43; /* sign-extend 21 bits */
    a64_set_x(s, a->rd, ir_const(a64_ir(s), IR_I64, s->pc_curr + (uint64_t)off));
    return true;
}

bool trans_ADRP(DisasContext *s, arg_ADRP *a)
{
    int64_t off = (int64_t)((uint64_t)(int64_t)a->immhi << 2 | (uint64_t)a->immlo);
    off = (int64_t)((uint64_t)off << 43) >> 43;
    uint64_t v = (s->pc_curr & ~0xfffull) + ((uint64_t)off << 12);
    a64_set_x(s, a->rd, ir_const(a64_ir(s), IR_I64, v));
    return true;
}

/* ---- add/sub ------------------------------------------------------------------- */
bool trans_ADDSUB_i(DisasContext *s, arg_ADDSUB_i *a)
{
    IrBlock *b = a64_ir(s);
    uint64_t imm = (uint64_t)a->imm << (a->sh ? 12 : 0);
    IrTemp n = a64_get_rsp(s, a->rn, a->sf);
    IrTemp r = a64_addsub(s, a->sf, a->op, a->s, n, ir_const(b, a64_sf_type(a->sf), imm));
    if (a->s)
        a64_set_r(s, a->rd, a->sf, r);
    else
        a64_set_rsp(s, a->rd, a->sf, r);
    return true;
}

/* Rm shifted by type (LSL, LSR, ASR, ROR) and amount, of type sf. */
static IrTemp a64_shifted_reg(DisasContext *s, int sf, int rm, int type, int amount)
{
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(sf);
    IrTemp v = a64_get_r(s, rm, sf);
    if (!amount)
        return v;
    IrTemp c = ir_const(b, t, (uint64_t)amount);
    switch (type) {
    case 0: return ir_shl(b, t, v, c);
    case 1: return ir_shr(b, t, v, c);
    case 2: return ir_sar(b, t, v, c);
    default: return ir_binop(b, IR_OP_rotr, t, v, c);
    }
}

bool trans_ADDSUB_r(DisasContext *s, arg_ADDSUB_r *a)
{
    if (a->shift == 3 || (!a->sf && a->imm >= 32))
        return false;
    IrTemp m = a64_shifted_reg(s, a->sf, a->rm, a->shift, a->imm);
    IrTemp n = a64_get_r(s, a->rn, a->sf);
    a64_set_r(s, a->rd, a->sf, a64_addsub(s, a->sf, a->op, a->s, n, m));
    return true;
}

bool trans_ADDSUB_x(DisasContext *s, arg_ADDSUB_x *a)
{
    if (a->imm > 4)
        return false;
    IrBlock *b = a64_ir(s);
    IrTemp m = a64_extend_reg(s, a->rm, a->option, a->imm);
    if (!a->sf)
        m = ir_trunc(b, IR_I32, IR_I64, m);
    IrTemp n = a64_get_rsp(s, a->rn, a->sf);
    IrTemp r = a64_addsub(s, a->sf, a->op, a->s, n, m);
    if (a->s)
        a64_set_r(s, a->rd, a->sf, r);
    else
        a64_set_rsp(s, a->rd, a->sf, r);
    return true;
}

bool trans_ADC(DisasContext *s, arg_ADC *a)
{
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(a->sf);
    IrTemp n = a64_get_r(s, a->rn, a->sf);
    IrTemp m = a64_get_r(s, a->rm, a->sf);
    if (a->op)
        m = ir_not(b, t, m); /* SBC: n + ~m + C */
    A64Flags f;
    IrTemp r = a64_adc(s, a->sf, n, m, a->s ? &f : NULL);
    if (a->s)
        a64_write_flags(s, &f);
    a64_set_r(s, a->rd, a->sf, r);
    return true;
}

/* ---- logical ---------------------------------------------------------------------- */
bool a64_decode_bitmask(int n, int imms, int immr, bool is64, uint64_t *out)
{
    unsigned v = (unsigned)(n << 6) | (~(unsigned)imms & 0x3f);
    if (v == 0 || (!is64 && n))
        return false;
    int len = 31 - __builtin_clz(v);
    if (len < 1)
        return false;
    unsigned esize = 1u << len;
    unsigned levels = esize - 1;
    unsigned sbits = (unsigned)imms & levels;
    unsigned r = (unsigned)immr & levels;
    if (sbits == levels)
        return false; /* all ones: reserved */
    uint64_t emask = esize == 64 ? ~0ull : (1ull << esize) - 1;
    uint64_t welem = (1ull << (sbits + 1)) - 1; /* sbits + 1 <= 63 */
    if (r)
        welem = ((welem >> r) | (welem << (esize - r))) & emask;
    uint64_t mask = 0;
    for (unsigned i = 0; i < 64; i += esize)
        mask |= welem << i;
    *out = is64 ? mask : (mask & 0xffffffffull);
    return true;
}

/* opc: 0 AND, 1 ORR, 2 EOR, 3 ANDS (flags); value of type sf. */
static IrTemp a64_logic(DisasContext *s, int sf, int opc, IrTemp n, IrTemp m)
{
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(sf);
    switch (opc) {
    case 1: return ir_or(b, t, n, m);
    case 2: return ir_xor(b, t, n, m);
    default: break;
    }
    IrTemp r = ir_and(b, t, n, m);
    if (opc == 3) {
        a64_flags_lazy_logic(s, sf, r);
    }
    return r;
}

bool trans_LOGIC_i(DisasContext *s, arg_LOGIC_i *a)
{
    uint64_t imm;
    if (!a64_decode_bitmask(a->n, a->imms, a->immr, a->sf, &imm))
        return false;
    IrBlock *b = a64_ir(s);
    IrTemp n = a64_get_r(s, a->rn, a->sf);
    IrTemp r = a64_logic(s, a->sf, a->opc, n, ir_const(b, a64_sf_type(a->sf), imm));
    if (a->opc == 3)
        a64_set_r(s, a->rd, a->sf, r);
    else
        a64_set_rsp(s, a->rd, a->sf, r);
    return true;
}

bool trans_LOGIC_r(DisasContext *s, arg_LOGIC_r *a)
{
    if (!a->sf && a->imm >= 32)
        return false;
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(a->sf);
    IrTemp m = a64_shifted_reg(s, a->sf, a->rm, a->shift, a->imm);
    IrTemp n = a64_get_r(s, a->rn, a->sf);
    IrTemp r;
    if (a->n) {
        /* BIC, ORN, EON, BICS: the operand is inverted */
        switch (a->opc) {
        case 1:
            r = ir_or(b, t, n, ir_not(b, t, m));
            break;
        case 2:
            r = ir_not(b, t, ir_xor(b, t, n, m));
            break;
        default:
            r = ir_andc(b, t, n, m);
            if (a->opc == 3) {
                a64_flags_lazy_logic(s, a->sf, r);
            }
            break;
        }
    } else {
        r = a64_logic(s, a->sf, a->opc, n, m);
    }
    a64_set_r(s, a->rd, a->sf, r);
    return true;
}

/* ---- move wide ----------------------------------------------------------------------- */
bool trans_MOVW(DisasContext *s, arg_MOVW *a)
{
    if (a->opc == 1 || (!a->sf && a->hw >= 2))
        return false;
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(a->sf);
    unsigned pos = (unsigned)a->hw * 16;
    uint64_t imm = (uint64_t)(unsigned)a->imm << pos;
    IrTemp r;
    switch (a->opc) {
    case 0: /* MOVN */
        r = ir_const(b, t, a->sf ? ~imm : (uint32_t)~imm);
        break;
    case 2: /* MOVZ */
        r = ir_const(b, t, imm);
        break;
    default: /* MOVK */
        r = ir_deposit(b, t, a64_get_r(s, a->rd, a->sf),
                       ir_const(b, t, (uint64_t)(unsigned)a->imm), pos, 16);
        break;
    }
    a64_set_r(s, a->rd, a->sf, r);
    return true;
}

/* ---- bitfield ---------------------------------------------------------------------------- */
bool trans_BITFIELD(DisasContext *s, arg_BITFIELD *a)
{
    if (a->opc == 3 || a->n != a->sf || (!a->sf && ((a->immr | a->imms) & 0x20)))
        return false;
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(a->sf);
    unsigned w = a->sf ? 64 : 32;
    unsigned r = (unsigned)a->immr, sb = (unsigned)a->imms;
    IrTemp src = a64_get_r(s, a->rn, a->sf);
    IrTemp res;

    if (sb >= r) {
        /* field src<sb:r> to bit 0 (SBFX/UBFX/BFXIL, ASR/LSR, SXT/UXT) */
        unsigned len = sb - r + 1;
        switch (a->opc) {
        case 0:
            res = ir_sextract(b, t, src, r, len);
            break;
        case 2:
            res = ir_extract(b, t, src, r, len);
            break;
        default:
            res = ir_deposit(b, t, a64_get_r(s, a->rd, a->sf),
                             ir_extract(b, t, src, r, len), 0, len);
            break;
        }
    } else {
        /* src<sb:0> to bit w-r (SBFIZ/UBFIZ/BFI, LSL) */
        unsigned len = sb + 1, pos = w - r;
        switch (a->opc) {
        case 0:
            res = ir_shl(b, t, ir_sextract(b, t, src, 0, len), ir_const(b, t, pos));
            break;
        case 2:
            res = ir_deposit(b, t, ir_const(b, t, 0), src, pos, len);
            break;
        default:
            res = ir_deposit(b, t, a64_get_r(s, a->rd, a->sf), src, pos, len);
            break;
        }
    }
    a64_set_r(s, a->rd, a->sf, res);
    return true;
}

bool trans_EXTR(DisasContext *s, arg_EXTR *a)
{
    if (a->n != a->sf || (!a->sf && a->imms >= 32))
        return false;
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(a->sf);
    unsigned w = a->sf ? 64 : 32, lsb = (unsigned)a->imms;
    IrTemp m = a64_get_r(s, a->rm, a->sf);
    IrTemp res;
    if (lsb == 0) {
        res = m;
    } else if (a->rn == a->rm) {
        res = ir_binop(b, IR_OP_rotr, t, m, ir_const(b, t, lsb)); /* ROR (immediate) */
    } else {
        IrTemp n = a64_get_r(s, a->rn, a->sf);
        res = ir_or(b, t, ir_shr(b, t, m, ir_const(b, t, lsb)),
                    ir_shl(b, t, n, ir_const(b, t, w - lsb)));
    }
    a64_set_r(s, a->rd, a->sf, res);
    return true;
}

/* ---- shifts, bit operations ----------------------------------------------------------------- */
bool trans_SHIFTV(DisasContext *s, arg_SHIFTV *a)
{
    static const IrOpcode ops[4] = {IR_OP_shl, IR_OP_shr, IR_OP_sar, IR_OP_rotr};
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(a->sf);
    /* IR shift counts are taken modulo the width, as A64 does */
    IrTemp r = ir_binop(b, ops[a->op], t, a64_get_r(s, a->rn, a->sf), a64_get_r(s, a->rm, a->sf));
    a64_set_r(s, a->rd, a->sf, r);
    return true;
}

bool trans_RBIT(DisasContext *s, arg_RBIT *a)
{
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(a->sf);
    IrTemp src = ir_new_temp(b, t); /* copy-propagated away when no CLZ uses it */
    ir_mov(b, t, src, a64_get_r(s, a->rn, a->sf));
    a64_set_r(s, a->rd, a->sf, ir_unop(b, IR_OP_bitrev, t, src));
    s->rbit = (struct A64RbitState){s->pc_curr + 4, a->rd, a->sf, src};
    return true;
}

bool trans_REV16(DisasContext *s, arg_REV16 *a)
{
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(a->sf);
    IrTemp x = a64_get_r(s, a->rn, a->sf);
    IrTemp m = ir_const(b, t, 0x00ff00ff00ff00ffull);
    IrTemp eight = ir_const(b, t, 8);
    IrTemp r = ir_or(b, t, ir_and(b, t, ir_shr(b, t, x, eight), m),
                     ir_shl(b, t, ir_and(b, t, x, m), eight));
    a64_set_r(s, a->rd, a->sf, r);
    return true;
}

bool trans_REV(DisasContext *s, arg_REV *a)
{
    IrBlock *b = a64_ir(s);
    IrTemp r;
    if (a->op) {
        if (!a->sf)
            return false;
        r = ir_unop(b, IR_OP_bswap, IR_I64, a64_get_x(s, a->rn));
    } else if (a->sf) {
        /* REV32: byte-reverse each word = bswap64 then swap the words */
        r = ir_unop(b, IR_OP_bswap, IR_I64, a64_get_x(s, a->rn));
        r = ir_binop(b, IR_OP_rotr, IR_I64, r, ir_const(b, IR_I64, 32));
    } else {
        r = ir_unop(b, IR_OP_bswap, IR_I32, a64_get_r(s, a->rn, 0));
    }
    a64_set_r(s, a->rd, a->sf, r);
    return true;
}

bool trans_CLZ(DisasContext *s, arg_CLZ *a)
{
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(a->sf);
    IrTemp x = a64_get_r(s, a->rn, a->sf);
    IrTemp r;
    if (a->op) {
        /* CLS: leading bits equal to the sign bit, the sign bit excluded */
        IrTemp y = ir_xor(b, t, x, ir_sar(b, t, x, ir_const(b, t, 1)));
        r = ir_sub(b, t, ir_unop(b, IR_OP_clz, t, y), ir_const(b, t, 1));
    } else if (s->rbit.next_pc == s->pc_curr && s->rbit.rd == a->rn && s->rbit.sf == a->sf &&
               a->rn != 31) {
        r = ir_unop(b, IR_OP_ctz, t, s->rbit.src); /* clz(rbit(x)) = ctz(x), 0 included */
    } else {
        r = ir_unop(b, IR_OP_clz, t, x);
    }
    a64_set_r(s, a->rd, a->sf, r);
    return true;
}

/* ---- multiply, divide ------------------------------------------------------------------------- */
bool trans_MADD(DisasContext *s, arg_MADD *a)
{
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(a->sf);
    IrTemp p = ir_mul(b, t, a64_get_r(s, a->rn, a->sf), a64_get_r(s, a->rm, a->sf));
    IrTemp acc = a64_get_r(s, a->ra, a->sf);
    a64_set_r(s, a->rd, a->sf, a->o0 ? ir_sub(b, t, acc, p) : ir_add(b, t, acc, p));
    return true;
}

bool trans_MADDL(DisasContext *s, arg_MADDL *a)
{
    IrBlock *b = a64_ir(s);
    IrTemp n = a64_get_r(s, a->rn, 0), m = a64_get_r(s, a->rm, 0);
    if (a->u) {
        n = ir_zext(b, IR_I64, IR_I32, n);
        m = ir_zext(b, IR_I64, IR_I32, m);
    } else {
        n = ir_sext(b, IR_I64, IR_I32, n);
        m = ir_sext(b, IR_I64, IR_I32, m);
    }
    IrTemp p = ir_mul(b, IR_I64, n, m);
    IrTemp acc = a64_get_x(s, a->ra);
    a64_set_x(s, a->rd, a->o0 ? ir_sub(b, IR_I64, acc, p) : ir_add(b, IR_I64, acc, p));
    return true;
}

bool trans_MULH(DisasContext *s, arg_MULH *a)
{
    IrBlock *b = a64_ir(s);
    IrTemp r = ir_binop(b, a->u ? IR_OP_mulhu : IR_OP_mulhs, IR_I64, a64_get_x(s, a->rn),
                        a64_get_x(s, a->rm));
    a64_set_x(s, a->rd, r);
    return true;
}

bool trans_DIV(DisasContext *s, arg_DIV *a)
{
    /* IR division has the A64 rules: x/0 = 0, MIN/-1 = MIN */
    IrType t = a64_sf_type(a->sf);
    IrTemp r = ir_binop(a64_ir(s), a->sgn ? IR_OP_divs : IR_OP_divu, t,
                        a64_get_r(s, a->rn, a->sf), a64_get_r(s, a->rm, a->sf));
    a64_set_r(s, a->rd, a->sf, r);
    return true;
}

bool trans_CRC32(DisasContext *s, arg_CRC32 *a)
{
    if (!a64_have(s, A64_FEAT_CRC32) || a->sf != (a->sz == 3))
        return false;
    IrBlock *b = a64_ir(s);
    IrTemp args[3] = {
        ir_zext(b, IR_I64, IR_I32, a64_get_r(s, a->rn, 0)),
        a64_get_x(s, a->rm),
        ir_const(b, IR_I64, 1ull << a->sz),
    };
    IrTemp r = ir_call(b, a->c ? IR_HELPER_a64_crc32c : IR_HELPER_a64_crc32, args, 3);
    a64_set_x(s, a->rd, r);
    return true;
}

/* ---- conditional compare and select -------------------------------------------------------- */
bool trans_CCMP(DisasContext *s, arg_CCMP *a)
{
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(a->sf);
    IrTemp n = a64_get_r(s, a->rn, a->sf);
    IrTemp m = a->imm ? ir_const(b, t, (uint64_t)a->rm) : a64_get_r(s, a->rm, a->sf);
    int op = a->op ? A64_CC_SUB : A64_CC_ADD;
    IrTemp neg = a->op ? 0 : add_const_as_sub(b, a->sf, m); /* CCMN #imm as CCMP #-imm */
    if (neg) {
        op = A64_CC_SUB;
        m = neg;
    }
    A64Cond c = a64_cond_fused(s, a->cond);
    if (c.cond == IR_COND_NEVER) {
        a64_set_nzcv_imm(s, a->nzcv);
        return true;
    }
    if (c.cond == IR_COND_ALWAYS) {
        a64_flags_lazy(s, op, a->sf, n, m); /* a plain CMP/CMN */
        return true;
    }
    if (a64_flags_lazy_ccmp(s, op, a->sf, n, m, &c, a->nzcv))
        return true;
    A64Flags f;
    if (op == A64_CC_SUB)
        a64_sub_flags(s, a->sf, n, m, &f);
    else
        a64_add_flags(s, a->sf, n, m, &f);
    {
        /* NZCV #1, #5, #11..#15: no lazy form, all four flags selected */
        if (c.type != IR_I32) {
            c = (A64Cond){IR_COND_NE, a64_cond_value(s, &c, IR_I32), ir_const(b, IR_I32, 0),
                          IR_I32};
        }
        /* condition false: the flags come from the nzcv immediate */
        IrTemp in = ir_const(b, IR_I32, (a->nzcv & 8) ? 0x80000000u : 0);
        IrTemp iz = ir_const(b, IR_I32, (a->nzcv & 4) ? 0 : 1);
        IrTemp ic = ir_const(b, IR_I32, (a->nzcv & 2) ? 1 : 0);
        IrTemp iv = ir_const(b, IR_I32, (a->nzcv & 1) ? 0x80000000u : 0);
        f.n = ir_movcond(b, IR_I32, c.cond, c.a, c.b, f.n, in);
        f.z = ir_movcond(b, IR_I32, c.cond, c.a, c.b, f.z, iz);
        f.c = ir_movcond(b, IR_I32, c.cond, c.a, c.b, f.c, ic);
        f.v = ir_movcond(b, IR_I32, c.cond, c.a, c.b, f.v, iv);
    }
    a64_write_flags(s, &f);
    return true;
}

bool trans_CSEL(DisasContext *s, arg_CSEL *a)
{
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(a->sf);
    IrTemp n = a64_get_r(s, a->rn, a->sf);
    IrTemp m = a64_get_r(s, a->rm, a->sf);
    switch (a->op << 1 | a->o2) {
    case 1: /* CSINC */
        m = ir_add(b, t, m, ir_const(b, t, 1));
        break;
    case 2: /* CSINV */
        m = ir_not(b, t, m);
        break;
    case 3: /* CSNEG */
        m = ir_neg(b, t, m);
        break;
    }
    A64Cond c = a64_cond_fused(s, a->cond);
    IrTemp r;
    if (c.cond == IR_COND_ALWAYS) {
        r = n;
    } else if (c.cond == IR_COND_NEVER) {
        r = m;
    } else {
        IrTemp x = c.a, y = c.b;
        if (c.type == IR_I32 && t == IR_I64) {
            /* flag conditions are EQ/NE/LT/GE on i32: sign-extension keeps them */
            x = ir_sext(b, IR_I64, IR_I32, x);
            y = ir_sext(b, IR_I64, IR_I32, y);
        } else if (c.type != t) {
            x = a64_cond_value(s, &c, t);
            y = ir_const(b, t, 0);
            c.cond = IR_COND_NE;
        }
        r = ir_movcond(b, t, c.cond, x, y, n, m);
    }
    a64_set_r(s, a->rd, a->sf, r);
    return true;
}
