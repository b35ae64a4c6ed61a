/*
 * user-cli.c - command-line pieces shared by emu-user and emu-aot (see
 * user-cli.h).
 */
#include "user/user-cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache.h"
#include "runtime/log.h"

bool user_cli_cache_mode(const char *s, int *mode)
{
    if (!strcmp(s, "rw") || !strcmp(s, "on"))
        *mode = EMU_CACHE_RW;
    else if (!strcmp(s, "ro"))
        *mode = EMU_CACHE_RO;
    else if (!strcmp(s, "off"))
        *mode = EMU_CACHE_OFF;
    else
        return false;
    return true;
}

const char *user_cli_abs_path(const char *path)
{
    static char abs[PATH_MAX];
    char cwd[PATH_MAX];
    if (path[0] != '/' && getcwd(cwd, sizeof cwd) &&
        snprintf(abs, sizeof abs, "%s/%s", cwd, path) < (int)sizeof abs)
        return abs;
    return path;
}

char *user_cli_root(const char *tool, const char *dir)
{
    struct stat st;
    char *real = realpath(dir, NULL);
    if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: -L %s: %s\n", tool, dir, real ? "not a directory" : strerror(errno));
        free(real);
        return NULL;
    }
    return real;
}

int user_cli_log(const char *tool, const char *spec, const char *file, int err_status)
{
    if (spec) {
        unsigned mask = 0;
        char err[1024];
        if (!emu_log_parse(spec, &mask, err, sizeof err)) {
            bool help = strstr(spec, "help") != NULL;
            if (help)
                printf("%s\n", err);
            else
                fprintf(stderr, "%s: -d: %s\n", tool, err);
            return help ? 0 : err_status;
        }
        emu_log_set_mask(mask);
    }
    if (file && !emu_log_open(file)) {
        fprintf(stderr, "%s: -D %s: %s\n", tool, file, strerror(errno));
        return err_status;
    }
    return -1;
}

const char *user_cli_self(const char *argv0)
{
    static char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return argv0;
    self[n] = 0;
    return self;
}

const char *user_prefixed_path(const char *prefix, const char *path, char *buf)
{
    if (!prefix || path[0] != '/')
        return path;
    int n = snprintf(buf, PATH_MAX, "%s%s", prefix, path);
    if (n <= 0 || n >= PATH_MAX || access(buf, F_OK) != 0)
        return path;
    return buf;
}
