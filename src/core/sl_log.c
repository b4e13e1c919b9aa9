
/*
 * The error log: nginx's line format, a chain of logs of different
 * levels (the head always has the highest level, so that the level test
 * in sl_log_error() covers the whole chain), and the error_log directive.
 *
 *   2026/11/25 05:01:02 [error] 4242#4242: *17 message: errno text (2)
 *       while reading request, client: 127.0.0.1
 */


#include <sl_config.h>
#include <sl_core.h>


/* room kept for ": errno text (N)" when the message is long */
#define SL_LOG_ERRNO_ROOM  64


static void sl_log_insert(sl_log_t *log, sl_log_t *new_log);
static char *sl_error_log(sl_conf_t *cf, sl_command_t *cmd, void *conf);


/* duplicate warn and above to stderr until the process has started */
sl_uint_t              sl_use_stderr = 1;


static sl_log_t        sl_log;
static sl_open_file_t  sl_log_file;

static const char     *sl_log_levels[] = {
    "stderr", "emerg", "alert", "crit", "error",
    "warn", "notice", "info", "debug"
};


static sl_command_t  sl_errlog_commands[] = {

    { sl_string("error_log"),
      SL_MAIN_CONF|SL_CONF_1MORE,
      sl_error_log,
      0,
      0,
      NULL },

      sl_null_command
};


static sl_core_module_t  sl_errlog_module_ctx = {
    sl_string("errlog"),
    NULL,
    NULL
};


