
/*
 * The configuration parser and the module registry, against a small set
 * of test modules (a core module with one directive per slot setter, a
 * "box { }" block module with a nested "inner { }", and a "types { }"
 * block with its own handler), on a cycle built by hand.  Every error
 * is checked with its exact "in FILE:LINE".
 */


#include <sl_config.h>
#include <sl_core.h>

#include <setjmp.h>
#include <cmocka.h>


#define TEST_BOX_MODULE    0x584f4254  /* "TBOX" */
#define TEST_BOX_CONF      0x02000000
#define TEST_INNER_CONF    0x04000000

#define TEST_MAX_RECORD    32


typedef struct {
    sl_flag_t            flag;
    sl_str_t             str;
    sl_array_t          *strs;
    sl_int_t             num;
    sl_int_t             bounded;
    sl_int_t             low;
    size_t               size;
    off_t                off;
    sl_msec_t            msec;
    time_t               sec;
    sl_uint_t            level;
    sl_uint_t            types;
    sl_uint_t            counted;
} test_main_conf_t;


typedef struct {
    sl_int_t             value;
    sl_flag_t            inner_flag;
    sl_uint_t            inners;
} test_box_conf_t;


static void *test_main_create_conf(sl_cycle_t *cycle);
static char *test_record(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *test_count(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *test_fail(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *test_box_block(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *test_inner_block(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static char *test_types_block(sl_conf_t *cf, sl_command_t *cmd,
    void *conf);
static char *test_types(sl_conf_t *cf, sl_command_t *dummy, void *conf);


static sl_conf_num_bounds_t  test_bounds = {
    sl_conf_check_num_bounds, 1, 10
};

static sl_conf_num_bounds_t  test_low_bound = {
    sl_conf_check_num_bounds, 3, -1
};

static sl_conf_enum_t  test_levels[] = {
    { sl_string("quiet"), 1 },
    { sl_string("normal"), 2 },
    { sl_string("loud"), 3 },
    { sl_null_string, 0 }
};


#define TEST_MAIN  (SL_MAIN_CONF|SL_DIRECT_CONF)

static sl_command_t  test_main_commands[] = {

    { sl_string("t_flag"), TEST_MAIN|SL_CONF_FLAG,
      sl_conf_set_flag_slot, 0, offsetof(test_main_conf_t, flag), NULL },

    { sl_string("t_str"), TEST_MAIN|SL_CONF_TAKE1,
      sl_conf_set_str_slot, 0, offsetof(test_main_conf_t, str), NULL },

    { sl_string("t_strs"), TEST_MAIN|SL_CONF_TAKE1,
      sl_conf_set_str_array_slot, 0, offsetof(test_main_conf_t, strs),
      NULL },

    { sl_string("t_num"), TEST_MAIN|SL_CONF_TAKE1,
      sl_conf_set_num_slot, 0, offsetof(test_main_conf_t, num), NULL },

    { sl_string("t_bounded"), TEST_MAIN|SL_CONF_TAKE1,
      sl_conf_set_num_slot, 0, offsetof(test_main_conf_t, bounded),
      &test_bounds },

    { sl_string("t_low"), TEST_MAIN|SL_CONF_TAKE1,
      sl_conf_set_num_slot, 0, offsetof(test_main_conf_t, low),
      &test_low_bound },

    { sl_string("t_size"), TEST_MAIN|SL_CONF_TAKE1,
      sl_conf_set_size_slot, 0, offsetof(test_main_conf_t, size), NULL },

    { sl_string("t_off"), TEST_MAIN|SL_CONF_TAKE1,
      sl_conf_set_off_slot, 0, offsetof(test_main_conf_t, off), NULL },

    { sl_string("t_msec"), TEST_MAIN|SL_CONF_TAKE1,
      sl_conf_set_msec_slot, 0, offsetof(test_main_conf_t, msec), NULL },

    { sl_string("t_sec"), TEST_MAIN|SL_CONF_TAKE1,
      sl_conf_set_sec_slot, 0, offsetof(test_main_conf_t, sec), NULL },

    { sl_string("t_enum"), TEST_MAIN|SL_CONF_TAKE1,
      sl_conf_set_enum_slot, 0, offsetof(test_main_conf_t, level),
      test_levels },

    { sl_string("t_record"), TEST_MAIN|SL_CONF_ANY,
      test_record, 0, 0, NULL },

    { sl_string("t_noargs"), TEST_MAIN|SL_CONF_NOARGS,
      test_count, 0, 0, NULL },

    { sl_string("t_take13"), TEST_MAIN|SL_CONF_TAKE13,
      test_count, 0, 0, NULL },

    { sl_string("t_take7"), TEST_MAIN|SL_CONF_TAKE7,
      test_count, 0, 0, NULL },

    { sl_string("t_1more"), TEST_MAIN|SL_CONF_1MORE,
      test_count, 0, 0, NULL },

    { sl_string("t_2more"), TEST_MAIN|SL_CONF_2MORE,
      test_count, 0, 0, NULL },

    { sl_string("t_fail"), TEST_MAIN|SL_CONF_NOARGS,
      test_fail, 0, 0, NULL },

    { sl_string("t_boxonly"), TEST_BOX_CONF|SL_CONF_NOARGS,
      test_count, 0, 0, NULL },

    { sl_string("types"), TEST_MAIN|SL_CONF_BLOCK|SL_CONF_NOARGS,
      test_types_block, 0, 0, NULL },

      sl_null_command
};


static sl_core_module_t  test_main_module_ctx = {
    sl_string("test"),
    test_main_create_conf,
    NULL
};


static sl_module_t  test_main_module = {
    SL_MODULE_V1,
    &test_main_module_ctx,
    test_main_commands,
    SL_CORE_MODULE,
    NULL, NULL, NULL, NULL, NULL,
    SL_MODULE_V1_PADDING
};


/* a block module has no configuration of its own, like events {} */

static sl_command_t  test_boxes_commands[] = {

    { sl_string("box"), SL_MAIN_CONF|SL_CONF_BLOCK|SL_CONF_NOARGS,
      test_box_block, 0, 0, NULL },

      sl_null_command
};


static sl_core_module_t  test_boxes_module_ctx = {
    sl_string("boxes"),
    NULL,
    NULL
};


static sl_module_t  test_boxes_module = {
    SL_MODULE_V1,
    &test_boxes_module_ctx,
    test_boxes_commands,
    SL_CORE_MODULE,
    NULL, NULL, NULL, NULL, NULL,
    SL_MODULE_V1_PADDING
};


static sl_command_t  test_box_commands[] = {

    { sl_string("box_value"), TEST_BOX_CONF|SL_CONF_TAKE1,
      sl_conf_set_num_slot, 0, offsetof(test_box_conf_t, value), NULL },

    { sl_string("inner"), TEST_BOX_CONF|SL_CONF_BLOCK|SL_CONF_NOARGS,
      test_inner_block, 0, 0, NULL },

    { sl_string("inner_flag"), TEST_INNER_CONF|SL_CONF_FLAG,
      sl_conf_set_flag_slot, 0, offsetof(test_box_conf_t, inner_flag),
      NULL },

      sl_null_command
};


static sl_module_t  test_box_module = {
    SL_MODULE_V1,
    NULL,
    test_box_commands,
    TEST_BOX_MODULE,
    NULL, NULL, NULL, NULL, NULL,
    SL_MODULE_V1_PADDING
};


/* a module to be added as if load_module had found it */

static sl_command_t  test_dyn_commands[] = {

    { sl_string("dyn_str"), TEST_MAIN|SL_CONF_TAKE1,
      sl_conf_set_str_slot, 0, offsetof(test_main_conf_t, str), NULL },

      sl_null_command
};


static sl_core_module_t  test_dyn_module_ctx = {
    sl_string("dyn"),
    test_main_create_conf,
    NULL
};


static sl_module_t  test_dyn_module = {
    SL_MODULE_V1,
    &test_dyn_module_ctx,
    test_dyn_commands,
    SL_CORE_MODULE,
    NULL, NULL, NULL, NULL, NULL,
    SL_MODULE_V1_PADDING
};


/* what configure would generate in objs/sl_modules.c */

sl_module_t  *sl_modules[] = {
    &sl_conf_module,
    &test_main_module,
    &test_boxes_module,
    &test_box_module,
    NULL
};

char  *sl_module_names[] = {
    "sl_conf_module",
    "test_main_module",
    "test_boxes_module",
    "test_box_module",
    NULL
};


static char              test_dir[64];
static char              test_prefix[80];
static sl_open_file_t    test_log_file;
static sl_log_t          test_log;
static sl_cycle_t       *test_cycle;
static sl_conf_t         test_cf;
static char              test_log_buf[65536];

static sl_str_t          test_recorded[TEST_MAX_RECORD];
static sl_uint_t         test_recorded_n;
static sl_uint_t         test_counted;
static sl_uint_t         test_types_n;


static void *
test_main_create_conf(sl_cycle_t *cycle)
{
    test_main_conf_t  *mcf;

    mcf = sl_pcalloc(cycle->pool, sizeof(test_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    mcf->flag = SL_CONF_UNSET;
    mcf->strs = SL_CONF_UNSET_PTR;
    mcf->num = SL_CONF_UNSET;
    mcf->bounded = SL_CONF_UNSET;
    mcf->low = SL_CONF_UNSET;
    mcf->size = SL_CONF_UNSET_SIZE;
    mcf->off = SL_CONF_UNSET;
    mcf->msec = SL_CONF_UNSET_MSEC;
    mcf->sec = SL_CONF_UNSET;
    mcf->level = SL_CONF_UNSET_UINT;

    return mcf;
}


static char *
test_record(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_str_t   *value;
    sl_uint_t   i;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts && test_recorded_n < TEST_MAX_RECORD;
         i++)
    {
        test_recorded[test_recorded_n++] = value[i];
    }

    return SL_CONF_OK;
}


static char *
test_count(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    test_counted++;

    return SL_CONF_OK;
}


static char *
test_fail(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    return "is broken";
}


/* the shape of every block handler: events {}, http {}, kafka {} */

static char *
test_box_block(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char              *rv;
    void            ***ctx;
    sl_int_t           n;
    sl_conf_t          pcf;
    test_box_conf_t   *bcf;

    if (*(void **) conf) {
        return "is duplicate";
    }

    n = sl_count_modules(cf->cycle, TEST_BOX_MODULE);

    ctx = sl_pcalloc(cf->pool, sizeof(void *));
    if (ctx == NULL) {
        return SL_CONF_ERROR;
    }

    *ctx = sl_pcalloc(cf->pool, n * sizeof(void *));
    if (*ctx == NULL) {
        return SL_CONF_ERROR;
    }

    bcf = sl_pcalloc(cf->pool, sizeof(test_box_conf_t));
    if (bcf == NULL) {
        return SL_CONF_ERROR;
    }

    bcf->value = SL_CONF_UNSET;
    bcf->inner_flag = SL_CONF_UNSET;

    (*ctx)[test_box_module.ctx_index] = bcf;
    *(void **) conf = ctx;

    pcf = *cf;
    cf->ctx = ctx;
    cf->module_type = TEST_BOX_MODULE;
    cf->cmd_type = TEST_BOX_CONF;

    rv = sl_conf_parse(cf, NULL);

    *cf = pcf;

    return rv;
}


static char *
test_inner_block(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char              *rv;
    sl_uint_t          save;
    test_box_conf_t   *bcf = conf;

    bcf->inners++;

    save = cf->cmd_type;
    cf->cmd_type = TEST_INNER_CONF;

    rv = sl_conf_parse(cf, NULL);

    cf->cmd_type = save;

    return rv;
}


static char *
test_types_block(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char      *rv;
    sl_conf_t  save;

    save = *cf;
    cf->handler = test_types;
    cf->handler_conf = conf;

    rv = sl_conf_parse(cf, NULL);

    *cf = save;

    return rv;
}


/* "type ext ext ...;" as in mime.types */

static char *
test_types(sl_conf_t *cf, sl_command_t *dummy, void *conf)
{
    sl_str_t          *value;
    test_main_conf_t  *mcf = conf;

    value = cf->args->elts;

    if (cf->args->nelts < 2) {
        return "has a type without extensions";
    }

    if (sl_str_eq(&value[0], "bad/type")) {
        return SL_CONF_ERROR;
    }

    mcf->types += cf->args->nelts - 1;
    test_types_n++;

    return SL_CONF_OK;
}


static void
test_write(const char *name, const char *content)
{
    int   fd;
    char  path[256];

    snprintf(path, sizeof(path), "%s/%s", test_dir, name);

    fd = open(path, O_WRONLY|O_CREAT|O_TRUNC, 0644);
    assert_true(fd != -1);
    assert_int_equal(write(fd, content, strlen(content)),
                     (ssize_t) strlen(content));
    close(fd);
}


static void
test_log_reset(void)
{
    assert_int_equal(ftruncate(test_log_file.fd, 0), 0);
    assert_int_equal(lseek(test_log_file.fd, 0, SEEK_SET), 0);
}


static const char *
test_log_text(void)
{
    ssize_t  n;

    n = pread(test_log_file.fd, test_log_buf, sizeof(test_log_buf) - 1, 0);
    test_log_buf[n > 0 ? n : 0] = '\0';

    return test_log_buf;
}


static void
test_assert_logged(const char *expect, const char *file, int line)
{
    char        full[1024], *d;
    const char  *p;

    /* "@" stands for the test directory */

    d = full;

    for (p = expect; *p && d < full + sizeof(full) - 64; p++) {

        if (*p == '@') {
            d += snprintf(d, 64, "%s", test_dir);
            continue;
        }

        *d++ = *p;
    }

    *d = '\0';

    if (strstr(test_log_text(), full) == NULL) {
        print_error("%s:%d: expected in the log:\n  %s\nlog:\n%s\n",
                    file, line, full, test_log_buf);
        fail();
    }
}

#define assert_logged(s)  test_assert_logged(s, __FILE__, __LINE__)


/* parses the text as @/t.conf */

static char *
test_parse(const char *content)
{
    sl_str_t  name;
    char      path[256];

    test_write("t.conf", content);

    snprintf(path, sizeof(path), "%s/t.conf", test_dir);
    name.len = strlen(path);
    name.data = (u_char *) path;

    return sl_conf_parse(&test_cf, &name);
}


static char *
test_param(const char *param)
{
    test_cycle->conf_param.len = strlen(param);
    test_cycle->conf_param.data = (u_char *) param;

    return sl_conf_param(&test_cf);
}


static test_main_conf_t *
test_main_conf(void)
{
    return (test_main_conf_t *) test_cycle->conf_ctx[test_main_module.index];
}


static int
test_setup(void **state)
{
    sl_uint_t          i;
    sl_pool_t         *pool;
    sl_core_module_t  *core;

    test_log_reset();

    test_recorded_n = 0;
    test_counted = 0;
    test_types_n = 0;

    test_dyn_module.index = SL_MODULE_UNSET_INDEX;
    test_dyn_module.version = SL_VERSION_NUM;
    test_dyn_module.signature = SL_MODULE_SIGNATURE;
    test_dyn_module.name = "test_dyn_module";

    assert_int_equal(sl_preinit_modules(), SL_OK);

    pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, &test_log);
    assert_non_null(pool);

    test_cycle = sl_pcalloc(pool, sizeof(sl_cycle_t));
    assert_non_null(test_cycle);

    test_cycle->pool = pool;
    test_cycle->log = &test_log;

    test_cycle->prefix.len = strlen(test_prefix);
    test_cycle->prefix.data = (u_char *) test_prefix;
    test_cycle->conf_prefix = test_cycle->prefix;

    assert_int_equal(sl_cycle_modules(test_cycle), SL_OK);

    test_cycle->conf_ctx = sl_pcalloc(pool, sl_max_module * sizeof(void *));
    assert_non_null(test_cycle->conf_ctx);

    for (i = 0; test_cycle->modules[i]; i++) {

        if (test_cycle->modules[i]->type != SL_CORE_MODULE) {
            continue;
        }

        core = test_cycle->modules[i]->ctx;

        if (core->create_conf == NULL) {
            continue;
        }

        test_cycle->conf_ctx[test_cycle->modules[i]->index] =
                                              core->create_conf(test_cycle);
        assert_non_null(test_cycle->conf_ctx[test_cycle->modules[i]->index]);
    }

    sl_memzero(&test_cf, sizeof(sl_conf_t));

    test_cf.args = sl_array_create(pool, 10, sizeof(sl_str_t));
    assert_non_null(test_cf.args);

    test_cf.cycle = test_cycle;
    test_cf.pool = pool;
    test_cf.temp_pool = pool;
    test_cf.log = &test_log;
    test_cf.ctx = test_cycle->conf_ctx;
    test_cf.module_type = SL_CORE_MODULE;
    test_cf.cmd_type = SL_MAIN_CONF;

    return 0;
}


static int
test_teardown(void **state)
{
    sl_destroy_pool(test_cycle->pool);
    test_cycle = NULL;

    return 0;
}


static void
test_tokens(void **state)
{
    assert_ptr_equal(test_parse(
        "# a comment line\n"
        "t_record plain \"double quoted\" 'single quoted';\n"
        "t_record \"esc \\\" \\' \\\\ \\t \\r \\n\" 'it\\'s';  # trailing\n"
        "\tt_record  a\\ b  \\q  a#b  \"\";\r\n"
        "  t_record\n"
        "      multi\n"
        "      line;t_record \"x\";t_record 'y'\t;\n"
        "t_record a}b;\n"),
        SL_CONF_OK);

    assert_int_equal(test_recorded_n, 14);

    assert_string_equal(test_recorded[0].data, "plain");
    assert_string_equal(test_recorded[1].data, "double quoted");
    assert_string_equal(test_recorded[2].data, "single quoted");
    assert_string_equal(test_recorded[3].data, "esc \" ' \\ \t \r \n");
    assert_int_equal(test_recorded[3].len, strlen("esc \" ' \\ \t \r \n"));
    assert_string_equal(test_recorded[4].data, "it's");
    /* as in nginx, an escaped blank keeps its backslash */
    assert_string_equal(test_recorded[5].data, "a\\ b");
    assert_string_equal(test_recorded[6].data, "\\q");
    assert_string_equal(test_recorded[7].data, "a#b");
    assert_int_equal(test_recorded[8].len, 0);
    assert_string_equal(test_recorded[9].data, "multi");
    assert_string_equal(test_recorded[10].data, "line");
    assert_string_equal(test_recorded[11].data, "x");
    assert_string_equal(test_recorded[12].data, "y");
    assert_string_equal(test_recorded[13].data, "a}b");
}


static void
test_tokens_args(void **state)
{
    /* a '{' directly after a word, and a quoted word right before it */

    assert_ptr_equal(test_parse(
        "box{ box_value 1; }\n"
        "types 'x'{ text/html html \"htm\"; }\n"
        "t_noargs;\n"
        "t_take13 a;\n"
        "t_take13 a b c;\n"
        "t_take7 1 2 3 4 5 6 7;\n"
        "t_1more a;\n"
        "t_2more a b c d e f g h i j k;\n"),
        SL_CONF_ERROR);

    assert_logged("invalid number of arguments in \"types\" directive "
                  "in @/t.conf:2");

    test_teardown(state);
    test_setup(state);

    assert_ptr_equal(test_parse(
        "box{ box_value 1; }\n"
        "types{ text/html html \"htm\"; }\n"
        "t_noargs;\n"
        "t_take13 a;\n"
        "t_take13 a b c;\n"
        "t_take7 1 2 3 4 5 6 7;\n"
        "t_1more a;\n"
        "t_2more a b c d e f g h i j k;\n"),
        SL_CONF_OK);

    assert_int_equal(test_counted, 6);
    assert_int_equal(test_types_n, 1);
    assert_int_equal(test_main_conf()->types, 2);
}


static void
test_arg_counts(void **state)
{
    static const char  *bad[] = {
        "t_noargs x;",
        "t_take13 a b;",
        "t_take13 a b c d;",
        "t_take7 1 2 3 4 5 6;",
        "t_take7 1 2 3 4 5 6 7 8;",
        "t_1more;",
        "t_2more a;",
        "t_flag;",
        "t_flag on off;",
        "t_str;",
        NULL
    };

    char        expect[256];
    sl_uint_t   i;
    const char *sp;

    for (i = 0; bad[i]; i++) {

        test_log_reset();

        assert_ptr_equal(test_parse(bad[i]), SL_CONF_ERROR);

        sp = strpbrk(bad[i], " ;");
        snprintf(expect, sizeof(expect),
                 "invalid number of arguments in \"%.*s\" "
                 "directive in @/t.conf:1", (int) (sp - bad[i]), bad[i]);

        assert_logged(expect);
    }
}


static void
test_errors(void **state)
{
    static const struct {
        const char  *conf;
        const char  *expect;
    } cases[] = {

        { "t_flag on;\n\nfoo bar;\n",
          "unknown directive \"foo\" in @/t.conf:3" },

        { "t_boxonly;\n",
          "\"t_boxonly\" directive is not allowed here in @/t.conf:1" },

        { "box {\n  inner_flag on;\n}\n",
          "\"inner_flag\" directive is not allowed here in @/t.conf:2" },

        { "box {\n  box_value 1;\n  inner { box_value 2; }\n}\n",
          "\"box_value\" directive is not allowed here in @/t.conf:3" },

        { "t_flag on;\n}\n",
          "unexpected \"}\" in @/t.conf:2" },

        { "t_record a\n  b }\n",
          "unexpected \"}\" in @/t.conf:2" },

        { "t_str x\n",
          "unexpected end of file, expecting \";\" or \"}\" "
          "in @/t.conf:2" },

        { "t_str \"x\n\n",
          "unexpected end of file, expecting \";\" or \"}\" "
          "in @/t.conf:3" },

        { "box {\n  box_value 1;\n",
          "unexpected end of file, expecting \"}\" in @/t.conf:3" },

        { "\nbox;\n",
          "directive \"box\" has no opening \"{\" in @/t.conf:2" },

        { "t_str x {\n",
          "directive \"t_str\" is not terminated by \";\" in @/t.conf:1" },

        { ";\n",
          "unexpected \";\" in @/t.conf:1" },

        { "\n{ t_flag on; }\n",
          "unexpected \"{\" in @/t.conf:2" },

        { "t_str \"a\"b;\n",
          "unexpected \"b\" in @/t.conf:1" },

        { "t_str 'a'\"b\";\n",
          "unexpected \"\"\" in @/t.conf:1" },

        { "t_str a;\n# again\nt_str b;\n",
          "\"t_str\" directive is duplicate in @/t.conf:3" },

        { "box { }\nbox { }\n",
          "\"box\" directive is duplicate in @/t.conf:2" },

        { "t_fail;\n",
          "\"t_fail\" directive is broken in @/t.conf:1" },

        { "t_flag yes;\n",
          "invalid value \"yes\" in \"t_flag\" directive, it must be "
          "\"on\" or \"off\" in @/t.conf:1" },

        { "\n\nt_num 12x;\n",
          "invalid value \"12x\" in \"t_num\" directive in @/t.conf:3" },

        { "t_size 10x;\n",
          "invalid value \"10x\" in \"t_size\" directive in @/t.conf:1" },

        { "t_off k;\n",
          "invalid value \"k\" in \"t_off\" directive in @/t.conf:1" },

        { "t_msec 5q;\n",
          "invalid value \"5q\" in \"t_msec\" directive in @/t.conf:1" },

        { "t_sec '';\n",
          "invalid value \"\" in \"t_sec\" directive in @/t.conf:1" },

        { "t_enum shouting;\n",
          "invalid value \"shouting\" in \"t_enum\" directive "
          "in @/t.conf:1" },

        { "t_bounded 11;\n",
          "value must be between 1 and 10 in @/t.conf:1" },

        { "t_low 2;\n",
          "value must be equal to or greater than 3 in @/t.conf:1" },

        { "include missing.conf;\n",
          "open() \"@/missing.conf\" failed: No such file or directory (2) "
          "in @/t.conf:1" },

        { "types {\n  text/html;\n}\n",
          "has a type without extensions in @/t.conf:2" },

        { NULL, NULL }
    };

    sl_uint_t  i;

    for (i = 0; cases[i].conf; i++) {

        test_teardown(state);
        test_setup(state);

        if (test_parse(cases[i].conf) != SL_CONF_ERROR) {
            print_error("case %lu: \"%s\" parsed\n", (unsigned long) i,
                        cases[i].conf);
            fail();
        }

        assert_logged(cases[i].expect);
    }

    /* the "types" handler's own SL_CONF_ERROR adds no message */

    test_teardown(state);
    test_setup(state);

    assert_ptr_equal(test_parse("types { bad/type x; }\n"), SL_CONF_ERROR);
    assert_string_equal(test_log_text(), "");
}


static void
test_too_long(void **state)
{
    char    *conf;
    size_t   len;

    len = 70000;
    conf = malloc(110000);
    assert_non_null(conf);

    memcpy(conf, "t_str \"", 7);
    memset(conf + 7, 'a', len);
    memcpy(conf + 7 + len, "\";\n", 4);

    assert_ptr_equal(test_parse(conf), SL_CONF_ERROR);
    assert_logged("too long parameter \"aaaaaaaaaa...\" started "
                  "in @/t.conf:1");

    /* a long word that fits is read across buffer refills */

    len = 60000;
    memset(conf, '\n', 40000);
    memcpy(conf + 40000, "t_str '", 7);
    memset(conf + 40007, 'b', len);
    memcpy(conf + 40007 + len, "';\n", 4);

    test_teardown(state);
    test_setup(state);

    assert_ptr_equal(test_parse(conf), SL_CONF_OK);
    assert_int_equal(test_main_conf()->str.len, len);
    assert_int_equal(test_main_conf()->str.data[len - 1], 'b');

    free(conf);
}


static void
test_nested_blocks(void **state)
{
    void             ***ctx;
    test_box_conf_t    *bcf;

    assert_ptr_equal(test_parse(
        "box {\n"
        "    box_value 42;\n"
        "    inner { inner_flag on; }\n"
        "    inner {\n"
        "        # nothing\n"
        "    }\n"
        "}\n"),
        SL_CONF_OK);

    ctx = (void ***) test_cycle->conf_ctx[test_boxes_module.index];
    assert_non_null(ctx);

    bcf = (*ctx)[test_box_module.ctx_index];

    assert_int_equal(bcf->value, 42);
    assert_int_equal(bcf->inner_flag, 1);
    assert_int_equal(bcf->inners, 2);

    /* sl_count_modules closed the door to load_module */

    assert_int_equal(test_cycle->modules_used, 1);
}


static void
test_include(void **state)
{
    char  path[256];

    snprintf(path, sizeof(path), "%s/conf.d", test_dir);
    (void) mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/conf.d/dir.conf", test_dir);
    (void) mkdir(path, 0755);

    test_write("conf.d/b.conf", "t_record b1;\nt_record b2;\n");
    test_write("conf.d/a.conf", "t_record a;\n");
    test_write("conf.d/c.txt", "t_record c;\n");
    test_write("box.inc", "box_value 7;\n");
    test_write("one.inc", "t_record one;\n");

    assert_ptr_equal(test_parse(
        "t_record first;\n"
        "include conf.d/*.conf;\n"
        "include nothing/*.conf;\n"
        "include one.inc;\n"
        "box { include box.inc; }\n"
        "t_record last;\n"),
        SL_CONF_OK);

    assert_int_equal(test_recorded_n, 6);
    assert_string_equal(test_recorded[0].data, "first");
    assert_string_equal(test_recorded[1].data, "a");
    assert_string_equal(test_recorded[2].data, "b1");
    assert_string_equal(test_recorded[3].data, "b2");
    assert_string_equal(test_recorded[4].data, "one");
    assert_string_equal(test_recorded[5].data, "last");

    /* errors name the included file and its line */

    test_write("conf.d/a.conf", "t_record a;\n\nnope;\n");

    test_teardown(state);
    test_setup(state);

    assert_ptr_equal(test_parse("\ninclude conf.d/*.conf;\n"), SL_CONF_ERROR);
    assert_logged("unknown directive \"nope\" in @/conf.d/a.conf:3");

    /* a '}' in an included file does not close the includer's block */

    test_write("box.inc", "box_value 7;\n}\n");

    test_teardown(state);
    test_setup(state);

    assert_ptr_equal(test_parse("box {\ninclude box.inc;\n}\n"),
                     SL_CONF_ERROR);
    assert_logged("unexpected \"}\" in @/box.inc:2");

    /* a file that includes itself ends with an error */

    test_write("self.inc", "include self.inc;\n");

    test_teardown(state);
    test_setup(state);

    assert_ptr_equal(test_parse("include self.inc;\n"), SL_CONF_ERROR);
    assert_logged("includes nested deeper than 32 levels in @/self.inc:1");

    /* the line count resumes in the includer */

    test_write("one.inc", "t_record one;\n\n\n");

    test_teardown(state);
    test_setup(state);

    assert_ptr_equal(test_parse("include one.inc;\n\nbad;\n"),
                     SL_CONF_ERROR);
    assert_logged("unknown directive \"bad\" in @/t.conf:3");
}


static void
test_dump(void **state)
{
    char             path[256];
    sl_conf_dump_t  *d;

    test_write("one.inc", "t_record one;\n");

    sl_conf_dump = sl_array_create(test_cycle->pool, 1,
                                   sizeof(sl_conf_dump_t));
    assert_non_null(sl_conf_dump);

    assert_ptr_equal(test_parse("include one.inc; # see\nt_record two;\n"),
                     SL_CONF_OK);

    assert_int_equal(sl_conf_dump->nelts, 2);

    d = sl_conf_dump->elts;

    snprintf(path, sizeof(path), "%s/t.conf", test_dir);
    assert_int_equal(d[0].name.len, strlen(path));
    assert_memory_equal(d[0].name.data, path, strlen(path));
    assert_int_equal(d[0].text.len, 37);
    assert_memory_equal(d[0].text.data, "include one.inc; # see\n", 23);

    snprintf(path, sizeof(path), "%s/one.inc", test_dir);
    assert_memory_equal(d[1].name.data, path, strlen(path));
    assert_int_equal(d[1].text.len, 14);
    assert_memory_equal(d[1].text.data, "t_record one;\n", 14);

    sl_conf_dump = NULL;
}


static void
test_params(void **state)
{
    test_main_conf_t  *mcf;

    assert_ptr_equal(test_param(""), SL_CONF_OK);

    assert_ptr_equal(test_param("t_num 5; t_flag on;t_str 'a b';"),
                     SL_CONF_OK);

    mcf = test_main_conf();

    assert_int_equal(mcf->num, 5);
    assert_int_equal(mcf->flag, 1);
    assert_string_equal(mcf->str.data, "a b");
    assert_null(test_cf.conf_file);

    /* a parameter and then the file: duplicates across both */

    assert_ptr_equal(test_parse("t_num 6;\n"), SL_CONF_ERROR);
    assert_logged("\"t_num\" directive is duplicate in @/t.conf:1");

    test_teardown(state);
    test_setup(state);

    assert_ptr_equal(test_param("t_num 5"), SL_CONF_ERROR);
    assert_logged("unexpected end of parameter, expecting \";\" "
                  "in command line");

    test_teardown(state);
    test_setup(state);

    assert_ptr_equal(test_param("box { }"), SL_CONF_ERROR);
    assert_logged("block directives are not supported in -g option "
                  "in command line");

    test_teardown(state);
    test_setup(state);

    assert_ptr_equal(test_param("t_flag on; zz;"), SL_CONF_ERROR);
    assert_logged("unknown directive \"zz\" in command line");

    test_teardown(state);
    test_setup(state);

    assert_ptr_equal(test_param("}"), SL_CONF_ERROR);
    assert_logged("unexpected \"}\" in command line");
}


static void
test_slots(void **state)
{
    test_main_conf_t  *mcf;
    sl_str_t          *s;

    assert_ptr_equal(test_parse(
        "t_flag OFF;\n"
        "t_str value;\n"
        "t_strs one;\n"
        "t_strs two;\n"
        "t_strs three;\n"
        "t_num 0;\n"
        "t_bounded 10;\n"
        "t_low 3;\n"
        "t_size 64k;\n"
        "t_off 2t;\n"
        "t_msec 1h30m;\n"
        "t_sec 7d;\n"
        "t_enum LOUD;\n"),
        SL_CONF_OK);

    mcf = test_main_conf();

    assert_int_equal(mcf->flag, 0);
    assert_string_equal(mcf->str.data, "value");
    assert_int_equal(mcf->strs->nelts, 3);
    s = mcf->strs->elts;
    assert_string_equal(s[2].data, "three");
    assert_int_equal(mcf->num, 0);
    assert_int_equal(mcf->bounded, 10);
    assert_int_equal(mcf->low, 3);
    assert_int_equal(mcf->size, 64 * 1024);
    assert_true(mcf->off == (off_t) 2 * 1024 * 1024 * 1024 * 1024);
    assert_int_equal(mcf->msec, 90 * 60 * 1000);
    assert_int_equal(mcf->sec, 7 * 86400);
    assert_int_equal(mcf->level, 3);
}


/* one value through one slot; returns the parse result */

static char *
test_slot(const char *directive, const char *value)
{
    char  conf[256];

    test_teardown(NULL);
    test_setup(NULL);

    snprintf(conf, sizeof(conf), "%s %s;\n", directive, value);

    return test_parse(conf);
}


static void
test_sizes_and_times(void **state)
{
    static const struct {
        const char  *directive;
        const char  *value;
        int64_t      expect;    /* -1: invalid */
    } cases[] = {
        { "t_size", "0", 0 },
        { "t_size", "64", 64 },
        { "t_size", "1K", 1024 },
        { "t_size", "1m", 1024 * 1024 },
        { "t_size", "1g", 1024 * 1024 * 1024 },
        { "t_size", "1t", -1 },
        { "t_size", "k", -1 },
        { "t_size", "-1", -1 },
        { "t_size", "'1 k'", -1 },
        { "t_size", "99999999999999999999", -1 },
        { "t_size", "9223372036854775807k", -1 },
        { "t_off", "1t", (int64_t) 1 << 40 },
        { "t_off", "3", 3 },
        { "t_off", "''", -1 },
        { "t_msec", "500ms", 500 },
        { "t_msec", "500", 500 },
        { "t_msec", "30s", 30000 },
        { "t_msec", "5m", 300000 },
        { "t_msec", "2h", 7200000 },
        { "t_msec", "1d", 86400000 },
        { "t_msec", "1h30m", 5400000 },
        { "t_msec", "0", 0 },
        { "t_msec", "30m1h", -1 },
        { "t_msec", "1x", -1 },
        { "t_msec", "ms", -1 },
        { "t_sec", "30", 30 },
        { "t_sec", "30s", 30 },
        { "t_sec", "7d", 7 * 86400 },
        { "t_sec", "2m", 120 },
        { "t_sec", "1.5s", -1 },
        { "t_num", "123", 123 },
        { "t_num", "-5", -1 },
        { "t_num", "99999999999999999999", -1 },
        { NULL, NULL, 0 }
    };

    int64_t            got;
    sl_uint_t          i;
    test_main_conf_t  *mcf;

    for (i = 0; cases[i].directive; i++) {

        if (cases[i].expect == -1) {
            if (test_slot(cases[i].directive, cases[i].value)
                != SL_CONF_ERROR)
            {
                print_error("%s \"%s\" accepted\n", cases[i].directive,
                            cases[i].value);
                fail();
            }

            assert_logged("invalid value");
            continue;
        }

        if (test_slot(cases[i].directive, cases[i].value) != SL_CONF_OK) {
            print_error("%s \"%s\" refused:\n%s\n", cases[i].directive,
                        cases[i].value, test_log_text());
            fail();
        }

        mcf = test_main_conf();

        switch (cases[i].directive[2]) {
        case 's':
            got = (cases[i].directive[3] == 'i') ? (int64_t) mcf->size
                                                 : (int64_t) mcf->sec;
            break;
        case 'o':
            got = mcf->off;
            break;
        case 'm':
            got = mcf->msec;
            break;
        default:
            got = mcf->num;
        }

        if (got != cases[i].expect) {
            print_error("%s \"%s\": %lld, expected %lld\n",
                        cases[i].directive, cases[i].value,
                        (long long) got, (long long) cases[i].expect);
            fail();
        }
    }
}


static void
test_duplicates(void **state)
{
    static const char  *directives[] = {
        "t_flag on", "t_str a", "t_num 1", "t_size 1k", "t_off 1",
        "t_msec 1s", "t_sec 1", "t_enum quiet", NULL
    };

    char       conf[256], expect[256];
    sl_uint_t  i;

    for (i = 0; directives[i]; i++) {

        test_teardown(state);
        test_setup(state);

        snprintf(conf, sizeof(conf), "%s;\n%s;\n", directives[i],
                 directives[i]);

        assert_ptr_equal(test_parse(conf), SL_CONF_ERROR);

        snprintf(expect, sizeof(expect),
                 "\"%.*s\" directive is duplicate in @/t.conf:2",
                 (int) (strchr(directives[i], ' ') - directives[i]),
                 directives[i]);

        assert_logged(expect);
    }
}


static void
test_modules(void **state)
{
    char         *order[] = { "test_dyn_module", "test_box_module", NULL };
    sl_str_t      file = sl_string("/x/dyn.so");
    sl_int_t      n;
    sl_uint_t     i;
    sl_module_t  *m;

    assert_ptr_equal(sl_module_find(test_cycle, "test_box_module"),
                     &test_box_module);
    assert_null(sl_module_find(test_cycle, "no_such_module"));
    assert_int_equal(test_cycle->modules_n, 4);
    assert_int_equal(test_main_module.index, 1);
    assert_string_equal(test_main_module.name, "test_main_module");
    assert_true(sl_max_module > 4);

    /* refused: another version, another signature, a name already in */

    test_dyn_module.version = 999;
    assert_int_equal(sl_add_module(&test_cf, &file, &test_dyn_module, NULL),
                     SL_ERROR);
    assert_logged("module \"/x/dyn.so\" version 999 instead of 1000");

    test_dyn_module.version = SL_VERSION_NUM;
    test_dyn_module.signature = "sl1:0.0.0:4:0";
    assert_int_equal(sl_add_module(&test_cf, &file, &test_dyn_module, NULL),
                     SL_ERROR);
    assert_logged("module \"/x/dyn.so\" is not binary compatible");

    test_dyn_module.signature = SL_MODULE_SIGNATURE;
    test_dyn_module.name = "test_box_module";
    assert_int_equal(sl_add_module(&test_cf, &file, &test_dyn_module, NULL),
                     SL_ERROR);
    assert_logged("module \"test_box_module\" is already loaded");

    /* accepted: placed before the module its order names next */

    test_dyn_module.name = "test_dyn_module";

    assert_int_equal(sl_add_module(&test_cf, &file, &test_dyn_module, order),
                     SL_OK);

    assert_int_equal(test_cycle->modules_n, 5);
    assert_ptr_equal(test_cycle->modules[3], &test_dyn_module);
    assert_ptr_equal(test_cycle->modules[4], &test_box_module);
    assert_null(test_cycle->modules[5]);
    assert_int_equal(test_dyn_module.index, 4);
    assert_non_null(test_cycle->conf_ctx[4]);

    /* and its directives work at once */

    assert_ptr_equal(test_parse("dyn_str hello;\nt_str main;\n"), SL_CONF_OK);
    assert_string_equal(
        ((test_main_conf_t *) test_cycle->conf_ctx[4])->str.data, "hello");
    assert_string_equal(test_main_conf()->str.data, "main");

    /* ctx_index: numbered within the type, stable across calls */

    n = sl_count_modules(test_cycle, SL_CORE_MODULE);
    assert_int_equal(n, 3);
    assert_int_equal(test_main_module.ctx_index, 0);
    assert_int_equal(test_boxes_module.ctx_index, 1);
    assert_int_equal(test_dyn_module.ctx_index, 2);
    assert_int_equal(sl_count_modules(test_cycle, SL_CORE_MODULE), 3);
    assert_int_equal(sl_count_modules(test_cycle, TEST_BOX_MODULE), 1);

    for (i = 0; (m = test_cycle->modules[i]); i++) {
        if (m->type == SL_CONF_MODULE) {
            assert_int_equal(m->ctx_index, SL_MODULE_UNSET_INDEX);
        }
    }

    test_dyn_module.ctx_index = SL_MODULE_UNSET_INDEX;
    test_main_module.ctx_index = SL_MODULE_UNSET_INDEX;
    test_boxes_module.ctx_index = SL_MODULE_UNSET_INDEX;
}


static void
test_load_module(void **state)
{
    assert_ptr_equal(test_parse("t_num 1;\nload_module nothing.so;\n"),
                     SL_CONF_ERROR);
    assert_logged("unknown directive \"load_module\" in @/t.conf:2");

    /* the handler itself, as the core module's table declares it */

    {
        sl_str_t      args[2];
        sl_command_t  cmd = { sl_string("load_module"),
                              SL_MAIN_CONF|SL_DIRECT_CONF|SL_CONF_TAKE1,
                              sl_load_module, 0, 0, NULL };

        args[0] = (sl_str_t) sl_string("load_module");
        args[1] = (sl_str_t) sl_string("modules/nothing.so");

        test_cf.args->nelts = 0;
        *(sl_str_t *) sl_array_push(test_cf.args) = args[0];
        *(sl_str_t *) sl_array_push(test_cf.args) = args[1];

        assert_ptr_equal(sl_load_module(&test_cf, &cmd, NULL),
                         SL_CONF_ERROR);
        assert_logged("dlopen() \"@/modules/nothing.so\" failed");

        test_cycle->modules_used = 1;

        assert_string_equal(sl_load_module(&test_cf, &cmd, NULL),
                            "is specified too late, it must come before "
                            "the blocks of the modules it loads");
    }
}


static void
test_conf_log_error(void **state)
{
    /* without a file (the top of sl_init_cycle) nothing is appended */

    sl_conf_log_error(SL_LOG_EMERG, &test_cf, 0, "plain %d", 7);
    assert_logged("plain 7");
    assert_null(strstr(test_log_text(), "plain 7 in"));

    /* an error number comes before the location */

    test_cf.conf_file = &(sl_conf_file_t) {
        { SL_INVALID_FILE, sl_null_string, NULL }, 0, NULL, 1
    };

    sl_conf_log_error(SL_LOG_EMERG, &test_cf, SL_ENOENT, "errno");
    assert_logged("errno: No such file or directory (2) in command line");

    test_cf.conf_file = NULL;

    /* below the log level nothing is written */

    test_log.log_level = SL_LOG_WARN;
    sl_conf_log_error(SL_LOG_INFO, &test_cf, 0, "quiet");
    test_log.log_level = SL_LOG_DEBUG;

    assert_null(strstr(test_log_text(), "quiet"));
}


int
main(void)
{
    int    rc;
    char   cmd[128];
    FILE  *f;

    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_tokens,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_tokens_args,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_arg_counts,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_errors,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_too_long,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_nested_blocks,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_include,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_dump,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_params,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_slots,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_sizes_and_times,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_duplicates,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_modules,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_load_module,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_conf_log_error,
                                        test_setup, test_teardown),
    };

    snprintf(test_dir, sizeof(test_dir), "/tmp/sl_test_conf.XXXXXX");

    if (mkdtemp(test_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }

    snprintf(test_prefix, sizeof(test_prefix), "%s/", test_dir);

    f = tmpfile();
    if (f == NULL) {
        perror("tmpfile");
        return 1;
    }

    test_log_file.fd = fileno(f);
    test_log.file = &test_log_file;
    test_log.log_level = SL_LOG_DEBUG;

    /* the log file is enough: no copy of each error on stderr */
    sl_use_stderr = 0;

    rc = cmocka_run_group_tests(tests, NULL, NULL);

    fclose(f);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_dir);
    if (system(cmd) != 0) {
        rc = 1;
    }

    return rc;
}
