
/*
 * The slab allocator and the process-shared lock, on a real shared
 * mapping.  Random allocations and frees of every size class against a
 * model (each block filled with its own tag and checked before it is
 * freed, live blocks checked for overlap), full reuse of the zone once
 * everything is freed, exhaustion, bad frees; the lock between processes
 * and its recovery after a holder dies.
 */


#include <sl_config.h>
#include <sl_core.h>

#include <setjmp.h>
#include <cmocka.h>


#define TEST_ZONE_SIZE   (8 * 1024 * 1024)
#define TEST_SLOTS       3000
#define TEST_ROUNDS      200000
#define TEST_PROCS       4
#define TEST_LOCKS       20000


typedef struct {
    u_char           *p;
    size_t            size;
} test_block_t;


typedef struct {
    sl_shm_t          shm;
    sl_slab_pool_t   *pool;
    sl_uint_t         pfree;
    size_t            page;
} test_zone_t;


/* sl_log.c's error_log directive reports through the conf parser */
__attribute__((weak)) void
sl_conf_log_error(sl_uint_t level, sl_conf_t *cf, sl_err_t err,
    const char *fmt, ...)
{
}


static uint64_t  test_rand_state = 88172645463325252ULL;


static uint64_t
test_rand(void)
{
    test_rand_state ^= test_rand_state << 13;
    test_rand_state ^= test_rand_state >> 7;
    test_rand_state ^= test_rand_state << 17;

    return test_rand_state;
}


static int
test_zone_setup(void **state)
{
    test_zone_t  *z;

    z = calloc(1, sizeof(test_zone_t));
    if (z == NULL) {
        return -1;
    }

    z->shm.size = TEST_ZONE_SIZE;
    z->shm.name.len = sizeof("test") - 1;
    z->shm.name.data = (u_char *) "test";

    if (sl_shm_alloc(&z->shm) != SL_OK) {
        free(z);
        return -1;
    }

    z->pool = (sl_slab_pool_t *) z->shm.addr;
    z->pool->end = z->shm.addr + z->shm.size;
    z->pool->min_shift = 3;
    z->pool->addr = z->shm.addr;

    if (sl_shmtx_create(&z->pool->mutex) != SL_OK) {
        return -1;
    }

    sl_slab_sizes_init();
    sl_slab_init(z->pool);

    z->pfree = z->pool->pfree;
    z->page = (size_t) sysconf(_SC_PAGESIZE);

    *state = z;

    return 0;
}


static int
test_zone_teardown(void **state)
{
    test_zone_t  *z = *state;

    sl_shmtx_destroy(&z->pool->mutex);
    sl_shm_free(&z->shm);
    free(z);

    return 0;
}


static void
test_fill(test_block_t *b, sl_uint_t tag)
{
    size_t  i;

    for (i = 0; i < b->size; i++) {
        b->p[i] = (u_char) (tag + i * 7);
    }
}


static void
test_check(test_block_t *b, sl_uint_t tag)
{
    size_t  i;

    for (i = 0; i < b->size; i++) {
        if (b->p[i] != (u_char) (tag + i * 7)) {
            fail_msg("block %lu (%zu bytes at %p) overwritten at %zu",
                     (unsigned long) tag, b->size, b->p, i);
        }
    }
}


static int
test_cmp_blocks(const void *one, const void *two)
{
    const test_block_t  *a = one, *b = two;

    if (a->p == b->p) {
        return 0;
    }

    return (a->p < b->p) ? -1 : 1;
}


static void
test_check_overlap(test_block_t *blocks, sl_uint_t n)
{
    sl_uint_t      i, live;
    test_block_t  *sorted;

    sorted = malloc(n * sizeof(test_block_t));
    assert_non_null(sorted);

    for (i = 0, live = 0; i < n; i++) {
        if (blocks[i].p) {
            sorted[live++] = blocks[i];
        }
    }

    qsort(sorted, live, sizeof(test_block_t), test_cmp_blocks);

    for (i = 1; i < live; i++) {
        assert_true(sorted[i - 1].p + sorted[i - 1].size <= sorted[i].p);
    }

    free(sorted);
}


