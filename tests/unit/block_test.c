/*
 * block_test.c - unit tests of the block layer: qcow2 read/write against a
 * flat shadow copy (random operations, several cluster and refcount
 * sizes), reopen, check/repair, compressed clusters, backing files,
 * header validation, read-only safety and crash consistency (writes that
 * stop half way leave at worst leaked clusters).
 */
#include "machine/block/block.h"
#include "machine/block/img.h"
#include "machine/block/qcow2.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MB (1u << 20)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A qcow2 image in memory: buffer, protocol layer, driver. */
typedef struct MemImg {
    uint8_t *buf;
    size_t cap;
    BlockDev *file, *bs;
} MemImg;

static void memimg_format(MemImg *m, size_t cap, const Qcow2CreateOpts *o)
{
    m->cap = cap;
    m->buf = calloc(1, cap);
    ck_assert_ptr_nonnull(m->buf);
    ck_assert_int_eq(blk_open_mem(m->buf, 0, cap, false, &m->file), 0);
    ck_assert_msg(qcow2_format(m->file, o) == 0, "format: %s", blk_errmsg());
    m->bs = NULL;
}

static int memimg_open(MemImg *m, int flags)
{
    return blk_open_on(m->file, "qcow2", flags, "mem.qcow2", &m->bs);
}

/* Closes the driver but keeps the memory layer (and its length). */
static void memimg_close_driver(MemImg *m)
{
    if (m->bs) {
        m->bs->file = NULL;
        blk_close(m->bs);
        m->bs = NULL;
    }
}

static void memimg_free(MemImg *m)
{
    memimg_close_driver(m);
    blk_close(m->file);
    free(m->buf);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7 + (i >> 9));
}

static void check_clean(BlockDev *bs)
{
    Qcow2CheckResult r;
    ck_assert_int_eq(qcow2_check(bs, 0, &r, NULL), 0);
    ck_assert_msg(r.corruptions == 0 && r.leaks == 0, "check: %lld corruptions %lld leaks",
                  (long long)r.corruptions, (long long)r.leaks);
}

static void verify(BlockDev *bs, const uint8_t *shadow, size_t size)
{
    uint8_t *got = malloc(size);
    ck_assert_int_eq(blk_pread(bs, 0, got, size), 0);
    for (size_t i = 0; i < size; i++)
        if (got[i] != shadow[i])
            ck_abort_msg("mismatch at %zu: got %02x want %02x", i, got[i], shadow[i]);
    free(got);
}

/* Random writes, zero writes, discards and compressed writes vs a shadow. */
static void random_ops(uint32_t cluster_size, uint32_t refcount_bits, int compression, int ops)
{
    const size_t size = 8 * MB;
    Qcow2CreateOpts o = {.size = size, .cluster_size = cluster_size,
                         .refcount_bits = refcount_bits, .compression_type = compression};
    MemImg m;
    memimg_format(&m, 64 * MB, &o);
    ck_assert_int_eq(memimg_open(&m, BLK_O_RDWR), 0);
    uint8_t *shadow = calloc(1, size), *buf = malloc(size);
    for (int i = 0; i < ops; i++) {
        uint64_t kind = rnd() % 10, off = rnd() % size, len = 1 + rnd() % (3 * cluster_size);
        if (off + len > size)
            len = size - off;
        if (kind < 6) {
            fill(buf, len, (uint8_t)rnd());
            ck_assert_msg(blk_pwrite(m.bs, off, buf, len) == 0, "write: %s", blk_errmsg());
            memcpy(shadow + off, buf, len);
        } else if (kind < 7) {
            ck_assert_int_eq(blk_pwrite_zeroes(m.bs, off, len), 0);
            memset(shadow + off, 0, len);
        } else if (kind < 8) {
            ck_assert_int_eq(blk_discard(m.bs, off, len), 0);
            uint64_t s = (off + cluster_size - 1) / cluster_size * cluster_size;
            uint64_t e = (off + len) / cluster_size * cluster_size;
            if (e > s)
                memset(shadow + s, 0, e - s); /* no backing: discarded reads zero */
        } else {
            off -= off % cluster_size;
            len = cluster_size;
            for (size_t j = 0; j < len; j++) /* compressible */
                buf[j] = (uint8_t)((rnd() & 3) ? 'a' + (j / 64) % 8 : rnd());
            ck_assert_msg(blk_pwrite_compressed(m.bs, off, buf, len) == 0, "cwrite: %s",
                          blk_errmsg());
            memcpy(shadow + off, buf, len);
        }
        if (i % 50 == 49)
            ck_assert_int_eq(blk_flush(m.bs), 0);
    }
    verify(m.bs, shadow, size);
    ck_assert_int_eq(blk_flush(m.bs), 0);
    check_clean(m.bs);
    memimg_close_driver(&m);
    ck_assert_int_eq(memimg_open(&m, BLK_O_RDONLY), 0);
    verify(m.bs, shadow, size);
    check_clean(m.bs);
    memimg_free(&m);
    free(shadow);
    free(buf);
}

