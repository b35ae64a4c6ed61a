/*
 * user-run.c - the user-mode main loop: set up the process (address space,
 * ELF image, stack, runtime engine, CPU) and turn exec_run events into
 * syscalls and guest signals.
 */
#define _GNU_SOURCE
#include "user/user-run.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static bool hook_is_code_page(void *opaque, uint64_t addr)
{
    return exec_is_code_page(opaque, addr);
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

_Noreturn void user_exit(UserProcess *p, int status)
{
    fflush(stdout);
    if (p && p->engine)
        exec_engine_stop_background(p->engine);
    if (p && p->stats && p->engine)
        exec_stats_print(p->engine, stderr);
    emu_log_close();
    exit(status);
}

_Noreturn void user_cpu_loop(UserProcess *p, ExecCpu *cpu)
{
    A64State *env = exec_cpu_env(cpu);
    user_thread_self()->cpu = cpu;
    for (;;) {
        ExecEvent ev = exec_run(cpu);
        switch (ev.kind) {
        case EXEC_EV_SYSCALL:
            user_syscall(p, env);
            break;
        case EXEC_EV_UNDEF:
            user_signal_fault(p, env, SIGILL, ILL_ILLOPC, ev.pc);
            break;
        case EXEC_EV_FETCH_FAULT:
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
    ElfImage img, interp;
    if (!elf_load(p->mem, p->exe_path, &img, err, sizeof err)) {
        fprintf(stderr, "emu-user: %s: %s\n", prog, err);
        return 1;
    }
    uint64_t entry = img.entry, interp_base = 0;
    if (img.interp[0]) {
        /* A dynamic program: its interpreter (ld.so) starts first and
         * finds the program through AT_PHDR/AT_ENTRY. */
        char buf[PATH_MAX];
        const char *ipath = user_path(p, img.interp, buf);
        if (!elf_load_interp(p->mem, ipath, &interp, err, sizeof err)) {
            fprintf(stderr, "emu-user: %s: interpreter %s: %s%s\n", prog, ipath, err,
                    p->ld_prefix ? "" : " (a dynamic program needs -L GUEST_ROOT)");
            return 1;
        }
        entry = interp.entry;
        interp_base = interp.start;
    }
    guest_mem_brk_init(p->mem, img.end);
    UserStackArgs sa = { .argc = cfg->argc, .argv = cfg->argv, .envp = cfg->envp,
                         .execfn = prog, .img = &img, .hwcap = model->hwcap,
                         .hwcap2 = model->hwcap2, .interp_base = interp_base };
    uint64_t sp;
    if (!user_stack_setup(p->mem, &sa, &sp, err, sizeof err)) {
        fprintf(stderr, "emu-user: %s: %s\n", prog, err);
        return 1;
    }
    find_auxv(p, sp);

    ExecConfig ec = exec_config_default(&guest_arch_aarch64);
    ec.tier = cfg->tier;
    ec.stats = cfg->stats;
    ec.mem = (ExecMemOps){ .opaque = p->mem, .read_code = guest_mem_read_code,
                           .interp_mem = guest_mem_interp_iface(p->mem),
                           .protect_code_page = guest_mem_protect_code_page,
                           .unprotect_code_page = guest_mem_unprotect_code_page,
                           .page_perm = p->mem->perm };
    p->engine = exec_engine_new(&ec, err, sizeof err);
    if (!p->engine) {
        fprintf(stderr, "emu-user: %s\n", err);
        return 1;
    }
    GuestMemHooks hooks = { .opaque = p->engine, .invalidate = hook_invalidate,
                            .is_code_page = hook_is_code_page };
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
    A64State *env = exec_cpu_env(cpu);
    env->common.guest_base = (uint64_t)(uintptr_t)p->mem->base;
    env->common.guest_limit = p->mem->limit;
    env->common.pc = entry;
    env->x[A64_SP] = sp;
    env->excl_addr = ~0ull;
    env->midr = model->midr;
    p->live_threads = 1;
    user_cpu_loop(p, cpu);
}
