/*
 * ir-helpers.h - runtime helpers callable from IR, declared once in
 * ir/helpers.def (which includes each module's own .def file):
 *
 *   DEF_HELPER(name, flags, ret, args...)
 *
 * ret and args are type tokens: void i32 i64 f32 f64 ptr, and `env` (only as
 * the first argument: the CPU state pointer, passed implicitly by backends,
 * never an IR operand).  f32/f64 travel as IEEE bits in integer registers,
 * so the C function takes/returns uint32_t/uint64_t for them.  One line
 * gives the C prototype (helper_NAME), the IrHelperId and the descriptor the
 * backends (and later the LLVM tier) use.
 *
 *   DEF_HELPER(a64_fadd_d, IR_HF_ENV_PRIVATE, f64, env, f64, f64)
 *   => uint64_t helper_a64_fadd_d(void *env, uint64_t, uint64_t);
 *      IR_HELPER_a64_fadd_d
 */
#ifndef EMU_IR_IR_HELPERS_H
#define EMU_IR_IR_HELPERS_H

#include <stdint.h>
#include "ir/ir.h"

/* Helper flags: what a backend must do around the call. */
enum {
    IR_HF_PURE         = 1u << 0, /* result depends only on arguments; no env */
    IR_HF_ENV_PRIVATE  = 1u << 1, /* touches only env fields that are not IR
                                     globals (fpcr/fpsr, vector regs...) */
    IR_HF_READS_GLOBALS  = 1u << 2, /* globals must be written back first */
    IR_HF_WRITES_GLOBALS = 1u << 3, /* cached globals are stale afterwards */
    IR_HF_CAN_FAULT    = 1u << 4, /* may raise a guest exception (longjmp to the
                                     loop): globals written back and env->pc =
                                     the current guest insn before the call */
    IR_HF_NORETURN     = 1u << 5, /* never returns (raises) */
};

/* C types of the tokens. */
#define IR_HC_void void
#define IR_HC_i32  uint32_t
#define IR_HC_i64  uint64_t
#define IR_HC_f32  uint32_t
#define IR_HC_f64  uint64_t
#define IR_HC_ptr  void *
#define IR_HC_env  void *
/* IrType of the tokens (env: IR_VOID, filtered out). */
#define IR_HT_void IR_VOID
#define IR_HT_i32  IR_I32
#define IR_HT_i64  IR_I64
#define IR_HT_f32  IR_F32
#define IR_HT_f64  IR_F64
#define IR_HT_ptr  IR_I64
#define IR_HT_env  IR_VOID
#define IR_HENV_void 0
#define IR_HENV_i32 0
#define IR_HENV_i64 0
#define IR_HENV_f32 0
#define IR_HENV_f64 0
#define IR_HENV_ptr 0
#define IR_HENV_env 1

/* Variadic plumbing: apply a macro to each of up to 6 type tokens. */
#define IR_H_NARGS(...) IR_H_NARGS_(__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)
#define IR_H_NARGS_(a, b, c, d, e, f, n, ...) n
#define IR_H_CAT(a, b) IR_H_CAT_(a, b)
#define IR_H_CAT_(a, b) a##b
#define IR_H_MAP(m, ...) IR_H_CAT(IR_H_MAP, IR_H_NARGS(__VA_ARGS__))(m, __VA_ARGS__)
#define IR_H_MAP1(m, a) m(a)
#define IR_H_MAP2(m, a, ...) m(a), IR_H_MAP1(m, __VA_ARGS__)
#define IR_H_MAP3(m, a, ...) m(a), IR_H_MAP2(m, __VA_ARGS__)
#define IR_H_MAP4(m, a, ...) m(a), IR_H_MAP3(m, __VA_ARGS__)
#define IR_H_MAP5(m, a, ...) m(a), IR_H_MAP4(m, __VA_ARGS__)
#define IR_H_MAP6(m, a, ...) m(a), IR_H_MAP5(m, __VA_ARGS__)
#define IR_H_CTYPE(tok) IR_HC_##tok
#define IR_H_IRTYPE(tok) IR_HT_##tok
#define IR_H_FIRST(a, ...) a

typedef enum IrHelperId {
#define DEF_HELPER(name, flags, ret, ...) IR_HELPER_##name,
#include "ir/helpers.def"
#undef DEF_HELPER
    IR_HELPER_COUNT
} IrHelperId;

/* Prototypes: helper_NAME(args...).  A helper without arguments uses
 * the single token `void`. */
#define DEF_HELPER(name, flags, ret, ...) \
    IR_HC_##ret helper_##name(IR_H_MAP(IR_H_CTYPE, __VA_ARGS__));
#include "ir/helpers.def"
#undef DEF_HELPER

typedef struct IrHelperInfo {
    const char *name;
    void *fn;             /* the C function */
    uint32_t flags;       /* IR_HF_* */
    uint8_t ret;          /* IrType of the result (IR_VOID for none) */
    uint8_t takes_env;    /* first C argument is env (not an IR operand) */
    uint8_t n_args;       /* IR operands, env excluded */
    uint8_t args[6];      /* IrType of every token in order, env included
                             (as IR_VOID): IR operand i is args[i + takes_env] */
} IrHelperInfo;

/* Indexed by IrHelperId; defined in ir/ir-helpers.c (the emu_helper_table
 * library, which links every module that defines helpers). */
extern const IrHelperInfo ir_helper_info[IR_HELPER_COUNT];

#endif /* EMU_IR_IR_HELPERS_H */
