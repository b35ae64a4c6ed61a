/*
 * user-run.c - the user-mode main loop: set up the process (address space,
 * ELF image, stack, runtime engine, CPU) and turn exec_run events into
 * syscalls and guest signals.
 */
#define _GNU_SOURCE
#include "user/user-run.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <unistd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "cache/cache.h"
#include "frontend/aarch64/a64-cpu.h"
#include "runtime/guest-arch.h"
#include "runtime/log.h"
#include "runtime/stats.h"
#include "user/elf-load.h"
#include "user/guest-mem.h"
#include "user/hwcap.h"
#include "user/process.h"
#include "user/stack.h"

static void hook_invalidate(void *opaque, uint64_t start, uint64_t len)
{
    exec_invalidate_range(opaque, start, len);
}

static bool hook_any_code_page(void *opaque, uint64_t start, uint64_t len)
{
    return exec_any_code_page(opaque, start, len);
}

/* ---- guest modules for the code cache ------------------------------------
 * A module is an ELF file mapped executable in the guest (the program, its
 * interpreter, a library).  Identity: XXH3-128 over its executable PT_LOAD
 * segments as stored in the file (computed once per file and cached).  Load
 * bias (guest address - ELF vaddr): for a file mapping, from the VMA's file
 * offset and the PT_LOAD holding it; for the images emu's own loader maps
 * (anonymous, named after the file), from the lowest mapping of that name. */

#define USER_MAX_LOADS 16
typedef struct UserModule {
    const char *name;              /* interned VMA name (never freed) */
    bool ok;
    uint8_t hash[16];
    unsigned n_load;
    uint64_t vaddr[USER_MAX_LOADS], off[USER_MAX_LOADS], filesz[USER_MAX_LOADS];
    bool have_anon_bias;           /* emu-loaded image: bias found once */
    uint64_t anon_bias;
} UserModule;

static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;
static UserModule *modules;
static size_t n_modules, cap_modules;

/* The GNU build id of the ELF (a hash of its contents made by the linker)
 * from its PT_NOTE segments: length, 0 if it has none. */
static size_t module_build_id(int fd, const Elf64_Phdr *ph, uint8_t *id, size_t max)
{
    if (ph->p_type != PT_NOTE || ph->p_filesz > 4096)
        return 0;
    uint8_t notes[4096];
    if (!elf_pread_full(fd, notes, ph->p_filesz, ph->p_offset))
        return 0;
    for (size_t at = 0; at + 12 <= ph->p_filesz;) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, notes + at, 4);
        memcpy(&descsz, notes + at + 4, 4);
        memcpy(&type, notes + at + 8, 4);
        size_t name = at + 12, desc = name + ((namesz + 3u) & ~3u);
        if (namesz > 64 || descsz > 256 || desc + descsz > ph->p_filesz)
            return 0;
        if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(notes + name, "GNU", 4) &&
            descsz && descsz <= max) {
            memcpy(id, notes + desc, descsz);
            return descsz;
        }
        at = desc + ((descsz + 3u) & ~3u);
    }
    return 0;
}

/* Read the program headers and hash the executable segments, or, when the
 * file has a GNU build id, the id and the layout of those segments instead
 * (reading a large binary's code at every start cost more than the cache
 * saved on short runs; every cache entry still checks its own guest bytes). */
