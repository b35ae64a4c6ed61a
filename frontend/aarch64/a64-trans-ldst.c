/*
 * a64-trans-ldst.c - A64 loads and stores of the general registers: every
 * addressing mode (unsigned offset, unscaled, pre/post-index, register
 * offset, literal, pairs), sign-extending loads, exclusives, acquire/
 * release, LSE atomics and compare-and-swap.
 *
 * Precise exceptions: every access of an instruction is emitted before its
 * first register write; base writeback comes after the access
 * (a64-addr.h).
 *
 * Exclusives follow QEMU's user-mode scheme: LDXR records the address and
 * the value it read (env->excl_addr / excl_val / excl_high); STXR succeeds
 * iff its address equals excl_addr and a cmpxchg(addr, excl_val, new)
 * finds excl_val.  Every STXR and CLREX clears the reservation.
 *
 * Ordering: acquire = the access then a load fence; release = load and
 * store fences before the access; STLR also gets a full fence after it so
 * STLR followed by LDAR stays ordered (RCsc).  LOAD/STORE fences are free
 * on x86 (TSO), so only that full fence costs anything.
 */
#include "frontend/aarch64/a64-int-decode.h"

#include <stddef.h>

#include "frontend/aarch64/a64-addr.h"

static void a64_acquire(DisasContext *s)
{
    ir_fence(a64_ir(s), IR_FENCE_LOAD);
}

static void a64_release(DisasContext *s)
{
    ir_fence(a64_ir(s), IR_FENCE_LOAD);
    ir_fence(a64_ir(s), IR_FENCE_STORE);
}

/* Kind of a single-register integer access, from size and opc. */
typedef enum A64LdKind {
    A64_LDK_STORE,
    A64_LDK_LOAD,    /* zero-extending */
    A64_LDK_LOADS64, /* sign-extend to 64 bits */
    A64_LDK_LOADS32, /* sign-extend to 32 bits, zero the top */
    A64_LDK_PRFM,
    A64_LDK_BAD,
} A64LdKind;

static A64LdKind a64_ld_kind(int size, int opc)
{
    switch (opc) {
    case 0:
        return A64_LDK_STORE;
    case 1:
        return A64_LDK_LOAD;
    case 2:
        return size == 3 ? A64_LDK_PRFM : A64_LDK_LOADS64;
    default:
        return size <= 1 ? A64_LDK_LOADS32 : A64_LDK_BAD;
    }
}

/* The access of a single-register load/store at ad (writeback after). */
static void a64_ldst_access(DisasContext *s, A64LdKind kind, int size, int rt, const A64Addr *ad)
{
    IrBlock *b = a64_ir(s);
    switch (kind) {
    case A64_LDK_STORE:
        ir_st(b, IR_I64, ad->addr, a64_get_x(s, rt), a64_memop(size, false));
        a64_addr_writeback(s, ad);
        return;
    case A64_LDK_PRFM: {
        /* Rt = type:target:policy.  PLD and PST become host prefetches
         * (zstd and others lean on them to hide cache misses); PLI and the
         * reserved types stay no-ops. */
        static const IrPrefetch level[4] = {IR_PREFETCH_READ_L1, IR_PREFETCH_READ_L2,
                                            IR_PREFETCH_READ_L3, IR_PREFETCH_READ_L3};
        int type = rt >> 3, target = (rt >> 1) & 3;
        if (type == 0)
            ir_prefetch(b, ad->addr, rt & 1 ? IR_PREFETCH_READ_STREAM : level[target]);
        else if (type == 2)
            ir_prefetch(b, ad->addr, IR_PREFETCH_WRITE);
        return;
    }
    case A64_LDK_BAD:
        return;
    default:
        break;
    }
    IrTemp v;
    if (kind == A64_LDK_LOADS32) {
        v = ir_ld(b, IR_I32, ad->addr, a64_memop(size, true));
        v = ir_zext(b, IR_I64, IR_I32, v);
    } else {
        v = ir_ld(b, IR_I64, ad->addr, a64_memop(size, kind == A64_LDK_LOADS64));
    }
    a64_addr_writeback(s, ad);
    a64_set_x(s, rt, v);
}

