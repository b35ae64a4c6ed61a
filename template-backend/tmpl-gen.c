/*
 * tmpl-gen.c - the template backend's driver: tmpl_init (entry trampoline and
 * shared epilogue), tmpl_translate (one pass over the IR block), control flow
 * (labels, branches, every exit kind), moves and conversions, out-of-line
 * stubs, the host->guest insn map, and chain patching.
 *
 * Block layout:  [main body ...][stubs: faults, unchained goto_tb, lookup miss]
 * A goto_tb is `jmp rel32` with its rel32 4-byte aligned; it starts out
 * pointing at its stub (store target pc, return tag|slot) and
 * tmpl_chain_patch retargets it atomically.
 */
#include "template-backend/tmpl-internal.h"

#include <sys/platform/x86.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool tmpl_have_lzcnt, tmpl_have_bmi1, tmpl_have_popcnt;

/* Every CodeBuf given to tmpl_init gets its own trampoline and epilogue at
 * its start; blocks jump (rel32) to the epilogue of their own buffer, and
 * tmpl_enter runs the trampoline of the buffer that holds `host`.  A buffer
 * re-initialised at the same address replaces its entry. */
#define TMPL_MAX_BUFS 16
typedef struct TmplBufEntry {
    uintptr_t lo, hi;        /* execution addresses of the buffer */
    uintptr_t enter, epilogue;
    TmplPinSet pins;         /* its trampoline's, so its blocks' */
} TmplBufEntry;
static TmplBufEntry s_bufs[TMPL_MAX_BUFS];
static unsigned s_n_bufs;
static pthread_mutex_t s_bufs_lock = PTHREAD_MUTEX_INITIALIZER;

static const TmplBufEntry *buf_entry(uintptr_t exec_addr)
{
    unsigned n = __atomic_load_n(&s_n_bufs, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n; i++)
        if (exec_addr >= s_bufs[i].lo && exec_addr < s_bufs[i].hi)
            return &s_bufs[i];
    return NULL;
}

void tg_fail(TmplGen *g, const char *why)
{
    if (!g->why)
        g->why = why;
}

/* From glibc's copy of the cpuid bits (ld.so reads them once per process):
 * a cpuid instruction traps to the hypervisor in a VM (~7 us each here),
 * which a short-lived emu-user process would pay at every start. */
static void detect_cpu(void)
{
    tmpl_have_popcnt = CPU_FEATURE_ACTIVE(POPCNT);
    tmpl_have_bmi1 = CPU_FEATURE_ACTIVE(BMI1);
    tmpl_have_lzcnt = CPU_FEATURE_ACTIVE(LZCNT);
    if (getenv("EMU_TMPL_NO_BITOPS"))   /* tests: force the fallback sequences */
        tmpl_have_lzcnt = tmpl_have_bmi1 = tmpl_have_popcnt = false;
}

/* The pinned globals from env into their registers, and back. */
static void pins_load(X86Buf *x, const TmplPinSet *s)
{
    for (unsigned i = 0; i < s->n; i++)
        x86_load(x, 64, s->pin[i].reg, x86_mem(TMPL_REG_ENV, (int32_t)s->pin[i].env_off));
}

static void pins_store(X86Buf *x, const TmplPinSet *s)
{
    for (unsigned i = 0; i < s->n; i++)
        x86_store(x, 64, x86_mem(TMPL_REG_ENV, (int32_t)s->pin[i].env_off), s->pin[i].reg);
}

void tmpl_pins_at_fault(void *env, const uint64_t regs[16], uintptr_t host_pc)
{
    const TmplBufEntry *be = buf_entry(host_pc);
    for (unsigned i = 0; be && i < be->pins.n; i++)
        memcpy((uint8_t *)env + be->pins.pin[i].env_off, &regs[be->pins.pin[i].reg], 8);
}

bool tmpl_init(CodeBuf *buf)
{
    detect_cpu();
    size_t start = (buf->used + 15) & ~(size_t)15;
    if (start > buf->size)
        return false;
    X86Buf x = x86_buf(buf->base + start, buf->size - start);
    static const int saved[6] = {X86_RBP, X86_RBX, X86_R12, X86_R13, X86_R14, X86_R15};
    for (int i = 0; i < 6; i++)
        x86_push(&x, saved[i]);
    x86_alu_ri(&x, X86_SUB, 64, X86_RSP, TMPL_FRAME_SIZE);
    x86_mov_rr(&x, 64, TMPL_REG_ENV, X86_RDI);
    x86_load(&x, 64, TMPL_REG_BASE, x86_mem(X86_RDI, offsetof(CpuCommon, guest_base)));
    const TmplPinSet pins = tmpl_pin_set;
    pins_load(&x, &pins);
    x86_jmp_r(&x, X86_RSI);
    while (x86_off(&x) & 15)
        x86_byte(&x, 0xCC);
    size_t epi = x86_off(&x);
    pins_store(&x, &pins);
    x86_alu_ri(&x, X86_ADD, 64, X86_RSP, TMPL_FRAME_SIZE);
    for (int i = 5; i >= 0; i--)
        x86_pop(&x, saved[i]);
    x86_ret(&x);
    if (x.overflow)
        return false;
    uintptr_t exec = (uintptr_t)(buf->base + start) + (uintptr_t)buf->exec_delta;
    uintptr_t lo = (uintptr_t)buf->base + (uintptr_t)buf->exec_delta;
    TmplBufEntry ent = {lo, lo + buf->size, exec, exec + epi, pins};
    pthread_mutex_lock(&s_bufs_lock);
    unsigned i;
    for (i = 0; i < s_n_bufs; i++)
        if (s_bufs[i].lo < ent.hi && ent.lo < s_bufs[i].hi)
            break;   /* the same (or an overlapping, since unmapped) buffer */
    if (i == TMPL_MAX_BUFS) {
        pthread_mutex_unlock(&s_bufs_lock);
        return false;
    }
    s_bufs[i] = ent;
    if (i == s_n_bufs)
        __atomic_store_n(&s_n_bufs, i + 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s_bufs_lock);
    buf->used = start + x86_off(&x);
    __builtin___clear_cache((char *)exec, (char *)(exec + x86_off(&x)));
    return true;
}

static size_t jmp_abs(TmplGen *g, uintptr_t target);

/* Jump to the block of guest pc r through the CPU's jump cache (clobbers
 * rax and tmp); returns the site of the jcc32 taken on a miss. */
static size_t emit_jc_jump(X86Buf *x, int r, int tmp)
{
    /* entry = jmp_cache[((pc >> 2) ^ (pc >> (2 + BITS))) & (SIZE - 1)]; its
     * byte offset, 16 * that, is ((pc << 2) ^ (pc >> (BITS - 2))) masked to
     * bits 4..BITS+3: only bits below 32 matter, so 32-bit ops do */
    _Static_assert(sizeof(JmpCacheEntry) == 16, "jmp cache entry is 16 bytes");
    _Static_assert(JMP_CACHE_BITS + 2 + 2 <= 32, "the hash's bits fit 32-bit ops");
    X86Mem times4 = { -1, (int8_t)r, 2, 0 };
    x86_lea(x, 32, X86_RAX, times4);
    x86_mov_rr(x, 32, tmp, r);
    x86_shift_ri(x, X86_SHR, 32, tmp, JMP_CACHE_BITS - 2);
    x86_alu_rr(x, X86_XOR, 32, X86_RAX, tmp);
    x86_alu_ri(x, X86_AND, 32, X86_RAX, (JMP_CACHE_SIZE - 1) << 4);
    x86_alu_rm(x, X86_ADD, 64, X86_RAX,
               x86_mem(TMPL_REG_ENV, offsetof(CpuCommon, jmp_cache)));
    x86_alu_rm(x, X86_CMP, 64, r, x86_mem(X86_RAX, offsetof(JmpCacheEntry, pc)));
    size_t miss = x86_jcc32(x, X86_CC_NE);
    x86_jmp_m(x, x86_mem(X86_RAX, offsetof(JmpCacheEntry, host)));
    return miss;
}

