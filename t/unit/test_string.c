
/*
 * Strings and value parsers: the decimal and hex parsers, sizes, times
 * ("1h30m"), bounded formatting, base64 and hex; addresses of listen
 * directives; and the error log's line format.
 */


#include <sl_config.h>
#include <sl_core.h>

#include <setjmp.h>
#include <cmocka.h>


#define S(text)  test_str(text)


static sl_str_t test_str(const char *text);
static sl_int_t test_time(const char *text, sl_uint_t is_sec);


/* sl_log.c's error_log directive reports through the conf parser */
__attribute__((weak)) void
sl_conf_log_error(sl_uint_t level, sl_conf_t *cf, sl_err_t err,
    const char *fmt, ...)
{
}


static sl_str_t
test_str(const char *text)
{
    sl_str_t  s;

    s.len = strlen(text);
    s.data = (u_char *) text;

    return s;
}


static sl_int_t
test_time(const char *text, sl_uint_t is_sec)
{
    sl_str_t  s;

    s = S(text);

    return sl_parse_time(&s, is_sec);
}


static void
test_atoi(void **state)
{
    assert_int_equal(sl_atoi((u_char *) "0", 1), 0);
    assert_int_equal(sl_atoi((u_char *) "12345", 5), 12345);
    assert_int_equal(sl_atoi((u_char *) "123x", 4), SL_ERROR);
    assert_int_equal(sl_atoi((u_char *) "-1", 2), SL_ERROR);
    assert_int_equal(sl_atoi((u_char *) "", 0), SL_ERROR);
    assert_int_equal(sl_atoi((u_char *) "9223372036854775807", 19),
                     INT64_MAX);
    assert_int_equal(sl_atoi((u_char *) "9223372036854775808", 19),
                     SL_ERROR);
    assert_int_equal(sl_atoi((u_char *) "99999999999999999999", 20),
                     SL_ERROR);

    assert_int_equal(sl_atoof((u_char *) "1099511627776", 13),
                     1099511627776LL);
    assert_int_equal(sl_atoof((u_char *) "1a", 2), SL_ERROR);
    assert_int_equal(sl_atoof((u_char *) "", 0), SL_ERROR);

    assert_int_equal(sl_hextoi((u_char *) "ff", 2), 255);
    assert_int_equal(sl_hextoi((u_char *) "DeadBeef", 8), 0xdeadbeef);
    assert_int_equal(sl_hextoi((u_char *) "fg", 2), SL_ERROR);
    assert_int_equal(sl_hextoi((u_char *) "", 0), SL_ERROR);
    assert_int_equal(sl_hextoi((u_char *) "7fffffffffffffff", 16),
                     INT64_MAX);
    assert_int_equal(sl_hextoi((u_char *) "10000000000000000", 17),
                     SL_ERROR);
}


static void
test_parse_size(void **state)
{
    sl_str_t  s;

    s = S("64");
    assert_int_equal(sl_parse_size(&s), 64);
    s = S("64k");
    assert_int_equal(sl_parse_size(&s), 64 * 1024);
    s = S("64K");
    assert_int_equal(sl_parse_size(&s), 64 * 1024);
    s = S("1m");
    assert_int_equal(sl_parse_size(&s), 1024 * 1024);
    s = S("1M");
    assert_int_equal(sl_parse_size(&s), 1024 * 1024);
    s = S("2g");
    assert_int_equal(sl_parse_size(&s), 2LL * 1024 * 1024 * 1024);
    s = S("0");
    assert_int_equal(sl_parse_size(&s), 0);

    s = S("");
    assert_int_equal(sl_parse_size(&s), SL_ERROR);
    s = S("k");
    assert_int_equal(sl_parse_size(&s), SL_ERROR);
    s = S("1t");
    assert_int_equal(sl_parse_size(&s), SL_ERROR);
    s = S("1x");
    assert_int_equal(sl_parse_size(&s), SL_ERROR);
    s = S("1.5m");
    assert_int_equal(sl_parse_size(&s), SL_ERROR);
    s = S("-1");
    assert_int_equal(sl_parse_size(&s), SL_ERROR);
    s = S("1 k");
    assert_int_equal(sl_parse_size(&s), SL_ERROR);
    s = S("9999999999999999g");
    assert_int_equal(sl_parse_size(&s), SL_ERROR);

    s = S("1t");
    assert_int_equal(sl_parse_offset(&s), 1024LL * 1024 * 1024 * 1024);
    s = S("3g");
    assert_int_equal(sl_parse_offset(&s), 3LL * 1024 * 1024 * 1024);
    s = S("12345");
    assert_int_equal(sl_parse_offset(&s), 12345);
    s = S("8388608t");
    assert_int_equal(sl_parse_offset(&s), SL_ERROR);
    s = S("");
    assert_int_equal(sl_parse_offset(&s), SL_ERROR);
}


