
/*
 * Red-black trees (after Cormen et al.) with a shared black sentinel
 * instead of NULL leaves.  The tree owns no memory: nodes are embedded in
 * their owners (timers in events, entries in shared memory zones).
 */


#include <sl_config.h>
#include <sl_core.h>


static inline void sl_rbtree_left_rotate(sl_rbtree_node_t **root,
    sl_rbtree_node_t *sentinel, sl_rbtree_node_t *node);
static inline void sl_rbtree_right_rotate(sl_rbtree_node_t **root,
    sl_rbtree_node_t *sentinel, sl_rbtree_node_t *node);


void
sl_rbtree_insert(sl_rbtree_t *tree, sl_rbtree_node_t *node)
{
    sl_rbtree_node_t  **root, *temp, *sentinel;

    root = &tree->root;
    sentinel = tree->sentinel;

    if (*root == sentinel) {
        node->parent = NULL;
        node->left = sentinel;
        node->right = sentinel;
        sl_rbt_black(node);
        *root = node;

        return;
    }

    tree->insert(*root, node, sentinel);

    /* re-balance tree */

    while (node != *root && sl_rbt_is_red(node->parent)) {

        if (node->parent == node->parent->parent->left) {
            temp = node->parent->parent->right;

            if (sl_rbt_is_red(temp)) {
                sl_rbt_black(node->parent);
                sl_rbt_black(temp);
                sl_rbt_red(node->parent->parent);
                node = node->parent->parent;

            } else {
                if (node == node->parent->right) {
                    node = node->parent;
                    sl_rbtree_left_rotate(root, sentinel, node);
                }

                sl_rbt_black(node->parent);
                sl_rbt_red(node->parent->parent);
                sl_rbtree_right_rotate(root, sentinel, node->parent->parent);
            }

        } else {
            temp = node->parent->parent->left;

            if (sl_rbt_is_red(temp)) {
                sl_rbt_black(node->parent);
                sl_rbt_black(temp);
                sl_rbt_red(node->parent->parent);
                node = node->parent->parent;

            } else {
                if (node == node->parent->left) {
                    node = node->parent;
                    sl_rbtree_right_rotate(root, sentinel, node);
                }

                sl_rbt_black(node->parent);
                sl_rbt_red(node->parent->parent);
                sl_rbtree_left_rotate(root, sentinel, node->parent->parent);
            }
        }
    }

    sl_rbt_black(*root);
}


