/*
 * qcow2-refcount.c - refcounts and cluster allocation.
 *
 * The refcount table (kept whole in memory) points to refcount blocks (in
 * the cache).  Allocation looks for a run of free clusters from a hint;
 * a missing refcount block is placed in the first free cluster it covers,
 * so it describes itself.  When the table is full it is rewritten, larger,
 * at the end of the file and the header switched to it.
 *
 * qcow2_flush_all() writes everything back in the order the format needs
 * for crash safety: refcount increments (and data), table, L2 tables, L1,
 * and only then the refcount decrements of clusters freed meanwhile.
 */
#include "machine/block/qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint64_t qcow2_rb_get(const Qcow2State *s, const uint8_t *rb, uint64_t idx)
{
    switch (s->refcount_order) {
    case 0: return (rb[idx >> 3] >> (idx & 7)) & 1;
    case 1: return (rb[idx >> 2] >> ((idx & 3) * 2)) & 3;
    case 2: return (rb[idx >> 1] >> ((idx & 1) * 4)) & 15;
    case 3: return rb[idx];
    case 4: return blk_be16(rb + idx * 2);
    case 5: return blk_be32(rb + idx * 4);
    default: return blk_be64(rb + idx * 8);
    }
}

void qcow2_rb_set(const Qcow2State *s, uint8_t *rb, uint64_t idx, uint64_t v)
{
    switch (s->refcount_order) {
    case 0: rb[idx >> 3] = (rb[idx >> 3] & ~(1 << (idx & 7))) | (v << (idx & 7)); break;
    case 1: {
        int sh = (idx & 3) * 2;
        rb[idx >> 2] = (rb[idx >> 2] & ~(3 << sh)) | (v << sh);
        break;
    }
    case 2: {
        int sh = (idx & 1) * 4;
        rb[idx >> 1] = (rb[idx >> 1] & ~(15 << sh)) | (v << sh);
        break;
    }
    case 3: rb[idx] = v; break;
    case 4: blk_put_be16(rb + idx * 2, v); break;
    case 5: blk_put_be32(rb + idx * 4, v); break;
    default: blk_put_be64(rb + idx * 8, v); break;
    }
}

int qcow2_refcount_init(Qcow2State *s)
{
    uint64_t bytes = (uint64_t)s->rt_clusters << s->cluster_bits;
    s->rt_size = bytes / 8;
    s->rt = malloc(bytes);
    if (!s->rt) {
        blk_set_error("out of memory for the refcount table");
        return -ENOMEM;
    }
    int ret = blk_pread(s->file, s->rt_offset, s->rt, bytes);
    if (ret < 0)
        return ret;
    for (uint64_t i = 0; i < s->rt_size; i++)
        s->rt[i] = blk_be64(&s->rt[i]);
    int64_t flen = blk_length(s->file);
    if (flen < 0)
        return (int)flen;
    s->alloc_end = ((uint64_t)flen + s->cluster_size - 1) & ~(s->cluster_size - 1);
    return 0;
}

/* The refcount block covering cluster index `bi`, or NULL (*rb) if none. */
static int qcow2_get_rb(Qcow2State *s, uint64_t bi, uint8_t **rb)
{
    *rb = NULL;
    if (bi >= s->rt_size || !s->rt[bi])
        return 0;
    uint64_t off = s->rt[bi] & QCOW2_REFT_OFFSET_MASK;
    if ((s->rt[bi] & 0x1ff) || qcow2_offset_in_cluster(s, off)) {
        blk_set_error("%s: refcount block %llu offset 0x%llx is not cluster aligned",
                      s->bs->filename, (unsigned long long)bi, (unsigned long long)s->rt[bi]);
        return -EIO;
    }
    return qcow2_cache_get(s, &s->rb_cache, off, false, rb);
}

int qcow2_get_refcount(Qcow2State *s, uint64_t cluster, uint64_t *rc)
{
    uint8_t *rb;
    int ret = qcow2_get_rb(s, cluster >> s->rb_bits, &rb);
    *rc = rb ? qcow2_rb_get(s, rb, cluster & ((1ull << s->rb_bits) - 1)) : 0;
    return ret;
}

