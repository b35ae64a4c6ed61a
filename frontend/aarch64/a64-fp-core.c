/*
 * a64-fp-core.c - the exact AArch64 floating-point core (a64-fp-helpers.h).
 *
 * Strategy: everything the x86-64 host does differently from ARM is done in
 * software before or after the host instruction:
 *   - NaN operands never reach the host: ARM's propagation (SNaN before QNaN,
 *     first operand first, quieted, FPCR.DN) is applied first;
 *   - FPCR.FZ flushes denormal inputs here (IDC), and the result is flushed
 *     here when it is tiny before rounding (UFC, no IXC);
 *   - the host (SSE with MXCSR set to FPCR.RMode, all exceptions masked)
 *     produces the correctly rounded result and the IE/ZE/OE/PE flags; the
 *     underflow flag is recomputed because x86 detects tininess after
 *     rounding and ARM before (one recomputation in round-to-zero decides the
 *     only ambiguous case, a result of exactly the smallest normal);
 *   - a host default NaN (negative on x86) becomes ARM's positive one;
 *   - fused multiply-add, conversions, rounding to integral, min/max and
 *     compares are done in software on the bit patterns (exact 128-bit
 *     product and sum for FMA, which not every host has; ARM saturates
 *     float->int conversions, x86 does not).
 */
#include "frontend/aarch64/a64-fp-helpers.h"

#include <string.h>

/* ---- format description ----------------------------------------------- */
static const struct { int ebits, mbits; } fmt_info[3] = { { 5, 10 }, { 8, 23 }, { 11, 52 } };
#define MB(fmt) (fmt_info[fmt].mbits)
#define EB(fmt) (fmt_info[fmt].ebits)
#define EMAX(fmt) ((1 << EB(fmt)) - 1)          /* all-ones biased exponent */
#define BIAS(fmt) ((1 << (EB(fmt) - 1)) - 1)

static inline uint64_t f_sign(A64FpFmt fmt, uint64_t x) { return (x >> (EB(fmt) + MB(fmt))) & 1; }
static inline int f_exp(A64FpFmt fmt, uint64_t x) { return (int)((x >> MB(fmt)) & EMAX(fmt)); }
static inline uint64_t f_man(A64FpFmt fmt, uint64_t x) { return x & ((1ull << MB(fmt)) - 1); }
static inline uint64_t f_pack(A64FpFmt fmt, uint64_t s, uint64_t e, uint64_t m)
{
    return (s << (EB(fmt) + MB(fmt))) | (e << MB(fmt)) | m;
}
static inline bool f_is_nan(A64FpFmt fmt, uint64_t x) { return f_exp(fmt, x) == EMAX(fmt) && f_man(fmt, x); }
static inline bool f_is_snan(A64FpFmt fmt, uint64_t x)
{
    return f_is_nan(fmt, x) && !((x >> (MB(fmt) - 1)) & 1);
}
static inline bool f_is_inf(A64FpFmt fmt, uint64_t x) { return f_exp(fmt, x) == EMAX(fmt) && !f_man(fmt, x); }
static inline bool f_is_zero(A64FpFmt fmt, uint64_t x) { return f_exp(fmt, x) == 0 && !f_man(fmt, x); }
static inline uint64_t f_quiet(A64FpFmt fmt, uint64_t x) { return x | (1ull << (MB(fmt) - 1)); }
static inline uint64_t f_zero(A64FpFmt fmt, uint64_t s) { return f_pack(fmt, s, 0, 0); }
static inline uint64_t f_inf(A64FpFmt fmt, uint64_t s) { return f_pack(fmt, s, EMAX(fmt), 0); }
static inline uint64_t f_max_normal(A64FpFmt fmt, uint64_t s)
{
    return f_pack(fmt, s, EMAX(fmt) - 1, (1ull << MB(fmt)) - 1);
}

uint64_t a64_fp_default_nan(A64FpFmt fmt) { return f_pack(fmt, 0, EMAX(fmt), 1ull << (MB(fmt) - 1)); }
bool a64_fp_is_nan(A64FpFmt fmt, uint64_t x) { return f_is_nan(fmt, x); }

/* FZ applies to single/double data; FZ16 to half-precision arithmetic. */
static inline bool fz_on(const A64Fp *f, A64FpFmt fmt)
{
    return fmt == A64_F16 ? (f->fpcr & A64_FPCR_FZ16) != 0 : (f->fpcr & A64_FPCR_FZ) != 0;
}

/* FPUnpack's flushing: a denormal input reads as a zero of its sign. */
static inline uint64_t flush_in(A64Fp *f, A64FpFmt fmt, uint64_t x)
{
    if (f_exp(fmt, x) == 0 && f_man(fmt, x) && fz_on(f, fmt)) {
        f->exc |= A64_FPSR_IDC;
        return f_zero(fmt, f_sign(fmt, x));
    }
    return x;
}

/* FPProcessNaN: quiet a NaN, or the default NaN under FPCR.DN. */
static inline uint64_t process_nan(A64Fp *f, A64FpFmt fmt, uint64_t x)
{
    if (f_is_snan(fmt, x))
        f->exc |= A64_FPSR_IOC;
    if (f->fpcr & A64_FPCR_DN)
        return a64_fp_default_nan(fmt);
    return f_quiet(fmt, x);
}

