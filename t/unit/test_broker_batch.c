
/*
 * The record-batch reader and writer: round trips of plain and
 * compressed batches (null and empty keys and values, headers,
 * timestamps before the first one, producer fields), recompression,
 * the error without a codec, and every truncation and a set of corrupt
 * records, which must be refused without reading out of bounds.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>
#include <sl_broker_batch.h>
#include <sl_compress.h>

#include <setjmp.h>
#include <cmocka.h>


#define TB_NRECORDS  40


static sl_open_file_t  tb_errfile = { 2, sl_null_string };
static sl_log_t        tb_log_s;
static sl_log_t       *tb_log = &tb_log_s;
static sl_pool_t      *tb_pool;

static sl_broker_header_t  tb_headers[12];


static int
tb_setup(void **state)
{
    sl_uint_t  i;

    tb_log_s.log_level = getenv("TB_VERBOSE") ? SL_LOG_DEBUG : SL_LOG_CRIT;
    tb_log_s.file = &tb_errfile;

    sl_crc32c_init();

    tb_pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, tb_log);

    for (i = 0; i < 12; i++) {
        tb_headers[i].key.data = (u_char *) "header-key";
        tb_headers[i].key.len = (int32_t) (i % 11);

        if (i == 3) {
            tb_headers[i].value.data = NULL;
            tb_headers[i].value.len = -1;

        } else {
            tb_headers[i].value.data = (u_char *) "header-value!";
            tb_headers[i].value.len = (int32_t) (i % 13);
        }
    }

    return tb_pool == NULL;
}


static int
tb_teardown(void **state)
{
    sl_destroy_pool(tb_pool);
    return 0;
}


static const char  tb_value[] =
    "The quick brown fox jumps over the lazy dog; the quick brown fox "
    "jumps over the lazy dog; the quick brown fox jumps over the lazy "
    "dog; the quick brown fox jumps over the lazy dog; the quick brown "
    "fox jumps over the lazy dog; the quick brown fox jumps over the la";


/* record i of the test set: every kind of key, value and header list */
static void
tb_record(sl_uint_t i, sl_broker_batch_record_t *r, u_char *buf)
{
    sl_memzero(r, sizeof(sl_broker_batch_record_t));

    switch (i % 4) {
    case 0:
        r->key.data = NULL;
        r->key.len = -1;
        break;
    case 1:
        r->key.data = (u_char *) "";
        r->key.len = 0;
        break;
    default:
        r->key.len = sprintf((char *) buf, "key-%u", (unsigned) i);
        r->key.data = buf;
    }

    switch (i % 5) {
    case 0:
        r->value.data = NULL;
        r->value.len = -1;
        break;
    case 1:
        r->value.data = (u_char *) "";
        r->value.len = 0;
        break;
    default:
        r->value.len = (int32_t) (i * 37 % 250);
        r->value.data = (u_char *) tb_value;
    }

    r->headers = (i % 3 == 0) ? NULL : tb_headers;
    r->nheaders = (i % 3 == 0) ? 0 : (i % 13);

    /* earlier than the first one too: negative deltas */
    r->timestamp = 1700000000000LL + (int64_t) (i * 1000) - 5000;
}


static void
tb_bytes_equal(sl_broker_bytes_t *a, sl_broker_bytes_t *b)
{
    assert_int_equal(a->len, b->len);

    if (a->len < 0) {
        assert_null(b->data);
        return;
    }

    assert_non_null(b->data);

    if (a->len > 0) {
        assert_memory_equal(a->data, b->data, (size_t) a->len);
    }
}


static void
tb_check_records(sl_broker_batch_reader_t *rd, sl_uint_t n,
    sl_uint_t renumbered)
{
    u_char                    buf[32];
    sl_uint_t                 i, h;
    sl_broker_batch_record_t  want, got;

    for (i = 0; i < n; i++) {
        assert_int_equal(sl_broker_batch_next(rd, &got), SL_OK);

        tb_record(i, &want, buf);

        if (renumbered) {
            assert_int_equal(got.offset_delta, (int32_t) i);
        }

        tb_bytes_equal(&want.key, &got.key);
        tb_bytes_equal(&want.value, &got.value);
        assert_true(got.timestamp == want.timestamp);
        assert_int_equal(got.nheaders, want.nheaders);

        for (h = 0; h < want.nheaders; h++) {
            tb_bytes_equal(&want.headers[h].key, &got.headers[h].key);
            tb_bytes_equal(&want.headers[h].value, &got.headers[h].value);
        }
    }

    assert_int_equal(sl_broker_batch_next(rd, &got), SL_DONE);
    assert_int_equal(sl_broker_batch_next(rd, &got), SL_DONE);
}


