/*
 * a64-simd-swar.c - AdvSIMD integer ops as plain IR on 64-bit words
 * (a64-simd-swar.h).  A vector is its two halves, read with ldenv i64 and
 * written with stenv i64 (the upper one zeroed by Q=0 and scalar forms).
 *
 * Lanes inside a word are handled SWAR style, exactly: with H the lane
 * sign bits and L the lane low bits,
 *   add  (x & ~H) + (y & ~H), sign bits fixed up with (x ^ y) & H
 *   sub  (x | H) - (y & ~H),  sign bits fixed up with ~(x ^ y) & H
 * never carry across a lane; comparisons first produce one bit per lane
 * (the lane's MSB) and then spread it over the lane; signed order is
 * unsigned order with the sign bits flipped.  64-bit lanes use
 * setcond/movcond.  Pairwise ops put the even and odd lanes of a word side
 * by side in double-width lanes, run the lane op there, and pack the even
 * lanes, the same packing as the narrowing ops (SHRN, XTN, ADDHN); the
 * widening ops (USHLL, UADDL, ...) spread lanes the other way.
 *
 * Covered: ADD SUB, CMEQ CMTST CMHI CMHS CMGT CMGE (and against zero),
 * UMAX UMIN SMAX SMIN, ADDP UMAXP UMINP SMAXP SMINP, ADDV UMAXV UMINV
 * SMAXV SMINV, ABS NEG NOT CNT RBIT REV16/32/64, USHR SSHR USRA SSRA SHL,
 * SHRN RSHRN XTN, USHLL SSHLL SHLL, ZIP UZP TRN, EXT, DUP/INS (element),
 * UABD SABD UABA SABA, [U|S][R]HADD [U|S]HSUB, widening adds/subs/ABDL/
 * ABAL, ADDHN family, [U|S]ADDLP/ADALP, MUL MLA MLS (H and S lanes, also by
 * element), [U|S]MULL/MLAL/MLSL (also by element).  Not covered (helper):
 * saturating ops, byte MUL/MLA, PMUL, shifts by register, TBL/TBX, FP.  Everything here is
 * checked against helper_a64_simd (tests/unit/a64_simd_swar_test.c) and
 * qemu-aarch64 (tests/unit/a64_simd_qemu_diff_test.c).
 */
#include "frontend/aarch64/a64-simd-swar.h"

#include "frontend/aarch64/a64-fp.h"
#include "frontend/aarch64/a64-simd-helpers.h"

#define OP(name) A64_SIMD_##name
#define T IR_I64
/* Word builders: every function here has `IrBlock *b` in scope. */
#define K(v) ir_const(b, T, (uint64_t)(v))
#define AND(x, y) ir_and(b, T, x, y)
#define ANDC(x, y) ir_andc(b, T, x, y)
#define OR(x, y) ir_or(b, T, x, y)
#define XOR(x, y) ir_xor(b, T, x, y)
#define NOT(x) ir_not(b, T, x)
#define ADD(x, y) ir_add(b, T, x, y)
#define SUB(x, y) ir_sub(b, T, x, y)
#define SHL(x, n) ir_shl(b, T, x, K(n))
#define SHR(x, n) ir_shr(b, T, x, K(n))
#define SAR(x, n) ir_sar(b, T, x, K(n))

/* Built with -DA64_SIMD_SWAR_DEFAULT=0 for before/after measurements. */
#ifndef A64_SIMD_SWAR_DEFAULT
#define A64_SIMD_SWAR_DEFAULT 1
#endif
static bool swar_on = A64_SIMD_SWAR_DEFAULT;

void a64_simd_swar_enable(bool on) { swar_on = on; }

/* ---- lane constants ---------------------------------------------------------- */
static const uint64_t lane_lsb[4] = { 0x0101010101010101ull, 0x0001000100010001ull,
                                      0x0000000100000001ull, 1 };
static inline int lane_bits(int sz) { return 8 << sz; }
static inline uint64_t lane_mask(int sz) { return sz == 3 ? ~0ull : (1ull << lane_bits(sz)) - 1; }
static inline uint64_t lane_msb(int sz) { return lane_lsb[sz] << (lane_bits(sz) - 1); }
/* v (one lane's worth) in every lane */
static inline uint64_t rep(int sz, uint64_t v) { return lane_lsb[sz] * (v & lane_mask(sz)); }

/* ---- V register words -------------------------------------------------------- */
static IrTemp vword(DisasContext *s, int reg, int half)
{
    return ir_ldenv(a64_ir(s), T, a64_vreg_off(reg, 8 * half));
}

/* Vd = hi:lo; hi == IR_TEMP_NONE writes zero (Q=0 and scalar forms). */
static void vwrite(DisasContext *s, int reg, IrTemp lo, IrTemp hi)
{
    IrBlock *b = a64_ir(s);
    ir_stenv(b, T, a64_vreg_off(reg, 0), lo);
    ir_stenv(b, T, a64_vreg_off(reg, 8), hi == IR_TEMP_NONE ? K(0) : hi);
}

/* ---- lane arithmetic on one word ------------------------------------------------- */
static IrTemp w_add(IrBlock *b, int sz, IrTemp x, IrTemp y)
{
    if (sz == 3)
        return ADD(x, y);
    IrTemp h = K(lane_msb(sz)), nh = K(~lane_msb(sz));
    return XOR(ADD(AND(x, nh), AND(y, nh)), AND(XOR(x, y), h));
}

