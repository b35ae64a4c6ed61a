/*
 * qcow2-create.c - writing a new, empty qcow2 image: header with feature
 * name table and backing file name, a one-cluster refcount table and one
 * refcount block; the L1 table is then sized by growing the empty image
 * to its virtual size through the driver itself.
 */
#include "machine/block/qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct { uint8_t type, bit; const char *name; } qcow2_features[] = {
    {0, 0, "dirty bit"},          {0, 1, "corrupt bit"},         {0, 2, "external data file"},
    {0, 3, "compression type"},   {0, 4, "extended L2 entries"}, {1, 0, "lazy refcounts"},
    {2, 0, "bitmaps"},            {2, 1, "raw external data"},
};

int qcow2_format(BlockDev *file, const Qcow2CreateOpts *o)
{
    uint64_t cs = o->cluster_size ? o->cluster_size : 65536;
    uint32_t rb = o->refcount_bits ? o->refcount_bits : 16;
    int compat = o->compat ? o->compat : 3;
    int ret = -EINVAL;
    uint8_t *buf = NULL;
    if (cs < 512 || cs > (2u << 20) || (cs & (cs - 1))) {
        blk_set_error("Cluster size must be a power of two between 512 and 2048k");
        goto out;
    }
    if (rb > 64 || (rb & (rb - 1)) || !rb) {
        blk_set_error("Refcount width must be a power of two and may not exceed 64 bits");
        goto out;
    }
    if (compat == 2 && (rb != 16 || o->lazy_refcounts || o->compression_type)) {
        blk_set_error("compat=0.10 supports neither refcount_bits other than 16, lazy refcounts "
                      "nor zstd compression");
        goto out;
    }
    size_t blen = o->backing_file ? strlen(o->backing_file) : 0;
    size_t flen = o->backing_fmt ? strlen(o->backing_fmt) : 0;
    if (blen > QCOW2_MAX_BACKING_NAME || flen >= 32) {
        blk_set_error("backing file name or format too long");
        goto out;
    }
    uint32_t cbits = __builtin_ctzll(cs);
    buf = calloc(3, cs);
    if (!buf) {
        blk_set_error("out of memory");
        ret = -ENOMEM;
        goto out;
    }
    uint8_t *h = buf;
    blk_put_be32(h, QCOW2_MAGIC);
    blk_put_be32(h + 4, compat);
    blk_put_be32(h + 20, cbits);
    blk_put_be64(h + 48, cs);  /* refcount table in cluster 1 */
    blk_put_be32(h + 56, 1);
    size_t p = QCOW2_V2_HEADER_LEN;
    if (compat == 3) {
        blk_put_be64(h + 72, o->compression_type ? QCOW2_INCOMPAT_COMPRESSION : 0);
        blk_put_be64(h + 80, o->lazy_refcounts ? QCOW2_COMPAT_LAZY_REFCOUNTS : 0);
        blk_put_be32(h + 96, __builtin_ctz(rb));
        blk_put_be32(h + 100, 112);
        h[104] = o->compression_type;
        p = 112;
    }
    size_t need = p + (flen ? 8 + 32 : 0) + 8 + 48 * 8 + 8 + blen;
    bool table = need <= cs; /* the feature name table is optional: dropped if it won't fit */
    if (!table)
        need -= 8 + 48 * 8;
    if (need > cs) {
        blk_set_error("header does not fit in one %llu-byte cluster", (unsigned long long)cs);
        goto out;
    }
    if (flen) {
        blk_put_be32(h + p, QCOW2_EXT_BACKING_FMT);
        blk_put_be32(h + p + 4, (uint32_t)flen);
        memcpy(h + p + 8, o->backing_fmt, flen);
        p += 8 + ((flen + 7) & ~7u);
    }
    if (table) {
        blk_put_be32(h + p, QCOW2_EXT_FEATURE_TABLE);
        blk_put_be32(h + p + 4, 48 * 8);
        p += 8;
    }
    for (size_t i = 0; table && i < 8; i++, p += 48) {
        h[p] = qcow2_features[i].type;
        h[p + 1] = qcow2_features[i].bit;
        memcpy(h + p + 2, qcow2_features[i].name, strlen(qcow2_features[i].name));
    }
    p += 8; /* end of extensions */
    if (blen) {
        blk_put_be64(h + 8, p);
        blk_put_be32(h + 16, (uint32_t)blen);
        memcpy(h + p, o->backing_file, blen);
    }
    blk_put_be64(buf + cs, 2 * cs); /* refcount block in cluster 2 */
    Qcow2State tmp = {.refcount_order = __builtin_ctz(rb)};
    for (int i = 0; i < 3; i++)
        qcow2_rb_set(&tmp, buf + 2 * cs, i, 1);
    file->growable = true;
    if ((ret = blk_truncate(file, 0, true)) < 0 || (ret = blk_pwrite(file, 0, buf, 3 * cs)) < 0 ||
        (ret = blk_flush(file)) < 0)
        goto out;
    free(buf);
    buf = NULL;

    BlockDev *bs;
    ret = blk_open_on(file, "qcow2", BLK_O_RDWR | BLK_O_NO_BACKING, file->filename, &bs);
    if (ret < 0)
        goto out;
    ret = blk_truncate(bs, o->size, false);
    if (ret == 0)
        ret = blk_flush(bs);
    bs->file = NULL; /* hand the protocol layer back to the caller */
    blk_close(bs);
out:
    free(buf);
    return ret;
}
