/* net/ifioctl.c: the container side of a link (lo up, eth0's address, up,
 * default route, MAC) through the classic interface ioctls on an AF_INET
 * datagram socket made in the container's network namespace.
 *
 * Why not rtnetlink there: every user socket holds a reference on its
 * network namespace, and a netlink socket drops it only an RCU grace period
 * after close (10-30 ms here). A container deleted within that time after
 * its create would still have a live namespace, and its veth pair could not
 * be left to the kernel's cleanup of that namespace (net_teardown). An
 * unbound UDP socket is freed, and its reference dropped, at close. */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int ifc_open(pid_t pid, herr_t *err)
{
        int self = -1, target = -1, fd = -1;
        if (pid > 0) {
                char p[64];
                snprintf(p, sizeof p, "/proc/%d/ns/net", (int)pid);
                self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
                target = open(p, O_RDONLY | O_CLOEXEC);
                if (self < 0 || target < 0 || setns(target, CLONE_NEWNET) < 0) {
                        herr_sys(err, "network namespace of pid %d", (int)pid);
                        goto out;
                }
        }
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                herr_sys(err, "interface socket");
        if (pid > 0 && setns(self, CLONE_NEWNET) < 0)
                abort(); /* cannot happen for root; never go on in the wrong netns */
out:
        if (self >= 0)
                close(self);
        if (target >= 0)
                close(target);
        return fd;
}

static void ifr_for(struct ifreq *ifr, const char *ifname)
{
        memset(ifr, 0, sizeof *ifr);
        snprintf(ifr->ifr_name, sizeof ifr->ifr_name, "%s", ifname);
}

int ifc_up(int fd, const char *ifname, herr_t *err)
{
        struct ifreq ifr;
        ifr_for(&ifr, ifname);
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return herr_sys(err, "link %s", ifname);
        if (ifr.ifr_flags & IFF_UP)
                return 0;
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return herr_sys(err, "link %s: set up", ifname);
        return 0;
}

static void sin_set(struct sockaddr *sa, struct in_addr a)
{
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = a };
        memcpy(sa, &sin, sizeof sin);
}

int ifc_addr(int fd, const char *ifname, struct in_addr a, int prefix, herr_t *err)
{
        struct ifreq ifr;
        char s[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a, s, sizeof s);
        ifr_for(&ifr, ifname);
        sin_set(&ifr.ifr_addr, a);
        if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
                return herr_sys(err, "address %s/%d on %s", s, prefix, ifname);
        struct in_addr mask = { .s_addr = prefix ? htonl(~0u << (32 - prefix)) : 0 };
        ifr_for(&ifr, ifname);
        sin_set(&ifr.ifr_netmask, mask);
        if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
                return herr_sys(err, "address %s/%d on %s: netmask", s, prefix, ifname);
        return 0;
}

int ifc_route_default(int fd, const char *ifname, struct in_addr gw, herr_t *err)
{
        struct rtentry rt;
        char dev[IFNAMSIZ];
        memset(&rt, 0, sizeof rt);
        snprintf(dev, sizeof dev, "%s", ifname);
        sin_set(&rt.rt_dst, (struct in_addr){ 0 });
        sin_set(&rt.rt_genmask, (struct in_addr){ 0 });
        sin_set(&rt.rt_gateway, gw);
        rt.rt_flags = RTF_UP | RTF_GATEWAY;
        rt.rt_dev = dev;
        if (ioctl(fd, SIOCADDRT, &rt) < 0 && errno != EEXIST)
                return herr_sys(err, "default route via %s", ifname);
        return 0;
}

int ifc_mac(int fd, const char *ifname, uint8_t mac[6], herr_t *err)
{
        struct ifreq ifr;
        ifr_for(&ifr, ifname);
        if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
                return herr_sys(err, "link %s: MAC address", ifname);
        memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
        return 0;
}

int net_lo_up(herr_t *err)
{
        int fd = ifc_open(0, err);
        if (fd < 0)
                return herr_prefix(err, "lo");
        int rc = ifc_up(fd, "lo", err);
        close(fd);
        return rc;
}
