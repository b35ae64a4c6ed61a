/* user-fileio: file and directory syscalls in a temporary directory:
 * open/read/write/lseek/pread/pwrite/readv/writev, fstat/stat, getdents
 * (readdir), rename/unlink/mkdir/rmdir, dup/dup2, pipe, fcntl, getcwd/chdir. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static int failures;
#define CHECK(c)                                                     \
    do {                                                             \
        if (!(c)) {                                                  \
            printf("FAIL line %d: %s (errno %d)\n", __LINE__, #c, errno); \
            failures++;                                              \
        }                                                            \
    } while (0)

int main(void)
{
    char dir[] = "user-fileio.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir(dir) == 0);

    int fd = open("a.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "hello, world\n", 13) == 13);
    CHECK(lseek(fd, 0, SEEK_CUR) == 13);
    CHECK(lseek(fd, 7, SEEK_SET) == 7);
    char buf[64] = "";
    CHECK(read(fd, buf, sizeof buf) == 6);
    CHECK(memcmp(buf, "world\n", 6) == 0);
    CHECK(pwrite(fd, "W", 1, 7) == 1);
    CHECK(pread(fd, buf, 5, 7) == 5 && memcmp(buf, "World", 5) == 0);
    struct iovec iov[2] = { { "ab", 2 }, { "cde", 3 } };
    CHECK(lseek(fd, 0, SEEK_END) == 13);
    CHECK(writev(fd, iov, 2) == 5);
    char r1[4] = "", r2[16] = "";
    struct iovec rv[2] = { { r1, 4 }, { r2, sizeof r2 } };
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(readv(fd, rv, 2) == 18);
    CHECK(memcmp(r1, "hell", 4) == 0 && memcmp(r2, "o, World\nabcde", 14) == 0);

    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    CHECK(st.st_size == 18 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0644);
    CHECK(stat("a.txt", &st) == 0 && st.st_size == 18);
    CHECK(stat("missing", &st) == -1 && errno == ENOENT);
    CHECK(open("a.txt", O_RDONLY | O_DIRECTORY) == -1 && errno == ENOTDIR);

    int fd2 = dup(fd);
    CHECK(fd2 > fd);
    CHECK(dup2(fd, 50) == 50);
    CHECK(fcntl(50, F_GETFD) == 0);
    CHECK(fcntl(50, F_SETFD, FD_CLOEXEC) == 0 && fcntl(50, F_GETFD) == FD_CLOEXEC);
    CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
    CHECK(fcntl(fd, F_SETFL, O_APPEND) == 0 && (fcntl(fd, F_GETFL) & O_APPEND));
    CHECK(close(fd2) == 0 && close(50) == 0 && close(fd) == 0);
    CHECK(close(fd) == -1 && errno == EBADF);

    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(write(p[1], "xyz", 3) == 3);
    CHECK(read(p[0], buf, 3) == 3 && memcmp(buf, "xyz", 3) == 0);
    close(p[0]);
    close(p[1]);

    CHECK(mkdir("sub", 0755) == 0);
    CHECK(mkdir("sub", 0755) == -1 && errno == EEXIST);
    CHECK(rename("a.txt", "sub/b.txt") == 0);
    CHECK(access("sub/b.txt", R_OK | W_OK) == 0);
    CHECK(access("a.txt", F_OK) == -1 && errno == ENOENT);
    CHECK(symlink("sub/b.txt", "link") == 0);
    char target[64];
    ssize_t n = readlink("link", target, sizeof target);
    CHECK(n == 9 && memcmp(target, "sub/b.txt", 9) == 0);

    DIR *d = opendir(".");
    CHECK(d != NULL);
    int seen = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        seen |= !strcmp(e->d_name, "sub") ? 1 : !strcmp(e->d_name, "link") ? 2 : 0;
    if (d)
        closedir(d);
    CHECK(seen == 3);

    CHECK(unlink("link") == 0);
    CHECK(unlink("sub/b.txt") == 0);
    CHECK(rmdir("sub") == 0);
    CHECK(chdir(cwd) == 0);
    CHECK(rmdir(dir) == 0);
    printf("fileio: %s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
