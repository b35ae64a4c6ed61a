/*
 * llvm-jit.c - the LLVM tier module's entry point: compiler contexts (one
 * ORC LLJIT each), the optimisation pipeline and the EmuLlvmApi table that
 * the runtime gets with dlsym("emu_llvm_api").
 *
 * One compile: a fresh LLVMContext and module -> llvm_lower() -> verify
 * (optional) -> LLVMRunPasses(pipeline) -> ThreadSafeModule added to the
 * main JITDylib under its own ResourceTracker -> lookup of the function.
 * release() removes the tracker, which frees the code.
 *
 * Errors never abort: every LLVMErrorRef is checked, the message goes to
 * err, and the caller keeps its template code.
 */
#include "llvm-backend/llvm-tier.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/OrcEE.h>
#include <sys/mman.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llvm-backend/llvm-lower.h"
#include "llvm-backend/llvm-object.h"

/* One arena for all JIT code and data of a context.  ORC's default memory
 * manager maps every module on its own, and --tier=llvm compiles one module
 * per block (python3: ~40k), past vm.max_map_count.  A bump allocator over
 * one RWX reservation, like the template code buffer; space comes back only
 * with the context.  Compiles are refused once it is nearly full (the
 * runtime keeps template code), as RuntimeDyld aborts on a failed
 * allocation. */
#define JIT_ARENA_SIZE ((size_t)4 << 30)
#define JIT_ARENA_MARGIN ((size_t)64 << 20)
typedef struct JitArena {
    uint8_t *base;
    size_t used;
    pthread_mutex_t lock;
} JitArena;

static uint8_t *arena_alloc(void *opaque, uintptr_t size, unsigned align)
{
    JitArena *a = opaque;
    if (align < 16)
        align = 16;
    pthread_mutex_lock(&a->lock);
    size_t at = (a->used + align - 1) & ~((size_t)align - 1);
    uint8_t *p = NULL;
    if (at + size <= JIT_ARENA_SIZE) {
        p = a->base + at;
        a->used = at + size;
    }
    pthread_mutex_unlock(&a->lock);
    return p;
}

static void *arena_ctx(void *ctx) { return ctx; }
static void arena_terminating(void *ctx) { (void)ctx; }
static uint8_t *arena_code(void *o, uintptr_t size, unsigned align, unsigned id, const char *name)
{
    (void)id;
    (void)name;
    return arena_alloc(o, size, align);
}
static uint8_t *arena_data(void *o, uintptr_t size, unsigned align, unsigned id, const char *name,
                           LLVMBool ro)
{
    (void)id;
    (void)name;
    (void)ro;
    return arena_alloc(o, size, align);
}
static LLVMBool arena_finalize(void *o, char **err)
{
    (void)o;
    (void)err;
    return 0; /* RWX already; x86 needs no cache flush */
}
static void arena_destroy(void *o) { (void)o; }

static LLVMOrcObjectLayerRef arena_layer(void *ctx, LLVMOrcExecutionSessionRef es,
                                         const char *triple)
{
    (void)triple;
    return LLVMOrcCreateRTDyldObjectLinkingLayerWithMCJITMemoryManagerLikeCallbacks(
        es, ctx, arena_ctx, arena_terminating, arena_code, arena_data, arena_finalize,
        arena_destroy);
}

struct EmuLlvmCtx {
    JitArena arena;
    EmuLlvmOptions opt;
    LLVMOrcLLJITRef jit;
    LLVMOrcJITDylibRef jd;
    LLVMTargetMachineRef tm;      /* for the pass pipeline (host CPU and features) */
    char *triple, *data_layout;
    const char *pipeline;
    uint64_t n_compiled;          /* unique function names */
    FILE *ir_dump;
    unsigned dump_what;           /* EMU_LLVM_DUMP_* */
    LlvmObjTarget *obj;           /* compile_object's target machine (lazy) */
};

#define EXPORT __attribute__((visibility("default")))

