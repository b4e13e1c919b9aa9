
/*
 * The REST proxy's v2 consumer instances (Confluent REST Proxy v2):
 *
 *     POST   /consumers/{group}                       create an instance
 *     DELETE /consumers/{group}/instances/{name}      delete it
 *     POST|GET|DELETE .../subscription                topics or a pattern
 *     POST|GET .../assignments                        manual assignment
 *     POST .../positions, .../positions/beginning, .../positions/end
 *     GET  .../records?timeout=&max_bytes=
 *     POST|GET .../offsets                            commit, committed
 *
 * Instances join the same groups as Kafka clients, through the group
 * coordinator (sl_broker_group.h): each subscribed instance is a member
 * with protocol type "consumer", offering "range" and "roundrobin" with
 * ConsumerProtocol subscription metadata (version 0), and when elected
 * leader it computes the assignment of every member itself and encodes
 * it as ConsumerProtocol assignments (version 0) that Kafka clients
 * accept.
 *
 * Where instances live.  A REST client sends the requests of one
 * instance over any connection, and with several workers any request
 * may land in any worker; a REST client cannot be redirected to another
 * one.  So an instance is not owned by a worker: all its state (the
 * configuration, the subscription, the group membership with its join
 * and sync tokens, the assignment and the positions) is in a shared
 * zone ("sl_rest_consumer", a slab pool) under one process-shared lock,
 * and any worker serves any request of any instance.  The background
 * work of the membership (polling a join or a sync that waits for other
 * members, heartbeats, rejoining, auto commits, idle expiry) is a state
 * machine per instance, advanced under the lock by whichever worker
 * looks at it first: the worker serving a request of the instance, a
 * parked GET .../records woken by the doorbell, or the short timer that
 * every worker which ever served a consumer request runs over all
 * instances.  The coordinator's join and sync tokens are plain numbers,
 * so a join started in one worker is polled from another.  Records are
 * read outside the lock from a copy of the positions, which are then
 * moved on under the lock if nothing changed them meanwhile; one read of
 * an instance runs at a time (a claim in the instance, as the proxy
 * serializes them), so that concurrent GET .../records over several
 * connections, in several workers, never return a record twice.  A
 * waiting GET .../records parks in its worker (sl_rest_wait(): woken by
 * appends and by group changes, which ring the doorbell too) with a
 * short timer besides.
 *
 * Offsets: POST .../offsets with offsets commits offset + 1 for each
 * (the proxy's rule: the offset named is the last one consumed); with
 * an empty body it commits the positions (the next offsets to read).
 * GET .../offsets answers the committed offsets as stored.
 *
 * Instances idle longer than rest_consumer_instance_timeout are removed
 * (and leave their group); their requests then get 404 40403.
 */

#include <sl_config.h>
#include <sl_core.h>
#include <sl_event.h>
#include <sl_http.h>
#include <sl_broker.h>
#include <sl_broker_batch.h>
#include <sl_broker_group.h>
#include <sl_rest.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sys/random.h>


#define SL_RC_ZONE_SIZE          (4 * 1024 * 1024)
#define SL_RC_SESSION_TIMEOUT    30000
#define SL_RC_REBALANCE_TIMEOUT  60000
#define SL_RC_HEARTBEAT          1000
#define SL_RC_AUTO_COMMIT        5000
#define SL_RC_TICK               100
#define SL_RC_RETRY              500
#define SL_RC_WAIT_SLACK         250
#define SL_RC_READ_CLAIM         10000   /* a dead worker's read */
#define SL_RC_MATCH_LIMIT        1000000 /* a topic_pattern's steps */

/* an instance's membership */
#define SL_RC_IDLE               0       /* not subscribed */
#define SL_RC_JOIN               1       /* to join (again) */
#define SL_RC_JOINING            2       /* waiting for the join */
#define SL_RC_SYNCING            3       /* waiting for the sync */
#define SL_RC_STABLE             4

#define SL_RC_ERR_ILLEGAL_STATE  40903

#ifndef SL_HTTP_NOT_ACCEPTABLE
#define SL_HTTP_NOT_ACCEPTABLE   406
#endif

#ifndef SL_HTTP_CONFLICT
#define SL_HTTP_CONFLICT         409
#endif


typedef struct {
    sl_str_t                 topic;          /* in the zone */
    int32_t                  partition;
    int64_t                  position;       /* -1: committed, or reset */
    int64_t                  committed;      /* by us, -1 */
} sl_rc_part_t;


typedef struct {
    sl_queue_t               queue;
    sl_str_t                 group;
    sl_str_t                 name;
    sl_str_t                 member_id;
    sl_str_t                 client_host;
    sl_str_t                 pattern;        /* a topic_pattern */
    sl_str_t                *topics;         /* subscribed (or matched) */
    sl_uint_t                ntopics;
    sl_rc_part_t            *parts;          /* assigned */
    sl_uint_t                nparts;
    sl_uint_t                format;         /* SL_REST_FMT_* */
    sl_uint_t                state;
    uint32_t                 token;
    int32_t                  generation;
    int64_t                  fetch_min_bytes;
    sl_msec_t                request_timeout;   /* 0: the location's */
    sl_msec_t                instance_timeout;
    int64_t                  last_used;      /* monotonic ms */
    int64_t                  next_heartbeat;
    int64_t                  next_commit;
    int64_t                  retry_at;
    uint64_t                 epoch;          /* bumped when parts change */
    uint64_t                 layout;         /* the topics' partitions
                                                at the last join */
    uint32_t                 reader;         /* the read in progress */
    int64_t                  read_since;
    unsigned                 earliest:1;
    unsigned                 auto_commit:1;
    unsigned                 subscribed:1;
    unsigned                 manual:1;
} sl_rc_inst_t;


typedef struct {
    sl_shmtx_t               lock;
    sl_queue_t               instances;
    sl_uint_t                ninstances;
    uint32_t                 readers;
} sl_rc_sh_t;


/* a partition to read, copied out of the zone */
typedef struct {
    sl_str_t                 topic;
    int32_t                  partition;
    int64_t                  position;
    int64_t                  next;
} sl_rc_snap_t;


/* a GET .../records that waits */
typedef struct {
    sl_rest_req_t           *rq;
    sl_rest_waiter_t         waiter;
    sl_event_t               timer;
    sl_str_t                 group;
    sl_str_t                 name;
    sl_msec_t                deadline;       /* sl_current_msec */
    size_t                   max_bytes;
    size_t                   bytes;
    int64_t                  min_bytes;      /* fetch.min.bytes */
    json_t                  *records;
    sl_uint_t                format;
    unsigned                 earliest:1;
    unsigned                 finished:1;
} sl_rc_read_t;


static sl_int_t sl_rc_init_zone(sl_shm_zone_t *zone, void *data);
static void sl_rc_lock(void);
static void sl_rc_unlock(void);
static void sl_rc_start_timer(sl_log_t *log);
static void sl_rc_tick(sl_event_t *ev);
static sl_rc_inst_t *sl_rc_find(sl_str_t *group, sl_str_t *name);
static sl_rc_inst_t *sl_rc_instance(sl_rest_req_t *rq);
static sl_int_t sl_rc_strset(sl_str_t *dst, sl_str_t *src);
static void sl_rc_strfree(sl_str_t *s);
static void sl_rc_free_topics(sl_rc_inst_t *inst);
static void sl_rc_free_parts(sl_rc_inst_t *inst);
static void sl_rc_free(sl_rc_inst_t *inst, sl_log_t *log);
static void sl_rc_drive(sl_rc_inst_t *inst, int64_t now, sl_log_t *log);
static void sl_rc_join(sl_rc_inst_t *inst, sl_pool_t *pool, int64_t now,
    sl_log_t *log);
static void sl_rc_joined(sl_rc_inst_t *inst,
    sl_broker_group_join_result_t *res, sl_pool_t *pool, int64_t now,
    sl_log_t *log);
static void sl_rc_synced(sl_rc_inst_t *inst,
    sl_broker_group_sync_result_t *res, sl_pool_t *pool, int64_t now,
    sl_log_t *log);
static void sl_rc_rejoin(sl_rc_inst_t *inst, sl_uint_t fresh, int64_t now,
    sl_log_t *log);
static void sl_rc_leave(sl_rc_inst_t *inst, sl_log_t *log);
static sl_int_t sl_rc_match_pattern(sl_rc_inst_t *inst, sl_pool_t *pool,
    sl_uint_t *changed);
static sl_int_t sl_rc_metadata(sl_pool_t *pool, sl_rc_inst_t *inst,
    sl_str_t *out);
static uint64_t sl_rc_layout(sl_rc_inst_t *inst);
static sl_int_t sl_rc_assign(sl_pool_t *pool, sl_str_t *protocol,
    sl_broker_group_join_result_t *res, sl_broker_group_assignment_t **out,
    sl_uint_t *nout);
static sl_int_t sl_rc_set_parts(sl_rc_inst_t *inst, sl_str_t *topics,
    int32_t *partitions, sl_uint_t n);
static sl_int_t sl_rc_commit(sl_rc_inst_t *inst, sl_log_t *log);
static int64_t sl_rc_reset_offset(sl_rc_inst_t *inst,
    sl_broker_partition_t *part);
static sl_broker_partition_t *sl_rc_partition(sl_str_t *topic,
    int32_t partition);
static sl_rc_part_t *sl_rc_part_find(sl_rc_inst_t *inst, sl_str_t *topic,
    int32_t partition);
static json_t *sl_rc_body(sl_rest_req_t *rq, sl_uint_t allow_empty);
static sl_int_t sl_rc_json_int(json_t *v, int64_t *out);
static sl_int_t sl_rc_json_tp(json_t *v, sl_str_t *topic, int32_t *partition);
static sl_int_t sl_rc_json_partitions(sl_rest_req_t *rq, sl_str_t **topics,
    int32_t **ids, size_t *n);
static sl_uint_t sl_rc_contains(sl_str_t *s, const char *what);
static u_char *sl_rc_escape(u_char *dst, sl_str_t *src);

static sl_int_t sl_rc_create(sl_rest_req_t *rq);
static sl_int_t sl_rc_delete(sl_rest_req_t *rq);
static sl_int_t sl_rc_subscribe(sl_rest_req_t *rq);
static sl_int_t sl_rc_subscription(sl_rest_req_t *rq);
static sl_int_t sl_rc_unsubscribe(sl_rest_req_t *rq);
static sl_int_t sl_rc_assign_manual(sl_rest_req_t *rq);
static sl_int_t sl_rc_assignments(sl_rest_req_t *rq);
static sl_int_t sl_rc_seek(sl_rest_req_t *rq);
static sl_int_t sl_rc_seek_beginning(sl_rest_req_t *rq);
static sl_int_t sl_rc_seek_end(sl_rest_req_t *rq);
static sl_int_t sl_rc_seek_edge(sl_rest_req_t *rq, sl_uint_t end);
static sl_int_t sl_rc_records(sl_rest_req_t *rq);
static sl_int_t sl_rc_commit_offsets(sl_rest_req_t *rq);
static sl_int_t sl_rc_committed(sl_rest_req_t *rq);

static sl_int_t sl_rc_read(sl_rc_read_t *rd, sl_uint_t final);
static sl_int_t sl_rc_read_record(void *data, sl_broker_partition_t *part,
    int64_t offset, sl_broker_batch_record_t *rec);
static sl_int_t sl_rc_send_records(sl_rc_read_t *rd);
static void sl_rc_read_wake(sl_rest_waiter_t *w);
static void sl_rc_read_timeout(sl_event_t *ev);
static void sl_rc_read_again(sl_rc_read_t *rd);
static void sl_rc_read_closed(sl_http_request_t *r);
static void sl_rc_read_stop(sl_rc_read_t *rd);
static void sl_rc_read_cleanup(void *data);


