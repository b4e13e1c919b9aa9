
/*
 * Administration: CreateTopics, DeleteTopics, CreatePartitions,
 * DeleteRecords, DescribeConfigs, AlterConfigs, IncrementalAlterConfigs.
 * One broker: the replication factor is 1 (or -1, "the default"), and
 * every replica assignment must name this node.  Topic settings go to
 * the broker by their Kafka names; broker settings come from
 * broker.conf and are read-only here.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_kafka.h>


#define SL_KAFKA_RESOURCE_TOPIC          2
#define SL_KAFKA_RESOURCE_BROKER         4
#define SL_KAFKA_RESOURCE_BROKER_LOGGER  8

#define SL_KAFKA_CONFIG_SOURCE_TOPIC     1
#define SL_KAFKA_CONFIG_SOURCE_STATIC    4
#define SL_KAFKA_CONFIG_SOURCE_DEFAULT   5

#define SL_KAFKA_CONFIG_TYPE_BOOLEAN     1
#define SL_KAFKA_CONFIG_TYPE_STRING      2
#define SL_KAFKA_CONFIG_TYPE_INT         3
#define SL_KAFKA_CONFIG_TYPE_LONG        5
#define SL_KAFKA_CONFIG_TYPE_LIST        7

#define SL_KAFKA_OP_SET                  0
#define SL_KAFKA_OP_DELETE               1
#define SL_KAFKA_OP_APPEND               2
#define SL_KAFKA_OP_SUBTRACT             3


/* a topic's or the broker's settings, gathered for a response */
typedef struct {
    sl_pool_t               *pool;
    sl_array_t               configs;   /* of sl_kafka_config_t */
    sl_str_t                *keys;      /* a filter, or NULL */
    int32_t                  nkeys;
    sl_uint_t                failed;
} sl_kafka_configs_t;


typedef struct {
    sl_str_t                 name;
    sl_str_t                 value;
    sl_uint_t                is_default;
    sl_uint_t                read_only;
} sl_kafka_config_t;


static sl_int_t sl_kafka_create_topic(sl_kafka_request_t *r,
    sl_kafka_create_topics_req_creatable_topic_t *ct,
    sl_kafka_create_topics_resp_creatable_topic_result_t *res);
static void sl_kafka_collect_config(void *data, const char *name,
    u_char *value, size_t len, sl_uint_t is_default);
static void sl_kafka_broker_configs(sl_kafka_request_t *r,
    sl_kafka_configs_t *cfs);
static int8_t sl_kafka_config_type(sl_str_t *name);
static int16_t sl_kafka_check_config(sl_kafka_request_t *r,
    sl_broker_topic_conf_t *conf, sl_str_t *name, sl_str_t *value,
    sl_str_t *msg, sl_uint_t *ignored);
static int16_t sl_kafka_set_topic_config(sl_kafka_request_t *r,
    sl_broker_topic_t *topic, sl_str_t *name, sl_str_t *value,
    sl_str_t *msg);
static void sl_kafka_error_message(sl_kafka_request_t *r, sl_str_t *msg,
    const char *fmt, ...);


sl_int_t
sl_kafka_create_topics(sl_kafka_request_t *r)
{
    int32_t                                                i, n;
    sl_kafka_create_topics_req_t                          *req;
    sl_kafka_create_topics_resp_t                         *resp;
    sl_kafka_create_topics_resp_creatable_topic_result_t  *res;

    req = r->req;
    resp = r->resp;

    n = req->topics_n > 0 ? req->topics_n : 0;

    res = sl_pcalloc(r->pool, (n + 1) * sizeof(*res));
    if (res == NULL) {
        return SL_ERROR;
    }

    resp->throttle_time_ms = 0;
    resp->topics = res;
    resp->topics_n = n;

    for (i = 0; i < n; i++, res++) {
        if (sl_kafka_create_topic(r, &req->topics[i], res) != SL_OK) {
            return SL_ERROR;
        }
    }

    return SL_OK;
}


