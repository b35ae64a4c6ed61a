/*
 * block.c - the generic part of the block layer: opening and probing,
 * bounds and read-only checks, per-device locking, status through a backing
 * chain, error messages and the asynchronous request worker.
 *
 * Drivers never see a request that crosses the end of the device or a
 * write to a read-only device; they may assume the device lock is held.
 */
#include "machine/block/block.h"
#include "machine/block/block-int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __thread char blk_err_buf[512];

const char *blk_errmsg(void)
{
    return blk_err_buf[0] ? blk_err_buf : "unknown error";
}

void blk_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(blk_err_buf, sizeof(blk_err_buf), fmt, ap);
    va_end(ap);
}

static const BlockDriver *blk_find_driver(const char *fmt)
{
    if (!strcmp(fmt, "raw"))
        return &blk_raw_driver;
    if (!strcmp(fmt, "qcow2"))
        return &blk_qcow2_driver;
    return NULL;
}

const char *blk_probe(BlockDev *file)
{
    uint8_t magic[4];
    if (blk_length(file) >= 4 && blk_pread(file, 0, magic, 4) == 0 &&
        !memcmp(magic, "QFI\xfb", 4))
        return "qcow2";
    return "raw";
}

BlockDev *blk_new(const BlockDriver *drv, const char *name, int flags)
{
    BlockDev *bs = calloc(1, sizeof(*bs));
    if (!bs)
        return NULL;
    bs->drv = drv;
    bs->filename = strdup(name ? name : "");
    bs->flags = flags;
    bs->read_only = !(flags & BLK_O_RDWR);
    pthread_mutex_init(&bs->lock, NULL);
    return bs;
}

void blk_free(BlockDev *bs)
{
    pthread_mutex_destroy(&bs->lock);
    free(bs->filename);
    free(bs);
}

int blk_open_on(BlockDev *file, const char *fmt, int flags, const char *name, BlockDev **out)
{
    *out = NULL;
    if (!fmt)
        fmt = blk_probe(file);
    const BlockDriver *drv = blk_find_driver(fmt);
    if (!drv) {
        blk_set_error("Unknown image format '%s'", fmt);
        return -EINVAL;
    }
    if (drv == &blk_raw_driver) { /* raw over a protocol layer is the layer */
        *out = file;
        return 0;
    }
    BlockDev *bs = blk_new(drv, name, flags);
    if (!bs) {
        blk_set_error("out of memory");
        return -ENOMEM;
    }
    bs->file = file;
    int ret = drv->open(bs, flags);
    if (ret < 0) {
        bs->file = NULL; /* still the caller's */
        blk_free(bs);
        return ret;
    }
    *out = bs;
    return 0;
}

int blk_open(const char *path, const char *fmt, int flags, BlockDev **out)
{
    *out = NULL;
    if (fmt && !blk_find_driver(fmt)) {
        blk_set_error("Unknown image format '%s'", fmt);
        return -EINVAL;
    }
    BlockDev *file = blk_new(&blk_raw_driver, path, flags);
    if (!file) {
        blk_set_error("out of memory");
        return -ENOMEM;
    }
    int ret = blk_raw_driver.open(file, flags);
    if (ret < 0) {
        blk_free(file);
        return ret;
    }
    ret = blk_open_on(file, fmt, flags, path, out);
    if (ret < 0)
        blk_close(file);
    return ret;
}

void blk_close(BlockDev *bs)
{
    if (!bs)
        return;
    if (bs->drv->close)
        bs->drv->close(bs);
    if (bs->backing)
        blk_close(bs->backing);
    if (bs->file)
        blk_close(bs->file);
    blk_free(bs);
}

const char *blk_format_name(const BlockDev *bs)
{
    return bs->drv == &blk_mem_driver ? "raw" : bs->drv->name;
}

/* Checks a request against the device length; 0 if it fits. */
static int blk_check_range(BlockDev *bs, uint64_t off, uint64_t len)
{
    if (bs->growable)
        return off + len >= off ? 0 : -EINVAL;
    int64_t size = bs->drv->length(bs);
    if (size < 0)
        return (int)size;
    if (off > (uint64_t)size || len > (uint64_t)size - off) {
        blk_set_error("request at offset %llu length %llu is beyond the end of the image "
                      "(%lld bytes)", (unsigned long long)off, (unsigned long long)len,
                      (long long)size);
        return -EINVAL;
    }
    return 0;
}

