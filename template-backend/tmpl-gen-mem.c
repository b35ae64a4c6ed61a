/*
 * tmpl-gen-mem.c - guest memory (ld st cmpxchg atomic_rmw fence prefetch), CPU state
 * outside the globals (ldenv stenv) and helper calls.
 *
 * User mode: host address = r15 (guest_base) + addr.  Before the access the
 * dirty globals are written back (the op can fault), then
 *     test addr, align-1 ; jnz  -> stub: guest SIGBUS (TMPL_EXC_ALIGN)
 *     cmp  addr, [env+guest_limit] ; jae -> stub: guest SIGSEGV (TMPL_EXC_SEGV)
 * and the access itself is one instruction on [r15 + addr] (a host fault in
 * it is mapped back through TmplCode.insn_map).
 * Limit-check elimination: with TmplMemModel.limit_guard bytes reserved
 * and inaccessible past guest_limit, an access at base + o, where base + m
 * (m <= o, o - m + size <= guard) passed the check earlier in the same
 * straight-line code, lies below limit + guard: in the guest's range, or
 * in the guard, where it faults like any unmapped guest page.  So only the
 * first access off a base (or one below it) is checked: a frame's stp/ldp
 * runs test once.  Bases are tracked through i64 mov/add/sub of constants
 * (addr_note_op) and forgotten at labels, where paths merge.
 * prefetch: one prefetcht0-t2 or prefetchnta on [r15 + addr], unchecked (it
 * cannot fault).
 * Atomics: lock cmpxchg / lock xadd / xchg / cmpxchg loops / lock cmpxchg16b.
 */
#include "template-backend/tmpl-internal.h"

#include <stddef.h>
#include <stdlib.h>

/* ---- where addresses come from ---- */
#define ADDR_NONE UINT32_MAX
#define ADDR_MAX_OFF ((int64_t)1 << 31)

bool addr_init(TmplGen *g)
{
    if (!g->limit_guard)
        return true; /* every access is checked: nothing to track */
    uint32_t n = g->b->n_temps ? g->b->n_temps : 1;
    g->ver = calloc(n, sizeof *g->ver);
    g->addr = malloc(n * sizeof *g->addr);
    if (!g->ver || !g->addr)
        return false;
    for (uint32_t t = 0; t < n; t++)
        g->addr[t].rver = ADDR_NONE;
    return true;
}

/* t's value as root + off (itself at its current version if nothing else
 * is known). */
static TmplAddr addr_of(const TmplGen *g, IrTemp t)
{
    if (g->addr[t].rver != ADDR_NONE)
        return g->addr[t];
    return (TmplAddr){ .root = t, .rver = g->ver[t], .off = 0 };
}

/* Every temp may hold a new value: no base is known to equal an older one. */
static void addr_forget_values(TmplGen *g)
{
    for (uint32_t t = 0; t < g->b->n_temps; t++) {
        g->ver[t]++;
        g->addr[t].rver = ADDR_NONE;
    }
}

void addr_forget_all(TmplGen *g)
{
    if (!g->limit_guard)
        return;
    addr_forget_values(g);
    g->n_checked = g->next_checked = 0;
}

void addr_note_op(TmplGen *g, const IrInst *op)
{
    if (!g->limit_guard)
        return;
    const IrOpInfo *oi = &ir_op_info[op->opc];
    if (op->opc == IR_OP_call || op->opc == IR_OP_stenv) {
        addr_forget_values(g); /* may write any global behind the IR's back */
        return;
    }
    for (unsigned k = 0; k < oi->n_out && k < IR_MAX_ARGS; k++) {
        IrTemp out = op->args[k];
        if (out == IR_TEMP_NONE || out >= g->b->n_temps)
            continue;
        TmplAddr a = { .rver = ADDR_NONE };
        if (k == 0 && op->type == IR_I64 && !tg_is_const(g, out)) {
            IrTemp in = op->args[1];
            int64_t c = 0;
            bool follow = false;
            if (op->opc == IR_OP_mov) {
                follow = !tg_is_const(g, in);
            } else if ((op->opc == IR_OP_add || op->opc == IR_OP_sub) &&
                       tg_is_const(g, op->args[2]) && !tg_is_const(g, in)) {
                c = (int64_t)tg_const(g, op->args[2]);
                follow = c > -ADDR_MAX_OFF && c < ADDR_MAX_OFF;
                if (op->opc == IR_OP_sub)
                    c = -c;
            }
            if (follow) {
                a = addr_of(g, in);
                a.off += c;
                if (a.off <= -ADDR_MAX_OFF || a.off >= ADDR_MAX_OFF)
                    a.rver = ADDR_NONE;
            }
        }
        g->ver[out]++;
        g->addr[out] = a;
    }
}

