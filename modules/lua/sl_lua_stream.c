
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
 * Worker 0 (respawned into the same slot if it dies) is a member of the
 * consumer group `group`, as a Kafka consumer subscribed to `from` would
 * be: protocol type "consumer", the assignor "range", Kafka's
 * ConsumerProtocol subscription and assignment, so Kafka clients in the
 * same group share the partitions with it and each side reads the other's
 * metadata.  Elected leader, it assigns every member's subscription with
 * the range assignor.  It joins with the static instance id
 * "sluice-stream-NAME", so that a respawned worker 0 takes its old place
 * without a rebalance; it heartbeats every second (session timeout 10 s);
 * a rebalance makes it stop and rejoin, an unknown member id or an old
 * generation rejoin from scratch; a worker that exits leaves the group.
 * The coordinator's answers are polled on the stream's timer, so nothing
 * blocks the event loop.
 *
 * For each assigned partition of `from` it reads after the committed
 * offset, whole batches up to about SL_LUA_STREAM_MAX_RECORDS at a time so
 * that the worker's clients get their turn; calls the chunk per record
 * exactly as a produce filter (`local rec = ...`); and produces what it
 * returns (nothing for nil, one record for a table, several for several
 * results or a list of tables) to `to`, partitioned by key (Kafka's
 * murmur2) or round robin, or as a new table's `partition` says.  Once the
 * output is appended and flushed to disk, it commits the input offsets as
 * the member of its generation: every commit follows its output, so when
 * a rebalance stops the processor there is nothing left to commit, and a
 * restart or the partition's next owner resumes after the last commit:
 * no record is lost; records processed after it are produced again (at
 * least once).
 *
 * A record whose call fails (an error, lua_max_run_time) is logged and
 * skipped, so that one bad record cannot stop the stream.
 *
 * With `state TOPIC;`, sl.state is a keyed table per input partition,
 * written through to TOPIC (compacted, partition N for input partition
 * N) with the output, and restored from it on every assignment.
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

#define SL_LUA_STREAM_SESSION      10000   /* ms, the member's timeouts */
#define SL_LUA_STREAM_REBALANCE    30000
#define SL_LUA_STREAM_HEARTBEAT    1000
#define SL_LUA_STREAM_POLL         50      /* a join or sync answer */
#define SL_LUA_STREAM_RETRY        1000    /* after a coordinator error */
#define SL_LUA_STREAM_FENCED       3000    /* another of us took our place */

#define SL_LUA_STREAM_JOIN         0       /* the member's states */
#define SL_LUA_STREAM_JOINING      1
#define SL_LUA_STREAM_SYNCING      2
#define SL_LUA_STREAM_STABLE       3
#define SL_LUA_STREAM_LEFT         4

#define SL_LUA_STREAM_INSTANCE     "sluice-stream-"
#define SL_LUA_STREAM_MAX_LOG      256     /* the partitions logged */


struct sl_lua_stream_s {
    sl_str_t                 name;
    sl_str_t                 from;
    sl_str_t                 to;
    sl_str_t                 group;
    sl_str_t                 state_topic;    /* sl.state's changelog */
    sl_str_t                 instance_id;
    sl_lua_chunk_t           chunk;

    sl_event_t               event;
    sl_lua_main_conf_t      *lmcf;

    /* the group member, in this worker only (the heap's) */
    sl_uint_t                state;
    sl_str_t                 member_id;      /* empty: none yet */
    int32_t                  generation;
    uint32_t                 token;          /* of the join or sync */
    sl_msec_t                heartbeat;      /* the last one */
    int32_t                 *partitions;     /* assigned, of `from` */
    sl_uint_t                npartitions;
    int64_t                 *restore;        /* the next changelog offset
                                                of each, -1: restored */
    int                      state_ref;      /* {[partition] = {k = v}} */
    sl_pid_t                 pid;            /* the member's process */

    unsigned                 warned:1;
    unsigned                 complained:1;   /* of a coordinator error */
};


/* a member's subscription while the leader assigns */
typedef struct {
    sl_str_t                *member_id;
    sl_array_t               topics;         /* of sl_str_t */
    sl_array_t               assigned;       /* of sl_lua_stream_range_t */
} sl_lua_stream_member_t;


typedef struct {
    sl_str_t                 topic;
    int32_t                  first;
    int32_t                  n;
} sl_lua_stream_range_t;


static char *sl_lua_stream_handler(sl_conf_t *cf, sl_command_t *dummy,
    void *conf);
static void sl_lua_stream_tick(sl_event_t *ev);
static sl_msec_t sl_lua_stream_member(sl_lua_stream_t *st, sl_pool_t *pool);
static sl_msec_t sl_lua_stream_join(sl_lua_stream_t *st, sl_pool_t *pool);
static sl_msec_t sl_lua_stream_joined(sl_lua_stream_t *st,
    sl_broker_group_join_result_t *res, sl_pool_t *pool);
static sl_msec_t sl_lua_stream_synced(sl_lua_stream_t *st,
    sl_broker_group_sync_result_t *res);
static sl_msec_t sl_lua_stream_lost(sl_lua_stream_t *st, sl_int_t err,
    const char *what);
static sl_int_t sl_lua_stream_set_member(sl_lua_stream_t *st,
    sl_str_t *id);
