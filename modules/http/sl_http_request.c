
/*
 * An HTTP connection's life: read the request header into the
 * connection's buffer and parse it, run the phases, send the response
 * (memory and file buffers through c->send_chain), read or discard the
 * body, then keep the connection alive for the next request (possibly
 * already in the buffer: pipelining) or close it, lingering when the
 * client may still be sending.
 */

#include <sl_config.h>
#include <sl_core.h>
#include <sl_http.h>


#define SL_HTTP_LINGERING_TIMEOUT   5000
#define SL_HTTP_LINGERING_TIME      30000
/* the request, its modules' contexts and 16 headers fit in one block,
 * and a handler's state goes on in blocks of the same size: a parked
 * stream keeps its pool all its life, 4 KB blocks were mostly empty */
#define SL_HTTP_REQUEST_POOL_SIZE   1536
#define SL_HTTP_OFF_T_LEN           (sizeof("-9223372036854775808") - 1)


typedef struct {
    sl_str_t     name;
    size_t       offset;      /* of the pointer in sl_http_headers_in_t */
    sl_uint_t    unique;      /* a second one is a bad request */
} sl_http_header_in_t;


/* moving the request's strings out of the header buffer */
typedef struct {
    u_char      *start;       /* the header buffer */
    u_char      *end;
    u_char      *lo;          /* what the strings in it span */
    u_char      *hi;
    u_char      *copy;        /* of lo..hi; NULL while measuring */
} sl_http_rebase_t;


static void sl_http_wait_request_handler(sl_event_t *rev);
static sl_int_t sl_http_alloc_buffer(sl_connection_t *c);
static sl_http_request_t *sl_http_create_request(sl_connection_t *c);
static void sl_http_process_request_line(sl_event_t *rev);
static void sl_http_process_request_headers(sl_event_t *rev);
static ssize_t sl_http_read_request_header(sl_http_request_t *r);
static sl_int_t sl_http_process_request_uri(sl_http_request_t *r);
static sl_int_t sl_http_process_header_line(sl_http_request_t *r);
static sl_int_t sl_http_process_request_header(sl_http_request_t *r);
static sl_uint_t sl_http_has_token(sl_str_t *value, char *token);
static void sl_http_process_request(sl_http_request_t *r);
static void sl_http_request_handler(sl_event_t *ev);
static void sl_http_empty_request_handler(sl_http_request_t *r);
static void sl_http_empty_handler(sl_event_t *ev);
static void sl_http_rebase_request(sl_http_request_t *r,
    sl_http_rebase_t *rb);
static void sl_http_rebase_str(sl_str_t *s, sl_http_rebase_t *rb);

static sl_int_t sl_http_special_response(sl_http_request_t *r,
    sl_uint_t status);
static u_char *sl_http_header_out(u_char *p, char *name, sl_str_t *value);
static u_char *sl_http_off_t(u_char *p, off_t n);
static sl_int_t sl_http_write(sl_http_request_t *r);
static void sl_http_writer(sl_http_request_t *r);
static void sl_http_finish_request(sl_http_request_t *r);
static void sl_http_log_request(sl_http_request_t *r);

static sl_int_t sl_http_do_read_body(sl_http_request_t *r);
static sl_int_t sl_http_body_feed(sl_http_request_t *r, sl_buf_t *b);
static sl_int_t sl_http_body_init(sl_http_request_t *r);
static void sl_http_read_body_handler(sl_http_request_t *r);
static sl_int_t sl_http_discard_body(sl_http_request_t *r);
static void sl_http_discarded_body_handler(sl_http_request_t *r);

static void sl_http_set_keepalive(sl_http_request_t *r);
static void sl_http_set_lingering_close(sl_connection_t *c);
static void sl_http_lingering_close_handler(sl_event_t *rev);
static void sl_http_free_request(sl_http_request_t *r);
static void sl_http_close_request(sl_http_request_t *r);
static void sl_http_close_connection(sl_connection_t *c);


static sl_http_header_in_t  sl_http_headers_in[] = {
    { sl_string("Host"),
      offsetof(sl_http_headers_in_t, host), 1 },
    { sl_string("Connection"),
      offsetof(sl_http_headers_in_t, connection), 0 },
    { sl_string("Content-Length"),
      offsetof(sl_http_headers_in_t, content_length), 1 },
    { sl_string("Content-Type"),
      offsetof(sl_http_headers_in_t, content_type), 0 },
    { sl_string("Transfer-Encoding"),
      offsetof(sl_http_headers_in_t, transfer_encoding), 1 },
    { sl_string("If-Modified-Since"),
      offsetof(sl_http_headers_in_t, if_modified_since), 0 },
    { sl_string("Expect"),
      offsetof(sl_http_headers_in_t, expect), 0 },
    { sl_string("Last-Event-ID"),
      offsetof(sl_http_headers_in_t, last_event_id), 0 },
    { sl_null_string, 0, 0 }
};


static const char  sl_http_error_tail[] =
    "<hr><center>" SL_VER "</center>" CRLF
    "</body>" CRLF
    "</html>" CRLF;


void
sl_http_init_connection(sl_connection_t *c)
{
    sl_event_t                *rev;
    sl_http_connection_t      *hc;
    sl_http_core_main_conf_t  *cmcf;

    if (c->pool == NULL) {
        c->pool = sl_create_pool(c->listening->pool_size, c->log);
        if (c->pool == NULL) {
            sl_close_connection(c);
            return;
        }
    }

    c->data = NULL;

    hc = sl_pcalloc(c->pool, sizeof(sl_http_connection_t));
    if (hc == NULL) {
        sl_http_close_connection(c);
        return;
    }

    hc->conf_ctx = c->listening->servers;
    c->data = hc;

    rev = c->read;
    rev->handler = sl_http_wait_request_handler;
    c->write->handler = sl_http_empty_handler;

    if (rev->ready) {
        sl_http_wait_request_handler(rev);
        return;
    }

    cmcf = hc->conf_ctx->main_conf[sl_http_core_module.ctx_index];

    sl_add_timer(rev, cmcf->client_header_timeout);
    sl_reusable_connection(c, 1);

    if (sl_handle_read_event(rev, 0) != SL_OK) {
        sl_http_close_connection(c);
        return;
    }
}


/* a new connection, or a kept-alive one, waits here for a request */
static void
sl_http_wait_request_handler(sl_event_t *rev)
{
    ssize_t                    n;
    sl_buf_t                  *b;
    sl_connection_t           *c;
    sl_http_request_t         *r;
    sl_http_connection_t      *hc;
    sl_http_core_main_conf_t  *cmcf;

    c = rev->data;
    hc = c->data;

    if (rev->timedout || c->close) {
        sl_http_close_connection(c);
        return;
    }

    b = &hc->buf;

    if (b->pos == NULL || b->pos == b->last) {

        if (b->start == NULL && sl_http_alloc_buffer(c) != SL_OK) {
            sl_http_close_connection(c);
            return;
        }

        n = c->recv(c, b->last, b->end - b->last);

        if (n == SL_AGAIN) {
            if (!rev->timer_set) {
                cmcf = hc->conf_ctx->main_conf[sl_http_core_module.ctx_index];
                sl_add_timer(rev, cmcf->client_header_timeout);
            }

            if (sl_handle_read_event(rev, 0) != SL_OK) {
                sl_http_close_connection(c);
                return;
            }

            /* an idle connection keeps no buffer */
            sl_free(b->start);
            sl_memzero(b, sizeof(sl_buf_t));

            sl_reusable_connection(c, 1);
            return;
        }

        if (n == SL_ERROR || n == 0) {
            sl_http_close_connection(c);
            return;
        }

        b->last += n;
    }

    if (rev->timer_set) {
        sl_del_timer(rev);
    }

    c->idle = 0;
    sl_reusable_connection(c, 0);

    r = sl_http_create_request(c);
    if (r == NULL) {
        sl_http_close_connection(c);
        return;
    }

    rev->handler = sl_http_process_request_line;
    sl_http_process_request_line(rev);
}