sl_rest_route_t  sl_rest_consumer_routes[] = {

    { SL_HTTP_POST, "/consumers/{}", SL_REST_V2, SL_REST_BODY_RAW,
      sl_rc_create },

    { SL_HTTP_DELETE, "/consumers/{}/instances/{}", SL_REST_V2,
      SL_REST_BODY_NONE, sl_rc_delete },

    { SL_HTTP_POST, "/consumers/{}/instances/{}/subscription", SL_REST_V2,
      SL_REST_BODY_JSON, sl_rc_subscribe },

    { SL_HTTP_GET, "/consumers/{}/instances/{}/subscription", SL_REST_V2,
      SL_REST_BODY_NONE, sl_rc_subscription },

    { SL_HTTP_DELETE, "/consumers/{}/instances/{}/subscription", SL_REST_V2,
      SL_REST_BODY_NONE, sl_rc_unsubscribe },

    { SL_HTTP_POST, "/consumers/{}/instances/{}/assignments", SL_REST_V2,
      SL_REST_BODY_JSON, sl_rc_assign_manual },

    { SL_HTTP_GET, "/consumers/{}/instances/{}/assignments", SL_REST_V2,
      SL_REST_BODY_NONE, sl_rc_assignments },

    { SL_HTTP_POST, "/consumers/{}/instances/{}/positions", SL_REST_V2,
      SL_REST_BODY_JSON, sl_rc_seek },

    { SL_HTTP_POST, "/consumers/{}/instances/{}/positions/beginning",
      SL_REST_V2, SL_REST_BODY_JSON, sl_rc_seek_beginning },

    { SL_HTTP_POST, "/consumers/{}/instances/{}/positions/end", SL_REST_V2,
      SL_REST_BODY_JSON, sl_rc_seek_end },

    { SL_HTTP_GET, "/consumers/{}/instances/{}/records", SL_REST_V2,
      SL_REST_BODY_NONE, sl_rc_records },

    { SL_HTTP_POST, "/consumers/{}/instances/{}/offsets", SL_REST_V2,
      SL_REST_BODY_RAW, sl_rc_commit_offsets },

    { SL_HTTP_GET, "/consumers/{}/instances/{}/offsets", SL_REST_V2,
      SL_REST_BODY_RAW, sl_rc_committed },

    { 0, NULL, 0, 0, NULL }
};


static sl_rc_sh_t      *sl_rc_sh;
static sl_slab_pool_t  *sl_rc_pool;
static sl_cycle_t      *sl_rc_cycle;
static u_char           sl_rc_tag;
static sl_event_t       sl_rc_timer;
static sl_uint_t        sl_rc_timer_started;

static sl_str_t  sl_rc_empty = sl_string("");
static sl_str_t  sl_rc_consumer = sl_string("consumer");
static sl_str_t  sl_rc_range = sl_string("range");
static sl_str_t  sl_rc_roundrobin = sl_string("roundrobin");
static sl_str_t  sl_rc_binary_type =
    sl_string("application/vnd.kafka.binary.v2+json");
static sl_str_t  sl_rc_json_type =
    sl_string("application/vnd.kafka.json.v2+json");


/* the zone, once per cycle (from the rest_proxy directive) */

sl_int_t
sl_rest_consumer_configure(sl_conf_t *cf)
{
    sl_str_t        name;
    sl_shm_zone_t  *zone;

    if (sl_rc_cycle == cf->cycle) {
        return SL_OK;
    }

    sl_rc_cycle = cf->cycle;

    sl_str_set(&name, "sl_rest_consumer");

    zone = sl_shared_memory_add(cf, &name, SL_RC_ZONE_SIZE, &sl_rc_tag);
    if (zone == NULL) {
        return SL_ERROR;
    }

    zone->init = sl_rc_init_zone;
    zone->data = &sl_rc_tag;

    return SL_OK;
}


static sl_int_t
sl_rc_init_zone(sl_shm_zone_t *zone, void *data)
{
    sl_slab_pool_t  *sp;

    sp = (sl_slab_pool_t *) zone->shm.addr;
    sl_rc_pool = sp;

    if ((data || zone->shm.exists) && sp->data) {
        /* a reload: the instances carry over */
        sl_rc_sh = sp->data;
        return SL_OK;
    }

    sl_rc_sh = sl_slab_calloc(sp, sizeof(sl_rc_sh_t));
    if (sl_rc_sh == NULL) {
        return SL_ERROR;
    }

    if (sl_shmtx_create(&sl_rc_sh->lock) != SL_OK) {
        return SL_ERROR;
    }

    sl_queue_init(&sl_rc_sh->instances);

    sp->data = sl_rc_sh;

    return SL_OK;
}


static void
sl_rc_lock(void)
{
    if (sl_shmtx_lock(&sl_rc_sh->lock) == SL_SHMTX_RECOVERED) {
        sl_log_error(SL_LOG_ALERT, sl_cycle->log, 0,
                     "rest: a process died holding the consumers' lock");
    }
}


static void
sl_rc_unlock(void)
{
    sl_shmtx_unlock(&sl_rc_sh->lock);
}


/*
 * Every worker that served a consumer request looks after all instances
 * on a short timer: joins and syncs that finished, heartbeats, auto
 * commits, idle expiry.
 */

static void
sl_rc_start_timer(sl_log_t *log)
{
    if (sl_rc_timer_started) {
        return;
    }

    sl_rc_timer_started = 1;

    sl_rc_timer.handler = sl_rc_tick;
    sl_rc_timer.log = sl_cycle->log;
    sl_rc_timer.data = NULL;
    sl_rc_timer.cancelable = 1;

    sl_add_timer(&sl_rc_timer, SL_RC_TICK);
}


void
sl_rest_consumer_init_process(sl_cycle_t *cycle)
{
    sl_uint_t  any;

    if (sl_rc_sh == NULL) {
        return;
    }

    sl_rc_lock();
    any = !sl_queue_empty(&sl_rc_sh->instances);
    sl_rc_unlock();

    /* without instances the timer starts with the first request */
    if (any) {
        sl_rc_start_timer(cycle->log);
    }
}


static void
sl_rc_tick(sl_event_t *ev)
{
    int64_t        now;
    sl_queue_t    *q;
    sl_rc_inst_t  *inst;

    if (sl_exiting || sl_rc_sh == NULL) {
        return;
    }

    now = sl_broker_group_mono_ms();

    sl_rc_lock();

    q = sl_queue_head(&sl_rc_sh->instances);

    while (q != sl_queue_sentinel(&sl_rc_sh->instances)) {
        inst = sl_queue_data(q, sl_rc_inst_t, queue);
        q = sl_queue_next(q);

        if (now - inst->last_used > (int64_t) inst->instance_timeout) {
            sl_log_error(SL_LOG_INFO, ev->log, 0,
                         "rest: consumer \"%.*s\" of group \"%.*s\" expired",
                         SL_STR_ARG(&inst->name), SL_STR_ARG(&inst->group));
            sl_rc_leave(inst, ev->log);
            sl_rc_free(inst, ev->log);
            continue;
        }

        sl_rc_drive(inst, now, ev->log);
    }

    sl_rc_unlock();

    sl_add_timer(ev, SL_RC_TICK);
}


/* the lock is held */

static sl_rc_inst_t *
sl_rc_find(sl_str_t *group, sl_str_t *name)
{
    sl_queue_t    *q;
    sl_rc_inst_t  *inst;

    for (q = sl_queue_head(&sl_rc_sh->instances);
         q != sl_queue_sentinel(&sl_rc_sh->instances);
         q = sl_queue_next(q))
    {
        inst = sl_queue_data(q, sl_rc_inst_t, queue);

        if (inst->group.len == group->len && inst->name.len == name->len
            && sl_memcmp(inst->group.data, group->data, group->len) == 0
            && sl_memcmp(inst->name.data, name->data, name->len) == 0)
        {
            return inst;
        }
    }

    return NULL;
}


/*
 * The instance of the request's path, locked and touched; NULL (unlocked)
 * after answering 404 40403.
 */

static sl_rc_inst_t *
sl_rc_instance(sl_rest_req_t *rq)
{
    sl_rc_inst_t  *inst;

    if (sl_rc_sh == NULL || !sl_broker_group_ready()) {
        (void) sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR,
                             SL_REST_ERR_KAFKA, "Consumers are not set up: "
                             "consumer groups need a kafka block.");
        return NULL;
    }

    sl_rc_start_timer(rq->r->connection->log);

    sl_rc_lock();

    inst = sl_rc_find(&rq->params[0], &rq->params[1]);

    if (inst == NULL) {
        sl_rc_unlock();
        (void) sl_rest_error(rq, SL_HTTP_NOT_FOUND,
                             SL_REST_ERR_CONSUMER_NOT_FOUND,
                             "Consumer instance not found.");
        return NULL;
    }

    inst->last_used = sl_broker_group_mono_ms();

    return inst;
}


/* strings and arrays in the zone */

static sl_int_t
sl_rc_strset(sl_str_t *dst, sl_str_t *src)
{
    u_char  *p;

    if (dst->data && dst->len == src->len
        && sl_memcmp(dst->data, src->data, src->len) == 0)
    {
        return SL_OK;
    }

    p = sl_slab_alloc(sl_rc_pool, src->len + 1);
    if (p == NULL) {
        return SL_ERROR;
    }

    sl_memcpy(p, src->data, src->len);
    p[src->len] = '\0';

    sl_rc_strfree(dst);

    dst->data = p;
    dst->len = src->len;

    return SL_OK;
}


static void
sl_rc_strfree(sl_str_t *s)
{
    if (s->data) {
        sl_slab_free(sl_rc_pool, s->data);
    }

    s->data = NULL;
    s->len = 0;
}


static void
sl_rc_free_topics(sl_rc_inst_t *inst)
{
    sl_uint_t  i;

    if (inst->topics == NULL) {
        return;
    }

    for (i = 0; i < inst->ntopics; i++) {
        sl_rc_strfree(&inst->topics[i]);
    }

    sl_slab_free(sl_rc_pool, inst->topics);
    inst->topics = NULL;
    inst->ntopics = 0;
}


static void
sl_rc_free_parts(sl_rc_inst_t *inst)
{
    sl_uint_t  i;

    inst->epoch++;

    if (inst->parts == NULL) {
        return;
    }

    for (i = 0; i < inst->nparts; i++) {
        sl_rc_strfree(&inst->parts[i].topic);
    }

    sl_slab_free(sl_rc_pool, inst->parts);
    inst->parts = NULL;
    inst->nparts = 0;
}


static void
sl_rc_free(sl_rc_inst_t *inst, sl_log_t *log)
{
    sl_queue_remove(&inst->queue);
    sl_rc_sh->ninstances--;

    sl_rc_free_topics(inst);
    sl_rc_free_parts(inst);
    sl_rc_strfree(&inst->group);
    sl_rc_strfree(&inst->name);
    sl_rc_strfree(&inst->member_id);
    sl_rc_strfree(&inst->client_host);
    sl_rc_strfree(&inst->pattern);

    sl_slab_free(sl_rc_pool, inst);
}


/* the membership: one step of the state machine, the lock held */

static void
sl_rc_drive(sl_rc_inst_t *inst, int64_t now, sl_log_t *log)
{
    sl_int_t                        rc, err;
    sl_uint_t                       changed;
    sl_pool_t                      *pool;
    sl_broker_group_join_result_t   jres;
    sl_broker_group_sync_result_t   sres;

    if (!inst->subscribed || inst->state == SL_RC_IDLE) {
        if (inst->manual && inst->auto_commit && now >= inst->next_commit) {
            inst->next_commit = now + SL_RC_AUTO_COMMIT;
            (void) sl_rc_commit(inst, log);
        }

        return;
    }

    if ((inst->state == SL_RC_JOIN && now < inst->retry_at)
        || (inst->state == SL_RC_STABLE && now < inst->next_heartbeat))
    {
        return;
    }

    pool = sl_create_pool(4096, log);
    if (pool == NULL) {
        return;
    }

    switch (inst->state) {

    case SL_RC_JOIN:
        if (now < inst->retry_at) {
            break;
        }

        sl_rc_join(inst, pool, now, log);
        break;

    case SL_RC_JOINING:
        rc = sl_broker_group_join_poll(&inst->group, &inst->member_id,
                                       inst->token, pool, &jres);
        if (rc == SL_AGAIN) {
            break;
        }

        if (rc != SL_OK) {
            inst->state = SL_RC_JOIN;
            inst->retry_at = now + SL_RC_RETRY;
            break;
        }

        sl_rc_joined(inst, &jres, pool, now, log);
        break;

    case SL_RC_SYNCING:
        rc = sl_broker_group_sync_poll(&inst->group, &inst->member_id,
                                       inst->token, pool, &sres);
        if (rc == SL_AGAIN) {
            break;
        }

        if (rc != SL_OK) {
            inst->state = SL_RC_JOIN;
            inst->retry_at = now + SL_RC_RETRY;
            break;
        }

        sl_rc_synced(inst, &sres, pool, now, log);
        break;

    case SL_RC_STABLE:
        if (now < inst->next_heartbeat) {
            break;
        }

        inst->next_heartbeat = now + SL_RC_HEARTBEAT;

        if (inst->pattern.len) {
            changed = 0;

            if (sl_rc_match_pattern(inst, pool, &changed) == SL_OK
                && changed)
            {
                sl_rc_rejoin(inst, 0, now, log);
                sl_rc_join(inst, pool, now, log);
                break;
            }
        }

        if (sl_rc_layout(inst) != inst->layout) {
            /* a topic created or grown: the leader assigns it anew */
            sl_rc_rejoin(inst, 0, now, log);
            sl_rc_join(inst, pool, now, log);
            break;
        }

        err = sl_broker_group_heartbeat(&inst->group, &inst->member_id,
                                        &sl_rc_empty, inst->generation);

        switch (err) {

        case SL_BROKER_GROUP_OK:
            if (inst->auto_commit && now >= inst->next_commit) {
                inst->next_commit = now + SL_RC_AUTO_COMMIT;
                (void) sl_rc_commit(inst, log);
            }

            break;

        case SL_BROKER_GROUP_REBALANCE_IN_PROGRESS:
            sl_rc_rejoin(inst, 0, now, log);
            sl_rc_join(inst, pool, now, log);
            break;

        case SL_BROKER_GROUP_UNKNOWN_MEMBER_ID:
        case SL_BROKER_GROUP_ILLEGAL_GENERATION:
        case SL_BROKER_GROUP_FENCED_INSTANCE_ID:
            sl_rc_rejoin(inst, 1, now, log);
            sl_rc_join(inst, pool, now, log);
            break;

        default:
            sl_log_error(SL_LOG_INFO, log, 0,
                         "rest: consumer \"%.*s\": heartbeat error %d",
                         SL_STR_ARG(&inst->name), (int) err);
            break;
        }

        break;
    }

    sl_destroy_pool(pool);
}


