#include "selfexe.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

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
        off_t left = st.st_size;
        while (left > 0) {
                ssize_t n = sendfile(mfd, src, NULL, (size_t)left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return herr_sys(err, "copy the husk binary");
                left -= n;
        }
        if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
                return herr_sys(err, "seal the husk binary copy");
        fexecve(mfd, argv, environ);
        return herr_sys(err, "re-execute from the sealed copy");
}
