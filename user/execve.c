/*
 * execve.c - execve for the guest (user mode).  An AArch64 program, or a
 * script whose interpreter is one, replaces the guest image:
 *  - in this process when the guest runs one thread: the address space is
 *    emptied, the new image loaded, registers, signal handlers and
 *    close-on-exec descriptors reset as the kernel does, and the engine
 *    keeps its code buffer, the code cache's open packs and emu's own
 *    start-up (a shell paid ~3 ms of emu start per command);
 *  - else by starting emu again on it with the same options (real execve
 *    ends the other threads; emu cannot stop its host threads that way).
 * EMU_EXEC=reexec always starts emu again.  Anything else (a host program
 * or a script for one) goes to the host kernel as is, as qemu-user does
 * without binfmt_misc.
 */
#define _GNU_SOURCE
#include "user/syscall-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "runtime/log.h"
#include "user/fd-track.h"

/* Is path an AArch64 ELF file (one emu has to run)? */
static bool is_aarch64_elf(const char *path)
{
    unsigned char h[20];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = read(fd, h, sizeof h) == (ssize_t)sizeof h && !memcmp(h, "\177ELF", 4) &&
              h[4] == 2 /* ELFCLASS64 */ && h[18] == 183 && h[19] == 0 /* EM_AARCH64 */;
    close(fd);
    return ok;
}

/* A "#!" script: its interpreter and optional argument (Linux rules: one
 * line of at most 255 bytes, the argument is the rest of the line).
 * false if path is not a script. */
static bool read_shebang(const char *path, char interp[256], char arg[256])
{
    char line[257];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, line, sizeof line - 1);
    close(fd);
    if (n < 3 || line[0] != '#' || line[1] != '!')
        return false;
    line[n] = 0;
    char *nl = strchr(line, '\n');
    if (nl)
        *nl = 0;
    char *s = line + 2;
    s += strspn(s, " \t");
    size_t il = strcspn(s, " \t");
    if (il == 0 || il > 255)
        return false;
    memcpy(interp, s, il);
    interp[il] = 0;
    s += il;
    s += strspn(s, " \t");
    size_t al = strlen(s);
    while (al && (s[al - 1] == ' ' || s[al - 1] == '\t'))
        al--;
    memcpy(arg, s, al);
    arg[al] = 0;
    return true;
}

/* Guest string vector (argv/envp) -> host pointers into guest memory,
 * appended to out[*n...].  0 or -errno. */
static int64_t get_strvec(UserProcess *p, uint64_t vec, char **out, size_t *n, size_t max)
{
    for (uint64_t v = vec; v; v += 8) {
        uint64_t s;
        if (!guest_mem_read(p->mem, v, &s, 8))
            return -EFAULT;
        if (!s)
            break;
        if (*n + 1 >= max)
            return -E2BIG;
        int64_t len = guest_mem_strlen(p->mem, s, 128 * 1024);
        if (len == -1)
            return -EFAULT;
        if (len < 0)
            return -E2BIG;
        out[(*n)++] = guest_mem_g2h(p->mem, s);
    }
    out[*n] = NULL;
    return 0;
}

/* Host copies of n strings (the old image's memory goes away), NULL-ended. */
static char **copy_strvec(char *const *v, size_t n)
{
    size_t bytes = (n + 1) * sizeof(char *);
    for (size_t i = 0; i < n; i++)
        bytes += strlen(v[i]) + 1;
    char **out = malloc(bytes);
    if (!out)
        return NULL;
    char *s = (char *)(out + n + 1);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(v[i]) + 1;
        out[i] = memcpy(s, v[i], l);
        s += l;
    }
    out[n] = NULL;
    return out;
}

/* Replace the image in this process (see the top).  Past the point where
 * the old image is gone a load failure ends the process, as the kernel
 * kills one whose execve fails that late. */
static int64_t exec_in_place(UserProcess *p, A64State *env, const char *prog, char **argv,
                             size_t argc, char **envp)
{
    char *path = realpath(prog, NULL);
    if (!path)
        return -errno;
    /* The old mappings go and the new image is written without
     * invalidating translations: exec_image_after then keeps those whose
     * pages read the same and drops the rest. */
    ExecImageSnap *snap = exec_image_before(p->engine);
    GuestMemHooks hooks = p->mem->hooks, quiet = hooks;
    quiet.invalidate = NULL;
    guest_mem_set_hooks(p->mem, &quiet);
    guest_mem_unmap_all(p->mem);
    user_signal_exec_reset(p);
    fdtrack_close_cloexec(p);
    UserThreadState *t = user_thread_self();
    t->clear_child_tid = 0;
    t->robust_list = t->robust_len = 0;
    t->saved_sigmask_valid = false;
    free(p->exe_path);
    p->exe_path = path;
    char err[PATH_MAX + 512];
    uint64_t entry, sp;
    if (!user_load_image(p, path, prog, (int)argc, argv, envp, &entry, &sp, err, sizeof err)) {
        fprintf(stderr, "emu-user: %s\n", err);
        user_exit(p, 1);
    }
    exec_image_after(p->engine, snap);
    guest_mem_set_hooks(p->mem, &hooks);
    /* registers as a new process has them: all zero but pc and sp */
    memset(&env->x, 0, offsetof(A64State, midr) - offsetof(A64State, x));
    env->excl_addr = ~0ull;
    env->x[A64_SP] = sp;
    env->common.pc = entry;
    return 0;
}

