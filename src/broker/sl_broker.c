
/*
 * The broker's storage module: the log { } block (defaults of every
 * topic), the shared zone holding the topic registry and partition
 * states, the recovery of every partition in the master before the
 * workers fork, and the background work (flush by interval, retention,
 * compaction, checkpoints) that the log cleaner process alone runs, so
 * that appends in every worker never wait for it.
 *
 *     log {
 *         data_dir                data;
 *         segment_bytes           1g;
 *         segment_ms              7d;
 *         index_interval          4k;
 *         retention               7d;      # or off
 *         retention_bytes         off;     # or a size
 *         cleanup_policy          delete;  # or compact
 *         delete_retention        1d;
 *         flush                   interval 1s;  # always | every N | off
 *         max_record_batch_bytes  1m;
 *         compression             producer;  # none gzip snappy lz4 zstd
 *         compression_level       0;       # the codec's default
 *         zone_size               32m;     # registry and partition states
 *     }
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>
#include <sl_broker_batch.h>


#define SL_BROKER_ZONE_SIZE        (32 * 1024 * 1024)
#define SL_BROKER_TICK             200      /* ms */
#define SL_BROKER_HOUSEKEEP        1000
#define SL_BROKER_CHECKPOINT_MS    2000
#define SL_BROKER_RETENTION_MS     10000
#define SL_BROKER_COMPACT_MS       15000


