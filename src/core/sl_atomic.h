
/*
 * Atomics on shared memory (GCC builtins; sequentially consistent unless
 * the name says otherwise).
 */

#ifndef _SL_ATOMIC_H_INCLUDED_
#define _SL_ATOMIC_H_INCLUDED_


#include <sl_config.h>


typedef int64_t                     sl_atomic_int_t;
typedef uint64_t                    sl_atomic_uint_t;
typedef volatile sl_atomic_uint_t   sl_atomic_t;

#define sl_atomic_cmp_set(lock, old, set)                                    \
    __sync_bool_compare_and_swap(lock, old, set)
#define sl_atomic_fetch_add(value, add)                                      \
    __sync_fetch_and_add(value, add)
#define sl_atomic_load(p)           __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define sl_atomic_store(p, v)       __atomic_store_n(p, v, __ATOMIC_RELEASE)
#define sl_memory_barrier()         __sync_synchronize()
#define sl_cpu_pause()              __builtin_ia32_pause()


#endif /* _SL_ATOMIC_H_INCLUDED_ */
