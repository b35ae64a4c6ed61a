/*
 * tiercache.c - the persistent code cache of --tier=auto: LLVM regions
 * outlive the process.
 *
 * Store (worker): a region formed by tierup_hot() is compiled to one
 * relocatable object (tier_llvm_compile_object: function emu_r0) and
 * loaded with emu's own loader (runtime/objload.h), then installed like a
 * JIT region; the object goes into the pack of the guest module holding the
 * entry (cache/cache.h), buffered in memory, written to disk when the
 * runtime stops (exec_engine_stop_background -> tiercache_close).
 *
 * Load (guest thread, at translation): when a template block is translated
 * and the pack has an entry for its (module offset, mode flags), the entry
 * is verified against current guest memory, linked with objload and
 * installed at once, before the block first runs.  No LLVM is loaded.
 *
 * Pack: one per (guest module, load bias): the module identity handed to
 * the cache is XXH3-128 of (module hash, bias), so a library loaded at
 * different addresses by different programs keeps one pack per address.
 *
 * Entry key: (pc - module load bias, mode flags, EMU_CACHE_KIND_OBJECT).
 * Content hash of the key: XXH3-128 over the entry block's guest bytes, the
 * load bias, the variant (page-map mode, --stats counters) and the flags.
 * The objects hold absolute guest pcs (exit targets, fault pcs), so the bias
 * is part of the hash too (and of the pack identity, above): the same
 * module loaded at another base misses rather than running wrong code.  emu-user's guest layout is
 * deterministic, so runs of one program see the same biases.
 *
 * Payload: TcHeader, then one TcMember per region block (module offset,
 * size, insns, and the code around it its translation read: TransBlock.
 * dep_before/dep_after), then the object.  The header carries XXH3-128 over
 * every member's (offset, size, insns, deps, guest bytes with the deps)
 * plus bias/variant/flags; the loader recomputes it from current guest
 * memory before trusting the entry (members are not in the key).
 * Anything that does not match is reported under -d cache and the block
 * simply stays in the template tier (it may get hot and be compiled, and
 * stored, again).
 *
 * Dropped regions: when the probe sends a region back to template code
 * (runtime/tierup.c), or a hot header gets none (no loop, or its trips
 * came far apart), the entry's object is replaced by a marker with the
 * same key and header (magic EMUDRP2, members, no object).  A later run
 * that meets the marker neither loads the region nor forms regions over
 * its members (tierup_note_dropped_locked): without it every run compiled
 * the same loops again only to drop them (lua: 0.5 s of LLVM per run).
 *
 * Invalidation: the loaded region's members need not exist as blocks, so
 * the entry block registers every member range in the page map
 * (tb_add_ranges); a write to any of them removes it.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "llvm-backend/llvm-tier.h"
#include "runtime/exec-internal.h"
#include "runtime/log.h"
#include "runtime/objload.h"
#include "runtime/tier-llvm.h"
#include "runtime/tmplcache.h"

#define TC_MAGIC "EMUREG2"
#define TC_DROP_MAGIC "EMUDRP2" /* a region dropped or never formed: members, no object */
#define TC_FN EMU_LLVM_OBJ_FN_PREFIX "0" /* the one region of our objects */
#define TC_MAX_MEMBERS 4096u
#define TC_MEMO 512u

/* The code's memory-check mode (exec_llvm_mem: bit 0 the page map, bit 1
 * loads unchecked), part of every key: it changes when the guest installs
 * a SIGSEGV/SIGBUS handler.  --stats is not part of it: an object built
 * with counters links them to a sink in a run without --stats, and one
 * built without them just goes uncounted (guest insns executed) in a
 * --stats run. */
static uint32_t tc_variant(const ExecEngine *e)
{
    switch (exec_llvm_mem(e)) {
    case TIER_LLVM_MEM_MAP: return 1u;
    case TIER_LLVM_MEM_MAP_STORES: return 3u;
    default: return 0u;
    }
}

static TierLlvmMem variant_mem(uint32_t variant)
{
    return !(variant & 1u) ? TIER_LLVM_MEM_SYNC
           : (variant & 2u) ? TIER_LLVM_MEM_MAP_STORES : TIER_LLVM_MEM_MAP;
}

