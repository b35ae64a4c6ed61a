/*
 * disas.c - disassembly through LLVM's C API (llvm-c/Disassembler.h), with
 * libLLVM opened by dlopen() on first use: nothing here links LLVM, so a run
 * without -d never pays for loading it.  The path comes from the build
 * (EMU_LLVM_SONAME); without it, or if loading fails, bytes are shown in hex.
 */
#include "runtime/disas.h"

#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>

#ifndef EMU_LLVM_SONAME
#define EMU_LLVM_SONAME "libLLVM.so.1"
#endif

typedef void *DisasCtx;
typedef DisasCtx (*CreateDisasFn)(const char *, void *, int, void *, void *);
typedef size_t (*DisasInsnFn)(DisasCtx, uint8_t *, uint64_t, uint64_t, char *, size_t);
typedef void (*DisposeFn)(DisasCtx);
typedef int (*SetOptionsFn)(DisasCtx, uint64_t);
typedef void (*InitFn)(void);

static pthread_mutex_t disas_lock = PTHREAD_MUTEX_INITIALIZER;
static bool tried, loaded, warned;
static CreateDisasFn create_disasm;
static DisasInsnFn disasm_insn;
static SetOptionsFn set_options;
static struct {
    const char *triple;
    DisasCtx ctx;
} ctxs[4];

static void init_target(void *h, const char *arch)
{
    static const char *const parts[] = {"TargetInfo", "TargetMC", "Disassembler"};
    for (int i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "LLVMInitialize%s%s", arch, parts[i]);
        InitFn f = (InitFn)dlsym(h, name);
        if (f) f();
    }
}

static void load_llvm(void)
{
    tried = true;
    void *h = dlopen(EMU_LLVM_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "emu: cannot load %s (%s); showing code bytes only\n", EMU_LLVM_SONAME,
                dlerror());
        warned = true;
        return;
    }
    create_disasm = (CreateDisasFn)dlsym(h, "LLVMCreateDisasm");
    disasm_insn = (DisasInsnFn)dlsym(h, "LLVMDisasmInstruction");
    set_options = (SetOptionsFn)dlsym(h, "LLVMSetDisasmOptions");
    if (!create_disasm || !disasm_insn) {
        fprintf(stderr, "emu: %s lacks the disassembler API; showing code bytes only\n",
                EMU_LLVM_SONAME);
        warned = true;
        return;
    }
    init_target(h, "AArch64");
    init_target(h, "X86");
    loaded = true;
}

static DisasCtx get_ctx(const char *triple)
{
    for (size_t i = 0; i < sizeof ctxs / sizeof ctxs[0]; i++) {
        if (ctxs[i].triple && !strcmp(ctxs[i].triple, triple)) return ctxs[i].ctx;
        if (!ctxs[i].triple) {
            DisasCtx c = create_disasm(triple, NULL, 0, NULL, NULL);
            if (c && set_options) set_options(c, 2 /* LLVMDisassembler_Option_PrintImmHex */);
            ctxs[i].triple = triple;
            ctxs[i].ctx = c;
            if (!c && !warned) {
                fprintf(stderr, "emu: LLVM has no disassembler for %s\n", triple);
                warned = true;
            }
            return c;
        }
    }
    return NULL;
}

/* Fixed-width ISAs show the instruction word as a number (as their
 * manuals do); others show bytes in memory order. */
static void hex_line(FILE *out, const char *triple, const uint8_t *p, size_t n, uint64_t addr,
                     const char *text)
{
    char hex[64];
    size_t o = 0;
    if (n == 4 && triple && !strncmp(triple, "aarch64", 7))
        snprintf(hex, sizeof hex, "%08x",
                 (unsigned)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24));
    else
        for (size_t i = 0; i < n && o + 3 < sizeof hex; i++)
            o += (size_t)snprintf(hex + o, sizeof hex - o, "%02x", p[i]);
    fprintf(out, "0x%016" PRIx64 ":  %-20s %s\n", addr, hex, text);
}

void disas_print(FILE *out, const char *triple, const uint8_t *code, size_t len, uint64_t addr)
{
    pthread_mutex_lock(&disas_lock);
    if (!tried) load_llvm();
    DisasCtx ctx = loaded && triple ? get_ctx(triple) : NULL;
    size_t off = 0;
    while (off < len) {
        char text[160] = "";
        size_t n = 0;
        if (ctx)
            n = disasm_insn(ctx, (uint8_t *)code + off, len - off, addr + off, text, sizeof text);
        if (n == 0) {
            /* Unknown bytes (or no LLVM): one 4-byte word (or the rest). */
            n = len - off < 4 ? len - off : 4;
            hex_line(out, triple, code + off, n, addr + off, ctx ? "(bad)" : "");
        } else {
            const char *t = text;
            while (*t == ' ' || *t == '\t')
                t++;
            hex_line(out, triple, code + off, n, addr + off, t);
        }
        off += n;
    }
    pthread_mutex_unlock(&disas_lock);
}

bool disas_llvm_loaded(void)
{
    return loaded;
}
