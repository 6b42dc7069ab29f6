/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memcg.c — read-only view of the memory cgroup we run in.  See memcg.h.
 *
 * v1: /proc/self/cgroup has "N:...memory...:/path"; the hierarchy is the cgroup mount whose
 *     super options contain "memory".  Ancestors count while memory.use_hierarchy is 1.
 * v2: "0::/path"; the hierarchy is the cgroup2 mount; memory.max of every ancestor applies.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memcg.h"
#include "util.h"

/* "key value" lines (memory.events, memory.oom_control, /proc/meminfo style). */
static int kv_get(const char *text, const char *key, uint64_t *ret)
{
	size_t kl = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, kl) || (p[kl] != ' ' && p[kl] != ':'))
			continue;
		p += kl + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		*ret = strtoull(p, NULL, 10);
		return 0;
	}
	return -ENOENT;
}

static int read_u64_file(const char *dir, const char *name, uint64_t *ret)
{
	_cleanup_free_ char *p = strdupf("%s/%s", dir, name), *line = NULL;
	int r;

	if (!p)
		return -ENOMEM;
	r = read_one_line(p, &line);
	if (r < 0)
		return r;
	if (!strcmp(line, "max")) {
		*ret = UINT64_MAX;
		return 0;
	}
	return parse_u64(strstrip(line), ret);
}

static int read_kv_file(const char *dir, const char *name, const char *key, uint64_t *ret)
{
	_cleanup_free_ char *p = strdupf("%s/%s", dir, name), *text = NULL;
	int r;

	if (!p)
		return -ENOMEM;
	r = read_full_file(p, &text, NULL);
	if (r < 0)
		return r;
	return kv_get(text, key, ret);
}

/* Our cgroup path for the memory controller: v1 line first, else the v2 "0::" line. */
static int own_cgroup(int *version, char **path)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	_cleanup_free_ char *line = NULL, *v2 = NULL;
	size_t cap = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		char *ctrl, *save = NULL;

		if (!c2)
			continue;
		*c2 = 0;
		strstrip(c2 + 1);
		if (c1[1] == 0 && !strncmp(line, "0:", 2)) {
			free(v2);
			v2 = strdup(c2 + 1);
			if (!v2)
				return -ENOMEM;
			continue;
		}
		for (ctrl = strtok_r(c1 + 1, ",", &save); ctrl; ctrl = strtok_r(NULL, ",", &save))
			if (!strcmp(ctrl, "memory")) {
				*version = 1;
				*path = strdup(c2 + 1);
				return *path ? 0 : -ENOMEM;
			}
	}
	if (v2) {
		*version = 2;
		*path = TAKE_PTR(v2);
		return 0;
	}
	return -ENOENT;
}

/* Mount point and mount root of the hierarchy holding the memory controller. */
static int find_mount(int version, char **mnt, char **root)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char *fld[6], *save = NULL, *sep, *fstype, *opts, *tok;
		int n = 0;

		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = 0;
		for (tok = strtok_r(line, " ", &save); tok && n < 6;
		     tok = strtok_r(NULL, " ", &save))
			fld[n++] = tok;
		if (n < 5)
			continue;
		save = NULL;
		fstype = strtok_r(sep + 3, " ", &save);
		(void)strtok_r(NULL, " ", &save); /* source */
		opts = strtok_r(NULL, " \n", &save);
		if (!fstype)
			continue;
		if (version == 2 && strcmp(fstype, "cgroup2"))
			continue;
		if (version == 1) {
			bool mem = false;
			char *s2 = NULL;

			if (strcmp(fstype, "cgroup") || !opts)
				continue;
			for (tok = strtok_r(opts, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2))
				mem |= !strcmp(tok, "memory");
			if (!mem)
				continue;
		}
		*mnt = strdup(fld[4]);
		*root = strdup(fld[3]);
		if (!*mnt || !*root)
			return -ENOMEM;
		return 0;
	}
	return -ENOENT;
}

static uint64_t mem_total(void)
{
	_cleanup_free_ char *text = NULL;
	uint64_t kb = 0;

	if (read_full_file("/proc/meminfo", &text, NULL) < 0 || kv_get(text, "MemTotal", &kb) < 0)
		return UINT64_MAX;
	return kb * 1024;
}

