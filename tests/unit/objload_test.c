/*
 * objload_test.c - the persistent cache's code path: regions compiled by the
 * LLVM module's compile_object into relocatable objects, loaded by emu's own
 * loader (runtime/objload.c, no LLVM) and run.
 *
 *  - differential: batches of random IR blocks (tests/common/ir-random.c)
 *    compiled into one object each, every region with its own tag, loaded
 *    with objload_emu_resolve and judged against the interpreter with
 *    ir_rand_judge, as llvm_test judges the JIT.  Default (large) code model
 *    at O2, and small PIC code (PC32/PLT32 stubs/GOTPCREL) with the light
 *    pipeline.  OBJ_SEED=s runs one batch starting at seed s.
 *  - a region loop with --stats counters (emu_count_* symbols);
 *  - code is mapped read+execute, data read-only;
 *  - several images at once (one object twice with other tags, and another);
 *  - load cost: one object of 1000 small regions, µs per function (printed);
 *  - malformed objects give an error, never a crash: every truncation,
 *    section offsets outside the file, a bad relocation symbol index, an
 *    unknown relocation type, an unresolved symbol, and random byte flips.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <elf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "ir/ir-eval.h"
#include "ir/ir-helpers.h"
#include "llvm-backend/llvm-tier.h"
#include "runtime/objload.h"
#include "template-backend/tmpl.h"
#include "tests/common/ir-random.h"

#define GUEST_LIMIT 8192
static uint8_t *guest;
static IrGlobalSet rgs;
static const EmuLlvmApi *api;
static EmuLlvmCtx *ctx_o2;      /* default pipeline, large code model */
static EmuLlvmCtx *ctx_pic;     /* light pipeline, small PIC code */
static EmuLlvmCtx *ctx_fast;    /* light pipeline, -O0 codegen: for the load-cost object */

static EmuLlvmCtx *make_ctx(bool light, const char *model)
{
    EmuLlvmOptions o = { .helpers = ir_helper_info, .n_helpers = IR_HELPER_COUNT,
                         .verify = true };
    if (light) {
        o.opt_level = 1;
        o.opt_set = true;
        o.codegen_level = 0;
        o.codegen_set = true;
    }
    char err[256];
    if (model)
        setenv(EMU_LLVM_OBJ_CODE_MODEL_ENV, model, 1);
    else
        unsetenv(EMU_LLVM_OBJ_CODE_MODEL_ENV);
    EmuLlvmCtx *c = api->create(&o, err, sizeof err);
    ck_assert_msg(c != NULL, "create: %s", err);
    /* the object target machine is made on first use: now, under model */
    char hf[64];
    ck_assert_uint_gt(api->host_features(c, hf, sizeof hf), 20);
    unsetenv(EMU_LLVM_OBJ_CODE_MODEL_ENV);
    return c;
}

static void setup(void)
{
    if (api)
        return;
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
    ck_assert(get != NULL);
    api = get(EMU_LLVM_ABI_VERSION);
    ck_assert(api && api->size == sizeof(EmuLlvmApi) && api->compile_object &&
              api->host_features);
    ctx_o2 = make_ctx(false, NULL);
    ctx_pic = make_ctx(true, "small-pic");
    ctx_fast = make_ctx(true, NULL);
}

/* ---- a batch of random regions ------------------------------------------- */

typedef struct Batch {
    uint32_t n;
    IrBlock **blocks;
    const IrBlock **bl;            /* bl[i] = blocks[i] (one-block regions) */
    EmuLlvmRegion *reg;
    const EmuLlvmRegion **rp;
    uintptr_t *tags;
    EmuLlvmObject obj;
} Batch;

static uintptr_t tag_of(uint32_t i)
{
    return 0x7f0000100000ull + (uintptr_t)i * 0x40; /* distinct, 8-aligned, > 4 GiB */
}

static void batch_free(Batch *b)
{
    for (uint32_t i = 0; i < b->n; i++)
        ir_block_free(b->blocks[i]);
    free(b->blocks);
    free(b->bl);
    free(b->reg);
    free(b->rp);
    free(b->tags);
    free(b->obj.data);
    memset(b, 0, sizeof *b);
}

