/*
 * ir_passes_test.c - builder simplification, the optimisation passes, the
 * verifier and the printer.  Passes are checked on hand-written blocks
 * (what they must remove and what they must keep) and on random blocks:
 * with and without simplification and ir_optimize, every variant must
 * verify and leave exactly the same CPU state and memory.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "ir_test_util.h"

static unsigned count_ops(const IrBlock *b, IrOpcode opc)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < b->n_ops; i++)
        n += !b->ops[i].dead && b->ops[i].opc == opc;
    return n;
}

static void assert_valid(const IrBlock *b)
{
    char err[256];
    if (!tverify(b, err, sizeof err)) {
        ir_print(b, stderr);
        ck_abort_msg("invalid block: %s", err);
    }
}

/* ---- builder simplification ------------------------------------------------ */
START_TEST(test_builder_identities_emit_moves_not_ops)
{
    IrBlock *b = tblock(true);
    IrTemp x = tg.x[0], z = ir_const(b, IR_I64, 0), one = ir_const(b, IR_I64, 1);
    IrTemp m1 = ir_const(b, IR_I64, ~0ull);
    IrTemp r[] = {
        ir_add(b, IR_I64, x, z), ir_add(b, IR_I64, z, x), ir_mul(b, IR_I64, x, one),
        ir_and(b, IR_I64, x, m1), ir_or(b, IR_I64, x, z), ir_shl(b, IR_I64, x, z),
        ir_sar(b, IR_I64, x, ir_const(b, IR_I64, 64)), ir_sub(b, IR_I64, x, z),
        ir_binop(b, IR_OP_divu, IR_I64, x, one), ir_and(b, IR_I64, x, x),
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        ck_assert_int_eq(b->temps[r[i]].kind, IR_TEMP_LOCAL);
        ck_assert_msg(r[i] != x, "a global must never be returned as a value");
    }
    ck_assert_uint_eq(count_ops(b, IR_OP_mov), sizeof r / sizeof r[0]);
    /* results that are constants whatever x is */
    IrTemp c[] = {ir_and(b, IR_I64, x, z), ir_mul(b, IR_I64, x, z), ir_xor(b, IR_I64, x, x),
                  ir_sub(b, IR_I64, x, x), ir_or(b, IR_I64, x, m1),
                  ir_setcond(b, IR_I64, IR_COND_EQ, x, x), ir_setcond(b, IR_I64, IR_COND_LTU, x, x),
                  ir_setcond(b, IR_I64, IR_COND_ALWAYS, x, tg.x[1])};
    uint64_t want[] = {0, 0, 0, 0, ~0ull, 1, 0, 1};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        ck_assert_int_eq(b->temps[c[i]].kind, IR_TEMP_CONST);
        ck_assert_uint_eq(b->temps[c[i]].val[0], want[i]);
    }
    /* movcond with a known condition picks a side */
    IrTemp mc = ir_movcond(b, IR_I64, IR_COND_NEVER, x, x, tg.x[1], tg.x[2]);
    ck_assert_uint_eq(b->ops[b->n_ops - 1].opc, IR_OP_mov);
    ck_assert_uint_eq(b->ops[b->n_ops - 1].args[1], tg.x[2]);
    ck_assert_int_eq(b->temps[mc].kind, IR_TEMP_LOCAL);
    ir_exit(b, IR_EXIT_NONE, 0);
    assert_valid(b);
    ir_block_free(b);
}
END_TEST

START_TEST(test_builder_brcond_on_constants_becomes_br_or_nothing)
{
    IrBlock *b = tblock(true);
    uint32_t l = ir_new_label(b);
    uint32_t n0 = b->n_ops;
    ir_brcond(b, IR_I32, IR_COND_LT, ir_const(b, IR_I32, 5), ir_const(b, IR_I32, 3), l);
    ck_assert_uint_eq(b->n_ops, n0);
    ir_brcond(b, IR_I32, IR_COND_LT, ir_const(b, IR_I32, 0xffffffff), ir_const(b, IR_I32, 3), l);
    ck_assert_uint_eq(b->ops[b->n_ops - 1].opc, IR_OP_br);
    ir_label(b, l);
    ir_exit(b, IR_EXIT_NONE, 0);
    assert_valid(b);
    ir_block_free(b);
}
END_TEST

START_TEST(test_builder_result_survives_later_write_of_its_source)
{
    /* t = x0 + 0; x0 = 5; x1 = t  must give the old x0 */
    for (int simplify = 0; simplify < 2; simplify++) {
        TEnv e = {0};
        e.x[0] = 77;
        IrBlock *b = tblock(simplify);
        IrTemp t = ir_add(b, IR_I64, tg.x[0], ir_const(b, IR_I64, 0));
        ir_mov(b, IR_I64, tg.x[0], ir_const(b, IR_I64, 5));
        ir_mov(b, IR_I64, tg.x[1], t);
        ir_exit(b, IR_EXIT_NONE, 0);
        ir_optimize(b);
        ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
        ck_assert_uint_eq(e.x[1], 77);
        ck_assert_uint_eq(e.x[0], 5);
        ir_block_free(b);
    }
}
END_TEST

START_TEST(test_constants_are_deduplicated_and_canonical)
{
    IrBlock *b = tblock(true);
    IrTemp a = ir_const(b, IR_I32, 0x1ffffffff);
    ck_assert_uint_eq(b->temps[a].val[0], 0xffffffff);
    ck_assert_uint_eq(ir_const(b, IR_I32, 0xffffffff), a);
    ck_assert_uint_ne(ir_const(b, IR_I64, 0xffffffff), a);
    for (int i = 0; i < 1000; i++)
        ir_const(b, IR_I64, (uint64_t)i * 977);
    ck_assert_uint_eq(ir_const(b, IR_I64, 500 * 977), ir_const(b, IR_I64, 500 * 977));
    ck_assert_uint_eq(ir_const(b, IR_I32, 0xffffffff), a);
    ck_assert_uint_eq(ir_const128(b, IR_I128, 1, 2), ir_const128(b, IR_I128, 1, 2));
    ck_assert_uint_ne(ir_const128(b, IR_I128, 1, 2), ir_const128(b, IR_V128, 1, 2));
    ir_block_free(b);
}
END_TEST

