
/*
 * Shared dictionaries: "lua_shared_dict NAME SIZE;" makes a shared
 * memory zone that every worker sees as sl.shared.NAME, with get, set,
 * add, incr, delete and flush_all, safe across workers under the zone's
 * lock.  Inside the zone: the slab allocator, a red-black tree keyed by
 * a hash of the key (ties broken by the key itself) and an LRU queue;
 * when memory runs out, set and incr evict the least recently used
 * entries.  Values are strings, numbers and booleans; an entry may
 * expire (exptime in seconds).
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_lua.h>


#define SL_LUA_SHDICT_MIN_SIZE    (8 * 4096)
#define SL_LUA_SHDICT_MAX_KEY     65535
#define SL_LUA_SHDICT_EVICT       30


typedef struct {
    sl_rbtree_node_t         node;       /* key: hash of the key */
    sl_queue_t               queue;      /* LRU: most recent first */
    sl_msec_t                expires;    /* 0: never */
    uint32_t                 value_len;
    uint16_t                 key_len;
    u_char                   type;       /* LUA_TSTRING, _TNUMBER, ... */
    u_char                   data[1];    /* the key, then the value */
} sl_lua_shdict_node_t;


typedef struct {
    sl_rbtree_t              rbtree;
    sl_rbtree_node_t         sentinel;
    sl_queue_t               lru;
} sl_lua_shdict_sh_t;


typedef struct {
    sl_str_t                 name;
    sl_lua_shdict_sh_t      *sh;
    sl_slab_pool_t          *shpool;
    sl_log_t                *log;
} sl_lua_shdict_ctx_t;


static sl_int_t sl_lua_shdict_init_zone(sl_shm_zone_t *zone, void *data);
static sl_int_t sl_lua_shdict_init_sh(sl_lua_shdict_ctx_t *ctx);
static void sl_lua_shdict_insert_value(sl_rbtree_node_t *temp,
    sl_rbtree_node_t *node, sl_rbtree_node_t *sentinel);
static sl_lua_shdict_node_t *sl_lua_shdict_lookup(sl_lua_shdict_ctx_t *ctx,
    uint32_t hash, u_char *key, size_t len);
static void sl_lua_shdict_free(sl_lua_shdict_ctx_t *ctx,
    sl_lua_shdict_node_t *sn);
static sl_lua_shdict_node_t *sl_lua_shdict_alloc(sl_lua_shdict_ctx_t *ctx,
    size_t size);
static void sl_lua_shdict_lock(sl_lua_shdict_ctx_t *ctx);

static sl_lua_shdict_ctx_t *sl_lua_shdict_check(lua_State *L, u_char **key,
    size_t *len, uint32_t *hash);
static int sl_lua_shdict_get(lua_State *L);
static int sl_lua_shdict_set(lua_State *L);
static int sl_lua_shdict_add(lua_State *L);
static int sl_lua_shdict_store(lua_State *L, sl_uint_t add);
static int sl_lua_shdict_incr(lua_State *L);
static int sl_lua_shdict_delete(lua_State *L);
static int sl_lua_shdict_flush_all(lua_State *L);


