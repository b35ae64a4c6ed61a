/*
 * ir-random.c - seeded random IR blocks (see ir-random.h).
 *
 * The generator keeps, per type, the values an op may read: the globals and
 * the locals defined so far on every path to the current point.  A
 * conditional region (brcond over some ops to a label), a skipped region (br
 * over dead code) or a loop body defines locals that are forgotten at its end,
 * so no local is ever read on a path where it was not written.  A side exit
 * (brcond to a label placed after the final exit, holding only a goto_tb,
 * as an extended block's frontend makes them) leaves from anywhere.  Raw ir_emit
 * is used throughout, so the block holds exactly the generated ops (the
 * builder's folding would hide the ops under test).
 */
#include "tests/common/ir-random.h"
#include "ir/ir-eval.h"
#include "template-backend/tmpl.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "ir/ir-helpers.h"

#define POOL 96

typedef struct RGen {
    IrBlock *b;
    uint64_t s;
    IrTemp loc[IR_TYPE_COUNT][POOL];
    unsigned nloc[IR_TYPE_COUNT];
    IrTemp glob[IR_TYPE_COUNT][8];
    unsigned nglob[IR_TYPE_COUNT];
    unsigned insns;
    bool wrote_global;     /* in the current guest insn */
    int fault_at;          /* index of the memory access that faults, -1 none */
    unsigned n_memops;
    bool slot_used[IR_GOTO_TB_SLOTS];
    uint64_t slot_pc[IR_GOTO_TB_SLOTS];
    int depth;
    bool in_loop;
    uint32_t side_label[IR_GOTO_TB_SLOTS]; /* side exits: label, and its goto_tb slot */
    uint8_t side_slot[IR_GOTO_TB_SLOTS];
    unsigned n_side;
} RGen;

static uint64_t rnd(RGen *g)
{
    uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static unsigned rn(RGen *g, unsigned n) { return n ? (unsigned)(rnd(g) % n) : 0; }

void ir_rand_fill(void *p, size_t n, uint64_t seed)
{
    RGen g = {.s = seed ^ 0x5bd1e995u};
    uint8_t *q = p;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = rnd(&g);
        memcpy(q + i, &v, n - i < 8 ? n - i : 8);
    }
}

void ir_rand_start(uint64_t seed, void *guest, uint64_t limit, IrRandEnv *env, uint8_t *imem)
{
    ir_rand_fill(imem, IR_RAND_MEM_SIZE, seed ^ 0xabcdef);
    memcpy(guest, imem, IR_RAND_MEM_SIZE);
    ir_rand_env(env, seed);
    env->common.guest_base = (uint64_t)(uintptr_t)guest;
    env->common.guest_limit = limit;
}

void ir_rand_globals(IrGlobalSet *gs)
{
    static const char *n64[8] = {"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"};
    static const char *n32[4] = {"w0", "w1", "w2", "w3"};
    for (int i = 0; i < 8; i++)
        ir_global_register(gs, IR_I64, offsetof(IrRandEnv, r64) + 8 * i, n64[i], 0);
    for (int i = 0; i < 4; i++)
        ir_global_register(gs, IR_I32, offsetof(IrRandEnv, r32) + 4 * i, n32[i], 0);
    ir_global_register(gs, IR_I16, offsetof(IrRandEnv, r16), "h0", 0);
    ir_global_register(gs, IR_I16, offsetof(IrRandEnv, r16) + 2, "h1", 0);
    ir_global_register(gs, IR_I8, offsetof(IrRandEnv, r8), "b0", IR_TEMPF_FLAG);
    ir_global_register(gs, IR_I8, offsetof(IrRandEnv, r8) + 1, "b1", IR_TEMPF_FLAG);
    ir_global_register(gs, IR_F64, offsetof(IrRandEnv, f64), "d0", 0);
    ir_global_register(gs, IR_F32, offsetof(IrRandEnv, f32), "s0", 0);
    ir_global_register(gs, IR_V128, offsetof(IrRandEnv, v128), "v0", 0);
    ir_global_register(gs, IR_V128, offsetof(IrRandEnv, v128) + 16, "v1", 0);
    ir_global_register(gs, IR_I128, offsetof(IrRandEnv, i128), "q0", 0);
}

