/* SPDX-License-Identifier: GPL-2.0 */
/* kdtest-dwarf FILE STRUCT MEMBER: kd_dwarf_grow_flex_struct() on FILE (modified in place);
 * prints "patched N", or the error and exits 1. */
#include <stdio.h>
#include <stdlib.h>

#include "dwarf.h"

int main(int argc, char **argv)
{
	unsigned n = 0;
	char *err = NULL;
	int r;

	if (argc != 4) {
		fprintf(stderr, "usage: kdtest-dwarf FILE STRUCT MEMBER\n");
		return 2;
	}
	r = kd_dwarf_grow_flex_struct(argv[1], argv[2], argv[3], &n, &err);
	if (r < 0) {
		fprintf(stderr, "kdtest-dwarf: %s\n", err ? err : "error");
		free(err);
		return 1;
	}
	printf("patched %u\n", n);
	return 0;
}
