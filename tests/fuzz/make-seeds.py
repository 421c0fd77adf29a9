#!/usr/bin/env python3
"""Regenerate the seed corpora in tests/fuzz/corpus/<harness>/ (checked in;
run again only to change them). Usage: tests/fuzz/make-seeds.py [husk]"""
import io, json, os, struct, subprocess, sys, tarfile, tempfile

here = os.path.dirname(os.path.abspath(__file__))
husk = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '../../husk')


def put(harness, name, data):
    d = os.path.join(here, 'corpus', harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# config.json: husk spec's default and small variants
with tempfile.TemporaryDirectory() as t:
    subprocess.run([husk, 'spec'], cwd=t, check=True)
    spec = json.load(open(os.path.join(t, 'config.json')))
put('fuzz_config', 'default.json', json.dumps(spec))
mini = {"ociVersion": "1.0.2", "root": {"path": "rootfs"},
        "process": {"args": ["sh"], "cwd": "/"}}
put('fuzz_config', 'minimal.json', json.dumps(mini))
full = json.loads(json.dumps(spec))
full['mounts'].append({"destination": "/data", "type": "bind", "source": "/tmp",
                       "options": ["rbind", "ro", "nosuid"]})
full['process']['user'] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 6], "umask": 18}
full['process']['rlimits'].append({"type": "RLIMIT_NPROC", "hard": 10, "soft": 5})
full['process']['capabilities']['ambient'] = ["CAP_KILL"]
full['process']['capabilities']['inheritable'] = ["CAP_KILL"]
full['hooks'] = {"prestart": [{"path": "/bin/true", "args": ["true"], "timeout": 3}]}
full['linux']['resources'] = {"memory": {"limit": 1 << 26, "swap": 1 << 27},
                              "cpu": {"shares": 512, "quota": 50000, "period": 100000},
                              "pids": {"limit": 64},
                              "devices": [{"allow": False, "access": "rwm"},
                                          {"allow": True, "type": "c", "major": 1, "minor": 3,
                                           "access": "rw"}]}
full['linux']['uidMappings'] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
full['linux']['gidMappings'] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
full['linux']['namespaces'].append({"type": "user"})
full['linux']['devices'] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                             "fileMode": 438, "uid": 0, "gid": 0}]
full['linux']['sysctl'] = {"net.ipv4.ip_forward": "1"}
full['annotations'] = {"org.example": "x"}
put('fuzz_config', 'full.json', json.dumps(full))

# linux.seccomp sections
sc = spec['linux'].get('seccomp') or {}
put('fuzz_seccomp', 'default.json', json.dumps(sc))
put('fuzz_seccomp', 'args.json', json.dumps({
    "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "flags": ["SECCOMP_FILTER_FLAG_LOG"],
    "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                  "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_NE"}]},
                 {"names": ["clone"], "action": "SCMP_ACT_ERRNO",
                  "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ",
                            "valueTwo": 0}]}]}))
put('fuzz_seccomp', 'notify.json', json.dumps({
    "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/l.sock", "listenerMetadata": "m",
    "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}))

# image index / manifest / config
d = "sha256:" + "ab" * 32
put('fuzz_manifest', 'manifest.json', json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d, "size": 300},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d,
                "size": 1000}]}))
put('fuzz_manifest', 'index.json', json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d,
                   "size": 400, "platform": {"architecture": "amd64", "os": "linux"},
                   "annotations": {"org.opencontainers.image.ref.name": "latest"}},
                  {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": d,
                   "size": 400}]}))
put('fuzz_manifest', 'config.json', json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"], "WorkingDir": "/", "User": "0:0"},
    "rootfs": {"type": "layers", "diff_ids": [d]}}))


# tar layers: normal, and each path attack unpack.c refuses
def tar(entries, gz=False):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode='w:gz' if gz else 'w', format=tarfile.GNU_FORMAT) as t:
        for name, typ, extra in entries:
            i = tarfile.TarInfo(name)
            i.type = typ
            data = b''
            if typ == tarfile.REGTYPE:
                data = extra or b'x'
                i.size = len(data)
            elif typ in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                i.linkname = extra
            elif typ in (tarfile.CHRTYPE, tarfile.BLKTYPE):
                i.devmajor, i.devminor = extra
            i.mode = 0o755 if typ == tarfile.DIRTYPE else 0o644
            t.addfile(i, io.BytesIO(data) if typ == tarfile.REGTYPE else None)
    return b.getvalue()