static sl_int_t
sl_kafka_create_topic(sl_kafka_request_t *r,
    sl_kafka_create_topics_req_creatable_topic_t *ct,
    sl_kafka_create_topics_resp_creatable_topic_result_t *res)
{
    int16_t                                                err;
    int32_t                                                i, j, parts;
    sl_int_t                                               rc;
    sl_str_t                                               msg;
    sl_uint_t                                              k, ignored;
    sl_broker_topic_t                                     *topic;
    sl_kafka_config_t                                     *cf;
    sl_broker_topic_conf_t                                 conf;
    sl_kafka_configs_t                                     cfs;
    sl_kafka_main_conf_t                                  *kmcf;
    sl_kafka_create_topics_req_t                          *req;
    sl_kafka_create_topics_resp_creatable_topic_configs_t *rc_cf;

    req = r->req;
    kmcf = r->kmcf;

    res->name = ct->name;
    res->error_message.data = NULL;
    res->num_partitions = -1;
    res->replication_factor = -1;
    res->configs_n = -1;

    if (ct->name.data == NULL
        || !sl_broker_topic_name_valid(&ct->name))
    {
        res->error_code = SL_KAFKA_INVALID_TOPIC_EXCEPTION;
        return SL_OK;
    }

    if (sl_broker_topic_find(&ct->name)) {
        res->error_code = SL_KAFKA_TOPIC_ALREADY_EXISTS;
        sl_kafka_error_message(r, &res->error_message,
                               "Topic '%.*s' already exists.",
                               SL_STR_ARG(&ct->name));
        return SL_OK;
    }

    if (ct->replication_factor != -1 && ct->replication_factor != 1) {
        res->error_code = SL_KAFKA_INVALID_REPLICATION_FACTOR;
        sl_kafka_error_message(r, &res->error_message,
                               "Replication factor must be 1 (or -1): "
                               "this is a single broker.");
        return SL_OK;
    }

    parts = ct->num_partitions;

    if (ct->assignments_n > 0) {

        if (parts != -1) {
            res->error_code = SL_KAFKA_INVALID_REQUEST;
            sl_kafka_error_message(r, &res->error_message,
                                   "Both numPartitions or "
                                   "replicationFactor and "
                                   "replicasAssignments were set.");
            return SL_OK;
        }

        for (i = 0; i < ct->assignments_n; i++) {
            if (ct->assignments[i].partition_index != i) {
                res->error_code = SL_KAFKA_INVALID_REPLICA_ASSIGNMENT;
                return SL_OK;
            }

            for (j = 0; j < ct->assignments[i].broker_ids_n; j++) {
                if (ct->assignments[i].broker_ids[j] != kmcf->node_id
                    || j > 0)
                {
                    res->error_code = SL_KAFKA_INVALID_REPLICA_ASSIGNMENT;
                    return SL_OK;
                }
            }
        }

        parts = ct->assignments_n;
    }

    if (parts == -1) {
        parts = (int32_t) kmcf->default_partitions;
    }

    if (parts <= 0 || parts > SL_BROKER_MAX_PARTITIONS) {
        res->error_code = SL_KAFKA_INVALID_PARTITIONS;
        sl_kafka_error_message(r, &res->error_message,
                               "Number of partitions must be between 1 "
                               "and %d.", SL_BROKER_MAX_PARTITIONS);
        return SL_OK;
    }

    sl_broker_topic_conf_init(&conf);

    for (i = 0; i < ct->configs_n; i++) {
        err = sl_kafka_check_config(r, &conf, &ct->configs[i].name,
                                    &ct->configs[i].value, &msg, &ignored);
        if (err != SL_KAFKA_NONE) {
            res->error_code = err;
            res->error_message = msg;
            return SL_OK;
        }
    }

    res->num_partitions = parts;
    res->replication_factor = 1;

    if (req->validate_only) {
        return SL_OK;
    }

    rc = sl_kafka_topic_create(kmcf, &ct->name, parts, &conf, r->log,
                               &topic);

    if (rc != SL_BROKER_OK) {
        res->error_code = sl_kafka_error(rc);
        res->num_partitions = -1;
        res->replication_factor = -1;
        return SL_OK;
    }

    sl_log_error(SL_LOG_INFO, r->log, 0,
                 "kafka: created topic \"%.*s\" with %d partitions",
                 SL_STR_ARG(&ct->name), (int) parts);

    sl_memcpy(res->topic_id, topic->id, 16);

    /* v5+: the settings the topic ended up with */

    sl_memzero(&cfs, sizeof(sl_kafka_configs_t));
    cfs.pool = r->pool;

    if (sl_array_init(&cfs.configs, r->pool, 16, sizeof(sl_kafka_config_t))
        != SL_OK)
    {
        return SL_ERROR;
    }

    sl_broker_topic_configs(topic, sl_kafka_collect_config, &cfs);

    if (cfs.failed) {
        return SL_ERROR;
    }

    rc_cf = sl_pcalloc(r->pool, (cfs.configs.nelts + 1) * sizeof(*rc_cf));
    if (rc_cf == NULL) {
        return SL_ERROR;
    }

    cf = cfs.configs.elts;

    for (k = 0; k < cfs.configs.nelts; k++) {
        rc_cf[k].name = cf[k].name;
        rc_cf[k].value = cf[k].value;
        rc_cf[k].config_source = cf[k].is_default
                                 ? SL_KAFKA_CONFIG_SOURCE_DEFAULT
                                 : SL_KAFKA_CONFIG_SOURCE_TOPIC;
    }

    res->configs = rc_cf;
    res->configs_n = (int32_t) cfs.configs.nelts;

    return SL_OK;
}