/* FPProcessNaNs(3): true (and *r) if an operand is a NaN. */
static bool process_nans(A64Fp *f, A64FpFmt fmt, const uint64_t *ops, int n, uint64_t *r)
{
    for (int i = 0; i < n; i++)
        if (f_is_snan(fmt, ops[i])) {
            *r = process_nan(f, fmt, ops[i]);
            return true;
        }
    for (int i = 0; i < n; i++)
        if (f_is_nan(fmt, ops[i])) {
            *r = process_nan(f, fmt, ops[i]);
            return true;
        }
    return false;
}

/* ---- software rounding --------------------------------------------------- */
/* Round and pack sign * sig * 2^exp2 (sig != 0) into fmt under rmode.
 * flush: FZ output flushing applies (tiny before rounding -> zero, UFC). */
static uint64_t round_pack_x(A64Fp *f, A64FpFmt fmt, uint64_t sign, int exp2, uint64_t sig,
                             int rmode, bool flush, bool ahp);

static uint64_t round_pack(A64Fp *f, A64FpFmt fmt, uint64_t sign, int exp2, uint64_t sig,
                           int rmode, bool flush)
{
    return round_pack_x(f, fmt, sign, exp2, sig, rmode, flush, false);
}

/* ahp: FPCR.AHP's alternative half precision (exponent 31 is finite; a
 * too large value saturates to 0x7fff with IOC, no OFC/IXC). */
static uint64_t round_pack_x(A64Fp *f, A64FpFmt fmt, uint64_t sign, int exp2, uint64_t sig,
                             int rmode, bool flush, bool ahp)
{
    int mb = MB(fmt);
    int lz = __builtin_clzll(sig);
    sig <<= lz;
    exp2 -= lz;                        /* value = sig * 2^exp2, sig in [2^63, 2^64) */
    int be = exp2 + 63 + BIAS(fmt);    /* biased exponent if normal */
    bool tiny = be < 1;
    if (tiny && flush) {
        f->exc |= A64_FPSR_UFC;
        return f_zero(fmt, sign);
    }
    int shift = 63 - mb + (tiny ? 1 - be : 0);
    uint64_t mant, rem, half;
    if (shift < 64) {
        mant = sig >> shift;
        rem = sig & ((1ull << shift) - 1);
        half = 1ull << (shift - 1);
    } else if (shift == 64) {
        mant = 0, rem = sig, half = 1ull << 63;
    } else {
        mant = 0, rem = 1, half = 2;   /* nonzero, below half */
    }
    bool inc = false;
    switch (rmode) {
    case A64_RN: inc = rem > half || (rem == half && (mant & 1)); break;
    case A64_RA: inc = rem >= half; break;
    case A64_RP: inc = !sign && rem; break;
    case A64_RM: inc = sign && rem; break;
    default: break;
    }
    mant += inc;
    uint64_t bits;
    if (tiny) {
        bits = mant;   /* a carry into bit mb is exactly the smallest normal */
    } else {
        if (mant >> (mb + 1)) {
            mant >>= 1;
            be++;
        }
        if (ahp && be > EMAX(fmt)) {
            f->exc |= A64_FPSR_IOC;
            return (sign << 15) | 0x7fff;
        }
        if (!ahp && be >= EMAX(fmt)) {
            f->exc |= A64_FPSR_OFC | A64_FPSR_IXC;
            bool to_inf = rmode == A64_RN || rmode == A64_RA || (rmode == A64_RP && !sign) ||
                          (rmode == A64_RM && sign);
            return to_inf ? f_inf(fmt, sign) : f_max_normal(fmt, sign);
        }
        bits = ((uint64_t)be << mb) | (mant & ((1ull << mb) - 1));
    }
    if (rem) {
        f->exc |= A64_FPSR_IXC;
        if (tiny)
            f->exc |= A64_FPSR_UFC;
    }
    return (sign << (EB(fmt) + mb)) | bits;
}

/* round_pack for a 128-bit significand: jam the low bits into a sticky bit. */
static uint64_t round_pack128(A64Fp *f, A64FpFmt fmt, uint64_t sign, int exp2,
                              unsigned __int128 sig, int rmode)
{
    uint64_t hi = (uint64_t)(sig >> 64);
    if (hi) {
        int sh = 64 - __builtin_clzll(hi);    /* bits to drop so it fits 64 */
        uint64_t low = (uint64_t)sig & ((1ull << sh) - 1);
        sig = (sig >> sh) | (low != 0);
        exp2 += sh;
    }
    return round_pack(f, fmt, sign, exp2, (uint64_t)sig, rmode, fz_on(f, fmt));
}

/* ---- host arithmetic ------------------------------------------------------ */
/* MXCSR: all exceptions masked, DAZ/FTZ off, RC from the ARM mode. */
#define MXCSR_DEFAULT 0x1f80u
static inline uint32_t mxcsr_for(int rmode)
{
    static const uint32_t rc[4] = { 0, 2, 1, 3 };  /* RN RP RM RZ -> x86 RC */
    return MXCSR_DEFAULT | (rc[rmode & 3] << 13);
}

/* One host operation in rmode; returns the result bits and MXCSR flags.
 * The emulator's own code runs with the default MXCSR (0x1f80: round to
 * nearest, all exceptions masked), whose sticky flags it never reads: so
 * the op loads mx (clearing the flags), and only a directed rounding mode
 * is put back to the default after it.  Saving and restoring MXCSR around
 * every op was two more of these slow instructions per guest FP op. */
