
/*
 * sl_kafka_group_module: consumer groups for Kafka clients.  Registers
 * the group APIs with Kafka 3.9's version ranges and takes these
 * directives inside kafka { }:
 *
 *     group_initial_rebalance_delay  3s;   # Kafka's default
 *     group_min_session_timeout      6s;
 *     group_max_session_timeout      30m;
 *     offsets_retention              7d;
 *     offsets_topic_partitions       8;    # Kafka has 50; one node
 *                                          # needs fewer files
 *     group_zone_size                16m;  # groups, members, offsets
 *
 * The coordinator itself is src/broker/sl_broker_group.c; the master
 * creates and replays __consumer_offsets in init_module, after the
 * broker module has opened the logs.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_kafka.h>
#include <sl_kafka_group.h>


static sl_int_t sl_kafka_group_postconfiguration(sl_conf_t *cf);
static void *sl_kafka_group_create_main_conf(sl_conf_t *cf);
static char *sl_kafka_group_init_main_conf(sl_conf_t *cf, void *conf);
static sl_int_t sl_kafka_group_init_module(sl_cycle_t *cycle);
static sl_int_t sl_kafka_group_module_init_process(sl_cycle_t *cycle);


static sl_conf_num_bounds_t  sl_kafka_group_partitions_bounds = {
    sl_conf_check_num_bounds, 1, 1024
};


static sl_command_t  sl_kafka_group_commands[] = {

    { sl_string("group_initial_rebalance_delay"),
      SL_KAFKA_MAIN_CONF|SL_CONF_TAKE1,
      sl_conf_set_msec_slot,
      SL_KAFKA_MAIN_CONF_OFFSET,
      offsetof(sl_kafka_group_conf_t, conf.initial_rebalance_delay),
      NULL },

    { sl_string("group_min_session_timeout"),
      SL_KAFKA_MAIN_CONF|SL_CONF_TAKE1,
      sl_conf_set_msec_slot,
      SL_KAFKA_MAIN_CONF_OFFSET,
      offsetof(sl_kafka_group_conf_t, conf.min_session_timeout),
      NULL },

    { sl_string("group_max_session_timeout"),
      SL_KAFKA_MAIN_CONF|SL_CONF_TAKE1,
      sl_conf_set_msec_slot,
      SL_KAFKA_MAIN_CONF_OFFSET,
      offsetof(sl_kafka_group_conf_t, conf.max_session_timeout),
      NULL },

    { sl_string("offsets_retention"),
      SL_KAFKA_MAIN_CONF|SL_CONF_TAKE1,
      sl_conf_set_msec_slot,
      SL_KAFKA_MAIN_CONF_OFFSET,
      offsetof(sl_kafka_group_conf_t, conf.offsets_retention),
      NULL },

    { sl_string("offsets_topic_partitions"),
      SL_KAFKA_MAIN_CONF|SL_CONF_TAKE1,
      sl_conf_set_num_slot,
      SL_KAFKA_MAIN_CONF_OFFSET,
      offsetof(sl_kafka_group_conf_t, conf.offsets_topic_partitions),
      &sl_kafka_group_partitions_bounds },

    { sl_string("group_zone_size"),
      SL_KAFKA_MAIN_CONF|SL_CONF_TAKE1,
      sl_conf_set_size_slot,
      SL_KAFKA_MAIN_CONF_OFFSET,
      offsetof(sl_kafka_group_conf_t, conf.zone_size),
      NULL },

      sl_null_command
};


static sl_kafka_module_t  sl_kafka_group_module_ctx = {
    sl_kafka_group_postconfiguration,      /* postconfiguration */
    sl_kafka_group_create_main_conf,       /* create main configuration */
    sl_kafka_group_init_main_conf,         /* init main configuration */
    NULL                                   /* create topic configuration */
};


