
/*
 * The record-batch reader and writer (see sl_broker_batch.h) and the
 * codec registry.  The registry is process-wide and filled before the
 * workers start; it holds function pointers only, so the core builds and
 * runs without any compression library.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>
#include <sl_broker_batch.h>


/* the smallest record: length, attributes, two deltas, key, value and
 * header count, one byte each */
#define SL_BROKER_RECORD_MIN        7
#define SL_BROKER_WRITER_MIN        1024
#define SL_BROKER_BATCH_MAX_LEN     ((size_t) 0x7fffffff)


typedef struct {
    sl_broker_decompress_pt  decompress;
    sl_broker_compress_pt    compress;
} sl_broker_codec_t;


static sl_int_t sl_broker_batch_reader_fail(sl_broker_batch_reader_t *rd,
    sl_int_t rc, const char *error);
static sl_int_t sl_broker_batch_headers(sl_broker_batch_reader_t *rd,
    int32_t n);
static size_t sl_broker_bytes_size(sl_broker_bytes_t *b);
static u_char *sl_broker_bytes_write(u_char *p, sl_broker_bytes_t *b);
static sl_int_t sl_broker_batch_reserve(sl_broker_batch_writer_t *w,
    size_t size);


static sl_broker_codec_t  sl_broker_codecs[SL_BROKER_CODEC_N];

static const char  *sl_broker_codec_names[SL_BROKER_CODEC_N] = {
    "none", "gzip", "snappy", "lz4", "zstd"
};

size_t  sl_broker_batch_max_decompressed = SL_BROKER_BATCH_MAX_DECOMPRESSED;


sl_int_t
sl_broker_codec_register(sl_uint_t type, sl_broker_decompress_pt decompress,
    sl_broker_compress_pt compress)
{
    if (type == SL_BROKER_CODEC_NONE || type >= SL_BROKER_CODEC_N) {
        return SL_ERROR;
    }

    sl_broker_codecs[type].decompress = decompress;
    sl_broker_codecs[type].compress = compress;

    return SL_OK;
}


sl_uint_t
sl_broker_codec_available(sl_uint_t type)
{
    if (type == SL_BROKER_CODEC_NONE) {
        return 1;
    }

    if (type >= SL_BROKER_CODEC_N) {
        return 0;
    }

    return sl_broker_codecs[type].decompress != NULL
           && sl_broker_codecs[type].compress != NULL;
}


const char *
sl_broker_codec_name(sl_uint_t type)
{
    if (type >= SL_BROKER_CODEC_N) {
        return "unknown";
    }

    return sl_broker_codec_names[type];
}


sl_int_t
sl_broker_codec_by_name(u_char *name, size_t len)
{
    sl_uint_t  i;

    for (i = 0; i < SL_BROKER_CODEC_N; i++) {
        if (strlen(sl_broker_codec_names[i]) == len
            && sl_strncasecmp(name, (u_char *) sl_broker_codec_names[i], len)
               == 0)
        {
            return (sl_int_t) i;
        }
    }

    return SL_ERROR;
}


sl_int_t
sl_broker_decompress(sl_uint_t type, u_char *in, size_t len, size_t max,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log)
{
    if (type >= SL_BROKER_CODEC_N) {
        return SL_BROKER_ERR_CORRUPT;
    }

    if (type == SL_BROKER_CODEC_NONE) {
        if (len > max && max != 0) {
            return SL_BROKER_ERR_TOO_LARGE;
        }

        out->data = in;
        out->len = len;
        return SL_BROKER_OK;
    }

    if (sl_broker_codecs[type].decompress == NULL) {
        return SL_BROKER_ERR_NO_CODEC;
    }

    if (max == 0) {
        max = sl_broker_batch_max_decompressed;
    }

    return sl_broker_codecs[type].decompress(in, len, max, pool, out, log);
}


sl_int_t
sl_broker_compress(sl_uint_t type, u_char *in, size_t len, sl_int_t level,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log)
{
    if (type >= SL_BROKER_CODEC_N) {
        return SL_BROKER_ERR_INVALID_CONFIG;
    }

    if (type == SL_BROKER_CODEC_NONE) {
        out->data = in;
        out->len = len;
        return SL_BROKER_OK;
    }

    if (sl_broker_codecs[type].compress == NULL) {
        return SL_BROKER_ERR_NO_CODEC;
    }

    return sl_broker_codecs[type].compress(in, len, level, pool, out, log);
}


