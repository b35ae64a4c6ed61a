/*
 * ir-verify.c - checks that a block is well formed before a backend sees it.
 *
 * Checked: opcode and arity (unused operand slots empty), operand types per
 * op, outputs never constants, locals defined (earlier in op order) before
 * they are read, labels defined once and every branch target defined,
 * constant operands in range (conditions, bitfield pos/len, MemOp size vs
 * type, rmw op, fence kind, goto_tb slot, exit reason), helper ids and
 * argument types against the helper's descriptor, ldenv/stenv not touching
 * a registered global, insn_start before the first real op, and an exit as
 * the last op.
 *
 *   char err[200];
 *   if (!ir_verify(b, err, sizeof err)) { fprintf(stderr, "%s\n", err); ir_print(b, stderr); }
 */
#include "ir/ir.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir-helpers.h"
#include "ir/ir-internal.h"

typedef struct VCtx {
    const IrBlock *b;
    char *err;
    size_t errlen;
    uint32_t i; /* current op */
} VCtx;

static bool fail(VCtx *v, const char *fmt, ...)
{
    if (v->err && v->errlen) {
        int n = 0;
        if (v->i < v->b->n_ops && v->b->ops[v->i].opc < IR_OP_COUNT)
            n = snprintf(v->err, v->errlen, "op %u (%s): ", v->i,
                         ir_op_info[v->b->ops[v->i].opc].name);
        else
            n = snprintf(v->err, v->errlen, "block: ");
        if (n < 0)
            n = 0;
        if ((size_t)n < v->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(v->err + n, v->errlen - n, fmt, ap);
            va_end(ap);
        }
    }
    return false;
}

static IrType ttype(const IrBlock *b, IrTemp t)
{
    return (IrType)b->temps[t].type;
}

/* in/out operand k of op must have type t */
static bool want(VCtx *v, const IrInst *op, unsigned k, IrType t)
{
    IrType have = ttype(v->b, op->args[k]);
    if (have != t)
        return fail(v, "operand %u has type %s, expected %s", k, ir_type_name(have),
                    ir_type_name(t));
    return true;
}

static bool check_memop(VCtx *v, IrType t, IrMemOp mo, bool rmw)
{
    if (mo & ~(IrMemOp)0xf7f)
        return fail(v, "memop 0x%x has reserved bits set", mo);
    unsigned sz = IR_MO_SIZE_LOG2(mo), bytes = IR_MO_BYTES(mo);
    if (sz > 4)
        return fail(v, "memop size 2^%u bytes is too big", sz);
    if (IR_MO_ALIGN_LOG2(mo) > 4)
        return fail(v, "memop alignment 2^%u is too big", IR_MO_ALIGN_LOG2(mo));
    if (ir_type_is_int(t)) {
        if (bytes * 8 > ir_type_bits(t))
            return fail(v, "memop of %u bytes does not fit %s", bytes, ir_type_name(t));
    } else if (t == IR_F32 || t == IR_F64 || ir_type_is_wide(t)) {
        if (rmw)
            return fail(v, "atomic_rmw needs an integer type");
        if (bytes * 8 != ir_type_bits(t))
            return fail(v, "memop of %u bytes for %s", bytes, ir_type_name(t));
        if (IR_MO_IS_SIGNED(mo))
            return fail(v, "signed memop for %s", ir_type_name(t));
    } else {
        return fail(v, "memory op of type %s", ir_type_name(t));
    }
    return true;
}

static bool check_env_range(VCtx *v, uint64_t off, IrType t)
{
    const IrBlock *b = v->b;
    uint64_t end = off + ir_type_bits(t) / 8;
    if (off > UINT32_MAX)
        return fail(v, "env offset 0x%llx is too big", (unsigned long long)off);
    uint32_t ng = b->globals && b->globals->count ? b->globals->count : 1;
    for (uint32_t g = 1; g < ng && g < b->n_temps; g++) {
        uint64_t go = b->temps[g].env_offset;
        uint64_t ge = go + ir_type_bits((IrType)b->temps[g].type) / 8;
        if (off < ge && go < end)
            return fail(v, "env range [0x%llx,0x%llx) overlaps global %s",
                        (unsigned long long)off, (unsigned long long)end,
                        b->temps[g].name ? b->temps[g].name : "?");
    }
    return true;
}

