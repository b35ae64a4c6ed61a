/*
 * ir_test.c - the reference interpreter, op by op, on edge values of every
 * width, and the builder's folding against it.  The last test checks that
 * every op of ir-ops.def ran in at least one block here, so a new op
 * without a test fails the suite.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "ir_test_util.h"

#define I8MIN 0x80ull
#define I16MIN 0x8000ull
#define I32MIN 0x80000000ull
#define I64MIN 0x8000000000000000ull
#define M1 0xffffffffffffffffull

/* Run "g2 = opc(g0, g1)" on globals of type t (inputs from env, so the
 * interpreter does the work), and the same op with constant inputs through
 * the simplifying builder; both must give the expected value. */
static void check_binop(IrOpcode opc, IrType t, uint64_t a, uint64_t bv, uint64_t want)
{
    TEnv e = {0};
    tenv_set(&e, t, 0, a);
    tenv_set(&e, t, 1, bv);
    IrBlock *b = tblock(false);
    IrTemp r = ir_binop(b, opc, t, tg_int(t, 0), tg_int(t, 1));
    ir_mov(b, t, tg_int(t, 2), r);
    ir_exit(b, IR_EXIT_NONE, 0);
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ir_block_free(b);
    uint64_t got = tenv_get(&e, t, 2);
    ck_assert_msg(got == want, "%s.%s(0x%llx, 0x%llx) = 0x%llx, want 0x%llx",
                  ir_op_info[opc].name, ir_type_name(t), (unsigned long long)a,
                  (unsigned long long)bv, (unsigned long long)got, (unsigned long long)want);

    b = tblock(true);
    IrTemp c = ir_binop(b, opc, t, ir_const(b, t, a), ir_const(b, t, bv));
    ck_assert_int_eq(b->temps[c].kind, IR_TEMP_CONST);
    ck_assert_msg(b->temps[c].val[0] == want, "folded %s.%s(0x%llx, 0x%llx) = 0x%llx",
                  ir_op_info[opc].name, ir_type_name(t), (unsigned long long)a,
                  (unsigned long long)bv, (unsigned long long)b->temps[c].val[0]);
    ir_block_free(b);
}

static void check_unop(IrOpcode opc, IrType t, uint64_t a, uint64_t want)
{
    TEnv e = {0};
    tenv_set(&e, t, 0, a);
    IrBlock *b = tblock(false);
    IrTemp r = ir_unop(b, opc, t, tg_int(t, 0));
    ir_mov(b, t, tg_int(t, 2), r);
    ir_exit(b, IR_EXIT_NONE, 0);
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ir_block_free(b);
    uint64_t got = tenv_get(&e, t, 2);
    ck_assert_msg(got == want, "%s.%s(0x%llx) = 0x%llx, want 0x%llx", ir_op_info[opc].name,
                  ir_type_name(t), (unsigned long long)a, (unsigned long long)got,
                  (unsigned long long)want);
    b = tblock(true);
    IrTemp c = ir_unop(b, opc, t, ir_const(b, t, a));
    ck_assert_int_eq(b->temps[c].kind, IR_TEMP_CONST);
    ck_assert_uint_eq(b->temps[c].val[0], want);
    ir_block_free(b);
}

typedef struct BinCase {
    IrOpcode opc;
    IrType t;
    uint64_t a, b, r;
} BinCase;

