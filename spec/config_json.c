/* Typed getters over a yajl tree with JSON-path error messages. */
#include "config_json.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"

/* Over-long paths (long map keys) end in "..." rather than being cut silently. */
static void jp_truncated(char *buf, int n)
{
        if (n >= JPATH_MAX)
                memcpy(buf + JPATH_MAX - 4, "...", 4);
}

void jp_key(char *buf, const char *parent, const char *key)
{
        int n;
        if (!parent || !*parent)
                n = snprintf(buf, JPATH_MAX, "%s", key);
        else
                n = snprintf(buf, JPATH_MAX, "%s.%s", parent, key);
        jp_truncated(buf, n);
}

void jp_idx(char *buf, const char *parent, size_t i)
{
        jp_truncated(buf, snprintf(buf, JPATH_MAX, "%s[%zu]", parent, i));
}

yajl_val j_get(yajl_val obj, const char *key)
{
        if (!YAJL_IS_OBJECT(obj))
                return NULL;
        /* The last of duplicate keys wins, as in Go's encoding/json (runc). */
        for (size_t i = obj->u.object.len; i-- > 0;) {
                if (strcmp(obj->u.object.keys[i], key) == 0) {
                        yajl_val v = obj->u.object.values[i];
                        return YAJL_IS_NULL(v) ? NULL : v;
                }
        }
        return NULL;
}

/* Split a JSON number's text into sign and magnitude. Returns 0, -1 when
 * the text is not an integer (fraction, exponent) and -2 on overflow. */
static int int_text(const char *r, bool *neg, uint64_t *mag)
{
        *neg = (*r == '-');
        const char *d = r + (*neg ? 1 : 0);
        if (!isdigit((unsigned char)*d))
                return -1;
        for (const char *p = d; *p; p++)
                if (!isdigit((unsigned char)*p))
                        return -1;
        errno = 0;
        *mag = strtoull(d, NULL, 10);
        return errno == ERANGE ? -2 : 0;
}

int jv_u64(yajl_val v, const char *path, uint64_t max, uint64_t *out, herr_t *err)
{
        bool neg;
        uint64_t mag;
        if (!YAJL_IS_NUMBER(v))
                return herr_set(err, 0, "%s: expected integer", path);
        int r = int_text(v->u.number.r, &neg, &mag);
        if (r == -1)
                return herr_set(err, 0, "%s: expected integer, got %s", path, v->u.number.r);
        if (neg && (r == -2 || mag != 0))
                return herr_set(err, 0, "%s: expected unsigned integer, got %s", path,
                                v->u.number.r);
        if (r == -2 || mag > max)
                return herr_set(err, 0, "%s: value %s out of range (max %llu)", path,
                                v->u.number.r, (unsigned long long)max);
        *out = mag;
        return 0;
}

int jv_i64(yajl_val v, const char *path, int64_t min, int64_t max, int64_t *out, herr_t *err)
{
        bool neg;
        uint64_t mag;
        if (!YAJL_IS_NUMBER(v))
                return herr_set(err, 0, "%s: expected integer", path);
        int r = int_text(v->u.number.r, &neg, &mag);
        if (r == -1)
                return herr_set(err, 0, "%s: expected integer, got %s", path, v->u.number.r);
        uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        int64_t val = 0;
        if (r == 0 && mag <= limit)
                val = !neg ? (int64_t)mag : mag == limit ? INT64_MIN : -(int64_t)mag;
        if (r == -2 || mag > limit || val < min || val > max)
                return herr_set(err, 0, "%s: value %s out of range (%lld..%lld)", path,
                                v->u.number.r, (long long)min, (long long)max);
        *out = val;
        return 0;
}

int jv_str(yajl_val v, const char *path, char **out, herr_t *err)
{
        if (!YAJL_IS_STRING(v))
                return herr_set(err, 0, "%s: expected string", path);
        char *s = strdup(v->u.string);
        if (!s)
                return herr_set(err, ENOMEM, "%s", path);
        free(*out);
        *out = s;
        return 0;
}

