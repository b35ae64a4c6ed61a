/*
 * a64_test_util.h - fixtures for the AArch64 frontend unit tests (header
 * only, static functions: include it from one test file).
 *
 * a64t_run() places instruction words at A64T_CODE, lifts block after block
 * with guest_arch_aarch64, checks every block with ir_verify, runs it in the
 * reference interpreter on a small flat memory, and follows goto_tb/goto_ptr
 * exits while they stay inside the code.  Every run is done twice: on the
 * block as lifted and after ir_optimize; both must agree exactly (so the
 * optimizer's view of the frontend's IR, e.g. dead flags, is tested too).
 *
 *   A64State st = a64t_state();
 *   st.x[1] = 5;
 *   A64TResult r = a64t_run((uint32_t[]){0x91001020}, 1, &st); // add x0,x1,#4
 *   ck_assert_uint_eq(st.x[0], 9);
 */
#ifndef EMU_TESTS_UNIT_A64_TEST_UTIL_H
#define EMU_TESTS_UNIT_A64_TEST_UTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/aarch64/a64-cpu.h"
#include "frontend/aarch64/a64-translate.h"
#include "ir/ir-helpers.h"
#include "ir/ir.h"
#include "runtime/guest-arch.h"

/* Helpers are static; not every test file uses every one. */
#define A64T_FN static __attribute__((unused))

#define A64T_CODE 0x400000ull       /* code address */
#define A64T_MAX_CODE 2048          /* words (8 KiB: two pages) */
#define A64T_MEM 0x10000ull         /* data memory [A64T_MEM, +A64T_MEM_SIZE) */
#define A64T_MEM_SIZE 0x2000u

typedef struct A64TMem {
    uint8_t data[A64T_MEM_SIZE];
} A64TMem;

static A64TMem a64t_mem;

A64T_FN bool a64t_range(uint64_t addr, unsigned n)
{
    return addr >= A64T_MEM && addr - A64T_MEM <= A64T_MEM_SIZE - n;
}

static uint32_t a64t_code[A64T_MAX_CODE];
static unsigned a64t_code_len;

/* Natural alignment demanded by the memop (alignment faults). */
A64T_FN bool a64t_aligned(uint64_t addr, IrMemOp mo)
{
    return (addr & ((1ull << IR_MO_ALIGN_LOG2(mo)) - 1)) == 0;
}

A64T_FN bool a64t_load(void *o, uint64_t addr, IrMemOp mo, void *out)
{
    A64TMem *m = o;
    unsigned n = IR_MO_BYTES(mo);
    if (!a64t_aligned(addr, mo))
        return false;
    /* the code is readable too (LDR literal) */
    if (addr >= A64T_CODE && addr + n <= A64T_CODE + 4ull * a64t_code_len) {
        memcpy(out, (uint8_t *)a64t_code + (addr - A64T_CODE), n);
        return true;
    }
    if (!a64t_range(addr, n))
        return false;
    memcpy(out, m->data + (addr - A64T_MEM), n);
    return true;
}

A64T_FN bool a64t_store(void *o, uint64_t addr, IrMemOp mo, const void *in)
{
    A64TMem *m = o;
    unsigned n = IR_MO_BYTES(mo);
    if (!a64t_range(addr, n) || !a64t_aligned(addr, mo))
        return false;
    memcpy(m->data + (addr - A64T_MEM), in, n);
    return true;
}

A64T_FN bool a64t_cmpxchg(void *o, uint64_t addr, IrMemOp mo, const void *expect,
                         const void *newv, void *old)
{
    A64TMem *m = o;
    unsigned n = IR_MO_BYTES(mo);
    if (!a64t_range(addr, n) || !a64t_aligned(addr, mo))
        return false;
    uint8_t *p = m->data + (addr - A64T_MEM);
    memcpy(old, p, n);
    if (memcmp(p, expect, n) == 0)
        memcpy(p, newv, n);
    return true;
}

A64T_FN bool a64t_rmw(void *o, uint64_t addr, IrMemOp mo, IrRmwOp op, const void *val,
                     void *old)
{
    A64TMem *m = o;
    unsigned n = IR_MO_BYTES(mo);
    if (!a64t_range(addr, n) || n > 8 || !a64t_aligned(addr, mo))
        return false;
    uint8_t *p = m->data + (addr - A64T_MEM);
    uint64_t ov = 0, vv = 0;
    memcpy(&ov, p, n);
    memcpy(&vv, val, n);
    uint64_t nv = ir_rmw_apply(op, n, ov, vv);
    memcpy(old, p, n);
    memcpy(p, &nv, n);
    return true;
}

