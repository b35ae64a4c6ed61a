/* tests/cache/guest/smc-member.c - a hot loop whose blocks lie on two
 * pages: page B holds the blocks that run every iteration (one of them
 * becomes the region entry), page C a block that runs every other
 * iteration (a region member, never the entry).  After the loop has run,
 * the program patches C's `add #1` into `add #3` and runs it again.  With
 * a cached region loaded at the entry's translation, C never becomes a
 * block of its own, so only the region's member ranges in the page map make
 * the patch invalidate the region.  Prints "40000000 3000". */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

uint64_t kernel(uint64_t n);
extern uint32_t patch_site[];
__asm__(".text\n"
        ".balign 4096\n"
        ".globl kernel\n"
        "kernel:\n"
        "  mov x1, #0\n"
        "  mov x2, #0\n"
        "  b 1f\n"
        ".balign 4096\n"      /* page B */
        "1:\n"
        "  add x2, x2, #1\n"
        "  tst x2, #1\n"
        "  b.ne 3f\n"
        "  b 2f\n"
        "3:\n"
        "  subs x0, x0, #1\n"
        "  b.ne 1b\n"
        "  mov x0, x1\n"
        "  ret\n"
        ".balign 4096\n"      /* page C: every other iteration */
        "2:\n"
        ".globl patch_site\n"
        "patch_site:\n"
        "  add x1, x1, #1\n"
        "  b 3b\n"
        ".balign 4096\n");

int main(void)
{
    /* long enough for the regions to be compiled, installed and stored
     * before the patch (the member C then has no block of its own): a
     * region still queued at the patch is dropped as stale, and with 20M
     * trips (~30 ms) LLVM's load and compile sometimes lost that race in
     * several runs in a row */
    uint64_t a = kernel(80000000);
    uintptr_t page = (uintptr_t)patch_site & ~(uintptr_t)4095;
    if (mprotect((void *)page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
        perror("mprotect");
        return 1;
    }
    /* No cache maintenance on purpose (qemu and emu both detect the store
     * through page protection): an `ic ivau` might flush every translation
     * and hide a missing member range. */
    *(volatile uint32_t *)patch_site = 0x91000c21; /* add x1, x1, #3 */
    /* fewer runs than the hot threshold (4000): no region is formed again
     * from the patched code, so the cache keeps the one from before */
    uint64_t b = kernel(2000);
    printf("%llu %llu\n", (unsigned long long)a, (unsigned long long)b);
    return 0;
}
