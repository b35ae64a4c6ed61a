/*
 * a64-simd.c - lifters for AdvSIMD data processing (a64-simd.decode).
 *
 * Each trans_ function validates the encoding (returning false for
 * unallocated or unsupported ones, which the dispatcher turns into SIGILL)
 * and maps it to one A64SimdOp descriptor.  gen_simd lifts the common
 * integer ones to plain IR (a64-simd-swar.c) and sends the rest to
 * helper_a64_simd; the moves between general and vector registers, the
 * immediates and the bitwise ops are plain IR here (ldenv/stenv of the V
 * registers).
 */
#include "frontend/aarch64/a64-fp.h"
#include "frontend/aarch64/a64-fp-helpers.h"
#include "frontend/aarch64/a64-simd-decode.h"
#include "frontend/aarch64/a64-simd-helpers.h"
#include "frontend/aarch64/a64-simd-swar.h"

#define OP(name) A64_SIMD_##name

static void gen_simd(DisasContext *s, int op, int size, int q, int scalar, unsigned imm, int rd,
                     int rn, int rm)
{
    if (a64_simd_swar(s, op, size, q, scalar, imm, rd, rn, rm))
        return;                                     /* lifted to plain IR */
    IrBlock *b = a64_ir(s);
    IrTemp args[2] = { ir_const(b, IR_I32, a64_simd_desc(op, size, q, scalar, imm)),
                       ir_const(b, IR_I32, a64_simd_regs(rd, rn, rm)) };
    ir_call(b, IR_HELPER_a64_simd, args, 2);
}

/* imm5 of the copy instructions: element size (lowest set bit) and index. */
static bool imm5_elt(int imm5, int *size, int *idx)
{
    if (!(imm5 & 15))
        return false;
    *size = __builtin_ctz(imm5);
    *idx = imm5 >> (*size + 1);
    return true;
}

/* ---- copies ---------------------------------------------------------------- */
bool trans_V_DUP_ELT(DisasContext *s, arg_V_DUP_ELT *a)
{
    int size, idx;
    if (!imm5_elt(a->imm5, &size, &idx) || (size == 3 && !a->q))
        return false;
    gen_simd(s, OP(DUP_ELT), size, a->q, 0, idx, a->rd, a->rn, 0);
    return true;
}

bool trans_V_DUP_SCALAR(DisasContext *s, arg_V_DUP_SCALAR *a)
{
    int size, idx;
    if (!imm5_elt(a->imm5, &size, &idx))
        return false;
    gen_simd(s, OP(DUP_ELT), size, 0, 1, idx, a->rd, a->rn, 0);
    return true;
}

bool trans_V_DUP_GEN(DisasContext *s, arg_V_DUP_GEN *a)
{
    static const uint64_t rep[4] = { 0x0101010101010101ull, 0x0001000100010001ull,
                                     0x0000000100000001ull, 1 };
    IrBlock *b = a64_ir(s);
    int size, idx;
    if (!imm5_elt(a->imm5, &size, &idx) || (size == 3 && !a->q))
        return false;
    IrTemp x = a64_get_x(s, a->rn);
    if (size < 3)
        x = ir_and(b, IR_I64, x, ir_const(b, IR_I64, (1ull << (8 << size)) - 1));
    IrTemp v = ir_mul(b, IR_I64, x, ir_const(b, IR_I64, rep[size]));
    a64_vreg_write_zext(s, a->rd, 4, ir_concat(b, IR_V128, v, a->q ? v : ir_const(b, IR_I64, 0)));
    return true;
}

bool trans_V_INS_GEN(DisasContext *s, arg_V_INS_GEN *a)
{
    IrBlock *b = a64_ir(s);
    int size, idx;
    if (!imm5_elt(a->imm5, &size, &idx))
        return false;
    IrTemp x = a64_get_x(s, a->rn);
    if (size < 3)
        x = ir_trunc(b, a64_int_type(size), IR_I64, x);
    a64_vreg_write_elt(s, a->rd, size, idx, x);
    return true;
}