static void sl_lua_stream_leave(sl_lua_stream_t *st, sl_log_t *log);
static sl_int_t sl_lua_stream_assign(sl_lua_stream_t *st,
    sl_broker_group_join_result_t *res, sl_pool_t *pool,
    sl_broker_group_assignment_t **out);
static sl_int_t sl_lua_stream_topics(sl_str_t *md, sl_array_t *topics);
static u_char *sl_lua_stream_encode(sl_array_t *ranges, sl_pool_t *pool,
    size_t *len);
static sl_int_t sl_lua_stream_assignment(sl_lua_stream_t *st,
    sl_str_t *a);
static u_char *sl_lua_stream_int32(u_char *p, int32_t v);
static int32_t sl_lua_stream_get32(u_char *p);
static sl_int_t sl_lua_stream_partition(sl_lua_stream_t *st,
    sl_broker_partition_t *in, sl_broker_topic_t *out, sl_pool_t *pool,
    sl_uint_t *busy);
static sl_int_t sl_lua_stream_state_reset(sl_lua_stream_t *st);
static void sl_lua_stream_state_push(lua_State *L, sl_lua_stream_t *st,
    int32_t partition);
static sl_int_t sl_lua_stream_restore(sl_lua_stream_t *st, sl_uint_t i,
    sl_broker_topic_t *state, sl_pool_t *pool);
static void sl_lua_stream_state_api(lua_State *L);
static int sl_lua_stream_state_get(lua_State *L);
static int sl_lua_stream_state_set(lua_State *L);
static int sl_lua_stream_state_delete(lua_State *L);
static sl_int_t sl_lua_stream_record(sl_lua_stream_t *st,
    sl_broker_batch_record_t *r, sl_broker_partition_t *in,
    sl_broker_topic_t *out, sl_lua_produce_ctx_t *ctx);


/* what sl.state works on while a stream's chunk runs */
static sl_lua_stream_t       *sl_lua_stream_current;
static int32_t                sl_lua_stream_current_partition;
static sl_broker_topic_t     *sl_lua_stream_current_state;
static sl_lua_produce_ctx_t  *sl_lua_stream_current_ctx;

static sl_str_t  sl_lua_stream_consumer = sl_string("consumer");
static sl_str_t  sl_lua_stream_range = sl_string("range");


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
    st->state_ref = LUA_NOREF;
    st->lmcf = lmcf;

    st->instance_id.len = sizeof(SL_LUA_STREAM_INSTANCE) - 1 + st->name.len;
    st->instance_id.data = sl_pnalloc(cf->pool, st->instance_id.len);
    if (st->instance_id.data == NULL) {
        return SL_CONF_ERROR;
    }

    sl_memcpy(sl_cpymem(st->instance_id.data, SL_LUA_STREAM_INSTANCE,
                        sizeof(SL_LUA_STREAM_INSTANCE) - 1),
              st->name.data, st->name.len);

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

    } else if (sl_str_eq(&value[0], "state")) {
        field = &st->state_topic;

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

    if (!sl_broker_group_ready()) {
        sl_log_error(SL_LOG_ALERT, cycle->log, 0,
                     "lua: streams need consumer groups, which a kafka "
                     "block brings: no stream runs");
        return SL_OK;
    }

    sl_lua_stream_state_api(lmcf->vm);

    st = lmcf->streams.elts;

    for (i = 0; i < lmcf->streams.nelts; i++) {
        st[i]->event.handler = sl_lua_stream_tick;
        st[i]->event.data = st[i];
        st[i]->event.log = cycle->log;
        st[i]->event.cancelable = 1;

        st[i]->state = SL_LUA_STREAM_JOIN;
        st[i]->generation = -1;
        st[i]->pid = sl_getpid();

        sl_add_timer(&st[i]->event, SL_LUA_STREAM_IDLE);
    }

    return SL_OK;
}


/* the module's exit_process: a stopping or reloading worker leaves */
void
sl_lua_stream_exit_process(sl_cycle_t *cycle, sl_lua_main_conf_t *lmcf)
{
    sl_uint_t         i;
    sl_lua_stream_t **st;

    st = lmcf->streams.elts;

    for (i = 0; i < lmcf->streams.nelts; i++) {
        sl_lua_stream_leave(st[i], cycle->log);
    }
}


