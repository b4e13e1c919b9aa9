
/*
 * Process-wide counters in a shared memory zone: what GET /status
 * reports.  Workers add to the totals atomically; open connections are
 * counted per process slot and summed when read.  Modules with their own
 * metrics keep them in their own zones.
 */

#ifndef _SL_STAT_H_INCLUDED_
#define _SL_STAT_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


typedef struct {
    sl_atomic_t       accepted;
    sl_atomic_t       handled;
    sl_atomic_t       requests;     /* requests of every protocol */
    sl_atomic_t       workers;      /* live worker processes */

    /*
     * Open client connections, one counter per process slot: a worker
     * killed with connections open never takes them back, so the master
     * zeroes the slot of every worker it reaps.  Read with sl_stat_active.
     */
    sl_atomic_t       active[SL_MAX_PROCESSES];
} sl_stat_t;


/* NULL until the master has created the zone (then valid in workers) */
extern sl_stat_t  *sl_stat;

#define sl_stat_add(field, n)                                                \
    do {                                                                     \
        if (sl_stat) {                                                       \
            (void) sl_atomic_fetch_add(&sl_stat->field, n);                  \
        }                                                                    \
    } while (0)

#define sl_stat_active_add(n)                                                \
    do {                                                                     \
        if (sl_stat) {                                                       \
            (void) sl_atomic_fetch_add(&sl_stat->active[sl_process_slot],    \
                                       n);                                   \
        }                                                                    \
    } while (0)

/* open client connections of every live worker */
sl_atomic_int_t sl_stat_active(void);
/* in the master, for a worker that exited */
void sl_stat_reset_slot(sl_int_t slot);


#endif /* _SL_STAT_H_INCLUDED_ */