typedef struct TcHeader {
    char magic[8];
    uint64_t bias;
    uint32_t n_members;
    uint32_t variant;
    uint32_t flags;
    uint32_t obj_size;
    uint8_t members_hash[16];
} TcHeader;
_Static_assert(sizeof(TcHeader) == 48, "payload header layout");

typedef struct TcMember {
    uint64_t offset; /* module-relative pc */
    uint32_t size;   /* guest bytes */
    uint32_t n_insns;
    uint16_t dep_before, dep_after; /* code around it the frontend read (flags
                                       liveness at its exits): hashed too */
    uint32_t pad;
} TcMember;
_Static_assert(sizeof(TcMember) == 24, "payload member layout");

typedef struct TcPack {
    uint8_t hash[16];
    EmuCachePack *p;
} TcPack;

typedef struct TierCache {
    EmuCache *c;
    bool closed;
    TcPack *packs;
    uint32_t n_packs, cap_packs;
    /* --stats */
    uint64_t loaded, loaded_blocks, rejected, stored, lookups;
    uint64_t drops_seen, drops_stored; /* dropped-region markers */
    uint64_t lookup_ns; /* every lookup: module, hash, pack get */
    uint64_t link_ns;   /* hits: verify, objload, install */
    /* page -> (pack, bias) of module_of answers, forgotten whenever guest
     * mappings change (tb_invalidate_locked -> tiercache_forget) */
    struct {
        uint64_t page;
        uint64_t bias;
        EmuCachePack *p;
    } memo[TC_MEMO];
    EmuCacheStats final; /* cache counters when it was closed */
    bool have_final;
} TierCache;

struct TierCacheJob {
    EmuCachePack *pack;
    uint64_t bias;
    uint32_t flags, variant, n;
    uint32_t entry_len;
    uint8_t key_hash[16];
    uint8_t members_hash[16];
    void *obj;
    size_t obj_size;
    TcMember m[];
};

static EmuCachePack *tc_module(ExecEngine *e, uint64_t pc, uint64_t *bias);

static void tc_log(void *opaque, const char *msg)
{
    (void)opaque;
    if (emu_log_enabled(EMU_LOG_CACHE))
        emu_log("%s\n", msg);
}

bool tiercache_enabled(const ExecEngine *e)
{
    return e->tc && !e->tc->closed;
}

bool tiercache_storing(const ExecEngine *e)
{
    return tiercache_enabled(e) && e->cfg.cache_mode == EMU_CACHE_RW;
}

bool tiercache_init(ExecEngine *e)
{
    if ((e->cfg.tier != EXEC_TIER_AUTO && e->cfg.tier != EXEC_TIER_TEMPLATE) ||
        e->cfg.cache_mode == EMU_CACHE_OFF || !e->cfg.module_of)
        return true;
    TierCache *tc = calloc(1, sizeof *tc);
    if (!tc)
        return false;
    char build[512], err[256];
    size_t bl = tier_llvm_build_id(build, sizeof build);
    if (e->cfg.arch->config_id && bl < sizeof build)
        bl += (size_t)snprintf(build + bl, sizeof build - bl, " guest-%s-%" PRIx64,
                               e->cfg.arch->name, e->cfg.arch->config_id());
    if (bl < sizeof build) /* template code's register convention */
        snprintf(build + bl, sizeof build - bl, " pins-%" PRIx64, tmpl_pin_id());
    EmuCacheConfig cc = { .dir = e->cfg.cache_dir,
                          .mode = (EmuCacheMode)e->cfg.cache_mode,
                          .build_id = build,
                          .log = tc_log,
                          .time_gets = e->cfg.stats };
    tc->c = emu_cache_open(&cc, err, sizeof err);
    if (!tc->c) {
        /* the run goes on without a cache; said on stderr when a cache
         * directory was asked for, else only under -d cache (the default
         * cache under an unwritable $HOME must not talk at every run) */
        if (e->cfg.cache_dir || getenv("EMU_CACHE_DIR"))
            fprintf(stderr, "emu: code cache: %s; running without it\n", err);
        else if (emu_log_enabled(EMU_LOG_CACHE))
            emu_log("cache: %s; running without it\n", err);
        free(tc);
        return true;
    }
    if (emu_log_enabled(EMU_LOG_CACHE))
        emu_log("cache: %s (%s), build \"%s\"\n", emu_cache_dir(tc->c),
                e->cfg.cache_mode == EMU_CACHE_RO ? "read-only" : "read-write", build);
    e->tc = tc;
    return true;
}