const void *tmpl_emit_call_stub(CodeBuf *buf, uintptr_t (*fn)(void *env))
{
    const TmplBufEntry *be = buf_entry((uintptr_t)buf->base + (uintptr_t)buf->exec_delta);
    size_t start = (buf->used + 15) & ~(size_t)15;
    if (!be || start + 160 > buf->size)
        return NULL;
    TmplGen g;
    memset(&g, 0, sizeof g);
    g.x = x86_buf(buf->base + start, buf->size - start);
    g.exec_base = (uintptr_t)(buf->base + start) + (uintptr_t)buf->exec_delta;
    X86Buf *x = &g.x;
    /* rsp is tmpl_enter's 16-byte aligned frame, as a call expects; fn
     * reads and writes the guest registers in env */
    pins_store(x, &be->pins);
    x86_mov_rr(x, 64, X86_RDI, TMPL_REG_ENV);
    x86_mov_ri(x, X86_RAX, (uint64_t)(uintptr_t)fn);
    x86_call_r(x, X86_RAX);
    pins_load(x, &be->pins);
    /* A lookup exit (env->pc set) goes on through the jump cache like a
     * goto_ptr, not through the dispatcher: that round trip was most of
     * what a region entered per call cost.  Anything else, or a miss,
     * returns the region's value to the loop. */
    x86_mov_rr(x, 64, X86_R11, X86_RAX);
    x86_mov_rr(x, 32, X86_RCX, X86_RAX);
    x86_alu_ri(x, X86_AND, 32, X86_RCX, (int32_t)TMPL_RET_MASK);
    x86_alu_ri(x, X86_CMP, 32, X86_RCX, TMPL_RET_LOOKUP);
    size_t other = x86_jcc32(x, X86_CC_NE);
    x86_load(x, 64, X86_RDX, x86_mem(TMPL_REG_ENV, offsetof(CpuCommon, pc)));
    size_t miss = emit_jc_jump(x, X86_RDX, X86_RCX);
    x86_patch_rel32(x, other, x86_off(x));
    x86_patch_rel32(x, miss, x86_off(x));
    x86_mov_rr(x, 64, X86_RAX, X86_R11);
    jmp_abs(&g, be->epilogue);
    if (g.x.overflow || g.why)
        return NULL;
    buf->used = start + x86_off(&g.x);
    uintptr_t exec = g.exec_base;
    __builtin___clear_cache((char *)exec, (char *)(exec + x86_off(&g.x)));
    return (const void *)exec;
}

const void *tmpl_emit_chain_tramp(CodeBuf *buf)
{
    const TmplBufEntry *be = buf_entry((uintptr_t)buf->base + (uintptr_t)buf->exec_delta);
    size_t start = (buf->used + 15) & ~(size_t)15;
    if (!be || start + 64 > buf->size)
        return NULL;
    X86Buf x = x86_buf(buf->base + start, buf->size - start);
    x86_alu_ri(&x, X86_ADD, 64, X86_RSP, 8);
    pins_load(&x, &be->pins);   /* r14 is env again (callee-saved) */
    x86_jmp_r(&x, X86_RSI);
    if (x.overflow)
        return NULL;
    buf->used = start + x86_off(&x);
    uintptr_t exec = (uintptr_t)(buf->base + start) + (uintptr_t)buf->exec_delta;
    __builtin___clear_cache((char *)exec, (char *)(exec + x86_off(&x)));
    return (const void *)exec;
}

uintptr_t tmpl_enter(void *env, const void *host)
{
    const TmplBufEntry *e = buf_entry((uintptr_t)host);
    if (!e) {
        fprintf(stderr, "emu: tmpl_enter: %p is not in a code buffer given to tmpl_init\n",
                host);
        abort();   /* a caller bug: there is no sane way to go on */
    }
    uintptr_t (*fn)(void *, const void *) = (uintptr_t (*)(void *, const void *))e->enter;
    return fn(env, host);
}

void tmpl_chain_patch(CodeBuf *buf, uint32_t site, const void *target)
{
    uintptr_t exec_site = (uintptr_t)(buf->base + site) + (uintptr_t)buf->exec_delta;
    int32_t rel = (int32_t)((intptr_t)target - (intptr_t)(exec_site + 4));
    __atomic_store_n((int32_t *)(void *)(buf->base + site), rel, __ATOMIC_RELEASE);
}

/* The latch countdown at a block's entry: sub $1, latch_budget(env); je
 * rel32.  tmpl_latch_off matches its first seven bytes, which fix its length
 * (test_latch_sample_and_off fails if the encoding changes). */
#define LATCH_COUNTDOWN_BYTES 11
_Static_assert(offsetof(CpuCommon, latch_budget) < 0x80, "the countdown's disp8");

/* alone: one 11-byte nop.  Else sub becomes cmp (ModRM /5 -> /7), then je
 * becomes jo, one byte each: every state another thread may run is
 * harmless (cmp; je leaves as a spurious sample when the budget is 1;
 * cmp x, 1 never overflows).  A `jmp` over the countdown cost lua 15% (a
 * taken branch in ~5-cycle blocks); cmp + jo cost awk 6% more than the nop. */
void tmpl_latch_off(CodeBuf *buf, const void *entry, bool alone)
{
    uint8_t *p = (uint8_t *)entry - buf->exec_delta;
    static const uint8_t countdown[] = {0x41, 0x83, 0x6E, offsetof(CpuCommon, latch_budget),
                                        0x01, 0x0F, 0x84};
    static const uint8_t nop11[LATCH_COUNTDOWN_BYTES] = {0x66, 0x66, 0x2E, 0x0F, 0x1F, 0x84,
                                                         0, 0, 0, 0, 0};
    if (memcmp(p, countdown, sizeof countdown))
        return;
    if (alone) {
        memcpy(p, nop11, sizeof nop11);
        return;
    }
    __atomic_store_n(p + 2, (uint8_t)0x7E, __ATOMIC_RELEASE);
    __atomic_store_n(p + 6, (uint8_t)0x80, __ATOMIC_RELEASE);
}

/* ---- small emit helpers ---- */
bool tg_grow(TmplGen *g, void **arr, uint32_t *cap, uint32_t n, size_t elem)
{
    if (n < *cap)
        return true;
    uint32_t c = *cap ? *cap * 2 : 16;
    void *a = realloc(*arr, c * elem);
    if (!a) {
        tg_fail(g, "out of memory");
        return false;
    }
    *arr = a;
    *cap = c;
    return true;
}

void gen_reloc(TmplGen *g, size_t at, TmplRelocKind kind, uint64_t arg)
{
    if (!g->relocatable ||
        !tg_grow(g, (void **)&g->relocs, &g->cap_relocs, g->n_relocs, sizeof *g->relocs))
        return;
    g->relocs[g->n_relocs++] = (TmplReloc){ .offset = (uint32_t)at, .kind = kind, .arg = arg };
}

static size_t jmp_abs(TmplGen *g, uintptr_t target)
{
    size_t site = x86_jmp32(&g->x);
    int64_t rel = (int64_t)target - (int64_t)(g->exec_base + site + 4);
    if (!x86_is_s32(rel))
        tg_fail(g, "epilogue out of rel32 range");
    x86_patch_rel32(&g->x, site, (size_t)((int64_t)site + 4 + rel));
    return site;
}

static void jmp_epilogue(TmplGen *g)
{
    gen_reloc(g, jmp_abs(g, g->epilogue_exec), TMPL_RELOC_EPILOGUE_REL32, 0);
}