static const BinCase bin_cases[] = {
    /* add / sub wrap */
    {IR_OP_add, IR_I8, 0x7f, 1, I8MIN}, {IR_OP_add, IR_I8, 0xff, 1, 0},
    {IR_OP_add, IR_I16, 0x7fff, 1, I16MIN}, {IR_OP_add, IR_I16, 0xffff, 1, 0},
    {IR_OP_add, IR_I32, 0x7fffffff, 1, I32MIN}, {IR_OP_add, IR_I32, 0xffffffff, 1, 0},
    {IR_OP_add, IR_I64, 0x7fffffffffffffff, 1, I64MIN}, {IR_OP_add, IR_I64, M1, 1, 0},
    {IR_OP_sub, IR_I8, 0, 1, 0xff}, {IR_OP_sub, IR_I8, I8MIN, 1, 0x7f},
    {IR_OP_sub, IR_I16, 0, 1, 0xffff}, {IR_OP_sub, IR_I32, 0, 1, 0xffffffff},
    {IR_OP_sub, IR_I64, 0, 1, M1}, {IR_OP_sub, IR_I64, I64MIN, 1, 0x7fffffffffffffff},
    /* multiplication, low and high halves */
    {IR_OP_mul, IR_I8, 0xff, 0xff, 1}, {IR_OP_mul, IR_I8, 0x10, 0x10, 0},
    {IR_OP_mul, IR_I16, 0xffff, 0xffff, 1}, {IR_OP_mul, IR_I16, 0x100, 0x100, 0},
    {IR_OP_mul, IR_I32, 0xffffffff, 0xffffffff, 1}, {IR_OP_mul, IR_I32, 0x10000, 0x10000, 0},
    {IR_OP_mul, IR_I64, M1, M1, 1}, {IR_OP_mul, IR_I64, 1ull << 32, 1ull << 32, 0},
    {IR_OP_mulhu, IR_I8, 0xff, 0xff, 0xfe}, {IR_OP_mulhu, IR_I16, 0xffff, 0xffff, 0xfffe},
    {IR_OP_mulhu, IR_I32, 0xffffffff, 0xffffffff, 0xfffffffe},
    {IR_OP_mulhu, IR_I64, M1, M1, 0xfffffffffffffffe},
    {IR_OP_mulhu, IR_I64, 1ull << 32, 1ull << 32, 1},
    {IR_OP_mulhs, IR_I8, 0xff, 0xff, 0}, {IR_OP_mulhs, IR_I8, I8MIN, 0x7f, 0xc0},
    {IR_OP_mulhs, IR_I16, I16MIN, I16MIN, 0x4000},
    {IR_OP_mulhs, IR_I32, I32MIN, I32MIN, 0x40000000},
    {IR_OP_mulhs, IR_I32, 0xffffffff, 2, 0xffffffff},
    {IR_OP_mulhs, IR_I64, I64MIN, I64MIN, 0x4000000000000000},
    {IR_OP_mulhs, IR_I64, M1, 1, M1}, {IR_OP_mulhs, IR_I64, 0x7fffffffffffffff, 2, 0},
    /* division never traps: x/0 = 0, x%0 = x, MIN/-1 = MIN, MIN%-1 = 0 */
    {IR_OP_divu, IR_I8, 0xff, 0x10, 0x0f}, {IR_OP_divu, IR_I8, 0xff, 0, 0},
    {IR_OP_divu, IR_I16, 0xffff, 0, 0}, {IR_OP_divu, IR_I32, 0xffffffff, 2, 0x7fffffff},
    {IR_OP_divu, IR_I32, 7, 0, 0}, {IR_OP_divu, IR_I64, M1, 2, 0x7fffffffffffffff},
    {IR_OP_divu, IR_I64, M1, 0, 0},
    {IR_OP_divs, IR_I8, I8MIN, 0xff, I8MIN}, {IR_OP_divs, IR_I8, 0xf9, 2, 0xfd},
    {IR_OP_divs, IR_I8, 5, 0, 0}, {IR_OP_divs, IR_I16, I16MIN, 0xffff, I16MIN},
    {IR_OP_divs, IR_I32, I32MIN, 0xffffffff, I32MIN},
    {IR_OP_divs, IR_I32, 0xfffffff9, 2, 0xfffffffd}, {IR_OP_divs, IR_I32, 1, 0, 0},
    {IR_OP_divs, IR_I64, I64MIN, M1, I64MIN}, {IR_OP_divs, IR_I64, (uint64_t)-7, 2, (uint64_t)-3},
    {IR_OP_divs, IR_I64, 1, 0, 0}, {IR_OP_divs, IR_I64, 0x7fffffffffffffff, M1, I64MIN + 1},
    {IR_OP_remu, IR_I8, 0xff, 0x10, 0x0f}, {IR_OP_remu, IR_I8, 7, 0, 7},
    {IR_OP_remu, IR_I16, 0xffff, 0, 0xffff}, {IR_OP_remu, IR_I32, 7, 0, 7},
    {IR_OP_remu, IR_I64, M1, 0, M1}, {IR_OP_remu, IR_I64, 10, 3, 1},
    {IR_OP_rems, IR_I8, I8MIN, 0xff, 0}, {IR_OP_rems, IR_I8, 0xf9, 2, 0xff},
    {IR_OP_rems, IR_I8, 5, 0, 5}, {IR_OP_rems, IR_I16, I16MIN, 0xffff, 0},
    {IR_OP_rems, IR_I32, I32MIN, 0xffffffff, 0}, {IR_OP_rems, IR_I32, 0xfffffff9, 2, 0xffffffff},
    {IR_OP_rems, IR_I64, I64MIN, M1, 0}, {IR_OP_rems, IR_I64, (uint64_t)-7, 2, M1},
    {IR_OP_rems, IR_I64, 9, 0, 9}, {IR_OP_rems, IR_I64, I64MIN, 0, I64MIN},
    /* logic */
    {IR_OP_and, IR_I8, 0xf0, 0x3c, 0x30}, {IR_OP_and, IR_I64, M1, I64MIN, I64MIN},
    {IR_OP_or, IR_I16, 0xf000, 0x000f, 0xf00f}, {IR_OP_or, IR_I32, 0, 0, 0},
    {IR_OP_xor, IR_I32, 0xffffffff, 0x0f0f0f0f, 0xf0f0f0f0}, {IR_OP_xor, IR_I64, M1, M1, 0},
    {IR_OP_andc, IR_I8, 0xff, 0x0f, 0xf0}, {IR_OP_andc, IR_I64, M1, 1, M1 - 1},
    {IR_OP_andc, IR_I32, 0x12345678, 0, 0x12345678},
    /* shifts: count modulo the width */
    {IR_OP_shl, IR_I8, 1, 7, I8MIN}, {IR_OP_shl, IR_I8, 1, 8, 1}, {IR_OP_shl, IR_I8, 0xff, 9, 0xfe},
    {IR_OP_shl, IR_I16, 1, 15, I16MIN}, {IR_OP_shl, IR_I16, 1, 16, 1},
    {IR_OP_shl, IR_I32, 1, 31, I32MIN}, {IR_OP_shl, IR_I32, 1, 32, 1}, {IR_OP_shl, IR_I32, 3, 33, 6},
    {IR_OP_shl, IR_I64, 1, 63, I64MIN}, {IR_OP_shl, IR_I64, 1, 64, 1}, {IR_OP_shl, IR_I64, 1, 65, 2},
    {IR_OP_shr, IR_I8, I8MIN, 7, 1}, {IR_OP_shr, IR_I8, I8MIN, 8, I8MIN},
    {IR_OP_shr, IR_I16, I16MIN, 15, 1}, {IR_OP_shr, IR_I32, I32MIN, 31, 1},
    {IR_OP_shr, IR_I32, I32MIN, 32, I32MIN}, {IR_OP_shr, IR_I64, I64MIN, 63, 1},
    {IR_OP_shr, IR_I64, I64MIN, 64, I64MIN}, {IR_OP_shr, IR_I64, M1, 0xff, 1},
    {IR_OP_sar, IR_I8, I8MIN, 7, 0xff}, {IR_OP_sar, IR_I8, I8MIN, 9, 0xc0},
    {IR_OP_sar, IR_I8, 0x40, 1, 0x20}, {IR_OP_sar, IR_I16, I16MIN, 15, 0xffff},
    {IR_OP_sar, IR_I16, I16MIN, 17, 0xc000}, {IR_OP_sar, IR_I32, I32MIN, 31, 0xffffffff},
    {IR_OP_sar, IR_I32, I32MIN, 63, 0xffffffff}, {IR_OP_sar, IR_I32, 0x7fffffff, 30, 1},
    {IR_OP_sar, IR_I64, I64MIN, 63, M1}, {IR_OP_sar, IR_I64, I64MIN, 1, 0xc000000000000000},
    {IR_OP_sar, IR_I64, I64MIN, 64, I64MIN},
    {IR_OP_rotl, IR_I8, 0x81, 1, 0x03}, {IR_OP_rotl, IR_I8, 0x81, 8, 0x81},
    {IR_OP_rotl, IR_I8, 0x81, 9, 0x03}, {IR_OP_rotl, IR_I16, I16MIN, 1, 1},
    {IR_OP_rotl, IR_I32, I32MIN | 1, 1, 3}, {IR_OP_rotl, IR_I32, 0x12345678, 32, 0x12345678},
    {IR_OP_rotl, IR_I64, I64MIN | 1, 1, 3}, {IR_OP_rotl, IR_I64, 0x1234, 64, 0x1234},
    {IR_OP_rotr, IR_I8, 0x81, 1, 0xc0}, {IR_OP_rotr, IR_I16, 1, 1, I16MIN},
    {IR_OP_rotr, IR_I32, 3, 1, I32MIN | 1}, {IR_OP_rotr, IR_I32, 1, 33, I32MIN},
    {IR_OP_rotr, IR_I64, 1, 1, I64MIN}, {IR_OP_rotr, IR_I64, 0xf0, 68, 0xf},
};

