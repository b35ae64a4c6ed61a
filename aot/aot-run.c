/*
 * aot-run.c - emu-aot at the guest's entry point: modules from the guest's
 * executable file mappings, discovery on worker threads (one module per
 * worker at a time, largest first) while the guest thread translates every
 * block of each module already discovered through exec_get_block (the
 * engine translates under one lock, so that part is serial).
 *
 * The load bias of a module is the code cache's (ExecConfig.module_of, the
 * same function the dispatcher's cache uses), so what is translated here is
 * keyed as a later emu-user run of the same program will look it up.
 */
#define _GNU_SOURCE
#include "aot/aot-run.h"

#include <elf.h>
#include <gelf.h>
#include <libelf.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "cache/cache.h"
#include "runtime/cpu.h"
#include "runtime/guest-arch.h"
#include "runtime/stats.h"
#include "user/guest-mem.h"

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct RunModule {
    const char *name;      /* interned VMA name: the host path of the file */
    uint64_t bias;
    bool bias_ok;
    uint64_t exec_bytes;   /* executable mapped bytes (for ordering) */
    AotModule mod;
    AotResult res;
    bool ok;
    char err[256];
} RunModule;

typedef struct Run {
    AotRunConfig *cfg;
    ExecEngine *engine;
    GuestMem *mem;
    uint32_t flags;
    unsigned max_insns;
    RunModule *mods;
    size_t n_mods;
    _Atomic size_t next, done, found;
    bool progress;
    /* discovered modules, in completion order, for the translating thread */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t *ready;
    size_t n_ready;
    _Atomic uint64_t discover_cpu_ns;
} Run;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static bool mem_read(void *opaque, uint64_t addr, void *buf, size_t len)
{
    return guest_mem_read(opaque, addr, buf, len);
}

/* Load bias from the file's program headers, as user-run.c's module_of
 * computes it: for emu's own loader (anonymous mappings named after the
 * file) the image starts at the first PT_LOAD's page; for a file mapping,
 * from the PT_LOAD that holds the mapping's file offset. */
static bool own_bias(const char *path, bool anon, uint64_t vstart, uint64_t voff,
                     uint64_t lowest, uint64_t *bias)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
    size_t phnum = 0;
    bool ok = false;
    uint64_t first = UINT64_MAX;
    if (elf && elf_kind(elf) == ELF_K_ELF && elf_getphdrnum(elf, &phnum) == 0) {
        for (size_t i = 0; i < phnum && !ok; i++) {
            GElf_Phdr ph;
            if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
                continue;
            if (anon) {
                if (ph.p_vaddr < first)
                    first = ph.p_vaddr;
            } else if (voff >= ph.p_offset && voff < ph.p_offset + ph.p_filesz) {
                *bias = vstart - (ph.p_vaddr + (voff - ph.p_offset));
                ok = true;
            }
        }
        if (anon && first != UINT64_MAX) {
            *bias = lowest - (first & ~(uint64_t)(GUEST_PAGE_SIZE - 1));
            ok = true;
        }
    }
    if (elf)
        elf_end(elf);
    close(fd);
    return ok;
}

/* The executable file-backed mappings, one RunModule per file. */
static bool collect_modules(Run *r)
{
    GuestVma *v = NULL;
    size_t n = guest_mem_vmas(r->mem, &v);
    r->mods = calloc(n ? n : 1, sizeof *r->mods);
    if (!r->mods) {
        free(v);
        return false;
    }
    const ExecConfig *ec = exec_engine_config(r->engine);
    for (size_t i = 0; i < n; i++) {
        if (!(v[i].prot & PROT_EXEC) || !v[i].name || v[i].name[0] != '/')
            continue;
        RunModule *m = NULL;
        for (size_t k = 0; k < r->n_mods; k++)
            if (!strcmp(r->mods[k].name, v[i].name))
                m = &r->mods[k];
        if (!m) {
            m = &r->mods[r->n_mods++];
            m->name = v[i].name;
            bool anon = (v[i].flags & MAP_ANONYMOUS) != 0;
            uint64_t lowest = UINT64_MAX;
            for (size_t k = 0; k < n; k++)
                if (v[k].name && !strcmp(v[k].name, v[i].name) && v[k].start < lowest)
                    lowest = v[k].start;
            /* the cache's own view first, the same computation otherwise */
            EmuCacheModuleId id;
            m->bias_ok = ec->module_of &&
                         ec->module_of(ec->module_opaque, v[i].start, &id, &m->bias);
            if (!m->bias_ok)
                m->bias_ok = own_bias(v[i].name, anon, v[i].start, v[i].offset, lowest, &m->bias);
        }
        m->exec_bytes += v[i].end - v[i].start;
    }
    free(v);
    return true;
}