/* rax = tag + addend: an imm64 relocated in relocatable code */
static void mov_tag(TmplGen *g, uint64_t addend)
{
    if (g->relocatable)
        gen_reloc(g, x86_movabs(&g->x, X86_RAX, g->tag + addend), TMPL_RELOC_TAG_ABS64, addend);
    else
        x86_mov_ri(&g->x, X86_RAX, g->tag + addend);
}

static void ret_to_loop(TmplGen *g, unsigned code)
{
    mov_tag(g, code);
    jmp_epilogue(g);
}

static void store_imm64(TmplGen *g, X86Mem m, uint64_t v)
{
    if (x86_is_s32((int64_t)v)) {
        x86_store_imm(&g->x, 64, m, (int32_t)v);
    } else {
        x86_mov_ri(&g->x, X86_RAX, v);
        x86_store(&g->x, 64, m, X86_RAX);
    }
}

static void store_pc(TmplGen *g, uint64_t pc)
{
    store_imm64(g, x86_mem(TMPL_REG_ENV, offsetof(CpuCommon, pc)), pc);
}

void gen_add_stub(TmplGen *g, TmplStub s)
{
    if (!tg_grow(g, (void **)&g->stubs, &g->cap_stubs, g->n_stubs, sizeof *g->stubs))
        return;
    g->stubs[g->n_stubs++] = s;
}

bool tg_push_words(TmplGen *g, uint32_t **arr, uint32_t *len, uint32_t *cap, const uint32_t *w,
                   unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (!tg_grow(g, (void **)arr, cap, *len, sizeof **arr))
            return false;
        (*arr)[(*len)++] = w[i];
    }
    return true;
}

void gen_add_stub_wb(TmplGen *g, TmplStub s, const uint32_t *w, unsigned n)
{
    s.wb_n = (uint8_t)n;
    s.wb_first = g->n_stub_wb;
    if (tg_push_words(g, &g->stub_wb, &g->n_stub_wb, &g->cap_stub_wb, w, n))
        gen_add_stub(g, s);
}

static void map_close(TmplGen *g)
{
    uint32_t end = (uint32_t)x86_off(&g->x);
    if (g->n_map && g->map[g->n_map - 1].insn_idx == g->cur_insn) {
        g->map[g->n_map - 1].host_end = end;
        return;
    }
    if (end == (g->n_map ? g->map[g->n_map - 1].host_end : 0))
        return;   /* the insn emitted no host code */
    if (g->n_map == g->cap_map) {
        uint32_t cap = g->cap_map ? g->cap_map * 2 : 16;
        TmplInsnMapEntry *n = realloc(g->map, cap * sizeof *n);
        if (!n) {
            tg_fail(g, "out of memory");
            return;
        }
        g->map = n;
        g->cap_map = cap;
    }
    g->map[g->n_map++] = (TmplInsnMapEntry){end, g->cur_insn};
}

/* ---- control flow ---- */
static void branch_to(TmplGen *g, uint32_t label, int cc /* -1: jmp */)
{
    size_t site = cc < 0 ? x86_jmp32(&g->x) : x86_jcc32(&g->x, (X86Cond)cc);
    if (label >= g->b->n_labels) {
        tg_fail(g, "branch to an unknown label");
        return;
    }
    if (g->label_off[label] != UINT32_MAX) {
        x86_patch_rel32(&g->x, site, g->label_off[label]);
        return;
    }
    if (!tg_grow(g, (void **)&g->fixups, &g->cap_fixups, g->n_fixups, sizeof *g->fixups))
        return;
    g->fixups[g->n_fixups++] = (TmplFixup){label, (uint32_t)site};
}

static void gen_label(TmplGen *g, uint32_t label)
{
    ra_sync(g);
    ra_forget(g);
    addr_forget_all(g);
    if (label >= g->b->n_labels) {
        tg_fail(g, "bad label id");
        return;
    }
    uint32_t off = (uint32_t)x86_off(&g->x);
    g->label_off[label] = off;
    for (uint32_t i = 0; i < g->n_fixups; i++)
        if (g->fixups[i].label == label) {
            x86_patch_rel32(&g->x, g->fixups[i].site, off);
            g->fixups[i] = g->fixups[--g->n_fixups];
            i--;
        }
}

/* The next live op after index i, or NULL. */
static const IrInst *next_live(const TmplGen *g, uint32_t *i)
{
    while (++*i < g->b->n_ops)
        if (!g->b->ops[*i].dead)
            return &g->b->ops[*i];
    return NULL;
}

/* Whether the branch being translated is the only one to label and exit
 * the only goto_tb through its slot (a second exit through a slot jumps to
 * that slot's jmp, which must then be an unconditional one).  Counted once
 * per block (tmpl_translate), not per branch. */
static bool sole_branch_and_exit(const TmplGen *g, uint32_t label, const IrInst *exit)
{
    return label < g->b->n_labels && g->label_refs[label] == 1 &&
           g->slot_uses[exit->c[0]] == 1;
}

/* "brcond c, L; goto_tb s1, X; L: goto_tb s0, Y" with nothing else
 * branching to L and no other exit through s0: the jcc itself can be slot
 * s0's patchable jump, so a taken branch reaches its chained successor in
 * one jump instead of jcc, jmp.  Returns s0 and the index of the goto_tb
 * it replaces, or -1. */
static int fusable_exit(const TmplGen *g, const IrInst *op, uint32_t *goto_idx)
{
    uint32_t i = g->op_idx, label = (uint32_t)op->c[1];
    const IrInst *a = next_live(g, &i), *l = a ? next_live(g, &i) : NULL;
    const IrInst *b = l ? next_live(g, &i) : NULL;
    if (!b || a->opc != IR_OP_goto_tb || l->opc != IR_OP_label || l->c[0] != label ||
        b->opc != IR_OP_goto_tb || a->c[0] == b->c[0] || b->c[0] >= IR_GOTO_TB_SLOTS ||
        g->chain_site[b->c[0]] != UINT32_MAX)
        return -1;
    if (!sole_branch_and_exit(g, label, b))
        return -1;
    *goto_idx = i;
    return (int)b->c[0];
}

/* Emit slot's patchable jump as "jcc rel32" with the rel32 4-byte aligned:
 * the compare just emitted at [cmp_start, now) moves up past the padding
 * (it holds no relocation), so nops never sit between cmp and jcc. */
static void gen_chain_jcc(TmplGen *g, size_t cmp_start, X86Cond cc, unsigned slot, uint64_t pc)
{
    X86Buf *x = &g->x;
    size_t cmp_end = x86_off(x);
    unsigned pad = (unsigned)((4 - ((g->exec_base + cmp_end + 2) & 3)) & 3);
    if (pad) {
        x86_nops(x, pad);
        if (x->overflow)
            return;
        memmove(x->start + cmp_start + pad, x->start + cmp_start, cmp_end - cmp_start);
        X86Buf n = x86_buf(x->start + cmp_start, pad);
        x86_nops(&n, pad);
    }
    size_t site = x86_jcc32(x, cc);
    g->chain_pc[slot] = pc;
    g->chain_site[slot] = (uint32_t)site;
    gen_add_stub(g, (TmplStub){.kind = STUB_GOTO_TB, .slot = (uint8_t)slot,
                               .site = (uint32_t)site, .pc = pc});
}

/* "brcond c, L" where L comes later, holds only "goto_tb s, Y" and is
 * reached from nowhere else (no other branch, no fall-through): a side exit (an extended block's branch that
 * leaves it, frontend/translator.h).  Its jcc goes to a stub that stores
 * the globals dirty here and jumps through slot s, so the fall-through
 * path keeps every register as it is.  Returns s and the goto_tb's index,
 * or -1. */
