/*
 * a64_fp_test.c - Check tests of the exact FP core (a64-fp-core.c).
 *
 * 1. Hand-picked bit patterns with known ARM results (NaN choice, FZ, DN,
 *    saturation, ties, FMA single rounding...).
 * 2. The guest test tests/guest/aarch64/fp-arith.c compiled on the host
 *    with FP_MODEL: its operations call the core instead of executing
 *    AArch64 instructions, and its output must equal fp-arith.expected
 *    (recorded from qemu-aarch64): ~300k cases of every scalar operation,
 *    in every rounding mode, with FZ and DN.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/aarch64/a64-cpu.h"
#include "frontend/aarch64/a64-fp-helpers.h"
#include "ir/ir-helpers.h"

/* ---- the model behind fp-arith.c ---------------------------------------- */
static uint32_t m_fpcr, m_fpsr;
static FILE *m_out;

static void set_fpcr(uint64_t v) { m_fpcr = (uint32_t)v; }
static void clr_fpsr(void) { m_fpsr = 0; }
static uint64_t get_fpsr(void) { return m_fpsr; }

static uint64_t m_bin(const char *insn, A64FpFmt fmt, uint64_t a, uint64_t b)
{
    static const struct { const char *n; A64FpOp op; } t[] = {
        { "fadd", A64_FP_ADD }, { "fsub", A64_FP_SUB }, { "fmul", A64_FP_MUL },
        { "fdiv", A64_FP_DIV }, { "fmax", A64_FP_MAX }, { "fmin", A64_FP_MIN },
        { "fmaxnm", A64_FP_MAXNM }, { "fminnm", A64_FP_MINNM }, { "fnmul", A64_FP_MUL },
        { "fabd", A64_FP_ABD },
    };
    A64Fp f = a64_fp_begin(m_fpcr);
    uint64_t r = 0;
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(insn, t[i].n))
            r = a64_fp_arith(&f, t[i].op, fmt, a, b);
    if (!strcmp(insn, "fnmul"))
        r ^= a64_fp_sign_bit(fmt);
    m_fpsr |= f.exc;
    return r;
}

static uint64_t m_fma(const char *insn, A64FpFmt fmt, uint64_t n, uint64_t m, uint64_t a)
{
    uint64_t sb = a64_fp_sign_bit(fmt);
    if (!strcmp(insn, "fmsub") || !strcmp(insn, "fnmadd"))
        n ^= sb;
    if (!strcmp(insn, "fnmadd") || !strcmp(insn, "fnmsub"))
        a ^= sb;
    A64Fp f = a64_fp_begin(m_fpcr);
    uint64_t r = a64_fp_muladd(&f, fmt, a, n, m);
    m_fpsr |= f.exc;
    return r;
}

static uint64_t m_un(const char *insn, const char *dst, A64FpFmt fmt, uint64_t x)
{
    A64Fp f = a64_fp_begin(m_fpcr);
    uint64_t r = 0, sb = a64_fp_sign_bit(fmt);
    if (!strcmp(insn, "fsqrt"))
        r = a64_fp_arith(&f, A64_FP_SQRT, fmt, x, x);
    else if (!strcmp(insn, "fabs"))
        r = x & ~sb;
    else if (!strcmp(insn, "fneg"))
        r = x ^ sb;
    else if (!strcmp(insn, "fcvt"))
        r = a64_fp_convert(&f, fmt, dst[0] == 'h' ? A64_F16 : dst[0] == 's' ? A64_F32 : A64_F64, x);
    else if (!strncmp(insn, "frint", 5)) {
        const char *modes = "npmzaxi";
        static const int rm[7] = { A64_RN, A64_RP, A64_RM, A64_RZ, A64_RA, -1, -1 };
        int i = (int)(strchr(modes, insn[5]) - modes);
        int mode = rm[i] < 0 ? a64_fp_rmode(&f) : rm[i];
        r = a64_fp_round_int(&f, fmt, x, mode, insn[5] == 'x');
    }
    m_fpsr |= f.exc;
    return r;
}

