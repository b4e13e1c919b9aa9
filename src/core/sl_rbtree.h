
/*
 * Red-black trees keyed by an unsigned integer, with a pluggable insert
 * for ties (timers compare with wrap-around; strings by a secondary key).
 */

#ifndef _SL_RBTREE_H_INCLUDED_
#define _SL_RBTREE_H_INCLUDED_


#include <sl_config.h>


typedef sl_uint_t  sl_rbtree_key_t;
typedef sl_int_t   sl_rbtree_key_int_t;

typedef struct sl_rbtree_node_s  sl_rbtree_node_t;

struct sl_rbtree_node_s {
    sl_rbtree_key_t      key;
    sl_rbtree_node_t    *left;
    sl_rbtree_node_t    *right;
    sl_rbtree_node_t    *parent;
    u_char               color;
    u_char               data;
};


typedef struct sl_rbtree_s  sl_rbtree_t;

typedef void (*sl_rbtree_insert_pt) (sl_rbtree_node_t *root,
    sl_rbtree_node_t *node, sl_rbtree_node_t *sentinel);

struct sl_rbtree_s {
    sl_rbtree_node_t     *root;
    sl_rbtree_node_t     *sentinel;
    sl_rbtree_insert_pt   insert;
};


#define sl_rbtree_init(tree, s, i)                                           \
    sl_rbtree_sentinel_init(s);                                              \
    (tree)->root = s;                                                        \
    (tree)->sentinel = s;                                                    \
    (tree)->insert = i

#define sl_rbt_red(node)               ((node)->color = 1)
#define sl_rbt_black(node)             ((node)->color = 0)
#define sl_rbt_is_red(node)            ((node)->color)
#define sl_rbt_is_black(node)          (!sl_rbt_is_red(node))
#define sl_rbt_copy_color(n1, n2)      (n1->color = n2->color)
#define sl_rbtree_sentinel_init(node)  sl_rbt_black(node)


void sl_rbtree_insert(sl_rbtree_t *tree, sl_rbtree_node_t *node);
void sl_rbtree_delete(sl_rbtree_t *tree, sl_rbtree_node_t *node);
void sl_rbtree_insert_value(sl_rbtree_node_t *root, sl_rbtree_node_t *node,
    sl_rbtree_node_t *sentinel);
void sl_rbtree_insert_timer_value(sl_rbtree_node_t *root,
    sl_rbtree_node_t *node, sl_rbtree_node_t *sentinel);
sl_rbtree_node_t *sl_rbtree_next(sl_rbtree_t *tree, sl_rbtree_node_t *node);

static inline sl_rbtree_node_t *
sl_rbtree_min(sl_rbtree_node_t *node, sl_rbtree_node_t *sentinel)
{
    while (node->left != sentinel) {
        node = node->left;
    }

    return node;
}


#endif /* _SL_RBTREE_H_INCLUDED_ */