static int side_exit(const TmplGen *g, const IrInst *op, uint32_t *goto_idx)
{
    uint32_t label = (uint32_t)op->c[1];
    uint32_t i = label < g->b->n_labels ? g->label_at[label] : UINT32_MAX;
    if (i == UINT32_MAX || i <= g->op_idx)
        return -1;
    uint32_t p = i;
    while (p-- > g->op_idx && g->b->ops[p].dead)
        ;
    const IrInst *before = &g->b->ops[p];
    if (before->opc != IR_OP_br && before->opc != IR_OP_goto_tb &&
        before->opc != IR_OP_goto_ptr && before->opc != IR_OP_exit)
        return -1;
    const IrInst *gt = next_live(g, &i);
    if (!gt || gt->opc != IR_OP_goto_tb || gt->c[0] >= IR_GOTO_TB_SLOTS ||
        g->chain_site[gt->c[0]] != UINT32_MAX)
        return -1;
    if (!sole_branch_and_exit(g, label, gt))
        return -1;
    *goto_idx = i;
    return (int)gt->c[0];
}

static void gen_side_exit(TmplGen *g, const IrInst *op, unsigned slot, uint32_t goto_idx)
{
    /* the compare first: loading its operands may evict a register; the
     * stores ra_dirty_globals may emit are movs, which keep the flags */
    X86Cond cc = gen_compare(g, (IrType)op->type, (IrCond)op->c[0], op->args[0], op->args[1]);
    uint32_t w[TMPL_WB_MAX_PAIRS];
    unsigned n = ra_dirty_globals(g, w);
    size_t site = x86_jcc32(&g->x, cc);
    uint64_t pc = g->b->ops[goto_idx].c[1];
    g->chain_pc[slot] = pc;
    g->side_goto[slot] = goto_idx;
    gen_add_stub_wb(g, (TmplStub){.kind = STUB_SIDE_EXIT, .slot = (uint8_t)slot,
                                  .site = (uint32_t)site, .insn = op->insn_idx, .pc = pc},
                    w, n);
    /* chain_site is set when the stub is emitted; until then no other
     * goto_tb may take the slot (side_exit checked) */
}

static void gen_brcond(TmplGen *g, const IrInst *op)
{
    IrCond c = (IrCond)op->c[0];
    if (c == IR_COND_NEVER) {
        return;
    }
    if (c == IR_COND_ALWAYS) {
        ra_sync(g);
        branch_to(g, (uint32_t)op->c[1], -1);
        return;
    }
    /* Operands first (loads), then stores of dirty state, then cmp+jcc:
     * plain movs between the compare and the jump would be fine too, but
     * this order keeps the flags live over nothing. */
    IrTemp a = op->args[0], bb = op->args[1];
    if (!tg_is_const(g, a))
        ra_in(g, a);
    if (!tg_is_const(g, bb))
        ra_in(g, bb);
    uint32_t goto_idx;
    int slot = fusable_exit(g, op, &goto_idx);
    if (slot < 0) {
        slot = side_exit(g, op, &goto_idx);
        if (slot >= 0) {
            gen_side_exit(g, op, (unsigned)slot, goto_idx);
            return;
        }
    }
    ra_sync(g);
    size_t cmp_start = x86_off(&g->x);
    X86Cond cc = gen_compare(g, (IrType)op->type, c, a, bb);
    if (slot >= 0) {
        gen_chain_jcc(g, cmp_start, cc, (unsigned)slot, g->b->ops[goto_idx].c[1]);
        g->fused_goto = goto_idx;
        return;
    }
    branch_to(g, (uint32_t)op->c[1], cc);
}

/* Slot's patchable "jmp rel32" (chain_site), the rel32 4-byte aligned in
 * the executing view so that tmpl_chain_patch can rewrite it atomically.
 * Returns the rel32's offset for the caller to aim. */
static size_t emit_slot_jmp(TmplGen *g, unsigned slot)
{
    uintptr_t at = g->exec_base + x86_off(&g->x) + 1;
    x86_nops(&g->x, (unsigned)((4 - (at & 3)) & 3));
    size_t site = x86_jmp32(&g->x);
    g->chain_site[slot] = (uint32_t)site;
    return site;
}

static void gen_goto_tb(TmplGen *g, const IrInst *op)
{
    unsigned slot = (unsigned)op->c[0];
    if (slot >= IR_GOTO_TB_SLOTS) {
        tg_fail(g, "goto_tb slot out of range");
        return;
    }
    if (g->op_idx == g->fused_goto || g->op_idx == g->side_goto[slot])
        return; /* its brcond's jcc is the slot's jump (gen_chain_jcc) or
                   leads to it (gen_side_exit's stub) */
    ra_writeback_exit(g);
    if (g->chain_site[slot] != UINT32_MAX) {
        /* a second exit through the same slot: fine if it goes to the same
         * pc, it then reuses the first one's patchable jump */
        if (g->chain_pc[slot] != op->c[1]) {
            tg_fail(g, "goto_tb slot used twice with different targets");
            return;
        }
        size_t site = x86_jmp32(&g->x);
        x86_patch_rel32(&g->x, site, g->chain_site[slot] - 1);
        return;
    }
    g->chain_pc[slot] = op->c[1];
    size_t site = emit_slot_jmp(g, slot);
    gen_add_stub(g, (TmplStub){.kind = STUB_GOTO_TB, .slot = (uint8_t)slot,
                               .site = (uint32_t)site, .pc = op->c[1]});
}

static void gen_goto_ptr(TmplGen *g, const IrInst *op)
{
    IrTemp t = op->args[0];
    int r;
    if (tg_is_const(g, t)) {
        r = TMPL_SCRATCH;
        x86_mov_ri(&g->x, r, tg_const(g, t));
    } else {
        r = ra_in(g, t);
    }
    ra_writeback_exit(g);
    X86Buf *x = &g->x;
    /* every value but the pins is home: any other register will do.  A hit
     * needs no env->pc (the block it reaches knows its pc): only the miss
     * stub stores it, for the dispatcher */
    size_t miss = emit_jc_jump(x, r, r == X86_RCX ? X86_RDX : X86_RCX);
    gen_add_stub(g, (TmplStub){.kind = STUB_LOOKUP, .reg = (int8_t)r, .site = (uint32_t)miss});
}

static void gen_exit(TmplGen *g, const IrInst *op)
{
    ra_writeback_exit(g);
    x86_store_imm(&g->x, 32, x86_mem(TMPL_REG_ENV, offsetof(CpuCommon, exit_reason)),
                  (int32_t)op->c[0]);
    store_pc(g, op->c[1]);
    ret_to_loop(g, TMPL_RET_EXIT);
}

/* A stub's stores of the globals that were dirty where it branched off. */
static void emit_stub_wb(TmplGen *g, const TmplStub *s)
{
    for (uint32_t k = 0; k < s->wb_n; k++) {
        uint32_t w = g->stub_wb[s->wb_first + k];
        x86_store(&g->x, (int)((w >> 8) & 0xFF) * 8, x86_mem(TMPL_REG_ENV, (int32_t)(w >> 16)),
                  (int)(w & 0xFF));
    }
}

/* The unchained end of slot's exit to pc, here. */
static void emit_slot_reset(TmplGen *g, unsigned slot, uint64_t pc, uint32_t entry_off)
{
    g->chain_reset[slot] = entry_off + (uint32_t)x86_off(&g->x);
    store_pc(g, pc);
    ret_to_loop(g, slot);
}

