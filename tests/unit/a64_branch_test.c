/*
 * a64_branch_test.c - AArch64 frontend: branches and block exits, system
 * instructions and registers, and the translation loop's stopping rules
 * (branch, max_insns, page boundary, unreadable code).  Encodings come
 * from aarch64-linux-gnu-as; the comment is the source line.
 */
#include "tests/unit/a64_test_util.h"

#include "frontend/aarch64/a64-helpers.h"

#define SVC0 0xd4000001u
#define NOP 0xd503201fu
#define MOVZ_X0_1 0xd2800020u /* mov x0, #1 */
#define UDF 0x00000000u

static A64TResult run(const uint32_t *code, unsigned n, A64State *st)
{
    A64TResult r = a64t_run(code, n, st);
    ck_assert_int_eq(r.status, IR_INTERP_EXITED);
    return r;
}

/* Counts the exits of a lifted block by kind. */
typedef struct ExitCount {
    unsigned goto_tb[IR_GOTO_TB_SLOTS], goto_ptr, exit, insns;
} ExitCount;

static ExitCount count_exits(const uint32_t *code, unsigned n, uint64_t pc, unsigned max)
{
    ExitCount c = {0};
    memcpy(a64t_code, code, 4 * n);
    a64t_code_len = n;
    IrBlock *b = a64t_lift(pc, false, max);
    for (uint32_t i = 0; i < b->n_ops; i++) {
        const IrInst *op = &b->ops[i];
        if (op->opc == IR_OP_goto_tb)
            c.goto_tb[op->c[0] % IR_GOTO_TB_SLOTS]++;
        else if (op->opc == IR_OP_goto_ptr)
            c.goto_ptr++;
        else if (op->opc == IR_OP_exit)
            c.exit++;
    }
    c.insns = b->n_insns;
    ir_block_free(b);
    return c;
}

START_TEST(test_b_bl)
{
    static const uint32_t code[] = {
        0x14000002, /* b .+8 */
        UDF,
        0x94000002, /* bl .+8 */
        UDF,
        SVC0,
    };
    A64State st = a64t_state();
    A64TResult r = run(code, 5, &st);
    ck_assert_uint_eq(r.exit.reason, IR_EXIT_SYSCALL);
    ck_assert_uint_eq(st.common.pc, A64T_CODE + 20);
    ck_assert_uint_eq(st.x[30], A64T_CODE + 12);
    ExitCount c = count_exits(code, 5, A64T_CODE, 64);
    ck_assert_uint_eq(c.goto_tb[0], 1);
    ck_assert_uint_eq(c.insns, 1);
}
END_TEST

START_TEST(test_bcond_all)
{
    for (unsigned cc = 0; cc < 16; cc++)
        for (unsigned nzcv = 0; nzcv < 16; nzcv++) {
            uint32_t code[3] = {0x54000040u | cc /* b.<cc> .+8 */, MOVZ_X0_1, SVC0};
            A64State st = a64t_state();
            a64t_set_nzcv(&st, nzcv);
            run(code, 3, &st);
            ck_assert_msg(st.x[0] == (a64t_ref_cond(cc, nzcv) ? 0u : 1u), "cc %u nzcv %x", cc, nzcv);
            ck_assert_uint_eq(a64t_nzcv(&st), nzcv);
        }
    /* forward: a side exit on slot 2, the block goes on to the svc */
    uint32_t code[3] = {0x54000040u /* b.eq .+8 */, MOVZ_X0_1, SVC0};
    ExitCount c = count_exits(code, 3, A64T_CODE, 64);
    ck_assert_uint_eq(c.goto_tb[2], 1);
    ck_assert_uint_eq(c.goto_tb[0] + c.goto_tb[1] + c.goto_tb[3], 0);
    ck_assert_uint_eq(c.exit, 1);
    ck_assert_uint_eq(c.insns, 3);
    /* backward (a loop's latch): taken on slot 0, fall-through on slot 1 */
    uint32_t back[3] = {MOVZ_X0_1, 0x54ffffe0u /* b.eq .-4 */, SVC0};
    c = count_exits(back, 3, A64T_CODE, 64);
    ck_assert_uint_eq(c.goto_tb[0], 1);
    ck_assert_uint_eq(c.goto_tb[1], 1);
    ck_assert_uint_eq(c.insns, 2);
}
END_TEST

