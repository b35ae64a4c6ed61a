/*
 * guest-arch.h - what the ISA-neutral runtime needs from a guest frontend.
 *
 *   const GuestArch *arch = &guest_arch_aarch64;
 *   IrBlock *b = arch->translate(pc, mode_flags, &reader, 512);
 */
#ifndef EMU_RUNTIME_GUEST_ARCH_H
#define EMU_RUNTIME_GUEST_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ir/ir.h"

/* Reads guest code for the frontend.  Returns false when [pc, pc+len) is not
 * mapped executable; the frontend then ends the block before that insn (or,
 * for the first insn, emits exit(IR_EXIT_FETCH_FAULT, pc)). */
typedef struct GuestCodeReader {
    void *opaque;
    /* The frontend may also read code near the block (in its pages) and
     * reports what in IrBlock.read_before/read_after. */
    bool (*read)(void *opaque, uint64_t pc, void *buf, size_t len);
} GuestCodeReader;

typedef struct GuestArch {
    const char *name;            /* "aarch64" */
    const char *llvm_triple;     /* for the LLVM disassembler: "aarch64-linux-gnu" */
    size_t state_size;           /* sizeof the CPU state struct (starts with CpuCommon) */
    size_t state_align;
    const IrGlobalSet *globals;  /* valid after init() */
    void (*init)(void);          /* register globals; idempotent */
    /* Lift one block at pc (at most max_insns guest instructions).  Never
     * NULL: an undecodable insn ends the block with exit(IR_EXIT_UNDEF, its pc),
     * unreadable code with exit(IR_EXIT_FETCH_FAULT, its pc). */
    IrBlock *(*translate)(uint64_t pc, uint32_t mode_flags, const GuestCodeReader *code,
                          unsigned max_insns);
    /* What else the translation of the same bytes depends on, constant per
     * process (AArch64: the -cpu model's features, which decide what is
     * UNDEF).  Part of the code cache's build identity; NULL: nothing. */
    uint64_t (*config_id)(void);
    /* Set what config_id names (emu-cache verify --deep translates a pack's
     * blocks as the run that wrote them did).  NULL: nothing to set. */
    void (*set_config)(uint64_t id);
    /* Globals (i64, by name; NULL-terminated, at most TMPL_MAX_PINS) that
     * template code keeps in host registers across blocks: the ones most
     * blocks read or write (runtime/pins.c). */
    const char *const *pinned;
} GuestArch;

extern const GuestArch guest_arch_aarch64;

#endif /* EMU_RUNTIME_GUEST_ARCH_H */
