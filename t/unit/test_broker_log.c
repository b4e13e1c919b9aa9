
/*
 * The partition log: append and read across rolls, index and time index
 * lookups at every boundary, recovery from a cut at every byte and from
 * every flipped byte, a clean restart, DeleteRecords, and the topic
 * registry on disk.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>

#include <setjmp.h>
#include <cmocka.h>

#include "test_broker.h"


static void
test_append_read(void **state)
{
    u_char                 *b;
    size_t                  len;
    int64_t                 base, lat, off, expect;
    sl_int_t                i, rc, n;
    sl_broker_read_t        rd;
    sl_broker_topic_t      *topic;
    sl_broker_partition_t  *part;
    sl_broker_batch_t       bt;

    tb_setup(4096, 256);

    topic = tb_topic("orders", 2, NULL);
    part = sl_broker_partition(topic, 0);
    assert_non_null(part);
    assert_non_null(sl_broker_partition(topic, 1));
    assert_null(sl_broker_partition(topic, 2));

    expect = 0;

    /* whatever epoch producers write, the leader's is stored */
    part->leader_epoch = 3;

    for (i = 0; i < 400; i++) {
        n = 1 + i % 7;
        b = tb_batch(&len, n, 1000 + i * 10, 10, i % 50 * 3, "k", i);

        rc = sl_broker_log_append(part, b, len, &base, &lat, tb_log);
        assert_int_equal(rc, SL_BROKER_OK);
        assert_int_equal(base, expect);
        assert_int_equal(lat, -1);
        expect += n;
        free(b);
    }

    assert_int_equal(part->log_end_offset, expect);
    assert_int_equal(part->high_watermark, expect);
    assert_true(sl_broker_log_segments(part) > 10);

    /* every offset, one batch at a time */

    for (off = 0; off < expect; off++) {
        rc = sl_broker_log_read(part, off, 1, &rd, tb_log);
        assert_int_equal(rc, SL_BROKER_OK);
        assert_true(rd.len > 0);
        assert_int_equal(sl_broker_batch_parse(rd.mem, rd.len, &bt),
                         SL_BROKER_OK);
        assert_int_equal(bt.length + 12, (int) rd.len);
        assert_true(bt.base_offset <= off);
        assert_true(bt.base_offset + bt.last_offset_delta >= off);
        assert_int_equal(rd.first_offset, bt.base_offset);
        assert_int_equal(rd.next_offset,
                         bt.base_offset + bt.last_offset_delta + 1);
        assert_int_equal(bt.leader_epoch, 3);
        tb_check_fd(&rd);
    }

    /* everything, in chunks */

    off = 0;

    while (off < expect) {
        rc = sl_broker_log_read(part, off, 3000, &rd, tb_log);
        assert_int_equal(rc, SL_BROKER_OK);
        assert_true(rd.len > 0);
        assert_true(rd.len <= 4096);
        off = tb_walk(rd.mem, rd.len, off);
        assert_int_equal(rd.next_offset, off);
    }

    assert_int_equal(off, expect);

    rc = sl_broker_log_read(part, expect, 100, &rd, tb_log);
    assert_int_equal(rc, SL_BROKER_OK);
    assert_int_equal(rd.len, 0);

    rc = sl_broker_log_read(part, expect + 1, 100, &rd, tb_log);
    assert_int_equal(rc, SL_BROKER_ERR_OUT_OF_RANGE);

    /* invalid batches */

    b = tb_batch(&len, 3, 1, 1, 10, "k", 0);
    b[len - 1] ^= 1;
    rc = sl_broker_log_append(part, b, len, &base, &lat, tb_log);
    assert_int_equal(rc, SL_BROKER_ERR_CORRUPT);
    rc = sl_broker_log_append(part, b, len - 1, &base, &lat, tb_log);
    assert_int_equal(rc, SL_BROKER_ERR_CORRUPT);
    free(b);

    b = tb_batch(&len, 3, 1, 1, 2000, "k", 0);
    topic->conf.max_record_batch_bytes = 1000;
    rc = sl_broker_log_append(part, b, len, &base, &lat, tb_log);
    assert_int_equal(rc, SL_BROKER_ERR_TOO_LARGE);
    topic->conf.max_record_batch_bytes = 1024 * 1024;
    free(b);

    assert_int_equal(part->log_end_offset, expect);

    tb_teardown();
}