int j_obj(yajl_val obj, const char *key, const char *path, yajl_val *out, herr_t *err)
{
        yajl_val v = j_get(obj, key);
        *out = NULL;
        if (!v)
                return 0;
        if (!YAJL_IS_OBJECT(v)) {
                char p[JPATH_MAX];
                jp_key(p, path, key);
                return herr_set(err, 0, "%s: expected object", p);
        }
        if (v->u.object.len > JSON_ARRAY_MAX) {
                char p[JPATH_MAX];
                jp_key(p, path, key);
                return herr_set(err, 0, "%s: too many members (max %d)", p, JSON_ARRAY_MAX);
        }
        *out = v;
        return 0;
}

int j_arr(yajl_val obj, const char *key, const char *path, yajl_val *out, herr_t *err)
{
        yajl_val v = j_get(obj, key);
        char p[JPATH_MAX];
        *out = NULL;
        if (!v)
                return 0;
        jp_key(p, path, key);
        if (!YAJL_IS_ARRAY(v))
                return herr_set(err, 0, "%s: expected array", p);
        if (v->u.array.len > JSON_ARRAY_MAX)
                return herr_set(err, 0, "%s: too many elements (max %d)", p, JSON_ARRAY_MAX);
        *out = v;
        return 0;
}

int j_str(yajl_val obj, const char *key, const char *path, char **out, herr_t *err)
{
        yajl_val v = j_get(obj, key);
        if (!v)
                return 0;
        char p[JPATH_MAX];
        jp_key(p, path, key);
        return jv_str(v, p, out, err);
}

int j_bool(yajl_val obj, const char *key, const char *path, bool *out, herr_t *err)
{
        yajl_val v = j_get(obj, key);
        if (!v)
                return 0;
        if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v)) {
                char p[JPATH_MAX];
                jp_key(p, path, key);
                return herr_set(err, 0, "%s: expected boolean", p);
        }
        *out = YAJL_IS_TRUE(v);
        return 0;
}

int j_obool(yajl_val obj, const char *key, const char *path, opt_bool *out, herr_t *err)
{
        bool b = false;
        if (!j_get(obj, key))
                return 0;
        if (j_bool(obj, key, path, &b, err) < 0)
                return -1;
        out->set = true;
        out->v = b;
        return 0;
}

int j_ou64(yajl_val obj, const char *key, const char *path, uint64_t max, opt_u64 *out, herr_t *err)
{
        yajl_val v = j_get(obj, key);
        if (!v)
                return 0;
        char p[JPATH_MAX];
        jp_key(p, path, key);
        if (jv_u64(v, p, max, &out->v, err) < 0)
                return -1;
        out->set = true;
        return 0;
}

int j_oi64(yajl_val obj, const char *key, const char *path, int64_t min, int64_t max,
           opt_i64 *out, herr_t *err)
{
        yajl_val v = j_get(obj, key);
        if (!v)
                return 0;
        char p[JPATH_MAX];
        jp_key(p, path, key);
        if (jv_i64(v, p, min, max, &out->v, err) < 0)
                return -1;
        out->set = true;
        return 0;
}

int j_u64(yajl_val obj, const char *key, const char *path, uint64_t max, uint64_t *out, herr_t *err)
{
        char p[JPATH_MAX];
        jp_key(p, path, key);
        yajl_val v = j_get(obj, key);
        if (!v)
                return herr_set(err, 0, "%s: required", p);
        return jv_u64(v, p, max, out, err);
}

int j_u32(yajl_val obj, const char *key, const char *path, uint32_t *out, herr_t *err)
{
        uint64_t v;
        if (j_u64(obj, key, path, U32_MAX_, &v, err) < 0)
                return -1;
        *out = (uint32_t)v;
        return 0;
}

int j_i64(yajl_val obj, const char *key, const char *path, int64_t *out, herr_t *err)
{
        char p[JPATH_MAX];
        jp_key(p, path, key);
        yajl_val v = j_get(obj, key);
        if (!v)
                return herr_set(err, 0, "%s: required", p);
        return jv_i64(v, p, INT64_MIN, INT64_MAX, out, err);
}

