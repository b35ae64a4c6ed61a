/* hash-sse2.c - XXH3 for any x86-64 (SSE2 is baseline); see hash.h. */
#define EMU_HASH_SUFFIX base
#include "cache/hash-impl.h"
