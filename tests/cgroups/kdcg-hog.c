// SPDX-License-Identifier: GPL-2.0
/*
 * kdcg-hog: load for the cgroup tests.
 *   kdcg-hog mem MB [HOLD_SEC]   allocate and touch MB MiB, then sleep HOLD_SEC; exit 0
 *   kdcg-hog fork N [HOLD_SEC]   fork N sleeping children; print "forked X eagain Y";
 *                                exit 0 if some fork failed with EAGAIN, else 1
 *   kdcg-hog sleep SEC           sleep (a process that stays in its cgroup)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *chunks; /* keeps every chunk reachable (no LeakSanitizer report) */

static void hold(const char *arg)
{
	unsigned s = arg ? (unsigned)strtoul(arg, NULL, 10) : 0;
	while (s)
		s = sleep(s);
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "mem")) {
		size_t mb = strtoul(argv[2], NULL, 10);
		for (size_t i = 0; i < mb; i++) {
			char *p = malloc(1 << 20);
			if (!p)
				return 3;
			memset(p, 0x5a, 1 << 20); /* kept on purpose: it must stay charged */
			*(void **)p = chunks;
			chunks = p;
		}
		hold(argc > 3 ? argv[3] : NULL);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "fork")) {
		unsigned n = (unsigned)strtoul(argv[2], NULL, 10), ok = 0, eagain = 0;
		pid_t *kids = calloc(n ? n : 1, sizeof(pid_t));
		if (!kids)
			return 3;
		for (unsigned i = 0; i < n; i++) {
			pid_t p = fork();
			if (p == 0) {
				pause();
				_exit(0);
			}
			if (p > 0)
				kids[ok++] = p;
			else if (errno == EAGAIN)
				eagain++;
		}
		printf("forked %u eagain %u\n", ok, eagain);
		fflush(stdout);
		hold(argc > 3 ? argv[3] : NULL);
		for (unsigned i = 0; i < ok; i++)
			kill(kids[i], SIGKILL);
		for (unsigned i = 0; i < ok; i++)
			waitpid(kids[i], NULL, 0);
		free(kids);
		return eagain ? 0 : 1;
	}
	if (argc >= 3 && !strcmp(argv[1], "sleep")) {
		hold(argv[2]);
		return 0;
	}
	fprintf(stderr, "usage: kdcg-hog mem MB [HOLD] | fork N [HOLD] | sleep SEC\n");
	return 2;
}
