/*
 * tmplcache.c - template-tier translations that outlive the process.
 *
 * Every block the template backend translates (relocatable: TmplMemModel.
 * relocatable) is queued into the pack of its guest module, next to the
 * LLVM regions of tiercache.c, and written when the runtime stops.  The
 * next run looks a block up before lifting it: on a verified hit the stored
 * host code is copied into the code buffer and relocated (tmpl_install), so
 * neither the frontend nor the backend runs.  This is what makes a second
 * run of a startup-bound program (python3: 40k blocks, 60% of its time in
 * translation) skip translation; emu-aot fills the same entries ahead of
 * time.
 *
 * Entry key: (pc - module bias, mode flags, EMU_CACHE_KIND_TEMPLATE +
 * variant), variant = what changes the code besides the guest bytes (the
 * tier-up countdown; see tt_variant for --stats).  The key's content hash covers only (bias,
 * variant, flags, max insns): the block's extent is unknown before a lookup,
 * so the payload carries the guest size and an XXH3-128 of the guest bytes,
 * recomputed from guest memory before the code is trusted.  Absolute guest
 * pcs are baked into the code, so the bias is in the hash and the header
 * (tiercache.c keeps one pack per module and bias).
 *
 * Payload: TtHeader, insn pc offsets (u32 per insn; none when every insn
 * is 4 bytes), relocations (8 bytes each), insn map (4 bytes each), the
 * write-back map (TmplCode.wb, u32 words), host code: about 380 bytes per
 * block on python3.  Anything that does not add up is reported under
 * -d cache and the block is translated as usual (and stored again).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "cache/cache.h"
#include "runtime/exec-internal.h"
#include "runtime/log.h"
#include "runtime/tmplcache.h"

#define TT_MAGIC "EMUTPL6"
#define TT_MAX_GUEST (1u << 16)
#define TT_MAX_CODE 0xFFFFu     /* insn map offsets are u16 */

typedef struct TtHeader {
    char magic[8];
    uint64_t bias;
    uint64_t loop_header;   /* latch blocks: the backward target */
    uint32_t flags, variant;
    uint32_t guest_size, n_insns;
    uint32_t code_size, n_relocs, n_map;
    uint32_t chain_site[IR_GOTO_TB_SLOTS], chain_reset[IR_GOTO_TB_SLOTS];
    uint8_t latch;
    uint8_t insn_stride;    /* insn i at pc + i * stride; 0: an offset table follows */
    uint8_t guard_log2;     /* TmplMemModel.limit_guard it was made for: 1 << this, 0: none */
    uint8_t pad;
    uint8_t guest_hash[16]; /* XXH3-128 of [pc - dep_before, pc + guest_size + dep_after) */
    uint32_t n_wb;          /* write-back map words */
    uint16_t dep_before;    /* guest code around the block the translation read */
    uint16_t dep_after;     /*   (IrBlock.read_before/read_after) */
} TtHeader;
_Static_assert(sizeof(TtHeader) == 112, "template payload header layout");

/* On disk (little-endian host order, read with memcpy: no alignment):
 * relocations as u32 (offset << 3 | kind) + u32 arg, insn map entries as
 * u16 host_end + u16 insn_idx.  Half the size of the in-memory records. */
#define TT_RELOC_BYTES 8u
#define TT_MAP_BYTES 4u

/* A payload taken apart (tt_decode); the arrays are one allocation. */
typedef struct TtDecoded {
    TtHeader h;
    TmplImage img;           /* code points into the payload */
    uint32_t *insn_off;      /* n_insns offsets from the block pc */
    void *mem;
} TtDecoded;

static uint64_t tt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Load time goes to --stats only: two clock reads per block were ~2% of a
 * warm start. */
static uint64_t tt_start(const ExecEngine *e)
{
    return e->cfg.stats ? tt_now() : 0;
}

static void tt_lookup_done(ExecEngine *e, uint64_t t0)
{
    if (e->cfg.stats)
        e->tt.lookup_ns += tt_now() - t0;
}