static void
sl_rc_join(sl_rc_inst_t *inst, sl_pool_t *pool, int64_t now, sl_log_t *log)
{
    sl_int_t                        rc;
    sl_str_t                        meta;
    sl_broker_group_join_t          j;
    sl_broker_group_protocol_t      protocols[2];
    sl_broker_group_join_result_t   res;

    if (sl_rc_metadata(pool, inst, &meta) != SL_OK) {
        inst->state = SL_RC_JOIN;
        inst->retry_at = now + SL_RC_RETRY;
        return;
    }

    inst->layout = sl_rc_layout(inst);

    protocols[0].name = sl_rc_range;
    protocols[0].metadata = meta;
    protocols[1].name = sl_rc_roundrobin;
    protocols[1].metadata = meta;

    sl_memzero(&j, sizeof(sl_broker_group_join_t));

    j.group_id = inst->group;
    j.member_id = inst->member_id.data ? inst->member_id : sl_rc_empty;
    j.instance_id = sl_rc_empty;
    j.client_id = inst->name;
    j.client_host = inst->client_host;
    j.protocol_type = sl_rc_consumer;
    j.protocols = protocols;
    j.nprotocols = 2;
    j.session_timeout = SL_RC_SESSION_TIMEOUT;
    j.rebalance_timeout = SL_RC_REBALANCE_TIMEOUT;
    j.require_known_member = 0;

    rc = sl_broker_group_join(&j, pool, &res, log);

    if (rc == SL_ERROR) {
        inst->state = SL_RC_JOIN;
        inst->retry_at = now + SL_RC_RETRY;
        return;
    }

    if (rc == SL_AGAIN) {
        if (res.member_id.data
            && sl_rc_strset(&inst->member_id, &res.member_id) != SL_OK)
        {
            inst->state = SL_RC_JOIN;
            inst->retry_at = now + SL_RC_RETRY;
            return;
        }

        inst->token = j.token;
        inst->state = SL_RC_JOINING;
        return;
    }

    sl_rc_joined(inst, &res, pool, now, log);
}


static void
sl_rc_joined(sl_rc_inst_t *inst, sl_broker_group_join_result_t *res,
    sl_pool_t *pool, int64_t now, sl_log_t *log)
{
    sl_int_t                        rc;
    sl_uint_t                       n;
    sl_broker_group_sync_t          s;
    sl_broker_group_assignment_t   *a;
    sl_broker_group_sync_result_t   sres;

    if (res->error) {
        sl_log_error(SL_LOG_INFO, log, 0,
                     "rest: consumer \"%.*s\" of group \"%.*s\": "
                     "join error %d", SL_STR_ARG(&inst->name),
                     SL_STR_ARG(&inst->group), (int) res->error);

        sl_rc_rejoin(inst, res->error == SL_BROKER_GROUP_UNKNOWN_MEMBER_ID,
                     now, log);
        inst->retry_at = now + SL_RC_RETRY;
        return;
    }

    if (res->member_id.data && res->member_id.len
        && sl_rc_strset(&inst->member_id, &res->member_id) != SL_OK)
    {
        inst->state = SL_RC_JOIN;
        inst->retry_at = now + SL_RC_RETRY;
        return;
    }

    inst->generation = res->generation;

    a = NULL;
    n = 0;

    if (res->leader.len == inst->member_id.len
        && sl_memcmp(res->leader.data, inst->member_id.data,
                     res->leader.len) == 0)
    {
        if (sl_rc_assign(pool, &res->protocol_name, res, &a, &n) != SL_OK) {
            inst->state = SL_RC_JOIN;
            inst->retry_at = now + SL_RC_RETRY;
            return;
        }
    }

    sl_memzero(&s, sizeof(sl_broker_group_sync_t));

    s.group_id = inst->group;
    s.member_id = inst->member_id;
    s.instance_id = sl_rc_empty;
    s.protocol_type = sl_rc_consumer;
    s.protocol_name = res->protocol_name;
    s.generation = inst->generation;
    s.assignments = a;
    s.nassignments = n;

    rc = sl_broker_group_sync(&s, pool, &sres, log);

    if (rc == SL_ERROR) {
        inst->state = SL_RC_JOIN;
        inst->retry_at = now + SL_RC_RETRY;
        return;
    }

    if (rc == SL_AGAIN) {
        inst->token = s.token;
        inst->state = SL_RC_SYNCING;
        return;
    }

    sl_rc_synced(inst, &sres, pool, now, log);
}


/* a ConsumerProtocol assignment (any version: the tail is ignored) */

