/*
 * qcow2-header.c - the qcow2 header: parsing and validating it (every field
 * an attacker controls is checked before use, with an error that names the
 * problem), updating single fields in place, and opening the backing chain.
 */
#define _GNU_SOURCE
#include "machine/block/qcow2.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *qcow2_feature_name(Qcow2State *s, int type, int bit)
{
    return s->feature_names[type][bit];
}

/* Do [a, a+alen) and [b, b+blen) overlap? */
static bool qcow2_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

static int qcow2_parse_extensions(Qcow2State *s, const uint8_t *hdr, uint64_t hlen)
{
    BlockDev *bs = s->bs;
    uint64_t off = s->version >= 3 ? s->header_length : QCOW2_V2_HEADER_LEN;
    uint64_t end = hlen;
    if (s->backing_offset && s->backing_offset < end)
        end = s->backing_offset; /* extensions stop where the name starts */
    while (off + 8 <= end) {
        uint32_t type = blk_be32(hdr + off), len = blk_be32(hdr + off + 4);
        off += 8;
        if (type == QCOW2_EXT_END)
            return 0;
        if (len > end - off) {
            blk_set_error("%s: header extension 0x%08x (length %u) runs past the end of the "
                          "header cluster", bs->filename, type, len);
            return -EINVAL;
        }
        const uint8_t *p = hdr + off;
        switch (type) {
        case QCOW2_EXT_BACKING_FMT:
            if (len >= sizeof(bs->backing_fmt)) {
                blk_set_error("%s: backing file format name too long (%u bytes)",
                              bs->filename, len);
                return -EINVAL;
            }
            memcpy(bs->backing_fmt, p, len);
            bs->backing_fmt[len] = 0;
            break;
        case QCOW2_EXT_FEATURE_TABLE:
            for (uint32_t i = 0; i + 48 <= len; i += 48) {
                uint8_t t = p[i], bit = p[i + 1];
                if (t < 3 && bit < 64) {
                    memcpy(s->feature_names[t][bit], p + i + 2, 46);
                    s->feature_names[t][bit][46] = 0;
                }
            }
            break;
        case QCOW2_EXT_CRYPTO:
            blk_set_error("%s: encrypted images are not supported", bs->filename);
            return -ENOTSUP;
        case QCOW2_EXT_DATA_FILE:
            blk_set_error("%s: images with an external data file are not supported",
                          bs->filename);
            return -ENOTSUP;
        default: /* bitmaps and unknown extensions: ignored, kept as they are */
            break;
        }
        off += (len + 7) & ~7ull;
    }
    return 0;
}

