
/*
 * The group APIs: FindCoordinator (this broker, for groups and
 * transactions), JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 * OffsetCommit, OffsetFetch, DescribeGroups, ListGroups, DeleteGroups
 * and OffsetDelete, each a translation between Kafka's messages and the
 * coordinator in src/broker/sl_broker_group.c.
 *
 * JoinGroup and SyncGroup answers may wait for the other members: the
 * request parks in this worker's list with its token and a safety timer;
 * the coordinator rings the doorbell when anything changed, and the
 * parked requests poll.  A connection that closes under a parked request
 * abandons its wait.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_kafka.h>
#include <sl_kafka_group.h>


/* how often a parked request looks for itself, should a ring be missed */
#define SL_KAFKA_GROUP_WAIT_SLACK  5000

/* READ, DELETE, DESCRIBE: what a group's ACL operations may allow */
#define SL_KAFKA_GROUP_OPERATIONS  ((1 << 3) | (1 << 6) | (1 << 8))


typedef struct {
    sl_kafka_request_t      *request;
    sl_queue_t               queue;
    sl_event_t               timer;
    sl_str_t                 group_id;
    sl_str_t                 member_id;
    uint32_t                 token;
    sl_int_t                 rc;
    unsigned                 sync:1;
    unsigned                 parked:1;
} sl_kafka_group_wait_t;


static sl_int_t sl_kafka_group_park(sl_kafka_request_t *r, sl_str_t *group,
    sl_str_t *member, uint32_t token, sl_uint_t sync, sl_msec_t timeout);
static sl_int_t sl_kafka_group_poll(sl_kafka_group_wait_t *w);
static void sl_kafka_group_unpark(sl_kafka_group_wait_t *w);
static void sl_kafka_group_timeout(sl_event_t *ev);
static void sl_kafka_group_cleanup(sl_kafka_request_t *r);
static void sl_kafka_group_doorbell(sl_cycle_t *cycle, void *data);
static void sl_kafka_group_tick(sl_event_t *ev);
static sl_int_t sl_kafka_join_response(sl_kafka_request_t *r,
    sl_broker_group_join_result_t *res);
static sl_int_t sl_kafka_sync_response(sl_kafka_request_t *r,
    sl_broker_group_sync_result_t *res);
static void sl_kafka_group_client(sl_kafka_request_t *r, sl_str_t *id,
    sl_str_t *host);
static sl_int_t sl_kafka_offset_fetch_group(sl_kafka_request_t *r,
    sl_str_t *group, sl_kafka_offset_fetch_req_topics_t *topics,
    int32_t ntopics, sl_kafka_offset_fetch_resp_topics_t **out,
    int32_t *nout);


static sl_queue_t   sl_kafka_group_parked;
static sl_uint_t    sl_kafka_group_inited;
static uint64_t     sl_kafka_group_seen;
static sl_event_t   sl_kafka_group_timer;


sl_int_t
sl_kafka_group_init_process(sl_cycle_t *cycle)
{
    sl_queue_init(&sl_kafka_group_parked);
    sl_kafka_group_inited = 1;

    sl_kafka_group_timer.handler = sl_kafka_group_tick;
    sl_kafka_group_timer.log = cycle->log;
    sl_kafka_group_timer.data = cycle;
    sl_kafka_group_timer.cancelable = 1;

    sl_add_timer(&sl_kafka_group_timer, 100);

    return sl_event_doorbell_add(sl_kafka_group_doorbell, NULL);
}


/*
 * Every worker looks for passed deadlines; the first past one does the
 * work (the coordinator keeps the earliest deadline, so this is cheap).
 */

static void
sl_kafka_group_tick(sl_event_t *ev)
{
    if (sl_exiting) {
        return;
    }

    sl_broker_group_tick(ev->log);

    sl_add_timer(ev, 100);
}


/* FindCoordinator: always this broker */

sl_int_t
sl_kafka_find_coordinator(sl_kafka_request_t *r)
{
    int32_t                                        i, n;
    sl_kafka_main_conf_t                          *kmcf;
    sl_kafka_find_coordinator_req_t               *req;
    sl_kafka_find_coordinator_resp_t              *resp;
    sl_kafka_find_coordinator_resp_coordinator_t  *c;

    req = r->req;
    resp = r->resp;
    kmcf = r->kmcf;

    resp->throttle_time_ms = 0;
    resp->node_id = (int32_t) kmcf->node_id;
    resp->host = kmcf->advertised_host;
    resp->port = (int32_t) kmcf->advertised_port;

    if (r->version < 4) {
        if (req->key_type != 0 && req->key_type != 1) {
            resp->error_code = SL_KAFKA_INVALID_REQUEST;
            resp->node_id = -1;
            sl_str_set(&resp->host, "");
            resp->port = -1;
        }

        return SL_OK;
    }

    n = req->coordinator_keys_n > 0 ? req->coordinator_keys_n : 0;

    c = sl_pcalloc(r->pool, (n + 1) * sizeof(*c));
    if (c == NULL) {
        return SL_ERROR;
    }

    resp->coordinators = c;
    resp->coordinators_n = n;

    for (i = 0; i < n; i++) {
        c[i].key = req->coordinator_keys[i];
        c[i].node_id = (int32_t) kmcf->node_id;
        c[i].host = kmcf->advertised_host;
        c[i].port = (int32_t) kmcf->advertised_port;

        if (req->key_type != 0 && req->key_type != 1) {
            c[i].error_code = SL_KAFKA_INVALID_REQUEST;
            c[i].node_id = -1;
            sl_str_set(&c[i].host, "");
            c[i].port = -1;
        }
    }

    return SL_OK;
}


