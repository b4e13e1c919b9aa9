
/*
 * The master's supervision loop and the worker's event loop.
 *
 * The master only waits for signals: it starts worker_processes workers,
 * respawns one that dies (into the same slot, with the same worker
 * number, backing off when a slot keeps dying right after its start),
 * reloads by building a new cycle and replacing the workers, and stops.
 * A worker runs every module's init_process and then the event loop
 * until its channel or a signal tells it to quit.
 *
 * The log cleaner is one more child, started after the workers, as
 * nginx's cache manager: it runs the event loop with timers only and
 * does the log's background work (flushes, checkpoints, retention,
 * compaction), so that a long compaction never stalls a worker.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>


/* how long workers get to obey TERMINATE before SIGKILL */
#define SL_TERMINATE_TIMEOUT    1000

/*
 * A retiring worker keeps idle keep-alive connections this long: a busy
 * client sends its next request meanwhile and is answered with "close",
 * instead of racing a close of its connection with that request.
 */
#define SL_IDLE_CLOSE_GRACE     1000


static void sl_master_title(sl_cycle_t *cycle);
static void sl_start_worker_processes(sl_cycle_t *cycle, sl_int_t n,
    sl_int_t type);
static void sl_start_cleaner_process(sl_cycle_t *cycle, sl_int_t type);
static void sl_pass_open_channel(sl_cycle_t *cycle, sl_channel_t *ch);
static void sl_signal_worker_processes(sl_cycle_t *cycle, int signo);
static sl_uint_t sl_reap_children(sl_cycle_t *cycle);
static void sl_respawn(sl_cycle_t *cycle, sl_int_t slot);
static void sl_update_worker_stat(void);
static void sl_set_alarm(sl_msec_t delay);
static void sl_master_process_exit(sl_cycle_t *cycle);
static void sl_close_master_listening(sl_cycle_t *cycle);
static void sl_worker_process_cycle(sl_cycle_t *cycle, void *data);
static void sl_cleaner_process_cycle(sl_cycle_t *cycle, void *data);
static void sl_worker_process_init(sl_cycle_t *cycle, sl_int_t worker);
static sl_uint_t sl_worker_busy(sl_cycle_t *cycle);
static void sl_worker_process_exit(sl_cycle_t *cycle);
static void sl_idle_close_handler(sl_event_t *ev);
static void sl_channel_handler(sl_event_t *ev);
static sl_uint_t sl_process_runs_module(sl_module_t *module);
static void sl_call_init_process(sl_cycle_t *cycle);
static void sl_call_exit_process(sl_cycle_t *cycle);
static void sl_call_exit_master(sl_cycle_t *cycle);


sl_uint_t       sl_process;
sl_uint_t       sl_worker;
sl_uint_t       sl_daemonized;
sl_uint_t       sl_exiting;

sig_atomic_t    sl_reap;
sig_atomic_t    sl_sigalrm;
sig_atomic_t    sl_quit;
sig_atomic_t    sl_terminate;
sig_atomic_t    sl_reconfigure;
sig_atomic_t    sl_reopen;


/* per slot: consecutive failed starts and the pending back-off */
static sl_uint_t    sl_respawn_fails[SL_MAX_PROCESSES];
static sl_msec_t    sl_respawn_delay[SL_MAX_PROCESSES];

static char         sl_worker_name[] = "worker process";
static char         sl_cleaner_name[] = "log cleaner";

static sl_event_t   sl_idle_close_event;