static void
tb_build(sl_uint_t codec, sl_uint_t n, sl_str_t *out)
{
    u_char                    buf[32];
    sl_uint_t                 i;
    sl_broker_batch_record_t  r;
    sl_broker_batch_writer_t  w;

    sl_broker_batch_writer_init(&w, tb_pool, tb_log);

    w.attributes = (int16_t) codec;
    w.producer_id = 4242;
    w.producer_epoch = 7;
    w.base_sequence = 100;

    for (i = 0; i < n; i++) {
        tb_record(i, &r, buf);
        assert_int_equal(sl_broker_batch_add(&w, &r), SL_BROKER_OK);
    }

    assert_int_equal(sl_broker_batch_finish(&w, out), SL_BROKER_OK);
}


static void
test_batch_no_codec(void **state)
{
    sl_str_t                  out;
    sl_broker_batch_reader_t  rd;
    sl_broker_batch_writer_t  w;
    sl_broker_batch_record_t  r;

    /* before sl_compress_register(): only uncompressed batches */

    sl_broker_batch_writer_init(&w, tb_pool, tb_log);
    w.attributes = SL_BROKER_CODEC_ZSTD;

    sl_memzero(&r, sizeof(r));
    r.key.len = -1;
    r.value.len = -1;

    assert_int_equal(sl_broker_batch_add(&w, &r), SL_BROKER_OK);
    assert_int_equal(sl_broker_batch_finish(&w, &out),
                     SL_BROKER_ERR_NO_CODEC);

    /* a hand-made "compressed" batch cannot be opened */

    w.attributes = SL_BROKER_CODEC_NONE;
    assert_int_equal(sl_broker_batch_finish(&w, &out), SL_BROKER_OK);

    out.data[SL_BROKER_B_ATTRIBUTES + 1] |= SL_BROKER_CODEC_SNAPPY;
    sl_broker_batch_set_crc(out.data, out.len);

    assert_int_equal(sl_broker_batch_open(&rd, out.data, out.len, 1, 0,
                                          tb_pool, tb_log),
                     SL_BROKER_ERR_NO_CODEC);
    assert_non_null(strstr(rd.error, "compress module"));
}


static void
test_batch_plain(void **state)
{
    sl_str_t                  out;
    sl_broker_batch_t         b;
    sl_broker_batch_reader_t  rd;

    tb_build(SL_BROKER_CODEC_NONE, TB_NRECORDS, &out);

    assert_int_equal(sl_broker_batch_parse(out.data, out.len, &b),
                     SL_BROKER_OK);
    assert_int_equal(b.magic, 2);
    assert_int_equal(b.records_count, TB_NRECORDS);
    assert_int_equal(b.last_offset_delta, TB_NRECORDS - 1);
    assert_true(b.first_timestamp == 1700000000000LL - 5000);
    assert_true(b.max_timestamp
                == 1700000000000LL + (TB_NRECORDS - 1) * 1000 - 5000);
    assert_true(b.producer_id == 4242);
    assert_int_equal(b.producer_epoch, 7);
    assert_int_equal(b.base_sequence, 100);
    assert_int_equal(b.leader_epoch, -1);
    assert_int_equal(b.attributes, 0);
    assert_int_equal((size_t) b.length + 12, out.len);

    assert_int_equal(sl_broker_batch_open(&rd, out.data, out.len, 1, 0,
                                          tb_pool, tb_log),
                     SL_BROKER_OK);
    assert_int_equal(rd.codec, SL_BROKER_CODEC_NONE);
    assert_ptr_equal(rd.records, out.data + SL_BROKER_BATCH_HEADER_SIZE);

    tb_check_records(&rd, TB_NRECORDS, 1);

    /* the broker's own record walker agrees */
    {
        u_char              *p, *last;
        sl_uint_t            n;
        sl_broker_record_t   r;

        p = out.data + SL_BROKER_BATCH_HEADER_SIZE;
        last = out.data + out.len;

        for (n = 0; sl_broker_record_next(&p, last, &r) == SL_OK; n++) {
            /* void */
        }

        assert_int_equal(n, TB_NRECORDS);
        assert_ptr_equal(p, last);
    }

    /* an empty writer writes nothing */
    {
        sl_broker_batch_writer_t  w;

        sl_broker_batch_writer_init(&w, tb_pool, tb_log);
        assert_int_equal(sl_broker_batch_finish(&w, &out), SL_BROKER_OK);
        assert_int_equal(out.len, 0);
    }
}


