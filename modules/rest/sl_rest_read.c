
/*
 * Reading records over HTTP: the pieces that consumer instances and
 * streams share (walking a partition's records, a record as JSON, and
 * waiters woken by the doorbell after appends), the browse endpoint
 * and Server-Sent Events.
 */

#include <sl_config.h>
#include <sl_core.h>
#include <sl_event.h>
#include <sl_http.h>
#include <sl_broker.h>
#include <sl_broker_batch.h>
#include <sl_rest.h>


#define SL_REST_BROWSE_LIMIT      100
#define SL_REST_BROWSE_MAX        1000
#define SL_REST_BROWSE_MAX_BYTES  (4 * 1024 * 1024)

/* a stream's chunk of events: this much (more for one huge record),
 * and it reads the log this much at a time */
#define SL_REST_SSE_CHUNK         (64 * 1024)
/* ... but finishing a batch it began, up to this */
#define SL_REST_SSE_CHUNK_MAX     (1024 * 1024)
/* room before the data for the chunk-size line */
#define SL_REST_SSE_HEAD          (16 + 2)
/* chunks written per run before other connections get their turn */
#define SL_REST_SSE_ROUNDS        16
#define SL_REST_SSE_KEEPALIVE     15000


typedef struct {
    sl_rest_req_t           *rq;
    sl_uint_t                format;
    size_t                   bytes;         /* of the records taken */
    int64_t                  min_ts;        /* by time: skip earlier */
    int64_t                  limit;
    json_t                  *data;
} sl_rest_browse_t;


typedef struct {
    sl_rest_req_t           *rq;
    sl_http_request_t       *r;

    sl_str_t                 topic;         /* a copy of the name */
    sl_broker_topic_t       *tp;            /* as found at the start */
    int32_t                  partition;     /* -1: every partition */
    sl_uint_t                format;

    int64_t                 *next;          /* per partition (malloc) */
    sl_uint_t                nnext;
    sl_uint_t                rr;            /* next partition to read */
    sl_uint_t                cur;           /* being read */

    sl_rest_waiter_t         waiter;
    sl_event_t               keepalive;
    sl_event_t               resume;        /* posted: more to send */
    sl_msec_t                keepalive_ms;

    u_char                  *buf;           /* malloc; freed when idle */
    size_t                   size;
    u_char                  *pos;           /* pending output */
    u_char                  *last;

    unsigned                 ka:1;          /* a keepalive comment due */
    unsigned                 closed:1;
} sl_rest_sse_t;


static json_t *sl_rest_bytes_fmt(json_t *o, const char *name,
    const char *enc, sl_broker_bytes_t *b, sl_uint_t format);
static void sl_rest_doorbell(sl_cycle_t *cycle, void *data);

static sl_int_t sl_rest_read_format(sl_rest_req_t *rq, sl_uint_t *format);
static sl_int_t sl_rest_browse(sl_rest_req_t *rq);
static sl_int_t sl_rest_browse_record(void *data,
    sl_broker_partition_t *part, int64_t offset,
    sl_broker_batch_record_t *rec);

static sl_int_t sl_rest_sse_partition(sl_rest_req_t *rq);
static sl_int_t sl_rest_sse_topic(sl_rest_req_t *rq);
static sl_int_t sl_rest_sse_start(sl_rest_req_t *rq, sl_broker_topic_t *tp,
    int32_t partition);
static sl_int_t sl_rest_sse_position(sl_rest_sse_t *ctx);
static sl_int_t sl_rest_sse_resize(sl_rest_sse_t *ctx, sl_uint_t n);
static void sl_rest_sse_run(sl_rest_sse_t *ctx);
static sl_int_t sl_rest_sse_flush(sl_rest_sse_t *ctx);
static sl_int_t sl_rest_sse_fill(sl_rest_sse_t *ctx);
static sl_int_t sl_rest_sse_pending(sl_rest_sse_t *ctx);
static sl_int_t sl_rest_sse_record(void *data, sl_broker_partition_t *part,
    int64_t offset, sl_broker_batch_record_t *rec);
static u_char *sl_rest_sse_reserve(sl_rest_sse_t *ctx, size_t n);
static void sl_rest_sse_close(sl_rest_sse_t *ctx);
static void sl_rest_sse_wake(sl_rest_waiter_t *w);
static void sl_rest_sse_keepalive(sl_event_t *ev);
static void sl_rest_sse_resume(sl_event_t *ev);
static void sl_rest_sse_read(sl_http_request_t *r);
static void sl_rest_sse_write(sl_http_request_t *r);
static void sl_rest_sse_cleanup(void *data);


static sl_queue_t   sl_rest_waiters;
static sl_uint_t    sl_rest_waiters_init;


sl_rest_route_t  sl_rest_read_routes[] = {

    { SL_HTTP_GET, "/v3/clusters/{}/topics/{}/partitions/{}/records",
      SL_REST_V3, SL_REST_BODY_NONE, sl_rest_browse },

    { SL_HTTP_GET, "/v3/clusters/{}/topics/{}/partitions/{}/events",
      SL_REST_V3, SL_REST_BODY_NONE, sl_rest_sse_partition },

    { SL_HTTP_GET, "/v3/clusters/{}/topics/{}/events",
      SL_REST_V3, SL_REST_BODY_NONE, sl_rest_sse_topic },

    { 0, NULL, 0, 0, NULL }
};


