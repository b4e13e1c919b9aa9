
/*
 * The doorbell: how a change made in one worker (an append) wakes waiters
 * parked in the others (long-poll fetches), without polling.
 *
 * The master creates the eventfds before it forks, so every worker holds
 * all of them; a worker watches its own slot's fd (edge-triggered) and
 * writes to the others' to ring.  Waking runs the
 * handlers that modules registered with sl_event_doorbell_add(); they
 * look at their own waiters and answer those whose condition now holds.
 * Rings are coalesced (one wake-up for many rings) and may be spurious.
 *
 * Ringing after every append must be cheap, so a ring writes only to
 * slots where someone is parked.  Each slot has a counter of parked
 * waiters in shared memory:
 *
 *   a waiter:   sl_event_doorbell_park(); then check the condition one
 *               last time; if it holds, unpark and answer; otherwise
 *               wait (with a timer).  When the waiter goes (answered,
 *               timed out or closed) it unparks, exactly once.
 *
 *   a changer:  publish the change (the committed end offset, say),
 *               then sl_event_doorbell_ring().
 *
 * Parking is an atomic add (a full barrier) before the waiter's last
 * check, and the ring issues a full barrier between the change and
 * reading the counters, so at least one side sees the other: either the
 * waiter sees the change, or the changer sees the waiter and writes.
 * With nobody parked a ring is one barrier and a few loads.
 *
 * The ringing worker's own waiters are handled too: a posted event runs
 * the handlers locally after the current handler returns, without any
 * system call.
 *
 * Slots come in two halves that alternate with each reload: worker w
 * of one generation uses slot 2w, of the next 2w + 1, so a retiring
 * worker and its successor never share an eventfd (two processes on one
 * eventfd race: the first read drains it and the other's epoll no longer
 * reports it).  The fds and counters are created once and only grow;
 * what remains:
 *
 *   - a worker still retiring two reloads later shares the slot of a
 *     current one, and one of them may miss a wake-up;
 *   - a reload that raises worker_processes makes slots the old workers
 *     never had, so their appends do not ring the new workers there;
 *   - a worker killed with waiters parked leaves its slot's count too
 *     high: each ring then writes to that slot for nothing (its
 *     successor inherits the count), a cost, never a lost wake-up.
 *
 * A missed wake-up only delays: waiters always carry a timeout.
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_event.h>


#define SL_DOORBELL_MAX_HANDLERS  16


typedef struct {
    sl_doorbell_handler_pt    handler;
    void                     *data;
} sl_doorbell_entry_t;


static void sl_event_doorbell_handler(sl_event_t *ev);
static void sl_event_doorbell_local_handler(sl_event_t *ev);
static void sl_event_doorbell_run(void);


static sl_fd_t               sl_doorbell_fds[SL_MAX_PROCESSES];
static sl_uint_t             sl_doorbell_n;

/* the half of the slots the next workers forked use: 0 or 1 */
static sl_uint_t             sl_doorbell_gen;

/* parked waiters per slot, in memory shared by every process */
static sl_atomic_t          *sl_doorbell_parked;

/* this process's parked waiters, and whether they count in the slot */
static sl_int_t              sl_doorbell_local;
static sl_atomic_t          *sl_doorbell_slot;

static sl_connection_t      *sl_doorbell_conn;
static sl_event_t            sl_doorbell_local_ev;

static sl_doorbell_entry_t   sl_doorbell_handlers[SL_DOORBELL_MAX_HANDLERS];
static sl_uint_t             sl_doorbell_nhandlers;


sl_int_t
sl_event_doorbell_init(sl_cycle_t *cycle, sl_uint_t n)
{
    sl_fd_t    fd;
    sl_uint_t  i;
    sl_shm_t   shm;

    if (2 * n > SL_MAX_PROCESSES) {
        sl_log_error(SL_LOG_EMERG, cycle->log, 0,
                     "too many workers for the doorbell: %lu",
                     (unsigned long) n);
        return SL_ERROR;
    }

    n *= 2;

    if (sl_doorbell_parked != NULL) {
        /* a reload: the new workers take the other half */
        sl_doorbell_gen ^= 1;

    } else {
        sl_memzero(&shm, sizeof(sl_shm_t));

        shm.size = sizeof(sl_atomic_t) * SL_MAX_PROCESSES;
        sl_str_set(&shm.name, "sl_doorbell");
        shm.log = cycle->log;

        if (sl_shm_alloc(&shm) != SL_OK) {
            return SL_ERROR;
        }

        sl_doorbell_parked = (sl_atomic_t *) shm.addr;
    }

    for (i = sl_doorbell_n; i < n; i++) {

        fd = eventfd(0, EFD_NONBLOCK|EFD_CLOEXEC);

        if (fd == -1) {
            sl_log_error(SL_LOG_EMERG, cycle->log, sl_errno,
                         "eventfd() failed");
            return SL_ERROR;
        }

        sl_doorbell_fds[i] = fd;
        sl_doorbell_n = i + 1;
    }

    return SL_OK;
}


