
/*
 * The compress module's codecs: vectors written by other tools (Python's
 * gzip, the lz4 and zstd command-line tools, snappy's format by hand,
 * both snappy framings), round trips at sizes around the block sizes,
 * malformed and truncated inputs, and the decompression cap.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_batch.h>
#include <sl_compress.h>

#include <setjmp.h>
#include <cmocka.h>


typedef sl_int_t (*tc_decompress_pt)(u_char *in, size_t len, size_t max,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log);
typedef sl_int_t (*tc_compress_pt)(u_char *in, size_t len, sl_int_t level,
    sl_pool_t *pool, sl_str_t *out, sl_log_t *log);


typedef struct {
    const char          *name;
    tc_compress_pt       compress;
    tc_decompress_pt     decompress;
    sl_uint_t            codec;
} tc_codec_t;


static sl_open_file_t  tc_errfile = { 2, sl_null_string };
static sl_log_t        tc_log_s;
static sl_log_t       *tc_log = &tc_log_s;
static sl_pool_t      *tc_pool;


static tc_codec_t  tc_codecs[] = {
    { "gzip", sl_compress_gzip_compress, sl_compress_gzip_decompress,
      SL_BROKER_CODEC_GZIP },
    { "snappy", sl_compress_snappy_compress, sl_compress_snappy_decompress,
      SL_BROKER_CODEC_SNAPPY },
    { "xerial", sl_compress_snappy_xerial_compress,
      sl_compress_snappy_decompress, SL_BROKER_CODEC_SNAPPY },
    { "lz4", sl_compress_lz4_compress, sl_compress_lz4_decompress,
      SL_BROKER_CODEC_LZ4 },
    { "zstd", sl_compress_zstd_compress, sl_compress_zstd_decompress,
      SL_BROKER_CODEC_ZSTD },
    { NULL, NULL, NULL, 0 }
};


#define TC_HELLO      "hello world"
#define TC_HELLO_LEN  (sizeof(TC_HELLO) - 1)


static int
tc_setup(void **state)
{
    tc_log_s.log_level = getenv("TC_VERBOSE") ? SL_LOG_DEBUG : SL_LOG_CRIT;
    tc_log_s.file = &tc_errfile;

    tc_pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, tc_log);

    return tc_pool == NULL;
}


static int
tc_teardown(void **state)
{
    sl_destroy_pool(tc_pool);
    return 0;
}


static size_t
tc_unhex(const char *hex, u_char *buf)
{
    size_t        n;
    unsigned int  b;

    for (n = 0; hex[2 * n] != '\0'; n++) {
        assert_int_equal(sscanf(hex + 2 * n, "%2x", &b), 1);
        buf[n] = (u_char) b;
    }

    return n;
}


static void
tc_decode_hex(tc_decompress_pt decompress, const char *hex)
{
    u_char    buf[256];
    size_t    n;
    sl_str_t  out;

    n = tc_unhex(hex, buf);

    assert_int_equal(decompress(buf, n, 1024, tc_pool, &out, tc_log),
                     SL_BROKER_OK);
    assert_int_equal(out.len, TC_HELLO_LEN);
    assert_memory_equal(out.data, TC_HELLO, TC_HELLO_LEN);

    /* exactly the size is allowed, one byte less is not */

    assert_int_equal(decompress(buf, n, TC_HELLO_LEN, tc_pool, &out, tc_log),
                     SL_BROKER_OK);
    assert_int_equal(decompress(buf, n, TC_HELLO_LEN - 1, tc_pool, &out,
                                tc_log),
                     SL_BROKER_ERR_TOO_LARGE);
}