/* a batch larger than the segment gets one of its own */

static void
test_big_batch(void **state)
{
    u_char                 *b;
    size_t                  len;
    int64_t                 base, lat;
    sl_int_t                i;
    sl_broker_read_t        rd;
    sl_broker_partition_t  *part;

    tb_setup(1024, 64);
    part = sl_broker_partition(tb_topic("big", 1, NULL), 0);

    for (i = 0; i < 5; i++) {
        b = tb_batch(&len, 2, 5, 1, 3000, "k", i);
        assert_int_equal(sl_broker_log_append(part, b, len, &base, &lat,
                                              tb_log), SL_BROKER_OK);
        assert_int_equal(base, i * 2);
        free(b);
    }

    assert_int_equal(sl_broker_log_segments(part), 5);

    for (i = 0; i < 10; i++) {
        assert_int_equal(sl_broker_log_read(part, i, 10, &rd, tb_log),
                         SL_BROKER_OK);
        assert_int_equal(rd.first_offset, i / 2 * 2);
        assert_true(rd.len > 3000);
    }

    tb_teardown();
}


static void
test_index_lookup(void **state)
{
    u_char    map[8 * 100], tmap[12 * 100];
    uint32_t  i, r;
    int64_t   t;

    for (i = 0; i < 100; i++) {
        sl_broker_index_put(map, i, 10 + i * 10, 100 + i * 100);
        sl_broker_timeindex_put(tmap, i, 1000 + i * 10, 10 + i * 10);
    }

    for (r = 0; r < 1100; r++) {
        off_t  pos, want;

        pos = sl_broker_index_lookup(map, 100, r);
        want = (r < 10) ? 0 : (off_t) ((sl_min(r / 10, 100) - 1) * 100 + 100);
        assert_int_equal(pos, want);
    }

    assert_int_equal(sl_broker_index_lookup(map, 0, 50), 0);

    for (t = 900; t < 2100; t++) {
        int64_t  rel, want;

        rel = sl_broker_timeindex_lookup(tmap, 100, t);

        /* the last entry strictly below t */
        if (t <= 1000) {
            want = 0;

        } else {
            want = 10 + sl_min((t - 1000 - 1) / 10, 99) * 10;
        }

        assert_int_equal(rel, want);
    }

    assert_int_equal(sl_broker_index_check(map, 100, 10001), SL_OK);
    assert_int_equal(sl_broker_index_check(map, 100, 10000), SL_ERROR);
}


/*
 * Timestamps: record j of batch i has 1000 + 10 * (i * 3 + j) (increasing),
 * so the answer for any ts is computable.
 */

