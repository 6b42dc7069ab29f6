// SPDX-License-Identifier: GPL-2.0
/* kdrill vm boot | probe-kvm: low-level VM commands (see harness/vm/vm.h, docs/vm.md). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "detect.h"
#include "image.h"
#include "kernel.h"
#include "util.h"
#include "verdict.h"
#include "vm.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: kdrill vm boot --kernel REF [--timeout S] [--out DIR] [--busybox]\n"
	    "                      [--cpus N] [--mem MB] [--append WORD]... [--accel kvm|tcg]\n"
	    "                      [--hung-task S] [--vmcore] [--no-poweroff] [--job NAME]\n"
	    "       kdrill vm probe-kvm [--kernel REF] [--force]\n"
	    "boot: boot the systemd guest until the agent is ready, record boot -> ready, power\n"
	    "      off.  --busybox boots the kernel into the bare busybox initramfs instead (the\n"
	    "      boot baseline).  Exit: 0 ready + clean poweroff, 1 kernel report (BUG/HANG/\n"
	    "      WARNING...), 125 no boot / QEMU died / unusable kernel (console.log kept).\n"
	    "      --timeout: ready within S seconds (default 300), the whole boot within 2S.\n"
	    "      --job: the agent job (boot; sysrq-crash and stall check the watcher).\n"
	    "probe-kvm: is KVM usable here (tiny boot, 10 s limit)?  Cached per host.\n");
}

static int boot(int argc, char **argv)
{
	static const struct option opts[] = {{"kernel", required_argument, NULL, 'k'},
					     {"timeout", required_argument, NULL, 't'},
					     {"out", required_argument, NULL, 'o'},
					     {"busybox", no_argument, NULL, 'b'},
					     {"cpus", required_argument, NULL, 'c'},
					     {"mem", required_argument, NULL, 'm'},
					     {"append", required_argument, NULL, 'a'},
					     {"accel", required_argument, NULL, 'A'},
					     {"hung-task", required_argument, NULL, 'H'},
					     {"vmcore", no_argument, NULL, 'V'},
					     {"no-poweroff", no_argument, NULL, 'N'},
					     {"job", required_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {}};
	_cleanup_(kd_kernel_freep) struct kd_kernel *k = NULL;
	_cleanup_free_ char *err = NULL, *root = NULL, *initrd = NULL, *mods = NULL;
	_cleanup_free_ char *out = NULL;
	_cleanup_strv_ char **append = NULL;
	struct kd_vm_opts o = {0};
	struct kd_vm_result res;
	const char *kref = NULL, *job = "boot";
	struct verdict_out vout = {0};
	bool busybox = false, no_poweroff = false;
	double timeout = 0;
	uint64_t u;
	int c, r, code;

	while ((c = getopt_long(argc, argv, "hk:t:o:", opts, NULL)) >= 0)
		switch (c) {
		case 'k':
			kref = optarg;
			break;
		case 't':
			if (parse_seconds(optarg, &timeout) < 0 || timeout <= 0) {
				fprintf(stderr, "kdrill vm: bad --timeout '%s'\n", optarg);
				return KD_EXIT_USAGE;
			}
			break;
		case 'o':
			free(out);
			out = strdup(optarg);
			break;
		case 'b':
			busybox = true;
			break;
		case 'c':
			if (parse_u64(optarg, &u) < 0 || !u || u > 64) {
				fprintf(stderr, "kdrill vm: bad --cpus '%s'\n", optarg);
				return KD_EXIT_USAGE;
			}
			o.cpus = (unsigned)u;
			break;
		case 'm':
			if (parse_u64(optarg, &u) < 0 || u < 128) {
				fprintf(stderr, "kdrill vm: bad --mem '%s' (MiB, >= 128)\n",
					optarg);
				return KD_EXIT_USAGE;
			}
			o.mem_mb = u;
			break;
		case 'a':
			if (strv_extend(&append, optarg) < 0)
				return KD_EXIT_INFRA;
			break;
		case 'A':
			if (strcmp(optarg, "kvm") && strcmp(optarg, "tcg")) {
				fprintf(stderr, "kdrill vm: --accel kvm|tcg\n");
				return KD_EXIT_USAGE;
			}
			o.accel = optarg;
			break;
		case 'H':
			if (parse_u64(optarg, &u) < 0 || !u || u > 3600) {
				fprintf(stderr, "kdrill vm: bad --hung-task '%s'\n", optarg);
				return KD_EXIT_USAGE;
			}
			o.hung_task_secs = (unsigned)u;
			break;
		case 'V':
			o.vmcore = true;
			break;
		case 'N':
			no_poweroff = true;
			break;
		case 'j':
			job = optarg;
			break;
		case 'h':
			usage(stdout);
			return KD_EXIT_OK;
		default:
			usage(stderr);
			return KD_EXIT_USAGE;
		}
	if (!kref || optind != argc) {
		usage(stderr);
		return KD_EXIT_USAGE;
	}
	r = kd_kernel_resolve(kref, KD_KERNEL_FETCH, &k, &err);
	if (r < 0) {
		fprintf(stderr, "kdrill vm: %s\n", err ? err : strerror(-r));
		return r == -ENOPKG ? KD_EXIT_USAGE : KD_EXIT_INFRA;
	}
	if (busybox) {
		r = kd_kernel_bench_initrd(k, &initrd, &err);
	} else {
		r = kd_image_root(true, &root, &err);
		if (r >= 0)
			r = kd_kernel_initrd(k, &initrd, &err);
		if (r >= 0)
			r = kd_kernel_modules_img(k, &mods, &err);
	}
	if (r < 0) {
		fprintf(stderr, "kdrill vm: %s\n", err ? err : strerror(-r));
		return KD_EXIT_INFRA;
	}
	if (!out) {
		out = strdup("/tmp/kdrill-boot.XXXXXX");
		if (!out || !mkdtemp(out)) {
			fprintf(stderr, "kdrill vm: mkdtemp: %m\n");
			return KD_EXIT_INFRA;
		}
	}
	if (busybox) {
		if (strv_extend(&append, "kdrill.bench=1") < 0 ||
		    strv_extend(&append, "rdinit=/init") < 0)
			return KD_EXIT_INFRA;
		o.ready_marker = "kdrill-bench: ready";
	} else {
		_cleanup_free_ char *j = strdupf("kdrill.job=%s", no_poweroff ? "idle" : job);
		if (!j || strv_extend(&append, j) < 0)
			return KD_EXIT_INFRA;
	}
	o.kernel = k->vmlinuz;
	o.initrd = initrd;
	o.root_img = root;
	o.modules_img = mods;
	o.out_dir = out;
	o.append = append;
	o.boot_timeout = timeout > 0 ? timeout : 300;
	/* the whole boot job (systemd finishing, poweroff) within the same bound, unless the
	 * guest is kept up on purpose */
	o.run_timeout = no_poweroff ? 0 : 2 * o.boot_timeout;
	/* the "boot" job powers off by itself once systemd reports the boot finished */
	o.poweroff_on_ready = false;

	r = kd_vm_run(&o, &res);
	if (kd_vm_result_verdict(&res, &vout) < 0) {
		kd_vm_result_clear(&res);
		return KD_EXIT_INFRA;
	}
	code = vout.exit_code;
	kd_vm_result_save(&res, &o);
	if (res.ready)
		printf("ready:    %.2f s after QEMU start (%s, %s)\n", res.t_ready,
		       busybox ? "busybox initramfs marker" : "agent", res.accel ? res.accel : "?");
	else
		printf("ready:    never\n");
	if (res.t_system > 0)
		printf("system:   %.2f s after QEMU start (systemd boot finished)\n", res.t_system);
	printf("end:      %s at %.2f s: %s\n", kd_vm_end_name(res.end), res.t_end,
	       res.reason ? res.reason : "");
	if (res.det)
		for (size_t i = 0; i < kd_detector_n_reports(res.det); i++) {
			const struct kd_report *rep = kd_detector_report(res.det, i);
			printf("report:   %s: %s (lines %llu-%llu)\n", kd_class_name(rep->cls),
			       rep->title ? rep->title : "?", (unsigned long long)rep->first_line,
			       (unsigned long long)rep->last_line);
		}
	printf("verdict:  %s: %s\n", verdict_name(vout.verdict), vout.reason);
	printf("console:  %s/console.log\n", out);
	if (r < 0 && code == KD_EXIT_OK)
		code = KD_EXIT_INFRA;
	if (code == KD_EXIT_INFRA)
		fprintf(stderr, "kdrill vm: cannot test: %s (console kept in %s/console.log)\n",
			res.reason ? res.reason : "?", out);
	kd_vm_result_clear(&res);
	verdict_out_done(&vout);
	return code;
}

