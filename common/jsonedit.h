/* common/jsonedit.h: small edits of a JSON document (yajl tree): set a
 * string, a string array or an object member by path, and write the tree
 * back. For generated documents (bundles husk writes), not for parsing
 * untrusted input (spec/ does that). */
#ifndef HUSK_COMMON_JSONEDIT_H
#define HUSK_COMMON_JSONEDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "error.h"

/* Parse text into a tree (free with yajl_tree_free). */
int json_parse(const char *text, yajl_val *out, herr_t *err);

/* Set root[path...] (objects are created on the way) to a new string,
 * NULL-terminated string array, or remove it. path is NULL-terminated. */
int json_set_string(yajl_val root, const char **path, const char *value, herr_t *err);
int json_set_strv(yajl_val root, const char **path, char *const *values, herr_t *err);
int json_remove(yajl_val root, const char **path);

/* Serialise (pretty when asked); *out is malloc'ed and NUL-terminated. */
int json_write(yajl_val root, bool pretty, char **out, size_t *len, herr_t *err);

#endif
