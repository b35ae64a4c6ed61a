/*
 * a64-translate.h - shared state and helpers of the AArch64 lifters.
 *
 * Every a64-trans-*.c file (integer, FP, SIMD) implements trans_* functions
 * called by the decoders generated from the *.decode files in this folder
 * (see scripts/decodetree.py).  A trans_ function lifts one instruction into
 * s->base.ir and returns true, or returns false for an unallocated encoding
 * (the block then ends with exit(IR_EXIT_UNDEF, pc) -> SIGILL).
 *
 * Rules for lifters (ARCHITECTURE.md, precise exceptions): inside one
 * instruction, emit every op that can fault (ld, st, cmpxchg, atomic_rmw,
 * faulting helpers) before the first write to a global; base-register
 * writeback comes after the access.
 *
 *   bool trans_ADD_i(DisasContext *s, arg_ADD_i *a)
 *   {
 *       IrTemp n = a64_get_xsp(s, a->rn);
 *       ...
 *       a64_set_xsp(s, a->rd, r);
 *       return true;
 *   }
 */
#ifndef EMU_FRONTEND_AARCH64_A64_TRANSLATE_H
#define EMU_FRONTEND_AARCH64_A64_TRANSLATE_H

#include <stdbool.h>
#include <stdint.h>
#include "frontend/translator.h"
#include "frontend/aarch64/a64-cpu.h"
#include "ir/ir.h"
#include "ir/ir-helpers.h"

/* AArch64 values of DisasContextBase.is_jmp beyond the generic ones. */
enum {
    A64_DISAS_JUMP = DISAS_TARGET_0, /* a branch emitted its own exits */
};

#define A64_SIDE_EXITS (IR_GOTO_TB_SLOTS - 2)

typedef struct DisasContext {
    DisasContextBase base;  /* ISA-neutral part: pcs, counts, block, reader */
    uint64_t pc_curr;       /* guest pc of the instruction being translated */
    uint32_t insn;          /* its encoding */
    uint64_t features;      /* A64_FEAT_* of the modelled CPU (a64-cpu.h) */
    /* What this block knows of the flags at the current point (A64State
     * cc_op): eager = cc_op is A64_CC_EAGER and nf..vf are current; lazy =
     * an earlier insn of this block set cc_op = lazy_op with the operands
     * in temps lazy_a, lazy_b (64-bit, 32-bit ones shifted up; logic: an
     * ANDS/TST result + 0, so C = V = 0).  Neither: unknown (block start),
     * readers test cc_op at run time.  Conditions read the operands
     * directly (a64_cond_fused). */
    struct A64FlagState {
        bool eager;
        bool logic;
        uint8_t lazy_op;     /* A64_CC_SUB / A64_CC_ADD, or 0 */
        IrTemp lazy_a, lazy_b;
        /* A 32-bit compare's own i32 operands (0 after a 64-bit one):
         * conditions compare these, not the shifted i64 copies (a 32-bit
         * compare and no 64-bit constants in host code or LLVM IR). */
        IrTemp narrow_a, narrow_b;
        /* A CCMP/CCMN: lazy_* is its compare, which decides NZCV when the
         * i64 0/1 ccmp_cv is 1; otherwise NZCV = ccmp_nzcv. */
        bool ccmp;
        uint8_t ccmp_nzcv;
        IrTemp ccmp_cv;
    } flags, flags_at_insn;  /* ..._at_insn: restored when a decode rolls back */
    /* The RBIT just translated, for the ctz idiom "rbit d, n; clz d2, d":
     * the CLZ becomes ctz of the RBIT's source (src, a local copy, as d
     * may be n).  A bit reversal costs ~24 host insns in the template tier. */
    struct A64RbitState {
        uint64_t next_pc;    /* pc of the insn after it; 0: none */
        int rd;
        bool sf;
        IrTemp src;
    } rbit;
    /* Side exits: a forward conditional branch does not end the block, which
     * goes on with its fall-through (an extended block: fewer block ends,
     * and guest registers stay in host registers on the likely path).  Its
     * taken edge is "brcond L" now and "L: goto_tb slot, target" after the
     * block's last exit (a64_tb_stop), through the slots the last insn
     * cannot use (0 and 1 are its own). */
    uint32_t side_label[A64_SIDE_EXITS];
    uint64_t side_pc[A64_SIDE_EXITS];
    uint32_t side_insn[A64_SIDE_EXITS]; /* the branch's insn index (IrInst.insn_idx) */
    unsigned n_side, n_side_at_insn;
} DisasContext;

/* Whether the modelled CPU has feature f (A64_FEAT_*): a trans_ function of
 * an optional feature returns false (unallocated) before emitting anything
 * when it is absent. */
static inline bool a64_have(const DisasContext *s, uint64_t f)
{
    return (s->features & f) == f;
}

/* The generated decoders undo whatever a trans_ function emitted before
 * returning false, including a compare it recorded (still: reject before
 * emitting when you can). */
#define DECODE_MARK(s) ((s)->base.ir->n_ops)
#define DECODE_ROLLBACK(s, mark) a64_decode_rollback((s), (mark))

static inline void a64_decode_rollback(DisasContext *s, uint32_t mark)
{
    s->base.ir->n_ops = mark;
    s->flags = s->flags_at_insn;
    s->n_side = s->n_side_at_insn;
}