bool trans_V_INS_ELT(DisasContext *s, arg_V_INS_ELT *a)
{
    int size, idx;
    if (!imm5_elt(a->imm5, &size, &idx))
        return false;
    int src = a->imm4 >> size;
    gen_simd(s, OP(INS_ELT), size, 1, 0, (unsigned)idx | (unsigned)src << 8, a->rd, a->rn, 0);
    return true;
}

bool trans_V_UMOV(DisasContext *s, arg_V_UMOV *a)
{
    int size, idx;
    /* UMOV: Q=1 only for D elements, Q=0 for B/H/S */
    if (!imm5_elt(a->imm5, &size, &idx) || a->q != (size == 3))
        return false;
    a64_set_x(s, a->rd, a64_vreg_read_elt(s, a->rn, size, idx));
    return true;
}

bool trans_V_SMOV(DisasContext *s, arg_V_SMOV *a)
{
    IrBlock *b = a64_ir(s);
    int size, idx;
    if (!imm5_elt(a->imm5, &size, &idx) || size == 3 || (size == 2 && !a->q))
        return false;
    IrTemp e = ir_ldenv(b, a64_int_type(size), a64_vreg_off(a->rn, idx << size));
    IrTemp x = ir_sext(b, IR_I64, a64_int_type(size), e);
    if (!a->q)
        x = ir_zext(b, IR_I64, IR_I32, ir_trunc(b, IR_I32, IR_I64, x));
    a64_set_x(s, a->rd, x);
    return true;
}

/* ---- modified immediate ------------------------------------------------------ */
/* AdvSIMDExpandImm. */
static uint64_t expand_imm(int op, int cmode, uint64_t imm8)
{
    uint64_t v;
    switch (cmode >> 1) {
    case 0: case 1: case 2: case 3:
        v = imm8 << (8 * (cmode >> 1));
        return v | v << 32;
    case 4: case 5:
        v = imm8 << (8 * ((cmode >> 1) & 1));
        return v * 0x0001000100010001ull;
    case 6:
        v = (cmode & 1) ? (imm8 << 16) | 0xffff : (imm8 << 8) | 0xff;
        return v | v << 32;
    default:
        if (!(cmode & 1) && !op)
            return imm8 * 0x0101010101010101ull;
        if (!(cmode & 1)) {
            v = 0;
            for (int i = 0; i < 8; i++)
                if ((imm8 >> i) & 1)
                    v |= 0xffull << (8 * i);
            return v;
        }
        if (!op) {
            v = a64_fp_expand_imm(2, (unsigned)imm8);
            return v | v << 32;
        }
        return a64_fp_expand_imm(3, (unsigned)imm8);
    }
}

bool trans_V_MOVI(DisasContext *s, arg_V_MOVI *a)
{
    IrBlock *b = a64_ir(s);
    if (a->o2)
        return false;                              /* FMOV half (FEAT_FP16) */
    if (a->cmode == 15 && a->op && !a->q)
        return false;
    uint64_t imm = expand_imm(a->op, a->cmode, (uint64_t)a->imm);
    bool orr_bic = (a->cmode & 1) && a->cmode < 12;
    if (orr_bic) {
        IrTemp lo = a64_vreg_read_elt(s, a->rd, 3, 0), hi = a64_vreg_read_elt(s, a->rd, 3, 1);
        IrTemp c = ir_const(b, IR_I64, imm);
        if (a->op) {
            lo = ir_andc(b, IR_I64, lo, c);
            hi = ir_andc(b, IR_I64, hi, c);
        } else {
            lo = ir_or(b, IR_I64, lo, c);
            hi = ir_or(b, IR_I64, hi, c);
        }
        a64_vreg_write_zext(s, a->rd, 4, ir_concat(b, IR_V128, lo, a->q ? hi : ir_const(b, IR_I64, 0)));
        return true;
    }
    /* MVNI: the inverted immediate (not for cmode 1110/1111, MOVI 64-bit/FMOV) */
    if (a->op && a->cmode < 14)
        imm = ~imm;
    a64_vreg_write_zext(s, a->rd, 4, ir_const128(b, IR_V128, imm, a->q ? imm : 0));
    return true;
}

