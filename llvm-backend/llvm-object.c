/*
 * llvm-object.c - the cache half of the LLVM tier: a batch of regions
 * lowered into ONE LLVM module (functions emu_r0..emu_r<n-1>), optimised
 * with the context's pipeline and emitted as an ELF64 relocatable object
 * into memory.  runtime/objload.c links such objects without LLVM
 * (design.md invariant 8).
 *
 * Relocatable: llvm_lower() in object mode replaces the three constants the
 * JIT bakes in (region tag, helper addresses, --stats counter addresses) by
 * external symbols (llvm-tier.h lists them).
 *
 * Code model: large + static relocation model by default.  Every reference
 * is then an absolute 64-bit immediate (movabs, R_X86_64_64): helpers and
 * tags live anywhere in the address space, the loader needs no PLT/GOT, and
 * the code is what the JIT produces (ORC's x86-64 default is the large
 * model too), except that exits compute tag + kind as movabs + add (the
 * large model does not fold an offset into a symbol's movabs).  Small PIC
 * (the EMU_LLVM_OBJ_CODE_MODEL=small-pic experiment: RIP-relative constant
 * pools, PLT32 calls through loader stubs, tags through GOT loads) measured
 * on 1000 random regions at O2: code 788 KB vs 804 KB (2% smaller),
 * 3359 vs 3280 relocations, load 0.50 vs 0.51 µs per function, running
 * every function 200 times 15.0 vs 14.7 ms: no gain worth a second
 * relocation scheme, so large is the default and small PIC stays tested.
 *
 * One compile: LLVMContext + module -> llvm_lower() per region -> verify
 * (optional) -> LLVMRunPasses -> LLVMTargetMachineEmitToMemoryBuffer ->
 * copy into a malloc()ed buffer the caller owns.
 */
#include "llvm-backend/llvm-object.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llvm-backend/llvm-lower.h"

struct LlvmObjTarget {
    LLVMTargetMachineRef tm;
    LLVMTargetDataRef dl;
    char *triple, *cpu, *features; /* LLVM messages */
    const char *model;             /* "large" or "small-pic" */
};

static uint64_t obj_thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static LLVMCodeGenOptLevel obj_cg_level(unsigned l)
{
    switch (l) {
    case 0: return LLVMCodeGenLevelNone;
    case 1: return LLVMCodeGenLevelLess;
    case 3: return LLVMCodeGenLevelAggressive;
    default: return LLVMCodeGenLevelDefault;
    }
}

void llvm_obj_target_free(LlvmObjTarget *t)
{
    if (!t)
        return;
    if (t->dl)
        LLVMDisposeTargetData(t->dl);
    if (t->tm)
        LLVMDisposeTargetMachine(t->tm);
    LLVMDisposeMessage(t->triple);
    LLVMDisposeMessage(t->cpu);
    LLVMDisposeMessage(t->features);
    free(t);
}

LlvmObjTarget *llvm_obj_target_new(unsigned cg, char *err, size_t errlen)
{
    LlvmObjTarget *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* The caller (llvm-jit.c) initialised the native target already. */
    t->triple = LLVMGetDefaultTargetTriple();
    t->cpu = LLVMGetHostCPUName();
    t->features = LLVMGetHostCPUFeatures();
    LLVMTargetRef target;
    char *msg = NULL;
    if (LLVMGetTargetFromTriple(t->triple, &target, &msg)) {
        snprintf(err, errlen, "no LLVM target for %s: %s", t->triple, msg ? msg : "?");
        LLVMDisposeMessage(msg);
        llvm_obj_target_free(t);
        return NULL;
    }
    const char *m = getenv(EMU_LLVM_OBJ_CODE_MODEL_ENV);
    bool small = m && !strcmp(m, "small-pic");
    if (m && !small && strcmp(m, "large")) {
        snprintf(err, errlen, "%s=%s: expected large or small-pic", EMU_LLVM_OBJ_CODE_MODEL_ENV,
                 m);
        llvm_obj_target_free(t);
        return NULL;
    }
    t->model = small ? "small-pic" : "large";
    t->tm = LLVMCreateTargetMachine(target, t->triple, t->cpu, t->features, obj_cg_level(cg),
                                    small ? LLVMRelocPIC : LLVMRelocStatic,
                                    small ? LLVMCodeModelSmall : LLVMCodeModelLarge);
    if (!t->tm) {
        snprintf(err, errlen, "cannot create an LLVM target machine for objects");
        llvm_obj_target_free(t);
        return NULL;
    }
    t->dl = LLVMCreateTargetDataLayout(t->tm);
    return t;
}

size_t llvm_obj_host_features(const LlvmObjTarget *t, char *buf, size_t n)
{
    unsigned maj = 0, min = 0, pat = 0;
    LLVMGetVersion(&maj, &min, &pat);
    int len = snprintf(buf, n, "%s llvm-%u.%u.%u %s %s %s", t->triple, maj, min, pat, t->model,
                       t->cpu, t->features);
    return len < 0 ? 0 : (size_t)len;
}

/* "emu_r0 = 0x524154 (5 blocks), ...": which guest code each function is */
static void obj_dump_names(FILE *f, const EmuLlvmRegion *const *regions, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        fprintf(f, "%s" EMU_LLVM_OBJ_FN_PREFIX "%u = 0x%" PRIx64 " (%u blocks)", i ? ", " : "", i,
                regions[i]->n_blocks ? regions[i]->blocks[0]->pc : 0, regions[i]->n_blocks);
}