static bool check_bitfield(VCtx *v, IrType t, uint64_t pos, uint64_t len)
{
    unsigned w = ir_type_bits(t);
    if (len == 0 || len > w || pos > w - len)
        return fail(v, "bitfield pos %llu len %llu does not fit %s", (unsigned long long)pos,
                    (unsigned long long)len, ir_type_name(t));
    return true;
}

static bool check_call(VCtx *v, const IrInst *op)
{
    if (op->c[0] >= IR_HELPER_COUNT)
        return fail(v, "helper id %llu is not defined", (unsigned long long)op->c[0]);
    const IrHelperInfo *h = &ir_helper_info[op->c[0]];
    if (op->type != h->ret)
        return fail(v, "type %s but helper %s returns %s", ir_type_name((IrType)op->type),
                    h->name, ir_type_name((IrType)h->ret));
    if (h->ret == IR_VOID) {
        if (op->args[0])
            return fail(v, "void helper %s given an output", h->name);
    } else {
        if (!op->args[0])
            return fail(v, "helper %s result has no output temp", h->name);
        if (!want(v, op, 0, (IrType)h->ret))
            return false;
    }
    for (unsigned i = 0; i < 5; i++) {
        IrTemp x = op->args[1 + i];
        if (i < h->n_args) {
            if (!x)
                return fail(v, "helper %s needs %u arguments, got %u", h->name, h->n_args, i);
            if (!want(v, op, 1 + i, (IrType)h->args[i + h->takes_env]))
                return false;
        } else if (x) {
            return fail(v, "helper %s takes %u arguments, got more", h->name, h->n_args);
        }
    }
    return true;
}

