
/*
 * Growable arrays in a pool.
 */

#ifndef _SL_ARRAY_H_INCLUDED_
#define _SL_ARRAY_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


typedef struct {
    void          *elts;
    sl_uint_t      nelts;
    size_t         size;
    sl_uint_t      nalloc;
    sl_pool_t     *pool;
} sl_array_t;


sl_array_t *sl_array_create(sl_pool_t *p, sl_uint_t n, size_t size);
void sl_array_destroy(sl_array_t *a);
void *sl_array_push(sl_array_t *a);
void *sl_array_push_n(sl_array_t *a, sl_uint_t n);

static inline sl_int_t
sl_array_init(sl_array_t *array, sl_pool_t *pool, sl_uint_t n, size_t size)
{
    array->nelts = 0;
    array->size = size;
    array->nalloc = n;
    array->pool = pool;

    array->elts = sl_palloc(pool, n * size);
    if (array->elts == NULL) {
        return SL_ERROR;
    }

    return SL_OK;
}


#endif /* _SL_ARRAY_H_INCLUDED_ */