/* the client id and "/address" of the connection, as Kafka shows them */

static void
sl_kafka_group_client(sl_kafka_request_t *r, sl_str_t *id, sl_str_t *host)
{
    u_char              *p, *colon;
    sl_str_t            *addr;
    sl_kafka_session_t  *s;

    s = r->session;

    id->data = s->client_id;
    id->len = s->client_id_len;

    addr = &r->connection->addr_text;

    colon = NULL;

    for (p = addr->data; p < addr->data + addr->len; p++) {
        if (*p == ':') {
            colon = p;
        }
    }

    host->len = 0;
    host->data = sl_pnalloc(r->pool, addr->len + 2);

    if (host->data == NULL) {
        sl_str_set(host, "");
        return;
    }

    host->data[0] = '/';
    p = sl_cpymem(host->data + 1, addr->data,
                  (colon ? colon : addr->data + addr->len) - addr->data);
    host->len = p - host->data;
}


sl_int_t
sl_kafka_join_group(sl_kafka_request_t *r)
{
    int32_t                         i;
    sl_int_t                        rc;
    sl_broker_group_join_t          j;
    sl_kafka_join_group_req_t      *req;
    sl_broker_group_join_result_t   res;

    req = r->req;

    sl_memzero(&j, sizeof(sl_broker_group_join_t));

    j.group_id = req->group_id;
    j.member_id = req->member_id;
    j.instance_id = req->group_instance_id;
    j.protocol_type = req->protocol_type;
    j.session_timeout = req->session_timeout_ms;
    j.rebalance_timeout = req->rebalance_timeout_ms;
    j.require_known_member = (r->version >= 4);

    if (j.group_id.data == NULL) {
        sl_str_set(&j.group_id, "");
    }

    if (j.member_id.data == NULL) {
        sl_str_set(&j.member_id, "");
    }

    sl_kafka_group_client(r, &j.client_id, &j.client_host);

    j.nprotocols = req->protocols_n > 0 ? req->protocols_n : 0;

    j.protocols = sl_pcalloc(r->pool, (j.nprotocols + 1)
                                      * sizeof(sl_broker_group_protocol_t));
    if (j.protocols == NULL) {
        return SL_ERROR;
    }

    for (i = 0; i < (int32_t) j.nprotocols; i++) {
        j.protocols[i].name = req->protocols[i].name;
        j.protocols[i].metadata = req->protocols[i].metadata;
    }

    rc = sl_broker_group_join(&j, r->pool, &res, r->log);

    if (rc == SL_ERROR) {
        return SL_ERROR;
    }

    if (rc == SL_AGAIN) {
        return sl_kafka_group_park(r, &j.group_id, &res.member_id, j.token,
                                   0, (sl_msec_t) j.rebalance_timeout);
    }

    if (res.error && res.member_id.data == NULL) {
        res.member_id = j.member_id;
    }

    return sl_kafka_join_response(r, &res);
}


static sl_int_t
sl_kafka_join_response(sl_kafka_request_t *r,
    sl_broker_group_join_result_t *res)
{
    sl_uint_t                           i;
    sl_kafka_join_group_resp_t         *resp;
    sl_kafka_join_group_resp_member_t  *m;

    resp = r->resp;

    resp->throttle_time_ms = 0;
    resp->error_code = sl_kafka_group_error(res->error);
    resp->generation_id = res->generation;
    resp->protocol_type = res->protocol_type;
    resp->protocol_name = res->protocol_name;
    resp->leader = res->leader;
    resp->skip_assignment = 0;
    resp->member_id = res->member_id;

    if (resp->leader.data == NULL) {
        sl_str_set(&resp->leader, "");
    }

    if (resp->member_id.data == NULL) {
        sl_str_set(&resp->member_id, "");
    }

    if (r->version < 7 && resp->protocol_name.data == NULL) {
        sl_str_set(&resp->protocol_name, "");
    }

    resp->members_n = (int32_t) res->nmembers;

    m = sl_pcalloc(r->pool, (res->nmembers + 1) * sizeof(*m));
    if (m == NULL) {
        return SL_ERROR;
    }

    resp->members = m;

    for (i = 0; i < res->nmembers; i++) {
        m[i].member_id = res->members[i].member_id;
        m[i].group_instance_id = res->members[i].instance_id;
        m[i].metadata = res->members[i].metadata;

        if (m[i].metadata.data == NULL) {
            sl_str_set(&m[i].metadata, "");
        }

        if (m[i].group_instance_id.data
            && m[i].group_instance_id.len == 0)
        {
            m[i].group_instance_id.data = NULL;
        }
    }

    return SL_OK;
}


