/*
 * stack.c - build the initial guest stack.  From the top down:
 *   8 zero bytes, AT_EXECFN string, environment strings, argument strings,
 *   "aarch64" (AT_PLATFORM), 16 random bytes (AT_RANDOM), padding, then
 *   at sp: argc, argv[0..argc-1], NULL, envp[...], NULL, auxv pairs, AT_NULL.
 */
#define _GNU_SOURCE
#include "user/stack.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Strings may use at most this much of the stack (Linux: a quarter). */
#define STACK_STRINGS_MAX (GUEST_STACK_SIZE / 4)

typedef struct StackWriter {
    GuestMem *m;
    uint64_t p;       /* grows down */
    uint64_t floor;   /* lowest usable address */
    bool ok;
} StackWriter;

static uint64_t push_bytes(StackWriter *w, const void *data, size_t len)
{
    if (!w->ok || w->p - w->floor < len) {
        w->ok = false;
        return 0;
    }
    w->p -= len;
    if (!guest_mem_write(w->m, w->p, data, len))
        w->ok = false;
    return w->p;
}

static uint64_t push_string(StackWriter *w, const char *s)
{
    return push_bytes(w, s, strlen(s) + 1);
}

static void random_bytes(uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = getrandom(buf + got, len - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got < len) {   /* no entropy source: still not constant */
        uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)buf;
        for (; got < len; got++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            buf[got] = (uint8_t)(x >> 56);
        }
    }
}

bool user_stack_setup(GuestMem *m, const UserStackArgs *a, uint64_t *sp, char *err,
                      size_t errlen)
{
    uint64_t top = m->limit;
    uint64_t bottom = top - GUEST_STACK_SIZE;
    int prot = PROT_READ | PROT_WRITE | (a->img && a->img->exec_stack ? PROT_EXEC : 0);
    int64_t r = guest_mmap(m, bottom, GUEST_STACK_SIZE, prot,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, "[stack]");
    if (r < 0) {
        snprintf(err, errlen, "cannot map the stack: %s", strerror((int)-r));
        return false;
    }

    size_t envc = 0;
    while (a->envp && a->envp[envc])
        envc++;
    StackWriter w = { .m = m, .p = top, .floor = top - STACK_STRINGS_MAX, .ok = true };
    uint64_t zero = 0;
    push_bytes(&w, &zero, sizeof zero);
    uint64_t execfn = push_string(&w, a->execfn ? a->execfn : "");
    uint64_t env_ptr[envc + 1], arg_ptr[a->argc + 1];
    for (size_t i = envc; i-- > 0;)
        env_ptr[i] = push_string(&w, a->envp[i]);
    for (int i = a->argc; i-- > 0;)
        arg_ptr[i] = push_string(&w, a->argv[i]);
    uint64_t platform = push_string(&w, "aarch64");
    uint8_t rnd[16];
    random_bytes(rnd, sizeof rnd);
    uint64_t random = push_bytes(&w, rnd, sizeof rnd);
    if (!w.ok) {
        snprintf(err, errlen, "argument list and environment too long");
        return false;
    }
    env_ptr[envc] = 0;
    arg_ptr[a->argc] = 0;

    const ElfImage *img = a->img;
    uint64_t auxv[][2] = {
        { GUEST_AT_PHDR, img ? img->phdr_addr : 0 },
        { GUEST_AT_PHENT, img ? img->phentsize : 0 },
        { GUEST_AT_PHNUM, img ? img->phnum : 0 },
        { GUEST_AT_PAGESZ, GUEST_PAGE_SIZE },
        { GUEST_AT_BASE, a->interp_base },
        { GUEST_AT_FLAGS, 0 },
        { GUEST_AT_ENTRY, img ? img->entry : 0 },
        { GUEST_AT_UID, getuid() },
        { GUEST_AT_EUID, geteuid() },
        { GUEST_AT_GID, getgid() },
        { GUEST_AT_EGID, getegid() },
        { GUEST_AT_SECURE, 0 },
        { GUEST_AT_RANDOM, random },
        { GUEST_AT_HWCAP, a->hwcap },
        { GUEST_AT_HWCAP2, a->hwcap2 },
        { GUEST_AT_CLKTCK, 100 },
        { GUEST_AT_EXECFN, execfn },
        { GUEST_AT_PLATFORM, platform },
        { GUEST_AT_MINSIGSTKSZ, GUEST_MINSIGSTKSZ },
        { GUEST_AT_NULL, 0 },
    };
    size_t n_aux = sizeof auxv / sizeof auxv[0];
    uint64_t words = 1 + (uint64_t)a->argc + 1 + envc + 1 + 2 * n_aux;
    uint64_t s = (w.p - words * 8) & ~15ull;
    if (s < w.floor) {
        snprintf(err, errlen, "argument list and environment too long");
        return false;
    }
    uint64_t argc = (uint64_t)a->argc;
    bool ok = guest_mem_write(m, s, &argc, 8) &&
              guest_mem_write(m, s + 8, arg_ptr, 8 * ((size_t)a->argc + 1)) &&
              guest_mem_write(m, s + 8 * ((uint64_t)a->argc + 2), env_ptr, 8 * (envc + 1)) &&
              guest_mem_write(m, s + 8 * ((uint64_t)a->argc + envc + 3), auxv, sizeof auxv);
    if (!ok) {
        snprintf(err, errlen, "cannot write the initial stack");
        return false;
    }
    *sp = s;
    return true;
}
