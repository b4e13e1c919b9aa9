
/*
 * Growable arrays in a pool.  Growing extends the array in place when it
 * is the pool's last allocation and doubles it into new memory otherwise
 * (the old memory stays in the pool until the pool goes).
 */


#include <sl_config.h>
#include <sl_core.h>


sl_array_t *
sl_array_create(sl_pool_t *p, sl_uint_t n, size_t size)
{
    sl_array_t  *a;

    a = sl_palloc(p, sizeof(sl_array_t));
    if (a == NULL) {
        return NULL;
    }

    if (sl_array_init(a, p, n, size) != SL_OK) {
        return NULL;
    }

    return a;
}


void
sl_array_destroy(sl_array_t *a)
{
    sl_pool_t  *p;

    p = a->pool;

    if ((u_char *) a->elts + a->size * a->nalloc == p->d.last) {
        p->d.last -= a->size * a->nalloc;
    }

    if ((u_char *) a + sizeof(sl_array_t) == p->d.last) {
        p->d.last = (u_char *) a;
    }
}


void *
sl_array_push(sl_array_t *a)
{
    return sl_array_push_n(a, 1);
}


void *
sl_array_push_n(sl_array_t *a, sl_uint_t n)
{
    void       *elt, *new;
    size_t      size;
    sl_uint_t   nalloc;
    sl_pool_t  *p;

    size = n * a->size;

    if (a->nelts + n > a->nalloc) {

        p = a->pool;

        if ((u_char *) a->elts + a->size * a->nalloc == p->d.last
            && p->d.last + size <= p->d.end)
        {
            p->d.last += size;
            a->nalloc += n;

        } else {
            nalloc = 2 * ((n >= a->nalloc) ? n : a->nalloc);

            new = sl_palloc(p, nalloc * a->size);
            if (new == NULL) {
                return NULL;
            }

            if (a->nelts) {
                sl_memcpy(new, a->elts, a->nelts * a->size);
            }

            a->elts = new;
            a->nalloc = nalloc;
        }
    }

    elt = (u_char *) a->elts + a->size * a->nelts;
    a->nelts += n;

    return elt;
}
