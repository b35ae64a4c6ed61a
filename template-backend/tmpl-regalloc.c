/*
 * tmpl-regalloc.c - the template backend's register allocator.
 *
 * One forward pass, TCG-style.  Every temp has a home: globals their env
 * field, locals a frame slot (taken lazily, on the first spill, and given
 * back after the local's last use).  A temp may additionally sit in a host
 * register; `mem_ok` says whether the home is up to date (clean) or the
 * register is newer (dirty).
 *
 *  - Globals are loaded on first use and written back lazily: at exits,
 *    before faulting ops and helper calls that need them (the caller asks),
 *    and when evicted.
 *  - At a branch every dirty value goes home (ra_sync); at a label nothing is
 *    assumed in registers (ra_forget): the canonical state at labels is
 *    "everything in memory".
 *  - Locals are live from the first to the last op that names them; a
 *    backward branch stretches every interval that overlaps the loop to the
 *    whole loop, so slots and registers survive the back edge.
 *  - Eviction picks a clean global if there is one (free to drop), else the
 *    least recently used register.
 */
#include "template-backend/tmpl-internal.h"

#include <stdlib.h>
#include <string.h>

const int8_t tmpl_alloc_order[TMPL_N_ALLOC] = {
    X86_RBX, X86_RBP, X86_R12, X86_R13, X86_RSI, X86_RDI, X86_R8, X86_R9, X86_R10, X86_RCX, X86_RDX,
};
_Static_assert(__builtin_popcount(TMPL_ALLOC_MASK) == TMPL_N_ALLOC,
               "TMPL_ALLOC_MASK names the registers of tmpl_alloc_order");

/* Bits a register holds for a type (wide and void: 64).  A table: asked
 * for every temp of every block. */
static unsigned type_width(unsigned t)
{
    static const uint8_t width[IR_TYPE_COUNT] = {
        [IR_VOID] = 64, [IR_I8] = 8,   [IR_I16] = 16,  [IR_I32] = 32, [IR_I64] = 64,
        [IR_I128] = 64, [IR_F32] = 32, [IR_F64] = 64, [IR_V128] = 64,
    };
    _Static_assert(IR_TYPE_COUNT == 9, "new IrType: extend the width table");
    return t < IR_TYPE_COUNT ? width[t] : 64;
}

TmplPinSet tmpl_pin_set;
/* callee-saved first, so helper calls keep them; not rbx (cmpxchg16b
 * takes it); r10 and r9 are caller-saved: stored and reloaded around calls */
static const int8_t pin_regs[TMPL_MAX_PINS] = {X86_R13, X86_R12, X86_RBP, X86_R10};

void tmpl_set_pins(const uint32_t *env_off, unsigned n)
{
    TmplPinSet s = {.n = 0};
    for (unsigned i = 0; i < n && i < TMPL_MAX_PINS; i++) {
        s.pin[s.n++] = (TmplPin){pin_regs[i], env_off[i]};
        s.mask |= (uint16_t)(1u << pin_regs[i]);
    }
    tmpl_pin_set = s;
}

uint64_t tmpl_pin_id(void)
{
    const TmplPinSet *s = &tmpl_pin_set;
    uint64_t h = s->n;
    for (unsigned i = 0; i < s->n; i++)
        h = h * 0x100000001b3ull ^ ((uint64_t)s->pin[i].reg << 32 | s->pin[i].env_off);
    return h;
}

static bool is_caller_saved(int r)
{
    return r == X86_RSI || r == X86_RDI || r == X86_R8 || r == X86_R9 || r == X86_R10 ||
           r == X86_RCX || r == X86_RDX;
}

static void note_use(TmplGen *g, IrTemp t, uint32_t i)
{
    if (t == IR_TEMP_NONE || t >= g->b->n_temps || g->b->temps[t].kind != IR_TEMP_LOCAL)
        return;
    TmplTemp *s = &g->t[t];
    if (s->first == UINT32_MAX || i < s->first)
        s->first = i;
    if (s->last == UINT32_MAX || i > s->last)
        s->last = i;
}

