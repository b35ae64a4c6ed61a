/*
 * a64-fp.c - lifters for A64 scalar floating point (a64-fp.decode) and the
 * V-register accessors of a64-fp.h.  Arithmetic, compares, rounding and
 * conversions call the exact helpers of a64-fp-helpers.c; moves, abs/neg
 * (pure sign-bit operations, no FP exceptions) and selects stay in IR.
 * Every scalar write zeroes the rest of the 128-bit register.
 */
#include "frontend/aarch64/a64-fp.h"

#include "frontend/aarch64/a64-fp-decode.h"
#include "frontend/aarch64/a64-fp-helpers.h"

/* ---- V registers -------------------------------------------------------- */
IrTemp a64_vreg_read(DisasContext *s, int reg, int size)
{
    if (size == 4)
        return ir_ldenv(a64_ir(s), IR_V128, a64_vreg_off(reg, 0));
    return ir_ldenv(a64_ir(s), a64_int_type(size), a64_vreg_off(reg, 0));
}

void a64_vreg_write_zext(DisasContext *s, int reg, int size, IrTemp val)
{
    IrBlock *b = a64_ir(s);
    if (size == 4) {
        ir_stenv(b, IR_V128, a64_vreg_off(reg, 0), val);
        return;
    }
    IrTemp lo = size == 3 ? val : ir_zext(b, IR_I64, a64_int_type(size), val);
    ir_stenv(b, IR_V128, a64_vreg_off(reg, 0), ir_concat(b, IR_V128, lo, ir_const(b, IR_I64, 0)));
}

IrTemp a64_vreg_read_elt(DisasContext *s, int reg, int size, int idx)
{
    IrBlock *b = a64_ir(s);
    IrTemp v = ir_ldenv(b, a64_int_type(size), a64_vreg_off(reg, idx << size));
    return size == 3 ? v : ir_zext(b, IR_I64, a64_int_type(size), v);
}

void a64_vreg_write_elt(DisasContext *s, int reg, int size, int idx, IrTemp val)
{
    ir_stenv(a64_ir(s), a64_int_type(size), a64_vreg_off(reg, idx << size), val);
}

void a64_vreg_clear_high(DisasContext *s, int reg)
{
    ir_stenv(a64_ir(s), IR_I64, a64_vreg_off(reg, 8), ir_const(a64_ir(s), IR_I64, 0));
}

/* ---- FP value plumbing ------------------------------------------------------ */
/* ftype field -> log2 bytes (S 2, D 3, H 1), -1 if unallocated. */
static int ftype_size(int ftype)
{
    static const int sz[4] = { 2, 3, -1, 1 };
    return sz[ftype & 3];
}

static A64FpFmt size_fmt(int size) { return size == 1 ? A64_F16 : size == 2 ? A64_F32 : A64_F64; }

/* Integer of width 2^size -> the FP type of a helper argument. */
static IrTemp to_f(DisasContext *s, int size, IrTemp v)
{
    return ir_bitcast(a64_ir(s), size == 2 ? IR_F32 : IR_F64, v);
}

static IrTemp from_f(DisasContext *s, int size, IrTemp v)
{
    return ir_bitcast(a64_ir(s), size == 2 ? IR_I32 : IR_I64, v);
}

static IrTemp cst32(DisasContext *s, uint32_t v) { return ir_const(a64_ir(s), IR_I32, v); }

/* a op b (S or D) through helper a64_fp_bin_{s,d}; integer in/out. */
static IrTemp fp_bin(DisasContext *s, int size, A64FpOp op, IrTemp a, IrTemp b)
{
    IrTemp args[3] = { to_f(s, size, a), to_f(s, size, b), cst32(s, op) };
    IrTemp r = ir_call(a64_ir(s), size == 2 ? IR_HELPER_a64_fp_bin_s : IR_HELPER_a64_fp_bin_d,
                       args, 3);
    return from_f(s, size, r);
}

/* Sets NZCV from a 4-bit i32 value (bit 3 = N). */
static void set_nzcv_from(DisasContext *s, IrTemp nzcv)
{
    IrBlock *b = a64_ir(s);
    ir_mov(b, IR_I32, a64_cpu_nf, ir_shl(b, IR_I32, nzcv, cst32(s, 28)));
    ir_mov(b, IR_I32, a64_cpu_zf, ir_andc(b, IR_I32, cst32(s, 4), nzcv));
    ir_mov(b, IR_I32, a64_cpu_cf, ir_extract(b, IR_I32, nzcv, 1, 1));
    ir_mov(b, IR_I32, a64_cpu_vf, ir_shl(b, IR_I32, nzcv, cst32(s, 31)));
    a64_flags_written(s);
}

