
/*
 * The broker's storage and domain, shared by every protocol module:
 * topics and partitions (a registry in shared memory, persisted under
 * data_dir), and the partition log of Kafka record batches (magic 2)
 * that every worker appends to and reads from.
 *
 * The `log { }` block (sl_broker_module) holds the defaults; a protocol
 * module may override them per topic (kafka { topic NAME { ... } }) with
 * sl_broker_topic_conf_t.
 */

#ifndef _SL_BROKER_H_INCLUDED_
#define _SL_BROKER_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


#define SL_BROKER_TOPIC_MAX_LEN     249
#define SL_BROKER_MAX_PARTITIONS    4096

/* errors the protocol layer maps to its own codes (Kafka's in comments) */
#define SL_BROKER_OK                   0
#define SL_BROKER_ERR_STORAGE          1   /* KAFKA_STORAGE_ERROR 56 */
#define SL_BROKER_ERR_CORRUPT          2   /* CORRUPT_MESSAGE 2 */
#define SL_BROKER_ERR_TOO_LARGE        3   /* MESSAGE_TOO_LARGE 10 */
#define SL_BROKER_ERR_UNKNOWN_TOPIC    4   /* UNKNOWN_TOPIC_OR_PARTITION 3 */
#define SL_BROKER_ERR_OUT_OF_RANGE     5   /* OFFSET_OUT_OF_RANGE 1 */
#define SL_BROKER_ERR_TOPIC_EXISTS     6   /* TOPIC_ALREADY_EXISTS 36 */
#define SL_BROKER_ERR_INVALID_TOPIC    7   /* INVALID_TOPIC_EXCEPTION 17 */
#define SL_BROKER_ERR_INVALID_CONFIG   8   /* INVALID_CONFIG 40 */
#define SL_BROKER_ERR_INVALID_PARTS    9   /* INVALID_PARTITIONS 37 */
#define SL_BROKER_ERR_NO_MEMORY        10  /* KAFKA_STORAGE_ERROR */
#define SL_BROKER_ERR_INVALID_RECORD   11  /* INVALID_RECORD 87 */
#define SL_BROKER_ERR_POLICY           12  /* POLICY_VIOLATION 44 */

#define SL_BROKER_CLEANUP_DELETE    1
#define SL_BROKER_CLEANUP_COMPACT   2

#define SL_BROKER_FLUSH_OFF         0
#define SL_BROKER_FLUSH_ALWAYS      1
#define SL_BROKER_FLUSH_EVERY       2   /* every N records */
#define SL_BROKER_FLUSH_INTERVAL    3   /* every T milliseconds */

#define SL_BROKER_OFFSET_LATEST     -1  /* ListOffsets' timestamps */
#define SL_BROKER_OFFSET_EARLIEST   -2
#define SL_BROKER_OFFSET_MAX_TS     -3

/*
 * In a sl_broker_topic_conf_t given to sl_broker_topic_create(), -1
 * (SL_CONF_UNSET) means "inherit"; an explicit "forever" or "unlimited"
 * for retention_ms or retention_bytes is written as this value.  Merged
 * configurations (topic->conf) always say -1.
 */
#define SL_BROKER_CONF_FOREVER      -2

/* timestamp types */
#define SL_BROKER_CREATE_TIME       0
#define SL_BROKER_LOG_APPEND_TIME   1


/*
 * Per-topic settings.  Fields left SL_CONF_UNSET* inherit from the log { }
 * block; the merged result is persisted with the topic.
 */
typedef struct {
    off_t                    segment_bytes;
    sl_msec_t                segment_ms;
    size_t                   index_interval;
    sl_msec_t                retention_ms;      /* -1 = forever */
    off_t                    retention_bytes;   /* -1 = unlimited */
    sl_int_t                 cleanup_policy;
    sl_msec_t                delete_retention_ms;
    sl_int_t                 flush;             /* SL_BROKER_FLUSH_* */
    sl_int_t                 flush_every;       /* records */
    sl_msec_t                flush_interval;
    size_t                   max_record_batch_bytes;
    sl_int_t                 message_timestamp_type; /* 0 create, 1 append */
    sl_int_t                 compression_type;  /* SL_BROKER_CODEC_*, or
                                                  _PRODUCER: as sent */
    sl_int_t                 compression_level; /* 0: the codec's own */
} sl_broker_topic_conf_t;

/* bits of sl_broker_topic_t.overrides */
#define SL_BROKER_CF_SEGMENT_BYTES      0
#define SL_BROKER_CF_SEGMENT_MS         1
#define SL_BROKER_CF_INDEX_INTERVAL     2
#define SL_BROKER_CF_RETENTION_MS       3
#define SL_BROKER_CF_RETENTION_BYTES    4
#define SL_BROKER_CF_CLEANUP_POLICY     5
#define SL_BROKER_CF_DELETE_RETENTION   6
#define SL_BROKER_CF_FLUSH              7
#define SL_BROKER_CF_MAX_BATCH_BYTES    8
#define SL_BROKER_CF_TIMESTAMP_TYPE     9
#define SL_BROKER_CF_COMPRESSION        10
#define SL_BROKER_CF_COMPRESSION_LEVEL  11


