
/*
 * The group coordinator without the process model: joins and syncs of
 * several members, MEMBER_ID_REQUIRED, heartbeat errors, session expiry
 * and the initial rebalance delay (time shifted by the test), static
 * members, protocol checks, and committed offsets through a restart,
 * OffsetDelete, DeleteGroups and retention.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>
#include <sl_broker_group.h>

#include <setjmp.h>
#include <cmocka.h>

/* the shared helpers include some this file does not need */
#pragma GCC diagnostic ignored "-Wunused-function"

#include "test_broker.h"


#define tg_str(s)  ((sl_str_t) sl_string(s))


static sl_pool_t               *tg_pool;
static sl_broker_group_conf_t   tg_conf;


static void
tg_setup(sl_msec_t delay)
{
    tb_setup(1024 * 1024, 4096);

    tg_conf.initial_rebalance_delay = delay;
    tg_conf.offsets_retention = 60000;
    tg_conf.min_session_timeout = 1000;
    tg_conf.max_session_timeout = 60000;
    tg_conf.offsets_topic_partitions = 4;
    tg_conf.zone_size = 4 * 1024 * 1024;

    sl_broker_group_time_shift = 0;

    assert_int_equal(sl_broker_group_init_storage(&tg_conf, tb_log), SL_OK);

    tg_pool = sl_create_pool(4096, tb_log);
    assert_non_null(tg_pool);
}


static void
tg_teardown(void)
{
    sl_destroy_pool(tg_pool);
    tb_teardown();
}


static sl_int_t
tg_join(const char *group, sl_str_t *member, const char *instance,
    const char *type, const char *proto, sl_uint_t v4,
    sl_broker_group_join_result_t *res, uint32_t *token)
{
    sl_int_t                     rc;
    sl_broker_group_join_t       j;
    sl_broker_group_protocol_t   p;

    sl_memzero(&j, sizeof(j));

    j.group_id.data = (u_char *) group;
    j.group_id.len = strlen(group);
    j.member_id = *member;
    j.instance_id.data = (u_char *) instance;
    j.instance_id.len = instance ? strlen(instance) : 0;
    j.client_id = tg_str("cli");
    j.client_host = tg_str("/127.0.0.1");
    j.protocol_type.data = (u_char *) type;
    j.protocol_type.len = strlen(type);
    p.name.data = (u_char *) proto;
    p.name.len = strlen(proto);
    p.metadata = tg_str("md");
    j.protocols = &p;
    j.nprotocols = 1;
    j.session_timeout = 5000;
    j.rebalance_timeout = 10000;
    j.require_known_member = v4;

    rc = sl_broker_group_join(&j, tg_pool, res, tb_log);

    if (token) {
        *token = j.token;
    }

    if (res->member_id.data) {
        *member = res->member_id;
    }

    return rc;
}


static sl_int_t
tg_sync(const char *group, sl_str_t *member, int32_t gen,
    sl_broker_group_assignment_t *a, sl_uint_t n,
    sl_broker_group_sync_result_t *res, uint32_t *token)
{
    sl_int_t                rc;
    sl_broker_group_sync_t  s;

    sl_memzero(&s, sizeof(s));
    s.group_id.data = (u_char *) group;
    s.group_id.len = strlen(group);
    s.member_id = *member;
    s.generation = gen;
    s.assignments = a;
    s.nassignments = n;

    rc = sl_broker_group_sync(&s, tg_pool, res, tb_log);

    if (token) {
        *token = s.token;
    }

    return rc;
}


static sl_uint_t
tg_state(const char *group)
{
    sl_str_t                g;
    sl_broker_group_desc_t  d;

    g.data = (u_char *) group;
    g.len = strlen(group);

    assert_int_equal(sl_broker_group_describe(&g, tg_pool, &d), SL_OK);

    return d.state;
}


/* two members: join, wait, sync, stable; then one leaves */