static uint64_t interesting(RGen *g, unsigned w)
{
    uint64_t m = w >= 64 ? ~0ull : (1ull << w) - 1;
    switch (rn(g, 10)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return m;                       /* -1 */
    case 3: return 1ull << (w - 1);         /* signed MIN */
    case 4: return m >> 1;                  /* signed MAX */
    case 5: return rn(g, 17);
    case 6: return (m - rn(g, 4)) & m;
    case 7: return 1ull << rn(g, w);        /* one bit (AArch64 TBZ masks) */
    default: return rnd(g) & m;
    }
}

void ir_rand_env(IrRandEnv *env, uint64_t seed)
{
    RGen g = {.s = seed * 31 + 7};
    memset(env, 0, sizeof *env);
    for (int i = 0; i < 8; i++)
        env->r64[i] = interesting(&g, 64);
    for (int i = 0; i < 4; i++)
        env->r32[i] = (uint32_t)interesting(&g, 32);
    for (int i = 0; i < 2; i++) {
        env->r16[i] = (uint16_t)interesting(&g, 16);
        env->r8[i] = (uint8_t)interesting(&g, 8);
    }
    env->f64 = rnd(&g);
    env->f32 = (uint32_t)rnd(&g);
    ir_rand_fill(env->v128, sizeof env->v128, seed + 1);
    ir_rand_fill(env->i128, sizeof env->i128, seed + 2);
    ir_rand_fill(env->scratch, sizeof env->scratch, seed + 3);
}

/* ---- values ---- */
static const IrType int_types[4] = {IR_I8, IR_I16, IR_I32, IR_I64};
static IrType rand_int(RGen *g) { return int_types[rn(g, 4)]; }
static IrType rand_any(RGen *g)
{
    static const IrType all[8] = {IR_I8, IR_I16, IR_I32, IR_I64, IR_F32, IR_F64,
                                  IR_I128, IR_V128};
    return rn(g, 3) ? int_types[rn(g, 4)] : all[rn(g, 8)];
}

static IrTemp rconst(RGen *g, IrType t)
{
    unsigned w = ir_type_bits(t);
    if (ir_type_is_wide(t))
        return ir_const128(g->b, t, interesting(g, 64), interesting(g, 64));
    return ir_const(g->b, t, interesting(g, w));
}

static IrTemp pick(RGen *g, IrType t)
{
    unsigned r = rn(g, 10);
    if (r < 2)
        return rconst(g, t);
    if (r < 5 || !g->nloc[t]) {
        if (g->nglob[t])
            return g->glob[t][rn(g, g->nglob[t])];
        if (g->nloc[t])
            return g->loc[t][rn(g, g->nloc[t])];
        return rconst(g, t);
    }
    return g->loc[t][rn(g, g->nloc[t])];
}

/* Output temp: a fresh local (made visible by commit()) or a global. */
static IrTemp out_temp(RGen *g, IrType t, bool *is_new)
{
    if ((rn(g, 5) == 0 || g->nloc[t] >= POOL) && g->nglob[t]) {
        *is_new = false;
        g->wrote_global = true;
        return g->glob[t][rn(g, g->nglob[t])];
    }
    *is_new = true;
    return ir_new_temp(g->b, t);
}

static void commit(RGen *g, IrType t, IrTemp x, bool is_new)
{
    if (is_new && g->nloc[t] < POOL)
        g->loc[t][g->nloc[t]++] = x;
}

static void emit(RGen *g, IrOpcode opc, IrType t, const IrTemp *args, uint64_t c0, uint64_t c1)
{
    uint64_t c[2] = {c0, c1};
    ir_emit(g->b, opc, t, args, c);
}

static void new_insn(RGen *g)
{
    ir_insn_start(g->b, g->b->pc + 4ull * g->insns++, 4);
    g->wrote_global = false;
}

/* dst(new local i64) = op(a, b) */
static IrTemp emit_i64(RGen *g, IrOpcode opc, IrTemp a, IrTemp b)
{
    IrTemp d = ir_new_temp(g->b, IR_I64);
    emit(g, opc, IR_I64, (IrTemp[]){d, a, b}, 0, 0);
    return d;
}

