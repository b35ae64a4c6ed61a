/*
 * fork-ring.c - what forked children add, handed back to their parent.
 *
 * Code only children run (a shell's side of fork in the child, the commands
 * it execs from its own binary) was loaded again by every child, into
 * copy-on-write pages: ~40-80 blocks and ~100-200 page faults per command of
 * a shell; and every child chained those blocks again, writing the same
 * jumps into copy-on-write code and TransBlock pages (~50 faults).  A child
 * notes the blocks it adds and the chains it makes in a ring shared with its
 * parent (MAP_SHARED, made at the first fork); before its next fork the
 * parent adds them itself, so later children inherit them.
 *
 * Blocks are noted only while the child's code is its parent's: after an
 * execve in place that dropped any page (exec_fork_image_changed) the child
 * stops.  The parent translates a noted block from its own memory, so a
 * block is never wrong, at worst useless.  A chain is only right if the
 * parent's block at the source pc has the same code as the child's: the
 * child notes a sum of the bytes its block was translated from (its range
 * and the bytes around it the frontend read), the parent links only if its
 * own block covers the same range and its memory there has the same sum.
 *
 * An entry is (kind | slot | flags, target pc, sum, pc), pc written last and
 * never 0; the parent stops at the first entry not yet written.
 * (Replaying the children's jump-cache fills in the parent cost more faults
 * than it saved: after a fork every page the parent writes is copy-on-write
 * too, and its jump cache changes all the time.  Chains are made once.)
 */
#include "runtime/exec-internal.h"

#include <string.h>
#include <sys/mman.h>

#define FR_MAX 8192
#define FR_PER_CHILD 1024   /* a long-running child does not fill the ring alone */

enum { FR_BLOCK, FR_CHAIN };

typedef struct ForkRingEntry {
    uint64_t what;     /* kind << 40 | slot << 32 | flags */
    uint64_t target;   /* FR_CHAIN: the pc the slot was chained to */
    uint64_t sum;      /* FR_CHAIN: block_sum of the source block */
    uint64_t pc;       /* written last (release); 0: not yet */
} ForkRingEntry;

struct ForkRing {
    uint32_t n;
    uint32_t pad[15];
    ForkRingEntry ent[FR_MAX];
};

/* A sum of the guest bytes tb's code was made from, and of the range
 * itself (0: unreadable). */
static uint64_t block_sum(ExecEngine *e, const TransBlock *tb)
{
    uint8_t d[16];
    if (!exec_code_hash(e, tb->pc - tb->dep_before,
                        (size_t)tb->dep_before + tb->guest_size + tb->dep_after, d))
        return 0;
    uint64_t lo, hi;
    memcpy(&lo, d, 8);
    memcpy(&hi, d + 8, 8);
    uint64_t h = lo ^ hi ^ (uint64_t)tb->guest_size * 0x9e3779b97f4a7c15ull ^
                 (uint64_t)tb->dep_before << 32 ^ (uint64_t)tb->dep_after << 48;
    return h ? h : 1;
}

static ForkRingEntry *ring_slot(ExecEngine *e)
{
    if (!e->fp || !e->fp_report || e->fp_noted >= FR_PER_CHILD)
        return NULL;
    e->fp_noted++;
    uint32_t i = __atomic_fetch_add(&e->fp->n, 1, __ATOMIC_RELAXED);
    return i < FR_MAX ? &e->fp->ent[i] : NULL;
}

void fork_ring_note_block(ExecEngine *e, const TransBlock *tb)
{
    ForkRingEntry *r = tb->pc ? ring_slot(e) : NULL;
    if (!r)
        return;
    r->what = (uint64_t)FR_BLOCK << 40 | tb->flags;
    __atomic_store_n(&r->pc, tb->pc, __ATOMIC_RELEASE);
}

void fork_ring_note_chain(ExecEngine *e, const TransBlock *src, unsigned slot,
                          const TransBlock *dst)
{
    if (!e->fp || !e->fp_report || !src->pc || !src->host)
        return;
    uint64_t sum = block_sum(e, src);
    ForkRingEntry *r = sum ? ring_slot(e) : NULL;
    if (!r)
        return;
    r->what = (uint64_t)FR_CHAIN << 40 | (uint64_t)slot << 32 | src->flags;
    r->target = dst->pc;
    r->sum = sum;
    __atomic_store_n(&r->pc, src->pc, __ATOMIC_RELEASE);
}

static void take_chain(ExecEngine *e, const ForkRingEntry *r, uint64_t pc, uint32_t flags)
{
    unsigned slot = (unsigned)(r->what >> 32) & 0xff;
    TransBlock *src = tb_find(e, pc, flags), *dst = tb_find(e, r->target, flags);
    /* An existing link is left alone: tb_chain would also restore one that
     * exec_cpu_request_exit pointed back at its stub, hiding an exit request
     * from another thread running the code. */
    if (src && dst && slot < IR_GOTO_TB_SLOTS && src->host && !src->jmp_to[slot] &&
        block_sum(e, src) == r->sum)
        (void)tb_chain(e, src, slot, dst);
}

void fork_ring_take(ExecEngine *e)
{
    if (!e->fp) {
        void *m = mmap(NULL, sizeof *e->fp, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                       -1, 0);
        e->fp = m == MAP_FAILED ? NULL : m;
        return;
    }
    while (e->fp_seen < FR_MAX) {
        const ForkRingEntry *r = &e->fp->ent[e->fp_seen];
        uint64_t pc = __atomic_load_n(&r->pc, __ATOMIC_ACQUIRE);
        if (!pc)
            break;
        e->fp_seen++;
        uint32_t flags = (uint32_t)r->what;
        if (r->what >> 40 == FR_CHAIN) {
            take_chain(e, r, pc, flags);
        } else if (!tb_find(e, pc, flags)) {
            ExecEvent ev;
            (void)exec_translate_locked(e, pc, flags, &ev);   /* a fetch fault: left out */
        }
    }
}
