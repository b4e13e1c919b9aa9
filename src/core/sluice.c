
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
static void sl_show_conf_dump(void);


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

    /* the options point into copies: the process title overwrites argv */

    if (sl_save_argv(argc, argv) != SL_OK) {
        sl_log_stderr(sl_errno, "could not copy the command line");
        return 1;
    }

    if (sl_get_options(sl_argc, sl_argv) != SL_OK) {
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

    if (sl_dump_config) {
        sl_conf_dump = sl_array_create(init_cycle.pool, 4,
                                       sizeof(sl_conf_dump_t));
        if (sl_conf_dump == NULL) {
            return 1;
        }
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
            sl_show_conf_dump();
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

    if (ccf->daemon) {
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

    if (sl_init_setproctitle(cycle->log) != SL_OK) {
        sl_log_error(SL_LOG_WARN, cycle->log, 0,
                     "the process titles are not set");
    }

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
 * -T: every configuration file as the parser read it (the includes in
 * the order they were read), each under a "# configuration file NAME:"
 * line, the way nginx -T shows them.
 */

static void
sl_show_conf_dump(void)
{
    sl_uint_t        i;
    sl_conf_dump_t  *d;

    d = sl_conf_dump->elts;

    for (i = 0; i < sl_conf_dump->nelts; i++) {
        printf("# configuration file %.*s:\n", SL_STR_ARG(&d[i].name));
        fwrite(d[i].text.data, 1, d[i].text.len, stdout);

        if (d[i].text.len == 0 || d[i].text.data[d[i].text.len - 1] != '\n') {
            printf("\n");
        }

        printf("\n");
    }

    fflush(stdout);
}
