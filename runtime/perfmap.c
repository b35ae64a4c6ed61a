/*
 * perfmap.c - the perf map file of `-d perfmap` (see perfmap.h).  Lines are
 * appended under the FILE lock and flushed at once, so a perf session that
 * ends with a crash or a signal still names everything that ran.
 */
#include "runtime/perfmap.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "runtime/log.h"
#include "support/hostfd.h"

static FILE *map_file;
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

void perfmap_add(const void *start, size_t size, const char *fmt, ...)
{
    if (!emu_log_enabled(EMU_LOG_PERFMAP) || !start || !size)
        return;
    pthread_mutex_lock(&map_lock);
    if (!map_file) {
        char path[64];
        snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
        map_file = hostfd_fopen(path, "w");
        if (!map_file) {
            emu_log("perfmap: cannot write %s; perf map disabled\n", path);
            emu_log_mask &= ~(unsigned)EMU_LOG_PERFMAP;
            pthread_mutex_unlock(&map_lock);
            return;
        }
    }
    va_list ap;
    va_start(ap, fmt);
    fprintf(map_file, "%lx %zx ", (unsigned long)(uintptr_t)start, size);
    vfprintf(map_file, fmt, ap);
    fputc('\n', map_file);
    fflush(map_file);
    va_end(ap);
    pthread_mutex_unlock(&map_lock);
}
