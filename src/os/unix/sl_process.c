
/*
 * Child processes: the table of workers (slots), spawning one with its
 * channel, the signals table and its handler, reaping exit statuses,
 * and `sluice -s SIGNAL` (the pid file's process gets the signal).
 */


#include <sl_config.h>
#include <sl_core.h>


typedef struct {
    int           signo;
    char         *signame;
    char         *name;          /* for sluice -s NAME, "" if none */
    void        (*handler)(int signo, siginfo_t *siginfo, void *ucontext);
} sl_signal_t;


static void sl_signal_handler(int signo, siginfo_t *siginfo, void *ucontext);
static void sl_process_get_status(void);


int              sl_argc;
char           **sl_argv;

sl_pid_t         sl_pid;
sl_pid_t         sl_parent;
sl_int_t         sl_process_slot;
sl_int_t         sl_last_process;
sl_process_t     sl_processes[SL_MAX_PROCESSES];


static sl_signal_t  sl_signals[] = {
    { SIGHUP, "SIGHUP", "reload", sl_signal_handler },
    { SIGUSR1, "SIGUSR1", "reopen", sl_signal_handler },
    { SIGQUIT, "SIGQUIT", "quit", sl_signal_handler },
    { SIGTERM, "SIGTERM", "stop", sl_signal_handler },
    { SIGINT, "SIGINT", "", sl_signal_handler },
    { SIGALRM, "SIGALRM", "", sl_signal_handler },
    { SIGIO, "SIGIO, SIG_IGN", "", NULL },
    { SIGCHLD, "SIGCHLD", "", sl_signal_handler },
    { SIGSYS, "SIGSYS, SIG_IGN", "", NULL },
    { SIGPIPE, "SIGPIPE, SIG_IGN", "", NULL },
    { 0, NULL, "", NULL }
};


sl_pid_t
sl_spawn_process(sl_cycle_t *cycle, sl_spawn_proc_pt proc, void *data,
    char *name, sl_int_t respawn)
{
    sl_pid_t   pid;
    sl_int_t   s;

    if (respawn >= 0) {
        s = respawn;

    } else {
        for (s = 0; s < sl_last_process; s++) {
            if (sl_processes[s].pid == -1) {
                break;
            }
        }

        if (s == SL_MAX_PROCESSES) {
            sl_log_error(SL_LOG_ALERT, cycle->log, 0,
                         "no more than %d processes can be spawned",
                         SL_MAX_PROCESSES);
            return SL_INVALID_PID;
        }
    }

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sl_processes[s].channel) == -1) {
        sl_log_error(SL_LOG_ALERT, cycle->log, sl_errno,
                     "socketpair() failed while spawning \"%s\"", name);
        return SL_INVALID_PID;
    }

    if (sl_nonblocking(sl_processes[s].channel[0]) == SL_ERROR
        || sl_nonblocking(sl_processes[s].channel[1]) == SL_ERROR
        || fcntl(sl_processes[s].channel[0], F_SETFD, FD_CLOEXEC) == -1
        || fcntl(sl_processes[s].channel[1], F_SETFD, FD_CLOEXEC) == -1)
    {
        sl_log_error(SL_LOG_ALERT, cycle->log, sl_errno,
                     "setting up the channel of \"%s\" failed", name);
        sl_close_channel(sl_processes[s].channel, cycle->log);
        return SL_INVALID_PID;
    }

    sl_process_slot = s;

    pid = fork();

    switch (pid) {

    case -1:
        sl_log_error(SL_LOG_ALERT, cycle->log, sl_errno,
                     "fork() failed while spawning \"%s\"", name);
        sl_close_channel(sl_processes[s].channel, cycle->log);
        return SL_INVALID_PID;

    case 0:
        sl_parent = sl_pid;
        sl_pid = sl_getpid();
        proc(cycle, data);
        exit(0);   /* proc does not return; this is a safety net */

    default:
        break;
    }

    sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "start %s %d", name,
                 (int) pid);

    sl_processes[s].pid = pid;
    sl_processes[s].exited = 0;
    sl_processes[s].exiting = 0;
    sl_processes[s].started = sl_current_msec;

    if (respawn >= 0) {
        return pid;
    }

    sl_processes[s].proc = proc;
    sl_processes[s].data = data;
    sl_processes[s].name = name;

    sl_processes[s].respawn = 0;
    sl_processes[s].just_spawn = 0;
    sl_processes[s].detached = 0;

    switch (respawn) {

    case SL_PROCESS_RESPAWN:
        sl_processes[s].respawn = 1;
        break;

    case SL_PROCESS_JUST_SPAWN:
        sl_processes[s].just_spawn = 1;
        break;

    case SL_PROCESS_JUST_RESPAWN:
        sl_processes[s].respawn = 1;
        sl_processes[s].just_spawn = 1;
        break;

    default: /* SL_PROCESS_NORESPAWN */
        break;
    }

    if (s == sl_last_process) {
        sl_last_process++;
    }

    return pid;
}


sl_int_t
sl_init_signals(sl_log_t *log)
{
    sl_signal_t       *sig;
    struct sigaction   sa;

    for (sig = sl_signals; sig->signo != 0; sig++) {
        sl_memzero(&sa, sizeof(struct sigaction));

        if (sig->handler) {
            sa.sa_sigaction = sig->handler;
            sa.sa_flags = SA_SIGINFO;

        } else {
            sa.sa_handler = SIG_IGN;
        }

        sigemptyset(&sa.sa_mask);

        if (sigaction(sig->signo, &sa, NULL) == -1) {
            sl_log_error(SL_LOG_EMERG, log, sl_errno,
                         "sigaction(%s) failed", sig->signame);
            return SL_ERROR;
        }
    }

    return SL_OK;
}


