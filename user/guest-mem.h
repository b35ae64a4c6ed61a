/*
 * guest-mem.h - the guest address space of Linux user mode.
 *
 * One PROT_NONE, MAP_NORESERVE host reservation of `limit` bytes (plus a
 * guard) at `base`: guest address a lives at host address base + a.  Guest
 * mmap/munmap/mprotect/mremap/brk carve pages out of it and keep a sorted
 * list of guest VMAs (page granular, with the guest's protections and a
 * name for /proc/self/maps).  The host protection of every page mirrors the
 * guest's (PROT_EXEC becomes PROT_READ: guest code is read, never run), so a
 * guest access to an unmapped or protected page faults on the host and the
 * runtime turns it into a guest SIGSEGV.
 *
 *   GuestMem *m = guest_mem_new(GUEST_MEM_DEFAULT_LIMIT, err, sizeof err);
 *   int64_t a = guest_mmap(m, 0, 65536, PROT_READ | PROT_WRITE,
 *                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, NULL);
 *   void *h = guest_mem_ptr(m, a, 16, PROT_WRITE);   // NULL: not writable
 *
 * Code pages: the runtime asks (protect_code_page) to make pages it
 * translated read-only; guest_mem_code_ops() gives the callbacks.  The
 * owner installs `hooks` so that changes of the map (munmap, mprotect, ...)
 * and writes done on the guest's behalf invalidate translations first.
 *
 * Locking: one mutex around the VMA list.  The invalidate hook is never
 * called with it held (the runtime may call back into us under its lock).
 */
#ifndef EMU_USER_GUEST_MEM_H
#define EMU_USER_GUEST_MEM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "ir/ir.h"

#define GUEST_PAGE_SIZE 4096ull
#define GUEST_PAGE_MASK (~(GUEST_PAGE_SIZE - 1))
#define GUEST_MEM_DEFAULT_LIMIT (1ull << 40)   /* 1 TiB */
#define GUEST_MEM_GUARD (1ull << 20)           /* PROT_NONE past the limit */
#define GUEST_STACK_SIZE (8ull << 20)

static inline uint64_t guest_page_round_up(uint64_t a)
{
    return (a + GUEST_PAGE_SIZE - 1) & GUEST_PAGE_MASK;
}

/* One guest mapping [start, end), page aligned. */
typedef struct GuestVma {
    uint64_t start, end;
    int prot;          /* guest PROT_* */
    int flags;         /* guest MAP_* (MAP_SHARED / MAP_PRIVATE / MAP_ANONYMOUS) */
    uint64_t offset;   /* file offset of start (file mappings) */
    const char *name;  /* "[heap]", "[stack]", a path, or NULL (interned, never freed) */
    /* File mappings: the file as it was when mapped, and whether the pages
     * may differ from it (MAP_SHARED, or PROT_WRITE at any time since): a
     * clean one holds the file's bytes (guest_mem_page_id). */
    uint64_t file_dev, file_ino, file_size;
    int64_t file_mtime_ns;
    bool dirty;
} GuestVma;

/* What the owner (the runtime glue) does when the map changes. */
typedef struct GuestMemHooks {
    void *opaque;
    /* Drop translations of [start, start+len) (exec_invalidate_range). */
    void (*invalidate)(void *opaque, uint64_t start, uint64_t len);
    /* Is any page of [start, start+len) one whose translations are
     * protected? (lock-free; len > 0) */
    bool (*any_code_page)(void *opaque, uint64_t start, uint64_t len);
} GuestMemHooks;

typedef struct GuestMem {
    uint8_t *base;            /* host address of guest address 0 */
    uint64_t limit;           /* guest addresses are < limit */
    size_t reserved;          /* bytes reserved at base (limit + guard) */
    pthread_mutex_t lock;
    GuestVma *vmas;           /* sorted by start, non-overlapping */
    size_t n_vmas, cap_vmas;
    size_t last_hit;          /* lookup cache index */
    uint64_t mmap_top;        /* top-down search for non-fixed mmaps starts here */
    uint64_t brk_start;       /* first byte of the heap (page aligned) */
    uint64_t brk_cur;         /* current program break */
    uint64_t brk_mapped;      /* end of the pages mapped for the heap */
    GuestMemHooks hooks;
    /* One byte per guest page, GUEST_PERM_*: what generated code may do
     * there without a host fault (the host protection, minus writes on
     * write-protected code pages).  LLVM regions test it before each access
     * instead of writing guest registers back first (CpuCommon.page_perm).
     * Bits are cleared before the host protection shrinks and set after it
     * grows, so a set bit never promises more than the host allows. */
    uint8_t *perm;
} GuestMem;