/* n random blocks from seed0 (max_ops per block), compiled by ctx. */
static void batch_make(Batch *b, EmuLlvmCtx *ctx, uint64_t seed0, uint32_t n, unsigned min_ops,
                       unsigned max_ops)
{
    memset(b, 0, sizeof *b);
    b->n = n;
    b->blocks = calloc(n, sizeof *b->blocks);
    b->bl = calloc(n, sizeof *b->bl);
    b->reg = calloc(n, sizeof *b->reg);
    b->rp = calloc(n, sizeof *b->rp);
    b->tags = calloc(n, sizeof *b->tags);
    ck_assert(b->blocks && b->bl && b->reg && b->rp && b->tags);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t seed = seed0 + i;
        IrBlock *blk = ir_rand_block(&rgs, seed, min_ops, max_ops);
        if (seed % 3 == 0)
            ir_optimize(blk);
        char err[256];
        ck_assert_msg(ir_verify(blk, err, sizeof err), "seed %llu: %s",
                      (unsigned long long)seed, err);
        b->blocks[i] = blk;
        b->bl[i] = blk;
        b->tags[i] = tag_of(i);
        /* odd seeds: goto_tb as TMPL_RET_LOOKUP; the tag field is ignored */
        b->reg[i] = (EmuLlvmRegion){ .blocks = &b->bl[i], .n_blocks = 1, .tag = 0xdead0,
                                     .goto_tb_lookup = seed & 1 };
        b->rp[i] = &b->reg[i];
    }
    char err[512];
    ck_assert_msg(api->compile_object(ctx, b->rp, n, &b->obj, err, sizeof err), "batch %llu: %s",
                  (unsigned long long)seed0, err);
    ck_assert(b->obj.data && b->obj.size > sizeof(Elf64_Ehdr));
}

static ObjImage *batch_load(const Batch *b, char *err, size_t n)
{
    ObjEmuNames nm = { .helpers = ir_helper_info, .n_helpers = IR_HELPER_COUNT,
                       .tags = b->tags, .n_tags = b->n };
    return objload(b->obj.data, b->obj.size, objload_emu_resolve, &nm, err, n);
}

static volatile uint64_t crash_seed;
static void on_crash(int sig)
{
    fprintf(stderr, "\n*** signal %d while running seed %llu\n", sig,
            (unsigned long long)crash_seed);
    _exit(2);
}

static IrRandTally tally;

/* Run region i of the loaded batch and the interpreter; judge. */
static void run_judge(const Batch *b, ObjImage *img, uint32_t i, uint64_t seed)
{
    const IrBlock *blk = b->blocks[i];
    crash_seed = seed;
    static uint8_t imem[IR_RAND_MEM_SIZE];
    IrRandEnv init, ei, el;
    ir_rand_start(seed, guest, GUEST_LIMIT, &init, imem);
    ei = init;
    el = init;
    IrRandMem tm = { .m = imem, .limit = GUEST_LIMIT };
    IrMemIface mif = ir_rand_mem_iface(&tm);
    IrExitInfo ex;
    uint32_t fi = 0;
    IrInterpStatus st = ir_interp_run(blk, &ei, &mif, &ex, &fi);

    char name[32];
    snprintf(name, sizeof name, EMU_LLVM_OBJ_FN_PREFIX "%u", i);
    EmuLlvmEntry f = (EmuLlvmEntry)objload_sym(img, name);
    ck_assert_msg(f != NULL, "no %s in the object", name);
    uintptr_t r = f(&el);
    char what[256];
    ir_rand_judge("objload", b->tags[i], r, b->reg[i].goto_tb_lookup, st, fi, &ex, &tm, &ei, &el,
                  imem, guest, &tally, what, sizeof what);
    if (what[0]) {
        fprintf(stderr, "\n*** objload differential failure: seed %llu (region %u): %s\n",
                (unsigned long long)seed, i, what);
        ir_print(blk, stderr);
    }
    ck_assert_msg(!what[0], "seed %llu: %s", (unsigned long long)seed, what);
}