START_TEST(test_binops_on_edge_values_of_every_width)
{
    for (size_t i = 0; i < sizeof bin_cases / sizeof bin_cases[0]; i++) {
        const BinCase *c = &bin_cases[i];
        check_binop(c->opc, c->t, c->a, c->b, c->r);
    }
}
END_TEST

typedef struct UnCase {
    IrOpcode opc;
    IrType t;
    uint64_t a, r;
} UnCase;

static const UnCase un_cases[] = {
    {IR_OP_neg, IR_I8, I8MIN, I8MIN}, {IR_OP_neg, IR_I8, 1, 0xff}, {IR_OP_neg, IR_I16, 0, 0},
    {IR_OP_neg, IR_I32, 1, 0xffffffff}, {IR_OP_neg, IR_I64, I64MIN, I64MIN},
    {IR_OP_neg, IR_I64, 1, M1},
    {IR_OP_not, IR_I8, 0, 0xff}, {IR_OP_not, IR_I16, 0x00ff, 0xff00},
    {IR_OP_not, IR_I32, 0, 0xffffffff}, {IR_OP_not, IR_I64, 0, M1},
    {IR_OP_clz, IR_I8, 0, 8}, {IR_OP_clz, IR_I8, 1, 7}, {IR_OP_clz, IR_I8, I8MIN, 0},
    {IR_OP_clz, IR_I16, 0, 16}, {IR_OP_clz, IR_I16, 1, 15}, {IR_OP_clz, IR_I32, 0, 32},
    {IR_OP_clz, IR_I32, 1, 31}, {IR_OP_clz, IR_I64, 0, 64}, {IR_OP_clz, IR_I64, 1, 63},
    {IR_OP_clz, IR_I64, I64MIN, 0},
    {IR_OP_ctz, IR_I8, 0, 8}, {IR_OP_ctz, IR_I8, I8MIN, 7}, {IR_OP_ctz, IR_I16, 0, 16},
    {IR_OP_ctz, IR_I32, 0, 32}, {IR_OP_ctz, IR_I32, I32MIN, 31}, {IR_OP_ctz, IR_I64, 0, 64},
    {IR_OP_ctz, IR_I64, I64MIN, 63}, {IR_OP_ctz, IR_I64, 1, 0},
    {IR_OP_popcnt, IR_I8, 0xff, 8}, {IR_OP_popcnt, IR_I16, 0xffff, 16},
    {IR_OP_popcnt, IR_I32, 0xffffffff, 32}, {IR_OP_popcnt, IR_I64, M1, 64},
    {IR_OP_popcnt, IR_I64, 0, 0}, {IR_OP_popcnt, IR_I64, I64MIN | 1, 2},
    {IR_OP_bswap, IR_I8, 0x12, 0x12}, {IR_OP_bswap, IR_I16, 0x1234, 0x3412},
    {IR_OP_bswap, IR_I32, 0x12345678, 0x78563412},
    {IR_OP_bswap, IR_I64, 0x0102030405060708, 0x0807060504030201},
    {IR_OP_bitrev, IR_I8, 0x01, 0x80}, {IR_OP_bitrev, IR_I8, 0x0f, 0xf0},
    {IR_OP_bitrev, IR_I16, 1, I16MIN}, {IR_OP_bitrev, IR_I32, 1, I32MIN},
    {IR_OP_bitrev, IR_I32, 0x12345678, 0x1e6a2c48}, {IR_OP_bitrev, IR_I64, 1, I64MIN},
    {IR_OP_bitrev, IR_I64, 3, 0xc000000000000000},
};

START_TEST(test_unops_on_edge_values_of_every_width)
{
    for (size_t i = 0; i < sizeof un_cases / sizeof un_cases[0]; i++)
        check_unop(un_cases[i].opc, un_cases[i].t, un_cases[i].a, un_cases[i].r);
}
END_TEST

/* ---- bitfields ------------------------------------------------------------ */
typedef struct FieldCase {
    IrOpcode opc;
    IrType t;
    uint64_t a, v;
    unsigned pos, len;
    uint64_t r;
} FieldCase;

static const FieldCase field_cases[] = {
    {IR_OP_extract, IR_I64, 0x123456789abcdef0, 0, 8, 8, 0xde},
    {IR_OP_extract, IR_I64, 0x123456789abcdef0, 0, 0, 64, 0x123456789abcdef0},
    {IR_OP_extract, IR_I64, 0x123456789abcdef0, 0, 60, 4, 1},
    {IR_OP_extract, IR_I32, I32MIN, 0, 31, 1, 1},
    {IR_OP_extract, IR_I8, 0xf0, 0, 4, 4, 0xf},
    {IR_OP_extract, IR_I16, 0xabcd, 0, 4, 8, 0xbc},
    {IR_OP_sextract, IR_I64, 0x80, 0, 0, 8, 0xffffffffffffff80},
    {IR_OP_sextract, IR_I32, 0x8000, 0, 12, 4, 0xfffffff8},
    {IR_OP_sextract, IR_I8, 0x70, 0, 4, 3, 0xff},
    {IR_OP_sextract, IR_I64, I64MIN, 0, 0, 64, I64MIN},
    {IR_OP_sextract, IR_I16, 0x7fff, 0, 0, 16, 0x7fff},
    {IR_OP_sextract, IR_I32, 0x70000000, 0, 28, 4, 7},
    {IR_OP_deposit, IR_I64, M1, 0, 8, 8, 0xffffffffffff00ff},
    {IR_OP_deposit, IR_I32, 0, 0xff, 28, 4, 0xf0000000},
    {IR_OP_deposit, IR_I8, 0, 3, 6, 2, 0xc0},
    {IR_OP_deposit, IR_I64, 0, M1, 0, 64, M1},
    {IR_OP_deposit, IR_I16, 0x1234, 0xab, 4, 8, 0x1ab4},
};

START_TEST(test_bitfield_ops_extract_sextract_deposit)
{
    for (size_t i = 0; i < sizeof field_cases / sizeof field_cases[0]; i++) {
        const FieldCase *c = &field_cases[i];
        for (int simplify = 0; simplify < 2; simplify++) {
            TEnv e = {0};
            tenv_set(&e, c->t, 0, c->a);
            tenv_set(&e, c->t, 1, c->v);
            IrBlock *b = tblock(simplify);
            IrTemp r;
            if (c->opc == IR_OP_deposit)
                r = ir_deposit(b, c->t, tg_int(c->t, 0), tg_int(c->t, 1), c->pos, c->len);
            else if (c->opc == IR_OP_extract)
                r = ir_extract(b, c->t, tg_int(c->t, 0), c->pos, c->len);
            else
                r = ir_sextract(b, c->t, tg_int(c->t, 0), c->pos, c->len);
            ir_mov(b, c->t, tg_int(c->t, 2), r);
            ir_exit(b, IR_EXIT_NONE, 0);
            ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
            ck_assert_msg(tenv_get(&e, c->t, 2) == c->r, "case %zu: got 0x%llx", i,
                          (unsigned long long)tenv_get(&e, c->t, 2));
            ir_block_free(b);
        }
        /* folded with constant inputs */
        IrBlock *b = tblock(true);
        IrTemp a = ir_const(b, c->t, c->a), v = ir_const(b, c->t, c->v), r;
        if (c->opc == IR_OP_deposit)
            r = ir_deposit(b, c->t, a, v, c->pos, c->len);
        else if (c->opc == IR_OP_extract)
            r = ir_extract(b, c->t, a, c->pos, c->len);
        else
            r = ir_sextract(b, c->t, a, c->pos, c->len);
        ck_assert_int_eq(b->temps[r].kind, IR_TEMP_CONST);
        ck_assert_uint_eq(b->temps[r].val[0], c->r);
        ir_block_free(b);
    }
}
END_TEST

