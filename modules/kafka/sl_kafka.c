
/*
 * The kafka { } block (sl_kafka_module, the exact shape of nginx's
 * stream block) and the core Kafka module's directives:
 *
 *     kafka {
 *         listen               127.0.0.1:9092;   # repeatable
 *         advertised_listener  broker1.example:9092;
 *         auto_create_topics   on;
 *         default_partitions   4;
 *         max_request_size     100m;     # socket.request.max.bytes
 *         client_buffer_size   64k;      # frames above get their own
 *         idle_timeout         10m;      # connections.max.idle.ms
 *         node_id              1;
 *         cluster_id           sluice-cluster-0000001;
 *
 *         topic orders {
 *             partitions      12;
 *             # and any log { } setting: segment_bytes, segment_ms,
 *             # retention, retention_bytes, cleanup_policy, flush, ...
 *         }
 *     }
 *
 * Without advertised_listener the first listen address is advertised,
 * 127.0.0.1 for a wildcard one.  node_id is 1 by default: the broker is
 * its own controller and the leader of every partition.
 *
 * Configured topics are created by the master in init_module, after the
 * broker module (earlier in the module list) has recovered the storage;
 * a topic that exists already gains partitions if the block asks for
 * more and has its explicitly set values applied again, so a reload
 * with an edited topic block takes effect.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker_batch.h>
#include <sl_kafka.h>


#define SL_KAFKA_DEFAULT_PORT  9092


static char *sl_kafka_block(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static sl_int_t sl_kafka_add_listening(sl_conf_t *cf,
    sl_kafka_main_conf_t *kmcf);
static sl_int_t sl_kafka_init_module(sl_cycle_t *cycle);
static sl_int_t sl_kafka_init_process(sl_cycle_t *cycle);
static sl_int_t sl_kafka_apply_topic(sl_kafka_main_conf_t *kmcf,
    sl_kafka_topic_conf_t *ktcf, sl_log_t *log);

static sl_int_t sl_kafka_core_postconfiguration(sl_conf_t *cf);
static void *sl_kafka_core_create_main_conf(sl_conf_t *cf);
static char *sl_kafka_core_init_main_conf(sl_conf_t *cf, void *conf);
static char *sl_kafka_listen(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_kafka_advertised_listener(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static char *sl_kafka_topic(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static sl_int_t sl_kafka_topic_module_directive(sl_conf_t *cf);
static char *sl_kafka_topic_handler(sl_conf_t *cf, sl_command_t *dummy,
    void *conf);


sl_uint_t  sl_kafka_max_module;


static sl_command_t  sl_kafka_commands[] = {

    { sl_string("kafka"),
      SL_MAIN_CONF|SL_CONF_BLOCK|SL_CONF_NOARGS,
      sl_kafka_block,
      0,
      0,
      NULL },

      sl_null_command
};


static sl_core_module_t  sl_kafka_module_ctx = {
    sl_string("kafka"),
    NULL,
    NULL
};


sl_module_t  sl_kafka_module = {
    SL_MODULE_V1,
    &sl_kafka_module_ctx,                  /* module context */
    sl_kafka_commands,                     /* module directives */
    SL_CORE_MODULE,                        /* module type */
    NULL,                                  /* init master */
    sl_kafka_init_module,                  /* init module */
    sl_kafka_init_process,                 /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


static sl_conf_num_bounds_t  sl_kafka_partitions_bounds = {
    sl_conf_check_num_bounds, 1, SL_BROKER_MAX_PARTITIONS
};

static sl_conf_num_bounds_t  sl_kafka_node_id_bounds = {
    sl_conf_check_num_bounds, 0, INT32_MAX
};


