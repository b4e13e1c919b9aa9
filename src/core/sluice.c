
/*
 * main(): the command line, the first cycle, and then the master (or the
 * single process) loop.  Also -t/-T (test, dump), -V (version and static
 * modules) and -s (signal a running master through its pid file).
 */


#include <sl_config.h>
#include <sl_core.h>


static sl_int_t sl_get_options(int argc, char *const *argv);
static sl_int_t sl_process_options(sl_cycle_t *cycle);
static void sl_show_version_info(void);
static void sl_dump_conf_file(sl_pool_t *pool, sl_str_t *prefix,
    sl_str_t *name, sl_uint_t depth);


static sl_uint_t   sl_show_help;
static sl_uint_t   sl_show_version;
static sl_uint_t   sl_show_configure;
static u_char     *sl_prefix;
static u_char     *sl_conf_file;
static u_char     *sl_conf_params;
static char       *sl_signal;


int
main(int argc, char *const *argv)
{
    sl_log_t        *log;
    sl_cycle_t      *cycle, init_cycle;
    sl_core_conf_t  *ccf;

    sl_argc = argc;
    sl_argv = (char **) argv;

    if (sl_get_options(argc, argv) != SL_OK) {
        return 1;
    }

    if (sl_show_version) {
        sl_show_version_info();

        if (!sl_test_config) {
            return 0;
        }
    }

    sl_time_init();

    sl_pid = sl_getpid();
    sl_parent = getppid();

    log = sl_log_init(sl_prefix, NULL);
    if (log == NULL) {
        return 1;
    }

    if (sl_test_config) {
        /* say everything while testing, on stderr */
        log->log_level = SL_LOG_INFO;
    }

    sl_memzero(&init_cycle, sizeof(sl_cycle_t));
    init_cycle.log = log;
    sl_cycle = &init_cycle;

    init_cycle.pool = sl_create_pool(1024, log);
    if (init_cycle.pool == NULL) {
        return 1;
    }

    if (sl_process_options(&init_cycle) != SL_OK) {
        return 1;
    }

    sl_slab_sizes_init();

    if (sl_preinit_modules() != SL_OK) {
        return 1;
    }

    cycle = sl_init_cycle(&init_cycle);
    if (cycle == NULL) {
        if (sl_test_config) {
            sl_log_stderr(0, "configuration file %s test failed",
                          init_cycle.conf_file.data);
        }

        return 1;
    }

    if (sl_test_config) {
        if (!sl_quiet_mode) {
            sl_log_stderr(0, "configuration file %s test is successful",
                          cycle->conf_file.data);
        }

        if (sl_dump_config) {
            sl_dump_conf_file(cycle->pool, &cycle->conf_prefix,
                              &cycle->conf_file, 0);
        }

        return 0;
    }

    if (sl_signal) {
        return sl_signal_process(cycle, sl_signal);
    }

    sl_cycle = cycle;

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    if (ccf->master && sl_process == SL_PROCESS_SINGLE) {
        sl_process = SL_PROCESS_MASTER;
    }

    if (sl_init_signals(cycle->log) != SL_OK) {
        return 1;
    }

    if (!sl_inherited && ccf->daemon) {
        if (sl_daemon(cycle->log) != SL_OK) {
            return 1;
        }

        sl_daemonized = 1;
    }

    if (sl_create_pidfile(&ccf->pid, cycle->log) != SL_OK) {
        return 1;
    }

    if (sl_log_redirect_stderr(cycle) != SL_OK) {
        return 1;
    }

    /* the log of the start-up, before the configuration, is done */
    if (log->file->fd != STDERR_FILENO && log->file->fd != SL_INVALID_FILE) {
        (void) sl_close_file(log->file->fd);
        log->file->fd = STDERR_FILENO;
    }

    sl_use_stderr = 0;

    if (sl_process == SL_PROCESS_SINGLE) {
        sl_single_process_cycle(cycle);

    } else {
        sl_master_process_cycle(cycle);
    }

    return 0;
}


