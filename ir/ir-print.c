/*
 * ir-print.c - human-readable IR, one op per line (for -d ir and tests):
 *
 *   block pc=0x400000 flags=0x0: 2 insns, 5 ops
 *    ---- insn 0 pc 0x400000 len 4
 *     i64 t40 = add x1, $0x4
 *     i64 x0 = mov t40
 *     brcond.i64 lt x0, $0x3, L0
 *   L0:
 *     goto_tb 0, 0x400004
 *
 * Globals print by name, locals as tN, constants as $0x... (128-bit ones as
 * $0xHI:LO).
 */
#include "ir/ir.h"

#include <inttypes.h>

#include "ir/ir-helpers.h"

static void print_temp(const IrBlock *b, IrTemp t, FILE *out)
{
    if (t == IR_TEMP_NONE || t >= b->n_temps) {
        fprintf(out, t == IR_TEMP_NONE ? "_" : "<bad t%u>", t);
        return;
    }
    const IrTempInfo *ti = &b->temps[t];
    switch (ti->kind) {
    case IR_TEMP_GLOBAL:
        if (ti->name)
            fputs(ti->name, out);
        else
            fprintf(out, "g%u", t);
        break;
    case IR_TEMP_CONST:
        if (ir_type_is_wide((IrType)ti->type))
            fprintf(out, "$0x%" PRIx64 ":%016" PRIx64, ti->val[1], ti->val[0]);
        else
            fprintf(out, "$0x%" PRIx64, ti->val[0]);
        break;
    default:
        fprintf(out, "t%u", t);
        break;
    }
}

static void print_memop(IrMemOp mo, FILE *out)
{
    fprintf(out, "%c%u", IR_MO_IS_SIGNED(mo) ? 's' : 'u', IR_MO_BYTES(mo) * 8);
    if (IR_MO_ALIGN_LOG2(mo))
        fprintf(out, " al%u", 1u << IR_MO_ALIGN_LOG2(mo));
    if (IR_MO_MMU_IDX(mo))
        fprintf(out, " mmu%u", IR_MO_MMU_IDX(mo));
}

static const char *exit_name(uint64_t r)
{
    static const char *const names[IR_EXIT_COUNT] = {
        "none", "syscall", "undef", "breakpoint", "halt", "exception", "smc", "fetch_fault",
    };
    return r < IR_EXIT_COUNT ? names[r] : "?";
}

static const char *rmw_name(uint64_t r)
{
    static const char *const names[IR_RMW_COUNT] = {
        "xchg", "add", "and", "or", "xor", "andc", "smax", "smin", "umax", "umin",
    };
    return r < IR_RMW_COUNT ? names[r] : "?";
}

static const char *fence_name(uint64_t f)
{
    return f == IR_FENCE_FULL ? "full" : f == IR_FENCE_LOAD ? "load" : f == IR_FENCE_STORE ? "store" : "?";
}

static const char *prefetch_name(uint64_t h)
{
    static const char *const names[IR_PREFETCH_COUNT] = {"l1", "l2", "l3", "stream", "write"};
    return h < IR_PREFETCH_COUNT ? names[h] : "?";
}

