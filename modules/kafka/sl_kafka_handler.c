
/*
 * A Kafka connection: framing (a 4-byte size, checked against
 * max_request_size before anything is allocated for it), the request
 * header, dispatch to the registered API handler, and the queue that
 * sends responses back in request order even when a request completes
 * later (a parked fetch).  Anything malformed closes this connection
 * with a log line naming the client; the worker carries on.
 *
 * Frames are read into one connection buffer and decoded in place; a
 * frame larger than the buffer gets a buffer of its own.  Each request
 * has a pool that lives until its response has been sent.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker_batch.h>
#include <sl_kafka.h>


#define SL_KAFKA_REQUEST_POOL_SIZE  4096
#define SL_KAFKA_SEND_TIMEOUT       60000
/* a large-frame buffer up to this size is kept for the next frame */
#define SL_KAFKA_LARGE_KEEP         (8 * 1024 * 1024)


static void sl_kafka_read_handler(sl_event_t *rev);
static void sl_kafka_write_handler(sl_event_t *wev);
static sl_int_t sl_kafka_read(sl_kafka_session_t *s);
static sl_int_t sl_kafka_next_frame(sl_kafka_session_t *s);
static sl_int_t sl_kafka_process(sl_kafka_session_t *s, u_char *p,
    size_t size);
static sl_int_t sl_kafka_unsupported(sl_kafka_request_t *r,
    sl_kafka_rd_t *rd);
static sl_int_t sl_kafka_complete(sl_kafka_request_t *r, sl_int_t rc);
static sl_int_t sl_kafka_encode(sl_kafka_request_t *r);
static sl_int_t sl_kafka_flush(sl_kafka_session_t *s);
static sl_int_t sl_kafka_idle(sl_kafka_session_t *s);
static void sl_kafka_close_session(sl_kafka_session_t *s);
static u_char *sl_kafka_log_error(sl_log_t *log, u_char *buf, size_t len);


void
sl_kafka_init_connection(sl_connection_t *c)
{
    sl_kafka_session_t    *s;
    sl_kafka_main_conf_t  *kmcf;

    kmcf = c->listening->servers;

    s = sl_pcalloc(c->pool, sizeof(sl_kafka_session_t));
    if (s == NULL) {
        goto failed;
    }

    s->connection = c;
    s->kmcf = kmcf;
    sl_queue_init(&s->requests);

    s->buffer = sl_create_temp_buf(c->pool, kmcf->buffer_size);
    if (s->buffer == NULL) {
        goto failed;
    }

    c->data = s;
    c->log->handler = sl_kafka_log_error;

    sl_kafka_metrics_connection(1);

    c->log->data = s;
    c->log->action = "reading request";

    c->read->handler = sl_kafka_read_handler;
    c->write->handler = sl_kafka_write_handler;

    (void) sl_tcp_nodelay(c->fd);

    /* the idle timer does not hold up a graceful exit */
    c->read->cancelable = 1;
    sl_add_timer(c->read, kmcf->idle_timeout);

    if (sl_kafka_read(s) != SL_OK) {
        sl_kafka_close_session(s);
    }

    return;

failed:

    {
        sl_pool_t  *pool;

        pool = c->pool;
        sl_close_connection(c);
        sl_destroy_pool(pool);
    }
}


static u_char *
sl_kafka_log_error(sl_log_t *log, u_char *buf, size_t len)
{
    u_char              *p;
    sl_kafka_session_t  *s;

    s = log->data;
    p = buf;

    if (log->action) {
        p = sl_slprintf(p, buf + len, " while %s", log->action);
    }

    if (s == NULL) {
        return p;
    }

    p = sl_slprintf(p, buf + len, ", client: %.*s",
                    SL_STR_ARG(&s->connection->addr_text));

    if (s->client_id_len) {
        p = sl_slprintf(p, buf + len, ", client_id: \"%.*s\"",
                        (int) s->client_id_len, (char *) s->client_id);
    }

    return p;
}