static sl_int_t
sl_get_options(int argc, char *const *argv)
{
    u_char     *p;
    sl_int_t    i;

    for (i = 1; i < argc; i++) {

        p = (u_char *) argv[i];

        if (*p++ != '-') {
            sl_log_stderr(0, "invalid option: \"%s\"", argv[i]);
            return SL_ERROR;
        }

        while (*p) {

            switch (*p++) {

            case '?':
            case 'h':
                sl_show_version = 1;
                sl_show_help = 1;
                break;

            case 'v':
                sl_show_version = 1;
                break;

            case 'V':
                sl_show_version = 1;
                sl_show_configure = 1;
                break;

            case 't':
                sl_test_config = 1;
                break;

            case 'T':
                sl_test_config = 1;
                sl_dump_config = 1;
                break;

            case 'q':
                sl_quiet_mode = 1;
                break;

            case 'p':
                if (*p) {
                    sl_prefix = p;
                    goto next;
                }

                if (argv[++i]) {
                    sl_prefix = (u_char *) argv[i];
                    goto next;
                }

                sl_log_stderr(0, "option \"-p\" requires directory name");
                return SL_ERROR;

            case 'c':
                if (*p) {
                    sl_conf_file = p;
                    goto next;
                }

                if (argv[++i]) {
                    sl_conf_file = (u_char *) argv[i];
                    goto next;
                }

                sl_log_stderr(0, "option \"-c\" requires file name");
                return SL_ERROR;

            case 'g':
                if (*p) {
                    sl_conf_params = p;
                    goto next;
                }

                if (argv[++i]) {
                    sl_conf_params = (u_char *) argv[i];
                    goto next;
                }

                sl_log_stderr(0, "option \"-g\" requires parameter");
                return SL_ERROR;

            case 's':
                if (*p) {
                    sl_signal = (char *) p;

                } else if (argv[++i]) {
                    sl_signal = argv[i];

                } else {
                    sl_log_stderr(0, "option \"-s\" requires parameter");
                    return SL_ERROR;
                }

                if (sl_strcmp(sl_signal, "stop") == 0
                    || sl_strcmp(sl_signal, "quit") == 0
                    || sl_strcmp(sl_signal, "reopen") == 0
                    || sl_strcmp(sl_signal, "reload") == 0)
                {
                    sl_process = SL_PROCESS_SIGNALLER;
                    goto next;
                }

                sl_log_stderr(0, "invalid option: \"-s %s\"", sl_signal);
                return SL_ERROR;

            default:
                sl_log_stderr(0, "invalid option: \"%c\"", *(p - 1));
                return SL_ERROR;
            }
        }

    next:

        continue;
    }

    return SL_OK;
}


/*
 * The prefix is -p or the configured one; the configuration file is -c
 * or the default, relative to the prefix; includes are relative to the
 * configuration file's directory (conf_prefix).
 */

static sl_int_t
sl_process_options(sl_cycle_t *cycle)
{
    u_char  *p;
    size_t   len;

    if (sl_prefix) {
        len = sl_strlen(sl_prefix);
        p = sl_pnalloc(cycle->pool, len + 2);
        if (p == NULL) {
            return SL_ERROR;
        }

        sl_memcpy(p, sl_prefix, len);

        if (len == 0 || p[len - 1] != '/') {
            p[len++] = '/';
        }

        p[len] = '\0';

        cycle->prefix.len = len;
        cycle->prefix.data = p;

    } else {
        sl_str_set(&cycle->prefix, SL_PREFIX);
    }

    if (sl_conf_file) {
        cycle->conf_file.len = sl_strlen(sl_conf_file);
        cycle->conf_file.data = sl_conf_file;

    } else {
        sl_str_set(&cycle->conf_file, SL_CONF_PATH);
    }

    if (sl_get_full_name(cycle->pool, &cycle->prefix, &cycle->conf_file)
        != SL_OK)
    {
        return SL_ERROR;
    }

    for (p = cycle->conf_file.data + cycle->conf_file.len - 1;
         p > cycle->conf_file.data;
         p--)
    {
        if (*p == '/') {
            cycle->conf_prefix.len = p - cycle->conf_file.data + 1;
            cycle->conf_prefix.data = cycle->conf_file.data;
            break;
        }
    }

    if (sl_conf_params) {
        cycle->conf_param.len = sl_strlen(sl_conf_params);
        cycle->conf_param.data = sl_conf_params;
    }

    sl_str_set(&cycle->error_log, SL_ERROR_LOG_PATH);

    if (sl_test_config) {
        cycle->log->log_level = SL_LOG_INFO;
    }

    return SL_OK;
}


