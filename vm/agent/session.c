/* husk guest agent: what a session (PROTO_EXEC, PROTO_PS, PROTO_KILL_ALL)
 * runs. With husk in the guest the main process is `/husk vm-guest ID
 * CONFIG`: an exec'd process is then `/husk exec ... ID ARGS` (it joins
 * the container's namespaces and cgroup and gets its capabilities and
 * seccomp filter, husk's own code), ps and kill --all are `/husk ps` and
 * `/husk kill --all` of that container. Without husk in the guest an
 * exec'd process runs in the agent's chroot like the main one. */
#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUEST_HUSK "/husk"
#define GUEST_STATE_ROOT "/run/husk" /* runtime/vm_guest.c: GUEST_ROOT */

const char *session_container_id(const struct proto_spec *main_spec)
{
        char **a = main_spec->args;
        if (a && a[0] && a[1] && a[2] && !strcmp(a[0], GUEST_HUSK) && !strcmp(a[1], "vm-guest"))
                return a[2];
        return NULL;
}

struct argv_b {
        char **v;
        size_t n;
        int failed;
};

static void push(struct argv_b *b, const char *s)
{
        char **nv = b->failed ? NULL : realloc(b->v, (b->n + 2) * sizeof(char *));
        if (!nv || !(nv[b->n] = strdup(s))) {
                if (nv)
                        b->v = nv;
                b->failed = 1;
                return;
        }
        b->v = nv;
        nv[++b->n] = NULL;
}

static void push_u32(struct argv_b *b, uint32_t x)
{
        char buf[16];
        snprintf(buf, sizeof(buf), "%u", x);
        push(b, buf);
}

/* A husk tool run as root in the agent's root, with the terminal of in. */
static int tool_spec(struct argv_b *b, const struct proto_spec *in, struct proto_spec *out)
{
        if (b->failed) {
                for (size_t i = 0; b->v && i < b->n; i++)
                        free(b->v[i]);
                free(b->v);
                errno = ENOMEM;
                return -1;
        }
        memset(out, 0, sizeof(*out));
        out->args = b->v;
        if (in) {
                out->terminal = in->terminal;
                out->rows = in->rows;
                out->cols = in->cols;
        }
        return 0;
}

static int exec_spec(const char *cid, const struct proto_spec *in, struct proto_spec *out)
{
        struct argv_b b = { 0 };
        push(&b, GUEST_HUSK);
        push(&b, "--root");
        push(&b, GUEST_STATE_ROOT);
        push(&b, "exec");
        if (in->terminal)
                push(&b, "--tty");
        if (in->cwd) {
                push(&b, "--cwd");
                push(&b, in->cwd);
        }
        push(&b, "--user");
        char ids[32];
        snprintf(ids, sizeof(ids), "%u:%u", in->uid, in->gid);
        push(&b, ids);
        for (size_t i = 0; in->env && in->env[i]; i++) {
                push(&b, "--env");
                push(&b, in->env[i]);
        }
        push(&b, cid);
        for (size_t i = 0; in->args[i]; i++)
                push(&b, in->args[i]);
        return tool_spec(&b, in, out);
}

int session_spec(const char *cid, const struct frame *f, struct proto_spec *out, char *msg, size_t msglen)
{
        const uint8_t *d = f->data + 4;
        uint32_t len = f->len - 4;
        struct argv_b b = { 0 };
        if (f->type == PROTO_EXEC) {
                struct proto_spec in;
                if (proto_spec_decode(d, len, &in) < 0) {
                        snprintf(msg, msglen, "agent: bad EXEC request: %s", strerror(errno));
                        return -1;
                }
                if (!cid) { /* the agent's chroot, like the main process */
                        *out = in;
                        return 0;
                }
                int r = exec_spec(cid, &in, out);
                proto_spec_free(&in);
                if (r < 0)
                        snprintf(msg, msglen, "agent: exec: %s", strerror(errno));
                return r;
        }
        if (!cid) {
                snprintf(msg, msglen, "agent: %s needs husk in the guest (make vm-guest)",
                         f->type == PROTO_PS ? "ps" : "kill --all");
                return -1;
        }
        push(&b, GUEST_HUSK);
        push(&b, "--root");
        push(&b, GUEST_STATE_ROOT);
        if (f->type == PROTO_PS) {
                push(&b, "ps");
                if (proto_get_u32(d) & PROTO_PS_JSON) {
                        push(&b, "--format");
                        push(&b, "json");
                }
                push(&b, cid);
        } else {
                push(&b, "kill");
                push(&b, "--all");
                push(&b, cid);
                push_u32(&b, proto_get_u32(d));
        }
        if (tool_spec(&b, NULL, out) < 0) {
                snprintf(msg, msglen, "agent: %s: %s", proto_type_name(f->type), strerror(errno));
                return -1;
        }
        return 0;
}
