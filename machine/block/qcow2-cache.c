/*
 * qcow2-cache.c - a small write-back cache of cluster-sized tables (L2
 * tables or refcount blocks), kept in on-disk (big-endian) form so that
 * writing back is a plain copy.  Least recently used entries are evicted;
 * evicting a dirty L2 table first puts the refcounts it relies on on disk.
 */
#include "machine/block/qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int qcow2_cache_init(Qcow2State *s, Qcow2Cache *c, int n, bool is_l2)
{
    memset(c, 0, sizeof(*c));
    c->n = n;
    c->is_l2 = is_l2;
    c->offset = calloc(n, sizeof(*c->offset));
    c->lru = calloc(n, sizeof(*c->lru));
    c->dirty = calloc(n, sizeof(*c->dirty));
    c->data = malloc((size_t)n * s->cluster_size);
    if (!c->offset || !c->lru || !c->dirty || !c->data) {
        qcow2_cache_destroy(c);
        blk_set_error("out of memory for the qcow2 table cache");
        return -ENOMEM;
    }
    return 0;
}

void qcow2_cache_destroy(Qcow2Cache *c)
{
    free(c->offset);
    free(c->lru);
    free(c->dirty);
    free(c->data);
    memset(c, 0, sizeof(*c));
}

static int qcow2_cache_write_entry(Qcow2State *s, Qcow2Cache *c, int i)
{
    if (!c->dirty[i])
        return 0;
    if (c->is_l2) { /* the refcounts of what this table points to come first */
        int ret = qcow2_flush_refcounts(s);
        if (ret < 0)
            return ret;
    }
    int ret = blk_pwrite(s->file, c->offset[i], c->data + (size_t)i * s->cluster_size,
                         s->cluster_size);
    if (ret < 0)
        return ret;
    c->dirty[i] = false;
    return 0;
}

int qcow2_cache_get(Qcow2State *s, Qcow2Cache *c, uint64_t off, bool fresh, uint8_t **table)
{
    int i = c->last;
    if (c->offset[i] != off) {
        int victim = -1;
        for (i = 0; i < c->n; i++) {
            if (c->offset[i] == off)
                break;
            if (c->offset[i] == 0) { /* prefer a free slot */
                if (victim < 0 || c->offset[victim] != 0)
                    victim = i;
            } else if (victim < 0 || (c->offset[victim] != 0 && c->lru[i] < c->lru[victim])) {
                victim = i;
            }
        }
        if (i == c->n) { /* miss */
            const char *what = c->is_l2 ? "L2 table" : "refcount block";
            if (off == 0 || (off & (s->cluster_size - 1))) {
                blk_set_error("%s: %s offset 0x%llx is invalid (zero or not cluster aligned)",
                              s->bs->filename, what, (unsigned long long)off);
                return -EIO;
            }
            if (!fresh) {
                int64_t flen = blk_length(s->file);
                if (flen >= 0 && off >= (uint64_t)flen) {
                    blk_set_error("%s: %s at offset 0x%llx is beyond the end of the file "
                                  "(%lld bytes)", s->bs->filename, what,
                                  (unsigned long long)off, (long long)flen);
                    return -EIO;
                }
            }
            i = victim;
            int ret = qcow2_cache_write_entry(s, c, i);
            if (ret < 0)
                return ret;
            c->offset[i] = 0;
            uint8_t *d = c->data + (size_t)i * s->cluster_size;
            if (fresh) {
                memset(d, 0, s->cluster_size);
            } else {
                ret = blk_pread(s->file, off, d, s->cluster_size);
                if (ret < 0)
                    return ret;
            }
            c->offset[i] = off;
        } else if (fresh) {
            memset(c->data + (size_t)i * s->cluster_size, 0, s->cluster_size);
        }
        c->last = i;
    } else if (fresh) {
        memset(c->data + (size_t)i * s->cluster_size, 0, s->cluster_size);
    }
    c->lru[i] = ++c->tick;
    *table = c->data + (size_t)i * s->cluster_size;
    return 0;
}

void qcow2_cache_mark_dirty(Qcow2State *s, Qcow2Cache *c, const uint8_t *table)
{
    size_t i = (size_t)(table - c->data) >> s->cluster_bits;
    c->dirty[i] = true;
}

int qcow2_cache_flush(Qcow2State *s, Qcow2Cache *c)
{
    for (int i = 0; i < c->n; i++) {
        int ret = qcow2_cache_write_entry(s, c, i);
        if (ret < 0)
            return ret;
    }
    return 0;
}

void qcow2_cache_forget(Qcow2State *s, Qcow2Cache *c, uint64_t off)
{
    for (int i = 0; i < c->n; i++)
        if (c->offset[i] == off) {
            c->offset[i] = 0;
            c->dirty[i] = false;
            c->lru[i] = 0;
        }
}

bool qcow2_cache_has_dirty(const Qcow2Cache *c)
{
    for (int i = 0; i < c->n; i++)
        if (c->dirty[i])
            return true;
    return false;
}
