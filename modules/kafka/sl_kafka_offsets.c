
/*
 * Where a consumer starts: ListOffsets (earliest, latest, the first
 * offset at or after a timestamp through the time index, the offset of
 * the largest timestamp) and OffsetForLeaderEpoch (one leader epoch per
 * partition here, so its end is the log end).
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_kafka.h>


#define SL_KAFKA_OFFSET_EARLIEST_LOCAL   -4
#define SL_KAFKA_OFFSET_LATEST_TIERED    -5

#define SL_KAFKA_FENCED_LEADER_EPOCH     74


static int16_t sl_kafka_list_offset(sl_kafka_request_t *r,
    sl_broker_partition_t *part, int64_t ts,
    sl_kafka_list_offsets_resp_partition_response_t *rp);


sl_int_t
sl_kafka_list_offsets(sl_kafka_request_t *r)
{
    int32_t                                           i, j;
    sl_broker_topic_t                                *topic;
    sl_broker_partition_t                            *part;
    sl_kafka_list_offsets_req_t                      *req;
    sl_kafka_list_offsets_resp_t                     *resp;
    sl_kafka_list_offsets_req_topic_t                *qt;
    sl_kafka_list_offsets_req_partition_t            *qp;
    sl_kafka_list_offsets_resp_topic_response_t      *rt;
    sl_kafka_list_offsets_resp_partition_response_t  *rp;

    req = r->req;
    resp = r->resp;

    resp->throttle_time_ms = 0;
    resp->topics_n = req->topics_n > 0 ? req->topics_n : 0;

    rt = sl_pcalloc(r->pool, (resp->topics_n + 1) * sizeof(*rt));
    if (rt == NULL) {
        return SL_ERROR;
    }

    resp->topics = rt;

    for (i = 0; i < resp->topics_n; i++, rt++) {
        qt = &req->topics[i];

        rt->name = qt->name;
        rt->partitions_n = qt->partitions_n > 0 ? qt->partitions_n : 0;

        rp = sl_pcalloc(r->pool, (rt->partitions_n + 1) * sizeof(*rp));
        if (rp == NULL) {
            return SL_ERROR;
        }

        rt->partitions = rp;

        topic = qt->name.data ? sl_broker_topic_find(&qt->name) : NULL;

        for (j = 0; j < rt->partitions_n; j++, rp++) {
            qp = &qt->partitions[j];

            rp->partition_index = qp->partition_index;
            rp->timestamp = -1;
            rp->offset = -1;
            rp->leader_epoch = -1;

            part = topic ? sl_broker_partition(topic, qp->partition_index)
                         : NULL;

            if (part == NULL) {
                rp->error_code = SL_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }

            rp->error_code = sl_kafka_list_offset(r, part, qp->timestamp,
                                                  rp);

            if (r->version == 0 && rp->error_code == SL_KAFKA_NONE) {
                /* v0: a list of offsets, we give the one */
                rp->old_style_offsets = sl_palloc(r->pool, sizeof(int64_t));
                if (rp->old_style_offsets == NULL) {
                    return SL_ERROR;
                }

                rp->old_style_offsets[0] = rp->offset;
                rp->old_style_offsets_n = 1;
            }
        }
    }

    return SL_OK;
}


static int16_t
sl_kafka_list_offset(sl_kafka_request_t *r, sl_broker_partition_t *part,
    int64_t ts, sl_kafka_list_offsets_resp_partition_response_t *rp)
{
    int64_t                       offset, timestamp;
    sl_int_t                      rc;
    sl_kafka_list_offsets_req_t  *req;

    req = r->req;

    rp->leader_epoch = part->leader_epoch;

    switch (ts) {

    case SL_BROKER_OFFSET_LATEST:
        rp->offset = req->isolation_level
                     ? sl_atomic_load(&part->last_stable_offset)
                     : sl_atomic_load(&part->high_watermark);
        return SL_KAFKA_NONE;

    case SL_BROKER_OFFSET_EARLIEST:
    case SL_KAFKA_OFFSET_EARLIEST_LOCAL:
        rp->offset = sl_atomic_load(&part->log_start_offset);
        return SL_KAFKA_NONE;

    case SL_KAFKA_OFFSET_LATEST_TIERED:
        /* nothing is tiered */
        rp->offset = -1;
        return SL_KAFKA_NONE;
    }

    if (ts < 0 && ts != SL_BROKER_OFFSET_MAX_TS) {
        return SL_KAFKA_INVALID_REQUEST;
    }

    rc = sl_broker_log_offset_for_time(part, ts, &offset, &timestamp,
                                       r->log);
    if (rc != SL_BROKER_OK) {
        return sl_kafka_error(rc);
    }

    rp->offset = offset;
    rp->timestamp = offset >= 0 ? timestamp : -1;

    if (offset < 0) {
        rp->leader_epoch = -1;
    }

    return SL_KAFKA_NONE;
}


sl_int_t
sl_kafka_offset_for_leader_epoch(sl_kafka_request_t *r)
{
    int32_t                                         i, j, epoch;
    sl_broker_topic_t                              *topic;
    sl_broker_partition_t                          *part;
    sl_kafka_leader_epoch_req_t                    *req;
    sl_kafka_leader_epoch_resp_t                   *resp;
    sl_kafka_leader_epoch_req_topic_t              *qt;
    sl_kafka_leader_epoch_req_partition_t          *qp;
    sl_kafka_leader_epoch_resp_topic_result_t      *rt;
    sl_kafka_leader_epoch_resp_epoch_end_offset_t  *rp;

    req = r->req;
    resp = r->resp;

    resp->throttle_time_ms = 0;
    resp->topics_n = req->topics_n > 0 ? req->topics_n : 0;

    rt = sl_pcalloc(r->pool, (resp->topics_n + 1) * sizeof(*rt));
    if (rt == NULL) {
        return SL_ERROR;
    }

    resp->topics = rt;

    for (i = 0; i < resp->topics_n; i++, rt++) {
        qt = &req->topics[i];

        rt->topic = qt->topic;
        rt->partitions_n = qt->partitions_n > 0 ? qt->partitions_n : 0;

        rp = sl_pcalloc(r->pool, (rt->partitions_n + 1) * sizeof(*rp));
        if (rp == NULL) {
            return SL_ERROR;
        }

        rt->partitions = rp;

        topic = qt->topic.data ? sl_broker_topic_find(&qt->topic) : NULL;

        for (j = 0; j < rt->partitions_n; j++, rp++) {
            qp = &qt->partitions[j];

            rp->partition = qp->partition;
            rp->leader_epoch = -1;
            rp->end_offset = -1;

            part = topic ? sl_broker_partition(topic, qp->partition) : NULL;

            if (part == NULL) {
                rp->error_code = SL_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }

            epoch = part->leader_epoch;

            if (qp->current_leader_epoch >= 0
                && qp->current_leader_epoch != epoch)
            {
                rp->error_code = qp->current_leader_epoch < epoch
                                 ? SL_KAFKA_FENCED_LEADER_EPOCH
                                 : SL_KAFKA_UNKNOWN_LEADER_EPOCH;
                continue;
            }

            if (qp->leader_epoch > epoch) {
                /* an epoch this log has not seen: undefined */
                continue;
            }

            rp->leader_epoch = epoch;
            rp->end_offset = sl_atomic_load(&part->log_end_offset);
        }
    }

    return SL_OK;
}
