/*
 * cache_test.c - the code cache (cache/): round trips, merging, identity
 * checks, every corruption case (truncation at many offsets, flipped bits,
 * wrong version, another host CPU), concurrent writers in several processes,
 * LRU eviction, the run log and verification.
 */
#define _GNU_SOURCE /* nftw */
#include "cache/cache.h"
#include "cache/cache-admin.h"
#include "cache/pack.h"

#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#if defined(__x86_64__)
#include <sys/platform/x86.h>
#endif
#include "cache/hash.h"

static char tmpdir[256];
static char last_log[1024];
static int n_logs;

static void log_cb(void *opaque, const char *msg)
{
    snprintf(last_log, sizeof last_log, "%s", msg);
    n_logs++;
    if (opaque)
        fprintf(stderr, "%s\n", msg);
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cache_test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    last_log[0] = 0;
    n_logs = 0;
}

static void teardown(void) { nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static EmuCache *open_c(EmuCacheMode mode, const char *cpu, uint64_t max)
{
    char err[256];
    EmuCacheConfig cfg = {.dir = tmpdir, .mode = mode, .build_id = "test-build",
                          .host_cpu = cpu ? cpu : "x86_64:test", .max_bytes = max,
                          .log = log_cb};
    EmuCache *c = emu_cache_open(&cfg, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    return c;
}

static EmuCachePack *open_p(EmuCache *c, const char *module)
{
    EmuCacheModuleId id = {.path = module};
    emu_cache_hash128(module, strlen(module), id.hash);
    return emu_cache_pack_open(c, &id);
}

/* Deterministic entry i of stream s: payload and guest hash. */
static size_t payload(unsigned s, unsigned i, uint8_t *buf)
{
    size_t n = (i * 37u + s * 11u) % 900;
    if (i % 17 == 5)
        n = 0; /* empty payloads are legal */
    if (i % 50 == 7)
        n = EMU_CACHE_CHUNK_BYTES + 100; /* bigger than a chunk */
    uint64_t x = s * 0x9e3779b97f4a7c15ull + i + 1;
    for (size_t k = 0; k < n; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[k] = (x & 3) ? (uint8_t)('A' + x % 8) : (uint8_t)(x >> 9);
    }
    return n;
}

static void ghash(unsigned s, unsigned i, uint8_t h[16])
{
    unsigned v[2] = {s, i};
    emu_cache_hash128(v, sizeof v, h);
}

static uint64_t key_off(unsigned s, unsigned i) { return (uint64_t)s << 32 | (uint64_t)i * 64; }

static void put_range_kind(EmuCachePack *p, unsigned s, unsigned from, unsigned to, uint8_t kind)
{
    static _Thread_local uint8_t buf[EMU_CACHE_CHUNK_BYTES + 1000];
    for (unsigned i = from; i < to; i++) {
        uint8_t h[16];
        ghash(s, i, h);
        size_t n = payload(s, i, buf);
        ck_assert(emu_cache_pack_put(p, key_off(s, i), s, kind, h, buf, n));
    }
}

static void put_range(EmuCachePack *p, unsigned s, unsigned from, unsigned to)
{
    put_range_kind(p, s, from, to, EMU_CACHE_KIND_OBJECT);
}

/* Count entries that hit with the right bytes; fail on a hit with wrong bytes. */
static unsigned check_range_kind(EmuCachePack *p, unsigned s, unsigned from, unsigned to,
                                 uint8_t kind)
{
    static _Thread_local uint8_t buf[EMU_CACHE_CHUNK_BYTES + 1000];
    unsigned ok = 0;
    for (unsigned i = from; i < to; i++) {
        uint8_t h[16];
        const void *d;
        size_t len;
        ghash(s, i, h);
        size_t n = payload(s, i, buf);
        if (emu_cache_pack_get(p, key_off(s, i), s, kind, h, &d, &len)) {
            ck_assert_msg(len == n && memcmp(d, buf, n) == 0, "entry %u: hit with wrong data", i);
            ok++;
        }
    }
    return ok;
}

static unsigned check_range(EmuCachePack *p, unsigned s, unsigned from, unsigned to)
{
    return check_range_kind(p, s, from, to, EMU_CACHE_KIND_OBJECT);
}

static void pack_path(EmuCachePack *p, char *out, size_t n)
{
    snprintf(out, n, "%s/packs/%s.pack", tmpdir, emu_cache_pack_name(p));
}

/* emu_hash64/emu_hash128 (the build this CPU picks, and each build) give
 * libxxhash's XXH3 values: cache files written before stay valid. */
START_TEST(test_hash_matches_libxxhash)
{
    static uint8_t buf[9000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 2654435761u >> 13);
    for (size_t len = 0; len < 5000; len += len < 300 ? 1 : 37) {
        for (size_t at = 0; at < 3; at++) {
            ck_assert_uint_eq(emu_hash64(buf + at, len), XXH3_64bits(buf + at, len));
            uint8_t mine[16];
            XXH128_canonical_t c;
            emu_hash128(buf + at, len, mine);
            XXH128_canonicalFromHash(&c, XXH3_128bits(buf + at, len));
            ck_assert_mem_eq(mine, c.digest, 16);
            ck_assert_uint_eq(emu_hash64_base(buf + at, len), XXH3_64bits(buf + at, len));
            emu_hash128_base(buf + at, len, mine);
            ck_assert_mem_eq(mine, c.digest, 16);
#if defined(__x86_64__)
            if (CPU_FEATURE_ACTIVE(AVX2)) {
                ck_assert_uint_eq(emu_hash64_avx2(buf + at, len), XXH3_64bits(buf + at, len));
                emu_hash128_avx2(buf + at, len, mine);
                ck_assert_mem_eq(mine, c.digest, 16);
            }
#endif
        }
    }
}
END_TEST

START_TEST(test_roundtrip)
{
    EmuCache *c = open_c(EMU_CACHE_RW, NULL, 0);
    EmuCachePack *p = open_p(c, "/bin/prog");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(check_range(p, 1, 0, 10), 0);
    put_range(p, 1, 0, 300);
    /* buffered entries are visible before the flush */
    ck_assert_uint_eq(check_range(p, 1, 0, 300), 300);
    /* a pointer from get stays valid when the key is put again */
    uint8_t hx[16], hy[16];
    const void *d1, *d2;
    size_t l1, l2;
    ghash(5, 1, hx);
    ghash(5, 2, hy);
    ck_assert(emu_cache_pack_put(p, 7, 9, EMU_CACHE_KIND_IR, hx, "first", 5));
    ck_assert(emu_cache_pack_get(p, 7, 9, EMU_CACHE_KIND_IR, hx, &d1, &l1));
    ck_assert(emu_cache_pack_put(p, 7, 9, EMU_CACHE_KIND_IR, hy, "second", 6));
    ck_assert(!emu_cache_pack_get(p, 7, 9, EMU_CACHE_KIND_IR, hx, &d2, &l2));
    ck_assert(emu_cache_pack_get(p, 7, 9, EMU_CACHE_KIND_IR, hy, &d2, &l2));
    ck_assert(l1 == 5 && memcmp(d1, "first", 5) == 0);
    ck_assert(l2 == 6 && memcmp(d2, "second", 6) == 0);
    emu_cache_close(c);

    c = open_c(EMU_CACHE_RO, NULL, 0);
    p = open_p(c, "/bin/prog");
    ck_assert_uint_eq(check_range(p, 1, 0, 300), 300);
    ck_assert_uint_eq(check_range(p, 1, 300, 310), 0); /* never stored */
    uint8_t h[16];
    const void *d;
    size_t len;
    ghash(9, 9, h);
    ck_assert(!emu_cache_pack_get(p, key_off(1, 3), 1, EMU_CACHE_KIND_OBJECT, h, &d, &len));
    ck_assert(!emu_cache_pack_get(p, key_off(1, 3), 1, EMU_CACHE_KIND_IR, h, &d, &len));
    ck_assert(!emu_cache_pack_put(p, 0, 0, 1, h, "x", 1)); /* read-only */
    EmuCacheStats st;
    emu_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.hits, 300);
    ck_assert_uint_eq(st.misses, 12);
    ck_assert(emu_cache_pack_get(p, 7, 9, EMU_CACHE_KIND_IR, hy, &d2, &l2)); /* stored */
    ck_assert_uint_eq(st.mismatches, 1);
    ck_assert_uint_eq(st.corrupt, 0);
    ck_assert_uint_eq(st.packs_opened, 1);
    ck_assert(st.load_ns > 0);
    emu_cache_close(c);
}
END_TEST

/* Several kinds at one (offset, flags): a lookup after one of another kind
 * there is answered from its neighbours (pack_lookup_near), also when the
 * run of kinds crosses an index page (64 entries) or is alone in one. */
static bool kind_stored(unsigned i, unsigned kind)
{
    if (i == 50)
        return kind < 90;                    /* 90 entries: over a page edge */
    return kind == 16 || (i % 3 == 0 && kind == 1) || (i % 5 == 0 && kind == 2);
}

START_TEST(test_kinds_at_one_offset)
{
    EmuCache *c = open_c(EMU_CACHE_RW, NULL, 0);
    EmuCachePack *p = open_p(c, "/bin/kinds");
    uint8_t h[16];
    ghash(4, 4, h);
    for (unsigned i = 0; i < 100; i++)
        for (unsigned k = 0; k < 100; k++)
            if (kind_stored(i, k))
                ck_assert(emu_cache_pack_put(p, i * 4, 0, (uint8_t)k, h, "x", 1));
    emu_cache_close(c);
    c = open_c(EMU_CACHE_RO, NULL, 0);
    p = open_p(c, "/bin/kinds");
    for (unsigned i = 0; i < 100; i++) {
        /* the template kind first, as the runtime asks, then the others */
        static const unsigned order[] = {16, 1, 2, 0, 3, 17, 89, 90, 99};
        for (unsigned j = 0; j < sizeof order / sizeof *order; j++)
            ck_assert_msg(emu_cache_pack_has(p, i * 4, 0, (uint8_t)order[j]) ==
                              kind_stored(i, order[j]),
                          "offset %u kind %u", i * 4, order[j]);
        ck_assert(!emu_cache_pack_has(p, i * 4, 1, 16));   /* other flags */
    }
    emu_cache_close(c);
}
END_TEST

/* EMU_CACHE_REWRITE_MIN/FRACTION: a big pack is not rewritten for a few
 * new template blocks, but is for more of them or for anything else. */
START_TEST(test_few_template_blocks_skip_the_rewrite)
{
    const uint8_t tk = EMU_CACHE_KIND_TEMPLATE + 1;
    const unsigned big = EMU_CACHE_REWRITE_MIN, few = big / EMU_CACHE_REWRITE_FRACTION - 1;
    EmuCache *c = open_c(EMU_CACHE_RW, NULL, 0);
    put_range_kind(open_p(c, "/bin/big"), 1, 0, big, tk);
    emu_cache_close(c);
    /* a few more: kept for this run only */
    c = open_c(EMU_CACHE_RW, NULL, 0);
    EmuCachePack *p = open_p(c, "/bin/big");
    put_range_kind(p, 1, big, big + few, tk);
    ck_assert_uint_eq(check_range_kind(p, 1, big, big + few, tk), few);
    emu_cache_close(c);
    c = open_c(EMU_CACHE_RO, NULL, 0);
    p = open_p(c, "/bin/big");
    ck_assert_uint_eq(check_range_kind(p, 1, 0, big + few, tk), big);
    emu_cache_close(c);
    /* one more than a few: written, with the old ones */
    c = open_c(EMU_CACHE_RW, NULL, 0);
    put_range_kind(open_p(c, "/bin/big"), 1, big, big + few + 1, tk);
    emu_cache_close(c);
    c = open_c(EMU_CACHE_RO, NULL, 0);
    ck_assert_uint_eq(check_range_kind(open_p(c, "/bin/big"), 1, 0, big + few + 1, tk),
                      big + few + 1);
    emu_cache_close(c);
    /* a few template blocks and one region: all written */
    c = open_c(EMU_CACHE_RW, NULL, 0);
    p = open_p(c, "/bin/big");
    put_range_kind(p, 2, 0, 3, tk);
    put_range(p, 3, 0, 1);
    emu_cache_close(c);
    c = open_c(EMU_CACHE_RO, NULL, 0);
    p = open_p(c, "/bin/big");
    ck_assert_uint_eq(check_range_kind(p, 2, 0, 3, tk), 3);
    ck_assert_uint_eq(check_range(p, 3, 0, 1), 1);
    emu_cache_close(c);
}
END_TEST

START_TEST(test_off_and_ro)
{
    EmuCache *c = open_c(EMU_CACHE_OFF, NULL, 0);
    ck_assert_ptr_null(open_p(c, "x"));
    ck_assert(!emu_cache_pack_get(NULL, 0, 0, 1, (uint8_t[16]){0}, NULL, NULL));
    ck_assert(!emu_cache_pack_put(NULL, 0, 0, 1, (uint8_t[16]){0}, "", 0));
    emu_cache_close(c);
    /* RO never creates anything */
    c = open_c(EMU_CACHE_RO, NULL, 0);
    EmuCachePack *p = open_p(c, "x");
    ck_assert_ptr_nonnull(p);
    emu_cache_close(c);
    char d[300];
    snprintf(d, sizeof d, "%s/packs", tmpdir);
    ck_assert_int_ne(access(d, F_OK), 0);
}
END_TEST

START_TEST(test_merge_and_replace)
{
    EmuCache *c = open_c(EMU_CACHE_RW, NULL, 0);
    put_range(open_p(c, "m"), 1, 0, 100);
    emu_cache_close(c);
    c = open_c(EMU_CACHE_RW, NULL, 0);
    EmuCachePack *p = open_p(c, "m");
    put_range(p, 2, 0, 100);
    /* replace entry 5 of stream 1 with new guest bytes and payload */
    uint8_t h[16];
    ghash(77, 77, h);
    ck_assert(emu_cache_pack_put_ex(p, key_off(1, 5), 1, EMU_CACHE_KIND_OBJECT, h, 48, "new!", 4));
    ck_assert(emu_cache_pack_flush(p));
    char path[600];
    pack_path(p, path, sizeof path);
    emu_cache_close(c);
    c = open_c(EMU_CACHE_RO, NULL, 0);
    p = open_p(c, "m");
    ck_assert_uint_eq(check_range(p, 2, 0, 100), 100);
    ck_assert_uint_eq(check_range(p, 1, 0, 100), 99); /* 5 has other bytes now */
    const void *d;
    size_t len;
    ck_assert(emu_cache_pack_get(p, key_off(1, 5), 1, EMU_CACHE_KIND_OBJECT, h, &d, &len));
    ck_assert_uint_eq(len, 4);
    ck_assert_int_eq(memcmp(d, "new!", 4), 0);
    emu_cache_close(c);
    /* the guest length travels with the entry (for emu-cache show) */
    char err[200];
    EmuCacheFile *f = emu_cache_file_open(path, err, sizeof err);
    ck_assert_msg(f != NULL, "%s", err);
    ck_assert_uint_eq(emu_cache_file_entries(f), 200);
    unsigned with_len = 0;
    for (size_t i = 0; i < 200; i++) {
        EmuCacheEntryInfo e;
        emu_cache_file_entry(f, i, &e);
        if (e.guest_len) {
            ck_assert_uint_eq(e.guest_len, 48);
            ck_assert_uint_eq(e.guest_offset, key_off(1, 5));
            with_len++;
        }
    }
    ck_assert_uint_eq(with_len, 1);
    emu_cache_file_close(f);
}
END_TEST

START_TEST(test_compaction)
{
    /* Rewriting the same keys again and again must not grow the file. */
    char path[600];
    struct stat st;
    off_t first = 0;
    for (unsigned round = 0; round < 8; round++) {
        EmuCache *c = open_c(EMU_CACHE_RW, NULL, 0);
        EmuCachePack *p = open_p(c, "m");
        static uint8_t buf[2000];
        for (unsigned i = 0; i < 200; i++) {
            uint8_t h[16];
            ghash(round, i, h);
            size_t n = payload(round, 8 + i % 40, buf); /* 8..47: no big ones */
            ck_assert(emu_cache_pack_put(p, i * 4, 0, 1, h, buf, n));
        }
        pack_path(p, path, sizeof path);
        emu_cache_close(c);
        ck_assert_int_eq(stat(path, &st), 0);
        if (!round)
            first = st.st_size;
    }
    ck_assert_msg(st.st_size < first * 2, "pack grew from %lld to %lld", (long long)first,
                  (long long)st.st_size);
    EmuCache *c = open_c(EMU_CACHE_RO, NULL, 0);
    EmuCachePack *p = open_p(c, "m");
    static uint8_t buf[2000];
    for (unsigned i = 0; i < 200; i++) {
        uint8_t h[16];
        const void *d;
        size_t len;
        ghash(7, i, h);
        size_t n = payload(7, 8 + i % 40, buf);
        ck_assert(emu_cache_pack_get(p, i * 4, 0, 1, h, &d, &len));
        ck_assert(len == n && memcmp(d, buf, n) == 0);
    }
    emu_cache_close(c);
}
END_TEST

START_TEST(test_key_stability)
{
    /* Pack names must not change between builds of the same format version,
     * or every upgrade would throw the cache away (and vice versa). */
    uint8_t mh[16], key[16];
    char hex[33];
    emu_cache_hash128("module", 6, mh);
    pack_key(mh, "build-1", "x86_64:avx2", key);
    pack_hex(key, hex);
    ck_assert_str_eq(hex, "a53e85aafb756279794402447d961afa"); /* format version 2 */
    /* every identity field changes the name */
    char h2[33];
    pack_key(mh, "build-2", "x86_64:avx2", key);
    pack_hex(key, h2);
    ck_assert_str_ne(hex, h2);
    pack_key(mh, "build-1", "x86_64:avx", key);
    pack_hex(key, h2);
    ck_assert_str_ne(hex, h2);
    pack_key(mh, "build-1x", "86_64:avx2", key); /* fields are length-prefixed */
    pack_hex(key, h2);
    ck_assert_str_ne(hex, h2);
    mh[0] ^= 1;
    pack_key(mh, "build-1", "x86_64:avx2", key);
    pack_hex(key, h2);
    ck_assert_str_ne(hex, h2);
}
END_TEST

/* Make a pack with several chunks and return its bytes. */
static uint8_t *make_pack(const char *module, unsigned n, size_t *len, char *path, size_t plen)
{
    EmuCache *c = open_c(EMU_CACHE_RW, NULL, 0);
    EmuCachePack *p = open_p(c, module);
    put_range(p, 3, 0, n);
    pack_path(p, path, plen);
    emu_cache_close(c);
    uint8_t *buf;
    ck_assert(cache_read_file(path, &buf, len));
    return buf;
}

static void write_file(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* Open the damaged pack read-only; return hits; *detected if the damage was
 * noticed (pack rejected or an entry reported corrupt). */
static unsigned probe(const char *module, unsigned n, bool *detected)
{
    EmuCache *c = open_c(EMU_CACHE_RO, NULL, 0);
    EmuCachePack *p = open_p(c, module);
    unsigned hits = check_range(p, 3, 0, n);
    EmuCacheStats st;
    emu_cache_get_stats(c, &st);
    *detected = st.packs_corrupt || st.corrupt;
    emu_cache_close(c);
    return hits;
}

START_TEST(test_truncation)
{
    char path[600];
    size_t len;
    const unsigned n = 120;
    uint8_t *buf = make_pack("t", n, &len, path, sizeof path);
    bool det;
    ck_assert_uint_eq(probe("t", n, &det), n);
    ck_assert(!det);
    unsigned cases = 0;
    for (size_t cut = 0; cut < len; cut += (cut < 640 ? 1 : 211)) {
        write_file(path, buf, cut);
        n_logs = 0;
        ck_assert_uint_eq(probe("t", n, &det), 0);
        ck_assert_msg(det, "truncation at %zu not detected", cut);
        ck_assert_msg(n_logs > 0, "truncation at %zu not logged", cut);
        cases++;
    }
    /* bytes appended are as bad as bytes missing */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    write_file(path, longer, len + 1);
    ck_assert_uint_eq(probe("t", n, &det), 0);
    ck_assert(det);
    ck_assert_ptr_nonnull(strstr(last_log, "truncated or extended"));
    free(longer);
    free(buf);
    ck_assert(cases > 700);
}
END_TEST

START_TEST(test_bitflips)
{
    char path[600];
    size_t len;
    const unsigned n = 120;
    uint8_t *buf = make_pack("f", n, &len, path, sizeof path);
    PackView v;
    char err[200];
    ck_assert(pack_parse(buf, len, &v, err, sizeof err));
    size_t data_off = v.hdr.data_offset;
    unsigned cases = 0, partial = 0;
    for (size_t bit = 0; bit < len * 8;) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        write_file(path, buf, len);
        bool det;
        unsigned hits = probe("f", n, &det);
        ck_assert_msg(det, "flip of bit %zu (byte %zu) not detected", bit, bit / 8);
        ck_assert_msg(hits < n, "flip of bit %zu: all entries still hit", bit);
        partial += hits > 0; /* a bad chunk costs only its own entries */
        if (cases % 4 == 0) { /* emu-cache verify must name it too */
            uint64_t np, ne;
            ck_assert_msg(emu_cache_verify(tmpdir, NULL, &np, &ne) > 0,
                          "verify missed the flip of bit %zu", bit);
        }
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        cases++;
        /* every bit of header and index, then a sample of the data */
        bit += bit < data_off * 8 ? (bit < PACK_HEADER_SIZE * 8 ? 1 : 97) : 1499;
    }
    ck_assert(cases > 1000);
    ck_assert(partial > 0);
    free(buf);
}
END_TEST

/* Rewrite a header field and fix the header checksum, as another emu would. */
static void patch_header(uint8_t *buf, size_t off, const void *val, size_t n)
{
    memcpy(buf + off, val, n);
    uint64_t cs = XXH3_64bits(buf, offsetof(PackHeader, header_checksum));
    memcpy(buf + offsetof(PackHeader, header_checksum), &cs, 8);
}

START_TEST(test_wrong_version_and_identity)
{
    char path[600];
    size_t len;
    const unsigned n = 40;
    uint8_t *buf = make_pack("v", n, &len, path, sizeof path);
    bool det;
    uint32_t ver = EMU_CACHE_FORMAT_VERSION + 1;
    uint8_t *b2 = malloc(len);
    memcpy(b2, buf, len);
    patch_header(b2, offsetof(PackHeader, version), &ver, 4);
    write_file(path, b2, len);
    ck_assert_uint_eq(probe("v", n, &det), 0);
    ck_assert(det);
    ck_assert_ptr_nonnull(strstr(last_log, "format version"));

    /* A pack written for another host CPU, placed under this host's name. */
    EmuCache *c = open_c(EMU_CACHE_RW, "x86_64:other", 0);
    EmuCachePack *p = open_p(c, "v");
    put_range(p, 3, 0, n);
    char other[600];
    pack_path(p, other, sizeof other);
    emu_cache_close(c);
    ck_assert_str_ne(other, path); /* different CPU, different pack */
    ck_assert_int_eq(rename(other, path), 0);
    ck_assert_uint_eq(probe("v", n, &det), 0);
    ck_assert(det);
    ck_assert_ptr_nonnull(strstr(last_log, "another host CPU"));

    /* Module hash collision: a pack of another module under this name. */
    memcpy(b2, buf, len);
    uint8_t mh[16] = {1, 2, 3};
    patch_header(b2, offsetof(PackHeader, module_hash), mh, 16);
    write_file(path, b2, len);
    ck_assert_uint_eq(probe("v", n, &det), 0);
    ck_assert(det);
    ck_assert_ptr_nonnull(strstr(last_log, "module hash"));

    /* Not a pack at all; a directory or a FIFO where the file should be. */
    write_file(path, "hello", 5);
    ck_assert_uint_eq(probe("v", n, &det), 0);
    ck_assert(det);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    ck_assert_uint_eq(probe("v", n, &det), 0);
    ck_assert(det);
    ck_assert_int_eq(rmdir(path), 0);
    ck_assert_int_eq(mkfifo(path, 0644), 0); /* must not block */
    ck_assert_uint_eq(probe("v", n, &det), 0);
    ck_assert(det);
    ck_assert_int_eq(unlink(path), 0);

    /* A writer replaces a bad pack with a good one. */
    write_file(path, buf, len / 2);
    c = open_c(EMU_CACHE_RW, NULL, 0);
    put_range(open_p(c, "v"), 3, 0, n);
    emu_cache_close(c);
    ck_assert_uint_eq(probe("v", n, &det), n);
    ck_assert(!det);
    free(b2);
    free(buf);
}
END_TEST

START_TEST(test_concurrent_writers)
{
    enum { PROCS = 4, PER = 240, ROUNDS = 4 };
    int go[2];
    ck_assert_int_eq(pipe(go), 0);
    pid_t pids[PROCS + 1];
    for (int k = 0; k <= PROCS; k++) {
        pids[k] = fork();
        ck_assert_int_ge(pids[k], 0);
        if (pids[k])
            continue;
        char b;
        close(go[1]);
        if (read(go[0], &b, 1) != 0)
            _exit(3);
        if (k == PROCS) { /* a reader: never a torn or corrupt pack */
            for (int i = 0; i < 200; i++) {
                EmuCache *c = open_c(EMU_CACHE_RO, NULL, 0);
                EmuCachePack *p = open_p(c, "shared");
                for (unsigned s = 1; s <= PROCS; s++)
                    check_range(p, s, 0, PER);
                EmuCacheStats st;
                emu_cache_get_stats(c, &st);
                emu_cache_close(c);
                if (st.packs_corrupt || st.corrupt)
                    _exit(4);
            }
            _exit(0);
        }
        /* A writer: several flushes so that merges interleave. */
        EmuCache *c = open_c(EMU_CACHE_RW, NULL, 0);
        EmuCachePack *p = open_p(c, "shared");
        for (unsigned r = 0; r < ROUNDS; r++) {
            put_range(p, (unsigned)k + 1, r * PER / ROUNDS, (r + 1) * PER / ROUNDS);
            if (!emu_cache_pack_flush(p))
                _exit(5);
        }
        emu_cache_close(c);
        _exit(0);
    }
    close(go[0]);
    close(go[1]); /* all start together */
    for (int k = 0; k <= PROCS; k++) {
        int status;
        ck_assert_int_eq(waitpid(pids[k], &status, 0), pids[k]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d: status %d", k,
                      status);
    }
    EmuCache *c = open_c(EMU_CACHE_RO, NULL, 0);
    EmuCachePack *p = open_p(c, "shared");
    for (unsigned s = 1; s <= PROCS; s++)
        ck_assert_uint_eq(check_range(p, s, 0, PER), PER);
    emu_cache_close(c);
    uint64_t np, ne;
    ck_assert_int_eq(emu_cache_verify(tmpdir, stderr, &np, &ne), 0);
    ck_assert_uint_eq(np, 1);
    ck_assert_uint_eq(ne, PROCS * PER);
}
END_TEST

typedef struct ThreadArg {
    EmuCachePack *p;
    unsigned s;
    unsigned seen;
} ThreadArg;

static void *thread_main(void *opaque)
{
    ThreadArg *a = opaque;
    put_range(a->p, a->s, 0, 150);
    for (unsigned s = 1; s <= 4; s++) /* read the others' entries while they put */
        a->seen += check_range(a->p, s, 0, 150);
    return NULL;
}

START_TEST(test_threads)
{
    EmuCache *c = open_c(EMU_CACHE_RW, NULL, 0);
    EmuCachePack *p = open_p(c, "threads");
    pthread_t t[4];
    ThreadArg a[4];
    for (unsigned i = 0; i < 4; i++) {
        a[i] = (ThreadArg){.p = p, .s = i + 1};
        ck_assert_int_eq(pthread_create(&t[i], NULL, thread_main, &a[i]), 0);
    }
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        ck_assert_uint_ge(a[i].seen, 150); /* at least its own */
    }
    EmuCacheStats st;
    emu_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.hits + st.misses, 4 * 4 * 150);
    emu_cache_close(c);
    c = open_c(EMU_CACHE_RO, NULL, 0);
    p = open_p(c, "threads");
    for (unsigned s = 1; s <= 4; s++)
        ck_assert_uint_eq(check_range(p, s, 0, 150), 150);
    emu_cache_get_stats(c, &st);
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    emu_cache_print_stats(f, &st);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(out, "600 lookups, 600 hits (100.0%)"));
    free(out);
    emu_cache_close(c);
}
END_TEST