static IrTemp w_sub(IrBlock *b, int sz, IrTemp x, IrTemp y)
{
    if (sz == 3)
        return SUB(x, y);
    IrTemp h = K(lane_msb(sz));
    return XOR(SUB(OR(x, h), ANDC(y, h)), ANDC(h, XOR(x, y)));
}

/* hb holds only lane MSBs: each set MSB becomes an all-ones lane. */
static IrTemp w_expand(IrBlock *b, int sz, IrTemp hb)
{
    if (sz == 3)
        return SAR(hb, 63);
    return OR(SUB(hb, SHR(hb, lane_bits(sz) - 1)), hb);
}

/* Lane MSB set iff the lane of x is not zero (sz < 3): the low bits plus
 * ~H carry into the MSB iff they are not all zero, and stay in the lane.
 * The other bits of the result are junk: mask with H (or ANDC from H). */
static IrTemp w_nonzero_raw(IrBlock *b, int sz, IrTemp x)
{
    IrTemp nh = K(~lane_msb(sz));
    return OR(ADD(AND(x, nh), nh), x);
}

/* Lane MSB set iff x < y unsigned (sz < 3): the borrow out of the lane,
 * (~x & y) | (~(x ^ y) & borrow into the MSB), where t = (x | H) - (y & ~H)
 * has a clear MSB exactly when the low bits borrowed. */
static IrTemp w_ltu_msb(IrBlock *b, int sz, IrTemp x, IrTemp y)
{
    IrTemp h = K(lane_msb(sz));
    IrTemp t = SUB(OR(x, h), ANDC(y, h));
    return AND(OR(ANDC(y, x), NOT(OR(t, XOR(x, y)))), h);
}

/* All-ones lanes where the comparison op (CMEQ CMTST CMHI CMHS CMGT CMGE)
 * of x and y holds. */
static IrTemp w_cmp(IrBlock *b, int sz, int op, IrTemp x, IrTemp y)
{
    if (sz == 3) {
        IrCond c = IR_COND_EQ;
        switch (op) {
        case OP(CMEQ): c = IR_COND_EQ; break;
        case OP(CMTST): c = IR_COND_TSTNE; break;
        case OP(CMHI): c = IR_COND_GTU; break;
        case OP(CMHS): c = IR_COND_GEU; break;
        case OP(CMGT): c = IR_COND_GT; break;
        default: c = IR_COND_GE; break;
        }
        return ir_neg(b, T, ir_setcond(b, T, c, x, y));
    }
    IrTemp h = K(lane_msb(sz)), hb;
    switch (op) {
    case OP(CMEQ): hb = ANDC(h, w_nonzero_raw(b, sz, XOR(x, y))); break;
    case OP(CMTST): hb = AND(w_nonzero_raw(b, sz, AND(x, y)), h); break;
    case OP(CMHI): hb = w_ltu_msb(b, sz, y, x); break;
    case OP(CMHS): hb = XOR(w_ltu_msb(b, sz, x, y), h); break;
    /* signed: flipping the sign bits maps signed order to unsigned */
    case OP(CMGT): hb = w_ltu_msb(b, sz, XOR(y, h), XOR(x, h)); break;
    default: hb = XOR(w_ltu_msb(b, sz, XOR(x, h), XOR(y, h)), h); break;
    }
    return w_expand(b, sz, hb);
}

/* UMAX UMIN SMAX SMIN lane by lane. */
static IrTemp w_minmax(IrBlock *b, int sz, int op, IrTemp x, IrTemp y)
{
    bool sg = op == OP(SMAX) || op == OP(SMIN), max = op == OP(SMAX) || op == OP(UMAX);
    if (sz == 3)
        return ir_movcond(b, T, sg ? IR_COND_GT : IR_COND_GTU, x, y, max ? x : y, max ? y : x);
    IrTemp gt = w_cmp(b, sz, sg ? OP(CMGT) : OP(CMHI), x, y);
    return max ? OR(AND(x, gt), ANDC(y, gt)) : OR(AND(y, gt), ANDC(x, gt));
}

/* The elementwise ops of w_bin. */
static bool is_elementwise(int op)
{
    switch (op) {
    case OP(ADD): case OP(SUB): case OP(CMEQ): case OP(CMTST): case OP(CMHI): case OP(CMHS):
    case OP(CMGT): case OP(CMGE): case OP(UMAX): case OP(UMIN): case OP(SMAX): case OP(SMIN):
        return true;
    default:
        return false;
    }
}

static IrTemp w_bin(IrBlock *b, int sz, int op, IrTemp x, IrTemp y)
{
    switch (op) {
    case OP(ADD): return w_add(b, sz, x, y);
    case OP(SUB): return w_sub(b, sz, x, y);
    case OP(UMAX): case OP(UMIN): case OP(SMAX): case OP(SMIN): return w_minmax(b, sz, op, x, y);
    default: return w_cmp(b, sz, op, x, y);
    }
}

/* Compares with zero (two-register misc) -> w_cmp form. */
static IrTemp w_cmp0(IrBlock *b, int sz, int op, IrTemp x)
{
    IrTemp z = K(0);
    switch (op) {
    case OP(CMEQ0): return w_cmp(b, sz, OP(CMEQ), x, z);
    case OP(CMGT0): return w_cmp(b, sz, OP(CMGT), x, z);
    case OP(CMGE0):
        return sz == 3 ? w_cmp(b, sz, OP(CMGE), x, z) : w_expand(b, sz, ANDC(K(lane_msb(sz)), x));
    case OP(CMLE0): return w_cmp(b, sz, OP(CMGE), z, x);
    default: /* CMLT0: the sign bit */
        return w_expand(b, sz, AND(x, K(lane_msb(sz))));
    }
}