/* ---- permutes, EXT, TBL --------------------------------------------------------- */
bool trans_V_PERM(DisasContext *s, arg_V_PERM *a)
{
    static const int ops[8] = { -1, OP(UZP1), OP(TRN1), OP(ZIP1), -1, OP(UZP2), OP(TRN2), OP(ZIP2) };
    if (ops[a->opc] < 0 || (a->size == 3 && !a->q))
        return false;
    gen_simd(s, ops[a->opc], a->size, a->q, 0, 0, a->rd, a->rn, a->rm);
    return true;
}

bool trans_V_EXT(DisasContext *s, arg_V_EXT *a)
{
    if (!a->q && (a->imm4 & 8))
        return false;
    gen_simd(s, OP(EXT), 0, a->q, 0, a->imm4, a->rd, a->rn, a->rm);
    return true;
}

bool trans_V_TBL(DisasContext *s, arg_V_TBL *a)
{
    gen_simd(s, a->op ? OP(TBX) : OP(TBL), 0, a->q, 0, a->len + 1, a->rd, a->rn, a->rm);
    return true;
}

/* AND BIC ORR ORN EOR BSL BIT BIF (sel = U:size) on the two 64-bit halves,
 * in IR: these are the commonest vector ops (MOV Vd, Vn is ORR). */
static void gen_logic(DisasContext *s, int sel, int q, int rd, int rn, int rm)
{
    IrBlock *b = a64_ir(s);
    IrTemp res[2];
    for (int h = 0; h < (q ? 2 : 1); h++) {
        IrTemp n = a64_vreg_read_elt(s, rn, 3, h), m = a64_vreg_read_elt(s, rm, 3, h), d, r;
        switch (sel) {
        case 0: r = ir_and(b, IR_I64, n, m); break;
        case 1: r = ir_andc(b, IR_I64, n, m); break;
        case 2: r = rn == rm ? n : ir_or(b, IR_I64, n, m); break;
        case 3: r = ir_or(b, IR_I64, n, ir_not(b, IR_I64, m)); break;
        case 4: r = ir_xor(b, IR_I64, n, m); break;
        default:
            d = a64_vreg_read_elt(s, rd, 3, h);
            if (sel == 5)        /* BSL: d ? n : m */
                r = ir_or(b, IR_I64, ir_and(b, IR_I64, n, d), ir_andc(b, IR_I64, m, d));
            else if (sel == 6)   /* BIT: m ? n : d */
                r = ir_or(b, IR_I64, ir_and(b, IR_I64, n, m), ir_andc(b, IR_I64, d, m));
            else                 /* BIF: m ? d : n */
                r = ir_or(b, IR_I64, ir_and(b, IR_I64, d, m), ir_andc(b, IR_I64, n, m));
            break;
        }
        res[h] = r;
    }
    a64_vreg_write_zext(s, rd, 4, ir_concat(b, IR_V128, res[0], q ? res[1] : ir_const(b, IR_I64, 0)));
}

/* ---- three same ------------------------------------------------------------------ */
/* FP three-same ops: [u][a][opc - 0x18] */
static const short fp3_ops[2][2][8] = {
    { { OP(FMAXNM), OP(FMLA), OP(FADD), OP(FMULX), OP(FCMEQ), -1, OP(FMAX), OP(FRECPS) },
      { OP(FMINNM), OP(FMLS), OP(FSUB), -1, -1, -1, OP(FMIN), OP(FRSQRTS) } },
    { { OP(FMAXNMP), -1, OP(FADDP), OP(FMUL), OP(FCMGE), OP(FACGE), OP(FMAXP), OP(FDIV) },
      { OP(FMINNMP), -1, OP(FABD), -1, OP(FCMGT), OP(FACGT), OP(FMINP), -1 } },
};