sl_int_t
sl_kafka_delete_topics(sl_kafka_request_t *r)
{
    int32_t                                                i, n;
    sl_int_t                                               rc;
    sl_str_t                                               name;
    sl_broker_topic_t                                     *topic;
    sl_kafka_delete_topics_req_t                          *req;
    sl_kafka_delete_topics_resp_t                         *resp;
    sl_kafka_delete_topics_resp_deletable_topic_result_t  *res;

    req = r->req;
    resp = r->resp;

    /* v6 names topics by name or id, older versions by name */
    n = r->version >= 6 ? req->topics_n : req->topic_names_n;
    n = n > 0 ? n : 0;

    res = sl_pcalloc(r->pool, (n + 1) * sizeof(*res));
    if (res == NULL) {
        return SL_ERROR;
    }

    resp->throttle_time_ms = 0;
    resp->responses = res;
    resp->responses_n = n;

    for (i = 0; i < n; i++, res++) {

        res->error_message.data = NULL;

        if (r->version >= 6) {
            name = req->topics[i].name;

            if (name.data == NULL) {
                topic = sl_kafka_topic_by_id(req->topics[i].topic_id);

                if (topic == NULL) {
                    sl_memcpy(res->topic_id, req->topics[i].topic_id, 16);
                    res->error_code = SL_KAFKA_UNKNOWN_TOPIC_ID;
                    continue;
                }

                name.len = topic->name.len;
                name.data = sl_pstrdup(r->pool, &topic->name);
                if (name.data == NULL) {
                    return SL_ERROR;
                }
            }

        } else {
            name = req->topic_names[i];
        }

        res->name = name;

        topic = name.data ? sl_broker_topic_find(&name) : NULL;

        if (topic == NULL) {
            res->error_code = SL_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
            continue;
        }

        sl_memcpy(res->topic_id, topic->id, 16);

        rc = sl_broker_topic_delete(&name, r->log);

        res->error_code = sl_kafka_error(rc);

        if (rc == SL_BROKER_OK) {
            sl_log_error(SL_LOG_INFO, r->log, 0,
                         "kafka: deleted topic \"%.*s\"", SL_STR_ARG(&name));
        }
    }

    return SL_OK;
}


sl_int_t
sl_kafka_create_partitions(sl_kafka_request_t *r)
{
    int32_t                                          i, n;
    sl_int_t                                         rc;
    sl_broker_topic_t                               *topic;
    sl_kafka_create_partitions_req_t                *req;
    sl_kafka_create_partitions_resp_t               *resp;
    sl_kafka_create_partitions_req_topic_t          *ct;
    sl_kafka_create_partitions_resp_topic_result_t  *res;

    req = r->req;
    resp = r->resp;

    n = req->topics_n > 0 ? req->topics_n : 0;

    res = sl_pcalloc(r->pool, (n + 1) * sizeof(*res));
    if (res == NULL) {
        return SL_ERROR;
    }

    resp->throttle_time_ms = 0;
    resp->results = res;
    resp->results_n = n;

    for (i = 0; i < n; i++, res++) {
        ct = &req->topics[i];

        res->name = ct->name;
        res->error_message.data = NULL;

        topic = ct->name.data ? sl_broker_topic_find(&ct->name) : NULL;

        if (topic == NULL) {
            res->error_code = SL_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
            continue;
        }

        if (ct->count <= topic->partitions_n
            || ct->count > SL_BROKER_MAX_PARTITIONS)
        {
            res->error_code = SL_KAFKA_INVALID_PARTITIONS;
            sl_kafka_error_message(r, &res->error_message,
                                   "Topic currently has %d partitions, "
                                   "%d is not a valid new total.",
                                   (int) topic->partitions_n,
                                   (int) ct->count);
            continue;
        }

        if (ct->assignments_n > 0
            && ct->assignments_n != ct->count - topic->partitions_n)
        {
            res->error_code = SL_KAFKA_INVALID_REPLICA_ASSIGNMENT;
            continue;
        }

        if (req->validate_only) {
            continue;
        }

        rc = sl_broker_topic_add_partitions(topic, ct->count, r->log);

        res->error_code = sl_kafka_error(rc);
    }

    return SL_OK;
}