/* Packs the even lanes of size sz of x (odd lanes zero) into the low 32
 * bits, in order; the rest of the result is zero. */
static IrTemp w_pack_even(IrBlock *b, int sz, IrTemp x)
{
    if (sz == 0)
        x = AND(OR(x, SHR(x, 8)), K(0x0000ffff0000ffffull));
    if (sz <= 1)
        x = AND(OR(x, SHR(x, 16)), K(0xffffffffull));
    return x;
}

/* The even lanes of x in place (odd ones zero), or the odd ones moved down. */
static IrTemp w_even(IrBlock *b, int sz, IrTemp x) { return AND(x, K(rep(sz + 1, lane_mask(sz)))); }
static IrTemp w_odd(IrBlock *b, int sz, IrTemp x)
{
    return AND(SHR(x, lane_bits(sz)), K(rep(sz + 1, lane_mask(sz))));
}

/* One pairwise step on unsigned lanes of size sz (values must leave the
 * top bit of a lane pair free, as they do for lanes holding zero-extended
 * values or sums of a few of them): lane pair i of the result (size sz+1)
 * = add/max/min(lane 2i, lane 2i+1).  The pair sits in a lane twice as
 * wide whose top half is zero, so no SWAR fix-ups are needed: e + o cannot
 * carry out, and (e | 2^bits) - o keeps bit `bits` set iff e >= o. */
static IrTemp w_pair_step(IrBlock *b, int sz, int op, IrTemp x)
{
    IrTemp e = w_even(b, sz, x), o = w_odd(b, sz, x);
    int bits = lane_bits(sz);
    if (op == OP(ADD))
        return ADD(e, o);
    IrTemp top = K(rep(sz + 1, 1ull << bits));
    IrTemp ge = AND(SUB(OR(e, top), o), top);
    IrTemp m = SUB(ge, SHR(ge, bits));              /* low half all ones where e >= o */
    IrTemp pick = AND(XOR(e, o), m);
    return XOR(op == OP(UMAX) ? o : e, pick);
}

/* Signed lanes compare like unsigned ones with their sign bits flipped. */
static bool is_signed_minmax(int op) { return op == OP(SMAX) || op == OP(SMIN); }
static int unsigned_op(int op) { return op == OP(SMAX) ? OP(UMAX) : op == OP(SMIN) ? OP(UMIN) : op; }

/* op (ADD UMAX UMIN SMAX SMIN) over the adjacent lane pairs of one word
 * (sz < 3): 32 bits of results. */
static IrTemp w_pairwise(IrBlock *b, int sz, int op, IrTemp x)
{
    bool sg = is_signed_minmax(op);
    if (sg)
        x = XOR(x, K(lane_msb(sz)));
    IrTemp r = w_pair_step(b, sz, unsigned_op(op), x);
    if (op == OP(ADD))
        r = AND(r, K(rep(sz + 1, lane_mask(sz))));
    if (sg)
        r = XOR(r, K(rep(sz + 1, 1ull << (lane_bits(sz) - 1))));
    return w_pack_even(b, sz, r);
}

/* The inverse of w_pack_even: the lanes of size sz in the low 32 bits of x
 * (the rest zero) spread to the even lanes, odd lanes zero. */
static IrTemp w_spread_even(IrBlock *b, int sz, IrTemp x)
{
    if (sz <= 1)
        x = AND(OR(x, SHL(x, 16)), K(0x0000ffff0000ffffull));
    if (sz == 0)
        x = AND(OR(x, SHL(x, 8)), K(0x00ff00ff00ff00ffull));
    return x;
}
static IrTemp lo32(IrBlock *b, IrTemp x) { return AND(x, K(0xffffffffull)); }
static IrTemp hi32(IrBlock *b, IrTemp x) { return SHR(x, 32); }

/* Swaps adjacent lanes of size k (< 3) in every lane pair. */
static IrTemp w_swap_lanes(IrBlock *b, int k, IrTemp x)
{
    IrTemp m = K(rep(k + 1, lane_mask(k)));
    return OR(AND(SHR(x, lane_bits(k)), m), SHL(AND(x, m), lane_bits(k)));
}

/* ---- instruction families --------------------------------------------------------- */
static int pair_base_op(int op)
{
    switch (op) {
    case OP(ADDP): return OP(ADD);
    case OP(UMAXP): return OP(UMAX);
    case OP(UMINP): return OP(UMIN);
    case OP(SMAXP): return OP(SMAX);
    default: return OP(SMIN);
    }
}

static bool gen_pairwise(DisasContext *s, int op, int size, int q, int scalar, int rd, int rn, int rm)
{
    IrBlock *b = a64_ir(s);
    int base = pair_base_op(op);
    if (scalar) {                                   /* ADDP Dd, Vn.2D */
        if (op != OP(ADDP) || size != 3)
            return false;
        vwrite(s, rd, ADD(vword(s, rn, 0), vword(s, rn, 1)), IR_TEMP_NONE);
        return true;
    }
    if (size == 3) {                                /* ADDP .2D */
        if (op != OP(ADDP) || !q)
            return false;
        IrTemp lo = ADD(vword(s, rn, 0), vword(s, rn, 1));
        IrTemp hi = rn == rm ? lo : ADD(vword(s, rm, 0), vword(s, rm, 1));
        vwrite(s, rd, lo, hi);
        return true;
    }
    IrTemp n0 = w_pairwise(b, size, base, vword(s, rn, 0));
    IrTemp m0 = rn == rm ? n0 : w_pairwise(b, size, base, vword(s, rm, 0));
    if (!q) {
        vwrite(s, rd, OR(n0, SHL(m0, 32)), IR_TEMP_NONE);
        return true;
    }
    IrTemp lo = OR(n0, SHL(w_pairwise(b, size, base, vword(s, rn, 1)), 32));
    IrTemp hi = rn == rm ? lo : OR(m0, SHL(w_pairwise(b, size, base, vword(s, rm, 1)), 32));
    vwrite(s, rd, lo, hi);
    return true;
}