static void emit_stubs(TmplGen *g, uint32_t entry_off)
{
    X86Buf *x = &g->x;
    for (uint32_t i = 0; i < g->n_stubs; i++) {
        TmplStub *s = &g->stubs[i];
        x86_patch_rel32(x, s->site, x86_off(x));
        switch (s->kind) {
        case STUB_FAULT: {
            emit_stub_wb(g, s);
            int ar = s->reg;
            if (s->disp) {
                x86_lea(x, 64, X86_RAX, x86_mem(ar, s->disp));
                ar = X86_RAX;
            }
            x86_store(x, 64, x86_mem(TMPL_REG_ENV, offsetof(CpuCommon, exception_addr)), ar);
            uint64_t pc = s->insn < g->b->n_insns ? g->b->insns[s->insn].pc : g->b->pc;
            store_pc(g, pc);
            x86_store_imm(x, 32, x86_mem(TMPL_REG_ENV, offsetof(CpuCommon, exit_reason)),
                          IR_EXIT_EXCEPTION);
            x86_store_imm(x, 32, x86_mem(TMPL_REG_ENV, offsetof(CpuCommon, exception_kind)),
                          s->slot & 0x7F);
            x86_store_imm(x, 32, x86_mem(TMPL_REG_ENV, offsetof(CpuCommon, exception_code)),
                          s->slot >> 7);
            ret_to_loop(g, TMPL_RET_EXIT);
            break;
        }
        case STUB_GOTO_TB:
            emit_slot_reset(g, s->slot, s->pc, entry_off);
            break;
        case STUB_SIDE_EXIT: {
            emit_stub_wb(g, s);
            if (g->skip_counter && s->insn + 1 < g->b->n_insns) {
                mov_tag(g, (uintptr_t)g->skip_counter - g->tag);
                x86_alu_mi(x, X86_ADD, 64, x86_mem(X86_RAX, 0),
                           (int32_t)(g->b->n_insns - s->insn - 1));
            }
            /* the slot's patchable jmp, first to its reset right after it */
            size_t site = emit_slot_jmp(g, s->slot);
            x86_patch_rel32(x, site, x86_off(x));
            emit_slot_reset(g, s->slot, s->pc, entry_off);
            break;
        }
        case STUB_LOOKUP:
            x86_store(x, 64, x86_mem(TMPL_REG_ENV, offsetof(CpuCommon, pc)), s->reg);
            ret_to_loop(g, TMPL_RET_LOOKUP);
            break;
        case STUB_HOT:
            store_pc(g, g->b->pc);
            x86_store_imm(x, 32, x86_mem(TMPL_REG_ENV, offsetof(CpuCommon, exit_reason)),
                          (int32_t)TMPL_EXIT_HOT);
            ret_to_loop(g, TMPL_RET_EXIT);
            break;
        }
    }
}

/* ---- moves and conversions ---- */
void gen_normalize(TmplGen *g, int r, IrType t)
{
    int bits = tg_bits(t);
    if (bits == 8 || bits == 16)
        x86_movzx_rr(&g->x, r, r, bits);
    else if (bits == 32)
        x86_mov_rr(&g->x, 32, r, r);
}

/* A 16-byte value from two 64-bit immediates (low half first). */
static void store_imm128(TmplGen *g, X86Mem dst, uint64_t lo, uint64_t hi)
{
    store_imm64(g, dst, lo);
    dst.disp += 8;
    store_imm64(g, dst, hi);
}

void gen_xmm_from_temp(TmplGen *g, IrTemp t)
{
    if (g->xmm_temp != t)
        x86_movdqu_load(&g->x, TMPL_XMM_SCRATCH, ra_home(g, t));
    g->xmm_temp = t;
    g->xmm_kept = true;
}

void gen_xmm_to_home(TmplGen *g, IrTemp t)
{
    /* a local's store waits (xmm_flush): ld q; st q needs none */
    g->xmm_dirty = !tg_is_global(g, t);
    if (!g->xmm_dirty)
        x86_movdqu_store(&g->x, ra_home(g, t), TMPL_XMM_SCRATCH);
    g->xmm_temp = t;
    g->xmm_kept = true;
}

/* Ops that only read xmm_temp through xmm0: a local that xmm0 holds
 * need not be in its home for them. */
static bool xmm_reader(const TmplGen *g, const IrInst *op)
{
    IrTemp t = g->xmm_temp;
    switch (op->opc) {
    case IR_OP_stenv:
        return ir_type_is_wide((IrType)op->type) && op->args[0] == t;
    case IR_OP_st:
        return ir_type_is_wide((IrType)op->type) && IR_MO_BYTES((IrMemOp)op->c[0]) == 16 &&
               op->args[1] == t;
    default:
        return false;
    }
}

/* Integer work in general registers: leaves xmm0 alone and reads no
 * wide temp (whose home may be stale while xmm0 holds it). */
static bool xmm_untouched(const TmplGen *g, const IrInst *op)
{
    switch (op->opc) {
    case IR_OP_mov: case IR_OP_zext: case IR_OP_sext: case IR_OP_trunc:
    case IR_OP_add: case IR_OP_sub: case IR_OP_mul: case IR_OP_mulhu: case IR_OP_mulhs:
    case IR_OP_divu: case IR_OP_divs: case IR_OP_remu: case IR_OP_rems: case IR_OP_neg:
    case IR_OP_and: case IR_OP_or: case IR_OP_xor: case IR_OP_andc: case IR_OP_not:
    case IR_OP_shl: case IR_OP_shr: case IR_OP_sar: case IR_OP_rotl: case IR_OP_rotr:
    case IR_OP_clz: case IR_OP_ctz: case IR_OP_popcnt: case IR_OP_bswap: case IR_OP_bitrev:
    case IR_OP_extract: case IR_OP_sextract: case IR_OP_deposit:
    case IR_OP_setcond: case IR_OP_movcond:
    case IR_OP_ld: case IR_OP_st: case IR_OP_ldenv: case IR_OP_stenv:
        break;
    default:
        return false;
    }
    if (ir_type_is_wide((IrType)op->type))
        return false;
    const IrOpInfo *oi = &ir_op_info[op->opc];
    for (unsigned k = 0; k < (unsigned)(oi->n_out + oi->n_in) && k < IR_MAX_ARGS; k++)
        if (op->args[k] != IR_TEMP_NONE && ir_type_is_wide((IrType)tg_info(g, op->args[k])->type))
            return false;
    return true;
}

/* xmm_dirty, before any other op: store the local xmm0 holds if it is
 * still needed. */
static void xmm_flush(TmplGen *g)
{
    g->xmm_dirty = false;
    if (g->t[g->xmm_temp].last >= g->op_idx)
        x86_movdqu_store(&g->x, ra_home(g, g->xmm_temp), TMPL_XMM_SCRATCH);
}

