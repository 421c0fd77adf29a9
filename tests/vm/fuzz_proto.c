/* libFuzzer harness for the VM control protocol parsers (untrusted input
 * from the guest). Build and run:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *         tests/vm/fuzz_proto.c vm/proto.c -o build/fuzz_proto
 *   build/fuzz_proto -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vm/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        size_t off = 0, used;
        struct frame f;
        int r;
        while ((r = proto_parse(data + off, size - off, &f, &used)) == 1) {
                if (used < PROTO_HDR_LEN || used > size - off || f.data + f.len > data + size)
                        abort();
                if (proto_is_session(f.type) && (f.len < 4 || proto_get_u32(f.data) == 0))
                        abort();
                if (f.type == PROTO_SPEC || f.type == PROTO_EXEC) {
                        size_t skip = f.type == PROTO_EXEC ? 4 : 0;
                        struct proto_spec s;
                        if (proto_spec_decode(f.data + skip, f.len - skip, &s) == 0) {
                                uint8_t *enc;
                                size_t len;
                                if (!s.args || !s.args[0])
                                        abort();
                                if (proto_spec_encode(&s, &enc, &len) == 0)
                                        free(enc);
                                proto_spec_free(&s);
                        }
                }
                off += used;
        }
        /* the whole input as a SPEC payload too */
        struct proto_spec s;
        if (proto_spec_decode(data, size, &s) == 0)
                proto_spec_free(&s);
        return 0;
}