/* ---- passes on hand-written blocks ----------------------------------------- */
START_TEST(test_fold_evaluates_constant_chains_and_branches)
{
    IrBlock *b = tblock(false);
    IrTemp t1 = ir_add(b, IR_I64, ir_const(b, IR_I64, 1), ir_const(b, IR_I64, 2));
    IrTemp t2 = ir_mul(b, IR_I64, t1, ir_const(b, IR_I64, 5));
    ir_mov(b, IR_I64, tg.x[0], t2);
    uint32_t l = ir_new_label(b);
    ir_brcond(b, IR_I64, IR_COND_EQ, t2, ir_const(b, IR_I64, 15), l);
    ir_mov(b, IR_I64, tg.x[1], ir_const(b, IR_I64, 1));
    ir_label(b, l);
    ir_exit(b, IR_EXIT_NONE, 0);
    ir_pass_fold(b);
    assert_valid(b);
    ck_assert_uint_eq(count_ops(b, IR_OP_add), 0);
    ck_assert_uint_eq(count_ops(b, IR_OP_mul), 0);
    ck_assert_uint_eq(count_ops(b, IR_OP_brcond), 0);
    ck_assert_uint_eq(count_ops(b, IR_OP_br), 1);
    TEnv e = {0};
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(e.x[0], 15);
    ck_assert_uint_eq(e.x[1], 0);
    ir_block_free(b);
}
END_TEST

START_TEST(test_fold_forgets_constants_at_labels)
{
    IrBlock *b = tblock(false);
    IrTemp t = ir_new_temp(b, IR_I64);
    uint32_t l = ir_new_label(b);
    ir_mov(b, IR_I64, t, ir_const(b, IR_I64, 1));
    ir_brcond(b, IR_I64, IR_COND_NE, tg.x[0], ir_const(b, IR_I64, 0), l);
    ir_mov(b, IR_I64, t, ir_const(b, IR_I64, 2));
    ir_label(b, l);
    ir_mov(b, IR_I64, tg.x[1], ir_add(b, IR_I64, t, ir_const(b, IR_I64, 10)));
    ir_exit(b, IR_EXIT_NONE, 0);
    ir_optimize(b);
    assert_valid(b);
    ck_assert_uint_eq(count_ops(b, IR_OP_add), 1);
    TEnv e = {0};
    e.x[0] = 1;
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(e.x[1], 11);
    e.x[0] = 0;
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(e.x[1], 12);
    ir_block_free(b);
}
END_TEST

START_TEST(test_copy_prop_replaces_reads_until_source_changes)
{
    IrBlock *b = tblock(false);
    IrTemp t = ir_new_temp(b, IR_I64);
    ir_mov(b, IR_I64, t, tg.x[0]);
    IrTemp a1 = ir_add(b, IR_I64, t, tg.x[1]); /* reads x0 after the pass */
    ir_mov(b, IR_I64, tg.x[0], a1);            /* x0 changes: t is no copy any more */
    IrTemp a2 = ir_add(b, IR_I64, t, tg.x[1]);
    ir_mov(b, IR_I64, tg.x[2], a2);
    ir_exit(b, IR_EXIT_NONE, 0);
    ir_pass_copy_prop(b);
    assert_valid(b);
    const IrInst *op1 = NULL, *op2 = NULL;
    for (uint32_t i = 0; i < b->n_ops; i++)
        if (b->ops[i].opc == IR_OP_add) {
            if (op1)
                op2 = &b->ops[i];
            else
                op1 = &b->ops[i];
        }
    ck_assert_uint_eq(op1->args[1], tg.x[0]);
    ck_assert_uint_eq(op2->args[1], t);
    TEnv e = {0};
    e.x[0] = 3;
    e.x[1] = 4;
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(e.x[2], 7);
    ir_block_free(b);
}
END_TEST

START_TEST(test_copy_prop_stops_at_labels_and_global_writing_helpers)
{
    IrBlock *b = tblock(false);
    IrTemp t = ir_new_temp(b, IR_I64);
    ir_mov(b, IR_I64, t, tg.x[0]);
    ir_call(b, IR_HELPER_ir_test_store_env64,
            (IrTemp[]){ir_const(b, IR_I64, offsetof(TEnv, x[0])), ir_const(b, IR_I64, 50)}, 2);
    ir_mov(b, IR_I64, tg.x[1], t); /* must still be the old x0 */
    IrTemp u = ir_new_temp(b, IR_I64);
    ir_mov(b, IR_I64, u, tg.x[2]);
    uint32_t l = ir_new_label(b);
    ir_label(b, l);
    ir_mov(b, IR_I64, tg.x[3], u);
    ir_exit(b, IR_EXIT_NONE, 0);
    ir_pass_copy_prop(b);
    assert_valid(b);
    ck_assert_uint_eq(b->ops[b->n_ops - 2].args[1], u); /* not rewritten past the label */
    TEnv e = {0};
    e.x[0] = 9;
    e.x[2] = 8;
    ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
    ck_assert_uint_eq(e.x[1], 9);
    ck_assert_uint_eq(e.x[0], 50);
    ck_assert_uint_eq(e.x[3], 8);
    ir_block_free(b);
}
END_TEST

START_TEST(test_copy_prop_writes_single_use_value_straight_to_its_mov_target)
{
    IrBlock *b = tblock(false);
    ir_mov(b, IR_I64, tg.x[2], ir_add(b, IR_I64, tg.x[0], tg.x[1]));  /* -> x2 = add */
    ir_mov(b, IR_I64, tg.x[0], ir_sub(b, IR_I64, tg.x[0], tg.x[1]));  /* -> x0 = sub x0, x1 */
    IrTemp t = ir_xor(b, IR_I64, tg.x[1], tg.x[2]);
    ir_mov(b, IR_I64, tg.x[3], t);
    ir_mov(b, IR_I64, tg.x[1], t); /* two uses: kept */
    IrTemp c = ir_call(b, IR_HELPER_ir_test_add3, (IrTemp[]){tg.x[0], tg.x[0], tg.x[0]}, 3);
    ir_mov(b, IR_I64, tg.x[2], c); /* calls keep their local output */
    ir_exit(b, IR_EXIT_NONE, 0);
    TEnv e1 = {0}, e2;
    e1.x[0] = 10;
    e1.x[1] = 3;
    e2 = e1;
    ck_assert_int_eq(trun(b, &e1, NULL, NULL), IR_INTERP_EXITED);
    ir_pass_copy_prop(b);
    assert_valid(b);
    ck_assert_uint_eq(b->ops[1].opc, IR_OP_add);
    ck_assert_uint_eq(b->ops[1].args[0], tg.x[2]);
    ck_assert_uint_eq(b->ops[2].opc, IR_OP_sub);
    ck_assert_uint_eq(b->ops[2].args[0], tg.x[0]);
    ck_assert_uint_eq(b->ops[2].args[1], tg.x[0]);
    ck_assert_uint_eq(count_ops(b, IR_OP_mov), 3);
    ck_assert_int_eq(trun(b, &e2, NULL, NULL), IR_INTERP_EXITED);
    ck_assert_int_eq(memcmp(&e1, &e2, sizeof e1), 0);
    ir_block_free(b);
}
END_TEST