/* ---- address folding ---- */
/* "t = add/sub base, c; ...; ld [t]; st [t]" with t written once and read
 * only as the address of plain ld/st (no alignment check), base not
 * written and no label, branch or call before t's last use: the accesses
 * become [r15 + base + c] and the add disappears; a limit check that is
 * not elided computes base + c in rax.  A frame's ldp/stp runs and struct
 * field accesses were one lea each. */
#define FOLD_WINDOW 48

static bool fold_use_ok(const IrInst *op, IrTemp t)
{
    bool addr_use = (op->opc == IR_OP_ld && op->args[1] == t) ||
                    (op->opc == IR_OP_st && op->args[0] == t && op->args[1] != t);
    return addr_use && IR_MO_ALIGN_LOG2((IrMemOp)op->c[0]) == 0;
}

static bool fold_candidate(TmplGen *g, uint32_t i)
{
    const IrBlock *b = g->b;
    const IrInst *op = &b->ops[i];
    if ((op->opc != IR_OP_add && op->opc != IR_OP_sub) || op->type != IR_I64)
        return false;
    IrTemp t = op->args[0], base = op->args[1];
    if (t == IR_TEMP_NONE || tg_info(g, t)->kind != IR_TEMP_LOCAL || !tg_is_const(g, op->args[2]) ||
        base == IR_TEMP_NONE || tg_is_const(g, base) || base == t ||
        ir_type_is_wide((IrType)tg_info(g, base)->type))
        return false;
    int64_t c = (int64_t)tg_const(g, op->args[2]);
    if (op->opc == IR_OP_sub)
        c = -c;
    uint32_t last = g->t[t].last;
    if (c <= INT32_MIN + 16 || c >= INT32_MAX - 16 || g->t[t].first != i || last == UINT32_MAX ||
        last <= i || last - i > FOLD_WINDOW)
        return false;
    for (uint32_t k = i + 1; k <= last; k++) {
        const IrInst *o = &b->ops[k];
        if (o->dead)
            continue;
        if (o->opc >= IR_OP_COUNT || o->opc == IR_OP_label || o->opc == IR_OP_call)
            return false;
        const IrOpInfo *oi = &ir_op_info[o->opc];
        if (oi->flags & (IR_OPF_BRANCH | IR_OPF_EXIT))
            return false;
        for (unsigned a = 0; a < (unsigned)(oi->n_out + oi->n_in); a++) {
            /* base changes before t's last use; a load at the last use
             * may write it ("ldrb w0, [x0, #8]": the address is read first) */
            if (o->args[a] == base && a < oi->n_out && !(k == last && o->opc == IR_OP_ld))
                return false;
            if (o->args[a] == t && (a < oi->n_out || !fold_use_ok(o, t)))
                return false;
        }
    }
    g->fold[t] = (TmplFold){base, (int32_t)c};
    /* base stays live (in a register or its home) until t's last use */
    if (!tg_is_global(g, base) && g->t[base].last < last)
        g->t[base].last = last;
    return true;
}

bool addr_fold_init(TmplGen *g)
{
    g->fold = NULL;
    if (!g->limit_guard)
        return true; /* checked accesses keep their address in a register */
    bool any = false;
    for (uint32_t i = 0; i < g->b->n_ops; i++) {
        const IrInst *op = &g->b->ops[i];
        if (op->dead || (op->opc != IR_OP_add && op->opc != IR_OP_sub))
            continue;
        if (!g->fold && !(g->fold = calloc(g->b->n_temps ? g->b->n_temps : 1, sizeof *g->fold)))
            return false;
        any |= fold_candidate(g, i);
    }
    if (!any) {
        free(g->fold);
        g->fold = NULL;
    }
    return true;
}

