
/*
 * The HTTP parser: request lines (methods, targets, versions), header
 * lines (valid, folded, malformed), the path's decoding and
 * normalisation (including ../ escapes), chunked bodies, pipelined
 * requests in one buffer, and input split at every byte boundary.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_http.h>

#include <setjmp.h>
#include <cmocka.h>


#define TEST_MAX_HEADERS  16


typedef struct {
    sl_int_t           rc;          /* of the request line or a header */
    sl_uint_t          method;
    sl_uint_t          version;
    char               method_name[16];
    char               uri[256];    /* decoded and normalised */
    char               args[256];
    char               exten[16];
    char               host[64];
    sl_uint_t          nheaders;
    char               name[TEST_MAX_HEADERS][64];
    char               value[TEST_MAX_HEADERS][256];
    size_t             consumed;
} test_result_t;


static void test_copy(char *dst, size_t size, u_char *start, u_char *end);
static size_t test_parse(const char *text, size_t len, size_t step,
    test_result_t *res);


static void
test_copy(char *dst, size_t size, u_char *start, u_char *end)
{
    size_t  n;

    n = (start && end > start) ? (size_t) (end - start) : 0;
    n = sl_min(n, size - 1);

    if (n) {
        memcpy(dst, start, n);
    }

    dst[n] = '\0';
}


/*
 * Parses one request (line and headers) from text, showing the parser
 * `step` more bytes each time it asks for more (0: all at once).
 * Returns the bytes consumed; res->rc is SL_OK when the header ended.
 */
static size_t
test_parse(const char *text, size_t len, size_t step, test_result_t *res)
{
    u_char             *data, dst[512];
    sl_int_t            rc;
    sl_buf_t            b;
    sl_uint_t           in_headers;
    sl_http_request_t   r;

    memset(res, 0, sizeof(test_result_t));
    memset(&r, 0, sizeof(sl_http_request_t));
    memset(&b, 0, sizeof(sl_buf_t));

    /* a copy of exactly len bytes, so that ASan sees any overread */
    data = malloc(len ? len : 1);
    assert_non_null(data);
    memcpy(data, text, len);

    b.start = data;
    b.pos = data;
    b.last = data + ((step == 0 || step > len) ? len : step);
    b.end = data + len;

    in_headers = 0;

    for ( ;; ) {
        if (!in_headers) {
            rc = sl_http_parse_request_line(&r, &b);

        } else {
            rc = sl_http_parse_header_line(&r, &b);
        }

        if (rc == SL_AGAIN) {
            if (b.last == b.end) {
                res->rc = SL_AGAIN;
                break;
            }

            b.last = (step == 0 || (size_t) (b.end - b.last) < step)
                     ? b.end : b.last + step;
            continue;
        }

        if (rc != SL_OK && rc != SL_HTTP_PARSE_HEADER_DONE) {
            res->rc = rc;
            break;
        }

        if (!in_headers) {
            in_headers = 1;

            res->method = r.method;
            res->version = r.http_version;
            test_copy(res->method_name, sizeof(res->method_name),
                      r.request_start, r.method_end);
            test_copy(res->args, sizeof(res->args), r.args_start,
                      r.args_start ? r.uri_end : NULL);
            test_copy(res->host, sizeof(res->host), r.host_start,
                      r.host_end);

            if (r.complex_uri) {
                assert_true((size_t) (r.uri_end - r.uri_start)
                            < sizeof(dst));

                if (sl_http_parse_complex_uri(&r, dst) != SL_OK) {
                    res->rc = SL_HTTP_PARSE_INVALID_REQUEST;
                    break;
                }

            } else {
                r.uri.data = r.uri_start;
                r.uri.len = (r.args_start ? r.args_start - 1 : r.uri_end)
                            - r.uri_start;
                sl_http_set_exten(&r);
            }

            test_copy(res->uri, sizeof(res->uri), r.uri.data,
                      r.uri.data + r.uri.len);
            test_copy(res->exten, sizeof(res->exten), r.exten.data,
                      r.exten.data + r.exten.len);
            continue;
        }

        if (rc == SL_HTTP_PARSE_HEADER_DONE) {
            res->rc = SL_OK;
            break;
        }

        assert_true(res->nheaders < TEST_MAX_HEADERS);

        test_copy(res->name[res->nheaders], sizeof(res->name[0]),
                  r.header_name_start, r.header_name_end);
        test_copy(res->value[res->nheaders], sizeof(res->value[0]),
                  r.header_start, r.header_end);
        res->nheaders++;
    }

    res->consumed = b.pos - data;
    free(data);

    return res->consumed;
}