START_TEST(test_dce_removes_unused_values_but_keeps_effects_and_faults)
{
    IrBlock *b = tblock(false);
    IrTemp a = ir_add(b, IR_I64, tg.x[0], tg.x[1]);
    ir_mul(b, IR_I64, a, a);                                    /* unused chain */
    ir_ld(b, IR_I64, tg.x[0], IR_MO_64);                        /* unused, can fault */
    ir_call(b, IR_HELPER_ir_test_add3, (IrTemp[]){a, a, a}, 3); /* pure, unused */
    ir_call(b, IR_HELPER_ir_test_get_pc, NULL, 0);              /* can fault: kept */
    ir_stenv(b, IR_I64, offsetof(TEnv, priv), tg.x[0]);
    ir_mov(b, IR_I64, tg.x[2], tg.x[2]);
    ir_exit(b, IR_EXIT_NONE, 0);
    ir_pass_dce(b);
    assert_valid(b);
    ck_assert_uint_eq(count_ops(b, IR_OP_add), 0);
    ck_assert_uint_eq(count_ops(b, IR_OP_mul), 0);
    ck_assert_uint_eq(count_ops(b, IR_OP_ld), 1);
    ck_assert_uint_eq(count_ops(b, IR_OP_call), 1);
    ck_assert_uint_eq(count_ops(b, IR_OP_stenv), 1);
    ck_assert_uint_eq(count_ops(b, IR_OP_mov), 0);
    ck_assert_uint_eq(count_ops(b, IR_OP_insn_start), 1);
    ck_assert_uint_eq(b->insns[0].first_op, 0);
    ir_block_free(b);
}
END_TEST

static unsigned count_writes(const IrBlock *b, IrTemp g)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < b->n_ops; i++)
        n += b->ops[i].opc == IR_OP_mov && b->ops[i].args[0] == g;
    return n;
}

START_TEST(test_dead_globals_removes_a_write_overwritten_before_any_read)
{
    IrBlock *b = tblock(false);
    ir_mov(b, IR_I32, tg.nf, tg.w[0]);             /* dead: rewritten below */
    ir_mov(b, IR_I32, tg.zf, tg.w[0]);             /* live: read by the add */
    ir_mov(b, IR_I64, tg.x[3], ir_const(b, IR_I64, 0xb9d9)); /* dead: mov; movk */
    ir_mov(b, IR_I32, tg.w[2], ir_add(b, IR_I32, tg.zf, tg.w[1]));
    ir_insn_start(b, 0x1004, 4);
    ir_mov(b, IR_I32, tg.nf, tg.w[1]);
    ir_mov(b, IR_I32, tg.zf, tg.w[1]);
    ir_mov(b, IR_I64, tg.x[3], ir_const(b, IR_I64, 0xfff0b9d9));
    ir_exit(b, IR_EXIT_NONE, 0);
    ir_pass_dead_globals(b);
    assert_valid(b);
    ck_assert_uint_eq(count_writes(b, tg.nf), 1);
    ck_assert_uint_eq(count_writes(b, tg.zf), 2);
    ck_assert_uint_eq(count_writes(b, tg.x[3]), 1);
    ir_block_free(b);
}
END_TEST

START_TEST(test_dead_globals_keeps_a_flag_write_read_by_an_exit)
{
    /* the last write before the exit is observable by the next block */
    IrBlock *b = tblock(false);
    ir_mov(b, IR_I32, tg.nf, tg.w[0]);
    ir_exit(b, IR_EXIT_NONE, 0);
    ir_pass_dead_globals(b);
    ck_assert_uint_eq(count_ops(b, IR_OP_mov), 1);
    ir_block_free(b);
    /* an exit between two writes (on a branch) keeps the first */
    b = tblock(false);
    uint32_t l = ir_new_label(b);
    ir_mov(b, IR_I32, tg.nf, tg.w[0]);
    ir_brcond(b, IR_I32, IR_COND_EQ, tg.w[1], tg.w[2], l);
    ir_exit(b, IR_EXIT_SYSCALL, 0x1004);
    ir_label(b, l);
    ir_mov(b, IR_I32, tg.nf, tg.w[1]);
    ir_exit(b, IR_EXIT_NONE, 0);
    ir_pass_dead_globals(b);
    ck_assert_uint_eq(count_ops(b, IR_OP_mov), 2);
    ir_block_free(b);
    /* code after an exit does not make the write before it dead */
    b = tblock(false);
    ir_mov(b, IR_I32, tg.nf, tg.w[0]);
    ir_exit(b, IR_EXIT_NONE, 0);
    ir_mov(b, IR_I32, tg.nf, tg.w[1]);
    ir_exit(b, IR_EXIT_NONE, 0);
    ir_pass_dead_globals(b);
    ck_assert_uint_eq(count_ops(b, IR_OP_mov), 2);
    ir_block_free(b);
}
END_TEST

START_TEST(test_dead_globals_keeps_writes_before_faults_and_global_readers)
{
    /* [0] a load that can fault: it observes x3 but not the flags (a
     * guest fault does not show flags the code overwrites before reading
     * them); [1] a helper that reads globals observes both */
    for (int kind = 0; kind < 2; kind++) {
        IrBlock *b = tblock(false);
        ir_mov(b, IR_I32, tg.nf, tg.w[0]);
        ir_mov(b, IR_I64, tg.x[3], tg.x[2]);
        ir_insn_start(b, 0x1004, 4);
        if (kind == 0)
            ir_mov(b, IR_I64, tg.x[0], ir_ld(b, IR_I64, tg.x[1], IR_MO_64));
        else
            ir_mov(b, IR_I64, tg.x[0], ir_call(b, IR_HELPER_ir_test_get_pc, NULL, 0));
        ir_mov(b, IR_I32, tg.nf, tg.w[1]);
        ir_mov(b, IR_I64, tg.x[3], tg.x[1]);
        ir_exit(b, IR_EXIT_NONE, 0);
        ir_pass_dead_globals(b);
        ck_assert_uint_eq(count_writes(b, tg.nf), (kind == 0 ? 1u : 2u));
        ck_assert_uint_eq(count_writes(b, tg.x[3]), 2);
        ir_block_free(b);
    }
}
END_TEST

/* IrBlock.flags_dead_slots: a goto_tb whose target overwrites the flags
 * does not observe them; a side exit (brcond to a label holding such a
 * goto_tb) does not either, so "cmp; b.cond; ...; cmp" stores the first
 * compare's flags nowhere; a slot without the bit, a goto_ptr and a
 * backward branch do. */
