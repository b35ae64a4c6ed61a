/*
 * a64-fp-helpers.c - the scalar FP helpers of a64-helpers.def: each reads
 * FPCR from the A64State, calls the exact core (a64-fp-core.c) and ORs the
 * raised exceptions into FPSR.
 */
#include "frontend/aarch64/a64-fp-helpers.h"

#include "frontend/aarch64/a64-cpu.h"
#include "ir/ir-helpers.h"

#include <string.h>
#include <sys/platform/x86.h>

static inline int desc_rmode(A64Fp *f, uint32_t rm)
{
    return rm == 7 ? a64_fp_rmode(f) : (int)rm;
}

/* ---- fast path ------------------------------------------------------------
 * Like QEMU's "hardfloat": when FPCR selects round-to-nearest, an operation on
 * normal (or zero) operands whose host result is a normal number larger than
 * the smallest normal can raise no flag but IXC (no NaN, no infinity, no
 * underflow even before rounding, no flushing), so the host's result (MXCSR
 * is the default: nearest, masked) is ARM's.  IXC needs recording only while
 * FPSR.IXC is clear: then an error-free transformation tells whether the
 * result was rounded (a program counting with doubles never sets IXC, and
 * would otherwise take the exact path at every add).  Everything else takes
 * the exact path. */
static inline bool rn_mode(const A64State *st)
{
    return !(st->fpcr & (3u << 22));
}
static inline bool fast_ok(const A64State *st)
{
    return rn_mode(st) && (st->fpsr & A64_FPSR_IXC);
}
static inline bool d_plain(uint64_t x)   /* normal or zero */
{
    uint64_t e = (x >> 52) & 0x7ff;
    return e != 0x7ff && (e != 0 || !(x << 1));
}
static inline bool d_big(uint64_t x)     /* normal and > the smallest normal */
{
    uint64_t m = x << 1;
    return m > (0x0010000000000000ull << 1) && m < (0x7ff0000000000000ull << 1);
}
static inline bool s_plain(uint32_t x)
{
    uint32_t e = (x >> 23) & 0xff;
    return e != 0xff && (e != 0 || !(x << 1));
}
static inline bool s_big(uint32_t x)
{
    uint32_t m = x << 1;
    return m > (0x00800000u << 1) && m < (0x7f800000u << 1);
}

/* Fused multiply-add on the host FMA unit, when there is one.  glibc's copy
 * of the cpuid bits: __builtin_cpu_supports links libgcc's constructor,
 * which runs ~13 cpuid instructions (VM traps) at every emu start. */
static bool host_fma_ok(void)
{
    return CPU_FEATURE_ACTIVE(FMA);
}

__attribute__((target("fma"))) static double fma_d(double a, double n, double m)
{
    return __builtin_fma(n, m, a);
}

__attribute__((target("fma"))) static float fma_s(float a, float n, float m)
{
    return __builtin_fmaf(n, m, a);
}

/* Was r = x op y (round to nearest, no overflow, no underflow) exact?
 * 1 yes, 0 no, -1 cannot tell.  An add's rounding error is representable
 * (TwoSum).  The FMA residuals of mul, div and sqrt are representable while
 * their last bits (~2^-104 of r, or of x) stay above the denormals: hence the
 * 2^-960 floor, and the host FMA. */
static bool above_2m960(double v)
{
    uint64_t b;
    memcpy(&b, &v, 8);
    return ((b >> 52) & 0x7ff) >= 1023 - 960;
}

static int exact_d(uint32_t op, double x, double y, double r)
{
    switch (op) {
    case A64_FP_SUB:
        y = -y;
        /* fall through */
    case A64_FP_ADD: {
        double yv = r - x;
        return (x - (r - yv)) + (y - yv) == 0;
    }
    case A64_FP_MUL:
        return host_fma_ok() && above_2m960(r) ? fma_d(-r, x, y) == 0 : -1;
    case A64_FP_DIV:
        return host_fma_ok() && above_2m960(x) ? fma_d(x, -r, y) == 0 : -1;
    case A64_FP_SQRT:
        return host_fma_ok() && above_2m960(x) ? fma_d(x, -r, r) == 0 : -1;
    default:
        return -1;
    }
}

/* Singles: products of two 24-bit significands are exact in a double, and
 * so is x - r*y (49 bits) for div and sqrt. */
