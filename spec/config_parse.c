/* config.json -> struct oci_config: the top level (root, mounts, hooks,
 * annotations) and the entry points. process, linux and vm live in their
 * own files; validation in validate*.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "config_priv.h"

int cfg_parse_id_mapping(yajl_val v, const char *path, void *elem, herr_t *err)
{
        struct oci_id_mapping *m = elem;
        if (j_u32(v, "containerID", path, &m->container_id, err) < 0 ||
            j_u32(v, "hostID", path, &m->host_id, err) < 0 ||
            j_u32(v, "size", path, &m->size, err) < 0)
                return -1;
        return 0;
}

static int parse_mount(yajl_val v, const char *path, void *elem, herr_t *err)
{
        struct oci_mount *m = elem;
        if (j_str(v, "destination", path, &m->destination, err) < 0 ||
            j_str(v, "source", path, &m->source, err) < 0 ||
            j_str(v, "type", path, &m->type, err) < 0 ||
            j_strv(v, "options", path, &m->options, &m->n_options, err) < 0 ||
            j_objarr(v, "uidMappings", path, sizeof *m->uid_mappings, (void **)&m->uid_mappings,
                     &m->n_uid_mappings, cfg_parse_id_mapping, err) < 0 ||
            j_objarr(v, "gidMappings", path, sizeof *m->gid_mappings, (void **)&m->gid_mappings,
                     &m->n_gid_mappings, cfg_parse_id_mapping, err) < 0)
                return -1;
        return 0;
}

static int parse_hook(yajl_val v, const char *path, void *elem, herr_t *err)
{
        struct oci_hook *h = elem;
        if (j_str(v, "path", path, &h->path, err) < 0 ||
            j_strv(v, "args", path, &h->args, &h->n_args, err) < 0 ||
            j_strv(v, "env", path, &h->env, &h->n_env, err) < 0 ||
            j_oi64(v, "timeout", path, INT64_MIN, INT64_MAX, &h->timeout, err) < 0)
                return -1;
        return 0;
}

static int parse_hooks(yajl_val root, struct oci_config *c, herr_t *err)
{
        yajl_val o;
        if (j_obj(root, "hooks", "", &o, err) < 0)
                return -1;
        if (!o)
                return 0;
        if (!(c->hooks = calloc(1, sizeof *c->hooks)))
                return herr_set(err, ENOMEM, "hooks");
        static const char *const names[] = { "prestart", "createRuntime", "createContainer",
                                             "startContainer", "poststart", "poststop" };
        struct oci_hook_list *lists[] = { &c->hooks->prestart, &c->hooks->create_runtime,
                                          &c->hooks->create_container, &c->hooks->start_container,
                                          &c->hooks->poststart, &c->hooks->poststop };
        for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                if (j_objarr(o, names[i], "hooks", sizeof(struct oci_hook),
                             (void **)&lists[i]->hooks, &lists[i]->n, parse_hook, err) < 0)
                        return -1;
        return 0;
}

static int parse_root(yajl_val root, struct oci_config *c, herr_t *err)
{
        yajl_val o;
        if (j_obj(root, "root", "", &o, err) < 0)
                return -1;
        if (!o)
                return 0;
        if (!(c->root = calloc(1, sizeof *c->root)))
                return herr_set(err, ENOMEM, "root");
        if (j_str(o, "path", "root", &c->root->path, err) < 0 ||
            j_bool(o, "readonly", "root", &c->root->readonly, err) < 0)
                return -1;
        return 0;
}

static int parse_top(yajl_val root, struct oci_config *c, herr_t *err)
{
        if (j_str(root, "ociVersion", "", &c->oci_version, err) < 0 ||
            parse_root(root, c, err) < 0 ||
            j_objarr(root, "mounts", "", sizeof *c->mounts, (void **)&c->mounts, &c->n_mounts,
                     parse_mount, err) < 0 ||
            cfg_parse_process(root, c, err) < 0 ||
            j_str(root, "hostname", "", &c->hostname, err) < 0 ||
            j_str(root, "domainname", "", &c->domainname, err) < 0 ||
            parse_hooks(root, c, err) < 0 ||
            j_map(root, "annotations", "", &c->annotations, &c->n_annotations, err) < 0 ||
            cfg_parse_linux(root, c, err) < 0 ||
            cfg_parse_vm(root, c, err) < 0 ||
            cfg_check_platforms(root, c, err) < 0)
                return -1;
        return 0;
}

/* yajl's tree is freed recursively: refuse deep nesting before parsing.
 * Also rejects NUL bytes (raw or escaped), which would silently truncate
 * the document or a string in it. */
