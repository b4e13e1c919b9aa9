
/*
 * The cycle: one generation of configuration and all that is built from
 * it.  sl_init_cycle() reads the file into a brand-new cycle and commits
 * it only when everything succeeded; on a failure the new cycle is freed
 * and the caller keeps running on the old one.  Shared memory zones and
 * listening sockets that the new configuration still wants are carried
 * over, so a reload neither loses shared state nor refuses connections.
 *
 * The core module (the directives of the main context) lives here too,
 * with the shared memory zone of the sl_stat counters.
 */


#include <sl_config.h>
#include <sl_core.h>


#define SL_STAT_ZONE_SIZE  (64 * 1024)


static void sl_destroy_cycle_pools(sl_conf_t *conf);
static sl_int_t sl_open_cycle_files(sl_cycle_t *cycle, sl_log_t *log);
static sl_int_t sl_create_shared_memory(sl_cycle_t *cycle,
    sl_cycle_t *old_cycle);
static sl_shm_zone_t *sl_find_shm_zone(sl_list_t *zones, sl_shm_zone_t *zone,
    sl_uint_t reusable);
static void sl_free_shared_memory(sl_list_t *zones, sl_list_t *keep);
static sl_int_t sl_init_zone_pool(sl_cycle_t *cycle, sl_shm_zone_t *zone);
static void sl_close_cycle_files(sl_cycle_t *cycle, sl_log_t *log);
static sl_int_t sl_call_init_master(sl_cycle_t *cycle);
static void sl_shutdown_timer_handler(sl_event_t *ev);