static IrTemp sign_flip(DisasContext *s, int size, IrTemp v)
{
    IrBlock *b = a64_ir(s);
    return ir_xor(b, a64_int_type(size), v,
                  ir_const(b, a64_int_type(size), a64_fp_sign_bit(size_fmt(size))));
}

/* ---- data processing ---------------------------------------------------------- */
bool trans_FP_1SRC(DisasContext *s, arg_FP_1SRC *a)
{
    IrBlock *b = a64_ir(s);
    int size = ftype_size(a->ftype);
    if (size < 0)
        return false;
    if (a->opc >= 4 && a->opc <= 7) {            /* FCVT between precisions */
        static const int to_size[4] = { 2, 3, -1, 1 };
        int tsize = to_size[a->opc - 4];
        if (tsize < 0 || tsize == size)
            return false;
        IrTemp x = a64_vreg_read(s, a->rn, size);
        if (size != 3)
            x = ir_zext(b, IR_I64, a64_int_type(size), x);
        IrTemp args[2] = { x, cst32(s, size_fmt(size) | size_fmt(tsize) << 4) };
        IrTemp r = ir_call(b, IR_HELPER_a64_fp_cvt, args, 2);
        if (tsize != 3)
            r = ir_trunc(b, a64_int_type(tsize), IR_I64, r);
        a64_vreg_write_zext(s, a->rd, tsize, r);
        return true;
    }
    if (size == 1)
        return false;                              /* FEAT_FP16 not offered */
    IrTemp x = a64_vreg_read(s, a->rn, size), r;
    IrType t = a64_int_type(size);
    switch (a->opc) {
    case 0: r = x; break;                                          /* FMOV */
    case 1: r = ir_and(b, t, x, ir_const(b, t, ~a64_fp_sign_bit(size_fmt(size)))); break;
    case 2: r = sign_flip(s, size, x); break;                      /* FNEG */
    case 3: r = fp_bin(s, size, A64_FP_SQRT, x, x); break;         /* FSQRT */
    case 8: case 9: case 10: case 11: case 12: case 14: case 15: {
        /* FRINTN P M Z A, X (FPCR mode, exact), I (FPCR mode) */
        static const int mode[8] = { A64_RN, A64_RP, A64_RM, A64_RZ, A64_RA, 0, 7, 7 };
        uint32_t desc = mode[a->opc - 8] | (a->opc == 14) << 3 | size_fmt(size) << 4;
        IrTemp args[2] = { size == 3 ? x : ir_zext(b, IR_I64, t, x), cst32(s, desc) };
        r = ir_call(b, IR_HELPER_a64_fp_rint, args, 2);
        if (size == 2)
            r = ir_trunc(b, IR_I32, IR_I64, r);
        break;
    }
    default:
        return false;
    }
    a64_vreg_write_zext(s, a->rd, size, r);
    return true;
}

bool trans_FP_2SRC(DisasContext *s, arg_FP_2SRC *a)
{
    static const int ops[9] = { A64_FP_MUL, A64_FP_DIV, A64_FP_ADD, A64_FP_SUB, A64_FP_MAX,
                                A64_FP_MIN, A64_FP_MAXNM, A64_FP_MINNM, A64_FP_MUL };
    int size = ftype_size(a->ftype);
    if (size < 2 || a->opc > 8)
        return false;
    IrTemp x = a64_vreg_read(s, a->rn, size), y = a64_vreg_read(s, a->rm, size);
    IrTemp r = fp_bin(s, size, (A64FpOp)ops[a->opc], x, y);
    if (a->opc == 8)
        r = sign_flip(s, size, r);   /* FNMUL: round, then negate (NaNs too) */
    a64_vreg_write_zext(s, a->rd, size, r);
    return true;
}

