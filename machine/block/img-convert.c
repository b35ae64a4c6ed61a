/*
 * img-convert.c - emu-img convert and emu-img compare.
 *
 * Both walk the source through blk_block_status_above(): ranges that read
 * as zeros through the whole backing chain are skipped without reading,
 * and zero-filled clusters among the data are not written, so sparse
 * images stay sparse.  Convert to raw copies regions on several threads.
 */
#define _GNU_SOURCE
#include "machine/block/img.h"
#include "machine/block/block.h"
#include "machine/block/qcow2.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IMG_CHUNK (2u << 20)

static bool img_is_zero(const uint8_t *p, size_t n)
{
    static const uint8_t z[4096];
    while (n >= sizeof(z)) {
        if (memcmp(p, z, sizeof(z)))
            return false;
        p += sizeof(z);
        n -= sizeof(z);
    }
    return memcmp(p, z, n) == 0;
}

static void img_progress(bool on, uint64_t done, uint64_t total, FILE *out)
{
    if (!on)
        return;
    fprintf(out, "    (%.2f/100%%)\r", total ? done * 100.0 / total : 100.0);
    fflush(out);
}

/* One convert: the source is cut into chunk-sized regions that worker
 * threads take in turn (see img_convert). */
typedef struct ConvertJob {
    const ImgConvertOpts *o;
    BlockDev *src, *dst;
    uint64_t size, unit, chunk;
    bool progress;
    FILE *out;
    pthread_mutex_t lock; /* guards everything below */
    uint64_t next_region, done;
    int rc;
} ConvertJob;

/* Copies [off, end) of the source; 0 on success, 1 after an error message. */
static int convert_range(ConvertJob *j, uint8_t *buf, uint64_t off, uint64_t end)
{
    const ImgConvertOpts *o = j->o;
    uint64_t unit = j->unit, size = j->size;
    while (off < end) {
        uint64_t pnum, map;
        int depth;
        BlockDev *layer;
        uint64_t want = end - off < j->chunk ? end - off : j->chunk;
        want -= (off + want) % unit && off + want != size ? (off + want) % unit : 0;
        int st = blk_block_status_above(j->src, off, want, &pnum, &map, &depth, &layer);
        if (st < 0) {
            img_error("error while reading block status at offset %" PRIu64 ": %s", off,
                      blk_errmsg());
            return 1;
        }
        if ((st & BLK_S_ZERO) && !(st & BLK_S_DATA)) {
            off += pnum;
            continue;
        }
        /* Data: whole units at a time so that zero units can be skipped. */
        uint64_t n = pnum;
        if (n < unit && off + unit <= size)
            n = unit - off % unit;
        if (blk_pread(j->src, off, buf, n) < 0) {
            img_error("error while reading at offset %" PRIu64 ": %s", off, blk_errmsg());
            return 1;
        }
        for (uint64_t p = 0; p < n;) {
            uint64_t u = unit - (off + p) % unit;
            if (u > n - p)
                u = n - p;
            if (img_is_zero(buf + p, u)) {
                p += u;
                continue;
            }
            int ret;
            if (o->compress && u == unit) {
                ret = blk_pwrite_compressed(j->dst, off + p, buf + p, u);
            } else if (o->compress && (off + p) % unit == 0 && off + p + u == size) {
                ret = blk_pwrite_compressed(j->dst, off + p, buf + p, u);
            } else {
                uint64_t q = p + u; /* merge following non-zero units into one write */
                while (!o->compress && q < n) {
                    uint64_t u2 = n - q < unit ? n - q : unit;
                    if (img_is_zero(buf + q, u2))
                        break;
                    q += u2;
                }
                u = q - p;
                ret = blk_pwrite(j->dst, off + p, buf + p, u);
            }
            if (ret < 0) {
                img_error("error while writing at offset %" PRIu64 ": %s", off + p, blk_errmsg());
                return 1;
            }
            p += u;
        }
        off += n;
    }
    return 0;
}

static void *convert_worker(void *arg)
{
    ConvertJob *j = arg;
    uint8_t *buf = malloc(j->chunk);
    pthread_mutex_lock(&j->lock);
    if (!buf && !j->rc) {
        img_error("out of memory");
        j->rc = 1;
    }
    while (!j->rc && j->next_region * j->chunk < j->size) {
        uint64_t off = j->next_region++ * j->chunk;
        uint64_t end = j->size - off < j->chunk ? j->size : off + j->chunk;
        pthread_mutex_unlock(&j->lock);
        int rc = convert_range(j, buf, off, end);
        pthread_mutex_lock(&j->lock);
        if (rc)
            j->rc = rc;
        j->done += end - off;
        img_progress(j->progress, j->done, j->size, j->out);
    }
    pthread_mutex_unlock(&j->lock);
    free(buf);
    return NULL;
}