sl_int_t
sl_kafka_sync_group(sl_kafka_request_t *r)
{
    int32_t                         i, n;
    sl_int_t                        rc;
    sl_broker_group_sync_t          s;
    sl_kafka_sync_group_req_t      *req;
    sl_broker_group_sync_result_t   res;

    req = r->req;

    sl_memzero(&s, sizeof(sl_broker_group_sync_t));

    s.group_id = req->group_id;
    s.member_id = req->member_id;
    s.instance_id = req->group_instance_id;
    s.generation = req->generation_id;

    if (r->version >= 5) {
        s.protocol_type = req->protocol_type;
        s.protocol_name = req->protocol_name;
    }

    if (s.group_id.data == NULL) {
        sl_str_set(&s.group_id, "");
    }

    if (s.member_id.data == NULL) {
        sl_str_set(&s.member_id, "");
    }

    n = req->assignments_n > 0 ? req->assignments_n : 0;

    s.assignments = sl_pcalloc(r->pool, (n + 1)
                                        * sizeof(sl_broker_group_assignment_t));
    if (s.assignments == NULL) {
        return SL_ERROR;
    }

    for (i = 0; i < n; i++) {
        s.assignments[i].member_id = req->assignments[i].member_id;
        s.assignments[i].assignment = req->assignments[i].assignment;
    }

    s.nassignments = n;

    rc = sl_broker_group_sync(&s, r->pool, &res, r->log);

    if (rc == SL_ERROR) {
        return SL_ERROR;
    }

    if (rc == SL_AGAIN) {
        return sl_kafka_group_park(r, &s.group_id, &s.member_id, s.token, 1,
                                   SL_KAFKA_GROUP_WAIT_SLACK);
    }

    return sl_kafka_sync_response(r, &res);
}


static sl_int_t
sl_kafka_sync_response(sl_kafka_request_t *r,
    sl_broker_group_sync_result_t *res)
{
    sl_kafka_sync_group_resp_t  *resp;

    resp = r->resp;

    resp->throttle_time_ms = 0;
    resp->error_code = sl_kafka_group_error(res->error);
    resp->protocol_type = res->protocol_type;
    resp->protocol_name = res->protocol_name;
    resp->assignment = res->assignment;

    if (resp->assignment.data == NULL) {
        sl_str_set(&resp->assignment, "");
    }

    return SL_OK;
}


/* parking */

static sl_int_t
sl_kafka_group_park(sl_kafka_request_t *r, sl_str_t *group, sl_str_t *member,
    uint32_t token, sl_uint_t sync, sl_msec_t timeout)
{
    sl_int_t                rc;
    sl_kafka_group_wait_t  *w;

    w = sl_pcalloc(r->pool, sizeof(sl_kafka_group_wait_t));
    if (w == NULL) {
        return SL_ERROR;
    }

    w->request = r;
    w->token = token;
    w->sync = sync;

    w->group_id.len = group->len;
    w->group_id.data = sl_pstrdup(r->pool, group);
    w->member_id.len = member->len;
    w->member_id.data = sl_pstrdup(r->pool, member);

    if (w->group_id.data == NULL || w->member_id.data == NULL) {
        return SL_ERROR;
    }

    w->timer.data = w;
    w->timer.handler = sl_kafka_group_timeout;
    w->timer.log = r->log;

    r->ctx = w;
    r->cleanup = sl_kafka_group_cleanup;

    if (!sl_kafka_group_inited) {
        sl_queue_init(&sl_kafka_group_parked);
        sl_kafka_group_inited = 1;
    }

    /* park before the last look, so that a change in between rings */

    sl_event_doorbell_park();
    w->parked = 1;
    sl_queue_insert_tail(&sl_kafka_group_parked, &w->queue);

    rc = sl_kafka_group_poll(w);

    if (rc != SL_AGAIN) {
        sl_kafka_group_unpark(w);
        r->cleanup = NULL;
        return rc;
    }

    sl_add_timer(&w->timer, sl_min(timeout, SL_KAFKA_GROUP_WAIT_SLACK));

    return SL_AGAIN;
}


/* SL_OK with the response filled, SL_AGAIN, or SL_ERROR */