typedef struct sl_broker_topic_s      sl_broker_topic_t;
typedef struct sl_broker_partition_s  sl_broker_partition_t;


/*
 * A partition's state, in shared memory, as every worker sees it.
 * Offsets are published with release stores and read with acquire
 * loads: a reader that sees an end offset sees the bytes before it.
 */
struct sl_broker_partition_s {
    sl_shmtx_t               lock;              /* appends, rolls */
    sl_broker_topic_t       *topic;
    int32_t                  id;
    int32_t                  leader_epoch;

    volatile int64_t         log_start_offset;
    volatile int64_t         log_end_offset;
    volatile int64_t         high_watermark;    /* = LEO without replicas */
    volatile int64_t         last_stable_offset;/* = HW without txns */
    volatile int64_t         recovery_point;    /* flushed up to here */

    volatile uint64_t        size_bytes;        /* all segments */
    volatile uint64_t        generation;        /* bumped on roll/delete:
                                                   workers remap */

    /* traffic, for metrics: appends count in, readers count out */
    volatile uint64_t        bytes_in;
    volatile uint64_t        records_in;
    volatile uint64_t        bytes_out;
    volatile uint64_t        records_out;
    void                    *data;              /* the log's private state */
};


struct sl_broker_topic_s {
    sl_str_t                 name;              /* in shared memory */
    u_char                   id[16];            /* UUID */
    int32_t                  partitions_n;
    sl_broker_partition_t  **partitions;
    sl_broker_topic_conf_t   conf;
    unsigned                 internal:1;        /* __consumer_offsets */
    unsigned                 deleted:1;

    uint32_t                 overrides;         /* settings set per topic,
                                                   1 << SL_BROKER_CF_* */
    int64_t                  deleted_ms;        /* then freed later */
    sl_broker_topic_t       *next;              /* deleted topics */
};


/* the log { } block */
typedef struct {
    sl_str_t                 data_dir;          /* absolute */
    size_t                   zone_size;
    sl_broker_topic_conf_t   topic;             /* defaults of every topic */
} sl_broker_conf_t;


/* a read: a file range for sendfile() plus, if wanted, a mapping */
typedef struct {
    sl_fd_t                  fd;        /* owned by the log; do not close */
    off_t                    pos;
    size_t                   len;       /* whole batches, <= max_bytes
                                           except a first batch larger
                                           than max_bytes (Kafka's rule) */
    u_char                  *mem;       /* the same bytes in the mapping */
    int64_t                  first_offset;  /* base of the first batch */
    int64_t                  next_offset;   /* after the last batch: where
                                               the next read starts */
    int64_t                  high_watermark;
    int64_t                  last_stable_offset;
    int64_t                  log_start_offset;
} sl_broker_read_t;


/* the topic registry */
sl_broker_topic_t *sl_broker_topic_find(sl_str_t *name);
/* conf may be NULL (defaults); SL_BROKER_ERR_* on failure */
sl_int_t sl_broker_topic_create(sl_str_t *name, sl_int_t partitions,
    sl_broker_topic_conf_t *conf, sl_log_t *log, sl_broker_topic_t **out);
sl_int_t sl_broker_topic_delete(sl_str_t *name, sl_log_t *log);
sl_int_t sl_broker_topic_add_partitions(sl_broker_topic_t *topic,
    sl_int_t total, sl_log_t *log);
/* validates and applies one setting by its Kafka name
 * ("retention.ms", "cleanup.policy", ...); persists the topic */
sl_int_t sl_broker_topic_set_config(sl_broker_topic_t *topic,
    sl_str_t *name, sl_str_t *value, sl_log_t *log);
/* puts one setting back to the log { } default; SL_DECLINED for a name
 * the log does not keep */
sl_int_t sl_broker_topic_reset_config(sl_broker_topic_t *topic,
    sl_str_t *name, sl_log_t *log);
/* the Kafka name and value of every setting, for DescribeConfigs */
typedef void (*sl_broker_config_pt)(void *data, const char *name,
    u_char *value, size_t len, sl_uint_t is_default);
void sl_broker_topic_configs(sl_broker_topic_t *topic,
    sl_broker_config_pt handler, void *data);
/* iterates over live topics in name order; NULL ends */
sl_broker_topic_t *sl_broker_topic_next(sl_broker_topic_t *prev);
sl_int_t sl_broker_topic_name_valid(sl_str_t *name);
sl_broker_partition_t *sl_broker_partition(sl_broker_topic_t *topic,
    sl_int_t id);
