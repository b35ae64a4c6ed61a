/*
 * llvm_test.c - tests of the LLVM tier module (lib/libemu-llvm.so), opened
 * with dlopen exactly as the runtime does (EMU_LLVM_MODULE overrides the
 * path the build gives).
 *
 *  - differential: random IR blocks (tests/common/ir-random.c, the same
 *    generator as tmpl_test) run in the reference interpreter and as LLVM
 *    code from the same env and guest memory; env, memory and the exit must
 *    agree.  Every third block goes through ir_optimize first; odd seeds
 *    compile goto_tb as TMPL_RET_LOOKUP exits (what --tier=llvm uses).
 *    LLVM_PROGRAMS=n sets the count (default 200: LLVM compiles take
 *    milliseconds), LLVM_SEED=s runs only seed s (LLVM_VERBOSE=1 prints the
 *    block and the optimised LLVM IR).  Compile latency median/p90 printed.
 *    The same (100 programs) with the light pipeline and -O0 codegen.
 *  - a host page fault inside LLVM code leaves env->pc = the faulting insn
 *    and the dirty globals written back (what the runtime relies on);
 *  - helpers: env->pc before a faulting helper, reload after a helper that
 *    writes globals;
 *  - a two-block region with an internal edge (a loop inside the function).
 */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "ir/ir-eval.h"
#include "ir/ir-helpers.h"
#include "llvm-backend/llvm-tier.h"
#include "template-backend/tmpl.h"
#include "tests/common/ir-random.h"

#define GUEST_LIMIT 8192   /* page 0 valid, page 1 PROT_NONE (host fault), then guard */
static uint8_t *guest;
static IrGlobalSet rgs;
static const EmuLlvmApi *api;
static EmuLlvmCtx *ctx;        /* the one in use */
static EmuLlvmCtx *ctx_o2;     /* default pipeline */
static EmuLlvmCtx *ctx_light;  /* light IR pipeline, -O0 code generation */