static void
test_compress_vectors(void **state)
{
    /* Python: gzip.compress(b"hello world", mtime=0) */
    tc_decode_hex(sl_compress_gzip_decompress,
                  "1f8b0800000000000203cb48cdc9c95728cf2fca490100"
                  "85114a0d0b000000");

    /* zlib.compress(b"hello world"): a zlib stream is accepted too */
    tc_decode_hex(sl_compress_gzip_decompress,
                  "789ccb48cdc9c95728cf2fca4901001a0b045d");

    /* lz4 -q --no-frame-crc; then with the content checksum */
    tc_decode_hex(sl_compress_lz4_decompress,
                  "04224d186040820b00008068656c6c6f20776f726c6400000000");
    tc_decode_hex(sl_compress_lz4_decompress,
                  "04224d186440a70b00008068656c6c6f20776f726c6400000000"
                  "2266bbce");

    /* zstd -q (with the content checksum) */
    tc_decode_hex(sl_compress_zstd_decompress,
                  "28b52ffd240b59000068656c6c6f20776f726c6468691eb2");

    /* snappy by the format: length 11, one literal of 11 ((11-1) << 2) */
    tc_decode_hex(sl_compress_snappy_decompress,
                  "0b2868656c6c6f20776f726c64");

    /* xerial: magic, version 1, compatible 1, two blocks "hello " and
     * "world" as snappy-java and kafka-python frame them */
    tc_decode_hex(sl_compress_snappy_decompress,
                  "82534e41505059000000000100000001"
                  "00000008" "0614" "68656c6c6f20"
                  "00000007" "0510" "776f726c64");
}


static void
tc_fill(u_char *p, size_t n, sl_uint_t seed)
{
    size_t    i;
    uint32_t  x;

    /* half text-like (compressible), half noise */

    x = (uint32_t) seed * 2654435761u + 1;

    for (i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;

        if ((i / 512) % 2) {
            p[i] = (u_char) (x >> 16);

        } else {
            p[i] = (u_char) "sluice kafka broker "[i % 20];
        }
    }
}


static void
test_compress_round_trips(void **state)
{
    u_char      *data;
    size_t       sizes[] = { 0, 1, 100, 32 * 1024, 32 * 1024 + 1,
                             65536, 65537, 200000, 1024 * 1024 + 3 };
    sl_str_t     c, d;
    sl_uint_t    i, k;
    sl_pool_t   *pool;
    tc_codec_t  *tc;
    sl_int_t     levels[] = { 0, 1, 9 };

    data = malloc(sizes[8]);
    assert_non_null(data);

    for (tc = tc_codecs; tc->name; tc++) {
        for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            for (k = 0; k < 3; k++) {

                pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, tc_log);
                assert_non_null(pool);

                tc_fill(data, sizes[i], i);

                assert_int_equal(tc->compress(data, sizes[i], levels[k],
                                              pool, &c, tc_log),
                                 SL_BROKER_OK);
                assert_int_equal(tc->decompress(c.data, c.len, sizes[i],
                                                pool, &d, tc_log),
                                 SL_BROKER_OK);
                assert_int_equal(d.len, sizes[i]);

                if (sizes[i]) {
                    assert_memory_equal(d.data, data, sizes[i]);
                }

                sl_destroy_pool(pool);
            }
        }
    }

    free(data);
}


static void
test_compress_xerial(void **state)
{
    u_char    *data;
    size_t     n;
    sl_str_t   c, d;

    n = 100000;
    data = sl_palloc(tc_pool, n);
    tc_fill(data, n, 7);

    assert_int_equal(sl_compress_snappy_xerial_compress(data, n, 0, tc_pool,
                                                        &c, tc_log),
                     SL_BROKER_OK);
    assert_memory_equal(c.data, "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);

    assert_int_equal(sl_compress_snappy_decompress(c.data, c.len, n,
                                                   tc_pool, &d, tc_log),
                     SL_BROKER_OK);
    assert_int_equal(d.len, n);
    assert_memory_equal(d.data, data, n);

    /* a block length beyond the input */
    c.data[16] = 0x7f;
    assert_int_equal(sl_compress_snappy_decompress(c.data, c.len, n,
                                                   tc_pool, &d, tc_log),
                     SL_BROKER_ERR_CORRUPT);

    /* the raw form written by the broker has no magic */
    assert_int_equal(sl_compress_snappy_compress(data, n, 0, tc_pool, &c,
                                                 tc_log),
                     SL_BROKER_OK);
    assert_memory_not_equal(c.data, "\x82SNAPPY\0", 8);

    /* a header alone: no blocks, nothing */
    assert_int_equal(sl_compress_snappy_decompress(
                         (u_char *) "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16, n,
                         tc_pool, &d, tc_log),
                     SL_BROKER_OK);
    assert_int_equal(d.len, 0);
}


static void
test_compress_truncated(void **state)
{
    u_char      *data;
    size_t       n, cut;
    sl_int_t     rc;
    sl_str_t     c, d;
    sl_pool_t   *pool;
    tc_codec_t  *tc;

    n = 3000;

    for (tc = tc_codecs; tc->name; tc++) {
        data = sl_palloc(tc_pool, n);
        tc_fill(data, n, 3);

        assert_int_equal(tc->compress(data, n, 0, tc_pool, &c, tc_log),
                         SL_BROKER_OK);

        for (cut = 0; cut < c.len; cut++) {
            pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, tc_log);

            rc = tc->decompress(c.data, cut, n, pool, &d, tc_log);

            /*
             * xerial cannot tell a stream cut between its blocks (or
             * after its header) from a shorter one: the data differ
             */

            if (rc == SL_BROKER_OK) {
                assert_string_equal(tc->name, "xerial");
                assert_true(d.len < n);

            } else {
                /* a cut xerial header reads as a raw length: too large */
                assert_true(rc == SL_BROKER_ERR_CORRUPT
                            || rc == SL_BROKER_ERR_TOO_LARGE);
            }

            sl_destroy_pool(pool);
        }
    }
}


