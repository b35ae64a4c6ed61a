/*
 * ir.h - the intermediate representation shared by every frontend and backend.
 *
 * A translation unit is an IrBlock: a straight list of IrInst over temps.
 * Temps are either
 *   - globals: named fields of the guest CPU state (env + offset), shared by
 *     every block of one guest ISA (registered once in an IrGlobalSet);
 *   - locals: values that live only inside the block;
 *   - constants: immutable values (the builder makes them, deduplicated).
 * Ops are declared once in ir/ir-ops.def; helpers in ir/helpers.def.
 *
 * Usage (a frontend lifting "add x0, x1, #4; b 0x1000"):
 *   IrBlock *b = ir_block_new(&a64_globals, pc, flags);
 *   ir_insn_start(b, pc, 4);
 *   IrTemp t = ir_add(b, IR_I64, A64_X(1), ir_const(b, IR_I64, 4));
 *   ir_mov(b, IR_I64, A64_X(0), t);
 *   ir_insn_start(b, pc + 4, 4);
 *   ir_goto_tb(b, 0, 0x1000);
 *   ir_verify(b, &err);  ir_optimize(b);  ...  ir_block_free(b);
 *
 * Conventions every frontend and backend relies on (the reference is
 * ir/ir-interp.c with the arithmetic in ir/ir-eval.h):
 *   - Values: an integer of type T is its low width bits (held zero-extended
 *     in 64 bits by the interpreter); f32/f64 are IEEE bits; i128/v128 are
 *     two 64-bit words, low first (globals of those types: 16 bytes at
 *     env_offset, low word first).  Globals are read/written at their
 *     natural size (i32 global = 4 bytes at env + env_offset).
 *   - Unless an op says otherwise every operand has type T: setcond's
 *     result is a T-typed 0/1 (compare i64s, get an i64); zext/sext/trunc
 *     take the source type from the input temp.
 *   - Builders return a fresh local or a constant, never an existing
 *     global/local (an identity such as add x, 0 becomes "mov fresh, x"), so
 *     a returned value stays valid when its source is written later.
 *   - After ir_optimize any input operand may be a constant (including
 *     goto_ptr's target, st's value, call arguments, 128-bit values).
 *   - Division never traps; shift/rotate counts are taken modulo the width;
 *     clz/ctz of 0 is the width.
 *   - Alignment (IR_MO_ALIGN) is checked before the access: misaligned is a
 *     fault.  cmpxchg compares/stores the low IR_MO_BYTES bytes; ld,
 *     cmpxchg and atomic_rmw extend the old value to T per IR_MO_SIGN.
 *   - Exits write CpuCommon.pc; exit also writes CpuCommon.exit_reason
 *     (goto_tb/goto_ptr leave exit_reason alone).  Before a helper with
 *     IR_HF_CAN_FAULT (or NORETURN) env->pc is the pc of the calling insn.
 */
#ifndef EMU_IR_IR_H
#define EMU_IR_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- types ---------------------------------------------------------------- */
typedef enum IrType {
    IR_VOID,        /* no value: helper without result */
    IR_I8, IR_I16, IR_I32, IR_I64,
    IR_I128,        /* exclusive pairs, CASP, 128-bit cmpxchg */
    IR_F32, IR_F64, /* held as IEEE bits; arithmetic is in helpers */
    IR_V128,        /* AdvSIMD/SSE register contents */
    IR_TYPE_COUNT
} IrType;

/* Width in bits of an IrType (0 for IR_VOID). */
unsigned ir_type_bits(IrType t);
static inline bool ir_type_is_int(IrType t) { return t >= IR_I8 && t <= IR_I64; }
static inline bool ir_type_is_wide(IrType t) { return t == IR_I128 || t == IR_V128; }
const char *ir_type_name(IrType t);

/* ---- ops -------------------------------------------------------------------- */
typedef enum IrOpcode {
#define DEF(name, o, i, c, f) IR_OP_##name,
#include "ir/ir-ops.def"
#undef DEF
    IR_OP_COUNT
} IrOpcode;

