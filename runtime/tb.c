/*
 * tb.c - translation blocks: the (pc, mode flags) hash table, the guest
 * page -> blocks map, direct-jump chaining with incoming-link lists, and
 * invalidation of guest ranges (unchain, drop from jump caches, forget
 * code-page marks).  Everything here runs under e->lock.
 *
 * A chain link is recorded twice: src->jmp_to[slot] = dst, and (src|slot) in
 * dst's incoming list (dst->jmp_in, continued through src->jmp_next[slot]),
 * so removing either end can undo it.
 */
#include "runtime/exec-internal.h"

#include <stdlib.h>
#include <string.h>
#include "runtime/objload.h"
#include "runtime/tier-llvm.h"

struct TbSlot {
    uint64_t pc;
    TransBlock *tb;
};

/* Home slot of pc; blocks of one pc under other mode flags share it. */
static size_t tb_hash(uint64_t pc, size_t n)
{
    return (size_t)(((pc >> 2) * 0x9e3779b97f4a7c15ull) >> 20) & (n - 1);
}

static size_t page_hash(uint64_t page, size_t n)
{
    return (size_t)((page * 0x9e3779b97f4a7c15ull) >> 24) & (n - 1);
}

bool tb_table_init(ExecEngine *e)
{
    e->n_slots = 4096;
    e->slots = calloc(e->n_slots, sizeof *e->slots);
    e->n_pbuckets = 256;
    e->pbuckets = calloc(e->n_pbuckets, sizeof *e->pbuckets);
    e->cp_top = calloc((size_t)1 << EXEC_CP_TOP_BITS, sizeof *e->cp_top);
    return e->slots && e->pbuckets && e->cp_top;
}

void tb_free_one(TransBlock *tb)
{
    if (tb->icode) ir_interp_free(tb->icode);
    if (tb->llvm_handle) {
        TierLlvmCode c = {tb->llvm_entry, tb->llvm_handle};
        tier_llvm_release(&c);
    }
    if (tb->obj_image) objload_free(tb->obj_image);
    free(tb->ranges);
    free(tb->region_counts);
    free(tb->region_users);
    free(tb->ptr_targets);
    free(tb->code.insn_map);
    free(tb->code.wb);
    free(tb->insn_off);
    free(tb);
}

static void pages_clear(ExecEngine *e)
{
    for (size_t i = 0; i < e->n_pbuckets; i++) {
        PageDesc *p = e->pbuckets[i];
        while (p) {
            PageDesc *n = p->next;
            free(p->tbs);
            free(p);
            p = n;
        }
        e->pbuckets[i] = NULL;
    }
    e->n_pages = 0;
}

/* Free every block (flush); the caller holds code_rw for writing. */
void tb_free_all(ExecEngine *e)
{
    TransBlock *tb = e->all;
    while (tb) {
        TransBlock *n = tb->all_next;
        e->st.blocks_executed += tb->exec_count + tb->llvm_exec_count; /* keep --stats totals */
        uint64_t ran = tb->exec_count * tb->n_insns - tb->skipped_insns;
        e->st.insns_template += tb->host ? ran : 0;
        e->st.insns_interp += tb->host ? 0 : ran;
        e->st.insns_llvm += tb->llvm_exec_count * tb->n_insns;
        tiercache_count_insns(tb, &e->st.blocks_executed, &e->st.insns_llvm);
        tb_free_one(tb);
        tb = n;
    }
    e->all = NULL;
    memset(e->slots, 0, e->n_slots * sizeof *e->slots);
    e->n_blocks = 0;
    e->n_dead = 0;
    pages_clear(e);
}