/* True if the access of size bytes at temp at needs no limit check (see
 * the top); else records that the check about to be made tests at - below
 * (the caller checks a folded access's base alone, below = its offset). */
static bool addr_covered(TmplGen *g, IrTemp at, unsigned size, int64_t below)
{
    if (!g->limit_guard || at == IR_TEMP_NONE || at >= g->b->n_temps || tg_is_const(g, at))
        return false;
    TmplAddr a = addr_of(g, at);
    for (uint32_t i = 0; i < g->n_checked; i++) {
        TmplChecked *c = &g->checked[i];
        if (c->root != a.root || c->rver != a.rver)
            continue;
        if (a.off >= c->min_off && (uint64_t)(a.off - c->min_off) + size <= g->limit_guard)
            return true;
        if (a.off - below < c->min_off)
            c->min_off = a.off - below;
        return false;
    }
    uint32_t i = g->n_checked < TMPL_MAX_CHECKED ? g->n_checked++
                                                 : g->next_checked++ % TMPL_MAX_CHECKED;
    g->checked[i] = (TmplChecked){ .root = a.root, .rver = a.rver, .min_off = a.off - below };
    return false;
}

/* Right before an instruction that touches guest memory: which registers
 * hold dirty globals there, for a host fault (TmplCode.wb). */
static void wb_site(TmplGen *g)
{
    uint32_t w[2 + TMPL_WB_MAX_PAIRS];
    unsigned n = ra_dirty_globals(g, w + 2);
    if (!n)
        return;
    w[0] = (uint32_t)x86_off(&g->x);
    w[1] = n;
    tg_push_words(g, &g->wb, &g->n_wb, &g->cap_wb, w, 2 + n);
}

/* The globals dirty in registers at a check, taken before its compare
 * (ra_dirty_globals may emit a store, which must precede the jcc). */
typedef struct TmplDirty {
    uint32_t w[TMPL_WB_MAX_PAIRS];
    unsigned n;
} TmplDirty;

static TmplDirty dirty_now(TmplGen *g)
{
    TmplDirty d;
    d.n = ra_dirty_globals(g, d.w);
    return d;
}

/* A fault stub for the check whose jcc rel32 is at site: the guest
 * exception at address ar + disp, after storing the globals that were
 * dirty (d). */
static void fault_stub(TmplGen *g, const IrInst *op, int ar, int32_t disp, unsigned kind,
                       bool write, size_t site, const TmplDirty *d)
{
    gen_add_stub_wb(g, (TmplStub){.kind = STUB_FAULT, .reg = (int8_t)ar,
                                  .slot = (uint8_t)(kind | (write ? 0x80 : 0)),
                                  .site = (uint32_t)site, .insn = op->insn_idx, .disp = disp},
                    d->w, d->n);
}

/* cmp addr, [env+guest_limit]; jae -> guest SIGSEGV reporting ar + disp. */
static void limit_check(TmplGen *g, const IrInst *op, int ar, int32_t disp, bool write,
                        const TmplDirty *d)
{
    X86Buf *x = &g->x;
    x86_alu_rm(x, X86_CMP, 64, ar, x86_mem(TMPL_REG_ENV, offsetof(CpuCommon, guest_limit)));
    fault_stub(g, op, ar, disp, TMPL_EXC_SEGV, write, x86_jcc32(x, X86_CC_AE), d);
}

/* Check addr (in ar) for op's memop; at is the address temp.  Plain loads
 * and stores keep dirty globals in registers (their stubs and the
 * write-back map store them on a fault); atomics write them back first. */