void tiercache_close(ExecEngine *e, bool at_exit)
{
    pthread_mutex_lock(&e->lock);
    TierCache *tc = e->tc;
    if (tc && !tc->closed) {
        tc->closed = true;
        uint64_t t0 = exec_now_ns();
        EmuCache *c = tc->c;
        tc->c = NULL;
        /* emu_cache_close writes the packs; its stats die with it, so take
         * them after the packs are written (store_ns included) by hand. */
        for (uint32_t i = 0; i < tc->n_packs; i++)
            emu_cache_pack_flush(tc->packs[i].p);
        emu_cache_get_stats(c, &tc->final);
        tc->have_final = true;
        if (at_exit)
            emu_cache_close_at_exit(c);
        else
            emu_cache_close(c);
        if (emu_log_enabled(EMU_LOG_CACHE))
            emu_log("cache: closed (%u packs, %.2f ms)\n", tc->n_packs, (exec_now_ns() - t0) / 1e6);
    }
    pthread_mutex_unlock(&e->lock);
}

void tiercache_free(ExecEngine *e)
{
    TierCache *tc = e->tc;
    if (!tc)
        return;
    if (!tc->closed)
        tiercache_close(e, false);
    free(tc->packs);
    free(tc);
    e->tc = NULL;
}

/* The pack of a module (opened on first use).  Under e->lock. */
static EmuCachePack *tc_pack(TierCache *tc, const EmuCacheModuleId *id)
{
    for (uint32_t i = 0; i < tc->n_packs; i++)
        if (!memcmp(tc->packs[i].hash, id->hash, 16))
            return tc->packs[i].p;
    if (tc->n_packs == tc->cap_packs) {
        uint32_t cap = tc->cap_packs ? tc->cap_packs * 2 : 8;
        TcPack *n = realloc(tc->packs, cap * sizeof *n);
        if (!n)
            return NULL;
        tc->packs = n;
        tc->cap_packs = cap;
    }
    EmuCachePack *p = emu_cache_pack_open(tc->c, id);
    if (!p)
        return NULL;
    memcpy(tc->packs[tc->n_packs].hash, id->hash, 16);
    tc->packs[tc->n_packs++].p = p;
    if (emu_log_enabled(EMU_LOG_CACHE))
        emu_log("cache: module %s -> pack %s\n", id->path ? id->path : "?",
                emu_cache_pack_name(p));
    return p;
}

void tiercache_forget(ExecEngine *e)
{
    if (e->tc)
        memset(e->tc->memo, 0, sizeof e->tc->memo);
}

EmuCachePack *tiercache_module_pack(ExecEngine *e, uint64_t pc, uint64_t *bias)
{
    return tiercache_enabled(e) ? tc_module(e, pc, bias) : NULL;
}

/* The pack and load bias of the module holding pc.  Under e->lock. */
static EmuCachePack *tc_module(ExecEngine *e, uint64_t pc, uint64_t *bias)
{
    TierCache *tc = e->tc;
    uint64_t page = pc >> EXEC_PAGE_BITS;
    unsigned slot = (unsigned)(page % TC_MEMO);
    if (tc->memo[slot].p && tc->memo[slot].page == page) {
        *bias = tc->memo[slot].bias;
        return tc->memo[slot].p;
    }
    EmuCacheModuleId id = { 0 };
    if (!e->cfg.module_of(e->cfg.module_opaque, pc, &id, bias) || pc < *bias)
        return NULL;
    /* One pack per (module, load bias): the objects hold absolute guest
     * pcs, so a library that two programs load at different addresses
     * gets two packs instead of entries that replace each other. */
    uint8_t key[24];
    memcpy(key, id.hash, 16);
    memcpy(key + 16, bias, 8);
    emu_cache_hash128(key, sizeof key, id.hash);
    EmuCachePack *p = tc_pack(tc, &id);
    if (p) {
        tc->memo[slot].page = page;
        tc->memo[slot].bias = *bias;
        tc->memo[slot].p = p;
    }
    return p;
}

/* Hash of guest code plus a trailer; false if the code is not readable. */
typedef struct TcHashBuf {
    uint8_t *b;
    size_t n, cap;
} TcHashBuf;

