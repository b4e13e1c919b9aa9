
/*
 * Files: whole-range reads and writes that retry EINTR, atomic small
 * files (pid, checkpoints), directory helpers, and the open files of
 * the logs, which a cycle owns and SIGUSR1 reopens.
 */


#include <sl_config.h>
#include <sl_core.h>


#define SL_OPEN_FILES_N  16


static sl_int_t sl_delete_dir_at(int dirfd, sl_log_t *log, u_char *path);


ssize_t
sl_read_file(sl_fd_t fd, u_char *buf, size_t size, off_t offset)
{
    size_t   done;
    ssize_t  n;

    for (done = 0; done < size; /* void */) {

        n = pread(fd, buf + done, size - done, offset + done);

        if (n == -1) {
            if (sl_errno == SL_EINTR) {
                continue;
            }

            return SL_ERROR;
        }

        if (n == 0) {
            break;
        }

        done += n;
    }

    return done;
}


ssize_t
sl_write_file(sl_fd_t fd, u_char *buf, size_t size, off_t offset)
{
    size_t   done;
    ssize_t  n;

    for (done = 0; done < size; /* void */) {

        n = pwrite(fd, buf + done, size - done, offset + done);

        if (n == -1) {
            if (sl_errno == SL_EINTR) {
                continue;
            }

            return SL_ERROR;
        }

        if (n == 0) {
            sl_set_errno(SL_ENOSPC);
            return SL_ERROR;
        }

        done += n;
    }

    return done;
}


ssize_t
sl_write_fd(sl_fd_t fd, void *buf, size_t n)
{
    u_char   *p;
    size_t    done;
    ssize_t   w;

    p = buf;

    for (done = 0; done < n; /* void */) {

        w = write(fd, p + done, n - done);

        if (w == -1) {
            if (sl_errno == SL_EINTR) {
                continue;
            }

            return SL_ERROR;
        }

        if (w == 0) {
            sl_set_errno(SL_ENOSPC);
            return SL_ERROR;
        }

        done += w;
    }

    return done;
}


/*
 * Readers see either the old file or the new one, and after a crash the
 * new one is either complete or absent: write a temporary file beside
 * it, fsync it, rename it over the old one and fsync the directory so
 * that the rename itself is durable.
 */

sl_int_t
sl_write_file_atomic(u_char *path, u_char *data, size_t len, sl_log_t *log)
{
    int       err;
    char     *tmp, *dir, *slash;
    size_t    plen;
    sl_fd_t   fd;
    sl_int_t  rc;

    plen = sl_strlen(path);

    tmp = malloc(plen + sizeof(".tmp.") + 20);
    if (tmp == NULL) {
        return SL_ERROR;
    }

    (void) sl_slprintf((u_char *) tmp, (u_char *) tmp + plen + 25,
                       "%s.tmp.%d", (char *) path, (int) getpid());

    rc = SL_ERROR;

    fd = sl_open_file(tmp, O_WRONLY, O_CREAT|O_TRUNC, 0644);
    if (fd == SL_INVALID_FILE) {
        err = sl_errno;

        if (log) {
            sl_log_error(SL_LOG_CRIT, log, err, "open() \"%s\" failed", tmp);
        }

        free(tmp);
        sl_set_errno(err);

        return SL_ERROR;
    }

    if (sl_write_fd(fd, data, len) == SL_ERROR) {
        err = sl_errno;

        if (log) {
            sl_log_error(SL_LOG_CRIT, log, err, "write() \"%s\" failed", tmp);
        }

        goto failed;
    }

    if (fsync(fd) == -1) {
        err = sl_errno;

        if (log) {
            sl_log_error(SL_LOG_CRIT, log, err, "fsync() \"%s\" failed", tmp);
        }

        goto failed;
    }

    if (sl_close_file(fd) == -1) {
        fd = SL_INVALID_FILE;
        err = sl_errno;

        if (log) {
            sl_log_error(SL_LOG_CRIT, log, err, "close() \"%s\" failed", tmp);
        }

        goto failed;
    }

    fd = SL_INVALID_FILE;

    if (rename(tmp, (char *) path) == -1) {
        err = sl_errno;

        if (log) {
            sl_log_error(SL_LOG_CRIT, log, err,
                         "rename() \"%s\" to \"%s\" failed", tmp, path);
        }

        goto failed;
    }

    free(tmp);

    /* the directory of path, or "." */

    dir = strdup((char *) path);
    if (dir == NULL) {
        return SL_ERROR;
    }

    slash = strrchr(dir, '/');

    if (slash == NULL) {
        rc = sl_fsync_dir((u_char *) ".");

    } else {
        if (slash == dir) {
            slash++;
        }

        *slash = '\0';
        rc = sl_fsync_dir((u_char *) dir);
    }

    if (rc != SL_OK && log) {
        sl_log_error(SL_LOG_CRIT, log, sl_errno,
                     "fsync() of the directory of \"%s\" failed", path);
    }

    free(dir);

    return rc;

failed:

    if (fd != SL_INVALID_FILE) {
        (void) sl_close_file(fd);
    }

    (void) unlink(tmp);
    free(tmp);

    sl_set_errno(err);

    return rc;
}


