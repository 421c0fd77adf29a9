/* spec/features_probe.c: probe libseccomp and the host for features. */
#include "features_probe.h"

#include <ctype.h>
#include <fcntl.h>
#include <seccomp.h>
#include <string.h>
#include <unistd.h>

#include "../common/cleanup.h"

const char *const features_seccomp_actions[] = {
        "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",
        "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", NULL
};

const char *const features_seccomp_operators[] = {
        "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
        "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL
};

const char *const features_seccomp_known_flags[] = {
        "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
        NULL
};

/* Every architecture name of defs-linux.json (SeccompArch). */
static const char *const arch_candidates[] = {
        "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
        "SCMP_ARCH_AARCH64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
        "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
        "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
        "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
        "SCMP_ARCH_S390X", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB", "SCMP_ARCH_PARISC",
        "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
};

_Static_assert(sizeof arch_candidates / sizeof arch_candidates[0] < FEATURES_PROBE_MAX,
               "FEATURES_PROBE_MAX too small");

/* libseccomp names architectures without the prefix, in lower case:
 * SCMP_ARCH_X86_64 -> "x86_64". */
static bool arch_known(const char *oci_name)
{
        const char *suffix = oci_name + strlen("SCMP_ARCH_");
        char buf[32];
        size_t i;

        for (i = 0; suffix[i] && i < sizeof buf - 1; i++)
                buf[i] = (char)tolower((unsigned char)suffix[i]);
        buf[i] = '\0';
        return seccomp_arch_resolve_name(buf) != 0;
}

size_t features_seccomp_archs(const char **out)
{
        size_t n = 0;

        for (size_t i = 0; i < sizeof arch_candidates / sizeof arch_candidates[0]; i++)
                if (arch_known(arch_candidates[i]))
                        out[n++] = arch_candidates[i];
        out[n] = NULL;
        return n;
}

/* seccomp_api_get(3): level 2 TSYNC, 3 LOG, 4 SSB (SPEC_ALLOW); libseccomp
 * 2.6 added level 7 with SCMP_FLTATR_CTL_WAITKILL (WAIT_KILLABLE_RECV). */
size_t features_seccomp_supported_flags(const char **out)
{
        unsigned int api = seccomp_api_get();
        size_t n = 0;

        if (api >= 2)
                out[n++] = "SECCOMP_FILTER_FLAG_TSYNC";
        if (api >= 3)
                out[n++] = "SECCOMP_FILTER_FLAG_LOG";
        if (api >= 4)
                out[n++] = "SECCOMP_FILTER_FLAG_SPEC_ALLOW";
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
        if (api >= 7)
                out[n++] = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV";
#endif
        out[n] = NULL;
        return n;
}

bool features_apparmor_enabled(void)
{
        _cleanup_close_ int fd = open("/sys/module/apparmor/parameters/enabled",
                                      O_RDONLY | O_CLOEXEC);
        char c = 0;

        return fd >= 0 && read(fd, &c, 1) == 1 && c == 'Y';
}

bool features_selinux_enabled(void)
{
        return access("/sys/fs/selinux/enforce", F_OK) == 0;
}
