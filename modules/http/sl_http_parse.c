
/*
 * The HTTP/1.x parser: request line, header lines, the path's percent
 * decoding and normalisation, and the chunked transfer coding.  Each
 * parser is a byte-at-a-time state machine that keeps its state in the
 * request, so input may arrive split anywhere.  Nothing here allocates
 * or touches the event loop: the unit tests and the fuzzer link it alone.
 */

#include <sl_config.h>
#include <sl_core.h>
#include <sl_http.h>


static int sl_http_hex(u_char ch);


/* RFC 9110 tchar: the characters of methods and field names */
static const uint32_t  sl_http_tchar[] = {
    0x00000000, /* control characters */
                /* ?>=< ;:98 7654 3210  /.-, +*)( '&%$ #"!  */
    0x03ff6cfa, /* 0000 0011 1111 1111  0110 1100 1111 1010 */
                /* _^]\ [ZYX WVUT SRQP  ONML KJIH GFED CBA@ */
    0xc7fffffe, /* 1100 0111 1111 1111  1111 1111 1111 1110 */
                /*  ~}| {zyx wvut srqp  onml kjih gfed cba` */
    0x57ffffff, /* 0101 0111 1111 1111  1111 1111 1111 1111 */
    0x00000000, 0x00000000, 0x00000000, 0x00000000
};

#define sl_http_is_tchar(ch)                                                 \
    (sl_http_tchar[(ch) >> 5] & (1U << ((ch) & 0x1f)))

/* bytes allowed in a request target: visible ASCII and obs-text */
#define sl_http_is_uri_char(ch)     ((ch) > 0x20 && (ch) != 0x7f)

/* bytes allowed in a field value besides SP and HT */
#define sl_http_is_value_char(ch)   ((ch) > 0x20 && (ch) != 0x7f)


typedef struct {
    sl_str_t     name;
    sl_uint_t    method;
} sl_http_method_name_t;


static sl_http_method_name_t  sl_http_methods[] = {
    { sl_string("GET"),      SL_HTTP_GET },
    { sl_string("HEAD"),     SL_HTTP_HEAD },
    { sl_string("POST"),     SL_HTTP_POST },
    { sl_string("PUT"),      SL_HTTP_PUT },
    { sl_string("DELETE"),   SL_HTTP_DELETE },
    { sl_string("OPTIONS"),  SL_HTTP_OPTIONS },
    { sl_string("PATCH"),    SL_HTTP_PATCH },
    { sl_string("TRACE"),    SL_HTTP_TRACE },
    { sl_string("CONNECT"),  SL_HTTP_CONNECT },
    { sl_null_string, 0 }
};


sl_uint_t
sl_http_parse_method(u_char *name, size_t len)
{
    sl_http_method_name_t  *m;

    for (m = sl_http_methods; m->name.len; m++) {
        if (m->name.len == len && sl_memcmp(m->name.data, name, len) == 0) {
            return m->method;
        }
    }

    return SL_HTTP_UNKNOWN;
}


