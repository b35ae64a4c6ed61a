/*
 * user-run.h - run one AArch64 Linux program in user mode: reserve the
 * guest address space, load the ELF, build the stack, create the runtime
 * engine and CPU, and loop over exec_run events (syscalls, faults).
 *
 *   UserConfig c = { .prog = "hello", .argc = 1, .argv = (char *[]){"hello", 0},
 *                    .envp = environ, .tier = EXEC_TIER_TEMPLATE };
 *   return user_run(&c);   // returns only on a load error (status 1)
 */
#ifndef EMU_USER_USER_RUN_H
#define EMU_USER_USER_RUN_H

#include <stdbool.h>
#include "runtime/exec.h"

typedef struct UserConfig {
    const char *prog;      /* path of the guest program */
    int argc;
    char **argv;           /* guest argv (argv[0] as the guest should see it) */
    char **envp;           /* guest environment, NULL-terminated */
    ExecTier tier;
    bool stats;            /* print runtime counters at exit */
    char *emu_path;        /* this emulator's binary (for guest execve) */
    char **emu_opts;       /* options to pass again on guest execve */
    const char *ld_prefix; /* -L PATH: guest root for the interpreter and absolute paths */
    const struct UserCpuModel *cpu;   /* -cpu (NULL: the default, "max") */
    int cache_mode;        /* code cache (--tier=auto): EmuCacheMode, 0 = off */
    const char *cache_dir; /* --cache-dir (NULL: EMU_CACHE_DIR etc., cache/cache.h) */
} UserConfig;

/* Does not return while the guest runs (it ends with the guest's exit
 * status or signal).  Returns 1 after one line "emu-user: <file>: <reason>"
 * on stderr if the program cannot be started. */
int user_run(const UserConfig *cfg);

#endif /* EMU_USER_USER_RUN_H */
