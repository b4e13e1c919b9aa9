
/*
 * Pools, arrays, lists and buffers: alignment, large blocks, cleanups,
 * reset, growth in place and by copy.  Run under valgrind to prove that
 * destroying a pool frees everything it handed out.
 */


#include <sl_config.h>
#include <sl_core.h>

#include <setjmp.h>
#include <cmocka.h>


/* sl_log.c's error_log directive reports through the conf parser */
__attribute__((weak)) void
sl_conf_log_error(sl_uint_t level, sl_conf_t *cf, sl_err_t err,
    const char *fmt, ...)
{
}


static int  test_cleanups[4];
static int  test_cleanup_order;


static void
test_cleanup_handler(void *data)
{
    int  *slot = data;

    *slot = ++test_cleanup_order;
}


static void
test_pool_small(void **state)
{
    u_char     *p, *prev;
    sl_uint_t   i;
    sl_pool_t  *pool;

    pool = sl_create_pool(1024, NULL);
    assert_non_null(pool);
    assert_ptr_equal(pool->current, pool);

    prev = NULL;

    /* many blocks' worth: every pointer aligned, no two overlapping */
    for (i = 0; i < 2000; i++) {
        p = sl_palloc(pool, 1 + i % 100);
        assert_non_null(p);
        assert_int_equal((uintptr_t) p % SL_ALIGNMENT, 0);
        memset(p, (int) i, 1 + i % 100);

        if (prev) {
            assert_int_equal(prev[0], (u_char) (i - 1));
        }

        prev = p;
    }

    assert_non_null(pool->d.next);

    p = sl_pnalloc(pool, 3);
    assert_non_null(p);
    p = sl_pnalloc(pool, 3);
    assert_non_null(p);

    p = sl_pcalloc(pool, 200);
    assert_non_null(p);

    for (i = 0; i < 200; i++) {
        assert_int_equal(p[i], 0);
    }

    sl_destroy_pool(pool);
}


/*
 * A pool whose size is not a multiple of the alignment: unaligned bytes
 * fill it to its last byte, and an aligned request then must come from
 * a new block, not from past the end (ASan sees any overrun).
 */

static void
test_pool_unaligned_end(void **state)
{
    u_char     *p;
    size_t      room;
    sl_pool_t  *pool;

    pool = sl_create_pool(1024 + 5, NULL);
    assert_non_null(pool);

    room = pool->d.end - pool->d.last;
    assert_true(room <= pool->max);

    p = sl_pnalloc(pool, room - 1);
    assert_non_null(p);
    assert_ptr_equal(pool->d.last, pool->d.end - 1);

    p = sl_palloc(pool, 8);
    assert_non_null(p);
    assert_true(p < (u_char *) pool || p >= pool->d.end);
    memset(p, 1, 8);

    sl_destroy_pool(pool);
}


static void
test_pool_large(void **state)
{
    void       *a, *b, *c;
    sl_pool_t  *pool;

    pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, NULL);
    assert_non_null(pool);

    a = sl_palloc(pool, 100000);
    assert_non_null(a);
    memset(a, 1, 100000);

    b = sl_palloc(pool, 5000);
    assert_non_null(b);

    assert_int_equal(sl_pfree(pool, a), SL_OK);
    assert_int_equal(sl_pfree(pool, a), SL_DECLINED);

    /* the freed slot is reused */
    c = sl_palloc(pool, 70000);
    assert_non_null(c);
    assert_ptr_equal(pool->large->next->alloc, c);

    a = sl_pmemalign(pool, 3000, 4096);
    assert_non_null(a);
    assert_int_equal((uintptr_t) a % 4096, 0);

    b = sl_palloc(pool, 16);
    assert_int_equal(sl_pfree(pool, b), SL_DECLINED);

    sl_destroy_pool(pool);
}


static void
test_pool_cleanup(void **state)
{
    int                 fds[2];
    sl_pool_t          *pool;
    sl_pool_cleanup_t  *cln;

    memset(test_cleanups, 0, sizeof(test_cleanups));
    test_cleanup_order = 0;

    pool = sl_create_pool(512, NULL);
    assert_non_null(pool);

    cln = sl_pool_cleanup_add(pool, 0);
    assert_non_null(cln);
    assert_null(cln->data);
    cln->handler = test_cleanup_handler;
    cln->data = &test_cleanups[0];

    cln = sl_pool_cleanup_add(pool, 64);
    assert_non_null(cln);
    assert_non_null(cln->data);
    cln->handler = test_cleanup_handler;
    cln->data = &test_cleanups[1];

    /* a record without a handler is skipped */
    assert_non_null(sl_pool_cleanup_add(pool, 0));

    assert_int_equal(pipe(fds), 0);
    assert_int_equal(sl_pool_cleanup_fd(pool, fds[0]), SL_OK);

    sl_destroy_pool(pool);

    /* last added runs first */
    assert_int_equal(test_cleanups[1], 1);
    assert_int_equal(test_cleanups[0], 2);

    assert_int_equal(fcntl(fds[0], F_GETFD), -1);
    assert_int_equal(errno, EBADF);
    close(fds[1]);
}


