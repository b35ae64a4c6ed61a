/*
 * tmpl_test.c - tests of the template backend (emu_tmpl).
 *
 *  - encoder: exact bytes of tricky encodings, and an objdump cross-check
 *    that every emitted instruction decodes with the length we produced;
 *  - differential: random IR blocks (tests/common/ir-random.c) run in the
 *    reference interpreter and as generated code from the same env and guest
 *    memory; env, memory and the exit must agree (every third block goes
 *    through ir_optimize first; every seventh may have up to 400 ops).
 *    TMPL_PROGRAMS=n sets the count (default 10000), TMPL_SEED=s runs only
 *    seed s (TMPL_VERBOSE=1 prints its block, TMPL_DUMP=file its code);
 *    a failure prints the seed and the block;
 *  - the same with lzcnt/tzcnt/popcnt disabled (fallback sequences);
 *  - chaining (goto_tb patched to another block, also while another thread
 *    runs it), the inline jump cache hit, guest fault kinds, and a host page
 *    fault mapped back to its guest insn via insn_map.
 */
#define _GNU_SOURCE
#include <check.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "ir/ir-eval.h"
#include "ir/ir-helpers.h"
#include "template-backend/tmpl-internal.h"
#include "template-backend/tmpl.h"
#include "template-backend/x86-emit.h"
#include "tests/common/ir-random.h"

/* ---- fixtures ------------------------------------------------------------ */
#define GUEST_LIMIT 8192   /* page 0 valid, page 1 PROT_NONE (host fault), then guard */
static uint8_t *guest;     /* 3 pages */
static CodeBuf cbuf;
static size_t cbuf_base_used;
static JmpCacheEntry *jcache;
static IrGlobalSet rgs;

