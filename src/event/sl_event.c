
/*
 * The event core: the events { } block (worker_connections, use), the
 * worker's event state built in init_process (epoll, the connection
 * table and its free list, an accept event per listening socket, the
 * doorbell), and one iteration of the worker's loop.
 *
 * The loop is: wait for events until the nearest timer, run the handlers
 * of what is ready, expire due timers, then run posted events (accepts
 * first).  Handlers never block: they read or write until SL_AGAIN and
 * return; the loop calls them again when epoll reports the next edge.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_event.h>


#define SL_EVENT_DEFAULT_CONNECTIONS  512
#define SL_EVENT_ACCEPT_PAUSE         500


static char *sl_events_block(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_events_init_conf(sl_cycle_t *cycle, void *conf);
static void ***sl_events_create_ctx(sl_cycle_t *cycle, sl_pool_t *pool);
static char *sl_events_init_ctx(sl_cycle_t *cycle, void ***ctx);
static char *sl_event_connections(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static char *sl_event_use(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static void *sl_event_core_create_conf(sl_cycle_t *cycle);
static char *sl_event_core_init_conf(sl_cycle_t *cycle, void *conf);
static sl_int_t sl_event_module_init(sl_cycle_t *cycle);
static sl_int_t sl_event_process_init(sl_cycle_t *cycle);
static void sl_event_process_exit(sl_cycle_t *cycle);


static sl_uint_t     sl_event_max_module;

sl_uint_t            sl_event_flags;


static sl_command_t  sl_events_commands[] = {

    { sl_string("events"),
      SL_MAIN_CONF|SL_CONF_BLOCK|SL_CONF_NOARGS,
      sl_events_block,
      0,
      0,
      NULL },

      sl_null_command
};


static sl_core_module_t  sl_events_module_ctx = {
    sl_string("events"),
    NULL,
    sl_events_init_conf
};


sl_module_t  sl_events_module = {
    SL_MODULE_V1,
    &sl_events_module_ctx,                 /* module context */
    sl_events_commands,                    /* module directives */
    SL_CORE_MODULE,                        /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


static sl_str_t  event_core_name = sl_string("event_core");


static sl_command_t  sl_event_core_commands[] = {

    { sl_string("worker_connections"),
      SL_EVENT_CONF|SL_CONF_TAKE1,
      sl_event_connections,
      0,
      0,
      NULL },

    { sl_string("use"),
      SL_EVENT_CONF|SL_CONF_TAKE1,
      sl_event_use,
      0,
      0,
      NULL },

      sl_null_command
};


static sl_event_module_t  sl_event_core_module_ctx = {
    &event_core_name,
    sl_event_core_create_conf,             /* create configuration */
    sl_event_core_init_conf                /* init configuration */
};


