/*
 * cache-dir.c - the cache directory: creation, flock helpers, whole-file
 * reads, LRU eviction, clearing, and the run log (API in cache-admin.h).
 *
 * Locking: DIR/cache.lock serialises eviction, clear and the run log;
 * DIR/packs/HEX.lock serialises writers of one pack.  A lock file is only
 * deleted by someone holding its flock, and cache_lock() re-checks after
 * locking that the path still names the inode it locked, so two processes
 * never both believe they hold "the" lock.
 */
#include "cache/cache-admin.h"
#include "cache/pack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STALE_TEMP_SECONDS 3600
#define RUNLOG_TRIM_BYTES (256u * 1024)

static int mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

bool cache_dir_create(const char *dir, char *err, size_t errlen)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/packs", dir);
    if (mkdir_p(p, 0755) != 0) {
        snprintf(err, errlen, "cannot create cache directory %s: %s", p, strerror(errno));
        return false;
    }
    snprintf(p, sizeof p, "%s/CACHEDIR.TAG", dir);
    if (access(p, F_OK) != 0) {
        FILE *f = fopen(p, "w");
        if (f) { /* optional: only helps backup tools skip the cache */
            fputs("Signature: 8a477f597d28d172789f06886806bc55\n"
                  "# This file marks the emu code cache; see emu-cache(1).\n", f);
            fclose(f);
        }
    }
    return true;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int cache_lock(const char *path, int timeout_ms, char *err, size_t errlen)
{
    uint64_t deadline = mono_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
    for (;;) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            int e = errno;
            snprintf(err, errlen, "cannot open lock %s: %s", path, strerror(e));
            errno = e;
            return -1;
        }
        while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            if (errno == EINTR)
                continue;
            if (errno != EWOULDBLOCK) {
                int e = errno;
                snprintf(err, errlen, "flock %s: %s", path, strerror(e));
                close(fd);
                errno = e;
                return -1;
            }
            if (mono_ms() >= deadline) {
                snprintf(err, errlen, "timed out waiting for lock %s", path);
                close(fd);
                errno = ETIMEDOUT;
                return -1;
            }
            struct timespec ts = {0, 2 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev)
            return fd;
        close(fd); /* the lock file was deleted while we waited: take the new one */
    }
}

void cache_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

bool cache_read_file(const char *path, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    /* O_NONBLOCK: a FIFO planted where a pack should be must not hang us. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return false;
    struct stat st;
    int e = 0;
    if (fstat(fd, &st) != 0)
        e = errno;
    else if (!S_ISREG(st.st_mode))
        e = EINVAL;
    else if ((uint64_t)st.st_size > CACHE_MAX_FILE)
        e = EFBIG;
    if (e) {
        close(fd);
        errno = e;
        return false;
    }
    size_t size = (size_t)st.st_size, got = 0;
    uint8_t *b = malloc(size ? size : 1);
    if (!b) {
        close(fd);
        errno = ENOMEM;
        return false;
    }
    while (got < size) {
        ssize_t r = read(fd, b + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(b);
            close(fd);
            errno = e;
            return false;
        }
        if (r == 0) /* shrank under us: the parser will see a short file */
            break;
        got += (size_t)r;
    }
    close(fd);
    *buf = b;
    *len = got;
    return true;
}

/* ---- eviction ---- */

typedef struct PackFile {
    char name[NAME_MAX + 1];
    uint64_t size;
    struct timespec mtime;
} PackFile;