static void gen_mov(TmplGen *g, const IrInst *op)
{
    IrTemp out = op->args[0], in = op->args[1];
    if (ir_type_is_wide((IrType)tg_info(g, out)->type)) {
        if (out == in)
            return;
        if (tg_is_const(g, in)) {
            store_imm128(g, ra_home(g, out), tg_info(g, in)->val[0], tg_info(g, in)->val[1]);
        } else {
            gen_xmm_from_temp(g, in);
            gen_xmm_to_home(g, out);
        }
        return;
    }
    if (out == in)
        return;
    /* a constant into a global goes straight to env (its readers in this
     * block use the constant: ir_pass_fold), not through a register that
     * the block's end would store anyway: cc_op and cc_b at every compare,
     * mov x2, #imm */
    IrType ot = (IrType)tg_info(g, out)->type;
    if (g->t[out].pinned && tg_is_const(g, in)) {
        x86_mov_ri(&g->x, g->t[out].reg, tg_const(g, in));
        g->t[out].mem_ok = 0;
        ra_set_kbits(g, out, ra_kbits(g, in));
        return;
    }
    if (tg_is_global(g, out) && tg_is_const(g, in) && (ot == IR_I32 || ot == IR_I64) &&
        (ot == IR_I32 || x86_is_s32((int64_t)tg_const(g, in)))) {
        x86_store_imm(&g->x, ot == IR_I32 ? 32 : 64, ra_home(g, out), (int32_t)tg_const(g, in));
        ra_set_home(g, out);
        return;
    }
    /* a flag global (AArch64 cc_a/cc_b: a compare's operands) is written
     * far more often than read: stored at once, it holds no register (every
     * cmp kept two until the block's end) */
    if (tg_is_global(g, out) && !g->t[out].pinned && (tg_info(g, out)->flags & IR_TEMPF_FLAG) &&
        (ot == IR_I32 || ot == IR_I64) && !tg_is_const(g, in)) {
        int r = ra_in(g, in);
        x86_store(&g->x, tg_bits(ot), ra_home(g, out), r);
        ra_set_home(g, out);
        return;
    }
    /* a global copied from env stays in a register too (clean): "mov x2,
     * x0; ldr x0, [x0, #0x20]" then loads x0 once, not twice */
    if (tg_is_global(g, in) && g->t[in].reg < 0)
        ra_in(g, in);
    int r = ra_out_reg(g, out, in);
    gen_load_to(g, r, in);
    unsigned kb = ra_kbits(g, in);
    ra_bind(g, out, r);
    ra_set_kbits(g, out, kb);
}

/* Does the block read global x again after the current op, before it
 * writes x or reaches a label, branch or call (within a short window)? */
#define REREAD_WINDOW 24
static bool global_read_again(const TmplGen *g, IrTemp x)
{
    const IrBlock *b = g->b;
    uint32_t end = g->op_idx + 1 + REREAD_WINDOW < b->n_ops ? g->op_idx + 1 + REREAD_WINDOW : b->n_ops;
    for (uint32_t i = g->op_idx + 1; i < end; i++) {
        const IrInst *op = &b->ops[i];
        if (op->opc >= IR_OP_COUNT || op->opc == IR_OP_label)
            return false;
        const IrOpInfo *oi = &ir_op_info[op->opc];
        for (unsigned k = oi->n_out; k < (unsigned)(oi->n_out + oi->n_in); k++)
            if (op->args[k] == x)
                return true;
        for (unsigned k = 0; k < oi->n_out; k++)
            if (op->args[k] == x)
                return false;
        if (oi->flags & (IR_OPF_BRANCH | IR_OPF_EXIT | IR_OPF_CALL))
            return false;
    }
    return false;
}

/* Is local out (the i32 trunc of in, at the current op) read once, by an
 * i32 brcond or setcond, with nothing in between that writes in, merges
 * control or calls out?  Then the compare reads in's register at 32 bits
 * and the trunc emits nothing ("cmp w1, #5" of x1 was movl + cmpl). */
#define TRUNC_ALIAS_WINDOW 16
static bool trunc_feeds_compare(const TmplGen *g, IrTemp out, IrTemp in)
{
    const IrBlock *b = g->b;
    uint32_t use = g->t[out].last;
    if (b->temps[out].kind != IR_TEMP_LOCAL || use == UINT32_MAX || use <= g->op_idx ||
        use - g->op_idx > TRUNC_ALIAS_WINDOW || use >= b->n_ops)
        return false;
    const IrInst *u = &b->ops[use];
    if ((u->opc != IR_OP_brcond && u->opc != IR_OP_setcond) || u->type != IR_I32)
        return false;
    for (uint32_t i = g->op_idx + 1; i < use; i++) {
        const IrInst *op = &b->ops[i];
        if (op->dead)
            continue;
        if (op->opc >= IR_OP_COUNT || op->opc == IR_OP_label)
            return false;
        const IrOpInfo *oi = &ir_op_info[op->opc];
        if (oi->flags & (IR_OPF_BRANCH | IR_OPF_EXIT | IR_OPF_CALL))
            return false;
        for (unsigned k = 0; k < (unsigned)(oi->n_out + oi->n_in) && k < IR_MAX_ARGS; k++)
            if (op->args[k] == out || (k < oi->n_out && op->args[k] == in))
                return false;
    }
    /* the compare's operands (setcond: args 1, 2) */
    unsigned first = u->opc == IR_OP_setcond ? 1 : 0;
    return u->args[first] == out || u->args[first + 1] == out;
}

static void gen_conv(TmplGen *g, const IrInst *op)
{
    IrTemp out = op->args[0], in = op->args[1];
    IrType t = (IrType)op->type, from = (IrType)tg_info(g, in)->type;
    X86Buf *x = &g->x;
    if (ir_type_is_wide(from)) {
        int r = ra_alloc(g);
        if (tg_is_const(g, in)) {
            uint64_t v = tg_info(g, in)->val[op->opc == IR_OP_high64];
            x86_mov_ri(x, r, op->opc == IR_OP_high64 ? v : v & (~0ull >> (64 - tg_bits(t))));
        } else {
            X86Mem m = ra_home(g, in);
            if (op->opc == IR_OP_high64)
                m.disp += 8;
            int bits = op->opc == IR_OP_high64 ? 64 : tg_bits(t);
            if (bits < 32)
                x86_movzx_load(x, r, m, bits);
            else
                x86_load(x, bits, r, m);
        }
        ra_bind(g, out, r);
        return;
    }
    if (op->opc == IR_OP_trunc && tg_bits(t) == 32 && tg_bits(from) == 64 &&
        !tg_is_const(g, in) && out != in && !g->t[in].alias && trunc_feeds_compare(g, out, in)) {
        g->t[out].alias = in;
        if (!tg_is_global(g, in) && g->t[in].last < g->t[out].last)
            g->t[in].last = g->t[out].last; /* in's register lives to the compare */
        return;
    }
    if (op->opc == IR_OP_trunc && tg_is_global(g, in) && g->t[in].reg < 0 && out != in &&
        tg_bits(t) < tg_bits(from) && global_read_again(g, in))
        ra_in(g, in); /* read again soon: load it once, into a register (clean) */
    if (op->opc == IR_OP_trunc && tg_is_global(g, in) && g->t[in].reg < 0 && out != in &&
        tg_bits(t) < tg_bits(from)) {
        /* "w1" of a global x1 in env read once: load the low bits only
         * (little-endian) rather than 64 bits and a zero-extension */
        int r = ra_alloc(g), bits = tg_bits(t);
        if (bits < 32)
            x86_movzx_load(x, r, ra_home(g, in), bits);
        else
            x86_load(x, 32, r, ra_home(g, in));
        ra_bind(g, out, r);
        ra_set_kbits(g, out, (unsigned)bits);
        return;
    }
    if (op->opc == IR_OP_trunc && tg_bits(t) == 32 && !tg_is_const(g, in) && g->t[in].reg >= 0 &&
        out != in && tg_bits(from) == 64) {
        /* "movl dst, src": the copy and the zero-extension in one */
        int src = g->t[in].reg;  /* ra_out_reg keeps it: it is the input */
        int r = ra_out_reg(g, out, in);
        x86_mov_rr(x, 32, r, src);
        ra_bind(g, out, r);
        ra_set_kbits(g, out, 32);
        return;
    }
    int r = ra_out_reg(g, out, in);
    gen_load_to(g, r, in);
    unsigned kb = ra_kbits(g, in);
    switch (op->opc) {
    case IR_OP_sext:
        if (tg_bits(from) < 64 && tg_bits(from) < tg_bits(t)) {
            x86_movsx_rr(x, 64, r, r, tg_bits(from));
            gen_normalize(g, r, t);
        }
        break;
    case IR_OP_trunc:
        if (tg_bits(t) < tg_bits(from) && kb > (unsigned)tg_bits(t))
            gen_normalize(g, r, t);
        break;
    default: /* zext, bitcast: already canonical */
        break;
    }
    ra_bind(g, out, r);
    if (op->opc != IR_OP_sext)
        ra_set_kbits(g, out, kb);
}

