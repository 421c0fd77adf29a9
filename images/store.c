/* images/store.c: the store's directories, lock and refs file. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "internal.h"

#define MAX_REFS_FILE (8u << 20)

int store_init(const char *storage, herr_t *err)
{
        static const char *const sub[] = { "blobs/sha256", "layers", "containers", "tmp" };
        for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", storage, sub[i]) < 0)
                        return herr_set(err, ENOMEM, "store");
                if (mkdir_p(p, 0700, err) < 0)
                        return herr_prefix(err, "store %s", storage);
        }
        return 0;
}

int store_lock(const char *storage, herr_t *err)
{
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/lock", storage) < 0)
                return herr_set(err, ENOMEM, "store");
        _cleanup_close_ int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return herr_sys(err, "%s", p);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return herr_sys(err, "%s: flock", p);
        return TAKE_FD(fd);
}

int ref_normalize(const char *ref, char **out, herr_t *err)
{
        size_t n = strlen(ref);
        if (n == 0 || n > 255)
                return herr_plain(err, EINVAL, "image name \"%s\": empty or too long", ref);
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)ref[i];
                if (!isalnum(c) && !strchr("._-/:@", c))
                        return herr_plain(err, EINVAL, "image name \"%s\": invalid character '%c'", ref, c);
        }
        const char *slash = strrchr(ref, '/');
        const char *colon = strrchr(slash ? slash : ref, ':');
        if (colon && colon[1] == '\0')
                return herr_plain(err, EINVAL, "image name \"%s\": empty tag", ref);
        if (asprintf(out, colon ? "%s" : "%s:latest", ref) < 0)
                return herr_set(err, ENOMEM, "ref");
        return 0;
}

void refs_free(struct ref_entry *r, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(r[i].name);
                free(r[i].digest);
        }
        free(r);
}

int refs_load(const char *storage, struct ref_entry **out, size_t *n, herr_t *err)
{
        _cleanup_free_ char *p = NULL, *buf = NULL;
        *out = NULL;
        *n = 0;
        if (asprintf(&p, "%s/refs", storage) < 0)
                return herr_set(err, ENOMEM, "refs");
        if (read_file(p, MAX_REFS_FILE, &buf, NULL, err) < 0)
                return err->errnum == ENOENT ? (herr_clear(err), 0) : -1;
        struct ref_entry *v = NULL;
        size_t cnt = 0;
        char *save = NULL;
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *sp = strchr(line, ' ');
                if (!sp || !digest_hex(sp + 1))
                        continue;
                *sp = '\0';
                struct ref_entry *nv = realloc(v, (cnt + 1) * sizeof *v);
                if (!nv) {
                        refs_free(v, cnt);
                        return herr_set(err, ENOMEM, "refs");
                }
                v = nv;
                v[cnt].name = strdup(line);
                v[cnt].digest = strdup(sp + 1);
                cnt++;
                if (!v[cnt - 1].name || !v[cnt - 1].digest) {
                        refs_free(v, cnt);
                        return herr_set(err, ENOMEM, "refs");
                }
        }
        *out = v;
        *n = cnt;
        return 0;
}

/* Rewrite refs with `name` set to digest (NULL: removed). Caller locks. */
static int refs_update(const char *storage, const char *name, const char *digest, bool *found,
                       herr_t *err)
{
        struct ref_entry *v = NULL;
        size_t n = 0;
        if (refs_load(storage, &v, &n, err) < 0)
                return -1;
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        if (!f) {
                refs_free(v, n);
                return herr_set(err, ENOMEM, "refs");
        }
        *found = false;
        for (size_t i = 0; i < n; i++) {
                if (strcmp(v[i].name, name) == 0) {
                        *found = true;
                        continue;
                }
                fprintf(f, "%s %s\n", v[i].name, v[i].digest);
        }
        if (digest)
                fprintf(f, "%s %s\n", name, digest);
        fclose(f);
        refs_free(v, n);
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/refs", storage) < 0)
                return herr_set(err, ENOMEM, "refs");
        return write_file_atomic(p, out ? out : "", len, 0600, err);
}

int refs_set(const char *storage, const char *ref, const char *digest, herr_t *err)
{
        _cleanup_close_ int lk = store_lock(storage, err);
        bool found;
        if (lk < 0)
                return -1;
        return refs_update(storage, ref, digest, &found, err);
}

int refs_del(const char *storage, const char *ref, herr_t *err)
{
        _cleanup_close_ int lk = store_lock(storage, err);
        bool found;
        if (lk < 0 || refs_update(storage, ref, NULL, &found, err) < 0)
                return -1;
        if (!found)
                return herr_plain(err, ENOENT, "image %s: no such image", ref);
        return 0;
}

static bool is_hex_prefix(const char *s)
{
        size_t n = strlen(s);
        if (n < 6 || n > DIGEST_HEX_LEN)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
                        return false;
        return true;
}

int image_resolve(const char *storage, const char *ref, char **digest, herr_t *err)
{
        struct ref_entry *v = NULL;
        size_t n = 0;
        if (refs_load(storage, &v, &n, err) < 0)
                return -1;
        _cleanup_free_ char *norm = NULL;
        const char *want = NULL;
        if (strncmp(ref, "sha256:", 7) == 0)
                want = ref + 7;
        else if (is_hex_prefix(ref))
                want = ref;
        int rc = -1;
        const char *hit = NULL;
        for (size_t i = 0; i < n && want; i++) {
                if (strncmp(v[i].digest + 7, want, strlen(want)) != 0)
                        continue;
                if (hit && strcmp(hit, v[i].digest) != 0) {
                        herr_plain(err, EINVAL, "image %s: ambiguous digest prefix", ref);
                        goto out;
                }
                hit = v[i].digest;
        }
        if (!hit && ref_normalize(ref, &norm, err) == 0)
                for (size_t i = 0; i < n; i++)
                        if (strcmp(v[i].name, norm) == 0)
                                hit = v[i].digest;
        if (!hit) {
                herr_plain(err, ENOENT, "image %s: no such image", ref);
                goto out;
        }
        *digest = strdup(hit);
        rc = *digest ? 0 : herr_set(err, ENOMEM, "ref");
out:
        refs_free(v, n);
        return rc;
}

/* A digest or hex prefix drops every name of that image. */
static int remove_by_digest(const char *storage, const char *digest, herr_t *err)
{
        struct ref_entry *v = NULL;
        size_t n = 0;
        int rc = refs_load(storage, &v, &n, err);
        for (size_t i = 0; i < n && rc == 0; i++)
                if (strcmp(v[i].digest, digest) == 0)
                        rc = refs_del(storage, v[i].name, err);
        refs_free(v, n);
        return rc;
}

int image_remove(const char *storage, const char *ref, herr_t *err)
{
        _cleanup_free_ char *norm = NULL, *digest = NULL;
        if (strncmp(ref, "sha256:", 7) == 0 || is_hex_prefix(ref)) {
                if (image_resolve(storage, ref, &digest, err) < 0)
                        return -1;
                return remove_by_digest(storage, digest, err);
        }
        if (ref_normalize(ref, &norm, err) < 0)
                return -1;
        return refs_del(storage, norm, err);
}
