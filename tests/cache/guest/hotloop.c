/* tests/cache/guest/hotloop.c - a guest with a few hot loops (so that
 * --tier=auto forms LLVM regions) and a checksum that any wrong region
 * code would change; short_loop's region is entered per call and runs a
 * few insns, which the probe sends back to template code (a dropped-region
 * marker).  Built by tier-cache.sh with aarch64-linux-gnu-gcc. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 1099511628211ull;
    return (h << 7) | (h >> 57);
}

static __attribute__((noinline)) uint32_t short_loop(uint32_t x)
{
    for (uint32_t i = 0; i < (x & 3) + 2; i++) /* 2-5 trips: not unrolled */
        x = x * 2654435761u + i;
    return x;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? 0 : 20000;
    uint64_t h = 1469598103934665603ull;
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < 1000; i++)
            h = mix(h, (uint64_t)i * (uint64_t)r);
    char buf[256];
    uint32_t s = 0;
    for (int r = 0; r < 20000; r++) {
        memset(buf, r & 0xff, sizeof buf);
        for (size_t i = 0; i < sizeof buf; i += 3)
            s = s * 31 + (uint8_t)buf[i] + (uint32_t)r;
    }
    /* called through a pointer (an indirect call), so that no region of
     * this loop takes short_loop in: its own region stays entered per call */
    uint32_t (*volatile fn)(uint32_t) = short_loop;
    uint32_t q = 1;
    for (int r = 0; r < 100000; r++)
        q = fn(q ^ (uint32_t)r);
    printf("%llu %u %u\n", (unsigned long long)h, s, q);
    return 0;
}