void
sl_master_process_cycle(sl_cycle_t *cycle)
{
    sigset_t          set;
    sl_int_t          i;
    sl_uint_t         live, quitting;
    sl_msec_t         kill_at;
    sl_cycle_t       *new_cycle;
    sl_core_conf_t   *ccf;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGALRM);
    sigaddset(&set, SIGIO);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGQUIT);

    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
        sl_log_error(SL_LOG_ALERT, cycle->log, sl_errno,
                     "sigprocmask() failed");
    }

    sigemptyset(&set);

    sl_master_title(cycle);

    /*
     * Every slot starts empty: a worker inherits this table, and a slot
     * it has not heard of must not look like descriptor 0.
     */

    for (i = 0; i < SL_MAX_PROCESSES; i++) {
        sl_processes[i].pid = -1;
        sl_processes[i].channel[0] = -1;
        sl_processes[i].channel[1] = -1;
    }

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    if (sl_event_doorbell_init(cycle, ccf->worker_processes) != SL_OK) {
        sl_master_process_exit(cycle);
    }

    sl_start_worker_processes(cycle, ccf->worker_processes,
                              SL_PROCESS_RESPAWN);
    sl_start_cleaner_process(cycle, SL_PROCESS_RESPAWN);
    sl_update_worker_stat();

    live = 1;
    quitting = 0;
    kill_at = 0;

    for ( ;; ) {

        /* sl_reap may be set by ourselves: then do not wait for a signal */
        if (!sl_reap) {
            sigsuspend(&set);
        }

        sl_time_update();

        if (sl_reap) {
            sl_reap = 0;
            live = sl_reap_children(cycle);
            sl_update_worker_stat();
        }

        if (!live && (sl_terminate || sl_quit)) {
            sl_master_process_exit(cycle);
        }

        if (sl_terminate) {
            if (kill_at == 0) {
                sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "exiting");
                sl_signal_worker_processes(cycle, SIGTERM);
                kill_at = sl_current_msec + SL_TERMINATE_TIMEOUT;

                /* with no child at all no SIGCHLD comes: look now */
                sl_reap = 1;

            } else if (sl_current_msec >= kill_at) {
                sl_log_error(SL_LOG_WARN, cycle->log, 0,
                             "workers did not exit in %d ms, killing them",
                             SL_TERMINATE_TIMEOUT);
                sl_signal_worker_processes(cycle, SIGKILL);
                kill_at = sl_current_msec + SL_TERMINATE_TIMEOUT;
            }

            sl_sigalrm = 0;
            sl_set_alarm(kill_at - sl_current_msec);
            continue;
        }

        if (sl_quit) {
            /* sl_quit stays set: it forbids respawns until the end */
            if (!quitting) {
                quitting = 1;
                sl_log_error(SL_LOG_NOTICE, cycle->log, 0,
                             "gracefully shutting down");
                sl_close_master_listening(cycle);
                sl_reap = 1;
            }

            sl_signal_worker_processes(cycle, SIGQUIT);
            continue;
        }

        if (sl_sigalrm) {
            sl_sigalrm = 0;
            live = sl_reap_children(cycle);
            sl_update_worker_stat();
        }

        if (sl_reconfigure) {
            sl_reconfigure = 0;

            sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "reconfiguring");

            new_cycle = sl_init_cycle(cycle);
            if (new_cycle == NULL) {
                sl_log_error(SL_LOG_ERR, cycle->log, 0,
                             "reconfiguring failed, "
                             "keeping the old configuration");
                continue;
            }

            cycle = new_cycle;
            sl_cycle = cycle;

            ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx,
                                                 sl_core_module);

            if (sl_event_doorbell_init(cycle, ccf->worker_processes)
                != SL_OK)
            {
                sl_log_error(SL_LOG_ALERT, cycle->log, 0,
                             "doorbell for the new workers failed");
            }

            sl_start_worker_processes(cycle, ccf->worker_processes,
                                      SL_PROCESS_JUST_RESPAWN);
            sl_start_cleaner_process(cycle, SL_PROCESS_JUST_RESPAWN);

            /*
             * The listening sockets are the same descriptors, so nothing
             * is refused meanwhile; the pause lets the new workers reach
             * their event loop before the old ones stop accepting.
             */
            (void) usleep(100 * 1000);

            live = 1;
            sl_signal_worker_processes(cycle, SIGQUIT);
            sl_update_worker_stat();
        }

        if (sl_reopen) {
            sl_reopen = 0;
            sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "reopening logs");
            sl_reopen_files(cycle);
            sl_signal_worker_processes(cycle, SIGUSR1);
        }
    }
}


