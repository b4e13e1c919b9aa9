
/*
 * The group coordinator, protocol-independent: consumer groups (members,
 * generations, the classic state machine, static members), committed
 * offsets kept in the internal topic __consumer_offsets, and the lag of
 * every group and partition.  The Kafka module maps its group APIs onto
 * these calls; the HTTP REST proxy joins the same groups through them.
 *
 * Errors are numbered as Kafka's, the one vocabulary every client of
 * groups already speaks.
 */

#ifndef _SL_BROKER_GROUP_H_INCLUDED_
#define _SL_BROKER_GROUP_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>


#define SL_BROKER_GROUP_OK                        0
#define SL_BROKER_GROUP_UNKNOWN                   -1
#define SL_BROKER_GROUP_UNKNOWN_TOPIC             3
#define SL_BROKER_GROUP_METADATA_TOO_LARGE        12
#define SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE 15
#define SL_BROKER_GROUP_ILLEGAL_GENERATION        22
#define SL_BROKER_GROUP_INCONSISTENT_PROTOCOL     23
#define SL_BROKER_GROUP_INVALID_GROUP_ID          24
#define SL_BROKER_GROUP_UNKNOWN_MEMBER_ID         25
#define SL_BROKER_GROUP_INVALID_SESSION_TIMEOUT   26
#define SL_BROKER_GROUP_REBALANCE_IN_PROGRESS     27
#define SL_BROKER_GROUP_INVALID_COMMIT_OFFSET     28
#define SL_BROKER_GROUP_NON_EMPTY_GROUP           68
#define SL_BROKER_GROUP_ID_NOT_FOUND              69
#define SL_BROKER_GROUP_MEMBER_ID_REQUIRED        79
#define SL_BROKER_GROUP_FENCED_INSTANCE_ID        82
#define SL_BROKER_GROUP_SUBSCRIBED_TO_TOPIC       86

/* the classic states, in Kafka's names */
#define SL_BROKER_GROUP_EMPTY                     0
#define SL_BROKER_GROUP_PREPARING                 1
#define SL_BROKER_GROUP_COMPLETING                2
#define SL_BROKER_GROUP_STABLE                    3
#define SL_BROKER_GROUP_DEAD                      4

#define SL_BROKER_GROUP_OFFSETS_TOPIC             "__consumer_offsets"
#define SL_BROKER_GROUP_MAX_METADATA              4096


typedef struct {
    sl_msec_t                initial_rebalance_delay;
    sl_msec_t                offsets_retention;
    sl_msec_t                min_session_timeout;
    sl_msec_t                max_session_timeout;
    sl_int_t                 offsets_topic_partitions;
    size_t                   zone_size;
} sl_broker_group_conf_t;


typedef struct {
    sl_str_t                 name;
    sl_str_t                 metadata;
} sl_broker_group_protocol_t;


/* a member as a join response or a description shows it */
typedef struct {
    sl_str_t                 member_id;
    sl_str_t                 instance_id;
    sl_str_t                 client_id;
    sl_str_t                 client_host;
    sl_str_t                 metadata;
    sl_str_t                 assignment;
} sl_broker_group_member_info_t;


typedef struct {
    sl_str_t                 group_id;
    sl_str_t                 member_id;      /* empty: a new member */
    sl_str_t                 instance_id;    /* static membership */
    sl_str_t                 client_id;
    sl_str_t                 client_host;
    sl_str_t                 protocol_type;
    sl_broker_group_protocol_t  *protocols;
    sl_uint_t                nprotocols;
    int32_t                  session_timeout;
    int32_t                  rebalance_timeout;
    sl_uint_t                require_known_member;  /* MEMBER_ID_REQUIRED */
    uint32_t                 token;          /* out: what to poll for */
} sl_broker_group_join_t;


typedef struct {
    sl_int_t                 error;
    int32_t                  generation;
    sl_str_t                 protocol_type;
    sl_str_t                 protocol_name;
    sl_str_t                 leader;
    sl_str_t                 member_id;
    sl_uint_t                nmembers;       /* the leader's only */
    sl_broker_group_member_info_t  *members;
} sl_broker_group_join_result_t;


typedef struct {
    sl_str_t                 member_id;
    sl_str_t                 assignment;
} sl_broker_group_assignment_t;


typedef struct {
    sl_str_t                 group_id;
    sl_str_t                 member_id;
    sl_str_t                 instance_id;
    sl_str_t                 protocol_type;  /* NULL data: not checked */
    sl_str_t                 protocol_name;
    int32_t                  generation;
    sl_broker_group_assignment_t  *assignments;
    sl_uint_t                nassignments;
    uint32_t                 token;          /* out */
} sl_broker_group_sync_t;


typedef struct {
    sl_int_t                 error;
    sl_str_t                 protocol_type;
    sl_str_t                 protocol_name;
    sl_str_t                 assignment;
} sl_broker_group_sync_result_t;


