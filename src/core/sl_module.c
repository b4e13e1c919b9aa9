
/*
 * The module registry: numbering of the static modules from
 * objs/sl_modules.c, each cycle's own modules array (static ones plus
 * those load_module adds), ctx_index assignment per module type, and
 * load_module itself, which dlopens a module built by configure
 * --add-dynamic-module and refuses one built against another core.
 */


#include <sl_config.h>
#include <sl_core.h>


/* room in every cycle's modules array for load_module */
#define SL_MAX_DYNAMIC_MODULES  128


static sl_uint_t sl_module_index(sl_cycle_t *cycle);
static sl_uint_t sl_module_ctx_index(sl_cycle_t *cycle, sl_uint_t type,
    sl_uint_t index);
static void sl_unload_module(void *data);


sl_uint_t         sl_max_module;
static sl_uint_t  sl_modules_n;


sl_int_t
sl_preinit_modules(void)
{
    sl_uint_t  i;

    for (i = 0; sl_modules[i]; i++) {
        sl_modules[i]->index = i;
        sl_modules[i]->name = sl_module_names[i];
    }

    sl_modules_n = i;
    sl_max_module = sl_modules_n + SL_MAX_DYNAMIC_MODULES;

    return SL_OK;
}


sl_int_t
sl_cycle_modules(sl_cycle_t *cycle)
{
    /* the array stays NULL-terminated: one slot more than can be used */

    cycle->modules = sl_pcalloc(cycle->pool,
                                (sl_max_module + 1) * sizeof(sl_module_t *));
    if (cycle->modules == NULL) {
        return SL_ERROR;
    }

    sl_memcpy(cycle->modules, sl_modules,
              sl_modules_n * sizeof(sl_module_t *));

    cycle->modules_n = sl_modules_n;

    return SL_OK;
}


sl_int_t
sl_init_modules(sl_cycle_t *cycle)
{
    sl_uint_t  i;

    for (i = 0; cycle->modules[i]; i++) {

        if (cycle->modules[i]->init_module == NULL) {
            continue;
        }

        if (cycle->modules[i]->init_module(cycle) != SL_OK) {
            return SL_ERROR;
        }
    }

    return SL_OK;
}


/*
 * Returns the number of modules of the type (the size their contexts'
 * arrays need).  A module keeps the ctx_index it had in an earlier
 * cycle: a dynamic module loaded again on reload must find its slot.
 * After this no module may be loaded any more in this cycle.
 */

sl_int_t
sl_count_modules(sl_cycle_t *cycle, sl_uint_t type)
{
    sl_uint_t     i, next, max;
    sl_module_t  *module;

    next = 0;
    max = 0;

    for (i = 0; cycle->modules[i]; i++) {

        module = cycle->modules[i];

        if (module->type != type) {
            continue;
        }

        if (module->ctx_index == SL_MODULE_UNSET_INDEX) {
            module->ctx_index = sl_module_ctx_index(cycle, type, next);
            next = module->ctx_index + 1;

        } else if (module->ctx_index == next) {
            next++;
        }

        if (module->ctx_index > max) {
            max = module->ctx_index;
        }
    }

    /* the old cycle's contexts must fit as well while both exist */

    if (cycle->old_cycle && cycle->old_cycle->modules) {

        for (i = 0; cycle->old_cycle->modules[i]; i++) {

            module = cycle->old_cycle->modules[i];

            if (module->type == type && module->ctx_index > max) {
                max = module->ctx_index;
            }
        }
    }

    cycle->modules_used = 1;

    return max + 1;
}


/*
 * Adds a dynamic module to the cycle, before the first module that
 * order names after it (order may be NULL: then at the end).
 */

sl_int_t
sl_add_module(sl_conf_t *cf, sl_str_t *file, sl_module_t *module,
    char **order)
{
    void              *rv;
    sl_uint_t          i, m, before;
    sl_cycle_t        *cycle;
    sl_core_module_t  *core_module;

    cycle = cf->cycle;

    if (cycle->modules_n >= sl_max_module) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "too many modules loaded");
        return SL_ERROR;
    }

    if (module->version != SL_VERSION_NUM) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "module \"%.*s\" version %lu instead of %lu",
                          SL_STR_ARG(file), (unsigned long) module->version,
                          (unsigned long) SL_VERSION_NUM);
        return SL_ERROR;
    }

    if (module->signature == NULL
        || sl_strcmp(module->signature, SL_MODULE_SIGNATURE) != 0)
    {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "module \"%.*s\" is not binary compatible",
                          SL_STR_ARG(file));
        return SL_ERROR;
    }

    for (m = 0; cycle->modules[m]; m++) {

        if (sl_strcmp(cycle->modules[m]->name, module->name) == 0) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "module \"%s\" is already loaded",
                              module->name);
            return SL_ERROR;
        }
    }

    /* a module loaded by an earlier cycle keeps its index */

    if (module->index == SL_MODULE_UNSET_INDEX) {
        module->index = sl_module_index(cycle);

        if (module->index >= sl_max_module) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "too many modules loaded");
            return SL_ERROR;
        }
    }

    before = cycle->modules_n;

    if (order) {

        for (i = 0; order[i]; i++) {
            if (sl_strcmp(order[i], module->name) == 0) {
                i++;
                break;
            }
        }

        for ( /* void */ ; order[i]; i++) {

            for (m = 0; m < before; m++) {
                if (sl_strcmp(cycle->modules[m]->name, order[i]) == 0) {
                    before = m;
                    break;
                }
            }
        }
    }

    if (before != cycle->modules_n) {
        sl_memmove(&cycle->modules[before + 1], &cycle->modules[before],
                   (cycle->modules_n - before) * sizeof(sl_module_t *));
    }

    cycle->modules[before] = module;
    cycle->modules_n++;

    /*
     * The cycle has already created the core modules' configurations;
     * this one is created now, its init_conf runs with the others.
     */

    if (module->type == SL_CORE_MODULE) {

        core_module = module->ctx;

        if (core_module && core_module->create_conf) {
            rv = core_module->create_conf(cycle);
            if (rv == NULL) {
                return SL_ERROR;
            }

            cycle->conf_ctx[module->index] = rv;
        }
    }

    return SL_OK;
}