void
sl_single_process_cycle(sl_cycle_t *cycle)
{
    sl_worker = 0;

    if (sl_event_doorbell_init(cycle, 1) != SL_OK) {
        sl_master_process_exit(cycle);
    }

    sl_call_init_process(cycle);

    for ( ;; ) {
        sl_process_events_and_timers(cycle);

        if (sl_terminate || sl_quit) {
            sl_call_exit_process(cycle);
            sl_master_process_exit(cycle);
        }

        if (sl_reconfigure) {
            sl_reconfigure = 0;
            sl_log_error(SL_LOG_WARN, cycle->log, 0,
                         "reconfiguring needs \"master_process on\", "
                         "ignored; restart to apply a new configuration");
        }

        if (sl_reopen) {
            sl_reopen = 0;
            sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "reopening logs");
            sl_reopen_files(cycle);
        }
    }
}


/* "sluice: master process" and the command line, as ps shows it */

static void
sl_master_title(sl_cycle_t *cycle)
{
    u_char    *title, *p, *last;
    size_t     size;
    sl_int_t   i;

    size = sizeof("master process");

    for (i = 0; i < sl_argc; i++) {
        size += sl_strlen(sl_argv[i]) + 1;
    }

    title = sl_pnalloc(cycle->pool, size);
    if (title == NULL) {
        return;
    }

    last = title + size;

    p = sl_cpystrn(title, (u_char *) "master process", last - title);

    for (i = 0; i < sl_argc; i++) {
        *p++ = ' ';
        p = sl_cpystrn(p, (u_char *) sl_argv[i], last - p);
    }

    sl_setproctitle((char *) title);
}


static void
sl_start_worker_processes(sl_cycle_t *cycle, sl_int_t n, sl_int_t type)
{
    sl_int_t      i;
    sl_pid_t      pid;
    sl_channel_t  ch;

    sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "start worker processes");

    sl_memzero(&ch, sizeof(sl_channel_t));
    ch.command = SL_CMD_OPEN_CHANNEL;

    for (i = 0; i < n; i++) {

        pid = sl_spawn_process(cycle, sl_worker_process_cycle,
                               (void *) (intptr_t) i, sl_worker_name, type);
        if (pid == SL_INVALID_PID) {
            continue;
        }

        sl_respawn_fails[sl_process_slot] = 0;
        sl_respawn_delay[sl_process_slot] = 0;

        ch.pid = sl_processes[sl_process_slot].pid;
        ch.slot = sl_process_slot;
        ch.fd = sl_processes[sl_process_slot].channel[0];

        sl_pass_open_channel(cycle, &ch);
    }
}


static void
sl_start_cleaner_process(sl_cycle_t *cycle, sl_int_t type)
{
    sl_pid_t      pid;
    sl_channel_t  ch;

    pid = sl_spawn_process(cycle, sl_cleaner_process_cycle, NULL,
                           sl_cleaner_name, type);
    if (pid == SL_INVALID_PID) {
        return;
    }

    sl_respawn_fails[sl_process_slot] = 0;
    sl_respawn_delay[sl_process_slot] = 0;

    sl_memzero(&ch, sizeof(sl_channel_t));
    ch.command = SL_CMD_OPEN_CHANNEL;
    ch.pid = pid;
    ch.slot = sl_process_slot;
    ch.fd = sl_processes[sl_process_slot].channel[0];

    sl_pass_open_channel(cycle, &ch);
}


/* tells the other workers the new one's channel, so they can reach it */

static void
sl_pass_open_channel(sl_cycle_t *cycle, sl_channel_t *ch)
{
    sl_int_t  i;

    for (i = 0; i < sl_last_process; i++) {

        if (i == sl_process_slot
            || sl_processes[i].pid == -1
            || sl_processes[i].channel[0] == -1)
        {
            continue;
        }

        (void) sl_write_channel(sl_processes[i].channel[0], ch,
                                sizeof(sl_channel_t), cycle->log);
    }
}


