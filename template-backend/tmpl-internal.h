/*
 * tmpl-internal.h - shared state of the template backend's code generator
 * (tmpl-gen*.c) and its register allocator (tmpl-regalloc.c).  Not public.
 *
 * Host register conventions (valid in every generated block):
 *   r14 = env, r15 = guest_base (user mode), rsp = the shared frame made by
 *   tmpl_enter: TMPL_FRAME_SIZE bytes of spill slots at [rsp, rsp+size).
 *   rax, rcx, rdx, r11 = scratch, never hold a temp across an op.
 *   xmm0, xmm1 = scratch for 16-byte values (no other xmm register is used).
 *   rbx rbp r12 r13 (callee-saved) and rsi rdi r8 r9 r10 (caller-saved) are
 *   allocated to temps, except those that hold pinned globals (r13, r12,
 *   rbp, r10, in that order: tmpl_set_pins).  A pinned global lives in its
 *   register at every block boundary; env has it only after the epilogue
 *   (or a store before a helper or call stub that reads env).
 *
 * Value invariant: an i8/i16/i32/f32 temp in a host register is zero-extended
 * to 64 bits (the IR's canonical form, ir/ir-eval.h), i64/f64 use all 64.
 * i128/v128 temps never live in registers: locals in a 16-byte frame slot,
 * globals in env, constants as two immediates.
 */
#ifndef EMU_TEMPLATE_BACKEND_TMPL_INTERNAL_H
#define EMU_TEMPLATE_BACKEND_TMPL_INTERNAL_H

#include "template-backend/tmpl.h"
#include "template-backend/x86-emit.h"
#include "ir/ir-helpers.h"
#include "runtime/cpu.h"

#define TMPL_REG_ENV  X86_R14
#define TMPL_REG_BASE X86_R15
#define TMPL_SCRATCH  X86_R11
#define TMPL_XMM_SCRATCH 0

/* Frame: narrow slots (8 bytes) then wide slots (16 bytes). */
#define TMPL_NARROW_SLOTS 384
#define TMPL_WIDE_SLOTS   64
#define TMPL_FRAME_DATA   (TMPL_NARROW_SLOTS * 8 + TMPL_WIDE_SLOTS * 16)
/* Six pushes + return address leave rsp at 8 mod 16: the frame restores 16. */
#define TMPL_FRAME_SIZE   (TMPL_FRAME_DATA + 8)
_Static_assert(TMPL_FRAME_SIZE % 16 == 8, "frame must realign rsp to 16");

/* rcx and rdx come last: an op that needs them (a shift by a register,
 * mul/div, a 16-byte store or cmpxchg, a helper's arguments) takes them
 * with ra_reserve or ra_spill_caller_saved. */
#define TMPL_N_ALLOC 11
extern const int8_t tmpl_alloc_order[TMPL_N_ALLOC];
/* The same registers as a bit set. */
#define TMPL_ALLOC_MASK                                                                   \
    (1u << X86_RBX | 1u << X86_RBP | 1u << X86_R12 | 1u << X86_R13 | 1u << X86_RSI |      \
     1u << X86_RDI | 1u << X86_R8 | 1u << X86_R9 | 1u << X86_R10 | 1u << X86_RCX |        \
     1u << X86_RDX)

/* Guest registers pinned to host registers across blocks (tmpl_set_pins):
 * at every block boundary global pin[i].env_off lives in host register
 * pin[i].reg, not in env; tmpl_enter loads them, the epilogue stores them.
 * A code buffer keeps the set in force when tmpl_init made its trampoline,
 * and its blocks use that one. */
typedef struct TmplPin {
    int8_t reg;
    uint32_t env_off;
} TmplPin;
typedef struct TmplPinSet {
    TmplPin pin[TMPL_MAX_PINS];
    unsigned n;
    uint16_t mask;      /* host registers taken */
} TmplPinSet;
extern TmplPinSet tmpl_pin_set;     /* for the next tmpl_init */

