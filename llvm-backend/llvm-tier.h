/*
 * llvm-tier.h - the C ABI between the runtime and the LLVM tier module
 * (build/lib/libemu-llvm.so).  The core binaries never link libLLVM
 * (design.md invariant 8): the runtime dlopen()s the module and reaches it
 * through one function table.
 *
 *   void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
 *   EmuLlvmApiFn get = (EmuLlvmApiFn)dlsym(h, EMU_LLVM_API_SYMBOL);
 *   const EmuLlvmApi *api = get(EMU_LLVM_ABI_VERSION);   // NULL: mismatch
 *   EmuLlvmOptions o = { .helpers = ir_helper_info, .n_helpers = IR_HELPER_COUNT };
 *   EmuLlvmCtx *c = api->create(&o, err, sizeof err);
 *   EmuLlvmRegion r = { .blocks = &b, .n_blocks = 1, .tag = (uintptr_t)tb };
 *   EmuLlvmCode code;
 *   if (api->compile(c, &r, &code, err, sizeof err))
 *       uintptr_t ret = code.entry(env);          // tag | TMPL_RET_*
 *   api->release(c, &code);  api->destroy(c);
 *
 * Calling convention of generated code: an ordinary SysV function
 * `uintptr_t entry(void *env)`, callable from C (the dispatcher calls it
 * directly, no trampoline).  It returns exactly what tmpl_enter returns for
 * a template block (template-backend/tmpl.h): tag | TMPL_RET_SLOT0 + n
 * (goto_tb not chained: env->pc = target), tag | TMPL_RET_LOOKUP (goto_ptr:
 * env->pc = target; generated code does not probe the jump cache yet) or
 * tag | TMPL_RET_EXIT (IR exit: env->exit_reason and env->pc set; guest
 * memory faults use exit_reason IR_EXIT_EXCEPTION with exception_kind
 * TMPL_EXC_SEGV/TMPL_EXC_ALIGN, exception_addr, exception_code = 1 for
 * writes, env->pc = the faulting insn, globals as before it).  All globals
 * are in env at every return.
 *
 * Precise host faults (a page fault inside the guest reservation, e.g. an
 * SMC-protected code page): before the first op that can fault in each
 * guest instruction, generated code writes every dirty global back to env
 * and stores that instruction's guest pc into env->pc (CpuCommon.pc).  So a
 * SIGSEGV anywhere in LLVM code finds env->pc = the faulting insn and the
 * globals as before it, which is what exec_fault_from_host() already
 * assumes for faults outside the template code buffer.  Guest stores are
 * volatile so LLVM keeps the write-backs before them.
 *
 * Regions: EmuLlvmRegion takes several blocks; blocks[0] is the entry.  A
 * goto_tb whose target is the pc of another block of the region (same mode
 * flags) becomes a branch inside the generated function when
 * internal_edges is set, else every goto_tb returns to the dispatcher
 * (as TMPL_RET_SLOTn, or TMPL_RET_LOOKUP with goto_tb_lookup).  Every
 * internal edge first tests CpuCommon.exit_request: when it is set the code
 * leaves as for an external edge (TMPL_RET_LOOKUP, env->pc = the target), so
 * a loop inside a region still answers the runtime's exit requests.
 *
 * Threads: one EmuLlvmCtx may be used by one thread at a time (the runtime
 * serialises compile calls, or gives its worker its own context).  Entry
 * points stay valid until release() or destroy().
 */
#ifndef EMU_LLVM_BACKEND_LLVM_TIER_H
#define EMU_LLVM_BACKEND_LLVM_TIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ir/ir.h"
#include "ir/ir-helpers.h"

#define EMU_LLVM_ABI_VERSION 2
#define EMU_LLVM_API_SYMBOL "emu_llvm_api"
/* Environment variable naming the module file (overrides the default path
 * <dir of /proc/self/exe>/../lib/libemu-llvm.so). */
#define EMU_LLVM_MODULE_ENV "EMU_LLVM_MODULE"
#define EMU_LLVM_MODULE_NAME "libemu-llvm.so"

typedef struct EmuLlvmCtx EmuLlvmCtx;
/* The LLVM function is `i64 (ptr env, ptr unused)`: the second parameter
 * makes its type the chain trampoline's, which a musttail call needs; it is
 * never read, so C calls it with env alone (SysV: the extra register is
 * ignored). */
typedef uintptr_t (*EmuLlvmEntry)(void *env);