static void
test_compress_garbage(void **state)
{
    u_char      buf[4096];
    sl_int_t    rc;
    sl_str_t    c, d;
    sl_uint_t   i, j, seed;
    tc_codec_t  *tc;
    sl_pool_t   *pool;

    /* noise: refused, never read out of bounds */

    for (tc = tc_codecs; tc->name; tc++) {
        for (seed = 0; seed < 200; seed++) {
            pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, tc_log);

            tc_fill(buf, sizeof(buf), seed + 1);
            for (i = 0; i < sizeof(buf); i++) {
                buf[i] ^= (u_char) (seed * 31 + i);
            }

            rc = tc->decompress(buf, 1 + seed * 20, 1 << 20, pool, &d,
                                tc_log);
            assert_true(rc == SL_BROKER_ERR_CORRUPT
                        || rc == SL_BROKER_OK
                        || rc == SL_BROKER_ERR_TOO_LARGE);

            sl_destroy_pool(pool);
        }
    }

    /* one damaged byte at a time in valid data */

    for (tc = tc_codecs; tc->name; tc++) {
        tc_fill(buf, 1000, 5);

        assert_int_equal(tc->compress(buf, 1000, 0, tc_pool, &c, tc_log),
                         SL_BROKER_OK);

        for (j = 0; j < c.len; j++) {
            pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, tc_log);

            c.data[j] ^= 0x5a;
            rc = tc->decompress(c.data, c.len, 1 << 20, pool, &d, tc_log);
            assert_true(rc == SL_BROKER_ERR_CORRUPT
                        || rc == SL_BROKER_OK
                        || rc == SL_BROKER_ERR_TOO_LARGE);
            c.data[j] ^= 0x5a;

            sl_destroy_pool(pool);
        }
    }

    /* empty inputs */
    for (tc = tc_codecs; tc->name; tc++) {
        rc = tc->decompress(buf, 0, 1024, tc_pool, &d, tc_log);
        assert_int_equal(rc, SL_BROKER_ERR_CORRUPT);
    }

    /* trailing garbage after a gzip member */
    tc_fill(buf, 100, 1);
    assert_int_equal(sl_compress_gzip_compress(buf, 100, 0, tc_pool, &c,
                                               tc_log),
                     SL_BROKER_OK);
    sl_memcpy(buf, c.data, c.len);
    buf[c.len] = 'x';
    buf[c.len + 1] = 'y';
    assert_int_equal(sl_compress_gzip_decompress(buf, c.len + 2, 1024,
                                                 tc_pool, &d, tc_log),
                     SL_BROKER_ERR_CORRUPT);

    /* two members are one stream */
    sl_memcpy(buf + c.len, c.data, c.len);
    assert_int_equal(sl_compress_gzip_decompress(buf, 2 * c.len, 1024,
                                                 tc_pool, &d, tc_log),
                     SL_BROKER_OK);
    assert_int_equal(d.len, 200);
}


