
/*
 * The slab allocator of shared memory zones.  The zone starts with the
 * pool header, then one list head per size class ("slot"), the slot
 * statistics, one descriptor per page, and the pages themselves.
 *
 * Requests of half a page or more get whole pages, first fit from a
 * list of free runs; freed runs merge with free neighbours, so a zone
 * emptied of everything is one run again.  Smaller requests are rounded
 * up to a power of two and carved from a page of that size, whose free
 * chunks are tracked by a bitmap: in the descriptor's slab word when it
 * fits, else at the start of the page itself.  Pages with free chunks
 * are kept on their slot's list; full pages are unlinked.
 *
 * The low two bits of a descriptor's prev say what the page is.
 */


#include <sl_config.h>
#include <sl_core.h>


#define SL_SLAB_PAGE_MASK    3
#define SL_SLAB_PAGE         0      /* whole pages, free or allocated */
#define SL_SLAB_BIG          1      /* few chunks: map in the slab's top */
#define SL_SLAB_EXACT        2      /* one slab bit per chunk */
#define SL_SLAB_SMALL        3      /* many chunks: map in the page */

#define SL_SLAB_BITS         (8 * sizeof(uintptr_t))

#define SL_SLAB_PAGE_FREE    0
#define SL_SLAB_PAGE_BUSY    UINTPTR_MAX
#define SL_SLAB_PAGE_START   ((uintptr_t) 1 << (SL_SLAB_BITS - 1))

#define SL_SLAB_SHIFT_MASK   0xf
#define SL_SLAB_MAP_SHIFT    (SL_SLAB_BITS / 2)
#define SL_SLAB_MAP_MASK     (UINTPTR_MAX << SL_SLAB_MAP_SHIFT)

#define SL_SLAB_BUSY         UINTPTR_MAX


#define sl_slab_slots(pool)                                                  \
    ((sl_slab_page_t *) ((u_char *) (pool) + sizeof(sl_slab_pool_t)))

#define sl_slab_page_type(page)  ((page)->prev & SL_SLAB_PAGE_MASK)

#define sl_slab_page_prev(page)                                              \
    ((sl_slab_page_t *) ((page)->prev & ~(uintptr_t) SL_SLAB_PAGE_MASK))

#define sl_slab_page_addr(pool, page)                                        \
    ((((uintptr_t) ((page) - (pool)->pages)) << sl_slab_page_shift)          \
     + (uintptr_t) (pool)->start)


static void *sl_slab_alloc_chunk(sl_slab_pool_t *pool, sl_slab_page_t *page,
    sl_uint_t shift);
static void *sl_slab_new_chunk_page(sl_slab_pool_t *pool, sl_uint_t shift,
    sl_uint_t slot);
static sl_slab_page_t *sl_slab_alloc_pages(sl_slab_pool_t *pool,
    sl_uint_t pages);
static void sl_slab_free_pages(sl_slab_pool_t *pool, sl_slab_page_t *page,
    sl_uint_t pages);
static void sl_slab_link_slot(sl_slab_pool_t *pool, sl_slab_page_t *page,
    sl_uint_t shift, sl_uint_t type);
static void sl_slab_unlink(sl_slab_page_t *page);
static sl_uint_t sl_slab_chunks(sl_uint_t shift);
static sl_uint_t sl_slab_reserved(sl_uint_t shift);
static uintptr_t sl_slab_reserved_bits(sl_uint_t n, sl_uint_t word);
static void sl_slab_error(sl_slab_pool_t *pool, sl_uint_t level, char *text);


static sl_uint_t  sl_slab_page_size;
static sl_uint_t  sl_slab_page_shift;
static sl_uint_t  sl_slab_max_size;
static sl_uint_t  sl_slab_exact_size;
static sl_uint_t  sl_slab_exact_shift;


