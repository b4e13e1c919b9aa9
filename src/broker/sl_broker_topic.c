
/*
 * The topic registry: topics sorted by name in the shared zone, under
 * the registry lock, so that any worker may create, delete or change a
 * topic at run time.  On disk a topic is data/<topic>.topic (name, id,
 * partition count, the settings it overrides) beside its partitions'
 * folders data/<topic>-<partition>/.  The .topic file is written last on
 * creation and removed first on deletion: it decides what exists.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>
#include <sl_broker_batch.h>


#define SL_BROKER_LONG_MAX  "9223372036854775807"


static sl_int_t sl_broker_topic_index(sl_str_t *name, sl_uint_t *pos);
static sl_broker_topic_t *sl_broker_topic_alloc(sl_str_t *name,
    sl_broker_topic_conf_t *conf, uint32_t overrides);
static sl_broker_partition_t *sl_broker_partition_alloc(
    sl_broker_topic_t *topic, sl_int_t id, sl_log_t *log);
static void sl_broker_partition_free(sl_broker_partition_t *part);
static sl_int_t sl_broker_topic_insert(sl_broker_topic_t *topic);
static sl_int_t sl_broker_topic_parts(sl_broker_topic_t *topic,
    sl_int_t from, sl_int_t to, sl_uint_t create, sl_uint_t clean,
    sl_log_t *log);
static sl_int_t sl_broker_topic_save(sl_broker_topic_t *topic,
    sl_log_t *log);
static sl_int_t sl_broker_topic_load(u_char *file, sl_uint_t clean,
    sl_log_t *log);
static sl_int_t sl_broker_conf_num(sl_str_t *value, int64_t *n);
static void sl_broker_uuid(u_char *id);


static sl_str_t  sl_broker_cleanup_names[] = {
    sl_null_string,
    sl_string("delete"),
    sl_string("compact")
};


sl_int_t
sl_broker_topic_name_valid(sl_str_t *name)
{
    u_char     c;
    sl_uint_t  i;

    if (name->len == 0 || name->len > SL_BROKER_TOPIC_MAX_LEN
        || sl_str_eq(name, ".") || sl_str_eq(name, ".."))
    {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
        {
            return 0;
        }
    }

    return 1;
}


/* the position of name, or of where it would go; locked */