int qcow2_update_refcount(Qcow2State *s, uint64_t cluster, int64_t delta)
{
    uint8_t *rb;
    int ret = qcow2_get_rb(s, cluster >> s->rb_bits, &rb);
    if (ret < 0)
        return ret;
    if (!rb) {
        blk_set_error("%s: no refcount block for cluster %llu", s->bs->filename,
                      (unsigned long long)cluster);
        return -EIO;
    }
    uint64_t idx = cluster & ((1ull << s->rb_bits) - 1);
    uint64_t old = qcow2_rb_get(s, rb, idx), v = old + delta;
    if ((delta < 0 && old < (uint64_t)-delta) || (delta > 0 && (v < old || v > s->refcount_max))) {
        blk_set_error("%s: refcount of cluster %llu would %s (is %llu)", s->bs->filename,
                      (unsigned long long)cluster, delta < 0 ? "drop below zero" : "overflow",
                      (unsigned long long)old);
        return -EIO;
    }
    qcow2_rb_set(s, rb, idx, v);
    qcow2_cache_mark_dirty(s, &s->rb_cache, rb);
    if (v == 0 && cluster < s->free_hint)
        s->free_hint = cluster;
    return 0;
}

int qcow2_file_sync(Qcow2State *s)
{
    return blk_flush(s->file);
}

static int qcow2_write_rt(Qcow2State *s)
{
    uint64_t bytes = (uint64_t)s->rt_clusters << s->cluster_bits;
    uint64_t *be = malloc(bytes);
    if (!be) {
        blk_set_error("out of memory");
        return -ENOMEM;
    }
    for (uint64_t i = 0; i < s->rt_size; i++)
        blk_put_be64(&be[i], s->rt[i]);
    int ret = blk_pwrite(s->file, s->rt_offset, be, bytes);
    free(be);
    if (ret == 0)
        s->rt_dirty = false;
    return ret;
}

/* Moves the refcount table to the end of the file with room for entry need_bi. */
static int qcow2_grow_rt(Qcow2State *s, uint64_t need_bi)
{
    uint64_t per_cl = s->cluster_size / 8;
    uint64_t size = s->rt_size * 2 > need_bi + 1 ? s->rt_size * 2 : need_bi + 1;
    size = (size + 2 * per_cl - 1) / per_cl * per_cl; /* slack for its own blocks */
    uint64_t n = size / per_cl;
    if ((n << s->cluster_bits) > QCOW2_MAX_RT_BYTES) {
        blk_set_error("%s: the refcount table would exceed its maximum size", s->bs->filename);
        return -EFBIG;
    }
    uint64_t *nrt = calloc(size, 8);
    if (!nrt) {
        blk_set_error("out of memory");
        return -ENOMEM;
    }
    int ret = qcow2_flush_all(s); /* start from a clean state */
    if (ret < 0) {
        free(nrt);
        return ret;
    }
    memcpy(nrt, s->rt, s->rt_size * 8);
    /* The old table stays the one in memory until the header names the new
     * one: on failure everything goes back (at worst some clusters leak). */
    uint64_t *old_rt = s->rt, old_size = s->rt_size;
    uint64_t old_off = s->rt_offset, old_n = s->rt_clusters;
    uint64_t t0 = s->alloc_end >> s->cluster_bits, first_rb = 0;
    s->rt = nrt;
    s->rt_size = size;
    s->rt_offset = t0 << s->cluster_bits;
    s->rt_clusters = n;
    uint64_t next = t0 + n;
    /* The new table's clusters and any new refcount blocks get refcount 1;
     * blocks are added after the table and then counted themselves. */
    for (uint64_t c = t0; c < next && ret == 0; c++) {
        uint64_t bi = c >> s->rb_bits;
        if (bi >= s->rt_size) {
            blk_set_error("%s: refcount table growth overflowed", s->bs->filename);
            ret = -EFBIG;
            break;
        }
        if (!s->rt[bi]) {
            uint8_t *rb;
            uint64_t off = next++ << s->cluster_bits;
            if (!first_rb)
                first_rb = off;
            if ((ret = qcow2_cache_get(s, &s->rb_cache, off, true, &rb)) < 0)
                break;
            qcow2_cache_mark_dirty(s, &s->rb_cache, rb);
            s->rt[bi] = off;
        }
        ret = qcow2_update_refcount(s, c, 1);
    }
    if (ret == 0 && ((ret = qcow2_cache_flush(s, &s->rb_cache)) < 0 ||
                     (ret = qcow2_file_sync(s)) < 0 || (ret = qcow2_write_rt(s)) < 0 ||
                     (ret = qcow2_file_sync(s)) < 0)) {
        /* fall through to the restore below */
    }
    if (ret == 0) {
        uint8_t h[12];
        blk_put_be64(h, s->rt_offset);
        blk_put_be32(h + 8, s->rt_clusters);
        ret = qcow2_write_header_fields(s, 48, h, 12);
    }
    s->alloc_end = next << s->cluster_bits;
    if (ret < 0) {
        for (uint64_t o = first_rb; first_rb && o < (next << s->cluster_bits); o += s->cluster_size)
            qcow2_cache_forget(s, &s->rb_cache, o); /* blocks no table on disk names */
        free(s->rt);
        s->rt = old_rt;
        s->rt_size = old_size;
        s->rt_offset = old_off;
        s->rt_clusters = (uint32_t)old_n;
        s->rt_dirty = false;
        return ret;
    }
    free(old_rt);
    return qcow2_free_bytes(s, old_off, old_n << s->cluster_bits);
}