static size_t
test_size(test_zone_t *z)
{
    switch (test_rand() % 8) {

    case 0:
    case 1:
        return 1 + test_rand() % 16;

    case 2:
    case 3:
        return 1 + test_rand() % 128;

    case 4:
    case 5:
        return 1 + test_rand() % (z->page / 2);

    case 6:
        return z->page / 2 + test_rand() % (2 * z->page);

    default:
        return 1 + test_rand() % (8 * z->page);
    }
}


/* after everything is freed the zone is one free run again */

static void
test_check_empty(test_zone_t *z)
{
    void       *p;
    sl_uint_t   i, n;

    assert_int_equal(z->pool->pfree, z->pfree);

    n = 0;

    for (i = z->pool->min_shift; (1UL << i) < z->page; i++, n++) {
        assert_int_equal(z->pool->stats[n].used, 0);
        assert_int_equal(z->pool->stats[n].total, 0);
    }

    p = sl_slab_alloc(z->pool, z->pfree * z->page);
    assert_non_null(p);
    assert_ptr_equal(p, z->pool->start);
    assert_int_equal(z->pool->pfree, 0);

    sl_slab_free(z->pool, p);
    assert_int_equal(z->pool->pfree, z->pfree);
}


static void
test_slab_random(void **state)
{
    test_zone_t   *z = *state;
    size_t         size, align;
    sl_uint_t      i, n, allocs, fails;
    test_block_t  *blocks, *b;

    blocks = calloc(TEST_SLOTS, sizeof(test_block_t));
    assert_non_null(blocks);

    z->pool->log_nomem = 0;

    allocs = 0;
    fails = 0;

    for (i = 0; i < TEST_ROUNDS; i++) {
        n = test_rand() % TEST_SLOTS;
        b = &blocks[n];

        if (b->p) {
            test_check(b, n);
            sl_slab_free(z->pool, b->p);
            b->p = NULL;
            continue;
        }

        size = test_size(z);

        b->p = (i & 1) ? sl_slab_alloc(z->pool, size)
                       : sl_slab_calloc(z->pool, size);

        if (b->p == NULL) {
            fails++;
            continue;
        }

        allocs++;
        b->size = size;

        assert_true(b->p >= z->pool->start);
        assert_true(b->p + size <= z->pool->end);

        /* chunks are aligned to their class, pages to the page */
        if (size >= z->page / 2) {
            align = z->page;

        } else {
            for (align = 8; align < size; align <<= 1) { /* void */ }
        }

        assert_int_equal((uintptr_t) b->p & (align - 1), 0);

        if (!(i & 1)) {
            size_t  k;

            for (k = 0; k < size; k++) {
                assert_int_equal(b->p[k], 0);
            }
        }

        test_fill(b, n);

        if (i % 20000 == 0) {
            test_check_overlap(blocks, TEST_SLOTS);
        }
    }

    test_check_overlap(blocks, TEST_SLOTS);

    assert_true(allocs > TEST_ROUNDS / 4);

    for (n = 0; n < TEST_SLOTS; n++) {
        if (blocks[n].p) {
            test_check(&blocks[n], n);
            sl_slab_free(z->pool, blocks[n].p);
        }
    }

    test_check_empty(z);

    free(blocks);
}


static void
test_slab_exhaust(void **state)
{
    test_zone_t   *z = *state;
    size_t         sizes[] = { 8, 24, 64, 100, 1000, 2000, 3000, 12000 };
    void         **ptrs;
    sl_uint_t      i, k, n, max;

    max = TEST_ZONE_SIZE / 8;
    ptrs = malloc(max * sizeof(void *));
    assert_non_null(ptrs);

    z->pool->log_nomem = 0;

    for (k = 0; k < sl_nelems(sizes); k++) {

        for (n = 0; n < max; n++) {
            ptrs[n] = sl_slab_alloc(z->pool, sizes[k]);

            if (ptrs[n] == NULL) {
                break;
            }
        }

        assert_true(n > 0 && n < max);

        /* nearly all of the zone was usable */
        assert_true(n * sizes[k] > (z->pfree * z->page) / 3);
        /* what is left is too small for one more */
        assert_true(z->pool->pfree * z->page < sl_max(sizes[k], z->page));

        /* free in a scattered order */
        for (i = 0; i < n; i += 2) {
            sl_slab_free(z->pool, ptrs[i]);
        }

        for (i = 1; i < n; i += 2) {
            sl_slab_free(z->pool, ptrs[i]);
        }

        test_check_empty(z);
    }

    /* too big for the zone, and an overflowing size */
    assert_null(sl_slab_alloc(z->pool, z->pfree * z->page + 1));
    assert_null(sl_slab_alloc(z->pool, SIZE_MAX));

    /* the 8-byte class ran out once */
    assert_int_equal(z->pool->stats[0].fails, 1);
    assert_true(z->pool->stats[0].reqs > 0);

    free(ptrs);
}


