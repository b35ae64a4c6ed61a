/*
 * aot.h - ahead-of-time code discovery for emu-aot: find the guest basic
 * blocks of an AArch64 ELF module (program, ld.so, library) loaded in guest
 * memory, so they can be translated before the program runs.
 *
 * A module is read twice: its file with libelf (sections, symbols, dynamic
 * entries, relocations: where code may start) and its bytes in guest memory
 * (through readers, so relocations applied by ld.so are seen).  Sources of
 * block starts, in the order they are credited:
 *   entry    e_entry, DT_INIT, DT_FINI
 *   symbols  STT_FUNC / STT_GNU_IFUNC of .symtab and .dynsym
 *   relocs   targets of R_AARCH64_RELATIVE / ABS64 / GLOB_DAT / JUMP_SLOT /
 *            IRELATIVE and .preinit/.init/.fini_array entries
 *   pointers other code addresses: aligned 8-byte words of the data sections
 *            (as relocated in guest memory) and ADRP+ADD pairs in accepted
 *            blocks whose result points into an executable section (address-
 *            taken functions, computed-goto tables of a non-PIE program)
 *   descent  successors of accepted blocks: direct branch targets, the
 *            fall-through of conditional branches, return sites after BL/BLR,
 *            the next pc after a syscall or a block cut at its length limit
 *   sweep    a linear sweep of each executable section, block by block (a
 *            run of NOP padding also starts a candidate after it)
 * Every candidate is lifted with the frontend (GuestArch.translate) exactly as
 * the dispatcher would; a candidate whose block holds an undefined
 * instruction or cannot be fetched is dropped ("rejected"); a sweep candidate
 * must also branch directly only into the module's executable sections.
 *
 *   AotModule m;
 *   if (!aot_module_open(&m, "/lib/libc.so.6", bias, &data_reader, err, sizeof err))
 *       fprintf(stderr, "emu-aot: /lib/libc.so.6: %s\n", err);
 *   AotResult r;
 *   aot_discover(&m, &code_reader, &guest_arch_aarch64, flags, 512, NULL, &r);
 *   ... r.blocks[i].pc ...
 *   aot_result_free(&r); aot_module_free(&m);
 *
 * aot_module_open and aot_discover may run on several threads at once for
 * different modules (the frontend keeps no per-call global state).
 */
#ifndef EMU_AOT_AOT_H
#define EMU_AOT_AOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "runtime/guest-arch.h"

typedef enum AotSource {
    AOT_SRC_ENTRY,
    AOT_SRC_SYMBOL,
    AOT_SRC_RELOC,
    AOT_SRC_POINTER,
    AOT_SRC_DESCENT,
    AOT_SRC_SWEEP,
    AOT_SRC_COUNT
} AotSource;

extern const char *const aot_source_names[AOT_SRC_COUNT];

typedef struct AotRange {
    uint64_t start, end;   /* guest addresses [start, end) */
} AotRange;

typedef struct AotSeed {
    uint64_t pc;           /* guest address (bias applied) */
    uint8_t src;           /* AotSource */
} AotSeed;

/* What the ELF file says about code (guest addresses, bias applied). */
typedef struct AotModule {
    char *path;
    uint64_t bias;         /* guest address - ELF virtual address */
    AotRange *text;        /* executable sections, sorted, merged */
    size_t n_text;
    AotRange *data;        /* other allocated PROGBITS sections (pointer tables) */
    size_t n_data;
    AotSeed *seeds;        /* unsorted, may repeat, all inside text */
    size_t n_seeds, cap_seeds;
} AotModule;

/* Reads readable guest memory (data: relocated slots, init arrays).
 * false: not mapped readable. */
typedef struct AotMemReader {
    void *opaque;
    bool (*read)(void *opaque, uint64_t addr, void *buf, size_t len);
} AotMemReader;

/* Parse path with libelf: check it is a 64-bit little-endian AArch64 ELF
 * whose headers, sections and tables lie inside the file, collect the text
 * ranges and seeds.  mem (optional) gives the relocated contents of
 * relocation slots and init arrays.  false: err holds one line of reason
 * (without the file name) and m is empty. */
bool aot_module_open(AotModule *m, const char *path, uint64_t bias, const AotMemReader *mem,
                     char *err, size_t errlen);
void aot_module_free(AotModule *m);
/* Is pc inside one of m's executable sections? */
bool aot_module_in_text(const AotModule *m, uint64_t pc);
/* Bytes of executable sections. */
uint64_t aot_module_text_bytes(const AotModule *m);

typedef struct AotBlock {
    uint64_t pc;
    uint8_t src;           /* AotSource that found it first */
} AotBlock;

typedef struct AotOptions {
    unsigned sources;      /* bit mask of 1u << AotSource enabled (descent and
                              sweep included); 0: all */
} AotOptions;

typedef struct AotResult {
    AotBlock *blocks;      /* accepted block starts, sorted by pc */
    size_t n_blocks;
    size_t per_src[AOT_SRC_COUNT];
    size_t rejected;       /* candidates dropped (undefined insn, unfetchable,
                              sweep plausibility) */
    uint64_t lifted_insns; /* guest insns lifted while discovering */
} AotResult;

/* Discover the blocks of m.  code reads executable guest memory (as the
 * dispatcher's reader does); flags/max_insns are the dispatcher's.  false
 * only when out of memory. */
bool aot_discover(const AotModule *m, const GuestCodeReader *code, const GuestArch *arch,
                  uint32_t flags, unsigned max_insns, const AotOptions *opt, AotResult *out);
void aot_result_free(AotResult *r);

/* ---- A64 decoding (aot-a64.c) ------------------------------------------- */
typedef enum AotBranchKind {
    AOT_BR_NONE,       /* not a branch */
    AOT_BR_B,          /* B imm26: target only */
    AOT_BR_BL,         /* BL imm26: target and return site */
    AOT_BR_COND,       /* B.cond / BC.cond, CBZ/CBNZ, TBZ/TBNZ: target and fall-through */
    AOT_BR_INDIRECT,   /* BR, RET, ERET and authenticated forms: no known target */
    AOT_BR_CALL_INDIRECT, /* BLR and authenticated forms: return site only */
} AotBranchKind;

typedef struct AotBranch {
    AotBranchKind kind;
    uint64_t target;   /* B, BL, COND */
} AotBranch;

AotBranch aot_a64_branch(uint32_t insn, uint64_t pc);

#define AOT_A64_NOP 0xD503201Fu

/* ADRP Xd, label at pc: true with the register and the page address. */
bool aot_a64_adrp(uint32_t insn, uint64_t pc, unsigned *rd, uint64_t *page);
/* ADD Xd, Xn, #imm (64-bit, shifted or not): true with rd, rn and imm. */
bool aot_a64_add_imm(uint32_t insn, unsigned *rd, unsigned *rn, uint64_t *imm);

#endif /* EMU_AOT_AOT_H */