bool trans_V_3SAME(DisasContext *s, arg_V_3SAME *a)
{
    int op = -1, size = a->size;
    if (a->opc >= 0x18) {
        int fa = size >> 1, sz = size & 1;
        op = fp3_ops[a->u][fa][a->opc - 0x18];
        if (op < 0 || (sz && !a->q && !a->scalar))
            return false;
        if (a->scalar && op != OP(FMULX) && op != OP(FCMEQ) && op != OP(FCMGE) &&
            op != OP(FCMGT) && op != OP(FACGE) && op != OP(FACGT) && op != OP(FABD) &&
            op != OP(FRECPS) && op != OP(FRSQRTS))
            return false;
        gen_simd(s, op, 2 + sz, a->q, a->scalar, 0, a->rd, a->rn, a->rm);
        return true;
    }
    static const short int_ops[2][0x18] = {
        { OP(SHADD), OP(SQADD), OP(SRHADD), -2, OP(SHSUB), OP(SQSUB), OP(CMGT), OP(CMGE),
          OP(SSHL), OP(SQSHL), OP(SRSHL), OP(SQRSHL), OP(SMAX), OP(SMIN), OP(SABD), OP(SABA),
          OP(ADD), OP(CMTST), OP(MLA), OP(MUL), OP(SMAXP), OP(SMINP), OP(SQDMULH), OP(ADDP) },
        { OP(UHADD), OP(UQADD), OP(URHADD), -2, OP(UHSUB), OP(UQSUB), OP(CMHI), OP(CMHS),
          OP(USHL), OP(UQSHL), OP(URSHL), OP(UQRSHL), OP(UMAX), OP(UMIN), OP(UABD), OP(UABA),
          OP(SUB), OP(CMEQ), OP(MLS), OP(PMUL), OP(UMAXP), OP(UMINP), OP(SQRDMULH), -1 },
    };
    op = int_ops[a->u][a->opc];
    if (op == -2) {                                   /* bitwise: size selects the op */
        if (a->scalar)
            return false;
        gen_logic(s, a->u << 2 | size, a->q, a->rd, a->rn, a->rm);
        return true;
    }
    if (op < 0)
        return false;
    bool sat = op == OP(SQADD) || op == OP(UQADD) || op == OP(SQSUB) || op == OP(UQSUB) ||
               op == OP(SQSHL) || op == OP(UQSHL) || op == OP(SQRSHL) || op == OP(UQRSHL);
    if (op == OP(SQDMULH) || op == OP(SQRDMULH)) {
        if (size == 0 || size == 3)
            return false;
        gen_simd(s, op, size, a->q, a->scalar, 0, a->rd, a->rn, a->rm);
        return true;
    }
    if (op == OP(PMUL) && (size != 0 || a->scalar))
        return false;
    if (a->scalar) {
        /* scalar: the saturating ops at any size, the others only on D */
        bool ok = sat || (size == 3 && (op == OP(ADD) || op == OP(SUB) || op == OP(CMGT) ||
                                        op == OP(CMHI) || op == OP(CMGE) || op == OP(CMHS) ||
                                        op == OP(CMTST) || op == OP(CMEQ) || op == OP(SSHL) ||
                                        op == OP(USHL) || op == OP(SRSHL) || op == OP(URSHL)));
        if (!ok)
            return false;
    } else {
        if (size == 3 && !a->q)
            return false;
        bool any64 = sat || op == OP(ADD) || op == OP(SUB) || op == OP(CMGT) || op == OP(CMHI) ||
                     op == OP(CMGE) || op == OP(CMHS) || op == OP(CMTST) || op == OP(CMEQ) ||
                     op == OP(SSHL) || op == OP(USHL) || op == OP(SRSHL) || op == OP(URSHL) ||
                     op == OP(ADDP);
        if (size == 3 && !any64)
            return false;
    }
    gen_simd(s, op, size, a->q, a->scalar, 0, a->rd, a->rn, a->rm);
    return true;
}