void tb_table_free(ExecEngine *e)
{
    if (e->slots) tb_free_all(e);
    /* Hand every still-protected code page back to the embedder. */
    if (e->cp_top && e->cfg.mem.unprotect_code_page) {
        for (size_t i = 0; i < ((size_t)1 << EXEC_CP_TOP_BITS); i++) {
            uint8_t *leaf = e->cp_top[i];
            for (size_t j = 0; leaf && j < ((size_t)1 << (EXEC_CP_LEAF_BITS - 3)); j++) {
                for (unsigned k = 0; leaf[j] && k < 8; k++) {
                    if (leaf[j] & (1u << k)) {
                        leaf[j] &= (uint8_t) ~(1u << k);
                        uint64_t page = ((uint64_t)i << EXEC_CP_LEAF_BITS) | (j << 3) | k;
                        e->cfg.mem.unprotect_code_page(e->cfg.mem.opaque, page << EXEC_PAGE_BITS);
                    }
                }
            }
        }
    }
    free(e->slots);
    free(e->pbuckets);
    if (e->cp_top) {
        for (size_t i = 0; i < ((size_t)1 << EXEC_CP_TOP_BITS); i++)
            free(e->cp_top[i]);
        free(e->cp_top);
    }
}

TransBlock *tb_find(ExecEngine *e, uint64_t pc, uint32_t flags)
{
    size_t mask = e->n_slots - 1;
    for (size_t i = tb_hash(pc, e->n_slots); e->slots[i].tb; i = (i + 1) & mask)
        if (e->slots[i].pc == pc && e->slots[i].tb->flags == flags) return e->slots[i].tb;
    return NULL;
}

static void slot_put(struct TbSlot *slots, size_t n, uint64_t pc, TransBlock *tb)
{
    size_t i = tb_hash(pc, n);
    while (slots[i].tb)
        i = (i + 1) & (n - 1);
    slots[i] = (struct TbSlot){ pc, tb };
}

/* Twice the slots (false: out of memory, the table stays as it is). */
static bool table_grow(ExecEngine *e)
{
    size_t n = e->n_slots * 2;
    struct TbSlot *ns = calloc(n, sizeof *ns);
    if (!ns) return false;
    for (size_t i = 0; i < e->n_slots; i++)
        if (e->slots[i].tb) slot_put(ns, n, e->slots[i].pc, e->slots[i].tb);
    free(e->slots);
    e->slots = ns;
    e->n_slots = n;
    return true;
}

/* Take tb's slot out; later slots of its run move back where their probe
 * would find them (no tombstones). */
static void table_remove(ExecEngine *e, TransBlock *tb)
{
    size_t mask = e->n_slots - 1, i = tb_hash(tb->pc, e->n_slots);
    while (e->slots[i].tb && e->slots[i].tb != tb)
        i = (i + 1) & mask;
    if (!e->slots[i].tb) return;
    e->slots[i].tb = NULL;
    for (size_t j = (i + 1) & mask; e->slots[j].tb; j = (j + 1) & mask) {
        size_t k = tb_hash(e->slots[j].pc, e->n_slots);
        /* stays if its home k lies cyclically in (i, j] */
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        e->slots[i] = e->slots[j];
        e->slots[j].tb = NULL;
        i = j;
    }
}

void tb_table_prepare_fork(ExecEngine *e)
{
    while (e->n_blocks * 4 > e->n_slots) {
        size_t before = e->n_slots;
        table_grow(e);
        if (e->n_slots == before) /* out of memory: the child may rehash */
            return;
    }
}

static PageDesc *page_get(ExecEngine *e, uint64_t page, bool create)
{
    size_t h = page_hash(page, e->n_pbuckets);
    for (PageDesc *p = e->pbuckets[h]; p; p = p->next)
        if (p->page == page) return p;
    if (!create) return NULL;
    PageDesc *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->page = page;
    p->next = e->pbuckets[h];
    e->pbuckets[h] = p;
    e->n_pages++;
    if (e->n_pages > e->n_pbuckets * 2) {
        size_t n = e->n_pbuckets * 2;
        PageDesc **nb = calloc(n, sizeof *nb);
        if (nb) {
            for (size_t i = 0; i < e->n_pbuckets; i++) {
                PageDesc *q = e->pbuckets[i];
                while (q) {
                    PageDesc *next = q->next;
                    size_t k = page_hash(q->page, n);
                    q->next = nb[k];
                    nb[k] = q;
                    q = next;
                }
            }
            free(e->pbuckets);
            e->pbuckets = nb;
            e->n_pbuckets = n;
        }
    }
    return p;
}

