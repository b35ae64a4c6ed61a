/*
 * ir-fold.c - simplification of single ops and the constant-folding pass.
 *
 * ir_simplify() is used both by the builder (as it emits) and by
 * ir_pass_fold() (over a finished block); constants are evaluated with the
 * interpreter's own functions in ir-eval.h, so folding cannot change the
 * meaning of an op.
 *
 *   ir_pass_fold(b);   // "t1 = add $1, $2; t2 = add t1, $3" -> "mov t2, $6"
 */
#include "ir/ir.h"

#include <stdlib.h>
#include <string.h>

#include "ir/ir-eval.h"
#include "ir/ir-internal.h"

static bool valid(const IrBlock *b, IrTemp x)
{
    return x != IR_TEMP_NONE && x < b->n_temps;
}

static bool is_const(const IrBlock *b, IrTemp x)
{
    return valid(b, x) && b->temps[x].kind == IR_TEMP_CONST;
}

static uint64_t cval(const IrBlock *b, IrTemp x)
{
    return b->temps[x].val[0];
}

static IrSimp simp(IrSimpKind k, IrTemp t)
{
    return (IrSimp){k, t};
}

static IrSimp simp_const(IrBlock *b, IrType t, uint64_t v)
{
    return simp(IR_SIMP_CONST, ir_const(b, t, v));
}

/* "the output equals x": a constant input is a constant result */
static IrSimp simp_copy(const IrBlock *b, IrTemp x)
{
    return simp(is_const(b, x) ? IR_SIMP_CONST : IR_SIMP_COPY, x);
}

static IrSimp simplify_binop(IrBlock *b, IrOpcode opc, IrType t, IrTemp x, IrTemp y)
{
    uint64_t m = ir_eval_mask(t);
    if (b->temps[x].type != t || b->temps[y].type != t)
        return simp(IR_SIMP_NONE, 0); /* ill-typed: leave it to ir_verify */
    bool cx = is_const(b, x), cy = is_const(b, y);
    if (cx && cy)
        return simp_const(b, t, ir_eval_binop(opc, t, cval(b, x), cval(b, y)));
    uint64_t vy = cy ? cval(b, y) : 1, vx = cx ? cval(b, x) : 1;
    switch (opc) {
    case IR_OP_add: case IR_OP_or: case IR_OP_xor:
        if (cy && vy == 0)
            return simp_copy(b, x);
        if (cx && vx == 0)
            return simp_copy(b, y);
        if (opc == IR_OP_xor && x == y)
            return simp_const(b, t, 0);
        if (opc == IR_OP_or && x == y)
            return simp_copy(b, x);
        if (opc == IR_OP_or && ((cy && vy == m) || (cx && vx == m)))
            return simp_const(b, t, m);
        break;
    case IR_OP_sub:
        if (cy && vy == 0)
            return simp_copy(b, x);
        if (x == y)
            return simp_const(b, t, 0);
        break;
    case IR_OP_mul:
        if ((cy && vy == 0) || (cx && vx == 0))
            return simp_const(b, t, 0);
        if (cy && vy == 1)
            return simp_copy(b, x);
        if (cx && vx == 1)
            return simp_copy(b, y);
        break;
    case IR_OP_and:
        if ((cy && vy == 0) || (cx && vx == 0))
            return simp_const(b, t, 0);
        if (cy && vy == m)
            return simp_copy(b, x);
        if (cx && vx == m)
            return simp_copy(b, y);
        if (x == y)
            return simp_copy(b, x);
        break;
    case IR_OP_andc:
        if (cy && vy == 0)
            return simp_copy(b, x);
        if ((cx && vx == 0) || x == y)
            return simp_const(b, t, 0);
        break;
    case IR_OP_shl: case IR_OP_shr: case IR_OP_sar: case IR_OP_rotl: case IR_OP_rotr:
        if (cy && (vy & (ir_eval_width(t) - 1)) == 0)
            return simp_copy(b, x);
        if (cx && vx == 0)
            return simp_const(b, t, 0);
        break;
    case IR_OP_divu: case IR_OP_divs:
        if (cy && vy == 1)
            return simp_copy(b, x);
        break;
    default:
        break;
    }
    return simp(IR_SIMP_NONE, 0);
}