/* ---- three different --------------------------------------------------------------- */
bool trans_V_3DIFF(DisasContext *s, arg_V_3DIFF *a)
{
    static const short ops[2][16] = {
        { OP(SADDL), OP(SADDW), OP(SSUBL), OP(SSUBW), OP(ADDHN), OP(SABAL), OP(SUBHN), OP(SABDL),
          OP(SMLAL), -1, OP(SMLSL), -1, OP(SMULL), -1, OP(PMULL), -1 },
        { OP(UADDL), OP(UADDW), OP(USUBL), OP(USUBW), OP(RADDHN), OP(UABAL), OP(RSUBHN), OP(UABDL),
          OP(UMLAL), -1, OP(UMLSL), -1, OP(UMULL), -1, -1, -1 },
    };
    if (!a->u && (a->opc == 9 || a->opc == 11 || a->opc == 13)) {   /* SQDMLAL SQDMLSL SQDMULL */
        if (a->size == 0 || a->size == 3)
            return false;
        int qop = a->opc == 9 ? OP(SQDMLAL) : a->opc == 11 ? OP(SQDMLSL) : OP(SQDMULL);
        gen_simd(s, qop, a->size, a->q, a->scalar, 0, a->rd, a->rn, a->rm);
        return true;
    }
    int op = ops[a->u][a->opc];
    if (a->scalar)
        return false;
    if (op < 0 || a->size == 3 || (op == OP(PMULL) && a->size != 0))
        return false;                   /* PMULL 64x64 needs FEAT_PMULL: not offered */
    gen_simd(s, op, a->size, a->q, 0, 0, a->rd, a->rn, a->rm);
    return true;
}

/* ---- two-register misc ----------------------------------------------------------------- */
static bool v2misc_fp(DisasContext *s, arg_V_2MISC *a)
{
    int fa = a->size >> 1, sz = a->size & 1, op = -1;
    unsigned imm = 0;
    int u = a->u;
    switch (a->opc) {
    case 0x16: case 0x17:                           /* FCVTN(2) / FCVTL(2) / FCVTXN(2) */
        if (fa)
            return false;
        if (a->opc == 0x16 && u) {
            if (!sz)
                return false;
            gen_simd(s, OP(FCVTXN), 2, a->q, a->scalar, 0, a->rd, a->rn, 0);
            return true;
        }
        if (u || a->scalar)
            return false;
        gen_simd(s, a->opc == 0x16 ? OP(FCVTN) : OP(FCVTL), 1 + sz, a->q, 0, 0, a->rd, a->rn, 0);
        return true;
    case 0x18: case 0x19: {                         /* FRINT* */
        static const int modes[2][2][2] = {          /* [u][opc&1][a] */
            { { A64_RN, A64_RP }, { A64_RM, A64_RZ } },
            { { A64_RA, -1 }, { 7 | 8, 7 } },        /* FRINTX (exact), FRINTI */
        };
        int m = modes[u][a->opc & 1][fa];
        if (m < 0 || a->scalar)
            return false;
        op = OP(FRINT), imm = (unsigned)m;
        break;
    }
    case 0x1c:
        if (fa) {                                    /* URECPE / URSQRTE */
            if (sz || a->scalar)
                return false;
            gen_simd(s, u ? OP(URSQRTE) : OP(URECPE), 2, a->q, 0, 0, a->rd, a->rn, 0);
            return true;
        }
        /* FCVTA{S,U}: */
        __attribute__((fallthrough));
    case 0x1a: case 0x1b: {                          /* FCVT{N,P,M,Z,A}{S,U} */
        static const int modes[3][2] = { { A64_RN, A64_RP }, { A64_RM, A64_RZ }, { A64_RA, -1 } };
        int m = modes[a->opc - 0x1a][fa];
        if (m < 0)
            return false;
        op = u ? OP(FCVTU) : OP(FCVTS), imm = (unsigned)m;
        break;
    }
    case 0x1d:
        op = fa ? (u ? OP(FRSQRTE) : OP(FRECPE)) : u ? OP(UCVTF) : OP(SCVTF);
        break;
    case 0x0c: op = fa ? (u ? OP(FCMGE0) : OP(FCMGT0)) : -1; break;
    case 0x0d: op = fa ? (u ? OP(FCMLE0) : OP(FCMEQ0)) : -1; break;
    case 0x0e: op = fa && !u ? OP(FCMLT0) : -1; break;
    case 0x0f: op = fa && !a->scalar ? (u ? OP(FNEG) : OP(FABS)) : -1; break;
    case 0x1f:
        if (fa && !u && a->scalar)
            op = OP(FRECPX);
        else
            op = fa && u && !a->scalar ? OP(FSQRT) : -1;
        break;
    default: break;
    }
    if (op < 0 || (sz && !a->q && !a->scalar))
        return false;
    gen_simd(s, op, 2 + sz, a->q, a->scalar, imm, a->rd, a->rn, 0);
    return true;
}