/* Finds a run of n free clusters at or after the hint; *first_free is the
 * first free cluster seen (for the hint). */
static int qcow2_find_free_run(Qcow2State *s, uint64_t n, uint64_t *start, uint64_t *first_free)
{
    uint64_t c = s->free_hint, run = 0, end_cl = s->alloc_end >> s->cluster_bits;
    *first_free = UINT64_MAX;
    while (run < n) {
        uint64_t rc = 0;
        if (c + run < end_cl) { /* nothing is allocated beyond alloc_end */
            int ret = qcow2_get_refcount(s, c + run, &rc);
            if (ret < 0)
                return ret;
        }
        if (rc == 0) {
            if (*first_free == UINT64_MAX)
                *first_free = c + run;
            run++;
        } else {
            c += run + 1;
            run = 0;
        }
    }
    *start = c;
    return 0;
}

int qcow2_alloc_clusters(Qcow2State *s, uint64_t n, uint64_t *off)
{
    /* The run holds the n clusters and, right after them, the m refcount
     * blocks that clusters of the run (including those blocks) still lack,
     * so runs longer than one block's range stay contiguous. */
    uint64_t m = 0, c, first_free, missing[1024], nm;
    int ret;
again:
    if ((ret = qcow2_find_free_run(s, n + m, &c, &first_free)) < 0)
        return ret;
    nm = 0;
    for (uint64_t bi = c >> s->rb_bits; bi <= (c + n + m - 1) >> s->rb_bits; bi++) {
        if (bi >= s->rt_size) {
            if ((ret = qcow2_grow_rt(s, bi)) < 0)
                return ret;
            goto again;
        }
        if (!s->rt[bi]) {
            if (nm == 1024) {
                blk_set_error("%s: allocation of %llu clusters is too large", s->bs->filename,
                              (unsigned long long)n);
                return -EFBIG;
            }
            missing[nm++] = bi;
        }
    }
    if (nm > m) {
        m = nm;
        goto again;
    }
    for (uint64_t j = 0; j < nm; j++) {
        uint8_t *rb;
        uint64_t boff = (c + n + j) << s->cluster_bits;
        if ((ret = qcow2_cache_get(s, &s->rb_cache, boff, true, &rb)) < 0)
            return ret;
        qcow2_cache_mark_dirty(s, &s->rb_cache, rb);
        s->rt[missing[j]] = boff;
        s->rt_dirty = true;
    }
    for (uint64_t i = 0; i < n + nm; i++)
        if ((ret = qcow2_update_refcount(s, c + i, 1)) < 0)
            return ret;
    s->free_hint = first_free < c ? first_free : c + n + nm;
    if ((c + n + nm) << s->cluster_bits > s->alloc_end)
        s->alloc_end = (c + n + nm) << s->cluster_bits;
    *off = c << s->cluster_bits;
    return 0;
}

