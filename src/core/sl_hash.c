
/*
 * Read-only hash tables built once at configuration time.  Each bucket
 * is a contiguous run of elements ended by one with a NULL key, so a
 * lookup touches one pointer and then walks adjacent memory.
 */


#include <sl_config.h>
#include <sl_core.h>


#define SL_HASH_FNV_OFFSET  2166136261u
#define SL_HASH_FNV_PRIME   16777619u


uint32_t
sl_hash_key(u_char *data, size_t len)
{
    size_t    i;
    uint32_t  key;

    key = SL_HASH_FNV_OFFSET;

    for (i = 0; i < len; i++) {
        key ^= data[i];
        key *= SL_HASH_FNV_PRIME;
    }

    return key;
}


uint32_t
sl_hash_key_lc(u_char *data, size_t len)
{
    size_t    i;
    uint32_t  key;

    key = SL_HASH_FNV_OFFSET;

    for (i = 0; i < len; i++) {
        key ^= sl_tolower(data[i]);
        key *= SL_HASH_FNV_PRIME;
    }

    return key;
}


/*
 * The table has at least twice as many buckets as keys (a power of two),
 * so runs stay short.  Of duplicate keys the first one wins.
 */

sl_int_t
sl_hash_init(sl_hash_t *hash, sl_pool_t *pool, sl_array_t *elts,
    sl_uint_t lowcase)
{
    u_char          *data;
    uint32_t         key;
    sl_uint_t        i, j, n, size, *counts, *keys;
    sl_hash_elt_t   *elt, *src, *run;

    src = elts->elts;
    n = elts->nelts;

    for (size = 1; size < 2 * n; size <<= 1) { /* void */ }

    hash->size = size;

    hash->buckets = sl_pcalloc(pool, size * sizeof(sl_hash_elt_t *));
    if (hash->buckets == NULL) {
        return SL_ERROR;
    }

    counts = sl_alloc(size * sizeof(sl_uint_t) + n * sizeof(sl_uint_t),
                      pool->log);
    if (counts == NULL) {
        return SL_ERROR;
    }

    keys = counts + size;

    sl_memzero(counts, size * sizeof(sl_uint_t));

    for (i = 0; i < n; i++) {
        if (src[i].key.data == NULL) {
            sl_free(counts);
            return SL_ERROR;
        }

        key = lowcase ? sl_hash_key_lc(src[i].key.data, src[i].key.len)
                      : sl_hash_key(src[i].key.data, src[i].key.len);
        keys[i] = key & (size - 1);
        counts[keys[i]]++;
    }

    for (i = 0; i < size; i++) {
        if (counts[i] == 0) {
            continue;
        }

        run = sl_pcalloc(pool, (counts[i] + 1) * sizeof(sl_hash_elt_t));
        if (run == NULL) {
            sl_free(counts);
            return SL_ERROR;
        }

        hash->buckets[i] = run;
    }

    for (i = 0; i < n; i++) {

        data = src[i].key.data;

        if (lowcase) {
            data = sl_pnalloc(pool, src[i].key.len);
            if (data == NULL) {
                sl_free(counts);
                return SL_ERROR;
            }

            sl_strlow(data, src[i].key.data, src[i].key.len);
        }

        run = hash->buckets[keys[i]];

        for (j = 0; run[j].key.data; j++) {
            elt = &run[j];

            if (elt->key.len == src[i].key.len
                && sl_memcmp(elt->key.data, data, elt->key.len) == 0)
            {
                break;
            }
        }

        if (run[j].key.data) {
            continue;
        }

        run[j].key.len = src[i].key.len;
        run[j].key.data = data;
        run[j].value = src[i].value;
    }

    sl_free(counts);

    return SL_OK;
}


void *
sl_hash_find(sl_hash_t *hash, u_char *name, size_t len)
{
    sl_hash_elt_t  *elt;

    if (hash->size == 0 || hash->buckets == NULL) {
        return NULL;
    }

    elt = hash->buckets[sl_hash_key(name, len) & (hash->size - 1)];

    if (elt == NULL) {
        return NULL;
    }

    for ( /* void */ ; elt->key.data; elt++) {
        if (elt->key.len == len && sl_memcmp(elt->key.data, name, len) == 0) {
            return elt->value;
        }
    }

    return NULL;
}