void
sl_slab_sizes_init(void)
{
    long       n;
    sl_uint_t  size;

    n = sysconf(_SC_PAGESIZE);
    size = (n > 0) ? (sl_uint_t) n : 4096;

    sl_slab_page_size = size;

    for (sl_slab_page_shift = 0; size >>= 1; sl_slab_page_shift++) {
        /* void */
    }

    sl_slab_max_size = sl_slab_page_size / 2;
    sl_slab_exact_size = sl_slab_page_size / SL_SLAB_BITS;

    size = sl_slab_exact_size;

    for (sl_slab_exact_shift = 0; size >>= 1; sl_slab_exact_shift++) {
        /* void */
    }
}


/*
 * The caller sets pool->end (and may set min_shift, default 3, and
 * addr) and creates pool->mutex; this lays out the rest of the zone.
 */

void
sl_slab_init(sl_slab_pool_t *pool)
{
    u_char          *p;
    size_t           size;
    sl_uint_t        i, n, pages;
    sl_slab_page_t  *slots;

    if (sl_slab_max_size == 0) {
        sl_slab_sizes_init();
    }

    if (pool->min_shift < 3) {
        pool->min_shift = 3;
    }

    pool->min_size = (size_t) 1 << pool->min_shift;

    if (pool->addr == NULL) {
        pool->addr = pool;
    }

    slots = sl_slab_slots(pool);
    n = sl_slab_page_shift - pool->min_shift;

    for (i = 0; i < n; i++) {
        slots[i].slab = 0;
        slots[i].next = &slots[i];
        slots[i].prev = 0;
    }

    p = (u_char *) &slots[n];

    pool->stats = (sl_slab_stat_t *) p;
    sl_memzero(pool->stats, n * sizeof(sl_slab_stat_t));

    p += n * sizeof(sl_slab_stat_t);

    size = (p < pool->end) ? (size_t) (pool->end - p) : 0;
    pages = size / (sl_slab_page_size + sizeof(sl_slab_page_t));

    pool->pages = (sl_slab_page_t *) p;
    sl_memzero(pool->pages, pages * sizeof(sl_slab_page_t));

    pool->start = sl_align_ptr(p + pages * sizeof(sl_slab_page_t),
                               sl_slab_page_size);

    /* the alignment may have eaten a page, or in a tiny zone all of it */

    if (pool->start >= pool->end) {
        pages = 0;

    } else if (pool->start + pages * sl_slab_page_size > pool->end) {
        pages = (sl_uint_t) (pool->end - pool->start) / sl_slab_page_size;
    }

    pool->last = pool->pages + pages;
    pool->pfree = pages;

    pool->free.slab = 0;
    pool->free.next = &pool->free;
    pool->free.prev = (uintptr_t) &pool->free;

    if (pages) {
        pool->pages->slab = pages;
        pool->pages->next = &pool->free;
        pool->pages->prev = (uintptr_t) &pool->free;

        if (pages > 1) {
            pool->pages[pages - 1].prev = (uintptr_t) pool->pages;
        }

        pool->free.next = pool->pages;
        pool->free.prev = (uintptr_t) pool->pages;
    }

    pool->log_nomem = 1;
    pool->log_ctx = &pool->zero;
    pool->zero = '\0';
}



sl_slab_pool_t *
sl_slab_create(u_char *addr, size_t size)
{
    sl_slab_pool_t  *sp;

    sp = (sl_slab_pool_t *) addr;

    sp->end = addr + size;
    sp->min_shift = 3;
    sp->addr = addr;

    if (sl_shmtx_create(&sp->mutex) != SL_OK) {
        return NULL;
    }

    sl_slab_init(sp);

    return sp;
}

void *
sl_slab_alloc(sl_slab_pool_t *pool, size_t size)
{
    void  *p;

    (void) sl_shmtx_lock(&pool->mutex);

    p = sl_slab_alloc_locked(pool, size);

    sl_shmtx_unlock(&pool->mutex);

    return p;
}


