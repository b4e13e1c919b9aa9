
/*
 * The REST proxy module: the `rest_proxy` directive, the router that
 * matches a request's path against the route tables of the module's
 * files, the request body as JSON, the proxy's answers and errors, and
 * the helpers every route shares (query arguments, the cluster's
 * identity, the key partitioner, producing records).
 *
 *     location /v3/ {
 *         rest_proxy                        on;
 *         rest_consumer_instance_timeout    5m;   # idle v2 consumers
 *         rest_consumer_request_timeout     1s;   # GET .../records wait
 *         rest_consumer_max_bytes           64m;
 *     }
 */

#include <sl_config.h>
#include <sl_core.h>
#include <sl_event.h>
#include <sl_http.h>
#include <sl_broker.h>
#include <sl_broker_filter.h>
#include <sl_kafka.h>
#include <sl_rest.h>


static sl_int_t sl_rest_handler(sl_http_request_t *r);
static void sl_rest_body_handler(sl_http_request_t *r);
static sl_int_t sl_rest_dispatch(sl_rest_req_t *rq);
static sl_int_t sl_rest_match(sl_rest_route_t *rt, sl_str_t *uri,
    sl_rest_req_t *rq);
static void sl_rest_cleanup(void *data);
static sl_int_t sl_rest_unescape(sl_pool_t *pool, u_char *p, size_t len,
    sl_str_t *out);
static void *sl_rest_create_loc_conf(sl_conf_t *cf);
static char *sl_rest_merge_loc_conf(sl_conf_t *cf, void *parent,
    void *child);
static char *sl_rest_proxy(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static sl_int_t sl_rest_init_process(sl_cycle_t *cycle);
static sl_int_t sl_rest_error_body(sl_http_request_t *r, sl_uint_t status,
    sl_str_t *type, sl_str_t *body);


static sl_command_t  sl_rest_commands[] = {

    { sl_string("rest_proxy"),
      SL_HTTP_MAIN_CONF|SL_HTTP_LOC_CONF|SL_CONF_FLAG,
      sl_rest_proxy,
      SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_rest_loc_conf_t, enable),
      NULL },

    { sl_string("rest_consumer_instance_timeout"),
      SL_HTTP_MAIN_CONF|SL_HTTP_LOC_CONF|SL_CONF_TAKE1,
      sl_conf_set_msec_slot,
      SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_rest_loc_conf_t, consumer_instance_timeout),
      NULL },

    { sl_string("rest_consumer_request_timeout"),
      SL_HTTP_MAIN_CONF|SL_HTTP_LOC_CONF|SL_CONF_TAKE1,
      sl_conf_set_msec_slot,
      SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_rest_loc_conf_t, consumer_request_timeout),
      NULL },

    { sl_string("rest_consumer_max_bytes"),
      SL_HTTP_MAIN_CONF|SL_HTTP_LOC_CONF|SL_CONF_TAKE1,
      sl_conf_set_size_slot,
      SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_rest_loc_conf_t, consumer_max_bytes),
      NULL },

      sl_null_command
};


static sl_http_module_t  sl_rest_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    sl_rest_create_loc_conf,               /* create location configuration */
    sl_rest_merge_loc_conf                 /* merge location configuration */
};


