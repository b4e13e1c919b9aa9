
/*
 * Daemonising: the master detaches from the terminal (fork, setsid) and
 * points stdin and stdout at /dev/null.  stderr is left to the error log
 * (sl_log_redirect_stderr), so that a crash message still lands there.
 */


#include <sl_config.h>
#include <sl_core.h>


sl_int_t
sl_daemon(sl_log_t *log)
{
    int  fd;

    switch (fork()) {
    case -1:
        sl_log_error(SL_LOG_EMERG, log, sl_errno, "fork() failed");
        return SL_ERROR;

    case 0:
        break;

    default:
        exit(0);
    }

    sl_parent = sl_pid;
    sl_pid = sl_getpid();

    if (setsid() == -1) {
        sl_log_error(SL_LOG_EMERG, log, sl_errno, "setsid() failed");
        return SL_ERROR;
    }

    umask(0);

    fd = open("/dev/null", O_RDWR);
    if (fd == -1) {
        sl_log_error(SL_LOG_EMERG, log, sl_errno,
                     "open(\"/dev/null\") failed");
        return SL_ERROR;
    }

    if (dup2(fd, STDIN_FILENO) == -1) {
        sl_log_error(SL_LOG_EMERG, log, sl_errno, "dup2(STDIN) failed");
        return SL_ERROR;
    }

    if (dup2(fd, STDOUT_FILENO) == -1) {
        sl_log_error(SL_LOG_EMERG, log, sl_errno, "dup2(STDOUT) failed");
        return SL_ERROR;
    }

    if (fd > STDERR_FILENO && close(fd) == -1) {
        sl_log_error(SL_LOG_EMERG, log, sl_errno, "close() failed");
        return SL_ERROR;
    }

    return SL_OK;
}