static void
test_pool_reset(void **state)
{
    void       *p;
    sl_uint_t   i;
    sl_pool_t  *pool;

    memset(test_cleanups, 0, sizeof(test_cleanups));
    test_cleanup_order = 0;

    pool = sl_create_pool(1024, NULL);
    assert_non_null(pool);

    for (i = 0; i < 3; i++) {
        sl_pool_cleanup_t  *cln;

        cln = sl_pool_cleanup_add(pool, 0);
        assert_non_null(cln);
        cln->handler = test_cleanup_handler;
        cln->data = &test_cleanups[0];

        assert_non_null(sl_palloc(pool, 10000));

        for (p = NULL; pool->d.next == NULL; /* void */) {
            p = sl_palloc(pool, 100);
            assert_non_null(p);
        }

        sl_reset_pool(pool);

        assert_int_equal(test_cleanups[0], (int) i + 1);
        assert_null(pool->large);
        assert_null(pool->cleanup);
        assert_ptr_equal(pool->d.last, (u_char *) pool + sizeof(sl_pool_t));
    }

    sl_destroy_pool(pool);
}


static void
test_array(void **state)
{
    sl_uint_t    i, *v;
    sl_pool_t   *pool;
    sl_array_t  *a, b;

    pool = sl_create_pool(4096, NULL);
    assert_non_null(pool);

    a = sl_array_create(pool, 2, sizeof(sl_uint_t));
    assert_non_null(a);

    for (i = 0; i < 1000; i++) {
        v = sl_array_push(a);
        assert_non_null(v);
        *v = i;
    }

    assert_int_equal(a->nelts, 1000);
    assert_true(a->nalloc >= 1000);

    v = a->elts;

    for (i = 0; i < 1000; i++) {
        assert_int_equal(v[i], i);
    }

    v = sl_array_push_n(a, 500);
    assert_non_null(v);
    v[499] = 7;
    assert_int_equal(a->nelts, 1500);
    assert_int_equal(((sl_uint_t *) a->elts)[1499], 7);
    assert_int_equal(((sl_uint_t *) a->elts)[999], 999);

    sl_array_destroy(a);

    sl_destroy_pool(pool);

    pool = sl_create_pool(4096, NULL);
    assert_non_null(pool);

    /* the last allocation of a pool's first block grows in place */
    assert_int_equal(sl_array_init(&b, pool, 4, sizeof(sl_uint_t)), SL_OK);
    v = b.elts;

    for (i = 0; i < 5; i++) {
        assert_non_null(sl_array_push(&b));
    }

    assert_ptr_equal(b.elts, v);
    assert_int_equal(b.nalloc, 5);

    sl_destroy_pool(pool);
}


static void
test_list(void **state)
{
    sl_uint_t        i, n, *v, *first;
    sl_pool_t       *pool;
    sl_list_t       *l;
    sl_list_part_t  *part;

    pool = sl_create_pool(1024, NULL);
    assert_non_null(pool);

    l = sl_list_create(pool, 4, sizeof(sl_uint_t));
    assert_non_null(l);

    first = sl_list_push(l);
    assert_non_null(first);
    *first = 0;

    for (i = 1; i < 50; i++) {
        v = sl_list_push(l);
        assert_non_null(v);
        *v = i;
    }

    /* elements never move */
    assert_ptr_equal(l->part.elts, first);

    n = 0;

    for (part = &l->part; part; part = part->next) {
        v = part->elts;

        for (i = 0; i < part->nelts; i++) {
            assert_int_equal(v[i], n);
            n++;
        }
    }

    assert_int_equal(n, 50);

    sl_destroy_pool(pool);
}


static void
test_buf(void **state)
{
    sl_buf_t    *b1, *b2;
    sl_pool_t   *pool;
    sl_chain_t  *c1, *c2;

    pool = sl_create_pool(1024, NULL);
    assert_non_null(pool);

    b1 = sl_create_temp_buf(pool, 100);
    assert_non_null(b1);
    assert_true(b1->temporary);
    assert_int_equal(b1->end - b1->start, 100);
    b1->last += 30;

    b2 = sl_calloc_buf(pool);
    assert_non_null(b2);
    b2->in_file = 1;
    b2->file_pos = 1000;
    b2->file_last = 5096;

    c1 = sl_alloc_chain_link(pool);
    c2 = sl_alloc_chain_link(pool);
    assert_non_null(c1);
    assert_non_null(c2);

    c1->buf = b1;
    c1->next = c2;
    c2->buf = b2;

    assert_int_equal(sl_chain_size(c1), 30 + 4096);
    assert_int_equal(sl_chain_size(NULL), 0);

    sl_destroy_pool(pool);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_pool_small),
        cmocka_unit_test(test_pool_unaligned_end),
        cmocka_unit_test(test_pool_large),
        cmocka_unit_test(test_pool_cleanup),
        cmocka_unit_test(test_pool_reset),
        cmocka_unit_test(test_array),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_buf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