char *
sl_lua_shared_dict(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_lua_main_conf_t *lmcf = conf;

    ssize_t               size;
    sl_str_t             *value, name;
    lua_State            *L;
    sl_shm_zone_t        *zone, **zp;
    sl_lua_shdict_ctx_t  *ctx;

    value = cf->args->elts;

    size = sl_parse_size(&value[2]);

    if (size == SL_ERROR || size < SL_LUA_SHDICT_MIN_SIZE) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "invalid size \"%.*s\" of lua_shared_dict "
                          "\"%.*s\", at least 32k",
                          SL_STR_ARG(&value[2]), SL_STR_ARG(&value[1]));
        return SL_CONF_ERROR;
    }

    ctx = sl_pcalloc(cf->pool, sizeof(sl_lua_shdict_ctx_t));
    if (ctx == NULL) {
        return SL_CONF_ERROR;
    }

    ctx->name = value[1];
    ctx->log = cf->cycle->log;

    /* a zone name of its own, so that no other module's clashes */

    name.len = sizeof("lua:") - 1 + value[1].len;
    name.data = sl_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return SL_CONF_ERROR;
    }

    sl_memcpy(name.data, "lua:", sizeof("lua:") - 1);
    sl_memcpy(name.data + sizeof("lua:") - 1, value[1].data, value[1].len);

    zone = sl_shared_memory_add(cf, &name, size, &sl_lua_module);
    if (zone == NULL) {
        return SL_CONF_ERROR;
    }

    if (zone->data) {
        return "is duplicate";
    }

    zone->init = sl_lua_shdict_init_zone;
    zone->data = ctx;

    zp = sl_array_push(&lmcf->dicts);
    if (zp == NULL) {
        return SL_CONF_ERROR;
    }

    *zp = zone;

    /* sl.shared.NAME = setmetatable({ctx}, {__index = methods}) */

    L = lmcf->vm;

    lua_getglobal(L, "sl");
    lua_getfield(L, -1, "shared");
    lua_pushlstring(L, (char *) value[1].data, value[1].len);
    lua_createtable(L, 1, 0);
    lua_pushlightuserdata(L, ctx);
    lua_rawseti(L, -2, 1);
    sl_lua_shdict_api(L, lmcf);
    lua_setmetatable(L, -2);
    lua_rawset(L, -3);
    lua_pop(L, 2);

    return SL_CONF_OK;
}


/* pushes the metatable shared by every dictionary */

void
sl_lua_shdict_api(lua_State *L, sl_lua_main_conf_t *lmcf)
{
    static const luaL_Reg  methods[] = {
        { "get", sl_lua_shdict_get },
        { "set", sl_lua_shdict_set },
        { "add", sl_lua_shdict_add },
        { "incr", sl_lua_shdict_incr },
        { "delete", sl_lua_shdict_delete },
        { "flush_all", sl_lua_shdict_flush_all },
        { NULL, NULL }
    };

    const luaL_Reg  *m;

    if (luaL_newmetatable(L, "sl.shared") == 0) {
        return;
    }

    lua_createtable(L, 0, 8);

    for (m = methods; m->name; m++) {
        lua_pushcfunction(L, m->func);
        lua_setfield(L, -2, m->name);
    }

    lua_setfield(L, -2, "__index");
}


static sl_int_t
sl_lua_shdict_init_zone(sl_shm_zone_t *zone, void *data)
{
    sl_lua_shdict_ctx_t  *octx = data;

    sl_lua_shdict_ctx_t  *ctx;

    ctx = zone->data;

    if (octx) {
        /* a reload with the same size keeps the entries */
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;
        return SL_OK;
    }

    ctx->shpool = (sl_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        ctx->sh = ctx->shpool->data;
        return SL_OK;
    }

    return sl_lua_shdict_init_sh(ctx);
}


static sl_int_t
sl_lua_shdict_init_sh(sl_lua_shdict_ctx_t *ctx)
{
    ctx->sh = sl_slab_alloc_locked(ctx->shpool, sizeof(sl_lua_shdict_sh_t));
    if (ctx->sh == NULL) {
        return SL_ERROR;
    }

    ctx->shpool->data = ctx->sh;

    sl_rbtree_init(&ctx->sh->rbtree, &ctx->sh->sentinel,
                   sl_lua_shdict_insert_value);
    sl_queue_init(&ctx->sh->lru);

    ctx->shpool->log_nomem = 0;

    return SL_OK;
}


static void
sl_lua_shdict_insert_value(sl_rbtree_node_t *temp, sl_rbtree_node_t *node,
    sl_rbtree_node_t *sentinel)
{
    sl_int_t               rc;
    sl_rbtree_node_t     **p;
    sl_lua_shdict_node_t  *n, *t;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            n = (sl_lua_shdict_node_t *) node;
            t = (sl_lua_shdict_node_t *) temp;

            rc = (n->key_len == t->key_len)
                 ? sl_memcmp(n->data, t->data, n->key_len)
                 : (sl_int_t) n->key_len - (sl_int_t) t->key_len;

            p = (rc < 0) ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    sl_rbt_red(node);
}


/* under the lock; an expired entry is freed and not found */