/* Where a temp's value is. */
typedef struct TmplTemp {
    int8_t reg;         /* host register holding it, or -1 */
    uint8_t pinned;     /* a pinned global: reg never changes */
    uint8_t mem_ok;     /* its home (env field / frame slot) holds the value */
    uint8_t wide;       /* i128/v128: memory only */
    uint8_t has_slot;
    uint8_t kbits;      /* locals: the value is known to fit in this many bits
                           (after setcond, extract, narrow loads...); globals
                           and merged values (labels): the type's width */
    int32_t slot;       /* locals: frame offset of the home */
    IrTemp alias;       /* this i32 local is the trunc of i64 temp alias, read
                           by one compare only: ra_in gives alias's register,
                           which the compare reads at 32 bits (gen_conv) */
    uint32_t first;     /* locals: first op that names it */
    uint32_t last;      /* locals: last op that names it */
} TmplTemp;

/* A pending rel32 to an out-of-line stub. */
typedef enum TmplStubKind {
    STUB_FAULT,     /* guest SEGV/BUS: addr reg, insn, exc kind */
    STUB_GOTO_TB,   /* unchained goto_tb: target pc, slot */
    STUB_LOOKUP,    /* goto_ptr miss: reg holds the target pc */
    STUB_SIDE_EXIT, /* a brcond leaving the block: dirty globals, then slot's
                       patchable jmp to target pc */
    STUB_HOT,       /* tier-up countdown reached zero at the block's entry */
} TmplStubKind;

typedef struct TmplStub {
    uint8_t kind;
    uint8_t slot;       /* goto_tb slot / exception kind */
    int8_t reg;         /* fault: register holding the guest address;
                           lookup: the one holding the target pc */
    uint8_t wb_n;       /* fault, side exit: dirty globals to store first, TMPL_WB_PAIR */
    uint32_t wb_first;  /*   words at TmplGen.stub_wb[wb_first] */
    uint32_t site;      /* rel32 to patch */
    uint32_t insn;      /* fault: guest insn index */
    int32_t disp;       /* fault: the guest address is reg + disp */
    uint64_t pc;        /* goto_tb, side exit: target */
} TmplStub;

/* Where an i64 temp's value came from, for limit-check elimination
 * (tmpl-gen-mem.c): (root temp at version rver) + off. */
typedef struct TmplAddr {
    IrTemp root;
    uint32_t rver;
    int64_t off;
} TmplAddr;

/* An access checked against guest_limit in the current straight-line
 * code: base (root, rver) + min_off, the lowest offset checked off it. */
typedef struct TmplChecked {
    IrTemp root;
    uint32_t rver;
    int64_t min_off;
} TmplChecked;
#define TMPL_MAX_CHECKED 8

/* An address temp folded into the accesses that use it (tmpl-gen-mem.c):
 * "t = add base, off" is not emitted; each access reads [r15 + base + off]. */
typedef struct TmplFold {
    IrTemp base;        /* 0: t is not folded */
    int32_t off;
} TmplFold;

typedef struct TmplFixup {
    uint32_t label;
    uint32_t site;
} TmplFixup;