static void
sl_rc_synced(sl_rc_inst_t *inst, sl_broker_group_sync_result_t *res,
    sl_pool_t *pool, int64_t now, sl_log_t *log)
{
    u_char     *p, *last;
    int32_t     nt, np, i, k, *parts;
    sl_str_t   *topics, topic;
    sl_uint_t   n, max;

    if (res->error) {
        sl_log_error(SL_LOG_INFO, log, 0,
                     "rest: consumer \"%.*s\" of group \"%.*s\": "
                     "sync error %d", SL_STR_ARG(&inst->name),
                     SL_STR_ARG(&inst->group), (int) res->error);

        sl_rc_rejoin(inst, res->error != SL_BROKER_GROUP_REBALANCE_IN_PROGRESS,
                     now, log);
        return;
    }

    p = res->assignment.data;
    last = p + res->assignment.len;
    n = 0;
    max = res->assignment.len / 4 + 1;

    topics = sl_pcalloc(pool, max * sizeof(sl_str_t));
    parts = sl_pcalloc(pool, max * sizeof(int32_t));

    if (topics == NULL || parts == NULL) {
        sl_rc_rejoin(inst, 0, now, log);
        inst->retry_at = now + SL_RC_RETRY;
        return;
    }

    if (p == NULL || last - p < 6) {
        goto done;
    }

    p += 2;                                   /* version */

    nt = (int32_t) ((uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
                    | (uint32_t) p[2] << 8 | p[3]);
    p += 4;

    for (i = 0; i < nt; i++) {
        if (last - p < 2) {
            goto bad;
        }

        topic.len = (size_t) ((uint32_t) p[0] << 8 | p[1]);
        p += 2;

        if ((size_t) (last - p) < topic.len + 4) {
            goto bad;
        }

        topic.data = p;
        p += topic.len;

        np = (int32_t) ((uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
                        | (uint32_t) p[2] << 8 | p[3]);
        p += 4;

        if (np < 0 || (size_t) (last - p) < (size_t) np * 4) {
            goto bad;
        }

        for (k = 0; k < np; k++) {
            if (n == max) {
                goto bad;
            }

            topics[n] = topic;
            parts[n] = (int32_t) ((uint32_t) p[0] << 24
                                  | (uint32_t) p[1] << 16
                                  | (uint32_t) p[2] << 8 | p[3]);
            p += 4;
            n++;
        }
    }

done:

    if (sl_rc_set_parts(inst, topics, parts, n) != SL_OK) {
        sl_rc_rejoin(inst, 0, now, log);
        inst->retry_at = now + SL_RC_RETRY;
        return;
    }

    inst->state = SL_RC_STABLE;
    inst->next_heartbeat = now + SL_RC_HEARTBEAT;
    inst->next_commit = now + SL_RC_AUTO_COMMIT;

    sl_log_debug(log,
                 "rest: consumer \"%.*s\" of group \"%.*s\": generation %d, "
                 "%d partitions", SL_STR_ARG(&inst->name),
                 SL_STR_ARG(&inst->group), (int) inst->generation, (int) n);

    return;

bad:

    sl_log_error(SL_LOG_ERR, log, 0,
                 "rest: consumer \"%.*s\" of group \"%.*s\": a bad "
                 "assignment", SL_STR_ARG(&inst->name),
                 SL_STR_ARG(&inst->group));

    n = 0;
    goto done;
}


/*
 * Before joining again: the positions are committed (auto commit) and
 * the partitions given up (the eager protocol); fresh: as a new member.
 */

static void
sl_rc_rejoin(sl_rc_inst_t *inst, sl_uint_t fresh, int64_t now,
    sl_log_t *log)
{
    if (inst->auto_commit && inst->nparts && !fresh) {
        (void) sl_rc_commit(inst, log);
    }

    sl_rc_free_parts(inst);

    if (fresh) {
        sl_rc_strfree(&inst->member_id);
        inst->generation = -1;
    }

    inst->state = SL_RC_JOIN;
    inst->retry_at = now;
}


/* leaves the group (the lock held), committing first with auto commit */

static void
sl_rc_leave(sl_rc_inst_t *inst, sl_log_t *log)
{
    if (inst->auto_commit && inst->nparts
        && (inst->manual || inst->state == SL_RC_STABLE))
    {
        (void) sl_rc_commit(inst, log);
    }

    if (inst->member_id.len) {
        (void) sl_broker_group_leave(&inst->group, &inst->member_id,
                                     &sl_rc_empty, log);
    }

    sl_rc_strfree(&inst->member_id);
    sl_rc_free_parts(inst);

    inst->state = SL_RC_IDLE;
    inst->generation = -1;
}


/* the live topics matching the pattern, in name order, as the topics */

/*
 * A subscription's topic_pattern, as Java's Pattern.matches() takes it:
 * the whole name must match (PCRE2, which reads Java's syntax closely).
 */

static pcre2_code *
sl_rc_regex(u_char *re, size_t len)
{
    int          err;
    PCRE2_SIZE   off;

    return pcre2_compile((PCRE2_SPTR) re, len,
                         PCRE2_ANCHORED|PCRE2_ENDANCHORED|PCRE2_UTF,
                         &err, &off, NULL);
}


/*
 * A client's pattern is matched under the consumers' lock, by every
 * worker, at each heartbeat: a backtracking one is cut short (as no
 * match) rather than hold everybody for PCRE2's default 10,000,000 steps.
 */

static sl_uint_t
sl_rc_regex_match(pcre2_code *rx, pcre2_match_data *md, sl_str_t *name)
{
    static pcre2_match_context  *mctx;

    if (mctx == NULL) {
        mctx = pcre2_match_context_create(NULL);

        if (mctx) {
            (void) pcre2_set_match_limit(mctx, SL_RC_MATCH_LIMIT);
            (void) pcre2_set_depth_limit(mctx, SL_RC_MATCH_LIMIT);
        }
    }

    return pcre2_match(rx, (PCRE2_SPTR) name->data, name->len, 0, 0, md,
                       mctx) >= 0;
}


static sl_int_t
sl_rc_match_pattern(sl_rc_inst_t *inst, sl_pool_t *pool, sl_uint_t *changed)
{
    sl_int_t             rc;
    sl_str_t            *topics;
    sl_uint_t            n, i;
    sl_array_t           matched;
    pcre2_code          *rx;
    sl_broker_topic_t   *t;
    pcre2_match_data    *md;

    rx = sl_rc_regex(inst->pattern.data, inst->pattern.len);
    if (rx == NULL) {
        return SL_ERROR;
    }

    md = pcre2_match_data_create_from_pattern(rx, NULL);
    if (md == NULL) {
        pcre2_code_free(rx);
        return SL_ERROR;
    }

    rc = sl_array_init(&matched, pool, 8, sizeof(sl_str_t));

    for (t = sl_broker_topic_next(NULL); rc == SL_OK && t;
         t = sl_broker_topic_next(t))
    {
        if (t->internal || t->deleted
            || !sl_rc_regex_match(rx, md, &t->name))
        {
            continue;
        }

        topics = sl_array_push(&matched);
        if (topics == NULL) {
            rc = SL_ERROR;
            break;
        }

        topics->len = t->name.len;
        topics->data = sl_pnalloc(pool, t->name.len);
        if (topics->data == NULL) {
            rc = SL_ERROR;
            break;
        }

        sl_memcpy(topics->data, t->name.data, t->name.len);
    }

    pcre2_match_data_free(md);
    pcre2_code_free(rx);

    if (rc != SL_OK) {
        return SL_ERROR;
    }

    topics = matched.elts;
    n = matched.nelts;

    if (n == inst->ntopics) {
        for (i = 0; i < n; i++) {
            if (topics[i].len != inst->topics[i].len
                || sl_memcmp(topics[i].data, inst->topics[i].data,
                             topics[i].len) != 0)
            {
                break;
            }
        }

        if (i == n) {
            *changed = 0;
            return SL_OK;
        }
    }

    sl_rc_free_topics(inst);

    if (n) {
        inst->topics = sl_slab_calloc(sl_rc_pool, n * sizeof(sl_str_t));
        if (inst->topics == NULL) {
            return SL_ERROR;
        }

        for (i = 0; i < n; i++) {
            if (sl_rc_strset(&inst->topics[i], &topics[i]) != SL_OK) {
                inst->ntopics = i;
                return SL_ERROR;
            }
        }

        inst->ntopics = n;
    }

    *changed = 1;

    return SL_OK;
}


/* ConsumerProtocol subscription version 0: topics, null user data */

static sl_int_t
sl_rc_metadata(sl_pool_t *pool, sl_rc_inst_t *inst, sl_str_t *out)
{
    u_char     *p;
    size_t      len;
    sl_uint_t   i;

    len = 2 + 4 + 4;

    for (i = 0; i < inst->ntopics; i++) {
        len += 2 + inst->topics[i].len;
    }

    p = sl_pnalloc(pool, len);
    if (p == NULL) {
        return SL_ERROR;
    }

    out->data = p;
    out->len = len;

    *p++ = 0;
    *p++ = 0;

    *p++ = (u_char) (inst->ntopics >> 24);
    *p++ = (u_char) (inst->ntopics >> 16);
    *p++ = (u_char) (inst->ntopics >> 8);
    *p++ = (u_char) inst->ntopics;

    for (i = 0; i < inst->ntopics; i++) {
        *p++ = (u_char) (inst->topics[i].len >> 8);
        *p++ = (u_char) inst->topics[i].len;
        p = sl_cpymem(p, inst->topics[i].data, inst->topics[i].len);
    }

    *p++ = 0xff;
    *p++ = 0xff;
    *p++ = 0xff;
    *p++ = 0xff;

    return SL_OK;
}


/* the partition counts of the subscribed topics, as one number */

static uint64_t
sl_rc_layout(sl_rc_inst_t *inst)
{
    uint64_t            h;
    sl_uint_t           i;
    sl_broker_topic_t  *t;

    h = 0;

    for (i = 0; i < inst->ntopics; i++) {
        t = sl_broker_topic_find(&inst->topics[i]);

        h = h * 31 + ((t && !t->deleted) ? (uint64_t) t->partitions_n + 1
                                          : 0);
    }

    return h;
}


typedef struct {
    sl_str_t                 member_id;
    sl_str_t                *topics;         /* subscribed */
    sl_uint_t                ntopics;
} sl_rc_member_t;


static int
sl_rc_member_cmp(const void *a, const void *b)
{
    const sl_rc_member_t  *x = a, *y = b;
    size_t                 n;
    int                    rc;

    n = sl_min(x->member_id.len, y->member_id.len);
    rc = sl_memcmp(x->member_id.data, y->member_id.data, n);

    if (rc) {
        return rc;
    }

    return (int) x->member_id.len - (int) y->member_id.len;
}


static int
sl_rc_str_cmp(const void *a, const void *b)
{
    const sl_str_t  *x = a, *y = b;
    size_t           n;
    int              rc;

    n = sl_min(x->len, y->len);
    rc = sl_memcmp(x->data, y->data, n);

    if (rc) {
        return rc;
    }

    return (int) x->len - (int) y->len;
}


static sl_uint_t
sl_rc_subscribes(sl_rc_member_t *m, sl_str_t *topic)
{
    sl_uint_t  i;

    for (i = 0; i < m->ntopics; i++) {
        if (m->topics[i].len == topic->len
            && sl_memcmp(m->topics[i].data, topic->data, topic->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * The leader's work: every member's assignment by Kafka's range (per
 * topic, consecutive partitions over the members sorted by id, the
 * first ones one more) or roundrobin (every topic's partitions in
 * order, dealt over the sorted members that subscribe to the topic).
 */

static sl_int_t
sl_rc_assign(sl_pool_t *pool, sl_str_t *protocol,
    sl_broker_group_join_result_t *res, sl_broker_group_assignment_t **out,
    sl_uint_t *nout)
{
    u_char              *p, *last, *q;
    size_t               len;
    int32_t              nt, **owner, *counts, per, extra, start, cnt;
    sl_uint_t            i, k, m, nm, t, ntopics, nsub, next, rr, tries;
    sl_str_t            *topics, topic;
    sl_array_t           all;
    sl_rc_member_t      *members, **subs;
    sl_broker_topic_t   *bt;
    sl_broker_group_assignment_t  *a;

    nm = res->nmembers;

    members = sl_pcalloc(pool, (nm + 1) * sizeof(sl_rc_member_t));
    subs = sl_pcalloc(pool, (nm + 1) * sizeof(sl_rc_member_t *));
    a = sl_pcalloc(pool, (nm + 1) * sizeof(sl_broker_group_assignment_t));

    if (members == NULL || subs == NULL || a == NULL
        || sl_array_init(&all, pool, 8, sizeof(sl_str_t)) != SL_OK)
    {
        return SL_ERROR;
    }

    /* the members' subscriptions */

    for (i = 0; i < nm; i++) {
        members[i].member_id = res->members[i].member_id;

        p = res->members[i].metadata.data;
        last = p + res->members[i].metadata.len;

        if (p == NULL || last - p < 6) {
            continue;
        }

        p += 2;
        nt = (int32_t) ((uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
                        | (uint32_t) p[2] << 8 | p[3]);
        p += 4;

        if (nt <= 0 || nt > (last - p) / 2) {
            continue;
        }

        members[i].topics = sl_pcalloc(pool, nt * sizeof(sl_str_t));
        if (members[i].topics == NULL) {
            return SL_ERROR;
        }

        for (k = 0; k < (sl_uint_t) nt; k++) {
            if (last - p < 2) {
                break;
            }

            topic.len = (size_t) ((uint32_t) p[0] << 8 | p[1]);
            p += 2;

            if ((size_t) (last - p) < topic.len) {
                break;
            }

            topic.data = p;
            p += topic.len;

            members[i].topics[members[i].ntopics++] = topic;

            for (t = 0; t < all.nelts; t++) {
                if (sl_rc_str_cmp(&((sl_str_t *) all.elts)[t], &topic) == 0)
                {
                    break;
                }
            }

            if (t == all.nelts) {
                topics = sl_array_push(&all);
                if (topics == NULL) {
                    return SL_ERROR;
                }

                *topics = topic;
            }
        }
    }

    qsort(members, nm, sizeof(sl_rc_member_t), sl_rc_member_cmp);

    topics = all.elts;
    ntopics = all.nelts;

    qsort(topics, ntopics, sizeof(sl_str_t), sl_rc_str_cmp);

    /* owner[t][p]: the member index, or -1 */

    owner = sl_pcalloc(pool, (ntopics + 1) * sizeof(int32_t *));
    counts = sl_pcalloc(pool, (ntopics + 1) * sizeof(int32_t));

    if (owner == NULL || counts == NULL) {
        return SL_ERROR;
    }

    for (t = 0; t < ntopics; t++) {
        bt = sl_broker_topic_find(&topics[t]);
        counts[t] = (bt && !bt->deleted) ? bt->partitions_n : 0;

        owner[t] = sl_pcalloc(pool, (counts[t] + 1) * sizeof(int32_t));
        if (owner[t] == NULL) {
            return SL_ERROR;
        }

        for (k = 0; k < (sl_uint_t) counts[t]; k++) {
            owner[t][k] = -1;
        }
    }

    rr = (protocol->len == sl_rc_roundrobin.len
          && sl_memcmp(protocol->data, sl_rc_roundrobin.data,
                       protocol->len) == 0);

    next = 0;

    for (t = 0; t < ntopics; t++) {
        nsub = 0;

        for (m = 0; m < nm; m++) {
            if (sl_rc_subscribes(&members[m], &topics[t])) {
                subs[nsub++] = &members[m];
            }
        }

        if (nsub == 0 || counts[t] == 0) {
            continue;
        }

        if (!rr) {
            per = counts[t] / (int32_t) nsub;
            extra = counts[t] % (int32_t) nsub;

            for (i = 0; i < nsub; i++) {
                start = per * (int32_t) i + (int32_t) sl_min((int32_t) i,
                                                             extra);
                cnt = per + ((int32_t) i < extra ? 1 : 0);

                for (k = 0; k < (sl_uint_t) cnt; k++) {
                    owner[t][start + k] = (int32_t) (subs[i] - members);
                }
            }

            continue;
        }

        for (k = 0; k < (sl_uint_t) counts[t]; k++) {
            for (tries = 0; tries < nm; tries++) {
                m = next % nm;
                next++;

                if (sl_rc_subscribes(&members[m], &topics[t])) {
                    owner[t][k] = (int32_t) m;
                    break;
                }
            }
        }
    }

    /* each member's ConsumerProtocol assignment, version 0 */

    for (m = 0; m < nm; m++) {
        len = 2 + 4 + 4;

        for (t = 0; t < ntopics; t++) {
            cnt = 0;

            for (k = 0; k < (sl_uint_t) counts[t]; k++) {
                cnt += (owner[t][k] == (int32_t) m);
            }

            if (cnt) {
                len += 2 + topics[t].len + 4 + 4 * cnt;
            }
        }

        p = sl_pnalloc(pool, len);
        if (p == NULL) {
            return SL_ERROR;
        }

        a[m].member_id = members[m].member_id;
        a[m].assignment.data = p;
        a[m].assignment.len = len;

        *p++ = 0;
        *p++ = 0;
        q = p;
        p += 4;
        nt = 0;

        for (t = 0; t < ntopics; t++) {
            cnt = 0;

            for (k = 0; k < (sl_uint_t) counts[t]; k++) {
                cnt += (owner[t][k] == (int32_t) m);
            }

            if (cnt == 0) {
                continue;
            }

            nt++;

            *p++ = (u_char) (topics[t].len >> 8);
            *p++ = (u_char) topics[t].len;
            p = sl_cpymem(p, topics[t].data, topics[t].len);

            *p++ = (u_char) ((uint32_t) cnt >> 24);
            *p++ = (u_char) ((uint32_t) cnt >> 16);
            *p++ = (u_char) ((uint32_t) cnt >> 8);
            *p++ = (u_char) cnt;

            for (k = 0; k < (sl_uint_t) counts[t]; k++) {
                if (owner[t][k] != (int32_t) m) {
                    continue;
                }

                *p++ = (u_char) (k >> 24);
                *p++ = (u_char) (k >> 16);
                *p++ = (u_char) (k >> 8);
                *p++ = (u_char) k;
            }
        }

        q[0] = (u_char) ((uint32_t) nt >> 24);
        q[1] = (u_char) ((uint32_t) nt >> 16);
        q[2] = (u_char) ((uint32_t) nt >> 8);
        q[3] = (u_char) nt;

        *p++ = 0xff;
        *p++ = 0xff;
        *p++ = 0xff;
        *p++ = 0xff;
    }

    *out = a;
    *nout = nm;

    return SL_OK;
}


/*
 * A new assignment: partitions kept keep their positions, new ones are
 * read from the committed offset (or reset) when first read.
 */

static sl_int_t
sl_rc_set_parts(sl_rc_inst_t *inst, sl_str_t *topics, int32_t *partitions,
    sl_uint_t n)
{
    sl_uint_t      i;
    sl_rc_part_t  *parts, *old;

    parts = NULL;

    if (n) {
        parts = sl_slab_calloc(sl_rc_pool, n * sizeof(sl_rc_part_t));
        if (parts == NULL) {
            return SL_ERROR;
        }
    }

    for (i = 0; i < n; i++) {
        if (sl_rc_strset(&parts[i].topic, &topics[i]) != SL_OK) {
            while (i--) {
                sl_rc_strfree(&parts[i].topic);
            }

            sl_slab_free(sl_rc_pool, parts);
            return SL_ERROR;
        }

        parts[i].partition = partitions[i];
        parts[i].position = -1;
        parts[i].committed = -1;

        old = sl_rc_part_find(inst, &topics[i], partitions[i]);

        if (old) {
            parts[i].position = old->position;
            parts[i].committed = old->committed;
        }
    }

    sl_rc_free_parts(inst);

    inst->parts = parts;
    inst->nparts = n;

    return SL_OK;
}


static sl_rc_part_t *
sl_rc_part_find(sl_rc_inst_t *inst, sl_str_t *topic, int32_t partition)
{
    sl_uint_t  i;

    for (i = 0; i < inst->nparts; i++) {
        if (inst->parts[i].partition == partition
            && inst->parts[i].topic.len == topic->len
            && sl_memcmp(inst->parts[i].topic.data, topic->data,
                         topic->len) == 0)
        {
            return &inst->parts[i];
        }
    }

    return NULL;
}


/* commits the positions that moved; a group error, or 0 */

static sl_int_t
sl_rc_commit(sl_rc_inst_t *inst, sl_log_t *log)
{
    sl_int_t                   err;
    sl_uint_t                  i, n;
    sl_broker_group_offset_t  *offs;

    if (inst->nparts == 0) {
        return SL_BROKER_GROUP_OK;
    }

    offs = sl_alloc(inst->nparts * sizeof(sl_broker_group_offset_t), log);
    if (offs == NULL) {
        return SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
    }

    n = 0;

    for (i = 0; i < inst->nparts; i++) {
        if (inst->parts[i].position < 0
            || inst->parts[i].position == inst->parts[i].committed)
        {
            continue;
        }

        sl_memzero(&offs[n], sizeof(sl_broker_group_offset_t));
        offs[n].topic = inst->parts[i].topic;
        offs[n].partition = inst->parts[i].partition;
        offs[n].offset = inst->parts[i].position;
        offs[n].leader_epoch = -1;
        offs[n].metadata = sl_rc_empty;
        n++;
    }

    err = SL_BROKER_GROUP_OK;

    if (n) {
        err = sl_broker_group_commit(&inst->group,
                                     inst->manual ? -1 : inst->generation,
                                     inst->manual ? &sl_rc_empty
                                                  : &inst->member_id,
                                     &sl_rc_empty, -1, offs, n, log);

        if (err == SL_BROKER_GROUP_OK) {
            n = 0;

            for (i = 0; i < inst->nparts; i++) {
                if (inst->parts[i].position < 0
                    || inst->parts[i].position == inst->parts[i].committed)
                {
                    continue;
                }

                if (offs[n].error == SL_BROKER_GROUP_OK) {
                    inst->parts[i].committed = offs[n].offset;
                }

                n++;
            }
        }
    }

    sl_free(offs);

    return err;
}


static sl_broker_partition_t *
sl_rc_partition(sl_str_t *topic, int32_t partition)
{
    sl_broker_topic_t  *t;

    t = sl_broker_topic_find(topic);

    if (t == NULL || t->deleted) {
        return NULL;
    }

    return sl_broker_partition(t, partition);
}


static int64_t
sl_rc_reset_offset(sl_rc_inst_t *inst, sl_broker_partition_t *part)
{
    if (inst->earliest) {
        return sl_atomic_load(&part->log_start_offset);
    }

    return sl_atomic_load(&part->high_watermark);
}


/* request helpers */

static json_t *
sl_rc_body(sl_rest_req_t *rq, sl_uint_t allow_empty)
{
    u_char        *p;
    json_error_t   err;

    for (p = rq->body.data; p && p < rq->body.data + rq->body.len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            break;
        }
    }

    if (rq->body.len == 0 || p == rq->body.data + rq->body.len) {
        if (allow_empty) {
            return NULL;
        }

        (void) sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                             "Request body is empty: a JSON value "
                             "is expected");
        return NULL;
    }

    rq->json = json_loadb((char *) rq->body.data, rq->body.len,
                          JSON_DECODE_ANY|JSON_REJECT_DUPLICATES, &err);

    if (rq->json == NULL) {
        (void) sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                             "Malformed JSON at line %d, column %d: %s",
                             err.line, err.column, err.text);
        return NULL;
    }

    return rq->json;
}


/* an integer, or a string of one (the proxy takes both) */

static sl_int_t
sl_rc_json_int(json_t *v, int64_t *out)
{
    off_t        n;
    size_t       len;
    const char  *s;
    sl_uint_t    neg;

    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return SL_OK;
    }

    if (!json_is_string(v)) {
        return SL_ERROR;
    }

    s = json_string_value(v);
    len = json_string_length(v);
    neg = (len > 1 && s[0] == '-');

    n = sl_atoof((u_char *) s + neg, len - neg);
    if (n == SL_ERROR) {
        return SL_ERROR;
    }

    *out = neg ? -(int64_t) n : (int64_t) n;

    return SL_OK;
}


static sl_int_t
sl_rc_json_tp(json_t *v, sl_str_t *topic, int32_t *partition)
{
    json_t   *t;
    int64_t   p;

    t = json_object_get(v, "topic");

    if (!json_is_object(v) || !json_is_string(t)
        || sl_rc_json_int(json_object_get(v, "partition"), &p) != SL_OK
        || p < 0 || p > INT32_MAX)
    {
        return SL_ERROR;
    }

    topic->data = (u_char *) json_string_value(t);
    topic->len = json_string_length(t);
    *partition = (int32_t) p;

    return SL_OK;
}


/*
 * The body's {"partitions":[{"topic":T,"partition":P}, ...]} as arrays
 * from the request pool; SL_ERROR after answering 422, or with rq->rc
 * SL_ERROR when out of memory.
 */

static sl_int_t
sl_rc_json_partitions(sl_rest_req_t *rq, sl_str_t **topics, int32_t **ids,
    size_t *n)
{
    size_t   i;
    json_t  *parts;

    parts = json_is_object(rq->json) ? json_object_get(rq->json, "partitions")
                                     : NULL;

    if (!json_is_array(parts)) {
        (void) sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY, 42201,
                             "A partitions list is expected");
        return SL_ERROR;
    }

    *n = json_array_size(parts);

    *topics = sl_pcalloc(rq->r->pool, (*n + 1) * sizeof(sl_str_t));
    *ids = sl_pcalloc(rq->r->pool, (*n + 1) * sizeof(int32_t));

    if (*topics == NULL || *ids == NULL) {
        rq->rc = SL_ERROR;
        return SL_ERROR;
    }

    for (i = 0; i < *n; i++) {
        if (sl_rc_json_tp(json_array_get(parts, i), &(*topics)[i],
                          &(*ids)[i])
            != SL_OK)
        {
            (void) sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY, 42201,
                                 "Each partition needs a topic and a "
                                 "partition");
            return SL_ERROR;
        }
    }

    return SL_OK;
}


