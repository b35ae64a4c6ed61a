/*
 * qcow2-check.c - consistency check and repair.
 *
 * Walks every structure that references clusters (header, L1/L2 tables of
 * the active image and of snapshots, data and compressed clusters, the
 * snapshot table, the refcount table and blocks), counts the references
 * per host cluster and compares them with the stored refcounts.  Leaks
 * (refcount too high) are harmless and fixed in place; refcounts that are
 * too low mean corruption and are fixed by writing fresh refcount
 * structures at the end of the file and switching the header to them.
 * Messages and exit codes follow qemu-img check.
 */
#include "machine/block/qcow2.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct CheckCtx {
    Qcow2State *s;
    FILE *out;
    uint32_t *ref;      /* references per host cluster, without refcount structures */
    uint32_t *ref_meta; /* references from the refcount table and blocks */
    uint64_t nb;        /* host clusters in the file */
    Qcow2CheckResult *res;
    uint8_t *l2;        /* one L2 table */
    uint64_t last_data; /* for fragmentation */
} CheckCtx;

static void check_msg(CheckCtx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check_msg(CheckCtx *c, const char *fmt, ...)
{
    if (!c->out)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->out, fmt, ap);
    va_end(ap);
}

/* Counts one reference to each cluster of [off, off+len). */
static void check_inc(CheckCtx *c, uint32_t *ref, uint64_t off, uint64_t len, const char *what)
{
    if (!len)
        return;
    uint64_t first = off >> c->s->cluster_bits, last = (off + len - 1) >> c->s->cluster_bits;
    for (uint64_t k = first; k <= last; k++) {
        if (k >= c->nb) {
            check_msg(c, "ERROR %s at offset 0x%" PRIx64 " is beyond the end of the image file\n",
                      what, k << c->s->cluster_bits);
            c->res->corruptions++;
            return;
        }
        if (ref[k] != UINT32_MAX)
            ref[k]++;
    }
}

/* Walks one L1 table (active if `active`), counting L2 tables and data. */
static int check_l1(CheckCtx *c, uint64_t l1_off, uint32_t l1_size, bool active)
{
    Qcow2State *s = c->s;
    if (!l1_size)
        return 0;
    if (qcow2_offset_in_cluster(s, l1_off)) {
        check_msg(c, "ERROR L1 table offset 0x%" PRIx64 " is not cluster aligned\n", l1_off);
        c->res->corruptions++;
        return 0;
    }
    check_inc(c, c->ref, l1_off, (uint64_t)l1_size * 8, "L1 table");
    uint64_t *l1 = active ? NULL : malloc((size_t)l1_size * 8);
    if (!active) {
        if (!l1)
            return -ENOMEM;
        if (blk_pread(s->file, l1_off, l1, (size_t)l1_size * 8) < 0) {
            free(l1);
            c->res->check_errors++;
            return 0;
        }
    }
    uint64_t l2_entries = 1ull << s->l2_bits;
    for (uint32_t i = 0; i < l1_size; i++) {
        uint64_t l1e = active ? s->l1[i] : blk_be64(&l1[i]);
        uint64_t l2off = l1e & QCOW2_OFFSET_MASK;
        if (!l2off)
            continue;
        if (qcow2_offset_in_cluster(s, l2off)) {
            check_msg(c, "ERROR l2_offset=%" PRIx64 ": Table is not cluster aligned; L1 entry "
                      "corrupted\n", l2off);
            c->res->corruptions++;
            continue;
        }
        if ((l2off >> s->cluster_bits) >= c->nb) {
            check_msg(c, "ERROR L2 table at offset 0x%" PRIx64 " (L1 index %u) is beyond the end "
                      "of the image file\n", l2off, i);
            c->res->corruptions++;
            continue;
        }
        check_inc(c, c->ref, l2off, s->cluster_size, "L2 table");
        c->last_data = 0; /* fragmentation is counted within each L2 table */
        if (blk_pread(s->file, l2off, c->l2, s->cluster_size) < 0) {
            c->res->check_errors++;
            continue;
        }
        for (uint64_t j = 0; j < l2_entries; j++) {
            uint64_t e = blk_be64(c->l2 + 8 * j);
            uint64_t guest = ((uint64_t)i << (s->cluster_bits + s->l2_bits)) | (j << s->cluster_bits);
            switch (qcow2_entry_type(s, e)) {
            case QCOW2_CL_COMPRESSED: {
                uint64_t off, len;
                qcow2_compressed_range(s, e, &off, &len);
                check_inc(c, c->ref, off, len, "compressed cluster");
                if (active) { /* compressed clusters count as fragmented, as in qemu-img */
                    c->res->allocated_clusters++;
                    c->res->compressed_clusters++;
                    c->res->fragmented_clusters++;
                    c->last_data = 0;
                }
                break;
            }
            case QCOW2_CL_ZERO:
            case QCOW2_CL_NORMAL: {
                uint64_t off = e & QCOW2_OFFSET_MASK;
                if (!off)
                    break;
                if (qcow2_offset_in_cluster(s, off)) {
                    check_msg(c, "ERROR offset=%" PRIx64 ": Cluster is not properly aligned; L2 "
                              "entry corrupted.\n", off);
                    c->res->corruptions++;
                    break;
                }
                check_inc(c, c->ref, off, s->cluster_size, "data cluster");
                if (active && guest < s->size) {
                    c->res->allocated_clusters++;
                    if (c->last_data && off != c->last_data + s->cluster_size)
                        c->res->fragmented_clusters++;
                    c->last_data = off;
                }
                break;
            }
            default:
                break;
            }
        }
    }
    free(l1);
    return 0;
}