static sl_command_t  sl_kafka_core_commands[] = {

    { sl_string("listen"),
      SL_KAFKA_MAIN_CONF|SL_CONF_TAKE1,
      sl_kafka_listen,
      SL_KAFKA_MAIN_CONF_OFFSET,
      0,
      NULL },

    { sl_string("advertised_listener"),
      SL_KAFKA_MAIN_CONF|SL_CONF_TAKE1,
      sl_kafka_advertised_listener,
      SL_KAFKA_MAIN_CONF_OFFSET,
      0,
      NULL },

    { sl_string("auto_create_topics"),
      SL_KAFKA_MAIN_CONF|SL_CONF_FLAG,
      sl_conf_set_flag_slot,
      SL_KAFKA_MAIN_CONF_OFFSET,
      offsetof(sl_kafka_main_conf_t, auto_create_topics),
      NULL },

    { sl_string("default_partitions"),
      SL_KAFKA_MAIN_CONF|SL_CONF_TAKE1,
      sl_conf_set_num_slot,
      SL_KAFKA_MAIN_CONF_OFFSET,
      offsetof(sl_kafka_main_conf_t, default_partitions),
      &sl_kafka_partitions_bounds },

    { sl_string("max_request_size"),
      SL_KAFKA_MAIN_CONF|SL_CONF_TAKE1,
      sl_conf_set_size_slot,
      SL_KAFKA_MAIN_CONF_OFFSET,
      offsetof(sl_kafka_main_conf_t, max_request_size),
      NULL },

    { sl_string("client_buffer_size"),
      SL_KAFKA_MAIN_CONF|SL_CONF_TAKE1,
      sl_conf_set_size_slot,
      SL_KAFKA_MAIN_CONF_OFFSET,
      offsetof(sl_kafka_main_conf_t, buffer_size),
      NULL },

    { sl_string("idle_timeout"),
      SL_KAFKA_MAIN_CONF|SL_CONF_TAKE1,
      sl_conf_set_msec_slot,
      SL_KAFKA_MAIN_CONF_OFFSET,
      offsetof(sl_kafka_main_conf_t, idle_timeout),
      NULL },

    { sl_string("node_id"),
      SL_KAFKA_MAIN_CONF|SL_CONF_TAKE1,
      sl_conf_set_num_slot,
      SL_KAFKA_MAIN_CONF_OFFSET,
      offsetof(sl_kafka_main_conf_t, node_id),
      &sl_kafka_node_id_bounds },

    { sl_string("cluster_id"),
      SL_KAFKA_MAIN_CONF|SL_CONF_TAKE1,
      sl_conf_set_str_slot,
      SL_KAFKA_MAIN_CONF_OFFSET,
      offsetof(sl_kafka_main_conf_t, cluster_id),
      NULL },

    { sl_string("topic"),
      SL_KAFKA_MAIN_CONF|SL_CONF_BLOCK|SL_CONF_TAKE1,
      sl_kafka_topic,
      SL_KAFKA_MAIN_CONF_OFFSET,
      0,
      NULL },

      sl_null_command
};


static sl_kafka_module_t  sl_kafka_core_module_ctx = {
    sl_kafka_core_postconfiguration,       /* postconfiguration */
    sl_kafka_core_create_main_conf,        /* create main configuration */
    sl_kafka_core_init_main_conf,          /* init main configuration */
    NULL                                   /* create topic configuration */
};