static bool hb_add(TcHashBuf *h, const void *p, size_t n)
{
    if (h->n + n > h->cap) {
        size_t cap = h->cap ? h->cap : 4096;
        while (cap < h->n + n)
            cap *= 2;
        uint8_t *nb = realloc(h->b, cap);
        if (!nb)
            return false;
        h->b = nb;
        h->cap = cap;
    }
    memcpy(h->b + h->n, p, n);
    h->n += n;
    return true;
}

static bool hb_guest(ExecEngine *e, TcHashBuf *h, uint64_t pc, uint32_t size)
{
    if (h->n + size > h->cap && !hb_add(h, "", 0))
        return false;
    uint8_t tmp[512];
    while (size) {
        uint32_t k = size < sizeof tmp ? size : (uint32_t)sizeof tmp;
        if (!e->cfg.mem.read_code(e->cfg.mem.opaque, pc, tmp, k) || !hb_add(h, tmp, k))
            return false;
        pc += k;
        size -= k;
    }
    return true;
}

static bool hb_trailer(TcHashBuf *h, uint64_t bias, uint32_t variant, uint32_t flags)
{
    return hb_add(h, &bias, 8) && hb_add(h, &variant, 4) && hb_add(h, &flags, 4);
}

static bool key_hash(ExecEngine *e, uint64_t pc, uint32_t size, uint64_t bias, uint32_t variant,
                     uint32_t flags, uint8_t out[16])
{
    TcHashBuf h = { 0 };
    bool ok = hb_guest(e, &h, pc, size) && hb_trailer(&h, bias, variant, flags);
    if (ok)
        emu_cache_hash128(h.b, h.n, out);
    free(h.b);
    return ok;
}

static bool members_hash(ExecEngine *e, const TcMember *m, uint32_t n, uint64_t bias,
                         uint32_t variant, uint32_t flags, uint8_t out[16])
{
    TcHashBuf h = { 0 };
    bool ok = true;
    for (uint32_t i = 0; ok && i < n; i++)
        ok = hb_add(&h, &m[i], sizeof m[i]) &&
             hb_guest(e, &h, m[i].offset + bias - m[i].dep_before,
                      m[i].dep_before + m[i].size + m[i].dep_after);
    ok = ok && hb_trailer(&h, bias, variant, flags);
    if (ok)
        emu_cache_hash128(h.b, h.n, out);
    free(h.b);
    return ok;
}

/* ---- load --------------------------------------------------------------- */

static uint64_t counter_sink; /* emu_count_* of objects loaded without --stats */

static bool tc_resolve(void *opaque, const char *name, uint64_t *addr)
{
    if (objload_emu_resolve(opaque, name, addr))
        return true;
    if (!strncmp(name, EMU_LLVM_OBJ_COUNT_PREFIX, strlen(EMU_LLVM_OBJ_COUNT_PREFIX)) &&
        !((const ObjEmuNames *)opaque)->counters) {
        *addr = (uint64_t)(uintptr_t)&counter_sink;
        return true;
    }
    return false;
}

static void reject(TierCache *tc, const TransBlock *tb, uint64_t off, const char *why)
{
    tc->rejected++;
    if (emu_log_enabled(EMU_LOG_CACHE))
        emu_log("cache: region at 0x%016" PRIx64 " (offset 0x%" PRIx64 "): %s; retranslating\n",
                tb->pc, off, why);
}