static void
sl_kafka_read_handler(sl_event_t *rev)
{
    sl_connection_t     *c;
    sl_kafka_session_t  *s;

    c = rev->data;
    s = c->data;

    if (rev->timedout) {
        sl_log_error(SL_LOG_INFO, c->log, 0, "kafka: client timed out");
        sl_kafka_close_session(s);
        return;
    }

    if (c->close) {
        /* a graceful exit closes connections between requests */
        sl_kafka_close_session(s);
        return;
    }

    if (sl_kafka_read(s) != SL_OK) {
        sl_kafka_close_session(s);
    }
}


static void
sl_kafka_write_handler(sl_event_t *wev)
{
    sl_connection_t     *c;
    sl_kafka_session_t  *s;

    c = wev->data;
    s = c->data;

    if (wev->timedout) {
        sl_log_error(SL_LOG_INFO, c->log, 0,
                     "kafka: client timed out while sending response");
        sl_kafka_close_session(s);
        return;
    }

    if (sl_kafka_flush(s) != SL_OK) {
        sl_kafka_close_session(s);
        return;
    }

    if (s->blocked && s->nrequests < SL_KAFKA_MAX_PIPELINE) {
        s->blocked = 0;

        if (sl_kafka_read(s) != SL_OK) {
            sl_kafka_close_session(s);
        }

        return;
    }

    if (sl_kafka_idle(s) != SL_OK) {
        sl_kafka_close_session(s);
    }
}


/*
 * A connection with nothing in flight is idle: a graceful exit may
 * close it (and, once exiting, we close it ourselves).
 */

static sl_int_t
sl_kafka_idle(sl_kafka_session_t *s)
{
    sl_buf_t         *b;
    sl_connection_t  *c;

    c = s->connection;
    b = s->buffer;

    c->idle = (s->nrequests == 0 && s->out == NULL && s->large == NULL
               && b->pos == b->last);

    if (c->idle && sl_exiting) {
        return SL_DONE;
    }

    return SL_OK;
}


/*
 * Reads and processes frames until the socket would block.  Returns
 * SL_ERROR when the connection must be closed (the caller closes it).
 */

static sl_int_t
sl_kafka_read(sl_kafka_session_t *s)
{
    u_char           *dst;
    size_t            size;
    ssize_t           n;
    sl_int_t          rc;
    sl_buf_t         *b;
    sl_connection_t  *c;

    c = s->connection;
    b = s->buffer;

    if (s->reading) {
        return SL_OK;
    }

    s->reading = 1;

    for ( ;; ) {

        if (s->nrequests >= SL_KAFKA_MAX_PIPELINE) {

            if (sl_kafka_flush(s) != SL_OK) {
                goto error;
            }

            if (s->nrequests >= SL_KAFKA_MAX_PIPELINE) {
                /* the client does not read: stop reading until it does */
                s->blocked = 1;
                break;
            }
        }

        rc = sl_kafka_next_frame(s);

        if (rc == SL_OK) {
            continue;
        }

        if (rc == SL_ERROR) {
            goto error;
        }

        /* SL_AGAIN: more bytes are needed */

        if (s->large) {
            dst = s->large + s->large_have;
            size = s->large_size - s->large_have;

        } else {
            if (b->pos == b->last) {
                b->pos = b->start;
                b->last = b->start;

            } else if (b->last == b->end && b->pos > b->start) {
                sl_memmove(b->start, b->pos, b->last - b->pos);
                b->last = b->start + (b->last - b->pos);
                b->pos = b->start;
            }

            dst = b->last;
            size = b->end - b->last;
        }

        if (!c->read->ready) {
            break;
        }

        n = c->recv(c, dst, size);

        if (n == SL_AGAIN) {
            break;
        }

        if (n == SL_ERROR) {
            goto error;
        }

        if (n == 0) {
            sl_log_error(SL_LOG_INFO, c->log, 0,
                         "kafka: client closed connection");
            goto error;
        }

        if (s->large) {
            s->large_have += n;

        } else {
            b->last += n;
        }

        sl_add_timer(c->read, s->kmcf->idle_timeout);
    }

    s->reading = 0;

    if (sl_kafka_flush(s) != SL_OK) {
        return SL_ERROR;
    }

    if (sl_handle_read_event(c->read, 0) != SL_OK) {
        return SL_ERROR;
    }

    return sl_kafka_idle(s);

error:

    s->reading = 0;

    return SL_ERROR;
}


