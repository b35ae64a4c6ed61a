/*
 * a64_features_test.c - the CPU feature mask (A64_FEAT_*, a64-cpu.h):
 * LSE atomics, LDAPR (RCPC), LDLAR/STLLR (LOR) and CRC32 lift normally when
 * the modelled CPU has them and as unallocated (IR_EXIT_UNDEF -> SIGILL)
 * when it does not, and ID_AA64ISAR0/ISAR1 report exactly the mask.
 */
#include "tests/unit/a64_test_util.h"

#define MEMW(off) (*(uint64_t *)(a64t_mem.data + (off)))

/* Encodings (from aarch64-linux-gnu-as -march=armv8.3-a+crc). */
#define CASAL   0xc8e1fc02u /* casal x1, x2, [x0] */
#define LDADDAL 0xf8e10002u /* ldaddal x1, x2, [x0] */
#define CASPAL  0x4862fc04u /* caspal x2, x3, x4, x5, [x0] */
#define SWP_W   0xb8218002u /* swp w1, w2, [x0] */
#define STADD   0xf821001fu /* stadd x1, [x0] */
#define LDAPR   0xf8bfc002u /* ldapr x2, [x0] */
#define LDLAR   0xc8df7c02u /* ldlar x2, [x0] */
#define STLLR   0xc89f7c02u /* stllr x2, [x0] */
#define LDAR    0xc8dffc02u /* ldar x2, [x0] */
#define STLR    0xc89ffc02u /* stlr x2, [x0] */
#define CRC32B  0x1ac24020u /* crc32b w0, w1, w2 */
#define MRS_ISAR0 0xd5380600u /* mrs x0, id_aa64isar0_el1 */
#define MRS_ISAR1 0xd5380620u /* mrs x0, id_aa64isar1_el1 */

static void restore_max(void)
{
    a64_cpu_set_features(A64_FEAT_MAX);
}

/* Runs casal x1, x2, [x0] on memory word 0x55 with x1 = 0x55 (compare
 * succeeds): returns the run, leaves the state in *st. */
static A64TResult run_casal(A64State *st)
{
    memset(&a64t_mem, 0, sizeof(a64t_mem));
    MEMW(0x100) = 0x55;
    *st = a64t_state();
    st->x[0] = A64T_MEM + 0x100;
    st->x[1] = 0x55;
    st->x[2] = 0x1234;
    return a64t_run((uint32_t[]){CASAL}, 1, st);
}

static uint64_t read_sysreg(uint32_t mrs)
{
    A64State st = a64t_state();
    st.x[0] = 0xdeadbeef;
    A64TResult r = a64t_run((uint32_t[]){mrs}, 1, &st);
    ck_assert_uint_ne(r.exit.reason, IR_EXIT_UNDEF);
    return st.x[0];
}

static const uint32_t lse_rcpc_lor[] = {CASAL, LDADDAL, CASPAL, SWP_W, STADD,
                                        LDAPR, LDLAR, STLLR};

START_TEST(test_default_is_max)
{
    ck_assert_uint_eq(a64_cpu_get_features(), A64_FEAT_MAX);
    /* unknown bits are dropped */
    a64_cpu_set_features(~0ull);
    ck_assert_uint_eq(a64_cpu_get_features(), A64_FEAT_MAX);
    for (size_t i = 0; i < sizeof(lse_rcpc_lor) / sizeof(lse_rcpc_lor[0]); i++)
        ck_assert_msg(!a64t_is_undef(lse_rcpc_lor[i]), "%08x undefined on max",
                      lse_rcpc_lor[i]);
    ck_assert(!a64t_is_undef(CRC32B));
}
END_TEST

START_TEST(test_cortex_a53_undef)
{
    /* cortex-a53's mask: CRC32 only */
    a64_cpu_set_features(A64_FEAT_CRC32);
    for (size_t i = 0; i < sizeof(lse_rcpc_lor) / sizeof(lse_rcpc_lor[0]); i++)
        ck_assert_msg(a64t_is_undef(lse_rcpc_lor[i]), "%08x must be unallocated on v8.0",
                      lse_rcpc_lor[i]);
    /* v8.0 acquire/release and CRC32 stay */
    ck_assert(!a64t_is_undef(LDAR));
    ck_assert(!a64t_is_undef(STLR));
    ck_assert(!a64t_is_undef(CRC32B));
}
END_TEST

START_TEST(test_single_features)
{
    /* each feature gates only its own instructions */
    a64_cpu_set_features(A64_FEAT_LSE);
    ck_assert(!a64t_is_undef(CASAL));
    ck_assert(!a64t_is_undef(LDADDAL));
    ck_assert(a64t_is_undef(LDAPR));
    ck_assert(a64t_is_undef(CRC32B));
    a64_cpu_set_features(A64_FEAT_RCPC);
    ck_assert(a64t_is_undef(CASAL));
    ck_assert(a64t_is_undef(LDADDAL));
    ck_assert(!a64t_is_undef(LDAPR));
    a64_cpu_set_features(0);
    ck_assert(a64t_is_undef(CRC32B));
    ck_assert(!a64t_is_undef(LDAR));
}
END_TEST

START_TEST(test_casal_runs_or_traps)
{
    A64State st;
    /* with LSE: the swap happens */
    A64TResult r = run_casal(&st);
    ck_assert_uint_ne(r.exit.reason, IR_EXIT_UNDEF);
    ck_assert_uint_eq(MEMW(0x100), 0x1234);
    ck_assert_uint_eq(st.x[1], 0x55);
    ck_assert_uint_eq(st.common.pc, A64T_CODE + 4);
    /* without: SIGILL at the instruction, memory and registers untouched */
    a64_cpu_set_features(A64_FEAT_CRC32);
    r = run_casal(&st);
    ck_assert_uint_eq(r.exit.kind, IR_OP_exit);
    ck_assert_uint_eq(r.exit.reason, IR_EXIT_UNDEF);
    ck_assert_uint_eq(st.common.pc, A64T_CODE);
    ck_assert_uint_eq(MEMW(0x100), 0x55);
    ck_assert_uint_eq(st.x[1], 0x55);
    ck_assert_uint_eq(st.x[2], 0x1234);
}
END_TEST

START_TEST(test_id_registers)
{
    /* max: CRC32 = 1, Atomic = 2; LRCPC = 1 */
    ck_assert_uint_eq(read_sysreg(MRS_ISAR0), 0x210000);
    ck_assert_uint_eq(read_sysreg(MRS_ISAR1), 0x100000);
    a64_cpu_set_features(A64_FEAT_CRC32);
    ck_assert_uint_eq(read_sysreg(MRS_ISAR0), 0x010000);
    ck_assert_uint_eq(read_sysreg(MRS_ISAR1), 0);
    a64_cpu_set_features(A64_FEAT_LSE | A64_FEAT_RCPC);
    ck_assert_uint_eq(read_sysreg(MRS_ISAR0), 0x200000);
    ck_assert_uint_eq(read_sysreg(MRS_ISAR1), 0x100000);
    a64_cpu_set_features(0);
    ck_assert_uint_eq(read_sysreg(MRS_ISAR0), 0);
}
END_TEST

static Suite *a64_features_suite(void)
{
    Suite *s = suite_create("a64_features");
    TCase *tc = tcase_create("features");
    tcase_add_checked_fixture(tc, restore_max, restore_max);
    tcase_add_test(tc, test_default_is_max);
    tcase_add_test(tc, test_cortex_a53_undef);
    tcase_add_test(tc, test_single_features);
    tcase_add_test(tc, test_casal_runs_or_traps);
    tcase_add_test(tc, test_id_registers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(a64_features_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