static sl_uint_t
sl_rc_contains(sl_str_t *s, const char *what)
{
    size_t   n, i;

    n = sl_strlen(what);

    for (i = 0; i + n <= s->len; i++) {
        if (sl_strncasecmp(s->data + i, (u_char *) what, n) == 0) {
            return 1;
        }
    }

    return 0;
}


/* a path segment, percent-encoded but for RFC 3986's unreserved */

static u_char *
sl_rc_escape(u_char *dst, sl_str_t *src)
{
    u_char     c;
    size_t     i;
    static const u_char  hex[] = "0123456789ABCDEF";

    for (i = 0; i < src->len; i++) {
        c = src->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~')
        {
            *dst++ = c;
            continue;
        }

        *dst++ = '%';
        *dst++ = hex[c >> 4];
        *dst++ = hex[c & 0xf];
    }

    return dst;
}


/* POST /consumers/{group} */

static sl_int_t
sl_rc_create(sl_rest_req_t *rq)
{
    u_char        *p, rnd[8];
    size_t         len;
    json_t        *body, *v;
    int64_t        n, now;
    sl_str_t       name, *host, s, addr;
    sl_uint_t      i, format, earliest, auto_commit;
    sl_rc_inst_t  *inst;

    body = sl_rc_body(rq, 1);

    if (body == NULL && rq->rc) {
        return rq->rc;
    }

    if (body && !json_is_object(body)) {
        return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY,
                             SL_REST_ERR_INVALID_CONSUMER_CONFIG,
                             "Invalid consumer configuration: "
                             "an object is expected");
    }

    if (sl_rc_sh == NULL || !sl_broker_group_ready()) {
        return sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR,
                             SL_REST_ERR_KAFKA, "Consumers are not set up: "
                             "consumer groups need a kafka block.");
    }

    format = SL_REST_FMT_BINARY;
    earliest = 0;
    auto_commit = 1;

    /* the name */

    v = body ? json_object_get(body, "name") : NULL;

    if (v && !json_is_null(v)) {
        if (!json_is_string(v) || json_string_length(v) == 0
            || json_string_length(v) > 255)
        {
            return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY,
                                 SL_REST_ERR_INVALID_CONSUMER_CONFIG,
                                 "Invalid consumer configuration: "
                                 "bad name");
        }

        name.data = (u_char *) json_string_value(v);
        name.len = json_string_length(v);

        for (i = 0; i < name.len; i++) {
            if (name.data[i] == '/' || name.data[i] < 0x20) {
                return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY,
                                     SL_REST_ERR_INVALID_CONSUMER_CONFIG,
                                     "Invalid consumer configuration: "
                                     "bad name");
            }
        }

    } else {
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t) sizeof(rnd)) {
            sl_memzero(rnd, sizeof(rnd));
            rnd[0] = (u_char) sl_current_msec;
            rnd[1] = (u_char) (sl_current_msec >> 8);
            rnd[2] = (u_char) sl_pid;
        }

        name.data = sl_pnalloc(rq->r->pool, 64);
        if (name.data == NULL) {
            return SL_ERROR;
        }

        p = sl_slprintf(name.data, name.data + 64, "rest-consumer-%d-",
                        (int) sl_rest_node_id());

        for (i = 0; i < sizeof(rnd); i++) {
            p = sl_slprintf(p, name.data + 64, "%02x", (unsigned) rnd[i]);
        }

        name.len = p - name.data;
    }

    /* the format */

    v = body ? json_object_get(body, "format") : NULL;

    if (v && !json_is_null(v)) {
        s.data = (u_char *) (json_is_string(v) ? json_string_value(v) : "");
        s.len = json_is_string(v) ? json_string_length(v) : 0;

        if (s.len == 6 && sl_strncasecmp(s.data, (u_char *) "binary", 6) == 0)
        {
            format = SL_REST_FMT_BINARY;

        } else if (s.len == 4
                   && sl_strncasecmp(s.data, (u_char *) "json", 4) == 0)
        {
            format = SL_REST_FMT_JSON;

        } else {
            return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY,
                                 SL_REST_ERR_INVALID_CONSUMER_CONFIG,
                                 "Invalid consumer configuration: "
                                 "format \"%.*s\" is not supported (binary "
                                 "and json are)", SL_STR_ARG(&s));
        }
    }

    /* auto.offset.reset */

    v = body ? json_object_get(body, "auto.offset.reset") : NULL;

    if (v && !json_is_null(v)) {
        s.data = (u_char *) (json_is_string(v) ? json_string_value(v) : "");
        s.len = json_is_string(v) ? json_string_length(v) : 0;

        if ((s.len == 8
             && sl_strncasecmp(s.data, (u_char *) "earliest", 8) == 0)
            || (s.len == 8
                && sl_strncasecmp(s.data, (u_char *) "smallest", 8) == 0))
        {
            earliest = 1;

        } else if ((s.len == 6
                    && sl_strncasecmp(s.data, (u_char *) "latest", 6) == 0)
                   || (s.len == 7
                       && sl_strncasecmp(s.data, (u_char *) "largest", 7)
                          == 0)
                   || (s.len == 4
                       && sl_strncasecmp(s.data, (u_char *) "none", 4) == 0))
        {
            earliest = 0;

        } else {
            return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY,
                                 SL_REST_ERR_INVALID_CONSUMER_CONFIG,
                                 "Invalid consumer configuration: "
                                 "auto.offset.reset \"%.*s\"",
                                 SL_STR_ARG(&s));
        }
    }

    /* auto.commit.enable */

    v = body ? json_object_get(body, "auto.commit.enable") : NULL;

    if (v && !json_is_null(v)) {
        if (json_is_boolean(v)) {
            auto_commit = json_is_true(v);

        } else if (json_is_string(v)
                   && json_string_length(v) == 4
                   && sl_strncasecmp((u_char *) json_string_value(v),
                                     (u_char *) "true", 4) == 0)
        {
            auto_commit = 1;

        } else if (json_is_string(v)
                   && json_string_length(v) == 5
                   && sl_strncasecmp((u_char *) json_string_value(v),
                                     (u_char *) "false", 5) == 0)
        {
            auto_commit = 0;

        } else {
            return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY,
                                 SL_REST_ERR_INVALID_CONSUMER_CONFIG,
                                 "Invalid consumer configuration: "
                                 "auto.commit.enable");
        }
    }

    addr = rq->r->connection->addr_text;

    s.data = sl_pnalloc(rq->r->pool, addr.len + 1);
    if (s.data == NULL) {
        return SL_ERROR;
    }

    s.data[0] = '/';
    s.len = sl_cpymem(s.data + 1, addr.data, addr.len) - s.data;

    sl_rc_start_timer(rq->r->connection->log);

    now = sl_broker_group_mono_ms();

    sl_rc_lock();

    if (sl_rc_find(&rq->params[0], &name)) {
        sl_rc_unlock();
        return sl_rest_error(rq, SL_HTTP_CONFLICT,
                             SL_REST_ERR_CONSUMER_EXISTS,
                             "Consumer with specified consumer ID already "
                             "exists in the specified consumer group.");
    }

    inst = sl_slab_calloc(sl_rc_pool, sizeof(sl_rc_inst_t));
    if (inst == NULL) {
        sl_rc_unlock();
        return sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR,
                             SL_REST_ERR_KAFKA,
                             "Too many consumer instances.");
    }

    sl_queue_insert_tail(&sl_rc_sh->instances, &inst->queue);
    sl_rc_sh->ninstances++;

    if (sl_rc_strset(&inst->group, &rq->params[0]) != SL_OK
        || sl_rc_strset(&inst->name, &name) != SL_OK
        || sl_rc_strset(&inst->client_host, &s) != SL_OK)
    {
        sl_rc_free(inst, rq->r->connection->log);
        sl_rc_unlock();
        return sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR,
                             SL_REST_ERR_KAFKA,
                             "Too many consumer instances.");
    }

    inst->format = format;
    inst->earliest = earliest;
    inst->auto_commit = auto_commit;
    inst->generation = -1;
    inst->state = SL_RC_IDLE;
    inst->instance_timeout = rq->conf->consumer_instance_timeout;
    inst->last_used = now;
    inst->fetch_min_bytes = -1;

    v = body ? json_object_get(body, "fetch.min.bytes") : NULL;

    if (v && !json_is_null(v) && sl_rc_json_int(v, &n) == SL_OK) {
        inst->fetch_min_bytes = n;
    }

    v = body ? json_object_get(body, "consumer.request.timeout.ms") : NULL;

    if (v && !json_is_null(v) && sl_rc_json_int(v, &n) == SL_OK && n >= 0) {
        inst->request_timeout = (sl_msec_t) n;
    }

    sl_rc_unlock();

    /* the base URI, by the request's Host */

    host = sl_rest_header(rq, "Host");

    if (host == NULL || host->len == 0) {
        host = &s;
        s.data = sl_pnalloc(rq->r->pool, 64);
        if (s.data == NULL) {
            return SL_ERROR;
        }

        {
            sl_str_t  ahost;
            sl_int_t  aport;

            sl_rest_advertised(&ahost, &aport);
            s.len = sl_slprintf(s.data, s.data + 64, "%.*s:%d",
                                SL_STR_ARG(&ahost), (int) aport)
                    - s.data;
        }
    }

    len = host->len + rq->params[0].len * 3 + name.len * 3 + 64;

    p = sl_pnalloc(rq->r->pool, len);
    if (p == NULL) {
        return SL_ERROR;
    }

    s.data = p;
    p = sl_slprintf(p, s.data + len, "http://%.*s/consumers/",
                    SL_STR_ARG(host));
    p = sl_rc_escape(p, &rq->params[0]);
    p = sl_cpymem(p, "/instances/", sizeof("/instances/") - 1);
    p = sl_rc_escape(p, &name);
    s.len = p - s.data;

    return sl_rest_send(rq, SL_HTTP_OK,
                        json_pack("{s:s%,s:s%}",
                                  "instance_id", (char *) name.data,
                                  name.len,
                                  "base_uri", (char *) s.data, s.len));
}


