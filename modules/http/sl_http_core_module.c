
/*
 * The http core module: the directives every HTTP server has (listen,
 * location, root, index, timeouts and limits, types and default_type),
 * their defaults and how a location inherits them from the http level.
 */

#include <sl_config.h>
#include <sl_core.h>
#include <sl_http.h>


static void *sl_http_core_create_main_conf(sl_conf_t *cf);
static char *sl_http_core_init_main_conf(sl_conf_t *cf, void *conf);
static void *sl_http_core_create_loc_conf(sl_conf_t *cf);
static char *sl_http_core_merge_loc_conf(sl_conf_t *cf, void *parent,
    void *child);

static char *sl_http_core_listen(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static char *sl_http_core_location(sl_conf_t *cf, sl_command_t *cmd,
    void *dummy);
static char *sl_http_core_index(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static char *sl_http_core_types(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static char *sl_http_core_type(sl_conf_t *cf, sl_command_t *dummy,
    void *conf);


static sl_command_t  sl_http_core_commands[] = {

    { sl_string("listen"),
      SL_HTTP_MAIN_CONF|SL_CONF_TAKE1,
      sl_http_core_listen,
      SL_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { sl_string("location"),
      SL_HTTP_MAIN_CONF|SL_CONF_BLOCK|SL_CONF_TAKE12,
      sl_http_core_location,
      SL_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { sl_string("client_header_buffer_size"),
      SL_HTTP_MAIN_CONF|SL_CONF_TAKE1,
      sl_conf_set_size_slot,
      SL_HTTP_MAIN_CONF_OFFSET,
      offsetof(sl_http_core_main_conf_t, client_header_buffer_size),
      NULL },

    { sl_string("client_header_timeout"),
      SL_HTTP_MAIN_CONF|SL_CONF_TAKE1,
      sl_conf_set_msec_slot,
      SL_HTTP_MAIN_CONF_OFFSET,
      offsetof(sl_http_core_main_conf_t, client_header_timeout),
      NULL },

    { sl_string("root"),
      SL_HTTP_MAIN_CONF|SL_HTTP_LOC_CONF|SL_CONF_TAKE1,
      sl_conf_set_str_slot,
      SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_core_loc_conf_t, root),
      NULL },

    { sl_string("index"),
      SL_HTTP_MAIN_CONF|SL_HTTP_LOC_CONF|SL_CONF_1MORE,
      sl_http_core_index,
      SL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { sl_string("types"),
      SL_HTTP_MAIN_CONF|SL_HTTP_LOC_CONF|SL_CONF_BLOCK|SL_CONF_NOARGS,
      sl_http_core_types,
      SL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { sl_string("default_type"),
      SL_HTTP_MAIN_CONF|SL_HTTP_LOC_CONF|SL_CONF_TAKE1,
      sl_conf_set_str_slot,
      SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_core_loc_conf_t, default_type),
      NULL },

    { sl_string("client_max_body_size"),
      SL_HTTP_MAIN_CONF|SL_HTTP_LOC_CONF|SL_CONF_TAKE1,
      sl_conf_set_size_slot,
      SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_core_loc_conf_t, client_max_body_size),
      NULL },

    { sl_string("client_body_buffer_size"),
      SL_HTTP_MAIN_CONF|SL_HTTP_LOC_CONF|SL_CONF_TAKE1,
      sl_conf_set_size_slot,
      SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_core_loc_conf_t, client_body_buffer_size),
      NULL },

    { sl_string("client_body_timeout"),
      SL_HTTP_MAIN_CONF|SL_HTTP_LOC_CONF|SL_CONF_TAKE1,
      sl_conf_set_msec_slot,
      SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_core_loc_conf_t, client_body_timeout),
      NULL },

    { sl_string("send_timeout"),
      SL_HTTP_MAIN_CONF|SL_HTTP_LOC_CONF|SL_CONF_TAKE1,
      sl_conf_set_msec_slot,
      SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_core_loc_conf_t, send_timeout),
      NULL },

    { sl_string("keepalive_timeout"),
      SL_HTTP_MAIN_CONF|SL_HTTP_LOC_CONF|SL_CONF_TAKE1,
      sl_conf_set_msec_slot,
      SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_core_loc_conf_t, keepalive_timeout),
      NULL },

    { sl_string("keepalive_requests"),
      SL_HTTP_MAIN_CONF|SL_HTTP_LOC_CONF|SL_CONF_TAKE1,
      sl_conf_set_num_slot,
      SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_core_loc_conf_t, keepalive_requests),
      NULL },

      sl_null_command
};


static sl_http_module_t  sl_http_core_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    sl_http_core_create_main_conf,         /* create main configuration */
    sl_http_core_init_main_conf,           /* init main configuration */

    sl_http_core_create_loc_conf,          /* create location configuration */
    sl_http_core_merge_loc_conf            /* merge location configuration */
};