bool trans_FP_3SRC(DisasContext *s, arg_FP_3SRC *a)
{
    int size = ftype_size(a->ftype);
    if (size < 2)
        return false;
    IrTemp n = a64_vreg_read(s, a->rn, size), m = a64_vreg_read(s, a->rm, size);
    IrTemp ad = a64_vreg_read(s, a->ra, size);
    /* FMSUB: -n; FNMADD: -a, -n; FNMSUB: -a (operand sign flips, before
     * NaN processing, as the architecture specifies). */
    if (a->o0 != a->o1)
        n = sign_flip(s, size, n);
    if (a->o1)
        ad = sign_flip(s, size, ad);
    IrTemp args[3] = { to_f(s, size, ad), to_f(s, size, n), to_f(s, size, m) };
    IrTemp r = ir_call(a64_ir(s), size == 2 ? IR_HELPER_a64_fp_muladd_s : IR_HELPER_a64_fp_muladd_d,
                       args, 3);
    a64_vreg_write_zext(s, a->rd, size, from_f(s, size, r));
    return true;
}

/* FCMP/FCCMP: desc = E | skip << 1 | nzcv << 4 (skip: return nzcv). */
static void fp_compare(DisasContext *s, int size, IrTemp x, IrTemp y, IrTemp desc)
{
    IrTemp args[3] = { to_f(s, size, x), to_f(s, size, y), desc };
    IrTemp r = ir_call(a64_ir(s), size == 2 ? IR_HELPER_a64_fp_cmp_s : IR_HELPER_a64_fp_cmp_d,
                       args, 3);
    set_nzcv_from(s, r);
}

bool trans_FP_CMP(DisasContext *s, arg_FP_CMP *a)
{
    int size = ftype_size(a->ftype);
    if (size < 2)
        return false;
    IrTemp x = a64_vreg_read(s, a->rn, size);
    IrTemp y = a->z ? ir_const(a64_ir(s), a64_int_type(size), 0) : a64_vreg_read(s, a->rm, size);
    fp_compare(s, size, x, y, cst32(s, a->e));
    return true;
}

bool trans_FP_CCMP(DisasContext *s, arg_FP_CCMP *a)
{
    IrBlock *b = a64_ir(s);
    int size = ftype_size(a->ftype);
    if (size < 2)
        return false;
    A64Cond c = a64_cond(s, a->cond);
    IrTemp skip = ir_setcond(b, IR_I32, ir_cond_invert(c.cond), c.a, c.b);
    IrTemp desc = ir_or(b, IR_I32, ir_shl(b, IR_I32, skip, cst32(s, 1)),
                        cst32(s, a->e | a->nzcv << 4));
    fp_compare(s, size, a64_vreg_read(s, a->rn, size), a64_vreg_read(s, a->rm, size), desc);
    return true;
}

bool trans_FP_CSEL(DisasContext *s, arg_FP_CSEL *a)
{
    IrBlock *b = a64_ir(s);
    int size = ftype_size(a->ftype);
    if (size < 2)
        return false;
    A64Cond c = a64_cond(s, a->cond);
    IrTemp x = a64_vreg_read(s, a->rn, 3), y = a64_vreg_read(s, a->rm, 3);
    /* The condition compares i32 values (maybe signed): evaluate it at i32. */
    IrTemp t = ir_zext(b, IR_I64, IR_I32, ir_setcond(b, IR_I32, c.cond, c.a, c.b));
    IrTemp r = ir_movcond(b, IR_I64, IR_COND_NE, t, ir_const(b, IR_I64, 0), x, y);
    if (size == 2)
        r = ir_trunc(b, IR_I32, IR_I64, r);
    a64_vreg_write_zext(s, a->rd, size, r);
    return true;
}

/* VFPExpandImm for single (size 2) or double (size 3). */
uint64_t a64_fp_expand_imm(int size, unsigned imm8)
{
    uint64_t sign = imm8 >> 7, b6 = (imm8 >> 6) & 1, e54 = (imm8 >> 4) & 3, frac = imm8 & 15;
    if (size == 2) {
        uint64_t exp = (!b6) << 7 | (b6 ? 0x1f : 0) << 2 | e54;
        return sign << 31 | exp << 23 | frac << 19;
    }
    uint64_t exp = (!b6) << 10 | (b6 ? 0xff : 0) << 2 | e54;
    return sign << 63 | exp << 52 | frac << 48;
}

bool trans_FP_IMM(DisasContext *s, arg_FP_IMM *a)
{
    int size = ftype_size(a->ftype);
    if (size < 2)
        return false;
    IrTemp v = ir_const(a64_ir(s), a64_int_type(size), a64_fp_expand_imm(size, a->imm));
    a64_vreg_write_zext(s, a->rd, size, v);
    return true;
}

