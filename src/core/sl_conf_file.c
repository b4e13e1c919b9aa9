
/*
 * The configuration file: the tokenizer (words, quotes and escapes,
 * '#' comments, ';' and '{ }'), the three ways of parsing (a file, the
 * rest of a block, a -g string), the dispatch of each directive to the
 * module that declares it, include with globs, and the generic slot
 * setters.  Nothing here knows about processes or events: a cycle with
 * a pool, a log and a modules array is all it needs.
 */


#include <sl_config.h>
#include <sl_core.h>


/* the longest word; the buffer is malloc'ed per open file, not pooled */
#define SL_CONF_BUFFER             65536

/* a file including itself must end with an error, not with the stack */
#define SL_CONF_MAX_INCLUDE_DEPTH  32

/* the separators between words */
#define sl_conf_is_space(ch)                                                 \
    ((ch) == ' ' || (ch) == '\t' || (ch) == CR || (ch) == LF)


static sl_int_t sl_conf_read_token(sl_conf_t *cf);
static sl_int_t sl_conf_read_more(sl_conf_t *cf, u_char **start);
static sl_int_t sl_conf_push_word(sl_conf_t *cf, u_char *start, u_char *end);
static sl_int_t sl_conf_handler(sl_conf_t *cf, sl_int_t last);
static sl_uint_t sl_conf_args_valid(sl_command_t *cmd, sl_uint_t nargs);
static char *sl_conf_include_glob(sl_conf_t *cf, sl_str_t *pattern);
static char *sl_conf_invalid_value(sl_conf_t *cf, sl_command_t *cmd);
static sl_int_t sl_conf_dump_file(sl_conf_t *cf, sl_conf_file_t *file);


static sl_command_t  sl_conf_commands[] = {

    { sl_string("include"),
      SL_ANY_CONF|SL_CONF_TAKE1,
      sl_conf_include,
      0,
      0,
      NULL },

      sl_null_command
};


sl_module_t  sl_conf_module = {
    SL_MODULE_V1,
    NULL,                                  /* module context */
    sl_conf_commands,                      /* module directives */
    SL_CONF_MODULE,                        /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


/* the argument count bit for 0..7 arguments after the name */
static sl_uint_t  sl_conf_argument_number[] = {
    SL_CONF_NOARGS,
    SL_CONF_TAKE1,
    SL_CONF_TAKE2,
    SL_CONF_TAKE3,
    SL_CONF_TAKE4,
    SL_CONF_TAKE5,
    SL_CONF_TAKE6,
    SL_CONF_TAKE7
};


static sl_uint_t  sl_conf_include_depth;

sl_array_t       *sl_conf_dump;


char *
sl_conf_parse(sl_conf_t *cf, sl_str_t *filename)
{
    char            *rv;
    u_char          *name;
    sl_fd_t          fd;
    sl_int_t         rc;
    sl_conf_file_t  *prev, *file;

    enum {
        parse_file = 0,
        parse_block,
        parse_param
    } type;

    fd = SL_INVALID_FILE;
    prev = NULL;
    name = NULL;

    if (filename) {

        name = (u_char *) sl_pstrz(cf->pool, filename);
        if (name == NULL) {
            return SL_CONF_ERROR;
        }

        fd = sl_open_file(name, O_RDONLY, 0, 0);
        if (fd == SL_INVALID_FILE) {
            sl_conf_log_error(SL_LOG_EMERG, cf, sl_errno,
                              "open() \"%s\" failed", name);
            return SL_CONF_ERROR;
        }

        file = sl_pcalloc(cf->pool, sizeof(sl_conf_file_t));
        if (file == NULL) {
            sl_close_file(fd);
            return SL_CONF_ERROR;
        }

        file->buffer = sl_pcalloc(cf->pool, sizeof(sl_buf_t));
        if (file->buffer == NULL) {
            sl_close_file(fd);
            return SL_CONF_ERROR;
        }

        file->buffer->start = sl_alloc(SL_CONF_BUFFER, cf->log);
        if (file->buffer->start == NULL) {
            sl_close_file(fd);
            return SL_CONF_ERROR;
        }

        file->buffer->pos = file->buffer->start;
        file->buffer->last = file->buffer->start;
        file->buffer->end = file->buffer->start + SL_CONF_BUFFER;
        file->buffer->temporary = 1;

        file->file.fd = fd;
        file->file.name.len = sl_strlen(name);
        file->file.name.data = name;
        file->file.log = cf->log;
        file->offset = 0;
        file->line = 1;

        prev = cf->conf_file;
        cf->conf_file = file;

        type = parse_file;

        if (sl_conf_dump && sl_conf_dump_file(cf, file) != SL_OK) {
            goto failed;
        }

    } else if (cf->conf_file->file.fd != SL_INVALID_FILE) {
        type = parse_block;

    } else {
        type = parse_param;
    }

    for ( ;; ) {
        rc = sl_conf_read_token(cf);

        if (rc == SL_ERROR) {
            goto failed;
        }

        if (rc == SL_CONF_BLOCK_DONE) {

            if (type != parse_block) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unexpected \"}\"");
                goto failed;
            }

            break;
        }

        if (rc == SL_CONF_FILE_DONE) {

            if (type == parse_block) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "unexpected end of file, expecting \"}\"");
                goto failed;
            }

            break;
        }

        if (rc == SL_CONF_BLOCK_START && type == parse_param) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "block directives are not supported "
                              "in -g option");
            goto failed;
        }

        /* rc is SL_OK or SL_CONF_BLOCK_START */

        if (cf->handler) {

            /* a block with its own grammar, such as "types { }" */

            rv = (*cf->handler)(cf, NULL, cf->handler_conf);

            if (rv == SL_CONF_OK) {
                continue;
            }

            if (rv != SL_CONF_ERROR) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "%s", rv);
            }

            goto failed;
        }

        if (sl_conf_handler(cf, rc) != SL_OK) {
            goto failed;
        }
    }

    rv = SL_CONF_OK;
    goto done;

