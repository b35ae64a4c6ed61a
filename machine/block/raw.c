/*
 * raw.c - the raw driver: a host file or block device, byte for byte.
 *
 * It is both the "raw" image format and the protocol layer below qcow2.
 * Holes (SEEK_HOLE/SEEK_DATA) are reported as zero ranges so that convert
 * and map stay sparse; discard punches holes where the file system can.
 */
#define _GNU_SOURCE
#include "machine/block/block.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct RawState {
    int fd;
    bool is_bdev;
    bool no_flush; /* BLK_O_NO_FLUSH: flush does not reach the disk */
    uint64_t size; /* cached length: we are the only writer; pread/pwrite
                      run without the device lock, so accessed atomically */
} RawState;

/* Raises the cached length to `end` (concurrent writers may race). */
static void raw_grow(RawState *s, uint64_t end)
{
    uint64_t cur = __atomic_load_n(&s->size, __ATOMIC_RELAXED);
    while (end > cur &&
           !__atomic_compare_exchange_n(&s->size, &cur, end, true, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
        ;
}

static int raw_open(BlockDev *bs, int flags)
{
    RawState *s = calloc(1, sizeof(*s));
    if (!s) {
        blk_set_error("out of memory");
        return -ENOMEM;
    }
    s->fd = open(bs->filename, ((flags & BLK_O_RDWR) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (s->fd < 0) {
        int e = errno;
        blk_set_error("Could not open '%s': %s", bs->filename, strerror(e));
        free(s);
        return -e;
    }
    struct stat st;
    if (fstat(s->fd, &st) < 0) {
        int e = errno;
        blk_set_error("Could not stat '%s': %s", bs->filename, strerror(e));
        close(s->fd);
        free(s);
        return -e;
    }
    if (S_ISBLK(st.st_mode)) {
        uint64_t sz = 0;
        if (ioctl(s->fd, BLKGETSIZE64, &sz) < 0) {
            int e = errno;
            blk_set_error("Could not get the size of '%s': %s", bs->filename, strerror(e));
            close(s->fd);
            free(s);
            return -e;
        }
        s->is_bdev = true;
        s->size = sz;
    } else if (S_ISREG(st.st_mode)) {
        s->size = st.st_size;
    } else {
        blk_set_error("'%s' is not a regular file or block device", bs->filename);
        close(s->fd);
        free(s);
        return -EINVAL;
    }
    s->no_flush = flags & BLK_O_NO_FLUSH;
    bs->opaque = s;
    return 0;
}

static void raw_close(BlockDev *bs)
{
    RawState *s = bs->opaque;
    if (s) {
        close(s->fd);
        free(s);
    }
}

/* Large transfers are split in two halves, one copied by a helper thread,
 * so that page-cache copies use both cores (pread/pwrite are thread safe);
 * not when other transfers run at the same time: they use the cores. */
#define RAW_SPLIT_MIN (512u << 10)
static int raw_active; /* transfers running in this process (atomic) */

typedef struct RawHalf {
    int fd;
    bool write;
    uint8_t *p;
    size_t len;
    uint64_t off;
    int err;
} RawHalf;

static int raw_io(int fd, bool write, uint8_t *p, size_t len, uint64_t off, size_t *done)
{
    *done = 0;
    while (len) {
        ssize_t n = write ? pwrite(fd, p, len, off) : pread(fd, p, len, off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (n == 0) /* end of file on read */
            break;
        p += n;
        off += n;
        len -= n;
        *done += n;
    }
    return 0;
}

static pthread_mutex_t raw_helper_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t raw_helper_cond = PTHREAD_COND_INITIALIZER;
static RawHalf *raw_helper_job;
static bool raw_helper_busy, raw_helper_started, raw_helper_done;

static void *raw_helper(void *arg)
{
    pthread_mutex_lock(&raw_helper_lock);
    for (;;) {
        while (!raw_helper_job)
            pthread_cond_wait(&raw_helper_cond, &raw_helper_lock);
        RawHalf *h = raw_helper_job;
        raw_helper_job = NULL;
        pthread_mutex_unlock(&raw_helper_lock);
        size_t done;
        h->err = raw_io(h->fd, h->write, h->p, h->len, h->off, &done);
        if (!h->write && !h->err && done < h->len)
            memset(h->p + done, 0, h->len - done);
        pthread_mutex_lock(&raw_helper_lock);
        raw_helper_done = true;
        pthread_cond_broadcast(&raw_helper_cond);
    }
    return arg;
}

/* Gives the second half to the helper if it is free; false if not. */
static bool raw_helper_start(RawHalf *h)
{
    pthread_mutex_lock(&raw_helper_lock);
    if (raw_helper_busy) {
        pthread_mutex_unlock(&raw_helper_lock);
        return false;
    }
    if (!raw_helper_started) {
        pthread_t t;
        if (pthread_create(&t, NULL, raw_helper, NULL) != 0) {
            pthread_mutex_unlock(&raw_helper_lock);
            return false;
        }
        pthread_detach(t);
        raw_helper_started = true;
    }
    raw_helper_busy = true;
    raw_helper_done = false;
    raw_helper_job = h;
    pthread_cond_broadcast(&raw_helper_cond);
    pthread_mutex_unlock(&raw_helper_lock);
    return true;
}

static void raw_helper_wait(void)
{
    pthread_mutex_lock(&raw_helper_lock);
    while (!raw_helper_done)
        pthread_cond_wait(&raw_helper_cond, &raw_helper_lock);
    raw_helper_busy = false;
    pthread_mutex_unlock(&raw_helper_lock);
}

/* Runs a large transfer as two halves; -1 if the helper is busy. */
static int raw_split(RawState *s, bool write, uint8_t *p, size_t len, uint64_t off)
{
    if (__atomic_load_n(&raw_active, __ATOMIC_RELAXED) > 1)
        return -1;
    size_t first = (len / 2) & ~(size_t)4095;
    RawHalf h = {s->fd, write, p + first, len - first, off + first, 0};
    if (!raw_helper_start(&h))
        return -1;
    size_t done;
    int err = raw_io(s->fd, write, p, first, off, &done);
    if (!write && !err && done < first)
        memset(p + done, 0, first - done);
    raw_helper_wait();
    return err ? err : h.err;
}

static int raw_do_pread(BlockDev *bs, uint64_t off, void *buf, size_t len)
{
    RawState *s = bs->opaque;
    uint8_t *p = buf;
    if (len >= RAW_SPLIT_MIN) {
        int err = raw_split(s, false, p, len, off);
        if (err > 0) {
            blk_set_error("%s: read error at offset %llu: %s", bs->filename,
                          (unsigned long long)off, strerror(err));
            return -err;
        }
        if (err == 0)
            return 0;
    }
    while (len) {
        ssize_t n = pread(s->fd, p, len, off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            blk_set_error("%s: read error at offset %llu: %s", bs->filename,
                          (unsigned long long)off, strerror(e));
            return -e;
        }
        if (n == 0) { /* end of file: the rest reads as zeros */
            memset(p, 0, len);
            return 0;
        }
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

static int raw_do_pwrite(BlockDev *bs, uint64_t off, const void *buf, size_t len)
{
    RawState *s = bs->opaque;
    const uint8_t *p = buf;
    uint64_t end = off + len;
    if (len >= RAW_SPLIT_MIN) {
        int err = raw_split(s, true, (uint8_t *)p, len, off);
        if (err > 0) {
            blk_set_error("%s: write error at offset %llu: %s", bs->filename,
                          (unsigned long long)off, strerror(err));
            return -err;
        }
        if (err == 0) {
            if (!s->is_bdev)
                raw_grow(s, end);
            return 0;
        }
    }
    while (len) {
        ssize_t n = pwrite(s->fd, p, len, off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            blk_set_error("%s: write error at offset %llu: %s", bs->filename,
                          (unsigned long long)off, strerror(e));
            return -e;
        }
        p += n;
        off += n;
        len -= n;
    }
    if (!s->is_bdev)
        raw_grow(s, end);
    return 0;
}

static int raw_pread(BlockDev *bs, uint64_t off, void *buf, size_t len)
{
    __atomic_add_fetch(&raw_active, 1, __ATOMIC_RELAXED);
    int ret = raw_do_pread(bs, off, buf, len);
    __atomic_sub_fetch(&raw_active, 1, __ATOMIC_RELAXED);
    return ret;
}

static int raw_pwrite(BlockDev *bs, uint64_t off, const void *buf, size_t len)
{
    __atomic_add_fetch(&raw_active, 1, __ATOMIC_RELAXED);
    int ret = raw_do_pwrite(bs, off, buf, len);
    __atomic_sub_fetch(&raw_active, 1, __ATOMIC_RELAXED);
    return ret;
}

static int raw_pwrite_zeroes(BlockDev *bs, uint64_t off, uint64_t len)
{
    RawState *s = bs->opaque;
    if (!s->is_bdev && off + len <= s->size &&
        fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) == 0)
        return 0;
    if (!s->is_bdev && fallocate(s->fd, FALLOC_FL_ZERO_RANGE, off, len) == 0) {
        raw_grow(s, off + len);
        return 0;
    }
    static const uint8_t zeros[65536];
    while (len) {
        size_t n = len < sizeof(zeros) ? len : sizeof(zeros);
        int ret = raw_pwrite(bs, off, zeros, n);
        if (ret < 0)
            return ret;
        off += n;
        len -= n;
    }
    return 0;
}

static int raw_flush(BlockDev *bs)
{
    RawState *s = bs->opaque;
    if (s->no_flush)
        return 0;
    if (fdatasync(s->fd) < 0) {
        int e = errno;
        blk_set_error("%s: flush failed: %s", bs->filename, strerror(e));
        return -e;
    }
    return 0;
}

static int raw_discard(BlockDev *bs, uint64_t off, uint64_t len)
{
    RawState *s = bs->opaque;
    if (s->is_bdev) {
        uint64_t range[2] = {off, len};
        ioctl(s->fd, BLKDISCARD, range); /* advisory: errors ignored */
        return 0;
    }
    fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
    return 0;
}

static int64_t raw_length(BlockDev *bs)
{
    return (int64_t)__atomic_load_n(&((RawState *)bs->opaque)->size, __ATOMIC_RELAXED);
}

static int raw_truncate(BlockDev *bs, uint64_t size, bool shrink)
{
    RawState *s = bs->opaque;
    if (s->is_bdev) {
        if (size > s->size) {
            blk_set_error("cannot grow block device '%s'", bs->filename);
            return -EINVAL;
        }
        return 0;
    }
    if (size < s->size && !shrink) {
        blk_set_error("Use the --shrink option to perform a shrink operation.");
        return -EINVAL;
    }
    if (ftruncate(s->fd, size) < 0) {
        int e = errno;
        blk_set_error("%s: cannot resize: %s", bs->filename, strerror(e));
        return -e;
    }
    __atomic_store_n(&s->size, size, __ATOMIC_RELAXED);
    return 0;
}

static int raw_block_status(BlockDev *bs, uint64_t off, uint64_t len, uint64_t *pnum,
                            uint64_t *map)
{
    RawState *s = bs->opaque;
    int st = BLK_S_ALLOCATED | BLK_S_OFFSET;
    *map = off;
    *pnum = len;
    if (s->is_bdev)
        return st | BLK_S_DATA;
    off_t data = lseek(s->fd, off, SEEK_DATA);
    if (data < 0) { /* ENXIO: only a hole up to the end */
        if (errno == ENXIO)
            return st | BLK_S_ZERO;
        return st | BLK_S_DATA;
    }
    if ((uint64_t)data > off) {
        if ((uint64_t)data - off < len)
            *pnum = data - off;
        return st | BLK_S_ZERO;
    }
    off_t hole = lseek(s->fd, off, SEEK_HOLE);
    if (hole > (off_t)off && (uint64_t)hole - off < len)
        *pnum = hole - off;
    return st | BLK_S_DATA;
}

static int64_t raw_allocated_size(BlockDev *bs)
{
    struct stat st;
    if (fstat(((RawState *)bs->opaque)->fd, &st) < 0)
        return -errno;
    return (int64_t)st.st_blocks * 512;
}

const BlockDriver blk_raw_driver = {
    .name = "raw",
    .open = raw_open,
    .close = raw_close,
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .pwrite_zeroes = raw_pwrite_zeroes,
    .flush = raw_flush,
    .discard = raw_discard,
    .length = raw_length,
    .truncate = raw_truncate,
    .block_status = raw_block_status,
    .allocated_size = raw_allocated_size,
    .rw_lockless = true,
};
