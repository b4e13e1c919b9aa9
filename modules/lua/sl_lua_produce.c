
/*
 * The produce phase in Lua, for every protocol: a filter at
 * SL_BROKER_FILTER_TRANSFORM runs the topic's chunk once per record with
 *
 *     local rec = ...   -- {topic, partition, offset_delta, timestamp,
 *                       --  key, value, headers = {{key=, value=}, ...}}
 *
 * The chunk returns the record, changed or not, or nil to drop it; an
 * error rejects the partition's whole batch (SL_BROKER_ERR_POLICY, Kafka
 * POLICY_VIOLATION) with the error text.  The batch is rewritten only
 * when a record changed or went: an identity filter stores the batch as
 * it came.  Each record's call has lua_max_run_time.
 *
 * The record table is filled lazily: a field is read from the batch the
 * first time the chunk reads it (a metatable's __index), so that a filter
 * pays only for what it looks at, and only the fields touched are
 * compared afterwards.  The fields can be read while the call runs; a
 * record kept beyond it keeps only the fields that were read.
 *
 * sl.produce(topic, rec) appends a record to another topic: the
 * partition is rec.partition, else Kafka's murmur2 of the key, else
 * round robin.  Called from a filter, the records are appended once the
 * batch passed (and not at all when it is rejected); from an HTTP
 * handler or a timer, at once.  They do not pass through the target
 * topic's own filters.
 *
 * Which topic has which chunk comes from the protocol module's topic
 * configuration (sl_lua_kafka.c) through sl_lua_main_conf_t.produce.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_batch.h>
#include <sl_broker_filter.h>
#include <sl_lua.h>




/* the fields of a record table, as bits of sl_lua_rec_t's masks */
#define SL_LUA_REC_TOPIC           0
#define SL_LUA_REC_PARTITION       1
#define SL_LUA_REC_OFFSET_DELTA    2
#define SL_LUA_REC_TIMESTAMP       3
#define SL_LUA_REC_KEY             4
#define SL_LUA_REC_VALUE           5
#define SL_LUA_REC_HEADERS         6


/* the record whose table the chunk holds now */
typedef struct {
    const void                *table;    /* NULL: none */
    sl_broker_batch_record_t  *record;
    sl_str_t                   topic;
    int32_t                    partition;
    sl_uint_t                  fetched;  /* read from the batch */
    sl_uint_t                  written;  /* assigned while absent */
} sl_lua_rec_t;




static sl_int_t sl_lua_produce_filter(sl_broker_produce_t *pr);
static sl_lua_produce_t *sl_lua_produce_find(sl_lua_main_conf_t *lmcf,
    sl_str_t *topic);
static sl_int_t sl_lua_produce_run(sl_lua_main_conf_t *lmcf,
    sl_lua_produce_t *lp, sl_broker_produce_t *pr,
    sl_broker_batch_reader_t *rd, sl_broker_batch_writer_t *w,
    sl_uint_t *changed);
static sl_int_t sl_lua_produce_rewrite(sl_broker_produce_t *pr,
    sl_broker_batch_writer_t *w, sl_int_t n);
static sl_int_t sl_lua_rec_field(lua_State *L, int idx);
static int sl_lua_rec_index(lua_State *L);
static int sl_lua_rec_newindex(lua_State *L);
static void sl_lua_rec_push(lua_State *L, sl_uint_t field);
static void sl_lua_push_bytes(lua_State *L, sl_broker_bytes_t *b);
static sl_uint_t sl_lua_record_same(lua_State *L, int idx,
    sl_broker_batch_record_t *r);
static sl_uint_t sl_lua_bytes_same(lua_State *L, int idx, const char *name,
    sl_broker_bytes_t *b);
static const char *sl_lua_to_record(lua_State *L, int idx,
    sl_broker_batch_record_t *r, sl_pool_t *pool);
static const char *sl_lua_to_bytes(lua_State *L, int idx, const char *name,
    sl_broker_bytes_t *b);