sl_int_t
sl_kafka_delete_records(sl_kafka_request_t *r)
{
    int32_t                                           i, j, n;
    int64_t                                           low;
    sl_int_t                                          rc;
    sl_broker_topic_t                                *topic;
    sl_broker_partition_t                            *part;
    sl_kafka_delete_records_req_t                    *req;
    sl_kafka_delete_records_resp_t                   *resp;
    sl_kafka_delete_records_req_topic_t              *dt;
    sl_kafka_delete_records_resp_topic_result_t      *rt;
    sl_kafka_delete_records_resp_partition_result_t  *rp;

    req = r->req;
    resp = r->resp;

    n = req->topics_n > 0 ? req->topics_n : 0;

    rt = sl_pcalloc(r->pool, (n + 1) * sizeof(*rt));
    if (rt == NULL) {
        return SL_ERROR;
    }

    resp->throttle_time_ms = 0;
    resp->topics = rt;
    resp->topics_n = n;

    for (i = 0; i < n; i++, rt++) {
        dt = &req->topics[i];

        rt->name = dt->name;
        rt->partitions_n = dt->partitions_n > 0 ? dt->partitions_n : 0;

        rp = sl_pcalloc(r->pool, (rt->partitions_n + 1) * sizeof(*rp));
        if (rp == NULL) {
            return SL_ERROR;
        }

        rt->partitions = rp;

        topic = dt->name.data ? sl_broker_topic_find(&dt->name) : NULL;

        for (j = 0; j < rt->partitions_n; j++, rp++) {
            rp->partition_index = dt->partitions[j].partition_index;
            rp->low_watermark = -1;

            part = topic ? sl_broker_partition(topic, rp->partition_index)
                         : NULL;

            if (part == NULL) {
                rp->error_code = SL_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }

            rc = sl_broker_log_delete_before(part, dt->partitions[j].offset,
                                             &low, r->log);

            rp->error_code = sl_kafka_error(rc);

            if (rc == SL_BROKER_OK) {
                rp->low_watermark = low;
            }
        }
    }

    return SL_OK;
}