/* SHRN RSHRN XTN (size = narrow lane, imm = shift, q = the "2" form). */
static IrTemp w_narrow(IrBlock *b, int size, int op, unsigned imm, IrTemp x)
{
    if (op == OP(RSHRN))      /* the carry out of the wide lane is shifted away anyway */
        x = w_add(b, size + 1, x, K(rep(size + 1, 1ull << (imm - 1))));
    return w_pack_even(b, size, AND(SHR(x, imm), K(rep(size + 1, lane_mask(size)))));
}

static void gen_narrow(DisasContext *s, int op, int size, int q, unsigned imm, int rd, int rn)
{
    IrBlock *b = a64_ir(s);
    IrTemp lo = w_narrow(b, size, op, imm, vword(s, rn, 0));
    IrTemp r = OR(lo, SHL(w_narrow(b, size, op, imm, vword(s, rn, 1)), 32));
    if (q)                                          /* the low half stays */
        ir_stenv(b, T, a64_vreg_off(rd, 8), r);
    else
        vwrite(s, rd, r, IR_TEMP_NONE);
}

/* ADDV UMAXV UMINV SMAXV SMINV: pairwise steps fold each word into one
 * value (sums stay below 2^(bits + steps), inside the widened lanes), then
 * the two words of a Q=1 vector are combined. */
static void gen_across(DisasContext *s, int op, int size, int q, int rd, int rn)
{
    IrBlock *b = a64_ir(s);
    int base = op == OP(ADDV) ? OP(ADD) : op == OP(UMAXV) ? OP(UMAX) : op == OP(UMINV) ? OP(UMIN)
             : op == OP(SMAXV) ? OP(SMAX) : OP(SMIN);
    bool sg = is_signed_minmax(base);
    int uop = unsigned_op(base);
    IrTemp w[2];
    for (int h = 0; h < (q ? 2 : 1); h++) {
        w[h] = vword(s, rn, h);
        if (sg)
            w[h] = XOR(w[h], K(lane_msb(size)));
        for (int sz = size; sz < 3; sz++)
            w[h] = w_pair_step(b, sz, uop, w[h]);
    }
    IrTemp x = w[0];
    if (q) {
        if (uop == OP(ADD))
            x = ADD(w[0], w[1]);
        else
            x = ir_movcond(b, T, uop == OP(UMAX) ? IR_COND_GTU : IR_COND_LTU, w[0], w[1], w[0], w[1]);
    }
    if (sg)
        x = XOR(x, K(lane_msb(size) & lane_mask(size)));
    vwrite(s, rd, AND(x, K(lane_mask(size))), IR_TEMP_NONE);
}

/* USHR SSHR USRA SSRA SHL on one word (imm = shift; 1..bits right, 0..bits-1 left). */
static IrTemp w_shift(IrBlock *b, int sz, int op, unsigned imm, IrTemp x)
{
    unsigned bits = (unsigned)lane_bits(sz);
    switch (op) {
    case OP(SHL):
        return sz == 3 ? SHL(x, imm) : AND(SHL(x, imm), K(rep(sz, lane_mask(sz) << imm)));
    case OP(USHR): case OP(USRA):
        if (imm >= bits)
            return K(0);
        return sz == 3 ? SHR(x, imm) : AND(SHR(x, imm), K(rep(sz, lane_mask(sz) >> imm)));
    default: {                                       /* SSHR SSRA */
        unsigned sh = imm >= bits ? bits - 1 : imm;  /* by bits: all sign */
        if (sz == 3)
            return SAR(x, sh);
        /* offset binary: (v + 2^(bits-1)) >> sh = (v >> sh) + 2^(bits-1-sh), exact */
        IrTemp u = AND(SHR(XOR(x, K(lane_msb(sz))), sh), K(rep(sz, lane_mask(sz) >> sh)));
        return w_sub(b, sz, u, K(rep(sz, 1ull << (bits - 1 - sh))));
    }
    }
}

/* EXT: bytes imm.. of n:m (Q=0: the low halves only). */
static void gen_ext(DisasContext *s, int q, unsigned imm, int rd, int rn, int rm)
{
    IrBlock *b = a64_ir(s);
    IrTemp w[4];
    int nw = q ? 2 : 1;
    for (int i = 0; i < nw; i++) {
        w[i] = vword(s, rn, i);
        w[nw + i] = vword(s, rm, i);
    }
    unsigned k = imm >> 3, r = (imm & 7) * 8;
    IrTemp out[2] = { IR_TEMP_NONE, IR_TEMP_NONE };
    for (int j = 0; j < nw; j++) {
        unsigned i = k + (unsigned)j;
        out[j] = r ? OR(SHR(w[i], r), SHL(w[i + 1], 64 - r)) : w[i];
    }
    vwrite(s, rd, out[0], out[1]);
}