/* ---- conversions and 128-bit values ---------------------------------------- */
static uint64_t run_conv(IrOpcode opc, IrType to, IrType from, uint64_t a)
{
    TEnv e = {0};
    tenv_set(&e, from, 0, a);
    IrBlock *b = tblock(false);
    IrTemp r = opc == IR_OP_zext   ? ir_zext(b, to, from, tg_int(from, 0))
               : opc == IR_OP_sext ? ir_sext(b, to, from, tg_int(from, 0))
                                   : ir_trunc(b, to, from, tg_int(from, 0));
    ir_mov(b, to, tg_int(to, 3), r);
    ir_exit(b, IR_EXIT_NONE, 0);
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ir_block_free(b);
    uint64_t got = tenv_get(&e, to, 3);
    /* the folded form agrees */
    b = tblock(true);
    IrTemp c = ir_const(b, from, a);
    r = opc == IR_OP_zext ? ir_zext(b, to, from, c)
        : opc == IR_OP_sext ? ir_sext(b, to, from, c) : ir_trunc(b, to, from, c);
    ck_assert_int_eq(b->temps[r].kind, IR_TEMP_CONST);
    ck_assert_uint_eq(b->temps[r].val[0], got);
    ir_block_free(b);
    return got;
}

START_TEST(test_zext_sext_trunc_between_widths)
{
    ck_assert_uint_eq(run_conv(IR_OP_zext, IR_I64, IR_I8, 0x80), 0x80);
    ck_assert_uint_eq(run_conv(IR_OP_sext, IR_I64, IR_I8, 0x80), 0xffffffffffffff80);
    ck_assert_uint_eq(run_conv(IR_OP_sext, IR_I32, IR_I16, 0x8000), 0xffff8000);
    ck_assert_uint_eq(run_conv(IR_OP_sext, IR_I16, IR_I8, 0x7f), 0x7f);
    ck_assert_uint_eq(run_conv(IR_OP_zext, IR_I64, IR_I32, 0xffffffff), 0xffffffff);
    ck_assert_uint_eq(run_conv(IR_OP_sext, IR_I64, IR_I32, 0x7fffffff), 0x7fffffff);
    ck_assert_uint_eq(run_conv(IR_OP_sext, IR_I64, IR_I32, I32MIN), 0xffffffff80000000);
    ck_assert_uint_eq(run_conv(IR_OP_zext, IR_I16, IR_I8, 0xff), 0xff);
    ck_assert_uint_eq(run_conv(IR_OP_trunc, IR_I32, IR_I64, 0x123456789), 0x23456789);
    ck_assert_uint_eq(run_conv(IR_OP_trunc, IR_I8, IR_I64, 0x1ff), 0xff);
    ck_assert_uint_eq(run_conv(IR_OP_trunc, IR_I16, IR_I32, 0xdead8001), 0x8001);
}
END_TEST

START_TEST(test_128bit_concat_high64_trunc_bitcast_and_mov)
{
    TEnv e = {0};
    e.x[0] = 0x1111222233334444;
    e.x[1] = 0x5555666677778888;
    IrBlock *b = tblock(false);
    IrTemp q = ir_concat(b, IR_I128, tg.x[0], tg.x[1]);
    ir_mov(b, IR_I128, tg.q[0], q);
    IrTemp hi = ir_high64(b, tg.q[0]);
    ir_mov(b, IR_I64, tg.x[2], hi);
    IrTemp lo = ir_trunc(b, IR_I64, IR_I128, tg.q[0]);
    ir_mov(b, IR_I64, tg.x[3], lo);
    IrTemp vv = ir_bitcast(b, IR_V128, tg.q[0]);
    ir_mov(b, IR_V128, tg.v[1], vv);
    ir_mov(b, IR_I128, tg.q[1], ir_const128(b, IR_I128, 0xaa, 0xbb));
    IrTemp w = ir_trunc(b, IR_I32, IR_I128, ir_const128(b, IR_I128, 0x123456789, 7));
    ir_mov(b, IR_I32, tg.w[0], w);
    IrTemp vh = ir_high64(b, ir_concat(b, IR_V128, tg.x[1], tg.x[0]));
    ir_mov(b, IR_I64, tg.x[1], vh);
    ir_exit(b, IR_EXIT_NONE, 0);
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(e.q[0][0], 0x1111222233334444);
    ck_assert_uint_eq(e.q[0][1], 0x5555666677778888);
    ck_assert_uint_eq(e.x[2], 0x5555666677778888);
    ck_assert_uint_eq(e.x[3], 0x1111222233334444);
    ck_assert_int_eq(memcmp(e.v[1], e.q[0], 16), 0);
    ck_assert_uint_eq(e.q[1][0], 0xaa);
    ck_assert_uint_eq(e.q[1][1], 0xbb);
    ck_assert_uint_eq(e.w[0], 0x23456789);
    ck_assert_uint_eq(e.x[1], 0x1111222233334444);
    ir_block_free(b);
}
END_TEST

START_TEST(test_float_bits_bitcast_and_move_unchanged)
{
    TEnv e = {0};
    e.w[0] = 0x3f800000; /* 1.0f */
    e.x[0] = 0x4000000000000000; /* 2.0 */
    IrBlock *b = tblock(false);
    ir_mov(b, IR_F32, tg.s, ir_bitcast(b, IR_F32, tg.w[0]));
    ir_mov(b, IR_F64, tg.d, ir_bitcast(b, IR_F64, tg.x[0]));
    ir_mov(b, IR_I64, tg.x[1], ir_bitcast(b, IR_I64, tg.d));
    ir_mov(b, IR_I32, tg.w[1], ir_bitcast(b, IR_I32, tg.s));
    ir_exit(b, IR_EXIT_NONE, 0);
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(e.s, 0x3f800000);
    ck_assert_uint_eq(e.d, 0x4000000000000000);
    ck_assert_uint_eq(e.x[1], 0x4000000000000000);
    ck_assert_uint_eq(e.w[1], 0x3f800000);
    ir_block_free(b);
}
END_TEST