static bool exec_here(UserProcess *p)
{
    static int reexec = -1;
    if (reexec < 0) {
        const char *v = getenv("EMU_EXEC");
        reexec = v && !strcmp(v, "reexec");
    }
    return !reexec && p->engine && __atomic_load_n(&p->live_threads, __ATOMIC_ACQUIRE) == 1;
}

int64_t user_sys_execve(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH_L(path, a[0]);
    if (user_is_proc_self_exe(path))   /* busybox re-runs itself this way */
        path = p->exe_path;
    struct stat st;
    if (stat(path, &st) != 0 || access(path, X_OK) != 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EACCES;
    enum { MAX_VEC = 8192 };
    char **gargv = malloc(MAX_VEC * sizeof *gargv), **genv = malloc(MAX_VEC * sizeof *genv);
    char **args = malloc((MAX_VEC + 4) * sizeof *args);
    char **hargv = NULL, **henv = NULL;
    size_t na = 0, ne = 0;
    int64_t e = -ENOMEM;
    if (!gargv || !genv || !args)
        goto out;
    if ((e = get_strvec(p, a[1], gargv, &na, MAX_VEC)) || (e = get_strvec(p, a[2], genv, &ne, MAX_VEC)))
        goto out;
    if (emu_log_file())
        fflush(emu_log_file());
    /* A script whose interpreter is a guest program (e.g. #!/usr/bin/lua5.4
     * under -L) runs that interpreter under emu, as binfmt_misc would. */
    char sb_interp[256], sb_arg[256], ibuf[PATH_MAX];
    const char *interp = NULL;
    if (!is_aarch64_elf(path)) {
        if (read_shebang(path, sb_interp, sb_arg)) {
            interp = user_path(p, sb_interp, ibuf);
            if (!is_aarch64_elf(interp))
                interp = NULL;
        }
        if (!interp) {
            execve(path, gargv, genv);
            e = -errno;
            goto out;
        }
    }
    /* The program to run and its argv (args[0..ng)). */
    const char *prog = interp ? interp : path;
    size_t ng = 0;
    if (interp) {
        args[ng++] = sb_interp;
        if (sb_arg[0])
            args[ng++] = sb_arg;
        args[ng++] = (char *)path_raw_;
    } else {
        args[ng++] = na > 0 ? gargv[0] : (char *)path;
    }
    for (size_t i = 1; i < na; i++)
        args[ng++] = gargv[i];
    args[ng] = NULL;
    e = -ENOMEM;
    if (exec_here(p)) {
        char pbuf[PATH_MAX];   /* prog may point into the guest memory about to go */
        snprintf(pbuf, sizeof pbuf, "%s", prog);
        if ((hargv = copy_strvec(args, ng)) && (henv = copy_strvec(genv, ne)))
            e = exec_in_place(p, env, pbuf, hargv, ng, henv);
        goto out;
    }
    /* emu again: its options, then "-0 argv0 -- prog argv[1..]" */
    char **emu_args = malloc((ng + 70) * sizeof *emu_args);
    if (!emu_args)
        goto out;
    size_t n = 0;
    emu_args[n++] = p->emu_path;
    for (char **o = p->emu_opts; o && *o && n < 60; o++)
        emu_args[n++] = *o;
    emu_args[n++] = "-0";
    emu_args[n++] = args[0];
    emu_args[n++] = "--";
    emu_args[n++] = (char *)prog;
    for (size_t i = 1; i < ng; i++)
        emu_args[n++] = args[i];
    emu_args[n] = NULL;
    /* the guest's mask is emulated: give it to the host for the new emu to
     * take over (user_signal_inherit) */
    sigset_t mask, old;
    user_signal_host_mask(&mask);
    pthread_sigmask(SIG_SETMASK, &mask, &old);
    execve(p->emu_path, emu_args, genv);
    e = -errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    free(emu_args);
out:
    free(gargv);
    free(genv);
    free(args);
    free(hargv);
    free(henv);
    return e;
}