static void
sl_lua_stream_tick(sl_event_t *ev)
{
    sl_uint_t           i;
    sl_pool_t          *pool;
    sl_msec_t           next;
    sl_uint_t           busy;
    sl_lua_stream_t    *st;
    sl_broker_topic_t  *in, *out, *state;

    st = ev->data;

    if (sl_exiting || sl_quit || sl_terminate) {
        /* a retiring worker: its successor takes over the partitions */
        sl_lua_stream_leave(st, ev->log);
        return;
    }

    /* the coordinator's deadlines, should no Kafka worker look at them */
    sl_broker_group_tick(ev->log);

    in = sl_broker_topic_find(&st->from);
    out = sl_broker_topic_find(&st->to);
    state = st->state_topic.len ? sl_broker_topic_find(&st->state_topic)
                                : NULL;

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

    if (st->state_topic.len
        && (state == NULL || state->partitions_n < in->partitions_n))
    {
        /* the state of input partition N is in changelog partition N */

        if (!st->warned) {
            sl_log_error(SL_LOG_WARN, ev->log, 0,
                         "lua: stream \"%.*s\" waits for its state topic "
                         "\"%.*s\" with as many partitions as \"%.*s\"",
                         SL_STR_ARG(&st->name),
                         SL_STR_ARG(&st->state_topic),
                         SL_STR_ARG(&st->from));
            st->warned = 1;
        }

        sl_add_timer(ev, 1000);
        return;
    }

    pool = sl_create_pool(16384, ev->log);

    if (pool == NULL) {
        sl_add_timer(ev, SL_LUA_STREAM_RETRY);
        return;
    }

    next = sl_lua_stream_member(st, pool);
    sl_reset_pool(pool);

    if (st->state == SL_LUA_STREAM_STABLE) {
        busy = 0;

        for (i = 0; i < st->npartitions; i++) {

            if (state && st->restore[i] != -1) {
                /* the partition's state first, a read at a time */
                if (sl_lua_stream_restore(st, i, state, pool) == SL_AGAIN) {
                    busy = 1;
                    sl_reset_pool(pool);
                    continue;
                }

                sl_reset_pool(pool);
            }

            sl_lua_stream_current_state = state;

            (void) sl_lua_stream_partition(st,
                                   sl_broker_partition(in, st->partitions[i]),
                                   out, pool, &busy);
            sl_reset_pool(pool);

            if (st->state != SL_LUA_STREAM_STABLE) {
                /* a commit found the group rebalancing: rejoin */
                busy = 1;
                break;
            }
        }

        next = busy ? SL_LUA_STREAM_BUSY : SL_LUA_STREAM_IDLE;
    }

    sl_destroy_pool(pool);

    if (st->state != SL_LUA_STREAM_LEFT) {
        sl_add_timer(ev, next);
    }
}


/* one step of the membership; the time till the next */

static sl_msec_t
sl_lua_stream_member(sl_lua_stream_t *st, sl_pool_t *pool)
{
    sl_int_t                        rc, err;
    sl_broker_group_join_result_t   jres;
    sl_broker_group_sync_result_t   sres;

    switch (st->state) {

    case SL_LUA_STREAM_JOIN:
        return sl_lua_stream_join(st, pool);

    case SL_LUA_STREAM_JOINING:
        rc = sl_broker_group_join_poll(&st->group, &st->member_id,
                                       st->token, pool, &jres);
        if (rc == SL_AGAIN) {
            return SL_LUA_STREAM_POLL;
        }

        if (rc != SL_OK) {
            return sl_lua_stream_lost(st,
                               SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE,
                               "join");
        }

        return sl_lua_stream_joined(st, &jres, pool);

    case SL_LUA_STREAM_SYNCING:
        rc = sl_broker_group_sync_poll(&st->group, &st->member_id,
                                       st->token, pool, &sres);
        if (rc == SL_AGAIN) {
            return SL_LUA_STREAM_POLL;
        }

        if (rc != SL_OK) {
            return sl_lua_stream_lost(st,
                               SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE,
                               "sync");
        }

        return sl_lua_stream_synced(st, &sres);

    case SL_LUA_STREAM_STABLE:
        if (sl_current_msec - st->heartbeat < SL_LUA_STREAM_HEARTBEAT) {
            return SL_LUA_STREAM_IDLE;
        }

        st->heartbeat = sl_current_msec;

        err = sl_broker_group_heartbeat(&st->group, &st->member_id,
                                        &st->instance_id, st->generation);

        if (err != SL_BROKER_GROUP_OK) {
            return sl_lua_stream_lost(st, err, "heartbeat");
        }

        return SL_LUA_STREAM_IDLE;

    default:
        return SL_LUA_STREAM_RETRY;
    }
}


static sl_msec_t
sl_lua_stream_join(sl_lua_stream_t *st, sl_pool_t *pool)
{
    u_char                         *p;
    size_t                          len;
    sl_int_t                        rc;
    sl_broker_group_join_t          j;
    sl_broker_group_protocol_t      proto;
    sl_broker_group_join_result_t   res;

    /* ConsumerProtocolSubscription v0: the topics, no user data */

    len = 2 + 4 + 2 + st->from.len + 4;

    p = sl_pnalloc(pool, len);
    if (p == NULL) {
        return SL_LUA_STREAM_RETRY;
    }

    proto.name = sl_lua_stream_range;
    proto.metadata.data = p;
    proto.metadata.len = len;

    *p++ = 0;
    *p++ = 0;
    *p++ = 0; *p++ = 0; *p++ = 0; *p++ = 1;
    *p++ = (u_char) (st->from.len >> 8);
    *p++ = (u_char) st->from.len;
    p = sl_cpymem(p, st->from.data, st->from.len);
    *p++ = 0xff; *p++ = 0xff; *p++ = 0xff; *p++ = 0xff;

    sl_memzero(&j, sizeof(sl_broker_group_join_t));

    j.group_id = st->group;
    j.member_id = st->member_id;
    j.instance_id = st->instance_id;
    j.client_id = st->instance_id;
    sl_str_set(&j.client_host, "/127.0.0.1");
    j.protocol_type = sl_lua_stream_consumer;
    j.protocols = &proto;
    j.nprotocols = 1;
    j.session_timeout = SL_LUA_STREAM_SESSION;
    j.rebalance_timeout = SL_LUA_STREAM_REBALANCE;
    j.require_known_member = 0;

    if (j.member_id.data == NULL) {
        sl_str_set(&j.member_id, "");
    }

    st->npartitions = 0;
    st->pid = sl_getpid();

    rc = sl_broker_group_join(&j, pool, &res, st->event.log);

    if (rc == SL_ERROR) {
        return sl_lua_stream_lost(st,
                                  SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE,
                                  "join");
    }

    if (rc == SL_AGAIN) {
        if (sl_lua_stream_set_member(st, &res.member_id) != SL_OK) {
            return SL_LUA_STREAM_RETRY;
        }

        st->token = j.token;
        st->state = SL_LUA_STREAM_JOINING;

        return SL_LUA_STREAM_POLL;
    }

    return sl_lua_stream_joined(st, &res, pool);
}


