/*
 * qcow2.h - the qcow2 driver's internal state and the functions its files
 * share.  Layout follows the public qcow2 specification (version 2 and 3).
 *
 *   qcow2-header.c    header and extensions: parse, validate, update, create
 *   qcow2-cache.c     write-back cache of L2 tables and refcount blocks
 *   qcow2-refcount.c  refcounts, cluster allocation, the ordered flush
 *   qcow2-cluster.c   guest offset -> host mapping, L1/L2 updates
 *   qcow2-compress.c  zlib (raw deflate) and zstd clusters
 *   qcow2.c           the BlockDriver: read/write/discard/status/resize
 *   qcow2-check.c     consistency check and repair
 *
 * Crash consistency (refcounts are never lazy): new clusters get their
 * refcount first, then data is written, then L2 entries, then L1 entries.
 * The caches write back in that order with a flush between the steps, and
 * clusters are only freed after the tables that pointed to them are on
 * disk; an interrupted write leaves at worst leaked clusters.
 */
#ifndef MACHINE_BLOCK_QCOW2_H
#define MACHINE_BLOCK_QCOW2_H

#include "machine/block/block.h"
#include "machine/block/block-int.h"

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_HEADER_LEN 104
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_MAX_L1_BYTES (32u << 20)
#define QCOW2_MAX_RT_BYTES (8u << 20)
#define QCOW2_MAX_BACKING_NAME 1023
#define QCOW2_MAX_CHAIN 64
#define QCOW2_MAX_SNAPSHOTS 65536

/* Feature bits. */
#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN 0x1full
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ull << 0)

/* Header extension types. */
#define QCOW2_EXT_END 0
#define QCOW2_EXT_BACKING_FMT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u
#define QCOW2_EXT_BITMAPS 0x23852875u
#define QCOW2_EXT_CRYPTO 0x0537be77u
#define QCOW2_EXT_DATA_FILE 0x44415441u

#define QCOW2_COMP_ZLIB 0
#define QCOW2_COMP_ZSTD 1

/* Table entries. */
#define QCOW2_OFLAG_COPIED (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO 1ull
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW2_L1E_RESERVED 0x7f000000000001ffull
#define QCOW2_REFT_OFFSET_MASK 0xfffffffffffffe00ull

/* What an L2 entry says about one guest cluster. */
typedef enum {
    QCOW2_CL_UNALLOCATED, /* read from the backing file, or zeros */
    QCOW2_CL_ZERO,        /* reads as zeros */
    QCOW2_CL_NORMAL,      /* data at host offset */
    QCOW2_CL_COMPRESSED,  /* compressed data at a byte offset */
} Qcow2ClusterType;

/* One write-back table cache (L2 tables or refcount blocks). */
typedef struct Qcow2Cache {
    int n;              /* entries */
    uint64_t *offset;   /* host offset of the table in each entry, 0 = free */
    uint64_t *lru;      /* last use tick */
    bool *dirty;
    uint8_t *data;      /* n * cluster_size bytes */
    uint64_t tick;
    int last;           /* most recently used entry */
    bool is_l2;         /* writing a dirty L2 table first flushes refcounts */
} Qcow2Cache;

#define QCOW2_MAX_BUSY 16

typedef struct Qcow2State {
    BlockDev *bs;
    BlockDev *file;
    bool read_only;
    /* Data transfers to allocated clusters running with bs->lock released;
     * anything that may free a cluster first waits (io_idle) for none. */
    int io_inflight;
    pthread_cond_t io_idle;
    /* Guest ranges whose new clusters are being written unlocked (their L2
     * entries are set afterwards); writes there wait for them. */
    struct { uint64_t start, end; } alloc_busy[QCOW2_MAX_BUSY];
    int n_alloc_busy;

    /* header */
    uint32_t version;
    uint32_t cluster_bits;
    uint64_t cluster_size;
    uint64_t size;
    uint32_t l1_size;
    uint64_t l1_offset;
    uint64_t rt_offset;
    uint32_t rt_clusters;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t incompat, compat, autoclear;
    uint32_t refcount_order;
    uint32_t header_length;
    uint8_t compression_type;
    uint64_t backing_offset;
    uint32_t backing_size;
    char feature_names[3][64][47]; /* names from the feature table, "" if none */

    /* derived */
    uint32_t l2_bits;    /* log2 entries per L2 table */
    uint32_t rb_bits;    /* log2 refcount entries per refcount block */
    uint64_t refcount_max;
    uint32_t csize_shift; /* compressed descriptor: offset bits */

    /* tables */
    uint64_t *l1;        /* in host byte order */
    bool l1_dirty;
    uint64_t *rt;        /* refcount table, host order */
    uint64_t rt_size;    /* entries */
    bool rt_dirty;
    Qcow2Cache l2_cache, rb_cache;

    /* allocation */
    uint64_t free_hint;  /* no free cluster below this index */
    uint64_t alloc_end;  /* bytes: nothing allocated at or beyond this */
    uint64_t comp_next;  /* next free byte for compressed data, 0 = none */
    uint64_t *pending_free; /* host cluster indexes freed at the next flush */
    size_t n_pending, cap_pending;
    bool data_dirty;     /* data written since the last file flush */

    /* compressed cluster buffers */
    uint8_t *comp_buf;   /* 2 clusters */
    uint8_t *decomp_buf; /* 1 cluster */
    uint64_t decomp_l2e; /* entry whose data decomp_buf holds, 0 = none */
    void *zlib_in;       /* z_stream for inflate, created on first use */
    void *zstd_dctx;     /* ZSTD_DCtx, created on first use */
    uint8_t *cow_buf;    /* 1 cluster: old contents for copy-on-write */
} Qcow2State;

