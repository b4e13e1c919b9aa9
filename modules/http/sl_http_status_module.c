
/*
 * `status;` in a location answers GET with the broker's counters as
 * JSON, summed over all workers by the shared sl_stat zone:
 * {"workers":N,"connections":...,"accepted":...,"handled":...,
 *  "requests":...}
 */

#include <sl_config.h>
#include <sl_core.h>
#include <sl_http.h>


static sl_int_t sl_http_status_handler(sl_http_request_t *r);
static char *sl_http_status(sl_conf_t *cf, sl_command_t *cmd, void *conf);


static sl_command_t  sl_http_status_commands[] = {

    { sl_string("status"),
      SL_HTTP_MAIN_CONF|SL_HTTP_LOC_CONF|SL_CONF_NOARGS,
      sl_http_status,
      SL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      sl_null_command
};


static sl_http_module_t  sl_http_status_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


sl_module_t  sl_http_status_module = {
    SL_MODULE_V1,
    &sl_http_status_module_ctx,            /* module context */
    sl_http_status_commands,               /* module directives */
    SL_HTTP_MODULE,                        /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


static sl_int_t
sl_http_status_handler(sl_http_request_t *r)
{
    u_char          *p;
    sl_str_t         body, type;
    uint64_t         workers, active, accepted, handled, requests;
    sl_core_conf_t  *ccf;

    if (!(r->method & (SL_HTTP_GET|SL_HTTP_HEAD))) {
        return SL_HTTP_NOT_ALLOWED;
    }

    workers = 0;
    active = 0;
    accepted = 0;
    handled = 0;
    requests = 0;

    if (sl_stat) {
        workers = sl_atomic_load(&sl_stat->workers);
        active = (uint64_t) sl_stat_active();
        accepted = sl_atomic_load(&sl_stat->accepted);
        handled = sl_atomic_load(&sl_stat->handled);
        requests = sl_atomic_load(&sl_stat->requests);
    }

    if (workers == 0) {
        /* the zone counts live workers; before that, the configured */
        ccf = (sl_core_conf_t *) sl_get_conf(((sl_cycle_t *) sl_cycle)
                                             ->conf_ctx, sl_core_module);
        workers = ccf ? (uint64_t) ccf->worker_processes : 1;
    }

    body.data = sl_pnalloc(r->pool, 256);
    if (body.data == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = sl_slprintf(body.data, body.data + 256,
                    "{\"workers\":%llu,\"connections\":%llu,"
                    "\"accepted\":%llu,\"handled\":%llu,"
                    "\"requests\":%llu}\n",
                    (unsigned long long) workers,
                    (unsigned long long) active,
                    (unsigned long long) accepted,
                    (unsigned long long) handled,
                    (unsigned long long) requests);

    body.len = p - body.data;

    sl_str_set(&type, "application/json");

    return sl_http_send_response(r, SL_HTTP_OK, &type, &body);
}


static char *
sl_http_status(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    return sl_http_set_content_handler(cf, sl_http_status_handler);
}
