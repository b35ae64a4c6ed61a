/*
 * a64_simd_swar_test.c - the AdvSIMD integer ops lifted to plain IR
 * (frontend/aarch64/a64-simd-swar.c) against helper_a64_simd, the path
 * they replace.  For every lifted instruction family, random encodings
 * (all element sizes, Q=0/1, scalar forms, any register aliasing) run from
 * a random V-register state twice: once with a64_simd_swar_enable(false)
 * (everything through the helper) and once inlined; every V register, X
 * register and FPSR must be identical.  Each run is itself done raw and
 * after ir_optimize (a64_test_util.h).  The test also checks that the
 * inlined lifting really contains no helper call, so it cannot pass by
 * comparing the helper with itself.
 */
#include "tests/unit/a64_test_util.h"

#include "frontend/aarch64/a64-simd-swar.h"

#define SVC0 0xd4000001u
#define CASES_PER_FAMILY 400

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Bytes drawn from edge values half of the time, so that lanes compare
 * equal, sit at the signed/unsigned boundaries, or are zero. */
static uint8_t rnd_byte(void)
{
    static const uint8_t edges[] = { 0x00, 0x01, 0x7f, 0x80, 0x81, 0xfe, 0xff };
    uint64_t r = rnd64();
    return (r & 1) ? edges[(r >> 8) % sizeof(edges)] : (uint8_t)(r >> 16);
}

static void rnd_state(A64State *st, uint32_t insn)
{
    for (int r = 0; r < 32; r++)
        for (int i = 0; i < 16; i++)
            st->v[r][i] = rnd_byte();
    for (int r = 0; r < 31; r++)
        st->x[r] = rnd64();
    /* Often make Vm a lightly edited copy of Vn: equal lanes for CMEQ & co. */
    int rn = (insn >> 5) & 31, rm = (insn >> 16) & 31;
    if (rnd64() % 3 == 0) {
        memcpy(st->v[rm], st->v[rn], 16);
        for (int k = (int)(rnd64() % 4); k > 0; k--)
            st->v[rm][rnd64() % 16] = rnd_byte();
    }
}

#include "tests/unit/a64_simd_families.h"

/* Whether the word's lifting calls a helper (only with the switch on). */
static bool lifts_to_call(uint32_t insn)
{
    a64t_code[0] = insn;
    a64t_code_len = 1;
    IrBlock *b = a64t_lift(A64T_CODE, false, 1);
    bool call = false;
    for (uint32_t i = 0; i < b->n_ops; i++)
        if (b->ops[i].opc == IR_OP_call)
            call = true;
    ir_block_free(b);
    return call;
}

static void check_same(uint32_t insn, const A64State *want, const A64State *got)
{
    for (int r = 0; r < 32; r++)
        ck_assert_msg(memcmp(want->v[r], got->v[r], 16) == 0,
                      "%08x: v%d = %016llx:%016llx, helper %016llx:%016llx", insn, r,
                      (unsigned long long)((const uint64_t *)got->v[r])[1],
                      (unsigned long long)((const uint64_t *)got->v[r])[0],
                      (unsigned long long)((const uint64_t *)want->v[r])[1],
                      (unsigned long long)((const uint64_t *)want->v[r])[0]);
    for (int r = 0; r < 32; r++)
        ck_assert_msg(want->x[r] == got->x[r], "%08x: x%d differs", insn, r);
    ck_assert_msg(want->fpsr == got->fpsr, "%08x: fpsr %#x, helper %#x", insn, got->fpsr, want->fpsr);
}

START_TEST(test_swar_matches_helper)
{
    const A64SimdFamily *f = &a64_simd_families[_i];
    unsigned inlined = 0, valid = 0;
    for (int c = 0; c < CASES_PER_FAMILY; c++) {
        uint32_t insn = f->base | ((uint32_t)rnd64() & f->free);
        a64_simd_swar_enable(true);
        if (a64t_is_undef(insn))
            continue;
        valid++;
        if (lifts_to_call(insn))
            continue;                 /* a form left to the helper: nothing to compare */
        inlined++;
        A64State want = a64t_state();
        rnd_state(&want, insn);
        A64State got = want;
        uint32_t code[2] = { insn, SVC0 };
        a64_simd_swar_enable(false);
        A64TResult r1 = a64t_run(code, 2, &want);
        a64_simd_swar_enable(true);
        A64TResult r2 = a64t_run(code, 2, &got);
        ck_assert_int_eq(r1.status, IR_INTERP_EXITED);
        ck_assert_int_eq(r2.status, IR_INTERP_EXITED);
        ck_assert_uint_eq(r1.exit.reason, IR_EXIT_SYSCALL);
        ck_assert_uint_eq(r2.exit.reason, IR_EXIT_SYSCALL);
        check_same(insn, &want, &got);
    }
    /* every family is meant to be inlined for (nearly) all valid words */
    ck_assert_msg(valid > 0 && inlined * 4 >= valid * 3, "%s: %u of %u valid words inlined", f->name,
                  inlined, valid);
}
END_TEST

/* The strlen/memchr idiom by hand, inlined: known answers, not just
 * agreement with the helper. */
START_TEST(test_string_idiom_known_values)
{
    A64State st = a64t_state();
    uint64_t lo = 0x6867666564636261ull, hi = 0x0070006e6d6c6b6aull;   /* "abcdefghijklmn\0p\0" */
    memcpy(st.v[1], &lo, 8);
    memcpy(st.v[1] + 8, &hi, 8);
    a64_simd_swar_enable(true);
    ck_assert(!lifts_to_call(0x4e209820));       /* cmeq v0.16b, v1.16b, #0 */
    uint32_t code[] = {
        0x4e209820,   /* cmeq v0.16b, v1.16b, #0 */
        0x6e20a403,   /* umaxp v3.16b, v0.16b, v0.16b */
        0x0f0c8404,   /* shrn v4.8b, v0.8h, #4 */
        0x6e31a825,   /* uminv b5, v1.16b */
        0x4e31b826,   /* addv b6, v1.16b */
        SVC0,
    };
    A64TResult r = a64t_run(code, 6, &st);
    ck_assert_int_eq(r.status, IR_INTERP_EXITED);
    uint64_t v0h, v3l, v4l, v4h, v5, v6;
    memcpy(&v0h, st.v[0] + 8, 8);
    memcpy(&v3l, st.v[3], 8);
    memcpy(&v4l, st.v[4], 8);
    memcpy(&v4h, st.v[4] + 8, 8);
    memcpy(&v5, st.v[5], 8);
    memcpy(&v6, st.v[6], 8);
    ck_assert_uint_eq(v0h, 0xff00ff0000000000ull);
    ck_assert_uint_eq(v3l, 0xffff000000000000ull);
    ck_assert_uint_eq(v4l, 0xf0f0000000000000ull);
    ck_assert_uint_eq(v4h, 0);
    ck_assert_uint_eq(v5, 0);
    unsigned sum = 0;
    for (int i = 0; i < 16; i++)
        sum += st.v[1][i];
    ck_assert_uint_eq(v6, sum & 0xff);
}
END_TEST

static Suite *a64_simd_swar_suite(void)
{
    Suite *s = suite_create("a64_simd_swar");
    TCase *tc = tcase_create("vs_helper");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_swar_matches_helper, 0, A64_SIMD_N_FAMILIES);
    tcase_add_test(tc, test_string_idiom_known_values);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(a64_simd_swar_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
