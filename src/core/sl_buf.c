
/*
 * Buffers and chains.  A buffer is memory or a file range; a chain is
 * the unit that send_chain writes, so that a header in memory and
 * segment bytes sent by sendfile() go out in one call.
 */


#include <sl_config.h>
#include <sl_core.h>


sl_buf_t *
sl_create_temp_buf(sl_pool_t *pool, size_t size)
{
    sl_buf_t  *b;

    b = sl_calloc_buf(pool);
    if (b == NULL) {
        return NULL;
    }

    b->start = sl_palloc(pool, size);
    if (b->start == NULL) {
        return NULL;
    }

    b->pos = b->start;
    b->last = b->start;
    b->end = b->start + size;
    b->temporary = 1;

    return b;
}


sl_chain_t *
sl_alloc_chain_link(sl_pool_t *pool)
{
    sl_chain_t  *cl;

    cl = sl_palloc(pool, sizeof(sl_chain_t));
    if (cl == NULL) {
        return NULL;
    }

    cl->buf = NULL;
    cl->next = NULL;

    return cl;
}


off_t
sl_chain_size(sl_chain_t *cl)
{
    off_t  size;

    for (size = 0; cl; cl = cl->next) {
        if (cl->buf) {
            size += sl_buf_size(cl->buf);
        }
    }

    return size;
}