/* The AArch64 IR globals (valid after guest_arch_aarch64.init()). */
extern IrGlobalSet a64_globals;
extern IrTemp a64_cpu_x[32];   /* x0..x30, [31] = sp */
extern IrTemp a64_cpu_nf, a64_cpu_zf, a64_cpu_cf, a64_cpu_vf; /* i32 flag globals */
extern IrTemp a64_cpu_cc_op, a64_cpu_cc_a, a64_cpu_cc_b;    /* lazy flags (a64-cpu.h) */
void a64_init_globals(void);
/* a64-flags-live.c: set b->flags_dead_slots (goto_tb targets that
 * overwrite NZCV before reading them) and what that read of the code
 * around the block (b->read_before/read_after). */
void a64_mark_dead_flag_exits(IrBlock *b, const GuestCodeReader *rd);

static inline IrBlock *a64_ir(DisasContext *s) { return s->base.ir; }

/* ---- general registers --------------------------------------------------
 * "x" variants treat register 31 as XZR (reads 0, writes discarded), "xsp"
 * variants as SP.  Values are i64; the sf-sized variants use i64 (sf=1) or
 * i32 (sf=0) and zero-extend 32-bit writes as the architecture does. */
IrTemp a64_get_x(DisasContext *s, int r);
IrTemp a64_get_xsp(DisasContext *s, int r);
void a64_set_x(DisasContext *s, int r, IrTemp v64);
void a64_set_xsp(DisasContext *s, int r, IrTemp v64);
static inline IrType a64_sf_type(int sf) { return sf ? IR_I64 : IR_I32; }
IrTemp a64_get_r(DisasContext *s, int r, int sf);    /* XZR for 31 */
IrTemp a64_get_rsp(DisasContext *s, int r, int sf);  /* SP for 31 */
void a64_set_r(DisasContext *s, int r, int sf, IrTemp v);
void a64_set_rsp(DisasContext *s, int r, int sf, IrTemp v);

/* ---- flags and conditions ------------------------------------------------ */
/* A condition as one IR comparison of two values of type `type`. */
typedef struct A64Cond {
    IrCond cond;
    IrTemp a, b;
    IrType type;   /* IR_I32 for a64_cond (the flag globals) */
} A64Cond;
/* Condition code cc (0..15, the A64 encoding) over the current NZCV: always
 * an i32 comparison using only EQ/NE/LT/GE/ALWAYS (so sign-extending the
 * operands keeps its meaning). */
A64Cond a64_cond(DisasContext *s, int cc);
/* The same condition, but straight from the operands of the SUBS/CMP or
 * ANDS/TST that set the flags when it is earlier in this block (any IrCond,
 * type i64); otherwise a64_cond. */
A64Cond a64_cond_fused(DisasContext *s, int cc);
/* cond as 0/1 of integer type t. */
IrTemp a64_cond_value(DisasContext *s, const A64Cond *c, IrType t);
/* Sets N and Z from a result of type sf (64/32-bit); leaves C and V. */
void a64_set_nz(DisasContext *s, int sf, IrTemp result);
/* Sets NZCV from a 4-bit immediate (bit 3 = N). */
void a64_set_nzcv_imm(DisasContext *s, int nzcv);

/* Flag values computed into locals (i32, in the nf/zf/cf/vf encoding), so
 * that conditional forms can select between them before writing. */
typedef struct A64Flags {
    IrTemp n, z, c, v;
} A64Flags;
void a64_write_flags(DisasContext *s, const A64Flags *f);
/* Lazy flags (A64State cc_op).  Every IR read of nf..vf, and every write of
 * only some of them, comes after a64_flags_sync; every write of all four
 * is followed by a64_flags_written. */
void a64_flags_sync(DisasContext *s);
void a64_flags_written(DisasContext *s);
/* NZCV of n - m (op A64_CC_SUB) or n + m (A64_CC_ADD), values of type sf,
 * left for readers to compute. */
void a64_flags_lazy(DisasContext *s, int op, int sf, IrTemp n, IrTemp m);
/* NZCV of ANDS/TST/BICS: N, Z of the result r (type sf), C = V = 0. */
void a64_flags_lazy_logic(DisasContext *s, int sf, IrTemp r);
/* NZCV of CCMP (op A64_CC_SUB) / CCMN (A64_CC_ADD): cond ? flags of n op m
 * : nzcv.  False when nzcv has no lazy form (then nothing is emitted). */
bool a64_flags_lazy_ccmp(DisasContext *s, int op, int sf, IrTemp n, IrTemp m,
                         const A64Cond *cond, int nzcv);
/* n + m and n - m of type sf, with their NZCV. */
IrTemp a64_add_flags(DisasContext *s, int sf, IrTemp n, IrTemp m, A64Flags *f);
IrTemp a64_sub_flags(DisasContext *s, int sf, IrTemp n, IrTemp m, A64Flags *f);

/* DecodeBitMasks for logical immediates: false if (n, imms, immr) is a
 * reserved encoding for the given width.  *out is the wmask (32-bit
 * results zero-extended). */
bool a64_decode_bitmask(int n, int imms, int immr, bool is64, uint64_t *out);

/* ---- block control --------------------------------------------------------- */
/* Ends the block: the instruction at s->pc_curr is undefined (SIGILL). */
void a64_undef(DisasContext *s);
/* Direct jump to dest through chain slot (0 or 1). */
void a64_goto(DisasContext *s, unsigned slot, uint64_t dest);

/* ---- memory ----------------------------------------------------------------- */
/* IrMemOp for a 2^size-byte access, sign-extending if sign. */
static inline IrMemOp a64_memop(int size, bool sign)
{
    return IR_MO_SIZE(size) | (sign ? IR_MO_SIGN : 0);
}

#endif /* EMU_FRONTEND_AARCH64_A64_TRANSLATE_H */
