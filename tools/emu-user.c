/*
 * emu-user - run an AArch64 Linux program on this host (like qemu-aarch64).
 *
 *   emu-user [options] prog [args...]
 *   emu-user --tier=interp -d in_asm,unimp -D trace.log ./hello
 *
 * Only option parsing lives here; the work is in user/ and runtime/.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cache/cache.h"
#include "runtime/exec.h"
#include "runtime/log.h"
#include "support/hostfd.h"
#include "user/hwcap.h"
#include "user/user-cli.h"
#include "user/user-run.h"

#define EMU_VERSION "0.1"

extern char **environ;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: emu-user [options] program [arguments...]\n"
            "Run an AArch64 Linux program (static, or dynamic with -L).\n"
            "\n"
            "  --tier=auto|template|llvm|interp  execution tier (default auto; env EMU_TIER)\n"
            "  -L PATH                 guest root: the ELF interpreter and absolute paths\n"
            "                          are looked up there first (env EMU_LD_PREFIX)\n"
            "  -cpu NAME               CPU shown to the guest (-cpu help lists them;\n"
            "                          default max; env EMU_CPU)\n"
            "  -d LIST                 log items, comma separated (-d help lists them)\n"
            "  -D FILE                 write the log to FILE instead of stderr\n"
            "  --stats                 print translation/execution counters at exit\n"
            "  --cache=rw|ro|off       code cache: translations of template and auto tiers\n"
            "                          outlive the run (default rw; env EMU_CACHE)\n"
            "  --no-cache              the same as --cache=off\n"
            "  --cache-dir DIR         cache directory (default $EMU_CACHE_DIR, else\n"
            "                          $XDG_CACHE_HOME/emu, else ~/.cache/emu)\n"
            "  -E VAR=VALUE            set VAR in the guest environment\n"
            "  -U VAR                  remove VAR from the guest environment\n"
            "  -0 ARGV0                argv[0] of the guest (default: program)\n"
            "  -h, --help              this help\n"
            "  --version               version\n");
}

static _Noreturn void bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "emu-user: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see emu-user --help)\n");
    exit(1);
}

static bool parse_tier(const char *s, ExecTier *tier)
{
    if (!strcmp(s, "interp"))
        *tier = EXEC_TIER_INTERP;
    else if (!strcmp(s, "template"))
        *tier = EXEC_TIER_TEMPLATE;
    else if (!strcmp(s, "llvm"))
        *tier = EXEC_TIER_LLVM;
    else if (!strcmp(s, "auto"))
        *tier = EXEC_TIER_AUTO;
    else
        return false;
    return true;
}

/* Guest environment: the host's, then -E/-U in order. */
typedef struct EnvList {
    char **v;
    size_t n, cap;
} EnvList;

static void env_unset(EnvList *e, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < e->n;) {
        if (!strncmp(e->v[i], name, len) && e->v[i][len] == '=') {
            memmove(&e->v[i], &e->v[i + 1], (e->n - i) * sizeof e->v[0]);
            e->n--;
        } else {
            i++;
        }
    }
}

static void env_set(EnvList *e, char *assignment)
{
    char *eq = strchr(assignment, '=');
    char name[eq - assignment + 1];
    memcpy(name, assignment, (size_t)(eq - assignment));
    name[eq - assignment] = 0;
    env_unset(e, name);
    if (e->n + 2 > e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->v = realloc(e->v, e->cap * sizeof e->v[0]);
        if (!e->v) {
            perror("emu-user");
            exit(1);
        }
    }
    e->v[e->n++] = assignment;
    e->v[e->n] = NULL;
}

