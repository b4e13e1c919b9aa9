
/*
 * Files and the error log's files: atomic writes, mkdir -p, rm -r,
 * full names against the prefix, the open files of a cycle (shared by
 * name, reopened after a rotation), and error_log FILE LEVEL building a
 * chain whose head has the highest level.
 */


#include <sl_config.h>
#include <sl_core.h>

#include <setjmp.h>
#include <cmocka.h>


typedef struct {
    char          dir[64];
    sl_cycle_t    cycle;
    sl_pool_t    *pool;
    sl_log_t     *log;
} test_env_t;


/* sl_log.c's error_log directive reports through the conf parser */
__attribute__((weak)) void
sl_conf_log_error(sl_uint_t level, sl_conf_t *cf, sl_err_t err,
    const char *fmt, ...)
{
}


static int
test_setup(void **state)
{
    test_env_t  *env;

    env = calloc(1, sizeof(test_env_t));
    if (env == NULL) {
        return -1;
    }

    strcpy(env->dir, "/tmp/sl_test_files.XXXXXX");

    if (mkdtemp(env->dir) == NULL) {
        return -1;
    }

    env->log = sl_log_init((u_char *) env->dir, (u_char *) "stderr");

    env->pool = sl_create_pool(4096, env->log);
    if (env->pool == NULL) {
        return -1;
    }

    env->cycle.pool = env->pool;
    env->cycle.log = env->log;
    env->cycle.prefix.len = strlen(env->dir);
    env->cycle.prefix.data = (u_char *) env->dir;

    *state = env;

    return 0;
}


static int
test_teardown(void **state)
{
    test_env_t  *env = *state;

    (void) sl_delete_dir_tree((u_char *) env->dir, NULL);
    sl_destroy_pool(env->pool);
    free(env);

    return 0;
}


static char *
test_path(test_env_t *env, const char *name)
{
    static char  path[256];

    snprintf(path, sizeof(path), "%s/%s", env->dir, name);

    return path;
}


static size_t
test_read(const char *path, char *buf, size_t size)
{
    int      fd;
    ssize_t  n;

    fd = open(path, O_RDONLY);
    assert_true(fd != -1);

    n = sl_read_file(fd, (u_char *) buf, size - 1, 0);
    assert_true(n >= 0);
    buf[n] = '\0';

    close(fd);

    return n;
}


static void
test_read_write(void **state)
{
    test_env_t  *env = *state;
    int          fd;
    char         buf[64];
    ssize_t      n;

    fd = open(test_path(env, "rw"), O_RDWR|O_CREAT, 0644);
    assert_true(fd != -1);

    assert_int_equal(sl_write_file(fd, (u_char *) "hello world", 11, 0), 11);
    assert_int_equal(sl_write_file(fd, (u_char *) "W", 1, 6), 1);

    n = sl_read_file(fd, (u_char *) buf, 5, 6);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "World", 5);

    /* short only at the end of the file */
    n = sl_read_file(fd, (u_char *) buf, 64, 8);
    assert_int_equal(n, 3);

    assert_int_equal(sl_write_fd(fd, "!", 1), 1);

    close(fd);

    assert_int_equal(sl_read_file(-1, (u_char *) buf, 1, 0), SL_ERROR);
    assert_int_equal(errno, EBADF);
}


static void
test_atomic(void **state)
{
    test_env_t  *env = *state;
    char         buf[64], *path;
    DIR         *d;
    sl_uint_t    n;

    path = test_path(env, "checkpoint");

    assert_int_equal(sl_write_file_atomic((u_char *) path,
                                          (u_char *) "one\n", 4, env->log),
                     SL_OK);
    assert_int_equal(test_read(path, buf, sizeof(buf)), 4);
    assert_string_equal(buf, "one\n");

    assert_int_equal(sl_write_file_atomic((u_char *) path,
                                          (u_char *) "two", 3, env->log),
                     SL_OK);
    assert_int_equal(test_read(path, buf, sizeof(buf)), 3);
    assert_string_equal(buf, "two");

    /* no temporary left behind */
    d = opendir(env->dir);
    assert_non_null(d);

    for (n = 0; readdir(d); n++) { /* void */ }

    closedir(d);
    assert_int_equal(n, 3);

    /* a missing directory fails cleanly */
    assert_int_equal(sl_write_file_atomic((u_char *) test_path(env, "no/x"),
                                          (u_char *) "x", 1, NULL),
                     SL_ERROR);
    assert_int_equal(errno, ENOENT);
}


