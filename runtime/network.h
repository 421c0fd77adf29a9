/* runtime/network.h: the call sites of net/ in create, delete and the CLI
 * (--net MODE, -p HOSTPORT:CPORT[/tcp|udp]). */
#ifndef HUSK_RUNTIME_NETWORK_H
#define HUSK_RUNTIME_NETWORK_H

#include <sys/types.h>

#include "../common/error.h"
#include "../net/net.h"
#include "../spec/config.h"

#define NETWORK_MAX_PORTS 64

/* What the CLI gathers; opts is handed to create_opts.net. */
struct net_cli {
        struct net_opts opts;
        struct net_port ports[NETWORK_MAX_PORTS];
        bool mode_set;
};

/* One --net or -p/--publish value (name: "net" or "publish"). */
int network_cli_opt(struct net_cli *n, const char *name, const char *arg, herr_t *err);
/* After parsing: the options to use, or NULL when none was given.
 * -p without --net means bridge; -p with another mode is an error.
 * HUSK_NET_BRIDGE and HUSK_NET_SUBNET override the bridge and subnet. */
int network_cli_finish(struct net_cli *n, const struct net_opts **out, herr_t *err);

/* create, before the init is spawned: cfg's netns and mounts (files under
 * <root>/.husk-net/files/<id>). net NULL: nothing. */
int network_prepare(const struct net_opts *net, struct oci_config *cfg, const char *root, const char *id,
                    herr_t *err);
/* create, when the init's namespaces exist (SYNC_HOOKS). */
int network_setup(const struct net_opts *net, const struct oci_config *cfg, const char *root, const char *id, pid_t pid, herr_t *err);
/* delete and create's undo: undo <root>/<id>/net.rec; failures are warned. */
void network_teardown(const char *root, const char *id);

#endif