static void setup(void)
{
    if (guest)
        return;
    guest = mmap(NULL, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(guest != MAP_FAILED);
    ck_assert_int_eq(mprotect(guest, 4096, PROT_READ | PROT_WRITE), 0);
    size_t sz = 4 << 20;
    cbuf.base = mmap(NULL, sz, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    ck_assert(cbuf.base != MAP_FAILED);
    cbuf.size = sz;
    ck_assert(tmpl_init(&cbuf));
    cbuf_base_used = cbuf.used;
    jcache = malloc(JMP_CACHE_SIZE * sizeof *jcache);
    for (unsigned i = 0; i < JMP_CACHE_SIZE; i++)
        jcache[i] = (JmpCacheEntry){~0ull, NULL};
    ir_rand_globals(&rgs);
}


/* ---- encoder ------------------------------------------------------------- */
typedef struct EncCase {
    const char *what;
    uint8_t bytes[16];
    unsigned len;
} EncCase;

#define B(...) {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})

static void enc_one(X86Buf *x, int i)
{
    switch (i) {
    case 0: x86_alu_ri(x, X86_ADD, 64, X86_RBX, 4); break;
    case 1: x86_load(x, 32, X86_RAX, x86_mem(X86_R14, 8)); break;
    case 2: x86_load(x, 64, X86_RAX, x86_mem(X86_R12, 0)); break;   /* SIB for r12 */
    case 3: x86_load(x, 64, X86_RAX, x86_mem(X86_R13, 0)); break;   /* disp8 for r13 */
    case 4: x86_store(x, 64, x86_mem(X86_RSP, 16), X86_RBX); break;
    case 5: x86_mov_rr(x, 8, X86_RSI, X86_RAX); break;              /* REX for sil */
    case 6: x86_load(x, 64, X86_RCX, x86_mem_idx(X86_R15, X86_RBX, 0)); break;
    case 7: x86_mov_ri(x, X86_R11, 0xFFFFFFFFull); break;
    case 8: x86_mov_ri(x, X86_RAX, ~0ull); break;
    case 9: x86_mov_ri(x, X86_RAX, 0x123456789ull); break;
    case 10: x86_shift_cl(x, X86_SAR, 64, X86_R9); break;
    case 11: x86_setcc(x, X86_CC_L, X86_RDI); break;
    case 12: x86_cmovcc(x, X86_CC_E, 32, X86_R10, X86_RDX); break;
    case 13: x86_bswap(x, 64, X86_R13); break;
    case 14: x86_lzcnt(x, 64, X86_RAX, X86_RBX); break;
    case 15: x86_lock(x); x86_cmpxchg(x, 16, x86_mem_idx(X86_R15, X86_RSI, 0), X86_RDX); break;
    case 16: x86_lock(x); x86_cmpxchg16b(x, x86_mem_idx(X86_R15, X86_RBP, 0)); break;
    case 17: x86_alu_ri(x, X86_CMP, 8, X86_RBP, 5); break;
    case 18: x86_movsx_load(x, 64, X86_R8, x86_mem(X86_RAX, 0x100), 16); break;
    case 19: x86_imul_rri(x, 32, X86_RAX, X86_RCX, 1000); break;
    case 20: x86_alu_rm(x, X86_CMP, 64, X86_RBX,
                        x86_mem(X86_R14, offsetof(CpuCommon, guest_limit))); break;
    case 21: x86_test_ri(x, 32, X86_RSI, 7); break;
    case 22: x86_movzx_rr(x, X86_RAX, X86_RDI, 8); break;
    case 23: x86_store_imm(x, 16, x86_mem(X86_RBP, 0), 0x1234); break;
    case 24: x86_mfence(x); break;
    case 25: x86_movdqu_load(x, 0, x86_mem_idx(X86_R15, X86_R12, 0)); break;
    case 26: x86_movdqu_store(x, x86_mem(X86_RSP, 0xc00), 0); break;
    case 27: x86_movq_xmm_load(x, 0, x86_mem(X86_R14, 0x1c0)); break;
    case 28: x86_movd_xmm_load(x, 0, x86_mem_idx(X86_R15, X86_RBX, 0)); break;
    case 29: x86_movq_xmm_r(x, 64, 0, X86_R12); break;
    case 30: x86_movq_xmm_r(x, 32, 1, X86_RAX); break;
    case 31: x86_punpcklqdq(x, 0, 1); break;
    }
}

static const EncCase enc_cases[] = {
    {"add rbx,4", B(0x48, 0x83, 0xC3, 0x04)},
    {"mov eax,[r14+8]", B(0x41, 0x8B, 0x46, 0x08)},
    {"mov rax,[r12]", B(0x49, 0x8B, 0x04, 0x24)},
    {"mov rax,[r13+0]", B(0x49, 0x8B, 0x45, 0x00)},
    {"mov [rsp+16],rbx", B(0x48, 0x89, 0x5C, 0x24, 0x10)},
    {"mov sil,al", B(0x40, 0x88, 0xC6)},
    {"mov rcx,[r15+rbx]", B(0x49, 0x8B, 0x0C, 0x1F)},
    {"mov r11d,0xffffffff", B(0x41, 0xBB, 0xFF, 0xFF, 0xFF, 0xFF)},
    {"mov rax,-1", B(0x48, 0xC7, 0xC0, 0xFF, 0xFF, 0xFF, 0xFF)},
    {"movabs rax,0x123456789", B(0x48, 0xB8, 0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0)},
    {"sar r9,cl", B(0x49, 0xD3, 0xF9)},
    {"setl dil", B(0x40, 0x0F, 0x9C, 0xC7)},
    {"cmove r10d,edx", B(0x44, 0x0F, 0x44, 0xD2)},
    {"bswap r13", B(0x49, 0x0F, 0xCD)},
    {"lzcnt rax,rbx", B(0xF3, 0x48, 0x0F, 0xBD, 0xC3)},
    {"lock cmpxchg [r15+rsi],dx", B(0xF0, 0x66, 0x41, 0x0F, 0xB1, 0x14, 0x37)},
    {"lock cmpxchg16b [r15+rbp]", B(0xF0, 0x49, 0x0F, 0xC7, 0x0C, 0x2F)},
    {"cmp bpl,5", B(0x40, 0x80, 0xFD, 0x05)},
    {"movsx r8,word [rax+0x100]", B(0x4C, 0x0F, 0xBF, 0x80, 0x00, 0x01, 0x00, 0x00)},
    {"imul eax,ecx,1000", B(0x69, 0xC1, 0xE8, 0x03, 0x00, 0x00)},
    {"cmp rbx,[r14+24]", B(0x49, 0x3B, 0x5E, 0x18)},
    {"test esi,7", B(0xF7, 0xC6, 0x07, 0x00, 0x00, 0x00)},
    {"movzx eax,dil", B(0x40, 0x0F, 0xB6, 0xC7)},
    {"mov word [rbp+0],0x1234", B(0x66, 0xC7, 0x45, 0x00, 0x34, 0x12)},
    {"mfence", B(0x0F, 0xAE, 0xF0)},
    {"movdqu xmm0,[r15+r12]", B(0xF3, 0x43, 0x0F, 0x6F, 0x04, 0x27)},
    {"movdqu [rsp+0xc00],xmm0", B(0xF3, 0x0F, 0x7F, 0x84, 0x24, 0x00, 0x0C, 0x00, 0x00)},
    {"movq xmm0,[r14+0x1c0]", B(0xF3, 0x41, 0x0F, 0x7E, 0x86, 0xC0, 0x01, 0x00, 0x00)},
    {"movd xmm0,[r15+rbx]", B(0x66, 0x41, 0x0F, 0x6E, 0x04, 0x1F)},
    {"movq xmm0,r12", B(0x66, 0x49, 0x0F, 0x6E, 0xC4)},
    {"movd xmm1,eax", B(0x66, 0x0F, 0x6E, 0xC8)},
    {"punpcklqdq xmm0,xmm1", B(0x66, 0x0F, 0x6C, 0xC1)},
};

START_TEST(test_encoder_bytes)
{
    for (unsigned i = 0; i < sizeof enc_cases / sizeof enc_cases[0]; i++) {
        uint8_t buf[32];
        X86Buf x = x86_buf(buf, sizeof buf);
        enc_one(&x, (int)i);
        ck_assert_msg(!x.overflow, "%s overflowed", enc_cases[i].what);
        size_t n = x86_off(&x);
        bool ok = n == enc_cases[i].len && memcmp(buf, enc_cases[i].bytes, n) == 0;
        if (!ok) {
            fprintf(stderr, "%s: got", enc_cases[i].what);
            for (size_t k = 0; k < n; k++)
                fprintf(stderr, " %02x", buf[k]);
            fprintf(stderr, "\n");
        }
        ck_assert_msg(ok, "encoding of %s", enc_cases[i].what);
    }
    /* overflow is reported, never written past the end */
    uint8_t small[3] = {0};
    X86Buf x = x86_buf(small, 2);
    x86_alu_ri(&x, X86_ADD, 64, X86_RBX, 4);
    ck_assert(x.overflow);
    ck_assert_int_eq(small[2], 0);
}
END_TEST

/* Emit many forms over many registers; objdump must find exactly our
 * instruction boundaries and no (bad) opcode. */
START_TEST(test_encoder_objdump)
{
    if (system("command -v objdump >/dev/null 2>&1") != 0)
        return;   /* objdump missing: the byte test above still runs */
    static uint8_t buf[65536];
    X86Buf x = x86_buf(buf, sizeof buf);
    static size_t starts[8192];
    unsigned n = 0;
    static const int regs[] = {X86_RAX, X86_RCX, X86_RBX, X86_RSP, X86_RBP, X86_RSI,
                               X86_RDI, X86_R8, X86_R11, X86_R12, X86_R13, X86_R15};
    static const int szs[] = {8, 16, 32, 64};
#define REC(stmt) do { starts[n++] = x86_off(&x); stmt; } while (0)
    for (unsigned a = 0; a < 12; a++) {
        int r = regs[a];
        for (unsigned s = 0; s < 4; s++) {
            int sz = szs[s];
            for (unsigned c = 0; c < 12; c++) {
                int q = regs[c];
                if (q == X86_RSP || r == X86_RSP)
                    continue;
                REC(x86_alu_rr(&x, X86_SUB, sz, r, q));
                REC(x86_load(&x, sz, r, x86_mem_idx(q, X86_RSI, 0x40)));
                REC(x86_store(&x, sz, x86_mem(q, -300), r));
                REC(x86_test_rr(&x, sz, r, q));
                REC(x86_cmpxchg(&x, sz, x86_mem_idx(X86_R15, q, 0), r));
                REC(x86_xadd(&x, sz, x86_mem(q, 8), r));
                REC(x86_movdqu_load(&x, r, x86_mem_idx(q, X86_R13, 0x40)));
                REC(x86_movdqu_store(&x, x86_mem(q, -300), r));
                REC(x86_movq_xmm_load(&x, r, x86_mem(q, 0)));
            }
            if (r == X86_RSP)
                continue;
            REC(x86_alu_ri(&x, X86_AND, sz, r, 0x1234));
            REC(x86_alu_ri(&x, X86_XOR, sz, r, -3));
            REC(x86_shift_ri(&x, X86_ROL, sz, r, 3));
            REC(x86_shift_ri(&x, X86_SHL, sz, r, 1));
            REC(x86_unary(&x, X86_NEG, sz, r));
            REC(x86_alu_mi(&x, X86_CMP, sz, x86_mem(X86_R14, 0x18), 77));
            REC(x86_store_imm(&x, sz, x86_mem(r, 4), 99));
        }
        if (r == X86_RSP)
            continue;
        REC(x86_mov_ri(&x, r, 5));
        REC(x86_mov_ri(&x, r, 0x8000000000000000ull));
        REC(x86_mov_ri(&x, r, (uint64_t)-5));
        REC(x86_movzx_rr(&x, r, X86_RSI, 8));
        REC(x86_movsx_rr(&x, 64, r, X86_R12, 32));
        REC(x86_movsx_load(&x, 32, r, x86_mem(X86_R13, 0), 8));
        REC(x86_lea(&x, 64, r, x86_mem_idx(X86_RBP, X86_R9, -8)));
        REC(x86_imul_rr(&x, 64, r, X86_R10));
        REC(x86_imul_rri(&x, 16, r, X86_RBX, 12));
        REC(x86_bswap(&x, 32, r));
        REC(x86_bsr(&x, 64, r, X86_RDI));
        REC(x86_tzcnt(&x, 64, r, X86_R8));
        REC(x86_popcnt(&x, 64, r, X86_RCX));
        REC(x86_bts_ri(&x, 64, r, 40));
        REC(x86_setcc(&x, X86_CC_A, r));
        REC(x86_cmovcc(&x, X86_CC_GE, 64, r, X86_R11));
        REC(x86_xchg(&x, 64, x86_mem_idx(X86_R15, r, 0), X86_RAX));
        REC(x86_push(&x, r));
        REC(x86_pop(&x, r));
        REC(x86_call_r(&x, r));
        REC(x86_jmp_m(&x, x86_mem(r, 8)));
    }
    for (unsigned k = 1; k <= 15; k++)
        REC(x86_nops(&x, k > 8 ? 8 : k));
    REC(x86_cqo(&x, 64));
    REC(x86_cqo(&x, 32));
    REC(x86_jcc32(&x, X86_CC_NE));
    REC(x86_jmp32(&x));
    REC(x86_cmpxchg16b(&x, x86_mem(X86_RSP, 0)));
    REC(x86_lfence(&x));
    REC(x86_sfence(&x));
#undef REC
    ck_assert(!x.overflow);
    char bin[] = "/tmp/tmpl_enc_XXXXXX";
    int fd = mkstemp(bin);
    ck_assert(fd >= 0);
    ck_assert(write(fd, buf, x86_off(&x)) == (ssize_t)x86_off(&x));
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "objdump -D -b binary -mi386:x86-64 %s", bin);
    FILE *p = popen(cmd, "r");
    ck_assert(p);
    char line[512];
    unsigned k = 0, bad = 0, mism = 0;
    while (fgets(line, sizeof line, p)) {
        unsigned long addr;
        char rest[400];
        if (sscanf(line, " %lx:\t%399[^\n]", &addr, rest) != 2)
            continue;
        /* continuation lines of long instructions have no mnemonic */
        char *tab = strchr(rest, '\t');
        if (!tab)
            continue;
        if (strstr(rest, "(bad)"))
            bad++;
        if (k < n && addr != starts[k]) {
            if (mism < 5)
                fprintf(stderr, "objdump boundary %lx, expected %zx: %s\n", addr, starts[k],
                        rest);
            mism++;
        }
        k++;
    }
    pclose(p);
    unlink(bin);
    ck_assert_int_eq(bad, 0);
    ck_assert_int_eq(mism, 0);
    ck_assert_int_eq(k, n);
}
END_TEST

/* ---- differential testing ------------------------------------------------ */
static unsigned long cov_op[IR_OP_COUNT], cov_cond[IR_COND_COUNT], cov_rmw[IR_RMW_COUNT];
static unsigned long cov_type[IR_OP_COUNT][IR_TYPE_COUNT];
static IrRandTally tally;
static uint64_t translate_ns, translate_ops, translate_bytes;

static void count_coverage(const IrBlock *b)
{
    for (uint32_t i = 0; i < b->n_ops; i++) {
        const IrInst *op = &b->ops[i];
        cov_op[op->opc]++;
        cov_type[op->opc][op->type]++;
        if (op->opc == IR_OP_setcond || op->opc == IR_OP_movcond || op->opc == IR_OP_brcond)
            cov_cond[op->c[0] % IR_COND_COUNT]++;
        if (op->opc == IR_OP_atomic_rmw)
            cov_rmw[op->c[1] % IR_RMW_COUNT]++;
    }
}

static void dump_fail(const IrBlock *b, uint64_t seed, const char *what)
{
    fprintf(stderr, "\n*** tmpl differential failure: seed %llu: %s\n"
                    "*** rerun: TMPL_SEED=%llu tmpl_test\n",
            (unsigned long long)seed, what, (unsigned long long)seed);
    ir_print(b, stderr);
}

/* A crash inside generated code must still name the seed. */
static volatile uint64_t crash_seed;
static const IrBlock *volatile crash_block;
static void on_crash(int sig)
{
    fprintf(stderr, "\n*** signal %d while running seed %llu (TMPL_SEED=%llu to rerun)\n", sig,
            (unsigned long long)crash_seed, (unsigned long long)crash_seed);
    if (crash_block)
        ir_print(crash_block, stderr);
    _exit(2);
}

/* Run one seed; returns false (after printing) on a mismatch. */
static bool run_one(uint64_t seed, bool verbose)
{
    IrBlock *b = ir_rand_block(&rgs, seed, 20, seed % 7 == 0 ? 400 : 200);
    if (seed % 3 == 0)
        ir_optimize(b);   /* the shapes the runtime translates: folded, DCE'd */
    crash_seed = seed;
    crash_block = b;
    char err[256];
    if (!ir_verify(b, err, sizeof err)) {
        dump_fail(b, seed, err);
        ir_block_free(b);
        return false;
    }
    count_coverage(b);
    if (verbose)
        ir_print(b, stderr);

    static uint8_t imem[IR_RAND_MEM_SIZE];
    IrRandEnv init, ei, et;
    ir_rand_start(seed, guest, GUEST_LIMIT, &init, imem);
    init.common.jmp_cache = jcache;
    ei = init;
    et = init;

    IrRandMem tm = {.m = imem, .limit = GUEST_LIMIT};
    IrMemIface mif = ir_rand_mem_iface(&tm);
    IrExitInfo ex;
    uint32_t fi = 0;
    IrInterpStatus st = ir_interp_run(b, &ei, &mif, &ex, &fi);

    cbuf.used = cbuf_base_used;
    TmplCode code;
    const char *why = NULL;
    uintptr_t tag = 0x1000;
    struct timespec t0, t1;
    /* thread CPU time: the machine is shared, wall time would count waits */
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    bool ok = tmpl_translate(b, &cbuf, tag, NULL, &code, &why);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    translate_ns += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec));
    translate_ops += b->n_ops;
    translate_bytes += ok ? code.size : 0;
    if (getenv("TMPL_DUMP") && ok) {
        FILE *f = fopen(getenv("TMPL_DUMP"), "wb");
        if (f) {
            fwrite(cbuf.base + code.entry_offset, 1, code.size, f);
            fclose(f);
        }
    }
    if (!ok) {
        dump_fail(b, seed, why ? why : "translate failed");
        ir_block_free(b);
        return false;
    }
    uintptr_t r = tmpl_enter(&et, cbuf.base + code.entry_offset);
    free(code.insn_map);

    char what[256];
    ir_rand_judge("tmpl", tag, r, false, st, fi, &ex, &tm, &ei, &et, imem, guest,
                  &tally, what, sizeof what);
    if (what[0]) {
        dump_fail(b, seed, what);
        ir_block_free(b);
        return false;
    }
    crash_block = NULL;
    ir_block_free(b);
    return true;
}

