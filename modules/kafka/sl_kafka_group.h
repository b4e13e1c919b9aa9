
/*
 * The group APIs of the Kafka module (sl_kafka_group_module): the
 * handlers over the protocol-independent coordinator in
 * src/broker/sl_broker_group.c, and the error codes they add to
 * sl_kafka.h's.
 */

#ifndef _SL_KAFKA_GROUP_H_INCLUDED_
#define _SL_KAFKA_GROUP_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>
#include <sl_kafka.h>
#include <sl_broker_group.h>


#define SL_KAFKA_OFFSET_METADATA_TOO_LARGE     12
#define SL_KAFKA_COORDINATOR_LOAD_IN_PROGRESS  14
#define SL_KAFKA_COORDINATOR_NOT_AVAILABLE     15
#define SL_KAFKA_NOT_COORDINATOR               16
#define SL_KAFKA_ILLEGAL_GENERATION            22
#define SL_KAFKA_INCONSISTENT_GROUP_PROTOCOL   23
#define SL_KAFKA_INVALID_GROUP_ID              24
#define SL_KAFKA_UNKNOWN_MEMBER_ID             25
#define SL_KAFKA_INVALID_SESSION_TIMEOUT       26
#define SL_KAFKA_REBALANCE_IN_PROGRESS         27
#define SL_KAFKA_INVALID_COMMIT_OFFSET_SIZE    28
#define SL_KAFKA_NON_EMPTY_GROUP               68
#define SL_KAFKA_GROUP_ID_NOT_FOUND            69
#define SL_KAFKA_MEMBER_ID_REQUIRED            79
#define SL_KAFKA_FENCED_INSTANCE_ID            82
#define SL_KAFKA_GROUP_SUBSCRIBED_TO_TOPIC     86

/* the coordinator's errors are numbered as Kafka's */
#define sl_kafka_group_error(e)  ((int16_t) (e))


typedef struct {
    sl_broker_group_conf_t   conf;
} sl_kafka_group_conf_t;


sl_int_t sl_kafka_find_coordinator(sl_kafka_request_t *r);
sl_int_t sl_kafka_join_group(sl_kafka_request_t *r);
sl_int_t sl_kafka_sync_group(sl_kafka_request_t *r);
sl_int_t sl_kafka_heartbeat(sl_kafka_request_t *r);
sl_int_t sl_kafka_leave_group(sl_kafka_request_t *r);
sl_int_t sl_kafka_offset_commit(sl_kafka_request_t *r);
sl_int_t sl_kafka_offset_fetch(sl_kafka_request_t *r);
sl_int_t sl_kafka_describe_groups(sl_kafka_request_t *r);
sl_int_t sl_kafka_list_groups(sl_kafka_request_t *r);
sl_int_t sl_kafka_delete_groups(sl_kafka_request_t *r);
sl_int_t sl_kafka_offset_delete(sl_kafka_request_t *r);

sl_int_t sl_kafka_group_init_process(sl_cycle_t *cycle);


extern sl_module_t  sl_kafka_group_module;


#endif /* _SL_KAFKA_GROUP_H_INCLUDED_ */