void *
sl_slab_alloc_locked(sl_slab_pool_t *pool, size_t size)
{
    void            *p;
    size_t           s;
    sl_uint_t        shift, slot;
    sl_slab_page_t  *page, *slots;

    if (size >= sl_slab_max_size) {

        if (size > (size_t) (pool->last - pool->pages) * sl_slab_page_size) {
            page = NULL;

        } else {
            page = sl_slab_alloc_pages(pool,
                                       (size + sl_slab_page_size - 1)
                                       >> sl_slab_page_shift);
        }

        if (page == NULL) {
            if (pool->log_nomem) {
                sl_slab_error(pool, SL_LOG_CRIT,
                              "sl_slab_alloc() failed: no memory");
            }

            return NULL;
        }

        return (void *) sl_slab_page_addr(pool, page);
    }

    if (size > pool->min_size) {
        shift = 1;
        for (s = size - 1; s >>= 1; shift++) { /* void */ }
        slot = shift - pool->min_shift;

    } else {
        shift = pool->min_shift;
        slot = 0;
    }

    pool->stats[slot].reqs++;

    slots = sl_slab_slots(pool);
    page = slots[slot].next;

    /* a page on the list always has a free chunk */

    if (page != &slots[slot]) {
        p = sl_slab_alloc_chunk(pool, page, shift);

        if (p) {
            pool->stats[slot].used++;
            return p;
        }

        sl_slab_error(pool, SL_LOG_ALERT,
                      "sl_slab_alloc(): full page on a slot list");
    }

    p = sl_slab_new_chunk_page(pool, shift, slot);

    if (p == NULL) {
        pool->stats[slot].fails++;

        if (pool->log_nomem) {
            sl_slab_error(pool, SL_LOG_CRIT,
                          "sl_slab_alloc() failed: no memory");
        }

        return NULL;
    }

    pool->stats[slot].used++;

    return p;
}


void *
sl_slab_calloc(sl_slab_pool_t *pool, size_t size)
{
    void  *p;

    (void) sl_shmtx_lock(&pool->mutex);

    p = sl_slab_calloc_locked(pool, size);

    sl_shmtx_unlock(&pool->mutex);

    return p;
}


void *
sl_slab_calloc_locked(sl_slab_pool_t *pool, size_t size)
{
    void  *p;

    p = sl_slab_alloc_locked(pool, size);

    if (p) {
        sl_memzero(p, size);
    }

    return p;
}


void
sl_slab_free(sl_slab_pool_t *pool, void *p)
{
    (void) sl_shmtx_lock(&pool->mutex);

    sl_slab_free_locked(pool, p);

    sl_shmtx_unlock(&pool->mutex);
}


