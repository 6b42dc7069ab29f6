// SPDX-License-Identifier: GPL-2.0
/* Placeholder: replaced by the owner of 'kdrill cgroup'. */
#include <stdio.h>

#include "commands.h"

int cmd_cgroup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "kdrill cgroup: not implemented yet\n");
	return KD_EXIT_USAGE;
}