static uint64_t host_calc(A64FpOp op, A64FpFmt fmt, uint64_t a, uint64_t b, uint64_t c,
                          int rmode, uint32_t *mx_flags)
{
    uint32_t mx = mxcsr_for(rmode), out = 0;
    const uint32_t dflt = MXCSR_DEFAULT;
    if (fmt == A64_F64) {
        double x, y, z;
        memcpy(&x, &a, 8), memcpy(&y, &b, 8), memcpy(&z, &c, 8);
        switch (op) {
        case A64_FP_ADD:
            __asm__ volatile("ldmxcsr %[m]\n\taddsd %[y], %[x]\n\tstmxcsr %[o]"
                             : [x] "+x"(x), [o] "=m"(out) : [y] "x"(y), [m] "m"(mx));
            break;
        case A64_FP_SUB:
            __asm__ volatile("ldmxcsr %[m]\n\tsubsd %[y], %[x]\n\tstmxcsr %[o]"
                             : [x] "+x"(x), [o] "=m"(out) : [y] "x"(y), [m] "m"(mx));
            break;
        case A64_FP_MUL:
            __asm__ volatile("ldmxcsr %[m]\n\tmulsd %[y], %[x]\n\tstmxcsr %[o]"
                             : [x] "+x"(x), [o] "=m"(out) : [y] "x"(y), [m] "m"(mx));
            break;
        case A64_FP_DIV:
            __asm__ volatile("ldmxcsr %[m]\n\tdivsd %[y], %[x]\n\tstmxcsr %[o]"
                             : [x] "+x"(x), [o] "=m"(out) : [y] "x"(y), [m] "m"(mx));
            break;
        case A64_FP_SQRT:
            __asm__ volatile("ldmxcsr %[m]\n\tsqrtsd %[x], %[x]\n\tstmxcsr %[o]"
                             : [x] "+x"(x), [o] "=m"(out) : [m] "m"(mx));
            break;
        default:
            break;
        }
        if (mx != MXCSR_DEFAULT)
            __asm__ volatile("ldmxcsr %0" : : "m"(dflt));
        uint64_t r;
        memcpy(&r, &x, 8);
        *mx_flags = out & 0x3f;
        return r;
    } else {
        float x, y, z;
        uint32_t a32 = (uint32_t)a, b32 = (uint32_t)b, c32 = (uint32_t)c, r32;
        memcpy(&x, &a32, 4), memcpy(&y, &b32, 4), memcpy(&z, &c32, 4);
        switch (op) {
        case A64_FP_ADD:
            __asm__ volatile("ldmxcsr %[m]\n\taddss %[y], %[x]\n\tstmxcsr %[o]"
                             : [x] "+x"(x), [o] "=m"(out) : [y] "x"(y), [m] "m"(mx));
            break;
        case A64_FP_SUB:
            __asm__ volatile("ldmxcsr %[m]\n\tsubss %[y], %[x]\n\tstmxcsr %[o]"
                             : [x] "+x"(x), [o] "=m"(out) : [y] "x"(y), [m] "m"(mx));
            break;
        case A64_FP_MUL:
            __asm__ volatile("ldmxcsr %[m]\n\tmulss %[y], %[x]\n\tstmxcsr %[o]"
                             : [x] "+x"(x), [o] "=m"(out) : [y] "x"(y), [m] "m"(mx));
            break;
        case A64_FP_DIV:
            __asm__ volatile("ldmxcsr %[m]\n\tdivss %[y], %[x]\n\tstmxcsr %[o]"
                             : [x] "+x"(x), [o] "=m"(out) : [y] "x"(y), [m] "m"(mx));
            break;
        case A64_FP_SQRT:
            __asm__ volatile("ldmxcsr %[m]\n\tsqrtss %[x], %[x]\n\tstmxcsr %[o]"
                             : [x] "+x"(x), [o] "=m"(out) : [m] "m"(mx));
            break;
        default:
            break;
        }
        if (mx != MXCSR_DEFAULT)
            __asm__ volatile("ldmxcsr %0" : : "m"(dflt));
        memcpy(&r32, &x, 4);
        *mx_flags = out & 0x3f;
        return r32;
    }
}

/* Host op with ARM's flag and flushing rules (operands are not NaN and are
 * already flushed). */
static uint64_t host_arith(A64Fp *f, A64FpOp op, A64FpFmt fmt, uint64_t a, uint64_t b,
                           uint64_t c)
{
    int rmode = a64_fp_rmode(f);
    uint32_t mxf;
    uint64_t r = host_calc(op, fmt, a, b, c, rmode, &mxf);
    if (mxf & 1) {                       /* invalid: inf-inf, 0*inf, sqrt(-x)... */
        f->exc |= A64_FPSR_IOC;
        return a64_fp_default_nan(fmt);
    }
    if (mxf & 4)
        f->exc |= A64_FPSR_DZC;
    bool inexact = mxf & 32;
    uint64_t mag = r & ~a64_fp_sign_bit(fmt);
    uint64_t min_normal = 1ull << MB(fmt);
    bool tiny = false;
    if (mag < min_normal) {
        tiny = mag != 0 || inexact;      /* an exact zero is not tiny */
    } else if (mag == min_normal && inexact && rmode != A64_RZ) {
        uint32_t mxz;
        uint64_t rz = host_calc(op, fmt, a, b, c, A64_RZ, &mxz);
        tiny = (rz & ~a64_fp_sign_bit(fmt)) < min_normal;
    }
    if (tiny && fz_on(f, fmt)) {
        f->exc |= A64_FPSR_UFC;
        return f_zero(fmt, f_sign(fmt, r));
    }
    if (mxf & 8)
        f->exc |= A64_FPSR_OFC;
    if (inexact) {
        f->exc |= A64_FPSR_IXC;
        if (tiny)
            f->exc |= A64_FPSR_UFC;
    }
    return r;
}