static int check_snapshots(CheckCtx *c)
{
    Qcow2State *s = c->s;
    uint64_t off = s->snapshots_offset, start = off;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        uint8_t h[40];
        if (blk_pread(s->file, off, h, sizeof(h)) < 0) {
            c->res->check_errors++;
            return 0;
        }
        uint64_t l1_off = blk_be64(h);
        uint32_t l1_size = blk_be32(h + 8);
        uint16_t id_len = blk_be16(h + 12), name_len = blk_be16(h + 14);
        uint32_t extra = blk_be32(h + 36);
        if ((uint64_t)l1_size * 8 > QCOW2_MAX_L1_BYTES) {
            check_msg(c, "ERROR snapshot %u has an oversized L1 table (%u entries)\n", i, l1_size);
            c->res->corruptions++;
        } else {
            int ret = check_l1(c, l1_off, l1_size, false);
            if (ret < 0)
                return ret;
        }
        off += (40 + (uint64_t)extra + id_len + name_len + 7) & ~7ull;
        if ((off >> s->cluster_bits) >= c->nb)
            break;
    }
    check_inc(c, c->ref, start, off - start, "snapshot table");
    return 0;
}

/* Writes brand new refcount structures describing c->ref at the end of the file. */
static int check_rebuild(CheckCtx *c)
{
    Qcow2State *s = c->s;
    uint64_t per_rb = 1ull << s->rb_bits, per_rt = s->cluster_size / 8;
    uint64_t start = c->nb > (s->alloc_end >> s->cluster_bits) ? c->nb
                                                               : s->alloc_end >> s->cluster_bits;
    uint64_t nrb = 1, nrt = 1, total;
    for (;;) {
        total = start + nrb + nrt;
        uint64_t nrb2 = (total + per_rb - 1) / per_rb, nrt2 = (nrb2 + per_rt - 1) / per_rt;
        if (nrb2 == nrb && nrt2 == nrt)
            break;
        nrb = nrb2;
        nrt = nrt2;
    }
    if ((nrt << s->cluster_bits) > QCOW2_MAX_RT_BYTES) {
        blk_set_error("refcount table would be too large");
        return -EFBIG;
    }
    uint8_t *rbs = calloc(nrb, s->cluster_size);
    uint64_t *rt = calloc(nrt, s->cluster_size);
    uint64_t *rt_be = calloc(nrt, s->cluster_size);
    int ret = -ENOMEM;
    if (!rbs || !rt || !rt_be) {
        blk_set_error("out of memory");
        goto out;
    }
    for (uint64_t k = 0; k < total; k++) {
        uint64_t v = k < c->nb ? c->ref[k] : k >= start ? 1 : 0;
        if (v > s->refcount_max) {
            blk_set_error("cluster %" PRIu64 " needs refcount %" PRIu64 ", more than %u bits hold",
                          k, v, 1u << s->refcount_order);
            ret = -ERANGE;
            goto out;
        }
        qcow2_rb_set(s, rbs + (k / per_rb) * s->cluster_size, k % per_rb, v);
    }
    for (uint64_t i = 0; i < nrb; i++) {
        rt[i] = (start + i) << s->cluster_bits;
        blk_put_be64(&rt_be[i], rt[i]);
    }
    uint64_t rt_off = (start + nrb) << s->cluster_bits;
    if ((ret = blk_pwrite(s->file, start << s->cluster_bits, rbs, nrb << s->cluster_bits)) < 0 ||
        (ret = blk_pwrite(s->file, rt_off, rt_be, nrt << s->cluster_bits)) < 0 ||
        (ret = qcow2_file_sync(s)) < 0)
        goto out;
    uint8_t h[12];
    blk_put_be64(h, rt_off);
    blk_put_be32(h + 8, (uint32_t)nrt);
    if ((ret = qcow2_write_header_fields(s, 48, h, 12)) < 0)
        goto out;
    /* Switch the in-memory state to the new structures. */
    for (int i = 0; i < s->rb_cache.n; i++)
        qcow2_cache_forget(s, &s->rb_cache, s->rb_cache.offset[i]);
    free(s->rt);
    s->rt = rt;
    rt = NULL;
    s->rt_size = nrt * per_rt;
    s->rt_offset = rt_off;
    s->rt_clusters = (uint32_t)nrt;
    s->rt_dirty = false;
    s->free_hint = 0;
    s->alloc_end = total << s->cluster_bits;
    s->n_pending = 0;
    ret = 0;
out:
    free(rbs);
    free(rt);
    free(rt_be);
    return ret;
}