/* The even (UZP1) or odd (UZP2) lanes of x, packed into 32 bits. */
static IrTemp uzp_word(IrBlock *b, int size, bool odd, IrTemp x)
{
    return w_pack_even(b, size, odd ? w_odd(b, size, x) : w_even(b, size, x));
}

/* ZIP UZP TRN (size < 3 per word; 64-bit lanes are whole words). */
static void gen_perm(DisasContext *s, int op, int size, int q, int rd, int rn, int rm)
{
    IrBlock *b = a64_ir(s);
    int e = lane_bits(size);
    IrTemp n0 = vword(s, rn, 0), m0 = vword(s, rm, 0), lo, hi = IR_TEMP_NONE;
    IrTemp n1 = q ? vword(s, rn, 1) : IR_TEMP_NONE, m1 = q ? vword(s, rm, 1) : IR_TEMP_NONE;
    bool two = op == OP(ZIP2) || op == OP(UZP2) || op == OP(TRN2);
    if (size == 3) {                                /* Q=1 only */
        lo = two ? n1 : n0;
        hi = two ? m1 : m0;
        vwrite(s, rd, lo, hi);
        return;
    }
    switch (op) {
    case OP(ZIP1): case OP(ZIP2): {
        /* Q=1: the low (ZIP1) or high (ZIP2) words; Q=0: their 32-bit halves */
        IrTemp n = q && two ? n1 : n0, m = q && two ? m1 : m0;
        IrTemp nl = q ? lo32(b, n) : two ? hi32(b, n) : lo32(b, n);
        IrTemp ml = q ? lo32(b, m) : two ? hi32(b, m) : lo32(b, m);
        lo = OR(w_spread_even(b, size, nl), SHL(w_spread_even(b, size, ml), e));
        if (q)
            hi = OR(w_spread_even(b, size, hi32(b, n)), SHL(w_spread_even(b, size, hi32(b, m)), e));
        break;
    }
    case OP(UZP1): case OP(UZP2):
        if (q) {
            lo = OR(uzp_word(b, size, two, n0), SHL(uzp_word(b, size, two, n1), 32));
            hi = OR(uzp_word(b, size, two, m0), SHL(uzp_word(b, size, two, m1), 32));
        } else {
            lo = OR(uzp_word(b, size, two, n0), SHL(uzp_word(b, size, two, m0), 32));
        }
        break;
    default: {                                       /* TRN1 TRN2 */
        IrTemp odd_mask = K(~rep(size + 1, lane_mask(size)));
        IrTemp w[2];
        for (int h = 0; h < (q ? 2 : 1); h++) {
            IrTemp n = h ? n1 : n0, m = h ? m1 : m0;
            w[h] = two ? OR(w_odd(b, size, n), AND(m, odd_mask))
                       : OR(w_even(b, size, n), SHL(w_even(b, size, m), e));
        }
        lo = w[0];
        hi = q ? w[1] : IR_TEMP_NONE;
        break;
    }
    }
    vwrite(s, rd, lo, hi);
}

/* USHLL SSHLL SHLL: the low (Q=0) or high word of n, lanes widened and
 * shifted left by imm (SHLL: by the narrow lane width). */
static void gen_widen(DisasContext *s, int op, int size, int q, unsigned imm, int rd, int rn)
{
    IrBlock *b = a64_ir(s);
    IrTemp src = vword(s, rn, q), w[2];
    unsigned sh = op == OP(SHLL) ? (unsigned)lane_bits(size) : imm;
    for (int h = 0; h < 2; h++) {
        IrTemp x = w_spread_even(b, size, h ? hi32(b, src) : lo32(b, src));
        if (op == OP(SSHLL)) {                       /* sign-extend: (x ^ m) - m */
            IrTemp m = K(rep(size + 1, 1ull << (lane_bits(size) - 1)));
            x = w_sub(b, size + 1, XOR(x, m), m);
        }
        w[h] = sh ? w_shift(b, size + 1, OP(SHL), sh, x) : x;
    }
    vwrite(s, rd, w[0], w[1]);
}

/* REV16 REV32 REV64 (elements of 2^size bytes reversed inside containers),
 * CNT and RBIT (bytes). */
static IrTemp w_rev_misc(IrBlock *b, int op, int size, IrTemp x)
{
    switch (op) {
    case OP(CNT): {
        IrTemp m1 = K(0x5555555555555555ull), m2 = K(0x3333333333333333ull);
        x = SUB(x, AND(SHR(x, 1), m1));
        x = ADD(AND(x, m2), AND(SHR(x, 2), m2));
        return AND(ADD(x, SHR(x, 4)), K(0x0f0f0f0f0f0f0f0full));
    }
    case OP(RBIT):
        return ir_bswap(b, T, ir_bitrev(b, T, x));
    default: {
        int container = op == OP(REV16) ? 1 : op == OP(REV32) ? 2 : 3;   /* log2 bytes */
        if (container == 3 && size == 0)
            return ir_bswap(b, T, x);
        for (int k = size; k < container; k++)
            x = w_swap_lanes(b, k, x);
        return x;
    }
    }
}

/* Lanes of size sz (< 3) in the low 32 bits of x, widened to size sz+1
 * (zero- or sign-extended). */
static IrTemp w_widen(IrBlock *b, int sz, bool sg, IrTemp x32)
{
    IrTemp x = w_spread_even(b, sz, x32);
    if (sg) {                                        /* (x ^ m) - m */
        IrTemp m = K(rep(sz + 1, 1ull << (lane_bits(sz) - 1)));
        x = w_sub(b, sz + 1, XOR(x, m), m);
    }
    return x;
}