failed:

    rv = SL_CONF_ERROR;

done:

    if (filename) {
        sl_free(cf->conf_file->buffer->start);
        cf->conf_file->buffer->start = NULL;

        if (sl_close_file(fd) == -1) {
            sl_log_error(SL_LOG_ALERT, cf->log, sl_errno,
                         "close() \"%s\" failed", name);
            rv = SL_CONF_ERROR;
        }

        cf->conf_file = prev;
    }

    return rv;
}


char *
sl_conf_param(sl_conf_t *cf)
{
    char            *rv;
    sl_buf_t         b;
    sl_str_t        *param;
    sl_conf_file_t   conf_file, *prev;

    param = &cf->cycle->conf_param;

    if (param->len == 0) {
        return SL_CONF_OK;
    }

    sl_memzero(&conf_file, sizeof(sl_conf_file_t));
    sl_memzero(&b, sizeof(sl_buf_t));

    b.start = param->data;
    b.pos = param->data;
    b.last = param->data + param->len;
    b.end = b.last;
    b.temporary = 1;

    conf_file.file.fd = SL_INVALID_FILE;
    conf_file.file.log = cf->log;
    conf_file.buffer = &b;
    conf_file.line = 1;

    prev = cf->conf_file;
    cf->conf_file = &conf_file;

    rv = sl_conf_parse(cf, NULL);

    cf->conf_file = prev;

    return rv;
}


/*
 * Reads one directive into cf->args: the words up to ';' (SL_OK) or '{'
 * (SL_CONF_BLOCK_START), or a lone '}' (SL_CONF_BLOCK_DONE), or the end
 * of the input (SL_CONF_FILE_DONE).  A word is unquoted, or in single or
 * double quotes; a backslash escapes the next character anywhere.
 */

