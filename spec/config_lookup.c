/* Enum tables and lookups over a parsed config. */
#include "config.h"

#include <string.h>

#include "config_priv.h"

static const char *const ns_names[OCI_NS_COUNT + 1] = {
        [OCI_NS_PID] = "pid",       [OCI_NS_NETWORK] = "network", [OCI_NS_MOUNT] = "mount",
        [OCI_NS_IPC] = "ipc",       [OCI_NS_UTS] = "uts",         [OCI_NS_USER] = "user",
        [OCI_NS_CGROUP] = "cgroup", [OCI_NS_TIME] = "time",       [OCI_NS_COUNT] = NULL,
};

int cfg_lookup(const char *const *table, const char *s)
{
        if (!s)
                return -1;
        for (int i = 0; table[i]; i++)
                if (strcmp(table[i], s) == 0)
                        return i;
        return -1;
}

const char *oci_ns_type_name(enum oci_ns_type t)
{
        if ((int)t < 0 || t >= OCI_NS_COUNT)
                return NULL;
        return ns_names[t];
}

int oci_ns_type_from_name(const char *name)
{
        return cfg_lookup(ns_names, name);
}

const char *oci_config_annotation(const struct oci_config *c, const char *key)
{
        if (!c || !key)
                return NULL;
        for (size_t i = c->n_annotations; i-- > 0;)   /* last duplicate wins */
                if (strcmp(c->annotations[i].key, key) == 0)
                        return c->annotations[i].value;
        return NULL;
}

const struct oci_namespace *oci_config_namespace(const struct oci_config *c, enum oci_ns_type t)
{
        if (!c || !c->linux_)
                return NULL;
        for (size_t i = 0; i < c->linux_->n_namespaces; i++)
                if (c->linux_->namespaces[i].type == t)
                        return &c->linux_->namespaces[i];
        return NULL;
}
