
/*
 * The Prometheus text writer: family headers, samples with and without
 * labels, label values escaped (backslash, quote, newline), histograms
 * with cumulative buckets, growth of the buffer past its first size,
 * the latency buckets, and the collector registry.
 */


#include <sl_config.h>
#include <sl_core.h>

#include <setjmp.h>
#include <cmocka.h>


/* sl_log.c's error_log directive reports through the conf parser */
__attribute__((weak)) void
sl_conf_log_error(sl_uint_t level, sl_conf_t *cf, sl_err_t err,
    const char *fmt, ...)
{
}


static sl_pool_t *
test_pool(void)
{
    sl_pool_t  *pool;

    pool = sl_create_pool(1024, NULL);
    assert_non_null(pool);

    return pool;
}


static void
test_text(sl_metrics_t *m, const char *expect)
{
    size_t  len;

    len = m->pos - m->start;

    assert_int_equal(m->failed, 0);

    if (len != strlen(expect) || memcmp(m->start, expect, len) != 0) {
        fail_msg("got:\n%.*s\nexpected:\n%s", (int) len, m->start, expect);
    }
}


static void
test_samples(void **state)
{
    sl_pool_t           *pool;
    sl_metrics_t         m;
    sl_metrics_label_t   labels[2];

    pool = test_pool();

    assert_int_equal(sl_metrics_init(&m, pool, 16), SL_OK);

    sl_metrics_family(&m, "x_total", "counter", "Things.");
    sl_metrics_counter(&m, "x_total", NULL, 0, 18446744073709551615ULL);

    labels[0].name = "topic";
    sl_str_set(&labels[0].value, "orders");
    labels[1].name = "partition";
    sl_str_set(&labels[1].value, "3");

    sl_metrics_family(&m, "y", "gauge", "Offsets.");
    sl_metrics_gauge(&m, "y", labels, 2, -1);
    sl_metrics_gauge(&m, "y", labels, 1, 9223372036854775807LL);
    sl_metrics_gauge_double(&m, "z", NULL, 0, 0.25);

    test_text(&m,
              "# HELP x_total Things.\n"
              "# TYPE x_total counter\n"
              "x_total 18446744073709551615\n"
              "# HELP y Offsets.\n"
              "# TYPE y gauge\n"
              "y{topic=\"orders\",partition=\"3\"} -1\n"
              "y{topic=\"orders\"} 9223372036854775807\n"
              "z 0.25\n");

    sl_destroy_pool(pool);
}


static void
test_escape(void **state)
{
    u_char              *p, buf[64];
    sl_pool_t           *pool;
    sl_metrics_t         m;
    sl_metrics_label_t   label;
    static u_char        raw[] = "a\\b\"c\nd";

    assert_int_equal(sl_metrics_escaped_len(raw, sizeof(raw) - 1), 10);

    p = sl_metrics_escape(buf, raw, sizeof(raw) - 1);
    assert_int_equal(p - buf, 10);
    assert_memory_equal(buf, "a\\\\b\\\"c\\nd", 10);

    pool = test_pool();
    assert_int_equal(sl_metrics_init(&m, pool, 1), SL_OK);

    label.name = "group";
    label.value.data = raw;
    label.value.len = sizeof(raw) - 1;

    sl_metrics_gauge(&m, "g", &label, 1, 7);

    test_text(&m, "g{group=\"a\\\\b\\\"c\\nd\"} 7\n");

    sl_destroy_pool(pool);
}