/* Forward branches are side exits while slots 2 and 3 last; the third ends
 * the block with slots 0 and 1.  Every path still reaches the right pc. */
START_TEST(test_side_exits_extend_the_block)
{
    /* x0 = 5; three b.eq .+8 each skipping an add; svc */
    static const uint32_t code[] = {
        0xd28000a0u,             /* movz x0, #5 */
        0xf100001fu,             /* cmp x0, #0 */
        0x54000040u,             /* b.eq .+8 */
        0x91000400u,             /* add x0, x0, #1 */
        0xf100181fu,             /* cmp x0, #6 */
        0x54000040u,             /* b.eq .+8 */
        0x91000400u,             /* add x0, x0, #1 (skipped) */
        0xf100181fu,             /* cmp x0, #6 */
        0x54000041u,             /* b.ne .+8 */
        0x91002800u,             /* add x0, x0, #10 */
        SVC0,
    };
    ExitCount c = count_exits(code, 11, A64T_CODE, 64);
    ck_assert_uint_eq(c.goto_tb[2], 1);
    ck_assert_uint_eq(c.goto_tb[3], 1);
    ck_assert_uint_eq(c.goto_tb[0], 1);
    ck_assert_uint_eq(c.goto_tb[1], 1);
    ck_assert_uint_eq(c.insns, 9);
    A64State st = a64t_state();
    A64TResult r = run(code, 11, &st);
    ck_assert_uint_eq(r.exit.reason, IR_EXIT_SYSCALL);
    ck_assert_uint_eq(st.x[0], 16);
}
END_TEST

/* A b.cond whose flags come from before the block (cc_op SUB, ADD or their
 * 32-bit kinds, as a CMP/CMN in an earlier block leaves them): every condition against the
 * NZCV C code computes from the same lazy state (a64_flags_sync_state). */
START_TEST(test_bcond_on_lazy_flags_from_an_earlier_block)
{
    static const uint64_t vals[] = {0, 1, 2, 0x7fffffffffffffffull, 0x8000000000000000ull,
                                    0xffffffffffffffffull, 0x100000000ull, 0xffffffff00000000ull,
                                    0x8000000100000000ull, 0x1234567800000000ull};
    const unsigned nv = sizeof vals / sizeof vals[0];
    for (unsigned op = A64_CC_SUB; op <= A64_CC_ADD32; op++)
        for (unsigned i = 0; i < nv; i++)
            for (unsigned j = 0; j < nv; j++)
                for (unsigned cc = 0; cc < 16; cc++) {
                    uint32_t code[3] = {0x54000040u | cc /* b.<cc> .+8 */, MOVZ_X0_1, SVC0};
                    A64State st = a64t_state();
                    bool w = op >= A64_CC_SUB32; /* 32-bit kinds: zero-extended operands */
                    st.cc_op = op;
                    st.cc_a = w ? (uint32_t)(vals[i] >> (i & 1 ? 32 : 0)) : vals[i];
                    st.cc_b = w ? (uint32_t)(vals[j] >> (j & 1 ? 32 : 0)) : vals[j];
                    A64State ref = st;
                    unsigned nzcv = a64t_nzcv(&ref);
                    run(code, 3, &st);
                    ck_assert_msg(st.x[0] == (a64t_ref_cond(cc, nzcv) ? 0u : 1u),
                                  "op %u a %llx b %llx cc %u", op, (unsigned long long)vals[i],
                                  (unsigned long long)vals[j], cc);
                    ck_assert_uint_eq(a64t_nzcv(&st), nzcv);
                    if (cc == 0) { /* MRS NZCV materialises all four (a64_flags_sync) */
                        uint32_t mrs[2] = {0xd53b4202u /* mrs x2, nzcv */, SVC0};
                        A64State in = a64t_state();
                        in.cc_op = op;
                        in.cc_a = w ? (uint32_t)(vals[i] >> (i & 1 ? 32 : 0)) : vals[i];
                        in.cc_b = w ? (uint32_t)(vals[j] >> (j & 1 ? 32 : 0)) : vals[j];
                        run(mrs, 2, &in);
                        ck_assert_msg(in.x[2] == (uint64_t)nzcv << 28, "mrs: op %u a %llx b %llx",
                                      op, (unsigned long long)vals[i], (unsigned long long)vals[j]);
                    }
                }
}
END_TEST

