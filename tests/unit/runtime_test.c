/*
 * runtime_test.c - Check suite for runtime/: block table, chaining and
 * unchaining, jump cache, code buffer flush, SMC invalidation, fault
 * recovery and logging, run end to end on a toy guest ISA defined here
 * ("toy": 8-byte insns over 8 registers) through both tiers.
 *
 * Toy encoding: byte 0 op, byte 1 a, byte 2 b, bytes 4..7 imm (LE, signed).
 *   MOVI a,imm  r[a] = imm        ADDI a,imm  r[a] += imm
 *   LD a,b      r[a] = m64[r[b]]  ST a,b      m64[r[b]] = r[a]
 *   STW a,b     m32[r[b]] = r[a]  LDA a,b     aligned m64 load
 *   BNE a,b,imm if r[a] != r[b] goto imm   (ends the block: goto_tb 0/1)
 *   JR a        goto r[a] (goto_ptr)       SVC   syscall exit
 *   MODE a      mode_flags = r[a], ends the block
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache/cache.h"
#include "runtime/disas.h"
#include "runtime/exec-internal.h"
#include "runtime/exec.h"
#include "runtime/log.h"
#include "runtime/stats.h"

/* ---- the toy guest --------------------------------------------------- */

typedef struct ToyState {
    CpuCommon common;
    uint64_t r[8];
} ToyState;

enum {
    OP_MOVI = 1,
    OP_ADDI,
    OP_LD,
    OP_ST,
    OP_STW,
    OP_LDA,
    OP_BNE,
    OP_JR,
    OP_SVC,
    OP_MODE,
    OP_BEQX,    /* if r[a] == r[c] leave for imm, else go on (a side exit) */
    OP_BAD = 0xff
};

static IrGlobalSet toy_globals;
static IrTemp toy_r[8];

static void toy_init(void)
{
    static const char *const names[8] = {"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"};
    if (toy_globals.count) return;
    for (int i = 0; i < 8; i++)
        toy_r[i] = ir_global_register(&toy_globals, IR_I64, (uint32_t)offsetof(ToyState, r[i]),
                                      names[i], 0);
}

static IrBlock *toy_translate(uint64_t pc, uint32_t flags, const GuestCodeReader *code,
                              unsigned max_insns)
{
    IrBlock *b = ir_block_new(&toy_globals, pc, flags);
    /* OP_BEQX side exits: brcond now, "L: goto_tb 2, target" after the
     * block's last exit (one per block, as an extended block makes them) */
    uint32_t side_label = 0, side_insn = 0;
    uint64_t side_pc = 0;
    bool side = false;
    for (unsigned n = 0;; n++) {
        uint8_t in[8];
        if (n == max_insns || !code->read(code->opaque, pc, in, 8)) {
            if (n == 0) {
                ir_insn_start(b, pc, 8);
                ir_exit(b, IR_EXIT_FETCH_FAULT, pc);
            } else {
                ir_goto_tb(b, 0, pc);
            }
            goto done;
        }
        unsigned a = in[1] & 7, c = in[2] & 7;
        int32_t imm;
        memcpy(&imm, in + 4, 4);
        ir_insn_start(b, pc, 8);
        uint64_t next = pc + 8;
        switch (in[0]) {
        case OP_MOVI:
            ir_mov(b, IR_I64, toy_r[a], ir_const(b, IR_I64, (uint64_t)(int64_t)imm));
            break;
        case OP_ADDI:
            ir_mov(b, IR_I64, toy_r[a],
                   ir_add(b, IR_I64, toy_r[a], ir_const(b, IR_I64, (uint64_t)(int64_t)imm)));
            break;
        case OP_LD:
        case OP_LDA:
            ir_mov(b, IR_I64, toy_r[a],
                   ir_ld(b, IR_I64, toy_r[c], IR_MO_64 | (in[0] == OP_LDA ? IR_MO_ALIGN(3) : 0)));
            break;
        case OP_ST:
            ir_st(b, IR_I64, toy_r[c], toy_r[a], IR_MO_64);
            break;
        case OP_STW:
            ir_st(b, IR_I32, toy_r[c], ir_trunc(b, IR_I32, IR_I64, toy_r[a]), IR_MO_32);
            break;
        case OP_BNE: {
            uint32_t l = ir_new_label(b);
            ir_brcond(b, IR_I64, IR_COND_EQ, toy_r[a], toy_r[c], l);
            ir_goto_tb(b, 0, (uint32_t)imm);
            ir_label(b, l);
            ir_goto_tb(b, 1, next);
            goto done;
        }
        case OP_BEQX:
            if (!side) {
                side_label = ir_new_label(b);
                side_pc = (uint32_t)imm;
                side_insn = b->n_insns - 1;
                side = true;
                ir_brcond(b, IR_I64, IR_COND_EQ, toy_r[a], toy_r[c], side_label);
                break;
            }
            { /* a second one ends the block */
                uint32_t l = ir_new_label(b);
                ir_brcond(b, IR_I64, IR_COND_NE, toy_r[a], toy_r[c], l);
                ir_goto_tb(b, 0, (uint32_t)imm);
                ir_label(b, l);
                ir_goto_tb(b, 1, next);
            }
            goto done;
        case OP_JR:
            ir_goto_ptr(b, toy_r[a]);
            goto done;
        case OP_SVC:
            ir_exit(b, IR_EXIT_SYSCALL, next);
            goto done;
        case OP_MODE: /* mode_flags = r[a]; the next insn starts a new block */
            ir_stenv(b, IR_I32, (uint32_t)offsetof(CpuCommon, mode_flags),
                     ir_trunc(b, IR_I32, IR_I64, toy_r[a]));
            ir_goto_tb(b, 0, next);
            goto done;
        default:
            ir_exit(b, IR_EXIT_UNDEF, pc);
            goto done;
        }
        pc = next;
    }
done:
    if (side) {
        ir_label(b, side_label);
        ir_goto_tb(b, 2, side_pc);
        b->ops[b->n_ops - 1].insn_idx = side_insn;
    }
    return b;
}

static const GuestArch toy_arch = {
    .name = "toy",
    .llvm_triple = NULL,
    .state_size = sizeof(ToyState),
    .state_align = _Alignof(ToyState),
    .globals = &toy_globals,
    .init = toy_init,
    .translate = toy_translate,
};

/* ---- guest memory: one host mapping at guest_base ----------------------- */

#define GUEST_SIZE (1u << 20)
#define NOACCESS_PAGE 0x60000u /* PROT_NONE for the host-fault tests */

static uint8_t *gmem;
static int n_protect, n_unprotect;

static bool g_read_code(void *o, uint64_t pc, void *buf, size_t len)
{
    if (pc >= GUEST_SIZE || len > GUEST_SIZE - pc) return false;
    memcpy(buf, gmem + pc, len);
    return true;
}

static bool g_ok(uint64_t addr, unsigned n)
{
    return addr < GUEST_SIZE && n <= GUEST_SIZE - addr &&
           (addr + n <= NOACCESS_PAGE || addr >= NOACCESS_PAGE + 4096);
}

static bool g_load(void *o, uint64_t addr, IrMemOp mo, void *out)
{
    if (!g_ok(addr, IR_MO_BYTES(mo))) return false;
    memcpy(out, gmem + addr, IR_MO_BYTES(mo));
    return true;
}

static bool g_store(void *o, uint64_t addr, IrMemOp mo, const void *in)
{
    if (!g_ok(addr, IR_MO_BYTES(mo))) return false;
    memcpy(gmem + addr, in, IR_MO_BYTES(mo));
    return true;
}

static void g_protect(void *o, uint64_t page)
{
    n_protect++;
    ck_assert_int_eq(mprotect(gmem + page, EXEC_PAGE_SIZE, PROT_READ), 0);
}

static void g_unprotect(void *o, uint64_t page)
{
    n_unprotect++;
    ck_assert_int_eq(mprotect(gmem + page, EXEC_PAGE_SIZE, PROT_READ | PROT_WRITE), 0);
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    exec_fault_from_host(sig, si, uc);
    exec_host_crash(sig, si, uc);
}

