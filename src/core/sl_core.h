
/*
 * Sluice: the core's umbrella header.  Every source file includes
 * sl_config.h and then this; it names each core family once, in
 * dependency order, so that headers never include each other in cycles.
 */

#ifndef _SL_CORE_H_INCLUDED_
#define _SL_CORE_H_INCLUDED_


#include <sl_config.h>


typedef struct sl_module_s          sl_module_t;
typedef struct sl_conf_s            sl_conf_t;
typedef struct sl_cycle_s           sl_cycle_t;
typedef struct sl_pool_s            sl_pool_t;
typedef struct sl_log_s             sl_log_t;
typedef struct sl_open_file_s       sl_open_file_t;
typedef struct sl_command_s         sl_command_t;
typedef struct sl_file_s            sl_file_t;
typedef struct sl_event_s           sl_event_t;
typedef struct sl_connection_s      sl_connection_t;
typedef struct sl_listening_s       sl_listening_t;
typedef struct sl_buf_s             sl_buf_t;
typedef struct sl_chain_s           sl_chain_t;

typedef void (*sl_event_handler_pt)(sl_event_t *ev);
typedef void (*sl_connection_handler_pt)(sl_connection_t *c);


#define  SL_OK          0
#define  SL_ERROR      -1
#define  SL_AGAIN      -2
#define  SL_BUSY       -3
#define  SL_DONE       -4
#define  SL_DECLINED   -5
#define  SL_ABORT      -6


#include <sl_errno.h>
#include <sl_atomic.h>
#include <sl_queue.h>
#include <sl_rbtree.h>
#include <sl_string.h>
#include <sl_times.h>
#include <sl_files.h>
#include <sl_shmem.h>
#include <sl_socket.h>
#include <sl_process.h>
#include <sl_log.h>
#include <sl_palloc.h>
#include <sl_buf.h>
#include <sl_array.h>
#include <sl_list.h>
#include <sl_hash.h>
#include <sl_crc32c.h>
#include <sl_varint.h>
#include <sl_shmtx.h>
#include <sl_slab.h>
#include <sl_inet.h>
#include <sl_channel.h>
#include <sl_event.h>
#include <sl_connection.h>
#include <sl_cycle.h>
#include <sl_conf_file.h>
#include <sl_module.h>
#include <sl_stat.h>
#include <sl_metrics.h>
#include <sl_process_cycle.h>


#define LF     (u_char) '\n'
#define CR     (u_char) '\r'
#define CRLF   "\r\n"


#endif /* _SL_CORE_H_INCLUDED_ */
