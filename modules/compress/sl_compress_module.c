
/*
 * The compress module: registers the codecs with the core and the
 * produce filter that stores batches under the topic's compression
 * (Kafka's compression.type), and takes one directive, in the main
 * context:
 *
 *     max_decompressed_batch_bytes  64m;
 *
 * the most a batch may decompress to wherever the broker looks inside
 * one (recompression, Lua, HTTP consumers, compaction).
 *
 * The per-topic setting itself, `compression producer|none|gzip|snappy|
 * lz4|zstd` and `compression_level N`, lives with the other topic
 * settings in the broker (sl_broker_topic_conf_t).  "producer" stores a
 * batch as the client sent it, without looking inside; any other value
 * recompresses a batch whose codec differs, checking its records on
 * the way, and a batch that cannot be read is refused (CORRUPT_MESSAGE).
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>
#include <sl_compress.h>


static void *sl_compress_create_conf(sl_cycle_t *cycle);
static char *sl_compress_init_conf(sl_cycle_t *cycle, void *conf);
static void sl_compress_topic_codec(sl_broker_topic_t *topic,
    sl_int_t *codec, sl_int_t *level);


static sl_command_t  sl_compress_commands[] = {

    { sl_string("max_decompressed_batch_bytes"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_TAKE1,
      sl_conf_set_size_slot,
      0,
      offsetof(sl_compress_conf_t, max_decompressed),
      NULL },

      sl_null_command
};


static sl_core_module_t  sl_compress_module_ctx = {
    sl_string("compress"),
    sl_compress_create_conf,
    sl_compress_init_conf
};


sl_module_t  sl_compress_module = {
    SL_MODULE_V1,
    &sl_compress_module_ctx,               /* module context */
    sl_compress_commands,                  /* module directives */
    SL_CORE_MODULE,                        /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


static void *
sl_compress_create_conf(sl_cycle_t *cycle)
{
    sl_compress_conf_t  *ccf;

    ccf = sl_pcalloc(cycle->pool, sizeof(sl_compress_conf_t));
    if (ccf == NULL) {
        return NULL;
    }

    ccf->max_decompressed = SL_CONF_UNSET_SIZE;

    /*
     * Before the configuration is parsed: topic blocks that name a codec
     * find it registered.
     */

    sl_compress_register();

    return ccf;
}


static char *
sl_compress_init_conf(sl_cycle_t *cycle, void *conf)
{
    sl_compress_conf_t  *ccf = conf;

    sl_conf_init_size_value(ccf->max_decompressed,
                            SL_BROKER_BATCH_MAX_DECOMPRESSED);

    if (ccf->max_decompressed < SL_BROKER_BATCH_HEADER_SIZE) {
        sl_log_error(SL_LOG_EMERG, cycle->log, 0,
                     "\"max_decompressed_batch_bytes\" is too small");
        return SL_CONF_ERROR;
    }

    sl_broker_batch_max_decompressed = ccf->max_decompressed;

    if (sl_broker_produce_filter_add(SL_BROKER_FILTER_ENCODE,
                                     sl_compress_produce_filter)
        != SL_OK)
    {
        sl_log_error(SL_LOG_EMERG, cycle->log, 0,
                     "compress: too many produce filters");
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}


sl_int_t
sl_compress_produce_filter(sl_broker_produce_t *pr)
{
    sl_int_t     codec, level, rc;
    sl_str_t     out;
    uint16_t     attributes;
    const char  *error;

    sl_compress_topic_codec(pr->topic, &codec, &level);

    if (codec < 0 || codec >= SL_BROKER_CODEC_N) {
        return SL_BROKER_OK;                  /* "producer": as sent */
    }

    if (pr->len < SL_BROKER_BATCH_HEADER_SIZE) {
        return SL_BROKER_ERR_CORRUPT;
    }

    attributes = sl_broker_get16(pr->batch + SL_BROKER_B_ATTRIBUTES);

    /* control batches (transaction markers) are never compressed */

    if ((attributes & SL_BROKER_BATCH_CONTROL)
        || (sl_int_t) (attributes & SL_BROKER_BATCH_CODEC_MASK) == codec)
    {
        return SL_BROKER_OK;
    }

    /* a level that the codec does not take (set for another): default */

    if (sl_compress_level_valid((sl_uint_t) codec, level) != SL_OK) {
        level = 0;
    }

    rc = sl_broker_batch_recompress(pr->batch, pr->len, (sl_uint_t) codec,
                                    level, sl_broker_batch_max_decompressed,
                                    pr->pool, &out, &error, pr->log);

    if (rc != SL_BROKER_OK) {
        if (error == NULL) {
            error = "recompression failed";
        }

        sl_log_error(SL_LOG_INFO, pr->log, 0,
                     "topic \"%.*s\" partition %d: batch refused: %s",
                     (int) pr->topic->name.len, pr->topic->name.data,
                     (int) pr->partition->id, error);

        pr->error.data = (u_char *) error;
        pr->error.len = sl_strlen(error);

        switch (rc) {

        case SL_BROKER_ERR_TOO_LARGE:
        case SL_BROKER_ERR_NO_MEMORY:
            return rc;

        default:
            return SL_BROKER_ERR_CORRUPT;
        }
    }

    pr->batch = out.data;
    pr->len = out.len;

    return SL_BROKER_OK;
}


static void
sl_compress_topic_codec(sl_broker_topic_t *topic, sl_int_t *codec,
    sl_int_t *level)
{
#ifdef SL_BROKER_CF_COMPRESSION
    *codec = topic->conf.compression_type;
    *level = (topic->conf.compression_level > 0)
             ? topic->conf.compression_level : 0;
#else
    *codec = SL_BROKER_CODEC_PRODUCER;
    *level = 0;
#endif
}