sl_int_t
sl_rest_fetch(sl_pool_t *pool, sl_log_t *log, sl_broker_partition_t *part,
    int64_t offset, size_t max_bytes, sl_uint_t max_records,
    sl_rest_record_pt handler, void *data, int64_t *next)
{
    u_char                    *p, *end;
    size_t                     blen, bytes;
    int64_t                    base, last, o;
    sl_int_t                   rc, hrc;
    sl_uint_t                  count;
    sl_broker_read_t           rd;
    sl_broker_batch_record_t   rec;
    sl_broker_batch_reader_t   br;

    *next = offset;

    rc = sl_broker_log_read(part, offset, max_bytes ? max_bytes : 1, &rd,
                            log);
    if (rc != SL_BROKER_OK) {
        return rc;
    }

    if (rd.len == 0) {
        /* at the end, or nothing left before it (compacted away) */
        if (offset < rd.high_watermark) {
            *next = rd.high_watermark;
        }

        return SL_OK;
    }

    if (rd.mem == NULL) {
        return SL_BROKER_ERR_STORAGE;
    }

    p = rd.mem;
    end = p + rd.len;
    bytes = 0;
    count = 0;
    rc = SL_OK;

    while (end - p >= SL_BROKER_BATCH_HEADER_SIZE) {

        blen = 12 + (size_t) ((uint32_t) p[8] << 24 | (uint32_t) p[9] << 16
                              | (uint32_t) p[10] << 8 | (uint32_t) p[11]);

        if (blen < SL_BROKER_BATCH_HEADER_SIZE || blen > (size_t) (end - p)) {
            sl_log_error(SL_LOG_ERR, log, 0,
                         "rest: bad batch length in \"%.*s-%d\" at %lld",
                         SL_STR_ARG(&part->topic->name), (int) part->id,
                         (long long) *next);
            rc = SL_BROKER_ERR_CORRUPT;
            break;
        }

        rc = sl_broker_batch_open(&br, p, blen, 0, 0, pool, log);
        if (rc != SL_BROKER_OK) {
            sl_log_error(SL_LOG_ERR, log, 0,
                         "rest: cannot open a batch of \"%.*s-%d\": %s",
                         SL_STR_ARG(&part->topic->name), (int) part->id,
                         br.error ? br.error : "error");
            break;
        }

        base = br.batch.base_offset;
        last = base + br.batch.last_offset_delta;

        if ((br.batch.attributes & SL_BROKER_BATCH_CONTROL) || last < offset)
        {
            if (last + 1 > *next) {
                *next = last + 1;
            }

            p += blen;
            continue;
        }

        for ( ;; ) {
            rc = sl_broker_batch_next(&br, &rec);

            if (rc != SL_OK) {
                break;
            }

            o = base + rec.offset_delta;

            if (o < offset) {
                continue;
            }

            hrc = handler(data, part, o, &rec);

            if (hrc == SL_DECLINED) {
                /* not taken: the next read starts at it */
                *next = o;
                rc = SL_OK;
                goto done;
            }

            if (hrc == SL_ERROR) {
                rc = SL_ERROR;
                goto done;
            }

            *next = o + 1;
            bytes += rec.raw_len;
            count++;

            if (hrc == SL_DONE
                || (max_records && count >= max_records))
            {
                rc = SL_OK;
                goto done;
            }
        }

        if (rc != SL_DONE) {
            sl_log_error(SL_LOG_ERR, log, 0,
                         "rest: bad record in \"%.*s-%d\" batch %lld: %s",
                         SL_STR_ARG(&part->topic->name), (int) part->id,
                         (long long) base, br.error ? br.error : "error");
            break;
        }

        rc = SL_OK;

        if (last + 1 > *next) {
            *next = last + 1;
        }

        p += blen;
    }

done:

    if (count) {
        sl_broker_count_out(part, bytes, count);
    }

    return rc;
}


/*
 * Bytes by format into o[name]: string and json fall back to a string,
 * then to base64 marked with enc ("key_encoding": "base64").
 */
static json_t *
sl_rest_bytes_fmt(json_t *o, const char *name, const char *enc,
    sl_broker_bytes_t *b, sl_uint_t format)
{
    json_t  *v;

    v = sl_rest_bytes_json(b, format);

    if (v == NULL && format == SL_REST_FMT_JSON) {
        v = sl_rest_bytes_json(b, SL_REST_FMT_STRING);
    }

    if (v == NULL && format != SL_REST_FMT_BINARY) {
        v = sl_rest_bytes_json(b, SL_REST_FMT_BINARY);

        if (v && enc) {
            if (json_object_set_new(o, enc, json_string("base64")) != 0) {
                json_decref(v);
                return NULL;
            }
        }
    }

    if (v == NULL) {
        return NULL;
    }

    if (json_object_set_new(o, name, v) != 0) {
        return NULL;
    }

    return o;
}