sl_module_t  sl_http_core_module = {
    SL_MODULE_V1,
    &sl_http_core_module_ctx,              /* module context */
    sl_http_core_commands,                 /* module directives */
    SL_HTTP_MODULE,                        /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


/* what nginx knows without mime.types, so a bare config still works */
static sl_keyval_t  sl_http_default_types[] = {
    { sl_string("html"), sl_string("text/html") },
    { sl_string("css"),  sl_string("text/css") },
    { sl_string("js"),   sl_string("application/javascript") },
    { sl_string("json"), sl_string("application/json") },
    { sl_string("gif"),  sl_string("image/gif") },
    { sl_string("jpg"),  sl_string("image/jpeg") },
    { sl_string("png"),  sl_string("image/png") },
    { sl_string("svg"),  sl_string("image/svg+xml") },
    { sl_null_string, sl_null_string }
};


static void *
sl_http_core_create_main_conf(sl_conf_t *cf)
{
    sl_http_core_main_conf_t  *cmcf;

    cmcf = sl_pcalloc(cf->pool, sizeof(sl_http_core_main_conf_t));
    if (cmcf == NULL) {
        return NULL;
    }

    if (sl_array_init(&cmcf->listen, cf->pool, 2, sizeof(sl_http_listen_t))
        != SL_OK)
    {
        return NULL;
    }

    if (sl_array_init(&cmcf->locations, cf->pool, 4,
                      sizeof(sl_http_core_loc_conf_t *))
        != SL_OK)
    {
        return NULL;
    }

    cmcf->client_header_buffer_size = SL_CONF_UNSET_SIZE;
    cmcf->client_header_timeout = SL_CONF_UNSET_MSEC;

    return cmcf;
}


static char *
sl_http_core_init_main_conf(sl_conf_t *cf, void *conf)
{
    sl_http_core_main_conf_t *cmcf = conf;

    sl_conf_init_size_value(cmcf->client_header_buffer_size, 8192);
    sl_conf_init_msec_value(cmcf->client_header_timeout, 60000);

    /* room for "GET / HTTP/1.1" and a header or two, at the least */
    if (cmcf->client_header_buffer_size < 256) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "\"client_header_buffer_size\" must be at least "
                          "256 bytes");
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}


static void *
sl_http_core_create_loc_conf(sl_conf_t *cf)
{
    sl_http_core_loc_conf_t  *clcf;

    clcf = sl_pcalloc(cf->pool, sizeof(sl_http_core_loc_conf_t));
    if (clcf == NULL) {
        return NULL;
    }

    /*
     * set by sl_pcalloc():
     *
     *     clcf->name, clcf->handler, clcf->root, clcf->default_type = { 0 }
     *     clcf->types = NULL, clcf->types_hash = { 0 }
     */

    clcf->index = SL_CONF_UNSET_PTR;
    clcf->client_max_body_size = SL_CONF_UNSET_SIZE;
    clcf->client_body_buffer_size = SL_CONF_UNSET_SIZE;
    clcf->client_body_timeout = SL_CONF_UNSET_MSEC;
    clcf->send_timeout = SL_CONF_UNSET_MSEC;
    clcf->keepalive_timeout = SL_CONF_UNSET_MSEC;
    clcf->keepalive_requests = SL_CONF_UNSET_UINT;

    return clcf;
}


