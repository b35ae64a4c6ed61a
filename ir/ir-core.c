/*
 * ir-core.c - IR basics: types, the op table generated from ir-ops.def,
 * conditions, blocks, temps (globals, locals, deduplicated constants),
 * labels and the raw emitter ir_emit().
 *
 *   IrBlock *b = ir_block_new(&globals, 0x1000, 0);
 *   IrTemp c = ir_const(b, IR_I64, 4);       // same id for the same value
 *   uint32_t i = ir_emit(b, IR_OP_add, IR_I64, (IrTemp[]){t, x, c}, NULL);
 */
#include "ir/ir.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir-eval.h"
#include "ir/ir-internal.h"

const IrOpInfo ir_op_info[IR_OP_COUNT] = {
#define DEF(nm, o, i, c, f) [IR_OP_##nm] = {.name = #nm, .n_out = o, .n_in = i, .n_const = c, .flags = f},
#include "ir/ir-ops.def"
#undef DEF
};

_Static_assert(IR_MAX_ARGS >= 6, "call needs 1 output + 5 inputs");

void ir_oom(void)
{
    fputs("emu: out of memory in the IR\n", stderr);
    abort();
}

unsigned ir_type_bits(IrType t)
{
    return ir_eval_width(t);
}

const char *ir_type_name(IrType t)
{
    static const char *const names[IR_TYPE_COUNT] = {
        [IR_VOID] = "void", [IR_I8] = "i8",     [IR_I16] = "i16", [IR_I32] = "i32",
        [IR_I64] = "i64",   [IR_I128] = "i128", [IR_F32] = "f32", [IR_F64] = "f64",
        [IR_V128] = "v128",
    };
    return (unsigned)t < IR_TYPE_COUNT ? names[t] : "?";
}

/* ---- conditions ------------------------------------------------------- */
const char *ir_cond_name(IrCond c)
{
    static const char *const names[IR_COND_COUNT] = {
        "eq", "ne", "lt", "ge", "le", "gt", "ltu", "geu", "leu", "gtu",
        "tsteq", "tstne", "always", "never",
    };
    return (unsigned)c < IR_COND_COUNT ? names[c] : "?";
}

IrCond ir_cond_invert(IrCond c)
{
    static const IrCond inv[IR_COND_COUNT] = {
        [IR_COND_EQ] = IR_COND_NE,       [IR_COND_NE] = IR_COND_EQ,
        [IR_COND_LT] = IR_COND_GE,       [IR_COND_GE] = IR_COND_LT,
        [IR_COND_LE] = IR_COND_GT,       [IR_COND_GT] = IR_COND_LE,
        [IR_COND_LTU] = IR_COND_GEU,     [IR_COND_GEU] = IR_COND_LTU,
        [IR_COND_LEU] = IR_COND_GTU,     [IR_COND_GTU] = IR_COND_LEU,
        [IR_COND_TSTEQ] = IR_COND_TSTNE, [IR_COND_TSTNE] = IR_COND_TSTEQ,
        [IR_COND_ALWAYS] = IR_COND_NEVER, [IR_COND_NEVER] = IR_COND_ALWAYS,
    };
    return (unsigned)c < IR_COND_COUNT ? inv[c] : c;
}

IrCond ir_cond_swap(IrCond c)
{
    static const IrCond sw[IR_COND_COUNT] = {
        [IR_COND_EQ] = IR_COND_EQ,       [IR_COND_NE] = IR_COND_NE,
        [IR_COND_LT] = IR_COND_GT,       [IR_COND_GE] = IR_COND_LE,
        [IR_COND_LE] = IR_COND_GE,       [IR_COND_GT] = IR_COND_LT,
        [IR_COND_LTU] = IR_COND_GTU,     [IR_COND_GEU] = IR_COND_LEU,
        [IR_COND_LEU] = IR_COND_GEU,     [IR_COND_GTU] = IR_COND_LTU,
        [IR_COND_TSTEQ] = IR_COND_TSTEQ, [IR_COND_TSTNE] = IR_COND_TSTNE,
        [IR_COND_ALWAYS] = IR_COND_ALWAYS, [IR_COND_NEVER] = IR_COND_NEVER,
    };
    return (unsigned)c < IR_COND_COUNT ? sw[c] : c;
}

