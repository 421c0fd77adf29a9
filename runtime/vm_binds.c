/* Bind mounts of host paths in VM mode: what the host shares (create) and
 * how the guest finds it (husk vm-guest). See vm_binds.h and vm/binds.c. */
#include "vm_binds.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"

bool vm_mount_is_bind(const struct oci_mount *m)
{
        if (m->type && !strcmp(m->type, "bind"))
                return true;
        for (size_t i = 0; i < m->n_options; i++)
                if (!strcmp(m->options[i], "bind") || !strcmp(m->options[i], "rbind"))
                        return true;
        return false;
}

static bool has_option(const struct oci_mount *m, const char *opt)
{
        for (size_t i = 0; i < m->n_options; i++)
                if (!strcmp(m->options[i], opt))
                        return true;
        return false;
}

static bool is_ro(const struct oci_mount *m)
{
        bool ro = false;
        for (size_t i = 0; i < m->n_options; i++)
                if (!strcmp(m->options[i], "ro"))
                        ro = true;
                else if (!strcmp(m->options[i], "rw"))
                        ro = false;
        return ro;
}

void vm_binds_plan_free(struct vm_bind_plan *p)
{
        for (size_t i = 0; i < p->n; i++) {
                free((char *)p->binds[i].name);
                free((char *)p->binds[i].source);
        }
        free(p->binds);
        p->binds = NULL;
        p->n = 0;
}

/* One mount: 1 when shared (b filled), 0 when left to the guest. */
static int plan_one(const struct oci_mount *m, size_t idx, const char *bundle, struct vm_bind *b, herr_t *err)
{
        const char *src = m->source ? m->source : "";
        _cleanup_free_ char *joined = NULL;
        if (!src[0])
                return herr_set(err, EINVAL, "mounts[%zu] (%s): bind mount without a source", idx,
                                m->destination);
        if (src[0] != '/' && asprintf(&joined, "%s/%s", bundle, src) < 0)
                return herr_set(err, ENOMEM, "mounts[%zu]", idx);
        const char *path = joined ? joined : src;
        char real[PATH_MAX];
        struct stat st;
        if (!realpath(path, real) || stat(real, &st) < 0)
                return herr_sys(err, "mounts[%zu] (%s): bind source %s", idx, m->destination, path);
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
                return 0; /* the guest's own device of the same path */
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                return herr_set(err, 0,
                                "mounts[%zu] (%s): bind source %s: only directories and files can be "
                                "shared into a VM",
                                idx, m->destination, path);
        char name[32];
        snprintf(name, sizeof(name), "%zu", idx);
        *b = (struct vm_bind){ .name = strdup(name), .source = strdup(real), .is_dir = S_ISDIR(st.st_mode),
                               .ro = is_ro(m), .recursive = has_option(m, "rbind") };
        if (!b->name || !b->source)
                return herr_set(err, ENOMEM, "mounts[%zu]", idx);
        return 1;
}

int vm_binds_plan(const struct oci_config *cfg, const char *bundle, struct vm_bind_plan *out, herr_t *err)
{
        memset(out, 0, sizeof(*out));
        if (!cfg->n_mounts)
                return 0;
        out->binds = calloc(cfg->n_mounts, sizeof(*out->binds));
        if (!out->binds)
                return herr_set(err, ENOMEM, "mounts");
        for (size_t i = 0; i < cfg->n_mounts; i++) {
                if (!vm_mount_is_bind(&cfg->mounts[i]))
                        continue;
                int r = plan_one(&cfg->mounts[i], i, bundle, &out->binds[out->n], err);
                if (r < 0) {
                        if (out->binds[out->n].name || out->binds[out->n].source)
                                out->n++; /* freed below */
                        vm_binds_plan_free(out);
                        return -1;
                }
                out->n += (size_t)r;
        }
        return 0;
}

/* ------------------------------------------------------------ the guest */

static bool cmdline_has(const char *word, char *share, size_t len)
{
        char buf[4096];
        _cleanup_close_ int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        if (n <= 0)
                return false;
        buf[n] = '\0';
        bool found = false;
        for (char *save, *t = strtok_r(buf, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
                if (!strcmp(t, word))
                        found = true;
                else if (!strncmp(t, "husk.share=", 11))
                        snprintf(share, len, "%s", t + 11);
        }
        return found;
}

int vm_guest_binds(struct oci_config *cfg, herr_t *err)
{
        char share[16] = "";
        if (!cmdline_has("husk.binds=1", share, sizeof(share)))
                return 0;
        (void)mkdir(VM_GUEST_BINDS, 0700);
        int r;
        if (!strcmp(share, "9p"))
                r = mount("husk-binds", VM_GUEST_BINDS, "9p", 0,
                          "trans=virtio,version=9p2000.L,msize=262144,cache=mmap,access=client");
        else
                r = mount("husk-binds", VM_GUEST_BINDS, "virtiofs", 0, NULL);
        if (r < 0)
                return herr_sys(err, "VM bind mounts: mount the %s share on %s", share, VM_GUEST_BINDS);
        for (size_t i = 0; i < cfg->n_mounts; i++) {
                struct oci_mount *m = &cfg->mounts[i];
                char entry[64];
                snprintf(entry, sizeof(entry), "%s/%zu", VM_GUEST_BINDS, i);
                if (!vm_mount_is_bind(m) || access(entry, F_OK) < 0)
                        continue;
                char *s = strdup(entry);
                if (!s)
                        return herr_set(err, ENOMEM, "mounts[%zu]", i);
                free(m->source);
                m->source = s;
        }
        return 0;
}