sl_module_t  sl_kafka_core_module = {
    SL_MODULE_V1,
    &sl_kafka_core_module_ctx,             /* module context */
    sl_kafka_core_commands,                /* module directives */
    SL_KAFKA_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


static char *
sl_kafka_block(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char                  *rv;
    sl_uint_t              m, mi;
    sl_conf_t              pcf;
    sl_module_t           *module;
    sl_kafka_module_t     *kmodule;
    sl_kafka_conf_ctx_t   *ctx;
    sl_kafka_main_conf_t  *kmcf;

    if (*(sl_kafka_conf_ctx_t **) conf) {
        return "is duplicate";
    }

    ctx = sl_pcalloc(cf->pool, sizeof(sl_kafka_conf_ctx_t));
    if (ctx == NULL) {
        return SL_CONF_ERROR;
    }

    *(sl_kafka_conf_ctx_t **) conf = ctx;

    sl_kafka_max_module = sl_count_modules(cf->cycle, SL_KAFKA_MODULE);

    ctx->main_conf = sl_pcalloc(cf->pool,
                                sizeof(void *) * sl_kafka_max_module);
    if (ctx->main_conf == NULL) {
        return SL_CONF_ERROR;
    }

    for (m = 0; cf->cycle->modules[m]; m++) {
        module = cf->cycle->modules[m];

        if (module->type != SL_KAFKA_MODULE) {
            continue;
        }

        kmodule = module->ctx;
        mi = module->ctx_index;

        if (kmodule->create_main_conf) {
            ctx->main_conf[mi] = kmodule->create_main_conf(cf);
            if (ctx->main_conf[mi] == NULL) {
                return SL_CONF_ERROR;
            }
        }
    }

    pcf = *cf;
    cf->ctx = ctx;
    cf->module_type = SL_KAFKA_MODULE;
    cf->cmd_type = SL_KAFKA_MAIN_CONF;

    rv = sl_conf_parse(cf, NULL);

    if (rv != SL_CONF_OK) {
        *cf = pcf;
        return rv;
    }

    for (m = 0; cf->cycle->modules[m]; m++) {
        module = cf->cycle->modules[m];

        if (module->type != SL_KAFKA_MODULE) {
            continue;
        }

        kmodule = module->ctx;
        mi = module->ctx_index;

        if (kmodule->init_main_conf) {
            rv = kmodule->init_main_conf(cf, ctx->main_conf[mi]);
            if (rv != SL_CONF_OK) {
                *cf = pcf;
                return rv;
            }
        }
    }

    for (m = 0; cf->cycle->modules[m]; m++) {
        module = cf->cycle->modules[m];

        if (module->type != SL_KAFKA_MODULE) {
            continue;
        }

        kmodule = module->ctx;

        if (kmodule->postconfiguration) {
            if (kmodule->postconfiguration(cf) != SL_OK) {
                *cf = pcf;
                return SL_CONF_ERROR;
            }
        }
    }

    *cf = pcf;

    kmcf = ctx->main_conf[sl_kafka_core_module.ctx_index];

    if (sl_kafka_add_listening(cf, kmcf) != SL_OK) {
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}


static sl_int_t
sl_kafka_add_listening(sl_conf_t *cf, sl_kafka_main_conf_t *kmcf)
{
    sl_url_t        *u;
    sl_uint_t        i;
    sl_listening_t  *ls;

    u = kmcf->listen.elts;

    for (i = 0; i < kmcf->listen.nelts; i++) {
        ls = sl_create_listening(cf, &u[i].sockaddr.sockaddr, u[i].socklen);
        if (ls == NULL) {
            return SL_ERROR;
        }

        ls->handler = sl_kafka_init_connection;
        ls->servers = kmcf;
        ls->pool_size = 1024;
        ls->logp = cf->cycle->log;
    }

    return SL_OK;
}


static sl_int_t
sl_kafka_init_module(sl_cycle_t *cycle)
{
    sl_uint_t               i;
    sl_kafka_topic_conf_t **topics;
    sl_kafka_main_conf_t   *kmcf;

    kmcf = sl_kafka_cycle_get_module_main_conf(cycle, sl_kafka_core_module);
    if (kmcf == NULL) {
        return SL_OK;
    }

    topics = kmcf->topics.elts;

    for (i = 0; i < kmcf->topics.nelts; i++) {
        if (sl_kafka_apply_topic(kmcf, topics[i], cycle->log) != SL_OK) {
            return SL_ERROR;
        }
    }

    return SL_OK;
}


static sl_int_t
sl_kafka_init_process(sl_cycle_t *cycle)
{
    sl_kafka_main_conf_t  *kmcf;

    kmcf = sl_kafka_cycle_get_module_main_conf(cycle, sl_kafka_core_module);
    if (kmcf == NULL) {
        return SL_OK;
    }

    sl_kafka_metrics_init_process();

    return sl_kafka_fetch_init_process(cycle);
}


/* settings written in a topic block, by their Kafka names, for reloads */

static sl_int_t
sl_kafka_set_config(sl_broker_topic_t *topic, const char *name,
    int64_t value, sl_log_t *log)
{
    u_char    buf[32];
    sl_str_t  n, v;

    n.data = (u_char *) name;
    n.len = sl_strlen(name);
    v.data = buf;
    v.len = sl_slprintf(buf, buf + sizeof(buf), "%lld", (long long) value)
            - buf;

    if (sl_broker_topic_set_config(topic, &n, &v, log) != SL_BROKER_OK) {
        sl_log_error(SL_LOG_WARN, log, 0,
                     "kafka: topic \"%.*s\": cannot apply %s=%.*s",
                     SL_STR_ARG(&topic->name), name, SL_STR_ARG(&v));
    }

    return SL_OK;
}


static sl_int_t
sl_kafka_apply_topic(sl_kafka_main_conf_t *kmcf, sl_kafka_topic_conf_t *ktcf,
    sl_log_t *log)
{
    sl_int_t                 rc, n;
    sl_str_t                 name, value;
    sl_broker_topic_t       *topic;
    sl_broker_topic_conf_t  *c;

    c = &ktcf->conf;
    n = ktcf->partitions;

    topic = sl_broker_topic_find(&ktcf->name);

    if (topic == NULL) {
        rc = sl_kafka_topic_create(kmcf, &ktcf->name, n, c, log, &topic);
        if (rc != SL_BROKER_OK && rc != SL_BROKER_ERR_TOPIC_EXISTS) {
            sl_log_error(SL_LOG_EMERG, log, 0,
                         "kafka: cannot create topic \"%.*s\" (error %d)",
                         SL_STR_ARG(&ktcf->name), (int) rc);
            return SL_ERROR;
        }

        if (rc == SL_BROKER_OK) {
            sl_log_error(SL_LOG_NOTICE, log, 0,
                         "kafka: created topic \"%.*s\"",
                         SL_STR_ARG(&ktcf->name));
            return SL_OK;
        }

        topic = sl_broker_topic_find(&ktcf->name);
        if (topic == NULL) {
            return SL_ERROR;
        }
    }

    if (n > topic->partitions_n) {
        if (sl_broker_topic_add_partitions(topic, n, log) != SL_BROKER_OK) {
            sl_log_error(SL_LOG_EMERG, log, 0,
                         "kafka: cannot grow topic \"%.*s\" to %d partitions",
                         SL_STR_ARG(&ktcf->name), (int) n);
            return SL_ERROR;
        }
    }

    if (c->segment_bytes != SL_CONF_UNSET) {
        sl_kafka_set_config(topic, "segment.bytes", c->segment_bytes, log);
    }

    if (c->segment_ms != SL_CONF_UNSET_MSEC) {
        sl_kafka_set_config(topic, "segment.ms", c->segment_ms, log);
    }

    if (c->index_interval != SL_CONF_UNSET_SIZE) {
        sl_kafka_set_config(topic, "index.interval.bytes",
                            c->index_interval, log);
    }

    if (c->retention_ms == (sl_msec_t) SL_BROKER_CONF_FOREVER) {
        sl_kafka_set_config(topic, "retention.ms", -1, log);

    } else if (c->retention_ms != SL_CONF_UNSET_MSEC) {
        sl_kafka_set_config(topic, "retention.ms", c->retention_ms, log);
    }

    if (c->retention_bytes == SL_BROKER_CONF_FOREVER) {
        sl_kafka_set_config(topic, "retention.bytes", -1, log);

    } else if (c->retention_bytes != SL_CONF_UNSET) {
        sl_kafka_set_config(topic, "retention.bytes", c->retention_bytes,
                            log);
    }

    if (c->delete_retention_ms != SL_CONF_UNSET_MSEC) {
        sl_kafka_set_config(topic, "delete.retention.ms",
                            c->delete_retention_ms, log);
    }

    if (c->max_record_batch_bytes != SL_CONF_UNSET_SIZE) {
        sl_kafka_set_config(topic, "max.message.bytes",
                            c->max_record_batch_bytes, log);
    }

    if (c->cleanup_policy != SL_CONF_UNSET) {
        sl_str_set(&name, "cleanup.policy");

        if (c->cleanup_policy == SL_BROKER_CLEANUP_COMPACT) {
            sl_str_set(&value, "compact");

        } else {
            sl_str_set(&value, "delete");
        }

        (void) sl_broker_topic_set_config(topic, &name, &value, log);
    }

    if (c->compression_type != SL_CONF_UNSET) {
        sl_str_set(&name, "compression.type");

        if (c->compression_type == SL_BROKER_CODEC_PRODUCER) {
            sl_str_set(&value, "producer");

        } else {
            value.data = (u_char *) sl_broker_codec_name(
                                       (sl_uint_t) c->compression_type);
            value.len = sl_strlen(value.data);
        }

        (void) sl_broker_topic_set_config(topic, &name, &value, log);
    }

    if (c->compression_level != SL_CONF_UNSET) {
        sl_kafka_set_config(topic, "compression.level",
                            c->compression_level, log);
    }

    if (c->message_timestamp_type != SL_CONF_UNSET) {
        sl_str_set(&name, "message.timestamp.type");

        if (c->message_timestamp_type) {
            sl_str_set(&value, "LogAppendTime");

        } else {
            sl_str_set(&value, "CreateTime");
        }

        (void) sl_broker_topic_set_config(topic, &name, &value, log);
    }

    return SL_OK;
}


/*
 * The one way topics come to exist from this module: configuration,
 * auto-creation and CreateTopics all end here.
 */

sl_int_t
sl_kafka_topic_create(sl_kafka_main_conf_t *kmcf, sl_str_t *name,
    sl_int_t partitions, sl_broker_topic_conf_t *conf, sl_log_t *log,
    sl_broker_topic_t **topic)
{
    if (partitions <= 0) {
        partitions = kmcf->default_partitions;
    }

    return sl_broker_topic_create(name, partitions, conf, log, topic);
}


sl_int_t
sl_kafka_register_api(sl_kafka_main_conf_t *kmcf, sl_int_t key,
    sl_int_t min_version, sl_int_t max_version, sl_kafka_handler_pt handler)
{
    sl_kafka_msg_t  *msg;

    msg = sl_kafka_msg(key);

    if (msg == NULL
        || min_version < msg->min_version
        || max_version > msg->max_version
        || min_version > max_version)
    {
        return SL_ERROR;
    }

    kmcf->apis[key].min_version = (int16_t) min_version;
    kmcf->apis[key].max_version = (int16_t) max_version;
    kmcf->apis[key].handler = handler;

    return SL_OK;
}


static sl_int_t
sl_kafka_core_postconfiguration(sl_conf_t *cf)
{
    sl_uint_t              i;
    sl_kafka_main_conf_t  *kmcf;

    /* the APIs this module serves, with Kafka 3.9's version ranges */
    static struct {
        sl_int_t             key;
        sl_int_t             min;
        sl_int_t             max;
        sl_kafka_handler_pt  handler;
    } apis[] = {
        { SL_KAFKA_PRODUCE, 0, 11, sl_kafka_produce },
        { SL_KAFKA_FETCH, 0, 17, sl_kafka_fetch },
        { SL_KAFKA_LIST_OFFSETS, 0, 9, sl_kafka_list_offsets },
        { SL_KAFKA_METADATA, 0, 12, sl_kafka_metadata },
        { SL_KAFKA_API_VERSIONS, 0, 4, sl_kafka_api_versions },
        { SL_KAFKA_CREATE_TOPICS, 0, 7, sl_kafka_create_topics },
        { SL_KAFKA_DELETE_TOPICS, 0, 6, sl_kafka_delete_topics },
        { SL_KAFKA_DELETE_RECORDS, 0, 2, sl_kafka_delete_records },
        { SL_KAFKA_OFFSET_FOR_LEADER_EPOCH, 0, 4,
          sl_kafka_offset_for_leader_epoch },
        { SL_KAFKA_DESCRIBE_CONFIGS, 0, 4, sl_kafka_describe_configs },
        { SL_KAFKA_ALTER_CONFIGS, 0, 2, sl_kafka_alter_configs },
        { SL_KAFKA_CREATE_PARTITIONS, 0, 3, sl_kafka_create_partitions },
        { SL_KAFKA_INCREMENTAL_ALTER_CONFIGS, 0, 1,
          sl_kafka_incr_alter_configs },
        { SL_KAFKA_DESCRIBE_CLUSTER, 0, 1, sl_kafka_describe_cluster },
    };

    kmcf = sl_kafka_conf_get_module_main_conf(cf, sl_kafka_core_module);

    for (i = 0; i < sl_nelems(apis); i++) {
        if (sl_kafka_register_api(kmcf, apis[i].key, apis[i].min,
                                  apis[i].max, apis[i].handler)
            != SL_OK)
        {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "kafka: bad version range for API %d",
                              (int) apis[i].key);
            return SL_ERROR;
        }
    }

    return sl_kafka_metrics_configure(cf);
}


static void *
sl_kafka_core_create_main_conf(sl_conf_t *cf)
{
    sl_kafka_main_conf_t  *kmcf;

    kmcf = sl_pcalloc(cf->pool, sizeof(sl_kafka_main_conf_t));
    if (kmcf == NULL) {
        return NULL;
    }

    if (sl_array_init(&kmcf->listen, cf->pool, 2, sizeof(sl_url_t))
        != SL_OK)
    {
        return NULL;
    }

    if (sl_array_init(&kmcf->topics, cf->pool, 4,
                      sizeof(sl_kafka_topic_conf_t *))
        != SL_OK)
    {
        return NULL;
    }

    kmcf->advertised_port = SL_CONF_UNSET;
    kmcf->auto_create_topics = SL_CONF_UNSET;
    kmcf->default_partitions = SL_CONF_UNSET;
    kmcf->max_request_size = SL_CONF_UNSET_SIZE;
    kmcf->buffer_size = SL_CONF_UNSET_SIZE;
    kmcf->idle_timeout = SL_CONF_UNSET_MSEC;
    kmcf->node_id = SL_CONF_UNSET;

    return kmcf;
}


static char *
sl_kafka_core_init_main_conf(sl_conf_t *cf, void *conf)
{
    sl_kafka_main_conf_t *kmcf = conf;

    sl_url_t  *u;

    sl_conf_init_value(kmcf->auto_create_topics, 1);
    sl_conf_init_value(kmcf->default_partitions, 4);
    sl_conf_init_size_value(kmcf->max_request_size, 100 * 1024 * 1024);
    sl_conf_init_size_value(kmcf->buffer_size, 64 * 1024);
    sl_conf_init_msec_value(kmcf->idle_timeout, 600000);
    sl_conf_init_value(kmcf->node_id, 1);

    if (kmcf->buffer_size < 1024) {
        kmcf->buffer_size = 1024;
    }

    if (kmcf->cluster_id.data == NULL) {
        /* 22 characters, as Kafka's base64 UUIDs */
        sl_str_set(&kmcf->cluster_id, "sluice-cluster-0000001");
    }

    if (kmcf->listen.nelts == 0) {
        u = sl_array_push(&kmcf->listen);
        if (u == NULL) {
            return SL_CONF_ERROR;
        }

        sl_memzero(u, sizeof(sl_url_t));
        sl_str_set(&u->url, "9092");
        u->default_port = SL_KAFKA_DEFAULT_PORT;

        if (sl_parse_url(cf->pool, u) != SL_OK) {
            return SL_CONF_ERROR;
        }
    }

    if (kmcf->advertised_port == SL_CONF_UNSET) {
        u = kmcf->listen.elts;

        kmcf->advertised_port = u->port;

        if (u->wildcard || u->host.len == 0) {
            /* a wildcard cannot be advertised: loopback by default */
            sl_str_set(&kmcf->advertised_host, "127.0.0.1");

        } else {
            kmcf->advertised_host = u->host;
        }
    }

    return SL_CONF_OK;
}


static char *
sl_kafka_listen(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_kafka_main_conf_t *kmcf = conf;

    sl_str_t   *value;
    sl_url_t   *u, *prev;
    sl_uint_t   i;

    value = cf->args->elts;

    u = sl_array_push(&kmcf->listen);
    if (u == NULL) {
        return SL_CONF_ERROR;
    }

    sl_memzero(u, sizeof(sl_url_t));
    u->url = value[1];
    u->default_port = SL_KAFKA_DEFAULT_PORT;

    if (sl_parse_url(cf->pool, u) != SL_OK) {
        if (u->err) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "%s in \"%.*s\"",
                              u->err, SL_STR_ARG(&u->url));
        }

        return SL_CONF_ERROR;
    }

    prev = kmcf->listen.elts;

    for (i = 0; i < kmcf->listen.nelts - 1; i++) {
        if (sl_cmp_sockaddr(&prev[i].sockaddr.sockaddr, prev[i].socklen,
                            &u->sockaddr.sockaddr, u->socklen)
            == SL_OK)
        {
            return "duplicates an address";
        }
    }

    return SL_CONF_OK;
}