void ir_print_inst(const IrBlock *b, const IrInst *op, FILE *out)
{
    if (op->opc >= IR_OP_COUNT) {
        fprintf(out, "  <bad opcode %u>\n", op->opc);
        return;
    }
    const IrOpInfo *oi = &ir_op_info[op->opc];
    const IrTemp *in = op->args + oi->n_out;
    unsigned n_in = oi->n_in;
    const char *type = ir_type_name((IrType)op->type);

    switch (op->opc) {
    case IR_OP_insn_start:
        fprintf(out, " ---- insn %u pc 0x%" PRIx64 " len %" PRIu64 "\n", op->insn_idx, op->c[0],
                op->c[1]);
        return;
    case IR_OP_label:
        fprintf(out, "L%" PRIu64 ":\n", op->c[0]);
        return;
    case IR_OP_br:
        fprintf(out, "  br L%" PRIu64 "\n", op->c[0]);
        return;
    case IR_OP_brcond:
        fprintf(out, "  brcond.%s %s ", type, ir_cond_name((IrCond)op->c[0]));
        print_temp(b, in[0], out);
        fputs(", ", out);
        print_temp(b, in[1], out);
        fprintf(out, ", L%" PRIu64 "\n", op->c[1]);
        return;
    case IR_OP_goto_tb:
        fprintf(out, "  goto_tb %" PRIu64 ", 0x%" PRIx64 "\n", op->c[0], op->c[1]);
        return;
    case IR_OP_goto_ptr:
        fputs("  goto_ptr ", out);
        print_temp(b, in[0], out);
        fputc('\n', out);
        return;
    case IR_OP_exit:
        fprintf(out, "  exit %s, 0x%" PRIx64 "\n", exit_name(op->c[0]), op->c[1]);
        return;
    case IR_OP_fence:
        fprintf(out, "  fence %s\n", fence_name(op->c[0]));
        return;
    case IR_OP_prefetch:
        fprintf(out, "  prefetch %s [", prefetch_name(op->c[0]));
        print_temp(b, in[0], out);
        fputs("]\n", out);
        return;
    case IR_OP_st:
        fprintf(out, "  st.%s ", type);
        print_memop((IrMemOp)op->c[0], out);
        fputs(" [", out);
        print_temp(b, in[0], out);
        fputs("], ", out);
        print_temp(b, in[1], out);
        fputc('\n', out);
        return;
    case IR_OP_stenv:
        fprintf(out, "  stenv.%s [env+0x%" PRIx64 "], ", type, op->c[0]);
        print_temp(b, in[0], out);
        fputc('\n', out);
        return;
    case IR_OP_nop:
        fputs("  nop\n", out);
        return;
    default:
        break;
    }

    /* value-producing ops: "  T out = name operands" */
    fputs("  ", out);
    if (oi->n_out && op->args[0]) {
        fprintf(out, "%s ", type);
        print_temp(b, op->args[0], out);
        fputs(" = ", out);
    }
    fputs(oi->name, out);
    switch (op->opc) {
    case IR_OP_setcond: case IR_OP_movcond:
        fprintf(out, " %s", ir_cond_name((IrCond)op->c[0]));
        break;
    case IR_OP_ld: case IR_OP_cmpxchg: case IR_OP_atomic_rmw:
        if (op->opc == IR_OP_atomic_rmw)
            fprintf(out, " %s", rmw_name(op->c[1]));
        fputc(' ', out);
        print_memop((IrMemOp)op->c[0], out);
        fputs(" [", out);
        print_temp(b, in[0], out);
        fputc(']', out);
        in++;
        n_in--;
        if (n_in)
            fputc(',', out);
        break;
    case IR_OP_ldenv:
        fprintf(out, " [env+0x%" PRIx64 "]", op->c[0]);
        break;
    case IR_OP_call:
        fprintf(out, " %s(", op->c[0] < IR_HELPER_COUNT ? ir_helper_info[op->c[0]].name : "?");
        for (unsigned i = 0; i < n_in && in[i]; i++) {
            if (i)
                fputs(", ", out);
            print_temp(b, in[i], out);
        }
        fputs(")\n", out);
        return;
    default:
        break;
    }
    for (unsigned i = 0; i < n_in; i++) {
        fputs(i ? ", " : " ", out);
        print_temp(b, in[i], out);
    }
    if (op->opc == IR_OP_extract || op->opc == IR_OP_sextract || op->opc == IR_OP_deposit)
        fprintf(out, ", %" PRIu64 ", %" PRIu64, op->c[0], op->c[1]);
    fputc('\n', out);
}

void ir_print(const IrBlock *b, FILE *out)
{
    fprintf(out, "block pc=0x%" PRIx64 " flags=0x%x: %u insns, %u ops\n", b->pc, b->flags,
            b->n_insns, b->n_ops);
    for (uint32_t i = 0; i < b->n_ops; i++)
        if (!b->ops[i].dead)
            ir_print_inst(b, &b->ops[i], out);
}