static const IrMemIface a64t_iface = {
    .opaque = &a64t_mem,
    .load = a64t_load,
    .store = a64t_store,
    .cmpxchg = a64t_cmpxchg,
    .rmw = a64t_rmw,
};

A64T_FN bool a64t_read_code(void *o, uint64_t pc, void *buf, size_t len)
{
    if (pc < A64T_CODE || pc + len > A64T_CODE + 4ull * a64t_code_len)
        return false;
    memcpy(buf, (uint8_t *)a64t_code + (pc - A64T_CODE), len);
    return true;
}

static const GuestCodeReader a64t_reader = {.opaque = NULL, .read = a64t_read_code};

/* A fresh state: registers zero, no exclusive reservation, pc at the code. */
A64T_FN A64State a64t_state(void)
{
    A64State st;
    memset(&st, 0, sizeof(st));
    st.common.pc = A64T_CODE;
    st.excl_addr = ~0ull;
    st.zf = 1; /* Z clear */
    return st;
}

/* Registers that may differ between the two runs (timer reads): set
 * before a64t_run, cleared by it. */
static uint32_t a64t_nondet_regs;

typedef struct A64TResult {
    IrInterpStatus status;  /* of the last block */
    IrExitInfo exit;        /* last exit taken */
    unsigned blocks;        /* blocks run */
} A64TResult;

/* ARCHITECTURE.md's precise-exception rule: inside one guest instruction
 * no op that can fault comes after a write to a global.  Returns the index
 * of the first offending op, or -1. */
A64T_FN long a64t_precise_violation(const IrBlock *b)
{
    bool wrote = false;
    for (uint32_t i = 0; i < b->n_ops; i++) {
        const IrInst *op = &b->ops[i];
        const IrOpInfo *info = &ir_op_info[op->opc];
        if (op->dead)
            continue;
        if (op->opc == IR_OP_insn_start) {
            wrote = false;
            continue;
        }
        bool faults = (info->flags & IR_OPF_CAN_FAULT) != 0;
        if (op->opc == IR_OP_call && op->c[0] < IR_HELPER_COUNT)
            faults = (ir_helper_info[op->c[0]].flags & IR_HF_CAN_FAULT) != 0;
        if (faults && wrote)
            return (long)i;
        for (unsigned k = 0; k < info->n_out; k++) {
            IrTemp t = op->args[k];
            if (t != IR_TEMP_NONE && t < b->n_temps && b->temps[t].kind == IR_TEMP_GLOBAL)
                wrote = true;
        }
    }
    return -1;
}

/* Lifts the block at pc: verified, optionally optimized (and re-verified). */
A64T_FN IrBlock *a64t_lift(uint64_t pc, bool optimize, unsigned max_insns)
{
    char err[256];
    guest_arch_aarch64.init();
    IrBlock *b = guest_arch_aarch64.translate(pc, 0, &a64t_reader, max_insns);
    ck_assert_ptr_nonnull(b);
    if (!ir_verify(b, err, sizeof(err))) {
        ir_print(b, stderr);
        ck_abort_msg("lifted block at %#llx does not verify: %s", (unsigned long long)pc, err);
    }
    long bad = a64t_precise_violation(b);
    if (bad >= 0) {
        ir_print(b, stderr);
        ck_abort_msg("block at %#llx: op %ld can fault after a global write in the same insn",
                     (unsigned long long)pc, bad);
    }
    if (optimize) {
        ir_optimize(b);
        if (!ir_verify(b, err, sizeof(err))) {
            ir_print(b, stderr);
            ck_abort_msg("optimized block at %#llx does not verify: %s",
                         (unsigned long long)pc, err);
        }
    }
    return b;
}

A64T_FN A64TResult a64t_run_once(A64State *st, bool optimize)
{
    A64TResult r = {0};
    for (unsigned i = 0; i < 64; i++) {
        IrBlock *b = a64t_lift(st->common.pc, optimize, 64);
        uint32_t fi = 0;
        r.status = ir_interp_run(b, st, &a64t_iface, &r.exit, &fi);
        ir_block_free(b);
        r.blocks++;
        if (r.status != IR_INTERP_EXITED)
            break;
        if (r.exit.kind == IR_OP_exit)
            break;
        uint64_t pc = st->common.pc;
        if (pc < A64T_CODE || pc >= A64T_CODE + 4ull * a64t_code_len)
            break;
    }
    return r;
}

