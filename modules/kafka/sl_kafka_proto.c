
/*
 * Kafka wire primitives: bounds-checked big-endian readers, classic and
 * compact (flexible) strings, bytes, records and arrays, unsigned
 * varints, tag sections, the request header; and the writer that builds
 * responses as a chain of pool buffers, with file buffers spliced in for
 * records.  The generated codec (sl_kafka_msgs.c) is built on these.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_kafka.h>


#define SL_KAFKA_WR_CHUNK      4096
#define SL_KAFKA_WR_CHUNK_MAX  65536


static sl_int_t sl_kafka_wr_grow(sl_kafka_wr_t *wr, size_t n);
static void sl_kafka_wr_link(sl_kafka_wr_t *wr, sl_chain_t *cl);


void
sl_kafka_rd_init(sl_kafka_rd_t *rd, u_char *p, size_t len, sl_pool_t *pool)
{
    rd->pos = p;
    rd->last = p + len;
    rd->pool = pool;
    rd->failed = 0;
}


static u_char *
sl_kafka_rd_take(sl_kafka_rd_t *rd, size_t n)
{
    u_char  *p;

    if (rd->failed || (size_t) (rd->last - rd->pos) < n) {
        rd->failed = 1;
        rd->pos = rd->last;
        return NULL;
    }

    p = rd->pos;
    rd->pos += n;

    return p;
}


uint8_t
sl_kafka_rd_bool(sl_kafka_rd_t *rd)
{
    u_char  *p;

    p = sl_kafka_rd_take(rd, 1);

    return p ? (*p != 0) : 0;
}


int8_t
sl_kafka_rd_int8(sl_kafka_rd_t *rd)
{
    u_char  *p;

    p = sl_kafka_rd_take(rd, 1);

    return p ? (int8_t) *p : 0;
}


int16_t
sl_kafka_rd_int16(sl_kafka_rd_t *rd)
{
    u_char  *p;

    p = sl_kafka_rd_take(rd, 2);

    return p ? (int16_t) sl_kafka_get16(p) : 0;
}


uint16_t
sl_kafka_rd_uint16(sl_kafka_rd_t *rd)
{
    u_char  *p;

    p = sl_kafka_rd_take(rd, 2);

    return p ? sl_kafka_get16(p) : 0;
}


int32_t
sl_kafka_rd_int32(sl_kafka_rd_t *rd)
{
    u_char  *p;

    p = sl_kafka_rd_take(rd, 4);

    return p ? (int32_t) sl_kafka_get32(p) : 0;
}


int64_t
sl_kafka_rd_int64(sl_kafka_rd_t *rd)
{
    u_char  *p;

    p = sl_kafka_rd_take(rd, 8);

    return p ? (int64_t) sl_kafka_get64(p) : 0;
}


double
sl_kafka_rd_float64(sl_kafka_rd_t *rd)
{
    double    d;
    uint64_t  u;
    u_char   *p;

    p = sl_kafka_rd_take(rd, 8);
    if (p == NULL) {
        return 0;
    }

    u = sl_kafka_get64(p);
    sl_memcpy(&d, &u, sizeof(double));

    return d;
}


uint32_t
sl_kafka_rd_uvarint(sl_kafka_rd_t *rd)
{
    u_char    *p;
    uint32_t   v;
    sl_uint_t  i, shift;

    if (rd->failed) {
        return 0;
    }

    v = 0;
    shift = 0;
    p = rd->pos;

    for (i = 0; i < SL_VARINT_MAX32; i++) {

        if (p == rd->last) {
            break;
        }

        if (i == SL_VARINT_MAX32 - 1 && (*p & 0xf0)) {
            /* more than 32 bits */
            break;
        }

        v |= (uint32_t) (*p & 0x7f) << shift;

        if ((*p++ & 0x80) == 0) {
            rd->pos = p;
            return v;
        }

        shift += 7;
    }

    rd->failed = 1;
    rd->pos = rd->last;

    return 0;
}


void
sl_kafka_rd_uuid(sl_kafka_rd_t *rd, u_char *uuid)
{
    u_char  *p;

    p = sl_kafka_rd_take(rd, 16);

    if (p) {
        sl_memcpy(uuid, p, 16);

    } else {
        sl_memzero(uuid, 16);
    }
}


/* a length: classic int16/int32 (-1 null) or compact uvarint (0 null) */
static int64_t
sl_kafka_rd_len(sl_kafka_rd_t *rd, sl_uint_t flexible, sl_uint_t wide)
{
    if (flexible) {
        return (int64_t) sl_kafka_rd_uvarint(rd) - 1;
    }

    return wide ? sl_kafka_rd_int32(rd) : sl_kafka_rd_int16(rd);
}


static void
sl_kafka_rd_str(sl_kafka_rd_t *rd, sl_uint_t flexible, sl_uint_t wide,
    sl_str_t *s)
{
    int64_t  n;

    s->len = 0;
    s->data = NULL;

    n = sl_kafka_rd_len(rd, flexible, wide);

    if (rd->failed || n < 0) {
        if (n < -1) {
            rd->failed = 1;
        }
        return;
    }

    s->data = sl_kafka_rd_take(rd, (size_t) n);
    s->len = s->data ? (size_t) n : 0;
}