static void obj_dump(const LlvmObjJob *job, LLVMModuleRef M, const char *when,
                     const EmuLlvmRegion *const *regions, uint32_t n)
{
    char *s = LLVMPrintModuleToString(M);
    fprintf(job->dump, "LLVM IR %s (object batch: ", when);
    obj_dump_names(job->dump, regions, n);
    fprintf(job->dump, "):\n%s\n", s);
    LLVMDisposeMessage(s);
}

bool llvm_obj_compile(LlvmObjTarget *t, const LlvmObjJob *job, const EmuLlvmRegion *const *regions,
                      uint32_t n, EmuLlvmObject *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!regions || n == 0) {
        snprintf(err, errlen, "no regions");
        return false;
    }
    uint64_t t0 = obj_thread_ns();
    LLVMContextRef C = LLVMContextCreate();
    LLVMModuleRef M = LLVMModuleCreateWithNameInContext("emu_cache_object", C);
    LLVMSetTarget(M, t->triple);
    LLVMSetModuleDataLayout(M, t->dl);
    /* nounwind: nothing unwinds through region code (faults siglongjmp), so
     * no .eh_frame (about 50 bytes and relocations per function). */
    unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
    bool ok = true;
    for (uint32_t i = 0; i < n && ok; i++) {
        char name[32];
        snprintf(name, sizeof name, EMU_LLVM_OBJ_FN_PREFIX "%u", i);
        if (!regions[i]) {
            snprintf(err, errlen, "region %u is NULL", i);
            ok = false;
            break;
        }
        LlvmLowerIn in = { .region = regions[i], .helpers = job->helpers,
                           .n_helpers = job->n_helpers, .object = true, .obj_index = i };
        char e2[256];
        ok = llvm_lower(C, M, name, &in, e2, sizeof e2);
        if (!ok) {
            snprintf(err, errlen, "region %u: %s", i, e2);
            break;
        }
        LLVMAddAttributeAtIndex(LLVMGetNamedFunction(M, name), LLVMAttributeFunctionIndex,
                                LLVMCreateEnumAttribute(C, nounwind, 0));
    }
    uint64_t t1 = obj_thread_ns();
    if (ok && job->verify) {
        char *msg = NULL;
        if (LLVMVerifyModule(M, LLVMReturnStatusAction, &msg)) {
            snprintf(err, errlen, "invalid LLVM IR: %s", msg ? msg : "?");
            ok = false;
        }
        LLVMDisposeMessage(msg);
    }
    if (ok && job->dump && (job->dump_what & EMU_LLVM_DUMP_IR_BEFORE))
        obj_dump(job, M, "before optimisation", regions, n);
    if (ok && job->pipeline) {
        LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
        LLVMErrorRef e = LLVMRunPasses(M, job->pipeline, t->tm, po);
        LLVMDisposePassBuilderOptions(po);
        if (e) {
            char *m = LLVMGetErrorMessage(e); /* consumes e */
            snprintf(err, errlen, "pass pipeline: %s", m ? m : "?");
            LLVMDisposeErrorMessage(m);
            ok = false;
        }
    }
    uint64_t t2 = obj_thread_ns();
    if (ok && job->dump && (job->dump_what & EMU_LLVM_DUMP_IR_AFTER))
        obj_dump(job, M, "after optimisation", regions, n);
    LLVMMemoryBufferRef buf = NULL;
    if (ok && job->dump && (job->dump_what & EMU_LLVM_DUMP_ASM)) {
        /* code generation changes the module: print from a clone */
        LLVMModuleRef clone = LLVMCloneModule(M);
        char *msg = NULL;
        if (!LLVMTargetMachineEmitToMemoryBuffer(t->tm, clone, LLVMAssemblyFile, &msg, &buf)) {
            fprintf(job->dump, "LLVM asm (object batch: ");
            obj_dump_names(job->dump, regions, n);
            fprintf(job->dump, "):\n%.*s\n", (int)LLVMGetBufferSize(buf),
                    LLVMGetBufferStart(buf));
            LLVMDisposeMemoryBuffer(buf);
            buf = NULL;
        }
        LLVMDisposeMessage(msg);
        LLVMDisposeModule(clone);
    }
    if (ok) {
        char *msg = NULL;
        if (LLVMTargetMachineEmitToMemoryBuffer(t->tm, M, LLVMObjectFile, &msg, &buf)) {
            snprintf(err, errlen, "emitting the object: %s", msg ? msg : "?");
            ok = false;
            buf = NULL;
        }
        LLVMDisposeMessage(msg);
    }
    if (ok) {
        size_t sz = LLVMGetBufferSize(buf);
        out->data = malloc(sz ? sz : 1);
        if (!out->data) {
            snprintf(err, errlen, "out of memory (%zu bytes of object)", sz);
            ok = false;
        } else {
            memcpy(out->data, LLVMGetBufferStart(buf), sz);
            out->size = sz;
        }
    }
    if (buf)
        LLVMDisposeMemoryBuffer(buf);
    if (job->dump)
        fflush(job->dump);
    LLVMDisposeModule(M);
    LLVMContextDispose(C);
    uint64_t t3 = obj_thread_ns();
    out->lower_ns = t1 - t0;
    out->opt_ns = t2 - t1;
    out->codegen_ns = t3 - t2;
    return ok;
}