/* Op flags (IrOpInfo.flags). */
enum {
    IR_OPF_INT          = 1u << 0, /* T is i8..i64 */
    IR_OPF_ANY_TYPE     = 1u << 1, /* T may be any non-void type the op allows */
    IR_OPF_CAN_FAULT    = 1u << 2, /* may raise a guest exception: globals must be
                                      in env and pc recoverable (invariant 4) */
    IR_OPF_MEM          = 1u << 3, /* guest memory access */
    IR_OPF_SIDE_EFFECTS = 1u << 4, /* never removed by dead code elimination */
    IR_OPF_CALL         = 1u << 5, /* helper call; effects from the helper's flags */
    IR_OPF_BRANCH       = 1u << 6, /* block-internal jump to a label */
    IR_OPF_EXIT         = 1u << 7, /* leaves the block; nothing after it runs */
    IR_OPF_NOT_PRESENT  = 1u << 8, /* marker: emits no host code */
};

typedef struct IrOpInfo {
    const char *name;
    uint8_t n_out, n_in, n_const;
    uint32_t flags;
} IrOpInfo;
extern const IrOpInfo ir_op_info[IR_OP_COUNT];

/* ---- conditions (setcond, movcond, brcond) -------------------------------- */
typedef enum IrCond {
    IR_COND_EQ, IR_COND_NE,
    IR_COND_LT, IR_COND_GE, IR_COND_LE, IR_COND_GT,       /* signed */
    IR_COND_LTU, IR_COND_GEU, IR_COND_LEU, IR_COND_GTU,   /* unsigned */
    IR_COND_TSTEQ, IR_COND_TSTNE,                         /* (a & b) ==/!= 0 */
    IR_COND_ALWAYS, IR_COND_NEVER,
    IR_COND_COUNT
} IrCond;
const char *ir_cond_name(IrCond c);
IrCond ir_cond_invert(IrCond c);  /* !cond */
IrCond ir_cond_swap(IrCond c);    /* cond with operands swapped */
/* Evaluate a condition on two values of type t (i8..i64). */
bool ir_cond_eval(IrCond c, IrType t, uint64_t a, uint64_t b);

/* ---- memory operations ---------------------------------------------------- */
/* IrMemOp packs into IrInst.c[0]:
 *   bits 0-2  log2 of the access size (0..4: 1..16 bytes)
 *   bit  3    sign-extend the loaded value to T
 *   bits 4-6  log2 of the required alignment (0: none); misaligned -> fault
 *   bits 8-11 mmu index (system mode; 0 in user mode)
 * Guests are little-endian (AArch64 LE, x86); a BE flag can join later. */
typedef uint32_t IrMemOp;
#define IR_MO_SIZE(log2)   ((IrMemOp)(log2))
#define IR_MO_8            IR_MO_SIZE(0)
#define IR_MO_16           IR_MO_SIZE(1)
#define IR_MO_32           IR_MO_SIZE(2)
#define IR_MO_64           IR_MO_SIZE(3)
#define IR_MO_128          IR_MO_SIZE(4)
#define IR_MO_SIGN         ((IrMemOp)1 << 3)
#define IR_MO_ALIGN(log2)  ((IrMemOp)(log2) << 4)
#define IR_MO_MMU(idx)     ((IrMemOp)(idx) << 8)
#define IR_MO_SIZE_LOG2(m) ((m) & 7)
#define IR_MO_BYTES(m)     (1u << IR_MO_SIZE_LOG2(m))
#define IR_MO_IS_SIGNED(m) (((m) >> 3) & 1)
#define IR_MO_ALIGN_LOG2(m) (((m) >> 4) & 7)
#define IR_MO_MMU_IDX(m)   (((m) >> 8) & 15)

typedef enum IrRmwOp {
    IR_RMW_XCHG, IR_RMW_ADD, IR_RMW_AND, IR_RMW_OR, IR_RMW_XOR,
    IR_RMW_ANDC,   /* AArch64 LDCLR: old & ~val */
    IR_RMW_SMAX, IR_RMW_SMIN, IR_RMW_UMAX, IR_RMW_UMIN,
    IR_RMW_COUNT
} IrRmwOp;

typedef enum IrFence {
    IR_FENCE_FULL,   /* dmb ish / mfence */
    IR_FENCE_LOAD,   /* dmb ishld / lfence */
    IR_FENCE_STORE,  /* dmb ishst / sfence */
} IrFence;

