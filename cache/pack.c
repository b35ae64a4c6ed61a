/*
 * pack.c - parse, verify, decompress and write pack files (format in pack.h).
 *
 * Parsing trusts nothing: every size and offset is bounds-checked with
 * overflow-safe arithmetic before use, checksums are XXH3-64, and the entry
 * index must be strictly sorted so that lookups are a binary search.
 */
#include "cache/pack.h"
#include "cache/cache.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "cache/hash.h"

static bool fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && n)
        vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return false;
}

static uint64_t pad8(uint64_t x) { return (x + 7) & ~(uint64_t)7; }

int pack_key_cmp(uint64_t o1, uint32_t f1, uint8_t k1, uint64_t o2, uint32_t f2, uint8_t k2)
{
    if (o1 != o2)
        return o1 < o2 ? -1 : 1;
    if (f1 != f2)
        return f1 < f2 ? -1 : 1;
    if (k1 != k2)
        return k1 < k2 ? -1 : 1;
    return 0;
}

void pack_key(const uint8_t module_hash[16], const char *build_id, const char *host_cpu,
              uint8_t key[16])
{
    /* Length-prefixed fields so ("ab","c") and ("a","bc") differ. */
    XXH3_state_t *st = XXH3_createState();
    uint32_t ver = EMU_CACHE_FORMAT_VERSION;
    uint64_t lb = strlen(build_id), lc = strlen(host_cpu);
    XXH128_hash_t h;
    if (!st) { /* out of memory: hash a flat buffer instead (same result) */
        size_t n = 16 + 4 + 8 + lb + 8 + lc;
        uint8_t *b = malloc(n);
        if (!b)
            abort();
        size_t o = 0;
        memcpy(b + o, module_hash, 16), o += 16;
        memcpy(b + o, &ver, 4), o += 4;
        memcpy(b + o, &lb, 8), o += 8;
        memcpy(b + o, build_id, lb), o += lb;
        memcpy(b + o, &lc, 8), o += 8;
        memcpy(b + o, host_cpu, lc);
        h = XXH3_128bits(b, n);
        free(b);
    } else {
        XXH3_128bits_reset(st);
        XXH3_128bits_update(st, module_hash, 16);
        XXH3_128bits_update(st, &ver, 4);
        XXH3_128bits_update(st, &lb, 8);
        XXH3_128bits_update(st, build_id, lb);
        XXH3_128bits_update(st, &lc, 8);
        XXH3_128bits_update(st, host_cpu, lc);
        h = XXH3_128bits_digest(st);
        XXH3_freeState(st);
    }
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    memcpy(key, c.digest, 16);
}

void pack_hex(const uint8_t key[16], char hex[33])
{
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        hex[2 * i] = d[key[i] >> 4];
        hex[2 * i + 1] = d[key[i] & 15];
    }
    hex[32] = 0;
}

bool pack_parse(const uint8_t *buf, size_t len, PackView *v, char *err, size_t errlen)
{
    return pack_parse_prefix(buf, len, len, v, err, errlen);
}