static int probe(int argc, char **argv)
{
	static const struct option opts[] = {{"kernel", required_argument, NULL, 'k'},
					     {"force", no_argument, NULL, 'f'},
					     {"help", no_argument, NULL, 'h'},
					     {}};
	_cleanup_(kd_kernel_freep) struct kd_kernel *k = NULL;
	_cleanup_free_ char *err = NULL, *why = NULL, *cache = NULL;
	const char *kref = "debian:6.1.0-54-cloud-amd64", *accel;
	bool force = false, cached;
	int c, r;

	while ((c = getopt_long(argc, argv, "hk:f", opts, NULL)) >= 0)
		switch (c) {
		case 'k':
			kref = optarg;
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			usage(stdout);
			return KD_EXIT_OK;
		default:
			usage(stderr);
			return KD_EXIT_USAGE;
		}
	if (force) {
		cache = strdupf("%s/kvm-probe", kd_cachedir());
		if (cache)
			unlink(cache);
	}
	r = kd_kernel_resolve(kref, KD_KERNEL_FETCH, &k, &err);
	if (r < 0) {
		fprintf(stderr, "kdrill vm: %s\n", err ? err : strerror(-r));
		return r == -ENOPKG ? KD_EXIT_USAGE : KD_EXIT_INFRA;
	}
	accel = kd_vm_pick_accel(k->vmlinuz, &why, &cached);
	printf("%s%s%s%s\n", accel, why ? " (" : "", why ? why : "", why ? ")" : "");
	printf("answer %s\n", cached ? "from the cache" : "probed now");
	return KD_EXIT_OK;
}

int cmd_vm(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return KD_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return KD_EXIT_OK;
	}
	if (!strcmp(argv[1], "boot"))
		return boot(argc - 1, argv + 1);
	if (!strcmp(argv[1], "probe-kvm"))
		return probe(argc - 1, argv + 1);
	fprintf(stderr, "kdrill vm: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return KD_EXIT_USAGE;
}
