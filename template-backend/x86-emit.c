/*
 * x86-emit.c - x86-64 instruction encoding (see x86-emit.h).
 *
 * Every instruction goes through emit_op(): legacy prefixes, REX (W/R/X/B
 * and the forced REX for byte registers 4..7), the opcode (1-3 bytes) and a
 * ModRM operand that is either a register or an X86Mem (SIB when there is an
 * index or the base is rsp/r12, disp8/disp32 as small as possible, rbp/r13
 * bases always carry a displacement).
 */
#include "template-backend/x86-emit.h"

#include <string.h>

enum {
    F_66 = 1 << 0,    /* operand-size prefix */
    F_F3 = 1 << 1,
    F_W = 1 << 2,     /* REX.W */
    F_BYTE = 1 << 3,  /* 8-bit operands: registers 4..7 need a REX */
    F_LOCK = 1 << 4,
};

void x86_u32(X86Buf *b, uint32_t v)
{
    if (__builtin_expect(b->end - b->p >= 4, 1)) {
        memcpy(b->p, &v, 4); /* x86 is little-endian */
        b->p += 4;
        return;
    }
    for (int i = 0; i < 4; i++)
        x86_byte(b, (uint8_t)(v >> (8 * i)));
}

void x86_u64(X86Buf *b, uint64_t v)
{
    x86_u32(b, (uint32_t)v);
    x86_u32(b, (uint32_t)(v >> 32));
}

static unsigned size_flags(int sz)
{
    switch (sz) {
    case 8: return F_BYTE;
    case 16: return F_66;
    case 64: return F_W;
    default: return 0;
    }
}

/* opcode: 0xXX, 0x0FXX or 0x0F38XX/0x0F3AXX. reg is the ModRM reg field (a
 * register or a /digit); exactly one of rm >= 0 / m != NULL. */
static void emit_op(X86Buf *b, unsigned f, uint32_t opc, int reg, int rm, const X86Mem *m)
{
    /* At most 13 bytes: with room for 16, encode straight into the buffer
     * (one bounds check instead of one per byte, which dominated the
     * encoder's cost); near the end go through enc[] and x86_byte. */
    uint8_t enc[16];
    bool direct = b->end - b->p >= 16;
    uint8_t *q = direct ? b->p : enc;
    if (f & F_LOCK)
        *q++ = 0xF0;
    if (f & F_66)
        *q++ = 0x66;
    if (f & F_F3)
        *q++ = 0xF3;
    unsigned rex = 0;
    if (f & F_W)
        rex |= 8;
    if (reg & 8)
        rex |= 4;
    if (m) {
        if (m->index >= 0 && (m->index & 8))
            rex |= 2;
        if (m->base >= 0 && (m->base & 8))
            rex |= 1;
    } else if (rm & 8) {
        rex |= 1;
    }
    bool force = (f & F_BYTE) && ((reg >= 4 && reg <= 7) || (!m && rm >= 4 && rm <= 7));
    if (rex || force)
        *q++ = (uint8_t)(0x40 | rex);
    if (opc > 0xFFFF) {
        *q++ = (uint8_t)(opc >> 16);
        *q++ = (uint8_t)(opc >> 8);
    } else if (opc > 0xFF) {
        *q++ = (uint8_t)(opc >> 8);
    }
    *q++ = (uint8_t)opc;

    unsigned r = (unsigned)reg & 7;
    if (!m) {
        *q++ = (uint8_t)(0xC0 | r << 3 | ((unsigned)rm & 7));
    } else if (m->base < 0) {
        /* [index*s + disp32] or absolute disp32 */
        int index = m->index;
        *q++ = (uint8_t)(r << 3 | 4);
        unsigned idx = index >= 0 ? ((unsigned)index & 7) : 4;
        *q++ = (uint8_t)(m->scale_log2 << 6 | idx << 3 | 5);
        uint32_t d = (uint32_t)m->disp;
        memcpy(q, &d, 4);
        q += 4;
    } else {
        int base = m->base, index = m->index;
        int32_t disp = m->disp;
        unsigned mod;
        if (disp == 0 && (base & 7) != 5)
            mod = 0;
        else if (x86_is_s8(disp))
            mod = 1;
        else
            mod = 2;
        if (index < 0 && (base & 7) != 4) {
            *q++ = (uint8_t)(mod << 6 | r << 3 | ((unsigned)base & 7));
        } else {
            unsigned idx = index >= 0 ? ((unsigned)index & 7) : 4;
            *q++ = (uint8_t)(mod << 6 | r << 3 | 4);
            *q++ = (uint8_t)(m->scale_log2 << 6 | idx << 3 | ((unsigned)base & 7));
        }
        if (mod == 1) {
            *q++ = (uint8_t)disp;
        } else if (mod == 2) {
            uint32_t d = (uint32_t)disp;
            memcpy(q, &d, 4);
            q += 4;
        }
    }
    if (__builtin_expect(direct, 1)) {
        b->p = q;
    } else {
        for (uint8_t *e = enc; e < q; e++)
            x86_byte(b, *e);
    }
}