static uint64_t thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Move an LLVM error into err (consumes it). */
static void take_error(LLVMErrorRef e, const char *what, char *err, size_t errlen)
{
    char *m = LLVMGetErrorMessage(e); /* consumes e */
    snprintf(err, errlen, "%s: %s", what, m ? m : "?");
    LLVMDisposeErrorMessage(m);
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static void init_targets(void)
{
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
}

static LLVMCodeGenOptLevel cg_level(unsigned l)
{
    switch (l) {
    case 0: return LLVMCodeGenLevelNone;
    case 1: return LLVMCodeGenLevelLess;
    case 3: return LLVMCodeGenLevelAggressive;
    default: return LLVMCodeGenLevelDefault;
    }
}

/* A target machine for the host CPU with its features (popcnt, lzcnt,
 * bmi, cx16...), JIT code model. */
static LLVMTargetMachineRef host_tm(unsigned cg, char *err, size_t errlen)
{
    char *triple = LLVMGetDefaultTargetTriple();
    LLVMTargetRef target;
    char *msg = NULL;
    if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
        snprintf(err, errlen, "no LLVM target for %s: %s", triple, msg ? msg : "?");
        LLVMDisposeMessage(msg);
        LLVMDisposeMessage(triple);
        return NULL;
    }
    char *cpu = LLVMGetHostCPUName(), *feat = LLVMGetHostCPUFeatures();
    LLVMTargetMachineRef tm = LLVMCreateTargetMachine(target, triple, cpu, feat, cg_level(cg),
                                                      LLVMRelocDefault, LLVMCodeModelJITDefault);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(feat);
    LLVMDisposeMessage(triple);
    if (!tm)
        snprintf(err, errlen, "cannot create an LLVM target machine");
    return tm;
}

static void ctx_destroy(EmuLlvmCtx *c)
{
    if (!c)
        return;
    if (c->jit) {
        LLVMErrorRef e = LLVMOrcDisposeLLJIT(c->jit);
        if (e) {
            char m[256];
            take_error(e, "LLJIT dispose", m, sizeof m);
            fprintf(stderr, "emu: llvm: %s\n", m);
        }
    }
    if (c->tm)
        LLVMDisposeTargetMachine(c->tm);
    llvm_obj_target_free(c->obj);
    LLVMDisposeMessage(c->triple);
    LLVMDisposeMessage(c->data_layout);
    if (c->arena.base)
        munmap(c->arena.base, JIT_ARENA_SIZE);
    free(c);
}

static EmuLlvmCtx *ctx_create(const EmuLlvmOptions *opt, char *err, size_t errlen)
{
    if (!opt || !opt->helpers) {
        snprintf(err, errlen, "no helper table");
        return NULL;
    }
    pthread_once(&init_once, init_targets);
    EmuLlvmCtx *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->opt = *opt;
    unsigned lvl = opt->opt_set ? opt->opt_level : 2;
    c->pipeline = lvl == 0 ? NULL
                : lvl == 1 ? "function(sroa,early-cse,instcombine<no-verify-fixpoint>,"
                             "simplifycfg,dse,adce)"
                           : "default<O2>";
    unsigned cg = opt->codegen_set ? opt->codegen_level : 2;
    c->tm = host_tm(cg, err, errlen);
    if (!c->tm)
        goto fail;
    LLVMTargetMachineRef jit_tm = host_tm(cg, err, errlen);
    if (!jit_tm)
        goto fail;
    /* The builder takes the JTMB, which takes jit_tm (ownership moves twice). */
    LLVMOrcJITTargetMachineBuilderRef jtmb = LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(jit_tm);
    LLVMOrcLLJITBuilderRef jb = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(jb, jtmb);
    c->arena.base = mmap(NULL, JIT_ARENA_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (c->arena.base == MAP_FAILED) {
        c->arena.base = NULL;
        snprintf(err, errlen, "cannot reserve the JIT arena");
        LLVMOrcDisposeLLJITBuilder(jb);
        goto fail;
    }
    pthread_mutex_init(&c->arena.lock, NULL);
    LLVMOrcLLJITBuilderSetObjectLinkingLayerCreator(jb, arena_layer, &c->arena);
    LLVMErrorRef e = LLVMOrcCreateLLJIT(&c->jit, jb); /* consumes jb */
    if (e) {
        c->jit = NULL;
        take_error(e, "LLJIT", err, errlen);
        goto fail;
    }
    c->jd = LLVMOrcLLJITGetMainJITDylib(c->jit);
    /* Code generation may call libc/compiler-rt routines (memcpy, ...):
     * resolve them in the process. */
    LLVMOrcDefinitionGeneratorRef gen;
    e = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
        &gen, LLVMOrcLLJITGetGlobalPrefix(c->jit), NULL, NULL);
    if (e) {
        take_error(e, "process symbol generator", err, errlen);
        goto fail;
    }
    LLVMOrcJITDylibAddGenerator(c->jd, gen); /* the dylib owns gen now */
    c->triple = LLVMCreateMessage(LLVMOrcLLJITGetTripleString(c->jit));
    c->data_layout = LLVMCreateMessage(LLVMOrcLLJITGetDataLayoutStr(c->jit));
    return c;
fail:
    ctx_destroy(c);
    return NULL;
}