static void sl_lua_produce_error(sl_broker_produce_t *pr, u_char *text,
    size_t len);

static int sl_lua_produce_api_produce(lua_State *L);
static uint32_t sl_lua_murmur2(u_char *data, size_t len);


static const char  *sl_lua_rec_names[] = {
    "topic", "partition", "offset_delta", "timestamp", "key", "value",
    "headers"
};


/* the filter's context while a batch runs, for sl.produce() */
static sl_lua_produce_ctx_t  *sl_lua_produce_current;
static uint32_t               sl_lua_round_robin;
static sl_lua_rec_t           sl_lua_rec;
static int                    sl_lua_rec_metatable = LUA_NOREF;


void
sl_lua_produce_api(lua_State *L)
{
    lua_getglobal(L, "sl");
    lua_pushcfunction(L, sl_lua_produce_api_produce);
    lua_setfield(L, -2, "produce");
    lua_pop(L, 1);

    /* one metatable for every VM: refs are per VM, the same number */

    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, sl_lua_rec_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, sl_lua_rec_newindex);
    lua_setfield(L, -2, "__newindex");
    sl_lua_rec_metatable = luaL_ref(L, LUA_REGISTRYINDEX);
}


/* at the end of the configuration: the filter, if any topic has Lua */

sl_int_t
sl_lua_produce_init(sl_cycle_t *cycle, sl_lua_main_conf_t *lmcf)
{
    Dl_info  info;

    if (lmcf->produce.nelts == 0) {
        return SL_OK;
    }

    /*
     * The filter chain cannot forget a filter: loaded by load_module,
     * this code must stay mapped even if a reload drops the module.
     */

    if (dladdr((void *) &sl_lua_module, &info) && info.dli_fname) {
        (void) dlopen(info.dli_fname, RTLD_LAZY|RTLD_NOLOAD|RTLD_NODELETE);
    }

    if (sl_broker_produce_filter_add(SL_BROKER_FILTER_TRANSFORM,
                                     sl_lua_produce_filter)
        != SL_OK)
    {
        sl_log_error(SL_LOG_EMERG, cycle->log, 0,
                     "lua: too many produce filters");
        return SL_ERROR;
    }

    return SL_OK;
}


static sl_int_t
sl_lua_produce_filter(sl_broker_produce_t *pr)
{
    sl_int_t                   rc;
    sl_str_t                   out;
    sl_uint_t                  changed;
    sl_lua_produce_t          *lp;
    sl_lua_main_conf_t        *lmcf;
    sl_lua_produce_ctx_t       ctx, *prev;
    sl_broker_batch_reader_t   rd;
    sl_broker_batch_writer_t   w;

    lmcf = sl_lua_main_conf();
    if (lmcf == NULL) {
        return SL_BROKER_OK;
    }

    lp = sl_lua_produce_find(lmcf, &pr->topic->name);
    if (lp == NULL) {
        return SL_BROKER_OK;
    }

    rc = sl_broker_batch_open(&rd, pr->batch, pr->len, 0, 0, pr->pool,
                              pr->log);
    if (rc != SL_BROKER_OK) {
        if (rd.error) {
            sl_lua_produce_error(pr, (u_char *) rd.error,
                                 sl_strlen(rd.error));
        }

        return rc;
    }

    if (rd.batch.attributes & SL_BROKER_BATCH_CONTROL) {
        /* transaction markers are the broker's, not the scripts' */
        return SL_BROKER_OK;
    }

    sl_memzero(&ctx, sizeof(sl_lua_produce_ctx_t));
    ctx.pool = pr->pool;
    ctx.log = pr->log;

    prev = sl_lua_produce_ctx(&ctx);

    changed = 0;
    rc = sl_lua_produce_run(lmcf, lp, pr, &rd, &w, &changed);

    (void) sl_lua_produce_ctx(prev);

    if (rc != SL_BROKER_OK) {
        return rc;
    }

    if (changed) {
        rc = sl_broker_batch_finish(&w, &out);
        if (rc != SL_BROKER_OK) {
            return rc;
        }

        pr->batch = out.data;
        pr->len = out.len;
    }

    if (ctx.routes.nelts) {
        (void) sl_lua_routes_append(&ctx, 0);
    }

    return SL_BROKER_OK;
}