bool trans_V_2MISC(DisasContext *s, arg_V_2MISC *a)
{
    int size = a->size, u = a->u, op = -1;
    if (a->opc >= 0x16 || (a->opc >= 0x0c && a->opc <= 0x0f && (size & 2)))
        return v2misc_fp(s, a);
    if (a->opc == 0x0c || a->opc == 0x0d || a->opc == 0x0e || a->opc == 0x0f)
        return false;
    switch (a->opc) {
    case 0x00: op = u ? (size < 2 ? OP(REV32) : -1) : (size < 3 ? OP(REV64) : -1); break;
    case 0x01: op = !u && size == 0 ? OP(REV16) : -1; break;
    case 0x02: op = size < 3 ? (u ? OP(UADDLP) : OP(SADDLP)) : -1; break;
    case 0x06: op = size < 3 ? (u ? OP(UADALP) : OP(SADALP)) : -1; break;
    case 0x04: op = size < 3 ? (u ? OP(CLZ) : OP(CLS)) : -1; break;
    case 0x05: op = !u ? (size == 0 ? OP(CNT) : -1) : size == 0 ? OP(NOT) : size == 1 ? OP(RBIT) : -1; break;
    case 0x08: op = u ? OP(CMGE0) : OP(CMGT0); break;
    case 0x09: op = u ? OP(CMLE0) : OP(CMEQ0); break;
    case 0x0a: op = u ? -1 : OP(CMLT0); break;
    case 0x0b: op = u ? OP(NEG) : OP(ABS); break;
    case 0x12: op = size < 3 ? (u ? OP(SQXTUN) : OP(XTN)) : -1; break;
    case 0x13: op = u && size < 3 && !a->scalar ? OP(SHLL) : -1; break;
    case 0x14: op = size < 3 ? (u ? OP(UQXTN) : OP(SQXTN)) : -1; break;
    case 0x07: op = u ? OP(SQNEG) : OP(SQABS); break;
    case 0x03: op = u ? OP(USQADD) : OP(SUQADD); break;
    default: break;
    }
    if (op < 0)
        return false;
    bool narrow = op == OP(XTN) || op == OP(SQXTN) || op == OP(UQXTN) || op == OP(SQXTUN);
    if (a->scalar) {
        bool ok = (size == 3 && (op == OP(CMGT0) || op == OP(CMGE0) || op == OP(CMEQ0) ||
                                 op == OP(CMLE0) || op == OP(CMLT0) || op == OP(ABS) || op == OP(NEG))) ||
                  (narrow && op != OP(XTN)) || op == OP(SQABS) || op == OP(SQNEG) ||
                  op == OP(SUQADD) || op == OP(USQADD);
        if (!ok)
            return false;
    } else if (size == 3 && !a->q && !narrow) {
        return false;
    }
    if (op == OP(XTN) && a->scalar)
        return false;
    if (op == OP(NOT) || op == OP(RBIT))
        size = 0;                                     /* size selected the op */
    gen_simd(s, op, size, a->q, a->scalar, 0, a->rd, a->rn, 0);
    return true;
}

