
/*
 * Cached time.  The event loop calls sl_time_update() once per iteration
 * so that timers and log lines read a variable instead of the clock.
 * Timers use the monotonic clock (immune to the wall clock being set);
 * the strings use the wall clock and are rebuilt once a second.
 */


#include <sl_config.h>
#include <sl_core.h>


static void sl_time_format(time_t sec);


volatile sl_msec_t   sl_current_msec;
volatile int64_t     sl_realtime_msec;

sl_str_t             sl_cached_err_log_time;
sl_str_t             sl_cached_http_time;
sl_str_t             sl_cached_http_log_time;


static time_t        sl_cached_sec = (time_t) -1;

static u_char        sl_err_log_time[sizeof("1970/09/28 12:00:00")];
static u_char        sl_http_time_buf[sizeof("Mon, 28 Sep 1970 06:00:00 GMT")];
static u_char        sl_http_log_time[sizeof("28/Sep/1970:12:00:00 +0600")];

static const char   *sl_week[] = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};

static const char   *sl_months[] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};


void
sl_time_init(void)
{
    sl_cached_err_log_time.len = sizeof("1970/09/28 12:00:00") - 1;
    sl_cached_http_time.len = sizeof("Mon, 28 Sep 1970 06:00:00 GMT") - 1;
    sl_cached_http_log_time.len = sizeof("28/Sep/1970:12:00:00 +0600") - 1;

    sl_cached_err_log_time.data = sl_err_log_time;
    sl_cached_http_time.data = sl_http_time_buf;
    sl_cached_http_log_time.data = sl_http_log_time;

    sl_cached_sec = (time_t) -1;

    sl_time_update();
}


void
sl_time_update(void)
{
    struct timespec  ts;

    if (sl_cached_err_log_time.data == NULL) {
        sl_time_init();
        return;
    }

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    sl_current_msec = (sl_msec_t) ts.tv_sec * 1000
                      + (sl_msec_t) (ts.tv_nsec / 1000000);

    (void) clock_gettime(CLOCK_REALTIME, &ts);

    sl_realtime_msec = (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;

    if (ts.tv_sec != sl_cached_sec) {
        sl_time_format(ts.tv_sec);
        sl_cached_sec = ts.tv_sec;
    }
}


u_char *
sl_http_time(u_char *buf, time_t t)
{
    struct tm  tm;

    (void) gmtime_r(&t, &tm);

    return sl_slprintf(buf, buf + sizeof("Mon, 28 Sep 1970 06:00:00 GMT"),
                       "%s, %02d %s %4d %02d:%02d:%02d GMT",
                       sl_week[tm.tm_wday], tm.tm_mday,
                       sl_months[tm.tm_mon], tm.tm_year + 1900,
                       tm.tm_hour, tm.tm_min, tm.tm_sec);
}


static void
sl_time_format(time_t sec)
{
    long       off;
    struct tm  tm;

    (void) sl_http_time(sl_http_time_buf, sec);

    (void) localtime_r(&sec, &tm);

    (void) sl_slprintf(sl_err_log_time,
                       sl_err_log_time + sizeof(sl_err_log_time),
                       "%4d/%02d/%02d %02d:%02d:%02d",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec);

    off = tm.tm_gmtoff / 60;

    (void) sl_slprintf(sl_http_log_time,
                       sl_http_log_time + sizeof(sl_http_log_time),
                       "%02d/%s/%d:%02d:%02d:%02d %c%02ld%02ld",
                       tm.tm_mday, sl_months[tm.tm_mon], tm.tm_year + 1900,
                       tm.tm_hour, tm.tm_min, tm.tm_sec,
                       off < 0 ? '-' : '+', sl_abs(off) / 60, sl_abs(off) % 60);
}
