/* user-threads: pthreads on clone(CLONE_VM|CLONE_THREAD): atomics and a
 * mutex under contention, thread-local storage, join (CLONE_CHILD_CLEARTID
 * futex wake), condition variables, pthread_exit, many short-lived
 * threads, a thread starting a thread, and gettid differing per thread. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static atomic_long counter;
static long plain;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stage;
static __thread int tls_id;
static pid_t tids[4];

static void *worker(void *arg)
{
    tls_id = (int)(long)arg;
    tids[tls_id - 1] = gettid();
    for (int i = 0; i < 20000; i++) {
        atomic_fetch_add(&counter, 1);
        pthread_mutex_lock(&mu);
        plain++;
        pthread_mutex_unlock(&mu);
    }
    return (void *)(long)(tls_id * 10);
}

static void *waiter(void *arg)
{
    pthread_mutex_lock(&mu);
    while (stage == 0)
        pthread_cond_wait(&cv, &mu);
    stage = 2;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_exit((void *)7L);
}

static void *leaf(void *arg)
{
    return (void *)((long)arg + 1);
}

static void *spawner(void *arg)
{
    pthread_t t;
    void *r;
    pthread_create(&t, NULL, leaf, arg);
    pthread_join(t, &r);
    return r;
}

int main(void)
{
    pthread_t t[4];
    tls_id = 99;
    for (long i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, worker, (void *)(i + 1));
    long sum = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (long)r;
    }
    int distinct = 1;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < i; j++)
            distinct &= tids[i] != tids[j] && tids[i] != getpid();
    printf("counter=%ld plain=%ld sum=%ld tls=%d distinct tids=%d\n", (long)counter, plain,
           sum, tls_id, distinct);

    pthread_t w;
    pthread_create(&w, NULL, waiter, NULL);
    pthread_mutex_lock(&mu);
    stage = 1;
    pthread_cond_broadcast(&cv);
    while (stage != 2)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    void *wr;
    pthread_join(w, &wr);
    printf("condvar handshake done, pthread_exit value %ld\n", (long)wr);

    long total = 0;
    for (long i = 0; i < 100; i++) {
        pthread_t s;
        void *r;
        pthread_create(&s, NULL, spawner, (void *)i);
        pthread_join(s, &r);
        total += (long)r;
    }
    printf("100 nested thread pairs: %ld\n", total);
    return 0;
}