sl_module_t  sl_rest_module = {
    SL_MODULE_V1,
    &sl_rest_module_ctx,                   /* module context */
    sl_rest_commands,                      /* module directives */
    SL_HTTP_MODULE,                        /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    sl_rest_init_process,                  /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


static sl_int_t
sl_rest_init_process(sl_cycle_t *cycle)
{
    sl_rest_consumer_init_process(cycle);

    return SL_OK;
}


static sl_rest_route_t  *sl_rest_tables[] = {
    sl_rest_v2_routes,
    sl_rest_consumer_routes,
    sl_rest_v3_routes,
    sl_rest_read_routes,
    NULL
};


static sl_str_t  sl_rest_v2_type = sl_string("application/vnd.kafka.v2+json");
static sl_str_t  sl_rest_v3_type = sl_string("application/json");


static sl_int_t
sl_rest_handler(sl_http_request_t *r)
{
    sl_int_t             rc;
    sl_uint_t            i, path_matched;
    sl_rest_req_t       *rq;
    sl_rest_route_t     *rt;
    sl_pool_cleanup_t   *cln;

    rq = sl_pcalloc(r->pool, sizeof(sl_rest_req_t));
    cln = sl_pool_cleanup_add(r->pool, 0);
    if (rq == NULL || cln == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = sl_rest_cleanup;
    cln->data = rq;

    rq->r = r;
    rq->conf = sl_http_get_module_loc_conf(r, sl_rest_module);
    sl_http_set_ctx(r, rq, sl_rest_module);

    path_matched = 0;

    for (i = 0; sl_rest_tables[i]; i++) {
        for (rt = sl_rest_tables[i]; rt->pattern; rt++) {

            if (sl_rest_match(rt, &r->uri, rq) != SL_OK) {
                continue;
            }

            path_matched = 1;

            if (rt->methods & r->method) {
                rq->route = rt;
                goto found;
            }
        }
    }

    /* an error needs a route for its shape: v3 paths answer as v3 */
    rq->route = NULL;

    if (path_matched) {
        return sl_rest_error(rq, SL_HTTP_NOT_ALLOWED, 0,
                             "HTTP 405 Method Not Allowed");
    }

    return sl_rest_error(rq, SL_HTTP_NOT_FOUND, 0, "HTTP 404 Not Found");

found:

    rc = sl_http_read_client_request_body(r, sl_rest_body_handler);

    if (rc >= SL_HTTP_SPECIAL_RESPONSE) {
        return sl_rest_error(rq, rc, 0, "%s", sl_http_status_text(rc));
    }

    return SL_DONE;
}


static void
sl_rest_body_handler(sl_http_request_t *r)
{
    sl_rest_req_t  *rq;

    rq = sl_http_get_module_ctx(r, sl_rest_module);

    sl_http_finalize_request(r, sl_rest_dispatch(rq));
}


static sl_int_t
sl_rest_dispatch(sl_rest_req_t *rq)
{
    sl_buf_t           *b;
    json_error_t        err;
    sl_http_request_t  *r;

    r = rq->r;

    if (r->request_body && r->request_body->buf) {
        b = r->request_body->buf;
        rq->body.data = b->pos;
        rq->body.len = b->last - b->pos;
    }

    if (rq->route->body == SL_REST_BODY_JSON) {

        if (rq->body.len == 0) {
            return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                                 "Request body is empty: a JSON value "
                                 "is expected");
        }

        rq->json = json_loadb((char *) rq->body.data, rq->body.len,
                              JSON_DECODE_ANY|JSON_REJECT_DUPLICATES, &err);

        if (rq->json == NULL) {
            return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                                 "Malformed JSON at line %d, column %d: %s",
                                 err.line, err.column, err.text);
        }
    }

    return rq->route->handler(rq);
}


/*
 * Matches uri against pattern segment by segment: "{}" takes one
 * non-empty segment, "**" at the end takes the rest.
 */
static sl_int_t
sl_rest_match(sl_rest_route_t *rt, sl_str_t *uri, sl_rest_req_t *rq)
{
    u_char  *p, *last, *q, *seg;
    size_t   len;

    p = (u_char *) rt->pattern;
    q = uri->data;
    last = uri->data + uri->len;

    /* a trailing slash is ignored */
    if (last - q > 1 && last[-1] == '/') {
        last--;
    }

    rq->nparams = 0;

    while (*p) {

        if (p[0] == '*' && p[1] == '*' && p[2] == '\0') {
            if (rq->nparams == SL_REST_MAX_PARAMS) {
                return SL_DECLINED;
            }

            rq->params[rq->nparams].data = q;
            rq->params[rq->nparams].len = last - q;
            rq->nparams++;
            return SL_OK;
        }

        if (p[0] == '{' && p[1] == '}') {
            seg = q;

            while (q < last && *q != '/') {
                q++;
            }

            len = q - seg;

            if (len == 0 || rq->nparams == SL_REST_MAX_PARAMS) {
                return SL_DECLINED;
            }

            rq->params[rq->nparams].data = seg;
            rq->params[rq->nparams].len = len;
            rq->nparams++;
            p += 2;
            continue;
        }

        if (q == last || *q != *p) {
            return SL_DECLINED;
        }

        p++;
        q++;
    }

    return q == last ? SL_OK : SL_DECLINED;
}


