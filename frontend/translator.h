/*
 * translator.h - the ISA-neutral translation loop.
 *
 * A frontend fills a DisasContextBase (usually embedded first in its own
 * DisasContext), supplies TranslatorOps hooks and calls translator_loop(),
 * which lifts one guest instruction after another into db->ir until
 *   - a hook sets db->is_jmp to something other than DISAS_NEXT (a branch,
 *     an exit, an undefined insn...),
 *   - db->max_insns instructions have been translated,
 *   - the next instruction starts on another 4 KiB page than the first, or
 *   - the next instruction cannot be read (the block ends before it; if it
 *     is the very first one, the block is exit(IR_EXIT_FETCH_FAULT, pc)).
 * tb_stop then closes the block (typically goto_tb to db->pc_next unless
 * the last instruction already emitted an exit).
 *
 *   DisasContext s = { .base = { .pc_first = pc, .max_insns = 512,
 *                                .ir = ir_block_new(globals, pc, flags),
 *                                .code = reader } };
 *   translator_loop(&a64_translator_ops, &s.base);
 */
#ifndef EMU_FRONTEND_TRANSLATOR_H
#define EMU_FRONTEND_TRANSLATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ir/ir.h"
#include "runtime/guest-arch.h"

#define TRANSLATOR_PAGE_BITS 12
#define TRANSLATOR_PAGE_SIZE (1u << TRANSLATOR_PAGE_BITS)

/* How the block continues after an instruction (DisasContextBase.is_jmp).
 * Frontends add their own values from DISAS_TARGET_0 on. */
typedef enum DisasJumpType {
    DISAS_NEXT,       /* go on with the next instruction */
    DISAS_TOO_MANY,   /* stop here; tb_stop chains to pc_next */
    DISAS_NORETURN,   /* the instruction emitted its own exit: nothing follows */
    DISAS_TARGET_0,   /* first frontend-specific value */
    DISAS_TARGET_1,
    DISAS_TARGET_2,
    DISAS_TARGET_3,
} DisasJumpType;

typedef struct DisasContextBase {
    uint64_t pc_first;            /* guest pc of the first instruction of the block */
    uint64_t pc_next;             /* guest pc of the instruction to translate next */
    unsigned num_insns;           /* instructions translated so far */
    unsigned max_insns;           /* stop after this many (>= 1) */
    int is_jmp;                   /* DisasJumpType (or frontend value) */
    uint32_t mode_flags;          /* translation mode (part of the block key) */
    IrBlock *ir;                  /* the block being built */
    const GuestCodeReader *code;  /* guest code reader */
} DisasContextBase;

typedef struct TranslatorOps {
    /* Before the first instruction (may set up frontend state). */
    void (*tb_start)(DisasContextBase *db);
    /* Opens an instruction at db->pc_next: emits ir_insn_start. */
    void (*insn_start)(DisasContextBase *db);
    /* Lifts one instruction; must advance db->pc_next past it and may set
     * db->is_jmp. */
    void (*translate_insn)(DisasContextBase *db);
    /* Closes the block according to db->is_jmp. */
    void (*tb_stop)(DisasContextBase *db);
    /* Smallest instruction size in bytes: the loop checks that this much
     * can be read before opening an instruction (4 on AArch64, 1 on x86). */
    unsigned min_insn_len;
} TranslatorOps;

/* Runs the loop over db (pc_first, max_insns, ir and code must be set).
 * Sets db->ir->guest_size to the bytes covered. */
void translator_loop(const TranslatorOps *ops, DisasContextBase *db);

/* Reads len bytes of guest code at pc; false if not readable. */
bool translator_read(const DisasContextBase *db, uint64_t pc, void *buf, size_t len);

/* Reads a little-endian 32-bit word of code; false if not readable. */
bool translator_ldl(const DisasContextBase *db, uint64_t pc, uint32_t *out);

#endif /* EMU_FRONTEND_TRANSLATOR_H */