static int exact_s(uint32_t op, float x, float y, float r)
{
    switch (op) {
    case A64_FP_SUB:
        y = -y;
        /* fall through */
    case A64_FP_ADD: {
        float yv = r - x;
        return (x - (r - yv)) + (y - yv) == 0;
    }
    case A64_FP_MUL:  return (double)x * y == r;
    case A64_FP_DIV:  return (double)r * y == x;
    case A64_FP_SQRT: return (double)r * r == x;
    default:          return -1;
    }
}

/* With FPSR.IXC clear, what exact_d/exact_s said: rounded sets IXC,
 * cannot tell (-1) sends the operation to the exact path. */
static bool note_inexact(A64State *st, int exact)
{
    if (exact < 0)
        return false;
    if (!exact)
        st->fpsr |= A64_FPSR_IXC;
    return true;
}

static bool fast_d(A64State *st, uint32_t op, uint64_t a, uint64_t b, uint64_t *out)
{
    double x, y, r;
    memcpy(&x, &a, 8), memcpy(&y, &b, 8);
    switch (op) {
    case A64_FP_ADD: r = x + y; break;
    case A64_FP_SUB: r = x - y; break;
    case A64_FP_MUL: r = x * y; break;
    case A64_FP_DIV: r = x / y; break;
    case A64_FP_SQRT: __asm__("sqrtsd %1, %0" : "=x"(r) : "x"(x)); break;  /* no libm */
    default: return false;
    }
    memcpy(out, &r, 8);
    return d_big(*out) && ((st->fpsr & A64_FPSR_IXC) || note_inexact(st, exact_d(op, x, y, r)));
}

static bool fast_s(A64State *st, uint32_t op, uint32_t a, uint32_t b, uint32_t *out)
{
    float x, y, r;
    memcpy(&x, &a, 4), memcpy(&y, &b, 4);
    switch (op) {
    case A64_FP_ADD: r = x + y; break;
    case A64_FP_SUB: r = x - y; break;
    case A64_FP_MUL: r = x * y; break;
    case A64_FP_DIV: r = x / y; break;
    case A64_FP_SQRT: __asm__("sqrtss %1, %0" : "=x"(r) : "x"(x)); break;
    default: return false;
    }
    memcpy(out, &r, 4);
    return s_big(*out) && ((st->fpsr & A64_FPSR_IXC) || note_inexact(st, exact_s(op, x, y, r)));
}

uint32_t helper_a64_fp_bin_s(void *env, uint32_t a, uint32_t b, uint32_t op)
{
    A64State *st = env;
    uint32_t fr;
    if (rn_mode(st) && s_plain(a) && s_plain(b) && fast_s(st, op, a, b, &fr))
        return fr;
    A64Fp f = a64_fp_begin(st->fpcr);
    uint32_t r = (uint32_t)a64_fp_arith(&f, (A64FpOp)op, A64_F32, a, b);
    st->fpsr |= f.exc;
    return r;
}

uint64_t helper_a64_fp_bin_d(void *env, uint64_t a, uint64_t b, uint32_t op)
{
    A64State *st = env;
    uint64_t fr;
    if (rn_mode(st) && d_plain(a) && d_plain(b) && fast_d(st, op, a, b, &fr))
        return fr;
    A64Fp f = a64_fp_begin(st->fpcr);
    uint64_t r = a64_fp_arith(&f, (A64FpOp)op, A64_F64, a, b);
    st->fpsr |= f.exc;
    return r;
}

bool a64_fp_fast_muladd(A64FpFmt fmt, uint64_t a, uint64_t n, uint64_t m, uint64_t *out)
{
    if (!host_fma_ok() || !a64_fp_plain(fmt, a) || !a64_fp_plain(fmt, n) || !a64_fp_plain(fmt, m))
        return false;
    if (fmt == A64_F32) {
        float x, y, z, r;
        uint32_t a32 = (uint32_t)a, n32 = (uint32_t)n, m32 = (uint32_t)m, rb;
        memcpy(&x, &a32, 4), memcpy(&y, &n32, 4), memcpy(&z, &m32, 4);
        r = fma_s(x, y, z);
        memcpy(&rb, &r, 4);
        *out = rb;
    } else {
        double x, y, z, r;
        memcpy(&x, &a, 8), memcpy(&y, &n, 8), memcpy(&z, &m, 8);
        r = fma_d(x, y, z);
        memcpy(out, &r, 8);
    }
    return a64_fp_big(fmt, *out);
}

