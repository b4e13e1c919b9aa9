
/*
 * libFuzzer target for what the REST proxy decodes out of the log: the
 * input is a record batch (CRC unchecked, compressed ones under a 1 MB
 * cap), and every record is rendered by sl_rest_record_json() in the
 * string, json and binary formats.  Each rendering must be valid JSON
 * that reads back to the record's exact key and value bytes (as text,
 * base64 or a parsed JSON value), and the key partitioner must stay in
 * range.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_batch.h>
#include <sl_compress.h>
#include <sl_rest.h>


#define FUZZ_MAX  (1024 * 1024)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* the bytes a rendered key or value stands for must be b's */
static void
fuzz_check_bytes(json_t *rec, const char *name, sl_broker_bytes_t *b,
    sl_uint_t format)
{
    u_char       *buf;
    size_t        len;
    json_t       *v, *enc;
    sl_str_t      src, dst;
    const char   *s;
    char          key[32];

    v = json_object_get(rec, name);

    if (v == NULL) {
        abort();
    }

    if (b->len < 0) {
        if (!json_is_null(v)) {
            abort();
        }

        return;
    }

    snprintf(key, sizeof(key), "%s_encoding", name);
    enc = json_object_get(rec, key);

    if (format == SL_REST_FMT_BINARY
        || (enc && json_is_string(enc)
            && strcmp(json_string_value(enc), "base64") == 0))
    {
        if (!json_is_string(v)) {
            abort();
        }

        src.data = (u_char *) json_string_value(v);
        src.len = json_string_length(v);

        buf = malloc(sl_base64_decoded_length(src.len) + 1);
        if (buf == NULL) {
            return;
        }

        dst.data = buf;

        if (sl_decode_base64(&dst, &src) != SL_OK
            || dst.len != (size_t) b->len
            || (b->len && memcmp(dst.data, b->data, b->len) != 0))
        {
            abort();
        }

        free(buf);
        return;
    }

    if (json_is_string(v)) {
        /* text: the bytes themselves, or the JSON string they held */
        s = json_string_value(v);
        len = json_string_length(v);

        if (len == (size_t) b->len && memcmp(s, b->data, len) == 0) {
            return;
        }

        if (format != SL_REST_FMT_JSON) {
            abort();
        }
    }

    if (format == SL_REST_FMT_JSON) {
        /* a parsed value: the bytes were JSON that says the same */
        enc = json_loadb((char *) b->data, b->len, JSON_DECODE_ANY, NULL);

        if (enc == NULL || !json_equal(enc, v)) {
            abort();
        }

        json_decref(enc);
        return;
    }

    abort();
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                      *text;
    u_char                    *copy;
    json_t                    *j, *back;
    int32_t                    p;
    sl_int_t                   rc;
    sl_uint_t                  format;
    sl_pool_t                 *pool;
    sl_broker_topic_t          topic;
    sl_broker_partition_t      part;
    sl_broker_batch_record_t   r;
    sl_broker_batch_reader_t   rd;

    if (size > FUZZ_MAX) {
        return 0;
    }

    sl_crc32c_init();
    sl_compress_register();

    pool = sl_create_pool(4096, NULL);
    if (pool == NULL) {
        return 0;
    }

    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        sl_destroy_pool(pool);
        return 0;
    }

    memcpy(copy, data, size);

    sl_memzero(&topic, sizeof(sl_broker_topic_t));
    sl_memzero(&part, sizeof(sl_broker_partition_t));
    sl_str_set(&topic.name, "fuzz");
    topic.partitions_n = 12;
    part.topic = &topic;

    if (sl_broker_batch_open(&rd, copy, size, 0, FUZZ_MAX, pool, NULL)
        != SL_BROKER_OK)
    {
        goto done;
    }

    for ( ;; ) {
        rc = sl_broker_batch_next(&rd, &r);

        if (rc != SL_OK) {
            break;
        }

        if (r.key.len >= 0) {
            p = sl_rest_partition_for_key(r.key.data, r.key.len, 12);

            if (p < 0 || p >= 12) {
                abort();
            }
        }

        for (format = SL_REST_FMT_BINARY; format <= SL_REST_FMT_STRING;
             format++)
        {
            j = sl_rest_record_json(&part, rd.batch.base_offset
                                           + r.offset_delta, &r, format);
            if (j == NULL) {
                continue;
            }

            text = json_dumps(j, JSON_COMPACT);
            back = text ? json_loads(text, JSON_ALLOW_NUL, NULL) : NULL;

            if (text == NULL || back == NULL) {
                abort();
            }

            fuzz_check_bytes(back, "key", &r.key, format);
            fuzz_check_bytes(back, "value", &r.value, format);

            json_decref(back);
            free(text);
            json_decref(j);
        }
    }

done:

    free(copy);
    sl_destroy_pool(pool);

    return 0;
}
