/*
 * a64-simd-helpers.c - helper_a64_simd: one AdvSIMD operation on the V
 * registers in A64State, selected by the descriptor of a64-simd-helpers.h.
 * Sources are copied first, the result is built in a local and stored
 * whole (64-bit forms and scalar forms zero the rest of Vd).  FP lanes go
 * through the exact core (a64-fp-helpers.h), accumulating FPSR bits;
 * saturating integer ops set FPSR.QC.
 */
#include "frontend/aarch64/a64-simd-helpers.h"

#include <string.h>

#include "frontend/aarch64/a64-cpu.h"
#include "frontend/aarch64/a64-fp-helpers.h"
#include "ir/ir-helpers.h"

#define FPSR_QC (1u << 27)

typedef union V128 {
    uint8_t b[16];
    uint16_t h[8];
    uint32_t s[4];
    uint64_t d[2];
} V128;

static inline uint64_t vget(const V128 *v, int size, int i)
{
    switch (size) {
    case 0: return v->b[i & 15];
    case 1: return v->h[i & 7];
    case 2: return v->s[i & 3];
    default: return v->d[i & 1];
    }
}

static inline void vset(V128 *v, int size, int i, uint64_t x)
{
    switch (size) {
    case 0: v->b[i & 15] = (uint8_t)x; break;
    case 1: v->h[i & 7] = (uint16_t)x; break;
    case 2: v->s[i & 3] = (uint32_t)x; break;
    default: v->d[i & 1] = x; break;
    }
}

static inline uint64_t emask(int size) { return size == 3 ? ~0ull : (1ull << (8 << size)) - 1; }
static inline int64_t sxt(uint64_t x, int size)
{
    int sh = 64 - (8 << size);
    return (int64_t)(x << sh) >> sh;
}
static inline int64_t smax_of(int size) { return (int64_t)(emask(size) >> 1); }
static inline int64_t smin_of(int size) { return -smax_of(size) - 1; }

/* Signed saturation of a (wide) value to an element; sets *qc. */
static uint64_t sat_s(__int128 v, int size, bool *qc)
{
    if (v > smax_of(size)) {
        *qc = true;
        return (uint64_t)smax_of(size) & emask(size);
    }
    if (v < smin_of(size)) {
        *qc = true;
        return (uint64_t)smin_of(size) & emask(size);
    }
    return (uint64_t)(int64_t)v & emask(size);
}

static uint64_t sat_u(__int128 v, int size, bool *qc)
{
    if (v < 0) {
        *qc = true;
        return 0;
    }
    if (v > (__int128)emask(size)) {
        *qc = true;
        return emask(size);
    }
    return (uint64_t)v;
}

/* SSHL/USHL/SRSHL/URSHL: shift by the signed low byte of m. */
static uint64_t shl_reg(uint64_t x, int64_t sh, int size, bool is_signed, bool round)
{
    int bits = 8 << size;
    sh = (int8_t)sh;
    if (sh >= 0) {
        if (sh >= bits)
            return 0;
        return (x << sh) & emask(size);
    }
    sh = -sh;
    __int128 v = is_signed ? (__int128)sxt(x, size) : (__int128)x;
    if (round) {
        if (sh > bits)
            return 0;
        v += (__int128)1 << (sh - 1);
        return (uint64_t)(v >> sh) & emask(size);
    }
    if (sh >= bits)
        return is_signed && sxt(x, size) < 0 ? emask(size) : 0;
    return (uint64_t)(v >> sh) & emask(size);
}

static int clz_elt(uint64_t x, int size)
{
    int bits = 8 << size;
    if (!x)
        return bits;
    return __builtin_clzll(x) - (64 - bits);
}

/* SQSHL/UQSHL/SQRSHL/UQRSHL by a signed amount; sat_out_unsigned: SQSHLU. */
static uint64_t qshl(uint64_t x, int sh, int size, bool sg, bool round, bool uns_out, bool *qc)
{
    int bits = 8 << size;
    __int128 v = sg ? (__int128)sxt(x, size) : (__int128)x;
    if (sh >= 0) {
        if (v != 0 && sh >= bits)           /* every bit shifted out: saturate */
            v = v < 0 ? -((__int128)1 << 64) : (__int128)1 << 64;
        else
            v *= (__int128)1 << sh;         /* |v| < 2^127: no overflow */
    } else {
        int r = -sh;
        if (r > 126) {
            v = round ? 0 : (v < 0 ? -1 : 0);
        } else {
            if (round)
                v += (__int128)1 << (r - 1);
            v >>= r;
        }
    }
    return (sg && !uns_out) ? sat_s(v, size, qc) : sat_u(v, size, qc);
}

/* Saturating doubling multiply high (rounding: SQRDMULH). */
static uint64_t sqdmulh(uint64_t a, uint64_t b, int size, bool round, bool *qc)
{
    int bits = 8 << size;
    __int128 p = (__int128)sxt(a, size) * sxt(b, size) * 2;
    if (round)
        p += (__int128)1 << (bits - 1);
    return sat_s(p >> bits, size, qc);
}

/* Polynomial (carry-less) multiply of two bytes, low 8 bits. */
static uint64_t pmul8(uint64_t a, uint64_t b)
{
    uint64_t r = 0;
    for (int i = 0; i < 8; i++)
        if ((b >> i) & 1)
            r ^= a << i;
    return r & 0xff;
}

/* The FP fast path of a64-fp-helpers.c for one lane: FPCR round-to-nearest
 * and FPSR.IXC already set (f->fast), normal operands, a result above the
 * smallest normal: the host's (default MXCSR) result is ARM's, no new flag. */
static bool lane_fast(int op, A64FpFmt fmt, uint64_t a, uint64_t b, uint64_t *out)
{
    if (!a64_fp_plain(fmt, a) || !a64_fp_plain(fmt, b))
        return false;
    if (fmt == A64_F32) {
        float x, y, r;
        uint32_t a32 = (uint32_t)a, b32 = (uint32_t)b, r32;
        memcpy(&x, &a32, 4), memcpy(&y, &b32, 4);
        switch (op) {
        case A64_SIMD_FADD: r = x + y; break;
        case A64_SIMD_FSUB: r = x - y; break;
        case A64_SIMD_FMUL: case A64_SIMD_FMUL_IDX: r = x * y; break;
        case A64_SIMD_FDIV: r = x / y; break;
        default: return false;
        }
        memcpy(&r32, &r, 4);
        *out = r32;
    } else {
        double x, y, r;
        memcpy(&x, &a, 8), memcpy(&y, &b, 8);
        switch (op) {
        case A64_SIMD_FADD: r = x + y; break;
        case A64_SIMD_FSUB: r = x - y; break;
        case A64_SIMD_FMUL: case A64_SIMD_FMUL_IDX: r = x * y; break;
        case A64_SIMD_FDIV: r = x / y; break;
        default: return false;
        }
        memcpy(out, &r, 8);
    }
    return a64_fp_big(fmt, *out);
}