static sl_int_t
sl_kafka_next_frame(sl_kafka_session_t *s)
{
    size_t            have, copy;
    int32_t           size;
    sl_int_t          rc;
    sl_buf_t         *b;
    sl_connection_t  *c;

    c = s->connection;
    b = s->buffer;

    if (s->large) {
        if (s->large_have < s->large_size) {
            return SL_AGAIN;
        }

        rc = sl_kafka_process(s, s->large, s->large_size);

        s->large = NULL;

        if (s->lcap > SL_KAFKA_LARGE_KEEP) {
            sl_free(s->lbuf);
            s->lbuf = NULL;
            s->lcap = 0;
        }

        return rc;
    }

    have = b->last - b->pos;

    if (have < 4) {
        return SL_AGAIN;
    }

    size = (int32_t) sl_kafka_get32(b->pos);

    if (size < 0 || (size_t) size > s->kmcf->max_request_size) {
        sl_log_error(SL_LOG_ERR, c->log, 0,
                     "kafka: request of %d bytes exceeds max_request_size "
                     "%zu, closing connection",
                     (int) size, s->kmcf->max_request_size);
        return SL_ERROR;
    }

    if (have - 4 >= (size_t) size) {
        b->pos += 4 + size;
        return sl_kafka_process(s, b->pos - size, size);
    }

    if ((size_t) size + 4 <= (size_t) (b->end - b->start)) {
        return SL_AGAIN;
    }

    /*
     * A frame larger than the buffer gets a buffer of its own, kept for
     * the next one: producers send large frames one after another, and
     * fresh memory costs a page fault per page.
     */

    if (s->lcap < (size_t) size) {
        if (s->lbuf) {
            sl_free(s->lbuf);
            s->lcap = 0;
        }

        s->lbuf = sl_alloc(size, c->log);
        if (s->lbuf == NULL) {
            return SL_ERROR;
        }

        s->lcap = size;
    }

    s->large = s->lbuf;

    copy = have - 4;

    sl_memcpy(s->large, b->pos + 4, copy);
    s->large_size = size;
    s->large_have = copy;
    b->pos = b->last;

    return SL_AGAIN;
}