static void
test_dirs(void **state)
{
    test_env_t   *env = *state;
    char          path[256];
    struct stat   sb;

    strcpy(path, test_path(env, "a/b//c/d"));

    assert_int_equal(sl_create_full_path((u_char *) path, 0755), SL_OK);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));

    /* again: it exists */
    assert_int_equal(sl_create_full_path((u_char *) path, 0755), SL_OK);

    assert_int_equal(sl_fsync_dir((u_char *) path), SL_OK);

    strcpy(path, test_path(env, "a/b/file"));
    assert_int_equal(sl_write_file_atomic((u_char *) path, (u_char *) "x", 1,
                                          NULL), SL_OK);

    /* a file in the way */
    strcpy(path, test_path(env, "a/b/file/sub"));
    assert_int_equal(sl_create_full_path((u_char *) path, 0755), SL_ERROR);

    /* a symlink inside is removed, not followed */
    strcpy(path, test_path(env, "a/b/c/link"));
    assert_int_equal(symlink(env->dir, path), 0);

    strcpy(path, test_path(env, "a"));
    assert_int_equal(sl_delete_dir_tree((u_char *) path, env->log), SL_OK);
    assert_int_equal(stat(path, &sb), -1);
    assert_int_equal(stat(env->dir, &sb), 0);

    /* already gone */
    assert_int_equal(sl_delete_dir_tree((u_char *) path, env->log), SL_OK);
}


static void
test_full_name(void **state)
{
    test_env_t  *env = *state;
    sl_str_t     prefix, name;

    prefix.len = sizeof("/opt/sluice/") - 1;
    prefix.data = (u_char *) "/opt/sluice/";

    name.len = sizeof("logs/error.log") - 1;
    name.data = (u_char *) "logs/error.log";

    assert_int_equal(sl_get_full_name(env->pool, &prefix, &name), SL_OK);
    assert_string_equal((char *) name.data, "/opt/sluice/logs/error.log");
    assert_int_equal(name.len, strlen("/opt/sluice/logs/error.log"));

    prefix.len = sizeof("/opt/sluice") - 1;
    name.len = sizeof("x") - 1;
    name.data = (u_char *) "x";

    assert_int_equal(sl_get_full_name(env->pool, &prefix, &name), SL_OK);
    assert_string_equal((char *) name.data, "/opt/sluice/x");

    name.len = sizeof("/abs") - 1;
    name.data = (u_char *) "/abs";

    assert_int_equal(sl_get_full_name(env->pool, &prefix, &name), SL_OK);
    assert_memory_equal(name.data, "/abs", 4);
}


static void
test_open_files(void **state)
{
    test_env_t      *env = *state;
    char             buf[256], *path, *moved;
    sl_str_t         name;
    sl_log_t         log;
    sl_open_file_t  *f1, *f2, *f3, *err;

    name.len = sizeof("logs/error.log") - 1;
    name.data = (u_char *) "logs/error.log";

    /* logs/ does not exist yet: it is made */
    f1 = sl_conf_open_file(&env->cycle, &name);
    assert_non_null(f1);
    assert_true(f1->fd > STDERR_FILENO);
    assert_string_equal((char *) f1->name.data,
                        test_path(env, "logs/error.log"));

    /* the same name is the same file */
    f2 = sl_conf_open_file(&env->cycle, &name);
    assert_ptr_equal(f1, f2);

    name.len = 0;
    err = sl_conf_open_file(&env->cycle, &name);
    assert_non_null(err);
    assert_int_equal(err->fd, STDERR_FILENO);

    name.len = sizeof("logs/other.log") - 1;
    name.data = (u_char *) "logs/other.log";
    f3 = sl_conf_open_file(&env->cycle, &name);
    assert_non_null(f3);
    assert_ptr_not_equal(f3, f1);

    name.len = sizeof("/proc/no/such/dir/x.log") - 1;
    name.data = (u_char *) "/proc/no/such/dir/x.log";
    assert_null(sl_conf_open_file(&env->cycle, &name));

    /* a rotation: the file is moved away, SIGUSR1 reopens by name */

    sl_memzero(&log, sizeof(sl_log_t));
    log.log_level = SL_LOG_INFO;
    log.file = f1;

    sl_use_stderr = 0;

    sl_log_error(SL_LOG_NOTICE, &log, 0, "before");

    path = strdup(test_path(env, "logs/error.log"));
    moved = strdup(test_path(env, "logs/error.log.1"));
    assert_int_equal(rename(path, moved), 0);

    sl_log_error(SL_LOG_NOTICE, &log, 0, "still old");

    sl_reopen_files(&env->cycle);

    sl_log_error(SL_LOG_NOTICE, &log, 0, "after");

    test_read(moved, buf, sizeof(buf));
    assert_non_null(strstr(buf, "[notice]"));
    assert_non_null(strstr(buf, "before\n"));
    assert_non_null(strstr(buf, "still old\n"));
    assert_null(strstr(buf, "after"));

    test_read(path, buf, sizeof(buf));
    assert_non_null(strstr(buf, "after\n"));
    assert_null(strstr(buf, "before"));

    close(f1->fd);
    close(f3->fd);
    free(path);
    free(moved);
}


