
/*
 * The master's supervision loop and the worker's event loop.
 */

#ifndef _SL_PROCESS_CYCLE_H_INCLUDED_
#define _SL_PROCESS_CYCLE_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


#define SL_PROCESS_SINGLE     0
#define SL_PROCESS_MASTER     1
#define SL_PROCESS_SIGNALLER  2    /* sluice -s: reads the conf, signals */
#define SL_PROCESS_WORKER     3
#define SL_PROCESS_HELPER     4


void sl_master_process_cycle(sl_cycle_t *cycle);
void sl_single_process_cycle(sl_cycle_t *cycle);


extern sl_uint_t      sl_process;
extern sl_uint_t      sl_worker;       /* 0..worker_processes-1 */
extern sl_pid_t       sl_new_binary;
extern sl_uint_t      sl_inherited;
extern sl_uint_t      sl_daemonized;
extern sl_uint_t      sl_exiting;

extern sig_atomic_t   sl_reap;
extern sig_atomic_t   sl_sigio;
extern sig_atomic_t   sl_sigalrm;
extern sig_atomic_t   sl_quit;
extern sig_atomic_t   sl_debug_quit;
extern sig_atomic_t   sl_terminate;
extern sig_atomic_t   sl_noaccept;
extern sig_atomic_t   sl_reconfigure;
extern sig_atomic_t   sl_reopen;
extern sig_atomic_t   sl_change_binary;


#endif /* _SL_PROCESS_CYCLE_H_INCLUDED_ */
