
/*
 * The example module: the smallest useful module, built as a dynamic
 * module in the tests.  One directive in the main context,
 *
 *     example_greeting "text";
 *
 * and a worker that logs the greeting once it starts.
 */


#include <sl_config.h>
#include <sl_core.h>


typedef struct {
    sl_str_t             greeting;
} sl_example_conf_t;


static void *sl_example_create_conf(sl_cycle_t *cycle);
static char *sl_example_init_conf(sl_cycle_t *cycle, void *conf);
static sl_int_t sl_example_init_process(sl_cycle_t *cycle);


static sl_command_t  sl_example_commands[] = {

    { sl_string("example_greeting"),
      SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_TAKE1,
      sl_conf_set_str_slot,
      0,
      offsetof(sl_example_conf_t, greeting),
      NULL },

      sl_null_command
};


static sl_core_module_t  sl_example_module_ctx = {
    sl_string("example"),
    sl_example_create_conf,
    sl_example_init_conf
};


sl_module_t  sl_example_module = {
    SL_MODULE_V1,
    &sl_example_module_ctx,                /* module context */
    sl_example_commands,                   /* module directives */
    SL_CORE_MODULE,                        /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    sl_example_init_process,               /* init process */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    SL_MODULE_V1_PADDING
};


static void *
sl_example_create_conf(sl_cycle_t *cycle)
{
    sl_example_conf_t  *ecf;

    /* greeting.data == NULL is "unset" for sl_conf_set_str_slot */

    ecf = sl_pcalloc(cycle->pool, sizeof(sl_example_conf_t));
    if (ecf == NULL) {
        return NULL;
    }

    return ecf;
}


static char *
sl_example_init_conf(sl_cycle_t *cycle, void *conf)
{
    sl_example_conf_t  *ecf = conf;

    if (ecf->greeting.data == NULL) {
        sl_str_set(&ecf->greeting, "hello");
    }

    return SL_CONF_OK;
}


static sl_int_t
sl_example_init_process(sl_cycle_t *cycle)
{
    sl_example_conf_t  *ecf;

    ecf = (sl_example_conf_t *) sl_get_conf(cycle->conf_ctx,
                                            sl_example_module);

    sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "example module says: %.*s",
                 SL_STR_ARG(&ecf->greeting));

    return SL_OK;
}