static void run_batches(const char *label, EmuLlvmCtx *ctx, uint64_t seed0, unsigned batches,
                        uint32_t per)
{
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGILL, on_crash);
    const char *s = getenv("OBJ_SEED");
    if (s) {
        seed0 = strtoull(s, NULL, 0);
        batches = 1;
    }
    memset(&tally, 0, sizeof tally);
    double compile_ms = 0, load_us = 0;
    size_t bytes = 0;
    for (unsigned k = 0; k < batches; k++) {
        Batch b;
        uint64_t base = seed0 + (uint64_t)k * per;
        batch_make(&b, ctx, base, per, 20, 200);
        compile_ms += (b.obj.lower_ns + b.obj.opt_ns + b.obj.codegen_ns) / 1e6;
        bytes += b.obj.size;
        char err[256];
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ObjImage *img = batch_load(&b, err, sizeof err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ck_assert_msg(img != NULL, "objload: %s", err);
        load_us += (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
        for (uint32_t i = 0; i < per; i++)
            run_judge(&b, img, i, base + i);
        objload_free(img);
        batch_free(&b);
    }
    unsigned long n = (unsigned long)batches * per;
    fprintf(stderr, "objload %s: %lu programs OK in %u objects (%zu bytes), faults %lu, exits: "
                    "slot0 %lu slot1-3 %lu lookup %lu exit %lu; compile %.2f ms/region, "
                    "load %.2f us/region\n",
            label, n, batches, bytes, tally.faults, tally.exit_kind[0], tally.exit_kind[1] + tally.exit_kind[2] + tally.exit_kind[3],
            tally.exit_kind[TMPL_RET_LOOKUP], tally.exit_kind[TMPL_RET_EXIT], compile_ms / n, load_us / n);
    if (n >= 100)
        ck_assert_uint_gt(tally.faults, 0);
}

START_TEST(test_random_large_o2)
{
    setup();
    run_batches("large O2", ctx_o2, 1, 4, 50);
}
END_TEST

START_TEST(test_random_small_pic)
{
    setup();
    run_batches("small-pic light", ctx_pic, 200001, 3, 50);
}
END_TEST

/* ---- a region loop with --stats counters --------------------------------- */

static IrBlock *small_block(uint64_t pc)
{
    IrBlock *b = ir_block_new(&rgs, pc, 0);
    ir_insn_start(b, pc, 4);
    return b;
}

START_TEST(test_counters_and_loop)
{
    setup();
    /* block A @0x8000: r0 += r1; r1 -= 1; goto_tb B
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
    const IrBlock *blocks[2] = { a, bb };
    uint64_t cnt[2] = { 0, 0 };
    uint64_t *c0[2] = { &cnt[0], &cnt[1] };
    uint64_t *const *counters = c0;
    /* region 0: loop inside, counted; region 1: same blocks, no internal
     * edges, not counted */
    EmuLlvmRegion r0 = { .blocks = blocks, .n_blocks = 2, .internal_edges = true,
                         .counters = counters };
    EmuLlvmRegion r1 = { .blocks = blocks, .n_blocks = 2 };
    const EmuLlvmRegion *rp[2] = { &r0, &r1 };
    EmuLlvmObject obj;
    char err[256];
    ck_assert_msg(api->compile_object(ctx_o2, rp, 2, &obj, err, sizeof err), "%s", err);
    uintptr_t tags[2] = { 0x700, 0x7000000000 };
    uint64_t *const *per_region[2] = { c0, NULL };
    uint32_t n_cnt[2] = { 2, 0 };
    ObjEmuNames nm = { .helpers = ir_helper_info, .n_helpers = IR_HELPER_COUNT, .tags = tags,
                       .n_tags = 2, .counters = per_region, .n_counters = n_cnt };
    ObjImage *img = objload(obj.data, obj.size, objload_emu_resolve, &nm, err, sizeof err);
    ck_assert_msg(img != NULL, "%s", err);
    /* without the counters the same object does not load */
    ObjEmuNames nc = nm;
    nc.counters = NULL;
    ObjImage *bad = objload(obj.data, obj.size, objload_emu_resolve, &nc, err, sizeof err);
    ck_assert(bad == NULL);
    ck_assert_msg(strstr(err, "emu_count_0_") != NULL, "%s", err);
    free(obj.data); /* the image does not need the input any more */

    IrRandEnv e;
    memset(&e, 0, sizeof e);
    e.common.guest_base = (uint64_t)(uintptr_t)guest;
    e.common.guest_limit = GUEST_LIMIT;
    e.r64[1] = 100;
    uintptr_t r = ((EmuLlvmEntry)objload_sym(img, "emu_r0"))(&e);
    ck_assert_uint_eq(r, 0x700 | TMPL_RET_EXIT);
    ck_assert_uint_eq(e.common.exit_reason, IR_EXIT_HALT);
    ck_assert_uint_eq(e.r64[0], 5050);
    ck_assert_uint_eq(cnt[0], 100);
    ck_assert_uint_eq(cnt[1], 100);
    memset(&e, 0, sizeof e);
    e.common.guest_base = (uint64_t)(uintptr_t)guest;
    e.common.guest_limit = GUEST_LIMIT;
    e.r64[1] = 100;
    r = ((EmuLlvmEntry)objload_sym(img, "emu_r1"))(&e);
    ck_assert_uint_eq(r, 0x7000000000 | (TMPL_RET_SLOT0 + 1));
    ck_assert_uint_eq(e.common.pc, 0x8004);
    ck_assert_uint_eq(e.r64[0], 100);
    ck_assert(objload_sym(img, "emu_r2") == NULL);
    ck_assert(objload_sym(img, "emu_tag_0") == NULL); /* undefined: not exported */
    objload_free(img);
    ir_block_free(a);
    ir_block_free(bb);
}
END_TEST

/* ---- W^X ------------------------------------------------------------------- */

/* Permissions ("r-xp") of the mapping holding p, from /proc/self/maps. */
static bool perms_of(const void *p, char out[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char pr[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, pr) == 3 && (uintptr_t)p >= lo &&
            (uintptr_t)p < hi) {
            memcpy(out, pr, 5);
            found = true;
            break;
        }
    }
    fclose(f);
    return found;
}