static sl_msec_t
sl_lua_stream_joined(sl_lua_stream_t *st,
    sl_broker_group_join_result_t *res, sl_pool_t *pool)
{
    sl_int_t                        rc;
    sl_broker_group_sync_t          s;
    sl_broker_group_sync_result_t   sres;

    if (res->error != SL_BROKER_GROUP_OK) {
        return sl_lua_stream_lost(st, res->error, "join");
    }

    if (sl_lua_stream_set_member(st, &res->member_id) != SL_OK) {
        return SL_LUA_STREAM_RETRY;
    }

    st->generation = res->generation;

    sl_memzero(&s, sizeof(sl_broker_group_sync_t));

    s.group_id = st->group;
    s.member_id = st->member_id;
    s.instance_id = st->instance_id;
    s.protocol_type = sl_lua_stream_consumer;
    s.protocol_name = res->protocol_name;
    s.generation = st->generation;

    if (res->leader.len == st->member_id.len
        && sl_memcmp(res->leader.data, st->member_id.data,
                     st->member_id.len) == 0)
    {
        if (res->protocol_name.len != sl_lua_stream_range.len
            || sl_memcmp(res->protocol_name.data, "range", 5) != 0)
        {
            /* only what this member offered can be chosen */
            return sl_lua_stream_lost(st,
                                      SL_BROKER_GROUP_INCONSISTENT_PROTOCOL,
                                      "join");
        }

        if (sl_lua_stream_assign(st, res, pool, &s.assignments) != SL_OK) {
            return sl_lua_stream_lost(st,
                                SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE,
                                "assign");
        }

        s.nassignments = res->nmembers;
    }

    rc = sl_broker_group_sync(&s, pool, &sres, st->event.log);

    if (rc == SL_ERROR) {
        return sl_lua_stream_lost(st,
                                  SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE,
                                  "sync");
    }

    if (rc == SL_AGAIN) {
        st->token = s.token;
        st->state = SL_LUA_STREAM_SYNCING;

        return SL_LUA_STREAM_POLL;
    }

    return sl_lua_stream_synced(st, &sres);
}


static sl_msec_t
sl_lua_stream_synced(sl_lua_stream_t *st,
    sl_broker_group_sync_result_t *res)
{
    u_char      *p, *last;
    u_char       buf[SL_LUA_STREAM_MAX_LOG];
    sl_uint_t    i;

    if (res->error != SL_BROKER_GROUP_OK) {
        return sl_lua_stream_lost(st, res->error, "sync");
    }

    if (sl_lua_stream_assignment(st, &res->assignment) != SL_OK) {
        return sl_lua_stream_lost(st,
                                  SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE,
                                  "assignment");
    }

    if (st->state_topic.len && sl_lua_stream_state_reset(st) != SL_OK) {
        return sl_lua_stream_lost(st,
                                  SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE,
                                  "state");
    }

    st->state = SL_LUA_STREAM_STABLE;
    st->heartbeat = sl_current_msec;
    st->complained = 0;

    p = buf;
    last = buf + sizeof(buf);

    for (i = 0; i < st->npartitions; i++) {
        p = sl_slprintf(p, last, " %d", (int) st->partitions[i]);
    }

    sl_log_error(SL_LOG_NOTICE, st->event.log, 0,
                 "lua: stream \"%.*s\" is member \"%.*s\" of group \"%.*s\" "
                 "generation %d, partitions of \"%.*s\":%*s%s",
                 SL_STR_ARG(&st->name), SL_STR_ARG(&st->member_id),
                 SL_STR_ARG(&st->group), (int) st->generation,
                 SL_STR_ARG(&st->from), (int) (p - buf), (char *) buf,
                 st->npartitions ? "" : " none");

    return SL_LUA_STREAM_IDLE;
}


/*
 * The member stops processing: it committed all it produced already.  A
 * rebalance keeps the member id; the coordinator not knowing it (or its
 * generation) makes a new member, which for a static member is its old
 * place again.
 */