void
sl_slab_free_locked(sl_slab_pool_t *pool, void *p)
{
    uintptr_t        slab, m, *bitmap;
    sl_uint_t        n, i, type, shift, map, reserved, slot, off;
    sl_slab_page_t  *page;

    if ((u_char *) p < pool->start
        || (u_char *) p >= pool->start + ((pool->last - pool->pages)
                                          << sl_slab_page_shift))
    {
        sl_slab_error(pool, SL_LOG_ALERT, "sl_slab_free(): outside of pool");
        return;
    }

    n = ((u_char *) p - pool->start) >> sl_slab_page_shift;
    page = &pool->pages[n];
    slab = page->slab;
    type = sl_slab_page_type(page);

    off = (uintptr_t) p & (sl_slab_page_size - 1);

    switch (type) {

    case SL_SLAB_SMALL:

        shift = slab & SL_SLAB_SHIFT_MASK;

        if (off & (((sl_uint_t) 1 << shift) - 1)) {
            goto wrong_chunk;
        }

        n = off >> shift;
        reserved = sl_slab_reserved(shift);

        if (n < reserved) {
            goto wrong_chunk;
        }

        m = (uintptr_t) 1 << (n % SL_SLAB_BITS);
        n /= SL_SLAB_BITS;
        bitmap = (uintptr_t *) ((uintptr_t) p - off);

        if (!(bitmap[n] & m)) {
            goto chunk_already_free;
        }

        if (page->next == NULL) {
            sl_slab_link_slot(pool, page, shift, SL_SLAB_SMALL);
        }

        bitmap[n] &= ~m;

        slot = shift - pool->min_shift;
        pool->stats[slot].used--;

        /* empty when only the bitmap's own chunks remain marked */

        map = sl_slab_chunks(shift) / SL_SLAB_BITS;

        for (i = 0; i < map; i++) {
            if (bitmap[i] != sl_slab_reserved_bits(reserved, i)) {
                return;
            }
        }

        pool->stats[slot].total -= sl_slab_chunks(shift) - reserved;

        sl_slab_free_pages(pool, page, 1);

        return;

    case SL_SLAB_EXACT:

        if (off & (sl_slab_exact_size - 1)) {
            goto wrong_chunk;
        }

        m = (uintptr_t) 1 << (off >> sl_slab_exact_shift);

        if (!(slab & m)) {
            goto chunk_already_free;
        }

        if (page->next == NULL) {
            sl_slab_link_slot(pool, page, sl_slab_exact_shift, SL_SLAB_EXACT);
        }

        page->slab &= ~m;

        slot = sl_slab_exact_shift - pool->min_shift;
        pool->stats[slot].used--;

        if (page->slab) {
            return;
        }

        pool->stats[slot].total -= SL_SLAB_BITS;

        sl_slab_free_pages(pool, page, 1);

        return;

    case SL_SLAB_BIG:

        shift = slab & SL_SLAB_SHIFT_MASK;

        if (off & (((sl_uint_t) 1 << shift) - 1)) {
            goto wrong_chunk;
        }

        m = (uintptr_t) 1 << ((off >> shift) + SL_SLAB_MAP_SHIFT);

        if (!(slab & m)) {
            goto chunk_already_free;
        }

        if (page->next == NULL) {
            sl_slab_link_slot(pool, page, shift, SL_SLAB_BIG);
        }

        page->slab &= ~m;

        slot = shift - pool->min_shift;
        pool->stats[slot].used--;

        if (page->slab & SL_SLAB_MAP_MASK) {
            return;
        }

        pool->stats[slot].total -= sl_slab_chunks(shift);

        sl_slab_free_pages(pool, page, 1);

        return;

    default: /* SL_SLAB_PAGE */

        if (off) {
            goto wrong_chunk;
        }

        if (slab == SL_SLAB_PAGE_BUSY) {
            sl_slab_error(pool, SL_LOG_ALERT,
                          "sl_slab_free(): pointer to wrong page");
            return;
        }

        if (!(slab & SL_SLAB_PAGE_START)) {
            sl_slab_error(pool, SL_LOG_ALERT,
                          "sl_slab_free(): page is already free");
            return;
        }

        sl_slab_free_pages(pool, page, slab & ~SL_SLAB_PAGE_START);

        return;
    }

wrong_chunk:

    sl_slab_error(pool, SL_LOG_ALERT, "sl_slab_free(): pointer to wrong chunk");

    return;

chunk_already_free:

    sl_slab_error(pool, SL_LOG_ALERT, "sl_slab_free(): chunk is already free");
}


/* takes a free chunk of a page on a slot list; unlinks a page it fills */

static void *
sl_slab_alloc_chunk(sl_slab_pool_t *pool, sl_slab_page_t *page,
    sl_uint_t shift)
{
    uintptr_t   m, mask, *bitmap;
    sl_uint_t   n, i, map;

    if (shift < sl_slab_exact_shift) {

        bitmap = (uintptr_t *) sl_slab_page_addr(pool, page);
        map = sl_slab_chunks(shift) / SL_SLAB_BITS;

        for (n = 0; n < map; n++) {

            if (bitmap[n] == SL_SLAB_BUSY) {
                continue;
            }

            i = (sl_uint_t) __builtin_ctzl(~bitmap[n]);
            bitmap[n] |= (uintptr_t) 1 << i;

            if (bitmap[n] == SL_SLAB_BUSY) {
                for (m = n + 1; m < map; m++) {
                    if (bitmap[m] != SL_SLAB_BUSY) {
                        break;
                    }
                }

                if (m == map) {
                    sl_slab_unlink(page);
                    page->prev = SL_SLAB_SMALL;
                }
            }

            return (u_char *) bitmap + ((n * SL_SLAB_BITS + i) << shift);
        }

        return NULL;
    }

    if (shift == sl_slab_exact_shift) {

        if (page->slab == SL_SLAB_BUSY) {
            return NULL;
        }

        i = (sl_uint_t) __builtin_ctzl(~page->slab);
        page->slab |= (uintptr_t) 1 << i;

        if (page->slab == SL_SLAB_BUSY) {
            sl_slab_unlink(page);
            page->prev = SL_SLAB_EXACT;
        }

        return (void *) (sl_slab_page_addr(pool, page) + (i << shift));
    }

    /* shift > sl_slab_exact_shift */

    n = sl_slab_chunks(shift);
    mask = ((((uintptr_t) 1) << n) - 1) << SL_SLAB_MAP_SHIFT;

    if ((page->slab & SL_SLAB_MAP_MASK) == mask) {
        return NULL;
    }

    i = (sl_uint_t) __builtin_ctzl(~page->slab & mask);
    page->slab |= (uintptr_t) 1 << i;

    if ((page->slab & SL_SLAB_MAP_MASK) == mask) {
        sl_slab_unlink(page);
        page->prev = SL_SLAB_BIG;
    }

    i -= SL_SLAB_MAP_SHIFT;

    return (void *) (sl_slab_page_addr(pool, page) + (i << shift));
}


