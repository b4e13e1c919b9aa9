
/*
 * Events: the epoll loop, timers (a red-black tree keyed by expiry),
 * posted events (run after the poll, in order), the accept handler, and
 * the doorbell that lets one worker wake the others (an append waking
 * long polls parked elsewhere).
 *
 * Connections are registered edge-triggered for read and write at once
 * (sl_add_conn); a handler reads or writes until EAGAIN and then relies
 * on ev->ready being cleared and set again by the loop.
 */

#ifndef _SL_EVENT_H_INCLUDED_
#define _SL_EVENT_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


#define SL_INVALID_INDEX  0xd0d0d0d0


struct sl_event_s {
    void                *data;      /* the connection, mostly */

    unsigned             write:1;
    unsigned             accept:1;
    unsigned             instance:1; /* stale-event detection */
    unsigned             active:1;   /* registered with epoll */
    unsigned             disabled:1;
    unsigned             ready:1;
    unsigned             oneshot:1;
    unsigned             complete:1;
    unsigned             eof:1;
    unsigned             error:1;
    unsigned             timedout:1;
    unsigned             timer_set:1;
    unsigned             delayed:1;
    unsigned             deferred_accept:1;
    unsigned             pending_eof:1;
    unsigned             posted:1;
    unsigned             closed:1;
    unsigned             channel:1;
    unsigned             cancelable:1; /* a timer that must not delay exit */

    int                  available;

    sl_event_handler_pt  handler;

    sl_uint_t            index;

    sl_log_t            *log;

    sl_rbtree_node_t     timer;

    sl_queue_t           queue;      /* posted events */
};


/* flags of sl_add_event / sl_process_events */
#define SL_READ_EVENT      (EPOLLIN|EPOLLRDHUP)
#define SL_WRITE_EVENT     EPOLLOUT
#define SL_LEVEL_EVENT     0
#define SL_CLEAR_EVENT     EPOLLET
#define SL_EXCLUSIVE_EVENT EPOLLEXCLUSIVE
#define SL_CLOSE_EVENT     1
#define SL_DISABLE_EVENT   2
#define SL_UPDATE_TIME     1
#define SL_POST_EVENTS     2

#define SL_TIMER_INFINITE  (sl_msec_t) -1
#define SL_TIMER_LAZY_DELAY  300


#define SL_EVENT_MODULE    0x544e5645  /* "EVNT" */
#define SL_EVENT_CONF      0x02000000


typedef struct {
    sl_str_t            *name;
    void              *(*create_conf)(sl_cycle_t *cycle);
    char              *(*init_conf)(sl_cycle_t *cycle, void *conf);
} sl_event_module_t;


typedef struct {
    sl_uint_t            connections;   /* worker_connections */
    sl_uint_t            use;
    sl_msec_t            accept_pause;  /* when connections or fds run out */
    u_char              *name;
} sl_event_conf_t;


sl_int_t sl_epoll_init(sl_cycle_t *cycle, sl_msec_t timer);
void sl_epoll_done(sl_cycle_t *cycle);
sl_int_t sl_add_event(sl_event_t *ev, sl_int_t event, sl_uint_t flags);
sl_int_t sl_del_event(sl_event_t *ev, sl_int_t event, sl_uint_t flags);
sl_int_t sl_add_conn(sl_connection_t *c);
sl_int_t sl_del_conn(sl_connection_t *c, sl_uint_t flags);
sl_int_t sl_process_events(sl_cycle_t *cycle, sl_msec_t timer,
    sl_uint_t flags);

/* with edge-triggered events these only register what is not yet */
sl_int_t sl_handle_read_event(sl_event_t *rev, sl_uint_t flags);
sl_int_t sl_handle_write_event(sl_event_t *wev, size_t lowat);

void sl_process_events_and_timers(sl_cycle_t *cycle);
void sl_event_accept(sl_event_t *ev);
sl_int_t sl_enable_accept_events(sl_cycle_t *cycle);
sl_int_t sl_disable_accept_events(sl_cycle_t *cycle, sl_uint_t all);


/* timers */
sl_int_t sl_event_timer_init(sl_log_t *log);
sl_msec_t sl_event_find_timer(void);
void sl_event_expire_timers(void);
sl_int_t sl_event_no_timers_left(void);
void sl_event_add_timer(sl_event_t *ev, sl_msec_t timer);
void sl_event_del_timer(sl_event_t *ev);

#define sl_add_timer        sl_event_add_timer
#define sl_del_timer        sl_event_del_timer

extern sl_rbtree_t  sl_event_timer_rbtree;


/* posted events */
#define sl_post_event(ev, q)                                                 \
    do {                                                                     \
        if (!(ev)->posted) {                                                 \
            (ev)->posted = 1;                                                \
            sl_queue_insert_tail(q, &(ev)->queue);                           \
        }                                                                    \
    } while (0)

#define sl_delete_posted_event(ev)                                           \
    do {                                                                     \
        (ev)->posted = 0;                                                    \
        sl_queue_remove(&(ev)->queue);                                       \
    } while (0)

void sl_event_process_posted(sl_cycle_t *cycle, sl_queue_t *posted);

extern sl_queue_t  sl_posted_accept_events;
extern sl_queue_t  sl_posted_events;


/*
 * The doorbell: the master creates eventfds for the workers before
 * fork; sl_event_doorbell_ring() wakes every other worker, which then
 * runs the handlers registered with sl_event_doorbell_add().  A module
 * rings only when it changed something others may be waiting for.
 *
 * A ring costs no system call unless someone, somewhere, is parked:
 * a module parks (sl_event_doorbell_park) before its last check of the
 * condition it waits for and unparks when the waiter leaves.  See
 * sl_event_doorbell.c for the rules.
 */
typedef void (*sl_doorbell_handler_pt)(sl_cycle_t *cycle, void *data);

/*
 * in the master, before the workers are forked: n = worker_processes;
 * each call after the first is a reload, whose workers get other slots
 */
sl_int_t sl_event_doorbell_init(sl_cycle_t *cycle, sl_uint_t n);
/* in init_process of a module (not in the master) */
sl_int_t sl_event_doorbell_add(sl_doorbell_handler_pt handler, void *data);
void sl_event_doorbell_ring(void);
void sl_event_doorbell_park(void);
void sl_event_doorbell_unpark(void);
/* the event core's own: the worker's registration and its undoing */
sl_int_t sl_event_doorbell_process_init(sl_cycle_t *cycle);
void sl_event_doorbell_process_exit(sl_cycle_t *cycle);


extern sl_uint_t             sl_event_flags;
extern sl_module_t           sl_events_module;
extern sl_module_t           sl_event_core_module;
extern sl_module_t           sl_epoll_module;

#define sl_event_get_conf(conf_ctx, module)                                  \
             (*(sl_get_conf(conf_ctx, sl_events_module))) [module.ctx_index]


#endif /* _SL_EVENT_H_INCLUDED_ */