static sl_int_t
sl_kafka_process(sl_kafka_session_t *s, u_char *p, size_t size)
{
    sl_int_t               rc;
    sl_pool_t             *pool;
    sl_kafka_rd_t          rd;
    sl_kafka_api_t        *api;
    sl_kafka_msg_t        *msg;
    sl_connection_t       *c;
    sl_kafka_header_t      h;
    sl_kafka_request_t    *r;

    c = s->connection;

    sl_kafka_rd_init(&rd, p, size, NULL);

    if (sl_kafka_rd_header(&rd, &h) != SL_OK) {
        sl_log_error(SL_LOG_ERR, c->log, 0,
                     "kafka: truncated request header (%zu bytes), "
                     "closing connection", size);
        return SL_ERROR;
    }

    if (h.client_id.len) {
        s->client_id_len = sl_min(h.client_id.len, sizeof(s->client_id));
        sl_memcpy(s->client_id, h.client_id.data, s->client_id_len);
    }

    c->requests++;
    sl_stat_add(requests, 1);

    msg = sl_kafka_msg(h.api_key);

    pool = sl_create_pool(SL_KAFKA_REQUEST_POOL_SIZE, c->log);
    if (pool == NULL) {
        return SL_ERROR;
    }

    r = sl_pcalloc(pool, sizeof(sl_kafka_request_t));
    if (r == NULL) {
        sl_destroy_pool(pool);
        return SL_ERROR;
    }

    r->start_usec = sl_kafka_metrics_now();
    r->session = s;
    r->connection = c;
    r->kmcf = s->kmcf;
    r->pool = pool;
    r->log = c->log;
    r->msg = msg;
    r->api_key = h.api_key;
    r->version = h.api_version;
    r->correlation_id = h.correlation_id;
    r->flexible = sl_kafka_msg_flexible(h.api_key, h.api_version);

    sl_queue_insert_tail(&s->requests, &r->queue);
    s->nrequests++;

    api = NULL;

    if (msg) {
        api = &s->kmcf->apis[h.api_key];

        if (api->handler == NULL
            || h.api_version < api->min_version
            || h.api_version > api->max_version)
        {
            api = NULL;
        }
    }

    if (api == NULL) {
        return sl_kafka_unsupported(r, &rd);
    }

    if (r->flexible) {
        sl_kafka_rd_tags(&rd);
    }

    rd.pool = pool;

    r->req = sl_pcalloc(pool, msg->request_size);
    r->resp = sl_pcalloc(pool, msg->response_size);

    if (r->req == NULL || r->resp == NULL) {
        return SL_ERROR;
    }

    if (rd.failed || msg->decode_request(&rd, r->version, r->req) != SL_OK) {
        sl_log_error(SL_LOG_ERR, c->log, 0,
                     "kafka: malformed %s v%d request, closing connection",
                     msg->name, (int) r->version);
        return SL_ERROR;
    }

    sl_log_debug(c->log, "kafka: %s v%d correlation id %d", msg->name,
                 (int) r->version, (int) r->correlation_id);

    rc = api->handler(r);

    if (rc == SL_AGAIN) {
        return SL_OK;
    }

    return sl_kafka_complete(r, rc);
}


/*
 * An API or version not served here: UNSUPPORTED_VERSION in the API's
 * own response shape where it has a top-level error code (ApiVersions
 * answers with a v0 body, so that any client can read it), else the
 * connection is closed, as Kafka does.
 */

static sl_int_t
sl_kafka_unsupported(sl_kafka_request_t *r, sl_kafka_rd_t *rd)
{
    u_char          *p;
    sl_kafka_wr_t    wr;
    sl_kafka_msg_t  *msg;

    msg = r->msg;

    if (r->api_key == SL_KAFKA_API_VERSIONS) {
        sl_log_error(SL_LOG_INFO, r->log, 0,
                     "kafka: ApiVersions v%d is not supported, "
                     "answering with v0", (int) r->version);

        sl_kafka_wr_init(&wr, r->pool, 0);

        p = sl_kafka_wr_reserve(&wr, 4);
        sl_kafka_wr_int32(&wr, r->correlation_id);
        sl_kafka_api_versions_fallback(r->kmcf, &wr);

        r->out = sl_kafka_wr_finish(&wr);
        if (r->out == NULL) {
            return SL_ERROR;
        }

        sl_kafka_put32(p, (uint32_t) (wr.size - 4));
        r->out_last = wr.last_link;
        r->done = 1;

        sl_kafka_metrics_request(r, SL_OK);

        return SL_OK;
    }

    if (msg == NULL
        || msg->error_offset < 0
        || r->version < msg->min_version
        || r->version > msg->error_max_version)
    {
        sl_log_error(SL_LOG_ERR, r->log, 0,
                     "kafka: unsupported request: API key %d version %d, "
                     "closing connection",
                     (int) r->api_key, (int) r->version);
        return SL_ERROR;
    }

    sl_log_error(SL_LOG_INFO, r->log, 0,
                 "kafka: %s v%d is not supported", msg->name,
                 (int) r->version);

    r->resp = sl_pcalloc(r->pool, msg->response_size);
    if (r->resp == NULL) {
        return SL_ERROR;
    }

    *(int16_t *) ((u_char *) r->resp + msg->error_offset) =
                                                 SL_KAFKA_UNSUPPORTED_VERSION;

    return sl_kafka_complete(r, SL_OK);
}


