
/*
 * Stream processors, Kafka Streams' job inside the broker:
 *
 *     stream upper {
 *         from    in;
 *         to      out;
 *         group   upper-stream;
 *         by_lua_block { local rec = ... rec.value = rec.value:upper()
 *                        return rec }             # or by_lua_file F;
 *     }
 *
 * Worker 0 (respawned into the same slot if it dies) reads each
 * partition of `from` after the offset `group` committed, whole batches
 * up to about SL_LUA_STREAM_MAX_RECORDS at a time so that the worker's
 * clients get their turn; calls the chunk per record exactly as a
 * produce filter (`local rec = ...`); and produces what it returns
 * (nothing for nil, one record for a table, several for several results
 * or a list of tables) to `to`, partitioned by key (Kafka's murmur2) or
 * round robin, or as a new table's `partition` says.  Once the output is
 * appended and flushed to disk, it commits the input offsets (a simple
 * consumer's commit, generation -1): a restart resumes after the last
 * commit, so no record is lost; records processed after it are produced
 * again (at least once).
 *
 * A record whose call fails (an error, lua_max_run_time) is logged and
 * skipped, so that one bad record cannot stop the stream.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_batch.h>
#include <sl_broker_group.h>
#include <sl_lua.h>


#define SL_LUA_STREAM_READ         (1024 * 1024)
#define SL_LUA_STREAM_MAX_RECORDS  1000
#define SL_LUA_STREAM_BUSY         1       /* ms till the next read */
#define SL_LUA_STREAM_IDLE         50


struct sl_lua_stream_s {
    sl_str_t                 name;
    sl_str_t                 from;
    sl_str_t                 to;
    sl_str_t                 group;
    sl_lua_chunk_t           chunk;

    sl_event_t               event;
    sl_lua_main_conf_t      *lmcf;
    unsigned                 warned:1;
};


static char *sl_lua_stream_handler(sl_conf_t *cf, sl_command_t *dummy,
    void *conf);
static void sl_lua_stream_tick(sl_event_t *ev);
static sl_int_t sl_lua_stream_partition(sl_lua_stream_t *st,
    sl_broker_partition_t *in, sl_broker_topic_t *out, sl_pool_t *pool,
    sl_uint_t *busy);
static sl_int_t sl_lua_stream_record(sl_lua_stream_t *st,
    sl_broker_batch_record_t *r, sl_broker_partition_t *in,
    sl_broker_topic_t *out, sl_lua_produce_ctx_t *ctx);


/* "stream NAME { ... }" */

char *
sl_lua_stream_block(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_lua_main_conf_t *lmcf = conf;

    char              *rv;
    sl_str_t          *value;
    sl_uint_t          i;
    sl_conf_t          save;
    sl_lua_stream_t   *st, **stp;

    value = cf->args->elts;

    stp = lmcf->streams.elts;

    for (i = 0; i < lmcf->streams.nelts; i++) {
        if (stp[i]->name.len == value[1].len
            && sl_memcmp(stp[i]->name.data, value[1].data, value[1].len)
               == 0)
        {
            return "is duplicate";
        }
    }

    st = sl_pcalloc(cf->pool, sizeof(sl_lua_stream_t));
    if (st == NULL) {
        return SL_CONF_ERROR;
    }

    st->name = value[1];
    st->chunk.ref = LUA_NOREF;
    st->lmcf = lmcf;

    stp = sl_array_push(&lmcf->streams);
    if (stp == NULL) {
        return SL_CONF_ERROR;
    }

    *stp = st;

    save = *cf;
    cf->handler = sl_lua_stream_handler;
    cf->handler_conf = st;

    rv = sl_conf_parse(cf, NULL);

    *cf = save;

    if (rv != SL_CONF_OK) {
        return rv;
    }

    if (st->from.data == NULL || st->to.data == NULL
        || st->group.data == NULL || st->chunk.ref == LUA_NOREF)
    {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "stream \"%.*s\" needs from, to, group and "
                          "by_lua_block or by_lua_file",
                          SL_STR_ARG(&st->name));
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}


