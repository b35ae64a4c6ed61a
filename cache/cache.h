/*
 * cache.h - the persistent code cache: translations that outlive the process.
 *
 * One PACK file per (guest module, translator build, host CPU features).  A
 * guest module is an executable mapping of a guest ELF file (the program,
 * ld.so, a library).  A pack holds many entries, each keyed by
 * (module-relative guest offset, mode flags, kind) and guarded by a content
 * hash of the guest bytes it was built from; payloads are opaque bytes
 * (kind 1: a relocatable host object, kind 2: IR), stored zstd-compressed.
 * Everything read from disk is checked (magic, version, identity, XXH3-64
 * checksums, bounds); a bad pack or entry is a miss, reported through the
 * log callback, never a crash.
 *
 *   EmuCacheConfig cfg = { .mode = EMU_CACHE_RW, .build_id = "emu-1 llvm-19",
 *                          .host_cpu = cpu_string, .log = my_log };
 *   EmuCache *c = emu_cache_open(&cfg, err, sizeof err);   // NULL + err on error
 *   EmuCacheModuleId id = { .path = "/usr/bin/ls" };
 *   emu_cache_hash128(text, text_len, id.hash);
 *   EmuCachePack *p = emu_cache_pack_open(c, &id);         // reads the pack once
 *   uint8_t h[16];  emu_cache_hash128(guest_code, code_len, h);
 *   if (emu_cache_pack_get(p, off, flags, EMU_CACHE_KIND_OBJECT, h, &data, &len))
 *       ... link data ...  (valid until the pack is closed)
 *   else
 *       ... translate, then emu_cache_pack_put(p, off, flags, kind, h, obj, obj_len);
 *   emu_cache_close(c);    // closes open packs: merges buffered entries into the file
 *
 * Threads: every function may be called from any thread; a pack serialises its
 * own calls with a mutex.  Processes: writers merge under an advisory flock on
 * the pack's lock file and replace the pack by rename, so readers never see a
 * torn file.  Every function accepts a NULL cache or pack (cache off) and then
 * does nothing and misses.
 */
#ifndef EMU_CACHE_CACHE_H
#define EMU_CACHE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* On-disk format version; part of every pack name, so a new version simply
 * misses and old packs age out by LRU eviction. */
#define EMU_CACHE_FORMAT_VERSION 2u /* 2: paged index */

typedef enum EmuCacheMode {
    EMU_CACHE_OFF = 0, /* no cache: pack_open returns NULL */
    EMU_CACHE_RO,      /* read packs, never write (puts are dropped) */
    EMU_CACHE_RW,      /* read, and merge new entries into packs on close */
} EmuCacheMode;

enum {
    EMU_CACHE_KIND_OBJECT = 1, /* relocatable host object code */
    EMU_CACHE_KIND_IR = 2,     /* serialised IR */
    EMU_CACHE_KIND_TEMPLATE = 16, /* ..19: template-tier code + relocations;
                                     + variant (runtime/tmplcache.c) */
};

/* Log sink for `-d cache`: one line without the trailing newline. */
typedef void EmuCacheLogFunc(void *opaque, const char *msg);

typedef struct EmuCacheConfig {
    const char *dir;     /* NULL: $EMU_CACHE_DIR, else $XDG_CACHE_HOME/emu, else ~/.cache/emu */
    EmuCacheMode mode;   /* OFF/RO/RW */
    uint64_t max_bytes;  /* size cap; 0: $EMU_CACHE_MAX (suffix K/M/G) or 2 GiB */
    const char *build_id; /* translator build id (emu + LLVM version...); NULL: "" */
    const char *host_cpu; /* host CPU features the code targets; NULL: emu_cache_host_cpu() */
    int zstd_level;       /* 0: EMU_CACHE_ZSTD_LEVEL (chosen by measurement) */
    EmuCacheLogFunc *log; /* NULL: messages are dropped */
    void *log_opaque;
    bool time_gets;       /* add each get's time to load_ns (two clock reads per
                             get, ~4% of a warm start: for --stats only) */
} EmuCacheConfig;

