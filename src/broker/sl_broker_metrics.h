
/*
 * The broker's collectors for the metrics page (sl_metrics.h): topics
 * and partitions (traffic, offsets, segments, bytes on disk) and
 * consumer groups (members, state, committed offsets, lag).  A module
 * adds them with sl_metrics_add_collector(); the groups' one only where
 * the group coordinator is configured.
 */

#ifndef _SL_BROKER_METRICS_H_INCLUDED_
#define _SL_BROKER_METRICS_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


void sl_broker_metrics_topics(sl_metrics_t *m, void *data);
void sl_broker_metrics_groups(sl_metrics_t *m, void *data);


#endif /* _SL_BROKER_METRICS_H_INCLUDED_ */
