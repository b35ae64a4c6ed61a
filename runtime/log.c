/*
 * log.c - the `-d` mask and the `-D` file (see log.h).  Records are written
 * with stdio under the FILE's own lock; emu_log_lock() groups several calls.
 */
#include "runtime/log.h"
#include "support/hostfd.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

unsigned emu_log_mask;
static FILE *log_file;

static const struct {
    const char *name;
    unsigned mask;
    const char *help;
} log_items[] = {
    {"in_asm", EMU_LOG_IN_ASM, "guest disassembly of each translated block"},
    {"op", EMU_LOG_OP | EMU_LOG_OP_OPT, "IR before and after optimisation"},
    {"op_opt", EMU_LOG_OP_OPT, "IR after optimisation only"},
    {"out_asm", EMU_LOG_OUT_ASM, "host disassembly of generated code"},
    {"exec", EMU_LOG_EXEC, "each executed block (disables chaining)"},
    {"unimp", EMU_LOG_UNIMP, "unimplemented features"},
    {"guest_errors", EMU_LOG_GUEST_ERRORS, "invalid guest behaviour"},
    {"llvm-ir", EMU_LOG_LLVM_IR, "LLVM IR of each region, before and after optimisation"},
    {"llvm-asm", EMU_LOG_LLVM_ASM, "host assembly of each LLVM region"},
    {"cache", EMU_LOG_CACHE, "code cache: packs, loaded/stored regions, rejected entries"},
    {"perfmap", EMU_LOG_PERFMAP, "write /tmp/perf-<pid>.map so perf names blocks and regions"},
    {"tier", EMU_LOG_TIER, "tier-up: hot blocks, regions formed, installed, probed"},
};

bool emu_log_parse(const char *spec, unsigned *mask, char *err, size_t errlen)
{
    unsigned m = 0;
    const char *p = spec ? spec : "";
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 4 && !strncmp(p, "help", 4)) {
            size_t o = (size_t)snprintf(err, errlen, "log items:");
            for (size_t i = 0; i < sizeof log_items / sizeof log_items[0] && o < errlen; i++)
                o += (size_t)snprintf(err + o, errlen - o, "\n  %-12s %s", log_items[i].name,
                                      log_items[i].help);
            return false;
        }
        bool found = false;
        for (size_t i = 0; i < sizeof log_items / sizeof log_items[0]; i++) {
            if (strlen(log_items[i].name) == len && !strncmp(p, log_items[i].name, len)) {
                m |= log_items[i].mask;
                found = true;
            }
        }
        if (len && !found) {
            snprintf(err, errlen, "unknown log item '%.*s' (try -d help)", (int)len, p);
            return false;
        }
        p += len;
        if (*p == ',') p++;
    }
    *mask = m;
    return true;
}

void emu_log_set_mask(unsigned mask)
{
    emu_log_mask = mask;
}

bool emu_log_open(const char *path)
{
    if (!path) {
        emu_log_close();
        return true;
    }
    FILE *f = hostfd_fopen(path, "w");   /* out of the guest's reach */
    if (!f) return false;
    emu_log_close();
    log_file = f;
    return true;
}

FILE *emu_log_file(void)
{
    return log_file ? log_file : stderr;
}

void emu_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(emu_log_file(), fmt, ap);
    va_end(ap);
}

void emu_log_lock(void)
{
    flockfile(emu_log_file());
}

void emu_log_unlock(void)
{
    funlockfile(emu_log_file());
}

void emu_log_close(void)
{
    if (log_file) {
        fclose(log_file);
        log_file = NULL;
    } else {
        fflush(stderr);
    }
}