sl_int_t
sl_event_doorbell_process_init(sl_cycle_t *cycle)
{
    sl_uint_t         slot;
    sl_event_t       *rev;
    sl_connection_t  *c;

    sl_doorbell_local = 0;
    sl_doorbell_slot = NULL;
    sl_doorbell_conn = NULL;

    sl_memzero(&sl_doorbell_local_ev, sizeof(sl_event_t));
    sl_doorbell_local_ev.handler = sl_event_doorbell_local_handler;
    sl_doorbell_local_ev.log = cycle->log;

    slot = 2 * sl_worker + sl_doorbell_gen;

    if (slot >= sl_doorbell_n) {
        /* the doorbell was not set up (or not for this many workers) */
        return SL_OK;
    }

    c = sl_get_connection(sl_doorbell_fds[slot], cycle->log);
    if (c == NULL) {
        return SL_ERROR;
    }

    /* every process holds this fd: it must leave epoll explicitly */
    c->shared = 1;

    rev = c->read;
    rev->channel = 1;
    rev->handler = sl_event_doorbell_handler;

    if (sl_add_event(rev, SL_READ_EVENT, SL_CLEAR_EVENT) == SL_ERROR) {
        return SL_ERROR;
    }

    sl_doorbell_conn = c;
    sl_doorbell_slot = &sl_doorbell_parked[slot];

    return SL_OK;
}


void
sl_event_doorbell_process_exit(sl_cycle_t *cycle)
{
    if (sl_doorbell_slot && sl_doorbell_local) {
        (void) sl_atomic_fetch_add(sl_doorbell_slot,
                                   (sl_atomic_uint_t) -sl_doorbell_local);
    }

    sl_doorbell_local = 0;
}


sl_int_t
sl_event_doorbell_add(sl_doorbell_handler_pt handler, void *data)
{
    sl_uint_t  i;

    for (i = 0; i < sl_doorbell_nhandlers; i++) {
        if (sl_doorbell_handlers[i].handler == handler
            && sl_doorbell_handlers[i].data == data)
        {
            return SL_OK;
        }
    }

    if (sl_doorbell_nhandlers == SL_DOORBELL_MAX_HANDLERS) {
        return SL_ERROR;
    }

    sl_doorbell_handlers[sl_doorbell_nhandlers].handler = handler;
    sl_doorbell_handlers[sl_doorbell_nhandlers].data = data;
    sl_doorbell_nhandlers++;

    return SL_OK;
}


void
sl_event_doorbell_park(void)
{
    sl_doorbell_local++;

    if (sl_doorbell_slot) {
        (void) sl_atomic_fetch_add(sl_doorbell_slot, 1);
    }
}


void
sl_event_doorbell_unpark(void)
{
    sl_doorbell_local--;

    if (sl_doorbell_slot) {
        (void) sl_atomic_fetch_add(sl_doorbell_slot, (sl_atomic_uint_t) -1);
    }
}


void
sl_event_doorbell_ring(void)
{
    uint64_t         one;
    sl_uint_t        i;
    sl_atomic_int_t  parked;

    if (sl_doorbell_local > 0 && sl_doorbell_local_ev.handler) {
        sl_post_event(&sl_doorbell_local_ev, &sl_posted_events);
    }

    if (sl_doorbell_parked == NULL) {
        return;
    }

    /* the change is visible before we look at who waits for it */
    sl_memory_barrier();

    one = 1;

    for (i = 0; i < sl_doorbell_n; i++) {

        parked = (sl_atomic_int_t) sl_atomic_load(&sl_doorbell_parked[i]);

        if (&sl_doorbell_parked[i] == sl_doorbell_slot) {
            /* ours are served locally; ring only for a slot-mate */
            parked -= sl_doorbell_local;
        }

        if (parked <= 0) {
            continue;
        }

        if (write(sl_doorbell_fds[i], &one, sizeof(uint64_t)) == -1
            && sl_errno != SL_EAGAIN)
        {
            sl_log_error(SL_LOG_ALERT, sl_cycle->log, sl_errno,
                         "doorbell write() to slot %lu failed",
                         (unsigned long) i);
        }
    }
}


static void
sl_event_doorbell_handler(sl_event_t *ev)
{
    uint64_t          value;
    sl_connection_t  *c;

    c = ev->data;

    /* one read takes every ring since the last; EAGAIN: a slot-mate did */

    if (read(c->fd, &value, sizeof(uint64_t)) == -1
        && sl_errno != SL_EAGAIN)
    {
        sl_log_error(SL_LOG_ALERT, ev->log, sl_errno,
                     "doorbell read() failed");
    }

    sl_event_doorbell_run();
}


static void
sl_event_doorbell_local_handler(sl_event_t *ev)
{
    sl_event_doorbell_run();
}


static void
sl_event_doorbell_run(void)
{
    sl_uint_t  i;

    for (i = 0; i < sl_doorbell_nhandlers; i++) {
        sl_doorbell_handlers[i].handler((sl_cycle_t *) sl_cycle,
                                        sl_doorbell_handlers[i].data);
    }
}