static void
test_join_sync_leave(void **state)
{
    uint32_t                        t1, t2, st;
    sl_str_t                        m1, m2, g, none;
    sl_broker_group_join_result_t   r1, r2;
    sl_broker_group_sync_result_t   s1, s2;
    sl_broker_group_assignment_t    a[2];

    tg_setup(0);

    g = tg_str("g");
    sl_str_set(&m1, "");
    sl_str_set(&m2, "");
    sl_str_null(&none);

    /* v4: a member id first */
    assert_int_equal(tg_join("g", &m1, NULL, "consumer", "range", 1, &r1,
                             &t1), SL_OK);
    assert_int_equal(r1.error, SL_BROKER_GROUP_MEMBER_ID_REQUIRED);
    assert_true(m1.len > 4);

    /* the first member alone completes a join at once */
    assert_int_equal(tg_join("g", &m1, NULL, "consumer", "range", 1, &r1,
                             &t1), SL_OK);
    assert_int_equal(r1.error, 0);
    assert_int_equal(r1.generation, 1);
    assert_int_equal(r1.nmembers, 1);
    assert_int_equal(tg_state("g"), SL_BROKER_GROUP_COMPLETING);

    a[0].member_id = m1;
    a[0].assignment = tg_str("A1");
    assert_int_equal(tg_sync("g", &m1, 1, a, 1, &s1, NULL), SL_OK);
    assert_int_equal(s1.error, 0);
    assert_int_equal(tg_state("g"), SL_BROKER_GROUP_STABLE);

    /* a second member (v3: no MEMBER_ID_REQUIRED) waits */
    assert_int_equal(tg_join("g", &m2, NULL, "consumer", "range", 0, &r2,
                             &t2), SL_AGAIN);
    assert_int_equal(tg_state("g"), SL_BROKER_GROUP_PREPARING);
    assert_int_equal(sl_broker_group_heartbeat(&g, &m1, &none, 1),
                     SL_BROKER_GROUP_REBALANCE_IN_PROGRESS);
    assert_int_equal(sl_broker_group_join_poll(&g, &m2, t2, tg_pool, &r2),
                     SL_AGAIN);

    /* the first rejoins: both answered, the first is the leader */
    assert_int_equal(tg_join("g", &m1, NULL, "consumer", "range", 1, &r1,
                             &t1), SL_OK);
    assert_int_equal(r1.generation, 2);
    assert_int_equal(r1.nmembers, 2);
    assert_true(r1.leader.len == m1.len
                && sl_memcmp(r1.leader.data, m1.data, m1.len) == 0);

    assert_int_equal(sl_broker_group_join_poll(&g, &m2, t2, tg_pool, &r2),
                     SL_OK);
    assert_int_equal(r2.error, 0);
    assert_int_equal(r2.generation, 2);
    assert_int_equal(r2.nmembers, 0);

    /* the follower's sync waits for the leader's */
    assert_int_equal(tg_sync("g", &m2, 2, NULL, 0, &s2, &st), SL_AGAIN);
    assert_int_equal(sl_broker_group_heartbeat(&g, &m2, &none, 1),
                     SL_BROKER_GROUP_ILLEGAL_GENERATION);

    a[1].member_id = m2;
    a[1].assignment = tg_str("A2");
    assert_int_equal(tg_sync("g", &m1, 2, a, 2, &s1, NULL), SL_OK);
    assert_int_equal(sl_broker_group_sync_poll(&g, &m2, st, tg_pool, &s2),
                     SL_OK);
    assert_int_equal(s2.error, 0);
    assert_int_equal(s2.assignment.len, 2);
    assert_memory_equal(s2.assignment.data, "A2", 2);

    assert_int_equal(sl_broker_group_heartbeat(&g, &m2, &none, 2), 0);

    /* unknown members, bad protocols */
    {
        sl_str_t  x;

        x = tg_str("nobody");
        assert_int_equal(sl_broker_group_heartbeat(&g, &x, &none, 2),
                         SL_BROKER_GROUP_UNKNOWN_MEMBER_ID);
        assert_int_equal(tg_join("g", &x, NULL, "consumer", "range", 1,
                                 &r1, NULL), SL_OK);
        assert_int_equal(r1.error, SL_BROKER_GROUP_UNKNOWN_MEMBER_ID);

        sl_str_set(&x, "");
        assert_int_equal(tg_join("g", &x, NULL, "connect", "range", 1,
                                 &r1, NULL), SL_OK);
        assert_int_equal(r1.error, SL_BROKER_GROUP_INCONSISTENT_PROTOCOL);
        sl_str_set(&x, "");
        assert_int_equal(tg_join("g", &x, NULL, "consumer", "other", 1,
                                 &r1, NULL), SL_OK);
        assert_int_equal(r1.error, SL_BROKER_GROUP_INCONSISTENT_PROTOCOL);
    }

    assert_int_equal(tg_state("g"), SL_BROKER_GROUP_STABLE);

    /* a leave: the other must rejoin, alone it completes at once */
    assert_int_equal(sl_broker_group_leave(&g, &m2, &none, tb_log), 0);
    assert_int_equal(tg_state("g"), SL_BROKER_GROUP_PREPARING);
    assert_int_equal(tg_join("g", &m1, NULL, "consumer", "range", 1, &r1,
                             NULL), SL_OK);
    assert_int_equal(r1.generation, 3);

    assert_int_equal(sl_broker_group_leave(&g, &m1, &none, tb_log), 0);
    assert_int_equal(tg_state("g"), SL_BROKER_GROUP_EMPTY);

    tg_teardown();
}


