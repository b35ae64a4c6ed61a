/*
 * llvm-lower.h - IR region -> one LLVM function `i64 name(ptr env)` (see
 * llvm-tier.h for the calling convention and the exit protocol).
 *
 *   LlvmLowerIn in = { .region = &r, .helpers = ir_helper_info, .n_helpers = n };
 *   if (!llvm_lower(ctx, mod, "emu_blk_1", &in, err, sizeof err)) ...
 *
 * The function is left unoptimised: guest globals live in allocas that
 * mem2reg/SROA turn into SSA values; the caller runs the pass pipeline.
 */
#ifndef EMU_LLVM_BACKEND_LLVM_LOWER_H
#define EMU_LLVM_BACKEND_LLVM_LOWER_H

#include <llvm-c/Core.h>
#include <stdbool.h>
#include <stddef.h>
#include "llvm-backend/llvm-tier.h"

typedef struct LlvmLowerIn {
    const EmuLlvmRegion *region;
    const IrHelperInfo *helpers;
    uint32_t n_helpers;
    /* Object mode (llvm-object.c, the persistent cache): the code holds no
     * address of this process.  The tag is the address of the external
     * symbol EMU_LLVM_OBJ_TAG_PREFIX<obj_index>, helpers are external
     * functions EMU_LLVM_OBJ_HELPER_PREFIX<name>, block counters external
     * i64 objects EMU_LLVM_OBJ_COUNT_PREFIX<obj_index>_<block>. */
    bool object;
    uint32_t obj_index;
} LlvmLowerIn;

/* Adds the function to mod.  false with a message when an op cannot be
 * lowered (the module may then hold a partial function: drop the module). */
bool llvm_lower(LLVMContextRef C, LLVMModuleRef mod, const char *name, const LlvmLowerIn *in,
                char *err, size_t errlen);

#endif /* EMU_LLVM_BACKEND_LLVM_LOWER_H */
