
/*
 * The process title that ps shows ("sluice: master process ...",
 * "sluice: worker process").  Linux has no call for it: the title is
 * written over the memory of argv, which the environment strings follow,
 * so those are moved to the heap first (nginx's way).  The options are
 * parsed from copies of argv (sl_save_argv), never from the originals
 * that the title overwrites.
 */


#include <sl_config.h>
#include <sl_core.h>


extern char  **environ;

static char  **sl_os_argv;
static char   *sl_os_argv_last;


/* sl_argv becomes a copy that outlives the title */

sl_int_t
sl_save_argv(int argc, char *const *argv)
{
    size_t  len;
    int     i;

    sl_os_argv = (char **) argv;

    sl_argv = malloc((argc + 1) * sizeof(char *));
    if (sl_argv == NULL) {
        return SL_ERROR;
    }

    for (i = 0; i < argc; i++) {
        len = sl_strlen(argv[i]) + 1;

        sl_argv[i] = malloc(len);
        if (sl_argv[i] == NULL) {
            return SL_ERROR;
        }

        sl_memcpy(sl_argv[i], argv[i], len);
    }

    sl_argv[i] = NULL;
    sl_argc = argc;

    return SL_OK;
}


/*
 * Finds how far the contiguous argv and environ strings reach and moves
 * the environment out of that area.  Without it (a failed allocation)
 * the titles are simply not set.
 */

sl_int_t
sl_init_setproctitle(sl_log_t *log)
{
    u_char    *p;
    size_t     size;
    sl_uint_t  i;
    char      *last;

    if (sl_os_argv == NULL || sl_os_argv[0] == NULL) {
        return SL_OK;
    }

    last = sl_os_argv[0];

    for (i = 0; sl_os_argv[i]; i++) {
        if (last == sl_os_argv[i]) {
            last = sl_os_argv[i] + sl_strlen(sl_os_argv[i]) + 1;
        }
    }

    /* the environment strings that follow argv, back to back */

    size = 0;

    for (i = 0; environ[i]; i++) {
        if (last + size == environ[i]) {
            size += sl_strlen(environ[i]) + 1;
        }
    }

    if (size) {
        p = sl_alloc(size, log);
        if (p == NULL) {
            return SL_ERROR;
        }

        for (i = 0; environ[i]; i++) {
            if (last == environ[i]) {
                size = sl_strlen(environ[i]) + 1;
                last = environ[i] + size;

                sl_memcpy(p, environ[i], size);
                environ[i] = (char *) p;
                p += size;
            }
        }
    }

    sl_os_argv_last = last - 1;

    return SL_OK;
}


void
sl_setproctitle(char *title)
{
    u_char  *p, *last;

    if (sl_os_argv_last == NULL) {
        return;
    }

    last = (u_char *) sl_os_argv_last;

    sl_os_argv[1] = NULL;

    p = sl_cpystrn((u_char *) sl_os_argv[0], (u_char *) "sluice: ",
                   last - (u_char *) sl_os_argv[0]);

    p = sl_cpystrn(p, (u_char *) title, last - p);

    /* the rest of the old strings would show after the title */
    if (last > p) {
        sl_memzero(p, last - p);
    }
}