int qcow2_read_header(Qcow2State *s, bool check_only)
{
    BlockDev *bs = s->bs;
    int64_t flen = blk_length(s->file);
    if (flen < 0)
        return (int)flen;
    uint8_t h[QCOW2_V3_HEADER_LEN + 8];
    memset(h, 0, sizeof(h));
    if (flen < QCOW2_V2_HEADER_LEN) {
        blk_set_error("%s: image is truncated: the qcow2 header needs %d bytes, the file has "
                      "%lld", bs->filename, QCOW2_V2_HEADER_LEN, (long long)flen);
        return -EINVAL;
    }
    int ret = blk_pread(s->file, 0, h, flen < (int64_t)sizeof(h) ? (size_t)flen : sizeof(h));
    if (ret < 0)
        return ret;
    if (blk_be32(h) != QCOW2_MAGIC) {
        blk_set_error("%s: not a qcow2 image (bad magic)", bs->filename);
        return -EINVAL;
    }
    s->version = blk_be32(h + 4);
    if (s->version != 2 && s->version != 3) {
        blk_set_error("%s: unsupported qcow2 version %u", bs->filename, s->version);
        return -ENOTSUP;
    }
    s->backing_offset = blk_be64(h + 8);
    s->backing_size = blk_be32(h + 16);
    s->cluster_bits = blk_be32(h + 20);
    s->size = blk_be64(h + 24);
    uint32_t crypt = blk_be32(h + 32);
    s->l1_size = blk_be32(h + 36);
    s->l1_offset = blk_be64(h + 40);
    s->rt_offset = blk_be64(h + 48);
    s->rt_clusters = blk_be32(h + 56);
    s->nb_snapshots = blk_be32(h + 60);
    s->snapshots_offset = blk_be64(h + 64);
    if (s->version == 2) {
        s->refcount_order = 4;
        s->header_length = QCOW2_V2_HEADER_LEN;
    } else {
        if (flen < QCOW2_V3_HEADER_LEN) {
            blk_set_error("%s: image is truncated: the qcow2 v3 header needs %d bytes, the "
                          "file has %lld", bs->filename, QCOW2_V3_HEADER_LEN, (long long)flen);
            return -EINVAL;
        }
        s->incompat = blk_be64(h + 72);
        s->compat = blk_be64(h + 80);
        s->autoclear = blk_be64(h + 88);
        s->refcount_order = blk_be32(h + 96);
        s->header_length = blk_be32(h + 100);
        if (s->header_length < QCOW2_V3_HEADER_LEN || (s->header_length & 7)) {
            blk_set_error("%s: invalid header length %u (must be >= 104 and a multiple of 8)",
                          bs->filename, s->header_length);
            return -EINVAL;
        }
    }
    if (s->cluster_bits < QCOW2_MIN_CLUSTER_BITS || s->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
        blk_set_error("%s: unsupported cluster size: cluster_bits %u is out of range "
                      "(%d..%d, 512 B to 2 MiB)", bs->filename, s->cluster_bits,
                      QCOW2_MIN_CLUSTER_BITS, QCOW2_MAX_CLUSTER_BITS);
        return -EINVAL;
    }
    s->cluster_size = 1ull << s->cluster_bits;
    if (s->header_length > s->cluster_size) {
        blk_set_error("%s: header length %u is larger than a cluster", bs->filename,
                      s->header_length);
        return -EINVAL;
    }
    if ((uint64_t)flen < s->header_length) {
        blk_set_error("%s: image is truncated: header length is %u, the file has %lld bytes",
                      bs->filename, s->header_length, (long long)flen);
        return -EINVAL;
    }
    if (s->refcount_order > 6) {
        blk_set_error("%s: refcount order %u is out of range (0..6)", bs->filename,
                      s->refcount_order);
        return -EINVAL;
    }
    if (crypt != 0) {
        blk_set_error("%s: encrypted images are not supported (crypt_method %u)",
                      bs->filename, crypt);
        return -ENOTSUP;
    }
    s->compression_type = QCOW2_COMP_ZLIB;
    if (s->header_length > QCOW2_V3_HEADER_LEN)
        s->compression_type = h[104];

    /* The whole first cluster holds the extensions and the backing name. */
    uint64_t hlen = s->cluster_size < (uint64_t)flen ? s->cluster_size : (uint64_t)flen;
    uint8_t *hdr = calloc(1, s->cluster_size);
    if (!hdr) {
        blk_set_error("out of memory");
        return -ENOMEM;
    }
    ret = blk_pread(s->file, 0, hdr, hlen);
    if (ret < 0)
        goto out;
    if (s->backing_offset) {
        if (s->backing_size > QCOW2_MAX_BACKING_NAME || s->backing_offset > hlen ||
            s->backing_size > hlen - s->backing_offset) {
            blk_set_error("%s: backing file name (offset %llu, length %u) is not inside the "
                          "header cluster or is too long", bs->filename,
                          (unsigned long long)s->backing_offset, s->backing_size);
            ret = -EINVAL;
            goto out;
        }
        memcpy(bs->backing_file, hdr + s->backing_offset, s->backing_size);
        bs->backing_file[s->backing_size] = 0;
        if (strlen(bs->backing_file) != s->backing_size) {
            blk_set_error("%s: backing file name contains a NUL byte", bs->filename);
            ret = -EINVAL;
            goto out;
        }
    }
    ret = qcow2_parse_extensions(s, hdr, hlen);
    if (ret < 0)
        goto out;

    /* Feature bits. */
    uint64_t unknown = s->incompat & ~QCOW2_INCOMPAT_KNOWN;
    if (unknown) {
        int bit = __builtin_ctzll(unknown);
        const char *name = s->feature_names[0][bit];
        blk_set_error("%s: unsupported incompatible feature bit %d%s%s%s", bs->filename, bit,
                      name[0] ? " (" : "", name, name[0] ? ")" : "");
        ret = -ENOTSUP;
        goto out;
    }
    if (s->incompat & QCOW2_INCOMPAT_DATA_FILE) {
        blk_set_error("%s: images with an external data file are not supported", bs->filename);
        ret = -ENOTSUP;
        goto out;
    }
    if (s->incompat & QCOW2_INCOMPAT_EXTL2) {
        blk_set_error("%s: images with extended L2 entries (subclusters) are not supported",
                      bs->filename);
        ret = -ENOTSUP;
        goto out;
    }
    if (s->incompat & QCOW2_INCOMPAT_COMPRESSION) {
        if (s->header_length <= QCOW2_V3_HEADER_LEN || s->compression_type == QCOW2_COMP_ZLIB) {
            blk_set_error("%s: compression type bit set but no compression type field",
                          bs->filename);
            ret = -EINVAL;
            goto out;
        }
    } else if (s->compression_type != QCOW2_COMP_ZLIB) {
        blk_set_error("%s: compression type %u without the compression type feature bit",
                      bs->filename, s->compression_type);
        ret = -EINVAL;
        goto out;
    }
    if (s->compression_type > QCOW2_COMP_ZSTD) {
        blk_set_error("%s: unknown compression type %u", bs->filename, s->compression_type);
        ret = -ENOTSUP;
        goto out;
    }
    if ((s->incompat & QCOW2_INCOMPAT_CORRUPT) && !s->read_only && !check_only) {
        blk_set_error("%s: image is corrupt; cannot be opened read/write (run 'emu-img check "
                      "-r all')", bs->filename);
        ret = -EACCES;
        goto out;
    }

    /* Geometry. */
    s->l2_bits = s->cluster_bits - 3;
    s->rb_bits = s->cluster_bits + 3 - s->refcount_order;
    s->refcount_max = s->refcount_order == 6 ? UINT64_MAX : (1ull << (1u << s->refcount_order)) - 1;
    s->csize_shift = 62 - (s->cluster_bits - 8);
    if (s->size > (1ull << 61)) {
        blk_set_error("%s: virtual size %llu is too large", bs->filename,
                      (unsigned long long)s->size);
        ret = -EINVAL;
        goto out;
    }
    uint64_t l2_span = 1ull << (s->cluster_bits + s->l2_bits);
    uint64_t need_l1 = (s->size + l2_span - 1) / l2_span;
    if ((uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES) {
        blk_set_error("%s: L1 table is too large (%u entries)", bs->filename, s->l1_size);
        ret = -EFBIG;
        goto out;
    }
    if (s->l1_size < need_l1) {
        blk_set_error("%s: L1 table is too small (%u entries) for the virtual size %llu",
                      bs->filename, s->l1_size, (unsigned long long)s->size);
        ret = -EINVAL;
        goto out;
    }
    uint64_t l1_bytes = (uint64_t)s->l1_size * 8;
    if (s->l1_size && (qcow2_offset_in_cluster(s, s->l1_offset) || s->l1_offset == 0)) {
        blk_set_error("%s: L1 table offset 0x%llx is invalid (zero or not cluster aligned)",
                      bs->filename, (unsigned long long)s->l1_offset);
        ret = -EINVAL;
        goto out;
    }
    if (s->l1_size && (s->l1_offset > (uint64_t)flen || l1_bytes > (uint64_t)flen - s->l1_offset)) {
        blk_set_error("%s: L1 table (offset 0x%llx, %u entries) is beyond the end of the file "
                      "(%lld bytes)", bs->filename, (unsigned long long)s->l1_offset,
                      s->l1_size, (long long)flen);
        ret = -EINVAL;
        goto out;
    }
    uint64_t rt_bytes = (uint64_t)s->rt_clusters << s->cluster_bits;
    if (s->rt_clusters == 0 || rt_bytes > QCOW2_MAX_RT_BYTES) {
        blk_set_error("%s: refcount table size (%u clusters) is out of range", bs->filename,
                      s->rt_clusters);
        ret = -EINVAL;
        goto out;
    }
    if (qcow2_offset_in_cluster(s, s->rt_offset) || s->rt_offset == 0) {
        blk_set_error("%s: refcount table offset 0x%llx is invalid (zero or not cluster "
                      "aligned)", bs->filename, (unsigned long long)s->rt_offset);
        ret = -EINVAL;
        goto out;
    }
    if (s->rt_offset >= (uint64_t)flen) { /* a short tail of the table reads as zeros */
        blk_set_error("%s: refcount table (offset 0x%llx, %u clusters) is beyond the end "
                      "of the file (%lld bytes)", bs->filename,
                      (unsigned long long)s->rt_offset, s->rt_clusters, (long long)flen);
        ret = -EINVAL;
        goto out;
    }
    if (qcow2_overlap(s->l1_offset, l1_bytes, 0, s->cluster_size) ||
        qcow2_overlap(s->rt_offset, rt_bytes, 0, s->cluster_size)) {
        blk_set_error("%s: metadata overlaps the header cluster (L1 at 0x%llx, refcount table "
                      "at 0x%llx)", bs->filename, (unsigned long long)s->l1_offset,
                      (unsigned long long)s->rt_offset);
        ret = -EINVAL;
        goto out;
    }
    if (qcow2_overlap(s->l1_offset, l1_bytes, s->rt_offset, rt_bytes)) {
        blk_set_error("%s: L1 table (0x%llx, %llu bytes) overlaps the refcount table "
                      "(0x%llx, %llu bytes)", bs->filename, (unsigned long long)s->l1_offset,
                      (unsigned long long)l1_bytes, (unsigned long long)s->rt_offset,
                      (unsigned long long)rt_bytes);
        ret = -EINVAL;
        goto out;
    }
    if (s->nb_snapshots > QCOW2_MAX_SNAPSHOTS ||
        (s->nb_snapshots && (qcow2_offset_in_cluster(s, s->snapshots_offset) ||
                             s->snapshots_offset >= (uint64_t)flen))) {
        blk_set_error("%s: snapshot table (%u snapshots at 0x%llx) is invalid", bs->filename,
                      s->nb_snapshots, (unsigned long long)s->snapshots_offset);
        ret = -EINVAL;
        goto out;
    }
    ret = 0;
out:
    free(hdr);
    return ret;
}

int qcow2_write_header_fields(Qcow2State *s, uint64_t off, const void *val, size_t len)
{
    int ret = blk_pwrite(s->file, off, val, len);
    if (ret == 0)
        ret = blk_flush(s->file);
    return ret;
}

int qcow2_update_incompat(Qcow2State *s, uint64_t incompat)
{
    if (s->version < 3)
        return 0;
    uint8_t b[8];
    blk_put_be64(b, incompat);
    int ret = qcow2_write_header_fields(s, 72, b, 8);
    if (ret == 0)
        s->incompat = incompat;
    return ret;
}

/* Realpaths of the images being opened on this thread: detects loops. */
static __thread char *qcow2_chain[QCOW2_MAX_CHAIN];
static __thread int qcow2_chain_len;

int qcow2_open_backing(BlockDev *bs, Qcow2State *s, int flags)
{
    if (!bs->backing_file[0] || (flags & BLK_O_NO_BACKING))
        return 0;
    char path[PATH_MAX + 1024];
    if (bs->backing_file[0] == '/' || !strchr(bs->filename, '/')) {
        snprintf(path, sizeof(path), "%s", bs->backing_file);
    } else { /* relative names are relative to the image's directory */
        const char *slash = strrchr(bs->filename, '/');
        snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - bs->filename), bs->filename,
                 bs->backing_file);
    }
    char *me = realpath(bs->filename, NULL);
    char *it = realpath(path, NULL);
    if (!it) {
        blk_set_error("Could not open backing file '%s' of '%s': %s", path, bs->filename,
                      strerror(errno));
        free(me);
        return -ENOENT;
    }
    int ret = 0;
    if (me && !strcmp(me, it)) {
        blk_set_error("Backing file loop: '%s' is its own backing file", bs->filename);
        ret = -ELOOP;
    }
    for (int i = 0; i < qcow2_chain_len && ret == 0; i++)
        if (!strcmp(qcow2_chain[i], it)) {
            blk_set_error("Backing file loop: '%s' (backing file of '%s') is already in the "
                          "chain", path, bs->filename);
            ret = -ELOOP;
        }
    if (ret == 0 && qcow2_chain_len >= QCOW2_MAX_CHAIN) {
        blk_set_error("Backing chain of '%s' is too long (more than %d images)", bs->filename,
                      QCOW2_MAX_CHAIN);
        ret = -ELOOP;
    }
    if (ret < 0) {
        free(me);
        free(it);
        return ret;
    }
    int pushed = 0;
    if (me && qcow2_chain_len == 0)
        qcow2_chain[qcow2_chain_len++] = me, me = NULL, pushed++;
    qcow2_chain[qcow2_chain_len++] = it;
    pushed++;
    const char *fmt = bs->backing_fmt[0] ? bs->backing_fmt : NULL;
    ret = blk_open(path, fmt, BLK_O_RDONLY, &bs->backing);
    while (pushed--)
        free(qcow2_chain[--qcow2_chain_len]);
    free(me);
    (void)s;
    return ret;
}