sl_module_t  sl_kafka_group_module = {
    SL_MODULE_V1,
    &sl_kafka_group_module_ctx,            /* module context */
    sl_kafka_group_commands,               /* module directives */
    SL_KAFKA_MODULE,                       /* module type */
    NULL,                                  /* init master */
    sl_kafka_group_init_module,            /* init module */
    sl_kafka_group_module_init_process,    /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


static void *
sl_kafka_group_create_main_conf(sl_conf_t *cf)
{
    sl_kafka_group_conf_t  *kgcf;

    kgcf = sl_pcalloc(cf->pool, sizeof(sl_kafka_group_conf_t));
    if (kgcf == NULL) {
        return NULL;
    }

    kgcf->conf.initial_rebalance_delay = SL_CONF_UNSET_MSEC;
    kgcf->conf.min_session_timeout = SL_CONF_UNSET_MSEC;
    kgcf->conf.max_session_timeout = SL_CONF_UNSET_MSEC;
    kgcf->conf.offsets_retention = SL_CONF_UNSET_MSEC;
    kgcf->conf.offsets_topic_partitions = SL_CONF_UNSET;
    kgcf->conf.zone_size = SL_CONF_UNSET_SIZE;

    return kgcf;
}


static char *
sl_kafka_group_init_main_conf(sl_conf_t *cf, void *conf)
{
    sl_kafka_group_conf_t *kgcf = conf;

    sl_broker_group_conf_t  *c;

    c = &kgcf->conf;

    sl_conf_init_msec_value(c->initial_rebalance_delay, 3000);
    sl_conf_init_msec_value(c->min_session_timeout, 6000);
    sl_conf_init_msec_value(c->max_session_timeout, 1800000);
    sl_conf_init_msec_value(c->offsets_retention, 7 * 24 * 3600 * 1000);
    sl_conf_init_value(c->offsets_topic_partitions, 8);
    sl_conf_init_size_value(c->zone_size, 16 * 1024 * 1024);

    if (c->min_session_timeout > c->max_session_timeout) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "\"group_min_session_timeout\" is greater than "
                          "\"group_max_session_timeout\"");
        return SL_CONF_ERROR;
    }

    if (c->max_session_timeout > INT32_MAX) {
        return "\"group_max_session_timeout\" is too large";
    }

    if (c->offsets_retention == 0) {
        return "\"offsets_retention\" must not be zero";
    }

    if (c->zone_size < 256 * 1024) {
        return "\"group_zone_size\" must be at least 256k";
    }

    return SL_CONF_OK;
}


static sl_int_t
sl_kafka_group_postconfiguration(sl_conf_t *cf)
{
    sl_uint_t               i;
    sl_kafka_main_conf_t   *kmcf;
    sl_kafka_group_conf_t  *kgcf;

    /* Kafka 3.9's ranges */
    static struct {
        sl_int_t             key;
        sl_int_t             min;
        sl_int_t             max;
        sl_kafka_handler_pt  handler;
    } apis[] = {
        { SL_KAFKA_FIND_COORDINATOR, 0, 4, sl_kafka_find_coordinator },
        { SL_KAFKA_JOIN_GROUP, 0, 9, sl_kafka_join_group },
        { SL_KAFKA_SYNC_GROUP, 0, 5, sl_kafka_sync_group },
        { SL_KAFKA_HEARTBEAT, 0, 4, sl_kafka_heartbeat },
        { SL_KAFKA_LEAVE_GROUP, 0, 5, sl_kafka_leave_group },
        { SL_KAFKA_OFFSET_COMMIT, 0, 9, sl_kafka_offset_commit },
        { SL_KAFKA_OFFSET_FETCH, 0, 9, sl_kafka_offset_fetch },
        { SL_KAFKA_DESCRIBE_GROUPS, 0, 5, sl_kafka_describe_groups },
        { SL_KAFKA_LIST_GROUPS, 0, 5, sl_kafka_list_groups },
        { SL_KAFKA_DELETE_GROUPS, 0, 2, sl_kafka_delete_groups },
        { SL_KAFKA_OFFSET_DELETE, 0, 0, sl_kafka_offset_delete },
    };

    kmcf = sl_kafka_conf_get_module_main_conf(cf, sl_kafka_core_module);
    kgcf = sl_kafka_conf_get_module_main_conf(cf, sl_kafka_group_module);

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

    return sl_broker_group_configure(cf, &kgcf->conf);
}


static sl_int_t
sl_kafka_group_init_module(sl_cycle_t *cycle)
{
    if (sl_kafka_cycle_get_module_main_conf(cycle, sl_kafka_group_module)
        == NULL)
    {
        return SL_OK;
    }

    return sl_broker_group_init(cycle->log);
}


static sl_int_t
sl_kafka_group_module_init_process(sl_cycle_t *cycle)
{
    if (sl_kafka_cycle_get_module_main_conf(cycle, sl_kafka_group_module)
        == NULL)
    {
        return SL_OK;
    }

    return sl_kafka_group_init_process(cycle);
}
