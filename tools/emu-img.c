/*
 * emu-img - create, inspect, check, convert, compare, map and resize disk
 * images (raw, qcow2).  Command lines, output and exit codes follow
 * qemu-img so that scripts port over; the work is done by machine/block.
 *
 *   emu-img create -f qcow2 test-vm-1.qcow2 10G
 *   emu-img info --output=json test-vm-1.qcow2
 *   emu-img convert -O qcow2 -c disk.raw disk.qcow2
 */
#include "machine/block/img.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: emu-img COMMAND [options]\n"
          "  create [-q] [-f fmt] [-b backing_file -F backing_fmt] [-o options] filename [size]\n"
          "  info [-f fmt] [--output=human|json] [--backing-chain] filename\n"
          "  check [-q] [-f fmt] [--output=human|json] [-r leaks|all] filename\n"
          "  convert [-q] [-p] [-c] [-f fmt] [-O output_fmt] [-o options] [-t cache] src dst\n"
          "  compare [-q] [-s] [-f fmt] [-F fmt] filename1 filename2\n"
          "  map [-f fmt] [--output=human|json] filename\n"
          "  resize [-q] [-f fmt] [--shrink] filename [+|-]size\n"
          "  bench [-q] [-w] [-c count] [-d depth] [-f fmt] [-o offset] [-s size] [-S step]\n"
          "        [--pattern=byte] [--flush-interval=n] [--random] filename\n"
          "sizes take the suffixes k, M, G, T, P, E (powers of 1024)\n"
          "create options (-o): cluster_size, compression_type=zlib|zstd, compat=1.1|0.10,\n"
          "  lazy_refcounts=on|off, refcount_bits\n", f);
}

enum { OPT_OUTPUT = 256, OPT_CHAIN, OPT_SHRINK, OPT_PATTERN, OPT_FLUSH, OPT_RANDOM };
static const struct option long_opts[] = {
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"backing-chain", no_argument, NULL, OPT_CHAIN},
    {"shrink", no_argument, NULL, OPT_SHRINK},
    {"pattern", required_argument, NULL, OPT_PATTERN},
    {"flush-interval", required_argument, NULL, OPT_FLUSH},
    {"random", no_argument, NULL, OPT_RANDOM},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Options shared by every subcommand, filled by parse(). */
typedef struct Args {
    const char *fmt, *fmt2, *out_fmt, *backing, *options, *repair;
    bool json, chain, shrink, quiet, progress, compress, strict, write, random;
    const char *count, *depth, *bsize, *step, *pattern, *flush, *cache;
    bool bench;
    int npos;
    char **pos;
} Args;