/* One FP lane of a binary op (fmt from size). */
static uint64_t fp_bin(A64Fp *f, int op, int size, uint64_t a, uint64_t b)
{
    A64FpFmt fmt = size == 2 ? A64_F32 : A64_F64;
    uint64_t sb = a64_fp_sign_bit(fmt);
    switch (op) {
    case A64_SIMD_FADD: case A64_SIMD_FADDP: return a64_fp_arith(f, A64_FP_ADD, fmt, a, b);
    case A64_SIMD_FSUB: return a64_fp_arith(f, A64_FP_SUB, fmt, a, b);
    case A64_SIMD_FMUL: case A64_SIMD_FMUL_IDX: return a64_fp_arith(f, A64_FP_MUL, fmt, a, b);
    case A64_SIMD_FDIV: return a64_fp_arith(f, A64_FP_DIV, fmt, a, b);
    case A64_SIMD_FMAX: case A64_SIMD_FMAXP: case A64_SIMD_FMAXV:
        return a64_fp_arith(f, A64_FP_MAX, fmt, a, b);
    case A64_SIMD_FMIN: case A64_SIMD_FMINP: case A64_SIMD_FMINV:
        return a64_fp_arith(f, A64_FP_MIN, fmt, a, b);
    case A64_SIMD_FMAXNM: case A64_SIMD_FMAXNMP: case A64_SIMD_FMAXNMV:
        return a64_fp_arith(f, A64_FP_MAXNM, fmt, a, b);
    case A64_SIMD_FMINNM: case A64_SIMD_FMINNMP: case A64_SIMD_FMINNMV:
        return a64_fp_arith(f, A64_FP_MINNM, fmt, a, b);
    case A64_SIMD_FABD: return a64_fp_arith(f, A64_FP_ABD, fmt, a, b);
    case A64_SIMD_FMULX: case A64_SIMD_FMULX_IDX: return a64_fp_mulx(f, fmt, a, b);
    case A64_SIMD_FRECPS: return a64_fp_recps(f, fmt, a, b);
    case A64_SIMD_FRSQRTS: return a64_fp_rsqrts(f, fmt, a, b);
    case A64_SIMD_FCMEQ: return a64_fp_cmp_cond(f, fmt, a, b, 0) ? emask(size) : 0;
    case A64_SIMD_FCMGE: return a64_fp_cmp_cond(f, fmt, a, b, 1) ? emask(size) : 0;
    case A64_SIMD_FCMGT: return a64_fp_cmp_cond(f, fmt, a, b, 2) ? emask(size) : 0;
    case A64_SIMD_FACGE: return a64_fp_cmp_cond(f, fmt, a & ~sb, b & ~sb, 1) ? emask(size) : 0;
    case A64_SIMD_FACGT: return a64_fp_cmp_cond(f, fmt, a & ~sb, b & ~sb, 2) ? emask(size) : 0;
    default: return 0;
    }
}

/* Integer binary lane op. */
static inline __attribute__((always_inline)) uint64_t int_bin(int op, int size, uint64_t a,
                                                              uint64_t b, bool *qc)
{
    uint64_t m = emask(size);
    int64_t sa = sxt(a, size), sb = sxt(b, size);
    switch (op) {
    case A64_SIMD_ADD: case A64_SIMD_ADDP: case A64_SIMD_ADDV: return (a + b) & m;
    case A64_SIMD_SUB: return (a - b) & m;
    case A64_SIMD_MUL: case A64_SIMD_MUL_IDX: return (a * b) & m;
    case A64_SIMD_AND: return a & b;
    case A64_SIMD_BIC: return a & ~b & m;
    case A64_SIMD_ORR: return a | b;
    case A64_SIMD_ORN: return (a | ~b) & m;
    case A64_SIMD_EOR: return a ^ b;
    case A64_SIMD_CMGT: return sa > sb ? m : 0;
    case A64_SIMD_CMHI: return a > b ? m : 0;
    case A64_SIMD_CMGE: return sa >= sb ? m : 0;
    case A64_SIMD_CMHS: return a >= b ? m : 0;
    case A64_SIMD_CMEQ: return a == b ? m : 0;
    case A64_SIMD_CMTST: return (a & b) ? m : 0;
    case A64_SIMD_SMAX: case A64_SIMD_SMAXP: case A64_SIMD_SMAXV: return (sa > sb ? a : b);
    case A64_SIMD_UMAX: case A64_SIMD_UMAXP: case A64_SIMD_UMAXV: return a > b ? a : b;
    case A64_SIMD_SMIN: case A64_SIMD_SMINP: case A64_SIMD_SMINV: return (sa < sb ? a : b);
    case A64_SIMD_UMIN: case A64_SIMD_UMINP: case A64_SIMD_UMINV: return a < b ? a : b;
    case A64_SIMD_SABD: case A64_SIMD_SABA: return (uint64_t)(sa > sb ? sa - sb : sb - sa) & m;
    case A64_SIMD_UABD: case A64_SIMD_UABA: return (a > b ? a - b : b - a) & m;
    case A64_SIMD_SHADD: return (uint64_t)(((__int128)sa + sb) >> 1) & m;
    case A64_SIMD_UHADD: return (uint64_t)(((unsigned __int128)a + b) >> 1) & m;
    case A64_SIMD_SRHADD: return (uint64_t)(((__int128)sa + sb + 1) >> 1) & m;
    case A64_SIMD_URHADD: return (uint64_t)(((unsigned __int128)a + b + 1) >> 1) & m;
    case A64_SIMD_SHSUB: return (uint64_t)(((__int128)sa - sb) >> 1) & m;
    case A64_SIMD_UHSUB: return (uint64_t)(((__int128)a - (__int128)b) >> 1) & m;
    case A64_SIMD_SQADD: return sat_s((__int128)sa + sb, size, qc);
    case A64_SIMD_UQADD: return sat_u((__int128)a + b, size, qc);
    case A64_SIMD_SQSUB: return sat_s((__int128)sa - sb, size, qc);
    case A64_SIMD_UQSUB: return sat_u((__int128)a - (__int128)b, size, qc);
    case A64_SIMD_SSHL: return shl_reg(a, (int64_t)b, size, true, false);
    case A64_SIMD_USHL: return shl_reg(a, (int64_t)b, size, false, false);
    case A64_SIMD_SRSHL: return shl_reg(a, (int64_t)b, size, true, true);
    case A64_SIMD_URSHL: return shl_reg(a, (int64_t)b, size, false, true);
    case A64_SIMD_SQSHL: return qshl(a, (int8_t)b, size, true, false, false, qc);
    case A64_SIMD_UQSHL: return qshl(a, (int8_t)b, size, false, false, false, qc);
    case A64_SIMD_SQRSHL: return qshl(a, (int8_t)b, size, true, true, false, qc);
    case A64_SIMD_UQRSHL: return qshl(a, (int8_t)b, size, false, true, false, qc);
    case A64_SIMD_SQDMULH: case A64_SIMD_SQDMULH_IDX: return sqdmulh(a, b, size, false, qc);
    case A64_SIMD_SQRDMULH: case A64_SIMD_SQRDMULH_IDX: return sqdmulh(a, b, size, true, qc);
    case A64_SIMD_PMUL: return pmul8(a, b);
    default: return 0;
    }
}