sl_int_t
sl_broker_batch_open(sl_broker_batch_reader_t *rd, u_char *p, size_t len,
    sl_uint_t check_crc, size_t max_decompressed, sl_pool_t *pool,
    sl_log_t *log)
{
    size_t     total;
    sl_int_t   rc;
    sl_str_t   out;
    sl_uint_t  codec;

    sl_memzero(rd, sizeof(sl_broker_batch_reader_t));

    rd->pool = pool;
    rd->log = log;

    if (check_crc) {
        rc = sl_broker_batch_parse(p, len, &rd->batch);

    } else {
        rc = sl_broker_batch_header(p, len, &rd->batch);
    }

    if (rc != SL_BROKER_OK) {
        return sl_broker_batch_reader_fail(rd, SL_BROKER_ERR_CORRUPT,
                                           "bad batch header or CRC");
    }

    total = SL_BROKER_B_LOG_OVERHEAD + (size_t) rd->batch.length;
    codec = (sl_uint_t) rd->batch.attributes & SL_BROKER_BATCH_CODEC_MASK;
    rd->codec = codec;

    if (codec >= SL_BROKER_CODEC_N) {
        return sl_broker_batch_reader_fail(rd, SL_BROKER_ERR_CORRUPT,
                                           "unknown compression type");
    }

    if (max_decompressed == 0) {
        max_decompressed = sl_broker_batch_max_decompressed;
    }

    rc = sl_broker_decompress(codec, p + SL_BROKER_BATCH_HEADER_SIZE,
                              total - SL_BROKER_BATCH_HEADER_SIZE,
                              codec ? max_decompressed : 0, pool, &out, log);

    switch (rc) {

    case SL_BROKER_OK:
        break;

    case SL_BROKER_ERR_NO_CODEC:
        return sl_broker_batch_reader_fail(rd, rc,
                              "compressed batch: no codec for its type "
                              "(the compress module is not built in)");

    case SL_BROKER_ERR_TOO_LARGE:
        return sl_broker_batch_reader_fail(rd, rc,
                              "decompressed batch larger than "
                              "max_decompressed_batch_bytes");

    case SL_BROKER_ERR_NO_MEMORY:
        return sl_broker_batch_reader_fail(rd, rc, "out of memory");

    default:
        return sl_broker_batch_reader_fail(rd, SL_BROKER_ERR_CORRUPT,
                                           "corrupt compressed records");
    }

    rd->records = out.data;
    rd->records_len = out.len;
    rd->pos = out.data;
    rd->last = out.data + out.len;

    if ((size_t) rd->batch.records_count
        > out.len / SL_BROKER_RECORD_MIN)
    {
        return sl_broker_batch_reader_fail(rd, SL_BROKER_ERR_CORRUPT,
                                           "records_count beyond the batch");
    }

    return SL_BROKER_OK;
}


