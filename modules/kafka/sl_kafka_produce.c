
/*
 * Produce: record batches (magic 2 only) appended to partition logs as
 * they came, compressed or not.  The broker checks the CRC, assigns the
 * base offset and, with flush always, returns after the fsync, so acks 1
 * and -1 both answer after the append; acks 0 gets no response at all.
 * An append rings the doorbell: long-poll fetches in any worker wake.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker_filter.h>
#include <sl_kafka.h>


#define SL_KAFKA_MAGIC_OFFSET  16


static int16_t sl_kafka_produce_records(sl_kafka_request_t *r,
    sl_broker_partition_t *part, sl_kafka_records_t *records,
    sl_kafka_produce_resp_partition_produce_response_t *rp,
    sl_uint_t *appended);


sl_int_t
sl_kafka_produce(sl_kafka_request_t *r)
{
    int16_t                                              err;
    int32_t                                              i, j;
    sl_uint_t                                            appended;
    sl_broker_topic_t                                   *topic;
    sl_broker_partition_t                               *part;
    sl_kafka_produce_req_t                              *req;
    sl_kafka_produce_resp_t                             *resp;
    sl_kafka_produce_req_topic_produce_data_t           *td;
    sl_kafka_produce_req_partition_produce_data_t       *pd;
    sl_kafka_produce_resp_topic_produce_response_t      *rt;
    sl_kafka_produce_resp_partition_produce_response_t  *rp;

    req = r->req;
    resp = r->resp;

    appended = 0;

    resp->throttle_time_ms = 0;
    resp->responses_n = req->topic_data_n > 0 ? req->topic_data_n : 0;

    rt = sl_pcalloc(r->pool, (resp->responses_n + 1) * sizeof(*rt));
    if (rt == NULL) {
        return SL_ERROR;
    }

    resp->responses = rt;

    for (i = 0; i < resp->responses_n; i++, rt++) {
        td = &req->topic_data[i];

        rt->name = td->name;
        rt->partition_responses_n = td->partition_data_n > 0
                                    ? td->partition_data_n : 0;

        rp = sl_pcalloc(r->pool,
                        (rt->partition_responses_n + 1) * sizeof(*rp));
        if (rp == NULL) {
            return SL_ERROR;
        }

        rt->partition_responses = rp;

        topic = td->name.data ? sl_broker_topic_find(&td->name) : NULL;

        for (j = 0; j < rt->partition_responses_n; j++, rp++) {
            pd = &td->partition_data[j];

            rp->index = pd->index;
            rp->base_offset = -1;
            rp->log_append_time_ms = -1;
            rp->log_start_offset = -1;
            rp->error_message.data = NULL;

            if (req->acks != 0 && req->acks != 1 && req->acks != -1) {
                rp->error_code = SL_KAFKA_INVALID_REQUIRED_ACKS;
                continue;
            }

            part = topic ? sl_broker_partition(topic, pd->index) : NULL;

            if (part == NULL) {
                rp->error_code = SL_KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }

            err = sl_kafka_produce_records(r, part, &pd->records, rp,
                                           &appended);
            rp->error_code = err;

            if (err != SL_KAFKA_NONE) {
                sl_log_error(SL_LOG_INFO, r->log, 0,
                             "kafka: produce to \"%.*s\"-%d failed: "
                             "error %d", SL_STR_ARG(&td->name),
                             (int) pd->index, (int) err);
            }
        }
    }

    if (appended) {
        sl_event_doorbell_ring();
    }

    return req->acks == 0 ? SL_DONE : SL_OK;
}


static int16_t
sl_kafka_produce_records(sl_kafka_request_t *r, sl_broker_partition_t *part,
    sl_kafka_records_t *records,
    sl_kafka_produce_resp_partition_produce_response_t *rp,
    sl_uint_t *appended)
{
    u_char               *p;
    size_t                len, size;
    int32_t               blen;
    int64_t               base, append_time;
    sl_int_t              rc, first;
    sl_broker_batch_t     b;
    sl_broker_produce_t   pr;

    p = records->data;
    len = records->len;

    if (p == NULL || len == 0) {
        return SL_KAFKA_CORRUPT_MESSAGE;
    }

    first = 1;

    while (len) {

        if (len <= SL_KAFKA_MAGIC_OFFSET) {
            return SL_KAFKA_CORRUPT_MESSAGE;
        }

        if (p[SL_KAFKA_MAGIC_OFFSET] != 2) {
            /* magic 0 and 1 message sets are not stored here */
            return p[SL_KAFKA_MAGIC_OFFSET] < 2
                   ? SL_KAFKA_UNSUPPORTED_FOR_MESSAGE_FORMAT
                   : SL_KAFKA_CORRUPT_MESSAGE;
        }

        blen = (int32_t) sl_kafka_get32(p + 8);

        if (blen < SL_BROKER_BATCH_HEADER_SIZE - 12
            || (size_t) blen > len - 12)
        {
            return SL_KAFKA_CORRUPT_MESSAGE;
        }

        size = (size_t) blen + 12;

        /*
         * the produce filters (Lua, recompression) see a batch whose
         * CRC is known good, and may replace or drop it
         */

        if (sl_broker_batch_parse(p, size, &b) != SL_BROKER_OK) {
            return SL_KAFKA_CORRUPT_MESSAGE;
        }

        sl_memzero(&pr, sizeof(sl_broker_produce_t));
        pr.topic = part->topic;
        pr.partition = part;
        pr.batch = p;
        pr.len = size;
        pr.pool = r->pool;
        pr.log = r->log;

        rc = sl_broker_produce_filters(&pr);
        if (rc != SL_BROKER_OK) {
            if (pr.error.len) {
                rp->error_message = pr.error;
            }

            return sl_kafka_error(rc);
        }

        if (pr.len == 0) {
            /* every record dropped: nothing to append */
            p += size;
            len -= size;
            continue;
        }

        rc = sl_broker_log_append(part, pr.batch, pr.len, &base,
                                  &append_time, r->log);
        if (rc != SL_BROKER_OK) {
            return sl_kafka_error(rc);
        }

        *appended = 1;

        if (first) {
            rp->base_offset = base;
            rp->log_append_time_ms = append_time;
            first = 0;
        }

        p += size;
        len -= size;
    }

    rp->log_start_offset = sl_atomic_load(&part->log_start_offset);

    return SL_KAFKA_NONE;
}