static void
sl_signal_worker_processes(sl_cycle_t *cycle, int signo)
{
    sl_int_t      i;
    sl_err_t      err;
    sl_channel_t  ch;

    sl_memzero(&ch, sizeof(sl_channel_t));

    switch (signo) {

    case SIGQUIT:
        ch.command = SL_CMD_QUIT;
        break;

    case SIGTERM:
        ch.command = SL_CMD_TERMINATE;
        break;

    case SIGUSR1:
        ch.command = SL_CMD_REOPEN;
        break;

    default:
        ch.command = 0;
    }

    ch.fd = -1;

    for (i = 0; i < sl_last_process; i++) {

        if (sl_processes[i].detached || sl_processes[i].pid == -1) {
            continue;
        }

        if (sl_processes[i].exited) {
            /* dead already; one waiting for a respawn must stay dead */
            if (signo != SIGUSR1 && sl_respawn_delay[i] != 0) {
                sl_processes[i].respawn = 0;
                sl_respawn_delay[i] = 0;
                sl_reap = 1;
            }

            continue;
        }

        if (sl_processes[i].just_spawn) {
            sl_processes[i].just_spawn = 0;
            continue;
        }

        if (sl_processes[i].exiting && signo == SIGQUIT) {
            continue;
        }

        if (ch.command) {
            if (sl_write_channel(sl_processes[i].channel[0], &ch,
                                 sizeof(sl_channel_t), cycle->log)
                == SL_OK)
            {
                if (signo != SIGUSR1) {
                    sl_processes[i].exiting = 1;
                }

                continue;
            }
        }

        if (kill(sl_processes[i].pid, signo) == -1) {
            err = sl_errno;

            sl_log_error(SL_LOG_ALERT, cycle->log, err,
                         "kill(%d, %d) failed",
                         (int) sl_processes[i].pid, signo);

            if (err == SL_ESRCH) {
                sl_processes[i].exited = 1;
                sl_processes[i].exiting = 0;
                sl_reap = 1;
            }

            continue;
        }

        if (signo != SIGUSR1) {
            sl_processes[i].exiting = 1;
        }
    }
}


/*
 * Returns whether any child is still alive (or about to be respawned).
 */

static sl_uint_t
sl_reap_children(sl_cycle_t *cycle)
{
    sl_int_t      i, n;
    sl_uint_t     live;
    sl_msec_t     lived, wait;
    sl_channel_t  ch;

    sl_memzero(&ch, sizeof(sl_channel_t));
    ch.command = SL_CMD_CLOSE_CHANNEL;
    ch.fd = -1;

    live = 0;
    wait = 0;

    for (i = 0; i < sl_last_process; i++) {

        if (sl_processes[i].pid == -1) {
            continue;
        }

        if (!sl_processes[i].exited) {
            if (sl_processes[i].exiting || !sl_processes[i].detached) {
                live = 1;
            }

            continue;
        }

        /* what a killed worker had open is closed now */
        sl_stat_reset_slot(i);

        if (sl_respawn_delay[i] != 0) {
            /* dead, waiting for its back-off to end */
            if (sl_processes[i].respawn && !sl_terminate && !sl_quit) {
                sl_respawn(cycle, i);
                live = 1;
                continue;
            }

            sl_respawn_delay[i] = 0;
            sl_processes[i].respawn = 0;
        }

        if (!sl_processes[i].detached) {
            sl_close_channel(sl_processes[i].channel, cycle->log);

            ch.pid = sl_processes[i].pid;
            ch.slot = i;

            for (n = 0; n < sl_last_process; n++) {
                if (sl_processes[n].exited
                    || sl_processes[n].pid == -1
                    || sl_processes[n].channel[0] == -1)
                {
                    continue;
                }

                (void) sl_write_channel(sl_processes[n].channel[0], &ch,
                                        sizeof(sl_channel_t), cycle->log);
            }
        }

        if (sl_processes[i].respawn
            && !sl_processes[i].exiting
            && !sl_terminate
            && !sl_quit)
        {
            lived = sl_current_msec - sl_processes[i].started;
            wait = sl_respawn_backoff(&sl_respawn_fails[i], lived);

            if (wait) {
                sl_log_error(SL_LOG_WARN, cycle->log, 0,
                             "%s in slot %d died %lu ms after its start, "
                             "respawning in %lu ms",
                             sl_processes[i].name, (int) i,
                             (unsigned long) lived, (unsigned long) wait);

                sl_respawn_delay[i] = sl_current_msec + wait;
                sl_set_alarm(wait);
                live = 1;
                continue;
            }

            sl_respawn(cycle, i);
            live = 1;
            continue;
        }

        sl_processes[i].pid = -1;
        sl_respawn_delay[i] = 0;

        if (i == sl_last_process - 1) {
            sl_last_process--;
        }
    }

    return live;
}


