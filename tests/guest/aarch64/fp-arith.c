/*
 * fp-arith.c - scalar floating point against edge values in every rounding
 * mode, with flush-to-zero and default-NaN: results and FPSR bits.
 * Without arguments it prints one FNV-1a hash per (operation, FPCR) group;
 * with -v it prints every case ("op fpcr a b c -> result fpsr").
 * Built with FP_MODEL defined (tests/unit/a64_fp_test.c), the operations and
 * the FPCR/FPSR accessors come from the includer instead of inline asm, so
 * the emulator's FP core is checked against the same expected output.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int verbose;
static uint64_t hash;
static void hmix(uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        hash ^= (v >> (8 * i)) & 0xff;
        hash *= 0x100000001b3ull;
    }
}

#ifndef FP_MODEL
static inline void set_fpcr(uint64_t v) { __asm__ volatile("msr fpcr, %0" : : "r"(v)); }
static inline void clr_fpsr(void) { __asm__ volatile("msr fpsr, xzr"); }
static inline uint64_t get_fpsr(void)
{
    uint64_t v;
    __asm__ volatile("mrs %0, fpsr" : "=r"(v));
    return v;
}
#endif

static const uint64_t dvals[] = {
    0x0000000000000000, 0x8000000000000000, 0x3ff0000000000000, 0xbff0000000000000,
    0x4000000000000000, 0x3fe0000000000000, 0x3ff8000000000000, 0xc004000000000000,
    0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000, 0xfff8000000000123,
    0x7ff0000000000001, 0xfff4000000000456, 0x0000000000000001, 0x800fffffffffffff,
    0x0010000000000000, 0x8010000000000001, 0x7fefffffffffffff, 0xffefffffffffffff,
    0x3ff0000000000001, 0x3cb0000000000000, 0x43e0000000000000, 0xc3e0000000000001,
    0x41dfffffffc00000, 0xc1e0000000000000, 0x41efffffffe00001, 0x4330000000000001,
    0x3fdfffffffffffff, 0x4004000000000000, 0x400c000000000000, 0x3810000000000000,
    0x36a0000000000000, 0x47efffffe0000000, 0x3fd5555555555555, 0x0008000000000000,
};
static const uint32_t svals[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x40000000, 0x3f000000, 0x3fc00000,
    0xc0200000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00123, 0x7f800001, 0xffa00456,
    0x00000001, 0x807fffff, 0x00800000, 0x80800001, 0x7f7fffff, 0xff7fffff, 0x3f800001,
    0x33800000, 0x5f000000, 0xdf000001, 0x4effffff, 0xcf000000, 0x4f800000, 0x4b000001,
    0x3effffff, 0x40200000, 0x40600000, 0x00400000, 0x3eaaaaab, 0x4b7fffff,
};
#define ND (sizeof dvals / sizeof dvals[0])
#define NS (sizeof svals / sizeof svals[0])

/* FPCR settings: RN, RP, RM, RZ, RN+FZ, RN+DN, RP+FZ+DN. */
static const uint64_t fpcrs[] = { 0, 1u << 22, 2u << 22, 3u << 22, 1u << 24, 1u << 25,
                                  (1u << 22) | (1u << 24) | (1u << 25) };
#define NF (sizeof fpcrs / sizeof fpcrs[0])

static void report(const char *op, int fi, uint64_t a, uint64_t b, uint64_t c, uint64_t r,
                   uint64_t fpsr)
{
    if (verbose)
        printf("%s %llx %llx %llx %llx -> %llx %llx\n", op, (unsigned long long)fpcrs[fi],
               (unsigned long long)a, (unsigned long long)b, (unsigned long long)c,
               (unsigned long long)r, (unsigned long long)fpsr);
    hmix(r);
    hmix(fpsr);
}

static void group_end(const char *op, int fi)
{
    if (!verbose)
        printf("%-10s fpcr=%08llx %016llx\n", op, (unsigned long long)fpcrs[fi],
               (unsigned long long)hash);
}

#ifndef FP_MODEL
#define D2(NAME, INSN)                                                               \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                         \
    {                                                                                \
        uint64_t r;                                                                  \
        (void)c;                                                                     \
        __asm__ volatile("fmov d0, %1\n\tfmov d1, %2\n\t" INSN " d0, d0, d1\n\tfmov %0, d0" \
                         : "=r"(r) : "r"(a), "r"(b) : "v0", "v1");                  \
        return r;                                                                    \
    }
