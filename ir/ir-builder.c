/*
 * ir-builder.c - typed builder functions over ir_emit().
 *
 * Value-producing builders return a fresh local, or a constant when the
 * result is known.  With b->simplify (the default) they simplify as they
 * emit through ir_simplify() (ir-fold.c): constant operands are evaluated
 * with the interpreter's own arithmetic and identities are dropped
 * ("add x, 0" becomes "mov t, x").  A result equal to an existing non-constant
 * temp is still returned as a fresh local (a mov), because that temp may be
 * written later (a guest register) while the caller keeps using the value.
 *
 *   IrTemp t = ir_add(b, IR_I64, x1, ir_const(b, IR_I64, 4));
 */
#include "ir/ir.h"

#include "ir/ir-helpers.h"
#include "ir/ir-internal.h"

/* Emit a one-output op whose output is a new local of type out_t, after
 * trying to simplify it.  in[] are the inputs. */
static IrTemp emit_value(IrBlock *b, IrOpcode opc, IrType t, IrType out_t, const IrTemp *in,
                         unsigned n_in, const uint64_t *c)
{
    IrTemp args[IR_MAX_ARGS] = {0};
    for (unsigned i = 0; i < n_in && i + 1 < IR_MAX_ARGS; i++)
        args[1 + i] = in[i];
    if (b->simplify) {
        IrSimp s = ir_simplify(b, opc, t, args, c);
        if (s.kind == IR_SIMP_CONST)
            return s.temp;
        if (s.kind == IR_SIMP_COPY) {
            IrTemp r = ir_new_temp(b, out_t);
            ir_emit_simplified(b, IR_OP_mov, out_t, (IrTemp[]){r, s.temp}, NULL);
            return r;
        }
    }
    IrTemp r = ir_new_temp(b, out_t);
    args[0] = r;
    if (b->simplify)
        ir_emit_simplified(b, opc, t, args, c);
    else
        ir_emit(b, opc, t, args, c);
    return r;
}

void ir_mov(IrBlock *b, IrType t, IrTemp dst, IrTemp src)
{
    if (b->simplify && dst == src)
        return;
    ir_emit_simplified(b, IR_OP_mov, t, (IrTemp[]){dst, src}, NULL);
}

IrTemp ir_unop(IrBlock *b, IrOpcode opc, IrType t, IrTemp a)
{
    return emit_value(b, opc, t, t, &a, 1, NULL);
}

IrTemp ir_binop(IrBlock *b, IrOpcode opc, IrType t, IrTemp a, IrTemp c)
{
    return emit_value(b, opc, t, t, (IrTemp[]){a, c}, 2, NULL);
}

IrTemp ir_zext(IrBlock *b, IrType to, IrType from, IrTemp a)
{
    (void)from; /* the input temp carries its type */
    return emit_value(b, IR_OP_zext, to, to, &a, 1, NULL);
}

IrTemp ir_sext(IrBlock *b, IrType to, IrType from, IrTemp a)
{
    (void)from;
    return emit_value(b, IR_OP_sext, to, to, &a, 1, NULL);
}

IrTemp ir_trunc(IrBlock *b, IrType to, IrType from, IrTemp a)
{
    (void)from;
    return emit_value(b, IR_OP_trunc, to, to, &a, 1, NULL);
}

IrTemp ir_bitcast(IrBlock *b, IrType to, IrTemp a)
{
    return emit_value(b, IR_OP_bitcast, to, to, &a, 1, NULL);
}

IrTemp ir_concat(IrBlock *b, IrType t, IrTemp lo, IrTemp hi)
{
    return emit_value(b, IR_OP_concat, t, t, (IrTemp[]){lo, hi}, 2, NULL);
}

IrTemp ir_high64(IrBlock *b, IrTemp a)
{
    return emit_value(b, IR_OP_high64, IR_I64, IR_I64, &a, 1, NULL);
}

IrTemp ir_extract(IrBlock *b, IrType t, IrTemp a, unsigned pos, unsigned len)
{
    return emit_value(b, IR_OP_extract, t, t, &a, 1, (const uint64_t[]){pos, len});
}

IrTemp ir_sextract(IrBlock *b, IrType t, IrTemp a, unsigned pos, unsigned len)
{
    return emit_value(b, IR_OP_sextract, t, t, &a, 1, (const uint64_t[]){pos, len});
}

IrTemp ir_deposit(IrBlock *b, IrType t, IrTemp a, IrTemp v, unsigned pos, unsigned len)
{
    return emit_value(b, IR_OP_deposit, t, t, (IrTemp[]){a, v}, 2, (const uint64_t[]){pos, len});
}

IrTemp ir_setcond(IrBlock *b, IrType t, IrCond c, IrTemp x, IrTemp y)
{
    return emit_value(b, IR_OP_setcond, t, t, (IrTemp[]){x, y}, 2, (const uint64_t[]){c, 0});
}

IrTemp ir_movcond(IrBlock *b, IrType t, IrCond c, IrTemp x, IrTemp y, IrTemp v1, IrTemp v2)
{
    /* "cond ? 1 : 0" is a setcond (AArch64 CSET, CINC of zero): xor, cmp,
     * setcc instead of two constants and a cmov */
    if (!ir_type_is_wide(t) && c < IR_COND_COUNT && v1 && v2 && v1 < b->n_temps &&
        v2 < b->n_temps && b->temps[v1].kind == IR_TEMP_CONST &&
        b->temps[v2].kind == IR_TEMP_CONST && b->temps[v1].type == t && b->temps[v2].type == t) {
        uint64_t a = b->temps[v1].val[0], z = b->temps[v2].val[0];
        if (a == 1 && z == 0)
            return ir_setcond(b, t, c, x, y);
        if (a == 0 && z == 1)
            return ir_setcond(b, t, ir_cond_invert(c), x, y);
    }
    return emit_value(b, IR_OP_movcond, t, t, (IrTemp[]){x, y, v1, v2}, 4,
                      (const uint64_t[]){c, 0});
}

