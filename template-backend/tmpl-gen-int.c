/*
 * tmpl-gen-int.c - integer arithmetic, logic, shifts, multiply/divide and
 * compares (setcond, movcond and the compare half of brcond).
 *
 * i8/i16/i32 values are zero-extended in their registers: 8/16/32-bit types
 * are computed with 32-bit instructions (which zero the upper half) and
 * re-truncated after ops that can carry into bits above the width (add, sub,
 * mul, neg, shl, ...).  Constants become immediates whenever x86 has a form.
 */
#include "template-backend/tmpl-internal.h"

X86Cond gen_cc(IrCond c)
{
    switch (c) {
    case IR_COND_EQ: return X86_CC_E;
    case IR_COND_NE: return X86_CC_NE;
    case IR_COND_LT: return X86_CC_L;
    case IR_COND_GE: return X86_CC_GE;
    case IR_COND_LE: return X86_CC_LE;
    case IR_COND_GT: return X86_CC_G;
    case IR_COND_LTU: return X86_CC_B;
    case IR_COND_GEU: return X86_CC_AE;
    case IR_COND_LEU: return X86_CC_BE;
    case IR_COND_GTU: return X86_CC_A;
    case IR_COND_TSTEQ: return X86_CC_E;
    case IR_COND_TSTNE: return X86_CC_NE;
    default: return X86_CC_E;
    }
}

/* Can constant t be an imm32 of an sz-bit x86 op? */
static bool imm_ok(const TmplGen *g, IrTemp t, int sz)
{
    return tg_is_const(g, t) && (sz < 64 || x86_is_s32((int64_t)tg_const(g, t)));
}

X86Cond gen_compare(TmplGen *g, IrType t, IrCond c, IrTemp a, IrTemp b)
{
    X86Buf *x = &g->x;
    int w = tg_bits(t);
    if (tg_is_const(g, a) && !tg_is_const(g, b)) {
        IrTemp tmp = a;
        a = b;
        b = tmp;
        c = ir_cond_swap(c);
    }
    int ar = ra_in(g, a);
    bool tst = c == IR_COND_TSTEQ || c == IR_COND_TSTNE;
    int sz = tst ? tg_opsz(t) : w;
    if (tst && sz == 64 && tg_is_const(g, b) && !imm_ok(g, b, sz)) {
        /* one bit that no sign-extended imm32 holds (TBZ #31..#63): testl
         * for bit 31, bt for the high half (was mov r11, imm; test) */
        uint64_t m = tg_const(g, b);
        if (m && !(m & (m - 1))) {
            unsigned bit = (unsigned)__builtin_ctzll(m);
            if (bit < 32) {
                x86_test_ri(x, 32, ar, (int32_t)(uint32_t)m);
                return gen_cc(c);
            }
            x86_bt_ri(x, 64, ar, bit);
            return c == IR_COND_TSTNE ? X86_CC_B : X86_CC_AE;
        }
    }
    if (imm_ok(g, b, sz)) {
        int32_t imm = (int32_t)tg_const(g, b);
        if (tst)
            x86_test_ri(x, sz, ar, imm);
        else if (imm == 0 || (w < 32 && (tg_const(g, b) & ((1ull << w) - 1)) == 0))
            x86_test_rr(x, sz, ar, ar);
        else
            x86_alu_ri(x, X86_CMP, sz, ar, imm);
    } else {
        int br;
        if (tg_is_const(g, b)) {
            br = TMPL_SCRATCH;
            x86_mov_ri(x, br, tg_const(g, b));
        } else {
            br = ra_in(g, b);
        }
        if (tst)
            x86_test_rr(x, sz, ar, br);
        else
            x86_alu_rr(x, X86_CMP, sz, ar, br);
    }
    return gen_cc(c);
}

static void gen_setcond(TmplGen *g, const IrInst *op)
{
    IrCond c = (IrCond)op->c[0];
    IrTemp a = op->args[1], b = op->args[2];
    if (c == IR_COND_ALWAYS || c == IR_COND_NEVER) {
        int d = ra_alloc(g);
        x86_mov_ri(&g->x, d, c == IR_COND_ALWAYS);
        ra_bind(g, op->args[0], d);
        return;
    }
    if (!tg_is_const(g, a))
        ra_in(g, a);
    if (!tg_is_const(g, b))
        ra_in(g, b);
    int d = ra_alloc(g);   /* fresh: never an operand, so it can be zeroed first */
    x86_alu_rr(&g->x, X86_XOR, 32, d, d);
    X86Cond cc = gen_compare(g, (IrType)op->type, c, a, b);
    x86_setcc(&g->x, cc, d);
    ra_bind(g, op->args[0], d);
    ra_set_kbits(g, op->args[0], 1);
}