static void *sl_core_module_create_conf(sl_cycle_t *cycle);
static char *sl_core_module_init_conf(sl_cycle_t *cycle, void *conf);
static char *sl_set_worker_processes(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static sl_int_t sl_stat_init_zone(sl_shm_zone_t *zone, void *data);


volatile sl_cycle_t  *sl_cycle;
sl_array_t            sl_old_cycles;

sl_uint_t             sl_test_config;
sl_uint_t             sl_dump_config;
sl_uint_t             sl_quiet_mode;

sl_stat_t            *sl_stat;

static sl_event_t     sl_shutdown_event;


static sl_command_t  sl_core_commands[] = {

    { sl_string("daemon"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_FLAG,
      sl_conf_set_flag_slot,
      0,
      offsetof(sl_core_conf_t, daemon),
      NULL },

    { sl_string("master_process"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_FLAG,
      sl_conf_set_flag_slot,
      0,
      offsetof(sl_core_conf_t, master),
      NULL },

    { sl_string("worker_processes"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_TAKE1,
      sl_set_worker_processes,
      0,
      0,
      NULL },

    { sl_string("pid"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_TAKE1,
      sl_conf_set_str_slot,
      0,
      offsetof(sl_core_conf_t, pid),
      NULL },

    { sl_string("worker_rlimit_nofile"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_TAKE1,
      sl_conf_set_num_slot,
      0,
      offsetof(sl_core_conf_t, rlimit_nofile),
      NULL },

    { sl_string("working_directory"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_TAKE1,
      sl_conf_set_str_slot,
      0,
      offsetof(sl_core_conf_t, working_directory),
      NULL },

    { sl_string("shutdown_timeout"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_TAKE1,
      sl_conf_set_msec_slot,
      0,
      offsetof(sl_core_conf_t, shutdown_timeout),
      NULL },

    { sl_string("load_module"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_TAKE1,
      sl_load_module,
      0,
      0,
      NULL },

      sl_null_command
};


static sl_core_module_t  sl_core_module_ctx = {
    sl_string("core"),
    sl_core_module_create_conf,
    sl_core_module_init_conf
};


sl_module_t  sl_core_module = {
    SL_MODULE_V1,
    &sl_core_module_ctx,                   /* module context */
    sl_core_commands,                      /* module directives */
    SL_CORE_MODULE,                        /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


sl_cycle_t *
sl_init_cycle(sl_cycle_t *old_cycle)
{
    void               *rv;
    sl_uint_t           i, n;
    sl_log_t           *log;
    sl_conf_t           conf;
    sl_pool_t          *pool;
    sl_cycle_t         *cycle;
    sl_listening_t     *ls;
    sl_list_part_t     *part;
    sl_core_conf_t     *ccf, *old_ccf;
    sl_core_module_t   *module;
    char                hostname[256];

    sl_time_update();

    log = old_cycle->log;

    pool = sl_create_pool(SL_CYCLE_POOL_SIZE, log);
    if (pool == NULL) {
        return NULL;
    }

    pool->log = log;

    cycle = sl_pcalloc(pool, sizeof(sl_cycle_t));
    if (cycle == NULL) {
        sl_destroy_pool(pool);
        return NULL;
    }

    cycle->pool = pool;
    cycle->log = log;
    cycle->old_cycle = old_cycle;
    cycle->log_use_stderr = old_cycle->log_use_stderr;

    /* NUL-terminated copies: these names go to open() */

    cycle->conf_prefix.data = (u_char *) sl_pstrz(pool,
                                                  &old_cycle->conf_prefix);
    cycle->prefix.data = (u_char *) sl_pstrz(pool, &old_cycle->prefix);
    cycle->error_log.data = (u_char *) sl_pstrz(pool, &old_cycle->error_log);
    cycle->conf_file.data = (u_char *) sl_pstrz(pool, &old_cycle->conf_file);
    cycle->conf_param.data = (u_char *) sl_pstrz(pool,
                                                 &old_cycle->conf_param);

    if (cycle->conf_prefix.data == NULL
        || cycle->prefix.data == NULL
        || cycle->error_log.data == NULL
        || cycle->conf_file.data == NULL
        || cycle->conf_param.data == NULL)
    {
        sl_destroy_pool(pool);
        return NULL;
    }

    cycle->conf_prefix.len = old_cycle->conf_prefix.len;
    cycle->prefix.len = old_cycle->prefix.len;
    cycle->error_log.len = old_cycle->error_log.len;
    cycle->conf_file.len = old_cycle->conf_file.len;
    cycle->conf_param.len = old_cycle->conf_param.len;

    n = old_cycle->paths.nelts ? old_cycle->paths.nelts : 10;

    if (sl_array_init(&cycle->paths, pool, n, sizeof(void *)) != SL_OK) {
        sl_destroy_pool(pool);
        return NULL;
    }

    n = 20;
    for (part = &old_cycle->open_files.part; part; part = part->next) {
        n += part->nelts;
    }

    if (sl_list_init(&cycle->open_files, pool, n, sizeof(sl_open_file_t))
        != SL_OK)
    {
        sl_destroy_pool(pool);
        return NULL;
    }

    n = 4;
    for (part = &old_cycle->shared_memory.part; part; part = part->next) {
        n += part->nelts;
    }

    if (sl_list_init(&cycle->shared_memory, pool, n, sizeof(sl_shm_zone_t))
        != SL_OK)
    {
        sl_destroy_pool(pool);
        return NULL;
    }

    n = old_cycle->listening.nelts ? old_cycle->listening.nelts : 10;

    if (sl_array_init(&cycle->listening, pool, n, sizeof(sl_listening_t))
        != SL_OK)
    {
        sl_destroy_pool(pool);
        return NULL;
    }

    sl_memzero(cycle->listening.elts, n * sizeof(sl_listening_t));

    sl_queue_init(&cycle->reusable_connections_queue);

    cycle->conf_ctx = sl_pcalloc(pool, sl_max_module * sizeof(void *));
    if (cycle->conf_ctx == NULL) {
        sl_destroy_pool(pool);
        return NULL;
    }

    if (gethostname(hostname, sizeof(hostname)) == -1) {
        sl_log_error(SL_LOG_EMERG, log, sl_errno, "gethostname() failed");
        sl_destroy_pool(pool);
        return NULL;
    }

    hostname[sizeof(hostname) - 1] = '\0';
    cycle->hostname.len = sl_strlen(hostname);

    cycle->hostname.data = sl_pnalloc(pool, cycle->hostname.len);
    if (cycle->hostname.data == NULL) {
        sl_destroy_pool(pool);
        return NULL;
    }

    sl_strlow(cycle->hostname.data, (u_char *) hostname, cycle->hostname.len);

    if (sl_cycle_modules(cycle) != SL_OK) {
        sl_destroy_pool(pool);
        return NULL;
    }

    for (i = 0; cycle->modules[i]; i++) {
        if (cycle->modules[i]->type != SL_CORE_MODULE) {
            continue;
        }

        module = cycle->modules[i]->ctx;

        if (module->create_conf) {
            rv = module->create_conf(cycle);
            if (rv == NULL) {
                sl_destroy_pool(pool);
                return NULL;
            }

            cycle->conf_ctx[cycle->modules[i]->index] = rv;
        }
    }

    sl_memzero(&conf, sizeof(sl_conf_t));

    conf.args = sl_array_create(pool, 10, sizeof(sl_str_t));
    if (conf.args == NULL) {
        sl_destroy_pool(pool);
        return NULL;
    }

    conf.temp_pool = sl_create_pool(SL_CYCLE_POOL_SIZE, log);
    if (conf.temp_pool == NULL) {
        sl_destroy_pool(pool);
        return NULL;
    }

    conf.ctx = cycle->conf_ctx;
    conf.cycle = cycle;
    conf.pool = pool;
    conf.log = log;
    conf.module_type = SL_CORE_MODULE;
    conf.cmd_type = SL_MAIN_CONF;

    /* -g directives first, so that the file cannot set them again */

    if (sl_conf_param(&conf) != SL_CONF_OK) {
        sl_destroy_cycle_pools(&conf);
        return NULL;
    }

    if (sl_conf_parse(&conf, &cycle->conf_file) != SL_CONF_OK) {
        sl_destroy_cycle_pools(&conf);
        return NULL;
    }

    if (sl_test_config && !sl_quiet_mode) {
        sl_log_stderr(0, "the configuration file %s syntax is ok",
                      cycle->conf_file.data);
    }

    for (i = 0; cycle->modules[i]; i++) {
        if (cycle->modules[i]->type != SL_CORE_MODULE) {
            continue;
        }

        module = cycle->modules[i]->ctx;

        if (module->init_conf) {
            if (module->init_conf(cycle,
                                  cycle->conf_ctx[cycle->modules[i]->index])
                == SL_CONF_ERROR)
            {
                sl_destroy_cycle_pools(&conf);
                return NULL;
            }
        }
    }

    /*
     * -t and -s stop here: nothing is opened, bound or created, so that
     * testing a configuration never disturbs a running broker.
     */

    if (sl_process == SL_PROCESS_SIGNALLER || sl_test_config) {
        sl_destroy_pool(conf.temp_pool);
        return cycle;
    }

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    if (!sl_is_init_cycle(old_cycle)) {

        /* the first pid file is written by main(), after daemonising */

        old_ccf = (sl_core_conf_t *) sl_get_conf(old_cycle->conf_ctx,
                                                 sl_core_module);

        if (ccf->pid.len != old_ccf->pid.len
            || sl_strcmp(ccf->pid.data, old_ccf->pid.data) != 0)
        {
            if (sl_create_pidfile(&ccf->pid, log) != SL_OK) {
                goto failed;
            }

            sl_delete_pidfile(old_cycle);
        }
    }

    if (sl_log_open_default(cycle) != SL_OK) {
        goto failed;
    }

    if (sl_open_cycle_files(cycle, log) != SL_OK) {
        goto failed;
    }

    if (cycle->new_log.file != NULL) {
        cycle->log = &cycle->new_log;
        pool->log = &cycle->new_log;
    }

    if (sl_create_shared_memory(cycle, old_cycle) != SL_OK) {
        goto failed;
    }

    if (sl_is_init_cycle(old_cycle) && sl_call_init_master(cycle) != SL_OK) {
        goto failed;
    }

    /* listening sockets: take the old cycle's fds, bind only new ones */

    if (sl_inherit_listening(cycle, old_cycle) != SL_OK) {
        goto failed;
    }

    if (sl_open_listening_sockets(cycle) != SL_OK) {
        goto failed;
    }

    sl_configure_listening_sockets(cycle);

    if (sl_init_modules(cycle) != SL_OK) {
        goto failed;
    }

    /* commit: from here on the new cycle is the one */

    /* the first cycle's stderr is redirected by main(), after daemon() */
    if (!sl_use_stderr) {
        (void) sl_log_redirect_stderr(cycle);
    }

    pool->log = cycle->log;

    if (!sl_is_init_cycle(old_cycle)) {
        sl_free_shared_memory(&old_cycle->shared_memory,
                              &cycle->shared_memory);

        ls = old_cycle->listening.elts;
        for (i = 0; i < old_cycle->listening.nelts; i++) {

            if (ls[i].remain || ls[i].fd == (sl_socket_t) -1) {
                continue;
            }

            if (sl_close_socket(ls[i].fd) == -1) {
                sl_log_error(SL_LOG_EMERG, log, sl_socket_errno,
                             "close() of listening socket %.*s failed",
                             SL_STR_ARG(&ls[i].addr_text));
            }

            ls[i].fd = (sl_socket_t) -1;
        }

        sl_close_cycle_files(old_cycle, cycle->log);
    }

    /* the old cycle's memory goes below */
    ls = cycle->listening.elts;
    for (i = 0; i < cycle->listening.nelts; i++) {
        ls[i].previous = NULL;
    }

    sl_destroy_pool(conf.temp_pool);

    /*
     * Only the master (and the single process, before its loop) builds
     * cycles, and workers hold copies of their own: the old one can go.
     */

    if (!sl_is_init_cycle(old_cycle)) {
        sl_destroy_pool(old_cycle->pool);
    }

    cycle->old_cycle = NULL;

    return cycle;

failed:

    /* roll back: the old cycle stays exactly as it was */

    sl_close_cycle_files(cycle, log);

    sl_free_shared_memory(&cycle->shared_memory, &old_cycle->shared_memory);

    ls = cycle->listening.elts;
    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd == (sl_socket_t) -1 || !ls[i].open) {
            continue;
        }

        if (sl_close_socket(ls[i].fd) == -1) {
            sl_log_error(SL_LOG_EMERG, log, sl_socket_errno,
                         "close() %.*s failed", SL_STR_ARG(&ls[i].addr_text));
        }
    }

    if (cycle->log != log && cycle->new_log.file != NULL) {
        /* messages of the failure went to the new log; say it in the old */
        sl_log_error(SL_LOG_EMERG, log, 0,
                     "the new configuration could not be applied, "
                     "see the messages above");
    }

    sl_destroy_cycle_pools(&conf);

    return NULL;
}


static void
sl_destroy_cycle_pools(sl_conf_t *conf)
{
    sl_destroy_pool(conf->temp_pool);
    sl_destroy_pool(conf->pool);
}


/* opens the files that the configuration named and nobody opened yet */

static sl_int_t
sl_open_cycle_files(sl_cycle_t *cycle, sl_log_t *log)
{
    sl_uint_t         i;
    sl_list_part_t   *part;
    sl_open_file_t   *file;

    part = &cycle->open_files.part;
    file = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            file = part->elts;
            i = 0;
        }

        if (file[i].name.len == 0 || file[i].fd != SL_INVALID_FILE) {
            continue;
        }

        file[i].fd = sl_open_file(file[i].name.data, O_WRONLY|O_APPEND,
                                  O_CREAT, 0644);

        if (file[i].fd == SL_INVALID_FILE) {
            sl_log_error(SL_LOG_EMERG, log, sl_errno,
                         "open() \"%s\" failed", file[i].name.data);
            return SL_ERROR;
        }
    }

    return SL_OK;
}


static void
sl_close_cycle_files(sl_cycle_t *cycle, sl_log_t *log)
{
    sl_uint_t         i;
    sl_list_part_t   *part;
    sl_open_file_t   *file;

    part = &cycle->open_files.part;
    file = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            file = part->elts;
            i = 0;
        }

        if (file[i].fd == SL_INVALID_FILE || file[i].fd <= STDERR_FILENO) {
            continue;
        }

        if (sl_close_file(file[i].fd) == -1) {
            sl_log_error(SL_LOG_EMERG, log, sl_errno,
                         "close() \"%s\" failed", file[i].name.data);
        }

        file[i].fd = SL_INVALID_FILE;
    }
}


/*
 * A zone of the same name, owner (tag) and size as one of the old cycle
 * keeps its memory: init() gets the old zone's data and can reuse it.
 * Otherwise new memory is mapped, with a slab pool at its start.
 */

static sl_int_t
sl_create_shared_memory(sl_cycle_t *cycle, sl_cycle_t *old_cycle)
{
    void             *data;
    sl_uint_t         i;
    sl_list_part_t   *part;
    sl_shm_zone_t    *zone, *old;

    part = &cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].shm.size == 0) {
            sl_log_error(SL_LOG_EMERG, cycle->log, 0,
                         "zero size shared memory zone \"%.*s\"",
                         SL_STR_ARG(&zone[i].shm.name));
            return SL_ERROR;
        }

        if (zone[i].init == NULL) {
            /* named by a directive, but no module owns it: no memory */
            continue;
        }

        zone[i].shm.log = cycle->log;

        data = NULL;

        old = sl_find_shm_zone(&old_cycle->shared_memory, &zone[i], 0);

        if (old != NULL && old->tag == zone[i].tag) {

            if (zone[i].noreuse) {
                /* new memory, but the owner may carry state over */
                data = old->data;

            } else if (old->shm.size == zone[i].shm.size) {
                zone[i].shm.addr = old->shm.addr;
                zone[i].shm.exists = 1;

                if (zone[i].init(&zone[i], old->data) != SL_OK) {
                    return SL_ERROR;
                }

                continue;
            }
        }

        if (sl_shm_alloc(&zone[i].shm) != SL_OK) {
            return SL_ERROR;
        }

        zone[i].shm.exists = 0;

        if (sl_init_zone_pool(cycle, &zone[i]) != SL_OK) {
            return SL_ERROR;
        }

        if (zone[i].init(&zone[i], data) != SL_OK) {
            return SL_ERROR;
        }
    }

    return SL_OK;
}


/*
 * Finds in zones the one with zone's name; when reusable is set, only
 * if it also has the same owner and size and may be reused.
 */

static sl_shm_zone_t *
sl_find_shm_zone(sl_list_t *zones, sl_shm_zone_t *zone, sl_uint_t reusable)
{
    sl_uint_t         i;
    sl_list_part_t   *part;
    sl_shm_zone_t    *z;

    if (zones->part.elts == NULL) {
        return NULL;
    }

    part = &zones->part;
    z = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            z = part->elts;
            i = 0;
        }

        if (z[i].shm.name.len != zone->shm.name.len
            || sl_memcmp(z[i].shm.name.data, zone->shm.name.data,
                         zone->shm.name.len) != 0)
        {
            continue;
        }

        if (!reusable) {
            return &z[i];
        }

        if (z[i].tag == zone->tag
            && z[i].shm.size == zone->shm.size
            && !z[i].noreuse
            && !zone->noreuse)
        {
            return &z[i];
        }

        return NULL;
    }
}