uint32_t helper_a64_fp_muladd_s(void *env, uint32_t a, uint32_t n, uint32_t m)
{
    A64State *st = env;
    if (fast_ok(st) && s_plain(a) && s_plain(n) && s_plain(m) && host_fma_ok()) {
        float x, y, z, r;
        uint32_t rb;
        memcpy(&x, &a, 4), memcpy(&y, &n, 4), memcpy(&z, &m, 4);
        r = fma_s(x, y, z);
        memcpy(&rb, &r, 4);
        if (s_big(rb))
            return rb;
    }
    A64Fp f = a64_fp_begin(st->fpcr);
    uint32_t r = (uint32_t)a64_fp_muladd(&f, A64_F32, a, n, m);
    st->fpsr |= f.exc;
    return r;
}

uint64_t helper_a64_fp_muladd_d(void *env, uint64_t a, uint64_t n, uint64_t m)
{
    A64State *st = env;
    if (fast_ok(st) && d_plain(a) && d_plain(n) && d_plain(m) && host_fma_ok()) {
        double x, y, z, r;
        uint64_t rb;
        memcpy(&x, &a, 8), memcpy(&y, &n, 8), memcpy(&z, &m, 8);
        r = fma_d(x, y, z);
        memcpy(&rb, &r, 8);
        if (d_big(rb))
            return rb;
    }
    A64Fp f = a64_fp_begin(st->fpcr);
    uint64_t r = a64_fp_muladd(&f, A64_F64, a, n, m);
    st->fpsr |= f.exc;
    return r;
}

/* FCMP of two numbers (no NaN, no denormal that FZ would flush) raises
 * nothing: the host compare gives NZCV. */
static inline bool d_cmp_fast(const A64State *st, uint64_t a)
{
    return (a << 1) <= (0x7ff0000000000000ull << 1) && (d_plain(a) || !(st->fpcr & A64_FPCR_FZ));
}
static inline bool s_cmp_fast(const A64State *st, uint32_t a)
{
    return (a << 1) <= (0x7f800000u << 1) && (s_plain(a) || !(st->fpcr & A64_FPCR_FZ));
}
static uint32_t cmp_nzcv(double x, double y)
{
    return x == y ? 0x6 : x < y ? 0x8 : 0x2;
}

uint32_t helper_a64_fp_cmp_s(void *env, uint32_t a, uint32_t b, uint32_t e)
{
    A64State *st = env;
    if (e & 2)                       /* FCCMP, condition false */
        return (e >> 4) & 15;
    if (s_cmp_fast(st, a) && s_cmp_fast(st, b)) {
        float x, y;
        memcpy(&x, &a, 4), memcpy(&y, &b, 4);
        return cmp_nzcv(x, y);
    }
    A64Fp f = a64_fp_begin(st->fpcr);
    uint32_t r = a64_fp_compare(&f, A64_F32, a, b, e & 1);
    st->fpsr |= f.exc;
    return r;
}

uint32_t helper_a64_fp_cmp_d(void *env, uint64_t a, uint64_t b, uint32_t e)
{
    A64State *st = env;
    if (e & 2)                       /* FCCMP, condition false */
        return (e >> 4) & 15;
    if (d_cmp_fast(st, a) && d_cmp_fast(st, b)) {
        double x, y;
        memcpy(&x, &a, 8), memcpy(&y, &b, 8);
        return cmp_nzcv(x, y);
    }
    A64Fp f = a64_fp_begin(st->fpcr);
    uint32_t r = a64_fp_compare(&f, A64_F64, a, b, e & 1);
    st->fpsr |= f.exc;
    return r;
}

uint64_t helper_a64_fp_rint(void *env, uint64_t x, uint32_t desc)
{
    A64State *st = env;
    A64Fp f = a64_fp_begin(st->fpcr);
    uint64_t r = a64_fp_round_int(&f, (A64FpFmt)((desc >> 4) & 3), x,
                                  desc_rmode(&f, desc & 7), (desc >> 3) & 1);
    st->fpsr |= f.exc;
    return r;
}

