
/*
 * The REST proxy's v3 routes (Confluent REST Proxy API v3, content type
 * application/json): the cluster, its topics and their configs, the
 * partitions and replicas, producing records (one JSON object, or many
 * concatenated: streamed produce), the broker and its configs, consumer
 * groups, their consumers and assignments, and lag.
 *
 * Every resource carries "kind" and "metadata" {"self","resource_name"}
 * and "related" links as Confluent's; lists carry "next": null.  Errors
 * are {"error_code":N,"message":...}.  Partitions also carry Sluice's
 * own "log_start_offset", "log_end_offset", "high_watermark",
 * "size_bytes" and "segments".
 */

#include <sl_config.h>
#include <sl_core.h>
#include <sl_http.h>
#include <sl_broker.h>
#include <sl_broker_group.h>
#include <sl_kafka.h>
#include <sl_rest.h>


#define SL_V3_ERR_BAD_REQUEST      40002

/* the last second of the year 9999: timestamps past it are refused */
#define SL_V3_MAX_SECONDS          253402300799LL

/* the scratch pool of one produced record */
#define SL_V3_RECORD_POOL_SIZE     4096

#define sl_v3_set(obj, key, val)                                             \
    (void) json_object_set_new(obj, key, val)

#define sl_v3_append(arr, val)                                               \
    (void) json_array_append_new(arr, val)


/* big-endian readers for the ConsumerProtocol assignment */
#define sl_v3_rd16(p)  (int16_t) (((p)[0] << 8) | (p)[1])
#define sl_v3_rd32(p)  (int32_t) (((uint32_t) (p)[0] << 24)                 \
                                  | ((uint32_t) (p)[1] << 16)                \
                                  | ((uint32_t) (p)[2] << 8) | (p)[3])


typedef struct {
    sl_broker_topic_t       *topic;
    json_t                  *list;       /* every config, or */
    sl_str_t                *only;       /* the one named */
    json_t                  *found;
} sl_v3_configs_ctx_t;


typedef struct {
    u_char                  *data;
    size_t                   len;
    size_t                   size;
} sl_v3_out_t;


typedef struct {
    int64_t                  lag;
    int64_t                  total;
} sl_v3_lag_summary_t;


static sl_int_t sl_v3_begin(sl_rest_req_t *rq);
static json_t *sl_v3_vfmt(const char *prefix, sl_str_t *arg,
    const char *fmt, va_list args);
static json_t *sl_v3_url(const char *fmt, ...);
static json_t *sl_v3_crn(const char *fmt, ...);
static json_t *sl_v3_abs(const char *fmt, ...);
static json_t *sl_v3_resource(const char *kind, json_t *self, json_t *crn);
static json_t *sl_v3_list(const char *kind, json_t *self);
static json_t *sl_v3_rel(json_t *url);
static json_t *sl_v3_strn(u_char *data, size_t len);
static sl_int_t sl_v3_int(sl_str_t *s, int64_t *n);

static sl_int_t sl_v3_clusters(sl_rest_req_t *rq);
static sl_int_t sl_v3_cluster(sl_rest_req_t *rq);
static json_t *sl_v3_cluster_json(void);

static sl_int_t sl_v3_topics(sl_rest_req_t *rq);
static sl_int_t sl_v3_topic_create(sl_rest_req_t *rq);
static sl_int_t sl_v3_topic_get(sl_rest_req_t *rq);
static sl_int_t sl_v3_topic_delete(sl_rest_req_t *rq);
static sl_int_t sl_v3_topic_patch(sl_rest_req_t *rq);
static json_t *sl_v3_topic_json(sl_broker_topic_t *t);

static sl_int_t sl_v3_configs(sl_rest_req_t *rq);
static sl_int_t sl_v3_config_get(sl_rest_req_t *rq);
static sl_int_t sl_v3_config_put(sl_rest_req_t *rq);
static sl_int_t sl_v3_config_delete(sl_rest_req_t *rq);
static sl_int_t sl_v3_configs_alter(sl_rest_req_t *rq);
static void sl_v3_config_each(void *data, const char *name, u_char *value,
    size_t len, sl_uint_t is_default);
static sl_int_t sl_v3_config_check(sl_rest_req_t *rq, json_t *name,
    json_t *value, sl_str_t *n, sl_str_t *v);
static sl_int_t sl_v3_config_ignored(sl_str_t *name);
static const char *sl_v3_broker_synonym(const char *name);
static sl_int_t sl_v3_config_send(sl_rest_req_t *rq, sl_broker_topic_t *t,
    sl_str_t *name, sl_uint_t status);
static sl_int_t sl_v3_config_apply(sl_rest_req_t *rq, sl_broker_topic_t *t,
    sl_str_t *name, sl_str_t *value);

static sl_int_t sl_v3_partitions(sl_rest_req_t *rq);
static sl_int_t sl_v3_partition_get(sl_rest_req_t *rq);
static json_t *sl_v3_partition_json(sl_broker_partition_t *part);
static sl_int_t sl_v3_replicas(sl_rest_req_t *rq);
static sl_int_t sl_v3_replica(sl_rest_req_t *rq);
static json_t *sl_v3_replica_json(sl_broker_partition_t *part);

static sl_int_t sl_v3_records(sl_rest_req_t *rq);
static sl_int_t sl_v3_out_add(sl_pool_t *pool, sl_v3_out_t *out, json_t *j);
static sl_int_t sl_v3_produce_part(sl_rest_req_t *rq, sl_broker_topic_t *t,
    json_t *pid, sl_broker_bytes_t *key, sl_broker_partition_t **part);
static json_t *sl_v3_produce_one(sl_rest_req_t *rq, sl_broker_topic_t *t,
    json_t *in, sl_uint_t *status);
static json_t *sl_v3_produce_error(sl_uint_t *status, sl_uint_t code,
    const char *fmt, ...);
static sl_int_t sl_v3_data(sl_rest_req_t *rq, json_t *in,
    sl_broker_bytes_t *out, const char **type, char *err, size_t errlen);
static sl_int_t sl_v3_parse_time(json_t *v, int64_t *ms);
static json_t *sl_v3_time(int64_t ms);

static sl_int_t sl_v3_brokers(sl_rest_req_t *rq);
static sl_int_t sl_v3_broker(sl_rest_req_t *rq);
static json_t *sl_v3_broker_json(void);
static sl_int_t sl_v3_broker_id(sl_rest_req_t *rq);
static sl_int_t sl_v3_broker_configs(sl_rest_req_t *rq);
static sl_int_t sl_v3_broker_config(sl_rest_req_t *rq);
static json_t *sl_v3_broker_configs_json(const char *only);

static sl_int_t sl_v3_groups(sl_rest_req_t *rq);
static sl_int_t sl_v3_group(sl_rest_req_t *rq);
static sl_int_t sl_v3_group_find(sl_rest_req_t *rq,
    sl_broker_group_desc_t *d);
static json_t *sl_v3_group_json(sl_broker_group_desc_t *d);
static const char *sl_v3_state(sl_uint_t state);
static sl_int_t sl_v3_consumers(sl_rest_req_t *rq);
static sl_int_t sl_v3_consumer(sl_rest_req_t *rq);
static sl_broker_group_member_info_t *sl_v3_member(sl_rest_req_t *rq,
    sl_broker_group_desc_t *d);
static json_t *sl_v3_consumer_json(sl_str_t *group,
    sl_broker_group_member_info_t *m);
static sl_int_t sl_v3_assignments(sl_rest_req_t *rq);
static sl_int_t sl_v3_assignment_decode(sl_str_t *a,
    sl_broker_group_member_info_t *m, sl_str_t *group, json_t *list,
    sl_str_t *topic, int32_t partition, json_t **found);
static sl_broker_group_member_info_t *sl_v3_owner(sl_broker_group_desc_t *d,
    sl_str_t *topic, int32_t partition);
static sl_int_t sl_v3_lags(sl_rest_req_t *rq);
static sl_int_t sl_v3_lag(sl_rest_req_t *rq);
static sl_int_t sl_v3_lag_summary(sl_rest_req_t *rq);
static sl_int_t sl_v3_offsets(sl_rest_req_t *rq, sl_array_t *out);
static int64_t sl_v3_leo(sl_broker_group_offset_t *o);
static json_t *sl_v3_lag_json(sl_str_t *group, sl_broker_group_offset_t *o,
    int64_t leo, sl_broker_group_member_info_t *m);


sl_rest_route_t  sl_rest_v3_routes[] = {

    { SL_HTTP_GET, "/v3/clusters", SL_REST_V3, SL_REST_BODY_NONE,
      sl_v3_clusters },
    { SL_HTTP_GET, "/v3/clusters/{}", SL_REST_V3, SL_REST_BODY_NONE,
      sl_v3_cluster },

    { SL_HTTP_GET, "/v3/clusters/{}/topics", SL_REST_V3, SL_REST_BODY_NONE,
      sl_v3_topics },
    { SL_HTTP_POST, "/v3/clusters/{}/topics", SL_REST_V3, SL_REST_BODY_JSON,
      sl_v3_topic_create },
    { SL_HTTP_GET, "/v3/clusters/{}/topics/{}", SL_REST_V3,
      SL_REST_BODY_NONE, sl_v3_topic_get },
    { SL_HTTP_DELETE, "/v3/clusters/{}/topics/{}", SL_REST_V3,
      SL_REST_BODY_NONE, sl_v3_topic_delete },
    { SL_HTTP_PATCH, "/v3/clusters/{}/topics/{}", SL_REST_V3,
      SL_REST_BODY_JSON, sl_v3_topic_patch },

    { SL_HTTP_GET, "/v3/clusters/{}/topics/{}/configs", SL_REST_V3,
      SL_REST_BODY_NONE, sl_v3_configs },
    { SL_HTTP_POST, "/v3/clusters/{}/topics/{}/configs:alter", SL_REST_V3,
      SL_REST_BODY_JSON, sl_v3_configs_alter },
    { SL_HTTP_GET, "/v3/clusters/{}/topics/{}/configs/{}", SL_REST_V3,
      SL_REST_BODY_NONE, sl_v3_config_get },
    { SL_HTTP_PUT, "/v3/clusters/{}/topics/{}/configs/{}", SL_REST_V3,
      SL_REST_BODY_JSON, sl_v3_config_put },
    { SL_HTTP_DELETE, "/v3/clusters/{}/topics/{}/configs/{}", SL_REST_V3,
      SL_REST_BODY_NONE, sl_v3_config_delete },

    { SL_HTTP_GET, "/v3/clusters/{}/topics/{}/partitions", SL_REST_V3,
      SL_REST_BODY_NONE, sl_v3_partitions },
    { SL_HTTP_GET, "/v3/clusters/{}/topics/{}/partitions/{}", SL_REST_V3,
      SL_REST_BODY_NONE, sl_v3_partition_get },
    { SL_HTTP_GET, "/v3/clusters/{}/topics/{}/partitions/{}/replicas",
      SL_REST_V3, SL_REST_BODY_NONE, sl_v3_replicas },
    { SL_HTTP_GET, "/v3/clusters/{}/topics/{}/partitions/{}/replicas/{}",
      SL_REST_V3, SL_REST_BODY_NONE, sl_v3_replica },

    { SL_HTTP_POST, "/v3/clusters/{}/topics/{}/records", SL_REST_V3,
      SL_REST_BODY_RAW, sl_v3_records },

    { SL_HTTP_GET, "/v3/clusters/{}/brokers", SL_REST_V3,
      SL_REST_BODY_NONE, sl_v3_brokers },
    { SL_HTTP_GET, "/v3/clusters/{}/brokers/{}", SL_REST_V3,
      SL_REST_BODY_NONE, sl_v3_broker },
    { SL_HTTP_GET, "/v3/clusters/{}/brokers/{}/configs", SL_REST_V3,
      SL_REST_BODY_NONE, sl_v3_broker_configs },
    { SL_HTTP_GET, "/v3/clusters/{}/brokers/{}/configs/{}", SL_REST_V3,
      SL_REST_BODY_NONE, sl_v3_broker_config },

    { SL_HTTP_GET, "/v3/clusters/{}/consumer-groups", SL_REST_V3,
      SL_REST_BODY_NONE, sl_v3_groups },
    { SL_HTTP_GET, "/v3/clusters/{}/consumer-groups/{}", SL_REST_V3,
      SL_REST_BODY_NONE, sl_v3_group },
    { SL_HTTP_GET, "/v3/clusters/{}/consumer-groups/{}/consumers",
      SL_REST_V3, SL_REST_BODY_NONE, sl_v3_consumers },
    { SL_HTTP_GET, "/v3/clusters/{}/consumer-groups/{}/consumers/{}",
      SL_REST_V3, SL_REST_BODY_NONE, sl_v3_consumer },
    { SL_HTTP_GET,
      "/v3/clusters/{}/consumer-groups/{}/consumers/{}/assignments",
      SL_REST_V3, SL_REST_BODY_NONE, sl_v3_assignments },
    { SL_HTTP_GET,
      "/v3/clusters/{}/consumer-groups/{}/consumers/{}/assignments/{}"
      "/partitions/{}",
      SL_REST_V3, SL_REST_BODY_NONE, sl_v3_assignments },
    { SL_HTTP_GET, "/v3/clusters/{}/consumer-groups/{}/lags", SL_REST_V3,
      SL_REST_BODY_NONE, sl_v3_lags },
    { SL_HTTP_GET, "/v3/clusters/{}/consumer-groups/{}/lags/{}/partitions/{}",
      SL_REST_V3, SL_REST_BODY_NONE, sl_v3_lag },
    { SL_HTTP_GET, "/v3/clusters/{}/consumer-groups/{}/lag-summary",
      SL_REST_V3, SL_REST_BODY_NONE, sl_v3_lag_summary },

    { 0, NULL, 0, 0, NULL }
};