static void *
sl_slab_new_chunk_page(sl_slab_pool_t *pool, sl_uint_t shift, sl_uint_t slot)
{
    uintptr_t       *bitmap;
    sl_uint_t        i, n, map;
    sl_slab_page_t  *page;

    page = sl_slab_alloc_pages(pool, 1);
    if (page == NULL) {
        return NULL;
    }

    if (shift < sl_slab_exact_shift) {

        /* the chunks the bitmap covers, and the one returned, are busy */

        bitmap = (uintptr_t *) sl_slab_page_addr(pool, page);
        n = sl_slab_reserved(shift);
        map = sl_slab_chunks(shift) / SL_SLAB_BITS;

        for (i = 0; i < map; i++) {
            bitmap[i] = sl_slab_reserved_bits(n + 1, i);
        }

        page->slab = shift;
        sl_slab_link_slot(pool, page, shift, SL_SLAB_SMALL);

        pool->stats[slot].total += sl_slab_chunks(shift) - n;

        return (u_char *) bitmap + (n << shift);
    }

    if (shift == sl_slab_exact_shift) {
        page->slab = 1;
        sl_slab_link_slot(pool, page, shift, SL_SLAB_EXACT);

        pool->stats[slot].total += SL_SLAB_BITS;

    } else {
        page->slab = ((uintptr_t) 1 << SL_SLAB_MAP_SHIFT) | shift;
        sl_slab_link_slot(pool, page, shift, SL_SLAB_BIG);

        pool->stats[slot].total += sl_slab_chunks(shift);
    }

    return (void *) sl_slab_page_addr(pool, page);
}


/* first fit; the rest of the run stays free */

static sl_slab_page_t *
sl_slab_alloc_pages(sl_slab_pool_t *pool, sl_uint_t pages)
{
    sl_slab_page_t  *page, *rest, *p;

    for (page = pool->free.next; page != &pool->free; page = page->next) {

        if (page->slab < pages) {
            continue;
        }

        if (page->slab > pages) {
            rest = &page[pages];

            rest->slab = page->slab - pages;
            rest->next = page->next;
            rest->prev = page->prev;

            p = sl_slab_page_prev(page);
            p->next = rest;
            rest->next->prev = (uintptr_t) rest;

            if (rest->slab > 1) {
                rest[rest->slab - 1].prev = (uintptr_t) rest;
            }

        } else {
            sl_slab_unlink(page);
        }

        page->slab = pages | SL_SLAB_PAGE_START;
        page->next = NULL;
        page->prev = SL_SLAB_PAGE;

        pool->pfree -= pages;

        for (p = page + 1; p < page + pages; p++) {
            p->slab = SL_SLAB_PAGE_BUSY;
            p->next = NULL;
            p->prev = SL_SLAB_PAGE;
        }

        return page;
    }

    return NULL;
}


/*
 * A free run: the first page is on the free list with the run's length
 * in slab; the last page's prev points to the first, so that a run
 * freed after it can find where it starts.
 */