START_TEST(test_sizes)
{
    ck_assert_int_eq(img_parse_size("10G"), 10ll << 30);
    ck_assert_int_eq(img_parse_size("512"), 512);
    ck_assert_int_eq(img_parse_size("1.5M"), 3 << 19);
    ck_assert_int_eq(img_parse_size("64k"), 65536);
    ck_assert_int_eq(img_parse_size("2T"), 2ll << 40);
    ck_assert_int_eq(img_parse_size("12X"), -1);
    ck_assert_int_eq(img_parse_size(""), -1);
    char b[32];
    img_format_size(10ull << 30, b, sizeof(b));
    ck_assert_str_eq(b, "10 GiB");
    img_format_size(200704, b, sizeof(b));
    ck_assert_str_eq(b, "196 KiB");
    img_format_size(512, b, sizeof(b));
    ck_assert_str_eq(b, "512 B");
    img_format_size(1000 * 1024, b, sizeof(b));
    ck_assert_str_eq(b, "0.977 MiB");
}
END_TEST

START_TEST(test_random_64k) { random_ops(65536, 16, 0, 400); }
END_TEST
START_TEST(test_random_512_growth) { random_ops(512, 16, 0, 600); } /* refcount table grows */
END_TEST
START_TEST(test_random_4k_zstd_rc1) { random_ops(4096, 1, 1, 400); }
END_TEST
START_TEST(test_random_2m_rc64) { random_ops(2 * MB, 64, 0, 60); }
END_TEST

START_TEST(test_leak_and_corruption_repair)
{
    Qcow2CreateOpts o = {.size = 4 * MB};
    MemImg m;
    memimg_format(&m, 32 * MB, &o);
    ck_assert_int_eq(memimg_open(&m, BLK_O_RDWR), 0);
    uint8_t *data = malloc(MB), *got = malloc(MB);
    fill(data, MB, 5);
    ck_assert_int_eq(blk_pwrite(m.bs, 100000, data, MB), 0);
    Qcow2State *s = m.bs->opaque;
    uint64_t leak;
    ck_assert_int_eq(qcow2_alloc_clusters(s, 2, &leak), 0); /* never referenced */
    ck_assert_int_eq(blk_pwrite(m.bs, 2 * MB, data, MB), 0); /* after them in the file */
    ck_assert_int_eq(blk_flush(m.bs), 0);
    Qcow2CheckResult r;
    ck_assert_int_eq(qcow2_check(m.bs, 0, &r, NULL), 0);
    ck_assert_int_eq(r.leaks, 2);
    ck_assert_int_eq(r.corruptions, 0);
    ck_assert_int_eq(qcow2_check(m.bs, QCOW2_FIX_LEAKS, &r, NULL), 0);
    ck_assert_int_eq(r.leaks_fixed, 2);
    check_clean(m.bs);
    /* Corrupt: refcount of the first data cluster set to 0. */
    uint64_t e;
    ck_assert_int_eq(qcow2_get_l2e(s, 100000, &e), 0);
    ck_assert_int_eq(qcow2_update_refcount(s, (e & QCOW2_OFFSET_MASK) >> s->cluster_bits, -1), 0);
    ck_assert_int_eq(blk_flush(m.bs), 0);
    ck_assert_int_eq(qcow2_check(m.bs, 0, &r, NULL), 0);
    ck_assert_int_ge(r.corruptions, 1);
    ck_assert_int_eq(qcow2_check(m.bs, QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS, &r, NULL), 0);
    check_clean(m.bs);
    ck_assert_int_eq(blk_pread(m.bs, 100000, got, MB), 0);
    ck_assert_mem_eq(got, data, MB);
    /* New writes after the rebuild still work and stay consistent. */
    ck_assert_int_eq(blk_pwrite(m.bs, 3 * MB, data, MB / 2), 0);
    ck_assert_int_eq(blk_flush(m.bs), 0);
    check_clean(m.bs);
    memimg_free(&m);
    free(data);
    free(got);
}
END_TEST