static uint64_t m_toint(const char *insn, const char *reg, A64FpFmt fmt, uint64_t x, int fbits)
{
    A64Fp f = a64_fp_begin(m_fpcr);
    static const char modes[] = "npmza";
    static const int rm[5] = { A64_RN, A64_RP, A64_RM, A64_RZ, A64_RA };
    int mode = rm[strchr(modes, insn[4]) - modes];
    uint64_t r = a64_fp_to_int(&f, fmt, x, fbits, mode, insn[5] == 'u', reg[0] == 'x' ? 64 : 32);
    m_fpsr |= f.exc;
    return r;
}

static uint64_t m_fromint(const char *insn, const char *reg, const char *dst, uint64_t v, int fbits)
{
    A64Fp f = a64_fp_begin(m_fpcr);
    uint64_t r = a64_fp_from_int(&f, dst[0] == 's' ? A64_F32 : A64_F64, v, fbits, insn[0] == 's',
                                 reg[0] == 'x' ? 64 : 32);
    m_fpsr |= f.exc;
    return r;
}

static uint64_t m_cmp(const char *insn, A64FpFmt fmt, uint64_t a, uint64_t b)
{
    A64Fp f = a64_fp_begin(m_fpcr);
    uint32_t nzcv;
    if (!strncmp(insn, "cmp", 3)) {
        /* "cmp a, b; fccmp(e) x, y, #imm, cond" with cond hi or lo */
        bool e = strstr(insn, "fccmpe") != NULL;
        bool hold = strstr(insn, ", hi") ? a > b : a < b;
        int imm = atoi(strchr(insn, '#') + 1);
        nzcv = hold ? a64_fp_compare(&f, fmt, a, b, e) : (uint32_t)imm;
    } else {
        if (strstr(insn, "#0.0"))
            b = 0;
        nzcv = a64_fp_compare(&f, fmt, a, b, !strncmp(insn, "fcmpe", 5));
    }
    m_fpsr |= f.exc;
    return (uint64_t)nzcv << 28;
}

#define FP_MODEL 1
#define D2(NAME, INSN)                                                           \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                     \
    {                                                                            \
        (void)c;                                                                 \
        return m_bin(INSN, A64_F64, a, b);                                       \
    }
#define S2(NAME, INSN)                                                           \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                     \
    {                                                                            \
        (void)c;                                                                 \
        return m_bin(INSN, A64_F32, a, b);                                       \
    }
#define D3(NAME, INSN)                                                           \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c) { return m_fma(INSN, A64_F64, a, b, c); }
#define S3(NAME, INSN)                                                           \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c) { return m_fma(INSN, A64_F32, a, b, c); }
#define D1(NAME, INSN, DST)                                                      \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                     \
    {                                                                            \
        (void)b, (void)c;                                                        \
        return m_un(INSN, DST, A64_F64, a);                                      \
    }
#define S1(NAME, INSN, DST)                                                      \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                     \
    {                                                                            \
        (void)b, (void)c;                                                        \
        return m_un(INSN, DST, A64_F32, a);                                      \
    }
#define DX(NAME, INSN, R)                                                        \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                     \
    {                                                                            \
        (void)b, (void)c;                                                        \
        return m_toint(INSN, R, A64_F64, a, 0);                                  \
    }
#define SX(NAME, INSN, R)                                                        \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                     \
    {                                                                            \
        (void)b, (void)c;                                                        \
        return m_toint(INSN, R, A64_F32, a, 0);                                  \
    }
#define XD(NAME, INSN, R, DST)                                                   \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                     \
    {                                                                            \
        (void)b, (void)c;                                                        \
        return m_fromint(INSN, R, DST, a, 0);                                    \
    }
#define DC(NAME, INSN)                                                           \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                     \
    {                                                                            \
        (void)c;                                                                 \
        return m_cmp(INSN, A64_F64, a, b);                                       \
    }
#define SC(NAME, INSN)                                                           \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                     \
    {                                                                            \
        (void)c;                                                                 \
        return m_cmp(INSN, A64_F32, a, b);                                       \
    }