bool trans_LDST_uimm(DisasContext *s, arg_LDST_uimm *a)
{
    A64LdKind k = a64_ld_kind(a->size, a->opc);
    if (k == A64_LDK_BAD)
        return false;
    A64Addr ad = a64_addr_imm(s, a->rn, (int64_t)a->imm << a->size, A64_IDX_OFFSET);
    a64_ldst_access(s, k, a->size, a->rt, &ad);
    return true;
}

bool trans_LDST_imm9(DisasContext *s, arg_LDST_imm9 *a)
{
    static const A64IndexMode modes[4] = {A64_IDX_OFFSET, A64_IDX_POST, A64_IDX_OFFSET,
                                          A64_IDX_PRE};
    A64LdKind k = a64_ld_kind(a->size, a->opc);
    if (k == A64_LDK_BAD)
        return false;
    if (k == A64_LDK_PRFM && a->idx != 0)
        return false; /* PRFUM only: no prefetch with writeback or LDTR form */
    A64Addr ad = a64_addr_imm(s, a->rn, a->imm, modes[a->idx]);
    a64_ldst_access(s, k, a->size, a->rt, &ad);
    return true;
}

bool trans_LDST_reg(DisasContext *s, arg_LDST_reg *a)
{
    A64LdKind k = a64_ld_kind(a->size, a->opc);
    if (k == A64_LDK_BAD || !(a->option & 2))
        return false;
    A64Addr ad;
    if (!a64_addr_regoff(s, &ad, a->rn, a->rm, a->option, a->s ? a->size : 0))
        return false;
    a64_ldst_access(s, k, a->size, a->rt, &ad);
    return true;
}

bool trans_LDR_lit(DisasContext *s, arg_LDR_lit *a)
{
    static const struct { int size; A64LdKind kind; } forms[4] = {
        {2, A64_LDK_LOAD}, {3, A64_LDK_LOAD}, {2, A64_LDK_LOADS64}, {3, A64_LDK_PRFM},
    };
    A64Addr ad = a64_addr_literal(s, (int64_t)a->imm * 4);
    a64_ldst_access(s, forms[a->opc].kind, forms[a->opc].size, a->rt, &ad);
    return true;
}

bool trans_LDSTP(DisasContext *s, arg_LDSTP *a)
{
    static const A64IndexMode modes[4] = {A64_IDX_OFFSET, A64_IDX_POST, A64_IDX_OFFSET,
                                          A64_IDX_PRE};
    bool sext = false;
    int size;
    switch (a->opc) {
    case 0:
        size = 2;
        break;
    case 1: /* LDPSW (STGP and LDNP forms are not ours) */
        if (!a->l || a->idx == 0)
            return false;
        size = 2;
        sext = true;
        break;
    case 2:
        size = 3;
        break;
    default:
        return false;
    }
    if (a->idx > 3)
        return false;
    IrBlock *b = a64_ir(s);
    A64Addr ad = a64_addr_imm(s, a->rn, (int64_t)a->imm << size, modes[a->idx]);
    IrTemp addr2 = ir_add(b, IR_I64, ad.addr, ir_const(b, IR_I64, 1ull << size));
    IrMemOp mo = a64_memop(size, sext);

    if (!a->l) {
        IrTemp v1 = a64_get_x(s, a->rt), v2 = a64_get_x(s, a->rt2);
        ir_st(b, IR_I64, ad.addr, v1, mo);
        ir_st(b, IR_I64, addr2, v2, mo);
        a64_addr_writeback(s, &ad);
        return true;
    }
    IrTemp v1 = ir_ld(b, IR_I64, ad.addr, mo);
    IrTemp v2 = ir_ld(b, IR_I64, addr2, mo);
    a64_addr_writeback(s, &ad);
    a64_set_x(s, a->rt, v1);
    a64_set_x(s, a->rt2, v2);
    return true;
}

