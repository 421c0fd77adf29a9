/* Semantic checks of oci_config_validate() and oci_config_validate_runnable(). */
#include "test_config_util.h"

#define V "'ociVersion':'1.0.0'"
#define RUN "'root':{'path':'rootfs'},'process':{'cwd':'/','args':['sh']}"
#define SECCOMP(x) "{" V ",'linux':{'seccomp':{" x "}}}"

Test(config_validate, required_strings)
{
        REJECT("{}", "ociVersion: required");
        REJECT("{" V ",'root':{'readonly':true}}", "root.path: required");
        REJECT("{" V ",'mounts':[{'destination':'/a'},{'source':'tmpfs'}]}", "mounts[1].destination: required");
        REJECT("{" V ",'hooks':{'prestart':[{'args':['x']}]}}", "hooks.prestart[0].path: required");
        REJECT("{" V ",'process':{'args':['sh']}}", "process.cwd: required");
        REJECT("{" V ",'vm':{}}", "vm.kernel: required");
        REJECT("{" V ",'vm':{'kernel':{'parameters':['quiet']}}}", "vm.kernel.path: required");
        REJECT("{" V ",'vm':{'kernel':{'path':'/k'},'hypervisor':{}}}", "vm.hypervisor.path: required");
        REJECT("{" V ",'vm':{'kernel':{'path':'/k'},'image':{'path':'/i'}}}", "vm.image.format: required");
        REJECT(SECCOMP("'syscalls':[]"), "linux.seccomp.defaultAction: required");
        REJECT("{" V ",'process':{'cwd':'/','scheduler':{'nice':1}}}", "process.scheduler.policy: required");
        REJECT("{" V ",'process':{'cwd':'/','ioPriority':{'priority':1}}}", "process.ioPriority.class: required");
        REJECT("{" V ",'linux':{'personality':{}}}", "linux.personality.domain: required");
        REJECT("{" V ",'linux':{'memoryPolicy':{'nodes':'0'}}}", "linux.memoryPolicy.mode: required");
        REJECT("{" V ",'linux':{'devices':[{'type':'p'}]}}", "linux.devices[0].path: required");
}

Test(config_validate, oci_version_is_semver)
{
        REJECT("{'ociVersion':'latest'}", "ociVersion: 'latest' is not a SemVer 2.0.0 version");
        REJECT("{'ociVersion':'1.0'}", "ociVersion: '1.0' is not a SemVer");
        REJECT("{'ociVersion':'01.0.0'}", "ociVersion: '01.0.0' is not a SemVer");
        REJECT("{'ociVersion':'1.0.0-'}", "is not a SemVer");
        oci_config_free(accept_sq("{'ociVersion':'1.2.0-rc.1+build.5'}"));
        oci_config_free(accept_sq("{'ociVersion':'1.0.2-dev'}"));
}

Test(config_validate, hooks)
{
        REJECT("{" V ",'hooks':{'createRuntime':[{'path':'bin/hook'}]}}",
               "hooks.createRuntime[0].path: 'bin/hook' is not an absolute path");
        REJECT("{" V ",'hooks':{'poststart':[{'path':'/h','timeout':0}]}}",
               "hooks.poststart[0].timeout: must be greater than 0");
}

Test(config_validate, namespaces)
{
        REJECT("{" V ",'linux':{'namespaces':[{'type':'pid'},{'type':'foo'}]}}",
               "linux.namespaces[1].type: unknown namespace type 'foo'");
        REJECT("{" V ",'linux':{'namespaces':[{'type':'pid'},{'type':'mount'},{'type':'pid'}]}}",
               "linux.namespaces[2].type: duplicate namespace type 'pid'");
        struct oci_config *c = accept_sq("{" V ",'linux':{'namespaces':[{'type':'network','path':'/run/netns/x'},{'type':'time'}]}}");
        const struct oci_namespace *ns = oci_config_namespace(c, OCI_NS_NETWORK);
        cr_assert_not_null(ns);
        cr_expect_str_eq(ns->path, "/run/netns/x");
        cr_expect_null(oci_config_namespace(c, OCI_NS_TIME)->path);
        cr_expect_null(oci_config_namespace(c, OCI_NS_PID));
        oci_config_free(c);
}

