// SPDX-License-Identifier: GPL-2.0
/* kdrill: turn kernel bug reports into reproducers you can run on demand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

#ifndef KDRILL_VERSION
#define KDRILL_VERSION "unknown"
#endif

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{"run", cmd_run, "run scenarios on the host (--host) or in a VM (--kernel REF)"},
	{"list", cmd_list, "list scenarios and their parameters"},
	{"validate", cmd_validate, "does the fixed kernel stop reproducing? (statistics, two kernels)"},
	{"bisect", cmd_bisect, "which kernel of a list introduced (or fixed) a bug, flaky or not"},
	{"show", cmd_show, "show a run's verdict, report excerpt and files"},
	{"scan", cmd_scan, "find kernel reports (BUG, hang, warning, ...) in console logs"},
	{"trace", cmd_trace, "copy kernel tracepoints to stdout (a scenario [load] beside a reproducer)"},
	{"kernel", cmd_kernel, "list | fetch | show kernels under test"},
	{"image", cmd_image, "build | show the guest image"},
	{"vm", cmd_vm, "low-level VM commands: probe-kvm, boot"},
	{"cgroup", cmd_cgroup, "create slices, run commands in them, read stats, reap"},
	{"agent", cmd_agent, "in-guest agent (started by kdrill-agent.service)"},
	{"lava", cmd_lava, "LAVA lab: write/submit jobs, run on the device, collect results"},
	{"matrix", cmd_matrix, "run a plan's kernels x scenarios into a results store (nightly)"},
	{"merge", cmd_merge, "combine matrix stores (shards, nights) into one"},
	{"report", cmd_report, "write a night's report: HTML, JUnit, JSON, KCIDB, text"},
	{"demo", cmd_demo, "fetch, build and run every seed scenario; print a table"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: kdrill COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'kdrill COMMAND --help' for a command's options.\n"
		   "exit codes: 0 good, 1 bad (kernel bug or anomaly), 2 usage, 125 cannot test\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return KD_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return KD_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("kdrill %s\n", KDRILL_VERSION);
		return KD_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "kdrill: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return KD_EXIT_USAGE;
}
