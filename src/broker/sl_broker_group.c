
/*
 * The group coordinator: consumer groups and their committed offsets.
 *
 * Where the state lives.  Every worker serves any connection, and a
 * group's members are spread over connections in several workers, so
 * the coordinator state is in one shared memory zone ("sl_broker_group",
 * a slab pool) under one robust process-shared lock.  Any worker can
 * answer any group request by taking the lock; there is no owner process
 * to reach over a channel, so a worker that dies loses nothing but the
 * requests parked in it.  Critical sections are short: a few list walks
 * and, for commits, one append of a small batch to __consumer_offsets,
 * done under the lock so that the log and memory agree on the order of
 * commits.
 *
 * Waiting.  JoinGroup and SyncGroup answers wait for other members.  The
 * request is parked in the worker holding its connection with a token;
 * the member in shared memory records when the wait it has that token
 * for is over (join_done, sync_done).  Each change that may end a wait
 * bumps a counter and rings the doorbell; the parked requests of every
 * worker then poll their tokens.  A parked request whose connection
 * closes abandons its wait: a dynamic member is removed at once (its
 * client is gone or will rejoin), a static one keeps its place until its
 * session expires.
 *
 * Time.  Deadlines (session expiry, rebalance timeouts, the initial
 * rebalance delay, offsets retention) are kept as monotonic milliseconds
 * in the zone with the earliest of them; every worker calls
 * sl_broker_group_tick() on a short timer and the first one past the
 * deadline does the work.  So expiry is detected even when the member's
 * connection went to a worker that died.
 *
 * Persistence.  Offsets are records in the compacted topic
 * __consumer_offsets, in Kafka's format (key version 1: group, topic,
 * partition; value version 3: offset, leader epoch, metadata, commit
 * time, or version 1 with an explicit expiry), in partition
 * hash(group) % partitions like Kafka; a null value deletes.  Group
 * metadata (key version 2) keeps the protocol type and generation of a
 * group across restarts, without its members: after a restart members
 * rejoin.  The master replays the topic once per zone.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_group.h>

#include <sys/random.h>


#define SL_BG_ZONE_SIZE          (16 * 1024 * 1024)
#define SL_BG_IDLE_SCAN          1000      /* ms between idle scans */
#define SL_BG_BATCH_MAX          (512 * 1024)
#define SL_BG_REPLAY_READ        (1024 * 1024)


typedef struct {
    sl_rbtree_node_t         node;
    sl_str_t                 name;
    int32_t                  partition;
} sl_bg_node_t;


typedef struct sl_bg_member_s  sl_bg_member_t;

struct sl_bg_member_s {
    sl_bg_member_t          *next;
    sl_str_t                 id;
    sl_str_t                 instance_id;
    sl_str_t                 client_id;
    sl_str_t                 client_host;
    sl_str_t                 protocols;      /* (u16 name, u32 data)* */
    sl_str_t                 assignment;
    int32_t                  session_timeout;
    int32_t                  rebalance_timeout;
    int32_t                  generation;     /* of the last join done */
    int64_t                  heartbeat;      /* monotonic */
    int64_t                  created;
    uint32_t                 join_token;
    uint32_t                 join_done;
    uint32_t                 sync_token;
    uint32_t                 sync_done;
    int16_t                  join_error;
    int16_t                  sync_error;
    unsigned                 pending:1;      /* MEMBER_ID_REQUIRED sent */
    unsigned                 join_waiting:1;
    unsigned                 sync_waiting:1;
};


typedef struct {
    sl_bg_node_t             node;           /* the group id */
    sl_uint_t                state;
    sl_str_t                 protocol_type;
    sl_str_t                 protocol_name;
    sl_str_t                 leader;
    int32_t                  generation;
    sl_bg_member_t          *members;
    sl_uint_t                nmembers;       /* pending ones apart */
    sl_uint_t                npending;
    int64_t                  state_time;     /* wall */
    int64_t                  join_deadline;  /* monotonic */
    int64_t                  join_limit;
    unsigned                 initial:1;
    unsigned                 new_member:1;
    sl_rbtree_t              offsets;
    sl_rbtree_node_t         sentinel;
    sl_uint_t                noffsets;
} sl_bg_group_t;


typedef struct {
    sl_bg_node_t             node;           /* topic and partition */
    int64_t                  offset;
    int32_t                  leader_epoch;
    sl_str_t                 metadata;
    int64_t                  commit_time;
    int64_t                  expire_time;    /* -1: by retention */
} sl_bg_offset_t;


typedef struct {
    sl_shmtx_t               lock;
    sl_rbtree_t              groups;
    sl_rbtree_node_t         sentinel;
    sl_uint_t                ngroups;
    uint32_t                 token;
    volatile uint64_t        changes;
    volatile int64_t         next_deadline;
    int64_t                  next_expire;
    sl_uint_t                loaded;
} sl_bg_sh_t;


/* a record to write: key, and value (NULL data: a tombstone) */
typedef struct {
    u_char                  *key;
    size_t                   key_len;
    u_char                  *value;
    size_t                   value_len;
} sl_bg_rec_t;


static sl_int_t sl_bg_init_zone(sl_shm_zone_t *zone, void *data);
static sl_int_t sl_bg_root(sl_slab_pool_t *sp, sl_log_t *log);
static void sl_bg_lock(void);
static void sl_bg_unlock(void);
static void sl_bg_changed(void);
static void sl_bg_deadline(int64_t t);
static uint32_t sl_bg_hash(sl_str_t *name, int32_t partition);
static void sl_bg_insert(sl_rbtree_node_t *temp, sl_rbtree_node_t *node,
    sl_rbtree_node_t *sentinel);
static sl_bg_node_t *sl_bg_lookup(sl_rbtree_t *tree, sl_str_t *name,
    int32_t partition);
static sl_int_t sl_bg_strset(sl_str_t *dst, sl_str_t *src);
static void sl_bg_strfree(sl_str_t *s);
static sl_int_t sl_bg_pstr(sl_pool_t *pool, sl_str_t *dst, sl_str_t *src);
static sl_uint_t sl_bg_streq(sl_str_t *a, sl_str_t *b);
static sl_bg_group_t *sl_bg_group_find(sl_str_t *id);
static sl_bg_group_t *sl_bg_group_create(sl_str_t *id);
static void sl_bg_group_free(sl_bg_group_t *g);
static sl_bg_member_t *sl_bg_member_find(sl_bg_group_t *g, sl_str_t *id);
static sl_bg_member_t *sl_bg_member_static(sl_bg_group_t *g,
    sl_str_t *instance_id);
static void sl_bg_member_free(sl_bg_member_t *m);
static void sl_bg_member_unlink(sl_bg_group_t *g, sl_bg_member_t *m);
static sl_int_t sl_bg_new_id(sl_str_t *prefix, sl_str_t *id);
static sl_int_t sl_bg_protocols(sl_broker_group_join_t *j, sl_str_t *out);
static sl_uint_t sl_bg_has_protocol(sl_str_t *blob, sl_str_t *name,
    sl_str_t *metadata);
static sl_uint_t sl_bg_supports(sl_bg_group_t *g,
    sl_broker_group_join_t *j);
static sl_int_t sl_bg_select_protocol(sl_bg_group_t *g, sl_str_t *name);
static sl_int_t sl_bg_member_update(sl_bg_member_t *m,
    sl_broker_group_join_t *j);
static void sl_bg_wait_join(sl_bg_member_t *m);
static void sl_bg_prepare(sl_bg_group_t *g, int64_t now);
static void sl_bg_try_complete(sl_bg_group_t *g, int64_t now);
static void sl_bg_complete_join(sl_bg_group_t *g, int64_t now);
static void sl_bg_remove_member(sl_bg_group_t *g, sl_bg_member_t *m,
    int64_t now);
static sl_uint_t sl_bg_alive(sl_bg_member_t *m, int64_t now);
static sl_int_t sl_bg_join_result(sl_bg_group_t *g, sl_bg_member_t *m,
    sl_uint_t with_members, sl_str_t *leader, sl_pool_t *pool,
    sl_broker_group_join_result_t *res);
static sl_int_t sl_bg_sync_result(sl_bg_group_t *g, sl_bg_member_t *m,
    sl_pool_t *pool, sl_broker_group_sync_result_t *res);
static sl_bg_offset_t *sl_bg_offset_set(sl_bg_group_t *g, sl_str_t *topic,
    int32_t partition);
static void sl_bg_offset_free(sl_bg_group_t *g, sl_bg_offset_t *o);
static void sl_bg_expire(int64_t wall, sl_log_t *log);
static sl_broker_partition_t *sl_bg_partition(sl_str_t *group);
static sl_int_t sl_bg_write(sl_str_t *group, sl_bg_rec_t *recs,
    sl_uint_t n, sl_log_t *log);
static sl_int_t sl_bg_write_batch(sl_broker_partition_t *part,
    sl_bg_rec_t *recs, sl_uint_t n, sl_log_t *log);
static size_t sl_bg_offset_key(u_char *p, sl_str_t *group, sl_str_t *topic,
    int32_t partition);
static size_t sl_bg_offset_value(u_char *p, sl_bg_offset_t *o);
static sl_int_t sl_bg_write_group(sl_bg_group_t *g, sl_uint_t tombstone,
    sl_log_t *log);
static sl_int_t sl_bg_tombstones(sl_bg_group_t *g, sl_bg_offset_t **offs,
    sl_uint_t n, sl_log_t *log);
static sl_int_t sl_bg_replay(sl_broker_topic_t *topic, sl_log_t *log);
static void sl_bg_replay_record(u_char *key, ssize_t klen, u_char *value,
    ssize_t vlen, sl_log_t *log);
static int sl_bg_offset_cmp(const void *a, const void *b);
static int sl_bg_desc_cmp(const void *a, const void *b);


int64_t                        sl_broker_group_time_shift;

static sl_bg_sh_t             *sl_bg_sh;
static sl_slab_pool_t         *sl_bg_pool;
static sl_broker_group_conf_t  sl_bg_conf = {
    3000, 7 * 24 * 3600 * 1000, 6000, 1800000, 8, SL_BG_ZONE_SIZE
};
static sl_cycle_t             *sl_bg_cycle;
static sl_uint_t               sl_bg_ring;
static u_char                  sl_bg_tag;
static sl_log_t               *sl_bg_log;

static const char  *sl_bg_state_names[] = {
    "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"
};


/* clocks */

int64_t
sl_broker_group_wall_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_REALTIME, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000
           + sl_broker_group_time_shift;
}


int64_t
sl_broker_group_mono_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000
           + sl_broker_group_time_shift;
}


const char *
sl_broker_group_state_name(sl_uint_t state)
{
    return state <= SL_BROKER_GROUP_DEAD ? sl_bg_state_names[state] : "Dead";
}


uint64_t
sl_broker_group_changes(void)
{
    return sl_bg_sh ? sl_atomic_load(&sl_bg_sh->changes) : 0;
}


/* the zone */

sl_int_t
sl_broker_group_configure(sl_conf_t *cf, sl_broker_group_conf_t *conf)
{
    sl_str_t        name;
    sl_shm_zone_t  *zone;

    if (sl_bg_cycle == cf->cycle) {
        /* a second protocol module uses the same groups */
        return SL_OK;
    }

    sl_bg_cycle = cf->cycle;
    sl_bg_conf = *conf;
    sl_bg_log = cf->cycle->log;

    sl_str_set(&name, "sl_broker_group");

    zone = sl_shared_memory_add(cf, &name, conf->zone_size, &sl_bg_tag);
    if (zone == NULL) {
        return SL_ERROR;
    }

    zone->init = sl_bg_init_zone;
    zone->data = &sl_bg_conf;

    return SL_OK;
}


static sl_int_t
sl_bg_init_zone(sl_shm_zone_t *zone, void *data)
{
    sl_slab_pool_t  *sp;

    sp = (sl_slab_pool_t *) zone->shm.addr;
    sl_bg_pool = sp;

    if ((data || zone->shm.exists) && sp->data) {
        /* a reload: the groups carry over */
        sl_bg_sh = sp->data;
        return SL_OK;
    }

    return sl_bg_root(sp, zone->shm.log);
}


static sl_int_t
sl_bg_root(sl_slab_pool_t *sp, sl_log_t *log)
{
    sl_bg_sh = sl_slab_calloc(sp, sizeof(sl_bg_sh_t));
    if (sl_bg_sh == NULL) {
        sl_log_error(SL_LOG_EMERG, log, 0, "the groups' zone is too small");
        return SL_ERROR;
    }

    if (sl_shmtx_create(&sl_bg_sh->lock) != SL_OK) {
        return SL_ERROR;
    }

    sl_rbtree_init(&sl_bg_sh->groups, &sl_bg_sh->sentinel, sl_bg_insert);
    sl_bg_sh->next_deadline = 0;

    sp->data = sl_bg_sh;

    return SL_OK;
}