Test(config_validate, ns_type_names_round_trip)
{
        static const char *const names[] = { "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time" };
        for (int t = 0; t < OCI_NS_COUNT; t++) {
                cr_expect_str_eq(oci_ns_type_name((enum oci_ns_type)t), names[t]);
                cr_expect_eq(oci_ns_type_from_name(names[t]), t);
        }
        cr_expect_null(oci_ns_type_name(OCI_NS_COUNT));
        cr_expect_eq(oci_ns_type_from_name("net"), -1);
        cr_expect_eq(oci_ns_type_from_name("PID"), -1);
        cr_expect_eq(oci_ns_type_from_name(NULL), -1);
}

Test(config_validate, capabilities)
{
        REJECT("{" V ",'process':{'cwd':'/','capabilities':{'bounding':['CAP_CHOWN','CAP_NOPE']}}}",
               "process.capabilities.bounding[1]: unknown capability 'CAP_NOPE'");
        REJECT("{" V ",'process':{'cwd':'/','capabilities':{'ambient':['cap_chown']}}}",
               "process.capabilities.ambient[0]: unknown capability 'cap_chown'");
        REJECT("{" V ",'process':{'cwd':'/','capabilities':{'effective':['12']}}}",
               "process.capabilities.effective[0]: unknown capability '12'");
        struct oci_config *c = accept_sq("{" V ",'process':{'cwd':'/','capabilities':{'permitted':['CAP_SYS_ADMIN','CAP_BPF']}}}");
        cr_expect_eq(c->process->capabilities->n_permitted, 2);
        cr_expect_str_eq(c->process->capabilities->permitted[1], "CAP_BPF");
        cr_expect_null(c->process->capabilities->permitted[2]);
        oci_config_free(c);
}

Test(config_validate, rlimits)
{
        REJECT("{" V ",'process':{'cwd':'/','rlimits':[{'type':'RLIMIT_FOO','soft':1,'hard':1}]}}",
               "process.rlimits[0].type: unknown rlimit 'RLIMIT_FOO'");
        REJECT("{" V ",'process':{'cwd':'/','rlimits':[{'type':'RLIMIT_NOFILE','soft':1,'hard':2},{'type':'RLIMIT_NOFILE','soft':1,'hard':1}]}}",
               "process.rlimits[1].type: duplicate rlimit 'RLIMIT_NOFILE'");
        REJECT("{" V ",'process':{'cwd':'/','rlimits':[{'type':'RLIMIT_CORE','soft':10,'hard':5}]}}",
               "process.rlimits[0]: soft limit 10 exceeds hard limit 5");
}

Test(config_validate, process_enums)
{
        REJECT("{" V ",'process':{'cwd':'/','scheduler':{'policy':'SCHED_FAST'}}}",
               "process.scheduler.policy: unknown policy 'SCHED_FAST'");
        REJECT("{" V ",'process':{'cwd':'/','scheduler':{'policy':'SCHED_RR','flags':['SCHED_FLAG_X']}}}",
               "process.scheduler.flags[0]: unknown flag 'SCHED_FLAG_X'");
        REJECT("{" V ",'process':{'cwd':'/','ioPriority':{'class':'IOPRIO_CLASS_NONE','priority':1}}}",
               "process.ioPriority.class: unknown class 'IOPRIO_CLASS_NONE'");
        REJECT("{" V ",'process':{'cwd':'/','ioPriority':{'class':'IOPRIO_CLASS_BE','priority':8}}}",
               "process.ioPriority.priority: 8 out of range (0..7)");
        REJECT("{" V ",'process':{'cwd':'/','execCPUAffinity':{'initial':'0-3;7'}}}",
               "process.execCPUAffinity.initial: '0-3;7' is not a CPU list");
}

