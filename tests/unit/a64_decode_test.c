/*
 * a64_decode_test.c - AArch64 frontend: decoding and lifting of the base
 * integer ISA, checked by running the lifted IR in the reference
 * interpreter (raw and optimized) against architectural results.
 * Encodings were produced with aarch64-linux-gnu-as (comments show the
 * source line).
 */
#include "tests/unit/a64_test_util.h"

START_TEST(test_add_imm_and_branch)
{
    static const uint32_t code[] = {
        0x91001020, /* add x0, x1, #0x4 */
        0x31400462, /* adds w2, w3, #0x1, lsl #12 */
        0xd4000001, /* svc #0 */
    };
    A64State st = a64t_state();
    st.x[1] = 5;
    st.x[3] = 0xfffff000u;
    A64TResult r = a64t_run(code, 3, &st);
    ck_assert_int_eq(r.status, IR_INTERP_EXITED);
    ck_assert_uint_eq(r.exit.kind, IR_OP_exit);
    ck_assert_uint_eq(r.exit.reason, IR_EXIT_SYSCALL);
    ck_assert_uint_eq(st.common.pc, A64T_CODE + 12);
    ck_assert_uint_eq(st.x[0], 9);
    ck_assert_uint_eq(st.x[2], 0);
    ck_assert_uint_eq(a64t_nzcv(&st), 0x6); /* Z C */
}
END_TEST

static Suite *a64_decode_suite(void)
{
    Suite *s = suite_create("a64_decode");
    TCase *tc = tcase_create("int");
    tcase_add_test(tc, test_add_imm_and_branch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(a64_decode_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
