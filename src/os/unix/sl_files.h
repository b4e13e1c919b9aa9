
/*
 * Files: thin wrappers that retry EINTR and report short writes, plus the
 * open files the error and access logs share (reopened on SIGUSR1).
 */

#ifndef _SL_FILES_H_INCLUDED_
#define _SL_FILES_H_INCLUDED_


#include <sl_config.h>
#include <sl_core.h>


struct sl_open_file_s {
    sl_fd_t           fd;
    sl_str_t          name;        /* absolute; empty for stderr */
};


#define sl_open_file(name, mode, create, access)                             \
    open((const char *) (name), (mode)|(create)|O_CLOEXEC, access)
#define sl_close_file    close
#define sl_delete_file(name)   unlink((const char *) name)
#define sl_file_size(sb)       (sb)->st_size

/* pread/pwrite the whole range or fail; SL_ERROR with errno set */
ssize_t sl_read_file(sl_fd_t fd, u_char *buf, size_t size, off_t offset);
ssize_t sl_write_file(sl_fd_t fd, u_char *buf, size_t size, off_t offset);
ssize_t sl_write_fd(sl_fd_t fd, void *buf, size_t n);

/* writes a small file atomically: temp file, fsync, rename, fsync dir */
sl_int_t sl_write_file_atomic(u_char *path, u_char *data, size_t len,
    sl_log_t *log);
/* mkdir -p */
sl_int_t sl_create_full_path(u_char *dir, mode_t access);
/* O_APPEND, created with its directory if missing; errno set on failure */
sl_fd_t sl_open_append_file(u_char *name);
/* rm -r of a directory we own */
sl_int_t sl_delete_dir_tree(u_char *dir, sl_log_t *log);
sl_int_t sl_fsync_dir(u_char *dir);

/* makes name absolute against prefix (copied into the pool if changed) */
sl_int_t sl_get_full_name(sl_pool_t *pool, sl_str_t *prefix, sl_str_t *name);
sl_open_file_t *sl_conf_open_file(sl_cycle_t *cycle, sl_str_t *name);
void sl_reopen_files(sl_cycle_t *cycle);


#endif /* _SL_FILES_H_INCLUDED_ */