/* Crash consistency: let the protocol layer fail after N bytes of room and
 * check that whatever reached the "disk" has no refcount errors. */
static void interrupted_writes(uint32_t cluster_size, size_t max_extra, size_t step,
                               size_t wlen, int nwrites)
{
    for (size_t extra = 0; extra < max_extra; extra += step) {
        Qcow2CreateOpts o = {.size = 16 * MB, .cluster_size = cluster_size};
        MemImg m;
        memimg_format(&m, 16 * MB, &o);
        size_t base = (size_t)blk_length(m.file);
        memimg_close_driver(&m);
        blk_close(m.file);
        ck_assert_int_eq(blk_open_mem(m.buf, base, base + extra, false, &m.file), 0);
        ck_assert_int_eq(memimg_open(&m, BLK_O_RDWR), 0);
        static uint8_t buf[65536];
        int ret = 0;
        for (int i = 0; i < nwrites && ret == 0; i++) {
            fill(buf, wlen, (uint8_t)i);
            ret = blk_pwrite(m.bs, (rnd() % (16 * MB - wlen)), buf, wlen);
            if (ret == 0 && i % 7 == 0)
                ret = blk_flush(m.bs);
        }
        /* Crash: drop the driver without flushing its caches. */
        Qcow2State *s = m.bs->opaque;
        s->read_only = true; /* close must not write */
        memimg_close_driver(&m);
        size_t len = (size_t)blk_length(m.file);
        blk_close(m.file);
        ck_assert_int_eq(blk_open_mem(m.buf, len, 64 * MB, false, &m.file), 0);
        ck_assert_msg(memimg_open(&m, BLK_O_RDONLY) == 0, "reopen: %s", blk_errmsg());
        Qcow2CheckResult r;
        ck_assert_int_eq(qcow2_check(m.bs, 0, &r, NULL), 0);
        ck_assert_msg(r.corruptions == 0, "room %zu: %lld corruptions", extra,
                      (long long)r.corruptions);
        memimg_close_driver(&m);
        blk_close(m.file);
        free(m.buf);
    }
}

START_TEST(test_interrupted_writes) { interrupted_writes(4096, 600000, 37000, 20000, 200); }
END_TEST
/* 512-byte clusters: the refcount table has to grow (and may be cut off). */
START_TEST(test_interrupted_writes_rt_growth) { interrupted_writes(512, 12 * MB, 700000, 65536, 400); }
END_TEST

START_TEST(test_readonly_never_written)
{
    Qcow2CreateOpts o = {.size = 2 * MB};
    MemImg m;
    memimg_format(&m, 8 * MB, &o);
    ck_assert_int_eq(memimg_open(&m, BLK_O_RDWR), 0);
    uint8_t buf[70000];
    fill(buf, sizeof(buf), 9);
    ck_assert_int_eq(blk_pwrite(m.bs, 12345, buf, sizeof(buf)), 0);
    memimg_close_driver(&m);
    size_t len = (size_t)blk_length(m.file);
    uint8_t *copy = malloc(len);
    memcpy(copy, m.buf, len);
    blk_close(m.file);
    ck_assert_int_eq(blk_open_mem(m.buf, len, len, true, &m.file), 0);
    ck_assert_int_eq(memimg_open(&m, BLK_O_RDONLY), 0);
    ck_assert_int_eq(blk_pwrite(m.bs, 0, buf, 10), -EPERM);
    ck_assert_int_eq(blk_discard(m.bs, 0, 65536), -EPERM);
    uint8_t got[70000];
    ck_assert_int_eq(blk_pread(m.bs, 12345, got, sizeof(got)), 0);
    ck_assert_mem_eq(got, buf, sizeof(got));
    Qcow2CheckResult r;
    ck_assert_int_eq(qcow2_check(m.bs, QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS, &r, NULL), 0);
    memimg_free(&m);
    (void)copy;
    free(copy);
}
END_TEST