/* ---- moves ---- */
void x86_mov_rr(X86Buf *b, int sz, int dst, int src)
{
    emit_op(b, size_flags(sz), sz == 8 ? 0x88 : 0x89, src, dst, NULL);
}

void x86_mov_ri(X86Buf *b, int dst, uint64_t imm)
{
    if (imm <= 0xFFFFFFFFu) {            /* mov r32, imm32 zero-extends */
        if (dst & 8)
            x86_byte(b, 0x41);
        x86_byte(b, (uint8_t)(0xB8 + (dst & 7)));
        x86_u32(b, (uint32_t)imm);
    } else if (x86_is_s32((int64_t)imm)) { /* mov r64, simm32 */
        emit_op(b, F_W, 0xC7, 0, dst, NULL);
        x86_u32(b, (uint32_t)imm);
    } else {                              /* movabs */
        x86_byte(b, (uint8_t)(0x48 | ((dst & 8) ? 1 : 0)));
        x86_byte(b, (uint8_t)(0xB8 + (dst & 7)));
        x86_u64(b, imm);
    }
}

size_t x86_movabs(X86Buf *b, int dst, uint64_t imm)
{
    x86_byte(b, (uint8_t)(0x48 | ((dst & 8) ? 1 : 0)));
    x86_byte(b, (uint8_t)(0xB8 + (dst & 7)));
    size_t at = x86_off(b);
    x86_u64(b, imm);
    return at;
}

void x86_load(X86Buf *b, int sz, int dst, X86Mem m)
{
    emit_op(b, size_flags(sz), sz == 8 ? 0x8A : 0x8B, dst, -1, &m);
}

void x86_store(X86Buf *b, int sz, X86Mem m, int src)
{
    emit_op(b, size_flags(sz), sz == 8 ? 0x88 : 0x89, src, -1, &m);
}

/* SSE moves (xmm = 0..15): 16 bytes in one access instead of two GPR
 * halves; movq/movd zero the rest of the xmm register. */
void x86_movdqu_load(X86Buf *b, int xmm, X86Mem m)
{
    emit_op(b, F_F3, 0x0F6F, xmm, -1, &m);
}
void x86_movdqu_store(X86Buf *b, X86Mem m, int xmm)
{
    emit_op(b, F_F3, 0x0F7F, xmm, -1, &m);
}
void x86_movq_xmm_load(X86Buf *b, int xmm, X86Mem m)
{
    emit_op(b, F_F3, 0x0F7E, xmm, -1, &m);
}
void x86_movd_xmm_load(X86Buf *b, int xmm, X86Mem m)
{
    emit_op(b, F_66, 0x0F6E, xmm, -1, &m);
}

/* movd/movq xmm, r32/r64 (66 [REX.W] 0F 6E /r): zeroes the rest. */
void x86_movq_xmm_r(X86Buf *b, int sz, int xmm, int r)
{
    emit_op(b, F_66 | (sz == 64 ? F_W : 0), 0x0F6E, xmm, r, NULL);
}
/* punpcklqdq dst, src: dst[127:64] = src[63:0]. */
void x86_punpcklqdq(X86Buf *b, int dst, int src)
{
    emit_op(b, F_66, 0x0F6C, dst, src, NULL);
}