START_TEST(test_dead_globals_follows_exits_whose_flags_are_dead)
{
    for (int slot_dead = 0; slot_dead < 2; slot_dead++) {
        /* write; goto_tb 0 */
        IrBlock *b = tblock(false);
        ir_mov(b, IR_I32, tg.nf, tg.w[0]);
        ir_mov(b, IR_I64, tg.x[3], tg.x[2]);
        ir_goto_tb(b, 0, 0x2000);
        b->flags_dead_slots = slot_dead ? 1 : 2;
        ir_pass_dead_globals(b);
        assert_valid(b);
        ck_assert_uint_eq(count_writes(b, tg.nf), (slot_dead ? 0u : 1u));
        ck_assert_uint_eq(count_writes(b, tg.x[3]), 1); /* not a flag */
        ir_block_free(b);
        /* write; brcond L; write; goto_tb 0; L: goto_tb 2 (a side exit) */
        b = tblock(false);
        uint32_t l = ir_new_label(b);
        ir_mov(b, IR_I32, tg.nf, tg.w[0]);
        ir_brcond(b, IR_I32, IR_COND_EQ, tg.w[1], tg.w[2], l);
        ir_insn_start(b, 0x1004, 4);
        ir_mov(b, IR_I64, tg.x[0], ir_ld(b, IR_I64, tg.x[1], IR_MO_64));
        ir_mov(b, IR_I32, tg.nf, tg.w[1]);
        ir_goto_tb(b, 0, 0x1008);
        ir_label(b, l);
        ir_goto_tb(b, 2, 0x3000);
        b->flags_dead_slots = slot_dead ? 5 : 1;
        ir_pass_dead_globals(b);
        assert_valid(b);
        /* slot 2 live: the side exit sees the first write (slot 0 dead:
         * the second goes) */
        ck_assert_uint_eq(count_writes(b, tg.nf), (slot_dead ? 0u : 1u));
        ir_block_free(b);
    }
    /* a flag read after the label keeps the write that reaches it */
    IrBlock *b = tblock(false);
    uint32_t l = ir_new_label(b);
    ir_mov(b, IR_I32, tg.nf, tg.w[0]);
    ir_brcond(b, IR_I32, IR_COND_EQ, tg.w[1], tg.w[2], l);
    ir_mov(b, IR_I32, tg.nf, tg.w[1]);
    ir_label(b, l);
    ir_mov(b, IR_I32, tg.w[3], ir_add(b, IR_I32, tg.nf, tg.w[1]));
    ir_goto_tb(b, 0, 0x1008);
    b->flags_dead_slots = 1;
    ir_pass_dead_globals(b);
    ck_assert_uint_eq(count_writes(b, tg.nf), 2);
    ir_block_free(b);
    /* a backward branch: the label is not known yet, so everything is seen */
    b = tblock(false);
    l = ir_new_label(b);
    ir_label(b, l);
    ir_mov(b, IR_I32, tg.nf, tg.w[0]);
    ir_brcond(b, IR_I32, IR_COND_EQ, tg.w[1], tg.w[2], l);
    ir_mov(b, IR_I32, tg.nf, tg.w[1]);
    ir_goto_tb(b, 0, 0x1008);
    b->flags_dead_slots = 1;
    ir_pass_dead_globals(b);
    ck_assert_uint_eq(count_writes(b, tg.nf), 1);
    ir_block_free(b);
    /* goto_ptr: the target is unknown, unless the frontend knows the flags
     * are dead there (a return or a call); a side exit still sees them */
    for (int ptr_dead = 0; ptr_dead < 2; ptr_dead++) {
        b = tblock(false);
        ir_mov(b, IR_I32, tg.nf, tg.w[0]);
        ir_goto_ptr(b, tg.x[1]);
        b->flags_dead_slots = 0xFF;
        b->ptr_flags_dead = ptr_dead;
        ir_pass_dead_globals(b);
        ck_assert_uint_eq(count_writes(b, tg.nf), (ptr_dead ? 0u : 1u));
        ir_block_free(b);
        b = tblock(false);
        l = ir_new_label(b);
        ir_mov(b, IR_I32, tg.nf, tg.w[0]);
        ir_brcond(b, IR_I32, IR_COND_EQ, tg.w[1], tg.w[2], l);
        ir_goto_ptr(b, tg.x[1]);
        ir_label(b, l);
        ir_goto_tb(b, 1, 0x3000);
        b->ptr_flags_dead = ptr_dead;
        ir_pass_dead_globals(b);
        ck_assert_uint_eq(count_writes(b, tg.nf), 1);
        ir_block_free(b);
    }
}
END_TEST

/* "t = and a, c; brcond eq/ne t, $0" with t read only there becomes a
 * tsteq/tstne of a and c; not when t is read again, a label merges control
 * in between, or a is written in between.  Every shape runs the same. */
START_TEST(test_test_fold_turns_and_then_compare_with_zero_into_a_test)
{
    for (int kind = 0; kind < 4; kind++)
        for (int ne = 0; ne < 2; ne++)
            for (uint64_t x1 = 0; x1 < 3; x1++) {
                IrBlock *b = tblock(false);
                uint32_t l = ir_new_label(b);
                IrTemp t = ir_and(b, IR_I64, tg.x[1], ir_const(b, IR_I64, 2));
                if (kind == 1)
                    ir_mov(b, IR_I64, tg.x[3], t); /* read twice */
                if (kind == 2) {
                    uint32_t l2 = ir_new_label(b);
                    ir_br(b, l2);
                    ir_label(b, l2);
                }
                if (kind == 3)
                    ir_mov(b, IR_I64, tg.x[1], ir_const(b, IR_I64, 7)); /* a written */
                ir_brcond(b, IR_I64, ne ? IR_COND_NE : IR_COND_EQ, t, ir_const(b, IR_I64, 0), l);
                ir_mov(b, IR_I64, tg.x[2], ir_const(b, IR_I64, 10));
                ir_exit(b, IR_EXIT_NONE, 0);
                ir_label(b, l);
                ir_mov(b, IR_I64, tg.x[2], ir_const(b, IR_I64, 20));
                ir_exit(b, IR_EXIT_NONE, 0);
                TEnv e1 = {0}, e2;
                e1.x[1] = x1;
                e2 = e1;
                ck_assert_int_eq(trun(b, &e1, NULL, NULL), IR_INTERP_EXITED);
                ir_optimize(b);
                assert_valid(b);
                ck_assert_uint_eq(count_ops(b, IR_OP_and), kind == 0 ? 0u : 1u);
                ck_assert_int_eq(trun(b, &e2, NULL, NULL), IR_INTERP_EXITED);
                ck_assert_int_eq(memcmp(&e1, &e2, sizeof e1), 0);
                ir_block_free(b);
            }
}
END_TEST

/* stenv then ldenv of the same field and type: the load becomes a copy of
 * the stored value, unless something in between may have changed the field
 * (an overlapping stenv, a helper with env access, a label) or the stored
 * temp itself was written again. */