/* ---- acquire/release ---------------------------------------------------- */
/* Base address for the exclusive/atomic forms: [Xn|SP], no offset. */
static IrTemp a64_base(DisasContext *s, int rn)
{
    return a64_addr_imm(s, rn, 0, A64_IDX_OFFSET).addr;
}

static IrMemOp a64_memop_aligned(int size)
{
    return IR_MO_SIZE(size) | IR_MO_ALIGN(size);
}

bool trans_LDAR(DisasContext *s, arg_LDAR *a)
{
    if (!a->lr && !a64_have(s, A64_FEAT_LOR))   /* LDLAR */
        return false;
    IrTemp v = ir_ld(a64_ir(s), IR_I64, a64_base(s, a->rn), a64_memop_aligned(a->size));
    a64_acquire(s);
    a64_set_x(s, a->rt, v);
    return true;
}

bool trans_LDAPR(DisasContext *s, arg_LDAPR *a)
{
    if (!a64_have(s, A64_FEAT_RCPC))
        return false;
    IrTemp v = ir_ld(a64_ir(s), IR_I64, a64_base(s, a->rn), a64_memop_aligned(a->size));
    a64_acquire(s);
    a64_set_x(s, a->rt, v);
    return true;
}

bool trans_STLR(DisasContext *s, arg_STLR *a)
{
    if (!a->lr && !a64_have(s, A64_FEAT_LOR))   /* STLLR */
        return false;
    IrBlock *b = a64_ir(s);
    IrTemp addr = a64_base(s, a->rn);
    a64_release(s);
    ir_st(b, IR_I64, addr, a64_get_x(s, a->rt), a64_memop_aligned(a->size));
    if (a->lr)
        ir_fence(b, IR_FENCE_FULL); /* STLR; LDAR must not be reordered */
    return true;
}

/* ---- exclusives ---------------------------------------------------------- */
static void a64_excl_clear(DisasContext *s)
{
    IrBlock *b = a64_ir(s);
    ir_stenv(b, IR_I64, offsetof(A64State, excl_addr), ir_const(b, IR_I64, ~0ull));
}

bool trans_LDXR(DisasContext *s, arg_LDXR *a)
{
    IrBlock *b = a64_ir(s);
    IrTemp addr = a64_base(s, a->rn);
    IrTemp v = ir_ld(b, IR_I64, addr, a64_memop_aligned(a->size));
    if (a->lr)
        a64_acquire(s);
    ir_stenv(b, IR_I64, offsetof(A64State, excl_addr), addr);
    ir_stenv(b, IR_I64, offsetof(A64State, excl_val), v);
    a64_set_x(s, a->rt, v);
    return true;
}

bool trans_LDXP(DisasContext *s, arg_LDXP *a)
{
    IrBlock *b = a64_ir(s);
    IrTemp addr = a64_base(s, a->rn);
    IrTemp lo, hi;
    if (a->sz) {
        /* two doublewords: one 16-byte single-copy-atomic access */
        IrTemp v = ir_ld(b, IR_I128, addr, IR_MO_128 | IR_MO_ALIGN(4));
        lo = ir_trunc(b, IR_I64, IR_I128, v);
        hi = ir_high64(b, v);
        ir_stenv(b, IR_I64, offsetof(A64State, excl_val), lo);
        ir_stenv(b, IR_I64, offsetof(A64State, excl_high), hi);
    } else {
        IrTemp v = ir_ld(b, IR_I64, addr, IR_MO_64 | IR_MO_ALIGN(3));
        lo = ir_and(b, IR_I64, v, ir_const(b, IR_I64, 0xffffffffull));
        hi = ir_shr(b, IR_I64, v, ir_const(b, IR_I64, 32));
        ir_stenv(b, IR_I64, offsetof(A64State, excl_val), v);
    }
    if (a->lr)
        a64_acquire(s);
    ir_stenv(b, IR_I64, offsetof(A64State, excl_addr), addr);
    a64_set_x(s, a->rt, lo);
    a64_set_x(s, a->rt2, hi);
    return true;
}