static sl_msec_t
sl_lua_stream_lost(sl_lua_stream_t *st, sl_int_t err, const char *what)
{
    sl_uint_t  level;
    sl_msec_t  next;

    st->npartitions = 0;
    st->state = SL_LUA_STREAM_JOIN;

    switch (err) {

    case SL_BROKER_GROUP_REBALANCE_IN_PROGRESS:
        level = SL_LOG_INFO;
        next = 0;
        break;

    case SL_BROKER_GROUP_UNKNOWN_MEMBER_ID:
    case SL_BROKER_GROUP_ILLEGAL_GENERATION:
        level = SL_LOG_NOTICE;
        next = 0;
        st->member_id.len = 0;
        st->generation = -1;
        break;

    case SL_BROKER_GROUP_FENCED_INSTANCE_ID:
        /* a newer worker 0 (a reload) took the instance id: let it be */
        level = SL_LOG_NOTICE;
        next = SL_LUA_STREAM_FENCED;
        st->member_id.len = 0;
        st->generation = -1;
        break;

    default:
        level = st->complained ? SL_LOG_INFO : SL_LOG_ERR;
        next = SL_LUA_STREAM_RETRY;
        st->member_id.len = 0;
        st->generation = -1;
        st->complained = 1;
    }

    sl_log_error(level, st->event.log, 0,
                 "lua: stream \"%.*s\" in group \"%.*s\": %s answered "
                 "error %d, rejoining", SL_STR_ARG(&st->name),
                 SL_STR_ARG(&st->group), what, (int) err);

    return next;
}


static sl_int_t
sl_lua_stream_set_member(sl_lua_stream_t *st, sl_str_t *id)
{
    u_char  *p;

    if (id->data == NULL || id->len == 0) {
        return SL_OK;
    }

    if (st->member_id.data && st->member_id.len == id->len
        && sl_memcmp(st->member_id.data, id->data, id->len) == 0)
    {
        return SL_OK;
    }

    p = sl_alloc(id->len, st->event.log);
    if (p == NULL) {
        return SL_ERROR;
    }

    sl_memcpy(p, id->data, id->len);

    if (st->member_id.data) {
        sl_free(st->member_id.data);
    }

    st->member_id.data = p;
    st->member_id.len = id->len;

    return SL_OK;
}


static void
sl_lua_stream_leave(sl_lua_stream_t *st, sl_log_t *log)
{
    sl_int_t  err;

    if (st->state == SL_LUA_STREAM_LEFT) {
        return;
    }

    st->state = SL_LUA_STREAM_LEFT;
    st->npartitions = 0;

    if (st->member_id.len == 0 || st->pid != sl_getpid()) {
        return;
    }

    err = sl_broker_group_leave(&st->group, &st->member_id, &st->instance_id,
                                log);

    sl_log_error(SL_LOG_INFO, log, 0,
                 "lua: stream \"%.*s\" left group \"%.*s\" (%d)",
                 SL_STR_ARG(&st->name), SL_STR_ARG(&st->group), (int) err);

    st->member_id.len = 0;
}


/*
 * The leader's range assignor, as Kafka's and librdkafka's: for each
 * topic, its subscribers in member id order get consecutive ranges of
 * partitions, the first (partitions % subscribers) one more.
 */