START_TEST(test_env_forward_replaces_a_reload_only_while_the_field_is_known)
{
    const uint32_t p0 = offsetof(TEnv, priv[0]), p1 = offsetof(TEnv, priv[1]);
    for (int kind = 0; kind < 6; kind++) {
        IrBlock *b = tblock(false);
        IrTemp t = ir_new_temp(b, IR_I64);
        ir_mov(b, IR_I64, t, tg.x[0]);
        ir_stenv(b, IR_I64, p0, t);
        if (kind == 1) /* overlapping narrower store */
            ir_stenv(b, IR_I32, p0 + 4, tg.w[0]);
        if (kind == 2) /* a helper that may write env */
            ir_call(b, IR_HELPER_ir_test_store_env64,
                    (IrTemp[]){ir_const(b, IR_I64, p0), ir_const(b, IR_I64, 77)}, 2);
        if (kind == 3) {
            uint32_t l = ir_new_label(b);
            ir_label(b, l);
        }
        if (kind == 4) /* the stored temp changes */
            ir_mov(b, IR_I64, t, tg.x[1]);
        if (kind == 5) /* a store elsewhere and a pure helper change nothing */
            ir_stenv(b, IR_I64, p1, tg.x[1]);
        IrTemp r = ir_ldenv(b, IR_I64, p0);
        IrTemp r2 = ir_ldenv(b, IR_I64, p0); /* load after load */
        ir_mov(b, IR_I64, tg.x[2], r);
        ir_mov(b, IR_I64, tg.x[3], r2);
        ir_exit(b, IR_EXIT_NONE, 0);
        ir_pass_env_forward(b);
        assert_valid(b);
        unsigned want_ld = (kind == 0 || kind == 5) ? 0 : 1;
        ck_assert_msg(count_ops(b, IR_OP_ldenv) == want_ld, "kind %d: %u ldenv left", kind,
                      count_ops(b, IR_OP_ldenv));
        TEnv e = {0};
        e.x[0] = 0x1111222233334444ull;
        e.x[1] = 5;
        e.w[0] = 0xabcdef01u;
        ck_assert_int_eq(trun(b, &e, NULL, NULL), IR_INTERP_EXITED);
        uint64_t want = kind == 1 ? 0xabcdef0133334444ull : kind == 2 ? 77 : e.x[0];
        ck_assert_uint_eq(e.x[2], want);
        ck_assert_uint_eq(e.x[3], want);
        ir_block_free(b);
    }
}
END_TEST

START_TEST(test_optimize_shrinks_a_typical_flag_setting_sequence)
{
    IrBlock *b = tblock(true);
    for (int i = 0; i < 4; i++) {
        if (i)
            ir_insn_start(b, 0x1000 + 4 * i, 4);
        IrTemp r = ir_add(b, IR_I64, tg.x[0], ir_const(b, IR_I64, (uint64_t)i));
        ir_mov(b, IR_I64, tg.x[0], r);
        IrTemp lo = ir_trunc(b, IR_I32, IR_I64, r);
        ir_mov(b, IR_I32, tg.nf, lo);
        ir_mov(b, IR_I32, tg.zf, ir_setcond(b, IR_I32, IR_COND_NE, lo, ir_const(b, IR_I32, 0)));
    }
    ir_exit(b, IR_EXIT_NONE, 0);
    TEnv e1 = {0}, e2;
    e1.x[0] = 0xfffffffffffffffa;
    e2 = e1;
    ck_assert_int_eq(trun(b, &e1, NULL, NULL), IR_INTERP_EXITED);
    uint32_t before = b->n_ops;
    ir_optimize(b);
    assert_valid(b);
    ck_assert_uint_lt(b->n_ops, before);
    ck_assert_uint_eq(count_ops(b, IR_OP_setcond), 1); /* only the last zf survives */
    ck_assert_int_eq(trun(b, &e2, NULL, NULL), IR_INTERP_EXITED);
    ck_assert_int_eq(memcmp(&e1, &e2, sizeof e1), 0);
    ir_block_free(b);
}
END_TEST

/* ---- random blocks: all variants agree ------------------------------------- */
static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t rnd_val(void)
{
    static const uint64_t special[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0x8000, 0x7fffffff, 0x80000000,
                                       0xffffffff, 0x8000000000000000, ~0ull, 63, 64, 31, 32};
    return rnd() % 3 ? special[rnd() % 16] : rnd();
}

#define POOL 64
typedef struct Pool {
    IrTemp t[4][POOL]; /* per int type index: i8 i16 i32 i64 */
    int n[4];
} Pool;

static const IrType int_types[4] = {IR_I8, IR_I16, IR_I32, IR_I64};

static IrTemp pick(IrBlock *b, Pool *p, int ti)
{
    uint64_t r = rnd() % 8;
    if (r == 0)
        return ir_const(b, int_types[ti], rnd_val());
    if (r < 4 || p->n[ti] == 0)
        return tg_int(int_types[ti], (int)(rnd() % 4));
    return p->t[ti][rnd() % p->n[ti]];
}

static void put(Pool *p, int ti, IrTemp t)
{
    if (p->n[ti] < POOL)
        p->t[ti][p->n[ti]++] = t;
    else
        p->t[ti][rnd() % POOL] = t;
}

