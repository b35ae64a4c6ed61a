/*
 * simd-strbench.c - a small benchmark of glibc's AdvSIMD string routines
 * (strlen, memchr, strchr, memcmp, memcpy) that also checks itself: every
 * loop accumulates its results into a sum printed at the end, so a wrong
 * answer changes the output (compared with qemu's by run-guest.py).
 *
 *   simd-strbench ITERATIONS [strlen|memchr|strchr|memcmp|memcpy|all]
 *
 * As a guest test it runs a few iterations; for timing, e.g.
 *   emu-user simd-strbench 4000 strlen   vs   qemu-aarch64 simd-strbench 4000 strlen
 */
// guest-args: 3 all
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF (64 * 1024)
static char a[BUF + 64], b[BUF + 64];
/* lengths of the strings searched: short, medium and long */
static const unsigned lens[] = { 7, 16, 31, 64, 100, 255, 1024, 4000, 16384, BUF - 1 };
#define NLENS (sizeof(lens) / sizeof(lens[0]))

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 3;
    const char *which = argc > 2 ? argv[2] : "all";
    int all = !strcmp(which, "all");
    uint64_t seed = 12345;
    for (unsigned i = 0; i < BUF; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        a[i] = (char)('a' + (seed >> 33) % 26);     /* no NUL, no 'Z' */
    }
    memcpy(b, a, BUF);
    uint64_t sum = 0;
    for (long it = 0; it < iters; it++) {
        for (unsigned k = 0; k < NLENS; k++) {
            unsigned n = lens[k], off = (unsigned)(it + k) & 15;
            char *s = a + off;
            char save = s[n];
            s[n] = 0;
            if (all || !strcmp(which, "strlen"))
                sum += strlen(s);
            if (all || !strcmp(which, "strchr")) {
                const char *p = strchr(s, 'Z');
                sum += p ? 1 : 2;
            }
            s[n] = save;
            if (all || !strcmp(which, "memchr")) {
                s[n] = 'Z';
                const char *p = memchr(s, 'Z', n + 1);
                sum += p ? (uint64_t)(p - s) : 7;
                s[n] = save;
            }
            if (all || !strcmp(which, "memcmp")) {
                b[off + n - 1] ^= 1;
                sum += (uint64_t)(memcmp(s, b + off, n) < 0) + 3;
                b[off + n - 1] ^= 1;
            }
            if (all || !strcmp(which, "memcpy")) {
                memcpy(b + 32 - off, s, n);
                sum += (unsigned char)b[32 - off + n / 2];
                memcpy(b, a, BUF);
            }
        }
    }
    printf("%s x%ld: sum %llu\n", which, iters, (unsigned long long)sum);
    return 0;
}