/* ---- fused multiply-add in software -------------------------------------------- */
/* sig * 2^exp of a finite nonzero value. */
static void unpack_finite(A64FpFmt fmt, uint64_t x, uint64_t *sig, int *exp)
{
    int e = f_exp(fmt, x);
    *sig = f_man(fmt, x) | (e ? 1ull << MB(fmt) : 0);
    *exp = (e ? e : 1) - BIAS(fmt) - MB(fmt);
}

static int msb128(unsigned __int128 v)
{
    uint64_t hi = (uint64_t)(v >> 64);
    return hi ? 127 - __builtin_clzll(hi) : 63 - __builtin_clzll((uint64_t)v);
}

/* v >> sh with the shifted-out bits ORed into bit 0 (sh >= 0). */
static unsigned __int128 shr_jam(unsigned __int128 v, int sh)
{
    if (sh == 0)
        return v;
    if (sh >= 128)
        return v != 0;
    return (v >> sh) | ((v & (((unsigned __int128)1 << sh) - 1)) != 0);
}

/* addend + n*m for non-NaN, already flushed operands. */
static uint64_t soft_muladd_scaled(A64Fp *f, A64FpFmt fmt, uint64_t a, uint64_t n, uint64_t m,
                                   int scale);
static uint64_t soft_muladd(A64Fp *f, A64FpFmt fmt, uint64_t a, uint64_t n, uint64_t m)
{
    return soft_muladd_scaled(f, fmt, a, n, m, 0);
}

/* (a + n*m) * 2^scale, one rounding. */
static uint64_t soft_muladd_scaled(A64Fp *f, A64FpFmt fmt, uint64_t a, uint64_t n, uint64_t m,
                                   int scale)
{
    uint64_t sp = f_sign(fmt, n) ^ f_sign(fmt, m), sa = f_sign(fmt, a);
    bool pinf = f_is_inf(fmt, n) || f_is_inf(fmt, m);
    bool pzero = f_is_zero(fmt, n) || f_is_zero(fmt, m);
    if (pinf && pzero) {
        f->exc |= A64_FPSR_IOC;
        return a64_fp_default_nan(fmt);
    }
    if (f_is_inf(fmt, a) || pinf) {
        if (f_is_inf(fmt, a) && pinf && sa != sp) {
            f->exc |= A64_FPSR_IOC;
            return a64_fp_default_nan(fmt);
        }
        return f_inf(fmt, f_is_inf(fmt, a) ? sa : sp);
    }
    int rmode = a64_fp_rmode(f);
    if (pzero) {
        if (f_is_zero(fmt, a))
            return f_zero(fmt, sa == sp ? sa : rmode == A64_RM);
        if (!scale)
            return a;
        uint64_t sig;
        int ea0;
        unpack_finite(fmt, a, &sig, &ea0);
        return round_pack(f, fmt, sa, ea0 + scale, sig, rmode, fz_on(f, fmt));
    }
    uint64_t sn, sm, sa_sig;
    int en, em, ea;
    unpack_finite(fmt, n, &sn, &en);
    unpack_finite(fmt, m, &sm, &em);
    unsigned __int128 p = (unsigned __int128)sn * sm;   /* exact, <= 106 bits */
    int ep = en + em;
    /* Put the product's top bit at bit 125. */
    int sh = 125 - msb128(p);
    p <<= sh;
    ep -= sh;
    if (f_is_zero(fmt, a))
        return round_pack128(f, fmt, sp, ep + scale, p, rmode);
    unpack_finite(fmt, a, &sa_sig, &ea);
    unsigned __int128 av = sa_sig;
    int sha = 125 - msb128(av);
    av <<= sha;
    ea -= sha;
    /* Align the smaller to the larger (both have their top bit at 125). */
    int e;
    if (ep >= ea) {
        av = shr_jam(av, ep - ea);
        e = ep;
    } else {
        p = shr_jam(p, ea - ep);
        e = ea;
    }
    unsigned __int128 r;
    uint64_t rs;
    if (sa == sp) {
        r = p + av;   /* < 2^127: no overflow */
        rs = sp;
    } else if (p >= av) {
        r = p - av;
        rs = sp;
    } else {
        r = av - p;
        rs = sa;
    }
    if (r == 0)
        return f_zero(fmt, rmode == A64_RM);
    return round_pack128(f, fmt, rs, e + scale, r, rmode);
}

/* ---- arithmetic ----------------------------------------------------------- */
/* Ordered comparison of two non-NaN values: -1, 0, 1 (+0 == -0). */
static int f_cmp(A64FpFmt fmt, uint64_t a, uint64_t b)
{
    if (f_is_zero(fmt, a) && f_is_zero(fmt, b))
        return 0;
    uint64_t sa = f_sign(fmt, a), sb = f_sign(fmt, b);
    uint64_t ma = a & ~a64_fp_sign_bit(fmt), mbv = b & ~a64_fp_sign_bit(fmt);
    if (sa != sb)
        return sa ? -1 : 1;
    if (ma == mbv)
        return 0;
    int r = ma < mbv ? -1 : 1;
    return sa ? -r : r;
}