static IrBlock *random_block(uint64_t seed, bool simplify)
{
    static const IrOpcode bin[] = {IR_OP_add, IR_OP_sub, IR_OP_mul, IR_OP_mulhu, IR_OP_mulhs,
                                   IR_OP_divu, IR_OP_divs, IR_OP_remu, IR_OP_rems, IR_OP_and,
                                   IR_OP_or, IR_OP_xor, IR_OP_andc, IR_OP_shl, IR_OP_shr,
                                   IR_OP_sar, IR_OP_rotl, IR_OP_rotr};
    static const IrOpcode un[] = {IR_OP_neg, IR_OP_not, IR_OP_clz, IR_OP_ctz,
                                  IR_OP_popcnt, IR_OP_bswap, IR_OP_bitrev};
    rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
    IrBlock *b = tblock(simplify);
    Pool p = {0};
    int n_insns = 3 + (int)(rnd() % 8);
    for (int insn = 0; insn < n_insns; insn++) {
        if (insn)
            ir_insn_start(b, 0x1000 + 4 * insn, 4);
        Pool saved = p;
        uint32_t skip = UINT32_MAX;
        if (rnd() % 4 == 0) { /* skip the rest of this insn on a condition */
            skip = ir_new_label(b);
            int ti = (int)(rnd() % 4);
            ir_brcond(b, int_types[ti], (IrCond)(rnd() % IR_COND_COUNT), pick(b, &p, ti),
                      pick(b, &p, ti), skip);
        }
        IrTemp loop_cnt = IR_TEMP_NONE;
        uint32_t loop_top = 0;
        if (rnd() % 6 == 0) { /* run this insn's ops 1..3 times */
            loop_cnt = ir_new_temp(b, IR_I32);
            loop_top = ir_new_label(b);
            ir_mov(b, IR_I32, loop_cnt, ir_const(b, IR_I32, 1 + rnd() % 3));
            ir_label(b, loop_top);
        }
        int n_ops = 1 + (int)(rnd() % 6);
        for (int k = 0; k < n_ops; k++) {
            int ti = (int)(rnd() % 4);
            IrType t = int_types[ti];
            IrTemp r;
            switch (rnd() % 12) {
            case 0: case 1: case 2: case 3:
                r = ir_binop(b, bin[rnd() % 18], t, pick(b, &p, ti), pick(b, &p, ti));
                break;
            case 4:
                r = ir_unop(b, un[rnd() % 7], t, pick(b, &p, ti));
                break;
            case 5:
                r = ir_setcond(b, t, (IrCond)(rnd() % IR_COND_COUNT), pick(b, &p, ti),
                               pick(b, &p, ti));
                break;
            case 6:
                r = ir_movcond(b, t, (IrCond)(rnd() % IR_COND_COUNT), pick(b, &p, ti),
                               pick(b, &p, ti), pick(b, &p, ti), pick(b, &p, ti));
                break;
            case 7: {
                unsigned w = ir_type_bits(t), len = 1 + (unsigned)(rnd() % w);
                unsigned pos = (unsigned)(rnd() % (w - len + 1));
                if (rnd() % 3 == 0)
                    r = ir_deposit(b, t, pick(b, &p, ti), pick(b, &p, ti), pos, len);
                else if (rnd() % 2)
                    r = ir_extract(b, t, pick(b, &p, ti), pos, len);
                else
                    r = ir_sextract(b, t, pick(b, &p, ti), pos, len);
                break;
            }
            case 8: { /* conversion from another width */
                int fi = (int)(rnd() % 4);
                IrTemp a = pick(b, &p, fi);
                if (fi < ti)
                    r = rnd() % 2 ? ir_zext(b, t, int_types[fi], a) : ir_sext(b, t, int_types[fi], a);
                else
                    r = ir_trunc(b, t, int_types[fi], a);
                break;
            }
            case 9: { /* memory inside the mapped window */
                IrTemp a = ir_and(b, IR_I64, pick(b, &p, 3), ir_const(b, IR_I64, 0xff8));
                /* now and then an address in the faulting hole */
                a = ir_add(b, IR_I64, a, ir_const(b, IR_I64, rnd() % 16 ? TMEM_BASE : TMEM_HOLE));
                IrMemOp mo = IR_MO_SIZE(rnd() % (ti + 1)) | (rnd() % 2 ? IR_MO_SIGN : 0);
                switch (rnd() % 4) {
                case 0:
                    ir_st(b, t, a, pick(b, &p, ti), IR_MO_SIZE(ti));
                    continue;
                case 1:
                    r = ir_cmpxchg(b, t, a, pick(b, &p, ti), pick(b, &p, ti), mo);
                    break;
                case 2:
                    r = ir_atomic_rmw(b, t, (IrRmwOp)(rnd() % IR_RMW_COUNT), a, pick(b, &p, ti), mo);
                    break;
                default:
                    r = ir_ld(b, t, a, mo);
                    break;
                }
                break;
            }
            case 10: /* flags, 128-bit values, env fields outside the globals */
                switch (rnd() % 4) {
                case 0:
                    ir_mov(b, IR_I32, rnd() % 2 ? tg.nf : tg.zf, pick(b, &p, 2));
                    continue;
                case 1: {
                    IrTemp q = ir_concat(b, rnd() % 2 ? IR_I128 : IR_V128, pick(b, &p, 3),
                                         pick(b, &p, 3));
                    if (b->temps[q].type == IR_I128)
                        ir_mov(b, IR_I128, tg.q[rnd() % 2], q);
                    r = rnd() % 2 ? ir_high64(b, q) : ir_trunc(b, IR_I64, IR_I128,
                                                               ir_bitcast(b, IR_I128, q));
                    ti = 3;
                    t = IR_I64;
                    break;
                }
                case 2:
                    ir_stenv(b, t, offsetof(TEnv, priv) + 8 * (rnd() % 4), pick(b, &p, ti));
                    continue;
                default:
                    r = ir_ldenv(b, t, offsetof(TEnv, priv) + 8 * (rnd() % 4));
                    break;
                }
                break;
            default:
                if (rnd() % 2) {
                    r = ir_call(b, IR_HELPER_ir_test_add3,
                                (IrTemp[]){pick(b, &p, 3), pick(b, &p, 3), pick(b, &p, 3)}, 3);
                    ti = 3;
                    t = IR_I64;
                } else {
                    ir_call(b, IR_HELPER_ir_test_store_env64,
                            (IrTemp[]){ir_const(b, IR_I64, offsetof(TEnv, x) + 8 * (rnd() % 4)),
                                       pick(b, &p, 3)}, 2);
                    continue;
                }
                break;
            }
            if (rnd() % 3 == 0)
                ir_mov(b, t, tg_int(t, (int)(rnd() % 4)), r);
            else
                put(&p, ti, r);
        }
        if (loop_cnt) {
            ir_mov(b, IR_I32, loop_cnt, ir_sub(b, IR_I32, loop_cnt, ir_const(b, IR_I32, 1)));
            ir_brcond(b, IR_I32, IR_COND_NE, loop_cnt, ir_const(b, IR_I32, 0), loop_top);
        }
        if (skip != UINT32_MAX) {
            ir_label(b, skip);
            p = saved; /* values from the skipped part are not defined on every path */
        }
    }
    switch (rnd() % 3) {
    case 0: ir_goto_tb(b, 0, 0x5000); break;
    case 1: ir_goto_ptr(b, pick(b, &p, 3)); break;
    default: ir_exit(b, IR_EXIT_SYSCALL, 0x6000); break;
    }
    return b;
}

