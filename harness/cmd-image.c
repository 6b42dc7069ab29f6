// SPDX-License-Identifier: GPL-2.0
/* Placeholder: replaced by the owner of 'kdrill image'. */
#include <stdio.h>

#include "commands.h"

int cmd_image(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "kdrill image: not implemented yet\n");
	return KD_EXIT_USAGE;
}

