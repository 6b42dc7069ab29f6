// SPDX-License-Identifier: GPL-2.0
/* Guest helpers for capture.sh (built -static): argv[0] selects the tool.
 *   memhog MIB        allocate and touch MIB MiB, then pause
 *   fsyncer DIR ID    write 16 KiB + fsync forever
 *   creator DIR ID    create, write and close new files forever */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int memhog(long mb)
{
	for (long i = 1; i <= mb; i++) {
		char *p = malloc(1 << 20);
		if (!p)
			return 1;
		memset(p, 0xa5, 1 << 20);
	}
	pause();
	return 0;
}

static int fsyncer(const char *dir, const char *id)
{
	char path[4096], buf[16384];
	snprintf(path, sizeof path, "%s/fsync-%s.dat", dir, id);
	memset(buf, 'x', sizeof buf);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return 1;
	for (long i = 0;; i++) {
		if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf || fsync(fd))
			return 1;
		if (i % 2000 == 1999 && (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET)))
			return 1;
	}
}

static int creator(const char *dir, const char *id)
{
	char path[4096], buf[4096];
	memset(buf, 'y', sizeof buf);
	for (long i = 0;; i++) {
		snprintf(path, sizeof path, "%s/c-%s-%ld", dir, id, i % 500);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			return 1;
		if (write(fd, buf, sizeof buf) < 0)
			return 1;
		close(fd);
		if (i % 500 == 499)
			for (int j = 0; j < 500; j++) {
				snprintf(path, sizeof path, "%s/c-%s-%d", dir, id, j);
				unlink(path);
			}
	}
}

int main(int argc, char **argv)
{
	const char *me = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (!strcmp(me, "memhog"))
		return memhog(argc > 1 ? atol(argv[1]) : 300);
	if (!strcmp(me, "fsyncer"))
		return fsyncer(argc > 1 ? argv[1] : ".", argc > 2 ? argv[2] : "0");
	if (!strcmp(me, "creator"))
		return creator(argc > 1 ? argv[1] : ".", argc > 2 ? argv[2] : "0");
	fprintf(stderr, "hogs: call as memhog, fsyncer or creator\n");
	return 2;
}