json_t *
sl_rest_record_json(sl_broker_partition_t *part, int64_t offset,
    sl_broker_batch_record_t *rec, sl_uint_t format)
{
    json_t              *o, *hs, *h;
    sl_uint_t            i, hfmt;
    sl_broker_bytes_t    key;

    o = json_pack("{s:s%,s:i,s:I,s:I}",
                  "topic", (char *) part->topic->name.data,
                  part->topic->name.len,
                  "partition", (int) part->id,
                  "offset", (json_int_t) offset,
                  "timestamp", (json_int_t) rec->timestamp);
    if (o == NULL) {
        return NULL;
    }

    if (sl_rest_bytes_fmt(o, "key", "key_encoding", &rec->key, format)
        == NULL
        || sl_rest_bytes_fmt(o, "value", "value_encoding", &rec->value,
                             format)
           == NULL)
    {
        goto failed;
    }

    hs = json_array();
    if (hs == NULL || json_object_set_new(o, "headers", hs) != 0) {
        goto failed;
    }

    hfmt = (format == SL_REST_FMT_BINARY) ? SL_REST_FMT_BINARY
                                          : SL_REST_FMT_STRING;

    for (i = 0; i < rec->nheaders; i++) {
        h = json_object();
        if (h == NULL || json_array_append_new(hs, h) != 0) {
            goto failed;
        }

        key = rec->headers[i].key;

        if (sl_rest_bytes_fmt(h, "key", "key_encoding", &key,
                              SL_REST_FMT_STRING)
            == NULL
            || sl_rest_bytes_fmt(h, "value", "encoding",
                                 &rec->headers[i].value, hfmt)
               == NULL)
        {
            goto failed;
        }
    }

    return o;

failed:

    json_decref(o);
    return NULL;
}


/*
 * Waiters: one queue per worker and one doorbell handler, registered
 * with the first waiter (in the worker, never in the master).  Each
 * waiter parks the doorbell, so an append in any worker, this one too
 * (the doorbell posts an event for the ringing worker's own waiters),
 * wakes them.
 */

void
sl_rest_wait(sl_rest_waiter_t *w)
{
    if (w->waiting) {
        return;
    }

    if (!sl_rest_waiters_init) {
        sl_queue_init(&sl_rest_waiters);

        if (sl_event_doorbell_add(sl_rest_doorbell, NULL) != SL_OK) {
            sl_log_error(SL_LOG_ALERT, sl_cycle->log, 0,
                         "rest: no room for the doorbell handler");
        }

        sl_rest_waiters_init = 1;
    }

    sl_event_doorbell_park();

    w->waiting = 1;
    sl_queue_insert_tail(&sl_rest_waiters, &w->queue);
}


void
sl_rest_wait_cancel(sl_rest_waiter_t *w)
{
    if (!w->waiting) {
        return;
    }

    w->waiting = 0;
    sl_queue_remove(&w->queue);
    sl_event_doorbell_unpark();
}


static void
sl_rest_doorbell(sl_cycle_t *cycle, void *data)
{
    sl_queue_t         ready, *q;
    sl_rest_waiter_t  *w;

    if (!sl_rest_waiters_init || sl_queue_empty(&sl_rest_waiters)) {
        return;
    }

    /*
     * Take every waiter off first: a handler may wait again (into the
     * main queue, not this round) or cancel others (from either queue).
     */

    sl_queue_init(&ready);

    while (!sl_queue_empty(&sl_rest_waiters)) {
        q = sl_queue_head(&sl_rest_waiters);
        sl_queue_remove(q);
        sl_queue_insert_tail(&ready, q);
    }

    while (!sl_queue_empty(&ready)) {
        q = sl_queue_head(&ready);
        w = sl_queue_data(q, sl_rest_waiter_t, queue);

        sl_rest_wait_cancel(w);

        w->handler(w);
    }
}


static sl_int_t
sl_rest_read_format(sl_rest_req_t *rq, sl_uint_t *format)
{
    sl_str_t  v;

    *format = SL_REST_FMT_STRING;

    if (sl_rest_arg(rq, "format", &v) != SL_OK || v.len == 0) {
        return SL_OK;
    }

    if (v.len == 6 && sl_strncasecmp(v.data, (u_char *) "string", 6) == 0) {
        return SL_OK;
    }

    if (v.len == 4 && sl_strncasecmp(v.data, (u_char *) "json", 4) == 0) {
        *format = SL_REST_FMT_JSON;
        return SL_OK;
    }

    if (v.len == 6 && sl_strncasecmp(v.data, (u_char *) "binary", 6) == 0) {
        *format = SL_REST_FMT_BINARY;
        return SL_OK;
    }

    (void) sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                         "Unknown format: string, json or binary expected");

    return SL_DECLINED;
}


/*
 * GET /v3/clusters/{cid}/topics/{t}/partitions/{p}/records
 *     ?offset=N | timestamp=MS, limit=K, format=string|json|binary
 */

