/* husk compare [--image REF] [--json] [--svg FILE] */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../vm/vm.h"
#include "cli.h"
#include "compare.h"
#include "selfexe.h"

/* The probe binary: $HUSK_PROBE, else shipped next to husk. */
static char *find_probe(void)
{
        const char *env = getenv("HUSK_PROBE");
        if (env && *env)
                return strdup(env);
        return selfexe_companion("husk-probe", "compare");
}

static int cmd_compare(struct cli *c, int argc, char **argv, herr_t *err)
{
        static const struct option opts[] = {
                { "image", required_argument, NULL, 'i' },
                { "json", no_argument, NULL, 'j' },
                { "svg", required_argument, NULL, 's' },
                { NULL, 0, NULL, 0 },
        };
        const char *image = "busybox", *svg = NULL;
        bool json = false;
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
                if (o == 'i')
                        image = optarg;
                else if (o == 'j')
                        json = true;
                else if (o == 's')
                        svg = optarg;
                else
                        return cli_usage_error("compare", "unknown option", err), EXIT_HUSK_ERROR;
        }
        if (optind != argc)
                return cli_usage_error("compare", "takes no arguments", err), EXIT_HUSK_ERROR;
        _cleanup_free_ char *probe = find_probe();
        if (!probe)
                return herr_set(err, ENOENT, "compare: husk-probe not found next to husk, in build/compare/ or "
                                "../libexec/husk/ (make builds it; or set HUSK_PROBE)"),
                       EXIT_HUSK_ERROR;
        char reason[256] = "";
        struct compare_result r;
        if (compare_run(c->root, c->storage, image, probe, &r, err) < 0)
                return EXIT_HUSK_ERROR;
        r.accel = vm_kvm_usable(reason, sizeof reason) ? "KVM" : "TCG";
        int rc = 0;
        if (json) {
                _cleanup_free_ char *doc = NULL;
                if (compare_json(&r, &doc, err) < 0)
                        rc = EXIT_HUSK_ERROR;
                else
                        printf("%s\n", doc);
        } else {
                compare_print_table(&r);
        }
        if (!rc && svg && compare_svg(&r, svg, err) < 0)
                rc = EXIT_HUSK_ERROR;
        if (!rc && !r.side[0].ok) {
                herr_set(err, 0, "compare: the container run failed: %s", r.side[0].why);
                rc = EXIT_HUSK_ERROR;
        }
        compare_result_free(&r);
        return rc;
}

static const struct command table[] = {
        { "compare", "run one probe set in a container and in a VM and compare isolation and cost",
          "compare [--image REF] [--json] [--svg FILE]", cmd_compare, false },
        { NULL, NULL, NULL, NULL, false },
};

const struct command *commands_compare(void)
{
        return table;
}
