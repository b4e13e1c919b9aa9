
/*
 * The access log, in nginx's manner: `log_format NAME [escape=...]
 * 'text with $variables' ...;` compiles a format once, at configuration
 * time (an unknown variable is an error there); `access_log PATH
 * [FORMAT [buffer=SIZE] [flush=TIME]];` or `access_log off;` picks the
 * logs of the http level or of a location.  The files are the cycle's
 * open files: opened by the master before the fork, reopened on
 * SIGUSR1.  A line, or a whole buffer, is one write() to an O_APPEND
 * descriptor, so the workers' lines never interleave.
 */

#include <sl_config.h>
#include <sl_core.h>
#include <sl_http.h>


#define SL_HTTP_LOG_ESCAPE_DEFAULT  0
#define SL_HTTP_LOG_ESCAPE_JSON     1
#define SL_HTTP_LOG_ESCAPE_NONE     2

#define SL_HTTP_LOG_FLUSH_DEFAULT   1000    /* ms, with a buffer */

/* room for a printed number and the NUL that sl_slprintf() adds */
#define SL_HTTP_LOG_NUM_LEN         sizeof("-9223372036854775808.999")


/* sets v to the variable's value; v->data == NULL: it has none */
typedef void (*sl_http_log_var_pt)(sl_http_request_t *r, sl_str_t *v,
    uintptr_t data);


typedef struct {
    sl_str_t               name;
    sl_http_log_var_pt     get;
    uintptr_t              data;
} sl_http_log_var_t;


/* a literal (get == NULL) or a variable */
typedef struct {
    sl_str_t               text;
    sl_http_log_var_pt     get;
    uintptr_t              data;
} sl_http_log_op_t;


typedef struct {
    sl_str_t               name;
    sl_array_t            *ops;        /* of sl_http_log_op_t */
    sl_uint_t              escape;
} sl_http_log_fmt_t;


/* one per buffered file, in each worker's copy of the configuration */
typedef struct {
    sl_open_file_t        *file;
    u_char                *start;
    u_char                *pos;
    u_char                *end;
    sl_msec_t              flush;
    sl_event_t             event;      /* the flush timer */
} sl_http_log_buf_t;


typedef struct {
    sl_open_file_t        *file;
    sl_http_log_fmt_t     *format;
    sl_http_log_buf_t     *buf;        /* NULL: a write per line */
} sl_http_log_t;


typedef struct {
    sl_array_t             formats;    /* of sl_http_log_fmt_t */
    sl_array_t             buffers;    /* of sl_http_log_buf_t * */
} sl_http_log_main_conf_t;


typedef struct {
    sl_array_t            *logs;       /* of sl_http_log_t; NULL: unset */
    sl_flag_t              off;
} sl_http_log_loc_conf_t;


/* compiles and renders formats; not static: t/unit/test_http_log.c */
sl_array_t *sl_http_log_compile(sl_pool_t *pool, sl_str_t *text,
    sl_str_t *err);
u_char *sl_http_log_render(sl_http_request_t *r, sl_array_t *ops,
    sl_uint_t escape, size_t *len);

static sl_http_log_var_t *sl_http_log_find_var(sl_pool_t *pool,
    sl_str_t *name);
static size_t sl_http_log_escaped_len(sl_str_t *v, sl_uint_t escape);
static u_char *sl_http_log_escape(u_char *p, sl_str_t *v,
    sl_uint_t escape);

static sl_int_t sl_http_log_handler(sl_http_request_t *r);
static void sl_http_log_write(sl_http_request_t *r, sl_http_log_t *log,
    u_char *line, size_t len);
static void sl_http_log_flush(sl_http_log_buf_t *buf, sl_log_t *log);
static void sl_http_log_flush_handler(sl_event_t *ev);
static void sl_http_log_write_fd(sl_open_file_t *file, u_char *data,
    size_t len, sl_log_t *log);

static void sl_http_log_str(sl_http_request_t *r, sl_str_t *v,
    uintptr_t data);
static void sl_http_log_none(sl_http_request_t *r, sl_str_t *v,
    uintptr_t data);
static void sl_http_log_remote_addr(sl_http_request_t *r, sl_str_t *v,
    uintptr_t data);
static void sl_http_log_remote_port(sl_http_request_t *r, sl_str_t *v,
    uintptr_t data);
static void sl_http_log_time_local(sl_http_request_t *r, sl_str_t *v,
    uintptr_t data);
static void sl_http_log_time_iso8601(sl_http_request_t *r, sl_str_t *v,
    uintptr_t data);
static void sl_http_log_msec(sl_http_request_t *r, sl_str_t *v,
    uintptr_t data);
static void sl_http_log_status(sl_http_request_t *r, sl_str_t *v,
    uintptr_t data);
static void sl_http_log_number(sl_http_request_t *r, sl_str_t *v,
    uintptr_t data);
static void sl_http_log_request_time(sl_http_request_t *r, sl_str_t *v,
    uintptr_t data);
static void sl_http_log_host(sl_http_request_t *r, sl_str_t *v,
    uintptr_t data);
static void sl_http_log_protocol(sl_http_request_t *r, sl_str_t *v,
    uintptr_t data);
static void sl_http_log_header(sl_http_request_t *r, sl_str_t *v,
    uintptr_t data);