static sl_int_t
sl_conf_read_token(sl_conf_t *cf)
{
    u_char     ch, *start;
    sl_int_t   rc;
    sl_buf_t  *b;
    sl_uint_t  escaped;

    enum {
        sw_space = 0,
        sw_comment,
        sw_word,
        sw_dquoted,
        sw_squoted,
        sw_after_quote
    } state;

    cf->args->nelts = 0;
    b = cf->conf_file->buffer;
    start = NULL;
    escaped = 0;
    state = sw_space;

    for ( ;; ) {

        if (b->pos >= b->last) {

            rc = sl_conf_read_more(cf, &start);

            if (rc == SL_ERROR) {
                return SL_ERROR;
            }

            if (rc == SL_DONE) {

                if (cf->args->nelts == 0
                    && (state == sw_space || state == sw_comment))
                {
                    return SL_CONF_FILE_DONE;
                }

                if (cf->conf_file->file.fd == SL_INVALID_FILE) {
                    sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                      "unexpected end of parameter, "
                                      "expecting \";\"");
                    return SL_ERROR;
                }

                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "unexpected end of file, "
                                  "expecting \";\" or \"}\"");
                return SL_ERROR;
            }
        }

        ch = *b->pos++;

        if (ch == LF) {
            cf->conf_file->line++;
        }

        if (escaped) {
            escaped = 0;
            continue;
        }

        switch (state) {

        case sw_comment:
            if (ch == LF) {
                state = sw_space;
            }
            continue;

        case sw_space:

            if (sl_conf_is_space(ch)) {
                continue;
            }

            switch (ch) {

            case ';':
            case '{':
                if (cf->args->nelts == 0) {
                    sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                      "unexpected \"%c\"", ch);
                    return SL_ERROR;
                }

                return (ch == '{') ? SL_CONF_BLOCK_START : SL_OK;

            case '}':
                if (cf->args->nelts > 0) {
                    sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                      "unexpected \"}\"");
                    return SL_ERROR;
                }

                return SL_CONF_BLOCK_DONE;

            case '#':
                state = sw_comment;
                continue;

            case '"':
                start = b->pos;
                state = sw_dquoted;
                continue;

            case '\'':
                start = b->pos;
                state = sw_squoted;
                continue;

            case '\\':
                escaped = 1;
                /* fall through */

            default:
                start = b->pos - 1;
                state = sw_word;
                continue;
            }

        case sw_word:

            if (ch == '\\') {
                escaped = 1;
                continue;
            }

            if (!sl_conf_is_space(ch) && ch != ';' && ch != '{') {
                continue;
            }

            break;

        case sw_dquoted:
        case sw_squoted:

            if (ch == '\\') {
                escaped = 1;
                continue;
            }

            if (ch != (u_char) (state == sw_dquoted ? '"' : '\'')) {
                continue;
            }

            break;

        case sw_after_quote:

            if (sl_conf_is_space(ch)) {
                state = sw_space;
                continue;
            }

            if (ch == ';') {
                return SL_OK;
            }

            if (ch == '{') {
                return SL_CONF_BLOCK_START;
            }

            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unexpected \"%c\"", ch);
            return SL_ERROR;
        }

        /* the word [start, b->pos - 1) is complete */

        if (sl_conf_push_word(cf, start, b->pos - 1) != SL_OK) {
            return SL_ERROR;
        }

        start = NULL;

        if (state != sw_word) {
            state = sw_after_quote;
            continue;
        }

        if (ch == ';') {
            return SL_OK;
        }

        if (ch == '{') {
            return SL_CONF_BLOCK_START;
        }

        state = sw_space;
    }
}


/*
 * Refills the buffer, keeping the word in progress (from *start) at its
 * beginning.  SL_DONE at the end of the input.
 */

static sl_int_t
sl_conf_read_more(sl_conf_t *cf, u_char **start)
{
    size_t           keep;
    ssize_t          n;
    sl_buf_t        *b;
    sl_conf_file_t  *file;

    file = cf->conf_file;
    b = file->buffer;

    if (file->file.fd == SL_INVALID_FILE) {
        return SL_DONE;
    }

    keep = (*start) ? (size_t) (b->pos - *start) : 0;

    if (keep == (size_t) (b->end - b->start)) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "too long parameter \"%.*s...\" started",
                          10, (char *) *start);
        return SL_ERROR;
    }

    if (keep) {
        sl_memmove(b->start, *start, keep);
    }

    do {
        n = pread(file->file.fd, b->start + keep,
                  b->end - b->start - keep, file->offset);
    } while (n == -1 && sl_errno == SL_EINTR);

    if (n == -1) {
        sl_conf_log_error(SL_LOG_EMERG, cf, sl_errno, "pread() \"%.*s\" failed",
                          SL_STR_ARG(&file->file.name));
        return SL_ERROR;
    }

    if (n == 0) {
        return SL_DONE;
    }

    file->offset += n;

    if (*start) {
        *start = b->start;
    }

    b->pos = b->start + keep;
    b->last = b->pos + n;

    return SL_OK;
}


