// SPDX-License-Identifier: GPL-2.0
/* Placeholder: replaced by the owner of 'kdrill kernel'. */
#include <stdio.h>

#include "commands.h"

int cmd_kernel(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "kdrill kernel: not implemented yet\n");
	return KD_EXIT_USAGE;
}