typedef struct EmuLlvmOptions {
    /* The helper table of the process (ir_helper_info): the module does not
     * carry its own copy, calls go to these absolute addresses. */
    const IrHelperInfo *helpers;
    uint32_t n_helpers;
    /* 0: no IR optimisation, 1: light pipeline, 2 (default when 0 is not
     * asked for explicitly through opt_set): "default<O2>". */
    uint8_t opt_level;
    bool opt_set;
    /* Code generation level 0..3 (llc -O); ignored unless codegen_set. */
    uint8_t codegen_level;
    bool codegen_set;
    bool verify;           /* run LLVMVerifyModule before optimising */
} EmuLlvmOptions;

typedef struct EmuLlvmRegion {
    const IrBlock *const *blocks;  /* blocks[0] is the entry */
    uint32_t n_blocks;
    uintptr_t tag;                 /* returned | TMPL_RET_*; 8-byte aligned */
    bool internal_edges;           /* goto_tb between region blocks: branch */
    bool goto_tb_lookup;           /* other goto_tb exits return TMPL_RET_LOOKUP
                                      instead of TMPL_RET_SLOTn (code that is
                                      not chained: the dispatcher goes straight
                                      to its jump cache) */
    /* --stats: when non-NULL, counters[i] (if non-NULL) is incremented each
     * time blocks[i] starts inside the region code. */
    uint64_t *const *counters;
    /* CpuCommon.page_perm is set: guest accesses test the page map instead
     * of writing dirty globals back before each one.  An access the map
     * does not allow (or that crosses a page) leaves the region before
     * anything of its insn happened: globals written back, env->pc = the
     * insn, exit_reason EMU_LLVM_EXIT_SLOW_MEM, TMPL_RET_EXIT; the runtime
     * runs that insn in a slower tier, which faults precisely. */
    bool page_perm;
    /* With page_perm: loads test only the bound (and alignment), not the
     * map: a load the guest may not make faults in the host, and the guest
     * gets its SIGSEGV/SIGBUS with the registers of the region's entry or
     * last exit, not of the insn.  The runtime asks for it only while the
     * guest has no handler for those signals (so the process dies and
     * nothing can look at the registers); stores keep the map test, which
     * also catches writes to code pages (self-modifying code). */
    bool unchecked_loads;
    /* Profitability probe (--tier=auto; 0: none).  tag is the region's
     * entry TransBlock and tag + probe_off three uint64_t the code keeps:
     * [0] entries; while [0] < probe_period, [2] the host cycle counter at
     * the last entry and [1] the cycles spent inside (added at the exits;
     * the loops carry nothing for it).  The entry that makes [0] equal
     * probe_period leaves before anything ran:
     * env->pc = blocks[0]->pc, exit_reason TMPL_EXIT_HOT, TMPL_RET_EXIT, so
     * the runtime can look at the counts once and keep or drop the region. */
    uint32_t probe_period;
    uint32_t probe_off;
} EmuLlvmRegion;

/* Chaining out of region code (always compiled in, enabled per CPU): when
 * CpuCommon.chain_tramp is set, an exit of kind TMPL_RET_LOOKUP looks env->pc
 * up in the jump cache itself and on a hit tail-calls (musttail: the
 * region's frame is gone first) chain_tramp(env, entry.host).  The
 * runtime's trampoline drops the return address of the call stub that
 * entered the region and jumps to the host code: so while chain_tramp is
 * set, region code must only be entered through such a stub
 * (tmpl_emit_call_stub, inside tmpl_enter's frame). */

/* exit_reason: re-run the insn at env->pc outside the LLVM tier. */
#define EMU_LLVM_EXIT_SLOW_MEM ((uint32_t)IR_EXIT_COUNT + 1)

typedef struct EmuLlvmCode {
    EmuLlvmEntry entry;
    void *rt;                      /* resource tracker (release frees the code) */
    uint64_t lower_ns, opt_ns, codegen_ns; /* compile time, thread CPU time */
} EmuLlvmCode;