static void run_many(const char *label, unsigned long n, uint64_t seed0)
{
    setup();
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGILL, on_crash);
    signal(SIGFPE, on_crash);
    const char *s = getenv("TMPL_SEED");
    if (s) {
        uint64_t seed = strtoull(s, NULL, 0);
        fprintf(stderr, "tmpl: running seed %llu only\n", (unsigned long long)seed);
        ck_assert_msg(run_one(seed, getenv("TMPL_VERBOSE") != NULL), "seed %llu failed",
                      (unsigned long long)seed);
        return;
    }
    const char *np = getenv("TMPL_PROGRAMS");
    if (np)
        n = strtoul(np, NULL, 0);
    memset(cov_op, 0, sizeof cov_op);
    translate_ns = translate_ops = translate_bytes = 0;
    memset(&tally, 0, sizeof tally);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned long i = 0; i < n; i++) {
        uint64_t seed = seed0 + i;
        ck_assert_msg(run_one(seed, false), "seed %llu failed", (unsigned long long)seed);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "tmpl %s: %lu programs OK in %.2f s (faults %lu, exits: slot0 %lu slot1-3 "
                    "%lu lookup %lu exit %lu)\n",
            label, n, secs, tally.faults, tally.exit_kind[0], tally.exit_kind[1] + tally.exit_kind[2] + tally.exit_kind[3], tally.exit_kind[TMPL_RET_LOOKUP],
            tally.exit_kind[TMPL_RET_EXIT]);
    double nops = translate_ops ? (double)translate_ops : 1;
    fprintf(stderr, "translation: %.2f us per block, %.1f ns and %.1f host bytes per IR op\n",
            translate_ns / 1e3 / (n ? n : 1), translate_ns / nops, translate_bytes / nops);
    fprintf(stderr, "op coverage:");
    unsigned missing = 0;
    for (unsigned o = 0; o < IR_OP_COUNT; o++) {
        fprintf(stderr, "%s %s=%lu", o % 6 ? "" : "\n ", ir_op_info[o].name, cov_op[o]);
        if (!cov_op[o])
            missing++;
    }
    fprintf(stderr, "\n conds:");
    for (unsigned c = 0; c < IR_COND_COUNT; c++)
        fprintf(stderr, " %s=%lu", ir_cond_name((IrCond)c), cov_cond[c]);
    fprintf(stderr, "\n rmw:");
    for (unsigned c = 0; c < IR_RMW_COUNT; c++)
        fprintf(stderr, " %u=%lu", c, cov_rmw[c]);
    fprintf(stderr, "\n");
    if (n >= 1000)
        ck_assert_msg(missing == 0, "%u ops never generated", missing);
}