static void
test_histogram(void **state)
{
    sl_pool_t               *pool;
    sl_metrics_t             m;
    sl_metrics_label_t       label;
    sl_metrics_histogram_t   h;
    static const double      bounds[] = { 0.0005, 1, 2.5 };
    uint64_t                 counts[] = { 1, 0, 2, 3 };

    pool = test_pool();
    assert_int_equal(sl_metrics_init(&m, pool, 8), SL_OK);

    h.bounds = bounds;
    h.nbounds = 3;
    h.counts = counts;
    h.sum = 12.5;

    label.name = "api";
    sl_str_set(&label.value, "Produce");

    sl_metrics_histogram(&m, "d_seconds", &label, 1, &h);
    sl_metrics_histogram(&m, "e_seconds", NULL, 0, &h);

    test_text(&m,
              "d_seconds_bucket{api=\"Produce\",le=\"0.0005\"} 1\n"
              "d_seconds_bucket{api=\"Produce\",le=\"1\"} 1\n"
              "d_seconds_bucket{api=\"Produce\",le=\"2.5\"} 3\n"
              "d_seconds_bucket{api=\"Produce\",le=\"+Inf\"} 6\n"
              "d_seconds_sum{api=\"Produce\"} 12.500000\n"
              "d_seconds_count{api=\"Produce\"} 6\n"
              "e_seconds_bucket{le=\"0.0005\"} 1\n"
              "e_seconds_bucket{le=\"1\"} 1\n"
              "e_seconds_bucket{le=\"2.5\"} 3\n"
              "e_seconds_bucket{le=\"+Inf\"} 6\n"
              "e_seconds_sum 12.500000\n"
              "e_seconds_count 6\n");

    sl_destroy_pool(pool);
}


static void
test_growth(void **state)
{
    u_char        *p, line[64];
    sl_uint_t      i;
    sl_pool_t     *pool;
    sl_metrics_t   m;

    pool = test_pool();
    assert_int_equal(sl_metrics_init(&m, pool, 64), SL_OK);

    for (i = 0; i < 10000; i++) {
        sl_metrics_counter(&m, "many_total", NULL, 0, i);
    }

    assert_int_equal(m.failed, 0);

    p = m.start;

    for (i = 0; i < 10000; i++) {
        snprintf((char *) line, sizeof(line), "many_total %lu\n",
                 (unsigned long) i);
        assert_memory_equal(p, line, strlen((char *) line));
        p += strlen((char *) line);
    }

    assert_ptr_equal(p, m.pos);

    sl_destroy_pool(pool);
}


static void
test_latency_buckets(void **state)
{
    assert_int_equal(sl_metrics_latency_bucket(0), 0);
    assert_int_equal(sl_metrics_latency_bucket(500), 0);
    assert_int_equal(sl_metrics_latency_bucket(501), 1);
    assert_int_equal(sl_metrics_latency_bucket(1000), 1);
    assert_int_equal(sl_metrics_latency_bucket(1000000), 10);
    assert_int_equal(sl_metrics_latency_bucket(10000000), 13);
    assert_int_equal(sl_metrics_latency_bucket(10000001),
                     SL_METRICS_LATENCY_N);
}


static sl_uint_t  test_calls;


static void
test_collector(sl_metrics_t *m, void *data)
{
    test_calls++;
    sl_metrics_gauge(m, "collected", NULL, 0, (int64_t) (uintptr_t) data);
}


static void
test_registry(void **state)
{
    size_t         len;
    sl_pool_t     *pool;
    sl_metrics_t   m;
    static char    expect[] = "collected 2\n";

    /* the same handler twice is one collector, with the newer data */
    assert_int_equal(sl_metrics_add_collector(test_collector, (void *) 1),
                     SL_OK);
    assert_int_equal(sl_metrics_add_collector(test_collector, (void *) 2),
                     SL_OK);

    pool = test_pool();
    assert_int_equal(sl_metrics_init(&m, pool, 64), SL_OK);
    assert_int_equal(sl_metrics_collect(&m), SL_OK);

    assert_int_equal(test_calls, 1);

    /* the core's counters come first, then the collector's line */
    len = m.pos - m.start;
    assert_true(len > sizeof(expect));
    assert_memory_equal(m.pos - (sizeof(expect) - 1), expect,
                        sizeof(expect) - 1);

    sl_metrics_write(&m, (u_char *) "", 1);
    assert_non_null(strstr((char *) m.start, "# TYPE sluice_workers gauge"));

    sl_destroy_pool(pool);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_latency_buckets),
        cmocka_unit_test(test_registry),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