/* unmaps the zones of `zones` whose memory `keep` did not take over */

static void
sl_free_shared_memory(sl_list_t *zones, sl_list_t *keep)
{
    sl_uint_t         i;
    sl_list_part_t   *part;
    sl_shm_zone_t    *zone, *kept;

    if (zones->part.elts == NULL) {
        return;
    }

    part = &zones->part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].shm.addr == NULL) {
            continue;
        }

        kept = sl_find_shm_zone(keep, &zone[i], 1);

        if (kept != NULL && kept->shm.addr == zone[i].shm.addr) {
            continue;
        }

        sl_shm_free(&zone[i].shm);
        zone[i].shm.addr = NULL;
    }
}


static sl_int_t
sl_init_zone_pool(sl_cycle_t *cycle, sl_shm_zone_t *zone)
{
    if (sl_slab_create(zone->shm.addr, zone->shm.size) == NULL) {
        sl_log_error(SL_LOG_EMERG, cycle->log, 0,
                     "the lock of shared memory zone \"%.*s\" failed",
                     SL_STR_ARG(&zone->shm.name));
        return SL_ERROR;
    }

    return SL_OK;
}


static sl_int_t
sl_call_init_master(sl_cycle_t *cycle)
{
    sl_uint_t  i;

    for (i = 0; cycle->modules[i]; i++) {
        if (cycle->modules[i]->init_master == NULL) {
            continue;
        }

        if (cycle->modules[i]->init_master(cycle->log) != SL_OK) {
            sl_log_error(SL_LOG_EMERG, cycle->log, 0,
                         "init_master of module \"%s\" failed",
                         cycle->modules[i]->name);
            return SL_ERROR;
        }
    }

    return SL_OK;
}