/* a committed offset, in and out */
typedef struct {
    sl_str_t                 topic;
    int32_t                  partition;
    int64_t                  offset;         /* -1: none */
    int32_t                  leader_epoch;   /* -1: unknown */
    sl_str_t                 metadata;
    int64_t                  commit_timestamp;
    sl_int_t                 error;
} sl_broker_group_offset_t;


typedef struct {
    sl_str_t                 group_id;
    sl_uint_t                state;
    sl_str_t                 protocol_type;
    sl_str_t                 protocol_name;  /* Stable only, as Kafka */
    int32_t                  generation;
    sl_uint_t                nmembers;
    sl_broker_group_member_info_t  *members;
} sl_broker_group_desc_t;


/* called under the coordinator's lock: must not block or call back */
typedef void (*sl_broker_group_lag_pt)(void *data, sl_str_t *group,
    sl_str_t *topic, int32_t partition, int64_t committed,
    int64_t high_watermark);


/* configuration: adds the shared zone (once per cycle) */
sl_int_t sl_broker_group_configure(sl_conf_t *cf,
    sl_broker_group_conf_t *conf);
/* in the master: creates __consumer_offsets, replays it once per zone */
sl_int_t sl_broker_group_init(sl_log_t *log);
/* storage without the process model (tests) */
sl_int_t sl_broker_group_init_storage(sl_broker_group_conf_t *conf,
    sl_log_t *log);
/* whether the coordinator's zone exists (a kafka { } block made it):
 * without it every other call here is invalid */
sl_uint_t sl_broker_group_ready(void);
/* timeouts: cheap unless a deadline passed; any process may call it */
void sl_broker_group_tick(sl_log_t *log);
/* wall and monotonic clocks in ms, shifted by tests */
int64_t sl_broker_group_wall_ms(void);
int64_t sl_broker_group_mono_ms(void);
extern int64_t  sl_broker_group_time_shift;
/* bumped on every change a parked request may wait for */
uint64_t sl_broker_group_changes(void);

sl_int_t sl_broker_group_join(sl_broker_group_join_t *j, sl_pool_t *pool,
    sl_broker_group_join_result_t *res, sl_log_t *log);
sl_int_t sl_broker_group_join_poll(sl_str_t *group_id, sl_str_t *member_id,
    uint32_t token, sl_pool_t *pool, sl_broker_group_join_result_t *res);
sl_int_t sl_broker_group_sync(sl_broker_group_sync_t *s, sl_pool_t *pool,
    sl_broker_group_sync_result_t *res, sl_log_t *log);
sl_int_t sl_broker_group_sync_poll(sl_str_t *group_id, sl_str_t *member_id,
    uint32_t token, sl_pool_t *pool, sl_broker_group_sync_result_t *res);
/* the waiter went away (its connection closed): stop keeping it alive */
void sl_broker_group_abandon(sl_str_t *group_id, sl_str_t *member_id,
    uint32_t token);

sl_int_t sl_broker_group_heartbeat(sl_str_t *group_id, sl_str_t *member_id,
    sl_str_t *instance_id, int32_t generation);
sl_int_t sl_broker_group_leave(sl_str_t *group_id, sl_str_t *member_id,
    sl_str_t *instance_id, sl_log_t *log);

/* the group-level error; else each offset's error */
sl_int_t sl_broker_group_commit(sl_str_t *group_id, int32_t generation,
    sl_str_t *member_id, sl_str_t *instance_id, int64_t retention_ms,
    sl_broker_group_offset_t *offsets, sl_uint_t n, sl_log_t *log);
/* fills o->offset (-1 if none), leader_epoch, metadata (in pool) */
sl_int_t sl_broker_group_fetch(sl_str_t *group_id,
    sl_broker_group_offset_t *o, sl_pool_t *pool);
/* every committed offset of a group, an array of sl_broker_group_offset_t
 * in topic and partition order */
sl_int_t sl_broker_group_fetch_all(sl_str_t *group_id, sl_pool_t *pool,
    sl_array_t *out);
sl_int_t sl_broker_group_offset_delete(sl_str_t *group_id,
    sl_broker_group_offset_t *offsets, sl_uint_t n, sl_log_t *log);

sl_int_t sl_broker_group_describe(sl_str_t *group_id, sl_pool_t *pool,
    sl_broker_group_desc_t *d);
/* every group: an array of sl_broker_group_desc_t without members */
sl_int_t sl_broker_group_list(sl_pool_t *pool, sl_array_t *out);
sl_int_t sl_broker_group_delete(sl_str_t *group_id, sl_log_t *log);
const char *sl_broker_group_state_name(sl_uint_t state);

/* lag: committed offset and high watermark of every group's partitions */
void sl_broker_group_lag_each(sl_broker_group_lag_pt handler, void *data);
/* one group's total lag over its committed partitions, -1 if unknown */
int64_t sl_broker_group_lag(sl_str_t *group_id);


#endif /* _SL_BROKER_GROUP_H_INCLUDED_ */