static sl_int_t
sl_kafka_group_poll(sl_kafka_group_wait_t *w)
{
    sl_int_t                        rc;
    sl_kafka_request_t             *r;
    sl_broker_group_join_result_t   jres;
    sl_broker_group_sync_result_t   sres;

    r = w->request;

    if (w->sync) {
        rc = sl_broker_group_sync_poll(&w->group_id, &w->member_id, w->token,
                                       r->pool, &sres);
        if (rc != SL_OK) {
            return rc;
        }

        return sl_kafka_sync_response(r, &sres);
    }

    rc = sl_broker_group_join_poll(&w->group_id, &w->member_id, w->token,
                                   r->pool, &jres);
    if (rc != SL_OK) {
        return rc;
    }

    if (jres.member_id.data == NULL) {
        jres.member_id = w->member_id;
    }

    return sl_kafka_join_response(r, &jres);
}


static void
sl_kafka_group_unpark(sl_kafka_group_wait_t *w)
{
    if (!w->parked) {
        return;
    }

    w->parked = 0;
    sl_queue_remove(&w->queue);
    sl_event_doorbell_unpark();

    if (w->timer.timer_set) {
        sl_del_timer(&w->timer);
    }
}


static void
sl_kafka_group_timeout(sl_event_t *ev)
{
    sl_int_t                rc;
    sl_kafka_request_t     *r;
    sl_kafka_group_wait_t  *w;

    w = ev->data;
    r = w->request;

    rc = sl_kafka_group_poll(w);

    if (rc == SL_AGAIN) {
        /*
         * A missed ring: the coordinator's own deadlines end every wait,
         * so look again later rather than give up on the member.
         */
        sl_add_timer(&w->timer, SL_KAFKA_GROUP_WAIT_SLACK);
        return;
    }

    sl_kafka_group_unpark(w);
    r->cleanup = NULL;

    sl_kafka_request_finalize(r, rc);
}


static void
sl_kafka_group_cleanup(sl_kafka_request_t *r)
{
    sl_kafka_group_wait_t  *w;

    w = r->ctx;

    if (w == NULL || !w->parked) {
        return;
    }

    sl_kafka_group_unpark(w);

    sl_broker_group_abandon(&w->group_id, &w->member_id, w->token);
}


static void
sl_kafka_group_doorbell(sl_cycle_t *cycle, void *data)
{
    sl_int_t                rc;
    uint64_t                changes;
    sl_queue_t              ready, *q;
    sl_kafka_group_wait_t  *w;

    if (!sl_kafka_group_inited || sl_queue_empty(&sl_kafka_group_parked)) {
        return;
    }

    changes = sl_broker_group_changes();

    if (changes == sl_kafka_group_seen) {
        return;
    }

    sl_kafka_group_seen = changes;

    /* collect first: answering may close connections with other waits */

    sl_queue_init(&ready);

    q = sl_queue_head(&sl_kafka_group_parked);

    while (q != sl_queue_sentinel(&sl_kafka_group_parked)) {
        w = sl_queue_data(q, sl_kafka_group_wait_t, queue);
        q = sl_queue_next(q);

        rc = sl_kafka_group_poll(w);

        if (rc != SL_AGAIN) {
            /* the response is filled in: only sending is left */
            w->rc = rc;
            sl_queue_remove(&w->queue);
            sl_queue_insert_tail(&ready, &w->queue);
        }
    }

    while (!sl_queue_empty(&ready)) {
        q = sl_queue_head(&ready);
        w = sl_queue_data(q, sl_kafka_group_wait_t, queue);

        sl_kafka_group_unpark(w);
        w->request->cleanup = NULL;

        sl_kafka_request_finalize(w->request, w->rc);
    }
}


sl_int_t
sl_kafka_heartbeat(sl_kafka_request_t *r)
{
    sl_str_t                    group, member;
    sl_kafka_heartbeat_req_t   *req;
    sl_kafka_heartbeat_resp_t  *resp;

    req = r->req;
    resp = r->resp;

    group = req->group_id;
    member = req->member_id;

    if (group.data == NULL) {
        sl_str_set(&group, "");
    }

    if (member.data == NULL) {
        sl_str_set(&member, "");
    }

    resp->throttle_time_ms = 0;
    resp->error_code = sl_kafka_group_error(
        sl_broker_group_heartbeat(&group, &member, &req->group_instance_id,
                                  req->generation_id));

    return SL_OK;
}