static bool is_fp_bin(int op)
{
    return (op >= A64_SIMD_FADD && op <= A64_SIMD_FMINNMP) || op == A64_SIMD_FMUL_IDX ||
           op == A64_SIMD_FRECPS || op == A64_SIMD_FRSQRTS;
}


/* ARM's Reduce(): pairwise halving tree over elements [lo, lo+n). */
static uint64_t reduce(A64Fp *f, int op, int size, const V128 *v, int lo, int n, bool *qc)
{
    if (n == 1)
        return vget(v, size, lo);
    uint64_t a = reduce(f, op, size, v, lo, n / 2, qc);
    uint64_t b = reduce(f, op, size, v, lo + n / 2, n / 2, qc);
    bool fp = op >= A64_SIMD_FMAXV && op <= A64_SIMD_FMINNMV;
    return fp ? fp_bin(f, op, size, a, b) : int_bin(op, size, a, b, qc);
}

/* GCC vector types (SSE2 on the host) for the hottest elementwise ops. */
typedef uint8_t vu8 __attribute__((vector_size(16)));
typedef int8_t vs8 __attribute__((vector_size(16)));
typedef uint16_t vu16 __attribute__((vector_size(16)));
typedef int16_t vs16 __attribute__((vector_size(16)));
typedef uint32_t vu32 __attribute__((vector_size(16)));
typedef int32_t vs32 __attribute__((vector_size(16)));
typedef uint64_t vu64 __attribute__((vector_size(16)));
typedef int64_t vs64 __attribute__((vector_size(16)));

/* Element-wise ops without saturation or flags, on whole 128-bit vectors:
 * returns false for the others.  Comparisons give all-ones lanes as ARM. */
#define A64_VEC_OPS(U, S)                                                          \
    do {                                                                           \
        U a, b, t;                                                                 \
        memcpy(&a, n, 16), memcpy(&b, m, 16);                                      \
        switch (op) {                                                              \
        case A64_SIMD_ADD: t = a + b; break;                                       \
        case A64_SIMD_SUB: t = a - b; break;                                       \
        case A64_SIMD_CMEQ: t = (U)(a == b); break;                                \
        case A64_SIMD_CMTST: t = (U)((a & b) != 0); break;                         \
        case A64_SIMD_CMHI: t = (U)(a > b); break;                                 \
        case A64_SIMD_CMHS: t = (U)(a >= b); break;                                \
        case A64_SIMD_CMGT: t = (U)((S)a > (S)b); break;                           \
        case A64_SIMD_CMGE: t = (U)((S)a >= (S)b); break;                          \
        case A64_SIMD_UMAX: { U k = (U)(a > b); t = (a & k) | (b & ~k); break; }   \
        case A64_SIMD_UMIN: { U k = (U)(a < b); t = (a & k) | (b & ~k); break; }   \
        case A64_SIMD_SMAX: { U k = (U)((S)a > (S)b); t = (a & k) | (b & ~k); break; } \
        case A64_SIMD_SMIN: { U k = (U)((S)a < (S)b); t = (a & k) | (b & ~k); break; } \
        default: return false;                                                     \
        }                                                                          \
        memcpy(out, &t, 16);                                                       \
        return true;                                                               \
    } while (0)

static bool vec_fast(int op, int size, const uint8_t *n, const uint8_t *m, uint8_t *out)
{
    switch (size) {
    case 0: A64_VEC_OPS(vu8, vs8);
    case 1: A64_VEC_OPS(vu16, vs16);
    case 2: A64_VEC_OPS(vu32, vs32);
    default: A64_VEC_OPS(vu64, vs64);
    }
}
#undef A64_VEC_OPS