/* prefetch hint: what the data is for and how close to keep it. */
typedef enum IrPrefetch {
    IR_PREFETCH_READ_L1,     /* PLDL1KEEP: prefetcht0 */
    IR_PREFETCH_READ_L2,     /* PLDL2KEEP: prefetcht1 */
    IR_PREFETCH_READ_L3,     /* PLDL3KEEP: prefetcht2 */
    IR_PREFETCH_READ_STREAM, /* PLD*STRM: prefetchnta */
    IR_PREFETCH_WRITE,       /* PST*: x86 without PREFETCHW uses prefetcht0 */
    IR_PREFETCH_COUNT
} IrPrefetch;

/* ---- block exits ---------------------------------------------------------- */
/* Why a block returned to the dispatcher (IR_OP_exit c0, env->exit_reason). */
typedef enum IrExitReason {
    IR_EXIT_NONE,          /* plain return: look up env->pc and go on */
    IR_EXIT_SYSCALL,       /* svc / syscall: env->pc is the insn after it */
    IR_EXIT_UNDEF,         /* unallocated / unimplemented encoding at env->pc */
    IR_EXIT_BREAKPOINT,    /* brk / int3 */
    IR_EXIT_HALT,          /* wfi / hlt */
    IR_EXIT_EXCEPTION,     /* env->exception_* hold the details */
    IR_EXIT_SMC,           /* self-modifying code: retranslate at env->pc */
    IR_EXIT_FETCH_FAULT,   /* instruction fetch at env->pc faulted */
    IR_EXIT_COUNT
} IrExitReason;

/* ---- temps ---------------------------------------------------------------- */
typedef uint32_t IrTemp;         /* index into IrBlock.temps */
#define IR_TEMP_NONE ((IrTemp)0) /* temp 0 is reserved: "no operand" */

typedef enum IrTempKind {
    IR_TEMP_GLOBAL,  /* env + offset; lives across blocks */
    IR_TEMP_LOCAL,   /* block-local value */
    IR_TEMP_CONST,   /* constant (val[0] low 64 bits, val[1] high for 128-bit) */
} IrTempKind;

typedef struct IrTempInfo {
    uint8_t kind;        /* IrTempKind */
    uint8_t type;        /* IrType */
    uint16_t flags;      /* IR_TEMPF_* */
    uint32_t env_offset; /* globals: byte offset of the field in env */
    uint64_t val[2];     /* constants */
    const char *name;    /* globals: "x0", "nf"; NULL otherwise */
} IrTempInfo;

enum {
    IR_TEMPF_FLAG = 1u << 0, /* global that is a condition flag: candidate for
                                dead-flag elimination */
};

/* A guest ISA's set of globals.  Temps 1..count-1 of every block of that
 * ISA are these globals, in this order. */
#define IR_MAX_GLOBALS 128
typedef struct IrGlobalSet {
    uint32_t count;                       /* including the reserved temp 0 */
    IrTempInfo temps[IR_MAX_GLOBALS];
} IrGlobalSet;
/* Register a global; returns its temp id (stable across blocks). */
IrTemp ir_global_register(IrGlobalSet *set, IrType type, uint32_t env_offset,
                          const char *name, unsigned flags);

/* ---- instructions --------------------------------------------------------- */
#define IR_MAX_ARGS   6   /* outputs then inputs */
#define IR_MAX_CONSTS 2

typedef struct IrInst {
    uint16_t opc;                 /* IrOpcode */
    uint8_t type;                 /* operation type T (IrType) */
    uint8_t dead;                 /* set by passes; ir_compact() drops it */
    uint32_t insn_idx;            /* index of the guest instruction (IrBlock.insns) */
    IrTemp args[IR_MAX_ARGS];     /* n_out outputs, then n_in inputs */
    uint64_t c[IR_MAX_CONSTS];    /* constants: cond, memop, label, helper, pc... */
} IrInst;

/* Guest instruction table: op index -> guest pc, for precise exceptions. */
typedef struct IrGuestInsn {
    uint64_t pc;
    uint32_t len;                 /* bytes */
    uint32_t first_op;            /* index of its insn_start op */
} IrGuestInsn;

