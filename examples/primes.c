/* primes.c - the bundled demo guest: counts primes with a sieve, checks a
 * few library calls, and prints what it did.  Built for AArch64 with
 * aarch64-linux-gnu-gcc -static and run under emu-user by `make demo`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned count_primes(unsigned n)
{
    unsigned char *composite = calloc(n + 1, 1);
    unsigned count = 0;
    if (!composite)
        return 0;
    for (unsigned i = 2; i <= n; i++) {
        if (composite[i])
            continue;
        count++;
        for (unsigned long j = (unsigned long)i * i; j <= n; j += i)
            composite[j] = 1;
    }
    free(composite);
    return count;
}

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 1000000;
    char buf[64];
    unsigned c = count_primes(n);
    snprintf(buf, sizeof buf, "%u", c);
    printf("emu demo: %s primes below %u (argv[0]=%s, %zu-digit answer)\n",
           buf, n, argv[0], strlen(buf));
    return c == 78498 || n != 1000000 ? 0 : 1;
}
