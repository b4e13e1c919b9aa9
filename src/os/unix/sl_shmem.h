
/*
 * Anonymous shared memory (MAP_SHARED|MAP_ANONYMOUS), created by the master
 * before fork so every worker maps it at the same address.
 */

#ifndef _SL_SHMEM_H_INCLUDED_
#define _SL_SHMEM_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


typedef struct {
    u_char       *addr;
    size_t        size;
    sl_str_t      name;
    sl_log_t     *log;
    sl_uint_t     exists;   /* inherited from the previous cycle */
} sl_shm_t;


sl_int_t sl_shm_alloc(sl_shm_t *shm);
void sl_shm_free(sl_shm_t *shm);


#endif /* _SL_SHMEM_H_INCLUDED_ */