static void module_scan(UserModule *mod)
{
    int fd = open(mod->name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    Elf64_Ehdr eh;
    uint8_t *text = NULL;
    size_t n_text = 0;
    uint8_t id[16 + 256 + USER_MAX_LOADS * 24];
    size_t n_id = 0;
    if (!elf_pread_full(fd, &eh, sizeof eh, 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_AARCH64 ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 64)
        goto out;
    Elf64_Phdr phs[64];
    if (!elf_pread_full(fd, phs, eh.e_phnum * sizeof phs[0], eh.e_phoff))
        goto out;
    for (unsigned i = 0; i < eh.e_phnum && !n_id; i++)
        if ((n_id = module_build_id(fd, &phs[i], id + 8, 256)))
            memcpy(id, "buildid", 8), n_id += 8;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph = phs[i];
        if (ph.p_type != PT_LOAD)
            continue;
        if (mod->n_load == USER_MAX_LOADS || ph.p_filesz > (1ull << 31))
            goto out;
        mod->vaddr[mod->n_load] = ph.p_vaddr;
        mod->off[mod->n_load] = ph.p_offset;
        mod->filesz[mod->n_load] = ph.p_filesz;
        mod->n_load++;
        if (!(ph.p_flags & PF_X) || n_id)
            continue;
        uint8_t *n = realloc(text, n_text + 16 + ph.p_filesz);
        if (!n)
            goto out;
        text = n;
        memcpy(text + n_text, &ph.p_vaddr, 8);
        memcpy(text + n_text + 8, &ph.p_filesz, 8);
        if (!elf_pread_full(fd, text + n_text + 16, ph.p_filesz, ph.p_offset))
            goto out;
        n_text += 16 + ph.p_filesz;
    }
    if (n_id && mod->n_load) {
        for (unsigned i = 0; i < mod->n_load; i++) {
            memcpy(id + n_id, &mod->vaddr[i], 8);
            memcpy(id + n_id + 8, &mod->off[i], 8);
            memcpy(id + n_id + 16, &mod->filesz[i], 8);
            n_id += 24;
        }
        emu_cache_hash128(id, n_id, mod->hash);
        mod->ok = true;
    } else if (n_text && mod->n_load) {
        emu_cache_hash128(text, n_text, mod->hash);
        mod->ok = true;
    }
out:
    free(text);
    close(fd);
}

static UserModule *module_get(const char *name)
{
    for (size_t i = 0; i < n_modules; i++)
        if (modules[i].name == name)
            return &modules[i];
    if (n_modules == cap_modules) {
        size_t cap = cap_modules ? cap_modules * 2 : 16;
        UserModule *n = realloc(modules, cap * sizeof *n);
        if (!n)
            return NULL;
        modules = n;
        cap_modules = cap;
    }
    UserModule *mod = &modules[n_modules++];
    memset(mod, 0, sizeof *mod);
    mod->name = name;
    module_scan(mod);
    return mod;
}

/* ExecConfig.module_of (called under the engine lock). */
static bool user_module_of(void *opaque, uint64_t pc, EmuCacheModuleId *id, uint64_t *bias)
{
    GuestMem *m = opaque;
    const char *name = NULL;
    bool anon = false;
    uint64_t vstart = 0, voff = 0, lowest = UINT64_MAX;
    pthread_mutex_lock(&m->lock);
    size_t lo = 0, hi = m->n_vmas;
    while (lo < hi) { /* first vma with end > pc */
        size_t mid = (lo + hi) / 2;
        if (m->vmas[mid].end <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < m->n_vmas && m->vmas[lo].start <= pc && m->vmas[lo].name &&
        m->vmas[lo].name[0] == '/') {
        const GuestVma *v = &m->vmas[lo];
        name = v->name;
        anon = (v->flags & MAP_ANONYMOUS) != 0;
        vstart = v->start;
        voff = v->offset;
    }
    pthread_mutex_unlock(&m->lock);
    if (!name)
        return false;
    pthread_mutex_lock(&modules_lock);
    UserModule *mod = module_get(name);
    bool ok = mod && mod->ok;
    if (ok) {
        if (anon) {
            /* emu's loader: the image starts at the first PT_LOAD's page
             * (found once: the loader maps an image once) */
            if (!mod->have_anon_bias) {
                pthread_mutex_lock(&m->lock);
                for (size_t i = 0; i < m->n_vmas; i++)
                    if (m->vmas[i].name == name && (m->vmas[i].flags & MAP_ANONYMOUS) &&
                        m->vmas[i].start < lowest)
                        lowest = m->vmas[i].start;
                pthread_mutex_unlock(&m->lock);
                uint64_t first = UINT64_MAX;
                for (unsigned i = 0; i < mod->n_load; i++)
                    if (mod->vaddr[i] < first)
                        first = mod->vaddr[i];
                mod->anon_bias = lowest - (first & ~(uint64_t)(GUEST_PAGE_SIZE - 1));
                mod->have_anon_bias = true;
            }
            *bias = mod->anon_bias;
        } else {
            uint64_t foff = voff + (pc - vstart);
            ok = false;
            for (unsigned i = 0; i < mod->n_load && !ok; i++) {
                if (foff >= mod->off[i] && foff < mod->off[i] + mod->filesz[i]) {
                    *bias = pc - (mod->vaddr[i] + (foff - mod->off[i]));
                    ok = true;
                }
            }
        }
        memcpy(id->hash, mod->hash, 16);
        id->path = mod->name;
    }
    pthread_mutex_unlock(&modules_lock);
    return ok;
}

/* Remember where the auxv is (after argc, argv[], NULL, envp[], NULL) so
 * /proc/self/auxv can show the guest's vector, as Linux does. */
static void find_auxv(UserProcess *p, uint64_t sp)
{
    uint64_t a = sp + 8, v = 1;
    int nulls = 0;
    while (nulls < 2 && guest_mem_read(p->mem, a, &v, 8)) {
        a += 8;
        nulls += v == 0;
    }
    uint64_t start = a, kv[2] = { 1, 0 };
    while (guest_mem_read(p->mem, a, kv, 16)) {
        a += 16;
        if (kv[0] == 0)
            break;
    }
    p->auxv_addr = start;
    p->auxv_len = a - start;
}

/* Load the program at path into p->mem (nothing mapped yet), with its
 * interpreter for a dynamic program, set the break and build the initial
 * stack (AT_EXECFN prog): the pc and sp its first instruction runs with.
 * false with "prog: reason" in err. */
bool user_load_image(UserProcess *p, const char *path, const char *prog, int argc,
                     char *const *argv, char *const *envp, uint64_t *entry, uint64_t *sp,
                     char *err, size_t errlen)
{
    char why[400];
    ElfImage img, interp;
    if (!elf_load(p->mem, path, &img, why, sizeof why)) {
        snprintf(err, errlen, "%s: %s", prog, why);
        return false;
    }
    uint64_t interp_base = 0;
    *entry = img.entry;
    if (img.interp[0]) {
        /* A dynamic program: its interpreter (ld.so) starts first and
         * finds the program through AT_PHDR/AT_ENTRY. */
        char buf[PATH_MAX];
        const char *ipath = user_path(p, img.interp, buf);
        if (!elf_load_interp(p->mem, ipath, &interp, why, sizeof why)) {
            snprintf(err, errlen, "%s: interpreter %s: %s%s", prog, ipath, why,
                     p->ld_prefix ? "" : " (a dynamic program needs -L GUEST_ROOT)");
            return false;
        }
        *entry = interp.entry;
        interp_base = interp.start;
    }
    p->prog_entry = img.entry;
    guest_mem_brk_init(p->mem, img.end);
    UserStackArgs sa = { .argc = argc, .argv = argv, .envp = envp, .execfn = prog,
                         .img = &img, .hwcap = p->model->hwcap, .hwcap2 = p->model->hwcap2,
                         .interp_base = interp_base };
    if (!user_stack_setup(p->mem, &sa, sp, why, sizeof why)) {
        snprintf(err, errlen, "%s: %s", prog, why);
        return false;
    }
    find_auxv(p, *sp);
    return true;
}

_Noreturn void user_exit(UserProcess *p, int status)
{
    fflush(stdout);
    bool stopped = true;
    if (p && p->engine)
        stopped = exec_engine_stop_background(p->engine);
    if (p && p->stats && p->engine) {
        exec_stats_print(p->engine, stderr);
        exec_cache_stats_print(p->engine, stderr);
    }
    emu_log_close();
    if (!stopped) {
        /* the LLVM worker is mid-compile: leave without running static
         * destructors under it (and without waiting for it) */
        fflush(NULL);
        _exit(status);
    }
    exit(status);
}

/* ---- stopping at the entry point (UserConfig.at_entry, emu-aot) ------------
 * While armed, code reads that cover the entry pc fail, so the dispatcher
 * reports a fetch fault there before translating anything at the entry; a
 * block that would run into it ends just before.  The runtime probes
 * read_code before it looks a block up in the code cache, so a cached block
 * at the entry does not get past this either.  Only the main thread runs
 * before the entry (ld.so starts no threads), so a plain flag suffices. */
static struct {
    _Atomic bool armed;
    uint64_t pc;
} entry_trap;

static bool read_code_trapped(void *opaque, uint64_t pc, void *buf, size_t len)
{
    if (atomic_load_explicit(&entry_trap.armed, memory_order_relaxed) &&
        entry_trap.pc >= pc && entry_trap.pc - pc < len)
        return false;
    return guest_mem_read_code(opaque, pc, buf, len);
}

/* Runs guest code; returns only when the armed entry trap fires. */
static void cpu_loop(UserProcess *p, ExecCpu *cpu)
{
    A64State *env = exec_cpu_env(cpu);
    user_thread_self()->cpu = cpu;
    for (;;) {
        ExecEvent ev = exec_run(cpu);
        switch (ev.kind) {
        case EXEC_EV_SYSCALL:
            user_thread_self()->in_syscall = 1;
            user_syscall(p, env);
            user_thread_self()->in_syscall = 0;
            break;
        case EXEC_EV_UNDEF:
            user_signal_fault(p, env, SIGILL, ILL_ILLOPC, ev.pc);
            break;
        case EXEC_EV_FETCH_FAULT:
            if (atomic_load(&entry_trap.armed) && ev.pc == entry_trap.pc) {
                atomic_store(&entry_trap.armed, false);
                return;
            }
            /* fall through */
        case EXEC_EV_SEGV: {
            /* mapped but not accessible that way, or not mapped at all */
            uint64_t bus;
            if (guest_mem_take_bus(&bus)) {   /* interpreter: past a file's end */
                user_signal_fault(p, env, SIGBUS, BUS_ADRERR, bus);
                break;
            }
            int code = guest_mem_check(p->mem, ev.addr, 1, 0) ? SEGV_ACCERR : SEGV_MAPERR;
            user_signal_fault(p, env, SIGSEGV, code, ev.addr);
            break;
        }
        case EXEC_EV_BUS: {
            /* a host SIGBUS (file mapping past its end) or a misaligned access */
            uint64_t bus;
            if (guest_mem_take_bus(&bus))
                user_signal_fault(p, env, SIGBUS, BUS_ADRERR, bus);
            else
                user_signal_fault(p, env, SIGBUS, BUS_ADRALN, ev.addr);
            break;
        }
        case EXEC_EV_BREAKPOINT:
            user_signal_fault(p, env, SIGTRAP, TRAP_BRKPT, ev.pc);
            break;
        case EXEC_EV_EXCEPTION:
            if (emu_log_enabled(EMU_LOG_UNIMP))
                emu_log("guest exception code %u at pc 0x%llx\n", ev.code,
                        (unsigned long long)ev.pc);
            user_signal_fault(p, env, SIGILL, ILL_ILLOPC, ev.pc);
            break;
        case EXEC_EV_HALT:        /* wfi at EL0: a hint */
        case EXEC_EV_INTERRUPT:   /* a host signal for the guest is pending */
            break;
        case EXEC_EV_ERROR:
        default:
            fprintf(stderr, "emu-user: internal error at guest pc 0x%llx: %s\n",
                    (unsigned long long)ev.pc, ev.msg ? ev.msg : exec_event_name(ev.kind));
            fflush(stdout);
            emu_log_close();
            exit(1);
        }
        user_signal_check(p, env);
    }
}

_Noreturn void user_cpu_loop(UserProcess *p, ExecCpu *cpu)
{
    for (;;)
        cpu_loop(p, cpu);
}

int user_run(const UserConfig *cfg)
{
    char err[512];
    const char *prog = cfg->prog;
    UserProcess *p = calloc(1, sizeof *p);
    if (!p) {
        fprintf(stderr, "emu-user: out of memory\n");
        return 1;
    }
    p->stats = cfg->stats;
    p->emu_path = cfg->emu_path;
    p->emu_opts = cfg->emu_opts;
    p->exe_path = realpath(prog, NULL);
    if (!p->exe_path) {
        fprintf(stderr, "emu-user: %s: %s\n", prog, strerror(errno));
        return 1;
    }
    p->mem = guest_mem_new(GUEST_MEM_DEFAULT_LIMIT, err, sizeof err);
    if (!p->mem) {
        fprintf(stderr, "emu-user: %s\n", err);
        return 1;
    }
    p->ld_prefix = cfg->ld_prefix;
    const UserCpuModel *model = cfg->cpu ? cfg->cpu : user_cpu_model_find(USER_CPU_DEFAULT);
    user_cpu_model_apply(model);   /* before the first block is translated */
    p->model = model;
    uint64_t entry, sp;
    if (!user_load_image(p, p->exe_path, prog, cfg->argc, cfg->argv, cfg->envp, &entry, &sp, err, sizeof err)) {
        fprintf(stderr, "emu-user: %s\n", err);
        return 1;
    }

    ExecConfig ec = exec_config_default(&guest_arch_aarch64);
    ec.tier = cfg->tier;
    ec.stats = cfg->stats;
    ec.mem = (ExecMemOps){ .opaque = p->mem,
                           .read_code = cfg->at_entry ? read_code_trapped : guest_mem_read_code,
                           .code_view = cfg->at_entry ? NULL : guest_mem_code_view,
                           .page_id = cfg->at_entry ? NULL : guest_mem_page_id,
                           .interp_mem = guest_mem_interp_iface(p->mem),
                           .protect_code_page = guest_mem_protect_code_page,
                           .unprotect_code_page = guest_mem_unprotect_code_page,
                           .page_perm = p->mem->perm,
                           .limit_guard = GUEST_MEM_GUARD };
    ec.cache_mode = cfg->cache_mode;
    ec.cache_dir = cfg->cache_dir;
    ec.module_of = user_module_of;
    ec.module_opaque = p->mem;
    p->engine = exec_engine_new(&ec, err, sizeof err);
    if (!p->engine) {
        fprintf(stderr, "emu-user: %s\n", err);
        return 1;
    }
    GuestMemHooks hooks = { .opaque = p->engine, .invalidate = hook_invalidate,
                            .any_code_page = hook_any_code_page };
    guest_mem_set_hooks(p->mem, &hooks);
    ExecCpu *cpu = exec_cpu_new(p->engine);
    if (!cpu) {
        fprintf(stderr, "emu-user: out of memory\n");
        return 1;
    }
    if (!user_signal_install_host_handlers(p)) {
        fprintf(stderr, "emu-user: cannot install signal handlers: %s\n", strerror(errno));
        return 1;
    }
    user_signal_inherit(p);
    A64State *env = exec_cpu_env(cpu);
    env->common.guest_base = (uint64_t)(uintptr_t)p->mem->base;
    env->common.guest_limit = p->mem->limit;
    env->common.pc = entry;
    env->x[A64_SP] = sp;
    env->excl_addr = ~0ull;
    env->midr = model->midr;
    p->live_threads = 1;
    if (!cfg->at_entry)
        user_cpu_loop(p, cpu);
    entry_trap.pc = p->prog_entry;
    atomic_store(&entry_trap.armed, true);
    cpu_loop(p, cpu);
    int status = cfg->at_entry(cfg->at_entry_opaque, p->engine, cpu, p->mem);
    /* shut down as user_exit does at guest exit, but return */
    fflush(stdout);
    bool stopped = exec_engine_stop_background(p->engine);
    if (p->stats) {
        exec_stats_print(p->engine, stderr);
        exec_cache_stats_print(p->engine, stderr);
    }
    if (!stopped) {   /* an LLVM compile is still running: see user_exit */
        emu_log_close();
        fflush(NULL);
        _exit(status);
    }
    return status;
}