/* Runs code[0..n) from A64T_CODE on *st (memory: a64t_mem) in both modes
 * (raw and optimized IR); checks they agree and leaves the result in *st. */
A64T_FN A64TResult a64t_run(const uint32_t *code, unsigned n, A64State *st)
{
    ck_assert_uint_le(n, A64T_MAX_CODE);
    memcpy(a64t_code, code, 4 * n);
    a64t_code_len = n;
    st->common.pc = A64T_CODE;

    A64State st2 = *st;
    static A64TMem mem2;
    memcpy(&mem2, &a64t_mem, sizeof(mem2));

    A64TResult r1 = a64t_run_once(st, false);
    /* second run on copies, then compare */
    A64TMem mem1;
    memcpy(&mem1, &a64t_mem, sizeof(mem1));
    memcpy(&a64t_mem, &mem2, sizeof(mem2));
    A64TResult r2 = a64t_run_once(&st2, true);
    ck_assert_int_eq(r1.status, r2.status);
    ck_assert_int_eq(r1.exit.kind, r2.exit.kind);
    ck_assert_uint_eq(r1.exit.reason, r2.exit.reason);
    ck_assert_uint_eq(r1.exit.pc, r2.exit.pc);
    ck_assert_uint_eq(st->common.pc, st2.common.pc);
    for (int i = 0; i < 32; i++)
        ck_assert_msg(st->x[i] == st2.x[i] || (a64t_nondet_regs >> i & 1), "x%d differs: raw %#llx optimized %#llx", i,
                      (unsigned long long)st->x[i], (unsigned long long)st2.x[i]);
    /* flags may differ in encoding after dead-flag elimination only if
     * dead; the architectural NZCV must agree (lazy flags materialised) */
    a64_flags_sync_state(st);
    a64_flags_sync_state(&st2);
    ck_assert_uint_eq(st->nf >> 31, st2.nf >> 31);
    ck_assert_uint_eq(st->zf == 0, st2.zf == 0);
    ck_assert_uint_eq(st->cf, st2.cf);
    ck_assert_uint_eq(st->vf >> 31, st2.vf >> 31);
    ck_assert_uint_eq(st->excl_addr, st2.excl_addr);
    ck_assert_msg(memcmp(&mem1, &a64t_mem, sizeof(mem1)) == 0, "memory differs");
    a64t_nondet_regs = 0;
    return r1;
}

/* NZCV of a state as a 4-bit value (N = 8). */
A64T_FN unsigned a64t_nzcv(A64State *st)
{
    a64_flags_sync_state(st);
    return (st->nf >> 31) << 3 | (st->zf == 0) << 2 | (st->cf & 1) << 1 | (st->vf >> 31);
}

A64T_FN void a64t_set_nzcv(A64State *st, unsigned nzcv)
{
    st->nf = (nzcv & 8) ? 0x80000000u : 0;
    st->zf = (nzcv & 4) ? 0 : 1;
    st->cf = (nzcv >> 1) & 1;
    st->vf = (nzcv & 1) ? 0x80000000u : 0;
    st->cc_op = A64_CC_EAGER;
}

/* Lifts a single instruction and reports whether it ended as undefined. */
A64T_FN bool a64t_is_undef(uint32_t insn)
{
    a64t_code[0] = insn;
    a64t_code_len = 1;
    IrBlock *b = a64t_lift(A64T_CODE, false, 1);
    bool undef = false;
    for (uint32_t i = 0; i < b->n_ops; i++) {
        const IrInst *op = &b->ops[i];
        if (op->opc == IR_OP_exit && op->c[0] == IR_EXIT_UNDEF && op->c[1] == A64T_CODE)
            undef = true;
    }
    ir_block_free(b);
    return undef;
}

/* The architecture's ConditionHolds(cc) on an NZCV nibble (N=8 Z=4 C=2 V=1):
 * the reference the condition tests compare the lifted code against. */
static inline bool a64t_ref_cond(unsigned cc, unsigned nzcv)
{
    bool n = nzcv & 8, z = nzcv & 4, c = nzcv & 2, v = nzcv & 1, r;
    switch (cc >> 1) {
    case 0: r = z; break;
    case 1: r = c; break;
    case 2: r = n; break;
    case 3: r = v; break;
    case 4: r = c && !z; break;
    case 5: r = n == v; break;
    case 6: r = n == v && !z; break;
    default: return true;
    }
    return (cc & 1) ? !r : r;
}

#endif /* EMU_TESTS_UNIT_A64_TEST_UTIL_H */