static void setup(void)
{
    gmem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(gmem, MAP_FAILED);
    ck_assert_int_eq(mprotect(gmem + NOACCESS_PAGE, 4096, PROT_NONE), 0);
    n_protect = n_unprotect = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    emu_log_set_mask(0);
}

static void teardown(void)
{
    munmap(gmem, GUEST_SIZE);
}

/* Assembler. */
static void put(uint64_t at, int op, int a, int b, int32_t imm)
{
    uint8_t *p = gmem + at;
    p[0] = (uint8_t)op;
    p[1] = (uint8_t)a;
    p[2] = (uint8_t)b;
    p[3] = 0;
    memcpy(p + 4, &imm, 4);
}

static ExecEngine *engine(ExecTier tier, size_t code_buf, unsigned max_insns)
{
    ExecConfig cfg = exec_config_default(&toy_arch);
    cfg.tier = tier;
    cfg.code_buf_size = code_buf;
    cfg.max_insns = max_insns;
    cfg.verify = true;
    cfg.stats = true;
    cfg.mem = (ExecMemOps){
        .opaque = NULL,
        .read_code = g_read_code,
        .interp_mem = {NULL, g_load, g_store, NULL, NULL},
        .protect_code_page = g_protect,
        .unprotect_code_page = g_unprotect,
    };
    char err[200] = "";
    ExecEngine *e = exec_engine_new(&cfg, err, sizeof err);
    ck_assert_msg(e != NULL, "exec_engine_new: %s", err);
    return e;
}

static ToyState *toy_cpu(ExecEngine *e, ExecCpu **cpu, uint64_t pc)
{
    *cpu = exec_cpu_new(e);
    ck_assert_ptr_nonnull(*cpu);
    ToyState *s = exec_cpu_env(*cpu);
    s->common.guest_base = (uint64_t)(uintptr_t)gmem;
    s->common.guest_limit = GUEST_SIZE;
    s->common.pc = pc;
    return s;
}

/* The counting loop: m64[0x8000] += 1, 100 times, then SVC at 0x1040. */
static void asm_loop(void)
{
    put(0x1000, OP_MOVI, 0, 0, 0x8000);
    put(0x1008, OP_MOVI, 2, 0, 0);
    put(0x1010, OP_MOVI, 3, 0, 100);
    put(0x1018, OP_LD, 1, 0, 0);
    put(0x1020, OP_ADDI, 1, 0, 1);
    put(0x1028, OP_ST, 1, 0, 0);
    put(0x1030, OP_ADDI, 2, 0, 1);
    put(0x1038, OP_BNE, 2, 3, 0x1018);
    put(0x1040, OP_SVC, 0, 0, 0);
}

static const ExecTier tiers[2] = {EXEC_TIER_INTERP, EXEC_TIER_TEMPLATE};

/* ---- tests ------------------------------------------------------------ */

START_TEST(test_loop_both_tiers_agree_and_chain)
{
    uint64_t result[2][4];
    for (int t = 0; t < 2; t++) {
        asm_loop();
        memset(gmem + 0x8000, 0, 8);
        ExecEngine *e = engine(tiers[t], 0, 0);
        ExecCpu *cpu;
        ToyState *s = toy_cpu(e, &cpu, 0x1000);
        ExecEvent ev = exec_run(cpu);
        ck_assert_msg(ev.kind == EXEC_EV_SYSCALL, "tier %d: event %s (%s)", t,
                      exec_event_name(ev.kind), ev.msg ? ev.msg : "");
        ck_assert_uint_eq(ev.pc, 0x1048);
        uint64_t m;
        memcpy(&m, gmem + 0x8000, 8);
        result[t][0] = m;
        result[t][1] = s->r[1];
        result[t][2] = s->r[2];
        result[t][3] = ev.pc;
        ExecStats st;
        exec_stats_get(e, &st);
        ck_assert_uint_ge(st.chain_patches, 1);     /* the loop block chains to itself */
        ck_assert_uint_eq(st.blocks_translated, 3); /* entry, loop body, svc */
        ck_assert_uint_lt(st.dispatch, 20);         /* the 100 iterations ran chained */
        /* ...and were still counted: entry block (up to the first BNE, which
         * also runs iteration 1), 99 loop-body runs, the svc block */
        ck_assert_uint_eq(st.blocks_executed, 1 + 99 + 1);
        ck_assert_uint_eq(exec_block_count(e), 3);
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        exec_stats_print(e, f);
        fclose(f);
        ck_assert_ptr_nonnull(strstr(text, "blocks translated      3\n"));
        ck_assert_ptr_nonnull(strstr(text, "guest insns translated 14\n"));
        ck_assert_ptr_nonnull(strstr(text, "hot block 1"));
        free(text);
        exec_engine_free(e);
    }
    ck_assert_uint_eq(result[0][0], 100);
    ck_assert_mem_eq(result[0], result[1], sizeof result[0]);
}
END_TEST

/* --tier=auto: a loop latch (a jump back of at most EXEC_LATCH_SPAN bytes)
 * counts the CPU's latch budget down and leaves for the dispatcher once
 * per ~EXEC_LATCH_PERIOD entries (a sample); a jump back farther than the
 * span is no latch and never leaves.  No loop gets hot here. */
static uint64_t run_counting_loop(uint64_t latch_at)
{
    put(0x1000, OP_MOVI, 2, 0, 0);
    put(0x1008, OP_MOVI, 3, 0, 100000);
    put(0x1010, OP_MOVI, 5, 0, 1);
    put(0x1018, OP_MOVI, 6, 0, 0);
    put(0x2000, OP_ADDI, 2, 0, 1);
    put(0x2008, OP_BNE, 5, 6, (int32_t)latch_at);  /* always taken */
    put(latch_at, OP_BNE, 2, 3, 0x2000);
    put(latch_at + 8, OP_SVC, 0, 0, 0);
    put(0x1020, OP_BNE, 5, 6, 0x2000);
    ExecEngine *e = engine(EXEC_TIER_AUTO, 0, 0);
    ExecCpu *cpu;
    ToyState *s = toy_cpu(e, &cpu, 0x1000);
    ExecEvent ev = exec_run(cpu);
    ck_assert_msg(ev.kind == EXEC_EV_SYSCALL, "event %s", exec_event_name(ev.kind));
    ck_assert_uint_eq(s->r[2], 100000);
    ExecStats st;
    exec_stats_get(e, &st);
    exec_engine_free(e);
    return st.dispatch;
}

/* Tier-up needs ten times the trips when the code cache cannot keep the
 * regions it compiles (tierup.c, TIERUP_UNKEPT_FACTOR); EMU_HOT_THRESHOLD
 * wins over both. */
static bool no_module(void *opaque, uint64_t pc, struct EmuCacheModuleId *id, uint64_t *bias)
{
    (void)opaque, (void)pc, (void)id, (void)bias;
    return false;
}

static int32_t threshold_with_cache(int mode, const char *dir)
{
    ExecConfig cfg = exec_config_default(&toy_arch);
    cfg.tier = EXEC_TIER_AUTO;
    cfg.cache_mode = mode;
    cfg.cache_dir = dir;
    cfg.module_of = no_module;
    cfg.mem = (ExecMemOps){ .read_code = g_read_code,
                            .interp_mem = {NULL, g_load, g_store, NULL, NULL} };
    char err[200] = "";
    ExecEngine *e = exec_engine_new(&cfg, err, sizeof err);
    ck_assert_msg(e != NULL, "exec_engine_new: %s", err);
    int32_t t = tierup_threshold(e);
    exec_engine_free(e);
    return t;
}