typedef struct TmplGen {
    const IrBlock *b;
    const TmplPinSet *pins;     /* its code buffer's */
    X86Buf x;
    uintptr_t tag;
    uintptr_t exec_base;        /* execution address of x.start */
    uintptr_t epilogue_exec;    /* execution address of the shared epilogue */
    const char *why;            /* first error */

    TmplTemp *t;                /* per temp */
    int32_t reg_temp[16];       /* host reg -> temp id (0: free) */
    uint32_t reg_stamp[16];     /* for eviction: when last used */
    uint32_t stamp;
    uint16_t locked;            /* regs the current op must keep */
    uint32_t op_idx;            /* current op */
    uint32_t cur_insn;

    uint8_t narrow_free[TMPL_NARROW_SLOTS];
    uint8_t wide_free[TMPL_WIDE_SLOTS];

    uint32_t *label_off;        /* offset of each label, UINT32_MAX unknown */
    uint32_t *label_at;         /* op index of each label, UINT32_MAX none */
    uint32_t *label_refs;       /* branches (br, brcond) to each label */
    uint32_t slot_uses[IR_GOTO_TB_SLOTS]; /* goto_tb ops through each slot */
    TmplFixup *fixups;
    uint32_t n_fixups, cap_fixups;
    TmplStub *stubs;
    uint32_t n_stubs, cap_stubs;
    TmplInsnMapEntry *map;
    uint32_t n_map, cap_map;
    uint32_t chain_site[IR_GOTO_TB_SLOTS], chain_reset[IR_GOTO_TB_SLOTS];
    uint64_t chain_pc[IR_GOTO_TB_SLOTS];      /* target of each slot's goto_tb */
    uint32_t fused_goto;        /* goto_tb op whose jump a brcond's jcc is */
    uint32_t side_goto[IR_GOTO_TB_SLOTS]; /* goto_tb op made a side exit's stub */
    bool relocatable;           /* record relocs (TmplMemModel.relocatable) */
    uint64_t limit_guard;       /* TmplMemModel.limit_guard */
    uint64_t *skip_counter;     /* TmplMemModel.skip_counter */
    uint32_t *ver;              /* per temp: writes so far (labels count as one) */
    TmplAddr *addr;             /* per temp: valid when addr[t].rver != UINT32_MAX */
    TmplChecked checked[TMPL_MAX_CHECKED];
    uint32_t n_checked, next_checked;
    TmplReloc *relocs;
    uint32_t n_relocs, cap_relocs;
    TmplFold *fold;             /* per temp, NULL when nothing is folded */
    uint32_t *wb;               /* write-back map being built (TmplCode.wb) */
    uint32_t n_wb, cap_wb;
    uint32_t *stub_wb;          /* the fault and side-exit stubs' dirty globals */
    uint32_t n_stub_wb, cap_stub_wb;
    IrTemp xmm_temp;            /* wide temp whose value xmm0 holds (0: none) */
    bool xmm_kept;              /* this op left xmm_temp right */
    bool xmm_dirty;             /* xmm_temp (a local) is not in its home yet */
} TmplGen;

/* Record a relocation at x offset `at` (relocatable translations only). */
void gen_reloc(TmplGen *g, size_t at, TmplRelocKind kind, uint64_t arg);

/* Host CPU features (tmpl_init runs cpuid). */
extern bool tmpl_have_lzcnt, tmpl_have_bmi1, tmpl_have_popcnt;

static inline const IrTempInfo *tg_info(const TmplGen *g, IrTemp t) { return &g->b->temps[t]; }
static inline bool tg_is_const(const TmplGen *g, IrTemp t)
{
    return g->b->temps[t].kind == IR_TEMP_CONST;
}
static inline bool tg_is_global(const TmplGen *g, IrTemp t)
{
    return g->b->temps[t].kind == IR_TEMP_GLOBAL;
}
static inline uint64_t tg_const(const TmplGen *g, IrTemp t) { return g->b->temps[t].val[0]; }
/* Operand size in bits of the x86 ops that implement type t (i8/i16 use 32). */
static inline int tg_opsz(IrType t) { return (t == IR_I64 || t == IR_F64) ? 64 : 32; }
static inline int tg_bits(IrType t) { return (int)ir_type_bits(t); }
void tg_fail(TmplGen *g, const char *why);

/* ---- register allocator (tmpl-regalloc.c) ---- */
bool ra_init(TmplGen *g);
void ra_free(TmplGen *g);
X86Mem ra_home(TmplGen *g, IrTemp t);      /* env field or frame slot */
/* Value of t in a register (loads it; constants go to a fresh register). */
int ra_in(TmplGen *g, IrTemp t);
/* A free register for a result (evicts if needed), locked for this op. */
int ra_alloc(TmplGen *g);
/* Register to compute t's new value in: src's register when src dies here
 * or is the same temp as out, else a fresh one (the caller moves src in). */
int ra_out_reg(TmplGen *g, IrTemp out, IrTemp src);
/* A pinned out's own register (for an op that reads all its inputs before
 * it writes, whatever they are: a load), else a fresh one. */
int ra_alloc_or_pin(TmplGen *g, IrTemp out);
/* t now lives (dirty) in r. */
void ra_bind(TmplGen *g, IrTemp t, int r);
/* t's new value was just written to its home: no register holds it. */
void ra_set_home(TmplGen *g, IrTemp t);
/* Store dirty globals to env; drop them from registers too if drop. */
void ra_writeback_globals(TmplGen *g, bool drop);
/* The same at a block exit: pinned globals stay in their registers. */
void ra_writeback_exit(TmplGen *g);
/* The dirty globals in registers as TMPL_WB_PAIR words (returns how
 * many); one the map cannot name (env offset >= 64 KiB, too many) is
 * stored to env instead. */
