
/*
 * Child processes of the master: spawning, the table of workers, signals.
 */

#ifndef _SL_PROCESS_H_INCLUDED_
#define _SL_PROCESS_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


typedef pid_t       sl_pid_t;

typedef void (*sl_spawn_proc_pt) (sl_cycle_t *cycle, void *data);

typedef struct {
    sl_pid_t            pid;
    int                 status;
    sl_socket_t         channel[2];    /* [0] master's end, [1] child's */

    sl_spawn_proc_pt    proc;
    void               *data;
    char               *name;
    sl_msec_t           started;       /* for the respawn back-off */

    unsigned            respawn:1;
    unsigned            just_spawn:1;
    unsigned            detached:1;
    unsigned            exiting:1;
    unsigned            exited:1;
} sl_process_t;


#define SL_MAX_PROCESSES         1024

#define SL_PROCESS_NORESPAWN     -1
#define SL_PROCESS_JUST_SPAWN    -2
#define SL_PROCESS_RESPAWN       -3
#define SL_PROCESS_JUST_RESPAWN  -4

#define sl_getpid   getpid


sl_pid_t sl_spawn_process(sl_cycle_t *cycle, sl_spawn_proc_pt proc,
    void *data, char *name, sl_int_t respawn);
sl_int_t sl_init_signals(sl_log_t *log);
/* -s reload|quit|stop|reopen: signal the pid in the pid file */
sl_int_t sl_signal_process(sl_cycle_t *cycle, char *sig);
/* fork, setsid, stdin and stdout to /dev/null (sl_daemon.c) */
sl_int_t sl_daemon(sl_log_t *log);

/* sl_setproctitle.c: sl_argv is a copy, the original becomes the title */
sl_int_t sl_save_argv(int argc, char *const *argv);
sl_int_t sl_init_setproctitle(sl_log_t *log);
void sl_setproctitle(char *title);


extern int            sl_argc;
extern char         **sl_argv;
extern sl_pid_t       sl_pid;
extern sl_pid_t       sl_parent;
extern sl_int_t       sl_process_slot;    /* this worker's slot */
extern sl_int_t       sl_last_process;
extern sl_process_t   sl_processes[SL_MAX_PROCESSES];


#endif /* _SL_PROCESS_H_INCLUDED_ */