/* copies a word into the pool, undoing the escapes, NUL-terminated */

static sl_int_t
sl_conf_push_word(sl_conf_t *cf, u_char *start, u_char *end)
{
    u_char    *src, *dst;
    sl_str_t  *word;

    word = sl_array_push(cf->args);
    if (word == NULL) {
        return SL_ERROR;
    }

    word->data = sl_pnalloc(cf->pool, end - start + 1);
    if (word->data == NULL) {
        return SL_ERROR;
    }

    src = start;
    dst = word->data;

    while (src < end) {

        if (*src == '\\' && src + 1 < end) {

            switch (src[1]) {

            case '"':
            case '\'':
            case '\\':
                *dst++ = src[1];
                src += 2;
                continue;

            case 't':
                *dst++ = '\t';
                src += 2;
                continue;

            case 'r':
                *dst++ = '\r';
                src += 2;
                continue;

            case 'n':
                *dst++ = '\n';
                src += 2;
                continue;
            }
        }

        *dst++ = *src++;
    }

    *dst = '\0';
    word->len = dst - word->data;

    return SL_OK;
}


/*
 * Finds the module that declares the directive in cf->args and calls its
 * handler with the configuration the directive's context points to.
 */

static sl_int_t
sl_conf_handler(sl_conf_t *cf, sl_int_t last)
{
    char          *rv;
    void          *conf, **confp;
    sl_uint_t      i, found;
    sl_str_t      *name;
    sl_module_t   *module;
    sl_command_t  *cmd;

    name = cf->args->elts;
    found = 0;

    for (i = 0; cf->cycle->modules[i]; i++) {

        module = cf->cycle->modules[i];

        if (module->type != SL_CONF_MODULE
            && module->type != cf->module_type)
        {
            continue;
        }

        cmd = module->commands;
        if (cmd == NULL) {
            continue;
        }

        for ( /* void */ ; cmd->name.len; cmd++) {

            if (name->len != cmd->name.len
                || sl_memcmp(name->data, cmd->name.data, name->len) != 0)
            {
                continue;
            }

            found = 1;

            /* another module may declare it for this context */

            if (!(cmd->type & cf->cmd_type)) {
                continue;
            }

            if (!(cmd->type & SL_CONF_BLOCK) && last != SL_OK) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "directive \"%s\" is not terminated "
                                  "by \";\"", name->data);
                return SL_ERROR;
            }

            if ((cmd->type & SL_CONF_BLOCK) && last != SL_CONF_BLOCK_START) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "directive \"%s\" has no opening \"{\"",
                                  name->data);
                return SL_ERROR;
            }

            if (!sl_conf_args_valid(cmd, cf->args->nelts)) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "invalid number of arguments "
                                  "in \"%s\" directive", name->data);
                return SL_ERROR;
            }

            conf = NULL;

            if (cmd->type & SL_DIRECT_CONF) {
                conf = ((void **) cf->ctx)[module->index];

            } else if (cmd->type & SL_MAIN_CONF) {
                conf = &(((void **) cf->ctx)[module->index]);

            } else if (cf->ctx
                       && module->ctx_index != SL_MODULE_UNSET_INDEX)
            {
                /* e.g. include, whose module has no context of its own */

                confp = *(void **) ((char *) cf->ctx + cmd->conf);

                if (confp) {
                    conf = confp[module->ctx_index];
                }
            }

            rv = cmd->set(cf, cmd, conf);

            if (rv == SL_CONF_OK) {
                return SL_OK;
            }

            if (rv != SL_CONF_ERROR) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "\"%s\" directive %s", name->data, rv);
            }

            return SL_ERROR;
        }
    }

    if (found) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "\"%s\" directive is not allowed here",
                          name->data);
        return SL_ERROR;
    }

    sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                      "unknown directive \"%s\"", name->data);

    return SL_ERROR;
}


/* nargs counts the name too */

static sl_uint_t
sl_conf_args_valid(sl_command_t *cmd, sl_uint_t nargs)
{
    if (cmd->type & SL_CONF_ANY) {
        return 1;
    }

    if (cmd->type & SL_CONF_FLAG) {
        return nargs == 2;
    }

    if (cmd->type & SL_CONF_1MORE) {
        return nargs > 1;
    }

    if (cmd->type & SL_CONF_2MORE) {
        return nargs > 2;
    }

    if (nargs > SL_CONF_MAX_ARGS) {
        return 0;
    }

    return (cmd->type & sl_conf_argument_number[nargs - 1]) != 0;
}


