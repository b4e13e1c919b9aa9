
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


/* a worker that lived less than this is counted as a failed start */
#define SL_RESPAWN_MIN_LIFE     1000
#define SL_RESPAWN_FIRST_DELAY  250
#define SL_RESPAWN_MAX_DELAY    5000


void sl_master_process_cycle(sl_cycle_t *cycle);
void sl_single_process_cycle(sl_cycle_t *cycle);
/* the delay before respawning (0: now); counts failed starts in *fails */
sl_msec_t sl_respawn_backoff(sl_uint_t *fails, sl_msec_t lived);


extern sl_uint_t      sl_process;
extern sl_uint_t      sl_worker;       /* 0..worker_processes-1 */
extern sl_uint_t      sl_daemonized;
extern sl_uint_t      sl_exiting;

extern sig_atomic_t   sl_reap;
extern sig_atomic_t   sl_sigalrm;
extern sig_atomic_t   sl_quit;
extern sig_atomic_t   sl_terminate;
extern sig_atomic_t   sl_reconfigure;
extern sig_atomic_t   sl_reopen;


#endif /* _SL_PROCESS_CYCLE_H_INCLUDED_ */