sl_int_t
sl_broker_batch_next(sl_broker_batch_reader_t *rd,
    sl_broker_batch_record_t *r)
{
    u_char              *p, *end;
    int32_t              len, n, i;
    sl_broker_header_t  *h;

    p = rd->pos;

    if (rd->index == rd->batch.records_count) {
        if (p != rd->last) {
            return sl_broker_batch_reader_fail(rd, SL_BROKER_ERR_CORRUPT,
                                           "bytes after the last record");
        }

        return SL_DONE;
    }

    if (p == NULL || p == rd->last) {
        return sl_broker_batch_reader_fail(rd, SL_BROKER_ERR_CORRUPT,
                                           "fewer records than counted");
    }

    r->raw = p;

    p = sl_varint_read_s32(p, rd->last, &len);
    if (p == NULL || len <= 0 || len > rd->last - p) {
        goto corrupt;
    }

    end = p + len;

    p++;                             /* attributes: unused */

    p = sl_varint_read_s64(p, end, &r->timestamp_delta);
    if (p == NULL) {
        goto corrupt;
    }

    p = sl_varint_read_s32(p, end, &r->offset_delta);
    if (p == NULL || r->offset_delta < 0) {
        goto corrupt;
    }

    p = sl_varint_read_s32(p, end, &r->key.len);
    if (p == NULL || r->key.len < -1 || r->key.len > end - p) {
        goto corrupt;
    }

    r->key.data = (r->key.len >= 0) ? p : NULL;
    p += (r->key.len > 0) ? r->key.len : 0;

    p = sl_varint_read_s32(p, end, &r->value.len);
    if (p == NULL || r->value.len < -1 || r->value.len > end - p) {
        goto corrupt;
    }

    r->value.data = (r->value.len >= 0) ? p : NULL;
    p += (r->value.len > 0) ? r->value.len : 0;

    p = sl_varint_read_s32(p, end, &n);

    /* a header takes two bytes at least */

    if (p == NULL || n < 0 || n > (end - p) / 2) {
        goto corrupt;
    }

    if (sl_broker_batch_headers(rd, n) != SL_OK) {
        return sl_broker_batch_reader_fail(rd, SL_BROKER_ERR_NO_MEMORY,
                                           "out of memory");
    }

    for (i = 0; i < n; i++) {
        h = &rd->headers[i];

        p = sl_varint_read_s32(p, end, &h->key.len);
        if (p == NULL || h->key.len < 0 || h->key.len > end - p) {
            goto corrupt;
        }

        h->key.data = p;
        p += h->key.len;

        p = sl_varint_read_s32(p, end, &h->value.len);
        if (p == NULL || h->value.len < -1 || h->value.len > end - p) {
            goto corrupt;
        }

        h->value.data = (h->value.len >= 0) ? p : NULL;
        p += (h->value.len > 0) ? h->value.len : 0;
    }

    if (p != end) {
        goto corrupt;
    }

    r->headers = rd->headers;
    r->nheaders = (sl_uint_t) n;
    r->raw_len = (size_t) (end - r->raw);

    if (rd->batch.attributes & SL_BROKER_BATCH_APPEND_TIME) {
        r->timestamp = rd->batch.max_timestamp;

    } else {
        /* wraps instead of overflowing on hostile deltas */
        r->timestamp = (int64_t) ((uint64_t) rd->batch.first_timestamp
                                  + (uint64_t) r->timestamp_delta);
    }

    rd->pos = end;
    rd->index++;

    return SL_OK;

corrupt:

    return sl_broker_batch_reader_fail(rd, SL_BROKER_ERR_CORRUPT,
                                       "corrupt record");
}


static sl_int_t
sl_broker_batch_reader_fail(sl_broker_batch_reader_t *rd, sl_int_t rc,
    const char *error)
{
    rd->error = error;

    /* a failed reader stays failed */
    rd->pos = NULL;
    rd->last = NULL;
    rd->index = -1;

    return rc;
}


static sl_int_t
sl_broker_batch_headers(sl_broker_batch_reader_t *rd, int32_t n)
{
    sl_uint_t            want;
    sl_broker_header_t  *h;

    if ((sl_uint_t) n <= rd->nalloc) {
        return SL_OK;
    }

    want = sl_max((sl_uint_t) n, 2 * rd->nalloc);
    want = sl_max(want, 8);

    h = sl_palloc(rd->pool, want * sizeof(sl_broker_header_t));
    if (h == NULL) {
        return SL_ERROR;
    }

    if (rd->headers != NULL) {
        (void) sl_pfree(rd->pool, rd->headers);
    }

    rd->headers = h;
    rd->nalloc = want;

    return SL_OK;
}


void
sl_broker_batch_writer_init(sl_broker_batch_writer_t *w, sl_pool_t *pool,
    sl_log_t *log)
{
    sl_memzero(w, sizeof(sl_broker_batch_writer_t));

    w->leader_epoch = -1;
    w->producer_id = -1;
    w->producer_epoch = -1;
    w->base_sequence = -1;
    w->last_delta = -1;
    w->max_timestamp = -1;
    w->pool = pool;
    w->log = log;
}


void
sl_broker_batch_writer_from(sl_broker_batch_writer_t *w,
    sl_broker_batch_t *b)
{
    w->attributes = b->attributes;
    w->leader_epoch = b->leader_epoch;
    w->producer_id = b->producer_id;
    w->producer_epoch = b->producer_epoch;
    w->base_sequence = b->base_sequence;
    w->first_timestamp = b->first_timestamp;
    w->first_timestamp_set = 1;
}