/* ---- addresses ---- */
static IrTemp gen_addr(RGen *g, unsigned size_log2, unsigned align_log2)
{
    bool fault = (int)g->n_memops++ == g->fault_at;
    uint64_t amask = (1ull << align_log2) - 1;
    if (fault) {
        if (align_log2 && rn(g, 2)) {          /* misaligned, in range */
            uint64_t a = ((uint64_t)rn(g, 2000) & ~amask) + 1 + rn(g, (unsigned)amask);
            return ir_const(g->b, IR_I64, a);
        }
        if (rn(g, 2)) {
            IrTemp t = emit_i64(g, IR_OP_and, pick(g, IR_I64), ir_const(g->b, IR_I64, 0x7F0));
            return emit_i64(g, IR_OP_add, t, ir_const(g->b, IR_I64, IR_RAND_FAULT_BASE));
        }
        uint64_t a = rn(g, 4) ? IR_RAND_FAULT_BASE + (rnd(g) & 0xFFF0) : ~0ull << 8;
        return ir_const(g->b, IR_I64, a);
    }
    (void)size_log2;
    if (rn(g, 5) < 3) {
        uint64_t a = (uint64_t)rn(g, IR_RAND_MEM_SIZE - 32) & ~amask;
        return ir_const(g->b, IR_I64, a);
    }
    IrTemp t = emit_i64(g, IR_OP_and, pick(g, IR_I64), ir_const(g->b, IR_I64, 0x7F0));
    return emit_i64(g, IR_OP_add, t, ir_const(g->b, IR_I64, rn(g, 16) & ~amask));
}

/* memop for type t; rmw: integer only */
static IrMemOp rand_memop(RGen *g, IrType t, unsigned *size_log2)
{
    unsigned sz;
    bool sgn = false;
    if (ir_type_is_int(t)) {
        unsigned tl = t == IR_I8 ? 0 : t == IR_I16 ? 1 : t == IR_I32 ? 2 : 3;
        sz = rn(g, tl + 1);
        sgn = sz < tl && rn(g, 2);
    } else {
        sz = t == IR_F32 ? 2 : t == IR_F64 ? 3 : 4;
    }
    unsigned al = 0;
    if (rn(g, 3) == 0)
        al = rn(g, sz + 1) + (rn(g, 4) == 0 && sz < 4);
    *size_log2 = sz;
    return IR_MO_SIZE(sz) | (sgn ? IR_MO_SIGN : 0) | IR_MO_ALIGN(al);
}

static void before_fault(RGen *g)
{
    if (g->wrote_global)   /* frontend rule: faults precede global writes */
        new_insn(g);
}

/* ---- ops ---- */
static const IrOpcode body_ops[] = {
    IR_OP_nop, IR_OP_mov, IR_OP_zext, IR_OP_sext, IR_OP_trunc, IR_OP_bitcast, IR_OP_concat,
    IR_OP_high64, IR_OP_add, IR_OP_sub, IR_OP_mul, IR_OP_mulhu, IR_OP_mulhs, IR_OP_divu,
    IR_OP_divs, IR_OP_remu, IR_OP_rems, IR_OP_neg, IR_OP_and, IR_OP_or, IR_OP_xor,
    IR_OP_andc, IR_OP_not, IR_OP_shl, IR_OP_shr, IR_OP_sar, IR_OP_rotl, IR_OP_rotr,
    IR_OP_clz, IR_OP_ctz, IR_OP_popcnt, IR_OP_bswap, IR_OP_bitrev, IR_OP_extract,
    IR_OP_sextract, IR_OP_deposit, IR_OP_setcond, IR_OP_movcond, IR_OP_ld, IR_OP_st,
    IR_OP_cmpxchg, IR_OP_atomic_rmw, IR_OP_fence, IR_OP_prefetch, IR_OP_ldenv, IR_OP_stenv, IR_OP_call,
};

static IrType same_width(RGen *g, IrType t)
{
    switch (t) {
    case IR_I32: return rn(g, 2) ? IR_F32 : IR_I32;
    case IR_F32: return rn(g, 2) ? IR_I32 : IR_F32;
    case IR_I64: return rn(g, 2) ? IR_F64 : IR_I64;
    case IR_F64: return rn(g, 2) ? IR_I64 : IR_F64;
    case IR_I128: return rn(g, 2) ? IR_V128 : IR_I128;
    case IR_V128: return rn(g, 2) ? IR_I128 : IR_V128;
    default: return t;
    }
}