START_TEST(test_hot_threshold_follows_the_cache)
{
    char dir[] = "/tmp/emu-rt-cache-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    unsetenv("EMU_HOT_THRESHOLD");
    int32_t rw = threshold_with_cache(EMU_CACHE_RW, dir);
    int32_t ro = threshold_with_cache(EMU_CACHE_RO, dir);
    int32_t off = threshold_with_cache(EMU_CACHE_OFF, NULL);
    setenv("EMU_HOT_THRESHOLD", "123", 1);
    int32_t given = threshold_with_cache(EMU_CACHE_OFF, NULL);
    unsetenv("EMU_HOT_THRESHOLD");
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(rw, 100000);
    ck_assert_int_eq(ro, 1000000);
    ck_assert_int_eq(off, 1000000);
    ck_assert_int_eq(given, 123);
}
END_TEST

START_TEST(test_latches_sample_within_their_span)
{
    setenv("EMU_HOT_THRESHOLD", "1000000000", 1);
    uint64_t near = run_counting_loop(0x2010);                    /* 16 bytes back */
    uint64_t far = run_counting_loop(0x2000 + EXEC_LATCH_SPAN);   /* farther */
    unsetenv("EMU_HOT_THRESHOLD");
    /* 100000 latch entries in periods of 2048..6143: 16 to 49 samples */
    ck_assert_uint_ge(near, 16);
    ck_assert_uint_le(near, 49 + 10);
    ck_assert_uint_le(far, 10);
}
END_TEST

/* --stats counts the instructions that ran, not block length x entries:
 * a side exit skips the rest of its block.  r0 counts 1..10; at 7 the
 * side exit leaves for 0x3040 (r6) and comes back, otherwise r5 counts. */
START_TEST(test_side_exits_count_what_ran)
{
    for (int t = 0; t < 2; t++) {
        put(0x3000, OP_MOVI, 0, 0, 0);
        put(0x3008, OP_MOVI, 3, 0, 10);
        put(0x3010, OP_MOVI, 4, 0, 7);
        put(0x3018, OP_ADDI, 0, 0, 1);
        put(0x3020, OP_BEQX, 0, 4, 0x3040);
        put(0x3028, OP_ADDI, 5, 0, 1);
        put(0x3030, OP_BNE, 0, 3, 0x3018);
        put(0x3038, OP_SVC, 0, 0, 0);
        put(0x3040, OP_ADDI, 6, 0, 1);
        put(0x3048, OP_BNE, 0, 3, 0x3018);
        ExecEngine *e = engine(tiers[t], 0, 0);
        ExecCpu *cpu;
        ToyState *s = toy_cpu(e, &cpu, 0x3000);
        ExecEvent ev = exec_run(cpu);
        ck_assert_msg(ev.kind == EXEC_EV_SYSCALL, "tier %d: event %s", t, exec_event_name(ev.kind));
        ck_assert_uint_eq(s->r[0], 10);
        ck_assert_uint_eq(s->r[5], 9);
        ck_assert_uint_eq(s->r[6], 1);
        ExecStats st;
        exec_stats_get(e, &st);
        /* 3 movi, 10 x (addi, beqx), 9 x (addi r5, bne), addi r6, bne, svc */
        ck_assert_uint_eq(st.insns_template + st.insns_interp, 3 + 20 + 18 + 2 + 1);
        exec_engine_free(e);
    }
}
END_TEST