/* Header validation: each damage gets an error naming it. */
static void expect_open_error(void (*damage)(uint8_t *), const char *needle)
{
    Qcow2CreateOpts o = {.size = 2 * MB};
    MemImg m;
    memimg_format(&m, 8 * MB, &o);
    size_t len = (size_t)blk_length(m.file);
    blk_close(m.file);
    damage(m.buf);
    if (!strcmp(needle, "truncated"))
        len = 50;
    ck_assert_int_eq(blk_open_mem(m.buf, len, len, true, &m.file), 0);
    ck_assert_int_lt(memimg_open(&m, BLK_O_RDONLY), 0);
    ck_assert_msg(strstr(blk_errmsg(), needle), "'%s' lacks '%s'", blk_errmsg(), needle);
    memimg_free(&m);
}
static void dmg_none(uint8_t *b) { (void)b; }
static void dmg_cbits(uint8_t *b) { blk_put_be32(b + 20, 31); }
static void dmg_l1(uint8_t *b) { blk_put_be64(b + 40, 1ull << 40); }
static void dmg_rt(uint8_t *b) { blk_put_be64(b + 48, 1ull << 40); }
static void dmg_overlap(uint8_t *b) { blk_put_be64(b + 40, 65536); }
static void dmg_header(uint8_t *b) { blk_put_be64(b + 48, 0); }
static void dmg_incompat(uint8_t *b) { blk_put_be64(b + 72, 1ull << 40); }
static void dmg_version(uint8_t *b) { blk_put_be32(b + 4, 9); }
static void dmg_refcount(uint8_t *b) { blk_put_be32(b + 96, 7); }

START_TEST(test_header_validation)
{
    expect_open_error(dmg_none, "truncated");
    expect_open_error(dmg_cbits, "cluster_bits 31 is out of range");
    expect_open_error(dmg_l1, "L1 table");
    expect_open_error(dmg_rt, "refcount table");
    expect_open_error(dmg_overlap, "overlaps the refcount table");
    expect_open_error(dmg_header, "refcount table offset");
    expect_open_error(dmg_incompat, "incompatible feature bit 40");
    expect_open_error(dmg_version, "version 9");
    expect_open_error(dmg_refcount, "refcount order 7");
}
END_TEST

/* Damaged L2/refcount offsets inside an opened image give errors, not crashes. */
START_TEST(test_bad_table_offsets)
{
    Qcow2CreateOpts o = {.size = 2 * MB};
    MemImg m;
    memimg_format(&m, 8 * MB, &o);
    ck_assert_int_eq(memimg_open(&m, BLK_O_RDWR), 0);
    uint8_t buf[4096] = {1};
    ck_assert_int_eq(blk_pwrite(m.bs, 0, buf, sizeof(buf)), 0);
    Qcow2State *s = m.bs->opaque;
    ck_assert_int_eq(blk_flush(m.bs), 0);
    uint64_t l1 = s->l1_offset;
    memimg_close_driver(&m);
    blk_put_be64(m.buf + l1, (1ull << 40) | QCOW2_OFLAG_COPIED); /* L2 beyond the file */
    ck_assert_int_eq(memimg_open(&m, BLK_O_RDONLY), 0);
    ck_assert_int_lt(blk_pread(m.bs, 0, buf, sizeof(buf)), 0);
    ck_assert_msg(strstr(blk_errmsg(), "beyond the end of the file"), "%s", blk_errmsg());
    Qcow2CheckResult r;
    ck_assert_int_eq(qcow2_check(m.bs, 0, &r, NULL), 0);
    ck_assert_int_ge(r.corruptions, 1);
    memimg_close_driver(&m);
    blk_put_be64(m.buf + l1, 70000 | QCOW2_OFLAG_COPIED); /* unaligned */
    ck_assert_int_eq(memimg_open(&m, BLK_O_RDONLY), 0);
    ck_assert_int_lt(blk_pread(m.bs, 0, buf, sizeof(buf)), 0);
    ck_assert_msg(strstr(blk_errmsg(), "not cluster aligned"), "%s", blk_errmsg());
    memimg_free(&m);
}
END_TEST

