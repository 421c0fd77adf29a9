/* libFuzzer: OCI image index, manifest and config parsing (images/). The
 * same bytes go to manifest_parse, index_select (with and without a tag)
 * and, as a stored config blob, config_diff_ids. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../../images/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char storage[64];

static void cleanup(void)
{
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", storage);
        (void)!system(cmd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        herr_t err = { 0 };
        struct image_manifest m = { 0 };
        if (manifest_parse((const char *)data, size, &m, &err) == 0)
                manifest_free(&m);
        struct image_desc d = { 0 };
        bool is_index = false;
        char *ref = NULL;
        if (index_select((const char *)data, size, NULL, &d, &is_index, &ref, &err) == 0) {
                desc_free(&d);
                free(ref);
                ref = NULL;
        }
        if (index_select((const char *)data, size, "latest", &d, &is_index, &ref, &err) == 0) {
                desc_free(&d);
                free(ref);
        }
        /* The image config: stored as a blob, then its diff_ids read back. */
        if (!storage[0]) {
                snprintf(storage, sizeof storage, "/tmp/husk-fuzz-manifest.%d", (int)getpid());
                if (store_init(storage, &err) < 0)
                        abort();
                atexit(cleanup);
        }
        char *digest = NULL;
        if (blob_store_mem(storage, data, size, &digest, &err) == 0) {
                _cleanup_strv_ char **ids = NULL;
                (void)config_diff_ids(storage, digest, 1, &ids, &err);
                char *path = NULL;
                if (blob_path(storage, digest, &path, &err) == 0) {
                        unlink(path);
                        free(path);
                }
                free(digest);
        }
        return 0;
}