/* A worker's code reader: one guest page window at a time, so the frontend's
 * insn-by-insn reads do not each take the address space lock. */
typedef struct CodeWindow {
    GuestMem *mem;
    uint64_t start;
    uint32_t len;
    uint8_t buf[GUEST_PAGE_SIZE];
} CodeWindow;

static bool window_read(void *opaque, uint64_t pc, void *buf, size_t len)
{
    CodeWindow *w = opaque;
    if (w->len && pc >= w->start && pc - w->start <= w->len && len <= w->len - (pc - w->start)) {
        memcpy(buf, w->buf + (pc - w->start), len);
        return true;
    }
    uint64_t page = pc & GUEST_PAGE_MASK;
    if (len <= GUEST_PAGE_SIZE - (pc - page) &&
        guest_mem_read_code(w->mem, page, w->buf, GUEST_PAGE_SIZE)) {
        w->start = page;
        w->len = GUEST_PAGE_SIZE;
        memcpy(buf, w->buf + (pc - page), len);
        return true;
    }
    return guest_mem_read_code(w->mem, pc, buf, len);   /* across pages, or the edge */
}

static void *worker(void *opaque)
{
    Run *r = opaque;
    CodeWindow *win = calloc(1, sizeof *win);
    GuestCodeReader code = { r->mem, guest_mem_read_code };   /* without a window */
    if (win) {
        win->mem = r->mem;
        code = (GuestCodeReader){ win, window_read };
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);   /* guest signals go elsewhere */
    AotMemReader data = { r->mem, mem_read };
    for (;;) {
        size_t i = atomic_fetch_add(&r->next, 1);
        if (i >= r->n_mods)
            break;
        RunModule *m = &r->mods[i];
        uint64_t c0 = thread_cpu_ns();
        if (!m->bias_ok) {
            snprintf(m->err, sizeof m->err, "cannot find its load address");
        } else if (aot_module_open(&m->mod, m->name, m->bias, &data, m->err, sizeof m->err)) {
            m->ok = aot_discover(&m->mod, &code, &guest_arch_aarch64, r->flags, r->max_insns,
                                 NULL, &m->res);
            if (!m->ok)
                snprintf(m->err, sizeof m->err, "out of memory");
            else
                atomic_fetch_add(&r->found, m->res.n_blocks);
        }
        atomic_fetch_add(&r->discover_cpu_ns, thread_cpu_ns() - c0);
        pthread_mutex_lock(&r->lock);
        r->ready[r->n_ready++] = i;
        atomic_fetch_add(&r->done, 1);
        pthread_cond_signal(&r->cond);
        pthread_mutex_unlock(&r->lock);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    free(win);
    return NULL;
}

static int by_size_desc(const void *a, const void *b)
{
    const RunModule *x = a, *y = b;
    return x->exec_bytes > y->exec_bytes ? -1 : x->exec_bytes < y->exec_bytes;
}

static void format_sources(char *buf, size_t len, const size_t *per_src)
{
    size_t o = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < AOT_SRC_COUNT && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s %zu", i ? ", " : "", aot_source_names[i],
                              per_src[i]);
}

double aot_now(void)
{
    return now_s();
}