static char *
sl_lua_stream_handler(sl_conf_t *cf, sl_command_t *dummy, void *conf)
{
    sl_lua_stream_t *st = conf;

    sl_str_t   *value, *field;
    sl_uint_t   block;

    value = cf->args->elts;

    /* the token that ended the directive: ';' or '{' */
    block = (cf->conf_file->buffer->pos[-1] == '{');

    if (sl_str_eq(&value[0], "by_lua_block")
        || sl_str_eq(&value[0], "by_lua_file"))
    {
        if (st->chunk.ref != LUA_NOREF) {
            return "has more than one by_lua";
        }

        if (value[0].len == sizeof("by_lua_block") - 1
            ? (!block || cf->args->nelts != 1)
            : (block || cf->args->nelts != 2))
        {
            return "by_lua_block { ... } or by_lua_file FILE; expected";
        }

        return sl_lua_conf_chunk(cf, &st->chunk, "stream_by_lua");
    }

    if (block || cf->args->nelts != 2) {
        return "takes one value";
    }

    if (sl_str_eq(&value[0], "from")) {
        field = &st->from;

    } else if (sl_str_eq(&value[0], "to")) {
        field = &st->to;

    } else if (sl_str_eq(&value[0], "group")) {
        field = &st->group;

    } else {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "unknown directive \"%.*s\" in a stream",
                          SL_STR_ARG(&value[0]));
        return SL_CONF_ERROR;
    }

    if (field->data) {
        return "is duplicate";
    }

    *field = value[1];

    return SL_CONF_OK;
}


sl_int_t
sl_lua_stream_init_process(sl_cycle_t *cycle, sl_lua_main_conf_t *lmcf)
{
    sl_uint_t         i;
    sl_lua_stream_t **st;

    if (lmcf->streams.nelts == 0) {
        return SL_OK;
    }

    if (sl_process == SL_PROCESS_WORKER && sl_worker != 0) {
        return SL_OK;
    }

    st = lmcf->streams.elts;

    for (i = 0; i < lmcf->streams.nelts; i++) {
        st[i]->event.handler = sl_lua_stream_tick;
        st[i]->event.data = st[i];
        st[i]->event.log = cycle->log;
        st[i]->event.cancelable = 1;

        sl_add_timer(&st[i]->event, SL_LUA_STREAM_IDLE);
    }

    return SL_OK;
}


static void
sl_lua_stream_tick(sl_event_t *ev)
{
    int32_t             i;
    sl_pool_t          *pool;
    sl_uint_t           busy;
    sl_lua_stream_t    *st;
    sl_broker_topic_t  *in, *out;

    st = ev->data;
    busy = 0;

    in = sl_broker_topic_find(&st->from);
    out = sl_broker_topic_find(&st->to);

    if (in == NULL || out == NULL || out->partitions_n <= 0) {
        if (!st->warned) {
            sl_log_error(SL_LOG_WARN, ev->log, 0,
                         "lua: stream \"%.*s\" waits for topics \"%.*s\" "
                         "and \"%.*s\"", SL_STR_ARG(&st->name),
                         SL_STR_ARG(&st->from), SL_STR_ARG(&st->to));
            st->warned = 1;
        }

        sl_add_timer(ev, 1000);
        return;
    }

    pool = sl_create_pool(16384, ev->log);

    if (pool) {
        for (i = 0; i < in->partitions_n; i++) {
            (void) sl_lua_stream_partition(st, sl_broker_partition(in, i),
                                           out, pool, &busy);
            sl_reset_pool(pool);
        }

        sl_destroy_pool(pool);
    }

    sl_add_timer(ev, busy ? SL_LUA_STREAM_BUSY : SL_LUA_STREAM_IDLE);
}


/* what is new in one input partition, through the chunk, then commit */

