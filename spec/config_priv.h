/* spec/config_priv.h (private): the parsing and validation stages of
 * config.json shared between the spec/config_*.c and spec/validate*.c files.
 * Parsers store what they allocate in the config at once, so that on error
 * oci_config_free() of the partial result frees everything. */
#ifndef HUSK_SPEC_CONFIG_PRIV_H
#define HUSK_SPEC_CONFIG_PRIV_H

#include "config.h"
#include "config_json.h"

#define CONFIG_MAX_BYTES (4u << 20)   /* 4 MiB */
#define JSON_MAX_DEPTH 64

int cfg_parse_process(yajl_val root, struct oci_config *c, herr_t *err);
int cfg_parse_linux(yajl_val root, struct oci_config *c, herr_t *err);
int cfg_parse_resources(yajl_val lin, const char *path, struct oci_resources **out, herr_t *err);
int cfg_parse_seccomp(yajl_val lin, const char *path, struct oci_seccomp **out, herr_t *err);
int cfg_parse_vm(yajl_val root, struct oci_config *c, herr_t *err);
/* The non-Linux platform objects: type and enum checks only (not stored). */
int cfg_check_platforms(yajl_val root, struct oci_config *c, herr_t *err);
/* j_elem_fn for struct oci_id_mapping. */
int cfg_parse_id_mapping(yajl_val v, const char *path, void *elem, herr_t *err);

int cfg_validate_process(const struct oci_process *p, herr_t *err);
int cfg_validate_linux(const struct oci_linux *l, herr_t *err);
int cfg_validate_resources(const struct oci_resources *r, herr_t *err);
int cfg_validate_seccomp(const struct oci_seccomp *s, herr_t *err);

/* Index of s in a NULL-terminated table, or -1. */
int cfg_lookup(const char *const *table, const char *s);

#endif