static void
sl_show_version_info(void)
{
    char  **name;

    fprintf(stderr, "sluice version: " SL_VER "\n");

    if (sl_show_help) {
        fprintf(stderr,
            "Usage: sluice [-?hvVtTq] [-s signal] [-p prefix]\n"
            "              [-c filename] [-g directives]\n\n"
            "Options:\n"
            "  -?,-h         : this help\n"
            "  -v            : show version and exit\n"
            "  -V            : show version, configure options and the "
                              "static modules, then exit\n"
            "  -t            : test configuration and exit\n"
            "  -T            : test configuration, dump it and exit\n"
            "  -q            : suppress non-error messages "
                              "during configuration testing\n"
            "  -s signal     : send signal to a master process: "
                              "stop, quit, reopen, reload\n"
            "  -p prefix     : set prefix path (default: "
                              SL_PREFIX ")\n"
            "  -c filename   : set configuration file (default: "
                              SL_CONF_PATH ")\n"
            "  -g directives : set global directives out of "
                              "configuration file\n");
    }

    if (sl_show_configure) {

#ifdef SL_CONFIGURE
        fprintf(stderr, "configure arguments: " SL_CONFIGURE "\n");
#else
        fprintf(stderr, "configure arguments:\n");
#endif

        fprintf(stderr, "static modules:");

        for (name = sl_module_names; *name; name++) {
            fprintf(stderr, " %s", *name);
        }

        fprintf(stderr, "\n");
    }
}


/*
 * -T: the configuration file as read, then every file it includes, each
 * under a "# configuration file NAME:" line, the way nginx -T shows them.
 * Includes are found with a light scan of the text: the file already
 * passed the parser, so "include ARG;" at a statement start is enough.
 */

static void
sl_dump_conf_file(sl_pool_t *pool, sl_str_t *prefix, sl_str_t *name,
    sl_uint_t depth)
{
    u_char      *buf, *p, *last, *start, quote;
    size_t       i;
    glob_t       gl;
    sl_fd_t      fd;
    ssize_t      n;
    sl_str_t     arg, path;
    struct stat  sb;
    sl_uint_t    stmt;

    if (depth > 16) {
        return;
    }

    fd = sl_open_file(name->data, O_RDONLY, 0, 0);
    if (fd == SL_INVALID_FILE) {
        return;
    }

    if (fstat(fd, &sb) == -1 || sb.st_size > 16 * 1024 * 1024) {
        (void) sl_close_file(fd);
        return;
    }

    buf = sl_pnalloc(pool, sb.st_size + 1);
    if (buf == NULL) {
        (void) sl_close_file(fd);
        return;
    }

    n = sl_read_file(fd, buf, sb.st_size, 0);
    (void) sl_close_file(fd);

    if (n != (ssize_t) sb.st_size) {
        return;
    }

    printf("# configuration file %s:\n", name->data);
    fwrite(buf, 1, n, stdout);

    if (n == 0 || buf[n - 1] != '\n') {
        printf("\n");
    }

    printf("\n");

    last = buf + n;
    stmt = 1;

    for (p = buf; p < last; p++) {

        switch (*p) {

        case '#':
            while (p < last && *p != '\n') {
                p++;
            }
            continue;

        case '"':
        case '\'':
            quote = *p;
            for (p++; p < last && *p != quote; p++) {
                if (*p == '\\') {
                    p++;
                }
            }
            stmt = 0;
            continue;

        case ';':
        case '{':
        case '}':
            stmt = 1;
            continue;

        case ' ':
        case '\t':
        case '\r':
        case '\n':
            continue;
        }

        if (!stmt) {
            continue;
        }

        stmt = 0;

        if (last - p < 8 || sl_strncmp(p, "include", 7) != 0
            || (p[7] != ' ' && p[7] != '\t' && p[7] != '\n'))
        {
            continue;
        }

        for (p += 7; p < last && isspace(*p); p++) { /* void */ }

        quote = (p < last && (*p == '"' || *p == '\'')) ? *p++ : 0;
        start = p;

        while (p < last
               && (quote ? *p != quote : (*p != ';' && !isspace(*p))))
        {
            p++;
        }

        arg.data = start;
        arg.len = p - start;

        if (arg.len == 0) {
            continue;
        }

        path.len = arg.len;
        path.data = arg.data;

        if (arg.data[0] != '/') {
            path.len = prefix->len + arg.len;
            path.data = sl_pnalloc(pool, path.len + 1);
            if (path.data == NULL) {
                return;
            }

            sl_memcpy(path.data, prefix->data, prefix->len);
            sl_memcpy(path.data + prefix->len, arg.data, arg.len);
        }

        path.data = (u_char *) sl_pstrz(pool, &path);
        if (path.data == NULL) {
            return;
        }

        if (glob((char *) path.data, 0, NULL, &gl) != 0) {
            continue;
        }

        for (i = 0; i < gl.gl_pathc; i++) {
            path.len = sl_strlen(gl.gl_pathv[i]);
            path.data = (u_char *) gl.gl_pathv[i];
            sl_dump_conf_file(pool, prefix, &path, depth + 1);
        }

        globfree(&gl);

        if (quote == 0) {
            p--;
        }
    }
}
