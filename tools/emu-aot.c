/*
 * emu-aot - translate an AArch64 Linux program's code before it runs.
 *
 *   emu-aot [--jobs N] [-L root] [--cache-dir D] [-q] prog.elf [args...]
 *
 * The program is set up exactly as emu-user would (same address space
 * layout, same -L handling, its ld.so maps and relocates the libraries) and
 * stopped when it first reaches its entry point; then aot/ discovers the
 * code of every mapped module and translates it.  Only option parsing and
 * the up-front checks of the ELF files live here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "aot/aot-run.h"
#include "aot/aot.h"
#include "cache/cache.h"
#include "runtime/exec.h"
#include "runtime/log.h"
#include "user/elf-load.h"
#include "user/guest-mem.h"
#include "user/user-cli.h"
#include "user/user-run.h"

#define EMU_VERSION "0.1"

extern char **environ;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: emu-aot [options] program [arguments...]\n"
            "Translate an AArch64 Linux program and its libraries before it runs.\n"
            "\n"
            "The program is loaded as emu-user loads it and run only until it reaches\n"
            "its entry point (a dynamic program's ld.so has then mapped and relocated\n"
            "its libraries; it executes nothing of the program itself).  The code of\n"
            "every mapped module is then found from its ELF file and guest memory\n"
            "(entry, symbols, relocations and pointer tables, recursive descent over\n"
            "direct branches, a linear sweep of executable sections; candidates the\n"
            "frontend finds undefined instructions in are dropped) and each block is\n"
            "translated as emu-user's dispatcher would.  The code cache stores them at\n"
            "the end, so a later emu-user run of the program with the same tier\n"
            "loads them instead of translating.\n"
            "\n"
            "  --jobs N          discovery threads (default: online CPUs).  They read\n"
            "                    the ELF files and lift candidates, one module per thread\n"
            "                    at a time, while the main thread translates the modules\n"
            "                    already discovered; translation itself is serial (the\n"
            "                    engine translates under one lock) and takes most of the\n"
            "                    time, so more threads gain little\n"
            "  -L PATH           guest root for the interpreter and absolute paths, as\n"
            "                    emu-user (env EMU_LD_PREFIX)\n"
            "  --cache-dir DIR   code cache directory (default $EMU_CACHE_DIR, else\n"
            "                    $XDG_CACHE_HOME/emu, else ~/.cache/emu); env EMU_CACHE=\n"
            "                    rw|ro|off as for emu-user (only rw stores anything)\n"
            "  --tier=template|auto  the tier emu-user will run with (default auto;\n"
            "                    env EMU_TIER): auto blocks carry tier-up counters, so\n"
            "                    they serve emu-user --tier=auto runs only\n"
            "  -q                no progress line, no summary\n"
            "  -v                one line per module too\n"
            "  --stats           the runtime's counters at the end, as emu-user --stats.\n"
            "                    A --stats run stores nothing in the code cache (its\n"
            "                    code carries counters): for measuring, not filling\n"
            "  -d LIST, -D FILE  log items (-d help lists them; e.g. -d cache), log file\n"
            "  -h, --help        this help\n"
            "  --version         version\n"
            "\n"
            "On a terminal a progress line (blocks done/total, blocks/s, ETA) is shown;\n"
            "at the end one summary line.  Exit status 0, 1 after one line\n"
            "\"emu-aot: FILE: REASON\" when a file cannot be used, 2 on bad usage.\n");
}

static _Noreturn void bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "emu-aot: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see emu-aot --help)\n");
    exit(2);
}

/* The checks elf_load makes and those of the discovery's ELF reader, with
 * emu-aot's message; img gets the program's interpreter. */
static bool check_elf(const char *path, ElfImage *img)
{
    char err[512];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "emu-aot: %s: %s\n", path, strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "emu-aot: %s: not a regular file\n", path);
        close(fd);
        return false;
    }
    AotModule m;
    bool ok = aot_module_open(&m, path, 0, NULL, err, sizeof err);
    if (ok)
        aot_module_free(&m);
    else
        fprintf(stderr, "emu-aot: %s: %s\n", path, err);
    if (ok && !(ok = elf_check(fd, GUEST_MEM_DEFAULT_LIMIT, img, err, sizeof err)))
        fprintf(stderr, "emu-aot: %s: %s\n", path, err);
    close(fd);
    return ok;
}

/* shared with the child (MAP_SHARED): the parent sees reached */
static AotRunConfig *run_cfg;

/* The work runs in a child process, so that a guest which never reaches its
 * entry (ld.so cannot find a library, or crashes: emu then dies by the
 * guest's signal) and any crash while translating become one line and exit
 * status 1 here.  run_cfg lives in shared memory: its reached flag, set by
 * the hook, says whether the entry was reached. */
static int run_child(UserConfig *cfg)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "emu-aot: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        /* a run uses a scattered few of the blocks translated here: the
         * cache stores them uncompressed, so a get decompresses nothing */
        emu_cache_set_ahead_of_time(true);
        int status = user_run(cfg);
        aot_run_report(run_cfg, aot_now() - run_cfg->hook_end);
        fflush(NULL);
        _exit(status);
    }
    int ws;
    while (waitpid(pid, &ws, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "emu-aot: waitpid: %s\n", strerror(errno));
            return 1;
        }
    }
    if (!__atomic_load_n(&run_cfg->reached, __ATOMIC_SEQ_CST)) {
        char how[64];
        if (WIFSIGNALED(ws))
            snprintf(how, sizeof how, "died by signal %d (%s)", WTERMSIG(ws),
                     strsignal(WTERMSIG(ws)));
        else
            snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(ws));
        fprintf(stderr, "emu-aot: %s: the program %s before reaching its entry point; "
                "nothing was translated\n", cfg->prog, how);
        return 1;
    }
    if (WIFSIGNALED(ws)) {
        fprintf(stderr, "emu-aot: %s: internal error: killed by signal %d (%s) while "
                "translating\n", cfg->prog, WTERMSIG(ws), strsignal(WTERMSIG(ws)));
        return 1;
    }
    return WEXITSTATUS(ws);
}