/* DELETE /consumers/{group}/instances/{name} */

static sl_int_t
sl_rc_delete(sl_rest_req_t *rq)
{
    sl_rc_inst_t  *inst;

    inst = sl_rc_instance(rq);
    if (inst == NULL) {
        return rq->rc;
    }

    sl_rc_leave(inst, rq->r->connection->log);
    sl_rc_free(inst, rq->r->connection->log);

    sl_rc_unlock();

    return sl_rest_send(rq, SL_HTTP_NO_CONTENT, NULL);
}


/* POST .../subscription {"topics":[...]} or {"topic_pattern":"..."} */

static sl_int_t
sl_rc_subscribe(sl_rest_req_t *rq)
{
    json_t        *topics, *pattern, *v;
    size_t         i, n;
    int64_t        now;
    pcre2_code    *rx;
    sl_str_t       s, *names;
    sl_uint_t      changed;
    sl_pool_t     *pool;
    sl_rc_inst_t  *inst;

    if (!json_is_object(rq->json)) {
        return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY, 42201,
                             "An object with topics or topic_pattern is "
                             "expected");
    }

    topics = json_object_get(rq->json, "topics");
    pattern = json_object_get(rq->json, "topic_pattern");

    if (json_is_null(topics)) {
        topics = NULL;
    }

    if (json_is_null(pattern)) {
        pattern = NULL;
    }

    if ((topics == NULL) == (pattern == NULL)
        || (topics && (!json_is_array(topics) || json_array_size(topics) == 0))
        || (pattern && (!json_is_string(pattern)
                        || json_string_length(pattern) == 0
                        || json_string_length(pattern) > 1024)))
    {
        return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY, 42201,
                             "Either a non-empty topics list or a "
                             "topic_pattern is expected");
    }

    n = topics ? json_array_size(topics) : 0;

    names = sl_pcalloc(rq->r->pool, (n + 1) * sizeof(sl_str_t));
    if (names == NULL) {
        return SL_ERROR;
    }

    for (i = 0; i < n; i++) {
        v = json_array_get(topics, i);

        if (!json_is_string(v) || json_string_length(v) == 0
            || json_string_length(v) > SL_BROKER_TOPIC_MAX_LEN)
        {
            return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY, 42201,
                                 "Topic names must be non-empty strings");
        }

        names[i].data = (u_char *) json_string_value(v);
        names[i].len = json_string_length(v);
    }

    if (pattern) {
        rx = sl_rc_regex((u_char *) json_string_value(pattern),
                         json_string_length(pattern));
        if (rx == NULL) {
            return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY,
                                 SL_REST_ERR_INVALID_CONSUMER_CONFIG,
                                 "Invalid topic_pattern");
        }

        pcre2_code_free(rx);

        s.data = (u_char *) json_string_value(pattern);
        s.len = json_string_length(pattern);
    }

    inst = sl_rc_instance(rq);
    if (inst == NULL) {
        return rq->rc;
    }

    if (inst->manual) {
        sl_rc_unlock();
        return sl_rest_error(rq, SL_HTTP_CONFLICT, SL_RC_ERR_ILLEGAL_STATE,
                             "Subscription to topics, partitions and "
                             "pattern are mutually exclusive.");
    }

    now = sl_broker_group_mono_ms();

    pool = sl_create_pool(4096, rq->r->connection->log);
    if (pool == NULL) {
        sl_rc_unlock();
        return SL_ERROR;
    }

    sl_rc_free_topics(inst);
    sl_rc_strfree(&inst->pattern);

    if (pattern) {
        if (sl_rc_strset(&inst->pattern, &s) != SL_OK
            || sl_rc_match_pattern(inst, pool, &changed) != SL_OK)
        {
            goto nomem;
        }

    } else {
        inst->topics = sl_slab_calloc(sl_rc_pool, n * sizeof(sl_str_t));
        if (inst->topics == NULL) {
            goto nomem;
        }

        for (i = 0; i < n; i++) {
            if (sl_rc_strset(&inst->topics[i], &names[i]) != SL_OK) {
                inst->ntopics = i;
                goto nomem;
            }
        }

        inst->ntopics = n;
    }

    /* a new subscription: (re)join in the background */

    if (inst->subscribed && inst->state != SL_RC_IDLE) {
        sl_rc_rejoin(inst, 0, now, rq->r->connection->log);

    } else {
        inst->state = SL_RC_JOIN;
        inst->retry_at = now;
    }

    inst->subscribed = 1;

    sl_rc_join(inst, pool, now, rq->r->connection->log);

    sl_destroy_pool(pool);
    sl_rc_unlock();

    return sl_rest_send(rq, SL_HTTP_NO_CONTENT, NULL);

nomem:

    sl_destroy_pool(pool);
    sl_rc_unlock();

    return sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR, SL_REST_ERR_KAFKA,
                         "Out of memory for consumers.");
}


/* GET .../subscription */

static sl_int_t
sl_rc_subscription(sl_rest_req_t *rq)
{
    json_t        *j, *a;
    sl_uint_t      i;
    sl_rc_inst_t  *inst;

    inst = sl_rc_instance(rq);
    if (inst == NULL) {
        return rq->rc;
    }

    a = json_array();

    for (i = 0; a && inst->subscribed && i < inst->ntopics; i++) {
        if (json_array_append_new(a, json_stringn(
                (char *) inst->topics[i].data, inst->topics[i].len)) != 0)
        {
            json_decref(a);
            a = NULL;
        }
    }

    sl_rc_unlock();

    if (a == NULL) {
        return SL_ERROR;
    }

    j = json_pack("{s:o}", "topics", a);

    return sl_rest_send(rq, SL_HTTP_OK, j);
}


/* DELETE .../subscription */

static sl_int_t
sl_rc_unsubscribe(sl_rest_req_t *rq)
{
    sl_rc_inst_t  *inst;

    inst = sl_rc_instance(rq);
    if (inst == NULL) {
        return rq->rc;
    }

    if (inst->subscribed) {
        sl_rc_leave(inst, rq->r->connection->log);
        sl_rc_free_topics(inst);
        sl_rc_strfree(&inst->pattern);
        inst->subscribed = 0;
    }

    sl_rc_unlock();

    return sl_rest_send(rq, SL_HTTP_NO_CONTENT, NULL);
}


/* POST .../assignments {"partitions":[{"topic","partition"}]} */

static sl_int_t
sl_rc_assign_manual(sl_rest_req_t *rq)
{
    size_t         i, n;
    int32_t       *ids;
    sl_str_t      *topics;
    sl_rc_inst_t  *inst;

    if (sl_rc_json_partitions(rq, &topics, &ids, &n) != SL_OK) {
        return rq->rc;
    }

    for (i = 0; i < n; i++) {
        if (sl_rc_partition(&topics[i], ids[i]) == NULL) {
            return sl_rest_error(rq, SL_HTTP_NOT_FOUND,
                                 SL_REST_ERR_PARTITION_NOT_FOUND,
                                 "Partition not found.");
        }
    }

    inst = sl_rc_instance(rq);
    if (inst == NULL) {
        return rq->rc;
    }

    if (inst->subscribed) {
        sl_rc_unlock();
        return sl_rest_error(rq, SL_HTTP_CONFLICT, SL_RC_ERR_ILLEGAL_STATE,
                             "Subscription to topics, partitions and "
                             "pattern are mutually exclusive.");
    }

    if (inst->manual && inst->auto_commit) {
        (void) sl_rc_commit(inst, rq->r->connection->log);
    }

    if (sl_rc_set_parts(inst, topics, ids, n) != SL_OK) {
        sl_rc_unlock();
        return sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR,
                             SL_REST_ERR_KAFKA,
                             "Out of memory for consumers.");
    }

    inst->manual = (n != 0);
    inst->next_commit = sl_broker_group_mono_ms() + SL_RC_AUTO_COMMIT;

    sl_rc_unlock();

    return sl_rest_send(rq, SL_HTTP_NO_CONTENT, NULL);
}


/* GET .../assignments */

static sl_int_t
sl_rc_assignments(sl_rest_req_t *rq)
{
    json_t        *a, *p;
    int64_t        now;
    sl_uint_t      i;
    sl_rc_inst_t  *inst;

    inst = sl_rc_instance(rq);
    if (inst == NULL) {
        return rq->rc;
    }

    now = sl_broker_group_mono_ms();
    sl_rc_drive(inst, now, rq->r->connection->log);

    a = json_array();

    for (i = 0; a && i < inst->nparts; i++) {
        if (inst->subscribed && inst->state != SL_RC_STABLE) {
            break;
        }

        p = json_pack("{s:s%,s:i}", "topic", (char *) inst->parts[i].topic.data,
                      inst->parts[i].topic.len,
                      "partition", (int) inst->parts[i].partition);

        if (p == NULL || json_array_append_new(a, p) != 0) {
            json_decref(a);
            a = NULL;
        }
    }

    sl_rc_unlock();

    if (a == NULL) {
        return SL_ERROR;
    }

    return sl_rest_send(rq, SL_HTTP_OK, json_pack("{s:o}", "partitions", a));
}


