/* spec/features.c: the features document of features.md and
 * features-linux.md (`husk features`), truthful for this build and host. */
#include "generate.h"

#include <ctype.h>
#include <string.h>
#include <sys/capability.h>

#include "features_probe.h"
#include "generate_json.h"
#include "../seccomp/seccomp.h"
#include "mountopts.h"
#include "version.h"

static const char *const hooks[] = {
        "prestart", "createRuntime", "createContainer", "startContainer",
        "poststart", "poststop", NULL
};

static const char *const namespaces[] = {
        "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts", NULL
};

static int gen_mount_options(yajl_gen g)
{
        const struct mount_opt *o;
        int st = 0;

        JG(st, jg_karr_open(g, "mountOptions"));
        for (size_t i = 0; (o = mount_opt_at(i)); i++)
                JG(st, jg_str(g, o->name));
        JG(st, (int)yajl_gen_array_close(g));
        return st;
}

/* One capability as "CAP_X"; nothing if libcap has no name for it. */
static int gen_cap(yajl_gen g, cap_value_t c)
{
        char *name = cap_to_name(c);
        char buf[64];
        size_t i;
        int st = 0;

        if (!name)
                return 0;
        /* Unnamed (newer than libcap) capabilities come back as numbers. */
        if (!strncmp(name, "cap_", 4) && strlen(name) < sizeof buf) {
                for (i = 0; name[i]; i++)
                        buf[i] = (char)toupper((unsigned char)name[i]);
                buf[i] = '\0';
                st = jg_str(g, buf);
        }
        cap_free(name);
        return st;
}

/* Every capability libcap names: the running kernel's and the ones libcap
 * was built with (features-linux.md: "including capabilities that might
 * not be supported by the host"). */
static int gen_capabilities(yajl_gen g)
{
        cap_value_t max = cap_max_bits();
        int st = 0;

        if (max < CAP_LAST_CAP + 1)
                max = CAP_LAST_CAP + 1;
        JG(st, jg_karr_open(g, "capabilities"));
        for (cap_value_t c = 0; c < max; c++)
                JG(st, gen_cap(g, c));
        JG(st, (int)yajl_gen_array_close(g));
        return st;
}

static int gen_cgroup(yajl_gen g)
{
        int st = 0;

        JG(st, jg_kmap_open(g, "cgroup"));
        JG(st, jg_kbool(g, "v1", false));
        JG(st, jg_kbool(g, "v2", true));
        JG(st, jg_kbool(g, "systemd", false));
        JG(st, jg_kbool(g, "systemdUser", false));
        JG(st, jg_kbool(g, "rdma", true));
        JG(st, (int)yajl_gen_map_close(g));
        return st;
}

/* The seccomp object is seccomp/'s: it knows what libseccomp and the
 * kernel can do. */
static int gen_seccomp(yajl_gen g)
{
        int st = 0;

        JG(st, jg_str(g, "seccomp"));
        JG(st, seccomp_features_gen(g));
        return st;
}

static int gen_linux(yajl_gen g)
{
        int st = 0;

        JG(st, jg_kmap_open(g, "linux"));
        JG(st, jg_kstrv(g, "namespaces", namespaces));
        JG(st, gen_capabilities(g));
        JG(st, gen_cgroup(g));
        JG(st, gen_seccomp(g));
        JG(st, jg_kenabled(g, "apparmor", features_apparmor_enabled()));
        JG(st, jg_kenabled(g, "selinux", features_selinux_enabled()));
        JG(st, jg_kenabled(g, "intelRdt", false));
        JG(st, jg_kmap_open(g, "mountExtensions"));
        JG(st, jg_kenabled(g, "idmap", false));
        JG(st, (int)yajl_gen_map_close(g));
        JG(st, (int)yajl_gen_map_close(g));
        return st;
}

int oci_features_json(char **out, size_t *len, herr_t *err)
{
        static const char *const no_unsafe[] = { NULL };
        _cleanup_jg_ yajl_gen g = jg_new(true, err);
        int st = 0;

        if (!g)
                return herr_prefix(err, "features");
        JG(st, (int)yajl_gen_map_open(g));
        JG(st, jg_kstr(g, "ociVersionMin", OCI_VERSION_MIN));
        JG(st, jg_kstr(g, "ociVersionMax", OCI_VERSION));
        JG(st, jg_kstrv(g, "hooks", hooks));
        JG(st, gen_mount_options(g));
        JG(st, gen_linux(g));
        JG(st, jg_kmap_open(g, "annotations"));
        /* husk's own: run the container in a KVM/QEMU microVM. */
        JG(st, jg_kstr(g, "run.oci.handler", "vm"));
        JG(st, (int)yajl_gen_map_close(g));
        JG(st, jg_kstrv(g, "potentiallyUnsafeConfigAnnotations", no_unsafe));
        JG(st, (int)yajl_gen_map_close(g));
        return jg_finish(g, st, "features", out, len, err);
}