START_TEST(test_wx)
{
    setup();
    Batch b;
    batch_make(&b, ctx_o2, 7, 4, 20, 200);
    char err[256];
    ObjImage *img = batch_load(&b, err, sizeof err);
    ck_assert_msg(img != NULL, "%s", err);
    const void *text;
    size_t len;
    objload_text(img, &text, &len);
    ck_assert(text && len);
    void *f = objload_sym(img, "emu_r3");
    ck_assert((uint8_t *)f >= (const uint8_t *)text && (uint8_t *)f < (const uint8_t *)text + len);
    char pr[5];
    ck_assert(perms_of(text, pr));
    ck_assert_str_eq(pr, "r-xp");
    /* constant pools follow the code, read-only */
    ck_assert(perms_of((const uint8_t *)text + len, pr));
    ck_assert_str_eq(pr, "r--p");
    objload_free(img);
    batch_free(&b);
}
END_TEST

/* Several images at once: the same object loaded twice with other tags,
 * and a second object; each function answers with its own image's tag. */
START_TEST(test_several_images)
{
    setup();
    Batch a, b;
    batch_make(&a, ctx_fast, 31, 3, 10, 40);
    batch_make(&b, ctx_fast, 41, 2, 10, 40);
    char err[256];
    ObjImage *ia = batch_load(&a, err, sizeof err);
    ck_assert_msg(ia != NULL, "%s", err);
    uintptr_t other[3] = { 0x123400, 0x567800, 0x9abc00 };
    ObjEmuNames nm = { .helpers = ir_helper_info, .n_helpers = IR_HELPER_COUNT, .tags = other,
                       .n_tags = 3 };
    ObjImage *ia2 = objload(a.obj.data, a.obj.size, objload_emu_resolve, &nm, err, sizeof err);
    ck_assert_msg(ia2 != NULL, "%s", err);
    ObjImage *ib = batch_load(&b, err, sizeof err);
    ck_assert_msg(ib != NULL, "%s", err);
    ck_assert_ptr_ne(objload_sym(ia, "emu_r0"), objload_sym(ia2, "emu_r0"));
    for (uint32_t i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, EMU_LLVM_OBJ_FN_PREFIX "%u", i);
        IrRandEnv e1, e2;
        ir_rand_env(&e1, 31 + i);
        e1.common.guest_base = (uint64_t)(uintptr_t)guest;
        e1.common.guest_limit = GUEST_LIMIT;
        e2 = e1;
        memset(guest, 0, IR_RAND_MEM_SIZE);
        uintptr_t r1 = ((EmuLlvmEntry)objload_sym(ia, name))(&e1);
        memset(guest, 0, IR_RAND_MEM_SIZE);
        uintptr_t r2 = ((EmuLlvmEntry)objload_sym(ia2, name))(&e2);
        ck_assert_uint_eq(r1 & ~TMPL_RET_MASK, a.tags[i]);
        ck_assert_uint_eq(r2 & ~TMPL_RET_MASK, other[i]);
        ck_assert_uint_eq(r1 & TMPL_RET_MASK, r2 & TMPL_RET_MASK);
        ck_assert(!memcmp(&e1, &e2, sizeof e1));
    }
    objload_free(ia);   /* the others stay usable */
    for (uint32_t i = 0; i < 2; i++)
        run_judge(&b, ib, i, 41 + i);
    objload_free(ia2);
    objload_free(ib);
    batch_free(&a);
    batch_free(&b);
}
END_TEST

