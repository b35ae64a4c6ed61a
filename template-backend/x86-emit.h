/*
 * x86-emit.h - a small x86-64 instruction encoder (REX, ModRM, SIB, disp,
 * imm) for the template backend.  It knows exactly the instructions the code
 * generator uses and nothing more.
 *
 * Bytes go to an X86Buf; writing past its end sets `overflow` and drops the
 * byte, so a caller checks once per op instead of per byte.
 *
 *   X86Buf b = x86_buf(mem, sizeof mem);
 *   x86_alu_ri(&b, X86_ADD, 64, X86_RBX, 4);          // add rbx, 4
 *   x86_load(&b, 32, X86_RAX, x86_mem(X86_R14, 8));   // mov eax, [r14+8]
 *   if (b.overflow) ...
 *
 * Operand sizes are given in bits (8, 16, 32, 64).  8-bit operations on
 * registers 4..7 always get a REX prefix (spl/bpl/sil/dil, never ah..bh).
 */
#ifndef EMU_TEMPLATE_BACKEND_X86_EMIT_H
#define EMU_TEMPLATE_BACKEND_X86_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
    X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
};

/* Condition codes (the low nibble of jcc/setcc/cmovcc). */
typedef enum X86Cond {
    X86_CC_O = 0, X86_CC_NO, X86_CC_B, X86_CC_AE, X86_CC_E, X86_CC_NE, X86_CC_BE,
    X86_CC_A, X86_CC_S, X86_CC_NS, X86_CC_P, X86_CC_NP, X86_CC_L, X86_CC_GE,
    X86_CC_LE, X86_CC_G,
} X86Cond;

/* ALU group 1 (the /digit of 0x80/0x81/0x83 and opcode bits 5..3). */
typedef enum X86Alu {
    X86_ADD = 0, X86_OR = 1, X86_ADC = 2, X86_SBB = 3, X86_AND = 4, X86_SUB = 5,
    X86_XOR = 6, X86_CMP = 7,
} X86Alu;

/* Shift group 2 (/digit of 0xC1/0xD3). */
typedef enum X86Shift {
    X86_ROL = 0, X86_ROR = 1, X86_SHL = 4, X86_SHR = 5, X86_SAR = 7,
} X86Shift;

/* Unary group 3 (/digit of 0xF7). */
typedef enum X86Unary {
    X86_NOT = 2, X86_NEG = 3, X86_MUL = 4, X86_IMUL1 = 5, X86_DIV = 6, X86_IDIV = 7,
} X86Unary;

typedef struct X86Buf {
    uint8_t *start, *p, *end;
    bool overflow;
} X86Buf;

/* Memory operand [base + index*scale + disp]; index -1 for none. */
typedef struct X86Mem {
    int8_t base, index;
    uint8_t scale_log2;
    int32_t disp;
} X86Mem;

static inline X86Buf x86_buf(uint8_t *p, size_t size)
{
    X86Buf b = {p, p, p + size, false};
    return b;
}
static inline size_t x86_off(const X86Buf *b) { return (size_t)(b->p - b->start); }
static inline X86Mem x86_mem(int base, int32_t disp)
{
    X86Mem m = {(int8_t)base, -1, 0, disp};
    return m;
}
static inline X86Mem x86_mem_idx(int base, int index, int32_t disp)
{
    X86Mem m = {(int8_t)base, (int8_t)index, 0, disp};
    return m;
}
static inline bool x86_is_s8(int64_t v) { return v == (int8_t)v; }
static inline bool x86_is_s32(int64_t v) { return v == (int32_t)v; }

static inline void x86_byte(X86Buf *b, uint8_t v)
{
    if (__builtin_expect(b->p < b->end, 1))
        *b->p++ = v;
    else
        b->overflow = true;
}
void x86_u32(X86Buf *b, uint32_t v);
void x86_u64(X86Buf *b, uint64_t v);

/* ---- moves ---- */
void x86_mov_rr(X86Buf *b, int sz, int dst, int src);
/* dst = imm (64-bit register result; shortest encoding; flags untouched). */
void x86_mov_ri(X86Buf *b, int dst, uint64_t imm);
/* Always the 10-byte movabs (an immediate relocated later); returns the
 * offset of the imm64. */
