/*
 * a64-addr.c - AArch64 addressing modes (see a64-addr.h).  Addresses are
 * computed into locals so the access can fault before any global changes.
 */
#include "frontend/aarch64/a64-addr.h"

IrTemp a64_extend_reg(DisasContext *s, int rm, int option, int shift)
{
    IrBlock *b = a64_ir(s);
    IrTemp v = a64_get_x(s, rm);
    static const IrType narrow[4] = {IR_I8, IR_I16, IR_I32, IR_I64};
    IrType from = narrow[option & 3];

    if (from != IR_I64) {
        IrTemp t = ir_trunc(b, from, IR_I64, v);
        v = (option & 4) ? ir_sext(b, IR_I64, from, t) : ir_zext(b, IR_I64, from, t);
    }
    if (shift)
        v = ir_shl(b, IR_I64, v, ir_const(b, IR_I64, (uint64_t)shift));
    return v;
}

A64Addr a64_addr_imm(DisasContext *s, int rn, int64_t offset, A64IndexMode mode)
{
    IrBlock *b = a64_ir(s);
    IrTemp base = a64_get_xsp(s, rn);
    IrTemp sum = ir_add(b, IR_I64, base, ir_const(b, IR_I64, (uint64_t)offset));
    A64Addr a = {.rn = rn, .wb = IR_TEMP_NONE};

    switch (mode) {
    case A64_IDX_OFFSET:
        a.addr = sum;
        break;
    case A64_IDX_POST:
        a.addr = base;
        a.wb = sum;
        break;
    case A64_IDX_PRE:
        a.addr = sum;
        a.wb = sum;
        break;
    }
    /* The base is a global that the instruction may overwrite (Rt == Rn
     * loads): keep the address in a local so later writes don't move it. */
    if (a.addr == base) {
        a.addr = ir_new_temp(b, IR_I64);
        ir_mov(b, IR_I64, a.addr, base);
    }
    return a;
}

bool a64_addr_regoff(DisasContext *s, A64Addr *out, int rn, int rm, int option,
                     int shift)
{
    IrBlock *b = a64_ir(s);

    if (!(option & 2))
        return false;
    IrTemp off = a64_extend_reg(s, rm, option, shift);
    out->addr = ir_add(b, IR_I64, a64_get_xsp(s, rn), off);
    out->wb = IR_TEMP_NONE;
    out->rn = rn;
    return true;
}

A64Addr a64_addr_literal(DisasContext *s, int64_t offset)
{
    A64Addr a = {.rn = -1, .wb = IR_TEMP_NONE};
    a.addr = ir_const(a64_ir(s), IR_I64, s->pc_curr + (uint64_t)offset);
    return a;
}

void a64_addr_writeback(DisasContext *s, const A64Addr *a)
{
    if (a->wb != IR_TEMP_NONE)
        a64_set_xsp(s, a->rn, a->wb);
}
