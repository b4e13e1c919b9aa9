
/*
 * Lists of fixed-size parts in a pool: a push never moves an element,
 * so pointers into the list stay valid for the pool's lifetime.
 */


#include <sl_config.h>
#include <sl_core.h>


sl_list_t *
sl_list_create(sl_pool_t *pool, sl_uint_t n, size_t size)
{
    sl_list_t  *list;

    list = sl_palloc(pool, sizeof(sl_list_t));
    if (list == NULL) {
        return NULL;
    }

    if (sl_list_init(list, pool, n, size) != SL_OK) {
        return NULL;
    }

    return list;
}


sl_int_t
sl_list_init(sl_list_t *list, sl_pool_t *pool, sl_uint_t n, size_t size)
{
    list->part.elts = sl_palloc(pool, n * size);
    if (list->part.elts == NULL) {
        return SL_ERROR;
    }

    list->part.nelts = 0;
    list->part.next = NULL;
    list->last = &list->part;
    list->size = size;
    list->nalloc = n;
    list->pool = pool;

    return SL_OK;
}


void *
sl_list_push(sl_list_t *l)
{
    void            *elt;
    sl_list_part_t  *last;

    last = l->last;

    if (last->nelts == l->nalloc) {

        last = sl_palloc(l->pool, sizeof(sl_list_part_t));
        if (last == NULL) {
            return NULL;
        }

        last->elts = sl_palloc(l->pool, l->nalloc * l->size);
        if (last->elts == NULL) {
            return NULL;
        }

        last->nelts = 0;
        last->next = NULL;

        l->last->next = last;
        l->last = last;
    }

    elt = (char *) last->elts + l->size * last->nelts;
    last->nelts++;

    return elt;
}