void x86_store_imm(X86Buf *b, int sz, X86Mem m, int32_t imm)
{
    emit_op(b, size_flags(sz), sz == 8 ? 0xC6 : 0xC7, 0, -1, &m);
    if (sz == 8)
        x86_byte(b, (uint8_t)imm);
    else if (sz == 16) {
        x86_byte(b, (uint8_t)imm);
        x86_byte(b, (uint8_t)(imm >> 8));
    } else
        x86_u32(b, (uint32_t)imm);
}

void x86_movzx_rr(X86Buf *b, int dst, int src, int src_sz)
{
    if (src_sz == 32) {
        x86_mov_rr(b, 32, dst, src);
        return;
    }
    emit_op(b, src_sz == 8 ? F_BYTE : 0, src_sz == 8 ? 0x0FB6 : 0x0FB7, dst, src, NULL);
}

void x86_movsx_rr(X86Buf *b, int dsz, int dst, int src, int src_sz)
{
    unsigned w = dsz == 64 ? F_W : 0;
    if (src_sz == 32)
        emit_op(b, w, 0x63, dst, src, NULL);
    else
        emit_op(b, w | (src_sz == 8 ? F_BYTE : 0), src_sz == 8 ? 0x0FBE : 0x0FBF, dst, src,
                NULL);
}

void x86_movzx_load(X86Buf *b, int dst, X86Mem m, int src_sz)
{
    if (src_sz >= 32) {
        x86_load(b, src_sz, dst, m);
        return;
    }
    emit_op(b, 0, src_sz == 8 ? 0x0FB6 : 0x0FB7, dst, -1, &m);
}

void x86_movsx_load(X86Buf *b, int dsz, int dst, X86Mem m, int src_sz)
{
    unsigned w = dsz == 64 ? F_W : 0;
    if (src_sz == 64 || (src_sz == 32 && dsz == 32)) {
        x86_load(b, src_sz, dst, m);
        return;
    }
    if (src_sz == 32)
        emit_op(b, w, 0x63, dst, -1, &m);
    else
        emit_op(b, w, src_sz == 8 ? 0x0FBE : 0x0FBF, dst, -1, &m);
}

void x86_lea(X86Buf *b, int sz, int dst, X86Mem m)
{
    emit_op(b, sz == 64 ? F_W : 0, 0x8D, dst, -1, &m);
}

/* ---- arithmetic ---- */
void x86_alu_rr(X86Buf *b, X86Alu op, int sz, int dst, int src)
{
    emit_op(b, size_flags(sz), (uint32_t)(op << 3 | (sz == 8 ? 0 : 1)), src, dst, NULL);
}

static void alu_imm(X86Buf *b, X86Alu op, int sz, int rm, const X86Mem *m, int32_t imm)
{
    if (sz == 8) {
        emit_op(b, F_BYTE, 0x80, op, rm, m);
        x86_byte(b, (uint8_t)imm);
    } else if (x86_is_s8(imm)) {
        emit_op(b, size_flags(sz), 0x83, op, rm, m);
        x86_byte(b, (uint8_t)imm);
    } else {
        emit_op(b, size_flags(sz), 0x81, op, rm, m);
        if (sz == 16) {
            x86_byte(b, (uint8_t)imm);
            x86_byte(b, (uint8_t)(imm >> 8));
        } else {
            x86_u32(b, (uint32_t)imm);
        }
    }
}

void x86_alu_ri(X86Buf *b, X86Alu op, int sz, int dst, int32_t imm)
{
    alu_imm(b, op, sz, dst, NULL, imm);
}

void x86_alu_mi(X86Buf *b, X86Alu op, int sz, X86Mem m, int32_t imm)
{
    alu_imm(b, op, sz, -1, &m, imm);
}

void x86_alu_rm(X86Buf *b, X86Alu op, int sz, int dst, X86Mem m)
{
    emit_op(b, size_flags(sz), (uint32_t)(op << 3 | (sz == 8 ? 2 : 3)), dst, -1, &m);
}

void x86_alu_mr(X86Buf *b, X86Alu op, int sz, X86Mem m, int src)
{
    emit_op(b, size_flags(sz), (uint32_t)(op << 3 | (sz == 8 ? 0 : 1)), src, -1, &m);
}

void x86_test_rr(X86Buf *b, int sz, int a, int c)
{
    emit_op(b, size_flags(sz), sz == 8 ? 0x84 : 0x85, c, a, NULL);
}