void tiercache_on_translate(ExecEngine *e, TransBlock *tb)
{
    TierCache *tc = e->tc;
    if (!tc || tc->closed || tb->llvm_entry || e->cfg.tier != EXEC_TIER_AUTO)
        return;
    /* no host code yet: a latch looping to itself asks before its code is
     * made, for a dropped-region marker only (no countdown then) */
    const bool early = !tb->host;
    const bool timed = e->cfg.stats;   /* clock reads per block: --stats only */
    uint64_t t0 = timed ? exec_now_ns() : 0;
    uint64_t bias = 0;
    EmuCachePack *pk = tc_module(e, tb->pc, &bias);
    uint64_t off = tb->pc - bias;
    uint8_t kh[16];
    tc->lookups += !early;
    /* most blocks are no region entry: no hashing for them */
    if (!pk || tb->pc < bias || !emu_cache_pack_has(pk, off, tb->flags, EMU_CACHE_KIND_OBJECT) ||
        !key_hash(e, tb->pc, tb->guest_size, bias, tc_variant(e), tb->flags, kh)) {
        if (timed)
            tc->lookup_ns += exec_now_ns() - t0;
        return;
    }
    const void *data;
    size_t len;
    bool hit = emu_cache_pack_get(pk, off, tb->flags, EMU_CACHE_KIND_OBJECT, kh, &data, &len);
    uint64_t t1 = timed ? exec_now_ns() : 0;
    tc->lookup_ns += t1 - t0;
    if (!hit)
        return;
    /* The entry passed the cache's checksums; now the payload itself. */
    TcHeader h;
    if (len < sizeof h) {
        reject(tc, tb, off, "payload too short");
        return;
    }
    memcpy(&h, data, sizeof h);
    bool dropped = !memcmp(h.magic, TC_DROP_MAGIC, 8);
    if ((memcmp(h.magic, TC_MAGIC, 8) && !dropped) || dropped != (h.obj_size == 0) ||
        h.n_members == 0 || h.n_members > TC_MAX_MEMBERS ||
        len != sizeof h + (size_t)h.n_members * sizeof(TcMember) + h.obj_size) {
        reject(tc, tb, off, "malformed payload header");
        return;
    }
    if (early && (!dropped || tierup_in_dropped_locked(e, tb->pc)))
        return; /* an object waits for the block's code; a marker is met once */
    if (!early && dropped && tierup_in_dropped_locked(e, tb->pc))
        return;
    if (h.bias != bias || h.variant != tc_variant(e) || h.flags != tb->flags) {
        reject(tc, tb, off, "load bias or mode differs");
        return;
    }
    TcMember *m = malloc(h.n_members * sizeof *m);
    TbRange *ranges = malloc(h.n_members * sizeof *ranges);
    uint64_t *counts = e->cfg.stats ? calloc(h.n_members, sizeof *counts) : NULL;
    uint64_t **cptr = e->cfg.stats ? calloc(h.n_members, sizeof *cptr) : NULL;
    if (!m || !ranges || (e->cfg.stats && (!counts || !cptr))) {
        free(m), free(ranges), free(counts), free(cptr);
        return;
    }
    memcpy(m, (const uint8_t *)data + sizeof h, h.n_members * sizeof *m);
    const uint8_t *obj = (const uint8_t *)data + sizeof h + h.n_members * sizeof *m;
    uint8_t mh[16];
    const char *why = NULL;
    if (m[0].offset != off || m[0].size != tb->guest_size)
        why = "entry block differs";
    for (uint32_t i = 0; !why && i < h.n_members; i++)
        if (m[i].size == 0 || m[i].size > (1u << 20) || m[i].offset + bias < bias ||
            m[i].dep_before >= 4096 || m[i].dep_after >= 4096 || m[i].offset + bias < m[i].dep_before)
            why = "bad member range";
    if (!why && !members_hash(e, m, h.n_members, bias, tc_variant(e), tb->flags, mh))
        why = "member code not readable";
    if (!why && memcmp(mh, h.members_hash, 16))
        why = "guest code of a member changed";
    if (!why && dropped) {
        for (uint32_t i = 0; i < h.n_members; i++)
            ranges[i] = (TbRange){ .pc = m[i].offset + bias, .size = m[i].size,
                                   .n_insns = m[i].n_insns };
        tierup_note_dropped_locked(e, ranges, h.n_members);
        free(m), free(ranges), free(counts), free(cptr);
        tc->drops_seen++;
        tc->link_ns += timed ? exec_now_ns() - t1 : 0;
        if (emu_log_enabled(EMU_LOG_CACHE))
            emu_log("cache: region at 0x%016" PRIx64 " (%u blocks) was dropped by the probe "
                    "before: left to template code\n", tb->pc, h.n_members);
        return;
    }
    ObjImage *img = NULL;
    uintptr_t (*fn)(void *) = NULL;
    char err[256] = "";
    if (!why) {
        uintptr_t tag = (uintptr_t)tb;
        for (uint32_t i = 0; cptr && i < h.n_members; i++)
            cptr[i] = &counts[i];
        uint64_t *const *cp = cptr;
        uint32_t nc = h.n_members;
        ObjEmuNames nm = { .helpers = ir_helper_info, .n_helpers = IR_HELPER_COUNT,
                           .tags = &tag, .n_tags = 1, .counters = cptr ? &cp : NULL,
                           .n_counters = &nc };
        img = objload(obj, h.obj_size, tc_resolve, &nm, err, sizeof err);
        if (!img)
            why = err;
        else if (!(fn = (uintptr_t(*)(void *))objload_sym(img, TC_FN)))
            why = "object has no emu_r0";
    }
    free(cptr);
    if (why) {
        if (img)
            objload_free(img);
        free(m), free(ranges), free(counts);
        reject(tc, tb, off, why);
        tc->link_ns += timed ? exec_now_ns() - t1 : 0;
        return;
    }
    for (uint32_t i = 0; i < h.n_members; i++)
        ranges[i] = (TbRange){ .pc = m[i].offset + bias, .size = m[i].size,
                               .n_insns = m[i].n_insns };
    free(m);
    /* Install: the block was inserted just now, so nothing is chained to it
     * and no jump cache holds it yet. */
    tb->obj_image = img;
    tb->region_counts = counts;
    tb_add_ranges(e, tb, ranges, h.n_members);
    const void *stub = tmpl_emit_call_stub(&e->buf, (const void *)fn);
    tierup_perfmap(img, stub, tb->pc, "cached");
    __atomic_store_n(&tb->hot, INT32_MAX, __ATOMIC_RELAXED);
    tb->tier_state = TIER_DONE;
    __atomic_store_n(&tb->llvm_entry, fn, __ATOMIC_RELEASE);
    if (stub)
        __atomic_store_n(&tb->llvm_stub, stub, __ATOMIC_RELEASE);
    tc->loaded++;
    tc->loaded_blocks += h.n_members;
    tc->link_ns += timed ? exec_now_ns() - t1 : 0;
    if (emu_log_enabled(EMU_LOG_CACHE))
        emu_log("cache: region at 0x%016" PRIx64 " (%u blocks, %u bytes of object) loaded\n",
                tb->pc, h.n_members, h.obj_size);
}