static void setup(void)
{
    if (ctx_o2) {
        ctx = ctx_o2;
        return;
    }
    guest = mmap(NULL, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(guest != MAP_FAILED);
    ck_assert_int_eq(mprotect(guest, 4096, PROT_READ | PROT_WRITE), 0);
    ir_rand_globals(&rgs);
    const char *path = getenv(EMU_LLVM_MODULE_ENV);
    if (!path)
        path = EMU_LLVM_TEST_MODULE;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(h != NULL, "dlopen %s: %s", path, dlerror());
    EmuLlvmApiFn get = (EmuLlvmApiFn)dlsym(h, EMU_LLVM_API_SYMBOL);
    ck_assert_msg(get != NULL, "no %s in %s", EMU_LLVM_API_SYMBOL, path);
    ck_assert(get(EMU_LLVM_ABI_VERSION + 1) == NULL);
    api = get(EMU_LLVM_ABI_VERSION);
    ck_assert(api && api->size == sizeof(EmuLlvmApi));
    EmuLlvmOptions o = { .helpers = ir_helper_info, .n_helpers = IR_HELPER_COUNT,
                         .verify = true };
    char err[256];
    ctx_o2 = api->create(&o, err, sizeof err);
    ck_assert_msg(ctx_o2 != NULL, "create: %s", err);
    o.opt_level = 1;
    o.opt_set = true;
    o.codegen_level = 0;
    o.codegen_set = true;
    ctx_light = api->create(&o, err, sizeof err);
    ck_assert_msg(ctx_light != NULL, "create (light): %s", err);
    ctx = ctx_o2;
}


static bool compile1x(const IrBlock *b, uintptr_t tag, bool lookup, EmuLlvmCode *code, char *err,
                      size_t n)
{
    const IrBlock *blocks[1] = { b };
    EmuLlvmRegion r = { .blocks = blocks, .n_blocks = 1, .tag = tag, .goto_tb_lookup = lookup };
    return api->compile(ctx, &r, code, err, n);
}

static bool compile1(const IrBlock *b, uintptr_t tag, EmuLlvmCode *code, char *err, size_t n)
{
    const IrBlock *blocks[1] = { b };
    EmuLlvmRegion r = { .blocks = blocks, .n_blocks = 1, .tag = tag };
    return api->compile(ctx, &r, code, err, n);
}

/* ---- differential testing ------------------------------------------------ */
static IrRandTally tally;
static uint64_t *lat_ns;
static size_t n_lat;

static void dump_fail(const IrBlock *b, uint64_t seed, const char *what)
{
    fprintf(stderr, "\n*** llvm differential failure: seed %llu: %s\n"
                    "*** rerun: LLVM_SEED=%llu LLVM_VERBOSE=1 llvm_test\n",
            (unsigned long long)seed, what, (unsigned long long)seed);
    ir_print(b, stderr);
}

static volatile uint64_t crash_seed;
static void on_crash(int sig)
{
    fprintf(stderr, "\n*** signal %d while running seed %llu (LLVM_SEED=%llu to rerun)\n", sig,
            (unsigned long long)crash_seed, (unsigned long long)crash_seed);
    _exit(2);
}

static bool run_one(uint64_t seed, bool verbose)
{
    IrBlock *b = ir_rand_block(&rgs, seed, 20, seed % 7 == 0 ? 400 : 200);
    if (seed % 3 == 0)
        ir_optimize(b);
    crash_seed = seed;
    char err[512];
    if (!ir_verify(b, err, sizeof err)) {
        dump_fail(b, seed, err);
        ir_block_free(b);
        return false;
    }
    if (verbose)
        ir_print(b, stderr);

    static uint8_t imem[IR_RAND_MEM_SIZE];
    IrRandEnv init, ei, el;
    ir_rand_start(seed, guest, GUEST_LIMIT, &init, imem);
    ei = init;
    el = init;

    IrRandMem tm = {.m = imem, .limit = GUEST_LIMIT};
    IrMemIface mif = ir_rand_mem_iface(&tm);
    IrExitInfo ex;
    uint32_t fi = 0;
    IrInterpStatus st = ir_interp_run(b, &ei, &mif, &ex, &fi);

    uintptr_t tag = 0x1000;
    EmuLlvmCode code;
    if (verbose)
        api->set_ir_dump(ctx, stderr);
    /* odd seeds: goto_tb as the runtime compiles it (TMPL_RET_LOOKUP) */
    bool lookup = seed & 1;
    bool ok = compile1x(b, tag, lookup, &code, err, sizeof err);
    api->set_ir_dump(ctx, NULL);
    if (!ok) {
        dump_fail(b, seed, err);
        ir_block_free(b);
        return false;
    }
    uint64_t *nl = realloc(lat_ns, (n_lat + 1) * sizeof *lat_ns);
    if (nl) {
        lat_ns = nl;
        lat_ns[n_lat++] = code.lower_ns + code.opt_ns + code.codegen_ns;
    }
    uintptr_t r = code.entry(&el);
    api->release(ctx, &code);

    char what[256];
    ir_rand_judge("llvm", tag, r, lookup, st, fi, &ex, &tm, &ei, &el, imem, guest,
                  &tally, what, sizeof what);
    if (what[0]) {
        dump_fail(b, seed, what);
        ir_block_free(b);
        return false;
    }
    ir_block_free(b);
    return true;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void run_many(const char *label, unsigned long n, uint64_t seed0)
{
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGILL, on_crash);
    signal(SIGFPE, on_crash);
    const char *s = getenv("LLVM_SEED");
    if (s) {
        uint64_t seed = strtoull(s, NULL, 0);
        ck_assert_msg(run_one(seed, getenv("LLVM_VERBOSE") != NULL), "seed %llu failed",
                      (unsigned long long)seed);
        return;
    }
    const char *np = getenv("LLVM_PROGRAMS");
    if (np)
        n = strtoul(np, NULL, 0);
    n_lat = 0;
    memset(&tally, 0, sizeof tally);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned long i = 0; i < n; i++)
        ck_assert_msg(run_one(seed0 + i, false), "seed %llu failed",
                      (unsigned long long)(seed0 + i));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    qsort(lat_ns, n_lat, sizeof *lat_ns, cmp_u64);
    fprintf(stderr, "llvm %s: %lu programs OK in %.2f s (faults %lu, exits: slot0 %lu "
                    "slot1-3 %lu lookup %lu exit %lu); compile median %.2f ms, p90 %.2f ms\n",
            label, n, secs, tally.faults, tally.exit_kind[0],
            tally.exit_kind[1] + tally.exit_kind[2] + tally.exit_kind[3],
            tally.exit_kind[TMPL_RET_LOOKUP], tally.exit_kind[TMPL_RET_EXIT],
            n_lat ? lat_ns[n_lat / 2] / 1e6 : 0.0, n_lat ? lat_ns[n_lat * 9 / 10] / 1e6 : 0.0);
    if (n >= 100)
        ck_assert_uint_gt(tally.faults, 0);
}

START_TEST(test_random_diff)
{
    setup();
    run_many("O2", 200, 1);
}
END_TEST

START_TEST(test_random_diff_light)
{
    setup();
    ctx = ctx_light;
    run_many("light", 100, 100001);
    ctx = ctx_o2;
}
END_TEST

