
/*
 * The http {} block: it creates the configuration context of every
 * SL_HTTP_MODULE module, parses the block, merges each location's
 * configuration with the http level's, sorts the locations for the
 * longest-prefix lookup, prepares the phase arrays and adds one
 * listening socket per `listen` address.
 */

#include <sl_config.h>
#include <sl_core.h>
#include <sl_http.h>


static char *sl_http_block(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_merge_locations(sl_conf_t *cf,
    sl_http_core_main_conf_t *cmcf, sl_http_module_t *module,
    sl_uint_t ctx_index);
static int sl_http_cmp_locations(const void *one, const void *two);
static sl_int_t sl_http_add_listening(sl_conf_t *cf,
    sl_http_core_main_conf_t *cmcf);


sl_uint_t  sl_http_max_module;


static sl_command_t  sl_http_commands[] = {

    { sl_string("http"),
      SL_MAIN_CONF|SL_CONF_BLOCK|SL_CONF_NOARGS,
      sl_http_block,
      0,
      0,
      NULL },

      sl_null_command
};


static sl_core_module_t  sl_http_module_ctx = {
    sl_string("http"),
    NULL,
    NULL
};


sl_module_t  sl_http_module = {
    SL_MODULE_V1,
    &sl_http_module_ctx,                   /* module context */
    sl_http_commands,                      /* module directives */
    SL_CORE_MODULE,                        /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


static char *
sl_http_block(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char                      *rv;
    void                      *defaults;
    sl_int_t                   n;
    sl_uint_t                  m, mi, i;
    sl_conf_t                  pcf;
    sl_module_t              **modules;
    sl_http_module_t          *module;
    sl_http_conf_ctx_t        *ctx;
    sl_http_core_main_conf_t  *cmcf;

    if (*(sl_http_conf_ctx_t **) conf) {
        return "is duplicate";
    }

    ctx = sl_pcalloc(cf->pool, sizeof(sl_http_conf_ctx_t));
    if (ctx == NULL) {
        return SL_CONF_ERROR;
    }

    *(sl_http_conf_ctx_t **) conf = ctx;

    n = sl_count_modules(cf->cycle, SL_HTTP_MODULE);
    if (n == SL_ERROR) {
        return SL_CONF_ERROR;
    }

    sl_http_max_module = n;

    ctx->main_conf = sl_pcalloc(cf->pool, sizeof(void *) * (n + 1));
    ctx->loc_conf = sl_pcalloc(cf->pool, sizeof(void *) * (n + 1));
    if (ctx->main_conf == NULL || ctx->loc_conf == NULL) {
        return SL_CONF_ERROR;
    }

    modules = cf->cycle->modules;

    for (m = 0; modules[m]; m++) {
        if (modules[m]->type != SL_HTTP_MODULE) {
            continue;
        }

        module = modules[m]->ctx;
        mi = modules[m]->ctx_index;

        if (module->create_main_conf) {
            ctx->main_conf[mi] = module->create_main_conf(cf);
            if (ctx->main_conf[mi] == NULL) {
                return SL_CONF_ERROR;
            }
        }

        if (module->create_loc_conf) {
            ctx->loc_conf[mi] = module->create_loc_conf(cf);
            if (ctx->loc_conf[mi] == NULL) {
                return SL_CONF_ERROR;
            }
        }
    }

    cmcf = ctx->main_conf[sl_http_core_module.ctx_index];
    cmcf->ctx = ctx;

    pcf = *cf;
    cf->ctx = ctx;

    for (m = 0; modules[m]; m++) {
        if (modules[m]->type != SL_HTTP_MODULE) {
            continue;
        }

        module = modules[m]->ctx;

        if (module->preconfiguration
            && module->preconfiguration(cf) != SL_OK)
        {
            return SL_CONF_ERROR;
        }
    }

    cf->module_type = SL_HTTP_MODULE;
    cf->cmd_type = SL_HTTP_MAIN_CONF;

    rv = sl_conf_parse(cf, NULL);
    if (rv != SL_CONF_OK) {
        goto failed;
    }

    for (m = 0; modules[m]; m++) {
        if (modules[m]->type != SL_HTTP_MODULE) {
            continue;
        }

        module = modules[m]->ctx;
        mi = modules[m]->ctx_index;

        if (module->init_main_conf) {
            rv = module->init_main_conf(cf, ctx->main_conf[mi]);
            if (rv != SL_CONF_OK) {
                goto failed;
            }
        }

        if (module->merge_loc_conf == NULL) {
            continue;
        }

        /* the http level takes its defaults from an unset conf */
        defaults = module->create_loc_conf(cf);
        if (defaults == NULL) {
            rv = SL_CONF_ERROR;
            goto failed;
        }

        rv = module->merge_loc_conf(cf, defaults, ctx->loc_conf[mi]);
        if (rv != SL_CONF_OK) {
            goto failed;
        }

        rv = sl_http_merge_locations(cf, cmcf, module, mi);
        if (rv != SL_CONF_OK) {
            goto failed;
        }
    }

    qsort(cmcf->locations.elts, cmcf->locations.nelts,
          sizeof(sl_http_core_loc_conf_t *), sl_http_cmp_locations);

    for (i = 0; i < SL_HTTP_PHASES_N; i++) {
        if (sl_array_init(&cmcf->phases[i].handlers, cf->pool, 2,
                          sizeof(sl_http_handler_pt))
            != SL_OK)
        {
            rv = SL_CONF_ERROR;
            goto failed;
        }
    }

    for (m = 0; modules[m]; m++) {
        if (modules[m]->type != SL_HTTP_MODULE) {
            continue;
        }

        module = modules[m]->ctx;

        if (module->postconfiguration
            && module->postconfiguration(cf) != SL_OK)
        {
            rv = SL_CONF_ERROR;
            goto failed;
        }
    }

    *cf = pcf;

    if (sl_http_add_listening(cf, cmcf) != SL_OK) {
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;

failed:

    *cf = pcf;

    return rv;
}


static char *
sl_http_merge_locations(sl_conf_t *cf, sl_http_core_main_conf_t *cmcf,
    sl_http_module_t *module, sl_uint_t ctx_index)
{
    char                      *rv;
    sl_uint_t                  i;
    sl_http_core_loc_conf_t  **clcfp;

    clcfp = cmcf->locations.elts;

    for (i = 0; i < cmcf->locations.nelts; i++) {
        rv = module->merge_loc_conf(cf, cmcf->ctx->loc_conf[ctx_index],
                                    clcfp[i]->loc_conf[ctx_index]);
        if (rv != SL_CONF_OK) {
            return rv;
        }
    }

    return SL_CONF_OK;
}


/*
 * Longest name first, and an exact location before a prefix one of the
 * same length: the first location that matches is then the right one.
 */
static int
sl_http_cmp_locations(const void *one, const void *two)
{
    sl_http_core_loc_conf_t  *a, *b;

    a = *(sl_http_core_loc_conf_t **) one;
    b = *(sl_http_core_loc_conf_t **) two;

    if (a->name.len != b->name.len) {
        return (a->name.len > b->name.len) ? -1 : 1;
    }

    if (a->exact_match != b->exact_match) {
        return a->exact_match ? -1 : 1;
    }

    return sl_memcmp(a->name.data, b->name.data, a->name.len);
}


static sl_int_t
sl_http_add_listening(sl_conf_t *cf, sl_http_core_main_conf_t *cmcf)
{
    sl_uint_t          i;
    sl_listening_t    *ls;
    sl_http_listen_t  *hl;

    hl = cmcf->listen.elts;

    for (i = 0; i < cmcf->listen.nelts; i++) {
        ls = sl_create_listening(cf, &hl[i].sockaddr.sockaddr,
                                 hl[i].socklen);
        if (ls == NULL) {
            return SL_ERROR;
        }

        ls->handler = sl_http_init_connection;
        ls->servers = cmcf->ctx;
        ls->pool_size = 512;
    }

    return SL_OK;
}


sl_int_t
sl_http_find_location(sl_http_request_t *r)
{
    sl_uint_t                  i;
    sl_http_core_loc_conf_t  **clcfp, *clcf;
    sl_http_core_main_conf_t  *cmcf;

    cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);
    clcfp = cmcf->locations.elts;

    for (i = 0; i < cmcf->locations.nelts; i++) {
        clcf = clcfp[i];

        if (clcf->name.len > r->uri.len) {
            continue;
        }

        if (clcf->exact_match && clcf->name.len != r->uri.len) {
            continue;
        }

        if (sl_memcmp(clcf->name.data, r->uri.data, clcf->name.len) == 0) {
            r->loc_conf = clcf->loc_conf;
            return SL_OK;
        }
    }

    r->loc_conf = cmcf->ctx->loc_conf;

    return SL_DECLINED;
}


char *
sl_http_set_content_handler(sl_conf_t *cf, sl_http_handler_pt h)
{
    sl_http_core_loc_conf_t  *clcf;

    clcf = sl_http_conf_get_module_loc_conf(cf, sl_http_core_module);

    if (clcf->handler) {
        return (clcf->handler == h)
               ? "is duplicate"
               : "conflicts with another content handler in this location";
    }

    clcf->handler = h;

    return SL_CONF_OK;
}


void
sl_http_set_error_body(sl_conf_t *cf, sl_http_error_body_pt h)
{
    sl_http_core_loc_conf_t  *clcf;

    clcf = sl_http_conf_get_module_loc_conf(cf, sl_http_core_module);

    clcf->error_body = h;
}
