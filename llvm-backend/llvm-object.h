/*
 * llvm-object.h - regions -> one relocatable ELF object in memory, for the
 * persistent code cache (llvm-tier.h: EmuLlvmObject has the symbol
 * contract; runtime/objload.h loads the result without LLVM).
 *
 *   LlvmObjTarget *t = llvm_obj_target_new(2, err, sizeof err);
 *   LlvmObjJob job = { .helpers = ir_helper_info, .n_helpers = n, .pipeline = "default<O2>" };
 *   EmuLlvmObject o;
 *   if (llvm_obj_compile(t, &job, regions, n, &o, err, sizeof err)) ... free(o.data);
 *   llvm_obj_target_free(t);
 */
#ifndef EMU_LLVM_BACKEND_LLVM_OBJECT_H
#define EMU_LLVM_BACKEND_LLVM_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "llvm-backend/llvm-tier.h"

typedef struct LlvmObjTarget LlvmObjTarget;

/* What one compile needs from the owning EmuLlvmCtx. */
typedef struct LlvmObjJob {
    const IrHelperInfo *helpers;
    uint32_t n_helpers;
    const char *pipeline;          /* LLVMRunPasses pipeline, NULL: none */
    bool verify;
    FILE *dump;                    /* EMU_LLVM_DUMP_* output, NULL: none */
    unsigned dump_what;
} LlvmObjJob;

/* A target machine for objects: host CPU and features, code generation
 * level cg (0..3), the code model of EMU_LLVM_OBJ_CODE_MODEL_ENV (default
 * large).  NULL with a message. */
LlvmObjTarget *llvm_obj_target_new(unsigned cg, char *err, size_t errlen);
void llvm_obj_target_free(LlvmObjTarget *t);

bool llvm_obj_compile(LlvmObjTarget *t, const LlvmObjJob *job, const EmuLlvmRegion *const *regions,
                      uint32_t n, EmuLlvmObject *out, char *err, size_t errlen);

/* See EmuLlvmApi.host_features. */
size_t llvm_obj_host_features(const LlvmObjTarget *t, char *buf, size_t n);

#endif /* EMU_LLVM_BACKEND_LLVM_OBJECT_H */