/* UABD SABD UABA SABA UHADD SHADD URHADD SRHADD UHSUB SHSUB lane by lane. */
static IrTemp w_absdiff_halving(IrBlock *b, int sz, int op, IrTemp x, IrTemp y, IrTemp acc)
{
    bool sg = op == OP(SABD) || op == OP(SABA) || op == OP(SHADD) || op == OP(SRHADD) ||
              op == OP(SHSUB);
    if (op == OP(UABD) || op == OP(SABD) || op == OP(UABA) || op == OP(SABA)) {
        IrTemp hi = w_minmax(b, sz, sg ? OP(SMAX) : OP(UMAX), x, y);
        IrTemp lo = w_minmax(b, sz, sg ? OP(SMIN) : OP(UMIN), x, y);
        IrTemp r = w_sub(b, sz, hi, lo);
        return acc == IR_TEMP_NONE ? r : w_add(b, sz, acc, r);
    }
    /* signed: the same on offset-binary lanes (x ^ H), result flipped back
     * for the averages; the difference needs no flip (the offsets cancel) */
    IrTemp h = K(lane_msb(sz));
    if (sg && sz < 3) {
        x = XOR(x, h);
        y = XOR(y, h);
    }
    IrTemp half = XOR(x, y), r;
    half = sz == 3 ? SHR(half, 1) : AND(SHR(half, 1), K(rep(sz, lane_mask(sz) >> 1)));
    switch (op) {
    case OP(UHADD): case OP(SHADD): r = ADD(AND(x, y), half); break;   /* no lane overflows */
    case OP(URHADD): case OP(SRHADD): r = SUB(OR(x, y), half); break;  /* nor borrows */
    default: r = w_sub(b, sz, half, ANDC(y, x)); break;                /* (x - y) >> 1 */
    }
    if (sg && sz < 3 && op != OP(SHSUB))
        r = XOR(r, h);
    return r;
}

/* Three different, widening: xADDL xSUBL xADDW xSUBW xABDL xABAL (size =
 * narrow lane, q = the "2" form reading the high words). */
static bool gen_long(DisasContext *s, int op, int size, int q, int rd, int rn, int rm)
{
    IrBlock *b = a64_ir(s);
    bool sg = false, wide = false, sub = false, abd = false, acc = false;
    switch (op) {
    case OP(UADDL): sg = false; break;
    case OP(SADDL): sg = true; break;
    case OP(USUBL): sg = false, sub = true; break;
    case OP(SSUBL): sg = true, sub = true; break;
    case OP(UADDW): sg = false, wide = true; break;
    case OP(SADDW): sg = true, wide = true; break;
    case OP(USUBW): sg = false, wide = true, sub = true; break;
    case OP(SSUBW): sg = true, wide = true, sub = true; break;
    case OP(UABDL): sg = false, abd = true; break;
    case OP(SABDL): sg = true, abd = true; break;
    case OP(UABAL): sg = false, abd = true, acc = true; break;
    case OP(SABAL): sg = true, abd = true, acc = true; break;
    default: return false;
    }
    if (size == 3)
        return false;
    IrTemp nw = vword(s, rn, q), mw = vword(s, rm, q), r[2];
    for (int h = 0; h < 2; h++) {
        IrTemp y = w_widen(b, size, sg, h ? hi32(b, mw) : lo32(b, mw));
        IrTemp x = wide ? vword(s, rn, h) : w_widen(b, size, sg, h ? hi32(b, nw) : lo32(b, nw));
        if (abd)
            r[h] = w_absdiff_halving(b, size + 1, sg ? OP(SABD) : OP(UABD), x, y,
                                     acc ? vword(s, rd, h) : IR_TEMP_NONE);
        else
            r[h] = sub ? w_sub(b, size + 1, x, y) : w_add(b, size + 1, x, y);
    }
    vwrite(s, rd, r[0], r[1]);
    return true;
}

/* ADDHN SUBHN RADDHN RSUBHN: the high halves of the wide sums/differences. */
static void gen_addhn(DisasContext *s, int op, int size, int q, int rd, int rn, int rm)
{
    IrBlock *b = a64_ir(s);
    bool sub = op == OP(SUBHN) || op == OP(RSUBHN);
    bool rnd = op == OP(RADDHN) || op == OP(RSUBHN);
    IrTemp half[2];
    for (int h = 0; h < 2; h++) {
        IrTemp x = vword(s, rn, h), y = vword(s, rm, h);
        IrTemp v = sub ? w_sub(b, size + 1, x, y) : w_add(b, size + 1, x, y);
        half[h] = w_narrow(b, size, rnd ? OP(RSHRN) : OP(SHRN), (unsigned)lane_bits(size), v);
    }
    IrTemp r = OR(half[0], SHL(half[1], 32));
    if (q)                                          /* the low half stays */
        ir_stenv(b, T, a64_vreg_off(rd, 8), r);
    else
        vwrite(s, rd, r, IR_TEMP_NONE);
}

/* UADDLP SADDLP UADALP SADALP: adjacent pairs summed into wide lanes. */
static IrTemp w_addlp(IrBlock *b, int size, int op, IrTemp x, IrTemp acc)
{
    bool sg = op == OP(SADDLP) || op == OP(SADALP);
    IrTemp e = w_even(b, size, x), o = w_odd(b, size, x);
    if (sg) {
        IrTemp m = K(rep(size + 1, 1ull << (lane_bits(size) - 1)));
        e = w_sub(b, size + 1, XOR(e, m), m);
        o = w_sub(b, size + 1, XOR(o, m), m);
    }
    IrTemp r = w_add(b, size + 1, e, o);
    return acc == IR_TEMP_NONE ? r : w_add(b, size + 1, r, acc);
}

