/* libFuzzer: the linux.seccomp section. The input is the section's JSON; it
 * is wrapped in a minimal config, parsed, validated and built into a
 * libseccomp filter (in memory: nothing is loaded). */
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../seccomp/seccomp.h"
#include "../../spec/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(const char *msg)
{
        (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char pre[] = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
                                  "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
                                  "\"linux\":{\"seccomp\":";
        static const char post[] = "}}";
        if (size > 1 << 20)
                return 0;
        size_t len = sizeof pre - 1 + size + sizeof post - 1;
        char *json = malloc(len);
        if (!json)
                return 0;
        memcpy(json, pre, sizeof pre - 1);
        memcpy(json + sizeof pre - 1, data, size);
        memcpy(json + sizeof pre - 1 + size, post, sizeof post - 1);
        seccomp_set_warn(quiet);
        herr_t err = { 0 };
        struct oci_config *c = NULL;
        if (oci_config_parse(json, len, &c, &err) == 0 && c->linux_ && c->linux_->seccomp &&
            seccomp_validate(c->linux_->seccomp, &err) == 0) {
                scmp_filter_ctx ctx = NULL;
                if (seccomp_build(c->linux_->seccomp, &ctx, &err) == 0)
                        seccomp_release(ctx);
        }
        oci_config_free(c);
        free(json);
        return 0;
}