/*
 * A worker that died soon after its start is respawned after a delay
 * that doubles with each such death in a row, so that workers failing at
 * once (a bad disk, no memory) do not make a respawn storm; one that
 * lived long enough is respawned at once and clears the count.
 */

sl_msec_t
sl_respawn_backoff(sl_uint_t *fails, sl_msec_t lived)
{
    if (lived >= SL_RESPAWN_MIN_LIFE) {
        *fails = 0;
        return 0;
    }

    (*fails)++;

    if (*fails > 5) {
        return SL_RESPAWN_MAX_DELAY;
    }

    return sl_min((sl_msec_t) SL_RESPAWN_FIRST_DELAY << (*fails - 1),
                  (sl_msec_t) SL_RESPAWN_MAX_DELAY);
}


static void
sl_respawn(sl_cycle_t *cycle, sl_int_t slot)
{
    sl_pid_t      pid;
    sl_channel_t  ch;

    if (sl_respawn_delay[slot] > sl_current_msec) {
        /* an alarm is due later; re-arm in case a reload took it */
        sl_set_alarm(sl_respawn_delay[slot] - sl_current_msec);
        return;
    }

    sl_respawn_delay[slot] = 0;

    sl_log_error(SL_LOG_NOTICE, cycle->log, 0,
                 "respawning %s %d in slot %d",
                 sl_processes[slot].name,
                 (int) (intptr_t) sl_processes[slot].data, (int) slot);

    pid = sl_spawn_process(cycle, sl_processes[slot].proc,
                           sl_processes[slot].data, sl_processes[slot].name,
                           slot);

    if (pid == SL_INVALID_PID) {
        sl_log_error(SL_LOG_ALERT, cycle->log, 0,
                     "could not respawn %s in slot %d",
                     sl_processes[slot].name, (int) slot);

        /* keep the slot and try again later */
        sl_processes[slot].exited = 1;
        sl_respawn_delay[slot] = sl_current_msec + SL_RESPAWN_MAX_DELAY;
        sl_set_alarm(SL_RESPAWN_MAX_DELAY);
        return;
    }

    sl_memzero(&ch, sizeof(sl_channel_t));
    ch.command = SL_CMD_OPEN_CHANNEL;
    ch.pid = pid;
    ch.slot = slot;
    ch.fd = sl_processes[slot].channel[0];

    sl_pass_open_channel(cycle, &ch);
}


/* what /status calls "workers": live workers that are not retiring */

static void
sl_update_worker_stat(void)
{
    sl_int_t    i;
    sl_uint_t   n;

    if (sl_stat == NULL) {
        return;
    }

    n = 0;

    for (i = 0; i < sl_last_process; i++) {
        if (sl_processes[i].pid != -1
            && sl_processes[i].proc == sl_worker_process_cycle
            && !sl_processes[i].exited
            && !sl_processes[i].exiting)
        {
            n++;
        }
    }

    sl_atomic_store(&sl_stat->workers, n);
}


/*
 * One alarm serves the respawn back-off and the terminate timeout: an
 * earlier request replaces a later one, and a handler that finds its
 * own deadline still ahead re-arms it (sl_respawn).
 */