static char *
test_set_log(test_env_t *env, sl_log_t **head, const char *file,
    const char *level)
{
    sl_str_t    *v;
    sl_conf_t    cf;
    sl_array_t  *args;

    args = sl_array_create(env->pool, 3, sizeof(sl_str_t));
    assert_non_null(args);

    v = sl_array_push(args);
    v->len = sizeof("error_log") - 1;
    v->data = (u_char *) "error_log";

    v = sl_array_push(args);
    v->len = strlen(file);
    v->data = (u_char *) file;

    if (level) {
        v = sl_array_push(args);
        v->len = strlen(level);
        v->data = (u_char *) level;
    }

    sl_memzero(&cf, sizeof(sl_conf_t));
    cf.args = args;
    cf.cycle = &env->cycle;
    cf.pool = env->pool;
    cf.log = env->log;

    return sl_log_set_log(&cf, head);
}


static void
test_error_log_chain(void **state)
{
    test_env_t  *env = *state;
    char         buf[512];
    sl_log_t    *head, *l;

    head = &env->cycle.new_log;

    assert_ptr_equal(test_set_log(env, &head, "logs/a.log", "warn"),
                     SL_CONF_OK);
    assert_ptr_equal(head, &env->cycle.new_log);
    assert_int_equal(head->log_level, SL_LOG_WARN);
    assert_null(head->next);

    /* a higher level moves to the head */
    assert_ptr_equal(test_set_log(env, &head, "logs/b.log", "info"),
                     SL_CONF_OK);
    assert_int_equal(head->log_level, SL_LOG_INFO);
    assert_non_null(head->next);
    assert_int_equal(head->next->log_level, SL_LOG_WARN);

    assert_ptr_equal(test_set_log(env, &head, "logs/c.log", NULL),
                     SL_CONF_OK);
    assert_ptr_equal(test_set_log(env, &head, "logs/d.log", "crit"),
                     SL_CONF_OK);

    for (l = head; l->next; l = l->next) {
        assert_true(l->log_level >= l->next->log_level);
    }

    assert_ptr_equal(test_set_log(env, &head, "logs/e.log", "loud"),
                     SL_CONF_ERROR);

    assert_ptr_equal(test_set_log(env, &head, "stderr", "emerg"),
                     SL_CONF_OK);
    assert_true(env->cycle.log_use_stderr);

    sl_use_stderr = 0;

    /* each log gets what its level allows */
    sl_log_error(SL_LOG_WARN, head, 0, "a warning");
    sl_log_error(SL_LOG_INFO, head, 0, "some info");
    sl_log_error(SL_LOG_ERR, head, 0, "an error");

    test_read(test_path(env, "logs/a.log"), buf, sizeof(buf));
    assert_non_null(strstr(buf, "[warn]"));
    assert_null(strstr(buf, "some info"));

    test_read(test_path(env, "logs/b.log"), buf, sizeof(buf));
    assert_non_null(strstr(buf, "a warning"));
    assert_non_null(strstr(buf, "some info"));

    test_read(test_path(env, "logs/c.log"), buf, sizeof(buf));
    assert_non_null(strstr(buf, "[error]"));
    assert_non_null(strstr(buf, "an error"));
    assert_null(strstr(buf, "a warning"));

    test_read(test_path(env, "logs/d.log"), buf, sizeof(buf));
    assert_string_equal(buf, "");

    for (l = head; l; l = l->next) {
        if (l->file->fd > STDERR_FILENO) {
            close(l->file->fd);
        }
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_read_write, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_atomic, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_dirs, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_full_name, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_open_files, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_error_log_chain, test_setup,
                                        test_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
