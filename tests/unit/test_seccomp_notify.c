/* seccomp: SCMP_ACT_NOTIFY. The child loads a filter that notifies getppid,
 * sends the listener fd and its container process state to listenerPath;
 * the test (the seccomp agent) checks the state and answers. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <yajl/yajl_tree.h>

#include "test_seccomp_util.h"

#define STATE "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":%d," \
              "\"bundle\":\"/b\",\"annotations\":{\"k\":\"v\"}}"
#define METADATA "MKNOD=/dev/null;x=\"q\""
#define ANSWER 4242

static char dir[] = "/tmp/husk-seccomp-XXXXXX";
static char sock_path[64];

static void setup(void)
{
        cr_assert_not_null(mkdtemp(dir));
        snprintf(sock_path, sizeof sock_path, "%s/agent.sock", dir);
}

static void teardown(void)
{
        unlink(sock_path);
        rmdir(dir);
}

static int listen_on(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_geq(fd, 0);
        cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        cr_assert_eq(listen(fd, 1), 0);
        return fd;
}

static void on_usr1(int sig)
{
        (void)sig;
}

/* The container side: load, hand over the fd, then make notified calls. */
static int child_main(const struct oci_seccomp *s)
{
        struct sigaction sa = { .sa_handler = on_usr1 };   /* no SA_RESTART */
        herr_t err;
        int nfd;
        char state[256], *json = NULL;
        sigaction(SIGUSR1, &sa, NULL);
        if (seccomp_load_config(s, &nfd, &err) < 0 || nfd < 0)
                return 10;
        snprintf(state, sizeof state, STATE, (int)getpid());
        if (seccomp_process_state_json(state, getpid(), s->listener_metadata, &json, &err) < 0)
                return 11;
        if (seccomp_send_listener(s->listener_path, nfd, json, &err) < 0)
                return 12;
        free(json);
        close(nfd);
        if (syscall(SYS_getppid, 0) != ANSWER)
                return 13;
        if (syscall(SYS_getppid, 1) != -1 || errno != EXDEV)
                return 14;
        return 0;
}

static bool wait_readable(int fd)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };
        return poll(&p, 1, 10000) == 1 && (p.revents & POLLIN);
}

/* Receive the state text (until EOF) and the one fd of the first message. */
static int recv_state(int conn, char *buf, size_t size)
{
        union {
                char b[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        int fd = -1;
        size_t off = 0;
        for (;;) {
                struct iovec iov = { buf + off, size - 1 - off };
                struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
                                      .msg_controllen = sizeof u.b };
                ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
                cr_assert_geq(n, 0);
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                if (c && c->cmsg_type == SCM_RIGHTS) {
                        cr_assert_eq(off, 0, "fd sent after the first message");
                        memcpy(&fd, CMSG_DATA(c), sizeof fd);
                }
                if (n == 0)
                        break;
                off += (size_t)n;
        }
        buf[off] = '\0';
        return fd;
}

static const char *jstr(yajl_val v, const char **path)
{
        return YAJL_GET_STRING(yajl_tree_get(v, path, yajl_t_string));
}

static void check_state(const char *text, pid_t child)
{
        yajl_val v = yajl_tree_parse(text, NULL, 0);
        cr_assert_not_null(v, "state is not JSON: %s", text);
        cr_assert_str_eq(jstr(v, (const char *[]){ "ociVersion", NULL }), "1.2.0");
        yajl_val fds = yajl_tree_get(v, (const char *[]){ "fds", NULL }, yajl_t_array);
        cr_assert(fds && fds->u.array.len == 1);
        cr_assert_str_eq(YAJL_GET_STRING(fds->u.array.values[0]), "seccompFd");
        yajl_val pid = yajl_tree_get(v, (const char *[]){ "pid", NULL }, yajl_t_number);
        cr_assert(pid && YAJL_GET_INTEGER(pid) == child);
        cr_assert_str_eq(jstr(v, (const char *[]){ "metadata", NULL }), METADATA);
        cr_assert_str_eq(jstr(v, (const char *[]){ "state", "id", NULL }), "c1");
        cr_assert_str_eq(jstr(v, (const char *[]){ "state", "status", NULL }), "creating");
        cr_assert_str_eq(jstr(v, (const char *[]){ "state", "annotations", "k", NULL }), "v");
        yajl_tree_free(v);
}

/* Answer getppid(0) with ANSWER and getppid(1) with EXDEV. With signal, the
 * agent first sends SIGUSR1 to the waiting child: under
 * WAIT_KILLABLE_RECV the call keeps waiting and the answer arrives, else
 * the call is interrupted and the answer is refused (returns false). */
static bool answer(int nfd, pid_t child, bool signal)
{
        struct seccomp_notif *req;
        struct seccomp_notif_resp *resp;
        bool ok = true;
        cr_assert_eq(seccomp_notify_alloc(&req, &resp), 0);
        for (int i = 0; i < 2 && ok; i++) {
                cr_assert(wait_readable(nfd), "no notification");
                memset(req, 0, sizeof *req);   /* the kernel rejects a dirty buffer */
                int rr = seccomp_notify_receive(nfd, req);
                cr_assert_eq(rr, 0, "receive: %s", strerror(-rr));
                cr_assert_eq(req->data.nr, SYS_getppid);
                cr_assert_eq(req->pid, (uint32_t)child);
                memset(resp, 0, sizeof *resp);
                resp->id = req->id;
                if (req->data.args[0] == 0)
                        resp->val = ANSWER;
                else
                        resp->error = -EXDEV;
                if (signal) {
                        kill(child, SIGUSR1);
                        usleep(100 * 1000);
                }
                ok = seccomp_notify_respond(nfd, resp) == 0;
        }
        seccomp_notify_free(req, resp);
        return ok;
}

/* Run the child and be its seccomp agent; returns the child's exit code. */
static int run_agent(const struct oci_seccomp *s, bool signal, bool *answered)
{
        int lfd = listen_on(sock_path);
        pid_t pid = fork();
        if (pid == 0)
                _exit(child_main(s));
        cr_assert(wait_readable(lfd), "the child never connected");
        int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        cr_assert_geq(conn, 0);
        char text[4096];
        int nfd = recv_state(conn, text, sizeof text);
        cr_assert_geq(nfd, 0, "no fd in SCM_RIGHTS");
        check_state(text, pid);
        *answered = answer(nfd, pid, signal);
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        close(nfd);
        close(conn);
        close(lfd);
        return exit_code(st);
}

Test(seccomp_notify, listener_receives_fd_state_and_answers, .init = setup, .fini = teardown)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_NOTIFY", "getppid") };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1,
                                 .listener_path = sock_path, .listener_metadata = METADATA };
        bool answered;
        cr_assert_eq(run_agent(&s, false, &answered), 0);
        cr_assert(answered);
}

