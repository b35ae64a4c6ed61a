/*
 * user-cli.h - what the user-mode tools (emu-user, emu-aot) share in
 * reading their command lines, so that both mean the same by -L,
 * --cache, --cache-dir and -d/-D.
 *
 *   if (!user_cli_cache_mode(s, &cfg.cache_mode)) bad_usage(...);
 *   cfg.cache_dir = user_cli_abs_path(dir);
 *   if (!(cfg.ld_prefix = user_cli_root("emu-aot", dir))) return 1;
 */
#ifndef EMU_USER_USER_CLI_H
#define EMU_USER_USER_CLI_H

#include <stdbool.h>

/* "rw" (or "on"), "ro", "off" -> EmuCacheMode; false if none of them. */
bool user_cli_cache_mode(const char *s, int *mode);
/* path made absolute against the current directory (static storage: one
 * call per tool), so a guest chdir or execve keeps its meaning. */
const char *user_cli_abs_path(const char *path);
/* -L DIR: its real path (malloc'ed), or NULL after "TOOL: -L DIR: reason". */
char *user_cli_root(const char *tool, const char *dir);
/* -d SPEC and -D FILE (either may be NULL): -1 when set up; else the exit
 * status to leave with: 0 after printing -d help, err_status after
 * "TOOL: -d/-D ...: reason". */
int user_cli_log(const char *tool, const char *spec, const char *file, int err_status);
/* This executable's path, for a guest execve (argv0 if /proc is missing). */
const char *user_cli_self(const char *argv0);
/* emu-user's -L lookup of an absolute guest path: under prefix if it exists
 * there, else as is (buf: PATH_MAX bytes). */
const char *user_prefixed_path(const char *prefix, const char *path, char *buf);

#endif