sl_int_t
sl_kafka_leave_group(sl_kafka_request_t *r)
{
    int32_t                                       i, n;
    sl_str_t                                      group, member, none;
    sl_kafka_leave_group_req_t                   *req;
    sl_kafka_leave_group_resp_t                  *resp;
    sl_kafka_leave_group_resp_member_response_t  *m;

    req = r->req;
    resp = r->resp;

    group = req->group_id;

    if (group.data == NULL) {
        sl_str_set(&group, "");
    }

    sl_str_null(&none);

    resp->throttle_time_ms = 0;

    if (r->version < 3) {
        member = req->member_id;

        if (member.data == NULL) {
            sl_str_set(&member, "");
        }

        resp->error_code = sl_kafka_group_error(
            sl_broker_group_leave(&group, &member, &none, r->log));

        return SL_OK;
    }

    n = req->members_n > 0 ? req->members_n : 0;

    m = sl_pcalloc(r->pool, (n + 1) * sizeof(*m));
    if (m == NULL) {
        return SL_ERROR;
    }

    resp->members = m;
    resp->members_n = n;

    if (group.len == 0) {
        resp->error_code = SL_KAFKA_INVALID_GROUP_ID;
        resp->members_n = 0;
        return SL_OK;
    }

    for (i = 0; i < n; i++) {
        member = req->members[i].member_id;

        if (member.data == NULL) {
            sl_str_set(&member, "");
        }

        m[i].member_id = member;
        m[i].group_instance_id = req->members[i].group_instance_id;
        m[i].error_code = sl_kafka_group_error(
            sl_broker_group_leave(&group, &member,
                                  &req->members[i].group_instance_id,
                                  r->log));
    }

    return SL_OK;
}


sl_int_t
sl_kafka_offset_commit(sl_kafka_request_t *r)
{
    int32_t                                   i, j, n, k;
    sl_str_t                                  group, member;
    sl_broker_group_offset_t                 *offs;
    sl_kafka_offset_commit_req_t             *req;
    sl_kafka_offset_commit_resp_t            *resp;
    sl_kafka_offset_commit_req_topic_t       *qt;
    sl_kafka_offset_commit_resp_topic_t      *rt;
    sl_kafka_offset_commit_resp_partition_t  *rp;

    req = r->req;
    resp = r->resp;

    group = req->group_id;
    member = req->member_id;

    if (group.data == NULL) {
        sl_str_set(&group, "");
    }

    if (member.data == NULL) {
        sl_str_set(&member, "");
    }

    n = 0;

    for (i = 0; i < req->topics_n; i++) {
        n += req->topics[i].partitions_n > 0 ? req->topics[i].partitions_n
                                             : 0;
    }

    offs = sl_pcalloc(r->pool, (n + 1) * sizeof(sl_broker_group_offset_t));
    if (offs == NULL) {
        return SL_ERROR;
    }

    k = 0;

    for (i = 0; i < req->topics_n; i++) {
        qt = &req->topics[i];

        for (j = 0; j < qt->partitions_n; j++) {
            offs[k].topic = qt->name;
            offs[k].partition = qt->partitions[j].partition_index;
            offs[k].offset = qt->partitions[j].committed_offset;
            offs[k].leader_epoch = r->version >= 6
                                   ? qt->partitions[j].committed_leader_epoch
                                   : -1;
            offs[k].metadata = qt->partitions[j].committed_metadata;

            if (offs[k].topic.data == NULL) {
                sl_str_set(&offs[k].topic, "");
            }

            k++;
        }
    }

    if (group.len == 0 && r->version > 0) {
        for (i = 0; i < k; i++) {
            offs[i].error = SL_BROKER_GROUP_INVALID_GROUP_ID;
        }

    } else {
        (void) sl_broker_group_commit(&group,
                                      req->generation_id_or_member_epoch,
                                      &member, &req->group_instance_id,
                                      req->retention_time_ms, offs,
                                      (sl_uint_t) k, r->log);
    }

    resp->throttle_time_ms = 0;
    resp->topics_n = req->topics_n > 0 ? req->topics_n : 0;

    rt = sl_pcalloc(r->pool, (resp->topics_n + 1) * sizeof(*rt));
    if (rt == NULL) {
        return SL_ERROR;
    }

    resp->topics = rt;
    k = 0;

    for (i = 0; i < resp->topics_n; i++) {
        qt = &req->topics[i];

        rt[i].name = qt->name;
        rt[i].partitions_n = qt->partitions_n > 0 ? qt->partitions_n : 0;

        rp = sl_pcalloc(r->pool, (rt[i].partitions_n + 1) * sizeof(*rp));
        if (rp == NULL) {
            return SL_ERROR;
        }

        rt[i].partitions = rp;

        for (j = 0; j < rt[i].partitions_n; j++) {
            rp[j].partition_index = qt->partitions[j].partition_index;
            rp[j].error_code = sl_kafka_group_error(offs[k].error);
            k++;
        }
    }

    return SL_OK;
}


/* one group's offsets: the asked ones, or all of them (topics null) */