START_TEST(test_table_insert_lookup_remove)
{
    asm_loop();
    ExecEngine *e = engine(tiers[_i], 0, 0);
    ck_assert_ptr_null(exec_lookup(e, 0x1018, 0));
    TransBlock *a = exec_get_block(e, 0x1018, 0);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(exec_lookup(e, 0x1018, 0), a);
    ck_assert_ptr_eq(exec_get_block(e, 0x1018, 0), a); /* no retranslation */
    ck_assert_ptr_null(exec_lookup(e, 0x1018, 1));     /* other mode flags: other key */
    TransBlock *b = exec_get_block(e, 0x1018, 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    ck_assert_uint_eq(a->guest_size, 5 * 8);
    ck_assert_uint_eq(a->n_insns, 5);
    ck_assert_uint_eq(exec_block_count(e), 2);
    ck_assert(exec_is_code_page(e, 0x1000));
    ck_assert(!exec_is_code_page(e, 0x2000));
    /* ranges: page 0x1000 is the only code page */
    ck_assert(!exec_any_code_page(e, 0, 0x1000));
    ck_assert(exec_any_code_page(e, 0xfff, 2));
    ck_assert(exec_any_code_page(e, 0, 1ull << 40));           /* many leaves, empty ones */
    ck_assert(!exec_any_code_page(e, 0x2000, 1ull << 40));
    ck_assert(exec_any_code_page(e, 0x1fff, 1));
    ck_assert(!exec_any_code_page(e, 0x2000, 0x7000));          /* eight empty pages */
    ck_assert(!exec_any_code_page(e, UINT64_MAX - 0xfff, 0x1000)); /* past the map */
    ck_assert_int_eq(n_protect, 1); /* once per page */
    /* Many blocks force the table to grow; all stay findable. */
    for (uint64_t pc = 0x1000; pc < 0x1040; pc += 8)
        for (uint32_t f = 0; f < 300; f++)
            ck_assert_ptr_nonnull(exec_get_block(e, pc, f));
    for (uint64_t pc = 0x1000; pc < 0x1040; pc += 8)
        for (uint32_t f = 0; f < 300; f++)
            ck_assert_ptr_nonnull(exec_lookup(e, pc, f));
    ck_assert_uint_eq(exec_block_count(e), 8 * 300);
    /* Blocks on another page survive an invalidation of the first one. */
    put(0x3000, OP_SVC, 0, 0, 0);
    ck_assert_ptr_nonnull(exec_get_block(e, 0x3000, 0));
    ck_assert_int_eq(n_protect, 2);
    exec_invalidate_range(e, 0x3008, 0); /* empty range: nothing */
    ck_assert_uint_eq(exec_block_count(e), 8 * 300 + 1);
    exec_invalidate_range(e, 0x1040, 8); /* whole page 0x1000 goes */
    ck_assert_uint_eq(exec_block_count(e), 1);
    ck_assert_ptr_null(exec_lookup(e, 0x1018, 0));
    ck_assert_ptr_nonnull(exec_lookup(e, 0x3000, 0));
    ck_assert_int_eq(n_unprotect, 1); /* page handed back once */
    ck_assert(!exec_is_code_page(e, 0x1000));
    ck_assert(exec_is_code_page(e, 0x3000));
    exec_invalidate_range(e, 0, UINT64_MAX); /* huge range: walks pages */
    ck_assert_uint_eq(exec_block_count(e), 0);
    ck_assert_int_eq(n_unprotect, 2);
    ck_assert(!exec_is_code_page(e, 0x3000));
    exec_engine_free(e);
}
END_TEST

START_TEST(test_invalidation_unchains)
{
    asm_loop();
    memset(gmem + 0x8000, 0, 8);
    ExecEngine *e = engine(tiers[_i], 0, 0);
    ExecCpu *cpu;
    ToyState *s = toy_cpu(e, &cpu, 0x1000);
    ck_assert_int_eq(exec_run(cpu).kind, EXEC_EV_SYSCALL);
    TransBlock *entry = exec_lookup(e, 0x1000, 0), *body = exec_lookup(e, 0x1018, 0);
    ck_assert_ptr_nonnull(entry);
    ck_assert_ptr_nonnull(body);
    ck_assert_ptr_eq(entry->jmp_to[0], body);
    ck_assert_ptr_eq(body->jmp_to[0], body);
    ck_assert(body->jmp_in != 0);
    TransBlock *svc = exec_lookup(e, 0x1040, 0);
    ck_assert_ptr_eq(body->jmp_to[1], svc);
    /* Removing the body unchains entry->body, body->body and body->svc. */
    pthread_mutex_lock(&e->lock);
    tb_remove(e, body);
    pthread_mutex_unlock(&e->lock);
    ck_assert(body->invalid);
    ck_assert_ptr_null(exec_lookup(e, 0x1018, 0));
    ck_assert_ptr_null(entry->jmp_to[0]);
    ck_assert_ptr_null(body->jmp_to[0]);
    ck_assert_ptr_null(body->jmp_to[1]);
    ck_assert_uint_eq(body->jmp_in, 0);
    ck_assert_uint_eq(svc->jmp_in, 0);
    ExecStats st;
    exec_stats_get(e, &st);
    ck_assert_uint_eq(st.unchains, 3);
    ck_assert_uint_eq(st.invalidated_blocks, 1);
    /* The unchained entry block exits through its stub again: runs fine, and
     * is chained to the new body. */
    memset(gmem + 0x8000, 0, 8);
    s->common.pc = 0x1000;
    ck_assert_int_eq(exec_run(cpu).kind, EXEC_EV_SYSCALL);
    uint64_t m;
    memcpy(&m, gmem + 0x8000, 8);
    ck_assert_uint_eq(m, 100);
    TransBlock *body2 = exec_lookup(e, 0x1018, 0);
    ck_assert_ptr_nonnull(body2);
    ck_assert_ptr_ne(body2, body);
    ck_assert_ptr_eq(entry->jmp_to[0], body2);
    ck_assert_ptr_eq(body2->jmp_to[1], svc);
    /* The page API removes the rest and hands the page back for writing. */
    exec_invalidate_range(e, 0x1010, 8);
    ck_assert_uint_eq(exec_block_count(e), 0);
    ck_assert(!exec_is_code_page(e, 0x1000));
    put(0x1010, OP_MOVI, 3, 0, 7);
    /* Runs again with fresh blocks, seeing the new code. */
    memset(gmem + 0x8000, 0, 8);
    s->common.pc = 0x1000;
    ck_assert_int_eq(exec_run(cpu).kind, EXEC_EV_SYSCALL);
    ck_assert_uint_eq(s->r[2], 7);
    exec_engine_free(e);
}
END_TEST

/* What an empty jump cache slot holds: 0, except in the slot of pc 0. */
static uint64_t jc_empty(unsigned i)
{
    return i == jmp_cache_hash(0) ? ~(uint64_t)0 : 0;
}

/* A fresh jump cache is zero memory (committed only where written): an
 * indirect jump to pc 0 must still miss in generated code and reach the
 * block at 0, and every slot reads as empty. */
START_TEST(test_jump_cache_starts_empty_and_pc0_misses)
{
    put(0x0, OP_MOVI, 3, 0, 42);
    put(0x8, OP_SVC, 0, 0, 0);
    put(0x3000, OP_MOVI, 6, 0, 0);
    put(0x3008, OP_JR, 6, 0, 0);
    ExecEngine *e = engine(tiers[_i], 0, 0);
    ExecCpu *cpu;
    ToyState *s = toy_cpu(e, &cpu, 0x3000);
    for (unsigned i = 0; i < JMP_CACHE_SIZE; i++) {
        ck_assert_uint_eq(cpu->jmp_cache[i].pc, jc_empty(i));
        ck_assert_ptr_null(cpu->tb_cache[i]);
    }
    ck_assert_int_eq(exec_run(cpu).kind, EXEC_EV_SYSCALL);
    ck_assert_uint_eq(s->r[3], 42);
    /* twice: the second time the JR block is chained-in and 0 is cached */
    s->r[3] = 0;
    s->common.pc = 0x3000;
    ck_assert_int_eq(exec_run(cpu).kind, EXEC_EV_SYSCALL);
    ck_assert_uint_eq(s->r[3], 42);
    /* a request to exit empties every slot generated code could hit */
    exec_cpu_request_exit(cpu);
    for (unsigned i = 0; i < JMP_CACHE_SIZE; i++)
        ck_assert_uint_eq(cpu->jmp_cache[i].pc, jc_empty(i));
    exec_engine_free(e);
}
END_TEST

/* exec_cpu_request_exit_idle (a signal while the CPU's thread is in a
 * syscall): the next exec_run stops before running code, and the jump cache
 * is left as it was. */
START_TEST(test_request_exit_idle_keeps_jump_cache)
{
    put(0x5000, OP_MOVI, 3, 0, 1);
    put(0x5008, OP_SVC, 0, 0, 0);
    put(0x3000, OP_MOVI, 6, 0, 0x5000);
    put(0x3008, OP_JR, 6, 0, 0);
    ExecEngine *e = engine(tiers[_i], 0, 0);
    ExecCpu *cpu;
    ToyState *s = toy_cpu(e, &cpu, 0x3000);
    ck_assert_int_eq(exec_run(cpu).kind, EXEC_EV_SYSCALL);
    unsigned h = jmp_cache_hash(0x5000);
    JmpCacheEntry before = cpu->jmp_cache[h];
    ck_assert_ptr_nonnull(cpu->tb_cache[h]);
    s->common.pc = 0x3000;
    s->r[3] = 0;
    exec_cpu_request_exit_idle(cpu);
    ExecEvent ev = exec_run(cpu);
    ck_assert_int_eq(ev.kind, EXEC_EV_INTERRUPT);
    ck_assert_uint_eq(ev.pc, 0x3000);
    ck_assert_uint_eq(s->r[3], 0);   /* nothing ran */
    ck_assert_uint_eq(cpu->jmp_cache[h].pc, before.pc);
    ck_assert_ptr_eq(cpu->jmp_cache[h].host, before.host);
    ck_assert_ptr_nonnull(cpu->tb_cache[h]);
    ck_assert_int_eq(exec_run(cpu).kind, EXEC_EV_SYSCALL);
    ck_assert_uint_eq(s->r[3], 1);
    exec_engine_free(e);
}
END_TEST

/* exec_fork_prepare leaves the block table at most a quarter full, so that
 * a forked child adding blocks does not rehash (and so copy) the parent's.
 * Then blocks leave the table (invalidation) from the middle of probe runs:
 * the others must still be found, the removed ones not. */
START_TEST(test_fork_prepare_grows_block_table)
{
    ExecEngine *e = engine(tiers[_i], 0, 0);
    const unsigned n = 1500;
    for (unsigned i = 0; i < n; i++) /* all first: translating protects the page */
        put(0x20000 + 8 * i, OP_SVC, 0, 0, 0);
    for (unsigned i = 0; i < n; i++)
        ck_assert_ptr_nonnull(exec_get_block(e, 0x20000 + 8 * i, 0));
    ck_assert_uint_eq(exec_block_count(e), n);
    ck_assert_uint_lt(e->n_slots, 4 * n);
    exec_fork_prepare(e);
    exec_fork_parent(e);
    ck_assert_uint_ge(e->n_slots, 4 * n);
    for (unsigned i = 0; i < n; i++)
        ck_assert_ptr_nonnull(exec_lookup(e, 0x20000 + 8 * i, 0));
    /* the second of three pages of blocks goes */
    exec_invalidate_range(e, 0x21000, 0x1000);
    for (unsigned i = 0; i < n; i++) {
        uint64_t pc = 0x20000 + 8 * i;
        if (pc >= 0x21000 && pc < 0x22000)
            ck_assert_ptr_null(exec_lookup(e, pc, 0));
        else
            ck_assert_ptr_nonnull(exec_lookup(e, pc, 0));
    }
    ck_assert_uint_eq(exec_block_count(e), n - 0x1000 / 8);
    exec_engine_free(e);
}
END_TEST

/* The blocks a forked child adds reach its parent at the parent's next
 * fork, for later children to inherit ("blocks children add", exec.c); not
 * those added after the child's code stopped being its parent's. */
START_TEST(test_fork_child_blocks_reach_parent)
{
    put(0x7000, OP_SVC, 0, 0, 0);
    put(0x7100, OP_SVC, 0, 0, 0);
    put(0x7200, OP_SVC, 0, 0, 0);
    ExecEngine *e = engine(tiers[_i], 0, 0);
    ExecCpu *cpu;
    toy_cpu(e, &cpu, 0x7000);
    ck_assert_ptr_nonnull(exec_get_block(e, 0x7000, 0));
    exec_fork_prepare(e);   /* the first fork makes the ring */
    pid_t pid = fork();
    if (pid == 0) {
        exec_fork_child(e, cpu);
        bool ok = exec_get_block(e, 0x7100, 0) != NULL;
        exec_fork_image_changed(e);
        ok &= exec_get_block(e, 0x7200, 0) != NULL;
        _exit(ok ? 0 : 1);
    }
    exec_fork_parent(e);
    int status = -1;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    ck_assert_ptr_null(exec_lookup(e, 0x7100, 0));
    exec_fork_prepare(e);   /* takes what the child noted */
    exec_fork_parent(e);
    ck_assert_ptr_nonnull(exec_lookup(e, 0x7100, 0));
    ck_assert_ptr_null(exec_lookup(e, 0x7200, 0));
    ck_assert_uint_eq(exec_block_count(e), 2);
    exec_engine_free(e);
}
END_TEST

/* The chains a forked child makes reach its parent too (fork-ring.c), but
 * only from blocks whose bytes are the parent's: a child that changed the
 * loop body (and dropped its blocks) hands back none (the toy's entry block
 * runs through the body too). */
START_TEST(test_fork_child_chains_reach_parent)
{
    for (int patched = 0; patched < 2; patched++) {
        asm_loop();
        ExecEngine *e = engine(tiers[_i], 0, 0);
        ExecCpu *cpu;
        toy_cpu(e, &cpu, 0x1000);
        TransBlock *entry = exec_get_block(e, 0x1000, 0), *body = exec_get_block(e, 0x1018, 0);
        ck_assert_ptr_nonnull(entry);
        ck_assert_ptr_nonnull(body);
        exec_fork_prepare(e);   /* the first fork makes the ring */
        exec_fork_parent(e);
        exec_fork_prepare(e);
        pid_t pid = fork();
        if (pid == 0) {
            exec_fork_child(e, cpu);
            if (patched) {   /* counts by 2: the same length, other bytes */
                exec_invalidate_range(e, 0x1000, 0x48);   /* the page is writable again */
                put(0x1030, OP_ADDI, 2, 0, 2);
            }
            memset(gmem + 0x8000, 0, 8);
            _exit(exec_run(cpu).kind == EXEC_EV_SYSCALL ? 0 : 1);
        }
        exec_fork_parent(e);
        int status = -1;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
        ck_assert_ptr_null(entry->jmp_to[0]);
        exec_fork_prepare(e);   /* takes what the child noted */
        exec_fork_parent(e);
        TransBlock *svc = exec_lookup(e, 0x1040, 0);
        ck_assert_ptr_nonnull(svc);
        if (tiers[_i] == EXEC_TIER_TEMPLATE) {   /* template code is what chains are for */
            ck_assert_ptr_eq(entry->jmp_to[0], patched ? NULL : body);
            ck_assert_ptr_eq(body->jmp_to[0], patched ? NULL : body);
            ck_assert_ptr_eq(body->jmp_to[1], patched ? NULL : svc);
        } else {
            ck_assert_ptr_null(entry->jmp_to[0]);
        }
        /* and the parent still runs its own loop right */
        memset(gmem + 0x8000, 0, 8);
        ck_assert_int_eq(exec_run(cpu).kind, EXEC_EV_SYSCALL);
        uint64_t m;
        memcpy(&m, gmem + 0x8000, 8);
        ck_assert_uint_eq(m, 100);
        exec_engine_free(e);
    }
}
END_TEST

/* A subroutine at 0x4000 (r1 = 5, return through r7) that 0x3000 calls
 * through JR r6, returning to 0x3018. */
static void asm_jr_call(void)
{
    put(0x4000, OP_MOVI, 1, 0, 5);
    put(0x4008, OP_JR, 7, 0, 0);
    put(0x3000, OP_MOVI, 7, 0, 0x3018);
    put(0x3008, OP_MOVI, 6, 0, 0x4000);
    put(0x3010, OP_JR, 6, 0, 0);
}

/* Subroutine at 0x4000 called through JR twice; patched in between from
 * another page: the jump cache and chains must not run the stale block. */
START_TEST(test_smc_other_page_and_jump_cache)
{
    asm_jr_call();
    put(0x3018, OP_MOVI, 2, 0, 0);
    put(0x3020, OP_ADDI, 2, 0, 0); /* r2 = r1 seen after the first call */
    put(0x3028, OP_MOVI, 0, 0, 0x4004);
    put(0x3030, OP_MOVI, 5, 0, 99);
    put(0x3038, OP_STW, 5, 0, 0); /* patch 0x4000: MOVI r1, 99 */
    put(0x3040, OP_MOVI, 7, 0, 0x3058);
    put(0x3048, OP_JR, 6, 0, 0);
    put(0x3050, OP_BAD, 0, 0, 0);
    put(0x3058, OP_SVC, 0, 0, 0);
    ExecEngine *e = engine(tiers[_i], 0, 0);
    ExecCpu *cpu;
    ToyState *s = toy_cpu(e, &cpu, 0x3000);
    ExecEvent ev = exec_run(cpu);
    ck_assert_msg(ev.kind == EXEC_EV_SYSCALL, "event %s at %#lx", exec_event_name(ev.kind),
                  (unsigned long)ev.pc);
    ck_assert_uint_eq(s->r[1], 99);
    ExecStats st;
    exec_stats_get(e, &st);
    ck_assert_uint_ge(st.smc_faults, 1);
    ck_assert_uint_ge(st.invalidated_blocks, 1);
    ck_assert_int_ge(n_unprotect, 1);
    /* The stale 0x4000 block is gone from the jump cache; the fresh one is in. */
    unsigned h = jmp_cache_hash(0x4000);
    TransBlock *now = exec_lookup(e, 0x4000, 0);
    ck_assert_ptr_nonnull(now);
    ck_assert_ptr_eq(cpu->tb_cache[h], now);
    if (_i == 1) {
        ck_assert_uint_eq(cpu->jmp_cache[h].pc, 0x4000);
        ck_assert_ptr_eq(cpu->jmp_cache[h].host, now->host);
    }
    exec_invalidate_range(e, 0x4000, 16);
    ck_assert_ptr_null(cpu->tb_cache[h]);
    ck_assert_uint_eq(cpu->jmp_cache[h].pc, jc_empty(h));
    exec_engine_free(e);
}
END_TEST

/* The same in a forked child, whose first jump-cache fills leave the
 * dispatcher's tb_cache alone (jc_lean): invalidation must still find and
 * empty the in-code entry. */
START_TEST(test_smc_jump_cache_in_forked_child)
{
    asm_jr_call();
    put(0x3018, OP_SVC, 0, 0, 0);
    ExecEngine *e = engine(tiers[_i], 0, 0);
    ExecCpu *cpu;
    ToyState *s = toy_cpu(e, &cpu, 0x3000);
    exec_fork_prepare(e);
    pid_t pid = fork();
    if (pid == 0) {
        exec_fork_child(e, cpu);
        int bad = 0;
        bad |= exec_run(cpu).kind != EXEC_EV_SYSCALL || s->r[1] != 5;
        unsigned h = jmp_cache_hash(0x4000);
        TransBlock *old = exec_lookup(e, 0x4000, 0);
        bad |= !old;
        if (tiers[_i] == EXEC_TIER_TEMPLATE)   /* lean: the in-code entry, no tb_cache */
            bad |= cpu->tb_cache[h] != NULL || cpu->jmp_cache[h].pc != 0x4000;
        exec_invalidate_range(e, 0x4000, 16);              /* unprotects the page */
        bad |= cpu->jmp_cache[h].pc == 0x4000;            /* dropped with the block */
        put(0x4000, OP_MOVI, 1, 0, 99);
        s->common.pc = 0x3000;
        bad |= exec_run(cpu).kind != EXEC_EV_SYSCALL || s->r[1] != 99;
        _exit(bad ? 1 : 0);
    }
    exec_fork_parent(e);
    int status = -1;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    exec_engine_free(e);
}
END_TEST

/* A store that patches the next insn of its own block (same page). */
START_TEST(test_smc_same_block)
{
    put(0x2000, OP_MOVI, 0, 0, 0x2024);
    put(0x2008, OP_MOVI, 6, 0, 77);
    put(0x2010, OP_MOVI, 1, 0, 1);
    put(0x2018, OP_STW, 6, 0, 0); /* imm of the MOVI at 0x2020 := 77 */
    put(0x2020, OP_MOVI, 1, 0, 5);
    put(0x2028, OP_SVC, 0, 0, 0);
    ExecEngine *e = engine(tiers[_i], 0, 0);
    ExecCpu *cpu;
    ToyState *s = toy_cpu(e, &cpu, 0x2000);
    ExecEvent ev = exec_run(cpu);
    ck_assert_msg(ev.kind == EXEC_EV_SYSCALL, "event %s", exec_event_name(ev.kind));
    ck_assert_uint_eq(s->r[1], 77);
    ExecStats st;
    exec_stats_get(e, &st);
    ck_assert_uint_eq(st.smc_faults, 1);
    exec_engine_free(e);
}
END_TEST

START_TEST(test_guest_faults)
{
    ExecEngine *e = engine(tiers[_i], 0, 0);
    ExecCpu *cpu;
    ToyState *s = toy_cpu(e, &cpu, 0x5000);
    /* All code is written before anything runs (code pages get protected). */
    put(0x5000, OP_MOVI, 0, 0, GUEST_SIZE + 0x100);
    put(0x5008, OP_MOVI, 1, 0, 3);
    put(0x5010, OP_LD, 1, 0, 0);
    put(0x5018, OP_SVC, 0, 0, 0);
    put(0x5100, OP_MOVI, 0, 0, 0x8003);
    put(0x5108, OP_LDA, 1, 0, 0);
    put(0x5200, OP_MOVI, 1, 0, 9);
    put(0x5208, OP_BAD, 0, 0, 0);
    /* SEGV beyond the guest limit: pc of the LD, earlier insns done, r1 kept. */
    ExecEvent ev = exec_run(cpu);
    ck_assert_msg(ev.kind == EXEC_EV_SEGV, "event %s", exec_event_name(ev.kind));
    ck_assert_uint_eq(ev.pc, 0x5010);
    ck_assert_uint_eq(s->common.pc, 0x5010);
    ck_assert_uint_eq(ev.addr, GUEST_SIZE + 0x100);
    ck_assert_uint_eq(s->r[1], 3);
    /* SEGV on a host page without access (template: a host fault in code). */
    s->r[0] = NOACCESS_PAGE + 8;
    s->common.pc = 0x5010;
    ev = exec_run(cpu);
    ck_assert_msg(ev.kind == EXEC_EV_SEGV, "event %s", exec_event_name(ev.kind));
    ck_assert_uint_eq(ev.pc, 0x5010);
    ck_assert_uint_eq(ev.addr, NOACCESS_PAGE + 8);
    /* ... and execution goes on normally afterwards. */
    s->r[0] = 0x8000;
    s->common.pc = 0x5010;
    ck_assert_int_eq(exec_run(cpu).kind, EXEC_EV_SYSCALL);
    /* Misaligned LDA: BUS. */
    s->common.pc = 0x5100;
    ev = exec_run(cpu);
    ck_assert_msg(ev.kind == EXEC_EV_BUS, "event %s", exec_event_name(ev.kind));
    ck_assert_uint_eq(ev.pc, 0x5108);
    if (_i == 1) /* the interpreter does not report the address */
        ck_assert_uint_eq(ev.addr, 0x8003);
    /* Undefined insn, fetch fault. */
    s->common.pc = 0x5200;
    ev = exec_run(cpu);
    ck_assert_int_eq(ev.kind, EXEC_EV_UNDEF);
    ck_assert_uint_eq(ev.pc, 0x5208);
    ck_assert_uint_eq(s->r[1], 9);
    s->common.pc = GUEST_SIZE + 64;
    ev = exec_run(cpu);
    ck_assert_int_eq(ev.kind, EXEC_EV_FETCH_FAULT);
    ck_assert_uint_eq(ev.addr, GUEST_SIZE + 64);
    /* A pending exit request is honoured before running anything. */
    s->common.pc = 0x5200;
    s->r[1] = 0;
    exec_cpu_request_exit(cpu);
    ck_assert_int_eq(exec_run(cpu).kind, EXEC_EV_INTERRUPT);
    ck_assert_uint_eq(s->r[1], 0);
    exec_engine_free(e);
}
END_TEST

START_TEST(test_code_buffer_flush)
{
    /* 3000 one-insn blocks of ~tens of bytes each overflow 64 KiB. */
    const int n = 3000;
    for (int i = 0; i < n; i++)
        put(0x10000 + 8 * i, OP_ADDI, 4, 0, 1);
    put(0x10000 + 8 * n, OP_SVC, 0, 0, 0);
    ExecEngine *e = engine(EXEC_TIER_TEMPLATE, 64 << 10, 1);
    ExecCpu *cpu;
    ToyState *s = toy_cpu(e, &cpu, 0x10000);
    ExecEvent ev = exec_run(cpu);
    ck_assert_msg(ev.kind == EXEC_EV_SYSCALL, "event %s", exec_event_name(ev.kind));
    ck_assert_uint_eq(s->r[4], n);
    ExecStats st;
    exec_stats_get(e, &st);
    ck_assert_uint_ge(st.code_flushes, 1);
    ck_assert_uint_le(st.code_buf_used, 64 << 10);
    ck_assert_uint_lt(exec_block_count(e), (size_t)n);
    /* Run again: correct after the flushes, and an explicit flush empties all. */
    s->r[4] = 0;
    s->common.pc = 0x10000;
    ck_assert_int_eq(exec_run(cpu).kind, EXEC_EV_SYSCALL);
    ck_assert_uint_eq(s->r[4], n);
    exec_flush_all(e);
    ck_assert_uint_eq(exec_block_count(e), 0);
    for (unsigned i = 0; i < JMP_CACHE_SIZE; i++)
        ck_assert_uint_eq(cpu->jmp_cache[i].pc, jc_empty(i));
    exec_engine_free(e);
}
END_TEST

/* A block too big for the whole code buffer is interpreted instead. */
START_TEST(test_oversized_block_falls_back_to_interpreter)
{
    const int n = 500;
    put(0x20000, OP_MOVI, 0, 0, 0x9000);
    for (int i = 1; i <= n; i++)
        put(0x20000 + 8 * i, i % 2 ? OP_ST : OP_ADDI, 4, 0, 1);
    put(0x20000 + 8 * (n + 1), OP_SVC, 0, 0, 0);
    ExecEngine *e = engine(EXEC_TIER_TEMPLATE, 8 << 10, 1000);
    ExecCpu *cpu;
    ToyState *s = toy_cpu(e, &cpu, 0x20000);
    ExecEvent ev = exec_run(cpu);
    ck_assert_msg(ev.kind == EXEC_EV_SYSCALL, "event %s", exec_event_name(ev.kind));
    ck_assert_uint_eq(s->r[4], n / 2);
    uint64_t m;
    memcpy(&m, gmem + 0x9000, 8);
    ck_assert_uint_eq(m, n / 2 - 1); /* the last ST came before the last ADDI */
    ExecStats st;
    exec_stats_get(e, &st);
    ck_assert_uint_eq(st.interp_fallbacks, 1);
    TransBlock *tb = exec_lookup(e, 0x20000, 0);
    ck_assert_ptr_nonnull(tb);
    ck_assert_ptr_null(tb->host);
    ck_assert_ptr_nonnull(tb->icode);
    exec_engine_free(e);
}
END_TEST

START_TEST(test_exec_trace_disables_chaining)
{
    asm_loop();
    memset(gmem + 0x8000, 0, 8);
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    char path[64];
    snprintf(path, sizeof path, "/tmp/emu-rt-trace-%d.log", (int)getpid());
    ck_assert(emu_log_open(path));
    emu_log_set_mask(EMU_LOG_EXEC);
    ExecEngine *e = engine(tiers[_i], 0, 0);
    ExecCpu *cpu;
    toy_cpu(e, &cpu, 0x1000);
    ck_assert_int_eq(exec_run(cpu).kind, EXEC_EV_SYSCALL);
    emu_log_set_mask(0);
    emu_log_close();
    ExecStats st;
    exec_stats_get(e, &st);
    ck_assert_uint_eq(st.chain_patches, 0);
    ck_assert_uint_eq(st.dispatch, 101); /* entry (1st iteration) + 99 bodies + svc */
    FILE *in = fopen(path, "r");
    ck_assert_ptr_nonnull(in);
    char line[256];
    int traces = 0;
    while (fgets(line, sizeof line, in))
        traces += strncmp(line, "Trace 0: ", 9) == 0;
    fclose(in);
    unlink(path);
    fclose(f);
    ck_assert_int_eq(traces, 101);
    exec_engine_free(e);
}
END_TEST

START_TEST(test_log_parse_and_lazy_llvm)
{
    unsigned m = 0;
    char err[512];
    ck_assert(emu_log_parse("in_asm,out_asm,exec", &m, err, sizeof err));
    ck_assert_uint_eq(m, EMU_LOG_IN_ASM | EMU_LOG_OUT_ASM | EMU_LOG_EXEC);
    ck_assert(emu_log_parse("op", &m, err, sizeof err));
    ck_assert_uint_eq(m, EMU_LOG_OP | EMU_LOG_OP_OPT);
    ck_assert(!emu_log_parse("in_asm,bogus", &m, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "bogus"));
    ck_assert(!emu_log_parse("help", &m, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "out_asm"));
    /* Running without -d never loads LLVM. */
    asm_loop();
    ExecEngine *e = engine(EXEC_TIER_TEMPLATE, 0, 0);
    ExecCpu *cpu;
    toy_cpu(e, &cpu, 0x1000);
    ck_assert_int_eq(exec_run(cpu).kind, EXEC_EV_SYSCALL);
    ck_assert(!disas_llvm_loaded());
    exec_engine_free(e);
    /* With out_asm, LLVM is loaded and shows x86 mnemonics. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/emu-rt-asm-%d.log", (int)getpid());
    ck_assert(emu_log_open(path));
    emu_log_set_mask(EMU_LOG_OUT_ASM | EMU_LOG_OP | EMU_LOG_OP_OPT | EMU_LOG_IN_ASM);
    e = engine(EXEC_TIER_TEMPLATE, 0, 0);
    toy_cpu(e, &cpu, 0x1000);
    ck_assert_int_eq(exec_run(cpu).kind, EXEC_EV_SYSCALL);
    emu_log_set_mask(0);
    emu_log_close();
    exec_engine_free(e);
    FILE *in = fopen(path, "r");
    ck_assert_ptr_nonnull(in);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, in);
    text[n] = 0;
    fclose(in);
    unlink(path);
    ck_assert_ptr_nonnull(strstr(text, "IN: "));
    ck_assert_ptr_nonnull(strstr(text, "OP:"));
    ck_assert_ptr_nonnull(strstr(text, "OP after optimization:"));
    ck_assert_ptr_nonnull(strstr(text, "OUT: [size="));
    ck_assert(disas_llvm_loaded());
    ck_assert_ptr_nonnull(strstr(text, "mov")); /* x86 mnemonics, not just hex */
}
END_TEST

/* Two threads, two CPUs, one engine: each counts into its own word. */
static void *thread_run(void *arg)
{
    ExecCpu *cpu = arg;
    ExecEvent ev = exec_run(cpu);
    return (void *)(uintptr_t)ev.kind;
}

START_TEST(test_two_threads_share_engine)
{
    asm_loop();
    put(0x1010, OP_MOVI, 3, 0, 20000);
    ExecEngine *e = engine(tiers[_i], 0, 0);
    ExecCpu *c[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        ToyState *s = toy_cpu(e, &c[i], 0x1018); /* skip the MOVI r0 */
        s->r[0] = 0x9000 + 8 * i;
        s->r[3] = 20000;
        memset(gmem + 0x9000 + 8 * i, 0, 8);
    }
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, thread_run, c[i]), 0);
    for (int i = 0; i < 2; i++) {
        void *r;
        pthread_join(th[i], &r);
        ck_assert_int_eq((int)(uintptr_t)r, EXEC_EV_SYSCALL);
        uint64_t m;
        memcpy(&m, gmem + 0x9000 + 8 * i, 8);
        ck_assert_uint_eq(m, 20000);
    }
    exec_engine_free(e);
}
END_TEST

