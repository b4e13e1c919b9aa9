
/*
 * The process pieces that need no master: channel messages over a
 * socketpair (with and without a descriptor, a message cut short, a
 * closed peer, nothing to read), the respawn back-off, and the process
 * title over a fake argv.
 */


#include <sl_config.h>
#include <sl_core.h>

#include <setjmp.h>
#include <cmocka.h>


static sl_log_t  *test_log;


static int
test_setup(void **state)
{
    test_log = sl_log_init((u_char *) "/tmp/", (u_char *) "stderr");

    return test_log ? 0 : -1;
}


static void
test_pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(sl_nonblocking(sv[0]), SL_OK);
    assert_int_equal(sl_nonblocking(sv[1]), SL_OK);
}


static sl_uint_t
test_open_fds(void)
{
    DIR        *d;
    sl_uint_t   n;

    n = 0;
    d = opendir("/proc/self/fd");
    assert_non_null(d);

    while (readdir(d)) {
        n++;
    }

    closedir(d);

    return n;
}


static void
test_channel_command(void **state)
{
    int           sv[2];
    sl_channel_t  ch, got;

    test_pair(sv);

    sl_memzero(&ch, sizeof(sl_channel_t));
    ch.command = SL_CMD_QUIT;
    ch.pid = 1234;
    ch.slot = 7;
    ch.fd = -1;

    assert_int_equal(sl_write_channel(sv[0], &ch, sizeof(sl_channel_t),
                                      test_log), SL_OK);

    sl_memzero(&got, sizeof(sl_channel_t));
    got.fd = 99;

    assert_int_equal(sl_read_channel(sv[1], &got, sizeof(sl_channel_t),
                                     test_log),
                     (sl_int_t) sizeof(sl_channel_t));
    assert_int_equal(got.command, SL_CMD_QUIT);
    assert_int_equal(got.pid, 1234);
    assert_int_equal(got.slot, 7);
    assert_int_equal(got.fd, -1);

    /* nothing more: a non-blocking read says so */
    assert_int_equal(sl_read_channel(sv[1], &got, sizeof(sl_channel_t),
                                     test_log), SL_AGAIN);

    sl_close_channel(sv, test_log);
    assert_int_equal(sv[0], -1);
    assert_int_equal(sv[1], -1);
}


static void
test_channel_passes_fd(void **state)
{
    int           sv[2], pipefd[2];
    char          buf[8];
    sl_channel_t  ch, got;

    test_pair(sv);
    assert_int_equal(pipe(pipefd), 0);

    sl_memzero(&ch, sizeof(sl_channel_t));
    ch.command = SL_CMD_OPEN_CHANNEL;
    ch.pid = 42;
    ch.slot = 3;
    ch.fd = pipefd[1];

    assert_int_equal(sl_write_channel(sv[0], &ch, sizeof(sl_channel_t),
                                      test_log), SL_OK);

    /* our copy goes; the one received must still reach the pipe */
    close(pipefd[1]);

    assert_int_equal(sl_read_channel(sv[1], &got, sizeof(sl_channel_t),
                                     test_log),
                     (sl_int_t) sizeof(sl_channel_t));
    assert_int_equal(got.command, SL_CMD_OPEN_CHANNEL);
    assert_int_equal(got.slot, 3);
    assert_true(got.fd >= 0);

    /* received close-on-exec, as every channel descriptor */
    assert_true(fcntl(got.fd, F_GETFD) & FD_CLOEXEC);

    assert_int_equal(write(got.fd, "ring", 4), 4);
    assert_int_equal(read(pipefd[0], buf, sizeof(buf)), 4);
    assert_memory_equal(buf, "ring", 4);

    close(got.fd);
    close(pipefd[0]);
    sl_close_channel(sv, test_log);
}


static void
test_channel_several_messages(void **state)
{
    int           sv[2];
    sl_int_t      i;
    sl_channel_t  ch, got;

    test_pair(sv);

    sl_memzero(&ch, sizeof(sl_channel_t));
    ch.fd = -1;

    for (i = 0; i < 10; i++) {
        ch.command = SL_CMD_CLOSE_CHANNEL;
        ch.slot = i;
        assert_int_equal(sl_write_channel(sv[0], &ch, sizeof(sl_channel_t),
                                          test_log), SL_OK);
    }

    /* a stream socket: each read takes exactly one message */
    for (i = 0; i < 10; i++) {
        assert_int_equal(sl_read_channel(sv[1], &got, sizeof(sl_channel_t),
                                         test_log),
                         (sl_int_t) sizeof(sl_channel_t));
        assert_int_equal(got.slot, i);
    }

    sl_close_channel(sv, test_log);
}


