/*
 * cache-fill - fill or check a code cache with deterministic entries, and
 * measure load cost.  Used by the shell tests in tests/cache/ (concurrent writers, the
 * emu-cache tool) and to choose the zstd level (see ARCHITECTURE.md).
 *
 *   cache-fill --dir D --module prog --seed 1 --count 500 fill
 *   cache-fill --dir D --module prog --seed 1 --count 500 check   # exit 1 on any miss
 *   (fill --objdir DIR: payloads are the files of DIR, e.g. host objects)
 *   cache-fill --dir D --count 10000 --objdir /tmp/objs bench      # ns per entry
 *
 * Entry i of seed s: offset s*2^32 + i*64, flags s&0xff, kind 1; its payload
 * is derived from (s, i) and its "guest bytes" are the string "s/i".
 */
#include "cache/cache.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *dir, *module = "prog", *objdir;
static unsigned long seed = 1, count = 100, size = 600, guest_len;
static int level;

static void log_cb(void *opaque, const char *msg) { fprintf(stderr, "%s\n", msg); }

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Code-like bytes: a small alphabet with repeats, so zstd has work to do. */
static size_t payload(unsigned long s, unsigned long i, uint8_t *buf, size_t cap)
{
    uint64_t x = (s * 0x9e3779b97f4a7c15ull) ^ (i + 1) * 0xbf58476d1ce4e5b9ull;
    size_t n = size / 2 + (size_t)(x % (size + 1));
    if (n > cap)
        n = cap;
    for (size_t k = 0; k < n; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[k] = (x & 3) ? (uint8_t)(0x40 + (x >> 8) % 24) : (uint8_t)(x >> 16);
    }
    if (n >= 16)
        memcpy(buf, &s, sizeof s), memcpy(buf + 8, &i, sizeof i);
    return n;
}

static void guest_hash(unsigned long s, unsigned long i, uint8_t h[16])
{
    char g[64];
    int n = snprintf(g, sizeof g, "%lu/%lu", s, i);
    emu_cache_hash128(g, (size_t)n, h);
}

static EmuCache *open_cache(EmuCacheMode mode)
{
    char err[256];
    EmuCacheConfig cfg = {.dir = dir, .mode = mode, .build_id = "cache-fill",
                          .zstd_level = level, .log = log_cb};
    EmuCache *c = emu_cache_open(&cfg, err, sizeof err);
    if (!c) {
        fprintf(stderr, "cache-fill: %s\n", err);
        exit(1);
    }
    return c;
}

static EmuCachePack *open_pack(EmuCache *c, const char *name)
{
    EmuCacheModuleId id = {.path = name};
    emu_cache_hash128(name, strlen(name), id.hash);
    EmuCachePack *p = emu_cache_pack_open(c, &id);
    if (!p) {
        fprintf(stderr, "cache-fill: cannot open pack\n");
        exit(1);
    }
    return p;
}

static void load_objs(void);
static uint8_t **objs;
static size_t *obj_len, n_objs;
static bool ro;

static int fill(void)
{
    EmuCache *c = open_cache(EMU_CACHE_RW);
    EmuCachePack *p = open_pack(c, module);
    uint8_t *buf = malloc(2 * size + 64);
    if (objdir)
        load_objs();
    for (unsigned long i = 0; i < count; i++) {
        uint8_t h[16];
        guest_hash(seed, i, h);
        size_t n = payload(seed, i, buf, 2 * size + 64);
        const uint8_t *d = n_objs ? objs[i % n_objs] : buf;
        n = n_objs ? obj_len[i % n_objs] : n;
        if (!emu_cache_pack_put_ex(p, (uint64_t)seed << 32 | i * 64, seed & 0xff, 1, h,
                                   (uint32_t)guest_len, d, n)) {
            fprintf(stderr, "cache-fill: put %lu failed\n", i);
            return 1;
        }
    }
    free(buf);
    emu_cache_close(c);
    return 0;
}

static int check(void)
{
    /* RW without puts writes nothing but the run log (like a warm rerun). */
    EmuCache *c = open_cache(ro ? EMU_CACHE_RO : EMU_CACHE_RW);
    EmuCachePack *p = open_pack(c, module);
    uint8_t *buf = malloc(2 * size + 64);
    unsigned long bad = 0;
    if (objdir)
        load_objs();
    for (unsigned long i = 0; i < count; i++) {
        uint8_t h[16];
        const void *d;
        size_t len;
        guest_hash(seed, i, h);
        size_t n = payload(seed, i, buf, 2 * size + 64);
        const uint8_t *want = n_objs ? objs[i % n_objs] : buf;
        n = n_objs ? obj_len[i % n_objs] : n;
        if (!emu_cache_pack_get(p, (uint64_t)seed << 32 | i * 64, seed & 0xff, 1, h, &d, &len) ||
            len != n || memcmp(d, want, n) != 0) {
            if (bad++ < 5)
                fprintf(stderr, "cache-fill: seed %lu entry %lu missing or wrong\n", seed, i);
        }
    }
    free(buf);
    EmuCacheStats st;
    emu_cache_get_stats(c, &st);
    emu_cache_close(c);
    printf("seed %lu: %lu of %lu entries ok (hits %llu misses %llu corrupt %llu)\n", seed,
           count - bad, count, (unsigned long long)st.hits, (unsigned long long)st.misses,
           (unsigned long long)st.corrupt);
    return bad ? 1 : 0;
}