void
sl_rbtree_insert_value(sl_rbtree_node_t *temp, sl_rbtree_node_t *node,
    sl_rbtree_node_t *sentinel)
{
    sl_rbtree_node_t  **p;

    for ( ;; ) {

        p = (node->key < temp->key) ? &temp->left : &temp->right;

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


/*
 * Timer keys are msec values that may wrap around: compare the signed
 * difference so that a key just past the wrap sorts after one before it.
 */

void
sl_rbtree_insert_timer_value(sl_rbtree_node_t *temp, sl_rbtree_node_t *node,
    sl_rbtree_node_t *sentinel)
{
    sl_rbtree_node_t  **p;

    for ( ;; ) {

        p = ((sl_rbtree_key_int_t) (node->key - temp->key) < 0)
            ? &temp->left : &temp->right;

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


void
sl_rbtree_delete(sl_rbtree_t *tree, sl_rbtree_node_t *node)
{
    sl_uint_t           red;
    sl_rbtree_node_t  **root, *sentinel, *subst, *temp, *w;

    root = &tree->root;
    sentinel = tree->sentinel;

    if (node->left == sentinel) {
        temp = node->right;
        subst = node;

    } else if (node->right == sentinel) {
        temp = node->left;
        subst = node;

    } else {
        subst = sl_rbtree_min(node->right, sentinel);
        temp = subst->right;
    }

    if (subst == *root) {
        *root = temp;
        sl_rbt_black(temp);

        node->left = NULL;
        node->right = NULL;
        node->parent = NULL;
        node->key = 0;

        return;
    }

    red = sl_rbt_is_red(subst);

    if (subst == subst->parent->left) {
        subst->parent->left = temp;

    } else {
        subst->parent->right = temp;
    }

    if (subst == node) {

        temp->parent = subst->parent;

    } else {

        if (subst->parent == node) {
            temp->parent = subst;

        } else {
            temp->parent = subst->parent;
        }

        subst->left = node->left;
        subst->right = node->right;
        subst->parent = node->parent;
        sl_rbt_copy_color(subst, node);

        if (node == *root) {
            *root = subst;

        } else {
            if (node == node->parent->left) {
                node->parent->left = subst;

            } else {
                node->parent->right = subst;
            }
        }

        if (subst->left != sentinel) {
            subst->left->parent = subst;
        }

        if (subst->right != sentinel) {
            subst->right->parent = subst;
        }
    }

    node->left = NULL;
    node->right = NULL;
    node->parent = NULL;
    node->key = 0;

    if (red) {
        return;
    }

    /* a delete fixup */

    while (temp != *root && sl_rbt_is_black(temp)) {

        if (temp == temp->parent->left) {
            w = temp->parent->right;

            if (sl_rbt_is_red(w)) {
                sl_rbt_black(w);
                sl_rbt_red(temp->parent);
                sl_rbtree_left_rotate(root, sentinel, temp->parent);
                w = temp->parent->right;
            }

            if (sl_rbt_is_black(w->left) && sl_rbt_is_black(w->right)) {
                sl_rbt_red(w);
                temp = temp->parent;

            } else {
                if (sl_rbt_is_black(w->right)) {
                    sl_rbt_black(w->left);
                    sl_rbt_red(w);
                    sl_rbtree_right_rotate(root, sentinel, w);
                    w = temp->parent->right;
                }

                sl_rbt_copy_color(w, temp->parent);
                sl_rbt_black(temp->parent);
                sl_rbt_black(w->right);
                sl_rbtree_left_rotate(root, sentinel, temp->parent);
                temp = *root;
            }

        } else {
            w = temp->parent->left;

            if (sl_rbt_is_red(w)) {
                sl_rbt_black(w);
                sl_rbt_red(temp->parent);
                sl_rbtree_right_rotate(root, sentinel, temp->parent);
                w = temp->parent->left;
            }

            if (sl_rbt_is_black(w->left) && sl_rbt_is_black(w->right)) {
                sl_rbt_red(w);
                temp = temp->parent;

            } else {
                if (sl_rbt_is_black(w->left)) {
                    sl_rbt_black(w->right);
                    sl_rbt_red(w);
                    sl_rbtree_left_rotate(root, sentinel, w);
                    w = temp->parent->left;
                }

                sl_rbt_copy_color(w, temp->parent);
                sl_rbt_black(temp->parent);
                sl_rbt_black(w->left);
                sl_rbtree_right_rotate(root, sentinel, temp->parent);
                temp = *root;
            }
        }
    }

    sl_rbt_black(temp);
}


sl_rbtree_node_t *
sl_rbtree_next(sl_rbtree_t *tree, sl_rbtree_node_t *node)
{
    sl_rbtree_node_t  *root, *sentinel, *parent;

    sentinel = tree->sentinel;

    if (node->right != sentinel) {
        return sl_rbtree_min(node->right, sentinel);
    }

    root = tree->root;

    for ( ;; ) {
        parent = node->parent;

        if (node == root) {
            return NULL;
        }

        if (node == parent->left) {
            return parent;
        }

        node = parent;
    }
}


static inline void
sl_rbtree_left_rotate(sl_rbtree_node_t **root, sl_rbtree_node_t *sentinel,
    sl_rbtree_node_t *node)
{
    sl_rbtree_node_t  *temp;

    temp = node->right;
    node->right = temp->left;

    if (temp->left != sentinel) {
        temp->left->parent = node;
    }

    temp->parent = node->parent;

    if (node == *root) {
        *root = temp;

    } else if (node == node->parent->left) {
        node->parent->left = temp;

    } else {
        node->parent->right = temp;
    }

    temp->left = node;
    node->parent = temp;
}


static inline void
sl_rbtree_right_rotate(sl_rbtree_node_t **root, sl_rbtree_node_t *sentinel,
    sl_rbtree_node_t *node)
{
    sl_rbtree_node_t  *temp;

    temp = node->left;
    node->left = temp->right;

    if (temp->right != sentinel) {
        temp->right->parent = node;
    }

    temp->parent = node->parent;

    if (node == *root) {
        *root = temp;

    } else if (node == node->parent->right) {
        node->parent->right = temp;

    } else {
        node->parent->left = temp;
    }

    temp->right = node;
    node->parent = temp;
}
