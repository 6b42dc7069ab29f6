// SPDX-License-Identifier: GPL-2.0
/* Placeholder: replaced by the owner of 'kdrill scan'. */
#include <stdio.h>

#include "commands.h"

int cmd_scan(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "kdrill scan: not implemented yet\n");
	return KD_EXIT_USAGE;
}

