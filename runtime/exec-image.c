/*
 * exec-image.c - translations across a guest execve done in place (user
 * mode, user/execve.c).  Before the old image goes, exec_image_before takes
 * a checksum of every guest page that holds translated code; once the new
 * image is mapped, exec_image_after keeps the blocks of the pages whose
 * bytes are the same and still executable (the same program or library at
 * the same address) and drops the others.  A shell's child that runs a
 * command of the shell's own binary keeps the blocks it inherited from the
 * shell instead of loading them again, into copy-on-write pages.
 *
 * A page that holds a clean file mapping (ExecMemOps.page_id: a program's
 * text) is compared by its id instead: the same file, unchanged since it was
 * mapped (device, inode, size, mtime), at the same offset.  Such pages are
 * not read at all (a forked child has none of them mapped yet: reading
 * them cost a page fault per 16 pages, twice), and a file rewritten in place
 * since it was mapped drops its blocks where the sums would have kept them.
 */
#include "runtime/exec-internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct PageSum {
    uint64_t page;
    uint8_t sum[16];
    bool readable;
    bool by_id;      /* sum is the page's ExecMemOps.page_id */
} PageSum;

struct ExecImageSnap {
    size_t n;
    PageSum pages[];
};

/* The page's id if it has one and is mapped executable (nothing read). */
static bool page_id(ExecEngine *e, uint64_t page, uint8_t id[16])
{
    uint64_t addr = page << EXEC_PAGE_BITS;
    if (!e->cfg.mem.page_id || !e->cfg.mem.code_view ||
        !e->cfg.mem.code_view(e->cfg.mem.opaque, addr, EXEC_PAGE_SIZE))
        return false;
    return e->cfg.mem.page_id(e->cfg.mem.opaque, addr, id);
}

/* The page's bytes as code (false: not mapped executable). */
static bool page_sum(ExecEngine *e, uint64_t page, uint8_t sum[16])
{
    return exec_code_hash(e, page << EXEC_PAGE_BITS, EXEC_PAGE_SIZE, sum);
}

ExecImageSnap *exec_image_before(ExecEngine *e)
{
    pthread_mutex_lock(&e->lock);
    /* a region compiled from the old image is not installed after this */
    __atomic_add_fetch(&e->gen, 1, __ATOMIC_RELEASE);
    ExecImageSnap *s = malloc(sizeof *s + e->n_pages * sizeof s->pages[0]);
    if (s) {
        s->n = 0;
        for (size_t i = 0; i < e->n_pbuckets; i++)
            for (PageDesc *pd = e->pbuckets[i]; pd; pd = pd->next) {
                PageSum *p = &s->pages[s->n++];
                p->page = pd->page;
                p->by_id = page_id(e, pd->page, p->sum);
                p->readable = p->by_id || page_sum(e, pd->page, p->sum);
            }
    } else {
        exec_flush_locked(e);
    }
    pthread_mutex_unlock(&e->lock);
    return s;
}

void exec_image_after(ExecEngine *e, ExecImageSnap *s)
{
    if (!s) {   /* exec_image_before flushed everything */
        exec_fork_image_changed(e);
        return;
    }
    pthread_mutex_lock(&e->lock);
    e->code_cache_valid = false;
    tiercache_forget(e);
    for (size_t i = 0; i < s->n; i++) {
        PageSum *p = &s->pages[i];
        uint8_t now[16];
        uint64_t addr = p->page << EXEC_PAGE_BITS;
        bool now_ok = p->by_id ? page_id(e, p->page, now) : page_sum(e, p->page, now);
        if (p->readable && now_ok && !memcmp(now, p->sum, sizeof now)) {
            /* the new mapping starts writable if the guest's is: protect
             * the page again so that a write still finds its blocks */
            if (tb_test_code_page(e, p->page) && e->cfg.mem.protect_code_page)
                e->cfg.mem.protect_code_page(e->cfg.mem.opaque, addr);
        } else {
            tb_invalidate_locked(e, addr, EXEC_PAGE_SIZE);
            exec_fork_image_changed(e);   /* other code than the parent's from here on */
        }
    }
    pthread_mutex_unlock(&e->lock);
    free(s);
}