/* What besides guest bytes and flags shapes a block's template code: the
 * tier-up countdown of --tier=auto.  --stats counters are not part of it:
 * a --stats run reads the cache (its blocks then go uncounted in "blocks
 * executed") but stores nothing, so no run ever pays for counters it did
 * not ask for, and a warm run can still be measured with --stats. */
static uint32_t tt_variant(const ExecEngine *e)
{
    return e->cfg.tier == EXEC_TIER_AUTO ? 1u : 0u;
}

/* TtHeader.guard_log2 for the engine's memory model (a guard that is not a
 * power of two is stored as the next smaller one: never more than there is). */
static uint8_t tt_guard_log2(const ExecEngine *e)
{
    uint64_t g = e->mm.limit_guard;
    uint8_t l = 0;
    while (g >> (l + 1))
        l++;
    return g ? l : 0;
}

static uint64_t tt_guard(uint8_t log2)
{
    return log2 && log2 < 64 ? (uint64_t)1 << log2 : 0;
}

bool tmplcache_enabled(const ExecEngine *e)
{
    return (e->cfg.tier == EXEC_TIER_TEMPLATE || e->cfg.tier == EXEC_TIER_AUTO) &&
           tiercache_enabled(e) && e->cfg.max_insns > 0;
}

bool tmplcache_storing(const ExecEngine *e)
{
    return tmplcache_enabled(e) && tiercache_storing(e) && !e->cfg.stats;
}

static void key_hash(const ExecEngine *e, uint64_t bias, uint32_t flags, uint8_t out[16])
{
    struct {
        char salt[8];
        uint64_t bias;
        uint32_t variant, flags, max_insns, pad;
    } k = { "tmpl", bias, tt_variant(e), flags, e->cfg.max_insns, 0 };
    emu_cache_hash128(&k, sizeof k, out);
}

static bool guest_hash(ExecEngine *e, uint64_t pc, uint32_t size, uint8_t out[16])
{
    /* Most blocks lie in the window of code translate_locked's probe (or the
     * frontend) has just read (read_code_cb): hash it there, no second read. */
    if (e->code_cache_valid && pc >= e->code_cache_start &&
        pc - e->code_cache_start + size <= e->code_cache_len) {
        emu_cache_hash128(e->code_cache + (pc - e->code_cache_start), size, out);
        return true;
    }
    return exec_code_hash(e, pc, size, out);
}

static void tt_reject(ExecEngine *e, uint64_t pc, const char *why)
{
    e->tt.rejected++;
    if (emu_log_enabled(EMU_LOG_CACHE))
        emu_log("cache: template block at 0x%016" PRIx64 ": %s; retranslating\n", pc, why);
}

/* Take a payload apart and check it; NULL on success (free d->mem), else
 * why it is unusable. */
