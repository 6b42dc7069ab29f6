// SPDX-License-Identifier: GPL-2.0
/*
 * kdverdict — test driver for the verdict code without QEMU or root.
 *
 *   kdverdict vm-merge SCENARIO [--param K=V]... [--console FILE] --end NAME [--ready]
 *                      [--guest VERDICT.json] [--done N] [--done-error TEXT]
 *                      [--files complete|partial] [--end-reason TEXT]
 *
 * feeds FILE (a recorded guest console) to a detector, builds the VM's end state and the
 * guest runner's verdict.json as a VM run would have them, and prints the verdict.json
 * the host writes for that run (harness/vm/vm-run.c vm_merge_verdict()).
 *
 *   kdverdict table FIXTURES-DIR SCENARIO
 *
 * runs the verdict table (table.c) through verdict_decide().
 *
 *   kdverdict proto
 *
 * the JSON-lines reader and the run request (proto.c).
 *
 *   kdverdict signature SCENARIO CONSOLE
 *
 * exit 0 when a report of CONSOLE matches SCENARIO's signature (tests/verdict/seeds.t).
 */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "kernel.h"
#include "scenario.h"
#include "util.h"
#include "verdict.h"
#include "vm-run.h"
#include "vm.h"

static int usage(void)
{
	fprintf(stderr, "usage: kdverdict vm-merge SCENARIO [--param K=V]... [--console FILE] "
			"--end NAME [--ready] [--guest FILE] [--done N] [--done-error TEXT] "
			"[--files complete|partial] [--end-reason TEXT] [--t-load S --t-match S] "
			"[--g-load S --g-match S]\n");
	return 2;
}

static int end_from_name(const char *s, enum kd_vm_end *ret)
{
	for (int e = KD_VM_END_POWEROFF; e <= KD_VM_END_INTERRUPTED; e++)
		if (!strcmp(kd_vm_end_name((enum kd_vm_end)e), s)) {
			*ret = (enum kd_vm_end)e;
			return 0;
		}
	return -1;
}

