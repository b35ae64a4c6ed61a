/*
 * pack.h - the pack file format: parse and verify a pack held in memory,
 * decompress its chunks, and write a new pack.  Pure buffer code: no
 * directories, locks or policy (cache.c and cache-dir.c do those).
 *
 * Layout (little-endian, offsets in bytes):
 *   PackHeader (128)          magic "EMUPACK\0", version, identity, sizes, checksums
 *   meta:  build id, host cpu, display path (strings, no NULs)
 *          PackChunk[n_chunks] then PackPage[n_pages]
 *   index: PackEntry[n_entries] (sorted by key), in pages of page_entries
 *          entries; a page's first key and XXH3-64 are in its PackPage
 *   data:  the chunks, each a zstd frame (or raw bytes) of whole payloads;
 *          entries translated ahead of time go into raw chunks of their own
 * meta_checksum = XXH3-64(meta); header_checksum = XXH3-64(header[0..120)).
 * A chunk carries XXH3-64 of its stored bytes, an entry XXH3-64 of its payload.
 * Opening a pack reads header and meta only; an index page is read and
 * checked when a lookup needs it (an emu-aot pack indexes 100k-300k entries,
 * 5-18 MB, of which a short run needs a few pages).
 *
 *   PackView v;
 *   if (!pack_parse(buf, len, &v, err, sizeof err)) drop the file;
 *   ok = pack_chunk_data(&v, i, dctx, &raw, err, sizeof err);   // malloc'ed
 */
#ifndef EMU_CACHE_PACK_H
#define EMU_CACHE_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PACK_MAGIC "EMUPACK"             /* 8 bytes with the NUL */
#define PACK_HEADER_SIZE 128u
#define PACK_MAX_CHUNK_RAW (64u << 20)   /* refuse absurd chunk sizes */
#define PACK_MAX_STRING 4096u
#define PACK_PAGE_ENTRIES 64u            /* entries per index page (3.5 KiB) */
#define PACK_MAX_PAGE_ENTRIES 65536u

enum { PACK_CODEC_RAW = 0, PACK_CODEC_ZSTD = 1 };

typedef struct PackHeader {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint8_t pack_key[16];    /* = the file name; hash of the identity below */
    uint8_t module_hash[16]; /* identity: module bytes */
    uint32_t build_id_len;   /* identity: translator build (string in meta) */
    uint32_t host_cpu_len;   /* identity: host CPU features (string in meta) */
    uint32_t path_len;       /* display path of the guest binary */
    uint32_t n_entries;
    uint32_t n_chunks;
    uint32_t page_entries;   /* entries per index page */
    uint64_t meta_offset, meta_size, meta_checksum;
    uint64_t data_offset, data_size; /* the index lies between meta and data */
    uint64_t write_time_ns;  /* CLOCK_REALTIME of the last write */
    uint64_t header_checksum;
} PackHeader;
_Static_assert(sizeof(PackHeader) == PACK_HEADER_SIZE, "pack header layout");

typedef struct PackChunk {
    uint64_t offset;   /* from data_offset */
    uint32_t stored;   /* bytes in the file */
    uint32_t raw;      /* bytes after decompression */
    uint64_t checksum; /* XXH3-64 of the stored bytes */
    uint32_t codec;    /* PACK_CODEC_* */
    uint32_t reserved;
} PackChunk;
_Static_assert(sizeof(PackChunk) == 32, "pack chunk layout");

typedef struct PackEntry {
    uint64_t guest_offset;    /* key 1: module-relative guest offset */
    uint32_t flags;           /* key 2: mode flags */
    uint8_t kind;             /* key 3: EMU_CACHE_KIND_* */
    uint8_t pad[3];
    uint8_t content_hash[16]; /* XXH3-128 of the guest bytes it depends on */
    uint32_t chunk;           /* which chunk holds the payload */
    uint32_t chunk_offset;    /* where in the decompressed chunk */
    uint32_t size;            /* payload bytes */
    uint32_t guest_len;       /* guest code bytes at guest_offset (0: unknown); for tools */
    uint64_t checksum;        /* XXH3-64 of the payload */
} PackEntry;
_Static_assert(sizeof(PackEntry) == 56, "pack entry layout");

/* One page of the index: its first key and the checksum of its entries. */
typedef struct PackPage {
    uint64_t first_offset;
    uint32_t first_flags;
    uint8_t first_kind;
    uint8_t pad[3];
    uint64_t checksum;        /* XXH3-64 of the page's PackEntry bytes */
} PackPage;
_Static_assert(sizeof(PackPage) == 24, "pack page layout");