/* the request being answered: handlers run one at a time per worker */
static u_char     sl_v3_base_buf[300];
static sl_str_t   sl_v3_base;
static sl_str_t  *sl_v3_cid;
static sl_uint_t  sl_v3_rr;


/* helpers */

static sl_int_t
sl_v3_begin(sl_rest_req_t *rq)
{
    u_char     *p, c;
    size_t      i;
    sl_int_t    port;
    sl_str_t   *host, adv;

    host = rq->r->headers_in.host ? &rq->r->headers_in.host->value : NULL;

    if (host) {
        for (i = 0; i < host->len; i++) {
            c = host->data[i];

            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                  || (c >= '0' && c <= '9') || c == '.' || c == '-'
                  || c == ':' || c == '[' || c == ']' || c == '_'))
            {
                host = NULL;
                break;
            }
        }
    }

    if (host && host->len > 0 && host->len < 256) {
        p = sl_slprintf(sl_v3_base_buf,
                        sl_v3_base_buf + sizeof(sl_v3_base_buf),
                        "http://%.*s", SL_STR_ARG(host));

    } else {
        sl_rest_advertised(&adv, &port);
        p = sl_slprintf(sl_v3_base_buf,
                        sl_v3_base_buf + sizeof(sl_v3_base_buf),
                        "http://%.*s", (int) sl_min(adv.len, 250),
                        (char *) adv.data);
    }

    sl_v3_base.data = sl_v3_base_buf;
    sl_v3_base.len = p - sl_v3_base_buf;

    sl_v3_cid = sl_rest_cluster_id();

    if (rq->nparams > 0 && sl_rest_cluster_check(rq) != SL_OK) {
        return SL_ERROR;
    }

    return SL_OK;
}


static json_t *
sl_v3_vfmt(const char *prefix, sl_str_t *arg, const char *fmt,
    va_list args)
{
    u_char  buf[2048], *p;

    p = sl_slprintf(buf, buf + sizeof(buf), prefix, SL_STR_ARG(arg));
    p = sl_vslprintf(p, buf + sizeof(buf), fmt, args);

    return sl_v3_strn(buf, p - buf);
}


/* base + /v3/clusters/CID + fmt */
static json_t *
sl_v3_url(const char *fmt, ...)
{
    u_char    pre[400], *p;
    json_t   *j;
    va_list   args;
    sl_str_t  s;

    p = sl_slprintf(pre, pre + sizeof(pre), "%.*s/v3/clusters/%.*s",
                    SL_STR_ARG(&sl_v3_base), SL_STR_ARG(sl_v3_cid));
    s.data = pre;
    s.len = p - pre;

    va_start(args, fmt);
    j = sl_v3_vfmt("%.*s", &s, fmt, args);
    va_end(args);

    return j;
}


static json_t *
sl_v3_abs(const char *fmt, ...)
{
    json_t   *j;
    va_list   args;

    va_start(args, fmt);
    j = sl_v3_vfmt("%.*s", &sl_v3_base, fmt, args);
    va_end(args);

    return j;
}


static json_t *
sl_v3_crn(const char *fmt, ...)
{
    json_t   *j;
    va_list   args;

    va_start(args, fmt);
    j = sl_v3_vfmt("crn:///kafka=%.*s", sl_v3_cid, fmt, args);
    va_end(args);

    return j;
}


static json_t *
sl_v3_resource(const char *kind, json_t *self, json_t *crn)
{
    return json_pack("{s:s,s:{s:o?,s:o?}}", "kind", kind,
                     "metadata", "self", self, "resource_name", crn);
}


static json_t *
sl_v3_list(const char *kind, json_t *self)
{
    return json_pack("{s:s,s:{s:o?,s:n},s:[]}", "kind", kind,
                     "metadata", "self", self, "next", "data");
}


static json_t *
sl_v3_rel(json_t *url)
{
    return json_pack("{s:o?}", "related", url);
}


/* a JSON string, or null when not UTF-8 */
static json_t *
sl_v3_strn(u_char *data, size_t len)
{
    json_t  *j;

    j = json_stringn((char *) (data ? data : (u_char *) ""), len);

    return j ? j : json_null();
}


static sl_int_t
sl_v3_int(sl_str_t *s, int64_t *n)
{
    off_t  v;

    if (s->len == 0 || s->len > 10) {
        return SL_ERROR;
    }

    v = sl_atoof(s->data, s->len);
    if (v == SL_ERROR || v > INT32_MAX) {
        return SL_ERROR;
    }

    *n = v;

    return SL_OK;
}


/* clusters */

static sl_int_t
sl_v3_clusters(sl_rest_req_t *rq)
{
    json_t  *j;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    j = sl_v3_list("KafkaClusterList", sl_v3_abs("/v3/clusters"));
    if (j) {
        sl_v3_append(json_object_get(j, "data"), sl_v3_cluster_json());
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


static sl_int_t
sl_v3_cluster(sl_rest_req_t *rq)
{
    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    return sl_rest_send(rq, SL_HTTP_OK, sl_v3_cluster_json());
}


static json_t *
sl_v3_cluster_json(void)
{
    json_t  *j;

    j = sl_v3_resource("KafkaCluster", sl_v3_url(""), sl_v3_crn(""));
    if (j == NULL) {
        return NULL;
    }

    sl_v3_set(j, "cluster_id", sl_v3_strn(sl_v3_cid->data, sl_v3_cid->len));
    sl_v3_set(j, "controller",
              sl_v3_rel(sl_v3_url("/brokers/%d", (int) sl_rest_node_id())));
    sl_v3_set(j, "acls", sl_v3_rel(sl_v3_url("/acls")));
    sl_v3_set(j, "brokers", sl_v3_rel(sl_v3_url("/brokers")));
    sl_v3_set(j, "broker_configs", sl_v3_rel(sl_v3_url("/broker-configs")));
    sl_v3_set(j, "consumer_groups", sl_v3_rel(sl_v3_url("/consumer-groups")));
    sl_v3_set(j, "topics", sl_v3_rel(sl_v3_url("/topics")));
    sl_v3_set(j, "partition_reassignments",
              sl_v3_rel(sl_v3_url("/topics/-/partitions/-/reassignment")));

    return j;
}


/* topics */

static sl_int_t
sl_v3_topics(sl_rest_req_t *rq)
{
    json_t             *j, *data;
    sl_broker_topic_t  *t;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    j = sl_v3_list("KafkaTopicList", sl_v3_url("/topics"));
    if (j == NULL) {
        return sl_rest_send(rq, SL_HTTP_INTERNAL_SERVER_ERROR, NULL);
    }

    data = json_object_get(j, "data");

    for (t = sl_broker_topic_next(NULL); t; t = sl_broker_topic_next(t)) {
        if (!t->deleted) {
            sl_v3_append(data, sl_v3_topic_json(t));
        }
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


static json_t *
sl_v3_topic_json(sl_broker_topic_t *t)
{
    int      n;
    char    *name;
    json_t  *j;

    n = (int) t->name.len;
    name = (char *) t->name.data;

    j = sl_v3_resource("KafkaTopic", sl_v3_url("/topics/%.*s", n, name),
                       sl_v3_crn("/topic=%.*s", n, name));
    if (j == NULL) {
        return NULL;
    }

    sl_v3_set(j, "cluster_id", sl_v3_strn(sl_v3_cid->data, sl_v3_cid->len));
    sl_v3_set(j, "topic_name", sl_v3_strn(t->name.data, t->name.len));
    sl_v3_set(j, "is_internal", json_boolean(t->internal));
    sl_v3_set(j, "replication_factor", json_integer(1));
    sl_v3_set(j, "partitions_count", json_integer(t->partitions_n));
    sl_v3_set(j, "partitions",
              sl_v3_rel(sl_v3_url("/topics/%.*s/partitions", n, name)));
    sl_v3_set(j, "configs",
              sl_v3_rel(sl_v3_url("/topics/%.*s/configs", n, name)));
    sl_v3_set(j, "partition_reassignments",
              sl_v3_rel(sl_v3_url("/topics/%.*s/partitions/-/reassignment",
                                  n, name)));
    sl_v3_set(j, "authorized_operations", json_array());

    return j;
}


static sl_int_t
sl_v3_topic_create(sl_rest_req_t *rq)
{
    size_t                   i;
    json_t                  *name, *parts, *rf, *configs, *c;
    int64_t                  n;
    sl_int_t                 rc;
    sl_str_t                 tname, cn, cv;
    sl_cycle_t              *cycle;
    sl_broker_topic_t       *t;
    sl_broker_topic_conf_t   conf;
    sl_kafka_main_conf_t    *kmcf;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    if (!json_is_object(rq->json)) {
        return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                             "The request body must be a JSON object.");
    }

    name = json_object_get(rq->json, "topic_name");
    parts = json_object_get(rq->json, "partitions_count");
    rf = json_object_get(rq->json, "replication_factor");
    configs = json_object_get(rq->json, "configs");

    if (!json_is_string(name) || json_string_length(name) == 0) {
        return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY, 0,
                             "topic_name: must not be empty");
    }

    tname.data = (u_char *) json_string_value(name);
    tname.len = json_string_length(name);

    if (!sl_broker_topic_name_valid(&tname)) {
        return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, SL_V3_ERR_BAD_REQUEST,
                             "Topic name is invalid: %.*s",
                             (int) sl_min(tname.len, 300),
                             (char *) tname.data);
    }

    cycle = (sl_cycle_t *) sl_cycle;
    kmcf = sl_kafka_cycle_get_module_main_conf(cycle, sl_kafka_core_module);

    n = (kmcf && kmcf->default_partitions > 0) ? kmcf->default_partitions
                                               : 1;

    if (parts && !json_is_null(parts)) {
        if (!json_is_integer(parts)) {
            return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                                 "partitions_count: must be an integer");
        }

        n = json_integer_value(parts);

        if (n == -1) {
            n = (kmcf && kmcf->default_partitions > 0)
                ? kmcf->default_partitions : 1;
        }

        if (n <= 0 || n > SL_BROKER_MAX_PARTITIONS) {
            return sl_rest_error(rq, SL_HTTP_BAD_REQUEST,
                                 SL_V3_ERR_BAD_REQUEST,
                                 "Number of partitions must be larger "
                                 "than 0.");
        }
    }

    if (rf && !json_is_null(rf)) {
        if (!json_is_integer(rf)) {
            return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                                 "replication_factor: must be an integer");
        }

        if (json_integer_value(rf) != 1 && json_integer_value(rf) != -1) {
            return sl_rest_error(rq, SL_HTTP_BAD_REQUEST,
                                 SL_V3_ERR_BAD_REQUEST,
                                 "Replication factor: %lld larger than "
                                 "available brokers: 1.",
                                 (long long) json_integer_value(rf));
        }
    }

    sl_broker_topic_conf_init(&conf);

    if (configs && !json_is_null(configs)) {
        if (!json_is_array(configs)) {
            return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                                 "configs: must be an array");
        }

        json_array_foreach(configs, i, c) {
            if (!json_is_object(c)) {
                return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                                     "configs: must be an array of "
                                     "{\"name\",\"value\"}");
            }

            if (sl_v3_config_check(rq, json_object_get(c, "name"),
                                   json_object_get(c, "value"), &cn, &cv)
                != SL_OK)
            {
                return rq->rc;
            }

            rc = sl_broker_topic_conf_set(&conf, &cn, &cv);

            if (rc == SL_DECLINED && sl_v3_config_ignored(&cn)) {
                continue;
            }

            if (rc == SL_DECLINED) {
                return sl_rest_error(rq, SL_HTTP_BAD_REQUEST,
                                     SL_V3_ERR_BAD_REQUEST,
                                     "Unknown topic config name: %.*s",
                                     (int) sl_min(cn.len, 200),
                                     (char *) cn.data);
            }

            if (rc != SL_BROKER_OK) {
                return sl_rest_error(rq, SL_HTTP_BAD_REQUEST,
                                     SL_V3_ERR_BAD_REQUEST,
                                     "Invalid value %.*s for configuration "
                                     "%.*s", (int) sl_min(cv.len, 200),
                                     (char *) cv.data, SL_STR_ARG(&cn));
            }
        }
    }

    if (kmcf) {
        rc = sl_kafka_topic_create(kmcf, &tname, (sl_int_t) n, &conf,
                                   rq->r->connection->log, &t);
    } else {
        rc = sl_broker_topic_create(&tname, (sl_int_t) n, &conf,
                                    rq->r->connection->log, &t);
    }

    if (rc == SL_BROKER_ERR_TOPIC_EXISTS) {
        return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, SL_V3_ERR_BAD_REQUEST,
                             "Topic '%.*s' already exists.",
                             SL_STR_ARG(&tname));
    }

    if (rc != SL_BROKER_OK) {
        return sl_rest_broker_error(rq, rc, "create topic");
    }

    sl_log_error(SL_LOG_INFO, rq->r->connection->log, 0,
                 "rest: created topic \"%.*s\" with %d partitions",
                 SL_STR_ARG(&tname), (int) n);

    return sl_rest_send(rq, 201, sl_v3_topic_json(t));
}


