
/*
 * Shared memory zones are anonymous shared mappings made by the master
 * before it forks, so every worker has them at the same address.
 */


#include <sl_config.h>
#include <sl_core.h>


sl_int_t
sl_shm_alloc(sl_shm_t *shm)
{
    void  *addr;

    addr = mmap(NULL, shm->size, PROT_READ|PROT_WRITE,
                MAP_ANONYMOUS|MAP_SHARED, -1, 0);

    if (addr == MAP_FAILED) {
        if (shm->log) {
            sl_log_error(SL_LOG_ALERT, shm->log, sl_errno,
                         "mmap(MAP_ANONYMOUS|MAP_SHARED, %zu) failed "
                         "for zone \"%.*s\"", shm->size,
                         SL_STR_ARG(&shm->name));
        }

        shm->addr = NULL;

        return SL_ERROR;
    }

    shm->addr = addr;

    return SL_OK;
}


void
sl_shm_free(sl_shm_t *shm)
{
    if (shm->addr == NULL) {
        return;
    }

    if (munmap((void *) shm->addr, shm->size) == -1 && shm->log) {
        sl_log_error(SL_LOG_ALERT, shm->log, sl_errno,
                     "munmap(%p, %zu) failed for zone \"%.*s\"",
                     (void *) shm->addr, shm->size, SL_STR_ARG(&shm->name));
    }

    shm->addr = NULL;
}