static void set_ir_dump(EmuLlvmCtx *c, void *file)
{
    c->ir_dump = file;
    c->dump_what = file ? EMU_LLVM_DUMP_IR_AFTER : 0;
}

static void set_dump(EmuLlvmCtx *c, void *file, unsigned what)
{
    c->ir_dump = what ? file : NULL;
    c->dump_what = file ? what : 0;
}

static void dump_module(EmuLlvmCtx *c, LLVMModuleRef M, const char *name, const char *when)
{
    char *s = LLVMPrintModuleToString(M);
    fprintf(c->ir_dump, "LLVM IR %s (%s):\n%s\n", when, name, s);
    LLVMDisposeMessage(s);
}

/* Host assembly of M, from a clone: code generation changes the module it
 * runs on, and the JIT compiles the original. */
static void dump_asm(EmuLlvmCtx *c, LLVMModuleRef M, const char *name)
{
    LLVMModuleRef clone = LLVMCloneModule(M);
    char *msg = NULL;
    LLVMMemoryBufferRef buf = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(c->tm, clone, LLVMAssemblyFile, &msg, &buf)) {
        fprintf(c->ir_dump, "LLVM asm (%s): not available: %s\n", name, msg ? msg : "?");
    } else {
        fprintf(c->ir_dump, "LLVM asm (%s):\n%.*s\n", name, (int)LLVMGetBufferSize(buf),
                LLVMGetBufferStart(buf));
        LLVMDisposeMemoryBuffer(buf);
    }
    LLVMDisposeMessage(msg);
    LLVMDisposeModule(clone);
}

static void code_release(EmuLlvmCtx *c, EmuLlvmCode *code)
{
    if (!code || !code->rt)
        return;
    LLVMOrcResourceTrackerRef rt = code->rt;
    LLVMErrorRef e = LLVMOrcResourceTrackerRemove(rt);
    if (e) {
        char m[256];
        take_error(e, "releasing code", m, sizeof m);
        fprintf(stderr, "emu: llvm: %s\n", m);
    }
    LLVMOrcReleaseResourceTracker(rt);
    code->rt = NULL;
    code->entry = NULL;
}