sl_int_t
sl_create_full_path(u_char *dir, mode_t access)
{
    int          err;
    char        *path, *p, c;
    sl_int_t     rc;
    struct stat  sb;

    if (dir[0] == '\0') {
        return SL_OK;
    }

    path = strdup((char *) dir);
    if (path == NULL) {
        return SL_ERROR;
    }

    rc = SL_OK;

    for (p = path + 1; /* void */; p++) {

        if (*p != '/' && *p != '\0') {
            continue;
        }

        c = *p;
        *p = '\0';

        if (mkdir(path, access) == -1) {
            err = sl_errno;

            if (err != SL_EEXIST
                || stat(path, &sb) == -1
                || !S_ISDIR(sb.st_mode))
            {
                sl_set_errno((err == SL_EEXIST) ? SL_ENOTDIR : err);
                rc = SL_ERROR;
                break;
            }
        }

        if (c == '\0') {
            break;
        }

        *p = c;
    }

    free(path);

    return rc;
}


/* a missing directory counts as deleted */

sl_int_t
sl_delete_dir_tree(u_char *dir, sl_log_t *log)
{
    int       fd;
    sl_int_t  rc;

    fd = open((char *) dir, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);

    if (fd == -1) {
        if (sl_errno == SL_ENOENT) {
            return SL_OK;
        }

        if (log) {
            sl_log_error(SL_LOG_CRIT, log, sl_errno,
                         "open() \"%s\" failed", dir);
        }

        return SL_ERROR;
    }

    rc = sl_delete_dir_at(fd, log, dir);

    if (rc != SL_OK) {
        return rc;
    }

    if (rmdir((char *) dir) == -1 && sl_errno != SL_ENOENT) {
        if (log) {
            sl_log_error(SL_LOG_CRIT, log, sl_errno,
                         "rmdir() \"%s\" failed", dir);
        }

        return SL_ERROR;
    }

    return SL_OK;
}


/* empties the directory open at dirfd, and closes dirfd */

static sl_int_t
sl_delete_dir_at(int dirfd, sl_log_t *log, u_char *path)
{
    int             fd;
    DIR            *d;
    sl_int_t        rc;
    struct stat     sb;
    struct dirent  *de;

    d = fdopendir(dirfd);
    if (d == NULL) {
        if (log) {
            sl_log_error(SL_LOG_CRIT, log, sl_errno,
                         "fdopendir() \"%s\" failed", path);
        }

        (void) close(dirfd);
        return SL_ERROR;
    }

    rc = SL_OK;

    for ( ;; ) {
        sl_set_errno(0);

        de = readdir(d);

        if (de == NULL) {
            if (sl_errno != 0) {
                if (log) {
                    sl_log_error(SL_LOG_CRIT, log, sl_errno,
                                 "readdir() \"%s\" failed", path);
                }

                rc = SL_ERROR;
            }

            break;
        }

        if (de->d_name[0] == '.'
            && (de->d_name[1] == '\0'
                || (de->d_name[1] == '.' && de->d_name[2] == '\0')))
        {
            continue;
        }

        if (fstatat(dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
            if (sl_errno == SL_ENOENT) {
                continue;
            }

            rc = SL_ERROR;
            break;
        }

        if (S_ISDIR(sb.st_mode)) {
            fd = openat(dirfd, de->d_name,
                        O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);

            if (fd == -1
                || sl_delete_dir_at(fd, log, (u_char *) de->d_name) != SL_OK)
            {
                rc = SL_ERROR;
                break;
            }

            if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) == -1
                && sl_errno != SL_ENOENT)
            {
                rc = SL_ERROR;
                break;
            }

            continue;
        }

        if (unlinkat(dirfd, de->d_name, 0) == -1 && sl_errno != SL_ENOENT) {
            rc = SL_ERROR;
            break;
        }
    }

    if (rc != SL_OK && log) {
        sl_log_error(SL_LOG_CRIT, log, sl_errno,
                     "could not delete \"%s\" in \"%s\"",
                     de ? de->d_name : "", path);
    }

    (void) closedir(d);

    return rc;
}


