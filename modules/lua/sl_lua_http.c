
/*
 * The HTTP content phase in Lua:
 *
 *     location /hello { content_by_lua_block { sl.say("hi ", sl.req.uri) } }
 *     location /hook  { content_by_lua_file  lua/hook.lua; }
 *
 * The request body is read whole first; then the chunk runs with
 *     sl.req      method, uri, args (the raw query), headers (names in
 *                 lower case), body (a string or nil), get_args()
 *     sl.say(...), sl.print(...)   append to the response body
 *     sl.status                    200 unless set
 *     sl.header[NAME] = VALUE      response headers (Content-Type too)
 *     sl.exit(status)              ends the chunk there
 * and the response is sent once the chunk returns.  An error, or a
 * script that runs out of lua_max_run_time, ends that request with 500.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_http.h>
#include <sl_lua.h>


typedef struct {
    sl_lua_chunk_t           content;
} sl_http_lua_loc_conf_t;


typedef struct {
    sl_http_request_t       *request;
    sl_chain_t              *out;
    sl_chain_t             **last;
    size_t                   size;
    sl_int_t                 exit_status;    /* -1: none */
} sl_http_lua_ctx_t;


static sl_int_t sl_http_lua_postconfiguration(sl_conf_t *cf);
static void *sl_http_lua_create_loc_conf(sl_conf_t *cf);
static char *sl_http_lua_merge_loc_conf(sl_conf_t *cf, void *parent,
    void *child);
static char *sl_http_lua_content(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static sl_int_t sl_http_lua_content_handler(sl_http_request_t *r);
static void sl_http_lua_content_body(sl_http_request_t *r);
static sl_int_t sl_http_lua_run(sl_http_request_t *r);
static void sl_http_lua_push_req(lua_State *L, sl_http_request_t *r);
static sl_int_t sl_http_lua_response(lua_State *L, sl_http_request_t *r,
    sl_http_lua_ctx_t *ctx, sl_int_t rc);

static int sl_http_lua_say(lua_State *L);
static int sl_http_lua_print(lua_State *L);
static int sl_http_lua_output(lua_State *L, sl_uint_t newline);
static int sl_http_lua_exit(lua_State *L);
static int sl_http_lua_get_args(lua_State *L);
static void sl_http_lua_unescape(luaL_Buffer *b, u_char *p, u_char *last);


static sl_command_t  sl_http_lua_commands[] = {

    { sl_string("content_by_lua_block"),
      SL_HTTP_LOC_CONF|SL_CONF_BLOCK|SL_CONF_NOARGS,
      sl_http_lua_content,
      SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_lua_loc_conf_t, content),
      NULL },

    { sl_string("content_by_lua_file"),
      SL_HTTP_LOC_CONF|SL_CONF_TAKE1,
      sl_http_lua_content,
      SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_lua_loc_conf_t, content),
      NULL },

      sl_null_command
};


static sl_http_module_t  sl_http_lua_module_ctx = {
    NULL,                                  /* preconfiguration */
    sl_http_lua_postconfiguration,         /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    sl_http_lua_create_loc_conf,           /* create location configuration */
    sl_http_lua_merge_loc_conf             /* merge location configuration */
};