START_TEST(test_random_blocks_agree_with_and_without_simplify_and_optimize)
{
    static uint8_t mem0[TMEM_SIZE], memref[TMEM_SIZE];
    unsigned n_faults = 0;
    IrInterpStatus stref = IR_INTERP_EXITED;
    uint32_t firef = 0;
    for (uint64_t seed = 1; seed <= 400; seed++) {
        rng_state = seed ^ 0xabcdef;
        TEnv e0 = {0};
        for (int i = 0; i < 4; i++) {
            e0.x[i] = rnd_val();
            e0.w[i] = (uint32_t)rnd_val();
            e0.h[i] = (uint16_t)rnd_val();
            e0.b[i] = (uint8_t)rnd_val();
        }
        for (unsigned i = 0; i < TMEM_SIZE; i++)
            mem0[i] = (uint8_t)rnd();
        TEnv eref = e0;
        for (int variant = 0; variant < 4; variant++) {
            IrBlock *b = random_block(seed, variant & 1);
            if (variant & 2)
                ir_optimize(b);
            TEnv e = e0;
            memcpy(tmem, mem0, TMEM_SIZE);
            IrExitInfo ex = {0};
            uint32_t fi = UINT32_MAX;
            IrInterpStatus st = trun(b, &e, &ex, &fi);
            ck_assert_int_ne(st, IR_INTERP_INVALID);
            if (variant == 0) {
                eref = e;
                stref = st;
                firef = fi;
                memcpy(memref, tmem, TMEM_SIZE);
                n_faults += st == IR_INTERP_FAULT;
            } else {
                if (st != stref || fi != firef || memcmp(&e, &eref, sizeof e) ||
                    memcmp(tmem, memref, TMEM_SIZE)) {
                    IrBlock *b0 = random_block(seed, false);
                    ir_print(b0, stderr);
                    ir_print(b, stderr);
                    ir_block_free(b0);
                    ck_abort_msg("seed %llu variant %d differs", (unsigned long long)seed, variant);
                }
            }
            ir_block_free(b);
        }
    }
    /* both outcomes must have been exercised */
    ck_assert_uint_gt(n_faults, 10);
    ck_assert_uint_lt(n_faults, 300);
}
END_TEST

/* ---- verifier ---------------------------------------------------------------- */
/* A valid base block: insn_start, x2 = x0 + x1, exit. */
static IrBlock *base_block(void)
{
    IrBlock *b = tblock(false);
    ir_mov(b, IR_I64, tg.x[2], ir_add(b, IR_I64, tg.x[0], tg.x[1]));
    return b;
}

static void expect_reject(IrBlock *b, const char *what, const char *needle)
{
    char err[256];
    ck_assert_msg(!tverify(b, err, sizeof err), "verifier accepted: %s", what);
    ck_assert_msg(strstr(err, needle) != NULL, "%s: message '%s' lacks '%s'", what, err, needle);
    ir_block_free(b);
}

#define EMIT(b, opc, t, ...) ir_emit(b, opc, t, (IrTemp[]){__VA_ARGS__}, NULL)

START_TEST(test_verifier_accepts_a_valid_block_and_rejects_each_malformation)
{
    IrBlock *b = base_block();
    ir_exit(b, IR_EXIT_NONE, 0);
    assert_valid(b);
    ir_block_free(b);

    b = base_block();
    expect_reject(b, "no exit at the end", "last op must be an exit");

    b = ir_block_new(&tg.set, 0x1000, 0);
    ir_mov(b, IR_I64, tg.x[0], tg.x[1]);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "op before insn_start", "insn_start");

    b = base_block();
    b->ops[b->n_ops - 1].opc = IR_OP_COUNT + 3;
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "bad opcode", "bad opcode");

    b = base_block();
    EMIT(b, IR_OP_add, IR_I64, ir_new_temp(b, IR_I64), tg.x[0], IR_TEMP_NONE);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "missing operand", "missing");

    b = base_block();
    b->ops[b->n_ops - 1].args[4] = tg.x[0];
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "extra operand", "must be empty");

    b = base_block();
    EMIT(b, IR_OP_add, IR_I64, ir_new_temp(b, IR_I64), tg.x[0], tg.w[0]);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "type mismatch", "type i32");

    b = base_block();
    EMIT(b, IR_OP_add, IR_I128, tg.q[0], tg.q[0], tg.q[1]);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "int op on i128", "not an integer type");

    b = base_block();
    IrTemp never = ir_new_temp(b, IR_I64);
    ir_mov(b, IR_I64, tg.x[0], never);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "read before write", "read before it is written");

    b = base_block();
    EMIT(b, IR_OP_mov, IR_I64, ir_const(b, IR_I64, 1), tg.x[0]);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "write to constant", "constant");

    b = base_block();
    uint32_t l = ir_new_label(b);
    ir_label(b, l);
    ir_label(b, l);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "label twice", "defined twice");

    b = base_block();
    ir_br(b, ir_new_label(b));
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "label never placed", "never placed");

    b = base_block();
    ir_br(b, 7);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "label never allocated", "never allocated");

    b = base_block();
    ir_extract(b, IR_I32, tg.w[0], 30, 4);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "extract past the width", "does not fit");

    b = base_block();
    ir_deposit(b, IR_I8, tg.b[0], tg.b[1], 0, 0);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "deposit of length 0", "does not fit");

    b = base_block();
    ir_ld(b, IR_I32, tg.x[0], IR_MO_64);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "memop wider than type", "does not fit");

    b = base_block();
    ir_ld(b, IR_I128, tg.x[0], IR_MO_128 | IR_MO_SIGN);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "signed 128-bit load", "signed");

    b = base_block();
    ir_ld(b, IR_I64, tg.x[0], IR_MO_64 | (1u << 7));
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "reserved memop bit", "reserved");

    b = base_block();
    ir_ld(b, IR_I64, tg.w[0], IR_MO_64);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "32-bit address", "expected i64");

    b = base_block();
    ir_atomic_rmw(b, IR_I64, (IrRmwOp)IR_RMW_COUNT, tg.x[0], tg.x[1], IR_MO_64);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "bad rmw op", "rmw");

    b = base_block();
    ir_fence(b, (IrFence)9);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "bad fence", "fence");

    b = base_block();
    ir_call(b, IR_HELPER_COUNT + 1, NULL, 0);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "bad helper id", "not defined");

    b = base_block();
    ir_call(b, IR_HELPER_ir_test_add3, (IrTemp[]){tg.x[0], tg.w[0], tg.x[1]}, 3);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "helper arg type", "type i32");

    b = base_block();
    ir_call(b, IR_HELPER_ir_test_add3, (IrTemp[]){tg.x[0], tg.x[1]}, 2);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "helper arg count", "needs 3 arguments");

    b = base_block();
    ir_ldenv(b, IR_I64, offsetof(TEnv, x) + 4);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "ldenv over a global", "overlaps global x0");

    b = base_block();
    ir_stenv(b, IR_I32, offsetof(TEnv, nf), tg.w[0]);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "stenv over a global", "overlaps global nf");

    b = base_block();
    ir_setcond(b, IR_I64, (IrCond)IR_COND_COUNT, tg.x[0], tg.x[1]);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "bad condition", "condition");

    b = base_block();
    ir_zext(b, IR_I32, IR_I64, tg.x[0]);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "zext from wider", "cannot extend");

    b = base_block();
    ir_goto_tb(b, IR_GOTO_TB_SLOTS, 0x1000);
    expect_reject(b, "goto_tb slot past the last", "chain slot");

    b = base_block();
    ir_exit(b, (IrExitReason)IR_EXIT_COUNT, 0);
    expect_reject(b, "bad exit reason", "exit reason");

    b = base_block();
    ir_goto_ptr(b, tg.w[0]);
    expect_reject(b, "goto_ptr of i32", "expected i64");

    b = base_block();
    ir_concat(b, IR_I64, tg.x[0], tg.x[1]);
    ir_exit(b, IR_EXIT_NONE, 0);
    expect_reject(b, "concat to i64", "concat");
}
END_TEST

