/*
 * hash.c - picks the XXH3 build for this CPU (hash.h).  glibc's copy of the
 * cpuid bits: __builtin_cpu_supports would link libgcc's constructor, which
 * runs ~13 cpuid instructions (VM traps) at every start.
 */
#include "cache/hash.h"

#include <stdbool.h>
#if defined(__x86_64__)
#include <sys/platform/x86.h>
#endif

static bool use_avx2(void)
{
#if defined(__x86_64__)
    static int have = -1;
    if (have < 0)
        have = CPU_FEATURE_ACTIVE(AVX2);   /* a race only computes it twice */
    return have;
#else
    return false;
#endif
}

uint64_t emu_hash64(const void *data, size_t len)
{
#if defined(__x86_64__)
    if (use_avx2())
        return emu_hash64_avx2(data, len);
#endif
    return emu_hash64_base(data, len);
}

void emu_hash128(const void *data, size_t len, uint8_t out[16])
{
#if defined(__x86_64__)
    if (use_avx2()) {
        emu_hash128_avx2(data, len, out);
        return;
    }
#endif
    emu_hash128_base(data, len, out);
}