/* Result of cond(x, y) when it does not depend on the values: -1 unknown. */
static int cond_static(const IrBlock *b, IrCond c, IrType t, IrTemp x, IrTemp y)
{
    if (c == IR_COND_ALWAYS)
        return 1;
    if (c == IR_COND_NEVER)
        return 0;
    if (is_const(b, x) && is_const(b, y))
        return ir_eval_cond(c, t, cval(b, x), cval(b, y));
    if (x == y) {
        switch (c) {
        case IR_COND_EQ: case IR_COND_GE: case IR_COND_LE: case IR_COND_GEU: case IR_COND_LEU:
            return 1;
        case IR_COND_NE: case IR_COND_LT: case IR_COND_GT: case IR_COND_LTU: case IR_COND_GTU:
            return 0;
        default:
            break;
        }
    }
    return -1;
}

IrSimp ir_simplify(IrBlock *b, IrOpcode opc, IrType t, const IrTemp *args, const uint64_t *c)
{
    if ((unsigned)opc >= IR_OP_COUNT)
        return simp(IR_SIMP_NONE, 0);
    const IrOpInfo *oi = &ir_op_info[opc];
    const IrTemp *in = args + oi->n_out;
    for (unsigned i = 0; i < oi->n_in; i++)
        if (!valid(b, in[i]))
            return simp(IR_SIMP_NONE, 0);
    if ((oi->flags & IR_OPF_INT) && !ir_type_is_int(t))
        return simp(IR_SIMP_NONE, 0);
    IrType t0 = oi->n_in ? (IrType)b->temps[in[0]].type : IR_VOID;
    bool c0 = oi->n_in && is_const(b, in[0]);

    switch (opc) {
    case IR_OP_zext: case IR_OP_sext: case IR_OP_trunc: {
        bool narrowing = opc == IR_OP_trunc;
        if (!(ir_type_is_int(t0) || (narrowing && t0 == IR_I128)))
            break;
        if (ir_type_bits(t0) == ir_type_bits(t) && t0 == t)
            return simp_copy(b, in[0]);
        if (!c0)
            break;
        uint64_t v = cval(b, in[0]);
        if (opc == IR_OP_zext)
            return simp_const(b, t, ir_eval_zext(t, t0, v));
        if (opc == IR_OP_sext)
            return simp_const(b, t, ir_eval_sext(t, t0, v));
        return simp_const(b, t, ir_eval_trunc(t, v));
    }
    case IR_OP_bitcast:
        if (c0 && ir_type_bits(t0) == ir_type_bits(t) && t != IR_VOID)
            return simp(IR_SIMP_CONST, ir_const128(b, t, cval(b, in[0]), b->temps[in[0]].val[1]));
        break;
    case IR_OP_concat:
        if (c0 && is_const(b, in[1]) && ir_type_is_wide(t))
            return simp(IR_SIMP_CONST, ir_const128(b, t, cval(b, in[0]), cval(b, in[1])));
        break;
    case IR_OP_high64:
        if (c0 && ir_type_is_wide(t0) && t == IR_I64)
            return simp_const(b, IR_I64, b->temps[in[0]].val[1]);
        break;
    case IR_OP_add: case IR_OP_sub: case IR_OP_mul: case IR_OP_mulhu: case IR_OP_mulhs:
    case IR_OP_divu: case IR_OP_divs: case IR_OP_remu: case IR_OP_rems:
    case IR_OP_and: case IR_OP_or: case IR_OP_xor: case IR_OP_andc:
    case IR_OP_shl: case IR_OP_shr: case IR_OP_sar: case IR_OP_rotl: case IR_OP_rotr:
        return simplify_binop(b, opc, t, in[0], in[1]);
    case IR_OP_neg: case IR_OP_not: case IR_OP_clz: case IR_OP_ctz: case IR_OP_popcnt:
    case IR_OP_bswap: case IR_OP_bitrev:
        if (c0 && t0 == t)
            return simp_const(b, t, ir_eval_unop(opc, t, cval(b, in[0])));
        if (opc == IR_OP_bswap && t == IR_I8 && t0 == t)
            return simp_copy(b, in[0]);
        break;
    case IR_OP_extract: case IR_OP_sextract: {
        unsigned pos = (unsigned)c[0], len = (unsigned)c[1], w = ir_type_bits(t);
        if (t0 != t || len == 0 || len > w || pos > w - len)
            break;
        if (pos == 0 && len == w)
            return simp_copy(b, in[0]);
        if (c0)
            return simp_const(b, t, opc == IR_OP_extract
                                        ? ir_eval_extract(t, cval(b, in[0]), pos, len)
                                        : ir_eval_sextract(t, cval(b, in[0]), pos, len));
        break;
    }
    case IR_OP_deposit: {
        unsigned pos = (unsigned)c[0], len = (unsigned)c[1], w = ir_type_bits(t);
        if (t0 != t || b->temps[in[1]].type != t || len == 0 || len > w || pos > w - len)
            break;
        if (len == w)
            return simp_copy(b, in[1]);
        if (c0 && is_const(b, in[1]))
            return simp_const(b, t, ir_eval_deposit(t, cval(b, in[0]), cval(b, in[1]), pos, len));
        break;
    }
    case IR_OP_setcond: {
        if (c[0] >= IR_COND_COUNT || t0 != t || b->temps[in[1]].type != t)
            break;
        int r = cond_static(b, (IrCond)c[0], t, in[0], in[1]);
        if (r >= 0)
            return simp_const(b, t, (uint64_t)r);
        break;
    }
    case IR_OP_movcond: {
        if (c[0] >= IR_COND_COUNT)
            break;
        for (int i = 0; i < 4; i++)
            if (b->temps[in[i]].type != t)
                return simp(IR_SIMP_NONE, 0);
        int r = cond_static(b, (IrCond)c[0], t, in[0], in[1]);
        if (r >= 0)
            return simp_copy(b, r ? in[2] : in[3]);
        if (in[2] == in[3])
            return simp_copy(b, in[2]);
        break;
    }
    case IR_OP_brcond: {
        if (c[0] >= IR_COND_COUNT || t0 != t || b->temps[in[1]].type != t)
            break;
        int r = cond_static(b, (IrCond)c[0], t, in[0], in[1]);
        if (r >= 0)
            return simp(r ? IR_SIMP_BR : IR_SIMP_DROP, 0);
        break;
    }
    default:
        break;
    }
    return simp(IR_SIMP_NONE, 0);
}

