
/*
 * The codecs of Kafka record batches through Debian's libraries: gzip
 * (zlib, gzip members; zlib streams are read too), snappy (raw blocks
 * as librdkafka writes them and the xerial framing of snappy-java and
 * kafka-python), lz4 (the LZ4 frame format, independent 64 KB blocks as
 * librdkafka and Java write) and zstd.
 *
 * Decompression never trusts sizes announced by the input: the output
 * grows as it is produced, up to max bytes, and one byte more means
 * SL_BROKER_ERR_TOO_LARGE.  The library contexts are per process and
 * reused (a worker runs one thread).
 *
 * Snappy is compressed to a single raw block, as librdkafka does: every
 * client reads it (librdkafka; snappy-java, hence the Java client, reads
 * a stream without the xerial magic as one raw block; kafka-python
 * checks for the magic and falls back to raw).
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_compress.h>

#include <zlib.h>
#include <snappy-c.h>
#include <lz4frame.h>
#include <zstd.h>


#define SL_COMPRESS_OUT_MIN     4096
#define SL_COMPRESS_CHUNK_MAX   ((size_t) 1 << 30)


/* decompression output that grows up to a limit of max + 1 */
typedef struct {
    u_char                  *data;
    size_t                   len;
    size_t                   cap;
    size_t                   limit;
    sl_pool_t               *pool;
} sl_compress_out_t;


static sl_int_t sl_compress_out_init(sl_compress_out_t *o, sl_pool_t *pool,
    size_t hint, size_t max);
static sl_int_t sl_compress_out_grow(sl_compress_out_t *o);
static sl_int_t sl_compress_out_done(sl_compress_out_t *o, size_t max,
    sl_str_t *out);
static sl_int_t sl_compress_xerial_decompress(u_char *in, size_t len,
    size_t max, sl_pool_t *pool, sl_str_t *out);


static z_stream      sl_compress_inflate;
static sl_uint_t     sl_compress_inflate_ready;
static z_stream      sl_compress_deflate;
static sl_uint_t     sl_compress_deflate_ready;
static int           sl_compress_deflate_level;
static LZ4F_dctx    *sl_compress_lz4_dctx;
static ZSTD_DCtx    *sl_compress_zstd_dctx;
static ZSTD_CCtx    *sl_compress_zstd_cctx;


sl_int_t
sl_compress_gzip_decompress(u_char *in, size_t len, size_t max,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log)
{
    int                 rc;
    size_t              room;
    sl_int_t            grc;
    z_stream           *z;
    sl_compress_out_t   o;

    z = &sl_compress_inflate;

    if (len == 0 || len > UINT_MAX) {
        return SL_BROKER_ERR_CORRUPT;
    }

    if (!sl_compress_inflate_ready) {
        sl_memzero(z, sizeof(z_stream));

        /* 15 + 32: a gzip member or a zlib stream, found by its header */

        if (inflateInit2(z, 15 + 32) != Z_OK) {
            return SL_BROKER_ERR_NO_MEMORY;
        }

        sl_compress_inflate_ready = 1;

    } else if (inflateReset(z) != Z_OK) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    if (sl_compress_out_init(&o, pool, len * 4, max) != SL_BROKER_OK) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    z->next_in = in;
    z->avail_in = (uInt) len;

    for ( ;; ) {

        if (o.len == o.cap) {
            grc = sl_compress_out_grow(&o);
            if (grc != SL_BROKER_OK) {
                return grc;
            }
        }

        room = sl_min(o.cap - o.len, SL_COMPRESS_CHUNK_MAX);

        z->next_out = o.data + o.len;
        z->avail_out = (uInt) room;

        rc = inflate(z, Z_NO_FLUSH);

        o.len = (size_t) (z->next_out - o.data);

        if (rc == Z_STREAM_END) {

            if (z->avail_in == 0) {
                break;
            }

            /* Java reads concatenated gzip members: so do we */

            if (z->avail_in >= 2
                && z->next_in[0] == 0x1f && z->next_in[1] == 0x8b)
            {
                if (inflateReset(z) != Z_OK) {
                    return SL_BROKER_ERR_NO_MEMORY;
                }

                continue;
            }

            return SL_BROKER_ERR_CORRUPT;
        }

        if (rc == Z_MEM_ERROR) {
            return SL_BROKER_ERR_NO_MEMORY;
        }

        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return SL_BROKER_ERR_CORRUPT;
        }

        if (z->avail_out != 0 && z->avail_in == 0) {
            /* wants more input than there is: truncated */
            return SL_BROKER_ERR_CORRUPT;
        }
    }

    return sl_compress_out_done(&o, max, out);
}


