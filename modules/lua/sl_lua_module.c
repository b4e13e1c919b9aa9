
/*
 * The Lua core module: the VM, the directives of the main context
 *
 *     lua_package_path          "/etc/sluice/lua/?.lua;;";
 *     lua_max_run_time          100ms;       # 0: no budget, JIT on
 *     lua_shared_dict           NAME SIZE;
 *     init_by_lua_block         { ... }      # or init_by_lua_file FILE;
 *     init_worker_by_lua_block  { ... }      # or init_worker_by_lua_file
 *     stream NAME { from T; to T; group G; by_lua_block { ... } }
 *
 * the reader of "*_by_lua_block { }" bodies, the protected call with its
 * time budget, and the protocol-independent part of the `sl` table:
 * sl.log, the level constants, print, sl.timer.at, sl.now, sl.worker_id.
 *
 * The budget is a count hook that looks at the call's CPU time every
 * SL_LUA_HOOK_COUNT instructions.  Code compiled by the JIT never calls
 * hooks (a hot `while true do end` becomes a trace that never exits), so
 * with a budget the JIT engine is off for the whole VM; the interpreter
 * is what runs.  A single long call into C (a pattern match on a huge
 * string) cannot be interrupted either.
 *
 * The workers' VM is a sandbox: io, os.execute, os.exit, os.remove,
 * os.rename, os.tmpname, ffi, C modules, debug.sethook and the JIT
 * switches are gone, so that a script cannot block the event loop, end
 * the worker, run C code or lift its budget (see README.md).
 * init_by_lua, in the master before the fork, still has them.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_lua.h>


#define SL_LUA_INIT_RUN_TIME     10000
#define SL_LUA_MAX_TIMERS        1024


typedef struct {
    sl_event_t               ev;
    int                      ref;        /* {fn, nargs, args...} */
    sl_lua_main_conf_t      *lmcf;
} sl_lua_timer_t;


static void *sl_lua_create_conf(sl_cycle_t *cycle);
static char *sl_lua_init_conf(sl_cycle_t *cycle, void *conf);
static sl_int_t sl_lua_init_module(sl_cycle_t *cycle);
static sl_int_t sl_lua_init_process(sl_cycle_t *cycle);
static void sl_lua_exit_process(sl_cycle_t *cycle);
static void sl_lua_close_vm(void *data);

static char *sl_lua_read_block(sl_conf_t *cf, sl_str_t *text);
static sl_int_t sl_lua_block_more(sl_conf_t *cf);
static sl_int_t sl_lua_set_package_path(sl_lua_main_conf_t *lmcf);
static void sl_lua_sandbox(lua_State *L);
static sl_int_t sl_lua_call_budget(sl_lua_main_conf_t *lmcf, int nargs,
    int nresults, sl_msec_t budget, sl_log_t *log, u_char *err,
    size_t *err_len);
static uint64_t sl_lua_cpu_ns(void);
static void sl_lua_hook(lua_State *L, lua_Debug *ar);
static int sl_lua_traceback(lua_State *L);

static void sl_lua_api(lua_State *L, sl_lua_main_conf_t *lmcf);
static int sl_lua_log_api(lua_State *L);
static int sl_lua_print_api(lua_State *L);
static void sl_lua_log_args(lua_State *L, sl_uint_t level, int first);
static int sl_lua_now_api(lua_State *L);
static int sl_lua_worker_id_api(lua_State *L);
static int sl_lua_timer_at_api(lua_State *L);
static void sl_lua_timer_handler(sl_event_t *ev);
static int sl_lua_forbidden_api(lua_State *L);
static int sl_lua_pcall_api(lua_State *L);
static int sl_lua_xpcall_api(lua_State *L);
static int sl_lua_resume_api(lua_State *L);