static void gen_op(RGen *g)
{
    IrBlock *b = g->b;
    IrOpcode opc = body_ops[rn(g, sizeof body_ops / sizeof body_ops[0])];
    bool nw;
    IrTemp o;
    IrType t = rand_int(g);
    unsigned w = ir_type_bits(t);
    switch (opc) {
    case IR_OP_nop:
        emit(g, opc, IR_VOID, NULL, 0, 0);
        return;
    case IR_OP_mov:
    case IR_OP_bitcast: {
        t = rand_any(g);
        IrType from = opc == IR_OP_mov ? t : same_width(g, t);
        IrTemp a = pick(g, from);
        o = out_temp(g, t, &nw);
        emit(g, opc, t, (IrTemp[]){o, a}, 0, 0);
        commit(g, t, o, nw);
        return;
    }
    case IR_OP_zext:
    case IR_OP_sext:
    case IR_OP_trunc: {
        IrType from;
        if (opc == IR_OP_trunc && rn(g, 4) == 0)
            from = rn(g, 2) ? IR_I128 : IR_V128;
        else {
            do
                from = rand_int(g);
            while (opc == IR_OP_trunc ? ir_type_bits(from) < w : ir_type_bits(from) > w);
        }
        IrTemp a = pick(g, from);
        o = out_temp(g, t, &nw);
        emit(g, opc, t, (IrTemp[]){o, a}, 0, 0);
        commit(g, t, o, nw);
        return;
    }
    case IR_OP_concat: {
        t = rn(g, 2) ? IR_I128 : IR_V128;
        IrTemp lo = pick(g, IR_I64), hi = pick(g, IR_I64);
        o = out_temp(g, t, &nw);
        emit(g, opc, t, (IrTemp[]){o, lo, hi}, 0, 0);
        commit(g, t, o, nw);
        return;
    }
    case IR_OP_high64: {
        IrTemp a = pick(g, rn(g, 2) ? IR_I128 : IR_V128);
        o = out_temp(g, IR_I64, &nw);
        emit(g, opc, IR_I64, (IrTemp[]){o, a}, 0, 0);
        commit(g, IR_I64, o, nw);
        return;
    }
    case IR_OP_neg: case IR_OP_not: case IR_OP_clz: case IR_OP_ctz: case IR_OP_popcnt:
    case IR_OP_bswap: case IR_OP_bitrev: {
        IrTemp a = pick(g, t);
        o = out_temp(g, t, &nw);
        emit(g, opc, t, (IrTemp[]){o, a}, 0, 0);
        commit(g, t, o, nw);
        return;
    }
    case IR_OP_extract:
    case IR_OP_sextract:
    case IR_OP_deposit: {
        unsigned len = 1 + rn(g, w);
        unsigned pos = rn(g, w - len + 1);
        IrTemp a = pick(g, t);
        IrTemp v = opc == IR_OP_deposit ? pick(g, t) : IR_TEMP_NONE;
        o = out_temp(g, t, &nw);
        if (opc == IR_OP_deposit)
            emit(g, opc, t, (IrTemp[]){o, a, v}, pos, len);
        else
            emit(g, opc, t, (IrTemp[]){o, a}, pos, len);
        commit(g, t, o, nw);
        return;
    }
    case IR_OP_setcond:
    case IR_OP_movcond: {
        IrCond c = (IrCond)rn(g, IR_COND_COUNT);
        IrTemp a = pick(g, t), c2 = rn(g, 4) ? pick(g, t) : a;
        if (opc == IR_OP_setcond) {
            o = out_temp(g, t, &nw);
            emit(g, opc, t, (IrTemp[]){o, a, c2}, c, 0);
        } else {
            IrTemp v1 = pick(g, t), v2 = pick(g, t);
            o = out_temp(g, t, &nw);
            emit(g, opc, t, (IrTemp[]){o, a, c2, v1, v2}, c, 0);
        }
        commit(g, t, o, nw);
        return;
    }
    case IR_OP_ld:
    case IR_OP_st:
    case IR_OP_cmpxchg: {
        if (opc == IR_OP_cmpxchg)
            t = rn(g, 4) ? rand_int(g) : (rn(g, 2) ? IR_I128 : IR_V128);
        else
            t = rand_any(g);
        unsigned sz;
        IrMemOp mo = rand_memop(g, t, &sz);
        IrTemp addr = gen_addr(g, sz, IR_MO_ALIGN_LOG2(mo));
        before_fault(g);
        if (opc == IR_OP_st) {
            IrTemp v = pick(g, t);
            emit(g, opc, t, (IrTemp[]){addr, v}, mo, 0);
            return;
        }
        if (opc == IR_OP_ld) {
            o = out_temp(g, t, &nw);
            if (!nw)
                g->wrote_global = true;
            emit(g, opc, t, (IrTemp[]){o, addr}, mo, 0);
            commit(g, t, o, nw);
            return;
        }
        IrTemp expect;
        if (rn(g, 2)) {   /* expect what is there: the swap succeeds */
            expect = ir_new_temp(b, t);
            emit(g, IR_OP_ld, t, (IrTemp[]){expect, addr}, mo, 0);
        } else {
            expect = pick(g, t);
        }
        IrTemp nv = pick(g, t);
        o = out_temp(g, t, &nw);
        emit(g, opc, t, (IrTemp[]){o, addr, expect, nv}, mo, 0);
        commit(g, t, o, nw);
        return;
    }
    case IR_OP_atomic_rmw: {
        unsigned sz;
        IrMemOp mo = rand_memop(g, t, &sz);
        IrTemp addr = gen_addr(g, sz, IR_MO_ALIGN_LOG2(mo));
        before_fault(g);
        IrTemp v = pick(g, t);
        o = out_temp(g, t, &nw);
        emit(g, opc, t, (IrTemp[]){o, addr, v}, mo, rn(g, IR_RMW_COUNT));
        commit(g, t, o, nw);
        return;
    }
    case IR_OP_fence:
        emit(g, opc, IR_VOID, NULL, rn(g, 3), 0);
        return;
    case IR_OP_prefetch: /* any address, in guest memory or wild: never faults */
        emit(g, opc, IR_VOID, (IrTemp[]){pick(g, IR_I64)}, rn(g, IR_PREFETCH_COUNT), 0);
        return;
    case IR_OP_ldenv:
    case IR_OP_stenv: {
        t = rand_any(g);
        unsigned bytes = ir_type_bits(t) / 8;
        uint64_t off = offsetof(IrRandEnv, scratch) + rn(g, IR_RAND_SCRATCH - bytes + 1);
        if (opc == IR_OP_stenv) {
            emit(g, opc, t, (IrTemp[]){pick(g, t)}, off, 0);
            return;
        }
        o = out_temp(g, t, &nw);
        emit(g, opc, t, (IrTemp[]){o}, off, 0);
        commit(g, t, o, nw);
        return;
    }
    case IR_OP_call:
        switch (rn(g, 6)) {
        case 0: {   /* i32 arguments and result */
            IrTemp a = pick(g, IR_I32), c2 = pick(g, IR_I64);
            o = out_temp(g, IR_I32, &nw);
            emit(g, opc, IR_I32, (IrTemp[6]){o, a, c2}, IR_HELPER_ir_test_mix32, 0);
            commit(g, IR_I32, o, nw);
            return;
        }
        case 1:     /* reads globals, can fault: sees env->pc of this insn */
            before_fault(g);
            o = out_temp(g, IR_I64, &nw);
            emit(g, opc, IR_I64, (IrTemp[6]){o}, IR_HELPER_ir_test_get_pc, 0);
            commit(g, IR_I64, o, nw);
            return;
        case 2: {   /* writes a global (or the scratch area) behind our back */
            uint64_t off = rn(g, 3) ? offsetof(IrRandEnv, r64) + 8 * rn(g, 8)
                                    : offsetof(IrRandEnv, scratch) + 8 * rn(g, 8);
            IrTemp v = pick(g, IR_I64);
            emit(g, opc, IR_VOID, (IrTemp[6]){0, ir_const(b, IR_I64, off), v},
                 IR_HELPER_ir_test_store_env64, 0);
            return;
        }
        default:
            break;
        }
        if (rn(g, 3)) {
            IrTemp a = pick(g, IR_I64), c2 = pick(g, IR_I64), d = pick(g, IR_I64);
            o = out_temp(g, IR_I64, &nw);
            emit(g, opc, IR_I64, (IrTemp[6]){o, a, c2, d}, IR_HELPER_ir_test_add3, 0);
            commit(g, IR_I64, o, nw);
        } else {
            emit(g, opc, IR_VOID, (IrTemp[6]){0}, IR_HELPER_ir_debug_nop, 0);
        }
        return;
    default: {   /* two-input integer ops */
        IrTemp a = pick(g, t), c2 = pick(g, t);
        o = out_temp(g, t, &nw);
        emit(g, opc, t, (IrTemp[]){o, a, c2}, 0, 0);
        commit(g, t, o, nw);
        return;
    }
    }
}