/* One thread loops in chained code while another keeps invalidating its
 * page and flushing everything: the loop must still end with the right
 * count (flushes wait for the runner to leave code). */
static int runner_done; /* atomic */

static void *runner(void *arg)
{
    void *r = thread_run(arg);
    __atomic_store_n(&runner_done, 1, __ATOMIC_RELEASE);
    return r;
}

START_TEST(test_invalidate_and_flush_while_running)
{
    asm_loop();
    const int n = _i ? 3000000 : 300000;
    put(0x1010, OP_MOVI, 3, 0, n);
    memset(gmem + 0x8000, 0, 8);
    ExecEngine *e = engine(tiers[_i], 0, 0);
    ExecCpu *cpu;
    toy_cpu(e, &cpu, 0x1000);
    pthread_t th;
    runner_done = 0;
    ck_assert_int_eq(pthread_create(&th, NULL, runner, cpu), 0);
    int rounds = 0;
    while (!__atomic_load_n(&runner_done, __ATOMIC_ACQUIRE)) {
        if (rounds & 1)
            exec_flush_all(e);
        else
            exec_invalidate_range(e, 0x1000, 64);
        rounds++;
        usleep(200);
    }
    void *r;
    pthread_join(th, &r);
    ck_assert_int_eq((int)(uintptr_t)r, EXEC_EV_SYSCALL);
    uint64_t m;
    memcpy(&m, gmem + 0x8000, 8);
    ck_assert_uint_eq(m, (uint64_t)n);
    ExecStats st;
    exec_stats_get(e, &st);
    ck_assert_uint_ge(st.code_flushes, rounds >= 2 ? 1 : 0);
    if (getenv("RT_VERBOSE"))
        fprintf(stderr, "tier %d: %d rounds, %lu flushes\n", _i, rounds,
                (unsigned long)st.code_flushes);
    exec_engine_free(e);
}
END_TEST

