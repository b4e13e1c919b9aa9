
/*
 * Pools: allocation by lifetime (per cycle, per connection, per request).
 */

#ifndef _SL_PALLOC_H_INCLUDED_
#define _SL_PALLOC_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


#define SL_DEFAULT_POOL_SIZE    (16 * 1024)
#define SL_POOL_ALIGNMENT       16
#define SL_MIN_POOL_SIZE                                                     \
    sl_align((sizeof(sl_pool_t) + 2 * sizeof(sl_pool_large_t)),              \
              SL_POOL_ALIGNMENT)


typedef void (*sl_pool_cleanup_pt)(void *data);

typedef struct sl_pool_cleanup_s  sl_pool_cleanup_t;

struct sl_pool_cleanup_s {
    sl_pool_cleanup_pt   handler;
    void                *data;
    sl_pool_cleanup_t   *next;
};


typedef struct sl_pool_large_s  sl_pool_large_t;

struct sl_pool_large_s {
    sl_pool_large_t     *next;
    void                *alloc;
};


typedef struct {
    u_char              *last;
    u_char              *end;
    sl_pool_t           *next;
    sl_uint_t            failed;
} sl_pool_data_t;


struct sl_pool_s {
    sl_pool_data_t       d;
    size_t               max;
    sl_pool_t           *current;
    sl_pool_large_t     *large;
    sl_pool_cleanup_t   *cleanup;
    sl_log_t            *log;
};


void *sl_alloc(size_t size, sl_log_t *log);
void *sl_calloc(size_t size, sl_log_t *log);
#define sl_free          free

sl_pool_t *sl_create_pool(size_t size, sl_log_t *log);
void sl_destroy_pool(sl_pool_t *pool);
void sl_reset_pool(sl_pool_t *pool);

void *sl_palloc(sl_pool_t *pool, size_t size);
void *sl_pnalloc(sl_pool_t *pool, size_t size);   /* unaligned */
void *sl_pcalloc(sl_pool_t *pool, size_t size);
void *sl_pmemalign(sl_pool_t *pool, size_t size, size_t alignment);
sl_int_t sl_pfree(sl_pool_t *pool, void *p);      /* large blocks only */

sl_pool_cleanup_t *sl_pool_cleanup_add(sl_pool_t *p, size_t size);
/* closes fd when the pool is destroyed */
sl_int_t sl_pool_cleanup_fd(sl_pool_t *p, sl_fd_t fd);


#endif /* _SL_PALLOC_H_INCLUDED_ */
