/*
 * a64-fp-helpers.h - exact AArch64 floating-point semantics on an x86-64 host.
 *
 * Every operation takes an A64Fp (the FPCR in force and the FPSR cumulative
 * bits it raises) and IEEE bit patterns of one format (half, single, double).
 * Results equal an ARMv8 core bit for bit: NaN propagation order, FPCR.DN,
 * FPCR.FZ (input and output flushing with IDC/UFC), FPCR.RMode, tininess
 * detected before rounding, and the saturating float->integer conversions.
 * The scalar helper_a64_* functions (a64-helpers.def) and the AdvSIMD lane
 * loops (a64-simd-helpers.c) are thin wrappers over these.
 *
 *   A64Fp f = a64_fp_begin(env->fpcr);
 *   uint64_t r = a64_fp_arith(&f, A64_FP_ADD, A64_F64, a, b, 0);
 *   env->fpsr |= f.exc;
 */
#ifndef EMU_FRONTEND_AARCH64_A64_FP_HELPERS_H
#define EMU_FRONTEND_AARCH64_A64_FP_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

/* FPSR cumulative exception bits. */
#define A64_FPSR_IOC (1u << 0)
#define A64_FPSR_DZC (1u << 1)
#define A64_FPSR_OFC (1u << 2)
#define A64_FPSR_UFC (1u << 3)
#define A64_FPSR_IXC (1u << 4)
#define A64_FPSR_IDC (1u << 7)
/* FPCR fields. */
#define A64_FPCR_FZ16 (1u << 19)
#define A64_FPCR_FZ   (1u << 24)
#define A64_FPCR_DN   (1u << 25)
#define A64_FPCR_AHP  (1u << 26)
#define A64_FPCR_RMODE(fpcr) (((fpcr) >> 22) & 3)

/* Formats. */
typedef enum A64FpFmt { A64_F16, A64_F32, A64_F64 } A64FpFmt;

/* Rounding modes: the FPCR.RMode encoding, plus ties-away (FCVTA*, FRINTA). */
enum { A64_RN = 0, A64_RP = 1, A64_RM = 2, A64_RZ = 3, A64_RA = 4 };

typedef struct A64Fp {
    uint32_t fpcr;  /* FPCR in force */
    uint32_t exc;   /* FPSR bits raised so far (OR them into env->fpsr) */
} A64Fp;

static inline A64Fp a64_fp_begin(uint32_t fpcr) { return (A64Fp){ fpcr, 0 }; }

/* Two/three-operand arithmetic. */
typedef enum A64FpOp {
    A64_FP_ADD, A64_FP_SUB, A64_FP_MUL, A64_FP_DIV, A64_FP_SQRT,
    A64_FP_MULADD,  /* c + a*b, fused: a64_fp_muladd */
    A64_FP_MAX, A64_FP_MIN, A64_FP_MAXNM, A64_FP_MINNM,
    A64_FP_ABD,     /* |a - b| (FABD) */
} A64FpOp;

/* a op b (SQRT: sqrt(a)); MAX/MIN/MAXNM/MINNM/ABD too.  fmt: A64_F32 or
 * A64_F64 (half-precision arithmetic, FEAT_FP16, is not offered). */
uint64_t a64_fp_arith(A64Fp *f, A64FpOp op, A64FpFmt fmt, uint64_t a, uint64_t b);
/* FMULX: a * b, except that 0 * inf is 2.0 with the product's sign. */
uint64_t a64_fp_mulx(A64Fp *f, A64FpFmt fmt, uint64_t a, uint64_t b);
/* addend + n * m with a single rounding (FMADD); the caller negates inputs
 * for FMSUB/FNMADD/FNMSUB exactly as the architecture does (sign flip of
 * the operand bits, before NaN processing). */
