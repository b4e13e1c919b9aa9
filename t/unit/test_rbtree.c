
/*
 * Red-black trees: random inserts and deletes checked against the
 * invariants (ordered, no red node with a red child, the same number of
 * black nodes on every path) and against a count of what is inside; the
 * timer insert across the wrap-around of the key.
 */


#include <sl_config.h>
#include <sl_core.h>

#include <setjmp.h>
#include <cmocka.h>


#define TEST_NODES  5000


static sl_int_t test_black_height(sl_rbtree_node_t *node,
    sl_rbtree_node_t *sentinel);
static sl_uint_t test_check_tree(sl_rbtree_t *tree);


static sl_uint_t  test_rand_state = 12345;


static sl_uint_t
test_rand(void)
{
    /* xorshift, for runs that repeat */
    test_rand_state ^= test_rand_state << 13;
    test_rand_state ^= test_rand_state >> 7;
    test_rand_state ^= test_rand_state << 17;

    return test_rand_state;
}


static sl_int_t
test_black_height(sl_rbtree_node_t *node, sl_rbtree_node_t *sentinel)
{
    sl_int_t  l, r;

    if (node == sentinel) {
        return 1;
    }

    if (sl_rbt_is_red(node)) {
        assert_true(sl_rbt_is_black(node->left));
        assert_true(sl_rbt_is_black(node->right));
    }

    if (node->left != sentinel) {
        assert_ptr_equal(node->left->parent, node);
        assert_true(node->left->key <= node->key);
    }

    if (node->right != sentinel) {
        assert_ptr_equal(node->right->parent, node);
        assert_true(node->right->key >= node->key);
    }

    l = test_black_height(node->left, sentinel);
    r = test_black_height(node->right, sentinel);

    assert_int_equal(l, r);

    return l + sl_rbt_is_black(node);
}


/* returns the number of nodes, walked in order */

static sl_uint_t
test_check_tree(sl_rbtree_t *tree)
{
    sl_uint_t          n;
    sl_rbtree_node_t  *node, *prev;

    assert_true(sl_rbt_is_black(tree->sentinel));

    if (tree->root == tree->sentinel) {
        return 0;
    }

    assert_true(sl_rbt_is_black(tree->root));
    assert_null(tree->root->parent);

    (void) test_black_height(tree->root, tree->sentinel);

    n = 0;
    prev = NULL;

    for (node = sl_rbtree_min(tree->root, tree->sentinel);
         node;
         node = sl_rbtree_next(tree, node))
    {
        if (prev) {
            assert_true(prev->key <= node->key);
        }

        prev = node;
        n++;
    }

    return n;
}


static void
test_rbtree_random(void **state)
{
    sl_uint_t          i, j, n, inside;
    sl_rbtree_t        tree;
    sl_rbtree_node_t   sentinel, *nodes;
    u_char            *in;

    nodes = calloc(TEST_NODES, sizeof(sl_rbtree_node_t));
    in = calloc(TEST_NODES, 1);
    assert_non_null(nodes);
    assert_non_null(in);

    sl_rbtree_init(&tree, &sentinel, sl_rbtree_insert_value);

    assert_int_equal(test_check_tree(&tree), 0);

    inside = 0;

    for (j = 0; j < 20; j++) {

        for (i = 0; i < TEST_NODES; i++) {
            n = test_rand() % TEST_NODES;

            if (in[n]) {
                sl_rbtree_delete(&tree, &nodes[n]);
                in[n] = 0;
                inside--;

            } else {
                /* few distinct keys: duplicates are allowed */
                nodes[n].key = test_rand() % (TEST_NODES / 4);
                sl_rbtree_insert(&tree, &nodes[n]);
                in[n] = 1;
                inside++;
            }
        }

        assert_int_equal(test_check_tree(&tree), inside);
    }

    for (i = 0; i < TEST_NODES; i++) {
        if (in[i]) {
            sl_rbtree_delete(&tree, &nodes[i]);
            inside--;

            if (i % 512 == 0) {
                assert_int_equal(test_check_tree(&tree), inside);
            }
        }
    }

    assert_ptr_equal(tree.root, &sentinel);
    assert_int_equal(test_check_tree(&tree), 0);

    free(nodes);
    free(in);
}


static void
test_rbtree_sorted(void **state)
{
    sl_uint_t          i;
    sl_rbtree_t        tree;
    sl_rbtree_node_t   sentinel, nodes[1000], *node;

    sl_rbtree_init(&tree, &sentinel, sl_rbtree_insert_value);

    /* ascending inserts: the worst case for an unbalanced tree */
    for (i = 0; i < 1000; i++) {
        nodes[i].key = i;
        sl_rbtree_insert(&tree, &nodes[i]);
    }

    assert_int_equal(test_check_tree(&tree), 1000);
    assert_true(test_black_height(tree.root, &sentinel) <= 11);

    node = sl_rbtree_min(tree.root, &sentinel);
    assert_ptr_equal(node, &nodes[0]);

    for (i = 0; i < 1000; i += 2) {
        sl_rbtree_delete(&tree, &nodes[i]);
    }

    assert_int_equal(test_check_tree(&tree), 500);

    node = sl_rbtree_min(tree.root, &sentinel);
    assert_ptr_equal(node, &nodes[1]);
}


static void
test_rbtree_timer(void **state)
{
    sl_uint_t          i;
    sl_rbtree_t        tree;
    sl_rbtree_node_t   sentinel, nodes[4], *node;

    sl_rbtree_init(&tree, &sentinel, sl_rbtree_insert_timer_value);

    /* keys just before and just after the wrap of the msec clock */
    nodes[0].key = (sl_rbtree_key_t) -20;
    nodes[1].key = 10;
    nodes[2].key = (sl_rbtree_key_t) -5;
    nodes[3].key = 30;

    for (i = 0; i < 4; i++) {
        sl_rbtree_insert(&tree, &nodes[i]);
    }

    node = sl_rbtree_min(tree.root, &sentinel);
    assert_ptr_equal(node, &nodes[0]);

    node = sl_rbtree_next(&tree, node);
    assert_ptr_equal(node, &nodes[2]);

    node = sl_rbtree_next(&tree, node);
    assert_ptr_equal(node, &nodes[1]);

    node = sl_rbtree_next(&tree, node);
    assert_ptr_equal(node, &nodes[3]);

    assert_null(sl_rbtree_next(&tree, node));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_rbtree_random),
        cmocka_unit_test(test_rbtree_sorted),
        cmocka_unit_test(test_rbtree_timer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
