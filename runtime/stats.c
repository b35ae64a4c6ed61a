/*
 * stats.c - `--stats` output (see stats.h for what each counter means).
 */
#include "runtime/stats.h"

#include <inttypes.h>

#include "runtime/exec-internal.h"
#include "runtime/tier-llvm.h"

static void exec_stats_collect(ExecEngine *e, ExecStats *out)
{
    pthread_mutex_lock(&e->lock);
    *out = e->st;
    out->dispatch = e->retired_dispatch;
    out->jmp_cache_hits = e->retired_jc;
    out->table_hits = e->retired_table;
    for (ExecCpu *c = e->cpus; c; c = c->next) {
        out->dispatch += __atomic_load_n(&c->n_dispatch, __ATOMIC_RELAXED);
        out->jmp_cache_hits += __atomic_load_n(&c->n_jc_hits, __ATOMIC_RELAXED);
        out->table_hits += __atomic_load_n(&c->n_table_hits, __ATOMIC_RELAXED);
        out->slow_mem += __atomic_load_n(&c->n_slow_mem, __ATOMIC_RELAXED);
    }
    for (TransBlock *tb = e->all; tb; tb = tb->all_next) {
        uint64_t n = __atomic_load_n(&tb->exec_count, __ATOMIC_RELAXED);
        uint64_t l = __atomic_load_n(&tb->llvm_exec_count, __ATOMIC_RELAXED);
        out->blocks_executed += n + l;
        uint64_t ran = n * tb->n_insns - __atomic_load_n(&tb->skipped_insns, __ATOMIC_RELAXED);
        if (tb->host)
            out->insns_template += ran;
        else
            out->insns_interp += ran;
        out->insns_llvm += l * tb->n_insns;
        tiercache_count_insns(tb, &out->blocks_executed, &out->insns_llvm);
    }
    out->code_buf_used = e->buf.used;
    out->code_buf_size = e->buf.size;
    pthread_mutex_unlock(&e->lock);
}

void exec_stats_get(struct ExecEngine *e, ExecStats *out)
{
    exec_stats_collect(e, out);
}