static uint64_t fcvtzs_wd_fix(uint64_t a, uint64_t b, uint64_t c)
{
    return m_toint("fcvtzs", "w", A64_F64, a, 16);
}
static uint64_t fcvtzu_xs_fix(uint64_t a, uint64_t b, uint64_t c)
{
    return m_toint("fcvtzu", "x", A64_F32, a, 40);
}
static uint64_t scvtf_dx_fix(uint64_t a, uint64_t b, uint64_t c)
{
    return m_fromint("scvtf", "x", "d", a, 3);
}
static uint64_t ucvtf_sw_fix(uint64_t a, uint64_t b, uint64_t c)
{
    return m_fromint("ucvtf", "w", "s", a, 32);
}
#define printf(...) fprintf(m_out, __VA_ARGS__)
#include "tests/guest/aarch64/fp-arith.c"
#undef printf

/* Path of a file beside the tests/ tree of this source. */
static char *sibling(const char *rel)
{
    static char buf[4096];
    const char *f = __FILE__;
    const char *p = strstr(f, "tests/unit/");
    snprintf(buf, sizeof buf, "%.*s%s", p ? (int)(p - f) : 0, f, rel);
    return buf;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, r;
    do {
        if (n + 4096 > cap)
            buf = realloc(buf, cap = cap * 2 + 8192);
        r = fread(buf + n, 1, cap - n, fp);
        n += r;
    } while (r > 0);
    fclose(fp);
    *len = n;
    return buf;
}

START_TEST(test_fp_arith_matches_reference)
{
    char *out = NULL;
    size_t out_len = 0;
    m_out = open_memstream(&out, &out_len);
    ck_assert_ptr_nonnull(m_out);
    verbose = 0;
    fp_arith_run();
    fclose(m_out);
    size_t exp_len;
    char *exp = slurp(sibling("tests/guest/aarch64/fp-arith.expected"), &exp_len);
    ck_assert_msg(exp != NULL, "cannot read fp-arith.expected");
    /* Report the first differing line. */
    const char *a = out, *b = exp;
    while (*a && *b) {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
        ck_assert_msg(la == lb && !memcmp(a, b, la), "got  %.*s\nwant %.*s", (int)la, a, (int)lb, b);
        a += la + (ea != NULL);
        b += lb + (eb != NULL);
    }
    ck_assert_uint_eq(out_len, exp_len);
    free(out);
    free(exp);
}
END_TEST

/* ---- hand-picked cases -------------------------------------------------------- */
static uint64_t run2(uint32_t fpcr, A64FpOp op, A64FpFmt fmt, uint64_t a, uint64_t b, uint32_t *exc)
{
    A64Fp f = a64_fp_begin(fpcr);
    uint64_t r = a64_fp_arith(&f, op, fmt, a, b);
    *exc = f.exc;
    return r;
}

START_TEST(test_nan_propagation_prefers_snan_then_first)
{
    uint32_t e;
    /* QNaN op SNaN: the SNaN (second) wins, quieted, IOC. */
    ck_assert_uint_eq(run2(0, A64_FP_ADD, A64_F64, 0x7ff8000000000001ull, 0xfff0000000000002ull, &e),
                      0xfff8000000000002ull);
    ck_assert_uint_eq(e, A64_FPSR_IOC);
    /* Two QNaNs: the first. */
    ck_assert_uint_eq(run2(0, A64_FP_MUL, A64_F32, 0x7fc00001, 0xffc00002, &e), 0x7fc00001);
    ck_assert_uint_eq(e, 0);
    /* DN: default NaN, positive. */
    ck_assert_uint_eq(run2(A64_FPCR_DN, A64_FP_SUB, A64_F32, 0xffc00001, 0x3f800000, &e), 0x7fc00000);
    /* inf - inf: default NaN (x86 would give the negative one). */
    ck_assert_uint_eq(run2(0, A64_FP_SUB, A64_F64, 0x7ff0000000000000ull, 0x7ff0000000000000ull, &e),
                      0x7ff8000000000000ull);
    ck_assert_uint_eq(e, A64_FPSR_IOC);
}
END_TEST

