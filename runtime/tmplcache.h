/*
 * tmplcache.h - what tools need of the template blocks in the code cache
 * (runtime/tmplcache.c): `emu-cache verify --deep` translates a stored
 * block again from the guest binary and compares.
 *
 *   const char *why = tmplcache_deep_check(&guest_arch_aarch64, data, len, off,
 *                                          guest, guest_len, before, flags);
 *   if (why) ... the entry is not what this emu would make: why says how
 */
#ifndef EMU_RUNTIME_TMPLCACHE_H
#define EMU_RUNTIME_TMPLCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "runtime/guest-arch.h"

/* Is this cache entry kind a template block (EMU_CACHE_KIND_TEMPLATE..+3)? */
bool tmplcache_is_kind(unsigned kind);

/* What a stored template payload holds (emu-cache show). */
typedef struct TmplCacheInfo {
    uint64_t bias;           /* load bias it was built for: guest pc = bias + offset */
    uint32_t guest_size, n_insns, n_relocs;
    bool latch;              /* carries the tier-up countdown */
    uint8_t guest_hash[16];  /* XXH3-128 of the guest bytes it was built from */
    const uint8_t *code;     /* host code, inside the payload */
    uint32_t code_size;
} TmplCacheInfo;

/* false if the payload is malformed. */
bool tmplcache_payload_info(const void *payload, size_t len, TmplCacheInfo *out);

/* A dropped-region marker's member count (emu-cache show); false: not one. */
bool tiercache_payload_dropped(const void *payload, size_t len, uint32_t *n_members);
/* The relocatable object inside a stored LLVM region payload (kind
 * EMU_CACHE_KIND_OBJECT, runtime/tiercache.c), after its member list; false
 * if malformed.  *n_members = how many guest blocks the region covers. */
bool tiercache_payload_object(const void *payload, size_t len, const void **obj, size_t *obj_len,
                              uint32_t *n_members);

/* Translate the block of a stored template payload again (arch frontend,
 * IR passes, template backend, relocatable, with the entry's mode flags and
 * tier-up countdown) from `guest` = the module's bytes from module-relative
 * offset `off - before` (guest_len of them, at least the block; the
 * frontend may read code around it in its pages, so give the page from its
 * start), and compare it with the payload: code bytes outside relocated
 * fields, relocations, chain sites, insn map.  NULL if equal, else a
 * static description. */
const char *tmplcache_deep_check(const GuestArch *arch, const void *payload, size_t len,
                                 uint64_t off, const uint8_t *guest, size_t guest_len,
                                 size_t before, uint32_t flags);

/* Before deep-checking a pack: translate as the run that wrote it (its
 * build id, tiercache.c's format): the guest CPU's features it names are
 * set.  NULL, or why its blocks cannot be made again here (other pinned
 * registers: EMU_PIN). */
const char *tmplcache_deep_identity(const GuestArch *arch, const char *build_id);

#endif