/* ---- control flow ---- */
static void gen_exit(RGen *g, bool final)
{
    unsigned k = rn(g, 3);
    if (k == 0) {
        unsigned slot = rn(g, IR_GOTO_TB_SLOTS);
        if (g->slot_used[slot] && rn(g, 2)) {   /* same slot, same target again */
            emit(g, IR_OP_goto_tb, IR_VOID, NULL, slot, g->slot_pc[slot]);
            return;
        }
        for (unsigned k2 = 0; g->slot_used[slot] && k2 < IR_GOTO_TB_SLOTS; k2++)
            slot = (slot + 1) % IR_GOTO_TB_SLOTS;
        if (!g->slot_used[slot]) {
            g->slot_used[slot] = true;
            g->slot_pc[slot] = g->b->pc + 0x1000 + 4 * rn(g, 64);
            emit(g, IR_OP_goto_tb, IR_VOID, NULL, slot, g->slot_pc[slot]);
            return;
        }
        k = 1;
    }
    if (k == 1) {
        /* 4-aligned targets: never the jump cache's empty marker (~0) */
        IrTemp t;
        if (rn(g, 3) == 0)
            t = ir_const(g->b, IR_I64, (rnd(g) & ~3ull));
        else
            t = emit_i64(g, IR_OP_and, pick(g, IR_I64), ir_const(g->b, IR_I64, ~3ull));
        emit(g, IR_OP_goto_ptr, IR_VOID, (IrTemp[]){t}, 0, 0);
        return;
    }
    (void)final;
    emit(g, IR_OP_exit, IR_VOID, NULL, rn(g, IR_EXIT_COUNT), rnd(g) & 0xFFFFFFFFFFFCull);
}