static void *sl_http_log_create_main_conf(sl_conf_t *cf);
static void *sl_http_log_create_loc_conf(sl_conf_t *cf);
static char *sl_http_log_merge_loc_conf(sl_conf_t *cf, void *parent,
    void *child);
static sl_int_t sl_http_log_postconfiguration(sl_conf_t *cf);
static char *sl_http_log_set_format(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static char *sl_http_log_set_log(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static sl_int_t sl_http_log_add_format(sl_conf_t *cf,
    sl_http_log_main_conf_t *lmcf, sl_str_t *name, sl_uint_t escape,
    sl_str_t *text);
static sl_int_t sl_http_log_init_process(sl_cycle_t *cycle);
static void sl_http_log_exit_process(sl_cycle_t *cycle);


/* the numbers the variables print, as sl_http_log_number's data */
enum {
    SL_HTTP_LOG_BODY_BYTES_SENT = 0,
    SL_HTTP_LOG_BYTES_SENT,
    SL_HTTP_LOG_REQUEST_LENGTH,
    SL_HTTP_LOG_CONNECTION,
    SL_HTTP_LOG_CONNECTION_REQUESTS,
    SL_HTTP_LOG_PID
};


#define sl_http_log_field(name)  offsetof(sl_http_request_t, name)

static sl_http_log_var_t  sl_http_log_vars[] = {

    { sl_string("remote_addr"), sl_http_log_remote_addr, 0 },
    { sl_string("remote_port"), sl_http_log_remote_port, 0 },
    { sl_string("remote_user"), sl_http_log_none, 0 },
    { sl_string("time_local"), sl_http_log_time_local, 0 },
    { sl_string("time_iso8601"), sl_http_log_time_iso8601, 0 },
    { sl_string("msec"), sl_http_log_msec, 0 },
    { sl_string("request"), sl_http_log_str,
      sl_http_log_field(request_line) },
    { sl_string("request_method"), sl_http_log_str,
      sl_http_log_field(method_name) },
    { sl_string("request_uri"), sl_http_log_str,
      sl_http_log_field(unparsed_uri) },
    { sl_string("uri"), sl_http_log_str, sl_http_log_field(uri) },
    { sl_string("document_uri"), sl_http_log_str, sl_http_log_field(uri) },
    { sl_string("args"), sl_http_log_str, sl_http_log_field(args) },
    { sl_string("query_string"), sl_http_log_str, sl_http_log_field(args) },
    { sl_string("server_protocol"), sl_http_log_protocol, 0 },
    { sl_string("status"), sl_http_log_status, 0 },
    { sl_string("body_bytes_sent"), sl_http_log_number,
      SL_HTTP_LOG_BODY_BYTES_SENT },
    { sl_string("bytes_sent"), sl_http_log_number, SL_HTTP_LOG_BYTES_SENT },
    { sl_string("request_length"), sl_http_log_number,
      SL_HTTP_LOG_REQUEST_LENGTH },
    { sl_string("request_time"), sl_http_log_request_time, 0 },
    { sl_string("host"), sl_http_log_host, 0 },
    { sl_string("connection"), sl_http_log_number, SL_HTTP_LOG_CONNECTION },
    { sl_string("connection_requests"), sl_http_log_number,
      SL_HTTP_LOG_CONNECTION_REQUESTS },
    { sl_string("pid"), sl_http_log_number, SL_HTTP_LOG_PID },
    { sl_null_string, NULL, 0 }
};


static sl_str_t  sl_http_log_combined_name = sl_string("combined");

static sl_str_t  sl_http_log_combined = sl_string(
    "$remote_addr - $remote_user [$time_local] "
    "\"$request\" $status $body_bytes_sent "
    "\"$http_referer\" \"$http_user_agent\"");


static sl_command_t  sl_http_log_commands[] = {

    { sl_string("log_format"),
      SL_HTTP_MAIN_CONF|SL_CONF_2MORE,
      sl_http_log_set_format,
      SL_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { sl_string("access_log"),
      SL_HTTP_MAIN_CONF|SL_HTTP_LOC_CONF|SL_CONF_1MORE,
      sl_http_log_set_log,
      SL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      sl_null_command
};


static sl_http_module_t  sl_http_log_module_ctx = {
    NULL,                                  /* preconfiguration */
    sl_http_log_postconfiguration,         /* postconfiguration */

    sl_http_log_create_main_conf,          /* create main configuration */
    NULL,                                  /* init main configuration */

    sl_http_log_create_loc_conf,           /* create location configuration */
    sl_http_log_merge_loc_conf             /* merge location configuration */
};


sl_module_t  sl_http_log_module = {
    SL_MODULE_V1,
    &sl_http_log_module_ctx,               /* module context */
    sl_http_log_commands,                  /* module directives */
    SL_HTTP_MODULE,                        /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    sl_http_log_init_process,              /* init process */
    sl_http_log_exit_process,              /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


/* ---------------------------------------------------------- formats */


/*
 * Returns the ops (of sl_http_log_op_t) of a format's text: "$name" or
 * "${name}" with names of letters, digits and '_' (in any case, as
 * nginx's), the rest copied.  err holds the room for a message; on an
 * error NULL is returned with the message in err, or with err->len 0
 * when out of memory.
 */
sl_array_t *
sl_http_log_compile(sl_pool_t *pool, sl_str_t *text, sl_str_t *err)
{
    u_char             *p, *last, *start, c;
    sl_str_t            name;
    sl_uint_t           bracket;
    sl_array_t         *ops;
    sl_http_log_op_t   *op;
    sl_http_log_var_t  *var;

    ops = sl_array_create(pool, 16, sizeof(sl_http_log_op_t));
    if (ops == NULL) {
        err->len = 0;
        return NULL;
    }

    p = text->data;
    last = p + text->len;

    while (p < last) {

        if (*p != '$') {
            start = p;

            while (p < last && *p != '$') {
                p++;
            }

            op = sl_array_push(ops);
            if (op == NULL) {
                err->len = 0;
                return NULL;
            }

            op->text.data = start;
            op->text.len = p - start;
            op->get = NULL;
            op->data = 0;

            continue;
        }

        p++;

        bracket = (p < last && *p == '{');

        if (bracket) {
            p++;
        }

        start = p;

        while (p < last) {
            c = *p;

            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9') || c == '_')
            {
                p++;
                continue;
            }

            break;
        }

        name.data = start;
        name.len = p - start;

        if (bracket) {
            if (p == last || *p != '}') {
                err->len = sl_slprintf(err->data, err->data + err->len,
                                       "the closing bracket in \"%.*s\" "
                                       "variable is missing",
                                       SL_STR_ARG(&name))
                           - err->data;
                return NULL;
            }

            p++;
        }

        if (name.len == 0) {
            err->len = sl_slprintf(err->data, err->data + err->len,
                                   "invalid variable name in \"%.*s\"",
                                   SL_STR_ARG(text))
                       - err->data;
            return NULL;
        }

        var = sl_http_log_find_var(pool, &name);

        if (var == NULL) {
            err->len = sl_slprintf(err->data, err->data + err->len,
                                   "unknown \"%.*s\" variable",
                                   SL_STR_ARG(&name))
                       - err->data;
            return NULL;
        }

        op = sl_array_push(ops);
        if (op == NULL) {
            err->len = 0;
            return NULL;
        }

        op->text = name;
        op->get = var->get;
        op->data = var->data;
    }

    return ops;
}


/*
 * A variable of the table, or $http_NAME for any request header (the
 * name in lower case, '_' for '-'); NULL if unknown or out of memory.
 */
static sl_http_log_var_t *
sl_http_log_find_var(sl_pool_t *pool, sl_str_t *name)
{
    u_char             *p;
    size_t              i, len;
    sl_http_log_var_t  *v, *var;

    for (v = sl_http_log_vars; v->name.len; v++) {
        if (v->name.len == name->len
            && sl_strncasecmp(v->name.data, name->data, name->len) == 0)
        {
            return v;
        }
    }

    if (name->len <= sizeof("http_") - 1
        || sl_strncasecmp(name->data, (u_char *) "http_",
                          sizeof("http_") - 1)
           != 0)
    {
        return NULL;
    }

    len = name->len - (sizeof("http_") - 1);

    var = sl_palloc(pool, sizeof(sl_http_log_var_t) + sizeof(sl_str_t));
    p = sl_pnalloc(pool, len);
    if (var == NULL || p == NULL) {
        return NULL;
    }

    /* the header's name as a client sends it, but for the case */
    for (i = 0; i < len; i++) {
        p[i] = name->data[sizeof("http_") - 1 + i];
        p[i] = (p[i] == '_') ? '-' : sl_tolower(p[i]);
    }

    var->name = *name;
    var->get = sl_http_log_header;
    var->data = (uintptr_t) (var + 1);

    ((sl_str_t *) (var + 1))->len = len;
    ((sl_str_t *) (var + 1))->data = p;

    return var;
}


/*
 * The line with its newline, escaped as the format says, in r->pool;
 * NULL when out of memory.
 */
u_char *
sl_http_log_render(sl_http_request_t *r, sl_array_t *ops, sl_uint_t escape,
    size_t *len)
{
    u_char            *line, *p;
    size_t             size;
    sl_str_t          *values;
    sl_uint_t          i;
    sl_http_log_op_t  *op;

    op = ops->elts;

    values = sl_palloc(r->pool, sizeof(sl_str_t) * (ops->nelts + 1));
    if (values == NULL) {
        return NULL;
    }

    size = 1;

    for (i = 0; i < ops->nelts; i++) {

        if (op[i].get == NULL) {
            values[i] = op[i].text;
            size += op[i].text.len;
            continue;
        }

        values[i].len = 0;
        values[i].data = NULL;

        op[i].get(r, &values[i], op[i].data);

        size += sl_http_log_escaped_len(&values[i], escape);
    }

    line = sl_pnalloc(r->pool, size);
    if (line == NULL) {
        return NULL;
    }

    p = line;

    for (i = 0; i < ops->nelts; i++) {
        if (op[i].get == NULL) {
            p = sl_cpymem(p, values[i].data, values[i].len);

        } else {
            p = sl_http_log_escape(p, &values[i], escape);
        }
    }

    *p++ = '\n';

    *len = p - line;

    return line;
}


/*
 * nginx's escapes: by default '"', '\' and bytes outside 0x20-0x7e
 * become \xHH, and a missing value is "-"; json escapes as JSON strings
 * do, and a missing value is empty; none copies.
 */
static size_t
sl_http_log_escaped_len(sl_str_t *v, sl_uint_t escape)
{
    u_char  *p, *last;
    size_t   len;

    if (v->data == NULL) {
        return (escape == SL_HTTP_LOG_ESCAPE_JSON) ? 0 : 1;
    }

    len = v->len;

    if (escape == SL_HTTP_LOG_ESCAPE_NONE) {
        return len;
    }

    last = v->data + v->len;

    for (p = v->data; p < last; p++) {

        if (escape == SL_HTTP_LOG_ESCAPE_JSON) {
            if (*p == '"' || *p == '\\' || *p == '\n' || *p == '\r'
                || *p == '\t' || *p == '\b' || *p == '\f')
            {
                len++;

            } else if (*p < 0x20) {
                len += sizeof("\\u0000") - 2;
            }

            continue;
        }

        if (*p == '"' || *p == '\\' || *p < 0x20 || *p > 0x7e) {
            len += sizeof("\\x00") - 2;
        }
    }

    return len;
}


static u_char *
sl_http_log_escape(u_char *p, sl_str_t *v, sl_uint_t escape)
{
    u_char        *s, *last, c;
    static u_char  hex[] = "0123456789ABCDEF";

    if (v->data == NULL) {
        if (escape != SL_HTTP_LOG_ESCAPE_JSON) {
            *p++ = '-';
        }

        return p;
    }

    if (escape == SL_HTTP_LOG_ESCAPE_NONE) {
        return sl_cpymem(p, v->data, v->len);
    }

    last = v->data + v->len;

    for (s = v->data; s < last; s++) {
        c = *s;

        if (escape == SL_HTTP_LOG_ESCAPE_JSON) {
            switch (c) {
            case '"':  *p++ = '\\'; *p++ = '"'; continue;
            case '\\': *p++ = '\\'; *p++ = '\\'; continue;
            case '\n': *p++ = '\\'; *p++ = 'n'; continue;
            case '\r': *p++ = '\\'; *p++ = 'r'; continue;
            case '\t': *p++ = '\\'; *p++ = 't'; continue;
            case '\b': *p++ = '\\'; *p++ = 'b'; continue;
            case '\f': *p++ = '\\'; *p++ = 'f'; continue;
            default:
                break;
            }

            if (c < 0x20) {
                p = sl_cpymem(p, "\\u00", sizeof("\\u00") - 1);
                *p++ = hex[c >> 4];
                *p++ = hex[c & 0xf];
                continue;
            }

            *p++ = c;
            continue;
        }

        if (c == '"' || c == '\\' || c < 0x20 || c > 0x7e) {
            *p++ = '\\';
            *p++ = 'x';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xf];
            continue;
        }

        *p++ = c;
    }

    return p;
}


/* -------------------------------------------------------- variables */


/* an sl_str_t of the request at offset data */
static void
sl_http_log_str(sl_http_request_t *r, sl_str_t *v, uintptr_t data)
{
    *v = *(sl_str_t *) ((u_char *) r + data);
}


static void
sl_http_log_none(sl_http_request_t *r, sl_str_t *v, uintptr_t data)
{
    v->len = 0;
    v->data = NULL;
}


static void
sl_http_log_remote_addr(sl_http_request_t *r, sl_str_t *v, uintptr_t data)
{
    *v = r->connection->addr_text;
}


static void
sl_http_log_remote_port(sl_http_request_t *r, sl_str_t *v, uintptr_t data)
{
    in_port_t         port;
    struct sockaddr  *sa;

    sa = r->connection->sockaddr;

    if (sa == NULL) {
        return;
    }

    switch (sa->sa_family) {

    case AF_INET:
        port = ntohs(((struct sockaddr_in *) sa)->sin_port);
        break;

    case AF_INET6:
        port = ntohs(((struct sockaddr_in6 *) sa)->sin6_port);
        break;

    default:
        return;
    }

    v->data = sl_pnalloc(r->pool, sizeof("65535"));
    if (v->data == NULL) {
        return;
    }

    v->len = sl_slprintf(v->data, v->data + sizeof("65535"), "%u",
                         (unsigned) port)
             - v->data;
}


static void
sl_http_log_time_local(sl_http_request_t *r, sl_str_t *v, uintptr_t data)
{
    *v = sl_cached_http_log_time;
}


/* 2026-11-25T09:06:24+00:00, local time, rebuilt once a second */
static void
sl_http_log_time_iso8601(sl_http_request_t *r, sl_str_t *v, uintptr_t data)
{
    long           off;
    time_t         sec;
    struct tm      tm;
    static time_t  cached = (time_t) -1;
    static u_char  buf[sizeof("1970-09-28T12:00:00+06:00")];

    sec = (time_t) (sl_realtime_msec / 1000);

    if (sec != cached) {
        (void) localtime_r(&sec, &tm);

        off = tm.tm_gmtoff / 60;

        (void) sl_slprintf(buf, buf + sizeof(buf),
                           "%4d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
                           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                           tm.tm_hour, tm.tm_min, tm.tm_sec,
                           off < 0 ? '-' : '+', sl_abs(off) / 60,
                           sl_abs(off) % 60);
        cached = sec;
    }

    v->data = buf;
    v->len = sizeof(buf) - 1;
}


/* seconds since the epoch with milliseconds: 1764061584.123 */
static void
sl_http_log_msec(sl_http_request_t *r, sl_str_t *v, uintptr_t data)
{
    int64_t  ms;

    ms = sl_realtime_msec;

    v->data = sl_pnalloc(r->pool, SL_HTTP_LOG_NUM_LEN);
    if (v->data == NULL) {
        return;
    }

    v->len = sl_slprintf(v->data, v->data + SL_HTTP_LOG_NUM_LEN, "%lld.%03d",
                         (long long) (ms / 1000), (int) (ms % 1000))
             - v->data;
}


/* "000" when the request ended before any status was chosen */
static void
sl_http_log_status(sl_http_request_t *r, sl_str_t *v, uintptr_t data)
{
    v->data = sl_pnalloc(r->pool, SL_HTTP_LOG_NUM_LEN);
    if (v->data == NULL) {
        return;
    }

    v->len = sl_slprintf(v->data, v->data + SL_HTTP_LOG_NUM_LEN, "%03lu",
                         (unsigned long) r->headers_out.status)
             - v->data;
}


static void
sl_http_log_number(sl_http_request_t *r, sl_str_t *v, uintptr_t data)
{
    off_t             n, sent;
    sl_connection_t  *c;

    c = r->connection;
    sent = c->sent - r->sent_start;

    switch (data) {

    case SL_HTTP_LOG_BODY_BYTES_SENT:
        n = sent - (off_t) r->header_size;
        n = sl_max(n, 0);
        break;

    case SL_HTTP_LOG_BYTES_SENT:
        n = sent;
        break;

    case SL_HTTP_LOG_REQUEST_LENGTH:
        n = r->request_length;
        break;

    case SL_HTTP_LOG_CONNECTION:
        n = (off_t) c->number;
        break;

    case SL_HTTP_LOG_CONNECTION_REQUESTS:
        n = (off_t) c->requests;
        break;

    default: /* SL_HTTP_LOG_PID */
        n = (off_t) sl_pid;
        break;
    }

    v->data = sl_pnalloc(r->pool, SL_HTTP_LOG_NUM_LEN);
    if (v->data == NULL) {
        return;
    }

    v->len = sl_slprintf(v->data, v->data + SL_HTTP_LOG_NUM_LEN, "%lld",
                         (long long) n)
             - v->data;
}


/* seconds with milliseconds since the first bytes of the request */
static void
sl_http_log_request_time(sl_http_request_t *r, sl_str_t *v, uintptr_t data)
{
    sl_msec_int_t  ms;

    ms = (sl_msec_int_t) (sl_current_msec - r->start_msec);
    ms = sl_max(ms, 0);

    v->data = sl_pnalloc(r->pool, SL_HTTP_LOG_NUM_LEN);
    if (v->data == NULL) {
        return;
    }

    v->len = sl_slprintf(v->data, v->data + SL_HTTP_LOG_NUM_LEN, "%ld.%03d",
                         (long) (ms / 1000), (int) (ms % 1000))
             - v->data;
}


/* the host of an absolute URI, else of "Host", in lower case, no port */
static void
sl_http_log_host(sl_http_request_t *r, sl_str_t *v, uintptr_t data)
{
    u_char    *p;
    size_t     i;
    sl_str_t   host;

    if (r->host.len) {
        host = r->host;

    } else if (r->headers_in.host) {
        host = r->headers_in.host->value;

    } else {
        v->data = (u_char *) "";
        return;
    }

    if (host.len && host.data[0] == '[') {
        p = sl_strlchr(host.data, host.data + host.len, ']');
        if (p) {
            host.len = p + 1 - host.data;
        }

    } else {
        p = sl_strlchr(host.data, host.data + host.len, ':');
        if (p) {
            host.len = p - host.data;
        }
    }

    v->data = sl_pnalloc(r->pool, host.len + 1);
    if (v->data == NULL) {
        return;
    }

    for (i = 0; i < host.len; i++) {
        v->data[i] = sl_tolower(host.data[i]);
    }

    v->len = host.len;
}


static void
sl_http_log_protocol(sl_http_request_t *r, sl_str_t *v, uintptr_t data)
{
    if (r->http_version == 0) {
        return;
    }

    v->data = sl_pnalloc(r->pool, sizeof("HTTP/999.999"));
    if (v->data == NULL) {
        return;
    }

    v->len = sl_slprintf(v->data, v->data + sizeof("HTTP/999.999"),
                         "HTTP/%lu.%lu", (unsigned long) r->http_major,
                         (unsigned long) r->http_minor)
             - v->data;
}


/* every header of that name, joined with ", " as a proxy would */
static void
sl_http_log_header(sl_http_request_t *r, sl_str_t *v, uintptr_t data)
{
    u_char            *p;
    size_t             len;
    sl_str_t          *name;
    sl_uint_t          i, n, first;
    sl_http_header_t  *h;

    name = (sl_str_t *) data;
    h = r->headers_in.headers.elts;

    len = 0;
    n = 0;
    first = 0;

    for (i = 0; i < r->headers_in.headers.nelts; i++) {
        if (h[i].key.len == name->len
            && sl_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            if (n++ == 0) {
                first = i;
            }

            len += h[i].value.len + sizeof(", ") - 1;
        }
    }

    if (n == 0) {
        return;
    }

    if (n == 1) {
        *v = h[first].value;
        return;
    }

    p = sl_pnalloc(r->pool, len);
    if (p == NULL) {
        return;
    }

    v->data = p;

    for (i = first; i < r->headers_in.headers.nelts; i++) {
        if (h[i].key.len == name->len
            && sl_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            if (p != v->data) {
                *p++ = ','; *p++ = ' ';
            }

            p = sl_cpymem(p, h[i].value.data, h[i].value.len);
        }
    }

    v->len = p - v->data;
}


/* ---------------------------------------------------------- writing */


static sl_int_t
sl_http_log_handler(sl_http_request_t *r)
{
    u_char                  *line;
    size_t                   len;
    sl_uint_t                i;
    sl_http_log_t           *log;
    sl_http_log_loc_conf_t  *llcf;

    llcf = sl_http_get_module_loc_conf(r, sl_http_log_module);

    if (llcf->off || llcf->logs == NULL) {
        return SL_OK;
    }

    log = llcf->logs->elts;

    for (i = 0; i < llcf->logs->nelts; i++) {

        line = sl_http_log_render(r, log[i].format->ops,
                                  log[i].format->escape, &len);
        if (line == NULL) {
            return SL_ERROR;
        }

        sl_http_log_write(r, &log[i], line, len);
    }

    return SL_OK;
}


static void
sl_http_log_write(sl_http_request_t *r, sl_http_log_t *log, u_char *line,
    size_t len)
{
    sl_http_log_buf_t  *buf;

    buf = log->buf;

    if (buf == NULL) {
        sl_http_log_write_fd(log->file, line, len, r->connection->log);
        return;
    }

    if (len > (size_t) (buf->end - buf->pos)) {
        sl_http_log_flush(buf, r->connection->log);
    }

    if (len > (size_t) (buf->end - buf->pos)) {
        /* larger than the whole buffer: it goes alone */
        sl_http_log_write_fd(log->file, line, len, r->connection->log);
        return;
    }

    buf->pos = sl_cpymem(buf->pos, line, len);

    if (!buf->event.timer_set) {
        sl_add_timer(&buf->event, buf->flush);
    }
}


static void
sl_http_log_flush(sl_http_log_buf_t *buf, sl_log_t *log)
{
    if (buf->event.timer_set) {
        sl_del_timer(&buf->event);
    }

    if (buf->pos == buf->start) {
        return;
    }

    sl_http_log_write_fd(buf->file, buf->start, buf->pos - buf->start, log);

    buf->pos = buf->start;
}


static void
sl_http_log_flush_handler(sl_event_t *ev)
{
    sl_http_log_flush(ev->data, ev->log);
}


/*
 * One write(): with O_APPEND the kernel places it whole at the end of
 * the file, whichever worker writes.  A failure is reported once per
 * second at most, so that a full disk does not flood the error log.
 */
static void
sl_http_log_write_fd(sl_open_file_t *file, u_char *data, size_t len,
    sl_log_t *log)
{
    ssize_t        n;
    sl_err_t       err;
    static time_t  reported;

    do {
        n = write(file->fd, data, len);
    } while (n == -1 && sl_errno == SL_EINTR);

    if ((size_t) n == len) {
        return;
    }

    err = (n == -1) ? sl_errno : 0;

    if (reported == (time_t) (sl_realtime_msec / 1000)) {
        return;
    }

    reported = (time_t) (sl_realtime_msec / 1000);

    if (n == -1) {
        sl_log_error(SL_LOG_ALERT, log, err, "write() to \"%s\" failed",
                     file->name.data);

    } else {
        sl_log_error(SL_LOG_ALERT, log, 0,
                     "write() to \"%s\" was incomplete: %zd of %zu",
                     file->name.data, n, len);
    }
}


/* ---------------------------------------------------- configuration */


static void *
sl_http_log_create_main_conf(sl_conf_t *cf)
{
    sl_http_log_main_conf_t  *lmcf;

    lmcf = sl_pcalloc(cf->pool, sizeof(sl_http_log_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    if (sl_array_init(&lmcf->formats, cf->pool, 4,
                      sizeof(sl_http_log_fmt_t))
        != SL_OK
        || sl_array_init(&lmcf->buffers, cf->pool, 2,
                         sizeof(sl_http_log_buf_t *))
           != SL_OK)
    {
        return NULL;
    }

    if (sl_http_log_add_format(cf, lmcf, &sl_http_log_combined_name,
                               SL_HTTP_LOG_ESCAPE_DEFAULT,
                               &sl_http_log_combined)
        != SL_OK)
    {
        return NULL;
    }

    return lmcf;
}


static void *
sl_http_log_create_loc_conf(sl_conf_t *cf)
{
    sl_http_log_loc_conf_t  *llcf;

    llcf = sl_pcalloc(cf->pool, sizeof(sl_http_log_loc_conf_t));
    if (llcf == NULL) {
        return NULL;
    }

    /* set by sl_pcalloc(): llcf->logs = NULL, llcf->off = 0 */

    return llcf;
}


/* a location without access_log logs as the http level does */
static char *
sl_http_log_merge_loc_conf(sl_conf_t *cf, void *parent, void *child)
{
    sl_http_log_loc_conf_t *prev = parent;
    sl_http_log_loc_conf_t *conf = child;

    if (conf->logs || conf->off) {
        return SL_CONF_OK;
    }

    conf->logs = prev->logs;
    conf->off = prev->off;

    return SL_CONF_OK;
}


static sl_int_t
sl_http_log_postconfiguration(sl_conf_t *cf)
{
    sl_http_handler_pt        *h;
    sl_http_core_main_conf_t  *cmcf;

    cmcf = sl_http_conf_get_module_main_conf(cf, sl_http_core_module);

    h = sl_array_push(&cmcf->phases[SL_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return SL_ERROR;
    }

    *h = sl_http_log_handler;

    return SL_OK;
}


static sl_int_t
sl_http_log_add_format(sl_conf_t *cf, sl_http_log_main_conf_t *lmcf,
    sl_str_t *name, sl_uint_t escape, sl_str_t *text)
{
    u_char              errstr[SL_MAX_CONF_ERRSTR];
    sl_str_t            err;
    sl_http_log_fmt_t  *fmt;

    fmt = sl_array_push(&lmcf->formats);
    if (fmt == NULL) {
        return SL_ERROR;
    }

    fmt->name = *name;
    fmt->escape = escape;

    err.data = errstr;
    err.len = sizeof(errstr);

    fmt->ops = sl_http_log_compile(cf->pool, text, &err);

    if (fmt->ops == NULL) {
        if (err.len) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "%.*s",
                              SL_STR_ARG(&err));
        }

        return SL_ERROR;
    }

    return SL_OK;
}


/* log_format NAME [escape=default|json|none] 'text' ...; */
static char *
sl_http_log_set_format(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_log_main_conf_t *lmcf = conf;

    u_char             *p;
    size_t              len;
    sl_str_t           *value, text;
    sl_uint_t           i, first, escape;
    sl_http_log_fmt_t  *fmt;

    value = cf->args->elts;

    fmt = lmcf->formats.elts;

    for (i = 0; i < lmcf->formats.nelts; i++) {
        if (fmt[i].name.len == value[1].len
            && sl_memcmp(fmt[i].name.data, value[1].data, value[1].len) == 0)
        {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "duplicate \"log_format\" name \"%.*s\"",
                              SL_STR_ARG(&value[1]));
            return SL_CONF_ERROR;
        }
    }

    escape = SL_HTTP_LOG_ESCAPE_DEFAULT;
    first = 2;

    if (value[2].len > sizeof("escape=") - 1
        && sl_strncmp(value[2].data, "escape=", sizeof("escape=") - 1) == 0)
    {
        text.data = value[2].data + sizeof("escape=") - 1;
        text.len = value[2].len - (sizeof("escape=") - 1);

        if (sl_str_eq(&text, "default")) {
            escape = SL_HTTP_LOG_ESCAPE_DEFAULT;

        } else if (sl_str_eq(&text, "json")) {
            escape = SL_HTTP_LOG_ESCAPE_JSON;

        } else if (sl_str_eq(&text, "none")) {
            escape = SL_HTTP_LOG_ESCAPE_NONE;

        } else {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "unknown log format escaping \"%.*s\"",
                              SL_STR_ARG(&text));
            return SL_CONF_ERROR;
        }

        first = 3;

        if (cf->args->nelts == 3) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "log_format \"%.*s\" has no text",
                              SL_STR_ARG(&value[1]));
            return SL_CONF_ERROR;
        }
    }

    /* the strings are one text, as adjacent literals in C */

    len = 0;

    for (i = first; i < cf->args->nelts; i++) {
        len += value[i].len;
    }

    text.data = sl_pnalloc(cf->pool, len ? len : 1);
    if (text.data == NULL) {
        return SL_CONF_ERROR;
    }

    p = text.data;

    for (i = first; i < cf->args->nelts; i++) {
        p = sl_cpymem(p, value[i].data, value[i].len);
    }

    text.len = len;

    if (sl_http_log_add_format(cf, lmcf, &value[1], escape, &text)
        != SL_OK)
    {
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}


/* access_log off | PATH [FORMAT [buffer=SIZE] [flush=TIME]]; */
static char *
sl_http_log_set_log(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_log_loc_conf_t *llcf = conf;

    ssize_t                   size;
    sl_int_t                  flush;
    sl_str_t                 *value, name, s;
    sl_uint_t                 i;
    sl_http_log_t            *log;
    sl_http_log_buf_t        *buf, **bufp;
    sl_http_log_fmt_t        *fmt;
    sl_http_log_main_conf_t  *lmcf;

    value = cf->args->elts;

    if (sl_str_eq(&value[1], "off")) {
        if (cf->args->nelts != 2) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "\"access_log off\" takes no parameters");
            return SL_CONF_ERROR;
        }

        if (llcf->logs) {
            return "is duplicate: \"off\" with a log in the same level";
        }

        llcf->off = 1;
        return SL_CONF_OK;
    }

    if (llcf->off) {
        return "is duplicate: a log with \"off\" in the same level";
    }

    if (value[1].len == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "empty access_log path");
        return SL_CONF_ERROR;
    }

    lmcf = sl_http_conf_get_module_main_conf(cf, sl_http_log_module);

    if (llcf->logs == NULL) {
        llcf->logs = sl_array_create(cf->pool, 2, sizeof(sl_http_log_t));
        if (llcf->logs == NULL) {
            return SL_CONF_ERROR;
        }
    }

    log = sl_array_push(llcf->logs);
    if (log == NULL) {
        return SL_CONF_ERROR;
    }

    sl_memzero(log, sizeof(sl_http_log_t));

    /* opened now, by the master: the workers inherit the descriptor */
    log->file = sl_conf_open_file(cf->cycle, &value[1]);
    if (log->file == NULL) {
        sl_conf_log_error(SL_LOG_EMERG, cf, sl_errno,
                          "cannot open access log \"%.*s\"",
                          SL_STR_ARG(&value[1]));
        return SL_CONF_ERROR;
    }

    name = sl_http_log_combined_name;

    if (cf->args->nelts >= 3) {
        name = value[2];
    }

    fmt = lmcf->formats.elts;
    log->format = NULL;

    for (i = 0; i < lmcf->formats.nelts; i++) {
        if (fmt[i].name.len == name.len
            && sl_memcmp(fmt[i].name.data, name.data, name.len) == 0)
        {
            log->format = &fmt[i];
            break;
        }
    }

    if (log->format == NULL) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "unknown log format \"%.*s\" (a log_format of "
                          "the http level, before its use)",
                          SL_STR_ARG(&name));
        return SL_CONF_ERROR;
    }

    size = 0;
    flush = SL_CONF_UNSET;

    for (i = 3; i < cf->args->nelts; i++) {

        if (value[i].len > sizeof("buffer=") - 1
            && sl_strncmp(value[i].data, "buffer=", sizeof("buffer=") - 1)
               == 0)
        {
            s.data = value[i].data + sizeof("buffer=") - 1;
            s.len = value[i].len - (sizeof("buffer=") - 1);

            size = sl_parse_size(&s);

            if (size == SL_ERROR || size == 0) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "invalid buffer size \"%.*s\"",
                                  SL_STR_ARG(&s));
                return SL_CONF_ERROR;
            }

            continue;
        }

        if (value[i].len > sizeof("flush=") - 1
            && sl_strncmp(value[i].data, "flush=", sizeof("flush=") - 1)
               == 0)
        {
            s.data = value[i].data + sizeof("flush=") - 1;
            s.len = value[i].len - (sizeof("flush=") - 1);

            flush = sl_parse_time(&s, 0);

            if (flush == SL_ERROR || flush == 0) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "invalid flush time \"%.*s\"",
                                  SL_STR_ARG(&s));
                return SL_CONF_ERROR;
            }

            continue;
        }

        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "invalid parameter \"%.*s\"",
                          SL_STR_ARG(&value[i]));
        return SL_CONF_ERROR;
    }

    if (flush != SL_CONF_UNSET && size == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "\"flush\" needs \"buffer\"");
        return SL_CONF_ERROR;
    }

    if (size == 0) {
        return SL_CONF_OK;
    }

    if (flush == SL_CONF_UNSET) {
        flush = SL_HTTP_LOG_FLUSH_DEFAULT;
    }

    /* one buffer per file, whichever access_log names it */

    bufp = lmcf->buffers.elts;

    for (i = 0; i < lmcf->buffers.nelts; i++) {
        if (bufp[i]->file != log->file) {
            continue;
        }

        if ((size_t) (bufp[i]->end - bufp[i]->start) != (size_t) size
            || bufp[i]->flush != (sl_msec_t) flush)
        {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "access_log \"%.*s\" already has another "
                              "buffer or flush",
                              SL_STR_ARG(&value[1]));
            return SL_CONF_ERROR;
        }

        log->buf = bufp[i];
        return SL_CONF_OK;
    }

    buf = sl_pcalloc(cf->pool, sizeof(sl_http_log_buf_t));
    if (buf == NULL) {
        return SL_CONF_ERROR;
    }

    buf->start = sl_pnalloc(cf->pool, size);
    if (buf->start == NULL) {
        return SL_CONF_ERROR;
    }

    buf->file = log->file;
    buf->pos = buf->start;
    buf->end = buf->start + size;
    buf->flush = (sl_msec_t) flush;

    buf->event.handler = sl_http_log_flush_handler;
    buf->event.data = buf;
    buf->event.log = cf->log;
    buf->event.cancelable = 1;

    bufp = sl_array_push(&lmcf->buffers);
    if (bufp == NULL) {
        return SL_CONF_ERROR;
    }

    *bufp = buf;
    log->buf = buf;

    return SL_CONF_OK;
}


/* ---------------------------------------------------------- process */


static sl_int_t
sl_http_log_init_process(sl_cycle_t *cycle)
{
    sl_uint_t                 i;
    sl_http_log_buf_t       **bufp;
    sl_http_log_main_conf_t  *lmcf;

    lmcf = sl_http_cycle_get_module_main_conf(cycle, sl_http_log_module);

    if (lmcf == NULL) {
        return SL_OK;
    }

    bufp = lmcf->buffers.elts;

    for (i = 0; i < lmcf->buffers.nelts; i++) {
        bufp[i]->event.log = cycle->log;
    }

    return SL_OK;
}


/* what is buffered goes out before the worker does */
static void
sl_http_log_exit_process(sl_cycle_t *cycle)
{
    sl_uint_t                 i;
    sl_http_log_buf_t       **bufp;
    sl_http_log_main_conf_t  *lmcf;

    lmcf = sl_http_cycle_get_module_main_conf(cycle, sl_http_log_module);

    if (lmcf == NULL) {
        return;
    }

    bufp = lmcf->buffers.elts;

    for (i = 0; i < lmcf->buffers.nelts; i++) {
        sl_http_log_flush(bufp[i], cycle->log);
    }
}
