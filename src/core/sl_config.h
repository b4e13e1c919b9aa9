
/*
 * Sluice: system headers and the few portable types every file uses.
 * Included first by every source file.
 */

#ifndef _SL_CONFIG_H_INCLUDED_
#define _SL_CONFIG_H_INCLUDED_


#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <time.h>
#include <glob.h>
#include <dirent.h>
#include <pthread.h>
#include <dlfcn.h>
#include <pwd.h>
#include <grp.h>

#include "sl_auto_config.h"


typedef intptr_t        sl_int_t;
typedef uintptr_t       sl_uint_t;
typedef intptr_t        sl_flag_t;
typedef int             sl_err_t;
typedef int             sl_fd_t;
typedef sl_uint_t       sl_msec_t;
typedef sl_int_t        sl_msec_int_t;

#ifndef u_char
#define u_char          unsigned char
#endif

#define SL_INVALID_FILE      -1
#define SL_INVALID_PID       -1
#define SL_MAX_INT_T_VALUE   INTPTR_MAX
#define SL_MAX_SIZE_T_VALUE  SIZE_MAX
#define SL_MAX_OFF_T_VALUE   INT64_MAX
#define SL_ALIGNMENT         sizeof(unsigned long)

#define sl_align(d, a)      (((d) + ((a) - 1)) & ~((a) - 1))
#define sl_align_ptr(p, a)                                                   \
    (u_char *) (((uintptr_t) (p) + ((uintptr_t) (a) - 1))                   \
                & ~((uintptr_t) (a) - 1))

#define sl_abs(value)       (((value) >= 0) ? (value) : - (value))
#define sl_max(val1, val2)  (((val1) < (val2)) ? (val2) : (val1))
#define sl_min(val1, val2)  (((val1) > (val2)) ? (val2) : (val1))
#define sl_nelems(a)        (sizeof(a) / sizeof((a)[0]))

#define sl_errno            errno
#define sl_socket_errno     errno
#define sl_set_errno(err)   errno = (err)

#if defined(__GNUC__)
#define SL_PRINTF(f, a)     __attribute__((format(printf, f, a)))
#define sl_unused           __attribute__((unused))
#else
#define SL_PRINTF(f, a)
#define sl_unused
#endif


#endif /* _SL_CONFIG_H_INCLUDED_ */