START_TEST(test_random_diff)
{
    run_many("random", 10000, 1);
}
END_TEST

START_TEST(test_random_diff_fallback)
{
    setup();
    bool l = tmpl_have_lzcnt, t = tmpl_have_bmi1, p = tmpl_have_popcnt;
    tmpl_have_lzcnt = tmpl_have_bmi1 = tmpl_have_popcnt = false;
    run_many("fallback bit ops", 2000, 1000000);
    tmpl_have_lzcnt = l;
    tmpl_have_bmi1 = t;
    tmpl_have_popcnt = p;
}
END_TEST

/* A zeroed env on the test's guest memory and jump cache. */
static void zero_env(IrRandEnv *e)
{
    memset(e, 0, sizeof *e);
    e->common.jmp_cache = jcache;
    e->common.guest_base = (uint64_t)(uintptr_t)guest;
    e->common.guest_limit = GUEST_LIMIT;
}

/* Pin the first n of r0..r7 (tmpl_set_pins): the entry trampoline and
 * epilogue carry them, so the code buffer starts again. */
static void use_pins(unsigned n)
{
    setup();
    uint32_t offs[TMPL_MAX_PINS];
    for (unsigned i = 0; i < n && i < TMPL_MAX_PINS; i++)
        offs[i] = (uint32_t)(offsetof(IrRandEnv, r64) + 8 * i);
    tmpl_set_pins(offs, n);
    cbuf.used = 0;
    ck_assert(tmpl_init(&cbuf));
    cbuf_base_used = cbuf.used;
}

/* The same programs with r0..r3 living in host registers across the
 * block's boundaries: every exit path must leave them in env. */
START_TEST(test_random_diff_pinned)
{
    use_pins(TMPL_MAX_PINS);
    run_many("pinned r0-r3", 4000, 2000000);
    use_pins(0);
}
END_TEST

/* ---- chaining, jump cache, host faults ----------------------------------- */
static IrBlock *small_block(uint64_t pc)
{
    IrBlock *b = ir_block_new(&rgs, pc, 0);
    b->simplify = false;
    ir_insn_start(b, pc, 4);
    return b;
}

/* insn 0: r0 += 1 (and r1 += 2 if both): dirty globals; insn 1: r2 = ld
 * [0x1800] (inside the limit, but host page 1 is PROT_NONE); insn 2: exit */
