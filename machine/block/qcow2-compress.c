/*
 * qcow2-compress.c - compressed clusters.  zlib clusters are raw deflate
 * streams with a 4 KiB window (windowBits -12); zstd clusters are zstd
 * frames (compression type 1).  The stored length is rounded up to whole
 * sectors, so decompression stops when the cluster is full and ignores
 * whatever follows the stream.
 */
#include "machine/block/qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

static int qcow2_inflate(Qcow2State *s, const uint8_t *src, size_t slen, uint8_t *dst,
                         size_t dlen)
{
    z_stream *z = s->zlib_in;
    if (!z) {
        z = calloc(1, sizeof(*z));
        if (!z || inflateInit2(z, -12) != Z_OK) {
            free(z);
            blk_set_error("cannot initialise zlib");
            return -ENOMEM;
        }
        s->zlib_in = z;
    } else if (inflateReset(z) != Z_OK) {
        blk_set_error("cannot reset zlib");
        return -EIO;
    }
    z->next_in = (Bytef *)src;
    z->avail_in = (uInt)slen;
    z->next_out = dst;
    z->avail_out = (uInt)dlen;
    int r = inflate(z, Z_FINISH);
    if ((r != Z_STREAM_END && r != Z_BUF_ERROR && r != Z_OK) || z->avail_out != 0) {
        blk_set_error("%s: corrupt zlib compressed cluster", s->bs->filename);
        return -EIO;
    }
    return 0;
}

static int qcow2_unzstd(Qcow2State *s, const uint8_t *src, size_t slen, uint8_t *dst,
                        size_t dlen)
{
    if (!s->zstd_dctx) {
        s->zstd_dctx = ZSTD_createDCtx();
        if (!s->zstd_dctx) {
            blk_set_error("cannot initialise zstd");
            return -ENOMEM;
        }
    } else {
        ZSTD_DCtx_reset(s->zstd_dctx, ZSTD_reset_session_only);
    }
    ZSTD_inBuffer in = {src, slen, 0};
    ZSTD_outBuffer out = {dst, dlen, 0};
    while (out.pos < out.size) {
        size_t r = ZSTD_decompressStream(s->zstd_dctx, &out, &in);
        if (ZSTD_isError(r)) {
            blk_set_error("%s: corrupt zstd compressed cluster: %s", s->bs->filename,
                          ZSTD_getErrorName(r));
            return -EIO;
        }
        if (r == 0 || in.pos == in.size) /* frame ended or input used up */
            break;
    }
    if (out.pos != out.size) {
        blk_set_error("%s: zstd compressed cluster is too short", s->bs->filename);
        return -EIO;
    }
    return 0;
}

int qcow2_decompress(Qcow2State *s, const uint8_t *src, size_t slen, uint8_t *dst, size_t dlen)
{
    if (s->compression_type == QCOW2_COMP_ZSTD)
        return qcow2_unzstd(s, src, slen, dst, dlen);
    return qcow2_inflate(s, src, slen, dst, dlen);
}

long qcow2_compress(Qcow2State *s, const uint8_t *src, size_t slen, uint8_t *dst, size_t dmax)
{
    if (s->compression_type == QCOW2_COMP_ZSTD) {
        size_t r = ZSTD_compress(dst, dmax, src, slen, ZSTD_CLEVEL_DEFAULT);
        if (ZSTD_isError(r))
            return 0; /* does not fit (or cannot compress): store it plainly */
        return (long)r;
    }
    z_stream z = {0};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
        blk_set_error("cannot initialise zlib");
        return -ENOMEM;
    }
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)slen;
    z.next_out = dst;
    z.avail_out = (uInt)dmax;
    int r = deflate(&z, Z_FINISH);
    long len = r == Z_STREAM_END ? (long)(dmax - z.avail_out) : 0;
    deflateEnd(&z);
    return len;
}