sl_int_t
sl_create_pidfile(sl_str_t *name, sl_log_t *log)
{
    u_char   *p;
    sl_fd_t   fd;
    sl_int_t  rc;
    u_char    pid[32];

    if (sl_process > SL_PROCESS_MASTER) {
        return SL_OK;
    }

    fd = sl_open_file(name->data, O_RDWR, O_CREAT|O_TRUNC, 0644);

    if (fd == SL_INVALID_FILE) {
        sl_log_error(SL_LOG_EMERG, log, sl_errno,
                     "open() \"%s\" failed", name->data);
        return SL_ERROR;
    }

    rc = SL_OK;

    p = sl_slprintf(pid, pid + sizeof(pid), "%d\n", (int) sl_pid);

    if (sl_write_fd(fd, pid, p - pid) != p - pid) {
        sl_log_error(SL_LOG_EMERG, log, sl_errno,
                     "write() \"%s\" failed", name->data);
        rc = SL_ERROR;
    }

    if (sl_close_file(fd) == -1) {
        sl_log_error(SL_LOG_ALERT, log, sl_errno,
                     "close() \"%s\" failed", name->data);
    }

    return rc;
}


void
sl_delete_pidfile(sl_cycle_t *cycle)
{
    u_char          *name;
    sl_core_conf_t  *ccf;

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    name = ccf->pid.data;

    if (sl_delete_file(name) == -1) {
        sl_log_error(SL_LOG_ALERT, cycle->log, sl_errno,
                     "unlink() \"%s\" failed", name);
    }
}