static sl_int_t
sl_kafka_offset_fetch_group(sl_kafka_request_t *r, sl_str_t *group,
    sl_kafka_offset_fetch_req_topics_t *topics, int32_t ntopics,
    sl_kafka_offset_fetch_resp_topics_t **out, int32_t *nout)
{
    int32_t                                   i, j, nt;
    sl_uint_t                                 k, start;
    sl_array_t                                all;
    sl_broker_group_offset_t                  o, *e;
    sl_kafka_offset_fetch_resp_topics_t      *rt;
    sl_kafka_offset_fetch_resp_partitions_t  *rp;

    if (ntopics >= 0) {
        rt = sl_pcalloc(r->pool, (ntopics + 1) * sizeof(*rt));
        if (rt == NULL) {
            return SL_ERROR;
        }

        for (i = 0; i < ntopics; i++) {
            rt[i].name = topics[i].name;
            rt[i].partitions_n = topics[i].partition_indexes_n > 0
                                 ? topics[i].partition_indexes_n : 0;

            rp = sl_pcalloc(r->pool, (rt[i].partitions_n + 1) * sizeof(*rp));
            if (rp == NULL) {
                return SL_ERROR;
            }

            rt[i].partitions = rp;

            for (j = 0; j < rt[i].partitions_n; j++) {
                o.topic = topics[i].name;
                o.partition = topics[i].partition_indexes[j];

                if (o.topic.data == NULL) {
                    sl_str_set(&o.topic, "");
                }

                if (sl_broker_group_fetch(group, &o, r->pool) != SL_OK) {
                    return SL_ERROR;
                }

                rp[j].partition_index = o.partition;
                rp[j].committed_offset = o.offset;
                rp[j].committed_leader_epoch = o.leader_epoch;
                rp[j].metadata = o.metadata;
                rp[j].error_code = SL_KAFKA_NONE;
            }
        }

        *out = rt;
        *nout = ntopics;

        return SL_OK;
    }

    /* every committed offset, grouped by topic */

    if (sl_array_init(&all, r->pool, 16, sizeof(sl_broker_group_offset_t))
        != SL_OK)
    {
        return SL_ERROR;
    }

    if (sl_broker_group_fetch_all(group, r->pool, &all) != SL_OK) {
        return SL_ERROR;
    }

    e = all.elts;
    nt = 0;

    for (k = 0; k < all.nelts; k++) {
        if (k == 0 || !(e[k].topic.len == e[k - 1].topic.len
                        && sl_memcmp(e[k].topic.data, e[k - 1].topic.data,
                                     e[k].topic.len) == 0))
        {
            nt++;
        }
    }

    rt = sl_pcalloc(r->pool, (nt + 1) * sizeof(*rt));
    if (rt == NULL) {
        return SL_ERROR;
    }

    i = -1;
    start = 0;

    for (k = 0; k < all.nelts; k++) {
        if (k == 0 || !(e[k].topic.len == e[k - 1].topic.len
                        && sl_memcmp(e[k].topic.data, e[k - 1].topic.data,
                                     e[k].topic.len) == 0))
        {
            i++;
            start = k;

            for (j = 0; k + j < all.nelts
                        && e[k + j].topic.len == e[k].topic.len
                        && sl_memcmp(e[k + j].topic.data, e[k].topic.data,
                                     e[k].topic.len) == 0;
                 j++)
            {
                /* void */
            }

            rt[i].name = e[k].topic;
            rt[i].partitions_n = j;
            rt[i].partitions = sl_pcalloc(r->pool, (j + 1) * sizeof(*rp));

            if (rt[i].partitions == NULL) {
                return SL_ERROR;
            }
        }

        rp = &rt[i].partitions[k - start];
        rp->partition_index = e[k].partition;
        rp->committed_offset = e[k].offset;
        rp->committed_leader_epoch = e[k].leader_epoch;
        rp->metadata = e[k].metadata;
        rp->error_code = SL_KAFKA_NONE;
    }

    *out = rt;
    *nout = nt;

    return SL_OK;
}


sl_int_t
sl_kafka_offset_fetch(sl_kafka_request_t *r)
{
    int32_t                                   i, n;
    sl_str_t                                  group;
    sl_kafka_offset_fetch_req_t              *req;
    sl_kafka_offset_fetch_resp_t             *resp;
    sl_kafka_offset_fetch_req_group_t        *qg;
    sl_kafka_offset_fetch_resp_group_t       *rg;
    sl_kafka_offset_fetch_resp_topics_t      *rt;

    req = r->req;
    resp = r->resp;

    resp->throttle_time_ms = 0;

    if (r->version < 8) {
        group = req->group_id;

        if (group.data == NULL) {
            sl_str_set(&group, "");
        }

        /* the v0-v7 shapes of a topic and a partition are the v8 ones */

        if (sl_kafka_offset_fetch_group(r, &group,
                          (sl_kafka_offset_fetch_req_topics_t *) req->topics,
                          (r->version < 2 && req->topics_n < 0)
                          ? 0 : req->topics_n,
                          &rt, &n)
            != SL_OK)
        {
            return SL_ERROR;
        }

        resp->topics = (sl_kafka_offset_fetch_resp_topic_t *) rt;
        resp->topics_n = n;
        resp->error_code = SL_KAFKA_NONE;

        return SL_OK;
    }

    n = req->groups_n > 0 ? req->groups_n : 0;

    rg = sl_pcalloc(r->pool, (n + 1) * sizeof(*rg));
    if (rg == NULL) {
        return SL_ERROR;
    }

    resp->groups = rg;
    resp->groups_n = n;

    for (i = 0; i < n; i++) {
        qg = &req->groups[i];

        group = qg->group_id;

        if (group.data == NULL) {
            sl_str_set(&group, "");
        }

        rg[i].group_id = group;

        if (sl_kafka_offset_fetch_group(r, &group, qg->topics, qg->topics_n,
                                        &rg[i].topics, &rg[i].topics_n)
            != SL_OK)
        {
            return SL_ERROR;
        }
    }

    return SL_OK;
}


