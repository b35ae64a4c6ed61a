/*
 * img-util.c - sizes in and out, error printing, and image creation
 * (emu-img create) with qemu-img's option names and its "Formatting" line.
 */
#define _GNU_SOURCE
#include "machine/block/img.h"
#include "machine/block/block.h"
#include "machine/block/qcow2.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void img_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("emu-img: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int64_t img_parse_size(const char *s)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    int shift = 0;
    switch (*end) {
    case 0: break;
    case 'b': case 'B': end++; break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    case 'p': case 'P': shift = 50; end++; break;
    case 'e': case 'E': shift = 60; end++; break;
    default: return -1;
    }
    if (*end)
        return -1;
    double bytes = ldexp(v, shift);
    if (bytes >= 9.2e18 || bytes != floor(bytes))
        return -1;
    return (int64_t)bytes;
}

void img_format_size(uint64_t v, char *buf, size_t len)
{
    static const char *const sfx[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    int e;
    /* Switch units at 1000 rather than 1024 so that 1000 KiB prints as 0.977 MiB. */
    frexp(v / (1000.0 / 1024.0), &e);
    int i = (e - 1) / 10;
    if (i < 0)
        i = 0;
    if (i > 6)
        i = 6;
    snprintf(buf, len, "%0.3g %sB", (double)v / (double)(1ull << (i * 10)), sfx[i]);
}

/* Parses -o options for qcow2 into `q`; returns 0 or -1 after an error. */
static int img_parse_qcow2_opts(const char *opts, Qcow2CreateOpts *q, bool *extl2)
{
    if (!opts)
        return 0;
    char *copy = strdup(opts), *save = NULL;
    int ret = 0;
    for (char *kv = strtok_r(copy, ",", &save); kv && !ret; kv = strtok_r(NULL, ",", &save)) {
        char *val = strchr(kv, '=');
        if (!val) {
            img_error("Invalid option '%s': expected key=value", kv);
            ret = -1;
            break;
        }
        *val++ = 0;
        if (!strcmp(kv, "cluster_size")) {
            int64_t v = img_parse_size(val);
            if (v <= 0 || v > (2 << 20) || (v & (v - 1))) {
                img_error("Cluster size must be a power of two between 512 and 2048k");
                ret = -1;
            }
            q->cluster_size = (uint32_t)v;
        } else if (!strcmp(kv, "compression_type")) {
            if (!strcmp(val, "zlib"))
                q->compression_type = QCOW2_COMP_ZLIB;
            else if (!strcmp(val, "zstd"))
                q->compression_type = QCOW2_COMP_ZSTD;
            else {
                img_error("Invalid compression type '%s' (zlib or zstd)", val);
                ret = -1;
            }
        } else if (!strcmp(kv, "compat")) {
            if (!strcmp(val, "0.10") || !strcmp(val, "v2"))
                q->compat = 2;
            else if (!strcmp(val, "1.1") || !strcmp(val, "v3"))
                q->compat = 3;
            else {
                img_error("Invalid compatibility level: '%s'", val);
                ret = -1;
            }
        } else if (!strcmp(kv, "lazy_refcounts")) {
            q->lazy_refcounts = !strcmp(val, "on");
        } else if (!strcmp(kv, "refcount_bits")) {
            q->refcount_bits = (uint32_t)atoi(val);
        } else if (!strcmp(kv, "extended_l2")) {
            *extl2 = !strcmp(val, "on");
            if (*extl2) {
                img_error("extended_l2=on is not supported");
                ret = -1;
            }
        } else if (!strcmp(kv, "size")) {
            q->size = (uint64_t)img_parse_size(val);
        } else if (!strcmp(kv, "backing_file")) {
            q->backing_file = strdup(val);
        } else if (!strcmp(kv, "backing_fmt")) {
            q->backing_fmt = strdup(val);
        } else if (!strcmp(kv, "preallocation")) {
            if (strcmp(val, "off")) {
                img_error("preallocation=%s is not supported", val);
                ret = -1;
            }
        } else {
            img_error("Invalid parameter '%s'", kv);
            ret = -1;
        }
    }
    free(copy);
    return ret;
}

int img_create(const ImgCreateOpts *o, FILE *out)
{
    const char *fmt = o->fmt ? o->fmt : "raw";
    Qcow2CreateOpts q = {0};
    bool extl2 = false;
    if (strcmp(fmt, "raw") && strcmp(fmt, "qcow2")) {
        img_error("Unknown file format '%s'", fmt);
        return 1;
    }
    if (!strcmp(fmt, "raw") && (o->backing || (o->options && *o->options &&
                                               strncmp(o->options, "size=", 5)))) {
        img_error("raw images support no backing file and no options besides size");
        return 1;
    }
    if (img_parse_qcow2_opts(o->options, &q, &extl2) < 0)
        return 1;
    if (o->backing)
        q.backing_file = o->backing;
    if (o->backing_fmt)
        q.backing_fmt = o->backing_fmt;
    int64_t size = o->size >= 0 ? o->size : (q.size ? (int64_t)q.size : -1);
    if (q.backing_file) {
        if (!q.backing_fmt) {
            img_error("Backing file specified without backing format (use -F)");
            return 1;
        }
        /* The backing file must open; relative names are relative to the new image. */
        char path[8192];
        const char *slash = strrchr(o->filename, '/');
        if (q.backing_file[0] != '/' && slash)
            snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - o->filename), o->filename,
                     q.backing_file);
        else
            snprintf(path, sizeof(path), "%s", q.backing_file);
        BlockDev *b;
        if (blk_open(path, q.backing_fmt, BLK_O_RDONLY, &b) < 0) {
            img_error("Could not open backing image: %s", blk_errmsg());
            return 1;
        }
        if (size < 0)
            size = blk_length(b);
        blk_close(b);
    }
    if (size < 0) {
        img_error("Image creation needs a size parameter");
        return 1;
    }
    q.size = (uint64_t)size;
    if (!o->quiet) {
        if (!strcmp(fmt, "raw")) {
            fprintf(out, "Formatting '%s', fmt=raw size=%lld\n", o->filename, (long long)size);
        } else {
            fprintf(out, "Formatting '%s', fmt=qcow2 cluster_size=%u extended_l2=off "
                    "compression_type=%s size=%lld", o->filename,
                    q.cluster_size ? q.cluster_size : 65536,
                    q.compression_type == QCOW2_COMP_ZSTD ? "zstd" : "zlib", (long long)size);
            if (q.backing_file)
                fprintf(out, " backing_file=%s backing_fmt=%s", q.backing_file, q.backing_fmt);
            fprintf(out, " lazy_refcounts=%s refcount_bits=%u\n", q.lazy_refcounts ? "on" : "off",
                    q.refcount_bits ? q.refcount_bits : 16);
        }
        fflush(out);
    }
    int fd = open(o->filename, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        img_error("%s: Could not create '%s': %s", o->filename, o->filename, strerror(errno));
        return 1;
    }
    int ret = 0;
    if (!strcmp(fmt, "raw") && ftruncate(fd, size) < 0) {
        img_error("%s: Could not resize: %s", o->filename, strerror(errno));
        ret = 1;
    }
    close(fd);
    if (ret || !strcmp(fmt, "raw"))
        return ret;
    BlockDev *file;
    if (blk_open(o->filename, "raw", BLK_O_RDWR, &file) < 0) {
        img_error("%s: %s", o->filename, blk_errmsg());
        return 1;
    }
    ret = qcow2_format(file, &q) < 0;
    if (ret)
        img_error("%s: %s", o->filename, blk_errmsg());
    blk_close(file);
    return ret;
}