/* brcond to a label emitted after the final exit (ir_rand_block), with a
 * slot of its own */
static void gen_side_exit(RGen *g)
{
    unsigned slot = rn(g, IR_GOTO_TB_SLOTS);
    if (g->slot_used[slot] || g->n_side == IR_GOTO_TB_SLOTS)
        return;
    g->slot_used[slot] = true;
    g->slot_pc[slot] = g->b->pc + 0x1000 + 4 * rn(g, 64);
    uint32_t l = ir_new_label(g->b);
    IrType t = rand_int(g);
    IrTemp a = pick(g, t), c2 = pick(g, t);
    emit(g, IR_OP_brcond, t, (IrTemp[]){a, c2}, rn(g, IR_COND_COUNT), l);
    g->side_label[g->n_side] = l;
    g->side_slot[g->n_side++] = (uint8_t)slot;
}

static void save_pools(RGen *g, unsigned *saved)
{
    memcpy(saved, g->nloc, sizeof g->nloc);
}
static void restore_pools(RGen *g, const unsigned *saved)
{
    memcpy(g->nloc, saved, sizeof g->nloc);
}

static void gen_body(RGen *g, unsigned n);

static void gen_region(RGen *g)
{
    unsigned saved[IR_TYPE_COUNT];
    uint32_t l = ir_new_label(g->b);
    unsigned kind = rn(g, 4);
    save_pools(g, saved);
    if (kind == 3 && !g->in_loop) {
        /* counted loop: cnt = n; L: body; cnt -= 1; if cnt != 0 goto L */
        IrTemp cnt = ir_new_temp(g->b, IR_I32);
        emit(g, IR_OP_mov, IR_I32, (IrTemp[]){cnt, ir_const(g->b, IR_I32, 1 + rn(g, 3))}, 0, 0);
        emit(g, IR_OP_label, IR_VOID, NULL, l, 0);
        g->in_loop = true;
        g->depth++;
        gen_body(g, 2 + rn(g, 8));
        g->depth--;
        g->in_loop = false;
        emit(g, IR_OP_sub, IR_I32, (IrTemp[]){cnt, cnt, ir_const(g->b, IR_I32, 1)}, 0, 0);
        emit(g, IR_OP_brcond, IR_I32, (IrTemp[]){cnt, ir_const(g->b, IR_I32, 0)},
             IR_COND_NE, l);
        restore_pools(g, saved);
        return;
    }
    if (kind == 2) {
        emit(g, IR_OP_br, IR_VOID, NULL, l, 0);    /* skip dead code */
    } else {
        IrType t = rand_int(g);
        IrTemp a = pick(g, t), c2 = pick(g, t);
        emit(g, IR_OP_brcond, t, (IrTemp[]){a, c2}, rn(g, IR_COND_COUNT), l);
    }
    g->depth++;
    gen_body(g, 1 + rn(g, 10));
    if (!g->in_loop && rn(g, 4) == 0)
        gen_exit(g, false);
    g->depth--;
    emit(g, IR_OP_label, IR_VOID, NULL, l, 0);
    restore_pools(g, saved);
}