#define PARSE(text, res)   test_parse(text, sizeof(text) - 1, 0, res)


static void
test_simple_get(void **state)
{
    test_result_t  res;

    PARSE("GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n", &res);

    assert_int_equal(res.rc, SL_OK);
    assert_int_equal(res.method, SL_HTTP_GET);
    assert_string_equal(res.method_name, "GET");
    assert_int_equal(res.version, SL_HTTP_VERSION_11);
    assert_string_equal(res.uri, "/index.html");
    assert_string_equal(res.exten, "html");
    assert_string_equal(res.args, "");
    assert_int_equal(res.nheaders, 1);
    assert_string_equal(res.name[0], "Host");
    assert_string_equal(res.value[0], "a");
}


static void
test_methods(void **state)
{
    sl_uint_t       i;
    test_result_t   res;
    char            line[64];
    static const struct {
        const char  *name;
        sl_uint_t    method;
    } methods[] = {
        { "GET", SL_HTTP_GET }, { "HEAD", SL_HTTP_HEAD },
        { "POST", SL_HTTP_POST }, { "PUT", SL_HTTP_PUT },
        { "DELETE", SL_HTTP_DELETE }, { "OPTIONS", SL_HTTP_OPTIONS },
        { "PATCH", SL_HTTP_PATCH }, { "TRACE", SL_HTTP_TRACE },
        { "CONNECT", SL_HTTP_CONNECT }, { "PROPFIND", SL_HTTP_UNKNOWN },
        { "GETS", SL_HTTP_UNKNOWN }, { "M-SEARCH", SL_HTTP_UNKNOWN }
    };

    for (i = 0; i < sl_nelems(methods); i++) {
        snprintf(line, sizeof(line), "%s / HTTP/1.0\r\n\r\n",
                 methods[i].name);
        test_parse(line, strlen(line), 0, &res);
        assert_int_equal(res.rc, SL_OK);
        assert_int_equal(res.method, methods[i].method);
        assert_string_equal(res.method_name, methods[i].name);
    }

    PARSE("get / HTTP/1.1\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);

    PARSE("G@T / HTTP/1.1\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);

    PARSE(" GET / HTTP/1.1\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);
}


static void
test_versions(void **state)
{
    test_result_t  res;

    PARSE("GET / HTTP/1.0\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_OK);
    assert_int_equal(res.version, SL_HTTP_VERSION_10);

    PARSE("GET / HTTP/1.1\n\n", &res);
    assert_int_equal(res.rc, SL_OK);
    assert_int_equal(res.version, SL_HTTP_VERSION_11);

    PARSE("GET / HTTP/1.12\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_OK);
    assert_int_equal(res.version, 1012);

    PARSE("GET / HTTP/1.1  \r\n\r\n", &res);
    assert_int_equal(res.rc, SL_OK);

    PARSE("GET / HTTP/2.0\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_VERSION);

    PARSE("GET / HTTP/0.9\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);

    PARSE("GET / HTTP/1\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);

    PARSE("GET / HTTP/1.1x\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);

    PARSE("GET / http/1.1\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);

    PARSE("GET / HTTP/1.1\rX\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);

    PARSE("GET / HTTP/1.10000\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);

    PARSE("GET / HTTP/1000.1\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);

    /* HTTP/0.9: no version at all */
    PARSE("GET /\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);
}


static void
test_targets(void **state)
{
    test_result_t  res;

    PARSE("GET /a/b.txt?x=1&y=%20 HTTP/1.1\r\nHost: h\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_OK);
    assert_string_equal(res.uri, "/a/b.txt");
    assert_string_equal(res.args, "x=1&y=%20");
    assert_string_equal(res.exten, "txt");

    PARSE("GET http://example.com:8080/p/q?z HTTP/1.1\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_OK);
    assert_string_equal(res.host, "example.com:8080");
    assert_string_equal(res.uri, "/p/q");
    assert_string_equal(res.args, "z");

    PARSE("GET http://example.com HTTP/1.1\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);

    PARSE("OPTIONS * HTTP/1.1\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);

    PARSE("GET  /two-spaces  HTTP/1.1\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_OK);
    assert_string_equal(res.uri, "/two-spaces");

    /* empty lines before a request are skipped */
    PARSE("\r\n\r\nGET / HTTP/1.1\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_OK);
    assert_string_equal(res.uri, "/");

    PARSE("GET /a\tb HTTP/1.1\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);

    PARSE("GET /a\x7f HTTP/1.1\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);

    PARSE("GET /?a\x01 HTTP/1.1\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);

    PARSE("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_OK);
    assert_string_equal(res.uri, "/caf\xc3\xa9");

    PARSE("GET x HTTP/1.1\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);
}


static void
test_headers(void **state)
{
    test_result_t  res;

    PARSE("GET / HTTP/1.1\r\n"
          "Host:   example.com   \r\n"
          "X-Empty:\r\n"
          "X-Tab:\tv1 \t v2\t\r\n"
          "Content-Length: 5\n"
          "x_under: y\r\n"
          "Obs-Text: \xe9t\xe9\r\n"
          "\r\n", &res);

    assert_int_equal(res.rc, SL_OK);
    assert_int_equal(res.nheaders, 6);
    assert_string_equal(res.name[0], "Host");
    assert_string_equal(res.value[0], "example.com");
    assert_string_equal(res.name[1], "X-Empty");
    assert_string_equal(res.value[1], "");
    assert_string_equal(res.value[2], "v1 \t v2");
    assert_string_equal(res.name[3], "Content-Length");
    assert_string_equal(res.value[3], "5");
    assert_string_equal(res.name[4], "x_under");
    assert_string_equal(res.value[5], "\xe9t\xe9");
}


static void
test_invalid_headers(void **state)
{
    test_result_t  res;

    /* obs-fold: a continuation line */
    PARSE("GET / HTTP/1.1\r\nX-A: a\r\n  folded\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_HEADER);

    PARSE("GET / HTTP/1.1\r\nX-A: a\r\n\tfolded\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_HEADER);

    /* a space before the colon */
    PARSE("GET / HTTP/1.1\r\nHost : a\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_HEADER);

    PARSE("GET / HTTP/1.1\r\nNoColon\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_HEADER);

    PARSE("GET / HTTP/1.1\r\n: novalue\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_HEADER);

    PARSE("GET / HTTP/1.1\r\nX(y): a\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_HEADER);

    PARSE("GET / HTTP/1.1\r\nX-A: a\x01z\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_HEADER);

    PARSE("GET / HTTP/1.1\r\nX-A: a\x00z\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_HEADER);

    PARSE("GET / HTTP/1.1\r\nX-A: a\rz\r\n\r\n", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_HEADER);

    PARSE("GET / HTTP/1.1\r\nX-A: a\r\n\rX", &res);
    assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_HEADER);

    /* not finished: the parser waits */
    PARSE("GET / HTTP/1.1\r\nX-A: a\r\n", &res);
    assert_int_equal(res.rc, SL_AGAIN);
}


static void
test_complex_uri(void **state)
{
    sl_uint_t       i;
    char            line[256];
    test_result_t   res;
    static const struct {
        const char  *in;
        const char  *out;       /* NULL: rejected */
        const char  *exten;
    } uris[] = {
        { "/a/./b/../c//d", "/a/c/d", "" },
        { "/a/b/..", "/a/", "" },
        { "/a/b/../", "/a/", "" },
        { "/a/..", "/", "" },
        { "/a/.", "/a/", "" },
        { "/.", "/", "" },
        { "//", "/", "" },
        { "///x.js", "/x.js", "js" },
        { "/%41%62c", "/Abc", "" },
        { "/a%2fb", "/a/b", "" },
        { "/a%20b.HTML", "/a b.HTML", "HTML" },
        { "/a/%2e%2e/b", "/b", "" },
        { "/a/%2E%2e%2Fb", "/b", "" },
        { "/x/.hidden", "/x/.hidden", "hidden" },
        { "/x/..y", "/x/..y", "y" },
        { "/x/...", "/x/...", "" },
        { "/dir.d/file", "/dir.d/file", "" },
        { "/f.tar.gz", "/f.tar.gz", "gz" },
        { "/..", NULL, NULL },
        { "/../x", NULL, NULL },
        { "/a/../../x", NULL, NULL },
        { "/%2e%2e/etc/passwd", NULL, NULL },
        { "/a/%2e%2e%2f%2e%2e%2fetc", NULL, NULL },
        { "/..%2fetc", NULL, NULL },
        { "/%00", NULL, NULL },
        { "/a%zz", NULL, NULL },
        { "/a%4", NULL, NULL },
        { "/a%", NULL, NULL },
        { "/a%4g", NULL, NULL }
    };

    for (i = 0; i < sl_nelems(uris); i++) {
        snprintf(line, sizeof(line), "GET %s?q=%%2e%%2e HTTP/1.1\r\n\r\n",
                 uris[i].in);
        test_parse(line, strlen(line), 0, &res);

        if (uris[i].out == NULL) {
            assert_int_equal(res.rc, SL_HTTP_PARSE_INVALID_REQUEST);
            continue;
        }

        assert_int_equal(res.rc, SL_OK);
        assert_string_equal(res.uri, uris[i].out);
        assert_string_equal(res.exten, uris[i].exten);
        assert_string_equal(res.args, "q=%2e%2e");
    }
}


static void
test_pipelined(void **state)
{
    size_t          n, off;
    test_result_t   res;
    static const char  text[] =
        "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
        "HEAD /two.css HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n"
        "POST /three HTTP/1.0\r\nContent-Length: 0\r\n\r\n"
        "GET /four";

    off = 0;

    n = test_parse(text + off, sizeof(text) - 1 - off, 0, &res);
    assert_int_equal(res.rc, SL_OK);
    assert_string_equal(res.uri, "/one");
    off += n;

    n = test_parse(text + off, sizeof(text) - 1 - off, 0, &res);
    assert_int_equal(res.rc, SL_OK);
    assert_int_equal(res.method, SL_HTTP_HEAD);
    assert_string_equal(res.uri, "/two.css");
    assert_int_equal(res.nheaders, 2);
    assert_string_equal(res.value[1], "close");
    off += n;

    n = test_parse(text + off, sizeof(text) - 1 - off, 0, &res);
    assert_int_equal(res.rc, SL_OK);
    assert_int_equal(res.method, SL_HTTP_POST);
    assert_int_equal(res.version, SL_HTTP_VERSION_10);
    off += n;

    n = test_parse(text + off, sizeof(text) - 1 - off, 0, &res);
    assert_int_equal(res.rc, SL_AGAIN);
    assert_int_equal(off + n, sizeof(text) - 1);
}


/* every split point and one byte at a time give the same result */
static void
test_byte_boundaries(void **state)
{
    size_t          step;
    test_result_t   whole, part;
    static const char  text[] =
        "\r\nPOST http://h.example/a/./b%2Fc/../d.json?x=%41 HTTP/1.1\r\n"
        "Host: h.example\r\n"
        "Content-Type:application/json \r\n"
        "X-Sp:  a  b  \n"
        "Empty:\r\n"
        "\r\n";

    PARSE(text, &whole);
    assert_int_equal(whole.rc, SL_OK);
    assert_string_equal(whole.uri, "/a/b/d.json");
    assert_string_equal(whole.exten, "json");
    assert_string_equal(whole.host, "h.example");
    assert_int_equal(whole.nheaders, 4);
    assert_string_equal(whole.value[2], "a  b");

    for (step = 1; step < sizeof(text); step++) {
        test_parse(text, sizeof(text) - 1, step, &part);

        assert_int_equal(part.rc, whole.rc);
        assert_int_equal(part.method, whole.method);
        assert_int_equal(part.version, whole.version);
        assert_string_equal(part.uri, whole.uri);
        assert_string_equal(part.args, whole.args);
        assert_string_equal(part.host, whole.host);
        assert_int_equal(part.nheaders, whole.nheaders);
        assert_string_equal(part.value[0], whole.value[0]);
        assert_string_equal(part.value[2], whole.value[2]);
        assert_string_equal(part.name[3], whole.name[3]);
        assert_int_equal(part.consumed, whole.consumed);
    }
}


/* what a request header buffer limit depends on: nothing is completed */
static void
test_long_lines(void **state)
{
    size_t          len;
    test_result_t   res;
    static char     text[100000];

    len = sizeof(text);

    memcpy(text, "GET /", 5);
    memset(text + 5, 'a', len - 5);

    test_parse(text, len, 0, &res);
    assert_int_equal(res.rc, SL_AGAIN);
    assert_int_equal(res.consumed, len);

    memcpy(text, "GET / HTTP/1.1\r\nX-Long: ", 24);
    test_parse(text, len, 4096, &res);
    assert_int_equal(res.rc, SL_AGAIN);
    assert_int_equal(res.consumed, len);
}


static sl_int_t
test_chunked(const char *text, size_t len, size_t step, char *out,
    size_t size, size_t *consumed)
{
    off_t               n;
    u_char             *data;
    size_t              got;
    sl_int_t            rc;
    sl_buf_t            b;
    sl_http_request_t   r;
    sl_http_chunked_t   ctx;

    memset(&r, 0, sizeof(r));
    memset(&ctx, 0, sizeof(ctx));
    memset(&b, 0, sizeof(b));

    data = malloc(len ? len : 1);
    assert_non_null(data);
    memcpy(data, text, len);

    b.pos = data;
    b.last = data + ((step == 0 || step > len) ? len : step);
    b.end = data + len;

    got = 0;

    for ( ;; ) {
        rc = sl_http_parse_chunked(&r, &b, &ctx);

        if (rc == SL_OK) {
            n = sl_min(ctx.size, b.last - b.pos);

            if (n == 0) {
                rc = SL_AGAIN;

            } else {
                assert_true(got + n < size);
                memcpy(out + got, b.pos, n);
                got += n;
                b.pos += n;
                ctx.size -= n;
                continue;
            }
        }

        if (rc == SL_AGAIN) {
            if (b.last == b.end) {
                break;
            }

            b.last = (step == 0 || (size_t) (b.end - b.last) < step)
                     ? b.end : b.last + step;
            continue;
        }

        break;
    }

    out[got] = '\0';
    *consumed = b.pos - data;
    free(data);

    return rc;
}


static void
test_chunked_bodies(void **state)
{
    char          out[256];
    size_t        step, consumed;
    sl_int_t      rc;
    static const char  body[] =
        "4\r\nWiki\r\n"
        "5;name=value\r\npedia\r\n"
        "E\r\n in\r\n\r\nchunks.\r\n"
        "0\r\n"
        "Trailer: yes\r\n"
        "\r\n"
        "GET /next";

    for (step = 0; step < sizeof(body); step++) {
        rc = test_chunked(body, sizeof(body) - 1, step, out, sizeof(out),
                          &consumed);
        assert_int_equal(rc, SL_DONE);
        assert_string_equal(out, "Wikipedia in\r\n\r\nchunks.");
        assert_int_equal(consumed, sizeof(body) - 1 - 9);
    }

    rc = test_chunked("0\r\n\r\n", 5, 0, out, sizeof(out), &consumed);
    assert_int_equal(rc, SL_DONE);
    assert_string_equal(out, "");

    rc = test_chunked("0\n\n", 3, 0, out, sizeof(out), &consumed);
    assert_int_equal(rc, SL_DONE);

    rc = test_chunked("zz\r\n", 4, 0, out, sizeof(out), &consumed);
    assert_int_equal(rc, SL_ERROR);

    rc = test_chunked("3\r\nabcX\r\n", 9, 0, out, sizeof(out), &consumed);
    assert_int_equal(rc, SL_ERROR);

    rc = test_chunked("ffffffffffffffffff\r\n", 20, 0, out, sizeof(out),
                      &consumed);
    assert_int_equal(rc, SL_ERROR);

    rc = test_chunked("5\r\nab", 5, 0, out, sizeof(out), &consumed);
    assert_int_equal(rc, SL_AGAIN);
    assert_string_equal(out, "ab");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_invalid_headers),
        cmocka_unit_test(test_complex_uri),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_byte_boundaries),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_chunked_bodies),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