static uint64_t minmax(A64Fp *f, A64FpOp op, A64FpFmt fmt, uint64_t a, uint64_t b)
{
    bool is_max = op == A64_FP_MAX || op == A64_FP_MAXNM;
    if (op == A64_FP_MAXNM || op == A64_FP_MINNM) {
        /* A single quiet NaN loses to a number. */
        bool qa = f_is_nan(fmt, a) && !f_is_snan(fmt, a);
        bool qb = f_is_nan(fmt, b) && !f_is_snan(fmt, b);
        if (qa && !f_is_nan(fmt, b))
            a = f_inf(fmt, is_max);
        else if (qb && !f_is_nan(fmt, a))
            b = f_inf(fmt, is_max);
    }
    a = flush_in(f, fmt, a);   /* FPUnpack flushes (IDC) before NaN checks */
    b = flush_in(f, fmt, b);
    uint64_t ops[2] = { a, b }, r;
    if (process_nans(f, fmt, ops, 2, &r))
        return r;
    if (f_is_zero(fmt, a) && f_is_zero(fmt, b)) {
        uint64_t s = is_max ? (f_sign(fmt, a) & f_sign(fmt, b)) : (f_sign(fmt, a) | f_sign(fmt, b));
        return f_zero(fmt, s);
    }
    int c = f_cmp(fmt, a, b);
    r = is_max ? (c >= 0 ? a : b) : (c <= 0 ? a : b);
    /* ARM re-rounds the chosen operand: exact, so no flags (a denormal can
     * only get here with FZ off, as inputs were flushed above). */
    return r;
}

uint64_t a64_fp_arith(A64Fp *f, A64FpOp op, A64FpFmt fmt, uint64_t a, uint64_t b)
{
    if (op >= A64_FP_MAX && op <= A64_FP_MINNM)
        return minmax(f, op, fmt, a, b);
    if (op == A64_FP_ABD) {
        uint64_t r = a64_fp_arith(f, A64_FP_SUB, fmt, a, b);
        return r & ~a64_fp_sign_bit(fmt);
    }
    int n = op == A64_FP_SQRT ? 1 : 2;
    a = flush_in(f, fmt, a);
    if (n == 2)
        b = flush_in(f, fmt, b);
    uint64_t ops[2] = { a, b }, r;
    if (process_nans(f, fmt, ops, n, &r))
        return r;
    return host_arith(f, op, fmt, a, b, 0);
}

uint64_t a64_fp_mulx(A64Fp *f, A64FpFmt fmt, uint64_t a, uint64_t b)
{
    a = flush_in(f, fmt, a);
    b = flush_in(f, fmt, b);
    uint64_t ops[2] = { a, b }, r;
    if (process_nans(f, fmt, ops, 2, &r))
        return r;
    if ((f_is_inf(fmt, a) && f_is_zero(fmt, b)) || (f_is_zero(fmt, a) && f_is_inf(fmt, b)))
        return f_pack(fmt, f_sign(fmt, a) ^ f_sign(fmt, b), BIAS(fmt) + 1, 0);   /* +-2.0 */
    return a64_fp_arith(f, A64_FP_MUL, fmt, a, b);
}

uint64_t a64_fp_muladd(A64Fp *f, A64FpFmt fmt, uint64_t addend, uint64_t n, uint64_t m)
{
    addend = flush_in(f, fmt, addend);
    n = flush_in(f, fmt, n);
    m = flush_in(f, fmt, m);
    bool inf_zero = (f_is_inf(fmt, n) && f_is_zero(fmt, m)) || (f_is_zero(fmt, n) && f_is_inf(fmt, m));
    uint64_t ops[3] = { addend, n, m }, r;
    if (f_is_nan(fmt, addend) && !f_is_snan(fmt, addend) && inf_zero && !f_is_snan(fmt, n) &&
        !f_is_snan(fmt, m)) {
        f->exc |= A64_FPSR_IOC;
        return a64_fp_default_nan(fmt);
    }
    if (process_nans(f, fmt, ops, 3, &r))
        return r;
    return soft_muladd(f, fmt, addend, n, m);
}

uint32_t a64_fp_compare(A64Fp *f, A64FpFmt fmt, uint64_t a, uint64_t b, bool signal_all)
{
    a = flush_in(f, fmt, a);
    b = flush_in(f, fmt, b);
    if (f_is_nan(fmt, a) || f_is_nan(fmt, b)) {
        if (signal_all || f_is_snan(fmt, a) || f_is_snan(fmt, b))
            f->exc |= A64_FPSR_IOC;
        return 0x3;                      /* unordered: C V */
    }
    int c = f_cmp(fmt, a, b);
    return c == 0 ? 0x6 : c < 0 ? 0x8 : 0x2;
}

bool a64_fp_cmp_cond(A64Fp *f, A64FpFmt fmt, uint64_t a, uint64_t b, int cond)
{
    a = flush_in(f, fmt, a);
    b = flush_in(f, fmt, b);
    if (f_is_nan(fmt, a) || f_is_nan(fmt, b)) {
        if (cond != 0 || f_is_snan(fmt, a) || f_is_snan(fmt, b))
            f->exc |= A64_FPSR_IOC;
        return false;
    }
    int c = f_cmp(fmt, a, b);
    return cond == 0 ? c == 0 : cond == 1 ? c >= 0 : c > 0;
}