static sl_lua_produce_t *
sl_lua_produce_find(sl_lua_main_conf_t *lmcf, sl_str_t *topic)
{
    sl_uint_t          i;
    sl_lua_produce_t  *lp;

    lp = lmcf->produce.elts;

    for (i = 0; i < lmcf->produce.nelts; i++) {
        if (lp[i].topic.len == topic->len
            && sl_memcmp(lp[i].topic.data, topic->data, topic->len) == 0)
        {
            return &lp[i];
        }
    }

    return NULL;
}


/*
 * Every record through the chunk.  The writer starts at the first record
 * that changes or goes, with the unchanged ones before it.
 */

static sl_int_t
sl_lua_produce_run(sl_lua_main_conf_t *lmcf, sl_lua_produce_t *lp,
    sl_broker_produce_t *pr, sl_broker_batch_reader_t *rd,
    sl_broker_batch_writer_t *w, sl_uint_t *changed)
{
    int                        top, rec, res;
    u_char                     err[SL_LUA_MAX_ERROR];
    size_t                     len;
    sl_int_t                   rc, n;
    sl_uint_t                  began, keep;
    lua_State                 *L;
    const char                *msg;
    sl_broker_batch_record_t   r, nr;

    L = lmcf->vm;
    top = lua_gettop(L);

    began = sl_lua_budget_begin(lmcf);

    n = 0;
    rc = SL_BROKER_OK;

    for ( ;; ) {
        rc = sl_broker_batch_next(rd, &r);

        if (rc == SL_DONE) {
            rc = SL_BROKER_OK;
            break;
        }

        if (rc != SL_OK) {
            msg = rd->error ? rd->error : "a record does not parse";
            sl_lua_produce_error(pr, (u_char *) msg, sl_strlen(msg));
            rc = SL_BROKER_ERR_CORRUPT;
            break;
        }

        sl_lua_record_push(L, &r, &pr->topic->name, pr->partition->id);
        rec = lua_gettop(L);

        sl_lua_push_chunk(L, &lp->chunk);
        lua_pushvalue(L, rec);

        len = sizeof(err);
        rc = sl_lua_call(lmcf, 1, 1, pr->log, err, &len);

        if (rc != SL_OK) {
            if (rc == SL_DONE) {
                len = sizeof("sl.exit() in a produce filter") - 1;
                sl_memcpy(err, "sl.exit() in a produce filter", len);
            }

            sl_lua_produce_error(pr, err, len);
            rc = SL_BROKER_ERR_POLICY;
            break;
        }

        res = lua_gettop(L);
        keep = 1;

        if (lua_isnil(L, res)
            || (lua_isboolean(L, res) && !lua_toboolean(L, res)))
        {
            keep = 0;

        } else if (!lua_istable(L, res)) {
            msg = "produce_by_lua must return the record or nil";
            sl_log_error(SL_LOG_ERR, pr->log, 0, "lua: %s: %s",
                         (char *) lp->chunk.name.data, msg);
            sl_lua_produce_error(pr, (u_char *) msg, sl_strlen(msg));
            rc = SL_BROKER_ERR_POLICY;
            break;
        }

        if (!*changed
            && (!keep || !lua_rawequal(L, res, rec)
                || !sl_lua_record_same(L, res, &r)))
        {
            rc = sl_lua_produce_rewrite(pr, w, n);
            if (rc != SL_BROKER_OK) {
                break;
            }

            *changed = 1;
        }

        if (*changed && keep) {

            if (lua_rawequal(L, res, rec) && sl_lua_record_same(L, res, &r)) {
                rc = sl_broker_batch_add(w, &r);

            } else {
                nr = r;
                msg = sl_lua_to_record(L, res, &nr, pr->pool);

                if (msg) {
                    sl_log_error(SL_LOG_ERR, pr->log, 0, "lua: %s: %s",
                                 (char *) lp->chunk.name.data, msg);
                    sl_lua_produce_error(pr, (u_char *) msg,
                                         sl_strlen(msg));
                    rc = SL_BROKER_ERR_POLICY;
                    break;
                }

                rc = sl_broker_batch_add(w, &nr);
            }

            if (rc != SL_BROKER_OK) {
                break;
            }
        }

        sl_lua_record_done();
        lua_settop(L, top);
        n++;
    }

    sl_lua_record_done();

    sl_lua_budget_end(lmcf, began);

    lua_settop(L, top);

    return rc;
}


