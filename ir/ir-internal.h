/*
 * ir-internal.h - declarations shared by the files of ir/ only.
 */
#ifndef EMU_IR_IR_INTERNAL_H
#define EMU_IR_IR_INTERNAL_H

#include "ir/ir.h"
#include "ir/ir-helpers.h"

/* Abort with a message: out of memory inside the IR (no sane recovery). */
_Noreturn void ir_oom(void);

/* Result of simplifying one op (ir-fold.c). */
typedef enum IrSimpKind {
    IR_SIMP_NONE,   /* keep the op */
    IR_SIMP_CONST,  /* the output is the constant temp `temp` */
    IR_SIMP_COPY,   /* the output equals input temp `temp` */
    IR_SIMP_DROP,   /* the op does nothing (brcond never taken) */
    IR_SIMP_BR,     /* brcond always taken: becomes br to its label */
} IrSimpKind;

typedef struct IrSimp {
    IrSimpKind kind;
    IrTemp temp;
} IrSimp;

/* Simplify op (opc, t, args, c) as the builder and the fold pass both do:
 * constant inputs are evaluated with ir-eval.h, identities removed.  May
 * create constant temps in b. */
IrSimp ir_simplify(IrBlock *b, IrOpcode opc, IrType t, const IrTemp *args, const uint64_t *c);

/* True if op i has no effect beyond writing its outputs and cannot fault
 * (candidates for DCE and dead-flag removal). */
bool ir_inst_is_removable(const IrInst *op);

/* Helper-call properties of a call op (false for other ops). */
bool ir_call_reads_globals(const IrInst *op);
bool ir_call_writes_globals(const IrInst *op);
bool ir_call_can_fault(const IrInst *op);

static inline unsigned ir_inst_nargs(const IrInst *op)
{
    const IrOpInfo *oi = &ir_op_info[op->opc];
    return oi->n_out + oi->n_in;
}

#endif /* EMU_IR_IR_INTERNAL_H */