Test(config_validate, mappings_and_devices)
{
        REJECT("{" V ",'linux':{'gidMappings':[{'containerID':0,'hostID':1000,'size':0}]}}",
               "linux.gidMappings[0].size: must be greater than 0");
        REJECT("{" V ",'mounts':[{'destination':'/m','uidMappings':[{'containerID':0,'hostID':1,'size':0}],'gidMappings':[]}]}",
               "mounts[0].uidMappings[0].size: must be greater than 0");
        REJECT("{" V ",'mounts':[{'destination':'/m','gidMappings':[{'containerID':0,'hostID':1,'size':1}]}]}",
               "mounts[0]: uidMappings and gidMappings must be given together");
        REJECT("{" V ",'linux':{'devices':[{'type':'x','path':'/dev/x','major':1,'minor':1}]}}",
               "linux.devices[0].type: unknown device type 'x'");
        REJECT("{" V ",'linux':{'devices':[{'type':'c','path':'/dev/x','minor':1}]}}",
               "linux.devices[0].major: required");
        REJECT("{" V ",'linux':{'devices':[{'type':'b','path':'dev/sda','major':8,'minor':0}]}}",
               "linux.devices[0].path: 'dev/sda' is not an absolute path");
        /* fifos need no major/minor */
        struct oci_config *c = accept_sq("{" V ",'linux':{'devices':[{'type':'p','path':'/dev/fifo'}]}}");
        cr_expect_eq(c->linux_->n_devices, 1);
        oci_config_free(c);
}

Test(config_validate, linux_enums)
{
        REJECT("{" V ",'linux':{'rootfsPropagation':'recursive'}}",
               "linux.rootfsPropagation: unknown value 'recursive'");
        REJECT("{" V ",'linux':{'rootfsPropagation':''}}", "linux.rootfsPropagation: unknown value ''");
        oci_config_free(accept_sq("{" V ",'linux':{'rootfsPropagation':'rslave'}}"));
        REJECT("{" V ",'linux':{'personality':{'domain':'LINUX64'}}}",
               "linux.personality.domain: unknown domain 'LINUX64'");
        REJECT("{" V ",'linux':{'personality':{'domain':'LINUX','flags':['X']}}}",
               "linux.personality.flags[0]: unsupported flag 'X'");
        REJECT("{" V ",'linux':{'memoryPolicy':{'mode':'MPOL_FAST'}}}",
               "linux.memoryPolicy.mode: unknown mode 'MPOL_FAST'");
        REJECT("{" V ",'linux':{'memoryPolicy':{'mode':'MPOL_BIND','flags':['MPOL_F_X']}}}",
               "linux.memoryPolicy.flags[0]: unknown flag 'MPOL_F_X'");
        REJECT("{" V ",'linux':{'timeOffsets':{'realtime':{'secs':1}}}}",
               "linux.timeOffsets.realtime: unknown clock");
        REJECT("{" V ",'linux':{'timeOffsets':{'boottime':{'nanosecs':1000000000}}}}",
               "linux.timeOffsets.boottime.nanosecs: 1000000000 out of range");
        REJECT("{" V ",'linux':{'maskedPaths':['/proc/kcore','sys/firmware']}}",
               "linux.maskedPaths[1]: 'sys/firmware' is not an absolute path");
        REJECT("{" V ",'linux':{'intelRdt':{'memBwSchema':'L3:0=1'}}}",
               "linux.intelRdt.memBwSchema: must start with 'MB:'");
        REJECT("{" V ",'vm':{'kernel':{'path':'/k'},'image':{'path':'/i','format':'iso'}}}",
               "vm.image.format: unknown image format 'iso'");
}

