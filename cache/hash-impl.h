/*
 * hash-impl.h - the body of one XXH3 variant (included by hash-sse2.c and
 * hash-avx2.c, which differ only in the compiler's target): the whole of
 * libxxhash's implementation inlined, so its vector code is built for that
 * target.  EMU_HASH_SUFFIX names the pair of functions it defines.
 */
#define XXH_INLINE_ALL
#include <stdint.h>
#include <string.h>
#include <xxhash.h>
#include "cache/hash.h"   /* the prototypes these must match */

#define EMU_HASH_CAT2(a, b) a##b
#define EMU_HASH_CAT(a, b) EMU_HASH_CAT2(a, b)

uint64_t EMU_HASH_CAT(emu_hash64_, EMU_HASH_SUFFIX)(const void *data, size_t len)
{
    return XXH3_64bits(data, len);
}

void EMU_HASH_CAT(emu_hash128_, EMU_HASH_SUFFIX)(const void *data, size_t len, uint8_t out[16])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
    memcpy(out, c.digest, 16);
}