START_TEST(test_min_max_zeros_and_nm)
{
    uint32_t e;
    ck_assert_uint_eq(run2(0, A64_FP_MIN, A64_F32, 0x00000000, 0x80000000, &e), 0x80000000);
    ck_assert_uint_eq(run2(0, A64_FP_MAX, A64_F32, 0x80000000, 0x00000000, &e), 0x00000000);
    /* maxnm(QNaN, 1) = 1, max(QNaN, 1) = QNaN. */
    ck_assert_uint_eq(run2(0, A64_FP_MAXNM, A64_F32, 0x7fc00000, 0x3f800000, &e), 0x3f800000);
    ck_assert_uint_eq(run2(0, A64_FP_MAX, A64_F32, 0x7fc00000, 0x3f800000, &e), 0x7fc00000);
    /* maxnm(SNaN, 1): quieted SNaN, IOC. */
    ck_assert_uint_eq(run2(0, A64_FP_MAXNM, A64_F32, 0x7f800001, 0x3f800000, &e), 0x7fc00001);
    ck_assert_uint_eq(e, A64_FPSR_IOC);
}
END_TEST

START_TEST(test_flush_to_zero_inputs_and_outputs)
{
    uint32_t e;
    /* FZ: denormal input reads as zero (IDC). */
    ck_assert_uint_eq(run2(A64_FPCR_FZ, A64_FP_ADD, A64_F32, 0x00000001, 0x00000000, &e), 0);
    ck_assert_uint_eq(e, A64_FPSR_IDC);
    /* FZ: tiny result flushes to zero with UFC only (no IXC). */
    ck_assert_uint_eq(run2(A64_FPCR_FZ, A64_FP_MUL, A64_F64, 0x1ff0000000000000ull,
                           0x1ff0000000000000ull, &e), 0);
    ck_assert_uint_eq(e, A64_FPSR_UFC);
    /* Without FZ: denormal, UFC|IXC. */
    run2(0, A64_FP_MUL, A64_F64, 0x2000000000000001ull, 0x1ff0000000000001ull, &e);
    ck_assert_uint_eq(e, A64_FPSR_UFC | A64_FPSR_IXC);
}
END_TEST

START_TEST(test_tininess_before_rounding)
{
    /* (2^-126 - 2^-150) rounds up to the smallest normal in RN: ARM says
     * tiny (before rounding) -> UFC; x86 would not set UE. */
    uint32_t e;
    uint64_t r = run2(0, A64_FP_SUB, A64_F32, 0x00800000, 0x00000001, &e);  /* exact: no */
    ck_assert_uint_eq(r, 0x007fffff);
    ck_assert_uint_eq(e, 0);
    /* 0x00ffffff * 0.5 = 0x007fffff.8 -> rounds to 0x00800000, tiny, inexact */
    r = run2(0, A64_FP_MUL, A64_F32, 0x00ffffff, 0x3f000000, &e);
    ck_assert_uint_eq(r, 0x00800000);
    ck_assert_uint_eq(e, A64_FPSR_UFC | A64_FPSR_IXC);
}
END_TEST

START_TEST(test_conversions_saturate)
{
    A64Fp f = a64_fp_begin(0);
    ck_assert_uint_eq(a64_fp_to_int(&f, A64_F64, 0x7ff8000000000000ull, 0, A64_RZ, false, 64), 0);
    ck_assert_uint_eq(f.exc, A64_FPSR_IOC);
    f = a64_fp_begin(0);
    ck_assert_uint_eq(a64_fp_to_int(&f, A64_F64, 0x43e0000000000000ull, 0, A64_RZ, false, 64),
                      0x7fffffffffffffffull);
    ck_assert_uint_eq(f.exc, A64_FPSR_IOC);
    f = a64_fp_begin(0);
    ck_assert_uint_eq(a64_fp_to_int(&f, A64_F32, 0xbf800000, 0, A64_RZ, true, 32), 0);
    ck_assert_uint_eq(f.exc, A64_FPSR_IOC);
    f = a64_fp_begin(0);   /* -0.5 -> unsigned 0, inexact only */
    ck_assert_uint_eq(a64_fp_to_int(&f, A64_F32, 0xbf000000, 0, A64_RZ, true, 32), 0);
    ck_assert_uint_eq(f.exc, A64_FPSR_IXC);
    f = a64_fp_begin(0);   /* 2.5 ties: RN -> 2, RA -> 3 */
    ck_assert_uint_eq(a64_fp_to_int(&f, A64_F64, 0x4004000000000000ull, 0, A64_RN, false, 32), 2);
    ck_assert_uint_eq(a64_fp_to_int(&f, A64_F64, 0x4004000000000000ull, 0, A64_RA, false, 32), 3);
    f = a64_fp_begin(0);   /* UINT64_MAX -> float: rounds to 2^64 */
    ck_assert_uint_eq(a64_fp_from_int(&f, A64_F32, ~0ull, 0, false, 64), 0x5f800000);
    ck_assert_uint_eq(f.exc, A64_FPSR_IXC);
}
END_TEST