sl_module_t  sl_event_core_module = {
    SL_MODULE_V1,
    &sl_event_core_module_ctx,             /* module context */
    sl_event_core_commands,                /* module directives */
    SL_EVENT_MODULE,                       /* module type */
    NULL,                                  /* init master */
    sl_event_module_init,                  /* init module */
    sl_event_process_init,                 /* init process */
    sl_event_process_exit,                 /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


void
sl_process_events_and_timers(sl_cycle_t *cycle)
{
    sl_msec_t  timer;

    timer = sl_event_find_timer();

    if (!sl_queue_empty(&sl_posted_events)
        || !sl_queue_empty(&sl_posted_accept_events))
    {
        /* posted between iterations: run them without waiting */
        timer = 0;
    }

    (void) sl_process_events(cycle, timer, SL_UPDATE_TIME);

    sl_event_expire_timers();

    sl_event_process_posted(cycle, &sl_posted_accept_events);
    sl_event_process_posted(cycle, &sl_posted_events);
}


/*
 * Connections from sl_add_conn are registered for both directions from
 * the start, so these only matter for an event that was never added or
 * was deleted; then the edge-triggered registration is (re)made.
 */

sl_int_t
sl_handle_read_event(sl_event_t *rev, sl_uint_t flags)
{
    if (!rev->active && !rev->ready) {
        if (sl_add_event(rev, SL_READ_EVENT, SL_CLEAR_EVENT) == SL_ERROR) {
            return SL_ERROR;
        }
    }

    return SL_OK;
}


sl_int_t
sl_handle_write_event(sl_event_t *wev, size_t lowat)
{
    if (!wev->active && !wev->ready) {
        if (sl_add_event(wev, SL_WRITE_EVENT, SL_CLEAR_EVENT) == SL_ERROR) {
            return SL_ERROR;
        }
    }

    return SL_OK;
}


static sl_int_t
sl_event_module_init(sl_cycle_t *cycle)
{
    sl_shm_t          shm;
    struct rlimit     rlmt;
    sl_event_conf_t  *ecf;

    ecf = sl_event_get_conf(cycle->conf_ctx, sl_event_core_module);

    if (getrlimit(RLIMIT_NOFILE, &rlmt) == -1) {
        sl_log_error(SL_LOG_ALERT, cycle->log, sl_errno,
                     "getrlimit(RLIMIT_NOFILE) failed, ignored");

    } else if (rlmt.rlim_cur != RLIM_INFINITY
               && ecf->connections > (sl_uint_t) rlmt.rlim_cur)
    {
        sl_log_error(SL_LOG_WARN, cycle->log, 0,
                     "%lu worker_connections exceed "
                     "open file resource limit: %lu",
                     (unsigned long) ecf->connections,
                     (unsigned long) rlmt.rlim_cur);
    }

    /*
     * Connection numbers are unique across workers, so the counter is
     * shared.  The master allocates it once and keeps it across reloads.
     */

    if (sl_connection_counter == NULL) {
        sl_memzero(&shm, sizeof(sl_shm_t));

        shm.size = 128;
        sl_str_set(&shm.name, "sl_connection_counter");
        shm.log = cycle->log;

        if (sl_shm_alloc(&shm) != SL_OK) {
            return SL_ERROR;
        }

        sl_connection_counter = (sl_atomic_t *) shm.addr;
        *sl_connection_counter = 1;
    }

    return SL_OK;
}


static sl_int_t
sl_event_process_init(sl_cycle_t *cycle)
{
    sl_uint_t          i, n;
    sl_event_t        *rev, *wev;
    sl_listening_t    *ls;
    sl_connection_t   *c, *next;
    sl_event_conf_t   *ecf;

    ecf = sl_event_get_conf(cycle->conf_ctx, sl_event_core_module);

    if (sl_event_timer_init(cycle->log) == SL_ERROR) {
        return SL_ERROR;
    }

    sl_queue_init(&sl_posted_accept_events);
    sl_queue_init(&sl_posted_events);

    if (sl_epoll_init(cycle, 0) != SL_OK) {
        return SL_ERROR;
    }

    n = ecf->connections;

    cycle->connection_n = n;

    cycle->connections = sl_alloc(sizeof(sl_connection_t) * n, cycle->log);
    if (cycle->connections == NULL) {
        return SL_ERROR;
    }

    cycle->read_events = sl_alloc(sizeof(sl_event_t) * n, cycle->log);
    if (cycle->read_events == NULL) {
        return SL_ERROR;
    }

    cycle->write_events = sl_alloc(sizeof(sl_event_t) * n, cycle->log);
    if (cycle->write_events == NULL) {
        return SL_ERROR;
    }

    sl_memzero(cycle->connections, sizeof(sl_connection_t) * n);
    sl_memzero(cycle->read_events, sizeof(sl_event_t) * n);
    sl_memzero(cycle->write_events, sizeof(sl_event_t) * n);

    rev = cycle->read_events;
    wev = cycle->write_events;

    for (i = 0; i < n; i++) {
        rev[i].closed = 1;
        rev[i].instance = 1;
        wev[i].closed = 1;
    }

    /* the free list is threaded through c->data, lowest slot first */

    c = cycle->connections;
    next = NULL;
    i = n;

    do {
        i--;

        c[i].data = next;
        c[i].read = &rev[i];
        c[i].write = &wev[i];
        c[i].fd = (sl_socket_t) -1;

        next = &c[i];

    } while (i);

    cycle->free_connections = next;
    cycle->free_connection_n = n;

    sl_queue_init(&cycle->reusable_connections_queue);
    cycle->reusable_connections_n = 0;

    /* an accept event for every listening socket */

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        if (ls[i].fd == (sl_socket_t) -1) {
            continue;
        }

        c = sl_get_connection(ls[i].fd, &ls[i].log);
        if (c == NULL) {
            return SL_ERROR;
        }

        c->type = ls[i].type;
        c->listening = &ls[i];
        c->shared = 1;

        ls[i].connection = c;

        rev = c->read;
        rev->log = c->log;
        rev->accept = 1;
        rev->handler = sl_event_accept;

        if (sl_add_event(rev, SL_READ_EVENT, SL_EXCLUSIVE_EVENT)
            == SL_ERROR)
        {
            return SL_ERROR;
        }
    }

    return sl_event_doorbell_process_init(cycle);
}


static void
sl_event_process_exit(sl_cycle_t *cycle)
{
    sl_event_doorbell_process_exit(cycle);
}


static char *
sl_events_block(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char        *rv;
    void      ***ctx;
    sl_conf_t    pcf;

    if (*(void **) conf) {
        return "is duplicate";
    }

    ctx = sl_events_create_ctx(cf->cycle, cf->pool);
    if (ctx == NULL) {
        return SL_CONF_ERROR;
    }

    *(void **) conf = ctx;

    pcf = *cf;
    cf->ctx = ctx;
    cf->module_type = SL_EVENT_MODULE;
    cf->cmd_type = SL_EVENT_CONF;

    rv = sl_conf_parse(cf, NULL);

    *cf = pcf;

    if (rv != SL_CONF_OK) {
        return rv;
    }

    return sl_events_init_ctx(cf->cycle, ctx);
}