/* ---- conversions ---------------------------------------------------------------- */
/* float (Vn, size) -> integer (Rd, sf): rmode 0-4 (A64_RN..A64_RA). */
static void fp_to_int(DisasContext *s, int sf, int size, int rd, int rn, int rmode, bool uns,
                      int fbits)
{
    IrBlock *b = a64_ir(s);
    IrTemp x = a64_vreg_read(s, rn, size);
    if (size == 2)
        x = ir_zext(b, IR_I64, IR_I32, x);
    uint32_t desc = size_fmt(size) | rmode << 2 | uns << 5 | sf << 6 | fbits << 8;
    IrTemp args[2] = { x, cst32(s, desc) };
    IrTemp r = ir_call(b, IR_HELPER_a64_fp_toint, args, 2);
    a64_set_x(s, rd, r);   /* the helper zero-extends 32-bit results */
}

static void int_to_fp(DisasContext *s, int sf, int size, int rd, int rn, bool is_signed, int fbits)
{
    IrBlock *b = a64_ir(s);
    uint32_t desc = size_fmt(size) | is_signed << 5 | sf << 6 | fbits << 8;
    IrTemp args[2] = { a64_get_x(s, rn), cst32(s, desc) };
    IrTemp r = ir_call(b, IR_HELPER_a64_fp_fromint, args, 2);
    if (size == 2)
        r = ir_trunc(b, IR_I32, IR_I64, r);
    a64_vreg_write_zext(s, rd, size, r);
}

bool trans_FP_CVT_FIX(DisasContext *s, arg_FP_CVT_FIX *a)
{
    int size = ftype_size(a->ftype);
    if (size < 2 || (!a->sf && a->scale < 32))
        return false;
    int fbits = 64 - a->scale;
    if (a->rmode == 0 && (a->opc == 2 || a->opc == 3)) {
        int_to_fp(s, a->sf, size, a->rd, a->rn, a->opc == 2, fbits);
        return true;
    }
    if (a->rmode == 3 && (a->opc == 0 || a->opc == 1)) {
        fp_to_int(s, a->sf, size, a->rd, a->rn, A64_RZ, a->opc == 1, fbits);
        return true;
    }
    return false;
}

bool trans_FP_CVT_INT(DisasContext *s, arg_FP_CVT_INT *a)
{
    IrBlock *b = a64_ir(s);
    if (a->opc == 6 || a->opc == 7) {               /* FMOV general <-> FP */
        bool to_fp = a->opc == 7;
        if (a->rmode == 0 && a->sf == 0 && a->ftype == 0) {
            if (to_fp)
                a64_vreg_write_zext(s, a->rd, 2, ir_trunc(b, IR_I32, IR_I64, a64_get_x(s, a->rn)));
            else
                a64_set_x(s, a->rd, ir_zext(b, IR_I64, IR_I32, a64_vreg_read(s, a->rn, 2)));
            return true;
        }
        if (a->rmode == 0 && a->sf == 1 && a->ftype == 1) {
            if (to_fp)
                a64_vreg_write_zext(s, a->rd, 3, a64_get_x(s, a->rn));
            else
                a64_set_x(s, a->rd, a64_vreg_read(s, a->rn, 3));
            return true;
        }
        if (a->rmode == 1 && a->sf == 1 && a->ftype == 2) {   /* Vd.D[1] */
            if (to_fp)
                a64_vreg_write_elt(s, a->rd, 3, 1, a64_get_x(s, a->rn));
            else
                a64_set_x(s, a->rd, a64_vreg_read_elt(s, a->rn, 3, 1));
            return true;
        }
        return false;
    }
    int size = ftype_size(a->ftype);
    if (size < 2)
        return false;
    if (a->opc <= 1) {                               /* FCVT{N,P,M,Z}{S,U} */
        fp_to_int(s, a->sf, size, a->rd, a->rn, a->rmode, a->opc == 1, 0);
        return true;
    }
    if (a->rmode != 0)
        return false;
    if (a->opc == 2 || a->opc == 3) {               /* SCVTF / UCVTF */
        int_to_fp(s, a->sf, size, a->rd, a->rn, a->opc == 2, 0);
        return true;
    }
    /* opc 4/5: FCVTAS / FCVTAU */
    fp_to_int(s, a->sf, size, a->rd, a->rn, A64_RA, a->opc == 5, 0);
    return true;
}
