// SPDX-License-Identifier: GPL-2.0
/* Placeholder: replaced by the owner of 'kdrill vm'. */
#include <stdio.h>

#include "commands.h"

int cmd_vm(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "kdrill vm: not implemented yet\n");
	return KD_EXIT_USAGE;
}

