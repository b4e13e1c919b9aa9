
/*
 * The REST proxy's v2 routes, consumers aside (Confluent REST Proxy v2):
 * topic, partition and broker metadata, and producing records in the
 * embedded formats binary (base64) and json.
 *
 * A produce request's records are grouped by partition and each
 * partition's records are appended as one batch (more only when they
 * overflow the topic's max_record_batch_bytes); the answer gives every
 * record's partition and offset, or its error, in request order.  The
 * checks and their order are the proxy's: the content type first (415;
 * none means binary), then the body (400 when it does not parse or has
 * the wrong types, 422 when it breaks a constraint), then the topic and
 * partition (404; a produce creates a missing topic when the kafka
 * module's auto_create_topics allows it, as a Java producer would).
 */

#include <sl_config.h>
#include <sl_core.h>
#include <sl_http.h>
#include <sl_kafka.h>
#include <sl_rest.h>


/* the proxy's statuses for requests it cannot take */
#define SL_REST_V2_BAD_REQUEST      400
#define SL_REST_V2_UNPROCESSABLE    422
#define SL_REST_V2_UNSUPPORTED      415

/* a record's bytes in a batch besides its key and value, at most */
#define SL_REST_V2_RECORD_OVERHEAD  32


typedef struct {
    sl_broker_batch_record_t     rec;
    int32_t                      partition;     /* -1: by key or sticky */
    int64_t                      offset;
    sl_int_t                     error_code;    /* 0, 50002, 50003 */
    const char                  *error;
} sl_rest_v2_record_t;


static sl_int_t sl_rest_v2_topics(sl_rest_req_t *rq);
static sl_int_t sl_rest_v2_topic(sl_rest_req_t *rq);
static sl_int_t sl_rest_v2_partitions(sl_rest_req_t *rq);
static sl_int_t sl_rest_v2_partition(sl_rest_req_t *rq);
static sl_int_t sl_rest_v2_offsets(sl_rest_req_t *rq);
static sl_int_t sl_rest_v2_brokers(sl_rest_req_t *rq);
static sl_int_t sl_rest_v2_produce_to_topic(sl_rest_req_t *rq);
static sl_int_t sl_rest_v2_produce_to_partition(sl_rest_req_t *rq);

static sl_int_t sl_rest_v2_produce(sl_rest_req_t *rq, sl_uint_t by_path);
static sl_int_t sl_rest_v2_format(sl_rest_req_t *rq, sl_uint_t *format);
static sl_int_t sl_rest_v2_parse(sl_rest_req_t *rq, sl_uint_t format,
    sl_uint_t with_partition, sl_rest_v2_record_t **out, sl_uint_t *n);
static sl_int_t sl_rest_v2_field(sl_rest_req_t *rq, sl_uint_t i,
    const char *name, json_t *v, sl_uint_t format, sl_broker_bytes_t *out);
static sl_uint_t sl_rest_v2_base64_valid(u_char *p, size_t len);
static sl_int_t sl_rest_v2_append(sl_rest_req_t *rq,
    sl_broker_topic_t *topic, sl_rest_v2_record_t *recs, sl_uint_t n);
static void sl_rest_v2_fail(sl_rest_req_t *rq, sl_rest_v2_record_t *r,
    sl_int_t rc, sl_str_t *why);
static json_t *sl_rest_v2_produce_response(sl_rest_v2_record_t *recs,
    sl_uint_t n);
static sl_broker_topic_t *sl_rest_v2_produce_topic(sl_rest_req_t *rq,
    sl_str_t *name);
static json_t *sl_rest_v2_partition_json(int32_t id);
static void sl_rest_v2_config(void *data, const char *name, u_char *value,
    size_t len, sl_uint_t is_default);
static const char *sl_rest_v2_sprintf(sl_rest_req_t *rq,
    const char *fmt, ...) SL_PRINTF(2, 3);
static sl_int_t sl_rest_v2_nomem(sl_rest_req_t *rq);


