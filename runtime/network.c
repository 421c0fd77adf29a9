/* runtime/network.c: net/ wired into create, delete and the CLI. */
#include "network.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "../common/fileutil.h"
#include "container.h"

int network_cli_opt(struct net_cli *n, const char *name, const char *arg, herr_t *err)
{
        if (!strcmp(name, "net")) {
                if (net_parse_mode(arg, &n->opts.mode, err) < 0)
                        return -1;
                n->mode_set = true;
                return 0;
        }
        if (n->opts.n_ports >= NETWORK_MAX_PORTS)
                return herr_set(err, 0, "-p %s: at most %d published ports", arg, NETWORK_MAX_PORTS);
        if (net_parse_port(arg, &n->ports[n->opts.n_ports], err) < 0)
                return -1;
        n->opts.n_ports++;
        return 0;
}

int network_cli_finish(struct net_cli *n, const struct net_opts **out, herr_t *err)
{
        *out = NULL;
        if (!n->mode_set && !n->opts.n_ports)
                return 0;
        if (!n->mode_set)
                n->opts.mode = NET_MODE_BRIDGE;
        if (n->opts.n_ports && n->opts.mode != NET_MODE_BRIDGE)
                return herr_set(err, 0, "-p: publishing ports needs --net bridge, not --net %s",
                                net_mode_name(n->opts.mode));
        n->opts.ports = n->ports;
        const char *b = getenv("HUSK_NET_BRIDGE"), *s = getenv("HUSK_NET_SUBNET");
        if (b && *b)
                n->opts.bridge = b;
        if (s && *s)
                n->opts.subnet = s;
        *out = &n->opts;
        return 0;
}

/* <root>/.husk-net/files/<id>: outside the 0700 state directory, so that
 * a container with a user namespace (root mapped to an unprivileged uid)
 * can still reach the bind-mount sources. */
static void files_dir(const char *root, const char *id, char *buf, size_t len)
{
        snprintf(buf, len, "%s/.husk-net/files/%s", root, id);
}

int network_prepare(const struct net_opts *net, struct oci_config *cfg, const char *root, const char *id,
                    herr_t *err)
{
        if (!net)
                return 0;
        char dir[PATH_MAX], top[PATH_MAX];
        files_dir(root, id, dir, sizeof dir);
        snprintf(top, sizeof top, "%s/.husk-net/files", root);
        if (mkdir_p(top, 0711, err) < 0)
                return -1;
        snprintf(top, sizeof top, "%s/.husk-net", root);
        (void)chmod(top, 0711);
        return net_prepare_config(cfg, net, dir, err);
}

int network_setup(const struct net_opts *net, const struct oci_config *cfg, const char *root, const char *id, pid_t pid, herr_t *err)
{
        if (!net)
                return 0;
        char dir[PATH_MAX];
        files_dir(root, id, dir, sizeof dir);
        struct net_opts o = *net;
        if (!o.hostname && cfg->hostname)
                o.hostname = cfg->hostname;
        return net_setup(&o, root, id, pid, dir, NULL, err);
}

void network_teardown(const char *root, const char *id)
{
        herr_t e = { 0 };
        if (net_teardown(root, id, &e) < 0)
                husk_warn("%s", e.msg);
        char dir[PATH_MAX];
        files_dir(root, id, dir, sizeof dir);
        herr_clear(&e);
        if (remove_tree(dir, &e) < 0 && e.errnum != ENOENT)
                husk_warn("%s", e.msg);
}