static sl_int_t
sl_v3_topic_get(sl_rest_req_t *rq)
{
    sl_broker_topic_t  *t;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    t = sl_rest_topic(rq, &rq->params[1]);
    if (t == NULL) {
        return rq->rc;
    }

    return sl_rest_send(rq, SL_HTTP_OK, sl_v3_topic_json(t));
}


static sl_int_t
sl_v3_topic_delete(sl_rest_req_t *rq)
{
    sl_int_t            rc;
    sl_broker_topic_t  *t;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    t = sl_rest_topic(rq, &rq->params[1]);
    if (t == NULL) {
        return rq->rc;
    }

    if (t->internal) {
        return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, SL_V3_ERR_BAD_REQUEST,
                             "Cannot delete internal topic %.*s.",
                             SL_STR_ARG(&t->name));
    }

    rc = sl_broker_topic_delete(&rq->params[1], rq->r->connection->log);

    if (rc == SL_BROKER_ERR_UNKNOWN_TOPIC) {
        return sl_rest_error(rq, SL_HTTP_NOT_FOUND,
                             SL_REST_ERR_UNKNOWN_TOPIC_PARTITION,
                             "This server does not host this "
                             "topic-partition.");
    }

    if (rc != SL_BROKER_OK) {
        return sl_rest_broker_error(rq, rc, "delete topic");
    }

    sl_log_error(SL_LOG_INFO, rq->r->connection->log, 0,
                 "rest: deleted topic \"%.*s\"", SL_STR_ARG(&rq->params[1]));

    return sl_rest_send(rq, SL_HTTP_NO_CONTENT, NULL);
}


/* {"partitions_count": N}: more partitions, as Kafka's CreatePartitions */
static sl_int_t
sl_v3_topic_patch(sl_rest_req_t *rq)
{
    json_t             *n;
    int64_t             count;
    sl_int_t            rc;
    sl_broker_topic_t  *t;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    t = sl_rest_topic(rq, &rq->params[1]);
    if (t == NULL) {
        return rq->rc;
    }

    n = json_is_object(rq->json) ? json_object_get(rq->json,
                                                   "partitions_count")
                                 : NULL;

    if (!json_is_integer(n)) {
        return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                             "partitions_count: must be an integer");
    }

    count = json_integer_value(n);

    if (count <= t->partitions_n || count > SL_BROKER_MAX_PARTITIONS) {
        return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, SL_V3_ERR_BAD_REQUEST,
                             "Topic currently has %d partitions, %lld is "
                             "not a valid new total.",
                             (int) t->partitions_n, (long long) count);
    }

    rc = sl_broker_topic_add_partitions(t, (sl_int_t) count,
                                        rq->r->connection->log);
    if (rc != SL_BROKER_OK) {
        return sl_rest_broker_error(rq, rc, "add partitions");
    }

    return sl_rest_send(rq, SL_HTTP_OK, sl_v3_topic_json(t));
}


/* topic configs */

/* the broker-wide names of the log's defaults, for "synonyms" */
static const char *
sl_v3_broker_synonym(const char *name)
{
    static const char  *map[][2] = {
        { "cleanup.policy", "log.cleanup.policy" },
        { "segment.bytes", "log.segment.bytes" },
        { "segment.ms", "log.roll.ms" },
        { "index.interval.bytes", "log.index.interval.bytes" },
        { "retention.ms", "log.retention.ms" },
        { "retention.bytes", "log.retention.bytes" },
        { "delete.retention.ms", "log.cleaner.delete.retention.ms" },
        { "flush.messages", "log.flush.interval.messages" },
        { "flush.ms", "log.flush.interval.ms" },
        { "max.message.bytes", "message.max.bytes" },
        { "message.timestamp.type", "log.message.timestamp.type" },
        { "compression.type", "compression.type" },
        { "compression.level", "compression.level" },
        { NULL, NULL }
    };

    sl_uint_t  i;

    for (i = 0; map[i][0]; i++) {
        if (sl_strcmp(map[i][0], name) == 0) {
            return map[i][1];
        }
    }

    return NULL;
}


