/*
 * a64_simd_test.c - the FP/SIMD lifters end to end: instruction words (from
 * aarch64-linux-gnu-as, the comment is the source) are lifted by
 * guest_arch_aarch64 and run in the reference interpreter, raw and
 * optimized (a64_test_util.h), then V registers, X registers, NZCV and
 * FPSR are checked against the architecture's results.  Also: unallocated
 * or unoffered FP/SIMD encodings end the block with IR_EXIT_UNDEF.
 */
#include "tests/unit/a64_test_util.h"
#include "frontend/aarch64/a64-fp-helpers.h"

#define SVC0 0xd4000001u

static void run_code(const uint32_t *code, unsigned n, A64State *st)
{
    uint32_t buf[64];
    memcpy(buf, code, n * 4);
    buf[n] = SVC0;
    A64TResult r = a64t_run(buf, n + 1, st);
    ck_assert_int_eq(r.status, IR_INTERP_EXITED);
    ck_assert_uint_eq(r.exit.reason, IR_EXIT_SYSCALL);
}

static void setv(A64State *st, int r, uint64_t lo, uint64_t hi)
{
    memcpy(st->v[r], &lo, 8);
    memcpy(st->v[r] + 8, &hi, 8);
}
static uint64_t vlo(const A64State *st, int r) { uint64_t x; memcpy(&x, st->v[r], 8); return x; }
static uint64_t vhi(const A64State *st, int r) { uint64_t x; memcpy(&x, st->v[r] + 8, 8); return x; }

START_TEST(test_dup_general_and_umov_smov)
{
    A64State st = a64t_state();
    st.x[1] = 0x1234abcd;
    run_code((uint32_t[]){
        0x4e010c20,   /* dup v0.16b, w1 */
        0x0e020c22,   /* dup v2.4h, w1 */
        0x0e0b3c03,   /* umov w3, v0.b[5] */
        0x4e0a2c44,   /* smov x4, v2.h[2] */
    }, 4, &st);
    ck_assert_uint_eq(vlo(&st, 0), 0xcdcdcdcdcdcdcdcdull);
    ck_assert_uint_eq(vhi(&st, 0), 0xcdcdcdcdcdcdcdcdull);
    ck_assert_uint_eq(vlo(&st, 2), 0xabcdabcdabcdabcdull);
    ck_assert_uint_eq(vhi(&st, 2), 0);
    ck_assert_uint_eq(st.x[3], 0xcd);
    ck_assert_uint_eq(st.x[4], 0xffffffffffffabcdull);
}
END_TEST

START_TEST(test_strlen_idiom_cmeq_umaxp_shrn)
{
    A64State st = a64t_state();
    setv(&st, 1, 0x6867666564636261ull, 0x0070006e6d6c6b6aull);   /* "abcdefghijklmn\0p\0" */
    setv(&st, 2, 0, 0);
    run_code((uint32_t[]){
        0x6e228c20,   /* cmeq v0.16b, v1.16b, v2.16b */
        0x6e20a403,   /* umaxp v3.16b, v0.16b, v0.16b */
        0x0f0c8404,   /* shrn v4.8b, v0.8h, #4 */
        0x9e660085,   /* fmov x5, d4 */
    }, 4, &st);
    ck_assert_uint_eq(vlo(&st, 0), 0);
    ck_assert_uint_eq(vhi(&st, 0), 0xff00ff0000000000ull);
    ck_assert_uint_eq(vlo(&st, 3), 0xffff000000000000ull);
    ck_assert_uint_eq(vhi(&st, 3), 0xffff000000000000ull);
    ck_assert_uint_eq(st.x[5], 0xf0f0000000000000ull);   /* a nibble per byte */
    ck_assert_uint_eq(__builtin_ctzll(st.x[5]) / 4, 13); /* the first NUL is byte 13 */
}
END_TEST

START_TEST(test_scalar_fp_zeroes_upper_bits_and_sets_fpsr)
{
    A64State st = a64t_state();
    setv(&st, 0, 0x1111111111111111ull, 0x2222222222222222ull);
    setv(&st, 1, 0x3f800000, 0x5555);        /* s1 = 1.0 */
    setv(&st, 2, 0x00000000, 0x6666);        /* s2 = 0.0 */
    run_code((uint32_t[]){
        0x1e221820,   /* fdiv s0, s1, s2 */
    }, 1, &st);
    ck_assert_uint_eq(vlo(&st, 0), 0x7f800000);
    ck_assert_uint_eq(vhi(&st, 0), 0);
    ck_assert_uint_eq(st.fpsr, A64_FPSR_DZC);
}
END_TEST

