/* runtime/state.h: the state store under --root (default /run/husk).
 *
 * <root>/<id>/            one directory per container, mode 0700, flock'ed
 *   state.json            husk's record (written atomically)
 *   start.sock            present while the container is "created"
 */
#ifndef HUSK_RUNTIME_STATE_H
#define HUSK_RUNTIME_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "../common/error.h"
#include "../spec/config.h"

#define STATE_START_SOCK "start.sock"

struct container_state {
        char *id;
        char *bundle;          /* absolute */
        char *rootfs;          /* absolute */
        pid_t pid;             /* host pid of the container init */
        unsigned long long pid_start; /* its start time (clock ticks), guards pid reuse */
        char *created;         /* RFC 3339 */
        char *cgroup;          /* absolute cgroup directory, NULL when none */
        char *owner;           /* user name of the creator */
        char *image;           /* image ref when created from one, else NULL */
        char *storage;         /* the image store holding its rootfs */
        char *command;         /* process.args joined, for `list` */
        bool vm;               /* VM mode */
        struct oci_kv *annotations; size_t n_annotations;
};

void container_state_free(struct container_state *s);

/* Check a container id: non-empty, at most 255 bytes, [A-Za-z0-9_.+-],
 * not "." or "..". */
int state_check_id(const char *id, herr_t *err);

/* Create <root>/<id> (refusing a duplicate) and lock it. Returns the
 * directory fd (O_DIRECTORY, flock'ed LOCK_EX). */
int store_create(const char *root, const char *id, herr_t *err);

/* Open and lock an existing container's directory (LOCK_EX or LOCK_SH).
 * A missing container: "container 'x' does not exist". */
int store_open(const char *root, const char *id, int lock, herr_t *err);
/* For readers (state, list): share-locked like store_open, except while a
 * create holds the lock and has not written state.json yet: then 0 with
 * *dirfd -1, the container is "creating" (a create hook asking for the state
 * must not wait for the create). */
int store_open_reader(const char *root, const char *id, int *dirfd, herr_t *err);

/* Remove <root>/<id> and everything in it. */
int store_remove(const char *root, const char *id, herr_t *err);

int state_save(int dirfd, const struct container_state *s, herr_t *err);
int state_load(int dirfd, struct container_state *s, herr_t *err);

/* creating | created | running | paused | stopped, derived from the
 * record and the live system (pid alive with the same start time, start
 * socket present, cgroup frozen). */
const char *state_status(int dirfd, const struct container_state *s);

/* True when pid is alive (not a zombie) and started at start_time. */
bool pid_alive(pid_t pid, unsigned long long start_time);
/* Start time of a pid (field 22 of /proc/<pid>/stat); 0 when gone. */
unsigned long long pid_start_time(pid_t pid);

/* The OCI state document (runtime.md) of a container. */
int state_oci_json(const struct container_state *s, const char *status, bool pretty,
                   char **out, herr_t *err);

#endif