/* a writer with the batch's first n records, which did not change */

static sl_int_t
sl_lua_produce_rewrite(sl_broker_produce_t *pr, sl_broker_batch_writer_t *w,
    sl_int_t n)
{
    sl_int_t                   i, rc;
    sl_broker_batch_reader_t   rd;
    sl_broker_batch_record_t   r;

    rc = sl_broker_batch_open(&rd, pr->batch, pr->len, 0, 0, pr->pool,
                              pr->log);
    if (rc != SL_BROKER_OK) {
        return rc;
    }

    sl_broker_batch_writer_init(w, pr->pool, pr->log);
    sl_broker_batch_writer_from(w, &rd.batch);

    for (i = 0; i < n; i++) {
        if (sl_broker_batch_next(&rd, &r) != SL_OK) {
            return SL_BROKER_ERR_CORRUPT;
        }

        rc = sl_broker_batch_add(w, &r);
        if (rc != SL_BROKER_OK) {
            return rc;
        }
    }

    return SL_BROKER_OK;
}


/* pushes the (lazy) table of record r, the current one from now on */

void
sl_lua_record_push(lua_State *L, sl_broker_batch_record_t *r,
    sl_str_t *topic, int32_t partition)
{
    lua_createtable(L, 0, 4);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sl_lua_rec_metatable);
    lua_setmetatable(L, -2);

    sl_lua_rec.table = lua_topointer(L, -1);
    sl_lua_rec.record = r;
    sl_lua_rec.topic = *topic;
    sl_lua_rec.partition = partition;
    sl_lua_rec.fetched = 0;
    sl_lua_rec.written = 0;
}


void
sl_lua_record_done(void)
{
    sl_lua_rec.table = NULL;
}


/* the field a key names, or -1 */

static sl_int_t
sl_lua_rec_field(lua_State *L, int idx)
{
    size_t       len;
    sl_uint_t    i;
    const char  *k;

    if (lua_type(L, idx) != LUA_TSTRING) {
        return -1;
    }

    k = lua_tolstring(L, idx, &len);

    for (i = 0; i < sl_nelems(sl_lua_rec_names); i++) {
        if (sl_strlen(sl_lua_rec_names[i]) == len
            && sl_memcmp(sl_lua_rec_names[i], k, len) == 0)
        {
            return (sl_int_t) i;
        }
    }

    return -1;
}


/* rec.FIELD, absent from the table: read from the batch, once */

static int
sl_lua_rec_index(lua_State *L)
{
    sl_int_t  f;

    f = sl_lua_rec_field(L, 2);

    if (f < 0 || lua_topointer(L, 1) != sl_lua_rec.table
        || ((sl_lua_rec.fetched | sl_lua_rec.written) & (1 << f)))
    {
        /* not a field, a record gone, or a field set to nil */
        lua_pushnil(L);
        return 1;
    }

    sl_lua_rec_push(L, (sl_uint_t) f);

    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);

    sl_lua_rec.fetched |= 1 << f;

    return 1;
}


/* rec.FIELD = v, absent from the table: noted, so that nil is seen */