static sl_int_t
sl_http_alloc_buffer(sl_connection_t *c)
{
    sl_buf_t                  *b;
    sl_http_connection_t      *hc;
    sl_http_core_main_conf_t  *cmcf;

    hc = c->data;
    cmcf = hc->conf_ctx->main_conf[sl_http_core_module.ctx_index];
    b = &hc->buf;

    b->start = sl_alloc(cmcf->client_header_buffer_size, c->log);
    if (b->start == NULL) {
        return SL_ERROR;
    }

    b->pos = b->start;
    b->last = b->start;
    b->end = b->start + cmcf->client_header_buffer_size;
    b->temporary = 1;

    return SL_OK;
}


static sl_http_request_t *
sl_http_create_request(sl_connection_t *c)
{
    sl_pool_t             *pool;
    sl_http_request_t     *r;
    sl_http_connection_t  *hc;

    hc = c->data;

    pool = sl_create_pool(SL_HTTP_REQUEST_POOL_SIZE, c->log);
    if (pool == NULL) {
        return NULL;
    }

    r = sl_pcalloc(pool, sizeof(sl_http_request_t));
    if (r == NULL) {
        sl_destroy_pool(pool);
        return NULL;
    }

    r->pool = pool;
    r->connection = c;
    r->http_connection = hc;
    r->main_conf = hc->conf_ctx->main_conf;
    r->loc_conf = hc->conf_ctx->loc_conf;

    r->ctx = sl_pcalloc(pool, sizeof(void *) * (sl_http_max_module + 1));
    if (r->ctx == NULL) {
        sl_destroy_pool(pool);
        return NULL;
    }

    if (sl_array_init(&r->headers_in.headers, pool, 16,
                      sizeof(sl_http_header_t))
        != SL_OK)
    {
        sl_destroy_pool(pool);
        return NULL;
    }

    r->headers_in.content_length_n = -1;
    r->headers_out.content_length_n = -1;
    r->headers_out.last_modified_time = -1;

    r->start_msec = sl_current_msec;
    r->sent_start = c->sent;

    r->read_event_handler = sl_http_block_reading;
    r->write_event_handler = sl_http_empty_request_handler;

    hc->request = r;
    c->requests++;

    sl_stat_add(requests, 1);

    return r;
}


static void
sl_http_process_request_line(sl_event_t *rev)
{
    ssize_t                n;
    sl_int_t               rc;
    sl_buf_t              *b;
    sl_connection_t       *c;
    sl_http_request_t     *r;
    sl_http_connection_t  *hc;

    c = rev->data;
    hc = c->data;
    r = hc->request;
    b = &hc->buf;

    if (rev->timedout) {
        sl_log_error(SL_LOG_INFO, c->log, SL_ETIMEDOUT,
                     "client timed out reading the request line");
        c->timedout = 1;
        r->headers_out.status = SL_HTTP_REQUEST_TIME_OUT;
        sl_http_close_request(r);
        return;
    }

    rc = SL_AGAIN;

    for ( ;; ) {

        if (rc == SL_AGAIN) {
            n = sl_http_read_request_header(r);

            if (n == SL_AGAIN || n == SL_ERROR) {
                return;
            }
        }

        rc = sl_http_parse_request_line(r, b);

        if (rc == SL_OK) {
            if (sl_http_process_request_uri(r) != SL_OK) {
                return;
            }

            rev->handler = sl_http_process_request_headers;
            sl_http_process_request_headers(rev);
            return;
        }

        if (rc != SL_AGAIN) {
            sl_log_error(SL_LOG_INFO, c->log, 0,
                         "client sent invalid request line");

            sl_http_finalize_request(r, rc == SL_HTTP_PARSE_INVALID_VERSION
                                        ? SL_HTTP_VERSION_NOT_SUPPORTED
                                        : SL_HTTP_BAD_REQUEST);
            return;
        }

        /* the whole buffer is parsed and the line goes on */

        if (b->last == b->end) {
            sl_log_error(SL_LOG_INFO, c->log, 0,
                         "client sent too long URI");
            sl_http_finalize_request(r, SL_HTTP_REQUEST_URI_TOO_LARGE);
            return;
        }
    }
}


static void
sl_http_process_request_headers(sl_event_t *rev)
{
    ssize_t                n;
    sl_int_t               rc;
    sl_buf_t              *b;
    sl_connection_t       *c;
    sl_http_request_t     *r;
    sl_http_connection_t  *hc;

    c = rev->data;
    hc = c->data;
    r = hc->request;
    b = &hc->buf;

    if (rev->timedout) {
        sl_log_error(SL_LOG_INFO, c->log, SL_ETIMEDOUT,
                     "client timed out reading the request headers");
        c->timedout = 1;
        r->headers_out.status = SL_HTTP_REQUEST_TIME_OUT;
        sl_http_close_request(r);
        return;
    }

    rc = SL_AGAIN;

    for ( ;; ) {

        if (rc == SL_AGAIN) {

            if (b->pos == b->end) {
                sl_log_error(SL_LOG_INFO, c->log, 0,
                             "client sent too large request header");
                sl_http_finalize_request(r, SL_HTTP_HEADER_TOO_LARGE);
                return;
            }

            n = sl_http_read_request_header(r);

            if (n == SL_AGAIN || n == SL_ERROR) {
                return;
            }
        }

        rc = sl_http_parse_header_line(r, b);

        if (rc == SL_OK) {
            if (sl_http_process_header_line(r) != SL_OK) {
                return;
            }

            continue;
        }

        if (rc == SL_HTTP_PARSE_HEADER_DONE) {
            r->request_length = b->pos - r->request_start;

            if (sl_http_process_request_header(r) != SL_OK) {
                return;
            }

            sl_http_process_request(r);
            return;
        }

        if (rc == SL_AGAIN) {
            continue;
        }

        sl_log_error(SL_LOG_INFO, c->log, 0,
                     "client sent invalid header line");
        sl_http_finalize_request(r, SL_HTTP_BAD_REQUEST);
        return;
    }
}


/* returns what is in the buffer and not parsed, reading when nothing is */
static ssize_t
sl_http_read_request_header(sl_http_request_t *r)
{
    ssize_t                    n;
    sl_buf_t                  *b;
    sl_event_t                *rev;
    sl_connection_t           *c;
    sl_http_core_main_conf_t  *cmcf;

    c = r->connection;
    rev = c->read;
    b = &r->http_connection->buf;

    n = b->last - b->pos;

    if (n > 0) {
        return n;
    }

    if (rev->ready) {
        n = c->recv(c, b->last, b->end - b->last);

    } else {
        n = SL_AGAIN;
    }

    if (n == SL_AGAIN) {
        if (!rev->timer_set) {
            cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);
            sl_add_timer(rev, cmcf->client_header_timeout);
        }

        if (sl_handle_read_event(rev, 0) != SL_OK) {
            sl_http_close_request(r);
            return SL_ERROR;
        }

        return SL_AGAIN;
    }

    if (n == 0) {
        sl_log_error(SL_LOG_INFO, c->log, 0,
                     "client prematurely closed connection");
    }

    if (n == 0 || n == SL_ERROR) {
        /* logged as nginx does: the request was bad, nothing was sent */
        c->error = 1;
        r->headers_out.status = SL_HTTP_BAD_REQUEST;
        sl_http_close_request(r);
        return SL_ERROR;
    }

    b->last += n;

    return n;
}