/* An endless loop through an indirect jump stops on exec_cpu_request_exit
 * from another thread. */
START_TEST(test_request_exit_stops_indirect_loop)
{
    put(0x6000, OP_ADDI, 1, 0, 1);
    put(0x6008, OP_MOVI, 7, 0, 0x6000);
    put(0x6010, OP_JR, 7, 0, 0);
    ExecEngine *e = engine(tiers[_i], 0, 0);
    ExecCpu *cpu;
    ToyState *s = toy_cpu(e, &cpu, 0x6000);
    pthread_t th;
    runner_done = 0;
    ck_assert_int_eq(pthread_create(&th, NULL, runner, cpu), 0);
    while (__atomic_load_n(&s->r[1], __ATOMIC_RELAXED) < 1000)
        usleep(1000);
    exec_cpu_request_exit(cpu);
    void *r;
    pthread_join(th, &r);
    ck_assert_int_eq((int)(uintptr_t)r, EXEC_EV_INTERRUPT);
    ck_assert_uint_eq(s->common.pc, 0x6000);
    ck_assert_uint_ge(s->r[1], 1000);
    exec_engine_free(e);
}
END_TEST

/* fork while another CPU runs in code: the child keeps working (flushes do
 * not wait for the vanished thread). */
START_TEST(test_fork_child_with_running_sibling)
{
    put(0x6000, OP_ADDI, 1, 0, 1);
    put(0x6008, OP_MOVI, 7, 0, 0x6000);
    put(0x6010, OP_JR, 7, 0, 0);
    asm_loop();
    ExecEngine *e = engine(tiers[_i], 0, 0);
    ExecCpu *spin, *mine;
    ToyState *ss = toy_cpu(e, &spin, 0x6000);
    ToyState *s = toy_cpu(e, &mine, 0x1000);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, runner, spin), 0);
    while (__atomic_load_n(&ss->r[1], __ATOMIC_RELAXED) < 1000)
        usleep(1000);
    exec_fork_prepare(e);
    pid_t pid = fork();
    if (pid == 0) {
        exec_fork_child(e, mine);
        exec_flush_all(e);
        memset(gmem + 0x8000, 0, 8);
        ExecEvent ev = exec_run(mine);
        uint64_t m;
        memcpy(&m, gmem + 0x8000, 8);
        _exit(ev.kind == EXEC_EV_SYSCALL && m == 100 && s->r[2] == 100 ? 0 : 1);
    }
    exec_fork_parent(e);
    ck_assert_int_gt(pid, 0);
    int status = -1;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    exec_cpu_request_exit(spin);
    void *r;
    pthread_join(th, &r);
    ck_assert_int_eq((int)(uintptr_t)r, EXEC_EV_INTERRUPT);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    exec_engine_free(e);
}
END_TEST

