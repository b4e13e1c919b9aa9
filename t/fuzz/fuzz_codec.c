
/*
 * libFuzzer target for the codecs of the compress module: the first
 * byte picks gzip, snappy (raw or xerial, found by the magic), lz4 or
 * zstd, the rest is decompressed under a 1 MB cap.  Output that
 * decompresses is compressed again and must come back identical.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_batch.h>
#include <sl_compress.h>


#define FUZZ_MAX  (1024 * 1024)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char     *copy;
    sl_int_t    rc;
    sl_str_t    out, again, back;
    sl_uint_t   codec;
    sl_pool_t  *pool;

    if (size < 1 || size > FUZZ_MAX) {
        return 0;
    }

    sl_compress_register();

    codec = 1 + data[0] % 4;

    pool = sl_create_pool(4096, NULL);
    if (pool == NULL) {
        return 0;
    }

    /* a copy of exactly the input, so that ASan sees any overread */
    copy = malloc(size - 1 ? size - 1 : 1);
    if (copy == NULL) {
        sl_destroy_pool(pool);
        return 0;
    }

    memcpy(copy, data + 1, size - 1);

    rc = sl_broker_decompress(codec, copy, size - 1, FUZZ_MAX, pool, &out,
                              NULL);

    if (rc == SL_BROKER_OK) {
        if (out.len > FUZZ_MAX) {
            abort();
        }

        if (sl_broker_compress(codec, out.data, out.len, 0, pool, &again,
                               NULL)
            != SL_BROKER_OK)
        {
            abort();
        }

        if (sl_broker_decompress(codec, again.data, again.len, FUZZ_MAX,
                                 pool, &back, NULL)
            != SL_BROKER_OK
            || back.len != out.len
            || (out.len && memcmp(back.data, out.data, out.len) != 0))
        {
            abort();
        }

    } else if (rc != SL_BROKER_ERR_CORRUPT
               && rc != SL_BROKER_ERR_TOO_LARGE)
    {
        abort();
    }

    free(copy);
    sl_destroy_pool(pool);

    return 0;
}