unsigned ra_dirty_globals(TmplGen *g, uint32_t out[TMPL_WB_MAX_PAIRS]);
/* Before a branch/label: globals and live locals to memory (regs stay valid). */
void ra_sync(TmplGen *g);
/* After a label: nothing is in a register. */
void ra_forget(TmplGen *g);
/* Before a call: spill caller-saved registers (live values to memory). */
void ra_spill_caller_saved(TmplGen *g);
/* After a call: caller-saved pins back from env. */
void ra_reload_caller_saved_pins(TmplGen *g);
/* Drop cached globals (after a helper that writes them). */
void ra_drop_globals(TmplGen *g);
/* End of op: free locals whose last use was this op; unlock. */
void ra_end_op(TmplGen *g, const IrInst *op);
/* Make sure a wide local has a frame slot (allocated on first write). */
X86Mem ra_wide_home(TmplGen *g, IrTemp t);
void ra_lock(TmplGen *g, int r);
/* Known significant bits of t's current value (constants: exact). */
unsigned ra_kbits(const TmplGen *g, IrTemp t);
/* Record that t's new value (a local's or a global's) fits in bits. */
void ra_set_kbits(TmplGen *g, IrTemp t, unsigned bits);
/* Empty register r (value home if live) and keep it for this op's scratch. */
void ra_reserve(TmplGen *g, int r);

/* ---- code generation by family ---- */
/* Move t's value into register r (any kind; r is not bound to t). */
void gen_load_to(TmplGen *g, int r, IrTemp t);
/* r = zero-extension of its low `bits` bits (bits < 64). */
void gen_normalize(TmplGen *g, int r, IrType t);
X86Cond gen_cc(IrCond c);
/* Emit the compare for cond(a, b) at type t; returns the x86 condition. */
X86Cond gen_compare(TmplGen *g, IrType t, IrCond c, IrTemp a, IrTemp b);
bool gen_int_op(TmplGen *g, const IrInst *op);     /* tmpl-gen-int.c */
bool gen_bits_op(TmplGen *g, const IrInst *op);    /* tmpl-gen-bits.c */
bool gen_mem_op(TmplGen *g, const IrInst *op);     /* tmpl-gen-mem.c */
/* Limit-check elimination (tmpl-gen-mem.c): set up / follow op's outputs /
 * forget everything at a label or after an op that may write any global. */
bool addr_init(TmplGen *g);
void addr_note_op(TmplGen *g, const IrInst *op);
void addr_forget_all(TmplGen *g);
/* Find address temps to fold (after ra_init; false: out of memory). */
bool addr_fold_init(TmplGen *g);
/* True if op defines a folded address temp: it emits nothing. */
static inline bool addr_folded_def(const TmplGen *g, const IrInst *op)
{
    return g->fold && (op->opc == IR_OP_add || op->opc == IR_OP_sub) &&
           g->fold[op->args[0]].base != IR_TEMP_NONE;
}
/* 16-byte moves through xmm0: load t's value (skipped when xmm0 holds it
 * already), or store xmm0 to t's home (xmm0 then holds t; a local's home
 * is written only when an op that is not a plain reader of it comes, and
 * only if it is still needed).  Ops that use these, emit nothing, or do
 * integer work only keep xmm0's contents known; any other op forgets
 * them (tmpl_translate's loop). */
void gen_xmm_from_temp(TmplGen *g, IrTemp t);
void gen_xmm_to_home(TmplGen *g, IrTemp t);
void gen_add_stub(TmplGen *g, TmplStub s);
/* The same for a stub that first stores the n dirty globals w (TMPL_WB_PAIR). */
void gen_add_stub_wb(TmplGen *g, TmplStub s, const uint32_t *w, unsigned n);
/* Append n words to a generator array (false: out of memory, failed). */
bool tg_push_words(TmplGen *g, uint32_t **arr, uint32_t *len, uint32_t *cap, const uint32_t *w,
                   unsigned n);
/* Grow a generator array for one more element (false: out of memory, failed). */
bool tg_grow(TmplGen *g, void **arr, uint32_t *cap, uint32_t n, size_t elem);
void gen_jmp_to(TmplGen *g, uint32_t target_off);  /* jmp rel32 in buffer */

#endif /* EMU_TEMPLATE_BACKEND_TMPL_INTERNAL_H */