sl_int_t
sl_fsync_dir(u_char *dir)
{
    int  fd, err;

    fd = open((char *) dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
    if (fd == -1) {
        return SL_ERROR;
    }

    if (fsync(fd) == -1) {
        err = sl_errno;
        (void) close(fd);
        sl_set_errno(err);

        return SL_ERROR;
    }

    (void) close(fd);

    return SL_OK;
}


/*
 * Opens a log file for appending, creating its directory first when it
 * is missing (a fresh prefix has no logs/).  name is not modified.
 */

sl_fd_t
sl_open_append_file(u_char *name)
{
    u_char   *dir, *slash;
    sl_fd_t   fd;

    fd = sl_open_file(name, O_WRONLY|O_APPEND, O_CREAT, 0644);

    if (fd != SL_INVALID_FILE || sl_errno != SL_ENOENT) {
        return fd;
    }

    slash = (u_char *) strrchr((char *) name, '/');

    if (slash == NULL || slash == name) {
        return fd;
    }

    dir = (u_char *) strndup((char *) name, slash - name);
    if (dir == NULL) {
        return fd;
    }

    (void) sl_create_full_path(dir, 0755);
    free(dir);

    return sl_open_file(name, O_WRONLY|O_APPEND, O_CREAT, 0644);
}


/* the result is NUL-terminated when it was made here */

sl_int_t
sl_get_full_name(sl_pool_t *pool, sl_str_t *prefix, sl_str_t *name)
{
    u_char  *p;
    size_t   len;

    if (name->len && name->data[0] == '/') {
        return SL_OK;
    }

    if (prefix == NULL || prefix->len == 0) {
        return SL_OK;
    }

    len = prefix->len;

    if (prefix->data[len - 1] != '/') {
        len++;
    }

    p = sl_pnalloc(pool, len + name->len + 1);
    if (p == NULL) {
        return SL_ERROR;
    }

    sl_memcpy(p, prefix->data, prefix->len);
    p[len - 1] = '/';

    if (name->len) {
        sl_memcpy(p + len, name->data, name->len);
    }

    p[len + name->len] = '\0';

    name->len += len;
    name->data = p;

    return SL_OK;
}


/*
 * Opens an error or access log for a cycle now, in append mode,
 * creating its directory if needed.  The same name in one cycle gives
 * the same sl_open_file_t.  An empty name is stderr.
 */

sl_open_file_t *
sl_conf_open_file(sl_cycle_t *cycle, sl_str_t *name)
{
    char            *z;
    sl_str_t         full;
    sl_uint_t        i;
    sl_list_part_t  *part;
    sl_open_file_t  *file;

    if (cycle->open_files.part.elts == NULL) {
        if (sl_list_init(&cycle->open_files, cycle->pool, SL_OPEN_FILES_N,
                         sizeof(sl_open_file_t))
            != SL_OK)
        {
            return NULL;
        }
    }

    full.len = 0;
    full.data = NULL;

    if (name->len) {
        full = *name;

        if (sl_get_full_name(cycle->pool, &cycle->prefix, &full) != SL_OK) {
            return NULL;
        }

        part = &cycle->open_files.part;
        file = part->elts;

        for (i = 0; /* void */; i++) {

            if (i >= part->nelts) {
                if (part->next == NULL) {
                    break;
                }

                part = part->next;
                file = part->elts;
                i = 0;
            }

            if (full.len == file[i].name.len
                && sl_memcmp(full.data, file[i].name.data, full.len) == 0)
            {
                return &file[i];
            }
        }

        z = sl_pstrz(cycle->pool, &full);
        if (z == NULL) {
            return NULL;
        }

        full.data = (u_char *) z;
    }

    file = sl_list_push(&cycle->open_files);
    if (file == NULL) {
        return NULL;
    }

    file->name = full;

    if (full.len == 0) {
        file->fd = STDERR_FILENO;
        return file;
    }

    file->fd = sl_open_append_file(full.data);

    if (file->fd == SL_INVALID_FILE) {
        /* keep the entry inert: nothing to close or reopen */
        file->name.len = 0;
        return NULL;
    }

    return file;
}


/*
 * SIGUSR1, after logrotate moved the files: open each by name again and
 * put the new file under the old descriptor, so that every holder of the
 * descriptor follows; stderr, a copy, is redirected again.
 */

void
sl_reopen_files(sl_cycle_t *cycle)
{
    sl_fd_t          fd;
    sl_uint_t        i;
    sl_list_part_t  *part;
    sl_open_file_t  *file;

    if (cycle->open_files.part.elts == NULL) {
        return;
    }

    part = &cycle->open_files.part;
    file = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            file = part->elts;
            i = 0;
        }

        if (file[i].name.len == 0) {
            continue;
        }

        fd = sl_open_append_file(file[i].name.data);

        if (fd == SL_INVALID_FILE) {
            sl_log_error(SL_LOG_EMERG, cycle->log, sl_errno,
                         "reopen: open() \"%s\" failed", file[i].name.data);
            continue;
        }

        if (file[i].fd == SL_INVALID_FILE) {
            file[i].fd = fd;
            continue;
        }

        if (dup3(fd, file[i].fd, O_CLOEXEC) == -1) {
            sl_log_error(SL_LOG_EMERG, cycle->log, sl_errno,
                         "reopen: dup3() \"%s\" failed", file[i].name.data);
        }

        (void) sl_close_file(fd);
    }

    /* stderr was a copy of the old file: it follows the error log again */
    (void) sl_log_redirect_stderr(cycle);
}