/* Lane products modulo the lane (sz 1..3).  Lane i of x is multiplied in
 * place (x & lane mask, shifted by bits*i) by y >> bits*i: the low bits of
 * a product depend only on the low bits of its factors, so the junk of
 * the other lanes lands above lane i and is masked off.  bcast: y is one
 * value (an element, extended) multiplying every lane. */
static IrTemp w_mul(IrBlock *b, int sz, IrTemp x, IrTemp y, bool bcast)
{
    if (sz == 3)
        return ir_mul(b, T, x, y);
    int bits = lane_bits(sz), n = 64 / bits;
    IrTemp r = AND(ir_mul(b, T, x, y), K(lane_mask(sz)));
    for (int i = 1; i < n; i++) {
        uint64_t mi = lane_mask(sz) << (bits * i);
        IrTemp p = ir_mul(b, T, AND(x, K(mi)), bcast ? y : SHR(y, bits * i));
        r = OR(r, i < n - 1 ? AND(p, K(mi)) : p);
    }
    return r;
}

/* MUL MLA MLS, also by element (imm = index of the m element); sizes 1, 2
 * (bytes stay with the helper: eight multiplies per word). */
static void gen_mul(DisasContext *s, int op, int size, int q, unsigned imm, int rd, int rn, int rm)
{
    IrBlock *b = a64_ir(s);
    bool idx = op == OP(MUL_IDX) || op == OP(MLA_IDX) || op == OP(MLS_IDX);
    IrTemp e = idx ? a64_vreg_read_elt(s, rm, size, (int)imm) : IR_TEMP_NONE, r[2];
    for (int h = 0; h < (q ? 2 : 1); h++) {
        IrTemp p = w_mul(b, size, vword(s, rn, h), idx ? e : vword(s, rm, h), idx);
        if (op == OP(MLA) || op == OP(MLA_IDX))
            p = w_add(b, size, vword(s, rd, h), p);
        else if (op == OP(MLS) || op == OP(MLS_IDX))
            p = w_sub(b, size, vword(s, rd, h), p);
        r[h] = p;
    }
    vwrite(s, rd, r[0], q ? r[1] : IR_TEMP_NONE);
}

/* UMULL SMULL UMLAL SMLAL UMLSL SMLSL, also by element: narrow lanes of
 * the low (q=0) or high word widened, multiplied in the wide lanes. */
static bool gen_mull(DisasContext *s, int op, int size, int q, unsigned imm, int rd, int rn, int rm)
{
    IrBlock *b = a64_ir(s);
    bool idx = op >= OP(SMULL_IDX) && op <= OP(UMLSL_IDX);
    bool sg = op == OP(SMULL) || op == OP(SMLAL) || op == OP(SMLSL) || op == OP(SMULL_IDX) ||
              op == OP(SMLAL_IDX) || op == OP(SMLSL_IDX);
    bool add = op == OP(UMLAL) || op == OP(SMLAL) || op == OP(UMLAL_IDX) || op == OP(SMLAL_IDX);
    bool sub = op == OP(UMLSL) || op == OP(SMLSL) || op == OP(UMLSL_IDX) || op == OP(SMLSL_IDX);
    if (size == 3 || (size == 0 && idx))
        return false;
    IrTemp e = IR_TEMP_NONE;
    if (idx) {
        e = ir_ldenv(b, a64_int_type(size), a64_vreg_off(rm, (int)imm << size));
        e = sg ? ir_sext(b, T, a64_int_type(size), e) : ir_zext(b, T, a64_int_type(size), e);
    }
    IrTemp nw = vword(s, rn, q), mw = idx ? IR_TEMP_NONE : vword(s, rm, q), r[2];
    for (int h = 0; h < 2; h++) {
        IrTemp x = w_widen(b, size, sg, h ? hi32(b, nw) : lo32(b, nw));
        IrTemp y = idx ? e : w_widen(b, size, sg, h ? hi32(b, mw) : lo32(b, mw));
        IrTemp p = w_mul(b, size + 1, x, y, idx);
        if (add)
            p = w_add(b, size + 1, vword(s, rd, h), p);
        else if (sub)
            p = w_sub(b, size + 1, vword(s, rd, h), p);
        r[h] = p;
    }
    vwrite(s, rd, r[0], r[1]);
    return true;
}