/* An endless loop of chained direct jumps stops when its thread gets a
 * signal whose handler calls exec_cpu_request_exit; the chains heal after. */
static ExecCpu *sig_cpu;

static void on_usr1(int sig)
{
    exec_cpu_request_exit(sig_cpu);
}

START_TEST(test_signal_stops_chained_loop)
{
    asm_loop();
    ExecEngine *e = engine(tiers[_i], 0, 0);
    ExecCpu *cpu;
    ToyState *s = toy_cpu(e, &cpu, 0x1018);
    s->r[0] = 0x8000;
    s->r[3] = ~(uint64_t)0; /* r2 never gets there */
    sig_cpu = cpu;
    signal(SIGUSR1, on_usr1);
    pthread_t th;
    runner_done = 0;
    ck_assert_int_eq(pthread_create(&th, NULL, runner, cpu), 0);
    while (__atomic_load_n(&s->r[2], __ATOMIC_RELAXED) < 100000)
        usleep(1000);
    ExecStats st0;
    exec_stats_get(e, &st0);
    ck_assert_uint_lt(st0.dispatch, 10); /* it really runs chained */
    for (int i = 0; i < 200 && !__atomic_load_n(&runner_done, __ATOMIC_ACQUIRE); i++) {
        pthread_kill(th, SIGUSR1);
        usleep(5000);
    }
    void *r;
    pthread_join(th, &r);
    ck_assert_int_eq((int)(uintptr_t)r, EXEC_EV_INTERRUPT);
    /* Runs on to the end, chained again (few dispatcher entries). */
    s->r[3] = s->r[2] + 100000;
    ExecStats st1;
    exec_stats_get(e, &st1);
    ck_assert_int_eq(exec_run(cpu).kind, EXEC_EV_SYSCALL);
    ck_assert_uint_eq(s->r[2], s->r[3]);
    ExecStats st2;
    exec_stats_get(e, &st2);
    ck_assert_uint_lt(st2.dispatch - st1.dispatch, 10);
    exec_engine_free(e);
}
END_TEST