static int vm_merge(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"param", required_argument, NULL, 'p'},	  {"console", required_argument, NULL, 'c'},
	    {"end", required_argument, NULL, 'e'},	  {"ready", no_argument, NULL, 'r'},
	    {"guest", required_argument, NULL, 'g'},	  {"done", required_argument, NULL, 'd'},
	    {"done-error", required_argument, NULL, 'E'}, {"files", required_argument, NULL, 'f'},
	    {"end-reason", required_argument, NULL, 'R'}, {"t-load", required_argument, NULL, 'L'},
	    {"t-match", required_argument, NULL, 'M'},	  {"g-load", required_argument, NULL, 'l'},
	    {"g-match", required_argument, NULL, 'm'},	  {0},
	};
	_cleanup_strv_ char **params = NULL;
	_cleanup_free_ char *err = NULL;
	const char *console = NULL, *guest_path = NULL;
	struct kd_vm_result vres = {.collected = -1, .job_status = -1};
	struct kd_kernel k = {.ref = (char *)"debian:6.1.0-54-cloud-amd64",
			      .key = (char *)"debian-6.1.0-54-cloud-amd64-KEY",
			      .release = (char *)"6.1.0-54-cloud-amd64",
			      .source = (char *)"debian 6.1.170-1"};
	struct vm_guest g = {.kernel = &k,
			     .done_status = -1,
			     .t_load = -1,
			     .t_match = -1,
			     .g_load = -1,
			     .g_match = -1};
	struct scenario *sc = NULL;
	struct run_result res = {0};
	json_object *guest = NULL, *v;
	bool have_end = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (strv_extend(&params, optarg) < 0)
				return 1;
			break;
		case 'c':
			console = optarg;
			break;
		case 'e':
			if (end_from_name(optarg, &vres.end) < 0)
				return usage();
			have_end = true;
			break;
		case 'r':
			vres.ready = true;
			break;
		case 'g':
			guest_path = optarg;
			break;
		case 'd':
			g.done_status = atoi(optarg);
			break;
		case 'E':
			g.done_error = optarg;
			break;
		case 'f':
			g.files = optarg;
			break;
		case 'R':
			vres.reason = strdup(optarg);
			break;
		case 'L':
			g.t_load = strtod(optarg, NULL);
			break;
		case 'M':
			g.t_match = strtod(optarg, NULL);
			break;
		case 'l':
			g.g_load = strtod(optarg, NULL);
			break;
		case 'm':
			g.g_match = strtod(optarg, NULL);
			break;
		default:
			return usage();
		}
	}
	if (optind + 1 != argc || !have_end)
		return usage();
	if (scenario_load(argv[optind], params, &sc, &err) < 0) {
		fprintf(stderr, "kdverdict: %s\n", err ? err : argv[optind]);
		return 2;
	}
	if (vres.ready)
		g.kernel_release = "6.1.0-54-cloud-amd64";
	vres.accel = strdup("tcg");
	vres.t_ready = 4.4;
	vres.t_end = 30.0;
	if (kd_detector_new(&vres.det, NULL, NULL) < 0)
		return 1;
	if (console) {
		_cleanup_free_ char *text = NULL;
		size_t len = 0;
		if (read_full_file(console, &text, &len) < 0) {
			fprintf(stderr, "kdverdict: %s: %m\n", console);
			return 1;
		}
		kd_detector_feed(vres.det, text, len);
	}
	kd_detector_finish(vres.det);
	if (guest_path) {
		_cleanup_free_ char *text = NULL;
		if (read_full_file(guest_path, &text, NULL) < 0 || !(guest = json_tokener_parse(text))) {
			fprintf(stderr, "kdverdict: %s: not JSON\n", guest_path);
			return 1;
		}
	}
	v = vm_merge_verdict(sc, &g, &vres, guest, "RUN-ID", "RUN-DIR", 1795000000000000ULL, 31.0,
			     &res);
	printf("%s\n",
	       json_object_to_json_string_ext(v, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(v);
	json_object_put(guest);
	run_result_done(&res);
	kd_vm_result_clear(&vres);
	scenario_free(sc);
	return 0;
}

int verdict_table(const char *fixtures, const char *scenario_path);
int proto_tests(void);

/* kdverdict signature SCENARIO CONSOLE: the console's reports for the scenario (its
 * defaults); exit 0 when one matches the scenario's signature. */
static int signature(const char *scenario, const char *console)
{
	_cleanup_free_ char *err = NULL, *text = NULL;
	struct scenario *sc = NULL;
	struct kd_detector *det = NULL;
	struct report_tally t = {0};
	size_t len = 0;
	int rc;

	if (scenario_load(scenario, NULL, &sc, &err) < 0) {
		fprintf(stderr, "kdverdict: %s\n", err ? err : scenario);
		return 2;
	}
	if (read_full_file(console, &text, &len) < 0) {
		fprintf(stderr, "kdverdict: %s: %m\n", console);
		scenario_free(sc);
		return 2;
	}
	if (kd_detector_new(&det, NULL, NULL) < 0)
		return 1;
	kd_detector_feed(det, text, len);
	kd_detector_finish(det);
	report_tally(&t, sc, det, NULL, NULL);
	printf("%s %s: %s %s (%s)\n", t.matched ? "match" : "NO MATCH", sc->name,
	       verdict_name(t.verdict), t.first_fail && t.first_fail->title ? t.first_fail->title : "-",
	       console);
	rc = t.matched ? 0 : 1;
	kd_detector_free(det);
	scenario_free(sc);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "proto"))
		return proto_tests();
	if (argc == 4 && !strcmp(argv[1], "signature"))
		return signature(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "table"))
		return verdict_table(argv[2], argv[3]);
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "vm-merge"))
		return vm_merge(argc - 1, argv + 1);
	return usage();
}