static sl_int_t
sl_broker_topic_index(sl_str_t *name, sl_uint_t *pos)
{
    int                 c;
    size_t              len;
    sl_uint_t           lo, hi, mid;
    sl_broker_topic_t  *t;

    lo = 0;
    hi = sl_broker_sh->ntopics;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        t = sl_broker_sh->topics[mid];

        len = sl_min(t->name.len, name->len);
        c = sl_memcmp(t->name.data, name->data, len);

        if (c == 0) {
            c = (t->name.len > name->len) - (t->name.len < name->len);
        }

        if (c == 0) {
            *pos = mid;
            return SL_OK;
        }

        if (c < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    *pos = lo;

    return SL_DECLINED;
}


sl_broker_topic_t *
sl_broker_topic_find(sl_str_t *name)
{
    sl_uint_t           i;
    sl_broker_topic_t  *t;

    if (sl_broker_sh == NULL) {
        return NULL;
    }

    t = NULL;

    (void) sl_shmtx_lock(&sl_broker_sh->lock);

    if (sl_broker_topic_index(name, &i) == SL_OK
        && !sl_broker_sh->topics[i]->deleted
        && sl_broker_sh->topics[i]->partitions_n > 0)
    {
        t = sl_broker_sh->topics[i];
    }

    sl_shmtx_unlock(&sl_broker_sh->lock);

    return t;
}


sl_broker_topic_t *
sl_broker_topic_next(sl_broker_topic_t *prev)
{
    sl_uint_t           i;
    sl_broker_topic_t  *t;

    if (sl_broker_sh == NULL) {
        return NULL;
    }

    t = NULL;

    (void) sl_shmtx_lock(&sl_broker_sh->lock);

    i = 0;

    if (prev && sl_broker_topic_index(&prev->name, &i) == SL_OK) {
        i++;
    }

    for ( /* void */ ; i < sl_broker_sh->ntopics; i++) {
        if (sl_broker_sh->topics[i]->partitions_n > 0) {
            t = sl_broker_sh->topics[i];
            break;
        }
    }

    sl_shmtx_unlock(&sl_broker_sh->lock);

    return t;
}


sl_uint_t
sl_broker_topic_count(void)
{
    return sl_broker_sh ? sl_broker_sh->ntopics : 0;
}


sl_broker_partition_t *
sl_broker_partition(sl_broker_topic_t *topic, sl_int_t id)
{
    int32_t                  n;
    sl_broker_partition_t  **parts;

    n = sl_atomic_load(&topic->partitions_n);

    if (id < 0 || id >= n || topic->deleted) {
        return NULL;
    }

    parts = sl_atomic_load(&topic->partitions);

    return parts[id];
}


sl_int_t
sl_broker_topic_create(sl_str_t *name, sl_int_t partitions,
    sl_broker_topic_conf_t *conf, sl_log_t *log, sl_broker_topic_t **out)
{
    uint32_t                 overrides;
    sl_uint_t                i;
    sl_broker_topic_t       *topic;
    sl_broker_topic_conf_t   merged;

    if (out) {
        *out = NULL;
    }

    if (!sl_broker_topic_name_valid(name)) {
        return SL_BROKER_ERR_INVALID_TOPIC;
    }

    if (partitions < 1 || partitions > SL_BROKER_MAX_PARTITIONS) {
        return SL_BROKER_ERR_INVALID_PARTS;
    }

    if (conf) {
        merged = *conf;

    } else {
        sl_broker_topic_conf_init(&merged);
    }

    overrides = 0;
    sl_broker_topic_conf_merge(&merged, &sl_broker_cf->topic, &overrides);

    if (merged.segment_bytes < 14 || merged.segment_bytes > INT32_MAX
        || merged.index_interval > INT32_MAX
        || merged.max_record_batch_bytes < SL_BROKER_BATCH_HEADER_SIZE
        || merged.max_record_batch_bytes > INT32_MAX)
    {
        return SL_BROKER_ERR_INVALID_CONFIG;
    }

    topic = sl_broker_topic_alloc(name, &merged, overrides);
    if (topic == NULL) {
        return SL_BROKER_ERR_NO_MEMORY;
    }

    sl_broker_uuid(topic->id);

    /* the name is taken before any file exists: partitions_n is 0 */

    (void) sl_shmtx_lock(&sl_broker_sh->lock);

    if (sl_broker_topic_index(name, &i) == SL_OK) {
        sl_shmtx_unlock(&sl_broker_sh->lock);
        sl_broker_shfree(topic);
        return SL_BROKER_ERR_TOPIC_EXISTS;
    }

    if (sl_broker_topic_insert(topic) != SL_OK) {
        sl_shmtx_unlock(&sl_broker_sh->lock);
        sl_broker_shfree(topic);
        return SL_BROKER_ERR_NO_MEMORY;
    }

    sl_shmtx_unlock(&sl_broker_sh->lock);

    if (sl_broker_topic_parts(topic, 0, partitions, 1, 0, log) != SL_OK
        || sl_broker_topic_save(topic, log) != SL_OK)
    {
        /* undo: the topic never existed */
        (void) sl_broker_topic_delete(name, log);
        return SL_BROKER_ERR_STORAGE;
    }

    sl_log_error(SL_LOG_INFO, log, 0, "topic \"%.*s\" created with %d "
                 "partitions", SL_STR_ARG(name), (int) partitions);

    if (out) {
        *out = topic;
    }

    return SL_BROKER_OK;
}


static sl_broker_topic_t *
sl_broker_topic_alloc(sl_str_t *name, sl_broker_topic_conf_t *conf,
    uint32_t overrides)
{
    sl_broker_topic_t  *topic;

    topic = sl_broker_shalloc(sizeof(sl_broker_topic_t) + name->len + 1);
    if (topic == NULL) {
        return NULL;
    }

    sl_memzero(topic, sizeof(sl_broker_topic_t));

    topic->name.len = name->len;
    topic->name.data = (u_char *) topic + sizeof(sl_broker_topic_t);
    sl_memcpy(topic->name.data, name->data, name->len);
    topic->name.data[name->len] = '\0';

    topic->conf = *conf;
    topic->overrides = overrides;
    topic->internal = (name->len > 1 && name->data[0] == '_'
                       && name->data[1] == '_');

    return topic;
}


/* locked */

static sl_int_t
sl_broker_topic_insert(sl_broker_topic_t *topic)
{
    sl_uint_t            i, n;
    sl_broker_topic_t  **topics;

    (void) sl_broker_topic_index(&topic->name, &i);

    if (sl_broker_sh->ntopics == sl_broker_sh->nalloc) {
        n = sl_max(sl_broker_sh->nalloc * 2, 64);

        topics = sl_broker_shalloc(n * sizeof(sl_broker_topic_t *));
        if (topics == NULL) {
            return SL_ERROR;
        }

        /* the first topic: no array yet (memcpy from NULL is UB) */

        if (sl_broker_sh->topics) {
            sl_memcpy(topics, sl_broker_sh->topics,
                      sl_broker_sh->ntopics * sizeof(sl_broker_topic_t *));
            sl_broker_shfree(sl_broker_sh->topics);
        }

        sl_broker_sh->topics = topics;
        sl_broker_sh->nalloc = n;
    }

    sl_memmove(&sl_broker_sh->topics[i + 1], &sl_broker_sh->topics[i],
               (sl_broker_sh->ntopics - i) * sizeof(sl_broker_topic_t *));
    sl_broker_sh->topics[i] = topic;
    sl_broker_sh->ntopics++;

    return SL_OK;
}


static sl_broker_partition_t *
sl_broker_partition_alloc(sl_broker_topic_t *topic, sl_int_t id,
    sl_log_t *log)
{
    sl_uint_t               slot;
    sl_broker_plog_t       *pl;
    sl_broker_partition_t  *part;

    part = sl_broker_shalloc(sizeof(sl_broker_partition_t)
                             + sizeof(sl_broker_plog_t));
    if (part == NULL) {
        sl_log_error(SL_LOG_ERR, log, 0, "the broker's shared zone is full");
        return NULL;
    }

    sl_memzero(part, sizeof(sl_broker_partition_t)
                     + sizeof(sl_broker_plog_t));

    pl = (sl_broker_plog_t *) (part + 1);

    part->topic = topic;
    part->id = (int32_t) id;
    part->data = pl;

    if (sl_shmtx_create(&part->lock) != SL_OK
        || sl_shmtx_create(&pl->flush_lock) != SL_OK)
    {
        sl_broker_shfree(part);
        return NULL;
    }

    (void) sl_shmtx_lock(&sl_broker_sh->slots_lock);

    for (slot = 0; slot < SL_BROKER_MAX_SLOTS; slot++) {
        if (!(sl_broker_sh->slots[slot / 8] & (1 << (slot % 8)))) {
            sl_broker_sh->slots[slot / 8] |= (u_char) (1 << (slot % 8));
            break;
        }
    }

    pl->serial = ++sl_broker_sh->serial;

    sl_shmtx_unlock(&sl_broker_sh->slots_lock);

    if (slot == SL_BROKER_MAX_SLOTS) {
        sl_log_error(SL_LOG_ERR, log, 0, "too many partitions");
        sl_broker_shfree(part);
        return NULL;
    }

    pl->slot = (uint32_t) slot;
    pl->rp_base = -1;

    return part;
}


static void
sl_broker_partition_free(sl_broker_partition_t *part)
{
    sl_broker_plog_t  *pl;

    pl = part->data;

    (void) sl_shmtx_lock(&sl_broker_sh->slots_lock);
    sl_broker_sh->slots[pl->slot / 8] &= (u_char) ~(1 << (pl->slot % 8));
    sl_shmtx_unlock(&sl_broker_sh->slots_lock);

    if (pl->segs) {
        sl_broker_shfree(pl->segs);
    }

    sl_broker_shfree(part);
}


/* opens (or creates) partitions [from, to) and publishes them */

static sl_int_t
sl_broker_topic_parts(sl_broker_topic_t *topic, sl_int_t from, sl_int_t to,
    sl_uint_t create, sl_uint_t clean, sl_log_t *log)
{
    u_char                   path[SL_BROKER_PATH_LEN], *p;
    sl_int_t                 i, rc;
    struct stat              st;
    sl_broker_partition_t  **parts, **old;

    /* called with the registry locked, or before anyone else can see */

    parts = sl_broker_shalloc(to * sizeof(sl_broker_partition_t *));
    if (parts == NULL) {
        sl_log_error(SL_LOG_ERR, log, 0, "the broker's shared zone is full");
        return SL_ERROR;
    }

    old = topic->partitions;

    if (from) {
        sl_memcpy(parts, old, from * sizeof(sl_broker_partition_t *));
    }

    rc = SL_OK;

    for (i = from; i < to; i++) {
        parts[i] = sl_broker_partition_alloc(topic, i, log);

        if (parts[i] == NULL) {
            rc = SL_ERROR;
            break;
        }

        p = sl_broker_part_dir(path, parts[i]);
        *p = '\0';

        if (create) {
            /* leftovers of a creation that never finished */
            if (stat((char *) path, &st) == 0) {
                (void) sl_delete_dir_tree(path, log);
            }

        } else if (stat((char *) path, &st) == -1) {
            sl_log_error(SL_LOG_WARN, log, sl_errno,
                         "partition \"%s\" missing, created empty",
                         (char *) path);
            create = 1;
        }

        if (create && sl_create_full_path(path, 0755) != SL_OK) {
            sl_log_error(SL_LOG_ERR, log, sl_errno, "mkdir \"%s\" failed",
                         (char *) path);
            sl_broker_partition_free(parts[i]);
            rc = SL_ERROR;
            break;
        }

        if (sl_broker_part_open(parts[i], create, clean, log) != SL_OK) {
            sl_broker_partition_free(parts[i]);
            rc = SL_ERROR;
            break;
        }
    }

    if (rc != SL_OK) {
        while (i-- > from) {
            sl_broker_local_drop(parts[i]);
            sl_broker_partition_free(parts[i]);
        }

        sl_broker_shfree(parts);
        return SL_ERROR;
    }

    if (create) {
        p = sl_slprintf(path, path + sizeof(path) - 1, "%.*s",
                        SL_STR_ARG(&sl_broker_cf->data_dir));
        *p = '\0';
        (void) sl_fsync_dir(path);
    }

    sl_atomic_store(&topic->partitions, parts);
    sl_atomic_store(&topic->partitions_n, (int32_t) to);

    if (old) {
        sl_broker_shfree_later(old);
    }

    return SL_OK;
}


sl_int_t
sl_broker_topic_add_partitions(sl_broker_topic_t *topic, sl_int_t total,
    sl_log_t *log)
{
    sl_int_t  rc;

    if (total > SL_BROKER_MAX_PARTITIONS) {
        return SL_BROKER_ERR_INVALID_PARTS;
    }

    (void) sl_shmtx_lock(&sl_broker_sh->lock);

    if (topic->deleted) {
        sl_shmtx_unlock(&sl_broker_sh->lock);
        return SL_BROKER_ERR_UNKNOWN_TOPIC;
    }

    if (total <= topic->partitions_n) {
        sl_shmtx_unlock(&sl_broker_sh->lock);
        return SL_BROKER_ERR_INVALID_PARTS;
    }

    /* rare: files are made under the registry lock */

    rc = sl_broker_topic_parts(topic, topic->partitions_n, total, 1, 0, log);

    if (rc == SL_OK) {
        rc = sl_broker_topic_save(topic, log);
    }

    sl_shmtx_unlock(&sl_broker_sh->lock);

    return (rc == SL_OK) ? SL_BROKER_OK : SL_BROKER_ERR_STORAGE;
}


sl_int_t
sl_broker_topic_delete(sl_str_t *name, sl_log_t *log)
{
    u_char                  path[SL_BROKER_PATH_LEN], *p;
    sl_int_t                i;
    sl_uint_t               pos;
    sl_broker_topic_t      *topic;
    sl_broker_plog_t       *pl;
    sl_broker_partition_t  *part;

    (void) sl_shmtx_lock(&sl_broker_sh->lock);

    if (sl_broker_topic_index(name, &pos) != SL_OK) {
        sl_shmtx_unlock(&sl_broker_sh->lock);
        return SL_BROKER_ERR_UNKNOWN_TOPIC;
    }

    topic = sl_broker_sh->topics[pos];

    sl_memmove(&sl_broker_sh->topics[pos], &sl_broker_sh->topics[pos + 1],
               (sl_broker_sh->ntopics - pos - 1)
               * sizeof(sl_broker_topic_t *));
    sl_broker_sh->ntopics--;

    topic->deleted = 1;
    topic->deleted_ms = sl_broker_mono_ms();
    topic->next = sl_broker_sh->deleted;
    sl_broker_sh->deleted = topic;

    sl_shmtx_unlock(&sl_broker_sh->lock);

    /* durable first: without its .topic file the topic is gone */

    p = sl_slprintf(path, path + sizeof(path) - 1, "%.*s/%.*s%s",
                    SL_STR_ARG(&sl_broker_cf->data_dir), SL_STR_ARG(name),
                    SL_BROKER_TOPIC_EXT);
    *p = '\0';
    (void) sl_delete_file(path);

    p = sl_slprintf(path, path + sizeof(path) - 1, "%.*s",
                    SL_STR_ARG(&sl_broker_cf->data_dir));
    *p = '\0';
    (void) sl_fsync_dir(path);

    for (i = 0; i < topic->partitions_n; i++) {
        part = topic->partitions[i];
        pl = part->data;

        if (sl_broker_lock(part, log) == SL_OK) {
            pl->deleted = 1;
            (void) sl_atomic_fetch_add(&part->generation, 1);
            sl_broker_unlock(part);
        }

        sl_broker_local_drop(part);
        (void) sl_broker_part_remove_files(part, log);
    }

    sl_log_error(SL_LOG_INFO, log, 0, "topic \"%.*s\" deleted",
                 SL_STR_ARG(name));

    return SL_BROKER_OK;
}


/*
 * Background (one process): frees deleted topics once nobody can be
 * using them, removes the folders of deleted partitions, and frees the
 * zone memory that was waiting.
 */

void
sl_broker_deferred(int64_t now, sl_log_t *log)
{
    DIR                  *dir;
    u_char                path[SL_BROKER_PATH_LEN], *p;
    size_t                len, slen;
    int32_t               i;
    uint64_t              pending;
    struct dirent        *de;
    sl_broker_free_t     *f, **pf, *done;
    sl_broker_topic_t    *t, **pt, *dead;

    now = sl_broker_mono_ms();

    dead = NULL;
    done = NULL;

    (void) sl_shmtx_lock(&sl_broker_sh->lock);

    for (pt = &sl_broker_sh->deleted; *pt; /* void */) {
        t = *pt;

        if (now - t->deleted_ms >= SL_BROKER_LINGER_MS) {
            *pt = t->next;
            t->next = dead;
            dead = t;
            continue;
        }

        pt = &t->next;
    }

    sl_shmtx_unlock(&sl_broker_sh->lock);

    (void) sl_shmtx_lock(&sl_broker_sh->slots_lock);

    for (pf = &sl_broker_sh->free_later; *pf; /* void */) {
        f = *pf;

        if (now >= f->after_ms) {
            *pf = f->next;
            f->next = done;
            done = f;
            continue;
        }

        pf = &f->next;
    }

    sl_shmtx_unlock(&sl_broker_sh->slots_lock);

    while (dead) {
        t = dead;
        dead = t->next;

        for (i = 0; i < t->partitions_n; i++) {
            sl_broker_partition_free(t->partitions[i]);
        }

        if (t->partitions) {
            sl_broker_shfree(t->partitions);
        }

        sl_broker_shfree(t);
    }

    while (done) {
        f = done;
        done = f->next;
        sl_broker_shfree(f->p);
        sl_broker_shfree(f);
    }

    pending = sl_atomic_load(&sl_broker_sh->pending_deletes);

    if (pending == 0) {
        return;
    }

    p = sl_slprintf(path, path + sizeof(path) - 1, "%.*s",
                    SL_STR_ARG(&sl_broker_cf->data_dir));
    *p = '\0';

    dir = opendir((char *) path);
    if (dir == NULL) {
        return;
    }

    slen = sizeof(SL_BROKER_DELETE_SUFFIX) - 1;

    while ((de = readdir(dir)) != NULL) {
        len = sl_strlen(de->d_name);

        if (len <= slen
            || sl_strcmp(de->d_name + len - slen, SL_BROKER_DELETE_SUFFIX))
        {
            continue;
        }

        *sl_slprintf(p, path + sizeof(path) - 1, "/%s", de->d_name) = '\0';
        (void) sl_delete_dir_tree(path, log);
        *p = '\0';
    }

    closedir(dir);

    (void) sl_atomic_fetch_add(&sl_broker_sh->pending_deletes,
                               - pending);
}


sl_int_t
sl_broker_topic_set_config(sl_broker_topic_t *topic, sl_str_t *name,
    sl_str_t *value, sl_log_t *log)
{
    sl_int_t                 rc;
    uint32_t                 overrides;
    sl_broker_topic_conf_t   conf;

    sl_broker_topic_conf_init(&conf);

    rc = sl_broker_topic_conf_set(&conf, name, value);
    if (rc != SL_BROKER_OK) {
        return rc;
    }

    (void) sl_shmtx_lock(&sl_broker_sh->lock);

    if (topic->deleted) {
        sl_shmtx_unlock(&sl_broker_sh->lock);
        return SL_BROKER_ERR_UNKNOWN_TOPIC;
    }

    /* flush is one setting made of two Kafka names: keep the other half */
    if (conf.flush != SL_CONF_UNSET && conf.flush_every == SL_CONF_UNSET) {
        conf.flush_every = topic->conf.flush_every;
    }

    if (conf.flush != SL_CONF_UNSET
        && conf.flush_interval == SL_CONF_UNSET_MSEC)
    {
        conf.flush_interval = topic->conf.flush_interval;
    }

    overrides = 0;
    sl_broker_topic_conf_merge(&conf, &topic->conf, &overrides);

    topic->conf = conf;
    topic->overrides |= overrides;

    rc = sl_broker_topic_save(topic, log);

    sl_shmtx_unlock(&sl_broker_sh->lock);

    return (rc == SL_OK) ? SL_BROKER_OK : SL_BROKER_ERR_STORAGE;
}


/*
 * Resets one setting by its Kafka name to the log { } default (the
 * override is forgotten); persists the topic.  SL_DECLINED for a name
 * the log does not own.
 */

sl_int_t
sl_broker_topic_reset_config(sl_broker_topic_t *topic, sl_str_t *name,
    sl_log_t *log)
{
    static struct {
        char                *name;
        sl_int_t             bit;
    }  names[] = {
        { "cleanup.policy", SL_BROKER_CF_CLEANUP_POLICY },
        { "segment.bytes", SL_BROKER_CF_SEGMENT_BYTES },
        { "segment.ms", SL_BROKER_CF_SEGMENT_MS },
        { "index.interval.bytes", SL_BROKER_CF_INDEX_INTERVAL },
        { "retention.ms", SL_BROKER_CF_RETENTION_MS },
        { "retention.bytes", SL_BROKER_CF_RETENTION_BYTES },
        { "delete.retention.ms", SL_BROKER_CF_DELETE_RETENTION },
        { "flush.messages", SL_BROKER_CF_FLUSH },
        { "flush.ms", SL_BROKER_CF_FLUSH },
        { "max.message.bytes", SL_BROKER_CF_MAX_BATCH_BYTES },
        { "message.timestamp.type", SL_BROKER_CF_TIMESTAMP_TYPE },
        { "compression.type", SL_BROKER_CF_COMPRESSION },
        { "compression.level", SL_BROKER_CF_COMPRESSION_LEVEL },
        { "compression.gzip.level", SL_BROKER_CF_COMPRESSION_LEVEL },
        { "compression.lz4.level", SL_BROKER_CF_COMPRESSION_LEVEL },
        { "compression.zstd.level", SL_BROKER_CF_COMPRESSION_LEVEL },
        { NULL, 0 }
    };

    sl_int_t                 rc, bit;
    sl_uint_t                i;
    sl_broker_topic_conf_t  *c, *d;

    bit = -1;

    for (i = 0; names[i].name; i++) {
        if (name->len == sl_strlen(names[i].name)
            && sl_memcmp(name->data, names[i].name, name->len) == 0)
        {
            bit = names[i].bit;
            break;
        }
    }

    if (bit == -1) {
        return SL_DECLINED;
    }

    (void) sl_shmtx_lock(&sl_broker_sh->lock);

    if (topic->deleted) {
        sl_shmtx_unlock(&sl_broker_sh->lock);
        return SL_BROKER_ERR_UNKNOWN_TOPIC;
    }

    c = &topic->conf;
    d = &sl_broker_cf->topic;

    switch (bit) {
    case SL_BROKER_CF_CLEANUP_POLICY:
        c->cleanup_policy = d->cleanup_policy;
        break;
    case SL_BROKER_CF_SEGMENT_BYTES:
        c->segment_bytes = d->segment_bytes;
        break;
    case SL_BROKER_CF_SEGMENT_MS:
        c->segment_ms = d->segment_ms;
        break;
    case SL_BROKER_CF_INDEX_INTERVAL:
        c->index_interval = d->index_interval;
        break;
    case SL_BROKER_CF_RETENTION_MS:
        c->retention_ms = d->retention_ms;
        break;
    case SL_BROKER_CF_RETENTION_BYTES:
        c->retention_bytes = d->retention_bytes;
        break;
    case SL_BROKER_CF_DELETE_RETENTION:
        c->delete_retention_ms = d->delete_retention_ms;
        break;
    case SL_BROKER_CF_FLUSH:
        c->flush = d->flush;
        c->flush_every = d->flush_every;
        c->flush_interval = d->flush_interval;
        break;
    case SL_BROKER_CF_MAX_BATCH_BYTES:
        c->max_record_batch_bytes = d->max_record_batch_bytes;
        break;
    case SL_BROKER_CF_TIMESTAMP_TYPE:
        c->message_timestamp_type = d->message_timestamp_type;
        break;
    case SL_BROKER_CF_COMPRESSION:
        c->compression_type = d->compression_type;
        break;
    default: /* SL_BROKER_CF_COMPRESSION_LEVEL */
        c->compression_level = d->compression_level;
        break;
    }

    topic->overrides &= ~((uint32_t) 1 << bit);

    rc = sl_broker_topic_save(topic, log);

    sl_shmtx_unlock(&sl_broker_sh->lock);

    return (rc == SL_OK) ? SL_BROKER_OK : SL_BROKER_ERR_STORAGE;
}


void
sl_broker_topic_conf_init(sl_broker_topic_conf_t *conf)
{
    conf->segment_bytes = SL_CONF_UNSET;
    conf->segment_ms = SL_CONF_UNSET_MSEC;
    conf->index_interval = SL_CONF_UNSET_SIZE;
    conf->retention_ms = SL_CONF_UNSET_MSEC;
    conf->retention_bytes = SL_CONF_UNSET;
    conf->cleanup_policy = SL_CONF_UNSET;
    conf->delete_retention_ms = SL_CONF_UNSET_MSEC;
    conf->flush = SL_CONF_UNSET;
    conf->flush_every = SL_CONF_UNSET;
    conf->flush_interval = SL_CONF_UNSET_MSEC;
    conf->max_record_batch_bytes = SL_CONF_UNSET_SIZE;
    conf->message_timestamp_type = SL_CONF_UNSET;
    conf->compression_type = SL_CONF_UNSET;
    conf->compression_level = SL_CONF_UNSET;
}


/* fields set in conf win (and are noted in overrides), others inherit */

void
sl_broker_topic_conf_merge(sl_broker_topic_conf_t *conf,
    sl_broker_topic_conf_t *prev, uint32_t *overrides)
{
#define sl_broker_merge(field, unset, bit)                                   \
    if (conf->field == (unset)) {                                            \
        conf->field = prev->field;                                           \
    } else {                                                                 \
        *overrides |= 1 << (bit);                                            \
    }

    sl_broker_merge(segment_bytes, SL_CONF_UNSET, SL_BROKER_CF_SEGMENT_BYTES);
    sl_broker_merge(segment_ms, SL_CONF_UNSET_MSEC, SL_BROKER_CF_SEGMENT_MS);
    sl_broker_merge(index_interval, SL_CONF_UNSET_SIZE,
                    SL_BROKER_CF_INDEX_INTERVAL);
    sl_broker_merge(retention_ms, SL_CONF_UNSET_MSEC,
                    SL_BROKER_CF_RETENTION_MS);
    sl_broker_merge(retention_bytes, SL_CONF_UNSET,
                    SL_BROKER_CF_RETENTION_BYTES);
    sl_broker_merge(cleanup_policy, SL_CONF_UNSET,
                    SL_BROKER_CF_CLEANUP_POLICY);
    sl_broker_merge(delete_retention_ms, SL_CONF_UNSET_MSEC,
                    SL_BROKER_CF_DELETE_RETENTION);
    sl_broker_merge(flush, SL_CONF_UNSET, SL_BROKER_CF_FLUSH);
    sl_broker_merge(max_record_batch_bytes, SL_CONF_UNSET_SIZE,
                    SL_BROKER_CF_MAX_BATCH_BYTES);
    sl_broker_merge(message_timestamp_type, SL_CONF_UNSET,
                    SL_BROKER_CF_TIMESTAMP_TYPE);
    sl_broker_merge(compression_type, SL_CONF_UNSET,
                    SL_BROKER_CF_COMPRESSION);
    sl_broker_merge(compression_level, SL_CONF_UNSET,
                    SL_BROKER_CF_COMPRESSION_LEVEL);

#undef sl_broker_merge

    if (conf->flush_every == SL_CONF_UNSET) {
        conf->flush_every = prev->flush_every;
    }

    if (conf->flush_interval == SL_CONF_UNSET_MSEC) {
        conf->flush_interval = prev->flush_interval;
    }

    if (conf->retention_ms == (sl_msec_t) SL_BROKER_CONF_FOREVER) {
        conf->retention_ms = (sl_msec_t) -1;
    }

    if (conf->retention_bytes == SL_BROKER_CONF_FOREVER) {
        conf->retention_bytes = -1;
    }
}


static sl_int_t
sl_broker_conf_num(sl_str_t *value, int64_t *n)
{
    sl_uint_t  neg;
    sl_str_t   v;

    v = *value;
    neg = (v.len > 1 && v.data[0] == '-');

    if (neg) {
        v.data++;
        v.len--;
    }

    if (v.len == sizeof(SL_BROKER_LONG_MAX) - 1
        && sl_memcmp(v.data, SL_BROKER_LONG_MAX, v.len) == 0)
    {
        *n = INT64_MAX;
        return neg ? SL_ERROR : SL_OK;
    }

    *n = sl_atoof(v.data, v.len);

    if (*n < 0) {
        return SL_ERROR;
    }

    if (neg) {
        *n = - *n;
    }

    return SL_OK;
}


/* compression.type: producer, none, gzip, snappy, lz4, zstd */

static sl_int_t
sl_broker_topic_conf_compression(sl_broker_topic_conf_t *conf,
    sl_str_t *value)
{
    sl_int_t  codec;

    if (sl_str_eq(value, "producer")) {
        conf->compression_type = SL_BROKER_CODEC_PRODUCER;
        return SL_BROKER_OK;
    }

    /* a codec is known only with the compress module */

    codec = sl_broker_codec_by_name(value->data, value->len);

    if (codec == SL_ERROR
        || !sl_broker_codec_available((sl_uint_t) codec))
    {
        return SL_BROKER_ERR_INVALID_CONFIG;
    }

    conf->compression_type = codec;

    return SL_BROKER_OK;
}


/*
 * Kafka's names.  Returns SL_DECLINED for a name the log does not own
 * (compression.type, min.insync.replicas, ...): the caller decides.
 */

sl_int_t
sl_broker_topic_conf_set(sl_broker_topic_conf_t *conf, sl_str_t *name,
    sl_str_t *value)
{
    int64_t  n;

    if (sl_str_eq(name, "cleanup.policy")) {
        if (sl_str_eq(value, "delete")) {
            conf->cleanup_policy = SL_BROKER_CLEANUP_DELETE;

        } else if (sl_str_eq(value, "compact")
                   || sl_str_eq(value, "compact,delete")
                   || sl_str_eq(value, "delete,compact"))
        {
            conf->cleanup_policy = SL_BROKER_CLEANUP_COMPACT;

        } else {
            return SL_BROKER_ERR_INVALID_CONFIG;
        }

        return SL_BROKER_OK;
    }

    if (sl_str_eq(name, "message.timestamp.type")) {
        if (sl_str_eq(value, "CreateTime")) {
            conf->message_timestamp_type = SL_BROKER_CREATE_TIME;

        } else if (sl_str_eq(value, "LogAppendTime")) {
            conf->message_timestamp_type = SL_BROKER_LOG_APPEND_TIME;

        } else {
            return SL_BROKER_ERR_INVALID_CONFIG;
        }

        return SL_BROKER_OK;
    }

    if (sl_str_eq(name, "compression.type")) {
        return sl_broker_topic_conf_compression(conf, value);
    }

    if (sl_str_eq(name, "compression.level")
        || sl_str_eq(name, "compression.gzip.level")
        || sl_str_eq(name, "compression.lz4.level")
        || sl_str_eq(name, "compression.zstd.level"))
    {
        /* one level, for the topic's codec; -1 is Kafka's default */

        if (sl_broker_conf_num(value, &n) != SL_OK || n < -1 || n > 22) {
            return SL_BROKER_ERR_INVALID_CONFIG;
        }

        conf->compression_level = (n == -1) ? 0 : (sl_int_t) n;
        return SL_BROKER_OK;
    }

    if (!sl_str_eq(name, "segment.bytes")
        && !sl_str_eq(name, "segment.ms")
        && !sl_str_eq(name, "index.interval.bytes")
        && !sl_str_eq(name, "retention.ms")
        && !sl_str_eq(name, "retention.bytes")
        && !sl_str_eq(name, "delete.retention.ms")
        && !sl_str_eq(name, "flush.messages")
        && !sl_str_eq(name, "flush.ms")
        && !sl_str_eq(name, "max.message.bytes"))
    {
        return SL_DECLINED;
    }

    if (sl_broker_conf_num(value, &n) != SL_OK) {
        return SL_BROKER_ERR_INVALID_CONFIG;
    }

    if (sl_str_eq(name, "retention.ms")) {
        if (n < -1) {
            return SL_BROKER_ERR_INVALID_CONFIG;
        }

        conf->retention_ms = (n == -1) ? (sl_msec_t) SL_BROKER_CONF_FOREVER
                                       : (sl_msec_t) n;
        return SL_BROKER_OK;
    }

    if (sl_str_eq(name, "retention.bytes")) {
        if (n < -1) {
            return SL_BROKER_ERR_INVALID_CONFIG;
        }

        conf->retention_bytes = (n == -1) ? SL_BROKER_CONF_FOREVER : n;
        return SL_BROKER_OK;
    }

    if (n < 0) {
        return SL_BROKER_ERR_INVALID_CONFIG;
    }

    if (sl_str_eq(name, "segment.bytes")) {
        if (n < 14 || n > INT32_MAX) {
            return SL_BROKER_ERR_INVALID_CONFIG;
        }

        conf->segment_bytes = n;

    } else if (sl_str_eq(name, "segment.ms")) {
        if (n < 1) {
            return SL_BROKER_ERR_INVALID_CONFIG;
        }

        conf->segment_ms = (sl_msec_t) n;

    } else if (sl_str_eq(name, "index.interval.bytes")) {
        if (n > INT32_MAX) {
            return SL_BROKER_ERR_INVALID_CONFIG;
        }

        conf->index_interval = (size_t) n;

    } else if (sl_str_eq(name, "delete.retention.ms")) {
        conf->delete_retention_ms = (sl_msec_t) n;

    } else if (sl_str_eq(name, "max.message.bytes")) {
        if (n < SL_BROKER_BATCH_HEADER_SIZE || n > INT32_MAX) {
            return SL_BROKER_ERR_INVALID_CONFIG;
        }

        conf->max_record_batch_bytes = (size_t) n;

    } else if (sl_str_eq(name, "flush.messages")) {
        if (n < 1) {
            return SL_BROKER_ERR_INVALID_CONFIG;
        }

        if (n == 1) {
            conf->flush = SL_BROKER_FLUSH_ALWAYS;

        } else if (n == INT64_MAX) {
            if (conf->flush != SL_BROKER_FLUSH_INTERVAL) {
                conf->flush = SL_BROKER_FLUSH_OFF;
            }

        } else {
            conf->flush = SL_BROKER_FLUSH_EVERY;
            conf->flush_every = (sl_int_t) n;
        }

    } else {
        /* flush.ms */
        if (n == INT64_MAX) {
            if (conf->flush == SL_BROKER_FLUSH_INTERVAL
                || conf->flush == SL_CONF_UNSET)
            {
                conf->flush = SL_BROKER_FLUSH_OFF;
            }

        } else if (n == 0) {
            conf->flush = SL_BROKER_FLUSH_ALWAYS;

        } else if (conf->flush != SL_BROKER_FLUSH_ALWAYS
                   && conf->flush != SL_BROKER_FLUSH_EVERY)
        {
            conf->flush = SL_BROKER_FLUSH_INTERVAL;
            conf->flush_interval = (sl_msec_t) n;
        }
    }

    return SL_BROKER_OK;
}


void
sl_broker_topic_configs(sl_broker_topic_t *topic,
    sl_broker_config_pt handler, void *data)
{
    u_char                  *p;
    u_char                   buf[32];
    sl_broker_topic_conf_t  *c;

    c = &topic->conf;

#define sl_broker_emit(name, value, bit)                                     \
    p = sl_slprintf(buf, buf + sizeof(buf), "%lld", (long long) (value));    \
    handler(data, name, buf, p - buf, !(topic->overrides & (1 << (bit))))

    handler(data, "cleanup.policy",
            sl_broker_cleanup_names[c->cleanup_policy].data,
            sl_broker_cleanup_names[c->cleanup_policy].len,
            !(topic->overrides & (1 << SL_BROKER_CF_CLEANUP_POLICY)));

    sl_broker_emit("segment.bytes", c->segment_bytes,
                   SL_BROKER_CF_SEGMENT_BYTES);
    sl_broker_emit("segment.ms", c->segment_ms, SL_BROKER_CF_SEGMENT_MS);
    sl_broker_emit("index.interval.bytes", c->index_interval,
                   SL_BROKER_CF_INDEX_INTERVAL);
    sl_broker_emit("retention.ms",
                   c->retention_ms == (sl_msec_t) -1
                   ? -1 : (long long) c->retention_ms,
                   SL_BROKER_CF_RETENTION_MS);
    sl_broker_emit("retention.bytes", c->retention_bytes,
                   SL_BROKER_CF_RETENTION_BYTES);
    sl_broker_emit("delete.retention.ms", c->delete_retention_ms,
                   SL_BROKER_CF_DELETE_RETENTION);
    sl_broker_emit("flush.messages",
                   c->flush == SL_BROKER_FLUSH_ALWAYS ? 1
                   : c->flush == SL_BROKER_FLUSH_EVERY
                   ? (long long) c->flush_every : INT64_MAX,
                   SL_BROKER_CF_FLUSH);
    sl_broker_emit("flush.ms",
                   c->flush == SL_BROKER_FLUSH_INTERVAL
                   ? (long long) c->flush_interval : INT64_MAX,
                   SL_BROKER_CF_FLUSH);
    sl_broker_emit("max.message.bytes", c->max_record_batch_bytes,
                   SL_BROKER_CF_MAX_BATCH_BYTES);

    sl_broker_emit("compression.level", c->compression_level,
                   SL_BROKER_CF_COMPRESSION_LEVEL);

#undef sl_broker_emit

    {
        const char  *codec;

        codec = (c->compression_type == SL_BROKER_CODEC_PRODUCER)
                ? "producer"
                : sl_broker_codec_name((sl_uint_t) c->compression_type);

        handler(data, "compression.type", (u_char *) codec,
                sl_strlen(codec),
                !(topic->overrides & (1 << SL_BROKER_CF_COMPRESSION)));
    }

    if (c->message_timestamp_type == SL_BROKER_LOG_APPEND_TIME) {
        handler(data, "message.timestamp.type", (u_char *) "LogAppendTime",
                13, !(topic->overrides & (1 << SL_BROKER_CF_TIMESTAMP_TYPE)));

    } else {
        handler(data, "message.timestamp.type", (u_char *) "CreateTime",
                10, !(topic->overrides & (1 << SL_BROKER_CF_TIMESTAMP_TYPE)));
    }
}


typedef struct {
    u_char      *p;
    u_char      *last;
    uint32_t     overrides;
} sl_broker_save_ctx_t;


static void
sl_broker_save_config(void *data, const char *name, u_char *value,
    size_t len, sl_uint_t is_default)
{
    sl_broker_save_ctx_t  *ctx;

    ctx = data;

    if (is_default) {
        return;
    }

    ctx->p = sl_slprintf(ctx->p, ctx->last, "config %s %.*s\n", name,
                         (int) len, (char *) value);
}


static sl_int_t
sl_broker_topic_save(sl_broker_topic_t *topic, sl_log_t *log)
{
    u_char                *p;
    u_char                 path[SL_BROKER_PATH_LEN], buf[4096];
    sl_uint_t              i;
    sl_broker_save_ctx_t   ctx;

    p = sl_slprintf(buf, buf + sizeof(buf),
                    "# sluice topic: written by the broker\n"
                    "name %.*s\nid ", SL_STR_ARG(&topic->name));

    for (i = 0; i < 16; i++) {
        p = sl_slprintf(p, buf + sizeof(buf), "%02x", topic->id[i]);
    }

    p = sl_slprintf(p, buf + sizeof(buf), "\npartitions %d\n",
                    (int) topic->partitions_n);

    ctx.p = p;
    ctx.last = buf + sizeof(buf);
    sl_broker_topic_configs(topic, sl_broker_save_config, &ctx);
    p = ctx.p;

    *sl_slprintf(path, path + sizeof(path) - 1, "%.*s/%.*s%s",
                 SL_STR_ARG(&sl_broker_cf->data_dir),
                 SL_STR_ARG(&topic->name), SL_BROKER_TOPIC_EXT) = '\0';

    if (sl_write_file_atomic(path, buf, p - buf, log) != SL_OK) {
        sl_log_error(SL_LOG_ERR, log, sl_errno, "\"%s\" not written",
                     (char *) path);
        return SL_ERROR;
    }

    return SL_OK;
}


/* every data/<topic>.topic, in the master before the workers exist */

sl_int_t
sl_broker_topics_load(sl_uint_t clean, sl_log_t *log)
{
    DIR            *dir;
    u_char          path[SL_BROKER_PATH_LEN], *p;
    size_t          len, elen;
    struct dirent  *de;

    p = sl_slprintf(path, path + sizeof(path) - 1, "%.*s",
                    SL_STR_ARG(&sl_broker_cf->data_dir));
    *p = '\0';

    dir = opendir((char *) path);
    if (dir == NULL) {
        sl_log_error(SL_LOG_EMERG, log, sl_errno, "opendir \"%s\" failed",
                     (char *) path);
        return SL_ERROR;
    }

    elen = sizeof(SL_BROKER_TOPIC_EXT) - 1;

    while ((de = readdir(dir)) != NULL) {
        len = sl_strlen(de->d_name);

        if (len > elen
            && sl_strcmp(de->d_name + len - elen, SL_BROKER_TOPIC_EXT) == 0)
        {
            *sl_slprintf(p, path + sizeof(path) - 1, "/%s",
                         de->d_name) = '\0';

            if (sl_broker_topic_load(path, clean, log) != SL_OK) {
                closedir(dir);
                return SL_ERROR;
            }

        } else if (len > sizeof(SL_BROKER_DELETE_SUFFIX) - 1
                   && sl_strcmp(de->d_name + len
                                - (sizeof(SL_BROKER_DELETE_SUFFIX) - 1),
                                SL_BROKER_DELETE_SUFFIX) == 0)
        {
            sl_broker_sh->pending_deletes++;
        }
    }

    closedir(dir);

    return SL_OK;
}


static sl_int_t
sl_broker_topic_load(u_char *file, sl_uint_t clean, sl_log_t *log)
{
    u_char                  *p, *last, *line, *eol, *sp;
    u_char                   buf[4096];
    ssize_t                  n;
    sl_fd_t                  fd;
    sl_int_t                 parts, i;
    uint32_t                 overrides;
    sl_str_t                 name, key, value;
    sl_broker_topic_t       *topic;
    sl_broker_topic_conf_t   conf;
    u_char                   id[16];

    fd = sl_open_file(file, O_RDONLY, 0, 0);
    if (fd == SL_INVALID_FILE) {
        sl_log_error(SL_LOG_EMERG, log, sl_errno, "open \"%s\" failed",
                     (char *) file);
        return SL_ERROR;
    }

    n = sl_read_file(fd, buf, sizeof(buf) - 1, 0);
    (void) sl_close_file(fd);

    if (n < 0) {
        return SL_ERROR;
    }

    sl_broker_topic_conf_init(&conf);
    sl_str_null(&name);
    parts = 0;
    sl_memzero(id, 16);

    last = buf + n;

    for (line = buf; line < last; line = eol + 1) {
        eol = sl_strlchr(line, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        if (line == eol || *line == '#') {
            continue;
        }

        sp = sl_strlchr(line, eol, ' ');
        if (sp == NULL) {
            goto invalid;
        }

        key.data = line;
        key.len = sp - line;
        value.data = sp + 1;
        value.len = eol - sp - 1;

        if (sl_str_eq(&key, "name")) {
            name = value;

        } else if (sl_str_eq(&key, "id") && value.len == 32) {
            for (i = 0; i < 16; i++) {
                n = sl_hextoi(value.data + 2 * i, 2);
                if (n < 0) {
                    goto invalid;
                }

                id[i] = (u_char) n;
            }

        } else if (sl_str_eq(&key, "partitions")) {
            parts = sl_atoi(value.data, value.len);

        } else if (sl_str_eq(&key, "config")) {
            p = sl_strlchr(value.data, eol, ' ');
            if (p == NULL) {
                goto invalid;
            }

            key.data = value.data;
            key.len = p - value.data;
            value.data = p + 1;
            value.len = eol - p - 1;

            if (sl_broker_topic_conf_set(&conf, &key, &value)
                != SL_BROKER_OK)
            {
                goto invalid;
            }
        }
    }

    if (!sl_broker_topic_name_valid(&name)
        || parts < 1 || parts > SL_BROKER_MAX_PARTITIONS)
    {
        goto invalid;
    }

    overrides = 0;
    sl_broker_topic_conf_merge(&conf, &sl_broker_cf->topic, &overrides);

    topic = sl_broker_topic_alloc(&name, &conf, overrides);
    if (topic == NULL) {
        sl_log_error(SL_LOG_EMERG, log, 0, "the broker's shared zone is full");
        return SL_ERROR;
    }

    sl_memcpy(topic->id, id, 16);

    if (sl_broker_topic_insert(topic) != SL_OK) {
        return SL_ERROR;
    }

    if (sl_broker_topic_parts(topic, 0, parts, 0, clean, log) != SL_OK) {
        return SL_ERROR;
    }

    return SL_OK;

invalid:

    sl_log_error(SL_LOG_EMERG, log, 0, "invalid topic file \"%s\"",
                 (char *) file);

    return SL_ERROR;
}


/* a random (version 4) UUID, as Kafka's topic ids are */

static void
sl_broker_uuid(u_char *id)
{
    sl_fd_t   fd;
    uint64_t  x;
    sl_uint_t i;

    fd = sl_open_file("/dev/urandom", O_RDONLY, 0, 0);

    if (fd == SL_INVALID_FILE || sl_read_file(fd, id, 16, 0) != 16) {
        x = (uint64_t) sl_broker_wall_ms() ^ ((uint64_t) getpid() << 32);

        for (i = 0; i < 16; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            id[i] = (u_char) (x >> 56);
        }
    }

    if (fd != SL_INVALID_FILE) {
        (void) sl_close_file(fd);
    }

    id[6] = (id[6] & 0x0f) | 0x40;
    id[8] = (id[8] & 0x3f) | 0x80;
}