static void
test_batch_compressed(void **state)
{
    sl_str_t                  out;
    sl_uint_t                 codec;
    sl_broker_batch_t         b;
    sl_broker_batch_reader_t  rd;

    sl_compress_register();

    for (codec = 1; codec < SL_BROKER_CODEC_N; codec++) {
        tb_build(codec, TB_NRECORDS, &out);

        assert_int_equal(sl_broker_batch_parse(out.data, out.len, &b),
                         SL_BROKER_OK);
        assert_int_equal(b.attributes, (int16_t) codec);

        assert_int_equal(sl_broker_batch_open(&rd, out.data, out.len, 1, 0,
                                              tb_pool, tb_log),
                         SL_BROKER_OK);
        assert_int_equal(rd.codec, codec);

        tb_check_records(&rd, TB_NRECORDS, 1);

        /* the cap applies to the decompressed records */
        assert_int_equal(sl_broker_batch_open(&rd, out.data, out.len, 1, 100,
                                              tb_pool, tb_log),
                         SL_BROKER_ERR_TOO_LARGE);
    }
}


static void
test_batch_recompress(void **state)
{
    sl_str_t                  plain, out, again;
    sl_uint_t                 from, to;
    const char               *error;
    sl_broker_batch_t         a, b;
    sl_broker_batch_reader_t  rd;

    sl_compress_register();

    for (from = 0; from < SL_BROKER_CODEC_N; from++) {
        tb_build(from, TB_NRECORDS, &plain);

        for (to = 0; to < SL_BROKER_CODEC_N; to++) {
            assert_int_equal(sl_broker_batch_recompress(plain.data, plain.len,
                                 to, 0, 0, tb_pool, &out, &error, tb_log),
                             SL_BROKER_OK);

            assert_int_equal(sl_broker_batch_parse(plain.data, plain.len,
                                                   &a),
                             SL_BROKER_OK);
            assert_int_equal(sl_broker_batch_parse(out.data, out.len, &b),
                             SL_BROKER_OK);

            assert_int_equal(b.attributes & 7, (int16_t) to);
            assert_int_equal(a.attributes & ~7, b.attributes & ~7);
            assert_int_equal(a.last_offset_delta, b.last_offset_delta);
            assert_true(a.first_timestamp == b.first_timestamp);
            assert_true(a.max_timestamp == b.max_timestamp);
            assert_true(a.producer_id == b.producer_id);
            assert_int_equal(a.producer_epoch, b.producer_epoch);
            assert_int_equal(a.base_sequence, b.base_sequence);
            assert_int_equal(a.records_count, b.records_count);

            assert_int_equal(sl_broker_batch_open(&rd, out.data, out.len, 1,
                                                  0, tb_pool, tb_log),
                             SL_BROKER_OK);
            tb_check_records(&rd, TB_NRECORDS, 1);

            /* and back: the plain records are byte for byte the same */
            assert_int_equal(sl_broker_batch_recompress(out.data, out.len,
                                 SL_BROKER_CODEC_NONE, 0, 0, tb_pool, &again,
                                 &error, tb_log),
                             SL_BROKER_OK);

            if (from == SL_BROKER_CODEC_NONE) {
                assert_int_equal(again.len, plain.len);
                assert_memory_equal(again.data, plain.data, plain.len);
            }
        }
    }

    /* garbage under a valid CRC is refused, and says so */

    tb_build(SL_BROKER_CODEC_LZ4, TB_NRECORDS, &plain);
    sl_memset(plain.data + SL_BROKER_BATCH_HEADER_SIZE + 10, 0xee, 20);
    sl_broker_batch_set_crc(plain.data, plain.len);

    assert_int_equal(sl_broker_batch_recompress(plain.data, plain.len,
                         SL_BROKER_CODEC_ZSTD, 0, 0, tb_pool, &out, &error,
                         tb_log),
                     SL_BROKER_ERR_CORRUPT);
    assert_non_null(error);
}