static void gen_movcond(TmplGen *g, const IrInst *op)
{
    IrCond c = (IrCond)op->c[0];
    IrTemp out = op->args[0], a = op->args[1], b = op->args[2];
    IrTemp v1 = op->args[3], v2 = op->args[4];
    if (c == IR_COND_ALWAYS || c == IR_COND_NEVER) {
        IrTemp src = c == IR_COND_ALWAYS ? v1 : v2;
        int d = ra_out_reg(g, out, src);
        gen_load_to(g, d, src);
        ra_bind(g, out, d);
        return;
    }
    if (!tg_is_const(g, a))
        ra_in(g, a);
    if (!tg_is_const(g, b))
        ra_in(g, b);
    int r1 = ra_in(g, v1);
    if (!tg_is_const(g, v2))
        ra_in(g, v2);
    int d = ra_out_reg(g, out, v2);
    X86Cond cc = gen_compare(g, (IrType)op->type, c, a, b);
    gen_load_to(g, d, v2);          /* mov/mov-imm: flags survive */
    x86_cmovcc(&g->x, cc, tg_opsz((IrType)op->type), d, r1);
    ra_bind(g, op->args[0], d);
}

/* Second operand: an immediate if possible, else a register. */
typedef struct Opnd {
    bool imm;
    int32_t v;
    int r;
} Opnd;

static Opnd get_opnd(TmplGen *g, IrTemp t, int sz)
{
    Opnd o = {false, 0, -1};
    if (imm_ok(g, t, sz)) {
        o.imm = true;
        o.v = (int32_t)tg_const(g, t);
    } else {
        o.r = ra_in(g, t);
    }
    return o;
}

static void gen_binop(TmplGen *g, const IrInst *op)
{
    X86Buf *x = &g->x;
    IrType t = (IrType)op->type;
    int sz = tg_opsz(t);
    IrTemp out = op->args[0], a = op->args[1], b = op->args[2];
    Opnd o = get_opnd(g, b, sz);
    int ar = tg_is_const(g, a) ? -1 : ra_in(g, a);
    int d = ra_out_reg(g, out, a);
    if (op->opc == IR_OP_add && ar >= 0 && d != ar) {
        /* three-operand add */
        if (o.imm)
            x86_lea(x, sz, d, x86_mem(ar, o.v));
        else
            x86_lea(x, sz, d, x86_mem_idx(ar, o.r, 0));
        if (sz == 32 && t != IR_I32)
            gen_normalize(g, d, t);
        ra_bind(g, out, d);
        return;
    }
    gen_load_to(g, d, a);
    bool norm = false;
    switch (op->opc) {
    case IR_OP_add:
    case IR_OP_sub:
    case IR_OP_and:
    case IR_OP_or:
    case IR_OP_xor: {
        X86Alu alu = op->opc == IR_OP_add ? X86_ADD : op->opc == IR_OP_sub ? X86_SUB
                   : op->opc == IR_OP_and ? X86_AND : op->opc == IR_OP_or ? X86_OR : X86_XOR;
        if (o.imm)
            x86_alu_ri(x, alu, sz, d, o.v);
        else
            x86_alu_rr(x, alu, sz, d, o.r);
        norm = op->opc == IR_OP_add || op->opc == IR_OP_sub;
        break;
    }
    case IR_OP_andc:
        if (o.imm) {
            x86_alu_ri(x, X86_AND, sz, d, ~o.v);
        } else {
            x86_mov_rr(x, 64, TMPL_SCRATCH, o.r);
            x86_unary(x, X86_NOT, 64, TMPL_SCRATCH);
            x86_alu_rr(x, X86_AND, sz, d, TMPL_SCRATCH);
        }
        break;
    case IR_OP_mul:
        if (o.imm)
            x86_imul_rri(x, sz, d, d, o.v);
        else
            x86_imul_rr(x, sz, d, o.r);
        norm = true;
        break;
    default:
        break;
    }
    if (norm && sz == 32 && t != IR_I32)
        gen_normalize(g, d, t);
    ra_bind(g, out, d);
}