void helper_a64_simd(void *env, uint32_t desc, uint32_t regs)
{
    if (!(desc & (1u << 11))) {                 /* vector (not scalar) form */
        A64State *vs = env;
        uint8_t t[16];
        int vd = regs & 31;
        if (vec_fast(desc & 0xff, (desc >> 8) & 3, vs->v[(regs >> 5) & 31], vs->v[(regs >> 10) & 31], t)) {
            if (!((desc >> 10) & 1))
                memset(t + 8, 0, 8);
            memcpy(vs->v[vd], t, 16);
            return;
        }
    }
    A64State *st = env;
    int op = desc & 0xff, size = (desc >> 8) & 3, q = (desc >> 10) & 1, scalar = (desc >> 11) & 1;
    unsigned imm = desc >> 16;
    int rd = regs & 31, rn = (regs >> 5) & 31, rm = (regs >> 10) & 31;
    V128 n, m, d, r;
    memcpy(&n, st->v[rn], 16);
    memcpy(&m, st->v[rm], 16);
    memcpy(&d, st->v[rd], 16);
    memset(&r, 0, sizeof r);
    int bytes = scalar ? (1 << size) : q ? 16 : 8;  /* bytes of the result */
    int ne = bytes >> size;                          /* elements */
    A64Fp f = a64_fp_begin(st->fpcr);
    A64FpFmt fmt = size == 2 ? A64_F32 : size == 3 ? A64_F64 : A64_F16;
    bool qc = false;
    /* FP fast path allowed: round-to-nearest and IXC already set */
    bool fast = !(st->fpcr & (3u << 22)) && (st->fpsr & A64_FPSR_IXC);
    uint64_t em = emask(size);
    int bits = 8 << size;

    switch (op) {
    case A64_SIMD_BSL: case A64_SIMD_BIT: case A64_SIMD_BIF:
        for (int i = 0; i < 2; i++) {
            uint64_t x = n.d[i], y = m.d[i], z = d.d[i];
            r.d[i] = op == A64_SIMD_BSL ? (x & z) | (y & ~z)
                   : op == A64_SIMD_BIT ? (x & y) | (z & ~y) : (z & y) | (x & ~y);
        }
        break;
    case A64_SIMD_MLA: case A64_SIMD_MLS: case A64_SIMD_SABA: case A64_SIMD_UABA:
        for (int i = 0; i < ne; i++) {
            uint64_t t = int_bin(op == A64_SIMD_MLA || op == A64_SIMD_MLS ? A64_SIMD_MUL : op, size,
                                 vget(&n, size, i), vget(&m, size, i), &qc);
            uint64_t acc = vget(&d, size, i);
            vset(&r, size, i, op == A64_SIMD_MLS ? acc - t : acc + t);
        }
        break;
    case A64_SIMD_ADDP: case A64_SIMD_SMAXP: case A64_SIMD_UMAXP: case A64_SIMD_SMINP:
    case A64_SIMD_UMINP:
    case A64_SIMD_FADDP: case A64_SIMD_FMAXP: case A64_SIMD_FMINP: case A64_SIMD_FMAXNMP:
    case A64_SIMD_FMINNMP: {
        /* scalar pairwise: the two elements of n; vector: pairs of n:m */
        int pairs = scalar ? 1 : ne, half = ne / 2;
        if (!scalar && size == 0 && !is_fp_bin(op)) {   /* the string routines' UMAXP/UMINP/ADDP */
            for (int i = 0; i < ne; i++) {
                const V128 *src = i < half ? &n : &m;
                int k = 2 * (i % half);
                r.b[i] = (uint8_t)int_bin(op, 0, src->b[k], src->b[k + 1], &qc);
            }
            break;
        }
        for (int i = 0; i < pairs; i++) {
            const V128 *src = (scalar || i < half) ? &n : &m;
            int k = scalar ? 0 : 2 * (i % half);
            uint64_t a = vget(src, size, k), b = vget(src, size, k + 1);
            vset(&r, size, i, is_fp_bin(op) ? fp_bin(&f, op, size, a, b) : int_bin(op, size, a, b, &qc));
        }
        break;
    }
    case A64_SIMD_FMLA: case A64_SIMD_FMLS: case A64_SIMD_FMLA_IDX: case A64_SIMD_FMLS_IDX:
        for (int i = 0; i < ne; i++) {
            uint64_t a = vget(&n, size, i);
            uint64_t b = op >= A64_SIMD_FMLA_IDX ? vget(&m, size, (int)imm) : vget(&m, size, i);
            if (op == A64_SIMD_FMLS || op == A64_SIMD_FMLS_IDX)
                a ^= a64_fp_sign_bit(fmt);
            uint64_t acc = vget(&d, size, i), o;
            if (!(fast && a64_fp_fast_muladd(fmt, acc, a, b, &o)))
                o = a64_fp_muladd(&f, fmt, acc, a, b);
            vset(&r, size, i, o);
        }
        break;
    case A64_SIMD_MUL_IDX: case A64_SIMD_MLA_IDX: case A64_SIMD_MLS_IDX: {
        uint64_t b = vget(&m, size, (int)imm);
        for (int i = 0; i < ne; i++) {
            uint64_t t = (vget(&n, size, i) * b) & em;
            uint64_t acc = vget(&d, size, i);
            vset(&r, size, i, op == A64_SIMD_MUL_IDX ? t : op == A64_SIMD_MLA_IDX ? acc + t : acc - t);
        }
        break;
    }
    case A64_SIMD_FMUL_IDX: {
        uint64_t b = vget(&m, size, (int)imm);
        for (int i = 0; i < ne; i++)
            vset(&r, size, i, fp_bin(&f, op, size, vget(&n, size, i), b));
        break;
    }
    /* ---- two-register misc ---- */
    case A64_SIMD_REV16: case A64_SIMD_REV32: case A64_SIMD_REV64: {
        int cbytes = op == A64_SIMD_REV16 ? 2 : op == A64_SIMD_REV32 ? 4 : 8;
        int per = cbytes >> size;             /* elements per container */
        for (int i = 0; i < ne; i++)
            vset(&r, size, i, vget(&n, size, (i / per) * per + (per - 1 - i % per)));
        break;
    }
    case A64_SIMD_CNT:
        for (int i = 0; i < ne; i++)
            vset(&r, 0, i, (uint64_t)__builtin_popcount(n.b[i]));
        break;
    case A64_SIMD_NOT:
        r.d[0] = ~n.d[0], r.d[1] = ~n.d[1];
        break;
    case A64_SIMD_RBIT:
        for (int i = 0; i < ne; i++) {
            uint8_t x = n.b[i], y = 0;
            for (int k = 0; k < 8; k++)
                y |= ((x >> k) & 1) << (7 - k);
            r.b[i] = y;
        }
        break;
    case A64_SIMD_CLS: case A64_SIMD_CLZ:
        for (int i = 0; i < ne; i++) {
            uint64_t x = vget(&n, size, i);
            if (op == A64_SIMD_CLS)   /* leading bits equal to the sign bit, excluding it */
                x = (x ^ (uint64_t)(sxt(x, size) >> 1)) & (em >> 1);
            vset(&r, size, i, (uint64_t)(clz_elt(x, size) - (op == A64_SIMD_CLS)));
        }
        break;
    case A64_SIMD_ABS: case A64_SIMD_NEG:
        for (int i = 0; i < ne; i++) {
            int64_t x = sxt(vget(&n, size, i), size);
            vset(&r, size, i, (uint64_t)(op == A64_SIMD_NEG || x < 0 ? -x : x));
        }
        break;
    case A64_SIMD_CMGT0: case A64_SIMD_CMEQ0: case A64_SIMD_CMLT0: case A64_SIMD_CMGE0:
    case A64_SIMD_CMLE0:
        for (int i = 0; i < ne; i++) {
            int64_t x = sxt(vget(&n, size, i), size);
            bool t = op == A64_SIMD_CMGT0 ? x > 0 : op == A64_SIMD_CMEQ0 ? x == 0
                   : op == A64_SIMD_CMLT0 ? x < 0 : op == A64_SIMD_CMGE0 ? x >= 0 : x <= 0;
            vset(&r, size, i, t ? em : 0);
        }
        break;
    case A64_SIMD_XTN: case A64_SIMD_SQXTN: case A64_SIMD_UQXTN: case A64_SIMD_SQXTUN: {
        /* size = narrow element; writes the low half (q=0) or high half (q=1) */
        int cnt = scalar ? 1 : 8 >> size;
        if (q && !scalar)
            r.d[0] = d.d[0];
        for (int i = 0; i < cnt; i++) {
            uint64_t x = vget(&n, size + 1, i), v;
            if (op == A64_SIMD_XTN)
                v = x & em;
            else if (op == A64_SIMD_SQXTN)
                v = sat_s(sxt(x, size + 1), size, &qc);
            else if (op == A64_SIMD_UQXTN)
                v = sat_u(x, size, &qc);
            else
                v = sat_u(sxt(x, size + 1), size, &qc);
            vset(&r, size, i + (q && !scalar ? cnt : 0), v);
        }
        bytes = scalar ? 1 << size : 16;
        break;
    }
    case A64_SIMD_SHLL: case A64_SIMD_SSHLL: case A64_SIMD_USHLL: {
        /* size = narrow element; source is the low (q=0) or high half */
        int cnt = 8 >> size;
        unsigned sh = op == A64_SIMD_SHLL ? (unsigned)bits : imm;
        for (int i = 0; i < cnt; i++) {
            uint64_t x = vget(&n, size, i + (q ? cnt : 0));
            uint64_t w = op == A64_SIMD_SSHLL ? (uint64_t)sxt(x, size) : x;
            vset(&r, size + 1, i, (w << sh) & emask(size + 1));
        }
        bytes = 16;
        break;
    }
    case A64_SIMD_SADDLP: case A64_SIMD_UADDLP: case A64_SIMD_SADALP: case A64_SIMD_UADALP: {
        bool sg = op == A64_SIMD_SADDLP || op == A64_SIMD_SADALP;
        bool acc = op == A64_SIMD_SADALP || op == A64_SIMD_UADALP;
        for (int i = 0; i < ne / 2; i++) {
            uint64_t a = vget(&n, size, 2 * i), b = vget(&n, size, 2 * i + 1);
            uint64_t s = sg ? (uint64_t)(sxt(a, size) + sxt(b, size)) : a + b;
            if (acc)
                s += vget(&d, size + 1, i);
            vset(&r, size + 1, i, s & emask(size + 1));
        }
        break;
    }
    case A64_SIMD_FABS: case A64_SIMD_FNEG:
        for (int i = 0; i < ne; i++) {
            uint64_t x = vget(&n, size, i), sb = a64_fp_sign_bit(fmt);
            vset(&r, size, i, op == A64_SIMD_FABS ? x & ~sb : x ^ sb);
        }
        break;
    case A64_SIMD_FSQRT:
        for (int i = 0; i < ne; i++) {
            uint64_t x = vget(&n, size, i);
            vset(&r, size, i, a64_fp_arith(&f, A64_FP_SQRT, fmt, x, x));
        }
        break;
    case A64_SIMD_FRINT: {
        int rmode = (imm & 7) == 7 ? a64_fp_rmode(&f) : (int)(imm & 7);
        for (int i = 0; i < ne; i++)
            vset(&r, size, i, a64_fp_round_int(&f, fmt, vget(&n, size, i), rmode, (imm >> 3) & 1));
        break;
    }
    case A64_SIMD_FCVTS: case A64_SIMD_FCVTU: {
        int rmode = (imm & 7) == 7 ? a64_fp_rmode(&f) : (int)(imm & 7);
        for (int i = 0; i < ne; i++)
            vset(&r, size, i, a64_fp_to_int(&f, fmt, vget(&n, size, i), (int)(imm >> 8), rmode,
                                            op == A64_SIMD_FCVTU, bits));
        break;
    }
    case A64_SIMD_SCVTF: case A64_SIMD_UCVTF:
        for (int i = 0; i < ne; i++)
            vset(&r, size, i, a64_fp_from_int(&f, fmt, vget(&n, size, i), (int)imm,
                                              op == A64_SIMD_SCVTF, bits));
        break;
    case A64_SIMD_FCMGT0: case A64_SIMD_FCMEQ0: case A64_SIMD_FCMLT0: case A64_SIMD_FCMGE0:
    case A64_SIMD_FCMLE0:
        for (int i = 0; i < ne; i++) {
            uint64_t x = vget(&n, size, i);
            bool t = op == A64_SIMD_FCMGT0 ? a64_fp_cmp_cond(&f, fmt, x, 0, 2)
                   : op == A64_SIMD_FCMEQ0 ? a64_fp_cmp_cond(&f, fmt, x, 0, 0)
                   : op == A64_SIMD_FCMGE0 ? a64_fp_cmp_cond(&f, fmt, x, 0, 1)
                   : op == A64_SIMD_FCMLT0 ? a64_fp_cmp_cond(&f, fmt, 0, x, 2)
                                           : a64_fp_cmp_cond(&f, fmt, 0, x, 1);
            vset(&r, size, i, t ? em : 0);
        }
        break;
    case A64_SIMD_FCVTN: {
        /* size = narrow element (1: f32->f16, 2: f64->f32) */
        int cnt = 8 >> size;
        A64FpFmt from = size == 2 ? A64_F64 : A64_F32, to = size == 2 ? A64_F32 : A64_F16;
        if (q)
            r.d[0] = d.d[0];
        for (int i = 0; i < cnt; i++)
            vset(&r, size, i + (q ? cnt : 0), a64_fp_convert(&f, from, to, vget(&n, size + 1, i)));
        bytes = 16;
        break;
    }
    case A64_SIMD_FCVTL: {
        int cnt = 8 >> size;
        A64FpFmt to = size == 2 ? A64_F64 : A64_F32, from = size == 2 ? A64_F32 : A64_F16;
        for (int i = 0; i < cnt; i++)
            vset(&r, size + 1, i, a64_fp_convert(&f, from, to, vget(&n, size, i + (q ? cnt : 0))));
        bytes = 16;
        break;
    }
    /* ---- across lanes (bytes = vector width; result is one element) ---- */
    case A64_SIMD_ADDV: case A64_SIMD_SMAXV: case A64_SIMD_UMAXV: case A64_SIMD_SMINV:
    case A64_SIMD_UMINV: case A64_SIMD_FMAXV: case A64_SIMD_FMINV: case A64_SIMD_FMAXNMV:
    case A64_SIMD_FMINNMV:
        vset(&r, size, 0, reduce(&f, op, size, &n, 0, ne, &qc));
        bytes = 16;
        break;
    case A64_SIMD_SADDLV: case A64_SIMD_UADDLV: {
        uint64_t s = 0;
        for (int i = 0; i < ne; i++) {
            uint64_t x = vget(&n, size, i);
            s += op == A64_SIMD_SADDLV ? (uint64_t)sxt(x, size) : x;
        }
        vset(&r, size + 1, 0, s & emask(size + 1));
        bytes = 16;
        break;
    }
    /* ---- three different: size = narrow element, q = "2" (upper halves) ---- */
    case A64_SIMD_SADDL: case A64_SIMD_UADDL: case A64_SIMD_SADDW: case A64_SIMD_UADDW:
    case A64_SIMD_SSUBL: case A64_SIMD_USUBL: case A64_SIMD_SSUBW: case A64_SIMD_USUBW:
    case A64_SIMD_SABAL: case A64_SIMD_UABAL: case A64_SIMD_SABDL: case A64_SIMD_UABDL:
    case A64_SIMD_SMLAL: case A64_SIMD_UMLAL: case A64_SIMD_SMLSL: case A64_SIMD_UMLSL:
    case A64_SIMD_SMULL: case A64_SIMD_UMULL:
    case A64_SIMD_SMULL_IDX: case A64_SIMD_UMULL_IDX: case A64_SIMD_SMLAL_IDX: case A64_SIMD_UMLAL_IDX:
    case A64_SIMD_SMLSL_IDX: case A64_SIMD_UMLSL_IDX: {
        int cnt = 8 >> size, ws = size + 1;
        bool sg = op == A64_SIMD_SADDL || op == A64_SIMD_SADDW || op == A64_SIMD_SSUBL ||
                  op == A64_SIMD_SSUBW || op == A64_SIMD_SABAL || op == A64_SIMD_SABDL ||
                  op == A64_SIMD_SMLAL || op == A64_SIMD_SMLSL || op == A64_SIMD_SMULL ||
                  op == A64_SIMD_SMULL_IDX || op == A64_SIMD_SMLAL_IDX || op == A64_SIMD_SMLSL_IDX;
        bool wide = op == A64_SIMD_SADDW || op == A64_SIMD_UADDW || op == A64_SIMD_SSUBW ||
                    op == A64_SIMD_USUBW;
        bool idx = op >= A64_SIMD_SMULL_IDX && op <= A64_SIMD_UMLSL_IDX;
        for (int i = 0; i < cnt; i++) {
            int j = i + (q ? cnt : 0);
            uint64_t a = wide ? vget(&n, ws, i) : vget(&n, size, j);
            uint64_t b = idx ? vget(&m, size, (int)imm) : vget(&m, size, j);
            int64_t sa = wide ? (int64_t)a : sxt(a, size), sb2 = sxt(b, size);
            uint64_t ea = sg ? (uint64_t)sa : a, eb = sg ? (uint64_t)sb2 : b;
            uint64_t acc = vget(&d, ws, i), v;
            switch (op) {
            case A64_SIMD_SADDL: case A64_SIMD_UADDL: case A64_SIMD_SADDW: case A64_SIMD_UADDW:
                v = ea + eb; break;
            case A64_SIMD_SSUBL: case A64_SIMD_USUBL: case A64_SIMD_SSUBW: case A64_SIMD_USUBW:
                v = ea - eb; break;
            case A64_SIMD_SABDL: case A64_SIMD_UABDL:
                v = sg ? (uint64_t)(sa > sb2 ? sa - sb2 : sb2 - sa) : (a > b ? a - b : b - a); break;
            case A64_SIMD_SABAL: case A64_SIMD_UABAL:
                v = acc + (sg ? (uint64_t)(sa > sb2 ? sa - sb2 : sb2 - sa) : (a > b ? a - b : b - a)); break;
            case A64_SIMD_SMLAL: case A64_SIMD_UMLAL: case A64_SIMD_SMLAL_IDX: case A64_SIMD_UMLAL_IDX:
                v = acc + ea * eb; break;
            case A64_SIMD_SMLSL: case A64_SIMD_UMLSL: case A64_SIMD_SMLSL_IDX: case A64_SIMD_UMLSL_IDX:
                v = acc - ea * eb; break;
            default:
                v = ea * eb; break;
            }
            vset(&r, ws, i, v & emask(ws));
        }
        bytes = 16;
        break;
    }
    case A64_SIMD_SQDMULL: case A64_SIMD_SQDMLAL: case A64_SIMD_SQDMLSL:
    case A64_SIMD_SQDMULL_IDX: case A64_SIMD_SQDMLAL_IDX: case A64_SIMD_SQDMLSL_IDX: {
        bool idx = op >= A64_SIMD_SQDMULL_IDX;
        int kind = (op - (idx ? A64_SIMD_SQDMULL_IDX : A64_SIMD_SQDMULL)); /* 0 mul 1 add 2 sub */
        int cnt = scalar ? 1 : 8 >> size, ws = size + 1;
        for (int i = 0; i < cnt; i++) {
            int j = i + (q && !scalar ? cnt : 0);
            int64_t a = sxt(vget(&n, size, j), size);
            int64_t b = sxt(idx ? vget(&m, size, (int)imm) : vget(&m, size, j), size);
            __int128 p = sat_s((__int128)a * b * 2, ws, &qc);
            p = sxt((uint64_t)p, ws);
            if (kind) {
                __int128 acc = sxt(vget(&d, ws, i), ws);
                p = sat_s(kind == 1 ? acc + p : acc - p, ws, &qc);
            }
            vset(&r, ws, i, (uint64_t)p & emask(ws));
        }
        bytes = scalar ? 1 << ws : 16;
        break;
    }
    case A64_SIMD_PMULL: {
        /* 8-bit polynomial multiply to 16 bits; q: upper halves */
        for (int i = 0; i < 8; i++) {
            uint64_t a = n.b[i + (q ? 8 : 0)], b = m.b[i + (q ? 8 : 0)], p = 0;
            for (int k = 0; k < 8; k++)
                if ((b >> k) & 1)
                    p ^= a << k;
            r.h[i] = (uint16_t)p;
        }
        bytes = 16;
        break;
    }
    case A64_SIMD_ADDHN: case A64_SIMD_SUBHN: case A64_SIMD_RADDHN: case A64_SIMD_RSUBHN: {
        int cnt = 8 >> size, ws = size + 1;
        if (q)
            r.d[0] = d.d[0];
        for (int i = 0; i < cnt; i++) {
            uint64_t a = vget(&n, ws, i), b = vget(&m, ws, i);
            uint64_t v = (op == A64_SIMD_ADDHN || op == A64_SIMD_RADDHN) ? a + b : a - b;
            if (op == A64_SIMD_RADDHN || op == A64_SIMD_RSUBHN)
                v += 1ull << (bits - 1);
            vset(&r, size, i + (q ? cnt : 0), (v & emask(ws)) >> bits);
        }
        bytes = 16;
        break;
    }
    /* ---- permutes ---- */
    case A64_SIMD_UZP1: case A64_SIMD_UZP2: {
        int odd = op == A64_SIMD_UZP2;
        for (int i = 0; i < ne; i++) {
            int k = 2 * i + odd;
            vset(&r, size, i, k < ne ? vget(&n, size, k) : vget(&m, size, k - ne));
        }
        break;
    }
    case A64_SIMD_TRN1: case A64_SIMD_TRN2: {
        int odd = op == A64_SIMD_TRN2;
        for (int i = 0; i < ne / 2; i++) {
            vset(&r, size, 2 * i, vget(&n, size, 2 * i + odd));
            vset(&r, size, 2 * i + 1, vget(&m, size, 2 * i + odd));
        }
        break;
    }
    case A64_SIMD_ZIP1: case A64_SIMD_ZIP2: {
        int base = op == A64_SIMD_ZIP2 ? ne / 2 : 0;
        for (int i = 0; i < ne / 2; i++) {
            vset(&r, size, 2 * i, vget(&n, size, base + i));
            vset(&r, size, 2 * i + 1, vget(&m, size, base + i));
        }
        break;
    }
    case A64_SIMD_EXT:
        for (int i = 0; i < bytes; i++) {
            int k = (int)imm + i;
            r.b[i] = k < bytes ? n.b[k] : m.b[k - bytes];
        }
        break;
    case A64_SIMD_TBL: case A64_SIMD_TBX: {
        uint8_t tab[64];
        int nregs = (int)imm;
        for (int t = 0; t < nregs; t++)
            memcpy(tab + 16 * t, st->v[(rn + t) & 31], 16);
        for (int i = 0; i < bytes; i++) {
            unsigned k = m.b[i];
            r.b[i] = k < 16u * nregs ? tab[k] : op == A64_SIMD_TBX ? d.b[i] : 0;
        }
        break;
    }
    /* ---- shifts by immediate ---- */
    case A64_SIMD_SSHR: case A64_SIMD_USHR: case A64_SIMD_SSRA: case A64_SIMD_USRA:
    case A64_SIMD_SRSHR: case A64_SIMD_URSHR: case A64_SIMD_SRSRA: case A64_SIMD_URSRA: {
        bool sg = op == A64_SIMD_SSHR || op == A64_SIMD_SSRA || op == A64_SIMD_SRSHR || op == A64_SIMD_SRSRA;
        bool rnd = op == A64_SIMD_SRSHR || op == A64_SIMD_URSHR || op == A64_SIMD_SRSRA || op == A64_SIMD_URSRA;
        bool acc = op == A64_SIMD_SSRA || op == A64_SIMD_USRA || op == A64_SIMD_SRSRA || op == A64_SIMD_URSRA;
        for (int i = 0; i < ne; i++) {
            uint64_t x = vget(&n, size, i);
            __int128 v = sg ? (__int128)sxt(x, size) : (__int128)x;
            if (rnd)
                v += (__int128)1 << (imm - 1);
            uint64_t res = (uint64_t)(v >> imm) & em;   /* imm in 1..bits */
            if (acc)
                res = (res + vget(&d, size, i)) & em;
            vset(&r, size, i, res);
        }
        break;
    }
    case A64_SIMD_SHL:
        for (int i = 0; i < ne; i++)
            vset(&r, size, i, (vget(&n, size, i) << imm) & em);
        break;
    case A64_SIMD_SLI:
        for (int i = 0; i < ne; i++) {
            uint64_t mask = (em << imm) & em;
            vset(&r, size, i, (vget(&d, size, i) & ~mask) | ((vget(&n, size, i) << imm) & mask));
        }
        break;
    case A64_SIMD_SRI:
        for (int i = 0; i < ne; i++) {
            uint64_t mask = imm >= (unsigned)bits ? 0 : em >> imm;
            uint64_t sh = imm >= (unsigned)bits ? 0 : vget(&n, size, i) >> imm;
            vset(&r, size, i, (vget(&d, size, i) & ~mask) | (sh & mask));
        }
        break;
    case A64_SIMD_SHRN: case A64_SIMD_RSHRN: {
        /* size = narrow element; imm in 1..bits */
        int cnt = 8 >> size;
        if (q)
            r.d[0] = d.d[0];
        for (int i = 0; i < cnt; i++) {
            unsigned __int128 x = vget(&n, size + 1, i);
            if (op == A64_SIMD_RSHRN)
                x += (unsigned __int128)1 << (imm - 1);
            vset(&r, size, i + (q ? cnt : 0), (uint64_t)(x >> imm) & em);
        }
        bytes = 16;
        break;
    }
    case A64_SIMD_DUP_ELT:
        for (int i = 0; i < ne; i++)
            vset(&r, size, i, vget(&n, size, (int)imm));
        break;
    case A64_SIMD_INS_ELT:
        r = d;
        vset(&r, size, (int)(imm & 0xff), vget(&n, size, (int)(imm >> 8)));
        bytes = 16;
        break;
    case A64_SIMD_SQSHL_IMM: case A64_SIMD_UQSHL_IMM: case A64_SIMD_SQSHLU:
        for (int i = 0; i < ne; i++)
            vset(&r, size, i, qshl(vget(&n, size, i), (int)imm, size, op != A64_SIMD_UQSHL_IMM, false,
                                   op == A64_SIMD_SQSHLU, &qc));
        break;
    case A64_SIMD_SQSHRN: case A64_SIMD_UQSHRN: case A64_SIMD_SQRSHRN: case A64_SIMD_UQRSHRN:
    case A64_SIMD_SQSHRUN: case A64_SIMD_SQRSHRUN: {
        /* size = narrow element; imm = right shift; q: the "2" form */
        int cnt = scalar ? 1 : 8 >> size;
        bool sg = op != A64_SIMD_UQSHRN && op != A64_SIMD_UQRSHRN;
        bool rnd = op == A64_SIMD_SQRSHRN || op == A64_SIMD_UQRSHRN || op == A64_SIMD_SQRSHRUN;
        bool uo = op == A64_SIMD_SQSHRUN || op == A64_SIMD_SQRSHRUN;
        if (q && !scalar)
            r.d[0] = d.d[0];
        for (int i = 0; i < cnt; i++) {
            uint64_t x = vget(&n, size + 1, i);
            __int128 v = sg ? (__int128)sxt(x, size + 1) : (__int128)x;
            if (rnd)
                v += (__int128)1 << (imm - 1);
            v >>= imm;
            uint64_t res = (sg && !uo) ? sat_s(v, size, &qc) : sat_u(v, size, &qc);
            vset(&r, size, i + (q && !scalar ? cnt : 0), res);
        }
        bytes = scalar ? 1 << size : 16;
        break;
    }
    case A64_SIMD_SQDMULH_IDX: case A64_SIMD_SQRDMULH_IDX: case A64_SIMD_FMULX_IDX: {
        uint64_t b = vget(&m, size, (int)imm);
        for (int i = 0; i < ne; i++)
            vset(&r, size, i, op == A64_SIMD_FMULX_IDX ? fp_bin(&f, op, size, vget(&n, size, i), b)
                                                       : int_bin(op, size, vget(&n, size, i), b, &qc));
        break;
    }
    case A64_SIMD_SQABS: case A64_SIMD_SQNEG:
        for (int i = 0; i < ne; i++) {
            __int128 x = sxt(vget(&n, size, i), size);
            vset(&r, size, i, sat_s(op == A64_SIMD_SQNEG || x < 0 ? -x : x, size, &qc));
        }
        break;
    case A64_SIMD_SUQADD: case A64_SIMD_USQADD:
        /* SUQADD: signed d + unsigned n, signed saturation; USQADD the converse */
        for (int i = 0; i < ne; i++) {
            uint64_t x = vget(&n, size, i), acc = vget(&d, size, i);
            if (op == A64_SIMD_SUQADD)
                vset(&r, size, i, sat_s((__int128)sxt(acc, size) + (__int128)x, size, &qc));
            else
                vset(&r, size, i, sat_u((__int128)acc + sxt(x, size), size, &qc));
        }
        break;
    case A64_SIMD_FRECPE: case A64_SIMD_FRSQRTE: case A64_SIMD_FRECPX:
        for (int i = 0; i < ne; i++) {
            uint64_t x = vget(&n, size, i);
            vset(&r, size, i, op == A64_SIMD_FRECPE ? a64_fp_recip_est(&f, fmt, x)
                            : op == A64_SIMD_FRSQRTE ? a64_fp_rsqrt_est(&f, fmt, x)
                                                     : a64_fp_recpx(&f, fmt, x));
        }
        break;
    case A64_SIMD_URECPE: case A64_SIMD_URSQRTE:
        for (int i = 0; i < ne; i++) {
            uint32_t x = (uint32_t)vget(&n, 2, i);
            vset(&r, 2, i, op == A64_SIMD_URECPE ? a64_urecpe(x) : a64_ursqrte(x));
        }
        break;
    case A64_SIMD_FCVTXN: {
        /* f64 -> f32 rounding to odd; size = 2 (narrow) */
        int cnt = scalar ? 1 : 2;
        if (q && !scalar)
            r.d[0] = d.d[0];
        for (int i = 0; i < cnt; i++)
            vset(&r, 2, i + (q && !scalar ? cnt : 0), a64_fp_convert_odd(&f, vget(&n, 3, i)));
        bytes = scalar ? 4 : 16;
        break;
    }
    default:
        if (is_fp_bin(op)) {
            for (int i = 0; i < ne; i++) {
                uint64_t a = vget(&n, size, i), b = vget(&m, size, i), o;
                if (!(fast && lane_fast(op, fmt, a, b, &o)))
                    o = fp_bin(&f, op, size, a, b);
                vset(&r, size, i, o);
            }
        } else {
            /* typed loops: the element size is fixed, int_bin inlined */
#define A64_LANES(T, SZ)                                                           \
    for (int i = 0; i < ne; i++)                                                   \
        r.T[i] = (__typeof__(r.T[0]))int_bin(op, SZ, n.T[i], m.T[i], &qc);
            switch (size) {
            case 0: A64_LANES(b, 0) break;
            case 1: A64_LANES(h, 1) break;
            case 2: A64_LANES(s, 2) break;
            default: A64_LANES(d, 3) break;
            }
#undef A64_LANES
        }
        break;
    }
    if (bytes < 16)
        memset(r.b + bytes, 0, 16 - bytes);
    memcpy(st->v[rd], &r, 16);
    st->fpsr |= f.exc | (qc ? FPSR_QC : 0);
}