sl_module_t  sl_http_lua_module = {
    SL_MODULE_V1,
    &sl_http_lua_module_ctx,               /* module context */
    sl_http_lua_commands,                  /* module directives */
    SL_HTTP_MODULE,                        /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


/* the request whose chunk runs now: sl.say() and friends write to it */
static sl_http_lua_ctx_t  *sl_http_lua_current;


static sl_int_t
sl_http_lua_postconfiguration(sl_conf_t *cf)
{
    lua_State           *L;
    sl_lua_main_conf_t  *lmcf;

    lmcf = sl_lua_conf_main_conf(cf);
    if (lmcf == NULL || lmcf->vm == NULL) {
        return SL_OK;
    }

    L = lmcf->vm;

    lua_getglobal(L, "sl");

    lua_pushcfunction(L, sl_http_lua_say);
    lua_setfield(L, -2, "say");
    lua_pushcfunction(L, sl_http_lua_print);
    lua_setfield(L, -2, "print");
    lua_pushcfunction(L, sl_http_lua_exit);
    lua_setfield(L, -2, "exit");

    lua_pushinteger(L, SL_HTTP_OK);
    lua_setfield(L, -2, "HTTP_OK");
    lua_pushinteger(L, SL_HTTP_BAD_REQUEST);
    lua_setfield(L, -2, "HTTP_BAD_REQUEST");
    lua_pushinteger(L, SL_HTTP_FORBIDDEN);
    lua_setfield(L, -2, "HTTP_FORBIDDEN");
    lua_pushinteger(L, SL_HTTP_NOT_FOUND);
    lua_setfield(L, -2, "HTTP_NOT_FOUND");
    lua_pushinteger(L, SL_HTTP_INTERNAL_SERVER_ERROR);
    lua_setfield(L, -2, "HTTP_INTERNAL_SERVER_ERROR");

    lua_pop(L, 1);

    return SL_OK;
}


static void *
sl_http_lua_create_loc_conf(sl_conf_t *cf)
{
    sl_http_lua_loc_conf_t  *llcf;

    llcf = sl_pcalloc(cf->pool, sizeof(sl_http_lua_loc_conf_t));
    if (llcf == NULL) {
        return NULL;
    }

    llcf->content.ref = LUA_NOREF;

    return llcf;
}


static char *
sl_http_lua_merge_loc_conf(sl_conf_t *cf, void *parent, void *child)
{
    /* content handlers belong to their location: nothing is inherited */
    return SL_CONF_OK;
}


static char *
sl_http_lua_content(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char  *rv;

    rv = sl_lua_set_chunk(cf, cmd, conf);
    if (rv != SL_CONF_OK) {
        return rv;
    }

    return sl_http_set_content_handler(cf, sl_http_lua_content_handler);
}


static sl_int_t
sl_http_lua_content_handler(sl_http_request_t *r)
{
    sl_int_t  rc;

    rc = sl_http_read_client_request_body(r, sl_http_lua_content_body);

    if (rc >= SL_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return SL_DONE;
}


static void
sl_http_lua_content_body(sl_http_request_t *r)
{
    sl_http_finalize_request(r, sl_http_lua_run(r));
}


static sl_int_t
sl_http_lua_run(sl_http_request_t *r)
{
    sl_int_t                 rc;
    lua_State               *L;
    sl_http_lua_ctx_t        ctx;
    sl_lua_main_conf_t      *lmcf;
    sl_http_lua_loc_conf_t  *llcf;

    llcf = sl_http_get_module_loc_conf(r, sl_http_lua_module);
    lmcf = sl_lua_main_conf();

    if (lmcf == NULL || llcf->content.ref == LUA_NOREF) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    L = lmcf->vm;

    sl_memzero(&ctx, sizeof(sl_http_lua_ctx_t));
    ctx.request = r;
    ctx.last = &ctx.out;
    ctx.exit_status = -1;

    /* the per-request fields of sl */

    lua_getglobal(L, "sl");
    sl_http_lua_push_req(L, r);
    lua_setfield(L, -2, "req");
    lua_newtable(L);
    lua_setfield(L, -2, "header");
    lua_pushinteger(L, SL_HTTP_OK);
    lua_setfield(L, -2, "status");

    sl_lua_push_chunk(L, &llcf->content);

    sl_http_lua_current = &ctx;

    rc = sl_lua_call(lmcf, 0, 0, r->connection->log, NULL, NULL);

    sl_http_lua_current = NULL;

    rc = sl_http_lua_response(L, r, &ctx, rc);

    /* the request's tables go now, not at the next request */
    lua_pushnil(L);
    lua_setfield(L, -2, "req");
    lua_pushnil(L);
    lua_setfield(L, -2, "header");
    lua_pop(L, 1);

    return rc;
}


/* sl is on the top of the stack */

static sl_int_t
sl_http_lua_response(lua_State *L, sl_http_request_t *r,
    sl_http_lua_ctx_t *ctx, sl_int_t rc)
{
    u_char      *p;
    size_t       len;
    sl_str_t     body, value, type, *ct;
    sl_int_t     status;
    sl_chain_t  *cl;
    const char  *key;

    if (rc == SL_ERROR) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    status = SL_HTTP_OK;

    lua_getfield(L, -1, "status");
    if (lua_isnumber(L, -1)) {
        status = (sl_int_t) lua_tointeger(L, -1);
    }
    lua_pop(L, 1);

    if (ctx->exit_status >= 0) {
        status = ctx->exit_status;
    }

    if (status < 100 || status > 999) {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                     "lua: bad status %d", (int) status);
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (status >= SL_HTTP_SPECIAL_RESPONSE && ctx->out == NULL) {
        /* nothing said: the server's own page for that status */
        return status;
    }

    ct = NULL;

    lua_getfield(L, -1, "header");

    if (lua_istable(L, -1)) {
        lua_pushnil(L);

        while (lua_next(L, -2)) {

            if (lua_type(L, -2) != LUA_TSTRING || !lua_isstring(L, -1)) {
                lua_pop(L, 1);
                continue;
            }

            key = lua_tolstring(L, -2, &len);
            p = (u_char *) lua_tolstring(L, -1, &value.len);

            value.data = sl_pnalloc(r->pool, value.len);
            if (value.data == NULL) {
                lua_pop(L, 3);
                return SL_HTTP_INTERNAL_SERVER_ERROR;
            }

            sl_memcpy(value.data, p, value.len);

            if (len == sizeof("Content-Type") - 1
                && sl_strncasecmp((u_char *) key, (u_char *) "Content-Type",
                                  len) == 0)
            {
                type = value;
                ct = &type;

            } else {
                p = sl_pnalloc(r->pool, len + 1);
                if (p == NULL) {
                    lua_pop(L, 3);
                    return SL_HTTP_INTERNAL_SERVER_ERROR;
                }

                sl_memcpy(p, key, len);
                p[len] = '\0';

                if (sl_http_add_header(r, (char *) p, &value) != SL_OK) {
                    lua_pop(L, 3);
                    return SL_HTTP_INTERNAL_SERVER_ERROR;
                }
            }

            lua_pop(L, 1);
        }
    }

    lua_pop(L, 1);

    if (ct == NULL) {
        sl_str_set(&type, "text/plain");
        ct = &type;
    }

    body.len = ctx->size;
    body.data = sl_pnalloc(r->pool, body.len + 1);
    if (body.data == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = body.data;

    for (cl = ctx->out; cl; cl = cl->next) {
        p = sl_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    return sl_http_send_response(r, status, ct, &body);
}


/* pushes a new sl.req table for r */

static void
sl_http_lua_push_req(lua_State *L, sl_http_request_t *r)
{
    u_char             *p, *last;
    sl_buf_t           *b;
    sl_uint_t           i, j;
    luaL_Buffer         lb;
    sl_http_header_t   *h;

    lua_createtable(L, 0, 8);

    lua_pushlstring(L, (char *) r->method_name.data, r->method_name.len);
    lua_setfield(L, -2, "method");

    lua_pushlstring(L, (char *) r->uri.data, r->uri.len);
    lua_setfield(L, -2, "uri");

    lua_pushlstring(L, (char *) r->args.data, r->args.len);
    lua_setfield(L, -2, "args");

    lua_pushcfunction(L, sl_http_lua_get_args);
    lua_setfield(L, -2, "get_args");

    h = r->headers_in.headers.elts;

    lua_createtable(L, 0, (int) r->headers_in.headers.nelts);

    for (i = 0; i < r->headers_in.headers.nelts; i++) {
        luaL_buffinit(L, &lb);

        for (j = 0; j < h[i].key.len; j++) {
            luaL_addchar(&lb, sl_tolower(h[i].key.data[j]));
        }

        luaL_pushresult(&lb);
        lua_pushlstring(L, (char *) h[i].value.data, h[i].value.len);
        lua_rawset(L, -3);
    }

    lua_setfield(L, -2, "headers");

    b = r->request_body ? r->request_body->buf : NULL;

    if (b && b->last > b->pos) {
        p = b->pos;
        last = b->last;
        lua_pushlstring(L, (char *) p, last - p);
        lua_setfield(L, -2, "body");
    }
}


static int
sl_http_lua_say(lua_State *L)
{
    return sl_http_lua_output(L, 1);
}


static int
sl_http_lua_print(lua_State *L)
{
    return sl_http_lua_output(L, 0);
}


static int
sl_http_lua_output(lua_State *L, sl_uint_t newline)
{
    int                 i, n;
    u_char             *p;
    size_t              len, size;
    sl_buf_t           *b;
    sl_chain_t         *cl;
    const char         *s;
    sl_http_lua_ctx_t  *ctx;

    ctx = sl_http_lua_current;

    if (ctx == NULL) {
        return luaL_error(L, "no HTTP request here");
    }

    n = lua_gettop(L);
    size = newline;

    for (i = 1; i <= n; i++) {
        if (lua_isstring(L, i)) {
            (void) lua_tolstring(L, i, &len);
            size += len;

        } else if (lua_isnil(L, i)) {
            size += sizeof("nil") - 1;

        } else if (lua_isboolean(L, i)) {
            size += sizeof("false") - 1;

        } else {
            return luaL_argerror(L, i, "a string, number, boolean or nil");
        }
    }

    if (size == 0) {
        return 0;
    }

    b = sl_create_temp_buf(ctx->request->pool, size);
    cl = sl_alloc_chain_link(ctx->request->pool);
    if (b == NULL || cl == NULL) {
        return luaL_error(L, "out of memory");
    }

    p = b->last;

    for (i = 1; i <= n; i++) {
        if (lua_isstring(L, i)) {
            s = lua_tolstring(L, i, &len);
            p = sl_cpymem(p, s, len);

        } else if (lua_isnil(L, i)) {
            p = sl_cpymem(p, "nil", sizeof("nil") - 1);

        } else if (lua_toboolean(L, i)) {
            p = sl_cpymem(p, "true", sizeof("true") - 1);

        } else {
            p = sl_cpymem(p, "false", sizeof("false") - 1);
        }
    }

    if (newline) {
        *p++ = LF;
    }

    b->last = p;
    cl->buf = b;
    cl->next = NULL;

    *ctx->last = cl;
    ctx->last = &cl->next;
    ctx->size += p - b->pos;

    return 0;
}


static int
sl_http_lua_exit(lua_State *L)
{
    lua_Integer  status;

    status = luaL_checkinteger(L, 1);

    if (sl_http_lua_current == NULL) {
        return luaL_error(L, "sl.exit: no HTTP request here");
    }

    if (status < 100 || status > 999) {
        return luaL_argerror(L, 1, "bad status");
    }

    sl_http_lua_current->exit_status = (sl_int_t) status;

    lua_pushlightuserdata(L, &sl_lua_exit_marker);

    return lua_error(L);
}


/* sl.req.get_args(): the query as a table; a repeated name, a list */

static int
sl_http_lua_get_args(lua_State *L)
{
    u_char             *p, *last, *amp, *eq;
    luaL_Buffer         b;
    sl_http_request_t  *r;

    if (sl_http_lua_current == NULL) {
        return luaL_error(L, "no HTTP request here");
    }

    r = sl_http_lua_current->request;

    lua_newtable(L);

    p = r->args.data;
    last = p + r->args.len;

    while (p < last) {
        amp = sl_strlchr(p, last, '&');
        if (amp == NULL) {
            amp = last;
        }

        eq = sl_strlchr(p, amp, '=');

        if (amp > p) {
            luaL_buffinit(L, &b);
            sl_http_lua_unescape(&b, p, eq ? eq : amp);
            luaL_pushresult(&b);

            if (eq) {
                luaL_buffinit(L, &b);
                sl_http_lua_unescape(&b, eq + 1, amp);
                luaL_pushresult(&b);

            } else {
                lua_pushboolean(L, 1);
            }

            lua_pushvalue(L, -2);
            lua_rawget(L, -4);

            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                lua_rawset(L, -3);

            } else {
                if (!lua_istable(L, -1)) {
                    lua_createtable(L, 2, 0);
                    lua_insert(L, -2);
                    lua_rawseti(L, -2, 1);
                }

                lua_insert(L, -2);
                lua_rawseti(L, -2, (int) lua_objlen(L, -2) + 1);
                lua_rawset(L, -3);
            }
        }

        p = amp + 1;
    }

    return 1;
}


static void
sl_http_lua_unescape(luaL_Buffer *b, u_char *p, u_char *last)
{
    u_char    ch, c1, c2;

    while (p < last) {
        ch = *p++;

        if (ch == '+') {
            ch = ' ';

        } else if (ch == '%' && last - p >= 2 && isxdigit(p[0])
                   && isxdigit(p[1]))
        {
            c1 = sl_tolower(p[0]);
            c2 = sl_tolower(p[1]);
            ch = (u_char) (((c1 >= 'a') ? c1 - 'a' + 10 : c1 - '0') << 4
                           | ((c2 >= 'a') ? c2 - 'a' + 10 : c2 - '0'));
            p += 2;
        }

        luaL_addchar(b, ch);
    }
}
