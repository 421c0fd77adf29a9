#include "jsonedit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

int json_parse(const char *text, yajl_val *out, herr_t *err)
{
        char ebuf[256] = "";
        *out = yajl_tree_parse(text, ebuf, sizeof ebuf);
        if (!*out)
                return herr_set(err, 0, "invalid JSON: %s", ebuf);
        return 0;
}

static yajl_val new_val(yajl_type t)
{
        yajl_val v = calloc(1, sizeof *v);
        if (v)
                v->type = t;
        return v;
}

static yajl_val new_string(const char *s)
{
        yajl_val v = new_val(yajl_t_string);
        if (v && !(v->u.string = strdup(s))) {
                free(v);
                return NULL;
        }
        return v;
}

/* The member slot of key in obj, appended (NULL value) when absent. */
static yajl_val *member(yajl_val obj, const char *key)
{
        for (size_t i = 0; i < obj->u.object.len; i++)
                if (!strcmp(obj->u.object.keys[i], key))
                        return &obj->u.object.values[i];
        size_t n = obj->u.object.len;
        const char **keys = realloc(obj->u.object.keys, (n + 1) * sizeof *keys);
        if (!keys)
                return NULL;
        obj->u.object.keys = keys;
        yajl_val *vals = realloc(obj->u.object.values, (n + 1) * sizeof *vals);
        if (!vals)
                return NULL;
        obj->u.object.values = vals;
        if (!(keys[n] = strdup(key)))
                return NULL;
        vals[n] = NULL;
        obj->u.object.len = n + 1;
        return &vals[n];
}

/* Walk to the slot of the last path element, creating objects. */
static yajl_val *slot(yajl_val root, const char **path, herr_t *err)
{
        yajl_val cur = root;
        for (size_t i = 0; path[i]; i++) {
                if (!YAJL_IS_OBJECT(cur))
                        return herr_set(err, 0, "%s: not an object", path[i]), NULL;
                yajl_val *s = member(cur, path[i]);
                if (!s)
                        return herr_set(err, ENOMEM, "json"), NULL;
                if (!path[i + 1])
                        return s;
                if (!*s && !(*s = new_val(yajl_t_object)))
                        return herr_set(err, ENOMEM, "json"), NULL;
                cur = *s;
        }
        return herr_set(err, EINVAL, "json: empty path"), NULL;
}

static int replace(yajl_val root, const char **path, yajl_val v, herr_t *err)
{
        if (!v)
                return herr_set(err, ENOMEM, "json");
        yajl_val *s = slot(root, path, err);
        if (!s) {
                yajl_tree_free(v);
                return -1;
        }
        yajl_tree_free(*s);
        *s = v;
        return 0;
}

int json_set_string(yajl_val root, const char **path, const char *value, herr_t *err)
{
        return replace(root, path, new_string(value), err);
}

int json_set_strv(yajl_val root, const char **path, char *const *values, herr_t *err)
{
        yajl_val a = new_val(yajl_t_array);
        size_t n = 0;
        while (values && values[n])
                n++;
        if (a && n) {
                a->u.array.values = calloc(n, sizeof(yajl_val));
                if (!a->u.array.values) {
                        free(a);
                        a = NULL;
                }
                for (size_t i = 0; a && i < n; i++) {
                        if (!(a->u.array.values[i] = new_string(values[i]))) {
                                yajl_tree_free(a);
                                a = NULL;
                                break;
                        }
                        a->u.array.len = i + 1;
                }
        }
        return replace(root, path, a, err);
}

int json_remove(yajl_val root, const char **path)
{
        yajl_val cur = root;
        for (size_t i = 0; cur && path[i]; i++) {
                if (!YAJL_IS_OBJECT(cur))
                        return -1;
                size_t n = cur->u.object.len, k;
                for (k = 0; k < n && strcmp(cur->u.object.keys[k], path[i]); k++)
                        ;
                if (k == n)
                        return 0;
                if (path[i + 1]) {
                        cur = cur->u.object.values[k];
                        continue;
                }
                free((char *)cur->u.object.keys[k]);
                yajl_tree_free(cur->u.object.values[k]);
                memmove(&cur->u.object.keys[k], &cur->u.object.keys[k + 1], (n - k - 1) * sizeof(char *));
                memmove(&cur->u.object.values[k], &cur->u.object.values[k + 1], (n - k - 1) * sizeof(yajl_val));
                cur->u.object.len = n - 1;
        }
        return 0;
}

static yajl_gen_status gen(yajl_gen g, yajl_val v)
{
        yajl_gen_status st = yajl_gen_status_ok;
        if (!v || YAJL_IS_NULL(v))
                return yajl_gen_null(g);
        switch (v->type) {
        case yajl_t_string:
                return yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
        case yajl_t_number:
                return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
        case yajl_t_true:
                return yajl_gen_bool(g, 1);
        case yajl_t_false:
                return yajl_gen_bool(g, 0);
        case yajl_t_object:
                st = yajl_gen_map_open(g);
                for (size_t i = 0; st == yajl_gen_status_ok && i < v->u.object.len; i++) {
                        const char *k = v->u.object.keys[i];
                        st = yajl_gen_string(g, (const unsigned char *)k, strlen(k));
                        if (st == yajl_gen_status_ok)
                                st = gen(g, v->u.object.values[i]);
                }
                return st == yajl_gen_status_ok ? yajl_gen_map_close(g) : st;
        case yajl_t_array:
                st = yajl_gen_array_open(g);
                for (size_t i = 0; st == yajl_gen_status_ok && i < v->u.array.len; i++)
                        st = gen(g, v->u.array.values[i]);
                return st == yajl_gen_status_ok ? yajl_gen_array_close(g) : st;
        default:
                return yajl_gen_null(g);
        }
}

int json_write(yajl_val root, bool pretty, char **out, size_t *len, herr_t *err)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        if (!g)
                return herr_set(err, ENOMEM, "json");
        yajl_gen_config(g, yajl_gen_beautify, pretty ? 1 : 0);
        const unsigned char *buf;
        size_t n;
        int rc = 0;
        if (gen(g, root) != yajl_gen_status_ok || yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok)
                rc = herr_set(err, 0, "json: cannot serialise");
        else if (!(*out = strndup((const char *)buf, n)))
                rc = herr_set(err, ENOMEM, "json");
        else if (len)
                *len = n;
        yajl_gen_free(g);
        return rc;
}
