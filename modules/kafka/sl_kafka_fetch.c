
/*
 * Fetch: record batches sent with sendfile() straight from the segment
 * files (file buffers spliced into the response chain), within the
 * response's max_bytes and each partition's limit.  A fetch that finds
 * fewer than min_bytes waits up to max_wait_ms, parked in this worker's
 * list with a timer; an append in any worker rings the doorbell, and the
 * parked fetches are checked again.
 *
 * No transactions are stored yet, so the last stable offset is the high
 * watermark and read_committed gets an empty aborted-transactions list.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_kafka.h>


typedef struct {
    sl_kafka_request_t      *request;
    sl_queue_t               queue;
    sl_event_t               timer;
    unsigned                 parked:1;
} sl_kafka_fetch_ctx_t;


static sl_int_t sl_kafka_fetch_ready(sl_kafka_request_t *r);
static sl_int_t sl_kafka_fetch_build(sl_kafka_request_t *r);
static sl_broker_topic_t *sl_kafka_fetch_topic(sl_kafka_request_t *r,
    sl_kafka_fetch_req_topic_t *ft);
static sl_int_t sl_kafka_fetch_park(sl_kafka_request_t *r);
static void sl_kafka_fetch_unpark(sl_kafka_fetch_ctx_t *ctx);
static void sl_kafka_fetch_timeout(sl_event_t *ev);
static void sl_kafka_fetch_cleanup(sl_kafka_request_t *r);
static void sl_kafka_fetch_doorbell(sl_cycle_t *cycle, void *data);


static sl_queue_t   sl_kafka_parked;
static sl_uint_t    sl_kafka_parked_init;
static u_char       sl_kafka_empty[1];


sl_int_t
sl_kafka_fetch_init_process(sl_cycle_t *cycle)
{
    sl_queue_init(&sl_kafka_parked);
    sl_kafka_parked_init = 1;

    return sl_event_doorbell_add(sl_kafka_fetch_doorbell, NULL);
}


sl_int_t
sl_kafka_fetch(sl_kafka_request_t *r)
{
    sl_kafka_fetch_req_t  *req;

    req = r->req;

    if (req->max_wait_ms > 0
        && req->min_bytes > 0
        && sl_kafka_parked_init
        && !sl_kafka_fetch_ready(r))
    {
        return sl_kafka_fetch_park(r);
    }

    return sl_kafka_fetch_build(r);
}


/*
 * Whether the fetch should be answered now: min_bytes are there, or a
 * partition has an error to report.
 */

static sl_int_t
sl_kafka_fetch_ready(sl_kafka_request_t *r)
{
    size_t                          bytes, max;
    int64_t                         end;
    int32_t                         i, j;
    sl_int_t                        rc;
    sl_broker_read_t                rd;
    sl_broker_topic_t              *topic;
    sl_broker_partition_t          *part;
    sl_kafka_fetch_req_t           *req;
    sl_kafka_fetch_req_topic_t     *ft;
    sl_kafka_fetch_req_partition_t *fp;

    req = r->req;
    bytes = 0;

    for (i = 0; i < req->topics_n; i++) {
        ft = &req->topics[i];

        topic = sl_kafka_fetch_topic(r, ft);
        if (topic == NULL) {
            return 1;
        }

        for (j = 0; j < ft->partitions_n; j++) {
            fp = &ft->partitions[j];

            part = sl_broker_partition(topic, fp->partition);
            if (part == NULL) {
                return 1;
            }

            end = req->isolation_level
                  ? sl_atomic_load(&part->last_stable_offset)
                  : sl_atomic_load(&part->high_watermark);

            if (fp->fetch_offset > end
                || fp->fetch_offset
                   < (int64_t) sl_atomic_load(&part->log_start_offset))
            {
                return 1;
            }

            if (fp->fetch_offset == end) {
                continue;
            }

            if (req->min_bytes <= 1) {
                return 1;
            }

            max = fp->partition_max_bytes > 0 ? fp->partition_max_bytes : 1;

            rc = sl_broker_log_read(part, fp->fetch_offset, max, &rd, r->log);
            if (rc != SL_BROKER_OK) {
                return 1;
            }

            bytes += rd.len;

            if (bytes >= (size_t) req->min_bytes) {
                return 1;
            }
        }
    }

    return 0;
}


static sl_broker_topic_t *
sl_kafka_fetch_topic(sl_kafka_request_t *r, sl_kafka_fetch_req_topic_t *ft)
{
    if (r->version >= 13) {
        return sl_kafka_topic_by_id(ft->topic_id);
    }

    if (ft->topic.data == NULL) {
        return NULL;
    }

    return sl_broker_topic_find(&ft->topic);
}


