/*
 * img.h - the logic behind emu-img's subcommands, as library functions so
 * that tests can call them.  Each prints what qemu-img prints for the same
 * request (so scripts port over) to `out`, errors to stderr prefixed with
 * "emu-img: ", and returns the exit status qemu-img would.
 */
#ifndef MACHINE_BLOCK_IMG_H
#define MACHINE_BLOCK_IMG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* "10G", "512", "1.5M", "64k" -> bytes; -1 if not a size. */
int64_t img_parse_size(const char *s);
/* qemu's human size: "196 KiB", "10 GiB", "512 B". */
void img_format_size(uint64_t v, char *buf, size_t len);
void img_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

typedef struct ImgCreateOpts {
    const char *fmt;          /* "raw" or "qcow2" */
    const char *filename;
    int64_t size;             /* -1: take the backing file's */
    const char *backing;
    const char *backing_fmt;
    const char *options;      /* -o key=value,... */
    bool quiet;
} ImgCreateOpts;
int img_create(const ImgCreateOpts *o, FILE *out);

int img_info(const char *filename, const char *fmt, bool json, bool chain, FILE *out);

enum { IMG_CHECK_FIX_LEAKS = 1, IMG_CHECK_FIX_ALL = 3 };
int img_check(const char *filename, const char *fmt, int fix, bool json, bool quiet, FILE *out);

typedef struct ImgConvertOpts {
    const char *src, *dst;
    const char *src_fmt, *dst_fmt;
    const char *options;
    const char *cache;        /* -t: "unsafe" (default, as qemu-img) skips the final sync */
    bool compress, progress, quiet;
} ImgConvertOpts;
int img_convert(const ImgConvertOpts *o, FILE *out);

int img_compare(const char *a, const char *b, const char *fmt_a, const char *fmt_b, bool strict,
                bool quiet, FILE *out);
int img_map(const char *filename, const char *fmt, bool json, FILE *out);
/* size "+N", "-N" or "N" */
int img_resize(const char *filename, const char *fmt, const char *size, bool shrink, bool quiet,
               FILE *out);

typedef struct ImgBenchOpts {
    const char *filename, *fmt;
    uint64_t count, bufsize, offset, step, flush_interval;
    int depth;                 /* requests in flight (0: 64) */
    bool write, random, quiet;
    uint8_t pattern;
} ImgBenchOpts;
int img_bench(const ImgBenchOpts *o, FILE *out);

#endif