char *
sl_conf_include(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char      *rv;
    sl_str_t  *value, file;

    value = cf->args->elts;
    file = value[1];

    if (sl_conf_include_depth >= SL_CONF_MAX_INCLUDE_DEPTH) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "includes nested deeper than %d levels",
                          SL_CONF_MAX_INCLUDE_DEPTH);
        return SL_CONF_ERROR;
    }

    if (sl_conf_full_name(cf->cycle, &file, 1) != SL_OK) {
        return SL_CONF_ERROR;
    }

    sl_conf_include_depth++;

    if (sl_strlchr(file.data, file.data + file.len, '*') == NULL
        && sl_strlchr(file.data, file.data + file.len, '?') == NULL
        && sl_strlchr(file.data, file.data + file.len, '[') == NULL)
    {
        rv = sl_conf_parse(cf, &file);

    } else {
        rv = sl_conf_include_glob(cf, &file);
    }

    sl_conf_include_depth--;

    return rv;
}


/* a pattern matching nothing is not an error; directories are skipped */

static char *
sl_conf_include_glob(sl_conf_t *cf, sl_str_t *pattern)
{
    int        rc;
    char      *rv, *z;
    size_t     len;
    glob_t     gl;
    sl_str_t   name;
    sl_uint_t  i;

    z = sl_pstrz(cf->pool, pattern);
    if (z == NULL) {
        return SL_CONF_ERROR;
    }

    sl_memzero(&gl, sizeof(glob_t));

    rc = glob(z, GLOB_MARK, NULL, &gl);

    if (rc == GLOB_NOMATCH) {
        globfree(&gl);
        return SL_CONF_OK;
    }

    if (rc != 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, sl_errno,
                          "glob() \"%s\" failed", z);
        globfree(&gl);
        return SL_CONF_ERROR;
    }

    rv = SL_CONF_OK;

    for (i = 0; i < gl.gl_pathc; i++) {

        len = sl_strlen(gl.gl_pathv[i]);

        if (len == 0 || gl.gl_pathv[i][len - 1] == '/') {
            continue;
        }

        name.len = len;
        name.data = (u_char *) gl.gl_pathv[i];

        rv = sl_conf_parse(cf, &name);
        if (rv != SL_CONF_OK) {
            break;
        }
    }

    globfree(&gl);

    return rv;
}


sl_int_t
sl_conf_full_name(sl_cycle_t *cycle, sl_str_t *name, sl_uint_t conf_prefix)
{
    sl_str_t  *prefix;

    prefix = conf_prefix ? &cycle->conf_prefix : &cycle->prefix;

    return sl_get_full_name(cycle->pool, prefix, name);
}


void
sl_conf_log_error(sl_uint_t level, sl_conf_t *cf, sl_err_t err,
    const char *fmt, ...)
{
    char     errbuf[128];
    u_char   errstr[SL_MAX_CONF_ERRSTR], *p, *last;
    va_list  args;

    if (cf->log->log_level < level) {
        return;
    }

    last = errstr + SL_MAX_CONF_ERRSTR;

    va_start(args, fmt);
    p = sl_vslprintf(errstr, last, fmt, args);
    va_end(args);

    /* as sl_log_error_core() shows it, but before the location */

    if (err) {
        p = sl_slprintf(p, last, ": %s (%d)",
                        strerror_r(err, errbuf, sizeof(errbuf)), err);
    }

    if (cf->conf_file == NULL) {
        sl_log_error(level, cf->log, 0, "%.*s", (int) (p - errstr), errstr);
        return;
    }

    if (cf->conf_file->file.fd == SL_INVALID_FILE) {
        sl_log_error(level, cf->log, 0, "%.*s in command line",
                     (int) (p - errstr), errstr);
        return;
    }

    sl_log_error(level, cf->log, 0, "%.*s in %.*s:%lu",
                 (int) (p - errstr), errstr,
                 SL_STR_ARG(&cf->conf_file->file.name),
                 (unsigned long) cf->conf_file->line);
}


/*
 * The slot setters: cmd->offset is the field in the module's
 * configuration, which must be unset (SL_CONF_UNSET and friends) so that
 * a second occurrence is reported as a duplicate.
 */