typedef struct IrBlock {
    const IrGlobalSet *globals;
    uint64_t pc;                  /* guest pc of the first instruction */
    uint32_t flags;               /* mode flags the block was translated under */
    uint32_t guest_size;          /* bytes of guest code covered */
    uint8_t flags_dead_slots;     /* bit s: the guest's condition flags are dead at
                                     goto_tb slot s's target (the frontend read it):
                                     ir_pass_dead_globals drops flag writes only
                                     such exits would see */
    bool ptr_flags_dead;          /* the goto_ptr exit needs no condition flags (a
                                     return or a call: the guest ABI keeps none
                                     across it) */
    uint16_t read_before, read_after; /* guest code the frontend also read, before
                                     pc and past pc + guest_size (for
                                     flags_dead_slots): the translation depends
                                     on those bytes too */

    IrTempInfo *temps;            /* [0] reserved, then globals, then the rest */
    uint32_t n_temps, cap_temps;
    IrInst *ops;
    uint32_t n_ops, cap_ops;
    IrGuestInsn *insns;
    uint32_t n_insns, cap_insns;
    uint32_t n_labels;
    bool simplify;                /* builder folds as it emits (default true) */
    /* Private to ir/: open-addressing table deduplicating constants. */
    uint32_t *const_tab;          /* temp ids, 0 = empty */
    uint32_t const_tab_cap;       /* power of two (0 before the first const) */
    uint32_t n_consts;
} IrBlock;

IrBlock *ir_block_new(const IrGlobalSet *globals, uint64_t pc, uint32_t flags);
void ir_block_free(IrBlock *b);
/* Drop ops marked dead and renumber nothing else. */
void ir_compact(IrBlock *b);

/* ---- builder (ir/ir-builder.c): simplifies while it emits ------------------ */
IrTemp ir_const(IrBlock *b, IrType t, uint64_t v);
IrTemp ir_const128(IrBlock *b, IrType t, uint64_t lo, uint64_t hi);
IrTemp ir_new_temp(IrBlock *b, IrType t);
uint32_t ir_new_label(IrBlock *b);
/* Append a raw instruction (no simplification); returns its index. */
uint32_t ir_emit(IrBlock *b, IrOpcode opc, IrType t, const IrTemp *args,
                 const uint64_t *consts);

