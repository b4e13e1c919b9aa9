
/*
 * A cycle is one generation of configuration and everything built from
 * it: modules' configurations, listening sockets, shared memory zones,
 * open files.  A reload builds a whole new cycle from the file and keeps
 * the old one if anything fails.
 */

#ifndef _SL_CYCLE_H_INCLUDED_
#define _SL_CYCLE_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


#ifndef SL_CYCLE_POOL_SIZE
#define SL_CYCLE_POOL_SIZE     SL_DEFAULT_POOL_SIZE
#endif


typedef struct sl_shm_zone_s  sl_shm_zone_t;

typedef sl_int_t (*sl_shm_zone_init_pt) (sl_shm_zone_t *zone, void *data);

struct sl_shm_zone_s {
    void                     *data;    /* owner's, set by init */
    sl_shm_t                  shm;
    sl_shm_zone_init_pt       init;    /* data = the old zone's data */
    void                     *tag;     /* owning module */
    void                     *sync;
    sl_uint_t                 noreuse; /* never inherit across reloads */
};


struct sl_cycle_s {
    void                  ****conf_ctx;
    sl_pool_t                *pool;

    sl_log_t                 *log;
    sl_log_t                  new_log;

    sl_uint_t                 log_use_stderr;  /* unsigned log_use_stderr:1; */

    sl_connection_t         **files;
    sl_connection_t          *free_connections;
    sl_uint_t                 free_connection_n;

    sl_module_t             **modules;
    sl_uint_t                 modules_n;
    sl_uint_t                 modules_used;    /* unsigned modules_used:1; */

    sl_queue_t                reusable_connections_queue;
    sl_uint_t                 reusable_connections_n;

    sl_array_t                listening;       /* of sl_listening_t */
    sl_array_t                paths;

    sl_list_t                 open_files;      /* of sl_open_file_t */
    sl_list_t                 shared_memory;   /* of sl_shm_zone_t */

    sl_uint_t                 connection_n;
    sl_uint_t                 files_n;

    sl_connection_t          *connections;
    sl_event_t               *read_events;
    sl_event_t               *write_events;

    sl_cycle_t               *old_cycle;

    sl_str_t                  conf_file;
    sl_str_t                  conf_param;
    sl_str_t                  conf_prefix;
    sl_str_t                  prefix;
    sl_str_t                  error_log;
    sl_str_t                  lock_file;
    sl_str_t                  hostname;
};


/* the core module's configuration: directives of the main context */
typedef struct {
    sl_flag_t                 daemon;
    sl_flag_t                 master;
    sl_msec_t                 shutdown_timeout;
    sl_int_t                  worker_processes;
    sl_int_t                  rlimit_nofile;
    sl_str_t                  pid;
    sl_str_t                  working_directory;
} sl_core_conf_t;


#define sl_is_init_cycle(cycle)  (cycle->conf_ctx == NULL)

#define sl_get_conf(conf_ctx, module)  conf_ctx[module.index]


sl_cycle_t *sl_init_cycle(sl_cycle_t *old_cycle);
sl_int_t sl_create_pidfile(sl_str_t *name, sl_log_t *log);
void sl_delete_pidfile(sl_cycle_t *cycle);
sl_int_t sl_signal_process(sl_cycle_t *cycle, char *sig);
void sl_reopen_files(sl_cycle_t *cycle);
sl_shm_zone_t *sl_shared_memory_add(sl_conf_t *cf, sl_str_t *name,
    size_t size, void *tag);
void sl_set_shutdown_timer(sl_cycle_t *cycle);


extern volatile sl_cycle_t  *sl_cycle;
extern sl_array_t            sl_old_cycles;
extern sl_module_t           sl_core_module;
extern sl_uint_t             sl_test_config;
extern sl_uint_t             sl_dump_config;
extern sl_uint_t             sl_quiet_mode;


#endif /* _SL_CYCLE_H_INCLUDED_ */