/* Real object files (e.g. `ar x libc.a` into a directory) as payloads. */

static void load_objs(void)
{
    DIR *d = opendir(objdir);
    if (!d) {
        perror(objdir);
        exit(1);
    }
    struct dirent *e;
    size_t cap = 0;
    while ((e = readdir(d))) {
        char p[4096];
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", objdir, e->d_name);
        FILE *f = fopen(p, "rb");
        if (!f)
            continue;
        fseek(f, 0, SEEK_END);
        long l = ftell(f);
        rewind(f);
        if (l <= 0 || l > (1 << 20)) {
            fclose(f);
            continue;
        }
        if (n_objs == cap) {
            cap = cap ? cap * 2 : 256;
            objs = realloc(objs, cap * sizeof *objs);
            obj_len = realloc(obj_len, cap * sizeof *obj_len);
        }
        objs[n_objs] = malloc((size_t)l);
        obj_len[n_objs] = fread(objs[n_objs], 1, (size_t)l, f);
        n_objs++;
        fclose(f);
    }
    closedir(d);
}

static int bench(void)
{
    uint8_t *buf = malloc(2 * size + 64);
    if (objdir)
        load_objs();
    uint64_t raw = 0;
    EmuCache *c = open_cache(EMU_CACHE_RW);
    EmuCachePack *p = open_pack(c, module);
    for (unsigned long i = 0; i < count; i++) {
        uint8_t h[16];
        guest_hash(seed, i, h);
        const uint8_t *d = buf;
        size_t n;
        if (n_objs) {
            d = objs[i % n_objs];
            n = obj_len[i % n_objs];
        } else {
            n = payload(seed, i, buf, 2 * size + 64);
        }
        raw += n;
        emu_cache_pack_put(p, (uint64_t)seed << 32 | i * 64, 0, 1, h, d, n);
    }
    uint64_t tw = now_ns();
    emu_cache_close(c);
    printf("store: %.2f us/entry (compress, write, fsync)\n", (now_ns() - tw) / 1e3 / count);
    /* Rerun as a fresh process would: open, then get every entry in order. */
    for (int round = 0; round < 3; round++) {
        c = open_cache(EMU_CACHE_RO);
        uint64_t t0 = now_ns();
        p = open_pack(c, module);
        uint64_t t1 = now_ns();
        unsigned long hits = 0;
        for (unsigned long i = 0; i < count; i++) {
            uint8_t h[16];
            const void *d;
            size_t len;
            guest_hash(seed, i, h);
            hits += emu_cache_pack_get(p, (uint64_t)seed << 32 | i * 64, 0, 1, h, &d, &len);
        }
        uint64_t t2 = now_ns();
        for (unsigned long i = 0; i < count; i++) { /* again: lookup + verify only */
            uint8_t h[16];
            const void *d;
            size_t len;
            guest_hash(seed, i, h);
            emu_cache_pack_get(p, (uint64_t)seed << 32 | i * 64, 0, 1, h, &d, &len);
        }
        uint64_t t3 = now_ns();
        EmuCacheStats st;
        emu_cache_get_stats(c, &st);
        emu_cache_close(c);
        printf("level %d: %lu entries, %.1f MB raw: open %.2f ms, get %.3f us/entry, "
               "total %.3f us/entry (%lu hits); a second get %.3f us\n", level ? level : EMU_CACHE_ZSTD_LEVEL, count,
               raw / 1e6, (t1 - t0) / 1e6, (t2 - t1) / 1e3 / count, (t2 - t0) / 1e3 / count, hits, (t3 - t2) / 1e3 / count);
        if (hits != count)
            return 1;
    }
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},   {"module", required_argument, NULL, 'm'},
        {"seed", required_argument, NULL, 's'},  {"count", required_argument, NULL, 'n'},
        {"size", required_argument, NULL, 'z'},  {"level", required_argument, NULL, 'l'},
        {"objdir", required_argument, NULL, 'o'}, {"ro", no_argument, NULL, 'r'},
        {"guest-len", required_argument, NULL, 'g'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 'm': module = optarg; break;
        case 's': seed = strtoul(optarg, NULL, 0); break;
        case 'n': count = strtoul(optarg, NULL, 0); break;
        case 'z': size = strtoul(optarg, NULL, 0); break;
        case 'l': level = atoi(optarg); break;
        case 'o': objdir = optarg; break;
        case 'r': ro = true; break;
        case 'g': guest_len = strtoul(optarg, NULL, 0); break;
        default: return 2;
        }
    }
    if (optind != argc - 1 || !dir || !size) {
        fprintf(stderr, "usage: cache-fill --dir D [--module M] [--seed S] [--count N] "
                        "[--size B] [--level L] [--objdir DIR] [--ro] [--guest-len N] fill|check|bench\n");
        return 2;
    }
    const char *cmd = argv[optind];
    if (!strcmp(cmd, "fill"))
        return fill();
    if (!strcmp(cmd, "check"))
        return check();
    if (!strcmp(cmd, "bench"))
        return bench();
    fprintf(stderr, "cache-fill: unknown command %s\n", cmd);
    return 2;
}