/* IrBlock.flags_dead_slots: the frontend reads each goto_tb target in the
 * block's pages and marks the exits where the code overwrites NZCV before
 * anything reads them (a64-flags-live.c); read_before/read_after say what
 * it read.  Block: "cmp x0, x1; b .+8" (goto_tb 0 to word 3), word 2 a
 * filler, the target from word 3 on. */
static IrBlock *lift_with_target(const uint32_t *target, unsigned n)
{
    a64t_code[0] = 0xeb01001fu; /* cmp x0, x1 */
    a64t_code[1] = 0x14000002u; /* b .+8 */
    a64t_code[2] = UDF;
    memcpy(a64t_code + 3, target, 4 * n);
    a64t_code_len = 3 + n;
    return a64t_lift(A64T_CODE, false, 64);
}

START_TEST(test_flags_dead_at_exits)
{
    static const struct {
        uint32_t code[4];
        unsigned n;
        bool dead;
    } cases[] = {
        {{0xeb01001fu}, 1, true},                       /* cmp x0, x1 */
        {{0x91000400u, 0x72000c20u}, 2, true},          /* add; ands w0, w1, #0xf */
        {{0xf9400020u, 0xd503245fu, 0x1e612000u}, 3, true}, /* ldr; bti c; fcmp d0, d1 */
        {{0xd51b4203u}, 1, true},                       /* msr nzcv, x3 */
        {{0x94000010u}, 1, true},                       /* bl: flags dead by the ABI */
        {{0xd65f03c0u}, 1, true},                       /* ret */
        {{0x54000040u}, 1, false},                      /* b.eq */
        {{0x91000400u, 0x9a820020u}, 2, false},         /* add; csel */
        {{0xba020020u}, 1, false},                      /* adcs */
        {{0xfa411000u}, 1, false},                      /* ccmp */
        {{0x1e620c20u}, 1, false},                      /* fcsel */
        {{0xd53b4202u}, 1, false},                      /* mrs x2, nzcv */
        {{0xd500401fu}, 1, false},                      /* cfinv */
        {{0xd61f0020u}, 1, false},                      /* br x1: unknown target */
        {{0xd4000001u}, 1, false},                      /* svc */
        {{0x14000000u}, 1, false},                      /* b .: gives up */
        {{0xd53bd042u, 0xeb01001fu}, 2, true},          /* mrs tpidr_el0; cmp */
        /* cbz x0, .+8: both ways must overwrite them */
        {{0xb4000040u, 0xeb01001fu, 0xeb01001fu}, 3, true},
        {{0xb4000040u, 0xeb01001fu, 0x54000040u}, 3, false},
        {{0xb4000040u, 0x54000040u, 0xeb01001fu}, 3, false},
        {{0x14000002u, 0x54000040u, 0xeb01001fu}, 3, true}, /* b .+8 is followed */
        {{0xeb01001fu}, 0, false},                      /* the target is not readable */
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        IrBlock *b = lift_with_target(cases[i].code, cases[i].n);
        ck_assert_msg((b->flags_dead_slots & 1) == cases[i].dead, "case %u: slots %x", i, b->flags_dead_slots);
        ck_assert_uint_eq(b->read_before, 0);
        ck_assert_msg(b->guest_size == 8 && b->read_after >= (cases[i].n ? 8u : 0u), "case %u: size %u after %u", i, b->guest_size, b->read_after);
        ir_block_free(b);
    }
    /* nothing past the block's page: the target there is not read */
    memset(a64t_code, 0, sizeof a64t_code);
    IrBlock *b;
    a64t_code[1022] = 0xeb01001fu;      /* cmp x0, x1 */
    a64t_code[1023] = 0x14000002u;      /* b .+8: to the next page */
    a64t_code[1025] = 0xeb01001fu;
    a64t_code_len = 1026;
    b = a64t_lift(A64T_CODE + 4 * 1022, false, 64);
    ck_assert_uint_eq(b->flags_dead_slots, 0);
    ck_assert_uint_eq(b->read_after, 0);
    ir_block_free(b);
    /* a backward target: read before the block */
    a64t_code[1020] = 0xeb01001fu;
    a64t_code[1023] = 0x17fffffdu;      /* b .-12 */
    b = a64t_lift(A64T_CODE + 4 * 1022, false, 64);
    ck_assert_uint_eq(b->flags_dead_slots, 1);
    ck_assert_uint_eq(b->read_before, 8);
    ir_block_free(b);
    /* "cmp x0, x1; ret/blr/br": NZCV is dead at a return and a call
     * (AAPCS64), not at a plain indirect branch (a jump table's target may
     * read them) */
    static const struct {
        uint32_t insn;
        bool dead;
    } ptr[] = {{0xd65f03c0u /* ret */, true}, {0xd63f0020u /* blr x1 */, true},
               {0xd61f0020u /* br x1 */, false}};
    for (unsigned i = 0; i < sizeof ptr / sizeof ptr[0]; i++) {
        a64t_code[0] = 0xeb01001fu;
        a64t_code[1] = ptr[i].insn;
        a64t_code_len = 2;
        b = a64t_lift(A64T_CODE, false, 64);
        ck_assert_msg(b->ptr_flags_dead == ptr[i].dead, "insn %08x", ptr[i].insn);
        ir_block_free(b);
    }
}
END_TEST

