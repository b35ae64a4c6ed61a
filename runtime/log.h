/*
 * log.h - qemu-style debug logging: `-d in_asm,op,out_asm,exec,unimp` and
 * `-D FILE`.  One process-wide mask and FILE*; cheap to test on hot paths.
 *
 *   if (!emu_log_parse("in_asm,exec", &mask, err, sizeof err)) usage(err);
 *   emu_log_set_mask(mask);  emu_log_open("trace.log");   // default stderr
 *   if (emu_log_enabled(EMU_LOG_UNIMP)) emu_log("unimplemented syscall %d\n", n);
 */
#ifndef EMU_RUNTIME_LOG_H
#define EMU_RUNTIME_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum {
    EMU_LOG_IN_ASM = 1u << 0,       /* guest disassembly of each translated block */
    EMU_LOG_OP = 1u << 1,           /* IR before optimisation */
    EMU_LOG_OP_OPT = 1u << 2,       /* IR after optimisation */
    EMU_LOG_OUT_ASM = 1u << 3,      /* host disassembly of generated code */
    EMU_LOG_EXEC = 1u << 4,         /* one line per executed block (disables chaining) */
    EMU_LOG_UNIMP = 1u << 5,        /* unimplemented features (written by the user layer) */
    EMU_LOG_GUEST_ERRORS = 1u << 6, /* guest did something invalid */
    EMU_LOG_LLVM_IR = 1u << 7,      /* LLVM IR of each region, before and after optimisation */
    EMU_LOG_LLVM_ASM = 1u << 8,     /* host assembly of each LLVM region */
    EMU_LOG_CACHE = 1u << 9,        /* code cache: packs, loads, stores, rejected entries */
    EMU_LOG_PERFMAP = 1u << 10,     /* /tmp/perf-<pid>.map naming generated code for perf */
    EMU_LOG_TIER = 1u << 11,        /* tier-up: hot blocks, regions formed, installed, probed */
};

extern unsigned emu_log_mask;
#define emu_log_enabled(m) (__builtin_expect((emu_log_mask & (m)) != 0, 0))

/* Parse "in_asm,op,out_asm,exec,unimp" ("op" means op and op_opt; "help"
 * lists the names into err and returns false).  false + message on error. */
bool emu_log_parse(const char *spec, unsigned *mask, char *err, size_t errlen);
void emu_log_set_mask(unsigned mask);
/* Log to FILE (truncated); false + errno on failure.  NULL: stderr. */
bool emu_log_open(const char *path);
FILE *emu_log_file(void);
void emu_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Hold the log lock so a multi-line record is not interleaved by threads. */
void emu_log_lock(void);
void emu_log_unlock(void);
void emu_log_close(void);

#endif /* EMU_RUNTIME_LOG_H */