/* ---- conditions -------------------------------------------------------------- */
/* Expected results for (MIN, 1) and (-1, -1) per condition. */
static const int cond_min_1[IR_COND_COUNT] = {0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0};
static const int cond_m1_m1[IR_COND_COUNT] = {1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0};

static uint64_t type_min(IrType t)
{
    return 1ull << (ir_type_bits(t) - 1);
}

static uint64_t type_m1(IrType t)
{
    return ir_type_bits(t) == 64 ? M1 : (1ull << ir_type_bits(t)) - 1;
}

START_TEST(test_setcond_every_condition_signed_and_unsigned)
{
    static const IrType types[] = {IR_I8, IR_I16, IR_I32, IR_I64};
    for (int ti = 0; ti < 4; ti++)
        for (int c = 0; c < IR_COND_COUNT; c++)
            for (int pair = 0; pair < 2; pair++) {
                IrType t = types[ti];
                uint64_t a = pair ? type_m1(t) : type_min(t), bv = pair ? type_m1(t) : 1;
                int want = pair ? cond_m1_m1[c] : cond_min_1[c];
                TEnv e = {0};
                tenv_set(&e, t, 0, a);
                tenv_set(&e, t, 1, bv);
                tenv_set(&e, t, 2, 0x55);
                IrBlock *b = tblock(false);
                ir_mov(b, t, tg_int(t, 2), ir_setcond(b, t, c, tg_int(t, 0), tg_int(t, 1)));
                ir_exit(b, IR_EXIT_NONE, 0);
                ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
                ck_assert_msg(tenv_get(&e, t, 2) == (uint64_t)want, "setcond %s.%s pair %d",
                              ir_cond_name(c), ir_type_name(t), pair);
                ck_assert_int_eq(ir_cond_eval(c, t, a, bv), want);
                ck_assert_int_eq(ir_cond_eval(ir_cond_invert(c), t, a, bv), !want);
                ck_assert_int_eq(ir_cond_eval(ir_cond_swap(c), t, bv, a), want);
                ir_block_free(b);
                b = tblock(true);
                IrTemp r = ir_setcond(b, t, c, ir_const(b, t, a), ir_const(b, t, bv));
                ck_assert_int_eq(b->temps[r].kind, IR_TEMP_CONST);
                ck_assert_uint_eq(b->temps[r].val[0], (uint64_t)want);
                ir_block_free(b);
            }
}
END_TEST

START_TEST(test_movcond_selects_by_condition)
{
    for (int c = 0; c < IR_COND_COUNT; c++) {
        TEnv e = {0};
        e.w[0] = (uint32_t)I32MIN;
        e.w[1] = 1;
        e.w[2] = 111;
        e.w[3] = 222;
        IrBlock *b = tblock(false);
        IrTemp r = ir_movcond(b, IR_I32, c, tg.w[0], tg.w[1], tg.w[2], tg.w[3]);
        ir_mov(b, IR_I32, tg.w[0], r);
        ir_exit(b, IR_EXIT_NONE, 0);
        ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
        ck_assert_uint_eq(e.w[0], cond_min_1[c] ? 111 : 222);
        ir_block_free(b);
        /* "c ? 1 : 0" and "c ? 0 : 1" are built as a setcond of c or !c */
        for (int one_first = 0; one_first < 2; one_first++) {
            e.w[0] = (uint32_t)I32MIN;
            b = tblock(false);
            IrTemp k1 = ir_const(b, IR_I32, 1), k0 = ir_const(b, IR_I32, 0);
            r = ir_movcond(b, IR_I32, c, tg.w[0], tg.w[1], one_first ? k1 : k0,
                           one_first ? k0 : k1);
            ck_assert_uint_eq(b->ops[b->n_ops - 1].opc, IR_OP_setcond);
            ir_mov(b, IR_I32, tg.w[2], r);
            ir_exit(b, IR_EXIT_NONE, 0);
            ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
            ck_assert_uint_eq(e.w[2], (uint32_t)(cond_min_1[c] == one_first));
            ir_block_free(b);
        }
    }
}
END_TEST

START_TEST(test_brcond_every_condition_takes_the_branch_iff_true)
{
    static const IrType types[] = {IR_I8, IR_I16, IR_I32, IR_I64};
    for (int ti = 0; ti < 4; ti++)
        for (int c = 0; c < IR_COND_COUNT; c++) {
            IrType t = types[ti];
            TEnv e = {0};
            tenv_set(&e, t, 0, type_min(t));
            tenv_set(&e, t, 1, 1);
            IrBlock *b = tblock(false);
            uint32_t l = ir_new_label(b);
            ir_brcond(b, t, c, tg_int(t, 0), tg_int(t, 1), l);
            ir_exit(b, IR_EXIT_NONE, 0x10);
            ir_label(b, l);
            ir_exit(b, IR_EXIT_NONE, 0x20);
            IrExitInfo ex;
            ck_assert_int_eq(trun(b, &e, &ex, NULL), IR_INTERP_EXITED);
            ck_assert_uint_eq(ex.pc, cond_min_1[c] ? 0x20 : 0x10);
            ck_assert_uint_eq(e.common.pc, ex.pc);
            ir_block_free(b);
        }
}
END_TEST

