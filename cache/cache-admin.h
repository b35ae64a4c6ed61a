/*
 * cache-admin.h - the cache directory as a whole: locking, listing packs,
 * verification, LRU eviction, the run log, clearing.  Used by cache.c and by
 * the emu-cache tool (design invariant 7: the tool only parses options).
 *
 * Directory layout:
 *   DIR/CACHEDIR.TAG           marks the directory as a cache for backup tools
 *   DIR/cache.lock             flock: eviction, clear and the run log
 *   DIR/runs.log               one line per (run, pack): hit counts (capped)
 *   DIR/packs/HEX.pack         one pack per (module, build, host cpu)
 *   DIR/packs/HEX.lock         flock: writers of that pack
 *   DIR/packs/HEX.pack.tmp.*   a pack being written (renamed over HEX.pack)
 *
 *   EmuCachePackInfo *v; size_t n;
 *   if (emu_cache_list(dir, &v, &n, err, sizeof err)) { ... emu_cache_list_free(v, n); }
 */
#ifndef EMU_CACHE_CACHE_ADMIN_H
#define EMU_CACHE_CACHE_ADMIN_H

#include "cache/cache.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EMU_CACHE_LOCK_TIMEOUT_MS 10000
#define EMU_CACHE_RUNLOG_MAX_LINES 1000

/* ---- locks and files (internal helpers shared with cache.c) ---- */

/* Create DIR and DIR/packs (and CACHEDIR.TAG).  false + err. */
bool cache_dir_create(const char *dir, char *err, size_t errlen);
/* Take an exclusive flock on path (created if needed), waiting at most
 * timeout_ms.  The lock file may be deleted by eviction while we wait, so
 * the inode is re-checked after locking.  fd >= 0, or -1 + err. */
int cache_lock(const char *path, int timeout_ms, char *err, size_t errlen);
void cache_unlock(int fd);
/* Read a whole regular file of at most CACHE_MAX_FILE bytes into a
 * malloc'ed buffer.  false + errno on failure (EINVAL: not a regular file). */
#define CACHE_MAX_FILE (4ull << 30)
bool cache_read_file(const char *path, uint8_t **buf, size_t *len);

/* ---- inspection ---- */

typedef struct EmuCachePackInfo {
    char name[33];        /* hex pack key (file name without .pack) */
    char *file;           /* full path */
    char *binary;         /* display path of the guest binary ("" if unreadable) */
    char *build_id, *host_cpu;
    uint8_t module_hash[16];
    uint64_t file_bytes, raw_bytes, stored_bytes; /* payload bytes before/after zstd */
    uint32_t n_entries, n_chunks;
    int64_t mtime;        /* seconds: last use (LRU order) */
    bool ok;              /* header and index verified */
    char error[200];      /* why not ok */
} EmuCachePackInfo;

/* All packs in dir, sorted by binary then name.  false + err if the
 * directory cannot be read (a missing directory is an empty list). */
bool emu_cache_list(const char *dir, EmuCachePackInfo **out, size_t *n, char *err, size_t errlen);
void emu_cache_list_free(EmuCachePackInfo *v, size_t n);

/* One pack file opened for inspection (no identity check). */
typedef struct EmuCacheFile EmuCacheFile;
typedef struct EmuCacheEntryInfo {
    uint64_t guest_offset;
    uint32_t flags;
    uint8_t kind;
    uint8_t content_hash[16];
    uint32_t size, chunk;       /* payload size; chunk index */
    uint32_t guest_len;         /* guest code bytes at guest_offset (0: unknown) */
    uint32_t chunk_stored, chunk_raw; /* sizes of its chunk */
} EmuCacheEntryInfo;

EmuCacheFile *emu_cache_file_open(const char *path, char *err, size_t errlen);
void emu_cache_file_close(EmuCacheFile *f);
size_t emu_cache_file_entries(const EmuCacheFile *f);
void emu_cache_file_entry(const EmuCacheFile *f, size_t i, EmuCacheEntryInfo *out);
/* Verify and return entry i's payload (valid until close).  false + err. */
bool emu_cache_file_payload(EmuCacheFile *f, size_t i, const void **data, size_t *len, char *err,
                            size_t errlen);

/* Verify every pack and entry; print one line per problem to `report`
 * (may be NULL).  Returns the number of corrupt packs + entries, or -1 if
 * the directory cannot be read. */
long emu_cache_verify(const char *dir, FILE *report, uint64_t *packs, uint64_t *entries);

/* ---- maintenance ---- */

typedef struct EmuCacheEvictResult {
    uint64_t before_bytes, after_bytes;
    uint32_t packs_removed, temps_removed;
} EmuCacheEvictResult;

/* Remove whole packs, least recently used first, until the packs total at
 * most max_bytes; also stale temp files.  Under DIR/cache.lock. */
bool emu_cache_evict(const char *dir, uint64_t max_bytes, EmuCacheLogFunc *log, void *opaque,
                     EmuCacheEvictResult *res, char *err, size_t errlen);
/* Remove every pack, lock file and the run log. */
bool emu_cache_clear(const char *dir, uint32_t *removed, char *err, size_t errlen);

/* ---- the run log ---- */

typedef struct EmuCacheRun {
    int64_t time;         /* seconds since the epoch */
    char pack[33];
    uint64_t hits, misses, mismatches, corrupt, stored;
    char binary[512];
} EmuCacheRun;

/* Append one line under DIR/cache.lock, keeping the last
 * EMU_CACHE_RUNLOG_MAX_LINES lines. */
bool emu_cache_runlog_append(const char *dir, const EmuCacheRun *r, char *err, size_t errlen);
/* Read the log (oldest first); malformed lines are skipped. */
bool emu_cache_runlog_read(const char *dir, EmuCacheRun **out, size_t *n, char *err, size_t errlen);

#endif /* EMU_CACHE_CACHE_ADMIN_H */
