/*
 * user-run.h - run one AArch64 Linux program in user mode: reserve the
 * guest address space, load the ELF, build the stack, create the runtime
 * engine and CPU, and loop over exec_run events (syscalls, faults).
 *
 *   UserConfig c = { .prog = "hello", .argc = 1, .argv = (char *[]){"hello", 0},
 *                    .envp = environ, .tier = EXEC_TIER_TEMPLATE };
 *   return user_run(&c);   // returns only on a load error (status 1)
 *
 * With at_entry set (emu-aot) the program runs only until its guest pc first
 * reaches the main program's entry point (AT_ENTRY): for a dynamic program the
 * guest ld.so has then mapped and relocated every library; for a static one
 * that is at once.  Then at_entry is called instead of running the program,
 * the engine is stopped as at guest exit (exec_engine_stop_background: the
 * code cache writes its packs) and user_run returns at_entry's result.
 */
#ifndef EMU_USER_USER_RUN_H
#define EMU_USER_USER_RUN_H

#include <stdbool.h>
#include "runtime/exec.h"

struct GuestMem; /* user/guest-mem.h */

/* The tier emu-user and emu-aot use unless told otherwise (--tier, EMU_TIER):
 * the same in both, as cached template blocks of auto (with tier-up
 * counters) serve auto runs only. */
#define USER_DEFAULT_TIER EXEC_TIER_AUTO

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
    /* Optional: stop at the main program's entry point (see above).  Called
     * on the guest thread with the guest at AT_ENTRY (nothing translated
     * there yet); its return value is user_run's. */
    int (*at_entry)(void *opaque, ExecEngine *e, ExecCpu *cpu, struct GuestMem *mem);
    void *at_entry_opaque;
} UserConfig;

/* Does not return while the guest runs (it ends with the guest's exit
 * status or signal).  Returns 1 after one line "emu-user: <file>: <reason>"
 * on stderr if the program cannot be started, and at_entry's result when
 * that hook ran. */
int user_run(const UserConfig *cfg);

#endif /* EMU_USER_USER_RUN_H */
