/*
 * a64-trans-branch.c - A64 branches: B, BL, B.cond, CBZ/CBNZ, TBZ/TBNZ,
 * BR, BLR, RET.  Direct targets leave through goto_tb (slot 0: taken or
 * unconditional, slot 1: fall-through; slots 2 and 3: side exits, the taken
 * edges of forward conditional branches the block runs on past), indirect
 * ones through goto_ptr.
 */
#include "frontend/aarch64/a64-int-decode.h"

/* A conditional branch: cond true -> target.  Forward ones become side
 * exits while slots last (the block goes on); the others end the block,
 * so a loop's back edge still ends its block (tier-up counts latches). */
static void a64_branch_cond(DisasContext *s, IrType t, IrCond cond, IrTemp x, IrTemp y,
                            uint64_t target)
{
    IrBlock *b = a64_ir(s);
    if (cond == IR_COND_ALWAYS) {
        a64_goto(s, 0, target);
    } else if (cond == IR_COND_NEVER) {
        a64_goto(s, 1, s->base.pc_next);
    } else if (target > s->pc_curr && s->n_side < A64_SIDE_EXITS) {
        uint32_t taken = ir_new_label(b);
        ir_brcond(b, t, cond, x, y, taken);
        s->side_label[s->n_side] = taken;
        s->side_insn[s->n_side] = b->n_insns - 1;
        s->side_pc[s->n_side++] = target;
        return; /* is_jmp stays DISAS_NEXT */
    } else {
        uint32_t taken = ir_new_label(b);
        ir_brcond(b, t, cond, x, y, taken);
        a64_goto(s, 1, s->base.pc_next);
        ir_label(b, taken);
        a64_goto(s, 0, target);
    }
    s->base.is_jmp = A64_DISAS_JUMP;
}

bool trans_B(DisasContext *s, arg_B *a)
{
    a64_goto(s, 0, s->pc_curr + (int64_t)a->imm26 * 4);
    s->base.is_jmp = A64_DISAS_JUMP;
    return true;
}

bool trans_BL(DisasContext *s, arg_BL *a)
{
    IrBlock *b = a64_ir(s);
    a64_set_x(s, 30, ir_const(b, IR_I64, s->base.pc_next));
    a64_goto(s, 0, s->pc_curr + (int64_t)a->imm26 * 4);
    s->base.is_jmp = A64_DISAS_JUMP;
    return true;
}

bool trans_B_cond(DisasContext *s, arg_B_cond *a)
{
    A64Cond c = a64_cond_fused(s, a->cond);
    a64_branch_cond(s, c.type, c.cond, c.a, c.b, s->pc_curr + (int64_t)a->imm19 * 4);
    return true;
}

bool trans_CBZ(DisasContext *s, arg_CBZ *a)
{
    IrBlock *b = a64_ir(s);
    IrType t = a64_sf_type(a->sf);
    IrTemp v = a64_get_r(s, a->rt, a->sf);
    a64_branch_cond(s, t, a->nz ? IR_COND_NE : IR_COND_EQ, v, ir_const(b, t, 0),
                    s->pc_curr + (int64_t)a->imm19 * 4);
    return true;
}

bool trans_TBZ(DisasContext *s, arg_TBZ *a)
{
    IrBlock *b = a64_ir(s);
    unsigned bit = (unsigned)(a->b5 << 5 | a->b40);
    IrTemp v = a64_get_x(s, a->rt);
    a64_branch_cond(s, IR_I64, a->nz ? IR_COND_TSTNE : IR_COND_TSTEQ, v,
                    ir_const(b, IR_I64, 1ull << bit), s->pc_curr + (int64_t)a->imm14 * 4);
    return true;
}

/* Indirect jump to the value of Xn (read before any link write).  At a
 * call (BLR) or a return (RET) NZCV is dead: AAPCS64 keeps no flags across
 * either, so the block need not leave them in the CPU state. */
static bool a64_branch_reg(DisasContext *s, int rn, bool link, bool flags_dead)
{
    IrBlock *b = a64_ir(s);
    b->ptr_flags_dead = flags_dead;
    IrTemp dest = ir_new_temp(b, IR_I64);
    ir_mov(b, IR_I64, dest, a64_get_x(s, rn));
    if (link)
        a64_set_x(s, 30, ir_const(b, IR_I64, s->base.pc_next));
    ir_goto_ptr(b, dest);
    s->base.is_jmp = A64_DISAS_JUMP;
    return true;
}

bool trans_BR(DisasContext *s, arg_BR *a)
{
    return a64_branch_reg(s, a->rn, false, false);
}

bool trans_BLR(DisasContext *s, arg_BLR *a)
{
    return a64_branch_reg(s, a->rn, true, true);
}

bool trans_RET(DisasContext *s, arg_RET *a)
{
    return a64_branch_reg(s, a->rn, false, true);
}