sl_rest_route_t  sl_rest_v2_routes[] = {

    { SL_HTTP_GET, "/topics", SL_REST_V2, SL_REST_BODY_NONE,
      sl_rest_v2_topics },

    { SL_HTTP_GET, "/topics/{}", SL_REST_V2, SL_REST_BODY_NONE,
      sl_rest_v2_topic },

    { SL_HTTP_POST, "/topics/{}", SL_REST_V2, SL_REST_BODY_RAW,
      sl_rest_v2_produce_to_topic },

    { SL_HTTP_GET, "/topics/{}/partitions", SL_REST_V2, SL_REST_BODY_NONE,
      sl_rest_v2_partitions },

    { SL_HTTP_GET, "/topics/{}/partitions/{}", SL_REST_V2,
      SL_REST_BODY_NONE, sl_rest_v2_partition },

    { SL_HTTP_POST, "/topics/{}/partitions/{}", SL_REST_V2,
      SL_REST_BODY_RAW, sl_rest_v2_produce_to_partition },

    { SL_HTTP_GET, "/topics/{}/partitions/{}/offsets", SL_REST_V2,
      SL_REST_BODY_NONE, sl_rest_v2_offsets },

    { SL_HTTP_GET, "/brokers", SL_REST_V2, SL_REST_BODY_NONE,
      sl_rest_v2_brokers },

    { 0, NULL, 0, 0, NULL }
};


/* the partition of this worker's next request of key-less records */
static sl_uint_t  sl_rest_v2_sticky;


/* GET /topics: the names, internal topics hidden as the proxy hides them */

static sl_int_t
sl_rest_v2_topics(sl_rest_req_t *rq)
{
    json_t             *list;
    sl_broker_topic_t  *t;

    list = json_array();
    if (list == NULL) {
        return sl_rest_v2_nomem(rq);
    }

    for (t = sl_broker_topic_next(NULL); t; t = sl_broker_topic_next(t)) {

        if (t->internal || t->deleted) {
            continue;
        }

        if (json_array_append_new(list,
                json_stringn((char *) t->name.data, t->name.len)) != 0)
        {
            json_decref(list);
            return sl_rest_v2_nomem(rq);
        }
    }

    return sl_rest_send(rq, SL_HTTP_OK, list);
}


/* GET /topics/{t}: {"name","configs":{...},"partitions":[...]} */

