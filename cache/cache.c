/*
 * cache.c - the runtime side of the code cache (API in cache.h).
 *
 * A pack is read once at pack_open (one read(): a file replaced by rename
 * under us is harmless, and nothing is mmapped that a truncation could turn
 * into SIGBUS) and verified down to its index; chunks are decompressed and
 * checked lazily, on the first get that needs them.  New entries are kept
 * in memory until flush/close, which merges them into the current file
 * under the pack's flock: re-read, merge, write a temp file, fsync, rename.
 */
#include "cache/cache.h"
#include "cache/cache-admin.h"
#include "cache/pack.h"
#include "support/hostfd.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/platform/x86.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cache/hash.h"
#include <zstd.h>

#define DEFAULT_MAX_BYTES (2ull << 30)

struct EmuCache {
    char dir[PATH_MAX];
    char packs[PATH_MAX];
    EmuCacheMode mode;
    uint64_t max_bytes;
    char *build_id, *host_cpu;
    int level;
    EmuCacheLogFunc *log;
    void *log_opaque;
    bool time_gets;             /* EmuCacheConfig.time_gets */
    pthread_mutex_t lock; /* the list of open packs */
    EmuCachePack *open_packs;
    EmuCacheStats stats;  /* updated with __atomic adds */
};

/* An entry buffered by put until the next flush. */
typedef struct Pending {
    uint64_t offset;
    uint32_t flags;
    uint8_t kind;
    bool dirty;           /* not yet written to the file */
    unsigned fork_gen;    /* cache_fork_gen when put: whose entry it is */
    uint32_t guest_len;
    uint8_t hash[16];
    uint8_t *data;
    size_t len;
} Pending;

/* Per-run counters of one pack, for the run log. */
typedef struct PackCounts {
    uint64_t hits, misses, mismatches, corrupt, stored;
} PackCounts;

struct EmuCachePack {
    EmuCache *c;
    EmuCachePack *next;
    char name[33];
    uint8_t module_hash[16];
    char *path;           /* display path of the guest binary */
    char file[PATH_MAX + 64];
    pthread_mutex_t mu;
    uint8_t *buf;         /* the file as read; NULL if none/invalid */
    PackView v;
    uint8_t **chunk_data; /* decompressed chunks, NULL until needed */
    uint8_t *chunk_bad;   /* chunk failed its checks */
    uint8_t *entry_state; /* 0 unchecked, 1 ok, 2 bad */
    PackEntry *ents;      /* lazily read index (v.entries points here) */
    size_t ents_bytes, state_bytes; /* their sizes (zero_alloc) */
    uint8_t *page_state;  /* 0 not read, 1 ok, 2 bad */
    ZSTD_DCtx *dctx;
    Pending *pend;
    size_t n_pend, cap_pend;
    uint32_t *ht;         /* open addressing: pending index + 1, 0 = empty */
    size_t ht_cap;
    uint8_t **retired;    /* payloads replaced by a later put: get may have returned them */
    size_t n_retired, cap_retired;
    PackCounts n;
    /* The run log counts this process's run alone: n as it was when a fork
     * made this process (n_gen: cache_fork_gen then; see own_counts). */
    PackCounts n_base;
    unsigned n_gen;
    /* emu_cache_pack_get_copy: chunks not kept in chunk_data go through a few
     * reused buffers (a run reads its chunks nearly in order: python3 -c pass
     * reads 1018 chunks through 4 buffers, 986 through 8, 929 distinct), so a
     * warm start does not commit a page for every byte of code it loads. */
    struct {
        uint8_t *buf;
        size_t cap;
        uint32_t chunk;   /* UINT32_MAX: empty */
        uint64_t used;    /* LRU stamp */
    } pool[EMU_CACHE_POOL_CHUNKS];
    uint64_t pool_clock;
    struct {              /* pack_lookup's last answer (for this view) */
        bool valid;
        uint8_t kind;
        uint32_t flags;
        uint64_t offset;
        long index;
        uint32_t lo, hi;  /* index >= 0: the entries of its index page */
    } memo;
};

