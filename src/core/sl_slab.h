
/*
 * The slab allocator of shared memory zones: power-of-two size classes
 * inside pages, whole pages for large allocations, all under the zone's
 * sl_shmtx_t.  The pool header sits at the start of the zone.
 */

#ifndef _SL_SLAB_H_INCLUDED_
#define _SL_SLAB_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


typedef struct sl_slab_page_s  sl_slab_page_t;

struct sl_slab_page_s {
    uintptr_t         slab;
    sl_slab_page_t   *next;
    uintptr_t         prev;
};


typedef struct {
    sl_uint_t         total;
    sl_uint_t         used;
    sl_uint_t         reqs;
    sl_uint_t         fails;
} sl_slab_stat_t;


typedef struct {
    sl_shmtx_t        mutex;

    size_t            min_size;
    size_t            min_shift;

    sl_slab_page_t   *pages;
    sl_slab_page_t   *last;
    sl_slab_page_t    free;

    sl_slab_stat_t   *stats;
    sl_uint_t         pfree;

    u_char           *start;
    u_char           *end;

    u_char           *log_ctx;
    u_char            zero;

    unsigned          log_nomem:1;

    void             *data;          /* the zone owner's root object */
    void             *addr;
} sl_slab_pool_t;


void sl_slab_sizes_init(void);
/* the caller sets end, min_shift (3) and addr, and creates the mutex */
void sl_slab_init(sl_slab_pool_t *pool);
/* a pool over a whole zone: its header, lock and pages; NULL on error */
sl_slab_pool_t *sl_slab_create(u_char *addr, size_t size);
void *sl_slab_alloc(sl_slab_pool_t *pool, size_t size);
void *sl_slab_alloc_locked(sl_slab_pool_t *pool, size_t size);
void *sl_slab_calloc(sl_slab_pool_t *pool, size_t size);
void *sl_slab_calloc_locked(sl_slab_pool_t *pool, size_t size);
void sl_slab_free(sl_slab_pool_t *pool, void *p);
void sl_slab_free_locked(sl_slab_pool_t *pool, void *p);


#endif /* _SL_SLAB_H_INCLUDED_ */
