
/*
 * The Kafka codec: primitives (big-endian integers, unsigned varints,
 * classic and compact strings, arrays, tag sections), the request
 * header, and the generated decoders and encoders of every API in every
 * version: each round-trips, and each rejects every truncation of a
 * valid message and absurd counts without allocating for them.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_kafka_proto.h>
#include <sl_kafka_msgs.h>

#include <setjmp.h>
#include <cmocka.h>


#define TEST_MAX  65536


static size_t test_flatten(sl_chain_t *cl, u_char *out, size_t size);
static size_t test_encode_request(sl_pool_t *pool, sl_kafka_msg_t *msg,
    sl_int_t v, void *m, u_char *out);


static size_t
test_flatten(sl_chain_t *cl, u_char *out, size_t size)
{
    size_t     n, len;
    sl_buf_t  *b;

    n = 0;

    for ( /* void */ ; cl; cl = cl->next) {
        b = cl->buf;

        assert_true(sl_buf_in_memory(b));

        len = b->last - b->pos;
        assert_true(n + len <= size);

        memcpy(out + n, b->pos, len);
        n += len;
    }

    return n;
}


static size_t
test_encode_request(sl_pool_t *pool, sl_kafka_msg_t *msg, sl_int_t v,
    void *m, u_char *out)
{
    sl_kafka_wr_t  wr;

    sl_kafka_wr_init(&wr, pool, 16);
    msg->encode_request(&wr, v, m);
    assert_false(wr.failed);

    return test_flatten(sl_kafka_wr_finish(&wr), out, TEST_MAX);
}


