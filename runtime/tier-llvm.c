/*
 * tier-llvm.c - dlopen of the LLVM tier module and block compilation for
 * --tier=llvm (see tier-llvm.h).  One compiler context per process, created
 * on first use; compile calls are serialised by the caller.
 */
#define _GNU_SOURCE
#include "runtime/tier-llvm.h"

#include <dlfcn.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ir/ir-helpers.h"
#include "llvm-backend/llvm-tier.h"

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const EmuLlvmApi *api;
static EmuLlvmCtx *ctx;
static bool warned_compile;
static TierLlvmStats stats;

/* <dir of the executable>/../lib/libemu-llvm.so */
static bool default_path(char *out, size_t n)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return false;
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return false;
    *slash = 0;
    return snprintf(out, n, "%s/../lib/%s", exe, EMU_LLVM_MODULE_NAME) < (int)n;
}

static void load(void)
{
    char path[PATH_MAX + 32];
    const char *env = getenv(EMU_LLVM_MODULE_ENV);
    if (env && *env)
        snprintf(path, sizeof path, "%s", env);
    else if (!default_path(path, sizeof path)) {
        fprintf(stderr, "emu: llvm tier: cannot find the executable's directory; "
                        "set %s\n", EMU_LLVM_MODULE_ENV);
        return;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "emu: llvm tier: cannot load %s (%s); using the template tier\n", path,
                dlerror());
        return;
    }
    EmuLlvmApiFn get = (EmuLlvmApiFn)dlsym(h, EMU_LLVM_API_SYMBOL);
    const EmuLlvmApi *a = get ? get(EMU_LLVM_ABI_VERSION) : NULL;
    if (!a || a->size < sizeof(EmuLlvmApi)) {
        fprintf(stderr, "emu: llvm tier: %s is not an ABI %d module; using the template tier\n",
                path, EMU_LLVM_ABI_VERSION);
        dlclose(h);
        return;
    }
    EmuLlvmOptions o = { .helpers = ir_helper_info, .n_helpers = IR_HELPER_COUNT };
    const char *v = getenv("EMU_LLVM_VERIFY");
    o.verify = v && *v && *v != '0';
    char err[256];
    ctx = a->create(&o, err, sizeof err);
    if (!ctx) {
        fprintf(stderr, "emu: llvm tier: %s; using the template tier\n", err);
        return; /* the module stays loaded: LLVM may have registered state */
    }
    api = a;
}

bool tier_llvm_load(void)
{
    pthread_once(&load_once, load);
    return ctx != NULL;
}

bool tier_llvm_translate_block(const IrBlock *b, uintptr_t tag, TierLlvmEntry *entry)
{
    if (!tier_llvm_load())
        return false;
    const IrBlock *blocks[1] = { b };
    EmuLlvmRegion r = { .blocks = blocks, .n_blocks = 1, .tag = tag, .goto_tb_lookup = true };
    EmuLlvmCode code;
    char err[256];
    if (!api->compile(ctx, &r, &code, err, sizeof err)) {
        stats.failed++;
        if (!warned_compile) {
            warned_compile = true;
            fprintf(stderr, "emu: llvm tier: block at 0x%" PRIx64 ": %s; keeping the template "
                            "code (reported once)\n", b->pc, err);
        }
        return false;
    }
    uint64_t ns = code.lower_ns + code.opt_ns + code.codegen_ns;
    stats.compiled++;
    stats.compile_ns += ns;
    if (ns > stats.max_ns)
        stats.max_ns = ns;
    *entry = code.entry;
    return true;
}

void tier_llvm_stats(TierLlvmStats *out)
{
    *out = stats;
}