sl_int_t
sl_kafka_describe_groups(sl_kafka_request_t *r)
{
    int32_t                                                  i, n;
    sl_uint_t                                                k;
    sl_broker_group_desc_t                                   d;
    sl_kafka_describe_groups_req_t                          *req;
    sl_kafka_describe_groups_resp_t                         *resp;
    sl_kafka_describe_groups_resp_described_group_t         *g;
    sl_kafka_describe_groups_resp_described_group_member_t  *m;

    req = r->req;
    resp = r->resp;

    n = req->groups_n > 0 ? req->groups_n : 0;

    g = sl_pcalloc(r->pool, (n + 1) * sizeof(*g));
    if (g == NULL) {
        return SL_ERROR;
    }

    resp->throttle_time_ms = 0;
    resp->groups = g;
    resp->groups_n = n;

    for (i = 0; i < n; i++) {
        g[i].group_id = req->groups[i];
        g[i].authorized_operations = req->include_authorized_operations
                                     ? SL_KAFKA_GROUP_OPERATIONS
                                     : SL_KAFKA_AUTHORIZED_OPS_OMITTED;

        if (g[i].group_id.data == NULL) {
            sl_str_set(&g[i].group_id, "");
        }

        if (sl_broker_group_describe(&g[i].group_id, r->pool, &d) != SL_OK) {
            return SL_ERROR;
        }

        g[i].group_state.data = (u_char *) sl_broker_group_state_name(
                                                                  d.state);
        g[i].group_state.len = sl_strlen(g[i].group_state.data);
        g[i].protocol_type = d.protocol_type;
        g[i].protocol_data = d.protocol_name;

        if (g[i].protocol_type.data == NULL) {
            sl_str_set(&g[i].protocol_type, "");
        }

        if (g[i].protocol_data.data == NULL) {
            sl_str_set(&g[i].protocol_data, "");
        }

        if (d.state == SL_BROKER_GROUP_DEAD && r->version >= 5) {
            g[i].error_code = SL_KAFKA_GROUP_ID_NOT_FOUND;
        }

        m = sl_pcalloc(r->pool, (d.nmembers + 1) * sizeof(*m));
        if (m == NULL) {
            return SL_ERROR;
        }

        g[i].members = m;
        g[i].members_n = (int32_t) d.nmembers;

        for (k = 0; k < d.nmembers; k++) {
            m[k].member_id = d.members[k].member_id;
            m[k].group_instance_id = d.members[k].instance_id;
            m[k].client_id = d.members[k].client_id;
            m[k].client_host = d.members[k].client_host;
            m[k].member_metadata = d.members[k].metadata;
            m[k].member_assignment = d.members[k].assignment;

            if (m[k].group_instance_id.len == 0) {
                m[k].group_instance_id.data = NULL;
            }
        }
    }

    return SL_OK;
}


sl_int_t
sl_kafka_list_groups(sl_kafka_request_t *r)
{
    int32_t                                    i, n;
    sl_uint_t                                  k, keep;
    sl_str_t                                   state, *f;
    sl_array_t                                 all;
    sl_broker_group_desc_t                    *d;
    sl_kafka_list_groups_req_t                *req;
    sl_kafka_list_groups_resp_t               *resp;
    sl_kafka_list_groups_resp_listed_group_t  *g;

    req = r->req;
    resp = r->resp;

    if (sl_array_init(&all, r->pool, 16, sizeof(sl_broker_group_desc_t))
        != SL_OK)
    {
        return SL_ERROR;
    }

    if (sl_broker_group_list(r->pool, &all) != SL_OK) {
        return SL_ERROR;
    }

    g = sl_pcalloc(r->pool, (all.nelts + 1) * sizeof(*g));
    if (g == NULL) {
        return SL_ERROR;
    }

    resp->throttle_time_ms = 0;
    resp->error_code = SL_KAFKA_NONE;
    resp->groups = g;

    d = all.elts;
    n = 0;

    for (k = 0; k < all.nelts; k++) {
        state.data = (u_char *) sl_broker_group_state_name(d[k].state);
        state.len = sl_strlen(state.data);

        keep = (req->states_filter_n <= 0);

        for (i = 0; i < req->states_filter_n; i++) {
            f = &req->states_filter[i];

            if (f->len == state.len
                && sl_strncasecmp(f->data, state.data, f->len) == 0)
            {
                keep = 1;
            }
        }

        if (keep && req->types_filter_n > 0) {
            keep = 0;

            for (i = 0; i < req->types_filter_n; i++) {
                f = &req->types_filter[i];

                if (f->len == 7
                    && sl_strncasecmp(f->data, (u_char *) "classic", 7) == 0)
                {
                    keep = 1;
                }
            }
        }

        if (!keep) {
            continue;
        }

        g[n].group_id = d[k].group_id;
        g[n].protocol_type = d[k].protocol_type;
        g[n].group_state = state;
        sl_str_set(&g[n].group_type, "classic");

        if (g[n].protocol_type.data == NULL) {
            sl_str_set(&g[n].protocol_type, "");
        }

        n++;
    }

    resp->groups_n = n;

    return SL_OK;
}