static void
test_offset_for_time(void **state)
{
    u_char                 *b;
    size_t                  len;
    int64_t                 base, lat, off, ts, ret, want;
    sl_int_t                i;
    sl_broker_partition_t  *part;

    tb_setup(2048, 128);
    part = sl_broker_partition(tb_topic("times", 1, NULL), 0);

    for (i = 0; i < 300; i++) {
        b = tb_batch(&len, 3, 1000 + 30 * i, 10, 40, "k", i);
        assert_int_equal(sl_broker_log_append(part, b, len, &base, &lat,
                                              tb_log), SL_BROKER_OK);
        free(b);
    }

    for (ts = 990; ts <= 1000 + 900 * 10 + 5; ts++) {
        assert_int_equal(sl_broker_log_offset_for_time(part, ts, &off, &ret,
                                                       tb_log),
                         SL_BROKER_OK);

        want = (ts <= 1000) ? 0 : (ts - 1000 + 9) / 10;

        if (want >= 900) {
            assert_int_equal(off, -1);
            continue;
        }

        assert_int_equal(off, want);
        assert_int_equal(ret, 1000 + want * 10);
    }

    assert_int_equal(sl_broker_log_offset_for_time(part,
                         SL_BROKER_OFFSET_LATEST, &off, &ret, tb_log),
                     SL_BROKER_OK);
    assert_int_equal(off, 900);

    assert_int_equal(sl_broker_log_offset_for_time(part,
                         SL_BROKER_OFFSET_EARLIEST, &off, &ret, tb_log),
                     SL_BROKER_OK);
    assert_int_equal(off, 0);

    assert_int_equal(sl_broker_log_offset_for_time(part,
                         SL_BROKER_OFFSET_MAX_TS, &off, &ret, tb_log),
                     SL_BROKER_OK);
    assert_int_equal(ret, 1000 + 899 * 10);

    /* the same after a restart from the indexes on disk */

    tb_restart(1);
    part = sl_broker_partition(sl_broker_topic_find(&tb_str("times")), 0);

    for (ts = 995; ts <= 1000 + 900 * 10; ts += 7) {
        assert_int_equal(sl_broker_log_offset_for_time(part, ts, &off, &ret,
                                                       tb_log),
                         SL_BROKER_OK);
        want = (ts <= 1000) ? 0 : (ts - 1000 + 9) / 10;
        assert_int_equal(off, want >= 900 ? -1 : want);
    }

    tb_teardown();
}


/* a single-segment log cut at every byte: keeps exactly the whole batches */

static void
test_recovery_cut(void **state)
{
    u_char                 *b, path[1024];
    size_t                  len;
    int64_t                 base, lat, ends[64], off;
    off_t                   pos[64], cut, size;
    sl_int_t                i, n, k;
    sl_broker_read_t        rd;
    sl_broker_partition_t  *part;

    tb_setup(1024 * 1024, 100);
    part = sl_broker_partition(tb_topic("cut", 1, NULL), 0);

    n = 24;
    size = 0;

    for (i = 0; i < n; i++) {
        b = tb_batch(&len, 1 + i % 4, 5000 + i, 1, 20 + i * 3, "k", i);
        assert_int_equal(sl_broker_log_append(part, b, len, &base, &lat,
                                              tb_log), SL_BROKER_OK);
        size += len;
        pos[i] = size;
        ends[i] = base + 1 + i % 4;
        free(b);
    }

    snprintf((char *) path, sizeof(path),
             "%s/cut-0/00000000000000000000.log", tb_dir);

    tb_save(path);

    for (cut = size; cut >= 0; cut--) {
        tb_kill_state();
        tb_restore(path, cut);

        tb_reopen();
        part = sl_broker_partition(sl_broker_topic_find(&tb_str("cut")), 0);
        assert_non_null(part);

        k = 0;
        while (k < n && pos[k] <= cut) {
            k++;
        }

        assert_int_equal(part->log_end_offset, k ? ends[k - 1] : 0);

        off = 0;
        while (off < part->log_end_offset) {
            assert_int_equal(sl_broker_log_read(part, off, 1 << 20, &rd,
                                                tb_log), SL_BROKER_OK);
            off = tb_walk(rd.mem, rd.len, off);
        }

        /* and it appends where it stopped */

        if (cut % 97 == 0) {
            b = tb_batch(&len, 2, 1, 1, 10, "k", 0);
            assert_int_equal(sl_broker_log_append(part, b, len, &base, &lat,
                                                  tb_log), SL_BROKER_OK);
            assert_int_equal(base, k ? ends[k - 1] : 0);
            free(b);
        }
    }

    tb_teardown();
}


/*
 * Every byte flipped in turn: the log keeps the batches before the one
 * hit and none from it on.  The leader epoch is outside the CRC, as in
 * Kafka: a flip there is kept.
 */

