/*
 * block.h - the block layer: one byte-granular interface over disk images.
 *
 * A BlockDev is an open image of some format (raw, qcow2) stacked on a
 * protocol layer (a host file or block device, or memory).  Every request
 * names its own offset and length and carries no hidden cursor, so requests
 * can be issued from any thread (each device serialises metadata work with
 * its own lock; data transfers of allocated qcow2 clusters and raw files run
 * concurrently) or queued to the workers of blk_aio_submit().
 *
 * Usage:
 *     BlockDev *bs;
 *     if (blk_open("disk.qcow2", NULL, BLK_O_RDWR, &bs) < 0)
 *         fprintf(stderr, "%s\n", blk_errmsg());
 *     blk_pwrite(bs, 4096, buf, 512);
 *     blk_pread(bs, 0, buf, 512);
 *     blk_flush(bs);
 *     blk_close(bs);
 *
 * All functions return 0 (or a length) on success and a negative errno on
 * failure; blk_errmsg() then says what went wrong in words.
 */
#ifndef MACHINE_BLOCK_BLOCK_H
#define MACHINE_BLOCK_BLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct BlockDev BlockDev;
typedef struct BlockDriver BlockDriver;

/* Open flags. */
enum {
    BLK_O_RDONLY = 0,
    BLK_O_RDWR = 1 << 0,
    BLK_O_NO_BACKING = 1 << 1, /* do not open the backing chain */
    BLK_O_CHECK = 1 << 2,      /* open for emu-img check: skip auto-repair */
    BLK_O_NO_FLUSH = 1 << 3,   /* cache=unsafe: flushes keep their order in the page
                                  cache but do not wait for the disk */
};

/* Block status bits (blk_block_status). */
enum {
    BLK_S_DATA = 1 << 0,       /* this layer stores data for the range */
    BLK_S_ZERO = 1 << 1,       /* the range reads as zeros */
    BLK_S_ALLOCATED = 1 << 2,  /* decided by this layer (not its backing) */
    BLK_S_OFFSET = 1 << 3,     /* *map holds the host offset */
    BLK_S_COMPRESSED = 1 << 4, /* stored compressed */
};

/* What a format driver implements.  Only name, open, close, pread and
 * length are required; the block layer checks read-only and bounds. */
struct BlockDriver {
    const char *name;
    int (*open)(BlockDev *bs, int flags);
    void (*close)(BlockDev *bs);
    int (*pread)(BlockDev *bs, uint64_t off, void *buf, size_t len);
    int (*pwrite)(BlockDev *bs, uint64_t off, const void *buf, size_t len);
    int (*pwrite_zeroes)(BlockDev *bs, uint64_t off, uint64_t len);
    /* off cluster-aligned, len one cluster (or the tail of the image) */
    int (*pwrite_compressed)(BlockDev *bs, uint64_t off, const void *buf, size_t len);
    int (*flush)(BlockDev *bs);
    int (*discard)(BlockDev *bs, uint64_t off, uint64_t len);
    int64_t (*length)(BlockDev *bs);
    int (*truncate)(BlockDev *bs, uint64_t size, bool shrink);
    /* Status of [off, off+len): returns BLK_S_* bits and the length *pnum
     * (>0, <= len) that shares them; *map is the host offset if OFFSET. */
    int (*block_status)(BlockDev *bs, uint64_t off, uint64_t len, uint64_t *pnum,
                        uint64_t *map);
    int64_t (*allocated_size)(BlockDev *bs); /* host bytes used, or -ENOTSUP */
    /* pread/pwrite are safe to run concurrently and are called without
     * the device lock (other requests still take it). */
    bool rw_lockless;
};

struct BlockDev {
    const BlockDriver *drv;
    void *opaque;            /* driver state */
    char *filename;          /* as given by the caller */
    int flags;
    bool read_only;
    bool growable;           /* protocol layer under a format: may grow,
                                reads past the end return zeros */
    BlockDev *file;          /* protocol layer below a format, or NULL */
    BlockDev *backing;       /* backing image, or NULL */
    char backing_file[1024]; /* name stored in the image ("" if none) */
    char backing_fmt[32];    /* its format if recorded ("" if not) */
    pthread_mutex_t lock;
};

extern const BlockDriver blk_raw_driver;   /* raw.c: host file / block device */
extern const BlockDriver blk_mem_driver;   /* mem.c: a memory buffer */
extern const BlockDriver blk_qcow2_driver; /* qcow2.c */

/* Opens `path` as format `fmt` ("raw", "qcow2", or NULL to probe). */
int blk_open(const char *path, const char *fmt, int flags, BlockDev **out);
/* Opens format `fmt` (NULL: probe) over an already open protocol layer;
 * on success the new device owns `file`, on failure the caller still does. */
int blk_open_on(BlockDev *file, const char *fmt, int flags, const char *name, BlockDev **out);
/* A protocol layer over `len` bytes at `buf` (not copied, not freed; it can
 * grow into `cap` bytes when written). */
int blk_open_mem(void *buf, size_t len, size_t cap, bool read_only, BlockDev **out);
void blk_close(BlockDev *bs);

int blk_pread(BlockDev *bs, uint64_t off, void *buf, size_t len);
int blk_pwrite(BlockDev *bs, uint64_t off, const void *buf, size_t len);
int blk_pwrite_zeroes(BlockDev *bs, uint64_t off, uint64_t len);
int blk_pwrite_compressed(BlockDev *bs, uint64_t off, const void *buf, size_t len);
int blk_flush(BlockDev *bs);
int blk_discard(BlockDev *bs, uint64_t off, uint64_t len);
int64_t blk_length(BlockDev *bs);
int blk_truncate(BlockDev *bs, uint64_t size, bool shrink);
int64_t blk_allocated_size(BlockDev *bs);
const char *blk_format_name(const BlockDev *bs);

/* Status of [off, off+len) in this layer only (see BLK_S_*). */
int blk_block_status(BlockDev *bs, uint64_t off, uint64_t len, uint64_t *pnum, uint64_t *map);
/* Status through the backing chain: *depth is the layer that decides the
 * range (0 = bs), *layer that layer.  Unallocated at the bottom reads zero. */
int blk_block_status_above(BlockDev *bs, uint64_t off, uint64_t len, uint64_t *pnum,
                           uint64_t *map, int *depth, BlockDev **layer);

/* Probes the format of an open protocol layer: "qcow2" or "raw". */
const char *blk_probe(BlockDev *file);

/* The last error message of this thread. */
const char *blk_errmsg(void);
void blk_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Asynchronous requests: run on a per-process worker thread, completion
 * callback called on that thread with the request's result. */
typedef enum { BLK_AIO_READ, BLK_AIO_WRITE, BLK_AIO_FLUSH, BLK_AIO_DISCARD } BlkAioOp;
typedef struct BlkAioReq {
    BlkAioOp op;
    BlockDev *bs;
    uint64_t off;
    void *buf;
    size_t len;
    void (*done)(struct BlkAioReq *req, int ret);
    void *opaque;
    struct BlkAioReq *next; /* private */
} BlkAioReq;
int blk_aio_submit(BlkAioReq *req);
/* Waits until every submitted request has completed. */
void blk_aio_drain(void);

#endif