START_TEST(test_cbz_tbz)
{
    static const struct {
        uint32_t insn;
        uint64_t x1;
        bool taken;
    } cases[] = {
        {0xb4000041 /* cbz x1, .+8 */, 0, true},
        {0xb4000041, 0x100000000ull, false},
        {0x35000041 /* cbnz w1, .+8 */, 0x100000000ull, false}, /* w1 = 0 */
        {0x35000041, 0x80000000ull, true},
        {0xb6f80041 /* tbz x1, #63, .+8 */, 0x7fffffffffffffffull, true},
        {0xb6f80041, 0x8000000000000000ull, false},
        {0x37180041 /* tbnz w1, #3, .+8 */, 8, true},
        {0x37180041, 0xfffffffffffffff7ull, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t code[3] = {cases[i].insn, MOVZ_X0_1, SVC0};
        A64State st = a64t_state();
        st.x[1] = cases[i].x1;
        run(code, 3, &st);
        ck_assert_msg(st.x[0] == (cases[i].taken ? 0u : 1u), "case %zu", i);
    }
}
END_TEST

START_TEST(test_indirect)
{
    static const uint32_t code[] = {
        0xd63f0020, /* blr x1 */       /* -> +8 */
        SVC0,
        0xd63f03c0, /* blr x30 */      /* x30 = +4: target read before the link */
        UDF,
    };
    A64State st = a64t_state();
    st.x[1] = A64T_CODE + 8;
    run(code, 4, &st);
    /* blr x1 -> +8 (x30 = +4); blr x30 -> +4 (x30 = +12); svc */
    ck_assert_uint_eq(st.common.pc, A64T_CODE + 8);
    ck_assert_uint_eq(st.x[30], A64T_CODE + 12);
    ExitCount c = count_exits(code, 4, A64T_CODE, 64);
    ck_assert_uint_eq(c.goto_ptr, 1);

    static const uint32_t code2[] = {
        0xd65f03c0, /* ret */
        SVC0,
        0xd65f0040, /* ret x2 */
        0xd61f0020, /* br x1 */
    };
    st = a64t_state();
    st.x[30] = A64T_CODE + 8;
    st.x[2] = A64T_CODE + 12;
    st.x[1] = A64T_CODE + 4;
    run(code2, 4, &st);
    ck_assert_uint_eq(st.common.pc, A64T_CODE + 8);
    ck_assert_uint_eq(st.x[30], A64T_CODE + 8);
}
END_TEST

START_TEST(test_exceptions)
{
    static const uint32_t code[] = {
        NOP,
        0xd42000a0, /* brk #5 */
    };
    A64State st = a64t_state();
    A64TResult r = run(code, 2, &st);
    ck_assert_uint_eq(r.exit.reason, IR_EXIT_BREAKPOINT);
    ck_assert_uint_eq(st.common.pc, A64T_CODE + 4);
    static const uint32_t code2[] = {
        0xd4000021, /* svc #1 */
    };
    st = a64t_state();
    r = run(code2, 1, &st);
    ck_assert_uint_eq(r.exit.reason, IR_EXIT_SYSCALL);
    ck_assert_uint_eq(st.common.pc, A64T_CODE + 4);
}
END_TEST

START_TEST(test_hints_barriers)
{
    static const uint32_t code[] = {
        NOP,
        0xd503203f, /* yield */
        0xd5033bbf, /* dmb ish */
        0xd5033f9f, /* dsb sy */
        0xd50339bf, /* dmb ishld */
        0xd503233f, /* paciasp */
        0xd50323bf, /* autiasp */
        0xd503245f, /* bti c */
        0xd50330ff, /* sb */
        0xd50b7e21, /* dc civac, x1 */
        0xd50b7521, /* ic ivau, x1 */
        0xd50b7b21, /* dc cvau, x1 */
        0xd5033fdf, /* isb: ends the block */
        MOVZ_X0_1,
        SVC0,
    };
    A64State st = a64t_state();
    st.x[30] = 0x1234;
    run(code, sizeof(code) / 4, &st);
    ck_assert_uint_eq(st.x[0], 1);
    ck_assert_uint_eq(st.x[30], 0x1234);
    ExitCount c = count_exits(code, sizeof(code) / 4, A64T_CODE, 64);
    ck_assert_uint_eq(c.insns, 13);
    ck_assert_uint_eq(c.goto_tb[0], 1);
}
END_TEST

START_TEST(test_sysregs)
{
    static const uint32_t code[] = {
        0xd51bd041, /* msr tpidr_el0, x1 */
        0xd53bd040, /* mrs x0, tpidr_el0 */
        0xd53bd062, /* mrs x2, tpidrro_el0 */
        0xd53b4203, /* mrs x3, nzcv */
        0xd51b4204, /* msr nzcv, x4 */
        0xd51b4406, /* msr fpcr, x6 */
        0xd53b4405, /* mrs x5, fpcr */
        0xd51b4428, /* msr fpsr, x8 */
        0xd53b4427, /* mrs x7, fpsr */
        0xd53be049, /* mrs x9, cntvct_el0 */
        0xd53be00a, /* mrs x10, cntfrq_el0 */
        0xd53b00eb, /* mrs x11, dczid_el0 */
        0xd538000c, /* mrs x12, midr_el1 */
        0xd53800ad, /* mrs x13, mpidr_el1 */
        0xd538060e, /* mrs x14, id_aa64isar0_el1 */
        0xd53800d0, /* mrs x16, revidr_el1 */
        0xd5380411, /* mrs x17, id_aa64pfr0_el1 */
        0xd53be052, /* mrs x18, cntvct_el0 */
        0xd53b0033, /* mrs x19, ctr_el0 */
        SVC0,
    };
    A64State st = a64t_state();
    st.x[1] = 0x7766554433221100ull;
    st.tpidrro_el0 = 0xabcdef;
    a64t_set_nzcv(&st, 0xa);
    st.x[4] = 0x50000000; /* Z and V */
    st.x[6] = 0x03c00000; /* rounding mode bits etc. */
    st.x[8] = 0x8000009f;
    st.midr = 0x410fd083;
    st.x[16] = 0x99;
    a64t_nondet_regs = 1u << 9 | 1u << 18; /* counter reads */
    run(code, sizeof(code) / 4, &st);
    ck_assert_uint_eq(st.x[0], 0x7766554433221100ull);
    ck_assert_uint_eq(st.tpidr_el0, 0x7766554433221100ull);
    ck_assert_uint_eq(st.x[2], 0xabcdef);
    ck_assert_uint_eq(st.x[3], 0xa0000000);
    ck_assert_uint_eq(a64t_nzcv(&st), 0x5);
    ck_assert_uint_eq(st.x[5], 0x03c00000);
    ck_assert_uint_eq(st.fpcr, 0x03c00000);
    ck_assert_uint_eq(st.x[7], 0x8000009f);
    ck_assert_uint_ne(st.x[9], 0);
    ck_assert_uint_ge(st.x[18], st.x[9]);
    ck_assert_uint_eq(st.x[10], A64_CNTFRQ_HZ);
    ck_assert_uint_eq(st.x[11], 4);
    ck_assert_uint_eq(st.x[12], 0x410fd083);
    ck_assert_uint_eq(st.x[13], 0x80000000);
    ck_assert_uint_eq((st.x[14] >> 16) & 0xf, 1); /* CRC32 */
    ck_assert_uint_eq((st.x[14] >> 20) & 0xf, 2); /* LSE atomics */
    ck_assert_uint_eq(st.x[16], 0);
    ck_assert_uint_eq(st.x[17] & 0xf, 1);          /* EL0: AArch64 */
    ck_assert_uint_eq((st.x[19] >> 16) & 0xf, 4);  /* DminLine: 64 bytes */

    /* FPCR/FPSR keep only their architectural bits */
    static const uint32_t code2[] = {
        0xd51b4406, /* msr fpcr, x6 */
        0xd53b4405, /* mrs x5, fpcr */
        0xd51b4428, /* msr fpsr, x8 */
        0xd53b4427, /* mrs x7, fpsr */
        SVC0,
    };
    st = a64t_state();
    st.x[6] = st.x[8] = ~0ull;
    run(code2, sizeof(code2) / 4, &st);
    ck_assert_uint_eq(st.x[5], 0x07ff0000);
    ck_assert_uint_eq(st.x[7], 0xf800009f);
}
END_TEST

START_TEST(test_dc_zva_cfinv)
{
    static const uint32_t code[] = {
        0xd50b742f, /* dc zva, x15 */
        0xd500401f, /* cfinv */
        SVC0,
    };
    memset(&a64t_mem, 0xab, sizeof(a64t_mem));
    A64State st = a64t_state();
    st.x[15] = A64T_MEM + 0x100 + 0x2b; /* aligned down to +0x100 */
    a64t_set_nzcv(&st, 0x2);
    run(code, 3, &st);
    for (unsigned i = 0; i < 0x200; i++) {
        uint8_t want = (i >= 0x100 && i < 0x140) ? 0 : 0xab;
        ck_assert_msg(a64t_mem.data[i] == want, "byte %#x", i);
    }
    ck_assert_uint_eq(a64t_nzcv(&st), 0);
}
END_TEST

START_TEST(test_loop_limits)
{
    static uint32_t nops[A64T_MAX_CODE];
    for (unsigned i = 0; i < A64T_MAX_CODE; i++)
        nops[i] = NOP;
    /* max_insns */
    ExitCount c = count_exits(nops, 64, A64T_CODE, 5);
    ck_assert_uint_eq(c.insns, 5);
    ck_assert_uint_eq(c.goto_tb[0], 1);
    /* the page ends after 2 instructions */
    c = count_exits(nops, A64T_MAX_CODE, A64T_CODE + 0x1000 - 8, 64);
    ck_assert_uint_eq(c.insns, 2);
    /* the code ends (unreadable) after 3 instructions: stop before */
    c = count_exits(nops, 3, A64T_CODE, 64);
    ck_assert_uint_eq(c.insns, 3);
    ck_assert_uint_eq(c.exit, 0);
    /* the first instruction is unreadable: fetch fault */
    A64State st = a64t_state();
    st.common.pc = A64T_CODE + 12;
    IrBlock *b = a64t_lift(A64T_CODE + 12, false, 64);
    IrExitInfo ex;
    uint32_t fi;
    ck_assert_int_eq(ir_interp_run(b, &st, &a64t_iface, &ex, &fi), IR_INTERP_EXITED);
    ck_assert_uint_eq(ex.reason, IR_EXIT_FETCH_FAULT);
    ck_assert_uint_eq(st.common.pc, A64T_CODE + 12);
    ir_block_free(b);
    /* run of the 3 nops: chains to the unreadable pc */
    st = a64t_state();
    A64TResult r = a64t_run(nops, 3, &st);
    ck_assert_uint_eq(r.exit.kind, IR_OP_goto_tb);
    ck_assert_uint_eq(st.common.pc, A64T_CODE + 12);
    /* misaligned pc */
    b = a64t_lift(A64T_CODE + 2, false, 64);
    ck_assert_int_eq(ir_interp_run(b, &st, &a64t_iface, &ex, &fi), IR_INTERP_EXITED);
    ck_assert_uint_eq(ex.reason, IR_EXIT_FETCH_FAULT);
    ir_block_free(b);
}
END_TEST

static Suite *a64_branch_suite(void)
{
    Suite *s = suite_create("a64_branch");
    TCase *tc = tcase_create("branch_sys");
    tcase_add_test(tc, test_b_bl);
    tcase_add_test(tc, test_bcond_all);
    tcase_add_test(tc, test_side_exits_extend_the_block);
    tcase_add_test(tc, test_bcond_on_lazy_flags_from_an_earlier_block);
    tcase_add_test(tc, test_cbz_tbz);
    tcase_add_test(tc, test_indirect);
    tcase_add_test(tc, test_exceptions);
    tcase_add_test(tc, test_hints_barriers);
    tcase_add_test(tc, test_sysregs);
    tcase_add_test(tc, test_dc_zva_cfinv);
    tcase_add_test(tc, test_loop_limits);
    tcase_add_test(tc, test_flags_dead_at_exits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(a64_branch_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
