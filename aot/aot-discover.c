/*
 * aot-discover.c - find the block starts of one module: seeds from the ELF
 * file (aot-elf.c), recursive descent over the successors of each accepted
 * block, then a linear sweep of the executable sections.
 *
 * Every candidate is lifted by the frontend (GuestArch.translate, the same
 * call the dispatcher makes), so block boundaries are the dispatcher's and an
 * undefined instruction is recognised exactly as at run time.  Successors of
 * a block come from its IR exits (goto_tb targets, exits that continue at a
 * known pc: after a syscall, a block cut at max_insns) and from decoding its
 * last instruction (return sites after BL/BLR).
 */
#include "aot/aot.h"

#include <stdlib.h>
#include <string.h>

enum { ST_QUEUED = 1, ST_ACCEPTED, ST_REJECTED };

typedef struct Entry {
    uint64_t pc;       /* 0: empty slot */
    uint32_t size;     /* guest bytes of the accepted block */
    uint8_t src;
    uint8_t state;
} Entry;

typedef struct Ctx {
    const AotModule *m;
    const GuestCodeReader *code;
    const GuestArch *arch;
    uint32_t flags;
    unsigned max_insns;
    unsigned sources;
    Entry *tab;
    size_t cap, n;     /* cap: power of two */
    uint64_t *stack;
    size_t n_stack, cap_stack;
    AotResult *out;
    bool oom;
} Ctx;

static size_t slot_of(uint64_t pc, size_t cap)
{
    uint64_t h = (pc >> 2) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (cap - 1);
}

static Entry *find(Ctx *c, uint64_t pc)
{
    for (size_t i = slot_of(pc, c->cap);; i = (i + 1) & (c->cap - 1)) {
        if (c->tab[i].pc == pc)
            return &c->tab[i];
        if (!c->tab[i].pc)
            return NULL;
    }
}

static bool grow(Ctx *c)
{
    size_t cap = c->cap * 2;
    Entry *t = calloc(cap, sizeof *t);
    if (!t)
        return false;
    for (size_t i = 0; i < c->cap; i++) {
        if (!c->tab[i].pc)
            continue;
        size_t j = slot_of(c->tab[i].pc, cap);
        while (t[j].pc)
            j = (j + 1) & (cap - 1);
        t[j] = c->tab[i];
    }
    free(c->tab);
    c->tab = t;
    c->cap = cap;
    return true;
}

/* Insert pc (state st, source src) if absent; returns the entry either way
 * (NULL when out of memory). */
static Entry *insert(Ctx *c, uint64_t pc, uint8_t src, uint8_t st, bool *added)
{
    *added = false;
    Entry *e = find(c, pc);
    if (e)
        return e;
    if ((c->n + 1) * 2 > c->cap && !grow(c)) {
        c->oom = true;
        return NULL;
    }
    size_t i = slot_of(pc, c->cap);
    while (c->tab[i].pc)
        i = (i + 1) & (c->cap - 1);
    c->tab[i] = (Entry){ .pc = pc, .src = src, .state = st };
    c->n++;
    *added = true;
    return &c->tab[i];
}

static void push(Ctx *c, uint64_t pc, AotSource src)
{
    if (!pc || (pc & 3) || !aot_module_in_text(c->m, pc))
        return;
    bool added;
    if (!insert(c, pc, (uint8_t)src, ST_QUEUED, &added) || !added)
        return;
    if (c->n_stack == c->cap_stack) {
        size_t cap = c->cap_stack ? c->cap_stack * 2 : 1024;
        uint64_t *s = realloc(c->stack, cap * sizeof *s);
        if (!s) {
            c->oom = true;
            return;
        }
        c->stack = s;
        c->cap_stack = cap;
    }
    c->stack[c->n_stack++] = pc;
}

#define MAX_SUCC 8
#define MAX_PTR 16
typedef struct Lifted {
    bool ok;
    uint32_t size;
    unsigned n_succ, n_ptr;
    uint64_t succ[MAX_SUCC];
    uint64_t ptr[MAX_PTR];   /* ADRP+ADD results inside the text */
} Lifted;

/* ADRP Xd / ADD Xd, Xd, #lo12 pairs (the usual way to take a function's
 * address) in the block's bytes. */
