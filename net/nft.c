/* net/nft.c: nftables, one atomic batch per call, through libnftables
 * (dlopen'ed: libnftables.so.1 of the Debian package libnftables1, which
 * the package nftables pulls in; no build dependency) in-process, or else
 * the nft command (`nft [-e -a] -f -`, script on stdin). HUSK_NFT=exec
 * forces the command. Sanitized builds always use the command: the
 * library is not instrumented and keeps a few allocations until exit. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"

static const char *nft_path(void)
{
        static const char *c[] = { "/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/usr/local/sbin/nft" };
        for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
                if (access(c[i], X_OK) == 0)
                        return c[i];
        return NULL;
}

static int memfd_with(const char *name, const char *data, herr_t *err)
{
        int fd = memfd_create(name, MFD_CLOEXEC);
        if (fd < 0)
                return herr_sys(err, "memfd");
        if (data && write_all(fd, data, strlen(data)) < 0) {
                int e = errno;
                close(fd);
                return herr_set(err, e, "memfd");
        }
        lseek(fd, 0, SEEK_SET);
        return fd;
}

/* libnftables' ABI (nftables/libnftables.h), resolved at run time. */
#define NFT_CTX_OUTPUT_HANDLE_ (1u << 3)
#define NFT_CTX_OUTPUT_ECHO_ (1u << 5)
struct nft_lib {
        void *(*ctx_new)(uint32_t flags);
        void (*ctx_free)(void *ctx);
        int (*buffer_output)(void *ctx);
        const char *(*get_output)(void *ctx);
        int (*buffer_error)(void *ctx);
        const char *(*get_error)(void *ctx);
        void (*set_flags)(void *ctx, unsigned int flags);
        int (*run)(void *ctx, const char *buf);
};

#if defined(__SANITIZE_ADDRESS__)
#define NFT_LIB_ALLOWED 0
#else
#define NFT_LIB_ALLOWED 1
#endif

static const struct nft_lib *nft_lib(void)
{
        static struct nft_lib lib;
        static int state; /* 0 unknown, 1 loaded, -1 unavailable */
        if (state)
                return state > 0 ? &lib : NULL;
        state = -1;
        const char *force = getenv("HUSK_NFT");
        if (!NFT_LIB_ALLOWED || (force && !strcmp(force, "exec")))
                return NULL;
        void *h = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return NULL;
        *(void **)&lib.ctx_new = dlsym(h, "nft_ctx_new");
        *(void **)&lib.ctx_free = dlsym(h, "nft_ctx_free");
        *(void **)&lib.buffer_output = dlsym(h, "nft_ctx_buffer_output");
        *(void **)&lib.get_output = dlsym(h, "nft_ctx_get_output_buffer");
        *(void **)&lib.buffer_error = dlsym(h, "nft_ctx_buffer_error");
        *(void **)&lib.get_error = dlsym(h, "nft_ctx_get_error_buffer");
        *(void **)&lib.set_flags = dlsym(h, "nft_ctx_output_set_flags");
        *(void **)&lib.run = dlsym(h, "nft_run_cmd_from_buffer");
        if (!lib.ctx_new || !lib.ctx_free || !lib.buffer_output || !lib.get_output || !lib.buffer_error ||
            !lib.get_error || !lib.set_flags || !lib.run) {
                dlclose(h);
                return NULL;
        }
        state = 1;
        return &lib;
}

static int first_line_error(const char *msg, herr_t *err)
{
        char buf[512];
        snprintf(buf, sizeof buf, "%s", msg && *msg ? msg : "nft failed");
        char *nl = strchr(buf, '\n');
        if (nl)
                *nl = '\0';
        return herr_set(err, 0, "nftables: %s", buf);
}

static int nft_run_lib(const struct nft_lib *lib, const char *script, bool echo, char **out, herr_t *err)
{
        void *ctx = lib->ctx_new(0);
        if (!ctx)
                return herr_set(err, ENOMEM, "nftables: context");
        lib->buffer_output(ctx);
        lib->buffer_error(ctx);
        if (echo)
                lib->set_flags(ctx, NFT_CTX_OUTPUT_HANDLE_ | NFT_CTX_OUTPUT_ECHO_);
        int rc = lib->run(ctx, script);
        if (rc != 0) {
                first_line_error(lib->get_error(ctx), err);
                lib->ctx_free(ctx);
                return -1;
        }
        if (out) {
                const char *o = lib->get_output(ctx);
                *out = strdup(o ? o : "");
                if (!*out) {
                        lib->ctx_free(ctx);
                        return herr_set(err, ENOMEM, "nftables: output");
                }
        }
        lib->ctx_free(ctx);
        return 0;
}

int nft_run(const char *script, bool echo, char **out, herr_t *err)
{
        if (out)
                *out = NULL;
        const struct nft_lib *lib = nft_lib();
        if (lib)
                return nft_run_lib(lib, script, echo, out, err);
        const char *nft = nft_path();
        if (!nft)
                return herr_set(err, ENOENT, "nftables: the nft command is missing (apt-get install nftables)");
        _cleanup_close_ int in = memfd_with("nft-in", script, err);
        if (in < 0)
                return -1;
        _cleanup_close_ int o = memfd_with("nft-out", NULL, err);
        if (o < 0)
                return -1;
        _cleanup_close_ int e = memfd_with("nft-err", NULL, err);
        if (e < 0)
                return -1;
        pid_t pid = fork();
        if (pid < 0)
                return herr_sys(err, "nftables: fork");
        if (pid == 0) {
                if (dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
                        _exit(127);
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                if (echo)
                        execl(nft, "nft", "-e", "-a", "-f", "-", (char *)NULL);
                else
                        execl(nft, "nft", "-f", "-", (char *)NULL);
                _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return herr_sys(err, "nftables: wait");
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                char *msg = NULL;
                size_t len = 0;
                herr_t e2 = { 0 };
                lseek(e, 0, SEEK_SET);
                (void)read_fd(e, 4096, &msg, &len, &e2);
                while (msg && len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
                        msg[--len] = '\0';
                /* The first line is the useful one ("Error: ..."). */
                char *nl = msg ? strchr(msg, '\n') : NULL;
                if (nl)
                        *nl = '\0';
                herr_set(err, 0, "nftables: %s", msg && *msg ? msg : "nft failed");
                free(msg);
                return -1;
        }
        if (out) {
                size_t len;
                lseek(o, 0, SEEK_SET);
                if (read_fd(o, 1u << 20, out, &len, err) < 0)
                        return herr_prefix(err, "nftables: output");
        }
        return 0;
}

size_t nft_handles(const char *out, unsigned long *h, size_t max)
{
        size_t n = 0;
        for (const char *p = out; p && n < max && (p = strstr(p, "# handle ")); ) {
                p += strlen("# handle ");
                h[n++] = strtoul(p, NULL, 10);
        }
        return n;
}

/* Atomic replace without fsync: the network state lives under the runtime
 * root (tmpfs /run on most hosts) and only has to survive a crash of husk,
 * not of the machine (whose reboot takes every link and rule with it). */
int net_write_file(const char *path, const char *data, size_t len, herr_t *err)
{
        char tmp[PATH_MAX];
        if (snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid()) >= (int)sizeof tmp)
                return herr_set(err, ENAMETOOLONG, "%s", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return herr_sys(err, "%s", path);
        if (write_all(fd, data, len) < 0) {
                int e = errno;
                close(fd);
                unlink(tmp);
                return herr_set(err, e, "%s", path);
        }
        close(fd);
        if (rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return herr_set(err, e, "%s", path);
        }
        return 0;
}
