
/*
 * Master <-> worker channels: a socketpair per worker carrying small
 * fixed commands (and, with SL_CMD_OPEN_CHANNEL, a worker's fd to the
 * others so that workers can reach each other).
 */

#ifndef _SL_CHANNEL_H_INCLUDED_
#define _SL_CHANNEL_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


#define SL_CMD_OPEN_CHANNEL   1
#define SL_CMD_CLOSE_CHANNEL  2
#define SL_CMD_QUIT           3
#define SL_CMD_TERMINATE      4
#define SL_CMD_REOPEN         5


typedef struct {
    sl_uint_t    command;
    sl_pid_t     pid;
    sl_int_t     slot;
    sl_fd_t      fd;
} sl_channel_t;


sl_int_t sl_write_channel(sl_socket_t s, sl_channel_t *ch, size_t size,
    sl_log_t *log);
sl_int_t sl_read_channel(sl_socket_t s, sl_channel_t *ch, size_t size,
    sl_log_t *log);
sl_int_t sl_add_channel_event(sl_cycle_t *cycle, sl_fd_t fd, sl_int_t event,
    sl_event_handler_pt handler);
void sl_close_channel(sl_fd_t *fd, sl_log_t *log);


#endif /* _SL_CHANNEL_H_INCLUDED_ */