sl_module_t *
sl_module_find(sl_cycle_t *cycle, const char *name)
{
    sl_uint_t      i;
    sl_module_t  **modules;

    modules = (cycle && cycle->modules) ? cycle->modules : sl_modules;

    for (i = 0; modules[i]; i++) {
        if (modules[i]->name && sl_strcmp(modules[i]->name, name) == 0) {
            return modules[i];
        }
    }

    return NULL;
}


/*
 * load_module FILE; (main context).  The file defines sl_modules[] and
 * sl_module_names[], and may define sl_module_order[], as configure
 * writes them into objs/<name>_modules.c.
 */

char *
sl_load_module(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char               *path, **names, **order;
    void               *handle;
    sl_str_t           *value, file;
    sl_uint_t           i;
    sl_module_t       **modules;
    sl_pool_cleanup_t  *cln;

    if (cf->cycle->modules_used) {
        return "is specified too late, it must come before the blocks "
               "of the modules it loads";
    }

    value = cf->args->elts;
    file = value[1];

    if (sl_conf_full_name(cf->cycle, &file, 0) != SL_OK) {
        return SL_CONF_ERROR;
    }

    path = sl_pstrz(cf->pool, &file);
    if (path == NULL) {
        return SL_CONF_ERROR;
    }

    cln = sl_pool_cleanup_add(cf->cycle->pool, 0);
    if (cln == NULL) {
        return SL_CONF_ERROR;
    }

    handle = dlopen(path, RTLD_NOW|RTLD_GLOBAL);
    if (handle == NULL) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "dlopen() \"%s\" failed (%s)", path, dlerror());
        return SL_CONF_ERROR;
    }

    cln->handler = sl_unload_module;
    cln->data = handle;

    modules = dlsym(handle, "sl_modules");
    if (modules == NULL) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "dlsym() \"%s\", \"sl_modules\" failed (%s)",
                          path, dlerror());
        return SL_CONF_ERROR;
    }

    names = dlsym(handle, "sl_module_names");
    if (names == NULL) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "dlsym() \"%s\", \"sl_module_names\" failed (%s)",
                          path, dlerror());
        return SL_CONF_ERROR;
    }

    order = dlsym(handle, "sl_module_order");

    for (i = 0; modules[i]; i++) {

        if (names[i] == NULL) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "module \"%s\" names fewer modules than "
                              "it defines", path);
            return SL_CONF_ERROR;
        }

        modules[i]->name = names[i];

        if (sl_add_module(cf, &file, modules[i], order) != SL_OK) {
            return SL_CONF_ERROR;
        }

        sl_log_debug(cf->log, "module: %s i:%lu", modules[i]->name,
                     (unsigned long) modules[i]->index);
    }

    return SL_CONF_OK;
}


static void
sl_unload_module(void *data)
{
    void  *handle = data;

    (void) dlclose(handle);
}


/* the lowest index no module of this cycle or of the old one uses */

static sl_uint_t
sl_module_index(sl_cycle_t *cycle)
{
    sl_uint_t     i, index;
    sl_module_t  *module;

    index = 0;

again:

    for (i = 0; cycle->modules[i]; i++) {

        if (cycle->modules[i]->index == index) {
            index++;
            goto again;
        }
    }

    if (cycle->old_cycle && cycle->old_cycle->modules) {

        for (i = 0; cycle->old_cycle->modules[i]; i++) {

            module = cycle->old_cycle->modules[i];

            if (module->index == index) {
                index++;
                goto again;
            }
        }
    }

    return index;
}


/* the lowest ctx_index from index on that no module of the type uses */

static sl_uint_t
sl_module_ctx_index(sl_cycle_t *cycle, sl_uint_t type, sl_uint_t index)
{
    sl_uint_t     i;
    sl_module_t  *module;

again:

    for (i = 0; cycle->modules[i]; i++) {

        module = cycle->modules[i];

        if (module->type == type && module->ctx_index == index) {
            index++;
            goto again;
        }
    }

    if (cycle->old_cycle && cycle->old_cycle->modules) {

        for (i = 0; cycle->old_cycle->modules[i]; i++) {

            module = cycle->old_cycle->modules[i];

            if (module->type == type && module->ctx_index == index) {
                index++;
                goto again;
            }
        }
    }

    return index;
}