static sl_int_t
sl_lua_stream_assign(sl_lua_stream_t *st,
    sl_broker_group_join_result_t *res, sl_pool_t *pool,
    sl_broker_group_assignment_t **out)
{
    int32_t                        per, extra, n, k;
    sl_str_t                      *t, *u, *id;
    sl_uint_t                      i, j, m, nsubs;
    sl_array_t                     topics;
    sl_broker_topic_t             *topic;
    sl_lua_stream_range_t         *r;
    sl_lua_stream_member_t        *members, **subs, *tmp;
    sl_broker_group_assignment_t  *a;

    m = res->nmembers;

    members = sl_pcalloc(pool, (m + 1) * sizeof(sl_lua_stream_member_t));
    subs = sl_pcalloc(pool, (m + 1) * sizeof(sl_lua_stream_member_t *));
    a = sl_pcalloc(pool, (m + 1) * sizeof(sl_broker_group_assignment_t));

    if (members == NULL || subs == NULL || a == NULL
        || sl_array_init(&topics, pool, 4, sizeof(sl_str_t)) != SL_OK)
    {
        return SL_ERROR;
    }

    /* every member's topics, and every topic once */

    for (i = 0; i < m; i++) {
        members[i].member_id = &res->members[i].member_id;

        if (sl_array_init(&members[i].topics, pool, 2, sizeof(sl_str_t))
            != SL_OK
            || sl_array_init(&members[i].assigned, pool, 2,
                             sizeof(sl_lua_stream_range_t))
               != SL_OK)
        {
            return SL_ERROR;
        }

        if (sl_lua_stream_topics(&res->members[i].metadata,
                                 &members[i].topics)
            != SL_OK)
        {
            sl_log_error(SL_LOG_WARN, st->event.log, 0,
                         "lua: stream \"%.*s\": the subscription of member "
                         "\"%.*s\" of group \"%.*s\" cannot be read",
                         SL_STR_ARG(&st->name),
                         SL_STR_ARG(members[i].member_id),
                         SL_STR_ARG(&st->group));
        }

        t = members[i].topics.elts;

        for (j = 0; j < members[i].topics.nelts; j++) {
            u = topics.elts;

            for (k = 0; k < (int32_t) topics.nelts; k++) {
                if (u[k].len == t[j].len
                    && sl_memcmp(u[k].data, t[j].data, t[j].len) == 0)
                {
                    break;
                }
            }

            if (k == (int32_t) topics.nelts) {
                u = sl_array_push(&topics);
                if (u == NULL) {
                    return SL_ERROR;
                }

                *u = t[j];
            }
        }
    }

    u = topics.elts;

    for (k = 0; k < (int32_t) topics.nelts; k++) {

        topic = sl_broker_topic_find(&u[k]);

        if (topic == NULL || topic->partitions_n <= 0) {
            continue;
        }

        /* the subscribers, sorted by member id */

        nsubs = 0;

        for (i = 0; i < m; i++) {
            t = members[i].topics.elts;

            for (j = 0; j < members[i].topics.nelts; j++) {
                if (t[j].len == u[k].len
                    && sl_memcmp(t[j].data, u[k].data, u[k].len) == 0)
                {
                    subs[nsubs++] = &members[i];
                    break;
                }
            }
        }

        for (i = 1; i < nsubs; i++) {
            for (j = i; j > 0; j--) {
                id = subs[j - 1]->member_id;

                n = sl_memcmp(id->data, subs[j]->member_id->data,
                              sl_min(id->len, subs[j]->member_id->len));

                if (n < 0 || (n == 0 && id->len <= subs[j]->member_id->len))
                {
                    break;
                }

                tmp = subs[j];
                subs[j] = subs[j - 1];
                subs[j - 1] = tmp;
            }
        }

        if (nsubs == 0) {
            continue;
        }

        per = topic->partitions_n / (int32_t) nsubs;
        extra = topic->partitions_n % (int32_t) nsubs;

        for (i = 0; i < nsubs; i++) {
            n = per + ((int32_t) i < extra ? 1 : 0);

            if (n == 0) {
                continue;
            }

            r = sl_array_push(&subs[i]->assigned);
            if (r == NULL) {
                return SL_ERROR;
            }

            r->topic = u[k];
            r->first = per * (int32_t) i + sl_min((int32_t) i, extra);
            r->n = n;
        }
    }

    for (i = 0; i < m; i++) {
        a[i].member_id = *members[i].member_id;
        a[i].assignment.data = sl_lua_stream_encode(&members[i].assigned,
                                                    pool,
                                                    &a[i].assignment.len);
        if (a[i].assignment.data == NULL) {
            return SL_ERROR;
        }
    }

    *out = a;

    return SL_OK;
}


/* the topics of a ConsumerProtocolSubscription, any version */

static sl_int_t
sl_lua_stream_topics(sl_str_t *md, sl_array_t *topics)
{
    u_char    *p, *last;
    size_t     len;
    int32_t    n, i;
    sl_str_t  *t;

    p = md->data;
    last = md->data + md->len;

    if (p == NULL || last - p < 6) {
        return SL_ERROR;
    }

    p += 2;                                             /* version */
    n = sl_lua_stream_get32(p);
    p += 4;

    for (i = 0; i < n; i++) {
        if (last - p < 2) {
            return SL_ERROR;
        }

        len = (size_t) p[0] << 8 | p[1];
        p += 2;

        if ((size_t) (last - p) < len) {
            return SL_ERROR;
        }

        t = sl_array_push(topics);
        if (t == NULL) {
            return SL_ERROR;
        }

        t->data = p;
        t->len = len;
        p += len;
    }

    return SL_OK;
}


/* a ConsumerProtocolAssignment v0 of the ranges, no user data */

static u_char *
sl_lua_stream_encode(sl_array_t *ranges, sl_pool_t *pool, size_t *len)
{
    u_char                 *buf, *p;
    size_t                  size;
    int32_t                 k;
    sl_uint_t               i;
    sl_lua_stream_range_t  *r;

    r = ranges->elts;
    size = 2 + 4 + 4;

    for (i = 0; i < ranges->nelts; i++) {
        size += 2 + r[i].topic.len + 4 + 4 * (size_t) r[i].n;
    }

    buf = sl_pnalloc(pool, size);
    if (buf == NULL) {
        return NULL;
    }

    p = buf;

    *p++ = 0;
    *p++ = 0;
    p = sl_lua_stream_int32(p, (int32_t) ranges->nelts);

    for (i = 0; i < ranges->nelts; i++) {
        *p++ = (u_char) (r[i].topic.len >> 8);
        *p++ = (u_char) r[i].topic.len;
        p = sl_cpymem(p, r[i].topic.data, r[i].topic.len);
        p = sl_lua_stream_int32(p, r[i].n);

        for (k = 0; k < r[i].n; k++) {
            p = sl_lua_stream_int32(p, r[i].first + k);
        }
    }

    p = sl_lua_stream_int32(p, -1);

    *len = p - buf;

    return buf;
}


/* this member's partitions of `from` in a ConsumerProtocolAssignment */

