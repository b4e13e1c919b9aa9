
/*
 * Static files: the default content handler.  It maps the normalised
 * URI under the location's root, answers GET and HEAD with the file
 * (sent by sendfile as a file buffer), a directory URI with its index
 * file, and If-Modified-Since with 304 when the date matches exactly.
 */

#include <sl_config.h>
#include <sl_core.h>
#include <sl_http.h>


static sl_int_t sl_http_static_handler(sl_http_request_t *r);
static sl_int_t sl_http_static_open(sl_http_request_t *r, sl_str_t *path,
    struct stat *st, sl_fd_t *fd);
static sl_int_t sl_http_static_redirect(sl_http_request_t *r);
static sl_int_t sl_http_static_init(sl_conf_t *cf);


static sl_http_module_t  sl_http_static_module_ctx = {
    NULL,                                  /* preconfiguration */
    sl_http_static_init,                   /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


sl_module_t  sl_http_static_module = {
    SL_MODULE_V1,
    &sl_http_static_module_ctx,            /* module context */
    NULL,                                  /* module directives */
    SL_HTTP_MODULE,                        /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


static sl_int_t
sl_http_static_handler(sl_http_request_t *r)
{
    u_char                   *p, *last;
    sl_fd_t                   fd;
    sl_int_t                  rc;
    sl_buf_t                 *b;
    sl_str_t                  path, exten, *index, lm;
    sl_uint_t                 i;
    sl_file_t                *file;
    sl_chain_t               *cl;
    struct stat               st;
    sl_http_core_loc_conf_t  *clcf;
    u_char                    date[sizeof("Mon, 28 Sep 1970 06:00:00 GMT")];

    if (!(r->method & (SL_HTTP_GET|SL_HTTP_HEAD))) {
        return SL_HTTP_NOT_ALLOWED;
    }

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    /* root + uri + the longest index name + NUL */

    path.len = clcf->root.len + r->uri.len;
    index = clcf->index->elts;

    for (i = 0; i < clcf->index->nelts; i++) {
        path.len = sl_max(path.len,
                          clcf->root.len + r->uri.len + index[i].len);
    }

    path.data = sl_pnalloc(r->pool, path.len + 1);
    if (path.data == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = sl_cpymem(path.data, clcf->root.data, clcf->root.len);
    p = sl_cpymem(p, r->uri.data, r->uri.len);

    exten = r->exten;

    if (r->uri.data[r->uri.len - 1] != '/') {
        *p = '\0';
        path.len = p - path.data;

        rc = sl_http_static_open(r, &path, &st, &fd);
        if (rc != SL_OK) {
            return rc;
        }

    } else {
        rc = SL_HTTP_NOT_FOUND;

        for (i = 0; i < clcf->index->nelts; i++) {
            last = sl_cpymem(p, index[i].data, index[i].len);
            *last = '\0';
            path.len = last - path.data;

            rc = sl_http_static_open(r, &path, &st, &fd);

            if (rc == SL_HTTP_NOT_FOUND) {
                continue;
            }

            if (rc != SL_OK) {
                return rc;
            }

            exten.len = 0;

            for (last = index[i].data + index[i].len - 1;
                 last >= index[i].data;
                 last--)
            {
                if (*last == '.') {
                    exten.data = last + 1;
                    exten.len = index[i].data + index[i].len - exten.data;
                    break;
                }
            }

            break;
        }

        if (rc != SL_OK) {
            return rc;
        }
    }

    if (fd == SL_INVALID_FILE) {
        /* a directory named without its trailing slash */
        return sl_http_static_redirect(r);
    }

    r->headers_out.status = SL_HTTP_OK;

    if (sl_pool_cleanup_fd(r->pool, fd) != SL_OK) {
        sl_close_file(fd);
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->headers_in.if_modified_since) {
        lm.data = date;
        lm.len = sl_http_time(date, st.st_mtime) - date;

        if (r->headers_in.if_modified_since->value.len == lm.len
            && sl_memcmp(r->headers_in.if_modified_since->value.data,
                         lm.data, lm.len) == 0)
        {
            return SL_HTTP_NOT_MODIFIED;
        }
    }

    r->headers_out.content_length_n = st.st_size;
    r->headers_out.last_modified_time = st.st_mtime;
    r->headers_out.content_type = *sl_http_find_type(clcf, &exten);

    if (sl_http_send_header(r) != SL_OK) {
        return SL_ERROR;
    }

    b = sl_calloc_buf(r->pool);
    file = sl_pcalloc(r->pool, sizeof(sl_file_t));
    cl = sl_alloc_chain_link(r->pool);
    if (b == NULL || file == NULL || cl == NULL) {
        return SL_ERROR;
    }

    file->fd = fd;
    file->name = path;
    file->log = r->connection->log;

    b->file = file;
    b->in_file = st.st_size ? 1 : 0;
    b->file_pos = 0;
    b->file_last = st.st_size;
    b->last_buf = 1;

    cl->buf = b;
    cl->next = NULL;

    return sl_http_output(r, cl) == SL_ERROR ? SL_ERROR : SL_OK;
}


/*
 * SL_OK with *fd open on a regular file, or with *fd invalid for a
 * directory (not an index), or the status to answer with.
 */
static sl_int_t
sl_http_static_open(sl_http_request_t *r, sl_str_t *path, struct stat *st,
    sl_fd_t *fd)
{
    sl_err_t  err;

    *fd = sl_open_file(path->data, O_RDONLY|O_NONBLOCK, 0, 0);

    if (*fd == SL_INVALID_FILE) {
        err = sl_errno;

        if (err == SL_ENOENT || err == SL_ENOTDIR || err == ENAMETOOLONG) {
            return SL_HTTP_NOT_FOUND;
        }

        if (err == SL_EACCES) {
            sl_log_error(SL_LOG_ERR, r->connection->log, err,
                         "open() \"%s\" failed", path->data);
            return SL_HTTP_FORBIDDEN;
        }

        sl_log_error(SL_LOG_CRIT, r->connection->log, err,
                     "open() \"%s\" failed", path->data);
        return (err == ELOOP) ? SL_HTTP_NOT_FOUND
                              : SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (fstat(*fd, st) == -1) {
        sl_log_error(SL_LOG_CRIT, r->connection->log, sl_errno,
                     "fstat() \"%s\" failed", path->data);
        sl_close_file(*fd);
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (S_ISREG(st->st_mode)) {
        return SL_OK;
    }

    sl_close_file(*fd);
    *fd = SL_INVALID_FILE;

    /* neither a device nor an "index" that is a directory is served */
    if (!S_ISDIR(st->st_mode) || r->uri.data[r->uri.len - 1] == '/') {
        return SL_HTTP_NOT_FOUND;
    }

    return SL_OK;
}


/* "/dir" is a directory: send the client to "/dir/", args kept */
static sl_int_t
sl_http_static_redirect(sl_http_request_t *r)
{
    u_char    *p;
    size_t     len;
    sl_str_t  *path;

    path = &r->unparsed_uri;
    len = r->args.len ? (size_t) (r->args.data - 1 - path->data) : path->len;

    r->headers_out.location.data = sl_pnalloc(r->pool,
                                              len + 2 + r->args.len);
    if (r->headers_out.location.data == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = sl_cpymem(r->headers_out.location.data, path->data, len);
    *p++ = '/';

    if (r->args.len) {
        *p++ = '?';
        p = sl_cpymem(p, r->args.data, r->args.len);
    }

    r->headers_out.location.len = p - r->headers_out.location.data;
    r->headers_out.status = 0;

    return SL_HTTP_MOVED_PERMANENTLY;
}


static sl_int_t
sl_http_static_init(sl_conf_t *cf)
{
    sl_http_handler_pt        *h;
    sl_http_core_main_conf_t  *cmcf;

    cmcf = sl_http_conf_get_module_main_conf(cf, sl_http_core_module);

    h = sl_array_push(&cmcf->phases[SL_HTTP_CONTENT_PHASE].handlers);
    if (h == NULL) {
        return SL_ERROR;
    }

    *h = sl_http_static_handler;

    return SL_OK;
}
