/* A rich config.json parsed end to end: every section lands in the right
 * field with the right value. */
#include "test_config_util.h"

static const char rich[] =
"{'ociVersion':'1.2.0',"
" 'root':{'path':'rootfs','readonly':true},"
" 'hostname':'h1','domainname':'example.org',"
" 'annotations':{'com.example.key':'value','empty':''},"
" 'mounts':[{'destination':'/proc','type':'proc','source':'proc'},"
"   {'destination':'/data','type':'bind','source':'/srv','options':['rbind','ro'],"
"    'uidMappings':[{'containerID':0,'hostID':100000,'size':65536}],"
"    'gidMappings':[{'containerID':0,'hostID':200000,'size':1000}]}],"
" 'process':{'terminal':true,'consoleSize':{'height':25,'width':80},"
"   'user':{'uid':1000,'gid':1001,'umask':18,'additionalGids':[5,4294967295]},"
"   'args':['/bin/sh','-c','echo hi'],'env':['PATH=/bin','TERM=xterm'],'cwd':'/home',"
"   'capabilities':{'bounding':['CAP_NET_BIND_SERVICE','CAP_KILL'],'effective':['CAP_KILL'],"
"     'inheritable':[],'permitted':['CAP_KILL'],'ambient':['CAP_KILL']},"
"   'rlimits':[{'type':'RLIMIT_NOFILE','soft':1024,'hard':18446744073709551615}],"
"   'noNewPrivileges':true,'apparmorProfile':'ap','oomScoreAdj':-1000,"
"   'scheduler':{'policy':'SCHED_DEADLINE','nice':-5,'priority':0,'flags':['SCHED_FLAG_RECLAIM'],"
"     'runtime':100,'deadline':200,'period':300},"
"   'selinuxLabel':'system_u','ioPriority':{'class':'IOPRIO_CLASS_RT','priority':3},"
"   'execCPUAffinity':{'initial':'7','final':'0-3,7'}},"
" 'hooks':{'prestart':[{'path':'/bin/pre','args':['pre','x'],'env':['A=1'],'timeout':5}],"
"   'createRuntime':[{'path':'/bin/cr'}],'createContainer':[{'path':'/bin/cc'}],"
"   'startContainer':[{'path':'/bin/sc'}],'poststart':[{'path':'/bin/ps'}],"
"   'poststop':[{'path':'/bin/stop1'},{'path':'/bin/stop2'}]},"
" 'linux':{"
"   'namespaces':[{'type':'pid'},{'type':'network','path':'/var/run/netns/n'},{'type':'mount'},"
"     {'type':'ipc'},{'type':'uts'},{'type':'user'},{'type':'cgroup'},{'type':'time'}],"
"   'uidMappings':[{'containerID':0,'hostID':1000,'size':32000}],"
"   'gidMappings':[{'containerID':0,'hostID':2000,'size':16000}],"
"   'timeOffsets':{'monotonic':{'secs':-3600,'nanosecs':500},'boottime':{'secs':86400}},"
"   'devices':[{'type':'c','path':'/dev/fuse','major':10,'minor':229,'fileMode':438,'uid':0,'gid':5},"
"     {'type':'p','path':'/dev/pipe'}],"
"   'netDevices':{'eth0':{'name':'ceth0'},'ens4':{}},"
"   'cgroupsPath':'/husk/c1',"
"   'resources':{"
"     'devices':[{'allow':false,'access':'rwm'},{'allow':true,'type':'c','major':10,'minor':229,'access':'rw'}],"
"     'memory':{'limit':536870912,'reservation':1,'swap':-1,'kernel':2,'kernelTCP':3,'swappiness':60,"
"       'disableOOMKiller':false,'useHierarchy':true,'checkBeforeUpdate':true},"
"     'cpu':{'shares':1024,'quota':-1,'burst':10,'period':100000,'realtimeRuntime':950000,"
"       'realtimePeriod':1000000,'cpus':'0-1','mems':'0','idle':1},"
"     'pids':{'limit':-1},"
"     'blockIO':{'weight':10,'leafWeight':10,"
"       'weightDevice':[{'major':8,'minor':0,'weight':500,'leafWeight':300},{'major':8,'minor':16,'leafWeight':1}],"
"       'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':600}],"
"       'throttleWriteBpsDevice':[{'major':8,'minor':1,'rate':601}],"
"       'throttleReadIOPSDevice':[{'major':8,'minor':2,'rate':602}],"
"       'throttleWriteIOPSDevice':[{'major':8,'minor':3,'rate':603}]},"
"     'hugepageLimits':[{'pageSize':'2MB','limit':209715200},{'pageSize':'1GB','limit':0}],"
"     'network':{'classID':1048577,'priorities':[{'name':'eth0','priority':500}]},"
"     'rdma':{'mlx5_1':{'hcaHandles':3,'hcaObjects':10000},'rxe3':{'hcaObjects':7}},"
"     'unified':{'io.weight':'100','memory.high':'max'}},"
"   'intelRdt':{'closID':'g','l3CacheSchema':'L3:0=7f0','memBwSchema':'MB:0=20',"
"     'schemata':['L2:0=f'],'enableMonitoring':true},"
"   'sysctl':{'net.ipv4.ip_forward':'1','kernel.shmmax':'4096'},"
"   'seccomp':{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':1,"
"     'architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X86'],'flags':['SECCOMP_FILTER_FLAG_LOG'],"
"     'listenerPath':'/run/l.sock','listenerMetadata':'meta',"
"     'syscalls':[{'names':['read','write'],'action':'SCMP_ACT_ALLOW'},"
"       {'names':['personality'],'action':'SCMP_ACT_ERRNO','errnoRet':38,"
"        'args':[{'index':0,'value':18446744073709551615,'valueTwo':255,'op':'SCMP_CMP_MASKED_EQ'},"
"                {'index':1,'value':8,'op':'SCMP_CMP_NE'}]}]},"
"   'rootfsPropagation':'slave',"
"   'maskedPaths':['/proc/kcore'],'readonlyPaths':['/proc/sys','/proc/bus'],"
"   'mountLabel':'system_u:object_r',"
"   'personality':{'domain':'LINUX32'},"
"   'memoryPolicy':{'mode':'MPOL_INTERLEAVE','nodes':'2-3','flags':['MPOL_F_STATIC_NODES']}},"
" 'vm':{'hypervisor':{'path':'/usr/bin/qemu-system-x86_64','parameters':['-m','512']},"
"   'kernel':{'path':'/boot/vmlinuz','parameters':['console=ttyS0'],'initrd':'/boot/initrd'},"
"   'image':{'path':'/img.qcow2','format':'qcow2'},"
"   'hwConfig':{'deviceTree':'/dt.dtb','vcpus':2,'memory':536870912,'dtdevs':['/soc/x'],"
"     'iomems':[{'firstGFN':1,'firstMFN':2,'nrMFNs':3},{'firstMFN':4,'nrMFNs':5}],'irqs':[10,4294967295]}}"
"}";

