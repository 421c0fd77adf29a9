/* seccomp/seccomp.h: linux.seccomp through libseccomp.
 *
 * Mapping (config-linux.md "Seccomp"):
 *   defaultAction/defaultErrnoRet -> seccomp_init(action); errnoRet only for
 *       SCMP_ACT_ERRNO and SCMP_ACT_TRACE (default EPERM), else an error.
 *   architectures -> seccomp_arch_add (the native arch is always kept).
 *   flags -> filter attributes: TSYNC -> SCMP_FLTATR_CTL_TSYNC, LOG ->
 *       SCMP_FLTATR_CTL_LOG, SPEC_ALLOW -> SCMP_FLTATR_CTL_SSB, and the
 *       same kernel flags when loading: husk always exports libseccomp's
 *       BPF and calls seccomp(2) itself (seccomp_prog_load) with the flags
 *       of the config (NEW_LISTENER with notify rules, TSYNC_ESRCH with
 *       TSYNC and a listener).
 *       SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: a kernel flag only (libseccomp
 *       2.6.0's SCMP_FLTATR_CTL_WAITKILL is set too when available). The
 *       flag only means something with SCMP_ACT_NOTIFY rules (the
 *       kernel refuses it without a listener), so it is ignored without
 *       them. A kernel older than 5.19 makes the load fail with EINVAL.
 *   syscalls[] -> seccomp_rule_add_array. An unknown syscall name is skipped
 *       and reported through the warning callback (seccomp_set_warn). A rule
 *       whose action equals the default action is skipped (no effect).
 *       When several args use the same index, each arg becomes its own rule
 *       (libseccomp cannot AND two comparisons of one argument): they OR.
 *       SCMP_CMP_MASKED_EQ: value is the mask, valueTwo the datum.
 *   The filter is optimised as a binary tree (SCMP_FLTATR_CTL_OPTIMIZE=2).
 *
 * no_new_privs: the filter is built with SCMP_FLTATR_CTL_NNP=0, so loading
 * it never sets no_new_privs itself. When process.noNewPrivileges is true
 * the runtime sets PR_SET_NO_NEW_PRIVS before loading the filter, as the
 * very last step before execve. Without it the kernel requires CAP_SYS_ADMIN
 * in the caller's user namespace, so the runtime's init must load the filter
 * while it still holds that capability, i.e. before it drops to
 * process.capabilities (the profile must then allow the capset/setuid/...
 * calls that follow; otherwise loading fails with EACCES and a message
 * naming no_new_privs and CAP_SYS_ADMIN).
 *
 * SCMP_ACT_NOTIFY: loading (seccomp_load_config/seccomp_prog_load) returns the listener fd
 * (O_CLOEXEC). The container init hands it to the runtime parent over its
 * sync socket (SCM_RIGHTS) right after loading; the parent builds the
 * container process state with seccomp_process_state_json() and calls
 * seccomp_send_listener(), then closes its copy. A NOTIFY'd syscall the init
 * makes before the agent has the fd blocks forever, so the hand-over
 * syscalls (sendmsg, close, ...) must not be NOTIFY rules.
 */
#ifndef HUSK_SECCOMP_H
#define HUSK_SECCOMP_H

#include <seccomp.h>           /* libseccomp (system header, not this file) */
#include <linux/filter.h>
#include <stdbool.h>
#include <sys/types.h>

#include "../common/error.h"
#include "../spec/config.h"

/* Where warnings go (library code never prints). NULL: dropped. The message
 * names the JSON path, e.g. "linux.seccomp.syscalls[2].names[0]: unknown
 * syscall 'foo', skipped". Process-wide; set it once from main. */
typedef void (*seccomp_warn_fn)(const char *msg);
void seccomp_set_warn(seccomp_warn_fn fn);

/* Check a seccomp section without loading it (unknown action, arch, flag,
 * op, errnoRet on an action without errno, arg index > 5, NOTIFY without
 * listenerPath, listenerMetadata without listenerPath: errors naming the
 * JSON path "linux.seccomp..."). Unknown syscall names are not errors. */
int seccomp_validate(const struct oci_seccomp *s, herr_t *err);

/* Validate and build the filter without loading it (release it with
 * seccomp_release). Warnings for unknown syscalls are reported here. */
int seccomp_build(const struct oci_seccomp *s, scmp_filter_ctx *out, herr_t *err);

/* Build and load the filter into the calling process. Called last before
 * exec. (Named _config because libseccomp owns the symbol seccomp_load.) When an action is SCMP_ACT_NOTIFY, *notify_fd receives the listener
 * fd (else -1); the caller owns it. Same as seccomp_prepare(s, NULL, ...)
 * then seccomp_prog_load(). */