static sl_int_t
sl_rest_browse(sl_rest_req_t *rq)
{
    int64_t                 offset, ts, limit, next, start, hw, t;
    sl_int_t                rc;
    sl_uint_t               format;
    sl_pool_t              *pool;
    sl_rest_browse_t        br;
    sl_broker_topic_t      *topic;
    sl_broker_partition_t  *part;
    json_t                 *j;

    if (sl_rest_cluster_check(rq) != SL_OK
        || sl_rest_read_format(rq, &format) != SL_OK)
    {
        return rq->rc;
    }

    topic = sl_rest_topic(rq, &rq->params[1]);
    if (topic == NULL) {
        return rq->rc;
    }

    part = sl_rest_partition(rq, topic, &rq->params[2]);
    if (part == NULL) {
        return rq->rc;
    }

    limit = SL_REST_BROWSE_LIMIT;

    rc = sl_rest_arg_int(rq, "limit", &limit);
    if (rc == SL_ERROR || limit < 1) {
        return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                             "limit: a positive integer expected");
    }

    limit = sl_min(limit, SL_REST_BROWSE_MAX);

    start = sl_atomic_load(&part->log_start_offset);
    hw = sl_atomic_load(&part->high_watermark);

    offset = start;
    br.min_ts = -1;

    rc = sl_rest_arg_int(rq, "timestamp", &ts);

    if (rc == SL_ERROR || (rc == SL_OK && ts < 0)) {
        return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                             "timestamp: milliseconds since the epoch "
                             "expected");
    }

    if (rc == SL_OK) {
        rc = sl_broker_log_offset_for_time(part, ts, &offset, &t,
                                           rq->r->connection->log);
        if (rc != SL_BROKER_OK) {
            return sl_rest_broker_error(rq, rc, "timestamp");
        }

        if (offset < 0) {
            /* nothing that late yet */
            offset = hw;
        }

        /* the offset may be its batch's: the records before ts go */
        br.min_ts = ts;

    } else {
        rc = sl_rest_arg_int(rq, "offset", &offset);

        if (rc == SL_ERROR) {
            return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                                 "offset: an integer expected");
        }

        if (rc == SL_DECLINED) {
            offset = start;
        }
    }

    if (offset < start) {
        offset = start;
    }

    if (offset > hw) {
        offset = hw;
    }

    br.rq = rq;
    br.format = format;
    br.limit = limit;
    br.data = json_array();

    if (br.data == NULL) {
        return sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR, 0,
                             "Out of memory");
    }

    br.bytes = 0;
    next = offset;

    while ((int64_t) json_array_size(br.data) < limit
           && br.bytes < SL_REST_BROWSE_MAX_BYTES)
    {
        pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, rq->r->connection->log);
        if (pool == NULL) {
            json_decref(br.data);
            return SL_ERROR;
        }

        /* no record limit here: the records skipped by time would count
         * (and a large compressed batch be opened again per record);
         * the handler stops at the limit */
        rc = sl_rest_fetch(pool, rq->r->connection->log, part, offset,
                           SL_REST_BROWSE_MAX_BYTES - br.bytes, 0,
                           sl_rest_browse_record, &br, &next);

        sl_destroy_pool(pool);

        if (rc == SL_BROKER_ERR_OUT_OF_RANGE && offset != next) {
            rc = SL_OK;
        }

        if (rc != SL_OK) {
            json_decref(br.data);

            if (rc == SL_ERROR) {
                return sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR, 0,
                                     "Out of memory");
            }

            return sl_rest_broker_error(rq, rc, "records");
        }

        if (next <= offset) {
            break;
        }

        offset = next;
    }

    j = json_pack("{s:s,s:o,s:I}", "kind", "KafkaRecordList",
                  "data", br.data, "next_offset", (json_int_t) next);

    if (j == NULL) {
        return sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR, 0,
                             "Out of memory");
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


static sl_int_t
sl_rest_browse_record(void *data, sl_broker_partition_t *part,
    int64_t offset, sl_broker_batch_record_t *rec)
{
    sl_rest_browse_t  *br = data;
    json_t            *j;

    if (br->min_ts >= 0) {
        if (rec->timestamp < br->min_ts) {
            return SL_OK;
        }

        br->min_ts = -1;
    }

    if (br->bytes >= SL_REST_BROWSE_MAX_BYTES) {
        /* a large compressed batch: the rest for the next page */
        return SL_DECLINED;
    }

    j = sl_rest_record_json(part, offset, rec, br->format);

    if (j == NULL || json_array_append_new(br->data, j) != 0) {
        return SL_ERROR;
    }

    br->bytes += rec->raw_len;

    if ((int64_t) json_array_size(br->data) >= br->limit) {
        return SL_DONE;
    }

    return SL_OK;
}


/*
 * Server-Sent Events.  A stream is parked like a Kafka long poll: an
 * idle one holds a waiter link and its keepalive timer, nothing else
 * (its output buffer is freed when it catches up).  It reads the log
 * only while the socket takes what it wrote: a full socket leaves the
 * rest pending until the write event.  A chunk of events is framed by
 * hand (HTTP/1.1 chunked, else delimited by the close) into one buffer
 * that is reused, so a long stream does not grow the request's pool.
 */

static sl_int_t
sl_rest_sse_partition(sl_rest_req_t *rq)
{
    sl_broker_topic_t      *topic;
    sl_broker_partition_t  *part;

    if (sl_rest_cluster_check(rq) != SL_OK) {
        return rq->rc;
    }

    topic = sl_rest_topic(rq, &rq->params[1]);
    if (topic == NULL) {
        return rq->rc;
    }

    part = sl_rest_partition(rq, topic, &rq->params[2]);
    if (part == NULL) {
        return rq->rc;
    }

    return sl_rest_sse_start(rq, topic, part->id);
}


static sl_int_t
sl_rest_sse_topic(sl_rest_req_t *rq)
{
    sl_broker_topic_t  *topic;

    if (sl_rest_cluster_check(rq) != SL_OK) {
        return rq->rc;
    }

    topic = sl_rest_topic(rq, &rq->params[1]);
    if (topic == NULL) {
        return rq->rc;
    }

    return sl_rest_sse_start(rq, topic, -1);
}