static IrBlock *faulting_block(bool both)
{
    IrBlock *b = small_block(0x4000);
    ir_emit(b, IR_OP_add, IR_I64, (IrTemp[]){1, 1, ir_const(b, IR_I64, 1)}, NULL);
    if (both)
        ir_emit(b, IR_OP_add, IR_I64, (IrTemp[]){2, 2, ir_const(b, IR_I64, 2)}, NULL);
    ir_insn_start(b, 0x4004, 4);
    ir_emit(b, IR_OP_ld, IR_I64, (IrTemp[]){3, ir_const(b, IR_I64, 0x1800)},
            (uint64_t[]){IR_MO_64});
    ir_insn_start(b, 0x4008, 4);
    ir_emit(b, IR_OP_exit, IR_VOID, NULL, (uint64_t[]){IR_EXIT_NONE, 0x400c});
    return b;
}

START_TEST(test_chain_and_jmp_cache)
{
    setup();
    cbuf.used = cbuf_base_used;
    /* B: r0 += 5; exit(HALT, 0x5000) */
    IrBlock *bb = small_block(0x2000);
    ir_emit(bb, IR_OP_add, IR_I64, (IrTemp[]){1, 1, ir_const(bb, IR_I64, 5)}, NULL);
    ir_emit(bb, IR_OP_exit, IR_VOID, NULL, (uint64_t[]){IR_EXIT_HALT, 0x5000});
    /* A: r0 += 1; goto_tb 1 -> 0x2000 */
    IrBlock *ba = small_block(0x1000);
    ir_emit(ba, IR_OP_add, IR_I64, (IrTemp[]){1, 1, ir_const(ba, IR_I64, 1)}, NULL);
    ir_emit(ba, IR_OP_goto_tb, IR_VOID, NULL, (uint64_t[]){1, 0x2000});
    /* C: goto_ptr r1 */
    IrBlock *bc = small_block(0x3000);
    ir_emit(bc, IR_OP_goto_ptr, IR_VOID, (IrTemp[]){2}, NULL);
    TmplCode ca, cb, cc;
    const char *why;
    ck_assert(tmpl_translate(bb, &cbuf, 0x100, NULL, &cb, &why));
    ck_assert(tmpl_translate(ba, &cbuf, 0x200, NULL, &ca, &why));
    ck_assert(tmpl_translate(bc, &cbuf, 0x300, NULL, &cc, &why));
    ck_assert_uint_eq(ca.chain_site[0], UINT32_MAX);
    ck_assert_uint_ne(ca.chain_site[1], UINT32_MAX);
    ck_assert_uint_eq(ca.chain_site[1] % 4, 0);

    IrRandEnv e;
    zero_env(&e);
    /* unchained: returns slot 1 with pc = target */
    uintptr_t r = tmpl_enter(&e, cbuf.base + ca.entry_offset);
    ck_assert_uint_eq(r, 0x200 | (TMPL_RET_SLOT0 + 1));
    ck_assert_uint_eq(e.common.pc, 0x2000);
    ck_assert_uint_eq(e.r64[0], 1);
    /* chained: A runs straight into B */
    tmpl_chain_patch(&cbuf, ca.chain_site[1], cbuf.base + cb.entry_offset);
    r = tmpl_enter(&e, cbuf.base + ca.entry_offset);
    ck_assert_uint_eq(r, 0x100 | TMPL_RET_EXIT);
    ck_assert_uint_eq(e.common.exit_reason, IR_EXIT_HALT);
    ck_assert_uint_eq(e.common.pc, 0x5000);
    ck_assert_uint_eq(e.r64[0], 7);
    /* reset: back to the exit stub */
    tmpl_chain_patch(&cbuf, ca.chain_site[1], cbuf.base + ca.chain_reset[1]);
    r = tmpl_enter(&e, cbuf.base + ca.entry_offset);
    ck_assert_uint_eq(r, 0x200 | (TMPL_RET_SLOT0 + 1));
    ck_assert_uint_eq(e.r64[0], 8);
    /* goto_ptr: miss, then hit */
    e.r64[1] = 0x2000;
    r = tmpl_enter(&e, cbuf.base + cc.entry_offset);
    ck_assert_uint_eq(r, 0x300 | TMPL_RET_LOOKUP);
    ck_assert_uint_eq(e.common.pc, 0x2000);
    unsigned h = jmp_cache_hash(0x2000);
    jcache[h] = (JmpCacheEntry){0x2000, cbuf.base + cb.entry_offset};
    r = tmpl_enter(&e, cbuf.base + cc.entry_offset);
    ck_assert_uint_eq(r, 0x100 | TMPL_RET_EXIT);
    ck_assert_uint_eq(e.r64[0], 13);
    jcache[h] = (JmpCacheEntry){~0ull, NULL};
    /* generated code hashes as jmp_cache_hash does, high pc bits too */
    static const uint64_t pcs[] = { 0xffbf7246acull, 0x5500008460ull, 0xfffcull,
                                    0x123456789abcdef0ull, 0x40000ull };
    for (unsigned k = 0; k < sizeof pcs / sizeof pcs[0]; k++) {
        unsigned hk = jmp_cache_hash(pcs[k]);
        jcache[hk] = (JmpCacheEntry){pcs[k], cbuf.base + cb.entry_offset};
        e.r64[1] = pcs[k];
        r = tmpl_enter(&e, cbuf.base + cc.entry_offset);
        ck_assert_msg(r == (0x100 | TMPL_RET_EXIT), "pc %#llx missed", (unsigned long long)pcs[k]);
        jcache[hk] = (JmpCacheEntry){~0ull, NULL};
    }
    free(ca.insn_map);
    free(cb.insn_map);
    free(cc.insn_map);
    ir_block_free(ba);
    ir_block_free(bb);
    ir_block_free(bc);
}
END_TEST

/* A latch_sample block counts env->latch_budget down at its entry and
 * leaves before running when it reaches zero; tmpl_latch_off makes the
 * block skip the countdown (and only a countdown). */
