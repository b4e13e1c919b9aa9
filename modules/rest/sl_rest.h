
/*
 * The REST proxy: Confluent REST Proxy v2 and v3 over the broker's own
 * topics, partitions and groups, served by the HTTP module from the same
 * workers and the same logs as the Kafka protocol.
 *
 *     location /v3/        { rest_proxy on; }
 *     location /topics/    { rest_proxy on; }
 *
 * One content handler routes every request by its path (whatever the
 * location's prefix) through route tables that the files of the module
 * export: sl_rest_v2.c (v2 produce and metadata), sl_rest_consumer.c (v2
 * consumer instances), sl_rest_v3.c (v3) and sl_rest_read.c (reading
 * records: the browse endpoint and Server-Sent Events).  A handler gets
 * the path's parameters and the parsed JSON body and answers with
 * sl_rest_send() or sl_rest_error(); errors are the proxy's JSON
 * {"error_code":N,"message":"..."}.
 *
 * JSON is Debian's libjansson.
 */

#ifndef _SL_REST_H_INCLUDED_
#define _SL_REST_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>
#include <sl_http.h>
#include <sl_broker.h>
#include <sl_broker_batch.h>
#include <jansson.h>


#define SL_REST_MAX_PARAMS          6

/* which API a route belongs to: its content type and error shape */
#define SL_REST_V2                  2
#define SL_REST_V3                  3

/* what a route does with the request body */
#define SL_REST_BODY_NONE           0   /* a body is read and ignored */
#define SL_REST_BODY_JSON           1   /* exactly one JSON value: rq->json */
#define SL_REST_BODY_RAW            2   /* the bytes in rq->body (several
                                           JSON values: streamed produce) */

/* the proxy's error codes (Confluent's), besides plain HTTP statuses */
#define SL_REST_ERR_TOPIC_NOT_FOUND         40401
#define SL_REST_ERR_PARTITION_NOT_FOUND     40402
#define SL_REST_ERR_CONSUMER_NOT_FOUND      40403
#define SL_REST_ERR_LEADER_NOT_AVAILABLE    40404
#define SL_REST_ERR_UNKNOWN_TOPIC_PARTITION 40403   /* v3's */
#define SL_REST_ERR_GROUP_NOT_FOUND         40403
#define SL_REST_ERR_CONSUMER_EXISTS         40902
#define SL_REST_ERR_UNSUPPORTED_FORMAT      40601
#define SL_REST_ERR_CONSUMER_FORMAT         40601
#define SL_REST_ERR_INVALID_CONSUMER_CONFIG 42204
#define SL_REST_ERR_INVALID_SCHEMA          42205
#define SL_REST_ERR_KAFKA                   50002
#define SL_REST_ERR_KAFKA_RETRIABLE         50003


typedef struct sl_rest_req_s  sl_rest_req_t;

/*
 * A route's handler.  Returns what a content handler returns: the
 * result of sl_rest_send() / sl_rest_error() (SL_OK), SL_DONE or
 * SL_AGAIN when it keeps the request and finalizes it later itself
 * (long polls, streams), or SL_ERROR to close the connection.
 */
typedef sl_int_t (*sl_rest_handler_pt)(sl_rest_req_t *rq);


typedef struct {
    sl_uint_t                methods;       /* SL_HTTP_GET|SL_HTTP_POST... */
    /* a path: "{}" matches one non-empty segment, given to the handler
     * URI-decoded in rq->params; a trailing "/" in the request is ignored;
     * "**" at the end matches the rest (maybe empty) into one param */
    char                    *pattern;
    sl_uint_t                api;           /* SL_REST_V2 or SL_REST_V3 */
    sl_uint_t                body;          /* SL_REST_BODY_* */
    sl_rest_handler_pt       handler;
} sl_rest_route_t;


typedef struct {
    sl_flag_t                enable;        /* rest_proxy on|off */
    sl_msec_t                consumer_instance_timeout;  /* idle expiry */
    sl_msec_t                consumer_request_timeout;   /* records wait */
    size_t                   consumer_max_bytes;         /* per records */
} sl_rest_loc_conf_t;


struct sl_rest_req_s {
    sl_http_request_t       *r;
    sl_rest_route_t         *route;
    sl_rest_loc_conf_t      *conf;

    sl_str_t                 params[SL_REST_MAX_PARAMS];
    sl_uint_t                nparams;

    json_t                  *json;          /* SL_REST_BODY_JSON; freed
                                               with the request */
    sl_str_t                 body;          /* the raw body, contiguous */

    sl_int_t                 rc;            /* what the last send or
                                               error returned */
    void                    *data;          /* the handler's own */
};


/* the route tables, each ended by an entry with a NULL pattern */
extern sl_rest_route_t  sl_rest_v2_routes[];
extern sl_rest_route_t  sl_rest_consumer_routes[];
extern sl_rest_route_t  sl_rest_v3_routes[];
extern sl_rest_route_t  sl_rest_read_routes[];


/*
 * Answers with json (the reference is taken, also on failure): the
 * content type is the route's API's (application/vnd.kafka.v2+json or
 * application/json); status 204 sends no body (json may be NULL).
 */
sl_int_t sl_rest_send(sl_rest_req_t *rq, sl_uint_t status, json_t *json);
/* {"error_code":code,"message":...} with HTTP status; code 0: status */
sl_int_t sl_rest_error(sl_rest_req_t *rq, sl_uint_t status, sl_int_t code,
    const char *fmt, ...);
/* an SL_BROKER_ERR_* as the proxy answers it (404 40401, 500 50002 ...) */
sl_int_t sl_rest_broker_error(sl_rest_req_t *rq, sl_int_t err,
    const char *what);

