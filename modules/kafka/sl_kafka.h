
/*
 * The Kafka protocol module: the kafka { } block and its configuration,
 * the per-connection session with its in-order queue of requests, the
 * registry of API handlers (SL_KAFKA_MODULE modules add theirs in
 * postconfiguration), and the handlers of each API family.
 */

#ifndef _SL_KAFKA_H_INCLUDED_
#define _SL_KAFKA_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_kafka_proto.h>
#include <sl_kafka_msgs.h>


#define SL_KAFKA_MODULE            0x4b41464b     /* "KAFK" */

#define SL_KAFKA_MAIN_CONF         0x02000000
#define SL_KAFKA_TOPIC_CONF        0x04000000   /* in topic NAME { } */

#define SL_KAFKA_MAIN_CONF_OFFSET  offsetof(sl_kafka_conf_ctx_t, main_conf)
#define SL_KAFKA_TOPIC_CONF_OFFSET offsetof(sl_kafka_conf_ctx_t, topic_conf)


/* Kafka's error codes */
#define SL_KAFKA_UNKNOWN_SERVER_ERROR          -1
#define SL_KAFKA_NONE                          0
#define SL_KAFKA_OFFSET_OUT_OF_RANGE           1
#define SL_KAFKA_CORRUPT_MESSAGE               2
#define SL_KAFKA_UNKNOWN_TOPIC_OR_PARTITION    3
#define SL_KAFKA_LEADER_NOT_AVAILABLE          5
#define SL_KAFKA_NOT_LEADER_OR_FOLLOWER        6
#define SL_KAFKA_REQUEST_TIMED_OUT             7
#define SL_KAFKA_MESSAGE_TOO_LARGE             10
#define SL_KAFKA_INVALID_TOPIC_EXCEPTION       17
#define SL_KAFKA_RECORD_LIST_TOO_LARGE         18
#define SL_KAFKA_INVALID_REQUIRED_ACKS         21
#define SL_KAFKA_INVALID_TIMESTAMP             32
#define SL_KAFKA_UNSUPPORTED_VERSION           35
#define SL_KAFKA_TOPIC_ALREADY_EXISTS          36
#define SL_KAFKA_INVALID_PARTITIONS            37
#define SL_KAFKA_INVALID_REPLICATION_FACTOR    38
#define SL_KAFKA_INVALID_REPLICA_ASSIGNMENT    39
#define SL_KAFKA_INVALID_CONFIG                40
#define SL_KAFKA_INVALID_REQUEST               42
#define SL_KAFKA_UNSUPPORTED_FOR_MESSAGE_FORMAT 43
#define SL_KAFKA_POLICY_VIOLATION              44
#define SL_KAFKA_KAFKA_STORAGE_ERROR           56
#define SL_KAFKA_UNKNOWN_LEADER_EPOCH          75
#define SL_KAFKA_UNSUPPORTED_COMPRESSION_TYPE  76
#define SL_KAFKA_INVALID_RECORD                87
#define SL_KAFKA_UNKNOWN_TOPIC_ID              100
#define SL_KAFKA_INCONSISTENT_TOPIC_ID         103
#define SL_KAFKA_UNSUPPORTED_ENDPOINT_TYPE     119

/* "not requested" in the authorized-operations fields */
#define SL_KAFKA_AUTHORIZED_OPS_OMITTED        INT32_MIN

/* responses queued and unsent before a connection stops reading */
#define SL_KAFKA_MAX_PIPELINE                  64


typedef struct sl_kafka_request_s  sl_kafka_request_t;
typedef struct sl_kafka_session_s  sl_kafka_session_t;

/*
 * A handler fills r->resp from r->req and returns SL_OK (send it),
 * SL_DONE (no response: produce with acks 0), SL_AGAIN (it calls
 * sl_kafka_request_finalize() later; r->req may point into the read
 * buffer, so it copies what it keeps) or SL_ERROR (close).
 */
typedef sl_int_t (*sl_kafka_handler_pt)(sl_kafka_request_t *r);


typedef struct {
    void                   **main_conf;
    void                   **topic_conf;     /* in a topic { } block */
} sl_kafka_conf_ctx_t;


/*
 * A module's directives of the SL_KAFKA_TOPIC_CONF context get the
 * configuration create_topic_conf made for that topic; the module finds
 * them again, by topic, in sl_kafka_topic_conf_t.topic_conf.
 */
typedef struct {
    sl_int_t               (*postconfiguration)(sl_conf_t *cf);
    void                  *(*create_main_conf)(sl_conf_t *cf);
    char                  *(*init_main_conf)(sl_conf_t *cf, void *conf);
    void                  *(*create_topic_conf)(sl_conf_t *cf);
} sl_kafka_module_t;


typedef struct {
    int16_t                  min_version;    /* as advertised */
    int16_t                  max_version;
    sl_kafka_handler_pt      handler;
} sl_kafka_api_t;


typedef struct {
    sl_array_t               listen;         /* of sl_url_t */
    sl_str_t                 advertised_host;
    sl_int_t                 advertised_port;
    sl_flag_t                auto_create_topics;
    sl_int_t                 default_partitions;
    size_t                   max_request_size;
    size_t                   buffer_size;
    sl_msec_t                idle_timeout;
    sl_int_t                 node_id;
    sl_str_t                 cluster_id;
    sl_array_t               topics;         /* of sl_kafka_topic_conf_t * */

    sl_kafka_api_t           apis[SL_KAFKA_API_MAX];
} sl_kafka_main_conf_t;