static void *sl_broker_create_conf(sl_cycle_t *cycle);
static char *sl_broker_init_conf(sl_cycle_t *cycle, void *conf);
static char *sl_broker_block(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_broker_conf_handler(sl_conf_t *cf, sl_command_t *dummy,
    void *conf);
static char *sl_broker_run_command(sl_conf_t *cf, sl_command_t *cmds,
    void *conf);
static char *sl_broker_set_retention(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static char *sl_broker_set_retention_bytes(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static char *sl_broker_set_flush(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static char *sl_broker_set_compression(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static char *sl_broker_set_timestamp(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static sl_int_t sl_broker_init_zone(sl_shm_zone_t *zone, void *data);
static sl_int_t sl_broker_zone_root(sl_slab_pool_t *sp, sl_log_t *log);
static sl_int_t sl_broker_open_all(sl_log_t *log);
static sl_int_t sl_broker_init_module(sl_cycle_t *cycle);
static sl_int_t sl_broker_init_process(sl_cycle_t *cycle);
static void sl_broker_exit_master(sl_cycle_t *cycle);
static void sl_broker_timer_handler(sl_event_t *ev);


sl_broker_shctx_t         *sl_broker_sh;
sl_slab_pool_t            *sl_broker_shpool;
sl_broker_conf_t          *sl_broker_cf;

static sl_event_t          sl_broker_timer;
static int64_t             sl_broker_last_housekeep;


static sl_conf_enum_t  sl_broker_cleanup_policies[] = {
    { sl_string("delete"), SL_BROKER_CLEANUP_DELETE },
    { sl_string("compact"), SL_BROKER_CLEANUP_COMPACT },
    { sl_null_string, 0 }
};


/* the directives of a topic's settings, in log { } and in topic blocks */

static sl_command_t  sl_broker_topic_commands[] = {

    { sl_string("segment_bytes"),
      SL_CONF_TAKE1,
      sl_conf_set_off_slot,
      0,
      offsetof(sl_broker_topic_conf_t, segment_bytes),
      NULL },

    { sl_string("segment_ms"),
      SL_CONF_TAKE1,
      sl_conf_set_msec_slot,
      0,
      offsetof(sl_broker_topic_conf_t, segment_ms),
      NULL },

    { sl_string("index_interval"),
      SL_CONF_TAKE1,
      sl_conf_set_size_slot,
      0,
      offsetof(sl_broker_topic_conf_t, index_interval),
      NULL },

    { sl_string("retention"),
      SL_CONF_TAKE1,
      sl_broker_set_retention,
      0,
      offsetof(sl_broker_topic_conf_t, retention_ms),
      NULL },

    { sl_string("retention_bytes"),
      SL_CONF_TAKE1,
      sl_broker_set_retention_bytes,
      0,
      offsetof(sl_broker_topic_conf_t, retention_bytes),
      NULL },

    { sl_string("cleanup_policy"),
      SL_CONF_TAKE1,
      sl_conf_set_enum_slot,
      0,
      offsetof(sl_broker_topic_conf_t, cleanup_policy),
      &sl_broker_cleanup_policies },

    { sl_string("delete_retention"),
      SL_CONF_TAKE1,
      sl_conf_set_msec_slot,
      0,
      offsetof(sl_broker_topic_conf_t, delete_retention_ms),
      NULL },

    { sl_string("flush"),
      SL_CONF_TAKE12,
      sl_broker_set_flush,
      0,
      0,
      NULL },

    { sl_string("max_record_batch_bytes"),
      SL_CONF_TAKE1,
      sl_conf_set_size_slot,
      0,
      offsetof(sl_broker_topic_conf_t, max_record_batch_bytes),
      NULL },

    { sl_string("compression"),
      SL_CONF_TAKE1,
      sl_broker_set_compression,
      0,
      0,
      NULL },

    { sl_string("compression_level"),
      SL_CONF_TAKE1,
      sl_conf_set_num_slot,
      0,
      offsetof(sl_broker_topic_conf_t, compression_level),
      NULL },

    { sl_string("message_timestamp_type"),
      SL_CONF_TAKE1,
      sl_broker_set_timestamp,
      0,
      0,
      NULL },

      sl_null_command
};


/* the directives of log { } only */

static sl_command_t  sl_broker_log_commands[] = {

    { sl_string("data_dir"),
      SL_CONF_TAKE1,
      sl_conf_set_str_slot,
      0,
      offsetof(sl_broker_conf_t, data_dir),
      NULL },

    { sl_string("zone_size"),
      SL_CONF_TAKE1,
      sl_conf_set_size_slot,
      0,
      offsetof(sl_broker_conf_t, zone_size),
      NULL },

      sl_null_command
};


static sl_command_t  sl_broker_commands[] = {

    { sl_string("log"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_BLOCK|SL_CONF_NOARGS,
      sl_broker_block,
      0,
      0,
      NULL },

      sl_null_command
};


static sl_core_module_t  sl_broker_module_ctx = {
    sl_string("broker"),
    sl_broker_create_conf,
    sl_broker_init_conf
};


sl_module_t  sl_broker_module = {
    SL_MODULE_V1,
    &sl_broker_module_ctx,                 /* module context */
    sl_broker_commands,                    /* module directives */
    SL_CORE_MODULE,                        /* module type */
    NULL,                                  /* init master */
    sl_broker_init_module,                 /* init module */
    sl_broker_init_process,                /* init process */
    NULL,                                  /* exit process */
    sl_broker_exit_master,                 /* exit master */
    SL_MODULE_V1_PADDING
};


static void *
sl_broker_create_conf(sl_cycle_t *cycle)
{
    sl_broker_conf_t  *bcf;

    bcf = sl_pcalloc(cycle->pool, sizeof(sl_broker_conf_t));
    if (bcf == NULL) {
        return NULL;
    }

    bcf->zone_size = SL_CONF_UNSET_SIZE;
    sl_broker_topic_conf_init(&bcf->topic);

    return bcf;
}


/* Kafka's defaults, except flush: interval 1s rather than never */

static sl_broker_topic_conf_t  sl_broker_defaults = {
    1024 * 1024 * 1024,                 /* segment_bytes 1g */
    7 * 24 * 3600 * 1000,               /* segment_ms 7d */
    4096,                               /* index_interval 4k */
    7 * 24 * 3600 * 1000,               /* retention 7d */
    -1,                                 /* retention_bytes: unlimited */
    SL_BROKER_CLEANUP_DELETE,
    24 * 3600 * 1000,                   /* delete_retention 1d */
    SL_BROKER_FLUSH_INTERVAL,
    10000,                              /* flush_every */
    1000,                               /* flush interval 1s */
    1024 * 1024,                        /* max_record_batch_bytes 1m */
    SL_BROKER_CREATE_TIME,
    SL_BROKER_CODEC_PRODUCER,           /* compression: as sent */
    0                                   /* compression_level */
};


static char *
sl_broker_init_conf(sl_cycle_t *cycle, void *conf)
{
    sl_broker_conf_t *bcf = conf;

    sl_conf_t         cf;
    sl_str_t          name;
    sl_shm_zone_t    *zone;
    uint32_t          overrides;

    if (bcf->data_dir.data == NULL) {
        sl_str_set(&bcf->data_dir, "data");
    }

    if (sl_get_full_name(cycle->pool, &cycle->prefix, &bcf->data_dir)
        != SL_OK)
    {
        return SL_CONF_ERROR;
    }

    /* no trailing slash: paths are built as data_dir "/" name */

    while (bcf->data_dir.len > 1
           && bcf->data_dir.data[bcf->data_dir.len - 1] == '/')
    {
        bcf->data_dir.len--;
    }

    sl_conf_init_size_value(bcf->zone_size, SL_BROKER_ZONE_SIZE);

    overrides = 0;
    sl_broker_topic_conf_merge(&bcf->topic, &sl_broker_defaults, &overrides);

    if (bcf->topic.segment_bytes < 14 || bcf->topic.segment_bytes > INT32_MAX)
    {
        sl_log_error(SL_LOG_EMERG, cycle->log, 0,
                     "\"segment_bytes\" must be between 14 and 2g - 1");
        return SL_CONF_ERROR;
    }

    if (bcf->topic.max_record_batch_bytes < SL_BROKER_BATCH_HEADER_SIZE
        || bcf->topic.max_record_batch_bytes > INT32_MAX)
    {
        sl_log_error(SL_LOG_EMERG, cycle->log, 0,
                     "invalid \"max_record_batch_bytes\"");
        return SL_CONF_ERROR;
    }

    sl_memzero(&cf, sizeof(sl_conf_t));
    cf.cycle = cycle;
    cf.pool = cycle->pool;
    cf.log = cycle->log;

    sl_str_set(&name, "sl_broker");

    zone = sl_shared_memory_add(&cf, &name, bcf->zone_size,
                                &sl_broker_module);
    if (zone == NULL) {
        return SL_CONF_ERROR;
    }

    zone->init = sl_broker_init_zone;
    zone->data = bcf;

    return SL_CONF_OK;
}


static char *
sl_broker_block(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char       *rv;
    sl_conf_t   save;

    save = *cf;

    cf->handler = sl_broker_conf_handler;
    cf->handler_conf = conf;

    rv = sl_conf_parse(cf, NULL);

    *cf = save;

    return rv;
}


static char *
sl_broker_conf_handler(sl_conf_t *cf, sl_command_t *dummy, void *conf)
{
    char              *rv;
    sl_broker_conf_t  *bcf = conf;

    rv = sl_broker_run_command(cf, sl_broker_log_commands, bcf);

    if (rv != (char *) SL_DECLINED) {
        return rv;
    }

    return sl_broker_topic_conf_handler(cf, dummy, &bcf->topic);
}


char *
sl_broker_topic_conf_handler(sl_conf_t *cf, sl_command_t *dummy, void *conf)
{
    char      *rv;
    sl_str_t  *name;

    rv = sl_broker_run_command(cf, sl_broker_topic_commands, conf);

    if (rv != (char *) SL_DECLINED) {
        return rv;
    }

    name = cf->args->elts;

    sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unknown directive \"%.*s\"",
                      SL_STR_ARG(&name[0]));

    return SL_CONF_ERROR;
}


/* (char *) SL_DECLINED when the directive is not in cmds */

static char *
sl_broker_run_command(sl_conf_t *cf, sl_command_t *cmds, void *conf)
{
    char          *rv;
    sl_str_t      *name;
    sl_uint_t      argn;
    sl_command_t  *cmd;

    name = cf->args->elts;
    argn = cf->args->nelts - 1;

    for (cmd = cmds; cmd->name.len; cmd++) {

        if (cmd->name.len != name[0].len
            || sl_memcmp(cmd->name.data, name[0].data, name[0].len) != 0)
        {
            continue;
        }

        if (argn > 7 || !(cmd->type & (SL_CONF_NOARGS << argn))) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "invalid number of arguments in \"%.*s\" "
                              "directive", SL_STR_ARG(&name[0]));
            return SL_CONF_ERROR;
        }

        rv = cmd->set(cf, cmd, conf);

        if (rv == SL_CONF_OK || rv == SL_CONF_ERROR) {
            return rv;
        }

        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "\"%.*s\" directive %s",
                          SL_STR_ARG(&name[0]), rv);

        return SL_CONF_ERROR;
    }

    return (char *) SL_DECLINED;
}


/* retention TIME | off */

static char *
sl_broker_set_retention(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_broker_topic_conf_t *tcf = conf;

    sl_int_t   ms;
    sl_str_t  *value;

    if (tcf->retention_ms != SL_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (sl_str_eq(&value[1], "off") || sl_str_eq(&value[1], "-1")) {
        tcf->retention_ms = (sl_msec_t) SL_BROKER_CONF_FOREVER;
        return SL_CONF_OK;
    }

    ms = sl_parse_time(&value[1], 0);
    if (ms == SL_ERROR) {
        return "has an invalid value";
    }

    tcf->retention_ms = (sl_msec_t) ms;

    return SL_CONF_OK;
}


/* retention_bytes SIZE | off */

static char *
sl_broker_set_retention_bytes(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_broker_topic_conf_t *tcf = conf;

    off_t      size;
    sl_str_t  *value;

    if (tcf->retention_bytes != SL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (sl_str_eq(&value[1], "off") || sl_str_eq(&value[1], "-1")) {
        tcf->retention_bytes = SL_BROKER_CONF_FOREVER;
        return SL_CONF_OK;
    }

    size = sl_parse_offset(&value[1]);
    if (size == SL_ERROR) {
        return "has an invalid value";
    }

    tcf->retention_bytes = size;

    return SL_CONF_OK;
}


/* flush interval TIME | every N | always | off */

static char *
sl_broker_set_flush(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_broker_topic_conf_t *tcf = conf;

    sl_int_t   n;
    sl_str_t  *value;

    if (tcf->flush != SL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2) {
        if (sl_str_eq(&value[1], "always")) {
            tcf->flush = SL_BROKER_FLUSH_ALWAYS;
            return SL_CONF_OK;
        }

        if (sl_str_eq(&value[1], "off")) {
            tcf->flush = SL_BROKER_FLUSH_OFF;
            return SL_CONF_OK;
        }

        return "takes \"always\", \"off\", \"interval TIME\" "
               "or \"every N\"";
    }

    if (sl_str_eq(&value[1], "interval")) {
        n = sl_parse_time(&value[2], 0);
        if (n == SL_ERROR || n == 0) {
            return "has an invalid interval";
        }

        tcf->flush = SL_BROKER_FLUSH_INTERVAL;
        tcf->flush_interval = (sl_msec_t) n;
        return SL_CONF_OK;
    }

    if (sl_str_eq(&value[1], "every")) {
        n = sl_atoi(value[2].data, value[2].len);
        if (n == SL_ERROR || n == 0) {
            return "has an invalid count";
        }

        tcf->flush = (n == 1) ? SL_BROKER_FLUSH_ALWAYS : SL_BROKER_FLUSH_EVERY;
        tcf->flush_every = n;
        return SL_CONF_OK;
    }

    return "takes \"always\", \"off\", \"interval TIME\" or \"every N\"";
}


/* compression producer | none | gzip | snappy | lz4 | zstd */

static char *
sl_broker_set_compression(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_broker_topic_conf_t *tcf = conf;

    sl_int_t   codec;
    sl_str_t  *value;

    if (tcf->compression_type != SL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (sl_str_eq(&value[1], "producer")) {
        tcf->compression_type = SL_BROKER_CODEC_PRODUCER;
        return SL_CONF_OK;
    }

    codec = sl_broker_codec_by_name(value[1].data, value[1].len);

    if (codec == SL_ERROR) {
        return "takes \"producer\", \"none\", \"gzip\", \"snappy\", \"lz4\" "
               "or \"zstd\"";
    }

    if (!sl_broker_codec_available((sl_uint_t) codec)) {
        return "needs the compress module";
    }

    tcf->compression_type = codec;

    return SL_CONF_OK;
}


/* message_timestamp_type create | append */

static char *
sl_broker_set_timestamp(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_broker_topic_conf_t *tcf = conf;

    sl_str_t  *value;

    if (tcf->message_timestamp_type != SL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (sl_str_eq(&value[1], "create")) {
        tcf->message_timestamp_type = SL_BROKER_CREATE_TIME;

    } else if (sl_str_eq(&value[1], "append")) {
        tcf->message_timestamp_type = SL_BROKER_LOG_APPEND_TIME;

    } else {
        return "takes \"create\" or \"append\"";
    }

    return SL_CONF_OK;
}


sl_broker_conf_t *
sl_broker_get_conf(void)
{
    return sl_broker_cf;
}


/*
 * The zone survives reloads (same name and size): its registry and
 * partition states carry over, and nothing is recovered again.
 */

static sl_int_t
sl_broker_init_zone(sl_shm_zone_t *zone, void *data)
{
    sl_slab_pool_t  *sp;

    sp = (sl_slab_pool_t *) zone->shm.addr;

    sl_broker_shpool = sp;
    sl_broker_cf = zone->data;

    if (data && sp->data) {
        sl_broker_sh = sp->data;
        return SL_OK;
    }

    if (zone->shm.exists && sp->data) {
        sl_broker_sh = sp->data;
        return SL_OK;
    }

    return sl_broker_zone_root(sp, zone->shm.log);
}


static sl_int_t
sl_broker_zone_root(sl_slab_pool_t *sp, sl_log_t *log)
{
    sl_broker_sh = sl_slab_calloc(sp, sizeof(sl_broker_shctx_t));
    if (sl_broker_sh == NULL) {
        sl_log_error(SL_LOG_EMERG, log, 0, "the broker's zone is too small");
        return SL_ERROR;
    }

    if (sl_shmtx_create(&sl_broker_sh->lock) != SL_OK
        || sl_shmtx_create(&sl_broker_sh->slots_lock) != SL_OK)
    {
        return SL_ERROR;
    }

    sp->data = sl_broker_sh;

    return SL_OK;
}


sl_int_t
sl_broker_init_storage(sl_broker_conf_t *conf, sl_log_t *log)
{
    u_char           *p;
    sl_slab_pool_t   *sp;

    static sl_shm_t   shm;

    sl_broker_cf = conf;

    if (conf->zone_size == SL_CONF_UNSET_SIZE || conf->zone_size == 0) {
        conf->zone_size = SL_BROKER_ZONE_SIZE;
    }

    /* a previous instance in this process (tests) is forgotten */

    sl_broker_local_drop_all();
    sl_broker_linger_reap(1);

    if (shm.addr) {
        sl_shm_free(&shm);
    }

    sl_memzero(&shm, sizeof(sl_shm_t));
    shm.size = conf->zone_size;
    sl_str_set(&shm.name, "sl_broker");
    shm.log = log;

    if (sl_shm_alloc(&shm) != SL_OK) {
        return SL_ERROR;
    }

    sp = sl_slab_create(shm.addr, shm.size);
    if (sp == NULL) {
        return SL_ERROR;
    }

    sl_broker_shpool = sp;

    if (sl_broker_zone_root(sp, log) != SL_OK) {
        return SL_ERROR;
    }

    p = conf->data_dir.data;

    if (sl_create_full_path(p, 0755) != SL_OK) {
        sl_log_error(SL_LOG_EMERG, log, sl_errno, "mkdir \"%s\" failed", p);
        return SL_ERROR;
    }

    return sl_broker_open_all(log);
}


/* recovery of every topic, once per zone */

static sl_int_t
sl_broker_open_all(sl_log_t *log)
{
    u_char       path[SL_BROKER_PATH_LEN], *p;
    sl_uint_t    clean;
    struct stat  st;

    p = sl_slprintf(path, path + sizeof(path) - 1, "%.*s/%s",
                    SL_STR_ARG(&sl_broker_cf->data_dir),
                    SL_BROKER_CLEAN_SHUTDOWN);
    *p = '\0';

    clean = (stat((char *) path, &st) == 0);

    if (sl_broker_topics_load(clean, log) != SL_OK) {
        return SL_ERROR;
    }

    /* from now on, until a clean shutdown, the checkpoints are all */

    if (clean) {
        (void) sl_delete_file(path);

        p = sl_slprintf(path, path + sizeof(path) - 1, "%.*s",
                        SL_STR_ARG(&sl_broker_cf->data_dir));
        *p = '\0';
        (void) sl_fsync_dir(path);
    }

    sl_log_error(SL_LOG_NOTICE, log, 0, "log: %d topics opened%s",
                 (int) sl_broker_sh->ntopics,
                 clean ? " after a clean shutdown" : "");

    return SL_OK;
}


static sl_int_t
sl_broker_init_module(sl_cycle_t *cycle)
{
    sl_broker_conf_t  *bcf;

    bcf = (sl_broker_conf_t *) sl_get_conf(cycle->conf_ctx,
                                           sl_broker_module);
    sl_broker_cf = bcf;

    if (sl_broker_sh == NULL) {
        sl_log_error(SL_LOG_EMERG, cycle->log, 0,
                     "the broker's shared zone is missing");
        return SL_ERROR;
    }

    if (sl_broker_sh->background_pid != 0) {
        /* a reload: the zone and everything in it carried over */
        return SL_OK;
    }

    if (sl_create_full_path(bcf->data_dir.data, 0755) != SL_OK) {
        sl_log_error(SL_LOG_EMERG, cycle->log, sl_errno,
                     "mkdir \"%s\" failed", bcf->data_dir.data);
        return SL_ERROR;
    }

    if (sl_broker_open_all(cycle->log) != SL_OK) {
        return SL_ERROR;
    }

    sl_broker_sh->background_pid = -1;

    return SL_OK;
}


static sl_int_t
sl_broker_init_process(sl_cycle_t *cycle)
{
    sl_broker_timer.handler = sl_broker_timer_handler;
    sl_broker_timer.log = cycle->log;
    sl_broker_timer.data = cycle;
    sl_broker_timer.cancelable = 1;

    sl_add_timer(&sl_broker_timer, SL_BROKER_TICK);

    return SL_OK;
}


/*
 * Every process forgets deleted partitions and closes lingering files;
 * the log cleaner process (or the one process) also does the log's
 * background work, so that no worker's clients wait for a compaction.
 */

static void
sl_broker_timer_handler(sl_event_t *ev)
{
    int64_t  now;

    if (sl_exiting) {
        return;
    }

    now = sl_broker_mono_ms();

    if (now - sl_broker_last_housekeep >= SL_BROKER_HOUSEKEEP) {
        sl_broker_last_housekeep = now;
        sl_broker_local_drop(NULL);
        sl_broker_linger_reap(0);
    }

    if (sl_process != SL_PROCESS_WORKER) {
        sl_broker_background(sl_broker_wall_ms(), 0, ev->log);
    }

    sl_add_timer(ev, SL_BROKER_TICK);
}


void
sl_broker_background(int64_t now, sl_uint_t force, sl_log_t *log)
{
    int64_t                  mono;
    sl_int_t                 i;
    sl_broker_topic_t       *topic;
    sl_broker_plog_t        *pl;
    sl_broker_partition_t   *part;
    sl_broker_topic_conf_t  *conf;

    if (sl_broker_sh == NULL) {
        return;
    }

    sl_broker_sh->background_pid = getpid();

    mono = sl_broker_mono_ms();

    for (topic = sl_broker_topic_next(NULL);
         topic;
         topic = sl_broker_topic_next(topic))
    {
        conf = &topic->conf;

        for (i = 0; i < topic->partitions_n; i++) {
            part = sl_broker_partition(topic, i);
            if (part == NULL) {
                break;
            }

            pl = part->data;

            if (pl->deleted) {
                continue;
            }

            /* by interval, and anything rolled since the last flush */

            if ((pl->unflushed > 0
                 && (force
                     || (conf->flush == SL_BROKER_FLUSH_INTERVAL
                         && mono - pl->last_flush_ms
                            >= (int64_t) conf->flush_interval)))
                || pl->rp_base < sl_broker_tail(pl)->seg_base)
            {
                (void) sl_broker_log_flush(part, log);
            }

            if ((part->recovery_point != pl->cp_offset
                 || part->log_start_offset != pl->cp_start)
                && (force
                    || mono - pl->last_clean_ms >= SL_BROKER_CHECKPOINT_MS))
            {
                (void) sl_broker_checkpoint_write(part, 0, log);
                pl->last_clean_ms = mono;
            }

            if (force || mono - pl->last_retention_ms
                         >= SL_BROKER_RETENTION_MS)
            {
                pl->last_retention_ms = mono;

                if (conf->cleanup_policy == SL_BROKER_CLEANUP_COMPACT) {
                    (void) sl_broker_log_compact(part, now, log);

                } else {
                    (void) sl_broker_log_retention(part, now, log);
                }
            }
        }
    }

    sl_broker_deferred(now, log);
    sl_broker_linger_reap(0);
}


void
sl_broker_shutdown(sl_log_t *log)
{
    u_char                  path[SL_BROKER_PATH_LEN], *p;
    sl_int_t                i;
    sl_uint_t               ok;
    sl_broker_topic_t      *topic;
    sl_broker_partition_t  *part;

    if (sl_broker_sh == NULL) {
        return;
    }

    ok = 1;

    for (topic = sl_broker_topic_next(NULL);
         topic;
         topic = sl_broker_topic_next(topic))
    {
        for (i = 0; i < topic->partitions_n; i++) {
            part = sl_broker_partition(topic, i);

            if (part && sl_broker_part_close(part, log) != SL_OK) {
                ok = 0;
            }
        }
    }

    if (!ok) {
        sl_log_error(SL_LOG_ALERT, log, 0,
                     "log: not shut down cleanly, the next start recovers");
        return;
    }

    p = sl_slprintf(path, path + sizeof(path) - 1, "%.*s/%s",
                    SL_STR_ARG(&sl_broker_cf->data_dir),
                    SL_BROKER_CLEAN_SHUTDOWN);
    *p = '\0';

    (void) sl_write_file_atomic(path, (u_char *) "", 0, log);
}


static void
sl_broker_exit_master(sl_cycle_t *cycle)
{
    sl_broker_shutdown(cycle->log);
}


void *
sl_broker_shalloc(size_t size)
{
    return sl_slab_alloc(sl_broker_shpool, size);
}


void
sl_broker_shfree(void *p)
{
    sl_slab_free(sl_broker_shpool, p);
}


/* frees p once every process has moved past it */

void
sl_broker_shfree_later(void *p)
{
    sl_broker_free_t  *f;

    f = sl_broker_shalloc(sizeof(sl_broker_free_t));

    if (f == NULL) {
        /* leaked rather than freed under a reader */
        return;
    }

    f->p = p;
    f->after_ms = sl_broker_mono_ms() + SL_BROKER_LINGER_MS;

    (void) sl_shmtx_lock(&sl_broker_sh->slots_lock);
    f->next = sl_broker_sh->free_later;
    sl_broker_sh->free_later = f;
    sl_shmtx_unlock(&sl_broker_sh->slots_lock);
}