static sl_int_t
sl_lua_stream_assignment(sl_lua_stream_t *st, sl_str_t *a)
{
    u_char     *p, *last;
    size_t      len;
    int32_t     ntopics, n, i, k, part;
    int32_t    *parts;
    sl_uint_t   mine, j, have;

    st->npartitions = 0;

    p = a->data;
    last = a->data + a->len;

    if (p == NULL || last - p < 6) {
        /* empty: nothing assigned */
        return SL_OK;
    }

    p += 2;
    ntopics = sl_lua_stream_get32(p);
    p += 4;

    for (i = 0; i < ntopics; i++) {
        if (last - p < 2) {
            return SL_ERROR;
        }

        len = (size_t) p[0] << 8 | p[1];
        p += 2;

        if ((size_t) (last - p) < len + 4) {
            return SL_ERROR;
        }

        mine = (len == st->from.len
                && sl_memcmp(p, st->from.data, len) == 0);
        p += len;

        n = sl_lua_stream_get32(p);
        p += 4;

        if (n < 0 || (last - p) / 4 < n) {
            return SL_ERROR;
        }

        if (!mine || n == 0) {
            p += 4 * (size_t) n;
            continue;
        }

        parts = sl_alloc((st->npartitions + n) * sizeof(int32_t),
                         st->event.log);
        if (parts == NULL) {
            return SL_ERROR;
        }

        if (st->npartitions) {
            sl_memcpy(parts, st->partitions,
                      st->npartitions * sizeof(int32_t));
        }

        if (st->partitions) {
            sl_free(st->partitions);
        }

        st->partitions = parts;

        for (k = 0; k < n; k++) {
            part = sl_lua_stream_get32(p);
            p += 4;

            for (have = 0, j = 0; j < st->npartitions; j++) {
                if (parts[j] == part) {
                    have = 1;
                }
            }

            if (!have && part >= 0) {
                parts[st->npartitions++] = part;
            }
        }
    }

    return SL_OK;
}


static u_char *
sl_lua_stream_int32(u_char *p, int32_t v)
{
    uint32_t  u;

    u = (uint32_t) v;

    *p++ = (u_char) (u >> 24);
    *p++ = (u_char) (u >> 16);
    *p++ = (u_char) (u >> 8);
    *p++ = (u_char) u;

    return p;
}


static int32_t
sl_lua_stream_get32(u_char *p)
{
    return (int32_t) ((uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
                      | (uint32_t) p[2] << 8 | (uint32_t) p[3]);
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

    o.offset = next;
    o.leader_epoch = -1;
    o.metadata.len = 0;
    o.metadata.data = (u_char *) "";

    rc = sl_broker_group_commit(&st->group, st->generation, &st->member_id,
                                &st->instance_id, -1, &o, 1, log);

    switch (rc) {

    case SL_BROKER_GROUP_REBALANCE_IN_PROGRESS:
    case SL_BROKER_GROUP_ILLEGAL_GENERATION:
    case SL_BROKER_GROUP_UNKNOWN_MEMBER_ID:
    case SL_BROKER_GROUP_FENCED_INSTANCE_ID:
        /* no longer this member's: its next owner processes it again */
        (void) sl_lua_stream_lost(st, rc, "commit");
        return SL_ERROR;

    default:
        break;
    }

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

    sl_lua_stream_current = st;
    sl_lua_stream_current_partition = in->id;
    sl_lua_stream_current_ctx = ctx;

    rc = sl_lua_call(lmcf, 1, LUA_MULTRET, ctx->log, NULL, NULL);

    sl_lua_stream_current = NULL;

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



/*
 * sl.state: a table of string keys and values per input partition, kept
 * in the worker's VM and written through to the changelog topic (its
 * partition of the same number, meant to be compacted) with the stream's
 * output, so that it is durable before the input offsets are committed.
 * A partition that is assigned is restored from its changelog before its
 * first record is processed.
 */

static sl_int_t
sl_lua_stream_state_reset(sl_lua_stream_t *st)
{
    sl_uint_t   i;
    lua_State  *L;

    L = st->lmcf->vm;

    if (st->state_ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, st->state_ref);
    }

    lua_newtable(L);
    st->state_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    if (st->restore) {
        sl_free(st->restore);
        st->restore = NULL;
    }

    st->restore = sl_alloc((st->npartitions + 1) * sizeof(int64_t),
                           st->event.log);
    if (st->restore == NULL) {
        return SL_ERROR;
    }

    for (i = 0; i < st->npartitions; i++) {
        st->restore[i] = 0;
    }

    return SL_OK;
}


/* pushes the state table of a partition, made if need be */

static void
sl_lua_stream_state_push(lua_State *L, sl_lua_stream_t *st,
    int32_t partition)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->state_ref);
    lua_rawgeti(L, -1, partition);

    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, partition);
    }

    lua_remove(L, -2);
}


/* SL_OK: the partition's state is complete; SL_AGAIN: more to read */