/* Kafka's topic settings Sluice accepts and ignores (as the Kafka module) */
static sl_int_t
sl_v3_config_ignored(sl_str_t *name)
{
    static const char  *names[] = {
        "min.insync.replicas", "unclean.leader.election.enable",
        "message.downconversion.enable", "message.format.version",
        "preallocate", "min.compaction.lag.ms", "max.compaction.lag.ms",
        "min.cleanable.dirty.ratio", "message.timestamp.difference.max.ms",
        "message.timestamp.before.max.ms", "message.timestamp.after.max.ms",
        "file.delete.delay.ms", "segment.index.bytes", "segment.jitter.ms",
        "follower.replication.throttled.replicas",
        "leader.replication.throttled.replicas", "local.retention.ms",
        "local.retention.bytes", "remote.storage.enable", NULL
    };

    sl_uint_t  i;

    for (i = 0; names[i]; i++) {
        if (name->len == sl_strlen(names[i])
            && sl_memcmp(name->data, names[i], name->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static void
sl_v3_config_each(void *data, const char *name, u_char *value, size_t len,
    sl_uint_t is_default)
{
    sl_v3_configs_ctx_t  *ctx = data;

    int           n;
    char         *tn;
    json_t       *j, *syn;
    const char   *source, *bname;

    if (ctx->only
        && (ctx->only->len != sl_strlen(name)
            || sl_memcmp(ctx->only->data, name, ctx->only->len) != 0))
    {
        return;
    }

    n = (int) ctx->topic->name.len;
    tn = (char *) ctx->topic->name.data;

    j = sl_v3_resource("KafkaTopicConfig",
                       sl_v3_url("/topics/%.*s/configs/%s", n, tn, name),
                       sl_v3_crn("/topic=%.*s/config=%s", n, tn, name));
    if (j == NULL) {
        return;
    }

    source = is_default ? "DEFAULT_CONFIG" : "DYNAMIC_TOPIC_CONFIG";

    sl_v3_set(j, "cluster_id", sl_v3_strn(sl_v3_cid->data, sl_v3_cid->len));
    sl_v3_set(j, "topic_name", sl_v3_strn((u_char *) tn, n));
    sl_v3_set(j, "name", json_string(name));
    sl_v3_set(j, "value", sl_v3_strn(value, len));
    sl_v3_set(j, "is_default", json_boolean(is_default));
    sl_v3_set(j, "is_read_only", json_false());
    sl_v3_set(j, "is_sensitive", json_false());
    sl_v3_set(j, "source", json_string(source));

    syn = json_array();

    if (!is_default) {
        sl_v3_append(syn, json_pack("{s:s,s:o,s:s}", "name", name,
                                    "value", sl_v3_strn(value, len),
                                    "source", "DYNAMIC_TOPIC_CONFIG"));
    }

    bname = sl_v3_broker_synonym(name);

    if (bname && is_default) {
        sl_v3_append(syn, json_pack("{s:s,s:o,s:s}", "name", bname,
                                    "value", sl_v3_strn(value, len),
                                    "source", "DEFAULT_CONFIG"));
    }

    sl_v3_set(j, "synonyms", syn);

    if (ctx->only) {
        if (ctx->found) {
            json_decref(ctx->found);
        }

        ctx->found = j;
        return;
    }

    sl_v3_append(ctx->list, j);
}


static sl_int_t
sl_v3_configs(sl_rest_req_t *rq)
{
    json_t               *j;
    sl_broker_topic_t    *t;
    sl_v3_configs_ctx_t   ctx;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    t = sl_rest_topic(rq, &rq->params[1]);
    if (t == NULL) {
        return rq->rc;
    }

    j = sl_v3_list("KafkaTopicConfigList",
                   sl_v3_url("/topics/%.*s/configs", SL_STR_ARG(&t->name)));
    if (j == NULL) {
        return sl_rest_send(rq, SL_HTTP_INTERNAL_SERVER_ERROR, NULL);
    }

    sl_memzero(&ctx, sizeof(sl_v3_configs_ctx_t));
    ctx.topic = t;
    ctx.list = json_object_get(j, "data");

    sl_broker_topic_configs(t, sl_v3_config_each, &ctx);

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


static sl_int_t
sl_v3_config_send(sl_rest_req_t *rq, sl_broker_topic_t *t, sl_str_t *name,
    sl_uint_t status)
{
    sl_v3_configs_ctx_t  ctx;

    sl_memzero(&ctx, sizeof(sl_v3_configs_ctx_t));
    ctx.topic = t;
    ctx.only = name;

    sl_broker_topic_configs(t, sl_v3_config_each, &ctx);

    if (ctx.found == NULL) {
        return sl_rest_error(rq, SL_HTTP_NOT_FOUND, 0,
                             "Config %.*s cannot be found for topic %.*s.",
                             (int) sl_min(name->len, 200),
                             (char *) name->data, SL_STR_ARG(&t->name));
    }

    if (status == SL_HTTP_NO_CONTENT) {
        json_decref(ctx.found);
        return sl_rest_send(rq, status, NULL);
    }

    return sl_rest_send(rq, status, ctx.found);
}


static sl_int_t
sl_v3_config_get(sl_rest_req_t *rq)
{
    sl_broker_topic_t  *t;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    t = sl_rest_topic(rq, &rq->params[1]);
    if (t == NULL) {
        return rq->rc;
    }

    return sl_v3_config_send(rq, t, &rq->params[2], SL_HTTP_OK);
}


/* a {"name","value"} pair checked; sends the error itself */
static sl_int_t
sl_v3_config_check(sl_rest_req_t *rq, json_t *name, json_t *value,
    sl_str_t *n, sl_str_t *v)
{
    if (!json_is_string(name) || json_string_length(name) == 0) {
        (void) sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                             "A config name is missing.");
        return SL_ERROR;
    }

    n->data = (u_char *) json_string_value(name);
    n->len = json_string_length(name);

    if (value && json_is_string(value)) {
        v->data = (u_char *) json_string_value(value);
        v->len = json_string_length(value);
        return SL_OK;
    }

    if (value && (json_is_integer(value) || json_is_boolean(value))) {
        /* lenient: a number or a boolean as its text */
        v->data = sl_pnalloc(rq->r->pool, 32);
        if (v->data == NULL) {
            /* the callers return rq->rc: an answer is owed */
            (void) sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR, 0,
                                 "Internal Server Error");
            return SL_ERROR;
        }

        if (json_is_boolean(value)) {
            v->len = sl_slprintf(v->data, v->data + 32, "%s",
                                 json_is_true(value) ? "true" : "false")
                     - v->data;
        } else {
            v->len = sl_slprintf(v->data, v->data + 32, "%lld",
                                 (long long) json_integer_value(value))
                     - v->data;
        }

        return SL_OK;
    }

    (void) sl_rest_error(rq, SL_HTTP_BAD_REQUEST, SL_V3_ERR_BAD_REQUEST,
                         "Null value not supported for topic configs: %.*s",
                         (int) sl_min(n->len, 200), (char *) n->data);
    return SL_ERROR;
}


/*
 * one setting: SET (value) or DELETE (value NULL); sends the error
 * itself and then returns SL_ERROR (not what the send returned: the
 * callers answer 204 on SL_OK)
 */
static sl_int_t
sl_v3_config_apply(sl_rest_req_t *rq, sl_broker_topic_t *t, sl_str_t *name,
    sl_str_t *value)
{
    sl_int_t  rc;

    if (value) {
        rc = sl_broker_topic_set_config(t, name, value,
                                        rq->r->connection->log);
    } else {
        rc = sl_broker_topic_reset_config(t, name, rq->r->connection->log);
    }

    if (rc == SL_DECLINED && sl_v3_config_ignored(name)) {
        return SL_OK;
    }

    if (rc == SL_DECLINED) {
        (void) sl_rest_error(rq, SL_HTTP_NOT_FOUND, 0,
                             "Config %.*s cannot be found for topic %.*s.",
                             (int) sl_min(name->len, 200),
                             (char *) name->data, SL_STR_ARG(&t->name));
        return SL_ERROR;
    }

    if (rc == SL_BROKER_ERR_INVALID_CONFIG) {
        (void) sl_rest_error(rq, SL_HTTP_BAD_REQUEST, SL_V3_ERR_BAD_REQUEST,
                             "Invalid value %.*s for configuration %.*s",
                             value ? (int) sl_min(value->len, 200) : 4,
                             value ? (char *) value->data : "null",
                             (int) sl_min(name->len, 200),
                             (char *) name->data);
        return SL_ERROR;
    }

    if (rc != SL_BROKER_OK) {
        (void) sl_rest_broker_error(rq, rc, "alter configs");
        return SL_ERROR;
    }

    return SL_OK;
}


static sl_int_t
sl_v3_config_put(sl_rest_req_t *rq)
{
    json_t             *name;
    sl_str_t            n, v;
    sl_broker_topic_t  *t;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    t = sl_rest_topic(rq, &rq->params[1]);
    if (t == NULL) {
        return rq->rc;
    }

    if (!json_is_object(rq->json)) {
        return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                             "The request body must be a JSON object "
                             "{\"value\":...}.");
    }

    name = json_stringn((char *) rq->params[2].data, rq->params[2].len);
    if (name == NULL) {
        return sl_rest_error(rq, SL_HTTP_NOT_FOUND, 0,
                             "Config cannot be found.");
    }

    if (sl_v3_config_check(rq, name, json_object_get(rq->json, "value"),
                           &n, &v)
        != SL_OK)
    {
        json_decref(name);
        return rq->rc;
    }

    json_decref(name);
    n = rq->params[2];

    if (sl_v3_config_apply(rq, t, &n, &v) != SL_OK) {
        return rq->rc;
    }

    return sl_rest_send(rq, SL_HTTP_NO_CONTENT, NULL);
}


static sl_int_t
sl_v3_config_delete(sl_rest_req_t *rq)
{
    sl_broker_topic_t  *t;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    t = sl_rest_topic(rq, &rq->params[1]);
    if (t == NULL) {
        return rq->rc;
    }

    if (sl_v3_config_apply(rq, t, &rq->params[2], NULL) != SL_OK) {
        return rq->rc;
    }

    return sl_rest_send(rq, SL_HTTP_NO_CONTENT, NULL);
}


static sl_int_t
sl_v3_configs_alter(sl_rest_req_t *rq)
{
    size_t                   i;
    json_t                  *data, *c, *op;
    sl_int_t                 rc;
    sl_str_t                 n, v;
    const char              *ops;
    sl_broker_topic_t       *t;
    sl_broker_topic_conf_t   check;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    t = sl_rest_topic(rq, &rq->params[1]);
    if (t == NULL) {
        return rq->rc;
    }

    data = json_is_object(rq->json) ? json_object_get(rq->json, "data")
                                    : NULL;

    if (!json_is_array(data)) {
        return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                             "The request body must be {\"data\":[...]}.");
    }

    /* validate everything first: all or nothing, as Kafka's alter */

    json_array_foreach(data, i, c) {
        if (!json_is_object(c)) {
            return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                                 "data: must be an array of "
                                 "{\"name\",\"value\",\"operation\"}");
        }

        op = json_object_get(c, "operation");
        ops = json_is_string(op) ? json_string_value(op) : "SET";

        if (op && !json_is_null(op) && !json_is_string(op)) {
            ops = "";
        }

        if (sl_strcasecmp((u_char *) ops, (u_char *) "SET") == 0) {
            if (sl_v3_config_check(rq, json_object_get(c, "name"),
                                   json_object_get(c, "value"), &n, &v)
                != SL_OK)
            {
                return rq->rc;
            }

            sl_broker_topic_conf_init(&check);
            rc = sl_broker_topic_conf_set(&check, &n, &v);

        } else if (sl_strcasecmp((u_char *) ops, (u_char *) "DELETE") == 0) {
            if (!json_is_string(json_object_get(c, "name"))) {
                return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                                     "A config name is missing.");
            }

            /*
             * the name must be known before anything is applied: only
             * an unknown name is SL_DECLINED, whatever the value
             */

            n.data = (u_char *) json_string_value(json_object_get(c, "name"));
            n.len = json_string_length(json_object_get(c, "name"));
            v.data = (u_char *) "";
            v.len = 0;

            sl_broker_topic_conf_init(&check);
            rc = sl_broker_topic_conf_set(&check, &n, &v);

            if (rc != SL_DECLINED) {
                rc = SL_BROKER_OK;
            }

        } else {
            return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                                 "operation: must be SET or DELETE");
        }

        if (rc == SL_DECLINED && sl_v3_config_ignored(&n)) {
            continue;
        }

        if (rc == SL_DECLINED) {
            return sl_rest_error(rq, SL_HTTP_NOT_FOUND, 0,
                                 "Config %.*s cannot be found for topic "
                                 "%.*s.", (int) sl_min(n.len, 200),
                                 (char *) n.data, SL_STR_ARG(&t->name));
        }

        if (rc != SL_BROKER_OK) {
            return sl_rest_error(rq, SL_HTTP_BAD_REQUEST,
                                 SL_V3_ERR_BAD_REQUEST,
                                 "Invalid value %.*s for configuration "
                                 "%.*s", (int) sl_min(v.len, 200),
                                 (char *) v.data,
                                 (int) sl_min(n.len, 200), (char *) n.data);
        }
    }

    json_array_foreach(data, i, c) {
        op = json_object_get(c, "operation");
        ops = json_is_string(op) ? json_string_value(op) : "SET";

        n.data = (u_char *) json_string_value(json_object_get(c, "name"));
        n.len = json_string_length(json_object_get(c, "name"));

        if (sl_strcasecmp((u_char *) ops, (u_char *) "DELETE") == 0) {
            rc = sl_v3_config_apply(rq, t, &n, NULL);

        } else {
            if (sl_v3_config_check(rq, json_object_get(c, "name"),
                                   json_object_get(c, "value"), &n, &v)
                != SL_OK)
            {
                return rq->rc;
            }

            rc = sl_v3_config_apply(rq, t, &n, &v);
        }

        if (rc != SL_OK) {
            return rq->rc;
        }
    }

    return sl_rest_send(rq, SL_HTTP_NO_CONTENT, NULL);
}


/* partitions and replicas */

static json_t *
sl_v3_partition_json(sl_broker_partition_t *part)
{
    int                 n, p;
    char               *tn;
    json_t             *j;
    sl_broker_topic_t  *t;

    t = part->topic;
    n = (int) t->name.len;
    tn = (char *) t->name.data;
    p = (int) part->id;

    j = sl_v3_resource("KafkaPartition",
                       sl_v3_url("/topics/%.*s/partitions/%d", n, tn, p),
                       sl_v3_crn("/topic=%.*s/partition=%d", n, tn, p));
    if (j == NULL) {
        return NULL;
    }

    sl_v3_set(j, "cluster_id", sl_v3_strn(sl_v3_cid->data, sl_v3_cid->len));
    sl_v3_set(j, "topic_name", sl_v3_strn((u_char *) tn, n));
    sl_v3_set(j, "partition_id", json_integer(p));
    sl_v3_set(j, "leader",
              sl_v3_rel(sl_v3_url("/topics/%.*s/partitions/%d/replicas/%d",
                                  n, tn, p, (int) sl_rest_node_id())));
    sl_v3_set(j, "replicas",
              sl_v3_rel(sl_v3_url("/topics/%.*s/partitions/%d/replicas",
                                  n, tn, p)));
    sl_v3_set(j, "reassignment",
              sl_v3_rel(sl_v3_url("/topics/%.*s/partitions/%d/reassignment",
                                  n, tn, p)));

    /* Sluice's own */
    sl_v3_set(j, "log_start_offset",
              json_integer(sl_atomic_load(&part->log_start_offset)));
    sl_v3_set(j, "log_end_offset",
              json_integer(sl_atomic_load(&part->log_end_offset)));
    sl_v3_set(j, "high_watermark",
              json_integer(sl_atomic_load(&part->high_watermark)));
    sl_v3_set(j, "size_bytes",
              json_integer((json_int_t) sl_atomic_load(&part->size_bytes)));
    sl_v3_set(j, "segments",
              json_integer((json_int_t) sl_broker_log_segments(part)));

    return j;
}


