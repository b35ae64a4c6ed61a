/*
 * translator.c - the ISA-neutral translation loop (see translator.h).
 * The loop owns the stopping rules (branch, count, page, unreadable code);
 * the frontend's hooks own everything about the instruction set.
 */
#include "frontend/translator.h"

#include <string.h>

bool translator_read(const DisasContextBase *db, uint64_t pc, void *buf, size_t len)
{
    if (!db->code || !db->code->read)
        return false;
    return db->code->read(db->code->opaque, pc, buf, len);
}

bool translator_ldl(const DisasContextBase *db, uint64_t pc, uint32_t *out)
{
    uint8_t b[4];
    if (!translator_read(db, pc, b, sizeof(b)))
        return false;
    *out = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
    return true;
}

static bool same_page(uint64_t a, uint64_t b)
{
    return (a >> TRANSLATOR_PAGE_BITS) == (b >> TRANSLATOR_PAGE_BITS);
}

void translator_loop(const TranslatorOps *ops, DisasContextBase *db)
{
    unsigned probe = ops->min_insn_len ? ops->min_insn_len : 1;
    uint8_t tmp[16];

    if (db->max_insns == 0)
        db->max_insns = 1;
    if (probe > sizeof(tmp))
        probe = sizeof(tmp);
    db->pc_next = db->pc_first;
    db->num_insns = 0;
    db->is_jmp = DISAS_NEXT;
    if (ops->tb_start)
        ops->tb_start(db);

    for (;;) {
        /* Never open an instruction we cannot fetch: the block ends before
         * it so the fault is taken when (if) execution gets there. */
        if (!translator_read(db, db->pc_next, tmp, probe)) {
            if (db->num_insns == 0) {
                ir_insn_start(db->ir, db->pc_next, probe);
                ir_exit(db->ir, IR_EXIT_FETCH_FAULT, db->pc_next);
                db->is_jmp = DISAS_NORETURN;
                break;
            }
            db->is_jmp = DISAS_TOO_MANY;
            break;
        }
        ops->insn_start(db);
        db->num_insns++;
        ops->translate_insn(db);
        if (db->is_jmp != DISAS_NEXT)
            break;
        if (db->num_insns >= db->max_insns || !same_page(db->pc_first, db->pc_next)) {
            db->is_jmp = DISAS_TOO_MANY;
            break;
        }
    }
    if (db->is_jmp != DISAS_NORETURN || db->num_insns > 0)
        ops->tb_stop(db);
    db->ir->guest_size = (uint32_t)(db->pc_next - db->pc_first);
}
