// SPDX-License-Identifier: GPL-2.0
/* kdrill kernel list | fetch [--debuginfo] REF | show REF */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "kernel.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kdrill kernel list\n"
		"       kdrill kernel fetch [--debuginfo] REF\n"
		"       kdrill kernel show REF\n"
		"REF: debian:6.1.0-54-cloud-amd64 | path:/boot/vmlinuz-X[,modules=/lib/modules/X]\n"
		"     | tree:/src/linux | build:stock | build:debug | inject:NNN[-name][+debug]\n"
		"     (build:/inject: are the kernels `make kernels` built from kvm/inject/)\n"
		"Kernels are cached under $KDRILL_CACHE/kernels (default ~/.cache/kdrill).\n"
		"'show' reports which options of kvm/kdrill.config the kernel has and what a\n"
		"missing one costs.  Exit: 0 ok, 2 usage, 125 unusable ref.\n");
}

int cmd_kernel(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"debuginfo", no_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'}, {}};
	unsigned flags = KD_KERNEL_FETCH;
	_cleanup_free_ char *err = NULL;
	struct kd_kernel *k = NULL;
	const char *verb;
	int c, r;

	if (argc < 2) {
		usage(stderr);
		return KD_EXIT_USAGE;
	}
	verb = argv[1];
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		usage(stdout);
		return KD_EXIT_OK;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
		switch (c) {
		case 'd':
			flags |= KD_KERNEL_DEBUGINFO;
			break;
		case 'h':
			usage(stdout);
			return KD_EXIT_OK;
		default:
			usage(stderr);
			return KD_EXIT_USAGE;
		}
	if (!strcmp(verb, "list")) {
		if (optind != argc) {
			usage(stderr);
			return KD_EXIT_USAGE;
		}
		r = kd_kernel_list(stdout);
		return r < 0 ? KD_EXIT_INFRA : KD_EXIT_OK;
	}
	if (strcmp(verb, "fetch") && strcmp(verb, "show")) {
		fprintf(stderr, "kdrill kernel: unknown verb '%s'\n", verb);
		usage(stderr);
		return KD_EXIT_USAGE;
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return KD_EXIT_USAGE;
	}
	if (kd_kernel_ref_check(argv[optind], &err) < 0) {
		fprintf(stderr, "kdrill kernel: %s\n", err ? err : argv[optind]);
		return KD_EXIT_USAGE;
	}
	r = kd_kernel_resolve(argv[optind], flags, &k, &err);
	if (r < 0) {
		fprintf(stderr, "kdrill kernel: %s\n", err ? err : strerror(-r));
		return r == -ENOPKG ? KD_EXIT_USAGE : KD_EXIT_INFRA;
	}
	if (!strcmp(verb, "fetch"))
		printf("%s %s %s\n", k->key, k->release ? k->release : "?", k->dir);
	else
		kd_kernel_show(k, stdout);
	kd_kernel_free(k);
	return KD_EXIT_OK;
}