/* A batch of regions compiled to one relocatable ELF64 x86-64 object
 * (ET_REL) for the persistent cache: no address of this process is in it.
 * Region i of the batch is the global function EMU_LLVM_OBJ_FN_PREFIX<i>
 * ("emu_r3"), with the calling convention of EmuLlvmEntry.  Undefined
 * symbols the loader (runtime/objload.h, no LLVM) resolves:
 *   EMU_LLVM_OBJ_TAG_PREFIX<i> ("emu_tag_3"): to region i's tag itself
 *     (not to a slot holding it): the code returns the symbol's address +
 *     TMPL_RET_* (a movabs and an add, no memory load);
 *   EMU_LLVM_OBJ_HELPER_PREFIX<name> ("emu_helper_a64_fadd_d"): helper
 *     IrHelperInfo.name's fn;
 *   EMU_LLVM_OBJ_COUNT_PREFIX<i>_<j> ("emu_count_3_0"): only when region i
 *     has counters: the uint64_t counter of its block j;
 *   C library / compiler runtime routines code generation may call
 *     (memcpy, __udivti3, fmod...): objload_emu_resolve() knows them.
 * Code model: large, static (every reference an absolute R_X86_64_64: the
 * same code as the JIT's, which also uses the large model);
 * EMU_LLVM_OBJ_CODE_MODEL=small-pic in the environment when the context is
 * created gives small PIC code instead (PC32/PLT32/GOTPCREL), for
 * measurement and tests.  Built for the ctx's host CPU and features (see
 * host_features: part of the cache identity). */
#define EMU_LLVM_OBJ_FN_PREFIX "emu_r"
#define EMU_LLVM_OBJ_TAG_PREFIX "emu_tag_"
#define EMU_LLVM_OBJ_HELPER_PREFIX "emu_helper_"
#define EMU_LLVM_OBJ_COUNT_PREFIX "emu_count_"
#define EMU_LLVM_OBJ_CODE_MODEL_ENV "EMU_LLVM_OBJ_CODE_MODEL"

typedef struct EmuLlvmObject {
    void *data;                    /* the ELF object, malloc()ed: free() it */
    size_t size;
    uint64_t lower_ns, opt_ns, codegen_ns; /* thread CPU time, whole batch */
} EmuLlvmObject;

typedef struct EmuLlvmApi {
    uint32_t abi_version;          /* EMU_LLVM_ABI_VERSION */
    uint32_t size;                 /* sizeof(EmuLlvmApi) */
    /* NULL with a message in err when LLVM cannot be set up. */
    EmuLlvmCtx *(*create)(const EmuLlvmOptions *opt, char *err, size_t errlen);
    void (*destroy)(EmuLlvmCtx *ctx);
    /* Compile a region; false with a message (nothing to release). */
    bool (*compile)(EmuLlvmCtx *ctx, const EmuLlvmRegion *r, EmuLlvmCode *out, char *err,
                    size_t errlen);
    /* Free one compiled region's code (no CPU may be running it). */
    void (*release)(EmuLlvmCtx *ctx, EmuLlvmCode *code);
    /* Print the LLVM IR (after optimisation) of the next compiles to f
     * (NULL: stop).  For -d llvm-ir. */
    void (*set_ir_dump)(EmuLlvmCtx *ctx, void *file);
    /* Dumps of the next compiles to f (a FILE *; NULL or what = 0: stop),
     * what = EMU_LLVM_DUMP_* bits.  For -d llvm-ir,llvm-asm. */
    void (*set_dump)(EmuLlvmCtx *ctx, void *file, unsigned what);
    /* Appended for the persistent cache (issue 6).  Compile n regions
     * (their tag fields are ignored) into one relocatable object, see
     * EmuLlvmObject; false with a message (out->data NULL). */
    bool (*compile_object)(EmuLlvmCtx *ctx, const EmuLlvmRegion *const *regions, uint32_t n,
                           EmuLlvmObject *out, char *err, size_t errlen);
    /* What compile_object's code is specific to, for the cache identity:
     * "<triple> llvm-<maj.min.patch> <code model> <cpu> <features>"
     * (snprintf semantics: returns the full length, writes at most n). */
    size_t (*host_features)(EmuLlvmCtx *ctx, char *buf, size_t n);
} EmuLlvmApi;

enum {
    EMU_LLVM_DUMP_IR_BEFORE = 1,   /* LLVM IR as lowered */
    EMU_LLVM_DUMP_IR_AFTER = 2,    /* LLVM IR after the pass pipeline */
    EMU_LLVM_DUMP_ASM = 4,         /* host assembly (from a clone of the module) */
};

typedef const EmuLlvmApi *(*EmuLlvmApiFn)(int abi_version);
/* The module's one exported symbol: NULL if abi_version is not supported. */
const EmuLlvmApi *emu_llvm_api(int abi_version);

#endif /* EMU_LLVM_BACKEND_LLVM_TIER_H */
