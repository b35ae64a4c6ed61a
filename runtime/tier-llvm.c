/*
 * tier-llvm.c - dlopen of the LLVM tier module and block compilation for
 * --tier=llvm (see tier-llvm.h).  One compiler context per process, created
 * on first use; compiles and releases are serialised by compile_lock (the
 * tier-up worker and --tier=llvm's guest threads share one context).
 */
#define _GNU_SOURCE
#include "runtime/tier-llvm.h"
#include "translator-id.h"

#include <dlfcn.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elf.h>
#include <sys/stat.h>

#include "ir/ir-helpers.h"
#include "runtime/exec-internal.h"
#include "llvm-backend/llvm-tier.h"

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const EmuLlvmApi *api;
static EmuLlvmCtx *ctx;
static bool warned_compile;
static pthread_mutex_t compile_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *dump_file;
static unsigned dump_what;
static TierLlvmStats stats;
static uint64_t *lat;          /* per-block compile times (EMU_LLVM_STATS) */
static size_t n_lat, cap_lat;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* EMU_LLVM_STATS=1: compile latency summary on stderr at exit. */
static void print_stats(void)
{
    if (!n_lat)
        return;
    qsort(lat, n_lat, sizeof *lat, cmp_u64);
    fprintf(stderr, "emu: llvm tier: %" PRIu64 " blocks compiled (%" PRIu64 " refused), "
                    "%.1f ms total (lower %.1f, optimise %.1f, codegen %.1f); per block "
                    "median %.2f ms, p90 %.2f ms, max %.2f ms\n",
            stats.compiled, stats.failed, stats.compile_ns / 1e6, stats.lower_ns / 1e6,
            stats.opt_ns / 1e6, stats.codegen_ns / 1e6, lat[n_lat / 2] / 1e6,
            lat[n_lat * 9 / 10] / 1e6, lat[n_lat - 1] / 1e6);
}

/* The path of this executable into exe[PATH_MAX]. */
static bool self_exe(char *exe)
{
    ssize_t len = readlink("/proc/self/exe", exe, PATH_MAX - 1);
    if (len <= 0)
        return false;
    exe[len] = 0;
    return true;
}

/* <dir of the executable>/../lib/libemu-llvm.so */
static bool default_path(char *out, size_t n)
{
    char exe[PATH_MAX];
    if (!self_exe(exe))
        return false;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return false;
    *slash = 0;
    return snprintf(out, n, "%s/../lib/%s", exe, EMU_LLVM_MODULE_NAME) < (int)n;
}

static void load(void)
{
    char path[PATH_MAX + 32];
    /* Tests of the code cache: a warm run must never get here. */
    const char *forbid = getenv("EMU_LLVM_FORBID");
    if (forbid && *forbid && *forbid != '0') {
        fprintf(stderr, "emu: llvm tier: not loaded (EMU_LLVM_FORBID is set); using the "
                        "template tier\n");
        return;
    }
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
    /* Single blocks (no loops across blocks yet): the light pipeline gives
     * nearly all that default<O2> does there at a third of its cost.
     * Tuning knobs: EMU_LLVM_OPT=0|1|2 (IR pipeline), EMU_LLVM_CG=0..3. */
    o.opt_level = 1;
    o.opt_set = true;
    if ((v = getenv("EMU_LLVM_OPT")) && *v >= '0' && *v <= '2') {
        o.opt_level = (uint8_t)(*v - '0');
        o.opt_set = true;
    }
    if ((v = getenv("EMU_LLVM_CG")) && *v >= '0' && *v <= '3') {
        o.codegen_level = (uint8_t)(*v - '0');
        o.codegen_set = true;
    }
    char err[256];
    ctx = a->create(&o, err, sizeof err);
    if (!ctx) {
        fprintf(stderr, "emu: llvm tier: %s; using the template tier\n", err);
        return; /* the module stays loaded: LLVM may have registered state */
    }
    api = a;
    if (dump_file && dump_what)
        api->set_dump(ctx, dump_file, dump_what);
    /* EMU_LLVM_IR_DUMP=file: the optimised LLVM IR of every compile */
    else if ((v = getenv("EMU_LLVM_IR_DUMP")) && *v) {
        FILE *f = fopen(v, "w");
        if (f)
            api->set_ir_dump(ctx, f);
        else
            fprintf(stderr, "emu: llvm tier: cannot write %s\n", v);
    }
    if ((v = getenv("EMU_LLVM_STATS")) && *v && *v != '0')
        atexit(print_stats);
}

