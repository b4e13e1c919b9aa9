
/*
 * The access log's format compiler and renderer: literals and "$name" /
 * "${name}" variables, the configuration-time errors (unknown variable,
 * missing bracket, empty name), nginx's default escaping, escape=json
 * and escape=none, "-" or "" for a missing value, $http_NAME for any
 * header (repeated ones joined), and the numbers a request reports.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_http.h>

#include <setjmp.h>
#include <cmocka.h>


/* sl_http_log_module.c exports these two for this test */
sl_array_t *sl_http_log_compile(sl_pool_t *pool, sl_str_t *text,
    sl_str_t *err);
u_char *sl_http_log_render(sl_http_request_t *r, sl_array_t *ops,
    sl_uint_t escape, size_t *len);


#define TEST_ESCAPE_DEFAULT  0
#define TEST_ESCAPE_JSON     1
#define TEST_ESCAPE_NONE     2


typedef struct {
    sl_pool_t            *pool;
    sl_connection_t       c;
    struct sockaddr_in    sin;
    sl_http_request_t     r;
} test_ctx_t;


static void test_header(test_ctx_t *t, char *key, char *value);
static sl_int_t test_compile(test_ctx_t *t, const char *fmt,
    sl_array_t **ops, char *err, size_t errlen);
static void test_line(test_ctx_t *t, const char *fmt, sl_uint_t escape,
    const char *expect);


static int
test_setup(void **state)
{
    test_ctx_t  *t;

    sl_time_init();

    t = calloc(1, sizeof(test_ctx_t));
    assert_non_null(t);

    t->pool = sl_create_pool(4096, NULL);
    assert_non_null(t->pool);

    t->sin.sin_family = AF_INET;
    t->sin.sin_port = htons(54321);
    t->sin.sin_addr.s_addr = htonl(0x7f000001);

    t->c.sockaddr = (struct sockaddr *) &t->sin;
    t->c.socklen = sizeof(struct sockaddr_in);
    sl_str_set(&t->c.addr_text, "127.0.0.1");
    t->c.number = 17;
    t->c.requests = 3;
    t->c.sent = 1000 + 250;

    t->r.connection = &t->c;
    t->r.pool = t->pool;
    t->r.sent_start = 1000;
    t->r.header_size = 150;
    t->r.request_length = 321;
    t->r.start_msec = sl_current_msec;
    t->r.headers_out.status = 200;
    t->r.http_version = SL_HTTP_VERSION_11;
    t->r.http_major = 1;
    t->r.http_minor = 1;

    sl_str_set(&t->r.request_line, "GET /a/b?x=1 HTTP/1.1");
    sl_str_set(&t->r.method_name, "GET");
    sl_str_set(&t->r.unparsed_uri, "/a/b?x=1");
    sl_str_set(&t->r.uri, "/a/b");
    sl_str_set(&t->r.args, "x=1");

    assert_int_equal(sl_array_init(&t->r.headers_in.headers, t->pool, 4,
                                   sizeof(sl_http_header_t)),
                     SL_OK);

    *state = t;

    return 0;
}


static int
test_teardown(void **state)
{
    test_ctx_t  *t = *state;

    sl_destroy_pool(t->pool);
    free(t);

    return 0;
}


static void
test_header(test_ctx_t *t, char *key, char *value)
{
    sl_http_header_t  *h;

    h = sl_array_push(&t->r.headers_in.headers);
    assert_non_null(h);

    h->key.data = (u_char *) key;
    h->key.len = strlen(key);
    h->value.data = (u_char *) value;
    h->value.len = strlen(value);

    if (strcasecmp(key, "Host") == 0) {
        t->r.headers_in.host = h;
    }
}


static sl_int_t
test_compile(test_ctx_t *t, const char *fmt, sl_array_t **ops, char *err,
    size_t errlen)
{
    sl_int_t  rc;
    sl_str_t  text, e;
    u_char    buf[SL_MAX_CONF_ERRSTR];

    text.data = (u_char *) fmt;
    text.len = strlen(fmt);

    e.data = buf;
    e.len = sizeof(buf);

    *ops = sl_http_log_compile(t->pool, &text, &e);
    rc = *ops ? SL_OK : SL_ERROR;

    if (rc == SL_ERROR) {
        assert_true(e.len > 0);
    }

    if (err) {
        snprintf(err, errlen, "%.*s", rc == SL_OK ? 0 : (int) e.len,
                 (char *) buf);
    }

    return rc;
}


