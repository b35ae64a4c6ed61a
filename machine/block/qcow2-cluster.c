/*
 * qcow2-cluster.c - the guest-to-host mapping: L1 table (in memory) and
 * L2 tables (through the cache), entry decoding, copy-on-write of shared
 * L2 tables and growing the L1 table.
 */
#include "machine/block/qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

Qcow2ClusterType qcow2_entry_type(const Qcow2State *s, uint64_t l2e)
{
    if (l2e & QCOW2_OFLAG_COMPRESSED)
        return QCOW2_CL_COMPRESSED;
    if ((l2e & QCOW2_OFLAG_ZERO) && s->version >= 3)
        return QCOW2_CL_ZERO;
    if (!(l2e & QCOW2_OFFSET_MASK))
        return QCOW2_CL_UNALLOCATED;
    return QCOW2_CL_NORMAL;
}

void qcow2_compressed_range(const Qcow2State *s, uint64_t l2e, uint64_t *off, uint64_t *len)
{
    uint64_t o = l2e & ((1ull << s->csize_shift) - 1);
    uint64_t nsec = (l2e >> s->csize_shift) & ((1ull << (s->cluster_bits - 8)) - 1);
    *off = o;
    *len = (nsec + 1) * 512 - (o & 511);
}

int qcow2_check_host_cluster(Qcow2State *s, uint64_t off, const char *what)
{
    if (qcow2_offset_in_cluster(s, off) || off < s->cluster_size) {
        blk_set_error("%s: %s offset 0x%llx is invalid (inside the header or not cluster "
                      "aligned)", s->bs->filename, what, (unsigned long long)off);
        return -EIO;
    }
    return 0;
}

/* L2 table offset for guest offset `guest` (0 if none), validated. */
static int qcow2_l2_offset(Qcow2State *s, uint64_t guest, uint32_t *l1i, uint64_t *l2off)
{
    uint64_t i = guest >> (s->cluster_bits + s->l2_bits);
    if (i >= s->l1_size) {
        blk_set_error("%s: offset %llu is beyond the L1 table", s->bs->filename,
                      (unsigned long long)guest);
        return -EIO;
    }
    *l1i = (uint32_t)i;
    *l2off = s->l1[i] & QCOW2_OFFSET_MASK;
    if (*l2off && qcow2_offset_in_cluster(s, *l2off)) {
        blk_set_error("%s: L2 table offset 0x%llx (L1 index %llu) is not cluster aligned",
                      s->bs->filename, (unsigned long long)*l2off, (unsigned long long)i);
        return -EIO;
    }
    return 0;
}

int qcow2_get_l2e(Qcow2State *s, uint64_t guest, uint64_t *l2e)
{
    uint32_t l1i;
    uint64_t l2off;
    *l2e = 0;
    int ret = qcow2_l2_offset(s, guest, &l1i, &l2off);
    if (ret < 0 || !l2off)
        return ret;
    uint8_t *t;
    ret = qcow2_cache_get(s, &s->l2_cache, l2off, false, &t);
    if (ret < 0)
        return ret;
    *l2e = blk_be64(t + 8 * ((guest >> s->cluster_bits) & ((1ull << s->l2_bits) - 1)));
    return 0;
}

int qcow2_get_l2_slot(Qcow2State *s, uint64_t guest, uint8_t **table, uint32_t *idx)
{
    uint32_t l1i;
    uint64_t l2off, new_off;
    int ret = qcow2_l2_offset(s, guest, &l1i, &l2off);
    if (ret < 0)
        return ret;
    *idx = (guest >> s->cluster_bits) & ((1ull << s->l2_bits) - 1);
    if (l2off && (s->l1[l1i] & QCOW2_OFLAG_COPIED))
        return qcow2_cache_get(s, &s->l2_cache, l2off, false, table);

    if (l2off) { /* shared with a snapshot: copy it first */
        uint64_t rc;
        if ((ret = qcow2_get_refcount(s, l2off >> s->cluster_bits, &rc)) < 0)
            return ret;
        if (rc == 1) {
            s->l1[l1i] |= QCOW2_OFLAG_COPIED;
            s->l1_dirty = true;
            return qcow2_cache_get(s, &s->l2_cache, l2off, false, table);
        }
        uint8_t *old;
        if ((ret = qcow2_cache_get(s, &s->l2_cache, l2off, false, &old)) < 0)
            return ret;
        memcpy(s->cow_buf, old, s->cluster_size);
    }
    if ((ret = qcow2_alloc_clusters(s, 1, &new_off)) < 0)
        return ret;
    if ((ret = qcow2_cache_get(s, &s->l2_cache, new_off, true, table)) < 0)
        return ret;
    if (l2off) {
        memcpy(*table, s->cow_buf, s->cluster_size);
        if ((ret = qcow2_free_bytes(s, l2off, s->cluster_size)) < 0)
            return ret;
    }
    qcow2_cache_mark_dirty(s, &s->l2_cache, *table);
    s->l1[l1i] = new_off | QCOW2_OFLAG_COPIED;
    s->l1_dirty = true;
    return 0;
}

