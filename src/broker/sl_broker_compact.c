
/*
 * Compaction (placeholder until the cleaner lands).
 */


#include <sl_config.h>
#include <sl_core.h>
#include <sl_broker.h>
#include <sl_broker_storage.h>


sl_int_t
sl_broker_log_compact(sl_broker_partition_t *part, int64_t now,
    sl_log_t *log)
{
    return 0;
}