/* ---- load cost ------------------------------------------------------------- */

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

START_TEST(test_load_cost)
{
    setup();
    enum { N = 1000, REPS = 10 };
    Batch b;
    batch_make(&b, ctx_fast, 500001, N, 5, 20);
    double best = 1e30;
    ObjImage *img = NULL;
    for (int k = 0; k < REPS; k++) {
        char err[256];
        double t0 = now_us();
        ObjImage *im = batch_load(&b, err, sizeof err);
        uint32_t found = 0; /* (ck_assert costs ~1 us: not in the timed loop) */
        for (uint32_t i = 0; im && i < N; i++) {
            char name[32];
            snprintf(name, sizeof name, EMU_LLVM_OBJ_FN_PREFIX "%u", i);
            found += objload_sym(im, name) != NULL;
        }
        double t = now_us() - t0;
        ck_assert_msg(im != NULL, "%s", err);
        ck_assert_uint_eq(found, N);
        if (t < best)
            best = t;
        if (img)
            objload_free(img);
        img = im;
    }
    fprintf(stderr, "objload: %u-function object (%zu bytes): load + %u lookups %.0f us = "
                    "%.3f us/function (compile %.2f ms/function)\n",
            N, b.obj.size, N, best, best / N,
            (b.obj.lower_ns + b.obj.opt_ns + b.obj.codegen_ns) / 1e6 / N);
    memset(&tally, 0, sizeof tally);
    for (uint32_t i = 0; i < N; i++)
        run_judge(&b, img, i, 500001 + i);
    objload_free(img);
    batch_free(&b);
}
END_TEST

/* ---- malformed objects ----------------------------------------------------- */

static Batch small;                /* 3 regions, light pipeline */
static uint8_t *guard_buf;         /* copies end right before a PROT_NONE page */
static size_t guard_cap;