/* A parsed, verified (header + meta) pack; points into the caller's buffer. */
typedef struct PackView {
    const uint8_t *buf;
    size_t len;
    int fd;                    /* >= 0: buf holds only header and index; chunk data
                                  is read from this file when needed */
    uint64_t file_len;
    PackHeader hdr;            /* copied (aligned) */
    const char *build_id, *host_cpu, *path; /* not NUL-terminated: use *_len */
    const PackChunk *chunks;   /* into buf; 8-byte aligned by construction */
    const PackPage *pages;
    uint32_t n_pages;
    uint64_t index_offset;     /* file offset of the entries */
    const PackEntry *entries;  /* NULL when only header and meta were parsed */
} PackView;

/* Verify magic, version, header and meta checksums, bounds, every index
 * page and the sort order.  false + reason on any problem. */
bool pack_parse(const uint8_t *buf, size_t len, PackView *v, char *err, size_t errlen);
/* The same for the first len bytes of a file_len-byte pack (at least its
 * header and meta); the index is verified too if it lies within len, else
 * v->entries is NULL and pages are checked by pack_check_page as they are
 * read.  The caller sets v->fd so that pack_chunk_data reads chunks from
 * the file. */
bool pack_parse_prefix(const uint8_t *buf, size_t len, uint64_t file_len, PackView *v, char *err,
                       size_t errlen);
/* Index page p: its first entry and entry count. */
void pack_page_range(const PackView *v, uint32_t p, uint32_t *first, uint32_t *count);
/* Check page p's entries (checksum, first key, bounds, order). */
bool pack_check_page(const PackView *v, uint32_t p, const PackEntry *ents, char *err,
                     size_t errlen);
/* The page that would hold a key, or UINT32_MAX if the key is below all. */
uint32_t pack_page_of(const PackView *v, uint64_t offset, uint32_t flags, uint8_t kind);
/* Binary search among entries [lo, hi) of ents; index or -1. */
long pack_find_in(const PackEntry *ents, long lo, long hi, uint64_t offset, uint32_t flags,
                  uint8_t kind);
/* Verify and decompress chunk i into a new malloc'ed buffer (*out, raw size
 * in v->chunks[i].raw).  dctx: a ZSTD_DCtx* reused by the caller (or NULL). */
bool pack_chunk_data(const PackView *v, uint32_t i, void *dctx, uint8_t **out, char *err,
                     size_t errlen);
/* The same into a reusable buffer: *buf (malloc'ed, *cap bytes) is replaced
 * by a larger one when needed; its contents are undefined after a failure. */
bool pack_chunk_into(const PackView *v, uint32_t i, void *dctx, uint8_t **buf, size_t *cap,
                     char *err, size_t errlen);
/* Compare entry keys: <0, 0, >0. */
int pack_key_cmp(uint64_t o1, uint32_t f1, uint8_t k1, uint64_t o2, uint32_t f2, uint8_t k2);
/* Binary search over the whole (parsed) index; index of the entry or -1. */
long pack_find(const PackView *v, uint64_t offset, uint32_t flags, uint8_t kind);

/* Pack identity -> name (XXH3-128 over module hash, format version, build id,
 * host cpu), as 16 bytes and as 32 hex characters + NUL. */
void pack_key(const uint8_t module_hash[16], const char *build_id, const char *host_cpu,
              uint8_t key[16]);
void pack_hex(const uint8_t key[16], char hex[33]);

/* ---- writing ---- */

/* One entry to write: either a raw payload (data) or a copy of an entry of
 * an existing chunk (from_chunk >= 0, whose stored bytes are copied as is). */
typedef struct PackOut {
    uint64_t guest_offset;
    uint32_t flags;
    uint8_t kind;
    uint8_t content_hash[16];
    uint32_t guest_len;
    const uint8_t *data; /* payload (new entries) */
    bool raw;            /* new entry for an uncompressed chunk of
                            EMU_CACHE_AHEAD_CHUNK_BYTES (ahead of time) */
    uint32_t size;
    uint64_t checksum;   /* of the payload; computed for new entries */
    long from_chunk;     /* -1: new; else index of an old chunk kept verbatim */
    uint32_t chunk_offset;
} PackOut;

typedef struct PackIdentity {
    uint8_t module_hash[16];
    const char *build_id, *host_cpu, *path;
} PackIdentity;

/* Write a complete pack to fd: old chunks listed in keep[] (from view old,
 * may be NULL) are copied verbatim, new entries compressed in chunks of
 * EMU_CACHE_CHUNK_BYTES at `level`, or with `raw` stored as they are in
 * chunks of EMU_CACHE_AHEAD_CHUNK_BYTES.  outs[] is sorted here.  Returns
 * bytes written, or 0 + err. */
uint64_t pack_write(int fd, const PackIdentity *id, const PackView *old, const bool *keep,
                    PackOut *outs, size_t n_outs, int level, char *err, size_t errlen);

#endif /* EMU_CACHE_PACK_H */