int qcow2_free_bytes(Qcow2State *s, uint64_t off, uint64_t len)
{
    if (!len)
        return 0;
    uint64_t first = off >> s->cluster_bits, last = (off + len - 1) >> s->cluster_bits;
    for (uint64_t c = first; c <= last; c++) {
        if (s->n_pending == s->cap_pending) {
            size_t cap = s->cap_pending ? s->cap_pending * 2 : 64;
            uint64_t *p = realloc(s->pending_free, cap * sizeof(*p));
            if (!p) {
                blk_set_error("out of memory");
                return -ENOMEM;
            }
            s->pending_free = p;
            s->cap_pending = cap;
        }
        s->pending_free[s->n_pending++] = c;
    }
    return 0;
}

int qcow2_flush_refcounts(Qcow2State *s)
{
    bool rb_dirty = qcow2_cache_has_dirty(&s->rb_cache);
    if (!rb_dirty && !s->rt_dirty && !s->data_dirty)
        return 0;
    int ret = qcow2_cache_flush(s, &s->rb_cache);
    if (ret < 0)
        return ret;
    if (s->rt_dirty) { /* new blocks before the table entries naming them */
        if ((ret = qcow2_file_sync(s)) < 0 || (ret = qcow2_write_rt(s)) < 0)
            return ret;
    }
    if ((ret = qcow2_file_sync(s)) < 0)
        return ret;
    s->data_dirty = false;
    return 0;
}

static int qcow2_write_l1(Qcow2State *s)
{
    size_t bytes = (size_t)s->l1_size * 8;
    uint64_t *be = malloc(bytes ? bytes : 1);
    if (!be) {
        blk_set_error("out of memory");
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < s->l1_size; i++)
        blk_put_be64(&be[i], s->l1[i]);
    int ret = blk_pwrite(s->file, s->l1_offset, be, bytes);
    free(be);
    if (ret == 0)
        s->l1_dirty = false;
    return ret;
}

int qcow2_flush_all(Qcow2State *s)
{
    if (s->read_only)
        return 0;
    int ret = qcow2_flush_refcounts(s);
    if (ret < 0)
        return ret;
    if (qcow2_cache_has_dirty(&s->l2_cache)) {
        if ((ret = qcow2_cache_flush(s, &s->l2_cache)) < 0 || (ret = qcow2_file_sync(s)) < 0)
            return ret;
    }
    if (s->l1_dirty) {
        if ((ret = qcow2_write_l1(s)) < 0 || (ret = qcow2_file_sync(s)) < 0)
            return ret;
    }
    /* Nothing on disk points to these any more; but while data transfers
     * run unlocked (qcow2.c) one may still target such a cluster, so the
     * frees wait for a flush without any (freeing later only leaks). */
    if (s->n_pending && !s->io_inflight) {
        uint64_t comp_cl = s->comp_next >> s->cluster_bits;
        for (size_t i = 0; i < s->n_pending; i++) {
            uint64_t c = s->pending_free[i], rc;
            if ((ret = qcow2_update_refcount(s, c, -1)) < 0)
                return ret;
            if ((ret = qcow2_get_refcount(s, c, &rc)) < 0)
                return ret;
            if (rc == 0) { /* a freed table must never be written back */
                qcow2_cache_forget(s, &s->l2_cache, c << s->cluster_bits);
                qcow2_cache_forget(s, &s->rb_cache, c << s->cluster_bits);
                if (s->comp_next && c == comp_cl)
                    s->comp_next = 0;
                if (s->decomp_l2e)
                    s->decomp_l2e = 0;
            }
        }
        s->n_pending = 0;
        if ((ret = qcow2_cache_flush(s, &s->rb_cache)) < 0 || (ret = qcow2_file_sync(s)) < 0)
            return ret;
    }
    return 0;
}