static void
test_recovery_flip(void **state)
{
    u_char                 *b, path[1024];
    size_t                  len;
    int64_t                 base, lat, starts[64];
    off_t                   pos[64], at, size, inb;
    sl_int_t                i, n, k;
    sl_broker_read_t        rd;
    sl_broker_partition_t  *part;

    tb_setup(1024 * 1024, 100);
    part = sl_broker_partition(tb_topic("flip", 1, NULL), 0);

    n = 16;
    size = 0;

    for (i = 0; i < n; i++) {
        b = tb_batch(&len, 1 + i % 3, 5000 + i, 1, 10 + i * 5, "k", i);
        assert_int_equal(sl_broker_log_append(part, b, len, &base, &lat,
                                              tb_log), SL_BROKER_OK);
        pos[i] = size;
        starts[i] = base;
        size += len;
        free(b);
    }

    pos[n] = size;

    snprintf((char *) path, sizeof(path),
             "%s/flip-0/00000000000000000000.log", tb_dir);

    tb_save(path);

    for (at = 0; at < size; at++) {
        tb_kill_state();
        tb_restore(path, size);
        tb_flip(path, at);

        tb_reopen();
        part = sl_broker_partition(sl_broker_topic_find(&tb_str("flip")), 0);

        k = 0;
        while (pos[k + 1] <= at) {
            k++;
        }

        inb = at - pos[k];

        if (inb >= 12 && inb < 16) {
            assert_int_equal(part->log_end_offset,
                             starts[n - 1] + 1 + (n - 1) % 3);

        } else {
            assert_int_equal(part->log_end_offset, starts[k]);
        }

        if (part->log_end_offset > 0) {
            assert_int_equal(sl_broker_log_read(part, 0, 1 << 20, &rd,
                                                tb_log), SL_BROKER_OK);
            assert_int_equal(tb_walk(rd.mem, rd.len, 0),
                             part->log_end_offset);
        }
    }

    tb_teardown();
}


/* a clean restart trusts everything; an unclean one rescans the tail */

static void
test_restart(void **state)
{
    u_char                 *b;
    size_t                  len;
    int64_t                 base, lat, leo, off;
    sl_int_t                i, r;
    sl_broker_read_t        rd;
    sl_broker_partition_t  *part;

    tb_setup(4096, 200);
    part = sl_broker_partition(tb_topic("rs", 3, NULL), 1);

    for (r = 0; r < 4; r++) {
        for (i = 0; i < 150; i++) {
            b = tb_batch(&len, 2, 100 + i, 1, 50, "k", i);
            assert_int_equal(sl_broker_log_append(part, b, len, &base, &lat,
                                                  tb_log), SL_BROKER_OK);
            free(b);
        }

        if (r == 1) {
            sl_broker_background(sl_broker_wall_ms(), 1, tb_log);
        }

        leo = part->log_end_offset;

        tb_restart(r % 2 == 0);

        part = sl_broker_partition(sl_broker_topic_find(&tb_str("rs")), 1);
        assert_non_null(part);
        assert_int_equal(part->log_end_offset, leo);
        assert_non_null(sl_broker_partition(sl_broker_topic_find(
                                                  &tb_str("rs")), 2));

        off = 0;
        while (off < leo) {
            assert_int_equal(sl_broker_log_read(part, off, 10000, &rd,
                                                tb_log), SL_BROKER_OK);
            off = tb_walk(rd.mem, rd.len, off);
        }
    }

    tb_teardown();
}


static void
test_delete_records(void **state)
{
    u_char                 *b;
    size_t                  len;
    int64_t                 base, lat, lw;
    sl_int_t                i;
    sl_uint_t               segs;
    sl_broker_read_t        rd;
    sl_broker_partition_t  *part;

    tb_setup(2048, 200);
    part = sl_broker_partition(tb_topic("dr", 1, NULL), 0);

    for (i = 0; i < 100; i++) {
        b = tb_batch(&len, 2, 100 + i, 1, 60, "k", i);
        assert_int_equal(sl_broker_log_append(part, b, len, &base, &lat,
                                              tb_log), SL_BROKER_OK);
        free(b);
    }

    segs = sl_broker_log_segments(part);

    assert_int_equal(sl_broker_log_delete_before(part, 77, &lw, tb_log),
                     SL_BROKER_OK);
    assert_int_equal(lw, 77);
    assert_true(sl_broker_log_segments(part) < segs);
    assert_int_equal(sl_broker_log_read(part, 76, 100, &rd, tb_log),
                     SL_BROKER_ERR_OUT_OF_RANGE);
    assert_int_equal(sl_broker_log_read(part, 77, 100, &rd, tb_log),
                     SL_BROKER_OK);
    assert_int_equal(rd.first_offset, 76);

    assert_int_equal(sl_broker_log_delete_before(part, 1000, &lw, tb_log),
                     SL_BROKER_ERR_OUT_OF_RANGE);

    tb_restart(0);
    part = sl_broker_partition(sl_broker_topic_find(&tb_str("dr")), 0);
    assert_int_equal(part->log_start_offset, 77);

    assert_int_equal(sl_broker_log_delete_before(part, -1, &lw, tb_log),
                     SL_BROKER_OK);
    assert_int_equal(lw, 200);
    assert_int_equal(sl_broker_log_segments(part), 1);

    tb_teardown();
}


