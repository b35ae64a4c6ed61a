/* user-atomics: exclusive (LDAXR/STLXR) and LSE (LDADDAL, CASAL, SWPAL)
 * read-modify-writes racing from four threads on one counter must lose no
 * update; raw futex wait/wake between threads; set_robust_list accepted,
 * rseq and an unknown syscall refused with ENOSYS; each thread keeps its
 * own registers (a value parked in x19 across a yield survives). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NTHREADS 4
#define ITERS 20000

static uint64_t c_excl, c_ldadd, c_cas, c_swp_lock, c_under_lock;

static void add_excl(uint64_t *p)
{
    uint64_t v; uint32_t fail;
    __asm__ volatile("1: ldaxr %0, [%2]\n add %0, %0, #1\n stlxr %w1, %0, [%2]\n cbnz %w1, 1b"
                     : "=&r"(v), "=&r"(fail) : "r"(p) : "memory");
}

static void add_ldadd(uint64_t *p)
{
    uint64_t one = 1, old;
    __asm__ volatile(".arch_extension lse\n ldaddal %1, %0, [%2]"
                     : "=&r"(old) : "r"(one), "r"(p) : "memory");
}

static void add_cas(uint64_t *p)
{
    uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
    for (;;) {
        uint64_t expect = old, want = old + 1;
        __asm__ volatile(".arch_extension lse\n casal %0, %2, [%1]"
                         : "+&r"(expect) : "r"(p), "r"(want) : "memory");
        if (expect == old)
            return;
        old = expect;
    }
}

static void swp_lock(uint64_t *l)
{
    uint64_t one = 1, old;
    do {
        __asm__ volatile(".arch_extension lse\n swpal %1, %0, [%2]"
                         : "=&r"(old) : "r"(one), "r"(l) : "memory");
        if (old)
            sched_yield();
    } while (old);
}

static void swp_unlock(uint64_t *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static uint64_t keep_x19(uint64_t v)
{
    uint64_t out;
    __asm__ volatile("mov x19, %1\n mov x8, #124\n svc #0\n mov %0, x19"   /* sched_yield */
                     : "=r"(out) : "r"(v) : "x0", "x8", "x19", "memory");
    return out;
}

static int reg_errors;

static void *worker(void *arg)
{
    uint64_t id = (uintptr_t)arg;
    for (int i = 0; i < ITERS; i++) {
        add_excl(&c_excl);
        add_ldadd(&c_ldadd);
        add_cas(&c_cas);
        if (i % 8 == 0) {
            swp_lock(&c_swp_lock);
            uint64_t v = c_under_lock;   /* plain read-modify-write under the lock */
            c_under_lock = v + 1;
            swp_unlock(&c_swp_lock);
        }
        if (i % 1000 == 0 && keep_x19(id * 1000003 + i) != id * 1000003 + i)
            __atomic_add_fetch(&reg_errors, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static uint32_t futex_word;

static long futex(uint32_t *uaddr, int op, uint32_t val)
{
    return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static void *futex_waker(void *arg)
{
    (void)arg;
    usleep(20000);
    __atomic_store_n(&futex_word, 1, __ATOMIC_RELEASE);
    long n;
    do {   /* wake until the waiter has been woken (it may not sleep yet) */
        n = futex(&futex_word, FUTEX_WAKE_PRIVATE, 1);
        if (n == 0)
            usleep(1000);
    } while (n == 0 && __atomic_load_n(&futex_word, __ATOMIC_ACQUIRE) == 1);
    return NULL;
}

int main(void)
{
    pthread_t t[NTHREADS];
    for (uintptr_t i = 0; i < NTHREADS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i) != 0) {
            puts("pthread_create failed");
            return 1;
        }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    printf("ldaxr/stlxr %llu, ldaddal %llu, casal %llu, swpal-lock %llu (want %d, %d)\n",
           (unsigned long long)c_excl, (unsigned long long)c_ldadd,
           (unsigned long long)c_cas, (unsigned long long)c_under_lock,
           NTHREADS * ITERS, NTHREADS * ITERS / 8);
    printf("register errors %d\n", reg_errors);

    /* futex: wait on 0 until a second thread stores 1 and wakes us. */
    pthread_t w;
    pthread_create(&w, NULL, futex_waker, NULL);
    long r;
    while ((r = futex(&futex_word, FUTEX_WAIT_PRIVATE, 0)) == -1 && errno == EINTR)
        ;
    int ok_wait = (r == 0 || errno == EAGAIN) && __atomic_load_n(&futex_word, __ATOMIC_ACQUIRE) == 1;
    __atomic_store_n(&futex_word, 2, __ATOMIC_RELEASE);
    pthread_join(w, NULL);
    errno = 0;
    r = futex(&futex_word, FUTEX_WAIT_PRIVATE, 5);   /* value differs: EAGAIN at once */
    printf("futex wait woken %d, mismatch %ld errno %s\n", ok_wait, r,
           errno == EAGAIN ? "EAGAIN" : "other");

    /* robust list: the 24-byte head is accepted and read back, a wrong size
     * is EINVAL (qemu-aarch64 refuses the call altogether with ENOSYS). */
    static uint64_t head[3];
    head[0] = (uintptr_t)head;
    errno = 0;
    long rb = syscall(SYS_set_robust_list, head, 24);
    int robust_ok;
    if (rb == 0) {
        void *got = NULL; size_t len = 0;
        long rg = syscall(SYS_get_robust_list, 0, &got, &len);
        errno = 0;
        long rbad = syscall(SYS_set_robust_list, head, 23);
        robust_ok = rg == 0 && got == (void *)head && len == 24 && rbad == -1 && errno == EINVAL;
    } else {
        robust_ok = errno == ENOSYS;
    }
    printf("robust list %s\n", robust_ok ? "consistent" : "wrong");

    /* rseq refused (glibc runs without it); an unknown number gives ENOSYS. */
    static uint32_t rs[8] __attribute__((aligned(32)));
    errno = 0;
    long rr = syscall(293 /* rseq */, rs, 32, 0, 0x53053053);
    int rseq_errno = errno;
    errno = 0;
    long ru = syscall(444 + 400);
    printf("rseq %s, syscall 844 %ld %s\n",
           rr == 0 ? "accepted" : rseq_errno == ENOSYS ? "ENOSYS" : rseq_errno == EBUSY ? "EBUSY (glibc owns it)" : "other",
           ru, errno == ENOSYS ? "ENOSYS" : "other");
    return 0;
}
