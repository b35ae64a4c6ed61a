/*
 * perfmap.h - `-d perfmap`: name generated code for Linux perf.  perf reads
 * /tmp/perf-<pid>.map ("START SIZE NAME" per line, hex) to attribute samples
 * in anonymous executable memory, so `perf report` shows which guest block
 * or region the time went to instead of bare [JIT] addresses.
 *
 *   perfmap_add(tb->host, code.size, "tb 0x%" PRIx64, pc);
 */
#ifndef EMU_RUNTIME_PERFMAP_H
#define EMU_RUNTIME_PERFMAP_H

#include <stddef.h>

/* Record [start, start+size) under a printf-formed name; a no-op unless
 * `-d perfmap` is set.  Thread-safe; the file is opened on first use. */
void perfmap_add(const void *start, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
