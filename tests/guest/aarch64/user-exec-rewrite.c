/* user-exec-rewrite: a program file rewritten in place between two execs of
 * it runs its new code.  emu keeps translations across an execve in place
 * for the pages of a file that is the same and unchanged since it was
 * mapped (runtime/exec-image.c): here the copy's marker() has run (its page
 * holds blocks) when the copy is patched and exec'd again.  (A native
 * kernel refuses the write with ETXTBSY; emu maps programs as files.)  The
 * mtime is set apart explicitly: the kernel's file times are coarse (a
 * jiffy), and a rewrite within the tick of the mapping looks unchanged. */
// guest-no-reference: qemu-aarch64 cannot execve a guest program (no binfmt_misc)
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OLD_INSN 0x52826ae0u   /* movz w0, #0x1357 */
#define NEW_INSN 0x52848d00u   /* movz w0, #0x2468 */

__attribute__((noinline)) static int marker(void)
{
    int r;
    __asm__ volatile(".inst 0x52826ae0\n\tmov %w0, w0" : "=r"(r) : : "x0");
    return r;
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (in < 0 || out < 0)
        return -1;
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            return -1;
    close(in);
    close(out);
    return 0;
}

/* Replace the one OLD_INSN word in the file; -1 unless there is exactly one. */
static int patch(const char *path)
{
    int fd = open(path, O_RDWR);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        return -1;
    uint32_t *w = malloc((size_t)st.st_size);
    if (!w || pread(fd, w, (size_t)st.st_size, 0) != st.st_size)
        return -1;
    long at = -1, found = 0;
    for (long i = 0; i < st.st_size / 4; i++)
        if (w[i] == OLD_INSN)
            at = i, found++;
    uint32_t v = NEW_INSN;
    if (found != 1 || pwrite(fd, &v, 4, at * 4) != 4)
        return -1;
    struct timespec t[2] = { { 0, UTIME_OMIT }, { st.st_mtim.tv_sec + 5, 0 } };
    futimens(fd, t);
    close(fd);
    free(w);
    return 0;
}

int main(int argc, char **argv)
{
    char copy[64];
    if (argc == 1) {
        snprintf(copy, sizeof copy, "/tmp/emu-exec-rewrite-%d", (int)getpid());
        if (copy_file("/proc/self/exe", copy) != 0)
            return 2;
        execl(copy, copy, "1", (char *)NULL);
        return 3;
    }
    snprintf(copy, sizeof copy, "%s", argv[0]);
    printf("stage %s: %x\n", argv[1], marker());
    fflush(stdout);
    if (!strcmp(argv[1], "1")) {
        if (patch(copy) != 0) {
            printf("patch failed\n");
            unlink(copy);
            return 4;
        }
        execl(copy, copy, "2", (char *)NULL);
        return 5;
    }
    unlink(copy);
    return 0;
}
