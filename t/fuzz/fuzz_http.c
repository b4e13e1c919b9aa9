
/*
 * libFuzzer target for the HTTP parser: the request line, the header
 * lines, the path normaliser and the chunked body parser, fed in pieces
 * whose size the first input byte chooses, as a socket would deliver
 * them.  Every position the parser reports must lie inside the input.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_http.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void fuzz_in(u_char *p, u_char *start, u_char *end);
static void fuzz_check_path(sl_str_t *path);


static void
fuzz_in(u_char *p, u_char *start, u_char *end)
{
    if (p && (p < start || p > end)) {
        abort();
    }
}


/* no NUL, no empty, "." or ".." segment: nothing climbs out of root */
static void
fuzz_check_path(sl_str_t *path)
{
    u_char  *p, *s, *last;

    if (memchr(path->data, '\0', path->len)) {
        abort();
    }

    last = path->data + path->len;
    p = path->data + 1;

    while (p < last) {
        s = p;

        while (p < last && *p != '/') {
            p++;
        }

        if (p == s && p != last) {
            abort();
        }

        if ((p - s == 1 && s[0] == '.')
            || (p - s == 2 && s[0] == '.' && s[1] == '.'))
        {
            abort();
        }

        p++;
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    off_t               n;
    size_t              step;
    u_char             *buf, *dst;
    sl_int_t            rc;
    sl_buf_t            b;
    sl_uint_t           in_headers;
    sl_http_request_t   r;
    sl_http_chunked_t   ctx;

    if (size == 0) {
        return 0;
    }

    step = data[0] ? data[0] : size;
    data++;
    size--;

    buf = malloc(size + 1);
    if (buf == NULL) {
        return 0;
    }

    memcpy(buf, data, size);

    memset(&r, 0, sizeof(r));
    memset(&b, 0, sizeof(b));

    b.start = buf;
    b.pos = buf;
    b.last = buf + sl_min(step, size);
    b.end = buf + size;

    in_headers = 0;

    for ( ;; ) {
        rc = in_headers ? sl_http_parse_header_line(&r, &b)
                        : sl_http_parse_request_line(&r, &b);

        fuzz_in(b.pos, buf, b.last);

        if (rc == SL_AGAIN) {
            if (b.last == b.end) {
                goto done;
            }

            b.last += sl_min(step, (size_t) (b.end - b.last));
            continue;
        }

        if (rc == SL_HTTP_PARSE_HEADER_DONE) {
            break;
        }

        if (rc != SL_OK) {
            goto done;
        }

        if (in_headers) {
            fuzz_in(r.header_name_start, buf, b.pos);
            fuzz_in(r.header_name_end, buf, b.pos);
            fuzz_in(r.header_start, buf, b.pos);
            fuzz_in(r.header_end, buf, b.pos);
            continue;
        }

        in_headers = 1;

        fuzz_in(r.request_start, buf, b.pos);
        fuzz_in(r.request_end, buf, b.pos);
        fuzz_in(r.uri_start, buf, b.pos);
        fuzz_in(r.uri_end, buf, b.pos);
        fuzz_in(r.args_start, buf, b.pos);

        if (r.uri_end < r.uri_start) {
            abort();
        }

        dst = malloc(r.uri_end - r.uri_start + 1);
        if (dst == NULL) {
            goto done;
        }

        if (sl_http_parse_complex_uri(&r, dst) == SL_OK) {
            if (r.uri.len == 0 || r.uri.data[0] != '/'
                || r.uri.len > (size_t) (r.uri_end - r.uri_start) + 1)
            {
                abort();
            }

            fuzz_check_path(&r.uri);
        }

        free(dst);
    }

    /* whatever follows the header is a chunked body */

    memset(&ctx, 0, sizeof(ctx));

    for ( ;; ) {
        rc = sl_http_parse_chunked(&r, &b, &ctx);

        fuzz_in(b.pos, buf, b.last);

        if (rc == SL_OK) {
            n = sl_min(ctx.size, b.last - b.pos);

            if (n > 0) {
                b.pos += n;
                ctx.size -= n;
                continue;
            }

            rc = SL_AGAIN;
        }

        if (rc == SL_AGAIN && b.last < b.end) {
            b.last += sl_min(step, (size_t) (b.end - b.last));
            continue;
        }

        break;
    }

done:

    free(buf);

    return 0;
}