typedef struct {
    char      names[32][64];
    char      values[32][64];
    int       n;
} tb_configs_t;


static void
tb_config(void *data, const char *name, u_char *value, size_t len,
    sl_uint_t is_default)
{
    tb_configs_t  *c = data;

    snprintf(c->names[c->n], 64, "%s", name);
    snprintf(c->values[c->n], 64, "%.*s%s", (int) len, value,
             is_default ? "" : "*");
    c->n++;
}


static const char *
tb_config_get(tb_configs_t *c, const char *name)
{
    int  i;

    for (i = 0; i < c->n; i++) {
        if (strcmp(c->names[i], name) == 0) {
            return c->values[i];
        }
    }

    return NULL;
}


static void
test_topics(void **state)
{
    sl_str_t                 name, value;
    sl_broker_topic_t       *t, *a, *z;
    sl_broker_topic_conf_t   conf;
    tb_configs_t             c;
    u_char                   id[16];

    tb_setup(4096, 100);

    sl_broker_topic_conf_init(&conf);
    conf.cleanup_policy = SL_BROKER_CLEANUP_COMPACT;
    conf.retention_ms = (sl_msec_t) SL_BROKER_CONF_FOREVER;

    z = tb_topic("zeta", 2, &conf);
    a = tb_topic("alpha", 1, NULL);
    (void) tb_topic("mid.dle_x-1", 1, NULL);

    assert_int_equal(sl_broker_topic_create(&tb_str("alpha"), 1, NULL, tb_log,
                                            &t),
                     SL_BROKER_ERR_TOPIC_EXISTS);
    assert_int_equal(sl_broker_topic_create(&tb_str("a/b"), 1, NULL, tb_log,
                                            &t),
                     SL_BROKER_ERR_INVALID_TOPIC);
    assert_int_equal(sl_broker_topic_create(&tb_str(".."), 1, NULL, tb_log,
                                            &t),
                     SL_BROKER_ERR_INVALID_TOPIC);
    assert_int_equal(sl_broker_topic_create(&tb_str("x"), 0, NULL, tb_log,
                                            &t),
                     SL_BROKER_ERR_INVALID_PARTS);

    assert_ptr_equal(sl_broker_topic_next(NULL), a);
    assert_ptr_equal(sl_broker_topic_next(sl_broker_topic_next(a)), z);
    assert_null(sl_broker_topic_next(z));

    c.n = 0;
    sl_broker_topic_configs(z, tb_config, &c);
    assert_string_equal(tb_config_get(&c, "cleanup.policy"), "compact*");
    assert_string_equal(tb_config_get(&c, "retention.ms"), "-1*");
    assert_string_equal(tb_config_get(&c, "segment.bytes"), "4096");

    name = tb_str("retention.bytes");
    value = tb_str("123456");
    assert_int_equal(sl_broker_topic_set_config(a, &name, &value, tb_log),
                     SL_BROKER_OK);
    name = tb_str("flush.messages");
    value = tb_str("1");
    assert_int_equal(sl_broker_topic_set_config(a, &name, &value, tb_log),
                     SL_BROKER_OK);
    assert_int_equal(a->conf.flush, SL_BROKER_FLUSH_ALWAYS);
    value = tb_str("x1");
    assert_int_equal(sl_broker_topic_set_config(a, &name, &value, tb_log),
                     SL_BROKER_ERR_INVALID_CONFIG);
    name = tb_str("compression.type");
    value = tb_str("zstd");
    /* no codec without the compress module */
    assert_int_equal(sl_broker_topic_set_config(a, &name, &value, tb_log),
                     SL_BROKER_ERR_INVALID_CONFIG);
    value = tb_str("producer");
    assert_int_equal(sl_broker_topic_set_config(a, &name, &value, tb_log),
                     SL_BROKER_OK);

    assert_int_equal(sl_broker_topic_add_partitions(a, 4, tb_log),
                     SL_BROKER_OK);
    assert_non_null(sl_broker_partition(a, 3));
    assert_int_equal(sl_broker_topic_add_partitions(a, 2, tb_log),
                     SL_BROKER_ERR_INVALID_PARTS);

    sl_memcpy(id, z->id, 16);

    assert_int_equal(sl_broker_topic_delete(&tb_str("mid.dle_x-1"), tb_log),
                     SL_BROKER_OK);
    assert_null(sl_broker_topic_find(&tb_str("mid.dle_x-1")));
    assert_int_equal(sl_broker_topic_delete(&tb_str("mid.dle_x-1"), tb_log),
                     SL_BROKER_ERR_UNKNOWN_TOPIC);

    tb_restart(1);

    a = sl_broker_topic_find(&tb_str("alpha"));
    z = sl_broker_topic_find(&tb_str("zeta"));
    assert_non_null(a);
    assert_non_null(z);
    assert_null(sl_broker_topic_find(&tb_str("mid.dle_x-1")));
    assert_int_equal(a->partitions_n, 4);
    assert_int_equal(a->conf.retention_bytes, 123456);
    assert_int_equal(a->conf.flush, SL_BROKER_FLUSH_ALWAYS);
    assert_int_equal(z->conf.cleanup_policy, SL_BROKER_CLEANUP_COMPACT);
    assert_int_equal(z->conf.retention_ms, (sl_msec_t) -1);
    assert_memory_equal(id, z->id, 16);
    assert_int_equal(sl_broker_topic_count(), 2);

    /* the deleted topic's folders are removed in the background */
    sl_broker_background(sl_broker_wall_ms(), 1, tb_log);
    assert_int_equal(tb_count_dirs("-delete"), 0);

    /* and it can be created again */
    (void) tb_topic("mid.dle_x-1", 3, NULL);

    tb_teardown();
}