#define S2(NAME, INSN)                                                               \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                         \
    {                                                                                \
        uint32_t r;                                                                  \
        (void)c;                                                                     \
        __asm__ volatile("fmov s0, %w1\n\tfmov s1, %w2\n\t" INSN " s0, s0, s1\n\tfmov %w0, s0" \
                         : "=r"(r) : "r"(a), "r"(b) : "v0", "v1");                  \
        return r;                                                                    \
    }
#define D1(NAME, INSN, DST)                                                          \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                         \
    {                                                                                \
        uint64_t r;                                                                  \
        (void)b, (void)c;                                                            \
        __asm__ volatile("movi v0.2d, #0\n\tfmov d1, %1\n\t" INSN " " DST "0, d1\n\tfmov %0, d0" \
                         : "=r"(r) : "r"(a) : "v0", "v1");                          \
        return r;                                                                    \
    }
#define S1(NAME, INSN, DST)                                                          \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                         \
    {                                                                                \
        uint64_t r;                                                                  \
        (void)b, (void)c;                                                            \
        __asm__ volatile("movi v0.2d, #0\n\tfmov s1, %w1\n\t" INSN " " DST "0, s1\n\tfmov %0, d0" \
                         : "=r"(r) : "r"(a) : "v0", "v1");                          \
        return r;                                                                    \
    }
#define D3(NAME, INSN)                                                               \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                         \
    {                                                                                \
        uint64_t r;                                                                  \
        __asm__ volatile("fmov d0, %1\n\tfmov d1, %2\n\tfmov d2, %3\n\t" INSN " d0, d0, d1, d2\n\tfmov %0, d0" \
                         : "=r"(r) : "r"(a), "r"(b), "r"(c) : "v0", "v1", "v2");    \
        return r;                                                                    \
    }
#define S3(NAME, INSN)                                                               \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                         \
    {                                                                                \
        uint32_t r;                                                                  \
        __asm__ volatile("fmov s0, %w1\n\tfmov s1, %w2\n\tfmov s2, %w3\n\t" INSN " s0, s0, s1, s2\n\tfmov %w0, s0" \
                         : "=r"(r) : "r"(a), "r"(b), "r"(c) : "v0", "v1", "v2");    \
        return r;                                                                    \
    }
/* float -> general register */
#define DX(NAME, INSN, R)                                                            \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                         \
    {                                                                                \
        uint64_t r = 0x5555555555555555ull;                                          \
        (void)b, (void)c;                                                            \
        __asm__ volatile("fmov d1, %1\n\t" INSN " %" R "0, d1" : "+r"(r) : "r"(a) : "v1"); \
        return r;                                                                    \
    }
#define SX(NAME, INSN, R)                                                            \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                         \
    {                                                                                \
        uint64_t r = 0x5555555555555555ull;                                          \
        (void)b, (void)c;                                                            \
        __asm__ volatile("fmov s1, %w1\n\t" INSN " %" R "0, s1" : "+r"(r) : "r"(a) : "v1"); \
        return r;                                                                    \
    }
/* general register -> float (whole V register returned as D) */
#define XD(NAME, INSN, R, DST)                                                       \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                         \
    {                                                                                \
        uint64_t r;                                                                  \
        (void)b, (void)c;                                                            \
        __asm__ volatile("movi v0.2d, #0\n\t" INSN " " DST "0, %" R "1\n\tfmov %0, d0" \
                         : "=r"(r) : "r"(a) : "v0");                                 \
        return r;                                                                    \
    }
/* compares: NZCV */
#define DC(NAME, INSN)                                                               \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                         \
    {                                                                                \
        uint64_t r;                                                                  \
        (void)c;                                                                     \
        __asm__ volatile("fmov d0, %1\n\tfmov d1, %2\n\t" INSN "\n\tmrs %0, nzcv"   \
                         : "=r"(r) : "r"(a), "r"(b) : "v0", "v1", "cc");            \
        return r;                                                                    \
    }
#define SC(NAME, INSN)                                                               \
    static uint64_t NAME(uint64_t a, uint64_t b, uint64_t c)                         \
    {                                                                                \
        uint64_t r;                                                                  \
        (void)c;                                                                     \
        __asm__ volatile("fmov s0, %w1\n\tfmov s1, %w2\n\t" INSN "\n\tmrs %0, nzcv" \
                         : "=r"(r) : "r"(a), "r"(b) : "v0", "v1", "cc");            \
        return r;                                                                    \
    }
#endif

