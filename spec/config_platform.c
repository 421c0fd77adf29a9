/* The non-Linux platform objects of config.json (windows, solaris, freebsd,
 * zos). husk does not run them, but a config carrying them must still
 * parse; their types and enums are checked against the schema and only
 * their presence is kept. */
#include "config.h"

#include <string.h>

#include "../common/cleanup.h"
#include "config_priv.h"

static int check_enum(yajl_val o, const char *key, const char *path,
                      const char *const *allowed, herr_t *err)
{
        char p[JPATH_MAX];
        yajl_val v = j_get(o, key);
        if (!v)
                return 0;
        jp_key(p, path, key);
        if (!YAJL_IS_STRING(v))
                return herr_set(err, 0, "%s: expected string", p);
        if (cfg_lookup(allowed, v->u.string) < 0)
                return herr_set(err, 0, "%s: invalid value '%s'", p, v->u.string);
        return 0;
}

static int check_freebsd_jail(yajl_val fb, herr_t *err)
{
        static const char *const sharing[] = { "disable", "new", "inherit", NULL };
        static const char *const no_disable[] = { "new", "inherit", NULL };
        static const char *const sharing_keys[] = { "ip4", "ip6", "sysvmsg", "sysvsem", "sysvshm" };
        const char *path = "freebsd.jail";
        yajl_val jail;
        if (j_obj(fb, "jail", "freebsd", &jail, err) < 0)
                return -1;
        if (!jail)
                return 0;
        if (check_enum(jail, "host", path, no_disable, err) < 0 ||
            check_enum(jail, "vnet", path, no_disable, err) < 0)
                return -1;
        for (size_t i = 0; i < sizeof sharing_keys / sizeof *sharing_keys; i++)
                if (check_enum(jail, sharing_keys[i], path, sharing, err) < 0)
                        return -1;
        return 0;
}

static int check_zos(yajl_val zos, herr_t *err)
{
        static const char *const types[] = { "mount", "pid", "uts", "ipc", NULL };
        char p[JPATH_MAX];
        yajl_val a;
        if (j_arr(zos, "namespaces", "zos", &a, err) < 0)
                return -1;
        for (size_t i = 0; a && i < a->u.array.len; i++) {
                yajl_val ns = a->u.array.values[i];
                jp_idx(p, "zos.namespaces", i);
                if (!YAJL_IS_OBJECT(ns))
                        return herr_set(err, 0, "%s: expected object", p);
                if (!j_get(ns, "type"))
                        return herr_set(err, 0, "%s.type: required", p);
                if (check_enum(ns, "type", p, types, err) < 0)
                        return -1;
        }
        return 0;
}

/* windows.layerFolders: REQUIRED, at least one path. */
static int check_windows(yajl_val win, herr_t *err)
{
        _cleanup_strv_ char **layers = NULL;
        size_t n = 0;
        if (j_strv(win, "layerFolders", "windows", &layers, &n, err) < 0)
                return -1;
        if (n == 0)
                return herr_set(err, 0, "windows.layerFolders: at least one entry is required");
        return 0;
}

/* freebsd.devices[].mode is a FileMode (0..511). */
static int check_freebsd_devices(yajl_val fb, herr_t *err)
{
        char p[JPATH_MAX];
        yajl_val a;
        opt_u64 mode;
        _cleanup_free_ char *path = NULL;
        if (j_arr(fb, "devices", "freebsd", &a, err) < 0)
                return -1;
        for (size_t i = 0; a && i < a->u.array.len; i++) {
                yajl_val d = a->u.array.values[i];
                jp_idx(p, "freebsd.devices", i);
                if (!YAJL_IS_OBJECT(d))
                        return herr_set(err, 0, "%s: expected object", p);
                if (j_str(d, "path", p, &path, err) < 0 || j_ou64(d, "mode", p, 0777, &mode, err) < 0)
                        return -1;
        }
        return 0;
}

int cfg_check_platforms(yajl_val root, struct oci_config *c, herr_t *err)
{
        yajl_val win, sol, fb, zos;
        if (j_obj(root, "windows", "", &win, err) < 0 ||
            j_obj(root, "solaris", "", &sol, err) < 0 ||
            j_obj(root, "freebsd", "", &fb, err) < 0 ||
            j_obj(root, "zos", "", &zos, err) < 0)
                return -1;
        c->has_windows = win != NULL;
        c->has_solaris = sol != NULL;
        c->has_freebsd = fb != NULL;
        c->has_zos = zos != NULL;
        if (win && check_windows(win, err) < 0)
                return -1;
        if (fb && (check_freebsd_jail(fb, err) < 0 || check_freebsd_devices(fb, err) < 0))
                return -1;
        if (zos && check_zos(zos, err) < 0)
                return -1;
        return 0;
}