static bool compile(EmuLlvmCtx *c, const EmuLlvmRegion *r, EmuLlvmCode *out, char *err,
                    size_t errlen)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&c->arena.lock);
    bool full = c->arena.used + JIT_ARENA_MARGIN > JIT_ARENA_SIZE;
    pthread_mutex_unlock(&c->arena.lock);
    if (full) {
        snprintf(err, errlen, "the JIT arena is full");
        return false;
    }
    uint64_t t0 = thread_ns();
    char name[48];
    snprintf(name, sizeof name, "emu_region_%llu", (unsigned long long)++c->n_compiled);

    /* The thread-safe context owns the LLVMContext; the module lives in it. */
    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMContextRef C = LLVMOrcThreadSafeContextGetContext(tsc);
    LLVMModuleRef M = LLVMModuleCreateWithNameInContext(name, C);
    LLVMSetTarget(M, c->triple);
    LLVMSetDataLayout(M, c->data_layout);
    LlvmLowerIn in = { .region = r, .helpers = c->opt.helpers, .n_helpers = c->opt.n_helpers };
    bool ok = llvm_lower(C, M, name, &in, err, errlen);
    uint64_t t1 = thread_ns();
    if (ok && c->opt.verify) {
        char *msg = NULL;
        if (LLVMVerifyModule(M, LLVMReturnStatusAction, &msg)) {
            snprintf(err, errlen, "invalid LLVM IR: %s", msg ? msg : "?");
            ok = false;
        }
        LLVMDisposeMessage(msg);
    }
    if (ok && c->ir_dump && (c->dump_what & EMU_LLVM_DUMP_IR_BEFORE))
        dump_module(c, M, name, "before optimisation");
    if (ok && c->pipeline) {
        LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
        LLVMErrorRef e = LLVMRunPasses(M, c->pipeline, c->tm, po);
        LLVMDisposePassBuilderOptions(po);
        if (e) {
            take_error(e, "pass pipeline", err, errlen);
            ok = false;
        }
    }
    uint64_t t2 = thread_ns();
    if (ok && c->ir_dump && (c->dump_what & EMU_LLVM_DUMP_IR_AFTER))
        dump_module(c, M, name, "after optimisation");
    if (ok && c->ir_dump && (c->dump_what & EMU_LLVM_DUMP_ASM))
        dump_asm(c, M, name);
    if (c->ir_dump)
        fflush(c->ir_dump);
    if (!ok) {
        LLVMDisposeModule(M);
        LLVMOrcDisposeThreadSafeContext(tsc);
        return false;
    }
    /* The TSM takes the module; the TSC handle can go (the TSM keeps a
     * reference to the context). */
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(M, tsc);
    LLVMOrcDisposeThreadSafeContext(tsc);
    LLVMOrcResourceTrackerRef rt = LLVMOrcJITDylibCreateResourceTracker(c->jd);
    LLVMErrorRef e = LLVMOrcLLJITAddLLVMIRModuleWithRT(c->jit, rt, tsm);
    if (e) {
        /* If adding the module fails we still own it; on success the JIT does. */
        LLVMOrcDisposeThreadSafeModule(tsm);
        LLVMOrcReleaseResourceTracker(rt);
        take_error(e, "adding the module", err, errlen);
        return false;
    }
    LLVMOrcExecutorAddress addr = 0;
    e = LLVMOrcLLJITLookup(c->jit, &addr, name); /* compiles it */
    if (e || !addr) {
        if (e)
            take_error(e, "lookup", err, errlen);
        else
            snprintf(err, errlen, "lookup of %s gave no address", name);
        LLVMErrorRef e2 = LLVMOrcResourceTrackerRemove(rt);
        if (e2)
            LLVMConsumeError(e2);
        LLVMOrcReleaseResourceTracker(rt);
        return false;
    }
    uint64_t t3 = thread_ns();
    if (c->ir_dump) {
        fprintf(c->ir_dump, "LLVM code (%s) at 0x%llx\n", name, (unsigned long long)addr);
        fflush(c->ir_dump);
    }
    out->entry = (EmuLlvmEntry)(uintptr_t)addr;
    out->rt = rt;
    out->lower_ns = t1 - t0;
    out->opt_ns = t2 - t1;
    out->codegen_ns = t3 - t2;
    return true;
}

/* ---- relocatable objects for the persistent cache (llvm-object.c) ---- */

static LlvmObjTarget *obj_target(EmuLlvmCtx *c, char *err, size_t errlen)
{
    if (!c->obj)
        c->obj = llvm_obj_target_new(c->opt.codegen_set ? c->opt.codegen_level : 2, err, errlen);
    return c->obj;
}

static bool compile_object(EmuLlvmCtx *c, const EmuLlvmRegion *const *regions, uint32_t n,
                           EmuLlvmObject *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    LlvmObjTarget *t = obj_target(c, err, errlen);
    if (!t)
        return false;
    LlvmObjJob job = { .helpers = c->opt.helpers, .n_helpers = c->opt.n_helpers,
                       .pipeline = c->pipeline, .verify = c->opt.verify,
                       .dump = c->ir_dump, .dump_what = c->dump_what };
    return llvm_obj_compile(t, &job, regions, n, out, err, errlen);
}

static size_t host_features(EmuLlvmCtx *c, char *buf, size_t n)
{
    char err[128];
    LlvmObjTarget *t = obj_target(c, err, sizeof err);
    if (!t) {
        if (n)
            buf[0] = 0;
        return 0;
    }
    return llvm_obj_host_features(t, buf, n);
}

static const EmuLlvmApi api = {
    .abi_version = EMU_LLVM_ABI_VERSION,
    .size = sizeof(EmuLlvmApi),
    .create = ctx_create,
    .destroy = ctx_destroy,
    .compile = compile,
    .release = code_release,
    .set_ir_dump = set_ir_dump,
    .set_dump = set_dump,
    .compile_object = compile_object,
    .host_features = host_features,
};

EXPORT const EmuLlvmApi *emu_llvm_api(int abi_version)
{
    return abi_version == EMU_LLVM_ABI_VERSION ? &api : NULL;
}