static void mem_check(TmplGen *g, const IrInst *op, int ar, bool write, IrTemp at)
{
    X86Buf *x = &g->x;
    IrMemOp mo = (IrMemOp)op->c[0];
    if (op->opc != IR_OP_ld && op->opc != IR_OP_st)
        ra_writeback_globals(g, false);
    TmplDirty d = dirty_now(g);
    unsigned al = IR_MO_ALIGN_LOG2(mo);
    if (al) {
        x86_test_ri(x, 32, ar, (int32_t)((1u << al) - 1));
        fault_stub(g, op, ar, 0, TMPL_EXC_ALIGN, write, x86_jcc32(x, X86_CC_NE), &d);
    }
    if (!addr_covered(g, at, IR_MO_BYTES(mo), 0))
        limit_check(g, op, ar, 0, write, &d);
}

static X86Mem host_mem(int ar, int32_t disp)
{
    return x86_mem_idx(TMPL_REG_BASE, ar, disp);
}

/* The host operand of op's access at temp at, after the write-back and
 * the checks (mem_check); a folded address is [r15 + base + off]. */
static X86Mem mem_operand(TmplGen *g, const IrInst *op, IrTemp at, bool write)
{
    if (!g->fold || g->fold[at].base == IR_TEMP_NONE) {
        int ar = ra_in(g, at);
        mem_check(g, op, ar, write, at);
        return host_mem(ar, 0);
    }
    TmplFold f = g->fold[at];
    int br = ra_in(g, f.base);
    unsigned size = IR_MO_BYTES((IrMemOp)op->c[0]);
    /* base < limit is enough when base + off + size stays within the
     * guard: the access then faults in the guard if it is past the limit */
    bool base_only = f.off >= 0 && (uint64_t)f.off + size <= g->limit_guard;
    if (!addr_covered(g, at, size, base_only ? f.off : 0)) {
        TmplDirty d = dirty_now(g);
        if (base_only) {
            limit_check(g, op, br, f.off, write, &d);
        } else {
            x86_lea(&g->x, 64, X86_RAX, x86_mem(br, f.off));
            limit_check(g, op, X86_RAX, 0, write, &d);
        }
    }
    return host_mem(br, f.off);
}

/* d = src's low sbits extended (per sign) to type t, canonical. */
static void extend_to(TmplGen *g, int d, int src, int sbits, bool sgn, IrType t)
{
    X86Buf *x = &g->x;
    int tb = tg_bits(t);
    if (sbits >= tb) {
        if (d != src)
            x86_mov_rr(x, 64, d, src);
        if (tb < 64)
            gen_normalize(g, d, t);
    } else if (sgn) {
        x86_movsx_rr(x, tb == 64 ? 64 : 32, d, src, sbits);
        if (tb < 32)
            gen_normalize(g, d, t);
    } else {
        x86_movzx_rr(x, d, src, sbits);
    }
}

static void gen_ld(TmplGen *g, const IrInst *op)
{
    X86Buf *x = &g->x;
    IrType t = (IrType)op->type;
    IrMemOp mo = (IrMemOp)op->c[0];
    int sbits = (int)IR_MO_BYTES(mo) * 8;
    X86Mem m = mem_operand(g, op, op->args[1], false);
    if (ir_type_is_wide(t)) {
        wb_site(g);
        if (sbits >= 32) {
            if (sbits == 128)
                x86_movdqu_load(x, TMPL_XMM_SCRATCH, m);
            else if (sbits == 64)
                x86_movq_xmm_load(x, TMPL_XMM_SCRATCH, m);
            else
                x86_movd_xmm_load(x, TMPL_XMM_SCRATCH, m);
            gen_xmm_to_home(g, op->args[0]);
            return;
        }
        x86_movzx_load(x, X86_RAX, m, sbits);
        x86_movq_xmm_r(x, 32, TMPL_XMM_SCRATCH, X86_RAX);
        gen_xmm_to_home(g, op->args[0]);
        return;
    }
    int tb = tg_bits(t);
    /* A pinned destination is loaded in place, also when it is the
     * address ("ldrb w0, [x0]": the load reads the address first): a
     * faulting load writes nothing, so the pin holds the old value. */
    IrTemp out = op->args[0];
    int d = ra_alloc_or_pin(g, out);
    if (sbits > 64)
        sbits = 64;
    wb_site(g);
    if (sbits >= tb) {
        if (tb < 32)
            x86_movzx_load(x, d, m, tb);
        else
            x86_load(x, tb, d, m);
    } else if (IR_MO_IS_SIGNED(mo)) {
        x86_movsx_load(x, tb == 64 ? 64 : 32, d, m, sbits);
        if (tb < 32)
            gen_normalize(g, d, t);
    } else {
        x86_movzx_load(x, d, m, sbits);
    }
    ra_bind(g, op->args[0], d);
    if (!IR_MO_IS_SIGNED(mo))
        ra_set_kbits(g, op->args[0], (unsigned)sbits);
}