static char *
sl_http_core_merge_loc_conf(sl_conf_t *cf, void *parent, void *child)
{
    sl_http_core_loc_conf_t *prev = parent;
    sl_http_core_loc_conf_t *conf = child;

    sl_str_t        *name;
    sl_keyval_t     *kv;
    sl_hash_elt_t   *elt;

    if (conf->root.data == NULL) {
        if (prev->root.data) {
            conf->root = prev->root;

        } else {
            sl_str_set(&conf->root, "html");
        }
    }

    /* relative to the prefix, as nginx's root is; no trailing slash */
    if (sl_conf_full_name(cf->cycle, &conf->root, 0) != SL_OK) {
        return SL_CONF_ERROR;
    }

    while (conf->root.len > 1 && conf->root.data[conf->root.len - 1] == '/')
    {
        conf->root.len--;
    }

    sl_conf_merge_ptr_value(conf->index, prev->index, NULL);

    if (conf->index == NULL) {
        conf->index = sl_array_create(cf->pool, 1, sizeof(sl_str_t));
        if (conf->index == NULL) {
            return SL_CONF_ERROR;
        }

        name = sl_array_push(conf->index);
        if (name == NULL) {
            return SL_CONF_ERROR;
        }

        sl_str_set(name, "index.html");
    }

    sl_conf_merge_str_value(conf->default_type, prev->default_type,
                            "text/plain");

    sl_conf_merge_size_value(conf->client_max_body_size,
                             prev->client_max_body_size, 1024 * 1024);
    sl_conf_merge_size_value(conf->client_body_buffer_size,
                             prev->client_body_buffer_size, 16384);
    sl_conf_merge_msec_value(conf->client_body_timeout,
                             prev->client_body_timeout, 60000);
    sl_conf_merge_msec_value(conf->send_timeout, prev->send_timeout, 60000);
    sl_conf_merge_msec_value(conf->keepalive_timeout,
                             prev->keepalive_timeout, 75000);
    sl_conf_merge_uint_value(conf->keepalive_requests,
                             prev->keepalive_requests, 1000);

    if (conf->types == NULL) {
        if (prev->types) {
            conf->types = prev->types;
            conf->types_hash = prev->types_hash;
            return SL_CONF_OK;
        }

        conf->types = sl_array_create(cf->pool, 8, sizeof(sl_hash_elt_t));
        if (conf->types == NULL) {
            return SL_CONF_ERROR;
        }

        for (kv = sl_http_default_types; kv->key.len; kv++) {
            elt = sl_array_push(conf->types);
            if (elt == NULL) {
                return SL_CONF_ERROR;
            }

            elt->key = kv->key;
            elt->value = &kv->value;
        }
    }

    if (prev->types == conf->types) {
        conf->types_hash = prev->types_hash;
        return SL_CONF_OK;
    }

    if (sl_hash_init(&conf->types_hash, cf->pool, conf->types, 1) != SL_OK) {
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}


static char *
sl_http_core_listen(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_core_main_conf_t *cmcf = conf;

    sl_str_t          *value;
    sl_url_t           u;
    sl_uint_t          i;
    sl_http_listen_t  *hl;

    value = cf->args->elts;

    sl_memzero(&u, sizeof(sl_url_t));

    u.url = value[1];
    u.default_port = 80;

    if (sl_parse_url(cf->pool, &u) != SL_OK) {
        if (u.err) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "%s in \"%.*s\"",
                              u.err, SL_STR_ARG(&u.url));
        }

        return SL_CONF_ERROR;
    }

    hl = cmcf->listen.elts;

    for (i = 0; i < cmcf->listen.nelts; i++) {
        if (sl_cmp_sockaddr(&hl[i].sockaddr.sockaddr, hl[i].socklen,
                            &u.sockaddr.sockaddr, u.socklen)
            == SL_OK)
        {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "duplicate listen \"%.*s\"",
                              SL_STR_ARG(&u.url));
            return SL_CONF_ERROR;
        }
    }

    hl = sl_array_push(&cmcf->listen);
    if (hl == NULL) {
        return SL_CONF_ERROR;
    }

    hl->sockaddr = u.sockaddr;
    hl->socklen = u.socklen;
    hl->addr_text = u.url;

    return SL_CONF_OK;
}


static char *
sl_http_core_location(sl_conf_t *cf, sl_command_t *cmd, void *dummy)
{
    char                      *rv;
    sl_str_t                  *value, *name;
    sl_uint_t                  m, mi, i;
    sl_conf_t                  save;
    sl_module_t              **modules;
    sl_http_module_t          *module;
    sl_http_conf_ctx_t        *ctx, *pctx;
    sl_http_core_loc_conf_t   *clcf, **clcfp;
    sl_http_core_main_conf_t  *cmcf;

    ctx = sl_pcalloc(cf->pool, sizeof(sl_http_conf_ctx_t));
    if (ctx == NULL) {
        return SL_CONF_ERROR;
    }

    pctx = cf->ctx;
    ctx->main_conf = pctx->main_conf;

    ctx->loc_conf = sl_pcalloc(cf->pool,
                               sizeof(void *) * (sl_http_max_module + 1));
    if (ctx->loc_conf == NULL) {
        return SL_CONF_ERROR;
    }

    modules = cf->cycle->modules;

    for (m = 0; modules[m]; m++) {
        if (modules[m]->type != SL_HTTP_MODULE) {
            continue;
        }

        module = modules[m]->ctx;
        mi = modules[m]->ctx_index;

        if (module->create_loc_conf) {
            ctx->loc_conf[mi] = module->create_loc_conf(cf);
            if (ctx->loc_conf[mi] == NULL) {
                return SL_CONF_ERROR;
            }
        }
    }

    clcf = ctx->loc_conf[sl_http_core_module.ctx_index];
    clcf->loc_conf = ctx->loc_conf;

    value = cf->args->elts;

    if (cf->args->nelts == 3) {
        if (!sl_str_eq(&value[1], "=")) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "invalid location modifier \"%.*s\"",
                              SL_STR_ARG(&value[1]));
            return SL_CONF_ERROR;
        }

        clcf->exact_match = 1;
        name = &value[2];

    } else {
        name = &value[1];
    }

    if (name->len == 0 || name->data[0] != '/') {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "location \"%.*s\" must start with \"/\"",
                          SL_STR_ARG(name));
        return SL_CONF_ERROR;
    }

    clcf->name = *name;

    cmcf = ctx->main_conf[sl_http_core_module.ctx_index];
    clcfp = cmcf->locations.elts;

    for (i = 0; i < cmcf->locations.nelts; i++) {
        if (clcfp[i]->exact_match == clcf->exact_match
            && clcfp[i]->name.len == name->len
            && sl_memcmp(clcfp[i]->name.data, name->data, name->len) == 0)
        {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "duplicate location \"%.*s\"",
                              SL_STR_ARG(name));
            return SL_CONF_ERROR;
        }
    }

    clcfp = sl_array_push(&cmcf->locations);
    if (clcfp == NULL) {
        return SL_CONF_ERROR;
    }

    *clcfp = clcf;

    save = *cf;
    cf->ctx = ctx;
    cf->cmd_type = SL_HTTP_LOC_CONF;

    rv = sl_conf_parse(cf, NULL);

    *cf = save;

    return rv;
}