static void
test_compress_bomb(void **state)
{
    u_char      *zeros;
    size_t       n;
    sl_str_t     c, d;
    sl_pool_t   *pool;
    tc_codec_t  *tc;

    /* 16 MB of zeros compress to a few KB: the cap stops them early */

    n = 16 * 1024 * 1024;
    zeros = calloc(1, n);
    assert_non_null(zeros);

    for (tc = tc_codecs; tc->name; tc++) {
        pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, tc_log);

        assert_int_equal(tc->compress(zeros, n, 0, pool, &c, tc_log),
                         SL_BROKER_OK);
        assert_true(c.len < n / 10);

        assert_int_equal(tc->decompress(c.data, c.len, 1024 * 1024, pool,
                                        &d, tc_log),
                         SL_BROKER_ERR_TOO_LARGE);
        assert_int_equal(tc->decompress(c.data, c.len, n - 1, pool, &d,
                                        tc_log),
                         SL_BROKER_ERR_TOO_LARGE);
        assert_int_equal(tc->decompress(c.data, c.len, n, pool, &d, tc_log),
                         SL_BROKER_OK);
        assert_int_equal(d.len, n);

        sl_destroy_pool(pool);
    }

    free(zeros);

    /* a raw snappy length of 2 GB is refused before any allocation */
    assert_int_equal(sl_compress_snappy_decompress(
                         (u_char *) "\x80\x80\x80\x80\x08\x00", 6,
                         1024 * 1024, tc_pool, &d, tc_log),
                     SL_BROKER_ERR_TOO_LARGE);

    /* a zstd frame announcing 1 TB: the hint is ignored */
    {
        u_char  frame[32];
        size_t  len;

        len = tc_unhex("28b52ffd240b59000068656c6c6f20776f726c6468691eb2",
                       frame);
        assert_int_equal(sl_compress_zstd_decompress(frame, len, 5, tc_pool,
                                                     &d, tc_log),
                         SL_BROKER_ERR_TOO_LARGE);
    }
}


static void
test_compress_registry(void **state)
{
    u_char    buf[64];
    size_t    n;
    sl_str_t  out;

    assert_true(sl_broker_codec_available(SL_BROKER_CODEC_NONE));

    sl_compress_register();

    assert_true(sl_broker_codec_available(SL_BROKER_CODEC_GZIP));
    assert_true(sl_broker_codec_available(SL_BROKER_CODEC_SNAPPY));
    assert_true(sl_broker_codec_available(SL_BROKER_CODEC_LZ4));
    assert_true(sl_broker_codec_available(SL_BROKER_CODEC_ZSTD));
    assert_false(sl_broker_codec_available(5));

    assert_string_equal(sl_broker_codec_name(SL_BROKER_CODEC_ZSTD), "zstd");
    assert_int_equal(sl_broker_codec_by_name((u_char *) "LZ4", 3),
                     SL_BROKER_CODEC_LZ4);
    assert_int_equal(sl_broker_codec_by_name((u_char *) "none", 4),
                     SL_BROKER_CODEC_NONE);
    assert_int_equal(sl_broker_codec_by_name((u_char *) "brotli", 6),
                     SL_ERROR);

    n = tc_unhex("0b2868656c6c6f20776f726c64", buf);
    assert_int_equal(sl_broker_decompress(SL_BROKER_CODEC_SNAPPY, buf, n, 0,
                                          tc_pool, &out, tc_log),
                     SL_BROKER_OK);
    assert_int_equal(out.len, TC_HELLO_LEN);

    assert_int_equal(sl_broker_decompress(6, buf, n, 0, tc_pool, &out,
                                          tc_log),
                     SL_BROKER_ERR_CORRUPT);

    assert_int_equal(sl_broker_compress(SL_BROKER_CODEC_NONE, buf, n, 0,
                                        tc_pool, &out, tc_log),
                     SL_BROKER_OK);
    assert_ptr_equal(out.data, buf);

    assert_int_equal(sl_compress_level_valid(SL_BROKER_CODEC_GZIP, 9), SL_OK);
    assert_int_equal(sl_compress_level_valid(SL_BROKER_CODEC_GZIP, 10),
                     SL_ERROR);
    assert_int_equal(sl_compress_level_valid(SL_BROKER_CODEC_ZSTD, 19),
                     SL_OK);
    assert_int_equal(sl_compress_level_valid(SL_BROKER_CODEC_SNAPPY, 3),
                     SL_ERROR);
    assert_int_equal(sl_compress_level_valid(SL_BROKER_CODEC_SNAPPY, 0),
                     SL_OK);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_compress_vectors),
        cmocka_unit_test(test_compress_round_trips),
        cmocka_unit_test(test_compress_xerial),
        cmocka_unit_test(test_compress_truncated),
        cmocka_unit_test(test_compress_garbage),
        cmocka_unit_test(test_compress_bomb),
        cmocka_unit_test(test_compress_registry),
    };

    return cmocka_run_group_tests(tests, tc_setup, tc_teardown);
}