/* Guest syscalls that allocate descriptors take this for reading; loading
 * LLVM (dlopen of the module and its libraries, which open and close host
 * files, on the worker thread) takes it for writing.  Otherwise a guest
 * open or dup racing the load got a higher descriptor than Linux gives
 * (the lowest free one), or a lower one than an earlier open once the
 * loader closed its files.  Readers do not exclude each other (glibc's
 * default rwlock prefers readers), so a guest open that blocks (a FIFO)
 * only delays the load. */
static pthread_rwlock_t fd_lock = PTHREAD_RWLOCK_INITIALIZER;

void tier_llvm_fd_enter(void)
{
    pthread_rwlock_rdlock(&fd_lock);
}

void tier_llvm_fd_leave(void)
{
    pthread_rwlock_unlock(&fd_lock);
}

static void load_fds_held(void)
{
    pthread_rwlock_wrlock(&fd_lock);
    load();
    pthread_rwlock_unlock(&fd_lock);
}

bool tier_llvm_load(void)
{
    /* Under compile_lock, which fork() preparation takes too: a child
     * forked during dlopen would inherit the loader's lock held. */
    pthread_mutex_lock(&compile_lock);
    pthread_once(&load_once, load_fds_held);
    pthread_mutex_unlock(&compile_lock);
    return ctx != NULL;
}

void tier_llvm_set_dump(FILE *f, unsigned what)
{
    pthread_mutex_lock(&compile_lock);
    dump_file = f;
    dump_what = what;
    if (ctx)
        api->set_dump(ctx, f, what);
    pthread_mutex_unlock(&compile_lock);
}

/* Statistics of one compile (under compile_lock). */
static void count_compile(uint32_t n, uint64_t lower, uint64_t opt, uint64_t codegen)
{
    uint64_t ns = lower + opt + codegen;
    stats.compiled++;
    stats.blocks += n;
    stats.compile_ns += ns;
    stats.lower_ns += lower;
    stats.opt_ns += opt;
    stats.codegen_ns += codegen;
    if (ns > stats.max_ns)
        stats.max_ns = ns;
    if (n_lat == cap_lat) {
        size_t nc = cap_lat ? 2 * cap_lat : 1024;
        uint64_t *nl = realloc(lat, nc * sizeof *lat);
        if (nl) {
            lat = nl;
            cap_lat = nc;
        }
    }
    if (n_lat < cap_lat)
        lat[n_lat++] = ns;
}

/* A refused compile (under compile_lock): counted, reported once. */
static void count_failure(uint64_t pc, const char *err)
{
    stats.failed++;
    if (!warned_compile) {
        warned_compile = true;
        fprintf(stderr, "emu: llvm tier: region at 0x%" PRIx64 ": %s; keeping the template "
                        "code (reported once)\n", pc, err);
    }
}

_Static_assert(TIER_LLVM_EXIT_SLOW_MEM == EMU_LLVM_EXIT_SLOW_MEM, "one exit code");

/* Regions of --tier=auto carry the profitability probe (tierup.c decides);
 * --tier=llvm compiles every block and keeps it. */
static void set_probe(EmuLlvmRegion *r)
{
    r->probe_period = tierup_probe_period();
    r->probe_off = (uint32_t)offsetof(TransBlock, probe);
}

static bool compile_region(const IrBlock *const *blocks, uint32_t n, uintptr_t tag,
                           uint64_t *const *counters, TierLlvmMem mem, bool probe,
                           TierLlvmCode *out)
{
    memset(out, 0, sizeof *out);
    if (!tier_llvm_load())
        return false;
    EmuLlvmCode *code = calloc(1, sizeof *code);
    if (!code)
        return false;
    EmuLlvmRegion r = { .blocks = blocks, .n_blocks = n, .tag = tag, .internal_edges = true,
                        .goto_tb_lookup = true, .counters = counters,
                        .page_perm = mem != TIER_LLVM_MEM_SYNC,
                        .unchecked_loads = mem == TIER_LLVM_MEM_MAP_STORES };
    if (probe)
        set_probe(&r);
    char err[256];
    pthread_mutex_lock(&compile_lock);
    bool ok = api->compile(ctx, &r, code, err, sizeof err);
    if (!ok) {
        count_failure(blocks[0]->pc, err);
        pthread_mutex_unlock(&compile_lock);
        free(code);
        return false;
    }
    count_compile(n, code->lower_ns, code->opt_ns, code->codegen_ns);
    pthread_mutex_unlock(&compile_lock);
    out->entry = code->entry;
    out->handle = code;
    return true;
}

