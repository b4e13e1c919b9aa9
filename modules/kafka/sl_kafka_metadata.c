
/*
 * What a client asks before anything else: ApiVersions (with the v0
 * fallback for versions it does not know), Metadata (this broker as the
 * only node, leader and controller of everything; topics auto-created
 * when both the client and the configuration allow it) and
 * DescribeCluster.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_kafka.h>


static sl_int_t sl_kafka_metadata_topic(sl_kafka_request_t *r,
    sl_kafka_metadata_resp_topic_t *t, sl_broker_topic_t *topic,
    int32_t *node);
static sl_broker_topic_t *sl_kafka_metadata_lookup(sl_kafka_request_t *r,
    sl_kafka_metadata_req_topic_t *rt, int16_t *err);


sl_int_t
sl_kafka_api_versions(sl_kafka_request_t *r)
{
    sl_int_t                                   k, n;
    sl_kafka_api_t                            *apis;
    sl_kafka_api_versions_resp_t              *resp;
    sl_kafka_api_versions_resp_api_version_t  *av;

    resp = r->resp;
    apis = r->kmcf->apis;

    n = 0;

    for (k = 0; k < SL_KAFKA_API_MAX; k++) {
        if (apis[k].handler) {
            n++;
        }
    }

    av = sl_pcalloc(r->pool, n * sizeof(*av));
    if (av == NULL) {
        return SL_ERROR;
    }

    resp->error_code = SL_KAFKA_NONE;
    resp->api_keys = av;
    resp->api_keys_n = n;
    resp->throttle_time_ms = 0;

    for (k = 0; k < SL_KAFKA_API_MAX; k++) {
        if (apis[k].handler) {
            av->api_key = (int16_t) k;
            av->min_version = apis[k].min_version;
            av->max_version = apis[k].max_version;
            av++;
        }
    }

    return SL_OK;
}


/*
 * For an ApiVersions version newer than ours: a v0 body with error 35
 * and our ApiVersions range, after which librdkafka retries with the
 * highest version both sides know.
 */

void
sl_kafka_api_versions_fallback(sl_kafka_main_conf_t *kmcf, sl_kafka_wr_t *wr)
{
    sl_kafka_api_t  *api;

    api = &kmcf->apis[SL_KAFKA_API_VERSIONS];

    sl_kafka_wr_int16(wr, SL_KAFKA_UNSUPPORTED_VERSION);
    sl_kafka_wr_array(wr, 0, 0, 1);
    sl_kafka_wr_int16(wr, SL_KAFKA_API_VERSIONS);
    sl_kafka_wr_int16(wr, api->min_version);
    sl_kafka_wr_int16(wr, api->max_version);
}


sl_int_t
sl_kafka_metadata(sl_kafka_request_t *r)
{
    int16_t                          err;
    int32_t                         *node;
    sl_int_t                         i, n;
    sl_broker_topic_t               *topic;
    sl_kafka_main_conf_t            *kmcf;
    sl_kafka_metadata_req_t         *req;
    sl_kafka_metadata_resp_t        *resp;
    sl_kafka_metadata_resp_topic_t  *t;
    sl_kafka_metadata_resp_broker_t *b;

    req = r->req;
    resp = r->resp;
    kmcf = r->kmcf;

    b = sl_pcalloc(r->pool, sizeof(*b));
    node = sl_palloc(r->pool, sizeof(int32_t));

    if (b == NULL || node == NULL) {
        return SL_ERROR;
    }

    *node = (int32_t) kmcf->node_id;

    b->node_id = *node;
    b->host = kmcf->advertised_host;
    b->port = (int32_t) kmcf->advertised_port;
    b->rack.data = NULL;

    resp->throttle_time_ms = 0;
    resp->brokers = b;
    resp->brokers_n = 1;
    resp->cluster_id = kmcf->cluster_id;
    resp->controller_id = *node;
    resp->cluster_authorized_operations = SL_KAFKA_AUTHORIZED_OPS_OMITTED;

    /* v0: an empty list means all topics; v1+: null does */

    if (req->topics_n < 0 || (r->version == 0 && req->topics_n == 0)) {

        n = 0;
        for (topic = sl_broker_topic_next(NULL);
             topic;
             topic = sl_broker_topic_next(topic))
        {
            n++;
        }

        t = sl_pcalloc(r->pool, (n ? n : 1) * sizeof(*t));
        if (t == NULL) {
            return SL_ERROR;
        }

        resp->topics = t;
        resp->topics_n = 0;

        for (topic = sl_broker_topic_next(NULL);
             topic && resp->topics_n < n;
             topic = sl_broker_topic_next(topic))
        {
            if (sl_kafka_metadata_topic(r, t, topic, node) != SL_OK) {
                return SL_ERROR;
            }

            t++;
            resp->topics_n++;
        }

        return SL_OK;
    }

    t = sl_pcalloc(r->pool, (req->topics_n ? req->topics_n : 1) * sizeof(*t));
    if (t == NULL) {
        return SL_ERROR;
    }

    resp->topics = t;
    resp->topics_n = req->topics_n;

    for (i = 0; i < req->topics_n; i++, t++) {

        topic = sl_kafka_metadata_lookup(r, &req->topics[i], &err);

        if (topic == NULL) {
            t->error_code = err;
            t->name = req->topics[i].name;
            sl_memcpy(t->topic_id, req->topics[i].topic_id, 16);
            t->topic_authorized_operations =
                                          SL_KAFKA_AUTHORIZED_OPS_OMITTED;
            continue;
        }

        if (sl_kafka_metadata_topic(r, t, topic, node) != SL_OK) {
            return SL_ERROR;
        }
    }

    return SL_OK;
}