void x86_test_ri(X86Buf *b, int sz, int a, int32_t imm)
{
    if (sz == 8) {
        emit_op(b, F_BYTE, 0xF6, 0, a, NULL);
        x86_byte(b, (uint8_t)imm);
        return;
    }
    emit_op(b, size_flags(sz), 0xF7, 0, a, NULL);
    if (sz == 16) {
        x86_byte(b, (uint8_t)imm);
        x86_byte(b, (uint8_t)(imm >> 8));
    } else {
        x86_u32(b, (uint32_t)imm);
    }
}

void x86_shift_ri(X86Buf *b, X86Shift op, int sz, int dst, unsigned count)
{
    if (count == 1) {
        emit_op(b, size_flags(sz), sz == 8 ? 0xD0 : 0xD1, op, dst, NULL);
        return;
    }
    emit_op(b, size_flags(sz), sz == 8 ? 0xC0 : 0xC1, op, dst, NULL);
    x86_byte(b, (uint8_t)count);
}

void x86_shift_cl(X86Buf *b, X86Shift op, int sz, int dst)
{
    emit_op(b, size_flags(sz), sz == 8 ? 0xD2 : 0xD3, op, dst, NULL);
}

void x86_unary(X86Buf *b, X86Unary op, int sz, int r)
{
    emit_op(b, size_flags(sz), sz == 8 ? 0xF6 : 0xF7, op, r, NULL);
}

void x86_imul_rr(X86Buf *b, int sz, int dst, int src)
{
    emit_op(b, size_flags(sz), 0x0FAF, dst, src, NULL);
}

void x86_imul_rri(X86Buf *b, int sz, int dst, int src, int32_t imm)
{
    if (x86_is_s8(imm)) {
        emit_op(b, size_flags(sz), 0x6B, dst, src, NULL);
        x86_byte(b, (uint8_t)imm);
    } else {
        emit_op(b, size_flags(sz), 0x69, dst, src, NULL);
        x86_u32(b, (uint32_t)imm);
    }
}

void x86_bswap(X86Buf *b, int sz, int r)
{
    /* no ModRM: the register is in the opcode, REX.B extends it */
    if (sz == 64 || (r & 8))
        x86_byte(b, (uint8_t)(0x40 | (sz == 64 ? 8 : 0) | ((r & 8) ? 1 : 0)));
    x86_byte(b, 0x0F);
    x86_byte(b, (uint8_t)(0xC8 + (r & 7)));
}

void x86_bsr(X86Buf *b, int sz, int dst, int src)
{
    emit_op(b, size_flags(sz), 0x0FBD, dst, src, NULL);
}
void x86_bsf(X86Buf *b, int sz, int dst, int src)
{
    emit_op(b, size_flags(sz), 0x0FBC, dst, src, NULL);
}
void x86_lzcnt(X86Buf *b, int sz, int dst, int src)
{
    emit_op(b, size_flags(sz) | F_F3, 0x0FBD, dst, src, NULL);
}
void x86_tzcnt(X86Buf *b, int sz, int dst, int src)
{
    emit_op(b, size_flags(sz) | F_F3, 0x0FBC, dst, src, NULL);
}
void x86_popcnt(X86Buf *b, int sz, int dst, int src)
{
    emit_op(b, size_flags(sz) | F_F3, 0x0FB8, dst, src, NULL);
}

void x86_bt_ri(X86Buf *b, int sz, int r, unsigned bit)
{
    emit_op(b, size_flags(sz), 0x0FBA, 4, r, NULL);
    x86_byte(b, (uint8_t)bit);
}

void x86_bts_ri(X86Buf *b, int sz, int r, unsigned bit)
{
    emit_op(b, size_flags(sz), 0x0FBA, 5, r, NULL);
    x86_byte(b, (uint8_t)bit);
}

void x86_cqo(X86Buf *b, int sz)
{
    if (sz == 64)
        x86_byte(b, 0x48);
    x86_byte(b, 0x99);
}

/* ---- conditions ---- */
void x86_setcc(X86Buf *b, X86Cond cc, int r)
{
    emit_op(b, F_BYTE, 0x0F90u + cc, 0, r, NULL);
}

void x86_cmovcc(X86Buf *b, X86Cond cc, int sz, int dst, int src)
{
    emit_op(b, sz == 64 ? F_W : 0, 0x0F40u + cc, dst, src, NULL);
}