static void
test_batch_writer_options(void **state)
{
    sl_str_t                  out;
    sl_broker_batch_t         b, src;
    sl_broker_batch_record_t  r;
    sl_broker_batch_reader_t  rd;
    sl_broker_batch_writer_t  w;

    /* keep_deltas: compaction keeps the gaps */

    sl_broker_batch_writer_init(&w, tb_pool, tb_log);
    w.keep_deltas = 1;

    sl_memzero(&r, sizeof(r));
    r.key.data = (u_char *) "k";
    r.key.len = 1;
    r.value.len = -1;
    r.timestamp = 5000;

    r.offset_delta = 3;
    assert_int_equal(sl_broker_batch_add(&w, &r), SL_BROKER_OK);
    r.offset_delta = 3;
    assert_int_equal(sl_broker_batch_add(&w, &r),
                     SL_BROKER_ERR_INVALID_RECORD);
    r.offset_delta = 9;
    r.timestamp = 4000;
    assert_int_equal(sl_broker_batch_add(&w, &r), SL_BROKER_OK);

    assert_int_equal(sl_broker_batch_finish(&w, &out), SL_BROKER_OK);
    assert_int_equal(sl_broker_batch_parse(out.data, out.len, &b),
                     SL_BROKER_OK);
    assert_int_equal(b.last_offset_delta, 9);
    assert_int_equal(b.records_count, 2);
    assert_true(b.first_timestamp == 5000);
    assert_true(b.max_timestamp == 5000);

    assert_int_equal(sl_broker_batch_open(&rd, out.data, out.len, 1, 0,
                                          tb_pool, tb_log),
                     SL_BROKER_OK);
    assert_int_equal(sl_broker_batch_next(&rd, &r), SL_OK);
    assert_int_equal(r.offset_delta, 3);
    assert_int_equal(sl_broker_batch_next(&rd, &r), SL_OK);
    assert_int_equal(r.offset_delta, 9);
    assert_true(r.timestamp == 4000);
    assert_true(r.timestamp_delta == -1000);

    /* writer_from: producer fields, attributes and base timestamp kept */

    sl_memzero(&src, sizeof(src));
    src.attributes = SL_BROKER_BATCH_TXN;
    src.leader_epoch = 3;
    src.producer_id = 99;
    src.producer_epoch = 2;
    src.base_sequence = 17;
    src.first_timestamp = 1000;

    sl_broker_batch_writer_init(&w, tb_pool, tb_log);
    sl_broker_batch_writer_from(&w, &src);

    r.timestamp = 1500;
    assert_int_equal(sl_broker_batch_add(&w, &r), SL_BROKER_OK);
    assert_int_equal(sl_broker_batch_finish(&w, &out), SL_BROKER_OK);
    assert_int_equal(sl_broker_batch_parse(out.data, out.len, &b),
                     SL_BROKER_OK);
    assert_int_equal(b.attributes, SL_BROKER_BATCH_TXN);
    assert_int_equal(b.leader_epoch, 3);
    assert_true(b.producer_id == 99);
    assert_int_equal(b.producer_epoch, 2);
    assert_int_equal(b.base_sequence, 17);
    assert_true(b.first_timestamp == 1000);
    assert_true(b.max_timestamp == 1500);
    assert_int_equal(b.last_offset_delta, 0);

    /* LogAppendTime: every record carries max_timestamp */

    sl_broker_put16(out.data + SL_BROKER_B_ATTRIBUTES,
                    SL_BROKER_BATCH_APPEND_TIME);
    sl_broker_put64(out.data + SL_BROKER_B_MAX_TS, 777777);
    sl_broker_batch_set_crc(out.data, out.len);

    assert_int_equal(sl_broker_batch_open(&rd, out.data, out.len, 1, 0,
                                          tb_pool, tb_log),
                     SL_BROKER_OK);
    assert_int_equal(sl_broker_batch_next(&rd, &r), SL_OK);
    assert_true(r.timestamp == 777777);

    /* bad records are refused by the writer */

    sl_broker_batch_writer_init(&w, tb_pool, tb_log);
    r.key.len = -2;
    assert_int_equal(sl_broker_batch_add(&w, &r),
                     SL_BROKER_ERR_INVALID_RECORD);
}