static const char *tt_decode(const void *data, size_t len, TtDecoded *d)
{
    TtHeader *h = &d->h;
    memset(d, 0, sizeof *d);
    if (len < sizeof *h)
        return "payload too short";
    memcpy(h, data, sizeof *h);
    if (memcmp(h->magic, TT_MAGIC, 8))
        return "bad payload magic";
    if (h->guest_size == 0 || h->guest_size > TT_MAX_GUEST || h->n_insns == 0 ||
        h->dep_before >= 4096 || h->dep_after >= 4096 ||
        h->n_insns > h->guest_size || h->code_size == 0 || h->code_size > TT_MAX_CODE ||
        h->n_relocs > TT_MAX_CODE || h->n_map > TT_MAX_CODE || h->n_wb > TT_MAX_CODE)
        return "malformed payload header";
    uint64_t offs = h->insn_stride ? 0 : (uint64_t)h->n_insns * 4;
    uint64_t need = sizeof *h + offs + (uint64_t)h->n_relocs * TT_RELOC_BYTES +
                    (uint64_t)h->n_map * TT_MAP_BYTES + (uint64_t)h->n_wb * 4 + h->code_size;
    if (need != len)
        return "payload size does not add up";
    size_t n_r = h->n_relocs, n_m = h->n_map, n_i = h->n_insns, n_w = h->n_wb;
    uint8_t *mem = malloc(n_r * sizeof(TmplReloc) + n_m * sizeof(TmplInsnMapEntry) +
                          (n_i + n_w) * sizeof(uint32_t) + 1);
    if (!mem)
        return "out of memory";
    d->mem = mem;
    TmplReloc *r = (TmplReloc *)(void *)mem;
    TmplInsnMapEntry *m = (TmplInsnMapEntry *)(void *)(r + n_r);
    d->insn_off = (uint32_t *)(void *)(m + n_m);
    uint32_t *wb = d->insn_off + n_i;
    const uint8_t *p = (const uint8_t *)data + sizeof *h;
    for (size_t i = 0; i < n_i; i++) {
        uint32_t o = (uint32_t)(i * h->insn_stride);
        if (!h->insn_stride)
            memcpy(&o, p + 4 * i, 4);
        if (o >= h->guest_size)
            return "insn offset outside the block";
        d->insn_off[i] = o;
    }
    p += offs;
    for (size_t i = 0; i < n_r; i++, p += TT_RELOC_BYTES) {
        uint32_t ok, arg;
        memcpy(&ok, p, 4);
        memcpy(&arg, p + 4, 4);
        r[i] = (TmplReloc){ .offset = ok >> 3, .kind = ok & 7, .arg = arg };
    }
    for (size_t i = 0; i < n_m; i++, p += TT_MAP_BYTES) {
        uint16_t end, idx;
        memcpy(&end, p, 2);
        memcpy(&idx, p + 2, 2);
        if (idx >= n_i)
            return "insn map names a missing insn";
        m[i] = (TmplInsnMapEntry){ .host_end = end, .insn_idx = idx };
    }
    memcpy(wb, p, n_w * 4);
    p += n_w * 4;
    d->img = (TmplImage){ .code = p, .size = h->code_size, .relocs = r, .n_relocs = (uint32_t)n_r,
                          .insn_map = m, .n_insn_map = (uint32_t)n_m, .wb = wb,
                          .n_wb = (uint32_t)n_w };
    for (int s = 0; s < IR_GOTO_TB_SLOTS; s++) {
        d->img.chain_site[s] = h->chain_site[s];
        d->img.chain_reset[s] = h->chain_reset[s];
    }
    return NULL;   /* tmpl_install checks relocations, chain slots and the maps against the code */
}

bool tmplcache_peek_size(ExecEngine *e, uint64_t pc, uint32_t flags, uint32_t *size)
{
    uint64_t bias = 0;
    uint8_t kind = (uint8_t)(EMU_CACHE_KIND_TEMPLATE + tt_variant(e));
    EmuCachePack *pk = tmplcache_enabled(e) ? tiercache_module_pack(e, pc, &bias) : NULL;
    if (!pk || pc < bias || !emu_cache_pack_has(pk, pc - bias, flags, kind))
        return false;
    uint8_t kh[16];
    key_hash(e, bias, flags, kh);
    TtHeader h; /* only the header: the payload is not copied */
    bool ok = emu_cache_pack_get_head(pk, pc - bias, flags, kind, kh, &h, sizeof h, NULL);
    if (ok) {
        ok = !memcmp(h.magic, TT_MAGIC, 8) && h.bias == bias && h.flags == flags &&
             h.guest_size && h.guest_size <= TT_MAX_GUEST;
        *size = h.guest_size;
    }
    return ok;
}