START_TEST(test_verifier_and_printer_survive_random_garbage)
{
    /* arbitrary ops: the verifier must answer (usually no) and never crash;
     * whatever it accepts must also prepare for the interpreter */
    FILE *devnull = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(devnull);
    unsigned accepted = 0;
    for (uint64_t seed = 1; seed <= 3000; seed++) {
        rng_state = seed * 0x2545f4914f6cdd1dull;
        IrBlock *b = tblock(false);
        for (int i = 0; i < 4; i++) {
            ir_new_temp(b, (IrType)(1 + rnd() % (IR_TYPE_COUNT - 1)));
            ir_const(b, (IrType)(1 + rnd() % (IR_TYPE_COUNT - 1)), rnd_val());
        }
        ir_new_label(b);
        int n = 1 + (int)(rnd() % 4);
        for (int i = 0; i < n; i++) {
            IrTemp args[IR_MAX_ARGS];
            uint64_t c[IR_MAX_CONSTS] = {rnd() % 4 ? rnd() % 20 : rnd(), rnd() % 4 ? rnd() % 70 : rnd()};
            for (int k = 0; k < IR_MAX_ARGS; k++)
                args[k] = (IrTemp)(rnd() % 5 ? rnd() % b->n_temps : rnd() % 1000);
            IrOpcode opc = (IrOpcode)(rnd() % (IR_OP_COUNT + 2));
            uint32_t at = b->n_ops;
            ir_emit(b, opc, (IrType)(rnd() % (IR_TYPE_COUNT + 1)), args, c);
            b->ops[at].opc = (uint16_t)opc; /* ir_emit keeps even a bad opcode */
            if (rnd() % 2)
                memcpy(b->ops[at].args, args, sizeof args);
        }
        if (rnd() % 2)
            ir_exit(b, IR_EXIT_NONE, 0);
        char err[256];
        bool ok = ir_verify(b, err, sizeof err);
        ck_assert(ok || err[0]);
        ir_print(b, devnull);
        IrInterpCode *code = ir_interp_prepare(b, err, sizeof err);
        ck_assert_int_eq(ok, code != NULL);
        accepted += ok;
        ir_interp_free(code);
        ir_block_free(b);
    }
    fclose(devnull);
    ck_assert_uint_gt(accepted, 0);
}
END_TEST

/* ---- printer ------------------------------------------------------------------ */
START_TEST(test_printer_shows_globals_locals_constants_and_control_flow)
{
    IrBlock *b = tblock(false);
    IrTemp t = ir_add(b, IR_I64, tg.x[1], ir_const(b, IR_I64, 4));
    ir_mov(b, IR_I64, tg.x[0], t);
    uint32_t l = ir_new_label(b);
    ir_brcond(b, IR_I64, IR_COND_LT, tg.x[0], ir_const(b, IR_I64, 3), l);
    ir_st(b, IR_I32, tg.x[0], tg.w[0], IR_MO_32 | IR_MO_ALIGN(2));
    ir_call(b, IR_HELPER_ir_test_add3, (IrTemp[]){t, t, t}, 3);
    ir_label(b, l);
    ir_exit(b, IR_EXIT_SYSCALL, 0x1004);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ir_print(b, f);
    fclose(f);
    char line[64];
    snprintf(line, sizeof line, "  i64 t%u = add x1, $0x4\n", t);
    ck_assert_msg(strstr(buf, line), "no '%s' in:\n%s", line, buf);
    snprintf(line, sizeof line, "  i64 x0 = mov t%u\n", t);
    ck_assert_msg(strstr(buf, line), "no '%s' in:\n%s", line, buf);
    ck_assert_ptr_nonnull(strstr(buf, " ---- insn 0 pc 0x1000 len 4\n"));
    ck_assert_ptr_nonnull(strstr(buf, "  brcond.i64 lt x0, $0x3, L0\n"));
    ck_assert_ptr_nonnull(strstr(buf, "  st.i32 u32 al4 [x0], w0\n"));
    ck_assert_ptr_nonnull(strstr(buf, "= call ir_test_add3("));
    ck_assert_ptr_nonnull(strstr(buf, "L0:\n"));
    ck_assert_ptr_nonnull(strstr(buf, "  exit syscall, 0x1004\n"));
    free(buf);
    ir_block_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ir_passes");
    TCase *tc = tcase_create("passes");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_builder_identities_emit_moves_not_ops);
    tcase_add_test(tc, test_builder_brcond_on_constants_becomes_br_or_nothing);
    tcase_add_test(tc, test_builder_result_survives_later_write_of_its_source);
    tcase_add_test(tc, test_constants_are_deduplicated_and_canonical);
    tcase_add_test(tc, test_fold_evaluates_constant_chains_and_branches);
    tcase_add_test(tc, test_fold_forgets_constants_at_labels);
    tcase_add_test(tc, test_copy_prop_replaces_reads_until_source_changes);
    tcase_add_test(tc, test_copy_prop_stops_at_labels_and_global_writing_helpers);
    tcase_add_test(tc, test_copy_prop_writes_single_use_value_straight_to_its_mov_target);
    tcase_add_test(tc, test_dce_removes_unused_values_but_keeps_effects_and_faults);
    tcase_add_test(tc, test_dead_globals_removes_a_write_overwritten_before_any_read);
    tcase_add_test(tc, test_dead_globals_keeps_a_flag_write_read_by_an_exit);
    tcase_add_test(tc, test_dead_globals_keeps_writes_before_faults_and_global_readers);
    tcase_add_test(tc, test_dead_globals_follows_exits_whose_flags_are_dead);
    tcase_add_test(tc, test_test_fold_turns_and_then_compare_with_zero_into_a_test);
    tcase_add_test(tc, test_env_forward_replaces_a_reload_only_while_the_field_is_known);
    tcase_add_test(tc, test_optimize_shrinks_a_typical_flag_setting_sequence);
    tcase_add_test(tc, test_random_blocks_agree_with_and_without_simplify_and_optimize);
    tcase_add_test(tc, test_verifier_accepts_a_valid_block_and_rejects_each_malformation);
    tcase_add_test(tc, test_verifier_and_printer_survive_random_garbage);
    tcase_add_test(tc, test_printer_shows_globals_locals_constants_and_control_flow);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