static void small_setup(void)
{
    setup();
    if (small.n)
        return;
    batch_make(&small, ctx_fast, 900001, 3, 10, 40);
    size_t pg = 4096;
    guard_cap = (small.obj.size + pg - 1) / pg * pg;
    guard_buf = mmap(NULL, guard_cap + pg, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(guard_buf != MAP_FAILED);
    ck_assert_int_eq(mprotect(guard_buf + guard_cap, pg, PROT_NONE), 0);
}

/* The first len bytes of obj (or of small's object), placed so that any
 * read past them faults. */
static uint8_t *guarded(const uint8_t *obj, size_t len)
{
    uint8_t *p = guard_buf + guard_cap - len;
    memcpy(p, obj, len);
    return p;
}

/* Loading `bytes` must fail with a message containing want (NULL: any). */
static void expect_fail(const uint8_t *bytes, size_t len, const char *want, const char *what)
{
    char err[256] = "";
    ObjEmuNames nm = { .helpers = ir_helper_info, .n_helpers = IR_HELPER_COUNT,
                       .tags = small.tags, .n_tags = small.n };
    ObjImage *img = objload(guarded(bytes, len), len, objload_emu_resolve, &nm, err, sizeof err);
    if (img)
        objload_free(img);
    ck_assert_msg(img == NULL, "%s: loaded", what);
    ck_assert_msg(err[0] != 0, "%s: no message", what);
    ck_assert_msg(!want || strstr(err, want), "%s: message '%s', expected '%s'", what, err, want);
}

typedef struct ElfView {
    uint8_t *p;
    Elf64_Ehdr *eh;
    Elf64_Shdr *sh;
} ElfView;

static ElfView view(uint8_t *p)
{
    ElfView v = { .p = p, .eh = (Elf64_Ehdr *)p };
    v.sh = (Elf64_Shdr *)(p + v.eh->e_shoff);
    return v;
}

static int find_sec(const ElfView *v, uint32_t type, uint64_t flag)
{
    for (int i = 1; i < v->eh->e_shnum; i++)
        if (v->sh[i].sh_type == type && (v->sh[i].sh_flags & flag) == flag && v->sh[i].sh_size)
            return i;
    return -1;
}

static uint8_t *copy_obj(void)
{
    uint8_t *c = malloc(small.obj.size);
    ck_assert(c);
    memcpy(c, small.obj.data, small.obj.size);
    return c;
}

START_TEST(test_malformed_truncated)
{
    small_setup();
    /* the intact object loads from the guarded place */
    char err[256];
    ObjEmuNames nm = { .helpers = ir_helper_info, .n_helpers = IR_HELPER_COUNT,
                       .tags = small.tags, .n_tags = small.n };
    ObjImage *img = objload(guarded(small.obj.data, small.obj.size), small.obj.size,
                            objload_emu_resolve, &nm, err, sizeof err);
    ck_assert_msg(img != NULL, "%s", err);
    objload_free(img);
    for (size_t len = 0; len < small.obj.size; len++) {
        char what[48];
        snprintf(what, sizeof what, "truncated to %zu", len);
        expect_fail(small.obj.data, len, NULL, what);
    }
    ck_assert(objload(NULL, 100, objload_emu_resolve, &nm, err, sizeof err) == NULL);
}
END_TEST

START_TEST(test_malformed_sections)
{
    small_setup();
    size_t sz = small.obj.size;
    uint8_t *c = copy_obj();
    ElfView v = view(c);
    int text = find_sec(&v, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR);
    ck_assert_int_gt(text, 0);
    Elf64_Shdr keep = v.sh[text];
    v.sh[text].sh_offset = sz;  /* starts at the end, non-empty */
    expect_fail(c, sz, "outside the object", "text offset at end");
    v.sh[text].sh_offset = ~(uint64_t)0 - 8; /* wraps around */
    expect_fail(c, sz, "outside the object", "text offset wrapping");
    v.sh[text] = keep;
    v.sh[text].sh_size = sz;  /* runs past the end */
    expect_fail(c, sz, "outside the object", "text size");
    v.sh[text] = keep;
    v.sh[text].sh_addralign = 3;
    expect_fail(c, sz, "alignment", "alignment 3");
    v.sh[text] = keep;
    v.sh[text].sh_flags |= SHF_WRITE;
    expect_fail(c, sz, "writable", "writable text");
    v.sh[text] = keep;
    uint64_t shoff = v.eh->e_shoff;
    v.eh->e_shoff = sz - 10;
    expect_fail(c, sz, "section headers", "section headers past the end");
    v.eh->e_shoff = shoff;
    v.eh->e_machine = EM_AARCH64;
    expect_fail(c, sz, "x86-64", "wrong machine");
    v.eh->e_machine = EM_X86_64;
    /* symbol table: string table link, unterminated strings, bad indices */
    int symtab = find_sec(&v, SHT_SYMTAB, 0);
    ck_assert_int_gt(symtab, 0);
    uint32_t link = v.sh[symtab].sh_link;
    v.sh[symtab].sh_link = text;
    expect_fail(c, sz, "string table", "symtab linked to text");
    v.sh[symtab].sh_link = 0xffff;
    expect_fail(c, sz, "string table", "symtab link out of range");
    v.sh[symtab].sh_link = link;
    uint8_t last = c[v.sh[link].sh_offset + v.sh[link].sh_size - 1];
    c[v.sh[link].sh_offset + v.sh[link].sh_size - 1] = 'x';
    expect_fail(c, sz, "not terminated", "unterminated strings");
    c[v.sh[link].sh_offset + v.sh[link].sh_size - 1] = last;
    Elf64_Sym *syms = (Elf64_Sym *)(c + v.sh[symtab].sh_offset);
    uint32_t ns = (uint32_t)(v.sh[symtab].sh_size / sizeof *syms), fn = 0;
    for (uint32_t i = 1; i < ns; i++)
        if (syms[i].st_shndx == text && ELF64_ST_BIND(syms[i].st_info) == STB_GLOBAL)
            fn = i;
    ck_assert_uint_gt(fn, 0);
    Elf64_Sym ks = syms[fn];
    syms[fn].st_shndx = v.eh->e_shnum + 3;
    expect_fail(c, sz, "bad section index", "symbol section index");
    syms[fn] = ks;
    syms[fn].st_value = v.sh[text].sh_size + 1;
    expect_fail(c, sz, "outside its section", "symbol value");
    syms[fn] = ks;
    syms[fn].st_name = (uint32_t)v.sh[link].sh_size + 5;
    expect_fail(c, sz, "name outside", "symbol name");
    syms[fn] = ks;
    syms[fn].st_shndx = SHN_COMMON;
    expect_fail(c, sz, "unsupported section index", "COMMON symbol");
    syms[fn] = ks;
    /* undamaged again: loads */
    char err[256];
    ObjEmuNames nm = { .helpers = ir_helper_info, .n_helpers = IR_HELPER_COUNT,
                       .tags = small.tags, .n_tags = small.n };
    ObjImage *img = objload(c, sz, objload_emu_resolve, &nm, err, sizeof err);
    ck_assert_msg(img != NULL, "%s", err);
    objload_free(img);
    free(c);
}
END_TEST

START_TEST(test_malformed_relocs)
{
    small_setup();
    size_t sz = small.obj.size;
    uint8_t *c = copy_obj();
    ElfView v = view(c);
    int rs = find_sec(&v, SHT_RELA, 0);
    ck_assert_int_gt(rs, 0);
    int symtab = find_sec(&v, SHT_SYMTAB, 0);
    uint64_t nsyms = v.sh[symtab].sh_size / sizeof(Elf64_Sym);
    Elf64_Rela *r = (Elf64_Rela *)(c + v.sh[rs].sh_offset);
    Elf64_Rela keep = r[0];
    r[0].r_info = ELF64_R_INFO(nsyms + 7, ELF64_R_TYPE(keep.r_info));
    expect_fail(c, sz, "bad symbol index", "relocation symbol index");
    r[0].r_info = ELF64_R_INFO(0xffffffffu, ELF64_R_TYPE(keep.r_info));
    expect_fail(c, sz, "bad symbol index", "relocation symbol index 2^32-1");
    r[0].r_info = ELF64_R_INFO(ELF64_R_SYM(keep.r_info), 200);
    expect_fail(c, sz, "unknown type 200", "unknown relocation type");
    r[0].r_info = ELF64_R_INFO(ELF64_R_SYM(keep.r_info), R_X86_64_TPOFF64);
    expect_fail(c, sz, "unknown type", "TLS relocation");
    r[0] = keep;
    r[0].r_offset = v.sh[v.sh[rs].sh_info].sh_size - 2;
    expect_fail(c, sz, "outside", "relocation offset at the end");
    r[0].r_offset = ~(uint64_t)0 - 2;
    expect_fail(c, sz, "outside", "relocation offset wrapping");
    r[0] = keep;
    uint64_t info = v.sh[rs].sh_info;
    v.sh[rs].sh_info = 0xfff0;
    expect_fail(c, sz, "bad target section", "relocation target section");
    v.sh[rs].sh_info = info;
    v.sh[rs].sh_entsize = 16;
    expect_fail(c, sz, "entry size", "relocation entry size");
    v.sh[rs].sh_entsize = sizeof(Elf64_Rela);
    v.sh[rs].sh_type = SHT_REL;
    expect_fail(c, sz, "SHT_REL", "SHT_REL");
    v.sh[rs].sh_type = SHT_RELA;
    /* an unresolved symbol: the resolver knows only region 0's tag */
    char err[256];
    ObjEmuNames nm = { .helpers = ir_helper_info, .n_helpers = IR_HELPER_COUNT,
                       .tags = small.tags, .n_tags = 1 };
    ck_assert(objload(c, sz, objload_emu_resolve, &nm, err, sizeof err) == NULL);
    ck_assert_msg(strstr(err, "undefined symbol emu_tag_") != NULL, "%s", err);
    ck_assert(objload(c, sz, NULL, NULL, err, sizeof err) == NULL);
    nm.n_tags = small.n;
    ObjImage *img = objload(c, sz, objload_emu_resolve, &nm, err, sizeof err);
    ck_assert_msg(img != NULL, "%s", err);
    objload_free(img);
    free(c);
}
END_TEST

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random damage to the metadata (headers, symbols, relocations) must give
 * an error or a clean load, never a crash. */
START_TEST(test_malformed_random)
{
    small_setup();
    size_t sz = small.obj.size;
    ElfView v0 = view(small.obj.data);
    /* byte ranges worth damaging */
    uint64_t lo[16], hi[16];
    unsigned nr = 0;
    lo[nr] = 0, hi[nr++] = sizeof(Elf64_Ehdr);
    lo[nr] = v0.eh->e_shoff, hi[nr++] = v0.eh->e_shoff + v0.eh->e_shnum * sizeof(Elf64_Shdr);
    for (int i = 1; i < v0.eh->e_shnum && nr < 16; i++)
        if (v0.sh[i].sh_type == SHT_SYMTAB || v0.sh[i].sh_type == SHT_RELA ||
            v0.sh[i].sh_type == SHT_STRTAB)
            lo[nr] = v0.sh[i].sh_offset, hi[nr++] = v0.sh[i].sh_offset + v0.sh[i].sh_size;
    uint8_t *c = malloc(sz);
    ck_assert(c);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    unsigned loaded = 0, failed = 0;
    const char *np = getenv("OBJ_FUZZ");
    unsigned iters = np ? (unsigned)strtoul(np, NULL, 0) : 3000;
    for (unsigned it = 0; it < iters; it++) {
        memcpy(c, small.obj.data, sz);
        unsigned flips = 1 + (unsigned)(xs(&s) % 4);
        for (unsigned k = 0; k < flips; k++) {
            unsigned r = (unsigned)(xs(&s) % nr);
            uint64_t at = lo[r] + xs(&s) % (hi[r] - lo[r]);
            c[at] = (xs(&s) & 1) ? (uint8_t)xs(&s) : c[at] ^ (uint8_t)(1u << (xs(&s) % 8));
        }
        char err[256];
        ObjEmuNames nm = { .helpers = ir_helper_info, .n_helpers = IR_HELPER_COUNT,
                           .tags = small.tags, .n_tags = small.n };
        ObjImage *img = objload(guarded(c, sz), sz, objload_emu_resolve, &nm, err, sizeof err);
        if (img) {
            loaded++;
            objload_free(img);
        } else {
            failed++;
            ck_assert(err[0]);
        }
    }
    fprintf(stderr, "objload fuzz: %u damaged objects: %u rejected, %u loaded (not run)\n",
            iters, failed, loaded);
    ck_assert_uint_gt(failed, 0);
    free(c);
}
END_TEST

static Suite *objload_suite(void)
{
    Suite *s = suite_create("objload");
    TCase *m = tcase_create("malformed");
    tcase_set_timeout(m, 60);
    tcase_add_test(m, test_malformed_truncated);
    tcase_add_test(m, test_malformed_sections);
    tcase_add_test(m, test_malformed_relocs);
    tcase_add_test(m, test_malformed_random);
    suite_add_tcase(s, m);
    TCase *ex = tcase_create("exec");
    tcase_set_timeout(ex, 240);
    tcase_add_test(ex, test_counters_and_loop);
    tcase_add_test(ex, test_wx);
    tcase_add_test(ex, test_several_images);
    tcase_add_test(ex, test_random_large_o2);
    tcase_add_test(ex, test_random_small_pic);
    tcase_add_test(ex, test_load_cost);
    suite_add_tcase(s, ex);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(objload_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    batch_free(&small);
    if (api) {
        api->destroy(ctx_o2);
        api->destroy(ctx_pic);
        api->destroy(ctx_fast);
    }
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