/* Type and constant rules of one op. */
static bool check_op(VCtx *v, const IrInst *op)
{
    const IrOpInfo *oi = &ir_op_info[op->opc];
    IrType t = (IrType)op->type;
    unsigned na = oi->n_out + oi->n_in;
    if ((unsigned)t >= IR_TYPE_COUNT)
        return fail(v, "bad type %u", (unsigned)t);
    if ((oi->flags & IR_OPF_INT) && !ir_type_is_int(t))
        return fail(v, "type %s is not an integer type", ir_type_name(t));
    if ((oi->flags & IR_OPF_ANY_TYPE) && t == IR_VOID && op->opc != IR_OP_call)
        return fail(v, "type void");

    switch (op->opc) {
    case IR_OP_nop: case IR_OP_insn_start:
        return true;
    case IR_OP_mov:
        return want(v, op, 0, t) && want(v, op, 1, t);
    case IR_OP_zext: case IR_OP_sext: {
        IrType f = ttype(v->b, op->args[1]);
        if (!ir_type_is_int(f) || ir_type_bits(f) > ir_type_bits(t))
            return fail(v, "cannot extend %s to %s", ir_type_name(f), ir_type_name(t));
        return want(v, op, 0, t);
    }
    case IR_OP_trunc: {
        IrType f = ttype(v->b, op->args[1]);
        if (!(ir_type_is_int(f) || ir_type_is_wide(f)) || ir_type_bits(f) < ir_type_bits(t))
            return fail(v, "cannot truncate %s to %s", ir_type_name(f), ir_type_name(t));
        return want(v, op, 0, t);
    }
    case IR_OP_bitcast: {
        IrType f = ttype(v->b, op->args[1]);
        if (f == IR_VOID || ir_type_bits(f) != ir_type_bits(t))
            return fail(v, "cannot bitcast %s to %s", ir_type_name(f), ir_type_name(t));
        return want(v, op, 0, t);
    }
    case IR_OP_concat:
        if (!ir_type_is_wide(t))
            return fail(v, "concat makes i128 or v128, not %s", ir_type_name(t));
        return want(v, op, 0, t) && want(v, op, 1, IR_I64) && want(v, op, 2, IR_I64);
    case IR_OP_high64:
        if (t != IR_I64)
            return fail(v, "type must be i64");
        if (!ir_type_is_wide(ttype(v->b, op->args[1])))
            return fail(v, "input must be i128 or v128");
        return want(v, op, 0, IR_I64);
    case IR_OP_extract: case IR_OP_sextract: case IR_OP_deposit:
        if (!check_bitfield(v, t, op->c[0], op->c[1]))
            return false;
        break; /* operand types below */
    case IR_OP_setcond: case IR_OP_movcond:
        if (op->c[0] >= IR_COND_COUNT)
            return fail(v, "bad condition %llu", (unsigned long long)op->c[0]);
        break;
    case IR_OP_brcond:
        if (op->c[0] >= IR_COND_COUNT)
            return fail(v, "bad condition %llu", (unsigned long long)op->c[0]);
        return want(v, op, 0, t) && want(v, op, 1, t);
    case IR_OP_ld:
        return check_memop(v, t, (IrMemOp)op->c[0], false) && want(v, op, 0, t) &&
               want(v, op, 1, IR_I64);
    case IR_OP_st:
        return check_memop(v, t, (IrMemOp)op->c[0], false) && want(v, op, 0, IR_I64) &&
               want(v, op, 1, t);
    case IR_OP_cmpxchg:
        return check_memop(v, t, (IrMemOp)op->c[0], false) && want(v, op, 0, t) &&
               want(v, op, 1, IR_I64) && want(v, op, 2, t) && want(v, op, 3, t);
    case IR_OP_atomic_rmw:
        if (op->c[1] >= IR_RMW_COUNT)
            return fail(v, "bad rmw op %llu", (unsigned long long)op->c[1]);
        return check_memop(v, t, (IrMemOp)op->c[0], true) && want(v, op, 0, t) &&
               want(v, op, 1, IR_I64) && want(v, op, 2, t);
    case IR_OP_fence:
        if (op->c[0] > IR_FENCE_STORE)
            return fail(v, "bad fence kind %llu", (unsigned long long)op->c[0]);
        return true;
    case IR_OP_prefetch:
        if (op->c[0] >= IR_PREFETCH_COUNT)
            return fail(v, "bad prefetch hint %llu", (unsigned long long)op->c[0]);
        return want(v, op, 0, IR_I64);
    case IR_OP_ldenv:
        return check_env_range(v, op->c[0], t) && want(v, op, 0, t);
    case IR_OP_stenv:
        return check_env_range(v, op->c[0], t) && want(v, op, 0, t);
    case IR_OP_call:
        return check_call(v, op);
    case IR_OP_label: case IR_OP_br:
        if (op->c[0] >= v->b->n_labels)
            return fail(v, "label L%llu was never allocated", (unsigned long long)op->c[0]);
        return true;
    case IR_OP_goto_tb:
        if (op->c[0] >= IR_GOTO_TB_SLOTS)
            return fail(v, "chain slot %llu (must be below %d)", (unsigned long long)op->c[0],
                        IR_GOTO_TB_SLOTS);
        return true;
    case IR_OP_goto_ptr:
        return want(v, op, 0, IR_I64);
    case IR_OP_exit:
        if (op->c[0] >= IR_EXIT_COUNT)
            return fail(v, "bad exit reason %llu", (unsigned long long)op->c[0]);
        return true;
    default:
        break;
    }
    /* plain integer ops: every operand has type T */
    for (unsigned k = 0; k < na; k++)
        if (!want(v, op, k, t))
            return false;
    return true;
}