/*
 * Only flags are set here; the loops act on them.  The master blocks
 * these signals outside sigsuspend(), so it never runs this handler in
 * the middle of its own work.
 */

static void
sl_signal_handler(int signo, siginfo_t *siginfo, void *ucontext)
{
    sl_err_t  err;

    err = sl_errno;

    switch (sl_process) {

    case SL_PROCESS_MASTER:
    case SL_PROCESS_SINGLE:
        switch (signo) {

        case SIGQUIT:
            sl_quit = 1;
            break;

        case SIGTERM:
        case SIGINT:
            sl_terminate = 1;
            break;

        case SIGHUP:
            sl_reconfigure = 1;
            break;

        case SIGUSR1:
            sl_reopen = 1;
            break;

        case SIGALRM:
            sl_sigalrm = 1;
            break;

        case SIGCHLD:
            sl_reap = 1;
            break;
        }

        break;

    case SL_PROCESS_WORKER:
    case SL_PROCESS_HELPER:
        switch (signo) {

        case SIGQUIT:
            sl_quit = 1;
            break;

        case SIGTERM:
        case SIGINT:
            sl_terminate = 1;
            break;

        case SIGUSR1:
            sl_reopen = 1;
            break;

        default:
            /* SIGHUP and the rest concern the master only */
            break;
        }

        break;
    }

    if (signo == SIGCHLD) {
        sl_process_get_status();
    }

    sl_set_errno(err);
}


/*
 * Reaps every child that exited and marks its slot; the master's loop
 * decides what to do about it (respawn, or finish a shutdown).
 */

static void
sl_process_get_status(void)
{
    int         status;
    sl_pid_t    pid;
    sl_err_t    err;
    sl_int_t    i;
    sl_uint_t   one;
    char       *name;

    one = 0;

    for ( ;; ) {
        pid = waitpid(-1, &status, WNOHANG);

        if (pid == 0) {
            return;
        }

        if (pid == -1) {
            err = sl_errno;

            if (err == SL_EINTR) {
                continue;
            }

            if (err == SL_ECHILD && one) {
                return;
            }

            if (err != SL_ECHILD) {
                sl_log_error(SL_LOG_ALERT, sl_cycle->log, err,
                             "waitpid() failed");
            }

            return;
        }

        one = 1;
        name = "unknown process";

        for (i = 0; i < sl_last_process; i++) {
            if (sl_processes[i].pid == pid) {
                sl_processes[i].status = status;
                sl_processes[i].exited = 1;
                name = sl_processes[i].name;
                break;
            }
        }

        if (WIFSIGNALED(status)) {
            sl_log_error(SL_LOG_ALERT, sl_cycle->log, 0,
                         "%s %d exited on signal %d%s", name, (int) pid,
                         WTERMSIG(status),
                         WCOREDUMP(status) ? " (core dumped)" : "");

        } else if (WEXITSTATUS(status) != 0) {
            sl_log_error(SL_LOG_ALERT, sl_cycle->log, 0,
                         "%s %d exited with code %d", name, (int) pid,
                         WEXITSTATUS(status));

        } else {
            sl_log_error(SL_LOG_NOTICE, sl_cycle->log, 0,
                         "%s %d exited with code 0", name, (int) pid);
        }

        /* exit code 2 is a worker's fatal error: respawning cannot help */
        if (i < sl_last_process
            && WIFEXITED(status)
            && WEXITSTATUS(status) == 2
            && sl_processes[i].respawn)
        {
            sl_log_error(SL_LOG_ALERT, sl_cycle->log, 0,
                         "%s %d exited with fatal code %d "
                         "and cannot be respawned",
                         name, (int) pid, WEXITSTATUS(status));
            sl_processes[i].respawn = 0;
        }
    }
}


sl_int_t
sl_signal_process(sl_cycle_t *cycle, char *name)
{
    u_char           *p;
    ssize_t           n;
    sl_fd_t           fd;
    sl_int_t          pid;
    sl_signal_t      *sig;
    sl_core_conf_t   *ccf;
    u_char            buf[32];

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    fd = sl_open_file(ccf->pid.data, O_RDONLY, 0, 0);
    if (fd == SL_INVALID_FILE) {
        sl_log_error(SL_LOG_ERR, cycle->log, sl_errno,
                     "open() \"%s\" failed (is sluice running?)",
                     ccf->pid.data);
        return 1;
    }

    n = read(fd, buf, sizeof(buf) - 1);

    (void) sl_close_file(fd);

    if (n == -1) {
        sl_log_error(SL_LOG_ERR, cycle->log, sl_errno,
                     "read() \"%s\" failed", ccf->pid.data);
        return 1;
    }

    p = buf + n;
    while (p > buf && (p[-1] == CR || p[-1] == LF)) {
        p--;
    }

    pid = sl_atoi(buf, p - buf);

    if (pid == SL_ERROR || pid == 0) {
        sl_log_error(SL_LOG_ERR, cycle->log, 0,
                     "invalid PID number \"%*s\" in \"%s\"",
                     (int) (p - buf), buf, ccf->pid.data);
        return 1;
    }

    for (sig = sl_signals; sig->signo != 0; sig++) {
        if (sl_strcmp(name, sig->name) != 0) {
            continue;
        }

        if (kill((sl_pid_t) pid, sig->signo) == -1) {
            sl_log_error(SL_LOG_ALERT, cycle->log, sl_errno,
                         "kill(%d, %d) failed", (int) pid, sig->signo);
            return 1;
        }

        return 0;
    }

    sl_log_error(SL_LOG_ALERT, cycle->log, 0, "unknown signal \"%s\"", name);

    return 1;
}
