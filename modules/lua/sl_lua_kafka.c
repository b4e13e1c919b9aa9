
/*
 * Lua in the kafka { } block, per topic:
 *
 *     kafka {
 *         topic orders {
 *             partitions 4;
 *             produce_by_lua_block { local rec = ... return rec }
 *         }
 *         topic audit { produce_by_lua_file lua/audit.lua; }
 *     }
 *
 * The directives live in the topic block's own context
 * (SL_KAFKA_TOPIC_CONF, one configuration per module per topic); after
 * the block, the topics that have a chunk are handed to the
 * protocol-independent produce filter (sl_lua_produce.c).
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_kafka.h>
#include <sl_lua.h>


typedef struct {
    sl_lua_chunk_t           produce;
} sl_kafka_lua_topic_conf_t;


static sl_int_t sl_kafka_lua_postconfiguration(sl_conf_t *cf);
static void *sl_kafka_lua_create_topic_conf(sl_conf_t *cf);


static sl_command_t  sl_kafka_lua_commands[] = {

    { sl_string("produce_by_lua_block"),
      SL_KAFKA_TOPIC_CONF|SL_CONF_BLOCK|SL_CONF_NOARGS,
      sl_lua_set_chunk,
      SL_KAFKA_TOPIC_CONF_OFFSET,
      offsetof(sl_kafka_lua_topic_conf_t, produce),
      NULL },

    { sl_string("produce_by_lua_file"),
      SL_KAFKA_TOPIC_CONF|SL_CONF_TAKE1,
      sl_lua_set_chunk,
      SL_KAFKA_TOPIC_CONF_OFFSET,
      offsetof(sl_kafka_lua_topic_conf_t, produce),
      NULL },

      sl_null_command
};


static sl_kafka_module_t  sl_kafka_lua_module_ctx = {
    sl_kafka_lua_postconfiguration,        /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    sl_kafka_lua_create_topic_conf         /* create topic configuration */
};


sl_module_t  sl_kafka_lua_module = {
    SL_MODULE_V1,
    &sl_kafka_lua_module_ctx,              /* module context */
    sl_kafka_lua_commands,                 /* module directives */
    SL_KAFKA_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


static void *
sl_kafka_lua_create_topic_conf(sl_conf_t *cf)
{
    sl_kafka_lua_topic_conf_t  *ltcf;

    ltcf = sl_pcalloc(cf->pool, sizeof(sl_kafka_lua_topic_conf_t));
    if (ltcf == NULL) {
        return NULL;
    }

    ltcf->produce.ref = LUA_NOREF;

    return ltcf;
}


static sl_int_t
sl_kafka_lua_postconfiguration(sl_conf_t *cf)
{
    sl_uint_t                   i;
    sl_lua_produce_t           *lp;
    sl_lua_main_conf_t         *lmcf;
    sl_kafka_main_conf_t       *kmcf;
    sl_kafka_topic_conf_t     **topics;
    sl_kafka_lua_topic_conf_t  *ltcf;

    lmcf = sl_lua_conf_main_conf(cf);
    kmcf = sl_kafka_conf_get_module_main_conf(cf, sl_kafka_core_module);

    if (lmcf == NULL || kmcf == NULL) {
        return SL_OK;
    }

    topics = kmcf->topics.elts;

    for (i = 0; i < kmcf->topics.nelts; i++) {

        if (topics[i]->topic_conf == NULL) {
            continue;
        }

        ltcf = topics[i]->topic_conf[sl_kafka_lua_module.ctx_index];

        if (ltcf == NULL || ltcf->produce.ref == LUA_NOREF) {
            continue;
        }

        lp = sl_array_push(&lmcf->produce);
        if (lp == NULL) {
            return SL_ERROR;
        }

        lp->topic = topics[i]->name;
        lp->chunk = ltcf->produce;
    }

    return SL_OK;
}