sl_int_t
sl_http_parse_request_line(sl_http_request_t *r, sl_buf_t *b)
{
    u_char  ch, *p;
    enum {
        sw_start = 0,
        sw_method,
        sw_spaces_before_uri,
        sw_schema,
        sw_schema_slash,
        sw_schema_slash_slash,
        sw_host,
        sw_after_slash_in_uri,
        sw_check_uri,
        sw_args,
        sw_http_H,
        sw_http_HT,
        sw_http_HTT,
        sw_http_HTTP,
        sw_http_slash,
        sw_first_major_digit,
        sw_major_digit,
        sw_first_minor_digit,
        sw_minor_digit,
        sw_spaces_after_digit,
        sw_almost_done
    } state;

    state = r->state;

    for (p = b->pos; p < b->last; p++) {
        ch = *p;

        switch (state) {

        case sw_start:
            /* RFC 9112 2.2: empty lines before a request are ignored */
            if (ch == CR || ch == LF) {
                break;
            }

            if ((ch < 'A' || ch > 'Z') && ch != '_' && ch != '-') {
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }

            r->request_start = p;
            state = sw_method;
            break;

        case sw_method:
            if (ch == ' ') {
                r->method_end = p;
                r->method = sl_http_parse_method(r->request_start,
                                                 p - r->request_start);
                state = sw_spaces_before_uri;
                break;
            }

            if ((ch < 'A' || ch > 'Z') && ch != '_' && ch != '-') {
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }

            break;

        case sw_spaces_before_uri:
            if (ch == '/') {
                r->uri_start = p;
                state = sw_after_slash_in_uri;
                break;
            }

            if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') {
                state = sw_schema;
                break;
            }

            if (ch == ' ') {
                break;
            }

            return SL_HTTP_PARSE_INVALID_REQUEST;

        case sw_schema:
            if (((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')
                || (ch >= '0' && ch <= '9')
                || ch == '+' || ch == '-' || ch == '.')
            {
                break;
            }

            if (ch == ':') {
                state = sw_schema_slash;
                break;
            }

            return SL_HTTP_PARSE_INVALID_REQUEST;

        case sw_schema_slash:
            if (ch != '/') {
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }

            state = sw_schema_slash_slash;
            break;

        case sw_schema_slash_slash:
            if (ch != '/') {
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }

            r->host_start = p + 1;
            state = sw_host;
            break;

        case sw_host:
            if (ch == '/') {
                r->host_end = p;
                r->uri_start = p;
                state = sw_after_slash_in_uri;
                break;
            }

            if (ch == ' ' || ch == '?' || ch == '#' || ch == '@'
                || !sl_http_is_uri_char(ch))
            {
                /* "GET http://host HTTP/1.1": we want a path */
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }

            break;

        case sw_after_slash_in_uri:
            /* "//" and "/." need the normaliser */
            if (ch == '/' || ch == '.') {
                r->complex_uri = 1;
                state = sw_check_uri;
                break;
            }

            /* fall through */

        case sw_check_uri:
            if (ch == '/') {
                state = sw_after_slash_in_uri;
                break;
            }

            if (ch == '?') {
                r->args_start = p + 1;
                state = sw_args;
                break;
            }

            if (ch == ' ') {
                r->uri_end = p;
                state = sw_http_H;
                break;
            }

            if (ch == '%') {
                r->complex_uri = 1;

            } else if (!sl_http_is_uri_char(ch)) {
                /* CR or LF here is HTTP/0.9, which we do not speak */
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }

            state = sw_check_uri;
            break;

        case sw_args:
            if (ch == ' ') {
                r->uri_end = p;
                state = sw_http_H;
                break;
            }

            if (!sl_http_is_uri_char(ch)) {
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }

            break;

        case sw_http_H:
            if (ch == 'H') {
                state = sw_http_HT;
                break;
            }

            if (ch == ' ') {
                break;
            }

            return SL_HTTP_PARSE_INVALID_REQUEST;

        case sw_http_HT:
            if (ch != 'T') {
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }

            state = sw_http_HTT;
            break;

        case sw_http_HTT:
            if (ch != 'T') {
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }

            state = sw_http_HTTP;
            break;

        case sw_http_HTTP:
            if (ch != 'P') {
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }

            state = sw_http_slash;
            break;

        case sw_http_slash:
            if (ch != '/') {
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }

            state = sw_first_major_digit;
            break;

        case sw_first_major_digit:
            if (ch < '1' || ch > '9') {
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }

            r->http_major = ch - '0';
            state = sw_major_digit;
            break;

        case sw_major_digit:
            if (ch == '.') {
                state = sw_first_minor_digit;
                break;
            }

            if (ch < '0' || ch > '9' || r->http_major > 99) {
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }

            r->http_major = r->http_major * 10 + (ch - '0');
            break;

        case sw_first_minor_digit:
            if (ch < '0' || ch > '9') {
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }

            r->http_minor = ch - '0';
            state = sw_minor_digit;
            break;

        case sw_minor_digit:
            if (ch == CR) {
                state = sw_almost_done;
                break;
            }

            if (ch == LF) {
                goto done;
            }

            if (ch == ' ') {
                state = sw_spaces_after_digit;
                break;
            }

            if (ch < '0' || ch > '9' || r->http_minor > 99) {
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }

            r->http_minor = r->http_minor * 10 + (ch - '0');
            break;

        case sw_spaces_after_digit:
            if (ch == ' ') {
                break;
            }

            if (ch == CR) {
                state = sw_almost_done;
                break;
            }

            if (ch == LF) {
                goto done;
            }

            return SL_HTTP_PARSE_INVALID_REQUEST;

        case sw_almost_done:
            if (ch == LF) {
                goto done;
            }

            return SL_HTTP_PARSE_INVALID_REQUEST;
        }
    }

    b->pos = p;
    r->state = state;

    return SL_AGAIN;

done:

    b->pos = p + 1;
    r->request_end = (p > r->request_start && p[-1] == CR) ? p - 1 : p;
    r->state = sw_start;

    /* trailing spaces after the version are not part of the line */
    while (r->request_end[-1] == ' ') {
        r->request_end--;
    }

    r->http_version = r->http_major * 1000 + r->http_minor;

    if (r->http_major > 1) {
        return SL_HTTP_PARSE_INVALID_VERSION;
    }

    return SL_OK;
}


sl_int_t
sl_http_parse_header_line(sl_http_request_t *r, sl_buf_t *b)
{
    u_char  ch, *p;
    enum {
        sw_start = 0,
        sw_name,
        sw_space_before_value,
        sw_value,
        sw_space_after_value,
        sw_almost_done,
        sw_header_almost_done
    } state;

    state = r->state;

    for (p = b->pos; p < b->last; p++) {
        ch = *p;

        switch (state) {

        case sw_start:
            if (ch == CR) {
                r->header_end = p;
                state = sw_header_almost_done;
                break;
            }

            if (ch == LF) {
                r->header_end = p;
                goto header_done;
            }

            /* a leading SP or HT is obs-fold: RFC 9112 5.2 says reject */
            if (!sl_http_is_tchar(ch)) {
                r->header_end = p;
                return SL_HTTP_PARSE_INVALID_HEADER;
            }

            r->header_name_start = p;
            state = sw_name;
            break;

        case sw_name:
            if (ch == ':') {
                r->header_name_end = p;
                state = sw_space_before_value;
                break;
            }

            /* including a space before the colon (RFC 9112 5.1) */
            if (!sl_http_is_tchar(ch)) {
                r->header_end = p;
                return SL_HTTP_PARSE_INVALID_HEADER;
            }

            break;

        case sw_space_before_value:
            if (ch == ' ' || ch == '\t') {
                break;
            }

            r->header_start = p;
            r->header_end = p;

            if (ch == CR) {
                state = sw_almost_done;
                break;
            }

            if (ch == LF) {
                goto done;
            }

            if (!sl_http_is_value_char(ch)) {
                return SL_HTTP_PARSE_INVALID_HEADER;
            }

            state = sw_value;
            break;

        case sw_value:
            if (ch == ' ' || ch == '\t') {
                r->header_end = p;
                state = sw_space_after_value;
                break;
            }

            if (ch == CR) {
                r->header_end = p;
                state = sw_almost_done;
                break;
            }

            if (ch == LF) {
                r->header_end = p;
                goto done;
            }

            if (!sl_http_is_value_char(ch)) {
                r->header_end = p;
                return SL_HTTP_PARSE_INVALID_HEADER;
            }

            break;

        case sw_space_after_value:
            if (ch == ' ' || ch == '\t') {
                break;
            }

            if (ch == CR) {
                state = sw_almost_done;
                break;
            }

            if (ch == LF) {
                goto done;
            }

            if (!sl_http_is_value_char(ch)) {
                return SL_HTTP_PARSE_INVALID_HEADER;
            }

            state = sw_value;
            break;

        case sw_almost_done:
            if (ch == LF) {
                goto done;
            }

            return SL_HTTP_PARSE_INVALID_HEADER;

        case sw_header_almost_done:
            if (ch == LF) {
                goto header_done;
            }

            return SL_HTTP_PARSE_INVALID_HEADER;
        }
    }

    b->pos = p;
    r->state = state;

    return SL_AGAIN;

done:

    b->pos = p + 1;
    r->state = sw_start;

    return SL_OK;

header_done:

    b->pos = p + 1;
    r->state = sw_start;

    return SL_HTTP_PARSE_HEADER_DONE;
}


static int
sl_http_hex(u_char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }

    ch |= 0x20;

    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }

    return -1;
}