size_t x86_movabs(X86Buf *b, int dst, uint64_t imm);
void x86_load(X86Buf *b, int sz, int dst, X86Mem m);     /* mov r, [m] */
void x86_store(X86Buf *b, int sz, X86Mem m, int src);    /* mov [m], r */
void x86_store_imm(X86Buf *b, int sz, X86Mem m, int32_t imm); /* mov [m], imm */
/* SSE: movdqu xmm, [m] / movdqu [m], xmm; movq/movd xmm, [m] (zero-extend). */
void x86_movdqu_load(X86Buf *b, int xmm, X86Mem m);
void x86_movdqu_store(X86Buf *b, X86Mem m, int xmm);
void x86_movq_xmm_load(X86Buf *b, int xmm, X86Mem m);
void x86_movd_xmm_load(X86Buf *b, int xmm, X86Mem m);
void x86_movq_xmm_r(X86Buf *b, int sz, int xmm, int r);   /* movd/movq xmm, r */
void x86_punpcklqdq(X86Buf *b, int dst, int src);
/* movzx/movsx: dst (dsz 32 or 64) from a src_sz (8/16/32) register. */
void x86_movzx_rr(X86Buf *b, int dst, int src, int src_sz);
void x86_movsx_rr(X86Buf *b, int dsz, int dst, int src, int src_sz);
void x86_movzx_load(X86Buf *b, int dst, X86Mem m, int src_sz);
void x86_movsx_load(X86Buf *b, int dsz, int dst, X86Mem m, int src_sz);
void x86_lea(X86Buf *b, int sz, int dst, X86Mem m);

/* ---- arithmetic ---- */
void x86_alu_rr(X86Buf *b, X86Alu op, int sz, int dst, int src);
void x86_alu_ri(X86Buf *b, X86Alu op, int sz, int dst, int32_t imm);
void x86_alu_rm(X86Buf *b, X86Alu op, int sz, int dst, X86Mem m);  /* r op= [m] */
void x86_alu_mr(X86Buf *b, X86Alu op, int sz, X86Mem m, int src);  /* [m] op= r */
void x86_alu_mi(X86Buf *b, X86Alu op, int sz, X86Mem m, int32_t imm);
void x86_test_rr(X86Buf *b, int sz, int a, int c);
void x86_test_ri(X86Buf *b, int sz, int a, int32_t imm);
void x86_shift_ri(X86Buf *b, X86Shift op, int sz, int dst, unsigned count);
void x86_shift_cl(X86Buf *b, X86Shift op, int sz, int dst);
void x86_unary(X86Buf *b, X86Unary op, int sz, int r);
void x86_imul_rr(X86Buf *b, int sz, int dst, int src);
void x86_imul_rri(X86Buf *b, int sz, int dst, int src, int32_t imm);
void x86_bswap(X86Buf *b, int sz, int r);
/* 0x0F-map bit ops: dst = op(src).  f3 selects lzcnt/tzcnt/popcnt. */
void x86_bsr(X86Buf *b, int sz, int dst, int src);
void x86_bsf(X86Buf *b, int sz, int dst, int src);
void x86_lzcnt(X86Buf *b, int sz, int dst, int src);
void x86_tzcnt(X86Buf *b, int sz, int dst, int src);
void x86_popcnt(X86Buf *b, int sz, int dst, int src);
void x86_cqo(X86Buf *b, int sz);                         /* cdq / cqo */
void x86_bt_ri(X86Buf *b, int sz, int r, unsigned bit);   /* CF = bit */
void x86_bts_ri(X86Buf *b, int sz, int r, unsigned bit);

/* ---- conditions ---- */
void x86_setcc(X86Buf *b, X86Cond cc, int r);            /* r8 = cc */
void x86_cmovcc(X86Buf *b, X86Cond cc, int sz, int dst, int src);

/* ---- control flow: the returned value is the offset of the rel32 ---- */
size_t x86_jmp32(X86Buf *b);
size_t x86_jcc32(X86Buf *b, X86Cond cc);
size_t x86_call32(X86Buf *b);
void x86_call_r(X86Buf *b, int r);
void x86_jmp_r(X86Buf *b, int r);
void x86_jmp_m(X86Buf *b, X86Mem m);
/* Patch a rel32 at offset site so that it jumps to offset target. */
void x86_patch_rel32(X86Buf *b, size_t site, size_t target);
void x86_push(X86Buf *b, int r);
void x86_pop(X86Buf *b, int r);
void x86_ret(X86Buf *b);
void x86_nops(X86Buf *b, unsigned n);                    /* n bytes of padding */

/* ---- atomics and fences ---- */
void x86_lock(X86Buf *b);
void x86_cmpxchg(X86Buf *b, int sz, X86Mem m, int src); /* cmpxchg [m], r (no lock) */
void x86_xadd(X86Buf *b, int sz, X86Mem m, int src);
void x86_xchg(X86Buf *b, int sz, X86Mem m, int src);    /* implicitly locked */
void x86_cmpxchg16b(X86Buf *b, X86Mem m);               /* no lock */
void x86_prefetch(X86Buf *b, int hint, X86Mem m);
void x86_mfence(X86Buf *b);
void x86_lfence(X86Buf *b);
void x86_sfence(X86Buf *b);

#endif /* EMU_TEMPLATE_BACKEND_X86_EMIT_H */