/* Built in xmm0 and stored whole: a 16-byte load of two 8-byte stores
 * cannot be store-forwarded (a stall of ~10 cycles at the next move). */
static void gen_concat(TmplGen *g, const IrInst *op)
{
    IrTemp lo = op->args[1], hi = op->args[2];
    if (tg_is_const(g, lo) && tg_is_const(g, hi)) {
        store_imm128(g, ra_home(g, op->args[0]), tg_const(g, lo), tg_const(g, hi));
        return;
    }
    for (int k = 0; k < 2; k++) {
        IrTemp in = op->args[1 + k];
        if (k == 1 && tg_is_const(g, in) && tg_const(g, in) == 0)
            break; /* movq zeroed the high half */
        int r = X86_RAX;
        if (tg_is_const(g, in))
            x86_mov_ri(&g->x, r, tg_const(g, in));
        else
            r = ra_in(g, in);
        x86_movq_xmm_r(&g->x, 64, k ? TMPL_XMM_SCRATCH + 1 : TMPL_XMM_SCRATCH, r);
        if (k)
            x86_punpcklqdq(&g->x, TMPL_XMM_SCRATCH, TMPL_XMM_SCRATCH + 1);
    }
    gen_xmm_to_home(g, op->args[0]);
}

/* ---- the driver ---- */
static bool gen_op(TmplGen *g, const IrInst *op)
{
    switch (op->opc) {
    case IR_OP_nop:
    case IR_OP_insn_start:
        return true;
    case IR_OP_label:
        gen_label(g, (uint32_t)op->c[0]);
        return true;
    case IR_OP_br:
        ra_sync(g);
        branch_to(g, (uint32_t)op->c[0], -1);
        return true;
    case IR_OP_brcond:
        gen_brcond(g, op);
        return true;
    case IR_OP_goto_tb:
        gen_goto_tb(g, op);
        return true;
    case IR_OP_goto_ptr:
        gen_goto_ptr(g, op);
        return true;
    case IR_OP_exit:
        gen_exit(g, op);
        return true;
    case IR_OP_mov:
    case IR_OP_bitcast:   /* same bits: i32<->f32, i64<->f64, i128<->v128 */
        gen_mov(g, op);
        return true;
    case IR_OP_zext:
    case IR_OP_sext:
    case IR_OP_trunc:
    case IR_OP_high64:
        gen_conv(g, op);
        return true;
    case IR_OP_concat:
        gen_concat(g, op);
        return true;
    default:
        break;
    }
    if (gen_int_op(g, op) || gen_bits_op(g, op) || gen_mem_op(g, op))
        return true;
    tg_fail(g, "unsupported op");
    return false;
}

static void gen_free(TmplGen *g)
{
    ra_free(g);
    free(g->ver);
    free(g->addr);
    free(g->fold);
    free(g->label_off);
    free(g->label_at);
    free(g->label_refs);
    free(g->fixups);
    free(g->stubs);
    free(g->stub_wb);
}

/* What tmpl_translate and tmpl_install check first: the buffer's entry
 * (NULL + *why if there is none or the tag is misaligned). */
static const TmplBufEntry *start_code(CodeBuf *buf, uintptr_t tag, TmplCode *out,
                                      const char **why)
{
    *why = NULL;
    memset(out, 0, sizeof *out);
    const TmplBufEntry *be = buf_entry((uintptr_t)buf->base + (uintptr_t)buf->exec_delta);
    if (!be)
        *why = "tmpl_init was not called for this code buffer";
    else if (tag & TMPL_RET_MASK)
        *why = "tag must be 8-byte aligned";
    return *why ? NULL : be;
}

bool tmpl_translate(const IrBlock *b, CodeBuf *buf, uintptr_t tag, const TmplMemModel *mm,
                    TmplCode *out, const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    const TmplBufEntry *be = start_code(buf, tag, out, why);
    if (!be)
        return false;
    if (mm && mm->kind != TMPL_MEM_USER) {
        *why = "unsupported memory model";
        return false;
    }
    size_t start = (buf->used + 15) & ~(size_t)15;
    if (start >= buf->size) {
        *why = "code buffer full";
        return false;
    }
    TmplGen g;
    memset(&g, 0, sizeof g);
    g.b = b;
    g.tag = tag;
    g.epilogue_exec = be->epilogue;
    g.pins = &be->pins;
    g.x = x86_buf(buf->base + start, buf->size - start);
    g.exec_base = (uintptr_t)(buf->base + start) + (uintptr_t)buf->exec_delta;
    for (int s = 0; s < IR_GOTO_TB_SLOTS; s++) {
        g.chain_site[s] = g.chain_reset[s] = UINT32_MAX;
        g.side_goto[s] = UINT32_MAX;
    }
    g.fused_goto = UINT32_MAX;
    g.cur_insn = 0;
    g.relocatable = mm && mm->relocatable;
    g.limit_guard = mm ? mm->limit_guard : 0;
    g.skip_counter = mm ? mm->skip_counter : NULL;
    if (g.relocatable &&
        ((mm->exec_counter && (uintptr_t)mm->exec_counter - tag >= 4096) ||
         (mm->skip_counter && (uintptr_t)mm->skip_counter - tag >= 4096))) {
        *why = "relocatable code needs its counters within the tag's object";
        return false;
    }
    if (!ra_init(&g) || !addr_init(&g) || !addr_fold_init(&g)) {
        *why = "out of memory";
        gen_free(&g);
        return false;
    }
    g.label_off = malloc((b->n_labels ? b->n_labels : 1) * sizeof(uint32_t));
    if (!g.label_off) {
        *why = "out of memory";
        gen_free(&g);
        return false;
    }
    g.label_at = malloc((b->n_labels ? b->n_labels : 1) * sizeof(uint32_t));
    g.label_refs = calloc(b->n_labels ? b->n_labels : 1, sizeof(uint32_t));
    if (!g.label_at || !g.label_refs) {
        *why = "out of memory";
        gen_free(&g);
        return false;
    }
    for (uint32_t l = 0; l < b->n_labels; l++)
        g.label_off[l] = g.label_at[l] = UINT32_MAX;
    /* where the labels are, who branches to them, which slots are taken:
     * for fusable_exit and side_exit */
    for (uint32_t i = 0; i < b->n_ops; i++) {
        const IrInst *o = &b->ops[i];
        if (o->dead)
            continue;
        uint64_t l = o->opc == IR_OP_label || o->opc == IR_OP_br ? o->c[0]
                     : o->opc == IR_OP_brcond                     ? o->c[1]
                                                                  : UINT64_MAX;
        if (l < b->n_labels) {
            if (o->opc == IR_OP_label)
                g.label_at[l] = i;
            else
                g.label_refs[l]++;
        }
        if (o->opc == IR_OP_goto_tb && o->c[0] < IR_GOTO_TB_SLOTS)
            g.slot_uses[o->c[0]]++;
    }
    if (mm && mm->latch_sample) {
        /* tier-up: count down the CPU's latch budget; at zero leave before
         * anything has run (the --stats counter below included, so an
         * entry is counted once).  One env operand, the exit out of line
         * (was: movabs of a per-block counter, sub, jne over an inline exit) */
        x86_alu_mi(&g.x, X86_SUB, 32, x86_mem(TMPL_REG_ENV, offsetof(CpuCommon, latch_budget)),
                   1);
        size_t site = x86_jcc32(&g.x, X86_CC_E);
        gen_add_stub(&g, (TmplStub){.kind = STUB_HOT, .site = (uint32_t)site});
    }
    if (mm && mm->exec_counter) {
        /* --stats: count every entry that runs the block; rax is free at a block entry */
        mov_tag(&g, (uintptr_t)mm->exec_counter - tag);
        x86_alu_mi(&g.x, X86_ADD, 64, x86_mem(X86_RAX, 0), 1);
    }

    for (uint32_t i = 0; i < b->n_ops && !g.why; i++) {
        const IrInst *op = &b->ops[i];
        if (op->dead)
            continue;
        g.op_idx = i;
        if (op->insn_idx != g.cur_insn) {
            map_close(&g);
            g.cur_insn = op->insn_idx;
        }
        /* ops that emit nothing (insn boundaries, folded addresses) or only
         * integer work keep what xmm0 holds; others store it if it is a
         * local still needed (xmm_flush) unless they only read it */
        bool folded = addr_folded_def(&g, op);
        bool keep = g.xmm_temp && (op->opc == IR_OP_insn_start || folded || xmm_untouched(&g, op));
        if (g.xmm_dirty && !keep && !xmm_reader(&g, op))
            xmm_flush(&g);
        g.xmm_kept = keep;
        if (!folded)
            gen_op(&g, op);
        if (!g.xmm_kept)
            g.xmm_temp = 0;
        addr_note_op(&g, op);
        ra_end_op(&g, op);
        if (g.x.overflow)
            tg_fail(&g, "code buffer full");
    }
    if (!g.why && g.n_fixups)
        tg_fail(&g, "branch to a label that is never placed");
    map_close(&g);
    emit_stubs(&g, (uint32_t)start);
    if (g.x.overflow)
        tg_fail(&g, "code buffer full");
    if (g.why) {
        *why = g.why;
        free(g.map);
        free(g.relocs);
        free(g.wb);
        gen_free(&g);
        return false;
    }
    out->entry_offset = (uint32_t)start;
    out->size = (uint32_t)x86_off(&g.x);
    for (int s = 0; s < IR_GOTO_TB_SLOTS; s++) {
        out->chain_site[s] = g.chain_site[s] == UINT32_MAX ? UINT32_MAX
                                                           : (uint32_t)start + g.chain_site[s];
        out->chain_reset[s] = g.chain_reset[s];
    }
    out->insn_map = g.map;
    out->n_insn_map = g.n_map;
    out->relocs = g.relocs;
    out->n_relocs = g.n_relocs;
    out->wb = g.wb;
    out->n_wb = g.n_wb;
    buf->used = start + out->size;
    __builtin___clear_cache((char *)g.exec_base, (char *)(g.exec_base + out->size));
    gen_free(&g);
    return true;
}