static sl_int_t
sl_rest_sse_start(sl_rest_req_t *rq, sl_broker_topic_t *tp,
    int32_t partition)
{
    int64_t             ka;
    sl_int_t            rc;
    sl_rest_sse_t      *ctx;
    sl_connection_t    *c;
    sl_http_request_t  *r;
    sl_pool_cleanup_t  *cln;

    static sl_str_t     type = sl_string("text/event-stream");
    static sl_str_t     nocache = sl_string("no-cache");
    static sl_str_t     no = sl_string("no");

    r = rq->r;
    c = r->connection;

    ctx = sl_pcalloc(r->pool, sizeof(sl_rest_sse_t));
    cln = sl_pool_cleanup_add(r->pool, 0);
    if (ctx == NULL || cln == NULL) {
        return SL_ERROR;
    }

    ctx->rq = rq;
    ctx->r = r;
    ctx->tp = tp;
    ctx->partition = partition;
    ctx->keepalive_ms = SL_REST_SSE_KEEPALIVE;

    ctx->keepalive.handler = sl_rest_sse_keepalive;
    ctx->keepalive.data = ctx;
    ctx->keepalive.log = c->log;
    ctx->keepalive.cancelable = 1;

    ctx->resume.handler = sl_rest_sse_resume;
    ctx->resume.data = ctx;
    ctx->resume.log = c->log;

    ctx->waiter.handler = sl_rest_sse_wake;
    ctx->waiter.data = ctx;

    cln->handler = sl_rest_sse_cleanup;
    cln->data = ctx;

    rq->data = ctx;

    ctx->topic.len = tp->name.len;
    ctx->topic.data = sl_pstrdup(r->pool, &tp->name);
    if (ctx->topic.data == NULL) {
        return SL_ERROR;
    }

    if (sl_rest_read_format(rq, &ctx->format) != SL_OK) {
        return rq->rc;
    }

    /* a Sluice extension: keepalive=seconds */

    rc = sl_rest_arg_int(rq, "keepalive", &ka);

    if (rc == SL_ERROR || (rc == SL_OK && (ka < 1 || ka > 3600))) {
        return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                             "keepalive: 1 to 3600 seconds expected");
    }

    if (rc == SL_OK) {
        ctx->keepalive_ms = (sl_msec_t) ka * 1000;
    }

    if (sl_rest_sse_position(ctx) != SL_OK) {
        return rq->rc;
    }

    r->headers_out.status = SL_HTTP_OK;
    r->headers_out.content_type = type;
    r->headers_out.content_length_n = -1;

    /* the stream ends with the connection */
    r->keepalive = 0;

    if (sl_http_add_header(r, "Cache-Control", &nocache) != SL_OK
        || sl_http_add_header(r, "X-Accel-Buffering", &no) != SL_OK
        || sl_http_send_header(r) != SL_OK)
    {
        return SL_ERROR;
    }

    r->read_event_handler = sl_rest_sse_read;
    r->write_event_handler = sl_rest_sse_write;

    /* a stream idles for long: the connection's header buffer goes back
     * (what the access log needs moves to the pool); nothing here points
     * into it any more */
    if (sl_http_release_header_buffer(r) == SL_ERROR) {
        return SL_ERROR;
    }

    /* a graceful exit or a reload may end a stream at any time: the
     * client reconnects with Last-Event-ID */
    c->idle = 1;

    sl_add_timer(&ctx->keepalive, ctx->keepalive_ms);

    /* the first run is posted: it may close the request, which must
     * not happen under the request's own handler */
    sl_post_event(&ctx->resume, &sl_posted_events);

    return SL_DONE;
}


/* where to start: Last-Event-ID, else ?offset=earliest|latest|N */
static sl_int_t
sl_rest_sse_position(sl_rest_sse_t *ctx)
{
    u_char                 *p, *last, *e;
    off_t                   v;
    int64_t                 start, hw, n;
    sl_int_t                rc;
    sl_str_t                arg;
    sl_uint_t               i, resume;
    sl_rest_req_t          *rq;
    sl_http_header_t       *h;
    sl_broker_partition_t  *part;

    rq = ctx->rq;

    if (sl_rest_sse_resize(ctx, ctx->partition >= 0
                                ? 1 : (sl_uint_t) ctx->tp->partitions_n)
        != SL_OK)
    {
        return sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR, 0,
                             "Out of memory");
    }

    h = rq->r->headers_in.last_event_id;
    resume = (h && h->value.len);

    n = SL_BROKER_OFFSET_LATEST;

    if (resume) {
        /* "N" (the last record seen) or "n0,n1,..." (next offsets) */

        p = h->value.data;
        last = p + h->value.len;

        for (i = 0; p < last; i++) {
            e = sl_strlchr(p, last, ',');
            if (e == NULL) {
                e = last;
            }

            while (p < e && *p == ' ') {
                p++;
            }

            v = sl_atoof(p, e - p);

            if (v == SL_ERROR
                || (ctx->partition >= 0 && (i > 0 || e != last)))
            {
                return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                                     "Last-Event-ID: %s expected",
                                     ctx->partition >= 0
                                     ? "an offset"
                                     : "offsets separated by commas");
            }

            if (i < ctx->nnext) {
                /* the last offset: + 1 would overflow; past the end
                 * anyway, the clamp below starts at the end */
                ctx->next[i] = (ctx->partition >= 0
                                && v < SL_MAX_OFF_T_VALUE)
                               ? v + 1 : v;
            }

            p = e + 1;
        }

    } else if (sl_rest_arg(rq, "offset", &arg) == SL_OK && arg.len) {

        if (arg.len == 8
            && sl_strncmp(arg.data, (u_char *) "earliest", 8) == 0)
        {
            n = SL_BROKER_OFFSET_EARLIEST;

        } else if (arg.len == 6
                   && sl_strncmp(arg.data, (u_char *) "latest", 6) == 0)
        {
            n = SL_BROKER_OFFSET_LATEST;

        } else {
            rc = sl_rest_arg_int(rq, "offset", &n);

            if (rc != SL_OK || n < 0) {
                return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                                     "offset: earliest, latest or an "
                                     "offset expected");
            }
        }
    }

    for (i = 0; i < ctx->nnext; i++) {
        part = sl_broker_partition(ctx->tp, ctx->partition >= 0
                                            ? ctx->partition
                                            : (sl_int_t) i);
        if (part == NULL) {
            continue;
        }

        start = sl_atomic_load(&part->log_start_offset);
        hw = sl_atomic_load(&part->high_watermark);

        if (!resume) {
            ctx->next[i] = (n == SL_BROKER_OFFSET_LATEST) ? hw
                           : (n == SL_BROKER_OFFSET_EARLIEST) ? start : n;
        }

        if (ctx->next[i] < start) {
            ctx->next[i] = start;
        }

        if (ctx->next[i] > hw) {
            ctx->next[i] = hw;
        }
    }

    return SL_OK;
}