static void
sl_set_alarm(sl_msec_t delay)
{
    struct itimerval  itv, old;

    if (getitimer(ITIMER_REAL, &old) == 0
        && (old.it_value.tv_sec || old.it_value.tv_usec)
        && (sl_msec_t) (old.it_value.tv_sec * 1000
                        + old.it_value.tv_usec / 1000) <= delay)
    {
        return;
    }

    sl_memzero(&itv, sizeof(struct itimerval));
    itv.it_value.tv_sec = delay / 1000;
    itv.it_value.tv_usec = (delay % 1000) * 1000;

    if (itv.it_value.tv_sec == 0 && itv.it_value.tv_usec == 0) {
        itv.it_value.tv_usec = 1000;
    }

    if (setitimer(ITIMER_REAL, &itv, NULL) == -1) {
        sl_log_error(SL_LOG_ALERT, (sl_log_t *) sl_cycle->log, sl_errno,
                     "setitimer() failed");
    }
}


static void
sl_master_process_exit(sl_cycle_t *cycle)
{
    sl_delete_pidfile(cycle);

    sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "exit");

    sl_call_exit_master(cycle);

    sl_close_master_listening(cycle);

    exit(0);
}


/*
 * The master never has events on its listening sockets, so closing the
 * descriptors is all it takes; the workers close their own copies.
 */

static void
sl_close_master_listening(sl_cycle_t *cycle)
{
    sl_uint_t        i;
    sl_listening_t  *ls;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd == -1) {
            continue;
        }

        if (sl_close_socket(ls[i].fd) == -1) {
            sl_log_error(SL_LOG_EMERG, cycle->log, sl_socket_errno,
                         "close() %.*s failed", SL_STR_ARG(&ls[i].addr_text));
        }

        ls[i].fd = -1;
    }

    cycle->listening.nelts = 0;
}


static void
sl_worker_process_cycle(sl_cycle_t *cycle, void *data)
{
    sl_int_t  worker;

    worker = (intptr_t) data;

    sl_process = SL_PROCESS_WORKER;
    sl_worker = worker;

    sl_setproctitle("worker process");

    sl_worker_process_init(cycle, worker);

    for ( ;; ) {

        if (sl_exiting) {
            if (!sl_worker_busy(cycle)) {
                sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "exiting");
                sl_worker_process_exit(cycle);
            }
        }

        sl_process_events_and_timers(cycle);

        if (sl_terminate) {
            sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "exiting");
            sl_worker_process_exit(cycle);
        }

        if (sl_quit) {
            sl_quit = 0;

            if (!sl_exiting) {
                sl_log_error(SL_LOG_NOTICE, cycle->log, 0,
                             "gracefully shutting down");

                sl_exiting = 1;
                sl_set_shutdown_timer(cycle);
                sl_close_listening_sockets(cycle);

                sl_idle_close_event.handler = sl_idle_close_handler;
                sl_idle_close_event.data = cycle;
                sl_idle_close_event.log = cycle->log;
                sl_idle_close_event.cancelable = 1;
                sl_add_timer(&sl_idle_close_event, SL_IDLE_CLOSE_GRACE);
            }
        }

        if (sl_reopen) {
            sl_reopen = 0;
            sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "reopening logs");
            sl_reopen_files(cycle);
        }
    }
}


/*
 * The log cleaner: no listening sockets and no clients, only the event
 * loop's timers, its channel, and the modules it needs for them (the
 * event modules and the broker, whose timer does the background work
 * in this process); on quit it leaves at once, as nothing is pending.
 */

static void
sl_cleaner_process_cycle(sl_cycle_t *cycle, void *data)
{
    sl_process = SL_PROCESS_HELPER;

    /* not a worker: beyond every doorbell slot */
    sl_worker = SL_MAX_PROCESSES;

    /* not accepted on here: closing the descriptors is enough */
    sl_close_master_listening(cycle);

    sl_setproctitle(sl_cleaner_name);

    sl_worker_process_init(cycle, -1);

    for ( ;; ) {

        if (sl_terminate || sl_quit) {
            sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "exiting");
            sl_worker_process_exit(cycle);
        }

        sl_process_events_and_timers(cycle);

        if (sl_reopen) {
            sl_reopen = 0;
            sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "reopening logs");
            sl_reopen_files(cycle);
        }
    }
}