START_TEST(test_fma_single_rounding)
{
    /* (1 + 2^-52)^2 - 1 - 2^-51 = 2^-104 exactly with one rounding; a
     * separate multiply would round the product and give 0. */
    A64Fp f = a64_fp_begin(0);
    uint64_t one_eps = 0x3ff0000000000001ull;
    uint64_t addend = 0xbff0000000000002ull;   /* -(1 + 2^-51) */
    ck_assert_uint_eq(a64_fp_muladd(&f, A64_F64, addend, one_eps, one_eps), 0x3970000000000000ull);
    ck_assert_uint_eq(f.exc, 0);
    /* 0 * inf + QNaN: default NaN and IOC. */
    f = a64_fp_begin(0);
    ck_assert_uint_eq(a64_fp_muladd(&f, A64_F32, 0x7fc00001, 0, 0x7f800000), 0x7fc00000);
    ck_assert_uint_eq(f.exc, A64_FPSR_IOC);
}
END_TEST

START_TEST(test_half_conversions)
{
    A64Fp f = a64_fp_begin(0);
    ck_assert_uint_eq(a64_fp_convert(&f, A64_F32, A64_F16, 0x3f800000), 0x3c00);
    ck_assert_uint_eq(a64_fp_convert(&f, A64_F16, A64_F64, 0x0001), 0x3e70000000000000ull);
    ck_assert_uint_eq(f.exc, 0);
    ck_assert_uint_eq(a64_fp_convert(&f, A64_F32, A64_F16, 0x47800000), 0x7c00);  /* 65536: inf */
    ck_assert_uint_eq(f.exc, A64_FPSR_OFC | A64_FPSR_IXC);
}
END_TEST

START_TEST(test_fast_path_falls_back_at_the_edges)
{
    /* With FPSR.IXC set and round-to-nearest the helpers use the host
     * directly; results at the edges must still get ARM's flags. */
    static A64State st;
    st.fpcr = 0;
    st.fpsr = A64_FPSR_IXC;
    /* 0x00ffffff * 0.5 rounds up to the smallest normal: tiny before rounding */
    ck_assert_uint_eq(helper_a64_fp_bin_s(&st, 0x00ffffff, 0x3f000000, A64_FP_MUL), 0x00800000);
    ck_assert_uint_eq(st.fpsr, A64_FPSR_IXC | A64_FPSR_UFC);
    st.fpsr = A64_FPSR_IXC;
    /* overflow: inf and OFC */
    ck_assert_uint_eq(helper_a64_fp_bin_d(&st, 0x7fefffffffffffffull, 0x4000000000000000ull, A64_FP_MUL),
                      0x7ff0000000000000ull);
    ck_assert_uint_eq(st.fpsr, A64_FPSR_IXC | A64_FPSR_OFC);
    st.fpsr = A64_FPSR_IXC;
    /* ordinary case: 1/3, nothing new */
    ck_assert_uint_eq(helper_a64_fp_bin_d(&st, 0x3ff0000000000000ull, 0x4008000000000000ull, A64_FP_DIV),
                      0x3fd5555555555555ull);
    ck_assert_uint_eq(st.fpsr, A64_FPSR_IXC);
    /* FMA with a denormal addend and FZ: flushed (IDC), not the host's answer */
    st.fpcr = A64_FPCR_FZ;
    ck_assert_uint_eq(helper_a64_fp_muladd_d(&st, 0x0000000000000001ull, 0x3ff0000000000000ull,
                                             0x3ff0000000000000ull), 0x3ff0000000000000ull);
    ck_assert_uint_eq(st.fpsr, A64_FPSR_IXC | A64_FPSR_IDC);
}
END_TEST