static void
sl_rest_cleanup(void *data)
{
    sl_rest_req_t  *rq = data;

    if (rq->json) {
        json_decref(rq->json);
        rq->json = NULL;
    }
}


sl_int_t
sl_rest_send(sl_rest_req_t *rq, sl_uint_t status, json_t *json)
{
    size_t              len;
    sl_str_t            body, *type;
    sl_http_request_t  *r;

    r = rq->r;

    if (rq->route) {
        type = (rq->route->api == SL_REST_V2) ? &sl_rest_v2_type
                                              : &sl_rest_v3_type;

    } else {
        /* no route (404, 405): v3 paths answer as v3, the rest as v2 */
        type = (r->uri.len >= 4 && sl_strncmp(r->uri.data, "/v3/", 4) == 0)
               ? &sl_rest_v3_type : &sl_rest_v2_type;
    }

    body.data = (u_char *) "";
    body.len = 0;

    if (json && status != SL_HTTP_NO_CONTENT) {
        len = json_dumpb(json, NULL, 0, JSON_COMPACT);

        body.data = sl_pnalloc(r->pool, len + 1);
        if (body.data == NULL) {
            json_decref(json);
            rq->rc = SL_ERROR;
            return SL_ERROR;
        }

        body.len = json_dumpb(json, (char *) body.data, len, JSON_COMPACT);
    }

    if (json) {
        json_decref(json);
    }

    if (status == SL_HTTP_NO_CONTENT) {
        r->headers_out.status = status;
        r->headers_out.content_length_n = 0;
        r->header_only = 1;
        rq->rc = sl_http_send_header(r);
        if (rq->rc == SL_OK) {
            rq->rc = sl_http_output(r, NULL) == SL_ERROR ? SL_ERROR : SL_OK;
        }

        return rq->rc;
    }

    rq->rc = sl_http_send_response(r, status, type, &body);

    return rq->rc;
}


sl_int_t
sl_rest_error(sl_rest_req_t *rq, sl_uint_t status, sl_int_t code,
    const char *fmt, ...)
{
    u_char    buf[1024], *p;
    va_list   args;
    json_t   *j;

    va_start(args, fmt);
    p = sl_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    j = json_pack("{s:I,s:s%}", "error_code",
                  (json_int_t) (code ? code : (sl_int_t) status),
                  "message", (char *) buf, (size_t) (p - buf));

    if (j == NULL) {
        /* not UTF-8: say it plainly */
        j = json_pack("{s:I,s:s}", "error_code",
                      (json_int_t) (code ? code : (sl_int_t) status),
                      "message", sl_http_status_text(status));
    }

    sl_log_error(SL_LOG_INFO, rq->r->connection->log, 0,
                 "rest: %.*s: %lu %ld %.*s", SL_STR_ARG(&rq->r->uri),
                 (unsigned long) status, (long) code, (int) (p - buf),
                 (char *) buf);

    return sl_rest_send(rq, status, j);
}


sl_int_t
sl_rest_broker_error(sl_rest_req_t *rq, sl_int_t err, const char *what)
{
    switch (err) {

    case SL_BROKER_ERR_UNKNOWN_TOPIC:
        return sl_rest_error(rq, SL_HTTP_NOT_FOUND,
                             SL_REST_ERR_TOPIC_NOT_FOUND,
                             "Topic not found.");

    case SL_BROKER_ERR_OUT_OF_RANGE:
        return sl_rest_error(rq, SL_HTTP_NOT_FOUND,
                             SL_REST_ERR_PARTITION_NOT_FOUND,
                             "%s: offset out of range", what);

    case SL_BROKER_ERR_TOPIC_EXISTS:
        return sl_rest_error(rq, 409, 40002,
                             "%s: topic already exists", what);

    case SL_BROKER_ERR_INVALID_TOPIC:
    case SL_BROKER_ERR_INVALID_CONFIG:
    case SL_BROKER_ERR_INVALID_PARTS:
    case SL_BROKER_ERR_INVALID_RECORD:
    case SL_BROKER_ERR_CORRUPT:
        return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 40002,
                             "%s: invalid request (error %ld)", what,
                             (long) err);

    case SL_BROKER_ERR_TOO_LARGE:
        return sl_rest_error(rq, SL_HTTP_REQUEST_ENTITY_TOO_LARGE, 0,
                             "%s: record batch too large", what);

    case SL_BROKER_ERR_POLICY:
        return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY, 42202,
                             "%s: refused by policy", what);

    default:
        return sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR,
                             SL_REST_ERR_KAFKA,
                             "%s: broker error %ld", what, (long) err);
    }
}