START_TEST(test_latch_sample_and_off)
{
    setup();
    cbuf.used = cbuf_base_used;
    IrBlock *b = small_block(0x6000);
    ir_emit(b, IR_OP_add, IR_I64, (IrTemp[]){1, 1, ir_const(b, IR_I64, 3)}, NULL);
    ir_emit(b, IR_OP_exit, IR_VOID, NULL, (uint64_t[]){IR_EXIT_HALT, 0x6004});
    TmplMemModel mm = { .kind = TMPL_MEM_USER, .latch_sample = true };
    TmplCode c, plain;
    const char *why;
    ck_assert(tmpl_translate(b, &cbuf, 0x600, &mm, &c, &why));
    ck_assert(tmpl_translate(b, &cbuf, 0x680, NULL, &plain, &why));
    uint8_t *entry = cbuf.base + c.entry_offset;
    IrRandEnv e;
    zero_env(&e);
    e.common.latch_budget = 2;
    uintptr_t r = tmpl_enter(&e, entry);              /* 2 -> 1: runs */
    ck_assert_uint_eq(r, 0x600 | TMPL_RET_EXIT);
    ck_assert_uint_eq(e.common.exit_reason, IR_EXIT_HALT);
    ck_assert_int_eq(e.common.latch_budget, 1);
    ck_assert_uint_eq(e.r64[0], 3);
    r = tmpl_enter(&e, entry);                        /* 1 -> 0: leaves first */
    ck_assert_uint_eq(r, 0x600 | TMPL_RET_EXIT);
    ck_assert_uint_eq(e.common.exit_reason, TMPL_EXIT_HOT);
    ck_assert_uint_eq(e.common.pc, 0x6000);
    ck_assert_int_eq(e.common.latch_budget, 0);
    ck_assert_uint_eq(e.r64[0], 3);
    uint8_t saved[16];
    memcpy(saved, entry, sizeof saved);
    for (int alone = 0; alone < 2; alone++) {
        memcpy(entry, saved, sizeof saved);
        tmpl_latch_off(&cbuf, entry, alone);
        e.common.latch_budget = 1;
        e.r64[0] = 3;
        r = tmpl_enter(&e, entry);                    /* no countdown any more */
        ck_assert_uint_eq(e.common.exit_reason, IR_EXIT_HALT);
        ck_assert_int_eq(e.common.latch_budget, 1);
        ck_assert_uint_eq(e.r64[0], 6);
    }
    /* a block without a countdown is not touched */
    uint8_t before[16];
    memcpy(before, cbuf.base + plain.entry_offset, sizeof before);
    tmpl_latch_off(&cbuf, cbuf.base + plain.entry_offset, true);
    ck_assert_mem_eq(before, cbuf.base + plain.entry_offset, sizeof before);
    free(c.insn_map);
    free(plain.insn_map);
    ir_block_free(b);
}
END_TEST

/* One thread runs a chained block again and again while another retargets
 * its goto_tb between the next block and the exit stub: every run must end
 * in one of the two legal ways (the rel32 store is atomic). */
typedef struct RaceArgs {
    uint8_t *entry;
    volatile bool stop;
    volatile unsigned long chained, unchained, bad;
} RaceArgs;

static void *race_runner(void *p)
{
    RaceArgs *a = p;
    IrRandEnv e;
    zero_env(&e);
    while (!a->stop) {
        uintptr_t r = tmpl_enter(&e, a->entry);
        if (r == (0x700 | TMPL_RET_SLOT0) && e.common.pc == 0x7100)
            a->unchained++;
        else if (r == (0x800 | TMPL_RET_EXIT) && e.common.exit_reason == IR_EXIT_HALT)
            a->chained++;
        else
            a->bad++;
    }
    return NULL;
}

START_TEST(test_chain_patch_race)
{
    setup();
    cbuf.used = cbuf_base_used;
    IrBlock *ba = small_block(0x7000), *bb = small_block(0x7100);
    ir_emit(ba, IR_OP_add, IR_I64, (IrTemp[]){1, 1, ir_const(ba, IR_I64, 1)}, NULL);
    ir_emit(ba, IR_OP_goto_tb, IR_VOID, NULL, (uint64_t[]){0, 0x7100});
    ir_emit(bb, IR_OP_exit, IR_VOID, NULL, (uint64_t[]){IR_EXIT_HALT, 0x7104});
    TmplCode ca, cb;
    const char *why;
    ck_assert(tmpl_translate(ba, &cbuf, 0x700, NULL, &ca, &why));
    ck_assert(tmpl_translate(bb, &cbuf, 0x800, NULL, &cb, &why));
    RaceArgs a = {cbuf.base + ca.entry_offset, false, 0, 0, 0};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, race_runner, &a), 0);
    /* until the runner has seen both outcomes often (or ~seconds pass) */
    for (long i = 0; i < 20000000 && (a.chained < 2000 || a.unchained < 2000); i++)
        tmpl_chain_patch(&cbuf, ca.chain_site[0],
                         i & 1 ? (void *)(cbuf.base + ca.chain_reset[0])
                               : (void *)(cbuf.base + cb.entry_offset));
    a.stop = true;
    pthread_join(th, NULL);
    ck_assert_uint_eq(a.bad, 0);
    ck_assert_uint_gt(a.chained, 0);
    ck_assert_uint_gt(a.unchained, 0);
    free(ca.insn_map);
    free(cb.insn_map);
    ir_block_free(ba);
    ir_block_free(bb);
}
END_TEST

static sigjmp_buf fault_jb;
static volatile uintptr_t fault_rip;
static uint64_t fault_regs[16];   /* by x86 register number */
static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    tmpl_host_regs(uc, fault_regs);
    fault_rip = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
    siglongjmp(fault_jb, 1);
}

/* What the runtime does at a host fault in c: store the globals that
 * were dirty in registers at the faulting access (TmplCode.wb). */
static void write_back_at_fault(const TmplCode *c, const CodeBuf *buf, IrRandEnv *e)
{
    uintptr_t entry = (uintptr_t)(buf->base + c->entry_offset);
    ck_assert(tmpl_wb_apply(c->wb, c->n_wb, (uint32_t)(fault_rip - entry), fault_regs, e,
                            (uint32_t)sizeof(CpuCommon), (uint32_t)sizeof *e));
}