static void store_wide_imm(TmplGen *g, X86Mem m, uint64_t v, int bits)
{
    if (bits == 64 && !x86_is_s32((int64_t)v)) {
        x86_mov_ri(&g->x, X86_RAX, v);
        x86_store(&g->x, 64, m, X86_RAX);
    } else {
        x86_store_imm(&g->x, bits, m, (int32_t)v);
    }
}

static void gen_st(TmplGen *g, const IrInst *op)
{
    X86Buf *x = &g->x;
    IrType t = (IrType)op->type;
    IrMemOp mo = (IrMemOp)op->c[0];
    int sbits = (int)IR_MO_BYTES(mo) * 8;
    IrTemp addr = op->args[0], val = op->args[1];
    if (ir_type_is_wide(t)) {
        ra_reserve(g, X86_RDX); /* the high half below; before the address is placed */
        X86Mem m = mem_operand(g, op, addr, true), m8 = m;
        m8.disp += 8;
        uint64_t lo, hi;
        if (sbits == 128 && !tg_is_const(g, val)) {
            gen_xmm_from_temp(g, val);
            wb_site(g);
            x86_movdqu_store(x, m, TMPL_XMM_SCRATCH);
            return;
        }
        if (tg_is_const(g, val)) {
            lo = tg_info(g, val)->val[0];
            hi = tg_info(g, val)->val[1];
            x86_mov_ri(x, X86_RAX, lo);
            x86_mov_ri(x, X86_RDX, hi);
        } else {
            X86Mem h = ra_home(g, val);
            x86_load(x, 64, X86_RAX, h);
            h.disp += 8;
            x86_load(x, 64, X86_RDX, h);
        }
        if (sbits == 128) {
            wb_site(g);
            x86_store(x, 64, m, X86_RAX);
            wb_site(g);
            x86_store(x, 64, m8, X86_RDX);
        } else {
            wb_site(g);
            x86_store(x, sbits, m, X86_RAX);
        }
        return;
    }
    int vr = -1;
    bool imm = tg_is_const(g, val) && x86_is_s32((int64_t)tg_const(g, val));
    if (!imm)
        vr = ra_in(g, val);
    X86Mem m = mem_operand(g, op, addr, true);
    if (sbits > 64)
        sbits = 64;
    wb_site(g);
    if (imm)
        x86_store_imm(x, sbits, m, (int32_t)tg_const(g, val));
    else
        x86_store(x, sbits, m, vr);
}