static void
test_parse_time(void **state)
{
    /* milliseconds */
    assert_int_equal(test_time("500ms", 0), 500);
    assert_int_equal(test_time("30s", 0), 30000);
    assert_int_equal(test_time("5m", 0), 300000);
    assert_int_equal(test_time("2h", 0), 7200000);
    assert_int_equal(test_time("7d", 0), 7 * 86400000LL);
    assert_int_equal(test_time("1w", 0), 7 * 86400000LL);
    assert_int_equal(test_time("1M", 0), 30 * 86400000LL);
    assert_int_equal(test_time("1y", 0), 365 * 86400000LL);
    assert_int_equal(test_time("1h30m", 0), 5400000);
    assert_int_equal(test_time("1h 30m", 0), 5400000);
    assert_int_equal(test_time("1m30s500ms", 0), 90500);
    assert_int_equal(test_time("1d2h3m4s5ms", 0),
                     86400000LL + 7200000 + 180000 + 4000 + 5);
    assert_int_equal(test_time("250", 0), 250);
    assert_int_equal(test_time("1s250", 0), 1250);
    assert_int_equal(test_time("0", 0), 0);

    /* seconds */
    assert_int_equal(test_time("30", 1), 30);
    assert_int_equal(test_time("30s", 1), 30);
    assert_int_equal(test_time("5m", 1), 300);
    assert_int_equal(test_time("1h30m", 1), 5400);
    assert_int_equal(test_time("1m30", 1), 90);
    assert_int_equal(test_time("7d", 1), 7 * 86400);
    assert_int_equal(test_time("1y", 1), 365 * 86400);

    /* errors */
    assert_int_equal(test_time("", 0), SL_ERROR);
    assert_int_equal(test_time("s", 0), SL_ERROR);
    assert_int_equal(test_time("ms", 0), SL_ERROR);
    assert_int_equal(test_time("5x", 0), SL_ERROR);
    assert_int_equal(test_time("30m1h", 0), SL_ERROR);
    assert_int_equal(test_time("1h1h", 0), SL_ERROR);
    assert_int_equal(test_time("1s1s", 0), SL_ERROR);
    assert_int_equal(test_time("500ms", 1), SL_ERROR);
    assert_int_equal(test_time("1s5", 1), SL_ERROR);
    assert_int_equal(test_time("5ms3", 0), SL_ERROR);
    assert_int_equal(test_time("-5s", 0), SL_ERROR);
    assert_int_equal(test_time(" 5s", 0), SL_ERROR);
    assert_int_equal(test_time("5 5", 0), SL_ERROR);
    assert_int_equal(test_time("1.5s", 0), SL_ERROR);
    assert_int_equal(test_time("99999999999999999999", 0), SL_ERROR);
    assert_int_equal(test_time("999999999999999y", 0), SL_ERROR);
}


static void
test_strings(void **state)
{
    u_char      buf[64], *p;
    sl_str_t    s;
    sl_pool_t  *pool;
    char       *z;

    p = sl_cpystrn(buf, (u_char *) "hello", sizeof(buf));
    assert_string_equal((char *) buf, "hello");
    assert_ptr_equal(p, buf + 5);

    p = sl_cpystrn(buf, (u_char *) "hello", 3);
    assert_string_equal((char *) buf, "he");
    assert_ptr_equal(p, buf + 2);

    assert_ptr_equal(sl_cpystrn(buf, (u_char *) "x", 0), buf);

    sl_strlow(buf, (u_char *) "HeLLo-1", 8);
    assert_string_equal((char *) buf, "hello-1");

    assert_int_equal(sl_strcasecmp((u_char *) "Topic", (u_char *) "tOPIC"),
                     0);
    assert_true(sl_strcasecmp((u_char *) "a", (u_char *) "B") < 0);
    assert_true(sl_strcasecmp((u_char *) "ab", (u_char *) "a") > 0);
    assert_int_equal(sl_strncasecmp((u_char *) "GETx", (u_char *) "gety",
                                    3), 0);
    assert_true(sl_strncasecmp((u_char *) "GETx", (u_char *) "gety", 4)
                < 0);

    s = S("abc:def");
    assert_ptr_equal(sl_strlchr(s.data, s.data + s.len, ':'), s.data + 3);
    assert_null(sl_strlchr(s.data, s.data + 3, ':'));

    assert_true(sl_str_eq(&s, "abc:def"));
    assert_false(sl_str_eq(&s, "abc"));

    pool = sl_create_pool(1024, NULL);
    assert_non_null(pool);

    p = sl_pstrdup(pool, &s);
    assert_memory_equal(p, "abc:def", 7);

    z = sl_pstrz(pool, &s);
    assert_string_equal(z, "abc:def");

    s.len = 0;
    z = sl_pstrz(pool, &s);
    assert_string_equal(z, "");

    sl_destroy_pool(pool);
}