/* without an events { } block every event setting takes its default */

static char *
sl_events_init_conf(sl_cycle_t *cycle, void *conf)
{
    void  ***ctx;

    if (conf) {
        return SL_CONF_OK;
    }

    ctx = sl_events_create_ctx(cycle, cycle->pool);
    if (ctx == NULL) {
        return SL_CONF_ERROR;
    }

    cycle->conf_ctx[sl_events_module.index] = ctx;

    return sl_events_init_ctx(cycle, ctx);
}


static void ***
sl_events_create_ctx(sl_cycle_t *cycle, sl_pool_t *pool)
{
    void               ***ctx;
    sl_uint_t             i;
    sl_module_t          *m;
    sl_event_module_t    *em;

    sl_event_max_module = sl_count_modules(cycle, SL_EVENT_MODULE);

    ctx = sl_pcalloc(pool, sizeof(void *));
    if (ctx == NULL) {
        return NULL;
    }

    *ctx = sl_pcalloc(pool, sl_event_max_module * sizeof(void *));
    if (*ctx == NULL) {
        return NULL;
    }

    for (i = 0; cycle->modules[i]; i++) {
        m = cycle->modules[i];

        if (m->type != SL_EVENT_MODULE) {
            continue;
        }

        em = m->ctx;

        if (em->create_conf) {
            (*ctx)[m->ctx_index] = em->create_conf(cycle);
            if ((*ctx)[m->ctx_index] == NULL) {
                return NULL;
            }
        }
    }

    return ctx;
}


static char *
sl_events_init_ctx(sl_cycle_t *cycle, void ***ctx)
{
    char               *rv;
    sl_uint_t           i;
    sl_module_t        *m;
    sl_event_module_t  *em;

    for (i = 0; cycle->modules[i]; i++) {
        m = cycle->modules[i];

        if (m->type != SL_EVENT_MODULE) {
            continue;
        }

        em = m->ctx;

        if (em->init_conf) {
            rv = em->init_conf(cycle, (*ctx)[m->ctx_index]);
            if (rv != SL_CONF_OK) {
                return rv;
            }
        }
    }

    return SL_CONF_OK;
}


static char *
sl_event_connections(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_event_conf_t  *ecf = conf;

    sl_int_t   n;
    sl_str_t  *value;

    if (ecf->connections != SL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = sl_atoi(value[1].data, value[1].len);

    if (n == SL_ERROR || n < 2) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "invalid number \"%.*s\", expected 2 or more",
                          SL_STR_ARG(&value[1]));
        return SL_CONF_ERROR;
    }

    ecf->connections = (sl_uint_t) n;

    return SL_CONF_OK;
}


static char *
sl_event_use(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_event_conf_t  *ecf = conf;

    sl_uint_t           i;
    sl_str_t           *value;
    sl_module_t        *m;
    sl_event_module_t  *em;

    if (ecf->use != SL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; cf->cycle->modules[i]; i++) {
        m = cf->cycle->modules[i];

        if (m->type != SL_EVENT_MODULE || m == &sl_event_core_module) {
            continue;
        }

        em = m->ctx;

        if (em->name->len == value[1].len
            && sl_memcmp(em->name->data, value[1].data, value[1].len) == 0)
        {
            ecf->use = m->ctx_index;
            ecf->name = em->name->data;

            return SL_CONF_OK;
        }
    }

    sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                      "invalid event type \"%.*s\", expected \"epoll\"",
                      SL_STR_ARG(&value[1]));

    return SL_CONF_ERROR;
}


static void *
sl_event_core_create_conf(sl_cycle_t *cycle)
{
    sl_event_conf_t  *ecf;

    ecf = sl_palloc(cycle->pool, sizeof(sl_event_conf_t));
    if (ecf == NULL) {
        return NULL;
    }

    ecf->connections = SL_CONF_UNSET_UINT;
    ecf->use = SL_CONF_UNSET_UINT;
    ecf->accept_pause = SL_CONF_UNSET_MSEC;
    ecf->name = (void *) SL_CONF_UNSET;

    return ecf;
}


static char *
sl_event_core_init_conf(sl_cycle_t *cycle, void *conf)
{
    sl_event_conf_t  *ecf = conf;

    sl_conf_init_uint_value(ecf->connections, SL_EVENT_DEFAULT_CONNECTIONS);
    sl_conf_init_uint_value(ecf->use, sl_epoll_module.ctx_index);

    if (ecf->name == (void *) SL_CONF_UNSET) {
        ecf->name = (u_char *) "epoll";
    }

    /* no accept mutex: EPOLLEXCLUSIVE spreads the accepts */
    sl_conf_init_msec_value(ecf->accept_pause, SL_EVENT_ACCEPT_PAUSE);

    return SL_CONF_OK;
}
