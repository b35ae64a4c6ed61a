/*
 * guest-mem.c - guest address space: reservation, guest VMA list, guest
 * mmap/munmap/mprotect/mremap/brk mirrored onto the host reservation, code
 * page protection for self-modifying code, and the interpreter's memory
 * interface.  See guest-mem.h for the model.
 */
#define _GNU_SOURCE
#include "user/guest-mem.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "cache/hash.h"

#define GUEST_MMAP_MIN 0x10000ull   /* never hand out the lowest pages */
#define PROT_GUEST_MASK (PROT_READ | PROT_WRITE | PROT_EXEC)
#define PROT_AARCH64_BTI 0x10       /* accepted and ignored */

/* Guest code is only ever read by the translator: exec becomes read. */
static int host_prot(int gprot)
{
    int p = gprot & (PROT_READ | PROT_WRITE);
    if (gprot & PROT_EXEC)
        p |= PROT_READ;
    return p;
}

/* Non-fixed mmaps go top-down from 1 GiB below the stack. */
static uint64_t initial_mmap_top(uint64_t limit)
{
    return limit - GUEST_STACK_SIZE - (1ull << 30);
}

GuestMem *guest_mem_new(uint64_t limit, char *err, size_t errlen)
{
    if (limit < (1ull << 32) || (limit & (GUEST_PAGE_SIZE - 1))) {
        snprintf(err, errlen, "guest address space limit 0x%llx is invalid",
                 (unsigned long long)limit);
        return NULL;
    }
    GuestMem *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->reserved = limit + GUEST_MEM_GUARD;
    void *p = mmap(NULL, m->reserved, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "cannot reserve %llu GiB of address space for the guest: %s",
                 (unsigned long long)(m->reserved >> 30), strerror(errno));
        free(m);
        return NULL;
    }
    m->base = p;
    m->limit = limit;
    void *perm = mmap(NULL, limit / GUEST_PAGE_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (perm == MAP_FAILED) {
        snprintf(err, errlen, "cannot reserve the guest page map: %s", strerror(errno));
        munmap(p, m->reserved);
        free(m);
        return NULL;
    }
    m->perm = perm;
    /* Stack at the top, mmaps top-down below it (like Linux's layout). */
    m->mmap_top = initial_mmap_top(limit);
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void guest_mem_free(GuestMem *m)
{
    if (!m)
        return;
    munmap(m->base, m->reserved);
    munmap(m->perm, m->limit / GUEST_PAGE_SIZE);
    pthread_mutex_destroy(&m->lock);
    free(m->vmas);
    free(m);
}

void guest_mem_set_hooks(GuestMem *m, const GuestMemHooks *hooks)
{
    m->hooks = *hooks;
}

static void invalidate(GuestMem *m, uint64_t start, uint64_t len)
{
    if (m->hooks.invalidate && len)
        m->hooks.invalidate(m->hooks.opaque, start, len);
}

/* ---- VMA list (caller holds m->lock) ------------------------------------ */

/* Index of the first VMA with end > addr (n_vmas if none). */
static size_t vma_lower_bound(GuestMem *m, uint64_t addr)
{
    size_t lo = 0, hi = m->n_vmas;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->vmas[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static GuestVma *vma_find(GuestMem *m, uint64_t addr)
{
    if (m->last_hit < m->n_vmas) {
        GuestVma *v = &m->vmas[m->last_hit];
        if (addr >= v->start && addr < v->end)
            return v;
    }
    size_t i = vma_lower_bound(m, addr);
    if (i < m->n_vmas && m->vmas[i].start <= addr) {
        m->last_hit = i;
        return &m->vmas[i];
    }
    return NULL;
}

static bool vma_reserve(GuestMem *m, size_t extra)
{
    if (m->n_vmas + extra <= m->cap_vmas)
        return true;
    size_t cap = m->cap_vmas ? m->cap_vmas * 2 : 32;
    while (cap < m->n_vmas + extra)
        cap *= 2;
    GuestVma *v = realloc(m->vmas, cap * sizeof *v);
    if (!v)
        return false;
    m->vmas = v;
    m->cap_vmas = cap;
    return true;
}

static void vma_insert_at(GuestMem *m, size_t i, const GuestVma *v)
{
    memmove(&m->vmas[i + 1], &m->vmas[i], (m->n_vmas - i) * sizeof *v);
    m->vmas[i] = *v;
    m->n_vmas++;
}

static void vma_delete_at(GuestMem *m, size_t i)
{
    memmove(&m->vmas[i], &m->vmas[i + 1], (m->n_vmas - i - 1) * sizeof m->vmas[0]);
    m->n_vmas--;
}

/* Split the VMA containing addr (strictly inside) in two.  false: no memory. */
static bool vma_split_at(GuestMem *m, uint64_t addr)
{
    size_t i = vma_lower_bound(m, addr);
    if (i >= m->n_vmas || m->vmas[i].start >= addr)
        return true;
    if (!vma_reserve(m, 1))
        return false;
    GuestVma hi = m->vmas[i];
    if (!(hi.flags & MAP_ANONYMOUS))
        hi.offset += addr - hi.start;
    hi.start = addr;
    m->vmas[i].end = addr;
    vma_insert_at(m, i + 1, &hi);
    return true;
}

/* Remove [start, end) from the list.  false: no memory (list unchanged). */
static bool vma_carve(GuestMem *m, uint64_t start, uint64_t end)
{
    if (!vma_reserve(m, 2) || !vma_split_at(m, start) || !vma_split_at(m, end))
        return false;
    size_t i = vma_lower_bound(m, start);
    while (i < m->n_vmas && m->vmas[i].start < end)
        vma_delete_at(m, i);
    m->last_hit = 0;
    return true;
}

static bool vma_mergeable(const GuestVma *a, const GuestVma *b)
{
    if (a->end != b->start || a->prot != b->prot || a->flags != b->flags ||
        a->name != b->name || a->dirty != b->dirty || a->file_dev != b->file_dev ||
        a->file_ino != b->file_ino || a->file_size != b->file_size ||
        a->file_mtime_ns != b->file_mtime_ns)
        return false;
    return (a->flags & MAP_ANONYMOUS) || a->offset + (a->end - a->start) == b->offset;
}

static void vma_merge(GuestMem *m)
{
    size_t i = 0;
    while (i + 1 < m->n_vmas) {
        if (vma_mergeable(&m->vmas[i], &m->vmas[i + 1])) {
            m->vmas[i].end = m->vmas[i + 1].end;
            vma_delete_at(m, i + 1);
        } else {
            i++;
        }
    }
    m->last_hit = 0;
}

/* Insert v (whose range is already carved free). */
static bool vma_add(GuestMem *m, const GuestVma *v)
{
    if (!vma_reserve(m, 1))
        return false;
    vma_insert_at(m, vma_lower_bound(m, v->start), v);
    vma_merge(m);
    return true;
}

static bool range_is_free(GuestMem *m, uint64_t start, uint64_t end)
{
    size_t i = vma_lower_bound(m, start);
    return i >= m->n_vmas || m->vmas[i].start >= end;
}

/* Is [start, end) covered without holes? Optionally requires prot bits. */
static bool range_is_mapped(GuestMem *m, uint64_t start, uint64_t end, int prot)
{
    uint64_t a = start;
    while (a < end) {
        GuestVma *v = vma_find(m, a);
        if (!v || (v->prot & prot) != prot)
            return false;
        a = v->end;
    }
    return true;
}

/* Page map (GuestMem.perm): no fast access to [addr, addr+len). */
static void perm_clear(GuestMem *m, uint64_t addr, uint64_t len)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (addr)
        __atomic_and_fetch(&m->perm[addr / GUEST_PAGE_SIZE - 1],
                           (uint8_t)~(GUEST_PERM_NEXT_READ | GUEST_PERM_NEXT_WRITE),
                           __ATOMIC_SEQ_CST);
    memset(m->perm + addr / GUEST_PAGE_SIZE, 0, len / GUEST_PAGE_SIZE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* NEXT_* bits of pages [first, last] from each page and the one after it:
 * NEXT_READ = both readable, NEXT_WRITE = both readable and writable. */
static void perm_fix_next(GuestMem *m, uint64_t first, uint64_t last)
{
    uint64_t n = m->limit / GUEST_PAGE_SIZE;
    const uint8_t rw = GUEST_PERM_READ | GUEST_PERM_WRITE;
    for (uint64_t p = first; p <= last && p < n; p++) {
        uint8_t next = p + 1 < n ? __atomic_load_n(&m->perm[p + 1], __ATOMIC_RELAXED) : 0;
        uint8_t b = __atomic_load_n(&m->perm[p], __ATOMIC_RELAXED) & rw;
        uint8_t both = b & next & rw;
        b = (uint8_t)(b | ((both & GUEST_PERM_READ) ? GUEST_PERM_NEXT_READ : 0) |
                      (both == rw ? GUEST_PERM_NEXT_WRITE : 0));
        __atomic_store_n(&m->perm[p], b, __ATOMIC_RELAXED);
    }
}

/* Page map for [addr, addr+len) now mapped with guest protection prot
 * (after the host protection is in place). */
static void perm_grant(GuestMem *m, uint64_t addr, uint64_t len, int prot)
{
    int hp = host_prot(prot);
    uint8_t bits = (uint8_t)(((hp & PROT_READ) ? GUEST_PERM_READ : 0) |
                             ((hp & PROT_WRITE) ? GUEST_PERM_WRITE : 0));
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    /* writes stay off on code pages; most ranges have none (one query) */
    bool code = len && (bits & GUEST_PERM_WRITE) && m->hooks.any_code_page &&
                m->hooks.any_code_page(m->hooks.opaque, addr, len);
    for (uint64_t a = addr; a < addr + len; a += GUEST_PAGE_SIZE) {
        uint8_t b = bits;
        if (code && m->hooks.any_code_page(m->hooks.opaque, a, GUEST_PAGE_SIZE))
            b &= (uint8_t)~GUEST_PERM_WRITE;
        __atomic_store_n(&m->perm[a / GUEST_PAGE_SIZE], b, __ATOMIC_RELAXED);
    }
    if (len)
        perm_fix_next(m, addr ? addr / GUEST_PAGE_SIZE - 1 : 0, (addr + len) / GUEST_PAGE_SIZE - 1);
}

/* Put the host reservation back over [addr, addr+len). */
static void host_reserve(GuestMem *m, uint64_t addr, uint64_t len)
{
    perm_clear(m, addr, len);
    mmap(m->base + addr, len, PROT_NONE,
         MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
}

/* Interned names: VMAs keep pointers, compared by identity for merging. */
static const char *intern_name(const char *name)
{
    static struct Name { struct Name *next; char s[]; } *names;
    static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
    if (!name)
        return NULL;
    pthread_mutex_lock(&names_lock);
    struct Name *n;
    for (n = names; n; n = n->next)
        if (!strcmp(n->s, name))
            break;
    if (!n && (n = malloc(sizeof *n + strlen(name) + 1))) {
        strcpy(n->s, name);
        n->next = names;
        names = n;
    }
    pthread_mutex_unlock(&names_lock);
    return n ? n->s : NULL;
}

/* ---- queries ---------------------------------------------------------- */

bool guest_mem_check(GuestMem *m, uint64_t addr, uint64_t len, int prot)
{
    if (len == 0)
        return true;
    if (addr >= m->limit || len > m->limit - addr)
        return false;
    pthread_mutex_lock(&m->lock);
    bool ok = range_is_mapped(m, addr & GUEST_PAGE_MASK, addr + len, prot);
    pthread_mutex_unlock(&m->lock);
    return ok;
}

void *guest_mem_ptr(GuestMem *m, uint64_t addr, uint64_t len, int prot)
{
    if (!guest_mem_check(m, addr, len, prot))
        return NULL;
    if ((prot & PROT_WRITE) && len && m->hooks.any_code_page &&
        m->hooks.any_code_page(m->hooks.opaque, addr, len))
        invalidate(m, addr, len);
    return m->base + addr;
}

int64_t guest_mem_strlen(GuestMem *m, uint64_t addr, uint64_t max)
{
    uint64_t n = 0;
    for (;;) {
        uint64_t a = addr + n;
        if (a < addr || !guest_mem_check(m, a, 1, PROT_READ))
            return -1;
        uint64_t chunk = GUEST_PAGE_SIZE - (a & (GUEST_PAGE_SIZE - 1));
        const char *s = (const char *)m->base + a;
        const char *z = memchr(s, 0, chunk);
        if (z) {
            n += (uint64_t)(z - s);
            return n > max ? -2 : (int64_t)n;
        }
        n += chunk;
        if (n > max)
            return -2;
    }
}

/* ---- host faults on guest memory ---------------------------------------- */

/* A host fault while the interpreter touches guest memory that the VMA
 * list calls accessible: a file mapping past the end of its file (SIGBUS).
 * The host handler calls guest_mem_catch_host_fault, which jumps back into
 * the access; the access then fails like any other, and the run loop asks
 * guest_mem_take_bus whether it was a bus error.  guest_mem_read/write
 * (syscall arguments) fail the same way, which becomes EFAULT.  Host SIGBUS in generated
 * code takes the runtime's path but is noted here the same way. */
static __thread sigjmp_buf *volatile im_catch;   /* volatile: the fault comes between the stores */
static __thread volatile bool im_bus_hit;
static __thread volatile uint64_t im_bus_addr;

/* The jump leaves the host handler without restoring the signal mask
 * (sigsetjmp(.., 0) is cheap, saving the mask would cost a syscall per
 * access): unblock the fault signals again. */
static void im_caught(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGBUS);
    sigaddset(&s, SIGSEGV);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    im_catch = NULL;
}

#define IM_TRY()                                                                 \
    sigjmp_buf im_jb_;                                                           \
    if (sigsetjmp(im_jb_, 0)) {                                                  \
        im_caught();                                                             \
        return false;                                                            \
    }                                                                            \
    im_catch = &im_jb_
#define IM_END() (im_catch = NULL)
/* For syscall arguments: a fault is EFAULT, not a guest signal. */
#define IM_TRY_QUIET()                                                           \
    sigjmp_buf im_jb_;                                                           \
    if (sigsetjmp(im_jb_, 0)) {                                                  \
        im_caught();                                                             \
        im_bus_hit = false;                                                      \
        return false;                                                            \
    }                                                                            \
    im_catch = &im_jb_

void guest_mem_note_host_fault(GuestMem *m, int sig, const void *host_addr)
{
    const uint8_t *a = host_addr;
    if (!m || a < m->base || a >= m->base + m->reserved)
        return;
    im_bus_hit = sig == SIGBUS;
    im_bus_addr = (uint64_t)(a - m->base);
    if (im_catch) {
        sigjmp_buf *j = im_catch;
        im_catch = NULL;
        siglongjmp(*j, 1);
    }
}

bool guest_mem_take_bus(uint64_t *addr)
{
    if (!im_bus_hit)
        return false;
    im_bus_hit = false;
    *addr = im_bus_addr;
    return true;
}

bool guest_mem_read(GuestMem *m, uint64_t addr, void *buf, size_t len)
{
    if (!guest_mem_check(m, addr, len, PROT_READ))
        return false;
    IM_TRY_QUIET();
    memcpy(buf, m->base + addr, len);
    IM_END();
    return true;
}

bool guest_mem_write(GuestMem *m, uint64_t addr, const void *buf, size_t len)
{
    void *p = guest_mem_ptr(m, addr, len, PROT_WRITE);
    if (!p)
        return false;
    IM_TRY_QUIET();
    memcpy(p, buf, len);
    IM_END();
    return true;
}

uint64_t guest_mem_find_free(GuestMem *m, uint64_t len)
{
    uint64_t hi = m->mmap_top;
    if (len == 0 || len > hi)
        return 0;
    for (size_t i = m->n_vmas; i-- > 0;) {
        GuestVma *v = &m->vmas[i];
        if (v->start >= hi)
            continue;
        if (v->end <= hi && hi - v->end >= len)
            return hi - len;
        hi = v->start;
        if (hi < len + GUEST_MMAP_MIN)
            return 0;
    }
    return hi >= len + GUEST_MMAP_MIN ? hi - len : 0;
}

size_t guest_mem_vmas(GuestMem *m, GuestVma **out)
{
    pthread_mutex_lock(&m->lock);
    size_t n = m->n_vmas;
    *out = malloc((n ? n : 1) * sizeof **out);
    if (*out)
        memcpy(*out, m->vmas, n * sizeof **out);
    else
        n = 0;
    pthread_mutex_unlock(&m->lock);
    return n;
}

/* ---- map changes ------------------------------------------------------ */

int64_t guest_mmap(GuestMem *m, uint64_t addr, uint64_t len, int prot, int flags, int fd,
                   uint64_t offset, const char *name)
{
    int share = flags & (MAP_SHARED | MAP_PRIVATE);
    if (len == 0 || (offset & (GUEST_PAGE_SIZE - 1)) || share == 0 ||
        (prot & ~(PROT_GUEST_MASK | PROT_AARCH64_BTI)))
        return -EINVAL;
    if (share == (MAP_SHARED | MAP_PRIVATE))   /* MAP_SHARED_VALIDATE */
        share = MAP_SHARED;
    prot &= PROT_GUEST_MASK;
    if (len > m->limit)
        return -ENOMEM;
    len = guest_page_round_up(len);
    bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
    bool anon = flags & MAP_ANONYMOUS;

    /* File mappings are made at a host-chosen place first and moved in with
     * mremap, so a failure (bad fd, EACCES, ENODEV) leaves the map as it was. */
    void *tmp = NULL;
    if (!anon) {
        tmp = mmap(NULL, len, host_prot(prot), share, fd, (off_t)offset);
        if (tmp == MAP_FAILED)
            return -errno;
    }

    pthread_mutex_lock(&m->lock);
    int64_t ret;
    if (fixed) {
        if (addr & (GUEST_PAGE_SIZE - 1)) {
            ret = -EINVAL;
            goto fail;
        }
        if (addr >= m->limit || len > m->limit - addr) {
            ret = -ENOMEM;
            goto fail;
        }
        if ((flags & MAP_FIXED_NOREPLACE) && !(flags & MAP_FIXED) &&
            !range_is_free(m, addr, addr + len)) {
            ret = -EEXIST;
            goto fail;
        }
    } else {
        addr &= GUEST_PAGE_MASK;
        if (!addr || addr < GUEST_MMAP_MIN || addr >= m->limit || len > m->limit - addr ||
            !range_is_free(m, addr, addr + len))
            addr = guest_mem_find_free(m, len);
        if (!addr) {
            ret = -ENOMEM;
            goto fail;
        }
    }
    bool replaces = !range_is_free(m, addr, addr + len);
    if (replaces) {
        /* Translations of the old pages must go first; the runtime calls
         * back into us, so drop the lock meanwhile. */
        pthread_mutex_unlock(&m->lock);
        invalidate(m, addr, len);
        pthread_mutex_lock(&m->lock);
    }
    if (!vma_carve(m, addr, addr + len)) {
        ret = -ENOMEM;
        goto fail;
    }
    void *host = m->base + addr;
    if (anon) {
        int hflags = MAP_FIXED | share | MAP_ANONYMOUS | (flags & MAP_NORESERVE);
        if (mmap(host, len, host_prot(prot), hflags, -1, 0) == MAP_FAILED) {
            ret = -errno;
            host_reserve(m, addr, len);
            pthread_mutex_unlock(&m->lock);
            return ret;
        }
    } else if (mremap(tmp, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, host) == MAP_FAILED) {
        ret = -errno;
        host_reserve(m, addr, len);
        goto fail;
    }
    GuestVma v = { .start = addr, .end = addr + len, .prot = prot,
                   .flags = share | (anon ? MAP_ANONYMOUS : 0),
                   .offset = anon ? 0 : offset, .name = intern_name(name),
                   .dirty = anon || share == MAP_SHARED || (prot & PROT_WRITE) };
    struct stat st;
    if (!anon && !v.dirty) {
        if (fstat(fd, &st) == 0) {
            v.file_dev = st.st_dev;
            v.file_ino = st.st_ino;
            v.file_size = (uint64_t)st.st_size;
            v.file_mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        } else {
            v.dirty = true;
        }
    }
    if (!vma_add(m, &v)) {
        host_reserve(m, addr, len);
        pthread_mutex_unlock(&m->lock);
        return -ENOMEM;
    }
    perm_grant(m, addr, len, prot);
    pthread_mutex_unlock(&m->lock);
    return (int64_t)addr;

fail:
    pthread_mutex_unlock(&m->lock);
    if (tmp)
        munmap(tmp, len);
    return ret;
}

int guest_munmap(GuestMem *m, uint64_t addr, uint64_t len)
{
    if ((addr & (GUEST_PAGE_SIZE - 1)) || len == 0 || addr >= m->limit ||
        len > m->limit - addr)
        return -EINVAL;
    len = guest_page_round_up(len);
    if (len > m->limit - addr)
        return -EINVAL;
    invalidate(m, addr, len);
    pthread_mutex_lock(&m->lock);
    int ret = 0;
    if (!range_is_free(m, addr, addr + len)) {
        if (!vma_carve(m, addr, addr + len))
            ret = -ENOMEM;
        else
            host_reserve(m, addr, len);
    }
    pthread_mutex_unlock(&m->lock);
    return ret;
}

void guest_mem_unmap_all(GuestMem *m)
{
    GuestVma *v;
    size_t n = guest_mem_vmas(m, &v);
    for (size_t i = 0; i < n; i++)
        guest_munmap(m, v[i].start, v[i].end - v[i].start);
    free(v);
    pthread_mutex_lock(&m->lock);
    m->mmap_top = initial_mmap_top(m->limit);
    m->brk_start = m->brk_cur = m->brk_mapped = 0;
    m->last_hit = 0;
    pthread_mutex_unlock(&m->lock);
}

int guest_mprotect(GuestMem *m, uint64_t addr, uint64_t len, int prot)
{
    if ((addr & (GUEST_PAGE_SIZE - 1)) || (prot & ~(PROT_GUEST_MASK | PROT_AARCH64_BTI)))
        return -EINVAL;
    prot &= PROT_GUEST_MASK;
    if (len == 0)
        return 0;
    if (addr >= m->limit || len > m->limit - addr)
        return -ENOMEM;
    len = guest_page_round_up(len);
    uint64_t end = addr + len;
    pthread_mutex_lock(&m->lock);
    bool mapped = range_is_mapped(m, addr, end, 0);
    pthread_mutex_unlock(&m->lock);
    if (!mapped)
        return -ENOMEM;
    invalidate(m, addr, len);
    pthread_mutex_lock(&m->lock);
    int ret = 0;
    if (!vma_reserve(m, 2) || !vma_split_at(m, addr) || !vma_split_at(m, end)) {
        ret = -ENOMEM;
    } else {
        perm_clear(m, addr, len);
        if (mprotect(m->base + addr, len, host_prot(prot)) != 0) {
            ret = -errno;
            for (size_t i = vma_lower_bound(m, addr); i < m->n_vmas && m->vmas[i].start < end;
                 i++)
                perm_grant(m, m->vmas[i].start, m->vmas[i].end - m->vmas[i].start,
                           m->vmas[i].prot);
        } else {
            for (size_t i = vma_lower_bound(m, addr); i < m->n_vmas && m->vmas[i].start < end;
                 i++) {
                m->vmas[i].prot = prot;
                m->vmas[i].dirty |= (prot & PROT_WRITE) != 0;
            }
            perm_grant(m, addr, len, prot);
        }
    }
    vma_merge(m);
    pthread_mutex_unlock(&m->lock);
    return ret;
}

int64_t guest_mremap(GuestMem *m, uint64_t old_addr, uint64_t old_len, uint64_t new_len,
                     int flags, uint64_t new_addr)
{
    if ((old_addr & (GUEST_PAGE_SIZE - 1)) || (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)) ||
        ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)) || new_len == 0 ||
        old_len == 0 || old_len > m->limit || new_len > m->limit)
        return -EINVAL;
    old_len = guest_page_round_up(old_len);
    new_len = guest_page_round_up(new_len);
    if (old_addr >= m->limit || old_len > m->limit - old_addr)
        return -EFAULT;

    pthread_mutex_lock(&m->lock);
    GuestVma *v = vma_find(m, old_addr);
    if (!v || v->end < old_addr + old_len) {
        pthread_mutex_unlock(&m->lock);
        return -EFAULT;
    }
    GuestVma moved = *v;
    pthread_mutex_unlock(&m->lock);

    if (!(flags & MREMAP_FIXED) && new_len <= old_len) {
        if (new_len < old_len)
            guest_munmap(m, old_addr + new_len, old_len - new_len);
        return (int64_t)old_addr;
    }
    if (flags & MREMAP_FIXED) {
        if ((new_addr & (GUEST_PAGE_SIZE - 1)) || new_addr >= m->limit ||
            new_len > m->limit - new_addr ||
            (new_addr < old_addr + old_len && old_addr < new_addr + new_len))
            return -EINVAL;
        guest_munmap(m, new_addr, new_len);
    }
    invalidate(m, old_addr, old_len);

    pthread_mutex_lock(&m->lock);
    int64_t ret;
    uint64_t target;
    if (flags & MREMAP_FIXED) {
        target = new_addr;
    } else if (old_addr + new_len <= m->limit &&
               range_is_free(m, old_addr + old_len, old_addr + new_len)) {
        target = old_addr;
    } else if (flags & MREMAP_MAYMOVE) {
        target = guest_mem_find_free(m, new_len);
        if (!target) {
            ret = -ENOMEM;
            goto out;
        }
    } else {
        ret = -ENOMEM;
        goto out;
    }
    if (!vma_reserve(m, 3)) {
        ret = -ENOMEM;
        goto out;
    }
    if (target == old_addr) {
        /* Grow in place: open a hole after the mapping for the kernel. */
        uint64_t tail = old_addr + old_len, extra = new_len - old_len;
        perm_clear(m, old_addr, old_len);
        munmap(m->base + tail, extra);
        if (mremap(m->base + old_addr, old_len, new_len, 0) == MAP_FAILED) {
            ret = -errno;
            host_reserve(m, tail, extra);
            goto out;
        }
    } else {
        if (mremap(m->base + old_addr, old_len, new_len, MREMAP_MAYMOVE | MREMAP_FIXED,
                   m->base + target) == MAP_FAILED) {
            ret = -errno;
            goto out;
        }
        host_reserve(m, old_addr, old_len);
    }
    vma_carve(m, old_addr, old_addr + old_len);
    vma_carve(m, target, target + new_len);
    if (!(moved.flags & MAP_ANONYMOUS))
        moved.offset += old_addr - moved.start;
    moved.start = target;
    moved.end = target + new_len;
    vma_add(m, &moved);
    perm_grant(m, target, new_len, moved.prot);
    ret = (int64_t)target;
out:
    pthread_mutex_unlock(&m->lock);
    return ret;
}

void guest_mem_brk_init(GuestMem *m, uint64_t start)
{
    pthread_mutex_lock(&m->lock);
    m->brk_start = m->brk_cur = m->brk_mapped = guest_page_round_up(start);
    pthread_mutex_unlock(&m->lock);
}

uint64_t guest_brk(GuestMem *m, uint64_t new_brk)
{
    pthread_mutex_lock(&m->lock);
    uint64_t cur = m->brk_cur, mapped = m->brk_mapped;
    pthread_mutex_unlock(&m->lock);
    if (new_brk < m->brk_start || new_brk >= m->limit)
        return cur;
    uint64_t want = guest_page_round_up(new_brk);
    if (want > mapped) {
        pthread_mutex_lock(&m->lock);
        bool free_ = range_is_free(m, mapped, want);
        pthread_mutex_unlock(&m->lock);
        if (!free_)
            return cur;
        int64_t r = guest_mmap(m, mapped, want - mapped, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, "[heap]");
        if (r < 0)
            return cur;
    } else if (want < mapped) {
        guest_munmap(m, want, mapped - want);
    }
    pthread_mutex_lock(&m->lock);
    m->brk_cur = new_brk;
    m->brk_mapped = want;
    pthread_mutex_unlock(&m->lock);
    return new_brk;
}

/* ---- runtime callbacks ------------------------------------------------ */

const void *guest_mem_code_view(void *opaque, uint64_t pc, size_t len)
{
    GuestMem *m = opaque;
    return guest_mem_check(m, pc, len, PROT_EXEC) ? m->base + pc : NULL;
}

bool guest_mem_page_id(void *opaque, uint64_t addr, uint8_t id[16])
{
    GuestMem *m = opaque;
    addr &= GUEST_PAGE_MASK;
    pthread_mutex_lock(&m->lock);
    const GuestVma *v = addr < m->limit ? vma_find(m, addr) : NULL;
    bool clean = v && !v->dirty && !(v->flags & MAP_ANONYMOUS);
    if (clean) {
        uint64_t f[5] = { v->file_dev, v->file_ino, v->file_size, (uint64_t)v->file_mtime_ns,
                          v->offset + (addr - v->start) };
        emu_hash128(f, sizeof f, id);
    }
    pthread_mutex_unlock(&m->lock);
    return clean;
}

bool guest_mem_read_code(void *opaque, uint64_t pc, void *buf, size_t len)
{
    const void *v = guest_mem_code_view(opaque, pc, len);
    if (v)
        memcpy(buf, v, len);
    return v != NULL;
}

void guest_mem_protect_code_page(void *opaque, uint64_t page)
{
    GuestMem *m = opaque;
    page &= GUEST_PAGE_MASK;
    pthread_mutex_lock(&m->lock);
    GuestVma *v = page < m->limit ? vma_find(m, page) : NULL;
    if (v && (v->prot & PROT_WRITE)) {
        __atomic_and_fetch(&m->perm[page / GUEST_PAGE_SIZE],
                           (uint8_t)~(GUEST_PERM_WRITE | GUEST_PERM_NEXT_WRITE), __ATOMIC_SEQ_CST);
        if (page)
            __atomic_and_fetch(&m->perm[page / GUEST_PAGE_SIZE - 1],
                               (uint8_t)~GUEST_PERM_NEXT_WRITE, __ATOMIC_SEQ_CST);
        mprotect(m->base + page, GUEST_PAGE_SIZE, host_prot(v->prot) & ~PROT_WRITE);
    }
    pthread_mutex_unlock(&m->lock);
}

void guest_mem_unprotect_code_page(void *opaque, uint64_t page)
{
    GuestMem *m = opaque;
    page &= GUEST_PAGE_MASK;
    pthread_mutex_lock(&m->lock);
    GuestVma *v = page < m->limit ? vma_find(m, page) : NULL;
    if (v) {
        mprotect(m->base + page, GUEST_PAGE_SIZE, host_prot(v->prot));
        if (host_prot(v->prot) & PROT_WRITE) {
            __atomic_or_fetch(&m->perm[page / GUEST_PAGE_SIZE], (uint8_t)GUEST_PERM_WRITE,
                              __ATOMIC_SEQ_CST);
            perm_fix_next(m, page ? page / GUEST_PAGE_SIZE - 1 : 0, page / GUEST_PAGE_SIZE);
        }
    }
    pthread_mutex_unlock(&m->lock);
}

static bool im_load(void *opaque, uint64_t addr, IrMemOp mo, void *out)
{
    GuestMem *m = opaque;
    unsigned n = IR_MO_BYTES(mo);
    if (!guest_mem_check(m, addr, n, PROT_READ))
        return false;
    IM_TRY();
    memcpy(out, m->base + addr, n);
    IM_END();
    return true;
}

static bool im_store(void *opaque, uint64_t addr, IrMemOp mo, const void *in)
{
    GuestMem *m = opaque;
    unsigned n = IR_MO_BYTES(mo);
    if (!guest_mem_check(m, addr, n, PROT_WRITE))
        return false;
    IM_TRY();
    memcpy(m->base + addr, in, n);
    IM_END();
    return true;
}

/* 16-byte atomics are serialised by this lock (not atomic against code
 * generated by the template backend). */
static pthread_mutex_t im_atomic16_lock = PTHREAD_MUTEX_INITIALIZER;

static bool im_cmpxchg(void *opaque, uint64_t addr, IrMemOp mo, const void *expect,
                       const void *newv, void *old)
{
    GuestMem *m = opaque;
    unsigned n = IR_MO_BYTES(mo);
    if (!guest_mem_check(m, addr, n, PROT_READ | PROT_WRITE))
        return false;
    void *p = m->base + addr;
    IM_TRY();
#define CAS(T)                                                                   \
    do {                                                                         \
        T e, nv;                                                                 \
        memcpy(&e, expect, sizeof e);                                            \
        memcpy(&nv, newv, sizeof nv);                                            \
        __atomic_compare_exchange_n((T *)p, &e, nv, false, __ATOMIC_SEQ_CST,     \
                                    __ATOMIC_SEQ_CST);                           \
        memcpy(old, &e, sizeof e);                                               \
    } while (0)
    switch (n) {
    case 1: CAS(uint8_t); break;
    case 2: CAS(uint16_t); break;
    case 4: CAS(uint32_t); break;
    case 8: CAS(uint64_t); break;
    default:
        pthread_mutex_lock(&im_atomic16_lock);
        memcpy(old, p, n);
        if (!memcmp(old, expect, n))
            memcpy(p, newv, n);
        pthread_mutex_unlock(&im_atomic16_lock);
        break;
    }
#undef CAS
    IM_END();
    return true;
}

static bool im_rmw(void *opaque, uint64_t addr, IrMemOp mo, IrRmwOp op, const void *val,
                   void *old)
{
    GuestMem *m = opaque;
    unsigned n = IR_MO_BYTES(mo);
    if (n > 8 || !guest_mem_check(m, addr, n, PROT_READ | PROT_WRITE))
        return false;
    void *p = m->base + addr;
    uint64_t v = 0;
    memcpy(&v, val, n);
    IM_TRY();
#define RMW(T)                                                                   \
    do {                                                                         \
        T o = __atomic_load_n((T *)p, __ATOMIC_RELAXED), nv;                     \
        do {                                                                     \
            nv = (T)ir_rmw_apply(op, n, o, v);                                   \
        } while (!__atomic_compare_exchange_n((T *)p, &o, nv, true,              \
                                              __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)); \
        memcpy(old, &o, sizeof o);                                               \
    } while (0)
    switch (n) {
    case 1: RMW(uint8_t); break;
    case 2: RMW(uint16_t); break;
    case 4: RMW(uint32_t); break;
    default: RMW(uint64_t); break;
    }
#undef RMW
    IM_END();
    return true;
}

IrMemIface guest_mem_interp_iface(GuestMem *m)
{
    return (IrMemIface){ .opaque = m, .load = im_load, .store = im_store,
                         .cmpxchg = im_cmpxchg, .rmw = im_rmw };
}