bool tmplcache_load(ExecEngine *e, TransBlock *tb, uint64_t pc, uint32_t flags)
{
    if (!tmplcache_enabled(e) ||
        emu_log_enabled(EMU_LOG_IN_ASM | EMU_LOG_OP | EMU_LOG_OP_OPT | EMU_LOG_OUT_ASM))
        return false;
    uint64_t t0 = tt_start(e);
    uint64_t bias = 0;
    uint8_t kind = (uint8_t)(EMU_CACHE_KIND_TEMPLATE + tt_variant(e));
    EmuCachePack *pk = tiercache_module_pack(e, pc, &bias);
    e->tt.lookups++;
    if (!pk || pc < bias || !emu_cache_pack_has(pk, pc - bias, flags, kind)) {
        tt_lookup_done(e, t0);
        return false;
    }
    uint8_t kh[16];
    key_hash(e, bias, flags, kh);
    /* a copy: the pack keeps no chunk for code that is installed at once */
    size_t len;
    bool hit = emu_cache_pack_get_copy(pk, pc - bias, flags, kind, kh, &e->tt_buf, &e->tt_cap,
                                       &len);
    const void *data = e->tt_buf;
    if (!hit) {
        tt_lookup_done(e, t0);
        return false;
    }
    TtDecoded d;
    const char *why = tt_decode(data, len, &d);
    const TtHeader *hp = &d.h;
    uint8_t gh[16];
    if (!why && (hp->bias != bias || hp->flags != flags || hp->variant != tt_variant(e)))
        why = "load bias or mode differs";
    /* its limit checks assume this much guard past the guest's range */
    if (!why && tt_guard(hp->guard_log2) != tt_guard(tt_guard_log2(e)))
        why = "made for another guard past the guest's memory";
    if (!why && hp->latch) {
        tb->pc = pc;
        tb->flags = flags;
        tb->guest_size = hp->guest_size;
        tiercache_meet_header(e, tb, hp->loop_header);
    }
    /* its loop's region was dropped or never formed (a cache marker): the
     * countdown is turned off (tmpl_latch_off).  Translating the block
     * again without it made a second run translate every such latch
     * (sqlite3: ~100 blocks, 5.2% of the first run's translation time). */
    bool dropped_loop = !why && hp->latch && tierup_in_dropped_locked(e, hp->loop_header);
    if (!why && !guest_hash(e, pc - hp->dep_before, hp->dep_before + hp->guest_size + hp->dep_after,
                            gh))
        why = "guest code not readable";
    if (!why && memcmp(gh, hp->guest_hash, 16))
        why = "guest code changed";
    uint16_t *ioff = NULL;   /* none for 4-byte insns (host_to_guest: pc + 4k) */
    if (!why && hp->insn_stride != 4 && !(ioff = malloc(hp->n_insns * sizeof *ioff)))
        why = "out of memory";
    TmplCode code;
    if (!why) {
        tb->pc = pc;
        tb->flags = flags;
        tb->latch = hp->latch != 0;
        tb->loop_header = hp->loop_header;
        if (tb->latch)
            tb->hot = dropped_loop ? INT32_MAX : tierup_threshold(e);
        if (!tmpl_install(&e->buf, (uintptr_t)tb, &d.img, &code, &why))
            tb->latch = false;
    }
    if (why) {
        free(ioff);
        free(d.mem);
        tt_reject(e, pc, why);
        tt_lookup_done(e, t0);
        return false;
    }
    TtHeader h = d.h;
    const uint32_t *insn_off = d.insn_off;
    for (uint32_t i = 0; ioff && i < h.n_insns; i++)
        ioff[i] = (uint16_t)insn_off[i];
    tb->guest_size = h.guest_size;
    tb->dep_before = h.dep_before;
    tb->dep_after = h.dep_after;
    tb->n_insns = h.n_insns;
    tb->first_page = pc >> EXEC_PAGE_BITS;
    tb->last_page = (pc + h.guest_size - 1) >> EXEC_PAGE_BITS;
    tb->insn_off = ioff;
    exec_register_host(e, tb, &code);
    if (dropped_loop)
        tmpl_latch_off(&e->buf, tb->host, exec_sole_cpu_locked(e));
    free(d.mem);
    e->tt.loaded++;
    e->tt.loaded_insns += h.n_insns;
    tt_lookup_done(e, t0);
    return true;
}

