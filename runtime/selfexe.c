#include "selfexe.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

/* The bytes execve and ld.so read: up to the end of the last segment (and
 * of the program headers), not the debug sections after them, which are
 * most of the file. The copy's section header fields are cleared so it is
 * a well-formed ELF without sections. 0: copy the whole file. Sanitizer
 * builds copy everything (their symbolizer reads /proc/self/exe). */
static off_t image_size(int fd, off_t size, Elf64_Ehdr *eh)
{
#if defined(__SANITIZE_ADDRESS__)
        (void)fd, (void)size, (void)eh;
        return 0;
#else
        Elf64_Phdr ph[64];
        if (pread(fd, eh, sizeof *eh, 0) != (ssize_t)sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
            eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_phentsize != sizeof ph[0] ||
            eh->e_phnum == 0 || eh->e_phnum > ARRAY_SIZE(ph))
                return 0;
        size_t len = (size_t)eh->e_phnum * sizeof ph[0];
        if (pread(fd, ph, len, (off_t)eh->e_phoff) != (ssize_t)len)
                return 0;
        uint64_t end = eh->e_phoff + len;
        for (size_t i = 0; i < eh->e_phnum; i++)
                if (ph[i].p_offset + ph[i].p_filesz > end)
                        end = ph[i].p_offset + ph[i].p_filesz;
        return end < (uint64_t)size ? (off_t)end : 0;
#endif
}

static int strip_sections(int mfd, Elf64_Ehdr *eh)
{
        eh->e_shoff = 0;
        eh->e_shnum = 0;
        eh->e_shstrndx = SHN_UNDEF;
        return pwrite(mfd, eh, sizeof *eh, 0) == (ssize_t)sizeof *eh ? 0 : -1;
}

static int is_sealed_copy(void)
{
        _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        int seals = fcntl(fd, F_GET_SEALS);
        return seals >= 0 && (seals & SEALS) == SEALS;
}

int selfexe_ensure_sealed(char **argv, herr_t *err)
{
        if (is_sealed_copy())
                return 0;
#ifdef HUSK_FAULTS
        /* Test builds only (make FAULTS=1): valgrind cannot follow the
         * re-exec from a memfd (tests/valgrind.sh). */
        if (getenv("HUSK_TEST_NO_REEXEC"))
                return 0;
#endif
        _cleanup_close_ int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (src < 0)
                return herr_sys(err, "/proc/self/exe");
        struct stat st;
        if (fstat(src, &st) < 0)
                return herr_sys(err, "/proc/self/exe");
        _cleanup_close_ int mfd = memfd_create("husk", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return herr_sys(err, "memfd_create");
        Elf64_Ehdr eh;
        off_t image = image_size(src, st.st_size, &eh);
        off_t left = image ? image : st.st_size;
        while (left > 0) {
                ssize_t n = sendfile(mfd, src, NULL, (size_t)left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return herr_sys(err, "copy the husk binary");
                left -= n;
        }
        if (image && strip_sections(mfd, &eh) < 0)
                return herr_sys(err, "copy the husk binary");
        if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
                return herr_sys(err, "seal the husk binary copy");
        fexecve(mfd, argv, environ);
        return herr_sys(err, "re-execute from the sealed copy");
}

#define EXE_ENV "_HUSK_EXE"

void selfexe_remember_path(void)
{
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (getenv(EXE_ENV) || n <= 0)
                return;
        exe[n] = '\0';
        if (exe[0] == '/' && access(exe, X_OK) == 0)
                (void)setenv(EXE_ENV, exe, 1);
}

char *selfexe_companion(const char *name, const char *build_sub)
{
        const char *exe = getenv(EXE_ENV);
        if (!exe)
                return NULL;
        _cleanup_free_ char *copy = strdup(exe);
        if (!copy)
                return NULL;
        const char *dir = dirname(copy);
        for (int i = 0; i < 3; i++) {
                char *p = NULL;
                int n = i == 0   ? asprintf(&p, "%s/%s", dir, name)
                        : i == 1 ? asprintf(&p, "%s/build/%s/%s", dir, build_sub, name)
                                 : asprintf(&p, "%s/../libexec/husk/%s", dir, name);
                if (n < 0)
                        return NULL;
                if (access(p, X_OK) == 0)
                        return p;
                free(p);
        }
        return NULL;
}