/* POST .../positions {"offsets":[{"topic","partition","offset"}]} */

static sl_int_t
sl_rc_seek(sl_rest_req_t *rq)
{
    json_t        *offs, *v;
    size_t         i, n;
    int32_t        partition;
    int64_t       *offsets;
    sl_str_t      *topics;
    int32_t       *ids;
    sl_rc_part_t  *part;
    sl_rc_inst_t  *inst;

    offs = json_is_object(rq->json) ? json_object_get(rq->json, "offsets")
                                    : NULL;

    if (!json_is_array(offs)) {
        return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY, 42201,
                             "An offsets list is expected");
    }

    n = json_array_size(offs);

    topics = sl_pcalloc(rq->r->pool, (n + 1) * sizeof(sl_str_t));
    ids = sl_pcalloc(rq->r->pool, (n + 1) * sizeof(int32_t));
    offsets = sl_pcalloc(rq->r->pool, (n + 1) * sizeof(int64_t));

    if (topics == NULL || ids == NULL || offsets == NULL) {
        return SL_ERROR;
    }

    for (i = 0; i < n; i++) {
        v = json_array_get(offs, i);

        if (sl_rc_json_tp(v, &topics[i], &partition) != SL_OK
            || sl_rc_json_int(json_object_get(v, "offset"), &offsets[i])
               != SL_OK
            || offsets[i] < 0)
        {
            return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY, 42201,
                                 "Each offset needs a topic, a partition and "
                                 "an offset");
        }

        ids[i] = partition;
    }

    inst = sl_rc_instance(rq);
    if (inst == NULL) {
        return rq->rc;
    }

    sl_rc_drive(inst, sl_broker_group_mono_ms(), rq->r->connection->log);

    for (i = 0; i < n; i++) {
        if (sl_rc_part_find(inst, &topics[i], ids[i]) == NULL) {
            sl_rc_unlock();
            return sl_rest_error(rq, SL_HTTP_CONFLICT,
                                 SL_RC_ERR_ILLEGAL_STATE,
                                 "No current assignment for partition "
                                 "%.*s-%d", SL_STR_ARG(&topics[i]),
                                 (int) ids[i]);
        }
    }

    for (i = 0; i < n; i++) {
        part = sl_rc_part_find(inst, &topics[i], ids[i]);
        part->position = offsets[i];
    }

    sl_rc_unlock();

    return sl_rest_send(rq, SL_HTTP_NO_CONTENT, NULL);
}


static sl_int_t
sl_rc_seek_beginning(sl_rest_req_t *rq)
{
    return sl_rc_seek_edge(rq, 0);
}


static sl_int_t
sl_rc_seek_end(sl_rest_req_t *rq)
{
    return sl_rc_seek_edge(rq, 1);
}


static sl_int_t
sl_rc_seek_edge(sl_rest_req_t *rq, sl_uint_t end)
{
    size_t                  i, n;
    int32_t                *ids;
    sl_str_t               *topics;
    sl_rc_part_t           *part;
    sl_rc_inst_t           *inst;
    sl_broker_partition_t  *bp;

    if (sl_rc_json_partitions(rq, &topics, &ids, &n) != SL_OK) {
        return rq->rc;
    }

    inst = sl_rc_instance(rq);
    if (inst == NULL) {
        return rq->rc;
    }

    sl_rc_drive(inst, sl_broker_group_mono_ms(), rq->r->connection->log);

    for (i = 0; i < n; i++) {
        if (sl_rc_part_find(inst, &topics[i], ids[i]) == NULL) {
            sl_rc_unlock();
            return sl_rest_error(rq, SL_HTTP_CONFLICT,
                                 SL_RC_ERR_ILLEGAL_STATE,
                                 "No current assignment for partition "
                                 "%.*s-%d", SL_STR_ARG(&topics[i]),
                                 (int) ids[i]);
        }
    }

    for (i = 0; i < n; i++) {
        part = sl_rc_part_find(inst, &topics[i], ids[i]);
        bp = sl_rc_partition(&topics[i], ids[i]);

        if (bp) {
            part->position = end ? sl_atomic_load(&bp->high_watermark)
                                 : sl_atomic_load(&bp->log_start_offset);
        }
    }

    sl_rc_unlock();

    return sl_rest_send(rq, SL_HTTP_NO_CONTENT, NULL);
}


/* POST .../offsets: the given offsets (+1), or every position */

static sl_int_t
sl_rc_commit_offsets(sl_rest_req_t *rq)
{
    json_t                    *body, *offs, *v, *md;
    size_t                     i, n;
    sl_int_t                   err;
    sl_rc_inst_t              *inst;
    sl_broker_group_offset_t  *o;

    body = sl_rc_body(rq, 1);

    if (body == NULL && rq->rc) {
        return rq->rc;
    }

    offs = json_is_object(body) ? json_object_get(body, "offsets") : NULL;

    if (body && (!json_is_object(body)
                 || (offs && !json_is_null(offs) && !json_is_array(offs))))
    {
        return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY, 42201,
                             "An offsets list is expected");
    }

    n = json_is_array(offs) ? json_array_size(offs) : 0;

    o = sl_pcalloc(rq->r->pool, (n + 1) * sizeof(sl_broker_group_offset_t));
    if (o == NULL) {
        return SL_ERROR;
    }

    for (i = 0; i < n; i++) {
        v = json_array_get(offs, i);

        if (sl_rc_json_tp(v, &o[i].topic, &o[i].partition) != SL_OK
            || sl_rc_json_int(json_object_get(v, "offset"), &o[i].offset)
               != SL_OK
            || o[i].offset < -1 || o[i].offset == INT64_MAX)
        {
            return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY, 42201,
                                 "Each offset needs a topic, a partition and "
                                 "an offset");
        }

        o[i].offset++;
        o[i].leader_epoch = -1;
        o[i].metadata = sl_rc_empty;

        md = json_object_get(v, "metadata");

        if (json_is_string(md)) {
            o[i].metadata.data = (u_char *) json_string_value(md);
            o[i].metadata.len = json_string_length(md);
        }
    }

    inst = sl_rc_instance(rq);
    if (inst == NULL) {
        return rq->rc;
    }

    sl_rc_drive(inst, sl_broker_group_mono_ms(), rq->r->connection->log);

    if (n == 0) {
        err = sl_rc_commit(inst, rq->r->connection->log);

    } else {
        err = sl_broker_group_commit(&inst->group,
                                     inst->manual || !inst->subscribed
                                     ? -1 : inst->generation,
                                     inst->manual || !inst->subscribed
                                     ? &sl_rc_empty : &inst->member_id,
                                     &sl_rc_empty, -1, o, n,
                                     rq->r->connection->log);

        for (i = 0; err == SL_BROKER_GROUP_OK && i < n; i++) {
            err = o[i].error;
        }
    }

    sl_rc_unlock();

    switch (err) {

    case SL_BROKER_GROUP_OK:
        return sl_rest_send(rq, SL_HTTP_OK, json_array());

    case SL_BROKER_GROUP_UNKNOWN_TOPIC:
        return sl_rest_error(rq, SL_HTTP_NOT_FOUND,
                             SL_REST_ERR_PARTITION_NOT_FOUND,
                             "Partition not found.");

    case SL_BROKER_GROUP_REBALANCE_IN_PROGRESS:
    case SL_BROKER_GROUP_ILLEGAL_GENERATION:
    case SL_BROKER_GROUP_UNKNOWN_MEMBER_ID:
        return sl_rest_error(rq, SL_HTTP_CONFLICT, SL_RC_ERR_ILLEGAL_STATE,
                             "Commit cannot be completed since the group "
                             "has already rebalanced (error %d).", (int) err);

    default:
        return sl_rest_error(rq, SL_HTTP_INTERNAL_SERVER_ERROR,
                             SL_REST_ERR_KAFKA,
                             "Commit failed: group error %d.", (int) err);
    }
}


/* GET .../offsets {"partitions":[...]}: the committed offsets */

static sl_int_t
sl_rc_committed(sl_rest_req_t *rq)
{
    json_t                    *body, *parts, *a, *e;
    size_t                     i, n;
    sl_rc_inst_t              *inst;
    sl_broker_group_offset_t  *o;

    body = sl_rc_body(rq, 1);

    if (body == NULL && rq->rc) {
        return rq->rc;
    }

    parts = json_is_object(body) ? json_object_get(body, "partitions") : NULL;

    if (body && !json_is_array(parts)) {
        return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY, 42201,
                             "A partitions list is expected");
    }

    inst = sl_rc_instance(rq);
    if (inst == NULL) {
        return rq->rc;
    }

    /* without a body: the partitions assigned */

    n = parts ? json_array_size(parts) : inst->nparts;

    o = sl_pcalloc(rq->r->pool, (n + 1) * sizeof(sl_broker_group_offset_t));
    if (o == NULL) {
        sl_rc_unlock();
        return SL_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (parts == NULL) {
            o[i].topic.len = inst->parts[i].topic.len;
            o[i].topic.data = sl_pstrdup(rq->r->pool, &inst->parts[i].topic);
            o[i].partition = inst->parts[i].partition;

            if (o[i].topic.data == NULL) {
                sl_rc_unlock();
                return SL_ERROR;
            }

            continue;
        }

        if (sl_rc_json_tp(json_array_get(parts, i), &o[i].topic,
                          &o[i].partition)
            != SL_OK)
        {
            sl_rc_unlock();
            return sl_rest_error(rq, SL_HTTP_UNPROCESSABLE_ENTITY, 42201,
                                 "Each partition needs a topic and a "
                                 "partition");
        }
    }

    a = json_array();

    for (i = 0; a && i < n; i++) {
        if (sl_broker_group_fetch(&inst->group, &o[i], rq->r->pool)
            != SL_OK)
        {
            json_decref(a);
            a = NULL;
            break;
        }

        if (o[i].offset < 0) {
            continue;
        }

        e = json_pack("{s:s%,s:i,s:I,s:s%}",
                      "topic", (char *) o[i].topic.data, o[i].topic.len,
                      "partition", (int) o[i].partition,
                      "offset", (json_int_t) o[i].offset,
                      "metadata", o[i].metadata.data
                                  ? (char *) o[i].metadata.data : "",
                      o[i].metadata.data ? o[i].metadata.len : 0);

        if (e == NULL || json_array_append_new(a, e) != 0) {
            json_decref(a);
            a = NULL;
        }
    }

    sl_rc_unlock();

    if (a == NULL) {
        return SL_ERROR;
    }

    return sl_rest_send(rq, SL_HTTP_OK, json_pack("{s:o}", "offsets", a));
}


/* GET .../records?timeout=&max_bytes= */

static sl_int_t
sl_rc_records(sl_rest_req_t *rq)
{
    int64_t             v;
    sl_int_t            rc;
    sl_str_t           *accept;
    sl_msec_t           timeout;
    sl_rc_read_t       *rd;
    sl_rc_inst_t       *inst;
    sl_pool_cleanup_t  *cln;

    inst = sl_rc_instance(rq);
    if (inst == NULL) {
        return rq->rc;
    }

    rd = sl_pcalloc(rq->r->pool, sizeof(sl_rc_read_t));
    if (rd == NULL) {
        sl_rc_unlock();
        return SL_ERROR;
    }

    rd->rq = rq;
    rd->format = inst->format;
    rd->earliest = inst->earliest;
    rd->min_bytes = inst->fetch_min_bytes;
    rq->data = rd;

    timeout = inst->request_timeout ? inst->request_timeout
                                    : rq->conf->consumer_request_timeout;

    sl_rc_unlock();

    accept = sl_rest_header(rq, "Accept");

    if (accept
        && ((rd->format == SL_REST_FMT_BINARY
             && sl_rc_contains(accept, "vnd.kafka.json.v2")
             && !sl_rc_contains(accept, "vnd.kafka.binary.v2"))
            || (rd->format == SL_REST_FMT_JSON
                && sl_rc_contains(accept, "vnd.kafka.binary.v2")
                && !sl_rc_contains(accept, "vnd.kafka.json.v2"))
            || sl_rc_contains(accept, "vnd.kafka.avro.v2")
            || sl_rc_contains(accept, "vnd.kafka.protobuf.v2")
            || sl_rc_contains(accept, "vnd.kafka.jsonschema.v2")))
    {
        return sl_rest_error(rq, SL_HTTP_NOT_ACCEPTABLE,
                             SL_REST_ERR_CONSUMER_FORMAT,
                             "The requested embedded data format does not "
                             "match the deserializer for this consumer "
                             "instance");
    }

    rc = sl_rest_arg_int(rq, "timeout", &v);

    if (rc == SL_ERROR) {
        return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                             "timeout must be an integer");
    }

    if (rc == SL_OK) {
        timeout = v > 0 ? (sl_msec_t) sl_min(v, 300000) : 0;
    }

    rd->max_bytes = rq->conf->consumer_max_bytes;

    rc = sl_rest_arg_int(rq, "max_bytes", &v);

    if (rc == SL_ERROR) {
        return sl_rest_error(rq, SL_HTTP_BAD_REQUEST, 0,
                             "max_bytes must be an integer");
    }

    if (rc == SL_OK && v > 0 && (uint64_t) v < rd->max_bytes) {
        rd->max_bytes = (size_t) v;
    }

    rd->group = rq->params[0];
    rd->name = rq->params[1];
    rd->deadline = sl_current_msec + timeout;

    cln = sl_pool_cleanup_add(rq->r->pool, 0);
    if (cln == NULL) {
        return SL_ERROR;
    }

    cln->handler = sl_rc_read_cleanup;
    cln->data = rd;

    rc = sl_rc_read(rd, timeout == 0);

    if (rc != SL_AGAIN) {
        return rc;
    }

    /* wait: woken by appends and group changes, or by the timer */

    rd->waiter.handler = sl_rc_read_wake;
    rd->waiter.data = rd;

    rd->timer.handler = sl_rc_read_timeout;
    rd->timer.data = rd;
    rd->timer.log = rq->r->connection->log;

    sl_rest_wait(&rd->waiter);

    rc = sl_rc_read(rd, 0);

    if (rc != SL_AGAIN) {
        sl_rc_read_stop(rd);
        return rc;
    }

    sl_add_timer(&rd->timer, sl_min(timeout, SL_RC_WAIT_SLACK));

    rq->r->read_event_handler = sl_rc_read_closed;

    return SL_DONE;
}