static int parse(int argc, char **argv, const char *optstr, Args *a)
{
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, optstr, long_opts, NULL)) != -1) {
        switch (c) {
        case 'f': a->fmt = optarg; break;
        case 'F': a->fmt2 = optarg; break;
        case 'O': a->out_fmt = optarg; break;
        case 'b': a->backing = optarg; break;
        case 'o':
            if (a->options) { /* several -o: join them */
                char *j = malloc(strlen(a->options) + strlen(optarg) + 2);
                sprintf(j, "%s,%s", a->options, optarg);
                a->options = j;
            } else {
                a->options = optarg;
            }
            break;
        case 'r': a->repair = optarg; break;
        case 'q': a->quiet = true; break;
        case 'p': a->progress = true; break;
        case 'c':
            if (a->write || a->bench)
                a->count = optarg;
            else
                a->compress = true;
            break;
        case 's':
            if (a->bench)
                a->bsize = optarg;
            else
                a->strict = true;
            break;
        case 'w': a->write = true; break;
        case 'd': a->depth = optarg; break;
        case 'S': a->step = optarg; break;
        case 't': a->cache = optarg; break;
        case 'n': case 'i': break; /* qemu-img bench I/O modes: one mode here */
        case OPT_PATTERN: a->pattern = optarg; break;
        case OPT_FLUSH: a->flush = optarg; break;
        case OPT_RANDOM: a->random = true; break;
        case 'u': break; /* unsafe: we never need to open the backing to create */
        case OPT_OUTPUT:
            if (strcmp(optarg, "json") && strcmp(optarg, "human")) {
                img_error("--output must be used with human or json as argument.");
                return -1;
            }
            a->json = !strcmp(optarg, "json");
            break;
        case OPT_CHAIN: a->chain = true; break;
        case OPT_SHRINK: a->shrink = true; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    a->npos = argc - optind;
    a->pos = argv + optind;
    return 0;
}

static int need(const Args *a, int min, int max, const char *cmd)
{
    if (a->npos < min || a->npos > max) {
        img_error("%s: expecting %s", cmd, min == max && min == 1 ? "one filename" :
                                          "a different number of arguments (see --help)");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    const char *cmd = argv[1];
    Args a = {0};
    argc--;
    argv++;
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "create")) {
        if (parse(argc, argv, "qf:b:F:o:u", &a) < 0 || need(&a, 1, 2, cmd) < 0)
            return 1;
        int64_t size = -1;
        if (a.npos == 2 && (size = img_parse_size(a.pos[1])) < 0) {
            img_error("Invalid image size specified. You may use k, M, G, T, P or E suffixes "
                      "for kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
            return 1;
        }
        ImgCreateOpts o = {.fmt = a.fmt, .filename = a.pos[0], .size = size,
                           .backing = a.backing, .backing_fmt = a.fmt2, .options = a.options,
                           .quiet = a.quiet};
        return img_create(&o, stdout);
    }
    if (!strcmp(cmd, "info")) {
        if (parse(argc, argv, "f:", &a) < 0 || need(&a, 1, 1, cmd) < 0)
            return 1;
        return img_info(a.pos[0], a.fmt, a.json, a.chain, stdout);
    }
    if (!strcmp(cmd, "check")) {
        if (parse(argc, argv, "qf:r:", &a) < 0 || need(&a, 1, 1, cmd) < 0)
            return 1;
        int fix = 0;
        if (a.repair) {
            if (!strcmp(a.repair, "leaks"))
                fix = IMG_CHECK_FIX_LEAKS;
            else if (!strcmp(a.repair, "all"))
                fix = IMG_CHECK_FIX_ALL;
            else {
                img_error("Unknown option value for -r (expecting 'leaks' or 'all'): %s",
                          a.repair);
                return 1;
            }
        }
        return img_check(a.pos[0], a.fmt, fix, a.json, a.quiet, stdout);
    }
    if (!strcmp(cmd, "convert")) {
        if (parse(argc, argv, "qpcf:O:o:t:", &a) < 0 || need(&a, 2, 2, cmd) < 0)
            return 1;
        ImgConvertOpts o = {.cache = a.cache, .src = a.pos[0], .dst = a.pos[1], .src_fmt = a.fmt,
                            .dst_fmt = a.out_fmt, .options = a.options, .compress = a.compress,
                            .progress = a.progress, .quiet = a.quiet};
        return img_convert(&o, stdout);
    }
    if (!strcmp(cmd, "compare")) {
        if (parse(argc, argv, "qsf:F:", &a) < 0 || need(&a, 2, 2, cmd) < 0)
            return 2;
        return img_compare(a.pos[0], a.pos[1], a.fmt, a.fmt2 ? a.fmt2 : a.fmt, a.strict, a.quiet,
                           stdout);
    }
    if (!strcmp(cmd, "map")) {
        if (parse(argc, argv, "f:", &a) < 0 || need(&a, 1, 1, cmd) < 0)
            return 1;
        return img_map(a.pos[0], a.fmt, a.json, stdout);
    }
    if (!strcmp(cmd, "resize")) {
        /* "-1G" would look like an option: it is the size when it comes last */
        if (argc >= 2 && argv[argc - 1][0] == '-' && argv[argc - 1][1] >= '0' &&
            argv[argc - 1][1] <= '9') {
            const char *sz = argv[argc - 1];
            argv[argc - 1] = NULL;
            if (parse(argc - 1, argv, "qf:", &a) < 0 || need(&a, 1, 1, cmd) < 0)
                return 1;
            return img_resize(a.pos[0], a.fmt, sz, a.shrink, a.quiet, stdout);
        }
        if (parse(argc, argv, "qf:", &a) < 0 || need(&a, 2, 2, cmd) < 0)
            return 1;
        return img_resize(a.pos[0], a.fmt, a.pos[1], a.shrink, a.quiet, stdout);
    }
    if (!strcmp(cmd, "bench")) {
        a.bench = true;
        if (parse(argc, argv, "qwc:d:f:o:s:S:nt:i:", &a) < 0 || need(&a, 1, 1, cmd) < 0)
            return 1;
        ImgBenchOpts o = {.filename = a.pos[0], .fmt = a.fmt, .write = a.write,
                          .random = a.random, .quiet = a.quiet, .count = 75000};
        int64_t v;
        if (a.count && (v = img_parse_size(a.count)) >= 0) o.count = (uint64_t)v;
        if (a.bsize && (v = img_parse_size(a.bsize)) > 0) o.bufsize = (uint64_t)v;
        if (a.step && (v = img_parse_size(a.step)) >= 0) o.step = (uint64_t)v;
        if (a.options && (v = img_parse_size(a.options)) >= 0) o.offset = (uint64_t)v;
        if (a.depth) o.depth = atoi(a.depth);
        if (a.flush) o.flush_interval = strtoull(a.flush, NULL, 0);
        if (a.pattern) o.pattern = (uint8_t)strtoul(a.pattern, NULL, 0);
        return img_bench(&o, stdout);
    }
    img_error("Command not found: %s", cmd);
    return 1;
}