bool tier_llvm_compile_region(const IrBlock *const *blocks, uint32_t n, uintptr_t tag,
                              uint64_t *const *counters, TierLlvmMem mem, TierLlvmCode *out)
{
    return compile_region(blocks, n, tag, counters, mem, true, out);
}

/* One region as a relocatable object for the code cache (same statistics
 * as a JIT compile). */
bool tier_llvm_compile_object(const IrBlock *const *blocks, uint32_t n,
                              uint64_t *const *counters, TierLlvmMem mem, void **obj,
                              size_t *size)
{
    *obj = NULL;
    *size = 0;
    if (!tier_llvm_load())
        return false;
    EmuLlvmRegion r = { .blocks = blocks, .n_blocks = n, .internal_edges = true,
                        .goto_tb_lookup = true, .counters = counters,
                        .page_perm = mem != TIER_LLVM_MEM_SYNC,
                        .unchecked_loads = mem == TIER_LLVM_MEM_MAP_STORES };
    set_probe(&r);
    const EmuLlvmRegion *rs[1] = { &r };
    EmuLlvmObject o;
    memset(&o, 0, sizeof o);
    char err[256];
    pthread_mutex_lock(&compile_lock);
    bool ok = api->compile_object(ctx, rs, 1, &o, err, sizeof err);
    if (!ok) {
        count_failure(blocks[0]->pc, err);
        pthread_mutex_unlock(&compile_lock);
        return false;
    }
    count_compile(n, o.lower_ns, o.opt_ns, o.codegen_ns);
    pthread_mutex_unlock(&compile_lock);
    *obj = o.data;
    *size = o.size;
    return true;
}

/* What cached code depends on besides the guest bytes, known without
 * loading LLVM: the translator's sources (EMU_TRANSLATOR_ID, a hash made at
 * build time, so every tool built from them agrees), the LLVM module file
 * (size and mtime: a rebuilt lowering) and the LLVM version. */
size_t tier_llvm_build_id(char *buf, size_t n)
{
    const char *id = EMU_TRANSLATOR_ID;
    char path[PATH_MAX + 32] = "";
    const char *env = getenv(EMU_LLVM_MODULE_ENV);
    if (env && *env)
        snprintf(path, sizeof path, "%s", env);
    else
        default_path(path, sizeof path);
    struct stat st;
    long long msz = -1, mt = -1;
    if (stat(path, &st) == 0) {
        msz = (long long)st.st_size;
        mt = (long long)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
    }
    return (size_t)snprintf(buf, n, "emu %s llvm-module %lld-%lld llvm-%s code-model-%s", id, msz,
                            mt, EMU_LLVM_VERSION_STR,
                            getenv(EMU_LLVM_OBJ_CODE_MODEL_ENV) ? getenv(EMU_LLVM_OBJ_CODE_MODEL_ENV)
                                                                : "large");
}

bool tier_llvm_translate_block(const IrBlock *b, uintptr_t tag, uint64_t *counter,
                               TierLlvmMem mem, TierLlvmCode *out)
{
    const IrBlock *blocks[1] = { b };
    uint64_t *const counters[1] = { counter };
    return compile_region(blocks, 1, tag, counter ? counters : NULL, mem, false, out);
}

void tier_llvm_release(TierLlvmCode *code)
{
    if (!code || !code->handle)
        return;
    pthread_mutex_lock(&compile_lock);
    api->release(ctx, code->handle);
    pthread_mutex_unlock(&compile_lock);
    free(code->handle);
    code->handle = NULL;
    code->entry = NULL;
}

void tier_llvm_fork_prepare(void)
{
    pthread_mutex_lock(&compile_lock);
}

void tier_llvm_fork_done(void)
{
    pthread_mutex_unlock(&compile_lock);
}

void tier_llvm_fork_child(void)
{
    /* another guest thread may have held fd_lock for reading: gone here */
    pthread_rwlock_init(&fd_lock, NULL);
    pthread_mutex_unlock(&compile_lock);
}

void tier_llvm_stats(TierLlvmStats *out)
{
    pthread_mutex_lock(&compile_lock);
    *out = stats;
    if (n_lat) {
        uint64_t *c = malloc(n_lat * sizeof *c);
        if (c) {
            memcpy(c, lat, n_lat * sizeof *c);
            qsort(c, n_lat, sizeof *c, cmp_u64);
            out->median_ns = c[n_lat / 2];
            out->p90_ns = c[n_lat * 9 / 10];
            free(c);
        }
    }
    pthread_mutex_unlock(&compile_lock);
}
