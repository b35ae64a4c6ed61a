/*
 * mem.c - a protocol layer over a memory buffer.
 *
 * Used by the fuzz harness and unit tests to run the qcow2 driver without
 * touching the file system.  The buffer belongs to the caller; writes may
 * grow it up to its capacity and fail cleanly beyond.
 */
#include "machine/block/block.h"
#include "machine/block/block-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct MemState {
    uint8_t *buf;
    size_t len, cap;
} MemState;

static void mem_close(BlockDev *bs)
{
    free(bs->opaque);
}

static int mem_pread(BlockDev *bs, uint64_t off, void *buf, size_t len)
{
    MemState *m = bs->opaque;
    size_t n = off >= m->len ? 0 : (m->len - off < len ? m->len - off : len);
    memcpy(buf, m->buf + off, n);
    memset((uint8_t *)buf + n, 0, len - n);
    return 0;
}

static int mem_pwrite(BlockDev *bs, uint64_t off, const void *buf, size_t len)
{
    MemState *m = bs->opaque;
    if (off > m->cap || len > m->cap - off) {
        blk_set_error("memory image full: write at %llu length %zu beyond %zu bytes",
                      (unsigned long long)off, len, m->cap);
        return -ENOSPC;
    }
    if (off > m->len)
        memset(m->buf + m->len, 0, off - m->len);
    memcpy(m->buf + off, buf, len);
    if (off + len > m->len)
        m->len = off + len;
    return 0;
}

static int64_t mem_length(BlockDev *bs)
{
    return (int64_t)((MemState *)bs->opaque)->len;
}

static int mem_truncate(BlockDev *bs, uint64_t size, bool shrink)
{
    MemState *m = bs->opaque;
    if (size > m->cap) {
        blk_set_error("memory image cannot grow to %llu bytes", (unsigned long long)size);
        return -ENOSPC;
    }
    if (size > m->len)
        memset(m->buf + m->len, 0, size - m->len);
    m->len = size;
    return 0;
}

const BlockDriver blk_mem_driver = {
    .name = "mem",
    .close = mem_close,
    .pread = mem_pread,
    .pwrite = mem_pwrite,
    .length = mem_length,
    .truncate = mem_truncate,
};

int blk_open_mem(void *buf, size_t len, size_t cap, bool read_only, BlockDev **out)
{
    *out = NULL;
    MemState *m = malloc(sizeof(*m));
    BlockDev *bs = m ? blk_new(&blk_mem_driver, "<memory>", read_only ? 0 : BLK_O_RDWR) : NULL;
    if (!bs) {
        free(m);
        blk_set_error("out of memory");
        return -ENOMEM;
    }
    m->buf = buf;
    m->len = len;
    m->cap = cap < len ? len : cap;
    bs->opaque = m;
    *out = bs;
    return 0;
}