int main(int argc, char **argv)
{
    run_cfg = mmap(NULL, sizeof *run_cfg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (run_cfg == MAP_FAILED) {
        fprintf(stderr, "emu-aot: mmap: %s\n", strerror(errno));
        return 1;
    }
    UserConfig cfg = { .tier = USER_DEFAULT_TIER, .cache_mode = EMU_CACHE_RW };
    const char *ld_prefix = getenv("EMU_LD_PREFIX");
    const char *tier_env = getenv("EMU_TIER"), *cache_env = getenv("EMU_CACHE");
    if (cache_env && *cache_env && !user_cli_cache_mode(cache_env, &cfg.cache_mode))
        bad_usage("EMU_CACHE=%s: expected rw, ro or off", cache_env);
    if (tier_env && *tier_env) {
        if (!strcmp(tier_env, "template"))
            cfg.tier = EXEC_TIER_TEMPLATE;
        else if (!strcmp(tier_env, "auto"))
            cfg.tier = EXEC_TIER_AUTO;
        else
            bad_usage("EMU_TIER=%s: expected template or auto", tier_env);
    }
    const char *log_spec = NULL, *log_file = NULL;
    int i = 1;
    for (; i < argc; i++) {
        char *a = argv[i];
        if (a[0] != '-' || !strcmp(a, "-"))
            break;
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        const char *val = NULL;
        if (!strcmp(a, "--jobs") || !strcmp(a, "-j") || !strcmp(a, "-L") ||
            !strcmp(a, "--cache-dir") || !strcmp(a, "-d") || !strcmp(a, "-D")) {
            if (i + 1 >= argc)
                bad_usage("option %s needs an argument", a);
            val = argv[++i];
        } else if (!strncmp(a, "--jobs=", 7)) {
            val = a + 7;
            a = "--jobs";
        } else if (!strncmp(a, "--cache-dir=", 12)) {
            val = a + 12;
            a = "--cache-dir";
        }
        if (!strcmp(a, "--jobs") || !strcmp(a, "-j")) {
            char *end;
            long n = strtol(val, &end, 10);
            if (*end || end == val || n < 1 || n > 1024)
                bad_usage("--jobs %s: expected a number from 1 to 1024", val);
            run_cfg->jobs = (unsigned)n;
        } else if (!strcmp(a, "-L")) {
            ld_prefix = val;
        } else if (!strcmp(a, "-d")) {
            log_spec = val;
        } else if (!strcmp(a, "-D")) {
            log_file = val;
        } else if (!strcmp(a, "--cache-dir")) {
            cfg.cache_dir = user_cli_abs_path(val);
        } else if (!strcmp(a, "--tier=template")) {
            cfg.tier = EXEC_TIER_TEMPLATE;
        } else if (!strcmp(a, "--tier=auto")) {
            cfg.tier = EXEC_TIER_AUTO;
        } else if (!strcmp(a, "-q")) {
            run_cfg->quiet = true;
        } else if (!strcmp(a, "-v")) {
            run_cfg->verbose = true;
        } else if (!strcmp(a, "--stats")) {
            cfg.stats = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("emu-aot %s (AArch64 Linux user mode)\n", EMU_VERSION);
            return 0;
        } else {
            bad_usage("unknown option %s", a);
        }
    }
    /* a bad -d is a usage error (2), a -D that cannot be written a failure (1) */
    int st = user_cli_log("emu-aot", log_spec, NULL, 2);
    if (st < 0)
        st = user_cli_log("emu-aot", NULL, log_file, 1);
    if (st >= 0)
        return st;
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    if (ld_prefix && *ld_prefix && !(cfg.ld_prefix = user_cli_root("emu-aot", ld_prefix)))
        return 1;
    if (!run_cfg->quiet && (cfg.cache_mode != EMU_CACHE_RW || cfg.stats))
        fprintf(stderr, "emu-aot: note: %s: translations are measured but not stored\n",
                cfg.stats ? "a --stats run stores nothing in the code cache"
                          : "the code cache is not writable (EMU_CACHE)");
    const char *prog = argv[i];
    ElfImage img, interp;
    if (!check_elf(prog, &img))
        return 1;
    if (img.interp[0]) {
        char buf[PATH_MAX];
        const char *ipath = user_prefixed_path(cfg.ld_prefix, img.interp, buf);
        if (access(ipath, F_OK) != 0) {
            fprintf(stderr, "emu-aot: %s: interpreter %s: %s%s\n", prog, ipath,
                    strerror(errno), cfg.ld_prefix ? "" : " (a dynamic program needs -L GUEST_ROOT)");
            return 1;
        }
        if (!check_elf(ipath, &interp))
            return 1;
    }

    static char *no_opts[] = { NULL };
    cfg.prog = prog;
    cfg.argc = argc - i;
    cfg.argv = &argv[i];
    cfg.envp = environ;
    cfg.emu_path = (char *)user_cli_self(argv[0]);
    cfg.emu_opts = no_opts;
    cfg.at_entry = aot_run_at_entry;
    cfg.at_entry_opaque = run_cfg;
    run_cfg->prog = prog;
    return run_child(&cfg);
}