bool ra_init(TmplGen *g)
{
    const IrBlock *b = g->b;
    g->t = malloc((b->n_temps ? b->n_temps : 1) * sizeof(TmplTemp));
    if (!g->t)
        return false;
    /* initial state by type (the last entry: out-of-range types) */
    TmplTemp proto[IR_TYPE_COUNT + 1];
    for (unsigned ty = 0; ty <= IR_TYPE_COUNT; ty++)
        proto[ty] = (TmplTemp){.reg = -1, .mem_ok = 1, .first = UINT32_MAX, .last = UINT32_MAX,
                               .wide = ir_type_is_wide((IrType)ty),
                               .kbits = (uint8_t)type_width(ty)};
    for (uint32_t i = 0; i < b->n_temps; i++) {
        unsigned ty = b->temps[i].type;
        g->t[i] = proto[ty < IR_TYPE_COUNT ? ty : IR_TYPE_COUNT];
    }
    for (unsigned p = 0; p < g->pins->n; p++) {
        const TmplPin *pin = &g->pins->pin[p];
        uint32_t n = b->globals ? b->globals->count : 0;
        for (uint32_t i = 1; i < n && i < b->n_temps; i++) {
            if (b->temps[i].kind != IR_TEMP_GLOBAL || b->temps[i].type != IR_I64 ||
                b->temps[i].env_offset != pin->env_off)
                continue;
            g->t[i].reg = pin->reg;
            g->t[i].pinned = 1;
            g->t[i].mem_ok = 0;   /* env is stale at a block boundary */
            g->reg_temp[pin->reg] = (int32_t)i;
        }
    }
    for (uint32_t i = 0; i < b->n_ops; i++) {
        const IrInst *op = &b->ops[i];
        if (op->dead)
            continue;
        const IrOpInfo *oi = &ir_op_info[op->opc];
        for (unsigned k = 0; k < (unsigned)(oi->n_out + oi->n_in) && k < IR_MAX_ARGS; k++)
            note_use(g, op->args[k], i);
    }
    /* Loops: label at i, backward branch at j > i.  Repeat to a fixed point
     * (nested loops); blocks are small so this stays cheap. */
    uint32_t *label_pos = NULL;
    if (b->n_labels) {
        label_pos = malloc(b->n_labels * sizeof(uint32_t));
        if (!label_pos)
            return false;
        for (uint32_t l = 0; l < b->n_labels; l++)
            label_pos[l] = UINT32_MAX;
    }
    bool has_back = false;
    for (uint32_t i = 0; i < b->n_ops; i++) {
        const IrInst *op = &b->ops[i];
        if (op->dead)
            continue;
        if (op->opc == IR_OP_label && op->c[0] < b->n_labels)
            label_pos[op->c[0]] = i;
        uint64_t l = op->opc == IR_OP_br ? op->c[0] : op->opc == IR_OP_brcond ? op->c[1] : ~0ull;
        if (l < b->n_labels && label_pos[l] != UINT32_MAX)
            has_back = true;
    }
    for (int iter = 0; has_back && iter < 8; iter++) {
        bool changed = false;
        for (uint32_t j = 0; j < b->n_ops; j++) {
            const IrInst *op = &b->ops[j];
            if (op->dead || (op->opc != IR_OP_br && op->opc != IR_OP_brcond))
                continue;
            uint64_t l = op->opc == IR_OP_br ? op->c[0] : op->c[1];
            if (l >= b->n_labels || label_pos[l] >= j)
                continue;
            uint32_t i = label_pos[l];
            for (uint32_t t = 0; t < b->n_temps; t++) {
                TmplTemp *s = &g->t[t];
                if (s->first == UINT32_MAX || s->first > j || s->last < i)
                    continue;
                /* live up to and past the back edge, so the branch's sync
                 * stores it for the next iteration */
                if (s->first > i) { s->first = i; changed = true; }
                if (s->last < j + 1) { s->last = j + 1; changed = true; }
            }
        }
        if (!changed)
            break;
    }
    free(label_pos);
    memset(g->narrow_free, 1, sizeof g->narrow_free);
    memset(g->wide_free, 1, sizeof g->wide_free);
    return true;
}

void ra_free(TmplGen *g)
{
    free(g->t);
    g->t = NULL;
}

void ra_lock(TmplGen *g, int r)
{
    g->locked |= (uint16_t)(1u << r);
    g->reg_stamp[r] = ++g->stamp;
}

static int32_t take_slot(TmplGen *g, bool wide)
{
    if (wide) {
        for (int i = 0; i < TMPL_WIDE_SLOTS; i++)
            if (g->wide_free[i]) {
                g->wide_free[i] = 0;
                return TMPL_NARROW_SLOTS * 8 + i * 16;
            }
    } else {
        for (int i = 0; i < TMPL_NARROW_SLOTS; i++)
            if (g->narrow_free[i]) {
                g->narrow_free[i] = 0;
                return i * 8;
            }
    }
    tg_fail(g, "too many live locals for the spill frame");
    return 0;
}