static void
test_slprintf(void **state)
{
    u_char  buf[16], *p;

    memset(buf, 'X', sizeof(buf));

    p = sl_slprintf(buf, buf + sizeof(buf), "%d-%s", 42, "ab");
    assert_int_equal(p - buf, 5);
    assert_memory_equal(buf, "42-ab", 5);

    /* truncation: never past last, and the result ends inside */
    memset(buf, 'X', sizeof(buf));
    p = sl_slprintf(buf, buf + 8, "%s", "0123456789abcdef");
    assert_true(p <= buf + 8);
    assert_int_equal(p - buf, 7);
    assert_memory_equal(buf, "0123456", 7);
    assert_int_equal(buf[8], 'X');

    p = sl_slprintf(buf, buf, "%s", "x");
    assert_ptr_equal(p, buf);

    p = sl_slprintf(buf, buf + sizeof(buf), "%.*s", 3, "abcdef");
    assert_int_equal(p - buf, 3);
}


static void
test_base64(void **state)
{
    static const char  *plain[] = {
        "", "f", "fo", "foo", "foob", "fooba", "foobar"
    };
    static const char  *coded[] = {
        "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"
    };

    u_char     buf[64], out[64];
    size_t     i;
    sl_str_t   src, dst, dec;

    for (i = 0; i < sl_nelems(plain); i++) {
        src = S(plain[i]);
        dst.data = buf;

        sl_encode_base64(&dst, &src);

        assert_int_equal(dst.len, strlen(coded[i]));
        assert_int_equal(dst.len, sl_base64_encoded_length(src.len));
        assert_memory_equal(dst.data, coded[i], dst.len);

        dec.data = out;
        assert_int_equal(sl_decode_base64(&dec, &dst), SL_OK);
        assert_int_equal(dec.len, src.len);
        assert_memory_equal(dec.data, src.data, src.len);
        assert_true(dec.len <= sl_base64_decoded_length(dst.len));
    }

    /* unpadded input decodes too */
    src = S("Zm9vYg");
    dec.data = out;
    assert_int_equal(sl_decode_base64(&dec, &src), SL_OK);
    assert_int_equal(dec.len, 4);
    assert_memory_equal(out, "foob", 4);

    src = S("Zm9v!g==");
    assert_int_equal(sl_decode_base64(&dec, &src), SL_ERROR);

    src = S("Z");
    assert_int_equal(sl_decode_base64(&dec, &src), SL_ERROR);

    src = S("Zg=a");
    assert_int_equal(sl_decode_base64(&dec, &src), SL_ERROR);

    /* every byte value survives */
    for (i = 0; i < 48; i++) {
        buf[i] = (u_char) (i * 37 + 200);
    }

    src.data = buf;
    src.len = 48;
    dst.data = out;
    sl_encode_base64(&dst, &src);

    {
        u_char    back[64];
        sl_str_t  b;

        b.data = back;
        assert_int_equal(sl_decode_base64(&b, &dst), SL_OK);
        assert_int_equal(b.len, 48);
        assert_memory_equal(back, buf, 48);
    }
}


static void
test_hex_dump(void **state)
{
    u_char  buf[16], *p;

    p = sl_hex_dump(buf, (u_char *) "\x00\x1f\xab\xff", 4);
    assert_int_equal(p - buf, 8);
    assert_memory_equal(buf, "001fabff", 8);
}