int memcg_detect(struct memcg_info *m)
{
	_cleanup_free_ char *mnt = NULL, *root = NULL, *cur = NULL;
	const char *rel;
	int r;

	*m = (struct memcg_info){.limit = UINT64_MAX, .mem_total = mem_total()};
	r = own_cgroup(&m->version, &m->cgroup);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = find_mount(m->version, &mnt, &root);
	if (r == -ENOENT) {
		m->version = 0;
		return 0;
	}
	if (r < 0)
		return r;
	rel = m->cgroup;
	if (strcmp(root, "/") && startswith(rel, root))
		rel += strlen(root);
	m->dir = strdupf("%s%s%s", mnt, *rel == '/' ? "" : "/", rel);
	cur = m->dir ? strdup(m->dir) : NULL;
	if (!cur)
		return -ENOMEM;
	/* v2 without the memory controller enabled: no memory.current anywhere on our path. */
	if (m->version == 2) {
		_cleanup_free_ char *p = strdupf("%s/memory.current", m->dir);

		if (!p)
			return -ENOMEM;
		if (access(p, R_OK) < 0) {
			m->version = 0;
			return 0;
		}
	}
	for (;;) {
		uint64_t lim = UINT64_MAX, hier = 1;
		char *slash;

		if (read_u64_file(cur, m->version == 1 ? "memory.limit_in_bytes" : "memory.max",
				  &lim) == 0 &&
		    lim < m->limit) {
			m->limit = lim;
			free(m->limit_dir);
			m->limit_dir = strdup(cur);
			if (!m->limit_dir)
				return -ENOMEM;
		}
		if (strlen(cur) <= strlen(mnt))
			break;
		slash = strrchr(cur, '/');
		if (!slash || slash - cur < (ptrdiff_t)strlen(mnt))
			break;
		*slash = 0;
		if (strlen(cur) < strlen(mnt))
			break;
		/* v1: a parent only limits us if hierarchical accounting is on. */
		if (m->version == 1 && read_u64_file(cur, "memory.use_hierarchy", &hier) == 0 &&
		    hier == 0)
			break;
	}
	if (!m->limit_dir) {
		m->limit_dir = strdup(m->dir);
		if (!m->limit_dir)
			return -ENOMEM;
	}
	/* v1 "unlimited" is PAGE_COUNTER_MAX rounded (9223372036854771712). */
	m->limited = m->limit < m->mem_total;
	if (m->version == 1) {
		uint64_t dis = 0;

		if (read_kv_file(m->limit_dir, "memory.oom_control", "oom_kill_disable", &dis) == 0)
			m->oom_kill_disable = dis != 0;
	}
	return 0;
}

int memcg_sample(const struct memcg_info *m, struct memcg_sample *s)
{
	uint64_t v = 0;
	int r;

	*s = (struct memcg_sample){0};
	if (m->version == 0)
		return -ENOENT;
	if (m->version == 1) {
		_cleanup_free_ char *p = strdupf("%s/memory.oom_control", m->limit_dir), *t = NULL;

		r = read_u64_file(m->limit_dir, "memory.usage_in_bytes", &s->usage);
		if (r < 0)
			return r;
		(void)read_u64_file(m->limit_dir, "memory.failcnt", &s->limit_hits);
		if (p && read_full_file(p, &t, NULL) == 0) {
			(void)kv_get(t, "oom_kill", &s->oom_kills);
			if (kv_get(t, "under_oom", &v) == 0)
				s->under_oom = v != 0;
		}
		return 0;
	}
	r = read_u64_file(m->limit_dir, "memory.current", &s->usage);
	if (r < 0)
		return r;
	{
		_cleanup_free_ char *p = strdupf("%s/memory.events", m->limit_dir), *t = NULL;

		if (p && read_full_file(p, &t, NULL) == 0) {
			(void)kv_get(t, "max", &s->limit_hits);
			(void)kv_get(t, "oom_kill", &s->oom_kills);
		}
	}
	return 0;
}

void memcg_info_done(struct memcg_info *m)
{
	free(m->cgroup);
	free(m->dir);
	free(m->limit_dir);
	*m = (struct memcg_info){0};
}
