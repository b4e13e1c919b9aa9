
/*
 * libFuzzer target for the record-batch reader (sl_broker_batch.h): the
 * input is a batch, its CRC not checked so that the records themselves
 * are reached; compressed ones go through the codecs under a 1 MB cap.
 * A batch that reads to its end is rebuilt by the writer and by
 * recompression, and both must read back to the same records.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_batch.h>
#include <sl_compress.h>


#define FUZZ_MAX  (1024 * 1024)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static sl_uint_t fuzz_same(sl_broker_batch_record_t *a,
    sl_broker_batch_record_t *b);


static sl_uint_t
fuzz_bytes_same(sl_broker_bytes_t *a, sl_broker_bytes_t *b)
{
    return a->len == b->len
           && (a->len <= 0 || memcmp(a->data, b->data, a->len) == 0);
}


static sl_uint_t
fuzz_same(sl_broker_batch_record_t *a, sl_broker_batch_record_t *b)
{
    sl_uint_t  i;

    if (!fuzz_bytes_same(&a->key, &b->key)
        || !fuzz_bytes_same(&a->value, &b->value)
        || a->nheaders != b->nheaders
        || a->timestamp != b->timestamp)
    {
        return 0;
    }

    for (i = 0; i < a->nheaders; i++) {
        if (!fuzz_bytes_same(&a->headers[i].key, &b->headers[i].key)
            || !fuzz_bytes_same(&a->headers[i].value, &b->headers[i].value))
        {
            return 0;
        }
    }

    return 1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                    *copy;
    sl_int_t                   rc, rc2;
    sl_str_t                   built, recompressed;
    sl_uint_t                  n;
    sl_pool_t                 *pool;
    const char                *error;
    sl_broker_batch_record_t   r, r2;
    sl_broker_batch_reader_t   rd, rd2;
    sl_broker_batch_writer_t   w;

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

    if (sl_broker_batch_open(&rd, copy, size, 0, FUZZ_MAX, pool, NULL)
        != SL_BROKER_OK)
    {
        goto done;
    }

    sl_broker_batch_writer_init(&w, pool, NULL);
    sl_broker_batch_writer_from(&w, &rd.batch);
    w.keep_deltas = 1;

    for (n = 0; ; n++) {
        rc = sl_broker_batch_next(&rd, &r);

        if (rc == SL_DONE) {
            break;
        }

        if (rc != SL_OK) {
            goto done;
        }

        if (r.key.len > 0 && (r.key.data < rd.records
                              || r.key.data + r.key.len
                                 > rd.records + rd.records_len))
        {
            abort();
        }

        if (sl_broker_batch_add(&w, &r) != SL_BROKER_OK) {
            /* offset deltas out of order: the writer refuses them */
            goto done;
        }
    }

    /* the whole batch read: rebuild it two ways */

    if (sl_broker_batch_finish(&w, &built) != SL_BROKER_OK) {
        goto done;
    }

    rc = sl_broker_batch_recompress(copy, size, SL_BROKER_CODEC_NONE, 0,
                                    FUZZ_MAX, pool, &recompressed, &error,
                                    NULL);
    if (rc != SL_BROKER_OK) {
        abort();
    }

    if (n == 0) {
        goto done;
    }

    if (sl_broker_batch_open(&rd, copy, size, 0, FUZZ_MAX, pool, NULL)
        != SL_BROKER_OK
        || sl_broker_batch_open(&rd2, recompressed.data, recompressed.len,
                                1, FUZZ_MAX, pool, NULL)
           != SL_BROKER_OK)
    {
        abort();
    }

    for ( ;; ) {
        rc = sl_broker_batch_next(&rd, &r);
        rc2 = sl_broker_batch_next(&rd2, &r2);

        if (rc != rc2) {
            abort();
        }

        if (rc != SL_OK) {
            break;
        }

        if (!fuzz_same(&r, &r2)) {
            abort();
        }
    }

    if (sl_broker_batch_open(&rd2, built.data, built.len, 1, FUZZ_MAX, pool,
                             NULL)
        != SL_BROKER_OK)
    {
        abort();
    }

done:

    free(copy);
    sl_destroy_pool(pool);

    return 0;
}