static void gen_cmpxchg128(TmplGen *g, const IrInst *op)
{
    X86Buf *x = &g->x;
    /* rdx:rax = expected, rcx:rbx = new; all but rax are allocatable: take them */
    ra_reserve(g, X86_RBX);
    ra_reserve(g, X86_RCX);
    ra_reserve(g, X86_RDX);
    int ar = ra_in(g, op->args[1]);
    mem_check(g, op, ar, true, IR_TEMP_NONE);
    for (int k = 0; k < 2; k++) {
        IrTemp v = op->args[2 + k];
        int lo = k ? X86_RBX : X86_RAX, hi = k ? X86_RCX : X86_RDX;
        if (tg_is_const(g, v)) {
            x86_mov_ri(x, lo, tg_info(g, v)->val[0]);
            x86_mov_ri(x, hi, tg_info(g, v)->val[1]);
        } else {
            X86Mem h = ra_home(g, v);
            x86_load(x, 64, lo, h);
            h.disp += 8;
            x86_load(x, 64, hi, h);
        }
    }
    X86Mem m = host_mem(ar, 0), m8 = host_mem(ar, 8);
    x86_test_ri(x, 32, ar, 15);
    size_t j_slow = x86_jcc32(x, X86_CC_NE);
    x86_lock(x);
    x86_cmpxchg16b(x, m);
    size_t j_done = x86_jmp32(x);
    /* misaligned host address (the guest did not ask for alignment):
     * lock cmpxchg16b would #GP, so compare and swap non-atomically */
    x86_patch_rel32(x, j_slow, x86_off(x));
    x86_alu_rm(x, X86_CMP, 64, X86_RAX, m);
    size_t j_f1 = x86_jcc32(x, X86_CC_NE);
    x86_alu_rm(x, X86_CMP, 64, X86_RDX, m8);
    size_t j_f2 = x86_jcc32(x, X86_CC_NE);
    x86_store(x, 64, m, X86_RBX);
    x86_store(x, 64, m8, X86_RCX);
    size_t j_done2 = x86_jmp32(x);
    x86_patch_rel32(x, j_f1, x86_off(x));
    x86_patch_rel32(x, j_f2, x86_off(x));
    x86_load(x, 64, X86_RAX, m);
    x86_load(x, 64, X86_RDX, m8);
    x86_patch_rel32(x, j_done, x86_off(x));
    x86_patch_rel32(x, j_done2, x86_off(x));
    X86Mem h = ra_home(g, op->args[0]);
    x86_store(x, 64, h, X86_RAX);
    h.disp += 8;
    x86_store(x, 64, h, X86_RDX);
}

static void gen_cmpxchg(TmplGen *g, const IrInst *op)
{
    X86Buf *x = &g->x;
    IrType t = (IrType)op->type;
    IrMemOp mo = (IrMemOp)op->c[0];
    int sbits = (int)IR_MO_BYTES(mo) * 8;
    if (ir_type_is_wide(t)) {
        if (sbits != 128) {
            tg_fail(g, "wide cmpxchg must be 16 bytes");
            return;
        }
        gen_cmpxchg128(g, op);
        return;
    }
    if (sbits > 64) {
        tg_fail(g, "16-byte cmpxchg needs an i128/v128 type");
        return;
    }
    int ar = ra_in(g, op->args[1]);
    int nr = ra_in(g, op->args[3]);
    gen_load_to(g, X86_RAX, op->args[2]);
    mem_check(g, op, ar, true, IR_TEMP_NONE);
    x86_lock(x);
    x86_cmpxchg(x, sbits, host_mem(ar, 0), nr);
    int d = ra_alloc(g);
    extend_to(g, d, X86_RAX, sbits, IR_MO_IS_SIGNED(mo), t);
    ra_bind(g, op->args[0], d);
}