static int
sl_lua_rec_newindex(lua_State *L)
{
    sl_int_t  f;

    f = sl_lua_rec_field(L, 2);

    if (f >= 0 && lua_topointer(L, 1) == sl_lua_rec.table) {
        sl_lua_rec.written |= 1 << f;
    }

    lua_rawset(L, 1);

    return 0;
}


static void
sl_lua_rec_push(lua_State *L, sl_uint_t field)
{
    sl_uint_t                  i;
    sl_broker_batch_record_t  *r;

    r = sl_lua_rec.record;

    switch (field) {

    case SL_LUA_REC_TOPIC:
        lua_pushlstring(L, (char *) sl_lua_rec.topic.data,
                        sl_lua_rec.topic.len);
        break;

    case SL_LUA_REC_PARTITION:
        lua_pushinteger(L, sl_lua_rec.partition);
        break;

    case SL_LUA_REC_OFFSET_DELTA:
        lua_pushinteger(L, r->offset_delta);
        break;

    case SL_LUA_REC_TIMESTAMP:
        lua_pushnumber(L, (lua_Number) r->timestamp);
        break;

    case SL_LUA_REC_KEY:
        sl_lua_push_bytes(L, &r->key);
        break;

    case SL_LUA_REC_VALUE:
        sl_lua_push_bytes(L, &r->value);
        break;

    default: /* SL_LUA_REC_HEADERS */
        lua_createtable(L, (int) r->nheaders, 0);

        for (i = 0; i < r->nheaders; i++) {
            lua_createtable(L, 0, 2);
            sl_lua_push_bytes(L, &r->headers[i].key);
            lua_setfield(L, -2, "key");
            sl_lua_push_bytes(L, &r->headers[i].value);
            lua_setfield(L, -2, "value");
            lua_rawseti(L, -2, (int) i + 1);
        }

        break;
    }
}


static void
sl_lua_push_bytes(lua_State *L, sl_broker_bytes_t *b)
{
    if (b->len < 0) {
        lua_pushnil(L);
        return;
    }

    lua_pushlstring(L, (char *) b->data, b->len);
}


/*
 * Whether the record table at idx (the current one) still says what r
 * says: only the fields the chunk touched can differ, and those are in
 * the table itself (an absent touched field was set to nil).
 */

static sl_uint_t
sl_lua_record_same(lua_State *L, int idx, sl_broker_batch_record_t *r)
{
    int        h;
    sl_uint_t  i, same, touched;

    touched = sl_lua_rec.fetched | sl_lua_rec.written;

    if ((touched & (1 << SL_LUA_REC_KEY))
        && !sl_lua_bytes_same(L, idx, "key", &r->key))
    {
        return 0;
    }

    if ((touched & (1 << SL_LUA_REC_VALUE))
        && !sl_lua_bytes_same(L, idx, "value", &r->value))
    {
        return 0;
    }

    if (touched & (1 << SL_LUA_REC_TIMESTAMP)) {
        lua_pushliteral(L, "timestamp");
        lua_rawget(L, idx);
        same = lua_isnumber(L, -1)
               && lua_tonumber(L, -1) == (lua_Number) r->timestamp;
        lua_pop(L, 1);

        if (!same) {
            return 0;
        }
    }

    if (!(touched & (1 << SL_LUA_REC_HEADERS))) {
        return 1;
    }

    lua_pushliteral(L, "headers");
    lua_rawget(L, idx);
    h = lua_gettop(L);

    if (lua_isnil(L, h)) {
        lua_pop(L, 1);
        return r->nheaders == 0;
    }

    if (!lua_istable(L, h) || lua_objlen(L, h) != r->nheaders) {
        lua_pop(L, 1);
        return 0;
    }

    for (i = 0; i < r->nheaders; i++) {
        lua_rawgeti(L, h, (int) i + 1);

        same = lua_istable(L, -1)
               && sl_lua_bytes_same(L, h + 1, "key", &r->headers[i].key)
               && sl_lua_bytes_same(L, h + 1, "value",
                                    &r->headers[i].value);

        lua_pop(L, 1);

        if (!same) {
            lua_pop(L, 1);
            return 0;
        }
    }

    lua_pop(L, 1);

    return 1;
}