static char *
sl_http_core_index(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_core_loc_conf_t *clcf = conf;

    sl_str_t   *value, *name;
    sl_uint_t   i;

    if (clcf->index != SL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    clcf->index = sl_array_create(cf->pool, cf->args->nelts - 1,
                                  sizeof(sl_str_t));
    if (clcf->index == NULL) {
        return SL_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0 || sl_strlchr(value[i].data,
                                            value[i].data + value[i].len,
                                            '/'))
        {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "index \"%.*s\" must be a file name",
                              SL_STR_ARG(&value[i]));
            return SL_CONF_ERROR;
        }

        name = sl_array_push(clcf->index);
        if (name == NULL) {
            return SL_CONF_ERROR;
        }

        *name = value[i];
    }

    return SL_CONF_OK;
}


/* types { text/html html htm; ... }: each line is a type and extensions */
static char *
sl_http_core_types(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_core_loc_conf_t *clcf = conf;

    char       *rv;
    sl_conf_t   save;

    if (clcf->types == NULL) {
        clcf->types = sl_array_create(cf->pool, 64, sizeof(sl_hash_elt_t));
        if (clcf->types == NULL) {
            return SL_CONF_ERROR;
        }
    }

    save = *cf;
    cf->handler = sl_http_core_type;
    cf->handler_conf = conf;

    rv = sl_conf_parse(cf, NULL);

    *cf = save;

    return rv;
}


static char *
sl_http_core_type(sl_conf_t *cf, sl_command_t *dummy, void *conf)
{
    sl_http_core_loc_conf_t *clcf = conf;

    sl_str_t       *value, *type, ext;
    sl_uint_t       i, n;
    sl_hash_elt_t  *elt;

    value = cf->args->elts;

    if (cf->args->nelts < 2) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "type \"%.*s\" has no extensions",
                          SL_STR_ARG(&value[0]));
        return SL_CONF_ERROR;
    }

    type = sl_palloc(cf->pool, sizeof(sl_str_t));
    if (type == NULL) {
        return SL_CONF_ERROR;
    }

    *type = value[0];

    for (i = 1; i < cf->args->nelts; i++) {

        ext.len = value[i].len;
        ext.data = sl_pnalloc(cf->pool, ext.len);
        if (ext.data == NULL) {
            return SL_CONF_ERROR;
        }

        sl_strlow(ext.data, value[i].data, ext.len);

        elt = clcf->types->elts;

        for (n = 0; n < clcf->types->nelts; n++) {
            if (elt[n].key.len == ext.len
                && sl_memcmp(elt[n].key.data, ext.data, ext.len) == 0)
            {
                break;
            }
        }

        if (n < clcf->types->nelts) {
            sl_conf_log_error(SL_LOG_WARN, cf, 0,
                              "duplicate extension \"%.*s\", "
                              "content type: \"%.*s\", "
                              "previous content type: \"%.*s\"",
                              SL_STR_ARG(&ext), SL_STR_ARG(type),
                              SL_STR_ARG((sl_str_t *) elt[n].value));
            elt[n].value = type;
            continue;
        }

        elt = sl_array_push(clcf->types);
        if (elt == NULL) {
            return SL_CONF_ERROR;
        }

        elt->key = ext;
        elt->value = type;
    }

    return SL_CONF_OK;
}


sl_str_t *
sl_http_find_type(sl_http_core_loc_conf_t *clcf, sl_str_t *exten)
{
    u_char     lower[32];
    sl_str_t  *type;

    if (exten->len == 0 || exten->len > sizeof(lower)) {
        return &clcf->default_type;
    }

    sl_strlow(lower, exten->data, exten->len);

    type = sl_hash_find(&clcf->types_hash, lower, exten->len);

    return type ? type : &clcf->default_type;
}