sl_int_t
sl_compress_gzip_compress(u_char *in, size_t len, sl_int_t level,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log)
{
    int        lv;
    u_char    *p;
    uLong      bound;
    z_stream  *z;

    z = &sl_compress_deflate;

    if (len > UINT_MAX / 2) {
        return SL_BROKER_ERR_TOO_LARGE;
    }

    lv = (level <= 0) ? Z_DEFAULT_COMPRESSION : (int) sl_min(level, 9);

    if (sl_compress_deflate_ready && sl_compress_deflate_level != lv) {
        (void) deflateEnd(z);
        sl_compress_deflate_ready = 0;
    }

    if (!sl_compress_deflate_ready) {
        sl_memzero(z, sizeof(z_stream));

        /* 15 + 16: a gzip member, as Kafka's clients write */

        if (deflateInit2(z, lv, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
            != Z_OK)
        {
            return SL_BROKER_ERR_NO_MEMORY;
        }

        sl_compress_deflate_ready = 1;
        sl_compress_deflate_level = lv;

    } else if (deflateReset(z) != Z_OK) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    bound = deflateBound(z, (uLong) len);

    p = sl_pnalloc(pool, bound);
    if (p == NULL) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    z->next_in = in;
    z->avail_in = (uInt) len;
    z->next_out = p;
    z->avail_out = (uInt) bound;

    if (deflate(z, Z_FINISH) != Z_STREAM_END) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    out->data = p;
    out->len = (size_t) (z->next_out - p);

    return SL_BROKER_OK;
}


sl_int_t
sl_compress_snappy_decompress(u_char *in, size_t len, size_t max,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log)
{
    u_char  *p;
    size_t   n;

    if (len >= SL_COMPRESS_XERIAL_HEADER
        && sl_memcmp(in, SL_COMPRESS_XERIAL_MAGIC,
                     SL_COMPRESS_XERIAL_MAGIC_LEN) == 0)
    {
        return sl_compress_xerial_decompress(in, len, max, pool, out);
    }

    if (snappy_uncompressed_length((char *) in, len, &n) != SNAPPY_OK) {
        return SL_BROKER_ERR_CORRUPT;
    }

    if (n > max) {
        return SL_BROKER_ERR_TOO_LARGE;
    }

    p = sl_pnalloc(pool, n ? n : 1);
    if (p == NULL) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    if (snappy_uncompress((char *) in, len, (char *) p, &n) != SNAPPY_OK) {
        return SL_BROKER_ERR_CORRUPT;
    }

    out->data = p;
    out->len = n;

    return SL_BROKER_OK;
}


static sl_int_t
sl_compress_xerial_decompress(u_char *in, size_t len, size_t max,
    sl_pool_t *pool, sl_str_t *out)
{
    u_char    *p, *last, *o;
    size_t     total, n, blen;
    uint32_t   b;

    /* two passes: the sizes first, so that nothing is written past max */

    last = in + len;
    total = 0;

    for (p = in + SL_COMPRESS_XERIAL_HEADER; p != last; p += blen) {

        if (last - p < 4) {
            return SL_BROKER_ERR_CORRUPT;
        }

        b = ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
            | ((uint32_t) p[2] << 8) | p[3];
        p += 4;
        blen = b;

        if (blen > (size_t) (last - p)) {
            return SL_BROKER_ERR_CORRUPT;
        }

        if (snappy_uncompressed_length((char *) p, blen, &n) != SNAPPY_OK) {
            return SL_BROKER_ERR_CORRUPT;
        }

        if (n > max - total) {
            return SL_BROKER_ERR_TOO_LARGE;
        }

        total += n;
    }

    o = sl_pnalloc(pool, total ? total : 1);
    if (o == NULL) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    out->data = o;
    out->len = total;

    for (p = in + SL_COMPRESS_XERIAL_HEADER; p != last; p += blen) {

        blen = ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
               | ((uint32_t) p[2] << 8) | p[3];
        p += 4;

        n = total - (size_t) (o - out->data);

        if (snappy_uncompress((char *) p, blen, (char *) o, &n)
            != SNAPPY_OK)
        {
            return SL_BROKER_ERR_CORRUPT;
        }

        o += n;
    }

    if ((size_t) (o - out->data) != total) {
        return SL_BROKER_ERR_CORRUPT;
    }

    return SL_BROKER_OK;
}


sl_int_t
sl_compress_snappy_compress(u_char *in, size_t len, sl_int_t level,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log)
{
    u_char  *p;
    size_t   n;

    if (len > UINT32_MAX / 2) {
        return SL_BROKER_ERR_TOO_LARGE;
    }

    n = snappy_max_compressed_length(len);

    p = sl_pnalloc(pool, n);
    if (p == NULL) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    if (snappy_compress((char *) in, len, (char *) p, &n) != SNAPPY_OK) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    out->data = p;
    out->len = n;

    return SL_BROKER_OK;
}


sl_int_t
sl_compress_snappy_xerial_compress(u_char *in, size_t len, sl_int_t level,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log)
{
    u_char  *p, *o;
    size_t   nblocks, cap, blen, n;

    if (len > UINT32_MAX / 2) {
        return SL_BROKER_ERR_TOO_LARGE;
    }

    nblocks = (len + SL_COMPRESS_XERIAL_BLOCK - 1) / SL_COMPRESS_XERIAL_BLOCK;
    cap = SL_COMPRESS_XERIAL_HEADER
          + nblocks * (4 + snappy_max_compressed_length(
                                               SL_COMPRESS_XERIAL_BLOCK));

    o = sl_pnalloc(pool, cap);
    if (o == NULL) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    /* magic, version 1, compatible version 1 */

    p = sl_cpymem(o, SL_COMPRESS_XERIAL_MAGIC, SL_COMPRESS_XERIAL_MAGIC_LEN);
    p = sl_cpymem(p, "\0\0\0\1\0\0\0\1", 8);

    while (len) {
        blen = sl_min(len, SL_COMPRESS_XERIAL_BLOCK);
        n = snappy_max_compressed_length(blen);

        if (snappy_compress((char *) in, blen, (char *) p + 4, &n)
            != SNAPPY_OK)
        {
            return SL_BROKER_ERR_NO_MEMORY;
        }

        p[0] = (u_char) (n >> 24);
        p[1] = (u_char) (n >> 16);
        p[2] = (u_char) (n >> 8);
        p[3] = (u_char) n;

        p += 4 + n;
        in += blen;
        len -= blen;
    }

    out->data = o;
    out->len = (size_t) (p - o);

    return SL_BROKER_OK;
}


sl_int_t
sl_compress_lz4_decompress(u_char *in, size_t len, size_t max,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log)
{
    u_char             *src, *last;
    size_t              ret, dst_size, src_size;
    sl_int_t            grc;
    sl_compress_out_t   o;

    if (len == 0) {
        return SL_BROKER_ERR_CORRUPT;
    }

    if (sl_compress_lz4_dctx == NULL) {
        if (LZ4F_isError(LZ4F_createDecompressionContext(
                                 &sl_compress_lz4_dctx, LZ4F_VERSION)))
        {
            sl_compress_lz4_dctx = NULL;
            return SL_BROKER_ERR_NO_MEMORY;
        }

    } else {
        LZ4F_resetDecompressionContext(sl_compress_lz4_dctx);
    }

    if (sl_compress_out_init(&o, pool, len * 4, max) != SL_BROKER_OK) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    src = in;
    last = in + len;

    for ( ;; ) {

        if (o.len == o.cap) {
            grc = sl_compress_out_grow(&o);
            if (grc != SL_BROKER_OK) {
                return grc;
            }
        }

        dst_size = o.cap - o.len;
        src_size = (size_t) (last - src);

        ret = LZ4F_decompress(sl_compress_lz4_dctx, o.data + o.len,
                              &dst_size, src, &src_size, NULL);

        if (LZ4F_isError(ret)) {
            LZ4F_resetDecompressionContext(sl_compress_lz4_dctx);
            return SL_BROKER_ERR_CORRUPT;
        }

        o.len += dst_size;
        src += src_size;

        if (ret == 0 && src == last) {
            break;                        /* the last frame is complete */
        }

        if (src == last && o.len < o.cap) {
            /* everything read, nothing more to write: truncated */
            return SL_BROKER_ERR_CORRUPT;
        }

        if (src_size == 0 && dst_size == 0 && o.len < o.cap) {
            return SL_BROKER_ERR_CORRUPT;
        }
    }

    return sl_compress_out_done(&o, max, out);
}


sl_int_t
sl_compress_lz4_compress(u_char *in, size_t len, sl_int_t level,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log)
{
    u_char               *p;
    size_t                bound, n;
    LZ4F_preferences_t    prefs;

    sl_memzero(&prefs, sizeof(LZ4F_preferences_t));

    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.compressionLevel = (int) ((level > 0) ? level : 0);

    bound = LZ4F_compressFrameBound(len, &prefs);

    p = sl_pnalloc(pool, bound);
    if (p == NULL) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    n = LZ4F_compressFrame(p, bound, in, len, &prefs);
    if (LZ4F_isError(n)) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    out->data = p;
    out->len = n;

    return SL_BROKER_OK;
}


sl_int_t
sl_compress_zstd_decompress(u_char *in, size_t len, size_t max,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log)
{
    size_t               ret, hint;
    sl_int_t             grc;
    ZSTD_inBuffer        ib;
    ZSTD_outBuffer       ob;
    unsigned long long   size;
    sl_compress_out_t    o;

    if (len == 0) {
        return SL_BROKER_ERR_CORRUPT;
    }

    if (sl_compress_zstd_dctx == NULL) {
        sl_compress_zstd_dctx = ZSTD_createDCtx();
        if (sl_compress_zstd_dctx == NULL) {
            return SL_BROKER_ERR_NO_MEMORY;
        }

    } else {
        (void) ZSTD_DCtx_reset(sl_compress_zstd_dctx,
                               ZSTD_reset_session_only);
    }

    /* the announced size is a hint for the first buffer, no more */

    hint = len * 4;
    size = ZSTD_getFrameContentSize(in, len);

    if (size != ZSTD_CONTENTSIZE_UNKNOWN && size != ZSTD_CONTENTSIZE_ERROR
        && size <= max)
    {
        hint = (size_t) size + 1;
    }

    if (sl_compress_out_init(&o, pool, hint, max) != SL_BROKER_OK) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    ib.src = in;
    ib.size = len;
    ib.pos = 0;

    for ( ;; ) {

        if (o.len == o.cap) {
            grc = sl_compress_out_grow(&o);
            if (grc != SL_BROKER_OK) {
                return grc;
            }
        }

        ob.dst = o.data;
        ob.size = o.cap;
        ob.pos = o.len;

        ret = ZSTD_decompressStream(sl_compress_zstd_dctx, &ob, &ib);

        if (ZSTD_isError(ret)) {
            (void) ZSTD_DCtx_reset(sl_compress_zstd_dctx,
                                   ZSTD_reset_session_only);
            return SL_BROKER_ERR_CORRUPT;
        }

        o.len = ob.pos;

        if (ret == 0 && ib.pos == ib.size) {
            break;
        }

        if (ib.pos == ib.size && ob.pos < ob.size) {
            return SL_BROKER_ERR_CORRUPT;
        }
    }

    return sl_compress_out_done(&o, max, out);
}


sl_int_t
sl_compress_zstd_compress(u_char *in, size_t len, sl_int_t level,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log)
{
    u_char  *p;
    size_t   bound, n;

    if (sl_compress_zstd_cctx == NULL) {
        sl_compress_zstd_cctx = ZSTD_createCCtx();
        if (sl_compress_zstd_cctx == NULL) {
            return SL_BROKER_ERR_NO_MEMORY;
        }
    }

    bound = ZSTD_compressBound(len);

    p = sl_pnalloc(pool, bound);
    if (p == NULL) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    n = ZSTD_compressCCtx(sl_compress_zstd_cctx, p, bound, in, len,
                          (int) level);
    if (ZSTD_isError(n)) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    out->data = p;
    out->len = n;

    return SL_BROKER_OK;
}


sl_int_t
sl_compress_level_valid(sl_uint_t codec, sl_int_t level)
{
    if (level == 0) {
        return SL_OK;                     /* the codec's default */
    }

    switch (codec) {

    case SL_BROKER_CODEC_GZIP:
        return (level >= 1 && level <= 9) ? SL_OK : SL_ERROR;

    case SL_BROKER_CODEC_LZ4:
        return (level >= 1 && level <= 17) ? SL_OK : SL_ERROR;

    case SL_BROKER_CODEC_ZSTD:
        return (level >= 1 && level <= ZSTD_maxCLevel()) ? SL_OK : SL_ERROR;

    default:
        return SL_ERROR;
    }
}


void
sl_compress_register(void)
{
    (void) sl_broker_codec_register(SL_BROKER_CODEC_GZIP,
                                    sl_compress_gzip_decompress,
                                    sl_compress_gzip_compress);
    (void) sl_broker_codec_register(SL_BROKER_CODEC_SNAPPY,
                                    sl_compress_snappy_decompress,
                                    sl_compress_snappy_compress);
    (void) sl_broker_codec_register(SL_BROKER_CODEC_LZ4,
                                    sl_compress_lz4_decompress,
                                    sl_compress_lz4_compress);
    (void) sl_broker_codec_register(SL_BROKER_CODEC_ZSTD,
                                    sl_compress_zstd_decompress,
                                    sl_compress_zstd_compress);
}


static sl_int_t
sl_compress_out_init(sl_compress_out_t *o, sl_pool_t *pool, size_t hint,
    size_t max)
{
    o->pool = pool;
    o->len = 0;
    o->limit = (max < SIZE_MAX) ? max + 1 : max;
    o->cap = sl_min(sl_max(hint, SL_COMPRESS_OUT_MIN), o->limit);

    o->data = sl_pnalloc(pool, o->cap);
    if (o->data == NULL) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    return SL_BROKER_OK;
}


static sl_int_t
sl_compress_out_grow(sl_compress_out_t *o)
{
    u_char  *p;
    size_t   cap;

    if (o->cap >= o->limit) {
        return SL_BROKER_ERR_TOO_LARGE;
    }

    cap = (o->cap > o->limit / 2) ? o->limit : o->cap * 2;

    p = sl_pnalloc(o->pool, cap);
    if (p == NULL) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    sl_memcpy(p, o->data, o->len);
    (void) sl_pfree(o->pool, o->data);

    o->data = p;
    o->cap = cap;

    return SL_BROKER_OK;
}


static sl_int_t
sl_compress_out_done(sl_compress_out_t *o, size_t max, sl_str_t *out)
{
    if (o->len > max) {
        return SL_BROKER_ERR_TOO_LARGE;
    }

    out->data = o->data;
    out->len = o->len;

    return SL_BROKER_OK;
}