/* Sets or clears COPIED flags in the active L1/L2 tables to match refcounts. */
static int check_fix_copied(CheckCtx *c, bool fix, int64_t *fixed)
{
    Qcow2State *s = c->s;
    bool l1_changed = false;
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t l2off = s->l1[i] & QCOW2_OFFSET_MASK;
        if (!l2off || qcow2_offset_in_cluster(s, l2off) || (l2off >> s->cluster_bits) >= c->nb)
            continue;
        uint64_t rc;
        int ret = qcow2_get_refcount(s, l2off >> s->cluster_bits, &rc);
        if (ret < 0)
            return ret;
        if ((rc == 1) != !!(s->l1[i] & QCOW2_OFLAG_COPIED)) {
            check_msg(c, "%s OFLAG_COPIED L2 cluster: l1_index=%u l1_entry=%" PRIx64
                      " refcount=%" PRIu64 "\n", fix ? "Repairing" : "ERROR", i, s->l1[i], rc);
            if (fix) {
                s->l1[i] ^= QCOW2_OFLAG_COPIED;
                l1_changed = true;
                (*fixed)++;
            }
            c->res->corruptions++;
        }
        if (blk_pread(s->file, l2off, c->l2, s->cluster_size) < 0)
            continue;
        bool l2_changed = false;
        for (uint64_t j = 0; j < (1ull << s->l2_bits); j++) {
            uint64_t e = blk_be64(c->l2 + 8 * j), off = e & QCOW2_OFFSET_MASK;
            Qcow2ClusterType t = qcow2_entry_type(s, e);
            if ((t != QCOW2_CL_NORMAL && t != QCOW2_CL_ZERO) || !off ||
                qcow2_offset_in_cluster(s, off) || (off >> s->cluster_bits) >= c->nb)
                continue;
            if ((ret = qcow2_get_refcount(s, off >> s->cluster_bits, &rc)) < 0)
                return ret;
            if ((rc == 1) != !!(e & QCOW2_OFLAG_COPIED)) {
                check_msg(c, "%s OFLAG_COPIED data cluster: l2_entry=%" PRIx64 " refcount=%" PRIu64
                          "\n", fix ? "Repairing" : "ERROR", e, rc);
                if (fix) {
                    blk_put_be64(c->l2 + 8 * j, e ^ QCOW2_OFLAG_COPIED);
                    l2_changed = true;
                    (*fixed)++;
                }
                c->res->corruptions++;
            }
        }
        if (l2_changed) {
            qcow2_cache_forget(s, &s->l2_cache, l2off);
            if ((ret = blk_pwrite(s->file, l2off, c->l2, s->cluster_size)) < 0)
                return ret;
        }
    }
    if (l1_changed)
        s->l1_dirty = true;
    return qcow2_flush_all(s);
}

