/*
 * qcow2_fuzz.c - libFuzzer target for the qcow2 parser and driver.
 *
 * Each input is a qcow2 image in memory.  It is opened read-only (reads at
 * a few offsets, block status, check) and the input bytes must come out
 * unchanged; then a copy is opened read/write (small writes, discard,
 * flush, repair).  Errors are expected; crashes, sanitizer reports, leaks
 * and writes to a read-only image are bugs.  Backing files are never
 * opened (no file system access).
 *
 * Built with -DQCOW2_FUZZ_MAKE_SEEDS it is instead a program that writes
 * a small seed corpus of valid images (512-byte clusters) to a directory.
 * Built with -DQCOW2_FUZZ_REPLAY (a ctest, no clang needed) it runs every
 * seed file given, plus deterministic damage to each: every header byte and
 * some bytes of the tables set to 0x00, 0xff and a pseudo-random value.
 */
#include "machine/block/block.h"
#include "machine/block/qcow2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_READ (256u << 10)

static void fuzz_reads(BlockDev *bs)
{
    int64_t size = blk_length(bs);
    if (size <= 0)
        return;
    static uint8_t buf[FUZZ_MAX_READ];
    uint64_t offs[3] = {0, (uint64_t)size / 2, size > (int64_t)FUZZ_MAX_READ ? size - FUZZ_MAX_READ : 0};
    for (int i = 0; i < 3; i++) {
        uint64_t n = (uint64_t)size - offs[i] < FUZZ_MAX_READ ? (uint64_t)size - offs[i] : FUZZ_MAX_READ;
        blk_pread(bs, offs[i], buf, n);
    }
    uint64_t off = 0, pnum, map;
    for (int i = 0; i < 64 && off < (uint64_t)size; i++) {
        int depth;
        BlockDev *layer;
        if (blk_block_status_above(bs, off, (uint64_t)size - off, &pnum, &map, &depth, &layer) < 0 ||
            pnum == 0)
            break;
        off += pnum;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    /* Read-only: never written. */
    uint8_t *ro = malloc(size ? size : 1);
    memcpy(ro, data, size);
    BlockDev *file, *bs;
    if (blk_open_mem(ro, size, size, true, &file) == 0) {
        if (blk_open_on(file, "qcow2", BLK_O_RDONLY | BLK_O_NO_BACKING, "fuzz.qcow2", &bs) == 0) {
            fuzz_reads(bs);
            Qcow2CheckResult r;
            qcow2_check(bs, QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS, &r, NULL); /* ro: no repair */
            blk_close(bs);
        } else {
            blk_close(file);
        }
    }
    if (memcmp(ro, data, size) != 0)
        abort(); /* an image opened read-only was modified */
    free(ro);

    /* Read/write on a copy that may grow a little. */
    size_t cap = size + (512u << 10);
    uint8_t *rw = malloc(cap);
    memcpy(rw, data, size);
    if (blk_open_mem(rw, size, cap, false, &file) == 0) {
        if (blk_open_on(file, "qcow2", BLK_O_RDWR | BLK_O_NO_BACKING, "fuzz.qcow2", &bs) == 0) {
            int64_t vs = blk_length(bs);
            uint8_t buf[3000];
            memset(buf, 0xa5, sizeof(buf));
            if (vs >= (int64_t)sizeof(buf)) {
                blk_pwrite(bs, 100, buf, sizeof(buf));
                blk_pwrite(bs, (uint64_t)vs - sizeof(buf), buf, sizeof(buf));
                blk_discard(bs, 0, (uint64_t)vs / 2);
                blk_pwrite_zeroes(bs, (uint64_t)vs / 4, sizeof(buf));
            }
            blk_flush(bs);
            Qcow2CheckResult r;
            qcow2_check(bs, QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS, &r, NULL);
            fuzz_reads(bs);
            blk_close(bs);
        } else {
            blk_close(file);
        }
    }
    free(rw);
    return 0;
}

#ifdef QCOW2_FUZZ_MAKE_SEEDS
/* Writes one seed: a fresh image with some data, via the driver itself. */
static int make_seed(const char *dir, const char *name, const Qcow2CreateOpts *o, int variant)
{
    size_t cap = 64u << 10;
    uint8_t *mem = calloc(1, cap);
    BlockDev *file, *bs;
    if (!mem || blk_open_mem(mem, 0, cap, false, &file) < 0 || qcow2_format(file, o) < 0 ||
        blk_open_on(file, "qcow2", BLK_O_RDWR | BLK_O_NO_BACKING, name, &bs) < 0) {
        fprintf(stderr, "%s: %s\n", name, blk_errmsg());
        return 1;
    }
    uint8_t buf[2048];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i % 13 == 0 ? i : 'x');
    if (variant >= 1)
        blk_pwrite(bs, 1000, buf, 1500);
    if (variant >= 2) {
        blk_pwrite_compressed(bs, 8192, buf, 512);
        blk_pwrite_compressed(bs, 8704, buf + 512, 512);
        blk_pwrite_zeroes(bs, 1024, 512);
    }
    blk_flush(bs);
    size_t len = (size_t)blk_length(file);
    bs->file = NULL;
    blk_close(bs);
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(mem, 1, len, f) != len) {
        perror(path);
        return 1;
    }
    fclose(f);
    blk_close(file);
    free(mem);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    Qcow2CreateOpts o = {.size = 64u << 10, .cluster_size = 512};
    int rc = make_seed(dir, "empty-v3.qcow2", &o, 0);
    rc |= make_seed(dir, "data-v3.qcow2", &o, 1);
    rc |= make_seed(dir, "zlib-v3.qcow2", &o, 2);
    o.compression_type = QCOW2_COMP_ZSTD;
    rc |= make_seed(dir, "zstd-v3.qcow2", &o, 2);
    Qcow2CreateOpts v2 = {.size = 64u << 10, .cluster_size = 512, .compat = 2,
                          .backing_file = "base.qcow2", .backing_fmt = "qcow2"};
    rc |= make_seed(dir, "backing-v2.qcow2", &v2, 1);
    Qcow2CreateOpts r8 = {.size = 1u << 20, .cluster_size = 1024, .refcount_bits = 8};
    rc |= make_seed(dir, "refcount8.qcow2", &r8, 1);
    return rc;
}
#endif

#ifdef QCOW2_FUZZ_REPLAY
int main(int argc, char **argv)
{
    uint64_t rng = 88172645463325252ull, runs = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        static uint8_t img[1u << 20];
        size_t n = fread(img, 1, sizeof(img), f);
        fclose(f);
        LLVMFuzzerTestOneInput(img, n);
        runs++;
        for (size_t pos = 0; pos < n && pos < 112 + 64; pos++) {
            /* the header bytes, then 64 random positions in the tables */
            size_t at = pos < 112 ? pos : (size_t)((rng ^= rng << 13, rng ^= rng >> 7,
                                                    rng ^= rng << 17) % n);
            uint8_t keep = img[at];
            uint8_t vals[3] = {0x00, 0xff, (uint8_t)(rng >> 33)};
            for (int v = 0; v < 3; v++) {
                img[at] = vals[v];
                LLVMFuzzerTestOneInput(img, n);
                runs++;
            }
            img[at] = keep;
        }
        /* and truncated at every 100 bytes */
        for (size_t len = 0; len < n; len += 100, runs++)
            LLVMFuzzerTestOneInput(img, len);
    }
    printf("qcow2 fuzz replay: %llu inputs, no crash\n", (unsigned long long)runs);
    return 0;
}
#endif
