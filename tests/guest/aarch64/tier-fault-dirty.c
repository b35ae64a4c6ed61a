/* tier-fault-dirty: registers written earlier in the same block are exact
 * when a later load or store of that block faults.  Template code keeps
 * such registers in host registers across guest memory accesses and stores
 * them to the CPU state only on a fault: from the check's stub (an address
 * past the guest's range) or from the block's write-back map (a host fault
 * on a page the guest mapped PROT_NONE).  Post- and pre-indexed accesses
 * must not have updated their base.  Each case is one straight-line block. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

static sigjmp_buf jb;
static volatile uint64_t got[32];
static volatile uintptr_t got_pc, got_addr;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    ucontext_t *uc = ucv;
    for (int i = 0; i < 31; i++)
        got[i] = uc->uc_mcontext.regs[i];
    got_pc = uc->uc_mcontext.pc;
    got_addr = (uintptr_t)si->si_addr;
    siglongjmp(jb, 1);
}

/* x19..x24 written, a value loaded into x24, then a post-indexed load
 * through x23 = bad faults. */
static __attribute__((noinline, noclone)) void load_case(uint64_t bad, const uint64_t *good)
{
    __asm__ volatile(
        "mov x19, #0x1234\n"
        "movk x19, #0x5678, lsl #16\n"
        "mov w20, #-7\n"
        "add x21, x19, x20\n"
        "mov x22, #99\n"
        "ldr x24, [%[good]]\n"
        "add x24, x24, #1\n"
        "mov x23, %[bad]\n"
        ".globl load_at\n"
        "load_at: ldr x22, [x23], #8\n"
        "mov x19, #0\n"
        "mov x22, #0\n"
        :
        : [bad] "r"(bad), [good] "r"(good)
        : "x19", "x20", "x21", "x22", "x23", "x24", "memory");
}
extern const char load_at[];

/* the same with a pre-indexed store of x21 */
static __attribute__((noinline, noclone)) void store_case(uint64_t bad, const uint64_t *good)
{
    __asm__ volatile(
        "mov x19, #0x4321\n"
        "mov w20, #0x7fff\n"
        "mul x21, x19, x20\n"
        "ldr x24, [%[good], #8]\n"
        "eor x24, x24, x21\n"
        "sub x23, %[bad], #16\n"
        ".globl store_at\n"
        "store_at: str x21, [x23, #16]!\n"
        "mov x19, #0\n"
        "mov x23, #0\n"
        :
        : [bad] "r"(bad), [good] "r"(good)
        : "x19", "x20", "x21", "x23", "x24", "memory");
}
extern const char store_at[];

/* x0 and x19 live in host registers across blocks (pinned): x0 loaded
 * from an address off itself must still hold that address at the fault,
 * and the offset must be in si_addr (the check may test x0 alone). */
static __attribute__((noinline, noclone)) void pin_case(uint64_t bad, const uint64_t *good)
{
    __asm__ volatile(
        "ldr x19, [%[good]]\n"
        "add x19, x19, #0x77\n"
        "mov x0, %[bad]\n"
        ".globl pin_at\n"
        "pin_at: ldr x0, [x0, #16]\n"
        "mov x19, #0\n"
        "mov x0, #0\n"
        :
        : [bad] "r"(bad), [good] "r"(good)
        : "x0", "x19", "memory");
}
extern const char pin_at[];

typedef void (*CaseFn)(uint64_t, const uint64_t *);

static void run(const char *name, CaseFn fn, uint64_t bad, const uint64_t *good, const char *at)
{
    memset((void *)got, 0, sizeof got);
    if (sigsetjmp(jb, 1) == 0) {
        fn(bad, good);
        printf("%s: no fault\n", name);
        return;
    }
    printf("%s: pc %s, si_addr %s\n", name, got_pc == (uintptr_t)at ? "the access" : "wrong",
           got_addr == bad ? "exact" : "wrong");
    printf("  x19 %#llx x20 %#llx x21 %#llx x24 %#llx", (unsigned long long)got[19],
           (unsigned long long)got[20], (unsigned long long)got[21], (unsigned long long)got[24]);
    if (fn == load_case)
        printf(" x22 %#llx", (unsigned long long)got[22]);
    printf(", x23 %s\n",
           got[23] == (fn == load_case ? bad : bad - 16) ? "as before the access" : "wrong");
}

static void run_pin(const char *name, uint64_t bad, const uint64_t *good)
{
    memset((void *)got, 0, sizeof got);
    if (sigsetjmp(jb, 1) == 0) {
        pin_case(bad, good);
        printf("%s: no fault\n", name);
        return;
    }
    printf("%s: pc %s, si_addr %s, x0 %s, x19 %#llx\n", name,
           got_pc == (uintptr_t)pin_at ? "the access" : "wrong",
           got_addr == bad + 16 ? "exact" : "wrong", got[0] == bad ? "as before" : "wrong",
           (unsigned long long)got[19]);
}

int main(void)
{
    static const uint64_t good[2] = {0x1000, 0x0f0f0f0f};
    uint8_t *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    /* a page of the guest's own (a host fault), then far past any mapping */
    run("load, PROT_NONE page", load_case, (uint64_t)(uintptr_t)page + 64, good, load_at);
    run("store, PROT_NONE page", store_case, (uint64_t)(uintptr_t)page + 128, good, store_at);
    run("load, unmapped high address", load_case, 0x7ff000000000ull, good, load_at);
    run("store, unmapped high address", store_case, 0x7ff000000100ull, good, store_at);
    run_pin("pinned load, PROT_NONE page", (uint64_t)(uintptr_t)page + 64, good);
    run_pin("pinned load, unmapped high address", 0x7ff000000200ull, good);
    return 0;
}