static sl_int_t
sl_http_process_request_uri(sl_http_request_t *r)
{
    u_char  *dst, *path_end;

    r->request_line.data = r->request_start;
    r->request_line.len = r->request_end - r->request_start;
    r->method_name.data = r->request_start;
    r->method_name.len = r->method_end - r->request_start;
    r->unparsed_uri.data = r->uri_start;
    r->unparsed_uri.len = r->uri_end - r->uri_start;

    if (r->args_start) {
        r->args.data = r->args_start;
        r->args.len = r->uri_end - r->args_start;
        path_end = r->args_start - 1;

    } else {
        path_end = r->uri_end;
    }

    if (r->host_start) {
        r->host.data = r->host_start;
        r->host.len = r->host_end - r->host_start;
    }

    if (!r->complex_uri) {
        r->uri.data = r->uri_start;
        r->uri.len = path_end - r->uri_start;
        sl_http_set_exten(r);
        return SL_OK;
    }

    dst = sl_pnalloc(r->pool, path_end - r->uri_start + 1);
    if (dst == NULL) {
        sl_http_close_request(r);
        return SL_ERROR;
    }

    if (sl_http_parse_complex_uri(r, dst) != SL_OK) {
        sl_log_error(SL_LOG_INFO, r->connection->log, 0,
                     "client sent invalid URI \"%.*s\"",
                     SL_STR_ARG(&r->unparsed_uri));
        sl_http_finalize_request(r, SL_HTTP_BAD_REQUEST);
        return SL_ERROR;
    }

    return SL_OK;
}


static sl_int_t
sl_http_process_header_line(sl_http_request_t *r)
{
    sl_http_header_t      *h, **hp, *old;
    sl_http_header_in_t   *hi;

    old = r->headers_in.headers.elts;

    h = sl_array_push(&r->headers_in.headers);
    if (h == NULL) {
        sl_http_close_request(r);
        return SL_ERROR;
    }

    if (r->headers_in.headers.elts != old) {
        /* the array moved: the known headers follow it, so that they
         * are the elements that sl_http_release_header_buffer() moves */

        for (hi = sl_http_headers_in; hi->name.len; hi++) {
            hp = (sl_http_header_t **) ((u_char *) &r->headers_in
                                        + hi->offset);
            if (*hp) {
                *hp = (sl_http_header_t *) r->headers_in.headers.elts
                      + (*hp - old);
            }
        }
    }

    h->key.data = r->header_name_start;
    h->key.len = r->header_name_end - r->header_name_start;
    h->value.data = r->header_start;
    h->value.len = r->header_end - r->header_start;

    for (hi = sl_http_headers_in; hi->name.len; hi++) {
        if (hi->name.len != h->key.len
            || sl_strncasecmp(hi->name.data, h->key.data, h->key.len) != 0)
        {
            continue;
        }

        hp = (sl_http_header_t **) ((u_char *) &r->headers_in + hi->offset);

        if (*hp && hi->unique) {
            sl_log_error(SL_LOG_INFO, r->connection->log, 0,
                         "client sent duplicate header \"%.*s\"",
                         SL_STR_ARG(&h->key));
            sl_http_finalize_request(r, SL_HTTP_BAD_REQUEST);
            return SL_ERROR;
        }

        *hp = h;
        break;
    }

    return SL_OK;
}


static sl_int_t
sl_http_process_request_header(sl_http_request_t *r)
{
    char                  *err;
    sl_http_headers_in_t  *hin;

    hin = &r->headers_in;
    err = NULL;

    if (r->http_version >= SL_HTTP_VERSION_11 && hin->host == NULL
        && r->host.len == 0)
    {
        err = "client sent HTTP/1.1 request without \"Host\" header";
        goto bad;
    }

    if (hin->content_length) {
        hin->content_length_n = sl_atoof(hin->content_length->value.data,
                                         hin->content_length->value.len);

        if (hin->content_length_n == SL_ERROR) {
            err = "client sent invalid \"Content-Length\" header";
            goto bad;
        }
    }

    if (hin->transfer_encoding) {
        if (r->http_version < SL_HTTP_VERSION_11) {
            err = "client sent \"Transfer-Encoding\" in HTTP/1.0 request";
            goto bad;
        }

        if (hin->content_length) {
            err = "client sent \"Content-Length\" and \"Transfer-Encoding\"";
            goto bad;
        }

        if (hin->transfer_encoding->value.len != 7
            || sl_strncasecmp(hin->transfer_encoding->value.data,
                              (u_char *) "chunked", 7) != 0)
        {
            sl_log_error(SL_LOG_INFO, r->connection->log, 0,
                         "client sent unknown \"Transfer-Encoding\": "
                         "\"%.*s\"",
                         SL_STR_ARG(&hin->transfer_encoding->value));
            sl_http_finalize_request(r, SL_HTTP_NOT_IMPLEMENTED);
            return SL_ERROR;
        }

        hin->chunked = 1;
    }

    if (hin->connection) {
        hin->connection_close = sl_http_has_token(&hin->connection->value,
                                                  "close");
        hin->connection_keep_alive =
            sl_http_has_token(&hin->connection->value, "keep-alive");
    }

    if (r->http_version >= SL_HTTP_VERSION_11) {
        r->keepalive = !hin->connection_close;

    } else {
        r->keepalive = hin->connection_keep_alive;
    }

    return SL_OK;

bad:

    sl_log_error(SL_LOG_INFO, r->connection->log, 0, "%s", err);
    sl_http_finalize_request(r, SL_HTTP_BAD_REQUEST);

    return SL_ERROR;
}