static void gen_body(RGen *g, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (rn(g, 3) == 0)
            new_insn(g);
        if (g->depth < 2 && rn(g, 14) == 0)
            gen_region(g);
        else if (rn(g, 24) == 0)
            gen_side_exit(g);
        else
            gen_op(g);
    }
}

IrBlock *ir_rand_block(const IrGlobalSet *gs, uint64_t seed, unsigned min_ops,
                       unsigned max_ops)
{
    RGen g;
    memset(&g, 0, sizeof g);
    g.s = seed;
    uint64_t pc = 0x400000 + ((rnd(&g) & 0xFFFF) << 2);
    g.b = ir_block_new(gs, pc, 0);
    g.b->simplify = false;
    for (IrTemp t = 1; t < gs->count; t++) {
        IrType ty = (IrType)gs->temps[t].type;
        g.glob[ty][g.nglob[ty]++] = t;
    }
    g.fault_at = rn(&g, 8) == 0 ? (int)rn(&g, 6) : -1;
    unsigned target = min_ops + rn(&g, max_ops - min_ops + 1);
    new_insn(&g);
    while (g.b->n_ops < target)
        gen_body(&g, 1);
    if (rn(&g, 2))
        new_insn(&g);
    gen_exit(&g, true);
    for (unsigned i = 0; i < g.n_side; i++) {
        emit(&g, IR_OP_label, IR_VOID, NULL, g.side_label[i], 0);
        emit(&g, IR_OP_goto_tb, IR_VOID, NULL, g.side_slot[i], g.slot_pc[g.side_slot[i]]);
    }
    return g.b;
}

/* ---- interpreter-side guest memory (IrRandMem) ---- */

static bool tm_ok(IrRandMem *t, uint64_t addr, IrMemOp mo)
{
    if (addr >= t->limit || addr + IR_MO_BYTES(mo) > IR_RAND_MEM_SIZE) {
        t->faulted = true;
        t->fault_addr = addr;
        return false;
    }
    return true;
}
static bool tm_load(void *o, uint64_t addr, IrMemOp mo, void *out)
{
    IrRandMem *t = o;
    if (!tm_ok(t, addr, mo))
        return false;
    memcpy(out, t->m + addr, IR_MO_BYTES(mo));
    return true;
}
static bool tm_store(void *o, uint64_t addr, IrMemOp mo, const void *in)
{
    IrRandMem *t = o;
    if (!tm_ok(t, addr, mo))
        return false;
    memcpy(t->m + addr, in, IR_MO_BYTES(mo));
    return true;
}
static bool tm_cmpxchg(void *o, uint64_t addr, IrMemOp mo, const void *expect, const void *newv,
                       void *old)
{
    IrRandMem *t = o;
    if (!tm_ok(t, addr, mo))
        return false;
    unsigned n = IR_MO_BYTES(mo);
    memcpy(old, t->m + addr, n);
    if (memcmp(old, expect, n) == 0)
        memcpy(t->m + addr, newv, n);
    return true;
}
static bool tm_rmw(void *o, uint64_t addr, IrMemOp mo, IrRmwOp op, const void *val, void *old)
{
    IrRandMem *t = o;
    if (!tm_ok(t, addr, mo))
        return false;
    unsigned n = IR_MO_BYTES(mo);
    uint64_t ov = 0, v = 0;
    memcpy(&ov, t->m + addr, n);
    memcpy(&v, val, n);
    uint64_t nv = ir_eval_rmw(op, n, ov, v);
    memcpy(old, &ov, n);
    memcpy(t->m + addr, &nv, n);
    return true;
}