/* ---- rounding to integral ------------------------------------------------- */
uint64_t a64_fp_round_int(A64Fp *f, A64FpFmt fmt, uint64_t x, int rmode, bool exact)
{
    if (f_is_nan(fmt, x))
        return process_nan(f, fmt, x);
    x = flush_in(f, fmt, x);
    int e = f_exp(fmt, x), mb = MB(fmt);
    uint64_t s = f_sign(fmt, x);
    if (e == EMAX(fmt) || f_is_zero(fmt, x))
        return x;
    int ue = e - BIAS(fmt);              /* unbiased exponent (denormals: tiny) */
    if (ue >= mb)
        return x;                        /* already integral */
    uint64_t r;
    bool inexact;
    if (ue < 0) {
        /* |x| < 1: 0 or 1 */
        bool up;
        switch (rmode) {
        case A64_RN: up = ue == -1 && f_man(fmt, x) != 0; break;  /* > 0.5 */
        case A64_RA: up = ue == -1; break;                        /* >= 0.5 */
        case A64_RP: up = !s; break;
        case A64_RM: up = s; break;
        default: up = false; break;
        }
        r = up ? f_pack(fmt, s, BIAS(fmt), 0) : f_zero(fmt, s);
        inexact = true;
    } else {
        int fb = mb - ue;                /* fraction bits in the mantissa */
        uint64_t mant = f_man(fmt, x) | (1ull << mb);
        uint64_t fmask = (1ull << fb) - 1, frac = mant & fmask, half = 1ull << (fb - 1);
        uint64_t ip = mant >> fb;
        bool inc;
        switch (rmode) {
        case A64_RN: inc = frac > half || (frac == half && (ip & 1)); break;
        case A64_RA: inc = frac >= half; break;
        case A64_RP: inc = !s && frac; break;
        case A64_RM: inc = s && frac; break;
        default: inc = false; break;
        }
        inexact = frac != 0;
        ip += inc;
        /* ip is a positive integer < 2^(mb+1): pack it exactly. */
        int lz = __builtin_clzll(ip);
        int msb = 63 - lz;
        r = f_pack(fmt, s, (uint64_t)(msb + BIAS(fmt)), (ip << (mb - msb)) & ((1ull << mb) - 1));
    }
    if (exact && inexact)
        f->exc |= A64_FPSR_IXC;
    return r;
}

/* ---- conversions ---------------------------------------------------------- */
static uint64_t convert_mode(A64Fp *f, A64FpFmt from, A64FpFmt to, uint64_t x, int rmode);

uint64_t a64_fp_convert(A64Fp *f, A64FpFmt from, A64FpFmt to, uint64_t x)
{
    return convert_mode(f, from, to, x, a64_fp_rmode(f));
}

uint64_t a64_fp_convert_odd(A64Fp *f, uint64_t x)
{
    /* Round to odd: truncate, then set the lsb if anything was lost. */
    uint32_t before = f->exc;
    f->exc = 0;                          /* this conversion's own flags */
    uint64_t r = convert_mode(f, A64_F64, A64_F32, x, A64_RZ);
    if ((f->exc & A64_FPSR_IXC) && !(f->exc & A64_FPSR_OFC) && !a64_fp_is_nan(A64_F32, r))
        r |= 1;
    f->exc |= before;
    return r;
}

static uint64_t convert_mode(A64Fp *f, A64FpFmt from, A64FpFmt to, uint64_t x, int rmode)
{
    uint64_t s = f_sign(from, x);
    bool ahp = (f->fpcr & A64_FPCR_AHP) != 0;
    bool ahp_in = ahp && from == A64_F16, ahp_out = ahp && to == A64_F16;
    if (ahp_out && (f_is_nan(from, x) || f_is_inf(from, x))) {
        /* no NaN or infinity in the alternative format */
        f->exc |= A64_FPSR_IOC;
        return f_is_nan(from, x) ? f_zero(A64_F16, s) : (s << 15) | 0x7fff;
    }
    if (!ahp_in && f_is_nan(from, x)) {
        if (f_is_snan(from, x))
            f->exc |= A64_FPSR_IOC;
        if (f->fpcr & A64_FPCR_DN)
            return a64_fp_default_nan(to);
        /* Keep the top payload bits, quieted. */
        uint64_t m = f_man(from, x);
        int d = MB(to) - MB(from);
        m = d >= 0 ? m << d : m >> -d;
        return f_quiet(to, f_pack(to, s, EMAX(to), m));
    }
    if (from != A64_F16)                 /* FPUnpackCV: FZ16 never applies */
        x = flush_in(f, from, x);
    if (!ahp_in && f_is_inf(from, x))
        return f_inf(to, s);
    if (f_is_zero(from, x))
        return f_zero(to, s);
    int e = f_exp(from, x);
    uint64_t mant = f_man(from, x);
    int exp2;
    if (e == 0) {
        exp2 = 1 - BIAS(from) - MB(from);
    } else {
        mant |= 1ull << MB(from);
        exp2 = e - BIAS(from) - MB(from);
    }
    /* FPRoundCV: FZ flushes single/double results, never half ones. */
    return round_pack_x(f, to, s, exp2, mant, rmode, to != A64_F16 && fz_on(f, to), ahp_out);
}