sl_int_t
sl_broker_batch_add(sl_broker_batch_writer_t *w, sl_broker_batch_record_t *r)
{
    u_char              *p;
    size_t               body, size;
    int64_t              ts_delta;
    int32_t              delta;
    sl_uint_t            i;
    sl_broker_header_t  *h;

    if (w->count == INT32_MAX
        || r->key.len < -1 || r->value.len < -1
        || (r->nheaders > 0 && r->headers == NULL)
        || r->nheaders > INT32_MAX)
    {
        return SL_BROKER_ERR_INVALID_RECORD;
    }

    if (w->keep_deltas) {
        delta = r->offset_delta;

        if (delta <= w->last_delta) {
            return SL_BROKER_ERR_INVALID_RECORD;
        }

    } else {
        delta = w->count;
    }

    if (!w->first_timestamp_set) {
        w->first_timestamp = r->timestamp;
        w->first_timestamp_set = 1;
    }

    ts_delta = (int64_t) ((uint64_t) r->timestamp
                          - (uint64_t) w->first_timestamp);

    body = 1 + sl_varint_size_s64(ts_delta) + sl_varint_size_s64(delta)
           + sl_broker_bytes_size(&r->key) + sl_broker_bytes_size(&r->value)
           + sl_varint_size_s64((int64_t) r->nheaders);

    for (i = 0; i < r->nheaders; i++) {
        h = &r->headers[i];

        if (h->key.len < 0 || h->value.len < -1) {
            return SL_BROKER_ERR_INVALID_RECORD;
        }

        body += sl_broker_bytes_size(&h->key)
                + sl_broker_bytes_size(&h->value);

        if (body > SL_BROKER_BATCH_MAX_LEN) {
            return SL_BROKER_ERR_TOO_LARGE;
        }
    }

    if (body > SL_BROKER_BATCH_MAX_LEN) {
        return SL_BROKER_ERR_TOO_LARGE;
    }

    size = sl_varint_size_s64((int64_t) body) + body;

    if (sl_broker_batch_reserve(w, size) != SL_OK) {
        return SL_BROKER_ERR_TOO_LARGE;
    }

    p = w->pos;

    p = sl_varint_write_s64(p, (int64_t) body);
    *p++ = 0;
    p = sl_varint_write_s64(p, ts_delta);
    p = sl_varint_write_s32(p, delta);
    p = sl_broker_bytes_write(p, &r->key);
    p = sl_broker_bytes_write(p, &r->value);
    p = sl_varint_write_s32(p, (int32_t) r->nheaders);

    for (i = 0; i < r->nheaders; i++) {
        p = sl_broker_bytes_write(p, &r->headers[i].key);
        p = sl_broker_bytes_write(p, &r->headers[i].value);
    }

    w->pos = p;
    w->count++;
    w->last_delta = delta;

    if (w->count == 1 || r->timestamp > w->max_timestamp) {
        w->max_timestamp = r->timestamp;
    }

    return SL_BROKER_OK;
}


static size_t
sl_broker_bytes_size(sl_broker_bytes_t *b)
{
    if (b->len < 0) {
        return 1;
    }

    return sl_varint_size_s64(b->len) + (size_t) b->len;
}


static u_char *
sl_broker_bytes_write(u_char *p, sl_broker_bytes_t *b)
{
    if (b->len < 0) {
        return sl_varint_write_s32(p, -1);
    }

    p = sl_varint_write_s32(p, b->len);

    if (b->len > 0) {
        p = sl_cpymem(p, b->data, (size_t) b->len);
    }

    return p;
}


static sl_int_t
sl_broker_batch_reserve(sl_broker_batch_writer_t *w, size_t size)
{
    u_char  *p;
    size_t   used, cap, want;

    if ((size_t) (w->end - w->pos) >= size) {
        return SL_OK;
    }

    used = (size_t) (w->pos - w->start);
    cap = (size_t) (w->end - w->start);

    if (size > SL_BROKER_BATCH_MAX_LEN - used) {
        return SL_ERROR;
    }

    want = sl_max(2 * cap, used + size);
    want = sl_max(want, SL_BROKER_WRITER_MIN);

    p = sl_pnalloc(w->pool, want);
    if (p == NULL) {
        return SL_ERROR;
    }

    if (used) {
        sl_memcpy(p, w->start, used);
    }

    if (w->start != NULL) {
        (void) sl_pfree(w->pool, w->start);
    }

    w->start = p;
    w->pos = p + used;
    w->end = p + want;

    return SL_OK;
}