bool pack_parse_prefix(const uint8_t *buf, size_t len, uint64_t file_len, PackView *v, char *err,
                       size_t errlen)
{
    memset(v, 0, sizeof *v);
    v->fd = -1;
    if (len < PACK_HEADER_SIZE)
        return fail(err, errlen, "truncated: %zu bytes, header needs %u", len, PACK_HEADER_SIZE);
    PackHeader *h = &v->hdr;
    memcpy(h, buf, sizeof *h);
    if (memcmp(h->magic, PACK_MAGIC, 8) != 0)
        return fail(err, errlen, "bad magic (not a pack file)");
    if (h->version != EMU_CACHE_FORMAT_VERSION)
        return fail(err, errlen, "format version %u, expected %u", h->version,
                    EMU_CACHE_FORMAT_VERSION);
    if (h->header_size != PACK_HEADER_SIZE)
        return fail(err, errlen, "header size %u, expected %u", h->header_size,
                    PACK_HEADER_SIZE);
    if (emu_hash64(buf, offsetof(PackHeader, header_checksum)) != h->header_checksum)
        return fail(err, errlen, "header checksum mismatch");
    if (h->build_id_len > PACK_MAX_STRING || h->host_cpu_len > PACK_MAX_STRING ||
        h->path_len > PACK_MAX_STRING)
        return fail(err, errlen, "identity string too long");
    if (h->page_entries == 0 || h->page_entries > PACK_MAX_PAGE_ENTRIES)
        return fail(err, errlen, "bad index page size %u", h->page_entries);
    uint64_t n_pages = ((uint64_t)h->n_entries + h->page_entries - 1) / h->page_entries;
    uint64_t strs = pad8((uint64_t)h->build_id_len + h->host_cpu_len + h->path_len);
    uint64_t meta = strs + (uint64_t)h->n_chunks * sizeof(PackChunk) +
                    n_pages * sizeof(PackPage);
    uint64_t index = (uint64_t)h->n_entries * sizeof(PackEntry);
    if (h->meta_offset != PACK_HEADER_SIZE || h->meta_size != meta)
        return fail(err, errlen, "inconsistent index size");
    if (h->data_offset != h->meta_offset + h->meta_size + index)
        return fail(err, errlen, "inconsistent data offset");
    if (h->data_offset > file_len || h->data_size != file_len - h->data_offset)
        return fail(err, errlen, "file is %llu bytes, header says %llu (truncated or extended)",
                    (unsigned long long)file_len,
                    (unsigned long long)(h->data_offset + h->data_size));
    if (h->meta_offset + h->meta_size > len)
        return fail(err, errlen, "index not read");
    const uint8_t *m = buf + h->meta_offset;
    if (emu_hash64(m, h->meta_size) != h->meta_checksum)
        return fail(err, errlen, "index checksum mismatch");
    if (((uintptr_t)(m + strs)) % 8 || (h->meta_offset + h->meta_size) % 8)
        return fail(err, errlen, "misaligned buffer");
    v->buf = buf;
    v->len = len;
    v->file_len = file_len;
    v->build_id = (const char *)m;
    v->host_cpu = v->build_id + h->build_id_len;
    v->path = v->host_cpu + h->host_cpu_len;
    v->chunks = (const PackChunk *)(m + strs);
    v->pages = (const PackPage *)(m + strs + (uint64_t)h->n_chunks * sizeof(PackChunk));
    v->n_pages = (uint32_t)n_pages;
    v->index_offset = h->meta_offset + h->meta_size;
    for (uint32_t i = 0; i < h->n_chunks; i++) {
        const PackChunk *c = &v->chunks[i];
        if (c->offset > h->data_size || c->stored > h->data_size - c->offset)
            return fail(err, errlen, "chunk %u out of bounds", i);
        if (c->raw > PACK_MAX_CHUNK_RAW)
            return fail(err, errlen, "chunk %u too large (%u bytes)", i, c->raw);
        if (c->codec != PACK_CODEC_RAW && c->codec != PACK_CODEC_ZSTD)
            return fail(err, errlen, "chunk %u: unknown codec %u", i, c->codec);
        if (c->codec == PACK_CODEC_RAW && c->stored != c->raw)
            return fail(err, errlen, "chunk %u: raw size mismatch", i);
    }
    for (uint32_t i = 1; i < v->n_pages; i++) {
        const PackPage *a = &v->pages[i - 1], *b = &v->pages[i];
        if (pack_key_cmp(a->first_offset, a->first_flags, a->first_kind, b->first_offset,
                         b->first_flags, b->first_kind) >= 0)
            return fail(err, errlen, "index pages not sorted at page %u", i);
    }
    if (v->index_offset + index > len)
        return true; /* pages are checked as they are read */
    const PackEntry *ents = (const PackEntry *)(buf + v->index_offset);
    for (uint32_t i = 0; i < v->n_pages; i++) {
        uint32_t first, count;
        pack_page_range(v, i, &first, &count);
        if (!pack_check_page(v, i, ents + first, err, errlen))
            return false;
    }
    v->entries = ents;
    return true;
}

void pack_page_range(const PackView *v, uint32_t p, uint32_t *first, uint32_t *count)
{
    uint64_t f = (uint64_t)p * v->hdr.page_entries;
    *first = (uint32_t)f;
    *count = (uint32_t)(v->hdr.n_entries - f < v->hdr.page_entries ? v->hdr.n_entries - f
                                                                    : v->hdr.page_entries);
}

