
/*
 * The error log (error_log FILE LEVEL).  Not the partition log: that is
 * sl_broker_log_*.
 */

#ifndef _SL_LOG_H_INCLUDED_
#define _SL_LOG_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


#define SL_LOG_STDERR            0
#define SL_LOG_EMERG             1
#define SL_LOG_ALERT             2
#define SL_LOG_CRIT              3
#define SL_LOG_ERR               4
#define SL_LOG_WARN              5
#define SL_LOG_NOTICE            6
#define SL_LOG_INFO              7
#define SL_LOG_DEBUG             8

#define SL_MAX_ERROR_STR         2048


typedef u_char *(*sl_log_handler_pt) (sl_log_t *log, u_char *buf, size_t len);


struct sl_log_s {
    sl_uint_t            log_level;
    sl_open_file_t      *file;
    sl_atomic_uint_t     connection;     /* connection number, 0 if none */

    /*
     * appends request context ("client: ..., topic: ...") to a line and
     * returns the end; the core writes the ", " before it and, before
     * that, " while <action>"
     */
    sl_log_handler_pt    handler;
    void                *data;
    const char          *action;         /* "reading request" */

    sl_log_t            *next;
};


/*
 * The level test is in the macro so that a disabled level costs one
 * comparison and no argument evaluation.
 */
#define sl_log_error(level, log, ...)                                        \
    if ((log)->log_level >= level) sl_log_error_core(level, log, __VA_ARGS__)

#if (SL_DEBUG)
#define sl_log_debug(log, ...)                                               \
    if ((log)->log_level >= SL_LOG_DEBUG)                                    \
        sl_log_error_core(SL_LOG_DEBUG, log, 0, __VA_ARGS__)
#else
#define sl_log_debug(log, ...)
#endif


void sl_log_error_core(sl_uint_t level, sl_log_t *log, sl_err_t err,
    const char *fmt, ...) SL_PRINTF(4, 5);

/* to stderr, before the error log is open; adds strerror(err) if err */
void sl_log_stderr(sl_err_t err, const char *fmt, ...) SL_PRINTF(2, 3);

/*
 * the process-wide default log: error_log (NULL: SL_ERROR_LOG_PATH)
 * under prefix (NULL: SL_PREFIX), stderr if it cannot be opened
 */
sl_log_t *sl_log_init(u_char *prefix, u_char *error_log);
/* cycle->new_log from cycle->error_log (or the default) if no error_log
 * directive set it */
sl_int_t sl_log_open_default(sl_cycle_t *cycle);
/* "error_log FILE LEVEL" handler, shared by every context that allows it */
char *sl_log_set_log(sl_conf_t *cf, sl_log_t **head);
sl_int_t sl_log_redirect_stderr(sl_cycle_t *cycle);
sl_int_t sl_log_level_from_name(sl_str_t *name);

/*
 * While set (the default), lines of level warn and above also go to
 * stderr as "sluice: [level] message" unless a log already wrote them
 * there: so that -t and start-up failures are seen.  Cleared once the
 * process has detached or redirected stderr.
 */
extern sl_uint_t    sl_use_stderr;
extern sl_module_t  sl_errlog_module;


#endif /* _SL_LOG_H_INCLUDED_ */