static int check_depth(const char *s, size_t len, herr_t *err)
{
        int depth = 0;
        bool in_str = false;
        for (size_t i = 0; i < len; i++) {
                char ch = s[i];
                if (ch == '\0')
                        return herr_set(err, 0, "invalid JSON: NUL byte at offset %zu", i);
                if (in_str) {
                        /* yajl's tree keeps strings NUL-terminated without a
                         * length: an escaped NUL would truncate them silently. */
                        if (ch == '\\' && len - i >= 6 && strncmp(s + i + 1, "u0000", 5) == 0)
                                return herr_set(err, 0, "invalid JSON: \\u0000 in a string at offset %zu", i);
                        if (ch == '\\')
                                i++;
                        else if (ch == '"')
                                in_str = false;
                } else if (ch == '"') {
                        in_str = true;
                } else if (ch == '{' || ch == '[') {
                        if (++depth > JSON_MAX_DEPTH)
                                return herr_set(err, 0, "invalid JSON: nested deeper than %d levels",
                                                JSON_MAX_DEPTH);
                } else if (ch == '}' || ch == ']') {
                        depth--;
                }
        }
        return 0;
}

static int parse_tree(const char *json, size_t len, yajl_val *out, herr_t *err)
{
        char ebuf[512] = "";
        if (len > CONFIG_MAX_BYTES)
                return herr_set(err, EFBIG, "config larger than %u bytes", CONFIG_MAX_BYTES);
        if (check_depth(json, len, err) < 0)
                return -1;
        size_t i = 0;
        while (i < len && strchr(" \t\r\n", json[i]))
                i++;
        if (i == len)
                return herr_set(err, 0, "invalid JSON: empty input");
        _cleanup_free_ char *buf = strndup(json, len);
        if (!buf)
                return herr_set(err, ENOMEM, "config");
        *out = yajl_tree_parse(buf, ebuf, sizeof ebuf);
        if (!*out) {
                ebuf[strcspn(ebuf, "\n")] = '\0';
                return herr_set(err, 0, "invalid JSON: %s", ebuf[0] ? ebuf : "parse error");
        }
        if (!YAJL_IS_OBJECT(*out)) {
                yajl_tree_free(*out);
                *out = NULL;
                return herr_set(err, 0, "invalid JSON: top level is not an object");
        }
        return 0;
}

int oci_config_parse(const char *json, size_t len, struct oci_config **out, herr_t *err)
{
        yajl_val tree = NULL;
        *out = NULL;
        if (!json)
                return herr_set(err, EINVAL, "config");
        if (parse_tree(json, len, &tree, err) < 0)
                return -1;
        struct oci_config *c = calloc(1, sizeof *c);
        if (!c) {
                yajl_tree_free(tree);
                return herr_set(err, ENOMEM, "config");
        }
        int r = parse_top(tree, c, err);
        yajl_tree_free(tree);
        if (r < 0 || oci_config_validate(c, err) < 0) {
                oci_config_free(c);
                return -1;
        }
        *out = c;
        return 0;
}

int oci_config_load(const char *path, struct oci_config **out, herr_t *err)
{
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        *out = NULL;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return herr_sys(err, "%s", base);
        if (read_fd(fd, CONFIG_MAX_BYTES, &buf, &len, err) < 0)
                return herr_prefix(err, "%s", base);
        if (oci_config_parse(buf, len, out, err) < 0)
                return herr_prefix(err, "%s", base);
        return 0;
}