sl_int_t
sl_kafka_describe_configs(sl_kafka_request_t *r)
{
    int32_t                                            i, n;
    sl_uint_t                                          k;
    sl_broker_topic_t                                 *topic;
    sl_kafka_config_t                                 *cf;
    sl_kafka_configs_t                                 cfs;
    sl_kafka_describe_configs_req_t                   *req;
    sl_kafka_describe_configs_resp_t                  *resp;
    sl_kafka_describe_configs_req_resource_t          *rs;
    sl_kafka_describe_configs_resp_result_t           *res;
    sl_kafka_describe_configs_resp_resource_result_t  *rc;

    req = r->req;
    resp = r->resp;

    n = req->resources_n > 0 ? req->resources_n : 0;

    res = sl_pcalloc(r->pool, (n + 1) * sizeof(*res));
    if (res == NULL) {
        return SL_ERROR;
    }

    resp->throttle_time_ms = 0;
    resp->results = res;
    resp->results_n = n;

    for (i = 0; i < n; i++, res++) {
        rs = &req->resources[i];

        res->resource_type = rs->resource_type;
        res->resource_name = rs->resource_name;
        res->error_message.data = NULL;

        sl_memzero(&cfs, sizeof(sl_kafka_configs_t));
        cfs.pool = r->pool;
        cfs.keys = rs->configuration_keys;
        cfs.nkeys = rs->configuration_keys_n;

        if (sl_array_init(&cfs.configs, r->pool, 16,
                          sizeof(sl_kafka_config_t))
            != SL_OK)
        {
            return SL_ERROR;
        }

        switch (rs->resource_type) {

        case SL_KAFKA_RESOURCE_TOPIC:
            topic = rs->resource_name.data
                    ? sl_broker_topic_find(&rs->resource_name) : NULL;

            if (topic == NULL) {
                res->error_code = SL_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }

            sl_broker_topic_configs(topic, sl_kafka_collect_config, &cfs);
            break;

        case SL_KAFKA_RESOURCE_BROKER:
            sl_kafka_broker_configs(r, &cfs);
            break;

        case SL_KAFKA_RESOURCE_BROKER_LOGGER:
            break;

        default:
            res->error_code = SL_KAFKA_INVALID_REQUEST;
            sl_kafka_error_message(r, &res->error_message,
                                   "Unsupported resource type %d.",
                                   (int) rs->resource_type);
            continue;
        }

        if (cfs.failed) {
            return SL_ERROR;
        }

        rc = sl_pcalloc(r->pool, (cfs.configs.nelts + 1) * sizeof(*rc));
        if (rc == NULL) {
            return SL_ERROR;
        }

        cf = cfs.configs.elts;

        for (k = 0; k < cfs.configs.nelts; k++) {
            rc[k].name = cf[k].name;
            rc[k].value = cf[k].value;
            rc[k].read_only = cf[k].read_only;
            rc[k].is_default = cf[k].is_default;
            rc[k].is_sensitive = 0;
            rc[k].synonyms_n = 0;
            rc[k].config_type = sl_kafka_config_type(&cf[k].name);
            rc[k].documentation.data = NULL;

            if (rs->resource_type == SL_KAFKA_RESOURCE_BROKER) {
                rc[k].config_source = SL_KAFKA_CONFIG_SOURCE_STATIC;

            } else {
                rc[k].config_source = cf[k].is_default
                                      ? SL_KAFKA_CONFIG_SOURCE_DEFAULT
                                      : SL_KAFKA_CONFIG_SOURCE_TOPIC;
            }
        }

        res->configs = rc;
        res->configs_n = (int32_t) cfs.configs.nelts;
    }

    return SL_OK;
}


static void
sl_kafka_collect_config(void *data, const char *name, u_char *value,
    size_t len, sl_uint_t is_default)
{
    sl_kafka_configs_t *cfs = data;

    size_t              nlen;
    int32_t             i;
    sl_kafka_config_t  *cf;

    nlen = sl_strlen(name);

    if (cfs->nkeys > 0) {
        for (i = 0; i < cfs->nkeys; i++) {
            if (cfs->keys[i].len == nlen
                && sl_memcmp(cfs->keys[i].data, name, nlen) == 0)
            {
                break;
            }
        }

        if (i == cfs->nkeys) {
            return;
        }
    }

    cf = sl_array_push(&cfs->configs);
    if (cf == NULL) {
        cfs->failed = 1;
        return;
    }

    cf->name.len = nlen;
    cf->name.data = sl_pnalloc(cfs->pool, nlen + len + 1);

    if (cf->name.data == NULL) {
        cfs->failed = 1;
        return;
    }

    sl_memcpy(cf->name.data, name, nlen);

    cf->value.len = len;
    cf->value.data = cf->name.data + nlen;
    sl_memcpy(cf->value.data, value, len);

    cf->is_default = is_default;
    cf->read_only = 0;
}


