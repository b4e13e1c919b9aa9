
/*
 * Record batches (magic 2) as Kafka writes them: the header fields,
 * validation (length, magic, CRC-32C over attributes..end) and the
 * records of an uncompressed batch, for compaction and time lookups.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>


void
sl_broker_put16(u_char *p, uint16_t v)
{
    p[0] = (u_char) (v >> 8);
    p[1] = (u_char) v;
}


void
sl_broker_put32(u_char *p, uint32_t v)
{
    p[0] = (u_char) (v >> 24);
    p[1] = (u_char) (v >> 16);
    p[2] = (u_char) (v >> 8);
    p[3] = (u_char) v;
}


void
sl_broker_put64(u_char *p, uint64_t v)
{
    sl_broker_put32(p, (uint32_t) (v >> 32));
    sl_broker_put32(p + 4, (uint32_t) v);
}


sl_int_t
sl_broker_batch_header(u_char *p, size_t len, sl_broker_batch_t *b)
{
    if (len < SL_BROKER_BATCH_HEADER_SIZE) {
        return SL_BROKER_ERR_CORRUPT;
    }

    b->base_offset = (int64_t) sl_broker_get64(p);
    b->length = (int32_t) sl_broker_get32(p + SL_BROKER_B_LENGTH);
    b->leader_epoch = (int32_t) sl_broker_get32(p + SL_BROKER_B_EPOCH);
    b->magic = (int8_t) p[SL_BROKER_B_MAGIC];
    b->crc = sl_broker_get32(p + SL_BROKER_B_CRC);
    b->attributes = (int16_t) sl_broker_get16(p + SL_BROKER_B_ATTRIBUTES);
    b->last_offset_delta = (int32_t) sl_broker_get32(p
                                                     + SL_BROKER_B_LAST_DELTA);
    b->first_timestamp = (int64_t) sl_broker_get64(p + SL_BROKER_B_FIRST_TS);
    b->max_timestamp = (int64_t) sl_broker_get64(p + SL_BROKER_B_MAX_TS);
    b->producer_id = (int64_t) sl_broker_get64(p + SL_BROKER_B_PRODUCER_ID);
    b->producer_epoch = (int16_t) sl_broker_get16(p + 51);
    b->base_sequence = (int32_t) sl_broker_get32(p + 53);
    b->records_count = (int32_t) sl_broker_get32(p + SL_BROKER_B_COUNT);

    if (b->magic != 2
        || b->length < SL_BROKER_BATCH_HEADER_SIZE - SL_BROKER_B_LOG_OVERHEAD
        || (size_t) b->length > len - SL_BROKER_B_LOG_OVERHEAD
        || b->last_offset_delta < 0
        || b->records_count < 0
        || b->base_offset < 0)
    {
        return SL_BROKER_ERR_CORRUPT;
    }

    return SL_BROKER_OK;
}


sl_int_t
sl_broker_batch_parse(u_char *p, size_t len, sl_broker_batch_t *b)
{
    uint32_t  crc;

    if (sl_broker_batch_header(p, len, b) != SL_BROKER_OK) {
        return SL_BROKER_ERR_CORRUPT;
    }

    crc = sl_crc32c(p + SL_BROKER_B_ATTRIBUTES,
                    SL_BROKER_B_LOG_OVERHEAD + b->length
                    - SL_BROKER_B_ATTRIBUTES);

    if (crc != b->crc) {
        return SL_BROKER_ERR_CORRUPT;
    }

    return SL_BROKER_OK;
}


void
sl_broker_batch_set_crc(u_char *p, size_t len)
{
    sl_broker_put32(p + SL_BROKER_B_CRC,
                    sl_crc32c(p + SL_BROKER_B_ATTRIBUTES,
                              len - SL_BROKER_B_ATTRIBUTES));
}


sl_int_t
sl_broker_record_next(u_char **pp, u_char *last, sl_broker_record_t *r)
{
    u_char   *p, *end;
    int8_t    attributes;
    int32_t   len, n, i, hlen;

    p = *pp;

    if (p == last) {
        return SL_DONE;
    }

    r->start = p;

    p = sl_varint_read_s32(p, last, &len);
    if (p == NULL || len < 0 || len > last - p) {
        return SL_ERROR;
    }

    end = p + len;

    if (p == end) {
        return SL_ERROR;
    }

    attributes = (int8_t) *p++;
    (void) attributes;

    p = sl_varint_read_s64(p, end, &r->timestamp_delta);
    if (p == NULL) {
        return SL_ERROR;
    }

    p = sl_varint_read_s32(p, end, &r->offset_delta);
    if (p == NULL || r->offset_delta < 0) {
        return SL_ERROR;
    }

    p = sl_varint_read_s32(p, end, &r->key_len);
    if (p == NULL || r->key_len < -1 || r->key_len > end - p) {
        return SL_ERROR;
    }

    r->key = p;
    p += (r->key_len > 0) ? r->key_len : 0;

    p = sl_varint_read_s32(p, end, &r->value_len);
    if (p == NULL || r->value_len < -1 || r->value_len > end - p) {
        return SL_ERROR;
    }

    r->value = p;
    p += (r->value_len > 0) ? r->value_len : 0;

    p = sl_varint_read_s32(p, end, &n);
    if (p == NULL || n < 0) {
        return SL_ERROR;
    }

    for (i = 0; i < n; i++) {

        p = sl_varint_read_s32(p, end, &hlen);
        if (p == NULL || hlen < 0 || hlen > end - p) {
            return SL_ERROR;
        }

        p += hlen;

        p = sl_varint_read_s32(p, end, &hlen);
        if (p == NULL || hlen < -1 || hlen > end - p) {
            return SL_ERROR;
        }

        p += (hlen > 0) ? hlen : 0;
    }

    if (p != end) {
        return SL_ERROR;
    }

    r->end = end;
    *pp = end;

    return SL_OK;
}
