/* spec/config_json.h (private): typed getters over a yajl tree that build
 * the JSON path of every value for error messages ("mounts[2].destination:
 * expected string"). Absent keys and JSON null leave the output untouched.
 * Every getter returns 0 or -1 with err filled. */
#ifndef HUSK_SPEC_CONFIG_JSON_H
#define HUSK_SPEC_CONFIG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "config.h"

#define JPATH_MAX 512
#define JSON_ARRAY_MAX 65536   /* elements per array or map */

/* "parent.key" (or "key" at the top) and "parent[i]" into buf[JPATH_MAX]. */
void jp_key(char *buf, const char *parent, const char *key);
void jp_idx(char *buf, const char *parent, size_t i);

/* The value of key in obj; NULL when absent or null. */
yajl_val j_get(yajl_val obj, const char *key);

/* Value-level conversions; path names v itself. */
int jv_u64(yajl_val v, const char *path, uint64_t max, uint64_t *out, herr_t *err);
int jv_i64(yajl_val v, const char *path, int64_t min, int64_t max, int64_t *out, herr_t *err);
int jv_str(yajl_val v, const char *path, char **out, herr_t *err);

/* Key-level getters; path names obj. */
int j_obj(yajl_val obj, const char *key, const char *path, yajl_val *out, herr_t *err);
int j_arr(yajl_val obj, const char *key, const char *path, yajl_val *out, herr_t *err);
int j_str(yajl_val obj, const char *key, const char *path, char **out, herr_t *err);
int j_bool(yajl_val obj, const char *key, const char *path, bool *out, herr_t *err);
int j_obool(yajl_val obj, const char *key, const char *path, opt_bool *out, herr_t *err);
int j_ou64(yajl_val obj, const char *key, const char *path, uint64_t max, opt_u64 *out, herr_t *err);
int j_oi64(yajl_val obj, const char *key, const char *path, int64_t min, int64_t max,
           opt_i64 *out, herr_t *err);
/* Required numbers: "<path>.<key>: required" when absent. */
int j_u64(yajl_val obj, const char *key, const char *path, uint64_t max, uint64_t *out, herr_t *err);
int j_u32(yajl_val obj, const char *key, const char *path, uint32_t *out, herr_t *err);
int j_i64(yajl_val obj, const char *key, const char *path, int64_t *out, herr_t *err);
/* NULL-terminated string array. */
int j_strv(yajl_val obj, const char *key, const char *path, char ***out, size_t *n, herr_t *err);
/* Object of string values (annotations, sysctl, unified). */
int j_map(yajl_val obj, const char *key, const char *path, struct oci_kv **out, size_t *n,
          herr_t *err);

/* Array of objects: allocates n zeroed elements of size, stores them in
 * *out at once (the caller's free handles a partial result), then calls
 * fn(element, "<path>.<key>[i]", &(*out)[i]) for each. */
typedef int (*j_elem_fn)(yajl_val v, const char *path, void *elem, herr_t *err);
int j_objarr(yajl_val obj, const char *key, const char *path, size_t size, void **out,
             size_t *n, j_elem_fn fn, herr_t *err);

/* Object whose values are objects (netDevices, rdma): like j_objarr, fn
 * gets "<path>.<key>.<name>"; the element's key is set by fn from kname. */
typedef int (*j_member_fn)(const char *name, yajl_val v, const char *path, void *elem,
                           herr_t *err);
int j_objmap(yajl_val obj, const char *key, const char *path, size_t size, void **out,
             size_t *n, j_member_fn fn, herr_t *err);

#define U32_MAX_ ((uint64_t)UINT32_MAX)
#define I32_MIN_ ((int64_t)INT32_MIN)
#define I32_MAX_ ((int64_t)INT32_MAX)

#endif
