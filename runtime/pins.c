/*
 * pins.c - which guest registers template code keeps in host registers
 * across blocks (GuestArch.pinned, or EMU_PIN=name,name... / EMU_PIN=none
 * to measure other choices).  The template backend keeps one set per code
 * buffer, the one in force when tmpl_init set the buffer up, so engines of
 * other guests in one process cannot mix them.
 */
#include "runtime/exec.h"
#include "runtime/guest-arch.h"
#include "template-backend/tmpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The env offset of the i64 global called name[0..len), or -1. */
static int64_t global_offset(const IrGlobalSet *gs, const char *name, size_t len)
{
    for (uint32_t i = 1; gs && i < gs->count; i++) {
        const IrTempInfo *t = &gs->temps[i];
        if (t->name && t->type == IR_I64 && strlen(t->name) == len && !strncmp(t->name, name, len))
            return t->env_offset;
    }
    return -1;
}

static unsigned add_pin(const GuestArch *arch, uint32_t *offs, unsigned n, const char *name,
                        size_t len)
{
    int64_t off = global_offset(arch->globals, name, len);
    if (off < 0) {
        fprintf(stderr, "emu: EMU_PIN: no 64-bit %s register '%.*s'; ignored\n", arch->name,
                (int)len, name);
        return n;
    }
    if (n == TMPL_MAX_PINS) {
        fprintf(stderr, "emu: EMU_PIN: at most %d registers; '%.*s' ignored\n", TMPL_MAX_PINS,
                (int)len, name);
        return n;
    }
    for (unsigned i = 0; i < n; i++)
        if (offs[i] == (uint32_t)off)
            return n;
    offs[n] = (uint32_t)off;
    return n + 1;
}

void exec_setup_pins(const GuestArch *arch)
{
    if (arch->init)
        arch->init();
    uint32_t offs[TMPL_MAX_PINS];
    unsigned n = 0;
    const char *v = getenv("EMU_PIN");
    if (v && *v) {
        while (*v && strcmp(v, "none") != 0) {
            size_t len = strcspn(v, ",");
            if (len)
                n = add_pin(arch, offs, n, v, len);
            v += len + (v[len] == ',');
        }
    } else {
        for (unsigned i = 0; arch->pinned && arch->pinned[i]; i++)
            n = add_pin(arch, offs, n, arch->pinned[i], strlen(arch->pinned[i]));
    }
    tmpl_set_pins(offs, n);
}
