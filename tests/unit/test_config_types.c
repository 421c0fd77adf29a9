/* config.json type errors, numbers and JSON-level failures: every message
 * names the exact JSON path and the cause. */
#include <fcntl.h>
#include <unistd.h>

#include "test_config_util.h"

#define V "'ociVersion':'1.0.0'"

Test(config_types, wrong_types_name_the_path)
{
        REJECT("{'ociVersion':1}", "ociVersion: expected string");
        REJECT("{" V ",'root':[]}", "root: expected object");
        REJECT("{" V ",'root':{'path':'r','readonly':'yes'}}", "root.readonly: expected boolean");
        REJECT("{" V ",'process':{'cwd':'/','terminal':1}}", "process.terminal: expected boolean");
        REJECT("{" V ",'process':{'cwd':'/','args':'sh'}}", "process.args: expected array of strings");
        REJECT("{" V ",'process':{'cwd':'/','args':['sh',1]}}", "process.args: expected array of strings");
        REJECT("{" V ",'process':{'cwd':'/','env':{}}}", "process.env: expected array of strings");
        REJECT("{" V ",'mounts':[{'destination':'/a'},{'destination':'/b'},{'destination':5}]}",
               "mounts[2].destination: expected string");
        REJECT("{" V ",'mounts':[{'destination':'/a','options':[true]}]}",
               "mounts[0].options: expected array of strings");
        REJECT("{" V ",'mounts':{}}", "mounts: expected array");
        REJECT("{" V ",'mounts':['/a']}", "mounts[0]: expected object");
        REJECT("{" V ",'linux':{'resources':{'memory':{'limit':'1G'}}}}",
               "linux.resources.memory.limit: expected integer");
        REJECT("{" V ",'linux':{'resources':{'memory':{'limit':1.5}}}}",
               "linux.resources.memory.limit: expected integer");
        REJECT("{" V ",'linux':{'resources':{'memory':{'limit':1e3}}}}",
               "linux.resources.memory.limit: expected integer");
        REJECT("{" V ",'linux':{'resources':{'cpu':{'cpus':0}}}}", "linux.resources.cpu.cpus: expected string");
        REJECT("{" V ",'linux':{'resources':{'blockIO':{'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':'fast'}]}}}}",
               "linux.resources.blockIO.throttleReadBpsDevice[0].rate: expected integer");
        REJECT("{" V ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO','args':[{'index':0,'value':1,'op':'SCMP_CMP_EQ'},{'index':1,'value':'x','op':'SCMP_CMP_EQ'}]}]}}}",
               "linux.seccomp.syscalls[0].args[1].value: expected integer");
        REJECT("{" V ",'hooks':{'poststop':[{'path':3}]}}", "hooks.poststop[0].path: expected string");
        REJECT("{" V ",'linux':{'namespaces':'pid'}}", "linux.namespaces: expected array");
        REJECT("{" V ",'linux':{'namespaces':['pid']}}", "linux.namespaces[0]: expected object");
        REJECT("{" V ",'linux':{'namespaces':[{'type':7}]}}", "linux.namespaces[0].type: expected string");
        REJECT("{" V ",'annotations':{'a':'b','c':1}}", "annotations.c: expected string");
        REJECT("{" V ",'linux':{'sysctl':{'net.ipv4.ip_forward':1}}}",
               "linux.sysctl.net.ipv4.ip_forward: expected string");
        REJECT("{" V ",'vm':{'kernel':{'path':'/k'},'hwConfig':{'vcpus':'two'}}}",
               "vm.hwConfig.vcpus: expected integer");
        REJECT("{" V ",'linux':{'timeOffsets':{'monotonic':{'secs':'1'}}}}",
               "linux.timeOffsets.monotonic.secs: expected integer");
        REJECT("{" V ",'process':{'cwd':'/','user':{'uid':0,'gid':0,'additionalGids':[1,'x']}}}",
               "process.user.additionalGids[1]: expected integer");
        REJECT("{" V ",'linux':{'resources':{'rdma':{'mlx':[]}}}}", "linux.resources.rdma.mlx: expected object");
}