static void
test_uvarint(void **state)
{
    sl_uint_t       i;
    sl_pool_t      *pool;
    sl_kafka_rd_t   rd;
    sl_kafka_wr_t   wr;
    u_char          buf[16];
    size_t          n;

    static uint32_t  values[] = {
        0, 1, 127, 128, 300, 16383, 16384, 2097151, 2097152, 268435455,
        268435456, 0x7fffffff, 0xffffffff
    };

    static u_char  long6[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
    static u_char  over[] = { 0xff, 0xff, 0xff, 0xff, 0x1f };
    static u_char  max[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
    static u_char  cut[] = { 0x80, 0x80 };

    pool = sl_create_pool(4096, NULL);
    assert_non_null(pool);

    for (i = 0; i < sl_nelems(values); i++) {
        sl_kafka_wr_init(&wr, pool, 0);
        sl_kafka_wr_uvarint(&wr, values[i]);
        n = test_flatten(sl_kafka_wr_finish(&wr), buf, sizeof(buf));

        assert_true(n >= 1 && n <= SL_VARINT_MAX32);

        sl_kafka_rd_init(&rd, buf, n, pool);
        assert_int_equal(sl_kafka_rd_uvarint(&rd), values[i]);
        assert_false(rd.failed);
        assert_ptr_equal(rd.pos, buf + n);

        /* every truncation fails */
        if (n > 1) {
            sl_kafka_rd_init(&rd, buf, n - 1, pool);
            (void) sl_kafka_rd_uvarint(&rd);
            assert_true(rd.failed);
        }
    }

    sl_kafka_rd_init(&rd, long6, sizeof(long6), pool);
    (void) sl_kafka_rd_uvarint(&rd);
    assert_true(rd.failed);

    sl_kafka_rd_init(&rd, over, sizeof(over), pool);
    (void) sl_kafka_rd_uvarint(&rd);
    assert_true(rd.failed);

    sl_kafka_rd_init(&rd, max, sizeof(max), pool);
    assert_int_equal(sl_kafka_rd_uvarint(&rd), 0xffffffff);
    assert_false(rd.failed);

    sl_kafka_rd_init(&rd, cut, sizeof(cut), pool);
    (void) sl_kafka_rd_uvarint(&rd);
    assert_true(rd.failed);

    sl_kafka_rd_init(&rd, cut, 0, pool);
    (void) sl_kafka_rd_uvarint(&rd);
    assert_true(rd.failed);

    sl_destroy_pool(pool);
}


static void
test_integers(void **state)
{
    u_char          buf[32];
    size_t          n;
    sl_pool_t      *pool;
    sl_kafka_rd_t   rd;
    sl_kafka_wr_t   wr;

    pool = sl_create_pool(4096, NULL);

    sl_kafka_wr_init(&wr, pool, 0);
    sl_kafka_wr_int8(&wr, -2);
    sl_kafka_wr_int16(&wr, -3);
    sl_kafka_wr_int32(&wr, 0x01020304);
    sl_kafka_wr_int64(&wr, -5);
    sl_kafka_wr_bool(&wr, 7);
    sl_kafka_wr_float64(&wr, 1.5);
    n = test_flatten(sl_kafka_wr_finish(&wr), buf, sizeof(buf));

    assert_int_equal(n, 1 + 2 + 4 + 8 + 1 + 8);
    assert_int_equal(buf[3], 0x01);
    assert_int_equal(buf[6], 0x04);
    assert_int_equal(buf[15], 1);

    sl_kafka_rd_init(&rd, buf, n, pool);
    assert_int_equal(sl_kafka_rd_int8(&rd), -2);
    assert_int_equal(sl_kafka_rd_int16(&rd), -3);
    assert_int_equal(sl_kafka_rd_int32(&rd), 0x01020304);
    assert_int_equal(sl_kafka_rd_int64(&rd), -5);
    assert_int_equal(sl_kafka_rd_bool(&rd), 1);
    assert_true(sl_kafka_rd_float64(&rd) == 1.5);
    assert_false(rd.failed);

    /* past the end: zero, and failed sticks */
    assert_int_equal(sl_kafka_rd_int32(&rd), 0);
    assert_true(rd.failed);

    sl_kafka_rd_init(&rd, buf, 3, pool);
    assert_int_equal(sl_kafka_rd_int32(&rd), 0);
    assert_true(rd.failed);
    assert_int_equal(sl_kafka_rd_int8(&rd), 0);

    sl_destroy_pool(pool);
}


static void
test_strings(void **state)
{
    u_char          buf[64];
    size_t          n;
    sl_str_t        s, abc, null;
    sl_pool_t      *pool;
    sl_kafka_rd_t   rd;
    sl_kafka_wr_t   wr;

    static u_char  compact_null[] = { 0x00 };
    static u_char  compact_empty[] = { 0x01 };
    static u_char  compact_long[] = { 0x05, 'a', 'b' };
    static u_char  classic_null[] = { 0xff, 0xff };
    static u_char  classic_neg[] = { 0xff, 0xfe };
    static u_char  classic_long[] = { 0x00, 0x04, 'a', 'b', 'c' };
    static u_char  bytes_neg[] = { 0xff, 0xff, 0xff, 0xf0 };

    pool = sl_create_pool(4096, NULL);

    sl_kafka_rd_init(&rd, compact_null, 1, pool);
    sl_kafka_rd_string(&rd, 1, &s);
    assert_false(rd.failed);
    assert_null(s.data);

    sl_kafka_rd_init(&rd, compact_empty, 1, pool);
    sl_kafka_rd_string(&rd, 1, &s);
    assert_false(rd.failed);
    assert_non_null(s.data);
    assert_int_equal(s.len, 0);

    sl_kafka_rd_init(&rd, compact_long, sizeof(compact_long), pool);
    sl_kafka_rd_string(&rd, 1, &s);
    assert_true(rd.failed);

    sl_kafka_rd_init(&rd, classic_null, 2, pool);
    sl_kafka_rd_string(&rd, 0, &s);
    assert_false(rd.failed);
    assert_null(s.data);

    sl_kafka_rd_init(&rd, classic_neg, 2, pool);
    sl_kafka_rd_string(&rd, 0, &s);
    assert_true(rd.failed);

    sl_kafka_rd_init(&rd, classic_long, sizeof(classic_long), pool);
    sl_kafka_rd_string(&rd, 0, &s);
    assert_true(rd.failed);

    sl_kafka_rd_init(&rd, bytes_neg, sizeof(bytes_neg), pool);
    sl_kafka_rd_bytes(&rd, 0, &s);
    assert_true(rd.failed);

    /* writing: null where nullable, empty where not */

    sl_str_set(&abc, "abc");
    null.len = 0;
    null.data = NULL;

    sl_kafka_wr_init(&wr, pool, 0);
    sl_kafka_wr_string(&wr, 1, 0, &abc);
    sl_kafka_wr_string(&wr, 1, 1, &null);
    sl_kafka_wr_string(&wr, 1, 0, &null);
    sl_kafka_wr_string(&wr, 0, 0, &abc);
    sl_kafka_wr_string(&wr, 0, 1, &null);
    sl_kafka_wr_bytes(&wr, 0, 1, &null);
    sl_kafka_wr_bytes(&wr, 1, 0, &abc);
    n = test_flatten(sl_kafka_wr_finish(&wr), buf, sizeof(buf));

    {
        static u_char  expect[] = {
            0x04, 'a', 'b', 'c',
            0x00,
            0x01,
            0x00, 0x03, 'a', 'b', 'c',
            0xff, 0xff,
            0xff, 0xff, 0xff, 0xff,
            0x04, 'a', 'b', 'c'
        };

        assert_int_equal(n, sizeof(expect));
        assert_memory_equal(buf, expect, n);
    }

    sl_destroy_pool(pool);
}


static void
test_arrays(void **state)
{
    sl_pool_t      *pool;
    sl_kafka_rd_t   rd;

    static u_char  huge[] = { 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
    static u_char  null[] = { 0xff, 0xff, 0xff, 0xff };
    static u_char  neg[] = { 0xff, 0xff, 0xff, 0xfe };
    static u_char  two[] = { 0x00, 0x00, 0x00, 0x02, 1, 2, 3, 4 };
    static u_char  chuge[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0 };

    pool = sl_create_pool(4096, NULL);

    sl_kafka_rd_init(&rd, huge, sizeof(huge), pool);
    (void) sl_kafka_rd_array(&rd, 0, 1);
    assert_true(rd.failed);

    sl_kafka_rd_init(&rd, null, sizeof(null), pool);
    assert_int_equal(sl_kafka_rd_array(&rd, 0, 1), -1);
    assert_false(rd.failed);

    sl_kafka_rd_init(&rd, neg, sizeof(neg), pool);
    (void) sl_kafka_rd_array(&rd, 0, 1);
    assert_true(rd.failed);

    /* two elements of at least 2 bytes fit in 4, of 3 bytes do not */
    sl_kafka_rd_init(&rd, two, sizeof(two), pool);
    assert_int_equal(sl_kafka_rd_array(&rd, 0, 2), 2);
    assert_false(rd.failed);

    sl_kafka_rd_init(&rd, two, sizeof(two), pool);
    (void) sl_kafka_rd_array(&rd, 0, 3);
    assert_true(rd.failed);

    sl_kafka_rd_init(&rd, chuge, sizeof(chuge), pool);
    (void) sl_kafka_rd_array(&rd, 1, 1);
    assert_true(rd.failed);

    sl_destroy_pool(pool);
}


static void
test_tags(void **state)
{
    sl_pool_t      *pool;
    sl_kafka_rd_t   rd;

    static u_char  tags[] = { 0x02, 0x00, 0x01, 0xaa, 0x05, 0x02, 1, 2, 9 };
    static u_char  cut[] = { 0x01, 0x00, 0x05, 1, 2 };
    static u_char  none[] = { 0x00 };

    pool = sl_create_pool(4096, NULL);

    sl_kafka_rd_init(&rd, tags, sizeof(tags), pool);
    sl_kafka_rd_tags(&rd);
    assert_false(rd.failed);
    assert_ptr_equal(rd.pos, tags + 8);

    sl_kafka_rd_init(&rd, cut, sizeof(cut), pool);
    sl_kafka_rd_tags(&rd);
    assert_true(rd.failed);

    sl_kafka_rd_init(&rd, none, sizeof(none), pool);
    sl_kafka_rd_tags(&rd);
    assert_false(rd.failed);

    sl_kafka_rd_init(&rd, none, 0, pool);
    sl_kafka_rd_tags(&rd);
    assert_true(rd.failed);

    sl_destroy_pool(pool);
}


static void
test_header(void **state)
{
    size_t             n;
    sl_kafka_rd_t      rd;
    sl_kafka_header_t  h;

    static u_char  req[] = {
        0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x2a,
        0x00, 0x07, 'r', 'd', 'k', 'a', 'f', 'k', 'a',
        0x00
    };

    sl_kafka_rd_init(&rd, req, sizeof(req), NULL);
    assert_int_equal(sl_kafka_rd_header(&rd, &h), SL_OK);
    assert_int_equal(h.api_key, SL_KAFKA_API_VERSIONS);
    assert_int_equal(h.api_version, 3);
    assert_int_equal(h.correlation_id, 42);
    assert_int_equal(h.client_id.len, 7);
    assert_memory_equal(h.client_id.data, "rdkafka", 7);

    assert_true(sl_kafka_msg_flexible(h.api_key, h.api_version));
    assert_false(sl_kafka_msg_flexible(h.api_key, 2));
    assert_false(sl_kafka_msg_flexible(SL_KAFKA_SASL_HANDSHAKE, 1));
    assert_false(sl_kafka_msg_flexible(1000, 1));

    sl_kafka_rd_tags(&rd);
    assert_false(rd.failed);
    assert_ptr_equal(rd.pos, req + sizeof(req));

    for (n = 0; n < sizeof(req) - 1; n++) {
        sl_kafka_rd_init(&rd, req, n, NULL);
        if (sl_kafka_rd_header(&rd, &h) == SL_OK) {
            sl_kafka_rd_tags(&rd);
        }
        assert_true(rd.failed);
    }
}


/*
 * Every message of every API in every version, as zeroed structs and
 * with a few arrays filled in, round-trips; every truncation fails.
 */

static void
test_round_trip(sl_pool_t *pool, sl_kafka_msg_t *msg, sl_int_t v,
    sl_uint_t request, void *m)
{
    u_char         *a, *b;
    size_t          n, k, len;
    void           *d;
    sl_kafka_rd_t   rd;
    sl_kafka_wr_t   wr;

    a = sl_palloc(pool, TEST_MAX);
    b = sl_palloc(pool, TEST_MAX);
    assert_non_null(a);
    assert_non_null(b);

    sl_kafka_wr_init(&wr, pool, 16);

    if (request) {
        msg->encode_request(&wr, v, m);
    } else {
        msg->encode_response(&wr, v, m);
    }

    assert_false(wr.failed);
    n = test_flatten(sl_kafka_wr_finish(&wr), a, TEST_MAX);

    len = request ? msg->request_size : msg->response_size;

    d = sl_pcalloc(pool, len);
    assert_non_null(d);

    sl_kafka_rd_init(&rd, a, n, pool);

    if (request) {
        assert_int_equal(msg->decode_request(&rd, v, d), SL_OK);
    } else {
        assert_int_equal(msg->decode_response(&rd, v, d), SL_OK);
    }

    assert_ptr_equal(rd.pos, a + n);

    sl_kafka_wr_init(&wr, pool, 0);

    if (request) {
        msg->encode_request(&wr, v, d);
    } else {
        msg->encode_response(&wr, v, d);
    }

    k = test_flatten(sl_kafka_wr_finish(&wr), b, TEST_MAX);
    assert_int_equal(k, n);
    assert_memory_equal(a, b, n);

    for (k = 0; k < n; k++) {
        d = sl_pcalloc(pool, len);
        sl_kafka_rd_init(&rd, a, k, pool);

        if (request) {
            assert_int_equal(msg->decode_request(&rd, v, d), SL_ERROR);
        } else {
            assert_int_equal(msg->decode_response(&rd, v, d), SL_ERROR);
        }
    }
}


static void
test_all_messages(void **state)
{
    void            *m;
    sl_int_t         k, v;
    sl_pool_t       *pool;
    sl_kafka_msg_t  *msg;

    for (k = 0; k < SL_KAFKA_API_MAX; k++) {
        msg = sl_kafka_msg(k);
        if (msg == NULL) {
            continue;
        }

        for (v = msg->min_version; v <= msg->max_version; v++) {
            pool = sl_create_pool(4096, NULL);

            m = sl_pcalloc(pool, msg->request_size);
            test_round_trip(pool, msg, v, 1, m);

            m = sl_pcalloc(pool, msg->response_size);
            test_round_trip(pool, msg, v, 0, m);

            sl_destroy_pool(pool);
        }
    }
}


static void
test_metadata(void **state)
{
    u_char                         *buf;
    size_t                          n;
    sl_int_t                        v;
    sl_pool_t                      *pool;
    sl_kafka_msg_t                 *msg;
    sl_kafka_metadata_req_t         req, *d;
    sl_kafka_metadata_req_topic_t   topics[2];
    sl_kafka_rd_t                   rd;

    msg = sl_kafka_msg(SL_KAFKA_METADATA);
    assert_non_null(msg);
    assert_int_equal(msg->max_version, 12);
    assert_int_equal(msg->flexible_version, 9);

    for (v = 0; v <= 12; v++) {
        pool = sl_create_pool(4096, NULL);
        buf = sl_palloc(pool, TEST_MAX);

        memset(&req, 0, sizeof(req));
        memset(topics, 0, sizeof(topics));
        sl_str_set(&topics[0].name, "orders");
        sl_str_set(&topics[1].name, "t");
        topics[1].topic_id[3] = 7;
        req.topics = topics;
        req.topics_n = 2;
        req.allow_auto_topic_creation = 1;

        test_round_trip(pool, msg, v, 1, &req);

        /* null topics: all of them, from v1 on */
        req.topics_n = -1;
        n = test_encode_request(pool, msg, v, &req, buf);

        d = sl_pcalloc(pool, sizeof(*d));
        sl_kafka_rd_init(&rd, buf, n, pool);
        assert_int_equal(msg->decode_request(&rd, v, d), SL_OK);
        assert_int_equal(d->topics_n, v >= 1 ? -1 : 0);

        /* the v0-3 default of allow_auto_topic_creation is true */
        assert_int_equal(d->allow_auto_topic_creation, 1);

        sl_destroy_pool(pool);
    }
}


static void
test_produce(void **state)
{
    sl_int_t                                        v;
    sl_pool_t                                      *pool;
    sl_kafka_msg_t                                 *msg;
    sl_kafka_produce_req_t                          req;
    sl_kafka_produce_req_topic_produce_data_t       td;
    sl_kafka_produce_req_partition_produce_data_t   pd[2];

    static u_char  batch[70] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 58 };

    msg = sl_kafka_msg(SL_KAFKA_PRODUCE);

    for (v = 0; v <= msg->max_version; v++) {
        pool = sl_create_pool(4096, NULL);

        memset(&req, 0, sizeof(req));
        memset(&td, 0, sizeof(td));
        memset(pd, 0, sizeof(pd));

        req.acks = -1;
        req.timeout_ms = 30000;
        sl_str_set(&req.transactional_id, "tx");
        req.topic_data = &td;
        req.topic_data_n = 1;
        sl_str_set(&td.name, "orders");
        td.partition_data = pd;
        td.partition_data_n = 2;
        pd[0].index = 3;
        pd[0].records.data = batch;
        pd[0].records.len = sizeof(batch);
        pd[1].index = 4;

        test_round_trip(pool, msg, v, 1, &req);

        sl_destroy_pool(pool);
    }
}


static void
test_fetch(void **state)
{
    sl_int_t                          v;
    sl_pool_t                        *pool;
    sl_kafka_msg_t                   *msg;
    sl_kafka_fetch_req_t              req;
    sl_kafka_fetch_req_topic_t        t;
    sl_kafka_fetch_req_partition_t    p[3];

    msg = sl_kafka_msg(SL_KAFKA_FETCH);
    assert_int_equal(msg->max_version, 17);

    for (v = 0; v <= msg->max_version; v++) {
        pool = sl_create_pool(4096, NULL);

        memset(&req, 0, sizeof(req));
        memset(&t, 0, sizeof(t));
        memset(p, 0, sizeof(p));

        req.replica_id = -1;
        req.max_wait_ms = 500;
        req.min_bytes = 1;
        req.max_bytes = 52428800;
        req.isolation_level = 1;
        req.session_epoch = -1;
        req.topics = &t;
        req.topics_n = 1;
        sl_str_set(&req.rack_id, "");
        sl_str_set(&t.topic, "orders");
        t.topic_id[0] = 1;
        t.partitions = p;
        t.partitions_n = 3;
        p[0].partition = 0;
        p[0].fetch_offset = 12345678901LL;
        p[0].partition_max_bytes = 1048576;
        p[0].log_start_offset = -1;
        p[0].current_leader_epoch = -1;
        p[0].last_fetched_epoch = -1;
        p[2].partition = 2;

        test_round_trip(pool, msg, v, 1, &req);

        sl_destroy_pool(pool);
    }
}


/* records given as a chain of file buffers are spliced in, not copied */

static void
test_records_chain(void **state)
{
    u_char              *p;
    sl_buf_t             fb;
    sl_file_t            file;
    sl_pool_t           *pool;
    sl_chain_t           fl, *cl;
    sl_kafka_wr_t        wr;
    sl_kafka_records_t   r;
    sl_uint_t            n;

    pool = sl_create_pool(4096, NULL);

    memset(&fb, 0, sizeof(fb));
    memset(&file, 0, sizeof(file));
    file.fd = 99;
    fb.in_file = 1;
    fb.file = &file;
    fb.file_pos = 100;
    fb.file_last = 1100;
    fl.buf = &fb;
    fl.next = NULL;

    r.data = NULL;
    r.len = 1000;
    r.chain = &fl;

    sl_kafka_wr_init(&wr, pool, 0);
    sl_kafka_wr_int32(&wr, 7);
    sl_kafka_wr_records(&wr, 1, 1, &r);
    sl_kafka_wr_int16(&wr, 9);

    cl = sl_kafka_wr_finish(&wr);
    assert_non_null(cl);
    assert_int_equal(wr.size, 4 + 2 + 1000 + 2);

    n = 0;
    for ( /* void */ ; cl; cl = cl->next) {
        n++;

        if (n == 1) {
            p = cl->buf->pos;
            assert_int_equal(cl->buf->last - p, 4 + 2);
            /* uvarint 1001 = 0xe9 0x07 */
            assert_int_equal(p[4], 0xe9);
            assert_int_equal(p[5], 0x07);
        }

        if (n == 2) {
            assert_ptr_equal(cl->buf, &fb);
        }

        if (n == 3) {
            assert_int_equal(cl->buf->last - cl->buf->pos, 2);
        }
    }

    assert_int_equal(n, 3);

    sl_destroy_pool(pool);
}


static void
test_api_table(void **state)
{
    sl_kafka_msg_t  *msg;

    msg = sl_kafka_msg(SL_KAFKA_API_VERSIONS);
    assert_non_null(msg);
    assert_int_equal(msg->min_version, 0);
    assert_int_equal(msg->max_version, 4);
    assert_int_equal(msg->flexible_version, 3);
    assert_true(msg->error_offset >= 0);

    msg = sl_kafka_msg(SL_KAFKA_PRODUCE);
    assert_int_equal(msg->flexible_version, 9);
    assert_true(msg->error_offset < 0);

    assert_null(sl_kafka_msg(4));
    assert_null(sl_kafka_msg(-1));
    assert_null(sl_kafka_msg(SL_KAFKA_API_MAX));
    assert_null(sl_kafka_msg(32767));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_uvarint),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_api_table),
        cmocka_unit_test(test_all_messages),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_produce),
        cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_records_chain),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