int qcow2_check(BlockDev *bs, int fix, Qcow2CheckResult *res, void *out)
{
    Qcow2State *s = bs->opaque;
    memset(res, 0, sizeof(*res));
    if (s->read_only)
        fix = 0;
    int ret = qcow2_flush_all(s); /* check what is on disk */
    if (ret < 0)
        return ret;
    int64_t flen = blk_length(s->file);
    if (flen < 0)
        return (int)flen;
    CheckCtx c = {.s = s, .out = out, .res = res};
    c.nb = ((uint64_t)flen + s->cluster_size - 1) >> s->cluster_bits;
    c.ref = calloc(c.nb + 1, sizeof(uint32_t));
    c.ref_meta = calloc(c.nb + 1, sizeof(uint32_t));
    c.l2 = malloc(s->cluster_size);
    if (!c.ref || !c.ref_meta || !c.l2) {
        blk_set_error("out of memory");
        ret = -ENOMEM;
        goto out;
    }
    res->total_clusters = (s->size + s->cluster_size - 1) >> s->cluster_bits;

    check_inc(&c, c.ref, 0, s->cluster_size, "header");
    if ((ret = check_l1(&c, s->l1_offset, s->l1_size, true)) < 0 ||
        (s->nb_snapshots && (ret = check_snapshots(&c)) < 0))
        goto out;
    check_inc(&c, c.ref_meta, s->rt_offset, (uint64_t)s->rt_clusters << s->cluster_bits,
              "refcount table");
    for (uint64_t i = 0; i < s->rt_size; i++) {
        uint64_t off = s->rt[i] & QCOW2_REFT_OFFSET_MASK;
        if (!off)
            continue;
        if (qcow2_offset_in_cluster(s, off) || (s->rt[i] & 0x1ff)) {
            check_msg(&c, "ERROR refcount block %" PRIu64 " is not cluster aligned; refcount "
                      "table entry corrupted\n", i);
            res->corruptions++;
            s->rt[i] = 0; /* never follow it; a rebuild replaces the table */
            continue;
        }
        if ((off >> s->cluster_bits) >= c.nb) {
            check_msg(&c, "ERROR refcount block %" PRIu64 " is outside image\n", i);
            res->corruptions++;
            s->rt[i] = 0;
            continue;
        }
        check_inc(&c, c.ref_meta, off, s->cluster_size, "refcount block");
    }

    /* Compare with the stored refcounts. */
    bool need_rebuild = false;
    /* Like qemu-img, refcounts of clusters beyond the end of the file are not
     * compared: the allocator simply reuses them. */
    for (uint64_t k = 0; k < c.nb; k++) {
        uint64_t rc, want = k < c.nb ? (uint64_t)c.ref[k] + c.ref_meta[k] : 0;
        if ((ret = qcow2_get_refcount(s, k, &rc)) < 0) {
            check_msg(&c, "ERROR cannot read the refcount of cluster %" PRIu64 ": %s\n", k,
                      blk_errmsg());
            res->check_errors++;
            need_rebuild = true;
            k |= (1ull << s->rb_bits) - 1;
            continue;
        }
        if (want || rc)
            res->image_end_offset = (k + 1) << s->cluster_bits;
        if (rc == want)
            continue;
        if (rc > want) {
            check_msg(&c, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64 "\n",
                      (fix & QCOW2_FIX_LEAKS) ? "Repairing" : "Leaked", k, rc, want);
            res->leaks++;
            if (fix & QCOW2_FIX_LEAKS) {
                /* 64-bit refcounts: the excess may not fit one signed delta */
                for (uint64_t excess = rc - want; excess;) {
                    int64_t step = excess > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)excess;
                    if ((ret = qcow2_update_refcount(s, k, -step)) < 0)
                        goto out;
                    excess -= (uint64_t)step;
                }
                res->leaks_fixed++;
            }
        } else {
            check_msg(&c, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64 "\n",
                      (fix & QCOW2_FIX_ERRORS) ? "Repairing" : "ERROR", k, rc, want);
            res->corruptions++;
            need_rebuild = true;
        }
    }
    if (fix & QCOW2_FIX_LEAKS) {
        if ((ret = qcow2_flush_all(s)) < 0)
            goto out;
    }
    if (need_rebuild && (fix & QCOW2_FIX_ERRORS)) {
        if ((ret = check_rebuild(&c)) < 0)
            goto out;
        res->corruptions_fixed = res->corruptions;
        res->leaks_fixed = res->leaks;
    }
    int64_t copied_fixed = 0;
    if ((ret = check_fix_copied(&c, (fix & QCOW2_FIX_ERRORS) != 0, &copied_fixed)) < 0)
        goto out;
    res->corruptions_fixed += copied_fixed;
    ret = 0;
out:
    free(c.ref);
    free(c.ref_meta);
    free(c.l2);
    return ret;
}