char *
sl_conf_set_flag_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char  *p = conf;

    sl_str_t        *value;
    sl_flag_t       *fp;
    sl_conf_post_t  *post;

    fp = (sl_flag_t *) (p + cmd->offset);

    if (*fp != SL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (sl_strcasecmp(value[1].data, (u_char *) "on") == 0) {
        *fp = 1;

    } else if (sl_strcasecmp(value[1].data, (u_char *) "off") == 0) {
        *fp = 0;

    } else {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "invalid value \"%s\" in \"%s\" directive, "
                          "it must be \"on\" or \"off\"",
                          value[1].data, cmd->name.data);
        return SL_CONF_ERROR;
    }

    if (cmd->post) {
        post = cmd->post;
        return post->post_handler(cf, post, fp);
    }

    return SL_CONF_OK;
}


char *
sl_conf_set_str_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char  *p = conf;

    sl_str_t        *field, *value;
    sl_conf_post_t  *post;

    field = (sl_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    *field = value[1];

    if (cmd->post) {
        post = cmd->post;
        return post->post_handler(cf, post, field);
    }

    return SL_CONF_OK;
}


char *
sl_conf_set_str_array_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char  *p = conf;

    sl_str_t         *value, *s;
    sl_array_t      **a;
    sl_conf_post_t   *post;

    a = (sl_array_t **) (p + cmd->offset);

    if (*a == SL_CONF_UNSET_PTR || *a == NULL) {
        *a = sl_array_create(cf->pool, 4, sizeof(sl_str_t));
        if (*a == NULL) {
            return SL_CONF_ERROR;
        }
    }

    s = sl_array_push(*a);
    if (s == NULL) {
        return SL_CONF_ERROR;
    }

    value = cf->args->elts;

    *s = value[1];

    if (cmd->post) {
        post = cmd->post;
        return post->post_handler(cf, post, s);
    }

    return SL_CONF_OK;
}


char *
sl_conf_set_num_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char  *p = conf;

    sl_int_t        *np;
    sl_str_t        *value;
    sl_conf_post_t  *post;

    np = (sl_int_t *) (p + cmd->offset);

    if (*np != SL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *np = sl_atoi(value[1].data, value[1].len);

    if (*np == SL_ERROR) {
        return sl_conf_invalid_value(cf, cmd);
    }

    if (cmd->post) {
        post = cmd->post;
        return post->post_handler(cf, post, np);
    }

    return SL_CONF_OK;
}


char *
sl_conf_set_size_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char  *p = conf;

    size_t          *sp;
    sl_str_t        *value;
    sl_conf_post_t  *post;

    sp = (size_t *) (p + cmd->offset);

    if (*sp != SL_CONF_UNSET_SIZE) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *sp = sl_parse_size(&value[1]);

    if (*sp == (size_t) SL_ERROR) {
        return sl_conf_invalid_value(cf, cmd);
    }

    if (cmd->post) {
        post = cmd->post;
        return post->post_handler(cf, post, sp);
    }

    return SL_CONF_OK;
}


char *
sl_conf_set_off_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char  *p = conf;

    off_t           *op;
    sl_str_t        *value;
    sl_conf_post_t  *post;

    op = (off_t *) (p + cmd->offset);

    if (*op != SL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *op = sl_parse_offset(&value[1]);

    if (*op == (off_t) SL_ERROR) {
        return sl_conf_invalid_value(cf, cmd);
    }

    if (cmd->post) {
        post = cmd->post;
        return post->post_handler(cf, post, op);
    }

    return SL_CONF_OK;
}


char *
sl_conf_set_msec_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char  *p = conf;

    sl_int_t         ms;
    sl_str_t        *value;
    sl_msec_t       *msp;
    sl_conf_post_t  *post;

    msp = (sl_msec_t *) (p + cmd->offset);

    if (*msp != SL_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ms = sl_parse_time(&value[1], 0);

    if (ms == SL_ERROR) {
        return sl_conf_invalid_value(cf, cmd);
    }

    *msp = (sl_msec_t) ms;

    if (cmd->post) {
        post = cmd->post;
        return post->post_handler(cf, post, msp);
    }

    return SL_CONF_OK;
}


