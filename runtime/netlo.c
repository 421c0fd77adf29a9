/* runtime/netlo.c: bring `lo` up in a new network namespace, as runc does
 * (--net none gives a container loopback only). An ioctl, no netlink. */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "init.h"

int net_lo_up(herr_t *err)
{
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return herr_sys(err, "loopback: socket");
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        strcpy(ifr.ifr_name, "lo");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return herr_sys(err, "loopback: get the flags of lo");
        if (ifr.ifr_flags & IFF_UP)
                return 0;
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return herr_sys(err, "loopback: bring lo up");
        return 0;
}