void
sl_kafka_rd_string(sl_kafka_rd_t *rd, sl_uint_t flexible, sl_str_t *s)
{
    sl_kafka_rd_str(rd, flexible, 0, s);
}


void
sl_kafka_rd_bytes(sl_kafka_rd_t *rd, sl_uint_t flexible, sl_str_t *s)
{
    sl_kafka_rd_str(rd, flexible, 1, s);
}


void
sl_kafka_rd_records(sl_kafka_rd_t *rd, sl_uint_t flexible,
    sl_kafka_records_t *r)
{
    sl_str_t  s;

    sl_kafka_rd_str(rd, flexible, 1, &s);

    r->data = s.data;
    r->len = s.len;
    r->chain = NULL;
}


int32_t
sl_kafka_rd_array(sl_kafka_rd_t *rd, sl_uint_t flexible, size_t min_elem)
{
    int64_t  n;

    n = sl_kafka_rd_len(rd, flexible, 1);

    if (rd->failed) {
        return 0;
    }

    if (n < -1
        || (n > 0 && (uint64_t) n > (size_t) (rd->last - rd->pos) / min_elem))
    {
        /* more elements than the bytes left could hold */
        rd->failed = 1;
        rd->pos = rd->last;
        return 0;
    }

    return (int32_t) n;
}


void
sl_kafka_rd_tags(sl_kafka_rd_t *rd)
{
    uint32_t  n, size;

    /* no tagged field is of use here: skip them all */

    n = sl_kafka_rd_uvarint(rd);

    while (n-- && !rd->failed) {
        (void) sl_kafka_rd_uvarint(rd);
        size = sl_kafka_rd_uvarint(rd);
        (void) sl_kafka_rd_take(rd, size);
    }
}


/*
 * Request header v1 (v2 adds tags, which need the API's flexible
 * versions: the caller reads them).  The client id is always a classic
 * nullable string.
 */

sl_int_t
sl_kafka_rd_header(sl_kafka_rd_t *rd, sl_kafka_header_t *h)
{
    h->api_key = sl_kafka_rd_int16(rd);
    h->api_version = sl_kafka_rd_int16(rd);
    h->correlation_id = sl_kafka_rd_int32(rd);
    sl_kafka_rd_string(rd, 0, &h->client_id);

    return rd->failed ? SL_ERROR : SL_OK;
}


void
sl_kafka_wr_init(sl_kafka_wr_t *wr, sl_pool_t *pool, size_t chunk)
{
    wr->pool = pool;
    wr->buf = NULL;
    wr->out = NULL;
    wr->last = &wr->out;
    wr->last_link = NULL;
    wr->size = 0;
    wr->chunk = chunk ? chunk : SL_KAFKA_WR_CHUNK;
    wr->failed = 0;
}


static void
sl_kafka_wr_link(sl_kafka_wr_t *wr, sl_chain_t *cl)
{
    cl->next = NULL;
    *wr->last = cl;
    wr->last = &cl->next;
    wr->last_link = cl;
}


static sl_int_t
sl_kafka_wr_grow(sl_kafka_wr_t *wr, size_t n)
{
    size_t       size;
    sl_buf_t    *b;
    sl_chain_t  *cl;

    size = sl_max(n, wr->chunk);

    b = sl_create_temp_buf(wr->pool, size);
    if (b == NULL) {
        wr->failed = 1;
        return SL_ERROR;
    }

    cl = sl_alloc_chain_link(wr->pool);
    if (cl == NULL) {
        wr->failed = 1;
        return SL_ERROR;
    }

    cl->buf = b;
    sl_kafka_wr_link(wr, cl);
    wr->buf = b;

    if (wr->chunk < SL_KAFKA_WR_CHUNK_MAX) {
        wr->chunk *= 2;
    }

    return SL_OK;
}


u_char *
sl_kafka_wr_reserve(sl_kafka_wr_t *wr, size_t n)
{
    u_char  *p;

    if (wr->failed) {
        return NULL;
    }

    if (wr->buf == NULL || (size_t) (wr->buf->end - wr->buf->last) < n) {
        if (sl_kafka_wr_grow(wr, n) != SL_OK) {
            return NULL;
        }
    }

    p = wr->buf->last;
    wr->buf->last += n;
    wr->size += n;

    return p;
}


void
sl_kafka_wr_bool(sl_kafka_wr_t *wr, uint8_t v)
{
    sl_kafka_wr_int8(wr, v ? 1 : 0);
}


void
sl_kafka_wr_int8(sl_kafka_wr_t *wr, int8_t v)
{
    u_char  *p;

    p = sl_kafka_wr_reserve(wr, 1);
    if (p) {
        *p = (u_char) v;
    }
}


void
sl_kafka_wr_int16(sl_kafka_wr_t *wr, int16_t v)
{
    u_char  *p;

    p = sl_kafka_wr_reserve(wr, 2);
    if (p) {
        sl_kafka_put16(p, (uint16_t) v);
    }
}