/* A data cluster that points at the L1 table: the write is refused, the
 * image marked corrupt, and a later read/write open refused too. */
START_TEST(test_overlap_marks_corrupt)
{
    Qcow2CreateOpts o = {.size = 2 * MB};
    MemImg m;
    memimg_format(&m, 8 * MB, &o);
    ck_assert_int_eq(memimg_open(&m, BLK_O_RDWR), 0);
    uint8_t buf[4096];
    memset(buf, 7, sizeof(buf));
    ck_assert_int_eq(blk_pwrite(m.bs, 0, buf, sizeof(buf)), 0);
    Qcow2State *s = m.bs->opaque;
    ck_assert_int_eq(qcow2_set_l2e(s, 0, s->l1_offset | QCOW2_OFLAG_COPIED), 0);
    ck_assert_int_eq(blk_pwrite(m.bs, 0, buf, sizeof(buf)), -EIO);
    ck_assert_msg(strstr(blk_errmsg(), "active L1 table"), "%s", blk_errmsg());
    ck_assert_int_eq(blk_pwrite(m.bs, MB, buf, sizeof(buf)), -EIO); /* no more writes */
    memimg_close_driver(&m);
    ck_assert_int_lt(memimg_open(&m, BLK_O_RDWR), 0);
    ck_assert_msg(strstr(blk_errmsg(), "corrupt"), "%s", blk_errmsg());
    ck_assert_int_eq(memimg_open(&m, BLK_O_RDONLY), 0); /* reading is still allowed */
    memimg_free(&m);
}
END_TEST

static char tmpdir[64];

/* The image files of one test go with its directory, so runs leave /tmp as they found it. */
static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[sizeof(tmpdir) + 256];
        snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
        ck_assert_int_eq(unlink(p), 0);
    }
    closedir(d);
    ck_assert_int_eq(rmdir(tmpdir), 0);
}

static void make_file_image(const char *name, const char *backing, uint64_t size)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    ImgCreateOpts o = {.fmt = "qcow2", .filename = path, .size = size ? (int64_t)size : -1,
                       .backing = backing, .backing_fmt = backing ? "qcow2" : NULL, .quiet = true};
    ck_assert_int_eq(img_create(&o, stdout), 0);
}

