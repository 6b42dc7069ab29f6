// SPDX-License-Identifier: GPL-2.0
/* Placeholder: replaced by the owner of 'kdrill agent'. */
#include <stdio.h>

#include "commands.h"

int cmd_agent(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "kdrill agent: not implemented yet\n");
	return KD_EXIT_USAGE;
}