void ir_insn_start(IrBlock *b, uint64_t pc, uint32_t len);
/* dst = src, both of type t (dst may be a global). */
void ir_mov(IrBlock *b, IrType t, IrTemp dst, IrTemp src);
/* The value-producing builders return a fresh local (or a constant). */
IrTemp ir_unop(IrBlock *b, IrOpcode opc, IrType t, IrTemp a);
IrTemp ir_binop(IrBlock *b, IrOpcode opc, IrType t, IrTemp a, IrTemp c);
#define ir_add(b, t, x, y)  ir_binop(b, IR_OP_add, t, x, y)
#define ir_sub(b, t, x, y)  ir_binop(b, IR_OP_sub, t, x, y)
#define ir_mul(b, t, x, y)  ir_binop(b, IR_OP_mul, t, x, y)
#define ir_and(b, t, x, y)  ir_binop(b, IR_OP_and, t, x, y)
#define ir_or(b, t, x, y)   ir_binop(b, IR_OP_or, t, x, y)
#define ir_xor(b, t, x, y)  ir_binop(b, IR_OP_xor, t, x, y)
#define ir_shl(b, t, x, y)  ir_binop(b, IR_OP_shl, t, x, y)
#define ir_shr(b, t, x, y)  ir_binop(b, IR_OP_shr, t, x, y)
#define ir_sar(b, t, x, y)  ir_binop(b, IR_OP_sar, t, x, y)
#define ir_not(b, t, x)     ir_unop(b, IR_OP_not, t, x)
#define ir_neg(b, t, x)     ir_unop(b, IR_OP_neg, t, x)
#define ir_andc(b, t, x, y)  ir_binop(b, IR_OP_andc, t, x, y)
#define ir_rotl(b, t, x, y)  ir_binop(b, IR_OP_rotl, t, x, y)
#define ir_rotr(b, t, x, y)  ir_binop(b, IR_OP_rotr, t, x, y)
#define ir_mulhu(b, t, x, y) ir_binop(b, IR_OP_mulhu, t, x, y)
#define ir_mulhs(b, t, x, y) ir_binop(b, IR_OP_mulhs, t, x, y)
#define ir_divu(b, t, x, y)  ir_binop(b, IR_OP_divu, t, x, y)
#define ir_divs(b, t, x, y)  ir_binop(b, IR_OP_divs, t, x, y)
#define ir_remu(b, t, x, y)  ir_binop(b, IR_OP_remu, t, x, y)
#define ir_rems(b, t, x, y)  ir_binop(b, IR_OP_rems, t, x, y)
#define ir_clz(b, t, x)      ir_unop(b, IR_OP_clz, t, x)
#define ir_ctz(b, t, x)      ir_unop(b, IR_OP_ctz, t, x)
#define ir_popcnt(b, t, x)   ir_unop(b, IR_OP_popcnt, t, x)
#define ir_bswap(b, t, x)    ir_unop(b, IR_OP_bswap, t, x)
#define ir_bitrev(b, t, x)   ir_unop(b, IR_OP_bitrev, t, x)
/* Conversions: to type `to` from temp `a` of type `from`. */
IrTemp ir_zext(IrBlock *b, IrType to, IrType from, IrTemp a);
IrTemp ir_sext(IrBlock *b, IrType to, IrType from, IrTemp a);
IrTemp ir_trunc(IrBlock *b, IrType to, IrType from, IrTemp a);
IrTemp ir_bitcast(IrBlock *b, IrType to, IrTemp a);
IrTemp ir_concat(IrBlock *b, IrType t, IrTemp lo, IrTemp hi);
IrTemp ir_high64(IrBlock *b, IrTemp a);
IrTemp ir_extract(IrBlock *b, IrType t, IrTemp a, unsigned pos, unsigned len);
IrTemp ir_sextract(IrBlock *b, IrType t, IrTemp a, unsigned pos, unsigned len);
IrTemp ir_deposit(IrBlock *b, IrType t, IrTemp a, IrTemp v, unsigned pos, unsigned len);
IrTemp ir_setcond(IrBlock *b, IrType t, IrCond c, IrTemp x, IrTemp y);
IrTemp ir_movcond(IrBlock *b, IrType t, IrCond c, IrTemp x, IrTemp y, IrTemp v1, IrTemp v2);
IrTemp ir_ld(IrBlock *b, IrType t, IrTemp addr, IrMemOp mo);
void ir_st(IrBlock *b, IrType t, IrTemp addr, IrTemp val, IrMemOp mo);
IrTemp ir_cmpxchg(IrBlock *b, IrType t, IrTemp addr, IrTemp expect, IrTemp newv, IrMemOp mo);
IrTemp ir_atomic_rmw(IrBlock *b, IrType t, IrRmwOp op, IrTemp addr, IrTemp val, IrMemOp mo);
void ir_fence(IrBlock *b, IrFence kind);
void ir_prefetch(IrBlock *b, IrTemp addr, IrPrefetch hint);
IrTemp ir_ldenv(IrBlock *b, IrType t, uint32_t offset);
void ir_stenv(IrBlock *b, IrType t, uint32_t offset, IrTemp val);
/* Helper call: up to 5 arguments (the env argument, if the helper takes one,
 * is implicit).  Returns IR_TEMP_NONE for void helpers. */
IrTemp ir_call(IrBlock *b, unsigned helper_id, const IrTemp *args, unsigned n_args);
void ir_label(IrBlock *b, uint32_t label);
void ir_br(IrBlock *b, uint32_t label);
void ir_brcond(IrBlock *b, IrType t, IrCond c, IrTemp x, IrTemp y, uint32_t label);
/* Chain slots per block: a block may leave through up to this many direct
 * jumps (a conditional branch on the way plus the final one or two). */
#define IR_GOTO_TB_SLOTS 4
void ir_goto_tb(IrBlock *b, unsigned slot, uint64_t target_pc);
void ir_goto_ptr(IrBlock *b, IrTemp target_pc);
void ir_exit(IrBlock *b, IrExitReason reason, uint64_t pc);

/* ---- checking, printing, passes ------------------------------------------- */
/* Returns true if the block is well formed; otherwise writes a message
 * naming the first bad op into err. */