static void
test_line(test_ctx_t *t, const char *fmt, sl_uint_t escape,
    const char *expect)
{
    char         err[256];
    u_char      *line;
    size_t       len;
    sl_array_t  *ops;

    assert_int_equal(test_compile(t, fmt, &ops, err, sizeof(err)), SL_OK);

    line = sl_http_log_render(&t->r, ops, escape, &len);
    assert_non_null(line);

    assert_true(len >= 1 && line[len - 1] == '\n');

    if (len - 1 != strlen(expect) || memcmp(line, expect, len - 1) != 0) {
        fail_msg("format \"%s\": got \"%.*s\", expected \"%s\"", fmt,
                 (int) len - 1, line, expect);
    }
}


static void
test_literals_and_variables(void **state)
{
    test_ctx_t  *t = *state;
    sl_array_t  *ops;

    assert_int_equal(test_compile(t, "a $remote_addr b ${status}c", &ops,
                                  NULL, 0),
                     SL_OK);
    /* "a ", $remote_addr, " b ", $status, "c" */
    assert_int_equal(ops->nelts, 5);

    test_line(t, "", TEST_ESCAPE_DEFAULT, "");
    test_line(t, "plain text", TEST_ESCAPE_DEFAULT, "plain text");
    test_line(t, "a $remote_addr b ${status}c", TEST_ESCAPE_DEFAULT,
              "a 127.0.0.1 b 200c");
    test_line(t, "$remote_addr:$remote_port", TEST_ESCAPE_DEFAULT,
              "127.0.0.1:54321");
    test_line(t, "$request|$request_method|$request_uri|$uri|$args",
              TEST_ESCAPE_DEFAULT, "GET /a/b?x=1 HTTP/1.1|GET|/a/b?x=1|/a/b|"
              "x=1");
    test_line(t, "$server_protocol $query_string", TEST_ESCAPE_DEFAULT,
              "HTTP/1.1 x=1");
    /* a '$' that ends a name is the next variable's */
    test_line(t, "$status$status", TEST_ESCAPE_DEFAULT, "200200");
    test_line(t, "$status.$status-", TEST_ESCAPE_DEFAULT, "200.200-");
    /* names in any case, as nginx's */
    test_line(t, "$STATUS $Remote_Addr", TEST_ESCAPE_DEFAULT,
              "200 127.0.0.1");
}


static void
test_numbers(void **state)
{
    test_ctx_t  *t = *state;
    char         expect[128];

    test_line(t, "$body_bytes_sent $bytes_sent $request_length",
              TEST_ESCAPE_DEFAULT, "100 250 321");
    test_line(t, "$connection $connection_requests", TEST_ESCAPE_DEFAULT,
              "17 3");

    snprintf(expect, sizeof(expect), "%d", (int) sl_pid);
    test_line(t, "$pid", TEST_ESCAPE_DEFAULT, expect);

    test_line(t, "$request_time", TEST_ESCAPE_DEFAULT, "0.000");

    /* no status yet: three digits all the same, as nginx */
    t->r.headers_out.status = 0;
    test_line(t, "$status", TEST_ESCAPE_DEFAULT, "000");

    /* a HEAD's header only: no body bytes, never negative */
    t->c.sent = 1000 + 100;
    test_line(t, "$body_bytes_sent $bytes_sent", TEST_ESCAPE_DEFAULT,
              "0 100");
}


static void
test_times(void **state)
{
    test_ctx_t  *t = *state;
    u_char      *line;
    size_t       len;
    sl_array_t  *ops;

    assert_int_equal(test_compile(t, "$time_local|$time_iso8601|$msec",
                                  &ops, NULL, 0),
                     SL_OK);

    line = sl_http_log_render(&t->r, ops, TEST_ESCAPE_DEFAULT, &len);
    assert_non_null(line);

    /* 25/Nov/2026:09:06:24 +0000|2026-11-25T09:06:24+00:00|1.123 */
    assert_true(len > sizeof("28/Sep/1970:12:00:00 +0600|"
                             "1970-09-28T12:00:00+06:00|1.000"));
    assert_int_equal(line[2], '/');
    assert_int_equal(line[26], '|');
    assert_int_equal(line[27 + 4], '-');
    assert_int_equal(line[27 + 10], 'T');
    assert_int_equal(line[27 + 25], '|');
    assert_int_equal(line[len - 5], '.');
}