/* a member that stops heartbeating is removed after its session */

static void
test_session_expiry_and_initial_delay(void **state)
{
    uint32_t                        t1, t2;
    sl_str_t                        m1, m2, g, none;
    sl_broker_group_join_result_t   r1, r2;
    sl_broker_group_sync_result_t   s1;
    sl_broker_group_assignment_t    a[2];

    tg_setup(3000);

    g = tg_str("e");
    sl_str_set(&m1, "");
    sl_str_set(&m2, "");
    sl_str_null(&none);

    /* the initial delay holds the first join back */
    assert_int_equal(tg_join("e", &m1, NULL, "consumer", "range", 0, &r1,
                             &t1), SL_AGAIN);
    assert_int_equal(tg_join("e", &m2, NULL, "consumer", "range", 0, &r2,
                             &t2), SL_AGAIN);

    sl_broker_group_tick(tb_log);
    assert_int_equal(sl_broker_group_join_poll(&g, &m1, t1, tg_pool, &r1),
                     SL_AGAIN);

    /* a new member came during the delay: it runs once more */
    sl_broker_group_time_shift += 3100;
    sl_broker_group_tick(tb_log);
    assert_int_equal(sl_broker_group_join_poll(&g, &m1, t1, tg_pool, &r1),
                     SL_AGAIN);

    sl_broker_group_time_shift += 3100;
    sl_broker_group_tick(tb_log);
    assert_int_equal(sl_broker_group_join_poll(&g, &m1, t1, tg_pool, &r1),
                     SL_OK);
    assert_int_equal(r1.generation, 1);
    assert_int_equal(r1.nmembers, 2);
    assert_int_equal(sl_broker_group_join_poll(&g, &m2, t2, tg_pool, &r2),
                     SL_OK);

    a[0].member_id = m1;
    a[0].assignment = tg_str("A");
    a[1].member_id = m2;
    a[1].assignment = tg_str("B");
    assert_int_equal(tg_sync("e", &m1, 1, a, 2, &s1, NULL), SL_OK);
    assert_int_equal(tg_state("e"), SL_BROKER_GROUP_STABLE);

    /* m2 goes silent; m1 keeps heartbeating */
    sl_broker_group_time_shift += 3000;
    assert_int_equal(sl_broker_group_heartbeat(&g, &m1, &none, 1), 0);
    sl_broker_group_tick(tb_log);
    assert_int_equal(tg_state("e"), SL_BROKER_GROUP_STABLE);

    sl_broker_group_time_shift += 2500;
    sl_broker_group_tick(tb_log);
    assert_int_equal(tg_state("e"), SL_BROKER_GROUP_PREPARING);
    assert_int_equal(sl_broker_group_heartbeat(&g, &m2, &none, 1),
                     SL_BROKER_GROUP_UNKNOWN_MEMBER_ID);
    assert_int_equal(sl_broker_group_heartbeat(&g, &m1, &none, 1),
                     SL_BROKER_GROUP_REBALANCE_IN_PROGRESS);

    tg_teardown();
}