sl_module_t  sl_errlog_module = {
    SL_MODULE_V1,
    &sl_errlog_module_ctx,                 /* module context */
    sl_errlog_commands,                    /* module directives */
    SL_CORE_MODULE,                        /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


void
sl_log_error_core(sl_uint_t level, sl_log_t *log, sl_err_t err,
    const char *fmt, ...)
{
    char       errbuf[128];
    u_char     errstr[SL_MAX_ERROR_STR], *p, *q, *last, *msg;
    va_list    args;
    sl_uint_t  wrote_stderr;

    if (level > SL_LOG_DEBUG) {
        level = SL_LOG_DEBUG;
    }

    if (sl_cached_err_log_time.len == 0) {
        sl_time_init();
    }

    /* one byte is kept for the line feed */
    last = errstr + SL_MAX_ERROR_STR - 1;

    p = sl_cpymem(errstr, sl_cached_err_log_time.data,
                  sl_cached_err_log_time.len);

    p = sl_slprintf(p, last, " [%s] %d#%d: ", sl_log_levels[level],
                    (int) getpid(), (int) gettid());

    if (log->connection) {
        p = sl_slprintf(p, last, "*%llu ",
                        (unsigned long long) log->connection);
    }

    msg = p;

    va_start(args, fmt);
    p = sl_vslprintf(p, last, fmt, args);
    va_end(args);

    if (err) {
        if (p > last - SL_LOG_ERRNO_ROOM) {
            p = last - SL_LOG_ERRNO_ROOM;
            *p++ = '.';
            *p++ = '.';
            *p++ = '.';
        }

        p = sl_slprintf(p, last, ": %s (%d)",
                        strerror_r(err, errbuf, sizeof(errbuf)), err);
    }

    if (level != SL_LOG_DEBUG) {

        if (log->action) {
            p = sl_slprintf(p, last, " while %s", log->action);
        }

        if (log->handler && last - p > 2) {
            q = p;
            *q++ = ',';
            *q++ = ' ';

            q = log->handler(log, q, last - q);

            if (q != p + 2) {
                p = q;
            }
        }
    }

    *p++ = LF;

    wrote_stderr = 0;

    for ( /* void */ ; log; log = log->next) {

        if (log->log_level < level || log->file == NULL
            || log->file->fd == SL_INVALID_FILE)
        {
            continue;
        }

        (void) sl_write_fd(log->file->fd, errstr, p - errstr);

        if (log->file->fd == STDERR_FILENO) {
            wrote_stderr = 1;
        }
    }

    if (!sl_use_stderr || level > SL_LOG_WARN || wrote_stderr) {
        return;
    }

    /* "sluice: [emerg] message", as sl_log_stderr() writes it */

    q = sl_slprintf(errstr, msg, "sluice: [%s] ", sl_log_levels[level]);

    if (q == msg) {
        (void) sl_write_fd(STDERR_FILENO, errstr, p - errstr);
        return;
    }

    (void) sl_write_fd(STDERR_FILENO, errstr, q - errstr);
    (void) sl_write_fd(STDERR_FILENO, msg, p - msg);
}


void
sl_log_stderr(sl_err_t err, const char *fmt, ...)
{
    char      errbuf[128];
    u_char    errstr[SL_MAX_ERROR_STR], *p, *last;
    va_list   args;

    last = errstr + SL_MAX_ERROR_STR - 1;

    p = sl_cpymem(errstr, "sluice: ", sizeof("sluice: ") - 1);

    va_start(args, fmt);
    p = sl_vslprintf(p, last, fmt, args);
    va_end(args);

    if (err) {
        if (p > last - SL_LOG_ERRNO_ROOM) {
            p = last - SL_LOG_ERRNO_ROOM;
            *p++ = '.';
            *p++ = '.';
            *p++ = '.';
        }

        p = sl_slprintf(p, last, ": %s (%d)",
                        strerror_r(err, errbuf, sizeof(errbuf)), err);
    }

    *p++ = LF;

    (void) sl_write_fd(STDERR_FILENO, errstr, p - errstr);
}


/*
 * The log of the process before any configuration: the default error
 * log under the prefix, or stderr when it cannot be opened.
 */

sl_log_t *
sl_log_init(u_char *prefix, u_char *error_log)
{
    u_char  *p, *name;
    size_t   nlen, plen;

    sl_log.file = &sl_log_file;
    sl_log.log_level = SL_LOG_NOTICE;

    sl_log_file.fd = STDERR_FILENO;

    if (error_log == NULL) {
        error_log = (u_char *) SL_ERROR_LOG_PATH;
    }

    name = error_log;
    nlen = sl_strlen(name);

    if (nlen == 0 || sl_strcmp(name, "stderr") == 0) {
        return &sl_log;
    }

    p = NULL;

    if (name[0] != '/') {

        if (prefix == NULL) {
            prefix = (u_char *) SL_PREFIX;
        }

        plen = sl_strlen(prefix);

        if (plen) {
            name = malloc(plen + nlen + 2);
            if (name == NULL) {
                return &sl_log;
            }

            p = sl_cpymem(name, prefix, plen);

            if (*(p - 1) != '/') {
                *p++ = '/';
            }

            (void) sl_cpystrn(p, error_log, nlen + 1);

            p = name;
        }
    }

    sl_log_file.fd = sl_open_append_file(name);

    if (sl_log_file.fd == SL_INVALID_FILE) {
        sl_log_stderr(sl_errno, "[alert] could not open error log file: "
                      "open() \"%s\" failed", name);

        sl_log_file.fd = STDERR_FILENO;
    }

    if (p) {
        free(p);
    }

    return &sl_log;
}


sl_int_t
sl_log_level_from_name(sl_str_t *name)
{
    sl_uint_t  n;

    for (n = SL_LOG_EMERG; n <= SL_LOG_DEBUG; n++) {
        if (name->len == sl_strlen(sl_log_levels[n])
            && sl_memcmp(name->data, sl_log_levels[n], name->len) == 0)
        {
            return (sl_int_t) n;
        }
    }

    return SL_ERROR;
}


/*
 * Sends stderr (what a crashing library prints) into the error log once
 * the process runs detached; kept when the log is stderr itself.
 */

sl_int_t
sl_log_redirect_stderr(sl_cycle_t *cycle)
{
    sl_log_t  *log;

    if (cycle->log_use_stderr) {
        return SL_OK;
    }

    for (log = cycle->log; log; log = log->next) {

        if (log->file == NULL || log->file->fd == SL_INVALID_FILE) {
            continue;
        }

        if (log->file->fd == STDERR_FILENO) {
            return SL_OK;
        }

        if (dup2(log->file->fd, STDERR_FILENO) == -1) {
            sl_log_error(SL_LOG_ALERT, cycle->log, sl_errno,
                         "dup2(STDERR) failed");
            return SL_ERROR;
        }

        return SL_OK;
    }

    return SL_OK;
}


sl_int_t
sl_log_open_default(sl_cycle_t *cycle)
{
    sl_str_t  name;

    if (cycle->new_log.file != NULL) {
        return SL_OK;
    }

    if (cycle->error_log.len) {
        name = cycle->error_log;

    } else {
        sl_str_set(&name, SL_ERROR_LOG_PATH);
    }

    if (sl_str_eq(&name, "stderr")) {
        sl_str_null(&name);
        cycle->log_use_stderr = 1;
    }

    cycle->new_log.log_level = SL_LOG_ERR;

    cycle->new_log.file = sl_conf_open_file(cycle, &name);
    if (cycle->new_log.file == NULL) {
        sl_log_error(SL_LOG_EMERG, cycle->log, sl_errno,
                     "could not open error log \"%.*s\"", SL_STR_ARG(&name));
        return SL_ERROR;
    }

    return SL_OK;
}


/*
 * error_log FILE [LEVEL]: the first use fills *head in place (it is
 * embedded in the cycle), later ones add logs to the chain.
 */

char *
sl_log_set_log(sl_conf_t *cf, sl_log_t **head)
{
    sl_int_t    level;
    sl_str_t   *value, name;
    sl_log_t   *new_log;

    value = cf->args->elts;

    if (cf->args->nelts > 3) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "too many arguments in \"%.*s\": "
                          "expected FILE [LEVEL]", SL_STR_ARG(&value[0]));
        return SL_CONF_ERROR;
    }

    level = SL_LOG_ERR;

    if (cf->args->nelts == 3) {
        level = sl_log_level_from_name(&value[2]);

        if (level == SL_ERROR) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "invalid log level \"%.*s\": expected emerg, "
                              "alert, crit, error, warn, notice, info "
                              "or debug", SL_STR_ARG(&value[2]));
            return SL_CONF_ERROR;
        }
    }

    if (*head != NULL && (*head)->file == NULL) {
        new_log = *head;

    } else {
        new_log = sl_pcalloc(cf->pool, sizeof(sl_log_t));
        if (new_log == NULL) {
            return SL_CONF_ERROR;
        }

        if (*head == NULL) {
            *head = new_log;
        }
    }

    name = value[1];

    if (sl_str_eq(&name, "stderr")) {
        sl_str_null(&name);
        cf->cycle->log_use_stderr = 1;
    }

    new_log->file = sl_conf_open_file(cf->cycle, &name);
    if (new_log->file == NULL) {
        sl_conf_log_error(SL_LOG_EMERG, cf, sl_errno,
                          "could not open error log \"%.*s\"",
                          SL_STR_ARG(&value[1]));
        return SL_CONF_ERROR;
    }

    new_log->log_level = level;

    if (new_log != *head) {
        sl_log_insert(*head, new_log);
    }

    return SL_CONF_OK;
}


/*
 * Keeps the chain sorted by level, highest first.  The head is embedded
 * in its owner, so a new highest log swaps contents with it.
 */

static void
sl_log_insert(sl_log_t *log, sl_log_t *new_log)
{
    sl_log_t  tmp;

    if (new_log->log_level > log->log_level) {
        tmp = *log;
        *log = *new_log;
        *new_log = tmp;

        log->next = new_log;
        return;
    }

    while (log->next) {
        if (new_log->log_level > log->next->log_level) {
            new_log->next = log->next;
            log->next = new_log;
            return;
        }

        log = log->next;
    }

    log->next = new_log;
}


static char *
sl_error_log(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_log_t  *dummy;

    dummy = &cf->cycle->new_log;

    return sl_log_set_log(cf, &dummy);
}