bool pack_check_page(const PackView *v, uint32_t p, const PackEntry *ents, char *err,
                     size_t errlen)
{
    uint32_t first, count;
    pack_page_range(v, p, &first, &count);
    const PackPage *pg = &v->pages[p];
    if (emu_hash64(ents, (size_t)count * sizeof *ents) != pg->checksum)
        return fail(err, errlen, "index page %u checksum mismatch", p);
    if (pack_key_cmp(ents[0].guest_offset, ents[0].flags, ents[0].kind, pg->first_offset,
                     pg->first_flags, pg->first_kind) != 0)
        return fail(err, errlen, "index page %u: first key differs from the page table", p);
    for (uint32_t k = 0; k < count; k++) {
        const PackEntry *e = &ents[k];
        uint32_t i = first + k;
        if (e->chunk >= v->hdr.n_chunks)
            return fail(err, errlen, "entry %u: bad chunk %u", i, e->chunk);
        const PackChunk *c = &v->chunks[e->chunk];
        if (e->chunk_offset > c->raw || e->size > c->raw - e->chunk_offset)
            return fail(err, errlen, "entry %u out of its chunk", i);
        if (k && pack_key_cmp(ents[k - 1].guest_offset, ents[k - 1].flags, ents[k - 1].kind,
                              e->guest_offset, e->flags, e->kind) >= 0)
            return fail(err, errlen, "index not sorted at entry %u", i);
    }
    if (p + 1 < v->n_pages) { /* below the next page's first key */
        const PackEntry *e = &ents[count - 1];
        const PackPage *nx = &v->pages[p + 1];
        if (pack_key_cmp(e->guest_offset, e->flags, e->kind, nx->first_offset, nx->first_flags,
                         nx->first_kind) >= 0)
            return fail(err, errlen, "index not sorted at entry %u", first + count - 1);
    }
    return true;
}

uint32_t pack_page_of(const PackView *v, uint64_t offset, uint32_t flags, uint8_t kind)
{
    /* the last page whose first key is <= the key */
    uint32_t lo = 0, hi = v->n_pages, found = UINT32_MAX;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const PackPage *pg = &v->pages[mid];
        if (pack_key_cmp(pg->first_offset, pg->first_flags, pg->first_kind, offset, flags, kind) <=
            0) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return found;
}

