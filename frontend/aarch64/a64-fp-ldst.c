/*
 * a64-fp-ldst.c - loads and stores of B/H/S/D/Q registers (a64-fp.decode):
 * LDR/STR (unsigned offset, unscaled, pre/post-index, register offset),
 * LDR (literal), LDP/STP/LDNP/STNP.  Addresses come from a64-addr.h; all
 * accesses are emitted before the base writeback and the register writes.
 * A load writes the whole 128-bit register (upper bits zeroed).
 */
#include "frontend/aarch64/a64-addr.h"
#include "frontend/aarch64/a64-fp-decode.h"
#include "frontend/aarch64/a64-fp.h"

/* (size, opc) of the single-register forms -> log2 bytes (0..4) or -1. */
static int ldst_scale(int size, int opc)
{
    if (opc & 2)
        return size == 0 ? 4 : -1;
    return size;
}

static IrTemp fp_load(DisasContext *s, IrTemp addr, int scale)
{
    if (scale == 4)
        return ir_ld(a64_ir(s), IR_V128, addr, IR_MO_128);
    return ir_ld(a64_ir(s), a64_int_type(scale), addr, a64_memop(scale, false));
}

static void fp_store(DisasContext *s, IrTemp addr, int scale, int rt)
{
    IrTemp v = a64_vreg_read(s, rt, scale);
    ir_st(a64_ir(s), scale == 4 ? IR_V128 : a64_int_type(scale), addr, v,
          scale == 4 ? IR_MO_128 : a64_memop(scale, false));
}

static void fp_ldst(DisasContext *s, A64Addr *ad, int scale, bool load, int rt)
{
    if (load) {
        IrTemp v = fp_load(s, ad->addr, scale);
        a64_addr_writeback(s, ad);
        a64_vreg_write_zext(s, rt, scale, v);
    } else {
        fp_store(s, ad->addr, scale, rt);
        a64_addr_writeback(s, ad);
    }
}

bool trans_FP_LDST_UIMM(DisasContext *s, arg_FP_LDST_UIMM *a)
{
    int scale = ldst_scale(a->size, a->opc);
    if (scale < 0)
        return false;
    A64Addr ad = a64_addr_imm(s, a->rn, (int64_t)a->imm << scale, A64_IDX_OFFSET);
    fp_ldst(s, &ad, scale, a->opc & 1, a->rt);
    return true;
}

bool trans_FP_LDST_IDX(DisasContext *s, arg_FP_LDST_IDX *a)
{
    static const int modes[4] = { A64_IDX_OFFSET, A64_IDX_POST, -1, A64_IDX_PRE };
    int scale = ldst_scale(a->size, a->opc);
    if (scale < 0 || modes[a->idx] < 0)
        return false;
    A64Addr ad = a64_addr_imm(s, a->rn, a->imm, (A64IndexMode)modes[a->idx]);
    fp_ldst(s, &ad, scale, a->opc & 1, a->rt);
    return true;
}

bool trans_FP_LDST_REG(DisasContext *s, arg_FP_LDST_REG *a)
{
    int scale = ldst_scale(a->size, a->opc);
    A64Addr ad;
    if (scale < 0 || !a64_addr_regoff(s, &ad, a->rn, a->rm, a->opt, a->s ? scale : 0))
        return false;
    fp_ldst(s, &ad, scale, a->opc & 1, a->rt);
    return true;
}

bool trans_FP_LDR_LIT(DisasContext *s, arg_FP_LDR_LIT *a)
{
    if (a->opc == 3)
        return false;
    A64Addr ad = a64_addr_literal(s, (int64_t)a->imm * 4);
    fp_ldst(s, &ad, a->opc + 2, true, a->rt);
    return true;
}

bool trans_FP_LDSTP(DisasContext *s, arg_FP_LDSTP *a)
{
    static const int modes[4] = { A64_IDX_OFFSET, A64_IDX_POST, A64_IDX_OFFSET, A64_IDX_PRE };
    if (a->opc == 3 || a->idx > 3)
        return false;
    int scale = a->opc + 2;
    A64Addr ad = a64_addr_imm(s, a->rn, (int64_t)a->imm * (1 << scale), (A64IndexMode)modes[a->idx]);
    IrBlock *b = a64_ir(s);
    IrTemp addr2 = ir_add(b, IR_I64, ad.addr, ir_const(b, IR_I64, 1u << scale));
    if (a->l) {
        IrTemp v1 = fp_load(s, ad.addr, scale);
        IrTemp v2 = fp_load(s, addr2, scale);
        a64_addr_writeback(s, &ad);
        a64_vreg_write_zext(s, a->rt, scale, v1);
        a64_vreg_write_zext(s, a->rt2, scale, v2);
    } else {
        fp_store(s, ad.addr, scale, a->rt);
        fp_store(s, addr2, scale, a->rt2);
        a64_addr_writeback(s, &ad);
    }
    return true;
}
