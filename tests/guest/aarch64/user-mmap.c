/* user-mmap: anonymous and file mappings, mprotect, munmap, mremap, brk
 * (sbrk) and big mallocs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int failures;
#define CHECK(c)                                                     \
    do {                                                             \
        if (!(c)) {                                                  \
            printf("FAIL line %d: %s (errno %d)\n", __LINE__, #c, errno); \
            failures++;                                              \
        }                                                            \
    } while (0)

int main(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    CHECK(pg == 4096);
    char *a = mmap(NULL, 16 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(a != MAP_FAILED);
    CHECK(((uintptr_t)a & (pg - 1)) == 0);
    for (int i = 0; i < 16 * pg; i++)
        CHECK(a[i] == 0);
    memset(a, 0x11, 16 * pg);
    CHECK(mprotect(a + pg, pg, PROT_READ) == 0);
    CHECK(a[pg] == 0x11);
    CHECK(mprotect(a + pg, pg, PROT_READ | PROT_WRITE) == 0);
    a[pg] = 0x22;
    CHECK(munmap(a + 4 * pg, 4 * pg) == 0);
    CHECK(mprotect(a + 4 * pg, pg, PROT_READ) == -1 && errno == ENOMEM);
    CHECK(munmap(a + 1, pg) == -1 && errno == EINVAL);

    /* MAP_FIXED into the hole we just made */
    char *f = mmap(a + 4 * pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                   -1, 0);
    CHECK(f == a + 4 * pg && f[0] == 0);

    /* mremap: grow (may move), contents kept */
    char *g = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(g, 0x33, 2 * pg);
    char *h = mremap(g, 2 * pg, 64 * pg, MREMAP_MAYMOVE);
    CHECK(h != MAP_FAILED);
    CHECK(h[0] == 0x33 && h[2 * pg - 1] == 0x33 && h[2 * pg] == 0);
    h[64 * pg - 1] = 1;
    CHECK(mremap(h, 64 * pg, pg, 0) == h);
    CHECK(munmap(h, pg) == 0);

    /* file mapping */
    char name[] = "user-mmap.XXXXXX";
    int fd = mkstemp(name);
    CHECK(fd >= 0);
    CHECK(write(fd, "mapped file contents", 20) == 20);
    char *m = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED && memcmp(m, "mapped file contents", 20) == 0 && m[20] == 0);
    char *s = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(s != MAP_FAILED);
    memcpy(s, "MAPPED", 6);
    CHECK(msync(s, pg, MS_SYNC) == 0);
    char buf[8];
    CHECK(pread(fd, buf, 6, 0) == 6 && memcmp(buf, "MAPPED", 6) == 0);
    CHECK(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, 1000, 0) == MAP_FAILED && errno == EBADF);
    munmap(m, pg);
    munmap(s, pg);
    close(fd);
    unlink(name);

    /* brk */
    char *b0 = sbrk(0);
    CHECK(b0 != (void *)-1);
    CHECK(sbrk(3 * pg) == b0);
    memset(b0, 0x44, 3 * pg);
    CHECK(sbrk(0) == b0 + 3 * pg);
    CHECK(sbrk(-(2 * pg)) == b0 + 3 * pg);
    CHECK(sbrk(0) == b0 + pg);

    /* malloc: small (brk) and large (mmap) blocks */
    size_t big = 8 << 20;
    char *x = malloc(big);
    CHECK(x != NULL);
    memset(x, 0x55, big);
    char *y = realloc(x, 2 * big);
    CHECK(y != NULL && y[big - 1] == 0x55);
    free(y);
    void *ptrs[1000];
    for (int i = 0; i < 1000; i++) {
        ptrs[i] = malloc(100 + i);
        memset(ptrs[i], i, 100 + i);
    }
    for (int i = 0; i < 1000; i++) {
        CHECK(((unsigned char *)ptrs[i])[99 + i] == (unsigned char)i);
        free(ptrs[i]);
    }
    printf("mmap: %s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