Test(seccomp_notify, wait_killable_recv_survives_signals, .init = setup, .fini = teardown)
{
        struct oci_seccomp_syscall sc[] = { SC("SCMP_ACT_NOTIFY", "getppid") };
        struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1,
                                 .listener_path = sock_path, .listener_metadata = METADATA,
                                 .flags = STRV("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
                                               "SECCOMP_FILTER_FLAG_TSYNC"),
                                 .n_flags = 2 };
        bool answered;
        cr_assert_eq(run_agent(&s, true, &answered), 0, "the signal interrupted the notified call");
        cr_assert(answered);
        /* control: without the flag the same signal cancels the call */
        s.n_flags = 0;
        unlink(sock_path);
        cr_assert_eq(run_agent(&s, true, &answered), 13);
        cr_assert_not(answered);
}

Test(seccomp_notify, state_json_without_metadata)
{
        char *out = NULL;
        herr_t err = { 0 };
        cr_assert_eq(seccomp_process_state_json("{\"ociVersion\":\"1.2.0\",\"id\":\"x\"}", 7, NULL,
                                                &out, &err), 0, "%s", err.msg);
        cr_assert_str_eq(out, "{\"ociVersion\":\"1.2.0\",\"fds\":[\"seccompFd\"],\"pid\":7,"
                              "\"state\":{\"ociVersion\":\"1.2.0\",\"id\":\"x\"}}");
        free(out);
        cr_assert_eq(seccomp_process_state_json("[1]", 7, NULL, &out, &err), -1);
        cr_assert(strstr(err.msg, "state is not a JSON object"), "%s", err.msg);
}

Test(seccomp_notify, send_fails_without_listener, .init = setup, .fini = teardown)
{
        herr_t err = { 0 };
        cr_assert_eq(seccomp_send_listener(sock_path, 0, "{}", &err), -1);
        cr_assert(strstr(err.msg, sock_path) && strstr(err.msg, "connect"), "%s", err.msg);
        cr_assert_eq(err.errnum, ENOENT);
}

static int count_fds(void)
{
        int n = 0;
        DIR *d = opendir("/proc/self/fd");
        cr_assert_not_null(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

/* The runtime parent's side: send a fd it holds, leak nothing, close the
 * connection after exactly one state. */
Test(seccomp_notify, send_listener_passes_the_fd_and_closes, .init = setup, .fini = teardown)
{
        int lfd = listen_on(sock_path);
        int p[2];
        cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
        herr_t err = { 0 };
        int before = count_fds();
        cr_assert_eq(seccomp_send_listener(sock_path, p[1], "{\"x\":1}", &err), 0, "%s", err.msg);
        cr_assert_eq(count_fds(), before, "seccomp_send_listener leaked a fd");
        int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        cr_assert_geq(conn, 0);
        char text[64];
        int fd = recv_state(conn, text, sizeof text);   /* reads until EOF: closed */
        cr_assert_str_eq(text, "{\"x\":1}");
        cr_assert_geq(fd, 0);
        char c = 0;
        cr_assert_eq(write(fd, "!", 1), 1);
        cr_assert_eq(read(p[0], &c, 1), 1);
        cr_assert_eq(c, '!', "the received fd is not the sent one");
        close(fd);
        close(conn);
        close(lfd);
        close(p[0]);
        close(p[1]);
}