static sl_uint_t
sl_lua_bytes_same(lua_State *L, int idx, const char *name,
    sl_broker_bytes_t *b)
{
    size_t       len;
    sl_uint_t    same;
    const char  *s;

    lua_pushstring(L, name);
    lua_rawget(L, idx);

    if (lua_isnil(L, -1)) {
        same = (b->len < 0);

    } else if (lua_type(L, -1) == LUA_TSTRING) {
        s = lua_tolstring(L, -1, &len);
        same = b->len >= 0 && (size_t) b->len == len
               && sl_memcmp(s, b->data, len) == 0;

    } else {
        same = 0;
    }

    lua_pop(L, 1);

    return same;
}


/*
 * The record the table at idx describes, into r (which holds the
 * original's values for what the table leaves out).  Of the current
 * record's table only the fields the chunk touched are read: the others
 * are r's already.  The bytes point into Lua strings the table keeps
 * alive.  NULL, or what is wrong.
 */

static const char *
sl_lua_to_record(lua_State *L, int idx, sl_broker_batch_record_t *r,
    sl_pool_t *pool)
{
    int                  h;
    size_t               n, i;
    sl_uint_t            fields;
    const char          *err;
    sl_broker_header_t  *hd;

    fields = (lua_topointer(L, idx) == sl_lua_rec.table)
             ? sl_lua_rec.fetched | sl_lua_rec.written
             : (sl_uint_t) -1;

    if (fields & (1 << SL_LUA_REC_KEY)) {
        err = sl_lua_to_bytes(L, idx, "key", &r->key);
        if (err) {
            return err;
        }
    }

    if (fields & (1 << SL_LUA_REC_VALUE)) {
        err = sl_lua_to_bytes(L, idx, "value", &r->value);
        if (err) {
            return err;
        }
    }

    if (!(fields & (1 << SL_LUA_REC_TIMESTAMP))) {
        goto headers;
    }

    lua_getfield(L, idx, "timestamp");

    if (lua_isnumber(L, -1)) {
        r->timestamp = (int64_t) lua_tonumber(L, -1);

    } else if (!lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return "rec.timestamp must be a number (milliseconds)";
    }

    lua_pop(L, 1);

headers:

    if (!(fields & (1 << SL_LUA_REC_HEADERS))) {
        return NULL;
    }

    lua_getfield(L, idx, "headers");
    h = lua_gettop(L);

    r->headers = NULL;
    r->nheaders = 0;

    if (lua_isnil(L, h)) {
        lua_pop(L, 1);
        return NULL;
    }

    if (!lua_istable(L, h)) {
        lua_pop(L, 1);
        return "rec.headers must be a list of {key = K, value = V}";
    }

    n = lua_objlen(L, h);

    if (n) {
        hd = sl_palloc(pool, n * sizeof(sl_broker_header_t));
        if (hd == NULL) {
            lua_pop(L, 1);
            return "out of memory";
        }

        for (i = 0; i < n; i++) {
            lua_rawgeti(L, h, (int) i + 1);

            if (!lua_istable(L, -1)) {
                lua_pop(L, 2);
                return "rec.headers must be a list of {key = K, value = V}";
            }

            err = sl_lua_to_bytes(L, h + 1, "key", &hd[i].key);
            if (err == NULL) {
                err = sl_lua_to_bytes(L, h + 1, "value", &hd[i].value);
            }

            lua_pop(L, 1);

            if (err || hd[i].key.len < 0) {
                lua_pop(L, 1);
                return err ? err : "a header needs a key";
            }
        }

        r->headers = hd;
        r->nheaders = n;
    }

    lua_pop(L, 1);

    return NULL;
}


