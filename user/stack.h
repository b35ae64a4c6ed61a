/*
 * stack.h - the initial guest stack of a Linux process: argc, argv, envp,
 * the auxiliary vector and the strings they point to, as the AArch64 Linux
 * kernel lays them out (sp 16-byte aligned, pointing at argc).
 *
 *   UserStackArgs a = { .argc = n, .argv = av, .envp = env, .execfn = path,
 *                       .img = &img, .hwcap = model->hwcap };
 *   uint64_t sp;
 *   if (!user_stack_setup(mem, &a, &sp, err, sizeof err)) ...
 */
#ifndef EMU_USER_STACK_H
#define EMU_USER_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "user/elf-load.h"
#include "user/guest-mem.h"

/* Auxiliary vector keys (Linux uapi numbers). */
enum {
    GUEST_AT_NULL = 0, GUEST_AT_PHDR = 3, GUEST_AT_PHENT = 4, GUEST_AT_PHNUM = 5,
    GUEST_AT_PAGESZ = 6, GUEST_AT_BASE = 7, GUEST_AT_FLAGS = 8, GUEST_AT_ENTRY = 9,
    GUEST_AT_UID = 11, GUEST_AT_EUID = 12, GUEST_AT_GID = 13, GUEST_AT_EGID = 14,
    GUEST_AT_PLATFORM = 15, GUEST_AT_HWCAP = 16, GUEST_AT_CLKTCK = 17,
    GUEST_AT_SECURE = 23, GUEST_AT_RANDOM = 25, GUEST_AT_HWCAP2 = 26,
    GUEST_AT_EXECFN = 31, GUEST_AT_MINSIGSTKSZ = 51,
};

/* Stack needed to deliver a signal (AT_MINSIGSTKSZ): the arm64 kernel's
 * rt_sigframe without SVE is ~4.6 KiB. */
#define GUEST_MINSIGSTKSZ 5120

typedef struct UserStackArgs {
    int argc;
    char *const *argv;       /* argc strings */
    char *const *envp;       /* NULL-terminated */
    const char *execfn;      /* AT_EXECFN string */
    const ElfImage *img;
    uint64_t hwcap, hwcap2;
    uint64_t interp_base;    /* AT_BASE: where the interpreter is (0: none) */
} UserStackArgs;

/* Map the stack ("[stack]", GUEST_STACK_SIZE bytes at the top of the guest
 * space) and fill it.  *sp: the guest sp for the entry point. */
bool user_stack_setup(GuestMem *m, const UserStackArgs *a, uint64_t *sp, char *err,
                      size_t errlen);

#endif /* EMU_USER_STACK_H */