/*
 * Two passes: percent-decoding first, so that an encoded "%2e%2e%2f"
 * is a "../" like any other; then the segments, where "." vanishes,
 * ".." removes the previous one and may never climb above the root, and
 * empty segments ("//") collapse.
 */
sl_int_t
sl_http_parse_complex_uri(sl_http_request_t *r, u_char *dst)
{
    int      hi, lo;
    u_char  *p, *last, *d, *o, *s, *e;
    size_t   n;
    sl_uint_t  slash;

    p = r->uri_start;
    last = r->args_start ? r->args_start - 1 : r->uri_end;
    d = dst;

    while (p < last) {
        if (*p != '%') {
            *d++ = *p++;
            continue;
        }

        if (last - p < 3) {
            return SL_HTTP_PARSE_INVALID_REQUEST;
        }

        hi = sl_http_hex(p[1]);
        lo = sl_http_hex(p[2]);

        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            return SL_HTTP_PARSE_INVALID_REQUEST;
        }

        *d++ = (u_char) (hi << 4 | lo);
        p += 3;
    }

    if (d == dst || dst[0] != '/') {
        return SL_HTTP_PARSE_INVALID_REQUEST;
    }

    /* o writes "/segment" runs behind s, so the copy stays in place */
    o = dst;
    s = dst;
    e = d;
    slash = 0;

    while (s < e) {

        while (s < e && *s == '/') {
            s++;
        }

        p = s;

        while (p < e && *p != '/') {
            p++;
        }

        n = p - s;
        slash = 1;

        if (n == 0 || (n == 1 && s[0] == '.')) {
            /* the directory itself */

        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (o == dst) {
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }

            do {
                o--;
            } while (*o != '/');

        } else {
            *o++ = '/';
            sl_memmove(o, s, n);
            o += n;
            slash = 0;
        }

        s = p;
    }

    if (slash || o == dst) {
        *o++ = '/';
    }

    r->uri.data = dst;
    r->uri.len = o - dst;

    sl_http_set_exten(r);

    return SL_OK;
}