sl_shm_zone_t *
sl_shared_memory_add(sl_conf_t *cf, sl_str_t *name, size_t size, void *tag)
{
    sl_uint_t         i;
    sl_shm_zone_t    *zone;
    sl_list_part_t   *part;

    part = &cf->cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (name->len != zone[i].shm.name.len
            || sl_memcmp(name->data, zone[i].shm.name.data, name->len) != 0)
        {
            continue;
        }

        if (tag != zone[i].tag) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "the shared memory zone \"%.*s\" is "
                              "already declared for a different use",
                              SL_STR_ARG(&zone[i].shm.name));
            return NULL;
        }

        if (zone[i].shm.size == 0) {
            zone[i].shm.size = size;
        }

        if (size && size != zone[i].shm.size) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "the size %zu of shared memory zone \"%.*s\" "
                              "conflicts with already declared size %zu",
                              size, SL_STR_ARG(&zone[i].shm.name),
                              zone[i].shm.size);
            return NULL;
        }

        return &zone[i];
    }

    zone = sl_list_push(&cf->cycle->shared_memory);
    if (zone == NULL) {
        return NULL;
    }

    sl_memzero(zone, sizeof(sl_shm_zone_t));

    zone->shm.log = cf->cycle->log;
    zone->shm.size = size;
    zone->shm.name = *name;
    zone->tag = tag;

    return zone;
}