static int pack_file_cmp(const void *a, const void *b)
{
    const PackFile *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Delete a pack's lock file if nobody holds it. */
static void remove_lock_file(const char *packs, const char *pack_name)
{
    char p[PATH_MAX], e[64];
    size_t n = strlen(pack_name) - strlen(".pack");
    snprintf(p, sizeof p, "%s/%.*s.lock", packs, (int)n, pack_name);
    int fd = cache_lock(p, 0, e, sizeof e);
    if (fd >= 0) {
        unlink(p);
        cache_unlock(fd);
    }
}

bool emu_cache_evict(const char *dir, uint64_t max_bytes, EmuCacheLogFunc *log, void *opaque,
                     EmuCacheEvictResult *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    char packs[PATH_MAX], lockp[PATH_MAX], p[PATH_MAX + NAME_MAX + 2];
    snprintf(packs, sizeof packs, "%s/packs", dir);
    snprintf(lockp, sizeof lockp, "%s/cache.lock", dir);
    DIR *d = opendir(packs);
    if (!d) {
        if (errno == ENOENT)
            return true;
        snprintf(err, errlen, "%s: %s", packs, strerror(errno));
        return false;
    }
    int lfd = cache_lock(lockp, EMU_CACHE_LOCK_TIMEOUT_MS, err, errlen);
    if (lfd < 0) {
        closedir(d);
        return false;
    }
    PackFile *v = NULL;
    size_t n = 0, cap = 0;
    time_t now = time(NULL);
    bool ok = true;
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", packs, de->d_name);
        if (strstr(de->d_name, ".pack.tmp.")) {
            if (stat(p, &st) == 0 && now - st.st_mtime > STALE_TEMP_SECONDS && unlink(p) == 0)
                res->temps_removed++;
            continue;
        }
        if (!has_suffix(de->d_name, ".pack") || stat(p, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            PackFile *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                snprintf(err, errlen, "out of memory");
                ok = false;
                goto out;
            }
            v = nv;
        }
        snprintf(v[n].name, sizeof v[n].name, "%s", de->d_name);
        v[n].size = (uint64_t)st.st_size;
        v[n].mtime = st.st_mtim;
        res->before_bytes += v[n].size;
        n++;
    }
    qsort(v, n, sizeof *v, pack_file_cmp);
    res->after_bytes = res->before_bytes;
    for (size_t i = 0; i < n && res->after_bytes > max_bytes; i++) {
        snprintf(p, sizeof p, "%s/%s", packs, v[i].name);
        if (unlink(p) != 0) {
            if (errno != ENOENT && log) {
                char m[PATH_MAX + NAME_MAX + 128];
                snprintf(m, sizeof m, "cache: cannot evict %s: %s", p, strerror(errno));
                log(opaque, m);
            }
            continue;
        }
        remove_lock_file(packs, v[i].name);
        res->after_bytes -= v[i].size;
        res->packs_removed++;
        if (log) {
            char m[PATH_MAX + 128];
            snprintf(m, sizeof m, "cache: evicted %s (%llu bytes, least recently used); "
                     "cache now %llu of %llu bytes", v[i].name, (unsigned long long)v[i].size,
                     (unsigned long long)res->after_bytes, (unsigned long long)max_bytes);
            log(opaque, m);
        }
    }
out:
    free(v);
    closedir(d);
    cache_unlock(lfd);
    return ok;
}

bool emu_cache_clear(const char *dir, uint32_t *removed, char *err, size_t errlen)
{
    *removed = 0;
    char packs[PATH_MAX], lockp[PATH_MAX], p[PATH_MAX + NAME_MAX + 2];
    snprintf(packs, sizeof packs, "%s/packs", dir);
    snprintf(lockp, sizeof lockp, "%s/cache.lock", dir);
    DIR *d = opendir(packs);
    if (!d) {
        if (errno == ENOENT)
            return true;
        snprintf(err, errlen, "%s: %s", packs, strerror(errno));
        return false;
    }
    int lfd = cache_lock(lockp, EMU_CACHE_LOCK_TIMEOUT_MS, err, errlen);
    if (lfd < 0) {
        closedir(d);
        return false;
    }
    bool ok = true;
    struct dirent *de;
    while ((de = readdir(d))) {
        snprintf(p, sizeof p, "%s/%s", packs, de->d_name);
        if (has_suffix(de->d_name, ".pack")) {
            if (unlink(p) == 0) {
                (*removed)++;
                remove_lock_file(packs, de->d_name);
            } else if (errno != ENOENT) {
                snprintf(err, errlen, "cannot remove %s: %s", p, strerror(errno));
                ok = false;
            }
        } else if (strstr(de->d_name, ".pack.tmp.")) {
            unlink(p); /* a writer in progress will report its failed rename */
        }
    }
    closedir(d);
    snprintf(p, sizeof p, "%s/runs.log", dir);
    if (unlink(p) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot remove %s: %s", p, strerror(errno));
        ok = false;
    }
    cache_unlock(lfd);
    return ok;
}