sl_int_t
sl_broker_group_init_storage(sl_broker_group_conf_t *conf, sl_log_t *log)
{
    sl_shm_t         shm;
    sl_slab_pool_t  *sp;

    sl_bg_conf = *conf;
    sl_bg_log = log;

    sl_memzero(&shm, sizeof(sl_shm_t));
    shm.size = conf->zone_size ? conf->zone_size : SL_BG_ZONE_SIZE;
    sl_str_set(&shm.name, "sl_broker_group");
    shm.log = log;

    if (sl_shm_alloc(&shm) != SL_OK) {
        return SL_ERROR;
    }

    sp = sl_slab_create(shm.addr, shm.size);
    if (sp == NULL) {
        return SL_ERROR;
    }

    sl_bg_pool = sp;

    if (sl_bg_root(sp, log) != SL_OK) {
        return SL_ERROR;
    }

    return sl_broker_group_init(log);
}


/*
 * In the master once the logs are open: the offsets topic exists and
 * has been replayed into a fresh zone.
 */

sl_uint_t
sl_broker_group_ready(void)
{
    return sl_bg_sh != NULL;
}


sl_int_t
sl_broker_group_init(sl_log_t *log)
{
    sl_int_t                 rc;
    sl_str_t                 name;
    sl_broker_topic_t       *topic;
    sl_broker_topic_conf_t   conf;

    sl_bg_log = log;

    if (sl_bg_sh == NULL) {
        sl_log_error(SL_LOG_EMERG, log, 0, "the groups' zone is missing");
        return SL_ERROR;
    }

    if (sl_bg_sh->loaded) {
        return SL_OK;
    }

    sl_str_set(&name, SL_BROKER_GROUP_OFFSETS_TOPIC);

    topic = sl_broker_topic_find(&name);

    if (topic == NULL) {
        sl_broker_topic_conf_init(&conf);
        conf.cleanup_policy = SL_BROKER_CLEANUP_COMPACT;
        conf.segment_bytes = 100 * 1024 * 1024;

        rc = sl_broker_topic_create(&name, sl_bg_conf.offsets_topic_partitions,
                                    &conf, log, &topic);
        if (rc != SL_BROKER_OK) {
            sl_log_error(SL_LOG_EMERG, log, 0,
                         "groups: cannot create %.*s (error %d)",
                         SL_STR_ARG(&name), (int) rc);
            return SL_ERROR;
        }
    }

    if (sl_bg_replay(topic, log) != SL_OK) {
        return SL_ERROR;
    }

    sl_bg_sh->loaded = 1;

    sl_log_error(SL_LOG_NOTICE, log, 0, "groups: %d groups loaded from %.*s",
                 (int) sl_bg_sh->ngroups, SL_STR_ARG(&name));

    return SL_OK;
}


static void
sl_bg_lock(void)
{
    if (sl_shmtx_lock(&sl_bg_sh->lock) == SL_SHMTX_RECOVERED) {
        sl_log_error(SL_LOG_ALERT, sl_bg_log, 0,
                     "groups: a process died holding the coordinator lock");
    }

    sl_bg_ring = 0;
}


static void
sl_bg_unlock(void)
{
    sl_uint_t  ring;

    ring = sl_bg_ring;
    sl_bg_ring = 0;

    sl_shmtx_unlock(&sl_bg_sh->lock);

    if (ring) {
        sl_event_doorbell_ring();
    }
}


static void
sl_bg_changed(void)
{
    sl_bg_sh->changes++;
    sl_bg_ring = 1;
}


static void
sl_bg_deadline(int64_t t)
{
    if (t < sl_bg_sh->next_deadline) {
        sl_bg_sh->next_deadline = t;
    }
}


/* trees keyed by a name (and a partition) */

static uint32_t
sl_bg_hash(sl_str_t *name, int32_t partition)
{
    return sl_crc32c(name->data, name->len) ^ ((uint32_t) partition
                                               * 0x9e3779b1);
}


static sl_int_t
sl_bg_node_cmp(sl_bg_node_t *a, sl_bg_node_t *b)
{
    sl_int_t  rc;

    if (a->name.len != b->name.len) {
        return a->name.len < b->name.len ? -1 : 1;
    }

    rc = sl_memcmp(a->name.data, b->name.data, a->name.len);
    if (rc != 0) {
        return rc;
    }

    if (a->partition != b->partition) {
        return a->partition < b->partition ? -1 : 1;
    }

    return 0;
}