static void page_unlink(ExecEngine *e, PageDesc *pd)
{
    PageDesc **pp = &e->pbuckets[page_hash(pd->page, e->n_pbuckets)];
    while (*pp != pd)
        pp = &(*pp)->next;
    *pp = pd->next;
    free(pd->tbs);
    free(pd);
    e->n_pages--;
}

/* Add tb to page pg's list (once).  false: out of memory. */
static bool page_add(ExecEngine *e, uint64_t pg, TransBlock *tb, bool check_dup)
{
    PageDesc *pd = page_get(e, pg, true);
    if (!pd) return false;
    for (uint32_t i = 0; check_dup && i < pd->n; i++)
        if (pd->tbs[i] == tb) return true;
    if (pd->n == pd->cap) {
        uint32_t cap = pd->cap ? pd->cap * 2 : 4;
        TransBlock **n = realloc(pd->tbs, cap * sizeof *n);
        if (!n) return false;
        pd->tbs = n;
        pd->cap = cap;
    }
    pd->tbs[pd->n++] = tb;
    return true;
}

void tb_insert(ExecEngine *e, TransBlock *tb)
{
    /* at most half full; out of memory, fuller (never full: one free slot
     * ends every probe) */
    if ((e->n_blocks + 1) * 2 > e->n_slots && !table_grow(e) && e->n_blocks + 1 >= e->n_slots)
        abort();
    slot_put(e->slots, e->n_slots, tb->pc, tb);
    e->n_blocks++;
    /* out of memory: the block is just not invalidatable by page */
    for (uint64_t pg = tb->first_page; pg <= tb->last_page; pg++)
        page_add(e, pg, tb, false);
}

static uint64_t range_first_page(const TbRange *r)
{
    return r->pc >> EXEC_PAGE_BITS;
}

static uint64_t range_last_page(const TbRange *r)
{
    return (r->pc + (r->size ? r->size - 1 : 0)) >> EXEC_PAGE_BITS;
}

void tb_add_ranges(ExecEngine *e, TransBlock *tb, TbRange *ranges, uint32_t n)
{
    free(tb->ranges);
    tb->ranges = ranges;
    tb->n_ranges = n;
    for (uint32_t i = 0; i < n; i++) {
        for (uint64_t pg = range_first_page(&ranges[i]); pg <= range_last_page(&ranges[i]); pg++) {
            page_add(e, pg, tb, true);
            if (tb_mark_code_page(e, pg) && e->cfg.mem.protect_code_page)
                e->cfg.mem.protect_code_page(e->cfg.mem.opaque, pg << EXEC_PAGE_BITS);
        }
    }
}

/* Does tb's code depend on guest bytes in [start, end)? */
static bool tb_overlaps(const TransBlock *tb, uint64_t start, uint64_t end)
{
    uint64_t tb_end = tb->pc + (tb->guest_size ? tb->guest_size : 1) + tb->dep_after;
    if (tb->pc - tb->dep_before < end && tb_end > start) return true;
    for (uint32_t i = 0; i < tb->n_ranges; i++) {
        uint64_t s = tb->ranges[i].pc, x = s + (tb->ranges[i].size ? tb->ranges[i].size : 1);
        if (s < end && x > start) return true;
    }
    return false;
}