/* ---- memory, env, calls: never simplified ------------------------------- */
IrTemp ir_ld(IrBlock *b, IrType t, IrTemp addr, IrMemOp mo)
{
    IrTemp r = ir_new_temp(b, t);
    ir_emit_simplified(b, IR_OP_ld, t, (IrTemp[]){r, addr}, (const uint64_t[]){mo, 0});
    return r;
}

void ir_st(IrBlock *b, IrType t, IrTemp addr, IrTemp val, IrMemOp mo)
{
    ir_emit_simplified(b, IR_OP_st, t, (IrTemp[]){addr, val}, (const uint64_t[]){mo, 0});
}

IrTemp ir_cmpxchg(IrBlock *b, IrType t, IrTemp addr, IrTemp expect, IrTemp newv, IrMemOp mo)
{
    IrTemp r = ir_new_temp(b, t);
    ir_emit_simplified(b, IR_OP_cmpxchg, t, (IrTemp[]){r, addr, expect, newv}, (const uint64_t[]){mo, 0});
    return r;
}

IrTemp ir_atomic_rmw(IrBlock *b, IrType t, IrRmwOp op, IrTemp addr, IrTemp val, IrMemOp mo)
{
    IrTemp r = ir_new_temp(b, t);
    ir_emit_simplified(b, IR_OP_atomic_rmw, t, (IrTemp[]){r, addr, val}, (const uint64_t[]){mo, op});
    return r;
}

void ir_fence(IrBlock *b, IrFence kind)
{
    ir_emit_simplified(b, IR_OP_fence, IR_VOID, NULL, (const uint64_t[]){kind, 0});
}

void ir_prefetch(IrBlock *b, IrTemp addr, IrPrefetch hint)
{
    ir_emit_simplified(b, IR_OP_prefetch, IR_VOID, (IrTemp[]){addr}, (const uint64_t[]){hint, 0});
}

IrTemp ir_ldenv(IrBlock *b, IrType t, uint32_t offset)
{
    IrTemp r = ir_new_temp(b, t);
    ir_emit_simplified(b, IR_OP_ldenv, t, (IrTemp[]){r}, (const uint64_t[]){offset, 0});
    return r;
}

void ir_stenv(IrBlock *b, IrType t, uint32_t offset, IrTemp val)
{
    ir_emit_simplified(b, IR_OP_stenv, t, (IrTemp[]){val}, (const uint64_t[]){offset, 0});
}

IrTemp ir_call(IrBlock *b, unsigned helper_id, const IrTemp *args, unsigned n_args)
{
    IrTemp a[IR_MAX_ARGS] = {0};
    IrType ret = IR_VOID;
    if (helper_id < IR_HELPER_COUNT)
        ret = (IrType)ir_helper_info[helper_id].ret;
    for (unsigned i = 0; i < n_args && i + 1 < IR_MAX_ARGS; i++)
        a[1 + i] = args[i];
    if (ret != IR_VOID)
        a[0] = ir_new_temp(b, ret);
    ir_emit_simplified(b, IR_OP_call, ret, a, (const uint64_t[]){helper_id, 0});
    return a[0];
}

/* ---- control flow ------------------------------------------------------- */
void ir_label(IrBlock *b, uint32_t label)
{
    ir_emit_simplified(b, IR_OP_label, IR_VOID, NULL, (const uint64_t[]){label, 0});
}

void ir_br(IrBlock *b, uint32_t label)
{
    ir_emit_simplified(b, IR_OP_br, IR_VOID, NULL, (const uint64_t[]){label, 0});
}

void ir_brcond(IrBlock *b, IrType t, IrCond c, IrTemp x, IrTemp y, uint32_t label)
{
    const uint64_t cs[2] = {c, label};
    const IrTemp args[2] = {x, y};
    if (b->simplify) {
        IrSimp s = ir_simplify(b, IR_OP_brcond, t, args, cs);
        if (s.kind == IR_SIMP_DROP)
            return;
        if (s.kind == IR_SIMP_BR) {
            ir_br(b, label);
            return;
        }
    }
    if (b->simplify)
        ir_emit_simplified(b, IR_OP_brcond, t, args, cs);
    else
        ir_emit(b, IR_OP_brcond, t, args, cs);
}

void ir_goto_tb(IrBlock *b, unsigned slot, uint64_t target_pc)
{
    ir_emit_simplified(b, IR_OP_goto_tb, IR_VOID, NULL, (const uint64_t[]){slot, target_pc});
}

void ir_goto_ptr(IrBlock *b, IrTemp target_pc)
{
    ir_emit_simplified(b, IR_OP_goto_ptr, IR_I64, (IrTemp[]){target_pc}, NULL);
}

void ir_exit(IrBlock *b, IrExitReason reason, uint64_t pc)
{
    ir_emit_simplified(b, IR_OP_exit, IR_VOID, NULL, (const uint64_t[]){reason, pc});
}