static void scan_adrp(Ctx *c, const IrBlock *b, Lifted *l)
{
    uint32_t words[512];
    uint32_t n = b->guest_size / 4;
    if (n > 512)
        n = 512;
    if (n < 2 || !c->code->read(c->code->opaque, b->pc, words, n * 4))
        return;
    for (uint32_t i = 0; i + 1 < n && l->n_ptr < MAX_PTR; i++) {
        unsigned rd, rd2, rn;
        uint64_t page, imm;
        if (!aot_a64_adrp(words[i], b->pc + 4 * i, &rd, &page))
            continue;
        /* the ADD usually follows at once, sometimes a few insns later */
        for (uint32_t k = i + 1; k < n && k <= i + 4; k++) {
            if (aot_a64_add_imm(words[k], &rd2, &rn, &imm) && rn == rd) {
                uint64_t t = page + imm;
                if (!(t & 3) && aot_module_in_text(c->m, t))
                    l->ptr[l->n_ptr++] = t;
                break;
            }
        }
    }
}

static void add_succ(Lifted *l, uint64_t pc)
{
    if (l->n_succ < MAX_SUCC)
        l->succ[l->n_succ++] = pc;
}

/* Lift the block at pc and judge it.  sweep: also require every direct
 * branch target to lie in the module's text. */
static Lifted lift(Ctx *c, uint64_t pc, bool sweep)
{
    Lifted l = { 0 };
    IrBlock *b = c->arch->translate(pc, c->flags, c->code, c->max_insns);
    if (!b)
        return l;
    c->out->lifted_insns += b->n_insns;
    bool bad = b->guest_size == 0;
    for (uint32_t i = 0; i < b->n_ops && !bad; i++) {
        const IrInst *op = &b->ops[i];
        if (op->opc == IR_OP_goto_tb) {
            if (sweep && !aot_module_in_text(c->m, op->c[1]))
                bad = true;
            add_succ(&l, op->c[1]);
        } else if (op->opc == IR_OP_exit) {
            switch (op->c[0]) {
            case IR_EXIT_UNDEF:
                bad = true;
                break;
            case IR_EXIT_FETCH_FAULT:
                bad = op->c[1] == pc;
                break;
            case IR_EXIT_NONE:
            case IR_EXIT_SYSCALL:
                add_succ(&l, op->c[1]);
                break;
            default:
                break;
            }
        }
    }
    if (!bad && b->n_insns) {
        uint64_t last = b->insns[b->n_insns - 1].pc;
        uint32_t insn;
        if (c->code->read(c->code->opaque, last, &insn, 4)) {
            AotBranch br = aot_a64_branch(insn, last);
            if (br.kind == AOT_BR_B || br.kind == AOT_BR_BL || br.kind == AOT_BR_COND) {
                if (sweep && !aot_module_in_text(c->m, br.target))
                    bad = true;
                add_succ(&l, br.target);
            }
            if (br.kind == AOT_BR_BL || br.kind == AOT_BR_CALL_INDIRECT)
                add_succ(&l, last + 4);   /* the return site */
        }
    }
    l.ok = !bad;
    l.size = b->guest_size;
    if (l.ok && (c->sources & (1u << AOT_SRC_POINTER)))
        scan_adrp(c, b, &l);
    ir_block_free(b);
    return l;
}

/* Lift everything queued; successors are queued with source `succ_src`
 * when descent is enabled. */
static void drain(Ctx *c, AotSource succ_src)
{
    bool descent = c->sources & (1u << AOT_SRC_DESCENT);
    while (c->n_stack && !c->oom) {
        uint64_t pc = c->stack[--c->n_stack];
        Lifted l = lift(c, pc, false);
        Entry *e = find(c, pc);
        e->state = l.ok ? ST_ACCEPTED : ST_REJECTED;
        e->size = l.size;
        if (l.ok && descent)
            for (unsigned i = 0; i < l.n_succ; i++)
                push(c, l.succ[i], succ_src);
        if (l.ok)
            for (unsigned i = 0; i < l.n_ptr; i++)
                push(c, l.ptr[i], AOT_SRC_POINTER);
    }
}

