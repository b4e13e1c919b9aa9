
/*
 * Modules: the static record every capability is (type, context of
 * configuration hooks, directive table, process hooks), the registry
 * built from objs/sl_modules.c, and load_module (dlopen) for dynamic
 * ones, which must match this core's version and signature.
 */

#ifndef _SL_MODULE_H_INCLUDED_
#define _SL_MODULE_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


#define SL_VERSION_NUM         1000
#define SL_VERSION_STR         "0.1.0"
#define SL_VER                 "sluice/" SL_VERSION_STR

/*
 * The signature encodes what a dynamic module's binary layout depends
 * on: a module built against another core refuses to load.
 */
#define SL_MODULE_SIGNATURE    "sl1:" SL_VERSION_STR ":"                     \
    SL_STRINGIFY(SL_PTR_SIZE) ":" SL_STRINGIFY(SL_DEBUG)

#define SL_STRINGIFY_(x)       #x
#define SL_STRINGIFY(x)        SL_STRINGIFY_(x)

#define SL_MODULE_UNSET_INDEX  (sl_uint_t) -1

#define SL_MODULE_V1                                                         \
    SL_MODULE_UNSET_INDEX, SL_MODULE_UNSET_INDEX,                            \
    NULL, SL_VERSION_NUM, SL_MODULE_SIGNATURE

#define SL_MODULE_V1_PADDING  0, 0, 0, 0


struct sl_module_s {
    sl_uint_t            ctx_index;   /* index among modules of its type */
    sl_uint_t            index;       /* index among all modules */

    char                *name;

    sl_uint_t            version;
    const char          *signature;

    void                *ctx;
    sl_command_t        *commands;
    sl_uint_t            type;

    /* in the master after configuration, before the listening sockets */
    sl_int_t           (*init_master)(sl_log_t *log);
    /* in the master, for every new cycle, after shared memory exists */
    sl_int_t           (*init_module)(sl_cycle_t *cycle);
    sl_int_t           (*init_process)(sl_cycle_t *cycle);
    void               (*exit_process)(sl_cycle_t *cycle);
    void               (*exit_master)(sl_cycle_t *cycle);

    uintptr_t            spare_hook0;
    uintptr_t            spare_hook1;
    uintptr_t            spare_hook2;
    uintptr_t            spare_hook3;
};


/* the context of SL_CORE_MODULE modules (and of block modules: http) */
typedef struct {
    sl_str_t             name;
    void               *(*create_conf)(sl_cycle_t *cycle);
    char               *(*init_conf)(sl_cycle_t *cycle, void *conf);
} sl_core_module_t;


sl_int_t sl_preinit_modules(void);
sl_int_t sl_cycle_modules(sl_cycle_t *cycle);
sl_int_t sl_init_modules(sl_cycle_t *cycle);
/* counts modules of a type and assigns their ctx_index */
sl_int_t sl_count_modules(sl_cycle_t *cycle, sl_uint_t type);
sl_int_t sl_add_module(sl_conf_t *cf, sl_str_t *file, sl_module_t *module,
    char **order);
sl_module_t *sl_module_find(sl_cycle_t *cycle, const char *name);
/*
 * "load_module FILE;" for the core module's table, declared there as
 * SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_TAKE1; FILE is relative to the
 * prefix and must come before any block that counts modules.
 */
char *sl_load_module(sl_conf_t *cf, sl_command_t *cmd, void *conf);


extern sl_module_t  *sl_modules[];       /* static, from configure */
extern sl_uint_t     sl_max_module;
extern char         *sl_module_names[];


#endif /* _SL_MODULE_H_INCLUDED_ */