static const char *
sl_lua_to_bytes(lua_State *L, int idx, const char *name, sl_broker_bytes_t *b)
{
    size_t  len;

    lua_getfield(L, idx, name);

    if (lua_isnil(L, -1)) {
        b->data = NULL;
        b->len = -1;

    } else if (lua_isstring(L, -1)) {
        /* a number becomes a string in the table's stack copy only */
        b->data = (u_char *) lua_tolstring(L, -1, &len);

        if (len > INT32_MAX) {
            lua_pop(L, 1);
            return "a key or value is too long";
        }

        b->len = (int32_t) len;

        if (lua_type(L, -1) == LUA_TNUMBER) {
            /* the converted string lives on the stack: keep a copy */
            lua_pushvalue(L, -1);
            lua_setfield(L, idx, name);
        }

    } else {
        lua_pop(L, 1);
        return "keys, values and headers must be strings or nil";
    }

    lua_pop(L, 1);

    return NULL;
}


static void
sl_lua_produce_error(sl_broker_produce_t *pr, u_char *text, size_t len)
{
    pr->error.data = sl_pnalloc(pr->pool, len);
    if (pr->error.data == NULL) {
        pr->error.len = 0;
        return;
    }

    sl_memcpy(pr->error.data, text, len);
    pr->error.len = len;
}


/*
 * The records sl.produce() collected while a batch (or a stream's read)
 * ran, appended now; with flush, on disk when this returns.  SL_ERROR if
 * any partition failed (logged).
 */

sl_int_t
sl_lua_routes_append(sl_lua_produce_ctx_t *ctx, sl_uint_t flush)
{
    int64_t          base, append_time;
    sl_int_t         rc, failed;
    sl_str_t         out;
    sl_uint_t        i, appended;
    sl_lua_route_t  *rt;

    rt = ctx->routes.elts;
    appended = 0;
    failed = 0;

    for (i = 0; i < ctx->routes.nelts; i++) {

        rc = sl_broker_batch_finish(&rt[i].writer, &out);

        if (rc == SL_BROKER_OK && out.len) {
            rc = sl_broker_log_append(rt[i].partition, out.data, out.len,
                                      &base, &append_time, ctx->log);
        }

        if (rc == SL_BROKER_OK && out.len && flush) {
            rc = sl_broker_log_flush(rt[i].partition, ctx->log);
        }

        if (rc != SL_BROKER_OK) {
            sl_log_error(SL_LOG_ERR, ctx->log, 0,
                         "lua: records to \"%.*s\"-%d failed: error %d",
                         SL_STR_ARG(&rt[i].partition->topic->name),
                         (int) rt[i].partition->id, (int) rc);
            failed = 1;
            continue;
        }

        appended = 1;
    }

    ctx->routes.nelts = 0;

    if (appended) {
        sl_event_doorbell_ring();
    }

    return failed ? SL_ERROR : SL_OK;
}


sl_lua_produce_ctx_t *
sl_lua_produce_ctx(sl_lua_produce_ctx_t *ctx)
{
    sl_lua_produce_ctx_t  *prev;

    prev = sl_lua_produce_current;
    sl_lua_produce_current = ctx;

    return prev;
}


/* the table at idx as a record for one of the topic's partitions */

