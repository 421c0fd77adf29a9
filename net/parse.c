/* net/parse.c: --net MODE, -p HOSTPORT:CPORT[/tcp|udp], subnets. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int net_parse_mode(const char *s, enum net_mode *out, herr_t *err)
{
        static const struct { const char *name; enum net_mode m; } t[] = {
                { "none", NET_MODE_NONE }, { "host", NET_MODE_HOST }, { "bridge", NET_MODE_BRIDGE },
        };
        for (size_t i = 0; s && i < sizeof t / sizeof t[0]; i++)
                if (!strcmp(s, t[i].name)) {
                        *out = t[i].m;
                        return 0;
                }
        return herr_set(err, 0, "--net %s: unknown mode (none, host, bridge)", s ? s : "");
}

const char *net_mode_name(enum net_mode m)
{
        switch (m) {
        case NET_MODE_NONE: return "none";
        case NET_MODE_HOST: return "host";
        case NET_MODE_BRIDGE: return "bridge";
        default: return "default";
        }
}

static int parse_port_num(const char *s, size_t len, uint16_t *out)
{
        if (len == 0 || len > 5)
                return -1;
        unsigned v = 0;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        if (v < 1 || v > 65535)
                return -1;
        *out = (uint16_t)v;
        return 0;
}

int net_parse_port(const char *spec, struct net_port *out, herr_t *err)
{
        if (!spec)
                spec = "";
        memset(out, 0, sizeof *out);
        const char *colon = strchr(spec, ':');
        if (!colon)
                return herr_set(err, 0, "-p %s: expected HOSTPORT:CONTAINERPORT[/tcp|udp]", spec);
        const char *cport = colon + 1;
        const char *slash = strchr(cport, '/');
        size_t clen = slash ? (size_t)(slash - cport) : strlen(cport);
        if (parse_port_num(spec, (size_t)(colon - spec), &out->host_port) < 0)
                return herr_set(err, 0, "-p %s: host port must be 1-65535", spec);
        if (parse_port_num(cport, clen, &out->container_port) < 0)
                return herr_set(err, 0, "-p %s: container port must be 1-65535", spec);
        out->proto = NET_TCP;
        if (slash) {
                if (!strcmp(slash + 1, "tcp"))
                        out->proto = NET_TCP;
                else if (!strcmp(slash + 1, "udp"))
                        out->proto = NET_UDP;
                else
                        return herr_set(err, 0, "-p %s: protocol must be tcp or udp", spec);
        }
        return 0;
}

int net_parse_subnet(const char *s, struct in_addr *net, int *prefix, herr_t *err)
{
        char buf[32];
        const char *slash = s ? strchr(s, '/') : NULL;
        if (!slash || (size_t)(slash - s) >= sizeof buf)
                return herr_set(err, 0, "subnet %s: expected A.B.C.D/N", s ? s : "");
        memcpy(buf, s, (size_t)(slash - s));
        buf[slash - s] = '\0';
        if (inet_pton(AF_INET, buf, net) != 1)
                return herr_set(err, 0, "subnet %s: bad IPv4 address", s);
        char *end;
        errno = 0;
        long p = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || errno || p < 8 || p > 30)
                return herr_set(err, 0, "subnet %s: prefix length must be 8-30", s);
        uint32_t mask = p ? htonl(~0u << (32 - p)) : 0;
        if (net->s_addr & ~mask)
                return herr_set(err, 0, "subnet %s: host bits are set", s);
        *prefix = (int)p;
        return 0;
}