static int blk_check_write(BlockDev *bs, uint64_t off, uint64_t len)
{
    if (bs->read_only) {
        blk_set_error("%s: image is opened read-only", bs->filename);
        return -EPERM;
    }
    return blk_check_range(bs, off, len);
}

int blk_pread(BlockDev *bs, uint64_t off, void *buf, size_t len)
{
    if (len == 0)
        return 0;
    bool lock = !bs->drv->rw_lockless;
    if (lock)
        pthread_mutex_lock(&bs->lock);
    int ret = blk_check_range(bs, off, len);
    if (ret == 0)
        ret = bs->drv->pread(bs, off, buf, len);
    if (lock)
        pthread_mutex_unlock(&bs->lock);
    return ret;
}

int blk_pwrite(BlockDev *bs, uint64_t off, const void *buf, size_t len)
{
    if (len == 0)
        return 0;
    bool lock = !bs->drv->rw_lockless;
    if (lock)
        pthread_mutex_lock(&bs->lock);
    int ret = blk_check_write(bs, off, len);
    if (ret == 0)
        ret = bs->drv->pwrite ? bs->drv->pwrite(bs, off, buf, len) : -ENOTSUP;
    if (lock)
        pthread_mutex_unlock(&bs->lock);
    return ret;
}

int blk_pwrite_zeroes(BlockDev *bs, uint64_t off, uint64_t len)
{
    if (len == 0)
        return 0;
    pthread_mutex_lock(&bs->lock);
    int ret = blk_check_write(bs, off, len);
    if (ret == 0) {
        if (bs->drv->pwrite_zeroes) {
            ret = bs->drv->pwrite_zeroes(bs, off, len);
        } else if (!bs->drv->pwrite) {
            ret = -ENOTSUP;
        } else {
            static const uint8_t zeros[65536];
            while (ret == 0 && len) {
                size_t n = len < sizeof(zeros) ? len : sizeof(zeros);
                ret = bs->drv->pwrite(bs, off, zeros, n);
                off += n;
                len -= n;
            }
        }
    }
    pthread_mutex_unlock(&bs->lock);
    return ret;
}

int blk_pwrite_compressed(BlockDev *bs, uint64_t off, const void *buf, size_t len)
{
    pthread_mutex_lock(&bs->lock);
    int ret = blk_check_write(bs, off, len);
    if (ret == 0) {
        if (bs->drv->pwrite_compressed) {
            ret = bs->drv->pwrite_compressed(bs, off, buf, len);
        } else {
            blk_set_error("format '%s' does not support compression", blk_format_name(bs));
            ret = -ENOTSUP;
        }
    }
    pthread_mutex_unlock(&bs->lock);
    return ret;
}

int blk_flush(BlockDev *bs)
{
    if (bs->read_only)
        return 0;
    pthread_mutex_lock(&bs->lock);
    int ret = bs->drv->flush ? bs->drv->flush(bs) : 0;
    pthread_mutex_unlock(&bs->lock);
    return ret;
}

int blk_discard(BlockDev *bs, uint64_t off, uint64_t len)
{
    pthread_mutex_lock(&bs->lock);
    int ret = blk_check_write(bs, off, len);
    if (ret == 0 && bs->drv->discard)
        ret = bs->drv->discard(bs, off, len);
    pthread_mutex_unlock(&bs->lock);
    return ret;
}

int64_t blk_length(BlockDev *bs)
{
    pthread_mutex_lock(&bs->lock);
    int64_t ret = bs->drv->length(bs);
    pthread_mutex_unlock(&bs->lock);
    return ret;
}

int blk_truncate(BlockDev *bs, uint64_t size, bool shrink)
{
    if (bs->read_only) {
        blk_set_error("%s: image is opened read-only", bs->filename);
        return -EPERM;
    }
    pthread_mutex_lock(&bs->lock);
    int ret;
    if (bs->drv->truncate) {
        ret = bs->drv->truncate(bs, size, shrink);
    } else {
        blk_set_error("format '%s' cannot be resized", blk_format_name(bs));
        ret = -ENOTSUP;
    }
    pthread_mutex_unlock(&bs->lock);
    return ret;
}

