
/*
 * Lists of fixed-size parts: elements never move once pushed, so
 * pointers to them stay valid (shared memory zones, open files).
 */

#ifndef _SL_LIST_H_INCLUDED_
#define _SL_LIST_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


typedef struct sl_list_part_s  sl_list_part_t;

struct sl_list_part_s {
    void             *elts;
    sl_uint_t         nelts;
    sl_list_part_t   *next;
};


typedef struct {
    sl_list_part_t   *last;
    sl_list_part_t    part;
    size_t            size;
    sl_uint_t         nalloc;
    sl_pool_t        *pool;
} sl_list_t;


sl_list_t *sl_list_create(sl_pool_t *pool, sl_uint_t n, size_t size);
sl_int_t sl_list_init(sl_list_t *list, sl_pool_t *pool, sl_uint_t n,
    size_t size);
void *sl_list_push(sl_list_t *list);


#endif /* _SL_LIST_H_INCLUDED_ */