/*
 * A retiring worker gets shutdown_timeout to finish its connections; then
 * it stops waiting.  The timer is cancelable so that it alone never keeps
 * the worker alive.
 */

void
sl_set_shutdown_timer(sl_cycle_t *cycle)
{
    sl_core_conf_t  *ccf;

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    if (ccf->shutdown_timeout == 0) {
        return;
    }

    sl_shutdown_event.handler = sl_shutdown_timer_handler;
    sl_shutdown_event.data = cycle;
    sl_shutdown_event.log = cycle->log;
    sl_shutdown_event.cancelable = 1;

    sl_add_timer(&sl_shutdown_event, ccf->shutdown_timeout);
}


static void
sl_shutdown_timer_handler(sl_event_t *ev)
{
    sl_log_error(SL_LOG_NOTICE, ev->log, 0,
                 "shutdown timeout, closing the remaining connections");

    /* the worker's loop exits at once, closing whatever is left */
    sl_terminate = 1;
}


static void *
sl_core_module_create_conf(sl_cycle_t *cycle)
{
    sl_core_conf_t  *ccf;

    ccf = sl_pcalloc(cycle->pool, sizeof(sl_core_conf_t));
    if (ccf == NULL) {
        return NULL;
    }

    /*
     * set by sl_pcalloc():
     *
     *     ccf->pid = { 0, NULL };
     *     ccf->working_directory = { 0, NULL };
     */

    ccf->daemon = SL_CONF_UNSET;
    ccf->master = SL_CONF_UNSET;
    ccf->shutdown_timeout = SL_CONF_UNSET_MSEC;
    ccf->worker_processes = SL_CONF_UNSET;
    ccf->rlimit_nofile = SL_CONF_UNSET;

    return ccf;
}