/* ---- entry ------------------------------------------------------------------------ */
bool a64_simd_swar(DisasContext *s, int op, int size, int q, int scalar, unsigned imm, int rd,
                   int rn, int rm)
{
    if (!swar_on)
        return false;
    IrBlock *b = a64_ir(s);
    /* scalar forms: only the 64-bit ones here (one element in the low word) */
    if (scalar && size != 3 && op != OP(DUP_ELT))
        return false;
    int nw = q && !scalar ? 2 : 1;
    IrTemp r[2] = { IR_TEMP_NONE, IR_TEMP_NONE };

    if (is_elementwise(op)) {
        for (int h = 0; h < nw; h++)
            r[h] = w_bin(b, size, op, vword(s, rn, h), vword(s, rm, h));
        vwrite(s, rd, r[0], r[1]);
        return true;
    }
    switch (op) {
    case OP(CMEQ0): case OP(CMGT0): case OP(CMGE0): case OP(CMLE0): case OP(CMLT0):
        for (int h = 0; h < nw; h++)
            r[h] = w_cmp0(b, size, op, vword(s, rn, h));
        break;
    case OP(NEG): case OP(ABS):
        for (int h = 0; h < nw; h++) {
            IrTemp x = vword(s, rn, h);
            if (op == OP(NEG)) {
                r[h] = w_sub(b, size, K(0), x);
            } else {                                  /* (x ^ m) - m, m = sign mask */
                IrTemp m = w_expand(b, size, AND(x, K(lane_msb(size))));
                r[h] = w_sub(b, size, XOR(x, m), m);
            }
        }
        break;
    case OP(NOT):
        for (int h = 0; h < nw; h++)
            r[h] = NOT(vword(s, rn, h));
        break;
    case OP(USHR): case OP(SSHR): case OP(SHL): case OP(USRA): case OP(SSRA):
        for (int h = 0; h < nw; h++) {
            r[h] = w_shift(b, size, op, imm, vword(s, rn, h));
            if (op == OP(USRA) || op == OP(SSRA))
                r[h] = w_add(b, size, r[h], vword(s, rd, h));
        }
        break;
    case OP(ADDP): case OP(UMAXP): case OP(UMINP): case OP(SMAXP): case OP(SMINP):
        return gen_pairwise(s, op, size, q, scalar, rd, rn, rm);
    case OP(SHRN): case OP(RSHRN): case OP(XTN):
        if (scalar || size == 3)
            return false;
        gen_narrow(s, op, size, q, op == OP(XTN) ? 0 : imm, rd, rn);
        return true;
    case OP(ADDV): case OP(UMAXV): case OP(UMINV): case OP(SMAXV): case OP(SMINV):
        if (size == 3)
            return false;
        gen_across(s, op, size, q, rd, rn);
        return true;
    case OP(DUP_ELT): {
        IrTemp x = a64_vreg_read_elt(s, rn, size, (int)imm);
        if (scalar) {
            r[0] = x;
        } else {
            r[0] = size == 3 ? x : ir_mul(b, T, x, K(lane_lsb[size]));
            r[1] = nw == 2 ? r[0] : IR_TEMP_NONE;
        }
        break;
    }
    case OP(INS_ELT): {
        IrTemp x = ir_ldenv(b, a64_int_type(size), a64_vreg_off(rn, (int)(imm >> 8) << size));
        a64_vreg_write_elt(s, rd, size, (int)(imm & 0xff), x);
        return true;
    }
    case OP(EXT):
        gen_ext(s, q, imm, rd, rn, rm);
        return true;
    case OP(ZIP1): case OP(ZIP2): case OP(UZP1): case OP(UZP2): case OP(TRN1): case OP(TRN2):
        gen_perm(s, op, size, q, rd, rn, rm);
        return true;
    case OP(USHLL): case OP(SSHLL): case OP(SHLL):
        if (size == 3)
            return false;
        gen_widen(s, op, size, q, imm, rd, rn);
        return true;
    case OP(UABD): case OP(SABD): case OP(UABA): case OP(SABA): case OP(UHADD): case OP(SHADD):
    case OP(URHADD): case OP(SRHADD): case OP(UHSUB): case OP(SHSUB):
        for (int h = 0; h < nw; h++) {
            bool acc = op == OP(UABA) || op == OP(SABA);
            r[h] = w_absdiff_halving(b, size, op, vword(s, rn, h), vword(s, rm, h),
                                     acc ? vword(s, rd, h) : IR_TEMP_NONE);
        }
        break;
    case OP(UADDL): case OP(SADDL): case OP(USUBL): case OP(SSUBL): case OP(UADDW):
    case OP(SADDW): case OP(USUBW): case OP(SSUBW): case OP(UABDL): case OP(SABDL):
    case OP(UABAL): case OP(SABAL):
        return gen_long(s, op, size, q, rd, rn, rm);
    case OP(ADDHN): case OP(SUBHN): case OP(RADDHN): case OP(RSUBHN):
        if (size == 3)
            return false;
        gen_addhn(s, op, size, q, rd, rn, rm);
        return true;
    case OP(UADDLP): case OP(SADDLP): case OP(UADALP): case OP(SADALP):
        if (size == 3)
            return false;
        for (int h = 0; h < nw; h++) {
            bool acc = op == OP(UADALP) || op == OP(SADALP);
            r[h] = w_addlp(b, size, op, vword(s, rn, h), acc ? vword(s, rd, h) : IR_TEMP_NONE);
        }
        break;
    case OP(MUL): case OP(MLA): case OP(MLS): case OP(MUL_IDX): case OP(MLA_IDX): case OP(MLS_IDX):
        if (size == 0 || size == 3)
            return false;
        gen_mul(s, op, size, q, imm, rd, rn, rm);
        return true;
    case OP(UMULL): case OP(SMULL): case OP(UMLAL): case OP(SMLAL): case OP(UMLSL): case OP(SMLSL):
    case OP(UMULL_IDX): case OP(SMULL_IDX): case OP(UMLAL_IDX): case OP(SMLAL_IDX):
    case OP(UMLSL_IDX): case OP(SMLSL_IDX):
        return gen_mull(s, op, size, q, imm, rd, rn, rm);
    case OP(REV16): case OP(REV32): case OP(REV64): case OP(CNT): case OP(RBIT):
        for (int h = 0; h < nw; h++)
            r[h] = w_rev_misc(b, op, size, vword(s, rn, h));
        break;
    default:
        return false;
    }
    vwrite(s, rd, r[0], r[1]);
    return true;
}