sl_int_t
sl_rest_arg(sl_rest_req_t *rq, const char *name, sl_str_t *value)
{
    u_char   *p, *last, *k, *v, *e;
    size_t    len;

    len = sl_strlen(name);
    p = rq->r->args.data;
    last = p + rq->r->args.len;

    while (p < last) {
        k = p;

        e = sl_strlchr(p, last, '&');
        if (e == NULL) {
            e = last;
        }

        v = sl_strlchr(k, e, '=');

        if ((size_t) ((v ? v : e) - k) == len
            && sl_strncmp(k, name, len) == 0)
        {
            if (v == NULL) {
                value->data = (u_char *) "";
                value->len = 0;
                return SL_OK;
            }

            v++;

            if (sl_rest_unescape(rq->r->pool, v, e - v, value) != SL_OK) {
                return SL_DECLINED;
            }

            return SL_OK;
        }

        p = e + 1;
    }

    return SL_DECLINED;
}


sl_int_t
sl_rest_arg_int(sl_rest_req_t *rq, const char *name, int64_t *value)
{
    off_t     n;
    sl_str_t  s;
    sl_uint_t neg;

    if (sl_rest_arg(rq, name, &s) != SL_OK) {
        return SL_DECLINED;
    }

    neg = (s.len > 1 && s.data[0] == '-');

    n = sl_atoof(s.data + neg, s.len - neg);
    if (n == SL_ERROR) {
        return SL_ERROR;
    }

    *value = neg ? -(int64_t) n : (int64_t) n;

    return SL_OK;
}


static sl_int_t
sl_rest_unescape(sl_pool_t *pool, u_char *p, size_t len, sl_str_t *out)
{
    u_char    *d, c;
    sl_int_t   h;

    d = sl_pnalloc(pool, len + 1);
    if (d == NULL) {
        return SL_ERROR;
    }

    out->data = d;

    while (len) {
        c = *p++;
        len--;

        if (c == '+') {
            c = ' ';

        } else if (c == '%') {
            if (len < 2) {
                return SL_ERROR;
            }

            h = sl_hextoi(p, 2);
            if (h == SL_ERROR) {
                return SL_ERROR;
            }

            c = (u_char) h;
            p += 2;
            len -= 2;
        }

        *d++ = c;
    }

    out->len = d - out->data;
    *d = '\0';

    return SL_OK;
}


sl_str_t *
sl_rest_header(sl_rest_req_t *rq, const char *name)
{
    sl_http_header_t  *h;

    h = sl_http_find_header(rq->r, (char *) name);

    return h ? &h->value : NULL;
}


static sl_kafka_main_conf_t *
sl_rest_kafka_conf(void)
{
    sl_cycle_t  *cycle;

    cycle = (sl_cycle_t *) sl_cycle;

    if (cycle == NULL || cycle->conf_ctx == NULL) {
        return NULL;
    }

    return sl_kafka_cycle_get_module_main_conf(cycle, sl_kafka_core_module);
}


sl_str_t *
sl_rest_cluster_id(void)
{
    static sl_str_t        dflt = sl_string("sluice-cluster-0000001");
    sl_kafka_main_conf_t  *kmcf;

    kmcf = sl_rest_kafka_conf();

    return (kmcf && kmcf->cluster_id.len) ? &kmcf->cluster_id : &dflt;
}