static char *
sl_kafka_advertised_listener(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_kafka_main_conf_t *kmcf = conf;

    u_char    *colon;
    sl_str_t  *value;
    sl_int_t   port;

    if (kmcf->advertised_port != SL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    colon = NULL;

    if (value[1].len) {
        for (colon = value[1].data + value[1].len - 1;
             colon > value[1].data && *colon != ':';
             colon--)
        {
            /* void */
        }
    }

    if (colon == NULL || *colon != ':' || colon == value[1].data) {
        return "needs HOST:PORT";
    }

    port = sl_atoi(colon + 1, value[1].data + value[1].len - colon - 1);
    if (port < 1 || port > 65535) {
        return "has an invalid port";
    }

    kmcf->advertised_host.data = value[1].data;
    kmcf->advertised_host.len = colon - value[1].data;
    kmcf->advertised_port = port;

    /* "[::1]:9092" advertises "::1" */
    if (kmcf->advertised_host.len > 2
        && kmcf->advertised_host.data[0] == '['
        && kmcf->advertised_host.data[kmcf->advertised_host.len - 1] == ']')
    {
        kmcf->advertised_host.data++;
        kmcf->advertised_host.len -= 2;
    }

    return SL_CONF_OK;
}


static char *
sl_kafka_topic(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_kafka_main_conf_t *kmcf = conf;

    char                    *rv;
    sl_str_t                *value;
    sl_uint_t                i, m, mi;
    sl_conf_t                save;
    sl_module_t             *module;
    sl_kafka_module_t       *kmodule;
    sl_kafka_conf_ctx_t     *ctx;
    sl_kafka_topic_conf_t   *ktcf, **t, **ktcfp;

    value = cf->args->elts;

    if (!sl_broker_topic_name_valid(&value[1])) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid topic name \"%.*s\"",
                          SL_STR_ARG(&value[1]));
        return SL_CONF_ERROR;
    }

    t = kmcf->topics.elts;

    for (i = 0; i < kmcf->topics.nelts; i++) {
        if (t[i]->name.len == value[1].len
            && sl_memcmp(t[i]->name.data, value[1].data, value[1].len) == 0)
        {
            return "is duplicate";
        }
    }

    ktcf = sl_pcalloc(cf->pool, sizeof(sl_kafka_topic_conf_t));
    if (ktcf == NULL) {
        return SL_CONF_ERROR;
    }

    ktcf->name = value[1];
    ktcf->partitions = SL_CONF_UNSET;
    sl_broker_topic_conf_init(&ktcf->conf);

    ktcfp = sl_array_push(&kmcf->topics);
    if (ktcfp == NULL) {
        return SL_CONF_ERROR;
    }

    *ktcfp = ktcf;

    /* every kafka module's configuration for this topic */

    ctx = sl_pcalloc(cf->pool, sizeof(sl_kafka_conf_ctx_t));
    if (ctx == NULL) {
        return SL_CONF_ERROR;
    }

    ctx->main_conf = ((sl_kafka_conf_ctx_t *) cf->ctx)->main_conf;
    ctx->topic_conf = sl_pcalloc(cf->pool,
                                 sizeof(void *) * sl_kafka_max_module);
    if (ctx->topic_conf == NULL) {
        return SL_CONF_ERROR;
    }

    for (m = 0; cf->cycle->modules[m]; m++) {
        module = cf->cycle->modules[m];

        if (module->type != SL_KAFKA_MODULE) {
            continue;
        }

        kmodule = module->ctx;
        mi = module->ctx_index;

        if (kmodule->create_topic_conf) {
            ctx->topic_conf[mi] = kmodule->create_topic_conf(cf);
            if (ctx->topic_conf[mi] == NULL) {
                return SL_CONF_ERROR;
            }
        }
    }

    ktcf->topic_conf = ctx->topic_conf;

    /*
     * The block takes partitions, compression and the log { } settings,
     * then the directives modules declare for SL_KAFKA_TOPIC_CONF.
     */

    save = *cf;
    cf->ctx = ctx;
    cf->cmd_type = SL_KAFKA_TOPIC_CONF;
    cf->handler = sl_kafka_topic_handler;
    cf->handler_conf = ktcf;

    rv = sl_conf_parse(cf, NULL);

    *cf = save;

    if (rv != SL_CONF_OK) {
        return rv;
    }

    return SL_CONF_OK;
}


