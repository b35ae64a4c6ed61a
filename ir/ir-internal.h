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

/* Helper-call properties of a call op (false for other ops).  Inline: the
 * passes ask for every op of every block. */
static inline const IrHelperInfo *ir_call_helper(const IrInst *op)
{
    if (op->opc != IR_OP_call || op->c[0] >= IR_HELPER_COUNT)
        return NULL;
    return &ir_helper_info[op->c[0]];
}

static inline bool ir_call_reads_globals(const IrInst *op)
{
    const IrHelperInfo *h = ir_call_helper(op);
    return h && (h->flags & (IR_HF_READS_GLOBALS | IR_HF_CAN_FAULT | IR_HF_NORETURN));
}

static inline bool ir_call_writes_globals(const IrInst *op)
{
    const IrHelperInfo *h = ir_call_helper(op);
    return h && (h->flags & IR_HF_WRITES_GLOBALS);
}

static inline bool ir_call_can_fault(const IrInst *op)
{
    const IrHelperInfo *h = ir_call_helper(op);
    return h && (h->flags & (IR_HF_CAN_FAULT | IR_HF_NORETURN));
}

/* True if op has no effect beyond writing its outputs and cannot fault
 * (candidates for DCE and dead-flag removal). */
static inline bool ir_inst_is_removable(const IrInst *op)
{
    if (op->opc >= IR_OP_COUNT)
        return false;
    const IrOpInfo *oi = &ir_op_info[op->opc];
    if (oi->flags & (IR_OPF_SIDE_EFFECTS | IR_OPF_CAN_FAULT | IR_OPF_BRANCH | IR_OPF_EXIT |
                     IR_OPF_NOT_PRESENT))
        return false;
    if (op->opc == IR_OP_call) {
        /* only a pure helper whose result nobody wants may go */
        const IrHelperInfo *h = ir_call_helper(op);
        return h && (h->flags & IR_HF_PURE) &&
               !(h->flags & (IR_HF_CAN_FAULT | IR_HF_NORETURN | IR_HF_WRITES_GLOBALS));
    }
    return oi->n_out > 0;
}

/* ir_emit for an op that ir_simplify() already saw with these inputs (and
 * kept), or one it never simplifies.  ir_emit itself marks the block
 * "unsimplified"; so do passes that rewrite inputs.  The fold pass
 * re-simplifies only ops whose inputs it changed unless the block is so
 * marked: re-running ir_simplify on an op it kept gives the same answer. */
uint32_t ir_emit_simplified(IrBlock *b, IrOpcode opc, IrType t, const IrTemp *args,
                            const uint64_t *consts);
void ir_block_mark_unsimplified(IrBlock *b);
bool ir_block_unsimplified(const IrBlock *b);

/* Zeroed working memory owned by b (reused from block to block): valid
 * until the next call on b, so a pass asks once for all its arrays. */
void *ir_block_scratch(IrBlock *b, size_t bytes);

static inline unsigned ir_inst_nargs(const IrInst *op)
{
    const IrOpInfo *oi = &ir_op_info[op->opc];
    return oi->n_out + oi->n_in;
}

#endif /* EMU_IR_IR_INTERNAL_H */
