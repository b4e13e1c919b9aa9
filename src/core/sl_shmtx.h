
/*
 * A process-shared lock that a process dying while holding it cannot
 * wedge: a robust pthread mutex in shared memory.  When the holder died,
 * the next sl_shmtx_lock() takes the lock, marks it consistent and
 * returns SL_SHMTX_RECOVERED so that the caller repairs what the lock
 * protects (for a partition: the end offset and a torn tail).
 */

#ifndef _SL_SHMTX_H_INCLUDED_
#define _SL_SHMTX_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


#define SL_SHMTX_RECOVERED   1


typedef struct {
    pthread_mutex_t   mutex;
} sl_shmtx_t;


/* mtx must live in memory shared MAP_SHARED by the processes using it */
sl_int_t sl_shmtx_create(sl_shmtx_t *mtx);
void sl_shmtx_destroy(sl_shmtx_t *mtx);
/*
 * SL_ERROR (errno set) only if the lock is broken beyond repair, which
 * the recovery above prevents; callers may treat it as fatal
 */
sl_int_t sl_shmtx_trylock(sl_shmtx_t *mtx);   /* SL_OK/RECOVERED/SL_BUSY */
sl_int_t sl_shmtx_lock(sl_shmtx_t *mtx);      /* SL_OK or RECOVERED */
void sl_shmtx_unlock(sl_shmtx_t *mtx);


#endif /* _SL_SHMTX_H_INCLUDED_ */