static char *
sl_kafka_topic_handler(sl_conf_t *cf, sl_command_t *dummy, void *conf)
{
    sl_kafka_topic_conf_t *ktcf = conf;

    sl_int_t   n;
    sl_str_t  *value;

    value = cf->args->elts;

    if (sl_str_eq(&value[0], "partitions")) {
        if (cf->args->nelts != 2) {
            return "takes one number";
        }

        if (ktcf->partitions != SL_CONF_UNSET) {
            return "is duplicate";
        }

        n = sl_atoi(value[1].data, value[1].len);
        if (n < 1 || n > SL_BROKER_MAX_PARTITIONS) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "\"partitions\" must be between 1 and %d",
                              SL_BROKER_MAX_PARTITIONS);
            return SL_CONF_ERROR;
        }

        ktcf->partitions = n;
        return SL_CONF_OK;
    }

    switch (sl_kafka_topic_module_directive(cf)) {

    case SL_OK:
        return SL_CONF_OK;

    case SL_ERROR:
        return SL_CONF_ERROR;

    default:
        return sl_broker_topic_conf_handler(cf, dummy, &ktcf->conf);
    }
}


/*
 * A directive of another kafka module in a topic block (Lua's
 * produce_by_lua_file, ...): sl_conf_parse() does no module dispatch
 * in a block with its own handler, so the topic block does it for its
 * context.  SL_DECLINED when no module declares the name.
 */

