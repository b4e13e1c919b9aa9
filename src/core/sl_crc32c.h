
/*
 * CRC-32C (Castagnoli), the checksum of Kafka record batches (magic 2);
 * SSE4.2 when the CPU has it, a slicing table otherwise.
 */

#ifndef _SL_CRC32C_H_INCLUDED_
#define _SL_CRC32C_H_INCLUDED_


#include <sl_config.h>


void sl_crc32c_init(void);
/* crc of the previous call (0 to start); the result is final */
uint32_t sl_crc32c_update(uint32_t crc, const u_char *p, size_t len);
#define sl_crc32c(p, len)  sl_crc32c_update(0, p, len)
/* the table version, whatever the CPU (tests compare the two) */
uint32_t sl_crc32c_sw(uint32_t crc, const u_char *p, size_t len);


#endif /* _SL_CRC32C_H_INCLUDED_ */