/* ---- hand-made blocks ---------------------------------------------------- */

static IrBlock *small_block(uint64_t pc)
{
    IrBlock *b = ir_block_new(&rgs, pc, 0);
    ir_insn_start(b, pc, 4);
    return b;
}

static void env_init(IrRandEnv *e)
{
    memset(e, 0, sizeof *e);
    e->common.guest_base = (uint64_t)(uintptr_t)guest;
    e->common.guest_limit = GUEST_LIMIT;
}

static sigjmp_buf fault_jb;
static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    (void)uc;
    siglongjmp(fault_jb, 1);
}

START_TEST(test_host_fault_precise)
{
    setup();
    /* insn 0: r0 = r0 + 1 (dirty global); insn 1: r1 = 5; r2 = ld [0x1800]
     * (inside the limit, host page 1 is PROT_NONE); insn 2: exit */
    IrBlock *b = small_block(0x4000);
    ir_emit(b, IR_OP_add, IR_I64, (IrTemp[]){1, 1, ir_const(b, IR_I64, 1)}, NULL);
    ir_insn_start(b, 0x4004, 4);
    ir_emit(b, IR_OP_ld, IR_I64, (IrTemp[]){3, ir_const(b, IR_I64, 0x1800)},
            (uint64_t[]){IR_MO_64});
    ir_emit(b, IR_OP_mov, IR_I64, (IrTemp[]){2, ir_const(b, IR_I64, 5)}, NULL);
    ir_insn_start(b, 0x4008, 4);
    ir_emit(b, IR_OP_exit, IR_VOID, NULL, (uint64_t[]){IR_EXIT_NONE, 0x400c});
    EmuLlvmCode c;
    char err[256];
    ck_assert_msg(compile1(b, 0x400, &c, err, sizeof err), "%s", err);
    IrRandEnv e;
    env_init(&e);
    e.common.pc = 0x1234;
    struct sigaction sa = {0}, old;
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, &old);
    bool faulted = false;
    if (sigsetjmp(fault_jb, 1) == 0)
        c.entry(&e);
    else
        faulted = true;
    sigaction(SIGSEGV, &old, NULL);
    ck_assert(faulted);
    ck_assert_uint_eq(e.common.pc, 0x4004);
    ck_assert_uint_eq(e.r64[0], 1);  /* written back before the access */
    ck_assert_uint_eq(e.r64[1], 0);  /* the faulting insn's own write did not happen */
    api->release(ctx, &c);
    ir_block_free(b);
}
END_TEST

START_TEST(test_guest_fault_kinds)
{
    setup();
    for (int k = 0; k < 2; k++) {
        IrBlock *b = small_block(0x6000);
        ir_emit(b, IR_OP_st, IR_I32,
                (IrTemp[]){ir_const(b, IR_I64, k ? 0x20000 : 0x102), ir_const(b, IR_I32, 7)},
                (uint64_t[]){IR_MO_32 | IR_MO_ALIGN(2)});
        ir_emit(b, IR_OP_exit, IR_VOID, NULL, (uint64_t[]){IR_EXIT_NONE, 0x6004});
        EmuLlvmCode c;
        char err[256];
        ck_assert_msg(compile1(b, 0x500, &c, err, sizeof err), "%s", err);
        IrRandEnv e;
        env_init(&e);
        uintptr_t r = c.entry(&e);
        ck_assert_uint_eq(r, 0x500 | TMPL_RET_EXIT);
        ck_assert_uint_eq(e.common.exit_reason, IR_EXIT_EXCEPTION);
        ck_assert_uint_eq(e.common.exception_kind, k ? TMPL_EXC_SEGV : TMPL_EXC_ALIGN);
        ck_assert_uint_eq(e.common.exception_addr, k ? 0x20000 : 0x102);
        ck_assert_uint_eq(e.common.exception_code, 1);
        ck_assert_uint_eq(e.common.pc, 0x6000);
        api->release(ctx, &c);
        ir_block_free(b);
    }
}
END_TEST