sl_int_t
sl_kafka_delete_groups(sl_kafka_request_t *r)
{
    int32_t                                                i, n;
    sl_kafka_delete_groups_req_t                          *req;
    sl_kafka_delete_groups_resp_t                         *resp;
    sl_kafka_delete_groups_resp_deletable_group_result_t  *res;

    req = r->req;
    resp = r->resp;

    n = req->groups_names_n > 0 ? req->groups_names_n : 0;

    res = sl_pcalloc(r->pool, (n + 1) * sizeof(*res));
    if (res == NULL) {
        return SL_ERROR;
    }

    resp->throttle_time_ms = 0;
    resp->results = res;
    resp->results_n = n;

    for (i = 0; i < n; i++) {
        res[i].group_id = req->groups_names[i];

        if (res[i].group_id.data == NULL) {
            sl_str_set(&res[i].group_id, "");
        }

        res[i].error_code = sl_kafka_group_error(
            sl_broker_group_delete(&res[i].group_id, r->log));
    }

    return SL_OK;
}


sl_int_t
sl_kafka_offset_delete(sl_kafka_request_t *r)
{
    int32_t                                   i, j, n, k;
    sl_str_t                                  group;
    sl_broker_group_offset_t                 *offs;
    sl_kafka_offset_delete_req_t             *req;
    sl_kafka_offset_delete_resp_t            *resp;
    sl_kafka_offset_delete_req_topic_t       *qt;
    sl_kafka_offset_delete_resp_topic_t      *rt;
    sl_kafka_offset_delete_resp_partition_t  *rp;

    req = r->req;
    resp = r->resp;

    group = req->group_id;

    if (group.data == NULL) {
        sl_str_set(&group, "");
    }

    n = 0;

    for (i = 0; i < req->topics_n; i++) {
        n += req->topics[i].partitions_n > 0 ? req->topics[i].partitions_n
                                             : 0;
    }

    offs = sl_pcalloc(r->pool, (n + 1) * sizeof(sl_broker_group_offset_t));
    if (offs == NULL) {
        return SL_ERROR;
    }

    k = 0;

    for (i = 0; i < req->topics_n; i++) {
        qt = &req->topics[i];

        for (j = 0; j < qt->partitions_n; j++) {
            offs[k].topic = qt->name;
            offs[k].partition = qt->partitions[j].partition_index;

            if (offs[k].topic.data == NULL) {
                sl_str_set(&offs[k].topic, "");
            }

            k++;
        }
    }

    resp->throttle_time_ms = 0;
    resp->error_code = sl_kafka_group_error(
        sl_broker_group_offset_delete(&group, offs, (sl_uint_t) k, r->log));

    if (resp->error_code) {
        return SL_OK;
    }

    resp->topics_n = req->topics_n > 0 ? req->topics_n : 0;

    rt = sl_pcalloc(r->pool, (resp->topics_n + 1) * sizeof(*rt));
    if (rt == NULL) {
        return SL_ERROR;
    }

    resp->topics = rt;
    k = 0;

    for (i = 0; i < resp->topics_n; i++) {
        qt = &req->topics[i];

        rt[i].name = qt->name;
        rt[i].partitions_n = qt->partitions_n > 0 ? qt->partitions_n : 0;

        rp = sl_pcalloc(r->pool, (rt[i].partitions_n + 1) * sizeof(*rp));
        if (rp == NULL) {
            return SL_ERROR;
        }

        rt[i].partitions = rp;

        for (j = 0; j < rt[i].partitions_n; j++) {
            rp[j].partition_index = qt->partitions[j].partition_index;
            rp[j].error_code = sl_kafka_group_error(offs[k].error);
            k++;
        }
    }

    return SL_OK;
}