/*
 * topic NAME { partitions N; <the log { } settings> }: created at start
 * if missing
 */
typedef struct {
    sl_str_t                 name;
    sl_int_t                 partitions;
    sl_broker_topic_conf_t   conf;
    sl_str_t                 compression;
    void                   **topic_conf;     /* every module's, by
                                                ctx_index */
} sl_kafka_topic_conf_t;


struct sl_kafka_session_s {
    sl_connection_t         *connection;
    sl_kafka_main_conf_t    *kmcf;

    sl_buf_t                *buffer;
    u_char                  *large;          /* a frame larger than buffer */
    size_t                   large_size;
    size_t                   large_have;
    u_char                  *lbuf;           /* kept for the next one */
    size_t                   lcap;

    sl_queue_t               requests;       /* in arrival order */
    sl_uint_t                nrequests;
    sl_chain_t              *out;            /* unsent response bytes */

    u_char                   client_id[64];  /* for log lines */
    size_t                   client_id_len;

    unsigned                 reading:1;
    unsigned                 blocked:1;
    unsigned                 closed:1;
};


struct sl_kafka_request_s {
    sl_queue_t               queue;
    sl_kafka_session_t      *session;
    sl_connection_t         *connection;
    sl_kafka_main_conf_t    *kmcf;
    sl_pool_t               *pool;
    sl_log_t                *log;

    sl_kafka_msg_t          *msg;
    int16_t                  api_key;
    int16_t                  version;
    int32_t                  correlation_id;
    sl_uint_t                flexible;

    void                    *req;
    void                    *resp;

    sl_chain_t              *out;
    sl_chain_t              *out_last;

    /* called when the connection closes under a pending request */
    void                   (*cleanup)(sl_kafka_request_t *r);
    void                    *ctx;

    uint64_t                 start_usec;     /* read, for metrics */

    unsigned                 done:1;
    unsigned                 queued:1;
};


#define sl_kafka_conf_get_module_main_conf(cf, module)                       \
    ((sl_kafka_conf_ctx_t *) cf->ctx)->main_conf[module.ctx_index]

#define sl_kafka_cycle_get_module_main_conf(cycle, module)                   \
    (cycle->conf_ctx[sl_kafka_module.index] ?                                \
        ((sl_kafka_conf_ctx_t *) cycle->conf_ctx[sl_kafka_module.index])     \
            ->main_conf[module.ctx_index]                                    \
        : NULL)


/* sl_kafka.c */
sl_int_t sl_kafka_register_api(sl_kafka_main_conf_t *kmcf, sl_int_t key,
    sl_int_t min_version, sl_int_t max_version, sl_kafka_handler_pt handler);
sl_int_t sl_kafka_topic_create(sl_kafka_main_conf_t *kmcf, sl_str_t *name,
    sl_int_t partitions, sl_broker_topic_conf_t *conf, sl_log_t *log,
    sl_broker_topic_t **topic);

/* sl_kafka_handler.c */
void sl_kafka_init_connection(sl_connection_t *c);
void sl_kafka_request_finalize(sl_kafka_request_t *r, sl_int_t rc);
int16_t sl_kafka_error(sl_int_t broker_error);
sl_broker_topic_t *sl_kafka_topic_by_id(u_char *id);

/* sl_kafka_metrics.c */
sl_int_t sl_kafka_metrics_configure(sl_conf_t *cf);
void sl_kafka_metrics_init_process(void);
uint64_t sl_kafka_metrics_now(void);
void sl_kafka_metrics_connection(sl_int_t n);
void sl_kafka_metrics_fetch_wait(void);
void sl_kafka_metrics_request(sl_kafka_request_t *r, sl_int_t rc);

/* the API families */
sl_int_t sl_kafka_api_versions(sl_kafka_request_t *r);
void sl_kafka_api_versions_fallback(sl_kafka_main_conf_t *kmcf,
    sl_kafka_wr_t *wr);
sl_int_t sl_kafka_metadata(sl_kafka_request_t *r);
sl_int_t sl_kafka_describe_cluster(sl_kafka_request_t *r);
sl_int_t sl_kafka_produce(sl_kafka_request_t *r);
sl_int_t sl_kafka_fetch(sl_kafka_request_t *r);
sl_int_t sl_kafka_fetch_init_process(sl_cycle_t *cycle);
sl_int_t sl_kafka_list_offsets(sl_kafka_request_t *r);
sl_int_t sl_kafka_offset_for_leader_epoch(sl_kafka_request_t *r);
sl_int_t sl_kafka_create_topics(sl_kafka_request_t *r);
sl_int_t sl_kafka_delete_topics(sl_kafka_request_t *r);
sl_int_t sl_kafka_create_partitions(sl_kafka_request_t *r);
sl_int_t sl_kafka_delete_records(sl_kafka_request_t *r);
sl_int_t sl_kafka_describe_configs(sl_kafka_request_t *r);
sl_int_t sl_kafka_alter_configs(sl_kafka_request_t *r);
sl_int_t sl_kafka_incr_alter_configs(sl_kafka_request_t *r);


extern sl_module_t  sl_kafka_module;
extern sl_module_t  sl_kafka_core_module;
extern sl_uint_t    sl_kafka_max_module;


#endif /* _SL_KAFKA_H_INCLUDED_ */