START_TEST(test_helpers_sync)
{
    setup();
    /* insn 0: r0 = 7; r1 = get_pc()   (faulting helper: env->pc = 0x7000)
     * insn 1: r2 = 9; store_env64(off(r2), 42)  (writes a global: r2 reloaded)
     *         r3 = r2 + 1; exit */
    IrBlock *b = small_block(0x7000);
    ir_mov(b, IR_I64, 1, ir_const(b, IR_I64, 7));
    IrTemp pc = ir_call(b, IR_HELPER_ir_test_get_pc, NULL, 0);
    ir_mov(b, IR_I64, 2, pc);
    ir_insn_start(b, 0x7004, 4);
    ir_mov(b, IR_I64, 3, ir_const(b, IR_I64, 9));
    IrTemp args[2] = { ir_const(b, IR_I64, offsetof(IrRandEnv, r64) + 16),
                       ir_const(b, IR_I64, 42) };
    ir_call(b, IR_HELPER_ir_test_store_env64, args, 2);
    ir_mov(b, IR_I64, 4, ir_add(b, IR_I64, 3, ir_const(b, IR_I64, 1)));
    ir_exit(b, IR_EXIT_SYSCALL, 0x7008);
    char err[256];
    ck_assert_msg(ir_verify(b, err, sizeof err), "%s", err);
    EmuLlvmCode c;
    ck_assert_msg(compile1(b, 0x600, &c, err, sizeof err), "%s", err);
    IrRandEnv e;
    env_init(&e);
    uintptr_t r = c.entry(&e);
    ck_assert_uint_eq(r, 0x600 | TMPL_RET_EXIT);
    ck_assert_uint_eq(e.common.exit_reason, IR_EXIT_SYSCALL);
    ck_assert_uint_eq(e.common.pc, 0x7008);
    ck_assert_uint_eq(e.r64[0], 7);
    ck_assert_uint_eq(e.r64[1], 0x7000);
    ck_assert_uint_eq(e.r64[2], 42);
    ck_assert_uint_eq(e.r64[3], 43);
    api->release(ctx, &c);
    ir_block_free(b);
}
END_TEST

START_TEST(test_region_loop)
{
    setup();
    /* block A @0x8000: r0 = r0 + r1; r1 = r1 - 1; goto_tb B
     * block B @0x8004: if r1 != 0 goto_tb A (slot 0) else exit(halt) */
    IrBlock *a = small_block(0x8000);
    ir_mov(a, IR_I64, 1, ir_add(a, IR_I64, 1, 2));
    ir_mov(a, IR_I64, 2, ir_sub(a, IR_I64, 2, ir_const(a, IR_I64, 1)));
    ir_goto_tb(a, 1, 0x8004);
    IrBlock *bb = small_block(0x8004);
    uint32_t l = ir_new_label(bb);
    ir_brcond(bb, IR_I64, IR_COND_EQ, 2, ir_const(bb, IR_I64, 0), l);
    ir_goto_tb(bb, 0, 0x8000);
    ir_label(bb, l);
    ir_exit(bb, IR_EXIT_HALT, 0x8008);
    char err[256];
    ck_assert_msg(ir_verify(a, err, sizeof err), "%s", err);
    ck_assert_msg(ir_verify(bb, err, sizeof err), "%s", err);
    const IrBlock *blocks[2] = { a, bb };
    for (int internal = 0; internal < 2; internal++) {
        EmuLlvmRegion reg = { .blocks = blocks, .n_blocks = 2, .tag = 0x700,
                              .internal_edges = internal };
        EmuLlvmCode c;
        ck_assert_msg(api->compile(ctx, &reg, &c, err, sizeof err), "%s", err);
        IrRandEnv e;
        env_init(&e);
        e.r64[1] = 100;
        uintptr_t r = c.entry(&e);
        if (internal) {
            ck_assert_uint_eq(r, 0x700 | TMPL_RET_EXIT);
            ck_assert_uint_eq(e.common.exit_reason, IR_EXIT_HALT);
            ck_assert_uint_eq(e.r64[0], 5050);
            ck_assert_uint_eq(e.r64[1], 0);
        } else {
            ck_assert_uint_eq(r, 0x700 | (TMPL_RET_SLOT0 + 1));
            ck_assert_uint_eq(e.common.pc, 0x8004);
            ck_assert_uint_eq(e.r64[0], 100);
            ck_assert_uint_eq(e.r64[1], 99);
        }
        api->release(ctx, &c);
    }
    ir_block_free(a);
    ir_block_free(bb);
}
END_TEST

static Suite *llvm_suite(void)
{
    Suite *s = suite_create("llvm");
    TCase *ex = tcase_create("exec");
    tcase_set_timeout(ex, 60);
    tcase_add_test(ex, test_host_fault_precise);
    tcase_add_test(ex, test_guest_fault_kinds);
    tcase_add_test(ex, test_helpers_sync);
    tcase_add_test(ex, test_region_loop);
    suite_add_tcase(s, ex);
    TCase *diff = tcase_create("differential");
    tcase_set_timeout(diff, 240);
    tcase_add_test(diff, test_random_diff);
    tcase_add_test(diff, test_random_diff_light);
    suite_add_tcase(s, diff);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(llvm_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (api) {
        api->destroy(ctx_o2);
        api->destroy(ctx_light);
    }
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