/* a static member restarting in a stable group: no rebalance */

static void
test_static_member(void **state)
{
    sl_str_t                        m1, m2, m1b, g, none, inst;
    uint32_t                        t2;
    sl_broker_group_join_result_t   r1, r2;
    sl_broker_group_sync_result_t   s1, s2;
    sl_broker_group_assignment_t    a[2];

    tg_setup(0);

    g = tg_str("s");
    sl_str_set(&m1, "");
    sl_str_set(&m2, "");
    sl_str_null(&none);

    assert_int_equal(tg_join("s", &m1, "i1", "consumer", "range", 1, &r1,
                             NULL), SL_OK);
    a[0].member_id = m1;
    a[0].assignment = tg_str("A");
    assert_int_equal(tg_sync("s", &m1, 1, a, 1, &s1, NULL), SL_OK);

    assert_int_equal(tg_join("s", &m2, "i2", "consumer", "range", 1, &r2,
                             &t2), SL_AGAIN);
    assert_int_equal(tg_join("s", &m1, "i1", "consumer", "range", 1, &r1,
                             NULL), SL_OK);
    assert_int_equal(r1.generation, 2);
    a[0].member_id = m1;
    a[1].member_id = m2;
    a[1].assignment = tg_str("B");
    assert_int_equal(tg_sync("s", &m1, 2, a, 2, &s1, NULL), SL_OK);
    assert_int_equal(tg_state("s"), SL_BROKER_GROUP_STABLE);

    /* i2 restarts without a member id */
    sl_str_set(&m1b, "");
    assert_int_equal(tg_join("s", &m1b, "i2", "consumer", "range", 1, &r2,
                             NULL), SL_OK);
    assert_int_equal(r2.error, 0);
    assert_int_equal(r2.generation, 2);
    assert_false(m1b.len == m2.len
                 && sl_memcmp(m1b.data, m2.data, m2.len) == 0);
    assert_int_equal(tg_state("s"), SL_BROKER_GROUP_STABLE);

    assert_int_equal(tg_sync("s", &m1b, 2, NULL, 0, &s2, NULL), SL_OK);
    assert_int_equal(s2.error, 0);
    assert_memory_equal(s2.assignment.data, "B", 1);

    /* the old id is fenced out */
    inst = tg_str("i2");
    assert_int_equal(sl_broker_group_heartbeat(&g, &m2, &inst, 2),
                     SL_BROKER_GROUP_FENCED_INSTANCE_ID);
    assert_int_equal(sl_broker_group_heartbeat(&g, &m1b, &inst, 2), 0);

    tg_teardown();
}


/* offsets: commit, fetch, a restart, OffsetDelete, DeleteGroups */