static void page_drop(ExecEngine *e, uint64_t pg, TransBlock *tb)
{
    PageDesc *pd = page_get(e, pg, false);
    if (!pd) return;
    for (uint32_t i = 0; i < pd->n; i++) {
        if (pd->tbs[i] == tb) {
            pd->tbs[i] = pd->tbs[--pd->n];
            break;
        }
    }
    if (pd->n == 0) page_unlink(e, pd);
}

/* ---- chaining ---------------------------------------------------------- */

static void slot_reset(ExecEngine *e, TransBlock *src, unsigned slot)
{
    if (src->host && src->code.chain_site[slot] != UINT32_MAX)
        tmpl_chain_patch(&e->buf, src->code.chain_site[slot],
                         e->buf.base + src->code.chain_reset[slot] + e->buf.exec_delta);
}

/* Remove link (src|slot) from dst's incoming list. */
static void in_list_remove(TransBlock *dst, TransBlock *src, unsigned slot)
{
    uintptr_t want = (uintptr_t)src | slot;
    uintptr_t *pp = &dst->jmp_in;
    while (*pp) {
        if (*pp == want) {
            *pp = src->jmp_next[slot];
            src->jmp_next[slot] = 0;
            return;
        }
        TransBlock *s = (TransBlock *)(*pp & ~TMPL_RET_MASK);
        pp = &s->jmp_next[*pp & TMPL_RET_MASK];
    }
}

bool tb_chain(ExecEngine *e, TransBlock *src, unsigned slot, TransBlock *dst)
{
    /* Only within one mode: a block left under other mode flags (a mode
     * switch) must come back to the dispatcher next time too. */
    if (src->invalid || dst->invalid || src->flags != dst->flags) return false;
    if (src->jmp_to[slot]) {
        /* Chained already; the jump was pointed back at its stub by
         * exec_cpu_request_exit: restore it. */
        if (src->jmp_to[slot] == dst && src->host)
            tmpl_chain_patch(&e->buf, src->code.chain_site[slot], tb_entry_host(dst));
        return false;
    }
    if (src->host) {
        if (!dst->host || src->code.chain_site[slot] == UINT32_MAX) return false;
        tmpl_chain_patch(&e->buf, src->code.chain_site[slot], tb_entry_host(dst));
    } else if (dst->host) {
        return false; /* interpreted blocks only chain to interpreted blocks */
    }
    __atomic_store_n(&src->jmp_to[slot], dst, __ATOMIC_RELEASE);
    src->jmp_next[slot] = dst->jmp_in;
    dst->jmp_in = (uintptr_t)src | slot;
    e->st.chain_patches++;
    return true;
}

/* Undo every chain (before a flush, so CPUs leave generated code). */
void tb_unchain_all(ExecEngine *e)
{
    for (TransBlock *tb = e->all; tb; tb = tb->all_next) {
        for (unsigned s = 0; s < IR_GOTO_TB_SLOTS; s++) {
            if (tb->jmp_to[s]) {
                slot_reset(e, tb, s);
                __atomic_store_n(&tb->jmp_to[s], NULL, __ATOMIC_RELAXED);
                tb->jmp_next[s] = 0;
            }
        }
        tb->jmp_in = 0;
    }
}

/* Take tb out of the table, the page map, every chain and every jump cache.
 * Its memory stays until the next flush. */