int img_convert(const ImgConvertOpts *o, FILE *out)
{
    const char *dfmt = o->dst_fmt ? o->dst_fmt : "raw";
    if (o->compress && strcmp(dfmt, "qcow2")) {
        img_error("Compression not supported for this file format");
        return 1;
    }
    BlockDev *src, *dst;
    if (blk_open(o->src, o->src_fmt, BLK_O_RDONLY, &src) < 0) {
        img_error("Could not open '%s': %s", o->src, blk_errmsg());
        return 1;
    }
    int64_t size = blk_length(src);
    ImgCreateOpts co = {.fmt = dfmt, .filename = o->dst, .size = size, .options = o->options,
                        .quiet = true};
    if (size < 0 || img_create(&co, out) != 0) {
        blk_close(src);
        return 1;
    }
    bool unsafe = !o->cache || !strcmp(o->cache, "unsafe");
    if (blk_open(o->dst, dfmt, BLK_O_RDWR | (unsafe ? BLK_O_NO_FLUSH : 0), &dst) < 0) {
        img_error("Could not open '%s': %s", o->dst, blk_errmsg());
        blk_close(src);
        return 1;
    }
    uint64_t unit = 65536;
    bool qcow2_dst = !strcmp(dfmt, "qcow2");
    if (qcow2_dst)
        unit = ((Qcow2State *)dst->opaque)->cluster_size;
    ConvertJob j = {.o = o, .src = src, .dst = dst, .size = (uint64_t)size, .unit = unit,
                    .chunk = unit > IMG_CHUNK ? unit : IMG_CHUNK,
                    .progress = o->progress && !o->quiet && isatty(fileno(out)), .out = out};
    pthread_mutex_init(&j.lock, NULL);
    /* A raw target is written by several threads (regions in any order);
     * a qcow2 target in order by one, so that its clusters are laid out
     * in guest order like qemu-img convert does without -W. */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int nthreads = qcow2_dst || cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
    pthread_t tids[8];
    int started = 0;
    img_progress(j.progress, 0, size, out);
    for (; started < nthreads - 1; started++)
        if (pthread_create(&tids[started], NULL, convert_worker, &j) != 0)
            break; /* fewer threads: still correct */
    convert_worker(&j);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&j.lock);
    int rc = j.rc;
    if (!rc && blk_flush(dst) < 0) {
        img_error("error while flushing '%s': %s", o->dst, blk_errmsg());
        rc = 1;
    }
    if (j.progress && !rc)
        fprintf(out, "    (100.00/100%%)\n");
    blk_close(dst);
    blk_close(src);
    return rc;
}

/* Offset of the first differing 512-byte sector of a and b (n bytes), or -1. */
static int64_t img_first_diff(const uint8_t *a, const uint8_t *b, uint64_t n)
{
    if (!memcmp(a, b, n))
        return -1;
    for (uint64_t i = 0; i < n; i += 512) {
        uint64_t m = n - i < 512 ? n - i : 512;
        if (memcmp(a + i, b + i, m))
            return (int64_t)i;
    }
    return -1;
}

int img_compare(const char *fa, const char *fb, const char *fmt_a, const char *fmt_b, bool strict,
                bool quiet, FILE *out)
{
    BlockDev *a, *b;
    if (blk_open(fa, fmt_a, BLK_O_RDONLY, &a) < 0) {
        img_error("Could not open '%s': %s", fa, blk_errmsg());
        return 2;
    }
    if (blk_open(fb, fmt_b, BLK_O_RDONLY, &b) < 0) {
        img_error("Could not open '%s': %s", fb, blk_errmsg());
        blk_close(a);
        return 2;
    }
    int64_t la = blk_length(a), lb = blk_length(b);
    uint8_t *ba = malloc(IMG_CHUNK), *bb = malloc(IMG_CHUNK);
    int rc = 0;
    if (!ba || !bb || la < 0 || lb < 0) {
        img_error("out of memory or cannot get image sizes");
        rc = 2;
        goto out;
    }
    if (la != lb) {
        if (strict) {
            if (!quiet)
                fprintf(out, "Strict mode: Image size mismatch!\n");
            rc = 1;
            goto out;
        }
    }
    uint64_t common = (uint64_t)(la < lb ? la : lb), longest = (uint64_t)(la < lb ? lb : la);
    for (uint64_t off = 0; off < longest;) {
        BlockDev *one = off < common ? NULL : (la > lb ? a : b);
        if (off == common && !quiet) /* the common part matched; now the rest */
            fprintf(out, "Warning: Image size mismatch!\n");
        uint64_t want = longest - off < IMG_CHUNK ? longest - off : IMG_CHUNK;
        if (!one && want > common - off)
            want = common - off;
        uint64_t pa, pb, map;
        int depth, sa, sb;
        BlockDev *layer;
        sa = blk_block_status_above(one ? one : a, off, want, &pa, &map, &depth, &layer);
        sb = one ? sa : blk_block_status_above(b, off, want, &pb, &map, &depth, &layer);
        if (one)
            pb = pa;
        if (sa < 0 || sb < 0) {
            img_error("error while reading block status at offset %" PRIu64 ": %s", off,
                      blk_errmsg());
            rc = 2;
            goto out;
        }
        uint64_t n = pa < pb ? pa : pb;
        bool za = (sa & BLK_S_ZERO) && !(sa & BLK_S_DATA), zb = (sb & BLK_S_ZERO) && !(sb & BLK_S_DATA);
        if (za && zb) {
            off += n;
            continue;
        }
        if (blk_pread(one ? one : a, off, ba, n) < 0 ||
            (one ? (memset(bb, 0, n), 0) : blk_pread(b, off, bb, n)) < 0) {
            img_error("error while reading offset %" PRIu64 ": %s", off, blk_errmsg());
            rc = 2;
            goto out;
        }
        int64_t d = img_first_diff(ba, bb, n);
        if (d >= 0) {
            if (!quiet)
                fprintf(out, "Content mismatch at offset %" PRIu64 "!\n", off + d);
            rc = 1;
            goto out;
        }
        off += n;
    }
    if (!quiet)
        fprintf(out, "Images are identical.\n");
out:
    free(ba);
    free(bb);
    blk_close(a);
    blk_close(b);
    return rc;
}