START_TEST(test_host_fault_insn_map)
{
    setup();
    cbuf.used = cbuf_base_used;
    IrBlock *b = faulting_block(false);
    TmplCode c;
    const char *why;
    ck_assert(tmpl_translate(b, &cbuf, 0x400, NULL, &c, &why));
    ck_assert(c.n_insn_map >= 2);
    for (uint32_t i = 1; i < c.n_insn_map; i++)
        ck_assert(c.insn_map[i - 1].host_end <= c.insn_map[i].host_end);
    IrRandEnv e;
    zero_env(&e);
    struct sigaction sa = {0}, old;
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, &old);
    bool faulted = false;
    if (sigsetjmp(fault_jb, 1) == 0)
        tmpl_enter(&e, cbuf.base + c.entry_offset);
    else
        faulted = true;
    sigaction(SIGSEGV, &old, NULL);
    ck_assert(faulted);
    uintptr_t entry = (uintptr_t)(cbuf.base + c.entry_offset);
    ck_assert(fault_rip >= entry && fault_rip < entry + c.size);
    uint32_t off = (uint32_t)(fault_rip - entry), insn = UINT32_MAX;
    for (uint32_t i = 0; i < c.n_insn_map; i++)
        if (off < c.insn_map[i].host_end) {
            insn = c.insn_map[i].insn_idx;
            break;
        }
    ck_assert_uint_eq(insn, 1);
    /* the dirty global stays in its register across the access: env has
     * the old value until the write-back map stores it */
    ck_assert_uint_eq(e.r64[0], 0);
    ck_assert_uint_gt(c.n_wb, 0);
    write_back_at_fault(&c, &cbuf, &e);
    ck_assert_uint_eq(e.r64[0], 1);
    /* a malformed map is refused and writes nothing */
    uint32_t bad[3] = {0, 1, TMPL_WB_PAIR(X86_RSP, 8, 8)};
    ck_assert(!tmpl_wb_apply(bad, 3, 0, fault_regs, &e, 0, sizeof e));
    free(c.insn_map);
    free(c.wb);
    ir_block_free(b);
}
END_TEST

/* tmpl_enter; true if it ended in a host SIGSEGV instead (fault_rip). */
static bool enter_catching(void *env, const void *host, uintptr_t *ret)
{
    struct sigaction sa = {0}, old;
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, &old);
    volatile bool faulted = false;
    if (sigsetjmp(fault_jb, 1) == 0)
        *ret = tmpl_enter(env, host);
    else
        faulted = true;
    sigaction(SIGSEGV, &old, NULL);
    return faulted;
}

/* A pinned global (r0) is in env only after the epilogue, or after a host
 * fault once tmpl_pins_at_fault copies it from the signal context; an
 * unpinned dirty one (r1) goes through the write-back map as before. */
START_TEST(test_pinned_fault_and_exit)
{
    use_pins(1);
    IrBlock *b = faulting_block(true);
    TmplCode c;
    const char *why;
    ck_assert(tmpl_translate(b, &cbuf, 0x400, NULL, &c, &why));
    IrRandEnv e;
    zero_env(&e);
    uintptr_t ret;
    ck_assert(enter_catching(&e, cbuf.base + c.entry_offset, &ret));
    ck_assert_uint_eq(e.r64[0], 0);
    ck_assert_uint_eq(e.r64[1], 0);
    write_back_at_fault(&c, &cbuf, &e);
    ck_assert_uint_eq(e.r64[0], 0);   /* not in the map: pinned */
    ck_assert_uint_eq(e.r64[1], 2);
    tmpl_pins_at_fault(&e, fault_regs, fault_rip);
    ck_assert_uint_eq(e.r64[0], 1);
    free(c.insn_map);
    free(c.wb);
    ir_block_free(b);

    /* no fault: the epilogue stores r0 (the block itself does not) */
    cbuf.used = cbuf_base_used;
    b = small_block(0x5000);
    ir_emit(b, IR_OP_add, IR_I64, (IrTemp[]){1, 1, ir_const(b, IR_I64, 5)}, NULL);
    ir_emit(b, IR_OP_exit, IR_VOID, NULL, (uint64_t[]){IR_EXIT_NONE, 0x5004});
    ck_assert(tmpl_translate(b, &cbuf, 0x400, NULL, &c, &why));
    e.r64[0] = 10;
    ck_assert(!enter_catching(&e, cbuf.base + c.entry_offset, &ret));
    ck_assert_uint_eq(e.r64[0], 15);
    free(c.insn_map);
    free(c.wb);
    ir_block_free(b);
    use_pins(0);
}
END_TEST

/* Limit-check elimination (TmplMemModel.limit_guard).  Guest page 1 is
 * made accessible here, so r0 = 0x1ff8 passes the first access: an access
 * 8 bytes above it (0x2000, at the limit) is checked without a guard (a
 * guest SIGSEGV from the stub) and unchecked with one (a host fault in the
 * guard page, mapped back to its insn); an access below a checked one and
 * one past the guard are always checked.  After a label the access is
 * checked again, but r0 + 8 within the guard checks r0 alone, which passes:
 * the access faults in the guard too. */
typedef struct GuardCase {
    int64_t first, second;    /* offsets off r0 */
    bool label;               /* a label between the two accesses */
    uint64_t guard;
    uint64_t r0;
    bool host_fault;          /* else a guest SIGSEGV at r0 + second */
} GuardCase;

START_TEST(test_limit_guard)
{
    setup();
    static const GuardCase cases[] = {
        { 0, 8, false, 0, 0x1ff8, false },
        { 0, 8, false, 4096, 0x1ff8, true },
        { 8, -16, false, 4096, 0, false },        /* wraps below 0 */
        { 0, 8 + 4096, false, 4096, 0x1ff8, false },   /* past the guard */
        { 0, 8, true, 4096, 0x1ff8, true },
    };
    ck_assert_int_eq(mprotect(guest + 4096, 4096, PROT_READ | PROT_WRITE), 0);
    for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const GuardCase *gc = &cases[k];
        cbuf.used = cbuf_base_used;
        IrBlock *b = small_block(0x7000);
        int64_t second = gc->second;   /* off r0, temp 1 */
        IrTemp a1 = ir_new_temp(b, IR_I64), a2 = ir_new_temp(b, IR_I64);
        ir_emit(b, IR_OP_add, IR_I64, (IrTemp[]){a1, 1, ir_const(b, IR_I64, (uint64_t)gc->first)},
                NULL);
        ir_emit(b, IR_OP_ld, IR_I64, (IrTemp[]){2, a1}, (uint64_t[]){IR_MO_64});
        if (gc->label) {
            uint32_t l = ir_new_label(b);
            ir_emit(b, IR_OP_br, IR_VOID, NULL, (uint64_t[]){l});
            ir_emit(b, IR_OP_label, IR_VOID, NULL, (uint64_t[]){l});
        }
        ir_insn_start(b, 0x7004, 4);
        ir_emit(b, IR_OP_add, IR_I64, (IrTemp[]){a2, 1, ir_const(b, IR_I64, (uint64_t)second)},
                NULL);
        ir_emit(b, IR_OP_ld, IR_I64, (IrTemp[]){3, a2}, (uint64_t[]){IR_MO_64});
        ir_insn_start(b, 0x7008, 4);
        ir_emit(b, IR_OP_exit, IR_VOID, NULL, (uint64_t[]){IR_EXIT_NONE, 0x700c});
        TmplMemModel mm = { .kind = TMPL_MEM_USER, .limit_guard = gc->guard };
        TmplCode c;
        const char *why;
        ck_assert(tmpl_translate(b, &cbuf, 0x500, &mm, &c, &why));
        IrRandEnv e;
        zero_env(&e);
        e.r64[0] = gc->r0;
        memcpy(guest + gc->r0 + gc->first, &(uint64_t){0x1234}, 8);
        uintptr_t r = 0;
        bool faulted = enter_catching(&e, cbuf.base + c.entry_offset, &r);
        ck_assert_msg(faulted == gc->host_fault, "case %u: host fault %d", k, faulted);
        if (faulted)
            write_back_at_fault(&c, &cbuf, &e);
        /* the first load's result reached env: by the stub or by the map */
        ck_assert_uint_eq(e.r64[1], 0x1234);
        if (!faulted) {
            ck_assert_uint_eq(r, 0x500 | TMPL_RET_EXIT);
            ck_assert_uint_eq(e.common.exit_reason, IR_EXIT_EXCEPTION);
            ck_assert_uint_eq(e.common.exception_kind, TMPL_EXC_SEGV);
            ck_assert_uint_eq(e.common.exception_addr, gc->r0 + (uint64_t)second);
            ck_assert_uint_eq(e.common.pc, 0x7004);
        }
        free(c.insn_map);
        free(c.wb);
        ir_block_free(b);
    }
    ck_assert_int_eq(mprotect(guest + 4096, 4096, PROT_NONE), 0);
}
END_TEST