D2(fadd_d, "fadd") D2(fsub_d, "fsub") D2(fmul_d, "fmul") D2(fdiv_d, "fdiv")
D2(fmax_d, "fmax") D2(fmin_d, "fmin") D2(fmaxnm_d, "fmaxnm") D2(fminnm_d, "fminnm")
D2(fnmul_d, "fnmul") D2(fabd_d, "fabd")
S2(fadd_s, "fadd") S2(fsub_s, "fsub") S2(fmul_s, "fmul") S2(fdiv_s, "fdiv")
S2(fmax_s, "fmax") S2(fmin_s, "fmin") S2(fmaxnm_s, "fmaxnm") S2(fminnm_s, "fminnm")
S2(fnmul_s, "fnmul")
D3(fmadd_d, "fmadd") D3(fmsub_d, "fmsub") D3(fnmadd_d, "fnmadd") D3(fnmsub_d, "fnmsub")
S3(fmadd_s, "fmadd") S3(fmsub_s, "fmsub") S3(fnmadd_s, "fnmadd") S3(fnmsub_s, "fnmsub")
D1(fsqrt_d, "fsqrt", "d") D1(fabs_d, "fabs", "d") D1(fneg_d, "fneg", "d")
D1(frintn_d, "frintn", "d") D1(frintp_d, "frintp", "d") D1(frintm_d, "frintm", "d")
D1(frintz_d, "frintz", "d") D1(frinta_d, "frinta", "d") D1(frintx_d, "frintx", "d")
D1(frinti_d, "frinti", "d") D1(fcvt_sd, "fcvt", "s") D1(fcvt_hd, "fcvt", "h")
S1(fsqrt_s, "fsqrt", "s") S1(fabs_s, "fabs", "s") S1(fneg_s, "fneg", "s")
S1(frintn_s, "frintn", "s") S1(frintp_s, "frintp", "s") S1(frintm_s, "frintm", "s")
S1(frintz_s, "frintz", "s") S1(frinta_s, "frinta", "s") S1(frintx_s, "frintx", "s")
S1(frinti_s, "frinti", "s") S1(fcvt_ds, "fcvt", "d") S1(fcvt_hs, "fcvt", "h")
DX(fcvtzs_xd, "fcvtzs", "x") DX(fcvtzu_xd, "fcvtzu", "x") DX(fcvtzs_wd, "fcvtzs", "w")
DX(fcvtzu_wd, "fcvtzu", "w") DX(fcvtns_xd, "fcvtns", "x") DX(fcvtnu_wd, "fcvtnu", "w")
DX(fcvtas_wd, "fcvtas", "w") DX(fcvtau_xd, "fcvtau", "x") DX(fcvtps_xd, "fcvtps", "x")
DX(fcvtpu_wd, "fcvtpu", "w") DX(fcvtms_wd, "fcvtms", "w") DX(fcvtmu_xd, "fcvtmu", "x")
SX(fcvtzs_xs, "fcvtzs", "x") SX(fcvtzu_ws, "fcvtzu", "w") SX(fcvtns_ws, "fcvtns", "w")
SX(fcvtau_ws, "fcvtau", "w") SX(fcvtms_xs, "fcvtms", "x")
DC(fcmp_d, "fcmp d0, d1") DC(fcmpe_d, "fcmpe d0, d1") DC(fcmp0_d, "fcmp d0, #0.0")
SC(fcmp_s, "fcmp s0, s1") SC(fcmpe_s, "fcmpe s0, s1")
DC(fccmp_d, "cmp %1, %2\n\tfccmp d0, d1, #5, hi") SC(fccmpe_s, "cmp %1, %2\n\tfccmpe s0, s1, #9, lo")
XD(scvtf_dx, "scvtf", "x", "d") XD(ucvtf_dx, "ucvtf", "x", "d") XD(scvtf_sw, "scvtf", "w", "s")
XD(ucvtf_sw, "ucvtf", "w", "s") XD(scvtf_sx, "scvtf", "x", "s") XD(ucvtf_sx, "ucvtf", "x", "s")
XD(ucvtf_dw, "ucvtf", "w", "d")
/* fixed point */
#ifndef FP_MODEL
static uint64_t fcvtzs_wd_fix(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t r;
    (void)b, (void)c;
    __asm__ volatile("fmov d1, %1\n\tfcvtzs %w0, d1, #16" : "=r"(r) : "r"(a) : "v1");
    return r;
}
static uint64_t fcvtzu_xs_fix(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t r;
    (void)b, (void)c;
    __asm__ volatile("fmov s1, %w1\n\tfcvtzu %x0, s1, #40" : "=r"(r) : "r"(a) : "v1");
    return r;
}
static uint64_t scvtf_dx_fix(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t r;
    (void)b, (void)c;
    __asm__ volatile("scvtf d0, %1, #3\n\tfmov %0, d0" : "=r"(r) : "r"(a) : "v0");
    return r;
}
static uint64_t ucvtf_sw_fix(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t r;
    (void)b, (void)c;
    __asm__ volatile("ucvtf s0, %w1, #32\n\tfmov %0, d0" : "=r"(r) : "r"(a) : "v0");
    return r;
}
#endif