static void give_slot(TmplGen *g, TmplTemp *s)
{
    if (!s->has_slot)
        return;
    if (s->slot >= TMPL_NARROW_SLOTS * 8)
        g->wide_free[(s->slot - TMPL_NARROW_SLOTS * 8) / 16] = 1;
    else
        g->narrow_free[s->slot / 8] = 1;
    s->has_slot = 0;
}

X86Mem ra_home(TmplGen *g, IrTemp t)
{
    const IrTempInfo *ti = tg_info(g, t);
    if (ti->kind == IR_TEMP_GLOBAL)
        return x86_mem(TMPL_REG_ENV, (int32_t)ti->env_offset);
    TmplTemp *s = &g->t[t];
    if (!s->has_slot) {
        s->slot = take_slot(g, s->wide);
        s->has_slot = 1;
    }
    return x86_mem(X86_RSP, s->slot);
}

X86Mem ra_wide_home(TmplGen *g, IrTemp t) { return ra_home(g, t); }

static int type_bytes_bits(IrType t)
{
    int bits = tg_bits(t);
    return bits > 64 ? 64 : bits;
}

static void store_home(TmplGen *g, IrTemp t, int r)
{
    x86_store(&g->x, type_bytes_bits((IrType)tg_info(g, t)->type), ra_home(g, t), r);
}

/* Unbind register r (its temp keeps only its home). */
static void unbind(TmplGen *g, int r)
{
    int32_t t = g->reg_temp[r];
    if (t)
        g->t[t].reg = -1;
    g->reg_temp[r] = 0;
}

void ra_set_home(TmplGen *g, IrTemp t)
{
    if (g->t[t].reg >= 0)
        unbind(g, g->t[t].reg);
    g->t[t].mem_ok = 1;
    g->t[t].kbits = (uint8_t)type_width(tg_info(g, t)->type);
}

/* Evict r: a dirty value that is still needed goes home first. */
static void evict(TmplGen *g, int r)
{
    int32_t t = g->reg_temp[r];
    if (!t)
        return;
    TmplTemp *s = &g->t[t];
    bool live = tg_is_global(g, (IrTemp)t) || s->last >= g->op_idx;
    if (!s->mem_ok && live) {
        store_home(g, (IrTemp)t, r);
        s->mem_ok = 1;
    }
    unbind(g, r);
}

/* A register for a result, evicting the least recently used value (clean
 * ones first); -1 when every allocatable register is locked. */
static int alloc_or_none(TmplGen *g)
{
    for (int i = 0; i < TMPL_N_ALLOC; i++) {
        int r = tmpl_alloc_order[i];
        if (!g->reg_temp[r] && !((g->locked | g->pins->mask) & (1u << r))) {
            ra_lock(g, r);
            return r;
        }
    }
    int best = -1;
    bool best_clean = false;
    for (int i = 0; i < TMPL_N_ALLOC; i++) {
        int r = tmpl_alloc_order[i];
        if ((g->locked | g->pins->mask) & (1u << r))
            continue;
        int32_t t = g->reg_temp[r];
        bool clean = g->t[t].mem_ok || (!tg_is_global(g, (IrTemp)t) && g->t[t].last < g->op_idx);
        if (best < 0 || (clean && !best_clean) ||
            (clean == best_clean && g->reg_stamp[r] < g->reg_stamp[best])) {
            best = r;
            best_clean = clean;
        }
    }
    if (best < 0)
        return -1;
    evict(g, best);
    ra_lock(g, best);
    return best;
}

int ra_alloc(TmplGen *g)
{
    int r = alloc_or_none(g);
    if (r < 0) {
        tg_fail(g, "out of host registers");
        return X86_RBX;
    }
    return r;
}

void gen_load_to(TmplGen *g, int r, IrTemp t)
{
    const IrTempInfo *ti = tg_info(g, t);
    if (ti->kind == IR_TEMP_CONST) {
        x86_mov_ri(&g->x, r, ti->val[0]);
        return;
    }
    TmplTemp *s = &g->t[t];
    if (s->reg >= 0) {
        if (s->reg != r)
            x86_mov_rr(&g->x, 64, r, s->reg);
        return;
    }
    int bits = type_bytes_bits((IrType)ti->type);
    if (bits < 32)
        x86_movzx_load(&g->x, r, ra_home(g, t), bits);
    else
        x86_load(&g->x, bits, r, ra_home(g, t));
}