/* Shared tail of STXR/STXP: status = 0 if the cmpxchg built by `xchg`
 * succeeded, 1 otherwise (also when addr is not the reserved address). */
static void a64_store_exclusive(DisasContext *s, int rs, IrTemp addr, int size, bool pair,
                                int rt, int rt2, bool release)
{
    IrBlock *b = a64_ir(s);
    uint32_t l_fail = ir_new_label(b), l_done = ir_new_label(b);
    IrTemp status = ir_new_temp(b, IR_I64);

    /* Source registers are read before anything is written. */
    IrTemp v1 = a64_get_x(s, rt);
    IrTemp v2 = pair ? a64_get_x(s, rt2) : IR_TEMP_NONE;
    IrTemp eaddr = ir_ldenv(b, IR_I64, offsetof(A64State, excl_addr));
    if (release)
        a64_release(s);
    ir_brcond(b, IR_I64, IR_COND_NE, addr, eaddr, l_fail);

    IrTemp eval = ir_ldenv(b, IR_I64, offsetof(A64State, excl_val));
    IrTemp fail;
    if (pair && size == 3) {
        IrTemp ehigh = ir_ldenv(b, IR_I64, offsetof(A64State, excl_high));
        IrTemp expect = ir_concat(b, IR_I128, eval, ehigh);
        IrTemp newv = ir_concat(b, IR_I128, v1, v2);
        IrTemp old = ir_cmpxchg(b, IR_I128, addr, expect, newv, IR_MO_128 | IR_MO_ALIGN(4));
        IrTemp d0 = ir_xor(b, IR_I64, ir_trunc(b, IR_I64, IR_I128, old), eval);
        IrTemp d1 = ir_xor(b, IR_I64, ir_high64(b, old), ehigh);
        fail = ir_setcond(b, IR_I64, IR_COND_NE, ir_or(b, IR_I64, d0, d1), ir_const(b, IR_I64, 0));
    } else {
        IrTemp newv = v1;
        int msize = size;
        if (pair) {
            /* two words: Rt at the lower address */
            newv = ir_deposit(b, IR_I64, v1, v2, 32, 32);
            msize = 3;
        }
        IrTemp old = ir_cmpxchg(b, IR_I64, addr, eval, newv, a64_memop_aligned(msize));
        fail = ir_setcond(b, IR_I64, IR_COND_NE, old, eval);
    }
    ir_mov(b, IR_I64, status, fail);
    ir_br(b, l_done);
    ir_label(b, l_fail);
    ir_mov(b, IR_I64, status, ir_const(b, IR_I64, 1));
    ir_label(b, l_done);
    a64_excl_clear(s);
    a64_set_r(s, rs, 0, ir_trunc(b, IR_I32, IR_I64, status));
}

bool trans_STXR(DisasContext *s, arg_STXR *a)
{
    a64_store_exclusive(s, a->rs, a64_base(s, a->rn), a->size, false, a->rt, 0, a->lr);
    return true;
}

bool trans_STXP(DisasContext *s, arg_STXP *a)
{
    a64_store_exclusive(s, a->rs, a64_base(s, a->rn), a->sz ? 3 : 2, true, a->rt, a->rt2,
                        a->lr);
    return true;
}