long pack_find_in(const PackEntry *ents, long lo, long hi, uint64_t offset, uint32_t flags,
                  uint8_t kind)
{
    hi--;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        const PackEntry *e = &ents[mid];
        int c = pack_key_cmp(e->guest_offset, e->flags, e->kind, offset, flags, kind);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

long pack_find(const PackView *v, uint64_t offset, uint32_t flags, uint8_t kind)
{
    return v->entries ? pack_find_in(v->entries, 0, v->hdr.n_entries, offset, flags, kind) : -1;
}

/* Make *buf hold at least n bytes (contents dropped). */
static bool buf_reserve(uint8_t **buf, size_t *cap, size_t n)
{
    if (*buf && *cap >= n)
        return true;
    uint8_t *nb = malloc(n ? n : 1);
    if (!nb)
        return false;
    free(*buf);
    *buf = nb;
    *cap = n ? n : 1;
    return true;
}

bool pack_chunk_into(const PackView *v, uint32_t i, void *dctx, uint8_t **buf, size_t *cap,
                     char *err, size_t errlen)
{
    if (i >= v->hdr.n_chunks)
        return fail(err, errlen, "no chunk %u", i);
    const PackChunk *c = &v->chunks[i];
    uint64_t at = v->hdr.data_offset + c->offset;
    const uint8_t *src = NULL;
    uint8_t *tmp = NULL;
    if (at + c->stored <= v->len) {
        src = v->buf + at;
    } else if (v->fd >= 0) {
        /* the file cannot have changed: writers replace packs by rename.
         * A raw chunk is read straight into the result. */
        uint8_t *dst;
        if (c->codec == PACK_CODEC_RAW) {
            if (!buf_reserve(buf, cap, c->stored))
                return fail(err, errlen, "out of memory (%u bytes)", c->stored);
            dst = *buf;
        } else if (!(dst = tmp = malloc(c->stored ? c->stored : 1))) {
            return fail(err, errlen, "out of memory (%u bytes)", c->stored);
        }
        size_t got = 0;
        while (got < c->stored) {
            ssize_t r = pread(v->fd, dst + got, c->stored - got, (off_t)(at + got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                free(tmp);
                return fail(err, errlen, "chunk %u: %s", i, r ? strerror(errno) : "file truncated");
            }
            got += (size_t)r;
        }
        src = dst;
    } else {
        return fail(err, errlen, "chunk %u not in the buffer", i);
    }
    if (emu_hash64(src, c->stored) != c->checksum) {
        free(tmp);
        return fail(err, errlen, "chunk %u checksum mismatch", i);
    }
    if (c->codec == PACK_CODEC_RAW && src == *buf) /* read from the file into *buf */
        return true;
    if (!buf_reserve(buf, cap, c->raw)) {
        free(tmp);
        return fail(err, errlen, "out of memory (%u bytes)", c->raw);
    }
    if (c->codec == PACK_CODEC_RAW) {
        memcpy(*buf, src, c->raw);
    } else {
        ZSTD_DCtx *own = NULL;
        if (!dctx && !(dctx = own = ZSTD_createDCtx())) {
            free(tmp);
            return fail(err, errlen, "out of memory (zstd)");
        }
        size_t r = ZSTD_decompressDCtx(dctx, *buf, c->raw, src, c->stored);
        ZSTD_freeDCtx(own);
        if (ZSTD_isError(r) || r != c->raw) {
            free(tmp);
            return fail(err, errlen, "chunk %u: %s", i,
                        ZSTD_isError(r) ? ZSTD_getErrorName(r) : "wrong decompressed size");
        }
    }
    free(tmp);
    return true;
}

bool pack_chunk_data(const PackView *v, uint32_t i, void *dctx, uint8_t **out, char *err,
                     size_t errlen)
{
    uint8_t *b = NULL;
    size_t cap = 0;
    *out = NULL;
    if (!pack_chunk_into(v, i, dctx, &b, &cap, err, errlen)) {
        free(b);
        return false;
    }
    *out = b;
    return true;
}

/* ---- writing ---- */

static int out_cmp(const void *a, const void *b)
{
    const PackOut *x = a, *y = b;
    return pack_key_cmp(x->guest_offset, x->flags, x->kind, y->guest_offset, y->flags, y->kind);
}

static bool write_all(int fd, const void *p, size_t n, char *err, size_t errlen)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return fail(err, errlen, "write: %s", w < 0 ? strerror(errno) : "short write");
        b += w;
        n -= (size_t)w;
    }
    return true;
}

typedef struct NewChunk {
    uint8_t *stored; /* owned */
    uint32_t stored_len, raw_len, codec;
} NewChunk;