sl_uint_t sl_broker_topic_count(void);

/* a configuration that inherits everything (every field unset) */
void sl_broker_topic_conf_init(sl_broker_topic_conf_t *conf);
/* validates one setting by its Kafka name into conf, for CreateTopics */
sl_int_t sl_broker_topic_conf_set(sl_broker_topic_conf_t *conf,
    sl_str_t *name, sl_str_t *value);
/*
 * A cf->handler that takes the log { } directives (segment_bytes,
 * retention, flush, ...) into the sl_broker_topic_conf_t in
 * cf->handler_conf, for a protocol module's per-topic blocks.
 */
char *sl_broker_topic_conf_handler(sl_conf_t *cf, sl_command_t *dummy,
    void *conf);


/*
 * Storage without the process model (tests, tools): creates the shared
 * zone with sl_shm_alloc(), then opens and recovers every topic under
 * conf->data_dir.  The module does the same in the master, once.
 */
sl_int_t sl_broker_init_storage(sl_broker_conf_t *conf, sl_log_t *log);
/* flushes and checkpoints every partition: the next start scans nothing */
void sl_broker_shutdown(sl_log_t *log);
/*
 * The background work of the log cleaner process (or of the one
 * process without a master): flush by interval, retention, compaction,
 * checkpoints, deferred deletes.  now is the wall clock in
 * milliseconds; force ignores the checks' intervals.
 */
void sl_broker_background(int64_t now, sl_uint_t force, sl_log_t *log);
sl_broker_conf_t *sl_broker_get_conf(void);


/*
 * Append one record batch (magic 2) exactly as received: the CRC is
 * checked, the base offset assigned and written in, the batch made
 * visible atomically.  *base_offset receives it, *log_append_time the
 * broker time if the topic uses LogAppendTime (else -1).  With
 * flush always, returns after fsync.
 */
sl_int_t sl_broker_log_append(sl_broker_partition_t *part, u_char *batch,
    size_t len, int64_t *base_offset, int64_t *log_append_time,
    sl_log_t *log);

/* whole batches from offset on, up to max_bytes (at least one batch) */
sl_int_t sl_broker_log_read(sl_broker_partition_t *part, int64_t offset,
    size_t max_bytes, sl_broker_read_t *rd, sl_log_t *log);

/* the first offset with timestamp >= ts, or the SL_BROKER_OFFSET_* */
sl_int_t sl_broker_log_offset_for_time(sl_broker_partition_t *part,
    int64_t ts, int64_t *offset, int64_t *timestamp, sl_log_t *log);

/* DeleteRecords: moves the log start offset to offset (-1 = HW) */
sl_int_t sl_broker_log_delete_before(sl_broker_partition_t *part,
    int64_t offset, int64_t *low_watermark, sl_log_t *log);

sl_int_t sl_broker_log_flush(sl_broker_partition_t *part, sl_log_t *log);

/* what a reader (Kafka fetch, an HTTP consumer, a stream) sent */
#define sl_broker_count_out(part, bytes, records)                             \
    do {                                                                     \
        (void) sl_atomic_fetch_add(&(part)->bytes_out, (uint64_t) (bytes));  \
        (void) sl_atomic_fetch_add(&(part)->records_out,                     \
                                   (uint64_t) (records));                    \
    } while (0)

/* deletes closed segments past retention; the number deleted */
sl_int_t sl_broker_log_retention(sl_broker_partition_t *part, int64_t now,
    sl_log_t *log);
/* compacts the closed segments (cleanup_policy compact) */
sl_int_t sl_broker_log_compact(sl_broker_partition_t *part, int64_t now,
    sl_log_t *log);
/* closes the active segment now (tests, segment_ms) */
sl_int_t sl_broker_log_roll(sl_broker_partition_t *part, sl_log_t *log);
sl_uint_t sl_broker_log_segments(sl_broker_partition_t *part);


/* batch header fields (big-endian, validated) */
#define SL_BROKER_BATCH_HEADER_SIZE  61

typedef struct {
    int64_t                  base_offset;
    int32_t                  length;        /* after this field */
    int32_t                  leader_epoch;
    int8_t                   magic;
    uint32_t                 crc;
    int16_t                  attributes;
    int32_t                  last_offset_delta;
    int64_t                  first_timestamp;
    int64_t                  max_timestamp;
    int64_t                  producer_id;
    int16_t                  producer_epoch;
    int32_t                  base_sequence;
    int32_t                  records_count;
} sl_broker_batch_t;

/* parses and checks a batch at p (length, magic, CRC-32C);
 * SL_BROKER_ERR_CORRUPT when not a valid whole batch */
sl_int_t sl_broker_batch_parse(u_char *p, size_t len, sl_broker_batch_t *b);


extern sl_module_t  sl_broker_module;


#endif /* _SL_BROKER_H_INCLUDED_ */