uint64_t a64_fp_to_int(A64Fp *f, A64FpFmt fmt, uint64_t x, int fbits, int rmode,
                       bool is_unsigned, int nbits)
{
    if (f_is_nan(fmt, x)) {
        f->exc |= A64_FPSR_IOC;
        return 0;
    }
    x = flush_in(f, fmt, x);
    uint64_t s = f_sign(fmt, x);
    uint64_t umax = nbits == 64 ? ~0ull : (1ull << nbits) - 1;
    uint64_t smax = umax >> 1;
    /* Saturated results. */
    uint64_t sat_pos = is_unsigned ? umax : smax;
    uint64_t sat_neg = is_unsigned ? 0 : (uint64_t)(-(int64_t)smax - 1) & umax;
    if (f_is_inf(fmt, x)) {
        f->exc |= A64_FPSR_IOC;
        return s ? sat_neg : sat_pos;
    }
    if (f_is_zero(fmt, x))
        return 0;
    int e = f_exp(fmt, x);
    uint64_t mant = f_man(fmt, x);
    int sh;                              /* value * 2^fbits = mant * 2^sh */
    if (e == 0) {
        sh = 1 - BIAS(fmt) - MB(fmt) + fbits;
    } else {
        mant |= 1ull << MB(fmt);
        sh = e - BIAS(fmt) - MB(fmt) + fbits;
    }
    uint64_t ip;                         /* magnitude, saturated at 2^64 */
    bool big = false;
    uint64_t rem = 0, half = 0;
    if (sh >= 0) {
        if (sh >= 64 || (mant >> (63 - sh)) > 1 || (sh > 0 && (mant >> (64 - sh)) != 0))
            big = true, ip = 0;
        else
            ip = mant << sh;
    } else if (-sh >= 64) {
        ip = 0, rem = 1, half = 2;       /* nonzero, below half */
        if (-sh == 64)
            rem = mant, half = 1ull << 63;
    } else {
        ip = mant >> -sh;
        rem = mant & ((1ull << -sh) - 1);
        half = 1ull << (-sh - 1);
    }
    if (!big && rem) {
        bool inc;
        switch (rmode) {
        case A64_RN: inc = rem > half || (rem == half && (ip & 1)); break;
        case A64_RA: inc = rem >= half && rem; break;
        case A64_RP: inc = !s && rem; break;
        case A64_RM: inc = s && rem; break;
        default: inc = false; break;
        }
        if (inc && ++ip == 0)
            big = true;
    }
    /* Range check on the rounded magnitude. */
    bool over;
    if (big)
        over = true;
    else if (!s)
        over = ip > sat_pos;
    else
        over = is_unsigned ? ip != 0 : ip > smax + 1;
    if (over) {
        f->exc |= A64_FPSR_IOC;
        return s ? sat_neg : sat_pos;
    }
    if (rem)
        f->exc |= A64_FPSR_IXC;
    return (s ? -ip : ip) & umax;
}

uint64_t a64_fp_from_int(A64Fp *f, A64FpFmt fmt, uint64_t v, int fbits, bool is_signed,
                         int nbits)
{
    uint64_t s = 0;
    if (nbits == 32)
        v = is_signed ? (uint64_t)(int64_t)(int32_t)v : (uint32_t)v;
    if (is_signed && (int64_t)v < 0) {
        s = 1;
        v = -v;
    }
    if (v == 0)
        return f_zero(fmt, 0);
    return round_pack(f, fmt, s, -fbits, v, a64_fp_rmode(f), fmt != A64_F16 && fz_on(f, fmt));
}

/* ---- reciprocal estimates and steps ------------------------------------------- */
/* RecipEstimate: a in 256..511 (0.5 <= a/512 < 1) -> 256..511. */
static unsigned recip_estimate(unsigned a)
{
    a = a * 2 + 1;
    unsigned b = (1u << 19) / a;
    return (b + 1) / 2;
}

/* RecipSqrtEstimate: a in 128..511 -> 256..511. */
static unsigned rsqrt_estimate(unsigned a)
{
    if (a < 256)
        a = a * 2 + 1;
    else
        a = ((a >> 1) << 1), a = (a + 1) * 2;
    unsigned b = 512;
    while ((uint64_t)a * (b + 1) * (b + 1) < (1ull << 28))
        b++;
    return (b + 1) / 2;
}