int ra_in(TmplGen *g, IrTemp t)
{
    if (g->t[t].alias)
        return ra_in(g, g->t[t].alias);
    TmplTemp *s = &g->t[t];
    if (!tg_is_const(g, t) && s->reg >= 0) {
        ra_lock(g, s->reg);
        return s->reg;
    }
    int r = ra_alloc(g);
    gen_load_to(g, r, t);
    if (!tg_is_const(g, t)) {
        g->reg_temp[r] = (int32_t)t;
        s->reg = (int8_t)r;
        s->mem_ok = 1;
    }
    return r;
}

int ra_out_reg(TmplGen *g, IrTemp out, IrTemp src)
{
    if (out != IR_TEMP_NONE && g->t[out].pinned) {
        /* compute in place unless another input is out's old value */
        const IrInst *op = &g->b->ops[g->op_idx];
        const IrOpInfo *oi = &ir_op_info[op->opc];
        bool clash = oi->n_out != 1;
        for (unsigned k = oi->n_out; k < (unsigned)(oi->n_out + oi->n_in) && k < IR_MAX_ARGS; k++)
            if (op->args[k] == out && src != out)
                clash = true;
        if (!clash) {
            ra_lock(g, g->t[out].reg);
            return g->t[out].reg;
        }
    }
    if (src != IR_TEMP_NONE && !tg_is_const(g, src)) {
        TmplTemp *s = &g->t[src];
        if (s->reg >= 0 &&
            (src == out || (!tg_is_global(g, src) && s->last <= g->op_idx))) {
            ra_lock(g, s->reg);
            return s->reg;
        }
        /* the caller copies src in next: evicting src's own register would
         * store it and load it back ("mov [env+x1], rsi; mov rsi, [env+x1]") */
        if (s->reg >= 0 && !(g->locked & (1u << s->reg))) {
            uint16_t bit = (uint16_t)(1u << s->reg);
            g->locked |= bit;
            int r = alloc_or_none(g);
            g->locked &= (uint16_t)~bit;
            if (r >= 0)
                return r;
        }
    }
    return ra_alloc(g);
}

int ra_alloc_or_pin(TmplGen *g, IrTemp out)
{
    if (out != IR_TEMP_NONE && g->t[out].pinned) {
        ra_lock(g, g->t[out].reg);
        return g->t[out].reg;
    }
    return ra_alloc(g);
}

void ra_bind(TmplGen *g, IrTemp t, int r)
{
    TmplTemp *s = &g->t[t];
    if (s->pinned) {
        if (r != s->reg)
            x86_mov_rr(&g->x, 64, s->reg, r);
        s->mem_ok = 0;
        s->kbits = (uint8_t)type_width(tg_info(g, t)->type);
        ra_lock(g, s->reg);
        return;
    }
    if (s->reg >= 0 && s->reg != r)
        g->reg_temp[s->reg] = 0;
    int32_t old = g->reg_temp[r];
    if (old && old != (int32_t)t)
        g->t[old].reg = -1;
    g->reg_temp[r] = (int32_t)t;
    s->reg = (int8_t)r;
    s->mem_ok = 0;
    s->kbits = (uint8_t)type_width(tg_info(g, t)->type);
    ra_lock(g, r);
}

void ra_writeback_exit(TmplGen *g)
{
    for (int r = 0; r < 16; r++) {
        int32_t t = g->reg_temp[r];
        if (!t || !tg_is_global(g, (IrTemp)t) || g->t[t].pinned || g->t[t].mem_ok)
            continue;
        store_home(g, (IrTemp)t, r);
        g->t[t].mem_ok = 1;
    }
}

void ra_writeback_globals(TmplGen *g, bool drop)
{
    for (int r = 0; r < 16; r++) {
        int32_t t = g->reg_temp[r];
        if (!t || !tg_is_global(g, (IrTemp)t))
            continue;
        if (!g->t[t].mem_ok) {
            store_home(g, (IrTemp)t, r);
            g->t[t].mem_ok = 1;
        }
        if (drop && !g->t[t].pinned)
            unbind(g, r);
    }
}

unsigned ra_dirty_globals(TmplGen *g, uint32_t out[TMPL_WB_MAX_PAIRS])
{
    unsigned n = 0;
    for (int r = 0; r < 16; r++) {
        int32_t t = g->reg_temp[r];
        if (!t || !tg_is_global(g, (IrTemp)t) || g->t[t].mem_ok || g->t[t].pinned)
            continue;
        uint32_t off = tg_info(g, (IrTemp)t)->env_offset;
        if (off > 0xFFFF || n == TMPL_WB_MAX_PAIRS) {
            store_home(g, (IrTemp)t, r);
            g->t[t].mem_ok = 1;
            continue;
        }
        out[n++] = TMPL_WB_PAIR(r, type_bytes_bits((IrType)tg_info(g, (IrTemp)t)->type) / 8, off);
    }
    return n;
}