uint64_t helper_a64_fp_cvt(void *env, uint64_t x, uint32_t desc)
{
    A64State *st = env;
    A64Fp f = a64_fp_begin(st->fpcr);
    uint64_t r = a64_fp_convert(&f, (A64FpFmt)(desc & 3), (A64FpFmt)((desc >> 4) & 3), x);
    st->fpsr |= f.exc;
    return r;
}

/* FCVTZ[SU] (no fraction bits) of a normal or zero whose truncation fits:
 * the host's truncating conversion, IXC if a fraction was dropped. */
static bool fast_toint(A64State *st, uint64_t x, uint32_t desc, uint64_t *out)
{
    A64FpFmt fmt = (A64FpFmt)(desc & 3);
    int rmode = (desc >> 2) & 7;
    if (desc >> 8 || (rmode == 7 ? (int)A64_FPCR_RMODE(st->fpcr) : rmode) != A64_RZ)
        return false;
    double v;
    if (fmt == A64_F64 && d_plain(x)) {
        memcpy(&v, &x, 8);
    } else if (fmt == A64_F32 && s_plain((uint32_t)x)) {
        float f;
        uint32_t x32 = (uint32_t)x;
        memcpy(&f, &x32, 4);
        v = f;
    } else {
        return false;
    }
    bool uns = (desc >> 5) & 1, wide = (desc >> 6) & 1;
    double t;
    if (uns) {                       /* (-1, 2^n): truncates into range */
        if (!(v > -1.0 && v < (wide ? 0x1p64 : 0x1p32)))
            return false;
        uint64_t u = v < 0 ? 0 : (uint64_t)v;   /* (uint64_t) of a negative is undefined */
        t = (double)u;
        *out = u;
    } else {                         /* (-2^(n-1) - 1, 2^(n-1)) */
        if (!(v > (wide ? -0x1p63 - 1.0 : -0x1p31 - 1.0) && v < (wide ? 0x1p63 : 0x1p31)))
            return false;
        int64_t i = (int64_t)v;
        t = (double)i;
        *out = wide ? (uint64_t)i : (uint32_t)i;
    }
    if (t != v)
        st->fpsr |= A64_FPSR_IXC;
    return true;
}

uint64_t helper_a64_fp_toint(void *env, uint64_t x, uint32_t desc)
{
    A64State *st = env;
    uint64_t fr;
    if (fast_toint(st, x, desc, &fr))
        return fr;
    A64Fp f = a64_fp_begin(st->fpcr);
    uint64_t r = a64_fp_to_int(&f, (A64FpFmt)(desc & 3), x, (int)(desc >> 8),
                               desc_rmode(&f, (desc >> 2) & 7), (desc >> 5) & 1,
                               (desc >> 6) & 1 ? 64 : 32);
    st->fpsr |= f.exc;
    return r;
}

/* [SU]CVTF (no fraction bits) of an integer the format holds exactly
 * (|v| < 2^24 or 2^53): no rounding, no flag, in any mode. */
static bool fast_fromint(uint64_t v, uint32_t desc, uint64_t *out)
{
    A64FpFmt fmt = (A64FpFmt)(desc & 3);
    if (desc >> 8 || fmt == A64_F16)
        return false;
    bool is_signed = (desc >> 5) & 1;
    if (!((desc >> 6) & 1))
        v = is_signed ? (uint64_t)(int64_t)(int32_t)v : (uint32_t)v;
    int64_t i = (int64_t)v;
    uint64_t mag = is_signed && i < 0 ? -v : v;
    if (mag >= (fmt == A64_F32 ? 1ull << 24 : 1ull << 53))
        return false;
    double d = is_signed ? (double)i : (double)v;
    if (fmt == A64_F32) {
        float f = (float)d;
        uint32_t b;
        memcpy(&b, &f, 4);
        *out = b;
    } else {
        memcpy(out, &d, 8);
    }
    return true;
}

uint64_t helper_a64_fp_fromint(void *env, uint64_t v, uint32_t desc)
{
    A64State *st = env;
    uint64_t fr;
    if (fast_fromint(v, desc, &fr))
        return fr;
    A64Fp f = a64_fp_begin(st->fpcr);
    uint64_t r = a64_fp_from_int(&f, (A64FpFmt)(desc & 3), v, (int)(desc >> 8), (desc >> 5) & 1,
                                 (desc >> 6) & 1 ? 64 : 32);
    st->fpsr |= f.exc;
    return r;
}
