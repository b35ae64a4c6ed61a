/*
 * thread.c - guest threads: clone(CLONE_VM | CLONE_THREAD ...) starts a
 * host thread with its own ExecCpu (a copy of the parent's registers,
 * x0 = 0, the new sp and TLS pointer).  Guest memory is host memory, so
 * futexes, CLONE_CHILD_CLEARTID wake-ups and atomics work as on Linux.
 *
 *   pthread_create -> clone(flags, stack, &ptid, tls, &ctid)
 *     -> user_thread_clone: new CPU, pthread_create(host), wait for its tid
 *   thread exit -> exit(): *ctid = 0, futex wake, host thread ends;
 *   the last thread to exit ends the process with its status.
 */
#define _GNU_SOURCE
#include "user/process.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static __thread UserThreadState thread_state;

UserThreadState *user_thread_self(void)
{
    return &thread_state;
}

typedef struct ThreadStart {
    UserProcess *p;
    ExecCpu *cpu;
    uint64_t flags, ptid, ctid;
    uint64_t sigmask;   /* a new thread starts with its creator's mask */
    sem_t started;
    pid_t tid;
} ThreadStart;

/* Flags glibc's pthread_create uses; a thread shares all of them. */
#define THREAD_FLAGS_NEEDED (CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_FS | CLONE_FILES)
#define THREAD_FLAGS_OK                                                                    \
    (THREAD_FLAGS_NEEDED | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |             \
     CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED)

static void *thread_main(void *arg)
{
    ThreadStart *st = arg;
    UserProcess *p = st->p;
    ExecCpu *cpu = st->cpu;
    pid_t tid = gettid();
    if (st->flags & CLONE_CHILD_SETTID)
        guest_mem_write(p->mem, st->ctid, &tid, 4);
    if (st->flags & CLONE_PARENT_SETTID)
        guest_mem_write(p->mem, st->ptid, &tid, 4);
    if (st->flags & CLONE_CHILD_CLEARTID)
        thread_state.clear_child_tid = st->ctid;
    thread_state.sigmask = st->sigmask;
    /* The guest cannot observe this thread's host signal mask; keep the
     * host fault signals deliverable here. */
    user_signal_thread_init();
    st->tid = tid;
    sem_post(&st->started);   /* st belongs to the parent from here on */
    user_cpu_loop(p, cpu);
}

int64_t user_thread_clone(UserProcess *p, A64State *env, uint64_t flags, uint64_t newsp,
                          uint64_t ptid, uint64_t tls, uint64_t ctid)
{
    if ((flags & THREAD_FLAGS_NEEDED) != THREAD_FLAGS_NEEDED ||
        (flags & ~(THREAD_FLAGS_OK | CSIGNAL)) || (flags & CSIGNAL) || !newsp)
        return -EINVAL;
    if (!p->engine)
        return -ENOSYS;
    ExecCpu *cpu = exec_cpu_new(p->engine);
    if (!cpu)
        return -EAGAIN;
    exec_cpu_copy_state(cpu, exec_cpu_from_env(env));
    A64State *child = exec_cpu_env(cpu);
    child->x[0] = 0;
    child->x[A64_SP] = newsp;
    if (flags & CLONE_SETTLS)
        child->tpidr_el0 = tls;
    child->excl_addr = ~0ull;

    ThreadStart st = { .p = p, .cpu = cpu, .flags = flags, .ptid = ptid, .ctid = ctid,
                       .sigmask = thread_state.sigmask };
    if (sem_init(&st.started, 0, 0) != 0) {
        exec_cpu_free(cpu);
        return -EAGAIN;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1 << 20);   /* runtime + syscalls, not the guest's */
    __atomic_add_fetch(&p->live_threads, 1, __ATOMIC_SEQ_CST);
    pthread_t th;
    int e = pthread_create(&th, &attr, thread_main, &st);
    pthread_attr_destroy(&attr);
    if (e) {
        __atomic_sub_fetch(&p->live_threads, 1, __ATOMIC_SEQ_CST);
        sem_destroy(&st.started);
        exec_cpu_free(cpu);
        return -e;
    }
    while (sem_wait(&st.started) != 0 && errno == EINTR)
        ;
    sem_destroy(&st.started);
    return st.tid;
}

_Noreturn void user_thread_exit(UserProcess *p, int status)
{
    if (__atomic_sub_fetch(&p->live_threads, 1, __ATOMIC_SEQ_CST) <= 0)
        user_exit(p, status);
    /* Tell a joiner (pthread_join waits on this word with a futex). */
    uint64_t ctid = thread_state.clear_child_tid;
    if (ctid) {
        uint32_t zero = 0;
        if (guest_mem_write(p->mem, ctid, &zero, 4))
            syscall(SYS_futex, guest_mem_g2h(p->mem, ctid), FUTEX_WAKE, 1, NULL, NULL, 0);
    }
    /* Between exec_run calls a CPU holds no runtime lock: it can go. */
    if (thread_state.cpu) {
        exec_cpu_free(thread_state.cpu);
        thread_state.cpu = NULL;
    }
    pthread_exit(NULL);
}
