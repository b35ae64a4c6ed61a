/*
 * simd-string.c - glibc's AdvSIMD string and memory routines (memchr,
 * strlen, strnlen, strchr, strchrnul, strrchr, memrchr, memcmp, strcmp,
 * strncmp, strcpy, stpcpy, memcpy, memmove, memset) against naive
 * reference loops, over every alignment and many lengths, with the
 * interesting byte near page ends.  Prints one summary line per function.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096
static unsigned char *buf;   /* two pages, the second one PROT_NONE */

static size_t ref_strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
static const void *ref_memchr(const void *p, int c, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) if (s[i] == (unsigned char)c) return s + i;
    return NULL;
}
static const void *ref_memrchr(const void *p, int c, size_t n)
{
    const unsigned char *s = p;
    while (n--) if (s[n] == (unsigned char)c) return s + n;
    return NULL;
}
static const char *ref_strrchr(const char *s, int c)
{
    const char *r = NULL;
    for (;; s++) { if (*s == (char)c) r = s; if (!*s) return r; }
}
static int sgn(int x) { return (x > 0) - (x < 0); }
static int ref_memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++) if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

static unsigned fails[16], checks[16];
static const char *names[16] = { "memchr", "strlen", "strnlen", "strchr", "strchrnul", "strrchr",
                                 "memrchr", "memcmp", "strcmp", "strncmp", "strcpy", "stpcpy",
                                 "memcpy", "memmove", "memset", "rawmemchr" };
#define CHECK(k, cond) do { checks[k]++; if (!(cond)) { if (fails[k]++ < 3) \
    printf("FAIL %s align=%u len=%u\n", names[k], align, len); } } while (0)

int main(void)
{
    buf = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) return 1;
    mprotect(buf + 2 * PAGE, PAGE, PROT_NONE);
    static unsigned char other[3 * PAGE], dst[3 * PAGE];
    for (unsigned len = 0; len < 300; len += (len < 80 ? 1 : 7)) {
        for (unsigned align = 0; align < 32; align++) {
            /* string of len bytes ending right before the guard page */
            unsigned char *s = buf + 2 * PAGE - len - 1 - (align & 15);
            unsigned char *s2 = buf + PAGE + align;
            for (unsigned i = 0; i < len; i++) s[i] = (unsigned char)('a' + (i * 7 + align) % 26);
            s[len] = 0;
            memcpy(s2, s, len + 1);
            int c = len ? s[(len * 3) / 4] : 'q';
            CHECK(0, memchr(s, c, len) == ref_memchr(s, c, len));
            CHECK(0, memchr(s, 0x80 | c, len + 1) == ref_memchr(s, 0x80 | c, len + 1));
            CHECK(15, rawmemchr(s, 0) == s + len);
            CHECK(1, strlen((char *)s) == len);
            CHECK(1, strlen((char *)s2) == len);
            CHECK(2, strnlen((char *)s, len / 2) == len / 2);
            CHECK(2, strnlen((char *)s, len + 5) == len);
            CHECK(3, strchr((char *)s, c) == (char *)ref_memchr(s, c, len + 1));
            CHECK(3, strchr((char *)s, 0) == (char *)s + len);
            CHECK(3, strchr((char *)s, '#') == NULL);
            CHECK(4, strchrnul((char *)s, '#') == (char *)s + len);
            CHECK(5, strrchr((char *)s, c) == ref_strrchr((char *)s, c));
            CHECK(6, memrchr(s, c, len) == ref_memrchr(s, c, len));
            CHECK(7, sgn(memcmp(s, s2, len)) == 0);
            if (len) {
                s2[len - 1 - (align % len)] ^= 0x81;
                CHECK(7, sgn(memcmp(s, s2, len)) == ref_memcmp(s, s2, len));
                CHECK(8, sgn(strcmp((char *)s, (char *)s2)) == ref_memcmp(s, s2, len));
                CHECK(9, sgn(strncmp((char *)s, (char *)s2, len / 2 + 1)) ==
                             ref_memcmp(s, s2, len / 2 + 1));
                s2[len - 1 - (align % len)] ^= 0x81;
            }
            CHECK(8, strcmp((char *)s, (char *)s2) == 0);
            unsigned char *d = dst + (align * 3) % 16 + 16;
            memset(dst, 0x55, sizeof dst);
            CHECK(10, strcpy((char *)d, (char *)s) == (char *)d && !memcmp(d, s, len + 1) && d[len + 1] == 0x55);
            memset(dst, 0x55, sizeof dst);
            CHECK(11, stpcpy((char *)d, (char *)s) == (char *)d + len && !memcmp(d, s, len + 1));
            memset(dst, 0x55, sizeof dst);
            CHECK(12, memcpy(d, s, len) == d && !memcmp(d, s, len) && d[len] == 0x55 && d[-1] == 0x55);
            memcpy(other, s, len);
            memmove(other + align, other, len);
            CHECK(13, !memcmp(other + align, s, len));
            memcpy(other, s, len);
            memmove(other, other + align / 2, len);
            CHECK(13, !memcmp(other, s + align / 2, len > align / 2 ? len - align / 2 : 0) || len <= align / 2);
            memset(dst, 0x55, sizeof dst);
            memset(d, c, len);
            CHECK(14, ref_memchr(d, 0x55, len) == NULL && d[len] == 0x55 && d[-1] == 0x55);
        }
    }
    for (int k = 0; k < 16; k++)
        printf("%-10s %s (%u checks)\n", names[k], fails[k] ? "FAILED" : "ok", checks[k]);
    return 0;
}