/* ---- the run log: "time pack hits misses mismatches corrupt stored binary" ---- */

bool emu_cache_runlog_append(const char *dir, const EmuCacheRun *r, char *err, size_t errlen)
{
    char lockp[PATH_MAX], logp[PATH_MAX], tmp[PATH_MAX + 16];
    snprintf(lockp, sizeof lockp, "%s/cache.lock", dir);
    snprintf(logp, sizeof logp, "%s/runs.log", dir);
    char bin[sizeof r->binary];
    snprintf(bin, sizeof bin, "%s", r->binary);
    for (char *s = bin; *s; s++)
        if ((unsigned char)*s < 0x20)
            *s = '?'; /* one record per line, tab-separated */
    char line[1024];
    int len = snprintf(line, sizeof line, "%lld\t%s\t%llu\t%llu\t%llu\t%llu\t%llu\t%s\n",
                       (long long)r->time, r->pack, (unsigned long long)r->hits,
                       (unsigned long long)r->misses, (unsigned long long)r->mismatches,
                       (unsigned long long)r->corrupt, (unsigned long long)r->stored, bin);
    if (len <= 0 || len >= (int)sizeof line) {
        snprintf(err, errlen, "run log record too long");
        return false;
    }
    int lfd = cache_lock(lockp, EMU_CACHE_LOCK_TIMEOUT_MS, err, errlen);
    if (lfd < 0)
        return false;
    bool ok = false;
    int fd = open(logp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    struct stat st;
    if (fd < 0 || write(fd, line, (size_t)len) != len || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", logp, strerror(errno));
        goto out;
    }
    ok = true;
    if ((uint64_t)st.st_size > RUNLOG_TRIM_BYTES) { /* keep the newest lines */
        uint8_t *buf;
        size_t n;
        if (!cache_read_file(logp, &buf, &n))
            goto out;
        size_t lines = 0, start = n;
        while (start > 0) {
            if (buf[start - 1] == '\n' && start != n && ++lines == EMU_CACHE_RUNLOG_MAX_LINES)
                break;
            start--;
        }
        snprintf(tmp, sizeof tmp, "%s.XXXXXX", logp);
        int tfd = mkstemp(tmp);
        if (tfd >= 0) {
            bool w = fchmod(tfd, 0644) == 0 &&
                     write(tfd, buf + start, n - start) == (ssize_t)(n - start);
            close(tfd);
            if (!w || rename(tmp, logp) != 0)
                unlink(tmp);
        }
        free(buf);
    }
out:
    if (fd >= 0)
        close(fd);
    cache_unlock(lfd);
    return ok;
}

bool emu_cache_runlog_read(const char *dir, EmuCacheRun **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    char logp[PATH_MAX];
    snprintf(logp, sizeof logp, "%s/runs.log", dir);
    uint8_t *buf;
    size_t len;
    if (!cache_read_file(logp, &buf, &len)) {
        if (errno == ENOENT)
            return true;
        snprintf(err, errlen, "%s: %s", logp, strerror(errno));
        return false;
    }
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    EmuCacheRun *v = calloc(lines + 1, sizeof *v);
    if (!v) {
        free(buf);
        snprintf(err, errlen, "out of memory");
        return false;
    }
    size_t k = 0;
    char *s = (char *)buf, *end = (char *)buf + len;
    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl)
            break; /* a torn last line: skip */
        *nl = 0;
        EmuCacheRun *r = &v[k];
        long long t;
        unsigned long long h, m, mm, c, st;
        int pos = 0;
        if (sscanf(s, "%lld\t%32[0-9a-f]\t%llu\t%llu\t%llu\t%llu\t%llu\t%n", &t, r->pack, &h, &m,
                   &mm, &c, &st, &pos) == 7 && pos > 0) {
            r->time = t;
            r->hits = h;
            r->misses = m;
            r->mismatches = mm;
            r->corrupt = c;
            r->stored = st;
            snprintf(r->binary, sizeof r->binary, "%s", s + pos);
            k++;
        }
        s = nl + 1;
    }
    free(buf);
    *out = v;
    *n = k;
    return true;
}