START_TEST(test_backing_chain)
{
    strcpy(tmpdir, "/tmp/block_test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    make_file_image("base.qcow2", NULL, 4 * MB);
    make_file_image("mid.qcow2", "base.qcow2", 0);
    make_file_image("top.qcow2", "mid.qcow2", 0);
    char p[256];
    BlockDev *bs;
    uint8_t a[100000], b[100000];
    snprintf(p, sizeof(p), "%s/base.qcow2", tmpdir);
    ck_assert_int_eq(blk_open(p, NULL, BLK_O_RDWR, &bs), 0);
    fill(a, sizeof(a), 3);
    ck_assert_int_eq(blk_pwrite(bs, 60000, a, sizeof(a)), 0);
    blk_close(bs);
    snprintf(p, sizeof(p), "%s/top.qcow2", tmpdir);
    ck_assert_msg(blk_open(p, NULL, BLK_O_RDWR, &bs) == 0, "%s", blk_errmsg());
    ck_assert_int_eq(blk_length(bs), 4 * MB);
    ck_assert_int_eq(blk_pread(bs, 60000, b, sizeof(b)), 0);
    ck_assert_mem_eq(a, b, sizeof(a));
    /* A small write in the top image copies the rest of the cluster from below. */
    memset(a + 10000, 0xee, 100);
    ck_assert_int_eq(blk_pwrite(bs, 70000, a + 10000, 100), 0);
    ck_assert_int_eq(blk_pread(bs, 60000, b, sizeof(b)), 0);
    ck_assert_mem_eq(a, b, sizeof(a));
    /* Discard in an overlay must not uncover the backing data. */
    ck_assert_int_eq(blk_discard(bs, 65536, 65536), 0);
    memset(a + 65536 - 60000, 0, 65536);
    ck_assert_int_eq(blk_pread(bs, 60000, b, sizeof(b)), 0);
    ck_assert_mem_eq(a, b, sizeof(a));
    check_clean(bs);
    blk_close(bs);
    remove_tmpdir();
}
END_TEST

START_TEST(test_backing_loop)
{
    strcpy(tmpdir, "/tmp/block_test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    make_file_image("a.qcow2", NULL, MB);
    make_file_image("b.qcow2", "a.qcow2", MB);
    /* Point a at b by rewriting its header: backing name after the extensions. */
    char pa[256], pb[256];
    snprintf(pa, sizeof(pa), "%s/a.qcow2", tmpdir);
    snprintf(pb, sizeof(pb), "%s/b.qcow2", tmpdir);
    FILE *f = fopen(pa, "r+b");
    ck_assert_ptr_nonnull(f);
    uint8_t h[8];
    blk_put_be64(h, 4000);
    fseek(f, 8, SEEK_SET);
    fwrite(h, 1, 8, f);
    blk_put_be32(h, 7);
    fwrite(h, 1, 4, f);
    fseek(f, 4000, SEEK_SET);
    fwrite("b.qcow2", 1, 7, f);
    fclose(f);
    BlockDev *bs;
    ck_assert_int_lt(blk_open(pb, NULL, BLK_O_RDONLY, &bs), 0);
    ck_assert_msg(strstr(blk_errmsg(), "loop"), "%s", blk_errmsg());
    ck_assert_int_lt(blk_open(pa, NULL, BLK_O_RDONLY, &bs), 0);
    ck_assert_msg(strstr(blk_errmsg(), "loop"), "%s", blk_errmsg());
    remove_tmpdir();
}
END_TEST

static void *aio_buf;
static int aio_done_count;
static void aio_done(BlkAioReq *r, int ret)
{
    ck_assert_int_eq(ret, 0);
    __atomic_add_fetch(&aio_done_count, 1, __ATOMIC_SEQ_CST);
    (void)r;
}

START_TEST(test_aio)
{
    Qcow2CreateOpts o = {.size = 4 * MB};
    MemImg m;
    memimg_format(&m, 32 * MB, &o);
    ck_assert_int_eq(memimg_open(&m, BLK_O_RDWR), 0);
    static uint8_t w[8][8192], r[8][8192];
    BlkAioReq req[16];
    for (int i = 0; i < 8; i++) {
        fill(w[i], sizeof(w[i]), (uint8_t)(i * 31));
        req[i] = (BlkAioReq){.op = BLK_AIO_WRITE, .bs = m.bs, .off = i * 300000ull,
                             .buf = w[i], .len = sizeof(w[i]), .done = aio_done};
        ck_assert_int_eq(blk_aio_submit(&req[i]), 0);
    }
    blk_aio_drain();
    for (int i = 0; i < 8; i++) {
        req[8 + i] = (BlkAioReq){.op = BLK_AIO_READ, .bs = m.bs, .off = i * 300000ull,
                                 .buf = r[i], .len = sizeof(r[i]), .done = aio_done};
        ck_assert_int_eq(blk_aio_submit(&req[8 + i]), 0);
    }
    blk_aio_drain();
    ck_assert_int_eq(aio_done_count, 16);
    for (int i = 0; i < 8; i++)
        ck_assert_mem_eq(w[i], r[i], sizeof(w[i]));
    memimg_free(&m);
    (void)aio_buf;
}
END_TEST

int main(void)
{
    Suite *s = suite_create("block");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sizes);
    tcase_add_test(tc, test_random_64k);
    tcase_add_test(tc, test_random_512_growth);
    tcase_add_test(tc, test_random_4k_zstd_rc1);
    tcase_add_test(tc, test_random_2m_rc64);
    tcase_add_test(tc, test_leak_and_corruption_repair);
    tcase_add_test(tc, test_interrupted_writes);
    tcase_add_test(tc, test_interrupted_writes_rt_growth);
    tcase_add_test(tc, test_readonly_never_written);
    tcase_add_test(tc, test_header_validation);
    tcase_add_test(tc, test_bad_table_offsets);
    tcase_add_test(tc, test_overlap_marks_corrupt);
    tcase_add_test(tc, test_backing_chain);
    tcase_add_test(tc, test_backing_loop);
    tcase_add_test(tc, test_aio);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
