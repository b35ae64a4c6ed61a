/*
 * qcow2.c - the qcow2 BlockDriver: open/close, read, write (allocation
 * with copy-on-write of partial clusters), zero writes, discard,
 * compressed writes, block status and resize.
 *
 * A request is cut into runs of clusters that map the same way (contiguous
 * host data, zeros, backing, compressed) so that sequential I/O becomes
 * few large host requests.
 */
#include "machine/block/qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define QCOW2_MAX_RUN 256 /* clusters allocated at once by one write */

static uint64_t qcow2_min(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Reads guest [off, off+len) from the backing image (zeros beyond its end). */
static int qcow2_read_backing(BlockDev *bs, uint64_t off, uint8_t *buf, uint64_t len)
{
    if (!bs->backing) {
        memset(buf, 0, len);
        return 0;
    }
    int64_t blen = blk_length(bs->backing);
    if (blen < 0)
        return (int)blen;
    uint64_t n = off >= (uint64_t)blen ? 0 : qcow2_min(len, blen - off);
    if (n) {
        int ret = blk_pread(bs->backing, off, buf, n);
        if (ret < 0)
            return ret;
    }
    memset(buf + n, 0, len - n);
    return 0;
}

/* Decompresses the cluster of entry l2e into s->decomp_buf (cached). */
static int qcow2_load_compressed(Qcow2State *s, uint64_t l2e)
{
    if (s->decomp_l2e == l2e)
        return 0;
    uint64_t off, len;
    qcow2_compressed_range(s, l2e, &off, &len);
    if (off < s->cluster_size) {
        blk_set_error("%s: compressed cluster at offset 0x%llx overlaps the header",
                      s->bs->filename, (unsigned long long)off);
        return -EIO;
    }
    int64_t flen = blk_length(s->file);
    if (flen >= 0 && off >= (uint64_t)flen) {
        blk_set_error("%s: compressed cluster at offset 0x%llx is beyond the end of the file",
                      s->bs->filename, (unsigned long long)off);
        return -EIO;
    }
    if (flen >= 0 && len > (uint64_t)flen - off)
        len = flen - off; /* the last sector may be short */
    int ret = blk_pread(s->file, off, s->comp_buf, len);
    if (ret < 0)
        return ret;
    s->decomp_l2e = 0;
    ret = qcow2_decompress(s, s->comp_buf, len, s->decomp_buf, s->cluster_size);
    if (ret < 0)
        return ret;
    s->decomp_l2e = l2e;
    return 0;
}

/* Is the next cluster's entry `e` a continuation of a run of type t whose
 * next host offset would be `host`? */
static bool qcow2_continues(Qcow2State *s, uint64_t e, Qcow2ClusterType t, uint64_t host,
                            bool need_copied)
{
    Qcow2ClusterType te = qcow2_entry_type(s, e);
    if (te != t)
        return false;
    if (t == QCOW2_CL_NORMAL)
        return (e & QCOW2_OFFSET_MASK) == host && (!need_copied || (e & QCOW2_OFLAG_COPIED));
    return t != QCOW2_CL_COMPRESSED;
}

/* Waits (releasing bs->lock) until no data transfer runs unlocked: called
 * before anything that may free a cluster, so that a transfer never lands in
 * a cluster that has meanwhile been reused. */
static void qcow2_drain_io(BlockDev *bs)
{
    Qcow2State *s = bs->opaque;
    while (s->io_inflight)
        pthread_cond_wait(&s->io_idle, &bs->lock);
}

/* Reads or writes data of allocated clusters at `host` in the image file with
 * bs->lock released (if `unlock`), so that requests to different clusters
 * copy concurrently; the mapping was looked up under the lock. */
static int qcow2_data_io(BlockDev *bs, bool write, uint64_t host, void *buf, uint64_t n,
                         bool unlock)
{
    Qcow2State *s = bs->opaque;
    if (!unlock)
        return write ? blk_pwrite(s->file, host, buf, n) : blk_pread(s->file, host, buf, n);
    s->io_inflight++;
    pthread_mutex_unlock(&bs->lock);
    int ret = write ? blk_pwrite(s->file, host, buf, n) : blk_pread(s->file, host, buf, n);
    pthread_mutex_lock(&bs->lock);
    if (--s->io_inflight == 0)
        pthread_cond_broadcast(&s->io_idle);
    return ret;
}

static int qcow2_do_pread(BlockDev *bs, uint64_t off, void *vbuf, size_t len, bool unlock)
{
    Qcow2State *s = bs->opaque;
    uint8_t *buf = vbuf;
    while (len) {
        uint64_t e;
        int ret = qcow2_get_l2e(s, off, &e);
        if (ret < 0)
            return ret;
        Qcow2ClusterType t = qcow2_entry_type(s, e);
        uint64_t in = qcow2_offset_in_cluster(s, off);
        uint64_t n = qcow2_min(len, s->cluster_size - in);
        uint64_t host = e & QCOW2_OFFSET_MASK;
        if (t == QCOW2_CL_NORMAL) {
            if ((ret = qcow2_check_host_cluster(s, host, "data cluster")) < 0)
                return ret;
        }
        if (t == QCOW2_CL_COMPRESSED) {
            if ((ret = qcow2_load_compressed(s, e)) < 0)
                return ret;
            memcpy(buf, s->decomp_buf + in, n);
        } else {
            /* Extend over following clusters that map the same way. */
            while (n < len) {
                uint64_t e2;
                if ((ret = qcow2_get_l2e(s, off + n, &e2)) < 0)
                    return ret;
                if (!qcow2_continues(s, e2, t, host + in + n, false))
                    break;
                n += qcow2_min(len - n, s->cluster_size);
            }
            if (t == QCOW2_CL_NORMAL)
                ret = qcow2_data_io(bs, false, host + in, buf, n, unlock);
            else if (t == QCOW2_CL_UNALLOCATED)
                ret = qcow2_read_backing(bs, off, buf, n);
            else
                memset(buf, 0, n);
            if (ret < 0)
                return ret;
        }
        off += n;
        buf += n;
        len -= n;
    }
    return 0;
}

/* Old contents of the guest cluster starting at `gc` with entry e -> cow_buf. */
static int qcow2_read_old(BlockDev *bs, uint64_t gc, uint64_t e)
{
    Qcow2State *s = bs->opaque;
    switch (qcow2_entry_type(s, e)) {
    case QCOW2_CL_NORMAL:
        return blk_pread(s->file, e & QCOW2_OFFSET_MASK, s->cow_buf, s->cluster_size);
    case QCOW2_CL_COMPRESSED: {
        int ret = qcow2_load_compressed(s, e);
        if (ret == 0)
            memcpy(s->cow_buf, s->decomp_buf, s->cluster_size);
        return ret;
    }
    case QCOW2_CL_UNALLOCATED: {
        uint64_t n = qcow2_min(s->cluster_size, s->size - gc);
        memset(s->cow_buf + n, 0, s->cluster_size - n);
        return qcow2_read_backing(bs, gc, s->cow_buf, n);
    }
    default:
        memset(s->cow_buf, 0, s->cluster_size);
        return 0;
    }
}

/* Does the old contents of a cluster with entry e read as zeros? */
static bool qcow2_old_is_zero(BlockDev *bs, uint64_t e)
{
    Qcow2State *s = bs->opaque;
    Qcow2ClusterType t = qcow2_entry_type(s, e);
    return t == QCOW2_CL_ZERO || (t == QCOW2_CL_UNALLOCATED && !bs->backing);
}

/* Releases the host storage of an entry being replaced. */
static int qcow2_release_entry(Qcow2State *s, uint64_t e)
{
    switch (qcow2_entry_type(s, e)) {
    case QCOW2_CL_COMPRESSED: {
        uint64_t off, len;
        qcow2_compressed_range(s, e, &off, &len);
        if (s->decomp_l2e == e)
            s->decomp_l2e = 0;
        /* refcounts are per cluster touched, not per sector */
        uint64_t first = off >> s->cluster_bits, last = (off + len - 1) >> s->cluster_bits;
        return qcow2_free_bytes(s, first << s->cluster_bits, (last - first + 1) << s->cluster_bits);
    }
    case QCOW2_CL_NORMAL:
    case QCOW2_CL_ZERO:
        if (e & QCOW2_OFFSET_MASK)
            return qcow2_free_bytes(s, e & QCOW2_OFFSET_MASK, s->cluster_size);
        return 0;
    default:
        return 0;
    }
}

/* Writes to `k` clusters starting at guest `off` that all need new storage. */
static int qcow2_write_alloc(BlockDev *bs, uint64_t off, const uint8_t *buf, uint64_t len,
                             const uint64_t *old, uint64_t k, bool unlock)
{
    Qcow2State *s = bs->opaque;
    uint64_t host, in = qcow2_offset_in_cluster(s, off);
    uint64_t gc0 = off - in, gcl = gc0 + ((k - 1) << s->cluster_bits);
    uint64_t tail = ((k << s->cluster_bits) - in) - len; /* bytes after the data */
    /* L2 tables first, so that data clusters stay contiguous. */
    uint8_t *t;
    uint32_t idx;
    int ret;
    if ((ret = qcow2_get_l2_slot(s, gc0, &t, &idx)) < 0 ||
        (ret = qcow2_get_l2_slot(s, gcl, &t, &idx)) < 0)
        return ret;
    int64_t flen = blk_length(s->file);
    if (flen < 0)
        return (int)flen;
    ret = qcow2_alloc_clusters(s, k, &host);
    if (ret < 0)
        return ret;
    /* Fresh space past the end of the file already reads as zeros. */
    bool fresh = host >= (uint64_t)flen;
    if (in && !(fresh && qcow2_old_is_zero(bs, old[0]))) {
        if ((ret = qcow2_read_old(bs, gc0, old[0])) < 0 ||
            (ret = blk_pwrite(s->file, host, s->cow_buf, in)) < 0)
            return ret;
    }
    if (tail && !(fresh && qcow2_old_is_zero(bs, old[k - 1]))) {
        uint64_t to = s->cluster_size - tail;
        if ((ret = qcow2_read_old(bs, gcl, old[k - 1])) < 0 ||
            (ret = blk_pwrite(s->file, host + ((k - 1) << s->cluster_bits) + to,
                              s->cow_buf + to, tail)) < 0)
            return ret;
    }
    /* The new data, unlocked if possible: the clusters are ours (allocated,
     * not yet referenced) and writes to these guest clusters wait for us;
     * the L2 entries are set only after the data is written. */
    int slot = unlock && s->n_alloc_busy < QCOW2_MAX_BUSY ? s->n_alloc_busy++ : -1;
    if (slot >= 0) {
        s->alloc_busy[slot].start = gc0;
        s->alloc_busy[slot].end = gcl + s->cluster_size;
    }
    s->data_dirty = true;
    ret = qcow2_data_io(bs, true, host + in, (void *)buf, len, slot >= 0);
    if (slot >= 0) {
        for (int i = 0; i < s->n_alloc_busy; i++) /* slots may have moved */
            if (s->alloc_busy[i].start == gc0) {
                s->alloc_busy[i] = s->alloc_busy[--s->n_alloc_busy];
                break;
            }
        pthread_cond_broadcast(&s->io_idle);
    }
    if (ret < 0)
        return ret;
    s->data_dirty = true;
    for (uint64_t i = 0; i < k; i++) {
        uint64_t gc = gc0 + (i << s->cluster_bits);
        if ((ret = qcow2_set_l2e(s, gc, (host + (i << s->cluster_bits)) | QCOW2_OFLAG_COPIED)) < 0)
            return ret;
        if ((ret = qcow2_release_entry(s, old[i])) < 0)
            return ret;
    }
    return 0;
}

/* Writes stop once the image has been found corrupt in this session. */
static int qcow2_writable(Qcow2State *s)
{
    if (s->incompat & QCOW2_INCOMPAT_CORRUPT) {
        blk_set_error("%s: image is marked corrupt; run 'emu-img check -r all'",
                      s->bs->filename);
        return -EIO;
    }
    return 0;
}

static int qcow2_pread(BlockDev *bs, uint64_t off, void *buf, size_t len)
{
    return qcow2_do_pread(bs, off, buf, len, true);
}

/* Whether [off, off+len) touches a cluster whose allocation is in flight. */
static bool qcow2_alloc_busy(Qcow2State *s, uint64_t off, uint64_t len)
{
    for (int i = 0; i < s->n_alloc_busy; i++)
        if (off < s->alloc_busy[i].end && s->alloc_busy[i].start < off + len)
            return true;
    return false;
}

/* Whether replacing these `k` L2 entries may drop a cluster's reference. */
static bool qcow2_frees_any(Qcow2State *s, const uint64_t *old, uint64_t k)
{
    for (uint64_t i = 0; i < k; i++)
        if (old[i] && qcow2_entry_type(s, old[i]) != QCOW2_CL_UNALLOCATED)
            return true;
    return false;
}

static int qcow2_do_pwrite(BlockDev *bs, uint64_t off, const void *vbuf, size_t len,
                           bool unlock)
{
    Qcow2State *s = bs->opaque;
    int wret = qcow2_writable(s);
    if (wret < 0)
        return wret;
    const uint8_t *buf = vbuf;
    uint64_t old[QCOW2_MAX_RUN];
    s->decomp_l2e = 0;
    while (len) {
        if (unlock && qcow2_alloc_busy(s, off, len)) {
            pthread_cond_wait(&s->io_idle, &bs->lock);
            continue;
        }
        uint64_t e;
        int ret = qcow2_get_l2e(s, off, &e);
        if (ret < 0)
            return ret;
        uint64_t in = qcow2_offset_in_cluster(s, off);
        uint64_t n = qcow2_min(len, s->cluster_size - in);
        if (qcow2_entry_type(s, e) == QCOW2_CL_NORMAL && (e & QCOW2_OFLAG_COPIED)) {
            uint64_t host = e & QCOW2_OFFSET_MASK;
            if ((ret = qcow2_check_host_cluster(s, host, "data cluster")) < 0)
                return ret;
            while (n < len) { /* in place, as far as the host run goes */
                uint64_t e2;
                if ((ret = qcow2_get_l2e(s, off + n, &e2)) < 0)
                    return ret;
                if (!qcow2_continues(s, e2, QCOW2_CL_NORMAL, host + in + n, true))
                    break;
                n += qcow2_min(len - n, s->cluster_size);
            }
            if ((ret = qcow2_check_overlap(s, host + in, n)) < 0)
                return ret;
            s->data_dirty = true;
            if ((ret = qcow2_data_io(bs, true, host + in, (void *)buf, n, unlock)) < 0)
                return ret;
            s->data_dirty = true; /* again: a flush may have run meanwhile */
        } else {
            uint64_t k = 1;
            old[0] = e;
            while (n < len && k < QCOW2_MAX_RUN) {
                uint64_t e2;
                if ((ret = qcow2_get_l2e(s, off + n, &e2)) < 0)
                    return ret;
                if (qcow2_entry_type(s, e2) == QCOW2_CL_NORMAL && (e2 & QCOW2_OFLAG_COPIED))
                    break;
                old[k++] = e2;
                n += qcow2_min(len - n, s->cluster_size);
            }
            if (unlock && s->io_inflight && qcow2_frees_any(s, old, k)) {
                qcow2_drain_io(bs); /* the mapping may have changed: look again */
                continue;
            }
            if ((ret = qcow2_write_alloc(bs, off, buf, n, old, k, unlock)) < 0)
                return ret;
        }
        off += n;
        buf += n;
        len -= n;
    }
    return 0;
}

static int qcow2_pwrite(BlockDev *bs, uint64_t off, const void *buf, size_t len)
{
    return qcow2_do_pwrite(bs, off, buf, len, true);
}

/* Makes whole clusters in [off, off+len) read as zeros (zero = true) or
 * discards them (zero = false: may then show the backing file). */
static int qcow2_clear_clusters(BlockDev *bs, uint64_t off, uint64_t len, bool zero)
{
    Qcow2State *s = bs->opaque;
    int wret = qcow2_writable(s);
    if (wret < 0)
        return wret;
    for (uint64_t end = off + len; off < end; off += s->cluster_size) {
        uint64_t e, ne;
        int ret = qcow2_get_l2e(s, off, &e);
        if (ret < 0)
            return ret;
        Qcow2ClusterType t = qcow2_entry_type(s, e);
        if (zero || bs->backing)
            ne = s->version >= 3 ? QCOW2_OFLAG_ZERO : (zero ? UINT64_MAX : 0);
        else
            ne = 0;
        if (ne == UINT64_MAX) /* v2 cannot say "zero" over a backing file */
            return -ENOTSUP;
        if (t == QCOW2_CL_UNALLOCATED && !bs->backing)
            continue; /* already reads zero */
        if (t == QCOW2_CL_ZERO && !(e & QCOW2_OFFSET_MASK) && ne == QCOW2_OFLAG_ZERO)
            continue;
        if ((ret = qcow2_set_l2e(s, off, ne)) < 0 || (ret = qcow2_release_entry(s, e)) < 0)
            return ret;
    }
    s->decomp_l2e = 0;
    return 0;
}

static int qcow2_pwrite_zeroes(BlockDev *bs, uint64_t off, uint64_t len)
{
    Qcow2State *s = bs->opaque;
    static const uint8_t zeros[65536];
    qcow2_drain_io(bs);
    while (len) {
        uint64_t in = qcow2_offset_in_cluster(s, off);
        uint64_t n = qcow2_min(len, s->cluster_size - in);
        int ret = -ENOTSUP;
        bool whole = in == 0 && (n == s->cluster_size || off + n == s->size);
        if (whole) {
            uint64_t whole_n = n;
            while (whole_n + s->cluster_size <= len)
                whole_n += s->cluster_size;
            ret = qcow2_clear_clusters(bs, off, whole_n, true);
            if (ret == 0)
                n = whole_n;
        }
        if (ret == -ENOTSUP) {
            for (uint64_t done = 0; done < n; done += sizeof(zeros)) {
                ret = qcow2_do_pwrite(bs, off + done, zeros,
                                      qcow2_min(sizeof(zeros), n - done), false);
                if (ret < 0)
                    return ret;
            }
        }
        if (ret < 0)
            return ret;
        off += n;
        len -= n;
    }
    return 0;
}

static int qcow2_discard(BlockDev *bs, uint64_t off, uint64_t len)
{
    Qcow2State *s = bs->opaque;
    uint64_t start = (off + s->cluster_size - 1) & ~(s->cluster_size - 1);
    uint64_t end = off + len == s->size ? s->size : (off + len) & ~(s->cluster_size - 1);
    if (end <= start)
        return 0;
    qcow2_drain_io(bs);
    int ret = qcow2_clear_clusters(bs, start, end - start, false);
    return ret == -ENOTSUP ? 0 : ret;
}

static int qcow2_pwrite_compressed(BlockDev *bs, uint64_t off, const void *buf, size_t len)
{
    Qcow2State *s = bs->opaque;
    if (qcow2_offset_in_cluster(s, off) || len > s->cluster_size ||
        (len < s->cluster_size && off + len != s->size)) {
        blk_set_error("compressed writes must cover one whole cluster");
        return -EINVAL;
    }
    qcow2_drain_io(bs);
    int wret = qcow2_writable(s);
    if (wret < 0)
        return wret;
    uint8_t *src = s->cow_buf;
    memcpy(src, buf, len);
    memset(src + len, 0, s->cluster_size - len);
    long clen = qcow2_compress(s, src, s->cluster_size, s->comp_buf, s->cluster_size - 1);
    if (clen < 0)
        return (int)clen;
    if (clen == 0) /* incompressible: store it plainly */
        return qcow2_do_pwrite(bs, off, buf, len, false);
    uint64_t e;
    int ret = qcow2_get_l2e(s, off, &e);
    if (ret < 0)
        return ret;
    /* Pack into the current compressed cluster if it fits, else a new one. */
    uint64_t place;
    if (s->comp_next && qcow2_offset_in_cluster(s, s->comp_next) + clen <= s->cluster_size) {
        place = s->comp_next;
        if ((ret = qcow2_update_refcount(s, place >> s->cluster_bits, 1)) < 0)
            return ret;
    } else if ((ret = qcow2_alloc_clusters(s, 1, &place)) < 0) {
        return ret;
    }
    uint64_t padded = ((place + clen + 511) & ~511ull) - place;
    memset(s->comp_buf + clen, 0, padded - clen);
    if ((ret = blk_pwrite(s->file, place, s->comp_buf, padded)) < 0)
        return ret;
    s->data_dirty = true;
    s->comp_next = qcow2_offset_in_cluster(s, place + clen) ? place + clen : 0;
    uint64_t nsec = ((place + clen - 1) >> 9) - (place >> 9);
    uint64_t ne = QCOW2_OFLAG_COMPRESSED | (nsec << s->csize_shift) | place;
    if ((ret = qcow2_set_l2e(s, off, ne)) < 0)
        return ret;
    s->decomp_l2e = 0;
    return qcow2_release_entry(s, e);
}

static int qcow2_flush(BlockDev *bs)
{
    qcow2_drain_io(bs); /* a flush makes deferred frees reusable */
    return qcow2_flush_all(bs->opaque);
}

static int64_t qcow2_length(BlockDev *bs)
{
    return (int64_t)((Qcow2State *)bs->opaque)->size;
}

static int qcow2_block_status(BlockDev *bs, uint64_t off, uint64_t len, uint64_t *pnum,
                              uint64_t *map)
{
    Qcow2State *s = bs->opaque;
    uint64_t l2_span = 1ull << (s->cluster_bits + s->l2_bits);
    uint64_t e;
    int ret = qcow2_get_l2e(s, off, &e);
    if (ret < 0)
        return ret;
    Qcow2ClusterType t = qcow2_entry_type(s, e);
    uint64_t in = qcow2_offset_in_cluster(s, off), host = e & QCOW2_OFFSET_MASK;
    uint64_t n = qcow2_min(len, s->cluster_size - in);
    while (n < len) {
        uint64_t next = off + n;
        if (t == QCOW2_CL_UNALLOCATED && !(s->l1[next / l2_span] & QCOW2_OFFSET_MASK) &&
            next % l2_span == 0) { /* a whole missing L2 table */
            n += qcow2_min(len - n, l2_span);
            continue;
        }
        uint64_t e2;
        if ((ret = qcow2_get_l2e(s, next, &e2)) < 0)
            return ret;
        if (!qcow2_continues(s, e2, t, host + in + n, false))
            break;
        n += qcow2_min(len - n, s->cluster_size);
    }
    *pnum = n;
    *map = 0;
    switch (t) {
    case QCOW2_CL_NORMAL:
        if ((ret = qcow2_check_host_cluster(s, host, "data cluster")) < 0)
            return ret;
        *map = host + in;
        return BLK_S_DATA | BLK_S_ALLOCATED | BLK_S_OFFSET;
    case QCOW2_CL_ZERO: return BLK_S_ZERO | BLK_S_ALLOCATED;
    case QCOW2_CL_COMPRESSED: return BLK_S_DATA | BLK_S_ALLOCATED | BLK_S_COMPRESSED;
    default: return 0;
    }
}

static int qcow2_truncate(BlockDev *bs, uint64_t size, bool shrink)
{
    Qcow2State *s = bs->opaque;
    qcow2_drain_io(bs);
    if (size > (1ull << 61)) {
        blk_set_error("size %llu is too large", (unsigned long long)size);
        return -EFBIG;
    }
    int ret;
    if (size < s->size) {
        if (!shrink) {
            blk_set_error("Use the --shrink option to perform a shrink operation.");
            return -EINVAL;
        }
        uint64_t start = (size + s->cluster_size - 1) & ~(s->cluster_size - 1);
        for (uint64_t o = start; o < s->size; o += s->cluster_size) {
            uint64_t e;
            if ((ret = qcow2_get_l2e(s, o, &e)) < 0)
                return ret;
            if (e && ((ret = qcow2_set_l2e(s, o, 0)) < 0 || (ret = qcow2_release_entry(s, e)) < 0))
                return ret;
        }
        /* L2 tables entirely beyond the new end go too. */
        uint64_t l2_span = 1ull << (s->cluster_bits + s->l2_bits);
        for (uint64_t i = (size + l2_span - 1) / l2_span; i < s->l1_size; i++) {
            uint64_t l2off = s->l1[i] & QCOW2_OFFSET_MASK;
            if (l2off) {
                s->l1[i] = 0;
                s->l1_dirty = true;
                if ((ret = qcow2_free_bytes(s, l2off, s->cluster_size)) < 0)
                    return ret;
            }
        }
    } else {
        uint64_t l2_span = 1ull << (s->cluster_bits + s->l2_bits);
        if ((ret = qcow2_grow_l1(s, (size + l2_span - 1) / l2_span)) < 0)
            return ret;
    }
    if ((ret = qcow2_flush_all(s)) < 0)
        return ret;
    uint8_t b[8];
    blk_put_be64(b, size);
    if ((ret = qcow2_write_header_fields(s, 24, b, 8)) < 0)
        return ret;
    s->size = size;
    return 0;
}

static void qcow2_free_state(Qcow2State *s)
{
    qcow2_cache_destroy(&s->l2_cache);
    qcow2_cache_destroy(&s->rb_cache);
    free(s->l1);
    free(s->rt);
    free(s->pending_free);
    pthread_cond_destroy(&s->io_idle);
    free(s->comp_buf);
    free(s->decomp_buf);
    free(s->cow_buf);
    if (s->zlib_in) {
        inflateEnd(s->zlib_in);
        free(s->zlib_in);
    }
    if (s->zstd_dctx)
        ZSTD_freeDCtx(s->zstd_dctx);
    free(s);
}

static int qcow2_open(BlockDev *bs, int flags)
{
    Qcow2State *s = calloc(1, sizeof(*s));
    if (!s) {
        blk_set_error("out of memory");
        return -ENOMEM;
    }
    s->bs = bs;
    s->file = bs->file;
    pthread_cond_init(&s->io_idle, NULL);
    s->read_only = bs->read_only;
    bs->opaque = s;
    bs->file->growable = true;
    int ret = qcow2_read_header(s, flags & BLK_O_CHECK);
    if (ret < 0)
        goto fail;
    s->l1 = calloc(s->l1_size ? s->l1_size : 1, 8);
    s->comp_buf = malloc(2 * s->cluster_size);
    s->decomp_buf = malloc(s->cluster_size);
    s->cow_buf = malloc(s->cluster_size);
    if (!s->l1 || !s->comp_buf || !s->decomp_buf || !s->cow_buf) {
        blk_set_error("out of memory");
        ret = -ENOMEM;
        goto fail;
    }
    if (s->l1_size && (ret = blk_pread(s->file, s->l1_offset, s->l1, (size_t)s->l1_size * 8)) < 0)
        goto fail;
    for (uint32_t i = 0; i < s->l1_size; i++)
        s->l1[i] = blk_be64(&s->l1[i]);
    uint64_t l2n = (4u << 20) >> s->cluster_bits, rbn = (256u << 10) >> s->cluster_bits;
    l2n = l2n < 8 ? 8 : l2n > 512 ? 512 : l2n;
    rbn = rbn < 4 ? 4 : rbn > 64 ? 64 : rbn;
    if ((ret = qcow2_cache_init(s, &s->l2_cache, (int)l2n, true)) < 0 ||
        (ret = qcow2_cache_init(s, &s->rb_cache, (int)rbn, false)) < 0 ||
        (ret = qcow2_refcount_init(s)) < 0)
        goto fail;
    if (!s->read_only && !(flags & BLK_O_CHECK)) {
        if (s->incompat & QCOW2_INCOMPAT_DIRTY) { /* refcounts may be stale: rebuild */
            Qcow2CheckResult r;
            if ((ret = qcow2_check(bs, QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS, &r, NULL)) < 0)
                goto fail;
            if (r.corruptions - r.corruptions_fixed > 0) {
                blk_set_error("%s: dirty image could not be repaired", bs->filename);
                ret = -EIO;
                goto fail;
            }
            if ((ret = qcow2_update_incompat(s, s->incompat & ~QCOW2_INCOMPAT_DIRTY)) < 0)
                goto fail;
        }
        if (s->autoclear) { /* we do not keep bitmaps up to date: disown them */
            uint8_t z[8] = {0};
            if ((ret = qcow2_write_header_fields(s, 88, z, 8)) < 0)
                goto fail;
            s->autoclear = 0;
        }
    }
    if ((ret = qcow2_open_backing(bs, s, flags)) < 0)
        goto fail;
    return 0;
fail:
    if (bs->backing) {
        blk_close(bs->backing);
        bs->backing = NULL;
    }
    qcow2_free_state(s);
    bs->opaque = NULL;
    return ret;
}

static void qcow2_close(BlockDev *bs)
{
    Qcow2State *s = bs->opaque;
    if (!s)
        return;
    if (!s->read_only)
        qcow2_flush_all(s); /* errors here have nowhere to go; writes were flushed by users */
    qcow2_free_state(s);
    bs->opaque = NULL;
}

const BlockDriver blk_qcow2_driver = {
    .name = "qcow2",
    .open = qcow2_open,
    .close = qcow2_close,
    .pread = qcow2_pread,
    .pwrite = qcow2_pwrite,
    .pwrite_zeroes = qcow2_pwrite_zeroes,
    .pwrite_compressed = qcow2_pwrite_compressed,
    .flush = qcow2_flush,
    .discard = qcow2_discard,
    .length = qcow2_length,
    .truncate = qcow2_truncate,
    .block_status = qcow2_block_status,
};
