
/*
 * Process-shared locks that survive their holder: a robust pthread mutex
 * in shared memory.  When a process dies holding it, the kernel hands
 * the lock to the next locker with EOWNERDEAD; we mark it consistent and
 * tell the caller, who repairs what the lock protects.
 */


#include <sl_config.h>
#include <sl_core.h>


static sl_int_t sl_shmtx_result(sl_shmtx_t *mtx, int err, const char *op);


sl_int_t
sl_shmtx_create(sl_shmtx_t *mtx)
{
    int                  err;
    pthread_mutexattr_t  attr;

    err = pthread_mutexattr_init(&attr);
    if (err) {
        sl_set_errno(err);
        return SL_ERROR;
    }

    err = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);

    if (err == 0) {
        err = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    }

    if (err == 0) {
        err = pthread_mutex_init(&mtx->mutex, &attr);
    }

    (void) pthread_mutexattr_destroy(&attr);

    if (err) {
        sl_set_errno(err);
        return SL_ERROR;
    }

    return SL_OK;
}


void
sl_shmtx_destroy(sl_shmtx_t *mtx)
{
    (void) pthread_mutex_destroy(&mtx->mutex);
}


sl_int_t
sl_shmtx_trylock(sl_shmtx_t *mtx)
{
    int  err;

    err = pthread_mutex_trylock(&mtx->mutex);

    if (err == EBUSY) {
        return SL_BUSY;
    }

    return sl_shmtx_result(mtx, err, "pthread_mutex_trylock()");
}


sl_int_t
sl_shmtx_lock(sl_shmtx_t *mtx)
{
    return sl_shmtx_result(mtx, pthread_mutex_lock(&mtx->mutex),
                           "pthread_mutex_lock()");
}


void
sl_shmtx_unlock(sl_shmtx_t *mtx)
{
    (void) pthread_mutex_unlock(&mtx->mutex);
}


static sl_int_t
sl_shmtx_result(sl_shmtx_t *mtx, int err, const char *op)
{
    if (err == 0) {
        return SL_OK;
    }

    if (err == SL_EOWNERDEAD) {

        /*
         * We hold the lock now; without pthread_mutex_consistent() the
         * unlock would make it unusable for everybody.
         */

        err = pthread_mutex_consistent(&mtx->mutex);

        if (err == 0) {
            return SL_SHMTX_RECOVERED;
        }

        op = "pthread_mutex_consistent()";
    }

    sl_log_stderr(err, "[alert] %s failed", op);

    sl_set_errno(err);

    return SL_ERROR;
}
