/*
 * objload.h - emu's own loader for relocatable x86-64 ELF objects (ET_REL),
 * the form the LLVM tier's compile_object writes for the persistent code
 * cache.  It needs no LLVM (design.md invariant 8): it lays the allocated
 * sections out in one mapping, resolves undefined symbols through the
 * caller's resolver, applies the relocations, then maps code read+execute
 * and data read-only (never writable and executable at once).
 *
 *   ObjEmuNames nm = { .helpers = ir_helper_info, .n_helpers = IR_HELPER_COUNT,
 *                      .tags = tags, .n_tags = n };
 *   ObjImage *img = objload(buf, len, objload_emu_resolve, &nm, err, sizeof err);
 *   if (!img) ... err says why (bad input is an error, never a crash)
 *   EmuLlvmEntry f = (EmuLlvmEntry)objload_sym(img, "emu_r3");
 *   ...
 *   objload_free(img);       // no CPU may be running its code
 *
 * The input buffer is only read during objload() (no pointer into it is
 * kept) and may be unaligned.  Several images may be loaded at once; one
 * image may hold any number of functions.  Objects are untrusted (they come
 * from cache files): every offset, size, index and relocation is checked.
 * Supported relocations: R_X86_64_NONE, 64, PC64, PC32, PLT32 (through a
 * stub when the target is out of reach), 32, 32S, GOTPCREL, GOTPCRELX,
 * REX_GOTPCRELX (a GOT slot per symbol, in the image).  Not supported
 * (error): SHT_REL, writable or TLS sections, COMMON symbols, section
 * indices >= SHN_LORESERVE other than SHN_ABS.
 */
#ifndef EMU_RUNTIME_OBJLOAD_H
#define EMU_RUNTIME_OBJLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ir/ir-helpers.h"

typedef struct ObjImage ObjImage;

/* Address of undefined symbol `name`: true and *addr set, or false
 * (unknown: the load fails naming the symbol). */
typedef bool (*ObjResolver)(void *opaque, const char *name, uint64_t *addr);

/* Load one object; NULL with a message in err (err may be NULL). */
ObjImage *objload(const void *elf, size_t len, ObjResolver resolve, void *opaque, char *err,
                  size_t n);
/* Address of a defined global symbol, NULL if there is none. */
void *objload_sym(const ObjImage *img, const char *name);
/* The code part of the image (for host-pc -> image lookups, perf maps). */
void objload_text(const ObjImage *img, const void **start, size_t *len);
void objload_free(ObjImage *img);

/* The resolver for objects from EmuLlvmApi.compile_object (llvm-tier.h
 * names the symbols): emu_tag_<i> -> tags[i], emu_helper_<name> -> the
 * helper's fn, emu_count_<i>_<j> -> counters[i][j], and the C library /
 * compiler runtime routines code generation may call (memcpy, memmove,
 * memset, __udivti3, __umodti3, __divti3, __modti3). */
typedef struct ObjEmuNames {
    const IrHelperInfo *helpers;
    uint32_t n_helpers;
    const uintptr_t *tags;         /* per region of the batch */
    uint32_t n_tags;
    uint64_t *const *const *counters; /* per region: per block (NULL: none) */
    const uint32_t *n_counters;    /* per region: entries in counters[i] */
} ObjEmuNames;
bool objload_emu_resolve(void *opaque /* ObjEmuNames */, const char *name, uint64_t *addr);

#endif /* EMU_RUNTIME_OBJLOAD_H */