int seccomp_load_config(const struct oci_seccomp *s, int *notify_fd, herr_t *err);

/* A compiled filter: the BPF libseccomp builds for a section and the
 * seccomp(2) flags of its config. Plain memory, so a fork of the process
 * that prepared it can load it (husk create prepares it, the container
 * init loads it after pivot_root, where no path of the host is left). */
struct seccomp_prog {
        struct sock_filter *insns;
        unsigned short len;
        unsigned long flags;   /* SECCOMP_FILTER_FLAG_* */
        bool notify;           /* NEW_LISTENER: loading returns a listener */
};

/* Validate s and compile it. With cache_dir (husk uses <--root>/.seccomp-cache)
 * the BPF comes from, or goes to, the compiled-filter cache (cache.c): the
 * entry is keyed by the canonical section (seccomp_gen), the husk and
 * libseccomp versions and the native arch, compared in full, and any
 * problem reading it means a rebuild. Errors and unknown-syscall warnings are the same with
 * or without a cache. Release with seccomp_prog_free. */
int seccomp_prepare(const struct oci_seccomp *s, const char *cache_dir, struct seccomp_prog *out,
                    herr_t *err);

/* The compiled-filter cache entry for s and its compiled p, as the bytes
 * and file name (16 hex digits) seccomp_prepare would find under its
 * cache_dir: VM mode hands it to the husk inside the guest, whose cache
 * starts empty at every boot (compiling there costs ~70 ms under TCG). */
int seccomp_cache_entry(const struct oci_seccomp *s, const struct seccomp_prog *p, char name[17],
                        unsigned char **data, size_t *len, herr_t *err);

/* Load p into the calling process with seccomp(2) and p->flags; with
 * p->notify, *notify_fd receives the listener (O_CLOEXEC), else -1. */
int seccomp_prog_load(const struct seccomp_prog *p, int *notify_fd, herr_t *err);
void seccomp_prog_free(struct seccomp_prog *p);

/* The container process state of config-linux.md as JSON:
 *   {"ociVersion": <state.ociVersion>, "fds": ["seccompFd"], "pid": pid,
 *    "metadata": metadata (omitted when NULL), "state": <state_json>}
 * state_json is the runtime.md state document (e.g. from oci_state_json).
 * *out is NUL-terminated and malloc'd. */
int seccomp_process_state_json(const char *state_json, pid_t pid, const char *metadata,
                               char **out, herr_t *err);

/* Connect to the AF_UNIX SOCK_STREAM socket listener_path, send state_json
 * (a container process state, see above) with notify_fd in SCM_RIGHTS in the
 * first sendmsg, then close the connection. One state per connection. */
int seccomp_send_listener(const char *listener_path, int notify_fd, const char *state_json,
                          herr_t *err);

/* The "seccomp" object of features-linux.md as a JSON object value:
 * enabled, actions, operators, archs (those this libseccomp supports),
 * knownFlags and supportedFlags (probed: libseccomp and the running kernel).
 * Returns 0 or -1 (yajl error). */
int seccomp_features_gen(void *yajl_gen_handle);

/* ------------------------------------------------------- default profile */

/* The profile `husk spec` writes: defaultAction SCMP_ACT_ERRNO with
 * defaultErrnoRet 1 (EPERM), architectures x86_64/x86/x32, and an allowlist
 * of the syscalls ordinary programs need. Left out (so EPERM): keyctl,
 * add_key, request_key, bpf, userfaultfd, perf_event_open, kexec_*,
 * init_module, finit_module, delete_module, mount, umount2, unshare, setns,
 * pivot_root, swapon/swapoff, reboot, acct, ... The OCI section has no
 * capability conditions, so the profile assumes husk spec's default
 * capabilities, which exclude CAP_SYS_ADMIN. clone is allowed only without
 * CLONE_NEW* flags (SCMP_CMP_MASKED_EQ); clone3 returns ENOSYS so libc falls
 * back to clone (its flags live in memory and cannot be filtered).
 * The returned struct is static and read-only: do not free it. */
const struct oci_seccomp *seccomp_default_profile(void);

/* Emit a seccomp section as a JSON object value into a yajl_gen (passed as
 * void * so callers need not include yajl here). Returns 0 or -1. */
int seccomp_gen(void *yajl_gen_handle, const struct oci_seccomp *s);

/* seccomp_gen(g, seccomp_default_profile()): the "seccomp" value of the
 * default config.json (the caller emits the "seccomp" key first). */
int seccomp_default_profile_gen(void *yajl_gen_handle);

#endif