void tb_remove(ExecEngine *e, TransBlock *tb)
{
    if (tb->invalid) return;
    table_remove(e, tb);
    e->n_blocks--;
    for (uint64_t pg = tb->first_page; pg <= tb->last_page; pg++)
        page_drop(e, pg, tb);
    for (uint32_t i = 0; i < tb->n_ranges; i++)
        for (uint64_t pg = range_first_page(&tb->ranges[i]); pg <= range_last_page(&tb->ranges[i]);
             pg++)
            page_drop(e, pg, tb);
    /* Incoming jumps go back to their exit stubs. */
    while (tb->jmp_in) {
        TransBlock *src = (TransBlock *)(tb->jmp_in & ~TMPL_RET_MASK);
        unsigned slot = tb->jmp_in & TMPL_RET_MASK;
        tb->jmp_in = src->jmp_next[slot];
        src->jmp_next[slot] = 0;
        slot_reset(e, src, slot);
        __atomic_store_n(&src->jmp_to[slot], NULL, __ATOMIC_RELAXED);
        e->st.unchains++;
    }
    /* Outgoing links leave their targets' lists. */
    for (unsigned s = 0; s < IR_GOTO_TB_SLOTS; s++) {
        if (tb->jmp_to[s]) {
            in_list_remove(tb->jmp_to[s], tb, s);
            slot_reset(e, tb, s);
            __atomic_store_n(&tb->jmp_to[s], NULL, __ATOMIC_RELAXED);
            e->st.unchains++;
        }
    }
    for (ExecCpu *c = e->cpus; c; c = c->next)
        exec_cpu_jc_drop(c, tb);
    __atomic_store_n(&tb->invalid, true, __ATOMIC_RELAXED);
    e->n_dead++;
    e->st.invalidated_blocks++;
    /* Regions whose code inlines this block go too (they are retranslated
     * and may get hot again). */
    for (uint32_t i = 0; i < tb->n_region_users; i++)
        tb_remove(e, tb->region_users[i]);
    tb->n_region_users = 0;
}

/* ---- code-page marks (lock-free reads) ---------------------------------- */

static uint8_t *cp_leaf(ExecEngine *e, uint64_t page, bool create)
{
    if (page >> (EXEC_CP_TOP_BITS + EXEC_CP_LEAF_BITS)) return NULL;
    size_t top = (size_t)(page >> EXEC_CP_LEAF_BITS);
    uint8_t *leaf = __atomic_load_n(&e->cp_top[top], __ATOMIC_ACQUIRE);
    if (!leaf && create) {
        leaf = calloc((size_t)1 << (EXEC_CP_LEAF_BITS - 3), 1);
        if (leaf) __atomic_store_n(&e->cp_top[top], leaf, __ATOMIC_RELEASE);
    }
    return leaf;
}

bool tb_mark_code_page(ExecEngine *e, uint64_t page)
{
    uint8_t *leaf = cp_leaf(e, page, true);
    if (!leaf) return false;
    size_t bit = (size_t)(page & (((uint64_t)1 << EXEC_CP_LEAF_BITS) - 1));
    uint8_t m = (uint8_t)(1u << (bit & 7));
    return !(__atomic_fetch_or(&leaf[bit >> 3], m, __ATOMIC_SEQ_CST) & m);
}

bool tb_test_code_page(ExecEngine *e, uint64_t page)
{
    uint8_t *leaf = cp_leaf(e, page, false);
    if (!leaf) return false;
    size_t bit = (size_t)(page & (((uint64_t)1 << EXEC_CP_LEAF_BITS) - 1));
    return (__atomic_load_n(&leaf[bit >> 3], __ATOMIC_RELAXED) >> (bit & 7)) & 1;
}

bool tb_any_code_page(ExecEngine *e, uint64_t first, uint64_t last)
{
    const uint64_t leaf_pages = (uint64_t)1 << EXEC_CP_LEAF_BITS;
    const uint64_t max_page = ((uint64_t)1 << (EXEC_CP_TOP_BITS + EXEC_CP_LEAF_BITS)) - 1;
    if (last > max_page)
        last = max_page;   /* no page past the map is marked */
    for (uint64_t pg = first; pg <= last; pg = (pg | (leaf_pages - 1)) + 1) {
        uint8_t *leaf = cp_leaf(e, pg, false);
        uint64_t leaf_last = (pg | (leaf_pages - 1)) < last ? (pg | (leaf_pages - 1)) : last;
        for (uint64_t q = pg; leaf && q <= leaf_last; q++) {
            size_t bit = (size_t)(q & (leaf_pages - 1));
            if ((__atomic_load_n(&leaf[bit >> 3], __ATOMIC_RELAXED) >> (bit & 7)) & 1)
                return true;
        }
    }
    return false;
}

