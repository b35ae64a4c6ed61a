/*
 * hash.h - XXH3 for the code cache (keys, checksums) and the runtime (page
 * sums): the same values as libxxhash's XXH3_64bits/XXH3_128bits, computed by
 * a copy of its inline implementation built for the host's vectors (AVX2 when
 * the CPU has it, else SSE2).  Debian's libxxhash is built without them: 6.7
 * against 54 GB/s on 4 KiB pages here.
 *
 *   uint8_t sum[16];
 *   emu_hash128(page, 4096, sum);       // canonical (big-endian) digest
 *   uint64_t c = emu_hash64(data, len);
 */
#ifndef EMU_CACHE_HASH_H
#define EMU_CACHE_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t emu_hash64(const void *data, size_t len);
void emu_hash128(const void *data, size_t len, uint8_t out[16]);

/* The two builds behind them (hash-sse2.c, hash-avx2.c; cache_test checks
 * each): call the avx2 ones only on a CPU with AVX2. */
uint64_t emu_hash64_base(const void *data, size_t len);
void emu_hash128_base(const void *data, size_t len, uint8_t out[16]);
#if defined(__x86_64__)
uint64_t emu_hash64_avx2(const void *data, size_t len);
void emu_hash128_avx2(const void *data, size_t len, uint8_t out[16]);
#endif

#endif /* EMU_CACHE_HASH_H */