Test(config_types, missing_required_numbers)
{
        REJECT("{" V ",'process':{'cwd':'/','rlimits':[{'type':'RLIMIT_NOFILE','hard':1}]}}",
               "process.rlimits[0].soft: required");
        REJECT("{" V ",'process':{'cwd':'/','rlimits':[{'soft':1,'hard':1}]}}",
               "process.rlimits[0].type: required");
        REJECT("{" V ",'process':{'cwd':'/','consoleSize':{'height':25}}}",
               "process.consoleSize.width: required");
        REJECT("{" V ",'linux':{'uidMappings':[{'containerID':0,'size':1}]}}",
               "linux.uidMappings[0].hostID: required");
        REJECT("{" V ",'linux':{'devices':[{'type':'c','path':'/dev/null','major':1}]}}",
               "linux.devices[0].minor: required");
        REJECT("{" V ",'linux':{'resources':{'pids':{}}}}", "linux.resources.pids.limit: required");
        REJECT("{" V ",'linux':{'resources':{'hugepageLimits':[{'pageSize':'2MB'}]}}}",
               "linux.resources.hugepageLimits[0].limit: required");
        REJECT("{" V ",'linux':{'resources':{'devices':[{'access':'rwm'}]}}}",
               "linux.resources.devices[0].allow: required");
        REJECT("{" V ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['x'],'action':'SCMP_ACT_ALLOW','args':[{'index':0,'op':'SCMP_CMP_EQ'}]}]}}}",
               "linux.seccomp.syscalls[0].args[0].value: required");
        REJECT("{" V ",'linux':{'namespaces':[{'path':'/proc/1/ns/pid'}]}}", "linux.namespaces[0].type: required");
}

Test(config_types, negative_unsigned_values)
{
        REJECT("{" V ",'process':{'cwd':'/','user':{'uid':-1,'gid':0}}}",
               "process.user.uid: expected unsigned integer, got -1");
        REJECT("{" V ",'process':{'cwd':'/','user':{'uid':0,'gid':-2}}}",
               "process.user.gid: expected unsigned integer, got -2");
        REJECT("{" V ",'linux':{'uidMappings':[{'containerID':0,'hostID':-5,'size':1}]}}",
               "linux.uidMappings[0].hostID: expected unsigned integer, got -5");
        REJECT("{" V ",'linux':{'resources':{'cpu':{'shares':-1}}}}",
               "linux.resources.cpu.shares: expected unsigned integer");
}

Test(config_types, uint64_extremes_parse_exactly)
{
        struct oci_config *c = accept_sq(
                "{" V ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['x'],"
                "'action':'SCMP_ACT_ERRNO','args':[{'index':5,'value':18446744073709551615,"
                "'valueTwo':9223372036854775808,'op':'SCMP_CMP_MASKED_EQ'}]}]},"
                "'resources':{'memory':{'limit':-9223372036854775808,'swap':9223372036854775807}}}}");
        const struct oci_seccomp_arg *a = &c->linux_->seccomp->syscalls[0].args[0];
        cr_expect_eq(a->value, UINT64_MAX);
        cr_expect(a->value_two.set);
        cr_expect_eq(a->value_two.v, (uint64_t)1 << 63);
        cr_expect_eq(a->index, 5);
        cr_expect_eq(c->linux_->resources->memory->limit.v, INT64_MIN);
        cr_expect_eq(c->linux_->resources->memory->swap.v, INT64_MAX);
        oci_config_free(c);
}