static sl_command_t  sl_lua_commands[] = {

    { sl_string("lua_package_path"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_TAKE1,
      sl_conf_set_str_slot,
      0,
      offsetof(sl_lua_main_conf_t, package_path),
      NULL },

    { sl_string("lua_max_run_time"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_TAKE1,
      sl_conf_set_msec_slot,
      0,
      offsetof(sl_lua_main_conf_t, max_run_time),
      NULL },

    { sl_string("lua_shared_dict"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_TAKE2,
      sl_lua_shared_dict,
      0,
      0,
      NULL },

    { sl_string("stream"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_BLOCK|SL_CONF_TAKE1,
      sl_lua_stream_block,
      0,
      0,
      NULL },

    { sl_string("init_by_lua_block"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_BLOCK|SL_CONF_NOARGS,
      sl_lua_set_chunk,
      0,
      offsetof(sl_lua_main_conf_t, init),
      NULL },

    { sl_string("init_by_lua_file"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_TAKE1,
      sl_lua_set_chunk,
      0,
      offsetof(sl_lua_main_conf_t, init),
      NULL },

    { sl_string("init_worker_by_lua_block"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_BLOCK|SL_CONF_NOARGS,
      sl_lua_set_chunk,
      0,
      offsetof(sl_lua_main_conf_t, init_worker),
      NULL },

    { sl_string("init_worker_by_lua_file"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_TAKE1,
      sl_lua_set_chunk,
      0,
      offsetof(sl_lua_main_conf_t, init_worker),
      NULL },

      sl_null_command
};


static sl_core_module_t  sl_lua_module_ctx = {
    sl_string("lua"),
    sl_lua_create_conf,
    sl_lua_init_conf
};


sl_module_t  sl_lua_module = {
    SL_MODULE_V1,
    &sl_lua_module_ctx,                    /* module context */
    sl_lua_commands,                       /* module directives */
    SL_CORE_MODULE,                        /* module type */
    NULL,                                  /* init master */
    sl_lua_init_module,                    /* init module */
    sl_lua_init_process,                   /* init process */
    sl_lua_exit_process,                   /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


sl_log_t          *sl_lua_log;
int                sl_lua_exit_marker;

/*
 * The budget of the running call, 0 while no hook is set; the call's
 * CPU time when the hook first ran in it (0: not yet); and whether the
 * call ran out (a pcall inside the script cannot make it go on).
 */
static sl_msec_t   sl_lua_budget;
static uint64_t    sl_lua_start;
static sl_uint_t   sl_lua_expired;
static sl_uint_t   sl_lua_in_init;
static sl_uint_t   sl_lua_ntimers;


static void *
sl_lua_create_conf(sl_cycle_t *cycle)
{
    lua_State           *L;
    sl_pool_cleanup_t   *cln;
    sl_lua_main_conf_t  *lmcf;

    lmcf = sl_pcalloc(cycle->pool, sizeof(sl_lua_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    lmcf->max_run_time = SL_CONF_UNSET_MSEC;
    lmcf->init.ref = LUA_NOREF;
    lmcf->init_worker.ref = LUA_NOREF;
    lmcf->log = cycle->log;

    if (sl_array_init(&lmcf->dicts, cycle->pool, 2, sizeof(sl_shm_zone_t *))
        != SL_OK
        || sl_array_init(&lmcf->produce, cycle->pool, 2,
                         sizeof(sl_lua_produce_t))
           != SL_OK
        || sl_array_init(&lmcf->streams, cycle->pool, 2,
                         sizeof(sl_lua_stream_t *))
           != SL_OK)
    {
        return NULL;
    }

    cln = sl_pool_cleanup_add(cycle->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    L = luaL_newstate();
    if (L == NULL) {
        sl_log_error(SL_LOG_EMERG, cycle->log, 0,
                     "lua: cannot create the VM (out of memory)");
        return NULL;
    }

    cln->handler = sl_lua_close_vm;
    cln->data = lmcf;

    lmcf->vm = L;

    luaL_openlibs(L);
    sl_lua_api(L, lmcf);

    return lmcf;
}


static char *
sl_lua_init_conf(sl_cycle_t *cycle, void *conf)
{
    sl_lua_main_conf_t *lmcf = conf;

    sl_conf_init_msec_value(lmcf->max_run_time, 100);

    if (lmcf->package_path.data && sl_lua_set_package_path(lmcf) != SL_OK) {
        return SL_CONF_ERROR;
    }

    if (lmcf->max_run_time) {
        /* traces ignore hooks: the interpreter only, see above */
        luaJIT_setmode(lmcf->vm, 0, LUAJIT_MODE_ENGINE|LUAJIT_MODE_OFF);
    }

    if (sl_lua_produce_init(cycle, lmcf) != SL_OK) {
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}


static void
sl_lua_close_vm(void *data)
{
    sl_lua_main_conf_t *lmcf = data;

    if (lmcf->vm) {
        lua_close(lmcf->vm);
        lmcf->vm = NULL;
    }
}


/* in the master, once the zones exist: init_by_lua, then the sandbox */

static sl_int_t
sl_lua_init_module(sl_cycle_t *cycle)
{
    sl_int_t             rc;
    sl_lua_main_conf_t  *lmcf;

    lmcf = (sl_lua_main_conf_t *) sl_get_conf(cycle->conf_ctx, sl_lua_module);

    lmcf->log = cycle->log;
    sl_lua_log = cycle->log;

    if (lmcf->init.ref != LUA_NOREF) {
        sl_lua_push_chunk(lmcf->vm, &lmcf->init);

        sl_lua_in_init = 1;
        rc = sl_lua_call_budget(lmcf, 0, 0, SL_LUA_INIT_RUN_TIME, cycle->log,
                                NULL, NULL);
        sl_lua_in_init = 0;

        if (rc != SL_OK) {
            sl_log_error(SL_LOG_EMERG, cycle->log, 0,
                         "lua: init_by_lua failed");
            return SL_ERROR;
        }
    }

    if (!lmcf->sandboxed) {
        sl_lua_sandbox(lmcf->vm);
        lmcf->sandboxed = 1;
    }

    return SL_OK;
}


static sl_int_t
sl_lua_init_process(sl_cycle_t *cycle)
{
    sl_lua_main_conf_t  *lmcf;

    lmcf = (sl_lua_main_conf_t *) sl_get_conf(cycle->conf_ctx, sl_lua_module);

    if (lmcf == NULL || lmcf->vm == NULL) {
        return SL_OK;
    }

    lmcf->log = cycle->log;
    sl_lua_log = cycle->log;
    sl_lua_ntimers = 0;

    if (lmcf->init_worker.ref != LUA_NOREF) {
        sl_lua_push_chunk(lmcf->vm, &lmcf->init_worker);

        /* a failing init_worker_by_lua is logged; the worker serves */
        (void) sl_lua_call_budget(lmcf, 0, 0, SL_LUA_INIT_RUN_TIME,
                                  cycle->log, NULL, NULL);
    }

    return sl_lua_stream_init_process(cycle, lmcf);
}


static void
sl_lua_exit_process(sl_cycle_t *cycle)
{
    sl_lua_main_conf_t  *lmcf;

    lmcf = (sl_lua_main_conf_t *) sl_get_conf(cycle->conf_ctx, sl_lua_module);

    if (lmcf == NULL || lmcf->vm == NULL) {
        return;
    }

    /* stream processors leave their groups */
    sl_lua_stream_exit_process(cycle, lmcf);
}


sl_lua_main_conf_t *
sl_lua_conf_main_conf(sl_conf_t *cf)
{
    return (sl_lua_main_conf_t *) sl_get_conf(cf->cycle->conf_ctx,
                                              sl_lua_module);
}


sl_lua_main_conf_t *
sl_lua_main_conf(void)
{
    sl_lua_main_conf_t  *lmcf;

    if (sl_cycle == NULL || sl_cycle->conf_ctx == NULL
        || sl_lua_module.index == SL_MODULE_UNSET_INDEX)
    {
        return NULL;
    }

    lmcf = (sl_lua_main_conf_t *) sl_get_conf(sl_cycle->conf_ctx,
                                              sl_lua_module);

    return (lmcf && lmcf->vm) ? lmcf : NULL;
}


/*
 * "*_by_lua_block { ... }" and "*_by_lua_file FILE;": the chunk goes into
 * the sl_lua_chunk_t at cmd->offset of conf, named after the directive.
 */

char *
sl_lua_set_chunk(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    u_char          *p;
    sl_lua_chunk_t  *chunk;
    char             what[64];
    size_t           len;

    chunk = (sl_lua_chunk_t *) ((u_char *) conf + cmd->offset);

    if (chunk->ref != LUA_NOREF && chunk->name.data != NULL) {
        return "is duplicate";
    }

    len = cmd->name.len;
    p = cmd->name.data;

    if (cmd->type & SL_CONF_BLOCK) {
        len -= sizeof("_block") - 1;

    } else {
        len -= sizeof("_file") - 1;
    }

    if (len >= sizeof(what)) {
        len = sizeof(what) - 1;
    }

    sl_memcpy(what, p, len);
    what[len] = '\0';

    return sl_lua_conf_chunk(cf, chunk, what);
}


char *
sl_lua_conf_chunk(sl_conf_t *cf, sl_lua_chunk_t *chunk, const char *what)
{
    u_char              *p, *file, *base;
    sl_str_t            *value, text, path;
    lua_State           *L;
    sl_uint_t            line;
    sl_lua_main_conf_t  *lmcf;
    int                  rc;

    lmcf = sl_lua_conf_main_conf(cf);
    if (lmcf == NULL || lmcf->vm == NULL) {
        return "needs the lua module";
    }

    L = lmcf->vm;
    value = cf->args->elts;

    if (cf->args->nelts == 1) {

        /* a block: its raw text, the Lua tokens are not the conf's */

        line = cf->conf_file->line;

        if (sl_lua_read_block(cf, &text) != SL_CONF_OK) {
            return SL_CONF_ERROR;
        }

        file = cf->conf_file->file.name.data;
        base = file ? (u_char *) strrchr((char *) file, '/') : NULL;
        base = base ? base + 1 : (file ? file : (u_char *) "-g");

        chunk->name.data = sl_pnalloc(cf->pool, 128);
        if (chunk->name.data == NULL) {
            sl_free(text.data);
            return SL_CONF_ERROR;
        }

        p = sl_slprintf(chunk->name.data, chunk->name.data + 127,
                        "=%s(%s:%lu)", what, base, (unsigned long) line);
        *p = '\0';
        chunk->name.len = p - chunk->name.data;

        rc = luaL_loadbuffer(L, (char *) text.data, text.len,
                             (char *) chunk->name.data);
        sl_free(text.data);

    } else {
        path = value[1];

        if (sl_conf_full_name(cf->cycle, &path, 0) != SL_OK) {
            return SL_CONF_ERROR;
        }

        chunk->name.data = (u_char *) sl_pstrz(cf->pool, &path);
        if (chunk->name.data == NULL) {
            return SL_CONF_ERROR;
        }

        chunk->name.len = path.len;

        rc = luaL_loadfile(L, (char *) chunk->name.data);
    }

    if (rc != 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "%s: %s", what,
                          lua_tostring(L, -1));
        lua_pop(L, 1);
        return SL_CONF_ERROR;
    }

    chunk->ref = luaL_ref(L, LUA_REGISTRYINDEX);

    return SL_CONF_OK;
}


/*
 * The body of a "*_by_lua_block", read raw from the configuration file
 * after its '{' up to the matching '}': Lua strings, long brackets and
 * comments are followed so that braces inside them do not count.  The
 * text is sl_alloc()ed; the caller frees it.
 */

static char *
sl_lua_read_block(sl_conf_t *cf, sl_str_t *text)
{
    u_char      ch, quote, *out, *n;
    size_t      len, size;
    sl_int_t    rc;
    sl_buf_t   *b;
    sl_uint_t   depth, level, close, comment;

    enum {
        sw_code = 0,
        sw_dash,
        sw_comment_start,
        sw_bracket,
        sw_line_comment,
        sw_long,
        sw_long_close,
        sw_string,
        sw_string_escape
    } state;

    size = 1024;
    out = sl_alloc(size, cf->log);
    if (out == NULL) {
        return SL_CONF_ERROR;
    }

    len = 0;
    depth = 0;
    level = 0;
    close = 0;
    comment = 0;
    quote = 0;
    state = sw_code;
    b = cf->conf_file->buffer;

    for ( ;; ) {

        if (b->pos >= b->last) {
            rc = sl_lua_block_more(cf);

            if (rc == SL_ERROR) {
                goto failed;
            }

            if (rc == SL_DONE) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "unexpected end of file in a Lua block, "
                                  "expecting \"}\"");
                goto failed;
            }
        }

        ch = *b->pos++;

        if (ch == LF) {
            cf->conf_file->line++;
        }

        if (len == size) {
            n = sl_alloc(size * 2, cf->log);
            if (n == NULL) {
                goto failed;
            }

            sl_memcpy(n, out, len);
            sl_free(out);
            out = n;
            size *= 2;
        }

        out[len++] = ch;

    again:

        switch (state) {

        case sw_code:
            switch (ch) {
            case '{':
                depth++;
                break;

            case '}':
                if (depth == 0) {
                    text->data = out;
                    text->len = len - 1;
                    return SL_CONF_OK;
                }

                depth--;
                break;

            case '"':
            case '\'':
                quote = ch;
                state = sw_string;
                break;

            case '-':
                state = sw_dash;
                break;

            case '[':
                level = 0;
                comment = 0;
                state = sw_bracket;
                break;
            }

            break;

        case sw_dash:
            if (ch == '-') {
                state = sw_comment_start;
                break;
            }

            state = sw_code;
            goto again;

        case sw_comment_start:
            if (ch == '[') {
                level = 0;
                comment = 1;
                state = sw_bracket;
                break;
            }

            state = (ch == LF) ? sw_code : sw_line_comment;
            break;

        case sw_bracket:
            if (ch == '=') {
                level++;
                break;
            }

            if (ch == '[') {
                state = sw_long;
                break;
            }

            if (comment) {
                state = sw_line_comment;
                goto again;
            }

            state = sw_code;
            goto again;

        case sw_line_comment:
            if (ch == LF) {
                state = sw_code;
            }

            break;

        case sw_long:
            if (ch == ']') {
                close = 0;
                state = sw_long_close;
            }

            break;

        case sw_long_close:
            if (ch == '=') {
                close++;
                break;
            }

            if (ch == ']') {
                if (close == level) {
                    state = sw_code;
                }

                close = 0;
                break;
            }

            state = sw_long;
            break;

        case sw_string:
            if (ch == '\\') {
                state = sw_string_escape;

            } else if (ch == quote || ch == LF) {
                state = sw_code;
            }

            break;

        case sw_string_escape:
            state = sw_string;
            break;
        }
    }

failed:

    sl_free(out);

    return SL_CONF_ERROR;
}


/* the next part of the file into the conf buffer; SL_DONE at its end */

static sl_int_t
sl_lua_block_more(sl_conf_t *cf)
{
    ssize_t          n;
    sl_buf_t        *b;
    sl_conf_file_t  *file;

    file = cf->conf_file;
    b = file->buffer;

    if (file->file.fd == SL_INVALID_FILE) {
        return SL_DONE;
    }

    do {
        n = pread(file->file.fd, b->start, b->end - b->start, file->offset);
    } while (n == -1 && sl_errno == SL_EINTR);

    if (n == -1) {
        sl_conf_log_error(SL_LOG_EMERG, cf, sl_errno, "pread() \"%.*s\" failed",
                          SL_STR_ARG(&file->file.name));
        return SL_ERROR;
    }

    if (n == 0) {
        return SL_DONE;
    }

    file->offset += n;
    b->pos = b->start;
    b->last = b->start + n;

    return SL_OK;
}


/* ";;" in lua_package_path stands for LuaJIT's default path */

static sl_int_t
sl_lua_set_package_path(sl_lua_main_conf_t *lmcf)
{
    lua_State  *L;

    L = lmcf->vm;

    lua_getglobal(L, "package");
    lua_getglobal(L, "string");
    lua_getfield(L, -1, "gsub");
    lua_pushlstring(L, (char *) lmcf->package_path.data,
                    lmcf->package_path.len);
    lua_pushliteral(L, ";;");
    lua_getfield(L, -5, "path");
    lua_pushliteral(L, ";");
    lua_concat(L, 2);
    lua_pushliteral(L, ";");
    lua_insert(L, -2);
    lua_concat(L, 2);
    lua_call(L, 3, 1);
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);

    return SL_OK;
}


static void
sl_lua_sandbox(lua_State *L)
{
    static const char  *os_gone[] = {
        "execute", "exit", "remove", "rename", "tmpname", NULL
    };

    const char  **name;

    lua_pushnil(L);
    lua_setglobal(L, "io");

    lua_getglobal(L, "os");
    for (name = os_gone; *name; name++) {
        lua_pushnil(L);
        lua_setfield(L, -2, *name);
    }
    lua_pop(L, 1);

    lua_getglobal(L, "debug");
    if (lua_istable(L, -1)) {
        lua_pushcfunction(L, sl_lua_forbidden_api);
        lua_setfield(L, -2, "sethook");
    }
    lua_pop(L, 1);

    lua_getglobal(L, "jit");
    if (lua_istable(L, -1)) {
        lua_pushcfunction(L, sl_lua_forbidden_api);
        lua_setfield(L, -2, "on");
        lua_pushcfunction(L, sl_lua_forbidden_api);
        lua_setfield(L, -2, "off");
        lua_pushcfunction(L, sl_lua_forbidden_api);
        lua_setfield(L, -2, "flush");
    }
    lua_pop(L, 1);

    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_pushnil(L);
    lua_setfield(L, -2, "io");
    lua_pushnil(L);
    lua_setfield(L, -2, "ffi");
    lua_pop(L, 1);
    lua_getfield(L, -1, "preload");
    lua_pushnil(L);
    lua_setfield(L, -2, "ffi");
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_setfield(L, -2, "loadlib");

    /* require finds preloaded and Lua modules, no C ones */
    lua_getfield(L, -1, "loaders");
    lua_createtable(L, 2, 0);
    lua_rawgeti(L, -2, 1);
    lua_rawseti(L, -2, 1);
    lua_rawgeti(L, -2, 2);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -3, "loaders");
    lua_pop(L, 1);
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    lua_pop(L, 1);
}


static int
sl_lua_forbidden_api(lua_State *L)
{
    return luaL_error(L, "not available in sluice's Lua sandbox");
}


void
sl_lua_push_chunk(lua_State *L, sl_lua_chunk_t *chunk)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, chunk->ref);
}


sl_int_t
sl_lua_call(sl_lua_main_conf_t *lmcf, int nargs, int nresults,
    sl_log_t *log, u_char *err, size_t *err_len)
{
    return sl_lua_call_budget(lmcf, nargs, nresults, lmcf->max_run_time,
                              log, err, err_len);
}


/*
 * The function and its nargs arguments are on the stack.  SL_OK with
 * nresults results pushed, SL_DONE when sl.exit() ended it (nothing
 * pushed), or SL_ERROR (nothing pushed) after logging the error with
 * its traceback; the message itself, without the traceback, goes into
 * err (at most *err_len bytes, *err_len set to its length).
 */

static sl_int_t
sl_lua_call_budget(sl_lua_main_conf_t *lmcf, int nargs, int nresults,
    sl_msec_t budget, sl_log_t *log, u_char *err, size_t *err_len)
{
    int          base, rc;
    size_t       len;
    u_char      *nl;
    sl_log_t    *prev_log;
    sl_uint_t    began;
    lua_State   *L;
    const char  *msg;

    L = lmcf->vm;

    base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, sl_lua_traceback);
    lua_insert(L, base);

    prev_log = sl_lua_log;
    sl_lua_log = log;

    began = 0;

    if (budget && sl_lua_budget == 0) {
        sl_lua_budget = budget;
        lua_sethook(L, sl_lua_hook, LUA_MASKCOUNT, SL_LUA_HOOK_COUNT);
        began = 1;
    }

    /* set for a batch or now, the hook counts this call afresh */
    sl_lua_start = 0;
    sl_lua_expired = 0;

    rc = lua_pcall(L, nargs, nresults, base);

    sl_lua_budget_end(lmcf, began);
    sl_lua_log = prev_log;

    lua_remove(L, base);

    if (rc == 0) {
        return SL_OK;
    }

    if (lua_touserdata(L, -1) == &sl_lua_exit_marker) {
        lua_pop(L, 1);
        return SL_DONE;
    }

    msg = lua_tolstring(L, -1, &len);
    if (msg == NULL) {
        msg = "(error object is not a string)";
        len = sl_strlen(msg);
    }

    sl_log_error(SL_LOG_ERR, log, 0, "lua: %*s", (int) len, msg);

    if (err && err_len) {
        nl = (u_char *) memchr(msg, '\n', len);
        if (nl) {
            len = nl - (u_char *) msg;
        }

        if (len > *err_len) {
            len = *err_len;
        }

        sl_memcpy(err, msg, len);
        *err_len = len;
    }

    lua_pop(L, 1);

    return SL_ERROR;
}


sl_uint_t
sl_lua_budget_begin(sl_lua_main_conf_t *lmcf)
{
    if (lmcf->max_run_time == 0 || sl_lua_budget) {
        return 0;
    }

    sl_lua_budget = lmcf->max_run_time;
    lua_sethook(lmcf->vm, sl_lua_hook, LUA_MASKCOUNT, SL_LUA_HOOK_COUNT);

    return 1;
}


void
sl_lua_budget_end(sl_lua_main_conf_t *lmcf, sl_uint_t began)
{
    if (began) {
        sl_lua_budget = 0;
        lua_sethook(lmcf->vm, NULL, 0, 0);
    }
}


/*
 * CPU time, not the wall clock: a worker preempted on a busy machine
 * must not fail a script that did nothing wrong.
 */

static uint64_t
sl_lua_cpu_ns(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);

    return (uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec;
}


static void
sl_lua_hook(lua_State *L, lua_Debug *ar)
{
    uint64_t   now;
    lua_Debug  where;

    if (sl_lua_budget == 0) {
        return;
    }

    if (!sl_lua_expired) {
        now = sl_lua_cpu_ns();

        if (sl_lua_start == 0) {
            /* the call's first SL_LUA_HOOK_COUNT instructions are free */
            sl_lua_start = now;
            return;
        }

        if (now - sl_lua_start <= (uint64_t) sl_lua_budget * 1000000) {
            return;
        }

        sl_lua_expired = 1;
    }

    /* level 0 is the function running when the hook fired */

    if (lua_getstack(L, 0, &where) && lua_getinfo(L, "Sl", &where)
        && where.currentline > 0)
    {
        lua_pushfstring(L, "%s:%d: ", where.short_src, where.currentline);

    } else {
        lua_pushliteral(L, "");
    }

    lua_pushfstring(L, "lua_max_run_time (%dms) exceeded",
                    (int) sl_lua_budget);
    lua_concat(L, 2);
    lua_error(L);
}


static int
sl_lua_traceback(lua_State *L)
{
    if (lua_touserdata(L, 1) == &sl_lua_exit_marker) {
        return 1;
    }

    if (!lua_isstring(L, 1)) {
        lua_pushliteral(L, "(error object is not a string)");
        lua_replace(L, 1);
    }

    luaL_traceback(L, L, lua_tostring(L, 1), 1);

    return 1;
}


/* the protocol-independent part of the sl table */

static void
sl_lua_api(lua_State *L, sl_lua_main_conf_t *lmcf)
{
    static const struct {
        const char  *name;
        sl_uint_t    level;
    } levels[] = {
        { "STDERR", SL_LOG_STDERR }, { "EMERG", SL_LOG_EMERG },
        { "ALERT", SL_LOG_ALERT }, { "CRIT", SL_LOG_CRIT },
        { "ERR", SL_LOG_ERR }, { "WARN", SL_LOG_WARN },
        { "NOTICE", SL_LOG_NOTICE }, { "INFO", SL_LOG_INFO },
        { "DEBUG", SL_LOG_DEBUG }
    };

    sl_uint_t  i;

    lua_createtable(L, 0, 32);

    for (i = 0; i < sl_nelems(levels); i++) {
        lua_pushinteger(L, (lua_Integer) levels[i].level);
        lua_setfield(L, -2, levels[i].name);
    }

    lua_pushcfunction(L, sl_lua_log_api);
    lua_setfield(L, -2, "log");

    lua_pushcfunction(L, sl_lua_now_api);
    lua_setfield(L, -2, "now");

    lua_pushcfunction(L, sl_lua_worker_id_api);
    lua_setfield(L, -2, "worker_id");

    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, sl_lua_timer_at_api);
    lua_setfield(L, -2, "at");
    lua_setfield(L, -2, "timer");

    lua_newtable(L);
    lua_setfield(L, -2, "shared");

    lua_setglobal(L, "sl");

    lua_pushcfunction(L, sl_lua_print_api);
    lua_setglobal(L, "print");

    /* a script that ran out of time cannot catch that and go on */

    lua_pushcfunction(L, sl_lua_pcall_api);
    lua_setglobal(L, "pcall");
    lua_pushcfunction(L, sl_lua_xpcall_api);
    lua_setglobal(L, "xpcall");

    lua_getglobal(L, "coroutine");
    lua_getfield(L, -1, "resume");
    lua_pushcclosure(L, sl_lua_resume_api, 1);
    lua_setfield(L, -2, "resume");
    lua_pop(L, 1);

    sl_lua_produce_api(L);
}


static int
sl_lua_pcall_api(lua_State *L)
{
    int  rc;

    luaL_checkany(L, 1);

    rc = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);

    if (rc != 0 && sl_lua_expired) {
        return lua_error(L);
    }

    lua_pushboolean(L, rc == 0);
    lua_insert(L, 1);

    return lua_gettop(L);
}


/* xpcall(f, handler, ...) */

static int
sl_lua_xpcall_api(lua_State *L)
{
    int  rc, n;

    luaL_checkany(L, 2);

    n = lua_gettop(L);

    /* handler, f, args */
    lua_pushvalue(L, 2);
    lua_insert(L, 1);
    lua_remove(L, 3);

    rc = lua_pcall(L, n - 2, LUA_MULTRET, 1);

    if (rc != 0 && sl_lua_expired) {
        return lua_error(L);
    }

    lua_pushboolean(L, rc == 0);
    lua_replace(L, 1);

    return lua_gettop(L);
}


static int
sl_lua_resume_api(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);

    if (sl_lua_expired && lua_isboolean(L, 1) && !lua_toboolean(L, 1)) {
        lua_settop(L, 2);
        return lua_error(L);
    }

    return lua_gettop(L);
}


static int
sl_lua_log_api(lua_State *L)
{
    lua_Integer  level;

    level = luaL_checkinteger(L, 1);

    if (level < SL_LOG_STDERR || level > SL_LOG_DEBUG) {
        return luaL_argerror(L, 1, "bad log level");
    }

    sl_lua_log_args(L, (sl_uint_t) level, 2);

    return 0;
}


static int
sl_lua_print_api(lua_State *L)
{
    sl_lua_log_args(L, SL_LOG_NOTICE, 1);

    return 0;
}


/* "[lua] file:line: " and the arguments from first on, as tostring() */

static void
sl_lua_log_args(lua_State *L, sl_uint_t level, int first)
{
    int         i, n;
    size_t      len;
    sl_log_t   *log;
    lua_Debug   ar;
    luaL_Buffer buf;

    log = sl_lua_log;

    if (log == NULL || log->log_level < level) {
        return;
    }

    n = lua_gettop(L);

    luaL_buffinit(L, &buf);

    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar)
        && ar.currentline > 0)
    {
        lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
        luaL_addvalue(&buf);
    }

    lua_getglobal(L, "tostring");

    for (i = first; i <= n; i++) {
        lua_pushvalue(L, -1);
        lua_pushvalue(L, i);
        lua_call(L, 1, 1);
        luaL_addvalue(&buf);
    }

    lua_pop(L, 1);
    luaL_pushresult(&buf);

    sl_log_error_core(level, log, 0, "[lua] %s", lua_tolstring(L, -1, &len));

    lua_pop(L, 1);
}