void ra_sync(TmplGen *g)
{
    for (int r = 0; r < 16; r++) {
        int32_t t = g->reg_temp[r];
        if (!t || g->t[t].mem_ok || g->t[t].pinned)
            continue;
        if (!tg_is_global(g, (IrTemp)t) && g->t[t].last <= g->op_idx)
            continue;   /* dead after this op */
        store_home(g, (IrTemp)t, r);
        g->t[t].mem_ok = 1;
    }
}

void ra_forget(TmplGen *g)
{
    for (int r = 0; r < 16; r++) {
        int32_t t = g->reg_temp[r];
        if (t && g->t[t].pinned)
            g->t[t].mem_ok = 0;   /* another path may have written it */
        else
            unbind(g, r);
    }
    /* values meeting at a label may come from any path */
    const IrBlock *b = g->b;
    for (uint32_t i = 0; i < b->n_temps; i++)
        g->t[i].kbits = (uint8_t)type_width(b->temps[i].type);
}

unsigned ra_kbits(const TmplGen *g, IrTemp t)
{
    const IrTempInfo *ti = tg_info(g, t);
    if (ti->kind == IR_TEMP_CONST)
        return ti->val[0] ? 64 - (unsigned)__builtin_clzll(ti->val[0]) : 0;
    return g->t[t].kbits;
}

void ra_set_kbits(TmplGen *g, IrTemp t, unsigned bits)
{
    /* globals too: the value stays what it was until the global is written
     * (ra_bind, ra_set_home, a helper: ra_drop_globals), wherever it is */
    if (tg_info(g, t)->kind == IR_TEMP_CONST)
        return;
    unsigned w = type_width(tg_info(g, t)->type);
    g->t[t].kbits = (uint8_t)(bits < w ? bits : w);
}

void ra_spill_caller_saved(TmplGen *g)
{
    for (int r = 0; r < 16; r++) {
        int32_t t = g->reg_temp[r];
        if (!t || !is_caller_saved(r))
            continue;
        if (g->t[t].pinned) {
            if (!g->t[t].mem_ok) {
                store_home(g, (IrTemp)t, r);
                g->t[t].mem_ok = 1;
            }
        } else {
            evict(g, r);
        }
    }
}

void ra_reload_caller_saved_pins(TmplGen *g)
{
    for (unsigned i = 0; i < g->pins->n; i++) {
        int r = g->pins->pin[i].reg;
        int32_t t = g->reg_temp[r];
        if (t && is_caller_saved(r))
            x86_load(&g->x, 64, r, ra_home(g, (IrTemp)t));
        else if (!t && is_caller_saved(r))
            x86_load(&g->x, 64, r, x86_mem(TMPL_REG_ENV, (int32_t)g->pins->pin[i].env_off));
    }
}

void ra_reserve(TmplGen *g, int r)
{
    evict(g, r);
    ra_lock(g, r);
}

void ra_drop_globals(TmplGen *g)
{
    for (int r = 0; r < 16; r++) {
        int32_t t = g->reg_temp[r];
        if (t && g->t[t].pinned) {
            x86_load(&g->x, 64, r, ra_home(g, (IrTemp)t));
            g->t[t].mem_ok = 1;
        } else if (t && tg_is_global(g, (IrTemp)t)) {
            unbind(g, r);
        }
    }
    /* the helper may have written any of them */
    const IrBlock *b = g->b;
    uint32_t n = b->globals && b->globals->count ? b->globals->count : 1;
    for (uint32_t i = 1; i < n && i < b->n_temps; i++)
        g->t[i].kbits = (uint8_t)type_width(b->temps[i].type);
}

void ra_end_op(TmplGen *g, const IrInst *op)
{
    const IrOpInfo *oi = &ir_op_info[op->opc];
    for (unsigned k = 0; k < (unsigned)(oi->n_out + oi->n_in) && k < IR_MAX_ARGS; k++) {
        IrTemp t = op->args[k];
        if (t == IR_TEMP_NONE || t >= g->b->n_temps ||
            g->b->temps[t].kind != IR_TEMP_LOCAL)
            continue;
        TmplTemp *s = &g->t[t];
        if (s->last <= g->op_idx) {
            if (s->reg >= 0)
                unbind(g, s->reg);
            give_slot(g, s);
        }
    }
    g->locked = 0;
}
