
/*
 * errno values the event code tests by name.
 */

#ifndef _SL_ERRNO_H_INCLUDED_
#define _SL_ERRNO_H_INCLUDED_


#define SL_EPERM         EPERM
#define SL_ENOENT        ENOENT
#define SL_ESRCH         ESRCH
#define SL_EINTR         EINTR
#define SL_ECHILD        ECHILD
#define SL_ENOMEM        ENOMEM
#define SL_EACCES        EACCES
#define SL_EBUSY         EBUSY
#define SL_EEXIST        EEXIST
#define SL_ENOTDIR       ENOTDIR
#define SL_EISDIR        EISDIR
#define SL_EINVAL        EINVAL
#define SL_ENFILE        ENFILE
#define SL_EMFILE        EMFILE
#define SL_ENOSPC        ENOSPC
#define SL_EPIPE         EPIPE
#define SL_EAGAIN        EAGAIN
#define SL_EINPROGRESS   EINPROGRESS
#define SL_EADDRINUSE    EADDRINUSE
#define SL_ECONNABORTED  ECONNABORTED
#define SL_ECONNRESET    ECONNRESET
#define SL_ENOTCONN      ENOTCONN
#define SL_ETIMEDOUT     ETIMEDOUT
#define SL_ECONNREFUSED  ECONNREFUSED
#define SL_EHOSTUNREACH  EHOSTUNREACH
#define SL_EOWNERDEAD    EOWNERDEAD
#define SL_EDQUOT        EDQUOT
#define SL_EIO           EIO


#endif /* _SL_ERRNO_H_INCLUDED_ */