START_TEST(test_loop_with_labels_and_backward_branch_sums)
{
    TEnv e = {0};
    e.x[0] = 10;
    IrBlock *b = tblock(false);
    uint32_t top = ir_new_label(b), out = ir_new_label(b);
    ir_mov(b, IR_I64, tg.x[1], ir_const(b, IR_I64, 0));
    ir_label(b, top);
    ir_brcond(b, IR_I64, IR_COND_EQ, tg.x[0], ir_const(b, IR_I64, 0), out);
    ir_mov(b, IR_I64, tg.x[1], ir_add(b, IR_I64, tg.x[1], tg.x[0]));
    ir_mov(b, IR_I64, tg.x[0], ir_sub(b, IR_I64, tg.x[0], ir_const(b, IR_I64, 1)));
    ir_br(b, top);
    ir_label(b, out);
    ir_emit(b, IR_OP_nop, IR_VOID, NULL, NULL);
    ir_goto_tb(b, 1, 0x2000);
    IrExitInfo ex;
    ck_assert_int_eq(trun(b, &e, &ex, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(e.x[1], 55);
    ck_assert_uint_eq(ex.kind, IR_OP_goto_tb);
    ck_assert_uint_eq(ex.slot, 1);
    ck_assert_uint_eq(ex.pc, 0x2000);
    ck_assert_uint_eq(e.common.pc, 0x2000);
    ir_block_free(b);
}
END_TEST

/* ---- memory ----------------------------------------------------------------- */
static void tmem_fill(void)
{
    for (unsigned i = 0; i < TMEM_SIZE; i++)
        tmem[i] = (uint8_t)(i * 7 + 0x81);
}

START_TEST(test_loads_extend_per_memop_sign_and_size)
{
    tmem_fill();
    static const struct {
        IrType t;
        IrMemOp mo;
        uint64_t want;
    } cases[] = {
        {IR_I64, IR_MO_8, 0x81},
        {IR_I64, IR_MO_8 | IR_MO_SIGN, 0xffffffffffffff81},
        {IR_I32, IR_MO_8 | IR_MO_SIGN, 0xffffff81},
        {IR_I64, IR_MO_16, 0x8881},
        {IR_I64, IR_MO_16 | IR_MO_SIGN, 0xffffffffffff8881},
        {IR_I64, IR_MO_32, 0x968f8881},
        {IR_I64, IR_MO_32 | IR_MO_SIGN, 0xffffffff968f8881},
        {IR_I32, IR_MO_32, 0x968f8881},
        {IR_I64, IR_MO_64, 0xb2aba49d968f8881},
        {IR_I16, IR_MO_16, 0x8881},
        {IR_I8, IR_MO_8, 0x81},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TEnv e = {0};
        e.x[0] = TMEM_BASE;
        IrBlock *b = tblock(false);
        IrTemp r = ir_ld(b, cases[i].t, tg.x[0], cases[i].mo);
        ir_mov(b, cases[i].t, tg_int(cases[i].t, 2), r);
        ir_exit(b, IR_EXIT_NONE, 0);
        ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
        ck_assert_msg(tenv_get(&e, cases[i].t, 2) == cases[i].want, "load case %zu: 0x%llx", i,
                      (unsigned long long)tenv_get(&e, cases[i].t, 2));
        ir_block_free(b);
    }
}
END_TEST

START_TEST(test_stores_write_exactly_their_size_and_128bit_round_trips)
{
    memset(tmem, 0xee, sizeof tmem);
    TEnv e = {0};
    e.x[0] = TMEM_BASE + 0x100;
    e.x[1] = 0x0102030405060708;
    e.q[0][0] = 0x1122334455667788;
    e.q[0][1] = 0x99aabbccddeeff00;
    IrBlock *b = tblock(false);
    ir_st(b, IR_I64, tg.x[0], tg.x[1], IR_MO_16);
    IrTemp a2 = ir_add(b, IR_I64, tg.x[0], ir_const(b, IR_I64, 0x10));
    ir_st(b, IR_I128, a2, tg.q[0], IR_MO_128 | IR_MO_ALIGN(4));
    ir_mov(b, IR_V128, tg.v[0], ir_ld(b, IR_V128, a2, IR_MO_128));
    ir_st(b, IR_I8, tg.x[0], ir_const(b, IR_I8, 0x5a), IR_MO_8);
    IrTemp a3 = ir_add(b, IR_I64, tg.x[0], ir_const(b, IR_I64, 0x20));
    ir_st(b, IR_F64, a3, ir_bitcast(b, IR_F64, tg.x[1]), IR_MO_64);
    ir_mov(b, IR_F32, tg.s, ir_ld(b, IR_F32, a3, IR_MO_32));
    ir_exit(b, IR_EXIT_NONE, 0);
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(tmem[0x100], 0x5a);
    ck_assert_uint_eq(tmem[0x101], 0x07);
    ck_assert_uint_eq(tmem[0x102], 0xee);
    ck_assert_int_eq(memcmp(&tmem[0x110], e.q[0], 16), 0);
    ck_assert_int_eq(memcmp(e.v[0], e.q[0], 16), 0);
    ck_assert_uint_eq(e.s, 0x05060708);
    ir_block_free(b);
}
END_TEST

START_TEST(test_memory_fault_reports_insn_and_keeps_globals)
{
    TEnv e = {0};
    e.x[0] = TMEM_BASE;
    e.x[1] = 7;
    IrBlock *b = tblock(false);
    ir_mov(b, IR_I64, tg.x[1], ir_const(b, IR_I64, 8)); /* insn 0 completes */
    ir_insn_start(b, 0x1004, 4);
    IrTemp v = ir_ld(b, IR_I64, ir_const(b, IR_I64, TMEM_HOLE), IR_MO_64);
    ir_mov(b, IR_I64, tg.x[1], v);
    ir_exit(b, IR_EXIT_NONE, 0x1008);
    uint32_t fi = 99;
    ck_assert_int_eq(trun(b, &e, NULL, &fi), IR_INTERP_FAULT);
    ck_assert_uint_eq(fi, 1);
    ck_assert_uint_eq(e.x[1], 8);
    ck_assert_uint_eq(e.common.pc, 0x1004);
    ir_block_free(b);

    /* stores, atomics and unmapped addresses fault the same way */
    for (int kind = 0; kind < 4; kind++) {
        b = tblock(false);
        IrTemp a = ir_const(b, IR_I64, kind == 3 ? 8 : TMEM_HOLE + 4);
        IrTemp one = ir_const(b, IR_I32, 1);
        if (kind == 0 || kind == 3)
            ir_st(b, IR_I32, a, one, IR_MO_32);
        else if (kind == 1)
            ir_cmpxchg(b, IR_I32, a, one, one, IR_MO_32);
        else
            ir_atomic_rmw(b, IR_I32, IR_RMW_ADD, a, one, IR_MO_32);
        ir_exit(b, IR_EXIT_NONE, 0);
        ck_assert_int_eq(trun(b, &e, NULL, &fi), IR_INTERP_FAULT);
        ck_assert_uint_eq(fi, 0);
        ir_block_free(b);
    }
}
END_TEST

START_TEST(test_misaligned_access_faults_when_alignment_is_required)
{
    TEnv e = {0};
    IrBlock *b = tblock(false);
    ir_ld(b, IR_I32, ir_const(b, IR_I64, TMEM_BASE + 2), IR_MO_32 | IR_MO_ALIGN(2));
    ir_exit(b, IR_EXIT_NONE, 0);
    unsigned before = tmem_accesses;
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_FAULT);
    ck_assert_uint_eq(tmem_accesses, before); /* checked before touching memory */
    ir_block_free(b);
    b = tblock(false);
    ir_ld(b, IR_I32, ir_const(b, IR_I64, TMEM_BASE + 2), IR_MO_32);
    ir_exit(b, IR_EXIT_NONE, 0);
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ir_block_free(b);
}
END_TEST

START_TEST(test_cmpxchg_swaps_only_on_match_and_returns_old)
{
    memset(tmem, 0, sizeof tmem);
    uint32_t init = 0x80000005;
    memcpy(&tmem[0x40], &init, 4);
    TEnv e = {0};
    IrBlock *b = tblock(false);
    IrTemp a = ir_const(b, IR_I64, TMEM_BASE + 0x40);
    IrTemp o1 = ir_cmpxchg(b, IR_I64, a, ir_const(b, IR_I64, 4), ir_const(b, IR_I64, 9),
                           IR_MO_32 | IR_MO_SIGN);
    ir_mov(b, IR_I64, tg.x[0], o1);
    IrTemp o2 = ir_cmpxchg(b, IR_I32, a, ir_const(b, IR_I32, 0x80000005),
                           ir_const(b, IR_I32, 9), IR_MO_32);
    ir_mov(b, IR_I32, tg.w[0], o2);
    /* 128-bit */
    IrTemp a2 = ir_const(b, IR_I64, TMEM_BASE + 0x80);
    IrTemp o3 = ir_cmpxchg(b, IR_I128, a2, ir_const128(b, IR_I128, 0, 0),
                           ir_const128(b, IR_I128, 1, 2), IR_MO_128 | IR_MO_ALIGN(4));
    ir_mov(b, IR_I128, tg.q[0], o3);
    ir_exit(b, IR_EXIT_NONE, 0);
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(e.x[0], 0xffffffff80000005); /* mismatch, sign-extended old */
    ck_assert_uint_eq(e.w[0], 0x80000005);         /* matched */
    uint32_t now;
    memcpy(&now, &tmem[0x40], 4);
    ck_assert_uint_eq(now, 9);
    uint64_t q[2];
    memcpy(q, &tmem[0x80], 16);
    ck_assert_uint_eq(q[0], 1);
    ck_assert_uint_eq(q[1], 2);
    ck_assert_uint_eq(e.q[0][0], 0);
    ck_assert_uint_eq(e.q[0][1], 0);
    ir_block_free(b);
}
END_TEST

START_TEST(test_atomic_rmw_every_op_returns_old_and_stores_result)
{
    static const struct {
        IrRmwOp op;
        uint32_t old, val, now;
    } cases[] = {
        {IR_RMW_XCHG, 5, 9, 9},
        {IR_RMW_ADD, 0xffffffff, 2, 1},
        {IR_RMW_AND, 0xf0f0, 0xff00, 0xf000},
        {IR_RMW_OR, 0xf0f0, 0x0f00, 0xfff0},
        {IR_RMW_XOR, 0xffff, 0x0ff0, 0xf00f},
        {IR_RMW_ANDC, 0xffff, 0x00f0, 0xff0f},
        {IR_RMW_SMAX, 0x80000000, 1, 1},
        {IR_RMW_SMIN, 0x80000000, 1, 0x80000000},
        {IR_RMW_UMAX, 0x80000000, 1, 0x80000000},
        {IR_RMW_UMIN, 0x80000000, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(&tmem[0x200], &cases[i].old, 4);
        TEnv e = {0};
        IrBlock *b = tblock(false);
        IrTemp r = ir_atomic_rmw(b, IR_I32, cases[i].op, ir_const(b, IR_I64, TMEM_BASE + 0x200),
                                 ir_const(b, IR_I32, cases[i].val), IR_MO_32 | IR_MO_ALIGN(2));
        ir_mov(b, IR_I32, tg.w[1], r);
        ir_exit(b, IR_EXIT_NONE, 0);
        ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
        uint32_t now;
        memcpy(&now, &tmem[0x200], 4);
        ck_assert_msg(now == cases[i].now, "rmw %zu: memory 0x%x", i, now);
        ck_assert_uint_eq(e.w[1], cases[i].old);
        ir_block_free(b);
    }
    /* 8-bit smax compares at the access width */
    tmem[0x300] = 0x80;
    TEnv e = {0};
    IrBlock *b = tblock(false);
    ir_mov(b, IR_I64, tg.x[0],
           ir_atomic_rmw(b, IR_I64, IR_RMW_SMAX, ir_const(b, IR_I64, TMEM_BASE + 0x300),
                         ir_const(b, IR_I64, 0x7f), IR_MO_8 | IR_MO_SIGN));
    ir_fence(b, IR_FENCE_FULL);
    /* a prefetch of an address outside guest memory is no fault */
    ir_prefetch(b, ir_const(b, IR_I64, 0xdead000000000000), IR_PREFETCH_WRITE);
    ir_exit(b, IR_EXIT_NONE, 0);
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(tmem[0x300], 0x7f);
    ck_assert_uint_eq(e.x[0], 0xffffffffffffff80);
    ir_block_free(b);
}
END_TEST

/* ---- env, helpers, exits ---------------------------------------------------- */
START_TEST(test_ldenv_stenv_reach_non_global_fields)
{
    TEnv e = {0};
    e.priv[0] = 0x123456789abcdef0;
    IrBlock *b = tblock(false);
    IrTemp v = ir_ldenv(b, IR_I32, offsetof(TEnv, priv) + 4);
    ir_mov(b, IR_I32, tg.w[0], v);
    ir_stenv(b, IR_I16, offsetof(TEnv, priv) + 8, ir_const(b, IR_I16, 0xbeef));
    ir_stenv(b, IR_I64, offsetof(TEnv, priv) + 16, tg.x[1]);
    ir_exit(b, IR_EXIT_NONE, 0);
    e.x[1] = 42;
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(e.w[0], 0x12345678);
    ck_assert_uint_eq(e.priv[1], 0xbeef);
    ck_assert_uint_eq(e.priv[2], 42);
    ir_block_free(b);
}
END_TEST

START_TEST(test_helper_call_passes_args_and_returns_result)
{
    TEnv e = {0};
    e.x[0] = 1;
    e.x[1] = 20;
    IrBlock *b = tblock(false);
    IrTemp r = ir_call(b, IR_HELPER_ir_test_add3,
                       (IrTemp[]){tg.x[0], tg.x[1], ir_const(b, IR_I64, 300)}, 3);
    ir_mov(b, IR_I64, tg.x[2], r);
    ck_assert_uint_eq(ir_call(b, IR_HELPER_ir_debug_nop, NULL, 0), IR_TEMP_NONE);
    ir_exit(b, IR_EXIT_NONE, 0);
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(e.x[2], 321);
    ir_block_free(b);
}
END_TEST

START_TEST(test_helper_i32_result_is_truncated_and_faulting_helper_sees_insn_pc)
{
    TEnv e = {0};
    e.w[0] = 0xffffffff;
    e.x[0] = 0x100000005;
    e.common.pc = 0x777;
    IrBlock *b = tblock(false);
    ir_mov(b, IR_I32, tg.w[1], ir_call(b, IR_HELPER_ir_test_mix32, (IrTemp[]){tg.w[0], tg.x[0]}, 2));
    ir_insn_start(b, 0x1004, 4);
    ir_mov(b, IR_I64, tg.x[1], ir_call(b, IR_HELPER_ir_test_get_pc, NULL, 0));
    ir_call(b, IR_HELPER_ir_test_store_env64,
            (IrTemp[]){ir_const(b, IR_I64, offsetof(TEnv, x[3])), ir_const(b, IR_I64, 99)}, 2);
    ir_exit(b, IR_EXIT_NONE, 0);
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(e.w[1], (uint32_t)(0xffffffffu * 3u + 5u));
    ck_assert_uint_eq(e.x[1], 0x1004);
    ck_assert_uint_eq(e.x[3], 99);
    ir_block_free(b);
}
END_TEST

START_TEST(test_exits_fill_exit_info_and_env)
{
    TEnv e = {0};
    IrExitInfo ex;
    IrBlock *b = tblock(false);
    ir_exit(b, IR_EXIT_SYSCALL, 0x1004);
    ck_assert_int_eq(trun(b, &e, &ex, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(ex.kind, IR_OP_exit);
    ck_assert_uint_eq(ex.reason, IR_EXIT_SYSCALL);
    ck_assert_uint_eq(ex.pc, 0x1004);
    ck_assert_uint_eq(e.common.pc, 0x1004);
    ck_assert_uint_eq(e.common.exit_reason, IR_EXIT_SYSCALL);
    ir_block_free(b);

    e.x[3] = 0xdead0;
    b = tblock(false);
    ir_goto_ptr(b, tg.x[3]);
    ck_assert_int_eq(trun(b, &e, &ex, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(ex.kind, IR_OP_goto_ptr);
    ck_assert_uint_eq(ex.pc, 0xdead0);
    ck_assert_uint_eq(e.common.pc, 0xdead0);
    ir_block_free(b);

    b = tblock(false);
    ir_goto_tb(b, 0, 0x3000);
    ck_assert_int_eq(trun(b, &e, &ex, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(ex.kind, IR_OP_goto_tb);
    ck_assert_uint_eq(ex.slot, 0);
    ck_assert_uint_eq(ex.pc, 0x3000);
    ir_block_free(b);
}
END_TEST

START_TEST(test_prepared_code_runs_repeatedly_after_block_is_freed)
{
    IrBlock *b = tblock(false);
    ir_mov(b, IR_I64, tg.x[0], ir_add(b, IR_I64, tg.x[0], ir_const(b, IR_I64, 3)));
    ir_exit(b, IR_EXIT_NONE, 0);
    char err[128];
    IrInterpCode *code = ir_interp_prepare(b, err, sizeof err);
    ck_assert_ptr_nonnull(code);
    ck_assert_uint_eq(ir_interp_insn_pc(code, 0), 0x1000);
    ir_block_free(b);
    TEnv e = {0};
    IrExitInfo ex;
    uint32_t fi;
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(ir_interp_exec(code, &e, &tmem_iface, &ex, &fi), IR_INTERP_EXITED);
    ck_assert_uint_eq(e.x[0], 15);
    ir_interp_free(code);
}
END_TEST

START_TEST(test_invalid_block_is_refused_with_a_message_not_run)
{
    IrBlock *b = tblock(false);
    ir_mov(b, IR_I64, tg.x[0], tg.x[1]); /* no exit at the end */
    char err[128] = "";
    ck_assert_ptr_null(ir_interp_prepare(b, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "exit"));
    ir_block_free(b);
    b = tblock(false);
    ir_emit(b, IR_OP_mov, IR_I128, (IrTemp[]){tg.w[0], tg.x[1]}, NULL); /* ill-typed */
    ir_exit(b, IR_EXIT_NONE, 0);
    ck_assert_ptr_null(ir_interp_prepare(b, err, sizeof err));
    TEnv e = {0};
    IrExitInfo ex;
    uint32_t fi;
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w"); /* ir_interp_run reports the reason there */
    IrInterpStatus st = ir_interp_run(b, &e, &tmem_iface, &ex, &fi);
    fclose(stderr);
    stderr = saved;
    ck_assert_int_eq(st, IR_INTERP_INVALID);
    ck_assert_uint_eq(e.w[0], 0);
    ir_block_free(b);
}
END_TEST

/* Must run last: every op of ir-ops.def appeared in some interpreted block. */
START_TEST(test_every_op_in_the_table_is_exercised_by_the_interpreter)
{
    for (int op = 0; op < IR_OP_COUNT; op++)
        ck_assert_msg(ir_test_op_covered[op], "op %s has no interpreter test",
                      ir_op_info[op].name);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ir");
    TCase *tc = tcase_create("interp");
    tcase_add_test(tc, test_binops_on_edge_values_of_every_width);
    tcase_add_test(tc, test_unops_on_edge_values_of_every_width);
    tcase_add_test(tc, test_bitfield_ops_extract_sextract_deposit);
    tcase_add_test(tc, test_zext_sext_trunc_between_widths);
    tcase_add_test(tc, test_128bit_concat_high64_trunc_bitcast_and_mov);
    tcase_add_test(tc, test_float_bits_bitcast_and_move_unchanged);
    tcase_add_test(tc, test_setcond_every_condition_signed_and_unsigned);
    tcase_add_test(tc, test_movcond_selects_by_condition);
    tcase_add_test(tc, test_brcond_every_condition_takes_the_branch_iff_true);
    tcase_add_test(tc, test_loop_with_labels_and_backward_branch_sums);
    tcase_add_test(tc, test_loads_extend_per_memop_sign_and_size);
    tcase_add_test(tc, test_stores_write_exactly_their_size_and_128bit_round_trips);
    tcase_add_test(tc, test_memory_fault_reports_insn_and_keeps_globals);
    tcase_add_test(tc, test_misaligned_access_faults_when_alignment_is_required);
    tcase_add_test(tc, test_cmpxchg_swaps_only_on_match_and_returns_old);
    tcase_add_test(tc, test_atomic_rmw_every_op_returns_old_and_stores_result);
    tcase_add_test(tc, test_ldenv_stenv_reach_non_global_fields);
    tcase_add_test(tc, test_helper_call_passes_args_and_returns_result);
    tcase_add_test(tc, test_helper_i32_result_is_truncated_and_faulting_helper_sees_insn_pc);
    tcase_add_test(tc, test_exits_fill_exit_info_and_env);
    tcase_add_test(tc, test_prepared_code_runs_repeatedly_after_block_is_freed);
    tcase_add_test(tc, test_invalid_block_is_refused_with_a_message_not_run);
    tcase_add_test(tc, test_every_op_in_the_table_is_exercised_by_the_interpreter);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    /* one process: the coverage bitmap is shared between the tests */
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
