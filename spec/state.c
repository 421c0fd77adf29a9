/* spec/state.c: the state document of runtime.md ("husk state"). */
#include "state.h"

#include <errno.h>
#include <string.h>

#include "generate_json.h"

static bool status_valid(const char *status)
{
        /* runtime.md's four, plus "paused", which runc reports for a frozen
         * container and containerd's shim relies on. */
        static const char *const known[] = { "creating", "created", "running",
                                             "stopped", "paused" };

        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
                if (!strcmp(status, known[i]))
                        return true;
        return false;
}

static int state_check(const struct oci_state *s, herr_t *err)
{
        if (!s->oci_version || !s->id || !s->status || !s->bundle)
                return herr_set(err, EINVAL, "state of container %s: %s is missing",
                                s->id ? s->id : "(no id)",
                                !s->oci_version ? "ociVersion" :
                                !s->id ? "id" : !s->status ? "status" : "bundle");
        if (!status_valid(s->status))
                return herr_set(err, EINVAL, "state of container %s: invalid status \"%s\"",
                                s->id, s->status);
        if (s->pid < 0)
                return herr_set(err, EINVAL, "state of container %s: negative pid %d",
                                s->id, (int)s->pid);
        return 0;
}

static int gen_annotations(yajl_gen g, const struct oci_kv *kv, size_t n)
{
        int st = 0;

        if (!kv || !n)
                return 0;
        JG(st, jg_kmap_open(g, "annotations"));
        for (size_t i = 0; i < n; i++)
                JG(st, jg_kstr(g, kv[i].key, kv[i].value ? kv[i].value : ""));
        JG(st, (int)yajl_gen_map_close(g));
        return st;
}

int oci_state_json(const struct oci_state *s, bool pretty, char **out, size_t *len,
                   herr_t *err)
{
        _cleanup_jg_ yajl_gen g = NULL;
        int st = 0;

        if (state_check(s, err) < 0)
                return -1;
        g = jg_new(pretty, err);
        if (!g)
                return herr_prefix(err, "state of container %s", s->id);
        JG(st, (int)yajl_gen_map_open(g));
        JG(st, jg_kstr(g, "ociVersion", s->oci_version));
        JG(st, jg_kstr(g, "id", s->id));
        JG(st, jg_kstr(g, "status", s->status));
        if (s->pid > 0)
                JG(st, jg_kint(g, "pid", s->pid));
        JG(st, jg_kstr(g, "bundle", s->bundle));
        JG(st, gen_annotations(g, s->annotations, s->n_annotations));
        JG(st, (int)yajl_gen_map_close(g));
        if (jg_finish(g, st, "state", out, len, err) < 0)
                return herr_prefix(err, "container %s", s->id);
        return 0;
}
