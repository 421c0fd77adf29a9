/* libFuzzer: config.json parsing and validation (spec/). The input is the
 * whole document; a parsed config is validated both ways and freed.
 * make fuzz FUZZ_SECONDS=N runs it with tests/fuzz/corpus/fuzz_config. */
#include <stdint.h>
#include <stdlib.h>

#include "../../spec/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        herr_t err = { 0 };
        struct oci_config *c = NULL;
        if (oci_config_parse((const char *)data, size, &c, &err) == 0) {
                if (!c)
                        abort();
                (void)oci_config_validate(c, &err);
                (void)oci_config_validate_runnable(c, &err);
                oci_config_free(c);
        }
        return 0;
}