char *
sl_conf_set_sec_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char  *p = conf;

    time_t          *sp;
    sl_int_t         s;
    sl_str_t        *value;
    sl_conf_post_t  *post;

    sp = (time_t *) (p + cmd->offset);

    if (*sp != SL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    s = sl_parse_time(&value[1], 1);

    if (s == SL_ERROR) {
        return sl_conf_invalid_value(cf, cmd);
    }

    *sp = (time_t) s;

    if (cmd->post) {
        post = cmd->post;
        return post->post_handler(cf, post, sp);
    }

    return SL_CONF_OK;
}


/* cmd->post is the sl_conf_enum_t table, ended by an empty name */

char *
sl_conf_set_enum_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char  *p = conf;

    sl_uint_t       *np, i;
    sl_str_t        *value;
    sl_conf_enum_t  *e;

    np = (sl_uint_t *) (p + cmd->offset);

    if (*np != SL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    e = cmd->post;

    for (i = 0; e[i].name.len != 0; i++) {

        if (e[i].name.len != value[1].len
            || sl_strcasecmp(e[i].name.data, value[1].data) != 0)
        {
            continue;
        }

        *np = e[i].value;

        return SL_CONF_OK;
    }

    return sl_conf_invalid_value(cf, cmd);
}


/* a post handler: cmd->post is an sl_conf_num_bounds_t; high -1 is none */

char *
sl_conf_check_num_bounds(sl_conf_t *cf, void *post, void *data)
{
    sl_conf_num_bounds_t  *bounds = post;
    sl_int_t              *np = data;

    if (bounds->high == -1) {

        if (*np >= bounds->low) {
            return SL_CONF_OK;
        }

        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "value must be equal to or greater than %ld",
                          (long) bounds->low);

        return SL_CONF_ERROR;
    }

    if (*np >= bounds->low && *np <= bounds->high) {
        return SL_CONF_OK;
    }

    sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                      "value must be between %ld and %ld",
                      (long) bounds->low, (long) bounds->high);

    return SL_CONF_ERROR;
}


/* reads the whole file once more for -T: it is small and -T rare */

static sl_int_t
sl_conf_dump_file(sl_conf_t *cf, sl_conf_file_t *file)
{
    off_t            size;
    ssize_t          n;
    struct stat      sb;
    sl_conf_dump_t  *d;

    if (fstat(file->file.fd, &sb) == -1) {
        sl_conf_log_error(SL_LOG_EMERG, cf, sl_errno, "fstat() \"%s\" failed",
                          file->file.name.data);
        return SL_ERROR;
    }

    size = sl_file_size(&sb);

    if (size < 0 || size > (off_t) (SL_MAX_SIZE_T_VALUE / 2)) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "file \"%s\" is too large",
                          file->file.name.data);
        return SL_ERROR;
    }

    d = sl_array_push(sl_conf_dump);
    if (d == NULL) {
        return SL_ERROR;
    }

    /* the name may live in the parser's temporary pool */
    d->name.len = file->file.name.len;
    d->name.data = sl_pnalloc(sl_conf_dump->pool, d->name.len);
    if (d->name.data == NULL) {
        return SL_ERROR;
    }

    sl_memcpy(d->name.data, file->file.name.data, d->name.len);

    d->text.len = 0;
    d->text.data = sl_pnalloc(sl_conf_dump->pool, (size_t) size + 1);
    if (d->text.data == NULL) {
        return SL_ERROR;
    }

    while (d->text.len < (size_t) size) {

        n = pread(file->file.fd, d->text.data + d->text.len,
                  (size_t) size - d->text.len, (off_t) d->text.len);

        if (n == -1 && sl_errno == SL_EINTR) {
            continue;
        }

        if (n == -1) {
            sl_conf_log_error(SL_LOG_EMERG, cf, sl_errno,
                              "pread() \"%s\" failed",
                              file->file.name.data);
            return SL_ERROR;
        }

        if (n == 0) {
            break;
        }

        d->text.len += n;
    }

    return SL_OK;
}


static char *
sl_conf_invalid_value(sl_conf_t *cf, sl_command_t *cmd)
{
    sl_str_t  *value;

    value = cf->args->elts;

    sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                      "invalid value \"%s\" in \"%s\" directive",
                      value[1].data, cmd->name.data);

    return SL_CONF_ERROR;
}
