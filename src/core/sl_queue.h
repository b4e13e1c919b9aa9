
/*
 * Intrusive doubly linked lists (the sentinel is a sl_queue_t).
 */

#ifndef _SL_QUEUE_H_INCLUDED_
#define _SL_QUEUE_H_INCLUDED_


typedef struct sl_queue_s  sl_queue_t;

struct sl_queue_s {
    sl_queue_t  *prev;
    sl_queue_t  *next;
};


#define sl_queue_init(q)                                                     \
    (q)->prev = q;                                                           \
    (q)->next = q

#define sl_queue_empty(h)        (h == (h)->prev)

#define sl_queue_insert_head(h, x)                                           \
    (x)->next = (h)->next;                                                   \
    (x)->next->prev = x;                                                     \
    (x)->prev = h;                                                           \
    (h)->next = x

#define sl_queue_insert_after   sl_queue_insert_head

#define sl_queue_insert_tail(h, x)                                           \
    (x)->prev = (h)->prev;                                                   \
    (x)->prev->next = x;                                                     \
    (x)->next = h;                                                           \
    (h)->prev = x

#define sl_queue_head(h)         (h)->next
#define sl_queue_last(h)         (h)->prev
#define sl_queue_sentinel(h)     (h)
#define sl_queue_next(q)         (q)->next
#define sl_queue_prev(q)         (q)->prev

#define sl_queue_remove(x)                                                   \
    (x)->next->prev = (x)->prev;                                             \
    (x)->prev->next = (x)->next;                                             \
    (x)->prev = NULL;                                                        \
    (x)->next = NULL

#define sl_queue_data(q, type, link)                                         \
    (type *) ((u_char *) q - offsetof(type, link))


#endif /* _SL_QUEUE_H_INCLUDED_ */