void tiercache_meet_header(ExecEngine *e, TransBlock *latch, uint64_t header)
{
    if (!e->tc || e->cfg.tier != EXEC_TIER_AUTO || tierup_in_dropped_locked(e, header))
        return;
    if (header == latch->pc) {
        tiercache_on_translate(e, latch); /* no host code yet: markers only */
        return;
    }
    /* translated already: it met its marker then; else its size, for the
     * marker's key, comes from its cached template block */
    TransBlock h = { .pc = header, .flags = latch->flags };
    if (!tb_find(e, header, latch->flags) &&
        tmplcache_peek_size(e, header, latch->flags, &h.guest_size))
        tiercache_on_translate(e, &h);
}

void tiercache_count_insns(const TransBlock *tb, uint64_t *blocks, uint64_t *insns)
{
    for (uint32_t i = 0; tb->region_counts && i < tb->n_ranges; i++) {
        uint64_t n = __atomic_load_n(&tb->region_counts[i], __ATOMIC_RELAXED);
        *blocks += n;
        *insns += n * tb->ranges[i].n_insns;
    }
}

/* ---- store -------------------------------------------------------------- */

struct TierCacheJob *tiercache_job_new(ExecEngine *e, TransBlock *const *tbs, uint32_t n,
                                       bool counters)
{
    TierCache *tc = e->tc;
    if (!tc || tc->closed || !n || e->cfg.cache_mode != EMU_CACHE_RW)
        return NULL;
    (void)counters;
    uint64_t bias = 0;
    const TransBlock *en = tbs[0];
    EmuCachePack *pk = tc_module(e, en->pc, &bias);
    if (!pk)
        return NULL;
    struct TierCacheJob *j = calloc(1, sizeof *j + n * sizeof(TcMember));
    if (!j)
        return NULL;
    j->pack = pk;
    j->bias = bias;
    j->flags = en->flags;
    j->variant = tc_variant(e);
    j->n = n;
    j->entry_len = en->guest_size;
    bool ok = j->pack != NULL;
    for (uint32_t i = 0; ok && i < n; i++) {
        if (tbs[i]->pc < bias) {
            ok = false;
            break;
        }
        j->m[i] = (TcMember){ .offset = tbs[i]->pc - bias, .size = tbs[i]->guest_size,
                              .n_insns = tbs[i]->n_insns, .dep_before = tbs[i]->dep_before,
                              .dep_after = tbs[i]->dep_after };
    }
    ok = ok && key_hash(e, en->pc, en->guest_size, bias, j->variant, j->flags, j->key_hash) &&
         members_hash(e, j->m, n, bias, j->variant, j->flags, j->members_hash);
    if (!ok) {
        free(j);
        return NULL;
    }
    return j;
}