static sl_int_t
sl_kafka_complete(sl_kafka_request_t *r, sl_int_t rc)
{
    sl_kafka_metrics_request(r, rc);

    if (rc == SL_ERROR) {
        return SL_ERROR;
    }

    if (rc == SL_OK) {
        if (sl_kafka_encode(r) != SL_OK) {
            return SL_ERROR;
        }
    }

    /* SL_DONE: no response at all (produce with acks 0) */

    r->done = 1;

    return SL_OK;
}


static sl_int_t
sl_kafka_encode(sl_kafka_request_t *r)
{
    u_char         *p;
    sl_kafka_wr_t   wr;

    sl_kafka_wr_init(&wr, r->pool, 0);

    p = sl_kafka_wr_reserve(&wr, 4);
    sl_kafka_wr_int32(&wr, r->correlation_id);

    /* response header v1, except ApiVersions' which is always v0 */
    if (r->flexible && r->api_key != SL_KAFKA_API_VERSIONS) {
        sl_kafka_wr_tags(&wr);
    }

    r->msg->encode_response(&wr, r->version, r->resp);

    r->out = sl_kafka_wr_finish(&wr);

    if (r->out == NULL || wr.size - 4 > INT32_MAX) {
        sl_log_error(SL_LOG_ERR, r->log, 0,
                     "kafka: cannot encode %s v%d response",
                     r->msg->name, (int) r->version);
        return SL_ERROR;
    }

    sl_kafka_put32(p, (uint32_t) (wr.size - 4));
    r->out_last = wr.last_link;

    return SL_OK;
}


/* a request that returned SL_AGAIN is done: send what is in order */

void
sl_kafka_request_finalize(sl_kafka_request_t *r, sl_int_t rc)
{
    sl_kafka_session_t  *s;

    s = r->session;

    if (sl_kafka_complete(r, rc) != SL_OK) {
        sl_kafka_close_session(s);
        return;
    }

    if (s->reading) {
        /* the read loop flushes when it is done */
        return;
    }

    if (sl_kafka_flush(s) != SL_OK) {
        sl_kafka_close_session(s);
        return;
    }

    if (s->blocked && s->nrequests < SL_KAFKA_MAX_PIPELINE) {
        s->blocked = 0;

        if (sl_kafka_read(s) != SL_OK) {
            sl_kafka_close_session(s);
        }

        return;
    }

    if (sl_kafka_idle(s) != SL_OK) {
        sl_kafka_close_session(s);
    }
}


static sl_int_t
sl_kafka_flush(sl_kafka_session_t *s)
{
    sl_queue_t          *q;
    sl_chain_t          *cl, **tail;
    sl_connection_t     *c;
    sl_kafka_request_t  *r;

    c = s->connection;

    /* the completed requests at the head of the queue go out in order */

    for (tail = &s->out; *tail; tail = &(*tail)->next) { /* void */ }

    for (q = sl_queue_head(&s->requests);
         q != sl_queue_sentinel(&s->requests);
         q = sl_queue_next(q))
    {
        r = sl_queue_data(q, sl_kafka_request_t, queue);

        if (r->queued) {
            continue;
        }

        if (!r->done) {
            break;
        }

        r->queued = 1;

        if (r->out) {
            *tail = r->out;
            tail = &r->out_last->next;
        }
    }

    if (s->out) {
        c->log->action = "sending response";

        cl = c->send_chain(c, s->out, 0);

        c->log->action = "reading request";

        if (cl == SL_CHAIN_ERROR) {
            c->error = 1;
            return SL_ERROR;
        }

        s->out = cl;
    }

    /* requests whose bytes have all gone are freed */

    while (!sl_queue_empty(&s->requests)) {
        q = sl_queue_head(&s->requests);
        r = sl_queue_data(q, sl_kafka_request_t, queue);

        if (!r->queued) {
            break;
        }

        if (r->out && s->out) {
            for (cl = r->out; cl; cl = cl->next) {
                if (cl == s->out) {
                    goto sending;
                }

                if (cl == r->out_last) {
                    break;
                }
            }
        }

        sl_queue_remove(q);
        s->nrequests--;
        sl_destroy_pool(r->pool);
    }

sending:

    if (s->out) {
        /* a client that stops reading must not hold a worker forever */
        sl_add_timer(c->write, SL_KAFKA_SEND_TIMEOUT);

        if (sl_handle_write_event(c->write, 0) != SL_OK) {
            return SL_ERROR;
        }

    } else if (c->write->timer_set) {
        sl_del_timer(c->write);
    }

    return SL_OK;
}