static void gen_rmw(TmplGen *g, const IrInst *op)
{
    X86Buf *x = &g->x;
    IrType t = (IrType)op->type;
    IrMemOp mo = (IrMemOp)op->c[0];
    IrRmwOp rmw = (IrRmwOp)op->c[1];
    int sbits = (int)IR_MO_BYTES(mo) * 8;
    bool sgn = IR_MO_IS_SIGNED(mo);
    if (sbits > 64 || rmw >= IR_RMW_COUNT) {
        tg_fail(g, "bad atomic_rmw");
        return;
    }
    int ar = ra_in(g, op->args[1]);
    X86Mem m = host_mem(ar, 0);
    if (rmw == IR_RMW_XCHG || rmw == IR_RMW_ADD) {
        int d = ra_alloc(g);
        gen_load_to(g, d, op->args[2]);
        mem_check(g, op, ar, true, IR_TEMP_NONE);
        if (rmw == IR_RMW_XCHG) {
            x86_xchg(x, sbits, m, d);
        } else {
            x86_lock(x);
            x86_xadd(x, sbits, m, d);
        }
        extend_to(g, d, d, sbits, sgn, t);
        ra_bind(g, op->args[0], d);
        return;
    }
    int vr = ra_in(g, op->args[2]);
    mem_check(g, op, ar, true, IR_TEMP_NONE);
    int osz = sbits < 32 ? 32 : sbits;
    x86_movzx_load(x, X86_RAX, m, sbits);
    size_t loop = x86_off(x);
    switch (rmw) {
    case IR_RMW_AND: case IR_RMW_OR: case IR_RMW_XOR:
        x86_mov_rr(x, 64, TMPL_SCRATCH, X86_RAX);
        x86_alu_rr(x, rmw == IR_RMW_AND ? X86_AND : rmw == IR_RMW_OR ? X86_OR : X86_XOR, osz,
                   TMPL_SCRATCH, vr);
        break;
    case IR_RMW_ANDC:
        x86_mov_rr(x, 64, TMPL_SCRATCH, vr);
        x86_unary(x, X86_NOT, 64, TMPL_SCRATCH);
        x86_alu_rr(x, X86_AND, osz, TMPL_SCRATCH, X86_RAX);
        break;
    default: {
        /* min/max: keep old unless val wins (compare at the access width) */
        X86Cond take_val = rmw == IR_RMW_SMAX ? X86_CC_L : rmw == IR_RMW_SMIN ? X86_CC_G
                         : rmw == IR_RMW_UMAX ? X86_CC_B : X86_CC_A;
        x86_mov_rr(x, 64, TMPL_SCRATCH, X86_RAX);
        x86_alu_rr(x, X86_CMP, sbits, TMPL_SCRATCH, vr);
        x86_cmovcc(x, take_val, osz, TMPL_SCRATCH, vr);
        break;
    }
    }
    x86_lock(x);
    x86_cmpxchg(x, sbits, m, TMPL_SCRATCH);
    size_t back = x86_jcc32(x, X86_CC_NE);
    x86_patch_rel32(x, back, loop);
    int d = ra_alloc(g);
    extend_to(g, d, X86_RAX, sbits, sgn, t);
    ra_bind(g, op->args[0], d);
}

static void gen_ldenv(TmplGen *g, const IrInst *op)
{
    X86Buf *x = &g->x;
    IrType t = (IrType)op->type;
    X86Mem src = x86_mem(TMPL_REG_ENV, (int32_t)op->c[0]);
    if (ir_type_is_wide(t)) {
        x86_movdqu_load(x, TMPL_XMM_SCRATCH, src);
        gen_xmm_to_home(g, op->args[0]);
        return;
    }
    int d = ra_alloc(g);
    int tb = tg_bits(t);
    if (tb < 32)
        x86_movzx_load(x, d, src, tb);
    else
        x86_load(x, tb, d, src);
    ra_bind(g, op->args[0], d);
}

static void gen_stenv(TmplGen *g, const IrInst *op)
{
    X86Buf *x = &g->x;
    IrType t = (IrType)op->type;
    IrTemp v = op->args[0];
    X86Mem dst = x86_mem(TMPL_REG_ENV, (int32_t)op->c[0]);
    if (ir_type_is_wide(t)) {
        if (!tg_is_const(g, v)) {
            gen_xmm_from_temp(g, v);
            x86_movdqu_store(x, dst, TMPL_XMM_SCRATCH);
            return;
        }
        for (int k = 0; k < 2; k++, dst.disp += 8)
            store_wide_imm(g, dst, tg_info(g, v)->val[k], 64);
        return;
    }
    int tb = tg_bits(t);
    if (tg_is_const(g, v) && x86_is_s32((int64_t)tg_const(g, v))) {
        store_wide_imm(g, dst, tg_const(g, v), tb);
        return;
    }
    int r = ra_in(g, v);
    x86_store(x, tb, dst, r);
}