void tiercache_job_free(struct TierCacheJob *j)
{
    if (!j)
        return;
    free(j->obj);
    free(j);
}

bool tiercache_compile(ExecEngine *e, struct TierCacheJob *cj, const IrBlock *const *ir,
                       uint32_t n, TransBlock *entry, uint64_t *const *counters,
                       struct ObjImage **img, uintptr_t (**entry_fn)(void *))
{
    (void)e;
    void *obj;
    size_t size;
    if (n != cj->n || !tier_llvm_compile_object(ir, n, counters, variant_mem(cj->variant),
                                                &obj, &size))
        return false;
    uintptr_t tag = (uintptr_t)entry;
    uint32_t nc = n;
    ObjEmuNames nm = { .helpers = ir_helper_info, .n_helpers = IR_HELPER_COUNT, .tags = &tag,
                       .n_tags = 1, .counters = counters ? &counters : NULL, .n_counters = &nc };
    char err[256];
    ObjImage *im = objload(obj, size, objload_emu_resolve, &nm, err, sizeof err);
    void *f = im ? objload_sym(im, TC_FN) : NULL;
    if (!f) {
        fprintf(stderr, "emu: code cache: cannot load a compiled region: %s\n",
                im ? "no emu_r0" : err);
        if (im)
            objload_free(im);
        free(obj);
        return false;
    }
    cj->obj = obj;
    cj->obj_size = size;
    *img = im;
    *entry_fn = (uintptr_t(*)(void *))f;
    return true;
}

void tiercache_store_locked(ExecEngine *e, struct TierCacheJob *cj)
{
    TierCache *tc = e->tc;
    if (!tc || tc->closed || !cj->obj || cj->obj_size > UINT32_MAX)
        return;
    size_t len = sizeof(TcHeader) + cj->n * sizeof(TcMember) + cj->obj_size;
    uint8_t *buf = malloc(len);
    if (!buf)
        return;
    TcHeader h = { .bias = cj->bias, .n_members = cj->n, .variant = cj->variant,
                   .flags = cj->flags, .obj_size = (uint32_t)cj->obj_size };
    memcpy(h.magic, TC_MAGIC, 8);
    memcpy(h.members_hash, cj->members_hash, 16);
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, cj->m, cj->n * sizeof(TcMember));
    memcpy(buf + sizeof h + cj->n * sizeof(TcMember), cj->obj, cj->obj_size);
    if (emu_cache_pack_put_ex(cj->pack, cj->m[0].offset, cj->flags, EMU_CACHE_KIND_OBJECT,
                              cj->key_hash, cj->entry_len, buf, len)) {
        tc->stored++;
        if (emu_log_enabled(EMU_LOG_CACHE))
            emu_log("cache: region at 0x%016" PRIx64 " (%u blocks, %zu bytes) stored\n",
                    cj->m[0].offset + cj->bias, cj->n, len);
    }
    free(buf);
}