/* ---- control flow ---- */
size_t x86_jmp32(X86Buf *b)
{
    x86_byte(b, 0xE9);
    size_t site = x86_off(b);
    x86_u32(b, 0);
    return site;
}

size_t x86_jcc32(X86Buf *b, X86Cond cc)
{
    x86_byte(b, 0x0F);
    x86_byte(b, (uint8_t)(0x80 + cc));
    size_t site = x86_off(b);
    x86_u32(b, 0);
    return site;
}

size_t x86_call32(X86Buf *b)
{
    x86_byte(b, 0xE8);
    size_t site = x86_off(b);
    x86_u32(b, 0);
    return site;
}

void x86_call_r(X86Buf *b, int r) { emit_op(b, 0, 0xFF, 2, r, NULL); }
void x86_jmp_r(X86Buf *b, int r) { emit_op(b, 0, 0xFF, 4, r, NULL); }
void x86_jmp_m(X86Buf *b, X86Mem m) { emit_op(b, 0, 0xFF, 4, -1, &m); }

void x86_patch_rel32(X86Buf *b, size_t site, size_t target)
{
    if (site + 4 > (size_t)(b->end - b->start))
        return;
    int32_t rel = (int32_t)((int64_t)target - (int64_t)(site + 4));
    memcpy(b->start + site, &rel, 4);
}

void x86_push(X86Buf *b, int r)
{
    if (r & 8)
        x86_byte(b, 0x41);
    x86_byte(b, (uint8_t)(0x50 + (r & 7)));
}

void x86_pop(X86Buf *b, int r)
{
    if (r & 8)
        x86_byte(b, 0x41);
    x86_byte(b, (uint8_t)(0x58 + (r & 7)));
}

void x86_ret(X86Buf *b) { x86_byte(b, 0xC3); }

/* The recommended multi-byte nop forms (0F 1F /0). */
void x86_nops(X86Buf *b, unsigned n)
{
    static const uint8_t nops[8][8] = {
        {0x90},
        {0x66, 0x90},
        {0x0F, 0x1F, 0x00},
        {0x0F, 0x1F, 0x40, 0x00},
        {0x0F, 0x1F, 0x44, 0x00, 0x00},
        {0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00},
        {0x0F, 0x1F, 0x80, 0x00, 0x00, 0x00, 0x00},
        {0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
    };
    while (n > 0) {
        unsigned k = n > 8 ? 8 : n;
        for (unsigned i = 0; i < k; i++)
            x86_byte(b, nops[k - 1][i]);
        n -= k;
    }
}

/* ---- atomics ---- */
void x86_lock(X86Buf *b) { x86_byte(b, 0xF0); }

void x86_cmpxchg(X86Buf *b, int sz, X86Mem m, int src)
{
    emit_op(b, size_flags(sz), sz == 8 ? 0x0FB0 : 0x0FB1, src, -1, &m);
}

void x86_xadd(X86Buf *b, int sz, X86Mem m, int src)
{
    emit_op(b, size_flags(sz), sz == 8 ? 0x0FC0 : 0x0FC1, src, -1, &m);
}

void x86_xchg(X86Buf *b, int sz, X86Mem m, int src)
{
    emit_op(b, size_flags(sz), sz == 8 ? 0x86 : 0x87, src, -1, &m);
}

void x86_cmpxchg16b(X86Buf *b, X86Mem m)
{
    emit_op(b, F_W, 0x0FC7, 1, -1, &m);
}

/* 0F 18 /hint: prefetchnta (0), prefetcht0 (1), t1 (2), t2 (3); never faults. */
void x86_prefetch(X86Buf *b, int hint, X86Mem m)
{
    emit_op(b, 0, 0x0F18, hint & 3, -1, &m);
}

void x86_mfence(X86Buf *b)
{
    x86_byte(b, 0x0F); x86_byte(b, 0xAE); x86_byte(b, 0xF0);
}
void x86_lfence(X86Buf *b)
{
    x86_byte(b, 0x0F); x86_byte(b, 0xAE); x86_byte(b, 0xE8);
}
void x86_sfence(X86Buf *b)
{
    x86_byte(b, 0x0F); x86_byte(b, 0xAE); x86_byte(b, 0xF8);
}