void tmplcache_store(ExecEngine *e, const TransBlock *tb, const IrBlock *b, const TmplCode *code)
{
    if (!tmplcache_storing(e))
        return;
    uint64_t t0 = tt_now();
    uint64_t bias = 0;
    EmuCachePack *pk = tiercache_module_pack(e, tb->pc, &bias);
    if (!pk || tb->pc < bias || b->guest_size == 0 || b->guest_size > TT_MAX_GUEST ||
        b->n_insns == 0 || code->size > TT_MAX_CODE)
        return;
    TtHeader h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, TT_MAGIC, 8);
    h.bias = bias;
    h.loop_header = tb->loop_header;
    h.flags = tb->flags;
    h.variant = tt_variant(e);
    h.guest_size = b->guest_size;
    h.n_insns = b->n_insns;
    h.code_size = code->size;
    h.n_relocs = code->n_relocs;
    h.n_map = code->n_insn_map;
    h.n_wb = code->n_wb;
    for (int s = 0; s < IR_GOTO_TB_SLOTS; s++) {
        h.chain_site[s] = code->chain_site[s] == UINT32_MAX ? UINT32_MAX
                                                             : code->chain_site[s] - code->entry_offset;
        h.chain_reset[s] = code->chain_reset[s] == UINT32_MAX
                               ? UINT32_MAX
                               : code->chain_reset[s] - code->entry_offset;
    }
    h.latch = tb->latch;
    h.guard_log2 = tt_guard_log2(e);
    h.insn_stride = 4;   /* AArch64; anything else gets the offset table */
    for (uint32_t i = 0; i < b->n_insns; i++)
        if (b->insns[i].pc - tb->pc != (uint64_t)i * 4)
            h.insn_stride = 0;
    for (uint32_t i = 0; i < h.n_relocs; i++)
        if (code->relocs[i].offset >= (1u << 29) || code->relocs[i].arg > UINT32_MAX)
            return;
    h.dep_before = b->read_before;
    h.dep_after = b->read_after;
    if (!guest_hash(e, tb->pc - h.dep_before, h.dep_before + b->guest_size + h.dep_after,
                    h.guest_hash))
        return;
    size_t offs = h.insn_stride ? 0 : (size_t)h.n_insns * 4;
    size_t len = sizeof h + offs + (size_t)h.n_relocs * TT_RELOC_BYTES +
                 (size_t)h.n_map * TT_MAP_BYTES + (size_t)h.n_wb * 4 + h.code_size;
    uint8_t *buf = calloc(1, len), *p = buf;
    if (!buf)
        return;
    memcpy(p, &h, sizeof h);
    p += sizeof h;
    for (uint32_t i = 0; i < b->n_insns && !h.insn_stride; i++) {
        uint32_t off = (uint32_t)(b->insns[i].pc - tb->pc);
        memcpy(p + 4 * i, &off, 4);
    }
    p += offs;
    for (uint32_t i = 0; i < h.n_relocs; i++, p += TT_RELOC_BYTES) {
        uint32_t ok = code->relocs[i].offset << 3 | (code->relocs[i].kind & 7);
        uint32_t arg = (uint32_t)code->relocs[i].arg;
        memcpy(p, &ok, 4);
        memcpy(p + 4, &arg, 4);
    }
    for (uint32_t i = 0; i < h.n_map; i++, p += TT_MAP_BYTES) {
        uint16_t end = (uint16_t)code->insn_map[i].host_end, idx = (uint16_t)code->insn_map[i].insn_idx;
        memcpy(p, &end, 2);
        memcpy(p + 2, &idx, 2);
    }
    if (h.n_wb)
        memcpy(p, code->wb, (size_t)h.n_wb * 4);
    p += (size_t)h.n_wb * 4;
    const uint8_t *host = e->buf.base + code->entry_offset;
    memcpy(p, host, h.code_size);
    uint8_t kh[16];
    key_hash(e, bias, tb->flags, kh);
    if (emu_cache_pack_put_ex(pk, tb->pc - bias, tb->flags,
                              (uint8_t)(EMU_CACHE_KIND_TEMPLATE + h.variant), kh, b->guest_size,
                              buf, len))
        e->tt.stored++;
    free(buf);
    e->tt.store_ns += tt_now() - t0;
}