bool ir_verify(const IrBlock *b, char *err, size_t errlen);
void ir_print(const IrBlock *b, FILE *out);
void ir_print_inst(const IrBlock *b, const IrInst *op, FILE *out);
/* The standard pipeline: fold constants, propagate copies, drop dead code
 * and dead flag computations.  Keeps the block valid.  Any op's output may
 * be a global afterwards: copy_prop turns "t = op ...; mov g, t" (t used
 * once, op not a call, nothing in between touching g, faulting, calling or
 * branching) into "g = op ...". */
void ir_optimize(IrBlock *b);
void ir_pass_fold(IrBlock *b);
void ir_pass_copy_prop(IrBlock *b);
void ir_pass_test_fold(IrBlock *b);
void ir_pass_dce(IrBlock *b);
void ir_pass_dead_globals(IrBlock *b);
void ir_pass_env_forward(IrBlock *b);

/* ---- reference interpreter (ir/ir-interp.c): the one meaning of every op ---- */
struct IrMemIface;
/* Result of running a block: which exit was taken. */
typedef struct IrExitInfo {
    uint8_t kind;        /* IR_OP_goto_tb, IR_OP_goto_ptr or IR_OP_exit */
    uint8_t slot;        /* goto_tb chain slot */
    uint32_t reason;     /* exit: IrExitReason */
    uint32_t insn;       /* goto_tb: the exit's guest insn index (IrInst.insn_idx) */
    uint64_t pc;         /* next guest pc */
    uint64_t fault_addr; /* IR_INTERP_FAULT on a misaligned access: its address
                            (other faults are reported by the IrMemIface) */
} IrExitInfo;

/* Guest memory as the interpreter sees it.  Returning false means the
 * access faulted: the interpreter stops with *fault set. */
typedef struct IrMemIface {
    void *opaque;
    bool (*load)(void *opaque, uint64_t addr, IrMemOp mo, void *out);
    bool (*store)(void *opaque, uint64_t addr, IrMemOp mo, const void *in);
    /* Atomics; in/out are IR_MO_BYTES(mo) bytes. */
    bool (*cmpxchg)(void *opaque, uint64_t addr, IrMemOp mo, const void *expect,
                    const void *newv, void *old);
    bool (*rmw)(void *opaque, uint64_t addr, IrMemOp mo, IrRmwOp op, const void *val,
                void *old);
} IrMemIface;

typedef enum IrInterpStatus {
    IR_INTERP_EXITED,   /* *exit says which exit; env->pc is set */
    IR_INTERP_FAULT,    /* memory fault: *fault_insn, env->pc = that insn's pc */
    IR_INTERP_INVALID,  /* malformed block (ran off its end, bad label...) */
} IrInterpStatus;
/* Run b with CPU state env.  On a fault, *fault_insn is the guest insn index
 * and the globals hold the state before that instruction; env->pc is set to
 * the pc of that instruction too.  Decodes b on every call: for repeated
 * execution prepare once with ir_interp_prepare. */
IrInterpStatus ir_interp_run(const IrBlock *b, void *env, const IrMemIface *mem,
                             IrExitInfo *exit, uint32_t *fault_insn);

/* Pre-decoded form of a block for repeated execution (--tier=interp).  It
 * copies everything it needs: b may be freed afterwards.  Returns NULL (and
 * writes a message into err if non-NULL) when b cannot be run. */
typedef struct IrInterpCode IrInterpCode;
IrInterpCode *ir_interp_prepare(const IrBlock *b, char *err, size_t errlen);
IrInterpStatus ir_interp_exec(const IrInterpCode *code, void *env, const IrMemIface *mem,
                              IrExitInfo *exit, uint32_t *fault_insn);
void ir_interp_free(IrInterpCode *code);
/* Guest pc of insn idx of a prepared block (for fault reporting). */
uint64_t ir_interp_insn_pc(const IrInterpCode *code, uint32_t insn_idx);

/* The value an atomic_rmw stores: op(old, val) on `bytes`-wide integers
 * (signed min/max compare at that width).  For IrMemIface implementations. */
uint64_t ir_rmw_apply(IrRmwOp op, unsigned bytes, uint64_t old, uint64_t val);

#endif /* EMU_IR_IR_H */