/* ---- the helpers' host fast paths against the exact core ------------------ */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return rng_state;
}

/* Operands the fast paths take and the edges they must refuse: random bits,
 * small integers, halves and thirds, powers of two, huge and tiny numbers. */
static uint64_t operand_d(void)
{
    double d;
    uint64_t b;
    switch (rnd() % 8) {
    case 0:  return rnd();
    case 1:  d = (double)((int64_t)(rnd() % 2001) - 1000); break;
    case 2:  d = (double)((int64_t)(rnd() % 2001) - 1000) / (double)(1 + rnd() % 7); break;
    case 3:  b = (uint64_t)(1023 + (int)(rnd() % 130) - 65) << 52; memcpy(&d, &b, 8); break;
    case 4:  return (rnd() & 0x800fffffffffffffull) | (uint64_t)(rnd() % 3 ? 2046 : 1) << 52;
    case 5:  return rnd() & 0x800fffffffffffffull;                 /* denormal or zero */
    case 6:  d = (double)(int64_t)rnd() / (double)(1ull << (rnd() % 64)); break;
    default: { static const uint64_t sp[] = { 0, 1ull << 63, 0x7ff0000000000000ull,
                   0xfff0000000000000ull, 0x7ff8000000000000ull, 0x7ff4000000000000ull,
                   0x0010000000000000ull, 0x43e0000000000000ull, 0xc3e0000000000000ull,
                   0x41e0000000000000ull, 0xc1e0000000200000ull, 0x43f0000000000000ull };
               return sp[rnd() % (sizeof sp / sizeof sp[0])]; }
    }
    memcpy(&b, &d, 8);
    return b;
}

static uint32_t operand_s(void)
{
    uint64_t d = operand_d();
    if (rnd() % 4 == 0)
        return (uint32_t)rnd();
    A64Fp f = a64_fp_begin(0);
    return (uint32_t)a64_fp_convert(&f, A64_F64, A64_F32, d);
}

static const uint32_t mode_fpcrs[] = { 0, 1u << 22, 2u << 22, 3u << 22, A64_FPCR_FZ, 1u << 25 };

