/* libFuzzer: both ends of the VM control channel (vm/proto.c). The host
 * parses frames from the guest (proto_parse, then each frame's payload);
 * the guest agent decodes PROTO_SPEC payloads from the host
 * (proto_spec_decode, also in the PROTO_EXEC of a session), whose
 * re-encoding must decode to the same spec. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vm/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const uint8_t *buf, size_t len)
{
        struct proto_spec s;
        if (proto_spec_decode(buf, len, &s) != 0)
                return;
        if (!s.args || !s.args[0])
                abort();
        uint8_t *enc;
        size_t elen;
        if (proto_spec_encode(&s, &enc, &elen) == 0) {
                struct proto_spec t;
                if (proto_spec_decode(enc, elen, &t) != 0)
                        abort(); /* what the host encodes the agent must accept */
                proto_spec_free(&t);
                free(enc);
        }
        proto_spec_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        size_t off = 0, used;
        struct frame f;
        int r;
        while (off < size && (r = proto_parse(data + off, size - off, &f, &used)) == 1) {
                if (used < PROTO_HDR_LEN || used > size - off || f.data + f.len > data + size)
                        abort();
                if (f.type == PROTO_SPEC)
                        roundtrip(f.data, f.len);
                if (proto_is_session(f.type) && (f.len < 4 || proto_get_u32(f.data) == 0))
                        abort(); /* session frames always carry a non-zero id */
                if (f.type == PROTO_EXEC) /* u32 id, then a SPEC */
                        roundtrip(f.data + 4, f.len - 4);
                (void)proto_type_name(f.type);
                off += used;
        }
        roundtrip(data, size);
        return 0;
}