void tiercache_store_dropped_locked(ExecEngine *e, const TransBlock *tb, const TbRange *r,
                                   uint32_t n)
{
    TierCache *tc = e->tc;
    uint64_t bias = 0;
    if (!tiercache_storing(e) || n == 0 || n > TC_MAX_MEMBERS || r[0].pc != tb->pc)
        return;
    EmuCachePack *pk = tc_module(e, tb->pc, &bias);
    TcMember *m = pk ? malloc(n * sizeof *m) : NULL;
    if (!m)
        return;
    bool ok = true;
    for (uint32_t i = 0; i < n && ok; i++) {
        m[i] = (TcMember){ .offset = r[i].pc - bias, .size = r[i].size, .n_insns = r[i].n_insns };
        ok = r[i].pc >= bias && r[i].size;
    }
    TcHeader h = { .bias = bias, .n_members = n, .variant = tc_variant(e), .flags = tb->flags };
    memcpy(h.magic, TC_DROP_MAGIC, 8);
    uint8_t kh[16];
    size_t len = sizeof h + n * sizeof *m;
    uint8_t *buf = ok ? malloc(len) : NULL;
    if (buf && key_hash(e, tb->pc, tb->guest_size, bias, tc_variant(e), tb->flags, kh) &&
        members_hash(e, m, n, bias, tc_variant(e), tb->flags, h.members_hash)) {
        memcpy(buf, &h, sizeof h);
        memcpy(buf + sizeof h, m, n * sizeof *m);
        if (emu_cache_pack_put_ex(pk, m[0].offset, tb->flags, EMU_CACHE_KIND_OBJECT, kh,
                                  tb->guest_size, buf, len)) {
            tc->drops_stored++;
            if (emu_log_enabled(EMU_LOG_CACHE))
                emu_log("cache: region at 0x%016" PRIx64 " (%u blocks) dropped: marker stored\n",
                        tb->pc, n);
        }
    }
    free(buf);
    free(m);
}

bool tiercache_payload_dropped(const void *payload, size_t len, uint32_t *n_members)
{
    TcHeader h;
    if (len < sizeof h)
        return false;
    memcpy(&h, payload, sizeof h);
    if (memcmp(h.magic, TC_DROP_MAGIC, 8) || h.obj_size || h.n_members == 0 ||
        h.n_members > TC_MAX_MEMBERS || len != sizeof h + (size_t)h.n_members * sizeof(TcMember))
        return false;
    *n_members = h.n_members;
    return true;
}

bool tiercache_payload_object(const void *payload, size_t len, const void **obj, size_t *obj_len,
                              uint32_t *n_members)
{
    TcHeader h;
    if (len < sizeof h)
        return false;
    memcpy(&h, payload, sizeof h);
    if (memcmp(h.magic, TC_MAGIC, 8) || h.n_members == 0 || h.n_members > TC_MAX_MEMBERS ||
        len != sizeof h + (size_t)h.n_members * sizeof(TcMember) + h.obj_size)
        return false;
    *obj = (const uint8_t *)payload + sizeof h + (size_t)h.n_members * sizeof(TcMember);
    *obj_len = h.obj_size;
    *n_members = h.n_members;
    return true;
}

/* ---- --stats ------------------------------------------------------------ */

void exec_cache_stats_print(ExecEngine *e, FILE *f)
{
    TierCache *tc = e ? e->tc : NULL;
    if (!tc)
        return;
    pthread_mutex_lock(&e->lock);
    EmuCacheStats s;
    if (tc->have_final)
        s = tc->final;
    else
        emu_cache_get_stats(tc->c, &s);
    uint64_t loaded = tc->loaded, blocks = tc->loaded_blocks, lns = tc->lookup_ns,
             kns = tc->link_ns, rej = tc->rejected, stored = tc->stored, lookups = tc->lookups,
             drops_seen = tc->drops_seen, drops_stored = tc->drops_stored;
    TmplCacheStats tt = e->tt;
    pthread_mutex_unlock(&e->lock);
    emu_cache_print_stats(f, &s);
    tmplcache_stats_print(e, &tt, f);
    if (e->cfg.tier != EXEC_TIER_AUTO)
        return;
    fprintf(f, "  cache regions          %" PRIu64 " lookups, %" PRIu64 " loaded (%" PRIu64
               " guest blocks), %" PRIu64 " rejected, %" PRIu64 " stored\n",
            lookups, loaded, blocks, rej, stored);
    fprintf(f, "  cache dropped regions  %" PRIu64 " met (not loaded, no region formed over "
               "them), %" PRIu64 " stored\n", drops_seen, drops_stored);
    /* per loaded block: its share of every lookup (hits and misses) plus
     * the verify/link/install of the regions that hit */
    fprintf(f, "  cache load cost        %.2f ms (lookups %.2f ms, %.2f us each; verify+link "
               "%.2f ms, %.1f us per region); %.2f us per loaded guest block\n",
            (lns + kns) / 1e6, lns / 1e6, lookups ? lns / 1e3 / (double)lookups : 0.0, kns / 1e6,
            loaded ? kns / 1e3 / (double)loaded : 0.0,
            blocks ? (lns + kns) / 1e3 / (double)blocks : 0.0);
}