static void sweep(Ctx *c)
{
    for (size_t r = 0; r < c->m->n_text && !c->oom; r++) {
        uint64_t s = (c->m->text[r].start + 3) & ~3ull, end = c->m->text[r].end;
        while (s + 4 <= end && !c->oom) {
            Entry *e = find(c, s);
            if (e && e->state == ST_ACCEPTED) {
                s += e->size > 4 ? e->size : 4;
                continue;
            }
            if (e) {   /* rejected before */
                s += 4;
                continue;
            }
            Lifted l = lift(c, s, true);
            bool added;
            e = insert(c, s, AOT_SRC_SWEEP, l.ok ? ST_ACCEPTED : ST_REJECTED, &added);
            if (!e)
                return;
            if (!l.ok) {
                s += 4;
                continue;
            }
            e->size = l.size;
            if (c->sources & (1u << AOT_SRC_DESCENT))
                for (unsigned i = 0; i < l.n_succ; i++)
                    push(c, l.succ[i], AOT_SRC_SWEEP);
            for (unsigned i = 0; i < l.n_ptr; i++)
                push(c, l.ptr[i], AOT_SRC_POINTER);
            /* alignment padding: the code after a run of NOPs is where a
             * function starts, though the block began in the padding */
            uint32_t w;
            if (c->code->read(c->code->opaque, s, &w, 4) && w == AOT_A64_NOP) {
                uint64_t t = s + 4;
                while (t < s + l.size && c->code->read(c->code->opaque, t, &w, 4) &&
                       w == AOT_A64_NOP)
                    t += 4;
                if (t < s + l.size)
                    push(c, t, AOT_SRC_SWEEP);
            }
            drain(c, AOT_SRC_SWEEP);
            s += l.size > 4 ? l.size : 4;
        }
    }
}

static int block_cmp(const void *a, const void *b)
{
    const AotBlock *x = a, *y = b;
    return x->pc < y->pc ? -1 : x->pc > y->pc;
}

bool aot_discover(const AotModule *m, const GuestCodeReader *code, const GuestArch *arch,
                  uint32_t flags, unsigned max_insns, const AotOptions *opt, AotResult *out)
{
    memset(out, 0, sizeof *out);
    Ctx c = { .m = m, .code = code, .arch = arch, .flags = flags,
              .max_insns = max_insns ? max_insns : 512,
              .sources = opt && opt->sources ? opt->sources : (1u << AOT_SRC_COUNT) - 1,
              .cap = 1024, .out = out };
    c.tab = calloc(c.cap, sizeof *c.tab);
    if (!c.tab)
        return false;
    /* seeds by source, so a start found several ways is credited to the
     * first in AotSource order */
    for (unsigned src = AOT_SRC_ENTRY; src <= AOT_SRC_POINTER; src++) {
        if (!(c.sources & (1u << src)))
            continue;
        for (size_t i = 0; i < m->n_seeds; i++)
            if (m->seeds[i].src == src)
                push(&c, m->seeds[i].pc, (AotSource)src);
    }
    drain(&c, AOT_SRC_DESCENT);
    if (c.sources & (1u << AOT_SRC_SWEEP))
        sweep(&c);
    bool ok = !c.oom;
    if (ok) {
        size_t n = 0;
        for (size_t i = 0; i < c.cap; i++)
            n += c.tab[i].pc && c.tab[i].state == ST_ACCEPTED;
        out->blocks = malloc((n ? n : 1) * sizeof *out->blocks);
        ok = out->blocks != NULL;
        for (size_t i = 0; ok && i < c.cap; i++) {
            const Entry *e = &c.tab[i];
            if (!e->pc)
                continue;
            if (e->state == ST_ACCEPTED) {
                out->blocks[out->n_blocks++] = (AotBlock){ e->pc, e->src };
                out->per_src[e->src]++;
            } else {
                out->rejected++;
            }
        }
        if (ok)
            qsort(out->blocks, out->n_blocks, sizeof *out->blocks, block_cmp);
    }
    free(c.tab);
    free(c.stack);
    if (!ok)
        aot_result_free(out);
    return ok;
}

void aot_result_free(AotResult *r)
{
    free(r->blocks);
    memset(r, 0, sizeof *r);
}
