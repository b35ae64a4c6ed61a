/*
 * elf-load.h - load an AArch64 Linux executable (static, static-pie or
 * dynamic: its PT_INTERP is reported, user-run.c loads it) into the guest
 * address space.  Everything in the file is checked before any
 * of it is used (design invariant 6): a bad file gives one line of reason.
 *
 *   ElfImage img;
 *   if (!elf_load(mem, "hello", &img, err, sizeof err))
 *       fprintf(stderr, "emu-user: hello: %s\n", err);
 */
#ifndef EMU_USER_ELF_LOAD_H
#define EMU_USER_ELF_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "user/guest-mem.h"

/* Where ET_DYN (static-pie) images are placed. */
#define ELF_ET_DYN_BIAS 0x5500000000ull

typedef struct ElfImage {
    uint64_t entry;        /* guest entry point (bias applied) */
    uint64_t load_bias;    /* 0 for ET_EXEC */
    uint64_t phdr_addr;    /* guest address of the program headers (AT_PHDR) */
    unsigned phnum;        /* AT_PHNUM */
    unsigned phentsize;    /* AT_PHENT */
    uint64_t start;        /* lowest mapped guest address */
    uint64_t end;          /* end of the highest segment (brk starts here) */
    bool exec_stack;       /* PT_GNU_STACK asks for PF_X */
    char interp[256];      /* PT_INTERP path of a dynamic program, "" if none */
} ElfImage;

/* Check everything, then map the image (no guest memory is touched when
 * validation fails).  false: err holds the reason (no file name). */
bool elf_load(GuestMem *m, const char *path, ElfImage *img, char *err, size_t errlen);

/* Load a program interpreter (ld.so): the same checks, but it may not
 * have a PT_INTERP itself and an ET_DYN interpreter goes to a free place
 * below the mmap area (like Linux's ELF_ET_DYN_BASE-less interpreters). */
bool elf_load_interp(GuestMem *m, const char *path, ElfImage *img, char *err, size_t errlen);

/* Validation only (no mapping): the same checks elf_load makes.  On
 * success fills img as elf_load would (bias applied). */
bool elf_check(int fd, uint64_t guest_limit, ElfImage *img, char *err, size_t errlen);

/* pread exactly len bytes at off (retrying short reads and EINTR); false on
 * an error or end of file. */
bool elf_pread_full(int fd, void *buf, uint64_t len, uint64_t off);

#endif /* EMU_USER_ELF_LOAD_H */
