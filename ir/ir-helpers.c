/* ir-helpers.c - the helper descriptor table, generated from helpers.def. */
#include "ir/ir-helpers.h"

#include <string.h>

#define IR_H_ENVFLAG(...) IR_H_CAT(IR_HENV_, IR_H_FIRST(__VA_ARGS__))
/* number of IR operands: token count minus env and minus a lone `void` */
#define IR_H_ISVOID_void 1
#define IR_H_ISVOID_i32 0
#define IR_H_ISVOID_i64 0
#define IR_H_ISVOID_f32 0
#define IR_H_ISVOID_f64 0
#define IR_H_ISVOID_ptr 0
#define IR_H_ISVOID_env 0
#define IR_H_NOPS(...) \
    (IR_H_NARGS(__VA_ARGS__) - IR_H_ENVFLAG(__VA_ARGS__) - \
     IR_H_CAT(IR_H_ISVOID_, IR_H_FIRST(__VA_ARGS__)))

const IrHelperInfo ir_helper_info[IR_HELPER_COUNT] = {
/* (macro parameters must not be named like the fields: .name, .ret) */
#define DEF_HELPER(nm, fl, rt, ...)                                             \
    [IR_HELPER_##nm] = {                                                        \
        .name = #nm, .fn = (void *)helper_##nm, .flags = (fl),                  \
        .ret = IR_HT_##rt, .takes_env = IR_H_ENVFLAG(__VA_ARGS__),              \
        .n_args = IR_H_NOPS(__VA_ARGS__),                                       \
        .args = {IR_H_MAP(IR_H_IRTYPE, __VA_ARGS__)},                           \
    },
#include "ir/helpers.def"
#undef DEF_HELPER
};

void helper_ir_debug_nop(void) {}
uint64_t helper_ir_test_add3(uint64_t a, uint64_t b, uint64_t c) { return a + b + c; }
uint32_t helper_ir_test_mix32(uint32_t a, uint64_t b) { return (uint32_t)(a * 3u + b); }
uint64_t helper_ir_test_get_pc(void *env) { return *(const uint64_t *)env; /* CpuCommon.pc */ }
void helper_ir_test_store_env64(void *env, uint64_t off, uint64_t val)
{
    memcpy((char *)env + off, &val, sizeof val);
}