static void cache_log(const EmuCache *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cache_log(const EmuCache *c, const char *fmt, ...)
{
    if (!c->log)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->log(c->log_opaque, msg);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* emu_cache_set_ahead_of_time: this process's puts go into raw chunks */
static bool cache_ahead;

/* emu_cache_note_fork_child: bumped in a forked child, so that entries put
 * before the fork are left for the parent to write. */
static unsigned cache_fork_gen;

void emu_cache_note_fork_child(void)
{
    __atomic_add_fetch(&cache_fork_gen, 1, __ATOMIC_RELAXED);
}

/* Under p->mu, before a counter of p changes and when the run is logged: a
 * forked child inherited its parent's counts, which the parent logs. */
static void own_counts(EmuCachePack *p)
{
    unsigned gen = __atomic_load_n(&cache_fork_gen, __ATOMIC_RELAXED);
    if (p->n_gen != gen) {
        p->n_base = p->n;
        p->n_gen = gen;
    }
}

void emu_cache_set_ahead_of_time(bool on)
{
    __atomic_store_n(&cache_ahead, on, __ATOMIC_RELAXED);
}

/* Template blocks are stored uncompressed too: a warm start loads hundreds
 * to tens of thousands of them, and decompressing their chunks was about
 * half of the load (busybox true: 2.68 -> 2.33 ms for a pack 2.3x larger on
 * disk).  Region objects (few, and each saves an LLVM compile) keep zstd. */
static bool kind_is_template(uint8_t kind)
{
    return kind >= EMU_CACHE_KIND_TEMPLATE && kind < EMU_CACHE_KIND_TEMPLATE + 4;
}

static bool kind_stored_raw(uint8_t kind)
{
    return kind_is_template(kind);
}

#define STAT_ADD(c, field, v) __atomic_fetch_add(&(c)->stats.field, (v), __ATOMIC_RELAXED)

/* ---- helpers ---- */

void emu_cache_hash128(const void *data, size_t len, uint8_t out[16])
{
    emu_hash128(data, len, out);
}

static char host_cpu_buf[512];

static void host_cpu_fill(void)
{
    /* glibc's copy of the cpuid bits, not __builtin_cpu_supports: libgcc's
     * constructor behind it runs ~13 cpuid instructions at every start, each
     * a trap to the hypervisor in a VM (~7 us here).  The names are gcc's
     * (__builtin_cpu_supports), as before: they are part of the pack key. */
    size_t o = (size_t)snprintf(host_cpu_buf, sizeof host_cpu_buf, "x86_64:");
    const char *sep = "";
#define F(n, g)                                                                                \
    if (CPU_FEATURE_ACTIVE(g) && o < sizeof host_cpu_buf) {                                    \
        o += (size_t)snprintf(host_cpu_buf + o, sizeof host_cpu_buf - o, "%s%s", sep, n);      \
        sep = ",";                                                                             \
    }
    F("sse3", SSE3) F("ssse3", SSSE3) F("sse4.1", SSE4_1) F("sse4.2", SSE4_2)
    F("popcnt", POPCNT) F("avx", AVX) F("avx2", AVX2) F("bmi", BMI1) F("bmi2", BMI2)
    F("fma", FMA) F("f16c", F16C) F("aes", AES) F("pclmul", PCLMULQDQ) F("movbe", MOVBE)
    F("avx512f", AVX512F) F("avx512bw", AVX512BW) F("avx512dq", AVX512DQ)
    F("avx512vl", AVX512VL)
#undef F
}

const char *emu_cache_host_cpu(void)
{
    /* The ISA extensions generated code may use; the microarchitecture is
     * left out on purpose: the same extensions run the same code. */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, host_cpu_fill);
    return host_cpu_buf;
}

bool emu_cache_default_dir(char *buf, size_t n)
{
    const char *e = getenv("EMU_CACHE_DIR");
    int r;
    if (e && *e)
        r = snprintf(buf, n, "%s", e);
    else if ((e = getenv("XDG_CACHE_HOME")) && *e == '/')
        r = snprintf(buf, n, "%s/emu", e);
    else if ((e = getenv("HOME")) && *e)
        r = snprintf(buf, n, "%s/.cache/emu", e);
    else
        return false;
    return r > 0 && (size_t)r < n;
}

bool emu_cache_parse_size(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return false;
    unsigned shift = 0;
    static const char units[] = "KMGT";
    const char *suf = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
    if (suf) {
        shift = 10 * (unsigned)(suf - units + 1);
        end++;
        if (*end == 'i')
            end++;
        if (*end == 'B')
            end++;
    }
    if (*end)
        return false;
    if (shift && v > (UINT64_MAX >> shift))
        return false;
    *out = (uint64_t)v << shift;
    return true;
}

/* ---- the cache ---- */

EmuCache *emu_cache_open(const EmuCacheConfig *cfg, char *err, size_t errlen)
{
    EmuCache *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->mode = cfg->mode;
    c->log = cfg->log;
    c->log_opaque = cfg->log_opaque;
    c->time_gets = cfg->time_gets;
    c->level = cfg->zstd_level ? cfg->zstd_level : EMU_CACHE_ZSTD_LEVEL;
    pthread_mutex_init(&c->lock, NULL);
    c->build_id = strdup(cfg->build_id ? cfg->build_id : "");
    c->host_cpu = strdup(cfg->host_cpu ? cfg->host_cpu : emu_cache_host_cpu());
    if (!c->build_id || !c->host_cpu) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (strlen(c->build_id) > PACK_MAX_STRING || strlen(c->host_cpu) > PACK_MAX_STRING) {
        snprintf(err, errlen, "build id or host cpu string longer than %u", PACK_MAX_STRING);
        goto fail;
    }
    if (c->mode == EMU_CACHE_OFF)
        return c;
    if (cfg->dir) {
        if (snprintf(c->dir, sizeof c->dir, "%s", cfg->dir) >= (int)sizeof c->dir) {
            snprintf(err, errlen, "cache directory path too long");
            goto fail;
        }
    } else if (!emu_cache_default_dir(c->dir, sizeof c->dir)) {
        snprintf(err, errlen, "no cache directory: set EMU_CACHE_DIR or HOME");
        goto fail;
    }
    if (snprintf(c->packs, sizeof c->packs, "%s/packs", c->dir) >= (int)sizeof c->packs) {
        snprintf(err, errlen, "cache directory path too long");
        goto fail;
    }
    c->max_bytes = cfg->max_bytes;
    if (!c->max_bytes) {
        const char *e = getenv("EMU_CACHE_MAX");
        if (e && *e) {
            if (!emu_cache_parse_size(e, &c->max_bytes) || !c->max_bytes) {
                snprintf(err, errlen, "EMU_CACHE_MAX=%s: expected a size like 512M or 2G", e);
                goto fail;
            }
        } else {
            c->max_bytes = DEFAULT_MAX_BYTES;
        }
    }
    if (c->mode == EMU_CACHE_RW && !cache_dir_create(c->dir, err, errlen))
        goto fail;
    return c;
fail:
    free(c->build_id);
    free(c->host_cpu);
    pthread_mutex_destroy(&c->lock);
    free(c);
    return NULL;
}

static void pack_close(EmuCachePack *p, bool keep_memory);

static void cache_close(EmuCache *c, bool keep_memory)
{
    if (!c)
        return;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        EmuCachePack *p = c->open_packs;
        pthread_mutex_unlock(&c->lock);
        if (!p)
            break;
        pack_close(p, keep_memory);
    }
    if (keep_memory)
        return;
    free(c->build_id);
    free(c->host_cpu);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void emu_cache_close(EmuCache *c)
{
    cache_close(c, false);
}

void emu_cache_close_at_exit(EmuCache *c)
{
    cache_close(c, true);
}

const char *emu_cache_dir(const EmuCache *c) { return c ? c->dir : ""; }
EmuCacheMode emu_cache_mode(const EmuCache *c) { return c ? c->mode : EMU_CACHE_OFF; }

void emu_cache_get_stats(const EmuCache *c, EmuCacheStats *out)
{
    memset(out, 0, sizeof *out);
    if (!c)
        return;
    const uint64_t *src = (const uint64_t *)&c->stats;
    uint64_t *dst = (uint64_t *)out;
    for (size_t i = 0; i < sizeof *out / sizeof(uint64_t); i++)
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void emu_cache_print_stats(FILE *f, const EmuCacheStats *s)
{
    uint64_t n = s->hits + s->misses;
    fprintf(f, "cache: %llu lookups, %llu hits (%.1f%%), %llu misses (%llu changed guest code, "
            "%llu corrupt); packs %llu opened, %llu new, %llu rejected\n",
            (unsigned long long)n, (unsigned long long)s->hits, n ? 100.0 * s->hits / n : 0.0,
            (unsigned long long)s->misses, (unsigned long long)s->mismatches,
            (unsigned long long)s->corrupt, (unsigned long long)s->packs_opened,
            (unsigned long long)s->packs_missing, (unsigned long long)s->packs_corrupt);
    fprintf(f, "cache: load %.3f ms (%.2f us per hit, %llu bytes); stored %llu entries, "
            "%llu bytes in %.3f ms\n", s->load_ns / 1e6,
            s->hits ? s->load_ns / 1e3 / s->hits : 0.0, (unsigned long long)s->bytes_loaded,
            (unsigned long long)s->stored, (unsigned long long)s->bytes_written, s->store_ns / 1e6);
}

/* ---- packs ---- */

const char *emu_cache_pack_name(const EmuCachePack *p) { return p ? p->name : ""; }

/* Zeroed memory of which only the pages used get committed: a pack's index
 * and entry states are read a page at a time.  calloc gives no such promise
 * (with glibc's mmap threshold raised by an earlier free it clears the
 * whole block: 29 of busybox true's ~400 page faults). */
static void *zero_alloc(size_t bytes)
{
    if (bytes < 16384)
        return calloc(1, bytes ? bytes : 1);
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

static void zero_free(void *m, size_t bytes)
{
    if (bytes < 16384)
        free(m);
    else if (m)
        munmap(m, bytes);
}

static void pack_drop_view(EmuCachePack *p)
{
    if (p->chunk_data)
        for (uint32_t i = 0; i < p->v.hdr.n_chunks; i++)
            free(p->chunk_data[i]);
    free(p->chunk_data);
    free(p->chunk_bad);
    zero_free(p->entry_state, p->state_bytes);
    zero_free(p->ents, p->ents_bytes);
    p->ents_bytes = p->state_bytes = 0;
    free(p->page_state);
    free(p->buf);
    if (p->v.fd >= 0)
        hostfd_close(p->v.fd);
    p->chunk_data = NULL;
    for (unsigned k = 0; k < EMU_CACHE_POOL_CHUNKS; k++)
        p->pool[k].chunk = UINT32_MAX;   /* chunk numbers of another view */
    p->memo.valid = false;
    p->chunk_bad = p->entry_state = p->buf = p->page_state = NULL;
    p->ents = NULL;
    memset(&p->v, 0, sizeof p->v);
    p->v.fd = -1;
}

/* Does the parsed pack belong to this module, build and host?  Reason in err. */
static bool identity_ok(const EmuCachePack *p, const PackView *v, char *err, size_t n)
{
    const EmuCache *c = p->c;
    if (memcmp(v->hdr.module_hash, p->module_hash, 16) != 0) {
        snprintf(err, n, "module hash differs (hash collision of pack names?)");
        return false;
    }
    if (v->hdr.host_cpu_len != strlen(c->host_cpu) ||
        memcmp(v->host_cpu, c->host_cpu, v->hdr.host_cpu_len) != 0) {
        snprintf(err, n, "written for another host CPU (%.*s)", (int)v->hdr.host_cpu_len,
                 v->host_cpu);
        return false;
    }
    if (v->hdr.build_id_len != strlen(c->build_id) ||
        memcmp(v->build_id, c->build_id, v->hdr.build_id_len) != 0) {
        snprintf(err, n, "written by another translator build (%.*s)", (int)v->hdr.build_id_len,
                 v->build_id);
        return false;
    }
    uint8_t key[16];
    pack_key(p->module_hash, c->build_id, c->host_cpu, key);
    if (memcmp(key, v->hdr.pack_key, 16) != 0) {
        snprintf(err, n, "pack key differs from its identity");
        return false;
    }
    return true;
}

/* Header and meta of a pack (strings, chunk and page tables) into a new
 * buffer; the file stays open in *fd for index pages and chunks.  false +
 * errno. */
static bool read_index(const char *file, uint8_t **buf, size_t *len, uint64_t *file_len, int *fd)
{
    /* O_NONBLOCK: a FIFO planted where a pack should be must not hang us */
    *fd = hostfd_keep(open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK)); /* kept for the run */
    if (*fd < 0)
        return false;
    struct stat st;
    PackHeader h;
    if (fstat(*fd, &st) != 0)
        goto fail;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        goto fail;
    }
    *file_len = (uint64_t)st.st_size;
    /* a short or absurd header is left to pack_parse_prefix to name */
    *len = *file_len < PACK_HEADER_SIZE ? (size_t)*file_len : PACK_HEADER_SIZE;
    uint64_t meta_end;
    if (pread(*fd, &h, sizeof h, 0) == (ssize_t)sizeof h &&
        (meta_end = h.meta_offset + h.meta_size) >= PACK_HEADER_SIZE &&
        h.meta_size <= ((uint64_t)1 << 30) && meta_end <= *file_len)
        *len = (size_t)meta_end;
    if (!(*buf = malloc(*len ? *len : 1)))
        goto fail;
    for (size_t got = 0; got < *len;) {
        ssize_t r = pread(*fd, *buf + got, *len - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            *len = got;   /* truncated meanwhile: pack_parse_prefix says so */
            break;
        }
        got += (size_t)r;
    }
    return true;
fail:;
    int e = errno;
    hostfd_close(*fd);
    *fd = -1;
    errno = e;
    return false;
}

/* Read and verify the pack file; buf and view on success (NULL if missing).
 * *corrupt set when a file exists but is unusable.  lazy: read only header
 * and index, and chunks when they are needed (a pack filled by emu-aot can
 * hold 100 MB of code of which a run needs a few); else the whole file. */
static bool read_pack(EmuCachePack *p, uint8_t **buf, PackView *v, bool *corrupt, bool lazy)
{
    size_t len;
    uint64_t file_len;
    int fd = -1;
    char err[256];
    *buf = NULL;
    *corrupt = false;
    bool got = lazy ? read_index(p->file, buf, &len, &file_len, &fd)
                    : cache_read_file(p->file, buf, &len);
    if (!got) {
        if (errno != ENOENT) {
            cache_log(p->c, "cache: %s: cannot read: %s; ignored", p->file, strerror(errno));
            *corrupt = true;
        }
        return false;
    }
    if (!lazy)
        file_len = len;
    if (pack_parse_prefix(*buf, len, file_len, v, err, sizeof err) &&
        identity_ok(p, v, err, sizeof err)) {
        v->fd = fd;
        return true;
    }
    if (fd >= 0)
        hostfd_close(fd);
    cache_log(p->c, "cache: pack %s (%s): %s; dropped", p->name, p->path, err);
    free(*buf);
    *buf = NULL;
    *corrupt = true;
    return false;
}

EmuCachePack *emu_cache_pack_open(EmuCache *c, const EmuCacheModuleId *id)
{
    if (!c || c->mode == EMU_CACHE_OFF || !id)
        return NULL;
    uint64_t t0 = now_ns();
    EmuCachePack *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->c = c;
    p->v.fd = -1;
    for (unsigned k = 0; k < EMU_CACHE_POOL_CHUNKS; k++)
        p->pool[k].chunk = UINT32_MAX;
    memcpy(p->module_hash, id->hash, 16);
    p->path = strdup(id->path ? id->path : "");
    if (!p->path) {   /* dctx: made by the first get of a compressed chunk */
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    uint8_t key[16];
    pack_key(id->hash, c->build_id, c->host_cpu, key);
    pack_hex(key, p->name);
    snprintf(p->file, sizeof p->file, "%s/%s.pack", c->packs, p->name);

    bool corrupt;
    if (read_pack(p, &p->buf, &p->v, &corrupt, true)) {
        uint32_t nc = p->v.hdr.n_chunks, ne = p->v.hdr.n_entries;
        p->chunk_data = calloc(nc ? nc : 1, sizeof *p->chunk_data);
        p->chunk_bad = calloc(nc ? nc : 1, 1);
        p->state_bytes = ne;
        p->entry_state = zero_alloc(p->state_bytes);
        p->ents_bytes = (size_t)ne * sizeof *p->ents;
        p->ents = zero_alloc(p->ents_bytes);
        p->page_state = calloc(p->v.n_pages ? p->v.n_pages : 1, 1);
        p->v.entries = p->ents;
        if (!p->chunk_data || !p->chunk_bad || !p->entry_state || !p->ents || !p->page_state) {
            cache_log(c, "cache: out of memory opening pack %s", p->name);
            pack_drop_view(p);
        } else {
            STAT_ADD(c, packs_opened, 1);
            if (c->mode == EMU_CACHE_RW) /* LRU: a used pack is young */
                utimensat(AT_FDCWD, p->file, NULL, 0);
        }
    } else {
        STAT_ADD(c, packs_missing, !corrupt);
        STAT_ADD(c, packs_corrupt, corrupt);
    }
    pthread_mutex_lock(&c->lock);
    p->next = c->open_packs;
    c->open_packs = p;
    pthread_mutex_unlock(&c->lock);
    STAT_ADD(c, load_ns, now_ns() - t0);
    return p;
}

static size_t ht_slot(uint64_t off, uint32_t flags, uint8_t kind, size_t cap)
{
    uint64_t h = off * 0x9e3779b97f4a7c15ull ^ ((uint64_t)flags << 8 | kind) * 0xc2b2ae3d27d4eb4full;
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static Pending *pending_find(EmuCachePack *p, uint64_t off, uint32_t flags, uint8_t kind)
{
    if (!p->ht_cap)
        return NULL;
    for (size_t s = ht_slot(off, flags, kind, p->ht_cap);; s = (s + 1) & (p->ht_cap - 1)) {
        uint32_t i = p->ht[s];
        if (!i)
            return NULL;
        Pending *e = &p->pend[i - 1];
        if (e->offset == off && e->flags == flags && e->kind == kind)
            return e;
    }
}

static bool ht_grow(EmuCachePack *p)
{
    size_t cap = p->ht_cap ? p->ht_cap * 2 : 64;
    uint32_t *ht = calloc(cap, sizeof *ht);
    if (!ht)
        return false;
    for (size_t i = 0; i < p->n_pend; i++) {
        Pending *e = &p->pend[i];
        size_t s = ht_slot(e->offset, e->flags, e->kind, cap);
        while (ht[s])
            s = (s + 1) & (cap - 1);
        ht[s] = (uint32_t)i + 1;
    }
    free(p->ht);
    p->ht = ht;
    p->ht_cap = cap;
    return true;
}

/* Find a key in the pack file, reading and checking its index page first
 * if needed; -1 if absent, -2 if its page is bad.  p->mu held. */
static long pack_lookup_uncached(EmuCachePack *p, uint64_t offset, uint32_t flags,
                                 uint8_t kind, uint32_t *lo, uint32_t *hi);

/* Another kind at the memo's (offset, flags): entries sort by (offset,
 * flags, kind), so it is next to the memo's entry or absent.  -3 when that
 * cannot be told inside the memo's page. */
static long pack_lookup_near(const EmuCachePack *p, uint8_t kind)
{
    long i = p->memo.index;
    if (i < 0)
        return -3;
    const PackEntry *e = p->ents;   /* as pack_lookup_uncached searched */
    long lo = i, hi = i;
    while (lo > (long)p->memo.lo && e[lo - 1].guest_offset == p->memo.offset &&
           e[lo - 1].flags == p->memo.flags)
        lo--;
    while (hi + 1 < (long)p->memo.hi && e[hi + 1].guest_offset == p->memo.offset &&
           e[hi + 1].flags == p->memo.flags)
        hi++;
    for (long k = lo; k <= hi; k++)
        if (e[k].kind == kind)
            return k;
    /* the run of this (offset, flags) may go on in the next or previous page */
    return lo == (long)p->memo.lo || hi + 1 == (long)p->memo.hi ? -3 : -1;
}

/* The index of (offset, flags, kind) in the pack: -1 absent, -2 its index
 * page is bad.  The last answer is kept: callers ask has, then get, and
 * the runtime asks for a block's template entry, then for a region there. */
static long pack_lookup(EmuCachePack *p, uint64_t offset, uint32_t flags, uint8_t kind)
{
    long i = -3;
    uint32_t lo = p->memo.lo, hi = p->memo.hi;
    if (p->memo.valid && p->memo.offset == offset && p->memo.flags == flags) {
        if (p->memo.kind == kind)
            return p->memo.index;
        i = pack_lookup_near(p, kind);
    }
    if (i == -3)
        i = pack_lookup_uncached(p, offset, flags, kind, &lo, &hi);
    p->memo.valid = true;
    p->memo.offset = offset;
    p->memo.flags = flags;
    p->memo.kind = kind;
    p->memo.index = i;
    p->memo.lo = lo;
    p->memo.hi = hi;
    return i;
}

static long pack_lookup_uncached(EmuCachePack *p, uint64_t offset, uint32_t flags,
                                 uint8_t kind, uint32_t *lo, uint32_t *hi)
{
    if (!p->buf)
        return -1;
    uint32_t pg = pack_page_of(&p->v, offset, flags, kind);
    if (pg == UINT32_MAX)
        return -1;
    uint32_t first, count;
    pack_page_range(&p->v, pg, &first, &count);
    if (p->page_state[pg] == 0) {
        char err[256];
        size_t want = (size_t)count * sizeof(PackEntry), got = 0;
        uint8_t *dst = (uint8_t *)(p->ents + first);
        uint64_t at = p->v.index_offset + (uint64_t)first * sizeof(PackEntry);
        errno = 0;
        while (got < want) {
            ssize_t r = pread(p->v.fd, dst + got, want - got, (off_t)(at + got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        if (got < want)
            snprintf(err, sizeof err, "index page %u: %s", pg,
                     errno ? strerror(errno) : "file truncated");
        p->page_state[pg] = got == want && pack_check_page(&p->v, pg, p->ents + first, err,
                                                           sizeof err) ? 1 : 2;
        if (p->page_state[pg] == 2) {
            memset(dst, 0, want); /* nothing of it is used */
            cache_log(p->c, "cache: pack %s (%s): %s; its entries dropped", p->name, p->path,
                      err);
        }
    }
    if (p->page_state[pg] == 2)
        return -2;
    *lo = first;
    *hi = first + count;
    return pack_find_in(p->ents, first, (long)first + count, offset, flags, kind);
}

bool emu_cache_pack_has(EmuCachePack *p, uint64_t offset, uint32_t flags, uint8_t kind)
{
    if (!p)
        return false;
    pthread_mutex_lock(&p->mu);
    bool has = pack_lookup(p, offset, flags, kind) >= 0 ||
               pending_find(p, offset, flags, kind) != NULL;
    pthread_mutex_unlock(&p->mu);
    return has;
}

/* Under p->mu: the bytes of chunk ch, read and checked on first use.  Kept
 * until the pack closes, or (transient) in the least recently used pool
 * buffer, valid until the next transient read.  NULL + err if unusable. */
static const uint8_t *chunk_bytes(EmuCachePack *p, uint32_t ch, bool transient, char *err,
                                  size_t errlen)
{
    if (p->chunk_data[ch])
        return p->chunk_data[ch];
    if (!p->dctx && p->v.chunks[ch].codec != PACK_CODEC_RAW)
        p->dctx = ZSTD_createDCtx();   /* NULL: pack_chunk_data makes its own */
    if (!transient)
        return pack_chunk_data(&p->v, ch, p->dctx, &p->chunk_data[ch], err, errlen)
                   ? p->chunk_data[ch]
                   : NULL;
    unsigned victim = 0;
    for (unsigned k = 0; k < EMU_CACHE_POOL_CHUNKS; k++) {
        if (p->pool[k].chunk == ch) {
            p->pool[k].used = ++p->pool_clock;
            return p->pool[k].buf;
        }
        if (p->pool[k].used < p->pool[victim].used)
            victim = k;
    }
    p->pool[victim].chunk = UINT32_MAX;
    if (!pack_chunk_into(&p->v, ch, p->dctx, &p->pool[victim].buf, &p->pool[victim].cap, err,
                         errlen))
        return NULL;
    p->pool[victim].chunk = ch;
    p->pool[victim].used = ++p->pool_clock;
    return p->pool[victim].buf;
}

/* Under p->mu: emu_cache_pack_get (transient: chunk_bytes) and its counters. */
static bool pack_get_locked(EmuCachePack *p, uint64_t offset, uint32_t flags, uint8_t kind,
                            const uint8_t content_hash[16], bool transient, const void **data,
                            size_t *len)
{
    EmuCache *c = p->c;
    bool hit = false, mismatch = false, corrupt = false;
    long i = pack_lookup(p, offset, flags, kind);
    corrupt = i == -2;
    if (i >= 0) {
        const PackEntry *e = &p->v.entries[i];
        if (memcmp(e->content_hash, content_hash, 16) != 0) {
            mismatch = true;
        } else if (p->entry_state[i] == 2 || p->chunk_bad[e->chunk]) {
            corrupt = true;
        } else {
            char err[256];
            const uint8_t *cd = chunk_bytes(p, e->chunk, transient, err, sizeof err);
            if (!cd) {
                cache_log(c, "cache: pack %s (%s): %s; its entries dropped", p->name, p->path,
                          err);
                p->chunk_bad[e->chunk] = 1;
                corrupt = true;
            } else {
                const uint8_t *d = cd + e->chunk_offset;
                if (p->entry_state[i] == 0)
                    p->entry_state[i] = emu_hash64(d, e->size) == e->checksum ? 1 : 2;
                if (p->entry_state[i] == 2) {
                    cache_log(c, "cache: pack %s (%s): entry 0x%llx/%u/%u checksum mismatch; "
                              "dropped", p->name, p->path, (unsigned long long)offset, flags, kind);
                    corrupt = true;
                } else {
                    *data = d;
                    *len = e->size;
                    hit = true;
                }
            }
        }
    }
    if (!hit) { /* buffered by put in this run? */
        Pending *e = pending_find(p, offset, flags, kind);
        if (e && memcmp(e->hash, content_hash, 16) == 0) {
            *data = e->data;
            *len = e->len;
            hit = true;
        } else if (e) {
            mismatch = true;
        }
    }
    own_counts(p);
    if (hit) {
        p->n.hits++;
        STAT_ADD(c, hits, 1);
        STAT_ADD(c, bytes_loaded, *len);
    } else {
        p->n.misses++;
        STAT_ADD(c, misses, 1);
        if (mismatch) {
            p->n.mismatches++;
            STAT_ADD(c, mismatches, 1);
        }
        if (corrupt) {
            p->n.corrupt++;
            STAT_ADD(c, corrupt, 1);
        }
    }
    return hit;
}

bool emu_cache_pack_get(EmuCachePack *p, uint64_t offset, uint32_t flags, uint8_t kind,
                        const uint8_t content_hash[16], const void **data, size_t *len)
{
    if (!p)
        return false;
    EmuCache *c = p->c;
    uint64_t t0 = c->time_gets ? now_ns() : 0;
    pthread_mutex_lock(&p->mu);
    bool hit = pack_get_locked(p, offset, flags, kind, content_hash, false, data, len);
    pthread_mutex_unlock(&p->mu);
    if (c->time_gets)
        STAT_ADD(c, load_ns, now_ns() - t0);
    return hit;
}

/* get_copy and get_head: a transient get that copies, under the lock, the
 * whole payload into *buf (grown to fit) when want is SIZE_MAX, else its
 * first `want` bytes (*cap >= want); a shorter payload is then a miss. */
static bool pack_get_transient(EmuCachePack *p, uint64_t offset, uint32_t flags, uint8_t kind,
                               const uint8_t content_hash[16], size_t want, void **buf,
                               size_t *cap, size_t *len)
{
    if (!p)
        return false;
    EmuCache *c = p->c;
    uint64_t t0 = c->time_gets ? now_ns() : 0;
    const void *d;
    pthread_mutex_lock(&p->mu);
    bool hit = pack_get_locked(p, offset, flags, kind, content_hash, true, &d, len);
    size_t n = hit && want == SIZE_MAX ? *len : want;
    if (hit && *len < n) {
        hit = false;
    } else if (hit && *cap < n) {
        void *nb = realloc(*buf, n);
        if (nb) {
            *buf = nb;
            *cap = n;
        } else {
            hit = false;
        }
    }
    if (hit)
        memcpy(*buf, d, n);
    pthread_mutex_unlock(&p->mu);
    if (c->time_gets)
        STAT_ADD(c, load_ns, now_ns() - t0);
    return hit;
}

bool emu_cache_pack_get_copy(EmuCachePack *p, uint64_t offset, uint32_t flags, uint8_t kind,
                             const uint8_t content_hash[16], void **buf, size_t *cap,
                             size_t *len)
{
    return pack_get_transient(p, offset, flags, kind, content_hash, SIZE_MAX, buf, cap, len);
}

bool emu_cache_pack_get_head(EmuCachePack *p, uint64_t offset, uint32_t flags, uint8_t kind,
                             const uint8_t content_hash[16], void *out, size_t n, size_t *len)
{
    size_t cap = n, whole;
    bool hit = pack_get_transient(p, offset, flags, kind, content_hash, n, &out, &cap, &whole);
    if (hit && len)
        *len = whole;
    return hit;
}

bool emu_cache_pack_put(EmuCachePack *p, uint64_t offset, uint32_t flags, uint8_t kind,
                        const uint8_t content_hash[16], const void *data, size_t len)
{
    return emu_cache_pack_put_ex(p, offset, flags, kind, content_hash, 0, data, len);
}

bool emu_cache_pack_put_ex(EmuCachePack *p, uint64_t offset, uint32_t flags, uint8_t kind,
                           const uint8_t content_hash[16], uint32_t guest_len, const void *data,
                           size_t len)
{
    if (!p || p->c->mode != EMU_CACHE_RW)
        return false;
    if (len > PACK_MAX_CHUNK_RAW) {
        cache_log(p->c, "cache: entry 0x%llx of %zu bytes too large to store",
                  (unsigned long long)offset, len);
        return false;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return false;
    memcpy(copy, data, len);
    bool ok = false;
    pthread_mutex_lock(&p->mu);
    Pending *e = pending_find(p, offset, flags, kind);
    if (!e) {
        /* Already in the file with these bytes?  Then there is nothing to do. */
        long i = pack_lookup(p, offset, flags, kind);
        if (i >= 0 && memcmp(p->v.entries[i].content_hash, content_hash, 16) == 0 &&
            p->v.entries[i].size == len && p->v.entries[i].checksum == emu_hash64(data, len) &&
            p->v.entries[i].guest_len == guest_len &&
            p->entry_state[i] != 2 && !p->chunk_bad[p->v.entries[i].chunk]) {
            free(copy);
            pthread_mutex_unlock(&p->mu);
            return true;
        }
        if (p->n_pend == p->cap_pend) {
            size_t cap = p->cap_pend ? p->cap_pend * 2 : 64;
            Pending *np = realloc(p->pend, cap * sizeof *np);
            if (!np)
                goto out;
            p->pend = np;
            p->cap_pend = cap;
        }
        if ((p->n_pend + 1) * 2 > p->ht_cap && !ht_grow(p))
            goto out;
        e = &p->pend[p->n_pend];
        e->offset = offset;
        e->flags = flags;
        e->kind = kind;
        e->data = NULL;
        size_t s = ht_slot(offset, flags, kind, p->ht_cap);
        while (p->ht[s])
            s = (s + 1) & (p->ht_cap - 1);
        p->ht[s] = (uint32_t)++p->n_pend;
    }
    if (e->data) { /* keep it until close: a get may have returned it */
        if (p->n_retired == p->cap_retired) {
            size_t cap = p->cap_retired ? p->cap_retired * 2 : 16;
            uint8_t **r = realloc(p->retired, cap * sizeof *r);
            if (!r)
                goto out;
            p->retired = r;
            p->cap_retired = cap;
        }
        p->retired[p->n_retired++] = e->data;
    }
    e->data = copy;
    e->len = len;
    e->guest_len = guest_len;
    memcpy(e->hash, content_hash, 16);
    e->dirty = true;
    e->fork_gen = __atomic_load_n(&cache_fork_gen, __ATOMIC_RELAXED);
    copy = NULL;
    ok = true;
out:
    pthread_mutex_unlock(&p->mu);
    free(copy);
    return ok;
}

/* EMU_CACHE_REWRITE_MIN/FRACTION: are the n_dirty new entries only a few
 * template blocks for a big pack? */
static bool few_template_blocks(const EmuCachePack *p, size_t n_dirty)
{
    uint32_t n_old = p->buf ? p->v.hdr.n_entries : 0;
    if (n_old < EMU_CACHE_REWRITE_MIN || n_dirty * EMU_CACHE_REWRITE_FRACTION >= n_old ||
        __atomic_load_n(&cache_ahead, __ATOMIC_RELAXED))
        return false;
    for (size_t i = 0; i < p->n_pend; i++)
        if (p->pend[i].dirty && !kind_is_template(p->pend[i].kind))
            return false;
    return true;
}

/* Merge dirty pending entries into the file; called with p->mu held. */
static bool pack_write_locked(EmuCachePack *p)
{
    EmuCache *c = p->c;
    size_t n_dirty = 0;
    unsigned gen = __atomic_load_n(&cache_fork_gen, __ATOMIC_RELAXED);
    for (size_t i = 0; i < p->n_pend; i++) {
        /* put by the parent before a fork: the parent writes it (each child
         * of a shell rewrote the pack with all of them at its exit) */
        if (p->pend[i].fork_gen != gen)
            p->pend[i].dirty = false;
        n_dirty += p->pend[i].dirty;
    }
    if (!n_dirty || c->mode != EMU_CACHE_RW)
        return true;
    if (few_template_blocks(p, n_dirty)) {
        cache_log(c, "cache: pack %s (%s): %zu new template blocks not stored (under 1/%u of "
                  "its %u entries: cheaper to translate again than to rewrite the pack)",
                  p->name, p->path, n_dirty, EMU_CACHE_REWRITE_FRACTION, p->v.hdr.n_entries);
        return true;
    }
    uint64_t t0 = now_ns();
    char err[512], lockname[PATH_MAX + 64], tmp[PATH_MAX + 64];
    snprintf(lockname, sizeof lockname, "%s/%s.lock", c->packs, p->name);
    int lfd = cache_lock(lockname, EMU_CACHE_LOCK_TIMEOUT_MS, err, sizeof err);
    if (lfd < 0 && errno == ENOENT && cache_dir_create(c->dir, err, sizeof err))
        lfd = cache_lock(lockname, EMU_CACHE_LOCK_TIMEOUT_MS, err, sizeof err);
    if (lfd < 0) {
        cache_log(c, "cache: pack %s: %s; %zu entries not stored", p->name, err, n_dirty);
        return false;
    }
    /* Another process may have written the pack since we read it. */
    uint8_t *cur = NULL;
    PackView v;
    bool corrupt, have = read_pack(p, &cur, &v, &corrupt, false);
    uint32_t n_old_e = have ? v.hdr.n_entries : 0, n_old_c = have ? v.hdr.n_chunks : 0;
    PackOut *outs = calloc(n_old_e + n_dirty + 1, sizeof *outs);
    bool *keep = calloc(n_old_c + 1, sizeof *keep);
    uint64_t *live = calloc(n_old_c + 1, sizeof *live);
    uint8_t **unpacked = calloc(n_old_c + 1, sizeof *unpacked);
    bool ok = false;
    int fd = -1;
    tmp[0] = 0;
    if (!outs || !keep || !live || !unpacked) {
        snprintf(err, sizeof err, "out of memory");
        goto out;
    }
    /* Old entries survive unless replaced; a chunk that fails its checksum
     * is dropped with its entries; a chunk less than half live is
     * decompressed and its live entries recompressed (compaction). */
    for (uint32_t i = 0; i < n_old_c; i++) {
        const PackChunk *ch = &v.chunks[i];
        keep[i] = emu_hash64(v.buf + v.hdr.data_offset + ch->offset, ch->stored) == ch->checksum;
        if (!keep[i])
            cache_log(c, "cache: pack %s: chunk %u corrupt; its entries dropped", p->name, i);
    }
    for (uint32_t i = 0; i < n_old_e; i++) {
        const PackEntry *e = &v.entries[i];
        Pending *pe = pending_find(p, e->guest_offset, e->flags, e->kind);
        if ((pe && pe->dirty) || !keep[e->chunk])
            continue;
        live[e->chunk] += e->size;
    }
    for (uint32_t i = 0; i < n_old_c; i++)
        if (keep[i] && live[i] * 2 < v.chunks[i].raw) {
            if (live[i] && !pack_chunk_data(&v, i, NULL, &unpacked[i], err, sizeof err)) {
                cache_log(c, "cache: pack %s: %s; its entries dropped", p->name, err);
                live[i] = 0;
            }
            keep[i] = false;
        }
    size_t n = 0;
    for (uint32_t i = 0; i < n_old_e; i++) {
        const PackEntry *e = &v.entries[i];
        Pending *pe = pending_find(p, e->guest_offset, e->flags, e->kind);
        if ((pe && pe->dirty) || (!keep[e->chunk] && !unpacked[e->chunk]))
            continue;
        PackOut *o = &outs[n++];
        o->guest_offset = e->guest_offset;
        o->flags = e->flags;
        o->kind = e->kind;
        memcpy(o->content_hash, e->content_hash, 16);
        o->size = e->size;
        o->guest_len = e->guest_len;
        o->checksum = e->checksum;
        if (keep[e->chunk]) {
            o->from_chunk = e->chunk;
            o->chunk_offset = e->chunk_offset;
        } else {
            o->from_chunk = -1;
            o->data = unpacked[e->chunk] + e->chunk_offset;
            /* entries from an uncompressed chunk (ahead of time) stay so */
            o->raw = kind_stored_raw(e->kind) ||
                     (v.chunks[e->chunk].codec == PACK_CODEC_RAW &&
                      v.chunks[e->chunk].raw <= EMU_CACHE_AHEAD_CHUNK_BYTES);
        }
    }
    for (size_t i = 0; i < p->n_pend; i++) {
        Pending *pe = &p->pend[i];
        if (!pe->dirty)
            continue;
        PackOut *o = &outs[n++];
        o->guest_offset = pe->offset;
        o->flags = pe->flags;
        o->kind = pe->kind;
        memcpy(o->content_hash, pe->hash, 16);
        o->data = pe->data;
        o->size = (uint32_t)pe->len;
        o->guest_len = pe->guest_len;
        o->from_chunk = -1;
        o->raw = __atomic_load_n(&cache_ahead, __ATOMIC_RELAXED) || kind_stored_raw(pe->kind);
    }
    snprintf(tmp, sizeof tmp, "%s/%s.pack.tmp.XXXXXX", c->packs, p->name);
    fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, sizeof err, "cannot create %.300s: %s", tmp, strerror(errno));
        tmp[0] = 0;
        goto out;
    }
    if (fchmod(fd, 0644) != 0) {
        snprintf(err, sizeof err, "chmod %.300s: %s", tmp, strerror(errno));
        goto out;
    }
    PackIdentity id = {.build_id = c->build_id, .host_cpu = c->host_cpu, .path = p->path};
    memcpy(id.module_hash, p->module_hash, 16);
    uint64_t bytes = pack_write(fd, &id, have ? &v : NULL, keep, outs, n, c->level, err, sizeof err);
    if (!bytes)
        goto out;
    if (fsync(fd) != 0) {
        snprintf(err, sizeof err, "fsync %.300s: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, sizeof err, "close %.300s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, p->file) != 0) {
        snprintf(err, sizeof err, "rename to %.300s: %s", p->file, strerror(errno));
        goto out;
    }
    tmp[0] = 0;
    int dfd = open(c->packs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* make the rename durable; failure only costs durability */
        fsync(dfd);
        close(dfd);
    }
    for (size_t i = 0; i < p->n_pend; i++)
        p->pend[i].dirty = false;
    own_counts(p);
    p->n.stored += n_dirty;
    STAT_ADD(c, stored, n_dirty);
    STAT_ADD(c, bytes_written, bytes);
    cache_log(c, "cache: pack %s (%s): stored %zu new entries, %zu in all, %llu bytes", p->name,
              p->path, n_dirty, n, (unsigned long long)bytes);
    ok = true;
out:
    if (!ok)
        cache_log(c, "cache: pack %s (%s): write failed: %s", p->name, p->path, err);
    if (fd >= 0)
        close(fd);
    if (tmp[0])
        unlink(tmp);
    cache_unlock(lfd);
    for (uint32_t i = 0; unpacked && i < n_old_c; i++)
        free(unpacked[i]);
    free(unpacked);
    free(live);
    free(keep);
    free(outs);
    free(cur);
    STAT_ADD(c, store_ns, now_ns() - t0);
    return ok;
}

bool emu_cache_pack_flush(EmuCachePack *p)
{
    if (!p)
        return false;
    pthread_mutex_lock(&p->mu);
    bool ok = pack_write_locked(p);
    pthread_mutex_unlock(&p->mu);
    return ok;
}

/* Write p out and record its run; then free it unless keep_memory (the
 * process is about to end: freeing would only touch pages, copy-on-write
 * ones in a forked child). */
static void pack_close(EmuCachePack *p, bool keep_memory)
{
    if (!p)
        return;
    EmuCache *c = p->c;
    pthread_mutex_lock(&c->lock);
    for (EmuCachePack **pp = &c->open_packs; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    pthread_mutex_unlock(&c->lock);

    pthread_mutex_lock(&p->mu);
    pack_write_locked(p); /* failures are logged */
    pthread_mutex_unlock(&p->mu);
    if (c->mode == EMU_CACHE_RW) {
        uint64_t t0 = now_ns();
        char err[256];
        pthread_mutex_lock(&p->mu);
        own_counts(p);
        PackCounts n = { p->n.hits - p->n_base.hits, p->n.misses - p->n_base.misses,
                         p->n.mismatches - p->n_base.mismatches,
                         p->n.corrupt - p->n_base.corrupt, p->n.stored - p->n_base.stored };
        pthread_mutex_unlock(&p->mu);
        if (n.hits + n.misses + n.stored) {
            EmuCacheRun r = {.time = time(NULL), .hits = n.hits, .misses = n.misses,
                             .mismatches = n.mismatches, .corrupt = n.corrupt,
                             .stored = n.stored};
            memcpy(r.pack, p->name, sizeof r.pack);
            snprintf(r.binary, sizeof r.binary, "%s", p->path);
            if (!emu_cache_runlog_append(c->dir, &r, err, sizeof err))
                cache_log(c, "cache: run log: %s", err);
        }
        EmuCacheEvictResult res;   /* only after this process stored something */
        if (n.stored && !emu_cache_evict(c->dir, c->max_bytes, c->log, c->log_opaque, &res,
                                            err, sizeof err))
            cache_log(c, "cache: eviction: %s", err);
        STAT_ADD(c, store_ns, now_ns() - t0);
    }
    if (keep_memory)
        return;
    pack_drop_view(p);
    for (size_t i = 0; i < p->n_pend; i++)
        free(p->pend[i].data);
    free(p->pend);
    for (size_t i = 0; i < p->n_retired; i++)
        free(p->retired[i]);
    free(p->retired);
    for (unsigned k = 0; k < EMU_CACHE_POOL_CHUNKS; k++)
        free(p->pool[k].buf);
    free(p->ht);
    free(p->path);
    ZSTD_freeDCtx(p->dctx);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void emu_cache_pack_close(EmuCachePack *p)
{
    pack_close(p, false);
}
