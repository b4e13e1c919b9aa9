
/*
 * The Lua module family (LuaJIT): one VM per cycle, created while the
 * configuration is read so that every chunk is compiled (and its syntax
 * checked, -t included) where its directive stands, run first in the
 * master (init_by_lua) and inherited by the workers at fork.
 *
 * sl_lua_module (core) owns the VM, the directives of the main context,
 * the `sl` API table, shared dictionaries and timers; sl_http_lua_module
 * and sl_kafka_lua_module only attach chunks to their protocol's places
 * and call them through sl_lua_call(), which enforces lua_max_run_time.
 */

#ifndef _SL_LUA_H_INCLUDED_
#define _SL_LUA_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_batch.h>

#include <luajit.h>
#include <lualib.h>
#include <lauxlib.h>


/* the count hook's period, in VM instructions (some microseconds) */
#define SL_LUA_HOOK_COUNT        10000

#define SL_LUA_MAX_ERROR         512


typedef struct {
    int                      ref;        /* LUA_NOREF: none */
    sl_str_t                 name;       /* "content_by_lua(broker.conf:12)"
                                            or the file's path */
} sl_lua_chunk_t;


typedef struct sl_lua_stream_s  sl_lua_stream_t;


/* a produce filter: the records of one topic pass through a chunk */
typedef struct {
    sl_str_t                 topic;
    sl_lua_chunk_t           chunk;
} sl_lua_produce_t;


typedef struct {
    lua_State               *vm;
    sl_log_t                *log;        /* the cycle's */

    sl_str_t                 package_path;
    sl_msec_t                max_run_time;   /* 0: no budget, JIT on */

    sl_lua_chunk_t           init;           /* init_by_lua */
    sl_lua_chunk_t           init_worker;    /* init_worker_by_lua */

    sl_array_t               dicts;      /* of sl_shm_zone_t * */
    sl_array_t               produce;    /* of sl_lua_produce_t */
    sl_array_t               streams;    /* of sl_lua_stream_t * */

    unsigned                 sandboxed:1;
} sl_lua_main_conf_t;


/* sl_lua_module.c */

/* the VM's configuration while the configuration is read */
sl_lua_main_conf_t *sl_lua_conf_main_conf(sl_conf_t *cf);
/* the current cycle's, in a worker; NULL if there is no Lua at all */
sl_lua_main_conf_t *sl_lua_main_conf(void);

/*
 * The set handler shared by every "*_by_lua_block { }" and
 * "*_by_lua_file FILE;" directive: compiles the chunk into chunk (the
 * command's offset into conf), named after the directive's prefix.
 */
char *sl_lua_set_chunk(sl_conf_t *cf, sl_command_t *cmd, void *conf);
char *sl_lua_conf_chunk(sl_conf_t *cf, sl_lua_chunk_t *chunk,
    const char *what);

/*
 * Pushes the chunk's function; then the caller pushes nargs arguments
 * and calls.  The call runs under the time budget (unless one runs
 * already: see sl_lua_budget_begin); an error, or running out of time,
 * is logged with its traceback and returns SL_ERROR with the message
 * in err (may be NULL); SL_DONE after sl.exit().
 */
void sl_lua_push_chunk(lua_State *L, sl_lua_chunk_t *chunk);
sl_int_t sl_lua_call(sl_lua_main_conf_t *lmcf, int nargs, int nresults,
    sl_log_t *log, u_char *err, size_t *err_len);
/* the hook set once for many calls (the records of a batch), each of
 * which still has lua_max_run_time */
sl_uint_t sl_lua_budget_begin(sl_lua_main_conf_t *lmcf);
void sl_lua_budget_end(sl_lua_main_conf_t *lmcf, sl_uint_t began);

/* the log of the code running now: the request's, or the cycle's */
extern sl_log_t            *sl_lua_log;

/* an error object that sl.exit() raises to unwind; not an error */
extern int                  sl_lua_exit_marker;


/* sl_lua_shdict.c */
char *sl_lua_shared_dict(sl_conf_t *cf, sl_command_t *cmd, void *conf);
void sl_lua_shdict_api(lua_State *L, sl_lua_main_conf_t *lmcf);


/* sl_lua_produce.c */

/* records sl.produce() collects for a batch, by partition */
typedef struct {
    sl_broker_partition_t     *partition;
    sl_broker_batch_writer_t   writer;
} sl_lua_route_t;


typedef struct {
    sl_pool_t                 *pool;
    sl_log_t                  *log;
    sl_array_t                 routes;   /* of sl_lua_route_t, lazily */
} sl_lua_produce_ctx_t;


void sl_lua_produce_api(lua_State *L);
sl_int_t sl_lua_produce_init(sl_cycle_t *cycle, sl_lua_main_conf_t *lmcf);
/* the record table of r, lazily filled while r is the current record */
void sl_lua_record_push(lua_State *L, sl_broker_batch_record_t *r,
    sl_str_t *topic, int32_t partition);
void sl_lua_record_done(void);
/* where sl.produce() collects; returns the previous one */
sl_lua_produce_ctx_t *sl_lua_produce_ctx(sl_lua_produce_ctx_t *ctx);
/* the table at idx, as a record, into ctx for one of topic's partitions;
 * NULL or what is wrong */
const char *sl_lua_route(lua_State *L, int idx, sl_broker_topic_t *topic,
    sl_lua_produce_ctx_t *ctx);
sl_int_t sl_lua_routes_append(sl_lua_produce_ctx_t *ctx, sl_uint_t flush);


/* sl_lua_stream.c */
char *sl_lua_stream_block(sl_conf_t *cf, sl_command_t *cmd, void *conf);
sl_int_t sl_lua_stream_init_process(sl_cycle_t *cycle,
    sl_lua_main_conf_t *lmcf);
/* leaves the groups; atexit() calls it too, once per process */
void sl_lua_stream_exit_process(sl_cycle_t *cycle,
    sl_lua_main_conf_t *lmcf);


extern sl_module_t  sl_lua_module;


#endif /* _SL_LUA_H_INCLUDED_ */