static void
sl_kafka_broker_configs(sl_kafka_request_t *r, sl_kafka_configs_t *cfs)
{
    u_char                *p, buf[SL_SOCKADDR_STRLEN + 64];
    sl_uint_t              i, n;
    sl_kafka_config_t     *cf;
    sl_kafka_main_conf_t  *kmcf;

    kmcf = r->kmcf;

    n = cfs->configs.nelts;

    p = sl_slprintf(buf, buf + sizeof(buf), "%d", (int) kmcf->node_id);
    sl_kafka_collect_config(cfs, "node.id", buf, p - buf, 0);
    sl_kafka_collect_config(cfs, "broker.id", buf, p - buf, 0);

    p = sl_slprintf(buf, buf + sizeof(buf), "PLAINTEXT://%.*s:%d",
                    SL_STR_ARG(&kmcf->advertised_host),
                    (int) kmcf->advertised_port);
    sl_kafka_collect_config(cfs, "advertised.listeners", buf, p - buf, 0);

    p = sl_slprintf(buf, buf + sizeof(buf), "%s",
                    kmcf->auto_create_topics ? "true" : "false");
    sl_kafka_collect_config(cfs, "auto.create.topics.enable", buf, p - buf,
                            0);

    p = sl_slprintf(buf, buf + sizeof(buf), "%d",
                    (int) kmcf->default_partitions);
    sl_kafka_collect_config(cfs, "num.partitions", buf, p - buf, 0);

    p = sl_slprintf(buf, buf + sizeof(buf), "%zu", kmcf->max_request_size);
    sl_kafka_collect_config(cfs, "socket.request.max.bytes", buf, p - buf,
                            0);

    sl_kafka_collect_config(cfs, "default.replication.factor",
                            (u_char *) "1", 1, 1);
    sl_kafka_collect_config(cfs, "min.insync.replicas", (u_char *) "1", 1,
                            1);
    sl_kafka_collect_config(cfs, "delete.topic.enable", (u_char *) "true",
                            4, 1);

    cf = cfs->configs.elts;

    for (i = n; i < cfs->configs.nelts; i++) {
        cf[i].read_only = 1;
    }
}


static int8_t
sl_kafka_config_type(sl_str_t *name)
{
    size_t   n;
    u_char  *p;

    n = name->len;
    p = name->data;

    if (sl_str_eq(name, "cleanup.policy")
        || sl_str_eq(name, "advertised.listeners"))
    {
        return SL_KAFKA_CONFIG_TYPE_LIST;
    }

    if (sl_str_eq(name, "auto.create.topics.enable")
        || sl_str_eq(name, "delete.topic.enable"))
    {
        return SL_KAFKA_CONFIG_TYPE_BOOLEAN;
    }

    if ((n > 3 && sl_memcmp(p + n - 3, ".ms", 3) == 0)
        || (n > 6 && sl_memcmp(p + n - 6, ".bytes", 6) == 0))
    {
        return SL_KAFKA_CONFIG_TYPE_LONG;
    }

    if (sl_str_eq(name, "num.partitions")
        || sl_str_eq(name, "node.id")
        || sl_str_eq(name, "broker.id")
        || sl_str_eq(name, "min.insync.replicas")
        || sl_str_eq(name, "default.replication.factor"))
    {
        return SL_KAFKA_CONFIG_TYPE_INT;
    }

    return SL_KAFKA_CONFIG_TYPE_STRING;
}


/*
 * Kafka topic settings that have no meaning here (one broker, batches
 * stored as produced): accepted and ignored, so that clients which set
 * them out of habit still create their topics.
 */

static sl_str_t  sl_kafka_ignored_configs[] = {
    sl_string("compression.type"),
    sl_string("min.insync.replicas"),
    sl_string("unclean.leader.election.enable"),
    sl_string("message.downconversion.enable"),
    sl_string("message.format.version"),
    sl_string("preallocate"),
    sl_string("min.compaction.lag.ms"),
    sl_string("max.compaction.lag.ms"),
    sl_string("min.cleanable.dirty.ratio"),
    sl_string("message.timestamp.difference.max.ms"),
    sl_string("message.timestamp.before.max.ms"),
    sl_string("message.timestamp.after.max.ms"),
    sl_string("file.delete.delay.ms"),
    sl_string("segment.index.bytes"),
    sl_string("segment.jitter.ms"),
    sl_string("follower.replication.throttled.replicas"),
    sl_string("leader.replication.throttled.replicas"),
    sl_string("local.retention.ms"),
    sl_string("local.retention.bytes"),
    sl_string("remote.storage.enable"),
    sl_null_string
};