static void gen_unop(TmplGen *g, const IrInst *op)
{
    IrType t = (IrType)op->type;
    int sz = tg_opsz(t);
    IrTemp out = op->args[0], a = op->args[1];
    if (!tg_is_const(g, a))
        ra_in(g, a);
    int d = ra_out_reg(g, out, a);
    gen_load_to(g, d, a);
    if (op->opc == IR_OP_neg) {
        x86_unary(&g->x, X86_NEG, sz, d);
        if (t != IR_I32 && sz == 32)
            gen_normalize(g, d, t);
    } else if (t == IR_I8 || t == IR_I16) {
        x86_alu_ri(&g->x, X86_XOR, 32, d, t == IR_I8 ? 0xFF : 0xFFFF);
    } else {
        x86_unary(&g->x, X86_NOT, sz, d);
    }
    ra_bind(g, out, d);
}

static void gen_shift(TmplGen *g, const IrInst *op)
{
    X86Buf *x = &g->x;
    IrType t = (IrType)op->type;
    int w = tg_bits(t), sz = tg_opsz(t);
    IrTemp out = op->args[0], a = op->args[1], b = op->args[2];
    X86Shift kind = op->opc == IR_OP_shl ? X86_SHL : op->opc == IR_OP_shr ? X86_SHR
                  : op->opc == IR_OP_sar ? X86_SAR : op->opc == IR_OP_rotl ? X86_ROL : X86_ROR;
    bool rot = kind == X86_ROL || kind == X86_ROR;
    bool cnst = tg_is_const(g, b);
    unsigned c = cnst ? (unsigned)(tg_const(g, b) & (unsigned)(w - 1)) : 0;
    if (!cnst) {
        ra_reserve(g, X86_RCX);
        gen_load_to(g, X86_RCX, b);
        if (w < 32 && !rot)
            x86_alu_ri(x, X86_AND, 32, X86_RCX, w - 1);
    }
    if (!tg_is_const(g, a))
        ra_in(g, a);
    int d = ra_out_reg(g, out, a);
    gen_load_to(g, d, a);
    if (cnst && c == 0) {
        ra_bind(g, out, d);
        return;
    }
    int osz = rot ? w : sz;           /* rotates work at the true width */
    if (kind == X86_SAR && w < 32)
        x86_movsx_rr(x, 32, d, d, w);
    if (cnst)
        x86_shift_ri(x, kind, osz, d, c);
    else
        x86_shift_cl(x, kind, osz, d);
    if (!rot && w < 32 && kind != X86_SHR)
        gen_normalize(g, d, t);
    ra_bind(g, out, d);
    if (cnst && kind == X86_SHR)
        ra_set_kbits(g, out, (unsigned)w - c);
}

static int opnd_reg(TmplGen *g, IrTemp t)
{
    if (tg_is_const(g, t)) {
        x86_mov_ri(&g->x, TMPL_SCRATCH, tg_const(g, t));
        return TMPL_SCRATCH;
    }
    return ra_in(g, t);
}

static void gen_mulh(TmplGen *g, const IrInst *op)
{
    X86Buf *x = &g->x;
    IrType t = (IrType)op->type;
    int w = tg_bits(t);
    bool sgn = op->opc == IR_OP_mulhs;
    IrTemp out = op->args[0], a = op->args[1], b = op->args[2];
    if (w == 64) {
        ra_reserve(g, X86_RDX); /* the high half lands there */
        int br = opnd_reg(g, b);
        gen_load_to(g, X86_RAX, a);
        x86_unary(x, sgn ? X86_IMUL1 : X86_MUL, 64, br);
        int d = ra_alloc(g);
        x86_mov_rr(x, 64, d, X86_RDX);
        ra_bind(g, out, d);
        return;
    }
    int br = opnd_reg(g, b);
    if (br != TMPL_SCRATCH)
        x86_mov_rr(x, 64, TMPL_SCRATCH, br);
    if (!tg_is_const(g, a))
        ra_in(g, a);
    int d = ra_alloc(g);
    gen_load_to(g, d, a);
    int psz = w == 32 ? 64 : 32;  /* the full product fits in psz bits */
    if (sgn) {
        x86_movsx_rr(x, psz, d, d, w);
        x86_movsx_rr(x, psz, TMPL_SCRATCH, TMPL_SCRATCH, w);
    }
    x86_imul_rr(x, psz, d, TMPL_SCRATCH);
    x86_shift_ri(x, sgn ? X86_SAR : X86_SHR, psz, d, (unsigned)w);
    if (sgn || w == 32)
        gen_normalize(g, d, t);
    ra_bind(g, out, d);
}

