
/*
 * CRC-32C: the published check values, and both the implementation
 * sl_crc32c_init() picked (the instruction on most machines) and the
 * table one against a bit-at-a-time reference for every length,
 * alignment and split.
 */


#include <sl_config.h>
#include <sl_core.h>

#include <setjmp.h>
#include <cmocka.h>


static uint32_t
test_crc32c_ref(uint32_t crc, const u_char *p, size_t len)
{
    sl_uint_t  k;

    crc = ~crc;

    while (len--) {
        crc ^= *p++;

        for (k = 0; k < 8; k++) {
            crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78 : crc >> 1;
        }
    }

    return ~crc;
}


static void
test_crc32c_vectors(void **state)
{
    u_char     buf[32];
    sl_uint_t  i;

    sl_crc32c_init();

    assert_int_equal(sl_crc32c((u_char *) "123456789", 9), 0xe3069283);
    assert_int_equal(sl_crc32c_sw(0, (u_char *) "123456789", 9), 0xe3069283);
    assert_int_equal(sl_crc32c((u_char *) "", 0), 0);
    assert_int_equal(sl_crc32c((u_char *) "a", 1), 0xc1d04330);

    /* RFC 3720, B.4 */
    memset(buf, 0, sizeof(buf));
    assert_int_equal(sl_crc32c(buf, 32), 0x8a9136aa);

    memset(buf, 0xff, sizeof(buf));
    assert_int_equal(sl_crc32c(buf, 32), 0x62a8ab43);

    for (i = 0; i < 32; i++) {
        buf[i] = (u_char) i;
    }

    assert_int_equal(sl_crc32c(buf, 32), 0x46dd794e);

    for (i = 0; i < 32; i++) {
        buf[i] = (u_char) (31 - i);
    }

    assert_int_equal(sl_crc32c(buf, 32), 0x113fdb5c);
}


static void
test_crc32c_random(void **state)
{
    u_char     *buf;
    uint32_t    crc, ref;
    sl_uint_t   i, off, len, split;

    buf = malloc(4096 + 16);
    assert_non_null(buf);

    srand(7);

    for (i = 0; i < 4096 + 16; i++) {
        buf[i] = (u_char) rand();
    }

    for (len = 0; len < 300; len++) {
        for (off = 0; off < 8; off++) {
            ref = test_crc32c_ref(0, buf + off, len);

            assert_int_equal(sl_crc32c(buf + off, len), ref);
            assert_int_equal(sl_crc32c_sw(0, buf + off, len), ref);

            /* continued over any split */
            split = (len * 7 + off) % (len + 1);
            crc = sl_crc32c_update(0, buf + off, split);
            crc = sl_crc32c_update(crc, buf + off + split, len - split);
            assert_int_equal(crc, ref);

            crc = sl_crc32c_sw(0, buf + off, split);
            crc = sl_crc32c_sw(crc, buf + off + split, len - split);
            assert_int_equal(crc, ref);
        }
    }

    assert_int_equal(sl_crc32c(buf + 3, 4096),
                     test_crc32c_ref(0, buf + 3, 4096));

    free(buf);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_crc32c_vectors),
        cmocka_unit_test(test_crc32c_random),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