static void
sl_slab_free_pages(sl_slab_pool_t *pool, sl_slab_page_t *page,
    sl_uint_t pages)
{
    sl_slab_page_t  *join;

    pool->pfree += pages;

    if (page->next) {
        /* a chunk page still on its slot list */
        sl_slab_unlink(page);
    }

    if (pages > 1) {
        sl_memzero(&page[1], (pages - 1) * sizeof(sl_slab_page_t));
    }

    page->slab = pages;
    page->next = NULL;
    page->prev = SL_SLAB_PAGE;

    join = page + pages;

    if (join < pool->last
        && sl_slab_page_type(join) == SL_SLAB_PAGE
        && join->next != NULL)
    {
        page->slab += join->slab;

        sl_slab_unlink(join);

        join->slab = SL_SLAB_PAGE_FREE;
        join->prev = SL_SLAB_PAGE;
    }

    if (page > pool->pages) {
        join = page - 1;

        if (sl_slab_page_type(join) == SL_SLAB_PAGE) {

            if (join->slab == SL_SLAB_PAGE_FREE) {
                join = sl_slab_page_prev(join);
            }

            if (join != NULL && join->next != NULL) {
                join->slab += page->slab;

                sl_slab_unlink(join);

                page->slab = SL_SLAB_PAGE_FREE;
                page->prev = SL_SLAB_PAGE;

                page = join;
            }
        }
    }

    if (page->slab > 1) {
        page[page->slab - 1].prev = (uintptr_t) page;
    }

    page->prev = (uintptr_t) &pool->free;
    page->next = pool->free.next;
    page->next->prev = (uintptr_t) page;
    pool->free.next = page;
}


static void
sl_slab_link_slot(sl_slab_pool_t *pool, sl_slab_page_t *page,
    sl_uint_t shift, sl_uint_t type)
{
    sl_slab_page_t  *slot;

    slot = &sl_slab_slots(pool)[shift - pool->min_shift];

    page->next = slot->next;
    page->prev = (uintptr_t) slot | type;

    if (slot->next == slot) {
        slot->prev = (uintptr_t) page | type;

    } else {
        slot->next->prev = (uintptr_t) page | type;
    }

    slot->next = page;
}


/* keeps the neighbours' type bits: they may be slot pages or heads */

static void
sl_slab_unlink(sl_slab_page_t *page)
{
    sl_slab_page_t  *prev, *next;

    prev = sl_slab_page_prev(page);
    next = page->next;

    prev->next = next;
    next->prev = (next->prev & SL_SLAB_PAGE_MASK) | (uintptr_t) prev;

    page->next = NULL;
}


static sl_uint_t
sl_slab_chunks(sl_uint_t shift)
{
    return sl_slab_page_size >> shift;
}


/* how many chunks of a small page its bitmap occupies */

static sl_uint_t
sl_slab_reserved(sl_uint_t shift)
{
    sl_uint_t  n;

    n = (sl_slab_chunks(shift) / 8) >> shift;

    return n ? n : 1;
}


/* the bits of a bitmap word that cover the first n chunks */

static uintptr_t
sl_slab_reserved_bits(sl_uint_t n, sl_uint_t word)
{
    sl_uint_t  first;

    first = word * SL_SLAB_BITS;

    if (n <= first) {
        return 0;
    }

    if (n - first >= SL_SLAB_BITS) {
        return SL_SLAB_BUSY;
    }

    return ((uintptr_t) 1 << (n - first)) - 1;
}


/*
 * No cycle here: the slab is below it.  The line goes to stderr, which
 * the master points at the error log once it runs.
 */

static void
sl_slab_error(sl_slab_pool_t *pool, sl_uint_t level, char *text)
{
    sl_log_t        log;
    sl_open_file_t  file;

    sl_memzero(&log, sizeof(sl_log_t));

    file.fd = STDERR_FILENO;
    file.name.len = 0;
    file.name.data = NULL;

    log.log_level = SL_LOG_ERR;
    log.file = &file;

    sl_log_error_core(level, &log, 0, "%s%s", text, pool->log_ctx);
}