static int
sl_lua_now_api(lua_State *L)
{
    lua_pushnumber(L, (lua_Number) sl_realtime_msec / 1000.0);

    return 1;
}


static int
sl_lua_worker_id_api(lua_State *L)
{
    if (sl_process != SL_PROCESS_WORKER) {
        lua_pushnil(L);
        return 1;
    }

    lua_pushinteger(L, (lua_Integer) sl_worker);

    return 1;
}


/* sl.timer.at(delay, fn, ...): fn(...) after delay seconds, once */

static int
sl_lua_timer_at_api(lua_State *L)
{
    int                  i, n;
    lua_Number           delay;
    sl_lua_timer_t      *t;
    sl_lua_main_conf_t  *lmcf;

    delay = luaL_checknumber(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);

    if (delay < 0 || delay > 86400 * 365) {
        return luaL_argerror(L, 1, "bad delay");
    }

    if (sl_lua_in_init) {
        return luaL_error(L, "sl.timer.at: no timers in init_by_lua, "
                             "use init_worker_by_lua");
    }

    lmcf = sl_lua_main_conf();
    if (lmcf == NULL) {
        return luaL_error(L, "sl.timer.at: no event loop here");
    }

    if (sl_lua_ntimers >= SL_LUA_MAX_TIMERS) {
        lua_pushnil(L);
        lua_pushliteral(L, "too many pending timers");
        return 2;
    }

    t = sl_calloc(sizeof(sl_lua_timer_t), lmcf->log);
    if (t == NULL) {
        return luaL_error(L, "sl.timer.at: out of memory");
    }

    n = lua_gettop(L);

    lua_createtable(L, n, 1);
    for (i = 2; i <= n; i++) {
        lua_pushvalue(L, i);
        lua_rawseti(L, -2, i - 1);
    }

    lua_pushinteger(L, n - 1);
    lua_setfield(L, -2, "n");

    t->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    t->lmcf = lmcf;
    t->ev.handler = sl_lua_timer_handler;
    t->ev.data = t;
    t->ev.log = lmcf->log;
    t->ev.cancelable = 1;

    sl_add_timer(&t->ev, (sl_msec_t) (delay * 1000));

    sl_lua_ntimers++;

    lua_pushboolean(L, 1);

    return 1;
}


static void
sl_lua_timer_handler(sl_event_t *ev)
{
    int                  i, n;
    lua_State           *L;
    sl_lua_timer_t      *t;
    sl_lua_main_conf_t  *lmcf;

    t = ev->data;
    lmcf = t->lmcf;
    L = lmcf->vm;

    sl_lua_ntimers--;

    lua_rawgeti(L, LUA_REGISTRYINDEX, t->ref);
    luaL_unref(L, LUA_REGISTRYINDEX, t->ref);

    lua_getfield(L, -1, "n");
    n = (int) lua_tointeger(L, -1);
    lua_pop(L, 1);

    for (i = 1; i <= n; i++) {
        lua_rawgeti(L, -i, i);
    }

    lua_remove(L, -(n + 1));

    (void) sl_lua_call(lmcf, n - 1, 0, ev->log, NULL, NULL);

    sl_free(t);
}