/* Default compression level, the raw size of one compressed chunk, and the
 * size of one uncompressed chunk of entries translated ahead of time
 * (emu_cache_set_ahead_of_time); see ARCHITECTURE.md "Code cache" for the
 * measurements behind them. */
#define EMU_CACHE_ZSTD_LEVEL 3
#define EMU_CACHE_CHUNK_BYTES (32u * 1024)
#define EMU_CACHE_AHEAD_CHUNK_BYTES (16u * 1024)
#define EMU_CACHE_POOL_CHUNKS 4   /* 8: python3 -c pass within noise, 16 more faults */
/* A pack of at least REWRITE_MIN entries is not rewritten at close for new
 * template blocks alone that number less than 1/REWRITE_FRACTION of it:
 * a write copies the whole pack (python3's: 36k entries, 15 MB, ~50 ms of
 * every warm run's exit for the ~20 blocks it had not seen), while
 * translating such a block again costs ~20 us.  Anything else (LLVM
 * regions, emu-aot entries) is always written. */
#define EMU_CACHE_REWRITE_MIN 1024u
#define EMU_CACHE_REWRITE_FRACTION 32u

/* Module-relative offsets: guest pc minus the module's load bias (runtime
 * address - ELF p_vaddr; 0 for ET_EXEC), i.e. the ELF virtual address of the
 * code.  The same code loaded at another base keeps its offsets, and
 * `emu-cache show` finds the guest bytes through the ELF program headers. */
typedef struct EmuCacheModuleId {
    uint8_t hash[16];  /* XXH3-128 of the module's executable bytes */
    const char *path;  /* display path of the guest binary (for ls/stats) */
} EmuCacheModuleId;

/* Per-run counters (summed over all packs of one EmuCache). */
typedef struct EmuCacheStats {
    uint64_t packs_opened;   /* packs found and valid */
    uint64_t packs_missing;  /* no pack file yet */
    uint64_t packs_corrupt;  /* pack rejected (corrupt, wrong version or identity) */
    uint64_t hits;           /* get returned data */
    uint64_t misses;         /* get found nothing (includes mismatches and corrupt) */
    uint64_t mismatches;     /* key found but the guest bytes changed */
    uint64_t corrupt;        /* entry found but its data failed a check */
    uint64_t stored;         /* entries merged into packs by this process */
    uint64_t bytes_loaded;   /* payload bytes returned by hits */
    uint64_t bytes_written;  /* pack bytes written */
    uint64_t load_ns;        /* time in pack_open and get (read, verify, decompress) */
    uint64_t store_ns;       /* time writing packs (compress, merge, fsync, evict) */
} EmuCacheStats;

typedef struct EmuCache EmuCache;
typedef struct EmuCachePack EmuCachePack;

/* Open the cache.  Mode OFF gives a valid handle that never opens a pack.
 * RW creates the directory.  NULL + message in err on failure. */
EmuCache *emu_cache_open(const EmuCacheConfig *cfg, char *err, size_t errlen);
/* Close every open pack (writing buffered entries) and free the cache. */
void emu_cache_close(EmuCache *c);
/* The same for a process about to exit: packs are written and runs logged,
 * the memory is left to the exit (c must not be used again). */
void emu_cache_close_at_exit(EmuCache *c);
const char *emu_cache_dir(const EmuCache *c);
EmuCacheMode emu_cache_mode(const EmuCache *c);
void emu_cache_get_stats(const EmuCache *c, EmuCacheStats *out);
/* Two lines for --stats: lookups, hit rate, load cost per hit, stores. */
void emu_cache_print_stats(FILE *f, const EmuCacheStats *s);

/* Open the pack of one module (reads and verifies it once; a missing or bad
 * pack opens empty).  NULL only when the cache is off or memory runs out. */
EmuCachePack *emu_cache_pack_open(EmuCache *c, const EmuCacheModuleId *id);
/* Look up (offset, flags, kind); a hit needs the same content hash.  *data
 * stays valid until the pack is closed. */