static sl_broker_topic_t *
sl_kafka_metadata_lookup(sl_kafka_request_t *r,
    sl_kafka_metadata_req_topic_t *rt, int16_t *err)
{
    sl_int_t                  rc;
    sl_broker_topic_t        *topic;
    sl_kafka_main_conf_t     *kmcf;
    sl_kafka_metadata_req_t  *req;

    req = r->req;
    kmcf = r->kmcf;

    if (rt->name.data == NULL) {
        /* v10+: by topic id */
        topic = sl_kafka_topic_by_id(rt->topic_id);
        *err = SL_KAFKA_UNKNOWN_TOPIC_ID;
        return topic;
    }

    topic = sl_broker_topic_find(&rt->name);
    if (topic) {
        return topic;
    }

    if (!sl_broker_topic_name_valid(&rt->name)) {
        *err = SL_KAFKA_INVALID_TOPIC_EXCEPTION;
        return NULL;
    }

    *err = SL_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;

    if (!kmcf->auto_create_topics || !req->allow_auto_topic_creation) {
        return NULL;
    }

    rc = sl_kafka_topic_create(kmcf, &rt->name, 0, NULL, r->log, &topic);

    if (rc == SL_BROKER_OK) {
        sl_log_error(SL_LOG_INFO, r->log, 0,
                     "kafka: auto-created topic \"%.*s\"",
                     SL_STR_ARG(&rt->name));
        return topic;
    }

    if (rc == SL_BROKER_ERR_TOPIC_EXISTS) {
        /* another worker was first */
        return sl_broker_topic_find(&rt->name);
    }

    *err = sl_kafka_error(rc);

    return NULL;
}


static sl_int_t
sl_kafka_metadata_topic(sl_kafka_request_t *r,
    sl_kafka_metadata_resp_topic_t *t, sl_broker_topic_t *topic,
    int32_t *node)
{
    int32_t                              i, n;
    sl_broker_partition_t               *part;
    sl_kafka_metadata_resp_partition_t  *p;

    n = topic->partitions_n;

    t->error_code = SL_KAFKA_NONE;
    t->name = topic->name;
    sl_memcpy(t->topic_id, topic->id, 16);
    t->is_internal = topic->internal;
    t->topic_authorized_operations = SL_KAFKA_AUTHORIZED_OPS_OMITTED;

    p = sl_pcalloc(r->pool, (n ? n : 1) * sizeof(*p));
    if (p == NULL) {
        return SL_ERROR;
    }

    t->partitions = p;
    t->partitions_n = n;

    for (i = 0; i < n; i++, p++) {
        part = sl_broker_partition(topic, i);

        p->error_code = SL_KAFKA_NONE;
        p->partition_index = i;
        p->leader_id = *node;
        p->leader_epoch = part ? part->leader_epoch : 0;
        p->replica_nodes = node;
        p->replica_nodes_n = 1;
        p->isr_nodes = node;
        p->isr_nodes_n = 1;
        p->offline_replicas_n = 0;
    }

    return SL_OK;
}


sl_int_t
sl_kafka_describe_cluster(sl_kafka_request_t *r)
{
    sl_kafka_main_conf_t                     *kmcf;
    sl_kafka_describe_cluster_req_t          *req;
    sl_kafka_describe_cluster_resp_t         *resp;
    sl_kafka_describe_cluster_resp_broker_t  *b;

    req = r->req;
    resp = r->resp;
    kmcf = r->kmcf;

    resp->throttle_time_ms = 0;
    resp->error_message.data = NULL;
    resp->endpoint_type = req->endpoint_type;
    resp->cluster_id = kmcf->cluster_id;
    resp->controller_id = (int32_t) kmcf->node_id;
    resp->cluster_authorized_operations = SL_KAFKA_AUTHORIZED_OPS_OMITTED;

    if (r->version >= 1 && req->endpoint_type != 1) {
        /* only brokers here, no separate controllers */
        resp->error_code = SL_KAFKA_UNSUPPORTED_ENDPOINT_TYPE;
        return SL_OK;
    }

    b = sl_pcalloc(r->pool, sizeof(*b));
    if (b == NULL) {
        return SL_ERROR;
    }

    b->broker_id = (int32_t) kmcf->node_id;
    b->host = kmcf->advertised_host;
    b->port = (int32_t) kmcf->advertised_port;
    b->rack.data = NULL;

    resp->brokers = b;
    resp->brokers_n = 1;

    return SL_OK;
}