Test(config_types, out_of_range_numbers)
{
        REJECT("{" V ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['x'],"
               "'action':'SCMP_ACT_ERRNO','args':[{'index':0,'value':18446744073709551616,'op':'SCMP_CMP_EQ'}]}]}}}",
               "linux.seccomp.syscalls[0].args[0].value: value 18446744073709551616 out of range");
        REJECT("{" V ",'linux':{'resources':{'memory':{'limit':9223372036854775808}}}}",
               "linux.resources.memory.limit: value 9223372036854775808 out of range");
        REJECT("{" V ",'linux':{'resources':{'memory':{'limit':-9223372036854775809}}}}",
               "linux.resources.memory.limit: value -9223372036854775809 out of range");
        REJECT("{" V ",'process':{'cwd':'/','user':{'uid':4294967296,'gid':0}}}",
               "process.user.uid: value 4294967296 out of range (max 4294967295)");
        REJECT("{" V ",'linux':{'devices':[{'type':'c','path':'/dev/x','major':1,'minor':1,'fileMode':512}]}}",
               "linux.devices[0].fileMode: value 512 out of range (max 511)");
        REJECT("{" V ",'linux':{'resources':{'blockIO':{'weight':65536}}}}",
               "linux.resources.blockIO.weight: value 65536 out of range");
        REJECT("{" V ",'process':{'cwd':'/','oomScoreAdj':2147483648}}",
               "process.oomScoreAdj: value 2147483648 out of range");
}

Test(config_types, json_level_errors)
{
        expect_reject("", "invalid JSON: empty input");
        expect_reject(" \n\t ", "invalid JSON: empty input");
        expect_reject("{\"ociVersion\": \"1.0", "invalid JSON: ");
        expect_reject("{\"ociVersion\": \"1.0.0\",}", "invalid JSON: ");
        expect_reject("[1,2]", "invalid JSON: top level is not an object");
        expect_reject("\"1.0.0\"", "invalid JSON: top level is not an object");
        expect_reject("{]", "invalid JSON: ");
        /* the message is one line, with no yajl "(right here)" pointer */
        struct oci_config *c = NULL;
        herr_t e;
        cr_assert_lt(parse_str("{]", &c, &e), 0);
        cr_expect_null(strchr(e.msg, '\n'), "multi-line message: %s", e.msg);
}

Test(config_types, nul_byte_is_rejected)
{
        static const char doc[] = "{\"ociVersion\":\"1.0.0\"}\0{}";
        struct oci_config *c = NULL;
        herr_t e;
        herr_clear(&e);
        cr_assert_lt(oci_config_parse(doc, sizeof doc - 1, &c, &e), 0);
        cr_expect(strstr(e.msg, "NUL byte"), "%s", e.msg);
}

static char *nested(int depth)
{
        /* {"ociVersion":"1.0.0","x": [[[...]]] } */
        size_t n = 64 + 2 * (size_t)depth;
        char *s = malloc(n);
        cr_assert_not_null(s);
        char *p = s + sprintf(s, "{\"ociVersion\":\"1.0.0\",\"x\":");
        for (int i = 0; i < depth; i++)
                *p++ = '[';
        for (int i = 0; i < depth; i++)
                *p++ = ']';
        strcpy(p, "}");
        return s;
}

Test(config_types, deep_nesting)
{
        char *ok = nested(40);
        oci_config_free(expect_accept(ok));
        free(ok);
        char *deep = nested(100000);
        expect_reject(deep, "invalid JSON: nested deeper than");
        free(deep);
}

Test(config_types, brackets_inside_strings_do_not_count_as_nesting)
{
        char doc[400];
        char brackets[201];
        memset(brackets, '[', 200);
        brackets[200] = '\0';
        snprintf(doc, sizeof doc, "{\"ociVersion\":\"1.0.0\",\"hostname\":\"\\\"%s\"}", brackets);
        struct oci_config *c = expect_accept(doc);
        cr_expect_eq(strlen(c->hostname), 201);
        oci_config_free(c);
}

