/* seccomp/notify.c: the container process state and its delivery to the
 * seccomp agent at listenerPath (config-linux.md, SCMP_ACT_NOTIFY). */
#include "seccomp.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "../common/cleanup.h"

static inline void cleanup_yajl_treep(yajl_val *v)
{
        if (*v)
                yajl_tree_free(*v);
}

static inline void cleanup_yajl_genp(yajl_gen *g)
{
        if (*g)
                yajl_gen_free(*g);
}

#define GS(g, s) yajl_gen_string((g), (const unsigned char *)(s), strlen(s))

/* Re-emit a parsed JSON value (the state document) into g. */
static yajl_gen_status gen_tree(yajl_gen g, yajl_val v)
{
        yajl_gen_status st = yajl_gen_status_ok;
        if (YAJL_IS_OBJECT(v)) {
                yajl_gen_map_open(g);
                for (size_t i = 0; i < v->u.object.len && st == yajl_gen_status_ok; i++) {
                        GS(g, v->u.object.keys[i]);
                        st = gen_tree(g, v->u.object.values[i]);
                }
                return st ? st : yajl_gen_map_close(g);
        }
        if (YAJL_IS_ARRAY(v)) {
                yajl_gen_array_open(g);
                for (size_t i = 0; i < v->u.array.len && st == yajl_gen_status_ok; i++)
                        st = gen_tree(g, v->u.array.values[i]);
                return st ? st : yajl_gen_array_close(g);
        }
        if (YAJL_IS_STRING(v))
                return GS(g, v->u.string);
        if (YAJL_IS_NUMBER(v))
                return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
        if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
                return yajl_gen_bool(g, YAJL_IS_TRUE(v));
        return yajl_gen_null(g);
}

int seccomp_process_state_json(const char *state_json, pid_t pid, const char *metadata,
                               char **out, herr_t *err)
{
        char ebuf[256] = "";
        __attribute__((cleanup(cleanup_yajl_treep))) yajl_val state = yajl_tree_parse(state_json, ebuf, sizeof ebuf);
        if (!state || !YAJL_IS_OBJECT(state))
                return herr_set(err, 0, "container process state: state is not a JSON object%s%s",
                                ebuf[0] ? ": " : "", ebuf);
        const char *ver_path[] = { "ociVersion", NULL };
        const char *ver = YAJL_GET_STRING(yajl_tree_get(state, ver_path, yajl_t_string));
        if (!ver)
                return herr_set(err, 0, "container process state: state.ociVersion missing");

        __attribute__((cleanup(cleanup_yajl_genp))) yajl_gen g = yajl_gen_alloc(NULL);
        if (!g)
                return herr_set(err, ENOMEM, "container process state");
        yajl_gen_map_open(g);
        GS(g, "ociVersion");
        GS(g, ver);
        GS(g, "fds");
        yajl_gen_array_open(g);
        GS(g, "seccompFd");
        yajl_gen_array_close(g);
        GS(g, "pid");
        yajl_gen_integer(g, pid);
        if (metadata) {
                GS(g, "metadata");
                GS(g, metadata);
        }
        GS(g, "state");
        gen_tree(g, state);
        if (yajl_gen_map_close(g) != yajl_gen_status_ok)
                return herr_set(err, 0, "container process state: JSON generation failed");
        const unsigned char *buf;
        size_t len;
        yajl_gen_get_buf(g, &buf, &len);
        *out = strndup((const char *)buf, len);
        if (!*out)
                return herr_set(err, ENOMEM, "container process state");
        return 0;
}

static int send_state(int sock, int notify_fd, const char *json, herr_t *err)
{
        size_t len = strlen(json), off = 0;
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        memset(&u, 0, sizeof u);
        while (off < len) {
                struct iovec iov = { .iov_base = (char *)json + off, .iov_len = len - off };
                struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
                if (off == 0) {  /* the fd goes with the first sendmsg only */
                        msg.msg_control = u.buf;
                        msg.msg_controllen = sizeof u.buf;
                        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                        c->cmsg_level = SOL_SOCKET;
                        c->cmsg_type = SCM_RIGHTS;
                        c->cmsg_len = CMSG_LEN(sizeof(int));
                        memcpy(CMSG_DATA(c), &notify_fd, sizeof(int));
                }
                ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return herr_sys(err, "sendmsg");
                off += (size_t)n;
        }
        return 0;
}

int seccomp_send_listener(const char *listener_path, int notify_fd, const char *state_json,
                          herr_t *err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (!listener_path || strlen(listener_path) >= sizeof sa.sun_path)
                return herr_set(err, ENAMETOOLONG, "linux.seccomp.listenerPath '%s'",
                                listener_path ? listener_path : "(null)");
        if (notify_fd < 0)
                return herr_set(err, EBADF, "seccomp listener %s: no notify fd", listener_path);
        strcpy(sa.sun_path, listener_path);
        _cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return herr_sys(err, "seccomp listener %s: socket", listener_path);
        if (connect(sock, (struct sockaddr *)&sa, sizeof sa) < 0)
                return herr_sys(err, "seccomp listener %s: connect", listener_path);
        if (send_state(sock, notify_fd, state_json, err) < 0)
                return herr_prefix(err, "seccomp listener %s", listener_path);
        return 0;  /* the connection is closed here: it is never reused */
}