/* READ/WRITE: this page; NEXT_READ: this page and the one after it are
 * readable, NEXT_WRITE: both are readable and writable (so an access that
 * may cross into the next page needs one bit, and a write bit promises
 * reads too). */
enum { GUEST_PERM_READ = 1, GUEST_PERM_WRITE = 2, GUEST_PERM_NEXT_READ = 4,
       GUEST_PERM_NEXT_WRITE = 8 };

/* Reserve the address space.  NULL with a message on failure. */
GuestMem *guest_mem_new(uint64_t limit, char *err, size_t errlen);
void guest_mem_free(GuestMem *m);
void guest_mem_set_hooks(GuestMem *m, const GuestMemHooks *hooks);

static inline void *guest_mem_g2h(const GuestMem *m, uint64_t addr)
{
    return m->base + addr;
}

/* Is [addr, addr+len) mapped with at least `prot` everywhere (PROT_NONE:
 * just mapped)?  len 0 is always valid. */
bool guest_mem_check(GuestMem *m, uint64_t addr, uint64_t len, int prot);
/* Host pointer for [addr, addr+len) if guest_mem_check() passes, else NULL.
 * For PROT_WRITE it also invalidates translated code in the range first, so
 * the caller may write there (a syscall filling a buffer). */
void *guest_mem_ptr(GuestMem *m, uint64_t addr, uint64_t len, int prot);
/* Length of the NUL-terminated string at addr (readable up to and including
 * the NUL, at most max bytes before it), or -1 (EFAULT) / -2 (too long). */
int64_t guest_mem_strlen(GuestMem *m, uint64_t addr, uint64_t max);

/* Copy to / from guest memory with the guest's protections (false: fault). */
bool guest_mem_read(GuestMem *m, uint64_t addr, void *buf, size_t len);
bool guest_mem_write(GuestMem *m, uint64_t addr, const void *buf, size_t len);

/* Linux semantics, guest addresses; return the address / 0 or -errno.
 * flags are MAP_* (identical values on aarch64 and x86-64 hosts). */
int64_t guest_mmap(GuestMem *m, uint64_t addr, uint64_t len, int prot, int flags, int fd,
                   uint64_t offset, const char *name);
int guest_munmap(GuestMem *m, uint64_t addr, uint64_t len);
int guest_mprotect(GuestMem *m, uint64_t addr, uint64_t len, int prot);
int64_t guest_mremap(GuestMem *m, uint64_t old_addr, uint64_t old_len, uint64_t new_len,
                     int flags, uint64_t new_addr);
/* Program break: set the heap start (after loading), then brk() semantics:
 * returns the new break, or the old one if the request cannot be met. */
void guest_mem_brk_init(GuestMem *m, uint64_t start);
uint64_t guest_brk(GuestMem *m, uint64_t new_brk);

/* execve: unmap every guest mapping and forget the break; non-fixed mmaps
 * start from the top again.  Only with one guest thread. */
void guest_mem_unmap_all(GuestMem *m);
/* Find a free range of len bytes, top-down below mmap_top (0: none). */
uint64_t guest_mem_find_free(GuestMem *m, uint64_t len);
/* Snapshot of the VMA list (caller frees *out).  Returns the count. */
size_t guest_mem_vmas(GuestMem *m, GuestVma **out);

/* Runtime callbacks (ExecMemOps): opaque is the GuestMem. */
bool guest_mem_read_code(void *opaque, uint64_t pc, void *buf, size_t len);
const void *guest_mem_code_view(void *opaque, uint64_t pc, size_t len);
/* ExecMemOps.page_id: the page of addr holds the bytes of an unchanged file
 * (a clean private file mapping): *id names the file, its state when mapped
 * and the offset.  Two equal ids hold the same bytes (see runtime/exec-image.c). */
bool guest_mem_page_id(void *opaque, uint64_t addr, uint8_t id[16]);
void guest_mem_protect_code_page(void *opaque, uint64_t page);
void guest_mem_unprotect_code_page(void *opaque, uint64_t page);
/* Data accesses of the interpreter tier. */
IrMemIface guest_mem_interp_iface(GuestMem *m);
/* From the host SIGSEGV/SIGBUS handler: a fault at host_addr inside the
 * reservation is noted (SIGBUS: for guest_mem_take_bus) and, if the
 * interpreter's memory interface was touching guest memory, jumps back so
 * that access fails.  Returns when there is nothing to catch. */
void guest_mem_note_host_fault(GuestMem *m, int sig, const void *host_addr);
/* Whether this thread's last noted host fault was a SIGBUS (a file mapping
 * past its end); *addr is its guest address.  Clears the note. */
bool guest_mem_take_bus(uint64_t *addr);

#endif /* EMU_USER_GUEST_MEM_H */