void exec_stats_print(struct ExecEngine *e, FILE *out)
{
    ExecStats s;
    exec_stats_collect(e, &s);
    fprintf(out, "emu stats (%s tier)\n",
            e->cfg.tier == EXEC_TIER_TEMPLATE ? "template"
            : e->cfg.tier == EXEC_TIER_LLVM   ? "llvm"
            : e->cfg.tier == EXEC_TIER_AUTO   ? "auto"
                                              : "interpreter");
    fprintf(out, "  blocks translated      %" PRIu64 "\n", s.blocks_translated);
    fprintf(out, "  guest insns translated %" PRIu64 "\n", s.insns_translated);
    fprintf(out, "  translation time       %.3f ms (%.0f ns/guest insn)\n", s.translate_ns / 1e6,
            s.insns_translated ? (double)s.translate_ns / (double)s.insns_translated : 0.0);
    fprintf(out, "  host code bytes        %" PRIu64 "\n", s.host_bytes);
    /* cached code carries no counters (the cache keeps what a run without
     * --stats runs): on a warm start most of the program is not counted */
    const char *uncounted = e->tt.loaded ? " (blocks loaded from the code cache not counted)" : "";
    fprintf(out, "  blocks executed        %" PRIu64 "%s\n", s.blocks_executed,
            e->cfg.stats ? uncounted : " (stats off)");
    fprintf(out, "  dispatcher entries     %" PRIu64 "\n", s.dispatch);
    fprintf(out, "  dispatcher cache hits  %" PRIu64 " jump cache, %" PRIu64 " block table\n",
            s.jmp_cache_hits, s.table_hits);
    fprintf(out, "  chain patches          %" PRIu64 " (undone: %" PRIu64 ")\n", s.chain_patches,
            s.unchains);
    fprintf(out, "  invalidated blocks     %" PRIu64 " (SMC faults: %" PRIu64 ")\n",
            s.invalidated_blocks, s.smc_faults);
    fprintf(out, "  code buffer            %" PRIu64 " / %" PRIu64 " KiB, %" PRIu64 " flushes\n",
            s.code_buf_used >> 10, s.code_buf_size >> 10, s.code_flushes);
    if (s.interp_fallbacks)
        fprintf(out, "  interpreted fallbacks  %" PRIu64 "\n", s.interp_fallbacks);
    if (e->cfg.tier == EXEC_TIER_AUTO || e->cfg.tier == EXEC_TIER_LLVM) {
        TierLlvmStats ls;
        tier_llvm_stats(&ls);
        if (e->cfg.tier == EXEC_TIER_AUTO) {
            TierUpStats ts;
            tierup_stats(e, &ts);
            fprintf(out, "  tier-up                %" PRIu64 " hot blocks (threshold %d): %" PRIu64
                         " regions installed, %" PRIu64 " without a loop (left), %" PRIu64
                         " whose trips came far apart (left), %" PRIu64 " stale, %" PRIu64
                         " refused, %" PRIu64 " dropped\n",
                    ts.hot, tierup_threshold(e), ts.installed, ts.loopless, ts.trips_cold,
                    ts.stale, ts.failed, ts.dropped);
            fprintf(out, "  region probe           %" PRIu64 " kept, %" PRIu64
                         " sent back to template code (too few cycles per entry), %" PRIu64
                         " hot loops inside those left alone\n",
                    ts.probe_kept, ts.probe_dropped, ts.probe_dropped_inside);
            if (ts.ptr_regions || ts.ptr_sampled) /* EMU_REGION_PTR=1 */
                fprintf(out, "  region indirect jumps  %" PRIu64 " regions took in %" PRIu64
                             " blocks through recorded goto_ptr targets (%" PRIu64
                             " sampling windows)\n",
                        ts.ptr_regions, ts.ptr_members, ts.ptr_sampled);
        }
        fprintf(out, "  llvm regions compiled  %" PRIu64 " (%" PRIu64 " guest blocks, %" PRIu64
                     " refused)\n",
                ls.compiled, ls.blocks, ls.failed);
        fprintf(out, "  llvm compile time      %.1f ms total (lower %.1f, optimise %.1f, codegen "
                     "%.1f); per region median %.2f ms, p90 %.2f ms, max %.2f ms\n",
                ls.compile_ns / 1e6, ls.lower_ns / 1e6, ls.opt_ns / 1e6, ls.codegen_ns / 1e6,
                ls.median_ns / 1e6, ls.p90_ns / 1e6, ls.max_ns / 1e6);
    }
    if (e->cfg.tier == EXEC_TIER_AUTO || e->cfg.tier == EXEC_TIER_LLVM)
        fprintf(out, "  llvm slow-path exits   %" PRIu64 " (page map said no: insn interpreted)\n",
                s.slow_mem);
    if (e->cfg.stats) {
        double tot = (double)(s.insns_template + s.insns_llvm + s.insns_interp);
        if (tot > 0)
            fprintf(out, "  guest insns executed   %.0f: template %.1f%%, llvm %.1f%%, "
                         "interpreter %.1f%%%s\n",
                    tot, 100.0 * s.insns_template / tot, 100.0 * s.insns_llvm / tot,
                    100.0 * s.insns_interp / tot, uncounted);
    }
    if (!e->cfg.stats) return;
    /* The blocks executed most often. */
    enum { TOP = 5 };
    TransBlock *top[TOP] = {0};
    pthread_mutex_lock(&e->lock);
    for (TransBlock *tb = e->all; tb; tb = tb->all_next) {
        uint64_t c = __atomic_load_n(&tb->exec_count, __ATOMIC_RELAXED);
        if (!c || (top[TOP - 1] && c <= top[TOP - 1]->exec_count)) continue;
        int i = TOP - 1;
        while (i > 0 && (!top[i - 1] || top[i - 1]->exec_count < c)) {
            top[i] = top[i - 1];
            i--;
        }
        top[i] = tb;
    }
    for (int i = 0; i < TOP && top[i]; i++)
        fprintf(out,
                "  hot block %d            0x%016" PRIx64 " (%u insns): %" PRIu64 " runs%s\n",
                i + 1, top[i]->pc, top[i]->n_insns, top[i]->exec_count,
                top[i]->invalid ? " (invalidated)" : "");
    pthread_mutex_unlock(&e->lock);
}