bool ir_cond_eval(IrCond c, IrType t, uint64_t a, uint64_t b)
{
    return ir_eval_cond(c, t, a, b);
}

uint64_t ir_rmw_apply(IrRmwOp op, unsigned bytes, uint64_t old, uint64_t val)
{
    return ir_eval_rmw(op, bytes, old, val);
}

/* ---- globals ---------------------------------------------------------- */
IrTemp ir_global_register(IrGlobalSet *set, IrType type, uint32_t env_offset,
                          const char *name, unsigned flags)
{
    if (set->count == 0) {
        memset(&set->temps[0], 0, sizeof(set->temps[0])); /* reserved temp 0 */
        set->count = 1;
    }
    if (set->count >= IR_MAX_GLOBALS) {
        fprintf(stderr, "emu: too many IR globals (registering %s)\n", name ? name : "?");
        return IR_TEMP_NONE;
    }
    IrTemp id = set->count++;
    IrTempInfo *ti = &set->temps[id];
    memset(ti, 0, sizeof(*ti));
    ti->kind = IR_TEMP_GLOBAL;
    ti->type = (uint8_t)type;
    ti->flags = (uint16_t)flags;
    ti->env_offset = env_offset;
    ti->name = name;
    return id;
}

/* ---- blocks ----------------------------------------------------------- */
static void *grow(void *p, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    uint32_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(p, (size_t)n * elem);
    if (!q)
        ir_oom();
    *cap = n;
    return q;
}

/* An IrBlock plus memory private to ir/.  Translation makes and frees one
 * block per guest block, so each thread keeps its last freed block (arrays
 * and all) for the next ir_block_new: no malloc/realloc churn per block. */
typedef struct IrBlockMem {
    IrBlock b;
    void *scratch;       /* ir_block_scratch(): the passes' working arrays */
    size_t scratch_cap;
    bool unsimplified;   /* see ir_block_unsimplified() */
} IrBlockMem;

#define SPARE_MAX_OPS 4096 /* don't keep the arrays of a freak block */

static __thread IrBlockMem *spare_block;
static __thread bool spare_registered;
static pthread_key_t spare_key;
static bool spare_key_ok;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void block_release(IrBlockMem *m)
{
    free(m->b.temps);
    free(m->b.ops);
    free(m->b.insns);
    free(m->b.const_tab);
    free(m->scratch);
    free(m);
}

/* Thread exit: free the thread's spare block (runs in the exiting thread). */
static void spare_destroy(void *unused)
{
    (void)unused;
    if (spare_block) {
        block_release(spare_block);
        spare_block = NULL;
    }
}

static void spare_key_init(void)
{
    spare_key_ok = pthread_key_create(&spare_key, spare_destroy) == 0;
}

void *ir_block_scratch(IrBlock *b, size_t bytes)
{
    IrBlockMem *m = (IrBlockMem *)b;
    if (bytes == 0)
        bytes = 1;
    if (bytes > m->scratch_cap) {
        size_t n = m->scratch_cap ? m->scratch_cap : 1024;
        while (n < bytes)
            n *= 2;
        free(m->scratch);
        m->scratch = malloc(n);
        if (!m->scratch)
            ir_oom();
        m->scratch_cap = n;
    }
    memset(m->scratch, 0, bytes);
    return m->scratch;
}

