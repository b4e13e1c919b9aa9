
/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), the checksum of
 * Kafka record batches.  The CPU's crc32 instruction when it has SSE4.2,
 * slicing-by-8 tables otherwise; sl_crc32c_init() picks once.
 */


#include <sl_config.h>
#include <sl_core.h>

#if (defined(__x86_64__))
#include <nmmintrin.h>
#define SL_CRC32C_HW  1
#else
#define SL_CRC32C_HW  0
#endif


#define SL_CRC32C_POLY  0x82f63b78


typedef uint32_t (*sl_crc32c_pt)(uint32_t crc, const u_char *p, size_t len);


#if (SL_CRC32C_HW)
static uint32_t sl_crc32c_hw(uint32_t crc, const u_char *p, size_t len);
#endif


static uint32_t      sl_crc32c_table[8][256];
static sl_crc32c_pt  sl_crc32c_handler;


void
sl_crc32c_init(void)
{
    uint32_t   crc;
    sl_uint_t  i, j;

    for (i = 0; i < 256; i++) {
        crc = (uint32_t) i;

        for (j = 0; j < 8; j++) {
            crc = (crc & 1) ? (crc >> 1) ^ SL_CRC32C_POLY : crc >> 1;
        }

        sl_crc32c_table[0][i] = crc;
    }

    for (i = 0; i < 256; i++) {
        crc = sl_crc32c_table[0][i];

        for (j = 1; j < 8; j++) {
            crc = sl_crc32c_table[0][crc & 0xff] ^ (crc >> 8);
            sl_crc32c_table[j][i] = crc;
        }
    }

    sl_crc32c_handler = sl_crc32c_sw;

#if (SL_CRC32C_HW)
    __builtin_cpu_init();

    if (__builtin_cpu_supports("sse4.2")) {
        sl_crc32c_handler = sl_crc32c_hw;
    }
#endif
}


uint32_t
sl_crc32c_update(uint32_t crc, const u_char *p, size_t len)
{
    if (sl_crc32c_handler == NULL) {
        sl_crc32c_init();
    }

    return sl_crc32c_handler(crc, p, len);
}


uint32_t
sl_crc32c_sw(uint32_t crc, const u_char *p, size_t len)
{
    uint32_t  lo, hi;

    if (sl_crc32c_handler == NULL) {
        sl_crc32c_init();
    }

    crc = ~crc;

    while (len && ((uintptr_t) p & 7)) {
        crc = sl_crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        len--;
    }

    while (len >= 8) {
        /* little-endian loads, byte by byte to stay portable */
        lo = crc ^ ((uint32_t) p[0] | (uint32_t) p[1] << 8
                    | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24);
        hi = (uint32_t) p[4] | (uint32_t) p[5] << 8
             | (uint32_t) p[6] << 16 | (uint32_t) p[7] << 24;

        crc = sl_crc32c_table[7][lo & 0xff]
              ^ sl_crc32c_table[6][(lo >> 8) & 0xff]
              ^ sl_crc32c_table[5][(lo >> 16) & 0xff]
              ^ sl_crc32c_table[4][lo >> 24]
              ^ sl_crc32c_table[3][hi & 0xff]
              ^ sl_crc32c_table[2][(hi >> 8) & 0xff]
              ^ sl_crc32c_table[1][(hi >> 16) & 0xff]
              ^ sl_crc32c_table[0][hi >> 24];

        p += 8;
        len -= 8;
    }

    while (len--) {
        crc = sl_crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }

    return ~crc;
}


#if (SL_CRC32C_HW)

__attribute__((target("sse4.2")))
static uint32_t
sl_crc32c_hw(uint32_t crc, const u_char *p, size_t len)
{
    uint64_t  c, v;

    c = (uint32_t) ~crc;

    while (len && ((uintptr_t) p & 7)) {
        c = _mm_crc32_u8((uint32_t) c, *p++);
        len--;
    }

    while (len >= 8) {
        sl_memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        len -= 8;
    }

    while (len--) {
        c = _mm_crc32_u8((uint32_t) c, *p++);
    }

    return ~((uint32_t) c);
}

#endif
