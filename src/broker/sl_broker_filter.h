
/*
 * The produce phase shared by every protocol: a batch received by Kafka
 * produce, the REST proxy or a stream processor passes through the
 * filters that modules registered (Lua transforms, recompression) before
 * sl_broker_log_append().  The protocol module calls
 * sl_broker_produce_filters(); the core names no filtering module.
 */

#ifndef _SL_BROKER_FILTER_H_INCLUDED_
#define _SL_BROKER_FILTER_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>


/* stages run in this order; filters of one stage in registration order */
#define SL_BROKER_FILTER_TRANSFORM   0     /* look at and change records */
#define SL_BROKER_FILTER_ENCODE      1     /* recompress what is stored */
#define SL_BROKER_FILTER_STAGES      2

#define SL_BROKER_FILTER_MAX         16


typedef struct {
    sl_broker_topic_t       *topic;
    sl_broker_partition_t   *partition;

    /*
     * One record batch (magic 2), CRC already checked.  A filter that
     * changes it points batch at a new one allocated from pool; len 0
     * means every record was dropped and nothing is appended.
     */
    u_char                  *batch;
    size_t                   len;

    sl_pool_t               *pool;       /* the request's */
    sl_log_t                *log;

    /* why a batch was refused, for the client (POLICY_VIOLATION) */
    sl_str_t                 error;
} sl_broker_produce_t;


/* returns SL_BROKER_OK or an SL_BROKER_ERR_* that refuses the batch */
typedef sl_int_t (*sl_broker_produce_filter_pt)(sl_broker_produce_t *pr);


/* at configuration time; adding the same filter again is a no-op */
sl_int_t sl_broker_produce_filter_add(sl_uint_t stage,
    sl_broker_produce_filter_pt filter);
sl_int_t sl_broker_produce_filters(sl_broker_produce_t *pr);


#endif /* _SL_BROKER_FILTER_H_INCLUDED_ */
