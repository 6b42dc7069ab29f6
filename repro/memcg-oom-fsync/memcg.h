/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memcg.h — find the memory cgroup this process runs in (cgroup v1 or v2), its effective
 * limit (the smallest limit on the way to the root) and sample its usage and limit-hit
 * counters.  Read-only: nothing here creates, moves or writes cgroups.
 */
#ifndef KDRILL_MEMCG_H
#define KDRILL_MEMCG_H

#include <stdbool.h>
#include <stdint.h>

struct memcg_info {
	int version;	       /* 0: no memory controller found, 1: cgroup v1, 2: cgroup v2 */
	char *cgroup;	       /* path from /proc/self/cgroup, e.g. "/kdrill-test-123" */
	char *dir;	       /* sysfs directory of our own cgroup */
	char *limit_dir;       /* directory whose limit is the effective one (own or an ancestor) */
	uint64_t limit;	       /* effective limit in bytes, UINT64_MAX = none */
	uint64_t mem_total;    /* MemTotal of the machine */
	bool limited;	       /* limit < MemTotal */
	bool oom_kill_disable; /* v1 memory.oom_control: the OOM killer is off (tasks wait) */
};

struct memcg_sample {
	uint64_t usage;	     /* bytes charged (usage_in_bytes / memory.current) */
	uint64_t limit_hits; /* v1 memory.failcnt, v2 memory.events "max" */
	uint64_t oom_kills;  /* v1 memory.oom_control "oom_kill", v2 memory.events "oom_kill" */
	bool under_oom;	     /* v1 memory.oom_control "under_oom" */
};

/* 0 (also when no memory controller is found: version 0, unlimited) or negative errno. */
int memcg_detect(struct memcg_info *m);
/* Sample the limiting cgroup (limit_dir).  0 or negative errno. */
int memcg_sample(const struct memcg_info *m, struct memcg_sample *s);
void memcg_info_done(struct memcg_info *m);

#endif