sl_int_t
sl_broker_batch_finish(sl_broker_batch_writer_t *w, sl_str_t *out)
{
    u_char     *b;
    size_t      total;
    sl_int_t    rc;
    sl_str_t    payload;
    sl_uint_t   codec;

    if (w->count == 0) {
        out->data = NULL;
        out->len = 0;
        return SL_BROKER_OK;
    }

    codec = (sl_uint_t) w->attributes & SL_BROKER_BATCH_CODEC_MASK;

    rc = sl_broker_compress(codec, w->start, (size_t) (w->pos - w->start),
                            w->level, w->pool, &payload, w->log);
    if (rc != SL_BROKER_OK) {
        return rc;
    }

    if (payload.len > SL_BROKER_BATCH_MAX_LEN - SL_BROKER_BATCH_HEADER_SIZE) {
        return SL_BROKER_ERR_TOO_LARGE;
    }

    total = SL_BROKER_BATCH_HEADER_SIZE + payload.len;

    b = sl_pnalloc(w->pool, total);
    if (b == NULL) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    sl_broker_put64(b, (uint64_t) w->base_offset);
    sl_broker_put32(b + SL_BROKER_B_LENGTH,
                    (uint32_t) (total - SL_BROKER_B_LOG_OVERHEAD));
    sl_broker_put32(b + SL_BROKER_B_EPOCH, (uint32_t) w->leader_epoch);
    b[SL_BROKER_B_MAGIC] = 2;
    sl_broker_put16(b + SL_BROKER_B_ATTRIBUTES, (uint16_t) w->attributes);
    sl_broker_put32(b + SL_BROKER_B_LAST_DELTA, (uint32_t) w->last_delta);
    sl_broker_put64(b + SL_BROKER_B_FIRST_TS, (uint64_t) w->first_timestamp);
    sl_broker_put64(b + SL_BROKER_B_MAX_TS, (uint64_t) w->max_timestamp);
    sl_broker_put64(b + SL_BROKER_B_PRODUCER_ID, (uint64_t) w->producer_id);
    sl_broker_put16(b + SL_BROKER_B_PRODUCER_ID + 8,
                    (uint16_t) w->producer_epoch);
    sl_broker_put32(b + SL_BROKER_B_PRODUCER_ID + 10,
                    (uint32_t) w->base_sequence);
    sl_broker_put32(b + SL_BROKER_B_COUNT, (uint32_t) w->count);

    sl_memcpy(b + SL_BROKER_BATCH_HEADER_SIZE, payload.data, payload.len);

    sl_broker_batch_set_crc(b, total);

    out->data = b;
    out->len = total;

    return SL_BROKER_OK;
}


sl_int_t
sl_broker_batch_recompress(u_char *p, size_t len, sl_uint_t codec,
    sl_int_t level, size_t max_decompressed, sl_pool_t *pool, sl_str_t *out,
    const char **error, sl_log_t *log)
{
    u_char                    *b;
    size_t                     total;
    sl_int_t                   rc;
    uint16_t                   attributes;
    sl_str_t                   payload;
    sl_broker_batch_record_t   r;
    sl_broker_batch_reader_t   rd;

    *error = NULL;

    if (codec >= SL_BROKER_CODEC_N) {
        *error = "unknown compression type";
        return SL_BROKER_ERR_INVALID_CONFIG;
    }

    rc = sl_broker_batch_open(&rd, p, len, 0, max_decompressed, pool, log);
    if (rc != SL_BROKER_OK) {
        *error = rd.error;
        return rc;
    }

    for ( ;; ) {
        rc = sl_broker_batch_next(&rd, &r);

        if (rc == SL_DONE) {
            break;
        }

        if (rc != SL_OK) {
            *error = rd.error;
            return rc;
        }
    }

    rc = sl_broker_compress(codec, rd.records, rd.records_len, level, pool,
                            &payload, log);
    if (rc != SL_BROKER_OK) {
        *error = (rc == SL_BROKER_ERR_NO_CODEC) ? "no codec for the type"
                                                : "compression failed";
        return rc;
    }

    if (payload.len > SL_BROKER_BATCH_MAX_LEN - SL_BROKER_BATCH_HEADER_SIZE) {
        *error = "batch too large";
        return SL_BROKER_ERR_TOO_LARGE;
    }

    total = SL_BROKER_BATCH_HEADER_SIZE + payload.len;

    b = sl_pnalloc(pool, total);
    if (b == NULL) {
        *error = "out of memory";
        return SL_BROKER_ERR_NO_MEMORY;
    }

    sl_memcpy(b, p, SL_BROKER_BATCH_HEADER_SIZE);
    sl_memcpy(b + SL_BROKER_BATCH_HEADER_SIZE, payload.data, payload.len);

    attributes = (uint16_t) rd.batch.attributes;
    attributes &= (uint16_t) ~SL_BROKER_BATCH_CODEC_MASK;
    attributes |= (uint16_t) codec;

    sl_broker_put32(b + SL_BROKER_B_LENGTH,
                    (uint32_t) (total - SL_BROKER_B_LOG_OVERHEAD));
    sl_broker_put16(b + SL_BROKER_B_ATTRIBUTES, attributes);

    sl_broker_batch_set_crc(b, total);

    out->data = b;
    out->len = total;

    return SL_BROKER_OK;
}