int64_t blk_allocated_size(BlockDev *bs)
{
    if (bs->drv->allocated_size)
        return bs->drv->allocated_size(bs);
    if (bs->file)
        return blk_allocated_size(bs->file);
    return -ENOTSUP;
}

int blk_block_status(BlockDev *bs, uint64_t off, uint64_t len, uint64_t *pnum, uint64_t *map)
{
    *pnum = 0;
    *map = 0;
    if (len == 0)
        return 0;
    pthread_mutex_lock(&bs->lock);
    int ret = blk_check_range(bs, off, len);
    if (ret == 0) {
        if (bs->drv->block_status) {
            ret = bs->drv->block_status(bs, off, len, pnum, map);
        } else {
            *pnum = len;
            ret = BLK_S_DATA | BLK_S_ALLOCATED;
        }
    }
    pthread_mutex_unlock(&bs->lock);
    return ret;
}

int blk_block_status_above(BlockDev *bs, uint64_t off, uint64_t len, uint64_t *pnum,
                           uint64_t *map, int *depth, BlockDev **layer)
{
    int d = 0;
    for (;;) {
        int st = blk_block_status(bs, off, len, pnum, map);
        if (st < 0)
            return st;
        if ((st & BLK_S_ALLOCATED) || !bs->backing) {
            if (!(st & BLK_S_ALLOCATED))
                st |= BLK_S_ZERO; /* nothing below: reads zero */
            *depth = d;
            *layer = bs;
            return st;
        }
        /* Unallocated here: the backing decides, up to its own end. */
        int64_t blen = blk_length(bs->backing);
        if (blen < 0)
            return (int)blen;
        if (off >= (uint64_t)blen) {
            *depth = d + 1;
            *layer = bs->backing;
            *map = 0;
            return BLK_S_ZERO; /* beyond the backing: zeros */
        }
        len = *pnum;
        if (len > (uint64_t)blen - off)
            len = blen - off;
        bs = bs->backing;
        d++;
    }
}

/* ---- asynchronous requests: one lazily started worker thread ---- */

static pthread_mutex_t aio_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t aio_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t aio_idle = PTHREAD_COND_INITIALIZER;
static BlkAioReq *aio_head, *aio_tail;
static int aio_pending;
static bool aio_started;

static void *blk_aio_worker(void *arg)
{
    for (;;) {
        pthread_mutex_lock(&aio_lock);
        while (!aio_head)
            pthread_cond_wait(&aio_cond, &aio_lock);
        BlkAioReq *req = aio_head;
        aio_head = req->next;
        if (!aio_head)
            aio_tail = NULL;
        pthread_mutex_unlock(&aio_lock);

        int ret;
        switch (req->op) {
        case BLK_AIO_READ: ret = blk_pread(req->bs, req->off, req->buf, req->len); break;
        case BLK_AIO_WRITE: ret = blk_pwrite(req->bs, req->off, req->buf, req->len); break;
        case BLK_AIO_FLUSH: ret = blk_flush(req->bs); break;
        case BLK_AIO_DISCARD: ret = blk_discard(req->bs, req->off, req->len); break;
        default: ret = -EINVAL; break;
        }
        if (req->done)
            req->done(req, ret);

        pthread_mutex_lock(&aio_lock);
        if (--aio_pending == 0)
            pthread_cond_broadcast(&aio_idle);
        pthread_mutex_unlock(&aio_lock);
    }
    return arg;
}

int blk_aio_submit(BlkAioReq *req)
{
    pthread_mutex_lock(&aio_lock);
    if (!aio_started) {
        pthread_t t;
        if (pthread_create(&t, NULL, blk_aio_worker, NULL) != 0) {
            pthread_mutex_unlock(&aio_lock);
            blk_set_error("cannot start the block I/O worker thread");
            return -EAGAIN;
        }
        pthread_detach(t);
        aio_started = true;
    }
    req->next = NULL;
    if (aio_tail)
        aio_tail->next = req;
    else
        aio_head = req;
    aio_tail = req;
    aio_pending++;
    pthread_cond_signal(&aio_cond);
    pthread_mutex_unlock(&aio_lock);
    return 0;
}

void blk_aio_drain(void)
{
    pthread_mutex_lock(&aio_lock);
    while (aio_pending)
        pthread_cond_wait(&aio_idle, &aio_lock);
    pthread_mutex_unlock(&aio_lock);
}
