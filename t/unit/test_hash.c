
/*
 * Configuration-time hash tables: lookups of every key, misses, the
 * case-insensitive build, duplicates, and an empty table.
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


static void
test_hash_key(void **state)
{
    /* FNV-1a 32 reference values */
    assert_int_equal(sl_hash_key((u_char *) "", 0), 0x811c9dc5);
    assert_int_equal(sl_hash_key((u_char *) "a", 1), 0xe40c292c);
    assert_int_equal(sl_hash_key((u_char *) "foobar", 6), 0xbf9cf968);

    assert_int_equal(sl_hash_key_lc((u_char *) "FooBar", 6),
                     sl_hash_key((u_char *) "foobar", 6));
}


static void
test_hash_many(void **state)
{
    char            *keys;
    sl_uint_t        i, n;
    sl_hash_t        hash;
    sl_pool_t       *pool;
    sl_array_t      *elts;
    sl_hash_elt_t   *elt;

    pool = sl_create_pool(4096, NULL);
    assert_non_null(pool);

    n = 3000;

    elts = sl_array_create(pool, 16, sizeof(sl_hash_elt_t));
    assert_non_null(elts);

    keys = sl_palloc(pool, n * 16);
    assert_non_null(keys);

    for (i = 0; i < n; i++) {
        elt = sl_array_push(elts);
        assert_non_null(elt);

        elt->key.len = snprintf(keys + i * 16, 16, "topic-%lu",
                                (unsigned long) i);
        elt->key.data = (u_char *) keys + i * 16;
        elt->value = (void *) (uintptr_t) (i + 1);
    }

    assert_int_equal(sl_hash_init(&hash, pool, elts, 0), SL_OK);
    assert_true(hash.size >= 2 * n);
    assert_int_equal(hash.size & (hash.size - 1), 0);

    for (i = 0; i < n; i++) {
        assert_int_equal((uintptr_t) sl_hash_find(&hash,
                                                  (u_char *) keys + i * 16,
                                                  strlen(keys + i * 16)),
                         i + 1);
    }

    assert_null(sl_hash_find(&hash, (u_char *) "topic-3000", 10));
    assert_null(sl_hash_find(&hash, (u_char *) "topic-1", 6));
    assert_null(sl_hash_find(&hash, (u_char *) "", 0));

    sl_destroy_pool(pool);
}


static void
test_hash_lowcase(void **state)
{
    static char     *ext[] = { "HTML", "css", "Js", "html", "PNG" };
    static char     *type[] = { "text/html", "text/css", "app/js",
                                "second", "image/png" };

    char             name[8];
    sl_uint_t        i;
    sl_hash_t        hash;
    sl_pool_t       *pool;
    sl_array_t      *elts;
    sl_hash_elt_t   *elt;

    pool = sl_create_pool(1024, NULL);
    assert_non_null(pool);

    elts = sl_array_create(pool, 4, sizeof(sl_hash_elt_t));
    assert_non_null(elts);

    for (i = 0; i < sl_nelems(ext); i++) {
        elt = sl_array_push(elts);
        elt->key.len = strlen(ext[i]);
        elt->key.data = (u_char *) ext[i];
        elt->value = type[i];
    }

    assert_int_equal(sl_hash_init(&hash, pool, elts, 1), SL_OK);

    /* the first of duplicate keys wins */
    assert_string_equal(sl_hash_find(&hash, (u_char *) "html", 4),
                        "text/html");
    assert_string_equal(sl_hash_find(&hash, (u_char *) "js", 2), "app/js");
    assert_string_equal(sl_hash_find(&hash, (u_char *) "png", 3),
                        "image/png");

    /* the caller lowercases keys it looks up */
    assert_null(sl_hash_find(&hash, (u_char *) "HTML", 4));

    sl_strlow((u_char *) name, (u_char *) "CSS", 4);
    assert_string_equal(sl_hash_find(&hash, (u_char *) name, 3), "text/css");

    /* the source keys were not modified */
    assert_string_equal(ext[0], "HTML");

    sl_destroy_pool(pool);
}


static void
test_hash_empty(void **state)
{
    sl_hash_t    hash;
    sl_pool_t   *pool;
    sl_array_t  *elts;

    pool = sl_create_pool(1024, NULL);
    assert_non_null(pool);

    elts = sl_array_create(pool, 1, sizeof(sl_hash_elt_t));
    assert_non_null(elts);

    assert_int_equal(sl_hash_init(&hash, pool, elts, 0), SL_OK);
    assert_null(sl_hash_find(&hash, (u_char *) "x", 1));

    sl_memzero(&hash, sizeof(sl_hash_t));
    assert_null(sl_hash_find(&hash, (u_char *) "x", 1));

    sl_destroy_pool(pool);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_hash_key),
        cmocka_unit_test(test_hash_many),
        cmocka_unit_test(test_hash_lowcase),
        cmocka_unit_test(test_hash_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