uint64_t a64_fp_muladd(A64Fp *f, A64FpFmt fmt, uint64_t addend, uint64_t n, uint64_t m);
/* FCMP/FCMPE: NZCV in bits 3..0.  signal_all: FCMPE (IOC for any NaN). */
uint32_t a64_fp_compare(A64Fp *f, A64FpFmt fmt, uint64_t a, uint64_t b, bool signal_all);
/* AdvSIMD compares: all-ones or 0.  cond: 0 EQ (quiet), 1 GE, 2 GT (signaling). */
bool a64_fp_cmp_cond(A64Fp *f, A64FpFmt fmt, uint64_t a, uint64_t b, int cond);
/* FRINT*: round to integral in rmode (A64_RN..A64_RA); exact: FRINTX (IXC). */
uint64_t a64_fp_round_int(A64Fp *f, A64FpFmt fmt, uint64_t x, int rmode, bool exact);
/* FCVT between formats. */
uint64_t a64_fp_convert(A64Fp *f, A64FpFmt from, A64FpFmt to, uint64_t x);
/* FCVTXN: double -> single, rounding to odd. */
uint64_t a64_fp_convert_odd(A64Fp *f, uint64_t x);
/* FRECPE, FRSQRTE (ARM's 8-bit estimates), FRECPS (2 - a*b), FRSQRTS
 * ((3 - a*b) / 2), FRECPX; single or double. */
uint64_t a64_fp_recip_est(A64Fp *f, A64FpFmt fmt, uint64_t x);
uint64_t a64_fp_rsqrt_est(A64Fp *f, A64FpFmt fmt, uint64_t x);
uint64_t a64_fp_recps(A64Fp *f, A64FpFmt fmt, uint64_t a, uint64_t b);
uint64_t a64_fp_rsqrts(A64Fp *f, A64FpFmt fmt, uint64_t a, uint64_t b);
uint64_t a64_fp_recpx(A64Fp *f, A64FpFmt fmt, uint64_t x);
/* URECPE / URSQRTE (unsigned 0.32 fixed point estimates). */
uint32_t a64_urecpe(uint32_t x);
uint32_t a64_ursqrte(uint32_t x);
/* FCVT{Z,N,P,M,A}{S,U} and fixed-point forms: x * 2^fbits rounded in
 * rmode, saturated to an nbits (32/64) signed or unsigned integer. */
uint64_t a64_fp_to_int(A64Fp *f, A64FpFmt fmt, uint64_t x, int fbits, int rmode,
                       bool is_unsigned, int nbits);
/* SCVTF/UCVTF: v (an nbits integer, signed or not) * 2^-fbits, rounded per FPCR. */
uint64_t a64_fp_from_int(A64Fp *f, A64FpFmt fmt, uint64_t v, int fbits, bool is_signed,
                         int nbits);
/* The FPCR-selected rounding mode. */
static inline int a64_fp_rmode(const A64Fp *f) { return (int)A64_FPCR_RMODE(f->fpcr); }

/* Bit-pattern utilities. */
uint64_t a64_fp_default_nan(A64FpFmt fmt);
bool a64_fp_is_nan(A64FpFmt fmt, uint64_t x);
/* Sign bit mask of a format. */
static inline uint64_t a64_fp_sign_bit(A64FpFmt fmt)
{
    return fmt == A64_F16 ? 0x8000u : fmt == A64_F32 ? 0x80000000u : 0x8000000000000000ull;
}

/* Fast-path predicates (see a64-fp-helpers.c): a single/double operand that
 * is normal or zero; a result that is normal and above the smallest normal. */
static inline bool a64_fp_plain(A64FpFmt fmt, uint64_t x)
{
    if (fmt == A64_F32) {
        uint32_t e = ((uint32_t)x >> 23) & 0xff;
        return e != 0xff && (e != 0 || !((uint32_t)x << 1));
    }
    uint64_t e = (x >> 52) & 0x7ff;
    return e != 0x7ff && (e != 0 || !(x << 1));
}
static inline bool a64_fp_big(A64FpFmt fmt, uint64_t x)
{
    if (fmt == A64_F32) {
        uint32_t m = (uint32_t)x << 1;
        return m > (0x00800000u << 1) && m < (0x7f800000u << 1);
    }
    uint64_t m = x << 1;
    return m > (0x0010000000000000ull << 1) && m < (0x7ff0000000000000ull << 1);
}

/* addend + n*m on the host FMA unit when that is exactly ARM's answer with no
 * new flag but IXC (plain operands, big result, FMA present); the caller
 * checks round-to-nearest and FPSR.IXC.  False: use a64_fp_muladd. */
bool a64_fp_fast_muladd(A64FpFmt fmt, uint64_t a, uint64_t n, uint64_t m, uint64_t *out);

#endif /* EMU_FRONTEND_AARCH64_A64_FP_HELPERS_H */