sl_int_t
sl_rest_node_id(void)
{
    sl_kafka_main_conf_t  *kmcf;

    kmcf = sl_rest_kafka_conf();

    return kmcf ? kmcf->node_id : 0;
}


void
sl_rest_advertised(sl_str_t *host, sl_int_t *port)
{
    sl_kafka_main_conf_t  *kmcf;

    kmcf = sl_rest_kafka_conf();

    if (kmcf && kmcf->advertised_host.len) {
        *host = kmcf->advertised_host;
        *port = kmcf->advertised_port;
        return;
    }

    sl_str_set(host, "127.0.0.1");
    *port = 9092;
}


/* Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) */
int32_t
sl_rest_partition_for_key(u_char *key, size_t len, int32_t n)
{
    size_t     i, len4;
    uint32_t   h, k;
    const uint32_t  m = 0x5bd1e995;

    if (n <= 0) {
        return 0;
    }

    h = 0x9747b28c ^ (uint32_t) len;
    len4 = len / 4;

    for (i = 0; i < len4; i++) {
        k = (uint32_t) key[i * 4]
            | (uint32_t) key[i * 4 + 1] << 8
            | (uint32_t) key[i * 4 + 2] << 16
            | (uint32_t) key[i * 4 + 3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }

    key += len4 * 4;

    switch (len % 4) {
    case 3:
        h ^= (uint32_t) key[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t) key[1] << 8;
        /* fall through */
    case 1:
        h ^= (uint32_t) key[0];
        h *= m;
    }

    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;

    /* Utils.toPositive */
    return (int32_t) ((h & 0x7fffffff) % (uint32_t) n);
}


sl_int_t
sl_rest_produce(sl_rest_req_t *rq, sl_broker_partition_t *part,
    sl_broker_batch_record_t *records, sl_uint_t n, int64_t *base_offset,
    sl_str_t *error)
{
    int64_t                    now, append_time;
    sl_int_t                   rc;
    sl_str_t                   out;
    sl_uint_t                  i;
    sl_broker_produce_t        pr;
    sl_broker_batch_record_t   rec;
    sl_broker_batch_writer_t   w;

    *base_offset = -1;

    if (error) {
        error->len = 0;
        error->data = NULL;
    }

    if (n == 0) {
        return SL_BROKER_OK;
    }

    now = sl_realtime_msec;

    sl_broker_batch_writer_init(&w, rq->r->pool, rq->r->connection->log);

    for (i = 0; i < n; i++) {
        rec = records[i];

        if (rec.timestamp < 0) {
            rec.timestamp = now;
        }

        rc = sl_broker_batch_add(&w, &rec);
        if (rc != SL_BROKER_OK) {
            return rc;
        }
    }

    rc = sl_broker_batch_finish(&w, &out);
    if (rc != SL_BROKER_OK) {
        return rc;
    }

    sl_memzero(&pr, sizeof(sl_broker_produce_t));
    pr.topic = part->topic;
    pr.partition = part;
    pr.batch = out.data;
    pr.len = out.len;
    pr.pool = rq->r->pool;
    pr.log = rq->r->connection->log;

    rc = sl_broker_produce_filters(&pr);
    if (rc != SL_BROKER_OK) {
        if (error) {
            *error = pr.error;
        }

        return rc;
    }

    if (pr.len == 0) {
        return SL_BROKER_OK;
    }

    rc = sl_broker_log_append(part, pr.batch, pr.len, base_offset,
                              &append_time, pr.log);
    if (rc != SL_BROKER_OK) {
        return rc;
    }

    sl_event_doorbell_ring();

    return SL_BROKER_OK;
}


json_t *
sl_rest_bytes_json(sl_broker_bytes_t *b, sl_uint_t format)
{
    json_t    *j;
    sl_str_t   src, dst;

    if (b->len < 0) {
        return json_null();
    }

    switch (format) {

    case SL_REST_FMT_JSON:
        return json_loadb((char *) b->data, (size_t) b->len,
                          JSON_DECODE_ANY, NULL);

    case SL_REST_FMT_STRING:
        /* NULL when not UTF-8: the caller falls back to base64 */
        return json_stringn((char *) b->data, (size_t) b->len);

    default:
        src.data = b->data;
        src.len = (size_t) b->len;

        dst.len = sl_base64_encoded_length(src.len);
        dst.data = sl_alloc(dst.len + 1, sl_cycle ? sl_cycle->log : NULL);
        if (dst.data == NULL) {
            return NULL;
        }

        sl_encode_base64(&dst, &src);
        j = json_stringn((char *) dst.data, dst.len);
        sl_free(dst.data);

        return j;
    }
}


sl_int_t
sl_rest_json_bytes(sl_rest_req_t *rq, json_t *v, sl_uint_t format,
    sl_broker_bytes_t *out)
{
    size_t     len;
    sl_str_t   src, dst;

    if (v == NULL || json_is_null(v)) {
        out->data = NULL;
        out->len = -1;
        return SL_OK;
    }

    switch (format) {

    case SL_REST_FMT_JSON:
        len = json_dumpb(v, NULL, 0, JSON_COMPACT|JSON_ENCODE_ANY);
        if (len == 0 || len > INT32_MAX) {
            return SL_ERROR;
        }

        out->data = sl_pnalloc(rq->r->pool, len);
        if (out->data == NULL) {
            return SL_ERROR;
        }

        out->len = (int32_t) json_dumpb(v, (char *) out->data, len,
                                        JSON_COMPACT|JSON_ENCODE_ANY);
        return SL_OK;

    case SL_REST_FMT_STRING:
        if (!json_is_string(v)) {
            return SL_ERROR;
        }

        out->data = (u_char *) json_string_value(v);
        out->len = (int32_t) json_string_length(v);
        return SL_OK;

    default:
        if (!json_is_string(v)) {
            return SL_ERROR;
        }

        src.data = (u_char *) json_string_value(v);
        src.len = json_string_length(v);

        dst.data = sl_pnalloc(rq->r->pool,
                              sl_base64_decoded_length(src.len) + 1);
        if (dst.data == NULL) {
            return SL_ERROR;
        }

        if (sl_decode_base64(&dst, &src) != SL_OK) {
            return SL_ERROR;
        }

        out->data = dst.data;
        out->len = (int32_t) dst.len;
        return SL_OK;
    }
}


sl_broker_topic_t *
sl_rest_topic(sl_rest_req_t *rq, sl_str_t *name)
{
    sl_broker_topic_t  *t;

    t = sl_broker_topic_find(name);

    if (t == NULL || t->deleted) {
        if (rq->route && rq->route->api == SL_REST_V2) {
            (void) sl_rest_error(rq, SL_HTTP_NOT_FOUND,
                                 SL_REST_ERR_TOPIC_NOT_FOUND,
                                 "Topic not found.");

        } else {
            (void) sl_rest_error(rq, SL_HTTP_NOT_FOUND,
                                 SL_REST_ERR_UNKNOWN_TOPIC_PARTITION,
                                 "This server does not host this "
                                 "topic-partition.");
        }

        return NULL;
    }

    return t;
}


sl_broker_partition_t *
sl_rest_partition(sl_rest_req_t *rq, sl_broker_topic_t *topic, sl_str_t *id)
{
    sl_int_t                n;
    sl_uint_t               neg;
    sl_broker_partition_t  *part;

    neg = (id->len > 1 && id->data[0] == '-');

    n = (id->len - neg > 10) ? SL_ERROR
                             : sl_atoi(id->data + neg, id->len - neg);

    if (n == SL_ERROR) {
        /* not a number: the proxy's router finds no such path */
        (void) sl_rest_error(rq, SL_HTTP_NOT_FOUND, 0, "HTTP 404 Not Found");
        return NULL;
    }

    part = (neg || n >= topic->partitions_n)
           ? NULL : sl_broker_partition(topic, n);

    if (part == NULL) {
        if (rq->route && rq->route->api == SL_REST_V2) {
            (void) sl_rest_error(rq, SL_HTTP_NOT_FOUND,
                                 SL_REST_ERR_PARTITION_NOT_FOUND,
                                 "Partition not found.");

        } else {
            (void) sl_rest_error(rq, SL_HTTP_NOT_FOUND, 0,
                                 "Partition %.*s cannot be found.",
                                 (int) id->len, (char *) id->data);
        }
    }

    return part;
}


sl_int_t
sl_rest_cluster_check(sl_rest_req_t *rq)
{
    sl_str_t  *cid;

    cid = sl_rest_cluster_id();

    if (rq->nparams > 0
        && rq->params[0].len == cid->len
        && sl_memcmp(rq->params[0].data, cid->data, cid->len) == 0)
    {
        return SL_OK;
    }

    (void) sl_rest_error(rq, SL_HTTP_NOT_FOUND, 0,
                         "Cluster %.*s cannot be found.",
                         (int) sl_min(rq->params[0].len, 200),
                         (char *) rq->params[0].data);

    return SL_DECLINED;
}


static void *
sl_rest_create_loc_conf(sl_conf_t *cf)
{
    sl_rest_loc_conf_t  *rlcf;

    rlcf = sl_pcalloc(cf->pool, sizeof(sl_rest_loc_conf_t));
    if (rlcf == NULL) {
        return NULL;
    }

    rlcf->enable = SL_CONF_UNSET;
    rlcf->consumer_instance_timeout = SL_CONF_UNSET_MSEC;
    rlcf->consumer_request_timeout = SL_CONF_UNSET_MSEC;
    rlcf->consumer_max_bytes = SL_CONF_UNSET_SIZE;

    return rlcf;
}


static char *
sl_rest_merge_loc_conf(sl_conf_t *cf, void *parent, void *child)
{
    sl_rest_loc_conf_t  *prev = parent;
    sl_rest_loc_conf_t  *conf = child;

    /* the handler belongs to the location that says rest_proxy on */
    sl_conf_merge_value(conf->enable, prev->enable, 0);
    sl_conf_merge_msec_value(conf->consumer_instance_timeout,
                             prev->consumer_instance_timeout, 300000);
    sl_conf_merge_msec_value(conf->consumer_request_timeout,
                             prev->consumer_request_timeout, 1000);
    sl_conf_merge_size_value(conf->consumer_max_bytes,
                             prev->consumer_max_bytes, 64 * 1024 * 1024);

    return SL_CONF_OK;
}


static char *
sl_rest_proxy(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char  *rv;

    rv = sl_conf_set_flag_slot(cf, cmd, conf);
    if (rv != SL_CONF_OK) {
        return rv;
    }

    if (((sl_rest_loc_conf_t *) conf)->enable) {
        /* the consumer instances' shared zone, once per cycle */
        if (sl_rest_consumer_configure(cf) != SL_OK) {
            return SL_CONF_ERROR;
        }

        sl_http_set_error_body(cf, sl_rest_error_body);
        return sl_http_set_content_handler(cf, sl_rest_handler);
    }

    return SL_CONF_OK;
}


/*
 * The errors the HTTP core answers itself in a REST location (a body
 * over client_max_body_size, a body timeout, a broken chunked body) in
 * the proxy's JSON rather than as HTML pages.
 */
static sl_int_t
sl_rest_error_body(sl_http_request_t *r, sl_uint_t status, sl_str_t *type,
    sl_str_t *body)
{
    size_t  len;

    len = sizeof("{\"error_code\":999,\"message\":\"HTTP 999 \"}") - 1
          + sl_strlen(sl_http_status_text(status));

    /* and the NUL sl_slprintf() writes */
    body->data = sl_pnalloc(r->pool, len + 1);
    if (body->data == NULL) {
        return SL_ERROR;
    }

    body->len = sl_slprintf(body->data, body->data + len + 1,
                            "{\"error_code\":%u,\"message\":"
                            "\"HTTP %u %s\"}", (unsigned) status,
                            (unsigned) status, sl_http_status_text(status))
                - body->data;

    *type = (r->uri.len >= 4 && sl_strncmp(r->uri.data, "/v3/", 4) == 0)
            ? sl_rest_v3_type : sl_rest_v2_type;

    return SL_OK;
}