/* ---- compare and swap ---------------------------------------------------------- */
bool trans_CAS(DisasContext *s, arg_CAS *a)
{
    if (!a64_have(s, A64_FEAT_LSE))
        return false;
    IrBlock *b = a64_ir(s);
    IrTemp addr = a64_base(s, a->rn);
    IrTemp expect = a64_get_x(s, a->rs);
    if (a->size < 3)
        expect = ir_extract(b, IR_I64, expect, 0, 8u << a->size);
    IrTemp newv = a64_get_x(s, a->rt);
    if (a->o0)
        a64_release(s);
    IrTemp old = ir_cmpxchg(b, IR_I64, addr, expect, newv, a64_memop_aligned(a->size));
    if (a->l)
        a64_acquire(s);
    a64_set_x(s, a->rs, old);
    return true;
}

bool trans_CASP(DisasContext *s, arg_CASP *a)
{
    if (!a64_have(s, A64_FEAT_LSE) || (a->rs & 1) || (a->rt & 1))
        return false;
    IrBlock *b = a64_ir(s);
    IrTemp addr = a64_base(s, a->rn);
    IrTemp s0 = a64_get_x(s, a->rs), s1 = a64_get_x(s, a->rs + 1);
    IrTemp t0 = a64_get_x(s, a->rt), t1 = a64_get_x(s, a->rt + 1);
    IrTemp lo, hi;
    if (a->o0)
        a64_release(s);
    if (a->sz) {
        IrTemp old = ir_cmpxchg(b, IR_I128, addr, ir_concat(b, IR_I128, s0, s1),
                                ir_concat(b, IR_I128, t0, t1), IR_MO_128 | IR_MO_ALIGN(4));
        lo = ir_trunc(b, IR_I64, IR_I128, old);
        hi = ir_high64(b, old);
    } else {
        IrTemp expect = ir_deposit(b, IR_I64, s0, s1, 32, 32);
        IrTemp newv = ir_deposit(b, IR_I64, t0, t1, 32, 32);
        IrTemp old = ir_cmpxchg(b, IR_I64, addr, expect, newv, IR_MO_64 | IR_MO_ALIGN(3));
        lo = ir_and(b, IR_I64, old, ir_const(b, IR_I64, 0xffffffffull));
        hi = ir_shr(b, IR_I64, old, ir_const(b, IR_I64, 32));
    }
    if (a->l)
        a64_acquire(s);
    a64_set_x(s, a->rs, lo);
    a64_set_x(s, a->rs + 1, hi);
    return true;
}

/* ---- LSE atomics ------------------------------------------------------------------ */
static bool a64_atomic(DisasContext *s, IrRmwOp op, int size, int rs, int rt, int rn, bool acq,
                       bool rel)
{
    if (!a64_have(s, A64_FEAT_LSE))   /* SWP and LD<op> */
        return false;
    IrBlock *b = a64_ir(s);
    IrTemp addr = a64_base(s, rn);
    IrTemp val = a64_get_x(s, rs);
    if (rel)
        a64_release(s);
    /* the old value comes back zero-extended (unsigned memop) as the
     * architecture wants for LDADDB etc.; SMAX/SMIN compare at the width */
    IrTemp old = ir_atomic_rmw(b, IR_I64, op, addr, val, a64_memop_aligned(size));
    if (acq)
        a64_acquire(s);
    a64_set_x(s, rt, old);
    return true;
}

bool trans_SWP(DisasContext *s, arg_SWP *a)
{
    return a64_atomic(s, IR_RMW_XCHG, a->size, a->rs, a->rt, a->rn, a->a, a->r);
}

bool trans_LDOP(DisasContext *s, arg_LDOP *a)
{
    static const IrRmwOp ops[8] = {
        IR_RMW_ADD, IR_RMW_ANDC, IR_RMW_XOR, IR_RMW_OR,
        IR_RMW_SMAX, IR_RMW_SMIN, IR_RMW_UMAX, IR_RMW_UMIN,
    };
    /* ST<op> (Rt = XZR) without acquire has no result; A with XZR keeps
     * the acquire: same code either way */
    return a64_atomic(s, ops[a->op], a->size, a->rs, a->rt, a->rn, a->a, a->r);
}
