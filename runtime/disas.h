/*
 * disas.h - instruction disassembly for `-d in_asm,out_asm` through LLVM's
 * disassembler C API, loaded with dlopen() on first use (design.md
 * invariant 8: a run without -d never loads LLVM).  If libLLVM cannot be
 * loaded, bytes are printed in hex after a one-time warning.
 *
 *   disas_print(out, "aarch64-linux-gnu", code, len, guest_pc);
 */
#ifndef EMU_RUNTIME_DISAS_H
#define EMU_RUNTIME_DISAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Print one line per instruction: "0x<addr>:  <bytes>  <text>".  Triple:
 * "aarch64-linux-gnu" or "x86_64-linux-gnu".  addr is the address shown. */
void disas_print(FILE *out, const char *triple, const uint8_t *code, size_t len, uint64_t addr);
/* Is LLVM loaded (for tests: a run without -d must keep this false)? */
bool disas_llvm_loaded(void);

#endif /* EMU_RUNTIME_DISAS_H */