START_TEST(test_fast_paths_match_the_core)
{
    static A64State st;
    for (int i = 0; i < 400000; i++) {
        uint32_t fpcr = mode_fpcrs[rnd() % 6], fpsr0 = rnd() % 2 ? A64_FPSR_IXC : 0;
        A64Fp f = a64_fp_begin(fpcr);
        uint64_t want, got;
        st.fpcr = fpcr, st.fpsr = fpsr0;
        switch (rnd() % 6) {
        case 0: {                                   /* double arithmetic */
            uint32_t op = (uint32_t[]){ A64_FP_ADD, A64_FP_SUB, A64_FP_MUL, A64_FP_DIV, A64_FP_SQRT }[rnd() % 5];
            uint64_t a = operand_d(), b = operand_d();
            want = a64_fp_arith(&f, (A64FpOp)op, A64_F64, a, b);
            got = helper_a64_fp_bin_d(&st, a, b, op);
            ck_assert_msg(got == want && st.fpsr == (fpsr0 | f.exc),
                          "op %u %016lx %016lx fpcr %x fpsr %x: %016lx/%x, core %016lx/%x", op,
                          a, b, fpcr, fpsr0, got, st.fpsr, want, fpsr0 | f.exc);
            break;
        }
        case 1: {                                   /* single arithmetic */
            uint32_t op = (uint32_t[]){ A64_FP_ADD, A64_FP_SUB, A64_FP_MUL, A64_FP_DIV, A64_FP_SQRT }[rnd() % 5];
            uint32_t a = operand_s(), b = operand_s();
            want = a64_fp_arith(&f, (A64FpOp)op, A64_F32, a, b);
            got = helper_a64_fp_bin_s(&st, a, b, op);
            ck_assert_msg(got == want && st.fpsr == (fpsr0 | f.exc),
                          "op %u %08x %08x fpcr %x fpsr %x: %08lx/%x, core %08lx/%x", op, a, b,
                          fpcr, fpsr0, got, st.fpsr, want, fpsr0 | f.exc);
            break;
        }
        case 2: {                                   /* compares, FCMP and FCMPE */
            bool dbl = rnd() % 2, sig = rnd() % 2;
            uint64_t a = dbl ? operand_d() : operand_s(), b = dbl ? operand_d() : operand_s();
            if (rnd() % 4 == 0)
                b = a;
            want = a64_fp_compare(&f, dbl ? A64_F64 : A64_F32, a, b, sig);
            got = dbl ? helper_a64_fp_cmp_d(&st, a, b, sig) : helper_a64_fp_cmp_s(&st, (uint32_t)a, (uint32_t)b, sig);
            ck_assert_msg(got == want && st.fpsr == (fpsr0 | f.exc), "cmp %d %lx %lx fpcr %x", dbl, a, b, fpcr);
            break;
        }
        case 3: {                                   /* float -> integer, every mode */
            bool dbl = rnd() % 2, uns = rnd() % 2, sf = rnd() % 2;
            int rmode = (int[]){ A64_RN, A64_RP, A64_RM, A64_RZ, A64_RZ, A64_RA, 7, 7 }[rnd() % 8];
            uint64_t x = dbl ? operand_d() : operand_s();
            uint32_t desc = (dbl ? A64_F64 : A64_F32) | rmode << 2 | uns << 5 | sf << 6;
            want = a64_fp_to_int(&f, dbl ? A64_F64 : A64_F32, x, 0, rmode == 7 ? a64_fp_rmode(&f) : rmode,
                                 uns, sf ? 64 : 32);
            got = helper_a64_fp_toint(&st, x, desc);
            ck_assert_msg(got == want && st.fpsr == (fpsr0 | f.exc), "toint %lx desc %x fpcr %x: %lx/%x, core %lx/%x",
                          x, desc, fpcr, got, st.fpsr, want, fpsr0 | f.exc);
            break;
        }
        default: {                                  /* integer -> float */
            bool dbl = rnd() % 2, sgn = rnd() % 2, sf = rnd() % 2;
            uint64_t v = rnd() >> (rnd() % 64);
            if (rnd() % 2)
                v = -v;
            uint32_t desc = (dbl ? A64_F64 : A64_F32) | sgn << 5 | sf << 6;
            want = a64_fp_from_int(&f, dbl ? A64_F64 : A64_F32, v, 0, sgn, sf ? 64 : 32);
            got = helper_a64_fp_fromint(&st, v, desc);
            if (!dbl)
                got = (uint32_t)got;
            ck_assert_msg(got == want && st.fpsr == (fpsr0 | f.exc), "fromint %lx desc %x fpcr %x: %lx/%x, core %lx/%x",
                          v, desc, fpcr, got, st.fpsr, want, fpsr0 | f.exc);
            break;
        }
        }
    }
}
END_TEST

int main(void)
{
    /* A64_FP_DUMP=1: print every fp-arith case (compare with the guest's -v). */
    if (getenv("A64_FP_DUMP")) {
        m_out = stdout;
        verbose = 1;
        return fp_arith_run();
    }
    Suite *s = suite_create("a64_fp");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_nan_propagation_prefers_snan_then_first);
    tcase_add_test(tc, test_min_max_zeros_and_nm);
    tcase_add_test(tc, test_flush_to_zero_inputs_and_outputs);
    tcase_add_test(tc, test_tininess_before_rounding);
    tcase_add_test(tc, test_conversions_saturate);
    tcase_add_test(tc, test_fma_single_rounding);
    tcase_add_test(tc, test_half_conversions);
    tcase_add_test(tc, test_fast_path_falls_back_at_the_edges);
    tcase_add_test(tc, test_fast_paths_match_the_core);
    tcase_add_test(tc, test_fp_arith_matches_reference);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