static void
sl_bg_insert(sl_rbtree_node_t *temp, sl_rbtree_node_t *node,
    sl_rbtree_node_t *sentinel)
{
    sl_rbtree_node_t  **p;

    for ( ;; ) {

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            p = (sl_bg_node_cmp((sl_bg_node_t *) node,
                                (sl_bg_node_t *) temp) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    sl_rbt_red(node);
}


static sl_bg_node_t *
sl_bg_lookup(sl_rbtree_t *tree, sl_str_t *name, int32_t partition)
{
    sl_int_t           rc;
    uint32_t           hash;
    sl_bg_node_t       key;
    sl_rbtree_node_t  *node, *sentinel;

    hash = sl_bg_hash(name, partition);
    key.name = *name;
    key.partition = partition;

    node = tree->root;
    sentinel = tree->sentinel;

    while (node != sentinel) {

        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        rc = sl_bg_node_cmp(&key, (sl_bg_node_t *) node);

        if (rc == 0) {
            return (sl_bg_node_t *) node;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* strings in the zone: data NULL is null, a copy is NUL-terminated */

static sl_int_t
sl_bg_strset(sl_str_t *dst, sl_str_t *src)
{
    u_char  *p;

    p = NULL;

    if (src && src->data) {
        p = sl_slab_alloc(sl_bg_pool, src->len + 1);
        if (p == NULL) {
            return SL_ERROR;
        }

        sl_memcpy(p, src->data, src->len);
        p[src->len] = '\0';
    }

    sl_bg_strfree(dst);

    dst->data = p;
    dst->len = p ? src->len : 0;

    return SL_OK;
}


static void
sl_bg_strfree(sl_str_t *s)
{
    if (s->data) {
        sl_slab_free(sl_bg_pool, s->data);
    }

    s->data = NULL;
    s->len = 0;
}


static sl_int_t
sl_bg_pstr(sl_pool_t *pool, sl_str_t *dst, sl_str_t *src)
{
    u_char  *p;

    if (src->data == NULL) {
        dst->len = 0;
        dst->data = NULL;
        return SL_OK;
    }

    p = sl_pnalloc(pool, src->len + 1);
    if (p == NULL) {
        return SL_ERROR;
    }

    sl_memcpy(p, src->data, src->len);
    p[src->len] = '\0';

    dst->len = src->len;
    dst->data = p;

    return SL_OK;
}


static sl_uint_t
sl_bg_streq(sl_str_t *a, sl_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || sl_memcmp(a->data, b->data, a->len) == 0);
}


/* groups and members */

static sl_bg_group_t *
sl_bg_group_find(sl_str_t *id)
{
    return (sl_bg_group_t *) sl_bg_lookup(&sl_bg_sh->groups, id, 0);
}


static sl_bg_group_t *
sl_bg_group_create(sl_str_t *id)
{
    sl_bg_group_t  *g;

    g = sl_slab_calloc(sl_bg_pool, sizeof(sl_bg_group_t));
    if (g == NULL) {
        return NULL;
    }

    if (sl_bg_strset(&g->node.name, id) != SL_OK) {
        sl_slab_free(sl_bg_pool, g);
        return NULL;
    }

    g->node.node.key = sl_bg_hash(id, 0);
    g->state = SL_BROKER_GROUP_EMPTY;
    g->state_time = sl_broker_group_wall_ms();
    sl_rbtree_init(&g->offsets, &g->sentinel, sl_bg_insert);

    sl_rbtree_insert(&sl_bg_sh->groups, &g->node.node);
    sl_bg_sh->ngroups++;

    return g;
}


static void
sl_bg_group_free(sl_bg_group_t *g)
{
    sl_bg_member_t    *m;
    sl_rbtree_node_t  *node;

    while (g->members) {
        m = g->members;
        g->members = m->next;
        sl_bg_member_free(m);
    }

    while (g->offsets.root != g->offsets.sentinel) {
        node = sl_rbtree_min(g->offsets.root, g->offsets.sentinel);
        sl_bg_offset_free(g, (sl_bg_offset_t *) node);
    }

    sl_rbtree_delete(&sl_bg_sh->groups, &g->node.node);
    sl_bg_sh->ngroups--;

    sl_bg_strfree(&g->protocol_type);
    sl_bg_strfree(&g->protocol_name);
    sl_bg_strfree(&g->leader);
    sl_bg_strfree(&g->node.name);
    sl_slab_free(sl_bg_pool, g);

    sl_bg_changed();
}


static sl_bg_member_t *
sl_bg_member_find(sl_bg_group_t *g, sl_str_t *id)
{
    sl_bg_member_t  *m;

    if (id->len == 0) {
        return NULL;
    }

    for (m = g->members; m; m = m->next) {
        if (sl_bg_streq(&m->id, id)) {
            return m;
        }
    }

    return NULL;
}


static sl_bg_member_t *
sl_bg_member_static(sl_bg_group_t *g, sl_str_t *instance_id)
{
    sl_bg_member_t  *m;

    if (instance_id->data == NULL || instance_id->len == 0) {
        return NULL;
    }

    for (m = g->members; m; m = m->next) {
        if (!m->pending && sl_bg_streq(&m->instance_id, instance_id)) {
            return m;
        }
    }

    return NULL;
}


static void
sl_bg_member_free(sl_bg_member_t *m)
{
    sl_bg_strfree(&m->id);
    sl_bg_strfree(&m->instance_id);
    sl_bg_strfree(&m->client_id);
    sl_bg_strfree(&m->client_host);
    sl_bg_strfree(&m->protocols);
    sl_bg_strfree(&m->assignment);
    sl_slab_free(sl_bg_pool, m);
}


static void
sl_bg_member_unlink(sl_bg_group_t *g, sl_bg_member_t *m)
{
    sl_bg_member_t  **pm;

    for (pm = &g->members; *pm; pm = &(*pm)->next) {
        if (*pm == m) {
            *pm = m->next;
            break;
        }
    }

    if (m->pending) {
        g->npending--;

    } else {
        g->nmembers--;
    }
}


/* Kafka's member ids: the client id (or instance id), "-", a UUID */

static sl_int_t
sl_bg_new_id(sl_str_t *prefix, sl_str_t *id)
{
    u_char    r[16], buf[256 + 40], *p;
    size_t    n;
    ssize_t   got;
    sl_str_t  tmp;

    got = getrandom(r, sizeof(r), GRND_NONBLOCK);

    if (got != (ssize_t) sizeof(r)) {
        for (n = 0; n < sizeof(r); n++) {
            r[n] = (u_char) random();
        }
    }

    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;

    n = sl_min(prefix->len, 256);

    p = sl_slprintf(buf, buf + sizeof(buf),
                    "%.*s-%02x%02x%02x%02x-%02x%02x-%02x%02x-"
                    "%02x%02x-%02x%02x%02x%02x%02x%02x",
                    (int) n, (char *) prefix->data,
                    r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                    r[9], r[10], r[11], r[12], r[13], r[14], r[15]);

    tmp.data = buf;
    tmp.len = p - buf;

    sl_str_null(id);

    return sl_bg_strset(id, &tmp);
}


/* protocols as one blob, compared as a whole as Kafka's matches() */

static sl_int_t
sl_bg_protocols(sl_broker_group_join_t *j, sl_str_t *out)
{
    u_char     *p;
    size_t      len;
    sl_uint_t   i;
    sl_str_t    blob;

    len = 0;

    for (i = 0; i < j->nprotocols; i++) {
        len += 6 + j->protocols[i].name.len + j->protocols[i].metadata.len;
    }

    blob.data = sl_alloc(len + 1, sl_bg_log);
    if (blob.data == NULL) {
        return SL_ERROR;
    }

    p = blob.data;

    for (i = 0; i < j->nprotocols; i++) {
        len = sl_min(j->protocols[i].name.len, 0xffff);
        *p++ = (u_char) (len >> 8);
        *p++ = (u_char) len;
        p = sl_cpymem(p, j->protocols[i].name.data, len);

        len = j->protocols[i].metadata.len;
        *p++ = (u_char) (len >> 24);
        *p++ = (u_char) (len >> 16);
        *p++ = (u_char) (len >> 8);
        *p++ = (u_char) len;
        p = sl_cpymem(p, j->protocols[i].metadata.data, len);
    }

    blob.len = p - blob.data;

    *out = blob;

    return SL_OK;
}


/* name (and its metadata) at *pos of a blob; 0 at the end */

static sl_uint_t
sl_bg_protocol_next(sl_str_t *blob, size_t *pos, sl_str_t *name,
    sl_str_t *metadata)
{
    u_char  *p, *last;
    size_t   len;

    p = blob->data + *pos;
    last = blob->data + blob->len;

    if (blob->data == NULL || last - p < 6) {
        return 0;
    }

    len = ((size_t) p[0] << 8) | p[1];
    p += 2;
    name->data = p;
    name->len = len;
    p += len;

    len = ((size_t) p[0] << 24) | ((size_t) p[1] << 16)
          | ((size_t) p[2] << 8) | p[3];
    p += 4;
    metadata->data = p;
    metadata->len = len;
    p += len;

    *pos = p - blob->data;

    return 1;
}


static sl_uint_t
sl_bg_has_protocol(sl_str_t *blob, sl_str_t *name, sl_str_t *metadata)
{
    size_t    pos;
    sl_str_t  n, md;

    pos = 0;

    while (sl_bg_protocol_next(blob, &pos, &n, &md)) {
        if (sl_bg_streq(&n, name)) {
            if (metadata) {
                *metadata = md;
            }

            return 1;
        }
    }

    return 0;
}


/* whether every member has name */

static sl_uint_t
sl_bg_all_have(sl_bg_group_t *g, sl_str_t *name)
{
    sl_bg_member_t  *m;

    for (m = g->members; m; m = m->next) {
        if (!m->pending && !sl_bg_has_protocol(&m->protocols, name, NULL)) {
            return 0;
        }
    }

    return 1;
}


static sl_uint_t
sl_bg_supports(sl_bg_group_t *g, sl_broker_group_join_t *j)
{
    sl_uint_t  i;

    if (j->protocol_type.len == 0 || j->nprotocols == 0) {
        return 0;
    }

    if (g->nmembers == 0) {
        return 1;
    }

    if (!sl_bg_streq(&g->protocol_type, &j->protocol_type)) {
        return 0;
    }

    for (i = 0; i < j->nprotocols; i++) {
        if (sl_bg_all_have(g, &j->protocols[i].name)) {
            return 1;
        }
    }

    return 0;
}


/*
 * Kafka's vote: among the protocols every member supports, each member
 * votes for the first in its own order; the most votes win, ties going
 * to the earlier one in the first member's order.
 */

static sl_int_t
sl_bg_select_protocol(sl_bg_group_t *g, sl_str_t *name)
{
    size_t           pos, mpos;
    sl_uint_t        votes, best_votes;
    sl_str_t         cand, md, mine, best;
    sl_bg_member_t  *first, *m;

    for (first = g->members; first && first->pending; first = first->next) {
        /* void */
    }

    if (first == NULL) {
        return SL_DECLINED;
    }

    best.data = NULL;
    best.len = 0;
    best_votes = 0;
    pos = 0;

    while (sl_bg_protocol_next(&first->protocols, &pos, &cand, &md)) {

        if (!sl_bg_all_have(g, &cand)) {
            continue;
        }

        votes = 0;

        for (m = g->members; m; m = m->next) {
            if (m->pending) {
                continue;
            }

            mpos = 0;

            while (sl_bg_protocol_next(&m->protocols, &mpos, &mine, &md)) {
                if (sl_bg_all_have(g, &mine)) {
                    if (sl_bg_streq(&mine, &cand)) {
                        votes++;
                    }

                    break;
                }
            }
        }

        if (best.data == NULL || votes > best_votes) {
            best = cand;
            best_votes = votes;
        }
    }

    if (best.data == NULL) {
        return SL_DECLINED;
    }

    *name = best;

    return SL_OK;
}


static sl_int_t
sl_bg_member_update(sl_bg_member_t *m, sl_broker_group_join_t *j)
{
    sl_str_t  blob, empty;

    if (sl_bg_protocols(j, &blob) != SL_OK) {
        return SL_ERROR;
    }

    if (sl_bg_strset(&m->protocols, &blob) != SL_OK) {
        sl_free(blob.data);
        return SL_ERROR;
    }

    sl_free(blob.data);

    sl_str_set(&empty, "");

    if (sl_bg_strset(&m->client_id, j->client_id.data ? &j->client_id
                                                      : &empty)
        != SL_OK
        || sl_bg_strset(&m->client_host, j->client_host.data
                                         ? &j->client_host : &empty)
           != SL_OK)
    {
        return SL_ERROR;
    }

    m->session_timeout = j->session_timeout;
    m->rebalance_timeout = j->rebalance_timeout;

    return SL_OK;
}


static void
sl_bg_wait_join(sl_bg_member_t *m)
{
    if (++sl_bg_sh->token == 0) {
        sl_bg_sh->token = 1;
    }

    m->join_token = sl_bg_sh->token;
    m->join_waiting = 1;
    m->join_error = 0;
}


static sl_uint_t
sl_bg_alive(sl_bg_member_t *m, int64_t now)
{
    if (m->pending) {
        return now < m->created + m->session_timeout;
    }

    if (m->join_waiting || m->sync_waiting) {
        return 1;
    }

    return now < m->heartbeat + m->session_timeout;
}


/* the state machine */

static void
sl_bg_prepare(sl_bg_group_t *g, int64_t now)
{
    int64_t          timeout;
    sl_bg_member_t  *m;

    if (g->state == SL_BROKER_GROUP_PREPARING) {
        return;
    }

    timeout = 0;

    for (m = g->members; m; m = m->next) {
        if (!m->pending) {
            timeout = sl_max(timeout, (int64_t) m->rebalance_timeout);
        }

        if (m->sync_waiting) {
            m->sync_waiting = 0;
            m->sync_done = m->sync_token;
            m->sync_error = SL_BROKER_GROUP_REBALANCE_IN_PROGRESS;
            m->heartbeat = now;
        }
    }

    if (g->state == SL_BROKER_GROUP_EMPTY
        && sl_bg_conf.initial_rebalance_delay > 0)
    {
        g->initial = 1;
        g->new_member = 0;
        g->join_limit = now + timeout;
        g->join_deadline = now + sl_min(timeout,
                                (int64_t) sl_bg_conf.initial_rebalance_delay);

    } else {
        g->initial = 0;
        g->join_deadline = now + timeout;
    }

    g->state = SL_BROKER_GROUP_PREPARING;
    g->state_time = sl_broker_group_wall_ms();

    sl_bg_deadline(g->join_deadline);
    sl_bg_changed();
}


static void
sl_bg_try_complete(sl_bg_group_t *g, int64_t now)
{
    sl_uint_t        joined;
    sl_bg_member_t  *m;

    if (g->state != SL_BROKER_GROUP_PREPARING || g->initial) {
        return;
    }

    joined = 0;

    for (m = g->members; m; m = m->next) {
        if (!m->pending && m->join_waiting) {
            joined++;
        }
    }

    if (joined == g->nmembers && g->npending == 0) {
        sl_bg_complete_join(g, now);
    }
}


static void
sl_bg_complete_join(sl_bg_group_t *g, int64_t now)
{
    sl_str_t         name;
    sl_bg_member_t  *m, *next, *first;

    /* who has not rejoined by now has failed */

    for (m = g->members; m; m = next) {
        next = m->next;

        if (!m->pending && !m->join_waiting) {
            sl_bg_member_unlink(g, m);
            sl_bg_member_free(m);
        }
    }

    g->generation++;
    g->initial = 0;
    g->state_time = sl_broker_group_wall_ms();

    sl_bg_changed();

    if (g->nmembers == 0) {
        g->state = SL_BROKER_GROUP_EMPTY;
        sl_bg_strfree(&g->protocol_name);
        sl_bg_strfree(&g->leader);
        (void) sl_bg_write_group(g, 0, sl_bg_log);
        return;
    }

    if (sl_bg_select_protocol(g, &name) == SL_OK) {
        (void) sl_bg_strset(&g->protocol_name, &name);
    }

    first = NULL;

    for (m = g->members; m; m = m->next) {
        if (m->pending) {
            continue;
        }

        if (first == NULL) {
            first = m;
        }

        m->join_waiting = 0;
        m->join_done = m->join_token;
        m->join_error = 0;
        m->generation = g->generation;
        m->heartbeat = now;

        sl_bg_deadline(now + m->session_timeout);
    }

    if (g->leader.data == NULL || sl_bg_member_find(g, &g->leader) == NULL) {
        (void) sl_bg_strset(&g->leader, &first->id);
    }

    g->state = SL_BROKER_GROUP_COMPLETING;
}


static void
sl_bg_remove_member(sl_bg_group_t *g, sl_bg_member_t *m, int64_t now)
{
    sl_uint_t        pending;
    sl_bg_member_t  *n;

    pending = m->pending;

    sl_bg_member_unlink(g, m);

    if (!pending && sl_bg_streq(&g->leader, &m->id)) {
        for (n = g->members; n && n->pending; n = n->next) { /* void */ }

        if (n) {
            (void) sl_bg_strset(&g->leader, &n->id);

        } else {
            sl_bg_strfree(&g->leader);
        }
    }

    sl_bg_member_free(m);
    sl_bg_changed();

    if (pending) {
        sl_bg_try_complete(g, now);
        return;
    }

    switch (g->state) {

    case SL_BROKER_GROUP_STABLE:
    case SL_BROKER_GROUP_COMPLETING:
        sl_bg_prepare(g, now);
        sl_bg_try_complete(g, now);
        break;

    case SL_BROKER_GROUP_PREPARING:
        sl_bg_try_complete(g, now);
        break;

    default:
        break;
    }
}


/* what a join answers: the leader also gets the members */

static sl_int_t
sl_bg_join_result(sl_bg_group_t *g, sl_bg_member_t *m,
    sl_uint_t with_members, sl_str_t *leader, sl_pool_t *pool,
    sl_broker_group_join_result_t *res)
{
    sl_uint_t                       n;
    sl_bg_member_t                 *o;
    sl_broker_group_member_info_t  *mi;

    res->error = m->join_error;
    res->generation = g->generation;
    res->nmembers = 0;
    res->members = NULL;

    if (sl_bg_pstr(pool, &res->protocol_type, &g->protocol_type) != SL_OK
        || sl_bg_pstr(pool, &res->protocol_name, &g->protocol_name) != SL_OK
        || sl_bg_pstr(pool, &res->leader, leader ? leader : &g->leader)
           != SL_OK
        || sl_bg_pstr(pool, &res->member_id, &m->id) != SL_OK)
    {
        return SL_ERROR;
    }

    if (!with_members || !sl_bg_streq(&g->leader, &m->id)) {
        return SL_OK;
    }

    mi = sl_pcalloc(pool, (g->nmembers + 1)
                          * sizeof(sl_broker_group_member_info_t));
    if (mi == NULL) {
        return SL_ERROR;
    }

    res->members = mi;
    n = 0;

    for (o = g->members; o; o = o->next) {
        if (o->pending || o->generation != g->generation) {
            continue;
        }

        if (sl_bg_pstr(pool, &mi[n].member_id, &o->id) != SL_OK
            || sl_bg_pstr(pool, &mi[n].instance_id, &o->instance_id)
               != SL_OK)
        {
            return SL_ERROR;
        }

        sl_str_null(&mi[n].metadata);

        if (sl_bg_has_protocol(&o->protocols, &g->protocol_name,
                               &mi[n].metadata))
        {
            if (sl_bg_pstr(pool, &mi[n].metadata, &mi[n].metadata)
                != SL_OK)
            {
                return SL_ERROR;
            }
        }

        n++;
    }

    res->nmembers = n;

    return SL_OK;
}


static void
sl_bg_join_error(sl_broker_group_join_result_t *res, sl_int_t error)
{
    sl_memzero(res, sizeof(sl_broker_group_join_result_t));
    res->error = error;
    res->generation = -1;
}


sl_int_t
sl_broker_group_join(sl_broker_group_join_t *j, sl_pool_t *pool,
    sl_broker_group_join_result_t *res, sl_log_t *log)
{
    int64_t          now;
    sl_int_t         rc;
    sl_str_t         id, old_leader, name;
    sl_bg_group_t   *g;
    sl_bg_member_t  *m;

    j->token = 0;
    sl_bg_join_error(res, SL_BROKER_GROUP_OK);

    if (sl_bg_sh == NULL) {
        /* no kafka { } block: no coordinator */
        res->error = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
        return SL_OK;
    }

    if (j->group_id.len == 0) {
        res->error = SL_BROKER_GROUP_INVALID_GROUP_ID;
        return SL_OK;
    }

    if (j->session_timeout < (int32_t) sl_bg_conf.min_session_timeout
        || j->session_timeout > (int32_t) sl_bg_conf.max_session_timeout)
    {
        res->error = SL_BROKER_GROUP_INVALID_SESSION_TIMEOUT;
        return SL_OK;
    }

    if (j->rebalance_timeout <= 0) {
        j->rebalance_timeout = j->session_timeout;
    }

    now = sl_broker_group_mono_ms();
    m = NULL;
    rc = SL_OK;

    sl_bg_lock();

    g = sl_bg_group_find(&j->group_id);

    if (g == NULL) {
        if (j->member_id.len) {
            res->error = SL_BROKER_GROUP_UNKNOWN_MEMBER_ID;
            goto done;
        }

        g = sl_bg_group_create(&j->group_id);
        if (g == NULL) {
            res->error = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
            goto done;
        }
    }

    if (!sl_bg_supports(g, j)) {
        res->error = SL_BROKER_GROUP_INCONSISTENT_PROTOCOL;
        goto done;
    }

    if (g->nmembers == 0) {
        if (sl_bg_strset(&g->protocol_type, &j->protocol_type) != SL_OK) {
            res->error = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
            goto done;
        }
    }

    if (j->member_id.len == 0) {

        m = sl_bg_member_static(g, &j->instance_id);

        if (m) {
            /* a static member's restart: a new id in its old place */

            old_leader.len = 0;
            old_leader.data = NULL;

            if (sl_bg_pstr(pool, &old_leader, &g->leader) != SL_OK
                || sl_bg_new_id(&j->instance_id, &id) != SL_OK)
            {
                res->error = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
                m = NULL;
                goto done;
            }

            if (sl_bg_streq(&g->leader, &m->id)) {
                (void) sl_bg_strset(&g->leader, &id);
            }

            sl_bg_strfree(&m->id);
            m->id = id;
            m->join_waiting = 0;
            m->sync_waiting = 0;
            m->heartbeat = now;

            if (sl_bg_member_update(m, j) != SL_OK) {
                res->error = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
                m = NULL;
                goto done;
            }

            sl_bg_changed();

            if (g->state == SL_BROKER_GROUP_STABLE
                && sl_bg_select_protocol(g, &name) == SL_OK
                && sl_bg_streq(&name, &g->protocol_name))
            {
                /*
                 * No rebalance.  The old leader id is returned, so that
                 * a restarted leader does not assign for a stable group.
                 */
                m->join_error = 0;

                if (sl_bg_join_result(g, m, 0, &old_leader, pool, res)
                    != SL_OK)
                {
                    rc = SL_ERROR;
                }

                m = NULL;
                goto done;
            }

            sl_bg_wait_join(m);

            if (g->state == SL_BROKER_GROUP_PREPARING) {
                sl_bg_try_complete(g, now);

            } else {
                sl_bg_prepare(g, now);
            }

            goto wait;
        }

        if (sl_bg_new_id(j->instance_id.len ? &j->instance_id
                                            : &j->client_id, &id)
            != SL_OK)
        {
            res->error = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
            goto done;
        }

        m = sl_slab_calloc(sl_bg_pool, sizeof(sl_bg_member_t));
        if (m == NULL) {
            sl_bg_strfree(&id);
            res->error = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
            goto done;
        }

        m->id = id;
        m->created = now;
        m->heartbeat = now;
        m->generation = -1;

        if (sl_bg_member_update(m, j) != SL_OK
            || sl_bg_strset(&m->instance_id, j->instance_id.len
                                             ? &j->instance_id : NULL)
               != SL_OK)
        {
            sl_bg_member_free(m);
            res->error = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
            m = NULL;
            goto done;
        }

        /* appended: the first member is the first leader */
        {
            sl_bg_member_t  **pm;

            for (pm = &g->members; *pm; pm = &(*pm)->next) { /* void */ }
            *pm = m;
        }

        if (j->require_known_member && j->instance_id.len == 0) {
            m->pending = 1;
            g->npending++;
            sl_bg_deadline(now + m->session_timeout);

            res->error = SL_BROKER_GROUP_MEMBER_ID_REQUIRED;
            if (sl_bg_pstr(pool, &res->member_id, &m->id) != SL_OK) {
                rc = SL_ERROR;
            }

            m = NULL;
            goto done;
        }

        g->nmembers++;

    } else {
        m = sl_bg_member_find(g, &j->member_id);

        if (m == NULL) {
            res->error = sl_bg_member_static(g, &j->instance_id)
                         ? SL_BROKER_GROUP_FENCED_INSTANCE_ID
                         : SL_BROKER_GROUP_UNKNOWN_MEMBER_ID;
            goto done;
        }

        if (j->instance_id.len
            && !sl_bg_streq(&m->instance_id, &j->instance_id))
        {
            res->error = SL_BROKER_GROUP_FENCED_INSTANCE_ID;
            m = NULL;
            goto done;
        }

        if (m->pending) {
            m->pending = 0;
            g->npending--;
            g->nmembers++;

            if (sl_bg_member_update(m, j) != SL_OK) {
                res->error = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
                m = NULL;
                goto done;
            }

        } else {
            sl_str_t   blob;
            sl_uint_t  same;

            if (sl_bg_protocols(j, &blob) != SL_OK) {
                res->error = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
                m = NULL;
                goto done;
            }

            same = sl_bg_streq(&blob, &m->protocols);
            sl_free(blob.data);

            m->heartbeat = now;

            if (same
                && (g->state == SL_BROKER_GROUP_COMPLETING
                    || (g->state == SL_BROKER_GROUP_STABLE
                        && !sl_bg_streq(&g->leader, &m->id))))
            {
                /* nothing changes: the current generation again */
                m->join_error = 0;

                if (sl_bg_join_result(g, m, 1, NULL, pool, res) != SL_OK) {
                    rc = SL_ERROR;
                }

                m = NULL;
                goto done;
            }

            if (g->state == SL_BROKER_GROUP_EMPTY) {
                res->error = SL_BROKER_GROUP_UNKNOWN_MEMBER_ID;
                m = NULL;
                goto done;
            }

            if (sl_bg_member_update(m, j) != SL_OK) {
                res->error = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
                m = NULL;
                goto done;
            }
        }
    }

    /* a new or changed member: a rebalance */

    sl_bg_wait_join(m);

    if (g->state == SL_BROKER_GROUP_PREPARING) {
        if (g->initial) {
            g->new_member = 1;
        }

        sl_bg_try_complete(g, now);

    } else {
        sl_bg_prepare(g, now);
        sl_bg_try_complete(g, now);
    }

wait:

    j->token = m->join_token;

    if (m->join_done == m->join_token) {
        if (sl_bg_join_result(g, m, 1, NULL, pool, res) != SL_OK) {
            rc = SL_ERROR;
        }

        j->token = 0;

    } else {
        if (sl_bg_pstr(pool, &res->member_id, &m->id) != SL_OK) {
            rc = SL_ERROR;
        }

        rc = (rc == SL_OK) ? SL_AGAIN : rc;
    }

    m = NULL;

done:

    if (res->error != SL_BROKER_GROUP_OK
        && res->error != SL_BROKER_GROUP_MEMBER_ID_REQUIRED
        && g && g->nmembers == 0 && g->npending == 0 && g->noffsets == 0
        && g->state == SL_BROKER_GROUP_EMPTY && g->generation == 0)
    {
        sl_bg_group_free(g);
    }

    sl_bg_unlock();

    if (res->error != SL_BROKER_GROUP_OK
        && res->error != SL_BROKER_GROUP_MEMBER_ID_REQUIRED)
    {
        res->generation = -1;
    }

    return rc;
}


sl_int_t
sl_broker_group_join_poll(sl_str_t *group_id, sl_str_t *member_id,
    uint32_t token, sl_pool_t *pool, sl_broker_group_join_result_t *res)
{
    sl_int_t         rc;
    sl_bg_group_t   *g;
    sl_bg_member_t  *m;

    sl_bg_join_error(res, SL_BROKER_GROUP_UNKNOWN_MEMBER_ID);

    if (sl_bg_sh == NULL) {
        res->error = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
        return SL_OK;
    }

    rc = SL_OK;

    sl_bg_lock();

    g = sl_bg_group_find(group_id);
    m = g ? sl_bg_member_find(g, member_id) : NULL;

    if (m && m->join_done == token) {
        if (m->join_error == 0) {
            rc = sl_bg_join_result(g, m, 1, NULL, pool, res);

        } else {
            res->error = m->join_error;
        }

    } else if (m && m->join_token == token && m->join_waiting) {
        rc = SL_AGAIN;
    }

    sl_bg_unlock();

    return rc;
}


void
sl_broker_group_abandon(sl_str_t *group_id, sl_str_t *member_id,
    uint32_t token)
{
    int64_t          now;
    sl_bg_group_t   *g;
    sl_bg_member_t  *m;

    if (sl_bg_sh == NULL) {
        return;
    }

    now = sl_broker_group_mono_ms();

    sl_bg_lock();

    g = sl_bg_group_find(group_id);
    m = g ? sl_bg_member_find(g, member_id) : NULL;

    if (m == NULL
        || !((m->join_waiting && m->join_token == token)
             || (m->sync_waiting && m->sync_token == token)))
    {
        sl_bg_unlock();
        return;
    }

    if (m->instance_id.len == 0) {
        sl_bg_remove_member(g, m, now);

    } else {
        /* static: it may come back within its session */
        m->join_waiting = 0;
        m->sync_waiting = 0;
        m->heartbeat = now;
        sl_bg_deadline(now + m->session_timeout);
    }

    sl_bg_unlock();
}


/* SyncGroup */

static sl_int_t
sl_bg_sync_result(sl_bg_group_t *g, sl_bg_member_t *m, sl_pool_t *pool,
    sl_broker_group_sync_result_t *res)
{
    res->error = m->sync_error;

    if (res->error) {
        return SL_OK;
    }

    if (sl_bg_pstr(pool, &res->protocol_type, &g->protocol_type) != SL_OK
        || sl_bg_pstr(pool, &res->protocol_name, &g->protocol_name)
           != SL_OK
        || sl_bg_pstr(pool, &res->assignment, &m->assignment) != SL_OK)
    {
        return SL_ERROR;
    }

    return SL_OK;
}


sl_int_t
sl_broker_group_sync(sl_broker_group_sync_t *s, sl_pool_t *pool,
    sl_broker_group_sync_result_t *res, sl_log_t *log)
{
    int64_t          now;
    sl_int_t         rc;
    sl_uint_t        i;
    sl_str_t         empty;
    sl_bg_group_t   *g;
    sl_bg_member_t  *m, *o;

    s->token = 0;
    sl_memzero(res, sizeof(sl_broker_group_sync_result_t));

    if (sl_bg_sh == NULL) {
        res->error = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
        return SL_OK;
    }

    if (s->group_id.len == 0) {
        res->error = SL_BROKER_GROUP_INVALID_GROUP_ID;
        return SL_OK;
    }

    now = sl_broker_group_mono_ms();
    rc = SL_OK;

    sl_bg_lock();

    g = sl_bg_group_find(&s->group_id);
    m = g ? sl_bg_member_find(g, &s->member_id) : NULL;

    if (m == NULL || m->pending) {
        res->error = (g && sl_bg_member_static(g, &s->instance_id))
                     ? SL_BROKER_GROUP_FENCED_INSTANCE_ID
                     : SL_BROKER_GROUP_UNKNOWN_MEMBER_ID;
        goto done;
    }

    if (s->instance_id.len && !sl_bg_streq(&m->instance_id, &s->instance_id))
    {
        res->error = SL_BROKER_GROUP_FENCED_INSTANCE_ID;
        goto done;
    }

    if (s->generation != g->generation) {
        res->error = SL_BROKER_GROUP_ILLEGAL_GENERATION;
        goto done;
    }

    if ((s->protocol_type.data
         && !sl_bg_streq(&s->protocol_type, &g->protocol_type))
        || (s->protocol_name.data
            && !sl_bg_streq(&s->protocol_name, &g->protocol_name)))
    {
        res->error = SL_BROKER_GROUP_INCONSISTENT_PROTOCOL;
        goto done;
    }

    switch (g->state) {

    case SL_BROKER_GROUP_PREPARING:
        res->error = SL_BROKER_GROUP_REBALANCE_IN_PROGRESS;
        goto done;

    case SL_BROKER_GROUP_STABLE:
        m->heartbeat = now;
        m->sync_error = 0;
        rc = sl_bg_sync_result(g, m, pool, res);
        goto done;

    case SL_BROKER_GROUP_COMPLETING:
        break;

    default:
        res->error = SL_BROKER_GROUP_UNKNOWN_MEMBER_ID;
        goto done;
    }

    if (++sl_bg_sh->token == 0) {
        sl_bg_sh->token = 1;
    }

    m->sync_token = sl_bg_sh->token;
    m->sync_waiting = 1;
    m->sync_error = 0;
    m->heartbeat = now;

    if (sl_bg_streq(&g->leader, &m->id)) {

        /* the leader's assignment: every member's, empty if not given */

        sl_str_set(&empty, "");

        for (o = g->members; o; o = o->next) {
            if (o->pending) {
                continue;
            }

            for (i = 0; i < s->nassignments; i++) {
                if (sl_bg_streq(&s->assignments[i].member_id, &o->id)) {
                    break;
                }
            }

            if (sl_bg_strset(&o->assignment,
                             i < s->nassignments
                             ? &s->assignments[i].assignment : &empty)
                != SL_OK)
            {
                res->error = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
                m->sync_waiting = 0;
                goto done;
            }
        }

        g->state = SL_BROKER_GROUP_STABLE;
        g->state_time = sl_broker_group_wall_ms();

        for (o = g->members; o; o = o->next) {
            if (o->sync_waiting) {
                o->sync_waiting = 0;
                o->sync_done = o->sync_token;
                o->sync_error = 0;
                o->heartbeat = now;
            }
        }

        sl_bg_changed();

        (void) sl_bg_write_group(g, 0, log);
    }

    if (m->sync_done == m->sync_token) {
        rc = sl_bg_sync_result(g, m, pool, res);

    } else {
        s->token = m->sync_token;
        rc = SL_AGAIN;
    }

done:

    sl_bg_unlock();

    return rc;
}


sl_int_t
sl_broker_group_sync_poll(sl_str_t *group_id, sl_str_t *member_id,
    uint32_t token, sl_pool_t *pool, sl_broker_group_sync_result_t *res)
{
    sl_int_t         rc;
    sl_bg_group_t   *g;
    sl_bg_member_t  *m;

    sl_memzero(res, sizeof(sl_broker_group_sync_result_t));
    res->error = SL_BROKER_GROUP_UNKNOWN_MEMBER_ID;

    if (sl_bg_sh == NULL) {
        res->error = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
        return SL_OK;
    }

    rc = SL_OK;

    sl_bg_lock();

    g = sl_bg_group_find(group_id);
    m = g ? sl_bg_member_find(g, member_id) : NULL;

    if (m && m->sync_done == token) {
        rc = sl_bg_sync_result(g, m, pool, res);

    } else if (m && m->sync_token == token && m->sync_waiting) {
        rc = SL_AGAIN;

    } else if (g && m == NULL) {
        /* removed while waiting: a rebalance is what the client sees */
        res->error = SL_BROKER_GROUP_UNKNOWN_MEMBER_ID;
    }

    sl_bg_unlock();

    return rc;
}


sl_int_t
sl_broker_group_heartbeat(sl_str_t *group_id, sl_str_t *member_id,
    sl_str_t *instance_id, int32_t generation)
{
    sl_int_t         err;
    sl_bg_group_t   *g;
    sl_bg_member_t  *m;

    if (sl_bg_sh == NULL) {
        return SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
    }

    if (group_id->len == 0) {
        return SL_BROKER_GROUP_INVALID_GROUP_ID;
    }

    sl_bg_lock();

    g = sl_bg_group_find(group_id);
    m = g ? sl_bg_member_find(g, member_id) : NULL;

    if (m == NULL || m->pending) {
        err = (g && sl_bg_member_static(g, instance_id))
              ? SL_BROKER_GROUP_FENCED_INSTANCE_ID
              : SL_BROKER_GROUP_UNKNOWN_MEMBER_ID;

    } else if (instance_id->len
               && !sl_bg_streq(&m->instance_id, instance_id))
    {
        err = SL_BROKER_GROUP_FENCED_INSTANCE_ID;

    } else if (generation != g->generation) {
        err = SL_BROKER_GROUP_ILLEGAL_GENERATION;

    } else {
        m->heartbeat = sl_broker_group_mono_ms();

        switch (g->state) {

        case SL_BROKER_GROUP_PREPARING:
            err = SL_BROKER_GROUP_REBALANCE_IN_PROGRESS;
            break;

        case SL_BROKER_GROUP_EMPTY:
            err = SL_BROKER_GROUP_UNKNOWN_MEMBER_ID;
            break;

        default:
            err = SL_BROKER_GROUP_OK;
        }
    }

    sl_bg_unlock();

    return err;
}


sl_int_t
sl_broker_group_leave(sl_str_t *group_id, sl_str_t *member_id,
    sl_str_t *instance_id, sl_log_t *log)
{
    sl_int_t         err;
    sl_bg_group_t   *g;
    sl_bg_member_t  *m;

    if (sl_bg_sh == NULL) {
        return SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
    }

    if (group_id->len == 0) {
        return SL_BROKER_GROUP_INVALID_GROUP_ID;
    }

    err = SL_BROKER_GROUP_OK;

    sl_bg_lock();

    g = sl_bg_group_find(group_id);
    m = NULL;

    if (g == NULL) {
        err = SL_BROKER_GROUP_UNKNOWN_MEMBER_ID;

    } else if (instance_id->len) {
        m = sl_bg_member_static(g, instance_id);

        if (m == NULL) {
            err = SL_BROKER_GROUP_UNKNOWN_MEMBER_ID;

        } else if (member_id->len && !sl_bg_streq(&m->id, member_id)) {
            err = SL_BROKER_GROUP_FENCED_INSTANCE_ID;
            m = NULL;
        }

    } else {
        m = sl_bg_member_find(g, member_id);

        if (m == NULL) {
            err = SL_BROKER_GROUP_UNKNOWN_MEMBER_ID;
        }
    }

    if (m) {
        sl_bg_remove_member(g, m, sl_broker_group_mono_ms());
    }

    sl_bg_unlock();

    return err;
}


/* offsets */

static sl_bg_offset_t *
sl_bg_offset_set(sl_bg_group_t *g, sl_str_t *topic, int32_t partition)
{
    sl_bg_offset_t  *o;

    o = (sl_bg_offset_t *) sl_bg_lookup(&g->offsets, topic, partition);
    if (o) {
        return o;
    }

    o = sl_slab_calloc(sl_bg_pool, sizeof(sl_bg_offset_t));
    if (o == NULL) {
        return NULL;
    }

    if (sl_bg_strset(&o->node.name, topic) != SL_OK) {
        sl_slab_free(sl_bg_pool, o);
        return NULL;
    }

    o->node.partition = partition;
    o->node.node.key = sl_bg_hash(topic, partition);
    o->leader_epoch = -1;
    o->expire_time = -1;

    sl_rbtree_insert(&g->offsets, &o->node.node);
    g->noffsets++;

    return o;
}


static void
sl_bg_offset_free(sl_bg_group_t *g, sl_bg_offset_t *o)
{
    sl_rbtree_delete(&g->offsets, &o->node.node);
    g->noffsets--;

    sl_bg_strfree(&o->node.name);
    sl_bg_strfree(&o->metadata);
    sl_slab_free(sl_bg_pool, o);
}


sl_int_t
sl_broker_group_commit(sl_str_t *group_id, int32_t generation,
    sl_str_t *member_id, sl_str_t *instance_id, int64_t retention_ms,
    sl_broker_group_offset_t *offsets, sl_uint_t n, sl_log_t *log)
{
    u_char                     *buf, *p;
    size_t                      size;
    int64_t                     wall;
    sl_int_t                    err;
    sl_uint_t                   i, k;
    sl_bg_rec_t                *recs;
    sl_bg_group_t              *g;
    sl_bg_member_t             *m;
    sl_bg_offset_t             *o, tmp;
    sl_broker_topic_t          *topic;
    sl_broker_group_offset_t   *e;

    if (sl_bg_sh == NULL) {
        return SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
    }

    wall = sl_broker_group_wall_ms();
    size = 0;

    for (i = 0; i < n; i++) {
        e = &offsets[i];
        e->error = SL_BROKER_GROUP_OK;

        if (e->metadata.len > SL_BROKER_GROUP_MAX_METADATA) {
            e->error = SL_BROKER_GROUP_METADATA_TOO_LARGE;
            continue;
        }

        topic = e->topic.len ? sl_broker_topic_find(&e->topic) : NULL;

        if (topic == NULL || sl_broker_partition(topic, e->partition) == NULL)
        {
            e->error = SL_BROKER_GROUP_UNKNOWN_TOPIC;
            continue;
        }

        size += 64 + group_id->len + e->topic.len + e->metadata.len;
    }

    buf = sl_alloc(size + 1, log);
    recs = sl_alloc((n + 1) * sizeof(sl_bg_rec_t), log);

    if (buf == NULL || recs == NULL) {
        if (buf) {
            sl_free(buf);
        }

        return SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
    }

    err = SL_BROKER_GROUP_OK;

    sl_bg_lock();

    g = sl_bg_group_find(group_id);

    if (g == NULL) {
        if (generation >= 0) {
            err = SL_BROKER_GROUP_ILLEGAL_GENERATION;
            goto done;
        }

        g = sl_bg_group_create(group_id);
        if (g == NULL) {
            err = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
            goto done;
        }
    }

    m = sl_bg_member_find(g, member_id);

    if (instance_id->len && sl_bg_member_static(g, instance_id)
        && (m == NULL || !sl_bg_streq(&m->instance_id, instance_id)))
    {
        err = SL_BROKER_GROUP_FENCED_INSTANCE_ID;

    } else if (generation < 0 && g->state == SL_BROKER_GROUP_EMPTY) {
        /* the group only stores offsets */

    } else if (m == NULL || m->pending) {
        err = SL_BROKER_GROUP_UNKNOWN_MEMBER_ID;

    } else if (generation != g->generation) {
        err = SL_BROKER_GROUP_ILLEGAL_GENERATION;

    } else if (g->state == SL_BROKER_GROUP_COMPLETING) {
        err = SL_BROKER_GROUP_REBALANCE_IN_PROGRESS;

    } else {
        m->heartbeat = sl_broker_group_mono_ms();
    }

    if (err != SL_BROKER_GROUP_OK) {
        goto done;
    }

    /* the records first: only what the log has is committed */

    p = buf;
    k = 0;

    for (i = 0; i < n; i++) {
        e = &offsets[i];

        if (e->error) {
            continue;
        }

        sl_memzero(&tmp, sizeof(sl_bg_offset_t));
        tmp.offset = e->offset;
        tmp.leader_epoch = e->leader_epoch;
        tmp.metadata = e->metadata;
        tmp.commit_time = wall;
        tmp.expire_time = retention_ms > 0 ? wall + retention_ms : -1;

        recs[k].key = p;
        recs[k].key_len = sl_bg_offset_key(p, group_id, &e->topic,
                                           e->partition);
        p += recs[k].key_len;
        recs[k].value = p;
        recs[k].value_len = sl_bg_offset_value(p, &tmp);
        p += recs[k].value_len;
        k++;
    }

    if (k && sl_bg_write(group_id, recs, k, log) != SL_OK) {
        err = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
        goto done;
    }

    for (i = 0; i < n; i++) {
        e = &offsets[i];

        if (e->error) {
            continue;
        }

        o = sl_bg_offset_set(g, &e->topic, e->partition);

        if (o == NULL || sl_bg_strset(&o->metadata, e->metadata.data
                                                    ? &e->metadata : NULL)
                         != SL_OK)
        {
            e->error = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
            continue;
        }

        o->offset = e->offset;
        o->leader_epoch = e->leader_epoch;
        o->commit_time = wall;
        o->expire_time = retention_ms > 0 ? wall + retention_ms : -1;
    }

done:

    sl_bg_unlock();

    sl_free(buf);
    sl_free(recs);

    if (err != SL_BROKER_GROUP_OK) {
        for (i = 0; i < n; i++) {
            if (offsets[i].error == SL_BROKER_GROUP_OK) {
                offsets[i].error = err;
            }
        }
    }

    return err;
}


sl_int_t
sl_broker_group_fetch(sl_str_t *group_id, sl_broker_group_offset_t *e,
    sl_pool_t *pool)
{
    sl_int_t         rc;
    sl_bg_group_t   *g;
    sl_bg_offset_t  *o;

    if (sl_bg_sh == NULL) {
        return SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
    }

    e->offset = -1;
    e->leader_epoch = -1;
    e->commit_timestamp = -1;
    e->error = SL_BROKER_GROUP_OK;
    sl_str_set(&e->metadata, "");

    rc = SL_OK;

    sl_bg_lock();

    g = sl_bg_group_find(group_id);
    o = g ? (sl_bg_offset_t *) sl_bg_lookup(&g->offsets, &e->topic,
                                            e->partition)
          : NULL;

    if (o) {
        e->offset = o->offset;
        e->leader_epoch = o->leader_epoch;
        e->commit_timestamp = o->commit_time;

        if (o->metadata.data) {
            rc = sl_bg_pstr(pool, &e->metadata, &o->metadata);
        }
    }

    sl_bg_unlock();

    return rc;
}


sl_int_t
sl_broker_group_fetch_all(sl_str_t *group_id, sl_pool_t *pool,
    sl_array_t *out)
{
    sl_int_t                   rc;
    sl_bg_group_t             *g;
    sl_bg_offset_t            *o;
    sl_rbtree_node_t          *node;
    sl_broker_group_offset_t  *e;

    if (sl_bg_sh == NULL) {
        return SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
    }

    rc = SL_OK;

    sl_bg_lock();

    g = sl_bg_group_find(group_id);

    if (g == NULL || g->noffsets == 0) {
        goto done;
    }

    for (node = sl_rbtree_min(g->offsets.root, g->offsets.sentinel);
         node;
         node = sl_rbtree_next(&g->offsets, node))
    {
        o = (sl_bg_offset_t *) node;

        e = sl_array_push(out);
        if (e == NULL) {
            rc = SL_ERROR;
            goto done;
        }

        sl_memzero(e, sizeof(sl_broker_group_offset_t));

        e->partition = o->node.partition;
        e->offset = o->offset;
        e->leader_epoch = o->leader_epoch;
        e->commit_timestamp = o->commit_time;
        sl_str_set(&e->metadata, "");

        if (sl_bg_pstr(pool, &e->topic, &o->node.name) != SL_OK
            || (o->metadata.data
                && sl_bg_pstr(pool, &e->metadata, &o->metadata) != SL_OK))
        {
            rc = SL_ERROR;
            goto done;
        }
    }

done:

    sl_bg_unlock();

    if (out->nelts > 1) {
        qsort(out->elts, out->nelts, sizeof(sl_broker_group_offset_t),
              sl_bg_offset_cmp);
    }

    return rc;
}


static int
sl_bg_offset_cmp(const void *a, const void *b)
{
    int                              rc;
    size_t                           n;
    const sl_broker_group_offset_t  *x, *y;

    x = a;
    y = b;

    n = sl_min(x->topic.len, y->topic.len);
    rc = memcmp(x->topic.data, y->topic.data, n);

    if (rc == 0 && x->topic.len != y->topic.len) {
        rc = x->topic.len < y->topic.len ? -1 : 1;
    }

    if (rc == 0) {
        rc = (x->partition > y->partition) - (x->partition < y->partition);
    }

    return rc;
}


/* whether topic is in a member's ConsumerProtocolSubscription */

static sl_uint_t
sl_bg_subscribed(sl_bg_group_t *g, sl_str_t *topic)
{
    u_char          *p, *last;
    size_t           pos, len;
    int32_t          i, n;
    sl_str_t         name, md;
    sl_bg_member_t  *m;

    for (m = g->members; m; m = m->next) {

        if (m->pending) {
            continue;
        }

        pos = 0;

        if (g->protocol_name.data) {
            if (!sl_bg_has_protocol(&m->protocols, &g->protocol_name, &md)) {
                continue;
            }

        } else if (!sl_bg_protocol_next(&m->protocols, &pos, &name, &md)) {
            continue;
        }

        p = md.data;
        last = md.data + md.len;

        if (last - p < 6) {
            continue;
        }

        p += 2;
        n = (int32_t) (((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
                       | ((uint32_t) p[2] << 8) | p[3]);
        p += 4;

        for (i = 0; i < n && last - p >= 2; i++) {
            len = ((size_t) p[0] << 8) | p[1];
            p += 2;

            if ((size_t) (last - p) < len) {
                break;
            }

            if (len == topic->len && sl_memcmp(p, topic->data, len) == 0) {
                return 1;
            }

            p += len;
        }
    }

    return 0;
}


sl_int_t
sl_broker_group_offset_delete(sl_str_t *group_id,
    sl_broker_group_offset_t *offsets, sl_uint_t n, sl_log_t *log)
{
    sl_int_t          err;
    sl_uint_t         i, k, consumer;
    sl_bg_group_t    *g;
    sl_bg_offset_t  **del, *o;

    if (sl_bg_sh == NULL) {
        return SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
    }

    del = sl_alloc((n + 1) * sizeof(sl_bg_offset_t *), log);
    if (del == NULL) {
        return SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
    }

    err = SL_BROKER_GROUP_OK;
    k = 0;

    sl_bg_lock();

    g = sl_bg_group_find(group_id);

    if (g == NULL) {
        err = SL_BROKER_GROUP_ID_NOT_FOUND;
        goto done;
    }

    consumer = (g->protocol_type.len == 8
                && sl_memcmp(g->protocol_type.data, "consumer", 8) == 0);

    if (g->nmembers && !consumer) {
        err = SL_BROKER_GROUP_NON_EMPTY_GROUP;
        goto done;
    }

    for (i = 0; i < n; i++) {
        offsets[i].error = SL_BROKER_GROUP_OK;

        if (g->nmembers && sl_bg_subscribed(g, &offsets[i].topic)) {
            offsets[i].error = SL_BROKER_GROUP_SUBSCRIBED_TO_TOPIC;
            continue;
        }

        o = (sl_bg_offset_t *) sl_bg_lookup(&g->offsets, &offsets[i].topic,
                                            offsets[i].partition);
        if (o) {
            del[k++] = o;
        }
    }

    if (k && sl_bg_tombstones(g, del, k, log) != SL_OK) {
        err = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
        goto done;
    }

    for (i = 0; i < k; i++) {
        sl_bg_offset_free(g, del[i]);
    }

done:

    sl_bg_unlock();
    sl_free(del);

    return err;
}


/* describing, listing, deleting */

sl_int_t
sl_broker_group_describe(sl_str_t *group_id, sl_pool_t *pool,
    sl_broker_group_desc_t *d)
{
    sl_int_t                        rc;
    sl_uint_t                       n;
    sl_str_t                        md;
    sl_bg_group_t                  *g;
    sl_bg_member_t                 *m;
    sl_broker_group_member_info_t  *mi;

    if (sl_bg_sh == NULL) {
        return SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
    }

    sl_memzero(d, sizeof(sl_broker_group_desc_t));
    d->state = SL_BROKER_GROUP_DEAD;

    rc = SL_OK;

    sl_bg_lock();

    g = sl_bg_group_find(group_id);

    if (g == NULL) {
        goto done;
    }

    d->state = g->state;
    d->generation = g->generation;

    if (sl_bg_pstr(pool, &d->protocol_type, &g->protocol_type) != SL_OK) {
        rc = SL_ERROR;
        goto done;
    }

    if (g->state == SL_BROKER_GROUP_STABLE
        && sl_bg_pstr(pool, &d->protocol_name, &g->protocol_name) != SL_OK)
    {
        rc = SL_ERROR;
        goto done;
    }

    mi = sl_pcalloc(pool, (g->nmembers + 1)
                          * sizeof(sl_broker_group_member_info_t));
    if (mi == NULL) {
        rc = SL_ERROR;
        goto done;
    }

    d->members = mi;
    n = 0;

    for (m = g->members; m; m = m->next) {
        if (m->pending) {
            continue;
        }

        if (sl_bg_pstr(pool, &mi[n].member_id, &m->id) != SL_OK
            || sl_bg_pstr(pool, &mi[n].instance_id, &m->instance_id)
               != SL_OK
            || sl_bg_pstr(pool, &mi[n].client_id, &m->client_id) != SL_OK
            || sl_bg_pstr(pool, &mi[n].client_host, &m->client_host)
               != SL_OK)
        {
            rc = SL_ERROR;
            goto done;
        }

        sl_str_set(&mi[n].metadata, "");
        sl_str_set(&mi[n].assignment, "");

        if (g->state == SL_BROKER_GROUP_STABLE) {
            if (sl_bg_has_protocol(&m->protocols, &g->protocol_name, &md)
                && sl_bg_pstr(pool, &mi[n].metadata, &md) != SL_OK)
            {
                rc = SL_ERROR;
                goto done;
            }

            if (m->assignment.data
                && sl_bg_pstr(pool, &mi[n].assignment, &m->assignment)
                   != SL_OK)
            {
                rc = SL_ERROR;
                goto done;
            }
        }

        n++;
    }

    d->nmembers = n;

done:

    sl_bg_unlock();

    if (rc == SL_OK && sl_bg_pstr(pool, &d->group_id, group_id) != SL_OK) {
        rc = SL_ERROR;
    }

    return rc;
}


sl_int_t
sl_broker_group_list(sl_pool_t *pool, sl_array_t *out)
{
    sl_int_t                 rc;
    sl_bg_group_t           *g;
    sl_rbtree_node_t        *node;
    sl_broker_group_desc_t  *d;

    if (sl_bg_sh == NULL) {
        return SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
    }

    rc = SL_OK;

    sl_bg_lock();

    if (sl_bg_sh->groups.root == sl_bg_sh->groups.sentinel) {
        goto done;
    }

    for (node = sl_rbtree_min(sl_bg_sh->groups.root,
                              sl_bg_sh->groups.sentinel);
         node;
         node = sl_rbtree_next(&sl_bg_sh->groups, node))
    {
        g = (sl_bg_group_t *) node;

        d = sl_array_push(out);
        if (d == NULL) {
            rc = SL_ERROR;
            break;
        }

        sl_memzero(d, sizeof(sl_broker_group_desc_t));
        d->state = g->state;
        d->generation = g->generation;
        d->nmembers = g->nmembers;

        if (sl_bg_pstr(pool, &d->group_id, &g->node.name) != SL_OK
            || sl_bg_pstr(pool, &d->protocol_type, &g->protocol_type)
               != SL_OK)
        {
            rc = SL_ERROR;
            break;
        }
    }

done:

    sl_bg_unlock();

    if (out->nelts > 1) {
        qsort(out->elts, out->nelts, sizeof(sl_broker_group_desc_t),
              sl_bg_desc_cmp);
    }

    return rc;
}


static int
sl_bg_desc_cmp(const void *a, const void *b)
{
    int                            rc;
    const sl_broker_group_desc_t  *x, *y;

    x = a;
    y = b;

    rc = memcmp(x->group_id.data, y->group_id.data,
                sl_min(x->group_id.len, y->group_id.len));

    if (rc == 0) {
        rc = (x->group_id.len > y->group_id.len)
             - (x->group_id.len < y->group_id.len);
    }

    return rc;
}


sl_int_t
sl_broker_group_delete(sl_str_t *group_id, sl_log_t *log)
{
    sl_int_t           err;
    sl_uint_t          n;
    sl_bg_group_t     *g;
    sl_bg_offset_t   **del;
    sl_rbtree_node_t  *node;

    if (sl_bg_sh == NULL) {
        return SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
    }

    if (group_id->len == 0) {
        return SL_BROKER_GROUP_INVALID_GROUP_ID;
    }

    err = SL_BROKER_GROUP_OK;
    del = NULL;

    sl_bg_lock();

    g = sl_bg_group_find(group_id);

    if (g == NULL) {
        err = SL_BROKER_GROUP_ID_NOT_FOUND;
        goto done;
    }

    if (g->state != SL_BROKER_GROUP_EMPTY || g->nmembers || g->npending) {
        err = SL_BROKER_GROUP_NON_EMPTY_GROUP;
        goto done;
    }

    if (g->noffsets) {
        del = sl_alloc(g->noffsets * sizeof(sl_bg_offset_t *), log);
        if (del == NULL) {
            err = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
            goto done;
        }

        n = 0;

        for (node = sl_rbtree_min(g->offsets.root, g->offsets.sentinel);
             node;
             node = sl_rbtree_next(&g->offsets, node))
        {
            del[n++] = (sl_bg_offset_t *) node;
        }

        if (sl_bg_tombstones(g, del, n, log) != SL_OK) {
            err = SL_BROKER_GROUP_COORDINATOR_NOT_AVAILABLE;
            goto done;
        }
    }

    (void) sl_bg_write_group(g, 1, log);

    sl_bg_group_free(g);

done:

    sl_bg_unlock();

    if (del) {
        sl_free(del);
    }

    return err;
}


/* timeouts */

void
sl_broker_group_tick(sl_log_t *log)
{
    int64_t            now, wall, next;
    sl_bg_group_t     *g;
    sl_bg_member_t    *m, *mn;
    sl_rbtree_node_t  *node, *nnext;

    if (sl_bg_sh == NULL) {
        return;
    }

    if (sl_bg_sh == NULL) {
        return;
    }

    sl_bg_log = log;

    now = sl_broker_group_mono_ms();
    wall = sl_broker_group_wall_ms();

    if (now < sl_bg_sh->next_deadline && wall < sl_bg_sh->next_expire) {
        return;
    }

    if (sl_shmtx_trylock(&sl_bg_sh->lock) == SL_BUSY) {
        /* another process is at it, or will be on its next tick */
        return;
    }

    sl_bg_ring = 0;

    next = now + SL_BG_IDLE_SCAN;

    node = (sl_bg_sh->groups.root == sl_bg_sh->groups.sentinel)
           ? NULL
           : sl_rbtree_min(sl_bg_sh->groups.root, sl_bg_sh->groups.sentinel);

    for ( /* void */ ; node; node = nnext) {
        nnext = sl_rbtree_next(&sl_bg_sh->groups, node);
        g = (sl_bg_group_t *) node;

        for (m = g->members; m; m = mn) {
            mn = m->next;

            if (!sl_bg_alive(m, now)) {
                sl_log_error(SL_LOG_INFO, log, 0,
                             "groups: member \"%.*s\" of \"%.*s\" expired",
                             SL_STR_ARG(&m->id), SL_STR_ARG(&g->node.name));

                sl_bg_remove_member(g, m, now);

                /* the removal may have changed the list */
                mn = g->members;
                continue;
            }

            if (m->pending) {
                next = sl_min(next, m->created + m->session_timeout);

            } else if (!m->join_waiting && !m->sync_waiting) {
                next = sl_min(next, m->heartbeat + m->session_timeout);
            }
        }

        if (g->state == SL_BROKER_GROUP_PREPARING
            && now >= g->join_deadline)
        {
            if (g->initial && g->new_member && now < g->join_limit) {
                /* the initial delay, again, while members keep coming */
                g->new_member = 0;
                g->join_deadline = sl_min(g->join_limit,
                         now + (int64_t) sl_bg_conf.initial_rebalance_delay);

            } else {
                sl_bg_complete_join(g, now);
            }
        }

        if (g->state == SL_BROKER_GROUP_PREPARING) {
            next = sl_min(next, g->join_deadline);
        }
    }

    sl_bg_sh->next_deadline = next;

    if (wall >= sl_bg_sh->next_expire) {
        sl_bg_expire(wall, log);

        sl_bg_sh->next_expire = wall
                 + sl_max(100, sl_min((int64_t) sl_bg_conf.offsets_retention
                                      / 2, 60000));
    }

    sl_bg_unlock();
}


/*
 * Offsets retention, as Kafka 2.1+: the offsets of a group without
 * members expire offsets_retention after the later of the group
 * becoming empty and the commit (or at an explicit expiry time); an
 * empty group without offsets goes.
 */

static void
sl_bg_expire(int64_t wall, sl_log_t *log)
{
    int64_t            base;
    sl_uint_t          n;
    sl_bg_group_t     *g;
    sl_bg_offset_t    *o, **del;
    sl_rbtree_node_t  *node, *nnext, *on;

    if (sl_bg_sh->groups.root == sl_bg_sh->groups.sentinel) {
        return;
    }

    for (node = sl_rbtree_min(sl_bg_sh->groups.root,
                              sl_bg_sh->groups.sentinel);
         node;
         node = nnext)
    {
        nnext = sl_rbtree_next(&sl_bg_sh->groups, node);
        g = (sl_bg_group_t *) node;

        if (g->state != SL_BROKER_GROUP_EMPTY || g->nmembers || g->npending)
        {
            continue;
        }

        if (g->noffsets) {
            del = sl_alloc(g->noffsets * sizeof(sl_bg_offset_t *), log);
            if (del == NULL) {
                continue;
            }

            n = 0;

            for (on = sl_rbtree_min(g->offsets.root, g->offsets.sentinel);
                 on;
                 on = sl_rbtree_next(&g->offsets, on))
            {
                o = (sl_bg_offset_t *) on;

                if (o->expire_time >= 0) {
                    if (wall >= o->expire_time) {
                        del[n++] = o;
                    }

                    continue;
                }

                base = g->protocol_type.len
                       ? sl_max(g->state_time, o->commit_time)
                       : o->commit_time;

                if (wall - base >= (int64_t) sl_bg_conf.offsets_retention) {
                    del[n++] = o;
                }
            }

            if (n && sl_bg_tombstones(g, del, n, log) == SL_OK) {
                sl_log_error(SL_LOG_INFO, log, 0,
                             "groups: %d offsets of \"%.*s\" expired",
                             (int) n, SL_STR_ARG(&g->node.name));

                while (n) {
                    sl_bg_offset_free(g, del[--n]);
                }
            }

            sl_free(del);
        }

        if (g->noffsets == 0) {
            if (g->protocol_type.len) {
                (void) sl_bg_write_group(g, 1, log);
            }

            sl_bg_group_free(g);
        }
    }
}


/* lag */

void
sl_broker_group_lag_each(sl_broker_group_lag_pt handler, void *data)
{
    int64_t                 hw;
    sl_bg_group_t          *g;
    sl_bg_offset_t         *o;
    sl_rbtree_node_t       *node, *on;
    sl_broker_topic_t      *topic;
    sl_broker_partition_t  *part;

    if (sl_bg_sh == NULL) {
        return;
    }

    if (sl_bg_sh == NULL) {
        return;
    }

    sl_bg_lock();

    if (sl_bg_sh->groups.root == sl_bg_sh->groups.sentinel) {
        goto done;
    }

    for (node = sl_rbtree_min(sl_bg_sh->groups.root,
                              sl_bg_sh->groups.sentinel);
         node;
         node = sl_rbtree_next(&sl_bg_sh->groups, node))
    {
        g = (sl_bg_group_t *) node;

        if (g->noffsets == 0) {
            continue;
        }

        for (on = sl_rbtree_min(g->offsets.root, g->offsets.sentinel);
             on;
             on = sl_rbtree_next(&g->offsets, on))
        {
            o = (sl_bg_offset_t *) on;

            topic = sl_broker_topic_find(&o->node.name);
            part = topic ? sl_broker_partition(topic, o->node.partition)
                         : NULL;
            hw = part ? (int64_t) sl_atomic_load(&part->high_watermark) : -1;

            handler(data, &g->node.name, &o->node.name, o->node.partition,
                    o->offset, hw);
        }
    }

done:

    sl_bg_unlock();
}


typedef struct {
    sl_str_t   *group;
    int64_t     lag;
} sl_bg_lag_ctx_t;


static void
sl_bg_lag_add(void *data, sl_str_t *group, sl_str_t *topic,
    int32_t partition, int64_t committed, int64_t hw)
{
    sl_bg_lag_ctx_t  *ctx = data;

    if (!sl_bg_streq(group, ctx->group) || hw < 0 || committed < 0) {
        return;
    }

    if (ctx->lag < 0) {
        ctx->lag = 0;
    }

    ctx->lag += sl_max(0, hw - committed);
}


int64_t
sl_broker_group_lag(sl_str_t *group_id)
{
    sl_bg_lag_ctx_t  ctx;

    if (sl_bg_sh == NULL) {
        return -1;
    }

    ctx.group = group_id;
    ctx.lag = -1;

    sl_broker_group_lag_each(sl_bg_lag_add, &ctx);

    return ctx.lag;
}


/* __consumer_offsets: Kafka's partition of a group is hashCode % n */

static sl_broker_partition_t *
sl_bg_partition(sl_str_t *group)
{
    size_t              i;
    int32_t             h, n;
    sl_str_t            name;
    sl_broker_topic_t  *topic;

    sl_str_set(&name, SL_BROKER_GROUP_OFFSETS_TOPIC);

    topic = sl_broker_topic_find(&name);
    if (topic == NULL || topic->partitions_n <= 0) {
        return NULL;
    }

    h = 0;

    for (i = 0; i < group->len; i++) {
        h = (int32_t) (31 * (uint32_t) h + group->data[i]);
    }

    n = topic->partitions_n;

    /* Kafka's Utils.abs: h & 0x7fffffff */
    return sl_broker_partition(topic, (h & 0x7fffffff) % n);
}


static u_char *
sl_bg_put_str(u_char *p, sl_str_t *s)
{
    size_t  len;

    if (s == NULL || s->data == NULL) {
        *p++ = 0xff;
        *p++ = 0xff;
        return p;
    }

    len = sl_min(s->len, 0x7fff);

    *p++ = (u_char) (len >> 8);
    *p++ = (u_char) len;

    return sl_cpymem(p, s->data, len);
}


static u_char *
sl_bg_put32(u_char *p, uint32_t v)
{
    *p++ = (u_char) (v >> 24);
    *p++ = (u_char) (v >> 16);
    *p++ = (u_char) (v >> 8);
    *p++ = (u_char) v;

    return p;
}


static u_char *
sl_bg_put64(u_char *p, uint64_t v)
{
    p = sl_bg_put32(p, (uint32_t) (v >> 32));
    return sl_bg_put32(p, (uint32_t) v);
}


static size_t
sl_bg_offset_key(u_char *p, sl_str_t *group, sl_str_t *topic,
    int32_t partition)
{
    u_char  *start;

    start = p;

    *p++ = 0;
    *p++ = 1;
    p = sl_bg_put_str(p, group);
    p = sl_bg_put_str(p, topic);
    p = sl_bg_put32(p, (uint32_t) partition);

    return p - start;
}


static size_t
sl_bg_offset_value(u_char *p, sl_bg_offset_t *o)
{
    u_char    *start;
    sl_str_t   empty;

    start = p;
    sl_str_set(&empty, "");

    if (o->expire_time >= 0) {
        /* version 1 carries an explicit expiry */
        *p++ = 0;
        *p++ = 1;
        p = sl_bg_put64(p, (uint64_t) o->offset);
        p = sl_bg_put_str(p, o->metadata.data ? &o->metadata : &empty);
        p = sl_bg_put64(p, (uint64_t) o->commit_time);
        p = sl_bg_put64(p, (uint64_t) o->expire_time);

        return p - start;
    }

    *p++ = 0;
    *p++ = 3;
    p = sl_bg_put64(p, (uint64_t) o->offset);
    p = sl_bg_put32(p, (uint32_t) o->leader_epoch);
    p = sl_bg_put_str(p, o->metadata.data ? &o->metadata : &empty);
    p = sl_bg_put64(p, (uint64_t) o->commit_time);

    return p - start;
}


static sl_int_t
sl_bg_write_group(sl_bg_group_t *g, sl_uint_t tombstone, sl_log_t *log)
{
    u_char       buf[SL_BROKER_TOPIC_MAX_LEN * 4 + 2048], *p;
    sl_bg_rec_t  rec;

    if (g->node.name.len > SL_BROKER_TOPIC_MAX_LEN * 2
        || g->protocol_type.len > 256 || g->protocol_name.len > 256
        || g->leader.len > 1024)
    {
        return SL_OK;
    }

    p = buf;

    rec.key = p;
    *p++ = 0;
    *p++ = 2;
    p = sl_bg_put_str(p, &g->node.name);
    rec.key_len = p - rec.key;

    rec.value = NULL;
    rec.value_len = 0;

    if (!tombstone) {
        rec.value = p;
        *p++ = 0;
        *p++ = 3;
        p = sl_bg_put_str(p, &g->protocol_type);
        p = sl_bg_put32(p, (uint32_t) g->generation);
        p = sl_bg_put_str(p, g->protocol_name.data ? &g->protocol_name
                                                   : NULL);
        p = sl_bg_put_str(p, g->leader.data ? &g->leader : NULL);
        p = sl_bg_put64(p, (uint64_t) g->state_time);
        /* members are not kept: after a restart they rejoin */
        p = sl_bg_put32(p, 0);
        rec.value_len = p - rec.value;
    }

    return sl_bg_write(&g->node.name, &rec, 1, log);
}


static sl_int_t
sl_bg_tombstones(sl_bg_group_t *g, sl_bg_offset_t **offs, sl_uint_t n,
    sl_log_t *log)
{
    u_char       *buf, *p;
    size_t        size;
    sl_int_t      rc;
    sl_uint_t     i;
    sl_bg_rec_t  *recs;

    size = 0;

    for (i = 0; i < n; i++) {
        size += 16 + g->node.name.len + offs[i]->node.name.len;
    }

    buf = sl_alloc(size, log);
    recs = sl_alloc(n * sizeof(sl_bg_rec_t), log);

    if (buf == NULL || recs == NULL) {
        if (buf) {
            sl_free(buf);
        }

        return SL_ERROR;
    }

    p = buf;

    for (i = 0; i < n; i++) {
        recs[i].key = p;
        recs[i].key_len = sl_bg_offset_key(p, &g->node.name,
                                           &offs[i]->node.name,
                                           offs[i]->node.partition);
        p += recs[i].key_len;
        recs[i].value = NULL;
        recs[i].value_len = 0;
    }

    rc = sl_bg_write(&g->node.name, recs, n, log);

    sl_free(buf);
    sl_free(recs);

    return rc;
}


/* records into batches of at most SL_BG_BATCH_MAX bytes */

static sl_int_t
sl_bg_write(sl_str_t *group, sl_bg_rec_t *recs, sl_uint_t n, sl_log_t *log)
{
    size_t                  size, one;
    sl_uint_t               i, first;
    sl_broker_partition_t  *part;

    part = sl_bg_partition(group);

    if (part == NULL) {
        sl_log_error(SL_LOG_ERR, log, 0,
                     "groups: no partition of %s for \"%.*s\"",
                     SL_BROKER_GROUP_OFFSETS_TOPIC, SL_STR_ARG(group));
        return SL_ERROR;
    }

    first = 0;
    size = 0;

    for (i = 0; i < n; i++) {
        one = recs[i].key_len + recs[i].value_len + 32;

        if (i > first && size + one > SL_BG_BATCH_MAX) {
            if (sl_bg_write_batch(part, &recs[first], i - first, log)
                != SL_OK)
            {
                return SL_ERROR;
            }

            first = i;
            size = 0;
        }

        size += one;
    }

    return sl_bg_write_batch(part, &recs[first], n - first, log);
}


static sl_int_t
sl_bg_write_batch(sl_broker_partition_t *part, sl_bg_rec_t *recs,
    sl_uint_t n, sl_log_t *log)
{
    u_char    *b, *p, *r, *len_at;
    size_t     size, rlen;
    int64_t    now, base, lat;
    sl_int_t   rc;
    sl_uint_t  i;

    size = SL_BROKER_BATCH_HEADER_SIZE;

    for (i = 0; i < n; i++) {
        size += recs[i].key_len + recs[i].value_len + 5 * SL_VARINT_MAX32
                + 2 * SL_VARINT_MAX64;
    }

    b = sl_alloc(size, log);
    if (b == NULL) {
        return SL_ERROR;
    }

    now = sl_broker_group_wall_ms();

    p = b + SL_BROKER_BATCH_HEADER_SIZE;

    for (i = 0; i < n; i++) {
        /* the body first, then its length in front of it */
        len_at = p;
        r = p + SL_VARINT_MAX32;

        *r++ = 0;
        r = sl_varint_write_s64(r, 0);
        r = sl_varint_write_s32(r, (int32_t) i);
        r = sl_varint_write_s32(r, (int32_t) recs[i].key_len);
        r = sl_cpymem(r, recs[i].key, recs[i].key_len);

        if (recs[i].value) {
            r = sl_varint_write_s32(r, (int32_t) recs[i].value_len);
            r = sl_cpymem(r, recs[i].value, recs[i].value_len);

        } else {
            r = sl_varint_write_s32(r, -1);
        }

        r = sl_varint_write_s32(r, 0);

        rlen = r - (len_at + SL_VARINT_MAX32);

        p = sl_varint_write_s32(len_at, (int32_t) rlen);
        sl_memmove(p, len_at + SL_VARINT_MAX32, rlen);
        p += rlen;
    }

    size = p - b;

    sl_memzero(b, SL_BROKER_BATCH_HEADER_SIZE);
    (void) sl_bg_put32(b + 8, (uint32_t) (size - 12));
    (void) sl_bg_put32(b + 12, 0);
    b[16] = 2;
    (void) sl_bg_put32(b + 23, (uint32_t) (n - 1));
    (void) sl_bg_put64(b + 27, (uint64_t) now);
    (void) sl_bg_put64(b + 35, (uint64_t) now);
    (void) sl_bg_put64(b + 43, (uint64_t) -1);
    b[51] = 0xff;
    b[52] = 0xff;
    (void) sl_bg_put32(b + 53, (uint32_t) -1);
    (void) sl_bg_put32(b + 57, (uint32_t) n);
    (void) sl_bg_put32(b + 17, sl_crc32c(b + 21, size - 21));

    rc = sl_broker_log_append(part, b, size, &base, &lat, log);

    sl_free(b);

    if (rc != SL_BROKER_OK) {
        sl_log_error(SL_LOG_ERR, log, 0,
                     "groups: append to %s failed (error %d)",
                     SL_BROKER_GROUP_OFFSETS_TOPIC, (int) rc);
        return SL_ERROR;
    }

    return SL_OK;
}


/* the replay */

static sl_int_t
sl_bg_replay(sl_broker_topic_t *topic, sl_log_t *log)
{
    u_char                 *p, *last, *r, *rlast, *key, *value;
    u_char                 *rec_end;
    int64_t                 offset, hw, next;
    int32_t                 i, rec_len, klen, vlen, nheaders, j, hlen;
    int64_t                 ts_delta;
    int32_t                 off_delta;
    sl_int_t                rc, pi;
    sl_broker_read_t        rd;
    sl_broker_batch_t       b;
    sl_broker_partition_t  *part;

    for (pi = 0; pi < topic->partitions_n; pi++) {

        part = sl_broker_partition(topic, pi);
        if (part == NULL) {
            continue;
        }

        offset = sl_atomic_load(&part->log_start_offset);
        hw = sl_atomic_load(&part->high_watermark);

        while (offset < hw) {

            rc = sl_broker_log_read(part, offset, SL_BG_REPLAY_READ, &rd,
                                    log);

            if (rc != SL_BROKER_OK) {
                sl_log_error(SL_LOG_EMERG, log, 0,
                             "groups: cannot read %.*s-%d at %lld (error %d)",
                             SL_STR_ARG(&topic->name), (int) pi,
                             (long long) offset, (int) rc);
                return SL_ERROR;
            }

            if (rd.len == 0 || rd.mem == NULL) {
                break;
            }

            p = rd.mem;
            last = rd.mem + rd.len;
            next = offset;

            while (p < last) {

                if (sl_broker_batch_parse(p, last - p, &b) != SL_BROKER_OK) {
                    sl_log_error(SL_LOG_ALERT, log, 0,
                                 "groups: a bad batch in %.*s-%d at %lld",
                                 SL_STR_ARG(&topic->name), (int) pi,
                                 (long long) next);
                    next = hw;
                    break;
                }

                next = b.base_offset + b.last_offset_delta + 1;

                r = p + SL_BROKER_BATCH_HEADER_SIZE;
                rlast = p + 12 + b.length;
                p = rlast;

                if ((b.attributes & 0x07) || (b.attributes & 0x20)) {
                    /* compressed or control: not ours */
                    continue;
                }

                for (i = 0; i < b.records_count && r < rlast; i++) {
                    r = sl_varint_read_s32(r, rlast, &rec_len);
                    if (r == NULL || rec_len < 0 || rlast - r < rec_len) {
                        break;
                    }

                    rec_end = r + rec_len;

                    r++;                                  /* attributes */
                    r = sl_varint_read_s64(r, rlast, &ts_delta);
                    r = r ? sl_varint_read_s32(r, rlast, &off_delta) : NULL;
                    r = r ? sl_varint_read_s32(r, rlast, &klen) : NULL;

                    if (r == NULL || klen < 0 || rlast - r < klen) {
                        break;
                    }

                    key = r;
                    r += klen;

                    r = sl_varint_read_s32(r, rlast, &vlen);
                    if (r == NULL || rlast - r < (vlen < 0 ? 0 : vlen)) {
                        break;
                    }

                    value = vlen < 0 ? NULL : r;
                    r += vlen < 0 ? 0 : vlen;

                    r = sl_varint_read_s32(r, rlast, &nheaders);
                    if (r == NULL) {
                        break;
                    }

                    for (j = 0; j < nheaders && r; j++) {
                        r = sl_varint_read_s32(r, rlast, &hlen);
                        if (r == NULL || hlen < 0 || rlast - r < hlen) {
                            r = NULL;
                            break;
                        }

                        r += hlen;
                        r = sl_varint_read_s32(r, rlast, &hlen);
                        if (r && hlen > 0) {
                            if (rlast - r < hlen) {
                                r = NULL;
                                break;
                            }

                            r += hlen;
                        }
                    }

                    if (r == NULL) {
                        break;
                    }

                    sl_bg_replay_record(key, klen, value, vlen, log);

                    r = rec_end;
                }
            }

            if (next <= offset) {
                break;
            }

            offset = next;
        }
    }

    return SL_OK;
}


/* readers of the record fields; NULL when short */

static u_char *
sl_bg_get_str(u_char *p, u_char *last, sl_str_t *s)
{
    int16_t  len;

    if (p == NULL || last - p < 2) {
        return NULL;
    }

    len = (int16_t) (((uint16_t) p[0] << 8) | p[1]);
    p += 2;

    if (len < 0) {
        s->data = NULL;
        s->len = 0;
        return p;
    }

    if (last - p < len) {
        return NULL;
    }

    s->data = p;
    s->len = len;

    return p + len;
}


static u_char *
sl_bg_get32(u_char *p, u_char *last, int32_t *v)
{
    if (p == NULL || last - p < 4) {
        return NULL;
    }

    *v = (int32_t) (((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
                    | ((uint32_t) p[2] << 8) | p[3]);

    return p + 4;
}


static u_char *
sl_bg_get64(u_char *p, u_char *last, int64_t *v)
{
    int32_t  hi, lo;

    hi = 0;
    lo = 0;

    p = sl_bg_get32(p, last, &hi);
    p = sl_bg_get32(p, last, &lo);

    *v = (int64_t) (((uint64_t) (uint32_t) hi << 32) | (uint32_t) lo);

    return p;
}


static void
sl_bg_replay_record(u_char *key, ssize_t klen, u_char *value, ssize_t vlen,
    sl_log_t *log)
{
    u_char          *p, *last;
    int32_t          partition, epoch, generation;
    int64_t          offset, commit, expire, ts;
    uint16_t         kv, vv;
    sl_str_t         group, topic, metadata, type;
    sl_bg_group_t   *g;
    sl_bg_offset_t  *o;

    if (klen < 2) {
        return;
    }

    kv = (uint16_t) ((key[0] << 8) | key[1]);
    last = key + klen;

    p = sl_bg_get_str(key + 2, last, &group);

    if (p == NULL || group.data == NULL || group.len == 0) {
        return;
    }

    g = sl_bg_group_find(&group);

    if (kv == 2) {
        /* group metadata */

        if (value == NULL) {
            if (g && g->noffsets == 0) {
                sl_bg_group_free(g);

            } else if (g) {
                sl_bg_strfree(&g->protocol_type);
            }

            return;
        }

        if (vlen < 2) {
            return;
        }

        last = value + vlen;
        p = sl_bg_get_str(value + 2, last, &type);
        p = sl_bg_get32(p, last, &generation);

        if (p == NULL) {
            return;
        }

        if (g == NULL) {
            g = sl_bg_group_create(&group);
            if (g == NULL) {
                return;
            }
        }

        (void) sl_bg_strset(&g->protocol_type, type.data ? &type : NULL);
        g->generation = generation;

        p = sl_bg_get_str(p, last, &type);          /* protocol */
        p = sl_bg_get_str(p, last, &type);          /* leader */
        p = sl_bg_get64(p, last, &ts);

        if (p && ts > 0) {
            g->state_time = ts;
        }

        return;
    }

    if (kv > 1) {
        return;
    }

    p = sl_bg_get_str(p, last, &topic);
    p = sl_bg_get32(p, last, &partition);

    if (p == NULL || topic.data == NULL) {
        return;
    }

    if (value == NULL) {
        o = g ? (sl_bg_offset_t *) sl_bg_lookup(&g->offsets, &topic,
                                                partition)
              : NULL;
        if (o) {
            sl_bg_offset_free(g, o);
        }

        return;
    }

    if (vlen < 2) {
        return;
    }

    vv = (uint16_t) ((value[0] << 8) | value[1]);
    last = value + vlen;
    epoch = -1;
    expire = -1;
    commit = -1;

    p = sl_bg_get64(value + 2, last, &offset);

    if (vv >= 3) {
        p = sl_bg_get32(p, last, &epoch);
    }

    p = sl_bg_get_str(p, last, &metadata);
    p = sl_bg_get64(p, last, &commit);

    if (vv == 1) {
        p = sl_bg_get64(p, last, &expire);
    }

    if (p == NULL) {
        sl_log_error(SL_LOG_WARN, log, 0,
                     "groups: a short offset record of \"%.*s\"",
                     SL_STR_ARG(&group));
        return;
    }

    if (g == NULL) {
        g = sl_bg_group_create(&group);
        if (g == NULL) {
            return;
        }
    }

    o = sl_bg_offset_set(g, &topic, partition);
    if (o == NULL) {
        return;
    }

    o->offset = offset;
    o->leader_epoch = epoch;
    o->commit_time = commit;
    o->expire_time = expire;
    (void) sl_bg_strset(&o->metadata, metadata.data ? &metadata : NULL);
}