/*
 * One look: SL_AGAIN when there is nothing (yet) and not final, else
 * what sending the answer returned.
 */

static sl_int_t
sl_rc_read(sl_rc_read_t *rd, sl_uint_t final)
{
    int64_t                 now, next;
    sl_int_t                rc, failed;
    sl_uint_t               i, n, stable, claimed;
    uint32_t                reader;
    uint64_t                epoch;
    sl_log_t               *log;
    sl_pool_t              *pool;
    sl_rc_snap_t           *snap;
    sl_rc_part_t           *part;
    sl_rc_inst_t           *inst;
    sl_rest_req_t          *rq;
    sl_broker_partition_t  *bp;

    rq = rd->rq;
    log = rq->r->connection->log;

    /* each look's own: a long poll looks again after every append */
    pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, log);
    if (pool == NULL) {
        return SL_ERROR;
    }

    now = sl_broker_group_mono_ms();

    sl_rc_lock();

    inst = sl_rc_find(&rd->group, &rd->name);

    if (inst == NULL) {
        sl_rc_unlock();
        sl_destroy_pool(pool);
        return sl_rest_error(rq, SL_HTTP_NOT_FOUND,
                             SL_REST_ERR_CONSUMER_NOT_FOUND,
                             "Consumer instance not found.");
    }

    inst->last_used = now;

    sl_rc_drive(inst, now, log);

    /*
     * One read of an instance at a time, as the proxy serializes them:
     * another (in any worker) is in progress, look again later.
     */

    if (inst->reader && now - inst->read_since < SL_RC_READ_CLAIM) {
        sl_rc_unlock();
        sl_destroy_pool(pool);

        if (!final) {
            return SL_AGAIN;
        }

        if (rd->records == NULL) {
            rd->records = json_array();
            if (rd->records == NULL) {
                return SL_ERROR;
            }
        }

        return sl_rc_send_records(rd);
    }

    stable = inst->manual
             || (inst->subscribed && inst->state == SL_RC_STABLE);

    n = stable ? inst->nparts : 0;
    epoch = inst->epoch;

    snap = sl_pcalloc(pool, (n + 1) * sizeof(sl_rc_snap_t));
    if (snap == NULL) {
        sl_rc_unlock();
        sl_destroy_pool(pool);
        return SL_ERROR;
    }

    for (i = 0; i < n; i++) {
        part = &inst->parts[i];

        snap[i].topic.len = part->topic.len;
        snap[i].topic.data = sl_pstrdup(pool, &part->topic);
        snap[i].partition = part->partition;

        if (snap[i].topic.data == NULL) {
            sl_rc_unlock();
            sl_destroy_pool(pool);
            return SL_ERROR;
        }

        bp = sl_rc_partition(&part->topic, part->partition);

        if (part->position < 0 && bp) {
            sl_broker_group_offset_t  o;

            sl_memzero(&o, sizeof(sl_broker_group_offset_t));
            o.topic = part->topic;
            o.partition = part->partition;

            if (sl_broker_group_fetch(&inst->group, &o, pool) == SL_OK
                && o.offset >= 0)
            {
                part->position = o.offset;
                part->committed = o.offset;

            } else {
                part->position = sl_rc_reset_offset(inst, bp);
            }
        }

        snap[i].position = part->position;
        snap[i].next = part->position;
    }

    reader = ++sl_rc_sh->readers;

    if (reader == 0) {
        reader = ++sl_rc_sh->readers;
    }

    inst->reader = reader;
    inst->read_since = now;

    sl_rc_unlock();

    failed = 0;

    /* read outside the lock */

    if (rd->records == NULL) {
        rd->records = json_array();
        if (rd->records == NULL) {
            n = 0;
            failed = 1;
        }
    }

    for (i = 0; i < n && rd->bytes < rd->max_bytes; i++) {
        bp = sl_rc_partition(&snap[i].topic, snap[i].partition);

        if (bp == NULL || snap[i].position < 0) {
            continue;
        }

        rc = sl_rest_fetch(pool, log, bp, snap[i].position,
                           rd->max_bytes - rd->bytes, 0, sl_rc_read_record,
                           rd, &next);

        if (rc == SL_BROKER_ERR_OUT_OF_RANGE) {
            /* gone (retention) or ahead: reset as the policy says */
            snap[i].next = rd->earliest
                           ? sl_atomic_load(&bp->log_start_offset)
                           : sl_atomic_load(&bp->high_watermark);
            continue;
        }

        if (rc == SL_ERROR) {
            failed = 1;
            break;
        }

        if (rc != SL_OK) {
            sl_log_error(SL_LOG_ERR, log, 0,
                         "rest: consumer \"%.*s\": reading \"%.*s-%d\": "
                         "error %d", SL_STR_ARG(&rd->name),
                         SL_STR_ARG(&snap[i].topic),
                         (int) snap[i].partition, (int) rc);
            continue;
        }

        snap[i].next = next;
    }

    /* move the positions on, unless the assignment changed meanwhile */

    sl_rc_lock();

    inst = sl_rc_find(&rd->group, &rd->name);

    /* not ours any more (an instance deleted and made again under the
     * same name, or a claim taken over): the positions are not ours */
    claimed = (inst && inst->reader == reader);

    if (claimed) {
        inst->reader = 0;
    }

    if (claimed && inst->epoch == epoch && !failed) {
        for (i = 0; i < n; i++) {
            part = sl_rc_part_find(inst, &snap[i].topic, snap[i].partition);

            if (part && part->position == snap[i].position) {
                part->position = snap[i].next;
            }
        }
    }

    sl_rc_unlock();

    sl_destroy_pool(pool);

    if (failed) {
        return SL_ERROR;
    }

    if (inst == NULL) {
        json_decref(rd->records);
        rd->records = NULL;

        return sl_rest_error(rq, SL_HTTP_NOT_FOUND,
                             SL_REST_ERR_CONSUMER_NOT_FOUND,
                             "Consumer instance not found.");
    }

    /* records gathered so far stay for the next look */

    if (!final && rd->bytes < rd->max_bytes
        && (json_array_size(rd->records) == 0
            || (rd->min_bytes > 0 && rd->bytes < (size_t) rd->min_bytes)))
    {
        return SL_AGAIN;
    }

    return sl_rc_send_records(rd);
}


static sl_int_t
sl_rc_read_record(void *data, sl_broker_partition_t *part, int64_t offset,
    sl_broker_batch_record_t *rec)
{
    sl_rc_read_t  *rd = data;

    json_t   *o, *k, *v;
    size_t    size;

    size = (rec->key.len > 0 ? rec->key.len : 0)
           + (rec->value.len > 0 ? rec->value.len : 0);

    if (json_array_size(rd->records) && rd->bytes + size > rd->max_bytes) {
        rd->bytes = rd->max_bytes;
        return SL_DECLINED;
    }

    k = sl_rest_bytes_json(&rec->key, rd->format);
    if (k == NULL && rd->format == SL_REST_FMT_JSON) {
        k = sl_rest_bytes_json(&rec->key, SL_REST_FMT_STRING);
    }

    v = sl_rest_bytes_json(&rec->value, rd->format);
    if (v == NULL && rd->format == SL_REST_FMT_JSON) {
        v = sl_rest_bytes_json(&rec->value, SL_REST_FMT_STRING);
    }

    if (k == NULL) {
        k = json_null();
    }

    if (v == NULL) {
        v = json_null();
    }

    o = json_pack("{s:s%,s:o,s:o,s:i,s:I}",
                  "topic", (char *) part->topic->name.data,
                  part->topic->name.len,
                  "key", k, "value", v,
                  "partition", (int) part->id,
                  "offset", (json_int_t) offset);

    if (o == NULL || json_array_append_new(rd->records, o) != 0) {
        return SL_ERROR;
    }

    rd->bytes += size;

    return SL_OK;
}


static sl_int_t
sl_rc_send_records(sl_rc_read_t *rd)
{
    size_t              len;
    sl_str_t            body;
    sl_rest_req_t      *rq;
    sl_http_request_t  *r;

    rq = rd->rq;
    r = rq->r;

    len = json_dumpb(rd->records, NULL, 0, JSON_COMPACT);

    body.data = sl_pnalloc(r->pool, len + 1);
    if (body.data == NULL) {
        json_decref(rd->records);
        rd->records = NULL;
        rq->rc = SL_ERROR;
        return SL_ERROR;
    }

    body.len = json_dumpb(rd->records, (char *) body.data, len, JSON_COMPACT);

    json_decref(rd->records);
    rd->records = NULL;

    rd->finished = 1;

    rq->rc = sl_http_send_response(r, SL_HTTP_OK,
                                   rd->format == SL_REST_FMT_JSON
                                   ? &sl_rc_json_type : &sl_rc_binary_type,
                                   &body);

    return rq->rc;
}


static void
sl_rc_read_wake(sl_rest_waiter_t *w)
{
    sl_rc_read_again(w->data);
}


static void
sl_rc_read_timeout(sl_event_t *ev)
{
    sl_rc_read_again(ev->data);
}


static void
sl_rc_read_again(sl_rc_read_t *rd)
{
    sl_int_t    rc;
    sl_msec_t   now;

    if (rd->finished) {
        return;
    }

    now = sl_current_msec;

    /* park before looking, so that a change in between rings */

    sl_rest_wait(&rd->waiter);

    /* a worker shutting down answers at once with what there is */

    rc = sl_rc_read(rd, (sl_msec_int_t) (now - rd->deadline) >= 0
                        || sl_exiting || sl_terminate || sl_quit);

    if (rc == SL_AGAIN) {
        if (!rd->timer.timer_set) {
            sl_add_timer(&rd->timer,
                         sl_min(rd->deadline - now, SL_RC_WAIT_SLACK));
        }

        return;
    }

    rd->finished = 1;
    sl_rc_read_stop(rd);

    sl_http_finalize_request(rd->rq->r, rc);
}


/* the client went away while the request waits */

static void
sl_rc_read_closed(sl_http_request_t *r)
{
    u_char             buf[1];
    ssize_t            n;
    sl_err_t           err;
    sl_rc_read_t      *rd;
    sl_rest_req_t     *rq;
    sl_connection_t   *c;

    c = r->connection;

    n = recv(c->fd, buf, 1, MSG_PEEK);
    err = sl_socket_errno;

    if (n > 0 || (n == -1 && err == SL_EAGAIN)) {
        return;
    }

    rq = sl_http_get_module_ctx(r, sl_rest_module);
    rd = rq ? rq->data : NULL;

    if (rd) {
        rd->finished = 1;
        sl_rc_read_stop(rd);
    }

    sl_http_finalize_request(r, SL_ERROR);
}


static void
sl_rc_read_stop(sl_rc_read_t *rd)
{
    sl_rest_wait_cancel(&rd->waiter);

    if (rd->timer.timer_set) {
        sl_del_timer(&rd->timer);
    }
}


static void
sl_rc_read_cleanup(void *data)
{
    sl_rc_read_t  *rd = data;

    rd->finished = 1;
    sl_rc_read_stop(rd);

    if (rd->records) {
        json_decref(rd->records);
        rd->records = NULL;
    }
}