IrBlock *ir_block_new(const IrGlobalSet *globals, uint64_t pc, uint32_t flags)
{
    IrBlockMem *m = spare_block;
    IrBlock *b;
    if (m) {
        spare_block = NULL;
        b = &m->b;
        b->n_ops = b->n_insns = b->n_labels = 0;
        b->guest_size = 0;
        b->flags_dead_slots = 0;
        b->ptr_flags_dead = false;
        b->read_before = b->read_after = 0;
        b->n_consts = 0;
        m->unsimplified = false;
        if (b->const_tab_cap)
            memset(b->const_tab, 0, b->const_tab_cap * sizeof(uint32_t));
    } else {
        m = calloc(1, sizeof(*m));
        if (!m)
            ir_oom();
        b = &m->b;
    }
    b->globals = globals;
    b->pc = pc;
    b->flags = flags;
    b->simplify = true;
    uint32_t ng = globals && globals->count ? globals->count : 1;
    b->temps = grow(b->temps, &b->cap_temps, ng + 64, sizeof(IrTempInfo));
    memset(&b->temps[0], 0, sizeof(IrTempInfo));
    if (ng > 1)
        memcpy(&b->temps[1], &globals->temps[1], (ng - 1) * sizeof(IrTempInfo));
    b->n_temps = ng;
    b->ops = grow(b->ops, &b->cap_ops, 64, sizeof(IrInst));
    b->insns = grow(b->insns, &b->cap_insns, 16, sizeof(IrGuestInsn));
    return b;
}

void ir_block_free(IrBlock *b)
{
    if (!b)
        return;
    IrBlockMem *m = (IrBlockMem *)b;
    if (!spare_block && b->cap_ops <= SPARE_MAX_OPS) {
        if (!spare_registered) {
            pthread_once(&spare_once, spare_key_init);
            if (!spare_key_ok || pthread_setspecific(spare_key, &spare_block) != 0)
                goto release; /* no way to free it at thread exit: don't keep it */
            spare_registered = true;
        }
        spare_block = m;
        return;
    }
release:
    block_release(m);
}

void ir_compact(IrBlock *b)
{
    /* ops before the first dead one (and their insns) stay where they are */
    uint32_t first = 0;
    while (first < b->n_ops && !b->ops[first].dead)
        first++;
    if (first == b->n_ops)
        return;
    uint32_t j = first, k = 0;
    while (k < b->n_insns && b->insns[k].first_op < first)
        k++;
    for (uint32_t i = first; i < b->n_ops; i++) {
        /* keep the insn table pointing at the (never dead) insn_start ops */
        while (k < b->n_insns && b->insns[k].first_op <= i) {
            if (b->insns[k].first_op == i)
                b->insns[k].first_op = j;
            k++;
        }
        if (b->ops[i].dead)
            continue;
        if (j != i)
            b->ops[j] = b->ops[i];
        j++;
    }
    b->n_ops = j;
}

/* ---- temps ------------------------------------------------------------ */
static IrTemp new_temp(IrBlock *b, IrTempKind kind, IrType t)
{
    if (__builtin_expect(b->n_temps >= b->cap_temps, 0))
        b->temps = grow(b->temps, &b->cap_temps, b->n_temps + 1, sizeof(IrTempInfo));
    IrTemp id = b->n_temps++;
    b->temps[id] = (IrTempInfo){.kind = (uint8_t)kind, .type = (uint8_t)t};
    return id;
}

IrTemp ir_new_temp(IrBlock *b, IrType t)
{
    return new_temp(b, IR_TEMP_LOCAL, t);
}

static uint32_t const_hash(IrType t, uint64_t lo, uint64_t hi)
{
    uint64_t h = (lo ^ (hi * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)t << 56)) * 0xff51afd7ed558ccdull;
    return (uint32_t)(h >> 32);
}

static void const_tab_insert(IrBlock *b, IrTemp id)
{
    const IrTempInfo *ti = &b->temps[id];
    uint32_t m = b->const_tab_cap - 1;
    uint32_t h = const_hash(ti->type, ti->val[0], ti->val[1]) & m;
    while (b->const_tab[h])
        h = (h + 1) & m;
    b->const_tab[h] = id;
}