void aot_run_report(const AotRunConfig *cfg, double stop_s)
{
    if (cfg->quiet || !cfg->reached)
        return;
    if (cfg->progress)
        fprintf(stderr, "\r\033[K");
    char src[160];
    format_sources(src, sizeof src, cfg->per_src);
    /* a block that exists without a translation now was loaded from the
     * code cache, or ran (ld.so) before the entry */
    size_t there = cfg->ready > cfg->translated ? cfg->ready - cfg->translated : 0;
    fprintf(stderr,
            "emu-aot: %s: %zu modules, %zu blocks (%s; %zu candidates rejected): "
            "%zu translated, %zu already there, %zu refused; %.2f s: discovery %.2f s CPU "
            "on %u thread%s, translation %.2f s (%.0f blocks/s, overlapping discovery), "
            "then cache write %.2f s\n",
            cfg->prog, cfg->modules, cfg->blocks, src, cfg->rejected, cfg->translated, there,
            cfg->refused, cfg->total_s, cfg->discover_cpu_s, cfg->jobs_used,
            cfg->jobs_used == 1 ? "" : "s", cfg->translate_s,
            cfg->translate_s > 0 ? cfg->ready / cfg->translate_s : 0.0, stop_s);
    if (cfg->interpreted)
        fprintf(stderr, "emu-aot: note: the template backend refused %zu blocks (they run "
                "in the interpreter; -d unimp says why)\n", cfg->interpreted);
    if (cfg->flushes)
        fprintf(stderr, "emu-aot: note: the code buffer filled up and was flushed %zu time%s "
                "(each block goes to the code cache when it is translated, so none is lost)\n",
                cfg->flushes, cfg->flushes == 1 ? "" : "s");
}

static void fmt_eta(char *buf, size_t len, double s)
{
    if (s < 0 || s > 360000)
        snprintf(buf, len, "--");
    else if (s >= 60)
        snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(buf, len, "%.0fs", s);
}

static void bar(size_t done, size_t total, double rate, size_t mods_done, size_t n_mods)
{
    char eta[32];
    fmt_eta(eta, sizeof eta, rate > 0 ? (total - done) / rate : -1);
    int width = 30, fill = total ? (int)((double)done / total * width) : width;
    char b[64];
    for (int i = 0; i < width; i++)
        b[i] = i < fill ? '#' : '.';
    b[width] = 0;
    if (mods_done < n_mods)   /* the total still grows */
        fprintf(stderr, "\r\033[Kemu-aot: translating [%s] %zu/%zu+ blocks  %.0f blocks/s  "
                "(%zu/%zu modules discovered)", b, done, total, rate, mods_done, n_mods);
    else
        fprintf(stderr, "\r\033[Kemu-aot: translating [%s] %zu/%zu blocks  %.0f blocks/s  ETA %s",
                b, done, total, rate, eta);
    fflush(stderr);
}