/* ---- the pass ----------------------------------------------------------- */

/* Rewrite op as "mov out, src". */
static void make_mov(IrBlock *b, IrInst *op, IrTemp src)
{
    IrTemp out = op->args[0];
    op->opc = IR_OP_mov;
    op->type = b->temps[out].type;
    memset(op->args, 0, sizeof(op->args));
    op->args[0] = out;
    op->args[1] = src;
    op->c[0] = op->c[1] = 0;
}

void ir_pass_fold(IrBlock *b)
{
    /* known[t]: constant temp that local/global t holds in this straight-line
     * segment (0 = unknown); reset at labels. */
    uint32_t nt0 = b->n_temps;
    IrTemp *known = ir_block_scratch(b, (size_t)nt0 * sizeof(IrTemp));
    bool dropped = false, all = ir_block_unsimplified(b);
    uint32_t n_glob = b->globals && b->globals->count ? b->globals->count : 1;

    for (uint32_t i = 0; i < b->n_ops; i++) {
        IrInst *op = &b->ops[i];
        if (op->dead || op->opc >= IR_OP_COUNT)
            continue;
        const IrOpInfo *oi = &ir_op_info[op->opc];
        if (op->opc == IR_OP_label) {
            memset(known, 0, nt0 * sizeof(IrTemp));
            continue;
        }
        /* propagate known constants into the inputs */
        bool changed = all;
        for (unsigned k = oi->n_out; k < (unsigned)(oi->n_out + oi->n_in); k++) {
            IrTemp x = op->args[k];
            if (x && x < nt0 && known[x] && op->args[k] != known[x]) {
                op->args[k] = known[x];
                changed = true;
            }
        }
        if (op->opc == IR_OP_call && ir_call_writes_globals(op))
            memset(known, 0, n_glob * sizeof(IrTemp));

        /* the builder already simplified it with these very inputs */
        IrSimp s = changed ? ir_simplify(b, op->opc, op->type, op->args, op->c)
                           : (IrSimp){IR_SIMP_NONE, 0};
        op = &b->ops[i]; /* (ops is not reallocated, but stay safe) */
        switch (s.kind) {
        case IR_SIMP_CONST:
        case IR_SIMP_COPY:
            if (oi->n_out == 1 && op->args[0])
                make_mov(b, op, s.temp);
            break;
        case IR_SIMP_DROP:
            op->dead = 1;
            dropped = true;
            continue;
        case IR_SIMP_BR: {
            uint64_t label = op->c[1];
            memset(op->args, 0, sizeof(op->args));
            op->opc = IR_OP_br;
            op->type = IR_VOID;
            op->c[0] = label;
            op->c[1] = 0;
            continue;
        }
        case IR_SIMP_NONE:
            break;
        }
        /* outputs: a mov of a constant makes its target known */
        for (unsigned k = 0; k < oi->n_out; k++) {
            IrTemp x = op->args[k];
            if (!x || x >= nt0)
                continue;
            known[x] = 0;
            if (op->opc == IR_OP_mov && is_const(b, op->args[1]) &&
                b->temps[op->args[1]].type == b->temps[x].type)
                known[x] = op->args[1];
        }
    }
    if (dropped)
        ir_compact(b);
}