typedef uint64_t (*OpFn)(uint64_t, uint64_t, uint64_t);
typedef struct { const char *name; OpFn fn; int dbl, nargs; } Op;
static const Op ops[] = {
    { "fadd_d", fadd_d, 1, 2 }, { "fsub_d", fsub_d, 1, 2 }, { "fmul_d", fmul_d, 1, 2 },
    { "fdiv_d", fdiv_d, 1, 2 }, { "fmax_d", fmax_d, 1, 2 }, { "fmin_d", fmin_d, 1, 2 },
    { "fmaxnm_d", fmaxnm_d, 1, 2 }, { "fminnm_d", fminnm_d, 1, 2 }, { "fnmul_d", fnmul_d, 1, 2 },
    { "fabd_d", fabd_d, 1, 2 },
    { "fadd_s", fadd_s, 0, 2 }, { "fsub_s", fsub_s, 0, 2 }, { "fmul_s", fmul_s, 0, 2 },
    { "fdiv_s", fdiv_s, 0, 2 }, { "fmax_s", fmax_s, 0, 2 }, { "fmin_s", fmin_s, 0, 2 },
    { "fmaxnm_s", fmaxnm_s, 0, 2 }, { "fminnm_s", fminnm_s, 0, 2 }, { "fnmul_s", fnmul_s, 0, 2 },
    { "fmadd_d", fmadd_d, 1, 3 }, { "fmsub_d", fmsub_d, 1, 3 }, { "fnmadd_d", fnmadd_d, 1, 3 },
    { "fnmsub_d", fnmsub_d, 1, 3 }, { "fmadd_s", fmadd_s, 0, 3 }, { "fmsub_s", fmsub_s, 0, 3 },
    { "fnmadd_s", fnmadd_s, 0, 3 }, { "fnmsub_s", fnmsub_s, 0, 3 },
    { "fsqrt_d", fsqrt_d, 1, 1 }, { "fabs_d", fabs_d, 1, 1 }, { "fneg_d", fneg_d, 1, 1 },
    { "frintn_d", frintn_d, 1, 1 }, { "frintp_d", frintp_d, 1, 1 }, { "frintm_d", frintm_d, 1, 1 },
    { "frintz_d", frintz_d, 1, 1 }, { "frinta_d", frinta_d, 1, 1 }, { "frintx_d", frintx_d, 1, 1 },
    { "frinti_d", frinti_d, 1, 1 }, { "fcvt_sd", fcvt_sd, 1, 1 }, { "fcvt_hd", fcvt_hd, 1, 1 },
    { "fsqrt_s", fsqrt_s, 0, 1 }, { "fabs_s", fabs_s, 0, 1 }, { "fneg_s", fneg_s, 0, 1 },
    { "frintn_s", frintn_s, 0, 1 }, { "frintp_s", frintp_s, 0, 1 }, { "frintm_s", frintm_s, 0, 1 },
    { "frintz_s", frintz_s, 0, 1 }, { "frinta_s", frinta_s, 0, 1 }, { "frintx_s", frintx_s, 0, 1 },
    { "frinti_s", frinti_s, 0, 1 }, { "fcvt_ds", fcvt_ds, 0, 1 }, { "fcvt_hs", fcvt_hs, 0, 1 },
    { "fcvtzs_xd", fcvtzs_xd, 1, 1 }, { "fcvtzu_xd", fcvtzu_xd, 1, 1 },
    { "fcvtzs_wd", fcvtzs_wd, 1, 1 }, { "fcvtzu_wd", fcvtzu_wd, 1, 1 },
    { "fcvtns_xd", fcvtns_xd, 1, 1 }, { "fcvtnu_wd", fcvtnu_wd, 1, 1 },
    { "fcvtas_wd", fcvtas_wd, 1, 1 }, { "fcvtau_xd", fcvtau_xd, 1, 1 },
    { "fcvtps_xd", fcvtps_xd, 1, 1 }, { "fcvtpu_wd", fcvtpu_wd, 1, 1 },
    { "fcvtms_wd", fcvtms_wd, 1, 1 }, { "fcvtmu_xd", fcvtmu_xd, 1, 1 },
    { "fcvtzs_xs", fcvtzs_xs, 0, 1 }, { "fcvtzu_ws", fcvtzu_ws, 0, 1 },
    { "fcvtns_ws", fcvtns_ws, 0, 1 }, { "fcvtau_ws", fcvtau_ws, 0, 1 },
    { "fcvtms_xs", fcvtms_xs, 0, 1 },
    { "fcvtzs_wd16", fcvtzs_wd_fix, 1, 1 }, { "fcvtzu_xs40", fcvtzu_xs_fix, 0, 1 },
    { "fcmp_d", fcmp_d, 1, 2 }, { "fcmpe_d", fcmpe_d, 1, 2 }, { "fcmp0_d", fcmp0_d, 1, 1 },
    { "fcmp_s", fcmp_s, 0, 2 }, { "fcmpe_s", fcmpe_s, 0, 2 },
    { "fccmp_d", fccmp_d, 1, 2 }, { "fccmpe_s", fccmpe_s, 0, 2 },
};
#define NOPS (sizeof ops / sizeof ops[0])