IrMemIface ir_rand_mem_iface(IrRandMem *rm)
{
    return (IrMemIface){rm, tm_load, tm_store, tm_cmpxchg, tm_rmw};
}

/* ---- the differential verdict ---- */
void ir_rand_judge(const char *name, uintptr_t tag, uintptr_t r, bool goto_tb_lookup,
                   IrInterpStatus st, uint32_t fi, const IrExitInfo *ex, const IrRandMem *tm,
                   const IrRandEnv *ie, const IrRandEnv *be, const uint8_t *imem,
                   const uint8_t *bmem, IrRandTally *tally, char *what, size_t n)
{
    what[0] = 0;
    if ((r & ~TMPL_RET_MASK) != tag) {
        snprintf(what, n, "bad tag %#lx", (unsigned long)r);
    } else if (st == IR_INTERP_FAULT) {
        tally->faults++;
        unsigned kind = tm->faulted ? TMPL_EXC_SEGV : TMPL_EXC_ALIGN;
        if ((r & TMPL_RET_MASK) != TMPL_RET_EXIT || be->common.exit_reason != IR_EXIT_EXCEPTION)
            snprintf(what, n, "interp faulted at insn %u, %s returned %lu reason %u", fi, name,
                     (unsigned long)(r & TMPL_RET_MASK), be->common.exit_reason);
        else if (be->common.exception_kind != kind)
            snprintf(what, n, "exception kind %u, expected %u", be->common.exception_kind, kind);
        else if (tm->faulted && be->common.exception_addr != tm->fault_addr)
            snprintf(what, n, "fault addr %#llx, expected %#llx",
                     (unsigned long long)be->common.exception_addr,
                     (unsigned long long)tm->fault_addr);
        else if (be->common.pc != ie->common.pc)
            snprintf(what, n, "fault pc %#llx, expected %#llx", (unsigned long long)be->common.pc,
                     (unsigned long long)ie->common.pc);
    } else if (st != IR_INTERP_EXITED) {
        snprintf(what, n, "interpreter status %d", (int)st);
    } else {
        unsigned want = ex->kind == IR_OP_goto_tb    ? ex->slot
                        : ex->kind == IR_OP_goto_ptr ? TMPL_RET_LOOKUP
                                                     : TMPL_RET_EXIT;
        tally->exit_kind[want]++;
        if (goto_tb_lookup && ex->kind == IR_OP_goto_tb)
            want = TMPL_RET_LOOKUP;
        if ((r & TMPL_RET_MASK) != want)
            snprintf(what, n, "exit %lu, expected %u", (unsigned long)(r & TMPL_RET_MASK), want);
        else if (be->common.pc != ex->pc || ie->common.pc != ex->pc)
            snprintf(what, n, "exit pc %#llx, expected %#llx", (unsigned long long)be->common.pc,
                     (unsigned long long)ex->pc);
        else if (want == TMPL_RET_EXIT && be->common.exit_reason != ex->reason)
            snprintf(what, n, "exit reason %u, expected %u", be->common.exit_reason, ex->reason);
    }
    const size_t off = offsetof(IrRandEnv, r64);
    const uint8_t *pi = (const uint8_t *)ie, *pb = (const uint8_t *)be;
    if (!what[0] && memcmp(pi + off, pb + off, sizeof *ie - off) != 0) {
        snprintf(what, n, "env differs");
        for (size_t i = off; i < sizeof *ie; i++)
            if (pi[i] != pb[i])
                fprintf(stderr, "  env+%zu: interp %02x %s %02x\n", i, pi[i], name, pb[i]);
    }
    if (!what[0] && memcmp(imem, bmem, IR_RAND_MEM_SIZE) != 0) {
        snprintf(what, n, "guest memory differs");
        for (unsigned i = 0, shown = 0; i < IR_RAND_MEM_SIZE && shown < 16; i++)
            if (imem[i] != bmem[i]) {
                fprintf(stderr, "  mem[%u]: interp %02x %s %02x\n", i, imem[i], name, bmem[i]);
                shown++;
            }
    }
}