R, D, S, L, C, B = (tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE,
                    tarfile.CHRTYPE, tarfile.BLKTYPE)
put('fuzz_tar', 'plain.tar', tar([('bin', D, None), ('bin/sh', R, b'#!'), ('etc/', D, None),
                                  ('etc/passwd', R, b'root:x:0:0::/:/bin/sh\n'),
                                  ('bin/ash', S, 'sh'), ('bin/hl', L, 'bin/sh')]))
put('fuzz_tar', 'plain.tar.gz', tar([('a', D, None), ('a/b', R, b'b')], gz=True))
put('fuzz_tar', 'dotdot.tar', tar([('../escape', R, b'x'), ('a/../../escape2', R, b'x')]))
put('fuzz_tar', 'absolute.tar', tar([('/escape', R, b'x')]))
put('fuzz_tar', 'symlink-dir.tar', tar([('link', S, '/tmp'), ('link/escape', R, b'x'),
                                        ('up', S, '..'), ('up/escape', R, b'x')]))
put('fuzz_tar', 'hardlink-out.tar', tar([('h', L, '/etc/shadow'), ('h2', L, '../x')]))
put('fuzz_tar', 'devices.tar', tar([('dev', D, None), ('dev/sda', B, (8, 0)),
                                    ('dev/mem', C, (1, 1)), ('dev/null', C, (1, 3))]))
put('fuzz_tar', 'whiteouts.tar', tar([('d', D, None), ('d/.wh..wh..opq', R, b''),
                                      ('.wh.gone', R, b''), ('d/.wh.x', R, b'')]))


# VM frames: a SPEC frame (host -> guest) and guest -> host traffic
def rec(tag, b):
    return struct.pack('<HI', tag, len(b)) + b


def frame(typ, b):
    return struct.pack('<II', typ, len(b)) + b


spec_payload = (rec(1, b'/bin/sh') + rec(1, b'-c') + rec(1, b'echo hi') + rec(2, b'PATH=/bin') +
                rec(3, b'/') + rec(4, struct.pack('<I', 0)) + rec(5, struct.pack('<I', 0)) +
                rec(6, struct.pack('<I', 1)) + rec(7, struct.pack('<I', 24)) +
                rec(8, struct.pack('<I', 80)))
put('fuzz_proto', 'spec.bin', frame(2, spec_payload))
put('fuzz_proto', 'guest.bin', frame(1, b'') + frame(5, b'hello\n') + frame(6, b'err\n') +
    frame(9, struct.pack('<II', 0, 3)))
# sessions (husk exec, ps, kill --all): u32 id first
def sframe(typ, sid, b=b''):
    return frame(typ, struct.pack('<I', sid) + b)


put('fuzz_proto', 'session-host.bin', sframe(12, 1, spec_payload) + sframe(13, 2, struct.pack('<I', 1)) +
    sframe(14, 3, struct.pack('<I', 9)) + sframe(15, 1, b'input') + sframe(16, 1) +
    sframe(19, 1, struct.pack('<I', 15)) + sframe(20, 1, struct.pack('<HH', 24, 80)))
put('fuzz_proto', 'session-guest.bin', sframe(21, 1, struct.pack('<I', 77)) + sframe(17, 1, b'out\n') +
    sframe(18, 1, b'err\n') + frame(5, b'main\n') + sframe(22, 1, struct.pack('<II', 0, 3)) +
    sframe(23, 2, b'agent: ps needs husk in the guest'))
put('fuzz_proto', 'host.bin', frame(3, b'input') + frame(4, b'') + frame(7, struct.pack('<I', 15)) +
    frame(8, struct.pack('<HH', 24, 80)) + frame(10, b'') + frame(11, b'boom'))