Test(config_validate, resources)
{
        REJECT("{" V ",'linux':{'resources':{'devices':[{'allow':false,'access':'rwx'}]}}}",
               "linux.resources.devices[0].access: 'rwx' is not a combination of r, w and m");
        REJECT("{" V ",'linux':{'resources':{'devices':[{'allow':true,'type':'u'}]}}}",
               "linux.resources.devices[0].type: unknown type 'u'");
        REJECT("{" V ",'linux':{'resources':{'hugepageLimits':[{'pageSize':'2mb','limit':1}]}}}",
               "linux.resources.hugepageLimits[0].pageSize: invalid page size '2mb'");
        REJECT("{" V ",'linux':{'resources':{'hugepageLimits':[{'pageSize':'02MB','limit':1}]}}}",
               "linux.resources.hugepageLimits[0].pageSize: invalid page size '02MB'");
        REJECT("{" V ",'linux':{'resources':{'memory':{'swappiness':101}}}}",
               "linux.resources.memory.swappiness: 101 out of range (0..100)");
        REJECT("{" V ",'linux':{'resources':{'network':{'priorities':[{'priority':1}]}}}}",
               "linux.resources.network.priorities[0].name: required");
}

Test(config_validate, seccomp)
{
        REJECT(SECCOMP("'defaultAction':'SCMP_ACT_PERMIT'"),
               "linux.seccomp.defaultAction: unknown action 'SCMP_ACT_PERMIT'");
        REJECT(SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','architectures':['SCMP_ARCH_VAX']"),
               "linux.seccomp.architectures[0]: unknown architecture 'SCMP_ARCH_VAX'");
        REJECT(SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','flags':['SECCOMP_FILTER_FLAG_X']"),
               "linux.seccomp.flags[0]: unknown flag 'SECCOMP_FILTER_FLAG_X'");
        REJECT(SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':[],'action':'SCMP_ACT_ALLOW'}]"),
               "linux.seccomp.syscalls[0].names: at least one name is required");
        REJECT(SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['a']}]"),
               "linux.seccomp.syscalls[0].action: required");
        REJECT(SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['a'],'action':'SCMP_ACT_ALLOW','args':[{'index':6,'value':0,'op':'SCMP_CMP_EQ'}]}]"),
               "linux.seccomp.syscalls[0].args[0].index: 6 out of range (0..5)");
        REJECT(SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['a'],'action':'SCMP_ACT_ALLOW','args':[{'index':0,'value':0,'op':'SCMP_CMP_IS'}]}]"),
               "linux.seccomp.syscalls[0].args[0].op: unknown operator 'SCMP_CMP_IS'");
}

Test(config_validate, spec_musts)
{
        REJECT("{" V ",'linux':{'namespaces':[{'type':'net','path':'x'}]}}", "unknown namespace type 'net'");
        REJECT("{" V ",'linux':{'namespaces':[{'type':'network','path':'run/netns/x'}]}}",
               "linux.namespaces[0].path: 'run/netns/x' is not an absolute path");
        REJECT("{" V ",'linux':{'resources':{'blockIO':{'weightDevice':[{'major':8,'minor':0}]}}}}",
               "linux.resources.blockIO.weightDevice[0]: weight or leafWeight is required");
        REJECT("{" V ",'linux':{'resources':{'rdma':{'mlx4_0':{}}}}}",
               "linux.resources.rdma.mlx4_0: hcaHandles or hcaObjects is required");
        REJECT("{" V ",'linux':{'intelRdt':{'schemata':['L3:0=f\\nMB:0=1']}}}",
               "linux.intelRdt.schemata[0]: must not contain newlines");
        REJECT(SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','defaultErrnoRet':1"),
               "linux.seccomp.defaultErrnoRet: not allowed with action SCMP_ACT_ALLOW");
        REJECT(SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['a'],'action':'SCMP_ACT_KILL','errnoRet':1}]"),
               "linux.seccomp.syscalls[0].errnoRet: not allowed with action SCMP_ACT_KILL");
        REJECT(SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','listenerMetadata':'m'"),
               "linux.seccomp.listenerMetadata: not allowed without listenerPath");
}