/* ---- installing stored code ---- */

static bool reloc_ok(const TmplImage *img, const TmplReloc *r)
{
    unsigned width = r->kind == TMPL_RELOC_TAG_ABS64 || r->kind == TMPL_RELOC_HELPER_ABS64 ? 8 : 4;
    if (r->kind < TMPL_RELOC_TAG_ABS64 || r->kind > TMPL_RELOC_HELPER_ABS64)
        return false;
    if (r->offset > img->size || img->size - r->offset < width)
        return false;
    if (r->kind == TMPL_RELOC_HELPER_REL32 || r->kind == TMPL_RELOC_HELPER_ABS64)
        return r->arg < IR_HELPER_COUNT && ir_helper_info[r->arg].fn;
    return r->kind != TMPL_RELOC_TAG_ABS64 || r->arg < 4096;
}

static const char *image_check(const TmplImage *img, uintptr_t exec_start)
{
    if (!img->code || img->size == 0 || img->size > (1u << 24))
        return "bad code size";
    for (uint32_t i = 0; i < img->n_relocs; i++)
        if (!reloc_ok(img, &img->relocs[i]))
            return "bad relocation";
    for (int s = 0; s < IR_GOTO_TB_SLOTS; s++) {
        uint32_t site = img->chain_site[s], reset = img->chain_reset[s];
        if ((site == UINT32_MAX) != (reset == UINT32_MAX))
            return "bad chain slot";
        if (site != UINT32_MAX &&
            (site < 1 || site > img->size - 4 || ((exec_start + site) & 3) || reset >= img->size))
            return "bad chain slot";
    }
    uint32_t prev = 0;
    for (uint32_t i = 0; i < img->n_insn_map; i++) {
        if (img->insn_map[i].host_end < prev || img->insn_map[i].host_end > img->size)
            return "bad insn map";
        prev = img->insn_map[i].host_end;
    }
    if (!tmpl_wb_valid(img->wb, img->n_wb, img->size))
        return "bad write-back map";
    return NULL;
}

bool tmpl_install(CodeBuf *buf, uintptr_t tag, const TmplImage *img, TmplCode *out,
                  const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    const TmplBufEntry *be = start_code(buf, tag, out, why);
    if (!be)
        return false;
    size_t start = (buf->used + 15) & ~(size_t)15;
    uintptr_t exec = (uintptr_t)(buf->base + start) + (uintptr_t)buf->exec_delta;
    if ((*why = image_check(img, exec)))
        return false;
    if (start + img->size > buf->size) {
        *why = "code buffer full";
        return false;
    }
    TmplInsnMapEntry *map = NULL;
    if (img->n_insn_map) {
        map = malloc(img->n_insn_map * sizeof *map);
        if (!map) {
            *why = "out of memory";
            return false;
        }
        memcpy(map, img->insn_map, img->n_insn_map * sizeof *map);
    }
    uint32_t *wb = NULL;
    if (img->n_wb) {
        wb = malloc(img->n_wb * sizeof *wb);
        if (!wb) {
            free(map);
            *why = "out of memory";
            return false;
        }
        memcpy(wb, img->wb, img->n_wb * sizeof *wb);
    }
    uint8_t *w = buf->base + start;
    memcpy(w, img->code, img->size);
    for (uint32_t i = 0; i < img->n_relocs; i++) {
        const TmplReloc *r = &img->relocs[i];
        uint64_t v = 0;
        int64_t rel = 0;
        switch ((TmplRelocKind)r->kind) {
        case TMPL_RELOC_TAG_ABS64:
            v = tag + r->arg;
            memcpy(w + r->offset, &v, 8);
            continue;
        case TMPL_RELOC_HELPER_ABS64:
            v = (uint64_t)(uintptr_t)ir_helper_info[r->arg].fn;
            memcpy(w + r->offset, &v, 8);
            continue;
        case TMPL_RELOC_EPILOGUE_REL32:
            rel = (int64_t)be->epilogue - (int64_t)(exec + r->offset + 4);
            break;
        case TMPL_RELOC_HELPER_REL32:
            rel = (int64_t)(uintptr_t)ir_helper_info[r->arg].fn - (int64_t)(exec + r->offset + 4);
            break;
        }
        if (!x86_is_s32(rel)) {
            free(map);
            free(wb);
            *why = "call or jump target out of rel32 range here";
            return false;
        }
        int32_t r32 = (int32_t)rel;
        memcpy(w + r->offset, &r32, 4);
    }
    out->entry_offset = (uint32_t)start;
    out->size = img->size;
    for (int s = 0; s < IR_GOTO_TB_SLOTS; s++) {
        out->chain_site[s] = img->chain_site[s] == UINT32_MAX ? UINT32_MAX
                                                              : (uint32_t)start + img->chain_site[s];
        out->chain_reset[s] = img->chain_reset[s] == UINT32_MAX
                                  ? UINT32_MAX
                                  : (uint32_t)start + img->chain_reset[s];
    }
    out->insn_map = map;
    out->n_insn_map = img->n_insn_map;
    out->wb = wb;
    out->n_wb = img->n_wb;
    buf->used = start + img->size;
    __builtin___clear_cache((char *)exec, (char *)(exec + img->size));
    return true;
}