IrTemp ir_const128(IrBlock *b, IrType t, uint64_t lo, uint64_t hi)
{
    /* canonical form: zero-extended from the width */
    if (!ir_type_is_wide(t)) {
        lo &= ir_eval_mask(t);
        hi = 0;
    }
    if (b->const_tab_cap) {
        uint32_t m = b->const_tab_cap - 1;
        for (uint32_t h = const_hash(t, lo, hi) & m; b->const_tab[h]; h = (h + 1) & m) {
            const IrTempInfo *ti = &b->temps[b->const_tab[h]];
            if (ti->type == t && ti->val[0] == lo && ti->val[1] == hi)
                return b->const_tab[h];
        }
    }
    /* keep the load factor under 1/2 */
    if ((b->n_consts + 1) * 2 > b->const_tab_cap) {
        uint32_t ncap = b->const_tab_cap ? b->const_tab_cap * 2 : 64;
        free(b->const_tab);
        b->const_tab = calloc(ncap, sizeof(uint32_t));
        if (!b->const_tab)
            ir_oom();
        b->const_tab_cap = ncap;
        for (IrTemp i = 1; i < b->n_temps; i++)
            if (b->temps[i].kind == IR_TEMP_CONST)
                const_tab_insert(b, i);
    }
    IrTemp id = new_temp(b, IR_TEMP_CONST, t);
    b->temps[id].val[0] = lo;
    b->temps[id].val[1] = hi;
    const_tab_insert(b, id);
    b->n_consts++;
    return id;
}

IrTemp ir_const(IrBlock *b, IrType t, uint64_t v)
{
    return ir_const128(b, t, v, 0);
}

uint32_t ir_new_label(IrBlock *b)
{
    return b->n_labels++;
}

void ir_block_mark_unsimplified(IrBlock *b)
{
    ((IrBlockMem *)b)->unsimplified = true;
}

bool ir_block_unsimplified(const IrBlock *b)
{
    return ((const IrBlockMem *)b)->unsimplified;
}

/* ---- raw emission ----------------------------------------------------- */
uint32_t ir_emit(IrBlock *b, IrOpcode opc, IrType t, const IrTemp *args,
                 const uint64_t *consts)
{
    ((IrBlockMem *)b)->unsimplified = true; /* nobody tried ir_simplify on it */
    return ir_emit_simplified(b, opc, t, args, consts);
}

uint32_t ir_emit_simplified(IrBlock *b, IrOpcode opc, IrType t, const IrTemp *args,
                            const uint64_t *consts)
{
    if (__builtin_expect(b->n_ops >= b->cap_ops, 0))
        b->ops = grow(b->ops, &b->cap_ops, b->n_ops + 1, sizeof(IrInst));
    uint32_t idx = b->n_ops++;
    IrInst *op = &b->ops[idx];
    *op = (IrInst){.opc = (uint16_t)opc, .type = (uint8_t)t,
                   .insn_idx = b->n_insns ? b->n_insns - 1 : 0};
    if ((unsigned)opc < IR_OP_COUNT) {
        /* element loops, not memcpy: the counts are tiny and variable */
        unsigned na = ir_op_info[opc].n_out + ir_op_info[opc].n_in;
        unsigned nc = ir_op_info[opc].n_const;
        if (args)
            for (unsigned k = 0; k < na; k++)
                op->args[k] = args[k];
        if (consts)
            for (unsigned k = 0; k < nc; k++)
                op->c[k] = consts[k];
    }
    return idx;
}

void ir_insn_start(IrBlock *b, uint64_t pc, uint32_t len)
{
    b->insns = grow(b->insns, &b->cap_insns, b->n_insns + 1, sizeof(IrGuestInsn));
    IrGuestInsn *gi = &b->insns[b->n_insns++];
    gi->pc = pc;
    gi->len = len;
    gi->first_op = b->n_ops;
    ir_emit_simplified(b, IR_OP_insn_start, IR_VOID, NULL, (const uint64_t[]){pc, len});
    if (pc + len > b->pc && pc + len - b->pc > b->guest_size)
        b->guest_size = (uint32_t)(pc + len - b->pc);
}