/* A mode switch: the next block is keyed by the new flags and is not
 * chained from the old mode. */
START_TEST(test_mode_flags_split_blocks)
{
    put(0x7000, OP_MOVI, 1, 0, 1);
    put(0x7008, OP_MODE, 1, 0, 0);
    put(0x7010, OP_ADDI, 2, 0, 5);
    put(0x7018, OP_SVC, 0, 0, 0);
    ExecEngine *e = engine(tiers[_i], 0, 0);
    ExecCpu *cpu;
    ToyState *s = toy_cpu(e, &cpu, 0x7000);
    for (int round = 0; round < 2; round++) {
        s->common.pc = 0x7000;
        s->common.mode_flags = 0;
        ExecEvent ev = exec_run(cpu);
        ck_assert_int_eq(ev.kind, EXEC_EV_SYSCALL);
        ck_assert_uint_eq(s->common.mode_flags, 1);
    }
    ck_assert_uint_eq(s->r[2], 10);
    TransBlock *a = exec_lookup(e, 0x7000, 0), *b = exec_lookup(e, 0x7010, 1);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_null(exec_lookup(e, 0x7010, 0));
    ck_assert_ptr_null(a->jmp_to[0]); /* never chained across modes */
    ExecStats st;
    exec_stats_get(e, &st);
    ck_assert_uint_eq(st.chain_patches, 0);
    exec_engine_free(e);
}
END_TEST

START_TEST(test_cpu_copy_state_keeps_runtime_fields)
{
    ExecEngine *e = engine(EXEC_TIER_INTERP, 0, 0);
    ExecCpu *a, *b;
    ToyState *sa = toy_cpu(e, &a, 0x1234);
    ToyState *sb = toy_cpu(e, &b, 0);
    sa->r[5] = 55;
    sa->common.mode_flags = 3;
    exec_cpu_copy_state(b, a);
    ck_assert_uint_eq(sb->r[5], 55);
    ck_assert_uint_eq(sb->common.pc, 0x1234);
    ck_assert_uint_eq(sb->common.mode_flags, 3);
    ck_assert_ptr_eq(sb->common.runtime, b);
    ck_assert_ptr_ne(sb->common.jmp_cache, sa->common.jmp_cache);
    ck_assert_ptr_eq(exec_cpu_from_env(sb), b);
    ck_assert_ptr_eq(exec_cpu_engine(b), e);
    ck_assert_uint_eq((uintptr_t)sb % _Alignof(ToyState), 0);
    exec_engine_free(e);
}
END_TEST

START_TEST(test_bad_config)
{
    char err[128];
    ExecConfig cfg = exec_config_default(&toy_arch);
    ck_assert_ptr_null(exec_engine_new(&cfg, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "read_code"));
    cfg = exec_config_default(NULL);
    ck_assert_ptr_null(exec_engine_new(&cfg, err, sizeof err));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("runtime");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_latches_sample_within_their_span);
    tcase_add_test(tc, test_hot_threshold_follows_the_cache);
    tcase_add_test(tc, test_loop_both_tiers_agree_and_chain);
    tcase_add_test(tc, test_side_exits_count_what_ran);
    tcase_add_loop_test(tc, test_table_insert_lookup_remove, 0, 2);
    tcase_add_loop_test(tc, test_invalidation_unchains, 0, 2);
    tcase_add_loop_test(tc, test_jump_cache_starts_empty_and_pc0_misses, 0, 2);
    tcase_add_loop_test(tc, test_request_exit_idle_keeps_jump_cache, 0, 2);
    tcase_add_loop_test(tc, test_fork_prepare_grows_block_table, 0, 2);
    tcase_add_loop_test(tc, test_fork_child_blocks_reach_parent, 0, 2);
    tcase_add_loop_test(tc, test_fork_child_chains_reach_parent, 0, 2);
    tcase_add_loop_test(tc, test_smc_other_page_and_jump_cache, 0, 2);
    tcase_add_loop_test(tc, test_smc_jump_cache_in_forked_child, 0, 2);
    tcase_add_loop_test(tc, test_smc_same_block, 0, 2);
    tcase_add_loop_test(tc, test_guest_faults, 0, 2);
    tcase_add_test(tc, test_code_buffer_flush);
    tcase_add_test(tc, test_oversized_block_falls_back_to_interpreter);
    tcase_add_loop_test(tc, test_exec_trace_disables_chaining, 0, 2);
    tcase_add_test(tc, test_log_parse_and_lazy_llvm);
    tcase_add_loop_test(tc, test_two_threads_share_engine, 0, 2);
    tcase_add_loop_test(tc, test_invalidate_and_flush_while_running, 0, 2);
    tcase_add_loop_test(tc, test_request_exit_stops_indirect_loop, 0, 2);
    tcase_add_loop_test(tc, test_fork_child_with_running_sibling, 0, 2);
    tcase_add_loop_test(tc, test_mode_flags_split_blocks, 0, 2);
    tcase_add_loop_test(tc, test_signal_stops_chained_loop, 0, 2);
    tcase_add_test(tc, test_cpu_copy_state_keeps_runtime_fields);
    tcase_add_test(tc, test_bad_config);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