static void
test_batch_large(void **state)
{
    u_char                   *big;
    sl_str_t                  out;
    sl_uint_t                 i;
    sl_broker_header_t        h[100];
    sl_broker_batch_record_t  r;
    sl_broker_batch_reader_t  rd;
    sl_broker_batch_writer_t  w;

    /* values past the writer's first buffer, many headers per record */

    big = sl_palloc(tb_pool, 300000);
    sl_memset(big, 'v', 300000);

    for (i = 0; i < 100; i++) {
        h[i].key.data = (u_char *) "h";
        h[i].key.len = 1;
        h[i].value.data = big;
        h[i].value.len = (int32_t) i;
    }

    sl_broker_batch_writer_init(&w, tb_pool, tb_log);
    w.attributes = SL_BROKER_CODEC_GZIP;

    for (i = 0; i < 10; i++) {
        sl_memzero(&r, sizeof(r));
        r.key.len = -1;
        r.value.data = big;
        r.value.len = (int32_t) (i * 30000);
        r.headers = h;
        r.nheaders = 100;
        assert_int_equal(sl_broker_batch_add(&w, &r), SL_BROKER_OK);
    }

    assert_int_equal(sl_broker_batch_finish(&w, &out), SL_BROKER_OK);

    assert_int_equal(sl_broker_batch_open(&rd, out.data, out.len, 1, 0,
                                          tb_pool, tb_log),
                     SL_BROKER_OK);

    for (i = 0; i < 10; i++) {
        assert_int_equal(sl_broker_batch_next(&rd, &r), SL_OK);
        assert_int_equal(r.value.len, (int32_t) (i * 30000));
        assert_int_equal(r.nheaders, 100);
        assert_int_equal(r.headers[99].value.len, 99);
        assert_int_equal(r.offset_delta, (int32_t) i);
    }

    assert_int_equal(sl_broker_batch_next(&rd, &r), SL_DONE);
}


static void
tb_walk(u_char *p, size_t len, sl_uint_t check_crc)
{
    sl_int_t                  rc;
    sl_uint_t                 n;
    sl_pool_t                *pool;
    sl_broker_batch_record_t  r;
    sl_broker_batch_reader_t  rd;

    pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, tb_log);

    rc = sl_broker_batch_open(&rd, p, len, check_crc, 1 << 20, pool,
                              tb_log);

    if (rc == SL_BROKER_OK) {
        for (n = 0; n < 100000; n++) {
            rc = sl_broker_batch_next(&rd, &r);
            if (rc != SL_OK) {
                break;
            }
        }
    }

    sl_destroy_pool(pool);
}


static void
test_batch_truncated(void **state)
{
    u_char                    *copy;
    size_t                     cut;
    sl_int_t                   rc;
    sl_str_t                   out;
    sl_uint_t                  codec, n;
    sl_pool_t                 *pool;
    sl_broker_batch_record_t   r;
    sl_broker_batch_reader_t   rd;

    sl_compress_register();

    for (codec = 0; codec < SL_BROKER_CODEC_N; codec++) {
        tb_build(codec, 8, &out);

        copy = sl_palloc(tb_pool, out.len);

        for (cut = 0; cut < out.len; cut++) {

            /* as received: the length or the CRC gives it away */

            sl_memcpy(copy, out.data, cut);
            pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, tb_log);
            assert_int_not_equal(sl_broker_batch_open(&rd, copy, cut, 1, 0,
                                                      pool, tb_log),
                                 SL_BROKER_OK);
            sl_destroy_pool(pool);

            /* with the length and CRC made to fit: the records must */

            if (cut < SL_BROKER_BATCH_HEADER_SIZE) {
                continue;
            }

            sl_broker_put32(copy + SL_BROKER_B_LENGTH, (uint32_t) (cut - 12));
            sl_broker_batch_set_crc(copy, cut);

            pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, tb_log);

            rc = sl_broker_batch_open(&rd, copy, cut, 1, 0, pool, tb_log);

            if (rc == SL_BROKER_OK) {
                for (n = 0; n < 100; n++) {
                    rc = sl_broker_batch_next(&rd, &r);
                    if (rc != SL_OK) {
                        break;
                    }
                }

                /* never all 8 records and a clean end */
                assert_int_not_equal(rc, SL_DONE);
                assert_int_equal(rc, SL_BROKER_ERR_CORRUPT);
                assert_non_null(rd.error);
            }

            sl_destroy_pool(pool);
        }
    }
}