bool ir_verify(const IrBlock *b, char *err, size_t errlen)
{
    VCtx v = {.b = b, .err = err, .errlen = errlen, .i = UINT32_MAX};
    bool ok = false;
    uint8_t *defined = calloc(b->n_temps ? b->n_temps : 1, 1);
    uint8_t *label_def = calloc(b->n_labels + 1, 1);
    if (!defined || !label_def) {
        fail(&v, "out of memory");
        goto out;
    }
    uint32_t ng = b->globals && b->globals->count ? b->globals->count : 1;
    if (ng > b->n_temps) {
        fail(&v, "fewer temps than globals");
        goto out;
    }
    for (IrTemp t = 1; t < b->n_temps; t++) {
        const IrTempInfo *ti = &b->temps[t];
        if ((t < ng) != (ti->kind == IR_TEMP_GLOBAL)) {
            fail(&v, "temp %u: globals must be exactly temps 1..%u", t, ng - 1);
            goto out;
        }
        if (ti->type == IR_VOID || ti->type >= IR_TYPE_COUNT) {
            fail(&v, "temp %u has no valid type", t);
            goto out;
        }
    }

    bool seen_start = false;
    const IrInst *last = NULL;
    for (v.i = 0; v.i < b->n_ops; v.i++) {
        const IrInst *op = &b->ops[v.i];
        if (op->dead)
            continue;
        if (op->opc >= IR_OP_COUNT) {
            fail(&v, "bad opcode %u", op->opc);
            goto out;
        }
        const IrOpInfo *oi = &ir_op_info[op->opc];
        unsigned na = oi->n_out + oi->n_in;
        last = op;
        if (op->opc == IR_OP_insn_start)
            seen_start = true;
        else if (op->opc != IR_OP_nop && !seen_start) {
            fail(&v, "comes before the first insn_start");
            goto out;
        }
        if (b->n_insns && op->insn_idx >= b->n_insns) {
            fail(&v, "guest insn index %u out of range", op->insn_idx);
            goto out;
        }
        /* arity */
        for (unsigned k = 0; k < IR_MAX_ARGS; k++) {
            IrTemp x = op->args[k];
            if (k >= na) {
                if (x) {
                    fail(&v, "operand slot %u must be empty (op has %u)", k, na);
                    goto out;
                }
                continue;
            }
            if (x >= b->n_temps) {
                fail(&v, "operand %u: temp %u does not exist", k, x);
                goto out;
            }
            if (!x && op->opc != IR_OP_call) {
                fail(&v, "operand %u is missing", k);
                goto out;
            }
        }
        if (!check_op(&v, op))
            goto out;
        /* def before use, outputs not constants */
        for (unsigned k = oi->n_out; k < na; k++) {
            IrTemp x = op->args[k];
            if (x && b->temps[x].kind == IR_TEMP_LOCAL && !defined[x]) {
                fail(&v, "local t%u is read before it is written", x);
                goto out;
            }
        }
        for (unsigned k = 0; k < oi->n_out; k++) {
            IrTemp x = op->args[k];
            if (!x)
                continue;
            if (b->temps[x].kind == IR_TEMP_CONST) {
                fail(&v, "writes the constant temp %u", x);
                goto out;
            }
            defined[x] = 1;
        }
        if (op->opc == IR_OP_label) {
            if (label_def[op->c[0]]) {
                fail(&v, "label L%llu defined twice", (unsigned long long)op->c[0]);
                goto out;
            }
            label_def[op->c[0]] = 1;
        }
        if (op->opc == IR_OP_brcond && op->c[1] >= b->n_labels) {
            fail(&v, "label L%llu was never allocated", (unsigned long long)op->c[1]);
            goto out;
        }
    }
    /* branch targets must exist somewhere in the block */
    for (v.i = 0; v.i < b->n_ops; v.i++) {
        const IrInst *op = &b->ops[v.i];
        if (op->dead)
            continue;
        uint64_t l = op->opc == IR_OP_br ? op->c[0] : op->opc == IR_OP_brcond ? op->c[1] : UINT64_MAX;
        if (l != UINT64_MAX && !label_def[l]) {
            fail(&v, "branch to L%llu, which is never placed", (unsigned long long)l);
            goto out;
        }
    }
    v.i = UINT32_MAX;
    if (!last || !(ir_op_info[last->opc].flags & IR_OPF_EXIT)) {
        fail(&v, "the last op must be an exit (goto_tb, goto_ptr or exit)");
        goto out;
    }
    for (uint32_t k = 0; k < b->n_insns; k++) {
        uint32_t f = b->insns[k].first_op;
        if (f >= b->n_ops || b->ops[f].opc != IR_OP_insn_start || b->ops[f].insn_idx != k) {
            fail(&v, "guest insn %u does not point at its insn_start", k);
            goto out;
        }
    }
    ok = true;
out:
    free(defined);
    free(label_def);
    return ok;
}