static void
sl_worker_process_init(sl_cycle_t *cycle, sl_int_t worker)
{
    sl_int_t           n;
    sigset_t           set;
    struct rlimit      rlmt;
    struct itimerval   itv;
    sl_core_conf_t    *ccf;

    sl_reap = 0;
    sl_sigalrm = 0;
    sl_reconfigure = 0;
    sl_reopen = 0;

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    if (ccf->rlimit_nofile != SL_CONF_UNSET) {
        rlmt.rlim_cur = (rlim_t) ccf->rlimit_nofile;
        rlmt.rlim_max = (rlim_t) ccf->rlimit_nofile;

        if (setrlimit(RLIMIT_NOFILE, &rlmt) == -1) {
            sl_log_error(SL_LOG_ALERT, cycle->log, sl_errno,
                         "setrlimit(RLIMIT_NOFILE, %d) failed",
                         (int) ccf->rlimit_nofile);
        }
    }

    if (ccf->working_directory.len) {
        if (chdir((char *) ccf->working_directory.data) == -1) {
            sl_log_error(SL_LOG_ALERT, cycle->log, sl_errno,
                         "chdir(\"%s\") failed",
                         ccf->working_directory.data);
            exit(2);
        }
    }

    sigemptyset(&set);

    if (sigprocmask(SIG_SETMASK, &set, NULL) == -1) {
        sl_log_error(SL_LOG_ALERT, cycle->log, sl_errno,
                     "sigprocmask() failed");
    }

    /* the master's back-off alarm is not ours */
    sl_memzero(&itv, sizeof(struct itimerval));
    (void) setitimer(ITIMER_REAL, &itv, NULL);

    sl_call_init_process(cycle);

    /* keep only our own end of our channel and the others' master ends */

    for (n = 0; n < sl_last_process; n++) {

        if (sl_processes[n].pid == -1) {
            continue;
        }

        if (n == sl_process_slot) {
            continue;
        }

        if (sl_processes[n].channel[1] == -1) {
            continue;
        }

        if (close(sl_processes[n].channel[1]) == -1) {
            sl_log_error(SL_LOG_ALERT, cycle->log, sl_errno,
                         "close() channel failed");
        }

        sl_processes[n].channel[1] = -1;
    }

    if (close(sl_processes[sl_process_slot].channel[0]) == -1) {
        sl_log_error(SL_LOG_ALERT, cycle->log, sl_errno,
                     "close() channel failed");
    }

    sl_processes[sl_process_slot].channel[0] = -1;

    if (sl_add_channel_event(cycle, sl_processes[sl_process_slot].channel[1],
                             SL_READ_EVENT, sl_channel_handler)
        == SL_ERROR)
    {
        /* without its channel the master could not stop this worker */
        exit(2);
    }

    if (worker == -1) {
        sl_log_error(SL_LOG_INFO, cycle->log, 0, "%s started",
                     sl_cleaner_name);
        return;
    }

    sl_log_error(SL_LOG_INFO, cycle->log, 0, "worker %d started",
                 (int) worker);
}


/*
 * A retiring worker waits while connections are busy: a connection is
 * busy as long as it has a timer that must not be cut short (a request
 * being read, a response being sent, a long poll).  Idle keep-alive
 * connections are closed SL_IDLE_CLOSE_GRACE after retiring starts.
 */

static sl_uint_t
sl_worker_busy(sl_cycle_t *cycle)
{
    sl_uint_t         i, n;
    sl_connection_t  *c;

    if (sl_event_no_timers_left() == SL_OK) {
        return 0;
    }

    n = 0;
    c = cycle->connections;

    for (i = 0; c && i < cycle->connection_n; i++) {
        if (c[i].fd != -1 && c[i].read && !c[i].read->channel) {
            n++;
        }
    }

    return n != 0;
}


static void
sl_worker_process_exit(sl_cycle_t *cycle)
{
    sl_call_exit_process(cycle);

    sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "exit");

    exit(0);
}


