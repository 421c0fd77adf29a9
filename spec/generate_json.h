/* spec/generate_json.h: small yajl_gen helpers shared by the documents husk
 * writes (state, default config, features). Internal to spec/.
 *
 * Every helper returns 0 or the first yajl_gen_status != 0. Callers chain
 * them with JG(st, call): once st holds a failure, later calls are skipped,
 * and jg_finish() turns st into a herr_t. */
#ifndef HUSK_SPEC_GENERATE_JSON_H
#define HUSK_SPEC_GENERATE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_gen.h>

#include "../common/error.h"

/* Run call unless st already holds a failure; keep the first failure. */
#define JG(st, call) ((st) = (st) ? (st) : (call))

static inline void jg_freep(yajl_gen *g)
{
        if (*g)
                yajl_gen_free(*g);
}
#define _cleanup_jg_ __attribute__((cleanup(jg_freep)))

/* A generator that validates UTF-8; pretty: indented, 4 spaces.
 * NULL on allocation failure (err filled). */
yajl_gen jg_new(bool pretty, herr_t *err);

int jg_str(yajl_gen g, const char *s);          /* NULL: null */
int jg_kstr(yajl_gen g, const char *key, const char *val);
int jg_kbool(yajl_gen g, const char *key, bool val);
int jg_kint(yajl_gen g, const char *key, long long val);
/* "key": { "key2": bool } */
int jg_kenabled(yajl_gen g, const char *key, bool enabled);
/* "key": [ v[0], ... ] of the NULL-terminated v. */
int jg_kstrv(yajl_gen g, const char *key, const char *const *v);
int jg_kmap_open(yajl_gen g, const char *key);
int jg_karr_open(yajl_gen g, const char *key);

/* When st != 0 fail with "<what>: ..."; else copy the document into a
 * NUL-terminated malloc'd *out (and *len, without the NUL, if len). */
int jg_finish(yajl_gen g, int st, const char *what, char **out, size_t *len,
              herr_t *err);

#endif