/* qcow2-header.c */
int qcow2_read_header(Qcow2State *s, bool check_only);
int qcow2_write_header_fields(Qcow2State *s, uint64_t off, const void *val, size_t len);
int qcow2_update_incompat(Qcow2State *s, uint64_t incompat);
int qcow2_open_backing(BlockDev *bs, Qcow2State *s, int flags);
const char *qcow2_feature_name(Qcow2State *s, int type, int bit);

/* Options for creating an image. */
typedef struct Qcow2CreateOpts {
    uint64_t size;
    uint32_t cluster_size;   /* 0: 64 KiB */
    int compat;              /* 2 or 3 (0: 3) */
    uint8_t compression_type;
    uint32_t refcount_bits;  /* 0: 16 */
    bool lazy_refcounts;
    const char *backing_file;
    const char *backing_fmt;
} Qcow2CreateOpts;
/* Writes a new empty qcow2 image over the protocol layer `file` (which stays
 * the caller's, open). */
int qcow2_format(BlockDev *file, const Qcow2CreateOpts *o);

/* qcow2-cache.c */
int qcow2_cache_init(Qcow2State *s, Qcow2Cache *c, int n, bool is_l2);
void qcow2_cache_destroy(Qcow2Cache *c);
/* Table at host `off` (read from disk unless `fresh`: then zero-filled). */
int qcow2_cache_get(Qcow2State *s, Qcow2Cache *c, uint64_t off, bool fresh, uint8_t **table);
void qcow2_cache_mark_dirty(Qcow2State *s, Qcow2Cache *c, const uint8_t *table);
int qcow2_cache_flush(Qcow2State *s, Qcow2Cache *c);
void qcow2_cache_forget(Qcow2State *s, Qcow2Cache *c, uint64_t off);
bool qcow2_cache_has_dirty(const Qcow2Cache *c);

/* qcow2-refcount.c */
int qcow2_refcount_init(Qcow2State *s);
int qcow2_get_refcount(Qcow2State *s, uint64_t cluster, uint64_t *rc);
int qcow2_update_refcount(Qcow2State *s, uint64_t cluster, int64_t delta);
/* Allocates n contiguous clusters with refcount 1; *off is their offset. */
int qcow2_alloc_clusters(Qcow2State *s, uint64_t n, uint64_t *off);
/* Frees (at the next metadata flush) the clusters covering [off, off+len). */
int qcow2_free_bytes(Qcow2State *s, uint64_t off, uint64_t len);
int qcow2_flush_refcounts(Qcow2State *s);
int qcow2_flush_all(Qcow2State *s);
int qcow2_file_sync(Qcow2State *s);
uint64_t qcow2_rb_get(const Qcow2State *s, const uint8_t *rb, uint64_t idx);
void qcow2_rb_set(const Qcow2State *s, uint8_t *rb, uint64_t idx, uint64_t v);

/* qcow2-cluster.c */
Qcow2ClusterType qcow2_entry_type(const Qcow2State *s, uint64_t l2e);
/* Compressed entry -> host byte offset and length of the stored data. */
void qcow2_compressed_range(const Qcow2State *s, uint64_t l2e, uint64_t *off, uint64_t *len);
/* L2 entry for guest cluster at `guest`; 0 if no L2 table. */
int qcow2_get_l2e(Qcow2State *s, uint64_t guest, uint64_t *l2e);
/* Pointer to the L2 slot for `guest`, allocating/copying the L2 table. */
int qcow2_get_l2_slot(Qcow2State *s, uint64_t guest, uint8_t **table, uint32_t *idx);
int qcow2_set_l2e(Qcow2State *s, uint64_t guest, uint64_t l2e);
int qcow2_grow_l1(Qcow2State *s, uint64_t min_size);
int qcow2_check_host_cluster(Qcow2State *s, uint64_t off, const char *what);
/* Refuses (and marks the image corrupt) a data write over known metadata. */
int qcow2_check_overlap(Qcow2State *s, uint64_t off, uint64_t len);

/* qcow2-compress.c */
int qcow2_decompress(Qcow2State *s, const uint8_t *src, size_t slen, uint8_t *dst, size_t dlen);
/* Returns the compressed length, 0 if it would not fit in dmax, <0 error. */
long qcow2_compress(Qcow2State *s, const uint8_t *src, size_t slen, uint8_t *dst, size_t dmax);

/* qcow2-check.c */
typedef struct Qcow2CheckResult {
    int64_t corruptions, leaks;
    int64_t corruptions_fixed, leaks_fixed;
    int64_t check_errors;
    uint64_t image_end_offset;
    uint64_t total_clusters, allocated_clusters, fragmented_clusters, compressed_clusters;
} Qcow2CheckResult;
enum { QCOW2_FIX_LEAKS = 1, QCOW2_FIX_ERRORS = 2 };
/* Checks (and with `fix` repairs) refcounts; messages go to `out` (may be NULL). */
int qcow2_check(BlockDev *bs, int fix, Qcow2CheckResult *res, void *out);

static inline uint64_t qcow2_offset_in_cluster(const Qcow2State *s, uint64_t off)
{
    return off & (s->cluster_size - 1);
}
static inline uint64_t qcow2_size_to_clusters(const Qcow2State *s, uint64_t size)
{
    return (size + s->cluster_size - 1) >> s->cluster_bits;
}

#endif
