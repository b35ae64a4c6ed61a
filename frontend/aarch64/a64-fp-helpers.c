/*
 * a64-fp-helpers.c - the scalar FP helpers of a64-helpers.def: each reads
 * FPCR from the A64State, calls the exact core (a64-fp-core.c) and ORs the
 * raised exceptions into FPSR.
 */
#include "frontend/aarch64/a64-fp-helpers.h"

#include "frontend/aarch64/a64-cpu.h"
#include "ir/ir-helpers.h"

static inline int desc_rmode(A64Fp *f, uint32_t rm)
{
    return rm == 7 ? a64_fp_rmode(f) : (int)rm;
}

uint32_t helper_a64_fp_bin_s(void *env, uint32_t a, uint32_t b, uint32_t op)
{
    A64State *st = env;
    A64Fp f = a64_fp_begin(st->fpcr);
    uint32_t r = (uint32_t)a64_fp_arith(&f, (A64FpOp)op, A64_F32, a, b);
    st->fpsr |= f.exc;
    return r;
}

uint64_t helper_a64_fp_bin_d(void *env, uint64_t a, uint64_t b, uint32_t op)
{
    A64State *st = env;
    A64Fp f = a64_fp_begin(st->fpcr);
    uint64_t r = a64_fp_arith(&f, (A64FpOp)op, A64_F64, a, b);
    st->fpsr |= f.exc;
    return r;
}

uint32_t helper_a64_fp_muladd_s(void *env, uint32_t a, uint32_t n, uint32_t m)
{
    A64State *st = env;
    A64Fp f = a64_fp_begin(st->fpcr);
    uint32_t r = (uint32_t)a64_fp_muladd(&f, A64_F32, a, n, m);
    st->fpsr |= f.exc;
    return r;
}

uint64_t helper_a64_fp_muladd_d(void *env, uint64_t a, uint64_t n, uint64_t m)
{
    A64State *st = env;
    A64Fp f = a64_fp_begin(st->fpcr);
    uint64_t r = a64_fp_muladd(&f, A64_F64, a, n, m);
    st->fpsr |= f.exc;
    return r;
}

uint32_t helper_a64_fp_cmp_s(void *env, uint32_t a, uint32_t b, uint32_t e)
{
    A64State *st = env;
    if (e & 2)                       /* FCCMP, condition false */
        return (e >> 4) & 15;
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

uint64_t helper_a64_fp_toint(void *env, uint64_t x, uint32_t desc)
{
    A64State *st = env;
    A64Fp f = a64_fp_begin(st->fpcr);
    uint64_t r = a64_fp_to_int(&f, (A64FpFmt)(desc & 3), x, (int)(desc >> 8),
                               desc_rmode(&f, (desc >> 2) & 7), (desc >> 5) & 1,
                               (desc >> 6) & 1 ? 64 : 32);
    st->fpsr |= f.exc;
    return r;
}

uint64_t helper_a64_fp_fromint(void *env, uint64_t v, uint32_t desc)
{
    A64State *st = env;
    A64Fp f = a64_fp_begin(st->fpcr);
    uint64_t r = a64_fp_from_int(&f, (A64FpFmt)(desc & 3), v, (int)(desc >> 8), (desc >> 5) & 1,
                                 (desc >> 6) & 1 ? 64 : 32);
    st->fpsr |= f.exc;
    return r;
}