uint64_t a64_fp_recip_est(A64Fp *f, A64FpFmt fmt, uint64_t x)
{
    x = flush_in(f, fmt, x);
    uint64_t sign = f_sign(fmt, x);
    if (f_is_nan(fmt, x))
        return process_nan(f, fmt, x);
    if (f_is_inf(fmt, x))
        return f_zero(fmt, sign);
    if (f_is_zero(fmt, x)) {
        f->exc |= A64_FPSR_DZC;
        return f_inf(fmt, sign);
    }
    int mb = MB(fmt);
    uint64_t mag = x & ~a64_fp_sign_bit(fmt);
    /* |x| < 2^-(bias+1): the reciprocal overflows */
    if (mag < (uint64_t)1 << (mb - 2)) {
        int rm = a64_fp_rmode(f);
        bool to_inf = rm == A64_RN || (rm == A64_RP && !sign) || (rm == A64_RM && sign);
        f->exc |= A64_FPSR_OFC | A64_FPSR_IXC;
        return to_inf ? f_inf(fmt, sign) : f_max_normal(fmt, sign);
    }
    int exp = f_exp(fmt, x);
    if (fz_on(f, fmt) && exp >= 2 * BIAS(fmt) - 1) {   /* |x| >= 2^(bias-1) */
        f->exc |= A64_FPSR_UFC;
        return f_zero(fmt, sign);
    }
    /* 52-bit fraction as in the pseudocode */
    uint64_t frac = f_man(fmt, x) << (52 - mb);
    if (exp == 0) {
        if (!((frac >> 51) & 1)) {
            exp = -1;
            frac = (frac << 2) & ((1ull << 52) - 1);
        } else {
            frac = (frac << 1) & ((1ull << 52) - 1);
        }
    }
    unsigned scaled = (unsigned)(256 | (frac >> 44));
    int rexp = 2 * BIAS(fmt) - 1 - exp;
    uint64_t est = recip_estimate(scaled);
    frac = (est & 0xff) << 44;
    if (rexp == 0) {
        frac = (1ull << 51) | (frac >> 1);
    } else if (rexp == -1) {
        frac = (1ull << 50) | (frac >> 2);
        rexp = 0;
    }
    return f_pack(fmt, sign, (uint64_t)rexp, frac >> (52 - mb));
}

uint64_t a64_fp_rsqrt_est(A64Fp *f, A64FpFmt fmt, uint64_t x)
{
    x = flush_in(f, fmt, x);
    uint64_t sign = f_sign(fmt, x);
    if (f_is_nan(fmt, x))
        return process_nan(f, fmt, x);
    if (f_is_zero(fmt, x)) {
        f->exc |= A64_FPSR_DZC;
        return f_inf(fmt, sign);
    }
    if (sign) {
        f->exc |= A64_FPSR_IOC;
        return a64_fp_default_nan(fmt);
    }
    if (f_is_inf(fmt, x))
        return f_zero(fmt, 0);
    int mb = MB(fmt), exp = f_exp(fmt, x);
    uint64_t frac = f_man(fmt, x) << (52 - mb);
    if (exp == 0) {
        while (!((frac >> 51) & 1)) {
            frac = (frac << 1) & ((1ull << 52) - 1);
            exp--;
        }
        frac = (frac << 1) & ((1ull << 52) - 1);
    }
    unsigned scaled = (exp & 1) ? (unsigned)(128 | (frac >> 45)) : (unsigned)(256 | (frac >> 44));
    int rexp = ((fmt == A64_F32 ? 380 : 3068) - exp) / 2;
    uint64_t est = rsqrt_estimate(scaled);
    return f_pack(fmt, 0, (uint64_t)rexp, ((est & 0xff) << 44) >> (52 - mb));
}

/* FRECPS (2 - a*b) and FRSQRTS ((3 - a*b) / 2), fused. */
static uint64_t recip_step(A64Fp *f, A64FpFmt fmt, uint64_t a, uint64_t b, bool rsqrt)
{
    a ^= a64_fp_sign_bit(fmt);           /* FPNeg before NaN processing */
    a = flush_in(f, fmt, a);
    b = flush_in(f, fmt, b);
    uint64_t ops[2] = { a, b }, r;
    if (process_nans(f, fmt, ops, 2, &r))
        return r;
    bool ia = f_is_inf(fmt, a), ib = f_is_inf(fmt, b);
    if ((ia && f_is_zero(fmt, b)) || (f_is_zero(fmt, a) && ib))
        return rsqrt ? f_pack(fmt, 0, BIAS(fmt), 1ull << (MB(fmt) - 1))   /* 1.5 */
                     : f_pack(fmt, 0, BIAS(fmt) + 1, 0);                /* 2.0 */
    if (ia || ib)
        return f_inf(fmt, f_sign(fmt, a) ^ f_sign(fmt, b));
    uint64_t c = rsqrt ? f_pack(fmt, 0, BIAS(fmt) + 1, 1ull << (MB(fmt) - 1))  /* 3.0 */
                       : f_pack(fmt, 0, BIAS(fmt) + 1, 0);
    return soft_muladd_scaled(f, fmt, c, a, b, rsqrt ? -1 : 0);
}

uint64_t a64_fp_recps(A64Fp *f, A64FpFmt fmt, uint64_t a, uint64_t b)
{
    return recip_step(f, fmt, a, b, false);
}

uint64_t a64_fp_rsqrts(A64Fp *f, A64FpFmt fmt, uint64_t a, uint64_t b)
{
    return recip_step(f, fmt, a, b, true);
}

uint64_t a64_fp_recpx(A64Fp *f, A64FpFmt fmt, uint64_t x)
{
    x = flush_in(f, fmt, x);
    if (f_is_nan(fmt, x))
        return process_nan(f, fmt, x);
    int e = f_exp(fmt, x);
    uint64_t ne = e == 0 ? (uint64_t)EMAX(fmt) - 1 : (uint64_t)(~e & EMAX(fmt));
    return f_pack(fmt, f_sign(fmt, x), ne, 0);
}

/* URECPE / URSQRTE on 32-bit fixed-point values. */
uint32_t a64_urecpe(uint32_t x)
{
    if (!(x >> 31))
        return 0xffffffffu;
    return (uint32_t)recip_estimate(x >> 23) << 23;
}

uint32_t a64_ursqrte(uint32_t x)
{
    if (!(x >> 30))
        return 0xffffffffu;
    return (uint32_t)rsqrt_estimate(x >> 23) << 23;
}