/* a comma-separated list such as "keep-alive, Upgrade" */
static sl_uint_t
sl_http_has_token(sl_str_t *value, char *token)
{
    size_t   len;
    u_char  *p, *last, *start;

    len = sl_strlen(token);
    p = value->data;
    last = p + value->len;

    while (p < last) {
        while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        start = p;

        while (p < last && *p != ',' && *p != ' ' && *p != '\t') {
            p++;
        }

        if ((size_t) (p - start) == len
            && sl_strncasecmp(start, (u_char *) token, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static void
sl_http_process_request(sl_http_request_t *r)
{
    sl_connection_t  *c;

    c = r->connection;

    if (c->read->timer_set) {
        sl_del_timer(c->read);
    }

    c->read->handler = sl_http_request_handler;
    c->write->handler = sl_http_request_handler;

    sl_http_run_phases(r);
}


void
sl_http_run_phases(sl_http_request_t *r)
{
    sl_int_t                   rc;
    sl_http_phase_t           *ph;
    sl_http_handler_pt        *h;
    sl_http_core_loc_conf_t   *clcf;
    sl_http_core_main_conf_t  *cmcf;

    cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);

    while (r->phase < SL_HTTP_LOG_PHASE) {

        clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

        if (r->phase == SL_HTTP_CONTENT_PHASE && clcf->handler) {
            sl_http_finalize_request(r, clcf->handler(r));
            return;
        }

        ph = &cmcf->phases[r->phase];
        h = ph->handlers.elts;

        while (r->phase_index < ph->handlers.nelts) {
            rc = h[r->phase_index](r);

            if (rc == SL_AGAIN || rc == SL_DONE) {
                return;
            }

            if (r->phase == SL_HTTP_CONTENT_PHASE) {
                if (rc != SL_DECLINED) {
                    sl_http_finalize_request(r, rc);
                    return;
                }

            } else if (rc != SL_OK && rc != SL_DECLINED) {
                sl_http_finalize_request(r, rc);
                return;
            }

            r->phase_index++;
        }

        if (r->phase == SL_HTTP_CONTENT_PHASE) {
            /* nothing in this server produces that URI */
            sl_http_finalize_request(r, SL_HTTP_NOT_FOUND);
            return;
        }

        if (r->phase == SL_HTTP_POST_READ_PHASE) {
            (void) sl_http_find_location(r);

            clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

            if (clcf->client_max_body_size
                && r->headers_in.content_length_n
                   > (off_t) clcf->client_max_body_size)
            {
                sl_log_error(SL_LOG_INFO, r->connection->log, 0,
                             "client intended to send too large body: "
                             "%jd bytes",
                             (intmax_t) r->headers_in.content_length_n);
                sl_http_finalize_request(r,
                                         SL_HTTP_REQUEST_ENTITY_TOO_LARGE);
                return;
            }
        }

        r->phase++;
        r->phase_index = 0;
    }
}


static void
sl_http_request_handler(sl_event_t *ev)
{
    sl_connection_t       *c;
    sl_http_request_t     *r;
    sl_http_connection_t  *hc;

    c = ev->data;
    hc = c->data;
    r = hc->request;

    if (ev->write) {
        r->write_event_handler(r);

    } else {
        r->read_event_handler(r);
    }
}


void
sl_http_block_reading(sl_http_request_t *r)
{
    /* edge-triggered: the bytes wait in the socket, no event repeats */
}


sl_int_t
sl_http_release_header_buffer(sl_http_request_t *r)
{
    size_t                 len;
    sl_buf_t              *b;
    sl_http_rebase_t       rb;
    sl_http_connection_t  *hc;

    hc = r->http_connection;
    b = &hc->buf;

    if (b->start == NULL) {
        return SL_OK;
    }

    if (hc->request != r || b->pos != b->last) {
        return SL_DECLINED;
    }

    rb.start = b->start;
    rb.end = b->end;
    rb.lo = NULL;
    rb.hi = NULL;
    rb.copy = NULL;

    sl_http_rebase_request(r, &rb);

    if (rb.lo) {
        len = rb.hi - rb.lo;

        rb.copy = sl_pnalloc(r->pool, len ? len : 1);
        if (rb.copy == NULL) {
            return SL_ERROR;
        }

        sl_memcpy(rb.copy, rb.lo, len);

        sl_http_rebase_request(r, &rb);
    }

    /* the parser's positions are of no use once the header is parsed */

    r->request_start = NULL;
    r->request_end = NULL;
    r->method_end = NULL;
    r->uri_start = NULL;
    r->uri_end = NULL;
    r->args_start = NULL;
    r->host_start = NULL;
    r->host_end = NULL;
    r->header_name_start = NULL;
    r->header_name_end = NULL;
    r->header_start = NULL;
    r->header_end = NULL;

    sl_free(b->start);
    sl_memzero(b, sizeof(sl_buf_t));

    return SL_OK;
}


/* measures (rb->copy NULL) or moves every string that may point into the
 * header buffer; a decoded URI and its exten are in the pool already */
static void
sl_http_rebase_request(sl_http_request_t *r, sl_http_rebase_t *rb)
{
    sl_uint_t          i;
    sl_http_header_t  *h;

    sl_http_rebase_str(&r->request_line, rb);
    sl_http_rebase_str(&r->method_name, rb);
    sl_http_rebase_str(&r->unparsed_uri, rb);
    sl_http_rebase_str(&r->uri, rb);
    sl_http_rebase_str(&r->args, rb);
    sl_http_rebase_str(&r->exten, rb);
    sl_http_rebase_str(&r->host, rb);

    h = r->headers_in.headers.elts;

    for (i = 0; i < r->headers_in.headers.nelts; i++) {
        sl_http_rebase_str(&h[i].key, rb);
        sl_http_rebase_str(&h[i].value, rb);
    }
}


static void
sl_http_rebase_str(sl_str_t *s, sl_http_rebase_t *rb)
{
    if (s->data == NULL || s->data < rb->start || s->data > rb->end) {
        return;
    }

    if (rb->copy) {
        s->data = rb->copy + (s->data - rb->lo);
        return;
    }

    if (rb->lo == NULL || s->data < rb->lo) {
        rb->lo = s->data;
    }

    if (rb->hi == NULL || s->data + s->len > rb->hi) {
        rb->hi = s->data + s->len;
    }
}


static void
sl_http_empty_request_handler(sl_http_request_t *r)
{
}


static void
sl_http_empty_handler(sl_event_t *ev)
{
}


/*
 * SL_OK: the handler has queued its whole response; SL_DONE and SL_AGAIN:
 * the handler still owns the request and finalizes it later (or already
 * has); SL_ERROR: close; an HTTP status: send that status's page.
 */
void
sl_http_finalize_request(sl_http_request_t *r, sl_int_t rc)
{
    if (rc == SL_DONE || rc == SL_AGAIN) {
        return;
    }

    if (rc == SL_ERROR || rc == SL_DECLINED) {
        sl_http_close_request(r);
        return;
    }

    if (rc >= SL_HTTP_SPECIAL_RESPONSE) {
        if (r->header_sent) {
            /* too late for an error page: the client sees a short reply */
            sl_http_close_request(r);
            return;
        }

        if (sl_http_special_response(r, rc) == SL_ERROR) {
            sl_http_close_request(r);
            return;
        }
    }

    r->finalized = 1;

    if (r->out) {
        r->write_event_handler = sl_http_writer;
        return;
    }

    sl_http_finish_request(r);
}


static sl_int_t
sl_http_special_response(sl_http_request_t *r, sl_uint_t status)
{
    u_char                   *p;
    size_t                    len;
    sl_buf_t                 *b;
    sl_chain_t               *cl;
    sl_str_t                  allow, *location, type, body;
    const char               *text;
    sl_http_headers_out_t    *ho;
    sl_http_core_loc_conf_t  *clcf;

    ho = &r->headers_out;
    location = &ho->location;

    ho->status = status;
    ho->last_modified_time = -1;
    ho->headers.nelts = 0;
    sl_str_set(&ho->content_type, "text/html");

    if (status < 300 || status >= 400) {
        location->len = 0;
    }

    switch (status) {

    case SL_HTTP_NOT_MODIFIED:
    case SL_HTTP_NO_CONTENT:
        ho->content_length_n = -1;
        ho->content_type.len = 0;
        r->header_only = 1;
        return sl_http_send_header(r) == SL_OK ? sl_http_output(r, NULL)
                                               : SL_ERROR;

    case SL_HTTP_NOT_ALLOWED:
        sl_str_set(&allow, "GET, HEAD");
        if (sl_http_add_header(r, "Allow", &allow) != SL_OK) {
            return SL_ERROR;
        }
        break;

    case SL_HTTP_BAD_REQUEST:
    case SL_HTTP_REQUEST_TIME_OUT:
    case SL_HTTP_LENGTH_REQUIRED:
    case SL_HTTP_REQUEST_ENTITY_TOO_LARGE:
    case SL_HTTP_REQUEST_URI_TOO_LARGE:
    case SL_HTTP_HEADER_TOO_LARGE:
    case SL_HTTP_INTERNAL_SERVER_ERROR:
    case SL_HTTP_NOT_IMPLEMENTED:
    case SL_HTTP_VERSION_NOT_SUPPORTED:
        /* what follows in the stream cannot be trusted to be a request */
        r->keepalive = 0;
        r->lingering_close = 1;
        break;

    default:
        break;
    }

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    if (clcf->error_body
        && clcf->error_body(r, status, &type, &body) == SL_OK)
    {
        b = sl_calloc_buf(r->pool);
        if (b == NULL) {
            return SL_ERROR;
        }

        ho->content_type = type;
        b->pos = body.data;
        b->last = body.data + body.len;
        b->memory = 1;
        b->last_buf = 1;

        goto send;
    }

    text = sl_http_status_text(status);

    len = sizeof("<html>" CRLF "<head><title>") - 1
          + 2 * (sizeof("999 ") - 1 + sl_strlen(text))
          + sizeof("</title></head>" CRLF "<body>" CRLF "<center><h1>") - 1
          + sizeof("</h1></center>" CRLF) - 1
          + sizeof(sl_http_error_tail) - 1;

    b = sl_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return SL_ERROR;
    }

    p = sl_slprintf(b->last, b->end,
                    "<html>" CRLF
                    "<head><title>%u %s</title></head>" CRLF
                    "<body>" CRLF
                    "<center><h1>%u %s</h1></center>" CRLF,
                    (unsigned) status, text, (unsigned) status, text);
    b->last = sl_cpymem(p, sl_http_error_tail,
                        sizeof(sl_http_error_tail) - 1);
    b->last_buf = 1;

send:

    ho->content_length_n = b->last - b->pos;

    if (sl_http_send_header(r) != SL_OK) {
        return SL_ERROR;
    }

    cl = sl_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return SL_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    return sl_http_output(r, cl) == SL_ERROR ? SL_ERROR : SL_OK;
}


const char *
sl_http_status_text(sl_uint_t status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Time-out";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Requested Range Not Satisfiable";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Temporarily Unavailable";
    case 504: return "Gateway Time-out";
    case 505: return "HTTP Version Not Supported";
    default:  return "Unknown";
    }
}


sl_int_t
sl_http_add_header(sl_http_request_t *r, char *key, sl_str_t *value)
{
    sl_keyval_t            *kv;
    sl_http_headers_out_t  *ho;

    ho = &r->headers_out;

    if (ho->headers.elts == NULL
        && sl_array_init(&ho->headers, r->pool, 4, sizeof(sl_keyval_t))
           != SL_OK)
    {
        return SL_ERROR;
    }

    kv = sl_array_push(&ho->headers);
    if (kv == NULL) {
        return SL_ERROR;
    }

    kv->key.data = (u_char *) key;
    kv->key.len = sl_strlen(key);
    kv->value = *value;

    return SL_OK;
}


sl_http_header_t *
sl_http_find_header(sl_http_request_t *r, char *name)
{
    size_t             len;
    sl_uint_t          i;
    sl_http_header_t  *h;

    len = sl_strlen(name);
    h = r->headers_in.headers.elts;

    for (i = 0; i < r->headers_in.headers.nelts; i++) {
        if (h[i].key.len == len
            && sl_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }

    return NULL;
}


sl_int_t
sl_http_send_header(sl_http_request_t *r)
{
    size_t                    len;
    u_char                   *p;
    sl_buf_t                 *b;
    sl_uint_t                 i, status;
    const char               *text;
    sl_chain_t               *cl, **ll;
    sl_keyval_t              *kv;
    sl_connection_t          *c;
    sl_http_headers_out_t    *ho;
    sl_http_core_loc_conf_t  *clcf;

    c = r->connection;
    ho = &r->headers_out;

    if (r->header_sent) {
        sl_log_error(SL_LOG_ALERT, c->log, 0, "header already sent");
        return SL_ERROR;
    }

    r->header_sent = 1;

    if (ho->status == 0) {
        ho->status = SL_HTTP_OK;
    }

    status = ho->status;

    if (r->method == SL_HTTP_HEAD) {
        r->header_only = 1;
    }

    if (r->keepalive) {
        clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

        if (clcf->keepalive_timeout == 0
            || c->requests >= clcf->keepalive_requests
            || sl_exiting)
        {
            r->keepalive = 0;
        }
    }

    if (ho->content_length_n < 0 && status != SL_HTTP_NO_CONTENT
        && status != SL_HTTP_NOT_MODIFIED && !r->header_only)
    {
        if (r->http_version >= SL_HTTP_VERSION_11) {
            r->chunked_out = 1;

        } else {
            /* the end of the body is the end of the connection */
            r->keepalive = 0;
        }
    }

    text = sl_http_status_text(status);

    /* what is written below, no more: a parked stream keeps it */

    len = sizeof("HTTP/1.1 999 " CRLF) - 1 + sl_strlen(text)
          + sizeof("Server: " SL_VER CRLF) - 1
          + sizeof("Date: " CRLF) - 1 + sl_cached_http_time.len
          + sizeof("Connection: keep-alive" CRLF) - 1
          + sizeof(CRLF) - 1;

    if (ho->content_type.len) {
        len += sizeof("Content-Type: " CRLF) - 1 + ho->content_type.len;
    }

    if (ho->content_length_n >= 0) {
        len += sizeof("Content-Length: " CRLF) - 1 + SL_HTTP_OFF_T_LEN;

    } else if (r->chunked_out) {
        len += sizeof("Transfer-Encoding: chunked" CRLF) - 1;
    }

    if (ho->last_modified_time >= 0) {
        len += sizeof("Last-Modified: Mon, 28 Sep 1970 06:00:00 GMT" CRLF)
               - 1;
    }

    if (ho->location.len) {
        len += sizeof("Location: " CRLF) - 1 + ho->location.len;
    }

    kv = ho->headers.elts;

    for (i = 0; i < ho->headers.nelts; i++) {
        len += kv[i].key.len + sizeof(": " CRLF) - 1 + kv[i].value.len;
    }

    b = sl_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return SL_ERROR;
    }

    /* copies, not printf: this runs for every response */

    p = sl_cpymem(b->last, "HTTP/1.1 ", sizeof("HTTP/1.1 ") - 1);
    *p++ = (u_char) ('0' + status / 100 % 10);
    *p++ = (u_char) ('0' + status / 10 % 10);
    *p++ = (u_char) ('0' + status % 10);
    *p++ = ' ';
    p = sl_cpymem(p, text, sl_strlen(text));
    *p++ = CR; *p++ = LF;

    p = sl_cpymem(p, "Server: " SL_VER CRLF "Date: ",
                  sizeof("Server: " SL_VER CRLF "Date: ") - 1);
    p = sl_cpymem(p, sl_cached_http_time.data, sl_cached_http_time.len);
    *p++ = CR; *p++ = LF;

    if (ho->content_type.len) {
        p = sl_http_header_out(p, "Content-Type: ", &ho->content_type);
    }

    if (ho->content_length_n >= 0) {
        p = sl_cpymem(p, "Content-Length: ", sizeof("Content-Length: ") - 1);
        p = sl_http_off_t(p, ho->content_length_n);
        *p++ = CR; *p++ = LF;

    } else if (r->chunked_out) {
        p = sl_cpymem(p, "Transfer-Encoding: chunked" CRLF,
                      sizeof("Transfer-Encoding: chunked" CRLF) - 1);
    }

    if (ho->last_modified_time >= 0) {
        p = sl_cpymem(p, "Last-Modified: ", sizeof("Last-Modified: ") - 1);
        p = sl_http_time(p, ho->last_modified_time);
        *p++ = CR; *p++ = LF;
    }

    if (ho->location.len) {
        p = sl_http_header_out(p, "Location: ", &ho->location);
    }

    for (i = 0; i < ho->headers.nelts; i++) {
        p = sl_cpymem(p, kv[i].key.data, kv[i].key.len);
        p = sl_http_header_out(p, ": ", &kv[i].value);
    }

    if (r->keepalive) {
        p = sl_cpymem(p, "Connection: keep-alive" CRLF,
                      sizeof("Connection: keep-alive" CRLF) - 1);

    } else {
        p = sl_cpymem(p, "Connection: close" CRLF,
                      sizeof("Connection: close" CRLF) - 1);
    }

    *p++ = CR; *p++ = LF;
    b->last = p;

    r->header_size = b->last - b->pos;

    cl = sl_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return SL_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    for (ll = &r->out; *ll; ll = &(*ll)->next) { /* void */ }

    *ll = cl;

    return SL_OK;
}


static u_char *
sl_http_header_out(u_char *p, char *name, sl_str_t *value)
{
    p = sl_cpymem(p, name, sl_strlen(name));
    p = sl_cpymem(p, value->data, value->len);
    *p++ = CR; *p++ = LF;

    return p;
}


static u_char *
sl_http_off_t(u_char *p, off_t n)
{
    u_char   tmp[SL_HTTP_OFF_T_LEN], *t;
    uint64_t  v;

    if (n < 0) {
        *p++ = '-';
        v = (uint64_t) 0 - (uint64_t) n;

    } else {
        v = (uint64_t) n;
    }

    t = tmp + sizeof(tmp);

    do {
        *--t = (u_char) ('0' + v % 10);
        v /= 10;
    } while (v);

    return sl_cpymem(p, t, tmp + sizeof(tmp) - t);
}


/*
 * Queues the body (dropped for HEAD, framed when chunked) and writes as
 * much as the socket takes; the rest goes when the socket is writable.
 */
sl_int_t
sl_http_output(sl_http_request_t *r, sl_chain_t *in)
{
    off_t        size;
    sl_buf_t    *b;
    sl_uint_t    last;
    sl_chain_t  *cl, **ll;

    for (ll = &r->out; *ll; ll = &(*ll)->next) { /* void */ }

    for ( /* void */ ; in; in = in->next) {

        last = in->buf->last_buf;

        if (last) {
            r->last_sent = 1;
        }

        if (r->header_only) {
            continue;
        }

        size = sl_buf_size(in->buf);

        if (size == 0 && !(r->chunked_out && last)) {
            continue;
        }

        if (r->chunked_out && size) {
            b = sl_create_temp_buf(r->pool, sizeof("ffffffffffffffff" CRLF));
            cl = sl_alloc_chain_link(r->pool);
            if (b == NULL || cl == NULL) {
                return SL_ERROR;
            }

            b->last = sl_slprintf(b->last, b->end, "%jx" CRLF,
                                  (intmax_t) size);
            cl->buf = b;
            *ll = cl;
            ll = &cl->next;
        }

        if (size) {
            cl = sl_alloc_chain_link(r->pool);
            if (cl == NULL) {
                return SL_ERROR;
            }

            cl->buf = in->buf;
            *ll = cl;
            ll = &cl->next;
        }

        if (r->chunked_out) {
            b = sl_calloc_buf(r->pool);
            cl = sl_alloc_chain_link(r->pool);
            if (b == NULL || cl == NULL) {
                return SL_ERROR;
            }

            if (!last) {
                b->pos = (u_char *) CRLF;

            } else if (size) {
                b->pos = (u_char *) CRLF "0" CRLF CRLF;

            } else {
                b->pos = (u_char *) "0" CRLF CRLF;
            }

            b->last = b->pos + sl_strlen(b->pos);
            b->memory = 1;
            cl->buf = b;
            *ll = cl;
            ll = &cl->next;
        }
    }

    *ll = NULL;

    return sl_http_write(r);
}


static sl_int_t
sl_http_write(sl_http_request_t *r)
{
    sl_chain_t               *cl;
    sl_event_t               *wev;
    sl_connection_t          *c;
    sl_http_core_loc_conf_t  *clcf;

    c = r->connection;
    wev = c->write;

    if (r->out == NULL) {
        return SL_OK;
    }

    cl = c->send_chain(c, r->out, 0);

    if (cl == SL_CHAIN_ERROR) {
        c->error = 1;
        return SL_ERROR;
    }

    r->out = cl;

    if (cl) {
        clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

        if (wev->timer_set) {
            sl_del_timer(wev);
        }

        sl_add_timer(wev, clcf->send_timeout);

        if (sl_handle_write_event(wev, 0) != SL_OK) {
            c->error = 1;
            return SL_ERROR;
        }

        r->write_event_handler = sl_http_writer;

        return SL_AGAIN;
    }

    if (wev->timer_set) {
        sl_del_timer(wev);
    }

    return SL_OK;
}


static void
sl_http_writer(sl_http_request_t *r)
{
    sl_int_t          rc;
    sl_connection_t  *c;

    c = r->connection;

    if (c->write->timedout) {
        sl_log_error(SL_LOG_INFO, c->log, SL_ETIMEDOUT,
                     "client timed out sending the response");
        c->timedout = 1;
        sl_http_close_request(r);
        return;
    }

    rc = sl_http_write(r);

    if (rc == SL_ERROR) {
        sl_http_close_request(r);
        return;
    }

    if (rc == SL_AGAIN) {
        return;
    }

    r->write_event_handler = sl_http_empty_request_handler;

    if (r->finalized) {
        sl_http_finish_request(r);
    }
}


/* the response is out: discard what is left of the body, log, and go on */
static void
sl_http_finish_request(sl_http_request_t *r)
{
    sl_int_t          rc;
    sl_connection_t  *c;

    c = r->connection;

    if (r->keepalive && !r->body_read) {
        rc = sl_http_discard_body(r);

        if (rc == SL_AGAIN) {
            return;
        }

        if (rc != SL_OK) {
            r->keepalive = 0;
        }
    }

    sl_http_log_request(r);

    if (r->keepalive && !c->error) {
        sl_http_set_keepalive(r);
        return;
    }

    if (r->lingering_close && !c->error) {
        sl_http_free_request(r);
        sl_http_set_lingering_close(c);
        return;
    }

    sl_http_close_request(r);
}


sl_int_t
sl_http_read_client_request_body(sl_http_request_t *r,
    sl_http_body_handler_pt post_handler)
{
    sl_int_t                 rc;
    sl_http_request_body_t  *rb;
    sl_connection_t         *c;

    c = r->connection;

    if (r->request_body || r->body_read) {
        post_handler(r);
        return SL_OK;
    }

    if (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked) {
        /* no body: nothing to set up (a parked request keeps its pool) */
        r->body_read = 1;
        post_handler(r);
        return SL_OK;
    }

    rc = sl_http_body_init(r);
    if (rc != SL_OK) {
        return rc;
    }

    rb = r->request_body;
    rb->post_handler = post_handler;

    if (rb->tmp == NULL) {
        r->body_read = 1;
        post_handler(r);
        return SL_OK;
    }

    if (r->headers_in.expect
        && r->http_version >= SL_HTTP_VERSION_11
        && sl_http_has_token(&r->headers_in.expect->value, "100-continue")
        && r->http_connection->buf.pos == r->http_connection->buf.last)
    {
        /* a small line the socket always takes; a lost one is harmless */
        (void) c->send(c, (u_char *) "HTTP/1.1 100 Continue" CRLF CRLF,
                       sizeof("HTTP/1.1 100 Continue" CRLF CRLF) - 1);
    }

    rc = sl_http_do_read_body(r);

    if (rc == SL_OK) {
        r->body_read = 1;
        post_handler(r);
        return SL_OK;
    }

    if (rc == SL_AGAIN) {
        r->read_event_handler = sl_http_read_body_handler;
    }

    return rc;
}


/* sets up r->request_body; rb->tmp stays NULL when there is no body */
static sl_int_t
sl_http_body_init(sl_http_request_t *r)
{
    size_t                     size;
    sl_http_request_body_t    *rb;
    sl_http_core_loc_conf_t   *clcf;
    sl_http_core_main_conf_t  *cmcf;

    rb = sl_pcalloc(r->pool, sizeof(sl_http_request_body_t));
    if (rb == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->request_body = rb;

    if (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked) {
        return SL_OK;
    }

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);
    cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);

    rb->rest = r->headers_in.content_length_n;

    if (r->headers_in.chunked) {
        size = clcf->client_body_buffer_size;

    } else {
        size = (size_t) r->headers_in.content_length_n;
    }

    rb->buf = sl_create_temp_buf(r->pool, size);

    /* no larger than the header buffer, whose room it may take over */
    rb->tmp = sl_create_temp_buf(r->pool, cmcf->client_header_buffer_size);

    if (rb->buf == NULL || rb->tmp == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    return SL_OK;
}


static void
sl_http_read_body_handler(sl_http_request_t *r)
{
    sl_int_t  rc;

    if (r->connection->read->timedout) {
        r->connection->timedout = 1;
        sl_http_finalize_request(r, SL_HTTP_REQUEST_TIME_OUT);
        return;
    }

    rc = sl_http_do_read_body(r);

    if (rc == SL_AGAIN) {
        return;
    }

    if (r->connection->read->timer_set) {
        sl_del_timer(r->connection->read);
    }

    r->read_event_handler = sl_http_block_reading;

    if (rc != SL_OK) {
        sl_http_finalize_request(r, rc);
        return;
    }

    r->body_read = 1;
    r->request_body->post_handler(r);
}


/*
 * Body bytes come first from what followed the header in the header
 * buffer, then from the socket through rb->tmp.  A Content-Length body
 * is read no further than its end; a chunked one may overread, and
 * sl_http_set_keepalive() moves that into the header buffer.
 */
static sl_int_t
sl_http_do_read_body(sl_http_request_t *r)
{
    size_t                    size;
    ssize_t                   n;
    u_char                   *pos;
    sl_int_t                  rc;
    sl_buf_t                 *hb, *tmp;
    sl_connection_t          *c;
    sl_http_request_body_t   *rb;
    sl_http_core_loc_conf_t  *clcf;

    c = r->connection;
    rb = r->request_body;
    hb = &r->http_connection->buf;
    tmp = rb->tmp;

    for ( ;; ) {

        if (hb->pos < hb->last) {
            pos = hb->pos;
            rc = sl_http_body_feed(r, hb);
            r->request_length += hb->pos - pos;

            if (rc != SL_AGAIN) {
                return rc;
            }

            continue;
        }

        if (tmp->pos < tmp->last) {
            pos = tmp->pos;
            rc = sl_http_body_feed(r, tmp);
            r->request_length += tmp->pos - pos;

            if (rc != SL_AGAIN) {
                return rc;
            }

            continue;
        }

        tmp->pos = tmp->start;
        tmp->last = tmp->start;

        size = tmp->end - tmp->start;

        if (!r->headers_in.chunked && (off_t) size > rb->rest) {
            size = (size_t) rb->rest;
        }

        n = c->read->ready ? c->recv(c, tmp->last, size) : SL_AGAIN;

        if (n == SL_AGAIN) {
            clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

            if (c->read->timer_set) {
                sl_del_timer(c->read);
            }

            sl_add_timer(c->read, clcf->client_body_timeout);

            if (sl_handle_read_event(c->read, 0) != SL_OK) {
                return SL_HTTP_INTERNAL_SERVER_ERROR;
            }

            return SL_AGAIN;
        }

        if (n == 0) {
            sl_log_error(SL_LOG_INFO, c->log, 0,
                         "client prematurely closed connection "
                         "while sending the body");
        }

        if (n == 0 || n == SL_ERROR) {
            c->error = 1;
            return SL_HTTP_BAD_REQUEST;
        }

        tmp->last += n;
    }
}


static sl_int_t
sl_http_body_feed(sl_http_request_t *r, sl_buf_t *b)
{
    off_t                     n;
    size_t                    size;
    sl_int_t                  rc;
    sl_buf_t                 *nb;
    sl_http_request_body_t   *rb;
    sl_http_core_loc_conf_t  *clcf;

    rb = r->request_body;

    if (!r->headers_in.chunked) {
        n = sl_min(rb->rest, b->last - b->pos);

        if (rb->buf) {
            rb->buf->last = sl_cpymem(rb->buf->last, b->pos, (size_t) n);
        }

        b->pos += n;
        rb->rest -= n;

        return rb->rest ? SL_AGAIN : SL_OK;
    }

    for ( ;; ) {
        rc = sl_http_parse_chunked(r, b, &rb->chunked);

        if (rc == SL_DONE) {
            return SL_OK;
        }

        if (rc == SL_AGAIN) {
            return SL_AGAIN;
        }

        if (rc != SL_OK) {
            sl_log_error(SL_LOG_INFO, r->connection->log, 0,
                         "client sent invalid chunked body");
            return SL_HTTP_BAD_REQUEST;
        }

        n = sl_min(rb->chunked.size, b->last - b->pos);

        if (n == 0) {
            return SL_AGAIN;
        }

        rb->received += n;

        if (rb->buf && !r->discarding) {
            clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

            if (clcf->client_max_body_size
                && rb->received > (off_t) clcf->client_max_body_size)
            {
                sl_log_error(SL_LOG_INFO, r->connection->log, 0,
                             "client sent too large chunked body");
                return SL_HTTP_REQUEST_ENTITY_TOO_LARGE;
            }

            if (rb->buf->end - rb->buf->last < n) {
                size = (rb->buf->end - rb->buf->start) * 2;

                while ((off_t) size < rb->received) {
                    size *= 2;
                }

                nb = sl_create_temp_buf(r->pool, size);
                if (nb == NULL) {
                    return SL_HTTP_INTERNAL_SERVER_ERROR;
                }

                nb->last = sl_cpymem(nb->pos, rb->buf->pos,
                                     rb->buf->last - rb->buf->pos);
                rb->buf = nb;
            }

            rb->buf->last = sl_cpymem(rb->buf->last, b->pos, (size_t) n);
        }

        b->pos += n;
        rb->chunked.size -= n;
    }
}


static sl_int_t
sl_http_discard_body(sl_http_request_t *r)
{
    sl_int_t  rc;

    if (r->request_body == NULL) {
        rc = sl_http_body_init(r);
        if (rc != SL_OK) {
            return rc;
        }
    }

    if (r->request_body->tmp == NULL) {
        r->body_read = 1;
        return SL_OK;
    }

    r->discarding = 1;
    r->request_body->buf = NULL;

    rc = sl_http_do_read_body(r);

    if (rc == SL_OK) {
        r->body_read = 1;
        return SL_OK;
    }

    if (rc == SL_AGAIN) {
        r->read_event_handler = sl_http_discarded_body_handler;
    }

    return rc;
}


static void
sl_http_discarded_body_handler(sl_http_request_t *r)
{
    sl_int_t  rc;

    if (r->connection->read->timedout) {
        sl_http_close_request(r);
        return;
    }

    rc = sl_http_do_read_body(r);

    if (rc == SL_AGAIN) {
        return;
    }

    if (r->connection->read->timer_set) {
        sl_del_timer(r->connection->read);
    }

    r->read_event_handler = sl_http_block_reading;

    if (rc != SL_OK) {
        sl_http_close_request(r);
        return;
    }

    r->body_read = 1;
    sl_http_finish_request(r);
}


static void
sl_http_set_keepalive(sl_http_request_t *r)
{
    size_t                    n;
    sl_buf_t                 *b, *tmp;
    sl_event_t               *rev;
    sl_connection_t          *c;
    sl_http_connection_t     *hc;
    sl_http_core_loc_conf_t  *clcf;

    c = r->connection;
    hc = r->http_connection;
    rev = c->read;
    b = &hc->buf;

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    /* the next pipelined request moves to the start of the buffer */

    n = b->last - b->pos;

    if (n && b->pos != b->start) {
        sl_memmove(b->start, b->pos, n);
    }

    b->pos = b->start;
    b->last = b->start + n;

    tmp = r->request_body ? r->request_body->tmp : NULL;

    if (tmp && tmp->pos < tmp->last) {

        if (b->start == NULL) {
            /* a parked request gave the buffer back */
            if (sl_http_alloc_buffer(c) != SL_OK) {
                sl_http_close_request(r);
                return;
            }
        }

        /* hb was empty when tmp was read into, and tmp is no larger */
        b->last = sl_cpymem(b->last, tmp->pos, tmp->last - tmp->pos);
    }

    if (rev->timer_set) {
        sl_del_timer(rev);
    }

    if (c->write->timer_set) {
        sl_del_timer(c->write);
    }

    sl_http_free_request(r);

    rev->handler = sl_http_wait_request_handler;
    c->write->handler = sl_http_empty_handler;

    if (!c->tcp_nodelay) {
        if (sl_tcp_nodelay(c->fd) == SL_OK) {
            c->tcp_nodelay = 1;
        }
    }

    if (b->pos < b->last) {
        sl_post_event(rev, &sl_posted_events);
        return;
    }

    sl_free(b->start);
    sl_memzero(b, sizeof(sl_buf_t));

    c->idle = 1;
    sl_reusable_connection(c, 1);

    sl_add_timer(rev, clcf->keepalive_timeout);

    if (rev->ready) {
        sl_post_event(rev, &sl_posted_events);
        return;
    }

    if (sl_handle_read_event(rev, 0) != SL_OK) {
        sl_http_close_connection(c);
    }
}


/*
 * After an error the client may still be sending; closing at once would
 * reset the connection and lose our reply.  Shut down the write side and
 * read until the client closes too, for a while.
 */
static void
sl_http_set_lingering_close(sl_connection_t *c)
{
    sl_event_t            *rev;
    sl_http_connection_t  *hc;

    hc = c->data;
    rev = c->read;

    rev->handler = sl_http_lingering_close_handler;
    c->write->handler = sl_http_empty_handler;

    hc->lingering_time = sl_current_msec + SL_HTTP_LINGERING_TIME;

    if (shutdown(c->fd, SHUT_WR) == -1) {
        sl_http_close_connection(c);
        return;
    }

    if (rev->timer_set) {
        sl_del_timer(rev);
    }

    sl_add_timer(rev, SL_HTTP_LINGERING_TIMEOUT);

    if (sl_handle_read_event(rev, 0) != SL_OK) {
        sl_http_close_connection(c);
        return;
    }

    if (rev->ready) {
        sl_http_lingering_close_handler(rev);
    }
}


static void
sl_http_lingering_close_handler(sl_event_t *rev)
{
    u_char                 buf[4096];
    ssize_t                n;
    sl_connection_t       *c;
    sl_http_connection_t  *hc;

    c = rev->data;
    hc = c->data;

    if (rev->timedout || c->close
        || (sl_msec_int_t) (hc->lingering_time - sl_current_msec) <= 0)
    {
        sl_http_close_connection(c);
        return;
    }

    do {
        n = c->recv(c, buf, sizeof(buf));

        if (n == SL_ERROR || n == 0) {
            sl_http_close_connection(c);
            return;
        }

    } while (n != SL_AGAIN);

    if (sl_handle_read_event(rev, 0) != SL_OK) {
        sl_http_close_connection(c);
        return;
    }

    if (rev->timer_set) {
        sl_del_timer(rev);
    }

    sl_add_timer(rev, SL_HTTP_LINGERING_TIMEOUT);
}


/*
 * The log phase, once per request: after the response in the normal
 * course, or when the request is freed because it ended otherwise (a
 * timeout, a closed or broken connection, a handler's error).
 */
static void
sl_http_log_request(sl_http_request_t *r)
{
    sl_uint_t                  i;
    sl_http_handler_pt        *h;
    sl_http_core_main_conf_t  *cmcf;

    if (r->logged) {
        return;
    }

    r->logged = 1;

    cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);
    h = cmcf->phases[SL_HTTP_LOG_PHASE].handlers.elts;

    for (i = 0; i < cmcf->phases[SL_HTTP_LOG_PHASE].handlers.nelts; i++) {
        (void) h[i](r);
    }
}


