// SPDX-License-Identifier: GPL-2.0
/* Placeholder: replaced by the owner of 'kdrill demo'. */
#include <stdio.h>

#include "commands.h"

int cmd_demo(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "kdrill demo: not implemented yet\n");
	return KD_EXIT_USAGE;
}