static void
test_headers(void **state)
{
    test_ctx_t  *t = *state;

    test_line(t, "\"$http_user_agent\" \"$http_referer\"",
              TEST_ESCAPE_DEFAULT, "\"-\" \"-\"");
    test_line(t, "[$host]", TEST_ESCAPE_DEFAULT, "[]");

    test_header(t, "User-Agent", "curl/8");
    test_header(t, "HOST", "Example.COM:8080");
    test_header(t, "X-Forwarded-For", "10.0.0.1");
    test_header(t, "x-forwarded-for", "10.0.0.2");
    test_header(t, "X-Empty", "");

    test_line(t, "$http_user_agent $http_USER_AGENT $host $http_host",
              TEST_ESCAPE_DEFAULT,
              "curl/8 curl/8 example.com Example.COM:8080");
    test_line(t, "$http_x_forwarded_for", TEST_ESCAPE_DEFAULT,
              "10.0.0.1, 10.0.0.2");
    /* present but empty is empty, not "-" */
    test_line(t, "[$http_x_empty]", TEST_ESCAPE_DEFAULT, "[]");
    test_line(t, "[$http_x_empty][$http_x_none]", TEST_ESCAPE_JSON, "[][]");
}


static void
test_escapes(void **state)
{
    test_ctx_t  *t = *state;

    test_header(t, "User-Agent", "a\"b\\c\td\x01\x7f\xc3\xa9 ok");

    /* nginx: '"', '\' and bytes outside 0x20-0x7e as \xHH */
    test_line(t, "\"$http_user_agent\"", TEST_ESCAPE_DEFAULT,
              "\"a\\x22b\\x5Cc\\x09d\\x01\\x7F\\xC3\\xA9 ok\"");

    /* JSON strings; UTF-8 goes through */
    test_line(t, "{\"ua\":\"$http_user_agent\",\"r\":\"$http_referer\"}",
              TEST_ESCAPE_JSON,
              "{\"ua\":\"a\\\"b\\\\c\\td\\u0001\x7f\xc3\xa9 ok\",\"r\":\"\"}");

    test_line(t, "$http_user_agent|$http_referer", TEST_ESCAPE_NONE,
              "a\"b\\c\td\x01\x7f\xc3\xa9 ok|-");

    /* literals are never escaped */
    test_line(t, "\"\\ $status", TEST_ESCAPE_DEFAULT, "\"\\ 200");
}


static void
test_errors(void **state)
{
    test_ctx_t  *t = *state;
    char         err[256];
    sl_array_t  *ops;

    assert_int_equal(test_compile(t, "$remote_addr $no_such", &ops, err,
                                  sizeof(err)),
                     SL_ERROR);
    assert_string_equal(err, "unknown \"no_such\" variable");

    assert_int_equal(test_compile(t, "${status", &ops, err, sizeof(err)),
                     SL_ERROR);
    assert_string_equal(err, "the closing bracket in \"status\" variable "
                        "is missing");

    assert_int_equal(test_compile(t, "${status x}", &ops, err, sizeof(err)),
                     SL_ERROR);

    assert_int_equal(test_compile(t, "a $ b", &ops, err, sizeof(err)),
                     SL_ERROR);
    assert_string_equal(err, "invalid variable name in \"a $ b\"");

    assert_int_equal(test_compile(t, "end$", &ops, err, sizeof(err)),
                     SL_ERROR);
    assert_int_equal(test_compile(t, "${}", &ops, err, sizeof(err)),
                     SL_ERROR);

    /* "http_" alone names no header */
    assert_int_equal(test_compile(t, "$http_", &ops, err, sizeof(err)),
                     SL_ERROR);
    assert_string_equal(err, "unknown \"http_\" variable");

}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_literals_and_variables,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_numbers,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_times,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_headers,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_escapes,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_errors,
                                        test_setup, test_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
