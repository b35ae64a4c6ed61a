/*
 * img-bench.c - emu-img bench: qemu-img bench's sequential request loop
 * through the block layer (same options and output), plus --random for
 * random offsets and --pattern to write a byte pattern (used by the
 * interop tests to put known data into an image through emu's driver).
 */
#define _GNU_SOURCE
#include "machine/block/img.h"
#include "machine/block/block.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int img_bench(const ImgBenchOpts *o, FILE *out)
{
    BlockDev *bs;
    if (blk_open(o->filename, o->fmt, o->write ? BLK_O_RDWR : BLK_O_RDONLY, &bs) < 0) {
        img_error("Could not open '%s': %s", o->filename, blk_errmsg());
        return 1;
    }
    int64_t size = blk_length(bs);
    uint64_t bufsize = o->bufsize ? o->bufsize : 4096;
    uint64_t step = o->step ? o->step : bufsize;
    uint8_t *buf = aligned_alloc(4096, (bufsize + 4095) & ~4095ull);
    int rc = 0;
    if (!buf || size < 0 || (uint64_t)size < bufsize || o->offset + bufsize > (uint64_t)size) {
        img_error("image too small for the requested buffer size and offset");
        rc = 1;
        goto out;
    }
    memset(buf, o->pattern, bufsize);
    if (!o->quiet)
        fprintf(out, "Sending %" PRIu64 " %s requests, %" PRIu64 " bytes each, %d in parallel "
                "(starting at offset %" PRIu64 ", step size %" PRIu64 ")%s\n", o->count,
                o->write ? "write" : "read", bufsize, o->depth ? o->depth : 64, o->offset, step,
                o->random ? " at random offsets" : "");
    uint64_t slots = ((uint64_t)size - o->offset) / bufsize, seed = 0x2545f4914f6cdd1dull;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t off = o->offset;
    for (uint64_t i = 0; i < o->count; i++) {
        if (o->random) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            off = o->offset + (seed % slots) * bufsize;
        } else if (off + bufsize > (uint64_t)size) {
            off = o->offset; /* wrap around like qemu-img bench */
        }
        int ret = o->write ? blk_pwrite(bs, off, buf, bufsize) : blk_pread(bs, off, buf, bufsize);
        if (ret < 0) {
            img_error("%s failed at offset %" PRIu64 ": %s", o->write ? "write" : "read", off,
                      blk_errmsg());
            rc = 1;
            goto out;
        }
        if (o->write && o->flush_interval && (i + 1) % o->flush_interval == 0 &&
            blk_flush(bs) < 0) {
            img_error("flush failed: %s", blk_errmsg());
            rc = 1;
            goto out;
        }
        if (!o->random)
            off += step;
    }
    /* Timed like qemu-img bench: up to the last completion; the final
     * flush (on close) is not part of the measurement. */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (o->write && blk_flush(bs) < 0) {
        img_error("flush failed: %s", blk_errmsg());
        rc = 1;
        goto out;
    }
    if (!o->quiet)
        fprintf(out, "Run completed in %.3f seconds.\n",
                (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
out:
    free(buf);
    blk_close(bs);
    return rc;
}
