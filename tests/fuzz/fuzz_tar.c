/* libFuzzer: tar entry path handling (images/unpack.c). The input is a layer
 * (tar, gzip or zstd) unpacked into a scratch root inside a sandbox
 * directory; after each input the sandbox must hold only the root (nothing
 * written beside or above it), then the root is emptied. Device nodes are
 * refused (allow_devices = false) and none may appear. */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "../../images/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char sandbox[64], root[80];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        (void)flag;
        (void)f;
        if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
                /* A whiteout is char 0:0; anything else is a device. */
                if (!S_ISCHR(st->st_mode) || st->st_rdev != 0) {
                        fprintf(stderr, "device node unpacked: %s\n", p);
                        abort();
                }
        }
        (void)remove(p);
        return 0;
}

static void check_sandbox(void)
{
        DIR *d = opendir(sandbox);
        if (!d)
                abort();
        struct dirent *e;
        while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "root"))
                        continue;
                fprintf(stderr, "entry escaped the root: %s/%s\n", sandbox, e->d_name);
                abort();
        }
        closedir(d);
}

static void cleanup(void)
{
        char cmd[160];
        snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", sandbox, sandbox);
        (void)!system(cmd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!sandbox[0]) {
                atexit(cleanup);
                snprintf(sandbox, sizeof sandbox, "/tmp/husk-fuzz-tar.%d", (int)getpid());
                snprintf(root, sizeof root, "%s/root", sandbox);
                mkdir(sandbox, 0700);
        }
        if (mkdir(root, 0755) < 0)
                abort();
        int fd = memfd_create("layer", MFD_CLOEXEC);
        if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || lseek(fd, 0, SEEK_SET) < 0)
                abort();
        int rootfd = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (rootfd < 0)
                abort();
        herr_t err = { 0 };
        (void)unpack_archive_fd(fd, rootfd, false, NULL, &err);
        close(rootfd);
        close(fd);
        check_sandbox();
        nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        if (access(root, F_OK) == 0) { /* e.g. a 0000 directory */
                char cmd[160];
                snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", root, root);
                (void)!system(cmd);
        }
        return 0;
}