static sl_int_t
sl_kafka_fetch_build(sl_kafka_request_t *r)
{
    size_t                                      remaining, max;
    int64_t                                     end;
    int32_t                                     i, j, n;
    sl_int_t                                    rc;
    sl_buf_t                                   *b;
    sl_file_t                                  *file;
    sl_chain_t                                 *cl;
    sl_broker_read_t                            rd;
    sl_broker_topic_t                          *topic;
    sl_broker_partition_t                      *part;
    sl_kafka_fetch_req_t                       *req;
    sl_kafka_fetch_resp_t                      *resp;
    sl_kafka_fetch_req_topic_t                 *ft;
    sl_kafka_fetch_req_partition_t             *fp;
    sl_kafka_fetch_resp_partition_data_t       *rp;
    sl_kafka_fetch_resp_fetchable_topic_response_t  *rt;

    req = r->req;
    resp = r->resp;

    remaining = req->max_bytes > 0 ? (size_t) req->max_bytes : 0;

    resp->throttle_time_ms = 0;
    resp->error_code = SL_KAFKA_NONE;
    resp->session_id = 0;

    n = req->topics_n > 0 ? req->topics_n : 0;

    rt = sl_pcalloc(r->pool, (n + 1) * sizeof(*rt));
    if (rt == NULL) {
        return SL_ERROR;
    }

    resp->responses = rt;
    resp->responses_n = n;

    for (i = 0; i < n; i++, rt++) {
        ft = &req->topics[i];

        rt->topic = ft->topic;
        sl_memcpy(rt->topic_id, ft->topic_id, 16);
        rt->partitions_n = ft->partitions_n > 0 ? ft->partitions_n : 0;

        rp = sl_pcalloc(r->pool, (rt->partitions_n + 1) * sizeof(*rp));
        if (rp == NULL) {
            return SL_ERROR;
        }

        rt->partitions = rp;

        topic = sl_kafka_fetch_topic(r, ft);

        for (j = 0; j < rt->partitions_n; j++, rp++) {
            fp = &ft->partitions[j];

            rp->partition_index = fp->partition;
            rp->high_watermark = -1;
            rp->last_stable_offset = -1;
            rp->log_start_offset = -1;
            rp->preferred_read_replica = -1;
            rp->records.data = sl_kafka_empty;
            rp->records.len = 0;

            /* read_committed wants a list, read_uncommitted null */
            rp->aborted_transactions_n = req->isolation_level ? 0 : -1;

            part = topic ? sl_broker_partition(topic, fp->partition) : NULL;

            if (part == NULL) {
                rp->error_code = (r->version >= 13 && topic == NULL)
                                 ? SL_KAFKA_UNKNOWN_TOPIC_ID
                                 : SL_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }

            rp->high_watermark = sl_atomic_load(&part->high_watermark);
            rp->last_stable_offset =
                                  sl_atomic_load(&part->last_stable_offset);
            rp->log_start_offset = sl_atomic_load(&part->log_start_offset);

            end = req->isolation_level ? rp->last_stable_offset
                                       : rp->high_watermark;

            if (fp->fetch_offset < rp->log_start_offset
                || fp->fetch_offset > rp->high_watermark)
            {
                rp->error_code = SL_KAFKA_OFFSET_OUT_OF_RANGE;
                continue;
            }

            if (fp->fetch_offset >= end || remaining == 0) {
                continue;
            }

            max = fp->partition_max_bytes > 0 ? fp->partition_max_bytes : 0;
            max = sl_min(max, remaining);

            if (max == 0) {
                continue;
            }

            rc = sl_broker_log_read(part, fp->fetch_offset, max, &rd, r->log);

            if (rc != SL_BROKER_OK) {
                rp->error_code = sl_kafka_error(rc);
                continue;
            }

            rp->high_watermark = rd.high_watermark;
            rp->last_stable_offset = rd.last_stable_offset;
            rp->log_start_offset = rd.log_start_offset;

            if (rd.len == 0) {
                continue;
            }

            /* the segment bytes go by sendfile() */

            b = sl_calloc_buf(r->pool);
            file = sl_pcalloc(r->pool, sizeof(sl_file_t));
            cl = sl_alloc_chain_link(r->pool);

            if (b == NULL || file == NULL || cl == NULL) {
                return SL_ERROR;
            }

            file->fd = rd.fd;
            file->log = r->log;
            sl_str_set(&file->name, "segment");

            b->in_file = 1;
            b->file = file;
            b->file_pos = rd.pos;
            b->file_last = rd.pos + rd.len;

            cl->buf = b;
            cl->next = NULL;

            rp->records.chain = cl;
            rp->records.len = rd.len;

            /* the offsets sent, without touching every batch header
             * (a compacted range counts its gaps) */
            sl_broker_count_out(part, rd.len,
                                rd.next_offset - rd.first_offset);

            remaining -= sl_min(rd.len, remaining);
        }
    }

    return SL_OK;
}


