
/*
 * Pools: memory that lives as long as a cycle, a connection or a request
 * and is released at once.  Small allocations are carved from blocks;
 * anything larger than a page goes to malloc() and is remembered in the
 * pool's large list so that destroying the pool frees it too.
 */


#include <sl_config.h>
#include <sl_core.h>


/* larger requests are "large": malloc()ed and listed */
#define SL_MAX_ALLOC_FROM_POOL  4095

/* a block that failed this many times is skipped by later allocations */
#define SL_POOL_MAX_FAILED      4

/* large entries with a freed slot looked at before adding a new one */
#define SL_POOL_LARGE_REUSE     3


static void *sl_palloc_small(sl_pool_t *pool, size_t size, sl_uint_t align);
static void *sl_palloc_block(sl_pool_t *pool, size_t size);
static void *sl_palloc_large(sl_pool_t *pool, size_t size);
static void sl_pool_run_cleanups(sl_pool_t *pool);
static void sl_pool_free_large(sl_pool_t *pool);
static void sl_pool_cleanup_file(void *data);


void *
sl_alloc(size_t size, sl_log_t *log)
{
    void  *p;

    p = malloc(size);

    if (p == NULL && log != NULL) {
        sl_log_error(SL_LOG_EMERG, log, sl_errno,
                     "malloc(%zu) failed", size);
    }

    return p;
}


void *
sl_calloc(size_t size, sl_log_t *log)
{
    void  *p;

    p = sl_alloc(size, log);

    if (p) {
        sl_memzero(p, size);
    }

    return p;
}


sl_pool_t *
sl_create_pool(size_t size, sl_log_t *log)
{
    int         err;
    void       *m;
    sl_pool_t  *p;

    if (size < SL_MIN_POOL_SIZE) {
        size = SL_MIN_POOL_SIZE;
    }

    err = posix_memalign(&m, SL_POOL_ALIGNMENT, size);
    if (err) {
        if (log) {
            sl_log_error(SL_LOG_EMERG, log, err,
                         "posix_memalign(%d, %zu) failed",
                         SL_POOL_ALIGNMENT, size);
        }

        return NULL;
    }

    p = m;

    p->d.last = (u_char *) p + sizeof(sl_pool_t);
    p->d.end = (u_char *) p + size;
    p->d.next = NULL;
    p->d.failed = 0;

    size = size - sizeof(sl_pool_t);
    p->max = (size < SL_MAX_ALLOC_FROM_POOL) ? size : SL_MAX_ALLOC_FROM_POOL;

    p->current = p;
    p->large = NULL;
    p->cleanup = NULL;
    p->log = log;

    return p;
}


void
sl_destroy_pool(sl_pool_t *pool)
{
    sl_pool_t  *p, *n;

    sl_pool_run_cleanups(pool);
    sl_pool_free_large(pool);

    for (p = pool, n = pool->d.next; /* void */; p = n, n = n->d.next) {
        sl_free(p);

        if (n == NULL) {
            break;
        }
    }
}


/*
 * Keeps the blocks for reuse; cleanups run now because their records
 * live in the memory about to be handed out again.
 */

void
sl_reset_pool(sl_pool_t *pool)
{
    sl_pool_t  *p;

    sl_pool_run_cleanups(pool);
    sl_pool_free_large(pool);

    pool->d.last = (u_char *) pool + sizeof(sl_pool_t);
    pool->d.failed = 0;

    /* later blocks carry only the block header */

    for (p = pool->d.next; p; p = p->d.next) {
        p->d.last = sl_align_ptr((u_char *) p + sizeof(sl_pool_data_t),
                                 SL_ALIGNMENT);
        p->d.failed = 0;
    }

    pool->current = pool;
    pool->large = NULL;
    pool->cleanup = NULL;
}


void *
sl_palloc(sl_pool_t *pool, size_t size)
{
    if (size <= pool->max) {
        return sl_palloc_small(pool, size, 1);
    }

    return sl_palloc_large(pool, size);
}


void *
sl_pnalloc(sl_pool_t *pool, size_t size)
{
    if (size <= pool->max) {
        return sl_palloc_small(pool, size, 0);
    }

    return sl_palloc_large(pool, size);
}


void *
sl_pcalloc(sl_pool_t *pool, size_t size)
{
    void  *p;

    p = sl_palloc(pool, size);

    if (p) {
        sl_memzero(p, size);
    }

    return p;
}


void *
sl_pmemalign(sl_pool_t *pool, size_t size, size_t alignment)
{
    int               err;
    void             *p;
    sl_pool_large_t  *large;

    err = posix_memalign(&p, alignment, size);
    if (err) {
        if (pool->log) {
            sl_log_error(SL_LOG_EMERG, pool->log, err,
                         "posix_memalign(%zu, %zu) failed", alignment, size);
        }

        return NULL;
    }

    large = sl_palloc_small(pool, sizeof(sl_pool_large_t), 1);
    if (large == NULL) {
        sl_free(p);
        return NULL;
    }

    large->alloc = p;
    large->next = pool->large;
    pool->large = large;

    return p;
}