static sl_int_t
sl_lua_stream_partition(sl_lua_stream_t *st, sl_broker_partition_t *in,
    sl_broker_topic_t *out, sl_pool_t *pool, sl_uint_t *busy)
{
    u_char                     *p, *last;
    size_t                      size;
    int64_t                     offset, next, base;
    sl_int_t                    rc;
    sl_str_t                    none;
    sl_uint_t                   n;
    sl_log_t                   *log;
    sl_broker_read_t            rd;
    sl_lua_produce_ctx_t        ctx, *prev;
    sl_broker_group_offset_t    o;
    sl_broker_batch_reader_t    br;
    sl_broker_batch_record_t    r;

    if (in == NULL) {
        return SL_OK;
    }

    log = st->event.log;

    sl_memzero(&o, sizeof(sl_broker_group_offset_t));
    o.topic = st->from;
    o.partition = in->id;

    if (sl_broker_group_fetch(&st->group, &o, pool) != SL_OK) {
        return SL_ERROR;
    }

    offset = o.offset;

    if (offset < 0 || offset < sl_atomic_load(&in->log_start_offset)) {
        offset = sl_atomic_load(&in->log_start_offset);
    }

    if (offset >= sl_atomic_load(&in->high_watermark)) {
        return SL_OK;
    }

    rc = sl_broker_log_read(in, offset, SL_LUA_STREAM_READ, &rd, log);

    if (rc != SL_BROKER_OK || rd.len == 0 || rd.mem == NULL) {
        return SL_OK;
    }

    sl_memzero(&ctx, sizeof(sl_lua_produce_ctx_t));
    ctx.pool = pool;
    ctx.log = log;

    prev = sl_lua_produce_ctx(&ctx);

    p = rd.mem;
    last = rd.mem + rd.len;
    next = offset;
    n = 0;

    while (last - p > SL_BROKER_BATCH_HEADER_SIZE
           && n < SL_LUA_STREAM_MAX_RECORDS)
    {
        size = ((size_t) p[8] << 24 | (size_t) p[9] << 16
                | (size_t) p[10] << 8 | (size_t) p[11]) + 12;

        if (size > (size_t) (last - p)) {
            break;
        }

        rc = sl_broker_batch_open(&br, p, size, 0, 0, pool, log);

        if (rc != SL_BROKER_OK) {
            sl_log_error(SL_LOG_ERR, log, 0,
                         "lua: stream \"%.*s\": a batch of \"%.*s\"-%d at "
                         "%lld cannot be read (%s)", SL_STR_ARG(&st->name),
                         SL_STR_ARG(&st->from), (int) in->id,
                         (long long) next, br.error ? br.error : "?");
            break;
        }

        base = br.batch.base_offset;

        if (!(br.batch.attributes & SL_BROKER_BATCH_CONTROL)) {

            while (sl_broker_batch_next(&br, &r) == SL_OK) {
                if (base + r.offset_delta < offset) {
                    continue;
                }

                (void) sl_lua_stream_record(st, &r, in, out, &ctx);
                n++;
            }
        }

        next = base + br.batch.last_offset_delta + 1;
        p += size;
    }

    (void) sl_lua_produce_ctx(prev);

    if (next == offset) {
        return SL_OK;
    }

    *busy = 1;

    /* the output on disk first, then the input offsets */

    if (sl_lua_routes_append(&ctx, 1) != SL_OK) {
        return SL_ERROR;
    }

    none.len = 0;
    none.data = (u_char *) "";

    o.offset = next;
    o.leader_epoch = -1;
    o.metadata.len = 0;
    o.metadata.data = (u_char *) "";

    rc = sl_broker_group_commit(&st->group, -1, &none, &none, -1, &o, 1,
                                log);

    if (rc != SL_BROKER_GROUP_OK || o.error != SL_BROKER_GROUP_OK) {
        sl_log_error(SL_LOG_ERR, log, 0,
                     "lua: stream \"%.*s\": committing %lld for \"%.*s\"-%d "
                     "failed (error %d)", SL_STR_ARG(&st->name),
                     (long long) next, SL_STR_ARG(&st->from), (int) in->id,
                     (int) (rc != SL_BROKER_GROUP_OK ? rc : o.error));
        return SL_ERROR;
    }

    return SL_OK;
}


static sl_int_t
sl_lua_stream_record(sl_lua_stream_t *st, sl_broker_batch_record_t *r,
    sl_broker_partition_t *in, sl_broker_topic_t *out,
    sl_lua_produce_ctx_t *ctx)
{
    int                  top, rec, i, nres;
    size_t               n, j;
    sl_int_t             rc;
    lua_State           *L;
    const char          *err;
    sl_lua_main_conf_t  *lmcf;

    lmcf = st->lmcf;
    L = lmcf->vm;
    top = lua_gettop(L);

    sl_lua_record_push(L, r, &st->from, in->id);
    rec = lua_gettop(L);

    sl_lua_push_chunk(L, &st->chunk);
    lua_pushvalue(L, rec);

    rc = sl_lua_call(lmcf, 1, LUA_MULTRET, ctx->log, NULL, NULL);

    if (rc != SL_OK) {
        sl_log_error(SL_LOG_ERR, ctx->log, 0,
                     "lua: stream \"%.*s\" skips the record of \"%.*s\"-%d "
                     "at delta %d", SL_STR_ARG(&st->name),
                     SL_STR_ARG(&st->from), (int) in->id,
                     (int) r->offset_delta);
        goto done;
    }

    nres = lua_gettop(L) - rec;
    err = NULL;

    for (i = rec + 1; err == NULL && i <= rec + nres; i++) {

        if (!lua_istable(L, i)) {
            continue;
        }

        /* a list of records, or one */

        lua_rawgeti(L, i, 1);
        n = lua_istable(L, -1) ? lua_objlen(L, i) : 0;
        lua_pop(L, 1);

        if (n == 0) {
            err = sl_lua_route(L, i, out, ctx);
            continue;
        }

        for (j = 1; err == NULL && j <= n; j++) {
            lua_rawgeti(L, i, (int) j);

            if (lua_istable(L, -1)) {
                err = sl_lua_route(L, lua_gettop(L), out, ctx);
            }

            lua_pop(L, 1);
        }
    }

    if (err) {
        sl_log_error(SL_LOG_ERR, ctx->log, 0,
                     "lua: stream \"%.*s\": %s", SL_STR_ARG(&st->name), err);
    }

done:

    sl_lua_record_done();
    lua_settop(L, top);

    return rc;
}