static void set_mtime(const char *path, time_t t)
{
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

START_TEST(test_eviction)
{
    char paths[8][600], name[16];
    time_t base = time(NULL) - 10000;
    uint64_t one = 0;
    for (int m = 0; m < 8; m++) {
        EmuCache *c = open_c(EMU_CACHE_RW, NULL, 0);
        snprintf(name, sizeof name, "mod%d", m);
        EmuCachePack *p = open_p(c, name);
        put_range(p, 3, 0, 60);
        pack_path(p, paths[m], sizeof paths[m]);
        emu_cache_close(c);
        set_mtime(paths[m], base + m * 100); /* mod0 oldest */
        struct stat st;
        ck_assert_int_eq(stat(paths[m], &st), 0);
        one = (uint64_t)st.st_size;
    }
    /* Using mod1 makes it young (RW touches packs on open). */
    EmuCache *c = open_c(EMU_CACHE_RW, NULL, 0);
    open_p(c, "mod1");
    emu_cache_close(c);
    /* A cap of ~4.5 packs, then a write: the oldest go first, mod1 stays. */
    c = open_c(EMU_CACHE_RW, NULL, one * 9 / 2);
    put_range(open_p(c, "mod7"), 4, 0, 5);
    emu_cache_close(c);
    ck_assert_ptr_nonnull(strstr(last_log, "evicted"));
    bool present[8];
    uint64_t total = 0;
    for (int m = 0; m < 8; m++) {
        struct stat st;
        present[m] = stat(paths[m], &st) == 0;
        total += present[m] ? (uint64_t)st.st_size : 0;
    }
    ck_assert(total <= one * 9 / 2);
    ck_assert(!present[0] && !present[2] && !present[3]);
    ck_assert(present[1] && present[7]);
    ck_assert(present[6] && present[5]);
    /* evicted packs are plain misses */
    bool det;
    ck_assert_uint_eq(probe("mod0", 60, &det), 0);
    ck_assert(!det);
    /* prune to zero empties it */
    EmuCacheEvictResult res;
    char err[200];
    ck_assert(emu_cache_evict(tmpdir, 0, NULL, NULL, &res, err, sizeof err));
    ck_assert_uint_eq(res.after_bytes, 0);
    EmuCachePackInfo *v;
    size_t n;
    ck_assert(emu_cache_list(tmpdir, &v, &n, err, sizeof err));
    ck_assert_uint_eq(n, 0);
    emu_cache_list_free(v, n);
}
END_TEST

START_TEST(test_runlog)
{
    EmuCache *c = open_c(EMU_CACHE_RW, NULL, 0);
    put_range(open_p(c, "/usr/bin/a\tb"), 1, 0, 10);
    emu_cache_close(c);
    c = open_c(EMU_CACHE_RW, NULL, 0);
    EmuCachePack *p = open_p(c, "/usr/bin/a\tb");
    ck_assert_uint_eq(check_range(p, 1, 0, 20), 10);
    emu_cache_close(c);
    EmuCacheRun *r;
    size_t n;
    char err[200];
    ck_assert(emu_cache_runlog_read(tmpdir, &r, &n, err, sizeof err));
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(r[0].stored, 10);
    ck_assert_uint_eq(r[1].hits, 10);
    ck_assert_uint_eq(r[1].misses, 10);
    ck_assert_str_eq(r[1].binary, "/usr/bin/a?b");
    free(r);
    /* capped: old lines go */
    EmuCacheRun x = {.time = 1, .hits = 1};
    snprintf(x.pack, sizeof x.pack, "%032d", 0);
    snprintf(x.binary, sizeof x.binary, "/a/rather/long/path/to/make/the/lines/longer/%0100d", 0);
    for (unsigned i = 0; i < 3000; i++) {
        x.misses = i;
        ck_assert(emu_cache_runlog_append(tmpdir, &x, err, sizeof err));
    }
    ck_assert(emu_cache_runlog_read(tmpdir, &r, &n, err, sizeof err));
    ck_assert(n <= 3000 && n >= EMU_CACHE_RUNLOG_MAX_LINES);
    ck_assert(n < 2500);
    ck_assert_uint_eq(r[n - 1].misses, 2999);
    free(r);
}
END_TEST

/* Chunks of a pack: every entry's chunk is RAW and at most AHEAD_CHUNK_BYTES
 * unless it holds a single larger entry; returns the number of such chunks. */
static unsigned check_raw_chunks(const uint8_t *buf, size_t len, uint32_t s_key)
{
    PackView v;
    char err[200];
    ck_assert_msg(pack_parse(buf, len, &v, err, sizeof err), "%s", err);
    uint32_t *per = calloc(v.hdr.n_chunks + 1, sizeof *per);
    for (uint32_t i = 0; i < v.hdr.n_entries; i++)
        per[v.entries[i].chunk]++;
    unsigned raw = 0;
    for (uint32_t i = 0; i < v.hdr.n_entries; i++) {
        const PackEntry *e = &v.entries[i];
        if (e->flags != s_key)
            continue;
        const PackChunk *ch = &v.chunks[e->chunk];
        ck_assert_msg(ch->codec == PACK_CODEC_RAW, "entry %u: chunk codec %u", i, ch->codec);
        ck_assert_msg(ch->raw <= EMU_CACHE_AHEAD_CHUNK_BYTES || per[e->chunk] == 1,
                      "chunk %u: %u bytes, %u entries", e->chunk, ch->raw, per[e->chunk]);
    }
    for (uint32_t i = 0; i < v.hdr.n_chunks; i++)
        raw += v.chunks[i].codec == PACK_CODEC_RAW;
    free(per);
    return raw;
}

/* Does an entry of stream s sit in a zstd chunk? */
static bool some_zstd_entry(const PackView *v, uint32_t s_key)
{
    for (uint32_t i = 0; i < v->hdr.n_entries; i++)
        if (v->entries[i].flags == s_key && v->chunks[v->entries[i].chunk].codec == PACK_CODEC_ZSTD)
            return true;
    return false;
}

START_TEST(test_template_entries_uncompressed)
{
    /* Template blocks (kinds TEMPLATE..+3) go into uncompressed chunks in
     * any run, so a warm start decompresses nothing; objects stay zstd. */
    const unsigned n = 300;
    char path[600];
    EmuCache *c = open_c(EMU_CACHE_RW, NULL, 0);
    EmuCachePack *p = open_p(c, "tmpl");
    put_range_kind(p, 5, 0, n, EMU_CACHE_KIND_TEMPLATE + 1);
    put_range(p, 6, 0, n);
    pack_path(p, path, sizeof path);
    emu_cache_close(c);
    uint8_t *buf;
    size_t len;
    ck_assert(cache_read_file(path, &buf, &len));
    ck_assert_uint_gt(check_raw_chunks(buf, len, 5), 8);
    PackView v;
    char err[200];
    ck_assert(pack_parse(buf, len, &v, err, sizeof err));
    ck_assert(some_zstd_entry(&v, 6));
    free(buf);
    c = open_c(EMU_CACHE_RO, NULL, 0);
    p = open_p(c, "tmpl");
    ck_assert_uint_eq(check_range_kind(p, 5, 0, n, EMU_CACHE_KIND_TEMPLATE + 1), n);
    ck_assert_uint_eq(check_range(p, 6, 0, n), n);
    emu_cache_close(c);
}
END_TEST

/* get_copy of every entry of stream s in [from, to) (step +1 or -1):
 * returns the hits, fails on a hit with wrong bytes. */
static unsigned copy_range(EmuCachePack *p, unsigned s, int from, int to, int step)
{
    static uint8_t want[EMU_CACHE_CHUNK_BYTES + 1000];
    void *buf = NULL;
    size_t cap = 0, len;
    unsigned ok = 0;
    for (int i = from; i != to; i += step) {
        uint8_t h[16];
        ghash(s, (unsigned)i, h);
        size_t n = payload(s, (unsigned)i, want);
        if (emu_cache_pack_get_copy(p, key_off(s, (unsigned)i), s, EMU_CACHE_KIND_TEMPLATE, h,
                                    &buf, &cap, &len)) {
            ck_assert_msg(len == n && memcmp(buf, want, n) == 0, "entry %d: wrong copy", i);
            ok++;
        }
    }
    free(buf);
    return ok;
}

/* A pack of n template entries of stream s, and its file (*buf: malloc'ed). */
static void write_and_read_pack(const char *module, unsigned s, unsigned n, char *path,
                                size_t path_len, uint8_t **buf, size_t *len)
{
    EmuCache *c = open_c(EMU_CACHE_RW, NULL, 0);
    EmuCachePack *p = open_p(c, module);
    put_range_kind(p, s, 0, n, EMU_CACHE_KIND_TEMPLATE);
    pack_path(p, path, path_len);
    emu_cache_close(c);
    ck_assert(cache_read_file(path, buf, len));
}

START_TEST(test_get_copy_through_reused_buffers)
{
    /* Far more chunks than pool buffers, read forwards, backwards (each
     * chunk read again) and mixed with plain gets; a damaged chunk is a
     * miss for its entries only. */
    const int n = 600;
    char path[600];
    uint8_t *buf;
    size_t len;
    write_and_read_pack("copy", 3, (unsigned)n, path, sizeof path, &buf, &len);
    PackView v;
    char err[200];
    ck_assert(pack_parse(buf, len, &v, err, sizeof err));
    ck_assert_uint_gt(v.hdr.n_chunks, 3 * EMU_CACHE_POOL_CHUNKS);
    EmuCache *c = open_c(EMU_CACHE_RO, NULL, 0);
    EmuCachePack *p = open_p(c, "copy");
    ck_assert_uint_eq(copy_range(p, 3, 0, n, 1), (unsigned)n);
    ck_assert_uint_eq(copy_range(p, 3, n - 1, -1, -1), (unsigned)n);
    ck_assert_uint_eq(check_range_kind(p, 3, 0, (unsigned)n / 2, EMU_CACHE_KIND_TEMPLATE),
                      (unsigned)n / 2);
    ck_assert_uint_eq(copy_range(p, 3, 0, n, 1), (unsigned)n);
    emu_cache_close(c);

    uint32_t victim = v.entries[v.hdr.n_entries / 2].chunk, in_victim = 0;
    for (uint32_t i = 0; i < v.hdr.n_entries; i++)
        in_victim += v.entries[i].chunk == victim;
    buf[v.hdr.data_offset + v.chunks[victim].offset + v.chunks[victim].stored / 2] ^= 0x10;
    write_file(path, buf, len);
    free(buf);
    c = open_c(EMU_CACHE_RO, NULL, 0);
    p = open_p(c, "copy");
    ck_assert_uint_eq(copy_range(p, 3, 0, n, 1), (unsigned)n - in_victim);
    ck_assert_uint_eq(copy_range(p, 3, n - 1, -1, -1), (unsigned)n - in_victim);
    emu_cache_close(c);
}
END_TEST

/* get_head of n bytes for every entry of stream s in [0, count): a payload
 * of at least n bytes must hit with exactly its first n bytes (nothing
 * written past them, *len the whole size), a shorter one must miss.
 * Returns the hits. */
static unsigned head_range(EmuCachePack *p, unsigned s, unsigned count, uint8_t kind, size_t n)
{
    static uint8_t want[EMU_CACHE_CHUNK_BYTES + 1000];
    unsigned hits = 0;
    for (unsigned i = 0; i < count; i++) {
        uint8_t h[16], out[96 + 8];
        ghash(s, i, h);
        size_t plen = payload(s, i, want), len = 12345;
        memset(out, 0xee, sizeof out);
        bool hit = emu_cache_pack_get_head(p, key_off(s, i), s, kind, h, out, n, &len);
        if (plen < n) {
            ck_assert_msg(!hit, "entry %u: %zu-byte payload gave a %zu-byte head", i, plen, n);
            continue;
        }
        if (!hit)
            continue;
        ck_assert_msg(memcmp(out, want, n) == 0, "entry %u: wrong head bytes", i);
        ck_assert_msg(len == plen, "entry %u: len %zu, payload %zu", i, len, plen);
        for (size_t k = n; k < sizeof out; k++)
            ck_assert_msg(out[k] == 0xee, "entry %u: byte %zu written past the head", i, k);
        hits++;
    }
    return hits;
}

START_TEST(test_get_head)
{
    /* Template (raw chunks) and object (zstd) entries, buffered and from
     * the file: the head is the payload's first bytes, a truncated payload
     * and a wrong content hash miss, a damaged chunk misses for its
     * entries as get does. */
    const unsigned n = 400, head = 88;
    char path[600];
    EmuCache *c = open_c(EMU_CACHE_RW, NULL, 0);
    EmuCachePack *p = open_p(c, "head");
    put_range_kind(p, 4, 0, n, EMU_CACHE_KIND_TEMPLATE);
    put_range(p, 5, 0, n);
    unsigned longer = 0, nonempty = 0, obj_longer = 0;
    for (unsigned i = 0; i < n; i++) {
        static uint8_t tmp[EMU_CACHE_CHUNK_BYTES + 1000];
        longer += payload(4, i, tmp) >= head;
        nonempty += payload(4, i, tmp) > 0;
        obj_longer += payload(5, i, tmp) >= 40;
    }
    ck_assert_uint_gt(longer, n / 2);
    ck_assert_uint_lt(longer, n);  /* some payloads are shorter than the head */
    ck_assert_uint_eq(head_range(p, 4, n, EMU_CACHE_KIND_TEMPLATE, head), longer); /* buffered */
    pack_path(p, path, sizeof path);
    emu_cache_close(c);

    c = open_c(EMU_CACHE_RO, NULL, 0);
    p = open_p(c, "head");
    ck_assert_uint_eq(head_range(p, 4, n, EMU_CACHE_KIND_TEMPLATE, head), longer);
    ck_assert_uint_lt(nonempty, n);
    ck_assert_uint_eq(head_range(p, 4, n, EMU_CACHE_KIND_TEMPLATE, 1), nonempty);
    ck_assert_uint_eq(head_range(p, 5, n, EMU_CACHE_KIND_OBJECT, 40), obj_longer);
    /* a payload exactly as long as the head is whole */
    unsigned i_exact = 0;
    uint8_t want[EMU_CACHE_CHUNK_BYTES + 1000], out[1000], h[16];
    size_t plen = 0, len = 0;
    for (; i_exact < n; i_exact++)
        if ((plen = payload(4, i_exact, want)) > 0 && plen <= sizeof out)
            break;
    ghash(4, i_exact, h);
    ck_assert(emu_cache_pack_get_head(p, key_off(4, i_exact), 4, EMU_CACHE_KIND_TEMPLATE, h,
                                      out, plen, &len));
    ck_assert(len == plen && memcmp(out, want, plen) == 0);
    ck_assert(!emu_cache_pack_get_head(p, key_off(4, i_exact), 4, EMU_CACHE_KIND_TEMPLATE, h,
                                       out, plen + 1, NULL));
    h[3] ^= 1;
    ck_assert(!emu_cache_pack_get_head(p, key_off(4, i_exact), 4, EMU_CACHE_KIND_TEMPLATE, h,
                                       out, 1, NULL));
    emu_cache_close(c);

    /* damage one chunk of the template entries: its entries miss */
    uint8_t *buf;
    size_t flen;
    ck_assert(cache_read_file(path, &buf, &flen));
    PackView v;
    char err[200];
    ck_assert(pack_parse(buf, flen, &v, err, sizeof err));
    uint32_t victim = UINT32_MAX, in_victim = 0;
    for (uint32_t k = 0; k < v.hdr.n_entries; k++) {
        const PackEntry *e = &v.entries[k];
        if (e->flags == 4 && e->size >= head && victim == UINT32_MAX)
            victim = e->chunk;
        in_victim += e->chunk == victim && e->flags == 4 && e->size >= head;
    }
    ck_assert(victim != UINT32_MAX && in_victim > 0);
    buf[v.hdr.data_offset + v.chunks[victim].offset + v.chunks[victim].stored / 2] ^= 0x10;
    write_file(path, buf, flen);
    free(buf);
    c = open_c(EMU_CACHE_RO, NULL, 0);
    p = open_p(c, "head");
    ck_assert_uint_eq(head_range(p, 4, n, EMU_CACHE_KIND_TEMPLATE, head), longer - in_victim);
    emu_cache_close(c);
}
END_TEST

/* Entries of stream s in the pack file at path (0 if there is none). */
static unsigned entries_in_file(const char *path, uint32_t s_key)
{
    uint8_t *buf;
    size_t len;
    if (!cache_read_file(path, &buf, &len))
        return 0;
    PackView v;
    char err[200];
    ck_assert(pack_parse(buf, len, &v, err, sizeof err));
    unsigned n = 0;
    for (uint32_t i = 0; i < v.hdr.n_entries; i++)
        n += v.entries[i].flags == s_key;
    free(buf);
    return n;
}

START_TEST(test_fork_child_leaves_parent_entries)
{
    /* A forked child (emu_cache_note_fork_child) sees what its parent put
     * before the fork but writes only its own entries; the parent writes
     * its own at its close. */
    char path[600];
    EmuCache *c = open_c(EMU_CACHE_RW, NULL, 0);
    EmuCachePack *p = open_p(c, "fork");
    pack_path(p, path, sizeof path);
    put_range(p, 1, 0, 40);
    ck_assert_uint_eq(check_range(p, 1, 0, 40), 40);   /* 40 hits before the fork */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        emu_cache_note_fork_child();
        put_range(p, 2, 0, 30);
        bool ok = check_range(p, 1, 0, 40) == 40 && check_range(p, 2, 0, 30) == 30;
        emu_cache_close(c);
        _exit(ok ? 0 : 1);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_uint_eq(entries_in_file(path, 2), 30);
    ck_assert_uint_eq(entries_in_file(path, 1), 0);
    emu_cache_close(c);
    ck_assert_uint_eq(entries_in_file(path, 1), 40);
    ck_assert_uint_eq(entries_in_file(path, 2), 30);
    /* each process logged its own run: the child did not count the hits
     * its parent had made before the fork again */
    EmuCacheRun *r;
    size_t n;
    char err[200];
    ck_assert(emu_cache_runlog_read(tmpdir, &r, &n, err, sizeof err));
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(r[0].hits, 70);     /* the child: 40 + 30 */
    ck_assert_uint_eq(r[0].stored, 30);
    ck_assert_uint_eq(r[1].hits, 40);     /* the parent */
    ck_assert_uint_eq(r[1].stored, 40);
    free(r);
}
END_TEST

START_TEST(test_ahead_of_time)
{
    /* emu-aot's entries go into uncompressed chunks of AHEAD_CHUNK_BYTES (a
     * get then decompresses nothing); a normal run's entries merged into
     * the same pack are compressed; compaction keeps the ahead ones raw. */
    const unsigned n = 300;
    char path[600];
    emu_cache_set_ahead_of_time(true);
    EmuCache *c = open_c(EMU_CACHE_RW, NULL, 0);
    EmuCachePack *p = open_p(c, "aot");
    put_range(p, 5, 0, n);
    pack_path(p, path, sizeof path);
    emu_cache_close(c);
    emu_cache_set_ahead_of_time(false);
    uint8_t *buf;
    size_t len;
    ck_assert(cache_read_file(path, &buf, &len));
    ck_assert_uint_gt(check_raw_chunks(buf, len, 5), 8);
    free(buf);

    c = open_c(EMU_CACHE_RW, NULL, 0);
    p = open_p(c, "aot");
    ck_assert_uint_eq(check_range(p, 5, 0, n), n);
    put_range(p, 6, 0, n);
    emu_cache_close(c);
    ck_assert(cache_read_file(path, &buf, &len));
    PackView v;
    char err[200];
    ck_assert(pack_parse(buf, len, &v, err, sizeof err));
    ck_assert(some_zstd_entry(&v, 6));
    check_raw_chunks(buf, len, 5);
    free(buf);

    /* Replace three quarters of the ahead entries: their chunks are less
     * than half live and get rewritten; the survivors stay uncompressed. */
    c = open_c(EMU_CACHE_RW, NULL, 0);
    p = open_p(c, "aot");
    static uint8_t pl[EMU_CACHE_CHUNK_BYTES + 1000];
    for (unsigned i = 0; i < n * 3 / 4; i++) {
        uint8_t h[16];
        ghash(5, i, h);
        h[0] ^= 1; /* new guest bytes */
        size_t k = payload(7, i, pl);
        ck_assert(emu_cache_pack_put(p, key_off(5, i), 5, EMU_CACHE_KIND_OBJECT, h, pl, k));
    }
    emu_cache_close(c);
    ck_assert(cache_read_file(path, &buf, &len));
    ck_assert(pack_parse(buf, len, &v, err, sizeof err));
    for (uint32_t i = 0; i < v.hdr.n_entries; i++) {
        const PackEntry *e = &v.entries[i];
        unsigned idx = (unsigned)(e->guest_offset & 0xffffffffu) / 64;
        if (e->flags == 5 && idx >= n * 3 / 4)
            ck_assert_uint_eq(v.chunks[e->chunk].codec, PACK_CODEC_RAW);
    }
    c = open_c(EMU_CACHE_RO, NULL, 0);
    p = open_p(c, "aot");
    ck_assert_uint_eq(check_range(p, 5, n * 3 / 4, n), n - n * 3 / 4);
    ck_assert_uint_eq(check_range(p, 6, 0, n), n);
    emu_cache_close(c);

    /* A flipped bit in an uncompressed chunk costs that chunk's entries. */
    uint32_t victim = UINT32_MAX;
    for (uint32_t i = 0; i < v.hdr.n_entries && victim == UINT32_MAX; i++) {
        const PackEntry *e = &v.entries[i];
        if (e->flags == 5 && e->size && v.chunks[e->chunk].codec == PACK_CODEC_RAW)
            victim = i;
    }
    ck_assert(victim != UINT32_MAX);
    const PackEntry *e = &v.entries[victim];
    buf[v.hdr.data_offset + v.chunks[e->chunk].offset + e->chunk_offset] ^= 0x40;
    write_file(path, buf, len);
    n_logs = 0;
    c = open_c(EMU_CACHE_RO, NULL, 0);
    p = open_p(c, "aot");
    unsigned hits = check_range(p, 5, n * 3 / 4, n) + check_range(p, 6, 0, n);
    EmuCacheStats st;
    emu_cache_get_stats(c, &st);
    emu_cache_close(c);
    ck_assert_uint_lt(hits, n + n - n * 3 / 4);
    ck_assert_uint_gt(hits, n);
    ck_assert_uint_gt(st.corrupt, 0);
    ck_assert_ptr_nonnull(strstr(last_log, "checksum mismatch"));
    uint64_t np, ne;
    ck_assert_int_gt(emu_cache_verify(tmpdir, NULL, &np, &ne), 0);
    free(buf);
}
END_TEST

START_TEST(test_index_page_damage)
{
    /* The index is read page by page: a damaged page costs exactly its own
     * entries (a miss, reported), the other pages still hit. */
    char path[600];
    size_t len;
    const unsigned n = 300;
    uint8_t *buf = make_pack("pg", n, &len, path, sizeof path);
    PackView v;
    char err[200];
    ck_assert(pack_parse(buf, len, &v, err, sizeof err));
    ck_assert_uint_eq(v.n_pages, (n + PACK_PAGE_ENTRIES - 1) / PACK_PAGE_ENTRIES);
    uint32_t first, count;
    pack_page_range(&v, 2, &first, &count);
    ck_assert_uint_eq(count, PACK_PAGE_ENTRIES);
    /* a bit of an entry's size, then of its key: both only fail that page */
    size_t at[2] = {v.index_offset + (first + 5) * sizeof(PackEntry) + offsetof(PackEntry, size),
                    v.index_offset + (first + 9) * sizeof(PackEntry)};
    for (int k = 0; k < 2; k++) {
        buf[at[k]] ^= 0x04;
        write_file(path, buf, len);
        n_logs = 0;
        bool det;
        ck_assert_uint_eq(probe("pg", n, &det), n - count);
        ck_assert(det);
        ck_assert_ptr_nonnull(strstr(last_log, "index page 2 checksum mismatch"));
        uint64_t np, ne;
        ck_assert_int_gt(emu_cache_verify(tmpdir, NULL, &np, &ne), 0);
        buf[at[k]] ^= 0x04;
    }
    /* a page table entry is meta: the whole pack is rejected */
    const PackPage *pg = &v.pages[1];
    buf[(const uint8_t *)&pg->checksum - buf] ^= 0x01;
    write_file(path, buf, len);
    bool det;
    ck_assert_uint_eq(probe("pg", n, &det), 0);
    ck_assert(det);
    ck_assert_ptr_nonnull(strstr(last_log, "index checksum mismatch"));
    free(buf);
}
END_TEST

START_TEST(test_verify_and_clear)
{
    char path[600];
    size_t len;
    uint8_t *buf = make_pack("ver", 100, &len, path, sizeof path);
    uint64_t np, ne;
    ck_assert_int_eq(emu_cache_verify(tmpdir, NULL, &np, &ne), 0);
    ck_assert_uint_eq(ne, 100);
    buf[len - 3] ^= 0x10; /* inside the last chunk */
    write_file(path, buf, len);
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    long bad = emu_cache_verify(tmpdir, f, &np, &ne);
    fclose(f);
    ck_assert_int_gt(bad, 0);
    ck_assert_ptr_nonnull(strstr(out, "checksum mismatch"));
    ck_assert_ptr_nonnull(strstr(out, "entry "));
    free(out);
    uint32_t removed;
    char err[200];
    ck_assert(emu_cache_clear(tmpdir, &removed, err, sizeof err));
    ck_assert_uint_eq(removed, 1);
    ck_assert_int_ne(access(path, F_OK), 0);
    free(buf);
}
END_TEST

START_TEST(test_parse_size)
{
    uint64_t v;
    ck_assert(emu_cache_parse_size("2G", &v) && v == 2ull << 30);
    ck_assert(emu_cache_parse_size("512m", &v) && v == 512ull << 20);
    ck_assert(emu_cache_parse_size("100K", &v) && v == 100ull << 10);
    ck_assert(emu_cache_parse_size("3MiB", &v) && v == 3ull << 20);
    ck_assert(emu_cache_parse_size("12345", &v) && v == 12345);
    ck_assert(emu_cache_parse_size("0", &v) && v == 0);
    ck_assert(!emu_cache_parse_size("", &v));
    ck_assert(!emu_cache_parse_size("-1", &v));
    ck_assert(!emu_cache_parse_size("1X", &v));
    ck_assert(!emu_cache_parse_size("1GG", &v));
    ck_assert(!emu_cache_parse_size("99999999999999999999", &v));
    ck_assert(!emu_cache_parse_size("99999999999T", &v));
}
END_TEST

START_TEST(test_env_defaults)
{
    char buf[512];
    setenv("EMU_CACHE_DIR", "/x/y", 1);
    ck_assert(emu_cache_default_dir(buf, sizeof buf));
    ck_assert_str_eq(buf, "/x/y");
    unsetenv("EMU_CACHE_DIR");
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    ck_assert(emu_cache_default_dir(buf, sizeof buf));
    ck_assert_str_eq(buf, "/xdg/emu");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    ck_assert(emu_cache_default_dir(buf, sizeof buf));
    ck_assert_str_eq(buf, "/home/u/.cache/emu");
    /* EMU_CACHE_MAX is checked */
    setenv("EMU_CACHE_MAX", "lots", 1);
    char err[200];
    EmuCacheConfig cfg = {.dir = tmpdir, .mode = EMU_CACHE_RO};
    ck_assert_ptr_null(emu_cache_open(&cfg, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "EMU_CACHE_MAX"));
    unsetenv("EMU_CACHE_MAX");
    ck_assert_ptr_nonnull(strstr(emu_cache_host_cpu(), "x86_64:"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("cache");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_hash_matches_libxxhash);
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_kinds_at_one_offset);
    tcase_add_test(tc, test_off_and_ro);
    tcase_add_test(tc, test_few_template_blocks_skip_the_rewrite);
    tcase_add_test(tc, test_merge_and_replace);
    tcase_add_test(tc, test_compaction);
    tcase_add_test(tc, test_key_stability);
    tcase_add_test(tc, test_truncation);
    tcase_add_test(tc, test_bitflips);
    tcase_add_test(tc, test_wrong_version_and_identity);
    tcase_add_test(tc, test_concurrent_writers);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_eviction);
    tcase_add_test(tc, test_runlog);
    tcase_add_test(tc, test_verify_and_clear);
    tcase_add_test(tc, test_ahead_of_time);
    tcase_add_test(tc, test_template_entries_uncompressed);
    tcase_add_test(tc, test_get_copy_through_reused_buffers);
    tcase_add_test(tc, test_get_head);
    tcase_add_test(tc, test_fork_child_leaves_parent_entries);
    tcase_add_test(tc, test_index_page_damage);
    tcase_add_test(tc, test_parse_size);
    tcase_add_test(tc, test_env_defaults);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