/* room for n partitions' offsets; new ones start at their log start */
static sl_int_t
sl_rest_sse_resize(sl_rest_sse_t *ctx, sl_uint_t n)
{
    int64_t                *next;
    sl_uint_t               i;
    sl_broker_partition_t  *part;

    if (n <= ctx->nnext) {
        return SL_OK;
    }

    next = sl_alloc(n * sizeof(int64_t), ctx->r->connection->log);
    if (next == NULL) {
        return SL_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (i < ctx->nnext) {
            next[i] = ctx->next[i];
            continue;
        }

        part = sl_broker_partition(ctx->tp, ctx->partition >= 0
                                            ? ctx->partition
                                            : (sl_int_t) i);

        next[i] = part ? (int64_t) sl_atomic_load(&part->log_start_offset)
                       : 0;
    }

    if (ctx->next) {
        sl_free(ctx->next);
    }

    ctx->next = next;
    ctx->nnext = n;

    return SL_OK;
}


static void
sl_rest_sse_run(sl_rest_sse_t *ctx)
{
    sl_int_t   rc;
    sl_uint_t  rounds, stalled;

    stalled = 0;

    for (rounds = 0; /* void */; rounds++) {

        rc = sl_rest_sse_flush(ctx);

        if (rc == SL_ERROR) {
            sl_rest_sse_close(ctx);
            return;
        }

        if (rc == SL_AGAIN) {
            /* the write event goes on; the log waits */
            return;
        }

        if (rounds == SL_REST_SSE_ROUNDS) {
            sl_post_event(&ctx->resume, &sl_posted_events);
            return;
        }

        rc = sl_rest_sse_fill(ctx);

        if (rc == SL_ERROR) {
            sl_rest_sse_close(ctx);
            return;
        }

        if (rc == SL_OK || rc == SL_AGAIN) {
            continue;
        }

        /* caught up: park before the last look at the ends */

        sl_rest_wait(&ctx->waiter);

        rc = sl_rest_sse_pending(ctx);

        if (rc == SL_ERROR) {
            sl_rest_sse_close(ctx);
            return;
        }

        if (rc == SL_OK && !stalled) {
            sl_rest_wait_cancel(&ctx->waiter);
            stalled = 1;
            continue;
        }

        break;
    }

    if (ctx->buf) {
        sl_free(ctx->buf);
        ctx->buf = NULL;
        ctx->pos = NULL;
        ctx->last = NULL;
    }

    if (sl_exiting) {
        sl_rest_sse_close(ctx);
    }
}


/* SL_OK when everything is out, SL_AGAIN, or SL_ERROR */
static sl_int_t
sl_rest_sse_flush(sl_rest_sse_t *ctx)
{
    ssize_t                   n;
    sl_int_t                  rc;
    sl_event_t               *wev;
    sl_connection_t          *c;
    sl_http_request_t        *r;
    sl_http_core_loc_conf_t  *clcf;

    r = ctx->r;
    c = r->connection;
    wev = c->write;

    if (r->out) {
        /* the header */
        rc = sl_http_output(r, NULL);
        r->write_event_handler = sl_rest_sse_write;

        if (rc == SL_ERROR) {
            return SL_ERROR;
        }

        if (r->out) {
            return SL_AGAIN;
        }
    }

    while (ctx->pos < ctx->last) {
        n = c->send(c, ctx->pos, ctx->last - ctx->pos);

        if (n == SL_ERROR) {
            c->error = 1;
            return SL_ERROR;
        }

        if (n == SL_AGAIN || n == 0) {
            break;
        }

        ctx->pos += n;
    }

    if (wev->timer_set) {
        sl_del_timer(wev);
    }

    if (ctx->pos < ctx->last) {
        clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

        sl_add_timer(wev, clcf->send_timeout);

        if (sl_handle_write_event(wev, 0) != SL_OK) {
            return SL_ERROR;
        }

        return SL_AGAIN;
    }

    ctx->pos = NULL;
    ctx->last = NULL;

    return SL_OK;
}


/*
 * Reads new records into the buffer as events: SL_OK with a chunk to
 * send, SL_AGAIN when offsets moved without events (control batches),
 * SL_DONE when nothing is new, SL_ERROR to end the stream.
 */