int aot_run_at_entry(void *opaque, ExecEngine *e, ExecCpu *cpu, struct GuestMem *mem)
{
    AotRunConfig *cfg = opaque;
    cfg->reached = true;
    double t0 = now_s();
    Run r = { .cfg = cfg, .engine = e, .mem = mem,
              .flags = ((CpuCommon *)exec_cpu_env(cpu))->mode_flags,
              .progress = !cfg->quiet && isatty(2) };
    r.max_insns = exec_engine_config(e)->max_insns;
    if (!collect_modules(&r)) {
        fprintf(stderr, "emu-aot: out of memory\n");
        return 1;
    }
    qsort(r.mods, r.n_mods, sizeof *r.mods, by_size_desc);

    /* Discovery on `jobs` threads, one module each at a time, largest first
     * (the longest job starts first); this thread translates each module as
     * soon as it is discovered. */
    unsigned jobs = cfg->jobs ? cfg->jobs : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs < 1)
        jobs = 1;
    if (jobs > r.n_mods)
        jobs = r.n_mods ? (unsigned)r.n_mods : 1;
    r.ready = calloc(r.n_mods ? r.n_mods : 1, sizeof *r.ready);
    if (!r.ready) {
        fprintf(stderr, "emu-aot: out of memory\n");
        free(r.mods);
        return 1;
    }
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.cond, NULL);
    unsigned started = 0;
    pthread_t th[jobs];
    for (unsigned j = 0; j < jobs; j++)
        if (pthread_create(&th[started], NULL, worker, &r) == 0)
            started++;
    if (!started)
        worker(&r);   /* no thread: discover everything here first */

    int status = 0;
    size_t done = 0, total = 0, taken = 0;
    ExecStats st0, st1;
    exec_stats_get(e, &st0);
    double last_draw = 0, t_first = 0;
    while (taken < r.n_mods) {
        pthread_mutex_lock(&r.lock);
        while (taken == r.n_ready) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&r.cond, &r.lock, &ts);
            if (r.progress && taken == r.n_ready) {
                fprintf(stderr, "\r\033[Kemu-aot: discovering: %zu/%zu modules, %zu blocks",
                        atomic_load(&r.done), r.n_mods, atomic_load(&r.found));
                fflush(stderr);
            }
        }
        RunModule *m = &r.mods[r.ready[taken++]];
        pthread_mutex_unlock(&r.lock);
        if (!m->ok) {
            if (r.progress)
                fprintf(stderr, "\r\033[K");
            fprintf(stderr, "emu-aot: %s: %s\n", m->name, m->err);
            status = 1;
            continue;
        }
        if (!t_first)
            t_first = now_s();
        total += m->res.n_blocks;
        cfg->rejected += m->res.rejected;
        for (unsigned s = 0; s < AOT_SRC_COUNT; s++)
            cfg->per_src[s] += m->res.per_src[s];
        cfg->modules++;
        /* translation: serial (the engine's lock), in address order */
        size_t mod_refused = 0;
        for (size_t k = 0; k < m->res.n_blocks; k++) {
            if (exec_get_block(e, m->res.blocks[k].pc, r.flags))
                cfg->ready++;
            else
                cfg->refused++, mod_refused++;
            done++;
            if (r.progress && (done & 63) == 0) {
                double t = now_s();
                if (t - last_draw >= 0.1) {
                    bar(done, total, done / (t - t_first), atomic_load(&r.done), r.n_mods);
                    last_draw = t;
                }
            }
        }
        if (cfg->verbose && !cfg->quiet) {
            if (r.progress)
                fprintf(stderr, "\r\033[K");
            char src[160];
            format_sources(src, sizeof src, m->res.per_src);
            fprintf(stderr, "emu-aot: %s: bias 0x%llx, %llu text bytes, %zu blocks (%s), "
                    "%zu rejected, %zu refused, %llu insns lifted\n",
                    m->name, (unsigned long long)m->bias,
                    (unsigned long long)aot_module_text_bytes(&m->mod), m->res.n_blocks, src,
                    m->res.rejected, mod_refused, (unsigned long long)m->res.lifted_insns);
        }
        aot_module_free(&m->mod);   /* done with it: keep the peak memory down */
        aot_result_free(&m->res);
    }
    for (unsigned j = 0; j < started; j++)
        pthread_join(th[j], NULL);
    pthread_mutex_destroy(&r.lock);
    pthread_cond_destroy(&r.cond);
    free(r.ready);
    cfg->blocks = total;
    double t2 = now_s();
    exec_stats_get(e, &st1);
    cfg->translated = st1.blocks_translated - st0.blocks_translated;
    cfg->interpreted = st1.interp_fallbacks - st0.interp_fallbacks;
    cfg->flushes = st1.code_flushes - st0.code_flushes;
    if (r.progress) {   /* until aot_run_report: the engine stops and writes */
        fprintf(stderr, "\r\033[Kemu-aot: writing the code cache...");
        fflush(stderr);
    }
    cfg->progress = r.progress;
    cfg->total_s = t2 - t0;
    cfg->discover_cpu_s = atomic_load(&r.discover_cpu_ns) * 1e-9;
    cfg->translate_s = t_first ? t2 - t_first : 0;
    cfg->jobs_used = jobs;
    cfg->hook_end = t2;
    for (size_t i = 0; i < r.n_mods; i++) {   /* those not freed after translation */
        aot_module_free(&r.mods[i].mod);
        aot_result_free(&r.mods[i].res);
    }
    free(r.mods);
    return status;
}