/* A folded access base + off (off within the guard) checks base alone;
 * when base is past the limit the stub reports base + off, the address
 * the guest accessed.  With a negative off it checks base + off. */
START_TEST(test_limit_check_of_folded_base)
{
    setup();
    static const int64_t offs[] = { 8, 0x100, -8 };
    for (unsigned k = 0; k < sizeof offs / sizeof offs[0]; k++) {
        cbuf.used = cbuf_base_used;
        IrBlock *b = small_block(0x7000);
        IrTemp a = ir_new_temp(b, IR_I64);
        ir_emit(b, IR_OP_add, IR_I64, (IrTemp[]){a, 1, ir_const(b, IR_I64, (uint64_t)offs[k])},
                NULL);
        ir_emit(b, IR_OP_ld, IR_I64, (IrTemp[]){2, a}, (uint64_t[]){IR_MO_64});
        ir_insn_start(b, 0x7004, 4);
        ir_emit(b, IR_OP_exit, IR_VOID, NULL, (uint64_t[]){IR_EXIT_NONE, 0x7008});
        TmplMemModel mm = { .kind = TMPL_MEM_USER, .limit_guard = 4096 };
        TmplCode c;
        const char *why;
        ck_assert(tmpl_translate(b, &cbuf, 0x500, &mm, &c, &why));
        IrRandEnv e;
        zero_env(&e);
        e.r64[0] = 0x2000 + 16; /* past the limit; with -8 still past it */
        uintptr_t r = 0;
        ck_assert(!enter_catching(&e, cbuf.base + c.entry_offset, &r));
        ck_assert_uint_eq(r, 0x500 | TMPL_RET_EXIT);
        ck_assert_uint_eq(e.common.exit_reason, IR_EXIT_EXCEPTION);
        ck_assert_uint_eq(e.common.exception_kind, TMPL_EXC_SEGV);
        ck_assert_uint_eq(e.common.exception_addr, 0x2000 + 16 + (uint64_t)offs[k]);
        ck_assert_uint_eq(e.common.pc, 0x7000);
        free(c.insn_map);
        free(c.wb);
        ir_block_free(b);
    }
}
END_TEST

START_TEST(test_guest_fault_kinds)
{
    setup();
    cbuf.used = cbuf_base_used;
    /* st.32 align4 at 0x102 -> SIGBUS kind; then at 0x20000 -> SIGSEGV kind */
    for (int k = 0; k < 2; k++) {
        IrBlock *b = small_block(0x6000);
        ir_emit(b, IR_OP_st, IR_I32,
                (IrTemp[]){ir_const(b, IR_I64, k ? 0x20000 : 0x102), ir_const(b, IR_I32, 7)},
                (uint64_t[]){IR_MO_32 | IR_MO_ALIGN(2)});
        ir_emit(b, IR_OP_exit, IR_VOID, NULL, (uint64_t[]){IR_EXIT_NONE, 0x6004});
        TmplCode c;
        const char *why;
        ck_assert(tmpl_translate(b, &cbuf, 0x500, NULL, &c, &why));
        IrRandEnv e;
        zero_env(&e);
        uintptr_t r = tmpl_enter(&e, cbuf.base + c.entry_offset);
        ck_assert_uint_eq(r, 0x500 | TMPL_RET_EXIT);
        ck_assert_uint_eq(e.common.exit_reason, IR_EXIT_EXCEPTION);
        ck_assert_uint_eq(e.common.exception_kind, k ? TMPL_EXC_SEGV : TMPL_EXC_ALIGN);
        ck_assert_uint_eq(e.common.exception_addr, k ? 0x20000 : 0x102);
        ck_assert_uint_eq(e.common.exception_code, 1);
        ck_assert_uint_eq(e.common.pc, 0x6000);
        free(c.insn_map);
        ir_block_free(b);
    }
}
END_TEST

static Suite *tmpl_suite(void)
{
    Suite *s = suite_create("tmpl");
    TCase *enc = tcase_create("encoder");
    tcase_add_test(enc, test_encoder_bytes);
    tcase_add_test(enc, test_encoder_objdump);
    suite_add_tcase(s, enc);
    TCase *ex = tcase_create("exec");
    tcase_add_test(ex, test_chain_and_jmp_cache);
    tcase_add_test(ex, test_host_fault_insn_map);
    tcase_add_test(ex, test_chain_patch_race);
    tcase_add_test(ex, test_latch_sample_and_off);
    tcase_add_test(ex, test_guest_fault_kinds);
    tcase_add_test(ex, test_limit_guard);
    tcase_add_test(ex, test_limit_check_of_folded_base);
    tcase_add_test(ex, test_pinned_fault_and_exit);
    suite_add_tcase(s, ex);
    TCase *diff = tcase_create("differential");
    tcase_set_timeout(diff, 240);
    tcase_add_test(diff, test_random_diff);
    tcase_add_test(diff, test_random_diff_fallback);
    tcase_add_test(diff, test_random_diff_pinned);
    suite_add_tcase(s, diff);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tmpl_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