static sl_int_t
sl_kafka_fetch_park(sl_kafka_request_t *r)
{
    int32_t                      i;
    sl_str_t                    *name;
    sl_kafka_fetch_ctx_t        *ctx;
    sl_kafka_fetch_req_t        *req;

    req = r->req;

    /* the request was decoded in the read buffer: keep our own names */

    for (i = 0; i < req->topics_n; i++) {
        name = &req->topics[i].topic;

        if (name->data && name->len) {
            name->data = sl_pstrdup(r->pool, name);
            if (name->data == NULL) {
                return SL_ERROR;
            }
        }
    }

    req->rack_id.data = NULL;
    req->forgotten_topics_data_n = 0;

    ctx = sl_pcalloc(r->pool, sizeof(sl_kafka_fetch_ctx_t));
    if (ctx == NULL) {
        return SL_ERROR;
    }

    ctx->request = r;
    ctx->timer.data = ctx;
    ctx->timer.handler = sl_kafka_fetch_timeout;
    ctx->timer.log = r->log;

    r->ctx = ctx;
    r->cleanup = sl_kafka_fetch_cleanup;

    /* park before the last check, so an append in between rings */

    sl_event_doorbell_park();
    ctx->parked = 1;
    sl_queue_insert_tail(&sl_kafka_parked, &ctx->queue);

    if (sl_kafka_fetch_ready(r)) {
        sl_kafka_fetch_unpark(ctx);
        return sl_kafka_fetch_build(r);
    }

    sl_add_timer(&ctx->timer, (sl_msec_t) req->max_wait_ms);

    sl_kafka_metrics_fetch_wait();

    return SL_AGAIN;
}


static void
sl_kafka_fetch_unpark(sl_kafka_fetch_ctx_t *ctx)
{
    if (!ctx->parked) {
        return;
    }

    ctx->parked = 0;
    sl_queue_remove(&ctx->queue);
    sl_event_doorbell_unpark();

    if (ctx->timer.timer_set) {
        sl_del_timer(&ctx->timer);
    }
}


static void
sl_kafka_fetch_timeout(sl_event_t *ev)
{
    sl_int_t               rc;
    sl_kafka_fetch_ctx_t  *ctx;
    sl_kafka_request_t    *r;

    ctx = ev->data;
    r = ctx->request;

    sl_kafka_fetch_unpark(ctx);

    rc = sl_kafka_fetch_build(r);

    sl_kafka_request_finalize(r, rc);
}


static void
sl_kafka_fetch_cleanup(sl_kafka_request_t *r)
{
    if (r->ctx) {
        sl_kafka_fetch_unpark(r->ctx);
    }
}


static void
sl_kafka_fetch_doorbell(sl_cycle_t *cycle, void *data)
{
    sl_int_t               rc;
    sl_queue_t             ready, *q;
    sl_kafka_fetch_ctx_t  *ctx;
    sl_kafka_request_t    *r;

    if (!sl_kafka_parked_init) {
        return;
    }

    /*
     * Collect first, answer after: answering may close a connection,
     * whose cleanup unparks its other fetches from whatever list.
     */

    sl_queue_init(&ready);

    q = sl_queue_head(&sl_kafka_parked);

    while (q != sl_queue_sentinel(&sl_kafka_parked)) {
        ctx = sl_queue_data(q, sl_kafka_fetch_ctx_t, queue);
        q = sl_queue_next(q);

        if (sl_kafka_fetch_ready(ctx->request)) {
            sl_queue_remove(&ctx->queue);
            sl_queue_insert_tail(&ready, &ctx->queue);
        }
    }

    while (!sl_queue_empty(&ready)) {
        q = sl_queue_head(&ready);
        ctx = sl_queue_data(q, sl_kafka_fetch_ctx_t, queue);
        r = ctx->request;

        sl_kafka_fetch_unpark(ctx);

        rc = sl_kafka_fetch_build(r);

        sl_kafka_request_finalize(r, rc);
    }
}