static void
sl_idle_close_handler(sl_event_t *ev)
{
    sl_cycle_t  *cycle;

    cycle = ev->data;

    sl_close_idle_connections(cycle);
    sl_event_process_posted(cycle, &sl_posted_events);
}


static void
sl_channel_handler(sl_event_t *ev)
{
    sl_int_t          n;
    sl_channel_t      ch;
    sl_connection_t  *c;

    if (ev->timedout) {
        ev->timedout = 0;
        return;
    }

    c = ev->data;

    for ( ;; ) {

        n = sl_read_channel(c->fd, &ch, sizeof(sl_channel_t), ev->log);

        if (n == SL_AGAIN) {
            return;
        }

        if (n == SL_ERROR) {
            /* the master is gone: nobody will stop us, so retire now */
            sl_log_error(SL_LOG_ALERT, ev->log, 0,
                         "the channel to the master is closed, exiting");

            sl_del_conn(c, 0);
            sl_close_connection(c);
            sl_quit = 1;
            return;
        }

        switch (ch.command) {

        case SL_CMD_QUIT:
            sl_quit = 1;
            break;

        case SL_CMD_TERMINATE:
            sl_terminate = 1;
            break;

        case SL_CMD_REOPEN:
            sl_reopen = 1;
            break;

        case SL_CMD_OPEN_CHANNEL:
            /* the master closed the slot's previous channel first */
            if (ch.slot >= 0 && ch.slot < SL_MAX_PROCESSES
                && ch.slot != sl_process_slot)
            {
                /* a CLOSE_CHANNEL the master could not send: no leak */
                if (sl_processes[ch.slot].channel[0] != -1) {
                    (void) close(sl_processes[ch.slot].channel[0]);
                }

                sl_processes[ch.slot].pid = ch.pid;
                sl_processes[ch.slot].channel[0] = ch.fd;

                if (ch.slot >= sl_last_process) {
                    sl_last_process = ch.slot + 1;
                }

            } else {
                (void) close(ch.fd);
            }

            break;

        case SL_CMD_CLOSE_CHANNEL:
            if (ch.slot >= 0 && ch.slot < sl_last_process
                && ch.slot != sl_process_slot
                && sl_processes[ch.slot].channel[0] != -1)
            {
                if (close(sl_processes[ch.slot].channel[0]) == -1) {
                    sl_log_error(SL_LOG_ALERT, ev->log, sl_errno,
                                 "close() channel failed");
                }

                sl_processes[ch.slot].channel[0] = -1;
            }

            break;
        }
    }
}


/* the log cleaner runs only the event modules and the broker */

static sl_uint_t
sl_process_runs_module(sl_module_t *module)
{
    return sl_process != SL_PROCESS_HELPER
           || module->type == SL_EVENT_MODULE
           || module == &sl_broker_module;
}


static void
sl_call_init_process(sl_cycle_t *cycle)
{
    sl_uint_t  i;

    for (i = 0; cycle->modules[i]; i++) {
        if (cycle->modules[i]->init_process == NULL
            || !sl_process_runs_module(cycle->modules[i]))
        {
            continue;
        }

        if (cycle->modules[i]->init_process(cycle) == SL_ERROR) {
            sl_log_error(SL_LOG_EMERG, cycle->log, 0,
                         "init_process of module \"%s\" failed",
                         cycle->modules[i]->name);
            exit(2);
        }
    }
}


static void
sl_call_exit_process(sl_cycle_t *cycle)
{
    sl_uint_t  i;

    for (i = 0; cycle->modules[i]; i++) {
        if (cycle->modules[i]->exit_process
            && sl_process_runs_module(cycle->modules[i]))
        {
            cycle->modules[i]->exit_process(cycle);
        }
    }
}


static void
sl_call_exit_master(sl_cycle_t *cycle)
{
    sl_uint_t  i;

    for (i = 0; cycle->modules[i]; i++) {
        if (cycle->modules[i]->exit_master) {
            cycle->modules[i]->exit_master(cycle);
        }
    }
}
