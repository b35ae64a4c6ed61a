/*
 * a64-simd-ldst.c - AdvSIMD structure loads and stores (a64-simd.decode):
 * LD1-LD4/ST1-ST4 (multiple structures), LD1-LD4/ST1-ST4 (single lane),
 * LD1R-LD4R, with optional post-index (immediate or register).
 *
 * Element i of register t of an N-element structure lives at
 * base + (i * N + t) * esize.  All memory accesses are emitted before any
 * register is written and before the base writeback, so a fault leaves the
 * guest state as it was (ARCHITECTURE.md, precise exceptions).
 */
#include "frontend/aarch64/a64-fp.h"
#include "frontend/aarch64/a64-simd-decode.h"

/* Base writeback of the post-indexed forms: Rm = 31 means "by the bytes
 * transferred". */
static void post_index(DisasContext *s, int rn, int rm, IrTemp base, unsigned bytes)
{
    IrBlock *b = a64_ir(s);
    IrTemp inc = rm == 31 ? ir_const(b, IR_I64, bytes) : a64_get_x(s, rm);
    a64_set_xsp(s, rn, ir_add(b, IR_I64, base, inc));
}

bool trans_V_LDST_MULT(DisasContext *s, arg_V_LDST_MULT *a)
{
    /* opcode -> registers, structure elements */
    static const signed char nregs[16] = { 4, -1, 4, -1, 3, -1, 3, 1, 2, -1, 2, -1, -1, -1, -1, -1 };
    static const signed char selem[16] = { 4, -1, 1, -1, 3, -1, 1, 1, 2, -1, 1, -1, -1, -1, -1, -1 };
    IrBlock *b = a64_ir(s);
    int nr = nregs[a->opc], ne = selem[a->opc];
    if (nr < 0 || (a->size == 3 && !a->q && ne > 1) || (!a->p && a->rm != 0))
        return false;
    int esize = 1 << a->size, vbytes = a->q ? 16 : 8;
    int elems = vbytes / esize;
    IrTemp base = a64_get_xsp(s, a->rn);
    IrTemp vals[4 * 16];
    int nv = 0;
    if (ne == 1) {
        /* LD1/ST1 of 1-4 registers: whole registers, contiguous */
        for (int r = 0; r < nr; r++) {
            int t = (a->rt + r) & 31;
            IrTemp addr = ir_add(b, IR_I64, base, ir_const(b, IR_I64, (uint64_t)r * vbytes));
            IrType ty = a->q ? IR_V128 : IR_I64;
            IrMemOp mo = a->q ? IR_MO_128 : IR_MO_64;
            if (a->l)
                vals[nv++] = ir_ld(b, ty, addr, mo);
            else
                ir_st(b, ty, addr, a64_vreg_read(s, t, a->q ? 4 : 3), mo);
        }
        if (a->l)
            for (int r = 0; r < nr; r++)
                a64_vreg_write_zext(s, (a->rt + r) & 31, a->q ? 4 : 3, vals[r]);
    } else {
        /* LD2-LD4/ST2-ST4: element by element, de-interleaving */
        IrType ty = a64_int_type(a->size);
        for (int i = 0; i < elems; i++)
            for (int r = 0; r < ne; r++) {
                int t = (a->rt + r) & 31;
                IrTemp addr = ir_add(b, IR_I64, base,
                                     ir_const(b, IR_I64, (uint64_t)(i * ne + r) * esize));
                if (a->l)
                    vals[nv++] = ir_ld(b, ty, addr, a64_memop(a->size, false));
                else
                    ir_st(b, ty, addr, ir_ldenv(b, ty, a64_vreg_off(t, i * esize)),
                          a64_memop(a->size, false));
            }
        if (a->l) {
            for (int r = 0; r < ne; r++) {
                int t = (a->rt + r) & 31;
                if (!a->q)
                    a64_vreg_clear_high(s, t);
                for (int i = 0; i < elems; i++)
                    a64_vreg_write_elt(s, t, a->size, i, vals[i * ne + r]);
            }
        }
    }
    if (a->p)
        post_index(s, a->rn, a->rm, base, (unsigned)(nr * vbytes));
    return true;
}

bool trans_V_LDST_SINGLE(DisasContext *s, arg_V_LDST_SINGLE *a)
{
    IrBlock *b = a64_ir(s);
    int ne = ((a->opc & 1) << 1 | a->r) + 1;
    int scale = a->opc >> 1, idx;
    bool replicate = false;
    if (!a->p && a->rm != 0)
        return false;
    switch (scale) {
    case 3:                                          /* LDnR */
        if (!a->l || a->s)
            return false;
        scale = a->size;
        replicate = true;
        idx = 0;
        break;
    case 0:
        idx = a->q << 3 | a->s << 2 | a->size;
        break;
    case 1:
        if (a->size & 1)
            return false;
        idx = a->q << 2 | a->s << 1 | (a->size >> 1);
        break;
    default:                                         /* 2: S or D */
        if (a->size & 2)
            return false;
        if (a->size & 1) {
            if (a->s)
                return false;
            scale = 3;
            idx = a->q;
        } else {
            idx = a->q << 1 | a->s;
        }
        break;
    }
    int esize = 1 << scale;
    IrType ty = a64_int_type(scale);
    IrTemp base = a64_get_xsp(s, a->rn);
    IrTemp vals[4];
    for (int r = 0; r < ne; r++) {
        IrTemp addr = ir_add(b, IR_I64, base, ir_const(b, IR_I64, (uint64_t)r * esize));
        int t = (a->rt + r) & 31;
        if (a->l)
            vals[r] = ir_ld(b, ty, addr, a64_memop(scale, false));
        else
            ir_st(b, ty, addr, ir_ldenv(b, ty, a64_vreg_off(t, idx * esize)), a64_memop(scale, false));
    }
    if (a->l) {
        for (int r = 0; r < ne; r++) {
            int t = (a->rt + r) & 31;
            if (replicate) {
                static const uint64_t rep[4] = { 0x0101010101010101ull, 0x0001000100010001ull,
                                                 0x0000000100000001ull, 1 };
                IrTemp x = scale == 3 ? vals[r] : ir_zext(b, IR_I64, ty, vals[r]);
                IrTemp v = ir_mul(b, IR_I64, x, ir_const(b, IR_I64, rep[scale]));
                a64_vreg_write_zext(s, t, 4,
                                    ir_concat(b, IR_V128, v, a->q ? v : ir_const(b, IR_I64, 0)));
            } else {
                a64_vreg_write_elt(s, t, scale, idx, vals[r]);
            }
        }
    }
    if (a->p)
        post_index(s, a->rn, a->rm, base, (unsigned)(ne * esize));
    return true;
}