static sl_int_t
sl_rest_sse_fill(sl_rest_sse_t *ctx)
{
    u_char                 *data, *p;
    u_char                  head[SL_REST_SSE_HEAD + 1];
    size_t                  len;
    int64_t                 nx, hw, start;
    sl_int_t                rc;
    sl_uint_t               k, i, n, moved;
    sl_log_t               *log;
    sl_pool_t              *pool;
    sl_broker_partition_t  *part;

    log = ctx->r->connection->log;

    /* most wake-ups are for other partitions: no buffer for them */

    rc = sl_rest_sse_pending(ctx);

    if (rc == SL_ERROR || (rc == SL_DONE && !ctx->ka)) {
        return rc;
    }

    if (ctx->buf == NULL) {
        ctx->size = SL_REST_SSE_HEAD + SL_REST_SSE_CHUNK + 2;
        ctx->buf = sl_alloc(ctx->size, log);
        if (ctx->buf == NULL) {
            return SL_ERROR;
        }
    }

    data = ctx->buf + SL_REST_SSE_HEAD;
    ctx->pos = data;
    ctx->last = data;

    if (ctx->ka) {
        ctx->ka = 0;
        ctx->last = sl_cpymem(ctx->last, ": keepalive\n\n",
                              sizeof(": keepalive\n\n") - 1);
    }

    pool = NULL;
    moved = 0;
    n = ctx->nnext;

    for (k = 0; k < n; k++) {

        if ((size_t) (ctx->last - (ctx->buf + SL_REST_SSE_HEAD))
            >= SL_REST_SSE_CHUNK)
        {
            break;
        }

        i = (ctx->rr + k) % n;

        part = sl_broker_partition(ctx->tp, ctx->partition >= 0
                                            ? ctx->partition
                                            : (sl_int_t) i);
        if (part == NULL) {
            continue;
        }

        hw = sl_atomic_load(&part->high_watermark);

        if (ctx->next[i] >= hw) {
            continue;
        }

        if (pool == NULL) {
            pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, log);
            if (pool == NULL) {
                return SL_ERROR;
            }
        }

        ctx->cur = i;

        rc = sl_rest_fetch(pool, log, part, ctx->next[i], SL_REST_SSE_CHUNK,
                           0, sl_rest_sse_record, ctx, &nx);

        if (rc == SL_BROKER_ERR_OUT_OF_RANGE) {
            /* retention went past us: go on from the log start */
            start = sl_atomic_load(&part->log_start_offset);
            nx = sl_max(ctx->next[i], start);
            nx = sl_min(nx, (int64_t) sl_atomic_load(&part->high_watermark));
            rc = SL_OK;
        }

        if (rc != SL_OK) {
            sl_log_error(SL_LOG_ERR, log, 0,
                         "rest: stream of \"%.*s-%d\" at %lld ends: "
                         "error %ld", SL_STR_ARG(&ctx->topic),
                         (int) part->id, (long long) ctx->next[i],
                         (long) rc);
            sl_destroy_pool(pool);
            return SL_ERROR;
        }

        if (nx != ctx->next[i]) {
            moved = 1;
            ctx->next[i] = nx;
        }
    }

    if (n) {
        ctx->rr = (ctx->rr + 1) % n;
    }

    if (pool) {
        sl_destroy_pool(pool);
    }

    /* the pointers may have moved with a larger buffer */
    data = ctx->buf + SL_REST_SSE_HEAD;
    len = ctx->last - data;

    if (len == 0) {
        ctx->pos = NULL;
        ctx->last = NULL;
        return moved ? SL_AGAIN : SL_DONE;
    }

    if (ctx->r->chunked_out) {
        p = sl_slprintf(head, head + sizeof(head), "%zx" CRLF, len);
        ctx->pos = data - (p - head);
        sl_memcpy(ctx->pos, head, p - head);

        *ctx->last++ = CR;
        *ctx->last++ = LF;

    } else {
        ctx->pos = data;
    }

    return SL_OK;
}


/* SL_OK if a partition has records past ours, SL_DONE, or SL_ERROR when
 * the topic is gone */
static sl_int_t
sl_rest_sse_pending(sl_rest_sse_t *ctx)
{
    sl_uint_t               i;
    sl_broker_topic_t      *tp;
    sl_broker_partition_t  *part;

    tp = sl_broker_topic_find(&ctx->topic);

    if (tp == NULL || tp->deleted || tp != ctx->tp) {
        return SL_ERROR;
    }

    if (ctx->partition < 0
        && sl_rest_sse_resize(ctx, (sl_uint_t) tp->partitions_n) != SL_OK)
    {
        return SL_ERROR;
    }

    for (i = 0; i < ctx->nnext; i++) {
        part = sl_broker_partition(tp, ctx->partition >= 0
                                       ? ctx->partition : (sl_int_t) i);

        if (part
            && ctx->next[i] < (int64_t) sl_atomic_load(&part->high_watermark))
        {
            return SL_OK;
        }
    }

    return SL_DONE;
}