/* LogAppendTime: the broker's time, the CRC made again */

static void
test_log_append_time(void **state)
{
    u_char                  *b;
    size_t                   len;
    int64_t                  base, lat, before;
    sl_broker_read_t         rd;
    sl_broker_batch_t        bt;
    sl_broker_topic_conf_t   conf;
    sl_broker_partition_t   *part;

    tb_setup(4096, 100);

    sl_broker_topic_conf_init(&conf);
    conf.message_timestamp_type = SL_BROKER_LOG_APPEND_TIME;
    part = sl_broker_partition(tb_topic("lat", 1, &conf), 0);

    before = sl_broker_wall_ms();
    b = tb_batch(&len, 3, 5, 1, 10, "k", 0);
    assert_int_equal(sl_broker_log_append(part, b, len, &base, &lat, tb_log),
                     SL_BROKER_OK);
    free(b);

    assert_true(lat >= before);
    assert_int_equal(sl_broker_log_read(part, 0, 100, &rd, tb_log),
                     SL_BROKER_OK);
    assert_int_equal(sl_broker_batch_parse(rd.mem, rd.len, &bt),
                     SL_BROKER_OK);
    assert_int_equal(bt.max_timestamp, lat);
    assert_true(bt.attributes & 0x08);

    tb_teardown();
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_index_lookup),
        cmocka_unit_test(test_append_read),
        cmocka_unit_test(test_big_batch),
        cmocka_unit_test(test_offset_for_time),
        cmocka_unit_test(test_recovery_cut),
        cmocka_unit_test(test_recovery_flip),
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_delete_records),
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_log_append_time),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
