/*
 * img-bench.c - emu-img bench: qemu-img bench's sequential request loop
 * through the block layer (same options and output), plus --random for
 * random offsets and --pattern to write a byte pattern (used by the
 * interop tests to put known data into an image through emu's driver).
 *
 * Like qemu-img bench, up to `depth` requests are in flight: they are
 * served by min(depth, online CPUs, 8) threads that take the next request
 * from a shared counter, so that copies of different clusters overlap.
 */
#define _GNU_SOURCE
#include "machine/block/img.h"
#include "machine/block/block.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct BenchRun {
    const ImgBenchOpts *o;
    BlockDev *bs;
    uint64_t bufsize, step, size, slots;
    pthread_mutex_t lock; /* guards everything below */
    uint64_t next, done, off, seed;
    bool failed;
} BenchRun;

/* Hands out the next request's offset; false when all are taken or one failed. */
static bool bench_next(BenchRun *r, uint64_t *off)
{
    const ImgBenchOpts *o = r->o;
    pthread_mutex_lock(&r->lock);
    bool ok = !r->failed && r->next < o->count;
    if (ok) {
        r->next++;
        if (o->random) {
            r->seed ^= r->seed << 13;
            r->seed ^= r->seed >> 7;
            r->seed ^= r->seed << 17;
            *off = o->offset + (r->seed % r->slots) * r->bufsize;
        } else {
            if (r->off + r->bufsize > r->size)
                r->off = o->offset; /* wrap around like qemu-img bench */
            *off = r->off;
            r->off += r->step;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return ok;
}

static void *bench_worker(void *arg)
{
    BenchRun *r = arg;
    const ImgBenchOpts *o = r->o;
    uint8_t *buf = aligned_alloc(4096, (r->bufsize + 4095) & ~4095ull);
    if (!buf) {
        img_error("out of memory");
        pthread_mutex_lock(&r->lock);
        r->failed = true;
        pthread_mutex_unlock(&r->lock);
        return NULL;
    }
    memset(buf, o->pattern, r->bufsize);
    uint64_t off;
    while (bench_next(r, &off)) {
        int ret = o->write ? blk_pwrite(r->bs, off, buf, r->bufsize)
                           : blk_pread(r->bs, off, buf, r->bufsize);
        if (ret < 0)
            img_error("%s failed at offset %" PRIu64 ": %s", o->write ? "write" : "read", off,
                      blk_errmsg());
        pthread_mutex_lock(&r->lock);
        bool flush = ret == 0 && o->write && o->flush_interval &&
                     ++r->done % o->flush_interval == 0;
        if (ret < 0)
            r->failed = true;
        pthread_mutex_unlock(&r->lock);
        if (flush && blk_flush(r->bs) < 0) {
            img_error("flush failed: %s", blk_errmsg());
            pthread_mutex_lock(&r->lock);
            r->failed = true;
            pthread_mutex_unlock(&r->lock);
        }
    }
    free(buf);
    return NULL;
}

int img_bench(const ImgBenchOpts *o, FILE *out)
{
    int depth = o->depth ? o->depth : 64;
    if (depth < 1) {
        img_error("Invalid queue depth specified");
        return 1;
    }
    BlockDev *bs;
    if (blk_open(o->filename, o->fmt, o->write ? BLK_O_RDWR : BLK_O_RDONLY, &bs) < 0) {
        img_error("Could not open '%s': %s", o->filename, blk_errmsg());
        return 1;
    }
    int64_t size = blk_length(bs);
    uint64_t bufsize = o->bufsize ? o->bufsize : 4096;
    uint64_t step = o->step ? o->step : bufsize;
    int rc = 0;
    if (size < 0 || (uint64_t)size < bufsize || o->offset + bufsize > (uint64_t)size) {
        img_error("image too small for the requested buffer size and offset");
        rc = 1;
        goto out;
    }
    if (!o->quiet)
        fprintf(out, "Sending %" PRIu64 " %s requests, %" PRIu64 " bytes each, %d in parallel "
                "(starting at offset %" PRIu64 ", step size %" PRIu64 ")%s\n", o->count,
                o->write ? "write" : "read", bufsize, depth, o->offset, step,
                o->random ? " at random offsets" : "");
    BenchRun r = {.o = o, .bs = bs, .bufsize = bufsize, .step = step, .size = (uint64_t)size,
                  .slots = ((uint64_t)size - o->offset) / bufsize, .off = o->offset,
                  .seed = 0x2545f4914f6cdd1dull};
    pthread_mutex_init(&r.lock, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int nthreads = depth;
    if (cpus > 0 && nthreads > cpus)
        nthreads = (int)cpus;
    if (nthreads > 8)
        nthreads = 8;
    pthread_t tids[8];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int started = 0;
    for (; started < nthreads - 1; started++)
        if (pthread_create(&tids[started], NULL, bench_worker, &r) != 0)
            break; /* fewer threads: still correct */
    bench_worker(&r);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    /* Timed like qemu-img bench: up to the last completion; the final
     * flush (on close) is not part of the measurement. */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_mutex_destroy(&r.lock);
    if (r.failed) {
        rc = 1;
        goto out;
    }
    if (o->write && blk_flush(bs) < 0) {
        img_error("flush failed: %s", blk_errmsg());
        rc = 1;
        goto out;
    }
    if (!o->quiet)
        fprintf(out, "Run completed in %.3f seconds.\n",
                (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
out:
    blk_close(bs);
    return rc;
}
