// SPDX-License-Identifier: GPL-2.0
/* Placeholder: replaced by the owner of 'kdrill run'. */
#include <stdio.h>

#include "commands.h"

int cmd_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "kdrill run: not implemented yet\n");
	return KD_EXIT_USAGE;
}

int cmd_list(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "kdrill list: not implemented yet\n");
	return KD_EXIT_USAGE;
}

int cmd_show(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "kdrill show: not implemented yet\n");
	return KD_EXIT_USAGE;
}