static sl_int_t
sl_v3_partitions(sl_rest_req_t *rq)
{
    json_t                 *j, *data;
    sl_int_t                i;
    sl_broker_topic_t      *t;
    sl_broker_partition_t  *part;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    t = sl_rest_topic(rq, &rq->params[1]);
    if (t == NULL) {
        return rq->rc;
    }

    j = sl_v3_list("KafkaPartitionList",
                   sl_v3_url("/topics/%.*s/partitions",
                             SL_STR_ARG(&t->name)));
    if (j == NULL) {
        return sl_rest_send(rq, SL_HTTP_INTERNAL_SERVER_ERROR, NULL);
    }

    data = json_object_get(j, "data");

    for (i = 0; i < t->partitions_n; i++) {
        part = sl_broker_partition(t, i);
        if (part) {
            sl_v3_append(data, sl_v3_partition_json(part));
        }
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


static sl_int_t
sl_v3_partition_get(sl_rest_req_t *rq)
{
    sl_broker_topic_t      *t;
    sl_broker_partition_t  *part;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    t = sl_rest_topic(rq, &rq->params[1]);
    if (t == NULL) {
        return rq->rc;
    }

    part = sl_rest_partition(rq, t, &rq->params[2]);
    if (part == NULL) {
        return rq->rc;
    }

    return sl_rest_send(rq, SL_HTTP_OK, sl_v3_partition_json(part));
}


static json_t *
sl_v3_replica_json(sl_broker_partition_t *part)
{
    int      n, p, b;
    char    *tn;
    json_t  *j;

    n = (int) part->topic->name.len;
    tn = (char *) part->topic->name.data;
    p = (int) part->id;
    b = (int) sl_rest_node_id();

    j = sl_v3_resource("KafkaReplica",
                       sl_v3_url("/topics/%.*s/partitions/%d/replicas/%d",
                                 n, tn, p, b),
                       sl_v3_crn("/topic=%.*s/partition=%d/replica=%d",
                                 n, tn, p, b));
    if (j == NULL) {
        return NULL;
    }

    sl_v3_set(j, "cluster_id", sl_v3_strn(sl_v3_cid->data, sl_v3_cid->len));
    sl_v3_set(j, "topic_name", sl_v3_strn((u_char *) tn, n));
    sl_v3_set(j, "partition_id", json_integer(p));
    sl_v3_set(j, "broker_id", json_integer(b));
    sl_v3_set(j, "is_leader", json_true());
    sl_v3_set(j, "is_in_sync", json_true());
    sl_v3_set(j, "broker", sl_v3_rel(sl_v3_url("/brokers/%d", b)));

    return j;
}


static sl_int_t
sl_v3_replicas(sl_rest_req_t *rq)
{
    json_t                 *j;
    sl_broker_topic_t      *t;
    sl_broker_partition_t  *part;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    t = sl_rest_topic(rq, &rq->params[1]);
    if (t == NULL) {
        return rq->rc;
    }

    part = sl_rest_partition(rq, t, &rq->params[2]);
    if (part == NULL) {
        return rq->rc;
    }

    j = sl_v3_list("KafkaReplicaList",
                   sl_v3_url("/topics/%.*s/partitions/%d/replicas",
                             SL_STR_ARG(&t->name), (int) part->id));
    if (j) {
        sl_v3_append(json_object_get(j, "data"), sl_v3_replica_json(part));
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


static sl_int_t
sl_v3_replica(sl_rest_req_t *rq)
{
    int64_t                 b;
    sl_broker_topic_t      *t;
    sl_broker_partition_t  *part;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    t = sl_rest_topic(rq, &rq->params[1]);
    if (t == NULL) {
        return rq->rc;
    }

    part = sl_rest_partition(rq, t, &rq->params[2]);
    if (part == NULL) {
        return rq->rc;
    }

    if (sl_v3_int(&rq->params[3], &b) != SL_OK || b != sl_rest_node_id()) {
        return sl_rest_error(rq, SL_HTTP_NOT_FOUND, 0,
                             "Replica %.*s cannot be found.",
                             (int) sl_min(rq->params[3].len, 64),
                             (char *) rq->params[3].data);
    }

    return sl_rest_send(rq, SL_HTTP_OK, sl_v3_replica_json(part));
}


/* records */

/* appends j compactly to the answer, growing it in the request's pool */
static sl_int_t
sl_v3_out_add(sl_pool_t *pool, sl_v3_out_t *out, json_t *j)
{
    u_char  *p;
    size_t   len, size;

    len = json_dumpb(j, NULL, 0, JSON_COMPACT);

    if (len == 0) {
        return SL_ERROR;
    }

    if (out->len + len > out->size) {
        size = sl_max(out->size * 2, out->len + len + 1024);

        p = sl_pnalloc(pool, size);
        if (p == NULL) {
            return SL_ERROR;
        }

        if (out->len) {
            sl_memcpy(p, out->data, out->len);
        }

        out->data = p;
        out->size = size;
    }

    out->len += json_dumpb(j, (char *) out->data + out->len,
                           out->size - out->len, JSON_COMPACT);

    return SL_OK;
}


static sl_int_t
sl_v3_records(sl_rest_req_t *rq)
{
    u_char              *p, *last;
    size_t               len;
    json_t              *in, *res;
    sl_int_t             rc;
    sl_str_t             body, type;
    sl_uint_t            status, n;
    json_error_t         err;
    sl_pool_t           *pool, *tmp;
    sl_v3_out_t          out;
    sl_broker_topic_t   *t;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    t = sl_rest_topic(rq, &rq->params[1]);
    if (t == NULL) {
        return rq->rc;
    }

    p = rq->body.data;
    last = p + rq->body.len;

    while (p < last && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    {
        p++;
    }

    if (p == last) {
        return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                             "Request body is empty: a JSON object is "
                             "expected");
    }

    sl_memzero(&out, sizeof(sl_v3_out_t));
    n = 0;
    status = SL_HTTP_OK;

    while (p < last) {

        in = json_loadb((char *) p, last - p,
                        JSON_DISABLE_EOF_CHECK|JSON_REJECT_DUPLICATES, &err);

        if (in == NULL) {
            res = sl_v3_produce_error(&status, SL_HTTP_BAD_REQUEST,
                                      "Malformed JSON at line %d, column "
                                      "%d: %s", err.line, err.column,
                                      err.text);
            p = last;       /* no way to find the next value */

        } else {
            len = (size_t) err.position;
            p += (len > 0 && len <= (size_t) (last - p))
                 ? len : (size_t) (last - p);

            /*
             * a record's scratch (its batch writer takes 1k at least,
             * the filters' copies) goes with it: a body of tiny records
             * must not grow the request's pool by a kilobyte each
             */

            tmp = sl_create_pool(SL_V3_RECORD_POOL_SIZE,
                                 rq->r->connection->log);
            if (tmp == NULL) {
                json_decref(in);
                return sl_rest_send(rq, SL_HTTP_INTERNAL_SERVER_ERROR, NULL);
            }

            pool = rq->r->pool;
            rq->r->pool = tmp;

            res = sl_v3_produce_one(rq, t, in, &status);

            rq->r->pool = pool;
            sl_destroy_pool(tmp);
            json_decref(in);
        }

        n++;

        if (res == NULL) {
            return sl_rest_send(rq, SL_HTTP_INTERNAL_SERVER_ERROR, NULL);
        }

        rc = sl_v3_out_add(rq->r->pool, &out, res);
        json_decref(res);

        if (rc != SL_OK) {
            return sl_rest_send(rq, SL_HTTP_INTERNAL_SERVER_ERROR, NULL);
        }

        while (p < last
               && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        {
            p++;
        }
    }

    body.len = out.len;
    body.data = out.data;

    /* streamed: 200 with every result's own error_code */
    if (n > 1) {
        status = SL_HTTP_OK;
    }

    sl_str_set(&type, "application/json");

    rc = sl_http_send_response(rq->r, status, &type, &body);
    rq->rc = rc;

    return rc;
}


static json_t *
sl_v3_produce_error(sl_uint_t *status, sl_uint_t code, const char *fmt, ...)
{
    u_char   buf[1024], *p;
    json_t  *j;
    va_list  args;

    va_start(args, fmt);
    p = sl_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    *status = code;

    j = json_pack("{s:i,s:o}", "error_code", (int) code,
                  "message", sl_v3_strn(buf, p - buf));

    return j;
}


/*
 * {"type":"BINARY|JSON|STRING","data":...}: the bytes; *type the format
 * for the answer.  SL_DECLINED when absent or null (no key/value).
 */
static sl_int_t
sl_v3_data(sl_rest_req_t *rq, json_t *in, sl_broker_bytes_t *out,
    const char **type, char *err, size_t errlen)
{
    json_t      *t, *d;
    sl_uint_t    fmt;
    const char  *ts;

    out->data = NULL;
    out->len = -1;

    if (in == NULL || json_is_null(in)) {
        return SL_DECLINED;
    }

    if (!json_is_object(in)) {
        sl_slprintf((u_char *) err, (u_char *) err + errlen,
                    "must be an object {\"type\",\"data\"}");
        return SL_ERROR;
    }

    t = json_object_get(in, "type");
    d = json_object_get(in, "data");

    if (t == NULL || json_is_null(t)) {
        ts = "JSON";

    } else if (!json_is_string(t)) {
        sl_slprintf((u_char *) err, (u_char *) err + errlen,
                    "type: must be BINARY, JSON or STRING");
        return SL_ERROR;

    } else {
        ts = json_string_value(t);
    }

    if (sl_strcasecmp((u_char *) ts, (u_char *) "BINARY") == 0) {
        fmt = SL_REST_FMT_BINARY;
        *type = "BINARY";

    } else if (sl_strcasecmp((u_char *) ts, (u_char *) "JSON") == 0) {
        fmt = SL_REST_FMT_JSON;
        *type = "JSON";

    } else if (sl_strcasecmp((u_char *) ts, (u_char *) "STRING") == 0) {
        fmt = SL_REST_FMT_STRING;
        *type = "STRING";

    } else {
        sl_slprintf((u_char *) err, (u_char *) err + errlen,
                    "type %.64s is not supported: BINARY, JSON or STRING",
                    ts);
        return SL_ERROR;
    }

    if (d == NULL || json_is_null(d)) {
        /* a typed null: no bytes, but the type is answered */
        return SL_OK;
    }

    if (fmt != SL_REST_FMT_JSON && !json_is_string(d)) {
        sl_slprintf((u_char *) err, (u_char *) err + errlen,
                    "data: must be a string for type %s", *type);
        return SL_ERROR;
    }

    if (sl_rest_json_bytes(rq, d, fmt, out) != SL_OK) {
        sl_slprintf((u_char *) err, (u_char *) err + errlen,
                    fmt == SL_REST_FMT_BINARY
                    ? "data: not valid base64"
                    : "data: cannot be encoded");
        return SL_ERROR;
    }

    return SL_OK;
}


static sl_int_t
sl_v3_produce_part(sl_rest_req_t *rq, sl_broker_topic_t *t, json_t *pid,
    sl_broker_bytes_t *key, sl_broker_partition_t **part)
{
    int32_t   p;
    int64_t   n;

    if (pid && !json_is_null(pid)) {
        if (!json_is_integer(pid)) {
            return SL_HTTP_BAD_REQUEST;
        }

        n = json_integer_value(pid);

        if (n < 0 || n >= t->partitions_n) {
            return SL_HTTP_NOT_FOUND;
        }

        p = (int32_t) n;

    } else if (key->len >= 0) {
        p = sl_rest_partition_for_key(key->data, (size_t) key->len,
                                      t->partitions_n);

    } else {
        p = (int32_t) (sl_v3_rr++ % (sl_uint_t) t->partitions_n);
    }

    *part = sl_broker_partition(t, p);

    return *part ? SL_OK : SL_HTTP_NOT_FOUND;
}


static json_t *
sl_v3_produce_one(sl_rest_req_t *rq, sl_broker_topic_t *t, json_t *in,
    sl_uint_t *status)
{
    char                       err[256];
    size_t                     i;
    json_t                    *j, *hdrs, *h, *hn, *hv, *ts;
    int64_t                    offset, ms;
    sl_int_t                   rc, krc, vrc;
    sl_str_t                   ferr, src, dst;
    const char                *ktype, *vtype;
    sl_broker_header_t        *headers;
    sl_broker_partition_t     *part;
    sl_broker_batch_record_t   rec;

    if (!json_is_object(in)) {
        return sl_v3_produce_error(status, SL_HTTP_BAD_REQUEST,
                                   "A record must be a JSON object.");
    }

    sl_memzero(&rec, sizeof(sl_broker_batch_record_t));
    ktype = NULL;
    vtype = NULL;
    err[0] = '\0';

    krc = sl_v3_data(rq, json_object_get(in, "key"), &rec.key, &ktype,
                     err, sizeof(err));
    if (krc == SL_ERROR) {
        return sl_v3_produce_error(status, SL_HTTP_BAD_REQUEST, "key: %s",
                                   err);
    }

    vrc = sl_v3_data(rq, json_object_get(in, "value"), &rec.value, &vtype,
                     err, sizeof(err));
    if (vrc == SL_ERROR) {
        return sl_v3_produce_error(status, SL_HTTP_BAD_REQUEST,
                                   "value: %s", err);
    }

    /* headers: [{"name","value":base64|null}] */

    hdrs = json_object_get(in, "headers");

    if (hdrs && !json_is_null(hdrs)) {
        if (!json_is_array(hdrs)) {
            return sl_v3_produce_error(status, SL_HTTP_BAD_REQUEST,
                                       "headers: must be an array");
        }

        headers = sl_pcalloc(rq->r->pool, (json_array_size(hdrs) + 1)
                                          * sizeof(sl_broker_header_t));
        if (headers == NULL) {
            return NULL;
        }

        json_array_foreach(hdrs, i, h) {
            hn = json_is_object(h) ? json_object_get(h, "name") : NULL;
            hv = json_is_object(h) ? json_object_get(h, "value") : NULL;

            if (!json_is_string(hn)) {
                return sl_v3_produce_error(status, SL_HTTP_BAD_REQUEST,
                                           "headers: every header needs "
                                           "a \"name\"");
            }

            headers[i].key.data = (u_char *) json_string_value(hn);
            headers[i].key.len = (int32_t) json_string_length(hn);

            if (hv == NULL || json_is_null(hv)) {
                headers[i].value.data = NULL;
                headers[i].value.len = -1;
                continue;
            }

            if (!json_is_string(hv)) {
                return sl_v3_produce_error(status, SL_HTTP_BAD_REQUEST,
                                           "headers: a value must be "
                                           "base64 text");
            }

            src.data = (u_char *) json_string_value(hv);
            src.len = json_string_length(hv);

            dst.data = sl_pnalloc(rq->r->pool,
                                  sl_base64_decoded_length(src.len) + 1);
            if (dst.data == NULL) {
                return NULL;
            }

            if (sl_decode_base64(&dst, &src) != SL_OK) {
                return sl_v3_produce_error(status, SL_HTTP_BAD_REQUEST,
                                           "headers: value of %.64s is "
                                           "not valid base64",
                                           json_string_value(hn));
            }

            headers[i].value.data = dst.data;
            headers[i].value.len = (int32_t) dst.len;
        }

        rec.headers = headers;
        rec.nheaders = json_array_size(hdrs);
    }

    ts = json_object_get(in, "timestamp");
    ms = sl_realtime_msec;

    if (ts && !json_is_null(ts) && sl_v3_parse_time(ts, &ms) != SL_OK) {
        return sl_v3_produce_error(status, SL_HTTP_BAD_REQUEST,
                                   "timestamp: must be an ISO 8601 "
                                   "date-time");
    }

    rec.timestamp = ms;

    rc = sl_v3_produce_part(rq, t, json_object_get(in, "partition_id"),
                            &rec.key, &part);

    if (rc == SL_HTTP_BAD_REQUEST) {
        return sl_v3_produce_error(status, SL_HTTP_BAD_REQUEST,
                                   "partition_id: must be an integer");
    }

    if (rc != SL_OK) {
        return sl_v3_produce_error(status, SL_HTTP_NOT_FOUND,
                                   "This server does not host this "
                                   "topic-partition.");
    }

    rc = sl_rest_produce(rq, part, &rec, 1, &offset, &ferr);

    if (rc == SL_BROKER_ERR_POLICY) {
        return sl_v3_produce_error(status, SL_HTTP_UNPROCESSABLE_ENTITY,
                                   "Refused: %.*s", (int) ferr.len,
                                   ferr.data ? (char *) ferr.data : "");
    }

    if (rc == SL_BROKER_ERR_TOO_LARGE) {
        return sl_v3_produce_error(status, SL_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                   "The record is too large.");
    }

    if (rc != SL_BROKER_OK) {
        return sl_v3_produce_error(status, SL_HTTP_INTERNAL_SERVER_ERROR,
                                   "broker error %ld", (long) rc);
    }

    j = json_pack("{s:i,s:s%,s:s%,s:i,s:I,s:o}",
                  "error_code", 200,
                  "cluster_id", (char *) sl_v3_cid->data, sl_v3_cid->len,
                  "topic_name", (char *) t->name.data, t->name.len,
                  "partition_id", (int) part->id,
                  "offset", (json_int_t) offset,
                  "timestamp", sl_v3_time(ms));
    if (j == NULL) {
        return NULL;
    }

    if (krc == SL_OK) {
        sl_v3_set(j, "key", json_pack("{s:s,s:i}", "type", ktype, "size",
                                      (int) sl_max(rec.key.len, 0)));
    }

    if (vrc == SL_OK) {
        sl_v3_set(j, "value", json_pack("{s:s,s:i}", "type", vtype, "size",
                                        (int) sl_max(rec.value.len, 0)));
    }

    return j;
}


/* ISO 8601 "2021-02-05T19:14:42.123Z" (or +hh:mm); a number: seconds */
static sl_int_t
sl_v3_parse_time(json_t *v, int64_t *ms)
{
    int          y, mo, d, h, mi, s, n, sign, oh, om;
    char         frac[16];
    int64_t      f, scale;
    struct tm    tm;
    const char  *str, *p;

    /*
     * Seconds since the epoch, as Jackson reads an Instant: checked
     * before they are scaled (no overflow), and not negative (Kafka
     * refuses negative timestamps)
     */

    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0
            || json_integer_value(v) > SL_V3_MAX_SECONDS)
        {
            return SL_ERROR;
        }

        *ms = (int64_t) json_integer_value(v) * 1000;
        return SL_OK;
    }

    if (json_is_real(v)) {
        if (!(json_real_value(v) >= 0.0
              && json_real_value(v) <= (double) SL_V3_MAX_SECONDS))
        {
            return SL_ERROR;
        }

        *ms = (int64_t) (json_real_value(v) * 1000.0);
        return SL_OK;
    }

    if (!json_is_string(v) || json_string_length(v) > 40) {
        return SL_ERROR;
    }

    str = json_string_value(v);
    n = 0;

    if (sscanf(str, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s,
               &n)
        != 6 || n != 19)
    {
        return SL_ERROR;
    }

    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59
        || s > 60 || y < 1970)
    {
        return SL_ERROR;
    }

    p = str + 19;
    f = 0;

    if (*p == '.') {
        p++;
        n = 0;

        while (p[n] >= '0' && p[n] <= '9' && n < 9) {
            frac[n] = p[n];
            n++;
        }

        if (n == 0) {
            return SL_ERROR;
        }

        frac[n] = '\0';
        p += n;

        while (n < 3) {
            frac[n++] = '0';
        }

        frac[3] = '\0';
        f = atoi(frac);
    }

    sign = 0;
    oh = 0;
    om = 0;

    if (*p == 'Z' || *p == 'z') {
        p++;

    } else if (*p == '+' || *p == '-') {
        sign = (*p == '-') ? -1 : 1;

        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5
            || oh < 0 || oh > 23 || om < 0 || om > 59)
        {
            return SL_ERROR;
        }

        p += 6;

    } else {
        return SL_ERROR;
    }

    if (*p != '\0') {
        return SL_ERROR;
    }

    sl_memzero(&tm, sizeof(struct tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;

    scale = (int64_t) timegm(&tm);
    if (scale == -1) {
        return SL_ERROR;
    }

    scale -= (int64_t) sign * (oh * 3600 + om * 60);

    if (scale < 0 || scale > SL_V3_MAX_SECONDS) {
        return SL_ERROR;
    }

    *ms = scale * 1000 + f;

    return SL_OK;
}


/* as Java's Instant.toString() */
static json_t *
sl_v3_time(int64_t ms)
{
    u_char     buf[64], *p;
    time_t     sec;
    struct tm  tm;

    sec = (time_t) (ms / 1000);
    ms %= 1000;

    if (ms < 0) {
        ms += 1000;
        sec--;
    }

    if (gmtime_r(&sec, &tm) == NULL) {
        return json_null();
    }

    p = sl_slprintf(buf, buf + sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec);

    if (ms) {
        p = sl_slprintf(p, buf + sizeof(buf), ".%03d", (int) ms);
    }

    p = sl_slprintf(p, buf + sizeof(buf), "Z");

    return sl_v3_strn(buf, p - buf);
}


/* brokers */

static json_t *
sl_v3_broker_json(void)
{
    int        b;
    json_t    *j;
    sl_int_t   port;
    sl_str_t   host;

    b = (int) sl_rest_node_id();
    sl_rest_advertised(&host, &port);

    j = sl_v3_resource("KafkaBroker", sl_v3_url("/brokers/%d", b),
                       sl_v3_crn("/broker=%d", b));
    if (j == NULL) {
        return NULL;
    }

    sl_v3_set(j, "cluster_id", sl_v3_strn(sl_v3_cid->data, sl_v3_cid->len));
    sl_v3_set(j, "broker_id", json_integer(b));
    sl_v3_set(j, "host", sl_v3_strn(host.data, host.len));
    sl_v3_set(j, "port", json_integer(port));
    sl_v3_set(j, "rack", json_null());
    sl_v3_set(j, "configs", sl_v3_rel(sl_v3_url("/brokers/%d/configs", b)));
    sl_v3_set(j, "partition_replicas",
              sl_v3_rel(sl_v3_url("/brokers/%d/partition-replicas", b)));

    return j;
}


static sl_int_t
sl_v3_broker_id(sl_rest_req_t *rq)
{
    int64_t  b;

    if (sl_v3_int(&rq->params[1], &b) != SL_OK || b != sl_rest_node_id()) {
        (void) sl_rest_error(rq, SL_HTTP_NOT_FOUND, 0,
                             "Broker %.*s cannot be found.",
                             (int) sl_min(rq->params[1].len, 64),
                             (char *) rq->params[1].data);
        return SL_ERROR;
    }

    return SL_OK;
}


static sl_int_t
sl_v3_brokers(sl_rest_req_t *rq)
{
    json_t  *j;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    j = sl_v3_list("KafkaBrokerList", sl_v3_url("/brokers"));
    if (j) {
        sl_v3_append(json_object_get(j, "data"), sl_v3_broker_json());
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


static sl_int_t
sl_v3_broker(sl_rest_req_t *rq)
{
    if (sl_v3_begin(rq) != SL_OK || sl_v3_broker_id(rq) != SL_OK) {
        return rq->rc;
    }

    return sl_rest_send(rq, SL_HTTP_OK, sl_v3_broker_json());
}


/* a few read-only settings of the broker; only: one, or NULL for all */
static json_t *
sl_v3_broker_configs_json(const char *only)
{
    u_char              buf[4][300], *p;
    json_t             *list, *j;
    sl_int_t            port, b;
    sl_str_t            host;
    sl_uint_t           i;
    sl_broker_conf_t   *bcf;
    const char         *names[4];

    b = sl_rest_node_id();
    sl_rest_advertised(&host, &port);
    bcf = sl_broker_get_conf();

    names[0] = "broker.id";
    p = sl_slprintf(buf[0], buf[0] + 300, "%d", (int) b);
    *p = '\0';

    names[1] = "advertised.listeners";
    p = sl_slprintf(buf[1], buf[1] + 300, "PLAINTEXT://%.*s:%d",
                    (int) sl_min(host.len, 200), (char *) host.data,
                    (int) port);
    *p = '\0';

    names[2] = "log.dirs";
    p = sl_slprintf(buf[2], buf[2] + 300, "%.*s",
                    bcf ? (int) sl_min(bcf->data_dir.len, 290) : 0,
                    bcf ? (char *) bcf->data_dir.data : "");
    *p = '\0';

    names[3] = "log.segment.bytes";
    p = sl_slprintf(buf[3], buf[3] + 300, "%lld",
                    bcf ? (long long) bcf->topic.segment_bytes : 0LL);
    *p = '\0';

    list = json_array();

    for (i = 0; i < 4; i++) {
        if (only && sl_strcmp(only, names[i]) != 0) {
            continue;
        }

        j = sl_v3_resource("KafkaBrokerConfig",
                           sl_v3_url("/brokers/%d/configs/%s", (int) b,
                                     names[i]),
                           sl_v3_crn("/broker=%d/config=%s", (int) b,
                                     names[i]));
        if (j == NULL) {
            continue;
        }

        sl_v3_set(j, "cluster_id",
                  sl_v3_strn(sl_v3_cid->data, sl_v3_cid->len));
        sl_v3_set(j, "broker_id", json_integer(b));
        sl_v3_set(j, "name", json_string(names[i]));
        sl_v3_set(j, "value", sl_v3_strn(buf[i], sl_strlen(buf[i])));
        sl_v3_set(j, "is_default", json_false());
        sl_v3_set(j, "is_read_only", json_true());
        sl_v3_set(j, "is_sensitive", json_false());
        sl_v3_set(j, "source", json_string("STATIC_BROKER_CONFIG"));
        sl_v3_set(j, "synonyms",
                  json_pack("[{s:s,s:o,s:s}]", "name", names[i], "value",
                            sl_v3_strn(buf[i], sl_strlen(buf[i])),
                            "source", "STATIC_BROKER_CONFIG"));

        sl_v3_append(list, j);
    }

    return list;
}


static sl_int_t
sl_v3_broker_configs(sl_rest_req_t *rq)
{
    json_t  *j;

    if (sl_v3_begin(rq) != SL_OK || sl_v3_broker_id(rq) != SL_OK) {
        return rq->rc;
    }

    j = sl_v3_list("KafkaBrokerConfigList",
                   sl_v3_url("/brokers/%d/configs", (int) sl_rest_node_id()));
    if (j) {
        sl_v3_set(j, "data", sl_v3_broker_configs_json(NULL));
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


static sl_int_t
sl_v3_broker_config(sl_rest_req_t *rq)
{
    char     name[64];
    json_t  *list, *j;

    if (sl_v3_begin(rq) != SL_OK || sl_v3_broker_id(rq) != SL_OK) {
        return rq->rc;
    }

    j = NULL;

    if (rq->params[2].len < sizeof(name)) {
        sl_memcpy(name, rq->params[2].data, rq->params[2].len);
        name[rq->params[2].len] = '\0';

        list = sl_v3_broker_configs_json(name);

        if (json_array_size(list) == 1) {
            j = json_incref(json_array_get(list, 0));
        }

        json_decref(list);
    }

    if (j == NULL) {
        return sl_rest_error(rq, SL_HTTP_NOT_FOUND, 0,
                             "Config %.*s cannot be found for broker %d.",
                             (int) sl_min(rq->params[2].len, 64),
                             (char *) rq->params[2].data,
                             (int) sl_rest_node_id());
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


/* consumer groups */

static const char *
sl_v3_state(sl_uint_t state)
{
    switch (state) {
    case SL_BROKER_GROUP_EMPTY:
        return "EMPTY";
    case SL_BROKER_GROUP_PREPARING:
        return "PREPARING_REBALANCE";
    case SL_BROKER_GROUP_COMPLETING:
        return "COMPLETING_REBALANCE";
    case SL_BROKER_GROUP_STABLE:
        return "STABLE";
    case SL_BROKER_GROUP_DEAD:
        return "DEAD";
    default:
        return "UNKNOWN";
    }
}


static json_t *
sl_v3_group_json(sl_broker_group_desc_t *d)
{
    int      n;
    char    *g;
    json_t  *j;

    n = (int) d->group_id.len;
    g = (char *) d->group_id.data;

    j = sl_v3_resource("KafkaConsumerGroup",
                       sl_v3_url("/consumer-groups/%.*s", n, g),
                       sl_v3_crn("/consumer-group=%.*s", n, g));
    if (j == NULL) {
        return NULL;
    }

    sl_v3_set(j, "cluster_id", sl_v3_strn(sl_v3_cid->data, sl_v3_cid->len));
    sl_v3_set(j, "consumer_group_id", sl_v3_strn(d->group_id.data,
                                                 d->group_id.len));
    sl_v3_set(j, "is_simple", json_boolean(d->protocol_type.len == 0));
    sl_v3_set(j, "partition_assignor",
              sl_v3_strn(d->protocol_name.data, d->protocol_name.len));
    sl_v3_set(j, "state", json_string(sl_v3_state(d->state)));
    sl_v3_set(j, "coordinator",
              sl_v3_rel(sl_v3_url("/brokers/%d", (int) sl_rest_node_id())));
    sl_v3_set(j, "consumer",
              sl_v3_rel(sl_v3_url("/consumer-groups/%.*s/consumers", n, g)));
    sl_v3_set(j, "lag_summary",
              sl_v3_rel(sl_v3_url("/consumer-groups/%.*s/lag-summary",
                                  n, g)));

    return j;
}


static sl_int_t
sl_v3_groups(sl_rest_req_t *rq)
{
    json_t                  *j, *data;
    sl_uint_t                i;
    sl_array_t               groups;
    sl_broker_group_desc_t  *gd, d;

    if (sl_v3_begin(rq) != SL_OK) {
        return rq->rc;
    }

    if (sl_array_init(&groups, rq->r->pool, 16,
                      sizeof(sl_broker_group_desc_t))
        != SL_OK
        || sl_broker_group_list(rq->r->pool, &groups) != SL_OK)
    {
        return sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR,
                             SL_REST_ERR_KAFKA, "Cannot list groups.");
    }

    j = sl_v3_list("KafkaConsumerGroupList", sl_v3_url("/consumer-groups"));
    if (j == NULL) {
        return sl_rest_send(rq, SL_HTTP_INTERNAL_SERVER_ERROR, NULL);
    }

    data = json_object_get(j, "data");
    gd = groups.elts;

    for (i = 0; i < groups.nelts; i++) {
        /* the protocol name (assignor) is in the description only */
        if (sl_broker_group_describe(&gd[i].group_id, rq->r->pool, &d)
            != SL_OK
            || d.state == SL_BROKER_GROUP_DEAD)
        {
            d = gd[i];
        }

        d.group_id = gd[i].group_id;
        sl_v3_append(data, sl_v3_group_json(&d));
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


/* the group params[1] described; sends 404 if there is none */
static sl_int_t
sl_v3_group_find(sl_rest_req_t *rq, sl_broker_group_desc_t *d)
{
    sl_uint_t                i;
    sl_array_t               groups;
    sl_broker_group_desc_t  *gd;

    if (sl_broker_group_describe(&rq->params[1], rq->r->pool, d) != SL_OK) {
        (void) sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR,
                             SL_REST_ERR_KAFKA, "Cannot describe group.");
        return SL_ERROR;
    }

    if (d->state != SL_BROKER_GROUP_DEAD) {
        return SL_OK;
    }

    /* a group with committed offsets only is listed: it exists */

    if (sl_array_init(&groups, rq->r->pool, 16,
                      sizeof(sl_broker_group_desc_t))
        == SL_OK
        && sl_broker_group_list(rq->r->pool, &groups) == SL_OK)
    {
        gd = groups.elts;

        for (i = 0; i < groups.nelts; i++) {
            if (gd[i].group_id.len == rq->params[1].len
                && sl_memcmp(gd[i].group_id.data, rq->params[1].data,
                             rq->params[1].len) == 0
                && gd[i].state != SL_BROKER_GROUP_DEAD)
            {
                *d = gd[i];
                return SL_OK;
            }
        }
    }

    (void) sl_rest_error(rq, SL_HTTP_NOT_FOUND, 0,
                         "Consumer Group %.*s cannot be found.",
                         (int) sl_min(rq->params[1].len, 200),
                         (char *) rq->params[1].data);
    return SL_ERROR;
}


static sl_int_t
sl_v3_group(sl_rest_req_t *rq)
{
    sl_broker_group_desc_t  d;

    if (sl_v3_begin(rq) != SL_OK || sl_v3_group_find(rq, &d) != SL_OK) {
        return rq->rc;
    }

    return sl_rest_send(rq, SL_HTTP_OK, sl_v3_group_json(&d));
}


static json_t *
sl_v3_consumer_json(sl_str_t *group, sl_broker_group_member_info_t *m)
{
    int      n, cn;
    char    *g, *c;
    json_t  *j;

    n = (int) group->len;
    g = (char *) group->data;
    cn = (int) m->member_id.len;
    c = (char *) m->member_id.data;

    j = sl_v3_resource("KafkaConsumer",
                       sl_v3_url("/consumer-groups/%.*s/consumers/%.*s",
                                 n, g, cn, c),
                       sl_v3_crn("/consumer-group=%.*s/consumer=%.*s",
                                 n, g, cn, c));
    if (j == NULL) {
        return NULL;
    }

    sl_v3_set(j, "cluster_id", sl_v3_strn(sl_v3_cid->data, sl_v3_cid->len));
    sl_v3_set(j, "consumer_group_id", sl_v3_strn(group->data, group->len));
    sl_v3_set(j, "consumer_id", sl_v3_strn(m->member_id.data,
                                           m->member_id.len));
    sl_v3_set(j, "instance_id",
              m->instance_id.len ? sl_v3_strn(m->instance_id.data,
                                              m->instance_id.len)
                                 : json_null());
    sl_v3_set(j, "client_id", sl_v3_strn(m->client_id.data,
                                         m->client_id.len));
    sl_v3_set(j, "assignments",
              sl_v3_rel(sl_v3_url("/consumer-groups/%.*s/consumers/%.*s"
                                  "/assignments", n, g, cn, c)));

    return j;
}


static sl_int_t
sl_v3_consumers(sl_rest_req_t *rq)
{
    json_t                  *j, *data;
    sl_uint_t                i;
    sl_broker_group_desc_t   d;

    if (sl_v3_begin(rq) != SL_OK || sl_v3_group_find(rq, &d) != SL_OK) {
        return rq->rc;
    }

    j = sl_v3_list("KafkaConsumerList",
                   sl_v3_url("/consumer-groups/%.*s/consumers",
                             SL_STR_ARG(&rq->params[1])));
    if (j == NULL) {
        return sl_rest_send(rq, SL_HTTP_INTERNAL_SERVER_ERROR, NULL);
    }

    data = json_object_get(j, "data");

    for (i = 0; i < d.nmembers; i++) {
        sl_v3_append(data, sl_v3_consumer_json(&rq->params[1],
                                               &d.members[i]));
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


static sl_broker_group_member_info_t *
sl_v3_member(sl_rest_req_t *rq, sl_broker_group_desc_t *d)
{
    sl_uint_t  i;

    for (i = 0; i < d->nmembers; i++) {
        if (d->members[i].member_id.len == rq->params[2].len
            && sl_memcmp(d->members[i].member_id.data, rq->params[2].data,
                         rq->params[2].len) == 0)
        {
            return &d->members[i];
        }
    }

    (void) sl_rest_error(rq, SL_HTTP_NOT_FOUND, 0,
                         "Consumer %.*s cannot be found.",
                         (int) sl_min(rq->params[2].len, 200),
                         (char *) rq->params[2].data);
    return NULL;
}


static sl_int_t
sl_v3_consumer(sl_rest_req_t *rq)
{
    sl_broker_group_desc_t          d;
    sl_broker_group_member_info_t  *m;

    if (sl_v3_begin(rq) != SL_OK || sl_v3_group_find(rq, &d) != SL_OK) {
        return rq->rc;
    }

    m = sl_v3_member(rq, &d);
    if (m == NULL) {
        return rq->rc;
    }

    return sl_rest_send(rq, SL_HTTP_OK,
                        sl_v3_consumer_json(&rq->params[1], m));
}


/*
 * Walks a ConsumerProtocol Assignment (version, [topic [partition]],
 * user_data): appends a KafkaConsumerAssignment per partition to list
 * (may be NULL), or with topic set looks for that one into *found.
 * Returns the number of partitions, or -1 if malformed.
 */
static sl_int_t
sl_v3_assignment_decode(sl_str_t *a, sl_broker_group_member_info_t *m,
    sl_str_t *group, json_t *list, sl_str_t *topic, int32_t partition,
    json_t **found)
{
    int         n, cn, tl;
    char       *g, *c, *tn;
    u_char     *p, *last;
    json_t     *j;
    int32_t     nt, np, pid, i, k;
    sl_int_t    total;

    p = a->data;
    last = p + a->len;
    total = 0;

    if (a->len == 0) {
        return 0;
    }

    if (last - p < 6) {
        return -1;
    }

    p += 2;                 /* version */
    nt = sl_v3_rd32(p);
    p += 4;

    n = (int) group->len;
    g = (char *) group->data;
    cn = (int) m->member_id.len;
    c = (char *) m->member_id.data;

    for (i = 0; i < nt; i++) {
        if (last - p < 2) {
            return -1;
        }

        tl = sl_v3_rd16(p);
        p += 2;

        if (tl < 0 || last - p < tl + 4) {
            return -1;
        }

        tn = (char *) p;
        p += tl;
        np = sl_v3_rd32(p);
        p += 4;

        if (np < 0 || (last - p) / 4 < np) {
            return -1;
        }

        for (k = 0; k < np; k++) {
            pid = sl_v3_rd32(p);
            p += 4;
            total++;

            if (topic) {
                if (found == NULL || *found
                    || pid != partition || (size_t) tl != topic->len
                    || sl_memcmp(tn, topic->data, tl) != 0)
                {
                    continue;
                }

            } else if (list == NULL) {
                continue;
            }

            j = sl_v3_resource("KafkaConsumerAssignment",
                       sl_v3_url("/consumer-groups/%.*s/consumers/%.*s"
                                 "/assignments/%.*s/partitions/%d",
                                 n, g, cn, c, tl, tn, (int) pid),
                       sl_v3_crn("/consumer-group=%.*s/consumer=%.*s"
                                 "/assignment=%.*s/partition=%d",
                                 n, g, cn, c, tl, tn, (int) pid));
            if (j == NULL) {
                continue;
            }

            sl_v3_set(j, "cluster_id",
                      sl_v3_strn(sl_v3_cid->data, sl_v3_cid->len));
            sl_v3_set(j, "consumer_group_id", sl_v3_strn(group->data,
                                                         group->len));
            sl_v3_set(j, "consumer_id", sl_v3_strn(m->member_id.data,
                                                   m->member_id.len));
            sl_v3_set(j, "topic_name", sl_v3_strn((u_char *) tn, tl));
            sl_v3_set(j, "partition_id", json_integer(pid));
            sl_v3_set(j, "partition",
                      sl_v3_rel(sl_v3_url("/topics/%.*s/partitions/%d",
                                          tl, tn, (int) pid)));
            sl_v3_set(j, "lag",
                      sl_v3_rel(sl_v3_url("/consumer-groups/%.*s/lags/%.*s"
                                          "/partitions/%d", n, g, tl, tn,
                                          (int) pid)));

            if (topic) {
                *found = j;
            } else {
                sl_v3_append(list, j);
            }
        }
    }

    return total;
}


static sl_int_t
sl_v3_assignments(sl_rest_req_t *rq)
{
    json_t                         *j, *found;
    int64_t                         pid;
    sl_broker_group_desc_t          d;
    sl_broker_group_member_info_t  *m;

    if (sl_v3_begin(rq) != SL_OK || sl_v3_group_find(rq, &d) != SL_OK) {
        return rq->rc;
    }

    m = sl_v3_member(rq, &d);
    if (m == NULL) {
        return rq->rc;
    }

    if (rq->nparams == 5) {
        found = NULL;

        if (sl_v3_int(&rq->params[4], &pid) == SL_OK) {
            (void) sl_v3_assignment_decode(&m->assignment, m,
                                           &rq->params[1], NULL,
                                           &rq->params[3], (int32_t) pid,
                                           &found);
        }

        if (found == NULL) {
            return sl_rest_error(rq, SL_HTTP_NOT_FOUND, 0,
                                 "Assignment cannot be found.");
        }

        return sl_rest_send(rq, SL_HTTP_OK, found);
    }

    j = sl_v3_list("KafkaConsumerAssignmentList",
                   sl_v3_url("/consumer-groups/%.*s/consumers/%.*s"
                             "/assignments", SL_STR_ARG(&rq->params[1]),
                             SL_STR_ARG(&rq->params[2])));
    if (j == NULL) {
        return sl_rest_send(rq, SL_HTTP_INTERNAL_SERVER_ERROR, NULL);
    }

    (void) sl_v3_assignment_decode(&m->assignment, m, &rq->params[1],
                                   json_object_get(j, "data"), NULL, -1,
                                   NULL);

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


/* the member a partition is assigned to, or NULL */
static sl_broker_group_member_info_t *
sl_v3_owner(sl_broker_group_desc_t *d, sl_str_t *topic, int32_t partition)
{
    json_t     *found;
    sl_uint_t   i;

    for (i = 0; i < d->nmembers; i++) {
        found = NULL;

        (void) sl_v3_assignment_decode(&d->members[i].assignment,
                                       &d->members[i], &d->group_id, NULL,
                                       topic, partition, &found);
        if (found) {
            json_decref(found);
            return &d->members[i];
        }
    }

    return NULL;
}


/* lag */

static sl_int_t
sl_v3_offsets(sl_rest_req_t *rq, sl_array_t *out)
{
    if (sl_array_init(out, rq->r->pool, 16,
                      sizeof(sl_broker_group_offset_t))
        != SL_OK
        || sl_broker_group_fetch_all(&rq->params[1], rq->r->pool, out)
           != SL_OK)
    {
        (void) sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR,
                             SL_REST_ERR_KAFKA, "Cannot fetch offsets.");
        return SL_ERROR;
    }

    return SL_OK;
}


/* the log end offset (the high watermark) of a committed partition */
static int64_t
sl_v3_leo(sl_broker_group_offset_t *o)
{
    sl_broker_topic_t      *t;
    sl_broker_partition_t  *part;

    t = sl_broker_topic_find(&o->topic);

    if (t == NULL || t->deleted) {
        return -1;
    }

    part = sl_broker_partition(t, o->partition);

    return part ? sl_atomic_load(&part->high_watermark) : -1;
}


static json_t *
sl_v3_lag_json(sl_str_t *group, sl_broker_group_offset_t *o, int64_t leo,
    sl_broker_group_member_info_t *m)
{
    int      n, tl;
    char    *g, *tn;
    json_t  *j;
    int64_t  lag;

    n = (int) group->len;
    g = (char *) group->data;
    tl = (int) o->topic.len;
    tn = (char *) o->topic.data;

    j = sl_v3_resource("KafkaConsumerLag",
                       sl_v3_url("/consumer-groups/%.*s/lags/%.*s"
                                 "/partitions/%d", n, g, tl, tn,
                                 (int) o->partition),
                       sl_v3_crn("/consumer-group=%.*s/lag=%.*s"
                                 "/partition=%d", n, g, tl, tn,
                                 (int) o->partition));
    if (j == NULL) {
        return NULL;
    }

    lag = (leo >= 0 && o->offset >= 0) ? sl_max(leo - o->offset, 0) : 0;

    sl_v3_set(j, "cluster_id", sl_v3_strn(sl_v3_cid->data, sl_v3_cid->len));
    sl_v3_set(j, "consumer_group_id", sl_v3_strn(group->data, group->len));
    sl_v3_set(j, "topic_name", sl_v3_strn((u_char *) tn, tl));
    sl_v3_set(j, "partition_id", json_integer(o->partition));
    sl_v3_set(j, "current_offset", json_integer(o->offset));
    sl_v3_set(j, "log_end_offset", json_integer(leo));
    sl_v3_set(j, "lag", json_integer(lag));
    sl_v3_set(j, "consumer_id",
              m ? sl_v3_strn(m->member_id.data, m->member_id.len)
                : json_string(""));
    sl_v3_set(j, "instance_id",
              (m && m->instance_id.len)
              ? sl_v3_strn(m->instance_id.data, m->instance_id.len)
              : json_null());
    sl_v3_set(j, "client_id",
              m ? sl_v3_strn(m->client_id.data, m->client_id.len)
                : json_string(""));

    return j;
}


static sl_int_t
sl_v3_lags(sl_rest_req_t *rq)
{
    json_t                    *j, *data;
    sl_uint_t                  i;
    sl_array_t                 offsets;
    sl_broker_group_desc_t     d;
    sl_broker_group_offset_t  *o;

    if (sl_v3_begin(rq) != SL_OK || sl_v3_group_find(rq, &d) != SL_OK
        || sl_v3_offsets(rq, &offsets) != SL_OK)
    {
        return rq->rc;
    }

    d.group_id = rq->params[1];

    j = sl_v3_list("KafkaConsumerLagList",
                   sl_v3_url("/consumer-groups/%.*s/lags",
                             SL_STR_ARG(&rq->params[1])));
    if (j == NULL) {
        return sl_rest_send(rq, SL_HTTP_INTERNAL_SERVER_ERROR, NULL);
    }

    data = json_object_get(j, "data");
    o = offsets.elts;

    for (i = 0; i < offsets.nelts; i++) {
        if (o[i].offset < 0) {
            continue;
        }

        sl_v3_append(data, sl_v3_lag_json(&rq->params[1], &o[i],
                                          sl_v3_leo(&o[i]),
                                          sl_v3_owner(&d, &o[i].topic,
                                                      o[i].partition)));
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


static sl_int_t
sl_v3_lag(sl_rest_req_t *rq)
{
    int64_t                    pid;
    sl_uint_t                  i;
    sl_array_t                 offsets;
    sl_broker_group_desc_t     d;
    sl_broker_group_offset_t  *o;

    if (sl_v3_begin(rq) != SL_OK || sl_v3_group_find(rq, &d) != SL_OK
        || sl_v3_offsets(rq, &offsets) != SL_OK)
    {
        return rq->rc;
    }

    d.group_id = rq->params[1];
    o = offsets.elts;

    if (sl_v3_int(&rq->params[3], &pid) == SL_OK) {
        for (i = 0; i < offsets.nelts; i++) {
            if (o[i].offset >= 0 && o[i].partition == pid
                && o[i].topic.len == rq->params[2].len
                && sl_memcmp(o[i].topic.data, rq->params[2].data,
                             rq->params[2].len) == 0)
            {
                return sl_rest_send(rq, SL_HTTP_OK,
                                    sl_v3_lag_json(&rq->params[1], &o[i],
                                        sl_v3_leo(&o[i]),
                                        sl_v3_owner(&d, &o[i].topic,
                                                    o[i].partition)));
            }
        }
    }

    return sl_rest_error(rq, SL_HTTP_NOT_FOUND, 0,
                         "Consumer lag for topic %.*s partition %.*s "
                         "cannot be found.",
                         (int) sl_min(rq->params[2].len, 200),
                         (char *) rq->params[2].data,
                         (int) sl_min(rq->params[3].len, 20),
                         (char *) rq->params[3].data);
}


static sl_int_t
sl_v3_lag_summary(sl_rest_req_t *rq)
{
    int                             n;
    char                           *g;
    json_t                         *j;
    int64_t                         leo, lag;
    sl_uint_t                       i;
    sl_array_t                      offsets;
    sl_v3_lag_summary_t             s;
    sl_broker_group_desc_t          d;
    sl_broker_group_offset_t       *o, *max;
    sl_broker_group_member_info_t  *m;

    if (sl_v3_begin(rq) != SL_OK || sl_v3_group_find(rq, &d) != SL_OK
        || sl_v3_offsets(rq, &offsets) != SL_OK)
    {
        return rq->rc;
    }

    d.group_id = rq->params[1];
    sl_memzero(&s, sizeof(sl_v3_lag_summary_t));
    max = NULL;
    o = offsets.elts;

    for (i = 0; i < offsets.nelts; i++) {
        if (o[i].offset < 0) {
            continue;
        }

        leo = sl_v3_leo(&o[i]);
        lag = (leo >= 0) ? sl_max(leo - o[i].offset, 0) : 0;
        s.total += lag;

        if (max == NULL || lag > s.lag) {
            max = &o[i];
            s.lag = lag;
        }
    }

    n = (int) rq->params[1].len;
    g = (char *) rq->params[1].data;

    j = sl_v3_resource("KafkaConsumerGroupLagSummary",
                       sl_v3_url("/consumer-groups/%.*s/lag-summary", n, g),
                       sl_v3_crn("/consumer-group=%.*s/lag-summary", n, g));
    if (j == NULL) {
        return sl_rest_send(rq, SL_HTTP_INTERNAL_SERVER_ERROR, NULL);
    }

    m = max ? sl_v3_owner(&d, &max->topic, max->partition) : NULL;

    sl_v3_set(j, "cluster_id", sl_v3_strn(sl_v3_cid->data, sl_v3_cid->len));
    sl_v3_set(j, "consumer_group_id", sl_v3_strn((u_char *) g, n));
    sl_v3_set(j, "max_lag_consumer_id",
              m ? sl_v3_strn(m->member_id.data, m->member_id.len)
                : json_string(""));
    sl_v3_set(j, "max_lag_instance_id",
              (m && m->instance_id.len)
              ? sl_v3_strn(m->instance_id.data, m->instance_id.len)
              : json_null());
    sl_v3_set(j, "max_lag_client_id",
              m ? sl_v3_strn(m->client_id.data, m->client_id.len)
                : json_string(""));
    sl_v3_set(j, "max_lag_topic_name",
              max ? sl_v3_strn(max->topic.data, max->topic.len)
                  : json_string(""));
    sl_v3_set(j, "max_lag_partition_id",
              json_integer(max ? max->partition : 0));
    sl_v3_set(j, "max_lag", json_integer(s.lag));
    sl_v3_set(j, "total_lag", json_integer(s.total));

    if (m) {
        sl_v3_set(j, "max_lag_consumer",
                  sl_v3_rel(sl_v3_url("/consumer-groups/%.*s/consumers/%.*s",
                                      n, g, SL_STR_ARG(&m->member_id))));
    }

    if (max) {
        sl_v3_set(j, "max_lag_partition",
                  sl_v3_rel(sl_v3_url("/topics/%.*s/partitions/%d",
                                      SL_STR_ARG(&max->topic),
                                      (int) max->partition)));
    }

    return sl_rest_send(rq, SL_HTTP_OK, j);
}