static sl_int_t
sl_rest_sse_record(void *data, sl_broker_partition_t *part, int64_t offset,
    sl_broker_batch_record_t *rec)
{
    sl_rest_sse_t  *ctx = data;

    u_char     *p, *end;
    size_t      used, len, need;
    json_t     *j;
    sl_uint_t   i;

    used = ctx->last - (ctx->buf + SL_REST_SSE_HEAD);

    j = sl_rest_record_json(part, offset, rec, ctx->format);
    if (j == NULL) {
        return SL_ERROR;
    }

    len = json_dumpb(j, NULL, 0, JSON_COMPACT);

    need = sizeof("id: \nevent: record\ndata: \n\n") + len
           + (ctx->partition >= 0 ? 1 : ctx->nnext) * 21;

    /*
     * The next chunk takes it, preferably from the start of its batch:
     * a compressed batch is opened again by each fill that reads it.
     */

    if (used
        && used + need > SL_REST_SSE_CHUNK
        && (rec->offset_delta == 0 || used + need > SL_REST_SSE_CHUNK_MAX))
    {
        json_decref(j);
        return SL_DECLINED;
    }

    p = sl_rest_sse_reserve(ctx, need);
    if (p == NULL) {
        json_decref(j);
        return SL_ERROR;
    }

    end = p + need;

    p = sl_cpymem(p, "id: ", sizeof("id: ") - 1);

    if (ctx->partition >= 0) {
        p = sl_slprintf(p, end, "%lld", (long long) offset);

    } else {
        /* the next offset of every partition after this record */
        ctx->next[ctx->cur] = offset + 1;

        for (i = 0; i < ctx->nnext; i++) {
            p = sl_slprintf(p, end, i ? ",%lld" : "%lld",
                            (long long) ctx->next[i]);
        }
    }

    p = sl_cpymem(p, "\nevent: record\ndata: ",
                  sizeof("\nevent: record\ndata: ") - 1);
    p += json_dumpb(j, (char *) p, len, JSON_COMPACT);
    *p++ = '\n';
    *p++ = '\n';

    ctx->last = p;

    json_decref(j);

    return SL_OK;
}


/* n bytes at ctx->last, and 2 more for the chunk's CRLF */
static u_char *
sl_rest_sse_reserve(sl_rest_sse_t *ctx, size_t n)
{
    u_char  *buf;
    size_t   used, size;

    used = ctx->last - ctx->buf;

    if (used + n + 2 <= ctx->size) {
        return ctx->last;
    }

    size = used + n + 2;

    buf = sl_alloc(size, ctx->r->connection->log);
    if (buf == NULL) {
        return NULL;
    }

    sl_memcpy(buf, ctx->buf, used);
    sl_free(ctx->buf);

    ctx->buf = buf;
    ctx->size = size;
    ctx->pos = buf + SL_REST_SSE_HEAD;
    ctx->last = buf + used;

    return ctx->last;
}


static void
sl_rest_sse_close(sl_rest_sse_t *ctx)
{
    if (ctx->closed) {
        return;
    }

    ctx->closed = 1;

    /* frees the request's pool: sl_rest_sse_cleanup() runs */
    sl_http_finalize_request(ctx->r, SL_ERROR);
}


static void
sl_rest_sse_wake(sl_rest_waiter_t *w)
{
    sl_rest_sse_run(w->data);
}


static void
sl_rest_sse_keepalive(sl_event_t *ev)
{
    sl_rest_sse_t  *ctx = ev->data;

    if (ctx->pos == NULL || ctx->pos == ctx->last) {
        ctx->ka = 1;
    }

    sl_add_timer(&ctx->keepalive, ctx->keepalive_ms);

    if (ctx->pos && ctx->pos < ctx->last) {
        /* the client reads nothing: the write event will do */
        return;
    }

    sl_rest_wait_cancel(&ctx->waiter);
    sl_rest_sse_run(ctx);
}


static void
sl_rest_sse_resume(sl_event_t *ev)
{
    sl_rest_sse_t  *ctx = ev->data;

    sl_rest_wait_cancel(&ctx->waiter);
    sl_rest_sse_run(ctx);
}


/* the client sends nothing more: EOF or an error is its going away */
static void
sl_rest_sse_read(sl_http_request_t *r)
{
    u_char            buf[256];
    ssize_t           n;
    sl_rest_req_t    *rq;
    sl_connection_t  *c;

    c = r->connection;
    rq = sl_http_get_module_ctx(r, sl_rest_module);

    if (c->close) {
        sl_rest_sse_close(rq->data);
        return;
    }

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == SL_AGAIN) {
            return;
        }

        if (n == 0 || n == SL_ERROR) {
            sl_rest_sse_close(rq->data);
            return;
        }
    }
}


static void
sl_rest_sse_write(sl_http_request_t *r)
{
    sl_rest_req_t    *rq;
    sl_rest_sse_t    *ctx;
    sl_connection_t  *c;

    c = r->connection;
    rq = sl_http_get_module_ctx(r, sl_rest_module);
    ctx = rq->data;

    if (c->write->timedout) {
        sl_log_error(SL_LOG_INFO, c->log, SL_ETIMEDOUT,
                     "client timed out reading the event stream");
        c->timedout = 1;
        sl_rest_sse_close(ctx);
        return;
    }

    if (ctx->pos == NULL || ctx->pos == ctx->last) {
        if (r->out == NULL) {
            /* a spurious or early write event: nothing to do */
            return;
        }
    }

    sl_rest_sse_run(ctx);
}


static void
sl_rest_sse_cleanup(void *data)
{
    sl_rest_sse_t  *ctx = data;

    sl_rest_wait_cancel(&ctx->waiter);

    if (ctx->keepalive.timer_set) {
        sl_del_timer(&ctx->keepalive);
    }

    if (ctx->resume.posted) {
        sl_delete_posted_event(&ctx->resume);
    }

    if (ctx->buf) {
        sl_free(ctx->buf);
        ctx->buf = NULL;
    }

    if (ctx->next) {
        sl_free(ctx->next);
        ctx->next = NULL;
    }
}