void
sl_http_set_exten(sl_http_request_t *r)
{
    u_char  *p, *last;

    r->exten.len = 0;
    r->exten.data = NULL;

    last = r->uri.data + r->uri.len;

    for (p = last - 1; p >= r->uri.data; p--) {
        if (*p == '/') {
            return;
        }

        if (*p == '.') {
            r->exten.data = p + 1;
            r->exten.len = last - (p + 1);
            return;
        }
    }
}


sl_int_t
sl_http_parse_chunked(sl_http_request_t *r, sl_buf_t *b,
    sl_http_chunked_t *ctx)
{
    int     d;
    u_char  ch, *p;
    enum {
        sw_chunk_start = 0,
        sw_chunk_size,
        sw_chunk_extension,
        sw_chunk_size_almost_done,
        sw_chunk_data,
        sw_after_data,
        sw_after_data_almost_done,
        sw_trailer,
        sw_trailer_almost_done,
        sw_trailer_header,
        sw_trailer_header_almost_done
    } state;

    state = ctx->state;

    if (state == sw_chunk_data) {
        if (ctx->size > 0) {
            return SL_OK;
        }

        state = sw_after_data;
    }

    for (p = b->pos; p < b->last; p++) {
        ch = *p;

        switch (state) {

        case sw_chunk_start:
            d = sl_http_hex(ch);
            if (d < 0) {
                return SL_ERROR;
            }

            ctx->size = d;
            state = sw_chunk_size;
            break;

        case sw_chunk_size:
            d = sl_http_hex(ch);

            if (d >= 0) {
                if (ctx->size > (SL_MAX_OFF_T_VALUE - 15) / 16) {
                    return SL_ERROR;
                }

                ctx->size = ctx->size * 16 + d;
                break;
            }

            if (ch == CR) {
                state = sw_chunk_size_almost_done;
                break;
            }

            if (ch == LF) {
                goto size_done;
            }

            if (ch == ';' || ch == ' ' || ch == '\t') {
                state = sw_chunk_extension;
                break;
            }

            return SL_ERROR;

        case sw_chunk_extension:
            if (ch == CR) {
                state = sw_chunk_size_almost_done;
                break;
            }

            if (ch == LF) {
                goto size_done;
            }

            if (ch != '\t' && !sl_http_is_value_char(ch) && ch != ' ') {
                return SL_ERROR;
            }

            break;

        case sw_chunk_size_almost_done:
            if (ch == LF) {
                goto size_done;
            }

            return SL_ERROR;

        case sw_chunk_data:
            /* not reached: data is consumed by the caller */
            return SL_ERROR;

        case sw_after_data:
            if (ch == CR) {
                state = sw_after_data_almost_done;
                break;
            }

            if (ch == LF) {
                state = sw_chunk_start;
                break;
            }

            return SL_ERROR;

        case sw_after_data_almost_done:
            if (ch == LF) {
                state = sw_chunk_start;
                break;
            }

            return SL_ERROR;

        case sw_trailer:
            if (ch == CR) {
                state = sw_trailer_almost_done;
                break;
            }

            if (ch == LF) {
                goto last_done;
            }

            if (!sl_http_is_tchar(ch)) {
                return SL_ERROR;
            }

            state = sw_trailer_header;
            break;

        case sw_trailer_almost_done:
            if (ch == LF) {
                goto last_done;
            }

            return SL_ERROR;

        case sw_trailer_header:
            if (ch == CR) {
                state = sw_trailer_header_almost_done;
                break;
            }

            if (ch == LF) {
                state = sw_trailer;
                break;
            }

            if (ch != '\t' && ch != ' ' && !sl_http_is_value_char(ch)) {
                return SL_ERROR;
            }

            break;

        case sw_trailer_header_almost_done:
            if (ch == LF) {
                state = sw_trailer;
                break;
            }

            return SL_ERROR;
        }
    }

    b->pos = p;
    ctx->state = state;

    return SL_AGAIN;

size_done:

    b->pos = p + 1;

    if (ctx->size == 0) {
        ctx->state = sw_trailer;
        return sl_http_parse_chunked(r, b, ctx);
    }

    ctx->state = sw_chunk_data;

    return SL_OK;

last_done:

    b->pos = p + 1;
    ctx->state = sw_chunk_start;
    ctx->size = 0;

    return SL_DONE;
}
