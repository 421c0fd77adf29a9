/* oci_config_validate(): the MUSTs of config.md and config-vm.md that the
 * typed parser does not enforce, and oci_config_validate_runnable(). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "config_priv.h"

/* SemVer 2.0.0 numeric identifier: digits, no leading zero. */
static const char *semver_num(const char *s)
{
        if (!isdigit((unsigned char)*s) || (s[0] == '0' && isdigit((unsigned char)s[1])))
                return NULL;
        while (isdigit((unsigned char)*s))
                s++;
        return s;
}

/* Dot-separated non-empty identifiers of [0-9A-Za-z-] up to the end. */
static bool semver_idents(const char *s)
{
        size_t run = 0;
        for (; *s; s++) {
                if (*s == '.') {
                        if (run == 0)
                                return false;
                        run = 0;
                } else if (isalnum((unsigned char)*s) || *s == '-') {
                        run++;
                } else {
                        return false;
                }
        }
        return run > 0;
}

static bool is_semver(const char *v)
{
        for (int i = 0; i < 3; i++) {
                if (!(v = semver_num(v)))
                        return false;
                if (i < 2 && *v++ != '.')
                        return false;
        }
        if (*v == '\0')
                return true;
        if (*v != '-' && *v != '+')
                return false;
        char buf[256];
        snprintf(buf, sizeof buf, "%s", v + 1);
        char *plus = *v == '-' ? strchr(buf, '+') : NULL;
        if (plus) {
                *plus = '\0';
                if (!semver_idents(plus + 1))
                        return false;
        }
        return strlen(v) < sizeof buf && semver_idents(buf);
}

static int validate_mappings(const struct oci_id_mapping *m, size_t n, const char *path,
                             herr_t *err)
{
        for (size_t i = 0; i < n; i++)
                if (m[i].size == 0)
                        return herr_set(err, 0, "%s[%zu].size: must be greater than 0", path, i);
        return 0;
}

static int validate_mounts(const struct oci_config *c, herr_t *err)
{
        char p[JPATH_MAX];
        for (size_t i = 0; i < c->n_mounts; i++) {
                const struct oci_mount *m = &c->mounts[i];
                jp_idx(p, "mounts", i);
                if (!m->destination || !*m->destination)
                        return herr_set(err, 0, "%s.destination: required", p);
                if (!m->uid_mappings != !m->gid_mappings)
                        return herr_set(err, 0, "%s: uidMappings and gidMappings must be given together", p);
                strcat(p, ".uidMappings");
                if (validate_mappings(m->uid_mappings, m->n_uid_mappings, p, err) < 0)
                        return -1;
                jp_idx(p, "mounts", i);
                strcat(p, ".gidMappings");
                if (validate_mappings(m->gid_mappings, m->n_gid_mappings, p, err) < 0)
                        return -1;
        }
        return 0;
}

static int validate_hook_list(const struct oci_hook_list *l, const char *name, herr_t *err)
{
        for (size_t i = 0; i < l->n; i++) {
                const struct oci_hook *h = &l->hooks[i];
                if (!h->path || !*h->path)
                        return herr_set(err, 0, "hooks.%s[%zu].path: required", name, i);
                if (h->path[0] != '/')
                        return herr_set(err, 0, "hooks.%s[%zu].path: '%s' is not an absolute path",
                                        name, i, h->path);
                if (h->timeout.set && h->timeout.v < 1)
                        return herr_set(err, 0, "hooks.%s[%zu].timeout: must be greater than 0",
                                        name, i);
        }
        return 0;
}

static int validate_hooks(const struct oci_hooks *h, herr_t *err)
{
        if (!h)
                return 0;
        if (validate_hook_list(&h->prestart, "prestart", err) < 0 ||
            validate_hook_list(&h->create_runtime, "createRuntime", err) < 0 ||
            validate_hook_list(&h->create_container, "createContainer", err) < 0 ||
            validate_hook_list(&h->start_container, "startContainer", err) < 0 ||
            validate_hook_list(&h->poststart, "poststart", err) < 0 ||
            validate_hook_list(&h->poststop, "poststop", err) < 0)
                return -1;
        return 0;
}

static int validate_vm(const struct oci_vm *vm, herr_t *err)
{
        static const char *const formats[] = { "raw", "qcow2", "vdi", "vmdk", "vhd", NULL };
        if (!vm)
                return 0;
        if (!vm->kernel_path || !*vm->kernel_path)
                return herr_set(err, 0, "vm.kernel.path: required");
        if (vm->image_format && cfg_lookup(formats, vm->image_format) < 0)
                return herr_set(err, 0, "vm.image.format: unknown image format '%s'", vm->image_format);
        if (vm->image_format && !vm->image_path)
                return herr_set(err, 0, "vm.image.path: required");
        return 0;
}

int oci_config_validate(const struct oci_config *c, herr_t *err)
{
        if (!c->oci_version)
                return herr_set(err, 0, "ociVersion: required");
        if (!is_semver(c->oci_version))
                return herr_set(err, 0, "ociVersion: '%s' is not a SemVer 2.0.0 version",
                                c->oci_version);
        if (c->root && (!c->root->path || !*c->root->path))
                return herr_set(err, 0, "root.path: required");
        if (validate_mounts(c, err) < 0 ||
            (c->process && cfg_validate_process(c->process, err) < 0) ||
            validate_hooks(c->hooks, err) < 0 ||
            (c->linux_ && cfg_validate_linux(c->linux_, err) < 0) ||
            validate_vm(c->vm, err) < 0)
                return -1;
        for (size_t i = 0; i < c->n_annotations; i++)
                if (!c->annotations[i].key || !*c->annotations[i].key)
                        return herr_set(err, 0, "annotations: empty key");
        return 0;
}

int oci_config_validate_runnable(const struct oci_config *c, herr_t *err)
{
        static const char *const names[] = { "windows", "solaris", "freebsd", "zos" };
        const bool has[] = { c->has_windows, c->has_solaris, c->has_freebsd, c->has_zos };
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
                if (has[i])
                        return herr_set(err, 0, "%s: not supported on Linux", names[i]);
        if (!c->root)
                return herr_set(err, 0, "root: required to run a container");
        if (!c->process)
                return herr_set(err, 0, "process: required to run a container");
        if (c->process->n_args == 0 || !c->process->args || !c->process->args[0] ||
            !*c->process->args[0])
                return herr_set(err, 0, "process.args: at least one entry is required");
        if (!c->process->cwd || c->process->cwd[0] != '/')
                return herr_set(err, 0, "process.cwd: '%s' is not an absolute path",
                                c->process->cwd ? c->process->cwd : "");
        for (size_t i = 0; i < c->n_mounts; i++)
                if (!c->mounts[i].destination || c->mounts[i].destination[0] != '/')
                        return herr_set(err, 0, "mounts[%zu].destination: '%s' is not an absolute path",
                                        i, c->mounts[i].destination ? c->mounts[i].destination : "");
        return 0;
}