void tmplcache_stats_print(const ExecEngine *e, const TmplCacheStats *s, FILE *f)
{
    if (e->cfg.tier != EXEC_TIER_TEMPLATE && e->cfg.tier != EXEC_TIER_AUTO)
        return;
    fprintf(f, "  cache template blocks  %" PRIu64 " lookups, %" PRIu64 " loaded (%" PRIu64
               " guest insns; not in \"blocks executed\"), %" PRIu64 " rejected, %" PRIu64
               " queued for storing\n",
            s->lookups, s->loaded, s->loaded_insns, s->rejected, s->stored);
    fprintf(f, "  cache template load    %.2f ms (%.2f us per loaded block); storing %.2f ms\n",
            s->lookup_ns / 1e6, s->loaded ? s->lookup_ns / 1e3 / s->loaded : 0.0,
            s->store_ns / 1e6);
}

/* ---- emu-cache show, verify --deep --------------------------------------- */

bool tmplcache_payload_info(const void *payload, size_t len, TmplCacheInfo *out)
{
    TtDecoded d;
    bool ok = !tt_decode(payload, len, &d);
    if (ok) {
        *out = (TmplCacheInfo){ .bias = d.h.bias, .guest_size = d.h.guest_size,
                                .n_insns = d.h.n_insns, .n_relocs = d.h.n_relocs,
                                .latch = d.h.latch != 0, .code = d.img.code,
                                .code_size = d.h.code_size };
        memcpy(out->guest_hash, d.h.guest_hash, 16);
    }
    free(d.mem);
    return ok;
}

bool tmplcache_is_kind(unsigned kind)
{
    return kind >= EMU_CACHE_KIND_TEMPLATE && kind < EMU_CACHE_KIND_TEMPLATE + 4u;
}

typedef struct DeepReader {
    uint64_t base;
    const uint8_t *bytes;
    size_t len;
} DeepReader;

static bool deep_read(void *opaque, uint64_t pc, void *buf, size_t len)
{
    const DeepReader *r = opaque;
    if (pc < r->base || pc - r->base > r->len || len > r->len - (pc - r->base))
        return false;
    memcpy(buf, r->bytes + (pc - r->base), len);
    return true;
}

/* Is byte i of the code inside a relocated field? */
static bool in_reloc(const TmplReloc *r, uint32_t n, uint32_t i)
{
    for (uint32_t k = 0; k < n; k++) {
        uint32_t w = r[k].kind == TMPL_RELOC_TAG_ABS64 || r[k].kind == TMPL_RELOC_HELPER_ABS64 ? 8 : 4;
        if (i >= r[k].offset && i < r[k].offset + w)
            return true;
    }
    return false;
}

static const char *deep_compare(const TtHeader *h, const TmplImage *img, const TmplCode *c,
                                const uint8_t *code)
{
    if (c->size != img->size)
        return "host code size differs";
    if (c->n_relocs != img->n_relocs ||
        (img->n_relocs && memcmp(c->relocs, img->relocs, img->n_relocs * sizeof *img->relocs)))
        return "relocations differ";
    if (c->n_insn_map != img->n_insn_map ||
        (img->n_insn_map &&
         memcmp(c->insn_map, img->insn_map, img->n_insn_map * sizeof *img->insn_map)))
        return "insn map differs";
    if (c->n_wb != img->n_wb || (img->n_wb && memcmp(c->wb, img->wb, img->n_wb * sizeof *img->wb)))
        return "write-back map differs";
    for (int s = 0; s < IR_GOTO_TB_SLOTS; s++) {
        uint32_t site = c->chain_site[s] == UINT32_MAX ? UINT32_MAX : c->chain_site[s] - c->entry_offset;
        uint32_t reset = c->chain_reset[s] == UINT32_MAX ? UINT32_MAX : c->chain_reset[s] - c->entry_offset;
        if (site != h->chain_site[s] || reset != h->chain_reset[s])
            return "chain slots differ";
    }
    for (uint32_t i = 0; i < img->size; i++)
        if (code[i] != img->code[i] && !in_reloc(img->relocs, img->n_relocs, i))
            return "host code differs";
    return NULL;
}