bool tb_clear_code_page(ExecEngine *e, uint64_t page)
{
    uint8_t *leaf = cp_leaf(e, page, false);
    if (!leaf) return false;
    size_t bit = (size_t)(page & (((uint64_t)1 << EXEC_CP_LEAF_BITS) - 1));
    uint8_t m = (uint8_t)(1u << (bit & 7));
    return (__atomic_fetch_and(&leaf[bit >> 3], (uint8_t)~m, __ATOMIC_SEQ_CST) & m) != 0;
}

/* ---- invalidation ------------------------------------------------------- */

/* Remove the blocks of guest page pg that overlap [start, end).  tb_remove
 * edits (and may free) page descriptors, so look the page up again after
 * each removal. */
static void invalidate_page(ExecEngine *e, uint64_t pg, uint64_t start, uint64_t end)
{
    for (;;) {
        PageDesc *pd = page_get(e, pg, false);
        TransBlock *victim = NULL;
        for (uint32_t i = 0; pd && i < pd->n; i++) {
            TransBlock *tb = pd->tbs[i];
            if (tb_overlaps(tb, start, end)) {
                victim = tb;
                break;
            }
        }
        if (!victim) return;
        tb_remove(e, victim);
    }
}

void tb_invalidate_locked(ExecEngine *e, uint64_t start, uint64_t len)
{
    if (len == 0) return;
    tiercache_forget(e); /* module answers may be stale once mappings change */
    uint64_t end = start + len < start ? UINT64_MAX : start + len;
    uint64_t p0 = start >> EXEC_PAGE_BITS, p1 = (end - 1) >> EXEC_PAGE_BITS;
    if (p1 - p0 < e->n_pages) {
        for (uint64_t pg = p0; pg <= p1; pg++)
            invalidate_page(e, pg, start, end);
    } else if (e->n_pages) {
        /* Large range: collect the known pages in it first (removal frees
         * descriptors), then invalidate them. */
        uint64_t *list = malloc(e->n_pages * sizeof *list);
        size_t n = 0;
        for (size_t i = 0; list && i < e->n_pbuckets; i++)
            for (PageDesc *pd = e->pbuckets[i]; pd; pd = pd->next)
                if (pd->page >= p0 && pd->page <= p1) list[n++] = pd->page;
        for (size_t i = 0; i < n; i++)
            invalidate_page(e, list[i], start, end);
        if (!list) /* out of memory: fall back to the slow page walk */
            for (uint64_t pg = p0; pg <= p1 && e->n_pages; pg++)
                invalidate_page(e, pg, start, end);
        free(list);
    }
    /* Forget the code-page marks of pages left without blocks and hand
     * them back to the embedder. */
    uint64_t leaf_pages = (uint64_t)1 << EXEC_CP_LEAF_BITS;
    uint64_t max_page = ((uint64_t)1 << (EXEC_CP_TOP_BITS + EXEC_CP_LEAF_BITS)) - 1;
    if (p1 > max_page) p1 = max_page; /* no code page lies beyond the bitmap */
    for (uint64_t pg = p0; pg <= p1;) {
        if (!cp_leaf(e, pg, false)) {
            uint64_t next = (pg | (leaf_pages - 1)) + 1;
            if (next == 0 || next > p1) break;
            pg = next;
            continue;
        }
        /* A page that still holds blocks outside the range stays protected. */
        if (!page_get(e, pg, false) && tb_clear_code_page(e, pg) && e->cfg.mem.unprotect_code_page)
            e->cfg.mem.unprotect_code_page(e->cfg.mem.opaque, pg << EXEC_PAGE_BITS);
        if (pg == p1) break;
        pg++;
    }
}