static void
test_slab_bad_free(void **state)
{
    test_zone_t  *z = *state;
    int           err;
    u_char       *p, *q, *pages;

    /* the allocator complains on stderr; keep the test output clean */
    err = dup(STDERR_FILENO);
    assert_true(err != -1);
    assert_true(freopen("/dev/null", "w", stderr) != NULL);
    assert_int_equal(dup2(fileno(stderr), STDERR_FILENO), STDERR_FILENO);

    p = sl_slab_alloc(z->pool, 32);
    q = sl_slab_alloc(z->pool, 32);
    pages = sl_slab_alloc(z->pool, 3 * z->page);
    assert_non_null(p);
    assert_non_null(q);
    assert_non_null(pages);

    sl_slab_free(z->pool, p);
    sl_slab_free(z->pool, p);                   /* already free */
    sl_slab_free(z->pool, q + 1);               /* inside a chunk */
    sl_slab_free(z->pool, pages + z->page);     /* inside a run */
    sl_slab_free(z->pool, z->pool->end + 100);  /* outside */

    sl_slab_free(z->pool, q);
    sl_slab_free(z->pool, pages);
    sl_slab_free(z->pool, pages);               /* already free */

    assert_int_equal(dup2(err, STDERR_FILENO), STDERR_FILENO);
    close(err);

    test_check_empty(z);
}


static void
test_slab_processes(void **state)
{
    test_zone_t  *z = *state;
    int           status;
    u_char       *p;
    pid_t         pid;

    /* a worker allocates, the master sees and frees it */

    z->pool->data = NULL;

    pid = fork();
    assert_true(pid != -1);

    if (pid == 0) {
        p = sl_slab_alloc(z->pool, 100);

        if (p) {
            memcpy(p, "from the child", 15);
        }

        z->pool->data = p;
        _exit(p ? 0 : 1);
    }

    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    p = z->pool->data;
    assert_non_null(p);
    assert_string_equal((char *) p, "from the child");

    sl_slab_free(z->pool, p);
    z->pool->data = NULL;

    test_check_empty(z);
}


static void
test_shmtx_contention(void **state)
{
    test_zone_t        *z = *state;
    int                 status;
    pid_t               pids[TEST_PROCS];
    sl_uint_t           i, k;
    sl_shmtx_t         *mtx;
    volatile uint64_t  *counter;

    mtx = sl_slab_alloc(z->pool, sizeof(sl_shmtx_t));
    counter = sl_slab_calloc(z->pool, sizeof(uint64_t));
    assert_non_null(mtx);
    assert_non_null((void *) counter);

    assert_int_equal(sl_shmtx_create(mtx), SL_OK);

    for (i = 0; i < TEST_PROCS; i++) {
        pids[i] = fork();
        assert_true(pids[i] != -1);

        if (pids[i] == 0) {
            for (k = 0; k < TEST_LOCKS; k++) {
                if (sl_shmtx_lock(mtx) != SL_OK) {
                    _exit(1);
                }

                /* a non-atomic read-modify-write, safe only if locked */
                *counter = *counter + 1;

                sl_shmtx_unlock(mtx);
            }

            _exit(0);
        }
    }

    for (i = 0; i < TEST_PROCS; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    assert_int_equal(*counter, TEST_PROCS * TEST_LOCKS);

    sl_shmtx_destroy(mtx);
    sl_slab_free(z->pool, mtx);
    sl_slab_free(z->pool, (void *) counter);

    test_check_empty(z);
}


static void
test_shmtx_owner_dies(void **state)
{
    test_zone_t  *z = *state;
    int           status;
    pid_t         pid;
    sl_shmtx_t   *mtx;

    mtx = sl_slab_alloc(z->pool, sizeof(sl_shmtx_t));
    assert_non_null(mtx);
    assert_int_equal(sl_shmtx_create(mtx), SL_OK);

    /* ours: trylock from here is busy */
    assert_int_equal(sl_shmtx_lock(mtx), SL_OK);
    assert_int_equal(sl_shmtx_trylock(mtx), SL_BUSY);
    sl_shmtx_unlock(mtx);

    assert_int_equal(sl_shmtx_trylock(mtx), SL_OK);
    sl_shmtx_unlock(mtx);

    /* a holder killed with the lock held */

    pid = fork();
    assert_true(pid != -1);

    if (pid == 0) {
        (void) sl_shmtx_lock(mtx);
        raise(SIGKILL);
        _exit(1);
    }

    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));

    assert_int_equal(sl_shmtx_lock(mtx), SL_SHMTX_RECOVERED);
    sl_shmtx_unlock(mtx);

    /* repaired: an ordinary lock from now on */
    assert_int_equal(sl_shmtx_lock(mtx), SL_OK);
    sl_shmtx_unlock(mtx);

    /* the same through trylock */

    pid = fork();
    assert_true(pid != -1);

    if (pid == 0) {
        (void) sl_shmtx_lock(mtx);
        _exit(0);
    }

    assert_int_equal(waitpid(pid, &status, 0), pid);

    assert_int_equal(sl_shmtx_trylock(mtx), SL_SHMTX_RECOVERED);
    sl_shmtx_unlock(mtx);
    assert_int_equal(sl_shmtx_trylock(mtx), SL_OK);
    sl_shmtx_unlock(mtx);

    sl_shmtx_destroy(mtx);
    sl_slab_free(z->pool, mtx);

    test_check_empty(z);
}