/* ---- across lanes and scalar pairwise ----------------------------------------------------- */
bool trans_V_ACROSS(DisasContext *s, arg_V_ACROSS *a)
{
    int op = -1, size = a->size;
    if (a->opc == 0x0c || a->opc == 0x0f) {        /* FMAXNMV FMINNMV FMAXV FMINV (4S) */
        if (!a->u || !a->q || (size & 1))
            return false;
        bool mn = size >> 1;
        op = a->opc == 0x0c ? (mn ? OP(FMINNMV) : OP(FMAXNMV)) : (mn ? OP(FMINV) : OP(FMAXV));
        gen_simd(s, op, 2, 1, 0, 0, a->rd, a->rn, 0);
        return true;
    }
    switch (a->opc) {
    case 0x03: op = a->u ? OP(UADDLV) : OP(SADDLV); break;
    case 0x0a: op = a->u ? OP(UMAXV) : OP(SMAXV); break;
    case 0x1a: op = a->u ? OP(UMINV) : OP(SMINV); break;
    case 0x1b: op = a->u ? -1 : OP(ADDV); break;
    default: break;
    }
    if (op < 0 || size == 3 || (size == 2 && !a->q))
        return false;
    gen_simd(s, op, size, a->q, 0, 0, a->rd, a->rn, 0);
    return true;
}

bool trans_V_PAIR_SCALAR(DisasContext *s, arg_V_PAIR_SCALAR *a)
{
    int op = -1;
    if (!a->u && a->opc == 0x1b && a->size == 3) {
        gen_simd(s, OP(ADDP), 3, 0, 1, 0, a->rd, a->rn, 0);
        return true;
    }
    if (!a->u)
        return false;                                /* FP16 forms */
    int fa = a->size >> 1, sz = a->size & 1;
    switch (a->opc) {
    case 0x0c: op = fa ? OP(FMINNMP) : OP(FMAXNMP); break;
    case 0x0d: op = fa ? -1 : OP(FADDP); break;
    case 0x0f: op = fa ? OP(FMINP) : OP(FMAXP); break;
    default: break;
    }
    if (op < 0)
        return false;
    gen_simd(s, op, 2 + sz, 0, 1, 0, a->rd, a->rn, 0);
    return true;
}

/* ---- shifts by immediate ------------------------------------------------------------------ */
bool trans_V_SHIFT(DisasContext *s, arg_V_SHIFT *a)
{
    if (a->immh == 0)
        return false;
    int size = 31 - __builtin_clz((unsigned)a->immh);
    int bits = 8 << size, immhb = a->immh << 3 | a->immb;
    int rshift = 2 * bits - immhb, lshift = immhb - bits;
    int op = -1;
    unsigned imm = 0;
    bool narrow = false, widen = false, fp = false, sat = false, qnarrow = false;
    switch (a->opc) {
    case 0x00: op = a->u ? OP(USHR) : OP(SSHR), imm = rshift; break;
    case 0x02: op = a->u ? OP(USRA) : OP(SSRA), imm = rshift; break;
    case 0x04: op = a->u ? OP(URSHR) : OP(SRSHR), imm = rshift; break;
    case 0x06: op = a->u ? OP(URSRA) : OP(SRSRA), imm = rshift; break;
    case 0x08: op = a->u ? OP(SRI) : -1, imm = rshift; break;
    case 0x0a: op = a->u ? OP(SLI) : OP(SHL), imm = lshift; break;
    case 0x10: op = a->u ? OP(SQSHRUN) : OP(SHRN), imm = rshift, narrow = !a->u, qnarrow = a->u; break;
    case 0x11: op = a->u ? OP(SQRSHRUN) : OP(RSHRN), imm = rshift, narrow = !a->u, qnarrow = a->u; break;
    case 0x14: op = a->u ? OP(USHLL) : OP(SSHLL), imm = lshift, widen = true; break;
    case 0x0c: op = a->u ? OP(SQSHLU) : -1, imm = lshift, sat = true; break;
    case 0x0e: op = a->u ? OP(UQSHL_IMM) : OP(SQSHL_IMM), imm = lshift, sat = true; break;
    case 0x12: op = a->u ? OP(UQSHRN) : OP(SQSHRN), imm = rshift, qnarrow = true; break;
    case 0x13: op = a->u ? OP(UQRSHRN) : OP(SQRSHRN), imm = rshift, qnarrow = true; break;
    case 0x1c: op = a->u ? OP(UCVTF) : OP(SCVTF), imm = rshift, fp = true; break;
    case 0x1f: op = a->u ? OP(FCVTU) : OP(FCVTS), imm = A64_RZ | (unsigned)rshift << 8, fp = true; break;
    default: break;
    }
    if (op < 0)
        return false;
    if (qnarrow) {
        if (size == 3)
            return false;
    } else if (sat) {
        if (size == 3 && !a->q && !a->scalar)
            return false;
    } else if (narrow || widen) {
        if (size == 3 || a->scalar)
            return false;
    } else if (fp) {
        if (size < 2 || (size == 3 && !a->q && !a->scalar))
            return false;
    } else if (a->scalar ? size != 3 : (size == 3 && !a->q)) {
        return false;
    }
    gen_simd(s, op, size, a->q, a->scalar, imm, a->rd, a->rn, 0);
    return true;
}