/* a query argument, URI-decoded into the pool: SL_OK or SL_DECLINED */
sl_int_t sl_rest_arg(sl_rest_req_t *rq, const char *name, sl_str_t *value);
/* a query argument as an integer: SL_OK, SL_DECLINED (absent), SL_ERROR */
sl_int_t sl_rest_arg_int(sl_rest_req_t *rq, const char *name,
    int64_t *value);
/* a request header by name, or NULL */
sl_str_t *sl_rest_header(sl_rest_req_t *rq, const char *name);

/* this broker as the APIs show it (the kafka module's settings, or
 * defaults without it) */
sl_str_t *sl_rest_cluster_id(void);
sl_int_t sl_rest_node_id(void);
void sl_rest_advertised(sl_str_t *host, sl_int_t *port);

/* the partition Java's default partitioner picks for a key (murmur2) */
int32_t sl_rest_partition_for_key(u_char *key, size_t len, int32_t n);

/*
 * Produces records to one partition as one batch (CreateTime, the
 * topic's compression applies through the produce filters), through the
 * produce phase like any Kafka produce; wakes the waiting readers.
 * Records' timestamps of -1 mean now.  *base_offset is the first
 * record's offset (-1 if the filters dropped them all).  Returns an
 * SL_BROKER_ERR_*; *error (may be NULL) says why a filter refused.
 */
sl_int_t sl_rest_produce(sl_rest_req_t *rq, sl_broker_partition_t *part,
    sl_broker_batch_record_t *records, sl_uint_t n, int64_t *base_offset,
    sl_str_t *error);

/* bytes as JSON: binary is base64 text, json is the parsed value
 * (NULL if not JSON), string is the bytes as a string; a null
 * (len -1) is JSON null */
#define SL_REST_FMT_BINARY          0
#define SL_REST_FMT_JSON            1
#define SL_REST_FMT_STRING          2
json_t *sl_rest_bytes_json(sl_broker_bytes_t *b, sl_uint_t format);
/* the reverse, into the pool: SL_OK, or SL_ERROR with a bad value */
sl_int_t sl_rest_json_bytes(sl_rest_req_t *rq, json_t *v, sl_uint_t format,
    sl_broker_bytes_t *out);

/* a topic by name; NULL after sending 404 (v2's 40401, v3's 40403) --
 * the handler then returns rq->rc */
sl_broker_topic_t *sl_rest_topic(sl_rest_req_t *rq, sl_str_t *name);
/* a partition of topic by the path's id; NULL after sending 404: v2's
 * 40402, v3's "Partition N cannot be found." */
sl_broker_partition_t *sl_rest_partition(sl_rest_req_t *rq,
    sl_broker_topic_t *topic, sl_str_t *id);
/* the path's first parameter must be this cluster's id; SL_DECLINED
 * after sending 404 */
sl_int_t sl_rest_cluster_check(sl_rest_req_t *rq);


/*
 * Reading records (sl_rest_read.c, used by consumers and streams too).
 * sl_rest_fetch() walks the records of part from offset on, at most
 * max_bytes of batches (at least one batch) and max_records records
 * (0: no limit), opening compressed batches, skipping control batches
 * and records before offset; handler is called per record with its
 * absolute offset and returns SL_OK to go on, SL_DONE to stop after
 * this record, SL_DECLINED to stop before it (not taken: *next is its
 * offset), or SL_ERROR.  *next is the offset to read from next time.
 * Decompressed batches are allocated from pool (use a short-lived one
 * in loops).  Returns SL_OK, SL_ERROR (from the handler),
 * SL_BROKER_ERR_OUT_OF_RANGE, or another SL_BROKER_ERR_*.
 */
typedef sl_int_t (*sl_rest_record_pt)(void *data, sl_broker_partition_t *part,
    int64_t offset, sl_broker_batch_record_t *rec);

sl_int_t sl_rest_fetch(sl_pool_t *pool, sl_log_t *log,
    sl_broker_partition_t *part, int64_t offset, size_t max_bytes,
    sl_uint_t max_records, sl_rest_record_pt handler, void *data,
    int64_t *next);

/* one record as JSON: {"topic","partition","offset","timestamp","key",
 * "value","headers":[{"key","value"}]}, key and value by format, header
 * values base64 for binary, else strings */
json_t *sl_rest_record_json(sl_broker_partition_t *part, int64_t offset,
    sl_broker_batch_record_t *rec, sl_uint_t format);

/*
 * Waiting for records, in the event loop: a waiter is called back once
 * after the next append to any partition by any worker (a doorbell) or
 * when its timer (if set by the caller) fires; it checks its own
 * partitions and waits again if it wants.  Thousands of idle waiters
 * cost a queue link each.  Call sl_rest_wait() BEFORE the last check of
 * the end offsets (then sl_rest_wait_cancel() if records are there), so
 * an append in between is not missed.  A waiter must be cancelled
 * before its memory goes (a pool cleanup); handler and data are the
 * caller's to set.
 */
typedef struct sl_rest_waiter_s  sl_rest_waiter_t;
typedef void (*sl_rest_wake_pt)(sl_rest_waiter_t *w);

struct sl_rest_waiter_s {
    sl_queue_t               queue;
    sl_rest_wake_pt          handler;
    void                    *data;
    unsigned                 waiting:1;
};

void sl_rest_wait(sl_rest_waiter_t *w);
void sl_rest_wait_cancel(sl_rest_waiter_t *w);


/* sl_rest_consumer.c: the consumer instances' shared zone (rest_proxy on) */
sl_int_t sl_rest_consumer_configure(sl_conf_t *cf);
/* a new worker looks after the instances a previous one left (reload) */
void sl_rest_consumer_init_process(sl_cycle_t *cycle);


extern sl_module_t  sl_rest_module;


#endif /* _SL_REST_H_INCLUDED_ */
