/*
 * a64_decodetree_test.c - tests of scripts/decodetree.py through a decoder
 * generated from a64_decodetree_test.decode: field extraction (signed,
 * multi-segment, transforms), formats with argument sets, constants, and
 * first-match-wins with fall-through when a trans_ function rejects.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/a64_decodetree_test-decode.h"

int times_4(DisasContext *s, int x)
{
    return x * 4;
}

bool trans_SPECIFIC(DisasContext *s, arg_SPECIFIC *a)
{
    s->last = "SPECIFIC";
    return true;
}

bool trans_REJECT(DisasContext *s, arg_REJECT *a)
{
    s->rejects++;
    return false;
}

bool trans_GENERAL(DisasContext *s, arg_GENERAL *a)
{
    s->last = "GENERAL";
    s->v[0] = a->x;
    return true;
}

static bool fmt_ab(DisasContext *s, arg_ab *a, const char *name)
{
    s->last = name;
    s->v[0] = a->a;
    s->v[1] = a->b;
    return true;
}

bool trans_USE_FMT(DisasContext *s, arg_USE_FMT *a)
{
    return fmt_ab(s, a, "USE_FMT");
}

bool trans_USE_FMT2(DisasContext *s, arg_ab *a)
{
    return fmt_ab(s, a, "USE_FMT2");
}

bool trans_CONST(DisasContext *s, arg_CONST *a)
{
    s->last = "CONST";
    s->v[0] = a->imm;
    s->v[1] = a->k;
    s->v[2] = a->scaled;
    return a->imm != 5; /* imm 5: unallocated */
}

bool trans_SPLIT(DisasContext *s, arg_SPLIT *a)
{
    s->last = "SPLIT";
    s->v[0] = a->v;
    return true;
}

bool trans_INLINE(DisasContext *s, arg_INLINE *a)
{
    s->last = "INLINE";
    s->v[0] = a->u;
    s->v[1] = a->s;
    return true;
}

static DisasContext dec(uint32_t insn, bool want)
{
    DisasContext s;
    memset(&s, 0, sizeof(s));
    bool ok = dt_decode_test(&s, insn);
    ck_assert_msg(ok == want, "%08x: decoded %d", insn, ok);
    return s;
}

START_TEST(test_overlap_and_fallthrough)
{
    DisasContext s = dec(0xf0000000, true);
    ck_assert_str_eq(s.last, "SPECIFIC");
    ck_assert_int_eq(s.rejects, 0);
    s = dec(0xf5000000, true);
    ck_assert_str_eq(s.last, "GENERAL");
    ck_assert_int_eq(s.rejects, 1);
    ck_assert_int_eq(s.v[0], 5);
    dec(0x80000000, false);
}
END_TEST

START_TEST(test_fields)
{
    DisasContext s = dec(0x0100abcd, true);
    ck_assert_str_eq(s.last, "USE_FMT");
    ck_assert_int_eq(s.v[0], 0xab);
    ck_assert_int_eq(s.v[1], 0xcd);
    s = dec(0x02001234, true);
    ck_assert_str_eq(s.last, "USE_FMT2");
    ck_assert_int_eq(s.v[0], 0x12);
    /* imm:s12 at bits 19..8 (0xfff -> -1), k = 7, scaled = bits 15..8 * 4 */
    s = dec(0x030fff00, true);
    ck_assert_str_eq(s.last, "CONST");
    ck_assert_int_eq(s.v[0], -1);
    ck_assert_int_eq(s.v[1], 7);
    ck_assert_int_eq(s.v[2], 0xff * 4);
    dec(0x03000500, false); /* trans_CONST rejects imm 5: no other pattern */
    /* bits 23..20 = 1000 (signed: -8), bits 3..0 = 0011 -> -8 * 16 + 3 */
    s = dec(0x04800003, true);
    ck_assert_int_eq(s.v[0], -125);
    /* u = bits 23..21, s = bits 20..16 signed */
    s = dec(0x05b00000, true);
    ck_assert_str_eq(s.last, "INLINE");
    ck_assert_int_eq(s.v[0], 5);
    ck_assert_int_eq(s.v[1], -16);
}
END_TEST

static Suite *dt_suite(void)
{
    Suite *s = suite_create("decodetree");
    TCase *tc = tcase_create("gen");
    tcase_add_test(tc, test_overlap_and_fallthrough);
    tcase_add_test(tc, test_fields);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dt_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