static void
test_parse_url(void **state)
{
    u_char                buf[SL_SOCKADDR_STRLEN + 1];
    size_t                n;
    sl_url_t              u, u2;
    struct sockaddr_in   *sin;
    struct sockaddr_in6  *sin6;

    sl_memzero(&u, sizeof(sl_url_t));
    u.url = S("8080");
    assert_int_equal(sl_parse_url(NULL, &u), SL_OK);
    assert_int_equal(u.port, 8080);
    assert_true(u.wildcard);
    assert_int_equal(u.host.len, 0);
    sin = &u.sockaddr.sockaddr_in;
    assert_int_equal(sin->sin_family, AF_INET);
    assert_int_equal(ntohs(sin->sin_port), 8080);
    assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_ANY));
    assert_int_equal(u.socklen, sizeof(struct sockaddr_in));

    sl_memzero(&u, sizeof(sl_url_t));
    u.url = S("*:8080");
    assert_int_equal(sl_parse_url(NULL, &u), SL_OK);
    assert_int_equal(u.port, 8080);
    assert_true(u.wildcard);
    assert_int_equal(u.host.len, 0);

    sl_memzero(&u, sizeof(sl_url_t));
    u.url = S("127.0.0.1:9092");
    assert_int_equal(sl_parse_url(NULL, &u), SL_OK);
    assert_int_equal(u.port, 9092);
    assert_false(u.wildcard);
    assert_true(sl_str_eq(&u.host, "127.0.0.1"));
    sin = &u.sockaddr.sockaddr_in;
    assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_LOOPBACK));

    n = sl_sock_ntop(&u.sockaddr.sockaddr, u.socklen, buf, sizeof(buf), 1);
    assert_int_equal(n, sizeof("127.0.0.1:9092") - 1);
    assert_memory_equal(buf, "127.0.0.1:9092", n);

    n = sl_sock_ntop(&u.sockaddr.sockaddr, u.socklen, buf, sizeof(buf), 0);
    assert_memory_equal(buf, "127.0.0.1", n);

    sl_memzero(&u, sizeof(sl_url_t));
    u.url = S("[::1]:9092");
    assert_int_equal(sl_parse_url(NULL, &u), SL_OK);
    assert_int_equal(u.port, 9092);
    assert_true(sl_str_eq(&u.host, "::1"));
    sin6 = &u.sockaddr.sockaddr_in6;
    assert_int_equal(sin6->sin6_family, AF_INET6);
    assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
    assert_int_equal(u.socklen, sizeof(struct sockaddr_in6));

    n = sl_sock_ntop(&u.sockaddr.sockaddr, u.socklen, buf, sizeof(buf), 1);
    assert_memory_equal(buf, "[::1]:9092", n);

    sl_memzero(&u, sizeof(sl_url_t));
    u.url = S("[::]:80");
    assert_int_equal(sl_parse_url(NULL, &u), SL_OK);
    assert_true(u.wildcard);

    sl_memzero(&u, sizeof(sl_url_t));
    u.url = S("0.0.0.0:80");
    assert_int_equal(sl_parse_url(NULL, &u), SL_OK);
    assert_int_equal(u.port, 80);
    assert_true(u.wildcard);

    /* the default port fills a missing one */
    sl_memzero(&u, sizeof(sl_url_t));
    u.url = S("10.1.2.3");
    u.default_port = 9092;
    assert_int_equal(sl_parse_url(NULL, &u), SL_OK);
    assert_true(u.no_port);
    assert_int_equal(u.port, 9092);

    /* comparisons */
    sl_memzero(&u, sizeof(sl_url_t));
    sl_memzero(&u2, sizeof(sl_url_t));
    u.url = S("127.0.0.1:1");
    u2.url = S("127.0.0.1:1");
    assert_int_equal(sl_parse_url(NULL, &u), SL_OK);
    assert_int_equal(sl_parse_url(NULL, &u2), SL_OK);
    assert_int_equal(sl_cmp_sockaddr(&u.sockaddr.sockaddr, u.socklen,
                                     &u2.sockaddr.sockaddr, u2.socklen),
                     SL_OK);
    u2.url = S("127.0.0.1:2");
    assert_int_equal(sl_parse_url(NULL, &u2), SL_OK);
    assert_int_equal(sl_cmp_sockaddr(&u.sockaddr.sockaddr, u.socklen,
                                     &u2.sockaddr.sockaddr, u2.socklen),
                     SL_DECLINED);
    u2.url = S("[::1]:1");
    assert_int_equal(sl_parse_url(NULL, &u2), SL_OK);
    assert_int_equal(sl_cmp_sockaddr(&u.sockaddr.sockaddr, u.socklen,
                                     &u2.sockaddr.sockaddr, u2.socklen),
                     SL_DECLINED);
}


