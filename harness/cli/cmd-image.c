// SPDX-License-Identifier: GPL-2.0
/* kdrill image build [--kernel REF] | show */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "image.h"
#include "kernel.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kdrill image build [--kernel REF]\n"
		"       kdrill image show\n"
		"build: the debootstrap base (once per recipe, kvm/image-base.sh), then the root\n"
		"image with kdrill's release binaries (%s) and units; with --kernel also\n"
		"that kernel's initramfs and modules disk.  Cached under %s/images.\n",
		kd_guest_bindir(), kd_cachedir());
}

int cmd_image(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"kernel", required_argument, NULL, 'k'}, {"help", no_argument, NULL, 'h'}, {}};
	_cleanup_free_ char *err = NULL, *img = NULL, *base = NULL, *initrd = NULL, *mods = NULL;
	const char *kref = NULL, *verb;
	uint64_t t0 = now_usec();
	bool build;
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
	while ((c = getopt_long(argc, argv, "hk:", opts, NULL)) >= 0)
		switch (c) {
		case 'k':
			kref = optarg;
			break;
		case 'h':
			usage(stdout);
			return KD_EXIT_OK;
		default:
			usage(stderr);
			return KD_EXIT_USAGE;
		}
	if (optind != argc || (strcmp(verb, "build") && strcmp(verb, "show"))) {
		usage(stderr);
		return KD_EXIT_USAGE;
	}
	build = !strcmp(verb, "build");
	r = kd_image_base(build, &base, &err);
	if (r < 0) {
		fprintf(stderr, "kdrill image: %s\n", err ? err : strerror(-r));
		return build ? KD_EXIT_INFRA : KD_EXIT_BAD;
	}
	printf("base:    %s\n", base);
	r = kd_image_root(build, &img, &err);
	if (r < 0) {
		fprintf(stderr, "kdrill image: %s\n", err ? err : strerror(-r));
		return build ? KD_EXIT_INFRA : KD_EXIT_BAD; /* show: 1 = not built yet */
	}
	printf("root:    %s\n", img);
	if (kref) {
		_cleanup_(kd_kernel_freep) struct kd_kernel *k = NULL;
		r = kd_kernel_resolve(kref, KD_KERNEL_FETCH, &k, &err);
		if (r >= 0)
			r = kd_kernel_initrd(k, &initrd, &err);
		if (r >= 0)
			r = kd_kernel_modules_img(k, &mods, &err);
		if (r < 0) {
			fprintf(stderr, "kdrill image: %s\n", err ? err : strerror(-r));
			return KD_EXIT_INFRA;
		}
		printf("kernel:  %s (%s)\n", k->key, k->release);
		printf("initrd:  %s\n", initrd ? initrd : "none (no modules)");
		printf("modules: %s\n", mods ? mods : "none (no modules)");
	}
	if (build)
		printf("done in %.1f s\n", (double)(now_usec() - t0) / 1e6);
	return KD_EXIT_OK;
}