static void
sl_http_free_request(sl_http_request_t *r)
{
    sl_http_log_request(r);

    r->http_connection->request = NULL;
    sl_destroy_pool(r->pool);
}


static void
sl_http_close_request(sl_http_request_t *r)
{
    sl_connection_t  *c;

    c = r->connection;

    sl_http_free_request(r);
    sl_http_close_connection(c);
}


static void
sl_http_close_connection(sl_connection_t *c)
{
    sl_pool_t             *pool;
    sl_http_connection_t  *hc;

    hc = c->data;

    if (hc) {
        if (hc->request) {
            sl_http_free_request(hc->request);
        }

        if (hc->buf.start) {
            sl_free(hc->buf.start);
            hc->buf.start = NULL;
        }
    }

    c->destroyed = 1;

    pool = c->pool;

    sl_close_connection(c);

    if (pool) {
        sl_destroy_pool(pool);
    }
}


/* a small complete response from memory, for handlers such as status */
sl_int_t
sl_http_send_response(sl_http_request_t *r, sl_uint_t status,
    sl_str_t *content_type, sl_str_t *body)
{
    sl_buf_t    *b;
    sl_chain_t  *cl;

    r->headers_out.status = status;
    r->headers_out.content_length_n = body->len;

    if (content_type) {
        r->headers_out.content_type = *content_type;
    }

    if (sl_http_send_header(r) != SL_OK) {
        return SL_ERROR;
    }

    b = sl_calloc_buf(r->pool);
    cl = sl_alloc_chain_link(r->pool);
    if (b == NULL || cl == NULL) {
        return SL_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = 1;

    cl->buf = b;
    cl->next = NULL;

    return sl_http_output(r, cl) == SL_ERROR ? SL_ERROR : SL_OK;
}