static sl_int_t
sl_rest_v2_topic(sl_rest_req_t *rq)
{
    int32_t             i;
    json_t             *j, *configs, *parts;
    sl_broker_topic_t  *t;

    t = sl_rest_topic(rq, &rq->params[0]);
    if (t == NULL) {
        return rq->rc;
    }

    configs = json_object();
    parts = json_array();

    j = json_pack("{s:s%,s:o,s:o}",
                  "name", (char *) t->name.data, t->name.len,
                  "configs", configs, "partitions", parts);
    if (j == NULL) {
        return sl_rest_v2_nomem(rq);
    }

    sl_broker_topic_configs(t, sl_rest_v2_config, configs);

    for (i = 0; i < t->partitions_n; i++) {
        if (json_array_append_new(parts, sl_rest_v2_partition_json(i)) != 0) {
            json_decref(j);
            return sl_rest_v2_nomem(rq);
        }
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


static void
sl_rest_v2_config(void *data, const char *name, u_char *value, size_t len,
    sl_uint_t is_default)
{
    json_t  *configs = data;

    (void) is_default;

    json_object_set_new(configs, name, json_stringn((char *) value, len));
}


/* GET /topics/{t}/partitions */

static sl_int_t
sl_rest_v2_partitions(sl_rest_req_t *rq)
{
    int32_t             i;
    json_t             *parts;
    sl_broker_topic_t  *t;

    t = sl_rest_topic(rq, &rq->params[0]);
    if (t == NULL) {
        return rq->rc;
    }

    parts = json_array();
    if (parts == NULL) {
        return sl_rest_v2_nomem(rq);
    }

    for (i = 0; i < t->partitions_n; i++) {
        if (json_array_append_new(parts, sl_rest_v2_partition_json(i)) != 0) {
            json_decref(parts);
            return sl_rest_v2_nomem(rq);
        }
    }

    return sl_rest_send(rq, SL_HTTP_OK, parts);
}


/* GET /topics/{t}/partitions/{p} */

static sl_int_t
sl_rest_v2_partition(sl_rest_req_t *rq)
{
    json_t                 *j;
    sl_broker_topic_t      *t;
    sl_broker_partition_t  *part;

    t = sl_rest_topic(rq, &rq->params[0]);
    if (t == NULL) {
        return rq->rc;
    }

    part = sl_rest_partition(rq, t, &rq->params[1]);
    if (part == NULL) {
        return rq->rc;
    }

    j = sl_rest_v2_partition_json(part->id);
    if (j == NULL) {
        return sl_rest_v2_nomem(rq);
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


/*
 * GET /topics/{t}/partitions/{p}/offsets: what a read_uncommitted
 * consumer sees, as the proxy asks its consumer for it.
 */

static sl_int_t
sl_rest_v2_offsets(sl_rest_req_t *rq)
{
    json_t                 *j;
    int64_t                 start, end;
    sl_broker_topic_t      *t;
    sl_broker_partition_t  *part;

    t = sl_rest_topic(rq, &rq->params[0]);
    if (t == NULL) {
        return rq->rc;
    }

    part = sl_rest_partition(rq, t, &rq->params[1]);
    if (part == NULL) {
        return rq->rc;
    }

    start = sl_atomic_load(&part->log_start_offset);
    end = sl_atomic_load(&part->high_watermark);

    j = json_pack("{s:I,s:I}", "beginning_offset", (json_int_t) start,
                  "end_offset", (json_int_t) end);
    if (j == NULL) {
        return sl_rest_v2_nomem(rq);
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


/* GET /brokers: this broker alone */

static sl_int_t
sl_rest_v2_brokers(sl_rest_req_t *rq)
{
    json_t  *j;

    j = json_pack("{s:[I]}", "brokers", (json_int_t) sl_rest_node_id());
    if (j == NULL) {
        return sl_rest_v2_nomem(rq);
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


/* {"partition":p,"leader":n,"replicas":[{"broker","leader","in_sync"}]} */

static json_t *
sl_rest_v2_partition_json(int32_t id)
{
    json_int_t  node;

    node = (json_int_t) sl_rest_node_id();

    return json_pack("{s:i,s:I,s:[{s:I,s:b,s:b}]}",
                     "partition", (int) id, "leader", node,
                     "replicas", "broker", node, "leader", 1,
                     "in_sync", 1);
}


/* POST /topics/{t} */

static sl_int_t
sl_rest_v2_produce_to_topic(sl_rest_req_t *rq)
{
    return sl_rest_v2_produce(rq, 0);
}


/* POST /topics/{t}/partitions/{p} */

static sl_int_t
sl_rest_v2_produce_to_partition(sl_rest_req_t *rq)
{
    return sl_rest_v2_produce(rq, 1);
}


/*
 * The produce requests.  by_path: the partition is the path's second
 * parameter (and records may not name one).
 */

static sl_int_t
sl_rest_v2_produce(sl_rest_req_t *rq, sl_uint_t by_path)
{
    int32_t                 p;
    json_t                 *j;
    sl_int_t                rc;
    sl_uint_t               format, i, n, sticky;
    sl_broker_topic_t      *topic;
    sl_rest_v2_record_t    *recs, *r;
    sl_broker_partition_t  *part;

    if (sl_rest_v2_format(rq, &format) != SL_OK) {
        return rq->rc;
    }

    rc = sl_rest_v2_parse(rq, format, !by_path, &recs, &n);
    if (rc != SL_OK) {
        return rq->rc;
    }

    topic = sl_rest_v2_produce_topic(rq, &rq->params[0]);
    if (topic == NULL) {
        return rq->rc;
    }

    part = NULL;

    if (by_path) {
        part = sl_rest_partition(rq, topic, &rq->params[1]);
        if (part == NULL) {
            return rq->rc;
        }
    }

    /*
     * The Java producer's choices: an explicit partition, else murmur2
     * of the serialized key, else one partition for all the key-less
     * records of the request (the sticky partitioner's batch), the next
     * one for the next request.
     */

    sticky = 0;

    if (topic->partitions_n > 0) {
        sticky = sl_rest_v2_sticky++ % (sl_uint_t) topic->partitions_n;
    }

    for (i = 0; i < n; i++) {
        r = &recs[i];

        if (part) {
            r->partition = part->id;
            continue;
        }

        if (r->partition >= 0) {
            if (r->partition >= topic->partitions_n) {
                p = r->partition;
                r->partition = -1;
                r->error_code = SL_REST_ERR_KAFKA;
                r->error = sl_rest_v2_sprintf(rq,
                                "Invalid partition given with record: %d is "
                                "not in the range [0...%d).", (int) p,
                                (int) topic->partitions_n);
            }

            continue;
        }

        if (r->rec.key.len >= 0) {
            r->partition = sl_rest_partition_for_key(r->rec.key.data,
                                                     r->rec.key.len,
                                                     topic->partitions_n);
            continue;
        }

        r->partition = (int32_t) sticky;
    }

    if (sl_rest_v2_append(rq, topic, recs, n) != SL_OK) {
        return sl_rest_v2_nomem(rq);
    }

    j = sl_rest_v2_produce_response(recs, n);
    if (j == NULL) {
        return sl_rest_v2_nomem(rq);
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


/*
 * The embedded format by the Content-Type, as the proxy's router picks
 * its method: binary without one or with any (its unweighted default),
 * 415 for any other type, application/json and
 * application/vnd.kafka.v2+json included.
 */

static sl_int_t
sl_rest_v2_format(sl_rest_req_t *rq, sl_uint_t *format)
{
    u_char            *p, *last, *e;
    size_t             len;
    sl_http_header_t  *h;

    static sl_str_t  binary = sl_string("application/vnd.kafka.binary.v2+json");
    static sl_str_t  json = sl_string("application/vnd.kafka.json.v2+json");

    h = rq->r->headers_in.content_type;

    if (h == NULL) {
        *format = SL_REST_FMT_BINARY;
        return SL_OK;
    }

    p = h->value.data;
    last = p + h->value.len;

    e = sl_strlchr(p, last, ';');
    if (e == NULL) {
        e = last;
    }

    while (p < e && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (e > p && (e[-1] == ' ' || e[-1] == '\t')) {
        e--;
    }

    len = e - p;

    if (len == 3 && p[0] == '*' && p[1] == '/' && p[2] == '*') {
        *format = SL_REST_FMT_BINARY;
        return SL_OK;
    }

    if (len == binary.len && sl_strncasecmp(p, binary.data, len) == 0) {
        *format = SL_REST_FMT_BINARY;
        return SL_OK;
    }

    if (len == json.len && sl_strncasecmp(p, json.data, len) == 0) {
        *format = SL_REST_FMT_JSON;
        return SL_OK;
    }

    (void) sl_rest_error(rq, SL_REST_V2_UNSUPPORTED, 0,
                         "HTTP 415 Unsupported Media Type");

    return SL_ERROR;
}


/*
 * The body: {"records":[{"key","value","partition"}], "key_schema"...}.
 * Sends the error and returns SL_ERROR when it is not one.
 */

static sl_int_t
sl_rest_v2_parse(sl_rest_req_t *rq, sl_uint_t format,
    sl_uint_t with_partition, sl_rest_v2_record_t **out, sl_uint_t *n)
{
    json_t               *records, *rec, *v;
    json_int_t            p;
    const char           *name;
    sl_uint_t             i, nrecords;
    json_error_t          err;
    sl_rest_v2_record_t  *recs, *r;

    if (rq->body.len == 0) {
        (void) sl_rest_error(rq, SL_REST_V2_UNPROCESSABLE, 0,
                             "request must not be null (was null)");
        return SL_ERROR;
    }

    rq->json = json_loadb((char *) rq->body.data, rq->body.len,
                          JSON_DECODE_ANY|JSON_ALLOW_NUL, &err);

    if (rq->json == NULL) {
        (void) sl_rest_error(rq, SL_REST_V2_BAD_REQUEST, 0,
                             "Malformed JSON at line %d, column %d: %s",
                             err.line, err.column, err.text);
        return SL_ERROR;
    }

    if (!json_is_object(rq->json)) {
        (void) sl_rest_error(rq, SL_REST_V2_BAD_REQUEST, 0,
                             "Cannot deserialize the produce request: "
                             "a JSON object is expected");
        return SL_ERROR;
    }

    json_object_foreach(rq->json, name, v) {
        if (sl_strcmp(name, "records") != 0
            && sl_strcmp(name, "key_schema") != 0
            && sl_strcmp(name, "key_schema_id") != 0
            && sl_strcmp(name, "value_schema") != 0
            && sl_strcmp(name, "value_schema_id") != 0)
        {
            (void) sl_rest_error(rq, SL_REST_V2_UNPROCESSABLE, 0,
                                 "Unrecognized field: %s", name);
            return SL_ERROR;
        }
    }

    records = json_object_get(rq->json, "records");

    if (records == NULL || json_is_null(records)) {
        (void) sl_rest_error(rq, SL_REST_V2_UNPROCESSABLE, 0,
                             "records must not be empty (was null)");
        return SL_ERROR;
    }

    if (!json_is_array(records)) {
        (void) sl_rest_error(rq, SL_REST_V2_BAD_REQUEST, 0,
                             "Cannot deserialize records: "
                             "a JSON array is expected");
        return SL_ERROR;
    }

    nrecords = json_array_size(records);

    if (nrecords == 0) {
        (void) sl_rest_error(rq, SL_REST_V2_UNPROCESSABLE, 0,
                             "records must not be empty (was [])");
        return SL_ERROR;
    }

    recs = sl_pcalloc(rq->r->pool, nrecords * sizeof(sl_rest_v2_record_t));
    if (recs == NULL) {
        (void) sl_rest_v2_nomem(rq);
        return SL_ERROR;
    }

    for (i = 0; i < nrecords; i++) {
        rec = json_array_get(records, i);
        r = &recs[i];

        r->partition = -1;
        r->rec.timestamp = -1;
        r->rec.key.len = -1;
        r->rec.value.len = -1;

        if (!json_is_object(rec)) {
            (void) sl_rest_error(rq, SL_REST_V2_BAD_REQUEST, 0,
                                 "Cannot deserialize records[%u]: "
                                 "a JSON object is expected", (unsigned) i);
            return SL_ERROR;
        }

        json_object_foreach(rec, name, v) {

            if (sl_strcmp(name, "key") == 0) {
                if (sl_rest_v2_field(rq, i, name, v, format, &r->rec.key)
                    != SL_OK)
                {
                    return SL_ERROR;
                }

                continue;
            }

            if (sl_strcmp(name, "value") == 0) {
                if (sl_rest_v2_field(rq, i, name, v, format, &r->rec.value)
                    != SL_OK)
                {
                    return SL_ERROR;
                }

                continue;
            }

            if (!with_partition || sl_strcmp(name, "partition") != 0) {
                (void) sl_rest_error(rq, SL_REST_V2_UNPROCESSABLE, 0,
                                     "Unrecognized field: %s", name);
                return SL_ERROR;
            }

            if (json_is_null(v)) {
                continue;
            }

            if (!json_is_integer(v)) {
                (void) sl_rest_error(rq, SL_REST_V2_BAD_REQUEST, 0,
                                     "Cannot deserialize "
                                     "records[%u].partition: "
                                     "an integer is expected", (unsigned) i);
                return SL_ERROR;
            }

            p = json_integer_value(v);

            if (p < 0) {
                (void) sl_rest_error(rq, SL_REST_V2_UNPROCESSABLE, 0,
                                     "records[%u].partition must be greater "
                                     "than or equal to 0 (was %lld)",
                                     (unsigned) i, (long long) p);
                return SL_ERROR;
            }

            if (p > INT32_MAX) {
                (void) sl_rest_error(rq, SL_REST_V2_BAD_REQUEST, 0,
                                     "Cannot deserialize "
                                     "records[%u].partition: %lld is out "
                                     "of the range of an int",
                                     (unsigned) i, (long long) p);
                return SL_ERROR;
            }

            r->partition = (int32_t) p;
        }
    }

    *out = recs;
    *n = nrecords;

    return SL_OK;
}


/* a key or a value: base64 text (binary) or any JSON value (json) */

static sl_int_t
sl_rest_v2_field(sl_rest_req_t *rq, sl_uint_t i, const char *name, json_t *v,
    sl_uint_t format, sl_broker_bytes_t *out)
{
    if (format == SL_REST_FMT_BINARY && !json_is_null(v)) {

        if (!json_is_string(v)) {
            (void) sl_rest_error(rq, SL_REST_V2_BAD_REQUEST, 0,
                                 "Cannot deserialize records[%u].%s: "
                                 "a base64 string is expected",
                                 (unsigned) i, name);
            return SL_ERROR;
        }

        if (!sl_rest_v2_base64_valid((u_char *) json_string_value(v),
                                     json_string_length(v)))
        {
            (void) sl_rest_error(rq, SL_REST_V2_UNPROCESSABLE, 0,
                                 "Record %s contains invalid base64 "
                                 "encoding", name);
            return SL_ERROR;
        }
    }

    if (sl_rest_json_bytes(rq, v, format, out) != SL_OK) {
        (void) sl_rest_error(rq, SL_REST_V2_UNPROCESSABLE, 0,
                             "records[%u].%s cannot be serialized",
                             (unsigned) i, name);
        return SL_ERROR;
    }

    return SL_OK;
}


/*
 * Strict base64 (RFC 4648's alphabet) as Java's decoder takes it: the
 * padding, if any, only at the end and completing the last quantum.
 */

static sl_uint_t
sl_rest_v2_base64_valid(u_char *p, size_t len)
{
    u_char  c;
    size_t  i, pad;

    pad = 0;

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c == '=') {
            pad++;
            continue;
        }

        if (pad) {
            return 0;
        }

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '+' || c == '/')
        {
            continue;
        }

        return 0;
    }

    if (pad > 2 || (pad && len % 4) || (len - pad) % 4 == 1) {
        return 0;
    }

    return 1;
}


/*
 * Appends the records of each partition as one batch, in request order
 * within it; fills in every record's offset or error.  SL_ERROR only
 * when out of memory.
 */

static sl_int_t
sl_rest_v2_append(sl_rest_req_t *rq, sl_broker_topic_t *topic,
    sl_rest_v2_record_t *recs, sl_uint_t n)
{
    int64_t                    base;
    int32_t                    p;
    sl_int_t                   rc;
    size_t                     max, size, est;
    sl_str_t                   why;
    sl_uint_t                  i, k, lo, hi, nparts, *count, *first, *order;
    sl_rest_v2_record_t       *r;
    sl_broker_partition_t     *part;
    sl_broker_batch_record_t  *batch;

    nparts = (sl_uint_t) topic->partitions_n;

    count = sl_pcalloc(rq->r->pool, 2 * (nparts + 1) * sizeof(sl_uint_t));
    order = sl_pnalloc(rq->r->pool, n * sizeof(sl_uint_t));
    batch = sl_pnalloc(rq->r->pool, n * sizeof(sl_broker_batch_record_t));

    if (count == NULL || order == NULL || batch == NULL) {
        return SL_ERROR;
    }

    first = count + nparts + 1;

    /* a stable counting sort of the records by partition */

    for (i = 0; i < n; i++) {
        if (recs[i].error_code == 0) {
            count[recs[i].partition]++;
        }
    }

    for (p = 0, k = 0; p < (int32_t) nparts; p++) {
        first[p] = k;
        k += count[p];
    }

    for (i = 0; i < n; i++) {
        if (recs[i].error_code == 0) {
            k = first[recs[i].partition]++;
            order[k] = i;
            batch[k] = recs[i].rec;
        }
    }

    max = topic->conf.max_record_batch_bytes - SL_BROKER_BATCH_HEADER_SIZE;

    for (p = 0, k = 0; p < (int32_t) nparts; k += count[p], p++) {

        part = count[p] ? sl_broker_partition(topic, p) : NULL;

        /*
         * One batch for the partition's records, unless they overflow
         * the topic's max_record_batch_bytes (by their plain size): then
         * as many batches as the Java producer would cut, and only a
         * record too large by itself fails.
         */

        for (lo = 0; lo < count[p]; lo = hi) {
            size = 0;

            for (hi = lo; hi < count[p]; hi++) {
                est = SL_REST_V2_RECORD_OVERHEAD;
                est += batch[k + hi].key.len > 0 ? batch[k + hi].key.len : 0;
                est += batch[k + hi].value.len > 0
                       ? batch[k + hi].value.len : 0;

                if (hi > lo && size + est > max) {
                    break;
                }

                size += est;
            }

            why.len = 0;
            rc = SL_BROKER_ERR_UNKNOWN_TOPIC;

            if (part) {
                rc = sl_rest_produce(rq, part, &batch[k + lo], hi - lo,
                                     &base, &why);
            }

            for (i = lo; i < hi; i++) {
                r = &recs[order[k + i]];

                if (rc != SL_BROKER_OK) {
                    sl_rest_v2_fail(rq, r, rc, &why);

                } else {
                    /* -1: the produce filters dropped them */
                    r->offset = base < 0 ? -1 : base + (int64_t) (i - lo);
                }
            }

            if (rc != SL_BROKER_OK) {
                sl_log_error(SL_LOG_INFO, rq->r->connection->log, 0,
                             "rest: produce to \"%.*s\"-%d: error %ld",
                             SL_STR_ARG(&topic->name), (int) p, (long) rc);
            }
        }
    }

    return SL_OK;
}


/* a record's error as the Java producer's exception would say it */

static void
sl_rest_v2_fail(sl_rest_req_t *rq, sl_rest_v2_record_t *r, sl_int_t rc,
    sl_str_t *why)
{
    r->error_code = SL_REST_ERR_KAFKA;

    switch (rc) {

    case SL_BROKER_ERR_STORAGE:
    case SL_BROKER_ERR_NO_MEMORY:
        r->error_code = SL_REST_ERR_KAFKA_RETRIABLE;
        r->error = "Disk error when trying to access log file on the disk.";
        break;

    case SL_BROKER_ERR_UNKNOWN_TOPIC:
        r->error_code = SL_REST_ERR_KAFKA_RETRIABLE;
        r->error = "This server does not host this topic-partition.";
        break;

    case SL_BROKER_ERR_TOO_LARGE:
        r->error = "The request included a message larger than the max "
                   "message size the server will accept.";
        break;

    case SL_BROKER_ERR_CORRUPT:
        r->error = "This message has failed its CRC checksum, exceeds the "
                   "valid size, has a null key for a compacted topic, or "
                   "is otherwise corrupt.";
        break;

    case SL_BROKER_ERR_INVALID_RECORD:
    case SL_BROKER_ERR_POLICY:
        r->error = "This record has failed the validation on broker and "
                   "hence will be rejected.";
        break;

    default:
        r->error = "Unexpected broker error.";
        break;
    }

    if (why->len) {
        /* the produce filter's own words */
        r->error = sl_rest_v2_sprintf(rq, "%.*s", (int) why->len,
                                      (char *) why->data);
    }
}


/*
 * {"offsets":[{"partition","offset","error_code","error"}],
 *  "key_schema_id":null,"value_schema_id":null}
 */

static json_t *
sl_rest_v2_produce_response(sl_rest_v2_record_t *recs, sl_uint_t n)
{
    json_t     *j, *offsets, *o;
    sl_uint_t   i;

    offsets = json_array();

    j = json_pack("{s:o,s:n,s:n}", "offsets", offsets,
                  "key_schema_id", "value_schema_id");
    if (j == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {

        if (recs[i].error_code) {
            o = json_pack("{s:n,s:n,s:I,s:s}", "partition", "offset",
                          "error_code", (json_int_t) recs[i].error_code,
                          "error", recs[i].error);

            if (o == NULL) {
                /* a filter's words that are not UTF-8 */
                o = json_pack("{s:n,s:n,s:I,s:s}", "partition", "offset",
                              "error_code",
                              (json_int_t) recs[i].error_code,
                              "error", "The record was refused.");
            }

        } else {
            o = json_pack("{s:i,s:I,s:n,s:n}",
                          "partition", (int) recs[i].partition,
                          "offset", (json_int_t) recs[i].offset,
                          "error_code", "error");
        }

        if (json_array_append_new(offsets, o) != 0) {
            json_decref(j);
            return NULL;
        }
    }

    return j;
}


/*
 * The topic of a produce: created with the defaults if the kafka
 * module's auto_create_topics allows it (as a Java producer's metadata
 * request would create it), else 404 40401.
 */

static sl_broker_topic_t *
sl_rest_v2_produce_topic(sl_rest_req_t *rq, sl_str_t *name)
{
    sl_int_t               rc;
    sl_cycle_t            *cycle;
    sl_broker_topic_t     *t;
    sl_kafka_main_conf_t  *kmcf;

    t = sl_broker_topic_find(name);

    if (t && !t->deleted) {
        return t;
    }

    cycle = (sl_cycle_t *) sl_cycle;
    kmcf = NULL;

    if (cycle && cycle->conf_ctx) {
        kmcf = sl_kafka_cycle_get_module_main_conf(cycle,
                                                   sl_kafka_core_module);
    }

    if (kmcf == NULL || !kmcf->auto_create_topics
        || !sl_broker_topic_name_valid(name))
    {
        return sl_rest_topic(rq, name);
    }

    rc = sl_kafka_topic_create(kmcf, name, 0, NULL, rq->r->connection->log,
                               &t);

    if (rc == SL_BROKER_ERR_TOPIC_EXISTS) {
        /* another worker was first */
        return sl_rest_topic(rq, name);
    }

    if (rc != SL_BROKER_OK) {
        (void) sl_rest_broker_error(rq, rc, "topic");
        return NULL;
    }

    sl_log_error(SL_LOG_INFO, rq->r->connection->log, 0,
                 "rest: auto-created topic \"%.*s\"", SL_STR_ARG(name));

    return t;
}


static const char *
sl_rest_v2_sprintf(sl_rest_req_t *rq, const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;

    p = sl_pnalloc(rq->r->pool, 256);
    if (p == NULL) {
        return "out of memory";
    }

    last = p + 256;

    va_start(args, fmt);
    (void) sl_vslprintf(p, last, fmt, args);
    va_end(args);

    return (const char *) p;
}


static sl_int_t
sl_rest_v2_nomem(sl_rest_req_t *rq)
{
    return sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR, 0,
                         "Internal Server Error");
}