static sl_int_t
sl_kafka_topic_module_directive(sl_conf_t *cf)
{
    char                 *rv;
    void                 *conf;
    sl_str_t             *name;
    sl_uint_t             m, nargs, block, ok;
    sl_module_t          *module;
    sl_command_t         *cmd;
    sl_conf_handler_pt    handler;

    name = cf->args->elts;
    nargs = cf->args->nelts - 1;

    /* the token that ended the directive: ';' or '{' */
    block = (cf->conf_file->buffer->pos[-1] == '{');

    for (m = 0; cf->cycle->modules[m]; m++) {
        module = cf->cycle->modules[m];

        if (module->type != SL_KAFKA_MODULE || module->commands == NULL) {
            continue;
        }

        for (cmd = module->commands; cmd->name.len; cmd++) {

            if (cmd->name.len != name->len
                || sl_memcmp(cmd->name.data, name->data, name->len) != 0
                || !(cmd->type & SL_KAFKA_TOPIC_CONF))
            {
                continue;
            }

            if (block != ((cmd->type & SL_CONF_BLOCK) != 0)) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  block ? "directive \"%s\" is not "
                                          "terminated by \";\""
                                        : "directive \"%s\" has no "
                                          "opening \"{\"",
                                  name->data);
                return SL_ERROR;
            }

            if (cmd->type & SL_CONF_ANY) {
                ok = 1;

            } else if (cmd->type & SL_CONF_FLAG) {
                ok = (nargs == 1);

            } else if (cmd->type & SL_CONF_1MORE) {
                ok = (nargs >= 1);

            } else if (cmd->type & SL_CONF_2MORE) {
                ok = (nargs >= 2);

            } else {
                ok = nargs < SL_CONF_MAX_ARGS
                     && (cmd->type & ((sl_uint_t) 1 << nargs));
            }

            if (!ok) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "invalid number of arguments in \"%s\" "
                                  "directive", name->data);
                return SL_ERROR;
            }

            conf = ((sl_kafka_conf_ctx_t *) cf->ctx)
                       ->topic_conf[module->ctx_index];

            /* a block directive may parse its block the usual way */
            handler = cf->handler;
            cf->handler = NULL;

            rv = cmd->set(cf, cmd, conf);

            cf->handler = handler;

            if (rv == SL_CONF_OK) {
                return SL_OK;
            }

            if (rv != SL_CONF_ERROR) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "\"%s\" directive %s",
                                  name->data, rv);
            }

            return SL_ERROR;
        }
    }

    return SL_DECLINED;
}