bool emu_cache_pack_get(EmuCachePack *p, uint64_t offset, uint32_t flags, uint8_t kind,
                        const uint8_t content_hash[16], const void **data, size_t *len);
/* The same, copying the payload into *buf (malloc'ed, *cap bytes; grown with
 * realloc as needed), for a caller done with it before its next lookup: the
 * chunk it came from is not kept, so loading many entries once does not keep
 * their chunks in memory (EMU_CACHE_POOL_CHUNKS buffers are reused). */
bool emu_cache_pack_get_copy(EmuCachePack *p, uint64_t offset, uint32_t flags, uint8_t kind,
                             const uint8_t content_hash[16], void **buf, size_t *cap,
                             size_t *len);
/* The same checks (content hash, entry checksum), copying only the first n
 * bytes of the payload into out: for a caller that reads a header.  A
 * payload shorter than n bytes is a miss; *len (may be NULL) gets the whole
 * payload's size. */
bool emu_cache_pack_get_head(EmuCachePack *p, uint64_t offset, uint32_t flags, uint8_t kind,
                             const uint8_t content_hash[16], void *out, size_t n, size_t *len);
/* Is there an entry (or a buffered put) for the key, whatever its content
 * hash?  A cheap pre-check (no hashing, no decompression, not counted in
 * the stats) for callers whose content hash costs something to compute. */
bool emu_cache_pack_has(EmuCachePack *p, uint64_t offset, uint32_t flags, uint8_t kind);
/* Buffer an entry (copied) for the next flush/close; replaces an earlier
 * entry with the same key.  false when read-only or out of memory. */
bool emu_cache_pack_put(EmuCachePack *p, uint64_t offset, uint32_t flags, uint8_t kind,
                        const uint8_t content_hash[16], const void *data, size_t len);
/* The same with the length of the guest code at offset (shown by
 * `emu-cache show`; 0 = unknown).  Not part of the key. */
bool emu_cache_pack_put_ex(EmuCachePack *p, uint64_t offset, uint32_t flags, uint8_t kind,
                           const uint8_t content_hash[16], uint32_t guest_len, const void *data,
                           size_t len);
/* Merge buffered entries into the pack file now (also done by close).
 * false if writing failed (reported through the log). */
bool emu_cache_pack_flush(EmuCachePack *p);
/* Flush and free the pack; pointers returned by get become invalid. */
void emu_cache_pack_close(EmuCachePack *p);
/* Hex name of the pack file (32 characters + NUL). */
const char *emu_cache_pack_name(const EmuCachePack *p);

/* Entries put by this process are translated ahead of time (emu-aot): a
 * later run uses a scattered few of them, so they are stored uncompressed
 * in chunks of EMU_CACHE_AHEAD_CHUNK_BYTES and a get reads 16 KiB and
 * decompresses nothing, instead of decompressing 32 KiB of neighbours it
 * does not need.  Otherwise entries are stored in put order (roughly
 * execution order) in compressed chunks, cheapest for a run that uses
 * them together.  Process-wide; call before packs are written. */
/* In the child of a fork (call it before the child puts anything): entries
 * put before the fork stay visible to get but are not written by this
 * process, the parent writes them. */
void emu_cache_note_fork_child(void);
void emu_cache_set_ahead_of_time(bool on);

/* Helpers so that every caller hashes the same way. */
void emu_cache_hash128(const void *data, size_t len, uint8_t out[16]);
/* The host's x86-64 feature string ("x86_64:sse4.2,avx2,..."); static storage. */
const char *emu_cache_host_cpu(void);
/* The cache directory from the environment (see EmuCacheConfig.dir). */
bool emu_cache_default_dir(char *buf, size_t n);
/* "2G", "512M", "100k", "12345" (powers of 1024) -> bytes; false if malformed. */
bool emu_cache_parse_size(const char *s, uint64_t *out);

#endif /* EMU_CACHE_CACHE_H */
