
/*
 * `metrics prometheus;` in a location answers GET with every module's
 * metrics in the Prometheus text format (sl_metrics.h), the same page
 * from whichever worker answers: the numbers live in shared memory.
 *
 * Where the directive is used, the module also counts the HTTP requests
 * of every location from its log phase handler into a zone of its own:
 * requests by status class and a latency histogram.
 */

#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker_metrics.h>
#include <sl_http.h>


#define SL_HTTP_METRICS_ZONE_SIZE  (32 * 1024)
#define SL_HTTP_METRICS_PAGE_SIZE  (16 * 1024)

/* 1xx .. 5xx */
#define SL_HTTP_METRICS_CLASSES    5


typedef struct {
    sl_atomic_t              requests[SL_HTTP_METRICS_CLASSES];
    sl_atomic_t              buckets[SL_METRICS_LATENCY_N + 1];
    sl_atomic_t              sum_usec;
} sl_http_metrics_sh_t;


typedef struct {
    sl_flag_t                enabled;    /* a location uses `metrics` */
} sl_http_metrics_main_conf_t;


static sl_int_t sl_http_metrics_handler(sl_http_request_t *r);
static sl_int_t sl_http_metrics_log_handler(sl_http_request_t *r);
static void sl_http_metrics_collect(sl_metrics_t *m, void *data);
static sl_int_t sl_http_metrics_init_zone(sl_shm_zone_t *zone, void *data);
static void *sl_http_metrics_create_main_conf(sl_conf_t *cf);
static sl_int_t sl_http_metrics_postconfiguration(sl_conf_t *cf);
static char *sl_http_metrics(sl_conf_t *cf, sl_command_t *cmd, void *conf);