void
sl_kafka_wr_uint16(sl_kafka_wr_t *wr, uint16_t v)
{
    sl_kafka_wr_int16(wr, (int16_t) v);
}


void
sl_kafka_wr_int32(sl_kafka_wr_t *wr, int32_t v)
{
    u_char  *p;

    p = sl_kafka_wr_reserve(wr, 4);
    if (p) {
        sl_kafka_put32(p, (uint32_t) v);
    }
}


void
sl_kafka_wr_int64(sl_kafka_wr_t *wr, int64_t v)
{
    u_char  *p;

    p = sl_kafka_wr_reserve(wr, 8);
    if (p) {
        sl_kafka_put64(p, (uint64_t) v);
    }
}


void
sl_kafka_wr_float64(sl_kafka_wr_t *wr, double v)
{
    uint64_t  u;

    sl_memcpy(&u, &v, sizeof(double));
    sl_kafka_wr_int64(wr, (int64_t) u);
}


void
sl_kafka_wr_uvarint(sl_kafka_wr_t *wr, uint32_t v)
{
    u_char  *p;

    if (v < 0x80) {
        p = sl_kafka_wr_reserve(wr, 1);
        if (p) {
            *p = (u_char) v;
        }
        return;
    }

    do {
        p = sl_kafka_wr_reserve(wr, 1);
        if (p == NULL) {
            return;
        }

        *p = (u_char) ((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        v >>= 7;

    } while (v);
}


void
sl_kafka_wr_uuid(sl_kafka_wr_t *wr, u_char *uuid)
{
    sl_kafka_wr_raw(wr, uuid, 16);
}


void
sl_kafka_wr_raw(sl_kafka_wr_t *wr, u_char *p, size_t len)
{
    u_char  *d;

    if (len == 0) {
        return;
    }

    d = sl_kafka_wr_reserve(wr, len);
    if (d) {
        sl_memcpy(d, p, len);
    }
}


static void
sl_kafka_wr_len(sl_kafka_wr_t *wr, sl_uint_t flexible, sl_uint_t wide,
    int64_t n)
{
    if (flexible) {
        sl_kafka_wr_uvarint(wr, (uint32_t) (n + 1));

    } else if (wide) {
        sl_kafka_wr_int32(wr, (int32_t) n);

    } else {
        sl_kafka_wr_int16(wr, (int16_t) n);
    }
}


void
sl_kafka_wr_string(sl_kafka_wr_t *wr, sl_uint_t flexible, sl_uint_t nullable,
    sl_str_t *s)
{
    size_t  len;

    if (s->data == NULL && nullable) {
        sl_kafka_wr_len(wr, flexible, 0, -1);
        return;
    }

    len = s->data ? s->len : 0;

    if (!flexible && len > 32767) {
        /* an int16 length cannot say more */
        len = 32767;
    }

    sl_kafka_wr_len(wr, flexible, 0, len);
    sl_kafka_wr_raw(wr, s->data, len);
}


void
sl_kafka_wr_bytes(sl_kafka_wr_t *wr, sl_uint_t flexible, sl_uint_t nullable,
    sl_str_t *s)
{
    size_t  len;

    if (s->data == NULL && nullable) {
        sl_kafka_wr_len(wr, flexible, 1, -1);
        return;
    }

    len = s->data ? s->len : 0;

    sl_kafka_wr_len(wr, flexible, 1, len);
    sl_kafka_wr_raw(wr, s->data, len);
}


void
sl_kafka_wr_records(sl_kafka_wr_t *wr, sl_uint_t flexible, sl_uint_t nullable,
    sl_kafka_records_t *r)
{
    sl_chain_t  *cl, *ln;

    if (r->chain == NULL) {

        if (r->data == NULL && nullable) {
            sl_kafka_wr_len(wr, flexible, 1, -1);
            return;
        }

        sl_kafka_wr_len(wr, flexible, 1, r->data ? r->len : 0);
        sl_kafka_wr_raw(wr, r->data, r->data ? r->len : 0);
        return;
    }

    sl_kafka_wr_len(wr, flexible, 1, r->len);

    if (wr->failed) {
        return;
    }

    /* splice the file buffers in; the next field starts a new buffer */

    for (cl = r->chain; cl; cl = cl->next) {
        ln = sl_alloc_chain_link(wr->pool);
        if (ln == NULL) {
            wr->failed = 1;
            return;
        }

        ln->buf = cl->buf;
        sl_kafka_wr_link(wr, ln);
    }

    wr->size += r->len;
    wr->buf = NULL;
    wr->chunk = 512;
}


void
sl_kafka_wr_array(sl_kafka_wr_t *wr, sl_uint_t flexible, sl_uint_t nullable,
    int32_t n)
{
    if (n < 0) {
        n = nullable ? -1 : 0;
    }

    sl_kafka_wr_len(wr, flexible, 1, n);
}


void
sl_kafka_wr_tags(sl_kafka_wr_t *wr)
{
    sl_kafka_wr_int8(wr, 0);
}


sl_chain_t *
sl_kafka_wr_finish(sl_kafka_wr_t *wr)
{
    if (wr->failed) {
        return NULL;
    }

    return wr->out;
}
