
/*
 * Cached time, updated once per event loop iteration: a monotonic
 * millisecond clock for timers and wall-clock strings for the logs.
 */

#ifndef _SL_TIMES_H_INCLUDED_
#define _SL_TIMES_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


extern volatile sl_msec_t   sl_current_msec;      /* monotonic */
extern volatile int64_t     sl_realtime_msec;     /* since the epoch */
extern sl_str_t             sl_cached_err_log_time;  /* 2026/11/25 05:01:02 */
extern sl_str_t             sl_cached_http_time;     /* RFC 1123 */
extern sl_str_t             sl_cached_http_log_time; /* 25/Nov/2026:05:... */

void sl_time_init(void);
void sl_time_update(void);
/* RFC 1123 date of t into buf (at least 30 bytes), returns the end */
u_char *sl_http_time(u_char *buf, time_t t);


#endif /* _SL_TIMES_H_INCLUDED_ */