const char *
sl_lua_route(lua_State *L, int idx, sl_broker_topic_t *topic,
    sl_lua_produce_ctx_t *ctx)
{
    sl_int_t                   p;
    sl_uint_t                  i;
    const char                *err;
    sl_lua_route_t            *rt;
    sl_broker_partition_t     *part;
    sl_broker_batch_record_t   r;

    if (lua_topointer(L, idx) == sl_lua_rec.table) {
        /* the current record, with what the chunk changed */
        r = *sl_lua_rec.record;

    } else {
        sl_memzero(&r, sizeof(sl_broker_batch_record_t));
        r.timestamp = sl_realtime_msec;
    }

    err = sl_lua_to_record(L, idx, &r, ctx->pool);
    if (err) {
        return err;
    }

    /* the current record's partition is its input's, not a choice */

    lua_getfield(L, idx, "partition");

    if (lua_isnumber(L, -1) && lua_topointer(L, idx) != sl_lua_rec.table) {
        p = (sl_int_t) lua_tointeger(L, -1);

    } else if (r.key.len > 0) {
        p = (sl_int_t) ((sl_lua_murmur2(r.key.data, r.key.len) & 0x7fffffff)
                        % (uint32_t) topic->partitions_n);

    } else {
        p = (sl_int_t) (sl_lua_round_robin++
                        % (uint32_t) topic->partitions_n);
    }

    lua_pop(L, 1);

    part = sl_broker_partition(topic, p);
    if (part == NULL) {
        return "unknown partition";
    }

    if (ctx->routes.elts == NULL
        && sl_array_init(&ctx->routes, ctx->pool, 2, sizeof(sl_lua_route_t))
           != SL_OK)
    {
        return "out of memory";
    }

    rt = ctx->routes.elts;

    for (i = 0; i < ctx->routes.nelts; i++) {
        if (rt[i].partition == part) {
            break;
        }
    }

    if (i == ctx->routes.nelts) {
        rt = sl_array_push(&ctx->routes);
        if (rt == NULL) {
            return "out of memory";
        }

        rt->partition = part;
        sl_broker_batch_writer_init(&rt->writer, ctx->pool, ctx->log);

    } else {
        rt = &rt[i];
    }

    if (sl_broker_batch_add(&rt->writer, &r) != SL_BROKER_OK) {
        return "the record cannot be written (too large?)";
    }

    return NULL;
}


/*
 * sl.produce(topic, rec): true, or nil and why.  In a filter or a
 * stream the record waits for the batch; elsewhere it is appended now.
 */

static int
sl_lua_produce_api_produce(lua_State *L)
{
    size_t                  len;
    sl_int_t                rc;
    sl_str_t                name;
    const char             *err;
    sl_broker_topic_t      *topic;
    sl_lua_produce_ctx_t   *ctx, now;

    name.data = (u_char *) luaL_checklstring(L, 1, &len);
    name.len = len;
    luaL_checktype(L, 2, LUA_TTABLE);

    topic = sl_broker_topic_find(&name);
    if (topic == NULL || topic->partitions_n <= 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "unknown topic");
        return 2;
    }

    ctx = sl_lua_produce_current;

    if (ctx) {
        err = sl_lua_route(L, 2, topic, ctx);
        if (err) {
            return luaL_error(L, "sl.produce: %s", err);
        }

        lua_pushboolean(L, 1);
        return 1;
    }

    sl_memzero(&now, sizeof(sl_lua_produce_ctx_t));
    now.log = sl_lua_log;
    now.pool = sl_create_pool(4096, now.log);
    if (now.pool == NULL) {
        return luaL_error(L, "sl.produce: out of memory");
    }

    err = sl_lua_route(L, 2, topic, &now);
    rc = err ? SL_ERROR : sl_lua_routes_append(&now, 0);

    sl_destroy_pool(now.pool);

    if (err) {
        return luaL_error(L, "sl.produce: %s", err);
    }

    if (rc != SL_OK) {
        lua_pushnil(L);
        lua_pushliteral(L, "append failed");
        return 2;
    }

    lua_pushboolean(L, 1);

    return 1;
}


/* Kafka's default partitioner hashes keys with this murmur2 */

static uint32_t
sl_lua_murmur2(u_char *data, size_t len)
{
    uint32_t  h, k;

    const uint32_t  m = 0x5bd1e995;

    h = 0x9747b28c ^ (uint32_t) len;

    while (len >= 4) {
        k = (uint32_t) data[0] | (uint32_t) data[1] << 8
            | (uint32_t) data[2] << 16 | (uint32_t) data[3] << 24;

        k *= m;
        k ^= k >> 24;
        k *= m;

        h *= m;
        h ^= k;

        data += 4;
        len -= 4;
    }

    switch (len) {
    case 3:
        h ^= (uint32_t) data[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t) data[1] << 8;
        /* fall through */
    case 1:
        h ^= data[0];
        h *= m;
    }

    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;

    return h;
}