/* ---- by element ------------------------------------------------------------------------------ */
bool trans_V_INDEXED(DisasContext *s, arg_V_INDEXED *a)
{
    int op = -1, size = a->size, idx, rm;
    bool fp = false;
    switch (a->opc | a->u << 4) {
    case 0x08: op = OP(MUL_IDX); break;
    case 0x10: op = OP(MLA_IDX); break;
    case 0x14: op = OP(MLS_IDX); break;
    case 0x01: op = OP(FMLA_IDX), fp = true; break;
    case 0x05: op = OP(FMLS_IDX), fp = true; break;
    case 0x09: op = OP(FMUL_IDX), fp = true; break;
    case 0x0a: op = OP(SMULL_IDX); break;
    case 0x1a: op = OP(UMULL_IDX); break;
    case 0x02: op = OP(SMLAL_IDX); break;
    case 0x12: op = OP(UMLAL_IDX); break;
    case 0x06: op = OP(SMLSL_IDX); break;
    case 0x16: op = OP(UMLSL_IDX); break;
    case 0x0c: op = OP(SQDMULH_IDX); break;
    case 0x0d: op = OP(SQRDMULH_IDX); break;
    case 0x19: op = OP(FMULX_IDX), fp = true; break;
    case 0x03: op = OP(SQDMLAL_IDX); break;
    case 0x07: op = OP(SQDMLSL_IDX); break;
    case 0x0b: op = OP(SQDMULL_IDX); break;
    default: break;
    }
    if (op < 0)
        return false;
    if (fp) {
        if (size < 2)
            return false;                              /* FP16 */
        if (size == 3 && (a->l || (!a->q && !a->scalar)))
            return false;
        idx = size == 2 ? (a->h << 1 | a->l) : a->h;
        rm = a->m << 4 | a->rm;
    } else {
        bool q_ok = op == OP(SQDMULH_IDX) || op == OP(SQRDMULH_IDX) || op == OP(SQDMULL_IDX) ||
                    op == OP(SQDMLAL_IDX) || op == OP(SQDMLSL_IDX);   /* scalar forms exist */
        if ((a->scalar && !q_ok) || size == 0 || size == 3)
            return false;
        if (size == 1) {
            idx = a->h << 2 | a->l << 1 | a->m;
            rm = a->rm;
        } else {
            idx = a->h << 1 | a->l;
            rm = a->m << 4 | a->rm;
        }
    }
    gen_simd(s, op, size, a->q, a->scalar, (unsigned)idx, a->rd, a->rn, rm);
    return true;
}