uint64_t pack_write(int fd, const PackIdentity *id, const PackView *old, const bool *keep,
                    PackOut *outs, size_t n_outs, int level, char *err, size_t errlen)
{
    uint64_t result = 0;
    uint32_t n_old = old ? old->hdr.n_chunks : 0;
    uint32_t *remap = calloc(n_old ? n_old : 1, sizeof *remap);
    NewChunk *nc = NULL;
    size_t n_nc = 0;
    uint8_t *meta = NULL, *index = NULL, *raw = NULL;
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    if (!remap || !cctx) {
        fail(err, errlen, "out of memory");
        goto out;
    }
    /* Old chunks kept verbatim come first, in their old order. */
    uint32_t n_chunks = 0;
    for (uint32_t i = 0; i < n_old; i++)
        remap[i] = keep[i] ? n_chunks++ : UINT32_MAX;
    /* New payloads: grouped into chunks in the order given (= put order,
     * which is roughly execution order, so one chunk serves one phase). */
    size_t n_new = 0;
    for (size_t i = 0; i < n_outs; i++)
        n_new += outs[i].from_chunk < 0;
    nc = calloc(n_new ? n_new : 1, sizeof *nc);
    raw = malloc(EMU_CACHE_CHUNK_BYTES);
    if (!nc || !raw) {
        fail(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_outs; i++) {
        if (outs[i].from_chunk < 0)
            continue;
        if ((uint64_t)outs[i].from_chunk >= n_old || !keep[outs[i].from_chunk]) {
            fail(err, errlen, "internal: entry refers to a dropped chunk");
            goto out;
        }
        outs[i].from_chunk = remap[outs[i].from_chunk];
    }
    /* New entries, in the order given, fill chunks of up to CHUNK_BYTES
     * (AHEAD_CHUNK_BYTES, uncompressed, for raw ones: two passes); a larger
     * payload gets a chunk of its own.  -2 - k marks "new chunk k". */
    for (int pass = 0; pass < 2; pass++) {
        bool want_raw = pass == 1;
        size_t limit = want_raw ? EMU_CACHE_AHEAD_CHUNK_BYTES : EMU_CACHE_CHUNK_BYTES;
        size_t i = 0;
        while (i < n_outs) {
            if (outs[i].from_chunk != -1 || outs[i].raw != want_raw) {
                i++;
                continue;
            }
            size_t total = 0;
            const uint8_t *src = raw;
            for (; i < n_outs; i++) {
                PackOut *o = &outs[i];
                if (o->from_chunk != -1 || o->raw != want_raw)
                    continue;
                if (total && total + o->size > limit)
                    break;
                o->chunk_offset = (uint32_t)total;
                o->from_chunk = -2 - (long)n_nc;
                o->checksum = emu_hash64(o->data, o->size);
                if (o->size > limit) { /* total == 0 here */
                    src = o->data;
                    total = o->size;
                    i++;
                    break;
                }
                memcpy(raw + total, o->data, o->size);
                total += o->size;
            }
            size_t bound = ZSTD_compressBound(total);
            uint8_t *dst = malloc(bound ? bound : 1);
            if (!dst) {
                fail(err, errlen, "out of memory");
                goto out;
            }
            size_t c = want_raw ? total : ZSTD_compressCCtx(cctx, dst, bound, src, total, level);
            NewChunk *k = &nc[n_nc++];
            k->stored = dst;
            k->raw_len = (uint32_t)total;
            if (ZSTD_isError(c) || c >= total) { /* incompressible or raw: store as is */
                memcpy(dst, src, total);
                k->stored_len = (uint32_t)total;
                k->codec = PACK_CODEC_RAW;
            } else {
                k->stored_len = (uint32_t)c;
                k->codec = PACK_CODEC_ZSTD;
            }
        }
    }
    for (size_t i = 0; i < n_outs; i++)
        if (outs[i].from_chunk <= -2)
            outs[i].from_chunk = n_chunks + (-2 - outs[i].from_chunk);
    n_chunks += (uint32_t)n_nc;
    qsort(outs, n_outs, sizeof *outs, out_cmp);
    for (size_t i = 1; i < n_outs; i++)
        if (out_cmp(&outs[i - 1], &outs[i]) == 0) {
            fail(err, errlen, "internal: duplicate key");
            goto out;
        }
    if (n_outs > UINT32_MAX) {
        fail(err, errlen, "too many entries");
        goto out;
    }

    /* Meta: strings, chunk table, page table; then the entry index. */
    size_t lb = strlen(id->build_id), lc = strlen(id->host_cpu), lp = strlen(id->path);
    if (lb > PACK_MAX_STRING || lc > PACK_MAX_STRING)
        goto toolong;
    if (lp > PACK_MAX_STRING) /* keep the tail of an absurdly long path */
        lp = PACK_MAX_STRING;
    uint64_t strs = pad8(lb + lc + lp);
    uint32_t n_pages = (uint32_t)((n_outs + PACK_PAGE_ENTRIES - 1) / PACK_PAGE_ENTRIES);
    uint64_t meta_size = strs + (uint64_t)n_chunks * sizeof(PackChunk) +
                         (uint64_t)n_pages * sizeof(PackPage);
    uint64_t index_size = (uint64_t)n_outs * sizeof(PackEntry);
    meta = calloc(1, meta_size ? meta_size : 1);
    index = calloc(1, index_size ? index_size : 1);
    if (!meta || !index) {
        fail(err, errlen, "out of memory");
        goto out;
    }
    memcpy(meta, id->build_id, lb);
    memcpy(meta + lb, id->host_cpu, lc);
    memcpy(meta + lb + lc, id->path + strlen(id->path) - lp, lp);
    PackChunk *ct = (PackChunk *)(meta + strs);
    uint64_t data_off = 0;
    for (uint32_t i = 0; i < n_old; i++) {
        if (!keep[i])
            continue;
        PackChunk c = old->chunks[i];
        c.offset = data_off;
        data_off += c.stored;
        ct[remap[i]] = c;
    }
    for (size_t i = 0; i < n_nc; i++) {
        PackChunk *c = &ct[n_chunks - n_nc + i];
        c->offset = data_off;
        c->stored = nc[i].stored_len;
        c->raw = nc[i].raw_len;
        c->codec = nc[i].codec;
        c->checksum = emu_hash64(nc[i].stored, nc[i].stored_len);
        data_off += nc[i].stored_len;
    }
    PackEntry *et = (PackEntry *)index;
    for (size_t i = 0; i < n_outs; i++) {
        PackEntry *e = &et[i];
        e->guest_offset = outs[i].guest_offset;
        e->flags = outs[i].flags;
        e->kind = outs[i].kind;
        memcpy(e->content_hash, outs[i].content_hash, 16);
        e->chunk = (uint32_t)outs[i].from_chunk;
        e->chunk_offset = outs[i].chunk_offset;
        e->size = outs[i].size;
        e->guest_len = outs[i].guest_len;
        e->checksum = outs[i].checksum;
    }
    PackPage *pt = (PackPage *)(meta + strs + (uint64_t)n_chunks * sizeof(PackChunk));
    for (uint32_t i = 0; i < n_pages; i++) {
        size_t first = (size_t)i * PACK_PAGE_ENTRIES;
        size_t count = n_outs - first < PACK_PAGE_ENTRIES ? n_outs - first : PACK_PAGE_ENTRIES;
        pt[i].first_offset = et[first].guest_offset;
        pt[i].first_flags = et[first].flags;
        pt[i].first_kind = et[first].kind;
        pt[i].checksum = emu_hash64(et + first, count * sizeof *et);
    }

    PackHeader h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, PACK_MAGIC, 8);
    h.version = EMU_CACHE_FORMAT_VERSION;
    h.header_size = PACK_HEADER_SIZE;
    memcpy(h.module_hash, id->module_hash, 16);
    pack_key(id->module_hash, id->build_id, id->host_cpu, h.pack_key);
    h.build_id_len = (uint32_t)lb;
    h.host_cpu_len = (uint32_t)lc;
    h.path_len = (uint32_t)lp;
    h.n_entries = (uint32_t)n_outs;
    h.n_chunks = n_chunks;
    h.page_entries = PACK_PAGE_ENTRIES;
    h.meta_offset = PACK_HEADER_SIZE;
    h.meta_size = meta_size;
    h.meta_checksum = emu_hash64(meta, meta_size);
    h.data_offset = PACK_HEADER_SIZE + meta_size + index_size;
    h.data_size = data_off;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h.write_time_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    h.header_checksum = emu_hash64(&h, offsetof(PackHeader, header_checksum));

    if (!write_all(fd, &h, sizeof h, err, errlen) || !write_all(fd, meta, meta_size, err, errlen) ||
        !write_all(fd, index, index_size, err, errlen))
        goto out;
    for (uint32_t i = 0; i < n_old; i++)
        if (keep[i] && !write_all(fd, old->buf + old->hdr.data_offset + old->chunks[i].offset,
                                  old->chunks[i].stored, err, errlen))
            goto out;
    for (size_t i = 0; i < n_nc; i++)
        if (!write_all(fd, nc[i].stored, nc[i].stored_len, err, errlen))
            goto out;
    result = h.data_offset + h.data_size;
    goto out;
toolong:
    fail(err, errlen, "build id or host cpu string longer than %u", PACK_MAX_STRING);
out:
    for (size_t i = 0; i < n_nc; i++)
        free(nc[i].stored);
    free(nc);
    free(raw);
    free(meta);
    free(index);
    free(remap);
    ZSTD_freeCCtx(cctx);
    return result;
}