static sl_int_t
sl_lua_stream_restore(sl_lua_stream_t *st, sl_uint_t i,
    sl_broker_topic_t *state, sl_pool_t *pool)
{
    u_char                     *p, *last;
    size_t                      size;
    int64_t                     offset, next, hw, base;
    sl_int_t                    rc;
    sl_log_t                   *log;
    lua_State                  *L;
    sl_broker_read_t            rd;
    sl_broker_partition_t      *part;
    sl_broker_batch_reader_t    br;
    sl_broker_batch_record_t    r;

    log = st->event.log;
    L = st->lmcf->vm;

    part = sl_broker_partition(state, st->partitions[i]);
    if (part == NULL) {
        st->restore[i] = -1;
        return SL_OK;
    }

    offset = st->restore[i];
    hw = sl_atomic_load(&part->high_watermark);

    if (offset < sl_atomic_load(&part->log_start_offset)) {
        offset = sl_atomic_load(&part->log_start_offset);
    }

    if (offset >= hw) {
        goto done;
    }

    rc = sl_broker_log_read(part, offset, SL_LUA_STREAM_READ, &rd, log);

    if (rc != SL_BROKER_OK || rd.len == 0 || rd.mem == NULL) {
        sl_log_error(SL_LOG_ERR, log, 0,
                     "lua: stream \"%.*s\": the state in \"%.*s\"-%d cannot "
                     "be read after %lld", SL_STR_ARG(&st->name),
                     SL_STR_ARG(&st->state_topic), (int) part->id,
                     (long long) offset);
        goto done;
    }

    sl_lua_stream_state_push(L, st, part->id);

    p = rd.mem;
    last = rd.mem + rd.len;
    next = offset;

    while (last - p > SL_BROKER_BATCH_HEADER_SIZE) {
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
                         SL_STR_ARG(&st->state_topic), (int) part->id,
                         (long long) next, br.error ? br.error : "?");
            break;
        }

        base = br.batch.base_offset;

        if (!(br.batch.attributes & SL_BROKER_BATCH_CONTROL)) {

            while (sl_broker_batch_next(&br, &r) == SL_OK) {
                if (base + r.offset_delta < offset || r.key.len < 0) {
                    continue;
                }

                lua_pushlstring(L, (char *) r.key.data, r.key.len);

                if (r.value.len < 0) {
                    lua_pushnil(L);

                } else {
                    lua_pushlstring(L, (char *) r.value.data, r.value.len);
                }

                lua_rawset(L, -3);
            }
        }

        next = base + br.batch.last_offset_delta + 1;
        p += size;
    }

    lua_pop(L, 1);

    if (next == offset) {
        /* nothing could be read: do not spin on it */
        goto done;
    }

    st->restore[i] = next;

    if (next < hw) {
        return SL_AGAIN;
    }

done:

    st->restore[i] = -1;

    sl_log_error(SL_LOG_INFO, log, 0,
                 "lua: stream \"%.*s\" restored its state of partition %d "
                 "from \"%.*s\"", SL_STR_ARG(&st->name),
                 (int) st->partitions[i], SL_STR_ARG(&st->state_topic));

    return SL_OK;
}


static void
sl_lua_stream_state_api(lua_State *L)
{
    lua_getglobal(L, "sl");

    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return;
    }

    lua_createtable(L, 0, 3);

    lua_pushcfunction(L, sl_lua_stream_state_get);
    lua_setfield(L, -2, "get");
    lua_pushcfunction(L, sl_lua_stream_state_set);
    lua_setfield(L, -2, "set");
    lua_pushcfunction(L, sl_lua_stream_state_delete);
    lua_setfield(L, -2, "delete");

    lua_setfield(L, -2, "state");
    lua_pop(L, 1);
}


/* sl.state:get(key): the value, or nil */

static int
sl_lua_stream_state_get(lua_State *L)
{
    sl_lua_stream_t  *st;

    st = sl_lua_stream_current;

    if (st == NULL || st->state_ref == LUA_NOREF) {
        return luaL_error(L, "sl.state: only in a stream with a state "
                             "topic");
    }

    (void) luaL_checklstring(L, 2, NULL);

    sl_lua_stream_state_push(L, st, sl_lua_stream_current_partition);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);

    return 1;
}


/* sl.state:set(key, value): value nil deletes */

static int
sl_lua_stream_state_set(lua_State *L)
{
    int               rec;
    const char       *err;
    sl_lua_stream_t  *st;

    st = sl_lua_stream_current;

    if (st == NULL || st->state_ref == LUA_NOREF
        || sl_lua_stream_current_state == NULL)
    {
        return luaL_error(L, "sl.state: only in a stream with a state "
                             "topic");
    }

    (void) luaL_checklstring(L, 2, NULL);
    lua_settop(L, 3);

    if (!lua_isnil(L, 3)) {
        (void) luaL_checklstring(L, 3, NULL);
    }

    /* the changelog first: a record that cannot be written changes
     * nothing */

    lua_createtable(L, 0, 3);
    rec = lua_gettop(L);

    lua_pushvalue(L, 2);
    lua_setfield(L, rec, "key");
    lua_pushvalue(L, 3);
    lua_setfield(L, rec, "value");
    lua_pushinteger(L, sl_lua_stream_current_partition);
    lua_setfield(L, rec, "partition");

    err = sl_lua_route(L, rec, sl_lua_stream_current_state,
                       sl_lua_stream_current_ctx);
    if (err) {
        return luaL_error(L, "sl.state: %s", err);
    }

    sl_lua_stream_state_push(L, st, sl_lua_stream_current_partition);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    lua_rawset(L, -3);

    return 0;
}


static int
sl_lua_stream_state_delete(lua_State *L)
{
    lua_settop(L, 2);
    lua_pushnil(L);

    return sl_lua_stream_state_set(L);
}