/* Integers for the int->float conversions. */
static const uint64_t ivals[] = {
    0, 1, 2, 3, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull, 0x7fffffffffffffffull,
    0x8000000000000000ull, 0xffffffffffffffffull, 0x1000001, 0x1000003, 0xfffffffffffffbffull,
    0x20000000000003ull, 0x20000000000005ull, 0x7ffffffffffffdffull, 0xfffffe8000000000ull,
    0xffffffff7fffffffull, 12345678901234567ull, 0x800000,
};
typedef struct { const char *name; OpFn fn; } IOp;
static const IOp iops[] = {
    { "scvtf_dx", scvtf_dx }, { "ucvtf_dx", ucvtf_dx }, { "scvtf_sw", scvtf_sw },
    { "ucvtf_sw", ucvtf_sw }, { "scvtf_sx", scvtf_sx }, { "ucvtf_sx", ucvtf_sx },
    { "ucvtf_dw", ucvtf_dw }, { "scvtf_dx3", scvtf_dx_fix }, { "ucvtf_sw32", ucvtf_sw_fix },
};

static int fp_arith_run(void)
{
    for (unsigned o = 0; o < NOPS; o++) {
        const Op *op = &ops[o];
        for (unsigned fi = 0; fi < NF; fi++) {
            hash = 0xcbf29ce484222325ull;
            unsigned n = op->dbl ? ND : NS;
            for (unsigned i = 0; i < n; i++) {
                uint64_t a = op->dbl ? dvals[i] : svals[i];
                /* three operands: every third b, three addends per (a, b) */
                unsigned jstep = op->nargs == 3 ? 3 : 1;
                for (unsigned j = 0; j < (op->nargs >= 2 ? n : 1); j += jstep) {
                    uint64_t b = op->dbl ? dvals[j] : svals[j];
                    unsigned kn = op->nargs == 3 ? 3 : 1;
                    for (unsigned k = 0; k < kn; k++) {
                        unsigned ci = (i + j + 11 * k) % n;
                        uint64_t c = op->dbl ? dvals[ci] : svals[ci];
                        set_fpcr(fpcrs[fi]);
                        clr_fpsr();
                        uint64_t r = op->fn(a, b, c);
                        uint64_t fpsr = get_fpsr();
                        set_fpcr(0);
                        report(op->name, fi, a, b, c, r, fpsr);
                    }
                }
            }
            group_end(op->name, fi);
        }
    }
    for (unsigned o = 0; o < sizeof iops / sizeof iops[0]; o++)
        for (unsigned fi = 0; fi < NF; fi++) {
            hash = 0xcbf29ce484222325ull;
            for (unsigned i = 0; i < sizeof ivals / sizeof ivals[0]; i++) {
                set_fpcr(fpcrs[fi]);
                clr_fpsr();
                uint64_t r = iops[o].fn(ivals[i], 0, 0);
                uint64_t fpsr = get_fpsr();
                set_fpcr(0);
                report(iops[o].name, fi, ivals[i], 0, 0, r, fpsr);
            }
            group_end(iops[o].name, fi);
        }
    return 0;
}

#ifndef FP_MODEL
int main(int argc, char **argv)
{
    verbose = argc > 1 && !strcmp(argv[1], "-v");
    return fp_arith_run();
}
#endif
