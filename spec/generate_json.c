#include "generate_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

yajl_gen jg_new(bool pretty, herr_t *err)
{
        yajl_gen g = yajl_gen_alloc(NULL);

        if (!g) {
                herr_set(err, ENOMEM, "JSON generator");
                return NULL;
        }
        yajl_gen_config(g, yajl_gen_validate_utf8, 1);
        if (pretty) {
                yajl_gen_config(g, yajl_gen_beautify, 1);
                yajl_gen_config(g, yajl_gen_indent_string, "    ");
        }
        return g;
}

int jg_str(yajl_gen g, const char *s)
{
        if (!s)
                return yajl_gen_null(g);
        return yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

int jg_kstr(yajl_gen g, const char *key, const char *val)
{
        int st = jg_str(g, key);

        return st ? st : jg_str(g, val);
}

int jg_kbool(yajl_gen g, const char *key, bool val)
{
        int st = jg_str(g, key);

        return st ? st : (int)yajl_gen_bool(g, val);
}

int jg_kint(yajl_gen g, const char *key, long long val)
{
        int st = jg_str(g, key);

        return st ? st : (int)yajl_gen_integer(g, val);
}

int jg_kenabled(yajl_gen g, const char *key, bool enabled)
{
        int st = 0;

        JG(st, jg_kmap_open(g, key));
        JG(st, jg_kbool(g, "enabled", enabled));
        JG(st, (int)yajl_gen_map_close(g));
        return st;
}

int jg_kstrv(yajl_gen g, const char *key, const char *const *v)
{
        int st = jg_karr_open(g, key);

        for (; v && *v; v++)
                JG(st, jg_str(g, *v));
        JG(st, (int)yajl_gen_array_close(g));
        return st;
}

int jg_kmap_open(yajl_gen g, const char *key)
{
        int st = jg_str(g, key);

        return st ? st : (int)yajl_gen_map_open(g);
}

int jg_karr_open(yajl_gen g, const char *key)
{
        int st = jg_str(g, key);

        return st ? st : (int)yajl_gen_array_open(g);
}

static const char *jg_status_str(int st)
{
        switch (st) {
        case yajl_gen_invalid_string:
                return "a string is not valid UTF-8";
        case yajl_gen_keys_must_be_strings:
        case yajl_gen_in_error_state:
        case yajl_gen_generation_complete:
        case yajl_max_depth_exceeded:
                return "malformed document (generator misuse)";
        default:
                return "JSON generation failed";
        }
}

int jg_finish(yajl_gen g, int st, const char *what, char **out, size_t *len,
              herr_t *err)
{
        const unsigned char *buf;
        size_t n;
        char *s;

        if (!st)
                st = yajl_gen_get_buf(g, &buf, &n);
        if (st)
                return herr_set(err, EINVAL, "%s: %s", what, jg_status_str(st));
        s = malloc(n + 1);
        if (!s)
                return herr_set(err, ENOMEM, "%s", what);
        memcpy(s, buf, n);
        s[n] = '\0';
        *out = s;
        if (len)
                *len = n;
        return 0;
}