int j_strv(yajl_val obj, const char *key, const char *path, char ***out, size_t *n, herr_t *err)
{
        yajl_val v = j_get(obj, key);
        if (!v)
                return 0;
        char p[JPATH_MAX];
        jp_key(p, path, key);
        if (!YAJL_IS_ARRAY(v))
                return herr_set(err, 0, "%s: expected array of strings", p);
        size_t len = v->u.array.len;
        if (len > JSON_ARRAY_MAX)
                return herr_set(err, 0, "%s: too many elements (max %d)", p, JSON_ARRAY_MAX);
        _cleanup_strv_ char **sv = calloc(len + 1, sizeof *sv);
        if (!sv)
                return herr_set(err, ENOMEM, "%s", p);
        for (size_t i = 0; i < len; i++) {
                yajl_val e = v->u.array.values[i];
                if (!YAJL_IS_STRING(e))
                        return herr_set(err, 0, "%s: expected array of strings (element %zu is not a string)",
                                        p, i);
                sv[i] = strdup(e->u.string);
                if (!sv[i])
                        return herr_set(err, ENOMEM, "%s", p);
        }
        cleanup_strvp(out);
        *out = TAKE_PTR(sv);
        *n = len;
        return 0;
}

int j_map(yajl_val obj, const char *key, const char *path, struct oci_kv **out, size_t *n,
          herr_t *err)
{
        yajl_val m;
        char p[JPATH_MAX], ep[JPATH_MAX];
        if (j_obj(obj, key, path, &m, err) < 0)
                return -1;
        if (!m)
                return 0;
        jp_key(p, path, key);
        size_t len = m->u.object.len;
        *out = calloc(len ? len : 1, sizeof **out);
        if (!*out)
                return herr_set(err, ENOMEM, "%s", p);
        *n = len;
        for (size_t i = 0; i < len; i++) {
                const char *k = m->u.object.keys[i];
                if (!*k)
                        return herr_set(err, 0, "%s: empty key", p);
                jp_key(ep, p, k);
                if (!((*out)[i].key = strdup(k)))
                        return herr_set(err, ENOMEM, "%s", p);
                if (jv_str(m->u.object.values[i], ep, &(*out)[i].value, err) < 0)
                        return -1;
        }
        return 0;
}

/* The elements of an array or the members of a map (c), each an object,
 * into a calloc'ed array of elements of size bytes, filled by fn (array)
 * or mfn (map). p is c's path. */
static int each_object(yajl_val c, const char *p, size_t size, void **out, size_t *n, j_elem_fn fn,
                       j_member_fn mfn, herr_t *err)
{
        bool map = YAJL_IS_OBJECT(c);
        size_t len = map ? c->u.object.len : c->u.array.len;
        char *elems = calloc(len ? len : 1, size);
        if (!elems)
                return herr_set(err, ENOMEM, "%s", p);
        *out = elems;
        *n = len;
        for (size_t i = 0; i < len; i++) {
                char ep[JPATH_MAX];
                yajl_val e = map ? c->u.object.values[i] : c->u.array.values[i];
                if (map)
                        jp_key(ep, p, c->u.object.keys[i]);
                else
                        jp_idx(ep, p, i);
                if (!YAJL_IS_OBJECT(e))
                        return herr_set(err, 0, "%s: expected object", ep);
                if ((map ? mfn(c->u.object.keys[i], e, ep, elems + i * size, err)
                         : fn(e, ep, elems + i * size, err)) < 0)
                        return -1;
        }
        return 0;
}

int j_objarr(yajl_val obj, const char *key, const char *path, size_t size, void **out,
             size_t *n, j_elem_fn fn, herr_t *err)
{
        yajl_val a;
        char p[JPATH_MAX];
        if (j_arr(obj, key, path, &a, err) < 0)
                return -1;
        if (!a)
                return 0;
        jp_key(p, path, key);
        return each_object(a, p, size, out, n, fn, NULL, err);
}

int j_objmap(yajl_val obj, const char *key, const char *path, size_t size, void **out,
             size_t *n, j_member_fn fn, herr_t *err)
{
        yajl_val m;
        char p[JPATH_MAX];
        if (j_obj(obj, key, path, &m, err) < 0)
                return -1;
        if (!m)
                return 0;
        jp_key(p, path, key);
        return each_object(m, p, size, out, n, NULL, fn, err);
}