static void
test_channel_errors(void **state)
{
    int              sv[2], pipefd[2];
    sl_uint_t        before;
    sl_channel_t     ch, got;
    struct iovec     iov;
    struct msghdr    msg;
    struct cmsghdr  *cmsg;
    union {
        struct cmsghdr  cm;
        char            space[CMSG_SPACE(sizeof(int))];
    } cmsg_buf;

    /* OPEN_CHANNEL without its descriptor */

    test_pair(sv);

    sl_memzero(&ch, sizeof(sl_channel_t));
    ch.command = SL_CMD_OPEN_CHANNEL;
    ch.fd = -1;

    assert_int_equal(sl_write_channel(sv[0], &ch, sizeof(sl_channel_t),
                                      test_log), SL_OK);
    assert_int_equal(sl_read_channel(sv[1], &got, sizeof(sl_channel_t),
                                     test_log), SL_ERROR);

    /* a message cut short that carries a descriptor: not leaked */

    assert_int_equal(pipe(pipefd), 0);
    before = test_open_fds();

    sl_memzero(&msg, sizeof(struct msghdr));
    sl_memzero(&cmsg_buf, sizeof(cmsg_buf));
    msg.msg_control = &cmsg_buf;
    msg.msg_controllen = sizeof(cmsg_buf);
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    sl_memcpy(CMSG_DATA(cmsg), &pipefd[1], sizeof(int));

    iov.iov_base = &ch;
    iov.iov_len = 3;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;

    assert_int_equal(sendmsg(sv[0], &msg, 0), 3);
    assert_int_equal(sl_read_channel(sv[1], &got, sizeof(sl_channel_t),
                                     test_log), SL_ERROR);
    assert_int_equal(test_open_fds(), before);

    close(pipefd[0]);
    close(pipefd[1]);

    /* the peer is gone: the worker's cue that the master died */

    close(sv[0]);
    assert_int_equal(sl_read_channel(sv[1], &got, sizeof(sl_channel_t),
                                     test_log), SL_ERROR);
    close(sv[1]);

    /* writing to a closed peer fails without SIGPIPE */

    test_pair(sv);
    close(sv[1]);

    sl_memzero(&ch, sizeof(sl_channel_t));
    ch.command = SL_CMD_QUIT;
    ch.fd = -1;

    assert_int_equal(sl_write_channel(sv[0], &ch, sizeof(sl_channel_t),
                                      test_log), SL_ERROR);
    close(sv[0]);
}


static void
test_respawn_backoff(void **state)
{
    sl_uint_t  fails;

    fails = 0;

    /* a long life: at once, and nothing counted */
    assert_int_equal(sl_respawn_backoff(&fails, SL_RESPAWN_MIN_LIFE), 0);
    assert_int_equal(fails, 0);

    /* dying at start: doubling from the first delay up to the maximum */
    assert_int_equal(sl_respawn_backoff(&fails, 0), 250);
    assert_int_equal(sl_respawn_backoff(&fails, 10), 500);
    assert_int_equal(sl_respawn_backoff(&fails, 999), 1000);
    assert_int_equal(sl_respawn_backoff(&fails, 0), 2000);
    assert_int_equal(sl_respawn_backoff(&fails, 0), 4000);
    assert_int_equal(sl_respawn_backoff(&fails, 0), SL_RESPAWN_MAX_DELAY);
    assert_int_equal(fails, 6);

    /* and it stays there, without overflowing the shift */
    while (fails < 200) {
        assert_int_equal(sl_respawn_backoff(&fails, 0),
                         SL_RESPAWN_MAX_DELAY);
    }

    /* one long life starts over */
    assert_int_equal(sl_respawn_backoff(&fails, 60000), 0);
    assert_int_equal(fails, 0);
    assert_int_equal(sl_respawn_backoff(&fails, 0), SL_RESPAWN_FIRST_DELAY);
}


static void
test_setproctitle(void **state)
{
    int    i, saved_argc;
    char   area[64], *argv[4], **saved_argv;

    /* three strings back to back, as the kernel lays argv out */
    sl_memcpy(area, "/bin/sluice\0-p\0/prefix/\0", 24);
    sl_memset(area + 24, 'Z', sizeof(area) - 24);
    area[sizeof(area) - 1] = '\0';

    argv[0] = area;
    argv[1] = area + 12;
    argv[2] = area + 15;
    argv[3] = NULL;

    saved_argc = sl_argc;
    saved_argv = sl_argv;

    assert_int_equal(sl_save_argv(3, argv), SL_OK);
    assert_int_equal(sl_argc, 3);
    assert_string_equal(sl_argv[2], "/prefix/");
    assert_true(sl_argv[2] != argv[2]);

    assert_int_equal(sl_init_setproctitle(test_log), SL_OK);

    sl_setproctitle("worker process");

    assert_string_equal(area, "sluice: worker process");

    /* the rest of the old argv is cleared, what follows it untouched */
    assert_int_equal(area[23], '\0');
    assert_int_equal(area[24], 'Z');

    /* the copies are intact */
    assert_string_equal(sl_argv[0], "/bin/sluice");
    assert_string_equal(sl_argv[1], "-p");
    assert_string_equal(sl_argv[2], "/prefix/");

    /* a title longer than the area is cut, never overflows it */
    sl_setproctitle("master process /a/very/long/path/that/does/not/fit");
    assert_int_equal(area[23], '\0');
    assert_int_equal(area[24], 'Z');
    assert_true(strlen(area) < 24);
    assert_memory_equal(area, "sluice: master process /a", strlen(area));

    for (i = 0; i < sl_argc; i++) {
        free(sl_argv[i]);
    }

    free(sl_argv);

    sl_argc = saved_argc;
    sl_argv = saved_argv;
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_channel_command),
        cmocka_unit_test(test_channel_passes_fd),
        cmocka_unit_test(test_channel_several_messages),
        cmocka_unit_test(test_channel_errors),
        cmocka_unit_test(test_respawn_backoff),
        cmocka_unit_test(test_setproctitle),
    };

    return cmocka_run_group_tests(tests, test_setup, NULL);
}