static sl_lua_shdict_node_t *
sl_lua_shdict_lookup(sl_lua_shdict_ctx_t *ctx, uint32_t hash, u_char *key,
    size_t len)
{
    sl_int_t               rc;
    sl_rbtree_node_t      *node, *sentinel;
    sl_lua_shdict_node_t  *sn;

    node = ctx->sh->rbtree.root;
    sentinel = ctx->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        sn = (sl_lua_shdict_node_t *) node;

        rc = (len == sn->key_len)
             ? sl_memcmp(key, sn->data, len)
             : (sl_int_t) len - (sl_int_t) sn->key_len;

        if (rc == 0) {
            if (sn->expires && sn->expires <= sl_current_msec) {
                sl_lua_shdict_free(ctx, sn);
                return NULL;
            }

            sl_queue_remove(&sn->queue);
            sl_queue_insert_head(&ctx->sh->lru, &sn->queue);

            return sn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
sl_lua_shdict_free(sl_lua_shdict_ctx_t *ctx, sl_lua_shdict_node_t *sn)
{
    sl_queue_remove(&sn->queue);
    sl_rbtree_delete(&ctx->sh->rbtree, &sn->node);
    sl_slab_free_locked(ctx->shpool, sn);
}


/* under the lock: evicts the least recently used entries if needed */

static sl_lua_shdict_node_t *
sl_lua_shdict_alloc(sl_lua_shdict_ctx_t *ctx, size_t size)
{
    sl_uint_t              i;
    sl_queue_t            *q;
    sl_lua_shdict_node_t  *sn;

    for (i = 0; i <= SL_LUA_SHDICT_EVICT; i++) {

        sn = sl_slab_alloc_locked(ctx->shpool, size);
        if (sn) {
            return sn;
        }

        if (sl_queue_empty(&ctx->sh->lru)) {
            return NULL;
        }

        q = sl_queue_last(&ctx->sh->lru);
        sl_lua_shdict_free(ctx, sl_queue_data(q, sl_lua_shdict_node_t,
                                              queue));
    }

    return NULL;
}


/*
 * A worker that died holding the lock may have left the tree half
 * changed: the dictionary starts over empty rather than trust it.
 */

static void
sl_lua_shdict_lock(sl_lua_shdict_ctx_t *ctx)
{
    if (sl_shmtx_lock(&ctx->shpool->mutex) != SL_SHMTX_RECOVERED) {
        return;
    }

    sl_log_error(SL_LOG_WARN, ctx->log, 0,
                 "lua_shared_dict \"%.*s\": a worker died holding its lock, "
                 "the dictionary is emptied", SL_STR_ARG(&ctx->name));

    sl_slab_init(ctx->shpool);

    if (sl_lua_shdict_init_sh(ctx) != SL_OK) {
        sl_log_error(SL_LOG_ALERT, ctx->log, 0,
                     "lua_shared_dict \"%.*s\": cannot start over",
                     SL_STR_ARG(&ctx->name));
    }
}


/* dict:method(key, ...): the dictionary, the key and its hash */

static sl_lua_shdict_ctx_t *
sl_lua_shdict_check(lua_State *L, u_char **key, size_t *len, uint32_t *hash)
{
    sl_lua_shdict_ctx_t  *ctx;

    luaL_checktype(L, 1, LUA_TTABLE);
    lua_rawgeti(L, 1, 1);
    ctx = lua_touserdata(L, -1);
    lua_pop(L, 1);

    if (ctx == NULL) {
        luaL_error(L, "bad dictionary (call it as dict:method())");
        return NULL;
    }

    if (ctx->sh == NULL) {
        luaL_error(L, "lua_shared_dict \"%s\" is not ready yet",
                   (char *) ctx->name.data);
        return NULL;
    }

    if (key == NULL) {
        return ctx;
    }

    *key = (u_char *) luaL_checklstring(L, 2, len);

    if (*len == 0 || *len > SL_LUA_SHDICT_MAX_KEY) {
        luaL_argerror(L, 2, "empty or too long key");
        return NULL;
    }

    *hash = sl_crc32c(*key, *len);

    return ctx;
}


static int
sl_lua_shdict_get(lua_State *L)
{
    u_char                *key, *copy, buf[4096];
    size_t                 len, vlen;
    uint32_t               hash;
    lua_Number             num;
    sl_lua_shdict_ctx_t   *ctx;
    sl_lua_shdict_node_t  *sn;

    ctx = sl_lua_shdict_check(L, &key, &len, &hash);

    sl_lua_shdict_lock(ctx);

    sn = sl_lua_shdict_lookup(ctx, hash, key, len);

    if (sn == NULL) {
        sl_shmtx_unlock(&ctx->shpool->mutex);
        lua_pushnil(L);
        return 1;
    }

    switch (sn->type) {

    case LUA_TNUMBER:
        sl_memcpy(&num, sn->data + sn->key_len, sizeof(lua_Number));
        lua_pushnumber(L, num);
        break;

    case LUA_TBOOLEAN:
        lua_pushboolean(L, sn->data[sn->key_len]);
        break;

    default:
        /* copied out first: pushing may raise, never under the lock */
        vlen = sn->value_len;
        copy = (vlen <= sizeof(buf)) ? buf : sl_alloc(vlen, ctx->log);

        if (copy == NULL) {
            sl_shmtx_unlock(&ctx->shpool->mutex);
            return luaL_error(L, "out of memory");
        }

        sl_memcpy(copy, sn->data + sn->key_len, vlen);
        sl_shmtx_unlock(&ctx->shpool->mutex);

        lua_pushlstring(L, (char *) copy, vlen);

        if (copy != buf) {
            sl_free(copy);
        }

        return 1;
    }

    sl_shmtx_unlock(&ctx->shpool->mutex);

    return 1;
}


static int
sl_lua_shdict_set(lua_State *L)
{
    return sl_lua_shdict_store(L, 0);
}


static int
sl_lua_shdict_add(lua_State *L)
{
    return sl_lua_shdict_store(L, 1);
}


/* set(key, value [, exptime]) and add(); a nil value deletes */

static int
sl_lua_shdict_store(lua_State *L, sl_uint_t add)
{
    int                    type;
    u_char                *key, *val, b;
    size_t                 len, vlen;
    uint32_t               hash;
    lua_Number             num, exptime;
    sl_lua_shdict_ctx_t   *ctx;
    sl_lua_shdict_node_t  *sn;

    ctx = sl_lua_shdict_check(L, &key, &len, &hash);

    exptime = luaL_optnumber(L, 4, 0);
    if (exptime < 0) {
        return luaL_argerror(L, 4, "negative exptime");
    }

    type = lua_type(L, 3);

    switch (type) {

    case LUA_TSTRING:
        val = (u_char *) lua_tolstring(L, 3, &vlen);
        break;

    case LUA_TNUMBER:
        num = lua_tonumber(L, 3);
        val = (u_char *) &num;
        vlen = sizeof(lua_Number);
        break;

    case LUA_TBOOLEAN:
        b = (u_char) lua_toboolean(L, 3);
        val = &b;
        vlen = 1;
        break;

    case LUA_TNIL:
        val = NULL;
        vlen = 0;
        break;

    default:
        return luaL_argerror(L, 3, "a string, number, boolean or nil");
    }

    if (vlen > 0x7fffffff) {
        return luaL_argerror(L, 3, "too long");
    }

    sl_lua_shdict_lock(ctx);

    sn = sl_lua_shdict_lookup(ctx, hash, key, len);

    if (sn && add) {
        sl_shmtx_unlock(&ctx->shpool->mutex);
        lua_pushnil(L);
        lua_pushliteral(L, "exists");
        return 2;
    }

    if (sn) {
        sl_lua_shdict_free(ctx, sn);
    }

    if (type == LUA_TNIL) {
        sl_shmtx_unlock(&ctx->shpool->mutex);
        lua_pushboolean(L, 1);
        return 1;
    }

    sn = sl_lua_shdict_alloc(ctx, offsetof(sl_lua_shdict_node_t, data)
                                  + len + vlen);
    if (sn == NULL) {
        sl_shmtx_unlock(&ctx->shpool->mutex);
        lua_pushnil(L);
        lua_pushliteral(L, "no memory");
        return 2;
    }

    sn->node.key = hash;
    sn->key_len = (uint16_t) len;
    sn->value_len = (uint32_t) vlen;
    sn->type = (u_char) type;
    sn->expires = exptime > 0
                  ? sl_current_msec + (sl_msec_t) (exptime * 1000) : 0;

    sl_memcpy(sn->data, key, len);
    sl_memcpy(sn->data + len, val, vlen);

    sl_rbtree_insert(&ctx->sh->rbtree, &sn->node);
    sl_queue_insert_head(&ctx->sh->lru, &sn->queue);

    sl_shmtx_unlock(&ctx->shpool->mutex);

    lua_pushboolean(L, 1);

    return 1;
}


/* incr(key, n [, init]): the new number, or nil and "not found" */

static int
sl_lua_shdict_incr(lua_State *L)
{
    u_char                *key;
    size_t                 len;
    uint32_t               hash;
    lua_Number             num, by, init;
    sl_lua_shdict_ctx_t   *ctx;
    sl_lua_shdict_node_t  *sn;

    ctx = sl_lua_shdict_check(L, &key, &len, &hash);
    by = luaL_checknumber(L, 3);
    init = luaL_optnumber(L, 4, 0);

    sl_lua_shdict_lock(ctx);

    sn = sl_lua_shdict_lookup(ctx, hash, key, len);

    if (sn == NULL) {

        if (lua_isnoneornil(L, 4)) {
            sl_shmtx_unlock(&ctx->shpool->mutex);
            lua_pushnil(L);
            lua_pushliteral(L, "not found");
            return 2;
        }

        sn = sl_lua_shdict_alloc(ctx, offsetof(sl_lua_shdict_node_t, data)
                                      + len + sizeof(lua_Number));
        if (sn == NULL) {
            sl_shmtx_unlock(&ctx->shpool->mutex);
            lua_pushnil(L);
            lua_pushliteral(L, "no memory");
            return 2;
        }

        sn->node.key = hash;
        sn->key_len = (uint16_t) len;
        sn->value_len = sizeof(lua_Number);
        sn->type = LUA_TNUMBER;
        sn->expires = 0;
        sl_memcpy(sn->data, key, len);

        num = init + by;
        sl_memcpy(sn->data + len, &num, sizeof(lua_Number));

        sl_rbtree_insert(&ctx->sh->rbtree, &sn->node);
        sl_queue_insert_head(&ctx->sh->lru, &sn->queue);

        sl_shmtx_unlock(&ctx->shpool->mutex);

        lua_pushnumber(L, num);
        return 1;
    }

    if (sn->type != LUA_TNUMBER) {
        sl_shmtx_unlock(&ctx->shpool->mutex);
        lua_pushnil(L);
        lua_pushliteral(L, "not a number");
        return 2;
    }

    sl_memcpy(&num, sn->data + sn->key_len, sizeof(lua_Number));
    num += by;
    sl_memcpy(sn->data + sn->key_len, &num, sizeof(lua_Number));

    sl_shmtx_unlock(&ctx->shpool->mutex);

    lua_pushnumber(L, num);

    return 1;
}


static int
sl_lua_shdict_delete(lua_State *L)
{
    u_char                *key;
    size_t                 len;
    uint32_t               hash;
    sl_lua_shdict_ctx_t   *ctx;
    sl_lua_shdict_node_t  *sn;

    ctx = sl_lua_shdict_check(L, &key, &len, &hash);

    sl_lua_shdict_lock(ctx);

    sn = sl_lua_shdict_lookup(ctx, hash, key, len);
    if (sn) {
        sl_lua_shdict_free(ctx, sn);
    }

    sl_shmtx_unlock(&ctx->shpool->mutex);

    lua_pushboolean(L, 1);

    return 1;
}


static int
sl_lua_shdict_flush_all(lua_State *L)
{
    sl_queue_t           *q;
    sl_lua_shdict_ctx_t  *ctx;

    ctx = sl_lua_shdict_check(L, NULL, NULL, NULL);

    sl_lua_shdict_lock(ctx);

    while (!sl_queue_empty(&ctx->sh->lru)) {
        q = sl_queue_last(&ctx->sh->lru);
        sl_lua_shdict_free(ctx, sl_queue_data(q, sl_lua_shdict_node_t,
                                              queue));
    }

    sl_shmtx_unlock(&ctx->shpool->mutex);

    lua_pushboolean(L, 1);

    return 1;
}