Test(config_types, oversized_input_is_rejected)
{
        size_t n = 5u << 20;
        char *big = malloc(n + 1);
        cr_assert_not_null(big);
        memset(big, ' ', n);
        memcpy(big, "{\"ociVersion\":\"1.0.0\"}", 22);
        big[n] = '\0';
        struct oci_config *c = NULL;
        herr_t e;
        herr_clear(&e);
        cr_expect_lt(oci_config_parse(big, n, &c, &e), 0);
        cr_expect(strstr(e.msg, "larger than"), "%s", e.msg);

        char dir[] = "/tmp/husk-config-XXXXXX";
        cr_assert_not_null(mkdtemp(dir));
        char path[64];
        snprintf(path, sizeof path, "%s/config.json", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        cr_assert_geq(fd, 0);
        cr_assert_eq(write(fd, big, n), (ssize_t)n);
        close(fd);
        free(big);
        herr_clear(&e);
        cr_expect_lt(oci_config_load(path, &c, &e), 0);
        cr_expect_null(c);
        cr_expect(strncmp(e.msg, "config.json: ", 13) == 0 && strstr(e.msg, "larger than"), "%s", e.msg);
        unlink(path);
        rmdir(dir);
}

Test(config_types, load_prefixes_basename)
{
        struct oci_config *c = NULL;
        herr_t e;
        herr_clear(&e);
        cr_expect_lt(oci_config_load("/nonexistent-husk-bundle/config.json", &c, &e), 0);
        cr_expect_str_eq(e.msg, "config.json: No such file or directory");

        char dir[] = "/tmp/husk-config-XXXXXX";
        cr_assert_not_null(mkdtemp(dir));
        char path[64];
        snprintf(path, sizeof path, "%s/config.json", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        cr_assert_geq(fd, 0);
        const char *doc = "{\"ociVersion\":\"1.0.0\",\"process\":{\"cwd\":\"/\",\"args\":\"sh\"}}";
        cr_assert_eq(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
        close(fd);
        herr_clear(&e);
        cr_expect_lt(oci_config_load(path, &c, &e), 0);
        cr_expect_str_eq(e.msg, "config.json: process.args: expected array of strings");
        unlink(path);
        rmdir(dir);
}

Test(config_types, unknown_keys_and_null_are_ignored)
{
        struct oci_config *c = accept_sq(
                "{" V ",'futureField':{'a':[1,2,{'b':null}]},'hostname':null,"
                "'process':{'cwd':'/','args':['sh'],'newThing':1,'env':null},"
                "'linux':{'resources':{'memory':{'limit':1,'futureLimit':'x'}},'newLinux':true}}");
        cr_expect_null(c->hostname);
        cr_expect_null(c->process->env);
        cr_expect_eq(c->process->n_env, 0);
        cr_expect(c->linux_->resources->memory->limit.set);
        cr_expect_eq(c->linux_->resources->memory->limit.v, 1);
        oci_config_free(c);
}

Test(config_types, escaped_nul_in_string_is_rejected)
{
        expect_reject("{\"ociVersion\":\"1.0.0\",\"process\":{\"cwd\":\"/\",\"args\":[\"/bin/true\\u0000evil\"]}}",
                      "invalid JSON: \\u0000 in a string");
        /* an escaped backslash followed by u0000 is plain text */
        struct oci_config *c = expect_accept("{\"ociVersion\":\"1.0.0\",\"hostname\":\"a\\\\u0000\"}");
        cr_expect_str_eq(c->hostname, "a\\u0000");
        oci_config_free(c);
}

Test(config_types, last_duplicate_key_wins)
{
        struct oci_config *c = accept_sq("{'ociVersion':'0.1.0','hostname':'a','ociVersion':'1.0.0','hostname':'b',"
                                         "'annotations':{'k':'1','k':'2'}}");
        cr_expect_str_eq(c->oci_version, "1.0.0");
        cr_expect_str_eq(c->hostname, "b");
        cr_expect_str_eq(oci_config_annotation(c, "k"), "2");
        oci_config_free(c);
}

Test(config_types, array_length_is_capped)
{
        size_t n = 70000;
        char *doc = malloc(64 + 4 * n);
        cr_assert_not_null(doc);
        char *p = doc + sprintf(doc, "{\"ociVersion\":\"1.0.0\",\"process\":{\"cwd\":\"/\",\"args\":[");
        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "%s\"a\"", i ? "," : "");
        strcpy(p, "]}}");
        expect_reject(doc, "process.args: too many elements (max 65536)");
        free(doc);
}
