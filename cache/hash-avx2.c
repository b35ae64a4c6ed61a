/* hash-avx2.c - XXH3 built with -mavx2 (cache/CMakeLists.txt): called only
 * once the CPU said it has AVX2 (hash.c); see hash.h. */
#define EMU_HASH_SUFFIX avx2
#include "cache/hash-impl.h"
