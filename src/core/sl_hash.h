
/*
 * Hashing: a fast string hash for lookup tables built at configuration
 * time (mime types, topic names) and sl_hash_find over them.
 */

#ifndef _SL_HASH_H_INCLUDED_
#define _SL_HASH_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


typedef struct {
    sl_str_t     key;
    void        *value;
} sl_hash_elt_t;


typedef struct {
    sl_hash_elt_t  **buckets;     /* each a NULL-key terminated run */
    sl_uint_t        size;
} sl_hash_t;


/* FNV-1a 32; sl_hash_key_lc lowercases as it hashes */
uint32_t sl_hash_key(u_char *data, size_t len);
uint32_t sl_hash_key_lc(u_char *data, size_t len);

/* builds from an array of sl_hash_elt_t; keys compared case-insensitively
 * when lowcase is set (then lookups must pass lowercase keys) */
sl_int_t sl_hash_init(sl_hash_t *hash, sl_pool_t *pool, sl_array_t *elts,
    sl_uint_t lowcase);
void *sl_hash_find(sl_hash_t *hash, u_char *name, size_t len);


#endif /* _SL_HASH_H_INCLUDED_ */