static void
test_batch_corrupt_records(void **state)
{
    u_char                    *b, *rec;
    sl_str_t                   out;
    size_t                     i;
    sl_uint_t                  v;
    sl_broker_batch_record_t   r;
    sl_broker_batch_reader_t   rd;

    /* one record: len, attr, ts delta, offset delta, key -1, value 1 "x",
     * one header "h" -> null */

    tb_build(SL_BROKER_CODEC_NONE, 1, &out);

    b = sl_palloc(tb_pool, 200);

    {
        static const u_char  rec_ok[] = {
            0x14, 0x00, 0x00, 0x00, 0x01, 0x02, 'x',
            0x02, 0x02, 'h', 0x01
        };

        sl_memcpy(b, out.data, SL_BROKER_BATCH_HEADER_SIZE);
        rec = b + SL_BROKER_BATCH_HEADER_SIZE;
        sl_memcpy(rec, rec_ok, sizeof(rec_ok));

        sl_broker_put32(b + SL_BROKER_B_LENGTH,
                        SL_BROKER_BATCH_HEADER_SIZE - 12 + sizeof(rec_ok));
        sl_broker_put32(b + SL_BROKER_B_COUNT, 1);
        sl_broker_batch_set_crc(b, SL_BROKER_BATCH_HEADER_SIZE
                                   + sizeof(rec_ok));

        assert_int_equal(sl_broker_batch_open(&rd, b,
                             SL_BROKER_BATCH_HEADER_SIZE + sizeof(rec_ok), 1,
                             0, tb_pool, tb_log),
                         SL_BROKER_OK);
        assert_int_equal(sl_broker_batch_next(&rd, &r), SL_OK);
        assert_int_equal(r.key.len, -1);
        assert_null(r.key.data);
        assert_int_equal(r.value.len, 1);
        assert_int_equal(r.nheaders, 1);
        assert_int_equal(r.headers[0].value.len, -1);
        assert_int_equal(sl_broker_batch_next(&rd, &r), SL_DONE);

        /* every single byte of the record replaced by every value */

        for (i = 0; i < sizeof(rec_ok); i++) {
            for (v = 0; v < 256; v++) {
                rec[i] = (u_char) v;
                tb_walk(b, SL_BROKER_BATCH_HEADER_SIZE + sizeof(rec_ok), 0);
            }

            rec[i] = rec_ok[i];
        }

        /* records_count says 2, there is 1 */

        sl_broker_put32(b + SL_BROKER_B_COUNT, 2);
        assert_int_equal(sl_broker_batch_open(&rd, b,
                             SL_BROKER_BATCH_HEADER_SIZE + sizeof(rec_ok), 0,
                             0, tb_pool, tb_log),
                         SL_BROKER_ERR_CORRUPT);

        /* records_count says 0, there is 1 */

        sl_broker_put32(b + SL_BROKER_B_COUNT, 0);
        assert_int_equal(sl_broker_batch_open(&rd, b,
                             SL_BROKER_BATCH_HEADER_SIZE + sizeof(rec_ok), 0,
                             0, tb_pool, tb_log),
                         SL_BROKER_OK);
        assert_int_equal(sl_broker_batch_next(&rd, &r),
                         SL_BROKER_ERR_CORRUPT);

        /* a huge header count */

        sl_broker_put32(b + SL_BROKER_B_COUNT, 1);
        rec[7] = 0xfe;
        assert_int_equal(sl_broker_batch_open(&rd, b,
                             SL_BROKER_BATCH_HEADER_SIZE + sizeof(rec_ok), 0,
                             0, tb_pool, tb_log),
                         SL_BROKER_OK);
        assert_int_equal(sl_broker_batch_next(&rd, &r),
                         SL_BROKER_ERR_CORRUPT);
        rec[7] = 0x02;

        /* a key of length -2 */

        rec[4] = 0x03;
        assert_int_equal(sl_broker_batch_open(&rd, b,
                             SL_BROKER_BATCH_HEADER_SIZE + sizeof(rec_ok), 0,
                             0, tb_pool, tb_log),
                         SL_BROKER_OK);
        assert_int_equal(sl_broker_batch_next(&rd, &r),
                         SL_BROKER_ERR_CORRUPT);
        rec[4] = 0x01;

        /* compression type 6 */

        b[SL_BROKER_B_ATTRIBUTES + 1] = 6;
        assert_int_equal(sl_broker_batch_open(&rd, b,
                             SL_BROKER_BATCH_HEADER_SIZE + sizeof(rec_ok), 0,
                             0, tb_pool, tb_log),
                         SL_BROKER_ERR_CORRUPT);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        /* first: no codec is registered yet */
        cmocka_unit_test(test_batch_no_codec),
        cmocka_unit_test(test_batch_plain),
        cmocka_unit_test(test_batch_compressed),
        cmocka_unit_test(test_batch_recompress),
        cmocka_unit_test(test_batch_writer_options),
        cmocka_unit_test(test_batch_large),
        cmocka_unit_test(test_batch_truncated),
        cmocka_unit_test(test_batch_corrupt_records),
    };

    return cmocka_run_group_tests(tests, tb_setup, tb_teardown);
}