static sl_command_t  sl_http_metrics_commands[] = {

    { sl_string("metrics"),
      SL_HTTP_LOC_CONF|SL_CONF_TAKE1,
      sl_http_metrics,
      SL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      sl_null_command
};


static sl_http_module_t  sl_http_metrics_module_ctx = {
    NULL,                                  /* preconfiguration */
    sl_http_metrics_postconfiguration,     /* postconfiguration */

    sl_http_metrics_create_main_conf,      /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


sl_module_t  sl_http_metrics_module = {
    SL_MODULE_V1,
    &sl_http_metrics_module_ctx,           /* module context */
    sl_http_metrics_commands,              /* module directives */
    SL_HTTP_MODULE,                        /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


/* NULL until the zone is made, and in configurations without metrics */
static sl_http_metrics_sh_t  *sl_http_metrics_sh;


static sl_int_t
sl_http_metrics_handler(sl_http_request_t *r)
{
    sl_str_t      body, type;
    sl_metrics_t  m;

    if (!(r->method & (SL_HTTP_GET|SL_HTTP_HEAD))) {
        return SL_HTTP_NOT_ALLOWED;
    }

    if (sl_metrics_init(&m, r->pool, SL_HTTP_METRICS_PAGE_SIZE) != SL_OK
        || sl_metrics_collect(&m) != SL_OK)
    {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = m.start;
    body.len = m.pos - m.start;

    sl_str_set(&type, SL_METRICS_CONTENT_TYPE);

    return sl_http_send_response(r, SL_HTTP_OK, &type, &body);
}


static sl_int_t
sl_http_metrics_log_handler(sl_http_request_t *r)
{
    uint64_t               usec;
    sl_uint_t              status;
    sl_http_metrics_sh_t  *sh;

    sh = sl_http_metrics_sh;
    status = r->headers_out.status;

    /* a request that ended before any status was chosen is not counted */
    if (sh == NULL || status < 100 || status > 599) {
        return SL_OK;
    }

    (void) sl_atomic_fetch_add(&sh->requests[status / 100 - 1], 1);

    usec = (uint64_t) (sl_msec_int_t) (sl_current_msec - r->start_msec)
           * 1000;

    (void) sl_atomic_fetch_add(&sh->buckets[sl_metrics_latency_bucket(usec)],
                               1);
    (void) sl_atomic_fetch_add(&sh->sum_usec, usec);

    return SL_OK;
}


static void
sl_http_metrics_collect(sl_metrics_t *m, void *data)
{
    u_char                   code[4];
    uint64_t                 counts[SL_METRICS_LATENCY_N + 1];
    sl_uint_t                i;
    sl_metrics_label_t       label;
    sl_http_metrics_sh_t    *sh;
    sl_metrics_histogram_t   h;

    sh = sl_http_metrics_sh;
    if (sh == NULL) {
        return;
    }

    sl_metrics_family(m, "sluice_http_requests_total", "counter",
                      "HTTP requests by status class.");

    label.name = "code";
    label.value.data = code;
    label.value.len = 3;
    code[1] = 'x';
    code[2] = 'x';

    for (i = 0; i < SL_HTTP_METRICS_CLASSES; i++) {
        code[0] = (u_char) ('1' + i);
        sl_metrics_counter(m, "sluice_http_requests_total", &label, 1,
                           sl_atomic_load(&sh->requests[i]));
    }

    for (i = 0; i <= SL_METRICS_LATENCY_N; i++) {
        counts[i] = sl_atomic_load(&sh->buckets[i]);
    }

    h.bounds = sl_metrics_latency_bounds;
    h.nbounds = SL_METRICS_LATENCY_N;
    h.counts = counts;
    h.sum = (double) sl_atomic_load(&sh->sum_usec) / 1000000.0;

    sl_metrics_family(m, "sluice_http_request_duration_seconds",
                      "histogram",
                      "HTTP request time, from the first byte read "
                      "to the log phase.");
    sl_metrics_histogram(m, "sluice_http_request_duration_seconds", NULL, 0,
                         &h);
}


/* the counters survive a reload: the old zone's data is taken over */

static sl_int_t
sl_http_metrics_init_zone(sl_shm_zone_t *zone, void *data)
{
    sl_slab_pool_t  *sp;

    if (data) {
        zone->data = data;
        sl_http_metrics_sh = data;
        return SL_OK;
    }

    sp = (sl_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists && sp->data) {
        zone->data = sp->data;
        sl_http_metrics_sh = sp->data;
        return SL_OK;
    }

    sl_http_metrics_sh = sl_slab_calloc(sp, sizeof(sl_http_metrics_sh_t));
    if (sl_http_metrics_sh == NULL) {
        return SL_ERROR;
    }

    sp->data = sl_http_metrics_sh;
    zone->data = sl_http_metrics_sh;

    return SL_OK;
}


static void *
sl_http_metrics_create_main_conf(sl_conf_t *cf)
{
    sl_http_metrics_main_conf_t  *mmcf;

    mmcf = sl_pcalloc(cf->pool, sizeof(sl_http_metrics_main_conf_t));
    if (mmcf == NULL) {
        return NULL;
    }

    return mmcf;
}


static sl_int_t
sl_http_metrics_postconfiguration(sl_conf_t *cf)
{
    sl_str_t                      name;
    sl_shm_zone_t                *zone;
    sl_http_handler_pt           *h;
    sl_http_core_main_conf_t     *cmcf;
    sl_http_metrics_main_conf_t  *mmcf;

    mmcf = sl_http_conf_get_module_main_conf(cf, sl_http_metrics_module);

    if (!mmcf->enabled) {
        return SL_OK;
    }

    sl_str_set(&name, "sl_http_metrics");

    zone = sl_shared_memory_add(cf, &name, SL_HTTP_METRICS_ZONE_SIZE,
                                &sl_http_metrics_module);
    if (zone == NULL) {
        return SL_ERROR;
    }

    zone->init = sl_http_metrics_init_zone;

    cmcf = sl_http_conf_get_module_main_conf(cf, sl_http_core_module);

    h = sl_array_push(&cmcf->phases[SL_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return SL_ERROR;
    }

    *h = sl_http_metrics_log_handler;

    /* the broker's storage is there whatever protocols are configured */

    if (sl_metrics_add_collector(sl_broker_metrics_topics, NULL) != SL_OK
        || sl_metrics_add_collector(sl_http_metrics_collect, NULL) != SL_OK)
    {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "too many metrics collectors");
        return SL_ERROR;
    }

    return SL_OK;
}


static char *
sl_http_metrics(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_str_t                     *value;
    sl_http_metrics_main_conf_t  *mmcf;

    value = cf->args->elts;

    if (!sl_str_eq(&value[1], "prometheus")) {
        return "takes only \"prometheus\"";
    }

    mmcf = sl_http_conf_get_module_main_conf(cf, sl_http_metrics_module);
    mmcf->enabled = 1;

    return sl_http_set_content_handler(cf, sl_http_metrics_handler);
}
