/* runtime/selfexe.c: programs shipped with husk are found next to the real
 * husk binary: beside it, in a source tree's build/, or installed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../runtime/selfexe.h"

static void touch_exec(const char *path)
{
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f, "%s", path);
        fclose(f);
        cr_assert_eq(chmod(path, 0755), 0);
}

Test(selfexe, companion_beside_in_build_or_installed)
{
        char dir[] = "/tmp/husk-selfexe-XXXXXX", p[512];
        cr_assert_not_null(mkdtemp(dir));
        snprintf(p, sizeof p, "mkdir -p %s/bin %s/libexec/husk %s/bin/build/compare", dir, dir, dir);
        cr_assert_eq(system(p), 0);
        snprintf(p, sizeof p, "%s/bin/husk", dir);
        setenv("_HUSK_EXE", p, 1);
        cr_assert_null(selfexe_companion("husk-probe", "compare"));

        snprintf(p, sizeof p, "%s/libexec/husk/husk-probe", dir);
        touch_exec(p);
        char *c = selfexe_companion("husk-probe", "compare");
        cr_assert(c && strstr(c, "/bin/../libexec/husk/husk-probe"), "%s", c);
        free(c);

        snprintf(p, sizeof p, "%s/bin/build/compare/husk-probe", dir);
        touch_exec(p);
        c = selfexe_companion("husk-probe", "compare");
        cr_assert(c && strstr(c, "/bin/build/compare/husk-probe"), "the build tree's first: %s", c);
        free(c);

        snprintf(p, sizeof p, "%s/bin/husk-probe", dir);
        touch_exec(p);
        c = selfexe_companion("husk-probe", "compare");
        snprintf(p, sizeof p, "%s/bin/husk-probe", dir);
        cr_assert(c && !strcmp(c, p), "beside husk first: %s", c);
        free(c);
        unsetenv("_HUSK_EXE");
        snprintf(p, sizeof p, "rm -rf %s", dir);
        cr_assert_eq(system(p), 0);
}
