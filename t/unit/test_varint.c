
/*
 * Varints: Kafka's encodings of known values, round trips at every
 * boundary, and the malformed inputs a reader must refuse (truncated,
 * too long, bits beyond the type).
 */


#include <sl_config.h>
#include <sl_core.h>

#include <setjmp.h>
#include <cmocka.h>


static void
test_varint_known(void **state)
{
    u_char    buf[SL_VARINT_MAX64], *p;
    int32_t   s32;
    int64_t   s64;
    uint32_t  u32;

    p = sl_varint_write_u32(buf, 0);
    assert_int_equal(p - buf, 1);
    assert_int_equal(buf[0], 0);

    p = sl_varint_write_u32(buf, 300);
    assert_int_equal(p - buf, 2);
    assert_memory_equal(buf, "\xac\x02", 2);

    p = sl_varint_write_u32(buf, UINT32_MAX);
    assert_int_equal(p - buf, 5);
    assert_memory_equal(buf, "\xff\xff\xff\xff\x0f", 5);

    /* zigzag: 0, -1, 1, -2, 2 ... */
    p = sl_varint_write_s32(buf, -1);
    assert_int_equal(buf[0], 1);
    p = sl_varint_write_s32(buf, 1);
    assert_int_equal(buf[0], 2);
    p = sl_varint_write_s32(buf, -2);
    assert_int_equal(buf[0], 3);
    p = sl_varint_write_s32(buf, -64);
    assert_int_equal(p - buf, 1);
    assert_int_equal(buf[0], 127);
    p = sl_varint_write_s32(buf, 64);
    assert_int_equal(p - buf, 2);
    assert_memory_equal(buf, "\x80\x01", 2);

    p = sl_varint_write_s32(buf, INT32_MIN);
    assert_memory_equal(buf, "\xff\xff\xff\xff\x0f", 5);
    assert_ptr_equal(sl_varint_read_s32(buf, p, &s32), p);
    assert_int_equal(s32, INT32_MIN);

    p = sl_varint_write_s64(buf, INT64_MIN);
    assert_int_equal(p - buf, 10);
    assert_ptr_equal(sl_varint_read_s64(buf, p, &s64), p);
    assert_true(s64 == INT64_MIN);

    memcpy(buf, "\xac\x02", 2);
    assert_ptr_equal(sl_varint_read_u32(buf, buf + 2, &u32), buf + 2);
    assert_int_equal(u32, 300);
}


static void
test_varint_roundtrip(void **state)
{
    static const int64_t  values[] = {
        0, 1, -1, 63, 64, -64, -65, 127, 128, 8191, 8192, -8193,
        1048575, 1048576, 134217727, 134217728, INT32_MAX, INT32_MIN,
        (int64_t) INT32_MAX + 1, (int64_t) INT32_MIN - 1,
        34359738367LL, 4398046511103LL, 562949953421311LL,
        72057594037927935LL, INT64_MAX, INT64_MIN, INT64_MIN + 1
    };

    u_char     buf[SL_VARINT_MAX64], *p, *q;
    int32_t    s32;
    int64_t    s64;
    uint32_t   u32;
    uint64_t   u64;
    sl_uint_t  i, shift;

    for (i = 0; i < sl_nelems(values); i++) {
        p = sl_varint_write_s64(buf, values[i]);
        assert_int_equal((size_t) (p - buf), sl_varint_size_s64(values[i]));

        q = sl_varint_read_s64(buf, p, &s64);
        assert_ptr_equal(q, p);
        assert_true(s64 == values[i]);

        /* one byte short */
        assert_null(sl_varint_read_s64(buf, p - 1, &s64));

        if (values[i] >= INT32_MIN && values[i] <= INT32_MAX) {
            p = sl_varint_write_s32(buf, (int32_t) values[i]);
            q = sl_varint_read_s32(buf, p, &s32);
            assert_ptr_equal(q, p);
            assert_int_equal(s32, (int32_t) values[i]);
        }
    }

    for (shift = 0; shift < 64; shift++) {
        u64 = (uint64_t) 1 << shift;

        p = sl_varint_write_u64(buf, u64);
        assert_int_equal((size_t) (p - buf), sl_varint_size_u64(u64));
        assert_int_equal((size_t) (p - buf), shift / 7 + 1);
        q = sl_varint_read_u64(buf, p, &u64);
        assert_ptr_equal(q, p);
        assert_true(u64 == (uint64_t) 1 << shift);

        u64 = ((uint64_t) 1 << shift) - 1;
        p = sl_varint_write_u64(buf, u64);
        q = sl_varint_read_u64(buf, p, &u64);
        assert_ptr_equal(q, p);
        assert_true(u64 == ((uint64_t) 1 << shift) - 1);

        if (shift < 32) {
            u32 = (uint32_t) 1 << shift;
            p = sl_varint_write_u32(buf, u32);
            q = sl_varint_read_u32(buf, p, &u32);
            assert_ptr_equal(q, p);
            assert_int_equal(u32, (uint32_t) 1 << shift);
        }
    }

    p = sl_varint_write_u64(buf, UINT64_MAX);
    assert_int_equal(p - buf, 10);
    assert_int_equal(sl_varint_size_u64(UINT64_MAX), 10);
    q = sl_varint_read_u64(buf, p, &u64);
    assert_ptr_equal(q, p);
    assert_true(u64 == UINT64_MAX);
}


static void
test_varint_malformed(void **state)
{
    u_char    buf[16];
    int64_t   s64;
    uint32_t  u32;
    uint64_t  u64;

    /* empty */
    assert_null(sl_varint_read_u32(buf, buf, &u32));
    assert_null(sl_varint_read_u64(buf, buf, &u64));

    /* continuation bit on the last byte available */
    memcpy(buf, "\x80\x80", 2);
    assert_null(sl_varint_read_u32(buf, buf + 2, &u32));

    /* more than 5 bytes for 32 bits */
    memcpy(buf, "\x80\x80\x80\x80\x80\x01", 6);
    assert_null(sl_varint_read_u32(buf, buf + 6, &u32));

    /* bits beyond 32 in the fifth byte */
    memcpy(buf, "\xff\xff\xff\xff\x1f", 5);
    assert_null(sl_varint_read_u32(buf, buf + 5, &u32));

    /* more than 10 bytes for 64 bits */
    memset(buf, 0x80, 10);
    buf[10] = 0;
    assert_null(sl_varint_read_u64(buf, buf + 11, &u64));
    assert_null(sl_varint_read_s64(buf, buf + 11, &s64));

    /* bits beyond 64 in the tenth byte */
    memset(buf, 0xff, 9);
    buf[9] = 0x02;
    assert_null(sl_varint_read_u64(buf, buf + 10, &u64));

    /* a read stops at the value, not at last */
    memcpy(buf, "\x05\x06", 2);
    assert_ptr_equal(sl_varint_read_u32(buf, buf + 2, &u32), buf + 1);
    assert_int_equal(u32, 5);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_varint_known),
        cmocka_unit_test(test_varint_roundtrip),
        cmocka_unit_test(test_varint_malformed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