static int16_t
sl_kafka_check_config(sl_kafka_request_t *r, sl_broker_topic_conf_t *conf,
    sl_str_t *name, sl_str_t *value, sl_str_t *msg, sl_uint_t *ignored)
{
    sl_int_t   rc;
    sl_str_t  *ic;

    msg->data = NULL;
    msg->len = 0;
    *ignored = 0;

    if (name->data == NULL || name->len == 0) {
        sl_kafka_error_message(r, msg, "A config name is missing.");
        return SL_KAFKA_INVALID_CONFIG;
    }

    if (value->data == NULL) {
        sl_kafka_error_message(r, msg, "Null value not supported for "
                               "topic configs: %.*s", SL_STR_ARG(name));
        return SL_KAFKA_INVALID_REQUEST;
    }

    rc = sl_broker_topic_conf_set(conf, name, value);

    if (rc == SL_BROKER_OK) {
        return SL_KAFKA_NONE;
    }

    if (rc == SL_DECLINED) {
        for (ic = sl_kafka_ignored_configs; ic->len; ic++) {
            if (ic->len == name->len
                && sl_memcmp(ic->data, name->data, name->len) == 0)
            {
                *ignored = 1;
                return SL_KAFKA_NONE;
            }
        }

        sl_kafka_error_message(r, msg, "Unknown topic config name: %.*s",
                               SL_STR_ARG(name));
        return SL_KAFKA_INVALID_CONFIG;
    }

    sl_kafka_error_message(r, msg, "Invalid value %.*s for configuration "
                           "%.*s", SL_STR_ARG(value), SL_STR_ARG(name));

    return SL_KAFKA_INVALID_CONFIG;
}


/* value->data NULL resets the setting to the log { } default */

static int16_t
sl_kafka_set_topic_config(sl_kafka_request_t *r, sl_broker_topic_t *topic,
    sl_str_t *name, sl_str_t *value, sl_str_t *msg)
{
    sl_int_t  rc;

    msg->data = NULL;
    msg->len = 0;

    if (name->data == NULL || name->len == 0) {
        sl_kafka_error_message(r, msg, "A config name is missing.");
        return SL_KAFKA_INVALID_CONFIG;
    }

    rc = value->data
         ? sl_broker_topic_set_config(topic, name, value, r->log)
         : sl_broker_topic_reset_config(topic, name, r->log);

    if (rc == SL_DECLINED) {
        /* checked before: one of the ignored names */
        return SL_KAFKA_NONE;
    }

    if (rc != SL_BROKER_OK) {
        sl_kafka_error_message(r, msg, "Invalid value %.*s for "
                               "configuration %.*s.",
                               value->data ? (int) value->len : 4,
                               value->data ? (char *) value->data : "null",
                               SL_STR_ARG(name));
        return SL_KAFKA_INVALID_CONFIG;
    }

    return SL_KAFKA_NONE;
}


sl_int_t
sl_kafka_alter_configs(sl_kafka_request_t *r)
{
    int16_t                                           err;
    int32_t                                           i, j, n;
    sl_uint_t                                         ignored;
    sl_broker_topic_t                                *topic;
    sl_broker_topic_conf_t                            conf;
    sl_kafka_alter_configs_req_t                     *req;
    sl_kafka_alter_configs_resp_t                    *resp;
    sl_kafka_alter_configs_req_resource_t            *rs;
    sl_kafka_alter_configs_resp_resource_response_t  *res;

    req = r->req;
    resp = r->resp;

    n = req->resources_n > 0 ? req->resources_n : 0;

    res = sl_pcalloc(r->pool, (n + 1) * sizeof(*res));
    if (res == NULL) {
        return SL_ERROR;
    }

    resp->throttle_time_ms = 0;
    resp->responses = res;
    resp->responses_n = n;

    for (i = 0; i < n; i++, res++) {
        rs = &req->resources[i];

        res->resource_type = rs->resource_type;
        res->resource_name = rs->resource_name;
        res->error_message.data = NULL;

        if (rs->resource_type != SL_KAFKA_RESOURCE_TOPIC) {
            res->error_code = SL_KAFKA_INVALID_REQUEST;
            sl_kafka_error_message(r, &res->error_message,
                                   "Broker settings come from broker.conf "
                                   "and cannot be altered.");
            continue;
        }

        topic = rs->resource_name.data
                ? sl_broker_topic_find(&rs->resource_name) : NULL;

        if (topic == NULL) {
            res->error_code = SL_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
            continue;
        }

        sl_broker_topic_conf_init(&conf);

        for (j = 0; j < rs->configs_n; j++) {
            err = sl_kafka_check_config(r, &conf, &rs->configs[j].name,
                                        &rs->configs[j].value,
                                        &res->error_message, &ignored);
            if (err != SL_KAFKA_NONE) {
                res->error_code = err;
                break;
            }
        }

        if (res->error_code != SL_KAFKA_NONE || req->validate_only) {
            continue;
        }

        /*
         * Kafka resets the settings that are not named; here only the
         * named ones change.
         */

        for (j = 0; j < rs->configs_n; j++) {
            err = sl_kafka_set_topic_config(r, topic, &rs->configs[j].name,
                                            &rs->configs[j].value,
                                            &res->error_message);
            if (err != SL_KAFKA_NONE) {
                res->error_code = err;
                break;
            }
        }
    }

    return SL_OK;
}