static void gen_div(TmplGen *g, const IrInst *op)
{
    X86Buf *x = &g->x;
    IrType t = (IrType)op->type;
    int w = tg_bits(t), sz = tg_opsz(t);
    bool sgn = op->opc == IR_OP_divs || op->opc == IR_OP_rems;
    bool rem = op->opc == IR_OP_remu || op->opc == IR_OP_rems;
    IrTemp out = op->args[0], a = op->args[1], b = op->args[2];
    uint64_t mask = w == 64 ? ~0ull : (1ull << w) - 1;

    if (tg_is_const(g, b) && (tg_const(g, b) & mask) == 0) {
        /* x/0 = 0, x%0 = x */
        int d = rem ? ra_out_reg(g, out, a) : ra_alloc(g);
        if (rem)
            gen_load_to(g, d, a);
        else
            x86_mov_ri(x, d, 0);
        ra_bind(g, out, d);
        return;
    }
    /* divisor in r11 (never rax/rdx), sign-extended for narrow signed types */
    ra_reserve(g, X86_RDX);
    gen_load_to(g, TMPL_SCRATCH, b);
    gen_load_to(g, X86_RAX, a);
    if (sgn && w < 32) {
        x86_movsx_rr(x, 32, TMPL_SCRATCH, TMPL_SCRATCH, w);
        x86_movsx_rr(x, 32, X86_RAX, X86_RAX, w);
    }
    size_t j_zero = 0, j_neg = 0, j_done1 = 0, j_done2 = 0;
    bool need_zero = !tg_is_const(g, b);
    if (need_zero) {
        x86_test_rr(x, sz, TMPL_SCRATCH, TMPL_SCRATCH);
        j_zero = x86_jcc32(x, X86_CC_E);
    }
    if (sgn) {
        x86_alu_ri(x, X86_CMP, sz, TMPL_SCRATCH, -1);
        j_neg = x86_jcc32(x, X86_CC_E);
        x86_cqo(x, sz);
        x86_unary(x, X86_IDIV, sz, TMPL_SCRATCH);
    } else {
        x86_alu_rr(x, X86_XOR, 32, X86_RDX, X86_RDX);
        x86_unary(x, X86_DIV, sz, TMPL_SCRATCH);
    }
    if (sgn || need_zero)
        j_done1 = x86_jmp32(x);
    if (sgn) {
        /* x / -1 = -x (MIN stays MIN), x % -1 = 0 */
        x86_patch_rel32(x, j_neg, x86_off(x));
        if (rem)
            x86_alu_rr(x, X86_XOR, 32, X86_RDX, X86_RDX);
        else
            x86_unary(x, X86_NEG, sz, X86_RAX);
        if (need_zero)
            j_done2 = x86_jmp32(x);
    }
    if (need_zero) {
        x86_patch_rel32(x, j_zero, x86_off(x));
        if (rem)
            x86_mov_rr(x, 64, X86_RDX, X86_RAX);  /* x % 0 = x */
        else
            x86_alu_rr(x, X86_XOR, 32, X86_RAX, X86_RAX);
    }
    if (j_done1)
        x86_patch_rel32(x, j_done1, x86_off(x));
    if (j_done2)
        x86_patch_rel32(x, j_done2, x86_off(x));
    int d = ra_alloc(g);
    x86_mov_rr(x, 64, d, rem ? X86_RDX : X86_RAX);
    if (w < 64)
        gen_normalize(g, d, t);
    ra_bind(g, out, d);
}

bool gen_int_op(TmplGen *g, const IrInst *op)
{
    switch (op->opc) {
    case IR_OP_add: case IR_OP_sub: case IR_OP_mul:
    case IR_OP_and: case IR_OP_or: case IR_OP_xor: case IR_OP_andc:
        gen_binop(g, op);
        return true;
    case IR_OP_neg: case IR_OP_not:
        gen_unop(g, op);
        return true;
    case IR_OP_shl: case IR_OP_shr: case IR_OP_sar: case IR_OP_rotl: case IR_OP_rotr:
        gen_shift(g, op);
        return true;
    case IR_OP_mulhu: case IR_OP_mulhs:
        gen_mulh(g, op);
        return true;
    case IR_OP_divu: case IR_OP_divs: case IR_OP_remu: case IR_OP_rems:
        gen_div(g, op);
        return true;
    case IR_OP_setcond:
        gen_setcond(g, op);
        return true;
    case IR_OP_movcond:
        gen_movcond(g, op);
        return true;
    default:
        return false;
    }
}