Test(config_validate, annotations)
{
        REJECT("{" V ",'annotations':{'':'x'}}", "annotations: empty key");
        struct oci_config *c = accept_sq("{" V ",'annotations':{'org.example.a':'1','b':''}}");
        cr_expect_str_eq(oci_config_annotation(c, "org.example.a"), "1");
        cr_expect_str_eq(oci_config_annotation(c, "b"), "");
        cr_expect_null(oci_config_annotation(c, "c"));
        oci_config_free(c);
}

Test(config_validate, runnable)
{
        NOT_RUNNABLE("{" V ",'process':{'cwd':'/','args':['sh']}}", "root: required to run a container");
        NOT_RUNNABLE("{" V ",'root':{'path':'r'}}", "process: required to run a container");
        NOT_RUNNABLE("{" V ",'root':{'path':'r'},'process':{'cwd':'/'}}", "process.args: at least one entry is required");
        NOT_RUNNABLE("{" V ",'root':{'path':'r'},'process':{'cwd':'/','args':[]}}", "process.args: at least one entry is required");
        NOT_RUNNABLE("{" V ",'root':{'path':'r'},'process':{'cwd':'home','args':['sh']}}",
                     "process.cwd: 'home' is not an absolute path");
        NOT_RUNNABLE("{" V "," RUN ",'mounts':[{'destination':'/proc'},{'destination':'tmp'}]}",
                     "mounts[1].destination: 'tmp' is not an absolute path");
        NOT_RUNNABLE("{" V "," RUN ",'windows':{'layerFolders':['C:\\\\layers']}}", "windows: not supported on Linux");
        NOT_RUNNABLE("{" V "," RUN ",'solaris':{}}", "solaris: not supported on Linux");
        struct oci_config *c = accept_sq("{" V "," RUN ",'mounts':[{'destination':'/proc','type':'proc'}]}");
        herr_t e;
        herr_clear(&e);
        cr_expect_eq(oci_config_validate_runnable(c, &e), 0, "%s", e.msg);
        oci_config_free(c);
}

Test(config_validate, other_platform_schemas)
{
        REJECT("{" V ",'windows':{}}", "windows.layerFolders: at least one entry is required");
        REJECT("{" V ",'windows':{'layerFolders':[]}}", "windows.layerFolders: at least one entry is required");
        REJECT("{" V ",'windows':{'layerFolders':[1]}}", "windows.layerFolders: expected array of strings");
        REJECT("{" V ",'freebsd':{'jail':{'ip4':'shared'}}}", "freebsd.jail.ip4: invalid value 'shared'");
        REJECT("{" V ",'freebsd':{'devices':[{'path':'pf','mode':512}]}}", "freebsd.devices[0].mode: value 512 out of range");
        REJECT("{" V ",'zos':{'namespaces':[{'type':'network'}]}}", "zos.namespaces[0].type: invalid value 'network'");
        REJECT("{" V ",'solaris':[]}", "solaris: expected object");
}

Test(config_validate, net_device_names)
{
        REJECT("{" V ",'linux':{'netDevices':{'eth0':{'name':'a/b'}}}}",
               "linux.netDevices.eth0.name: invalid interface name 'a/b'");
        REJECT("{" V ",'linux':{'netDevices':{'eth0':{'name':'abcdefghijklmnop'}}}}",
               "linux.netDevices.eth0.name: invalid interface name");
        REJECT("{" V ",'linux':{'netDevices':{'..':{}}}}", "linux.netDevices: invalid interface name '..'");
        oci_config_free(accept_sq("{" V ",'linux':{'netDevices':{'eth0':{'name':'ceth%d'}}}}"));
}