sl_int_t
sl_kafka_incr_alter_configs(sl_kafka_request_t *r)
{
    int16_t                                                err;
    int32_t                                                i, j, n;
    sl_str_t                                               null;
    sl_uint_t                                              ignored;
    sl_broker_topic_t                                     *topic;
    sl_broker_topic_conf_t                                 conf;
    sl_kafka_incr_alter_configs_req_t                     *req;
    sl_kafka_incr_alter_configs_resp_t                    *resp;
    sl_kafka_incr_alter_configs_req_resource_t            *rs;
    sl_kafka_incr_alter_configs_req_alterable_config_t    *ac;
    sl_kafka_incr_alter_configs_resp_resource_response_t  *res;

    req = r->req;
    resp = r->resp;

    n = req->resources_n > 0 ? req->resources_n : 0;

    res = sl_pcalloc(r->pool, (n + 1) * sizeof(*res));
    if (res == NULL) {
        return SL_ERROR;
    }

    resp->throttle_time_ms = 0;
    resp->responses = res;
    resp->responses_n = n;

    null.len = 0;
    null.data = NULL;

    for (i = 0; i < n; i++, res++) {
        rs = &req->resources[i];

        res->resource_type = rs->resource_type;
        res->resource_name = rs->resource_name;
        res->error_message.data = NULL;

        if (rs->resource_type != SL_KAFKA_RESOURCE_TOPIC) {
            res->error_code = SL_KAFKA_INVALID_REQUEST;
            sl_kafka_error_message(r, &res->error_message,
                                   "Broker settings come from broker.conf "
                                   "and cannot be altered.");
            continue;
        }

        topic = rs->resource_name.data
                ? sl_broker_topic_find(&rs->resource_name) : NULL;

        if (topic == NULL) {
            res->error_code = SL_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
            continue;
        }

        sl_broker_topic_conf_init(&conf);

        for (j = 0; j < rs->configs_n; j++) {
            ac = &rs->configs[j];

            if (ac->config_operation == SL_KAFKA_OP_SET) {
                err = sl_kafka_check_config(r, &conf, &ac->name, &ac->value,
                                            &res->error_message, &ignored);
                if (err != SL_KAFKA_NONE) {
                    res->error_code = err;
                    break;
                }

                continue;
            }

            if (ac->config_operation != SL_KAFKA_OP_DELETE) {
                /* no list-valued topic setting takes APPEND/SUBTRACT */
                res->error_code = SL_KAFKA_INVALID_REQUEST;
                sl_kafka_error_message(r, &res->error_message,
                                       "Operation %d is not supported "
                                       "for %.*s.",
                                       (int) ac->config_operation,
                                       SL_STR_ARG(&ac->name));
                break;
            }
        }

        if (res->error_code != SL_KAFKA_NONE || req->validate_only) {
            continue;
        }

        for (j = 0; j < rs->configs_n; j++) {
            ac = &rs->configs[j];

            err = sl_kafka_set_topic_config(r, topic, &ac->name,
                                            ac->config_operation
                                            == SL_KAFKA_OP_DELETE
                                            ? &null : &ac->value,
                                            &res->error_message);
            if (err != SL_KAFKA_NONE) {
                res->error_code = err;
                break;
            }
        }
    }

    return SL_OK;
}


static void
sl_kafka_error_message(sl_kafka_request_t *r, sl_str_t *msg,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    p = sl_pnalloc(r->pool, 256);
    if (p == NULL) {
        msg->data = NULL;
        return;
    }

    va_start(args, fmt);
    msg->len = sl_vslprintf(p, p + 256, fmt, args) - p;
    va_end(args);

    msg->data = p;
}