static char *
sl_core_module_init_conf(sl_cycle_t *cycle, void *conf)
{
    sl_core_conf_t  *ccf = conf;

    sl_str_t         name;
    sl_conf_t        cf;
    sl_shm_zone_t   *zone;

    sl_conf_init_value(ccf->daemon, 1);
    sl_conf_init_value(ccf->master, 1);
    sl_conf_init_msec_value(ccf->shutdown_timeout, 0);
    sl_conf_init_value(ccf->worker_processes, 1);

    if (ccf->pid.len == 0) {
        sl_str_set(&ccf->pid, SL_PID_PATH);
    }

    if (sl_get_full_name(cycle->pool, &cycle->prefix, &ccf->pid) != SL_OK) {
        return SL_CONF_ERROR;
    }

    ccf->pid.data = (u_char *) sl_pstrz(cycle->pool, &ccf->pid);
    if (ccf->pid.data == NULL) {
        return SL_CONF_ERROR;
    }

    if (ccf->working_directory.len) {
        if (sl_get_full_name(cycle->pool, &cycle->prefix,
                             &ccf->working_directory)
            != SL_OK)
        {
            return SL_CONF_ERROR;
        }

        ccf->working_directory.data = (u_char *)
                              sl_pstrz(cycle->pool, &ccf->working_directory);
        if (ccf->working_directory.data == NULL) {
            return SL_CONF_ERROR;
        }
    }

    /* the counters behind GET /status, shared by every worker */

    sl_memzero(&cf, sizeof(sl_conf_t));
    cf.cycle = cycle;
    cf.pool = cycle->pool;
    cf.log = cycle->log;

    sl_str_set(&name, "sl_stat");

    zone = sl_shared_memory_add(&cf, &name, SL_STAT_ZONE_SIZE,
                                &sl_core_module);
    if (zone == NULL) {
        return SL_CONF_ERROR;
    }

    zone->init = sl_stat_init_zone;

    return SL_CONF_OK;
}


static char *
sl_set_worker_processes(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_core_conf_t  *ccf = conf;

    long       n;
    sl_str_t  *value;

    if (ccf->worker_processes != SL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (sl_str_eq(&value[1], "auto")) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
        ccf->worker_processes = (n > 0) ? n : 1;
        return SL_CONF_OK;
    }

    ccf->worker_processes = sl_atoi(value[1].data, value[1].len);

    if (ccf->worker_processes == SL_ERROR || ccf->worker_processes == 0) {
        ccf->worker_processes = SL_CONF_UNSET;
        return "invalid value, expected a positive number or \"auto\"";
    }

    if (ccf->worker_processes > SL_MAX_PROCESSES / 2) {
        ccf->worker_processes = SL_CONF_UNSET;
        return "is too large";
    }

    return SL_CONF_OK;
}


/*
 * The counters survive a reload (same zone, same memory), so /status
 * keeps counting across configurations.  Each process slot counts the
 * connections its worker opened and closed; the sum is what is open.
 */

static sl_int_t
sl_stat_init_zone(sl_shm_zone_t *zone, void *data)
{
    sl_slab_pool_t  *sp;

    if (data) {
        zone->data = data;
        sl_stat = data;
        return SL_OK;
    }

    sp = (sl_slab_pool_t *) zone->shm.addr;

    sl_stat = sl_slab_calloc(sp, sizeof(sl_stat_t));
    if (sl_stat == NULL) {
        return SL_ERROR;
    }

    sp->data = sl_stat;
    zone->data = sl_stat;

    return SL_OK;
}


sl_atomic_int_t
sl_stat_active(void)
{
    sl_int_t         i;
    sl_atomic_int_t  n;

    if (sl_stat == NULL) {
        return 0;
    }

    n = 0;

    for (i = 0; i < SL_MAX_PROCESSES; i++) {
        n += (sl_atomic_int_t) sl_atomic_load(&sl_stat->active[i]);
    }

    return n;
}


void
sl_stat_reset_slot(sl_int_t slot)
{
    if (sl_stat && slot >= 0 && slot < SL_MAX_PROCESSES) {
        sl_atomic_store(&sl_stat->active[slot], 0);
    }
}
