
/*
 * libFuzzer target for the configuration parser: the input is parsed as
 * a file (with blocks, a nested block, a "types { }" handler block and
 * include) and again as a -g parameter, against a small module set with
 * one directive per slot setter.  Each run builds and destroys its own
 * cycle pool, so a leak is reported by ASan.
 */


#include <sl_config.h>
#include <sl_core.h>


#define FUZZ_BOX_MODULE     0x584f4246  /* "FBOX" */
#define FUZZ_BOX_CONF       0x02000000
#define FUZZ_INNER_CONF     0x04000000

/* include f.conf in f.conf twice per level would never end otherwise */
#define FUZZ_MAX_INCLUDES   16


typedef struct {
    sl_flag_t            flag;
    sl_str_t             str;
    sl_array_t          *strs;
    sl_int_t             num;
    size_t               size;
    off_t                off;
    sl_msec_t            msec;
    time_t               sec;
    sl_uint_t            level;
} fuzz_main_conf_t;


typedef struct {
    sl_int_t             value;
    sl_flag_t            inner_flag;
} fuzz_box_conf_t;


static void *fuzz_main_create_conf(sl_cycle_t *cycle);
static char *fuzz_include(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *fuzz_any(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *fuzz_box_block(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *fuzz_inner_block(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static char *fuzz_types_block(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static char *fuzz_types(sl_conf_t *cf, sl_command_t *dummy, void *conf);
static void fuzz_cleanup(void);


static sl_conf_num_bounds_t  fuzz_bounds = {
    sl_conf_check_num_bounds, 1, 1000
};

static sl_conf_enum_t  fuzz_levels[] = {
    { sl_string("low"), 1 },
    { sl_string("high"), 2 },
    { sl_null_string, 0 }
};


#define FUZZ_MAIN  (SL_MAIN_CONF|SL_DIRECT_CONF)

static sl_command_t  fuzz_main_commands[] = {

    { sl_string("flag"), FUZZ_MAIN|SL_CONF_FLAG,
      sl_conf_set_flag_slot, 0, offsetof(fuzz_main_conf_t, flag), NULL },

    { sl_string("str"), FUZZ_MAIN|SL_CONF_TAKE1,
      sl_conf_set_str_slot, 0, offsetof(fuzz_main_conf_t, str), NULL },

    { sl_string("strs"), FUZZ_MAIN|SL_CONF_TAKE1,
      sl_conf_set_str_array_slot, 0, offsetof(fuzz_main_conf_t, strs),
      NULL },

    { sl_string("num"), FUZZ_MAIN|SL_CONF_TAKE1,
      sl_conf_set_num_slot, 0, offsetof(fuzz_main_conf_t, num),
      &fuzz_bounds },

    { sl_string("size"), FUZZ_MAIN|SL_CONF_TAKE1,
      sl_conf_set_size_slot, 0, offsetof(fuzz_main_conf_t, size), NULL },

    { sl_string("off"), FUZZ_MAIN|SL_CONF_TAKE1,
      sl_conf_set_off_slot, 0, offsetof(fuzz_main_conf_t, off), NULL },

    { sl_string("msec"), FUZZ_MAIN|SL_CONF_TAKE1,
      sl_conf_set_msec_slot, 0, offsetof(fuzz_main_conf_t, msec), NULL },

    { sl_string("sec"), FUZZ_MAIN|SL_CONF_TAKE1,
      sl_conf_set_sec_slot, 0, offsetof(fuzz_main_conf_t, sec), NULL },

    { sl_string("level"), FUZZ_MAIN|SL_CONF_TAKE1,
      sl_conf_set_enum_slot, 0, offsetof(fuzz_main_conf_t, level),
      fuzz_levels },

    { sl_string("any"), FUZZ_MAIN|SL_CONF_ANY,
      fuzz_any, 0, 0, NULL },

    { sl_string("some"), FUZZ_MAIN|SL_CONF_TAKE13,
      fuzz_any, 0, 0, NULL },

    { sl_string("more"), FUZZ_MAIN|SL_CONF_2MORE,
      fuzz_any, 0, 0, NULL },

    { sl_string("types"), FUZZ_MAIN|SL_CONF_BLOCK|SL_CONF_NOARGS,
      fuzz_types_block, 0, 0, NULL },

      sl_null_command
};


static sl_core_module_t  fuzz_main_module_ctx = {
    sl_string("fuzz"),
    fuzz_main_create_conf,
    NULL
};


static sl_module_t  fuzz_main_module = {
    SL_MODULE_V1,
    &fuzz_main_module_ctx,
    fuzz_main_commands,
    SL_CORE_MODULE,
    NULL, NULL, NULL, NULL, NULL,
    SL_MODULE_V1_PADDING
};


static sl_command_t  fuzz_boxes_commands[] = {

    { sl_string("box"), SL_MAIN_CONF|SL_CONF_BLOCK|SL_CONF_NOARGS,
      fuzz_box_block, 0, 0, NULL },

      sl_null_command
};


static sl_core_module_t  fuzz_boxes_module_ctx = {
    sl_string("boxes"),
    NULL,
    NULL
};


static sl_module_t  fuzz_boxes_module = {
    SL_MODULE_V1,
    &fuzz_boxes_module_ctx,
    fuzz_boxes_commands,
    SL_CORE_MODULE,
    NULL, NULL, NULL, NULL, NULL,
    SL_MODULE_V1_PADDING
};


static sl_command_t  fuzz_box_commands[] = {

    { sl_string("value"), FUZZ_BOX_CONF|SL_CONF_TAKE1,
      sl_conf_set_num_slot, 0, offsetof(fuzz_box_conf_t, value), NULL },

    { sl_string("inner"), FUZZ_BOX_CONF|SL_CONF_BLOCK|SL_CONF_NOARGS,
      fuzz_inner_block, 0, 0, NULL },

    { sl_string("inner_flag"), FUZZ_INNER_CONF|SL_CONF_FLAG,
      sl_conf_set_flag_slot, 0, offsetof(fuzz_box_conf_t, inner_flag),
      NULL },

      sl_null_command
};


static sl_module_t  fuzz_box_module = {
    SL_MODULE_V1,
    NULL,
    fuzz_box_commands,
    FUZZ_BOX_MODULE,
    NULL, NULL, NULL, NULL, NULL,
    SL_MODULE_V1_PADDING
};


/* include, fenced into the fuzz directory and a budget per run */

static sl_command_t  fuzz_conf_commands[] = {

    { sl_string("include"), SL_ANY_CONF|SL_CONF_TAKE1,
      fuzz_include, 0, 0, NULL },

      sl_null_command
};


static sl_module_t  fuzz_conf_module = {
    SL_MODULE_V1,
    NULL,
    fuzz_conf_commands,
    SL_CONF_MODULE,
    NULL, NULL, NULL, NULL, NULL,
    SL_MODULE_V1_PADDING
};


static sl_module_t  *fuzz_modules[] = {
    &fuzz_conf_module,
    &fuzz_main_module,
    &fuzz_boxes_module,
    &fuzz_box_module,
    NULL
};


static char              fuzz_prefix[64];
static char              fuzz_file[80];
static sl_open_file_t    fuzz_log_file;
static sl_log_t          fuzz_log;
static sl_uint_t         fuzz_includes;


static void *
fuzz_main_create_conf(sl_cycle_t *cycle)
{
    fuzz_main_conf_t  *mcf;

    mcf = sl_pcalloc(cycle->pool, sizeof(fuzz_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    mcf->flag = SL_CONF_UNSET;
    mcf->strs = SL_CONF_UNSET_PTR;
    mcf->num = SL_CONF_UNSET;
    mcf->size = SL_CONF_UNSET_SIZE;
    mcf->off = SL_CONF_UNSET;
    mcf->msec = SL_CONF_UNSET_MSEC;
    mcf->sec = SL_CONF_UNSET;
    mcf->level = SL_CONF_UNSET_UINT;

    return mcf;
}


static char *
fuzz_include(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_str_t  *value;

    value = cf->args->elts;

    if (sl_strlchr(value[1].data, value[1].data + value[1].len, '/')
        || value[1].len != sl_strlen(value[1].data)
        || ++fuzz_includes > FUZZ_MAX_INCLUDES)
    {
        return "is fenced";
    }

    return sl_conf_include(cf, cmd, conf);
}


static char *
fuzz_any(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    return SL_CONF_OK;
}


static char *
fuzz_box_block(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char              *rv;
    void            ***ctx;
    sl_conf_t          pcf;
    fuzz_box_conf_t   *bcf;

    if (*(void **) conf) {
        return "is duplicate";
    }

    ctx = sl_pcalloc(cf->pool, sizeof(void *));
    if (ctx == NULL) {
        return SL_CONF_ERROR;
    }

    /* ctx_index is set once, so the target needs no objs/sl_modules.c */

    *ctx = sl_pcalloc(cf->pool, sizeof(void *));
    if (*ctx == NULL) {
        return SL_CONF_ERROR;
    }

    bcf = sl_pcalloc(cf->pool, sizeof(fuzz_box_conf_t));
    if (bcf == NULL) {
        return SL_CONF_ERROR;
    }

    bcf->value = SL_CONF_UNSET;
    bcf->inner_flag = SL_CONF_UNSET;

    (*ctx)[fuzz_box_module.ctx_index] = bcf;
    *(void **) conf = ctx;

    pcf = *cf;
    cf->ctx = ctx;
    cf->module_type = FUZZ_BOX_MODULE;
    cf->cmd_type = FUZZ_BOX_CONF;

    rv = sl_conf_parse(cf, NULL);

    *cf = pcf;

    return rv;
}


static char *
fuzz_inner_block(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char       *rv;
    sl_uint_t   save;

    save = cf->cmd_type;
    cf->cmd_type = FUZZ_INNER_CONF;

    rv = sl_conf_parse(cf, NULL);

    cf->cmd_type = save;

    return rv;
}


static char *
fuzz_types_block(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char       *rv;
    sl_conf_t   save;

    save = *cf;
    cf->handler = fuzz_types;
    cf->handler_conf = conf;

    rv = sl_conf_parse(cf, NULL);

    *cf = save;

    return rv;
}


static char *
fuzz_types(sl_conf_t *cf, sl_command_t *dummy, void *conf)
{
    if (cf->args->nelts < 2) {
        return "has a type without extensions";
    }

    return SL_CONF_OK;
}


static void
fuzz_parse(const uint8_t *data, size_t size, sl_uint_t param)
{
    sl_uint_t          i;
    sl_str_t           name;
    sl_conf_t          cf;
    sl_pool_t         *pool;
    sl_cycle_t        *cycle;
    sl_module_t       *m;
    sl_core_module_t  *core;

    pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, &fuzz_log);
    if (pool == NULL) {
        abort();
    }

    cycle = sl_pcalloc(pool, sizeof(sl_cycle_t));
    if (cycle == NULL) {
        abort();
    }

    cycle->pool = pool;
    cycle->log = &fuzz_log;
    cycle->prefix.len = sl_strlen(fuzz_prefix);
    cycle->prefix.data = (u_char *) fuzz_prefix;
    cycle->conf_prefix = cycle->prefix;
    cycle->modules = fuzz_modules;
    cycle->modules_n = sl_nelems(fuzz_modules) - 1;

    cycle->conf_ctx = sl_pcalloc(pool, sl_nelems(fuzz_modules)
                                       * sizeof(void *));
    if (cycle->conf_ctx == NULL) {
        abort();
    }

    for (i = 0; (m = fuzz_modules[i]); i++) {

        if (m->type != SL_CORE_MODULE) {
            continue;
        }

        core = m->ctx;

        if (core->create_conf) {
            cycle->conf_ctx[m->index] = core->create_conf(cycle);
        }
    }

    sl_memzero(&cf, sizeof(sl_conf_t));

    cf.args = sl_array_create(pool, 10, sizeof(sl_str_t));
    if (cf.args == NULL) {
        abort();
    }

    cf.cycle = cycle;
    cf.pool = pool;
    cf.temp_pool = pool;
    cf.log = &fuzz_log;
    cf.ctx = cycle->conf_ctx;
    cf.module_type = SL_CORE_MODULE;
    cf.cmd_type = SL_MAIN_CONF;

    fuzz_includes = 0;

    if (param) {
        cycle->conf_param.len = size;
        cycle->conf_param.data = (u_char *) data;

        (void) sl_conf_param(&cf);

    } else {
        name.len = sl_strlen(fuzz_file);
        name.data = (u_char *) fuzz_file;

        (void) sl_conf_parse(&cf, &name);
    }

    if (cf.conf_file != NULL) {
        abort();
    }

    sl_destroy_pool(pool);
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sl_uint_t  i;

    /* a file is written per input: tmpfs if there is one */

    snprintf(fuzz_prefix, sizeof(fuzz_prefix),
             "/dev/shm/sl_fuzz_conf.XXXXXX");

    if (mkdtemp(fuzz_prefix) == NULL) {
        snprintf(fuzz_prefix, sizeof(fuzz_prefix),
                 "/tmp/sl_fuzz_conf.XXXXXX");

        if (mkdtemp(fuzz_prefix) == NULL) {
            abort();
        }
    }

    snprintf(fuzz_file, sizeof(fuzz_file), "%s/f.conf", fuzz_prefix);
    strcat(fuzz_prefix, "/");

    atexit(fuzz_cleanup);

    fuzz_log_file.fd = open("/dev/null", O_WRONLY);
    fuzz_log.file = &fuzz_log_file;
    fuzz_log.log_level = SL_LOG_DEBUG;

    /* the errors are the normal case here: keep them off stderr */
    sl_use_stderr = 0;

    for (i = 0; fuzz_modules[i]; i++) {
        fuzz_modules[i]->index = i;
        fuzz_modules[i]->name = "fuzz";
    }

    fuzz_box_module.ctx_index = 0;

    return 0;
}


static void
fuzz_cleanup(void)
{
    (void) unlink(fuzz_file);
    (void) rmdir(fuzz_prefix);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int  fd;

    fd = open(fuzz_file, O_WRONLY|O_CREAT|O_TRUNC, 0644);
    if (fd == -1) {
        abort();
    }

    if (size && write(fd, data, size) != (ssize_t) size) {
        abort();
    }

    close(fd);

    fuzz_parse(data, size, 0);
    fuzz_parse(data, size, 1);

    return 0;
}