sl_int_t
sl_pfree(sl_pool_t *pool, void *p)
{
    sl_pool_large_t  *l;

    for (l = pool->large; l; l = l->next) {
        if (p == l->alloc) {
            sl_free(l->alloc);
            l->alloc = NULL;

            return SL_OK;
        }
    }

    return SL_DECLINED;
}


sl_pool_cleanup_t *
sl_pool_cleanup_add(sl_pool_t *p, size_t size)
{
    sl_pool_cleanup_t  *c;

    c = sl_palloc(p, sizeof(sl_pool_cleanup_t));
    if (c == NULL) {
        return NULL;
    }

    if (size) {
        c->data = sl_palloc(p, size);
        if (c->data == NULL) {
            return NULL;
        }

    } else {
        c->data = NULL;
    }

    c->handler = NULL;
    c->next = p->cleanup;

    p->cleanup = c;

    return c;
}


sl_int_t
sl_pool_cleanup_fd(sl_pool_t *p, sl_fd_t fd)
{
    sl_fd_t            *pfd;
    sl_pool_cleanup_t  *c;

    c = sl_pool_cleanup_add(p, sizeof(sl_fd_t));
    if (c == NULL) {
        return SL_ERROR;
    }

    pfd = c->data;
    *pfd = fd;

    c->handler = sl_pool_cleanup_file;

    return SL_OK;
}


static void *
sl_palloc_small(sl_pool_t *pool, size_t size, sl_uint_t align)
{
    u_char     *m;
    sl_pool_t  *p;

    p = pool->current;

    do {
        m = p->d.last;

        if (align) {
            m = sl_align_ptr(m, SL_ALIGNMENT);
        }

        /* aligning may step past an end that is not aligned itself */

        if (m <= p->d.end && (size_t) (p->d.end - m) >= size) {
            p->d.last = m + size;

            return m;
        }

        p = p->d.next;

    } while (p);

    return sl_palloc_block(pool, size);
}


static void *
sl_palloc_block(sl_pool_t *pool, size_t size)
{
    int         err;
    void       *mem;
    u_char     *m;
    size_t      psize;
    sl_pool_t  *p, *new;

    psize = (size_t) (pool->d.end - (u_char *) pool);

    err = posix_memalign(&mem, SL_POOL_ALIGNMENT, psize);
    if (err) {
        if (pool->log) {
            sl_log_error(SL_LOG_EMERG, pool->log, err,
                         "posix_memalign(%d, %zu) failed",
                         SL_POOL_ALIGNMENT, psize);
        }

        return NULL;
    }

    new = mem;
    m = mem;

    new->d.end = m + psize;
    new->d.next = NULL;
    new->d.failed = 0;

    m += sizeof(sl_pool_data_t);
    m = sl_align_ptr(m, SL_ALIGNMENT);
    new->d.last = m + size;

    for (p = pool->current; p->d.next; p = p->d.next) {
        if (p->d.failed++ > SL_POOL_MAX_FAILED) {
            pool->current = p->d.next;
        }
    }

    p->d.next = new;

    return m;
}


static void *
sl_palloc_large(sl_pool_t *pool, size_t size)
{
    void             *p;
    sl_uint_t         n;
    sl_pool_large_t  *large;

    p = sl_alloc(size, pool->log);
    if (p == NULL) {
        return NULL;
    }

    n = 0;

    for (large = pool->large; large; large = large->next) {
        if (large->alloc == NULL) {
            large->alloc = p;
            return p;
        }

        if (n++ > SL_POOL_LARGE_REUSE) {
            break;
        }
    }

    large = sl_palloc_small(pool, sizeof(sl_pool_large_t), 1);
    if (large == NULL) {
        sl_free(p);
        return NULL;
    }

    large->alloc = p;
    large->next = pool->large;
    pool->large = large;

    return p;
}


static void
sl_pool_run_cleanups(sl_pool_t *pool)
{
    sl_pool_cleanup_t  *c;

    for (c = pool->cleanup; c; c = c->next) {
        if (c->handler) {
            c->handler(c->data);
        }
    }

    pool->cleanup = NULL;
}


static void
sl_pool_free_large(sl_pool_t *pool)
{
    sl_pool_large_t  *l;

    for (l = pool->large; l; l = l->next) {
        if (l->alloc) {
            sl_free(l->alloc);
        }
    }

    pool->large = NULL;
}


static void
sl_pool_cleanup_file(void *data)
{
    sl_fd_t  *fd = data;

    if (*fd != SL_INVALID_FILE) {
        (void) sl_close_file(*fd);
    }
}