START_TEST(test_fcmp_sets_nzcv_and_fcsel)
{
    A64State st = a64t_state();
    st.x[1] = 0x3ff0000000000000ull;   /* 1.0 */
    st.x[2] = 0x7ff8000000000000ull;   /* NaN */
    run_code((uint32_t[]){
        0x9e670020,   /* fmov d0, x1 */
        0x9e670041,   /* fmov d1, x2 */
        0x1e612010,   /* fcmpe d0, d1 */
    }, 3, &st);
    ck_assert_uint_eq(a64t_nzcv(&st), 0x3);          /* unordered */
    ck_assert_uint_eq(st.fpsr, A64_FPSR_IOC);        /* FCMPE signals on QNaN */
    st.fpsr = 0;
    run_code((uint32_t[]){
        0x1e602008,   /* fcmp d0, #0.0 */
        0x1e61cc03,   /* fcsel d3, d0, d1, gt */
        0x1e61bc04,   /* fcsel d4, d0, d1, lt */
    }, 3, &st);
    ck_assert_uint_eq(a64t_nzcv(&st), 0x2);          /* greater */
    ck_assert_uint_eq(st.fpsr, 0);
    ck_assert_uint_eq(vlo(&st, 3), 0x3ff0000000000000ull);
    ck_assert_uint_eq(vlo(&st, 4), 0x7ff8000000000000ull);
}
END_TEST

START_TEST(test_fcvtzs_saturates_and_scvtf_rounds)
{
    A64State st = a64t_state();
    st.x[1] = 0xc3e0000000000001ull;   /* < INT64_MIN */
    st.x[2] = 0x7fffffffffffffffull;
    st.fpcr = 3u << 22;                /* round toward zero */
    run_code((uint32_t[]){
        0x9e670020,   /* fmov d0, x1 */
        0x9e780003,   /* fcvtzs x3, d0 */
        0x1e780004,   /* fcvtzs w4, d0 */
        0x9e220045,   /* scvtf s5, x2 */
    }, 4, &st);
    ck_assert_uint_eq(st.x[3], 0x8000000000000000ull);
    ck_assert_uint_eq(st.x[4], 0x80000000u);
    ck_assert_uint_eq(vlo(&st, 5), 0x5effffff);      /* RZ: just below 2^63 */
    ck_assert_uint_eq(st.fpsr, A64_FPSR_IOC | A64_FPSR_IXC);
}
END_TEST

START_TEST(test_ld1_st1_and_post_index)
{
    A64State st = a64t_state();
    for (int i = 0; i < 64; i++)
        a64t_mem.data[i] = (uint8_t)i;
    st.x[0] = A64T_MEM;
    st.x[1] = A64T_MEM + 128;
    run_code((uint32_t[]){
        0x4cdf2000,   /* ld1 {v0.16b-v3.16b}, [x0], #64 */
        0x4c008020,   /* st2 {v0.16b, v1.16b}, [x1] */
    }, 2, &st);
    ck_assert_uint_eq(st.x[0], A64T_MEM + 64);
    ck_assert_uint_eq(vlo(&st, 3), 0x3736353433323130ull);
    ck_assert_uint_eq(a64t_mem.data[128], 0);
    ck_assert_uint_eq(a64t_mem.data[129], 16);
    ck_assert_uint_eq(a64t_mem.data[130], 1);
    ck_assert_uint_eq(a64t_mem.data[159], 31);
}
END_TEST

START_TEST(test_unoffered_encodings_are_undef)
{
    /* FEAT_FP16 arithmetic, DotProd, PMULL 64-bit (crypto), FJCVTZS, 1D vectors */
    static const uint32_t undef[] = {
        0x1ee22820,   /* fadd h0, h1, h2 */
        0x4e829420,   /* sdot v0.4s, v1.16b, v2.16b */
        0x0ee2e020,   /* pmull v0.1q, v1.1d, v2.1d */
        0x1e7e0020,   /* fjcvtzs w0, d1 */
        0x0ee28420,   /* add v0.1d, v1.1d, v2.1d (reserved) */
    };
    for (unsigned i = 0; i < sizeof undef / sizeof undef[0]; i++)
        ck_assert_msg(a64t_is_undef(undef[i]), "insn %08x should be undefined", undef[i]);
    ck_assert(!a64t_is_undef(0x1e604020));   /* fmov d0, d1 */
}
END_TEST

int main(void)
{
    guest_arch_aarch64.init();
    Suite *s = suite_create("a64_simd");
    TCase *tc = tcase_create("lift");
    tcase_add_test(tc, test_dup_general_and_umov_smov);
    tcase_add_test(tc, test_strlen_idiom_cmeq_umaxp_shrn);
    tcase_add_test(tc, test_scalar_fp_zeroes_upper_bits_and_sets_fpsr);
    tcase_add_test(tc, test_fcmp_sets_nzcv_and_fcsel);
    tcase_add_test(tc, test_fcvtzs_saturates_and_scvtf_rounds);
    tcase_add_test(tc, test_ld1_st1_and_post_index);
    tcase_add_test(tc, test_unoffered_encodings_are_undef);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