static void
test_slab_small_zone(void **state)
{
    u_char           *p;
    sl_shm_t          shm;
    sl_slab_pool_t   *pool;

    /* a zone too small for any page gives NULL, not a crash */

    shm.size = 4096;
    shm.name.len = 0;
    shm.name.data = NULL;
    shm.log = NULL;

    assert_int_equal(sl_shm_alloc(&shm), SL_OK);

    pool = (sl_slab_pool_t *) shm.addr;
    pool->end = shm.addr + shm.size;
    pool->min_shift = 3;
    pool->addr = shm.addr;
    assert_int_equal(sl_shmtx_create(&pool->mutex), SL_OK);

    sl_slab_init(pool);
    pool->log_nomem = 0;

    assert_int_equal(pool->pfree, 0);
    assert_null(sl_slab_alloc(pool, 8));
    assert_null(sl_slab_alloc(pool, 10000));

    /* smaller still, not a page multiple: the aligned start is past end */

    pool->end = shm.addr + 3000;
    sl_slab_init(pool);
    pool->log_nomem = 0;

    assert_int_equal(pool->pfree, 0);
    assert_ptr_equal(pool->last, pool->pages);
    assert_null(sl_slab_alloc(pool, 8));
    assert_null(sl_slab_alloc(pool, 3000));

    sl_shm_free(&shm);
    assert_null(shm.addr);

    /* two pages' worth */

    shm.size = 4 * 4096;
    assert_int_equal(sl_shm_alloc(&shm), SL_OK);

    pool = (sl_slab_pool_t *) shm.addr;
    pool->end = shm.addr + shm.size;
    pool->min_shift = 3;
    pool->addr = shm.addr;
    assert_int_equal(sl_shmtx_create(&pool->mutex), SL_OK);

    sl_slab_init(pool);
    pool->log_nomem = 0;

    assert_true(pool->pfree >= 1);

    p = sl_slab_alloc(pool, 8);
    assert_non_null(p);
    sl_slab_free(pool, p);

    sl_shm_free(&shm);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_slab_random,
                                        test_zone_setup,
                                        test_zone_teardown),
        cmocka_unit_test_setup_teardown(test_slab_exhaust,
                                        test_zone_setup,
                                        test_zone_teardown),
        cmocka_unit_test_setup_teardown(test_slab_bad_free,
                                        test_zone_setup,
                                        test_zone_teardown),
        cmocka_unit_test_setup_teardown(test_slab_processes,
                                        test_zone_setup,
                                        test_zone_teardown),
        cmocka_unit_test_setup_teardown(test_shmtx_contention,
                                        test_zone_setup,
                                        test_zone_teardown),
        cmocka_unit_test_setup_teardown(test_shmtx_owner_dies,
                                        test_zone_setup,
                                        test_zone_teardown),
        cmocka_unit_test(test_slab_small_zone),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