static void
sl_kafka_close_session(sl_kafka_session_t *s)
{
    sl_pool_t           *pool;
    sl_queue_t          *q;
    sl_connection_t     *c;
    sl_kafka_request_t  *r;

    if (s->closed) {
        return;
    }

    s->closed = 1;

    sl_kafka_metrics_connection(-1);

    while (!sl_queue_empty(&s->requests)) {
        q = sl_queue_head(&s->requests);
        r = sl_queue_data(q, sl_kafka_request_t, queue);

        sl_queue_remove(q);

        if (!r->done && r->cleanup) {
            r->cleanup(r);
        }

        sl_destroy_pool(r->pool);
    }

    s->nrequests = 0;

    if (s->lbuf) {
        sl_free(s->lbuf);
        s->lbuf = NULL;
    }

    s->large = NULL;

    c = s->connection;
    c->log->data = NULL;

    pool = c->pool;
    sl_close_connection(c);
    sl_destroy_pool(pool);
}


int16_t
sl_kafka_error(sl_int_t err)
{
    switch (err) {

    case SL_BROKER_OK:
        return SL_KAFKA_NONE;

    case SL_BROKER_ERR_CORRUPT:
        return SL_KAFKA_CORRUPT_MESSAGE;

    case SL_BROKER_ERR_TOO_LARGE:
        return SL_KAFKA_MESSAGE_TOO_LARGE;

    case SL_BROKER_ERR_UNKNOWN_TOPIC:
        return SL_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;

    case SL_BROKER_ERR_OUT_OF_RANGE:
        return SL_KAFKA_OFFSET_OUT_OF_RANGE;

    case SL_BROKER_ERR_TOPIC_EXISTS:
        return SL_KAFKA_TOPIC_ALREADY_EXISTS;

    case SL_BROKER_ERR_INVALID_TOPIC:
        return SL_KAFKA_INVALID_TOPIC_EXCEPTION;

    case SL_BROKER_ERR_INVALID_CONFIG:
        return SL_KAFKA_INVALID_CONFIG;

    case SL_BROKER_ERR_INVALID_PARTS:
        return SL_KAFKA_INVALID_PARTITIONS;

    case SL_BROKER_ERR_INVALID_RECORD:
        return SL_KAFKA_INVALID_RECORD;

    case SL_BROKER_ERR_POLICY:
        return SL_KAFKA_POLICY_VIOLATION;

    case SL_BROKER_ERR_NO_CODEC:
        return SL_KAFKA_UNSUPPORTED_COMPRESSION_TYPE;

    case SL_BROKER_ERR_STORAGE:
    case SL_BROKER_ERR_NO_MEMORY:
        return SL_KAFKA_KAFKA_STORAGE_ERROR;

    default:
        return SL_KAFKA_UNKNOWN_SERVER_ERROR;
    }
}


sl_broker_topic_t *
sl_kafka_topic_by_id(u_char *id)
{
    sl_broker_topic_t  *t;

    for (t = sl_broker_topic_next(NULL); t; t = sl_broker_topic_next(t)) {
        if (sl_memcmp(t->id, id, 16) == 0) {
            return t;
        }
    }

    return NULL;
}