const char *tmplcache_deep_identity(const GuestArch *arch, const char *build_id)
{
    char key[64];
    snprintf(key, sizeof key, " guest-%s-", arch->name);
    const char *g = build_id ? strstr(build_id, key) : NULL;
    if (g && arch->set_config)
        arch->set_config(strtoull(g + strlen(key), NULL, 16));
    exec_setup_pins(arch);
    const char *p = build_id ? strstr(build_id, " pins-") : NULL;
    if (p && strtoull(p + 6, NULL, 16) != tmpl_pin_id())
        return "made with other pinned registers (EMU_PIN)";
    return NULL;
}

const char *tmplcache_deep_check(const GuestArch *arch, const void *payload, size_t len,
                                 uint64_t off, const uint8_t *guest, size_t guest_len,
                                 size_t before, uint32_t flags)
{
    TtDecoded d;
    const char *why = tt_decode(payload, len, &d);
    const TtHeader h = d.h;
    const TmplImage img = d.img;
    uint8_t gh[16];
    if (!why && h.flags != flags)
        why = "mode flags differ from the key";
    size_t dep_len = (size_t)h.dep_before + h.guest_size + h.dep_after;
    if (!why && (before > guest_len || h.dep_before > before || dep_len > guest_len - (before - h.dep_before)))
        why = "the binary ends inside the block or the code it depends on";
    if (!why) {
        emu_cache_hash128(guest + (before - h.dep_before), dep_len, gh);
        if (memcmp(gh, h.guest_hash, 16))
            why = "the binary's guest code differs from what the entry was built from";
    }
    uint64_t pc = h.bias + off;
    DeepReader rd = { pc - before, guest, guest_len };
    GuestCodeReader gr = { &rd, deep_read };
    IrBlock *b = why ? NULL : arch->translate(pc, flags, &gr, EXEC_DEFAULT_MAX_INSNS);
    if (!why && !b)
        why = "the frontend cannot translate the block";
    if (b) {
        ir_optimize(b);
        if (b->guest_size != h.guest_size || b->n_insns != h.n_insns)
            why = "the block's extent differs";
    }
    /* a private code buffer; the tag only has to be 8-byte aligned */
    size_t bufsz = 1u << 20;
    uint8_t *mem = why ? MAP_FAILED : mmap(NULL, bufsz, PROT_READ | PROT_WRITE | PROT_EXEC,
                                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!why && mem == MAP_FAILED)
        why = "cannot map a code buffer";
    if (!why) {
        CodeBuf buf = { .base = mem, .size = bufsz };
        TransBlock *tb = calloc(1, sizeof *tb);
        TmplMemModel mm = { .kind = TMPL_MEM_USER, .relocatable = true,
                            .latch_sample = h.latch && tb,
                            .limit_guard = tt_guard(h.guard_log2) };
        TmplCode c;
        memset(&c, 0, sizeof c);
        const char *tw = NULL;
        exec_setup_pins(arch);   /* as the run that wrote it had them */
        if (!tb || !tmpl_init(&buf))
            why = "cannot set up the template backend";
        else if (!tmpl_translate(b, &buf, (uintptr_t)tb, &mm, &c, &tw))
            why = "the template backend refuses the block now";
        else
            why = deep_compare(&h, &img, &c, buf.base + c.entry_offset);
        free(c.insn_map);
        free(c.relocs);
        free(c.wb);
        free(tb);
        munmap(mem, bufsz);
    }
    if (b)
        ir_block_free(b);
    free(d.mem);
    return why;
}