static void
test_offsets_persist(void **state)
{
    sl_str_t                   g, none, empty;
    sl_array_t                 all;
    sl_broker_group_offset_t   o[3], f;

    tg_setup(0);

    (void) tb_topic("t", 2, NULL);

    g = tg_str("og");
    sl_str_null(&none);
    sl_str_set(&empty, "");

    sl_memzero(o, sizeof(o));
    o[0].topic = tg_str("t");
    o[0].partition = 0;
    o[0].offset = 42;
    o[0].leader_epoch = 3;
    o[0].metadata = tg_str("meta");
    o[1].topic = tg_str("t");
    o[1].partition = 1;
    o[1].offset = 7;
    o[1].leader_epoch = -1;
    o[2].topic = tg_str("nosuch");
    o[2].partition = 0;
    o[2].offset = 1;

    assert_int_equal(sl_broker_group_commit(&g, -1, &empty, &none, -1, o, 3,
                                            tb_log), 0);
    assert_int_equal(o[0].error, 0);
    assert_int_equal(o[1].error, 0);
    assert_int_equal(o[2].error, SL_BROKER_GROUP_UNKNOWN_TOPIC);

    /* a commit with a generation for an unknown group */
    {
        sl_str_t  g2;

        g2 = tg_str("other");
        assert_int_equal(sl_broker_group_commit(&g2, 5, &empty, &none, -1,
                                                o, 1, tb_log),
                         SL_BROKER_GROUP_ILLEGAL_GENERATION);
    }

    o[1].offset = 9;
    assert_int_equal(sl_broker_group_commit(&g, -1, &empty, &none, -1,
                                            &o[1], 1, tb_log), 0);

    /* a restart: the log is replayed */
    tb_restart(0);
    assert_int_equal(sl_broker_group_init_storage(&tg_conf, tb_log), SL_OK);

    f.topic = tg_str("t");
    f.partition = 0;
    assert_int_equal(sl_broker_group_fetch(&g, &f, tg_pool), SL_OK);
    assert_int_equal(f.offset, 42);
    assert_int_equal(f.leader_epoch, 3);
    assert_int_equal(f.metadata.len, 4);

    f.partition = 1;
    assert_int_equal(sl_broker_group_fetch(&g, &f, tg_pool), SL_OK);
    assert_int_equal(f.offset, 9);

    assert_int_equal(sl_array_init(&all, tg_pool, 4,
                                   sizeof(sl_broker_group_offset_t)), SL_OK);
    assert_int_equal(sl_broker_group_fetch_all(&g, tg_pool, &all), SL_OK);
    assert_int_equal(all.nelts, 2);

    /* OffsetDelete of partition 1, then a restart */
    assert_int_equal(sl_broker_group_offset_delete(&g, &o[1], 1, tb_log),
                     0);
    tb_restart(1);
    assert_int_equal(sl_broker_group_init_storage(&tg_conf, tb_log), SL_OK);
    assert_int_equal(sl_broker_group_fetch(&g, &f, tg_pool), SL_OK);
    assert_int_equal(f.offset, -1);
    assert_true(sl_broker_group_lag(&g) >= 0);

    /* DeleteGroups, then a restart */
    assert_int_equal(sl_broker_group_delete(&g, tb_log), 0);
    assert_int_equal(sl_broker_group_delete(&g, tb_log),
                     SL_BROKER_GROUP_ID_NOT_FOUND);
    tb_restart(0);
    assert_int_equal(sl_broker_group_init_storage(&tg_conf, tb_log), SL_OK);
    assert_int_equal(tg_state("og"), SL_BROKER_GROUP_DEAD);

    tg_teardown();
}


/* offsets of an empty group expire after the retention */

static void
test_offsets_retention(void **state)
{
    sl_str_t                   g, none, empty;
    sl_broker_group_offset_t   o, f;

    tg_setup(0);

    (void) tb_topic("t", 1, NULL);

    g = tg_str("rg");
    sl_str_null(&none);
    sl_str_set(&empty, "");

    sl_memzero(&o, sizeof(o));
    o.topic = tg_str("t");
    o.offset = 5;
    o.leader_epoch = -1;

    assert_int_equal(sl_broker_group_commit(&g, -1, &empty, &none, -1, &o, 1,
                                            tb_log), 0);

    sl_broker_group_tick(tb_log);
    f.topic = tg_str("t");
    f.partition = 0;
    assert_int_equal(sl_broker_group_fetch(&g, &f, tg_pool), SL_OK);
    assert_int_equal(f.offset, 5);

    sl_broker_group_time_shift += 61000;
    sl_broker_group_tick(tb_log);
    assert_int_equal(sl_broker_group_fetch(&g, &f, tg_pool), SL_OK);
    assert_int_equal(f.offset, -1);
    assert_int_equal(tg_state("rg"), SL_BROKER_GROUP_DEAD);

    /* and the tombstone holds across a restart */
    tb_restart(0);
    assert_int_equal(sl_broker_group_init_storage(&tg_conf, tb_log), SL_OK);
    assert_int_equal(sl_broker_group_fetch(&g, &f, tg_pool), SL_OK);
    assert_int_equal(f.offset, -1);

    tg_teardown();
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_join_sync_leave),
        cmocka_unit_test(test_session_expiry_and_initial_delay),
        cmocka_unit_test(test_static_member),
        cmocka_unit_test(test_offsets_persist),
        cmocka_unit_test(test_offsets_retention),
    };

    sl_time_init();

    return cmocka_run_group_tests(tests, NULL, NULL);
}