static void
test_parse_url_errors(void **state)
{
    static const char  *bad[] = {
        "", "0", "65536", "99999999999999999999", "localhost:80",
        "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:x", "1.2.3:80",
        "256.0.0.1:80", "::1:80", "[::1", "[::1]80", "[]:80",
        "[zz]:80", ":80", "127.0.0.1", "*", "[::1]"
    };

    size_t    i;
    sl_url_t  u;

    for (i = 0; i < sl_nelems(bad); i++) {
        sl_memzero(&u, sizeof(sl_url_t));
        u.url = S(bad[i]);

        if (sl_parse_url(NULL, &u) != SL_ERROR) {
            fail_msg("\"%s\" parsed", bad[i]);
        }

        assert_non_null(u.err);
    }
}


static u_char *
test_log_handler(sl_log_t *log, u_char *buf, size_t len)
{
    return sl_slprintf(buf, buf + len, "client: %s", (char *) log->data);
}


static void
test_log_line(void **state)
{
    int             fds[2];
    char            line[SL_MAX_ERROR_STR + 1], expect[128];
    ssize_t         n;
    sl_str_t        name;
    sl_log_t        log;
    sl_open_file_t  file;

    sl_time_init();

    assert_int_equal(pipe(fds), 0);

    file.fd = fds[1];
    file.name.len = 0;
    file.name.data = NULL;

    sl_memzero(&log, sizeof(sl_log_t));
    log.log_level = SL_LOG_WARN;
    log.file = &file;

    sl_use_stderr = 0;

    /* below the level: nothing written */
    sl_log_error(SL_LOG_INFO, &log, 0, "quiet");

    log.connection = 17;
    log.action = "reading request";
    log.handler = test_log_handler;
    log.data = "127.0.0.1";

    sl_log_error(SL_LOG_ERR, &log, ENOENT, "open() \"%s\" failed", "x");

    n = read(fds[0], line, sizeof(line) - 1);
    assert_true(n > 0);
    line[n] = '\0';

    /* "2026/11/25 05:01:02 [error] PID#TID: *17 ..." */
    assert_int_equal(line[4], '/');
    assert_int_equal(line[7], '/');
    assert_int_equal(line[13], ':');
    assert_memory_equal(line + 19, " [error] ", 9);

    snprintf(expect, sizeof(expect), "%d#", (int) getpid());
    assert_non_null(strstr(line, expect));

    assert_non_null(strstr(line,
        ": *17 open() \"x\" failed: No such file or directory (2) "
        "while reading request, client: 127.0.0.1\n"));

    /* a long message is cut but keeps the errno and the line feed */
    {
        char  big[3000];

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';

        log.handler = NULL;
        log.action = NULL;

        sl_log_error(SL_LOG_EMERG, &log, EACCES, "%s", big);

        n = read(fds[0], line, sizeof(line) - 1);
        assert_true(n > SL_MAX_ERROR_STR - 100 && n <= SL_MAX_ERROR_STR);
        line[n] = '\0';
        assert_int_equal(line[n - 1], '\n');
        assert_non_null(strstr(line, "...: Permission denied (13)"));
    }

    close(fds[0]);
    close(fds[1]);

    name = S("warn");
    assert_int_equal(sl_log_level_from_name(&name), SL_LOG_WARN);
    name = S("debug");
    assert_int_equal(sl_log_level_from_name(&name), SL_LOG_DEBUG);
    name = S("emerg");
    assert_int_equal(sl_log_level_from_name(&name), SL_LOG_EMERG);
    name = S("loud");
    assert_int_equal(sl_log_level_from_name(&name), SL_ERROR);
    name = S("stderr");
    assert_int_equal(sl_log_level_from_name(&name), SL_ERROR);
}


static void
test_times(void **state)
{
    u_char     buf[64], *p;
    sl_msec_t  before;

    sl_time_init();

    assert_int_equal(sl_cached_err_log_time.len, 19);
    assert_int_equal(sl_cached_http_time.len, 29);
    assert_int_equal(sl_cached_http_log_time.len, 26);

    assert_memory_equal(sl_cached_http_time.data + 26, "GMT", 3);

    before = sl_current_msec;
    usleep(20000);
    sl_time_update();
    assert_true(sl_current_msec - before >= 15);
    assert_true(sl_realtime_msec > 1600000000000LL);

    p = sl_http_time(buf, 784111777);
    assert_int_equal(p - buf, 29);
    assert_memory_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT", 29);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_atoi),
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_slprintf),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_hex_dump),
        cmocka_unit_test(test_parse_url),
        cmocka_unit_test(test_parse_url_errors),
        cmocka_unit_test(test_log_line),
        cmocka_unit_test(test_times),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