int main(int argc, char **argv)
{
    hostfd_own_stderr();   /* emu's messages survive the guest closing its fd 2 */
    UserConfig cfg = { .tier = USER_DEFAULT_TIER, .cache_mode = EMU_CACHE_RW };
    const char *cache_env = getenv("EMU_CACHE");
    if (cache_env && *cache_env && !user_cli_cache_mode(cache_env, &cfg.cache_mode))
        bad_usage("EMU_CACHE=%s: expected rw, ro or off", cache_env);
    const char *tier_env = getenv("EMU_TIER");
    if (tier_env && *tier_env && !parse_tier(tier_env, &cfg.tier))
        bad_usage("EMU_TIER=%s: expected auto, template, llvm or interp", tier_env);

    const char *ld_prefix = getenv("EMU_LD_PREFIX"), *cpu_name = getenv("EMU_CPU");
    EnvList env = { 0 };
    for (char **e = environ; *e; e++)
        if (strchr(*e, '='))
            env_set(&env, *e);
    if (!env.v)
        env_set(&env, "PATH=/usr/bin:/bin");

    /* Options given again to emu on guest execve (tier, -d, --stats). */
    char **opts = calloc((size_t)argc + 8, sizeof *opts);
    size_t n_opts = 0;
    const char *argv0 = NULL, *log_file = NULL, *log_spec = NULL;
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
        /* Options taking a value: -d LIST, -D FILE, -E, -U, -0, --tier X. */
        if (!strcmp(a, "-d") || !strcmp(a, "-D") || !strcmp(a, "-E") || !strcmp(a, "-U") ||
            !strcmp(a, "-0") || !strcmp(a, "--tier") || !strcmp(a, "-L") || !strcmp(a, "-cpu") ||
            !strcmp(a, "--cache-dir")) {
            if (i + 1 >= argc)
                bad_usage("option %s needs an argument", a);
            val = argv[++i];
        }
        if (!strncmp(a, "--tier=", 7) || !strcmp(a, "--tier")) {
            const char *t = val ? val : a + 7;
            if (!parse_tier(t, &cfg.tier))
                bad_usage("unknown tier '%s' (auto, template, llvm or interp)", t);
        } else if (!strncmp(a, "--cache=", 8)) {
            if (!user_cli_cache_mode(a + 8, &cfg.cache_mode))
                bad_usage("--cache=%s: expected rw, ro or off", a + 8);
            opts[n_opts++] = a;
        } else if (!strcmp(a, "--no-cache")) {
            cfg.cache_mode = EMU_CACHE_OFF;
            opts[n_opts++] = a;
        } else if (!strcmp(a, "--cache-dir")) {
            val = cfg.cache_dir = user_cli_abs_path(val);
            opts[n_opts++] = a;
            opts[n_opts++] = (char *)val;
        } else if (!strcmp(a, "-d")) {
            log_spec = val;
        } else if (!strcmp(a, "-L")) {
            ld_prefix = val;
        } else if (!strcmp(a, "-cpu")) {
            cpu_name = val;
        } else if (!strcmp(a, "-D")) {
            log_file = val;
        } else if (!strcmp(a, "--stats")) {
            cfg.stats = true;
            opts[n_opts++] = "--stats";
        } else if (!strcmp(a, "-E")) {
            if (!strchr(val, '=') || val[0] == '=')
                bad_usage("-E %s: expected VAR=VALUE", val);
            env_set(&env, (char *)val);
        } else if (!strcmp(a, "-U")) {
            env_unset(&env, val);
        } else if (!strcmp(a, "-0")) {
            argv0 = val;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("emu-user %s (AArch64 Linux user mode)\n", EMU_VERSION);
            return 0;
        } else {
            bad_usage("unknown option %s", a);
        }
    }

    if (cpu_name && *cpu_name) {
        if (!strcmp(cpu_name, "help")) {
            printf("Available CPUs (-cpu NAME):\n");
            for (const UserCpuModel *c = user_cpu_models; c->name; c++)
                printf("  %-12s %s%s\n", c->name, c->desc,
                       !strcmp(c->name, USER_CPU_DEFAULT) ? " [default]" : "");
            return 0;
        }
        cfg.cpu = user_cpu_model_find(cpu_name);
        if (!cfg.cpu)
            bad_usage("unknown CPU '%s' (-cpu help lists them)", cpu_name);
        opts[n_opts++] = "-cpu";
        opts[n_opts++] = (char *)cfg.cpu->name;
    }
    if (ld_prefix && *ld_prefix) {
        /* Absolute, so a guest chdir does not change what it means. */
        char *prefix_abs = user_cli_root("emu-user", ld_prefix);
        if (!prefix_abs)
            return 1;
        cfg.ld_prefix = prefix_abs;
        opts[n_opts++] = "-L";
        opts[n_opts++] = prefix_abs;
    }
    int st = user_cli_log("emu-user", log_spec, log_file, 1);
    if (st >= 0)
        return st;
    if (log_spec && !log_file) {   /* a -D log would be truncated by the new image */
        opts[n_opts++] = "-d";
        opts[n_opts++] = (char *)log_spec;
    }
    if (i >= argc) {
        usage(stderr);
        return 1;
    }
    char tier_opt[32];
    snprintf(tier_opt, sizeof tier_opt, "--tier=%s",
             cfg.tier == EXEC_TIER_INTERP ? "interp"
             : cfg.tier == EXEC_TIER_LLVM ? "llvm"
             : cfg.tier == EXEC_TIER_AUTO ? "auto"
                                          : "template");
    opts[n_opts++] = tier_opt;
    opts[n_opts] = NULL;

    cfg.prog = argv[i];
    cfg.argc = argc - i;
    cfg.argv = &argv[i];
    if (argv0)
        cfg.argv[0] = (char *)argv0;
    cfg.envp = env.v;
    cfg.emu_path = (char *)user_cli_self(argv[0]);
    cfg.emu_opts = opts;
    return user_run(&cfg);
}