int qcow2_set_l2e(Qcow2State *s, uint64_t guest, uint64_t l2e)
{
    uint8_t *t;
    uint32_t idx;
    int ret = qcow2_get_l2_slot(s, guest, &t, &idx);
    if (ret < 0)
        return ret;
    blk_put_be64(t + 8 * idx, l2e);
    qcow2_cache_mark_dirty(s, &s->l2_cache, t);
    return 0;
}

int qcow2_grow_l1(Qcow2State *s, uint64_t min_size)
{
    if (min_size <= s->l1_size)
        return 0;
    if (min_size * 8 > QCOW2_MAX_L1_BYTES) {
        blk_set_error("%s: the L1 table would exceed its maximum size", s->bs->filename);
        return -EFBIG;
    }
    uint64_t *nl1 = calloc(min_size, 8);
    if (!nl1) {
        blk_set_error("out of memory");
        return -ENOMEM;
    }
    memcpy(nl1, s->l1, (size_t)s->l1_size * 8);
    /* Everything the new table points to must be on disk before it. */
    int ret = qcow2_flush_all(s);
    uint64_t off = 0, bytes = min_size * 8;
    if (ret == 0)
        ret = qcow2_alloc_clusters(s, qcow2_size_to_clusters(s, bytes), &off);
    if (ret == 0)
        ret = qcow2_flush_refcounts(s);
    uint64_t *be = ret == 0 ? malloc(bytes) : NULL;
    if (ret == 0 && !be) {
        blk_set_error("out of memory");
        ret = -ENOMEM;
    }
    if (ret == 0) {
        for (uint64_t i = 0; i < min_size; i++)
            blk_put_be64(&be[i], nl1[i]);
        ret = blk_pwrite(s->file, off, be, bytes);
        free(be);
    }
    if (ret == 0)
        ret = qcow2_file_sync(s);
    if (ret == 0) {
        uint8_t h[12];
        blk_put_be32(h, (uint32_t)min_size);
        blk_put_be64(h + 4, off);
        ret = qcow2_write_header_fields(s, 36, h, 12);
    }
    if (ret < 0) {
        free(nl1);
        return ret;
    }
    uint64_t old_off = s->l1_offset, old_bytes = (uint64_t)s->l1_size * 8;
    free(s->l1);
    s->l1 = nl1;
    s->l1_size = (uint32_t)min_size;
    s->l1_offset = off;
    if (old_bytes && (ret = qcow2_free_bytes(s, old_off, old_bytes)) < 0)
        return ret;
    return qcow2_flush_all(s);
}

static bool qcow2_ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

int qcow2_check_overlap(Qcow2State *s, uint64_t off, uint64_t len)
{
    const char *what = NULL;
    if (qcow2_ranges_overlap(off, len, 0, s->cluster_size))
        what = "qcow2 header";
    else if (qcow2_ranges_overlap(off, len, s->l1_offset, (uint64_t)s->l1_size * 8))
        what = "active L1 table";
    else if (qcow2_ranges_overlap(off, len, s->rt_offset, (uint64_t)s->rt_clusters << s->cluster_bits))
        what = "refcount table";
    for (int i = 0; !what && i < s->l2_cache.n; i++)
        if (s->l2_cache.offset[i] &&
            qcow2_ranges_overlap(off, len, s->l2_cache.offset[i], s->cluster_size))
            what = "active L2 table";
    for (int i = 0; !what && i < s->rb_cache.n; i++)
        if (s->rb_cache.offset[i] &&
            qcow2_ranges_overlap(off, len, s->rb_cache.offset[i], s->cluster_size))
            what = "refcount block";
    if (!what)
        return 0;
    blk_set_error("%s: preventing invalid write on metadata (guest data at 0x%llx overlaps "
                  "the %s); image marked corrupt, run 'emu-img check -r all'", s->bs->filename,
                  (unsigned long long)off, what);
    if (!s->read_only && s->version >= 3 && !(s->incompat & QCOW2_INCOMPAT_CORRUPT))
        qcow2_update_incompat(s, s->incompat | QCOW2_INCOMPAT_CORRUPT);
    return -EIO;
}
