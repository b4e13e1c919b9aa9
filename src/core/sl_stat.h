
/*
 * Process-wide counters in a shared memory zone, summed over workers by
 * construction (each worker adds atomically): what GET /status reports.
 * Modules with their own metrics keep them in their own zones.
 */

#ifndef _SL_STAT_H_INCLUDED_
#define _SL_STAT_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


typedef struct {
    sl_atomic_t       accepted;
    sl_atomic_t       handled;
    sl_atomic_t       active;       /* open client connections */
    sl_atomic_t       requests;     /* requests of every protocol */
    sl_atomic_t       workers;      /* live worker processes */
} sl_stat_t;


/* NULL until the master has created the zone (then valid in workers) */
extern sl_stat_t  *sl_stat;

#define sl_stat_add(field, n)                                                \
    if (sl_stat) { (void) sl_atomic_fetch_add(&sl_stat->field, n); }


#endif /* _SL_STAT_H_INCLUDED_ */