static void gen_call(TmplGen *g, const IrInst *op)
{
    X86Buf *x = &g->x;
    if (op->c[0] >= IR_HELPER_COUNT) {
        tg_fail(g, "bad helper id");
        return;
    }
    const IrHelperInfo *h = &ir_helper_info[op->c[0]];
    uint32_t fl = h->flags;
    if (fl & (IR_HF_READS_GLOBALS | IR_HF_WRITES_GLOBALS | IR_HF_CAN_FAULT | IR_HF_NORETURN))
        ra_writeback_globals(g, false);
    /* live values leave rsi/rdi/r8-r10; then no argument source is an
     * argument register and the moves below cannot clobber each other */
    ra_spill_caller_saved(g);
    static const int argr[6] = {X86_RDI, X86_RSI, X86_RDX, X86_RCX, X86_R8, X86_R9};
    unsigned k = 0;
    if (h->takes_env)
        x86_mov_rr(x, 64, argr[k++], TMPL_REG_ENV);
    for (unsigned i = 0; i < h->n_args && k < 6 && i < 5; i++) {
        IrTemp a = op->args[1 + i];
        if (a == IR_TEMP_NONE || ir_type_is_wide((IrType)tg_info(g, a)->type)) {
            tg_fail(g, "bad helper argument");
            return;
        }
        gen_load_to(g, argr[k++], a);
    }
    if (fl & (IR_HF_CAN_FAULT | IR_HF_NORETURN)) {
        uint64_t pc = g->cur_insn < g->b->n_insns ? g->b->insns[g->cur_insn].pc : g->b->pc;
        if (x86_is_s32((int64_t)pc)) {
            x86_store_imm(x, 64, x86_mem(TMPL_REG_ENV, offsetof(CpuCommon, pc)), (int32_t)pc);
        } else {
            x86_mov_ri(x, X86_RAX, pc);
            x86_store(x, 64, x86_mem(TMPL_REG_ENV, offsetof(CpuCommon, pc)), X86_RAX);
        }
    }
    uintptr_t fn = (uintptr_t)h->fn;
    int64_t rel = (int64_t)fn - (int64_t)(g->exec_base + x86_off(x) + 5);
    if (x86_is_s32(rel)) {
        size_t site = x86_call32(x);
        x86_patch_rel32(x, site, (size_t)((int64_t)site + 4 + rel));
        gen_reloc(g, site, TMPL_RELOC_HELPER_REL32, op->c[0]);
    } else {
        gen_reloc(g, x86_movabs(x, X86_RAX, fn), TMPL_RELOC_HELPER_ABS64, op->c[0]);
        x86_call_r(x, X86_RAX);
    }
    if (fl & IR_HF_WRITES_GLOBALS)
        ra_drop_globals(g);
    else
        ra_reload_caller_saved_pins(g);
    IrTemp out = op->args[0];
    if (out != IR_TEMP_NONE && h->ret != IR_VOID) {
        int d = ra_alloc(g);
        if (tg_bits((IrType)h->ret) <= 32)
            x86_mov_rr(x, 32, d, X86_RAX);   /* upper half of rax is undefined */
        else
            x86_mov_rr(x, 64, d, X86_RAX);
        ra_bind(g, out, d);
    }
}

bool gen_mem_op(TmplGen *g, const IrInst *op)
{
    switch (op->opc) {
    case IR_OP_ld: gen_ld(g, op); return true;
    case IR_OP_st: gen_st(g, op); return true;
    case IR_OP_cmpxchg: gen_cmpxchg(g, op); return true;
    case IR_OP_atomic_rmw: gen_rmw(g, op); return true;
    case IR_OP_fence:
        /* x86 is TSO: only store->load ordering needs a real fence */
        if (op->c[0] == IR_FENCE_FULL)
            x86_mfence(&g->x);
        return true;
    case IR_OP_prefetch: {
        /* no write-back, no check: a prefetch never faults, and outside
         * guest memory it only warms a host cache line */
        static const int x86_hint[IR_PREFETCH_COUNT] = {1, 2, 3, 0, 1};
        x86_prefetch(&g->x, x86_hint[op->c[0]], host_mem(ra_in(g, op->args[0]), 0));
        return true;
    }
    case IR_OP_ldenv: gen_ldenv(g, op); return true;
    case IR_OP_stenv: gen_stenv(g, op); return true;
    case IR_OP_call: gen_call(g, op); return true;
    default: return false;
    }
}