static struct oci_config *cfg;

static void setup(void)
{
        cfg = accept_sq(rich);
        herr_t e;
        herr_clear(&e);
        cr_assert_eq(oci_config_validate_runnable(cfg, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
        oci_config_free(cfg);
}

TestSuite(config_roundtrip, .init = setup, .fini = teardown);

Test(config_roundtrip, top_level)
{
        cr_expect_str_eq(cfg->oci_version, "1.2.0");
        cr_expect_str_eq(cfg->root->path, "rootfs");
        cr_expect(cfg->root->readonly);
        cr_expect_str_eq(cfg->hostname, "h1");
        cr_expect_str_eq(cfg->domainname, "example.org");
        cr_assert_eq(cfg->n_annotations, 2);
        cr_expect_str_eq(oci_config_annotation(cfg, "com.example.key"), "value");
        cr_expect_str_eq(oci_config_annotation(cfg, "empty"), "");
        cr_assert_eq(cfg->n_mounts, 2);
        const struct oci_mount *m = &cfg->mounts[1];
        cr_expect_str_eq(m->destination, "/data");
        cr_expect_str_eq(m->source, "/srv");
        cr_expect_str_eq(m->type, "bind");
        cr_assert_eq(m->n_options, 2);
        cr_expect_str_eq(m->options[1], "ro");
        cr_expect_null(m->options[2]);
        cr_expect_eq(m->n_uid_mappings, 1);
        cr_expect_eq(m->uid_mappings[0].host_id, 100000);
        cr_expect_eq(m->uid_mappings[0].size, 65536);
        cr_expect_eq(m->gid_mappings[0].host_id, 200000);
        cr_expect_null(cfg->mounts[0].options);
        cr_expect(!cfg->has_windows && !cfg->has_solaris && !cfg->has_freebsd && !cfg->has_zos);
}

Test(config_roundtrip, process)
{
        const struct oci_process *p = cfg->process;
        cr_expect(p->terminal);
        cr_expect_eq(p->console_size->height, 25);
        cr_expect_eq(p->console_size->width, 80);
        cr_expect_eq(p->user.uid, 1000);
        cr_expect_eq(p->user.gid, 1001);
        cr_expect(p->user.umask.set);
        cr_expect_eq(p->user.umask.v, 18);
        cr_assert_eq(p->user.n_additional_gids, 2);
        cr_expect_eq(p->user.additional_gids[1], UINT32_MAX);
        cr_assert_eq(p->n_args, 3);
        cr_expect_str_eq(p->args[2], "echo hi");
        cr_expect_str_eq(p->env[1], "TERM=xterm");
        cr_expect_str_eq(p->cwd, "/home");
        cr_expect_eq(p->capabilities->n_bounding, 2);
        cr_expect_str_eq(p->capabilities->bounding[0], "CAP_NET_BIND_SERVICE");
        cr_expect_eq(p->capabilities->n_inheritable, 0);
        cr_expect_not_null(p->capabilities->inheritable);
        cr_expect_str_eq(p->capabilities->ambient[0], "CAP_KILL");
        cr_assert_eq(p->n_rlimits, 1);
        cr_expect_str_eq(p->rlimits[0].type, "RLIMIT_NOFILE");
        cr_expect_eq(p->rlimits[0].soft, 1024);
        cr_expect_eq(p->rlimits[0].hard, UINT64_MAX);
        cr_expect(p->no_new_privileges);
        cr_expect_str_eq(p->apparmor_profile, "ap");
        cr_expect(p->oom_score_adj.set);
        cr_expect_eq(p->oom_score_adj.v, -1000);
        cr_expect_str_eq(p->scheduler->policy, "SCHED_DEADLINE");
        cr_expect_eq(p->scheduler->nice.v, -5);
        cr_expect(p->scheduler->priority.set);
        cr_expect_str_eq(p->scheduler->flags[0], "SCHED_FLAG_RECLAIM");
        cr_expect_eq(p->scheduler->runtime.v, 100);
        cr_expect_eq(p->scheduler->deadline.v, 200);
        cr_expect_eq(p->scheduler->period.v, 300);
        cr_expect_str_eq(p->selinux_label, "system_u");
        cr_expect_str_eq(p->io_priority->class_, "IOPRIO_CLASS_RT");
        cr_expect_eq(p->io_priority->priority, 3);
        cr_expect_str_eq(p->exec_cpu_affinity->initial, "7");
        cr_expect_str_eq(p->exec_cpu_affinity->final, "0-3,7");
}

Test(config_roundtrip, hooks)
{
        const struct oci_hooks *h = cfg->hooks;
        cr_assert_eq(h->prestart.n, 1);
        cr_expect_str_eq(h->prestart.hooks[0].path, "/bin/pre");
        cr_expect_eq(h->prestart.hooks[0].n_args, 2);
        cr_expect_str_eq(h->prestart.hooks[0].env[0], "A=1");
        cr_expect(h->prestart.hooks[0].timeout.set);
        cr_expect_eq(h->prestart.hooks[0].timeout.v, 5);
        cr_expect_str_eq(h->create_runtime.hooks[0].path, "/bin/cr");
        cr_expect_str_eq(h->create_container.hooks[0].path, "/bin/cc");
        cr_expect_str_eq(h->start_container.hooks[0].path, "/bin/sc");
        cr_expect_str_eq(h->poststart.hooks[0].path, "/bin/ps");
        cr_assert_eq(h->poststop.n, 2);
        cr_expect_str_eq(h->poststop.hooks[1].path, "/bin/stop2");
        cr_expect(!h->poststop.hooks[1].timeout.set);
}

Test(config_roundtrip, linux_basics)
{
        const struct oci_linux *l = cfg->linux_;
        cr_expect_eq(l->n_namespaces, 8);
        for (int t = 0; t < OCI_NS_COUNT; t++)
                cr_expect_not_null(oci_config_namespace(cfg, (enum oci_ns_type)t), "%d", t);
        cr_expect_str_eq(oci_config_namespace(cfg, OCI_NS_NETWORK)->path, "/var/run/netns/n");
        cr_expect_eq(l->uid_mappings[0].host_id, 1000);
        cr_expect_eq(l->gid_mappings[0].size, 16000);
        cr_expect(l->time_monotonic.set);
        cr_expect_eq(l->time_monotonic.secs, -3600);
        cr_expect_eq(l->time_monotonic.nanosecs, 500);
        cr_expect(l->time_boottime.set);
        cr_expect_eq(l->time_boottime.secs, 86400);
        cr_assert_eq(l->n_devices, 2);
        cr_expect_str_eq(l->devices[0].path, "/dev/fuse");
        cr_expect_eq(l->devices[0].major, 10);
        cr_expect_eq(l->devices[0].minor, 229);
        cr_expect_eq(l->devices[0].file_mode.v, 438);
        cr_expect_eq(l->devices[0].gid.v, 5);
        cr_expect(!l->devices[1].file_mode.set);
        cr_assert_eq(l->n_net_devices, 2);
        cr_expect_str_eq(l->net_devices[0].host_name, "eth0");
        cr_expect_str_eq(l->net_devices[0].name, "ceth0");
        cr_expect_null(l->net_devices[1].name);
        cr_expect_str_eq(l->cgroups_path, "/husk/c1");
        cr_assert_eq(l->n_sysctl, 2);
        cr_expect_str_eq(l->sysctl[0].key, "net.ipv4.ip_forward");
        cr_expect_str_eq(l->sysctl[0].value, "1");
        cr_expect_str_eq(l->rootfs_propagation, "slave");
        cr_expect_str_eq(l->masked_paths[0], "/proc/kcore");
        cr_expect_eq(l->n_readonly_paths, 2);
        cr_expect_str_eq(l->mount_label, "system_u:object_r");
        cr_expect_str_eq(l->personality->domain, "LINUX32");
        cr_expect_str_eq(l->memory_policy->mode, "MPOL_INTERLEAVE");
        cr_expect_str_eq(l->memory_policy->nodes, "2-3");
        cr_expect_str_eq(l->memory_policy->flags[0], "MPOL_F_STATIC_NODES");
        cr_expect_str_eq(l->intel_rdt->clos_id, "g");
        cr_expect_str_eq(l->intel_rdt->mem_bw_schema, "MB:0=20");
        cr_expect_str_eq(l->intel_rdt->schemata[0], "L2:0=f");
        cr_expect(l->intel_rdt->enable_monitoring.set && l->intel_rdt->enable_monitoring.v);
}

Test(config_roundtrip, resources)
{
        const struct oci_resources *r = cfg->linux_->resources;
        cr_assert_eq(r->n_devices, 2);
        cr_expect(!r->devices[0].allow);
        cr_expect_null(r->devices[0].type);
        cr_expect(!r->devices[0].major.set);
        cr_expect(r->devices[1].allow);
        cr_expect_eq(r->devices[1].minor.v, 229);
        cr_expect_str_eq(r->devices[1].access, "rw");
        cr_expect_eq(r->memory->limit.v, 536870912);
        cr_expect_eq(r->memory->swap.v, -1);
        cr_expect_eq(r->memory->kernel_tcp.v, 3);
        cr_expect_eq(r->memory->swappiness.v, 60);
        cr_expect(r->memory->disable_oom_killer.set && !r->memory->disable_oom_killer.v);
        cr_expect(r->memory->check_before_update.v);
        cr_expect_eq(r->cpu->shares.v, 1024);
        cr_expect_eq(r->cpu->quota.v, -1);
        cr_expect_eq(r->cpu->burst.v, 10);
        cr_expect_eq(r->cpu->realtime_runtime.v, 950000);
        cr_expect_str_eq(r->cpu->cpus, "0-1");
        cr_expect_eq(r->cpu->idle.v, 1);
        cr_expect_eq(r->pids->limit, -1);
        cr_expect_eq(r->block_io->weight.v, 10);
        cr_assert_eq(r->block_io->n_weight_device, 2);
        cr_expect_eq(r->block_io->weight_device[0].leaf_weight.v, 300);
        cr_expect(!r->block_io->weight_device[1].weight.set);
        cr_expect_eq(r->block_io->weight_device[1].leaf_weight.v, 1);
        cr_expect_eq(r->block_io->throttle_read_bps[0].rate, 600);
        cr_expect_eq(r->block_io->throttle_write_bps[0].minor, 1);
        cr_expect_eq(r->block_io->throttle_read_iops[0].rate, 602);
        cr_expect_eq(r->block_io->throttle_write_iops[0].rate, 603);
        cr_assert_eq(r->n_hugepage_limits, 2);
        cr_expect_str_eq(r->hugepage_limits[1].page_size, "1GB");
        cr_expect_eq(r->hugepage_limits[0].limit, 209715200);
        cr_expect_eq(r->network->class_id.v, 1048577);
        cr_expect_str_eq(r->network->priorities[0].name, "eth0");
        cr_expect_eq(r->network->priorities[0].priority, 500);
        cr_assert_eq(r->n_rdma, 2);
        cr_expect_str_eq(r->rdma[0].device, "mlx5_1");
        cr_expect_eq(r->rdma[0].hca_handles.v, 3);
        cr_expect(!r->rdma[1].hca_handles.set);
        cr_expect_eq(r->rdma[1].hca_objects.v, 7);
        cr_assert_eq(r->n_unified, 2);
        cr_expect_str_eq(r->unified[1].key, "memory.high");
        cr_expect_str_eq(r->unified[1].value, "max");
}

Test(config_roundtrip, seccomp)
{
        const struct oci_seccomp *s = cfg->linux_->seccomp;
        cr_expect_str_eq(s->default_action, "SCMP_ACT_ERRNO");
        cr_expect_eq(s->default_errno_ret.v, 1);
        cr_expect_str_eq(s->architectures[1], "SCMP_ARCH_X86");
        cr_expect_str_eq(s->flags[0], "SECCOMP_FILTER_FLAG_LOG");
        cr_expect_str_eq(s->listener_path, "/run/l.sock");
        cr_expect_str_eq(s->listener_metadata, "meta");
        cr_assert_eq(s->n_syscalls, 2);
        cr_expect_eq(s->syscalls[0].n_names, 2);
        cr_expect(!s->syscalls[0].errno_ret.set);
        const struct oci_seccomp_syscall *sc = &s->syscalls[1];
        cr_expect_eq(sc->errno_ret.v, 38);
        cr_assert_eq(sc->n_args, 2);
        cr_expect_eq(sc->args[0].value, UINT64_MAX);
        cr_expect_eq(sc->args[0].value_two.v, 255);
        cr_expect_str_eq(sc->args[0].op, "SCMP_CMP_MASKED_EQ");
        cr_expect_eq(sc->args[1].index, 1);
        cr_expect(!sc->args[1].value_two.set);
        cr_expect_str_eq(sc->args[1].op, "SCMP_CMP_NE");
}

Test(config_roundtrip, vm)
{
        const struct oci_vm *vm = cfg->vm;
        cr_expect_str_eq(vm->hypervisor_path, "/usr/bin/qemu-system-x86_64");
        cr_expect_eq(vm->n_hypervisor_parameters, 2);
        cr_expect_str_eq(vm->kernel_path, "/boot/vmlinuz");
        cr_expect_str_eq(vm->kernel_parameters[0], "console=ttyS0");
        cr_expect_str_eq(vm->kernel_initrd, "/boot/initrd");
        cr_expect_str_eq(vm->image_path, "/img.qcow2");
        cr_expect_str_eq(vm->image_format, "qcow2");
        cr_expect_eq(vm->hw_vcpus.v, 2);
        cr_expect_eq(vm->hw_memory.v, 536870912);
        cr_expect_str_eq(vm->hw_device_tree, "/dt.dtb");
        cr_expect_str_eq(vm->hw_dtdevs[0], "/soc/x");
        cr_assert_eq(vm->n_hw_iomems, 2);
        cr_expect(vm->hw_iomems[0].first_gfn.set);
        cr_expect(!vm->hw_iomems[1].first_gfn.set);
        cr_expect_eq(vm->hw_iomems[1].nr_mfns, 5);
        cr_assert_eq(vm->n_hw_irqs, 2);
        cr_expect_eq(vm->hw_irqs[1], UINT32_MAX);
}

/* Every proper prefix of the document is invalid: each must be rejected
 * with an "invalid JSON" message, without crashing or leaking (SAN=1). */
Test(config_roundtrip, every_truncation_is_rejected)
{
        char *doc = jq(rich);
        size_t len = strlen(doc);
        for (size_t n = 0; n < len; n++) {
                struct oci_config *c = NULL;
                herr_t e;
                herr_clear(&e);
                int r = oci_config_parse(doc, n, &c, &e);
                if (r == 0 || c || strncmp(e.msg, "invalid JSON: ", 14) != 0) {
                        oci_config_free(c);
                        free(doc);
                        cr_assert_fail("prefix of %zu bytes: r=%d msg='%s'", n, r, e.msg);
                }
        }
        free(doc);
}

/* Single-byte mutations (deterministic LCG): each either parses into a
 * config or fails with a message and no result; never crashes (SAN=1). */
Test(config_roundtrip, mutations_fail_cleanly)
{
        static const char subst[] = "\"{}[],:-0129aZ \\.e";
        char *doc = jq(rich);
        size_t len = strlen(doc);
        uint32_t seed = 12345;
        int accepted = 0, rejected = 0;
        for (int i = 0; i < 3000; i++) {
                seed = seed * 1103515245u + 12345u;
                size_t pos = (seed >> 8) % len;
                char saved = doc[pos];
                doc[pos] = subst[(seed >> 4) % (sizeof subst - 1)];
                struct oci_config *c = NULL;
                herr_t e;
                herr_clear(&e);
                int r = oci_config_parse(doc, len, &c, &e);
                bool ok = r == 0 ? c != NULL : (c == NULL && e.msg[0] != '\0');
                oci_config_free(c);
                doc[pos] = saved;
                if (!ok) {
                        free(doc);
                        cr_assert_fail("mutation %d at %zu: r=%d msg='%s'", i, pos, r, e.msg);
                }
                r == 0 ? accepted++ : rejected++;
        }
        free(doc);
        cr_expect_gt(accepted, 0);
        cr_expect_gt(rejected, 0);
}
