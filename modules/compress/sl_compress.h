
/*
 * The compress module: the four codecs of Kafka record batches through
 * Debian's libraries, registered with the core's codec registry
 * (sl_broker_batch.h), and the produce filter that recompresses batches
 * for topics with a compression other than "producer".
 */

#ifndef _SL_COMPRESS_H_INCLUDED_
#define _SL_COMPRESS_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_batch.h>
#include <sl_broker_filter.h>


/* xerial framing (snappy-java, kafka-python): magic, version, compat */
#define SL_COMPRESS_XERIAL_MAGIC      "\x82SNAPPY\0"
#define SL_COMPRESS_XERIAL_MAGIC_LEN  8
#define SL_COMPRESS_XERIAL_HEADER     16
#define SL_COMPRESS_XERIAL_BLOCK      (32 * 1024)


typedef struct {
    size_t                   max_decompressed;
} sl_compress_conf_t;


/*
 * The codecs, with the registry's signatures (sl_broker_decompress_pt,
 * sl_broker_compress_pt).  Snappy decompresses raw blocks and xerial
 * frames; it compresses to one raw block, as librdkafka does.
 */
sl_int_t sl_compress_gzip_decompress(u_char *in, size_t len, size_t max,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log);
sl_int_t sl_compress_gzip_compress(u_char *in, size_t len, sl_int_t level,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log);
sl_int_t sl_compress_snappy_decompress(u_char *in, size_t len, size_t max,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log);
sl_int_t sl_compress_snappy_compress(u_char *in, size_t len, sl_int_t level,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log);
/* the xerial framing, for tests and for clients that need it */
sl_int_t sl_compress_snappy_xerial_compress(u_char *in, size_t len,
    sl_int_t level, sl_pool_t *pool, sl_str_t *out, sl_log_t *log);
sl_int_t sl_compress_lz4_decompress(u_char *in, size_t len, size_t max,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log);
sl_int_t sl_compress_lz4_compress(u_char *in, size_t len, sl_int_t level,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log);
sl_int_t sl_compress_zstd_decompress(u_char *in, size_t len, size_t max,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log);
sl_int_t sl_compress_zstd_compress(u_char *in, size_t len, sl_int_t level,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log);

/* registers the four codecs with the core (idempotent) */
void sl_compress_register(void);
/* the valid compression levels of a codec; SL_ERROR if level is not */
sl_int_t sl_compress_level_valid(sl_uint_t codec, sl_int_t level);

/* the produce filter (SL_BROKER_FILTER_ENCODE) */
sl_int_t sl_compress_produce_filter(sl_broker_produce_t *pr);


extern sl_module_t  sl_compress_module;


#endif /* _SL_COMPRESS_H_INCLUDED_ */
